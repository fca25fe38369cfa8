//! The alerts inbox end to end: a budget threshold (finance), a certification about to
//! expire (volunteers' sweep) and a resident's correction request (the registry) each
//! become one alert in evaluation, once even when the broker delivers the event again;
//! each role reads the kinds it handles, another centre reads none of them, and an
//! acknowledged alert leaves the inbox. A suggestion past its target is an alert while it
//! waits for its answer.

use std::time::Duration;

use chrono::{Datelike as _, NaiveDate, Utc};
use linli_platform::auth::Role;
use linli_proto::evaluation::v1 as ev;
use linli_proto::evaluation::v1::evaluation_client::EvaluationClient;
use linli_proto::finance::v1 as fi;
use linli_proto::finance::v1::finance_client::FinanceClient;
use linli_proto::registry::v1 as re;
use linli_proto::registry::v1::registry_client::RegistryClient;
use linli_tests::webdriver::Browser;
use linli_tests::{TestPlatform, bearer, poll};
use reqwest::StatusCode;
use serde_json::json;
use tonic::transport::Channel;
use uuid::Uuid;

const DEADLINE: Duration = Duration::from_secs(30);

async fn evaluation(platform: &TestPlatform) -> EvaluationClient<Channel> {
    EvaluationClient::connect(format!("http://{}", platform.evaluation))
        .await
        .expect("evaluation answers")
}

/// Every open alert `token` reads at `centre`, page by page (two a page, so the token is
/// exercised), and the open count the first page gave.
async fn alerts(
    platform: &TestPlatform,
    token: &str,
    centre: Uuid,
) -> Result<(Vec<ev::Alert>, u32), tonic::Status> {
    let mut client = evaluation(platform).await;
    let (mut all, mut page_token, mut count) = (Vec::new(), String::new(), None);
    loop {
        let page = client
            .list_alerts(bearer(
                token,
                ev::ListAlertsRequest {
                    centre_id: centre.to_string(),
                    page_size: 2,
                    page_token,
                },
            ))
            .await?
            .into_inner();
        count.get_or_insert(page.open_count);
        all.extend(page.alerts);
        if page.next_page_token.is_empty() {
            return Ok((all, count.unwrap_or_default()));
        }
        page_token = page.next_page_token;
    }
}

fn kinds(alerts: &[ev::Alert]) -> Vec<&str> {
    let mut kinds: Vec<&str> = alerts.iter().map(|a| a.kind.as_str()).collect();
    kinds.sort();
    kinds
}

/// The rows evaluation keeps for `centre`, by kind.
async fn kept(platform: &TestPlatform, centre: Uuid) -> Vec<(String, i64)> {
    let pool = platform.pool("evaluation").await;
    let rows = sqlx::query_as(
        "SELECT kind, count(*) FROM alerts WHERE centre_id = $1 GROUP BY kind ORDER BY kind",
    )
    .bind(centre)
    .fetch_all(&pool)
    .await
    .expect("evaluation readable");
    pool.close().await;
    rows
}

/// Publishes again, through the real broker, what `service`'s outbox sent under
/// `routing_key` for `centre`: the same event id, type and payload, as a redelivery.
async fn redeliver(platform: &TestPlatform, service: &str, routing_key: &str, centre: Uuid) {
    let pool = platform.pool(service).await;
    let rows: Vec<(Uuid, String, Vec<u8>)> = sqlx::query_as(
        "SELECT id, message_type, payload FROM outbox WHERE routing_key = $1 AND centre_id = $2",
    )
    .bind(routing_key)
    .bind(centre)
    .fetch_all(&pool)
    .await
    .expect("outbox readable");
    pool.close().await;
    assert!(!rows.is_empty(), "{service} published {routing_key}");
    for (id, message_type, payload) in rows {
        platform
            .publish_raw(routing_key, id, &message_type, &payload)
            .await;
    }
}

fn duplicates() -> u64 {
    linli_platform::metrics::EVENTS_CONSUMED
        .with_label_values(&["evaluation", "duplicate"])
        .get()
}

/// The centre's today in Shanghai.
fn today() -> NaiveDate {
    (Utc::now() + chrono::Duration::hours(8)).date_naive()
}

/// What [`raise_three`] set off at a centre.
struct Raised {
    resident: Uuid,
    volunteer: String,
    expires_on: NaiveDate,
}

/// Sets off, through the services themselves, the three facts that become alerts at `a`:
/// finance spends 90% of the year's office budget, volunteers' sweep finds a first-aid
/// certificate expiring in ten days, and a resident (signed in on the residents' site)
/// asks the registry to correct their address.
async fn raise_three(platform: &TestPlatform, a: Uuid, manager: &str) -> Raised {
    let officer = platform.token(&[Role::FinanceOfficer], &[a]);
    let coordinator = platform.token(&[Role::Coordinator], &[a]);
    // Finance: 90% of the year's office budget spent.
    let mut finance = FinanceClient::connect(format!("http://{}", platform.finance))
        .await
        .expect("finance answers");
    finance
        .set_budget(bearer(
            &officer,
            fi::SetBudgetRequest {
                centre_id: a.to_string(),
                fiscal_year: today().year(),
                category: "office_costs".into(),
                amount_minor: 10_000,
                currency: String::new(),
            },
        ))
        .await
        .expect("budget set");
    finance
        .record_expense(bearer(
            &officer,
            fi::RecordExpenseRequest {
                centre_id: a.to_string(),
                category: "office_costs".into(),
                amount_minor: 9_000,
                description: "打印纸".into(),
                spent_on: today().to_string(),
                ..Default::default()
            },
        ))
        .await
        .expect("expense recorded");

    // Volunteers: a volunteer whose first-aid certificate expires in ten days.
    let at = |path: &str| format!("/v1/centres/{a}{path}");
    let register = async |name: &str| {
        let (status, resident) = platform
            .post_json(
                manager,
                &at("/residents"),
                &json!({ "name": name, "gender": "female", "date_of_birth": "1975-04-01", "confirm_not_duplicate": true }),
                None,
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{resident}");
        let id: Uuid = resident["id"].as_str().expect("id").parse().expect("uuid");
        platform.wait_for_residents_in_volunteers(&[id]).await;
        id
    };
    let resident = register("陈静").await;
    let helper = register("李华").await;
    let (status, volunteer) = platform
        .post_json(
            &coordinator,
            &at("/volunteers"),
            &json!({ "resident_id": helper, "skills": ["tutoring"] }),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{volunteer}");
    let volunteer = volunteer["id"].as_str().expect("id").to_owned();
    let expires_on = today() + chrono::Days::new(10);
    let (status, body) = platform
        .post_json(
            &coordinator,
            &at("/certifications"),
            &json!({ "holder_id": volunteer, "kind": "first_aid", "issuer": "区红十字会",
                     "number": "RC-0001", "expires_on": expires_on.to_string() }),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");

    // The registry: the resident asks, signed in on the residents' site, for their
    // address to be corrected.
    let resident_token =
        platform
            .keys
            .issue_resident(resident, a, &[], Uuid::new_v4(), chrono::Duration::hours(1));
    RegistryClient::connect(format!("http://{}", platform.registry))
        .await
        .expect("registry answers")
        .request_correction(bearer(
            &resident_token,
            re::RequestCorrectionRequest {
                centre_id: a.to_string(),
                resident_id: resident.to_string(),
                fields: vec!["address".into()],
                details: "应为三号楼二单元五零一室".into(),
            },
        ))
        .await
        .expect("correction requested");

    Raised {
        resident,
        volunteer,
        expires_on,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn threshold_certification_and_correction_each_become_one_alert_for_their_roles_and_only_their_centre()
 {
    let platform = TestPlatform::start().await;
    let a = platform.bookable_centre("Asia/Shanghai").await;
    let b = platform.bookable_centre("Asia/Shanghai").await;
    let manager = platform.token(&[Role::CentreManager], &[a]);
    let officer = platform.token(&[Role::FinanceOfficer], &[a]);
    let coordinator = platform.token(&[Role::Coordinator], &[a]);
    let desk = platform.token(&[Role::FrontDesk], &[a]);
    let auditor = platform.token(&[Role::Auditor], &[a]);
    let elsewhere = platform.token(&[Role::CentreManager], &[b]);

    let Raised {
        resident,
        volunteer,
        expires_on,
    } = raise_three(&platform, a, &manager).await;

    let expected = vec![
        "budget_threshold",
        "certification_expiring",
        "correction_requested",
    ];
    let (seen, count) = poll("the three alerts at the manager's", DEADLINE, || async {
        let (list, count) = alerts(&platform, &manager, a).await.ok()?;
        (kinds(&list) == expected).then_some((list, count))
    })
    .await;
    assert_eq!(count, 3, "the open count says the same");

    // What each alert says and is about: ids, codes and numbers, no names or words.
    let by_kind = |kind: &str| seen.iter().find(|x| x.kind == kind).expect(kind).clone();
    let budget = by_kind("budget_threshold");
    assert_eq!(
        (budget.subject_kind.as_str(), budget.subject_id.as_str()),
        ("budget_category", "office_costs")
    );
    assert_eq!(budget.details["threshold_percent"], "90");
    assert_eq!(budget.details["fiscal_year"], today().year().to_string());
    let certificate = by_kind("certification_expiring");
    assert_eq!(
        (
            certificate.subject_kind.as_str(),
            certificate.subject_id.as_str()
        ),
        ("volunteer", volunteer.as_str())
    );
    assert_eq!(certificate.details["certification_kind"], "first_aid");
    assert_eq!(certificate.details["expires_on"], expires_on.to_string());
    let correction = by_kind("correction_requested");
    assert_eq!(
        (
            correction.subject_kind.as_str(),
            correction.subject_id.as_str()
        ),
        ("resident", resident.to_string().as_str())
    );
    assert_eq!(correction.details["fields"], "address");
    // Written in words, so no id or number in an alert holds it by chance (the digits
    // 501 once stood in a random id and failed this).
    assert!(
        !format!("{seen:?}").contains("五零一"),
        "what the resident wrote stays in the registry"
    );

    // A redelivery of each of the three events changes nothing.
    let before = duplicates();
    redeliver(&platform, "finance", "finance.budget.threshold_reached", a).await;
    redeliver(
        &platform,
        "volunteers",
        "volunteers.certification.expiring",
        a,
    )
    .await;
    redeliver(
        &platform,
        "registry",
        "registry.resident.correction_requested",
        a,
    )
    .await;
    poll("evaluation to see the three again", DEADLINE, || async {
        (duplicates() >= before + 3).then_some(())
    })
    .await;
    assert_eq!(
        kept(&platform, a).await,
        [
            ("budget_threshold".to_owned(), 1),
            ("certification_expiring".to_owned(), 1),
            ("correction_requested".to_owned(), 1)
        ]
    );
    assert_eq!(alerts(&platform, &manager, a).await.expect("list").1, 3);

    // Each role reads the kinds it handles.
    for (token, kind) in [
        (&officer, "budget_threshold"),
        (&coordinator, "certification_expiring"),
        (&desk, "correction_requested"),
    ] {
        let (list, count) = alerts(&platform, token, a).await.expect("their inbox");
        assert_eq!((kinds(&list), count), (vec![kind], 1));
    }
    let denied = alerts(&platform, &auditor, a)
        .await
        .expect_err("an auditor handles nothing");
    assert_eq!(denied.code(), tonic::Code::PermissionDenied);

    // Another centre's manager sees none of them, at their centre or at this one.
    let (theirs, count) = alerts(&platform, &elsewhere, b).await.expect("their inbox");
    assert!(theirs.is_empty() && count == 0, "{theirs:?}");
    let denied = alerts(&platform, &elsewhere, a)
        .await
        .expect_err("not their centre");
    assert_eq!(denied.code(), tonic::Code::PermissionDenied);
    let mut client = evaluation(&platform).await;
    let acknowledge = |token: &str, centre: Uuid, id: &str| {
        bearer(
            token,
            ev::AcknowledgeAlertRequest {
                centre_id: centre.to_string(),
                alert_id: id.to_owned(),
            },
        )
    };
    let denied = client
        .acknowledge_alert(acknowledge(&elsewhere, a, &correction.id))
        .await
        .expect_err("not their centre");
    assert_eq!(denied.code(), tonic::Code::PermissionDenied);
    let denied = client
        .acknowledge_alert(acknowledge(&elsewhere, b, &correction.id))
        .await
        .expect_err("not their centre's alert");
    assert_eq!(denied.code(), tonic::Code::NotFound);
    // Nor does a role acknowledge a kind it does not handle.
    let denied = client
        .acknowledge_alert(acknowledge(&desk, a, &budget.id))
        .await
        .expect_err("the desk does not handle budgets");
    assert_eq!(denied.code(), tonic::Code::NotFound);

    // The desk deals with the correction: it leaves every inbox, once.
    let done = client
        .acknowledge_alert(acknowledge(&desk, a, &correction.id))
        .await
        .expect("acknowledged")
        .into_inner();
    let first = done.acknowledged_at.expect("when");
    let again = client
        .acknowledge_alert(acknowledge(&manager, a, &correction.id))
        .await
        .expect("a second acknowledgement is harmless")
        .into_inner();
    assert_eq!(again.acknowledged_at, Some(first), "the first is kept");
    let (list, count) = alerts(&platform, &manager, a).await.expect("list");
    assert_eq!(
        (kinds(&list), count),
        (vec!["budget_threshold", "certification_expiring"], 2)
    );
    let (list, _) = alerts(&platform, &desk, a).await.expect("list");
    assert!(list.is_empty(), "{list:?}");

    // An hours milestone, as volunteers publishes it, delivered twice: one alert, the
    // coordinator's.
    let milestone = linli_proto::events::v1::HoursMilestoneReached {
        volunteer_id: volunteer.clone(),
        centre_id: a.to_string(),
        milestone_hours: 100,
        total_minutes: 6_030,
        reached_at: Some(prost_types::Timestamp {
            seconds: Utc::now().timestamp(),
            nanos: 0,
        }),
    };
    let id = Uuid::new_v4();
    let before = duplicates();
    for _ in 0..2 {
        platform.publish(&milestone, id).await;
    }
    let (list, count) = poll("the milestone at the coordinator's", DEADLINE, || async {
        let (list, count) = alerts(&platform, &coordinator, a).await.ok()?;
        (count == 2).then_some((list, count))
    })
    .await;
    assert_eq!(
        (kinds(&list), count),
        (vec!["certification_expiring", "hours_milestone"], 2)
    );
    let reached = list
        .iter()
        .find(|x| x.kind == "hours_milestone")
        .expect("milestone");
    assert_eq!(
        (reached.id.as_str(), reached.subject_id.as_str()),
        (id.to_string().as_str(), volunteer.as_str())
    );
    assert_eq!(reached.details["milestone_hours"], "100");
    poll("the second delivery", DEADLINE, || async {
        (duplicates() > before).then_some(())
    })
    .await;
    assert!(
        kept(&platform, a)
            .await
            .contains(&("hours_milestone".to_owned(), 1))
    );

    platform.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_suggestion_unanswered_past_its_target_is_an_alert_for_the_manager_until_answered() {
    let platform = TestPlatform::start().await;
    let centre = platform.bookable_centre("Asia/Shanghai").await;
    let manager = platform.token(&[Role::CentreManager], &[centre]);
    let desk = platform.token(&[Role::FrontDesk], &[centre]);
    let mut client = evaluation(&platform).await;
    let mut submit = async |text: &str| {
        client
            .submit_suggestion(bearer(
                &manager,
                ev::SubmitSuggestionRequest {
                    centre_id: centre.to_string(),
                    channel: "box".into(),
                    text: text.into(),
                    ..Default::default()
                },
            ))
            .await
            .expect("suggestion")
            .into_inner()
            .id
    };
    let old = submit("楼道灯坏了").await;
    let fresh = submit("多些书法课").await;
    // A week and a day pass for the first one.
    let pool = platform.pool("evaluation").await;
    sqlx::query(
        "UPDATE suggestions SET received_at = now() - interval '8 days' WHERE id = $1::uuid",
    )
    .bind(&old)
    .execute(&pool)
    .await
    .expect("aged");
    pool.close().await;

    let (list, count) = alerts(&platform, &manager, centre).await.expect("list");
    assert_eq!(count, 1, "{list:?}");
    assert_eq!(
        (
            list[0].kind.as_str(),
            list[0].subject_id.as_str(),
            list[0].standing
        ),
        ("suggestion_overdue", old.as_str(), true)
    );
    assert_ne!(list[0].subject_id, fresh);
    assert_eq!(list[0].details["target_days"], "7");
    let (list, _) = alerts(&platform, &desk, centre).await.expect("list");
    assert!(list.is_empty(), "suggestions are the manager's: {list:?}");
    // A standing alert is not acknowledged: it leaves when the suggestion is answered.
    let denied = client
        .acknowledge_alert(bearer(
            &manager,
            ev::AcknowledgeAlertRequest {
                centre_id: centre.to_string(),
                alert_id: old.clone(),
            },
        ))
        .await
        .expect_err("standing");
    assert_eq!(denied.code(), tonic::Code::NotFound);
    for (status, reply) in [("in_progress", ""), ("answered", "已报修，本周内修好。")] {
        client
            .move_suggestion(bearer(
                &manager,
                ev::MoveSuggestionRequest {
                    centre_id: centre.to_string(),
                    suggestion_id: old.clone(),
                    status: status.into(),
                    reply: reply.into(),
                },
            ))
            .await
            .expect("moved");
        let (_, count) = alerts(&platform, &manager, centre).await.expect("list");
        assert_eq!(count, u32::from(status == "in_progress"), "{status}");
    }
    platform.stop().await;
}

const PASSWORD: &str = "correct-horse-battery";

fn screenshots() -> std::path::PathBuf {
    let target = std::env::var("CARGO_TARGET_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|_| std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target"));
    target.join("console-screenshots")
}

/// What a person would object to in the page's content: an id, or English words (the
/// header holds the signed-in username and the language switch, 中文/English).
const OBJECTIONS: &str = r#"
const text = document.querySelector('main').innerText;
const found = [];
for (const m of text.matchAll(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/gi)) found.push(m[0]);
for (const m of text.matchAll(/[A-Za-z_]{3,}/g)) found.push(m[0]);
return found;
"#;

/// The manager's inbox in a real browser: the header's 提醒 (n) on every page counts the
/// three alerts, the suggestion past its target and the hours waiting; the inbox says each
/// in Chinese with a link to what it is about, and 已处理 takes the correction request out
/// of the inbox (checked through the API).
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_managers_header_counts_the_alerts_and_the_inbox_links_each_and_acknowledges_one() {
    if let Err(missing) = linli_tests::webdriver::browser_paths() {
        panic!("{missing} (deploy/local/test.sh installs them)");
    }
    let platform = TestPlatform::start().await;
    let a = platform.bookable_centre("Asia/Shanghai").await;
    let manager = platform.token(&[Role::CentreManager], &[a]);
    platform
        .staff_account("manager-a", "centre_manager", &[a], PASSWORD)
        .await;
    let Raised {
        resident,
        volunteer,
        ..
    } = raise_three(&platform, a, &manager).await;
    // Hours logged and waiting for verification, and a suggestion eight days unanswered.
    let (status, body) = platform
        .post_json(
            &manager,
            &format!("/v1/centres/{a}/hours"),
            &json!({ "volunteer_id": volunteer, "worked_on": today().to_string(), "minutes": 120 }),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let suggestion = evaluation(&platform)
        .await
        .submit_suggestion(bearer(
            &manager,
            ev::SubmitSuggestionRequest {
                centre_id: a.to_string(),
                channel: "box".into(),
                text: "楼道灯坏了".into(),
                ..Default::default()
            },
        ))
        .await
        .expect("suggestion")
        .into_inner()
        .id;
    let pool = platform.pool("evaluation").await;
    sqlx::query(
        "UPDATE suggestions SET received_at = now() - interval '8 days' WHERE id = $1::uuid",
    )
    .bind(&suggestion)
    .execute(&pool)
    .await
    .expect("aged");
    pool.close().await;
    poll("the three alerts", DEADLINE, || async {
        let (list, _) = alerts(&platform, &manager, a).await.ok()?;
        (list.len() == 4).then_some(())
    })
    .await;

    let gw = platform.gateway.clone();
    let browser = Browser::start().await;
    browser.goto(&format!("{gw}/sign-in")).await;
    browser
        .find("#f-username")
        .await
        .type_text("manager-a")
        .await;
    browser.find("#f-password").await.type_text(PASSWORD).await;
    browser.click_through("form button[type=submit]").await;
    // The header on pages of every section says how many wait.
    for page in [
        "dashboard",
        "residents",
        "finance",
        "volunteers",
        "evaluation",
    ] {
        browser.goto(&format!("{gw}/c/{a}/{page}")).await;
        assert_eq!(
            browser.find("header a.alerts").await.text().await,
            "提醒 (5)",
            "on {page}"
        );
    }
    browser.click_through("header a.alerts").await;
    assert!(browser.url().await.ends_with(&format!("/c/{a}/alerts")));
    let rows = browser
        .execute(
            "return Array.from(document.querySelectorAll('#alerts tbody tr')).map(r => \
             [r.cells[1].innerText, r.cells[2].innerText, r.querySelector('a').getAttribute('href'), \
              !!r.querySelector('button')]);",
        )
        .await;
    let rows: Vec<(String, String, String, bool)> =
        serde_json::from_value(rows).expect("rows of four");
    let find = |kind: &str| {
        rows.iter()
            .find(|r| r.0 == kind)
            .unwrap_or_else(|| panic!("a {kind} row in {rows:?}"))
            .clone()
    };
    let hours = find("待核实时长");
    assert_eq!(hours.1, "有 1 条志愿服务时长等待核实");
    assert_eq!(
        (hours.2.as_str(), hours.3),
        (format!("/c/{a}/volunteers#pending-hours").as_str(), false)
    );
    let budget = find("预算");
    assert!(
        budget.1.contains("「办公费用」支出已达预算的 90%") && budget.1.contains("¥90.00"),
        "{budget:?}"
    );
    assert!(
        budget
            .2
            .starts_with(&format!("/c/{a}/finance/budget?year=")),
        "the alert leads to the budget page of its year: {budget:?}"
    );
    let certificate = find("证书到期");
    assert!(
        certificate.1.starts_with("李华的急救证将于") && certificate.1.contains("还剩 10 天"),
        "{certificate:?}"
    );
    assert_eq!(
        certificate.2,
        format!("/c/{a}/volunteers/profile/{volunteer}")
    );
    let correction = find("更正申请");
    assert_eq!(correction.1, "陈静申请更正住址");
    assert_eq!(correction.2, format!("/c/{a}/residents/{resident}"));
    let late = find("居民建议");
    assert!(
        late.1.ends_with("收到的居民建议已超过 7 天未答复"),
        "{late:?}"
    );
    assert_eq!(
        (late.2.as_str(), late.3),
        (format!("/c/{a}/evaluation#suggestions").as_str(), false)
    );
    assert_eq!(
        browser.execute(OBJECTIONS).await,
        json!([]),
        "no id or English on the page"
    );
    let dir = screenshots();
    browser.window_size(1366, 900).await;
    browser.screenshot(&dir.join("alerts-inbox-1366.png")).await;
    browser.window_size(1024, 900).await;
    browser.screenshot(&dir.join("alerts-inbox-1024.png")).await;
    browser.window_size(1366, 900).await;

    // Each link leads to a page that opens.
    for (_, _, href, _) in &rows {
        browser.goto(&format!("{gw}{href}")).await;
        let title = browser.find("h1").await.text().await;
        assert!(
            !title.contains("找不到") && !title.contains("无权"),
            "{href}: {title}"
        );
    }

    // 已处理 on the correction request.
    browser.goto(&format!("{gw}/c/{a}/alerts")).await;
    browser
        .click_through("#alerts tbody tr:has(a[href*='/residents/']) button[type=submit]")
        .await;
    assert_eq!(
        browser.find("p.notice").await.text().await,
        "已标记为已处理。"
    );
    assert_eq!(
        browser.find("header a.alerts").await.text().await,
        "提醒 (4)"
    );
    browser
        .screenshot(&dir.join("alerts-acknowledged-1366.png"))
        .await;
    browser.close().await;
    let (list, count) = alerts(&platform, &manager, a).await.expect("list");
    assert_eq!(count, 3);
    assert!(
        !list.iter().any(|x| x.kind == "correction_requested"),
        "acknowledged through the page: {list:?}"
    );
    platform.stop().await;
}

/// Erasure leaves nothing about the resident in the inbox: their correction request's
/// alert goes with them (and the fact it came from).
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_erased_residents_correction_request_leaves_the_inbox() {
    let platform = TestPlatform::start().await;
    let centre = platform.bookable_centre("Asia/Shanghai").await;
    let manager = platform.token(&[Role::CentreManager], &[centre]);
    let (status, body) = platform
        .post_json(
            &manager,
            &format!("/v1/centres/{centre}/residents"),
            &json!({ "name": "王秀英", "gender": "female", "date_of_birth": "1950-03-02", "confirm_not_duplicate": true }),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let resident: Uuid = body["id"].as_str().expect("id").parse().expect("uuid");
    let token = platform.keys.issue_resident(
        resident,
        centre,
        &[],
        Uuid::new_v4(),
        chrono::Duration::hours(1),
    );
    RegistryClient::connect(format!("http://{}", platform.registry))
        .await
        .expect("registry answers")
        .request_correction(bearer(
            &token,
            re::RequestCorrectionRequest {
                centre_id: centre.to_string(),
                resident_id: resident.to_string(),
                fields: vec!["phone".into(), "name".into()],
                details: "电话换了".into(),
            },
        ))
        .await
        .expect("correction requested");
    let alert = poll("the correction request's alert", DEADLINE, || async {
        let (list, _) = alerts(&platform, &manager, centre).await.ok()?;
        list.into_iter().find(|a| a.kind == "correction_requested")
    })
    .await;
    assert_eq!(alert.details["fields"], "name,phone");

    let (status, body) = platform
        .post_json(
            &manager,
            &format!("/v1/centres/{centre}/residents/{resident}/erasure"),
            &json!({ "reason": "本人申请" }),
            None,
        )
        .await;
    assert!(status.is_success(), "{status} {body}");
    poll("the alert to go with the resident", DEADLINE, || async {
        let (list, count) = alerts(&platform, &manager, centre).await.ok()?;
        (list.is_empty() && count == 0).then_some(())
    })
    .await;
    let pool = platform.pool("evaluation").await;
    let left: (i64, i64) = sqlx::query_as(
        "SELECT (SELECT count(*) FROM alerts WHERE subject_id = $1),
                (SELECT count(*) FROM facts WHERE routing_key = 'registry.resident.correction_requested')",
    )
    .bind(resident.to_string())
    .fetch_one(&pool)
    .await
    .expect("evaluation readable");
    pool.close().await;
    assert_eq!(left, (0, 0));
    platform.stop().await;
}
