//! The centre's message board (居民议事) on the residents' site: the threads staff have not
//! hidden, a new thread, a thread with its replies, a reply, and a report of a post to
//! staff. Everything a resident writes is shown as text; an over-long post is said in
//! Chinese beside the field with the text kept.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use axum::routing::{get, post};
use axum::{Form, Router};
use linli_proto::evaluation::v1 as ev;
use maud::html;
use serde::Deserialize;
use tonic::Code;

use super::{Page, Tab, Trouble, Visit, centre_of, day, page};
use crate::AppState;
use crate::console::i18n::{self, Lang};
use crate::console::instant;

const TITLE_MAX: usize = 60;
const BODY_MAX: usize = 1000;

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/r/forum", get(threads).post(start))
        .route("/r/forum/{thread}", get(thread).post(reply))
        .route("/r/forum/posts/{post}/report", post(report))
}

#[derive(Deserialize, Default)]
pub(super) struct PostForm {
    #[serde(default)]
    title: String,
    #[serde(default)]
    body: String,
}

/// The refusal of a post's field, said before the service is asked (it refuses the same).
fn too_long(text: &str, max: usize, what: &str) -> Option<String> {
    let n = text.trim().chars().count();
    if n == 0 {
        Some(format!("请填写{what}"))
    } else if n > max {
        Some(format!(
            "{what}最多 {max} 个字，现在有 {n} 个字，请删减一些"
        ))
    } else {
        None
    }
}

async fn threads_view(
    state: &AppState,
    visit: &Visit,
    typed: &PostForm,
    errors: (Option<String>, Option<String>),
) -> Page {
    let centre = centre_of(state, visit).await?;
    let threads = state
        .evaluation
        .clone()
        .list_forum_threads(visit.auth.grpc(ev::ListForumThreadsRequest {
            centre_id: visit.centre.to_string(),
            page_size: 50,
            ..Default::default()
        }))
        .await?
        .into_inner()
        .posts;
    let status = if errors.0.is_some() || errors.1.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    let body = page(
        visit.large,
        "居民议事",
        Some(Tab::Home),
        html! {
            @if threads.is_empty() { p.empty { "还没有话题，欢迎您先说一说。" } }
            ul.cards {
                @for t in &threads {
                    li.card {
                        a.card-link href=(format!("/r/forum/{}", t.id)) {
                            @if t.pinned { span.state { "置顶" } }
                            span.name { (t.title) }
                            span.when {
                                (instant(&t.created_at).map(|at| day(at, centre.zone)).unwrap_or_default())
                                " · " (t.replies) " 条回复"
                                @if t.locked { " · 已关闭" }
                            }
                            span.go { "查看 ›" }
                        }
                    }
                }
            }
            h2 { "发起话题" }
            form method="post" action="/r/forum" {
                div.field.invalid[errors.0.is_some()] {
                    label for="title" { "标题" }
                    input #title name="title" value=(typed.title);
                    @if let Some(e) = &errors.0 { p.error role="alert" { (e) } }
                }
                div.field.invalid[errors.1.is_some()] {
                    label for="body" { "内容" }
                    textarea #body name="body" rows="5" { (typed.body) }
                    @if let Some(e) = &errors.1 { p.error role="alert" { (e) } }
                }
                button.primary type="submit" { "发布" }
            }
        },
    );
    Ok((status, body).into_response())
}

async fn threads(State(state): State<AppState>, visit: Visit) -> Page {
    threads_view(&state, &visit, &PostForm::default(), (None, None)).await
}

async fn start(State(state): State<AppState>, visit: Visit, Form(form): Form<PostForm>) -> Page {
    let errors = (
        too_long(&form.title, TITLE_MAX, "标题"),
        too_long(&form.body, BODY_MAX, "内容"),
    );
    if errors.0.is_some() || errors.1.is_some() {
        return threads_view(&state, &visit, &form, errors).await;
    }
    let made = state
        .evaluation
        .clone()
        .post_to_forum(visit.auth.grpc(ev::PostToForumRequest {
            centre_id: visit.centre.to_string(),
            title: form.title.clone(),
            body: form.body.clone(),
            ..Default::default()
        }))
        .await;
    match made {
        Ok(post) => Ok(Redirect::to(&format!("/r/forum/{}", post.into_inner().id)).into_response()),
        Err(status) if status.code() == Code::InvalidArgument => {
            let message = i18n::refusal(Lang::Zh, &status);
            threads_view(&state, &visit, &form, (None, Some(message))).await
        }
        Err(status) => Err(Trouble::from(status)),
    }
}

async fn thread_view(
    state: &AppState,
    visit: &Visit,
    thread: &str,
    typed: &PostForm,
    error: Option<String>,
    notice: Option<&str>,
) -> Page {
    let centre = centre_of(state, visit).await?;
    let posts = state
        .evaluation
        .clone()
        .get_forum_thread(visit.auth.grpc(ev::GetForumThreadRequest {
            centre_id: visit.centre.to_string(),
            thread_id: thread.to_owned(),
        }))
        .await?
        .into_inner()
        .posts;
    let Some(first) = posts.first() else {
        return Err(Trouble(StatusCode::NOT_FOUND));
    };
    let status = if error.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    let body = page(
        visit.large,
        &first.title,
        Some(Tab::Home),
        html! {
            @if let Some(notice) = notice { p.notice role="status" { (notice) } }
            ul.cards {
                @for (i, p) in posts.iter().enumerate() {
                    li.card.notice {
                        p.label {
                            span.kind { @if i == 0 { "话题" } @else { "回复" } }
                            @if p.mine { span.kind { "我" } }
                            span.date { (instant(&p.created_at).map(|at| day(at, centre.zone)).unwrap_or_default()) }
                        }
                        p.body { (p.body) }
                        @if !p.mine {
                            form method="post" action=(format!("/r/forum/posts/{}/report", p.id)) {
                                input type="hidden" name="thread" value=(first.id);
                                button.secondary type="submit" { "举报不当内容" }
                            }
                        }
                    }
                }
            }
            @if first.locked {
                p.empty { "这个话题已关闭，不能再回复。" }
            } @else {
                form method="post" action=(format!("/r/forum/{}", first.id)) {
                    div.field.invalid[error.is_some()] {
                        label for="body" { "我要回复" }
                        textarea #body name="body" rows="4" { (typed.body) }
                        @if let Some(e) = &error { p.error role="alert" { (e) } }
                    }
                    button.primary type="submit" { "回复" }
                }
            }
            a.button.secondary href="/r/forum" { "回到居民议事" }
        },
    );
    Ok((status, body).into_response())
}

async fn thread(
    State(state): State<AppState>,
    visit: Visit,
    Path(thread): Path<String>,
    axum::extract::Query(q): axum::extract::Query<ReportedQuery>,
) -> Page {
    let notice = q
        .reported
        .is_some()
        .then_some("已收到您的举报，工作人员会尽快处理。");
    thread_view(&state, &visit, &thread, &PostForm::default(), None, notice).await
}

#[derive(Deserialize)]
pub(super) struct ReportedQuery {
    reported: Option<String>,
}

async fn reply(
    State(state): State<AppState>,
    visit: Visit,
    Path(thread): Path<String>,
    Form(form): Form<PostForm>,
) -> Page {
    if let Some(error) = too_long(&form.body, BODY_MAX, "回复") {
        return thread_view(&state, &visit, &thread, &form, Some(error), None).await;
    }
    let made = state
        .evaluation
        .clone()
        .post_to_forum(visit.auth.grpc(ev::PostToForumRequest {
            centre_id: visit.centre.to_string(),
            thread_id: thread.clone(),
            body: form.body.clone(),
            ..Default::default()
        }))
        .await;
    match made {
        Ok(_) => Ok(Redirect::to(&format!("/r/forum/{thread}")).into_response()),
        Err(status)
            if matches!(
                status.code(),
                Code::InvalidArgument | Code::FailedPrecondition
            ) =>
        {
            let message = i18n::refusal(Lang::Zh, &status);
            thread_view(&state, &visit, &thread, &form, Some(message), None).await
        }
        Err(status) => Err(Trouble::from(status)),
    }
}

#[derive(Deserialize)]
pub(super) struct ReportForm {
    thread: String,
}

async fn report(
    State(state): State<AppState>,
    visit: Visit,
    Path(post): Path<String>,
    Form(form): Form<ReportForm>,
) -> Page {
    state
        .evaluation
        .clone()
        .report_forum_post(visit.auth.grpc(ev::ReportForumPostRequest {
            centre_id: visit.centre.to_string(),
            post_id: post,
        }))
        .await?;
    let thread = uuid::Uuid::parse_str(&form.thread).map_err(|_| Trouble(StatusCode::NOT_FOUND))?;
    Ok(Redirect::to(&format!("/r/forum/{thread}?reported=1")).into_response())
}
