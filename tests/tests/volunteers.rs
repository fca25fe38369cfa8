//! Service volunteers end to end: the whole platform on the real PostgreSQL and RabbitMQ,
//! residents registered through the registry and known to volunteers through its events,
//! every call through the gateway.

use std::time::Duration;

use chrono::{Datelike, Duration as Days, NaiveDate, Utc};
use futures::future::join_all;
use linli_platform::auth::Role;
use linli_proto::events::v1::{CertificationExpiring, HoursMilestoneReached, TrainingCompleted};
use linli_tests::{TestPlatform, poll};
use prost::Message;
use reqwest::StatusCode;
use serde_json::{Value, json};
use uuid::Uuid;

const EVENT_DEADLINE: Duration = Duration::from_secs(30);

/// A centre's volunteer office: the platform, the centre, a manager's token and a second
/// coordinator (another person) who verifies what the first logged.
struct Office {
    platform: TestPlatform,
    centre: Uuid,
    token: String,
    verifier: String,
}

impl Office {
    async fn open() -> Office {
        let platform = TestPlatform::start().await;
        Office::at(platform).await
    }

    async fn at(platform: TestPlatform) -> Office {
        let centre = platform.volunteering_centre("Asia/Shanghai").await;
        Office::of(platform, centre)
    }

    fn of(platform: TestPlatform, centre: Uuid) -> Office {
        let token = platform.token(&[Role::CentreManager], &[centre]);
        let verifier = platform.keys.issue(
            "coordinator-2",
            &[Role::Coordinator],
            &[centre],
            chrono::Duration::hours(1),
        );
        Office {
            platform,
            centre,
            token,
            verifier,
        }
    }

    fn url(&self, path: &str) -> String {
        format!(
            "{}/v1/centres/{}{}",
            self.platform.gateway, self.centre, path
        )
    }

    async fn post_as(&self, token: &str, path: &str, body: Value) -> (StatusCode, Value) {
        let response = self
            .platform
            .http
            .post(self.url(path))
            .bearer_auth(token)
            .json(&body)
            .send()
            .await
            .expect("gateway answers");
        let status = response.status();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    async fn post(&self, path: &str, body: Value) -> (StatusCode, Value) {
        self.post_as(&self.token, path, body).await
    }

    async fn created(&self, path: &str, body: Value) -> Value {
        let (status, reply) = self.post(path, body).await;
        assert_eq!(status, StatusCode::CREATED, "{path}: {reply}");
        reply
    }

    async fn get_as(&self, token: &str, path: &str) -> (StatusCode, Value) {
        let response = self
            .platform
            .http
            .get(self.url(path))
            .bearer_auth(token)
            .send()
            .await
            .expect("gateway answers");
        let status = response.status();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    async fn get(&self, path: &str) -> Value {
        let (status, reply) = self.get_as(&self.token, path).await;
        assert_eq!(status, StatusCode::OK, "{path}: {reply}");
        reply
    }

    /// Registers an adult resident through the registry and waits until volunteers knows them.
    async fn resident(&self) -> String {
        let (status, body) = self
            .post(
                "/residents",
                json!({ "name": "陈静", "gender": "female", "date_of_birth": "1975-04-01", "confirm_not_duplicate": true }),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        let id = body["id"].as_str().expect("resident id").to_owned();
        self.platform
            .wait_for_residents_in_volunteers(&[id.parse().expect("uuid")])
            .await;
        id
    }

    /// A resident registered as a volunteer with `profile` (skills, availability, ...).
    async fn volunteer(&self, mut profile: Value) -> String {
        profile["resident_id"] = json!(self.resident().await);
        let body = self.created("/volunteers", profile).await;
        body["id"].as_str().expect("volunteer id").to_owned()
    }

    async fn opportunity(&self, body: Value) -> String {
        self.created("/opportunities", body).await["id"]
            .as_str()
            .expect("opportunity id")
            .to_owned()
    }

    /// A shift on `day` from `from` to `to` (HH:MM, Shanghai time).
    async fn shift(
        &self,
        opportunity: &str,
        day: NaiveDate,
        from: &str,
        to: &str,
        capacity: i32,
    ) -> String {
        let body = json!({
            "opportunity_id": opportunity,
            "starts_at": format!("{day}T{from}:00+08:00"),
            "ends_at": format!("{day}T{to}:00+08:00"),
            "capacity": capacity,
        });
        self.created("/shifts", body).await["id"]
            .as_str()
            .expect("shift id")
            .to_owned()
    }

    async fn certify(&self, holder: &str, kind: &str, expires_on: NaiveDate) -> String {
        let body = json!({ "holder_id": holder, "kind": kind, "issuer": "区红十字会",
            "number": format!("RC-{}", &Uuid::new_v4().simple().to_string()[..8]),
            "expires_on": expires_on.to_string() });
        self.created("/certifications", body).await["id"]
            .as_str()
            .expect("certification id")
            .to_owned()
    }

    /// Hours logged by the desk and verified by the second coordinator.
    async fn verified_hours(&self, volunteer: &str, worked_on: NaiveDate, minutes: i32) {
        let entry = self
            .created("/hours", json!({ "volunteer_id": volunteer, "worked_on": worked_on.to_string(), "minutes": minutes }))
            .await;
        let id = entry["id"].as_str().expect("entry id");
        let (status, body) = self
            .post_as(
                &self.verifier,
                &format!("/hours/{id}/verification"),
                json!({ "approve": true }),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body["status"], "verified");
    }

    /// Outbox payloads of the volunteers service under `routing_key`.
    async fn outbox<E: Message + Default>(&self, routing_key: &str) -> Vec<E> {
        let pool = self.platform.pool("volunteers").await;
        let payloads: Vec<Vec<u8>> =
            sqlx::query_scalar("SELECT payload FROM outbox WHERE routing_key = $1 ORDER BY seq")
                .bind(routing_key)
                .fetch_all(&pool)
                .await
                .expect("outbox readable");
        pool.close().await;
        payloads
            .iter()
            .map(|p| E::decode(p.as_slice()).expect("a valid payload"))
            .collect()
    }

    async fn sign_up(&self, shift: &str, volunteer: &str) -> (StatusCode, Value) {
        self.post(
            &format!("/shifts/{shift}/sign-ups"),
            json!({ "volunteer_id": volunteer }),
        )
        .await
    }

    /// How often the expiry of `certification` was announced.
    async fn expiring(&self, certification: &str) -> usize {
        self.outbox::<CertificationExpiring>("volunteers.certification.expiring")
            .await
            .into_iter()
            .filter(|e| e.certification_id == certification)
            .count()
    }

    /// The milestones announced, in order of hours.
    async fn milestones(&self) -> Vec<i32> {
        let mut hours: Vec<i32> = self
            .outbox::<HoursMilestoneReached>("volunteers.hours.milestone_reached")
            .await
            .into_iter()
            .map(|e| e.milestone_hours)
            .collect();
        hours.sort();
        hours
    }

    async fn complete(&self, course: &str, person: &str, on: NaiveDate) {
        self.created(
            &format!("/courses/{course}/completions"),
            json!({ "person_id": person, "completed_on": on.to_string() }),
        )
        .await;
    }

    async fn unpublished(&self) -> i64 {
        let pool = self.platform.pool("volunteers").await;
        let n = sqlx::query_scalar("SELECT count(*) FROM outbox WHERE published_at IS NULL")
            .fetch_one(&pool)
            .await
            .expect("outbox readable");
        pool.close().await;
        n
    }

    async fn stop(self) {
        self.platform.stop().await;
    }
}

/// Today in the test centre's zone (Asia/Shanghai).
fn today() -> NaiveDate {
    (Utc::now() + Days::hours(8)).date_naive()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn overlapping_sign_ups_for_one_volunteer_at_once_succeed_exactly_once() {
    let office = Office::open().await;
    let volunteer = office.volunteer(json!({ "skills": ["cooking"] })).await;
    let opportunity = office.opportunity(json!({ "title": "助餐点帮厨" })).await;
    let day = today() + Days::days(3);
    // Twelve shifts, each overlapping every other: 09:00–12:00, 09:10–12:10, ...
    let mut shifts = Vec::new();
    for i in 0..12 {
        let (from, to) = (format!("09:{:02}", i * 4), format!("12:{:02}", i * 4));
        shifts.push(office.shift(&opportunity, day, &from, &to, 5).await);
    }

    let answers = join_all(shifts.iter().map(|shift| office.sign_up(shift, &volunteer))).await;

    let signed: Vec<&(StatusCode, Value)> = answers
        .iter()
        .filter(|(s, _)| *s == StatusCode::CREATED)
        .collect();
    assert_eq!(signed.len(), 1, "exactly one sign-up succeeds: {answers:?}");
    for (status, body) in answers.iter().filter(|(s, _)| *s != StatusCode::CREATED) {
        assert_eq!(*status, StatusCode::CONFLICT, "{body}");
        assert!(
            body["detail"]
                .as_str()
                .unwrap_or_default()
                .contains("overlapping shift"),
            "{body}"
        );
    }
    let pool = office.platform.pool("volunteers").await;
    let (held, places): (i64, i64) = sqlx::query_as(
        "SELECT (SELECT count(*) FROM assignments WHERE volunteer_id = $1 AND status <> 'withdrawn'),
                (SELECT sum(signed_up) FROM shifts WHERE id = ANY($2))",
    )
    .bind(volunteer.parse::<Uuid>().unwrap())
    .bind(shifts.iter().map(|s| s.parse::<Uuid>().unwrap()).collect::<Vec<_>>())
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!((held, places), (1, 1), "one assignment, one place taken");

    // Back to back is fine: 12:48–14:00 starts after the last overlapping shift ends.
    let later = office.shift(&opportunity, day, "12:44", "14:00", 5).await;
    let (status, body) = office
        .post(
            &format!("/shifts/{later}/sign-ups"),
            json!({ "volunteer_id": volunteer }),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    pool.close().await;
    office.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_expired_certification_blocks_the_assignment_with_the_reason() {
    let office = Office::open().await;
    let opportunity = office
        .opportunity(json!({ "title": "健康讲座急救员", "required_certifications": ["first_aid"] }))
        .await;
    let day = today() + Days::days(5);
    let shift = office.shift(&opportunity, day, "14:00", "16:00", 3).await;
    let lapsed = office.volunteer(json!({})).await;
    let expired_on = day - Days::days(1);
    office.certify(&lapsed, "first_aid", expired_on).await;
    let uncertified = office.volunteer(json!({})).await;

    let (status, body) = office
        .post(
            &format!("/shifts/{shift}/sign-ups"),
            json!({ "volunteer_id": lapsed }),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(
        body["detail"],
        format!(
            "not qualified: first_aid certification expired on {expired_on}, before the shift on {day}"
        )
    );
    let (status, body) = office
        .post(
            &format!("/shifts/{shift}/sign-ups"),
            json!({ "volunteer_id": uncertified }),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(
        body["detail"],
        "not qualified: needs a first_aid certification and holds none"
    );

    // Valid on the shift's day (expiring that very day) is enough.
    office.certify(&lapsed, "first_aid", day).await;
    let (status, body) = office
        .post(
            &format!("/shifts/{shift}/sign-ups"),
            json!({ "volunteer_id": lapsed }),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let shifts = office.get("/shifts").await;
    assert_eq!(
        shifts["shifts"][0]["signed_up"], 1,
        "only the qualified sign-up took a place"
    );
    office.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn matching_ranks_the_qualified_and_available_first_and_excludes_the_rest_with_reasons() {
    let office = Office::open().await;
    let day = today() + Days::days(4);
    let weekday = day.weekday().number_from_monday();
    let morning = json!([{ "weekday": weekday, "starts": "08:00", "ends": "12:00" }]);
    let evening = json!([{ "weekday": weekday, "starts": "18:00", "ends": "21:00" }]);
    let skills = json!(["elderly_care", "cooking"]);
    let opportunity = office
        .opportunity(json!({ "title": "长者食堂送餐", "required_skills": skills,
            "required_certifications": ["food_hygiene"] }))
        .await;
    let shift = office.shift(&opportunity, day, "09:00", "11:00", 4).await;
    let valid = day + Days::days(200);

    let best = office
        .volunteer(json!({ "display_name": "best", "skills": skills, "availability": morning }))
        .await;
    let loaded = office
        .volunteer(json!({ "display_name": "loaded", "skills": skills, "availability": morning }))
        .await;
    let half = office
        .volunteer(
            json!({ "display_name": "half", "skills": ["cooking"], "availability": morning }),
        )
        .await;
    let evenings = office
        .volunteer(json!({ "display_name": "evenings", "skills": skills, "availability": evening }))
        .await;
    let uncertified = office
        .volunteer(
            json!({ "display_name": "uncertified", "skills": skills, "availability": morning }),
        )
        .await;
    let expired = office
        .volunteer(json!({ "display_name": "expired", "skills": skills, "availability": morning }))
        .await;
    let busy = office
        .volunteer(json!({ "display_name": "busy", "skills": skills, "availability": morning }))
        .await;
    let paused = office
        .volunteer(json!({ "display_name": "paused", "skills": skills, "availability": morning }))
        .await;
    for v in [&best, &loaded, &half, &evenings, &busy, &paused] {
        office.certify(v, "food_hygiene", valid).await;
    }
    office
        .certify(&expired, "food_hygiene", day - Days::days(1))
        .await;
    // Ten verified hours last week weigh on "loaded".
    office
        .verified_hours(&loaded, today() - Days::days(1), 600)
        .await;
    // "busy" is already on an overlapping shift elsewhere.
    let other = office.opportunity(json!({ "title": "图书角值守" })).await;
    let clash = office.shift(&other, day, "10:00", "12:00", 2).await;
    let (status, body) = office
        .post(
            &format!("/shifts/{clash}/sign-ups"),
            json!({ "volunteer_id": busy }),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let (status, _) = office
        .post(
            &format!("/volunteers/{paused}/status"),
            json!({ "status": "paused" }),
        )
        .await;
    assert_eq!(status, StatusCode::OK);

    let matches = office.get(&format!("/shifts/{shift}/matches")).await;
    let ranked: Vec<&str> = matches["ranked"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["volunteer_id"].as_str().unwrap())
        .collect();
    assert_eq!(ranked, [&best, &loaded, &half, &evenings], "{matches:#}");
    assert_eq!(matches["ranked"][0]["available"], true);
    assert_eq!(matches["ranked"][3]["available"], false);
    let reasons = |list: &str, id: &str| -> Vec<String> {
        matches[list]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["volunteer_id"] == id)
            .map(|c| {
                c["reasons"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|r| r.as_str().unwrap().to_owned())
                    .collect()
            })
            .unwrap_or_default()
    };
    assert!(reasons("ranked", &best).contains(&"available for the whole shift".to_owned()));
    assert!(reasons("ranked", &best).contains(&"has every required skill".to_owned()));
    assert!(
        reasons("ranked", &loaded).contains(&"10.0 verified hours in the last 30 days".to_owned())
    );
    assert!(reasons("ranked", &half).contains(&"lacks elderly_care".to_owned()));
    assert!(
        reasons("ranked", &evenings).contains(&"no availability window at this time".to_owned())
    );

    let excluded: Vec<&str> = matches["excluded"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["volunteer_id"].as_str().unwrap())
        .collect();
    assert_eq!(excluded.len(), 3, "{matches:#}");
    assert_eq!(
        reasons("excluded", &uncertified),
        ["needs a food_hygiene certification and holds none"]
    );
    assert_eq!(
        reasons("excluded", &expired),
        [format!(
            "food_hygiene certification expired on {}, before the shift on {day}",
            day - Days::days(1)
        )]
    );
    assert_eq!(
        reasons("excluded", &busy),
        ["already on an overlapping shift"]
    );
    assert!(
        !ranked.contains(&paused.as_str()) && !excluded.contains(&paused.as_str()),
        "a paused volunteer is not offered"
    );
    office.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn expiry_and_milestone_notices_are_published_once_each_also_after_a_restart() {
    let office = Office::open().await;
    let volunteer = office.volunteer(json!({ "skills": ["tutoring"] })).await;
    let soon = office
        .certify(&volunteer, "first_aid", today() + Days::days(10))
        .await;
    let far = office
        .certify(&volunteer, "teacher_certificate", today() + Days::days(200))
        .await;
    poll(
        "the expiry sweep to announce the certification",
        EVENT_DEADLINE,
        || async { (office.expiring(&soon).await == 1).then_some(()) },
    )
    .await;
    let notice: Vec<CertificationExpiring> =
        office.outbox("volunteers.certification.expiring").await;
    assert_eq!(notice[0].days_left, 10);
    assert_eq!(notice[0].kind, "first_aid");
    // The sweep run by hand again finds nothing left to announce.
    let pool = office.platform.pool("volunteers").await;
    let again = linli_volunteers::store::announce_expiring(&pool, Utc::now(), 30)
        .await
        .unwrap();
    assert_eq!(again, 0);
    pool.close().await;

    // 50 hours: three verified entries of 1000 minutes.
    for day in 1..=3 {
        office
            .verified_hours(&volunteer, today() - Days::days(day), 1000)
            .await;
    }
    assert_eq!(office.milestones().await, [50]);
    poll(
        "every event to reach the broker",
        EVENT_DEADLINE,
        || async { (office.unpublished().await == 0).then_some(()) },
    )
    .await;

    // Every role restarts on the same databases and broker.
    let Office {
        platform, centre, ..
    } = office;
    let office = Office::of(platform.restart().await, centre);
    let later = office
        .certify(&volunteer, "first_aid", today() + Days::days(20))
        .await;
    poll(
        "the restarted sweep to announce the new certification",
        EVENT_DEADLINE,
        || async { (office.expiring(&later).await == 1).then_some(()) },
    )
    .await;
    assert_eq!(
        office.expiring(&soon).await,
        1,
        "announced once, not again after the restart"
    );
    assert_eq!(
        office.expiring(&far).await,
        0,
        "200 days ahead is outside the notice period"
    );

    // 51 hours: 50 is not published again; 100 hours: published once.
    office.verified_hours(&volunteer, today(), 60).await;
    assert_eq!(office.milestones().await, [50]);
    for day in 4..=6 {
        office
            .verified_hours(&volunteer, today() - Days::days(day), 1000)
            .await;
    }
    assert_eq!(office.milestones().await, [50, 100]);
    let totals = office.get("/hours-totals").await;
    assert_eq!(totals["verified_minutes"], 6060);
    assert_eq!(totals["volunteers"][0]["milestones"], json!([50, 100]));
    office.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn training_coverage_equals_a_direct_count_on_seeded_data() {
    let office = Office::open().await;
    let today = today();
    let course = office
        .created(
            "/courses",
            json!({ "title": "服务礼仪与沟通", "audience": "all", "minutes": 120 }),
        )
        .await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let positions = [
        "nurse",
        "doctor",
        "teacher",
        "social_worker",
        "manager",
        "government_affairs_clerk",
    ];
    let mut staff = Vec::new();
    for i in 0..14 {
        let body = json!({ "name": format!("员工{i}"), "position": positions[i % positions.len()],
            "employed_from": (today - Days::days(800 - i as i64 * 10)).to_string() });
        staff.push(
            office.created("/staff", body).await["id"]
                .as_str()
                .unwrap()
                .to_owned(),
        );
    }
    // Two left (one trained recently), one joins next month.
    for (who, until) in [
        (&staff[0], today - Days::days(30)),
        (&staff[1], today - Days::days(1)),
    ] {
        let (status, body) = office
            .post(
                &format!("/staff/{who}/end"),
                json!({ "employed_until": until.to_string() }),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }
    office
        .created("/staff", json!({ "name": "新员工", "position": "nurse", "employed_from": (today + Days::days(30)).to_string() }))
        .await;
    // Trained: 0 (left), 2..=9 within 12 months (3 twice), 10 thirteen months ago, a volunteer.
    office
        .complete(&course, &staff[0], today - Days::days(60))
        .await;
    for (i, who) in staff.iter().enumerate().take(10).skip(2) {
        office
            .complete(&course, who, today - Days::days(i as i64 * 30))
            .await;
    }
    office
        .complete(&course, &staff[3], today - Days::days(5))
        .await;
    office
        .complete(&course, &staff[10], today - Days::days(400))
        .await;
    let volunteer = office.volunteer(json!({})).await;
    office
        .complete(&course, &volunteer, today - Days::days(3))
        .await;
    // The same completion recorded twice is one fact.
    office
        .complete(&course, &staff[2], today - Days::days(60))
        .await;

    // The direct count, from the rows themselves.
    let pool = office.platform.pool("volunteers").await;
    let rows: Vec<(Uuid, NaiveDate, Option<NaiveDate>)> =
        sqlx::query_as("SELECT id, employed_from, employed_until FROM staff WHERE centre_id = $1")
            .bind(office.centre)
            .fetch_all(&pool)
            .await
            .unwrap();
    let done: Vec<(Uuid, NaiveDate)> = sqlx::query_as(
        "SELECT person_id, completed_on FROM completions WHERE person_kind = 'staff'",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    let year_ago = today
        .with_year(today.year() - 1)
        .unwrap_or(today - Days::days(365));
    let active: Vec<Uuid> = rows
        .iter()
        .filter(|(_, from, until)| *from <= today && until.is_none_or(|u| u >= today))
        .map(|(id, _, _)| *id)
        .collect();
    let trained = active
        .iter()
        .filter(|id| {
            done.iter()
                .any(|(who, on)| who == *id && *on > year_ago && *on <= today)
        })
        .count() as i64;
    assert_eq!(
        (active.len(), trained),
        (12, 8),
        "seeded: 12 active staff, 8 trained within the year"
    );

    let coverage = office.get("/training-coverage").await;
    assert_eq!(coverage["active_staff"], active.len() as i64);
    assert_eq!(coverage["trained_staff"], trained);
    let ratio = coverage["coverage"].as_f64().unwrap();
    assert!(
        (ratio - trained as f64 / active.len() as f64).abs() < 1e-9,
        "{coverage}"
    );
    assert_eq!(coverage["target"], 0.9);

    let events: Vec<TrainingCompleted> = office.outbox("volunteers.training.completed").await;
    assert_eq!(
        events.len(),
        12,
        "one event per completion, the repeat not counted"
    );
    assert_eq!(
        events
            .iter()
            .filter(|e| e.person_kind == "volunteer")
            .count(),
        1
    );
    pool.close().await;
    office.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_child_under_14_cannot_volunteer_and_14_to_17_need_a_guardians_consent() {
    let office = Office::open().await;
    let today = today();
    let born_years_ago = |years: i32| {
        NaiveDate::from_ymd_opt(today.year() - years, 1, 1)
            .expect("1 January")
            .to_string()
    };
    let mut residents = Vec::new();
    for (name, years) in [("小明", 8), ("小红", 16), ("小刚", 16), ("张伟", 30)] {
        let (status, body) = office
            .post(
                "/residents",
                json!({ "name": name, "gender": "male", "date_of_birth": born_years_ago(years) }),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        residents.push(body["id"].as_str().expect("resident id").to_owned());
    }
    let ids: Vec<Uuid> = residents.iter().map(|r| r.parse().expect("uuid")).collect();
    office.platform.wait_for_residents_in_volunteers(&ids).await;
    let (child, teen, teen_with_consent, adult) =
        (&residents[0], &residents[1], &residents[2], &residents[3]);

    // Eight years old: refused, with or without a guardian's consent.
    for consent in [false, true] {
        let (status, problem) = office
            .post(
                "/volunteers",
                json!({ "resident_id": child, "guardian_consent": consent }),
            )
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{problem}");
        assert_eq!(
            problem["errors"],
            json!([{
                "field": "resident_id",
                "reason": "a resident under 14 cannot volunteer",
                "code": "volunteer.under_14",
                "message": "a resident under 14 cannot volunteer",
            }])
        );
    }
    // Sixteen: only with the guardian's consent, which is recorded.
    let (status, problem) = office
        .post("/volunteers", json!({ "resident_id": teen }))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{problem}");
    assert_eq!(problem["errors"][0]["field"], "guardian_consent");
    let registered = office
        .created(
            "/volunteers",
            json!({ "resident_id": teen_with_consent, "guardian_consent": true }),
        )
        .await;
    // Thirty: no consent asked.
    office
        .created("/volunteers", json!({ "resident_id": adult }))
        .await;

    let pool = office.platform.pool("volunteers").await;
    let volunteers: Vec<(Uuid, bool)> = sqlx::query_as(
        "SELECT resident_id, guardian_consent_at IS NOT NULL FROM volunteers WHERE centre_id = $1 ORDER BY registered_at",
    )
    .bind(office.centre)
    .fetch_all(&pool)
    .await
    .expect("volunteers");
    assert_eq!(volunteers, [(ids[2], true), (ids[3], false)]);
    assert_eq!(registered["resident_id"], json!(teen_with_consent));
    pool.close().await;
    office.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn another_centres_staff_are_refused_and_an_auditor_only_reads() {
    let office = Office::open().await;
    let volunteer = office.volunteer(json!({})).await;
    let other = office.platform.volunteering_centre("Asia/Shanghai").await;
    let outsider = office.platform.token(&[Role::CentreManager], &[other]);

    let (status, _) = office.get_as(&outsider, "/volunteers").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = office
        .get_as(&outsider, &format!("/volunteers/{volunteer}"))
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = office
        .post_as(&outsider, "/opportunities", json!({ "title": "x" }))
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = office.get_as(&outsider, "/training-coverage").await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    let auditor = office.platform.token(&[Role::Auditor], &[office.centre]);
    let (status, body) = office.get_as(&auditor, "/volunteers").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["volunteers"].as_array().map(Vec::len), Some(1));
    let (status, _) = office
        .post_as(&auditor, "/opportunities", json!({ "title": "x" }))
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "an auditor never writes");
    office.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_erased_residents_volunteer_record_is_anonymised_and_deactivated() {
    let office = Office::open().await;
    let volunteer = office
        .volunteer(
            json!({ "display_name": "陈阿姨", "skills": ["dance"], "languages": ["cantonese"],
            "availability": [{ "weekday": 2, "starts": "09:00", "ends": "11:00" }] }),
        )
        .await;
    let before = office.get(&format!("/volunteers/{volunteer}")).await;
    let resident = before["resident_id"].as_str().unwrap().to_owned();
    let response = office
        .platform
        .http
        .post(office.url(&format!("/residents/{resident}/erasure")))
        .bearer_auth(&office.token)
        .json(&json!({ "reason": "the resident's request" }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    let after = poll(
        "volunteers to anonymise the record",
        EVENT_DEADLINE,
        || async {
            let v = office.get(&format!("/volunteers/{volunteer}")).await;
            v["resident_id"].is_null().then_some(v)
        },
    )
    .await;
    assert_eq!(after["display_name"], "");
    assert_eq!(after["skills"], json!([]));
    assert_eq!(after["languages"], json!([]));
    assert_eq!(after["availability"], json!([]));
    assert_eq!(after["status"], "left");
    let events: Vec<linli_proto::events::v1::VolunteerDeactivated> =
        office.outbox("volunteers.volunteer.deactivated").await;
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].reason, "erased");
    office.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_erasure_withdraws_future_sign_ups_frees_the_place_and_keeps_past_hours() {
    let office = Office::open().await;
    let erased = office.volunteer(json!({ "display_name": "陈阿姨" })).await;
    let waiting = office.volunteer(json!({ "display_name": "王叔叔" })).await;
    let opportunity = office.opportunity(json!({ "title": "助餐点帮厨" })).await;

    // What the erased volunteer already did: a shift worked this morning, 90 minutes.
    let now = Utc::now();
    let worked = office
        .created(
            "/shifts",
            json!({ "opportunity_id": opportunity,
                "starts_at": (now - Days::hours(2)).to_rfc3339(),
                "ends_at": (now + Days::hours(1)).to_rfc3339(), "capacity": 2 }),
        )
        .await["id"]
        .as_str()
        .expect("shift id")
        .to_owned();
    let (status, done) = office.sign_up(&worked, &erased).await;
    assert_eq!(status, StatusCode::CREATED, "{done}");
    let done = done["id"].as_str().expect("assignment id").to_owned();
    for (step, at) in [
        ("check-in", now - Days::minutes(110)),
        ("check-out", now - Days::minutes(20)),
    ] {
        let (status, body) = office
            .post(
                &format!("/assignments/{done}/{step}"),
                json!({ "at": at.to_rfc3339() }),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{step}: {body}");
    }
    assert_eq!(office.get("/hours-totals").await["verified_minutes"], 90);

    // What was still to come: the only place on next week's shift, someone else turned away.
    let next_week = office
        .shift(&opportunity, today() + Days::days(7), "09:00", "11:00", 1)
        .await;
    let (status, taken) = office.sign_up(&next_week, &erased).await;
    assert_eq!(status, StatusCode::CREATED, "{taken}");
    let taken = taken["id"].as_str().expect("assignment id").to_owned();
    let (status, body) = office.sign_up(&next_week, &waiting).await;
    assert_eq!(status, StatusCode::CONFLICT, "the shift is full: {body}");

    let resident = office.get(&format!("/volunteers/{erased}")).await["resident_id"]
        .as_str()
        .expect("resident id")
        .to_owned();
    let (status, body) = office
        .post(
            &format!("/residents/{resident}/erasure"),
            json!({ "reason": "the resident's request" }),
        )
        .await;
    assert!(status.is_success(), "{body}");
    poll(
        "the erased volunteer's place to be given to the other",
        EVENT_DEADLINE,
        || async {
            let (status, _) = office.sign_up(&next_week, &waiting).await;
            (status == StatusCode::CREATED).then_some(())
        },
    )
    .await;

    let pool = office.platform.pool("volunteers").await;
    let states: Vec<(String, String)> = sqlx::query_as(
        "SELECT id::text, status FROM assignments WHERE volunteer_id = $1::uuid ORDER BY id",
    )
    .bind(&erased)
    .fetch_all(&pool)
    .await
    .expect("assignments");
    pool.close().await;
    let status_of = |id: &str| {
        states
            .iter()
            .find(|(a, _)| a == id)
            .map(|(_, s)| s.as_str())
            .unwrap_or("missing")
    };
    assert_eq!(status_of(&taken), "withdrawn", "{states:?}");
    assert_eq!(status_of(&done), "completed", "{states:?}");
    let shifts = office
        .get(&format!("/shifts?opportunity_id={opportunity}"))
        .await;
    let places = |id: &str| {
        shifts["shifts"]
            .as_array()
            .expect("shifts")
            .iter()
            .find(|s| s["id"] == id)
            .map(|s| s["signed_up"].clone())
    };
    assert_eq!(places(&next_week), Some(json!(1)), "{shifts}");
    assert_eq!(places(&worked), Some(json!(1)), "{shifts}");
    // The hours stay in the centre's figures, with nothing left that names the person.
    assert_eq!(office.get("/hours-totals").await["verified_minutes"], 90);
    let record = office.get(&format!("/volunteers/{erased}")).await;
    assert!(record["resident_id"].is_null(), "{record}");
    assert_eq!(record["display_name"], "");
    office.stop().await;
}

#[tokio::test]
async fn rejecting_hours_needs_a_reason_and_the_entry_keeps_it() {
    let office = Office::open().await;
    let volunteer = office.volunteer(json!({})).await;
    let entry = office
        .created(
            "/hours",
            json!({ "volunteer_id": volunteer, "worked_on": today().to_string(), "minutes": 60 }),
        )
        .await;
    let path = format!(
        "/hours/{}/verification",
        entry["id"].as_str().expect("entry id")
    );
    let (status, body) = office
        .post_as(&office.verifier, &path, json!({ "approve": false }))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body["errors"][0]["field"], "reason", "{body}");
    assert_eq!(body["errors"][0]["code"], "required", "{body}");
    let (status, body) = office
        .post_as(
            &office.verifier,
            &path,
            json!({ "approve": false, "reason": "当天未到岗" }),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["status"], "rejected");
    assert_eq!(body["rejection_reason"], "当天未到岗");
    office.stop().await;
}
