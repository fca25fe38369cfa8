//! Volunteers: this week's shifts and their gaps, matching suggestions for a shift, hours
//! waiting for a coordinator, and certifications that expire soon.

use std::collections::HashMap;

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect};
use chrono::{Datelike, Duration, NaiveDate};
use linli_platform::auth::Role;
use linli_proto::volunteers::v1 as vo;
use maud::html;

use super::listing::{PAGE, every_page};
use linli_proto::registry::v1 as pb;

use super::{
    FieldErrors, Page, Posted, Query, Refusal, Section, Staff, clock, csrf, date, field,
    general_errors, i18n, instant, is_refusal, notice, timestamp, today, zone,
};
use crate::AppState;

const EXPIRY_WINDOW_DAYS: i64 = 60;

fn verifies(staff: &Staff) -> bool {
    [Role::DistrictAdmin, Role::CentreManager, Role::Coordinator]
        .iter()
        .any(|r| staff.has_role(*r))
}

#[derive(serde::Deserialize, Default)]
pub struct WeekQuery {
    #[serde(default)]
    notice: String,
}

/// What was typed into the hours form, kept when it is refused.
#[derive(Default)]
struct HoursForm {
    volunteer_id: String,
    worked_on: String,
    hours: String,
    note: String,
}

pub async fn week(
    State(state): State<AppState>,
    staff: Staff,
    Path(centre): Path<String>,
    Query(query): Query<WeekQuery>,
) -> Page {
    let centre = staff.centre(Section::Volunteers, &centre)?;
    let form = HoursForm {
        worked_on: today(&centre).to_string(),
        ..Default::default()
    };
    week_page(
        &state,
        &staff,
        centre,
        form,
        FieldErrors::default(),
        &query.notice,
    )
    .await
}

async fn week_page(
    state: &AppState,
    staff: &Staff,
    centre: pb::Centre,
    form: HoursForm,
    errors: FieldErrors,
    said: &str,
) -> Page {
    let lang = staff.lang;
    let tz = zone(&centre);
    let day = today(&centre);
    let monday = day - Duration::days(day.weekday().num_days_from_monday().into());
    let start = |d: NaiveDate| {
        d.and_hms_opt(0, 0, 0)
            .and_then(|t| t.and_local_timezone(tz).earliest())
            .map(|t| t.with_timezone(&chrono::Utc))
            .unwrap_or_default()
    };
    // The week's shifts, the hours waiting and the names they mention, each whole.
    let shifts = every_page(|page_token| async {
        let reply = state
            .volunteers
            .clone()
            .list_shifts(staff.grpc(vo::ListShiftsRequest {
                centre_id: centre.id.clone(),
                from: Some(timestamp(start(monday))),
                to: Some(timestamp(start(monday + Duration::days(7)))),
                page_size: PAGE,
                page_token,
                ..Default::default()
            }))
            .await?
            .into_inner();
        Ok::<_, Refusal>((reply.shifts, reply.next_page_token))
    })
    .await?;
    let opportunities: HashMap<String, String> = every_page(|page_token| async {
        let reply = state
            .volunteers
            .clone()
            .list_opportunities(staff.grpc(vo::ListOpportunitiesRequest {
                centre_id: centre.id.clone(),
                page_size: PAGE,
                page_token,
            }))
            .await?
            .into_inner();
        Ok::<_, Refusal>((reply.opportunities, reply.next_page_token))
    })
    .await?
    .into_iter()
    .map(|o| (o.id, o.title))
    .collect();
    let people = names(state, staff, &centre.id).await?;
    let mut by_name: Vec<(&String, &String)> = people.iter().collect();
    by_name.sort_by_cached_key(|(_, name)| super::bookings::sort_key(name));
    let staff_names: HashMap<String, String> = every_page(|page_token| async {
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
    .await?
    .into_iter()
    .map(|s| (s.id, s.name))
    .collect();
    let pending = every_page(|page_token| async {
        let reply = state
            .volunteers
            .clone()
            .list_hour_entries(staff.grpc(vo::ListHourEntriesRequest {
                centre_id: centre.id.clone(),
                status: "pending".into(),
                page_size: PAGE,
                page_token,
                ..Default::default()
            }))
            .await?
            .into_inner();
        Ok::<_, Refusal>((reply.entries, reply.next_page_token))
    })
    .await?;
    let horizon = day + Duration::days(EXPIRY_WINDOW_DAYS);
    // Soonest expiry first: the pages stop at the first certification past the horizon.
    let mut expiring: Vec<vo::Certification> = Vec::new();
    let mut page_token = String::new();
    loop {
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
        let within = |c: &vo::Certification| {
            NaiveDate::parse_from_str(&c.expires_on, "%Y-%m-%d").is_ok_and(|d| d <= horizon)
        };
        let past_horizon = reply.certifications.iter().any(|c| !within(c));
        expiring.extend(reply.certifications.into_iter().filter(within));
        if past_horizon || reply.next_page_token.is_empty() {
            break;
        }
        page_token = reply.next_page_token;
    }
    let gaps: i32 = shifts
        .iter()
        .map(|s| (s.capacity - s.signed_up).max(0))
        .sum();
    let notice_text = match said {
        "verified" => Some(lang.pick("已核实该时长。", "The hours are verified.")),
        "rejected" => Some(lang.pick("已驳回该时长。", "The hours are rejected.")),
        "logged" => Some(lang.pick(
            "已登记服务时长，等待核实。",
            "The hours are logged, waiting to be verified.",
        )),
        _ => None,
    };
    let here = format!("/c/{}/volunteers", centre.id);
    let content = html! {
        @if !errors.is_empty() { span hidden data-page-url=(format!("{here}#log-hours")) {} }
        @if let Some(text) = notice_text { (notice(text)) }
        @if verifies(staff) { p { a #register-volunteer href=(format!("{here}/new")) { (lang.pick("＋ 登记志愿者", "+ Register a volunteer")) } " · " a #opportunities-link href=(format!("{here}/opportunities")) { (lang.pick("岗位与班次", "Opportunities and shifts")) } " · " a #staffing-link href=(format!("/c/{}/staff", centre.id)) { (lang.pick("工作人员安排与执照", "Staff on sessions and licences")) } } }
        section {
            h2 { (lang.pick("本周班次", "This week's shifts")) " · " (lang.pick("空缺 ", "open places: ")) strong #gaps { (gaps) } }
            table #shifts {
                thead { tr { th { (lang.pick("日期", "Day")) } th { (lang.pick("时间", "Time")) } th { (lang.pick("岗位", "Opportunity")) } th { (lang.pick("地点", "Where")) } th { (lang.pick("已报名/名额", "Signed up / places")) } th { span.sr { (lang.pick("操作", "Actions")) } } } }
                tbody {
                    @for s in &shifts {
                        @let gap = s.capacity - s.signed_up;
                        tr.gap[gap > 0] {
                            td { (NaiveDate::parse_from_str(&s.local_date, "%Y-%m-%d").map(|d| date(lang, d)).unwrap_or_default()) }
                            td { (instant(&s.starts_at).map(|t| clock(t, tz)).unwrap_or_default()) "–" (instant(&s.ends_at).map(|t| clock(t, tz)).unwrap_or_default()) }
                            td { (opportunities.get(&s.opportunity_id).cloned().unwrap_or_default()) }
                            td { (s.location) }
                            td.num { (s.signed_up) " / " (s.capacity) @if gap > 0 { " " span.badge.warn { (lang.pick("缺 ", "short ")) (gap) } } }
                            td { @if gap > 0 { a href=(format!("/c/{}/volunteers/shifts/{}", centre.id, s.id)) { (lang.pick("推荐人选", "Suggestions")) } } }
                        }
                    }
                    @if shifts.is_empty() { tr { td colspan="6" { (lang.pick("本周没有班次。", "No shifts this week.")) } } }
                }
            }
        }
        section {
            h2 { (lang.pick("待核实时长", "Hours to verify")) }
            table #pending-hours {
                thead { tr { th { (lang.pick("志愿者", "Volunteer")) } th { (lang.pick("日期", "Day")) } th { (lang.pick("时长", "Time")) } th { (lang.pick("备注", "Note")) } th { span.sr { (lang.pick("操作", "Actions")) } } } }
                tbody {
                    @for e in &pending {
                        @let name = people.get(&e.volunteer_id).cloned().unwrap_or_default();
                        tr data-volunteer=(name) {
                            td { (name) }
                            td { (NaiveDate::parse_from_str(&e.worked_on, "%Y-%m-%d").map(|d| date(lang, d)).unwrap_or_default()) }
                            td.num { (i18n::hours(lang, e.minutes.into())) }
                            td { (e.note) }
                            td {
                                @if verifies(staff) {
                                    form.inline method="post" action=(format!("/c/{}/volunteers/hours/{}", centre.id, e.id)) {
                                        (csrf(staff))
                                        button type="submit" name="approve" value="true" { (lang.pick("核实", "Verify")) }
                                        a.button.secondary href=(format!("/c/{}/volunteers/hours/{}/reject", centre.id, e.id)) { (lang.pick("驳回…", "Reject…")) }
                                    }
                                }
                            }
                        }
                    }
                    @if pending.is_empty() { tr { td colspan="5" { (lang.pick("没有待核实的时长。", "Nothing waiting.")) } } }
                }
            }
        }
        @if verifies(staff) {
            section #log-hours {
                h2 { (lang.pick("登记服务时长", "Log hours")) }
                form method="post" action=(format!("{here}/hours#log-hours")) {
                    (csrf(staff))
                    (general_errors(&errors, &["volunteer_id", "worked_on", "hours", "note"]))
                    div.field.invalid[errors.get("volunteer_id").is_some()] {
                        label for="f-volunteer_id" { (lang.pick("志愿者", "Volunteer")) span.req aria-hidden="true" { " *" } }
                        select #f-volunteer_id name="volunteer_id" required {
                            option value="" { (lang.pick("请选择", "Choose")) }
                            @for (id, name) in &by_name {
                                option value=(id) selected[**id == form.volunteer_id] { (name) }
                            }
                        }
                        @if let Some(message) = errors.get("volunteer_id") { span.error #f-volunteer_id-error role="alert" { (message) } }
                    }
                    (field(lang, "worked_on", lang.pick("服务日期", "Day worked"), "date", &form.worked_on, &errors, true))
                    (field(lang, "hours", lang.pick("时长（小时，如 2 或 1.5）", "Hours (e.g. 2 or 1.5)"), "text", &form.hours, &errors, true))
                    (field(lang, "note", lang.pick("备注", "Note"), "text", &form.note, &errors, false))
                    button #log-hours-submit type="submit" { (lang.pick("登记", "Log")) }
                }
            }
        }
        section {
            h2 { (lang.pick("志愿者名册", "Volunteers")) }
            ul.roster #volunteers {
                @for (id, name) in &by_name {
                    li { a href=(format!("{here}/profile/{id}")) { (name) } }
                }
                @if by_name.is_empty() { li { (lang.pick("还没有志愿者。", "No volunteers yet.")) } }
            }
        }
        section {
            h2 { (lang.pick("即将到期的证书（60 天内）", "Certifications expiring within 60 days")) }
            table #expiring {
                thead { tr { th { (lang.pick("持有人", "Holder")) } th { (lang.pick("证书", "Certification")) } th { (lang.pick("发证机构", "Issuer")) } th { (lang.pick("到期日", "Expires")) } } }
                tbody {
                    @for c in &expiring {
                        @let holder = if c.holder_kind == "staff" { staff_names.get(&c.holder_id) } else { people.get(&c.holder_id) };
                        @let expired = NaiveDate::parse_from_str(&c.expires_on, "%Y-%m-%d").is_ok_and(|d| d < day);
                        tr.missed[expired] {
                            td { (holder.cloned().unwrap_or_default()) }
                            td { (i18n::certification(lang, &c.kind)) }
                            td { (c.issuer) }
                            td { (super::i18n::iso_day(lang, &c.expires_on)) @if expired { " " span.badge.warn { (lang.pick("已过期", "expired")) } } }
                        }
                    }
                    @if expiring.is_empty() { tr { td colspan="4" { (lang.pick("没有即将到期的证书。", "None.")) } } }
                }
            }
        }
    };
    Ok(super::layout(
        staff,
        Section::Volunteers,
        Some(&centre),
        &format!("{} · {}", centre.name, lang.pick("志愿者", "Volunteers")),
        content,
    ))
}

#[derive(serde::Deserialize, Default)]
pub struct MatchesQuery {
    #[serde(default)]
    assigned: String,
}

pub async fn matches(
    State(state): State<AppState>,
    staff: Staff,
    Path((centre, shift)): Path<(String, String)>,
    Query(query): Query<MatchesQuery>,
) -> Page {
    let centre = staff.centre(Section::Volunteers, &centre)?;
    matches_page(&state, &staff, &centre, shift, None, &query.assigned).await
}

/// A shift's suggestions, each ranked row with its 指派 button; `refused` is the volunteer
/// whose sign-up the service refused and why (said beside their row), `assigned` the one
/// just signed up.
async fn matches_page(
    state: &AppState,
    staff: &Staff,
    centre: &pb::Centre,
    shift: String,
    refused: Option<(String, String)>,
    assigned: &str,
) -> Page {
    let lang = staff.lang;
    let here = format!("/c/{}/volunteers/shifts/{}", centre.id, shift);
    let found = state
        .volunteers
        .clone()
        .match_volunteers(staff.grpc(vo::MatchVolunteersRequest {
            centre_id: centre.id.clone(),
            shift_id: shift,
            limit: 20,
        }))
        .await?
        .into_inner();
    let people = names(state, staff, &centre.id).await?;
    let name = |c: &vo::Candidate| {
        people
            .get(&c.volunteer_id)
            .cloned()
            .unwrap_or_else(|| c.display_name.clone())
    };
    let assigned_name = found
        .ranked
        .iter()
        .chain(&found.excluded)
        .find(|c| !assigned.is_empty() && c.volunteer_id == assigned)
        .map(name);
    let content = html! {
        @if refused.is_some() { span hidden data-page-url=(here) {} }
        @if let Some(name) = &assigned_name { (notice(&format!("{}{}{}", lang.pick("已指派 ", "Assigned "), name, lang.pick(" 到本班次。", " to this shift.")))) }
        p { a href=(format!("/c/{}/volunteers", centre.id)) { "← " (lang.pick("返回本周班次", "Back to this week's shifts")) } }
        h2 { (lang.pick("推荐", "Suggested")) }
        p.hint { (lang.pick("得分越高越合适：全程有空计 10 分，技能匹配最多 3 分，近 30 天服务越少加分越多。", "A higher score fits better: 10 for being free the whole shift, up to 3 for skills, more for fewer recent hours.")) }
        table #ranked {
            thead { tr { th { (lang.pick("志愿者", "Volunteer")) } th { (lang.pick("得分", "Score")) } th { (lang.pick("技能匹配", "Skill fit")) } th { (lang.pick("近30天服务时长", "Hours, last 30 days")) } th { (lang.pick("理由", "Why")) } th { span.sr { (lang.pick("操作", "Actions")) } } } }
            tbody {
                @for c in &found.ranked {
                    @let error = refused.as_ref().filter(|(v, _)| *v == c.volunteer_id).map(|(_, m)| m);
                    @let who = name(c);
                    tr.invalid[error.is_some()] data-volunteer=(who) {
                        td { (who) }
                        td.num { (format!("{:.2}", c.score)) }
                        td.num { (format!("{:.0}%", c.skill_fit * 100.0)) }
                        td.num { (i18n::hours(lang, c.recent_minutes)) }
                        td { (reasons(lang, c)) }
                        td {
                            form.inline method="post" action=(format!("{here}/sign-ups")) {
                                (csrf(staff))
                                input type="hidden" name="volunteer_id" value=(c.volunteer_id);
                                button type="submit" { (lang.pick("指派", "Assign")) }
                            }
                            @if let Some(message) = error { span.error role="alert" { (message) } }
                        }
                    }
                }
                @if found.ranked.is_empty() { tr { td colspan="6" { (lang.pick("没有合适人选。", "Nobody fits.")) } } }
            }
        }
        h2 { (lang.pick("不适合", "Not suitable")) }
        table #excluded {
            tbody {
                @for c in &found.excluded {
                    // One refused a moment ago has moved here: the refusal stays beside them.
                    @let error = refused.as_ref().filter(|(v, _)| *v == c.volunteer_id).map(|(_, m)| m);
                    @let who = name(c);
                    tr.invalid[error.is_some()] data-volunteer=(who) {
                        td { (who) }
                        td { (reasons(lang, c)) @if let Some(message) = error { " " span.error role="alert" { (message) } } }
                    }
                }
            }
        }
    };
    Ok(super::layout(
        staff,
        Section::Volunteers,
        Some(centre),
        &format!(
            "{} · {}",
            centre.name,
            lang.pick("班次人选", "Shift suggestions")
        ),
        content,
    ))
}

/// 指派 on a suggestion: signs the volunteer up for the shift; a refusal (not qualified,
/// an overlapping shift, the shift full) is said beside the volunteer's row.
pub async fn assign(
    State(state): State<AppState>,
    Path((centre, shift)): Path<(String, String)>,
    posted: Posted,
) -> Page {
    let staff = &posted.staff;
    let centre = staff.centre(Section::Volunteers, &centre)?;
    if !verifies(staff) {
        return Err(Refusal::forbidden());
    }
    let volunteer = posted.get("volunteer_id").to_owned();
    match state
        .volunteers
        .clone()
        .sign_up(staff.grpc(vo::SignUpRequest {
            centre_id: centre.id.clone(),
            shift_id: shift.clone(),
            volunteer_id: volunteer.clone(),
        }))
        .await
    {
        Ok(_) => Ok(Redirect::to(&format!(
            "/c/{}/volunteers/shifts/{shift}?assigned={volunteer}",
            centre.id
        ))
        .into_response()),
        Err(status) if is_refusal(&status) => {
            let errors = FieldErrors::from_status(&status, staff.lang);
            let message = errors
                .0
                .into_iter()
                .map(|(_, m)| m)
                .collect::<Vec<_>>()
                .join("；");
            matches_page(
                &state,
                staff,
                &centre,
                shift,
                Some((volunteer, message)),
                "",
            )
            .await
        }
        Err(status) => Err(status.into()),
    }
}

/// Volunteers by id, each by the resident's own name (the registry's; a volunteer service
/// holds only a display name, which may be a placeholder such as 志愿者007), or the display
/// name when the resident was erased. The names come in one registry call per 200.
pub(super) async fn names(
    state: &AppState,
    staff: &Staff,
    centre: &str,
) -> Result<HashMap<String, String>, Refusal> {
    let volunteers = every_page(|page_token| async {
        let reply = state
            .volunteers
            .clone()
            .list_volunteers(staff.grpc(vo::ListVolunteersRequest {
                centre_id: centre.to_owned(),
                page_size: PAGE,
                page_token,
                ..Default::default()
            }))
            .await?
            .into_inner();
        Ok::<_, Refusal>((reply.volunteers, reply.next_page_token))
    })
    .await?;
    let residents: Vec<String> = volunteers.iter().map(|v| v.resident_id.clone()).collect();
    let known = super::bookings::names_of(state, staff, centre, &residents, "").await?;
    Ok(volunteers
        .into_iter()
        .map(|v| {
            let name = known.get(&v.resident_id).cloned().unwrap_or(v.display_name);
            (v.id, name)
        })
        .collect())
}

/// Why a candidate ranks where they do, in the reader's words.
fn reasons(lang: i18n::Lang, c: &vo::Candidate) -> String {
    i18n::match_reasons(lang, &c.reasons, &c.explanations)
}

/// Verifies hours, or rejects them with the reason typed on the rejection page; an empty
/// reason or a refusal is said there, beside the reason, with what was typed kept.
pub async fn verify(
    State(state): State<AppState>,
    Path((centre, entry)): Path<(String, String)>,
    posted: Posted,
) -> Page {
    let staff = &posted.staff;
    let centre = staff.centre(Section::Volunteers, &centre)?;
    if !verifies(staff) {
        return Err(Refusal::forbidden());
    }
    let lang = staff.lang;
    let approve = posted.get("approve") == "true";
    let reason = posted.get("reason").trim().to_owned();
    let mut errors = FieldErrors::default();
    if !approve && reason.is_empty() {
        errors.push(
            "reason",
            lang.pick(
                "请写明驳回的原因，志愿者会看到",
                "Say why the hours are rejected; the volunteer is told",
            ),
        );
    }
    if errors.is_empty() {
        match state
            .volunteers
            .clone()
            .verify_hours(staff.grpc(vo::VerifyHoursRequest {
                centre_id: centre.id.clone(),
                entry_id: entry.clone(),
                approve,
                reason: reason.clone(),
            }))
            .await
        {
            Ok(_) => {
                return Ok(Redirect::to(&format!(
                    "/c/{}/volunteers?notice={}",
                    centre.id,
                    if approve { "verified" } else { "rejected" }
                ))
                .into_response());
            }
            Err(status) if !approve && is_refusal(&status) => {
                errors = FieldErrors::from_status(&status, lang);
            }
            Err(status) => return Err(status.into()),
        }
    }
    reject_page(&state, staff, &centre, &entry, &reason, errors).await
}

pub async fn reject_form(
    State(state): State<AppState>,
    staff: Staff,
    Path((centre, entry)): Path<(String, String)>,
) -> Page {
    let centre = staff.centre(Section::Volunteers, &centre)?;
    if !verifies(&staff) {
        return Err(Refusal::forbidden());
    }
    reject_page(&state, &staff, &centre, &entry, "", FieldErrors::default()).await
}

/// Asks why hours waiting for verification are rejected.
async fn reject_page(
    state: &AppState,
    staff: &Staff,
    centre: &pb::Centre,
    entry: &str,
    reason: &str,
    errors: FieldErrors,
) -> Page {
    let lang = staff.lang;
    let pending = every_page(|page_token| async {
        let reply = state
            .volunteers
            .clone()
            .list_hour_entries(staff.grpc(vo::ListHourEntriesRequest {
                centre_id: centre.id.clone(),
                status: "pending".into(),
                page_size: PAGE,
                page_token,
                ..Default::default()
            }))
            .await?
            .into_inner();
        Ok::<_, Refusal>((reply.entries, reply.next_page_token))
    })
    .await?;
    let Some(found) = pending.into_iter().find(|e| e.id == entry) else {
        return Ok(Redirect::to(&format!("/c/{}/volunteers", centre.id)).into_response());
    };
    let who = names(state, staff, &centre.id)
        .await?
        .remove(&found.volunteer_id)
        .unwrap_or_default();
    let here = format!("/c/{}/volunteers/hours/{}", centre.id, found.id);
    let error = errors.get("reason");
    let content = html! {
        @if !errors.is_empty() { span hidden data-page-url=(format!("{here}/reject")) {} }
        p { a href=(format!("/c/{}/volunteers", centre.id)) { "← " (lang.pick("返回志愿者", "Back to volunteers")) } }
        dl.facts #entry {
            dt { (lang.pick("志愿者", "Volunteer")) } dd { (who) }
            dt { (lang.pick("日期", "Day")) } dd { (NaiveDate::parse_from_str(&found.worked_on, "%Y-%m-%d").map(|d| date(lang, d)).unwrap_or_default()) }
            dt { (lang.pick("时长", "Time")) } dd { (i18n::hours(lang, found.minutes.into())) }
            @if !found.note.is_empty() { dt { (lang.pick("备注", "Note")) } dd { (found.note) } }
        }
        form method="post" action=(here) {
            (csrf(staff))
            input type="hidden" name="approve" value="false";
            (general_errors(&errors, &["reason"]))
            div.field.invalid[error.is_some()] {
                label for="f-reason" { (lang.pick("驳回原因", "Why")) span.req aria-hidden="true" { " *" } }
                textarea #f-reason name="reason" rows="3" maxlength="200" aria-invalid=[error.map(|_| "true")] { (reason) }
                @if let Some(message) = error { span.error #f-reason-error role="alert" { (message) } }
            }
            button #confirm-reject type="submit" { (lang.pick("确认驳回", "Reject")) }
        }
    };
    Ok(super::layout(
        staff,
        Section::Volunteers,
        Some(centre),
        &format!(
            "{} · {}",
            centre.name,
            lang.pick("驳回服务时长", "Reject hours")
        ),
        content,
    ))
}

/// Hours logged for a volunteer by a coordinator, waiting for another to verify them. The
/// time is typed in hours (2 or 1.5); a refusal is said beside its field, the rest kept.
pub async fn log_hours(
    State(state): State<AppState>,
    Path(centre): Path<String>,
    posted: Posted,
) -> Page {
    let staff = &posted.staff;
    let centre = staff.centre(Section::Volunteers, &centre)?;
    if !verifies(staff) {
        return Err(Refusal::forbidden());
    }
    let lang = staff.lang;
    let form = HoursForm {
        volunteer_id: posted.get("volunteer_id").to_owned(),
        worked_on: posted.get("worked_on").to_owned(),
        hours: posted.get("hours").trim().to_owned(),
        note: posted.get("note").to_owned(),
    };
    let mut errors = FieldErrors::default();
    if form.volunteer_id.is_empty() {
        errors.push(
            "volunteer_id",
            lang.pick("请选择志愿者", "Choose a volunteer"),
        );
    }
    let minutes = form
        .hours
        .replace('，', ".")
        .parse::<f64>()
        .ok()
        .filter(|h| h.is_finite() && *h > 0.0 && *h <= 24.0)
        .map(|h| (h * 60.0).round() as i32);
    if minutes.is_none() {
        errors.push(
            "hours",
            lang.pick(
                "请填写 0 到 24 之间的小时数，例如 2 或 1.5",
                "Give the hours between 0 and 24, such as 2 or 1.5",
            ),
        );
    }
    if errors.is_empty() {
        match state
            .volunteers
            .clone()
            .log_hours(staff.grpc(vo::LogHoursRequest {
                centre_id: centre.id.clone(),
                volunteer_id: form.volunteer_id.clone(),
                worked_on: form.worked_on.clone(),
                minutes: minutes.unwrap_or_default(),
                note: form.note.clone(),
                ..Default::default()
            }))
            .await
        {
            Ok(_) => {
                return Ok(
                    Redirect::to(&format!("/c/{}/volunteers?notice=logged", centre.id))
                        .into_response(),
                );
            }
            Err(status) if is_refusal(&status) => {
                errors = FieldErrors::from_status(&status, lang);
                for (field, _) in &mut errors.0 {
                    if field == "minutes" {
                        *field = "hours".into();
                    }
                }
            }
            Err(status) => return Err(status.into()),
        }
    }
    week_page(&state, staff, centre, form, errors, "").await
}
