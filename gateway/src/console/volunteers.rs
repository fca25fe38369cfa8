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
use super::{
    Page, Posted, Refusal, Section, Staff, clock, csrf, date, i18n, instant, notice, timestamp,
    today, zone,
};
use crate::AppState;

const EXPIRY_WINDOW_DAYS: i64 = 60;

fn verifies(staff: &Staff) -> bool {
    [Role::DistrictAdmin, Role::CentreManager, Role::Coordinator]
        .iter()
        .any(|r| staff.has_role(*r))
}

pub async fn week(State(state): State<AppState>, staff: Staff, Path(centre): Path<String>) -> Page {
    let centre = staff.centre(Section::Volunteers, &centre)?;
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
    let people: HashMap<String, String> = every_page(|page_token| async {
        let reply = state
            .volunteers
            .clone()
            .list_volunteers(staff.grpc(vo::ListVolunteersRequest {
                centre_id: centre.id.clone(),
                page_size: PAGE,
                page_token,
                ..Default::default()
            }))
            .await?
            .into_inner();
        Ok::<_, Refusal>((reply.volunteers, reply.next_page_token))
    })
    .await?
    .into_iter()
    .map(|v| (v.id, v.display_name))
    .collect();
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
    let content = html! {
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
                        tr {
                            td { (people.get(&e.volunteer_id).cloned().unwrap_or_default()) }
                            td { (e.worked_on) }
                            td.num { (i18n::hours(lang, e.minutes.into())) }
                            td { (e.note) }
                            td {
                                @if verifies(&staff) {
                                    form.inline method="post" action=(format!("/c/{}/volunteers/hours/{}", centre.id, e.id)) {
                                        (csrf(&staff))
                                        button type="submit" name="approve" value="true" { (lang.pick("核实", "Verify")) }
                                        button.secondary type="submit" name="approve" value="false" { (lang.pick("驳回", "Reject")) }
                                    }
                                }
                            }
                        }
                    }
                    @if pending.is_empty() { tr { td colspan="5" { (lang.pick("没有待核实的时长。", "Nothing waiting.")) } } }
                }
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
                            td { (c.expires_on) @if expired { " " span.badge.warn { (lang.pick("已过期", "expired")) } } }
                        }
                    }
                    @if expiring.is_empty() { tr { td colspan="4" { (lang.pick("没有即将到期的证书。", "None.")) } } }
                }
            }
        }
    };
    Ok(super::layout(
        &staff,
        Section::Volunteers,
        Some(&centre),
        &format!("{} · {}", centre.name, lang.pick("志愿者", "Volunteers")),
        content,
    ))
}

pub async fn matches(
    State(state): State<AppState>,
    staff: Staff,
    Path((centre, shift)): Path<(String, String)>,
) -> Page {
    let centre = staff.centre(Section::Volunteers, &centre)?;
    let lang = staff.lang;
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
    let content = html! {
        p { a href=(format!("/c/{}/volunteers", centre.id)) { "← " (lang.pick("返回本周班次", "Back to this week's shifts")) } }
        h2 { (lang.pick("推荐", "Suggested")) }
        table #ranked {
            thead { tr { th { (lang.pick("志愿者", "Volunteer")) } th { (lang.pick("得分", "Score")) } th { (lang.pick("技能匹配", "Skill fit")) } th { (lang.pick("近30天服务时长", "Hours, last 30 days")) } th { (lang.pick("理由", "Why")) } } }
            tbody {
                @for c in &found.ranked {
                    tr { td { (c.display_name) } td.num { (format!("{:.2}", c.score)) } td.num { (format!("{:.0}%", c.skill_fit * 100.0)) } td.num { (i18n::hours(lang, c.recent_minutes)) } td { (i18n::match_reasons(lang, &c.reasons, &c.explanations)) } }
                }
                @if found.ranked.is_empty() { tr { td colspan="5" { (lang.pick("没有合适人选。", "Nobody fits.")) } } }
            }
        }
        h2 { (lang.pick("不适合", "Not suitable")) }
        table #excluded {
            tbody { @for c in &found.excluded { tr { td { (c.display_name) } td { (i18n::match_reasons(lang, &c.reasons, &c.explanations)) } } } }
        }
    };
    Ok(super::layout(
        &staff,
        Section::Volunteers,
        Some(&centre),
        &format!(
            "{} · {}",
            centre.name,
            lang.pick("班次人选", "Shift suggestions")
        ),
        content,
    ))
}

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
    state
        .volunteers
        .clone()
        .verify_hours(staff.grpc(vo::VerifyHoursRequest {
            centre_id: centre.id.clone(),
            entry_id: entry,
            approve: posted.get("approve") == "true",
        }))
        .await?;
    let _ = notice;
    Ok(Redirect::to(&format!("/c/{}/volunteers", centre.id)).into_response())
}
