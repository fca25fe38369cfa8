//! 我的信息: a resident's own data on the residents' site (PIPL arts. 44 to 47). The page
//! shows everything Linli holds about the signed-in resident, or a child they act for, in
//! words and dates (no ids); the same copy downloads as a JSON file; each consent can be
//! given or withdrawn; and a form asks the desk for a correction. The data comes from the
//! gateway's one export ([`crate::export::gather`]) through the resident's own token, so
//! every service answers only for the resident and those they act for.

use std::collections::BTreeMap;

use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect};
use axum::routing::{get, post};
use axum::{Form, Router};
use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;
use linli_platform::error::violations_of;
use linli_proto::evaluation::v1 as ev;
use linli_proto::registry::v1 as pb;
use maud::{Markup, html};
use serde::Deserialize;
use serde_json::Value;
use tonic::Code;
use uuid::Uuid;

use super::{Page, Tab, Trouble, Visit, acting_for, centre_of, day, names, page};
use crate::AppState;
use crate::console::i18n::{self, Lang};
use crate::console::{instant, money};
use crate::export::ResidentCopy;

/// Why the resident's own look is made (the services' exports name a purpose).
const PURPOSE: &str = "居民本人在居民服务网站查阅";
/// Longest correction request, as the registry keeps it.
const DETAILS_MAX: usize = 500;

/// The consents a resident gives, in the order the page lists them, with what each means.
const CONSENTS: [(&str, &str, &str); 3] = [
    (
        "service_delivery",
        "使用我的信息为我提供服务",
        "服务中心为您登记、预约和提供服务时使用您的信息。",
    ),
    (
        "activity_contact",
        "接收活动通知",
        "服务中心通过电话或短信告诉您活动和通知。",
    ),
    (
        "partner_sharing",
        "与合作机构共享",
        "与服务中心的合作机构共享您的姓名和年龄段，身份证号和手机号不共享。",
    ),
];

/// The fields a correction may name, as the registry spells them, with their words.
const FIELDS: [(&str, &str); 8] = [
    ("name", "姓名"),
    ("gender", "性别"),
    ("date_of_birth", "出生日期"),
    ("phone", "手机号"),
    ("national_id", "身份证号"),
    ("address", "住址"),
    ("categories", "居民类别"),
    ("other", "其他"),
];

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/r/me", get(mine))
        .route("/r/me/download", get(download))
        .route("/r/me/consents", post(consent))
        .route("/r/me/correction", get(correction_page).post(correct))
}

#[derive(Deserialize)]
struct MineQuery {
    #[serde(rename = "for")]
    who: Option<String>,
    done: Option<String>,
}

/// `?for=` for a child the resident acts for; nothing for themselves.
fn for_query(visit: &Visit, who: Uuid, first: bool) -> String {
    if who == visit.me {
        String::new()
    } else {
        format!("{}for={who}", if first { "?" } else { "&" })
    }
}

async fn copy_of(state: &AppState, visit: &Visit, who: Uuid) -> Result<ResidentCopy, Trouble> {
    crate::export::gather(state, &visit.auth, visit.centre, &who.to_string(), PURPOSE)
        .await
        .map_err(|problem| {
            Trouble(
                StatusCode::from_u16(problem.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
            )
        })
}

fn text(value: &Value) -> &str {
    value.as_str().unwrap_or_default()
}

fn shown(value: &Value) -> String {
    match text(value) {
        "" => "未登记".into(),
        said => said.to_owned(),
    }
}

/// A date as a resident writes it, without the weekday: 1950年3月2日.
fn plain_date(day: NaiveDate) -> String {
    use chrono::Datelike;
    format!("{}年{}月{}日", day.year(), day.month(), day.day())
}

fn birth(value: &Value) -> String {
    NaiveDate::parse_from_str(text(value), "%Y-%m-%d")
        .map(plain_date)
        .unwrap_or_else(|_| "未登记".into())
}

fn address(resident: &Value) -> String {
    let parts: Vec<String> = [
        (text(&resident["building"]), "号楼"),
        (text(&resident["unit"]), "单元"),
        (text(&resident["room"]), "室"),
    ]
    .iter()
    .filter(|(part, _)| !part.is_empty())
    .map(|(part, unit)| {
        if part.chars().all(|c| c.is_ascii_digit()) {
            format!("{part}{unit}")
        } else {
            (*part).to_owned()
        }
    })
    .collect();
    if parts.is_empty() {
        "未登记".into()
    } else {
        parts.join(" ")
    }
}

/// When something was recorded, shortly: 今天, 昨天, or the date.
pub(super) fn since(at: Option<DateTime<Utc>>, zone: Tz) -> String {
    let Some(at) = at else {
        return String::new();
    };
    let local = at.with_timezone(&zone).date_naive();
    let today = Utc::now().with_timezone(&zone).date_naive();
    match (today - local).num_days() {
        0 => "今天".into(),
        1 => "昨天".into(),
        _ => plain_date(local),
    }
}

fn field_words(field: &str) -> &str {
    FIELDS
        .iter()
        .find(|(f, _)| *f == field)
        .map(|(_, words)| *words)
        .unwrap_or("其他")
}

fn survey_title(copy: &ResidentCopy, template: &str) -> String {
    copy.evaluation
        .templates
        .iter()
        .find(|t| t.id == template)
        .map(|t| t.title.clone())
        .unwrap_or_else(|| "问卷".into())
}

/// The registry's part: the record as staff without a desk's role see it (ID and phone
/// masked), and the health note said to be held, not shown.
fn record_part(copy: &ResidentCopy) -> Markup {
    let r = &copy.registry["resident"];
    let gender = match text(&r["gender"]) {
        "male" => "男",
        _ => "女",
    };
    let categories: Vec<String> = r["categories"]
        .as_array()
        .map(|list| list.iter().map(|c| i18n::term(Lang::Zh, text(c))).collect())
        .unwrap_or_default();
    html! {
        section #record aria-labelledby="record-h" {
            h2 #record-h { "登记信息" }
            dl.facts {
                dt { "姓名" } dd { (text(&r["name"])) }
                dt { "性别" } dd { (gender) }
                dt { "出生日期" } dd { (birth(&r["date_of_birth"])) }
                dt { "手机号" } dd { (shown(&r["phone"])) }
                dt { "身份证号" } dd { (shown(&r["national_id"])) }
                dt { "住址" } dd { (address(r)) }
                dt { "居民类别" } dd { (if categories.is_empty() { "无".into() } else { categories.join("、") }) }
                dt { "健康备注" } dd {
                    (if r["health_note_held"].as_bool() == Some(true) { "已登记（请到服务中心查看）" } else { "无" })
                }
            }
            p.small { "为保护您的信息，手机号和身份证号只显示一部分。" }
        }
    }
}

fn consents_part(
    visit: &Visit,
    who: Uuid,
    consents: &pb::Consents,
    zone: Tz,
    done: bool,
    child: bool,
) -> Markup {
    html! {
        section #consents aria-labelledby="consents-h" {
            h2 #consents-h { "我的同意" }
            @if done { p.notice role="status" { "已记录您的选择。" } }
            ul.cards {
                @for (purpose, title, meaning) in CONSENTS {
                    @let now = consents.consents.iter().find(|c| c.purpose == purpose);
                    @let granted = now.is_some_and(|c| c.granted);
                    li.card.consent {
                        span.name { (title) }
                        span.meaning { (meaning) }
                        span.state {
                            @match now {
                                Some(c) if c.granted => { "已同意 · " (since(instant(&c.recorded_at), zone)) }
                                Some(c) => { "已撤回 · " (since(instant(&c.recorded_at), zone)) }
                                None => { "未同意" }
                            }
                        }
                        form method="post" action="/r/me/consents" {
                            input type="hidden" name="purpose" value=(purpose);
                            input type="hidden" name="for" value=(who);
                            input type="hidden" name="granted" value=(if granted { "0" } else { "1" });
                            @if granted {
                                button.secondary type="submit" { "撤回同意" }
                            } @else {
                                button.primary type="submit" { "同意" }
                            }
                        }
                    }
                }
            }
            @if who != visit.me {
                p.small { (if child { "您作为监护人，为孩子同意或撤回。" } else { "您受家人委托，代家人同意或撤回。" }) }
            }
        }
    }
}

fn activity_part(copy: &ResidentCopy, suggestions: &[ev::Suggestion], zone: Tz) -> Markup {
    let offering = |id: &str| {
        copy.bookings
            .offerings
            .iter()
            .find(|o| o.id == id)
            .map(|o| o.name.clone())
            .unwrap_or_default()
    };
    let v = &copy.volunteers;
    let verified: i32 = v
        .hour_entries
        .iter()
        .filter(|h| h.status == "verified")
        .map(|h| h.minutes)
        .sum();
    html! {
        section #bookings aria-labelledby="bookings-h" {
            h2 #bookings-h { "预约和候补" }
            @if copy.bookings.bookings.is_empty() {
                p.empty { "没有预约记录。" }
            } @else {
                ul.cards {
                    @for b in &copy.bookings.bookings {
                        li.card.booking {
                            span.name { (offering(&b.offering_id)) }
                            @let start = b.seats.first().and_then(|s| instant(&s.starts_at)).or_else(|| instant(&b.starts_at));
                            @if let Some(start) = start { span.when { (day(start, zone)) " " (start.with_timezone(&zone).format("%H:%M")) } }
                            span.state { (super::booking_state(b)) }
                        }
                    }
                }
            }
        }
        section #surveys aria-labelledby="surveys-h" {
            h2 #surveys-h { "问卷" }
            @if copy.evaluation.invitations.is_empty() {
                p.empty { "没有问卷记录。" }
            } @else {
                ul.cards {
                    @for i in &copy.evaluation.invitations {
                        li.card.booking {
                            span.name { (survey_title(copy, &i.template_id)) }
                            span.state {
                                @if i.answered { "已填写 · " (since(instant(&i.answered_at), zone)) } @else { "待填写" }
                            }
                        }
                    }
                }
            }
        }
        section #suggestions aria-labelledby="suggestions-h" {
            h2 #suggestions-h { "意见和建议" }
            @if suggestions.is_empty() {
                p.empty { "没有提过建议。" }
            } @else {
                ul.cards {
                    @for s in suggestions {
                        li.card.suggestion {
                            p.label {
                                span.state { (super::notices::status_words(&s.status)) }
                                @if s.resident_id.is_empty() { span.kind { "匿名" } }
                            }
                            p.body { (s.text) }
                            @if !s.reply.is_empty() { p.reply { strong { "中心答复：" } (s.reply) } }
                        }
                    }
                }
            }
        }
        section #volunteer aria-labelledby="volunteer-h" {
            h2 #volunteer-h { "志愿服务" }
            @if let Some(volunteer) = &v.volunteer {
                dl.facts {
                    dt { "登记状态" } dd { (match volunteer.status.as_str() { "active" => "在册", "paused" => "暂停", _ => "已离开" }) }
                    dt { "已确认时长" } dd { (verified / 60) " 小时 " (verified % 60) " 分钟" }
                    dt { "报名班次" } dd { (v.assignments.len()) " 次" }
                }
            } @else {
                p.empty { "没有登记为志愿者。" }
            }
        }
        @if !copy.finance.donations.is_empty() {
            section #donations aria-labelledby="donations-h" {
                h2 #donations-h { "捐赠" }
                ul.cards {
                    @for d in &copy.finance.donations {
                        li.card.booking {
                            span.name { (money(d.amount_minor)) }
                            span.when { (NaiveDate::parse_from_str(&d.received_on, "%Y-%m-%d").map(plain_date).unwrap_or_default()) }
                        }
                    }
                }
            }
        }
    }
}

fn corrections_part(copy: &ResidentCopy) -> Markup {
    let asked = copy.registry["correction_requests"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    html! {
        @if !asked.is_empty() {
            section #corrections aria-labelledby="corrections-h" {
                h2 #corrections-h { "更正申请" }
                ul.cards {
                    @for c in &asked {
                        li.card.suggestion {
                            p.label {
                                span.state { (match text(&c["status"]) { "done" => "已处理", "declined" => "未予更正", _ => "待处理" }) }
                                span.kind {
                                    (c["fields"].as_array().map(|f| f.iter().map(|f| field_words(text(f))).collect::<Vec<_>>().join("、")).unwrap_or_default())
                                }
                            }
                            p.body { (text(&c["details"])) }
                            @if !text(&c["decline_reason"]).is_empty() { p.reply { "原因：" (text(&c["decline_reason"])) } }
                        }
                    }
                }
            }
        }
    }
}

async fn mine(
    State(state): State<AppState>,
    visit: Visit,
    axum::extract::Query(q): axum::extract::Query<MineQuery>,
) -> Page {
    let who = acting_for(&visit, q.who.as_deref());
    let centre = centre_of(&state, &visit).await?;
    let people = names(&state, &visit).await?;
    let copy = copy_of(&state, &visit, who).await?;
    let consents = state
        .registry
        .clone()
        .get_consents(visit.auth.grpc(pb::GetConsentsRequest {
            centre_id: visit.centre.to_string(),
            resident_id: who.to_string(),
        }))
        .await?
        .into_inner();
    // Their own suggestions, anonymous ones too (a child has none of their own here).
    let suggestions = if who == visit.me {
        let mut own = state
            .evaluation
            .clone()
            .list_suggestions(visit.auth.grpc(ev::ListSuggestionsRequest {
                centre_id: visit.centre.to_string(),
                page_size: 200,
                ..Default::default()
            }))
            .await?
            .into_inner()
            .suggestions;
        own.reverse();
        own
    } else {
        copy.evaluation.suggestions.clone()
    };
    let zone = centre.zone;
    let done = match q.done.as_deref() {
        Some("correction") => {
            Some("已收到您的更正申请。服务中心工作人员核实后会为您修改，必要时会联系您。")
        }
        _ => None,
    };
    let title = if who == visit.me {
        "我的信息".to_owned()
    } else {
        let name = people
            .iter()
            .find(|(id, _)| *id == who)
            .map(|(_, name)| name.as_str())
            .unwrap_or_default();
        format!("{name}的信息")
    };
    let more = for_query(&visit, who, true);
    // Someone acted for is a child by guardianship, or an adult who named this resident.
    let child = NaiveDate::parse_from_str(
        text(&copy.registry["resident"]["date_of_birth"]),
        "%Y-%m-%d",
    )
    .is_ok_and(|born| {
        let today = Utc::now().with_timezone(&zone).date_naive();
        born.checked_add_months(chrono::Months::new(14 * 12))
            .is_some_and(|fourteen| fourteen > today)
    });
    Ok(page(
        visit.large,
        &title,
        Some(Tab::Me),
        html! {
            @if let Some(done) = done { p.notice role="status" { (done) } }
            (super::who_picker_named(&people, who, "查看谁的信息", |id| {
                if id == visit.me { "/r/me".to_owned() } else { format!("/r/me?for={id}") }
            }))
            p.lead { "这里是服务中心保存的关于" (if who == visit.me { "您" } else { title.trim_end_matches("的信息") }) "的全部信息。" }
            nav.actions aria-label="我的信息" {
                a.button.primary href=(format!("/r/me/download{more}")) download { "下载全部信息" }
                a.button.secondary href=(format!("/r/me/correction{more}")) { "信息有误，申请更正" }
                a.button.secondary href="/r/surveys" { "填写问卷" }
                @if who == visit.me { a.button.secondary href="/r/me/family" { "家人代办" } }
            }
            (record_part(&copy))
            (consents_part(&visit, who, &consents, zone, q.done.as_deref() == Some("consent"), child))
            (activity_part(&copy, &suggestions, zone))
            (corrections_part(&copy))
        },
    )
    .into_response())
}

/// The same copy as one JSON file, to keep or hand on.
async fn download(
    State(state): State<AppState>,
    visit: Visit,
    axum::extract::Query(q): axum::extract::Query<MineQuery>,
) -> Page {
    let who = acting_for(&visit, q.who.as_deref());
    let copy = copy_of(&state, &visit, who).await?;
    let today = Utc::now().format("%Y-%m-%d");
    let disposition = format!(
        "attachment; filename=\"linli-my-data-{today}.json\"; filename*=UTF-8''%E6%88%91%E7%9A%84%E4%BF%A1%E6%81%AF-{today}.json"
    );
    let body = serde_json::to_string_pretty(&copy.document()).unwrap_or_default();
    Ok((
        [
            (
                header::CONTENT_TYPE,
                "application/json; charset=utf-8".to_owned(),
            ),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        body,
    )
        .into_response())
}

#[derive(Deserialize)]
struct ConsentForm {
    purpose: String,
    granted: String,
    #[serde(rename = "for")]
    who: String,
}

async fn consent(
    State(state): State<AppState>,
    visit: Visit,
    Form(form): Form<ConsentForm>,
) -> Page {
    let who = Uuid::parse_str(&form.who)
        .ok()
        .filter(|id| visit.people().contains(id))
        .ok_or(Trouble(StatusCode::FORBIDDEN))?;
    state
        .registry
        .clone()
        .record_consent(visit.auth.grpc(pb::RecordConsentRequest {
            centre_id: visit.centre.to_string(),
            resident_id: who.to_string(),
            purpose: form.purpose,
            granted: form.granted == "1",
            // The registry sets the source and the guardian for a resident's token.
            ..Default::default()
        }))
        .await?;
    let more = for_query(&visit, who, false);
    Ok(Redirect::to(&format!("/r/me?done=consent{more}#consents")).into_response())
}

#[derive(Deserialize)]
struct CorrectionQuery {
    #[serde(rename = "for")]
    who: Option<String>,
}

/// What was typed on the correction form, kept through a refusal.
#[derive(Default)]
struct Correction {
    fields: Vec<String>,
    details: String,
}

async fn correction_view(
    state: &AppState,
    visit: &Visit,
    who: Uuid,
    typed: &Correction,
    errors: &BTreeMap<&str, String>,
) -> Page {
    let people = names(state, visit).await?;
    let name = people
        .iter()
        .find(|(id, _)| *id == who)
        .map(|(_, name)| name.clone())
        .unwrap_or_default();
    let fields_error = errors.get("fields");
    let details_error = errors.get("details");
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let body = page(
        visit.large,
        "申请更正信息",
        Some(Tab::Me),
        html! {
            p.lead { "为 " strong { (name) } " 申请更正。请选出不对的项目，并写下正确的内容。工作人员核实后为您修改。" }
            form method="post" action="/r/me/correction" novalidate {
                input type="hidden" name="for" value=(who);
                fieldset.field.choices.invalid[fields_error.is_some()]
                    aria-describedby=[fields_error.map(|_| "fields-error")] {
                    legend { "哪一项不对？（可以选多项）" }
                    @if let Some(error) = fields_error {
                        p.error #fields-error role="alert" { (error) }
                    }
                    @for (field, words) in FIELDS {
                        label.choice {
                            input type="checkbox" name="fields" value=(field) checked[typed.fields.iter().any(|f| f == field)];
                            span { (words) }
                        }
                    }
                }
                div.field.invalid[details_error.is_some()] {
                    label for="details" { "应当改成什么？" }
                    textarea #details name="details" rows="5" maxlength="600"
                        aria-invalid=[details_error.map(|_| "true")]
                        aria-describedby=[details_error.map(|_| "details-error")] { (typed.details) }
                    @if let Some(error) = details_error {
                        p.error #details-error role="alert" { (error) }
                    }
                    p.small { "例如：“手机号应为 139 开头的新号码”。最多 " (DETAILS_MAX) " 个字。" }
                }
                button.primary type="submit" { "提交更正申请" }
            }
            a.button.secondary href=(if who == visit.me { "/r/me".to_owned() } else { format!("/r/me?for={who}") }) { "返回我的信息" }
        },
    );
    Ok((status, body).into_response())
}

async fn correction_page(
    State(state): State<AppState>,
    visit: Visit,
    axum::extract::Query(q): axum::extract::Query<CorrectionQuery>,
) -> Page {
    let who = acting_for(&visit, q.who.as_deref());
    correction_view(
        &state,
        &visit,
        who,
        &Correction::default(),
        &BTreeMap::new(),
    )
    .await
}

async fn correct(
    State(state): State<AppState>,
    visit: Visit,
    Form(form): Form<Vec<(String, String)>>,
) -> Page {
    let mut typed = Correction::default();
    let mut named = String::new();
    for (key, value) in form {
        match key.as_str() {
            "fields" => typed.fields.push(value),
            "details" => typed.details = value,
            "for" => named = value,
            _ => {}
        }
    }
    let who = Uuid::parse_str(&named)
        .ok()
        .filter(|id| visit.people().contains(id))
        .ok_or(Trouble(StatusCode::FORBIDDEN))?;
    // Said before the registry is asked, in the resident's words; it refuses the same.
    let mut errors = BTreeMap::new();
    if typed.fields.is_empty() {
        errors.insert("fields", "请选出哪一项不对".to_owned());
    }
    let length = typed.details.trim().chars().count();
    if length == 0 {
        errors.insert("details", "请写下正确的内容".to_owned());
    } else if length > DETAILS_MAX {
        errors.insert(
            "details",
            format!("最多 {DETAILS_MAX} 个字，现在有 {length} 个字，请删减一些"),
        );
    }
    if !errors.is_empty() {
        return correction_view(&state, &visit, who, &typed, &errors).await;
    }
    let asked = state
        .registry
        .clone()
        .request_correction(visit.auth.grpc(pb::RequestCorrectionRequest {
            centre_id: visit.centre.to_string(),
            resident_id: who.to_string(),
            fields: typed.fields.clone(),
            details: typed.details.clone(),
        }))
        .await;
    match asked {
        Ok(_) => {
            let more = for_query(&visit, who, false);
            Ok(Redirect::to(&format!("/r/me?done=correction{more}")).into_response())
        }
        Err(status) if status.code() == Code::InvalidArgument => {
            for violation in violations_of(&status) {
                let field = if violation.field == "fields" {
                    "fields"
                } else {
                    "details"
                };
                errors.insert(field, crate::catalogue::field_message(Lang::Zh, &violation));
            }
            if errors.is_empty() {
                errors.insert("details", i18n::refusal(Lang::Zh, &status));
            }
            correction_view(&state, &visit, who, &typed, &errors).await
        }
        Err(status) => Err(Trouble::from(status)),
    }
}
