//! Taking back a check-in made by mistake (issue 22, the roster's check-in toggle): through
//! the gateway the booking is confirmed again and evaluation's participation figure goes
//! back to what it was, a redelivered undo does not subtract twice, a new check-in counts
//! again; an undo on another day (or by a coordinator) is refused with its code; and the
//! desk does it on the roster in Chromium (撤销签到, confirmed first).

use std::time::Duration;

use linli_platform::auth::Role;
use linli_proto::Event;
use linli_proto::events::v1::BookingCheckInUndone;
use linli_tests::webdriver::Browser;
use linli_tests::webdriver::{PASSWORD, screenshots, sign_in_browser};
use linli_tests::{TestPlatform, poll};
use reqwest::StatusCode;
use serde_json::{Value, json};
use uuid::Uuid;

const DEADLINE: Duration = Duration::from_secs(30);

/// The month now in Shanghai, as the KPI API names it.
fn this_month() -> String {
    (chrono::Utc::now() + chrono::Duration::hours(8))
        .format("%Y-%m")
        .to_string()
}

/// The participation KPI of `centre` this month: (residents who attended, active residents).
async fn participation(platform: &TestPlatform, token: &str, centre: Uuid) -> (i64, i64) {
    let (status, report) = platform
        .get_json(
            token,
            &format!("/v1/centres/{centre}/kpis?period={}", this_month()),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{report}");
    let kpi = report["kpis"]
        .as_array()
        .expect("kpis")
        .iter()
        .find(|k| k["name"] == "participation")
        .expect("participation is reported")
        .clone();
    (
        kpi["numerator"].as_i64().expect("numerator"),
        kpi["denominator"].as_i64().expect("denominator"),
    )
}

/// Waits until the participation figure is `expected`.
async fn participation_becomes(
    platform: &TestPlatform,
    token: &str,
    centre: Uuid,
    expected: (i64, i64),
    what: &str,
) {
    poll(what, DEADLINE, || async {
        (participation(platform, token, centre).await == expected).then_some(())
    })
    .await;
}

async fn register(platform: &TestPlatform, token: &str, centre: Uuid, name: &str) -> Uuid {
    let (status, body) = platform
        .post_json(
            token,
            &format!("/v1/centres/{centre}/residents"),
            &json!({ "name": name, "gender": "female", "date_of_birth": "1948-03-02", "confirm_not_duplicate": true }),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let id = body["id"].as_str().expect("id").parse().expect("uuid");
    platform.wait_for_residents(&[id]).await;
    id
}

/// A talk running now (it started a moment ago, ends in an hour): (offering, session).
async fn session_now(platform: &TestPlatform, token: &str, centre: Uuid) -> (String, String) {
    let at = |path: &str| format!("/v1/centres/{centre}{path}");
    let (status, offering) = platform
        .post_json(
            token,
            &at("/offerings"),
            &json!({ "category": "health", "kind": "event", "name": "健康讲座", "capacity": 50 }),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{offering}");
    let now = chrono::Utc::now();
    let (status, session) = platform
        .post_json(
            token,
            &at("/sessions"),
            &json!({ "offering_id": offering["id"], "starts_at": (now - chrono::Duration::seconds(30)).to_rfc3339(),
                     "ends_at": (now + chrono::Duration::hours(1)).to_rfc3339() }),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{session}");
    (
        offering["id"].as_str().expect("offering id").to_owned(),
        session["id"].as_str().expect("session id").to_owned(),
    )
}

async fn book(
    platform: &TestPlatform,
    token: &str,
    centre: Uuid,
    offering: &str,
    session: &str,
    resident: Uuid,
) -> String {
    let (status, booking) = platform
        .post_json(
            token,
            &format!("/v1/centres/{centre}/bookings"),
            &json!({ "offering_id": offering, "resident_id": resident, "session_id": session }),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{booking}");
    booking["id"].as_str().expect("booking id").to_owned()
}

async fn post(
    platform: &TestPlatform,
    token: &str,
    centre: Uuid,
    booking: &str,
    action: &str,
) -> (StatusCode, Value) {
    platform
        .post_json(
            token,
            &format!("/v1/centres/{centre}/bookings/{booking}/{action}"),
            &json!({}),
            None,
        )
        .await
}

async fn booking_status(platform: &TestPlatform, token: &str, centre: Uuid, id: &str) -> Value {
    let (status, booking) = platform
        .get_json(token, &format!("/v1/centres/{centre}/bookings/{id}"))
        .await;
    assert_eq!(status, StatusCode::OK, "{booking}");
    booking
}

fn seat_state(booking: &Value) -> String {
    booking["seats"][0]["state"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

fn duplicates() -> u64 {
    linli_platform::metrics::EVENTS_CONSUMED
        .with_label_values(&["evaluation", "duplicate"])
        .get()
}

#[tokio::test]
async fn an_undone_check_in_confirms_the_booking_again_and_evaluation_counts_it_exactly_once() {
    let platform = TestPlatform::start().await;
    let admin = platform.admin_token();
    let centre = platform.bookable_centre("Asia/Shanghai").await;
    let desk = platform.token(&[Role::FrontDesk], &[centre]);
    let zhao = register(&platform, &admin, centre, "赵敏").await;
    let qian = register(&platform, &admin, centre, "钱芳").await;
    let (offering, session) = session_now(&platform, &admin, centre).await;
    let mine = book(&platform, &desk, centre, &offering, &session, zhao).await;
    let other = book(&platform, &desk, centre, &offering, &session, qian).await;
    participation_becomes(
        &platform,
        &admin,
        centre,
        (0, 2),
        "two residents, none attended",
    )
    .await;

    for id in [&mine, &other] {
        let (status, body) = post(&platform, &desk, centre, id, "check-in").await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }
    participation_becomes(&platform, &admin, centre, (2, 2), "both check-ins counted").await;

    // The desk takes back 赵敏's check-in: confirmed again, her seat held again.
    let (status, body) = post(&platform, &desk, centre, &mine, "undo-check-in").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["status"], "confirmed", "{body}");
    let again = booking_status(&platform, &admin, centre, &mine).await;
    assert_eq!(again["status"], "confirmed", "{again}");
    assert_eq!(seat_state(&again), "held", "{again}");
    participation_becomes(
        &platform,
        &admin,
        centre,
        (1, 2),
        "the undone check-in taken off",
    )
    .await;
    // The other check-in stands.
    let theirs = booking_status(&platform, &admin, centre, &other).await;
    assert_eq!(seat_state(&theirs), "attended", "{theirs}");

    // A retry of the undo changes nothing and tells no one again.
    let (status, body) = post(&platform, &desk, centre, &mine, "undo-check-in").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let bookings = platform.pool("bookings").await;
    let (event_id, payload): (Uuid, Vec<u8>) =
        sqlx::query_as("SELECT id, payload FROM outbox WHERE routing_key = $1 ORDER BY seq")
            .bind(BookingCheckInUndone::ROUTING_KEY)
            .fetch_one(&bookings)
            .await
            .expect("one undo told");
    let told: i64 = sqlx::query_scalar("SELECT count(*) FROM outbox WHERE routing_key = $1")
        .bind(BookingCheckInUndone::ROUTING_KEY)
        .fetch_one(&bookings)
        .await
        .expect("outbox readable");
    assert_eq!(told, 1, "the retry told no one");
    bookings.close().await;

    // 赵敏 is checked in again, for real this time: she counts again.
    let (status, body) = post(&platform, &desk, centre, &mine, "check-in").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    participation_becomes(
        &platform,
        &admin,
        centre,
        (2, 2),
        "the new check-in counted",
    )
    .await;

    // The broker delivers the undo again: evaluation knows it and subtracts nothing.
    let before = duplicates();
    platform
        .publish_raw(
            BookingCheckInUndone::ROUTING_KEY,
            event_id,
            BookingCheckInUndone::TYPE,
            &payload,
        )
        .await;
    poll(
        "the redelivered undo to be recognised",
        DEADLINE,
        || async { (duplicates() > before).then_some(()) },
    )
    .await;
    // And a replay of the same undo under another id (a rebuild's order) removes only what
    // was recorded before it: the new check-in stays.
    platform
        .publish_raw(
            BookingCheckInUndone::ROUTING_KEY,
            Uuid::new_v4(),
            BookingCheckInUndone::TYPE,
            &payload,
        )
        .await;
    let evaluation = platform.pool("evaluation").await;
    poll("the replayed undo to be logged", DEADLINE, || async {
        let n: i64 = sqlx::query_scalar("SELECT count(*) FROM facts WHERE routing_key = $1")
            .bind(BookingCheckInUndone::ROUTING_KEY)
            .fetch_one(&evaluation)
            .await
            .ok()?;
        (n == 2).then_some(())
    })
    .await;
    let attendances: i64 =
        sqlx::query_scalar("SELECT count(*) FROM attendances WHERE booking_id = $1")
            .bind(mine.parse::<Uuid>().expect("uuid"))
            .fetch_one(&evaluation)
            .await
            .expect("evaluation readable");
    assert_eq!(attendances, 1, "the new check-in's attendance is kept");
    evaluation.close().await;
    assert_eq!(participation(&platform, &admin, centre).await, (2, 2));

    platform.stop().await;
}

#[tokio::test]
async fn an_undo_on_another_day_or_by_a_coordinator_is_refused_with_its_code() {
    let platform = TestPlatform::start().await;
    let admin = platform.admin_token();
    let centre = platform.bookable_centre("Asia/Shanghai").await;
    let desk = platform.token(&[Role::FrontDesk], &[centre]);
    let coordinator = platform.token(&[Role::Coordinator], &[centre]);
    let elsewhere = platform.bookable_centre("Asia/Shanghai").await;
    let other_desk = platform.token(&[Role::FrontDesk], &[elsewhere]);
    let sun = register(&platform, &admin, centre, "孙丽").await;
    let (offering, session) = session_now(&platform, &admin, centre).await;
    let id = book(&platform, &desk, centre, &offering, &session, sun).await;
    let (status, body) = post(&platform, &desk, centre, &id, "check-in").await;
    assert_eq!(status, StatusCode::OK, "{body}");

    // A coordinator may check in but not take a check-in back; nor may another centre's desk.
    let (status, body) = post(&platform, &coordinator, centre, &id, "undo-check-in").await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    let (status, body) = post(&platform, &other_desk, centre, &id, "undo-check-in").await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");

    // The session is moved to tomorrow (as if the check-in had been made for tomorrow's
    // talk): the undo is refused, in Chinese, with its code.
    let pool = platform.pool("bookings").await;
    sqlx::query(
        "UPDATE sessions SET starts_at = starts_at + interval '1 day', ends_at = ends_at + interval '1 day'
         WHERE id = $1",
    )
    .bind(session.parse::<Uuid>().expect("uuid"))
    .execute(&pool)
    .await
    .expect("session moved");
    pool.close().await;
    let (status, body) = post(&platform, &desk, centre, &id, "undo-check-in").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(body["code"], "checkin.undo_other_day", "{body}");
    // Said in Chinese to a client that asks for it (the suites' own client asks for English).
    let chinese: Value = reqwest::Client::new()
        .post(format!(
            "{}/v1/centres/{centre}/bookings/{id}/undo-check-in",
            platform.gateway
        ))
        .bearer_auth(&desk)
        .header("Accept-Language", "zh-CN")
        .json(&json!({}))
        .send()
        .await
        .expect("the gateway answers")
        .json()
        .await
        .expect("a problem document");
    assert_eq!(
        chinese["detail"], "只能在活动当天撤销签到，这次签到已不能撤销",
        "{chinese}"
    );
    let still = booking_status(&platform, &admin, centre, &id).await;
    assert_eq!(seat_state(&still), "attended", "{still}");

    platform.stop().await;
}

#[tokio::test]
async fn the_desk_takes_back_a_check_in_on_the_roster_after_confirming() {
    if let Err(missing) = linli_tests::webdriver::browser_paths() {
        panic!("{missing} (deploy/local/test.sh installs them)");
    }
    let platform = TestPlatform::start().await;
    let admin = platform.admin_token();
    let centre = platform.bookable_centre("Asia/Shanghai").await;
    platform
        .staff_account("desk-undo", "front_desk", &[centre], PASSWORD)
        .await;
    let zhou = register(&platform, &admin, centre, "周建华").await;
    let (offering, session) = session_now(&platform, &admin, centre).await;
    let id = book(&platform, &admin, centre, &offering, &session, zhou).await;

    let gw = platform.gateway.clone();
    let browser = Browser::start().await;
    browser.window_size(1366, 900).await;
    sign_in_browser(&browser, &gw, "desk-undo").await;
    browser
        .goto(&format!("{gw}/c/{centre}/sessions/{session}"))
        .await;
    browser
        .click_through("#attendees button[data-check-in=\"周建华\"]")
        .await;
    let cell = browser.find("#attendees td.check-in").await.text().await;
    assert!(cell.contains("已签到"), "{cell}");
    // 撤销签到 asks first: the first click only opens the question.
    browser
        .find("#attendees summary[data-undo=\"周建华\"]")
        .await
        .click()
        .await;
    let question = browser
        .find("#attendees details.undo form")
        .await
        .text()
        .await;
    assert!(question.contains("确定撤销周建华的签到吗"), "{question}");
    assert_eq!(
        seat_state(&booking_status(&platform, &admin, centre, &id).await),
        "attended",
        "nothing is taken back before the second click"
    );
    browser
        .click_through("#attendees button[data-confirm-undo=\"周建华\"]")
        .await;
    let notice = browser.find("p.notice").await.text().await;
    assert!(notice.contains("已撤销签到"), "{notice}");
    assert!(
        !browser.url().await.contains("undo-check-in"),
        "back on the roster, not the POST endpoint"
    );
    // The row offers 签到 again.
    browser
        .find("#attendees button[data-check-in=\"周建华\"]")
        .await;
    let booking = booking_status(&platform, &admin, centre, &id).await;
    assert_eq!(booking["status"], "confirmed", "{booking}");
    assert_eq!(seat_state(&booking), "held", "{booking}");

    browser
        .screenshot(&screenshots().join("check-in-undone-1366.png"))
        .await;
    // A page with the question open too, to look at.
    browser
        .click_through("#attendees button[data-check-in=\"周建华\"]")
        .await;
    browser
        .screenshot(&screenshots().join("check-in-undo-offered-1366.png"))
        .await;
    browser
        .find("#attendees summary[data-undo=\"周建华\"]")
        .await
        .click()
        .await;
    browser
        .screenshot(&screenshots().join("check-in-undo-asked-1366.png"))
        .await;
    // While the question is open the session is moved to tomorrow: the refusal is said in
    // Chinese on the row, and the address is the roster's again.
    let pool = platform.pool("bookings").await;
    sqlx::query(
        "UPDATE sessions SET starts_at = starts_at + interval '1 day', ends_at = ends_at + interval '1 day'
         WHERE id = $1",
    )
    .bind(session.parse::<Uuid>().expect("uuid"))
    .execute(&pool)
    .await
    .expect("session moved");
    pool.close().await;
    browser
        .click_through("#attendees button[data-confirm-undo=\"周建华\"]")
        .await;
    let refused = browser.find("#attendees .undo-refused").await.text().await;
    assert!(refused.contains("只能在活动当天撤销签到"), "{refused}");
    assert_eq!(
        browser
            .source()
            .await
            .matches("只能在活动当天撤销签到")
            .count(),
        1,
        "said on the row only"
    );
    let url = browser.url().await;
    assert!(!url.contains("undo-check-in"), "{url}");
    assert_eq!(
        seat_state(&booking_status(&platform, &admin, centre, &id).await),
        "attended"
    );
    browser
        .screenshot(&screenshots().join("check-in-undo-refused-1366.png"))
        .await;
    browser.close().await;
    platform.stop().await;
}
