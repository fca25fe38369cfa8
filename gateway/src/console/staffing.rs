//! Staff on sessions and their licences (执照, issue 24): who is put on which of the
//! centre's coming sessions, each staff member's licences with their expiry and whether the
//! position needs one, and the two forms of the centre manager and the coordinator: 安排
//! (a staff member chosen by name onto a session chosen by its day, time and offering; a
//! missing licence, or one expired by the session's day, said beside the staff member's
//! field in Chinese with both days in words) and 登记执照 (a licence or certificate with its
//! issuer, number and dates). Nurses and doctors need a medical licence, teachers a
//! teacher's certificate (volunteers decides; this page only says so).

use std::collections::HashMap;

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect};
use chrono::{Duration, NaiveDate};
use linli_platform::auth::Role;
use linli_proto::bookings::v1 as bk;
use linli_proto::registry::v1 as pb;
use linli_proto::volunteers::v1 as vo;
use maud::html;
use serde::Deserialize;

use super::listing::{PAGE, every_page};
use super::{
    FieldErrors, Page, Posted, Query, Refusal, Section, Staff, csrf, general_errors, is_refusal,
    notice, today,
};
use crate::AppState;
use crate::catalogue::Lang;

/// How far ahead the session list of the 安排 form reaches.
const AHEAD_DAYS: i64 = 60;
/// A licence expiring within this many days is flagged 即将到期.
const SOON_DAYS: i64 = 30;

#[derive(Deserialize, Default)]
pub struct StaffingQuery {
    #[serde(default)]
    notice: String,
    /// A session to preselect (from a session's roster).
    #[serde(default)]
    session: String,
}

/// Who puts staff on sessions and records licences: the centre's manager, its coordinator
/// and the district admin (volunteers checks again).
pub(super) fn plans(staff: &Staff) -> bool {
    [Role::DistrictAdmin, Role::CentreManager, Role::Coordinator]
        .iter()
        .any(|r| staff.has_role(*r))
}

pub(super) fn position(lang: Lang, code: &str) -> &'static str {
    match code {
        "government_affairs_clerk" => lang.pick("政务服务专员", "Government affairs clerk"),
        "nurse" => lang.pick("护士", "Nurse"),
        "doctor" => lang.pick("医生", "Doctor"),
        "teacher" => lang.pick("教师", "Teacher"),
        "social_worker" => lang.pick("社工", "Social worker"),
        "manager" => lang.pick("中心主任", "Centre manager"),
        _ => lang.pick("其他岗位", "Other"),
    }
}

/// The licence a position needs to deliver its service, as volunteers decides it.
fn required(position: &str) -> Option<&'static str> {
    match position {
        "nurse" | "doctor" => Some("medical_licence"),
        "teacher" => Some("teacher_certificate"),
        _ => None,
    }
}

/// A licence or certificate's kind in words; a medical licence is a nurse's or a doctor's.
fn licence(lang: Lang, kind: &str) -> String {
    match kind {
        "medical_licence" => lang.pick("医师/护士执业证书", "medical licence").to_owned(),
        other => super::i18n::certification(lang, other),
    }
}

const LICENCE_KINDS: [&str; 3] = ["medical_licence", "teacher_certificate", "first_aid"];

fn day(lang: Lang, text: &str) -> String {
    super::i18n::iso_day(lang, text)
}

/// A volunteers refusal of 安排, by field, with the days in words: the catalogue says
/// them as the service sends them (ISO), which a page does not show.
fn assign_errors(lang: Lang, status: &tonic::Status) -> FieldErrors {
    let mut errors = FieldErrors::default();
    for v in linli_platform::error::violations_of(status) {
        let p = |name: &str| v.params.get(name).map(String::as_str).unwrap_or_default();
        let said = match v.code.as_str() {
            "staff.not_licensed" if p("expired_on").is_empty() => format!(
                "{}{}{}",
                lang.pick("该员工没有", "Holds no "),
                licence(lang, p("licence")),
                lang.pick("，不能安排提供此项服务", ": cannot deliver this service")
            ),
            "staff.not_licensed" => format!(
                "{}{}{}{}{}{}{}",
                lang.pick("该员工的", "The "),
                licence(lang, p("licence")),
                lang.pick("已于", " expired on "),
                day(lang, p("expired_on")),
                lang.pick("过期，早于场次日期", ", before the session on "),
                day(lang, p("session_on")),
                lang.pick("，不能安排", ""),
            ),
            "staff.not_employed" => format!(
                "{}{}{}",
                lang.pick("该员工在", "Not employed on "),
                day(lang, p("session_on")),
                lang.pick("不在职，不能安排", "")
            ),
            _ => crate::catalogue::field_message(lang, &v),
        };
        let field = v.field.rsplit('.').next().unwrap_or(&v.field);
        let field = match field {
            "session_id" | "offering_id" | "starts_at" | "ends_at" => "session_id",
            "staff_id" => "staff_id",
            _ => "general",
        };
        errors.push(field, said);
    }
    if errors.is_empty() {
        errors.push("general", super::i18n::refusal(lang, status));
    }
    errors
}

/// What was typed into the two forms, kept through a refusal.
#[derive(Default)]
struct AssignTyped {
    staff_id: String,
    session_id: String,
}

#[derive(Default)]
struct LicenceTyped {
    holder_id: String,
    kind: String,
    issuer: String,
    number: String,
    issued_on: String,
    expires_on: String,
}

enum Typed {
    None,
    Assign(AssignTyped),
    Licence(LicenceTyped),
}

async fn staff_members(
    state: &AppState,
    staff: &Staff,
    centre: &pb::Centre,
) -> Result<Vec<vo::StaffMember>, Refusal> {
    every_page(|page_token| async {
        let reply = state
            .volunteers
            .clone()
            .list_staff(staff.grpc(vo::ListStaffRequest {
                centre_id: centre.id.clone(),
                active_only: false,
                page_size: PAGE,
                page_token,
            }))
            .await?
            .into_inner();
        Ok::<_, Refusal>((reply.staff, reply.next_page_token))
    })
    .await
}

async fn certifications(
    state: &AppState,
    staff: &Staff,
    centre: &pb::Centre,
) -> Result<Vec<vo::Certification>, Refusal> {
    every_page(|page_token| async {
        let reply = state
            .volunteers
            .clone()
            .list_certifications(staff.grpc(vo::ListCertificationsRequest {
                centre_id: centre.id.clone(),
                page_size: PAGE,
                page_token,
                ..Default::default()
            }))
            .await?
            .into_inner();
        Ok::<_, Refusal>((reply.certifications, reply.next_page_token))
    })
    .await
}

/// The centre's sessions from today on, not cancelled, soonest first.
async fn coming_sessions(
    state: &AppState,
    staff: &Staff,
    centre: &pb::Centre,
) -> Result<Vec<bk::Session>, Refusal> {
    let on = today(centre);
    let sessions = super::bookings::sessions_between(
        state,
        staff,
        centre,
        on,
        on + Duration::days(AHEAD_DAYS),
    )
    .await?;
    Ok(sessions
        .into_iter()
        .filter(|s| s.status != "cancelled")
        .collect())
}

async fn offering_names(
    state: &AppState,
    staff: &Staff,
    centre: &pb::Centre,
) -> Result<HashMap<String, String>, Refusal> {
    Ok(state
        .bookings
        .clone()
        .list_offerings(staff.grpc(bk::ListOfferingsRequest {
            centre_id: centre.id.clone(),
            ..Default::default()
        }))
        .await?
        .into_inner()
        .offerings
        .into_iter()
        .map(|o| (o.id, o.name))
        .collect())
}

/// A session as the form and the table say it: its day, its time and what it is.
fn session_words(
    lang: Lang,
    tz: chrono_tz::Tz,
    starts: &Option<prost_types::Timestamp>,
    ends: &Option<prost_types::Timestamp>,
) -> (String, String) {
    let Some(starts) = super::instant(starts) else {
        return ("—".into(), String::new());
    };
    let local = starts.with_timezone(&tz).date_naive();
    let time = match super::instant(ends) {
        Some(ends) => format!("{}–{}", super::clock(starts, tz), super::clock(ends, tz)),
        None => super::clock(starts, tz),
    };
    (super::date(lang, local), time)
}

async fn page(
    state: &AppState,
    staff: &Staff,
    centre: &pb::Centre,
    query: &StaffingQuery,
    errors: FieldErrors,
    typed: Typed,
) -> Page {
    let lang = staff.lang;
    let tz = super::zone(centre);
    let on = today(centre);
    let members = staff_members(state, staff, centre).await?;
    let held = certifications(state, staff, centre).await?;
    let sessions = coming_sessions(state, staff, centre).await?;
    let offerings = offering_names(state, staff, centre).await?;
    let assignments = state
        .volunteers
        .clone()
        .list_staff_assignments(staff.grpc(vo::ListStaffAssignmentsRequest {
            centre_id: centre.id.clone(),
            ..Default::default()
        }))
        .await?
        .into_inner()
        .assignments;
    let now = chrono::Utc::now();
    let coming: Vec<&vo::StaffAssignment> = assignments
        .iter()
        .filter(|a| super::instant(&a.ends_at).is_none_or(|end| end >= now))
        .collect();
    let names: HashMap<&str, &vo::StaffMember> =
        members.iter().map(|m| (m.id.as_str(), m)).collect();
    let active: Vec<&vo::StaffMember> = members.iter().filter(|m| m.active).collect();
    let offering_of = |id: &str| {
        offerings
            .get(id)
            .cloned()
            .unwrap_or_else(|| lang.pick("（已删除的项目）", "(removed)").to_owned())
    };
    let blank_assign = AssignTyped {
        session_id: query.session.clone(),
        ..Default::default()
    };
    let blank_licence = LicenceTyped {
        kind: "medical_licence".into(),
        ..Default::default()
    };
    let (assign, assign_errors) = match &typed {
        Typed::Assign(t) => (t, Some(&errors)),
        _ => (&blank_assign, None),
    };
    let (lic, licence_errors) = match &typed {
        Typed::Licence(t) => (t, Some(&errors)),
        _ => (&blank_licence, None),
    };
    let here = format!("/c/{}/staff", centre.id);
    let content = html! {
        @if !errors.is_empty() { span hidden data-page-url=(here) {} }
        @if query.notice == "assigned" { (notice(lang.pick("已安排工作人员。", "Staff member assigned."))) }
        @if query.notice == "licence" { (notice(lang.pick("已登记执照。", "Licence recorded."))) }
        p { a href=(format!("/c/{}/volunteers", centre.id)) { (lang.pick("‹ 返回志愿者", "‹ Back to volunteers")) } }
        p.muted { (lang.pick("护士、医生须持有效的医师/护士执业证书，教师须持有效的教师资格证，按场次当天计算；其他岗位不需要执照。",
                             "Nurses and doctors need a medical licence, teachers a teacher's certificate, valid on the session's day; other positions need none.")) }
        @if plans(staff) {
            form.stack.boxed #assign-staff method="post" action=(format!("{here}/assign")) novalidate {
                (csrf(staff))
                h2 { (lang.pick("安排工作人员到场次", "Put a staff member on a session")) }
                @if let Some(e) = assign_errors { (general_errors(e, &["staff_id", "session_id"])) }
                @let staff_error = assign_errors.and_then(|e| e.get("staff_id"));
                div.field.invalid[staff_error.is_some()] {
                    label for="f-staff_id" { (lang.pick("工作人员", "Staff member")) }
                    select #f-staff_id name="staff_id" aria-invalid=[staff_error.map(|_| "true")] aria-describedby=[staff_error.map(|_| "f-staff_id-error")] {
                        option value="" { (lang.pick("— 请选择 —", "— choose —")) }
                        @for m in &active { option value=(m.id) selected[assign.staff_id == m.id] { (m.name) "（" (position(lang, &m.position)) "）" } }
                    }
                    @if let Some(e) = staff_error { span.error #f-staff_id-error role="alert" { (e) } }
                }
                @let session_error = assign_errors.and_then(|e| e.get("session_id"));
                div.field.invalid[session_error.is_some()] {
                    label for="f-session_id" { (lang.pick("场次（今后 60 天）", "Session (next 60 days)")) }
                    select #f-session_id name="session_id" aria-invalid=[session_error.map(|_| "true")] aria-describedby=[session_error.map(|_| "f-session_id-error")] {
                        option value="" { (lang.pick("— 请选择 —", "— choose —")) }
                        @for s in &sessions {
                            @let (d, t) = session_words(lang, tz, &s.starts_at, &s.ends_at);
                            option value=(s.id) selected[assign.session_id == s.id] { (d) " " (t) " · " (offering_of(&s.offering_id)) }
                        }
                    }
                    @if let Some(e) = session_error { span.error #f-session_id-error role="alert" { (e) } }
                    @if sessions.is_empty() { span.muted { (lang.pick("今后 60 天没有场次。", "No sessions in the next 60 days.")) } }
                }
                button type="submit" { (lang.pick("安排", "Assign")) }
            }
        }
        section #assignments {
            h2 { (lang.pick("已安排的工作人员", "Staff on coming sessions")) }
            table #staff-assignments {
                thead { tr {
                    th { (lang.pick("日期", "Day")) } th { (lang.pick("时间", "Time")) } th { (lang.pick("服务项目", "Offering")) }
                    th { (lang.pick("工作人员", "Staff member")) } th { (lang.pick("岗位", "Position")) } th { (lang.pick("所需执照", "Licence needed")) }
                } }
                tbody {
                    @for a in &coming {
                        @let (d, t) = session_words(lang, tz, &a.starts_at, &a.ends_at);
                        @let member = names.get(a.staff_id.as_str());
                        tr {
                            td { (d) } td { (t) } td { (offering_of(&a.offering_id)) }
                            td { (member.map(|m| m.name.as_str()).unwrap_or("—")) }
                            td { (member.map(|m| position(lang, &m.position)).unwrap_or("—")) }
                            td { @if a.licence.is_empty() { (lang.pick("不需要", "None")) } @else { (licence(lang, &a.licence)) (lang.pick("（已核验）", " (checked)")) } }
                        }
                    }
                    @if coming.is_empty() { tr { td colspan="6" { (lang.pick("今后的场次还没有安排工作人员。", "No staff on coming sessions yet.")) } } }
                }
            }
        }
        section #licences {
            h2 { (lang.pick("工作人员执照", "Staff licences")) }
            table #staff-licences {
                thead { tr {
                    th { (lang.pick("工作人员", "Staff member")) } th { (lang.pick("岗位", "Position")) } th { (lang.pick("所需执照", "Licence needed")) }
                    th { (lang.pick("持有的证书", "Held")) } th { (lang.pick("状态", "Status")) }
                } }
                tbody {
                    @for m in &active {
                        @let mine: Vec<&vo::Certification> = held.iter().filter(|c| c.holder_id == m.id).collect();
                        @let need = required(&m.position);
                        @let valid_until = |c: &vo::Certification| NaiveDate::parse_from_str(&c.expires_on, "%Y-%m-%d").ok();
                        @let needed: Vec<&&vo::Certification> = mine.iter().filter(|c| Some(c.kind.as_str()) == need).collect();
                        @let valid = needed.iter().any(|c| valid_until(c).is_none_or(|d| d >= on));
                        @let soon = needed.iter().all(|c| valid_until(c).is_some_and(|d| d < on + Duration::days(SOON_DAYS)));
                        tr data-staff=(m.name) {
                            td { (m.name) }
                            td { (position(lang, &m.position)) }
                            td { @if let Some(k) = need { (licence(lang, k)) } @else { (lang.pick("不需要", "None")) } }
                            td {
                                @for c in &mine {
                                    div {
                                        (licence(lang, &c.kind))
                                        @if !c.issuer.is_empty() { span.muted { "（" (c.issuer) "）" } }
                                        " "
                                        @if c.expires_on.is_empty() { (lang.pick("长期有效", "never expires")) }
                                        @else {
                                            (lang.pick("有效期至 ", "valid until ")) (day(lang, &c.expires_on))
                                            @if valid_until(c).is_some_and(|d| d < on) { " " span.badge.warn { (lang.pick("已过期", "expired")) } }
                                        }
                                    }
                                }
                                @if mine.is_empty() { "—" }
                            }
                            td {
                                @if need.is_none() { span.badge { (lang.pick("无需执照", "No licence needed")) } }
                                @else if !valid && needed.is_empty() { span.badge.warn { (lang.pick("缺少执照，不能安排", "No licence: cannot be assigned")) } }
                                @else if !valid { span.badge.warn { (lang.pick("执照已过期，不能安排", "Expired: cannot be assigned")) } }
                                @else if soon { span.badge.warn { (lang.pick("有效，30 天内到期", "Valid, expires within 30 days")) } }
                                @else { span.badge.ok { (lang.pick("有效", "Valid")) } }
                            }
                        }
                    }
                    @if active.is_empty() { tr { td colspan="5" { (lang.pick("本中心尚未登记在职工作人员。", "No staff recorded at this centre.")) } } }
                }
            }
        }
        @if plans(staff) {
            form.stack.boxed #add-licence method="post" action=(format!("{here}/licences")) novalidate {
                (csrf(staff))
                h2 { (lang.pick("登记执照或证书", "Record a licence or certificate")) }
                @if let Some(e) = licence_errors { (general_errors(e, &["holder_id", "kind", "issuer", "number", "issued_on", "expires_on"])) }
                @let holder_error = licence_errors.and_then(|e| e.get("holder_id"));
                div.field.invalid[holder_error.is_some()] {
                    label for="f-holder_id" { (lang.pick("工作人员", "Staff member")) }
                    select #f-holder_id name="holder_id" aria-invalid=[holder_error.map(|_| "true")] aria-describedby=[holder_error.map(|_| "f-holder_id-error")] {
                        option value="" { (lang.pick("— 请选择 —", "— choose —")) }
                        @for m in &active { option value=(m.id) selected[lic.holder_id == m.id] { (m.name) "（" (position(lang, &m.position)) "）" } }
                    }
                    @if let Some(e) = holder_error { span.error #f-holder_id-error role="alert" { (e) } }
                }
                @let kind_error = licence_errors.and_then(|e| e.get("kind"));
                div.field.invalid[kind_error.is_some()] {
                    label for="f-kind" { (lang.pick("证书种类", "Kind")) }
                    select #f-kind name="kind" {
                        @for k in LICENCE_KINDS { option value=(k) selected[lic.kind == k] { (licence(lang, k)) } }
                    }
                    @if let Some(e) = kind_error { span.error role="alert" { (e) } }
                }
                (super::optional_field("issuer", lang.pick("发证机关", "Issuer"), "text", &lic.issuer, licence_errors))
                (super::optional_field("number", lang.pick("证书编号", "Number"), "text", &lic.number, licence_errors))
                div.row {
                    (super::optional_field("issued_on", lang.pick("发证日期", "Issued on"), "date", &lic.issued_on, licence_errors))
                    (super::optional_field("expires_on", lang.pick("有效期至（长期有效可不填）", "Valid until (empty: never expires)"), "date", &lic.expires_on, licence_errors))
                }
                button type="submit" { (lang.pick("登记", "Record")) }
            }
        }
    };
    let mut response = super::layout(
        staff,
        Section::Volunteers,
        Some(centre),
        &format!(
            "{} · {}",
            centre.name,
            lang.pick("工作人员安排与执照", "Staff on sessions and licences")
        ),
        content,
    );
    if !errors.is_empty() {
        *response.status_mut() = axum::http::StatusCode::BAD_REQUEST;
    }
    Ok(response)
}

pub async fn overview(
    State(state): State<AppState>,
    staff: Staff,
    Path(centre): Path<String>,
    Query(query): Query<StaffingQuery>,
) -> Page {
    let centre = staff.centre(Section::Volunteers, &centre)?;
    page(
        &state,
        &staff,
        &centre,
        &query,
        FieldErrors::default(),
        Typed::None,
    )
    .await
}

fn done(centre: &pb::Centre, notice: &str) -> Page {
    Ok(Redirect::to(&format!("/c/{}/staff?notice={notice}", centre.id)).into_response())
}

/// 安排: the session's offering and times as bookings keeps them, then volunteers checks the
/// licence on the session's day.
pub async fn assign(
    State(state): State<AppState>,
    Path(centre): Path<String>,
    posted: Posted,
) -> Page {
    let staff = &posted.staff;
    let centre = staff.centre(Section::Volunteers, &centre)?;
    let lang = staff.lang;
    let typed = AssignTyped {
        staff_id: posted.get("staff_id").to_owned(),
        session_id: posted.get("session_id").to_owned(),
    };
    let mut errors = FieldErrors::default();
    if typed.staff_id.is_empty() {
        errors.push(
            "staff_id",
            lang.pick("请选择工作人员", "Choose the staff member"),
        );
    }
    let session = if typed.session_id.is_empty() {
        errors.push("session_id", lang.pick("请选择场次", "Choose the session"));
        None
    } else {
        let found = coming_sessions(&state, staff, &centre)
            .await?
            .into_iter()
            .find(|s| s.id == typed.session_id);
        if found.is_none() {
            errors.push(
                "session_id",
                lang.pick(
                    "找不到该场次，可能已取消或已过去，请重新选择",
                    "No such coming session; choose again",
                ),
            );
        }
        found
    };
    if let (Some(session), true) = (session, errors.is_empty()) {
        let assigned = state
            .volunteers
            .clone()
            .assign_staff(staff.grpc(vo::AssignStaffRequest {
                centre_id: centre.id.clone(),
                staff_id: typed.staff_id.clone(),
                offering_id: session.offering_id.clone(),
                session_id: session.id.clone(),
                starts_at: session.starts_at,
                ends_at: session.ends_at,
            }))
            .await;
        match assigned {
            Ok(_) => return done(&centre, "assigned"),
            Err(status) if is_refusal(&status) => errors = assign_errors(lang, &status),
            Err(status) => return Err(status.into()),
        }
    }
    page(
        &state,
        staff,
        &centre,
        &StaffingQuery::default(),
        errors,
        Typed::Assign(typed),
    )
    .await
}

/// 登记执照: a licence or certificate of a staff member.
pub async fn add_licence(
    State(state): State<AppState>,
    Path(centre): Path<String>,
    posted: Posted,
) -> Page {
    let staff = &posted.staff;
    let centre = staff.centre(Section::Volunteers, &centre)?;
    let lang = staff.lang;
    let typed = LicenceTyped {
        holder_id: posted.get("holder_id").to_owned(),
        kind: posted.get("kind").to_owned(),
        issuer: posted.get("issuer").to_owned(),
        number: posted.get("number").to_owned(),
        issued_on: posted.get("issued_on").to_owned(),
        expires_on: posted.get("expires_on").to_owned(),
    };
    let mut errors = FieldErrors::default();
    if typed.holder_id.is_empty() {
        errors.push(
            "holder_id",
            lang.pick("请选择工作人员", "Choose the staff member"),
        );
    }
    if errors.is_empty() {
        let added = state
            .volunteers
            .clone()
            .add_certification(staff.grpc(vo::AddCertificationRequest {
                centre_id: centre.id.clone(),
                holder_id: typed.holder_id.clone(),
                kind: typed.kind.clone(),
                issuer: typed.issuer.clone(),
                number: typed.number.clone(),
                issued_on: typed.issued_on.clone(),
                expires_on: typed.expires_on.clone(),
            }))
            .await;
        match added {
            Ok(_) => return done(&centre, "licence"),
            Err(status) if is_refusal(&status) => {
                errors = FieldErrors::from_status(&status, lang);
                // kind[0] is the kind chosen.
                for e in errors.0.iter_mut() {
                    if let Some((base, _)) = e.0.split_once('[') {
                        e.0 = base.to_owned();
                    }
                }
            }
            Err(status) => return Err(status.into()),
        }
    }
    page(
        &state,
        staff,
        &centre,
        &StaffingQuery::default(),
        errors,
        Typed::Licence(typed),
    )
    .await
}
