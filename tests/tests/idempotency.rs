//! `Idempotency-Key` on every create, through the one mechanism in the platform: the same
//! key with the same request answers what the first answered and applies nothing again
//! (sent twice, or twenty times at once); with another request it is refused (422) naming
//! the header; another caller's key is never theirs to replay. A create whose answer was
//! lost after it committed is reported as applied, not applied again. And a registration
//! of a resident the centre probably has already is refused naming them, unless the desk
//! confirms it is someone else, by the rule the import skips rows by.

use std::time::Duration;

use futures::future::join_all;
use linli_platform::auth::Role;
use linli_platform::idempotency::{Claim, claiming, is_claim_taken};
use linli_tests::TestPlatform;
use reqwest::StatusCode;
use serde_json::{Value, json};
use uuid::Uuid;

/// One create route, its request, another request, and how to count what it made.
struct Create {
    service: &'static str,
    path: String,
    body: Value,
    other_body: Value,
    /// The request sent in the burst with a key of its own, when it cannot be `body` again
    /// (a second registration of one person is a duplicate).
    burst_body: Option<Value>,
    /// Counts what the creates made at the centre (`$1`).
    count: &'static str,
    /// Whether another caller sending the same request makes a second one (false where
    /// the service refuses it on its own merits, as a registration of the same person).
    another_caller_creates: bool,
}

async fn count(platform: &TestPlatform, create: &Create, centre: Uuid) -> i64 {
    let pool = platform.pool(create.service).await;
    let n: i64 = sqlx::query_scalar(create.count)
        .bind(centre)
        .fetch_one(&pool)
        .await
        .expect("count");
    pool.close().await;
    n
}

/// Sends `create` as `token` with one key twice, with a second key twenty times at once,
/// with the first key and another request, and as another caller with the first key:
/// one thing made per key, the same answer every time, the other request refused naming
/// the header, and the other caller answered for themselves. Returns the first answer.
async fn one_effect_per_key(
    platform: &TestPlatform,
    create: &Create,
    centre: Uuid,
    token: &str,
    other_caller: &str,
) -> Value {
    let key = format!("key-{}", Uuid::new_v4());
    let (status, first) = platform
        .post_json(token, &create.path, &create.body, Some(&key))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{}: {first}", create.path);
    let (status, again) = platform
        .post_json(token, &create.path, &create.body, Some(&key))
        .await;
    assert_eq!(
        (status, &again),
        (StatusCode::CREATED, &first),
        "{}: the same key and request answers the first answer",
        create.path
    );
    assert_eq!(count(platform, create, centre).await, 1, "{}", create.path);

    let burst_key = format!("burst-{}", Uuid::new_v4());
    let burst_body = create.burst_body.as_ref().unwrap_or(&create.body);
    let burst = join_all(
        (0..20).map(|_| platform.post_json(token, &create.path, burst_body, Some(&burst_key))),
    )
    .await;
    let (status, answer) = &burst[0];
    assert_eq!(*status, StatusCode::CREATED, "{}: {answer}", create.path);
    assert_ne!(answer["id"], first["id"], "a new key is a new create");
    for (status, body) in &burst {
        assert_eq!(
            (status, body),
            (&StatusCode::CREATED, answer),
            "{}",
            create.path
        );
    }
    assert_eq!(
        count(platform, create, centre).await,
        2,
        "{}: twenty requests at once with one key make one",
        create.path
    );

    let (status, refused) = platform
        .post_json(token, &create.path, &create.other_body, Some(&key))
        .await;
    assert_eq!(
        status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}: {refused}",
        create.path
    );
    assert!(
        refused["detail"]
            .as_str()
            .is_some_and(|d| d.contains("Idempotency-Key")),
        "the refusal names the header: {refused}"
    );
    assert_eq!(count(platform, create, centre).await, 2, "{}", create.path);

    let (status, theirs) = platform
        .post_json(other_caller, &create.path, &create.body, Some(&key))
        .await;
    assert_ne!(
        theirs, first,
        "{}: another caller's key never replays the first caller's answer",
        create.path
    );
    if create.another_caller_creates {
        assert_eq!(status, StatusCode::CREATED, "{}: {theirs}", create.path);
        assert_eq!(count(platform, create, centre).await, 3, "{}", create.path);
    }
    first
}

fn caller(platform: &TestPlatform, subject: &str, role: Role, centre: Uuid) -> String {
    platform
        .keys
        .issue(subject, &[role], &[centre], chrono::Duration::hours(1))
}

#[tokio::test]
async fn a_donation_sent_again_with_its_key_keeps_one_receipt_one_ledger_entry_and_counts_once() {
    let platform = TestPlatform::start().await;
    let centre = platform.create_centre("idem-fin").await;
    let officer = caller(&platform, "officer-1", Role::FinanceOfficer, centre);
    let other = caller(&platform, "officer-2", Role::FinanceOfficer, centre);
    let donation = |amount: i64| json!({ "donor_name": "李明", "amount_minor": amount, "purpose": "助老", "received_on": "2025-06-03" });
    let create = Create {
        service: "finance",
        path: format!("/v1/centres/{centre}/finance/donations"),
        body: donation(50_000),
        other_body: donation(60_000),
        burst_body: None,
        count: "SELECT count(*) FROM donations WHERE centre_id = $1",
        another_caller_creates: true,
    };
    let first = one_effect_per_key(&platform, &create, centre, &officer, &other).await;
    assert_eq!(first["receipt"], "2025-000001");

    let pool = platform.pool("finance").await;
    let (entries, receipts): (i64, i64) = sqlx::query_as(
        "SELECT (SELECT count(*) FROM journal_entries WHERE centre_id = $1),
                (SELECT count(DISTINCT receipt_number) FROM donations WHERE centre_id = $1)",
    )
    .bind(centre)
    .fetch_one(&pool)
    .await
    .expect("counts");
    pool.close().await;
    assert_eq!(
        (entries, receipts),
        (3, 3),
        "one entry and one receipt per create"
    );
    let (status, figures) = platform
        .get_json(
            &officer,
            &format!("/v1/centres/{centre}/finance/self-sufficiency?from=2025-06&to=2025-06"),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{figures}");
    assert_eq!(
        figures["own_income_minor"],
        3 * 50_000,
        "each donation counts once, however often it was sent"
    );
    platform.stop().await;
}

#[tokio::test]
async fn a_resident_registered_again_with_its_key_is_registered_once() {
    let platform = TestPlatform::start().await;
    let centre = platform.create_centre("idem-reg").await;
    let desk = caller(&platform, "desk-1", Role::FrontDesk, centre);
    let other = caller(&platform, "desk-2", Role::FrontDesk, centre);
    let create = Create {
        service: "registry",
        path: format!("/v1/centres/{centre}/residents"),
        body: json!({ "name": "赵红", "gender": "female", "date_of_birth": "1948-05-06", "phone": "13811112222" }),
        other_body: json!({ "name": "赵红", "gender": "female", "date_of_birth": "1948-05-07" }),
        burst_body: Some(
            json!({ "name": "钱军", "gender": "male", "date_of_birth": "1951-08-09", "phone": "13833334444" }),
        ),
        count: "SELECT count(*) FROM residents WHERE centre_id = $1",
        // Another desk sending the same person is refused as a probable duplicate.
        another_caller_creates: false,
    };
    let first = one_effect_per_key(&platform, &create, centre, &desk, &other).await;
    assert_eq!(first["phone"], "13811112222");
    platform.stop().await;
}

#[tokio::test]
async fn a_suggestion_submitted_again_with_its_key_is_received_once() {
    let platform = TestPlatform::start().await;
    let centre = platform.bookable_centre("Asia/Shanghai").await;
    let desk = caller(&platform, "desk-1", Role::FrontDesk, centre);
    let other = caller(&platform, "desk-2", Role::FrontDesk, centre);
    let create = Create {
        service: "evaluation",
        path: format!("/v1/centres/{centre}/suggestions"),
        body: json!({ "text": "希望增加周末的书法课", "channel": "box" }),
        other_body: json!({ "text": "希望增加周末的太极课", "channel": "box" }),
        burst_body: None,
        count: "SELECT count(*) FROM suggestions WHERE centre_id = $1",
        another_caller_creates: true,
    };
    one_effect_per_key(&platform, &create, centre, &desk, &other).await;
    platform.stop().await;
}

#[tokio::test]
async fn an_offering_created_again_with_its_key_is_created_once() {
    let platform = TestPlatform::start().await;
    let centre = platform.bookable_centre("Asia/Shanghai").await;
    let manager = caller(&platform, "manager-1", Role::CentreManager, centre);
    let other = caller(&platform, "manager-2", Role::CentreManager, centre);
    let create = Create {
        service: "bookings",
        path: format!("/v1/centres/{centre}/offerings"),
        body: json!({ "category": "health", "kind": "event", "name": "义诊", "capacity": 30 }),
        other_body: json!({ "category": "health", "kind": "event", "name": "义诊", "capacity": 40 }),
        burst_body: None,
        count: "SELECT count(*) FROM offerings WHERE centre_id = $1",
        another_caller_creates: true,
    };
    one_effect_per_key(&platform, &create, centre, &manager, &other).await;
    platform.stop().await;
}

#[tokio::test]
async fn hours_logged_again_with_their_key_are_logged_once() {
    let platform = TestPlatform::start().await;
    let centre = platform.volunteering_centre("Asia/Shanghai").await;
    let manager = caller(&platform, "manager-1", Role::CentreManager, centre);
    let other = caller(&platform, "manager-2", Role::CentreManager, centre);
    let (status, resident) = platform
        .post_json(
            &manager,
            &format!("/v1/centres/{centre}/residents"),
            &json!({ "name": "陈静", "gender": "female", "date_of_birth": "1975-04-01" }),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{resident}");
    let resident: Uuid = resident["id"].as_str().expect("id").parse().expect("uuid");
    platform.wait_for_residents_in_volunteers(&[resident]).await;
    let (status, volunteer) = platform
        .post_json(
            &manager,
            &format!("/v1/centres/{centre}/volunteers"),
            &json!({ "resident_id": resident, "display_name": "陈阿姨" }),
            Some("register-chen"),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{volunteer}");
    let (status, again) = platform
        .post_json(
            &manager,
            &format!("/v1/centres/{centre}/volunteers"),
            &json!({ "resident_id": resident, "display_name": "陈阿姨" }),
            Some("register-chen"),
        )
        .await;
    assert_eq!(
        (status, &again),
        (StatusCode::CREATED, &volunteer),
        "a registration sent again is answered as the first time"
    );
    let hours = |minutes: i64| json!({ "volunteer_id": volunteer["id"], "worked_on": "2026-01-10", "minutes": minutes, "note": "陪伴老人" });
    let create = Create {
        service: "volunteers",
        path: format!("/v1/centres/{centre}/hours"),
        body: hours(90),
        other_body: hours(120),
        burst_body: None,
        count: "SELECT count(*) FROM hour_entries WHERE centre_id = $1",
        another_caller_creates: true,
    };
    one_effect_per_key(&platform, &create, centre, &manager, &other).await;
    platform.stop().await;
}

#[tokio::test]
async fn a_create_whose_answer_was_lost_after_it_committed_is_reported_applied_not_applied_again() {
    let platform = TestPlatform::start().await;
    let centre = platform.create_centre("idem-lost").await;
    let officer = caller(&platform, "officer-1", Role::FinanceOfficer, centre);
    let path = format!("/v1/centres/{centre}/finance/donations");
    let body = json!({ "anonymous": true, "amount_minor": 1_000, "received_on": "2025-06-03" });
    let (status, first) = platform
        .post_json(&officer, &path, &body, Some("crash-1"))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{first}");
    // What a process that stopped between the commit and keeping the answer leaves: the
    // claim, committed with the donation, without an answer, from a while ago.
    let pool = platform.pool("finance").await;
    let lost = sqlx::query(
        "UPDATE idempotency_keys
         SET answered_at = NULL, answer_sealed = NULL, answer_key_id = NULL,
             claimed_at = now() - interval '1 hour'
         WHERE subject = 'officer-1' AND key = 'crash-1'",
    )
    .execute(&pool)
    .await
    .expect("updated");
    assert_eq!(
        lost.rows_affected(),
        1,
        "the claim was kept with the donation"
    );
    let (status, refused) = platform
        .post_json(&officer, &path, &body, Some("crash-1"))
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{refused}");
    assert!(
        refused["detail"]
            .as_str()
            .is_some_and(|d| d.contains("applied already") && d.contains("lost")),
        "{refused}"
    );
    let donations: i64 = sqlx::query_scalar("SELECT count(*) FROM donations WHERE centre_id = $1")
        .bind(centre)
        .fetch_one(&pool)
        .await
        .expect("count");
    assert_eq!(donations, 1, "never applied twice");
    pool.close().await;
    platform.stop().await;
}

/// The claim at the heart of it, on the database: it commits with its transaction or not
/// at all, a second request cannot take a committed one (and waits for one in flight),
/// and one request may claim again in a transaction of its own.
#[tokio::test]
async fn a_claim_commits_with_its_transaction_and_no_other_request_can_take_it() {
    let platform = TestPlatform::start().await;
    let pool = platform.pool("evaluation").await;
    let claim = |attempt: Uuid| Claim {
        subject: "desk-1".into(),
        method: "/linli.evaluation.v1.Evaluation/SubmitSuggestion".into(),
        key: "k-1".into(),
        request_hash: vec![1, 2, 3],
        attempt,
    };
    let (first, second) = (Uuid::new_v4(), Uuid::new_v4());

    // A request that dies mid-transaction (its transaction dropped, as a crash rolls it
    // back) leaves the key free.
    let tx = claiming(claim(first), linli_platform::db::begin(&pool))
        .await
        .expect("claimed");
    drop(tx);

    let holder = claiming(claim(second), linli_platform::db::begin(&pool))
        .await
        .expect("the key is free again");
    let waiting = tokio::spawn({
        let pool = pool.clone();
        async move {
            claiming(claim(first), linli_platform::db::begin(&pool))
                .await
                .map(drop)
        }
    });
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(
        !waiting.is_finished(),
        "a duplicate waits for the claim in flight"
    );
    holder.commit().await.expect("committed");
    let taken = waiting.await.expect("joined").expect_err("refused");
    assert!(is_claim_taken(&taken), "{taken}");

    // The holder itself may claim again (a create that commits in two steps).
    let again = claiming(claim(second), linli_platform::db::begin(&pool))
        .await
        .expect("its own claim");
    again.rollback().await.expect("rolled back");
    pool.close().await;
    platform.stop().await;
}

#[tokio::test]
async fn a_resident_the_centre_probably_has_is_refused_naming_them_unless_the_desk_confirms() {
    let platform = TestPlatform::start().await;
    let centre = platform.create_centre("idem-dup").await;
    let desk = caller(&platform, "desk-1", Role::FrontDesk, centre);
    let path = format!("/v1/centres/{centre}/residents");
    let person = json!({ "name": "王芳", "gender": "female", "date_of_birth": "1950-02-03", "phone": "13800000001" });
    let (status, first) = platform.post_json(&desk, &path, &person, None).await;
    assert_eq!(status, StatusCode::CREATED, "{first}");

    let (status, refused) = platform.post_json(&desk, &path, &person, None).await;
    assert_eq!(status, StatusCode::CONFLICT, "{refused}");
    assert_eq!(refused["code"], "resident_probably_registered");
    assert_eq!(refused["params"]["resident_id"], first["id"]);
    assert!(
        !refused.to_string().contains("13800000001"),
        "no phone number in the refusal: {refused}"
    );

    let mut confirmed = person.clone();
    confirmed["confirm_not_duplicate"] = json!(true);
    let (status, second) = platform.post_json(&desk, &path, &confirmed, None).await;
    assert_eq!(status, StatusCode::CREATED, "{second}");
    assert_ne!(second["id"], first["id"]);

    // Another phone is another person by the rule.
    let mut other_phone = person.clone();
    other_phone["phone"] = json!("13800000002");
    let (status, third) = platform.post_json(&desk, &path, &other_phone, None).await;
    assert_eq!(status, StatusCode::CREATED, "{third}");

    // The import skips by the same rule: the same person is already registered, a fourth
    // phone is someone new.
    let sheet =
        "姓名,性别,出生日期,手机\n王芳,女,1950-02-03,13800000001\n王芳,女,1950-02-03,13800000004\n";
    let response = platform
        .http
        .post(format!("{}{path}/imports", platform.gateway))
        .bearer_auth(&desk)
        .header("content-type", "text/csv")
        .body(sheet)
        .send()
        .await
        .expect("the gateway answers");
    assert_eq!(response.status(), StatusCode::OK);
    let report: Value = response.json().await.expect("a report");
    assert_eq!(report["already_registered"], json!([2]), "{report}");
    assert_eq!(report["imported"], 1, "{report}");

    let pool = platform.pool("registry").await;
    let residents: i64 = sqlx::query_scalar("SELECT count(*) FROM residents WHERE centre_id = $1")
        .bind(centre)
        .fetch_one(&pool)
        .await
        .expect("count");
    pool.close().await;
    assert_eq!(residents, 4);
    platform.stop().await;
}
