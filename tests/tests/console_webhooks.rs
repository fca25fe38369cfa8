//! An agreement's event push (推送设置, issue 24) on the district admin's partner pages, by
//! clicking only: an address that is not http(s) is refused beside the field with what was
//! typed kept; the push is set to a real receiver on loopback for 居民预约成功 and the
//! signing key is shown once; a booking of the partner's offering is pushed, refused by the
//! receiver (which does not know the key yet) and listed as 发送失败 with the receiver's
//! answer; once the receiver has the key from the page, 立即重发 delivers it, and the
//! receiver checked its signature. Each step checked through the HTTP API.

use std::time::Duration;

use linli_platform::auth::Role;
use linli_tests::webdriver::Browser;
use linli_tests::webdriver::{screenshots, sign_in_browser};
use linli_tests::webhook_receiver::Receiver;
use linli_tests::{TestPlatform, poll};
use reqwest::StatusCode;
use serde_json::{Value, json};
use uuid::Uuid;

const DEADLINE: Duration = Duration::from_secs(30);

/// What a person would object to in the visible text of the page the browser shows: an
/// English sentence (three English words in a row), a raw code (a word_with_underscores,
/// or a unit such as fen or seconds), a UUID, an address with its words doubled, a day
/// written as ISO 2026-12-06 rather than 2026年12月6日, or a JSON document instead of a
/// page. Also a page that failed (出错了), and a page not marked lang="zh-CN".
/// (copied from tests/tests/console.rs, the crawl of every page)
const OBJECTIONS: &str = r#"
const text = document.body ? document.body.innerText : '';
const found = [];
const add = (what, re) => { for (const m of text.matchAll(re)) found.push(what + ': ' + m[0]); };
add('UUID', /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/gi);
add('code', /\b[a-z]+(?:_[a-z]+)+\b/g);
add('unit', /\b(?:fen|seconds|minutes|answers|respondents)\b/g);
add('English', /[A-Za-z]{2,}(?:[ ,:;'’]+[A-Za-z]{2,}){2,}/g);
add('doubled', /号楼号楼|单元单元|室室/g);
add('ISO date', /\b\d{4}-\d{2}-\d{2}\b/g);
if (document.documentElement.lang !== 'zh-CN') found.push('lang: ' + document.documentElement.lang);
if (/^\s*[\[{]/.test(text)) found.push('JSON: ' + text.slice(0, 80));
const heading = document.querySelector('h1');
if (heading && /出错了|服务暂时不可用/.test(heading.innerText)) found.push('failed: ' + heading.innerText);
return found;
"#;

async fn objections(browser: &Browser) -> Vec<String> {
    serde_json::from_value(browser.execute(OBJECTIONS).await).expect("a list of objections")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_district_admin_sets_a_partners_push_and_sends_a_failed_delivery_again_by_clicking() {
    if let Err(missing) = linli_tests::webdriver::browser_paths() {
        panic!("{missing} (deploy/local/test.sh installs them)");
    }
    let platform = TestPlatform::start().await;
    let here = platform.bookable_centre("Asia/Shanghai").await;
    platform
        .console_account("district-w", "district_admin", &[])
        .await;
    let admin = platform.admin_token();
    let (status, partner) = platform
        .post_json(
            &admin,
            "/v1/partners",
            &json!({ "name": "幸福超市", "kind": "enterprise" }),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{partner}");
    let partner = partner["id"].as_str().unwrap().to_owned();
    let today = chrono::Utc::now().date_naive();
    let (status, agreement) = platform
        .post_json(
            &admin,
            &format!("/v1/partners/{partner}/agreements"),
            &json!({ "centre_id": here, "provides": "上门助餐", "scopes": ["bookings.bookings:read"],
                     "valid_from": (today - chrono::Days::new(1)).to_string(),
                     "valid_until": (today + chrono::Days::new(365)).to_string() }),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{agreement}");
    let agreement = agreement["id"].as_str().unwrap().to_owned();
    let deliveries_path =
        format!("/v1/partners/{partner}/agreements/{agreement}/webhook/deliveries");
    let receiver = Receiver::start().await;
    receiver.trust("not-the-key");

    let gw = platform.gateway.clone();
    let shots = screenshots();
    let browser = Browser::start().await;
    browser.window_size(1366, 900).await;
    sign_in_browser(&browser, &gw, "district-w").await;
    browser
        .click_through("header nav a[href=\"/partners\"]")
        .await;
    browser
        .click_through(&format!("a[href=\"/partners/{partner}\"]"))
        .await;
    browser.click_through("#agreements a.webhook-link").await;
    let page = format!("/partners/{partner}/agreements/{agreement}/webhook");
    assert!(browser.url().await.ends_with(&page));
    assert!(
        browser
            .find("#current-webhook")
            .await
            .text()
            .await
            .contains("尚未设置推送")
    );

    // Not an http(s) address: refused beside the field, what was typed kept.
    browser
        .find("#f-url")
        .await
        .type_text("partner.example/events")
        .await;
    browser
        .find("#events input[value=\"bookings.booking.confirmed\"]")
        .await
        .click()
        .await;
    browser
        .click_through("#webhook-form button[type=submit]")
        .await;
    assert_eq!(
        browser.find("#f-url-error").await.text().await,
        "请填写以 http:// 或 https:// 开头的接收地址"
    );
    assert_eq!(
        browser.find("#f-url").await.attribute("value").await,
        "partner.example/events"
    );
    assert_eq!(
        browser
            .execute("return document.querySelector('#events input[value=\"bookings.booking.confirmed\"]').checked;")
            .await,
        Value::Bool(true),
        "the event ticked is kept"
    );
    assert!(
        browser.url().await.ends_with(&page),
        "the page's own address"
    );
    browser
        .screenshot(&shots.join("webhooks-61-bad-address.png"))
        .await;
    assert_eq!(objections(&browser).await, Vec::<String>::new());

    // Set to the receiver: the signing key shown once.
    browser.find("#f-url").await.clear().await;
    browser
        .find("#f-url")
        .await
        .type_text(&receiver.url())
        .await;
    browser
        .click_through("#webhook-form button[type=submit]")
        .await;
    let secret = browser.find("#webhook-secret").await.text().await;
    assert!(secret.starts_with("whsec_"), "{secret}");
    let current = browser.find("#current-webhook").await.text().await;
    assert!(
        current.contains(&receiver.url()) && current.contains("居民预约成功"),
        "{current}"
    );
    browser
        .screenshot(&shots.join("webhooks-62-set-secret.png"))
        .await;
    let (status, set) = platform
        .get_json(
            &admin,
            &format!("/v1/partners/{partner}/agreements/{agreement}/webhook"),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{set}");
    assert_eq!(set["url"], receiver.url().as_str());
    assert_eq!(set["event_types"], json!(["bookings.booking.confirmed"]));
    assert!(
        set["secret"].as_str().is_none_or(str::is_empty),
        "never the secret again: {set}"
    );

    // A booking of the partner's offering is pushed; the receiver refuses it (wrong key).
    let manager = platform.token(&[Role::CentreManager], &[here]);
    let (status, resident) = platform
        .post_json(
            &manager,
            &format!("/v1/centres/{here}/residents"),
            &json!({ "name": "欧阳建国", "gender": "male", "date_of_birth": "1950-05-01",
                     "phone": "13900000001", "confirm_not_duplicate": true }),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{resident}");
    let resident_id: Uuid = resident["id"].as_str().unwrap().parse().unwrap();
    platform
        .wait_for_residents_in_bookings(&[resident_id])
        .await;
    let offering = poll("the partner's offering made", DEADLINE, || async {
        let (status, offering) = platform
            .post_json(
                &manager,
                &format!("/v1/centres/{here}/offerings"),
                &json!({ "category": "culture_education", "kind": "event", "name": "社区读书会",
                         "capacity": 5, "provider": "partner", "provider_id": partner }),
                None,
            )
            .await;
        (status == StatusCode::CREATED).then_some(offering)
    })
    .await;
    let offering = offering["id"].as_str().unwrap().to_owned();
    let (status, session) = platform
        .post_json(
            &manager,
            &format!("/v1/centres/{here}/sessions"),
            &json!({ "offering_id": offering, "starts_at": "2027-03-04T14:00:00+08:00", "ends_at": "2027-03-04T15:00:00+08:00" }),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{session}");
    let (status, booking) = platform
        .post_json(
            &manager,
            &format!("/v1/centres/{here}/bookings"),
            &json!({ "offering_id": offering, "resident_id": resident_id, "session_id": session["id"] }),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{booking}");
    poll("the delivery refused by the receiver", DEADLINE, || async {
        let (_, body) = platform.get_json(&admin, &deliveries_path).await;
        let d = body["deliveries"].as_array().cloned().unwrap_or_default();
        (d.len() == 1 && d[0]["status"] == "failing" && d[0]["last_http_status"] == 401)
            .then_some(())
    })
    .await;
    browser.goto(&format!("{gw}{page}")).await;
    let row = browser
        .find("#webhook-deliveries tbody tr")
        .await
        .text()
        .await;
    assert!(
        row.contains("居民预约成功")
            && row.contains("发送失败")
            && row.contains("对方系统拒收（代码 401）"),
        "{row}"
    );
    assert!(
        !browser.source().await.contains("whsec_"),
        "the key is shown once only"
    );
    browser
        .screenshot(&shots.join("webhooks-63-failing.png"))
        .await;
    assert_eq!(objections(&browser).await, Vec::<String>::new());

    // The receiver is given the key from the page; 立即重发 delivers it.
    receiver.trust(&secret);
    browser
        .click_through("#webhook-deliveries button.replay")
        .await;
    assert!(browser.source().await.contains("已安排重发 1 条推送"));
    poll("the delivery delivered", DEADLINE, || async {
        let (_, body) = platform.get_json(&admin, &deliveries_path).await;
        let d = body["deliveries"].as_array().cloned().unwrap_or_default();
        (d.len() == 1 && d[0]["status"] == "delivered" && d[0]["last_http_status"] == 204)
            .then_some(())
    })
    .await;
    // Signed with the key the page showed (the receiver checks it). The sender's own
    // retry may also have reached it by now: at least once, and only this booking.
    let accepted = receiver.accepted();
    assert!(!accepted.is_empty());
    for received in &accepted {
        assert_eq!(received.event_type, "bookings.booking.confirmed");
        assert_eq!(received.body["data"]["booking_id"], booking["id"]);
    }
    browser.goto(&format!("{gw}{page}")).await;
    let row = browser
        .find("#webhook-deliveries tbody tr")
        .await
        .text()
        .await;
    assert!(
        row.contains("已送达") && row.contains("对方已接收"),
        "{row}"
    );
    assert!(!browser.source().await.contains("button class=\"replay\""));

    // Changing the push asks to confirm that the key changes.
    browser
        .click_through("#webhook-form button[type=submit]")
        .await;
    assert_eq!(
        browser.find("#f-confirm-error").await.text().await,
        "请先勾选确认：保存后原密钥失效"
    );
    browser
        .screenshot(&shots.join("webhooks-64-delivered-confirm-1366.png"))
        .await;
    browser.window_size(1024, 900).await;
    browser
        .screenshot(&shots.join("webhooks-64-delivered-confirm-1024.png"))
        .await;
    assert_eq!(objections(&browser).await, Vec::<String>::new());
    browser.close().await;
    receiver.stop();
}
