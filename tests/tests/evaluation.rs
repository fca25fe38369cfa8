//! Evaluation end to end: KPIs built only from other services' events, compared with
//! counts taken directly from those services' own records; the instruments; rebuilds and
//! redeliveries that never move a figure.

use std::time::Duration;

use chrono::{Datelike as _, SubsecRound as _};

use linli_platform::auth::Role;
use linli_proto::Event;
use linli_proto::events::v1::{BookingAttended, ResidentRegistered};
use linli_tests::{TestPlatform, poll};
use reqwest::StatusCode;
use serde_json::{Value, json};
use uuid::Uuid;

const DEADLINE: Duration = Duration::from_secs(30);

fn this_month() -> String {
    (chrono::Utc::now() + chrono::Duration::hours(8))
        .format("%Y-%m")
        .to_string()
}

/// A KPI of a report by name.
fn kpi<'a>(report: &'a Value, name: &str) -> &'a Value {
    report["kpis"]
        .as_array()
        .or_else(|| report.as_array())
        .expect("kpis")
        .iter()
        .find(|k| k["name"] == name)
        .expect("the KPI is reported")
}

fn pair(k: &Value) -> (i64, i64) {
    (
        k["numerator"].as_i64().expect("numerator"),
        k["denominator"].as_i64().expect("denominator"),
    )
}

async fn register(platform: &TestPlatform, token: &str, centre: Uuid, n: usize) -> Vec<Uuid> {
    let mut ids = Vec::new();
    for _ in 0..n {
        let (status, body) = platform
            .post_json(
                token,
                &format!("/v1/centres/{centre}/residents"),
                &json!({ "name": "赵敏", "gender": "female", "date_of_birth": "1948-03-02", "confirm_not_duplicate": true }),
                None,
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        ids.push(body["id"].as_str().expect("id").parse().expect("uuid"));
    }
    platform.wait_for_residents_in_bookings(&ids).await;
    ids
}

/// A clinic session running now at `centre`, booked and checked in for `residents`.
async fn attend(
    platform: &TestPlatform,
    token: &str,
    centre: Uuid,
    residents: &[Uuid],
) -> Vec<String> {
    let at = |path: &str| format!("/v1/centres/{centre}{path}");
    let (_, offering) = platform
        .post_json(
            token,
            &at("/offerings"),
            &json!({ "category": "health", "kind": "event", "name": "健康讲座", "capacity": 50 }),
            None,
        )
        .await;
    let now = chrono::Utc::now();
    let (_, session) = platform
        .post_json(
            token,
            &at("/sessions"),
            &json!({ "offering_id": offering["id"], "starts_at": (now - chrono::Duration::minutes(10)).to_rfc3339(),
                     "ends_at": (now + chrono::Duration::hours(1)).to_rfc3339() }),
            None,
        )
        .await;
    let mut bookings = Vec::new();
    for resident in residents {
        let (status, booking) = platform
            .post_json(
                token,
                &at("/bookings"),
                &json!({ "offering_id": offering["id"], "resident_id": resident, "session_id": session["id"] }),
                None,
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{booking}");
        let id = booking["id"].as_str().expect("id").to_owned();
        let (status, body) = platform
            .post_json(
                token,
                &at(&format!("/bookings/{id}/check-in")),
                &json!({}),
                None,
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        bookings.push(id);
    }
    bookings
}

/// Distinct residents with an attended seat at `centre`, straight from bookings' tables.
async fn attended_directly(platform: &TestPlatform, centre: Uuid) -> i64 {
    let pool = platform.pool("bookings").await;
    let n = sqlx::query_scalar(
        "SELECT count(DISTINCT b.resident_id) FROM bookings b JOIN seats s ON s.booking_id = b.id
         WHERE b.centre_id = $1 AND s.state = 'attended'",
    )
    .bind(centre)
    .fetch_one(&pool)
    .await
    .expect("bookings readable");
    pool.close().await;
    n
}

/// Active residents of `centre`, straight from the registry's table.
async fn residents_directly(platform: &TestPlatform, centre: Uuid) -> i64 {
    let pool = platform.pool("registry").await;
    let n = sqlx::query_scalar(
        "SELECT count(*) FROM residents WHERE centre_id = $1 AND status = 'active' AND erased_at IS NULL",
    )
    .bind(centre)
    .fetch_one(&pool)
    .await
    .expect("registry readable");
    pool.close().await;
    n
}

async fn kpis(platform: &TestPlatform, token: &str, centre: Uuid, period: &str) -> Value {
    let (status, report) = platform
        .get_json(token, &format!("/v1/centres/{centre}/kpis?period={period}"))
        .await;
    assert_eq!(status, StatusCode::OK, "{report}");
    report
}

async fn publish(
    platform: &TestPlatform,
    routing_key: &str,
    id: Uuid,
    message_type: &str,
    payload: &[u8],
) {
    let bus = linli_platform::bus::Bus::new(platform.args.bus.clone(), "test");
    let channel = bus.channel().await.expect("broker");
    channel
        .basic_publish(
            platform.args.bus.exchange().into(),
            routing_key.into(),
            Default::default(),
            payload,
            lapin::BasicProperties::default()
                .with_message_id(id.to_string().into())
                .with_type(message_type.into()),
        )
        .await
        .expect("published")
        .await
        .expect("sent");
    bus.close().await;
}

fn duplicates() -> u64 {
    linli_platform::metrics::EVENTS_CONSUMED
        .with_label_values(&["evaluation", "duplicate"])
        .get()
}

#[tokio::test]
async fn participation_and_utilisation_equal_direct_counts_for_centres_and_the_district_and_never_move_on_redelivery_or_rebuild()
 {
    let platform = TestPlatform::start().await;
    let (a, b) = (
        platform.bookable_centre("Asia/Shanghai").await,
        platform.bookable_centre("Asia/Shanghai").await,
    );
    let token = platform.token(&[Role::DistrictAdmin], &[]);
    let in_a = register(&platform, &token, a, 4).await;
    let in_b = register(&platform, &token, b, 2).await;
    attend(&platform, &token, a, &in_a[..2]).await;
    attend(&platform, &token, b, &in_b[..1]).await;

    // A room at A, booked for two hours in March 2027.
    let (_, room) = platform
        .post_json(
            &token,
            &format!("/v1/centres/{a}/facilities"),
            &json!({ "name": "活动室", "opens": "08:00", "closes": "20:00", "open_days": [1, 2, 3, 4, 5] }),
            None,
        )
        .await;
    let (_, hire) = platform
        .post_json(
            &token,
            &format!("/v1/centres/{a}/offerings"),
            &json!({ "category": "facilities", "kind": "facility", "name": "活动室预约", "facility_id": room["id"] }),
            None,
        )
        .await;
    let (status, body) = platform
        .post_json(
            &token,
            &format!("/v1/centres/{a}/bookings"),
            &json!({ "offering_id": hire["id"], "starts_at": "2027-03-02T10:00:00+08:00", "ends_at": "2027-03-02T12:00:00+08:00" }),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");

    let month = this_month();
    let expected_a = (
        attended_directly(&platform, a).await,
        residents_directly(&platform, a).await,
    );
    let expected_b = (
        attended_directly(&platform, b).await,
        residents_directly(&platform, b).await,
    );
    assert_eq!((expected_a, expected_b), ((2, 4), (1, 2)));
    poll("participation to reach evaluation", DEADLINE, || async {
        let (ra, rb) = (
            kpis(&platform, &token, a, &month).await,
            kpis(&platform, &token, b, &month).await,
        );
        (pair(kpi(&ra, "participation")) == expected_a
            && pair(kpi(&rb, "participation")) == expected_b)
            .then_some(())
    })
    .await;
    let (status, district) = platform
        .get_json(&token, &format!("/v1/kpis?period={month}"))
        .await;
    assert_eq!(status, StatusCode::OK);
    let district_participation = district["district"]
        .as_array()
        .expect("district")
        .iter()
        .find(|k| k["name"] == "participation")
        .expect("participation");
    let (mut numerator, mut denominator) = (0, 0);
    for centre in district["centres"].as_array().expect("centres") {
        let (n, d) = pair(kpi(centre, "participation"));
        numerator += n;
        denominator += d;
    }
    assert_eq!(pair(district_participation), (numerator, denominator));
    assert!(
        numerator >= 3 && denominator >= 6,
        "both centres are in the roll-up"
    );

    // Utilisation for March 2027: two booked hours over the room's open hours (23 weekdays
    // × 12 hours), as bookings' own facility table gives them.
    let open: i64 = {
        let pool = platform.pool("bookings").await;
        let (opens, closes): (chrono::NaiveTime, chrono::NaiveTime) =
            sqlx::query_as("SELECT opens, closes FROM facilities WHERE centre_id = $1")
                .bind(a)
                .fetch_one(&pool)
                .await
                .expect("facility");
        pool.close().await;
        23 * (closes - opens).num_seconds()
    };
    poll("utilisation to reach evaluation", DEADLINE, || async {
        let report = kpis(&platform, &token, a, "2027-03").await;
        (pair(kpi(&report, "facility_utilisation")) == (7200, open)).then_some(())
    })
    .await;
    // The same figure month by month: March's as above, the months around it empty.
    let (status, series) = platform
        .get_json(
            &token,
            &format!("/v1/centres/{a}/kpis/facility_utilisation/series?from=2027-02&to=2027-04"),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{series}");
    let points: Vec<(&str, (i64, i64))> = series["points"]
        .as_array()
        .expect("points")
        .iter()
        .map(|p| (p["period"].as_str().expect("period"), pair(&p["kpi"])))
        .collect();
    assert_eq!(points.len(), 3, "{series}");
    assert_eq!(
        points.iter().map(|(month, _)| *month).collect::<Vec<_>>(),
        ["2027-02", "2027-03", "2027-04"]
    );
    assert_eq!(points[1].1, (7200, open));
    assert_eq!((points[0].1.0, points[2].1.0), (0, 0), "{series}");
    assert!(
        points[0].1.1 > 0 && points[2].1.1 > 0,
        "the room is open every month"
    );

    // The same attendance delivered again: the figure does not move.
    let pool = platform.pool("bookings").await;
    let (id, payload): (Uuid, Vec<u8>) = sqlx::query_as(
        "SELECT id, payload FROM outbox WHERE routing_key = 'bookings.booking.attended' AND centre_id = $1 LIMIT 1",
    )
    .bind(a)
    .fetch_one(&pool)
    .await
    .expect("an attendance event");
    pool.close().await;
    let before = duplicates();
    publish(
        &platform,
        BookingAttended::ROUTING_KEY,
        id,
        BookingAttended::TYPE,
        &payload,
    )
    .await;
    poll("the redelivery to be recognised", DEADLINE, || async {
        (duplicates() > before).then_some(())
    })
    .await;
    assert_eq!(
        pair(kpi(
            &kpis(&platform, &token, a, &month).await,
            "participation"
        )),
        expected_a
    );

    // A rebuild replays the log: the same figures.
    let (status, rebuilt) = platform
        .post_json(&token, "/v1/evaluation/rebuild", &json!({}), None)
        .await;
    assert_eq!(status, StatusCode::OK, "{rebuilt}");
    assert!(rebuilt["facts_replayed"].as_i64().expect("count") > 0);
    let after = kpis(&platform, &token, a, &month).await;
    assert_eq!(pair(kpi(&after, "participation")), expected_a);
    assert_eq!(
        pair(kpi(
            &kpis(&platform, &token, a, "2027-03").await,
            "facility_utilisation"
        )),
        (7200, open)
    );
    // Only district admins rebuild.
    let manager = platform.token(&[Role::CentreManager], &[a]);
    let (status, _) = platform
        .post_json(&manager, "/v1/evaluation/rebuild", &json!({}), None)
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    platform.stop().await;
}

#[tokio::test]
async fn a_satisfaction_invitation_is_made_once_per_delivered_service_and_its_answers_make_the_kpis()
 {
    let platform = TestPlatform::start().await;
    let centre = platform.bookable_centre("Asia/Shanghai").await;
    let token = platform.token(&[Role::CentreManager], &[centre]);
    let residents = register(&platform, &token, centre, 1).await;
    let booking = attend(&platform, &token, centre, &residents)
        .await
        .remove(0);
    let invitations = format!(
        "/v1/centres/{centre}/invitations?resident_id={}",
        residents[0]
    );
    let invitation = poll("the satisfaction invitation", DEADLINE, || async {
        let (_, list) = platform.get_json(&token, &invitations).await;
        list["invitations"]
            .as_array()
            .and_then(|l| l.first().cloned())
    })
    .await;
    assert!(
        invitation["delivery_id"]
            .as_str()
            .expect("delivery")
            .starts_with(&booking)
    );

    let pool = platform.pool("bookings").await;
    let (id, payload): (Uuid, Vec<u8>) = sqlx::query_as(
        "SELECT id, payload FROM outbox WHERE routing_key = 'bookings.service.delivered' LIMIT 1",
    )
    .fetch_one(&pool)
    .await
    .expect("the delivery event");
    pool.close().await;
    let before = duplicates();
    publish(
        &platform,
        "bookings.service.delivered",
        id,
        "linli.events.v1.ServiceDelivered",
        &payload,
    )
    .await;
    poll("the redelivery to be recognised", DEADLINE, || async {
        (duplicates() > before).then_some(())
    })
    .await;
    let (_, list) = platform.get_json(&token, &invitations).await;
    assert_eq!(
        list["invitations"].as_array().expect("list").len(),
        1,
        "still one invitation"
    );

    let answer = format!(
        "/v1/centres/{centre}/invitations/{}/response",
        invitation["id"].as_str().expect("id")
    );
    let answers = json!({ "answers": [
        { "key": "satisfaction", "score": 5 }, { "key": "effectiveness", "score": 4 }, { "key": "professionalism", "score": 3 } ] });
    let (status, body) = platform.post_json(&token, &answer, &answers, None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, _) = platform.post_json(&token, &answer, &answers, None).await;
    assert_eq!(status, StatusCode::CONFLICT, "one response per invitation");
    let (status, bad) = platform
        .post_json(
            &token,
            &answer.replace(
                invitation["id"].as_str().expect("id"),
                &Uuid::new_v4().to_string(),
            ),
            &answers,
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{bad}");

    // An awareness survey, answered "no".
    let (status, aware) = platform
        .post_json(
            &token,
            &format!("/v1/centres/{centre}/invitations"),
            &json!({ "template_id": "5a7e0000-0000-4000-8000-000000000002" }),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{aware}");
    let (status, body) = platform
        .post_json(
            &token,
            &format!(
                "/v1/centres/{centre}/invitations/{}/response",
                aware["id"].as_str().expect("id")
            ),
            &json!({ "answers": [{ "key": "knows_services", "choices": ["maybe"] }] }),
            None,
        )
        .await;
    assert_eq!(
        status,
        StatusCode::BAD_REQUEST,
        "an answer outside the options: {body}"
    );
    let (status, _) = platform
        .post_json(
            &token,
            &format!(
                "/v1/centres/{centre}/invitations/{}/response",
                aware["id"].as_str().expect("id")
            ),
            &json!({ "answers": [{ "key": "knows_services", "choices": ["no"] }] }),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let report = kpis(&platform, &token, centre, &this_month()).await;
    assert_eq!(pair(kpi(&report, "satisfaction")), (1, 1));
    assert_eq!(kpi(&report, "satisfaction")["met"], true);
    assert_eq!(pair(kpi(&report, "awareness")), (0, 1));
    assert_eq!(kpi(&report, "awareness")["met"], false);
    let (_, quality) = platform
        .get_json(&token, &format!("/v1/centres/{centre}/quality"))
        .await;
    assert_eq!(
        (
            quality["satisfaction"].as_f64(),
            quality["professionalism"].as_f64()
        ),
        (Some(5.0), Some(3.0))
    );
    platform.stop().await;
}

#[tokio::test]
async fn the_suggestion_box_refuses_illegal_moves_with_a_clear_error() {
    let platform = TestPlatform::start().await;
    let centre = platform.bookable_centre("Asia/Shanghai").await;
    let token = platform.token(&[Role::FrontDesk], &[centre]);
    let (status, suggestion) = platform
        .post_json(
            &token,
            &format!("/v1/centres/{centre}/suggestions"),
            &json!({ "text": "希望增加周末的书法课", "channel": "box" }),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{suggestion}");
    assert_eq!(suggestion["status"], "received");
    let path = format!(
        "/v1/centres/{centre}/suggestions/{}/status",
        suggestion["id"].as_str().expect("id")
    );
    let step = |body: Value| {
        let (platform, token, path) = (&platform, &token, &path);
        async move { platform.post_json(token, path, &body, None).await }
    };
    let (status, body) = step(json!({ "status": "closed" })).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        body["detail"]
            .as_str()
            .expect("detail")
            .contains("received to in_progress"),
        "{body}"
    );
    assert_eq!(
        step(json!({ "status": "in_progress" })).await.0,
        StatusCode::OK
    );
    let (status, body) = step(json!({ "status": "answered" })).await;
    assert_eq!(
        status,
        StatusCode::BAD_REQUEST,
        "an answer needs a reply: {body}"
    );
    let (status, body) = step(json!({ "status": "answered", "reply": "下月起周六上午开班" })).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body["seconds_to_answer"].as_i64().is_some());
    assert_eq!(step(json!({ "status": "closed" })).await.0, StatusCode::OK);
    let (status, body) = step(json!({ "status": "in_progress" })).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(body["detail"].as_str().expect("detail").contains("closed"));
    // Another centre's desk sees none of it.
    let elsewhere = platform.token(&[Role::FrontDesk], &[Uuid::new_v4()]);
    let (status, _) = platform
        .get_json(&elsewhere, &format!("/v1/centres/{centre}/suggestions"))
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    platform.stop().await;
}

#[tokio::test]
async fn a_month_end_in_the_centres_time_zone_puts_an_attendance_in_the_right_month() {
    let platform = TestPlatform::start().await;
    let centre = platform.bookable_centre("Asia/Shanghai").await;
    let token = platform.token(&[Role::CentreManager], &[centre]);
    let residents = register(&platform, &token, centre, 2).await;
    let evaluation = platform.pool("evaluation").await;
    poll("evaluation to hear of the residents", DEADLINE, || {
        let evaluation = evaluation.clone();
        async move {
            let n: i64 =
                sqlx::query_scalar("SELECT count(*) FROM directory.residents WHERE centre_id = $1")
                    .bind(centre)
                    .fetch_one(&evaluation)
                    .await
                    .ok()?;
            (n == 2).then_some(())
        }
    })
    .await;
    evaluation.close().await;
    // 23:30 on 31 March and 00:30 on 1 April in Shanghai: 15:30 and 16:30 UTC on 31 March.
    for (resident, utc) in [
        (residents[0], "2027-03-31T15:30:00Z"),
        (residents[1], "2027-03-31T16:30:00Z"),
    ] {
        let at: chrono::DateTime<chrono::Utc> = utc.parse().expect("time");
        let event = BookingAttended {
            booking_id: Uuid::new_v4().to_string(),
            centre_id: centre.to_string(),
            offering_id: Uuid::new_v4().to_string(),
            session_id: Uuid::new_v4().to_string(),
            resident_id: resident.to_string(),
            category: "health".into(),
            attended_at: Some(prost_types::Timestamp {
                seconds: at.timestamp(),
                nanos: 0,
            }),
            provider_id: String::new(),
        };
        publish(
            &platform,
            BookingAttended::ROUTING_KEY,
            Uuid::new_v4(),
            BookingAttended::TYPE,
            &prost::Message::encode_to_vec(&event),
        )
        .await;
    }
    poll("both attendances in their months", DEADLINE, || async {
        let march = pair(kpi(
            &kpis(&platform, &token, centre, "2027-03").await,
            "participation",
        ));
        let april = pair(kpi(
            &kpis(&platform, &token, centre, "2027-04").await,
            "participation",
        ));
        (march == (1, 2) && april == (1, 2)).then_some(())
    })
    .await;
    let q1 = kpis(&platform, &token, centre, "2027-Q1").await;
    assert_eq!(pair(kpi(&q1, "participation")), (1, 2));
    assert_eq!(q1["from"], "2026-12-31T16:00:00Z");
    let (status, series) = platform
        .get_json(
            &token,
            &format!("/v1/centres/{centre}/kpis/participation/series?from=2027-02&to=2027-05"),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{series}");
    let numerators: Vec<i64> = series["points"]
        .as_array()
        .expect("points")
        .iter()
        .map(|p| p["kpi"]["numerator"].as_i64().expect("n"))
        .collect();
    assert_eq!(numerators, [0, 1, 1, 0]);
    platform.stop().await;
}

#[tokio::test]
async fn self_sufficiency_volunteers_and_training_coverage_follow_the_services_own_figures() {
    let platform = TestPlatform::start().await;
    let centre = platform.bookable_centre("Asia/Shanghai").await;
    let token = platform.token(&[Role::DistrictAdmin], &[]);
    let residents = register(&platform, &token, centre, 20).await;
    let today = (chrono::Utc::now() + chrono::Duration::hours(8)).date_naive();

    // A year of books, through finance's own demo path.
    let finance = platform.pool("finance").await;
    linli_finance::seed::demo(&finance, &platform.vault(), &[centre], today)
        .await
        .expect("the books are seeded");
    finance.close().await;
    let last_month = (today.with_day0(0).expect("first") - chrono::Duration::days(1))
        .format("%Y-%m")
        .to_string();
    let (status, own) = platform
        .get_json(
            &token,
            &format!(
                "/v1/centres/{centre}/finance/self-sufficiency?from={last_month}&to={last_month}"
            ),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{own}");
    let expected = (
        own["own_income_minor"].as_i64().expect("income"),
        own["expenditure_minor"].as_i64().expect("spending"),
    );
    assert!(expected.1 > 0, "the seeded month has spending");
    poll("self-sufficiency to reach evaluation", DEADLINE, || async {
        let report = kpis(&platform, &token, centre, &last_month).await;
        (pair(kpi(&report, "self_sufficiency")) == expected).then_some(())
    })
    .await;

    // Volunteers and staff, through the volunteers service's own demo path.
    let facts: Vec<ResidentRegistered> = residents
        .iter()
        .map(|id| ResidentRegistered {
            resident_id: id.to_string(),
            centre_id: centre.to_string(),
            age_band: "60-79".into(),
            categories: vec!["elderly".into()],
            registered_at: None,
        })
        .collect();
    let volunteers = platform.pool("volunteers").await;
    // As `linli seed demo` does, the directory holds the residents first.
    linli_platform::directory::record_announced(&volunteers, &[], &facts)
        .await
        .expect("the directory takes the residents");
    linli_volunteers::seed::demo(&volunteers, &[centre], &facts, today)
        .await
        .expect("the workforce is seeded");
    let active: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM volunteers WHERE centre_id = $1 AND status = 'active'",
    )
    .bind(centre)
    .fetch_one(&volunteers)
    .await
    .expect("volunteers readable");
    volunteers.close().await;
    assert!(active > 0, "the seed enlists volunteers");
    let (status, coverage) = platform
        .get_json(
            &token,
            &format!("/v1/centres/{centre}/training-coverage?on={today}"),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{coverage}");
    let trained = (
        coverage["trained_staff"].as_i64().expect("trained"),
        coverage["active_staff"].as_i64().expect("staff"),
    );
    let month = this_month();
    poll(
        "volunteers and training to reach evaluation",
        DEADLINE,
        || async {
            let report = kpis(&platform, &token, centre, &month).await;
            (pair(kpi(&report, "volunteer_ratio")) == (active, 20)
                && pair(kpi(&report, "training_coverage")) == trained)
                .then_some(())
        },
    )
    .await;
    platform.stop().await;
}

/// Instants on the edges of March 2026 in Shanghai (UTC+8: 2026-02-28T16:00Z to
/// 2026-03-31T16:00Z), London (GMT, then summer time from 29 March: 2026-03-01T00:00Z to
/// 2026-03-31T23:00Z) and New York (EST, then EDT from 8 March: 2026-03-01T05:00Z to
/// 2026-04-01T04:00Z), each with a distinct power of two of attending residents, so a
/// centre's participation numerator names exactly which instants its month held.
const EDGES: [(&str, i64); 6] = [
    ("2026-03-31T15:59:59Z", 1),  // March everywhere
    ("2026-03-31T16:00:00Z", 2),  // April in Shanghai, March in London and New York
    ("2026-03-31T23:00:00Z", 4),  // March only in New York
    ("2026-03-01T00:00:00Z", 8),  // March in Shanghai and London, February in New York
    ("2026-02-28T16:00:00Z", 16), // March only in Shanghai
    ("2026-04-01T04:00:00Z", 32), // April everywhere
];

/// Writes a centre's projections straight into evaluation's tables (the events that build
/// them are tested above): residents attending on each of [`EDGES`], a late registration,
/// a resident gone before March, a room held across the month's end in every zone, books
/// on the month's first and last local days and beyond, volunteers enlisted around the
/// ends, staff trained inside and outside the year, and satisfaction and awareness
/// answers on the edges. `scale` multiplies the money so centres differ.
async fn project_centre(evaluation: &sqlx::PgPool, centre: Uuid, scale: i64) {
    let at = |text: &str| -> chrono::DateTime<chrono::Utc> { text.parse().expect("an instant") };
    let day = |text: &str| -> chrono::NaiveDate { text.parse().expect("a day") };
    let resident = async |registered: &str, status: &str, since: Option<&str>| -> Uuid {
        let id = Uuid::new_v4();
        sqlx::query(
            "INSERT INTO directory.residents (id, centre_id, age_band, status, status_since, registered_at)
             VALUES ($1, $2, '60-79', $3, $4, $5)",
        )
        .bind(id)
        .bind(centre)
        .bind(status)
        .bind(since.map(day))
        .bind(at(registered))
        .execute(evaluation)
        .await
        .expect("a resident projected");
        id
    };
    for (instant, residents) in EDGES {
        for _ in 0..residents {
            let id = resident("2026-01-05T02:00:00Z", "active", None).await;
            sqlx::query(
                "INSERT INTO attendances (event_id, booking_id, centre_id, offering_id, resident_id, category, attended_at)
                 VALUES ($1, $2, $3, $4, $5, 'health', $6)",
            )
            .bind(Uuid::new_v4())
            .bind(Uuid::new_v4())
            .bind(centre)
            .bind(Uuid::new_v4())
            .bind(id)
            .bind(at(instant))
            .execute(evaluation)
            .await
            .expect("an attendance projected");
        }
    }
    // Registered as Shanghai's March ends: active there in April, in March elsewhere.
    resident("2026-03-31T16:00:00Z", "active", None).await;
    // Moved out in February: registered, but active nowhere in March.
    resident("2026-01-05T02:00:00Z", "moved_out", Some("2026-02-15")).await;

    let room = Uuid::new_v4();
    sqlx::query(
        "INSERT INTO facilities (id, centre_id, opens, closes, open_days, time_zone)
         VALUES ($1, $2, '08:00', '20:00', '{1,2,3,4,5,6,7}', 'UTC')",
    )
    .bind(room)
    .bind(centre)
    .execute(evaluation)
    .await
    .expect("a facility projected");
    // A day's hold from 12:00 UTC on 31 March: 4 h of it in Shanghai's March, 11 h in
    // London's, 16 h in New York's.
    sqlx::query(
        "INSERT INTO facility_holds (hold_id, facility_id, centre_id, starts_at, ends_at)
         VALUES ($1, $2, $3, '2026-03-31T12:00:00Z', '2026-04-01T12:00:00Z')",
    )
    .bind(Uuid::new_v4())
    .bind(room)
    .bind(centre)
    .execute(evaluation)
    .await
    .expect("a hold projected");

    for (entry_date, income, spending) in [
        ("2026-02-28", 1_000, 7_000),
        ("2026-03-01", 300, 1_000),
        ("2026-03-31", 200, 4_000),
        ("2026-04-01", 5_000, 9_000),
    ] {
        sqlx::query(
            "INSERT INTO ledger_effects (entry_id, centre_id, entry_date, own_income_minor, expenditure_minor)
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(Uuid::new_v4())
        .bind(centre)
        .bind(day(entry_date))
        .bind(income * scale)
        .bind(spending * scale)
        .execute(evaluation)
        .await
        .expect("books projected");
    }

    // Enlisted before every month's end, before London's and New York's, before New
    // York's only; and one enlisted, then gone, both inside every March.
    for (enlisted, left) in [
        ("2026-03-31T15:00:00Z", None),
        ("2026-03-31T20:00:00Z", None),
        ("2026-04-01T02:00:00Z", None),
        ("2026-03-10T00:00:00Z", Some("2026-03-20T00:00:00Z")),
    ] {
        let volunteer = Uuid::new_v4();
        for (changed_at, active) in
            std::iter::once((enlisted, true)).chain(left.map(|l| (l, false)))
        {
            sqlx::query(
                "INSERT INTO volunteer_changes (event_id, volunteer_id, centre_id, active, changed_at)
                 VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(Uuid::new_v4())
            .bind(volunteer)
            .bind(centre)
            .bind(active)
            .bind(at(changed_at))
            .execute(evaluation)
            .await
            .expect("a volunteer change projected");
        }
    }

    // Three staff: trained on the month's last day, trained just over a year before it,
    // and gone before it ended (not counted).
    for (completed, until) in [
        ("2026-03-31", None),
        ("2025-03-31", None),
        ("2026-03-15", Some("2026-03-20")),
    ] {
        let staff = Uuid::new_v4();
        sqlx::query(
            "INSERT INTO directory.staff (id, centre_id, employed_from, employed_until)
             VALUES ($1, $2, '2024-01-01', $3)",
        )
        .bind(staff)
        .bind(centre)
        .bind(until.map(day))
        .execute(evaluation)
        .await
        .expect("staff projected");
        sqlx::query(
            "INSERT INTO training_completions (completion_id, centre_id, person_kind, person_id, completed_on)
             VALUES ($1, $2, 'staff', $3, $4)",
        )
        .bind(Uuid::new_v4())
        .bind(centre)
        .bind(staff)
        .bind(day(completed))
        .execute(evaluation)
        .await
        .expect("training projected");
    }

    // Satisfaction answered on the first three edges (scores 5, 4, 2) and awareness on
    // the last three ('yes', 'yes', 'no').
    for (i, (instant, _)) in EDGES.iter().enumerate() {
        let (template, key, score, choices): (&str, &str, Option<i32>, Vec<String>) = if i < 3 {
            (
                "5a7e0000-0000-4000-8000-000000000001",
                "satisfaction",
                Some([5, 4, 2][i]),
                vec![],
            )
        } else {
            (
                "5a7e0000-0000-4000-8000-000000000002",
                "knows_services",
                None,
                vec![["yes", "yes", "no"][i - 3].to_owned()],
            )
        };
        let invitation = Uuid::new_v4();
        sqlx::query(
            "INSERT INTO invitations (id, centre_id, template_id, created_at, answered_at)
             VALUES ($1, $2, $3, $4, $4)",
        )
        .bind(invitation)
        .bind(centre)
        .bind(template.parse::<Uuid>().expect("a template id"))
        .bind(at(instant))
        .execute(evaluation)
        .await
        .expect("an invitation projected");
        sqlx::query(
            "INSERT INTO answers (invitation_id, key, score, choices) VALUES ($1, $2, $3, $4)",
        )
        .bind(invitation)
        .bind(key)
        .bind(score)
        .bind(&choices)
        .execute(evaluation)
        .await
        .expect("an answer projected");
    }
}

#[tokio::test]
async fn the_district_roll_up_gives_each_centre_its_own_figures_in_its_own_zone_and_their_sums() {
    let platform = TestPlatform::start().await;
    let zones = ["Asia/Shanghai", "Europe/London", "America/New_York"];
    let mut centres = Vec::new();
    for zone in zones {
        centres.push(platform.bookable_centre(zone).await);
    }
    let evaluation = platform.pool("evaluation").await;
    for (scale, centre) in (1..).zip(&centres) {
        project_centre(&evaluation, *centre, scale).await;
    }
    evaluation.close().await;
    let token = platform.token(&[Role::DistrictAdmin], &[]);
    let (status, district) = platform.get_json(&token, "/v1/kpis?period=2026-03").await;
    assert_eq!(status, StatusCode::OK, "{district}");
    let listed = district["centres"].as_array().expect("centres");
    assert_eq!(listed.len(), centres.len(), "{district}");

    // What each centre's month held, by its own bounds (see EDGES and project_centre):
    // participation, active residents, volunteers, held seconds, satisfaction, awareness.
    let expected = [
        (
            "2026-02-28T16:00:00Z",
            "2026-03-31T16:00:00Z",
            1 + 8 + 16,
            63,
            1,
            4 * 3600,
            (1, 1),
            (2, 2),
        ),
        (
            "2026-03-01T00:00:00Z",
            "2026-03-31T23:00:00Z",
            1 + 2 + 8,
            64,
            2,
            11 * 3600,
            (2, 2),
            (1, 1),
        ),
        (
            "2026-03-01T05:00:00Z",
            "2026-04-01T04:00:00Z",
            1 + 2 + 4,
            64,
            3,
            16 * 3600,
            (2, 3),
            (0, 0),
        ),
    ];
    let mut sums = vec![(0, 0); KPI_NAMES.len()];
    for (scale, (centre, expected)) in (1..).zip(centres.iter().zip(expected)) {
        let rolled = listed
            .iter()
            .find(|c| c["centre_id"] == centre.to_string())
            .expect("the centre is in the roll-up");
        let mut own = kpis(&platform, &token, *centre, "2026-03").await;
        // Each read counts afresh (max age 0): the same figures, each with its own time.
        let mut rolled = rolled.clone();
        for report in [&mut rolled, &mut own] {
            let counted = report["computed_at"].take();
            assert!(
                counted.as_str().is_some_and(|t| t.ends_with('Z')),
                "{counted}"
            );
        }
        assert_eq!(rolled, own, "the roll-up's figures are the centre's own");

        let (from, to, attended, active, volunteers, held, satisfaction, awareness) = expected;
        assert_eq!(
            (own["from"].as_str(), own["to"].as_str()),
            (Some(from), Some(to))
        );
        assert_eq!(own["registered_residents"], 65);
        assert_eq!(pair(kpi(&own, "participation")), (attended, active));
        assert_eq!(pair(kpi(&own, "volunteer_ratio")), (volunteers, active));
        assert_eq!(
            pair(kpi(&own, "facility_utilisation")),
            (held, 31 * 12 * 3600)
        );
        assert_eq!(pair(kpi(&own, "satisfaction")), satisfaction);
        assert_eq!(pair(kpi(&own, "awareness")), awareness);
        assert_eq!(pair(kpi(&own, "training_coverage")), (1, 2));
        assert_eq!(
            pair(kpi(&own, "self_sufficiency")),
            (500 * scale, 5_000 * scale)
        );
        for (sum, name) in sums.iter_mut().zip(KPI_NAMES) {
            let (n, d) = pair(kpi(&own, name));
            *sum = (sum.0 + n, sum.1 + d);
        }
    }
    for (sum, name) in sums.iter().zip(KPI_NAMES) {
        assert_eq!(
            pair(kpi(&district["district"], name)),
            *sum,
            "the district's {name} is the centres' sum"
        );
    }
    // With a max age of 0 (the suites' default) nothing is kept: every read counts.
    let evaluation = platform.pool("evaluation").await;
    let kept: i64 = sqlx::query_scalar("SELECT count(*) FROM kept_kpis")
        .fetch_one(&evaluation)
        .await
        .expect("kept_kpis readable");
    evaluation.close().await;
    assert_eq!(kept, 0, "figures are kept only with a max age");
    platform.stop().await;
}

const KPI_NAMES: [&str; 7] = [
    "satisfaction",
    "awareness",
    "participation",
    "volunteer_ratio",
    "training_coverage",
    "self_sufficiency",
    "facility_utilisation",
];

// ---------------------------------------------------------------------------------------
// Kept figures: a centre's counts kept for up to LINLI_KPI_MAX_AGE (the suites run with 0).

/// A platform whose evaluation keeps counted KPI figures for `seconds`.
async fn keeping_figures_for(seconds: u64) -> TestPlatform {
    TestPlatform::start_with(|args| args.evaluation.kpi_max_age_secs = seconds).await
}

/// Two centres in Shanghai, A with two residents of whom the first has attended (the
/// attendance in evaluation), B with one: A's participation is (1, 2) and B's (0, 1).
/// Returns A, B, A's residents and evaluation's pool.
async fn two_centres_one_attended(
    platform: &TestPlatform,
    token: &str,
) -> (Uuid, Uuid, Vec<Uuid>, sqlx::PgPool) {
    let (a, b) = (
        platform.bookable_centre("Asia/Shanghai").await,
        platform.bookable_centre("Asia/Shanghai").await,
    );
    let in_a = register(platform, token, a, 2).await;
    let in_b = register(platform, token, b, 1).await;
    platform
        .wait_in_directory("evaluation", "residents", &[&in_a[..], &in_b[..]].concat())
        .await;
    let evaluation = platform.pool("evaluation").await;
    attend(platform, token, a, &in_a[..1]).await;
    attendances_projected(&evaluation, a, 1).await;
    (a, b, in_a, evaluation)
}

/// The district roll-up for `period`, as the gateway answers it.
async fn roll_up(platform: &TestPlatform, token: &str, period: &str) -> Value {
    let (status, report) = platform
        .get_json(token, &format!("/v1/kpis?period={period}"))
        .await;
    assert_eq!(status, StatusCode::OK, "{report}");
    report
}

/// A centre's report in a roll-up.
fn centre_in(roll_up: &Value, centre: Uuid) -> Value {
    roll_up["centres"]
        .as_array()
        .expect("centres")
        .iter()
        .find(|c| c["centre_id"] == centre.to_string())
        .expect("the centre is in the roll-up")
        .clone()
}

/// When a report's figures were counted, as it says (to the second).
fn computed_at(report: &Value) -> chrono::DateTime<chrono::Utc> {
    report["computed_at"]
        .as_str()
        .expect("computed_at")
        .parse()
        .expect("a time")
}

/// What evaluation keeps for `centre` and `period`: residents who attended, when counted,
/// when last asked for.
async fn kept_row(
    evaluation: &sqlx::PgPool,
    centre: Uuid,
    period: &str,
) -> Option<(
    i64,
    chrono::DateTime<chrono::Utc>,
    chrono::DateTime<chrono::Utc>,
)> {
    sqlx::query_as(
        "SELECT attended, computed_at, last_asked_at FROM kept_kpis WHERE centre_id = $1 AND period = $2",
    )
    .bind(centre)
    .bind(period)
    .fetch_optional(evaluation)
    .await
    .expect("kept_kpis readable")
}

/// Waits until evaluation's projection holds attendances of `n` residents at `centre`.
async fn attendances_projected(evaluation: &sqlx::PgPool, centre: Uuid, n: i64) {
    poll("the attendances to reach evaluation", DEADLINE, || async {
        let projected: i64 = sqlx::query_scalar(
            "SELECT count(DISTINCT resident_id) FROM attendances WHERE centre_id = $1",
        )
        .bind(centre)
        .fetch_one(evaluation)
        .await
        .ok()?;
        (projected == n).then_some(())
    })
    .await;
}

#[tokio::test]
async fn the_roll_up_answers_from_kept_figures_within_their_max_age_and_a_rebuild_forgets_them() {
    let platform = keeping_figures_for(600).await;
    let token = platform.token(&[Role::DistrictAdmin], &[]);
    let (a, b, in_a, evaluation) = two_centres_one_attended(&platform, &token).await;
    let month = this_month();

    // The first read counts, keeps each centre's counts, and says when it counted them.
    let first = roll_up(&platform, &token, &month).await;
    assert_eq!(pair(kpi(&centre_in(&first, a), "participation")), (1, 2));
    assert_eq!(pair(kpi(&centre_in(&first, b), "participation")), (0, 1));
    for centre in [a, b] {
        let (attended, counted, _) = kept_row(&evaluation, centre, &month)
            .await
            .expect("the centre's counts are kept");
        assert_eq!(attended, if centre == a { 1 } else { 0 });
        assert_eq!(
            computed_at(&centre_in(&first, centre)),
            counted.trunc_subsecs(0),
            "the answer says when its kept counts were counted"
        );
    }
    assert_eq!(
        computed_at(&first),
        computed_at(&centre_in(&first, a)).min(computed_at(&centre_in(&first, b))),
        "the district's figures are as old as its oldest centre's"
    );
    let (_, counted_first, _) = kept_row(&evaluation, a, &month).await.expect("kept");

    // A new fact reaches the projection; within the max age the roll-up and the centre's
    // own read still answer with the kept figures, counted when they were.
    attend(&platform, &token, a, &in_a[1..]).await;
    attendances_projected(&evaluation, a, 2).await;
    let second = roll_up(&platform, &token, &month).await;
    assert_eq!(second, first, "the kept figures, unchanged");
    let own = kpis(&platform, &token, a, &month).await;
    assert_eq!(
        own,
        centre_in(&first, a),
        "the centre's read keeps them too"
    );
    assert_eq!(
        kept_row(&evaluation, a, &month).await.expect("kept").1,
        counted_first,
        "nothing was counted again"
    );

    // A rebuild forgets every kept count with the projections it empties; the next read
    // counts again, with the new fact.
    let (status, rebuilt) = platform
        .post_json(&token, "/v1/evaluation/rebuild", &json!({}), None)
        .await;
    assert_eq!(status, StatusCode::OK, "{rebuilt}");
    let kept: i64 = sqlx::query_scalar("SELECT count(*) FROM kept_kpis")
        .fetch_one(&evaluation)
        .await
        .expect("kept_kpis readable");
    assert_eq!(kept, 0, "the rebuild forgot the kept counts");
    let third = roll_up(&platform, &token, &month).await;
    assert_eq!(pair(kpi(&centre_in(&third, a), "participation")), (2, 2));
    assert_eq!(pair(kpi(&centre_in(&third, b), "participation")), (0, 1));
    let (attended, counted_again, _) = kept_row(&evaluation, a, &month).await.expect("kept");
    assert_eq!(attended, 2);
    assert!(
        counted_again > counted_first,
        "counted again after the rebuild"
    );
    evaluation.close().await;
    platform.stop().await;
}

#[tokio::test]
async fn an_assembled_roll_up_is_answered_again_for_a_few_seconds_then_assembled_from_the_kept_counts()
 {
    use linli_evaluation::domain::kept::ANSWER_KEPT_FOR;
    let platform = keeping_figures_for(600).await;
    let token = platform.token(&[Role::DistrictAdmin], &[]);
    let (a, _, _, evaluation) = two_centres_one_attended(&platform, &token).await;
    let month = this_month();
    let asked = std::time::Instant::now();
    let first = roll_up(&platform, &token, &month).await;
    assert_eq!(pair(kpi(&centre_in(&first, a), "participation")), (1, 2));

    // A's kept counts change as a refresher's count would change them (counted at the
    // same time here, so the max age plays no part).
    sqlx::query("UPDATE kept_kpis SET attended = 2 WHERE centre_id = $1 AND period = $2")
        .bind(a)
        .bind(&month)
        .execute(&evaluation)
        .await
        .expect("kept_kpis writable");
    let second = roll_up(&platform, &token, &month).await;
    // Only a machine that stalled for seconds between the two reads could see the kept
    // counts already.
    if asked.elapsed() < ANSWER_KEPT_FOR {
        assert_eq!(second, first, "the roll-up as assembled, not read again");
    }

    // Once its few seconds have passed, the roll-up is assembled again, from the counts
    // as now kept.
    let later = poll("the roll-up to be assembled again", DEADLINE, || async {
        let report = roll_up(&platform, &token, &month).await;
        (pair(kpi(&centre_in(&report, a), "participation")) == (2, 2)).then_some(report)
    })
    .await;
    assert!(
        asked.elapsed() >= ANSWER_KEPT_FOR,
        "assembled again only after {ANSWER_KEPT_FOR:?}"
    );
    assert_eq!(
        computed_at(&centre_in(&later, a)),
        computed_at(&centre_in(&first, a))
    );
    evaluation.close().await;
    platform.stop().await;
}

#[tokio::test]
async fn with_a_short_max_age_the_roll_up_counts_a_new_fact_once_its_kept_figures_are_too_old() {
    let platform = keeping_figures_for(2).await;
    let a = platform.bookable_centre("Asia/Shanghai").await;
    let token = platform.token(&[Role::DistrictAdmin], &[]);
    let residents = register(&platform, &token, a, 1).await;
    platform
        .wait_in_directory("evaluation", "residents", &residents)
        .await;
    let month = this_month();
    let first = roll_up(&platform, &token, &month).await;
    assert_eq!(pair(kpi(&centre_in(&first, a), "participation")), (0, 1));
    let counted_first = computed_at(&centre_in(&first, a));

    let evaluation = platform.pool("evaluation").await;
    attend(&platform, &token, a, &residents).await;
    attendances_projected(&evaluation, a, 1).await;
    evaluation.close().await;
    let later = poll("the roll-up to count the attendance", DEADLINE, || async {
        let report = roll_up(&platform, &token, &month).await;
        (pair(kpi(&centre_in(&report, a), "participation")) == (1, 1)).then_some(report)
    })
    .await;
    let counted_later = computed_at(&centre_in(&later, a));
    assert!(
        counted_later > counted_first,
        "counted again: {counted_first} then {counted_later}"
    );
    assert_eq!(computed_at(&later), counted_later, "{later}");
    platform.stop().await;
}

#[tokio::test]
async fn a_restarted_evaluation_counts_the_kept_figures_grown_old_at_once_not_a_half_max_age_later()
{
    // Ten minutes' max age: the refresher's turns are five minutes apart.
    let platform = keeping_figures_for(600).await;
    let token = platform.token(&[Role::DistrictAdmin], &[]);
    let (a, b, _, evaluation) = two_centres_one_attended(&platform, &token).await;
    let month = this_month();
    roll_up(&platform, &token, &month).await;
    // Counted six minutes ago: still young enough to answer a read, but the refresher's to
    // count again.
    sqlx::query("UPDATE kept_kpis SET computed_at = now() - interval '6 minutes'")
        .execute(&evaluation)
        .await
        .expect("kept_kpis writable");
    evaluation.close().await;
    let old: Vec<(Uuid, chrono::DateTime<chrono::Utc>)> = {
        let evaluation = platform.pool("evaluation").await;
        let old = sqlx::query_as("SELECT centre_id, computed_at FROM kept_kpis ORDER BY centre_id")
            .fetch_all(&evaluation)
            .await
            .expect("kept_kpis readable");
        evaluation.close().await;
        old
    };
    assert_eq!(old.len(), 2);

    // The new process's refresher counts them at start, without a read.
    let platform = platform.restart().await;
    let evaluation = platform.pool("evaluation").await;
    for (centre, counted_before) in old {
        let counted = poll(
            "the refresher to count again at start",
            DEADLINE,
            || async {
                let (_, counted, _) = kept_row(&evaluation, centre, &month).await?;
                (counted > counted_before).then_some(counted)
            },
        )
        .await;
        assert!(
            chrono::Utc::now() - counted < chrono::Duration::minutes(1),
            "{centre} counted just now, not {counted}"
        );
    }
    let (attended, _, _) = kept_row(&evaluation, a, &month).await.expect("kept");
    assert_eq!(attended, 1, "A's attendance, counted again");
    assert!(kept_row(&evaluation, b, &month).await.is_some());
    evaluation.close().await;
    platform.stop().await;
}

#[tokio::test]
async fn the_refresher_counts_figures_asked_for_today_again_without_a_read_and_leaves_the_others() {
    let refreshed_before = linli_platform::metrics::KEPT_REFRESHED
        .with_label_values(&["evaluation"])
        .get();
    let platform = keeping_figures_for(2).await;
    let (a, b) = (
        platform.bookable_centre("Asia/Shanghai").await,
        platform.bookable_centre("Asia/Shanghai").await,
    );
    let token = platform.token(&[Role::DistrictAdmin], &[]);
    let in_a = register(&platform, &token, a, 1).await;
    let in_b = register(&platform, &token, b, 1).await;
    platform
        .wait_in_directory("evaluation", "residents", &[&in_a[..], &in_b[..]].concat())
        .await;
    let month = this_month();
    roll_up(&platform, &token, &month).await;
    let evaluation = platform.pool("evaluation").await;
    let (_, counted_a, asked_a) = kept_row(&evaluation, a, &month).await.expect("kept");
    // B's counts were last asked for yesterday: not the refresher's to count.
    sqlx::query(
        "UPDATE kept_kpis SET last_asked_at = now() - interval '25 hours' WHERE centre_id = $1",
    )
    .bind(b)
    .execute(&evaluation)
    .await
    .expect("kept_kpis writable");

    // An attendance at A reaches the projection; no one reads the figures again.
    sqlx::query(
        "INSERT INTO attendances (event_id, booking_id, centre_id, offering_id, resident_id, category, attended_at)
         VALUES ($1, $2, $3, $4, $5, 'health', now())",
    )
    .bind(Uuid::new_v4())
    .bind(Uuid::new_v4())
    .bind(a)
    .bind(Uuid::new_v4())
    .bind(in_a[0])
    .execute(&evaluation)
    .await
    .expect("an attendance projected");

    // The refresher counts A again with it, and again on its next turn: a pass that began
    // after the one that counted the attendance, so after B was marked as not asked for
    // today (a pass that chose B before that counts A and B in one statement).
    let refreshed = |after: chrono::DateTime<chrono::Utc>| {
        let evaluation = evaluation.clone();
        let month = month.clone();
        async move {
            poll("the refresher to count A again", DEADLINE, || async {
                let (attended, counted, _) = kept_row(&evaluation, a, &month).await?;
                (attended == 1 && counted > after).then_some(counted)
            })
            .await
        }
    };
    let once = refreshed(counted_a).await;
    let b_before = kept_row(&evaluation, b, &month).await.expect("kept");
    assert!(b_before.2 < chrono::Utc::now() - chrono::Duration::hours(24));
    let twice = refreshed(once).await;
    assert!(twice > once && once > counted_a);
    let (_, _, asked_a_now) = kept_row(&evaluation, a, &month).await.expect("kept");
    assert_eq!(asked_a_now, asked_a, "no read asked for A");
    assert_eq!(
        kept_row(&evaluation, b, &month).await,
        Some(b_before),
        "B's counts, not asked for today, were left as they were"
    );
    // The refresher counts a pass in the metric after its rows commit, so the test can
    // see the rows first.
    poll(
        "both passes counted in linli_kept_figures_refreshed_total",
        DEADLINE,
        || async {
            let refreshed_after = linli_platform::metrics::KEPT_REFRESHED
                .with_label_values(&["evaluation"])
                .get();
            (refreshed_after >= refreshed_before + 2).then_some(())
        },
    )
    .await;
    evaluation.close().await;
    platform.stop().await;
}

/// The advisory lock a read that must count takes for `period` (the keys
/// `store::kept::count_once` derives), taken and let go by the test on `conn`'s session.
async fn hold_count_lock(conn: &mut sqlx::PgConnection, period: &str, hold: bool) {
    let statement = if hold {
        "SELECT pg_advisory_lock(hashtext('linli evaluation kept_kpis count'), hashtext($1))::text"
    } else {
        "SELECT pg_advisory_unlock(hashtext('linli evaluation kept_kpis count'), hashtext($1))::text"
    };
    sqlx::query(statement)
        .bind(period)
        .execute(conn)
        .await
        .expect("the count's advisory lock");
}

/// Reads of this database waiting for an advisory lock of two keys.
async fn waiting_for_count_lock(evaluation: &sqlx::PgPool) -> i64 {
    sqlx::query_scalar(
        "SELECT count(*) FROM pg_locks
         WHERE locktype = 'advisory' AND objsubid = 2 AND NOT granted
           AND database = (SELECT oid FROM pg_database WHERE datname = current_database())",
    )
    .fetch_one(evaluation)
    .await
    .expect("pg_locks readable")
}

#[tokio::test]
async fn concurrent_roll_ups_that_find_kept_figures_missing_count_them_once_and_all_answer_with_it()
{
    let platform = keeping_figures_for(600).await;
    let token = platform.token(&[Role::DistrictAdmin], &[]);
    let (a, b, _, evaluation) = two_centres_one_attended(&platform, &token).await;
    let month = this_month();
    let right = |report: &Value| {
        assert_eq!(pair(kpi(&centre_in(report, a), "participation")), (1, 2));
        assert_eq!(pair(kpi(&centre_in(report, b), "participation")), (0, 1));
    };

    // Every row a read writes into kept_kpis (an upsert that keeps younger counts writes
    // none), so the test can tell one count from eight.
    sqlx::raw_sql(
        "CREATE TABLE kept_writes (centre_id uuid, op text);
         CREATE FUNCTION note_kept_write() RETURNS trigger LANGUAGE plpgsql AS $$
         BEGIN INSERT INTO kept_writes VALUES (NEW.centre_id, TG_OP); RETURN NEW; END $$;
         CREATE TRIGGER note_kept_write AFTER INSERT OR UPDATE ON kept_kpis
             FOR EACH ROW EXECUTE FUNCTION note_kept_write();",
    )
    .execute(&evaluation)
    .await
    .expect("a trigger on kept_kpis");

    // Eight district admins open the dashboard at once on an empty kept_kpis: one count
    // answers them all, each centre's figures counted at one instant, the one kept.
    let answers =
        futures::future::join_all((0..8).map(|_| roll_up(&platform, &token, &month))).await;
    let writes: Vec<(String, i64)> =
        sqlx::query_as("SELECT op, count(*) FROM kept_writes GROUP BY op ORDER BY op")
            .fetch_all(&evaluation)
            .await
            .expect("kept_writes readable");
    assert_eq!(
        writes,
        [("INSERT".to_string(), 2)],
        "one read counted and kept both centres; no other wrote"
    );
    for centre in [a, b] {
        let (_, counted, _) = kept_row(&evaluation, centre, &month)
            .await
            .expect("the centre's counts are kept");
        for answer in &answers {
            right(answer);
            assert_eq!(
                computed_at(&centre_in(answer, centre)),
                counted.trunc_subsecs(0),
                "every read answered with the one count kept"
            );
        }
    }

    // Deterministically: while another read holds the period's lock (here the test, as
    // another process would), reads that find the counts missing wait for it, then answer
    // with what it kept meanwhile and count nothing themselves. Each centre's own read,
    // two of each: roll-ups of the same centres would be answered by the one just
    // assembled. Four, so each holds one of the pool's five connections while it waits
    // and none waits for a connection instead.
    let kept: Vec<(Uuid, chrono::DateTime<chrono::Utc>)> =
        sqlx::query_as("SELECT centre_id, computed_at FROM kept_kpis ORDER BY centre_id")
            .fetch_all(&evaluation)
            .await
            .expect("kept_kpis readable");
    let mut holder = evaluation.acquire().await.expect("a connection");
    hold_count_lock(&mut holder, &month, true).await;
    sqlx::query("CREATE TEMP TABLE counted_meanwhile AS SELECT * FROM kept_kpis")
        .execute(&mut *holder)
        .await
        .expect("the kept counts saved");
    sqlx::query("DELETE FROM kept_kpis")
        .execute(&mut *holder)
        .await
        .expect("the kept counts gone");
    let (platform_ref, token_ref, month_ref) = (&platform, &token, &month);
    let reads = futures::future::join_all([a, b, a, b].map(|centre| async move {
        (
            centre,
            kpis(platform_ref, token_ref, centre, month_ref).await,
        )
    }));
    let release = async {
        poll(
            "four reads to wait for the count's lock",
            DEADLINE,
            || async { (waiting_for_count_lock(&evaluation).await == 4).then_some(()) },
        )
        .await;
        sqlx::query("INSERT INTO kept_kpis SELECT * FROM counted_meanwhile")
            .execute(&mut *holder)
            .await
            .expect("the counts kept meanwhile");
        hold_count_lock(&mut holder, &month, false).await;
    };
    let (answers, ()) = tokio::join!(reads, release);
    drop(holder);
    for (centre, answer) in &answers {
        let participation = if *centre == a { (1, 2) } else { (0, 1) };
        assert_eq!(pair(kpi(answer, "participation")), participation);
        let counted = kept
            .iter()
            .find(|(kept, _)| kept == centre)
            .map(|(_, counted)| counted.trunc_subsecs(0));
        assert_eq!(
            Some(computed_at(answer)),
            counted,
            "the waiting read answered with the counts kept while it waited"
        );
    }
    let after: Vec<(Uuid, chrono::DateTime<chrono::Utc>)> =
        sqlx::query_as("SELECT centre_id, computed_at FROM kept_kpis ORDER BY centre_id")
            .fetch_all(&evaluation)
            .await
            .expect("kept_kpis readable");
    assert_eq!(after, kept, "no waiting read counted again");
    evaluation.close().await;
    platform.stop().await;
}
