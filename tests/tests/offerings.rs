//! Offerings revised and retired (issue 24), end to end through the gateway: a new fee or
//! capacity applies to bookings made from then on while earlier bookings keep their fee,
//! and a retired offering refuses new bookings with a stable code the catalogue says in
//! Chinese, its existing bookings kept and the offering still readable for history.

use linli_platform::auth::Role;
use linli_tests::TestPlatform;
use reqwest::StatusCode;
use reqwest::header::{COOKIE, LOCATION, SET_COOKIE};
use serde_json::{Value, json};
use uuid::Uuid;

/// A centre with a manager's token, over the gateway.
struct Desk {
    platform: TestPlatform,
    centre: Uuid,
    token: String,
}

impl Desk {
    async fn open() -> Desk {
        let platform = TestPlatform::start().await;
        let centre = platform.bookable_centre("Asia/Shanghai").await;
        let token = platform.token(&[Role::CentreManager], &[centre]);
        Desk {
            platform,
            centre,
            token,
        }
    }

    fn url(&self, path: &str) -> String {
        format!("{}/v1/centres/{}{path}", self.platform.gateway, self.centre)
    }

    async fn post(&self, path: &str, body: Value) -> (StatusCode, Value) {
        let path = format!("/v1/centres/{}{path}", self.centre);
        self.platform
            .post_json(&self.token, &path, &body, None)
            .await
    }

    async fn get(&self, path: &str) -> (StatusCode, Value) {
        let path = format!("/v1/centres/{}{path}", self.centre);
        self.platform.get_json(&self.token, &path).await
    }

    async fn patch(&self, path: &str, body: Value) -> (StatusCode, Value) {
        let response = self
            .platform
            .http
            .patch(self.url(path))
            .bearer_auth(&self.token)
            .json(&body)
            .send()
            .await
            .expect("the gateway answers");
        let status = response.status();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    /// Registers `n` adults and waits until bookings knows them.
    async fn residents(&self, n: usize) -> Vec<String> {
        let mut ids = Vec::new();
        for _ in 0..n {
            let (status, body) = self
                .post(
                    "/residents",
                    json!({ "name": "张伟", "gender": "female", "date_of_birth": "1980-05-01", "confirm_not_duplicate": true }),
                )
                .await;
            assert_eq!(status, StatusCode::CREATED, "{body}");
            ids.push(body["id"].as_str().expect("resident id").to_owned());
        }
        let uuids: Vec<Uuid> = ids.iter().map(|id| id.parse().expect("uuid")).collect();
        self.platform.wait_for_residents_in_bookings(&uuids).await;
        ids
    }

    async fn offering(&self, fee_minor: i64, capacity: i32) -> String {
        let (status, body) = self
            .post(
                "/offerings",
                json!({ "category": "health", "kind": "event", "name": "健康讲座", "capacity": capacity, "fee_minor": fee_minor }),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        body["id"].as_str().expect("offering id").to_owned()
    }

    async fn session(&self, offering: &str) -> String {
        let (status, body) = self
            .post(
                "/sessions",
                json!({ "offering_id": offering, "starts_at": "2027-03-09T09:00:00+08:00", "ends_at": "2027-03-09T10:00:00+08:00" }),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        body["id"].as_str().expect("session id").to_owned()
    }

    async fn book(&self, offering: &str, resident: &str, session: &str) -> (StatusCode, Value) {
        self.post(
            "/bookings",
            json!({ "offering_id": offering, "resident_id": resident, "session_id": session }),
        )
        .await
    }

    async fn booked(&self, offering: &str, resident: &str, session: &str) -> Value {
        let (status, body) = self.book(offering, resident, session).await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        body
    }

    /// The payloads bookings recorded under `routing_key` that name `id`.
    async fn outbox_naming(&self, routing_key: &str, id: &str) -> usize {
        let pool = self.platform.pool("bookings").await;
        let payloads: Vec<Vec<u8>> =
            sqlx::query_scalar("SELECT payload FROM outbox WHERE routing_key = $1")
                .bind(routing_key)
                .fetch_all(&pool)
                .await
                .expect("outbox readable");
        pool.close().await;
        payloads
            .iter()
            .filter(|p| p.windows(id.len()).any(|w| w == id.as_bytes()))
            .count()
    }
}

const PASSWORD: &str = "correct-horse-battery";

/// A console manager of the centre, signed in over HTTP: a client and its cookies.
async fn console_manager(platform: &TestPlatform, centre: Uuid) -> (reqwest::Client, String) {
    let pool = platform.pool("registry").await;
    let username = format!("m{}", &Uuid::new_v4().simple().to_string()[..8]);
    let new = linli_registry::domain::staff::NewAccount::parse(
        &username,
        &username,
        PASSWORD,
        &["centre_manager".to_owned()],
        &[centre.to_string()],
    )
    .expect("a valid account");
    let hash = linli_registry::domain::staff::hash_password(PASSWORD);
    linli_registry::store::create_staff_account(&pool, &new, &hash, "test")
        .await
        .expect("account stored")
        .expect("a new username");
    pool.close().await;
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("a client");
    let cookies = |response: &reqwest::Response| -> Vec<String> {
        response
            .headers()
            .get_all(SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .filter(|v| !v.contains("Max-Age=0"))
            .filter_map(|v| v.split(';').next().map(str::to_owned))
            .collect()
    };
    let page = http
        .get(format!("{}/sign-in", platform.gateway))
        .send()
        .await
        .expect("the sign-in page");
    let pre = cookies(&page).join("; ");
    let html = page.text().await.expect("a page");
    let marker = "name=\"csrf\" value=\"";
    let start = html.find(marker).expect("a CSRF field") + marker.len();
    let csrf = html[start..].split('"').next().expect("a token").to_owned();
    let signed = http
        .post(format!("{}/sign-in", platform.gateway))
        .header(COOKIE, pre)
        .form(&[
            ("csrf", csrf.as_str()),
            ("next", "/dashboard"),
            ("username", username.as_str()),
            ("password", PASSWORD),
        ])
        .send()
        .await
        .expect("signed in");
    assert!(signed.headers().get(LOCATION).is_some(), "signed in");
    (http, cookies(&signed).join("; "))
}

async fn console_page(
    platform: &TestPlatform,
    console: &(reqwest::Client, String),
    path: &str,
) -> String {
    let response = console
        .0
        .get(format!("{}{path}", platform.gateway))
        .header(COOKIE, &console.1)
        .send()
        .await
        .expect("a page");
    assert_eq!(response.status(), StatusCode::OK, "{path}");
    response.text().await.expect("html")
}

/// A new fee (and capacity) applies to the bookings made after it; the booking made
/// before keeps its fee, and the session not yet started takes the new capacity, its
/// waitlist first.
#[tokio::test]
async fn a_new_fee_applies_to_later_bookings_and_an_earlier_booking_keeps_its_fee() {
    let desk = Desk::open().await;
    let people = desk.residents(4).await;
    let offering = desk.offering(2000, 1).await;
    let session = desk.session(&offering).await;

    let before = desk.booked(&offering, &people[0], &session).await;
    assert_eq!(before["fee_minor"], 2000, "{before}");
    let waiting = desk.booked(&offering, &people[1], &session).await;
    assert_eq!(waiting["status"], "waitlisted", "{waiting}");

    let (status, changed) = desk
        .patch(
            &format!("/offerings/{offering}"),
            json!({ "fee_minor": 3500, "capacity": 3 }),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{changed}");
    assert_eq!(changed["fee_minor"], 3500, "{changed}");
    assert_eq!(changed["capacity"], 3, "{changed}");
    assert_eq!(changed["active"], true, "{changed}");

    // The session, made when the capacity was 1, now seats 3: the one waiting is
    // confirmed at the fee it was given, the next booking pays the new fee, and the
    // fourth waits.
    let waited = waiting["id"].as_str().expect("id");
    let (status, promoted) = desk.get(&format!("/bookings/{waited}")).await;
    assert_eq!(status, StatusCode::OK, "{promoted}");
    assert_eq!(promoted["status"], "confirmed", "promoted: {promoted}");
    assert_eq!(promoted["fee_minor"], 2000, "{promoted}");
    let after = desk.booked(&offering, &people[2], &session).await;
    assert_eq!(after["fee_minor"], 3500, "the new fee: {after}");
    assert_eq!(after["status"], "confirmed", "{after}");
    let fourth = desk.booked(&offering, &people[3], &session).await;
    assert_eq!(fourth["status"], "waitlisted", "{fourth}");

    let id = before["id"].as_str().expect("id");
    let (status, kept) = desk.get(&format!("/bookings/{id}")).await;
    assert_eq!(status, StatusCode::OK, "{kept}");
    assert_eq!(
        kept["fee_minor"], 2000,
        "the earlier booking keeps its fee: {kept}"
    );
    assert_eq!(
        desk.outbox_naming("bookings.offering.updated", &offering)
            .await,
        1
    );

    // The same values again change nothing and announce nothing; an empty change and a
    // negative fee are refused naming the field.
    let (status, _) = desk
        .patch(
            &format!("/offerings/{offering}"),
            json!({ "fee_minor": 3500 }),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        desk.outbox_naming("bookings.offering.updated", &offering)
            .await,
        1
    );
    let (status, body) = desk
        .patch(&format!("/offerings/{offering}"), json!({}))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    let (status, body) = desk
        .patch(
            &format!("/offerings/{offering}"),
            json!({ "fee_minor": -1 }),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body["errors"][0]["field"], "fee_minor", "{body}");

    // A front-desk clerk may not change the catalogue.
    let clerk = desk.platform.token(&[Role::FrontDesk], &[desk.centre]);
    let response = desk
        .platform
        .http
        .patch(desk.url(&format!("/offerings/{offering}")))
        .bearer_auth(&clerk)
        .json(&json!({ "fee_minor": 1 }))
        .send()
        .await
        .expect("answer");
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    desk.platform.stop().await;
}

/// Bookings keeps offerings it has read in memory. A change made elsewhere (another
/// replica; here straight in the table, as that replica's statement does) must not leave
/// this one booking at the old fee: the booking statement checks the revision.
#[tokio::test]
async fn a_fee_changed_by_another_replica_is_the_fee_of_the_next_booking() {
    let desk = Desk::open().await;
    let people = desk.residents(2).await;
    let offering = desk.offering(2000, 10).await;
    let session = desk.session(&offering).await;
    let first = desk.booked(&offering, &people[0], &session).await;
    assert_eq!(first["fee_minor"], 2000, "{first}");

    let pool = desk.platform.pool("bookings").await;
    sqlx::query("UPDATE offerings SET fee_minor = 5000, revision = revision + 1 WHERE id = $1")
        .bind(offering.parse::<Uuid>().expect("uuid"))
        .execute(&pool)
        .await
        .expect("changed elsewhere");
    // The table refuses a change that does not raise the revision.
    let unrevised = sqlx::query("UPDATE offerings SET fee_minor = 1 WHERE id = $1")
        .bind(offering.parse::<Uuid>().expect("uuid"))
        .execute(&pool)
        .await;
    assert!(
        unrevised.is_err(),
        "a change without a new revision is refused"
    );
    pool.close().await;

    let second = desk.booked(&offering, &people[1], &session).await;
    assert_eq!(second["fee_minor"], 5000, "{second}");
    desk.platform.stop().await;
}

/// A retired offering refuses a new booking with `offering.inactive`, said in Chinese; the
/// booking made before is kept, the offering stays readable (active false) for history,
/// and retiring twice announces it once.
#[tokio::test]
async fn a_retired_offering_refuses_new_bookings_in_chinese_and_keeps_existing_ones() {
    let desk = Desk::open().await;
    let people = desk.residents(2).await;
    let offering = desk.offering(1000, 10).await;
    let session = desk.session(&offering).await;
    let kept = desk.booked(&offering, &people[0], &session).await;
    let console = console_manager(&desk.platform, desk.centre).await;
    let session_page = format!("/c/{}/sessions/{session}?on=2027-03-09", desk.centre);
    let day_page = format!("/c/{}/bookings?day=2027-03-09", desk.centre);
    let before = console_page(&desk.platform, &console, &session_page).await;
    assert!(
        before.contains("id=\"book\""),
        "the booking form while offered"
    );

    for _ in 0..2 {
        let (status, retired) = desk
            .post(&format!("/offerings/{offering}/retire"), json!({}))
            .await;
        assert_eq!(status, StatusCode::OK, "{retired}");
        assert_eq!(retired["active"], false, "{retired}");
    }
    assert_eq!(
        desk.outbox_naming("bookings.offering.retired", &offering)
            .await,
        1
    );

    let response = desk
        .platform
        .http
        .post(desk.url("/bookings"))
        .bearer_auth(&desk.token)
        .header("Accept-Language", "zh-CN")
        .json(&json!({ "offering_id": offering, "resident_id": people[1], "session_id": session }))
        .send()
        .await
        .expect("answer");
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let refused: Value = response.json().await.expect("problem");
    assert_eq!(refused["code"], "offering.inactive", "{refused}");
    assert_eq!(refused["detail"], "该项目已停止提供", "{refused}");

    // The same resident asked again by the path that books from memory: still refused.
    let (status, again) = desk.book(&offering, &people[1], &session).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{again}");
    assert_eq!(again["code"], "offering.inactive", "{again}");

    let id = kept["id"].as_str().expect("id");
    let (status, booking) = desk.get(&format!("/bookings/{id}")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(booking["status"], "confirmed", "kept: {booking}");
    assert_eq!(booking["fee_minor"], 1000, "{booking}");

    let (status, list) = desk.get("/offerings").await;
    assert_eq!(status, StatusCode::OK);
    let listed = list["offerings"]
        .as_array()
        .expect("offerings")
        .iter()
        .find(|o| o["id"] == offering.as_str())
        .expect("a retired offering stays in the catalogue's history");
    assert_eq!(listed["active"], false);

    // The console's session page offers no booking form for it and says why; the day's
    // calendar marks it; the booking made before is still on the session's list.
    let after = console_page(&desk.platform, &console, &session_page).await;
    assert!(
        !after.contains("id=\"book\""),
        "no booking form once retired"
    );
    assert!(
        after.contains("id=\"retired\""),
        "the page says it is retired"
    );
    assert!(after.contains("该服务项目已停止提供"), "in Chinese");
    let day = console_page(&desk.platform, &console, &day_page).await;
    assert!(day.contains("已停止提供"), "the calendar marks it");

    // A retired offering's fee is not changed.
    let (status, body) = desk
        .patch(&format!("/offerings/{offering}"), json!({ "fee_minor": 1 }))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(body["code"], "offering.inactive", "{body}");
    desk.platform.stop().await;
}
