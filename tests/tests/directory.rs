//! The directory end to end: every write that names a centre, resident, staff member or
//! partner is checked against the service's own read model of the district (the
//! platform's directory, fed by events). A signed token naming a centre that does not
//! exist writes nothing anywhere and the district's roll-up never lists it; centre A
//! naming centre B's resident, staff member or partner, or an id that exists nowhere, is
//! refused naming the field; and a centre's time zone is one and the same in every
//! service, corrections included.

use linli_platform::auth::Role;
use linli_proto::registry::v1 as registry;
use linli_proto::registry::v1::registry_client::RegistryClient;
use linli_tests::{TestPlatform, poll};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use std::time::Duration;
use uuid::Uuid;

const DEADLINE: Duration = Duration::from_secs(30);

/// The fields a problem document names.
fn fields(problem: &Value) -> Vec<String> {
    problem["errors"]
        .as_array()
        .map(|errors| {
            errors
                .iter()
                .filter_map(|e| e["field"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

fn id(body: &Value) -> Uuid {
    body["id"]
        .as_str()
        .and_then(|id| id.parse().ok())
        .unwrap_or_else(|| panic!("an id in {body}"))
}

/// One write through the gateway: who sends it, how, where, and what.
struct Write {
    what: &'static str,
    token: String,
    method: Method,
    path: String,
    body: Value,
}

impl Write {
    fn post(what: &'static str, token: &str, path: String, body: Value) -> Write {
        Write {
            what,
            token: token.to_owned(),
            method: Method::POST,
            path,
            body,
        }
    }

    async fn send(&self, platform: &TestPlatform) -> (StatusCode, Value) {
        let response = platform
            .http
            .request(
                self.method.clone(),
                format!("{}{}", platform.gateway, self.path),
            )
            .bearer_auth(&self.token)
            .json(&self.body)
            .send()
            .await
            .expect("the gateway answers");
        let status = response.status();
        (status, response.json().await.unwrap_or(Value::Null))
    }
}

/// Rows of `table` in `service`'s database whose `column` is `id` (an array column when
/// `any`).
async fn count(platform: &TestPlatform, service: &str, sql: &str, id: Uuid) -> i64 {
    let pool = platform.pool(service).await;
    let n = sqlx::query_scalar(sqlx::AssertSqlSafe(sql.to_owned()))
        .bind(id)
        .fetch_one(&pool)
        .await
        .unwrap_or_else(|e| panic!("{service}: {sql}: {e}"));
    pool.close().await;
    n
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn writes_for_a_centre_that_does_not_exist_are_refused_naming_it_and_write_nothing() {
    let platform = TestPlatform::start().await;
    let real = platform.create_centre("dir-real").await;
    let ghost = Uuid::new_v4();
    let admin = platform.admin_token();
    // A correctly signed token of the ghost centre's manager and finance officer.
    let manager = platform.token(&[Role::CentreManager, Role::FinanceOfficer], &[ghost]);
    let at = |path: &str| format!("/v1/centres/{ghost}{path}");
    let today = (chrono::Utc::now() + chrono::Duration::hours(8)).date_naive();

    let mut writes = Vec::new();
    for token in [&admin, &manager] {
        writes.extend([
            Write::post(
                "a journal entry",
                token,
                at("/finance/entries"),
                json!({ "entry_date": today.to_string(), "description": "拨款",
                        "lines": [{ "account_code": "1002", "debit_minor": 100, "credit_minor": 0 },
                                  { "account_code": "4001", "debit_minor": 0, "credit_minor": 100 }] }),
            ),
            Write::post(
                "a donation",
                token,
                at("/finance/donations"),
                json!({ "donor_name": "王先生", "amount_minor": 10_000 }),
            ),
            Write {
                what: "a budget",
                token: token.to_owned(),
                method: Method::PUT,
                path: at(&format!("/finance/budgets/{}/office_costs", today.format("%Y"))),
                body: json!({ "amount_minor": 100_000 }),
            },
            Write::post(
                "a grant",
                token,
                at("/finance/grants"),
                json!({ "kind": "appropriation", "granting_body": "区民政局", "purpose": "运营",
                        "amount_minor": 100, "received_on": today.to_string() }),
            ),
            Write::post(
                "an expense",
                token,
                at("/finance/expenses"),
                json!({ "category": "office_costs", "amount_minor": 100, "description": "茶叶",
                        "spent_on": today.to_string() }),
            ),
            Write::post(
                "partnership income",
                token,
                at("/finance/partnership-income"),
                json!({ "partner_id": Uuid::new_v4(), "description": "送餐分成", "amount_minor": 100,
                        "received_on": today.to_string() }),
            ),
            Write::post(
                "an offering",
                token,
                at("/offerings"),
                json!({ "category": "health", "kind": "event", "name": "义诊", "capacity": 10 }),
            ),
            Write::post(
                "a facility",
                token,
                at("/facilities"),
                json!({ "name": "活动室", "kind": "room", "opens": "08:00", "closes": "20:00",
                        "open_days": [1, 2, 3, 4, 5] }),
            ),
            Write::post(
                "a staff member",
                token,
                at("/staff"),
                json!({ "name": "李护士", "position": "nurse", "employed_from": "2025-09-01" }),
            ),
            Write::post(
                "a course",
                token,
                at("/courses"),
                json!({ "title": "服务礼仪", "audience": "all", "minutes": 90 }),
            ),
            Write::post(
                "a group",
                token,
                at("/groups"),
                json!({ "name": "合唱团", "kind": "art_team" }),
            ),
            Write::post(
                "an opportunity",
                token,
                at("/opportunities"),
                json!({ "title": "陪伴老人", "description": "每周两次" }),
            ),
            Write::post(
                "a volunteer",
                token,
                at("/volunteers"),
                json!({ "resident_id": Uuid::new_v4(), "display_name": "小王" }),
            ),
            Write::post(
                "a suggestion",
                token,
                at("/suggestions"),
                json!({ "text": "希望增加书法课", "channel": "box" }),
            ),
            Write::post(
                "an inspection",
                token,
                at("/inspections"),
                json!({ "inspector": "区民政局", "inspected_on": today.to_string(),
                        "items": [{ "item": "消防", "passed": true, "score": 9, "note": "" }] }),
            ),
            Write::post(
                "a survey template",
                token,
                at("/survey-templates"),
                json!({ "kind": "periodic", "title": "季度回访",
                        "questions": [{ "key": "satisfaction", "text": "满意吗？", "kind": "scale" }] }),
            ),
        ]);
    }
    let mut wrong = Vec::new();
    for write in &writes {
        let (status, problem) = write.send(&platform).await;
        if status != StatusCode::NOT_FOUND || !fields(&problem).contains(&"centre_id".to_owned()) {
            wrong.push(format!(
                "{} ({}): {status} {problem}",
                write.what, write.path
            ));
        }
    }
    assert!(
        wrong.is_empty(),
        "a write for a centre that does not exist must be a 404 naming centre_id:\n{}",
        wrong.join("\n")
    );

    // A district admin cannot give an account an unknown centre either.
    let mut accounts = RegistryClient::connect(format!("http://{}", platform.registry))
        .await
        .expect("the registry answers");
    let mut request = tonic::Request::new(registry::CreateStaffAccountRequest {
        username: "ghost.manager".into(),
        display_name: "幽灵中心主任".into(),
        password: "a-long-enough-password".into(),
        roles: vec!["centre_manager".into()],
        centre_ids: vec![real.to_string(), ghost.to_string()],
    });
    request.metadata_mut().insert(
        "authorization",
        format!("Bearer {admin}").parse().expect("ascii"),
    );
    let refused = accounts
        .create_staff_account(request)
        .await
        .expect_err("an account for an unknown centre is refused");
    assert_eq!(refused.code(), tonic::Code::NotFound, "{refused:?}");
    assert_eq!(
        linli_platform::error::violations_of(&refused)[0].field,
        "centre_ids"
    );

    // Nothing was written for the ghost centre, in any service, nor announced.
    let rows = [
        (
            "registry",
            "SELECT count(*) FROM staff_accounts WHERE $1 = ANY(centres)",
        ),
        ("finance", "SELECT count(*) FROM centres WHERE id = $1"),
        (
            "finance",
            "SELECT count(*) FROM journal_entries WHERE centre_id = $1",
        ),
        (
            "finance",
            "SELECT count(*) FROM donations WHERE centre_id = $1",
        ),
        (
            "finance",
            "SELECT count(*) FROM budgets WHERE centre_id = $1",
        ),
        (
            "bookings",
            "SELECT count(*) FROM offerings WHERE centre_id = $1",
        ),
        (
            "bookings",
            "SELECT count(*) FROM facilities WHERE centre_id = $1",
        ),
        (
            "volunteers",
            "SELECT count(*) FROM staff WHERE centre_id = $1",
        ),
        (
            "volunteers",
            "SELECT count(*) FROM courses WHERE centre_id = $1",
        ),
        (
            "volunteers",
            "SELECT count(*) FROM community_groups WHERE centre_id = $1",
        ),
        (
            "volunteers",
            "SELECT count(*) FROM opportunities WHERE centre_id = $1",
        ),
        (
            "volunteers",
            "SELECT count(*) FROM volunteers WHERE centre_id = $1",
        ),
        (
            "evaluation",
            "SELECT count(*) FROM suggestions WHERE centre_id = $1",
        ),
        (
            "evaluation",
            "SELECT count(*) FROM inspections WHERE centre_id = $1",
        ),
        (
            "evaluation",
            "SELECT count(*) FROM survey_templates WHERE centre_id = $1",
        ),
    ];
    for (service, sql) in rows {
        assert_eq!(
            count(&platform, service, sql, ghost).await,
            0,
            "{service}: {sql}"
        );
    }
    for service in linli_tests::SERVICES {
        let sql = "SELECT count(*) FROM outbox WHERE centre_id = $1";
        assert_eq!(
            count(&platform, service, sql, ghost).await,
            0,
            "{service}'s outbox"
        );
    }

    // The district's roll-up lists the real centre and never the ghost, whoever asks.
    for token in [&admin, &manager] {
        let (status, rollup) = platform
            .get_json(
                token,
                "/v1/finance/self-sufficiency?from=2026-01&to=2026-12",
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{rollup}");
        let listed: Vec<&str> = rollup["centres"]
            .as_array()
            .expect("centres")
            .iter()
            .filter_map(|c| c["centre_id"].as_str())
            .collect();
        assert!(!listed.contains(&ghost.to_string().as_str()), "{rollup}");
    }
    let (_, rollup) = platform
        .get_json(
            &admin,
            "/v1/finance/self-sufficiency?from=2026-01&to=2026-12",
        )
        .await;
    assert!(
        rollup["centres"]
            .as_array()
            .expect("centres")
            .iter()
            .any(|c| c["centre_id"] == real.to_string()),
        "{rollup}"
    );
    platform.stop().await;
}

/// What one centre has: its residents, staff member and partner, as the API made them.
struct Known {
    resident: Uuid,
    staff: Uuid,
    partner: Uuid,
    agreement: Uuid,
}

async fn populate(platform: &TestPlatform, centre: Uuid, name: &str, born: &str) -> Known {
    let manager = platform.token(&[Role::CentreManager], &[centre]);
    let admin = platform.admin_token();
    let created = |token: String, path: String, body: Value| async move {
        let (status, reply) = platform.post_json(&token, &path, &body, None).await;
        assert!(status.is_success(), "{path}: {status} {reply}");
        reply
    };
    let at = |path: &str| format!("/v1/centres/{centre}{path}");
    let resident = id(&created(
        manager.clone(),
        at("/residents"),
        json!({ "name": name, "gender": "female", "date_of_birth": born }),
    )
    .await);
    let staff = id(&created(
        manager.clone(),
        at("/staff"),
        json!({ "name": format!("{name}的社工"), "position": "social_worker", "employed_from": "2024-03-01" }),
    )
    .await);
    let partner = id(&created(
        admin.clone(),
        "/v1/partners".into(),
        json!({ "name": format!("{name}合作社 {}", Uuid::new_v4().simple()), "kind": "enterprise" }),
    )
    .await);
    let today = (chrono::Utc::now() + chrono::Duration::hours(8)).date_naive();
    let agreement = id(&created(
        admin,
        format!("/v1/partners/{partner}/agreements"),
        json!({ "centre_id": centre, "provides": "送餐服务", "scopes": ["evaluation.kpis:read"],
                "valid_from": (today - chrono::Duration::days(1)).to_string(),
                "valid_until": (today + chrono::Duration::days(365)).to_string() }),
    )
    .await);
    Known {
        resident,
        staff,
        partner,
        agreement,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn naming_another_centres_resident_staff_or_partner_or_an_id_of_nowhere_is_refused_naming_the_field()
 {
    let platform = TestPlatform::start().await;
    let a = platform.bookable_centre("Asia/Shanghai").await;
    let b = platform.bookable_centre("Asia/Shanghai").await;
    let ours = populate(&platform, a, "陈静", "1975-04-01").await;
    let theirs = populate(&platform, b, "赵敏", "1968-09-12").await;
    platform
        .wait_for_residents(&[ours.resident, theirs.resident])
        .await;
    platform
        .wait_in_directories("staff", &[ours.staff, theirs.staff])
        .await;
    platform
        .wait_in_directories("partner_agreements", &[ours.agreement, theirs.agreement])
        .await;
    let nowhere = Uuid::new_v4();
    let manager = platform.token(&[Role::CentreManager, Role::FinanceOfficer], &[a]);
    let at = |path: &str| format!("/v1/centres/{a}{path}");
    let today = (chrono::Utc::now() + chrono::Duration::hours(8)).date_naive();
    let (status, templates) = platform.get_json(&manager, &at("/survey-templates")).await;
    assert_eq!(status, StatusCode::OK, "{templates}");
    let template = templates["templates"][0]["id"]
        .as_str()
        .expect("a survey template")
        .to_owned();
    let (status, group) = platform
        .post_json(
            &manager,
            &at("/groups"),
            &json!({ "name": "书法社", "kind": "interest_group" }),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{group}");
    let group = id(&group);

    // Each write, with the id it names and the field that names it.
    let writes = |resident: Uuid, staff: Uuid, partner: Uuid| {
        vec![
            (
                "a follow-up's resident",
                "resident_id",
                at("/follow-ups"),
                json!({ "resident_id": resident, "staff_id": ours.staff, "reason": "电话回访",
                        "due_on": today.to_string() }),
            ),
            (
                "a follow-up's staff member",
                "staff_id",
                at("/follow-ups"),
                json!({ "resident_id": ours.resident, "staff_id": staff, "reason": "电话回访",
                        "due_on": today.to_string() }),
            ),
            (
                "an invitation",
                "resident_id",
                at("/invitations"),
                json!({ "template_id": template, "resident_id": resident }),
            ),
            (
                "a suggestion",
                "resident_id",
                at("/suggestions"),
                json!({ "resident_id": resident, "text": "希望增加书法课", "channel": "box" }),
            ),
            (
                "a donation",
                "donor_resident_id",
                at("/finance/donations"),
                json!({ "donor_name": "热心居民", "donor_resident_id": resident, "amount_minor": 5_000 }),
            ),
            (
                "partnership income",
                "partner_id",
                at("/finance/partnership-income"),
                json!({ "partner_id": partner, "description": "送餐分成", "amount_minor": 100,
                        "received_on": today.to_string() }),
            ),
            (
                "an offering's partner",
                "offering.provider_id",
                at("/offerings"),
                json!({ "category": "life_services", "kind": "event", "name": "送餐", "capacity": 10,
                        "provider": "partner", "provider_id": partner }),
            ),
            (
                "an offering's staff member",
                "offering.staff_id",
                at("/offerings"),
                json!({ "category": "health", "kind": "event", "name": "义诊", "capacity": 10,
                        "staff_id": staff }),
            ),
            (
                "a volunteer",
                "resident_id",
                at("/volunteers"),
                json!({ "resident_id": resident, "display_name": "小陈" }),
            ),
            (
                "a group member",
                "resident_id",
                at(&format!("/groups/{group}/members")),
                json!({ "resident_id": resident, "role": "member" }),
            ),
        ]
    };

    let mut wrong = Vec::new();
    for (whose, (resident, staff, partner)) in [
        (
            "centre B's",
            (theirs.resident, theirs.staff, theirs.partner),
        ),
        ("nowhere's", (nowhere, nowhere, nowhere)),
    ] {
        for (what, field, path, body) in writes(resident, staff, partner) {
            let (status, problem) = platform.post_json(&manager, &path, &body, None).await;
            if status != StatusCode::UNPROCESSABLE_ENTITY
                || !fields(&problem).contains(&field.to_owned())
            {
                wrong.push(format!(
                    "{what} naming {whose} id ({path}): {status} {problem}"
                ));
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "naming another centre's or no one's id must be a 422 naming the field:\n{}",
        wrong.join("\n")
    );

    // Nothing of it was written.
    for id in [theirs.resident, theirs.staff, theirs.partner, nowhere] {
        for (service, sql) in [
            (
                "evaluation",
                "SELECT count(*) FROM follow_ups WHERE resident_id = $1 OR staff_id = $1",
            ),
            (
                "evaluation",
                "SELECT count(*) FROM invitations WHERE resident_id = $1",
            ),
            (
                "evaluation",
                "SELECT count(*) FROM suggestions WHERE resident_id = $1",
            ),
            (
                "finance",
                "SELECT count(*) FROM donations WHERE donor_resident_id = $1",
            ),
            (
                "finance",
                "SELECT count(*) FROM partnership_income WHERE partner_id = $1",
            ),
            (
                "bookings",
                "SELECT count(*) FROM offerings WHERE provider_id = $1 OR staff_id = $1",
            ),
            (
                "volunteers",
                "SELECT count(*) FROM volunteers WHERE resident_id = $1",
            ),
            (
                "volunteers",
                "SELECT count(*) FROM group_members WHERE resident_id = $1",
            ),
        ] {
            assert_eq!(
                count(&platform, service, sql, id).await,
                0,
                "{service}: {sql}"
            );
        }
    }
    let (status, donations) = platform.get_json(&manager, &at("/finance/donations")).await;
    assert_eq!(status, StatusCode::OK, "{donations}");
    assert_eq!(donations["donations"], json!([]), "no receipt number given");

    // The same writes naming the centre's own are accepted: the check refuses only what
    // is not the centre's.
    for (what, _, path, body) in writes(ours.resident, ours.staff, ours.partner) {
        let (status, reply) = platform.post_json(&manager, &path, &body, None).await;
        assert!(status.is_success(), "{what} ({path}): {status} {reply}");
    }
    platform.stop().await;
}

/// The time zone each service's directory holds for `centre`.
async fn zones(platform: &TestPlatform, centre: Uuid) -> Vec<(&'static str, Option<String>)> {
    let mut found = Vec::new();
    for service in ["bookings", "volunteers", "finance", "evaluation"] {
        let pool = platform.pool(service).await;
        let zone: Option<String> =
            sqlx::query_scalar("SELECT time_zone FROM directory.centres WHERE id = $1")
                .bind(centre)
                .fetch_optional(&pool)
                .await
                .expect("the directory is readable");
        pool.close().await;
        found.push((service, zone));
    }
    found
}

/// The UTC start of a weekly series at 09:30 local time on 2027-03-15, as bookings plans it.
async fn series_start(platform: &TestPlatform, token: &str, centre: Uuid) -> (String, Value) {
    let at = |path: &str| format!("/v1/centres/{centre}{path}");
    let (status, offering) = platform
        .post_json(
            token,
            &at("/offerings"),
            &json!({ "category": "culture_education", "kind": "course", "name": "太极", "capacity": 12 }),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{offering}");
    let (status, series) = platform
        .post_json(
            token,
            &at("/series"),
            &json!({ "offering_id": offering["id"], "weekdays": [1], "start_time": "09:30",
                     "duration_minutes": 60, "starts_on": "2027-03-15", "count": 1 }),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{series}");
    (
        series["sessions"][0]["starts_at"]
            .as_str()
            .expect("a session")
            .to_owned(),
        series,
    )
}

#[tokio::test]
async fn a_centres_time_zone_is_the_same_in_every_service_and_follows_its_correction() {
    let platform = TestPlatform::start().await;
    let centre = platform.bookable_centre("Asia/Urumqi").await;
    for (service, zone) in zones(&platform, centre).await {
        assert_eq!(zone.as_deref(), Some("Asia/Urumqi"), "{service}");
    }
    let manager = platform.token(&[Role::CentreManager], &[centre]);
    // Urumqi is UTC+6: 09:30 there is 03:30 UTC.
    let (starts, series) = series_start(&platform, &manager, centre).await;
    assert_eq!(starts, "2027-03-15T03:30:00Z", "{series}");
    assert_eq!(series["time_zone"], "Asia/Urumqi");

    // The registry corrects the centre's zone; every service follows.
    let response = platform
        .http
        .patch(format!("{}/v1/centres/{centre}", platform.gateway))
        .bearer_auth(platform.admin_token())
        .header("content-type", "application/merge-patch+json")
        .body(json!({ "time_zone": "Asia/Shanghai" }).to_string())
        .send()
        .await
        .expect("the gateway answers");
    assert_eq!(response.status(), StatusCode::OK);
    poll("every service to take the correction", DEADLINE, || async {
        zones(&platform, centre)
            .await
            .iter()
            .all(|(_, zone)| zone.as_deref() == Some("Asia/Shanghai"))
            .then_some(())
    })
    .await;
    // Shanghai is UTC+8: 09:30 there is 01:30 UTC.
    let (starts, series) = series_start(&platform, &manager, centre).await;
    assert_eq!(starts, "2027-03-15T01:30:00Z", "{series}");
    assert_eq!(series["time_zone"], "Asia/Shanghai");
    platform.stop().await;
}
