//! Notices (通知公告 / 活动预告) for the centre's residents: staff write one, say when it
//! shows (from / until, in the centre's time), pin it, aim it at everyone or at residents
//! of given categories and age bands, and attach a session to book from. Evaluation keeps
//! and publishes them; residents read theirs on the residents' site.

use std::collections::HashMap;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use chrono::{DateTime, Duration, NaiveDateTime, TimeZone, Utc};
use chrono_tz::Tz;
use linli_platform::directory::{AGE_BANDS, RESIDENT_CATEGORIES};
use linli_proto::bookings::v1 as bk;
use linli_proto::evaluation::v1 as ev;
use linli_proto::registry::v1::Centre;
use maud::{Markup, html};
use serde::Deserialize;

use super::listing::{PAGE, every_page};
use super::{
    FieldErrors, Page, Posted, Query, Refusal, Section, Staff, csrf, general_errors, i18n, instant,
    is_refusal, notice, timestamp, today, when, zone,
};
use crate::AppState;
use crate::catalogue::Lang;

#[derive(Deserialize, Default)]
pub struct NoticesQuery {
    #[serde(default)]
    notice: String,
}

/// An age band as a clerk says it.
pub fn band_words(lang: Lang, band: &str) -> String {
    match (lang, band) {
        (Lang::Zh, "80+") => "80 岁及以上".into(),
        (Lang::Zh, band) => format!("{} 岁", band.replace('-', "–")),
        (Lang::En, band) => format!("aged {band}"),
    }
}

/// Who a notice is for, in words.
pub fn audience_words(lang: Lang, categories: &[String], bands: &[String]) -> String {
    if categories.is_empty() && bands.is_empty() {
        return lang.pick("全体居民", "Everyone").into();
    }
    let words: Vec<String> = (categories.iter().map(|c| i18n::term(lang, c)))
        .chain(bands.iter().map(|b| band_words(lang, b)))
        .collect();
    words.join(lang.pick("、", ", "))
}

fn state_words(lang: Lang, state: &str) -> &'static str {
    match state {
        "scheduled" => lang.pick("待发布", "Scheduled"),
        "published" => lang.pick("显示中", "Showing"),
        _ => lang.pick("已结束", "Ended"),
    }
}

fn kind_words(lang: Lang, kind: &str) -> &'static str {
    match kind {
        "activity" => lang.pick("活动预告", "Activity"),
        _ => lang.pick("通知公告", "Notice"),
    }
}

/// A `datetime-local` value (the centre's wall clock) as an instant; `None` when empty.
fn local_instant(text: &str, tz: Tz) -> Result<Option<DateTime<Utc>>, ()> {
    if text.is_empty() {
        return Ok(None);
    }
    let local = NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M").map_err(|_| ())?;
    tz.from_local_datetime(&local)
        .earliest()
        .map(|t| Some(t.with_timezone(&Utc)))
        .ok_or(())
}

/// What the form held, to show it again after a refusal.
#[derive(Default)]
struct Typed {
    title: String,
    body: String,
    kind: String,
    from: String,
    until: String,
    pinned: bool,
    categories: Vec<String>,
    bands: Vec<String>,
    attach: String,
}

impl Typed {
    fn of(posted: &Posted) -> Typed {
        Typed {
            title: posted.get("title").to_owned(),
            body: posted.get("body").to_owned(),
            kind: posted.get("kind").to_owned(),
            from: posted.get("publish_from").to_owned(),
            until: posted.get("publish_until").to_owned(),
            pinned: posted.get("pinned") == "on",
            categories: posted.all("category"),
            bands: posted.all("band"),
            attach: posted.get("attach").to_owned(),
        }
    }
}

async fn notices(
    state: &AppState,
    staff: &Staff,
    centre: &Centre,
) -> Result<Vec<ev::Notice>, Refusal> {
    every_page(|page_token| async {
        let reply = state
            .evaluation
            .clone()
            .list_notices(staff.grpc(ev::ListNoticesRequest {
                centre_id: centre.id.clone(),
                page_size: PAGE,
                page_token,
                ..Default::default()
            }))
            .await?
            .into_inner();
        Ok::<_, Refusal>((reply.notices, reply.next_page_token))
    })
    .await
}

/// The sessions of the coming four weeks a notice may point to, with their offerings.
async fn bookable(
    state: &AppState,
    staff: &Staff,
    centre: &Centre,
) -> Result<(Vec<bk::Session>, HashMap<String, bk::Offering>), Refusal> {
    let day = today(centre);
    let sessions =
        super::bookings::sessions_between(state, staff, centre, day, day + Duration::days(28))
            .await?;
    let offerings = state
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
        .map(|o| (o.id.clone(), o))
        .collect();
    Ok((sessions, offerings))
}

async fn page(
    state: &AppState,
    staff: &Staff,
    centre: &Centre,
    flash: &str,
    typed: Typed,
    errors: FieldErrors,
) -> Page {
    let lang = staff.lang;
    let tz = zone(centre);
    let list = notices(state, staff, centre).await?;
    let (sessions, offerings) = bookable(state, staff, centre).await?;
    let writes = staff.may_write();
    let action = format!("/c/{}/notices", centre.id);
    let err = |name: &str| errors.get(name).map(str::to_owned);
    let content = html! {
        @if flash == "created" { (notice(lang.pick("通知已保存。", "The notice is saved."))) }
        @if flash == "pinned" { (notice(lang.pick("已更新置顶。", "Pinning updated."))) }
        @if flash == "published" { (notice(lang.pick("通知已开始显示。", "The notice shows now."))) }
        @if flash == "ended" { (notice(lang.pick("通知已停止显示。", "The notice no longer shows."))) }
        (general_errors(&errors, &["title", "body", "kind", "publish_from", "publish_until", "audience_categories", "audience_age_bands", "attach", "session_id", "offering_id"]))
        @if writes {
            section #new-notice {
                h2 { (lang.pick("发布通知", "New notice")) }
                form.stack method="post" action=(action) {
                    (csrf(staff))
                    (text_field(lang.pick("标题", "Title"), "title", &typed.title, err("title")))
                    div.field {
                        label for="f-kind" { (lang.pick("类型", "Kind")) }
                        select #f-kind name="kind" {
                            @for k in ["notice", "activity"] {
                                option value=(k) selected[typed.kind == k] { (kind_words(lang, k)) }
                            }
                        }
                    }
                    div.field.invalid[err("body").is_some()] {
                        label for="f-body" { (lang.pick("内容", "Text")) span.req aria-hidden="true" { " *" } }
                        textarea #f-body name="body" rows="5" required { (typed.body) }
                        @if let Some(e) = err("body") { span.error role="alert" { (e) } }
                    }
                    (datetime_field(lang.pick("开始显示（不填为立即）", "Show from (empty: now)"), "publish_from", &typed.from, err("publish_from")))
                    (datetime_field(lang.pick("停止显示（不填为一直显示）", "Show until (empty: no end)"), "publish_until", &typed.until, err("publish_until")))
                    div.field {
                        label { input type="checkbox" name="pinned" checked[typed.pinned]; " " (lang.pick("置顶", "Pin to the top")) }
                    }
                    fieldset.field.invalid[err("audience_categories").is_some() || err("audience_age_bands").is_some()] {
                        legend { (lang.pick("面向（都不选为全体居民）", "For (none ticked: everyone)")) }
                        @for c in RESIDENT_CATEGORIES {
                            label.choice { input type="checkbox" name="category" value=(c) checked[typed.categories.iter().any(|t| t == c)]; " " (i18n::term(lang, c)) }
                        }
                        @for b in AGE_BANDS {
                            label.choice { input type="checkbox" name="band" value=(b) checked[typed.bands.iter().any(|t| t == b)]; " " (band_words(lang, b)) }
                        }
                        @if let Some(e) = err("audience_categories").or(err("audience_age_bands")) { span.error role="alert" { (e) } }
                    }
                    div.field.invalid[err("attach").is_some() || err("session_id").is_some()] {
                        label for="f-attach" { (lang.pick("可预约的场次", "Session to book")) }
                        select #f-attach name="attach" {
                            option value="" { (lang.pick("不附带", "None")) }
                            @for s in &sessions {
                                @if let Some(o) = offerings.get(&s.offering_id) {
                                    @let value = format!("{}:{}", o.id, s.id);
                                    option value=(value) selected[typed.attach == value] {
                                        (o.name) " · " (instant(&s.starts_at).map(|t| when(lang, t, tz)).unwrap_or_default())
                                    }
                                }
                            }
                        }
                        @if let Some(e) = err("attach").or(err("session_id")) { span.error role="alert" { (e) } }
                    }
                    button type="submit" { (lang.pick("保存", "Save")) }
                }
            }
        }
        section {
            h2 { (lang.pick("全部通知", "All notices")) }
            table #notices {
                thead { tr {
                    th { (lang.pick("标题", "Title")) } th { (lang.pick("类型", "Kind")) }
                    th { (lang.pick("显示时间", "Shown")) } th { (lang.pick("面向", "For")) }
                    th { (lang.pick("状态", "State")) } th { (lang.pick("置顶", "Pinned")) }
                } }
                tbody {
                    @for n in &list {
                        @let d = n.draft.clone().unwrap_or_default();
                        tr data-state=(n.state) {
                            td { (d.title) }
                            td { (kind_words(lang, &d.kind)) }
                            td {
                                (instant(&d.publish_from).map(|t| when(lang, t, tz)).unwrap_or_default())
                                " " (lang.pick("至", "to")) " "
                                (instant(&d.publish_until).map(|t| when(lang, t, tz)).unwrap_or_else(|| lang.pick("长期", "no end").into()))
                            }
                            td { (audience_words(lang, &d.audience_categories, &d.audience_age_bands)) }
                            td {
                                (state_words(lang, &n.state))
                                @if writes && n.state != "ended" {
                                    form.inline method="post" action=(format!("/c/{}/notices/{}/schedule", centre.id, n.id)) {
                                        (csrf(staff))
                                        @if n.state == "scheduled" {
                                            button.secondary type="submit" name="when" value="publish_now" { (lang.pick("立即显示", "Show now")) }
                                        } @else {
                                            button.secondary type="submit" name="when" value="end_now" { (lang.pick("停止显示", "End now")) }
                                        }
                                    }
                                }
                            }
                            td {
                                @if writes {
                                    form.inline method="post" action=(format!("/c/{}/notices/{}/pin", centre.id, n.id)) {
                                        (csrf(staff))
                                        button.secondary type="submit" name="pinned" value=(if d.pinned { "off" } else { "on" }) {
                                            (if d.pinned { lang.pick("取消置顶", "Unpin") } else { lang.pick("置顶", "Pin") })
                                        }
                                    }
                                } @else if d.pinned { (lang.pick("是", "Yes")) }
                            }
                        }
                    }
                    @if list.is_empty() { tr { td colspan="6" { (lang.pick("还没有通知。", "No notices yet.")) } } }
                }
            }
        }
    };
    let mut response = super::layout(
        staff,
        Section::Evaluation,
        Some(centre),
        &format!("{} · {}", centre.name, lang.pick("通知公告", "Notices")),
        content,
    );
    if !errors.is_empty() {
        *response.status_mut() = StatusCode::BAD_REQUEST;
    }
    Ok(response)
}

fn text_field(label: &str, name: &str, value: &str, error: Option<String>) -> Markup {
    let id = format!("f-{name}");
    html! {
        div.field.invalid[error.is_some()] {
            label for=(id) { (label) span.req aria-hidden="true" { " *" } }
            input #(id) type="text" name=(name) value=(value) required aria-invalid=[error.as_ref().map(|_| "true")];
            @if let Some(e) = error { span.error role="alert" { (e) } }
        }
    }
}

fn datetime_field(label: &str, name: &str, value: &str, error: Option<String>) -> Markup {
    let id = format!("f-{name}");
    html! {
        div.field.invalid[error.is_some()] {
            label for=(id) { (label) }
            input #(id) type="datetime-local" name=(name) value=(value) aria-invalid=[error.as_ref().map(|_| "true")];
            @if let Some(e) = error { span.error role="alert" { (e) } }
        }
    }
}

pub async fn list(
    State(state): State<AppState>,
    staff: Staff,
    Path(centre): Path<String>,
    Query(query): Query<NoticesQuery>,
) -> Page {
    let centre = staff.centre(Section::Evaluation, &centre)?;
    page(
        &state,
        &staff,
        &centre,
        &query.notice,
        Typed {
            kind: "notice".into(),
            ..Typed::default()
        },
        FieldErrors::default(),
    )
    .await
}

pub async fn create(
    State(state): State<AppState>,
    Path(centre): Path<String>,
    posted: Posted,
) -> Page {
    let staff = &posted.staff;
    let centre = staff.centre(Section::Evaluation, &centre)?;
    let lang = staff.lang;
    let tz = zone(&centre);
    let typed = Typed::of(&posted);
    let mut errors = FieldErrors::default();
    let bad_time = lang.pick("请选择日期和时间", "Choose a date and time");
    let from = local_instant(&typed.from, tz).unwrap_or_else(|_| {
        errors.push("publish_from", bad_time);
        None
    });
    let until = local_instant(&typed.until, tz).unwrap_or_else(|_| {
        errors.push("publish_until", bad_time);
        None
    });
    let (offering_id, session_id) = typed
        .attach
        .split_once(':')
        .map(|(o, s)| (o.to_owned(), s.to_owned()))
        .unwrap_or_default();
    if errors.is_empty() {
        let made = state
            .evaluation
            .clone()
            .create_notice(staff.grpc(ev::CreateNoticeRequest {
                centre_id: centre.id.clone(),
                notice: Some(ev::NoticeDraft {
                    title: typed.title.clone(),
                    body: typed.body.clone(),
                    kind: typed.kind.clone(),
                    publish_from: from.map(timestamp),
                    publish_until: until.map(timestamp),
                    pinned: typed.pinned,
                    audience_categories: typed.categories.clone(),
                    audience_age_bands: typed.bands.clone(),
                    offering_id,
                    session_id,
                }),
            }))
            .await;
        match made {
            Ok(_) => {
                return Ok(
                    Redirect::to(&format!("/c/{}/notices?notice=created", centre.id))
                        .into_response(),
                );
            }
            Err(status) if is_refusal(&status) => errors = FieldErrors::from_status(&status, lang),
            Err(status) => return Err(status.into()),
        }
    }
    page(&state, staff, &centre, "", typed, errors).await
}

/// Pins or unpins a notice (`pinned`: on / off), or shows it now or ends it now (`when`:
/// publish_now / end_now): the rest of it is sent back as it is.
pub async fn change(
    State(state): State<AppState>,
    Path((centre, id)): Path<(String, String)>,
    posted: Posted,
) -> Page {
    let staff = &posted.staff;
    let centre = staff.centre(Section::Evaluation, &centre)?;
    let current = notices(&state, staff, &centre)
        .await?
        .into_iter()
        .find(|n| n.id == id)
        .ok_or_else(Refusal::not_found)?;
    let mut draft = current.draft.unwrap_or_default();
    // To the microsecond (the console's `timestamp` keeps whole seconds): a notice shown
    // and ended within one second still ends after it began.
    let now = Some(linli_platform::wire::timestamp(Utc::now()));
    let flash = match (posted.get("pinned"), posted.get("when")) {
        ("on" | "off", _) => {
            draft.pinned = posted.get("pinned") == "on";
            "pinned"
        }
        (_, "publish_now") => {
            draft.publish_from = now;
            "published"
        }
        (_, "end_now") => {
            draft.publish_until = now;
            "ended"
        }
        _ => return Err(Refusal::bad_query()),
    };
    let updated = state
        .evaluation
        .clone()
        .update_notice(staff.grpc(ev::UpdateNoticeRequest {
            centre_id: centre.id.clone(),
            notice_id: id,
            notice: Some(draft),
        }))
        .await;
    match updated {
        Ok(_) => {
            Ok(Redirect::to(&format!("/c/{}/notices?notice={flash}", centre.id)).into_response())
        }
        Err(status) if is_refusal(&status) => {
            let errors = FieldErrors::from_status(&status, staff.lang);
            page(&state, staff, &centre, "", Typed::default(), errors).await
        }
        Err(status) => Err(status.into()),
    }
}
