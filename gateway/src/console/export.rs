//! A resident's copy of everything Linli holds about them, as the desk hands it over: one
//! page in the user's language (names, dates, amounts and statuses as people read them;
//! no ids or codes) and the same copy as a JSON file. Both come from the gateway's one
//! export ([`crate::export`]), which asks every service and logs the read with its purpose.

use std::collections::HashMap;

use super::Query;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;
use linli_platform::auth::RESIDENT_EXPORTERS;
use linli_proto::bookings::v1 as bookings;
use linli_proto::registry::v1::Centre;
use maud::{Markup, html};
use serde::Deserialize;
use serde_json::Value;

use super::{FieldErrors, Lang, Page, Refusal, Section, Staff, date, i18n, instant, money, when};
use crate::AppState;
use crate::export::ResidentCopy;

#[derive(Deserialize, Default)]
pub struct PurposeQuery {
    #[serde(default)]
    purpose: String,
}

/// Whether the user's role may hand a resident their copy.
pub fn may_export(staff: &Staff) -> bool {
    staff
        .caller
        .roles
        .iter()
        .any(|role| RESIDENT_EXPORTERS.contains(role))
}

/// The form that asks why the copy is made (the registry logs it with the read).
pub fn purpose_form(lang: Lang, centre: &str, resident: &str, errors: &FieldErrors) -> Markup {
    let error = errors.get("purpose");
    html! {
        form.inline #export method="get" action=(format!("/c/{centre}/residents/{resident}/copy")) novalidate {
            div.field.invalid[error.is_some()] {
                label for="purpose" { (lang.pick("导出原因（记入查阅记录）", "Why (kept in the access log)")) }
                input #purpose type="text" name="purpose" placeholder=(lang.pick("如：居民本人申请", "e.g. the resident's request"))
                    aria-invalid=[error.map(|_| "true")];
                @if let Some(e) = error { span.error role="alert" { (e) } }
            }
            button type="submit" { (lang.pick("查看个人信息副本", "Show the resident's copy")) }
        }
    }
}

/// The copy as a page.
pub async fn page(
    State(state): State<AppState>,
    staff: Staff,
    Path((centre, resident)): Path<(String, String)>,
    Query(query): Query<PurposeQuery>,
) -> Page {
    let centre = staff.centre(Section::Residents, &centre)?;
    if !may_export(&staff) {
        return Err(Refusal::forbidden());
    }
    let lang = staff.lang;
    let title = lang.pick("个人信息副本", "Copy of personal data");
    let ask = |errors: FieldErrors| {
        let mut response = super::layout(
            &staff,
            Section::Residents,
            Some(&centre),
            &format!("{} · {title}", centre.name),
            purpose_form(lang, &centre.id, &resident, &errors),
        );
        if !errors.is_empty() {
            *response.status_mut() = StatusCode::BAD_REQUEST;
        }
        response
    };
    if query.purpose.trim().is_empty() {
        return Ok(ask(FieldErrors::default()));
    }
    let centre_id = super::parse_uuid(&centre.id)?;
    match crate::export::gather(&state, &staff.auth, centre_id, &resident, &query.purpose).await {
        Ok(copy) => {
            let name = copy.registry["resident"]["name"]
                .as_str()
                .unwrap_or_default()
                .to_owned();
            let content = render(lang, &centre, &resident, &query.purpose, &copy);
            Ok(super::layout(
                &staff,
                Section::Residents,
                Some(&centre),
                &format!("{name} · {title}"),
                content,
            ))
        }
        Err(problem) if problem.status == StatusCode::BAD_REQUEST.as_u16() => {
            let mut errors = FieldErrors::default();
            for e in &problem.errors {
                errors.push(&e.field, i18n::reason(lang, &e.reason));
            }
            if errors.is_empty() {
                errors.push("purpose", lang.pick("请填写导出原因", "Say why"));
            }
            Ok(ask(errors))
        }
        Err(problem) => Err(Refusal {
            status: StatusCode::from_u16(problem.status)
                .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
            detail: String::new(),
        }),
    }
}

/// The same copy as the JSON document the API gives, to hand over as a file.
pub async fn file(
    State(state): State<AppState>,
    staff: Staff,
    Path((centre, resident)): Path<(String, String)>,
    Query(query): Query<PurposeQuery>,
) -> Page {
    let centre = staff.centre(Section::Residents, &centre)?;
    if !may_export(&staff) {
        return Err(Refusal::forbidden());
    }
    let centre_id = super::parse_uuid(&centre.id)?;
    let copy = crate::export::gather(&state, &staff.auth, centre_id, &resident, &query.purpose)
        .await
        .map_err(|problem| Refusal {
            status: StatusCode::from_u16(problem.status)
                .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
            detail: String::new(),
        })?;
    let disposition = format!("attachment; filename=\"resident-{resident}.json\"");
    Ok((
        [
            (header::CONTENT_TYPE, "application/json".to_owned()),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        copy.document().to_string(),
    )
        .into_response())
}

fn text(value: &Value) -> &str {
    value.as_str().unwrap_or_default()
}

fn day(lang: Lang, text: &str) -> String {
    NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .map(|d| date(lang, d))
        .unwrap_or_else(|_| "—".into())
}

fn moment(lang: Lang, at: Option<DateTime<Utc>>, tz: Tz) -> String {
    at.map(|at| when(lang, at, tz))
        .unwrap_or_else(|| "—".into())
}

fn rfc3339(text: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(text)
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

/// 2小时30分钟 / 2 h 30 min.
fn duration(lang: Lang, minutes: i64) -> String {
    let (h, m) = (minutes / 60, minutes % 60);
    match (lang, h, m) {
        (Lang::Zh, 0, m) => format!("{m}分钟"),
        (Lang::Zh, h, 0) => format!("{h}小时"),
        (Lang::Zh, h, m) => format!("{h}小时{m}分钟"),
        (Lang::En, 0, m) => format!("{m} min"),
        (Lang::En, h, 0) => format!("{h} h"),
        (Lang::En, h, m) => format!("{h} h {m} min"),
    }
}

fn yes_no(lang: Lang, yes: bool) -> &'static str {
    if yes {
        lang.pick("是", "yes")
    } else {
        lang.pick("否", "no")
    }
}

/// What the registry's access log says a read was for: an export's purpose comes with the
/// registry's own prefix, said here in the user's words.
fn read_purpose(lang: Lang, purpose: &str) -> String {
    match purpose.strip_prefix("export: ") {
        Some(why) => format!("{}{why}", lang.pick("导出副本：", "Copy: ")),
        None => purpose.to_owned(),
    }
}

fn booking_status(lang: Lang, status: i32) -> String {
    let code = match bookings::BookingStatus::try_from(status) {
        Ok(bookings::BookingStatus::Confirmed) => "confirmed",
        Ok(bookings::BookingStatus::Waitlisted) => "waitlisted",
        Ok(bookings::BookingStatus::Cancelled) => "cancelled",
        Ok(bookings::BookingStatus::Attended) => "attended",
        Ok(bookings::BookingStatus::NoShow) => "no_show",
        _ => return "—".into(),
    };
    i18n::term(lang, code)
}

fn cancel_reason(lang: Lang, reason: &str) -> String {
    let (zh, en) = match reason {
        "" => return String::new(),
        "resident" => ("居民取消", "cancelled by the resident"),
        "moved_out" => ("居民迁出", "the resident moved out"),
        "deceased" => ("居民去世", "the resident died"),
        "erased" => ("个人信息已删除", "personal data erased"),
        "session_cancelled" => ("活动取消", "the session was cancelled"),
        "waitlist_closed" => ("候补截止", "the waitlist closed"),
        _ => ("其他原因", "other"),
    };
    lang.pick(zh, en).to_owned()
}

fn donation_purpose(lang: Lang, purpose: &str) -> String {
    match purpose {
        "" | "general" => lang.pick("一般用途", "general").to_owned(),
        other => other.to_owned(),
    }
}

fn render(
    lang: Lang,
    centre: &Centre,
    resident: &str,
    purpose: &str,
    copy: &ResidentCopy,
) -> Markup {
    let tz = super::zone(centre);
    html! {
        p.notice role="status" {
            (lang.pick("以下是本中心保存的该居民全部个人信息，已记入查阅记录。", "Everything the centre holds about this resident; this read is logged."))
            " "
            a href=(format!("/c/{}/residents/{resident}/copy.json?purpose={}", centre.id, super::residents::urlencode(purpose))) {
                (lang.pick("下载数据文件", "Download the data file"))
            }
        }
        (registry_part(lang, tz, &copy.registry))
        (bookings_part(lang, tz, &copy.bookings))
        (volunteers_part(lang, tz, &copy.volunteers))
        (finance_part(lang, &copy.finance))
        (evaluation_part(lang, tz, &copy.evaluation))
    }
}

fn registry_part(lang: Lang, tz: Tz, document: &Value) -> Markup {
    let r = &document["resident"];
    let empty = Vec::new();
    let list = |key: &str| document[key].as_array().unwrap_or(&empty).clone();
    let address = super::residents::address_of(
        lang,
        text(&r["building"]),
        text(&r["unit"]),
        text(&r["room"]),
    );
    let address = if address.is_empty() {
        "—".to_owned()
    } else {
        address
    };
    let registered = r["registered_at"]
        .as_i64()
        .and_then(|s| DateTime::from_timestamp(s, 0));
    html! {
        section #copy-resident {
            h2 { (lang.pick("基本信息", "Personal details")) }
            dl.facts {
                dt { (lang.pick("姓名", "Name")) } dd { (text(&r["name"])) }
                dt { (lang.pick("性别", "Gender")) } dd { (i18n::term(lang, text(&r["gender"]))) }
                dt { (lang.pick("出生日期", "Date of birth")) } dd { (day(lang, text(&r["date_of_birth"]))) }
                dt { (lang.pick("手机", "Phone")) } dd { (r["phone"].as_str().unwrap_or("—")) }
                dt { (lang.pick("身份证号", "National ID")) } dd { (r["national_id"].as_str().unwrap_or("—")) }
                dt { (lang.pick("住址", "Address")) } dd { (address) }
                dt { (lang.pick("类别", "Categories")) } dd {
                    @for c in r["categories"].as_array().unwrap_or(&empty) { span.tag { (i18n::term(lang, text(c))) } }
                }
                dt { (lang.pick("状态", "Status")) } dd { (i18n::term(lang, text(&r["status"]))) }
                @if let Some(skills) = r["skills"].as_array().filter(|s| !s.is_empty()) {
                    dt { (lang.pick("特长", "Skills")) } dd { @for s in skills { span.tag { (text(&s["name"])) } } }
                }
                dt { (lang.pick("健康备注", "Health note")) } dd { (r["health_note"].as_str().unwrap_or("—")) }
                dt { (lang.pick("登记时间", "Registered")) } dd { (moment(lang, registered, tz)) }
            }
        }
        section #copy-consents {
            h2 { (lang.pick("个人信息使用同意", "Consents")) }
            table {
                thead { tr { th { (lang.pick("用途", "Purpose")) } th { (lang.pick("决定", "Decision")) } th { (lang.pick("方式", "How")) } th { (lang.pick("记录人", "Recorded by")) } th { (lang.pick("时间", "When")) } } }
                tbody {
                    @for c in list("consents") {
                        tr {
                            td { (i18n::term(lang, text(&c["purpose"]))) }
                            td { (if c["granted"].as_bool().unwrap_or(false) { lang.pick("同意", "granted") } else { lang.pick("撤回", "withdrawn") }) }
                            td { (i18n::term(lang, text(&c["source"]))) }
                            td { (text(&c["recorded_by"])) }
                            td { (moment(lang, rfc3339(text(&c["recorded_at"])), tz)) }
                        }
                    }
                    @if list("consents").is_empty() { tr { td colspan="5" { (lang.pick("无。", "None.")) } } }
                }
            }
        }
        section #copy-reads {
            h2 { (lang.pick("身份证号查阅记录", "Reads of the national ID")) }
            table {
                thead { tr { th { (lang.pick("查阅人", "Read by")) } th { (lang.pick("原因", "Purpose")) } th { (lang.pick("时间", "When")) } } }
                tbody {
                    @for read in list("national_id_reads") {
                        tr {
                            td { (text(&read["reader"])) }
                            td { (read_purpose(lang, text(&read["purpose"]))) }
                            td { (moment(lang, rfc3339(text(&read["read_at"])), tz)) }
                        }
                    }
                }
            }
        }
    }
}

fn bookings_part(lang: Lang, tz: Tz, part: &bookings::ResidentExport) -> Markup {
    let offerings: HashMap<&str, &str> = part
        .offerings
        .iter()
        .map(|o| (o.id.as_str(), o.name.as_str()))
        .collect();
    html! {
        section #copy-bookings {
            h2 { (lang.pick("预约与签到", "Bookings and attendance")) }
            table {
                thead { tr {
                    th { (lang.pick("服务", "Service")) }
                    th { (lang.pick("时间与签到", "When, and attendance")) }
                    th { (lang.pick("状态", "Status")) }
                    th { (lang.pick("费用", "Fee")) }
                    th { (lang.pick("备注", "Note")) }
                } }
                tbody {
                    @for b in &part.bookings {
                        tr {
                            td { (offerings.get(b.offering_id.as_str()).copied().unwrap_or("—")) }
                            td {
                                @if b.seats.is_empty() {
                                    (moment(lang, instant(&b.starts_at), tz))
                                }
                                @for s in &b.seats {
                                    div { (moment(lang, instant(&s.starts_at), tz)) " · " (i18n::term(lang, &s.state)) }
                                }
                            }
                            td {
                                (booking_status(lang, b.status))
                                @if !b.cancel_reason.is_empty() { "（" (cancel_reason(lang, &b.cancel_reason)) "）" }
                            }
                            td.num { @if b.fee_minor > 0 { (money(b.fee_minor)) } @else { (lang.pick("免费", "free")) } }
                            td { (b.note) }
                        }
                    }
                    @if part.bookings.is_empty() { tr { td colspan="5" { (lang.pick("无。", "None.")) } } }
                }
            }
        }
    }
}

fn volunteers_part(
    lang: Lang,
    tz: Tz,
    part: &linli_proto::volunteers::v1::ResidentExport,
) -> Markup {
    let shifts: HashMap<&str, &linli_proto::volunteers::v1::Shift> =
        part.shifts.iter().map(|s| (s.id.as_str(), s)).collect();
    let opportunities: HashMap<&str, &str> = part
        .opportunities
        .iter()
        .map(|o| (o.id.as_str(), o.title.as_str()))
        .collect();
    let courses: HashMap<&str, &str> = part
        .courses
        .iter()
        .map(|c| (c.id.as_str(), c.title.as_str()))
        .collect();
    html! {
        section #copy-volunteering {
            h2 { (lang.pick("志愿服务", "Volunteering")) }
            @match &part.volunteer {
                None => p { (lang.pick("未登记为志愿者。", "Not registered as a volunteer.")) }
                Some(v) => {
                    dl.facts {
                        dt { (lang.pick("称呼", "Called")) } dd { @if v.display_name.is_empty() { "—" } @else { (v.display_name) } }
                        dt { (lang.pick("状态", "Status")) } dd { (i18n::term(lang, &v.status)) }
                        dt { (lang.pick("登记时间", "Registered")) } dd { (moment(lang, instant(&v.registered_at), tz)) }
                        dt { (lang.pick("已核实服务时长", "Verified hours")) } dd { (duration(lang, v.verified_minutes)) }
                        dt { (lang.pick("背景审查", "Background check")) } dd { (yes_no(lang, v.background_checked)) }
                        @if part.guardian_consent_at.is_some() {
                            dt { (lang.pick("监护人同意", "Guardian's consent")) } dd { (moment(lang, instant(&part.guardian_consent_at), tz)) }
                        }
                        @if !v.skills.is_empty() {
                            dt { (lang.pick("技能", "Skills")) } dd { @for s in &v.skills { span.tag { (i18n::term(lang, s)) } } }
                        }
                    }
                    h3 { (lang.pick("服务岗位", "Shifts")) }
                    table {
                        thead { tr { th { (lang.pick("岗位", "Opportunity")) } th { (lang.pick("时间", "When")) } th { (lang.pick("地点", "Where")) } th { (lang.pick("状态", "Status")) } th { (lang.pick("核实时长", "Verified")) } } }
                        tbody {
                            @for a in &part.assignments {
                                @let shift = shifts.get(a.shift_id.as_str());
                                tr {
                                    td { (shift.and_then(|s| opportunities.get(s.opportunity_id.as_str())).copied().unwrap_or("—")) }
                                    td { (moment(lang, shift.and_then(|s| instant(&s.starts_at)), tz)) }
                                    td { (shift.map(|s| s.location.as_str()).unwrap_or_default()) }
                                    td { (i18n::term(lang, &a.status)) }
                                    td.num { (duration(lang, i64::from(a.verified_minutes))) }
                                }
                            }
                            @if part.assignments.is_empty() { tr { td colspan="5" { (lang.pick("无。", "None.")) } } }
                        }
                    }
                    h3 { (lang.pick("服务时长记录", "Hours")) }
                    table {
                        thead { tr { th { (lang.pick("日期", "Day")) } th { (lang.pick("时长", "Time")) } th { (lang.pick("来源", "Source")) } th { (lang.pick("状态", "Status")) } th { (lang.pick("备注", "Note")) } } }
                        tbody {
                            @for h in &part.hour_entries {
                                tr {
                                    td { (day(lang, &h.worked_on)) }
                                    td.num { (duration(lang, i64::from(h.minutes))) }
                                    td { (i18n::term(lang, &h.source)) }
                                    td { (i18n::term(lang, &h.status)) }
                                    td { (h.note) }
                                }
                            }
                            @if part.hour_entries.is_empty() { tr { td colspan="5" { (lang.pick("无。", "None.")) } } }
                        }
                    }
                    @if !part.certifications.is_empty() {
                        h3 { (lang.pick("资格证书", "Certifications")) }
                        table {
                            thead { tr { th { (lang.pick("证书", "Certificate")) } th { (lang.pick("发证机构", "Issuer")) } th { (lang.pick("编号", "Number")) } th { (lang.pick("有效期至", "Expires")) } } }
                            tbody {
                                @for c in &part.certifications {
                                    tr {
                                        td { (i18n::certification(lang, &c.kind)) }
                                        td { (c.issuer) }
                                        td { (c.number) }
                                        td { @if c.expires_on.is_empty() { (lang.pick("长期", "never")) } @else { (day(lang, &c.expires_on)) } }
                                    }
                                }
                            }
                        }
                    }
                    @if !part.completions.is_empty() {
                        h3 { (lang.pick("培训", "Training")) }
                        ul {
                            @for c in &part.completions {
                                li { (courses.get(c.course_id.as_str()).copied().unwrap_or("—")) " · " (day(lang, &c.completed_on)) }
                            }
                        }
                    }
                }
            }
            @if !part.groups.is_empty() {
                h3 { (lang.pick("社区团体", "Community groups")) }
                ul {
                    @for g in &part.groups {
                        li { (g.group_name) "（" (i18n::term(lang, &g.kind)) "，" (i18n::term(lang, &g.role)) "） · " (day(lang, &g.joined_on)) }
                    }
                }
            }
        }
    }
}

fn finance_part(lang: Lang, part: &linli_proto::finance::v1::ResidentExport) -> Markup {
    html! {
        section #copy-donations {
            h2 { (lang.pick("捐赠", "Donations")) }
            table {
                thead { tr { th { (lang.pick("收据号", "Receipt")) } th { (lang.pick("日期", "Day")) } th { (lang.pick("捐赠人", "Donor")) } th { (lang.pick("金额", "Amount")) } th { (lang.pick("用途", "Purpose")) } th { (lang.pick("方式", "Method")) } } }
                tbody {
                    @for d in &part.donations {
                        tr {
                            td { (d.receipt) }
                            td { (day(lang, &d.received_on)) }
                            td { @if d.donor_name.is_empty() { "—" } @else { (d.donor_name) } }
                            td.num { (money(d.amount_minor)) }
                            td { (donation_purpose(lang, &d.purpose)) }
                            td { (i18n::term(lang, &d.method)) }
                        }
                    }
                    @if part.donations.is_empty() { tr { td colspan="6" { (lang.pick("无。", "None.")) } } }
                }
            }
        }
    }
}

fn evaluation_part(
    lang: Lang,
    tz: Tz,
    part: &linli_proto::evaluation::v1::ResidentExport,
) -> Markup {
    let surveys: HashMap<&str, &linli_proto::evaluation::v1::SurveyTemplate> =
        part.templates.iter().map(|t| (t.id.as_str(), t)).collect();
    html! {
        section #copy-surveys {
            h2 { (lang.pick("问卷", "Surveys")) }
            @for i in &part.invitations {
                @let survey = surveys.get(i.template_id.as_str());
                article.survey {
                    h3 { (survey.map(|s| s.title.as_str()).unwrap_or("—")) " · " (moment(lang, instant(&i.created_at), tz)) }
                    @if i.answers.is_empty() {
                        p { (lang.pick("未作答。", "Not answered.")) }
                    } @else {
                        dl.facts {
                            @for a in &i.answers {
                                @let question = survey.and_then(|s| s.questions.iter().find(|q| q.key == a.key));
                                dt { (question.map(|q| q.text.as_str()).unwrap_or("—")) }
                                dd {
                                    @if let Some(score) = a.score { (score) (lang.pick(" 分", " of 5")) " " }
                                    @if !a.choices.is_empty() { (a.choices.join("、")) " " }
                                    (a.text)
                                }
                            }
                        }
                    }
                }
            }
            @if part.invitations.is_empty() { p { (lang.pick("无。", "None.")) } }
        }
        section #copy-follow-ups {
            h2 { (lang.pick("电话回访", "Follow-up calls")) }
            table {
                thead { tr { th { (lang.pick("原因", "Why")) } th { (lang.pick("约定日期", "Due")) } th { (lang.pick("状态", "Status")) } th { (lang.pick("结果", "Outcome")) } } }
                tbody {
                    @for f in &part.follow_ups {
                        tr {
                            td { (f.reason) }
                            td { (day(lang, &f.due_on)) }
                            td { (i18n::term(lang, &f.status)) }
                            td { (f.outcome) }
                        }
                    }
                    @if part.follow_ups.is_empty() { tr { td colspan="4" { (lang.pick("无。", "None.")) } } }
                }
            }
        }
        section #copy-suggestions {
            h2 { (lang.pick("意见建议", "Suggestions")) }
            table {
                thead { tr { th { (lang.pick("收到时间", "Received")) } th { (lang.pick("渠道", "Channel")) } th { (lang.pick("内容", "Text")) } th { (lang.pick("状态", "Status")) } th { (lang.pick("答复", "Reply")) } } }
                tbody {
                    @for s in &part.suggestions {
                        tr {
                            td { (moment(lang, instant(&s.received_at), tz)) }
                            td { (i18n::term(lang, &s.channel)) }
                            td { (s.text) }
                            td { (i18n::term(lang, &s.status)) }
                            td { (s.reply) }
                        }
                    }
                    @if part.suggestions.is_empty() { tr { td colspan="5" { (lang.pick("无。", "None.")) } } }
                }
            }
        }
    }
}
