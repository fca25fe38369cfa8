//! Bookings at the desk: the day's or week's sessions as a list or calendar, a session's
//! roster (sorted by pinyin, searchable by name or pinyin, every name asked of the registry
//! in one call) and waitlist, booking a seat for a resident (with the service's reason when
//! it refuses), check-in while it is open, and cancellation or removal from a waitlist,
//! confirmed on a page of its own with a reason, naming who took the freed seat. A
//! resident's bookings, past and to come, are listed on their page from here too. No-shows
//! are marked by the bookings service itself once a session ends; the session page lists
//! them.

use std::collections::HashMap;

use super::Query;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveTime, TimeZone, Utc};
use linli_platform::auth::Role;
use linli_proto::bookings::v1 as bk;
use linli_proto::registry::v1 as pb;
use maud::{Markup, html};
use serde::Deserialize;
use uuid::Uuid;

use super::listing::{PAGE, every_page};
use super::residents::urlencode;
use super::{
    FieldErrors, Lang, Page, Posted, Refusal, Section, Staff, clock, csrf, date, general_errors,
    i18n, instant, is_refusal, money, notice, timestamp, today, when, zone,
};
use crate::AppState;

#[derive(Deserialize, Default)]
pub struct CalendarQuery {
    #[serde(default)]
    day: String,
    #[serde(default)]
    view: String,
    #[serde(default)]
    resident: String,
}

#[derive(Deserialize, Default)]
pub struct SessionQuery {
    #[serde(default)]
    on: String,
    #[serde(default)]
    q: String,
    #[serde(default)]
    resident: String,
    #[serde(default)]
    notice: String,
    /// The roster's search: a name, or its pinyin or initials.
    #[serde(default)]
    find: String,
    /// After a cancellation: the residents promoted from the waitlist.
    #[serde(default)]
    promoted: String,
    /// The booking whose undone check-in was refused: the reason is said on its row.
    #[serde(default)]
    refused: String,
}

fn start_of(tz: chrono_tz::Tz, day: NaiveDate) -> chrono::DateTime<Utc> {
    tz.from_local_datetime(&day.and_time(NaiveTime::MIN))
        .earliest()
        .map(|t| t.with_timezone(&Utc))
        .unwrap_or_else(|| Utc.from_utc_datetime(&day.and_time(NaiveTime::MIN)))
}

pub(super) async fn sessions_between(
    state: &AppState,
    staff: &Staff,
    centre: &pb::Centre,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<Vec<bk::Session>, Refusal> {
    let tz = zone(centre);
    every_page(|page_token| async move {
        let reply = state
            .bookings
            .clone()
            .list_sessions(staff.grpc(bk::ListSessionsRequest {
                centre_id: centre.id.clone(),
                from: Some(timestamp(start_of(tz, from))),
                to: Some(timestamp(start_of(tz, to))),
                page_size: PAGE,
                page_token,
                ..Default::default()
            }))
            .await?
            .into_inner();
        Ok::<_, Refusal>((reply.sessions, reply.next_page_token))
    })
    .await
}

async fn offerings(
    state: &AppState,
    staff: &Staff,
    centre: &str,
) -> Result<HashMap<String, bk::Offering>, Refusal> {
    Ok(state
        .bookings
        .clone()
        .list_offerings(staff.grpc(bk::ListOfferingsRequest {
            centre_id: centre.to_owned(),
            ..Default::default()
        }))
        .await?
        .into_inner()
        .offerings
        .into_iter()
        .map(|o| (o.id.clone(), o))
        .collect())
}

async fn rooms(
    state: &AppState,
    staff: &Staff,
    centre: &str,
) -> Result<HashMap<String, String>, Refusal> {
    Ok(state
        .bookings
        .clone()
        .list_facilities(staff.grpc(bk::ListFacilitiesRequest {
            centre_id: centre.to_owned(),
        }))
        .await?
        .into_inner()
        .facilities
        .into_iter()
        .map(|f| (f.id, f.name))
        .collect())
}

pub async fn calendar(
    State(state): State<AppState>,
    staff: Staff,
    Path(centre): Path<String>,
    Query(query): Query<CalendarQuery>,
) -> Page {
    let centre = staff.centre(Section::Bookings, &centre)?;
    let lang = staff.lang;
    let tz = zone(&centre);
    let day = NaiveDate::parse_from_str(&query.day, "%Y-%m-%d").unwrap_or_else(|_| today(&centre));
    let week = query.view == "week";
    let first = if week {
        day - Duration::days(day.weekday().num_days_from_monday().into())
    } else {
        day
    };
    let days = if week { 7 } else { 1 };
    let sessions =
        sessions_between(&state, &staff, &centre, first, first + Duration::days(days)).await?;
    let offerings = offerings(&state, &staff, &centre.id).await?;
    let rooms = rooms(&state, &staff, &centre.id).await?;
    let base = format!("/c/{}/bookings", centre.id);
    let resident = Uuid::parse_str(&query.resident).ok();
    let link = |d: NaiveDate, week: bool| {
        let mut l = format!("{base}?day={d}");
        if week {
            l.push_str("&view=week");
        }
        if let Some(r) = resident {
            l.push_str(&format!("&resident={r}"));
        }
        l
    };
    let step = if week { 7 } else { 1 };
    let content = html! {
        nav.pager aria-label=(lang.pick("日期", "Dates")) {
            a.button href=(link(day - Duration::days(step), week)) { "← " (lang.pick("上一", "Previous ")) (if week { lang.pick("周", "week") } else { lang.pick("天", "day") }) }
            a.button href=(link(today(&centre), week)) { (lang.pick("今天", "Today")) }
            a.button href=(link(day + Duration::days(step), week)) { (lang.pick("下一", "Next ")) (if week { lang.pick("周", "week") } else { lang.pick("天", "day") }) " →" }
            @if week { a.button href=(link(day, false)) { (lang.pick("按天", "Day view")) } } @else { a.button href=(link(day, true)) { (lang.pick("按周", "Week view")) } }
            a.button.secondary #rooms-link href=(format!("/c/{}/rooms?day={day}", centre.id)) { (lang.pick("活动室预约", "Rooms")) }
            form.inline method="get" action=(base) {
                label for="day" { (lang.pick("日期", "Date")) }
                input #day type="date" name="day" value=(day.to_string());
                @if week { input type="hidden" name="view" value="week"; }
                @if let Some(r) = resident { input type="hidden" name="resident" value=(r.to_string()); }
                button type="submit" { (lang.pick("前往", "Go")) }
            }
        }
        @if resident.is_some() { (notice(lang.pick("请选择要为该居民预约的场次。", "Choose a session to book for the resident."))) }
        div.calendar.week[week] {
            @for offset in 0..days {
                @let d = first + Duration::days(offset);
                section.day aria-label=(date(lang, d)) {
                    h2 { (date(lang, d)) }
                    @let todays: Vec<&bk::Session> = sessions.iter().filter(|s| instant(&s.starts_at).is_some_and(|t| t.with_timezone(&tz).date_naive() == d)).collect();
                    @if todays.is_empty() { p.empty { (lang.pick("无场次", "No sessions")) } }
                    ul.sessions {
                        @for s in todays {
                            @let o = offerings.get(&s.offering_id);
                            @let full = s.capacity > 0 && s.confirmed >= s.capacity;
                            li.session.full[full].cancelled[s.status == "cancelled"] {
                                a href=(format!("/c/{}/sessions/{}?on={d}{}", centre.id, s.id, resident.map(|r| format!("&resident={r}")).unwrap_or_default())) {
                                    span.time { (instant(&s.starts_at).map(|t| clock(t, tz)).unwrap_or_default()) "–" (instant(&s.ends_at).map(|t| clock(t, tz)).unwrap_or_default()) }
                                    " " span.name { (o.map(|o| o.name.as_str()).unwrap_or("?")) }
                                }
                                @if let Some(room) = rooms.get(&s.facility_id) { " " span.room { (room) } }
                                " " span.seats { (s.confirmed) "/" (s.capacity) (lang.pick(" 人", " seats")) }
                                @if s.waitlisted > 0 { " " span.badge.warn { (lang.pick("候补 ", "waitlist ")) (s.waitlisted) } }
                                @if s.status == "cancelled" { " " span.badge { (i18n::term(lang, "cancelled")) } }
                                @if o.is_some_and(|o| !o.active) { " " span.badge { (lang.pick("已停止提供", "retired")) } }
                            }
                        }
                    }
                }
            }
        }
    };
    Ok(super::layout(
        &staff,
        Section::Bookings,
        Some(&centre),
        &format!(
            "{} · {}",
            centre.name,
            lang.pick("预约与签到", "Bookings and check-in")
        ),
        content,
    ))
}

async fn session_page(
    state: &AppState,
    staff: &Staff,
    centre: &pb::Centre,
    session_id: &str,
    query: &SessionQuery,
    errors: FieldErrors,
) -> Page {
    let lang = staff.lang;
    let tz = zone(centre);
    let on = NaiveDate::parse_from_str(&query.on, "%Y-%m-%d").ok();
    let (from, to) = match on {
        Some(d) => (d - Duration::days(1), d + Duration::days(2)),
        None => (
            today(centre) - Duration::days(7),
            today(centre) + Duration::days(60),
        ),
    };
    let session = sessions_between(state, staff, centre, from, to)
        .await?
        .into_iter()
        .find(|s| s.id == session_id)
        .ok_or_else(Refusal::not_found)?;
    let offering = state
        .bookings
        .clone()
        .get_offering(staff.grpc(bk::GetOfferingRequest {
            centre_id: centre.id.clone(),
            offering_id: session.offering_id.clone(),
        }))
        .await?
        .into_inner();
    let bookings = every_page(|page_token| async {
        let reply = state
            .bookings
            .clone()
            .list_bookings(staff.grpc(bk::ListBookingsRequest {
                centre_id: centre.id.clone(),
                session_id: session.id.clone(),
                page_size: PAGE,
                page_token,
                ..Default::default()
            }))
            .await?
            .into_inner();
        Ok::<_, Refusal>((reply.bookings, reply.next_page_token))
    })
    .await?;
    let ids: Vec<String> = bookings.iter().map(|b| b.resident_id.clone()).collect();
    let names = names_of(state, staff, &centre.id, &ids, "").await?;
    let mut errors = errors;
    let find = query.find.trim();
    // The roster's search asks the registry which of these residents the words match, so
    // pinyin and initials find names exactly as the residents page does.
    let found = if find.is_empty() {
        None
    } else {
        match names_of(state, staff, &centre.id, &ids, find).await {
            Ok(found) => Some(found),
            Err(refusal) if refusal.status == StatusCode::BAD_REQUEST => {
                errors.push(
                    "find",
                    lang.pick(
                        "请输入姓名、拼音或拼音首字母",
                        "Type a name, its pinyin or initials",
                    ),
                );
                None
            }
            Err(refusal) => return Err(refusal),
        }
    };
    let promoted: Vec<String> = query
        .promoted
        .split(',')
        .filter(|id| Uuid::parse_str(id).is_ok())
        .map(str::to_owned)
        .collect();
    let promoted_names = names_of(state, staff, &centre.id, &promoted, "").await?;
    let candidates = if query.q.trim().is_empty() {
        Vec::new()
    } else {
        state
            .registry
            .clone()
            .list_residents(staff.grpc(pb::ListResidentsRequest {
                centre_id: centre.id.clone(),
                page_size: 10,
                q: query.q.trim().to_owned(),
                status: "active".into(),
                ..Default::default()
            }))
            .await?
            .into_inner()
            .residents
    };
    let preselected = match Uuid::parse_str(&query.resident) {
        Ok(id) => state
            .registry
            .clone()
            .get_resident(staff.grpc(pb::GetResidentRequest {
                centre_id: centre.id.clone(),
                id: id.to_string(),
                national_id_purpose: String::new(),
            }))
            .await
            .ok()
            .map(|r| r.into_inner()),
        Err(_) => None,
    };
    let status_of = |b: &bk::Booking| {
        bk::BookingStatus::try_from(b.status)
            .map(|s| {
                s.as_str_name()
                    .trim_start_matches("BOOKING_STATUS_")
                    .to_lowercase()
            })
            .unwrap_or_default()
    };
    let seat_state = |b: &bk::Booking| {
        b.seats
            .iter()
            .find(|s| s.session_id == session.id)
            .map(|s| s.state.clone())
            .unwrap_or_default()
    };
    let mut waitlist: Vec<&bk::Booking> = bookings
        .iter()
        .filter(|b| status_of(b) == "waitlisted")
        .collect();
    waitlist.sort_by_key(|b| b.waitlist_position);
    let mut seated: Vec<&bk::Booking> = bookings
        .iter()
        .filter(|b| !matches!(status_of(b).as_str(), "waitlisted" | "cancelled"))
        .collect();
    let everyone = seated.len();
    if let Some(found) = &found {
        seated.retain(|b| found.contains_key(&b.resident_id));
    }
    seated.sort_by_cached_key(|b| {
        names
            .get(&b.resident_id)
            .map(|n| sort_key(n))
            .unwrap_or_else(|| "~".into())
    });
    let day = instant(&session.starts_at)
        .map(|t| t.with_timezone(&tz).date_naive())
        .unwrap_or_else(|| today(centre));
    let here = format!("/c/{}/sessions/{}", centre.id, session.id);
    let back_here = format!("{here}?on={day}");
    let now = Utc::now();
    let writes = staff.may_write();
    // Taking a check-in back is the desk's and the manager's (as the service allows).
    let may_undo = [Role::FrontDesk, Role::CentreManager]
        .iter()
        .any(|r| staff.has_role(*r));
    let idem = Uuid::new_v4().to_string();
    // A refused undo is said on its row only, not above the booking form.
    let no_errors = FieldErrors::default();
    let book_errors = if query.refused.is_empty() {
        &errors
    } else {
        &no_errors
    };
    let notice_text = match query.notice.as_str() {
        "confirmed" => Some(
            lang.pick("预约成功，已确认座位。", "Booked: the seat is confirmed.")
                .to_owned(),
        ),
        "checked-in" => Some(lang.pick("已签到。", "Checked in.").to_owned()),
        "check-in-undone" => Some(
            lang.pick(
                "已撤销签到，该居民恢复为已确认，可以重新签到。",
                "Check-in undone: the booking is confirmed again and may be checked in again.",
            )
            .to_owned(),
        ),
        "cancelled" | "removed" => Some(cancel_notice(
            lang,
            &query.notice,
            &promoted,
            &promoted_names,
        )),
        n if n.starts_with("waitlisted-") => Some(format!(
            "{}{}",
            lang.pick(
                "名额已满，已加入候补，排第 ",
                "The session is full: waitlisted at position "
            ),
            &n[11..]
        )),
        _ => None,
    };
    let name_of = |b: &bk::Booking| {
        names
            .get(&b.resident_id)
            .cloned()
            .unwrap_or_else(|| lang.pick("（已匿名）", "(anonymised)").to_owned())
    };
    let content = html! {
        (page_url(&back_here))
        @if let Some(text) = notice_text { (notice(&text)) }
        dl.facts #session data-confirmed=(session.confirmed) data-capacity=(session.capacity) {
            dt { (lang.pick("时间", "When")) } dd { (date(lang, day)) " " (instant(&session.starts_at).map(|t| clock(t, tz)).unwrap_or_default()) "–" (instant(&session.ends_at).map(|t| clock(t, tz)).unwrap_or_default()) }
            dt { (lang.pick("座位", "Seats")) } dd #seats { (session.confirmed) " / " (session.capacity) }
            dt { (lang.pick("候补", "Waitlist")) } dd #waitlisted { (session.waitlisted) }
            dt { (lang.pick("费用", "Fee")) } dd { @if offering.fee_minor == 0 { (lang.pick("免费", "free")) } @else { (money(offering.fee_minor)) } }
            @if offering.min_age.is_some() || offering.max_age.is_some() || !offering.eligible_categories.is_empty() {
                dt { (lang.pick("参加条件", "Eligibility")) }
                dd {
                    @if let Some(min) = offering.min_age { (min) (lang.pick(" 岁以上 ", "+ years ")) }
                    @if let Some(max) = offering.max_age { (lang.pick("不超过 ", "up to ")) (max) (lang.pick(" 岁 ", " years ")) }
                    @for c in &offering.eligible_categories { span.tag { (i18n::term(lang, c)) } }
                }
            }
        }
        @if super::staffing::plans(staff) && session.status != "cancelled" {
            p { a #assign-staff-link href=(format!("/c/{}/staff?session={}", centre.id, session.id)) { (lang.pick("为这一场次安排工作人员 ›", "Put staff on this session ›")) } }
        }
        @if !offering.active {
            p.notice #retired role="status" { (lang.pick("该服务项目已停止提供，不再接受新的预约；已有的预约照常有效。", "This offering is retired: no new bookings; existing bookings stand.")) }
        }
        @if writes && session.status != "cancelled" && offering.active {
            section #book {
                h2 { (lang.pick("为居民预约", "Book for a resident")) }
                // A refusal about the chosen resident (not eligible, …) is said beside them.
                (general_errors(book_errors, if preselected.is_some() { &["q", "resident_id"] } else { &["q"] }))
                form.inline role="search" method="get" action=(here) {
                    input type="hidden" name="on" value=(day.to_string());
                    div.field.invalid[errors.get("q").is_some()] {
                        label for="q" { (lang.pick("姓名或拼音首字母", "Name or pinyin initials")) }
                        input #q type="search" name="q" value=(query.q);
                        @if let Some(e) = errors.get("q") { span.error role="alert" { (e) } }
                    }
                    button type="submit" { (lang.pick("查找居民", "Find resident")) }
                }
                @let choices: Vec<&pb::Resident> = preselected.iter().chain(candidates.iter().filter(|c| preselected.as_ref().is_none_or(|p| p.id != c.id))).collect();
                @if !query.q.is_empty() && candidates.is_empty() { p.empty { (lang.pick("没有找到居民。", "No residents found.")) } }
                ul.choices #candidates {
                    @for r in choices {
                        li {
                            form.inline method="post" action=(format!("{here}/bookings")) {
                                (csrf(staff))
                                input type="hidden" name="resident_id" value=(r.id);
                                input type="hidden" name="on" value=(day.to_string());
                                input type="hidden" name="q" value=(query.q);
                                input type="hidden" name="idempotency_key" value=(format!("{idem}-{}", r.id));
                                span.name { (r.name) } " " span.muted { (super::i18n::iso_day(lang, &r.date_of_birth)) " " (super::residents::address_of(lang, &r.building, &r.unit, &r.room)) }
                                " " button type="submit" data-book=(r.name) { (lang.pick("预约", "Book")) " " (r.name) }
                                @if r.id == query.resident && let Some(e) = errors.get("resident_id") { " " span.error #f-resident_id-error role="alert" { (e) } }
                            }
                        }
                    }
                }
            }
        }
        section #roster {
            h2 { (lang.pick("签到名单", "Check-in list")) " " span.muted { (lang.pick("（按姓名拼音排序）", "(by name)")) } }
            form.inline.filters role="search" method="get" action=(here) {
                input type="hidden" name="on" value=(day.to_string());
                div.field.invalid[errors.get("find").is_some()] {
                    label for="find" { (lang.pick("在名单中查找（姓名或拼音）", "Find on the list (name or pinyin)")) }
                    input #find type="search" name="find" value=(query.find);
                    @if let Some(e) = errors.get("find") { span.error role="alert" { (e) } }
                }
                button type="submit" { (lang.pick("查找", "Find")) }
                @if found.is_some() {
                    " " a.button.secondary href=(format!("{here}?on={day}")) { (lang.pick("显示全部", "Show everyone")) }
                    " " span.muted #found { (lang.pick("找到 ", "Found ")) (seated.len()) (lang.pick(" 人，共 ", " of ")) (everyone) (lang.pick(" 人", "")) }
                }
            }
            table #attendees {
                thead { tr { th { (lang.pick("居民", "Resident")) } th { (lang.pick("签到", "Check-in")) } th.num { (lang.pick("费用", "Fee")) } th { span.sr { (lang.pick("其他操作", "Other actions")) } } } }
                tbody {
                    @for b in &seated {
                        @let seat = seat_state(b);
                        @let window = b.seats.iter().find(|s| s.session_id == session.id).map(|s| check_in_window(s, now)).unwrap_or(Window::Over);
                        tr data-status=(status_of(b)) data-seat=(seat) {
                            td.name { (name_of(b)) }
                            td.check-in {
                                @if seat == "attended" {
                                    span.toggle.on { "✓ " (i18n::term(lang, "attended")) }
                                    @if may_undo && b.seats.iter().any(|s| s.session_id == session.id && undo_open(s, tz, now)) {
                                        // Taken back only after a second, explicit click.
                                        details.undo {
                                            summary data-undo=(name_of(b)) { (lang.pick("撤销签到", "Undo check-in")) }
                                            form.inline method="post" action=(format!("/c/{}/bookings/{}/undo-check-in", centre.id, b.id)) {
                                                (csrf(staff))
                                                input type="hidden" name="session_id" value=(session.id);
                                                input type="hidden" name="on" value=(day.to_string());
                                                span { (lang.pick("确定撤销", "Undo the check-in of ")) (name_of(b)) (lang.pick("的签到吗？撤销后可重新签到。", "? It may be checked in again.")) }
                                                " " button.danger type="submit" data-confirm-undo=(name_of(b)) { (lang.pick("确定撤销", "Undo")) }
                                            }
                                        }
                                    }
                                    @if query.refused == b.id {
                                        @for (_, message) in &errors.0 { " " span.error.undo-refused role="alert" { (message) } }
                                    }
                                } @else if seat == "no_show" {
                                    span.badge.warn { (i18n::term(lang, "no_show")) }
                                } @else if seat == "held" {
                                    @match window {
                                        Window::Open if writes => {
                                            form.inline method="post" action=(format!("/c/{}/bookings/{}/check-in", centre.id, b.id)) {
                                                (csrf(staff))
                                                input type="hidden" name="session_id" value=(session.id);
                                                input type="hidden" name="on" value=(day.to_string());
                                                button.toggle type="submit" data-check-in=(name_of(b)) { "○ " (lang.pick("签到", "Check in")) }
                                            }
                                        }
                                        Window::NotYet(opens) => { span.muted.opens { (opens_text(lang, opens, tz)) } }
                                        _ => { (i18n::term(lang, "confirmed")) }
                                    }
                                } @else {
                                    (i18n::term(lang, &status_of(b)))
                                }
                            }
                            td.num { (money(b.fee_minor)) @if !b.concession.is_empty() { " " span.tag { (i18n::term(lang, &b.concession)) } } }
                            td {
                                @if writes && seat == "held" {
                                    a.button.secondary href=(cancel_link(centre, b, &session.id, &back_here)) data-cancel=(name_of(b)) { (lang.pick("取消预约…", "Cancel…")) }
                                }
                            }
                        }
                    }
                    @if seated.is_empty() {
                        tr { td colspan="4" { @if found.is_some() { (lang.pick("名单中没有符合的居民。", "Nobody on the list matches.")) } @else { (lang.pick("尚无预约。", "No bookings yet.")) } } }
                    }
                }
            }
        }
        section {
            h2 { (lang.pick("候补名单", "Waitlist")) }
            ol #waitlist {
                @for b in &waitlist {
                    li data-position=(b.waitlist_position) {
                        span.name { (name_of(b)) }
                        @if writes { " " a.button.secondary href=(cancel_link(centre, b, &session.id, &back_here)) data-remove=(name_of(b)) { (lang.pick("移出候补…", "Remove…")) } }
                    }
                }
            }
            @if waitlist.is_empty() { p.empty { (lang.pick("无人候补。", "Nobody is waiting.")) } }
        }
    };
    let mut response = super::layout(
        staff,
        Section::Bookings,
        Some(centre),
        &format!("{} · {}", offering.name, date(lang, day)),
        content,
    );
    if !errors.is_empty() {
        *response.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
    }
    Ok(response)
}

pub async fn session(
    State(state): State<AppState>,
    staff: Staff,
    Path((centre, session)): Path<(String, String)>,
    Query(query): Query<SessionQuery>,
) -> Page {
    let centre = staff.centre(Section::Bookings, &centre)?;
    session_page(
        &state,
        &staff,
        &centre,
        &session,
        &query,
        FieldErrors::default(),
    )
    .await
}

fn back(centre: &pb::Centre, session: &str, on: &str, notice: &str) -> Response {
    Redirect::to(&format!(
        "/c/{}/sessions/{session}?on={}&notice={notice}",
        centre.id,
        urlencode(on)
    ))
    .into_response()
}

pub async fn book(
    State(state): State<AppState>,
    Path((centre, session)): Path<(String, String)>,
    posted: Posted,
) -> Page {
    let staff = &posted.staff;
    let centre = staff.centre(Section::Bookings, &centre)?;
    let lang = staff.lang;
    let on = posted.get("on").to_owned();
    let query = SessionQuery {
        on: on.clone(),
        ..Default::default()
    };
    let mut errors = FieldErrors::default();
    if Uuid::parse_str(posted.get("resident_id")).is_err() {
        errors.push(
            "q",
            lang.pick("请先查找并选择居民", "Find and choose a resident first"),
        );
        return session_page(&state, staff, &centre, &session, &query, errors).await;
    }
    let found = sessions_between(
        &state,
        staff,
        &centre,
        today(&centre) - Duration::days(7),
        today(&centre) + Duration::days(400),
    )
    .await?
    .into_iter()
    .find(|s| s.id == session)
    .ok_or_else(Refusal::not_found)?;
    let mut request = staff.grpc(bk::CreateBookingRequest {
        centre_id: centre.id.clone(),
        offering_id: found.offering_id.clone(),
        resident_id: posted.get("resident_id").to_owned(),
        session_id: session.clone(),
        ..Default::default()
    });
    // The form's key makes a second click (or a resent form) book once.
    if let Ok(key) =
        linli_platform::idempotency::parse_key(posted.get("idempotency_key").as_bytes())
    {
        linli_platform::idempotency::attach(request.metadata_mut(), &key);
    }
    let created = state.bookings.clone().create_booking(request).await;
    match created {
        Ok(booking) => {
            let booking = booking.into_inner();
            let notice = if booking.status == bk::BookingStatus::Waitlisted as i32 {
                format!("waitlisted-{}", booking.waitlist_position)
            } else {
                "confirmed".to_owned()
            };
            Ok(back(&centre, &session, &on, &notice))
        }
        Err(status) if is_refusal(&status) => {
            let mut errors = FieldErrors::from_status(&status, lang);
            if status.code() == tonic::Code::AlreadyExists {
                errors = FieldErrors::default();
                errors.push("general", i18n::refusal(lang, &status));
            }
            // The page comes back as the desk left it: the search typed and the resident
            // chosen, with the refusal beside them.
            let query = SessionQuery {
                q: posted.get("q").to_owned(),
                resident: posted.get("resident_id").to_owned(),
                ..query
            };
            session_page(&state, staff, &centre, &session, &query, errors).await
        }
        Err(status) => Err(status.into()),
    }
}

pub async fn check_in(
    State(state): State<AppState>,
    Path((centre, booking)): Path<(String, String)>,
    posted: Posted,
) -> Page {
    let staff = &posted.staff;
    let centre = staff.centre(Section::Bookings, &centre)?;
    let session = posted.get("session_id").to_owned();
    let done = state
        .bookings
        .clone()
        .check_in(staff.grpc(bk::CheckInRequest {
            centre_id: centre.id.clone(),
            booking_id: booking,
            session_id: session.clone(),
        }))
        .await;
    // From a resident's page the desk goes back there, with the outcome as a notice.
    if let Some(back) = back_to(&centre, posted.get("back")) {
        return match done {
            Ok(_) => Ok(Redirect::to(&with_notice(&back, "checked-in")).into_response()),
            Err(status) if is_refusal(&status) => {
                Ok(Redirect::to(&with_notice(&back, "check-in-refused")).into_response())
            }
            Err(status) => Err(status.into()),
        };
    }
    match done {
        Ok(_) => Ok(back(&centre, &session, posted.get("on"), "checked-in")),
        Err(status) if is_refusal(&status) => {
            let errors = FieldErrors::from_status(&status, staff.lang);
            let query = SessionQuery {
                on: posted.get("on").to_owned(),
                ..Default::default()
            };
            session_page(&state, staff, &centre, &session, &query, errors).await
        }
        Err(status) => Err(status.into()),
    }
}

/// Takes back a check-in made by mistake (the roster's 撤销签到, confirmed first); back to
/// the roster with a notice, or the refusal said on the row.
pub async fn undo_check_in(
    State(state): State<AppState>,
    Path((centre, booking)): Path<(String, String)>,
    posted: Posted,
) -> Page {
    let staff = &posted.staff;
    let centre = staff.centre(Section::Bookings, &centre)?;
    let session = posted.get("session_id").to_owned();
    let done = state
        .bookings
        .clone()
        .undo_check_in(staff.grpc(bk::UndoCheckInRequest {
            centre_id: centre.id.clone(),
            booking_id: booking.clone(),
            session_id: session.clone(),
        }))
        .await;
    match done {
        Ok(_) => Ok(back(&centre, &session, posted.get("on"), "check-in-undone")),
        Err(status) if is_refusal(&status) || status.code() == tonic::Code::PermissionDenied => {
            let errors = FieldErrors::from_status(&status, staff.lang);
            let query = SessionQuery {
                on: posted.get("on").to_owned(),
                refused: booking,
                ..Default::default()
            };
            session_page(&state, staff, &centre, &session, &query, errors).await
        }
        Err(status) => Err(status.into()),
    }
}

/// Whether a check-in may still be taken back: the session's own day in the centre's
/// zone, before it ends (as the bookings service decides).
fn undo_open(seat: &bk::Seat, tz: chrono_tz::Tz, now: DateTime<Utc>) -> bool {
    match (instant(&seat.starts_at), instant(&seat.ends_at)) {
        (Some(starts), Some(ends)) => {
            starts.with_timezone(&tz).date_naive() == now.with_timezone(&tz).date_naive()
                && now < ends
        }
        _ => false,
    }
}

#[derive(Deserialize, Default)]
pub struct CancelQuery {
    /// The page to return to: the session's roster or the resident's page.
    #[serde(default)]
    back: String,
    /// The session the desk came from (a course booking has many).
    #[serde(default)]
    session: String,
}

/// Asks before a booking is cancelled (or a waitlist place given up), and why.
pub async fn cancel_form(
    State(state): State<AppState>,
    staff: Staff,
    Path((centre, booking)): Path<(String, String)>,
    Query(query): Query<CancelQuery>,
) -> Page {
    let centre = staff.centre(Section::Bookings, &centre)?;
    if !staff.may_write() {
        return Err(Refusal::forbidden());
    }
    cancel_page(
        &state,
        &staff,
        &centre,
        &booking,
        &query,
        "",
        FieldErrors::default(),
    )
    .await
}

async fn cancel_page(
    state: &AppState,
    staff: &Staff,
    centre: &pb::Centre,
    booking: &str,
    query: &CancelQuery,
    reason: &str,
    errors: FieldErrors,
) -> Page {
    let lang = staff.lang;
    let tz = zone(centre);
    let b = state
        .bookings
        .clone()
        .get_booking(staff.grpc(bk::GetBookingRequest {
            centre_id: centre.id.clone(),
            booking_id: booking.to_owned(),
        }))
        .await?
        .into_inner();
    let offering = state
        .bookings
        .clone()
        .get_offering(staff.grpc(bk::GetOfferingRequest {
            centre_id: centre.id.clone(),
            offering_id: b.offering_id.clone(),
        }))
        .await?
        .into_inner();
    let names = names_of(
        state,
        staff,
        &centre.id,
        std::slice::from_ref(&b.resident_id),
        "",
    )
    .await?;
    let name = names
        .get(&b.resident_id)
        .cloned()
        .unwrap_or_else(|| lang.pick("（已匿名）", "(anonymised)").to_owned());
    let waitlisted = b.status == bk::BookingStatus::Waitlisted as i32;
    let back = back_to(centre, &query.back).unwrap_or_else(|| format!("/c/{}/bookings", centre.id));
    let starts = b
        .seats
        .iter()
        .find(|s| s.session_id == query.session)
        .map(|s| &s.starts_at)
        .or_else(|| next_seat(&b, Utc::now()).map(|s| &s.starts_at))
        .unwrap_or(&b.starts_at);
    let title = if waitlisted {
        lang.pick("移出候补名单", "Remove from the waitlist")
    } else {
        lang.pick("取消预约", "Cancel the booking")
    };
    let content = html! {
        (page_url(&format!("/c/{}/bookings/{}/cancel?back={}&session={}", centre.id, b.id, super::residents::urlencode(&back), super::residents::urlencode(&query.session))))
        dl.facts #booking {
            dt { (lang.pick("居民", "Resident")) } dd #who { (name) }
            dt { (lang.pick("服务", "Service")) } dd { (offering.name) }
            @if let Some(at) = instant(starts) { dt { (lang.pick("时间", "When")) } dd { (when(lang, at, tz)) } }
            dt { (lang.pick("状态", "Status")) } dd {
                (i18n::term(lang, &status_name(&b)))
                @if waitlisted { (lang.pick("，排第 ", ", position ")) (b.waitlist_position) }
            }
        }
        @if matches!(status_name(&b).as_str(), "confirmed" | "waitlisted") {
            form.stack method="post" novalidate {
                (csrf(staff))
                input type="hidden" name="back" value=(back);
                input type="hidden" name="session" value=(query.session);
                p.warn { @if waitlisted { (lang.pick("确定将此人移出候补名单吗？移出后不能恢复，需要时请重新预约。", "Remove them from the waitlist? This cannot be undone.")) } @else { (lang.pick("确定取消这条预约吗？取消后座位会让给候补的居民，不能恢复。", "Cancel this booking? The seat goes to the waitlist; this cannot be undone.")) } }
                (general_errors(&errors, &["reason"]))
                div.field.invalid[errors.get("reason").is_some()] {
                    label for="f-reason" { (lang.pick("原因", "Reason")) span.req aria-hidden="true" { " *" } }
                    input #f-reason type="text" name="reason" value=(reason) list="reasons" maxlength="200" required
                        aria-invalid=[errors.get("reason").map(|_| "true")];
                    datalist #reasons {
                        @for r in [lang.pick("本人有事来不了", "Cannot come"), lang.pick("身体不适", "Unwell"), lang.pick("时间冲突", "Clashes with something else"), lang.pick("家属代为取消", "Cancelled by family")] { option value=(r) {} }
                    }
                    @if let Some(e) = errors.get("reason") { span.error #f-reason-error role="alert" { (e) } }
                }
                div.actions {
                    button #confirm-cancel type="submit" { @if waitlisted { (lang.pick("确认移出候补", "Remove from the waitlist")) } @else { (lang.pick("确认取消预约", "Cancel the booking")) } }
                    " " a.button.secondary href=(back) { (lang.pick("不取消，返回", "Keep it and go back")) }
                }
            }
        } @else {
            p { (lang.pick("这条预约已不能取消。", "This booking can no longer be cancelled.")) }
            p { a href=(back) { (lang.pick("返回", "Go back")) } }
        }
    };
    let mut response = super::layout(staff, Section::Bookings, Some(centre), title, content);
    if !errors.is_empty() {
        *response.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
    }
    Ok(response)
}

pub async fn cancel(
    State(state): State<AppState>,
    Path((centre, booking)): Path<(String, String)>,
    posted: Posted,
) -> Page {
    let staff = &posted.staff;
    let centre = staff.centre(Section::Bookings, &centre)?;
    let lang = staff.lang;
    let query = CancelQuery {
        back: posted.get("back").to_owned(),
        session: posted.get("session").to_owned(),
    };
    let reason = posted.get("reason").trim().to_owned();
    let mut errors = FieldErrors::default();
    if reason.is_empty() {
        errors.push(
            "reason",
            lang.pick("请填写取消的原因", "Say why it is cancelled"),
        );
    } else {
        let before = state
            .bookings
            .clone()
            .get_booking(staff.grpc(bk::GetBookingRequest {
                centre_id: centre.id.clone(),
                booking_id: booking.clone(),
            }))
            .await?
            .into_inner();
        let done = state
            .bookings
            .clone()
            .cancel_booking(staff.grpc(bk::CancelBookingRequest {
                centre_id: centre.id.clone(),
                booking_id: booking.clone(),
                reason: reason.clone(),
            }))
            .await;
        match done {
            Ok(cancelled) => {
                let cancelled = cancelled.into_inner();
                let back = back_to(&centre, &query.back)
                    .unwrap_or_else(|| format!("/c/{}/bookings", centre.id));
                let what = if before.status == bk::BookingStatus::Waitlisted as i32 {
                    "removed"
                } else {
                    "cancelled"
                };
                let mut to = with_notice(&back, what);
                if !cancelled.promoted_resident_ids.is_empty() {
                    to.push_str("&promoted=");
                    to.push_str(&cancelled.promoted_resident_ids.join(","));
                }
                return Ok(Redirect::to(&to).into_response());
            }
            Err(status) if is_refusal(&status) => errors = FieldErrors::from_status(&status, lang),
            Err(status) => return Err(status.into()),
        }
    }
    cancel_page(&state, staff, &centre, &booking, &query, &reason, errors).await
}

/// Residents' names by id, asked of the registry in one call per 200 ids (a roster's
/// worth), never one call per booking; with `q`, only those whose name matches it (by
/// characters, pinyin or initials, as the residents page searches). Erased residents and
/// empty ids are left out. A `q` the registry cannot read is a 400 refusal.
pub async fn names_of(
    state: &AppState,
    staff: &Staff,
    centre: &str,
    ids: &[String],
    q: &str,
) -> Result<HashMap<String, String>, Refusal> {
    Ok(residents_of(state, staff, centre, ids, q)
        .await?
        .into_iter()
        .map(|(id, r)| (id, r.name))
        .collect())
}

/// The residents themselves, as [`names_of`] finds them (their phone masked as the
/// caller's role reads it).
pub async fn residents_of(
    state: &AppState,
    staff: &Staff,
    centre: &str,
    ids: &[String],
    q: &str,
) -> Result<HashMap<String, pb::Resident>, Refusal> {
    let mut wanted: Vec<String> = ids.iter().filter(|id| !id.is_empty()).cloned().collect();
    wanted.sort();
    wanted.dedup();
    let mut names = HashMap::new();
    for chunk in wanted.chunks(200) {
        let reply = state
            .registry
            .clone()
            .list_residents(staff.grpc(pb::ListResidentsRequest {
                centre_id: centre.to_owned(),
                page_size: 200,
                q: q.to_owned(),
                ids: chunk.to_vec(),
                ..Default::default()
            }))
            .await?
            .into_inner();
        names.extend(reply.residents.into_iter().map(|r| (r.id.clone(), r)));
    }
    Ok(names)
}

/// The order of a roster: by the name's pinyin, as a Chinese list is read.
pub(super) fn sort_key(name: &str) -> String {
    use pinyin::ToPinyin;
    name.chars()
        .map(|c| {
            c.to_pinyin()
                .map(|p| format!("{} ", p.plain()))
                .unwrap_or_else(|| c.to_lowercase().collect())
        })
        .collect()
}

/// Where check-in stands for a seat (or a facility booking) at `now`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Window {
    /// It opens then (the service says when: ahead of the start).
    NotYet(DateTime<Utc>),
    Open,
    Over,
}

fn check_in_window(seat: &bk::Seat, now: DateTime<Utc>) -> Window {
    window(&seat.check_in_opens_at, &seat.ends_at, now)
}

fn window(
    opens: &Option<prost_types::Timestamp>,
    ends: &Option<prost_types::Timestamp>,
    now: DateTime<Utc>,
) -> Window {
    match (instant(opens), instant(ends)) {
        (_, Some(ends)) if ends <= now => Window::Over,
        (Some(opens), _) if opens > now => Window::NotYet(opens),
        (Some(_), Some(_)) => Window::Open,
        _ => Window::Over,
    }
}

/// "签到于 12月5日（周六）14:00 开放", in the centre's zone.
fn opens_text(lang: Lang, opens: DateTime<Utc>, tz: chrono_tz::Tz) -> String {
    let local = opens.with_timezone(&tz);
    match lang {
        Lang::Zh => format!(
            "签到于 {}月{}日（{}）{} 开放",
            local.month(),
            local.day(),
            i18n::weekday(lang, local.weekday()),
            local.format("%H:%M")
        ),
        Lang::En => format!("Check-in opens {}", when(lang, opens, tz)),
    }
}

/// The seat of a booking the desk deals with next: the first held or waiting one not over.
fn next_seat(b: &bk::Booking, now: DateTime<Utc>) -> Option<&bk::Seat> {
    b.seats
        .iter()
        .filter(|s| {
            matches!(s.state.as_str(), "held" | "waiting")
                && instant(&s.ends_at).is_some_and(|t| t > now)
        })
        .min_by_key(|s| instant(&s.starts_at))
}

fn status_name(b: &bk::Booking) -> String {
    bk::BookingStatus::try_from(b.status)
        .map(|s| {
            s.as_str_name()
                .trim_start_matches("BOOKING_STATUS_")
                .to_lowercase()
        })
        .unwrap_or_default()
}

/// Why a booking was cancelled, in words: the service's own reasons by name, the desk's as
/// typed.
fn cancel_reason(lang: Lang, reason: &str) -> String {
    let (zh, en) = match reason {
        "resident" => ("居民本人取消", "the resident asked"),
        "session_cancelled" => ("场次取消", "the session was cancelled"),
        "waitlist_closed" => ("候补未轮到", "the waitlist closed"),
        "moved_out" => ("居民已迁出", "moved out"),
        "deceased" => ("居民已故", "deceased"),
        "erased" => ("个人信息已删除", "erased"),
        typed => return typed.to_owned(),
    };
    lang.pick(zh, en).to_owned()
}

/// The notice after a cancellation or a removal from the waitlist, naming whoever the
/// waitlist gave the freed seat to.
fn cancel_notice(
    lang: Lang,
    what: &str,
    promoted: &[String],
    names: &HashMap<String, String>,
) -> String {
    let mut text = if what == "removed" {
        lang.pick("已移出候补名单。", "Removed from the waitlist.")
            .to_owned()
    } else {
        lang.pick("已取消预约。", "The booking was cancelled.")
            .to_owned()
    };
    let who: Vec<&str> = promoted
        .iter()
        .filter_map(|id| names.get(id).map(String::as_str))
        .collect();
    if !who.is_empty() {
        text.push_str(&match lang {
            Lang::Zh => format!("空出的座位已由候补的 {} 补上。", who.join("、")),
            Lang::En => format!(" The seat went to {} from the waitlist.", who.join(", ")),
        });
    }
    text
}

/// A page of this centre to return to, as a form carried it; anything else is ignored.
fn back_to(centre: &pb::Centre, text: &str) -> Option<String> {
    let prefix = format!("/c/{}/", centre.id);
    (text.starts_with(&prefix)
        && !text.contains("//")
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "/-_?=&.%".contains(c)))
    .then(|| text.to_owned())
}

/// `back` with the outcome to show, replacing any earlier one.
fn with_notice(back: &str, what: &str) -> String {
    let (path, query) = back.split_once('?').unwrap_or((back, ""));
    let mut kept: Vec<&str> = query
        .split('&')
        .filter(|p| {
            !p.is_empty()
                && !p.starts_with("notice=")
                && !p.starts_with("promoted=")
                && !p.starts_with("find=")
        })
        .collect();
    let notice = format!("notice={what}");
    kept.push(&notice);
    format!("{path}?{}", kept.join("&"))
}

fn cancel_link(centre: &pb::Centre, b: &bk::Booking, session: &str, back: &str) -> String {
    format!(
        "/c/{}/bookings/{}/cancel?session={session}&back={}",
        centre.id,
        b.id,
        super::residents::urlencode(back)
    )
}

/// The page's own address, for the console's script to show in place of a form's POST
/// address when the page answers a form with an error (so a reload does not post again).
fn page_url(url: &str) -> Markup {
    html! { span hidden data-page-url=(url) {} }
}

/// A resident's bookings and waitlist places, those to come first (soonest first), then
/// the past (latest first), each with check-in while it is open and cancellation.
pub async fn of_resident(
    state: &AppState,
    staff: &Staff,
    centre: &pb::Centre,
    resident: &str,
    notice_code: &str,
    promoted: &str,
) -> Result<Markup, Refusal> {
    let lang = staff.lang;
    let tz = zone(centre);
    let now = Utc::now();
    let bookings = every_page(|page_token| async {
        let reply = state
            .bookings
            .clone()
            .list_bookings(staff.grpc(bk::ListBookingsRequest {
                centre_id: centre.id.clone(),
                resident_id: resident.to_owned(),
                page_size: PAGE,
                page_token,
                ..Default::default()
            }))
            .await?
            .into_inner();
        Ok::<_, Refusal>((reply.bookings, reply.next_page_token))
    })
    .await?;
    let offerings = offerings(state, staff, &centre.id).await?;
    let promoted: Vec<String> = promoted
        .split(',')
        .filter(|id| Uuid::parse_str(id).is_ok())
        .map(str::to_owned)
        .collect();
    let promoted_names = names_of(state, staff, &centre.id, &promoted, "").await?;
    // When each booking is: its next seat to come, else its last; a facility's range.
    let at = |b: &bk::Booking| -> Option<DateTime<Utc>> {
        instant(&b.starts_at)
            .or_else(|| next_seat(b, now).and_then(|s| instant(&s.starts_at)))
            .or_else(|| b.seats.iter().filter_map(|s| instant(&s.starts_at)).max())
    };
    let ends = |b: &bk::Booking| -> Option<DateTime<Utc>> {
        instant(&b.ends_at)
            .or_else(|| next_seat(b, now).and_then(|s| instant(&s.ends_at)))
            .or_else(|| b.seats.iter().filter_map(|s| instant(&s.ends_at)).max())
    };
    let (mut coming, mut past): (Vec<&bk::Booking>, Vec<&bk::Booking>) =
        bookings.iter().partition(|b| {
            matches!(status_name(b).as_str(), "confirmed" | "waitlisted")
                && ends(b).is_some_and(|t| t > now)
        });
    coming.sort_by_key(|b| at(b));
    past.sort_by_key(|b| std::cmp::Reverse(at(b)));
    let back = format!("/c/{}/residents/{resident}", centre.id);
    let writes = staff.may_write();
    let row = |b: &bk::Booking, to_come: bool| {
        let status = status_name(b);
        let seat = next_seat(b, now);
        let window = match (seat, b.facility_id.is_empty()) {
            (Some(s), true) if s.state == "held" => check_in_window(s, now),
            (_, false) if status == "confirmed" => window(&b.check_in_opens_at, &b.ends_at, now),
            _ => Window::Over,
        };
        let name = offerings
            .get(&b.offering_id)
            .map(|o| o.name.clone())
            .unwrap_or_else(|| {
                lang.pick("（已停用的服务）", "(withdrawn service)")
                    .to_owned()
            });
        html! {
            tr data-booking=(b.id) data-status=(status) {
                td { (name) }
                td { @if let Some(t) = at(b) { (when(lang, t, tz)) } }
                td {
                    (i18n::term(lang, &status))
                    @if status == "waitlisted" { (lang.pick("，排第 ", ", position ")) (b.waitlist_position) }
                    @if status == "cancelled" && !b.cancel_reason.is_empty() { span.muted { (lang.pick("（", " (")) (cancel_reason(lang, &b.cancel_reason)) (lang.pick("）", ")")) } }
                }
                td {
                    @if to_come && writes { div.row-actions {
                        @match window {
                            Window::Open => {
                                form.inline method="post" action=(format!("/c/{}/bookings/{}/check-in", centre.id, b.id)) {
                                    (csrf(staff))
                                    input type="hidden" name="session_id" value=(seat.map(|s| s.session_id.as_str()).unwrap_or_default());
                                    input type="hidden" name="back" value=(back);
                                    button.toggle type="submit" data-check-in=(name) { "○ " (lang.pick("签到", "Check in")) }
                                }
                            }
                            Window::NotYet(opens) if status == "confirmed" => { span.muted.opens { (opens_text(lang, opens, tz)) } " " }
                            _ => {}
                        }
                        " " a.button.secondary href=(cancel_link(centre, b, seat.map(|s| s.session_id.as_str()).unwrap_or_default(), &back)) data-cancel=(name) {
                            @if status == "waitlisted" { (lang.pick("移出候补…", "Remove…")) } @else { (lang.pick("取消预约…", "Cancel…")) }
                        }
                    } }
                }
            }
        }
    };
    Ok(html! {
        @match notice_code {
            "cancelled" | "removed" => { (notice(&cancel_notice(lang, notice_code, &promoted, &promoted_names))) }
            "checked-in" => { (notice(lang.pick("已签到。", "Checked in."))) }
            "check-in-refused" => { p.error.general role="alert" { (lang.pick("签到未成功：现在不在签到时间内，或此预约已签到、已取消。", "Check-in failed: it is not open now, or the booking was checked in or cancelled.")) } }
            _ => {}
        }
        section #resident-bookings {
            h2 { (lang.pick("预约与候补", "Bookings and waitlists")) }
            h3 { (lang.pick("即将参加", "To come")) }
            table #bookings-to-come {
                thead { tr { th { (lang.pick("服务", "Service")) } th { (lang.pick("时间", "When")) } th { (lang.pick("状态", "Status")) } th { span.sr { (lang.pick("操作", "Actions")) } } } }
                tbody {
                    @for b in &coming { (row(b, true)) }
                    @if coming.is_empty() { tr { td colspan="4" { (lang.pick("没有即将参加的预约。", "Nothing booked to come.")) } } }
                }
            }
            h3 { (lang.pick("以往记录", "Past")) }
            table #bookings-past {
                thead { tr { th { (lang.pick("服务", "Service")) } th { (lang.pick("时间", "When")) } th { (lang.pick("状态", "Status")) } th { span.sr { (lang.pick("操作", "Actions")) } } } }
                tbody {
                    @for b in &past { (row(b, false)) }
                    @if past.is_empty() { tr { td colspan="4" { (lang.pick("没有以往的预约。", "No past bookings.")) } } }
                }
            }
        }
    })
}
