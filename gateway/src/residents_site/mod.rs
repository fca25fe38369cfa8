//! The residents' own site at `/r/`: a phone-sized site in Simplified Chinese, for the
//! people the centres serve (many over 60). A resident signs in with their mobile number
//! and a one-time code (the registry makes and checks codes, [`sender`] delivers them), and
//! then carries a resident's token in a cookie: the services' own resident checks decide
//! what it reaches, exactly as for the JSON API, and the pages call the same gRPC the desk
//! does (a booking here is the desk's booking, by the same rules and with the same events).
//!
//! Big text, high contrast, tap targets of at least 48 px; an age-friendly (适老化) switch
//! makes the text larger still and the contrast starker, and is kept in a cookie.

mod family;
mod forum;
mod mine;
mod notices;
pub mod sender;
mod surveys;
pub mod throttle;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::{ConnectInfo, FromRequestParts, Path, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use chrono::{DateTime, Duration, Utc};
use chrono_tz::Tz;
use linli_platform::auth::Caller;
use linli_platform::error::{refusal_of, violations_of};
use linli_proto::bookings::v1 as bk;
use linli_proto::registry::v1 as pb;
use maud::{DOCTYPE, Markup, html};
use serde::Deserialize;
use tonic::Code;
use uuid::Uuid;

use crate::AppState;
use crate::auth::{Authenticated, system_request};
use crate::console::i18n::{self, Lang};
use crate::console::session::{cookie, over_tls, set_cookie};
use crate::console::{date, instant, money, timestamp};

pub use sender::{CodeSender, DeskCodes, SmsArgs};

const TOKEN_COOKIE: &str = "linli_resident";
const LARGE_COOKIE: &str = "linli_large";
/// How long a resident stays signed in on their phone.
const SIGNED_IN_FOR: Duration = Duration::hours(24);
const STYLE: &str = include_str!("site.css");

/// What the site needs beyond the gateway's clients: where codes go.
#[derive(Clone)]
pub struct Site {
    pub sender: Arc<dyn CodeSender>,
    /// The codes waiting at the front desks (shown on the console's 验证码发放 page).
    pub desk: DeskCodes,
    /// Sign-in posts per client address ([`throttle`]).
    pub throttle: throttle::SignInLimits,
}

impl Site {
    pub fn new(args: &SmsArgs) -> Self {
        let desk = DeskCodes::default();
        Site {
            sender: sender::from_args(args, &desk),
            desk,
            throttle: throttle::SignInLimits::default(),
        }
    }
}

/// The site's pages, with the console's protections (same-origin posts, a strict content
/// security policy, no framing, no caching).
pub fn routes() -> Router<AppState> {
    crate::console::protect::protect(
        Router::new()
            .route("/r", get(|| async { Redirect::to("/r/") }))
            .route("/r/", get(home))
            .route(
                "/r/site.css",
                get(|| async {
                    (
                        [
                            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
                            (header::CACHE_CONTROL, "max-age=3600"),
                        ],
                        STYLE,
                    )
                }),
            )
            .route("/r/sign-in", get(sign_in_page).post(sign_in))
            .route("/r/sign-in/code", post(ask_for_code))
            .route("/r/sign-out", post(sign_out))
            .route("/r/large-text", get(large_text))
            .route("/r/book", get(catalogue))
            .route("/r/sessions/{session}", get(session_page).post(book))
            .route("/r/bookings", get(my_bookings))
            .route("/r/bookings/{booking}/cancel", post(cancel))
            .merge(notices::routes())
            .merge(mine::routes())
            .merge(family::routes())
            .merge(surveys::routes()),
    )
}

// ---------------------------------------------------------------------------------------
// Who is asking

/// A signed-in resident's visit.
pub struct Visit {
    pub caller: Caller,
    pub auth: Authenticated,
    pub me: Uuid,
    pub centre: Uuid,
    pub large: bool,
}

impl Visit {
    /// Everyone this visit may act for: the resident first, then those they act for.
    fn people(&self) -> Vec<Uuid> {
        std::iter::once(self.me)
            .chain(self.caller.acts_for.iter().copied())
            .collect()
    }
}

fn large_of(headers: &HeaderMap) -> bool {
    cookie(headers, LARGE_COOKIE) == Some("1")
}

impl FromRequestParts<AppState> for Visit {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let token = cookie(&parts.headers, TOKEN_COOKIE).unwrap_or_default();
        let caller = state.keys.verify(token).ok().filter(Caller::is_resident);
        let (Some(caller), Some(me), Some(centre)) = (
            caller.clone(),
            caller.as_ref().and_then(Caller::resident_id),
            caller.as_ref().and_then(Caller::resident_centre),
        ) else {
            let mut response = Redirect::to("/r/sign-in").into_response();
            if !token.is_empty() {
                response.headers_mut().append(
                    header::SET_COOKIE,
                    set_cookie(TOKEN_COOKIE, "", 0, true, over_tls(&parts.headers)),
                );
            }
            return Err(response);
        };
        let mut auth = Authenticated::new(caller.clone(), token.to_owned());
        let mut caller = caller;
        // A family member's leave may have been taken back since the token was made: the
        // page acts only for those who still let them, with a token for this request
        // alone that says so, so the services refuse the rest too.
        if !caller.acts_for.is_empty() {
            let kept = family::still_acting(state, &caller, &auth, me, centre)
                .await
                .map_err(|status| Trouble::from(status).into_response())?;
            if kept.len() != caller.acts_for.len() {
                let narrowed = state.keys.issue_resident(
                    me,
                    centre,
                    &kept,
                    caller.session.unwrap_or_else(Uuid::new_v4),
                    Duration::minutes(5),
                );
                caller.acts_for = kept.into_iter().collect();
                auth = Authenticated::new(caller.clone(), narrowed);
            }
        }
        Ok(Visit {
            auth,
            caller,
            me,
            centre,
            large: large_of(&parts.headers),
        })
    }
}

/// A page that could not be had, said in Chinese on the site's own page.
struct Trouble(StatusCode);

impl From<tonic::Status> for Trouble {
    fn from(status: tonic::Status) -> Self {
        let code = crate::problem::Problem::from(status).status;
        Trouble(StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR))
    }
}

impl IntoResponse for Trouble {
    fn into_response(self) -> Response {
        let words = match self.0 {
            StatusCode::NOT_FOUND => "找不到这个页面",
            StatusCode::FORBIDDEN => "您不能查看这个页面",
            StatusCode::SERVICE_UNAVAILABLE | StatusCode::GATEWAY_TIMEOUT => {
                "服务暂时不可用，请稍后再试"
            }
            _ => "出了点问题，请稍后再试",
        };
        let body = page(
            false,
            "出错了",
            None,
            html! {
                p.big { (words) }
                a.button href="/r/" { "回到首页" }
            },
        );
        (self.0, body).into_response()
    }
}

type Page = Result<Response, Trouble>;

// ---------------------------------------------------------------------------------------
// The page around every page

#[derive(Clone, Copy, PartialEq, Eq)]
enum Tab {
    Home,
    Book,
    Mine,
    /// 我的信息, and the surveys reached from it.
    Me,
}

fn page(large: bool, title: &str, tab: Option<Tab>, content: Markup) -> Html<String> {
    let here = match tab {
        Some(Tab::Home) | None => "/r/",
        Some(Tab::Book) => "/r/book",
        Some(Tab::Mine) => "/r/bookings",
        Some(Tab::Me) => "/r/me",
    };
    let body = html! {
        (DOCTYPE)
        html lang="zh-CN" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · 邻里居民服务" }
                link rel="stylesheet" href="/r/site.css";
            }
            body class=(if large { "large" } else { "" }) {
                header.top {
                    span.brand { "邻里居民服务" }
                    a.switch href=(format!("/r/large-text?on={}&back={here}", if large { 0 } else { 1 }))
                        aria-pressed=(if large { "true" } else { "false" }) {
                        (if large { "标准字体" } else { "大字模式" })
                    }
                }
                main #main {
                    h1 { (title) }
                    (content)
                }
                @if let Some(tab) = tab {
                    nav.tabs aria-label="主菜单" {
                        a href="/r/" aria-current=[(tab == Tab::Home).then_some("page")] { "首页" }
                        a href="/r/book" aria-current=[(tab == Tab::Book).then_some("page")] { "预约" }
                        a href="/r/bookings" aria-current=[(tab == Tab::Mine).then_some("page")] { "我的预约" }
                        a href="/r/me" aria-current=[(tab == Tab::Me).then_some("page")] { "我的信息" }
                    }
                }
            }
        }
    };
    Html(body.into_string())
}

#[derive(Deserialize)]
struct LargeQuery {
    on: Option<String>,
    back: Option<String>,
}

/// The age-friendly switch: kept for a year.
async fn large_text(
    headers: HeaderMap,
    axum::extract::Query(q): axum::extract::Query<LargeQuery>,
) -> Response {
    let on = q.on.as_deref() == Some("1");
    let back = q
        .back
        .filter(|b| b.starts_with("/r/") && !b.contains("//") && !b.contains('\\'))
        .unwrap_or_else(|| "/r/".into());
    let mut response = Redirect::to(&back).into_response();
    response.headers_mut().append(
        header::SET_COOKIE,
        set_cookie(
            LARGE_COOKIE,
            if on { "1" } else { "0" },
            365 * 24 * 3600,
            true,
            over_tls(&headers),
        ),
    );
    response
}

// ---------------------------------------------------------------------------------------
// Signing in

#[derive(Deserialize, Default)]
struct SignInForm {
    #[serde(default)]
    phone: String,
    #[serde(default)]
    code: String,
}

/// The sign-in page: the number first, then (once a code was asked for) the code.
/// With an error, the explanations give way so the message stands beside its field on
/// the first screen, with what was typed in both fields.
fn sign_in_view(
    large: bool,
    phone: &str,
    code: &str,
    asked: bool,
    errors: &BTreeMap<&str, String>,
) -> Html<String> {
    page(
        large,
        "登录",
        None,
        html! {
            @if errors.is_empty() {
                p.lead { "用您在服务中心登记的手机号登录，可以查看活动、预约和取消。" }
            }
            @if !asked {
                form method="post" action="/r/sign-in/code" novalidate {
                    (input_field("phone", "手机号", "tel", "numeric", "tel", phone, errors.get("phone")))
                    button.primary type="submit" { "获取验证码" }
                }
            } @else if errors.is_empty() {
                p.notice role="status" {
                    "如果这个手机号已在服务中心登记，验证码已经发到这个手机上，5 分钟内有效。"
                    br;
                    "收不到短信的，请到服务中心前台领取验证码。"
                }
            }
            @if asked {
                form method="post" action="/r/sign-in" novalidate {
                    (input_field("phone", "手机号", "tel", "numeric", "tel", phone, errors.get("phone")))
                    (input_field("code", "验证码（6 位数字）", "text", "numeric", "one-time-code", code, errors.get("code")))
                    button.primary type="submit" { "登录" }
                }
                form method="post" action="/r/sign-in/code" {
                    input type="hidden" name="phone" value=(phone);
                    button.secondary type="submit" { "重新获取验证码" }
                }
            }
        },
    )
}

fn input_field(
    name: &str,
    label: &str,
    kind: &str,
    inputmode: &str,
    autocomplete: &str,
    value: &str,
    error: Option<&String>,
) -> Markup {
    let id = format!("f-{name}");
    let hint = format!("{id}-error");
    html! {
        div.field.invalid[error.is_some()] {
            label for=(id) { (label) }
            input #(id) name=(name) type=(kind) inputmode=(inputmode) autocomplete=(autocomplete)
                value=(value) aria-invalid=[error.map(|_| "true")] aria-describedby=[error.map(|_| hint.as_str())];
            @if let Some(error) = error {
                p.error #(hint) role="alert" { (error) }
            }
        }
    }
}

async fn sign_in_page(headers: HeaderMap) -> Response {
    sign_in_view(large_of(&headers), "", "", false, &BTreeMap::new()).into_response()
}

/// The client's address as this gateway sees it (its peer): the per-client limit's key.
fn client_of(parts: &Parts) -> String {
    parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(address)| address.ip().to_string())
        .unwrap_or_else(|| "unknown".into())
}

/// Which field a sign-in refusal belongs beside, and what it says (the catalogue's words
/// for its code).
fn sign_in_message(status: &tonic::Status) -> (&'static str, String) {
    if let Some(violation) = violations_of(status).first() {
        let field = if violation.field == "code" {
            "code"
        } else {
            "phone"
        };
        return (field, crate::catalogue::field_message(Lang::Zh, violation));
    }
    let (code, params) = refusal_of(status).unwrap_or_default();
    let field = match code.as_str() {
        "sign_in.code_wrong" | "sign_in.code_expired" | "sign_in.too_many_tries" => "code",
        _ => "phone",
    };
    let said = crate::catalogue::message(Lang::Zh, &code, &params).unwrap_or_else(|| {
        match status.code() {
            Code::Unavailable | Code::DeadlineExceeded => "服务暂时不可用，请稍后再试",
            _ => "暂时无法登录，请稍后再试",
        }
        .into()
    });
    (field, said)
}

/// A number as typed (`138 1234 5678`, `138-1234-5678`) without its spaces and dashes.
fn digits_of(typed: &str) -> String {
    typed
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .collect()
}

/// The sign-in page again with the refusal beside its field and what was typed kept. A
/// limit the registry met (too many codes for the number or the address within its hour)
/// is 429 with `Retry-After`: until the oldest code counted leaves the registry's hour.
fn refused(
    large: bool,
    typed_phone: &str,
    typed_code: &str,
    asked: bool,
    status: &tonic::Status,
) -> Response {
    let (field, message) = sign_in_message(status);
    let errors = BTreeMap::from([(field, message)]);
    let page = sign_in_view(large, typed_phone, typed_code, asked, &errors);
    if status.code() == Code::ResourceExhausted {
        let seconds = refusal_of(status)
            .and_then(|(_, params)| params.get("retry_after")?.parse().ok())
            .unwrap_or(3600);
        return too_many(page, std::time::Duration::from_secs(seconds));
    }
    (StatusCode::BAD_REQUEST, page).into_response()
}

/// A page answered 429 with `Retry-After` in whole seconds.
fn too_many(page: Html<String>, wait: std::time::Duration) -> Response {
    let seconds = linli_platform::rate::retry_after_secs(wait);
    let mut response = (StatusCode::TOO_MANY_REQUESTS, page).into_response();
    response
        .headers_mut()
        .insert(header::RETRY_AFTER, header::HeaderValue::from(seconds));
    response
}

/// The sign-in page for a post past the gateway's own limits ([`throttle`]), what was
/// typed kept, and nothing asked of the registry.
fn throttled(
    large: bool,
    typed_phone: &str,
    typed_code: &str,
    asked: bool,
    wait: std::time::Duration,
) -> Response {
    let said = crate::catalogue::message(Lang::Zh, "sign_in.too_many_requests", &BTreeMap::new())
        .unwrap_or_else(|| "操作太频繁了，请过几分钟再试".into());
    let errors = BTreeMap::from([("phone", said)]);
    too_many(
        sign_in_view(large, typed_phone, typed_code, asked, &errors),
        wait,
    )
}

/// Asks the registry for a code and sends it when someone has the number; the page says
/// the same either way, and sending happens after the answer, so neither the words nor the
/// time taken tells whether the number is registered.
async fn ask_for_code(
    State(state): State<AppState>,
    parts: Parts,
    Form(form): Form<SignInForm>,
) -> Response {
    let large = large_of(&parts.headers);
    let phone = digits_of(&form.phone);
    let client = client_of(&parts);
    if let Err(wait) = state.site.throttle.admit(&client) {
        return throttled(large, &form.phone, "", false, wait);
    }
    let asked = state
        .registry
        .clone()
        .issue_sign_in_code(system_request(
            &state,
            pb::IssueSignInCodeRequest {
                phone: phone.clone(),
                client,
            },
        ))
        .await;
    match asked {
        Ok(answer) => {
            let answer = answer.into_inner();
            if let (false, Ok(centre), Some(expires_at)) = (
                answer.code.is_empty(),
                Uuid::parse_str(&answer.centre_id),
                instant(&answer.expires_at),
            ) {
                let delivery = sender::Delivery {
                    phone: phone.clone(),
                    code: answer.code,
                    centre,
                    expires_at,
                };
                let sender = state.site.sender.clone();
                tokio::spawn(async move {
                    if let Err(error) = sender.send(&delivery).await {
                        tracing::warn!(%error, centre = %delivery.centre, "a sign-in code was not sent");
                    }
                });
            }
            sign_in_view(large, &phone, "", true, &BTreeMap::new()).into_response()
        }
        Err(status) => refused(large, &form.phone, "", false, &status),
    }
}

async fn sign_in(
    State(state): State<AppState>,
    parts: Parts,
    Form(form): Form<SignInForm>,
) -> Response {
    let large = large_of(&parts.headers);
    let phone = digits_of(&form.phone);
    if let Err(wait) = state.site.throttle.admit(&client_of(&parts)) {
        return throttled(large, &form.phone, &form.code, true, wait);
    }
    let checked = state
        .registry
        .clone()
        .verify_sign_in_code(system_request(
            &state,
            pb::VerifySignInCodeRequest {
                phone: phone.clone(),
                code: form.code.trim().to_owned(),
            },
        ))
        .await;
    let signed_in = checked.map(|answer| answer.into_inner());
    let ids = signed_in.as_ref().ok().and_then(|answer| {
        let me = Uuid::parse_str(&answer.resident_id).ok()?;
        let centre = Uuid::parse_str(&answer.centre_id).ok()?;
        let acts_for: Vec<Uuid> = answer
            .acts_for
            .iter()
            .filter_map(|id| Uuid::parse_str(id).ok())
            .collect();
        Some((me, centre, acts_for))
    });
    match (signed_in, ids) {
        (Ok(_), Some((me, centre, acts_for))) => {
            // A session of its own, so signing out ends this token everywhere.
            let token =
                state
                    .keys
                    .issue_resident(me, centre, &acts_for, Uuid::new_v4(), SIGNED_IN_FOR);
            let mut response = Redirect::to("/r/").into_response();
            response.headers_mut().append(
                header::SET_COOKIE,
                set_cookie(
                    TOKEN_COOKIE,
                    &token,
                    SIGNED_IN_FOR.num_seconds(),
                    true,
                    over_tls(&parts.headers),
                ),
            );
            response
        }
        (Err(status), _) => refused(large, &form.phone, &form.code, true, &status),
        (Ok(_), None) => Trouble(StatusCode::INTERNAL_SERVER_ERROR).into_response(),
    }
}

/// Forgets the cookie and ends the token's session for every service (a phone shared in
/// a family, or the centre's tablet, is safe to hand on). If the registry cannot be
/// reached the resident is told so rather than told they are out while the token lives.
async fn sign_out(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let token = cookie(&headers, TOKEN_COOKIE).unwrap_or_default();
    let session = state
        .keys
        .verify(token)
        .ok()
        .filter(Caller::is_resident)
        .and_then(|caller| caller.session);
    if let Some(session) = session {
        let expires_at = Utc::now() + SIGNED_IN_FOR;
        let ended = state
            .registry
            .clone()
            .end_resident_session(system_request(
                &state,
                pb::EndResidentSessionRequest {
                    session_id: session.to_string(),
                    expires_at: Some(timestamp(expires_at)),
                },
            ))
            .await;
        if let Err(status) = ended {
            return Trouble::from(status).into_response();
        }
        state.keys.revocations().revoke(session, expires_at);
    }
    let mut response = Redirect::to("/r/sign-in").into_response();
    response.headers_mut().append(
        header::SET_COOKIE,
        set_cookie(TOKEN_COOKIE, "", 0, true, over_tls(&headers)),
    );
    response
}

// ---------------------------------------------------------------------------------------
// What the resident's centre offers

struct Centre {
    name: String,
    zone: Tz,
}

async fn centre_of(state: &AppState, visit: &Visit) -> Result<Centre, Trouble> {
    let centres = state
        .registry
        .clone()
        .list_centres(visit.auth.grpc(pb::ListCentresRequest::default()))
        .await?
        .into_inner()
        .centres;
    let centre = centres
        .into_iter()
        .find(|c| c.id == visit.centre.to_string())
        .ok_or(Trouble(StatusCode::NOT_FOUND))?;
    Ok(Centre {
        zone: crate::console::zone(&centre),
        name: centre.name,
    })
}

/// The names of the resident and those they act for, in that order.
async fn names(state: &AppState, visit: &Visit) -> Result<Vec<(Uuid, String)>, Trouble> {
    let mut named = Vec::new();
    for id in visit.people() {
        let resident = state
            .registry
            .clone()
            .get_resident(visit.auth.grpc(pb::GetResidentRequest {
                centre_id: visit.centre.to_string(),
                id: id.to_string(),
                ..Default::default()
            }))
            .await?
            .into_inner();
        named.push((id, resident.name));
    }
    Ok(named)
}

/// The offerings `who` may book, by the bookings service's own rule.
async fn eligible(
    state: &AppState,
    visit: &Visit,
    who: Uuid,
) -> Result<Vec<bk::Offering>, Trouble> {
    Ok(state
        .bookings
        .clone()
        .list_offerings(visit.auth.grpc(bk::ListOfferingsRequest {
            centre_id: visit.centre.to_string(),
            eligible_for: who.to_string(),
            ..Default::default()
        }))
        .await?
        .into_inner()
        .offerings)
}

/// The scheduled sessions between two moments (every page of them), of `offering` or all.
async fn sessions(
    state: &AppState,
    visit: &Visit,
    offering: Option<&str>,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<Vec<bk::Session>, Trouble> {
    let mut all = Vec::new();
    let mut token = String::new();
    loop {
        let page = state
            .bookings
            .clone()
            .list_sessions(visit.auth.grpc(bk::ListSessionsRequest {
                centre_id: visit.centre.to_string(),
                from: Some(timestamp(from)),
                to: Some(timestamp(to)),
                offering_id: offering.unwrap_or_default().to_owned(),
                page_token: token,
                ..Default::default()
            }))
            .await?
            .into_inner();
        all.extend(
            page.sessions
                .into_iter()
                .filter(|s| s.status == "scheduled"),
        );
        if page.next_page_token.is_empty() || all.len() > 500 {
            break;
        }
        token = page.next_page_token;
    }
    Ok(all)
}

/// A day as a resident says it: 今天 / 明天 / 后天 before the date, the year only when it
/// is not this year's.
fn day(at: DateTime<Utc>, zone: Tz) -> String {
    use chrono::Datelike;
    let local = at.with_timezone(&zone).date_naive();
    let today = Utc::now().with_timezone(&zone).date_naive();
    let near = match (local - today).num_days() {
        0 => "今天 ",
        1 => "明天 ",
        2 => "后天 ",
        _ => "",
    };
    let weekday = i18n::weekday(Lang::Zh, local.weekday());
    if local.year() == today.year() {
        format!("{near}{}月{}日（{weekday}）", local.month(), local.day())
    } else {
        format!("{near}{}", date(Lang::Zh, local))
    }
}

/// When a session is: its day, and its hours on a line of their own.
fn session_time(session: &bk::Session, zone: Tz) -> Markup {
    match (instant(&session.starts_at), instant(&session.ends_at)) {
        (Some(start), Some(end)) => html! {
            span.day { (day(start, zone)) }
            span.hours {
                (start.with_timezone(&zone).format("%H:%M")) " 至 " (end.with_timezone(&zone).format("%H:%M"))
            }
        },
        _ => html! {},
    }
}

fn places(session: &bk::Session) -> String {
    let left = session.capacity - session.confirmed;
    if left > 0 {
        format!("还剩 {left} 个名额")
    } else if session.waitlisted > 0 {
        format!("已满，{} 人在候补", session.waitlisted)
    } else {
        "已满，可以排队候补".into()
    }
}

fn price(minor: i64) -> String {
    if minor == 0 {
        "免费".into()
    } else {
        money(minor)
    }
}

/// What an offering costs, and who pays less (the desk's concessions, which booking
/// applies by itself).
fn fee(offering: &bk::Offering) -> Markup {
    html! {
        @if offering.fee_minor == 0 {
            span.fee { "免费" }
        } @else {
            span.fee { (money(offering.fee_minor)) }
            @for c in &offering.concessions {
                span.concession { (i18n::term(Lang::Zh, &c.category)) "：" (price(c.price_minor)) }
            }
        }
    }
}

fn session_card(session: &bk::Session, offering: &bk::Offering, zone: Tz) -> Markup {
    let href = format!("/r/sessions/{}?offering={}", session.id, offering.id);
    html! {
        li.card {
            a.card-link href=(href) {
                span.name { (offering.name) }
                span.when { (session_time(session, zone)) }
                span.places { (places(session)) }
                span.go { "查看并预约 ›" }
            }
        }
    }
}

async fn home(State(state): State<AppState>, visit: Visit) -> Page {
    let centre = centre_of(&state, &visit).await?;
    let offerings = eligible(&state, &visit, visit.me).await?;
    let now = Utc::now();
    let week = sessions(&state, &visit, None, now, now + Duration::days(7)).await?;
    let by_id: BTreeMap<&str, &bk::Offering> =
        offerings.iter().map(|o| (o.id.as_str(), o)).collect();
    let bookable: Vec<(&bk::Session, &bk::Offering)> = week
        .iter()
        .filter_map(|s| by_id.get(s.offering_id.as_str()).map(|o| (s, *o)))
        .take(30)
        .collect();
    let zone = centre.zone;
    let board = notices::section(&state, &visit, zone).await?;
    Ok(page(
        visit.large,
        &centre.name,
        Some(Tab::Home),
        html! {
            (board)
            section aria-labelledby="week" {
                h2 #week { "本周活动" }
                @if bookable.is_empty() {
                    p.empty { "这一周没有您可以预约的活动。" }
                } @else {
                    ul.cards {
                        @for (session, offering) in &bookable {
                            (session_card(session, offering, zone))
                        }
                    }
                }
            }
            form.signout method="post" action="/r/sign-out" {
                button.secondary type="submit" { "退出登录" }
            }
        },
    )
    .into_response())
}

#[derive(Deserialize)]
struct ForQuery {
    #[serde(rename = "for")]
    who: Option<String>,
}

/// The one this page acts for: the resident, or one they act for named by `for`.
fn acting_for(visit: &Visit, named: Option<&str>) -> Uuid {
    named
        .and_then(|text| Uuid::parse_str(text).ok())
        .filter(|id| visit.people().contains(id))
        .unwrap_or(visit.me)
}

fn who_picker(people: &[(Uuid, String)], chosen: Uuid, href: impl Fn(Uuid) -> String) -> Markup {
    who_picker_named(people, chosen, "为谁预约", href)
}

/// The resident and those they act for, as chips: `label` says what the choice is for.
fn who_picker_named(
    people: &[(Uuid, String)],
    chosen: Uuid,
    label: &str,
    href: impl Fn(Uuid) -> String,
) -> Markup {
    html! {
        @if people.len() > 1 {
            nav.who aria-label=(label) {
                span { (label) "：" }
                @for (i, (id, name)) in people.iter().enumerate() {
                    a.chip href=(href(*id)) aria-current=[(*id == chosen).then_some("true")] {
                        (name) @if i == 0 { "（本人）" }
                    }
                }
            }
        }
    }
}

async fn catalogue(
    State(state): State<AppState>,
    visit: Visit,
    axum::extract::Query(q): axum::extract::Query<ForQuery>,
) -> Page {
    let centre = centre_of(&state, &visit).await?;
    let people = names(&state, &visit).await?;
    let who = acting_for(&visit, q.who.as_deref());
    let offerings = eligible(&state, &visit, who).await?;
    let now = Utc::now();
    let coming = sessions(&state, &visit, None, now, now + Duration::days(28)).await?;
    let zone = centre.zone;
    let for_query = if who == visit.me {
        String::new()
    } else {
        format!("&for={who}")
    };
    Ok(page(
        visit.large,
        "可以预约的服务",
        Some(Tab::Book),
        html! {
            (who_picker(&people, who, |id| format!("/r/book?for={id}")))
            @if offerings.is_empty() {
                p.empty { "暂时没有可以预约的服务。" }
            }
            @for offering in &offerings {
                section.offering {
                    h2 { (offering.name) }
                    @if !offering.description.is_empty() { p { (offering.description) } }
                    p.fees { "费用：" (fee(offering)) }
                    @let own: Vec<&bk::Session> = coming.iter().filter(|s| s.offering_id == offering.id).take(6).collect();
                    @if own.is_empty() {
                        p.empty { "近期没有安排场次，请留意通知。" }
                    } @else {
                        ul.cards {
                            @for session in own {
                                li.card {
                                    a.card-link href=(format!("/r/sessions/{}?offering={}{for_query}", session.id, offering.id)) {
                                        span.when { (session_time(session, zone)) }
                                        span.places { (places(session)) }
                                        span.go { "预约 ›" }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        },
    )
    .into_response())
}

#[derive(Deserialize)]
struct SessionQuery {
    offering: Option<String>,
    #[serde(rename = "for")]
    who: Option<String>,
}

#[derive(Deserialize)]
struct BookForm {
    offering: String,
    #[serde(rename = "for")]
    who: String,
}

/// A session, with the booking button, and what went wrong last time beside it.
async fn session_view(
    state: &AppState,
    visit: &Visit,
    session_id: &str,
    offering_id: &str,
    who: Uuid,
    error: Option<String>,
) -> Page {
    let centre = centre_of(state, visit).await?;
    let offering = state
        .bookings
        .clone()
        .get_offering(visit.auth.grpc(bk::GetOfferingRequest {
            centre_id: visit.centre.to_string(),
            offering_id: offering_id.to_owned(),
        }))
        .await?
        .into_inner();
    let now = Utc::now();
    let session = sessions(
        state,
        visit,
        Some(offering_id),
        now - Duration::hours(12),
        now + Duration::days(120),
    )
    .await?
    .into_iter()
    .find(|s| s.id == session_id)
    .ok_or(Trouble(StatusCode::NOT_FOUND))?;
    let people = names(state, visit).await?;
    // Whether the one booked for may book it at all, by the service's own rule: if not,
    // the page says so and offers no button to press in vain.
    let may_book = eligible(state, visit, who)
        .await?
        .iter()
        .any(|o| o.id == offering.id);
    let refused = error.is_some() || !may_book;
    let error = error.or_else(|| {
        (!may_book)
            .then(|| "这项活动不符合参加条件（年龄或居民类别不符），请看看其他活动。".to_owned())
    });
    let name = people
        .iter()
        .find(|(id, _)| *id == who)
        .map(|(_, name)| name.clone())
        .unwrap_or_default();
    let action = format!("/r/sessions/{}", session.id);
    let status = if error.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    let body = page(
        visit.large,
        &offering.name,
        Some(Tab::Book),
        html! {
            dl.facts {
                dt { "时间" } dd { (session_time(&session, centre.zone)) }
                dt { "名额" } dd { (places(&session)) }
                dt { "费用" } dd { (fee(&offering)) }
            }
            @if !offering.description.is_empty() { p { (offering.description) } }
            (who_picker(&people, who, |id| format!("{action}?offering={}&for={id}", offering.id)))
            form method="post" action=(action) {
                input type="hidden" name="offering" value=(offering.id);
                input type="hidden" name="for" value=(who);
                div.field.invalid[error.is_some()] {
                    p.for-whom { "为 " strong { (name) } " 预约" }
                    @if let Some(error) = &error {
                        p.error #book-error role="alert" { (error) }
                    }
                    @if !refused {
                        button.primary type="submit" {
                            @if session.capacity - session.confirmed > 0 { "确认预约" } @else { "排队候补" }
                        }
                    }
                }
            }
            @if refused {
                a.button.primary href="/r/book" { "看看其他活动" }
            } @else {
                a.button.secondary href="/r/book" { "返回" }
            }
        },
    );
    Ok((status, body).into_response())
}

async fn session_page(
    State(state): State<AppState>,
    visit: Visit,
    Path(session): Path<String>,
    axum::extract::Query(q): axum::extract::Query<SessionQuery>,
) -> Page {
    let who = acting_for(&visit, q.who.as_deref());
    let offering = q.offering.unwrap_or_default();
    session_view(&state, &visit, &session, &offering, who, None).await
}

/// A booking refused by the service, said in Chinese: its reasons are the desk's.
fn booking_message(status: &tonic::Status) -> String {
    match status.code() {
        Code::AlreadyExists => "已经预约过这一场了".into(),
        Code::FailedPrecondition | Code::PermissionDenied | Code::NotFound => {
            i18n::refusal(Lang::Zh, status)
        }
        _ => "暂时无法预约，请稍后再试".into(),
    }
}

async fn book(
    State(state): State<AppState>,
    visit: Visit,
    Path(session): Path<String>,
    Form(form): Form<BookForm>,
) -> Page {
    // Booking for someone the resident does not act for is refused, never quietly made
    // for the resident instead.
    let who = Uuid::parse_str(&form.who)
        .ok()
        .filter(|id| visit.people().contains(id))
        .ok_or(Trouble(StatusCode::FORBIDDEN))?;
    let made = state
        .bookings
        .clone()
        .create_booking(visit.auth.grpc(bk::CreateBookingRequest {
            centre_id: visit.centre.to_string(),
            offering_id: form.offering.clone(),
            resident_id: who.to_string(),
            session_id: session.clone(),
            ..Default::default()
        }))
        .await;
    match made {
        Ok(_) => Ok(Redirect::to("/r/bookings?done=booked").into_response()),
        Err(status)
            if matches!(
                status.code(),
                Code::Unavailable | Code::DeadlineExceeded | Code::Internal | Code::Unauthenticated
            ) =>
        {
            Err(Trouble::from(status))
        }
        Err(status) => {
            let message = booking_message(&status);
            session_view(&state, &visit, &session, &form.offering, who, Some(message)).await
        }
    }
}

#[derive(Deserialize)]
struct DoneQuery {
    done: Option<String>,
}

fn booking_state(booking: &bk::Booking) -> String {
    match bk::BookingStatus::try_from(booking.status).unwrap_or_default() {
        bk::BookingStatus::Confirmed => "已预约".into(),
        bk::BookingStatus::Waitlisted => format!("候补第 {} 位", booking.waitlist_position),
        bk::BookingStatus::Cancelled => "已取消".into(),
        bk::BookingStatus::Attended => "已参加".into(),
        bk::BookingStatus::NoShow => "未到场".into(),
        bk::BookingStatus::Unspecified => String::new(),
    }
}

async fn my_bookings(
    State(state): State<AppState>,
    visit: Visit,
    axum::extract::Query(q): axum::extract::Query<DoneQuery>,
) -> Page {
    let centre = centre_of(&state, &visit).await?;
    let people = names(&state, &visit).await?;
    let mut rows = Vec::new();
    let mut offerings: BTreeMap<String, String> = BTreeMap::new();
    for (id, name) in &people {
        let list = state
            .bookings
            .clone()
            .list_bookings(visit.auth.grpc(bk::ListBookingsRequest {
                centre_id: visit.centre.to_string(),
                resident_id: id.to_string(),
                page_size: 50,
                ..Default::default()
            }))
            .await?
            .into_inner()
            .bookings;
        for booking in list {
            if !offerings.contains_key(&booking.offering_id) {
                let offering = state
                    .bookings
                    .clone()
                    .get_offering(visit.auth.grpc(bk::GetOfferingRequest {
                        centre_id: visit.centre.to_string(),
                        offering_id: booking.offering_id.clone(),
                    }))
                    .await?
                    .into_inner();
                offerings.insert(booking.offering_id.clone(), offering.name);
            }
            rows.push((name.clone(), booking));
        }
    }
    let now = Utc::now();
    let start_of = |b: &bk::Booking| {
        b.seats
            .first()
            .and_then(|s| instant(&s.starts_at))
            .or_else(|| instant(&b.starts_at))
    };
    rows.sort_by_key(|(_, b)| std::cmp::Reverse(start_of(b)));
    let zone = centre.zone;
    let done = match q.done.as_deref() {
        Some("booked") => Some("预约已提交。"),
        Some("cancelled") => Some("已取消预约。"),
        _ => None,
    };
    Ok(page(
        visit.large,
        "我的预约",
        Some(Tab::Mine),
        html! {
            @if let Some(done) = done { p.notice role="status" { (done) } }
            @if rows.is_empty() {
                p.empty { "还没有预约。" }
                a.button.primary href="/r/book" { "去预约" }
            }
            ul.cards {
                @for (name, booking) in &rows {
                    @let start = start_of(booking);
                    @let open = matches!(bk::BookingStatus::try_from(booking.status).unwrap_or_default(),
                        bk::BookingStatus::Confirmed | bk::BookingStatus::Waitlisted)
                        && start.is_none_or(|s| s > now);
                    li.card.booking {
                        span.name { (offerings.get(&booking.offering_id).map(String::as_str).unwrap_or("")) }
                        @if let Some(start) = start {
                            span.when { span.day { (day(start, zone)) } span.hours { (start.with_timezone(&zone).format("%H:%M")) " 开始" } }
                        }
                        @if people.len() > 1 { span.for-whom { (name) } }
                        span.state { (booking_state(booking)) }
                        @if open {
                            form method="post" action=(format!("/r/bookings/{}/cancel", booking.id)) {
                                button.secondary type="submit" { "取消预约" }
                            }
                        }
                    }
                }
            }
        },
    )
    .into_response())
}

async fn cancel(State(state): State<AppState>, visit: Visit, Path(booking): Path<String>) -> Page {
    state
        .bookings
        .clone()
        .cancel_booking(visit.auth.grpc(bk::CancelBookingRequest {
            centre_id: visit.centre.to_string(),
            booking_id: booking,
            ..Default::default()
        }))
        .await?;
    Ok(Redirect::to("/r/bookings?done=cancelled").into_response())
}
