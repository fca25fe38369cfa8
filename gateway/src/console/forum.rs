//! 居民议事 for staff: the posts residents reported (the most reported first) and every
//! thread, each with what staff may do to it: hide or restore, pin or unpin, lock or
//! unlock. Evaluation keeps the forum; residents write on the residents' site.

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect};
use linli_proto::evaluation::v1 as ev;
use linli_proto::registry::v1::Centre;
use maud::{Markup, html};
use serde::Deserialize;

use super::listing::{PAGE, every_page};
use super::{
    FieldErrors, Page, Posted, Query, Refusal, Section, Staff, csrf, general_errors, instant,
    is_refusal, notice, when, zone,
};
use crate::AppState;
use crate::catalogue::Lang;

#[derive(Deserialize, Default)]
pub struct ForumQuery {
    #[serde(default)]
    notice: String,
}

fn action_words(lang: Lang, action: &str) -> &'static str {
    match action {
        "hide" => lang.pick("隐藏", "Hide"),
        "restore" => lang.pick("恢复显示", "Restore"),
        "pin" => lang.pick("置顶", "Pin"),
        "unpin" => lang.pick("取消置顶", "Unpin"),
        "lock" => lang.pick("关闭回复", "Lock"),
        _ => lang.pick("开放回复", "Unlock"),
    }
}

/// The buttons for one post: hide or restore, and for a thread pin and lock.
fn actions(staff: &Staff, centre: &Centre, post: &ev::ForumPost) -> Markup {
    let lang = staff.lang;
    let mut list = vec![if post.hidden { "restore" } else { "hide" }];
    if post.thread_id.is_empty() {
        list.push(if post.pinned { "unpin" } else { "pin" });
        list.push(if post.locked { "unlock" } else { "lock" });
    }
    html! {
        @if staff.may_write() {
            form.inline method="post" action=(format!("/c/{}/forum/posts/{}", centre.id, post.id)) {
                (csrf(staff))
                @for a in list {
                    button.secondary type="submit" name="action" value=(a) { (action_words(lang, a)) }
                }
            }
        }
    }
}

fn state_words(lang: Lang, post: &ev::ForumPost) -> String {
    let mut words = Vec::new();
    if post.hidden {
        words.push(lang.pick("已隐藏", "hidden"));
    }
    if post.pinned {
        words.push(lang.pick("置顶", "pinned"));
    }
    if post.locked {
        words.push(lang.pick("已关闭回复", "locked"));
    }
    if words.is_empty() {
        words.push(lang.pick("显示中", "shown"));
    }
    words.join(lang.pick("、", ", "))
}

async fn page(
    state: &AppState,
    staff: &Staff,
    centre: &Centre,
    flash: &str,
    errors: FieldErrors,
) -> Page {
    let lang = staff.lang;
    let tz = zone(centre);
    let reported = every_page(|page_token| async {
        let reply = state
            .evaluation
            .clone()
            .list_reported_forum_posts(staff.grpc(ev::ListReportedForumPostsRequest {
                centre_id: centre.id.clone(),
                page_size: PAGE,
                page_token,
            }))
            .await?
            .into_inner();
        Ok::<_, Refusal>((reply.posts, reply.next_page_token))
    })
    .await?;
    let threads = every_page(|page_token| async {
        let reply = state
            .evaluation
            .clone()
            .list_forum_threads(staff.grpc(ev::ListForumThreadsRequest {
                centre_id: centre.id.clone(),
                page_size: PAGE,
                page_token,
            }))
            .await?
            .into_inner();
        Ok::<_, Refusal>((reply.posts, reply.next_page_token))
    })
    .await?;
    let at = |p: &ev::ForumPost| {
        instant(&p.created_at)
            .map(|t| when(lang, t, tz))
            .unwrap_or_default()
    };
    let content = html! {
        @if flash == "moderated" { (notice(lang.pick("已处理。", "Done."))) }
        (general_errors(&errors, &[]))
        section #reported {
            h2 { (lang.pick("被举报的帖子", "Reported posts")) }
            table {
                thead { tr {
                    th { (lang.pick("发布时间", "Posted")) } th { (lang.pick("内容", "Text")) }
                    th { (lang.pick("举报人数", "Reports")) } th { (lang.pick("处理", "Handle")) }
                } }
                tbody {
                    @for p in &reported {
                        tr {
                            td { (at(p)) }
                            td { @if !p.title.is_empty() { strong { (p.title) } br; } (p.body) }
                            td { (p.reports) }
                            td { (actions(staff, centre, p)) }
                        }
                    }
                    @if reported.is_empty() { tr { td colspan="4" { (lang.pick("没有待处理的举报。", "No reports to handle.")) } } }
                }
            }
        }
        section #threads {
            h2 { (lang.pick("全部话题", "All threads")) }
            table {
                thead { tr {
                    th { (lang.pick("标题", "Title")) } th { (lang.pick("发布时间", "Posted")) }
                    th { (lang.pick("回复", "Replies")) } th { (lang.pick("状态", "State")) }
                    th { (lang.pick("处理", "Handle")) }
                } }
                tbody {
                    @for t in &threads {
                        tr {
                            td { (t.title) }
                            td { (at(t)) }
                            td { (t.replies) }
                            td { (state_words(lang, t)) }
                            td { (actions(staff, centre, t)) }
                        }
                    }
                    @if threads.is_empty() { tr { td colspan="5" { (lang.pick("还没有话题。", "No threads yet.")) } } }
                }
            }
        }
    };
    let mut response = super::layout(
        staff,
        Section::Evaluation,
        Some(centre),
        &format!("{} · {}", centre.name, lang.pick("居民议事", "Forum")),
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
    Query(query): Query<ForumQuery>,
) -> Page {
    let centre = staff.centre(Section::Evaluation, &centre)?;
    page(
        &state,
        &staff,
        &centre,
        &query.notice,
        FieldErrors::default(),
    )
    .await
}

pub async fn moderate(
    State(state): State<AppState>,
    Path((centre, post)): Path<(String, String)>,
    posted: Posted,
) -> Page {
    let staff = &posted.staff;
    let centre = staff.centre(Section::Evaluation, &centre)?;
    let done = state
        .evaluation
        .clone()
        .moderate_forum_post(staff.grpc(ev::ModerateForumPostRequest {
            centre_id: centre.id.clone(),
            post_id: post,
            action: posted.get("action").to_owned(),
        }))
        .await;
    match done {
        Ok(_) => {
            Ok(Redirect::to(&format!("/c/{}/forum?notice=moderated", centre.id)).into_response())
        }
        Err(status) if is_refusal(&status) => {
            let errors = FieldErrors::from_status(&status, staff.lang);
            page(&state, staff, &centre, "", errors).await
        }
        Err(status) => Err(status.into()),
    }
}
