//! A resident's correction request, from their own site to the desk and back: the resident
//! asks on /r/, the front desk reads their words on the resident's page in the console
//! (pre-filled into the correction form), applies it through the ordinary correction or
//! declines it with a reason; the registry keeps the outcome with who and when, the alert
//! leaves the inbox through the event, and the resident reads 已处理 / 未予更正 on /r/me.
//! Another centre's desk sees and closes nothing; roles that may not read the words get
//! them masked.

use std::time::Duration;

use linli_platform::auth::Role;
use linli_proto::evaluation::v1 as ev;
use linli_proto::evaluation::v1::evaluation_client::EvaluationClient;
use linli_proto::registry::v1 as pb;
use linli_proto::registry::v1::registry_client::RegistryClient;
use linli_tests::phone::SiteCentre;
use linli_tests::webdriver::Browser;
use linli_tests::{TestPlatform, bearer, poll};
use reqwest::StatusCode;
use serde_json::json;
use tonic::transport::Channel;
use uuid::Uuid;

const DEADLINE: Duration = Duration::from_secs(30);
const PASSWORD: &str = "correct-horse-battery";

async fn registry(platform: &TestPlatform) -> RegistryClient<Channel> {
    RegistryClient::connect(format!("http://{}", platform.registry))
        .await
        .expect("registry answers")
}

/// The correction alerts open at `centre` for `token`.
async fn correction_alerts(platform: &TestPlatform, token: &str, centre: Uuid) -> Vec<ev::Alert> {
    EvaluationClient::connect(format!("http://{}", platform.evaluation))
        .await
        .expect("evaluation answers")
        .list_alerts(bearer(
            token,
            ev::ListAlertsRequest {
                centre_id: centre.to_string(),
                page_size: 100,
                page_token: String::new(),
            },
        ))
        .await
        .expect("alerts")
        .into_inner()
        .alerts
        .into_iter()
        .filter(|a| a.kind == "correction_requested")
        .collect()
}

async fn requests_of(
    platform: &TestPlatform,
    token: &str,
    centre: Uuid,
    resident: &str,
) -> Result<Vec<pb::CorrectionRequest>, tonic::Status> {
    registry(platform)
        .await
        .list_correction_requests(bearer(
            token,
            pb::ListCorrectionRequestsRequest {
                centre_id: centre.to_string(),
                resident_id: resident.to_owned(),
            },
        ))
        .await
        .map(|r| r.into_inner().requests)
}

async fn close(
    platform: &TestPlatform,
    token: &str,
    centre: Uuid,
    request: &str,
    outcome: &str,
    reason: &str,
) -> Result<pb::CorrectionRequest, tonic::Status> {
    registry(platform)
        .await
        .close_correction_request(bearer(
            token,
            pb::CloseCorrectionRequestRequest {
                centre_id: centre.to_string(),
                request_id: request.to_owned(),
                outcome: outcome.into(),
                reason: reason.into(),
            },
        ))
        .await
        .map(|r| r.into_inner())
}

fn screenshots() -> std::path::PathBuf {
    let target = std::env::var("CARGO_TARGET_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|_| std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target"));
    target.join("console-screenshots")
}

/// What a person would object to in the page's content: an id, or English words.
const OBJECTIONS: &str = r#"
const text = document.querySelector('main').innerText;
const found = [];
for (const m of text.matchAll(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/gi)) found.push(m[0]);
for (const m of text.matchAll(/[A-Za-z_]{3,}/g)) found.push(m[0]);
return found;
"#;

/// The resident asks on their own site for their address to be corrected; the desk, in
/// Chromium, reads the words on the resident's page with the form already holding the
/// address they gave, is told beside the field that 不予更正 needs a reason (what it typed
/// kept), then applies it: the registry holds the new address, the alert leaves the inbox
/// and the resident reads 已处理.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_desk_reads_what_the_resident_asked_applies_it_and_the_resident_sees_it_done() {
    if let Err(missing) = linli_tests::webdriver::browser_paths() {
        panic!("{missing} (deploy/local/test.sh installs them)");
    }
    let c = SiteCentre::open().await;
    let (platform, a) = (&c.platform, c.centre);
    let me = c.resident("王秀英", "1950-03-02", "13812345678").await;
    platform
        .staff_account("desk-a", "front_desk", &[a], PASSWORD)
        .await;
    let desk = platform.token(&[Role::FrontDesk], &[a]);

    // The resident asks, signed in on /r/.
    let mut phone = c.sign_in("13812345678").await;
    let (status, page) = phone
        .post(
            "/r/me/correction",
            &[
                ("for", &me.to_string()),
                ("fields", "address"),
                ("details", "我家住址应为3号楼2单元501室，登记的不对"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{page}");
    let alert = poll("the correction's alert", DEADLINE, || async {
        correction_alerts(platform, &desk, a)
            .await
            .into_iter()
            .next()
    })
    .await;
    assert_eq!(alert.subject_id, me.to_string());

    // The desk, in the console.
    let gw = platform.gateway.clone();
    let browser = Browser::start().await;
    browser.goto(&format!("{gw}/sign-in")).await;
    browser.find("#f-username").await.type_text("desk-a").await;
    browser.find("#f-password").await.type_text(PASSWORD).await;
    browser.click_through("form button[type=submit]").await;
    browser.window_size(1366, 900).await;
    browser.goto(&format!("{gw}/c/{a}/residents/{me}")).await;
    let section = browser.find("#corrections").await.text().await;
    assert!(
        section.contains("居民申请更正：住址")
            && section.contains("我家住址应为3号楼2单元501室，登记的不对"),
        "{section}"
    );
    let values = browser
        .execute(
            "return ['c1-building','c1-unit','c1-room'].map(id => document.getElementById(id).value);",
        )
        .await;
    assert_eq!(
        values,
        json!(["3", "2", "501"]),
        "pre-filled from the words"
    );
    assert_eq!(
        browser.execute(OBJECTIONS).await,
        json!([]),
        "no id or English"
    );
    let dir = screenshots();
    browser
        .execute("document.querySelector('#corrections').scrollIntoView();")
        .await;
    browser
        .screenshot(&dir.join("resident-corrections-1366.png"))
        .await;
    browser.window_size(1024, 900).await;
    browser
        .execute("document.querySelector('#corrections').scrollIntoView();")
        .await;
    browser
        .screenshot(&dir.join("resident-corrections-1024.png"))
        .await;
    browser.window_size(1366, 900).await;

    // 不予更正 without a reason: said beside the field, what was typed kept.
    browser.find("#c1-room").await.clear().await;
    browser.find("#c1-room").await.type_text("502").await;
    browser
        .click_through("#corrections button[value=declined]")
        .await;
    assert_eq!(
        browser.find("#c1-reason-error").await.text().await,
        "请写明不予更正的原因，居民会看到"
    );
    assert!(
        browser.url().await.contains(&format!("/residents/{me}#")),
        "the page is not the POST endpoint"
    );
    assert_eq!(
        browser
            .execute("return document.getElementById('c1-room').value;")
            .await,
        json!("502"),
        "the typing kept"
    );
    browser
        .screenshot(&dir.join("resident-corrections-reason-1366.png"))
        .await;
    // Still open: nothing was closed.
    let open = requests_of(platform, &desk, a, &me.to_string())
        .await
        .expect("listed");
    assert_eq!(open[0].status, "open");

    // 已更正 with the room the desk settled on.
    browser.find("#c1-room").await.clear().await;
    browser.find("#c1-room").await.type_text("501").await;
    browser
        .click_through("#corrections button[value=applied]")
        .await;
    assert_eq!(
        browser.find("p.notice").await.text().await,
        "已按居民的申请更正，居民会看到“已处理”。"
    );
    let closed = browser.find("#corrections-closed").await.text().await;
    assert!(closed.contains("已更正"), "{closed}");
    browser
        .screenshot(&dir.join("resident-corrections-done-1366.png"))
        .await;
    browser.close().await;

    // The registry holds the new address; the request is done, by the desk.
    let (status, resident) = platform
        .get_json(&desk, &format!("/v1/centres/{a}/residents/{me}"))
        .await;
    assert_eq!(status, StatusCode::OK, "{resident}");
    assert_eq!(
        (&resident["building"], &resident["unit"], &resident["room"]),
        (&json!("3"), &json!("2"), &json!("501")),
        "{resident}"
    );
    let done = requests_of(platform, &desk, a, &me.to_string())
        .await
        .expect("listed");
    assert_eq!(done[0].status, "done");
    assert!(done[0].closed_at.is_some() && !done[0].closed_by.is_empty());
    // The alert leaves the inbox.
    poll("the alert acknowledged", DEADLINE, || async {
        correction_alerts(platform, &desk, a)
            .await
            .is_empty()
            .then_some(())
    })
    .await;
    // The resident reads the outcome.
    let (_, page) = phone.get("/r/me").await;
    assert!(page.contains("已处理"), "{page}");
    c.platform.stop().await;
}

/// Declining needs a reason, and the resident reads it; another centre's desk neither sees
/// nor closes the request; a coordinator lists it with the words masked and cannot close
/// it; a request closes once.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_decline_needs_a_reason_and_only_the_centres_desk_reads_and_closes() {
    let c = SiteCentre::open().await;
    let (platform, a) = (&c.platform, c.centre);
    let b = platform.bookable_centre("Asia/Shanghai").await;
    let me = c.resident("李桂兰", "1948-11-20", "13912340000").await;
    let desk = platform.token(&[Role::FrontDesk], &[a]);
    let elsewhere = platform.token(&[Role::FrontDesk, Role::CentreManager], &[b]);
    let coordinator = platform.token(&[Role::Coordinator], &[a]);
    let resident =
        platform
            .keys
            .issue_resident(me, a, &[], Uuid::new_v4(), chrono::Duration::hours(1));
    let words = "我的手机号应为13900001111";
    let asked = registry(platform)
        .await
        .request_correction(bearer(
            &resident,
            pb::RequestCorrectionRequest {
                centre_id: a.to_string(),
                resident_id: me.to_string(),
                fields: vec!["phone".into()],
                details: words.into(),
            },
        ))
        .await
        .expect("asked")
        .into_inner();
    poll("the correction's alert", DEADLINE, || async {
        correction_alerts(platform, &desk, a)
            .await
            .into_iter()
            .next()
    })
    .await;

    // The desk reads the words, the centre's open list too; a coordinator has them masked.
    let listed = requests_of(platform, &desk, a, &me.to_string())
        .await
        .expect("desk lists");
    assert_eq!(
        (listed[0].details.as_str(), listed[0].details_hidden),
        (words, false)
    );
    let open = requests_of(platform, &desk, a, "")
        .await
        .expect("open ones");
    assert_eq!(
        open.iter().map(|r| r.id.as_str()).collect::<Vec<_>>(),
        [asked.id.as_str()]
    );
    let masked = requests_of(platform, &coordinator, a, &me.to_string())
        .await
        .expect("coordinator lists");
    assert_eq!(
        (masked[0].details.as_str(), masked[0].details_hidden),
        ("", true)
    );
    let refused = close(platform, &coordinator, a, &asked.id, "applied", "")
        .await
        .expect_err("a coordinator does not close");
    assert_eq!(refused.code(), tonic::Code::PermissionDenied);

    // Another centre's desk: not its centre, and at its own centre the request is not there.
    let refused = requests_of(platform, &elsewhere, a, &me.to_string())
        .await
        .expect_err("another centre's desk");
    assert_eq!(refused.code(), tonic::Code::PermissionDenied);
    assert!(
        requests_of(platform, &elsewhere, b, "")
            .await
            .expect("its own centre")
            .is_empty()
    );
    let refused = close(platform, &elsewhere, a, &asked.id, "applied", "")
        .await
        .expect_err("not its centre");
    assert_eq!(refused.code(), tonic::Code::PermissionDenied);
    let refused = close(platform, &elsewhere, b, &asked.id, "applied", "")
        .await
        .expect_err("not its request");
    assert_eq!(refused.code(), tonic::Code::NotFound);

    // Declined without a reason: refused naming the field; with one, kept.
    let refused = close(platform, &desk, a, &asked.id, "declined", "  ")
        .await
        .expect_err("a reason is needed");
    assert_eq!(refused.code(), tonic::Code::InvalidArgument);
    let fields: Vec<(String, String)> = linli_platform::error::violations_of(&refused)
        .into_iter()
        .map(|v| (v.field, v.code))
        .collect();
    assert_eq!(fields, [("reason".to_owned(), "required".to_owned())]);
    let reason = "该号码与您本人核实不符，请带身份证到前台办理";
    let declined = close(platform, &desk, a, &asked.id, "declined", reason)
        .await
        .expect("declined");
    assert_eq!(
        (declined.status.as_str(), declined.decline_reason.as_str()),
        ("declined", reason)
    );
    let again = close(platform, &desk, a, &asked.id, "applied", "")
        .await
        .expect_err("closed once");
    assert_eq!(again.code(), tonic::Code::FailedPrecondition);
    assert_eq!(
        linli_platform::error::refusal_of(&again).map(|(code, _)| code),
        Some("correction.closed".to_owned())
    );

    // The event names no words, the alert goes, and the phone was not changed.
    let pool = platform.pool("registry").await;
    let payloads: Vec<Vec<u8>> = sqlx::query_scalar(
        "SELECT payload FROM outbox WHERE routing_key = 'registry.resident.correction_closed'",
    )
    .fetch_all(&pool)
    .await
    .expect("outbox");
    pool.close().await;
    assert_eq!(payloads.len(), 1);
    let text = String::from_utf8_lossy(&payloads[0]);
    assert!(
        !text.contains("13900001111") && !text.contains("核实不符"),
        "no words in the event"
    );
    poll("the alert acknowledged", DEADLINE, || async {
        correction_alerts(platform, &desk, a)
            .await
            .is_empty()
            .then_some(())
    })
    .await;
    let (_, record) = platform
        .get_json(&desk, &format!("/v1/centres/{a}/residents/{me}"))
        .await;
    assert_eq!(record["phone"], "13912340000");

    // The resident reads the outcome and the reason.
    let phone = c.sign_in("13912340000").await;
    let (_, page) = phone.get("/r/me").await;
    assert!(page.contains("未予更正") && page.contains(reason), "{page}");

    // Erasure leaves evaluation no fact of the request, its closing included (both kept
    // until then).
    let facts = async || -> i64 {
        let pool = platform.pool("evaluation").await;
        let left = sqlx::query_scalar(
            "SELECT count(*) FROM facts WHERE routing_key LIKE 'registry.resident.correction_%'",
        )
        .fetch_one(&pool)
        .await
        .expect("evaluation readable");
        pool.close().await;
        left
    };
    assert_eq!(facts().await, 2);
    let (status, body) = platform
        .post_json(
            &c.manager,
            &format!("/v1/centres/{a}/residents/{me}/erasure"),
            &json!({ "reason": "本人申请" }),
            None,
        )
        .await;
    assert!(status.is_success(), "{status} {body}");
    poll("the facts to go with the resident", DEADLINE, || async {
        (facts().await == 0).then_some(())
    })
    .await;
    c.platform.stop().await;
}
