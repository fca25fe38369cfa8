//! The participation part of the residents' site: the centre's notices meant for the
//! resident on the home page (each with a way to book what it announces), and the
//! suggestion box: send a suggestion (named or anonymous) and read its status and the
//! centre's reply. Evaluation decides what a resident's token reads and writes here.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use axum::routing::get;
use axum::{Form, Router};
use chrono_tz::Tz;
use linli_proto::evaluation::v1 as ev;
use maud::{Markup, html};
use serde::Deserialize;
use tonic::Code;

use super::{Page, Tab, Trouble, Visit, day, page};
use crate::AppState;
use crate::console::i18n::{self, Lang};
use crate::console::instant;

/// Longest suggestion, as evaluation keeps it.
const SUGGESTION_MAX: usize = 2000;

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/r/suggestions", get(suggestions).post(suggest))
        .merge(super::forum::routes())
}

/// Where a notice's reader books what it announces: its session, or the catalogue for an
/// offering without one.
fn booking_link(draft: &ev::NoticeDraft) -> Option<String> {
    match (draft.offering_id.as_str(), draft.session_id.as_str()) {
        ("", _) => None,
        (_, "") => Some("/r/book".to_owned()),
        (offering, session) => Some(format!("/r/sessions/{session}?offering={offering}")),
    }
}

/// The home page's notices: those shown now and meant for this resident, pinned first,
/// whole (a notice is short, and one tap less for a reader of 70), and the way to the
/// suggestion box.
pub(super) async fn section(state: &AppState, visit: &Visit, zone: Tz) -> Result<Markup, Trouble> {
    let notices = state
        .evaluation
        .clone()
        .list_notices(visit.auth.grpc(ev::ListNoticesRequest {
            centre_id: visit.centre.to_string(),
            page_size: 20,
            ..Default::default()
        }))
        .await?
        .into_inner()
        .notices;
    Ok(html! {
        section aria-labelledby="notices" {
            h2 #notices { "通知公告" }
            @if notices.is_empty() {
                p.empty { "暂时没有新的通知。" }
            } @else {
                ul.cards.notices {
                    @for n in &notices {
                        @let d = n.draft.clone().unwrap_or_default();
                        li.card.notice {
                            p.label {
                                @if d.pinned { span.pinned { "置顶" } }
                                span.kind { (if d.kind == "activity" { "活动预告" } else { "通知" }) }
                                @if let Some(from) = instant(&d.publish_from) {
                                    span.date { (day(from, zone)) " 发布" }
                                }
                            }
                            h3 { (d.title) }
                            p.body { (d.body) }
                            @if let Some(href) = booking_link(&d) {
                                a.button.primary href=(href) { "查看并预约 ›" }
                            }
                        }
                    }
                }
            }
            p.participate {
                a.button.secondary href="/r/suggestions" { "我要提建议 · 看答复" }
                a.button.secondary href="/r/forum" { "居民议事" }
            }
        }
    })
}

/// A suggestion's status as a resident reads it.
pub(super) fn status_words(status: &str) -> String {
    match status {
        "received" => "已收到".into(),
        "in_progress" => "处理中".into(),
        "answered" => "已答复".into(),
        "closed" => "已办结".into(),
        other => i18n::term(Lang::Zh, other),
    }
}

#[derive(Deserialize, Default)]
pub(super) struct SuggestionForm {
    #[serde(default)]
    text: String,
    #[serde(default)]
    anonymous: Option<String>,
}

#[derive(Deserialize)]
pub(super) struct DoneQuery {
    done: Option<String>,
}

async fn suggestions_view(
    state: &AppState,
    visit: &Visit,
    typed: &SuggestionForm,
    error: Option<String>,
    done: bool,
) -> Page {
    let mine = state
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
    let status = if error.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    let body = page(
        visit.large,
        "意见和建议",
        Some(Tab::Home),
        html! {
            @if done { p.notice role="status" { "已收到您的建议，工作人员答复后会显示在下面。" } }
            form method="post" action="/r/suggestions" {
                div.field.invalid[error.is_some()] {
                    label for="text" { "您的建议" }
                    textarea #text name="text" rows="5" aria-invalid=[error.as_ref().map(|_| "true")]
                        aria-describedby=[error.as_ref().map(|_| "text-error")] { (typed.text) }
                    @if let Some(error) = &error {
                        p.error #text-error role="alert" { (error) }
                    }
                }
                div.field.check {
                    label {
                        input type="checkbox" name="anonymous" value="1" checked[typed.anonymous.is_some()];
                        " 匿名提交（工作人员看不到您的名字）"
                    }
                }
                button.primary type="submit" { "提交建议" }
            }
            section aria-labelledby="mine" {
                h2 #mine { "我提的建议" }
                @if mine.is_empty() {
                    p.empty { "您还没有提过建议。" }
                } @else {
                    ul.cards {
                        @for s in mine.iter().rev() {
                            li.card.suggestion {
                                p.label {
                                    span.state { (status_words(&s.status)) }
                                    @if s.resident_id.is_empty() { span.kind { "匿名" } }
                                }
                                p.body { (s.text) }
                                @if !s.reply.is_empty() {
                                    p.reply { strong { "中心答复：" } (s.reply) }
                                }
                            }
                        }
                    }
                }
            }
            a.button.secondary href="/r/" { "回到首页" }
        },
    );
    Ok((status, body).into_response())
}

async fn suggestions(
    State(state): State<AppState>,
    visit: Visit,
    axum::extract::Query(q): axum::extract::Query<DoneQuery>,
) -> Page {
    let done = q.done.is_some();
    suggestions_view(&state, &visit, &SuggestionForm::default(), None, done).await
}

async fn suggest(
    State(state): State<AppState>,
    visit: Visit,
    Form(form): Form<SuggestionForm>,
) -> Page {
    let length = form.text.trim().chars().count();
    // Said before the service is asked, in the resident's words; the service refuses the
    // same (and a control character) by itself.
    let error = if length == 0 {
        Some("请写下您的建议".to_owned())
    } else if length > SUGGESTION_MAX {
        Some(format!(
            "建议最多 {SUGGESTION_MAX} 个字，现在有 {length} 个字，请删减一些"
        ))
    } else {
        None
    };
    if error.is_some() {
        return suggestions_view(&state, &visit, &form, error, false).await;
    }
    let sent = state
        .evaluation
        .clone()
        .submit_suggestion(visit.auth.grpc(ev::SubmitSuggestionRequest {
            centre_id: visit.centre.to_string(),
            resident_id: visit.me.to_string(),
            channel: "online".into(),
            text: form.text.clone(),
            anonymous: form.anonymous.is_some(),
        }))
        .await;
    match sent {
        Ok(_) => Ok(Redirect::to("/r/suggestions?done=1").into_response()),
        Err(status) if status.code() == Code::InvalidArgument => {
            let message = i18n::refusal(Lang::Zh, &status);
            suggestions_view(&state, &visit, &form, Some(message), false).await
        }
        Err(status) => Err(Trouble::from(status)),
    }
}
