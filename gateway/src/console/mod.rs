//! The staff console: the web pages centre staff and district operators work in, served by
//! the gateway itself. Pages are rendered on the server (maud) with a little embedded
//! JavaScript and inline SVG charts, so there is no front-end build and nothing comes from
//! a CDN. Every page calls the services over gRPC with the signed-in user's own token,
//! exactly as the JSON API does; the services decide what the user may see.

mod accounts;
mod alerts;
mod board;
mod bookings;
mod charts;
mod corrections;
mod dashboard;
mod erase;
mod evaluation;
mod export;
mod finance;
mod forum;
pub(crate) mod i18n;
mod import;
mod ledger;
mod listing;
mod notices;
mod opportunities;
mod partners;
mod payments;
pub(crate) mod protect;
mod residents;
mod reviews;
mod rooms;
pub(crate) mod session;
mod sign_in_codes;
mod staffing;
mod volunteer_profiles;
mod volunteers;
mod webhooks;

use axum::Router;
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;
use linli_platform::auth::Role;
use linli_proto::registry::v1::Centre;
use maud::{DOCTYPE, Markup, PreEscaped, html};
use tonic::Code;
use uuid::Uuid;

use crate::AppState;
pub use i18n::Lang;
pub use session::{Posted, Staff};

const STYLE: &str = include_str!("console.css");
const SCRIPT: &str = include_str!("console.js");

/// The console's pages, merged into the gateway's router, each with the console's
/// protections ([`protect`]).
pub fn routes() -> Router<AppState> {
    protect::protect(pages())
}

fn pages() -> Router<AppState> {
    Router::new()
        .route("/", get(|| async { Redirect::to("/dashboard") }))
        .route(
            "/console.css",
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
        .route(
            "/console.js",
            get(|| async {
                (
                    [
                        (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
                        (header::CACHE_CONTROL, "max-age=3600"),
                    ],
                    SCRIPT,
                )
            }),
        )
        .route(
            "/sign-in",
            get(session::sign_in_page).post(session::sign_in),
        )
        .route("/sign-out", post(session::sign_out))
        .route("/language", get(session::language))
        .route("/dashboard", get(dashboard::home))
        .route("/centres", get(dashboard::choose_centre))
        .route("/c/{centre}/dashboard", get(dashboard::centre))
        .route("/c/{centre}/residents", get(residents::list))
        .route(
            "/c/{centre}/residents/new",
            get(residents::new_form).post(residents::create),
        )
        .route(
            "/c/{centre}/residents/import",
            get(import::form).post(residents::import),
        )
        .route(
            "/c/{centre}/residents/import/preview",
            post(import::preview),
        )
        .route(
            "/c/{centre}/residents/import/confirm",
            post(import::confirm),
        )
        .route(
            "/c/{centre}/residents/{resident}/erase",
            get(erase::page).post(erase::erase),
        )
        .route("/c/{centre}/sign-in-codes", get(sign_in_codes::page))
        .route("/c/{centre}/residents/{resident}", get(residents::show))
        .route(
            "/c/{centre}/residents/{resident}/consents",
            post(residents::consent),
        )
        .route(
            "/c/{centre}/residents/{resident}/corrections/{request}",
            post(corrections::close_form),
        )
        .route("/c/{centre}/residents/{resident}/copy", get(export::page))
        .route(
            "/c/{centre}/residents/{resident}/copy.json",
            get(export::file),
        )
        .route("/c/{centre}/bookings", get(bookings::calendar))
        .route("/c/{centre}/rooms", get(rooms::grid))
        .route(
            "/c/{centre}/rooms/reserve",
            get(rooms::reserve_form).post(rooms::reserve),
        )
        .route("/c/{centre}/sessions/{session}", get(bookings::session))
        .route(
            "/c/{centre}/sessions/{session}/bookings",
            post(bookings::book),
        )
        .route(
            "/c/{centre}/bookings/{booking}/check-in",
            post(bookings::check_in),
        )
        .route(
            "/c/{centre}/bookings/{booking}/undo-check-in",
            post(bookings::undo_check_in),
        )
        .route(
            "/c/{centre}/bookings/{booking}/cancel",
            get(bookings::cancel_form).post(bookings::cancel),
        )
        .route("/c/{centre}/volunteers", get(volunteers::week))
        .route(
            "/c/{centre}/volunteers/shifts/{shift}",
            get(volunteers::matches),
        )
        .route(
            "/c/{centre}/volunteers/shifts/{shift}/sign-ups",
            post(volunteers::assign),
        )
        .route("/c/{centre}/volunteers/hours", post(volunteers::log_hours))
        .route(
            "/c/{centre}/volunteers/opportunities",
            get(opportunities::page),
        )
        .route(
            "/c/{centre}/volunteers/opportunities/create",
            post(opportunities::create),
        )
        .route(
            "/c/{centre}/volunteers/shifts",
            post(opportunities::add_shift),
        )
        .route(
            "/c/{centre}/volunteers/new",
            get(volunteer_profiles::new_form),
        )
        .route(
            "/c/{centre}/volunteers/register",
            post(volunteer_profiles::register),
        )
        .route(
            "/c/{centre}/volunteers/profile/{volunteer}",
            get(volunteer_profiles::profile),
        )
        .route(
            "/c/{centre}/volunteers/profile/{volunteer}/save",
            post(volunteer_profiles::save),
        )
        .route(
            "/c/{centre}/volunteers/hours/{entry}",
            post(volunteers::verify),
        )
        .route(
            "/c/{centre}/volunteers/hours/{entry}/reject",
            get(volunteers::reject_form),
        )
        .route("/c/{centre}/staff", get(staffing::overview))
        .route("/c/{centre}/staff/assign", post(staffing::assign))
        .route("/c/{centre}/staff/licences", post(staffing::add_licence))
        .route("/c/{centre}/finance", get(finance::overview))
        .route("/c/{centre}/finance/receivables", get(payments::list))
        .route(
            "/c/{centre}/payments/new",
            get(payments::new_payment).post(payments::record_payment),
        )
        .route("/c/{centre}/payments/{payment}", get(payments::receipt))
        .route(
            "/c/{centre}/payments/{payment}/refund",
            post(payments::refund),
        )
        .route(
            "/c/{centre}/finance/transparency.csv",
            get(finance::transparency_csv),
        )
        .route(
            "/c/{centre}/finance/donations/new",
            get(finance::new_donation).post(finance::record_donation),
        )
        .route(
            "/c/{centre}/finance/donations/{donation}/receipt",
            get(finance::receipt),
        )
        .route(
            "/c/{centre}/finance/expenses/new",
            get(finance::new_expense).post(finance::record_expense),
        )
        .route(
            "/c/{centre}/finance/grants/new",
            get(ledger::new_grant).post(ledger::record_grant),
        )
        .route(
            "/c/{centre}/finance/partnership/new",
            get(ledger::new_partnership).post(ledger::record_partnership),
        )
        .route("/c/{centre}/finance/budget", get(ledger::budget))
        .route("/c/{centre}/finance/budget/set", post(ledger::set_budget))
        .route("/c/{centre}/finance/entries", get(ledger::entries))
        .route(
            "/c/{centre}/finance/entries/new",
            get(ledger::new_entry).post(ledger::post_entry),
        )
        .route(
            "/c/{centre}/finance/entries/{entry}/reverse",
            get(ledger::reverse_form).post(ledger::reverse),
        )
        .route("/c/{centre}/finance/periods", get(finance::periods))
        .route(
            "/c/{centre}/finance/periods/close",
            post(finance::close_period),
        )
        .route("/c/{centre}/evaluation", get(evaluation::overview))
        .route("/c/{centre}/board", get(board::overview))
        .route(
            "/c/{centre}/board/reviews",
            get(reviews::list).post(reviews::start),
        )
        .route(
            "/c/{centre}/board/reviews/checklist",
            get(reviews::checklist).post(reviews::save_checklist),
        )
        .route(
            "/c/{centre}/board/reviews/{review}/items/{item}",
            get(reviews::item_form).post(reviews::score),
        )
        .route("/c/{centre}/board/members", post(board::add_member))
        .route(
            "/c/{centre}/board/members/{member}/end",
            post(board::end_member),
        )
        .route("/c/{centre}/board/meetings", post(board::record_meeting))
        .route(
            "/c/{centre}/board/decisions/{decision}/done",
            post(board::complete_decision),
        )
        .route(
            "/c/{centre}/notices",
            get(notices::list).post(notices::create),
        )
        .route("/c/{centre}/notices/{notice}/pin", post(notices::change))
        .route(
            "/c/{centre}/notices/{notice}/schedule",
            post(notices::change),
        )
        .route("/c/{centre}/alerts", get(alerts::inbox))
        .route(
            "/c/{centre}/alerts/{alert}/acknowledge",
            post(alerts::acknowledge),
        )
        .route("/c/{centre}/forum", get(forum::overview))
        .route("/c/{centre}/forum/posts/{post}", post(forum::moderate))
        .route(
            "/c/{centre}/evaluation/suggestions/{suggestion}",
            post(evaluation::move_suggestion),
        )
        .route(
            "/c/{centre}/evaluation/follow-ups/{follow_up}",
            post(evaluation::complete_follow_up),
        )
        .route("/accounts", get(accounts::list).post(accounts::create))
        .route("/accounts/{account}/active", post(accounts::set_active))
        .route("/partners", get(partners::list).post(partners::create))
        .route("/partners/{partner}", get(partners::show))
        .route(
            "/partners/{partner}/agreements/{agreement}/webhook",
            get(webhooks::show).post(webhooks::set),
        )
        .route(
            "/partners/{partner}/agreements/{agreement}/webhook/replay",
            post(webhooks::replay),
        )
        .route(
            "/partners/{partner}/agreements",
            post(partners::create_agreement),
        )
        .route(
            "/partners/{partner}/agreements/{agreement}/revoke",
            get(partners::revoke_form).post(partners::revoke),
        )
        .route(
            "/partners/{partner}/credentials",
            post(partners::register_credential),
        )
        .route(
            "/partners/{partner}/credentials/{credential}/revoke",
            get(partners::revoke_credential_form).post(partners::revoke_credential),
        )
        // Any other address under the console's own prefixes is a page that does not
        // exist: said on a page in Chinese, never as the JSON API's problem document.
        // (The router cannot hold a catch-all beside these routes, so each depth is named.)
        .route("/c/{centre}", get(no_such_page))
        .route("/c/{centre}/{b}", get(no_such_page))
        .route("/c/{centre}/{b}/{c}", get(no_such_page))
        .route("/c/{centre}/{b}/{c}/{d}", get(no_such_page))
        .route("/c/{centre}/{b}/{c}/{d}/{e}", get(no_such_page))
        .route("/accounts/{account}", get(no_such_page))
        .route("/accounts/{account}/{b}", get(no_such_page))
        .route("/accounts/{account}/{b}/{c}", get(no_such_page))
        .route("/dashboard/{a}", get(no_such_page))
        .route("/partners/{partner}/{b}", get(no_such_page))
        .route("/partners/{partner}/{b}/{c}", get(no_such_page))
}

async fn no_such_page() -> Refusal {
    Refusal::not_found()
}

/// The query of a console page. A value that does not fit (a year of "abc") is answered
/// with the console's own error page in Chinese, not axum's English plain text.
pub struct Query<T>(pub T);

impl<T, S> axum::extract::FromRequestParts<S> for Query<T>
where
    T: serde::de::DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = Refusal;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &S,
    ) -> Result<Self, Refusal> {
        axum::extract::Query::<T>::from_request_parts(parts, state)
            .await
            .map(|axum::extract::Query(value)| Query(value))
            .map_err(|_| Refusal::bad_query())
    }
}

/// The console's sections, in the order of the menu, and who may open each. The services
/// check again on every call; this only keeps people away from pages they cannot use.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Section {
    Dashboard,
    Residents,
    Bookings,
    Volunteers,
    Finance,
    Evaluation,
    Board,
    Accounts,
    Partners,
}

impl Section {
    const MENU: [Section; 9] = [
        Section::Dashboard,
        Section::Residents,
        Section::Bookings,
        Section::Volunteers,
        Section::Finance,
        Section::Evaluation,
        Section::Board,
        Section::Accounts,
        Section::Partners,
    ];

    fn roles(self) -> &'static [Role] {
        use Role::*;
        match self {
            Section::Dashboard | Section::Evaluation | Section::Board => &[
                DistrictAdmin,
                CentreManager,
                FrontDesk,
                Coordinator,
                FinanceOfficer,
                Auditor,
            ],
            Section::Residents | Section::Bookings | Section::Volunteers => &[
                DistrictAdmin,
                CentreManager,
                FrontDesk,
                Coordinator,
                Auditor,
            ],
            Section::Finance => &[DistrictAdmin, CentreManager, FinanceOfficer, Auditor],
            Section::Accounts => &[DistrictAdmin, CentreManager],
            Section::Partners => &[DistrictAdmin],
        }
    }

    fn title(self, lang: Lang) -> &'static str {
        match self {
            Section::Dashboard => lang.pick("概览", "Dashboard"),
            Section::Residents => lang.pick("居民", "Residents"),
            Section::Bookings => lang.pick("预约", "Bookings"),
            Section::Volunteers => lang.pick("志愿者", "Volunteers"),
            Section::Finance => lang.pick("财务", "Finance"),
            Section::Evaluation => lang.pick("评估", "Evaluation"),
            Section::Board => lang.pick("理事会", "Board"),
            Section::Accounts => lang.pick("账户", "Accounts"),
            Section::Partners => lang.pick("合作单位", "Partners"),
        }
    }

    /// The section's page under `/c/{centre}/`; none for the accounts, which belong to no
    /// one centre.
    fn path(self) -> Option<&'static str> {
        match self {
            Section::Dashboard => Some("dashboard"),
            Section::Residents => Some("residents"),
            Section::Bookings => Some("bookings"),
            Section::Volunteers => Some("volunteers"),
            Section::Finance => Some("finance"),
            Section::Evaluation => Some("evaluation"),
            Section::Board => Some("board"),
            Section::Accounts | Section::Partners => None,
        }
    }

    /// The section a `to=` names, for the centre chooser and the picker.
    pub fn from_path(path: &str) -> Option<Section> {
        Section::MENU.into_iter().find(|s| s.path() == Some(path))
    }

    /// Where the menu item leads: the section of the centre being worked in; with none
    /// chosen yet (a district admin on the district's pages), the district dashboard, or
    /// for a centre's section the chooser that asks which centre first.
    fn href(self, centre: Option<Uuid>) -> String {
        let Some(path) = self.path() else {
            return match self {
                Section::Partners => "/partners".into(),
                _ => "/accounts".into(),
            };
        };
        match (centre, self) {
            (Some(centre), _) => format!("/c/{centre}/{path}"),
            (None, Section::Dashboard) => "/dashboard".into(),
            (None, _) => format!("/centres?to={path}"),
        }
    }
}

/// What a page could not do, shown as a page of its own (never a crash), in Chinese: the
/// user's language is not known on every path here, and a Chinese page carries no English
/// sentence. `detail`, when set, is already in Chinese; a service's own explanation (in
/// English) is never shown.
#[derive(Debug)]
pub struct Refusal {
    pub status: StatusCode,
    pub detail: String,
}

impl Refusal {
    pub fn forbidden() -> Self {
        Refusal {
            status: StatusCode::FORBIDDEN,
            detail: String::new(),
        }
    }

    pub fn not_found() -> Self {
        Refusal {
            status: StatusCode::NOT_FOUND,
            detail: String::new(),
        }
    }

    pub fn bad_query() -> Self {
        Refusal {
            status: StatusCode::BAD_REQUEST,
            detail: "网址中的参数不正确，请从菜单重新进入此页面。".into(),
        }
    }
}

impl From<tonic::Status> for Refusal {
    fn from(status: tonic::Status) -> Self {
        let code = crate::problem::Problem::from(status).status;
        Refusal {
            status: StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
            detail: String::new(),
        }
    }
}

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        let zh = match self.status {
            StatusCode::FORBIDDEN => "无权访问此页面",
            StatusCode::NOT_FOUND => "找不到此页面",
            StatusCode::UNAUTHORIZED => "请重新登录",
            StatusCode::SERVICE_UNAVAILABLE | StatusCode::GATEWAY_TIMEOUT => {
                "服务暂时不可用，请稍后再试"
            }
            StatusCode::BAD_REQUEST | StatusCode::UNPROCESSABLE_ENTITY | StatusCode::CONFLICT => {
                "请求未被接受"
            }
            _ => "出错了",
        };
        let body = html! {
            (DOCTYPE)
            html lang="zh-CN" {
                head { meta charset="utf-8"; meta name="viewport" content="width=device-width, initial-scale=1";
                    title { (self.status.as_u16()) " · 邻里" } link rel="stylesheet" href="/console.css"; }
                body.refusal {
                    main {
                        h1 { (zh) }
                        p.muted { "错误代码 " (self.status.as_u16()) }
                        @if !self.detail.is_empty() { p.detail { (self.detail) } }
                        p { a href="/dashboard" { "返回概览" } }
                    }
                }
            }
        };
        let mut response = (self.status, Html(body.into_string())).into_response();
        if self.status == StatusCode::SERVICE_UNAVAILABLE {
            response.headers_mut().insert(
                header::RETRY_AFTER,
                axum::http::HeaderValue::from_static(crate::problem::RETRY_UNAVAILABLE_AFTER),
            );
        }
        response
    }
}

pub type Page = Result<Response, Refusal>;

/// A whole page: the menu for what the user may open, the centre picker, the language
/// switch and sign-out, around `content`.
pub fn layout(
    staff: &Staff,
    section: Section,
    centre: Option<&Centre>,
    title: &str,
    content: Markup,
) -> Response {
    let lang = staff.lang;
    let centre_id = centre.and_then(|c| Uuid::parse_str(&c.id).ok());
    let body = html! {
        (DOCTYPE)
        html lang=(lang.html()) {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · " (lang.pick("邻里社区服务", "Linli")) }
                link rel="stylesheet" href="/console.css";
                script src="/console.js" defer {}
            }
            body data-section=(format!("{section:?}").to_lowercase()) {
                a.skip href="#main" { (lang.pick("跳到正文", "Skip to content")) }
                header.top {
                    a.brand href="/dashboard" { "邻里 " span { (lang.pick("社区服务中心工作台", "Staff console")) } }
                    nav aria-label=(lang.pick("主菜单", "Main menu")) {
                        ul {
                            @for s in Section::MENU {
                                @if staff.may(s) {
                                    li { a href=(s.href(centre_id.or(staff.home_centre()))) aria-current=[(s == section).then_some("page")] { (s.title(lang)) } }
                                }
                            }
                        }
                    }
                    div.who {
                        @if staff.centres.len() > 1 && section.path().is_some() {
                            form.picker method="get" action="/dashboard" data-centre-picker data-section=[section.path()] {
                                @if let Some(path) = section.path() { input type="hidden" name="to" value=(path); }
                                label for="centre-picker" { (lang.pick("中心", "Centre")) }
                                select #centre-picker name="centre" {
                                    @if staff.caller.is_district_wide() { option value="" { (lang.pick("全区", "District")) } }
                                    @for c in &staff.centres {
                                        option value=(c.id) selected[centre.is_some_and(|x| x.id == c.id)] { (c.name) }
                                    }
                                }
                                noscript { button type="submit" { (lang.pick("切换", "Go")) } }
                            }
                        } @else if let Some(c) = centre {
                            span.centre { (c.name) }
                        }
                        @if let Some(badge) = &staff.alerts { (alerts::header_link(lang, badge)) }
                        span.user { (staff.display_name) }
                        a.lang href=(format!("/language?to={}", lang.other().code())) lang=(lang.other().html()) { (lang.pick("English", "中文")) }
                        form method="post" action="/sign-out" {
                            input type="hidden" name="csrf" value=(staff.csrf);
                            button.link type="submit" { (lang.pick("退出", "Sign out")) }
                        }
                    }
                }
                main #main {
                    h1 { (title) }
                    (content)
                }
            }
        }
    };
    Html(body.into_string()).into_response()
}

/// A form's field errors, shown beside each field.
#[derive(Default, Debug)]
pub struct FieldErrors(pub Vec<(String, String)>);

impl FieldErrors {
    pub fn push(&mut self, field: &str, message: impl Into<String>) {
        self.0.push((field.to_owned(), message.into()));
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn get(&self, field: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(f, _)| f == field)
            .map(|(_, m)| m.as_str())
    }

    /// Errors for fields no input shows.
    pub fn others<'a>(&'a self, shown: &'a [&str]) -> impl Iterator<Item = &'a str> + 'a {
        self.0
            .iter()
            .filter(move |(f, _)| !shown.contains(&f.as_str()))
            .map(|(_, m)| m.as_str())
    }

    /// A service's refusal: its field violations by field (a bad request's, or the field a
    /// refusal names, such as the resident who may not book), each said by its code in the
    /// user's language, or the whole refusal under `general`.
    pub fn from_status(status: &tonic::Status, lang: Lang) -> Self {
        let mut errors = FieldErrors::default();
        for v in linli_platform::error::violations_of(status) {
            let field = v.field.rsplit('.').next().unwrap_or(&v.field).to_owned();
            errors
                .0
                .push((field, crate::catalogue::field_message(lang, &v)));
        }
        if errors.is_empty() {
            errors.push("general", i18n::refusal(lang, status));
        }
        errors
    }
}

/// Whether a refusal is the user's to fix (shown beside the form) rather than a failure.
pub fn is_refusal(status: &tonic::Status) -> bool {
    matches!(
        status.code(),
        Code::InvalidArgument
            | Code::FailedPrecondition
            | Code::AlreadyExists
            | Code::OutOfRange
            | Code::NotFound
            | Code::Aborted
    )
}

/// A labelled text input with its error beside it.
pub fn field(
    lang: Lang,
    name: &str,
    label: &str,
    kind: &str,
    value: &str,
    errors: &FieldErrors,
    required: bool,
) -> Markup {
    let id = format!("f-{name}");
    let error = errors.get(name);
    let _ = lang;
    html! {
        div.field.invalid[error.is_some()] {
            label for=(id) { (label) @if required { span.req aria-hidden="true" { " *" } } }
            input #(id) type=(kind) name=(name) value=(value) required[required]
                aria-invalid=[error.map(|_| "true")] aria-describedby=[error.map(|_| format!("{id}-error"))];
            @if let Some(message) = error { span.error #(format!("{id}-error")) role="alert" { (message) } }
        }
    }
}

/// A field of a form that is shown only with some of the page's errors (one of several
/// forms on it), never marked required.
pub fn optional_field(
    name: &str,
    label: &str,
    kind: &str,
    value: &str,
    errors: Option<&FieldErrors>,
) -> Markup {
    let none = FieldErrors::default();
    field(
        Lang::Zh,
        name,
        label,
        kind,
        value,
        errors.unwrap_or(&none),
        false,
    )
}

/// An error shown above a form, for what belongs to no one field.
pub fn general_errors(errors: &FieldErrors, shown: &[&str]) -> Markup {
    html! {
        @for message in errors.others(shown) {
            p.error.general role="alert" { (message) }
        }
    }
}

/// The hidden CSRF field every form carries.
pub fn csrf(staff: &Staff) -> Markup {
    html! { input type="hidden" name="csrf" value=(staff.csrf); }
}

pub fn notice(text: &str) -> Markup {
    html! { p.notice role="status" { (text) } }
}

pub use linli_words::terms::money;

pub fn percent(value: f64) -> String {
    format!("{:.1}%", value * 100.0)
}

pub fn zone(centre: &Centre) -> Tz {
    centre
        .time_zone
        .parse()
        .unwrap_or(chrono_tz::Asia::Shanghai)
}

pub fn instant(ts: &Option<prost_types::Timestamp>) -> Option<DateTime<Utc>> {
    ts.as_ref()
        .and_then(|t| DateTime::from_timestamp(t.seconds, t.nanos.max(0) as u32))
}

pub fn timestamp(at: DateTime<Utc>) -> prost_types::Timestamp {
    prost_types::Timestamp {
        seconds: at.timestamp(),
        nanos: 0,
    }
}

/// Today in the centre's zone.
pub fn today(centre: &Centre) -> NaiveDate {
    Utc::now().with_timezone(&zone(centre)).date_naive()
}

/// A date as staff read it: 2026年12月3日（周四） or Thu 3 Dec 2026.
pub fn date(lang: Lang, day: NaiveDate) -> String {
    use chrono::Datelike;
    let weekday = i18n::weekday(lang, day.weekday());
    match lang {
        Lang::Zh => format!(
            "{}年{}月{}日（{weekday}）",
            day.year(),
            day.month(),
            day.day()
        ),
        Lang::En => format!("{weekday} {}", day.format("%-d %b %Y")),
    }
}

/// A time of day in the centre's zone, 24-hour.
pub fn clock(at: DateTime<Utc>, tz: Tz) -> String {
    at.with_timezone(&tz).format("%H:%M").to_string()
}

/// A moment in the centre's zone with its day.
pub fn when(lang: Lang, at: DateTime<Utc>, tz: Tz) -> String {
    let local = at.with_timezone(&tz);
    format!(
        "{} {}",
        date(lang, local.date_naive()),
        local.format("%H:%M")
    )
}

pub fn parse_uuid(text: &str) -> Result<Uuid, Refusal> {
    Uuid::parse_str(text).map_err(|_| Refusal::not_found())
}

/// Raw markup from this crate's own constants (charts are built from numbers only).
pub fn raw(svg: String) -> PreEscaped<String> {
    PreEscaped(svg)
}
