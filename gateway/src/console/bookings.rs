//! Bookings at the desk: the day's or week's sessions as a list or calendar, a session's
//! bookings and waitlist, booking a seat for a resident (with the service's reason when it
//! refuses), check-in and cancellation. No-shows are marked by the bookings service itself
//! once a session ends; the session page lists them.

use std::collections::HashMap;

use super::Query;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use chrono::{Datelike, Duration, NaiveDate, NaiveTime, TimeZone, Utc};
use linli_proto::bookings::v1 as bk;
use linli_proto::registry::v1 as pb;
use maud::html;
use serde::Deserialize;
use uuid::Uuid;

use super::listing::{PAGE, every_page};
use super::residents::urlencode;
use super::{
    FieldErrors, Page, Posted, Refusal, Section, Staff, clock, csrf, date, general_errors, i18n,
    instant, is_refusal, money, notice, timestamp, today, zone,
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
}

fn start_of(tz: chrono_tz::Tz, day: NaiveDate) -> chrono::DateTime<Utc> {
    tz.from_local_datetime(&day.and_time(NaiveTime::MIN))
        .earliest()
        .map(|t| t.with_timezone(&Utc))
        .unwrap_or_else(|| Utc.from_utc_datetime(&day.and_time(NaiveTime::MIN)))
}

async fn sessions_between(
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
    let mut names: HashMap<String, String> = HashMap::new();
    for b in &bookings {
        if b.resident_id.is_empty() || names.contains_key(&b.resident_id) {
            continue;
        }
        let name = state
            .registry
            .clone()
            .get_resident(staff.grpc(pb::GetResidentRequest {
                centre_id: centre.id.clone(),
                id: b.resident_id.clone(),
                national_id_purpose: String::new(),
            }))
            .await
            .map(|r| r.into_inner().name)
            .unwrap_or_else(|_| "—".into());
        names.insert(b.resident_id.clone(), name);
    }
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
    let seated: Vec<&bk::Booking> = bookings
        .iter()
        .filter(|b| !matches!(status_of(b).as_str(), "waitlisted" | "cancelled"))
        .collect();
    let day = instant(&session.starts_at)
        .map(|t| t.with_timezone(&tz).date_naive())
        .unwrap_or_else(|| today(centre));
    let here = format!("/c/{}/sessions/{}", centre.id, session.id);
    let writes = staff.may_write();
    let idem = Uuid::new_v4().to_string();
    let notice_text = match query.notice.as_str() {
        "confirmed" => Some(
            lang.pick("预约成功，已确认座位。", "Booked: the seat is confirmed.")
                .to_owned(),
        ),
        "checked-in" => Some(lang.pick("已签到。", "Checked in.").to_owned()),
        "cancelled" => Some(
            lang.pick("已取消预约。", "The booking was cancelled.")
                .to_owned(),
        ),
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
        @if writes && session.status != "cancelled" {
            section #book {
                h2 { (lang.pick("为居民预约", "Book for a resident")) }
                (general_errors(&errors, &["q"]))
                form.inline role="search" method="get" action=(here) {
                    input type="hidden" name="on" value=(day.to_string());
                    div.field.invalid[errors.get("q").is_some()] {
                        label for="q" { (lang.pick("姓名或拼音首字母", "Name or pinyin initials")) }
                        input #q type="search" name="q" value=(query.q);
                        @if let Some(e) = errors.get("q") { span.error role="alert" { (e) } }
                    }
                    button type="submit" { (lang.pick("查找居民", "Find resident")) }
                }
                @let choices: Vec<&pb::Resident> = preselected.iter().chain(candidates.iter()).collect();
                @if !query.q.is_empty() && candidates.is_empty() { p.empty { (lang.pick("没有找到居民。", "No residents found.")) } }
                ul.choices #candidates {
                    @for r in choices {
                        li {
                            form.inline method="post" action=(format!("{here}/bookings")) {
                                (csrf(staff))
                                input type="hidden" name="resident_id" value=(r.id);
                                input type="hidden" name="on" value=(day.to_string());
                                input type="hidden" name="idempotency_key" value=(format!("{idem}-{}", r.id));
                                span.name { (r.name) } " " span.muted { (r.date_of_birth) " " (super::residents::address_of(lang, &r.building, &r.unit, &r.room)) }
                                " " button type="submit" data-book=(r.name) { (lang.pick("预约", "Book")) " " (r.name) }
                            }
                        }
                    }
                }
            }
        }
        section {
            h2 { (lang.pick("签到名单", "Check-in list")) }
            table #attendees {
                thead { tr { th { (lang.pick("居民", "Resident")) } th { (lang.pick("状态", "Status")) } th { (lang.pick("费用", "Fee")) } th { span.sr { (lang.pick("操作", "Actions")) } } } }
                tbody {
                    @for b in &seated {
                        @let seat = seat_state(b);
                        tr data-status=(status_of(b)) data-seat=(seat) {
                            td.name { (name_of(b)) }
                            td.status { (i18n::term(lang, &if seat == "attended" { "attended".to_owned() } else if seat == "no_show" { "no_show".to_owned() } else { status_of(b) })) }
                            td.num { (money(b.fee_minor)) @if !b.concession.is_empty() { " " span.tag { (i18n::term(lang, &b.concession)) } } }
                            td {
                                @if writes && seat == "held" {
                                    form.inline method="post" action=(format!("/c/{}/bookings/{}/check-in", centre.id, b.id)) {
                                        (csrf(staff))
                                        input type="hidden" name="session_id" value=(session.id);
                                        input type="hidden" name="on" value=(day.to_string());
                                        button type="submit" data-check-in=(name_of(b)) { (lang.pick("签到", "Check in")) }
                                    }
                                    form.inline method="post" action=(format!("/c/{}/bookings/{}/cancel", centre.id, b.id)) {
                                        (csrf(staff))
                                        input type="hidden" name="session_id" value=(session.id);
                                        input type="hidden" name="on" value=(day.to_string());
                                        button.secondary type="submit" { (lang.pick("取消", "Cancel")) }
                                    }
                                }
                            }
                        }
                    }
                    @if seated.is_empty() { tr { td colspan="4" { (lang.pick("尚无预约。", "No bookings yet.")) } } }
                }
            }
        }
        section {
            h2 { (lang.pick("候补名单", "Waitlist")) }
            ol #waitlist {
                @for b in &waitlist { li data-position=(b.waitlist_position) { (name_of(b)) } }
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

pub async fn cancel(
    State(state): State<AppState>,
    Path((centre, booking)): Path<(String, String)>,
    posted: Posted,
) -> Page {
    let staff = &posted.staff;
    let centre = staff.centre(Section::Bookings, &centre)?;
    let session = posted.get("session_id").to_owned();
    state
        .bookings
        .clone()
        .cancel_booking(staff.grpc(bk::CancelBookingRequest {
            centre_id: centre.id.clone(),
            booking_id: booking,
        }))
        .await?;
    Ok(back(&centre, &session, posted.get("on"), "cancelled"))
}
