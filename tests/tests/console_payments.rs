//! Money that arrives, in the staff console (issue 24), in a real browser by clicking only:
//! the desk sees a resident's fee under 应缴费用 on the resident's page, takes it as a
//! WeChat Pay payment (a missing reference refused beside the field first, an amount over
//! what is owed refused beside the amount with the typing kept), prints the receipt
//! (收据号, 大写 amount), and the finance officer refunds it with a reason after
//! confirming. Each step is checked through the HTTP API's receivables.

use std::time::Duration;

use linli_tests::webdriver::Browser;
use linli_tests::webdriver::{PASSWORD, screenshots, sign_in_browser};
use linli_tests::{TestPlatform, poll};
use reqwest::StatusCode;
use serde_json::{Value, json};
use uuid::Uuid;

/// Screenshots of the page the browser shows at a laptop's width and a tablet's.
async fn shots_at_both_widths(browser: &Browser, name: &str) {
    let dir = screenshots();
    browser.window_size(1366, 900).await;
    browser
        .screenshot(&dir.join(format!("{name}-1366.png")))
        .await;
    browser.window_size(1024, 900).await;
    browser
        .screenshot(&dir.join(format!("{name}-1024.png")))
        .await;
    browser.window_size(1366, 900).await;
}

async fn retype(browser: &Browser, css: &str, text: &str) {
    let input = browser.find(css).await;
    input.clear().await;
    input.type_text(text).await;
}

async fn value_of(browser: &Browser, css: &str) -> Value {
    browser
        .execute(&format!("return document.querySelector('{css}').value;"))
        .await
}

/// What a person should not read on the page the browser shows (as the crawl in
/// console.rs objects): an English sentence, a raw code, a unit, a UUID, a failed page.
const OBJECTIONS: &str = r#"
const text = document.body ? document.body.innerText : '';
const found = [];
const add = (what, re) => { for (const m of text.matchAll(re)) found.push(what + ': ' + m[0]); };
add('UUID', /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/gi);
add('code', /\b[a-z]+(?:_[a-z]+)+\b/g);
add('unit', /\b(?:fen|seconds|minutes)\b/g);
add('English', /[A-Za-z]{2,}(?:[ ,:;'’]+[A-Za-z]{2,}){2,}/g);
const heading = document.querySelector('h1');
if (heading && /出错了|服务暂时不可用|无权访问/.test(heading.innerText)) found.push('failed: ' + heading.innerText);
return found;
"#;

async fn objections(browser: &Browser) -> Vec<String> {
    serde_json::from_value(browser.execute(OBJECTIONS).await).expect("a list of objections")
}

async fn created(platform: &TestPlatform, path: &str, body: Value) -> Value {
    let (status, reply) = platform
        .post_json(&platform.admin_token(), path, &body, None)
        .await;
    assert_eq!(status, StatusCode::CREATED, "{path}: {reply}");
    reply
}

async fn receivables(platform: &TestPlatform, centre: Uuid, resident: &str) -> Value {
    let (status, body) = platform
        .get_json(
            &platform.admin_token(),
            &format!("/v1/centres/{centre}/finance/receivables?resident_id={resident}"),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body
}

#[tokio::test]
async fn the_desk_takes_a_wechat_payment_prints_the_receipt_and_finance_refunds_it() {
    if let Err(missing) = linli_tests::webdriver::browser_paths() {
        panic!("{missing} (deploy/local/test.sh installs them)");
    }
    let platform = TestPlatform::start().await;
    let centre = platform.bookable_centre("Asia/Shanghai").await;
    platform
        .staff_account("desk-pay", "front_desk", &[centre], PASSWORD)
        .await;
    platform
        .staff_account("finance-pay", "finance_officer", &[centre], PASSWORD)
        .await;
    let api = format!("/v1/centres/{centre}");

    // A resident booked onto a ¥35.00 session, charged through bookings' event.
    let resident = created(
        &platform,
        &format!("{api}/residents"),
        json!({ "name": "王秀英", "gender": "female", "date_of_birth": "1950-03-01", "confirm_not_duplicate": true }),
    )
    .await["id"]
        .as_str()
        .expect("resident id")
        .to_owned();
    platform
        .wait_for_residents_in_bookings(&[resident.parse().expect("uuid")])
        .await;
    let offering = created(
        &platform,
        &format!("{api}/offerings"),
        json!({ "category": "health", "kind": "event", "name": "中医理疗", "capacity": 10, "fee_minor": 3500 }),
    )
    .await["id"]
        .as_str()
        .expect("offering id")
        .to_owned();
    let session = created(
        &platform,
        &format!("{api}/sessions"),
        json!({ "offering_id": offering, "starts_at": "2027-03-09T09:00:00+08:00", "ends_at": "2027-03-09T10:00:00+08:00" }),
    )
    .await;
    created(
        &platform,
        &format!("{api}/bookings"),
        json!({ "offering_id": offering, "resident_id": resident, "session_id": session["id"] }),
    )
    .await;
    poll(
        "the fee as a receivable",
        Duration::from_secs(30),
        || async {
            (receivables(&platform, centre, &resident).await["outstanding_minor"] == 3500)
                .then_some(())
        },
    )
    .await;

    // The desk finds the resident and sees what is owed, in words.
    let gw = platform.gateway.clone();
    let browser = Browser::start().await;
    sign_in_browser(&browser, &gw, "desk-pay").await;
    browser
        .click_through(&format!("header nav a[href=\"/c/{centre}/residents\"]"))
        .await;
    browser
        .click_through(&format!("a[href=\"/c/{centre}/residents/{resident}\"]"))
        .await;
    let owed = browser.find("#charges").await.text().await;
    assert!(owed.contains("应缴费用"), "{owed}");
    assert!(owed.contains("中医理疗"), "what for: {owed}");
    assert!(owed.contains("2027年3月9日"), "the session's day: {owed}");
    assert!(owed.contains("¥35.00"), "{owed}");
    assert_eq!(objections(&browser).await, Vec::<String>::new(), "{owed}");
    browser
        .execute("document.querySelector('#charges').scrollIntoView(); return null;")
        .await;
    shots_at_both_widths(&browser, "resident-charges").await;

    // 收费: the amount is prefilled; WeChat Pay without a reference is refused beside it.
    browser.click_through("#charges a.button").await;
    assert_eq!(value_of(&browser, "#f-amount").await, "35");
    browser
        .find("input[name=method][value=wechat_pay]")
        .await
        .click()
        .await;
    browser.click_through("#pay button[type=submit]").await;
    let error = browser.find("#f-reference-error").await.text().await;
    assert!(error.contains("交易单号"), "beside the reference: {error}");
    // More than is owed: refused beside the amount, the typing kept.
    retype(&browser, "#f-reference", "4200001234202612050001").await;
    retype(&browser, "#f-amount", "50").await;
    browser.click_through("#pay button[type=submit]").await;
    let error = browser.find("#f-amount-error").await.text().await;
    assert!(
        error.contains("超过尚欠金额") && error.contains("¥35.00"),
        "{error}"
    );
    assert_eq!(value_of(&browser, "#f-amount").await, "50");
    assert_eq!(
        value_of(&browser, "#f-reference").await,
        "4200001234202612050001"
    );
    assert_eq!(
        receivables(&platform, centre, &resident).await["outstanding_minor"],
        3500,
        "nothing taken yet"
    );
    assert_eq!(objections(&browser).await, Vec::<String>::new());
    shots_at_both_widths(&browser, "payment-form").await;
    retype(&browser, "#f-amount", "35").await;
    browser.click_through("#pay button[type=submit]").await;

    // The receipt.
    let number = browser.find("#receipt-number").await.text().await;
    assert!(number.starts_with('P') && number.len() == 12, "{number}");
    assert_eq!(browser.find("#receipt-amount").await.text().await, "¥35.00");
    assert_eq!(
        browser.find("#receipt-capitals").await.text().await,
        "人民币叁拾伍元整"
    );
    assert_eq!(
        browser.find("#receipt-method").await.text().await,
        "微信支付"
    );
    let receipt = browser.find("#receipt").await.text().await;
    assert!(receipt.contains("中医理疗"), "{receipt}");
    assert_eq!(
        objections(&browser).await,
        Vec::<String>::new(),
        "{receipt}"
    );
    shots_at_both_widths(&browser, "payment-receipt").await;
    assert!(
        browser
            .execute("return document.querySelector('#refund') === null;")
            .await
            == true,
        "the desk does not give money back"
    );
    let receipt_url = browser.url().await;
    assert_eq!(
        receivables(&platform, centre, &resident).await["outstanding_minor"],
        0,
        "paid"
    );
    // Back on the resident's page nothing is owed.
    browser.click_through("#back").await;
    let owed = browser.find("#charges").await.text().await;
    assert!(owed.contains("没有未缴的费用"), "{owed}");
    browser.close().await;

    // The finance officer opens the receipt and refunds it: a reason and the tick needed.
    let browser = Browser::start().await;
    sign_in_browser(&browser, &gw, "finance-pay").await;
    let path = receipt_url
        .split_once("/c/")
        .map(|(_, rest)| rest.split('?').next().unwrap_or(rest).to_owned())
        .expect("a receipt path");
    browser.goto(&format!("{gw}/c/{path}")).await;
    browser.click_through("#refund button[type=submit]").await;
    let error = browser.find("#f-reason-error").await.text().await;
    assert!(error.contains("退款原因"), "{error}");
    assert!(
        browser
            .find("#f-confirm-error")
            .await
            .text()
            .await
            .contains("确认")
    );
    assert_eq!(
        receivables(&platform, centre, &resident).await["outstanding_minor"],
        0,
        "nothing refunded yet"
    );
    browser
        .find("#f-reason")
        .await
        .type_text("活动取消，退还费用")
        .await;
    browser.find("#f-confirm").await.click().await;
    browser.click_through("#refund button[type=submit]").await;
    let page = browser.find("main").await.text().await;
    assert!(page.contains("已退款"), "{page}");
    assert!(page.contains("活动取消，退还费用"), "{page}");
    assert_eq!(objections(&browser).await, Vec::<String>::new(), "{page}");
    shots_at_both_widths(&browser, "payment-refunded").await;
    assert_eq!(
        browser.find("#back").await.text().await,
        "返回应收款",
        "finance goes back to the receivables, not a resident's page it may not open"
    );
    let owed = receivables(&platform, centre, &resident).await;
    assert_eq!(
        owed["outstanding_minor"], 3500,
        "owed again after the refund: {owed}"
    );

    // The finance officer's 应收款 shows it, linked from the finance overview (the
    // registry shows the finance officer no resident's name).
    browser
        .click_through(&format!("header nav a[href=\"/c/{centre}/finance\"]"))
        .await;
    browser.click_through("#receivables-link").await;
    let list = browser.find("#receivables").await.text().await;
    assert!(
        list.contains("中医理疗") && list.contains("¥35.00"),
        "{list}"
    );
    assert_eq!(
        browser.find("#receivables-outstanding").await.text().await,
        "¥35.00"
    );
    assert_eq!(objections(&browser).await, Vec::<String>::new(), "{list}");
    shots_at_both_widths(&browser, "receivables").await;
    browser.close().await;
}
