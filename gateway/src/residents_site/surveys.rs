//! 问卷 on the residents' site: the satisfaction invitations made for a resident after a
//! service (and for a child they act for), each answered once, and the centre's awareness
//! survey (社区服务知晓度调查), which a resident asks for themselves at most once a month.
//! Evaluation decides: a resident's token lists and answers only their own invitations, and
//! a second answer is refused (`survey.already_answered`), said here in Chinese.

use std::collections::BTreeMap;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use axum::routing::{get, post};
use axum::{Form, Router};
use linli_platform::error::violations_of;
use linli_proto::evaluation::v1 as ev;
use maud::{Markup, html};
use serde::Deserialize;
use tonic::Code;
use uuid::Uuid;

use super::{Page, Tab, Trouble, Visit, centre_of, day, names, page};
use crate::AppState;
use crate::console::i18n::{self, Lang};
use crate::console::instant;

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/r/surveys", get(list))
        .route("/r/surveys/awareness", post(awareness))
        .route("/r/surveys/{invitation}", get(one).post(answer))
}

/// The words of a scale's five points.
const SCALE: [&str; 5] = ["很不满意", "不满意", "一般", "满意", "很满意"];

/// An option of the district's questions as a resident reads it.
fn option_words(option: &str) -> String {
    match option {
        "yes" => "是".into(),
        "no" => "否".into(),
        "government_affairs" => "政务服务".into(),
        "life_services" => "生活服务".into(),
        "health" => "健康服务".into(),
        "culture_education" => "文化教育".into(),
        "elderly_care" => "养老服务".into(),
        "youth" => "青少年服务".into(),
        other => i18n::term(Lang::Zh, other),
    }
}

/// A question's text without the scale's "（1–5）", which the buttons say in words.
fn question_words(question: &ev::Question) -> String {
    question
        .text
        .trim_end_matches("（1–5）")
        .trim_end_matches("(1-5)")
        .to_owned()
}

async fn templates(state: &AppState, visit: &Visit) -> Result<Vec<ev::SurveyTemplate>, Trouble> {
    Ok(state
        .evaluation
        .clone()
        .list_survey_templates(visit.auth.grpc(ev::ListSurveyTemplatesRequest {
            centre_id: visit.centre.to_string(),
        }))
        .await?
        .into_inner()
        .templates)
}

async fn invitations_of(
    state: &AppState,
    visit: &Visit,
    who: Uuid,
) -> Result<Vec<ev::Invitation>, Trouble> {
    Ok(state
        .evaluation
        .clone()
        .list_invitations(visit.auth.grpc(ev::ListInvitationsRequest {
            centre_id: visit.centre.to_string(),
            resident_id: who.to_string(),
            page_size: 100,
            ..Default::default()
        }))
        .await?
        .into_inner()
        .invitations)
}

/// The service an invitation asks about, by name: none when it asks about none (or the
/// catalogue no longer has it).
async fn about(state: &AppState, visit: &Visit, invitation: &ev::Invitation) -> Option<String> {
    if invitation.offering_id.is_empty() {
        return None;
    }
    state
        .bookings
        .clone()
        .get_offering(
            visit
                .auth
                .grpc(linli_proto::bookings::v1::GetOfferingRequest {
                    centre_id: visit.centre.to_string(),
                    offering_id: invitation.offering_id.clone(),
                }),
        )
        .await
        .ok()
        .map(|offering| offering.into_inner().name)
}

#[derive(Deserialize)]
struct DoneQuery {
    done: Option<String>,
}

async fn list(
    State(state): State<AppState>,
    visit: Visit,
    axum::extract::Query(q): axum::extract::Query<DoneQuery>,
) -> Page {
    let centre = centre_of(&state, &visit).await?;
    let people = names(&state, &visit).await?;
    let templates = templates(&state, &visit).await?;
    let title = |id: &str| {
        templates
            .iter()
            .find(|t| t.id == id)
            .map(|t| t.title.clone())
            .unwrap_or_else(|| "问卷".into())
    };
    let mut open = Vec::new();
    let mut answered = Vec::new();
    for (id, name) in &people {
        for invitation in invitations_of(&state, &visit, *id).await? {
            if invitation.answered {
                answered.push((name.clone(), invitation));
            } else {
                let service = about(&state, &visit, &invitation).await;
                open.push((name.clone(), invitation, service));
            }
        }
    }
    let zone = centre.zone;
    let aware = templates.iter().any(|t| t.kind == "awareness");
    Ok(page(
        visit.large,
        "问卷",
        Some(Tab::Me),
        html! {
            @if q.done.is_some() { p.notice role="status" { "谢谢您的回答！" } }
            section aria-labelledby="open-h" {
                h2 #open-h { "请您填写" }
                @if open.is_empty() {
                    p.empty { "现在没有要填写的服务回访问卷。" }
                } @else {
                    ul.cards {
                        @for (name, i, service) in &open {
                            li.card {
                                a.card-link href=(format!("/r/surveys/{}", i.id)) {
                                    span.name { (title(&i.template_id)) }
                                    @if let Some(service) = service { span.about { "关于：" (service) } }
                                    @if people.len() > 1 { span.for-whom { "为 " (name) " 填写" } }
                                    @if let Some(at) = instant(&i.created_at) { span.when { (day(at, zone)) " 邀请" } }
                                    span.go { "开始填写 ›" }
                                }
                            }
                        }
                    }
                }
            }
            @if aware {
                section aria-labelledby="aware-h" {
                    h2 #aware-h { "社区服务知晓度调查" }
                    p { "两道题，帮助服务中心了解大家知道和用过哪些服务。" }
                    form method="post" action="/r/surveys/awareness" {
                        button.secondary type="submit" { "填写知晓度调查" }
                    }
                }
            }
            @if !answered.is_empty() {
                section aria-labelledby="done-h" {
                    h2 #done-h { "已填写" }
                    ul.cards {
                        @for (_, i) in &answered {
                            li.card.booking {
                                span.name { (title(&i.template_id)) }
                                span.state { "已填写 · " (super::mine::since(instant(&i.answered_at), zone)) }
                            }
                        }
                    }
                }
            }
        },
    )
    .into_response())
}

/// The resident's own awareness invitation (this month's, or a new one), then its page.
async fn awareness(State(state): State<AppState>, visit: Visit) -> Page {
    let template = templates(&state, &visit)
        .await?
        .into_iter()
        .find(|t| t.kind == "awareness")
        .ok_or(Trouble(StatusCode::NOT_FOUND))?;
    let invitation = state
        .evaluation
        .clone()
        .create_invitation(visit.auth.grpc(ev::CreateInvitationRequest {
            centre_id: visit.centre.to_string(),
            template_id: template.id,
            resident_id: visit.me.to_string(),
        }))
        .await?
        .into_inner();
    Ok(Redirect::to(&format!("/r/surveys/{}", invitation.id)).into_response())
}

/// What was chosen and typed, by question key, kept through a refusal.
type Typed = BTreeMap<String, Vec<String>>;

fn question(q: &ev::Question, typed: &Typed, error: Option<&String>) -> Markup {
    let name = format!("q_{}", q.key);
    let chosen = typed.get(&q.key).cloned().unwrap_or_default();
    let is = |value: &str| chosen.iter().any(|c| c == value);
    let hint = format!("{name}-error");
    html! {
        fieldset.field.choices.invalid[error.is_some()] aria-describedby=[error.map(|_| hint.as_str())] {
            legend { (question_words(q)) }
            @if let Some(error) = error { p.error #(hint) role="alert" { (error) } }
            @match q.kind.as_str() {
                "scale" => {
                    @for (n, words) in SCALE.iter().enumerate() {
                        @let value = (n + 1).to_string();
                        label.choice {
                            input type="radio" name=(name) value=(value) checked[is(&value)];
                            span { (value) " 分 · " (words) }
                        }
                    }
                }
                "single" => {
                    @for option in &q.options {
                        label.choice {
                            input type="radio" name=(name) value=(option) checked[is(option)];
                            span { (option_words(option)) }
                        }
                    }
                }
                "multiple" => {
                    @for option in &q.options {
                        label.choice {
                            input type="checkbox" name=(name) value=(option) checked[is(option)];
                            span { (option_words(option)) }
                        }
                    }
                }
                _ => {
                    textarea name=(name) rows="4" aria-label=(question_words(q)) {
                        (chosen.first().map(String::as_str).unwrap_or_default())
                    }
                }
            }
        }
    }
}

async fn view(
    state: &AppState,
    visit: &Visit,
    invitation_id: &str,
    typed: &Typed,
    errors: &BTreeMap<String, String>,
) -> Page {
    let centre = centre_of(state, visit).await?;
    let people = names(state, visit).await?;
    // Only an invitation made for the resident or one they act for is found.
    let mut found = None;
    for (id, name) in &people {
        if let Some(i) = invitations_of(state, visit, *id)
            .await?
            .into_iter()
            .find(|i| i.id == invitation_id)
        {
            found = Some((name.clone(), i));
            break;
        }
    }
    let (name, invitation) = found.ok_or(Trouble(StatusCode::NOT_FOUND))?;
    let template = templates(state, visit)
        .await?
        .into_iter()
        .find(|t| t.id == invitation.template_id)
        .ok_or(Trouble(StatusCode::NOT_FOUND))?;
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let general = errors.get("answers");
    let service = about(state, visit, &invitation).await;
    let body = page(
        visit.large,
        &template.title,
        Some(Tab::Me),
        html! {
            @if invitation.answered {
                @if let Some(error) = general {
                    p.error role="alert" { (error) }
                } @else {
                    p.notice role="status" {
                        "这份问卷已经填写过了（" (super::mine::since(instant(&invitation.answered_at), centre.zone)) "），谢谢您！"
                    }
                }
                a.button.primary href="/r/surveys" { "返回问卷" }
            } @else {
                @if let Some(service) = &service { p.about { "关于您参加的 " strong { (service) } } }
                @if people.len() > 1 { p.for-whom { "为 " strong { (name) } " 填写" } }
                p.lead { "每题选一个最符合的答案，不想答的题可以不答。" }
                form method="post" action=(format!("/r/surveys/{}", invitation.id)) novalidate {
                    @if let Some(error) = general { p.error #answers-error role="alert" { (error) } }
                    @for q in &template.questions {
                        (question(q, typed, errors.get(&q.key)))
                    }
                    button.primary type="submit" { "提交" }
                }
                a.button.secondary href="/r/surveys" { "返回" }
            }
        },
    );
    Ok((status, body).into_response())
}

async fn one(State(state): State<AppState>, visit: Visit, Path(invitation): Path<String>) -> Page {
    view(&state, &visit, &invitation, &Typed::new(), &BTreeMap::new()).await
}

async fn answer(
    State(state): State<AppState>,
    visit: Visit,
    Path(invitation): Path<String>,
    Form(form): Form<Vec<(String, String)>>,
) -> Page {
    let mut typed = Typed::new();
    for (name, value) in form {
        if let Some(key) = name.strip_prefix("q_")
            && !value.trim().is_empty()
        {
            typed.entry(key.to_owned()).or_default().push(value);
        }
    }
    let template = {
        let templates = templates(&state, &visit).await?;
        let people = names(&state, &visit).await?;
        let mut template_id = None;
        for (id, _) in &people {
            if let Some(i) = invitations_of(&state, &visit, *id)
                .await?
                .into_iter()
                .find(|i| i.id == invitation)
            {
                template_id = Some(i.template_id);
                break;
            }
        }
        let template_id = template_id.ok_or(Trouble(StatusCode::NOT_FOUND))?;
        templates
            .into_iter()
            .find(|t| t.id == template_id)
            .ok_or(Trouble(StatusCode::NOT_FOUND))?
    };
    let mut answers = Vec::new();
    for q in &template.questions {
        let Some(values) = typed.get(&q.key) else {
            continue;
        };
        let mut a = ev::Answer {
            key: q.key.clone(),
            ..Default::default()
        };
        match q.kind.as_str() {
            "scale" => a.score = values.first().and_then(|v| v.parse().ok()),
            "single" | "multiple" => a.choices = values.clone(),
            _ => a.text = values.first().cloned().unwrap_or_default(),
        }
        answers.push(a);
    }
    let keys: Vec<String> = answers.iter().map(|a| a.key.clone()).collect();
    let mut errors = BTreeMap::new();
    if answers.is_empty() {
        errors.insert("answers".to_owned(), "请至少回答一题再提交".to_owned());
        return view(&state, &visit, &invitation, &typed, &errors).await;
    }
    let sent = state
        .evaluation
        .clone()
        .submit_response(visit.auth.grpc(ev::SubmitResponseRequest {
            centre_id: visit.centre.to_string(),
            invitation_id: invitation.clone(),
            answers,
        }))
        .await;
    match sent {
        Ok(_) => Ok(Redirect::to("/r/surveys?done=1").into_response()),
        Err(status) if status.code() == Code::InvalidArgument => {
            for violation in violations_of(&status) {
                // answers[n].score → the n-th answer's question.
                let key = violation
                    .field
                    .strip_prefix("answers[")
                    .and_then(|rest| rest.split(']').next())
                    .and_then(|n| n.parse::<usize>().ok())
                    .and_then(|n| keys.get(n).cloned())
                    .unwrap_or_else(|| "answers".to_owned());
                errors.insert(key, crate::catalogue::field_message(Lang::Zh, &violation));
            }
            view(&state, &visit, &invitation, &typed, &errors).await
        }
        Err(status)
            if matches!(
                status.code(),
                Code::AlreadyExists | Code::FailedPrecondition
            ) =>
        {
            errors.insert("answers".to_owned(), i18n::refusal(Lang::Zh, &status));
            view(&state, &visit, &invitation, &typed, &errors).await
        }
        Err(status) => Err(Trouble::from(status)),
    }
}
