//! Staff on sessions and their licences (执照, issue 24), by clicking only: the centre
//! manager puts a nurse on a session and is told beside the staff member, in Chinese with
//! the days in words, that she holds no medical licence, then that the one recorded from the
//! page expired the day before the session; with a valid licence recorded she is put on it
//! and the assignment is listed. Each step is checked through the HTTP API. The front desk
//! reads the page without its forms. Screenshots at 1366 and 1024 px.

use chrono::{Datelike, Days, NaiveDate, Utc};
use linli_tests::TestPlatform;
use linli_tests::webdriver::Browser;
use linli_tests::webdriver::{screenshots, sign_in_browser};
use reqwest::StatusCode;
use serde_json::{Value, json};

/// The centre's today (Asia/Shanghai).
fn today() -> NaiveDate {
    (Utc::now() + chrono::Duration::hours(8)).date_naive()
}

fn words(day: NaiveDate) -> String {
    format!("{}年{}月{}日", day.year(), day.month(), day.day())
}

/// Sets a date input as the browser's date picker would.
async fn set_date(browser: &Browser, css: &str, day: NaiveDate) {
    browser
        .execute(&format!("document.querySelector('{css}').value = '{day}';"))
        .await;
}

async fn select(browser: &Browser, css: &str, value: &str) {
    browser
        .find(&format!("{css} option[value=\"{value}\"]"))
        .await
        .click()
        .await;
}

async fn value(browser: &Browser, css: &str) -> Value {
    browser
        .execute(&format!("return document.querySelector('{css}').value;"))
        .await
}

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

async fn sign_out_browser(browser: &Browser) {
    browser
        .click_through("form[action=\"/sign-out\"] button")
        .await;
}

async fn created(platform: &TestPlatform, token: &str, path: &str, body: Value) -> String {
    let (status, body) = platform.post_json(token, path, &body, None).await;
    assert_eq!(status, StatusCode::CREATED, "{path}: {body}");
    body["id"].as_str().expect("an id").to_owned()
}

async fn licence_form(browser: &Browser, nurse: &str, number: &str, expires_on: NaiveDate) {
    select(browser, "#f-holder_id", nurse).await;
    select(browser, "#f-kind", "medical_licence").await;
    browser.find("#f-issuer").await.clear().await;
    browser
        .find("#f-issuer")
        .await
        .type_text("区卫生健康委员会")
        .await;
    browser.find("#f-number").await.clear().await;
    browser.find("#f-number").await.type_text(number).await;
    set_date(
        browser,
        "#f-issued_on",
        NaiveDate::from_ymd_opt(2019, 1, 1).unwrap(),
    )
    .await;
    set_date(browser, "#f-expires_on", expires_on).await;
    browser
        .click_through("#add-licence button[type=submit]")
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_manager_puts_a_nurse_on_a_session_only_once_her_licence_is_valid_on_its_day_by_clicking()
 {
    if let Err(missing) = linli_tests::webdriver::browser_paths() {
        panic!("{missing} (deploy/local/test.sh installs them)");
    }
    let platform = TestPlatform::start().await;
    let east = platform.bookable_centre("Asia/Shanghai").await;
    platform
        .console_account("manager-s", "centre_manager", &[east])
        .await;
    platform
        .console_account("desk-s", "front_desk", &[east])
        .await;
    let admin = platform.admin_token();
    let base = format!("/v1/centres/{east}");
    let nurse = created(
        &platform,
        &admin,
        &format!("{base}/staff"),
        json!({ "name": "王芳", "position": "nurse", "employed_from": "2020-01-01" }),
    )
    .await;
    created(
        &platform,
        &admin,
        &format!("{base}/staff"),
        json!({ "name": "张社工", "position": "social_worker", "employed_from": "2020-01-01" }),
    )
    .await;
    let offering = created(
        &platform,
        &admin,
        &format!("{base}/offerings"),
        json!({ "category": "health", "kind": "appointment", "name": "血压检测", "capacity": 3 }),
    )
    .await;
    let day = today() + Days::new(20);
    let session = created(
        &platform,
        &admin,
        &format!("{base}/sessions"),
        json!({ "offering_id": offering, "starts_at": format!("{day}T09:00:00+08:00"),
                "ends_at": format!("{day}T10:00:00+08:00") }),
    )
    .await;

    let gw = platform.gateway.clone();
    let shots = screenshots();
    let browser = Browser::start().await;
    browser.window_size(1366, 900).await;
    sign_in_browser(&browser, &gw, "manager-s").await;
    let here = format!("/c/{east}/staff");
    browser
        .click_through(&format!("header nav a[href=\"/c/{east}/volunteers\"]"))
        .await;
    browser.click_through("#staffing-link").await;
    assert!(browser.url().await.ends_with(&here));
    let row = browser.find("tr[data-staff=王芳]").await.text().await;
    assert!(row.contains("缺少执照，不能安排"), "{row}");

    // No licence: refused beside the staff member, both choices kept.
    select(&browser, "#f-staff_id", &nurse).await;
    select(&browser, "#f-session_id", &session).await;
    browser
        .click_through("#assign-staff button[type=submit]")
        .await;
    assert_eq!(
        browser.find("#f-staff_id-error").await.text().await,
        "该员工没有医师/护士执业证书，不能安排提供此项服务"
    );
    assert_eq!(value(&browser, "#f-staff_id").await, nurse.as_str());
    assert_eq!(value(&browser, "#f-session_id").await, session.as_str());
    assert!(
        browser.url().await.ends_with(&here),
        "the page's own address"
    );
    browser
        .screenshot(&shots.join("staffing-71-no-licence.png"))
        .await;
    assert_eq!(objections(&browser).await, Vec::<String>::new());
    let (status, listed) = platform
        .get_json(&admin, &format!("{base}/staff-assignments"))
        .await;
    assert_eq!(status, StatusCode::OK, "{listed}");
    assert!(
        listed["assignments"]
            .as_array()
            .is_none_or(|a| a.is_empty()),
        "{listed}"
    );

    // A licence recorded from the page that expired the day before the session.
    let expired = day - Days::new(1);
    licence_form(&browser, &nurse, "护2019-0001", expired).await;
    assert!(browser.source().await.contains("已登记执照"));
    let (_, held) = platform
        .get_json(&admin, &format!("{base}/certifications?holder_id={nurse}"))
        .await;
    let held = held["certifications"]
        .as_array()
        .expect("certifications")
        .clone();
    assert_eq!(held.len(), 1, "{held:?}");
    assert_eq!(held[0]["kind"], "medical_licence");
    assert_eq!(held[0]["expires_on"], expired.to_string());
    let row = browser.find("tr[data-staff=王芳]").await.text().await;
    assert!(
        row.contains(&format!("有效期至 {}", words(expired))),
        "{row}"
    );
    select(&browser, "#f-staff_id", &nurse).await;
    select(&browser, "#f-session_id", &session).await;
    browser
        .click_through("#assign-staff button[type=submit]")
        .await;
    assert_eq!(
        browser.find("#f-staff_id-error").await.text().await,
        format!(
            "该员工的医师/护士执业证书已于{}过期，早于场次日期{}，不能安排",
            words(expired),
            words(day)
        )
    );
    browser
        .screenshot(&shots.join("staffing-72-expired.png"))
        .await;
    assert_eq!(objections(&browser).await, Vec::<String>::new());

    // Renewed: she is put on the session, from the session's own roster page.
    let renewed = day + Days::new(365);
    licence_form(&browser, &nurse, "护2026-0417", renewed).await;
    assert!(browser.source().await.contains("已登记执照"));
    browser
        .goto(&format!("{gw}/c/{east}/sessions/{session}"))
        .await;
    browser.click_through("#assign-staff-link").await;
    assert_eq!(
        value(&browser, "#f-session_id").await,
        session.as_str(),
        "the roster's session is chosen"
    );
    select(&browser, "#f-staff_id", &nurse).await;
    browser
        .click_through("#assign-staff button[type=submit]")
        .await;
    assert!(browser.source().await.contains("已安排工作人员"));
    let (_, listed) = platform
        .get_json(&admin, &format!("{base}/staff-assignments"))
        .await;
    let listed = listed["assignments"]
        .as_array()
        .expect("assignments")
        .clone();
    assert_eq!(listed.len(), 1, "{listed:?}");
    assert_eq!(listed[0]["staff_id"], nurse.as_str());
    assert_eq!(listed[0]["session_id"], session.as_str());
    assert_eq!(listed[0]["offering_id"], offering.as_str());
    assert_eq!(listed[0]["licence"], "medical_licence");
    assert_eq!(listed[0]["session_on"], day.to_string());
    let row = browser
        .find("#staff-assignments tbody tr")
        .await
        .text()
        .await;
    assert!(
        row.contains(&words(day))
            && row.contains("09:00–10:00")
            && row.contains("血压检测")
            && row.contains("王芳"),
        "{row}"
    );
    let row = browser.find("tr[data-staff=王芳]").await.text().await;
    assert!(row.contains("有效"), "{row}");
    assert_eq!(objections(&browser).await, Vec::<String>::new());
    browser
        .screenshot(&shots.join("staffing-73-assigned-1366.png"))
        .await;
    browser.window_size(1024, 900).await;
    browser
        .screenshot(&shots.join("staffing-73-assigned-1024.png"))
        .await;
    browser.window_size(1366, 900).await;
    browser
        .execute("document.querySelector('#licences').scrollIntoView();")
        .await;
    browser
        .screenshot(&shots.join("staffing-74-licences.png"))
        .await;
    sign_out_browser(&browser).await;

    // The front desk reads who is on which session, without the forms.
    sign_in_browser(&browser, &gw, "desk-s").await;
    browser.goto(&format!("{gw}{here}")).await;
    let page = browser.source().await;
    assert!(page.contains("王芳") && page.contains("血压检测"));
    assert!(!page.contains("assign-staff") && !page.contains("add-licence"));
    assert_eq!(objections(&browser).await, Vec::<String>::new());
    browser.close().await;
}
