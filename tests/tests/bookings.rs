//! Service bookings end to end: the whole platform on the real PostgreSQL and RabbitMQ,
//! residents registered through the registry and known to bookings through its events,
//! every call through the gateway.

use std::collections::HashSet;
use std::time::Duration;

use futures::future::join_all;
use linli_platform::auth::Role;
use linli_tests::{TestPlatform, poll};
use reqwest::StatusCode;
use serde_json::{Value, json};
use uuid::Uuid;

const EVENT_DEADLINE: Duration = Duration::from_secs(30);

/// A centre with a desk: its id, a manager's token, and helpers over the gateway.
struct Desk {
    platform: TestPlatform,
    centre: Uuid,
    token: String,
}

impl Desk {
    async fn open() -> Desk {
        Desk::open_in("Asia/Shanghai").await
    }

    /// A centre in `zone`, once bookings has heard of it.
    async fn open_in(zone: &str) -> Desk {
        let platform = TestPlatform::start().await;
        let centre = platform.bookable_centre(zone).await;
        let token = platform.token(&[Role::CentreManager], &[centre]);
        Desk {
            platform,
            centre,
            token,
        }
    }

    fn url(&self, path: &str) -> String {
        format!(
            "{}/v1/centres/{}{}",
            self.platform.gateway, self.centre, path
        )
    }

    async fn post(&self, path: &str, body: Value) -> (StatusCode, Value) {
        self.post_as(&self.token, path, body, None).await
    }

    async fn post_as(
        &self,
        token: &str,
        path: &str,
        body: Value,
        key: Option<&str>,
    ) -> (StatusCode, Value) {
        let path = format!("/v1/centres/{}{path}", self.centre);
        self.platform.post_json(token, &path, &body, key).await
    }

    async fn get(&self, path: &str) -> (StatusCode, Value) {
        let path = format!("/v1/centres/{}{path}", self.centre);
        self.platform.get_json(&self.token, &path).await
    }

    /// Registers a resident and waits until bookings knows them.
    async fn resident(&self, born: &str, categories: &[&str]) -> String {
        let (status, body) = self
            .post(
                "/residents",
                json!({ "name": "李明", "gender": "male", "date_of_birth": born, "categories": categories, "confirm_not_duplicate": true }),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        let id = body["id"].as_str().expect("resident id").to_owned();
        self.wait_for_residents(std::slice::from_ref(&id)).await;
        id
    }

    /// Registers `n` adults at once.
    async fn residents(&self, n: usize) -> Vec<String> {
        let ids: Vec<String> = join_all((0..n).map(|_| async {
            let (status, body) = self
                .post(
                    "/residents",
                    json!({ "name": "张伟", "gender": "female", "date_of_birth": "1980-05-01", "confirm_not_duplicate": true }),
                )
                .await;
            assert_eq!(status, StatusCode::CREATED, "{body}");
            body["id"].as_str().expect("resident id").to_owned()
        }))
        .await;
        self.wait_for_residents(&ids).await;
        ids
    }

    async fn wait_for_residents(&self, ids: &[String]) {
        let ids: Vec<Uuid> = ids.iter().map(|id| id.parse().expect("uuid")).collect();
        self.platform.wait_for_residents_in_bookings(&ids).await;
    }

    async fn room(&self, name: &str) -> String {
        let (status, body) = self
            .post(
                "/facilities",
                json!({ "name": name, "kind": "room", "opens": "08:00", "closes": "20:00", "open_days": [1, 2, 3, 4, 5] }),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        body["id"].as_str().expect("facility id").to_owned()
    }

    async fn offering(&self, body: Value) -> String {
        let (status, body) = self.post("/offerings", body).await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        body["id"].as_str().expect("offering id").to_owned()
    }

    async fn session(&self, offering: &str, starts: &str, ends: &str) -> String {
        let (status, body) = self
            .post(
                "/sessions",
                json!({ "offering_id": offering, "starts_at": starts, "ends_at": ends }),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        body["id"].as_str().expect("session id").to_owned()
    }

    async fn book(
        &self,
        offering: &str,
        resident: &str,
        session: Option<&str>,
    ) -> (StatusCode, Value) {
        self.post(
            "/bookings",
            json!({ "offering_id": offering, "resident_id": resident, "session_id": session }),
        )
        .await
    }

    /// Events of one routing key this test's bookings service recorded for publication.
    async fn outbox_count(&self, routing_key: &str, booking: &str) -> i64 {
        let pool = self.platform.pool("bookings").await;
        let booking: Uuid = booking.parse().expect("uuid");
        let events: Vec<Vec<u8>> =
            sqlx::query_scalar("SELECT payload FROM outbox WHERE routing_key = $1")
                .bind(routing_key)
                .fetch_all(&pool)
                .await
                .expect("outbox readable");
        pool.close().await;
        // Every bookings event carries the booking id as a string; count those of this one.
        let needle = booking.to_string();
        events
            .iter()
            .filter(|payload| {
                payload
                    .windows(needle.len())
                    .any(|w| w == needle.as_bytes())
            })
            .count() as i64
    }

    async fn stop(self) {
        self.platform.stop().await;
    }
}

fn class(capacity: i32) -> Value {
    json!({ "category": "culture_education", "kind": "event", "name": "社区读书会", "capacity": capacity })
}

#[tokio::test]
async fn two_hundred_concurrent_requests_for_ten_seats_confirm_ten_and_waitlist_the_rest_in_order()
{
    let desk = Desk::open().await;
    let residents = desk.residents(200).await;
    let offering = desk.offering(class(10)).await;
    let session = desk
        .session(
            &offering,
            "2027-03-01T09:00:00+08:00",
            "2027-03-01T10:00:00+08:00",
        )
        .await;

    // While the requests run, keep looking at the session: it never shows more than ten.
    let watching = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(true));
    let watcher = {
        let (pool, watching, session) = (
            desk.platform.pool("bookings").await,
            watching.clone(),
            session.parse::<Uuid>().expect("uuid"),
        );
        tokio::spawn(async move {
            let mut looks = 0;
            while watching.load(std::sync::atomic::Ordering::Relaxed) {
                let (confirmed, held): (i32, i64) = sqlx::query_as(
                    "SELECT confirmed, (SELECT count(*) FROM seats WHERE session_id = $1 AND state = 'held')
                     FROM sessions WHERE id = $1",
                )
                .bind(session)
                .fetch_one(&pool)
                .await
                .expect("session readable");
                assert!(
                    confirmed <= 10 && held <= 10,
                    "over capacity: {confirmed} confirmed, {held} held"
                );
                looks += 1;
            }
            looks
        })
    };
    let results = join_all(
        residents
            .iter()
            .map(|r| desk.book(&offering, r, Some(&session))),
    )
    .await;
    watching.store(false, std::sync::atomic::Ordering::Relaxed);
    assert!(watcher.await.expect("watcher ran") > 0);

    let mut confirmed = Vec::new();
    let mut waitlisted = Vec::new();
    for (status, body) in &results {
        assert_eq!(*status, StatusCode::CREATED, "{body}");
        match body["status"].as_str() {
            Some("confirmed") => confirmed.push(body["id"].as_str().expect("id").to_owned()),
            Some("waitlisted") => waitlisted.push(body["id"].as_str().expect("id").to_owned()),
            other => panic!("unexpected status {other:?}"),
        }
    }
    assert_eq!(confirmed.len(), 10);
    assert_eq!(waitlisted.len(), 190);

    // Arrival order: every confirmed booking arrived before every waitlisted one, and the
    // waitlist places are 1..190 in arrival order.
    let pool = desk.platform.pool("bookings").await;
    let rows: Vec<(Uuid, String, i64)> = sqlx::query_as(
        "SELECT id, status, arrival FROM bookings WHERE offering_id = $1 ORDER BY arrival",
    )
    .bind(offering.parse::<Uuid>().expect("uuid"))
    .fetch_all(&pool)
    .await
    .expect("bookings readable");
    pool.close().await;
    assert!(
        rows[..10]
            .iter()
            .all(|(_, status, _)| status == "confirmed")
    );
    assert!(
        rows[10..]
            .iter()
            .all(|(_, status, _)| status == "waitlisted")
    );
    let (_, page) = desk
        .get(&format!(
            "/bookings?session_id={session}&status=waitlisted&page_size=200"
        ))
        .await;
    let mut places: Vec<(i64, i64)> = page["bookings"]
        .as_array()
        .expect("bookings")
        .iter()
        .map(|b| {
            let id: Uuid = b["id"].as_str().expect("id").parse().expect("uuid");
            let arrival = rows.iter().find(|r| r.0 == id).expect("known booking").2;
            (arrival, b["waitlist_position"].as_i64().expect("a place"))
        })
        .collect();
    places.sort();
    let positions: Vec<i64> = places.iter().map(|p| p.1).collect();
    assert_eq!(positions, (1..=190).collect::<Vec<_>>());
    let (_, sessions) = desk.get(&format!("/sessions?offering_id={offering}")).await;
    assert_eq!(sessions["sessions"][0]["confirmed"], 10);
    assert_eq!(sessions["sessions"][0]["waitlisted"], 190);
    desk.stop().await;
}

#[tokio::test]
async fn one_resident_asking_twenty_times_at_once_gets_one_place_and_nineteen_refusals() {
    let desk = Desk::open().await;
    let resident = desk.resident("1950-02-01", &[]).await;
    let offering = desk.offering(class(10)).await;
    let session = desk
        .session(
            &offering,
            "2027-03-02T09:00:00+08:00",
            "2027-03-02T10:00:00+08:00",
        )
        .await;

    let results = join_all((0..20).map(|_| desk.book(&offering, &resident, Some(&session)))).await;
    let created: Vec<&Value> = results
        .iter()
        .filter(|(status, _)| *status == StatusCode::CREATED)
        .map(|(_, body)| body)
        .collect();
    assert_eq!(created.len(), 1, "{results:?}");
    assert_eq!(created[0]["status"], "confirmed");
    for (status, body) in results.iter().filter(|(s, _)| *s != StatusCode::CREATED) {
        assert_eq!(*status, StatusCode::CONFLICT, "{body}");
        assert!(
            body.to_string().contains("already has a place"),
            "the refusal names the place held: {body}"
        );
    }
    let (_, sessions) = desk.get(&format!("/sessions?offering_id={offering}")).await;
    assert_eq!(sessions["sessions"][0]["confirmed"], 1);
    let booking = created[0]["id"].as_str().expect("id");
    assert_eq!(
        desk.outbox_count("bookings.booking.confirmed", booking)
            .await,
        1
    );
    let pool = desk.platform.pool("bookings").await;
    let (bookings, events): (i64, i64) = sqlx::query_as(
        "SELECT (SELECT count(*) FROM bookings WHERE offering_id = $1),
                (SELECT count(*) FROM outbox WHERE routing_key = 'bookings.booking.confirmed')",
    )
    .bind(offering.parse::<Uuid>().expect("uuid"))
    .fetch_one(&pool)
    .await
    .expect("bookings readable");
    pool.close().await;
    assert_eq!(
        (bookings, events),
        (1, 1),
        "one booking, one confirmation recorded"
    );
    desk.stop().await;
}

#[tokio::test]
async fn fifty_concurrent_overlapping_room_bookings_give_one_room_and_name_the_clash() {
    let desk = Desk::open().await;
    let room = desk.room("多功能活动室").await;
    let hire = desk
        .offering(json!({ "category": "facilities", "kind": "facility", "name": "活动室租用", "facility_id": room }))
        .await;
    let results = join_all((0..50).map(|i| {
        let (starts, ends) = (
            format!("2027-03-02T10:{:02}:00+08:00", i),
            format!("2027-03-02T11:{:02}:00+08:00", i),
        );
        let hire = hire.clone();
        let desk = &desk;
        async move {
            desk.post(
                "/bookings",
                json!({ "offering_id": hire, "starts_at": starts, "ends_at": ends, "note": "舞蹈队排练" }),
            )
            .await
        }
    }))
    .await;
    let won: Vec<&(StatusCode, Value)> = results
        .iter()
        .filter(|(s, _)| *s == StatusCode::CREATED)
        .collect();
    assert_eq!(won.len(), 1, "exactly one booking holds the room");
    for (status, body) in results.iter().filter(|(s, _)| *s != StatusCode::CREATED) {
        assert_eq!(*status, StatusCode::CONFLICT, "{body}");
        let detail = body["detail"].as_str().expect("a detail");
        assert!(
            detail.contains("多功能活动室"),
            "the clash names the room: {detail}"
        );
    }
    desk.stop().await;
}

/// A freshly started platform, no warm-up: twenty bursts of fifty requests for the very
/// same room slot. Overlapping inserts checked by the exclusion constraint alone wait on
/// each other's uncommitted entries and deadlock; the requests queue on the facility
/// instead, so each slot has exactly one winner and forty-nine clashes, never a 5xx, and
/// the service stays SERVING (a lost deadlock is not an unreachable database).
#[tokio::test]
async fn twenty_cold_bursts_of_fifty_for_one_room_slot_each_give_one_booking_and_49_clashes() {
    // The suites' pool size: a platform at the production size (ten a service) beside the
    // other tests of this binary would take more of PostgreSQL's hundred connections than
    // the suite can spare.
    let desk = Desk::open().await;
    let room = desk.room("舞蹈排练厅").await;
    let hire = desk
        .offering(json!({ "category": "facilities", "kind": "facility", "name": "排练厅租用", "facility_id": room }))
        .await;
    let watching = tokio_util::sync::CancellationToken::new();
    let watcher = tokio::spawn({
        let (address, watching) = (desk.platform.bookings, watching.clone());
        async move {
            let channel = tonic::transport::Endpoint::from_shared(format!("http://{address}"))
                .expect("endpoint")
                .connect()
                .await
                .expect("bookings answers");
            let mut client = tonic_health::pb::health_client::HealthClient::new(channel);
            let mut checks = 0;
            while !watching.is_cancelled() {
                let status = client
                    .check(tonic_health::pb::HealthCheckRequest {
                        service: linli_bookings::GRPC_SERVICE.into(),
                    })
                    .await
                    .expect("health answers")
                    .into_inner()
                    .status();
                assert_eq!(
                    status,
                    tonic_health::pb::health_check_response::ServingStatus::Serving,
                    "bookings stays SERVING through the bursts"
                );
                checks += 1;
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            checks
        }
    });
    // Weekdays from 2027-03-01 on, one slot each.
    let days: Vec<String> = (0..28)
        .map(|d| chrono::NaiveDate::from_ymd_opt(2027, 3, 1).expect("date") + chrono::Days::new(d))
        .filter(|d| chrono::Datelike::weekday(d).number_from_monday() <= 5)
        .take(20)
        .map(|d| d.to_string())
        .collect();
    assert_eq!(days.len(), 20);
    for day in &days {
        let (starts, ends) = (
            format!("{day}T14:00:00+08:00"),
            format!("{day}T16:00:00+08:00"),
        );
        let results = join_all((0..50).map(|_| {
            desk.post(
                "/bookings",
                json!({ "offering_id": hire, "starts_at": starts, "ends_at": ends }),
            )
        }))
        .await;
        let won = results
            .iter()
            .filter(|(s, _)| *s == StatusCode::CREATED)
            .count();
        let clashed = results
            .iter()
            .filter(|(s, _)| *s == StatusCode::CONFLICT)
            .count();
        let other: Vec<_> = results
            .iter()
            .filter(|(s, _)| *s != StatusCode::CREATED && *s != StatusCode::CONFLICT)
            .collect();
        assert!(other.is_empty(), "{day}: only 201 and 409: {other:?}");
        assert_eq!(
            (won, clashed),
            (1, 49),
            "{day}: one winner, forty-nine clashes"
        );
    }
    watching.cancel();
    let checks = watcher.await.expect("health stayed SERVING");
    assert!(checks > 0, "health was checked during the bursts");
    desk.stop().await;
}

#[tokio::test]
async fn back_to_back_room_bookings_are_allowed() {
    let desk = Desk::open().await;
    let room = desk.room("书画室").await;
    let hire = desk
        .offering(json!({ "category": "facilities", "kind": "facility", "name": "书画室租用", "facility_id": room }))
        .await;
    let book = |starts: &str, ends: &str| {
        desk.post(
            "/bookings",
            json!({ "offering_id": hire, "starts_at": starts, "ends_at": ends }),
        )
    };
    let (first, body) = book("2027-03-03T09:00:00+08:00", "2027-03-03T10:00:00+08:00").await;
    assert_eq!(first, StatusCode::CREATED, "{body}");
    let (second, body) = book("2027-03-03T10:00:00+08:00", "2027-03-03T11:00:00+08:00").await;
    assert_eq!(second, StatusCode::CREATED, "{body}");
    let (overlap, _) = book("2027-03-03T10:59:00+08:00", "2027-03-03T11:30:00+08:00").await;
    assert_eq!(overlap, StatusCode::CONFLICT);
    // Outside opening hours, and on a closed day: refused with the hours.
    let (late, body) = book("2027-03-03T19:30:00+08:00", "2027-03-03T21:00:00+08:00").await;
    assert_eq!(late, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        body["detail"]
            .as_str()
            .expect("detail")
            .contains("08:00–20:00")
    );
    let (sunday, _) = book("2027-03-07T09:00:00+08:00", "2027-03-07T10:00:00+08:00").await;
    assert_eq!(sunday, StatusCode::UNPROCESSABLE_ENTITY);

    // Two hours booked in a week of 5 × 12 open hours.
    let (status, report) = desk.get("/utilisation?from=2027-03-01&to=2027-03-08").await;
    assert_eq!(status, StatusCode::OK, "{report}");
    let room_report = &report["facilities"][0];
    assert_eq!(room_report["booked_hours"], 2.0);
    assert_eq!(room_report["open_hours"], 60.0);
    desk.stop().await;
}

#[tokio::test]
async fn a_cancellation_promotes_exactly_one_waitlisted_booking_once() {
    let desk = Desk::open().await;
    let residents = desk.residents(3).await;
    let offering = desk.offering(class(1)).await;
    let session = desk
        .session(
            &offering,
            "2027-03-04T14:00:00+08:00",
            "2027-03-04T15:00:00+08:00",
        )
        .await;
    let mut ids = Vec::new();
    for resident in &residents {
        let (status, body) = desk.book(&offering, resident, Some(&session)).await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        ids.push(body["id"].as_str().expect("id").to_owned());
    }
    let (_, second) = desk.get(&format!("/bookings/{}", ids[1])).await;
    assert_eq!(second["status"], "waitlisted");
    assert_eq!(second["waitlist_position"], 1);

    // The cancellation is sent three times, two of them at once.
    let path = format!("/bookings/{}/cancel", ids[0]);
    let (a, b) = tokio::join!(desk.post(&path, json!({})), desk.post(&path, json!({})));
    assert_eq!(a.0, StatusCode::OK, "{}", a.1);
    assert_eq!(b.0, StatusCode::OK, "{}", b.1);
    let (again, body) = desk.post(&path, json!({})).await;
    assert_eq!(again, StatusCode::OK);
    assert_eq!(body["status"], "cancelled");

    let (_, second) = desk.get(&format!("/bookings/{}", ids[1])).await;
    assert_eq!(second["status"], "confirmed");
    let (_, third) = desk.get(&format!("/bookings/{}", ids[2])).await;
    assert_eq!(third["status"], "waitlisted");
    assert_eq!(third["waitlist_position"], 1);
    assert_eq!(
        desk.outbox_count("bookings.booking.promoted", &ids[1])
            .await,
        1
    );
    assert_eq!(
        desk.outbox_count("bookings.booking.promoted", &ids[2])
            .await,
        0
    );
    assert_eq!(
        desk.outbox_count("bookings.booking.cancelled", &ids[0])
            .await,
        1
    );
    desk.stop().await;
}

#[tokio::test]
async fn a_move_out_cancels_future_bookings_once_even_when_the_event_is_redelivered() {
    let desk = Desk::open().await;
    let residents = desk.residents(2).await;
    let offering = desk.offering(class(1)).await;
    let session = desk
        .session(
            &offering,
            "2027-03-05T14:00:00+08:00",
            "2027-03-05T15:00:00+08:00",
        )
        .await;
    let (_, first) = desk.book(&offering, &residents[0], Some(&session)).await;
    let (_, second) = desk.book(&offering, &residents[1], Some(&session)).await;
    let (first, second) = (
        first["id"].as_str().expect("id").to_owned(),
        second["id"].as_str().expect("id").to_owned(),
    );
    assert_eq!(second.len(), 36);

    let (status, body) = desk
        .post(
            &format!("/residents/{}/status", residents[0]),
            json!({ "status": "moved_out", "since": "2026-11-01" }),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    poll(
        "the mover's booking to be cancelled",
        EVENT_DEADLINE,
        || async {
            let (_, b) = desk.get(&format!("/bookings/{first}")).await;
            (b["status"] == "cancelled").then_some(())
        },
    )
    .await;
    let (_, b) = desk.get(&format!("/bookings/{first}")).await;
    assert_eq!(b["cancel_reason"], "moved_out");
    let (_, promoted) = desk.get(&format!("/bookings/{second}")).await;
    assert_eq!(promoted["status"], "confirmed");

    // The broker delivers the same moved-out event again: nothing more happens.
    let registry = desk.platform.pool("registry").await;
    let (id, payload): (Uuid, Vec<u8>) = sqlx::query_as(
        "SELECT id, payload FROM outbox WHERE routing_key = 'registry.resident.moved_out'",
    )
    .fetch_one(&registry)
    .await
    .expect("the event in the registry's outbox");
    registry.close().await;
    let duplicates = || {
        linli_platform::metrics::EVENTS_CONSUMED
            .with_label_values(&["bookings", "duplicate"])
            .get()
    };
    let before = duplicates();
    let bus = linli_platform::bus::Bus::new(desk.platform.args.bus.clone(), "test");
    let channel = bus.channel().await.expect("broker");
    channel
        .basic_publish(
            desk.platform.args.bus.exchange().into(),
            "registry.resident.moved_out".into(),
            Default::default(),
            &payload,
            lapin::BasicProperties::default()
                .with_message_id(id.to_string().into())
                .with_type("linli.events.v1.ResidentMovedOut".into()),
        )
        .await
        .expect("published")
        .await
        .expect("sent");
    poll(
        "the redelivery to be seen as a duplicate",
        EVENT_DEADLINE,
        || async { (duplicates() > before).then_some(()) },
    )
    .await;
    bus.close().await;
    assert_eq!(
        desk.outbox_count("bookings.booking.promoted", &second)
            .await,
        1
    );
    assert_eq!(
        desk.outbox_count("bookings.booking.cancelled", &first)
            .await,
        1
    );

    // Erasure keeps the booking for the figures and drops the person.
    let (status, body) = desk
        .post(
            &format!("/residents/{}/erasure", residents[1]),
            json!({ "reason": "the resident's request" }),
        )
        .await;
    assert!(status.is_success(), "{body}");
    poll(
        "the erased resident's booking to be anonymised",
        EVENT_DEADLINE,
        || async {
            let (_, b) = desk.get(&format!("/bookings/{second}")).await;
            b["resident_id"].is_null().then_some(())
        },
    )
    .await;
    // Nor is the person left on the booking's seats.
    let pool = desk.platform.pool("bookings").await;
    let left: i64 = sqlx::query_scalar("SELECT count(*) FROM seats WHERE resident_id = $1::uuid")
        .bind(&residents[1])
        .fetch_one(&pool)
        .await
        .expect("seats");
    assert_eq!(left, 0, "the erased resident is still on a seat");
    pool.close().await;
    desk.stop().await;
}

#[tokio::test]
async fn an_erasure_cancels_future_bookings_promotes_the_waitlist_and_keeps_past_attendance() {
    let desk = Desk::open().await;
    let residents = desk.residents(2).await;
    let (erased, waiting) = (&residents[0], &residents[1]);

    // What the erased resident already did: a check-up they attended.
    let checkup = desk
        .offering(json!({ "category": "health", "kind": "appointment", "name": "血压检测", "capacity": 3 }))
        .await;
    let now = chrono::Utc::now();
    let past = desk
        .session(
            &checkup,
            &(now - chrono::Duration::minutes(5)).to_rfc3339(),
            &(now + chrono::Duration::hours(1)).to_rfc3339(),
        )
        .await;
    let (status, attended) = desk.book(&checkup, erased, Some(&past)).await;
    assert_eq!(status, StatusCode::CREATED, "{attended}");
    let attended = attended["id"].as_str().expect("id").to_owned();
    let (status, body) = desk
        .post(&format!("/bookings/{attended}/check-in"), json!({}))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");

    // What was still to come: the last seat of a full session, and someone waiting for it.
    let offering = desk.offering(class(1)).await;
    let session = desk
        .session(
            &offering,
            "2027-03-08T14:00:00+08:00",
            "2027-03-08T15:00:00+08:00",
        )
        .await;
    let (_, seat) = desk.book(&offering, erased, Some(&session)).await;
    let (_, queued) = desk.book(&offering, waiting, Some(&session)).await;
    assert_eq!(seat["status"], "confirmed", "{seat}");
    assert_eq!(queued["status"], "waitlisted", "{queued}");
    let (seat, queued) = (
        seat["id"].as_str().expect("id").to_owned(),
        queued["id"].as_str().expect("id").to_owned(),
    );

    let (status, body) = desk
        .post(
            &format!("/residents/{erased}/erasure"),
            json!({ "reason": "the resident's request" }),
        )
        .await;
    assert!(status.is_success(), "{body}");
    poll(
        "the waitlisted resident to get the erased resident's seat",
        EVENT_DEADLINE,
        || async {
            let (_, b) = desk.get(&format!("/bookings/{queued}")).await;
            (b["status"] == "confirmed").then_some(())
        },
    )
    .await;

    // The seat was given up the way a move-out gives it up, and kept nobody's name.
    let (_, given_up) = desk.get(&format!("/bookings/{seat}")).await;
    assert_eq!(given_up["status"], "cancelled", "{given_up}");
    assert_eq!(given_up["cancel_reason"], "erased", "{given_up}");
    assert!(given_up["resident_id"].is_null(), "{given_up}");
    let (_, promoted) = desk.get(&format!("/bookings/{queued}")).await;
    assert_eq!(promoted["resident_id"], waiting.as_str());
    assert_eq!(
        desk.outbox_count("bookings.booking.cancelled", &seat).await,
        1
    );
    assert_eq!(
        desk.outbox_count("bookings.booking.promoted", &queued)
            .await,
        1
    );
    let (_, sessions) = desk.get(&format!("/sessions?offering_id={offering}")).await;
    assert_eq!(sessions["sessions"][0]["confirmed"], 1, "{sessions}");
    assert_eq!(sessions["sessions"][0]["waitlisted"], 0, "{sessions}");

    // The past stays in the figures, anonymised: the check-up still counts one attendance.
    let (_, history) = desk
        .get(&format!("/bookings?session_id={past}&status=attended"))
        .await;
    let history = history["bookings"].as_array().expect("bookings").clone();
    assert_eq!(history.len(), 1, "{history:?}");
    assert_eq!(history[0]["id"], attended.as_str());
    assert!(history[0]["resident_id"].is_null(), "{:?}", history[0]);
    let pool = desk.platform.pool("bookings").await;
    let left: i64 = sqlx::query_scalar(
        "SELECT (SELECT count(*) FROM seats WHERE resident_id = $1::uuid)
              + (SELECT count(*) FROM bookings WHERE resident_id = $1::uuid)",
    )
    .bind(erased)
    .fetch_one(&pool)
    .await
    .expect("seats and bookings");
    assert_eq!(left, 0, "the erased resident is still on a booking or seat");
    pool.close().await;
    desk.stop().await;
}

#[tokio::test]
async fn a_weekly_series_keeps_its_local_start_across_an_offset_change() {
    let desk = Desk::open_in("Europe/London").await;
    let offering = desk
        .offering(json!({ "category": "elderly_care", "kind": "course", "name": "Chair yoga", "capacity": 12 }))
        .await;
    let (status, series) = desk
        .post(
            "/series",
            json!({ "offering_id": offering, "weekdays": [4], "start_time": "09:30", "duration_minutes": 60,
                    "starts_on": "2027-03-15", "count": 4 }),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{series}");
    let sessions = series["sessions"].as_array().expect("sessions");
    assert_eq!(sessions.len(), 4);
    let locals: Vec<&str> = sessions
        .iter()
        .map(|s| s["local_start"].as_str().expect("local"))
        .collect();
    assert_eq!(
        locals,
        [
            "2027-03-18T09:30",
            "2027-03-25T09:30",
            "2027-04-01T09:30",
            "2027-04-08T09:30"
        ]
    );
    // GMT before 28 March, BST after: the same 09:30 is an hour earlier in UTC.
    assert_eq!(sessions[1]["starts_at"], "2027-03-25T09:30:00Z");
    assert_eq!(sessions[2]["starts_at"], "2027-04-01T08:30:00Z");

    // Move the third and following to 10:00: the split keeps both halves in local time.
    let third = sessions[2]["id"].as_str().expect("id");
    let (status, moved) = desk
        .post(
            &format!("/sessions/{third}/move"),
            json!({ "starts_at": "2027-04-01T10:00:00+01:00", "scope": "this_and_following" }),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{moved}");
    let moved: Vec<&str> = moved["sessions"]
        .as_array()
        .expect("sessions")
        .iter()
        .map(|s| s["local_start"].as_str().expect("local"))
        .collect();
    assert_eq!(moved, ["2027-04-01T10:00", "2027-04-08T10:00"]);
    // Cancel only the last one: the rest of the series stands.
    let last = sessions[3]["id"].as_str().expect("id");
    let (status, _) = desk
        .post(
            &format!("/sessions/{last}/cancel"),
            json!({ "scope": "this" }),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (_, all) = desk.get(&format!("/sessions?offering_id={offering}")).await;
    let states: Vec<&str> = all["sessions"]
        .as_array()
        .expect("sessions")
        .iter()
        .map(|s| s["status"].as_str().expect("status"))
        .collect();
    assert_eq!(states, ["scheduled", "scheduled", "scheduled", "cancelled"]);
    desk.stop().await;
}

#[tokio::test]
async fn an_ineligible_resident_is_refused_with_the_reason() {
    let desk = Desk::open().await;
    let young = desk.resident("1990-06-01", &[]).await;
    let old = desk.resident("1950-06-01", &[]).await;
    let poor = desk.resident("1950-06-01", &["low_income"]).await;
    let elderly_only = desk
        .offering(json!({ "category": "elderly_care", "kind": "event", "name": "重阳节联欢", "capacity": 50, "min_age": 60 }))
        .await;
    let session = desk
        .session(
            &elderly_only,
            "2027-03-08T09:00:00+08:00",
            "2027-03-08T11:00:00+08:00",
        )
        .await;
    let (status, body) = desk.book(&elderly_only, &young, Some(&session)).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(
        body["detail"]
            .as_str()
            .expect("detail")
            .contains("60 and over"),
        "{body}"
    );
    let (status, _) = desk.book(&elderly_only, &old, Some(&session)).await;
    assert_eq!(status, StatusCode::CREATED);

    let meals = desk
        .offering(
            json!({ "category": "elderly_care", "kind": "event", "name": "助餐", "capacity": 50,
                          "eligible_categories": ["low_income"], "fee_minor": 1500,
                          "concessions": [{ "category": "low_income", "price_minor": 0 }] }),
        )
        .await;
    let lunch = desk
        .session(
            &meals,
            "2027-03-08T11:30:00+08:00",
            "2027-03-08T12:30:00+08:00",
        )
        .await;
    let (status, body) = desk.book(&meals, &old, Some(&lunch)).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        body["detail"]
            .as_str()
            .expect("detail")
            .contains("low_income"),
        "{body}"
    );
    let (status, body) = desk.book(&meals, &poor, Some(&lunch)).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["fee_minor"], 0, "the concession applies");
    assert_eq!(body["concession"], "low_income");
    // A bad offering is refused field by field.
    let (status, body) = desk
        .post("/offerings", json!({ "category": "nope", "kind": "event", "name": "", "capacity": 1, "min_age": 65 }))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let fields: HashSet<&str> = body["errors"]
        .as_array()
        .expect("errors")
        .iter()
        .map(|e| e["field"].as_str().expect("field"))
        .collect();
    assert_eq!(
        fields,
        HashSet::from(["offering.category", "offering.name", "min_age"])
    );
    desk.stop().await;
}

/// Once bookings has read an offering and a session, the next booking of them reads
/// neither: its one statement tests the resident's row itself. Each refusal below follows
/// a booking that put the offering and the session back in that memory.
#[tokio::test]
async fn a_resident_who_may_not_book_is_refused_when_the_offering_and_session_are_known() {
    let desk = Desk::open().await;
    let offering = desk
        .offering(json!({ "category": "elderly_care", "kind": "event", "name": "长者读书会", "capacity": 50,
                          "min_age": 60, "eligible_categories": ["living_alone"] }))
        .await;
    let session = desk
        .session(
            &offering,
            "2027-03-09T09:00:00+08:00",
            "2027-03-09T11:00:00+08:00",
        )
        .await;
    let young = desk.resident("1990-06-01", &["living_alone"]).await;
    let with_family = desk.resident("1950-06-01", &[]).await;
    let moved = desk.resident("1950-06-01", &["living_alone"]).await;
    let elsewhere = desk.resident("1950-06-01", &["living_alone"]).await;
    let pool = desk.platform.pool("bookings").await;
    // As the registry's events would leave them in bookings' own copy.
    sqlx::query("UPDATE directory.residents SET status = 'moved_out' WHERE id = $1::uuid")
        .bind(&moved)
        .execute(&pool)
        .await
        .expect("status");
    sqlx::query("UPDATE directory.residents SET centre_id = $2 WHERE id = $1::uuid")
        .bind(&elsewhere)
        .bind(Uuid::new_v4())
        .execute(&pool)
        .await
        .expect("centre");

    let cases = [
        (&young, "60 and over"),
        (&with_family, "living_alone"),
        (&moved, "moved out"),
        (&elsewhere, "not a resident of this centre"),
    ];
    for (resident, reason) in cases {
        let eligible = desk.resident("1950-06-01", &["living_alone"]).await;
        let (status, body) = desk.book(&offering, &eligible, Some(&session)).await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        let (status, body) = desk.book(&offering, resident, Some(&session)).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{reason}: {body}");
        assert!(
            body["detail"].as_str().expect("detail").contains(reason),
            "{reason}: {body}"
        );
    }
    let booked: Vec<Uuid> =
        sqlx::query_scalar("SELECT resident_id FROM bookings WHERE offering_id = $1::uuid")
            .bind(&offering)
            .fetch_all(&pool)
            .await
            .expect("bookings");
    assert_eq!(booked.len(), 4, "only the eligible are booked");
    for (resident, reason) in cases {
        let resident: Uuid = resident.parse().expect("uuid");
        assert!(!booked.contains(&resident), "{reason}: booked all the same");
    }
    let confirmed: i32 = sqlx::query_scalar("SELECT confirmed FROM sessions WHERE id = $1::uuid")
        .bind(&session)
        .fetch_one(&pool)
        .await
        .expect("session");
    assert_eq!(confirmed, 4);
    // What makes keeping offerings safe: none is changed once written.
    let changed = sqlx::query("UPDATE offerings SET name = 'renamed' WHERE id = $1::uuid")
        .bind(&offering)
        .execute(&pool)
        .await;
    assert!(changed.is_err(), "an offering was changed: {changed:?}");
    pool.close().await;
    desk.stop().await;
}

#[tokio::test]
async fn one_idempotency_key_sent_a_hundred_times_at_once_makes_one_booking_and_one_fee() {
    let desk = Desk::open().await;
    let resident = desk.resident("1985-01-01", &[]).await;
    let offering = desk
        .offering(json!({ "category": "health", "kind": "appointment", "name": "中医理疗", "capacity": 5, "fee_minor": 2000 }))
        .await;
    let session = desk
        .session(
            &offering,
            "2027-03-09T09:00:00+08:00",
            "2027-03-09T09:30:00+08:00",
        )
        .await;
    let body = json!({ "offering_id": offering, "resident_id": resident, "session_id": session });
    let results = join_all((0..100).map(|_| {
        desk.post_as(
            &desk.token,
            "/bookings",
            body.clone(),
            Some("desk-7-2027-03-09-0900"),
        )
    }))
    .await;
    let ids: HashSet<String> = results
        .iter()
        .map(|(status, b)| {
            assert_eq!(*status, StatusCode::CREATED, "{b}");
            b["id"].as_str().expect("id").to_owned()
        })
        .collect();
    assert_eq!(ids.len(), 1, "one booking for one key");
    let id = ids.into_iter().next().expect("one");
    let pool = desk.platform.pool("bookings").await;
    let bookings: i64 = sqlx::query_scalar("SELECT count(*) FROM bookings WHERE offering_id = $1")
        .bind(offering.parse::<Uuid>().expect("uuid"))
        .fetch_one(&pool)
        .await
        .expect("count");
    pool.close().await;
    assert_eq!(bookings, 1);
    assert_eq!(desk.outbox_count("bookings.fee.charged", &id).await, 1);

    let other = json!({ "offering_id": offering, "resident_id": resident, "session_id": session, "note": "changed" });
    let (status, refused) = desk
        .post_as(
            &desk.token,
            "/bookings",
            other,
            Some("desk-7-2027-03-09-0900"),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{refused}");
    assert!(
        refused["detail"]
            .as_str()
            .is_some_and(|d| d.contains("Idempotency-Key")),
        "{refused}"
    );
    desk.stop().await;
}

#[tokio::test]
async fn attendance_publishes_attended_and_delivered_exactly_once() {
    let desk = Desk::open().await;
    let resident = desk.resident("1945-01-01", &[]).await;
    let offering = desk
        .offering(json!({ "category": "health", "kind": "appointment", "name": "血压检测", "capacity": 3 }))
        .await;
    let now = chrono::Utc::now();
    let session = desk
        .session(
            &offering,
            &(now - chrono::Duration::minutes(5)).to_rfc3339(),
            &(now + chrono::Duration::hours(1)).to_rfc3339(),
        )
        .await;
    let (_, booking) = desk.book(&offering, &resident, Some(&session)).await;
    let id = booking["id"].as_str().expect("id").to_owned();
    let path = format!("/bookings/{id}/check-in");
    let (a, b) = tokio::join!(desk.post(&path, json!({})), desk.post(&path, json!({})));
    assert_eq!(a.0, StatusCode::OK, "{}", a.1);
    assert_eq!(b.0, StatusCode::OK, "{}", b.1);
    // Both answers, the one that checked in and the one that found it done, say so.
    for (_, body) in [&a, &b] {
        assert_eq!(body["status"], "attended", "{body}");
        assert_eq!(body["seats"][0]["session_id"], session.as_str(), "{body}");
        assert_eq!(body["seats"][0]["state"], "attended", "{body}");
    }
    let (status, body) = desk.post(&path, json!({})).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["status"], "attended");
    assert_eq!(desk.outbox_count("bookings.booking.attended", &id).await, 1);
    assert_eq!(
        desk.outbox_count("bookings.service.delivered", &id).await,
        1
    );
    // Both reach the broker: the relay marks them published.
    let pool = desk.platform.pool("bookings").await;
    poll("the attendance events to be published", EVENT_DEADLINE, || {
        let pool = pool.clone();
        async move {
            let pending: i64 = sqlx::query_scalar(
                "SELECT count(*) FROM outbox WHERE routing_key IN ('bookings.booking.attended', 'bookings.service.delivered')
                 AND published_at IS NULL",
            )
            .fetch_one(&pool)
            .await
            .ok()?;
            (pending == 0).then_some(())
        }
    })
    .await;
    pool.close().await;
    // A cancelled booking cannot be checked in.
    let (_, other) = desk
        .book(
            &offering,
            &desk.resident("1946-01-01", &[]).await,
            Some(&session),
        )
        .await;
    let other = other["id"].as_str().expect("id").to_owned();
    desk.post(&format!("/bookings/{other}/cancel"), json!({}))
        .await;
    let (status, body) = desk
        .post(&format!("/bookings/{other}/check-in"), json!({}))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        body["detail"]
            .as_str()
            .expect("detail")
            .contains("cancelled")
    );
    desk.stop().await;
}

#[tokio::test]
async fn a_session_that_ended_without_a_check_in_becomes_a_no_show_by_itself() {
    let desk = Desk::open().await;
    let resident = desk.resident("1950-01-01", &[]).await;
    let offering = desk
        .offering(json!({ "category": "health", "kind": "appointment", "name": "家庭医生咨询", "capacity": 1 }))
        .await;
    let now = chrono::Utc::now();
    let session = desk
        .session(
            &offering,
            &(now - chrono::Duration::minutes(30)).to_rfc3339(),
            &(now + chrono::Duration::seconds(3)).to_rfc3339(),
        )
        .await;
    let (status, booking) = desk.book(&offering, &resident, Some(&session)).await;
    assert_eq!(status, StatusCode::CREATED, "{booking}");
    let id = booking["id"].as_str().expect("id").to_owned();
    poll(
        "the booking to become a no-show",
        EVENT_DEADLINE,
        || async {
            let (_, b) = desk.get(&format!("/bookings/{id}")).await;
            (b["status"] == "no_show").then_some(())
        },
    )
    .await;
    assert_eq!(desk.outbox_count("bookings.booking.no_show", &id).await, 1);
    desk.stop().await;
}

#[tokio::test]
async fn a_weekly_series_that_clashes_in_its_fifth_week_is_refused_and_enrolment_checks_every_session()
 {
    let desk = Desk::open().await;
    let room = desk.room("教室一").await;
    let hire = desk
        .offering(json!({ "category": "facilities", "kind": "facility", "name": "教室租用", "facility_id": room }))
        .await;
    // Monday 2027-03-29, the fifth Monday from 1 March, 09:00–10:00 is already taken.
    let (status, body) = desk
        .post(
            "/bookings",
            json!({ "offering_id": hire, "starts_at": "2027-03-29T09:30:00+08:00", "ends_at": "2027-03-29T10:30:00+08:00" }),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let course = desk
        .offering(json!({ "category": "culture_education", "kind": "course", "name": "书法班", "capacity": 2, "facility_id": room }))
        .await;
    let series = json!({ "offering_id": course, "weekdays": [1], "start_time": "09:00", "duration_minutes": 60,
                         "starts_on": "2027-03-01", "count": 8 });
    let (status, body) = desk.post("/series", series).await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    let detail = body["detail"].as_str().expect("detail");
    assert!(
        detail.contains("2027-03-29"),
        "the clash names the week: {detail}"
    );
    let (_, sessions) = desk.get(&format!("/sessions?offering_id={course}")).await;
    assert_eq!(
        sessions["sessions"],
        json!([]),
        "nothing of the series was created"
    );

    // Four weeks fit; an extra session with one seat makes the second enrolment wait.
    let (status, body) = desk
        .post(
            "/series",
            json!({ "offering_id": course, "weekdays": [1], "start_time": "09:00", "duration_minutes": 60,
                    "starts_on": "2027-03-01", "count": 4 }),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let (status, body) = desk
        .post(
            "/sessions",
            json!({ "offering_id": course, "starts_at": "2027-04-05T14:00:00+08:00", "ends_at": "2027-04-05T15:00:00+08:00", "capacity": 1 }),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let residents = desk.residents(2).await;
    let (_, first) = desk.book(&course, &residents[0], None).await;
    assert_eq!(first["status"], "confirmed", "{first}");
    assert_eq!(first["seats"].as_array().expect("seats").len(), 5);
    let (_, second) = desk.book(&course, &residents[1], None).await;
    assert_eq!(
        second["status"], "waitlisted",
        "the fifth session is full: {second}"
    );
    desk.stop().await;
}

#[tokio::test]
async fn another_centres_staff_cannot_read_or_book_here() {
    let desk = Desk::open().await;
    let offering = desk.offering(class(5)).await;
    let elsewhere = desk.platform.token(&[Role::FrontDesk], &[Uuid::new_v4()]);
    let response = desk
        .platform
        .http
        .get(desk.url("/bookings"))
        .bearer_auth(&elsewhere)
        .send()
        .await
        .expect("answer");
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    let (status, _) = desk
        .post_as(
            &elsewhere,
            "/bookings",
            json!({ "offering_id": offering, "resident_id": Uuid::new_v4() }),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    // An auditor of this centre reads, but never books.
    let auditor = desk.platform.token(&[Role::Auditor], &[desk.centre]);
    let (status, _) = desk
        .post_as(
            &auditor,
            "/bookings",
            json!({ "offering_id": offering, "resident_id": Uuid::new_v4() }),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    desk.stop().await;
}

/// The fast path books with one statement that tests the resident's row itself; the full
/// path loads the resident and asks the domain's `decide`. Both must admit the same
/// people, or tightening a rule in one would let the other book whom it refuses. Residents
/// of every age band (and one the registry does not publish), several sets of categories
/// and every status, at this centre and another, are written to bookings' directory; for
/// each offering rule (every age limit, several category requirements) the statement's
/// test of their rows, run by PostgreSQL, admits exactly those `decide` admits.
#[tokio::test]
async fn the_fast_paths_statement_admits_exactly_whom_decide_admits() {
    use linli_bookings::domain::booking::{self, SessionState, Terms, Wanted, Who};
    use linli_bookings::domain::eligibility::{self, Applicant, Eligibility};
    use linli_bookings::domain::ids::{CentreId, OfferingId, SessionId};
    use linli_bookings::domain::{Kind, SessionStatus};

    let desk = Desk::open().await;
    let pool = desk.platform.pool("bookings").await;
    let elsewhere = Uuid::new_v4();
    let bands = ["0-13", "14-17", "18-59", "60-79", "80+", "unknown"];
    let resident_categories: [&[&str]; 4] = [
        &[],
        &["elderly"],
        &["disabled", "veteran"],
        &["low_income", "elderly"],
    ];
    let mut residents = Vec::new();
    for centre in [desk.centre, elsewhere] {
        for band in bands {
            for categories in resident_categories {
                for status in eligibility::RESIDENT_STATUSES {
                    let id = Uuid::new_v4();
                    sqlx::query(
                        "INSERT INTO directory.residents (id, centre_id, age_band, categories, status, registered_at)
                         VALUES ($1, $2, $3, $4, $5, now())",
                    )
                    .bind(id)
                    .bind(centre)
                    .bind(band)
                    .bind(categories)
                    .bind(status.as_str())
                    .execute(&pool)
                    .await
                    .expect("resident written to the directory");
                    residents.push(id);
                }
            }
        }
    }
    // Each resident as the full path loads them.
    let loaded: Vec<(Uuid, Uuid, String, Vec<String>, String)> = sqlx::query_as(
        "SELECT id, centre_id, age_band, categories, status FROM directory.residents
         WHERE id = ANY($1) ORDER BY id",
    )
    .bind(&residents)
    .fetch_all(&pool)
    .await
    .expect("residents read back");
    assert_eq!(loaded.len(), 2 * 6 * 4 * 3);

    let now = chrono::Utc::now();
    let open = [SessionState {
        id: SessionId::new(),
        status: SessionStatus::Scheduled,
        starts_at: now + chrono::Duration::days(1),
        ends_at: now + chrono::Duration::days(1) + chrono::Duration::hours(1),
        local_start: (now + chrono::Duration::days(1)).naive_utc(),
        capacity: 10,
        confirmed: 0,
        mine: false,
    }];
    let wanted = Wanted::Sessions {
        named: Some(open[0].id),
        locked: &open,
    };
    let minima = [None, Some(0), Some(14), Some(18), Some(60), Some(80)];
    let maxima = [None, Some(13), Some(17), Some(59), Some(79)];
    let needed: [Vec<String>; 4] = [
        vec![],
        vec!["elderly".into()],
        vec!["elderly".into(), "disabled".into()],
        vec!["low_income".into()],
    ];
    let (mut compared, mut admitted) = (0, 0);
    for min_age in minima {
        for max_age in maxima {
            for categories in &needed {
                let eligibility = Eligibility {
                    min_age,
                    max_age,
                    categories,
                };
                let terms = Terms {
                    id: OfferingId::new(),
                    centre: CentreId::from(desk.centre),
                    kind: Kind::Event,
                    active: true,
                    eligibility,
                    fee_minor: 0,
                    concessions: &[],
                    facility: None,
                };
                let by_decide: Vec<Uuid> = loaded
                    .iter()
                    .filter(|(_, centre, band, categories, status)| {
                        let who = Who::Resident {
                            centre: CentreId::from(*centre),
                            applicant: Applicant {
                                age_band: band,
                                categories,
                                status: eligibility::resident_status(status)
                                    .expect("a status the directory keeps"),
                            },
                        };
                        booking::decide(&terms, &who, &wanted, now).is_ok()
                    })
                    .map(|(id, ..)| *id)
                    .collect();
                let by_statement = linli_bookings::store::admitted_by_row_test(
                    &pool,
                    desk.centre,
                    &residents,
                    &eligibility.row_test(),
                )
                .await
                .expect("the row test runs");
                assert_eq!(
                    by_statement, by_decide,
                    "ages {min_age:?}–{max_age:?}, needs one of {categories:?}"
                );
                compared += loaded.len();
                admitted += by_decide.len();
            }
        }
    }
    assert_eq!(compared, 6 * 5 * 4 * 144);
    // Not a vacuous agreement: some rules admit some residents, and most are refused.
    assert!(
        admitted > 0 && admitted < compared / 2,
        "{admitted} of {compared}"
    );
    pool.close().await;
    desk.stop().await;
}

/// A cancellation over HTTP says why (kept as the booking's reason; none means the
/// resident asked), and its reply names whom the waitlist gave the seat; a reason longer
/// than 200 characters is refused naming it, and nothing is cancelled.
#[tokio::test]
async fn a_cancellation_keeps_its_reason_and_its_reply_names_the_resident_promoted() {
    let desk = Desk::open().await;
    let first = desk.resident("1950-01-01", &[]).await;
    let second = desk.resident("1951-01-01", &[]).await;
    let offering = desk
        .offering(json!({ "category": "culture_education", "kind": "event", "name": "剪纸课", "capacity": 1 }))
        .await;
    let session = desk
        .session(
            &offering,
            "2027-03-02T10:00:00+08:00",
            "2027-03-02T11:00:00+08:00",
        )
        .await;
    let (status, held) = desk.book(&offering, &first, Some(&session)).await;
    assert_eq!(status, StatusCode::CREATED, "{held}");
    let (status, waiting) = desk.book(&offering, &second, Some(&session)).await;
    assert_eq!(status, StatusCode::CREATED, "{waiting}");
    let held = held["id"].as_str().expect("id").to_owned();

    let (status, problem) = desk
        .post(
            &format!("/bookings/{held}/cancel"),
            json!({ "reason": "长".repeat(201) }),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{problem}");
    assert!(problem.to_string().contains("reason"), "{problem}");
    let (_, still) = desk.get(&format!("/bookings/{held}")).await;
    assert_eq!(still["status"], "confirmed", "nothing was cancelled");

    let (status, cancelled) = desk
        .post(
            &format!("/bookings/{held}/cancel"),
            json!({ "reason": "家中有事" }),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{cancelled}");
    assert_eq!(cancelled["status"], "cancelled");
    assert_eq!(cancelled["cancel_reason"], "家中有事");
    assert_eq!(
        cancelled["promoted_resident_ids"],
        json!([second]),
        "the reply names whom the waitlist gave the seat"
    );
    let (_, promoted) = desk
        .get(&format!(
            "/bookings/{}",
            waiting["id"].as_str().expect("id")
        ))
        .await;
    assert_eq!(promoted["status"], "confirmed");
    desk.stop().await;
}
