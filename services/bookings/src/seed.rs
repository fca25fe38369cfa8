//! The demo week of `linli seed demo`: each demo centre's rooms, a senior-university
//! course, a youth class, a clinic, the government-affairs window, meal assistance, a
//! lecture and a room hire, with a few hundred bookings made through the same rules as
//! the desk's. Running it again adds nothing.

use anyhow::Context as _;
use chrono::{Datelike, Duration, NaiveDate, NaiveTime, Utc};
use linli_proto::events::v1::ResidentRegistered;
use sqlx::PgPool;
use uuid::Uuid;

use crate::domain::{self, WeeklyRule};
use crate::store::{self, FacilityRow, NewBooking, OfferingRow, SeriesRow};

/// A demo centre, as the directory knows it.
pub struct DemoCentre {
    pub id: Uuid,
}

/// Seeds each centre that has no offerings yet; returns each centre's booking count.
pub async fn demo(
    pool: &PgPool,
    centres: &[DemoCentre],
    residents: &[ResidentRegistered],
    today: NaiveDate,
) -> anyhow::Result<Vec<(Uuid, i64)>> {
    // The directory holds the centres and residents already (see
    // `linli_platform::directory::record_announced`).
    let mut counts = Vec::new();
    for centre in centres {
        let existing = store::list_offerings(pool, centre.id, None, None).await?;
        if existing.is_empty() {
            let people: Vec<&ResidentRegistered> = residents
                .iter()
                .filter(|r| r.centre_id == centre.id.to_string())
                .collect();
            week(pool, centre, &people, today)
                .await
                .with_context(|| format!("seeding the demo week of centre {}", centre.id))?;
        }
        let count: i64 = sqlx::query_scalar("SELECT count(*) FROM bookings WHERE centre_id = $1")
            .bind(centre.id)
            .fetch_one(pool)
            .await?;
        counts.push((centre.id, count));
    }
    Ok(counts)
}

fn time(h: u32, m: u32) -> NaiveTime {
    NaiveTime::from_hms_opt(h, m, 0).unwrap_or(NaiveTime::MIN)
}

async fn week(
    pool: &PgPool,
    centre: &DemoCentre,
    people: &[&ResidentRegistered],
    today: NaiveDate,
) -> anyhow::Result<()> {
    let zone = store::zone_of(pool, centre.id).await?;
    let start = today + Duration::days(1);
    let room = |name: &str, kind: &str| FacilityRow {
        id: Uuid::new_v4(),
        centre_id: centre.id,
        name: name.to_owned(),
        kind: kind.to_owned(),
        opens: time(8, 0),
        closes: time(20, 0),
        open_days: vec![1, 2, 3, 4, 5, 6],
    };
    let calligraphy_room = store::create_facility(pool, &room("书画室", "room")).await?;
    let hall = store::create_facility(pool, &room("多功能活动室", "room")).await?;
    let therapy = store::create_facility(pool, &room("康复理疗室", "room")).await?;
    store::create_facility(pool, &room("乒乓球台", "equipment")).await?;

    let offering = |category: &str, kind: &str, name: &str, capacity: i32| OfferingRow {
        id: Uuid::new_v4(),
        centre_id: centre.id,
        category: category.to_owned(),
        kind: kind.to_owned(),
        name: name.to_owned(),
        description: String::new(),
        provider: "centre".into(),
        provider_id: None,
        min_age: None,
        max_age: None,
        eligible_categories: Vec::new(),
        fee_minor: 0,
        currency: "CNY".into(),
        concession_categories: Vec::new(),
        concession_prices: Vec::new(),
        capacity,
        facility_id: None,
        staff_id: None,
        active: true,
        revision: 0,
    };
    let calligraphy = store::create_offering(
        pool,
        &OfferingRow {
            min_age: Some(60),
            facility_id: Some(calligraphy_room.id),
            fee_minor: 5000,
            concession_categories: vec!["low_income".into()],
            concession_prices: vec![0],
            description: "老年大学书法班，每周一、三上午，共八次课".into(),
            ..offering("culture_education", "course", "老年大学·书法班", 20)
        },
        None,
    )
    .await?;
    let coding = store::create_offering(
        pool,
        &OfferingRow {
            max_age: Some(17),
            facility_id: Some(hall.id),
            ..offering("youth", "course", "青少年编程兴趣班", 15)
        },
        None,
    )
    .await?;
    let clinic = store::create_offering(
        pool,
        &OfferingRow {
            facility_id: Some(therapy.id),
            ..offering("health", "appointment", "中医义诊", 1)
        },
        None,
    )
    .await?;
    let window = store::create_offering(
        pool,
        &offering("government_affairs", "appointment", "社保政策咨询", 2),
        None,
    )
    .await?;
    let meals = store::create_offering(
        pool,
        &OfferingRow {
            min_age: Some(60),
            fee_minor: 1500,
            concession_categories: vec!["low_income".into()],
            concession_prices: vec![0],
            description: "工作日午间助餐，低保户免费".into(),
            ..offering("elderly_care", "recurring_care", "老年助餐", 40)
        },
        None,
    )
    .await?;
    let lecture = store::create_offering(
        pool,
        &OfferingRow {
            facility_id: Some(hall.id),
            ..offering("culture_education", "event", "社区健康科普讲座", 60)
        },
        None,
    )
    .await?;
    let hire = store::create_offering(
        pool,
        &OfferingRow {
            facility_id: Some(hall.id),
            ..offering("facilities", "facility", "活动室预约", 0)
        },
        None,
    )
    .await?;

    let series =
        |offering: &OfferingRow, weekdays: Vec<u32>, at: NaiveTime, minutes: i64, count: u32| {
            let rule = WeeklyRule {
                weekdays: weekdays.clone(),
                start_time: at,
                duration: Duration::minutes(minutes),
                starts_on: start,
                until: None,
                count: Some(count),
            };
            let row = SeriesRow {
                id: Uuid::new_v4(),
                centre_id: centre.id,
                offering_id: offering.id,
                weekdays: weekdays.iter().map(|d| *d as i32).collect(),
                start_time: at,
                duration_minutes: minutes as i32,
                starts_on: start,
                until: None,
                count: Some(count as i32),
                time_zone: zone.name().to_owned(),
            };
            (rule.occurrences(zone), row)
        };
    for (offering, days, at, minutes, count) in [
        (&calligraphy, vec![1, 3], time(9, 30), 90, 8),
        (&coding, vec![6], time(14, 0), 120, 4),
        (&meals, vec![1, 2, 3, 4, 5], time(11, 30), 60, 20),
        (&lecture, vec![5], time(15, 0), 90, 1),
    ] {
        let (occurrences, row) = series(offering, days, at, minutes, count);
        store::create_sessions(pool, offering, Some(&row), &occurrences, offering.capacity).await?;
    }
    // Clinic slots on Tuesday and Thursday mornings, the window every weekday afternoon.
    let mut clinic_slots = Vec::new();
    let mut window_slots = Vec::new();
    for day in (0..7).map(|d| start + Duration::days(d)) {
        let weekday = day.weekday().number_from_monday();
        for slot in 0..4 {
            let local = day.and_time(time(9, 0)) + Duration::minutes(30 * slot);
            let occurrence = (
                local,
                domain::to_instant(zone, local),
                domain::to_instant(zone, local + Duration::minutes(30)),
            );
            if weekday == 2 || weekday == 4 {
                clinic_slots.push(occurrence);
            }
            let afternoon = local + Duration::hours(5);
            if weekday <= 5 {
                window_slots.push((
                    afternoon,
                    domain::to_instant(zone, afternoon),
                    domain::to_instant(zone, afternoon + Duration::minutes(30)),
                ));
            }
        }
    }
    let clinic_sessions = store::create_sessions(pool, &clinic, None, &clinic_slots, 1).await?;
    let window_sessions = store::create_sessions(pool, &window, None, &window_slots, 2).await?;
    let lecture_session = store::list_sessions(
        pool,
        &store::SessionFilter {
            centre: centre.id,
            from: None,
            to: None,
            offering: Some(lecture.id),
            series: None,
        },
        None,
        1,
    )
    .await?;

    // Bookings, made through the same rules as the desk's.
    let now = Utc::now();
    let book = |offering: Uuid, resident: Option<Uuid>, session: Option<Uuid>| NewBooking {
        centre: centre.id,
        offering,
        resident,
        session,
        range: None,
        note: String::new(),
    };
    let elderly: Vec<Uuid> = people
        .iter()
        .filter(|r| r.categories.iter().any(|c| c == "elderly"))
        .filter_map(|r| r.resident_id.parse().ok())
        .collect();
    let minors: Vec<Uuid> = people
        .iter()
        .filter(|r| r.categories.iter().any(|c| c == "minor"))
        .filter_map(|r| r.resident_id.parse().ok())
        .collect();
    let everyone: Vec<Uuid> = people
        .iter()
        .filter_map(|r| r.resident_id.parse().ok())
        .collect();
    let known = store::Known::default();
    let mut made = 0;
    for resident in elderly.iter().take(24) {
        made += attempt(
            store::create_booking(
                pool,
                &known,
                &book(calligraphy.id, Some(*resident), None),
                now,
            )
            .await,
        )?;
    }
    for resident in elderly.iter().rev().take(36) {
        made += attempt(
            store::create_booking(pool, &known, &book(meals.id, Some(*resident), None), now).await,
        )?;
    }
    for resident in minors.iter().take(15) {
        made += attempt(
            store::create_booking(pool, &known, &book(coding.id, Some(*resident), None), now).await,
        )?;
    }
    for (session, resident) in clinic_sessions.iter().zip(elderly.iter().skip(5)) {
        made += attempt(
            store::create_booking(
                pool,
                &known,
                &book(clinic.id, Some(*resident), Some(session.id)),
                now,
            )
            .await,
        )?;
    }
    for (n, session) in window_sessions.iter().enumerate() {
        for resident in everyone.iter().skip(2 * n).take(2) {
            made += attempt(
                store::create_booking(
                    pool,
                    &known,
                    &book(window.id, Some(*resident), Some(session.id)),
                    now,
                )
                .await,
            )?;
        }
    }
    if let Some(session) = lecture_session.first() {
        for resident in everyone.iter().skip(30).take(55) {
            made += attempt(
                store::create_booking(
                    pool,
                    &known,
                    &book(lecture.id, Some(*resident), Some(session.id)),
                    now,
                )
                .await,
            )?;
        }
    }
    // The dance team rehearses in the hall on the first weekday evening.
    let rehearsal_day = (0..7)
        .map(|d| start + Duration::days(d))
        .find(|d| d.weekday().number_from_monday() <= 5)
        .context("a weekday in the week")?;
    let from = domain::to_instant(zone, rehearsal_day.and_time(time(18, 0)));
    let until = domain::to_instant(zone, rehearsal_day.and_time(time(19, 30)));
    made += attempt(
        store::create_booking(
            pool,
            &known,
            &NewBooking {
                range: Some((from, until)),
                note: "舞蹈队排练".into(),
                ..book(hire.id, None, None)
            },
            now,
        )
        .await,
    )?;
    tracing::info!(centre = %centre.id, bookings = made, "demo week seeded");
    Ok(())
}

/// A refusal the rules give (ineligible, a clash) is part of a demo; anything else is not.
fn attempt(result: Result<store::BookingView, crate::error::Error>) -> anyhow::Result<i64> {
    match result {
        Ok(_) => Ok(1),
        Err(crate::error::Error::Database(error)) => Err(error.into()),
        Err(_) => Ok(0),
    }
}
