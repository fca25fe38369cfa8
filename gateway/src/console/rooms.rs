//! The rooms of a centre at the desk (活动室预约): a grid of rooms by the hour for one day in
//! the centre's zone, each hour free (click it to reserve the room for a resident or a
//! group), taken (naming who holds it: the resident, the group's purpose, or the session
//! held there), closed or past. Reserving books the room's facility offering through the
//! same CreateBooking the API uses; the service keeps rooms from being double-booked.
//! `?view=week` shows the week (Monday to Sunday) around the day instead: each room's holds
//! per day and how many hours are free, a day leading to its hourly grid to reserve from.

use std::collections::HashMap;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveTime, TimeZone, Timelike, Utc};
use linli_proto::bookings::v1 as bk;
use linli_proto::registry::v1 as pb;
use maud::{Markup, html};
use serde::Deserialize;
use uuid::Uuid;

use super::bookings::{names_of, sessions_between};
use super::listing::{PAGE, every_page};
use super::residents::urlencode;
use super::{
    FieldErrors, Lang, Page, Posted, Query, Section, Staff, clock, csrf, date, general_errors,
    instant, is_refusal, notice, timestamp, today, zone,
};
use crate::AppState;

#[derive(Deserialize, Default)]
pub struct GridQuery {
    #[serde(default)]
    day: String,
    /// `week`: the seven days (Monday to Sunday) around `day`, each room's holds by day.
    #[serde(default)]
    view: String,
    #[serde(default)]
    notice: String,
}

#[derive(Deserialize, Default, Clone)]
pub struct ReserveQuery {
    #[serde(default)]
    facility: String,
    #[serde(default)]
    day: String,
    #[serde(default)]
    at: String,
    #[serde(default)]
    hours: String,
    #[serde(default)]
    q: String,
    #[serde(default)]
    note: String,
}

/// What holds a room for part of the day.
struct Hold {
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    /// What the grid says: a resident's name, a group's purpose, a session's offering.
    who: String,
    /// One hold spans its hours as one cell.
    key: String,
}

/// A room's hour on the grid.
enum Cell {
    Closed,
    Past,
    Free,
    Taken(usize),
}

/// The facility offering through which a room is reserved (the first active one naming it).
fn hire_of<'a>(
    offerings: &'a HashMap<String, bk::Offering>,
    facility: &str,
) -> Option<&'a bk::Offering> {
    let mut hires: Vec<&bk::Offering> = offerings
        .values()
        .filter(|o| {
            o.active && o.kind == bk::OfferingKind::Facility as i32 && o.facility_id == facility
        })
        .collect();
    hires.sort_by(|a, b| a.name.cmp(&b.name));
    hires.into_iter().next()
}

fn hour_of(text: &str) -> Option<NaiveTime> {
    NaiveTime::parse_from_str(text, "%H:%M").ok()
}

fn local(tz: chrono_tz::Tz, day: NaiveDate, at: NaiveTime) -> DateTime<Utc> {
    tz.from_local_datetime(&day.and_time(at))
        .earliest()
        .map(|t| t.with_timezone(&Utc))
        .unwrap_or_else(|| Utc.from_utc_datetime(&day.and_time(at)))
}

pub async fn grid(
    State(state): State<AppState>,
    staff: Staff,
    Path(centre): Path<String>,
    Query(query): Query<GridQuery>,
) -> Page {
    let centre = staff.centre(Section::Bookings, &centre)?;
    let lang = staff.lang;
    let tz = zone(&centre);
    let day = NaiveDate::parse_from_str(&query.day, "%Y-%m-%d").unwrap_or_else(|_| today(&centre));
    let week = query.view == "week";
    // The days shown: the one day, or its week from Monday.
    let (from_day, days) = if week {
        (
            day - Duration::days(i64::from(day.weekday().num_days_from_monday())),
            7,
        )
    } else {
        (day, 1)
    };
    let to_day = from_day + Duration::days(days);
    let facilities = state
        .bookings
        .clone()
        .list_facilities(staff.grpc(bk::ListFacilitiesRequest {
            centre_id: centre.id.clone(),
        }))
        .await?
        .into_inner()
        .facilities;
    let offerings: HashMap<String, bk::Offering> = state
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
    let (start, end) = (
        local(tz, from_day, NaiveTime::MIN),
        local(tz, to_day, NaiveTime::MIN),
    );
    // Who holds each room: its reservations of the days shown, and the sessions held in it.
    let mut holds: HashMap<String, Vec<Hold>> = HashMap::new();
    let mut reservations = Vec::new();
    for facility in &facilities {
        let Some(hire) = hire_of(&offerings, &facility.id) else {
            continue;
        };
        let bookings = every_page(|page_token| async {
            let reply = state
                .bookings
                .clone()
                .list_bookings(staff.grpc(bk::ListBookingsRequest {
                    centre_id: centre.id.clone(),
                    offering_id: hire.id.clone(),
                    page_size: PAGE,
                    page_token,
                    ..Default::default()
                }))
                .await?
                .into_inner();
            Ok::<_, super::Refusal>((reply.bookings, reply.next_page_token))
        })
        .await?;
        reservations.extend(bookings.into_iter().filter(|b| {
            let live = matches!(
                bk::BookingStatus::try_from(b.status),
                Ok(bk::BookingStatus::Confirmed | bk::BookingStatus::Attended)
            );
            live && instant(&b.starts_at).is_some_and(|t| t < end)
                && instant(&b.ends_at).is_some_and(|t| t > start)
        }));
    }
    let ids: Vec<String> = reservations.iter().map(|b| b.resident_id.clone()).collect();
    let names = names_of(&state, &staff, &centre.id, &ids, "").await?;
    for b in &reservations {
        let who = names
            .get(&b.resident_id)
            .cloned()
            .filter(|_| !b.resident_id.is_empty())
            .or_else(|| (!b.note.is_empty()).then(|| b.note.clone()))
            .unwrap_or_else(|| lang.pick("中心使用", "The centre").to_owned());
        holds.entry(b.facility_id.clone()).or_default().push(Hold {
            from: instant(&b.starts_at).unwrap_or(start),
            to: instant(&b.ends_at).unwrap_or(start),
            who,
            key: b.id.clone(),
        });
    }
    let sessions = sessions_between(&state, &staff, &centre, from_day, to_day).await?;
    for s in sessions
        .iter()
        .filter(|s| !s.facility_id.is_empty() && s.status != "cancelled")
    {
        let name = offerings
            .get(&s.offering_id)
            .map(|o| o.name.clone())
            .unwrap_or_default();
        holds.entry(s.facility_id.clone()).or_default().push(Hold {
            from: instant(&s.starts_at).unwrap_or(start),
            to: instant(&s.ends_at).unwrap_or(start),
            who: name,
            key: s.id.clone(),
        });
    }
    // In order of time, as the week's cells list them.
    for held in holds.values_mut() {
        held.sort_by_key(|x| x.from);
    }
    // The grid's hours: from the earliest opening to the latest closing of the rooms.
    let first = facilities
        .iter()
        .filter_map(|f| hour_of(&f.opens))
        .map(|t| t.hour())
        .min()
        .unwrap_or(8);
    let last = facilities
        .iter()
        .filter_map(|f| hour_of(&f.closes))
        .map(|t| {
            if t.minute() > 0 {
                t.hour() + 1
            } else {
                t.hour()
            }
        })
        .max()
        .unwrap_or(20)
        .max(first + 1);
    let now = Utc::now();
    let open_on = |f: &bk::Facility, day: NaiveDate| -> bool {
        let weekday = day.weekday().number_from_monday() as i32;
        f.open_days.is_empty() || f.open_days.contains(&weekday)
    };
    let cells = |f: &bk::Facility, day: NaiveDate| -> Vec<Cell> {
        let opens = hour_of(&f.opens).unwrap_or(NaiveTime::MIN);
        let closes = hour_of(&f.closes).unwrap_or(NaiveTime::MIN);
        let open_today = open_on(f, day);
        let held = holds.get(&f.id);
        (first..last)
            .map(|h| {
                let at = NaiveTime::from_hms_opt(h, 0, 0).unwrap_or(NaiveTime::MIN);
                let (from, to) = (local(tz, day, at), local(tz, day, at) + Duration::hours(1));
                if let Some(i) =
                    held.and_then(|hs| hs.iter().position(|x| x.from < to && x.to > from))
                {
                    return Cell::Taken(i);
                }
                if !open_today || at < opens || at + Duration::hours(1) > closes {
                    Cell::Closed
                } else if to <= now {
                    Cell::Past
                } else {
                    Cell::Free
                }
            })
            .collect()
    };
    let base = format!("/c/{}/rooms", centre.id);
    if week {
        let content = html! {
            nav.pager aria-label=(lang.pick("日期", "Dates")) {
                a.button href=(format!("{base}?view=week&day={}", from_day - Duration::days(7))) { "← " (lang.pick("上一周", "Previous week")) }
                a.button href=(format!("{base}?view=week&day={}", today(&centre))) { (lang.pick("本周", "This week")) }
                a.button #next-week href=(format!("{base}?view=week&day={to_day}")) { (lang.pick("下一周", "Next week")) " →" }
                a.button.secondary #day-view href=(format!("{base}?day={day}")) { (lang.pick("按日查看", "By day")) }
            }
            h2 { (date(lang, from_day)) " – " (date(lang, to_day - Duration::days(1))) }
            @if facilities.is_empty() { p.empty { (lang.pick("本中心还没有登记活动室。", "The centre has no rooms yet.")) } }
            @else {
                p.muted.legend { (lang.pick("每格列出当天的使用人和时间；点击", "Each cell lists who holds the room that day; click ")) span.slot.free { (lang.pick("空闲", "free")) } (lang.pick("进入当天，按小时预约。", " to reserve by the hour on that day.")) }
                div.grid-scroll {
                    table #room-week {
                        thead { tr {
                            th.room scope="col" { (lang.pick("活动室", "Room")) }
                            @for d in (0..days).map(|i| from_day + Duration::days(i)) {
                                th.day.today[d == today(&centre)] scope="col" data-day=(d.to_string()) {
                                    a href=(format!("{base}?day={d}")) {
                                        span.weekday { (super::i18n::weekday(lang, d.weekday())) } br;
                                        (lang.pick(&format!("{}月{}日", d.month(), d.day()), &d.format("%-d %b").to_string()))
                                    }
                                }
                            }
                        } }
                        tbody {
                            @for f in &facilities {
                                tr data-room=(f.name) {
                                    th.room scope="row" { (f.name) br; span.muted { (f.opens) "–" (f.closes) } }
                                    @for d in (0..days).map(|i| from_day + Duration::days(i)) {
                                        @let (day_start, day_end) = (local(tz, d, NaiveTime::MIN), local(tz, d + Duration::days(1), NaiveTime::MIN));
                                        @let held: Vec<&Hold> = holds.get(&f.id).map(|hs| hs.iter().filter(|x| x.from < day_end && x.to > day_start).collect()).unwrap_or_default();
                                        @let free = cells(f, d).iter().filter(|c| matches!(c, Cell::Free)).count();
                                        td.week-day.closed[!open_on(f, d)] data-day=(d.to_string()) {
                                            @for x in &held {
                                                div.hold { span.during { (clock(x.from.max(day_start), tz)) "–" (clock(x.to.min(day_end), tz)) } " " span.who { (x.who) } }
                                            }
                                            @if !open_on(f, d) { span.muted { (lang.pick("不开放", "closed")) } }
                                            @else if free > 0 {
                                                a.free href=(format!("{base}?day={d}")) { (lang.pick("空闲", "free")) " " (free) (lang.pick(" 小时", " h")) }
                                            }
                                            @else if local(tz, d, NaiveTime::from_hms_opt(last.min(23), 0, 0).unwrap_or(NaiveTime::MIN)) <= now { span.muted { (lang.pick("已过", "past")) } }
                                            @else { span.muted { (lang.pick("已约满", "full")) } }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        };
        return Ok(super::layout(
            &staff,
            Section::Bookings,
            Some(&centre),
            &format!("{} · {}", centre.name, lang.pick("活动室预约", "Rooms")),
            content,
        ));
    }
    let content = html! {
        @if query.notice == "reserved" { (notice(lang.pick("已预约活动室。", "The room is reserved."))) }
        nav.pager aria-label=(lang.pick("日期", "Dates")) {
            a.button href=(format!("{base}?day={}", day - Duration::days(1))) { "← " (lang.pick("前一天", "Previous day")) }
            a.button href=(format!("{base}?day={}", today(&centre))) { (lang.pick("今天", "Today")) }
            a.button #next-day href=(format!("{base}?day={}", day + Duration::days(1))) { (lang.pick("后一天", "Next day")) " →" }
            form.inline method="get" action=(base) {
                label for="day" { (lang.pick("日期", "Date")) }
                input #day type="date" name="day" value=(day.to_string());
                button type="submit" { (lang.pick("前往", "Go")) }
            }
            a.button.secondary #week-view href=(format!("{base}?view=week&day={day}")) { (lang.pick("按周查看", "By week")) }
            a.button.secondary href=(format!("/c/{}/bookings?day={day}", centre.id)) { (lang.pick("场次与签到", "Sessions")) }
        }
        h2 { (date(lang, day)) }
        @if facilities.is_empty() { p.empty { (lang.pick("本中心还没有登记活动室。", "The centre has no rooms yet.")) } }
        @else {
            p.muted.legend { span.slot.free { (lang.pick("空闲", "free")) } " " (lang.pick("点击即可为居民或团体预约；", "click to reserve; ")) span.slot.taken { (lang.pick("已占用", "taken")) } " " (lang.pick("显示使用人。", "shows who holds it.")) }
            div.grid-scroll {
                table #room-grid {
                    thead { tr {
                        th.room scope="col" { (lang.pick("活动室", "Room")) }
                        @for h in first..last { th.hour scope="col" { (format!("{h:02}:00")) } }
                    } }
                    tbody {
                        @for f in &facilities {
                            @let row = cells(f, day);
                            // Free hours are links only where the room can be reserved by this user.
                            @let reserve = (hire_of(&offerings, &f.id).is_some() && staff.may_write()).then(|| format!("{base}/reserve?facility={}&day={day}", f.id));
                            tr data-room=(f.name) {
                                th.room scope="row" { (f.name) br; span.muted { (f.opens) "–" (f.closes) } }
                                (grid_row(lang, &row, holds.get(&f.id), first, reserve.as_deref(), tz))
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
        &format!("{} · {}", centre.name, lang.pick("活动室预约", "Rooms")),
        content,
    ))
}

/// One room's hours: a hold over several hours is one cell naming who holds it.
fn grid_row(
    lang: Lang,
    row: &[Cell],
    holds: Option<&Vec<Hold>>,
    first: u32,
    reserve: Option<&str>,
    tz: chrono_tz::Tz,
) -> Markup {
    let mut out = Vec::new();
    let mut i = 0;
    while i < row.len() {
        let h = first + i as u32;
        match &row[i] {
            Cell::Taken(k) => {
                let hold = holds.map(|hs| &hs[*k]);
                let key = hold.map(|x| x.key.as_str()).unwrap_or_default();
                let mut span = 1;
                while i + span < row.len()
                    && matches!(&row[i + span], Cell::Taken(j) if holds.map(|hs| hs[*j].key.as_str()) == Some(key))
                {
                    span += 1;
                }
                let during = hold
                    .map(|x| format!("{}–{}", clock(x.from, tz), clock(x.to, tz)))
                    .unwrap_or_default();
                out.push(html! {
                    td.slot.taken colspan=(span) data-hour=(h) title=(format!("{} {during}", hold.map(|x| x.who.as_str()).unwrap_or_default())) {
                        span.who { (hold.map(|x| x.who.as_str()).unwrap_or_default()) }
                        " " span.during { (during) }
                    }
                });
                i += span;
                continue;
            }
            Cell::Free if reserve.is_some() => out.push(html! {
                td.slot.free data-hour=(h) {
                    a href=(format!("{}&at={h:02}:00", reserve.unwrap_or_default())) aria-label=(format!("{} {h:02}:00", lang.pick("预约", "Reserve"))) { (lang.pick("空闲", "free")) }
                }
            }),
            Cell::Free => out.push(html! { td.slot.open data-hour=(h) { (lang.pick("空闲", "free")) } }),
            Cell::Past => out.push(html! { td.slot.past data-hour=(h) {} }),
            Cell::Closed => out.push(html! { td.slot.closed data-hour=(h) { span.sr { (lang.pick("不开放", "closed")) } } }),
        }
        i += 1;
    }
    html! { @for cell in out { (cell) } }
}

pub async fn reserve_form(
    State(state): State<AppState>,
    staff: Staff,
    Path(centre): Path<String>,
    Query(query): Query<ReserveQuery>,
) -> Page {
    let centre = staff.centre(Section::Bookings, &centre)?;
    if !staff.may_write() {
        return Err(super::Refusal::forbidden());
    }
    reserve_page(&state, &staff, &centre, &query, "", FieldErrors::default()).await
}

async fn reserve_page(
    state: &AppState,
    staff: &Staff,
    centre: &pb::Centre,
    query: &ReserveQuery,
    chosen: &str,
    errors: FieldErrors,
) -> Page {
    let lang = staff.lang;
    let facility = state
        .bookings
        .clone()
        .list_facilities(staff.grpc(bk::ListFacilitiesRequest {
            centre_id: centre.id.clone(),
        }))
        .await?
        .into_inner()
        .facilities
        .into_iter()
        .find(|f| f.id == query.facility)
        .ok_or_else(super::Refusal::not_found)?;
    let day = NaiveDate::parse_from_str(&query.day, "%Y-%m-%d")
        .map_err(|_| super::Refusal::bad_query())?;
    hour_of(&query.at).ok_or_else(super::Refusal::bad_query)?;
    let hours: i64 = query.hours.parse().unwrap_or(1).clamp(1, 4);
    let candidates = if query.q.trim().is_empty() {
        Vec::new()
    } else {
        match state
            .registry
            .clone()
            .list_residents(staff.grpc(pb::ListResidentsRequest {
                centre_id: centre.id.clone(),
                page_size: 10,
                q: query.q.trim().to_owned(),
                status: "active".into(),
                ..Default::default()
            }))
            .await
        {
            Ok(reply) => reply.into_inner().residents,
            Err(status) if status.code() == tonic::Code::InvalidArgument => Vec::new(),
            Err(status) => return Err(status.into()),
        }
    };
    // A resident chosen before an error stays chosen, found again by id.
    let chosen_name = if Uuid::parse_str(chosen).is_ok() {
        names_of(state, staff, &centre.id, &[chosen.to_owned()], "")
            .await?
            .remove(chosen)
    } else {
        None
    };
    let here = format!("/c/{}/rooms/reserve", centre.id);
    let this = format!(
        "{here}?facility={}&day={day}&at={}&hours={hours}&q={}&note={}",
        facility.id,
        query.at,
        urlencode(&query.q),
        urlencode(&query.note)
    );
    let idem = Uuid::new_v4();
    let content = html! {
        span hidden data-page-url=(this) {}
        dl.facts #reservation {
            dt { (lang.pick("活动室", "Room")) } dd #room { (facility.name) }
            dt { (lang.pick("日期", "Date")) } dd { (date(lang, day)) }
            dt { (lang.pick("开始", "From")) } dd { (query.at) }
        }
        form.inline role="search" method="get" action=(here) {
            input type="hidden" name="facility" value=(facility.id);
            input type="hidden" name="day" value=(day.to_string());
            input type="hidden" name="at" value=(query.at);
            input type="hidden" name="hours" value=(hours);
            input type="hidden" name="note" value=(query.note);
            div.field {
                label for="q" { (lang.pick("查找居民（姓名或拼音首字母）", "Find a resident (name or pinyin initials)")) }
                input #q type="search" name="q" value=(query.q);
            }
            button type="submit" { (lang.pick("查找", "Find")) }
        }
        @if !query.q.trim().is_empty() && candidates.is_empty() { p.empty { (lang.pick("没有找到居民。", "No residents found.")) } }
        form.stack #reserve method="post" action=(this) novalidate {
            (csrf(staff))
            input type="hidden" name="facility" value=(facility.id);
            input type="hidden" name="day" value=(day.to_string());
            input type="hidden" name="at" value=(query.at);
            input type="hidden" name="q" value=(query.q);
            input type="hidden" name="idempotency_key" value=(idem.to_string());
            (general_errors(&errors, &["resident_id", "note", "hours", "starts_at", "ends_at"]))
            fieldset.field.invalid[errors.get("resident_id").is_some()] {
                legend { (lang.pick("为谁预约", "For whom")) }
                @if let Some(name) = &chosen_name {
                    label.choice { input type="radio" name="resident_id" value=(chosen) checked; " " (name) }
                }
                @for r in candidates.iter().filter(|r| r.id != chosen) {
                    label.choice { input type="radio" name="resident_id" value=(r.id) data-resident=(r.name); " " (r.name) " " span.muted { (super::i18n::iso_day(lang, &r.date_of_birth)) } }
                }
                label.choice { input type="radio" name="resident_id" value="" checked[chosen_name.is_none()]; " " (lang.pick("团体或中心使用（请在用途中写明）", "A group or the centre (say which under purpose)")) }
                @if let Some(e) = errors.get("resident_id") { span.error role="alert" { (e) } }
            }
            div.field.invalid[errors.get("hours").is_some() || errors.get("ends_at").is_some()] {
                label for="f-hours" { (lang.pick("时长", "How long")) }
                select #f-hours name="hours" {
                    @for n in 1..=4 { option value=(n) selected[n == hours] { (n) (lang.pick(" 小时", " hours")) } }
                }
                @if let Some(e) = errors.get("hours").or(errors.get("ends_at")) { span.error role="alert" { (e) } }
            }
            div.field.invalid[errors.get("note").is_some()] {
                label for="f-note" { (lang.pick("用途", "Purpose")) }
                input #f-note type="text" name="note" value=(query.note) maxlength="200" placeholder=(lang.pick("如：合唱团排练", "e.g. choir rehearsal"));
                @if let Some(e) = errors.get("note") { span.error #f-note-error role="alert" { (e) } }
            }
            div.actions {
                button #confirm-reserve type="submit" { (lang.pick("确认预约", "Reserve")) }
                " " a.button.secondary href=(format!("/c/{}/rooms?day={day}", centre.id)) { (lang.pick("返回活动室", "Back to the rooms")) }
            }
        }
    };
    let mut response = super::layout(
        staff,
        Section::Bookings,
        Some(centre),
        lang.pick("预约活动室", "Reserve a room"),
        content,
    );
    if !errors.is_empty() {
        *response.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
    }
    Ok(response)
}

pub async fn reserve(
    State(state): State<AppState>,
    Path(centre): Path<String>,
    posted: Posted,
) -> Page {
    let staff = &posted.staff;
    let centre = staff.centre(Section::Bookings, &centre)?;
    let lang = staff.lang;
    let tz = zone(&centre);
    let query = ReserveQuery {
        facility: posted.get("facility").to_owned(),
        day: posted.get("day").to_owned(),
        at: posted.get("at").to_owned(),
        hours: posted.get("hours").to_owned(),
        q: posted.get("q").to_owned(),
        note: posted.get("note").to_owned(),
    };
    let resident = posted.get("resident_id").to_owned();
    let mut errors = FieldErrors::default();
    if resident.is_empty() && query.note.is_empty() {
        errors.push(
            "note",
            lang.pick(
                "为团体或中心预约时，请写明用途或团体名称",
                "For a group or the centre, say what it is for",
            ),
        );
    }
    let day = NaiveDate::parse_from_str(&query.day, "%Y-%m-%d")
        .map_err(|_| super::Refusal::bad_query())?;
    let at = hour_of(&query.at).ok_or_else(super::Refusal::bad_query)?;
    let hours: i64 = query.hours.parse().unwrap_or(1).clamp(1, 4);
    if errors.is_empty() {
        let offerings: HashMap<String, bk::Offering> = state
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
        let Some(hire) = hire_of(&offerings, &query.facility) else {
            return Err(super::Refusal::not_found());
        };
        let starts = local(tz, day, at);
        let mut request = staff.grpc(bk::CreateBookingRequest {
            centre_id: centre.id.clone(),
            offering_id: hire.id.clone(),
            resident_id: resident.clone(),
            starts_at: Some(timestamp(starts)),
            ends_at: Some(timestamp(starts + Duration::hours(hours))),
            note: query.note.clone(),
            ..Default::default()
        });
        if let Ok(key) =
            linli_platform::idempotency::parse_key(posted.get("idempotency_key").as_bytes())
        {
            linli_platform::idempotency::attach(request.metadata_mut(), &key);
        }
        match state.bookings.clone().create_booking(request).await {
            Ok(_) => {
                return Ok(Redirect::to(&format!(
                    "/c/{}/rooms?day={day}&notice=reserved",
                    centre.id
                ))
                .into_response());
            }
            Err(status) if is_refusal(&status) => {
                errors = FieldErrors::from_status(&status, lang);
                if status.code() == tonic::Code::AlreadyExists
                    || status.code() == tonic::Code::Aborted
                {
                    errors = FieldErrors::default();
                    errors.push(
                        "general",
                        lang.pick(
                            "这段时间活动室已被占用，请换一个时间或活动室。",
                            "The room is taken then; choose another time or room.",
                        ),
                    );
                }
            }
            Err(status) => return Err(status.into()),
        }
    }
    reserve_page(&state, staff, &centre, &query, &resident, errors).await
}
