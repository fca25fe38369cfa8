//! Signing in and out, and who is asking. The session cookie carries the signed-in user's
//! own JWT (the same identity the JSON API takes as a bearer token) beside the id of a
//! session the registry keeps, checked on every request so that signing out ends it at
//! once. Forms carry a CSRF token bound to the session; the sign-in form, before there is
//! a session, uses a double-submitted cookie.

use axum::Form;
use axum::extract::{FromRequest, FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use chrono::Utc;
use linli_platform::auth::{Caller, Role};
use linli_proto::registry::v1 as pb;
use maud::{DOCTYPE, html};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::{FieldErrors, Lang, Refusal, Section, field, general_errors, instant};
use crate::AppState;
use crate::auth::{Authenticated, session_is_live, system_request};

const SESSION_COOKIE: &str = "linli_session";
const PRE_COOKIE: &str = "linli_signin";
const LANG_COOKIE: &str = "linli_lang";

/// The signed-in user behind a console request.
pub struct Staff {
    pub caller: Caller,
    pub auth: Authenticated,
    pub lang: Lang,
    pub csrf: String,
    pub display_name: String,
    pub session: Uuid,
    /// The centres the user may see, from the registry.
    pub centres: Vec<pb::Centre>,
    /// The header's 提醒 (n): the alerts waiting at the centre of the page.
    pub alerts: Option<super::alerts::Badge>,
}

impl Staff {
    pub fn grpc<T>(&self, message: T) -> tonic::Request<T> {
        self.auth.grpc(message)
    }

    /// Whether the user's roles open `section`.
    pub fn may(&self, section: Section) -> bool {
        self.caller
            .roles
            .iter()
            .any(|r| section.roles().contains(r))
    }

    pub fn require(&self, section: Section) -> Result<(), Refusal> {
        if self.may(section) {
            Ok(())
        } else {
            Err(Refusal::forbidden())
        }
    }

    /// The one centre of a user who works at one; none for district-wide users.
    pub fn home_centre(&self) -> Option<Uuid> {
        if self.caller.is_district_wide() {
            return None;
        }
        self.centres
            .first()
            .and_then(|c| Uuid::parse_str(&c.id).ok())
    }

    /// The centre named in a path, once the user may open `section` there: 403 for a
    /// centre outside the user's work.
    pub fn centre(&self, section: Section, text: &str) -> Result<pb::Centre, Refusal> {
        self.require(section)?;
        let id = Uuid::parse_str(text).map_err(|_| Refusal::not_found())?;
        if !self.caller.covers_centre(id) {
            return Err(Refusal::forbidden());
        }
        self.centres
            .iter()
            .find(|c| c.id == id.to_string())
            .cloned()
            .ok_or_else(Refusal::not_found)
    }

    pub fn has_role(&self, role: Role) -> bool {
        self.caller.roles.contains(&role)
    }
}

pub(crate) fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value)
}

fn query_param<'a>(parts: &'a Parts, name: &str) -> Option<&'a str> {
    parts
        .uri
        .query()?
        .split('&')
        .filter_map(|pair| pair.split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value)
}

/// The user's language: `?lang=` for this page, else the cookie, else Chinese.
pub fn lang_of(parts: &Parts) -> Lang {
    query_param(parts, "lang")
        .and_then(Lang::parse)
        .or_else(|| cookie(&parts.headers, LANG_COOKIE).and_then(Lang::parse))
        .unwrap_or_default()
}

/// Whether the browser reached us over TLS (directly or through a proxy that says so).
pub(crate) fn over_tls(headers: &HeaderMap) -> bool {
    headers
        .get("x-forwarded-proto")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("https"))
}

pub(crate) fn set_cookie(
    name: &str,
    value: &str,
    max_age: i64,
    http_only: bool,
    secure: bool,
) -> HeaderValue {
    let mut text = format!("{name}={value}; Path=/; Max-Age={max_age}; SameSite=Strict");
    if http_only {
        text.push_str("; HttpOnly");
    }
    if secure {
        text.push_str("; Secure");
    }
    HeaderValue::from_str(&text).expect("cookie values are ASCII")
}

fn csrf_for(session_cookie: &str) -> String {
    let digest = Sha256::digest(format!("linli-console-csrf:{session_cookie}").as_bytes());
    digest[..16].iter().map(|b| format!("{b:02x}")).collect()
}

fn same(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

fn to_sign_in(parts: &Parts) -> Response {
    let next = parts
        .uri
        .path_and_query()
        .map(|p| p.as_str())
        .unwrap_or("/");
    let target = format!("/sign-in?next={}", encode(next));
    let mut response = Redirect::to(&target).into_response();
    if cookie(&parts.headers, SESSION_COOKIE).is_some() {
        response.headers_mut().append(
            header::SET_COOKIE,
            set_cookie(SESSION_COOKIE, "", 0, true, over_tls(&parts.headers)),
        );
    }
    response
}

fn encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'/' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

impl FromRequestParts<AppState> for Staff {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let Some(value) = cookie(&parts.headers, SESSION_COOKIE).map(str::to_owned) else {
            return Err(to_sign_in(parts));
        };
        let Some((session, token)) = value.split_once('.') else {
            return Err(to_sign_in(parts));
        };
        let (Ok(session), Ok(caller)) = (Uuid::parse_str(session), state.keys.verify(token)) else {
            return Err(to_sign_in(parts));
        };
        // The token must be the one issued with this session.
        if caller
            .session
            .is_some_and(|issued_for| issued_for != session)
        {
            return Err(to_sign_in(parts));
        }
        let account = match session_is_live(state, &caller, session).await {
            Ok(Some(account)) => account,
            Ok(None) => return Err(to_sign_in(parts)),
            Err(status) => return Err(Refusal::from(status).into_response()),
        };
        let auth = Authenticated::new(caller.clone(), token.to_owned());
        let centres = state
            .registry
            .clone()
            .list_centres(auth.grpc(pb::ListCentresRequest {}))
            .await
            .map_err(|status| Refusal::from(status).into_response())?
            .into_inner()
            .centres;
        let alerts = super::alerts::badge(state, &auth, &caller, parts.uri.path()).await;
        Ok(Staff {
            alerts,
            lang: lang_of(parts),
            csrf: csrf_for(&value),
            display_name: account.display_name,
            session,
            caller,
            auth,
            centres,
        })
    }
}

/// A form POSTed by a signed-in user whose CSRF token matched; a POST without it never
/// reaches a handler.
pub struct Posted {
    pub staff: Staff,
    pub fields: Vec<(String, String)>,
}

impl Posted {
    pub fn get(&self, name: &str) -> &str {
        self.fields
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.trim())
            .unwrap_or("")
    }

    pub fn all(&self, name: &str) -> Vec<String> {
        self.fields
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.trim().to_owned())
            .filter(|v| !v.is_empty())
            .collect()
    }
}

impl FromRequest<AppState> for Posted {
    type Rejection = Response;

    async fn from_request(request: Request, state: &AppState) -> Result<Self, Response> {
        let (mut parts, body) = request.into_parts();
        let staff = Staff::from_request_parts(&mut parts, state).await?;
        let request = Request::from_parts(parts, body);
        let Form(fields) = Form::<Vec<(String, String)>>::from_request(request, state)
            .await
            .map_err(|_| {
                Refusal {
                    status: StatusCode::BAD_REQUEST,
                    detail: "表单内容无法读取，请刷新页面后重试。".into(),
                }
                .into_response()
            })?;
        let sent = fields
            .iter()
            .find(|(k, _)| k == "csrf")
            .map(|(_, v)| v.as_str())
            .unwrap_or("");
        if !same(sent, &staff.csrf) {
            return Err(Refusal {
                status: StatusCode::FORBIDDEN,
                detail: "页面已过期，请刷新页面后重试。".into(),
            }
            .into_response());
        }
        Ok(Posted { staff, fields })
    }
}

fn safe_next(next: &str) -> &str {
    if next.starts_with('/') && !next.starts_with("//") && !next.starts_with("/\\") {
        next
    } else {
        "/dashboard"
    }
}

fn decode(text: &str) -> String {
    fn hex(b: u8) -> Option<u8> {
        (b as char).to_digit(16).map(|d| d as u8)
    }
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' => {
                match (
                    bytes.get(i + 1).and_then(|b| hex(*b)),
                    bytes.get(i + 2).and_then(|b| hex(*b)),
                ) {
                    (Some(high), Some(low)) => {
                        out.push(high * 16 + low);
                        i += 3;
                        continue;
                    }
                    _ => out.push(b'%'),
                }
            }
            b'+' => out.push(b' '),
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

struct SignInView<'a> {
    lang: Lang,
    username: &'a str,
    next: &'a str,
    token: &'a str,
    errors: FieldErrors,
}

fn sign_in_view(view: SignInView<'_>) -> String {
    let lang = view.lang;
    html! {
        (DOCTYPE)
        html lang=(lang.html()) {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (lang.pick("登录 · 邻里社区服务", "Sign in · Linli")) }
                link rel="stylesheet" href="/console.css";
            }
            body.sign-in {
                main #main {
                    h1 { "邻里 " span { (lang.pick("社区服务中心工作台", "Staff console")) } }
                    form method="post" action="/sign-in" novalidate {
                        input type="hidden" name="csrf" value=(view.token);
                        input type="hidden" name="next" value=(view.next);
                        (general_errors(&view.errors, &["username", "password"]))
                        (field(lang, "username", lang.pick("用户名", "Username"), "text", view.username, &view.errors, true))
                        (field(lang, "password", lang.pick("密码", "Password"), "password", "", &view.errors, true))
                        button type="submit" { (lang.pick("登录", "Sign in")) }
                    }
                    p { a href=(format!("/language?to={}&next=/sign-in", lang.other().code())) lang=(lang.other().html()) { (lang.pick("English", "中文")) } }
                }
            }
        }
    }
    .into_string()
}

fn fresh_token() -> String {
    Uuid::new_v4().simple().to_string()
}

pub async fn sign_in_page(parts: Parts) -> Response {
    let lang = lang_of(&parts);
    let next = query_param(&parts, "next").map(decode).unwrap_or_default();
    let token = fresh_token();
    let mut response = Html(sign_in_view(SignInView {
        lang,
        username: "",
        next: safe_next(&next),
        token: &token,
        errors: FieldErrors::default(),
    }))
    .into_response();
    response.headers_mut().append(
        header::SET_COOKIE,
        set_cookie(PRE_COOKIE, &token, 3600, true, over_tls(&parts.headers)),
    );
    response
}

pub async fn sign_in(
    State(state): State<AppState>,
    parts: Parts,
    Form(fields): Form<Vec<(String, String)>>,
) -> Response {
    let lang = lang_of(&parts);
    let get = |name: &str| {
        fields
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .unwrap_or("")
    };
    let (username, password, next) = (get("username").trim(), get("password"), get("next"));
    let expected = cookie(&parts.headers, PRE_COOKIE).unwrap_or("");
    if expected.is_empty() || !same(get("csrf"), expected) {
        return Refusal {
            status: StatusCode::FORBIDDEN,
            detail: "登录页面已过期，请刷新后重新登录。".into(),
        }
        .into_response();
    }
    let mut errors = FieldErrors::default();
    if username.is_empty() {
        errors.push("username", lang.pick("请填写用户名", "Enter your username"));
    }
    if password.is_empty() {
        errors.push("password", lang.pick("请填写密码", "Enter your password"));
    }
    let mut status = StatusCode::BAD_REQUEST;
    if errors.is_empty() {
        let verified = state
            .registry
            .clone()
            .verify_staff_password(system_request(
                &state,
                pb::VerifyStaffPasswordRequest {
                    username: username.to_owned(),
                    password: password.to_owned(),
                    ttl_seconds: 0,
                },
            ))
            .await;
        match verified {
            Ok(session) => {
                let session = session.into_inner();
                let account = session.account.unwrap_or_default();
                let roles: Vec<Role> = account
                    .roles
                    .iter()
                    .filter_map(|r| Role::parse(r))
                    .collect();
                let centres: Vec<Uuid> = account
                    .centre_ids
                    .iter()
                    .filter_map(|c| Uuid::parse_str(c).ok())
                    .collect();
                let expires = instant(&session.expires_at).unwrap_or_else(Utc::now);
                let ttl = expires - Utc::now();
                let Ok(session_id) = Uuid::parse_str(&session.id) else {
                    let odd = tonic::Status::internal("the registry's session id is not a UUID");
                    return Refusal::from(odd).into_response();
                };
                let token = state.keys.issue_for_session(
                    &account.username,
                    &roles,
                    &centres,
                    session_id,
                    ttl,
                );
                let value = format!("{}.{token}", session.id);
                let mut response = Redirect::to(safe_next(next)).into_response();
                let secure = over_tls(&parts.headers);
                let headers = response.headers_mut();
                headers.append(
                    header::SET_COOKIE,
                    set_cookie(
                        SESSION_COOKIE,
                        &value,
                        ttl.num_seconds().max(0),
                        true,
                        secure,
                    ),
                );
                headers.append(
                    header::SET_COOKIE,
                    set_cookie(PRE_COOKIE, "", 0, true, secure),
                );
                return response;
            }
            // A locked account is answered as a wrong password is, so a guess cannot tell
            // which usernames exist (the registry still refuses it until the lock ends).
            Err(refused)
                if matches!(
                    refused.code(),
                    tonic::Code::Unauthenticated | tonic::Code::FailedPrecondition
                ) =>
            {
                status = StatusCode::UNAUTHORIZED;
                errors.push(
                    "password",
                    lang.pick(
                        "用户名或密码不正确。多次输错后账户会暂时锁定，请稍后再试。",
                        "Wrong username or password. Repeated failures lock the account for a while; try again later.",
                    ),
                );
            }
            Err(other) => return Refusal::from(other).into_response(),
        }
    }
    let token = fresh_token();
    let mut response = (
        status,
        Html(sign_in_view(SignInView {
            lang,
            username,
            next: safe_next(next),
            token: &token,
            errors,
        })),
    )
        .into_response();
    response.headers_mut().append(
        header::SET_COOKIE,
        set_cookie(PRE_COOKIE, &token, 3600, true, over_tls(&parts.headers)),
    );
    response
}

pub async fn sign_out(State(state): State<AppState>, posted: Posted) -> Response {
    let _ = state
        .registry
        .clone()
        .end_staff_session(system_request(
            &state,
            pb::EndStaffSessionRequest {
                session_id: posted.staff.session.to_string(),
            },
        ))
        .await;
    let mut response = Redirect::to("/sign-in").into_response();
    response.headers_mut().append(
        header::SET_COOKIE,
        set_cookie(SESSION_COOKIE, "", 0, true, false),
    );
    response
}

/// `/language?to=en`: remembers the choice for a year and goes back where the user was.
pub async fn language(parts: Parts) -> Response {
    let lang = query_param(&parts, "to")
        .and_then(Lang::parse)
        .unwrap_or_default();
    let back = query_param(&parts, "next")
        .map(decode)
        .or_else(|| {
            parts
                .headers
                .get(header::REFERER)
                .and_then(|v| v.to_str().ok())
                .and_then(|r| r.split_once("://"))
                .and_then(|(_, rest)| rest.find('/').map(|i| rest[i..].to_owned()))
        })
        .unwrap_or_else(|| "/dashboard".into());
    let mut response = Redirect::to(safe_next(&back)).into_response();
    response.headers_mut().append(
        header::SET_COOKIE,
        set_cookie(
            LANG_COOKIE,
            lang.code(),
            365 * 24 * 3600,
            false,
            over_tls(&parts.headers),
        ),
    );
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_stays_on_this_site() {
        assert_eq!(safe_next("/c/x/residents?q=zs"), "/c/x/residents?q=zs");
        assert_eq!(safe_next("//evil.example/"), "/dashboard");
        assert_eq!(safe_next("https://evil.example/"), "/dashboard");
    }

    #[test]
    fn encoded_paths_round_trip() {
        let path = "/c/1/residents?q=张&x=1";
        assert_eq!(decode(&encode(path)), path);
    }

    #[test]
    fn csrf_tokens_differ_by_session() {
        assert_ne!(csrf_for("a.b"), csrf_for("a.c"));
        assert!(same(&csrf_for("a.b"), &csrf_for("a.b")));
    }
}
