//! 提醒: the alerts inbox. Every page's header counts what waits for the user at the
//! centre (提醒 (n)); the inbox lists it in words, each linking to what it is about, with
//! 已处理 to acknowledge it. Evaluation keeps the alerts and says which kinds each role
//! handles; hours waiting for verification are volunteers' own state, counted here when
//! the page is shown (they leave when verified, so there is nothing to acknowledge).

use std::collections::HashMap;

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect};
use linli_platform::auth::{Caller, Role};
use linli_proto::evaluation::v1 as ev;
use linli_proto::registry::v1::Centre;
use linli_proto::volunteers::v1 as vo;
use maud::{Markup, html};
use serde::Deserialize;
use uuid::Uuid;

use super::listing::{PAGE, every_page};
use super::{
    Page, Posted, Query, Refusal, Section, Staff, csrf, date, i18n, instant, money, notice, when,
    zone,
};
use crate::AppState;
use crate::auth::Authenticated;
use crate::catalogue::Lang;

/// Who has an inbox: every role that handles some kind of alert (evaluation's
/// `ALERT_ROLES`; the auditor handles none).
const INBOX_ROLES: [Role; 5] = [
    Role::DistrictAdmin,
    Role::CentreManager,
    Role::FinanceOfficer,
    Role::Coordinator,
    Role::FrontDesk,
];

/// Who verifies volunteers' hours, and so is told of hours waiting.
const VERIFIERS: [Role; 3] = [Role::DistrictAdmin, Role::CentreManager, Role::Coordinator];

fn has_any(caller: &Caller, roles: &[Role]) -> bool {
    roles.iter().any(|r| caller.roles.contains(r))
}

/// The header's count: the centre it is for and how many alerts wait there.
#[derive(Clone, Debug)]
pub struct Badge {
    pub centre: Uuid,
    /// None when a service did not answer: the link is still shown, without a figure.
    pub count: Option<u32>,
}

/// Hours entries waiting for verification at `centre`, at most `up_to` counted, and
/// whether there are more.
async fn hours_waiting(
    state: &AppState,
    auth: &Authenticated,
    centre: Uuid,
    up_to: u32,
) -> Result<(usize, bool), tonic::Status> {
    let reply = state
        .volunteers
        .clone()
        .list_hour_entries(auth.grpc(vo::ListHourEntriesRequest {
            centre_id: centre.to_string(),
            status: "pending".into(),
            page_size: up_to,
            ..Default::default()
        }))
        .await?
        .into_inner();
    Ok((reply.entries.len(), !reply.next_page_token.is_empty()))
}

/// The badge for a page at `path`: the centre the path names (one the user covers), else
/// the user's own centre; none for a user with no inbox or no centre yet.
pub async fn badge(
    state: &AppState,
    auth: &Authenticated,
    caller: &Caller,
    path: &str,
) -> Option<Badge> {
    if !has_any(caller, &INBOX_ROLES) {
        return None;
    }
    let named = path
        .strip_prefix("/c/")
        .and_then(|rest| rest.split('/').next())
        .and_then(|id| Uuid::parse_str(id).ok())
        .filter(|id| caller.covers_centre(*id));
    let centre = named.or_else(|| {
        (!caller.is_district_wide() && caller.centres.len() == 1)
            .then(|| caller.centres.first().copied())
            .flatten()
    })?;
    // Both at once: this runs before every page.
    let alerts = async {
        state
            .evaluation
            .clone()
            .list_alerts(auth.grpc(ev::ListAlertsRequest {
                centre_id: centre.to_string(),
                page_size: 1,
                page_token: String::new(),
            }))
            .await
            .map(|r| r.into_inner().open_count)
    };
    let hours = async {
        if has_any(caller, &VERIFIERS) {
            hours_waiting(state, auth, centre, 1)
                .await
                .map(|(n, _)| u32::from(n > 0))
        } else {
            Ok(0)
        }
    };
    let (alerts, hours) = tokio::join!(alerts, hours);
    Some(Badge {
        centre,
        count: match (alerts, hours) {
            (Ok(a), Ok(h)) => Some(a + h),
            _ => None,
        },
    })
}

/// The header's link to the inbox.
pub fn header_link(lang: Lang, badge: &Badge) -> Markup {
    html! {
        a.alerts href=(format!("/c/{}/alerts", badge.centre)) data-alerts=[badge.count] {
            (lang.pick("提醒", "Alerts"))
            @if let Some(n) = badge.count {
                " " span.badge.(if n > 0 { "due" } else { "none" }) { "(" (n) ")" }
            }
        }
    }
}

/// A field of a resident's record, as a correction request names it.
fn record_field(lang: Lang, field: &str) -> &'static str {
    match field {
        "name" => lang.pick("姓名", "name"),
        "gender" => lang.pick("性别", "gender"),
        "date_of_birth" => lang.pick("出生日期", "date of birth"),
        "phone" => lang.pick("电话", "phone"),
        "national_id" => lang.pick("身份证号", "ID number"),
        "address" => lang.pick("住址", "address"),
        "categories" => lang.pick("居民类别", "categories"),
        _ => lang.pick("其他信息", "other details"),
    }
}

/// One row of the inbox, in words: what happened, what it links to, and whether it is
/// acknowledged here (standing ones leave when the condition does).
struct Row {
    id: String,
    at: String,
    kind: &'static str,
    text: String,
    link: (String, &'static str),
    acknowledge: bool,
}

fn detail<'a>(alert: &'a ev::Alert, key: &str) -> &'a str {
    alert.details.get(key).map(String::as_str).unwrap_or("")
}

fn row(
    lang: Lang,
    centre: &Centre,
    alert: &ev::Alert,
    volunteers: &HashMap<String, String>,
    residents: &HashMap<String, String>,
) -> Row {
    let tz = zone(centre);
    let at = instant(&alert.created_at)
        .map(|t| when(lang, t, tz))
        .unwrap_or_default();
    let c = &centre.id;
    let someone = |names: &HashMap<String, String>, fallback: &str| {
        names
            .get(&alert.subject_id)
            .cloned()
            .unwrap_or_else(|| fallback.to_owned())
    };
    let day = |key: &str| {
        detail(alert, key)
            .parse::<chrono::NaiveDate>()
            .map(|d| date(lang, d))
            .unwrap_or_default()
    };
    let (kind, text, link) = match alert.kind.as_str() {
        "budget_threshold" => {
            let amount = |key: &str| money(detail(alert, key).parse().unwrap_or(0));
            (
                lang.pick("预算", "Budget"),
                match lang {
                    Lang::Zh => format!(
                        "{}年「{}」支出已达预算的 {}%（预算 {}，已支出 {}）",
                        detail(alert, "fiscal_year"),
                        i18n::term(lang, &alert.subject_id),
                        detail(alert, "threshold_percent"),
                        amount("budget_minor"),
                        amount("actual_minor"),
                    ),
                    Lang::En => format!(
                        "{} spending on {} reached {}% of its budget ({} of {})",
                        detail(alert, "fiscal_year"),
                        i18n::term(lang, &alert.subject_id),
                        detail(alert, "threshold_percent"),
                        amount("actual_minor"),
                        amount("budget_minor"),
                    ),
                },
                (
                    // The budget page of the alert's year, with the category's meter.
                    match detail(alert, "fiscal_year").parse::<i32>() {
                        Ok(year) => format!("/c/{c}/finance/budget?year={year}"),
                        Err(_) => format!("/c/{c}/finance/budget"),
                    },
                    lang.pick("查看预算执行", "See the budget"),
                ),
            )
        }
        "certification_expiring" => {
            let holder = if alert.subject_kind == "staff" {
                lang.pick("一名工作人员", "A staff member").to_owned()
            } else {
                someone(volunteers, lang.pick("一名志愿者", "A volunteer"))
            };
            let kind = i18n::certification(lang, detail(alert, "certification_kind"));
            (
                lang.pick("证书到期", "Certificate"),
                match lang {
                    Lang::Zh => format!(
                        "{holder}的{kind}将于 {} 到期（还剩 {} 天）",
                        day("expires_on"),
                        detail(alert, "days_left")
                    ),
                    Lang::En => format!(
                        "{holder}'s {kind} expires on {} ({} days left)",
                        day("expires_on"),
                        detail(alert, "days_left")
                    ),
                },
                volunteer_link(lang, c, alert),
            )
        }
        "hours_milestone" => (
            lang.pick("服务时长", "Hours"),
            match lang {
                Lang::Zh => format!(
                    "{}的志愿服务已满 {} 小时",
                    someone(volunteers, "一名志愿者"),
                    detail(alert, "milestone_hours")
                ),
                Lang::En => format!(
                    "{} has volunteered {} hours",
                    someone(volunteers, "A volunteer"),
                    detail(alert, "milestone_hours")
                ),
            },
            volunteer_link(lang, c, alert),
        ),
        "correction_requested" => {
            let fields: Vec<&str> = detail(alert, "fields")
                .split(',')
                .filter(|f| !f.is_empty())
                .map(|f| record_field(lang, f))
                .collect();
            let who = someone(residents, lang.pick("一位居民", "A resident"));
            (
                lang.pick("更正申请", "Correction"),
                match lang {
                    Lang::Zh => format!("{who}申请更正{}", fields.join("、")),
                    Lang::En => format!("{who} asks to correct their {}", fields.join(", ")),
                },
                (
                    format!("/c/{c}/residents/{}", alert.subject_id),
                    lang.pick("打开居民档案", "Open the record"),
                ),
            )
        }
        "suggestion_overdue" => {
            let received = detail(alert, "received_at")
                .parse::<chrono::DateTime<chrono::Utc>>()
                .map(|t| date(lang, t.with_timezone(&tz).date_naive()))
                .unwrap_or_default();
            (
                lang.pick("居民建议", "Suggestion"),
                match lang {
                    Lang::Zh => format!(
                        "{received}收到的居民建议已超过 {} 天未答复",
                        detail(alert, "target_days")
                    ),
                    Lang::En => format!(
                        "A suggestion received {received} has waited over {} days for an answer",
                        detail(alert, "target_days")
                    ),
                },
                (
                    format!("/c/{c}/evaluation#suggestions"),
                    lang.pick("去答复", "Answer it"),
                ),
            )
        }
        _ => (
            lang.pick("其他", "Other"),
            lang.pick("有一项需要处理的事项", "Something needs attention")
                .to_owned(),
            (format!("/c/{c}/dashboard"), lang.pick("查看", "Open")),
        ),
    };
    Row {
        id: alert.id.clone(),
        at,
        kind,
        text,
        link,
        acknowledge: !alert.standing,
    }
}

fn volunteer_link(lang: Lang, centre: &str, alert: &ev::Alert) -> (String, &'static str) {
    if alert.subject_kind == "volunteer" {
        (
            format!("/c/{centre}/volunteers/profile/{}", alert.subject_id),
            lang.pick("查看志愿者", "See the volunteer"),
        )
    } else {
        (
            format!("/c/{centre}/volunteers"),
            lang.pick("查看志愿者工作", "See volunteering"),
        )
    }
}

#[derive(Deserialize, Default)]
pub struct InboxQuery {
    #[serde(default)]
    notice: String,
}

/// The inbox page.
pub async fn inbox(
    State(state): State<AppState>,
    staff: Staff,
    Path(centre): Path<String>,
    Query(query): Query<InboxQuery>,
) -> Page {
    let centre = staff.centre(Section::Dashboard, &centre)?;
    page(&state, &staff, &centre, &query.notice).await
}

async fn page(state: &AppState, staff: &Staff, centre: &Centre, said: &str) -> Page {
    let lang = staff.lang;
    let mine = has_any(&staff.caller, &INBOX_ROLES);
    let alerts = if mine {
        every_page(|page_token| async {
            let reply = state
                .evaluation
                .clone()
                .list_alerts(staff.grpc(ev::ListAlertsRequest {
                    centre_id: centre.id.clone(),
                    page_size: PAGE,
                    page_token,
                }))
                .await?
                .into_inner();
            Ok::<_, Refusal>((reply.alerts, reply.next_page_token))
        })
        .await?
    } else {
        Vec::new()
    };
    // Names, only for the kinds shown.
    let volunteers = if alerts.iter().any(|a| a.subject_kind == "volunteer") {
        super::volunteers::names(state, staff, &centre.id).await?
    } else {
        HashMap::new()
    };
    let residents = {
        let ids: Vec<String> = alerts
            .iter()
            .filter(|a| a.subject_kind == "resident")
            .map(|a| a.subject_id.clone())
            .collect();
        if ids.is_empty() {
            HashMap::new()
        } else {
            super::bookings::names_of(state, staff, &centre.id, &ids, "").await?
        }
    };
    let mut rows: Vec<Row> = alerts
        .iter()
        .map(|a| row(lang, centre, a, &volunteers, &residents))
        .collect();
    let centre_id = Uuid::parse_str(&centre.id).map_err(|_| Refusal::not_found())?;
    if has_any(&staff.caller, &VERIFIERS) {
        let (waiting, more) = hours_waiting(state, &staff.auth, centre_id, PAGE).await?;
        if waiting > 0 {
            let figure = if more {
                format!("{waiting}+")
            } else {
                waiting.to_string()
            };
            rows.insert(
                0,
                Row {
                    id: String::new(),
                    at: lang.pick("当前", "Now").to_owned(),
                    kind: lang.pick("待核实时长", "Hours to verify"),
                    text: match lang {
                        Lang::Zh => format!("有 {figure} 条志愿服务时长等待核实"),
                        Lang::En => format!("{figure} hours entries wait for verification"),
                    },
                    link: (
                        format!("/c/{}/volunteers#pending-hours", centre.id),
                        lang.pick("去核实", "Verify them"),
                    ),
                    acknowledge: false,
                },
            );
        }
    }
    let content = html! {
        @if said == "acknowledged" { (notice(lang.pick("已标记为已处理。", "Marked as handled."))) }
        @if said == "gone" { (notice(lang.pick("这条提醒已不在，可能已由他人处理。", "That alert is no longer there; someone may have handled it."))) }
        p.muted { (lang.pick("按时间倒序列出需要您处理的事项；处理完毕后点“已处理”。", "What waits for you, the latest first; press Handled when done.")) }
        table #alerts {
            thead { tr {
                th { (lang.pick("时间", "When")) } th { (lang.pick("类别", "Kind")) }
                th { (lang.pick("内容", "What")) } th { (lang.pick("处理", "Handle")) }
            } }
            tbody {
                @for r in &rows {
                    tr {
                        td { (r.at) }
                        td { (r.kind) }
                        td { (r.text) }
                        td.actions {
                            a href=(r.link.0) { (r.link.1) }
                            @if r.acknowledge {
                                form.inline method="post" action=(format!("/c/{}/alerts/{}/acknowledge", centre.id, r.id)) {
                                    (csrf(staff))
                                    button.secondary type="submit" { (lang.pick("已处理", "Handled")) }
                                }
                            }
                        }
                    }
                }
                @if rows.is_empty() { tr { td colspan="4" { (lang.pick("没有需要处理的提醒。", "Nothing waits for you.")) } } }
            }
        }
    };
    Ok(super::layout(
        staff,
        Section::Dashboard,
        Some(centre),
        &format!("{} · {}", centre.name, lang.pick("提醒", "Alerts")),
        content,
    ))
}

/// 已处理: acknowledges one alert and comes back to the inbox.
pub async fn acknowledge(
    State(state): State<AppState>,
    Path((centre, alert)): Path<(String, String)>,
    posted: Posted,
) -> Page {
    let staff = &posted.staff;
    let centre = staff.centre(Section::Dashboard, &centre)?;
    let done = state
        .evaluation
        .clone()
        .acknowledge_alert(staff.grpc(ev::AcknowledgeAlertRequest {
            centre_id: centre.id.clone(),
            alert_id: alert,
        }))
        .await;
    let said = match done {
        Ok(_) => "acknowledged",
        Err(status) if status.code() == tonic::Code::NotFound => "gone",
        Err(status) => return Err(status.into()),
    };
    Ok(Redirect::to(&format!("/c/{}/alerts?notice={said}", centre.id)).into_response())
}
