//! Evaluation: the suggestion box's queue with its status changes, phone follow-ups to do,
//! and what the surveys say (the quality indicators of the month).

use super::Query;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect};
use chrono::Datelike;
use linli_proto::evaluation::v1 as ev;
use maud::html;
use serde::Deserialize;

use super::Refusal;
use super::listing::{PAGE, every_page};
use super::{
    FieldErrors, Page, Posted, Section, Staff, csrf, general_errors, i18n, instant, is_refusal,
    notice, today, when, zone,
};
use crate::AppState;

#[derive(Deserialize, Default)]
pub struct EvaluationQuery {
    #[serde(default)]
    notice: String,
}

/// The statuses a suggestion may move to next (received → in_progress → answered → closed),
/// as the service's `suggestion_move` allows: offering 已答复 on a received one only earned
/// the service's refusal.
fn next_statuses(status: &str) -> &'static [&'static str] {
    match status {
        "received" => &["in_progress"],
        "in_progress" => &["answered"],
        "answered" => &["closed"],
        _ => &[],
    }
}

fn writes(staff: &Staff) -> bool {
    staff.may_write()
}

/// What was sent in one suggestion's form and refused: shown again in that form, with the
/// refusal beside its field, so nothing typed is lost.
#[derive(Default)]
struct Typed<'a> {
    suggestion: &'a str,
    status: &'a str,
    reply: &'a str,
}

async fn page(
    state: &AppState,
    staff: &Staff,
    centre: &linli_proto::registry::v1::Centre,
    notice_code: &str,
    errors: FieldErrors,
    typed: Typed<'_>,
) -> Page {
    let lang = staff.lang;
    let tz = zone(centre);
    let day = today(centre);
    let period = format!("{:04}-{:02}", day.year(), day.month());
    let mut evaluation = state.evaluation.clone();
    // The whole box and every open follow-up, page after page.
    let mut suggestions = every_page(|page_token| async {
        let reply = state
            .evaluation
            .clone()
            .list_suggestions(staff.grpc(ev::ListSuggestionsRequest {
                centre_id: centre.id.clone(),
                page_size: PAGE,
                page_token,
                ..Default::default()
            }))
            .await?
            .into_inner();
        Ok::<_, Refusal>((reply.suggestions, reply.next_page_token))
    })
    .await?;
    suggestions.sort_by_key(|s| {
        (
            s.status == "closed",
            s.status == "answered",
            instant(&s.received_at),
        )
    });
    let follow_ups = every_page(|page_token| async {
        let reply = state
            .evaluation
            .clone()
            .list_follow_ups(staff.grpc(ev::ListFollowUpsRequest {
                centre_id: centre.id.clone(),
                open_only: true,
                page_size: PAGE,
                page_token,
                ..Default::default()
            }))
            .await?
            .into_inner();
        Ok::<_, Refusal>((reply.follow_ups, reply.next_page_token))
    })
    .await?;
    // Who each follow-up calls, with the number as this role may read it.
    let ids: Vec<String> = follow_ups.iter().map(|f| f.resident_id.clone()).collect();
    let callees = super::bookings::residents_of(state, staff, &centre.id, &ids, "").await?;
    let quality = evaluation
        .get_quality_indicators(staff.grpc(ev::GetQualityIndicatorsRequest {
            centre_id: centre.id.clone(),
            period: period.clone(),
            ..Default::default()
        }))
        .await?
        .into_inner();
    let kpis = evaluation
        .get_centre_kpis(staff.grpc(ev::GetCentreKpisRequest {
            centre_id: centre.id.clone(),
            period: period.clone(),
        }))
        .await?
        .into_inner();
    let content = html! {
        span hidden data-page-url=(format!("/c/{}/evaluation", centre.id)) {}
        @if notice_code == "moved" { (notice(lang.pick("已更新。", "Updated."))) }
        p { a href=(format!("/c/{}/notices", centre.id)) { (lang.pick("通知公告：发布、置顶、定时 ›", "Notices: issue, pin, schedule ›")) } }
        p { a href=(format!("/c/{}/forum", centre.id)) { (lang.pick("居民议事：被举报的帖子、隐藏、置顶、关闭 ›", "Forum: reported posts, hide, pin, lock ›")) } }
        // A suggestion's refusal is shown beside its field in its own form; the rest up here.
        (general_errors(&errors, if typed.suggestion.is_empty() { &[] } else { &["reply", "status"] }))
        section #survey-results {
            h2 { (lang.pick("问卷结果", "Survey results")) " · " (period) }
            dl.facts {
                dt { (lang.pick("答卷数", "Responses")) } dd { (quality.responses) }
                dt { (lang.pick("服务效果", "Effectiveness")) } dd { (format!("{:.2} / 5", quality.effectiveness)) }
                dt { (lang.pick("专业水平", "Professionalism")) } dd { (format!("{:.2} / 5", quality.professionalism)) }
                dt { (lang.pick("满意程度", "Satisfaction")) } dd { (format!("{:.2} / 5", quality.satisfaction)) }
                dt { (lang.pick("及时答复率", "Answered on time")) } dd { (format!("{:.0}%", quality.timeliness * 100.0)) }
                @for k in kpis.kpis.iter().filter(|k| k.name == "satisfaction" || k.name == "awareness") {
                    dt { (i18n::kpi(lang, &k.name)) } dd { @if k.has_data { (format!("{:.1}%", k.value * 100.0)) " (" (k.numerator) "/" (k.denominator) ")" } @else { "—" } }
                }
            }
            // The two KPIs may be kept for a short while; the scores above are counted now.
            @if let Some(at) = instant(&kpis.computed_at) {
                p.muted #computed-at { (lang.pick("指标数据截至 ", "KPI figures as of ")) (super::clock(at, tz)) }
            }
        }
        section {
            h2 { (lang.pick("意见箱", "Suggestion box")) }
            table #suggestions {
                thead { tr { th { (lang.pick("收到", "Received")) } th { (lang.pick("渠道", "Channel")) } th { (lang.pick("内容", "Text")) } th { (lang.pick("状态", "Status")) } th { (lang.pick("处理", "Handle")) } } }
                tbody {
                    @for s in &suggestions {
                        tr data-status=(s.status) {
                            td { (instant(&s.received_at).map(|t| when(lang, t, tz)).unwrap_or_default()) }
                            td { (i18n::term(lang, &s.channel)) }
                            td { (s.text) @if !s.reply.is_empty() { p.reply { (lang.pick("答复：", "Reply: ")) (s.reply) } } }
                            td { (i18n::term(lang, &s.status)) }
                            td {
                                @if writes(staff) && !next_statuses(&s.status).is_empty() {
                                    @let this = typed.suggestion == s.id;
                                    @let status_error = errors.get("status").filter(|_| this);
                                    @let reply_error = errors.get("reply").filter(|_| this);
                                    form.stack method="post" action=(format!("/c/{}/evaluation/suggestions/{}", centre.id, s.id)) {
                                        (csrf(staff))
                                        div.field.invalid[status_error.is_some()] {
                                            label for=(format!("status-{}", s.id)) { (lang.pick("改为", "Move to")) }
                                            select id=(format!("status-{}", s.id)) name="status" aria-invalid=[status_error.map(|_| "true")] {
                                                @for n in next_statuses(&s.status) { option value=(n) selected[this && typed.status == *n] { (i18n::term(lang, n)) } }
                                            }
                                            @if let Some(e) = status_error { span.error role="alert" { (e) } }
                                        }
                                        div.field.invalid[reply_error.is_some()] {
                                            label for=(format!("reply-{}", s.id)) { (lang.pick("答复（答复时必填）", "Reply (needed to answer)")) }
                                            textarea id=(format!("reply-{}", s.id)) name="reply" rows="2" autofocus[reply_error.is_some()]
                                                aria-invalid=[reply_error.map(|_| "true")] aria-describedby=[reply_error.map(|_| format!("reply-{}-error", s.id))] {
                                                @if this { (typed.reply) }
                                            }
                                            @if let Some(e) = reply_error { span.error id=(format!("reply-{}-error", s.id)) role="alert" { (e) } }
                                        }
                                        button type="submit" { (lang.pick("更新", "Update")) }
                                    }
                                }
                            }
                        }
                    }
                    @if suggestions.is_empty() { tr { td colspan="5" { (lang.pick("没有意见。", "No suggestions.")) } } }
                }
            }
        }
        section {
            h2 { (lang.pick("待回访", "Follow-ups to do")) }
            table #follow-ups {
                thead { tr { th { (lang.pick("到期", "Due")) } th { (lang.pick("居民", "Resident")) } th { (lang.pick("电话", "Phone")) } th { (lang.pick("原因", "Reason")) } th { (lang.pick("结果", "Outcome")) } } }
                tbody {
                    @for f in &follow_ups {
                        @let callee = callees.get(&f.resident_id);
                        @let phone = callee.and_then(|r| r.phone.clone()).unwrap_or_default();
                        tr data-resident=(callee.map(|r| r.name.as_str()).unwrap_or_default()) {
                            td { (super::i18n::iso_day(lang, &f.due_on)) }
                            td { @if let Some(r) = callee { a href=(format!("/c/{}/residents/{}", centre.id, r.id)) { (r.name) } } @else { (lang.pick("（已删除）", "(erased)")) } }
                            td.phone { @if phone.is_empty() { "—" } @else if phone.contains('*') { (phone) } @else { a href=(format!("tel:{phone}")) { (phone) } } }
                            td { (f.reason) }
                            td {
                                @if writes(staff) {
                                    form.inline method="post" action=(format!("/c/{}/evaluation/follow-ups/{}", centre.id, f.id)) {
                                        (csrf(staff))
                                        label for=(format!("outcome-{}", f.id)) { (lang.pick("回访情况", "Outcome")) }
                                        input id=(format!("outcome-{}", f.id)) type="text" name="outcome";
                                        button type="submit" name="status" value="done" { (lang.pick("已完成", "Done")) }
                                        button.secondary type="submit" name="status" value="unreachable" { (lang.pick("未联系上", "Unreachable")) }
                                    }
                                }
                            }
                        }
                    }
                    @if follow_ups.is_empty() { tr { td colspan="5" { (lang.pick("没有待回访。", "Nothing to do.")) } } }
                }
            }
        }
    };
    let mut response = super::layout(
        staff,
        Section::Evaluation,
        Some(centre),
        &format!("{} · {}", centre.name, lang.pick("评估", "Evaluation")),
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
    Query(query): Query<EvaluationQuery>,
) -> Page {
    let centre = staff.centre(Section::Evaluation, &centre)?;
    page(
        &state,
        &staff,
        &centre,
        &query.notice,
        FieldErrors::default(),
        Typed::default(),
    )
    .await
}

pub async fn move_suggestion(
    State(state): State<AppState>,
    Path((centre, suggestion)): Path<(String, String)>,
    posted: Posted,
) -> Page {
    let staff = &posted.staff;
    let centre = staff.centre(Section::Evaluation, &centre)?;
    let lang = staff.lang;
    // The service says what is missing (an answer without a reply: suggestion.reply_required),
    // shown beside the reply in this suggestion's form with what was typed.
    let moved = state
        .evaluation
        .clone()
        .move_suggestion(staff.grpc(ev::MoveSuggestionRequest {
            centre_id: centre.id.clone(),
            suggestion_id: suggestion.clone(),
            status: posted.get("status").to_owned(),
            reply: posted.get("reply").to_owned(),
        }))
        .await;
    let errors = match moved {
        Ok(_) => {
            return Ok(
                Redirect::to(&format!("/c/{}/evaluation?notice=moved", centre.id)).into_response(),
            );
        }
        Err(status) if is_refusal(&status) => FieldErrors::from_status(&status, lang),
        Err(status) => return Err(status.into()),
    };
    let typed = Typed {
        suggestion: &suggestion,
        status: posted.get("status"),
        reply: posted.get("reply"),
    };
    page(&state, staff, &centre, "", errors, typed).await
}

pub async fn complete_follow_up(
    State(state): State<AppState>,
    Path((centre, follow_up)): Path<(String, String)>,
    posted: Posted,
) -> Page {
    let staff = &posted.staff;
    let centre = staff.centre(Section::Evaluation, &centre)?;
    let lang = staff.lang;
    let done = state
        .evaluation
        .clone()
        .complete_follow_up(staff.grpc(ev::CompleteFollowUpRequest {
            centre_id: centre.id.clone(),
            follow_up_id: follow_up,
            status: posted.get("status").to_owned(),
            outcome: posted.get("outcome").to_owned(),
        }))
        .await;
    match done {
        Ok(_) => {
            Ok(Redirect::to(&format!("/c/{}/evaluation?notice=moved", centre.id)).into_response())
        }
        Err(status) if is_refusal(&status) => {
            page(
                &state,
                staff,
                &centre,
                "",
                FieldErrors::from_status(&status, lang),
                Typed::default(),
            )
            .await
        }
        Err(status) => Err(status.into()),
    }
}
