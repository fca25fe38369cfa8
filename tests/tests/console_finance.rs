//! The finance officer's day in the staff console beyond donations and expenses, in a real
//! browser (headless Chromium through chromedriver), by clicking only: a grant, a
//! partner's income, the year's budget with its 90% alert, a manual journal entry with
//! balanced lines, a reversal with its reason, and the transparency report in Chinese
//! and yuan. Each result is checked through the HTTP API.

use chrono::Utc;
use linli_tests::TestPlatform;
use linli_tests::webdriver::Browser;
use linli_tests::webdriver::{PASSWORD, screenshots, sign_in_browser};
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

/// The centre's entries through the API, oldest first.
async fn entries(platform: &TestPlatform, centre: Uuid) -> Vec<Value> {
    let (status, body) = platform
        .get_json(
            &platform.admin_token(),
            &format!("/v1/centres/{centre}/finance/entries?page_size=200"),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["entries"].as_array().cloned().unwrap_or_default()
}

fn of_source<'a>(entries: &'a [Value], source: &str) -> Vec<&'a Value> {
    entries.iter().filter(|e| e["source"] == source).collect()
}

/// A line of an entry as (account, debit, credit).
fn lines(entry: &Value) -> Vec<(String, i64, i64)> {
    entry["lines"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|l| {
            (
                l["account_code"].as_str().unwrap_or_default().to_owned(),
                l["debit_minor"].as_i64().unwrap_or(0),
                l["credit_minor"].as_i64().unwrap_or(0),
            )
        })
        .collect()
}

/// By clicking only, the finance officer records a special fund (an amount in words refused
/// beside the field, the rest kept) and a partner's income (no partner chosen refused),
/// sets the year's budget (a mistyped amount refused, nothing saved) so that equipment
/// purchases pass 90% and the alert shows in words and colour, posts a manual entry (an
/// unbalanced one refused beside the lines with the typing kept, the running difference
/// shown), reverses it with a reason (none refused beside the field), and downloads the
/// transparency report in Chinese and yuan. Each result is read back through the API.
#[tokio::test]
async fn the_finance_officer_records_a_grant_and_partnership_income_sets_the_budget_posts_and_reverses_an_entry()
 {
    if let Err(missing) = linli_tests::webdriver::browser_paths() {
        panic!("{missing} (deploy/local/test.sh installs them)");
    }
    let platform = TestPlatform::start().await;
    let centre = platform.bookable_centre("Asia/Shanghai").await;
    platform
        .staff_account("finance-a", "finance_officer", &[centre], PASSWORD)
        .await;
    let admin = platform.admin_token();
    let api = format!("/v1/centres/{centre}/finance");
    let today = (Utc::now() + chrono::Duration::hours(8)).date_naive();
    let year = chrono::Datelike::year(&today);

    // A partner with an agreement at the centre, and ¥4,600 already spent on equipment.
    let partner = created(
        &platform,
        "/v1/partners",
        json!({ "name": "康乐养老服务有限公司", "kind": "enterprise", "contacts": [{ "name": "王经理", "phone": "13800138000" }] }),
    )
    .await["id"]
        .as_str()
        .expect("partner id")
        .to_owned();
    let agreement = created(
        &platform,
        &format!("/v1/partners/{partner}/agreements"),
        json!({ "centre_id": centre, "provides": "老年健康讲座", "scopes": ["bookings.offerings:read"],
                "valid_from": (today - chrono::Duration::days(1)).to_string(),
                "valid_until": (today + chrono::Duration::days(365)).to_string() }),
    )
    .await["id"]
        .as_str()
        .expect("agreement id")
        .to_owned();
    platform
        .wait_in_directories("partner_agreements", &[agreement.parse().expect("uuid")])
        .await;
    created(
        &platform,
        &format!("{api}/expenses"),
        json!({ "category": "equipment_purchase", "amount_minor": 460_000, "description": "购买康复器材", "spent_on": today.to_string() }),
    )
    .await;

    let gw = platform.gateway.clone();
    let browser = Browser::start().await;
    sign_in_browser(&browser, &gw, "finance-a").await;
    browser
        .click_through(&format!("header nav a[href=\"/c/{centre}/finance\"]"))
        .await;

    // A special fund, with the amount in words first.
    browser.click_through("#new-grant").await;
    browser
        .find("input[name=kind][value=special_fund]")
        .await
        .click()
        .await;
    browser
        .find("#f-granting_body")
        .await
        .type_text("区民政局")
        .await;
    browser
        .find("#f-purpose")
        .await
        .type_text("社区建设专项")
        .await;
    browser.find("#f-amount").await.type_text("五万").await;
    browser.click_through("#grant button[type=submit]").await;
    let error = browser.find("#f-amount-error").await.text().await;
    assert!(
        error.contains("金额格式不正确"),
        "beside the amount: {error}"
    );
    assert_eq!(value_of(&browser, "#f-granting_body").await, "区民政局");
    let kind: Value = browser
        .execute("return document.querySelector('input[name=kind]:checked').value;")
        .await;
    assert_eq!(kind, "special_fund", "the chosen kind is kept");
    assert!(of_source(&entries(&platform, centre).await, "grant").is_empty());
    shots_at_both_widths(&browser, "65-grant-error").await;
    retype(&browser, "#f-amount", "50,000").await;
    browser.click_through("#grant button[type=submit]").await;
    let said = browser.find(".notice").await.text().await;
    assert!(said.contains("已登记拨款"), "{said}");
    let all = entries(&platform, centre).await;
    let grants = of_source(&all, "grant");
    assert_eq!(grants.len(), 1, "{all:?}");
    assert_eq!(
        lines(grants[0]),
        [
            ("1002".to_owned(), 5_000_000, 0),
            ("4002".to_owned(), 0, 5_000_000)
        ],
        "the bank is debited and the special fund credited: {:?}",
        grants[0]
    );

    // A partner's income, with the partner forgotten first.
    browser.click_through("#new-partnership").await;
    browser
        .find("#f-description")
        .await
        .type_text("健康讲座合作分成")
        .await;
    browser.find("#f-amount").await.type_text("1200").await;
    browser
        .click_through("#partnership button[type=submit]")
        .await;
    let error = browser.find("#f-partner_id-error").await.text().await;
    assert!(error.contains("请选择合作单位"), "{error}");
    assert_eq!(
        value_of(&browser, "#f-description").await,
        "健康讲座合作分成"
    );
    assert_eq!(value_of(&browser, "#f-amount").await, "1200");
    browser
        .find(&format!("#f-partner_id option[value=\"{partner}\"]"))
        .await
        .click()
        .await;
    let option = browser
        .find(&format!("#f-partner_id option[value=\"{partner}\"]"))
        .await
        .text()
        .await;
    assert_eq!(option, "康乐养老服务有限公司", "the partner by name");
    browser
        .click_through("#partnership button[type=submit]")
        .await;
    let said = browser.find(".notice").await.text().await;
    assert!(said.contains("已登记项目合作收入"), "{said}");
    let all = entries(&platform, centre).await;
    let income = of_source(&all, "partnership");
    assert_eq!(income.len(), 1, "{all:?}");
    assert_eq!(
        lines(income[0]),
        [
            ("1002".to_owned(), 120_000, 0),
            ("4005".to_owned(), 0, 120_000)
        ]
    );
    let pool = platform.pool("finance").await;
    let (recorded_partner, described): (Uuid, String) =
        sqlx::query_as("SELECT partner_id, description FROM partnership_income")
            .fetch_one(&pool)
            .await
            .expect("one partnership income");
    pool.close().await;
    assert_eq!(recorded_partner.to_string(), partner);
    assert_eq!(described, "健康讲座合作分成");

    // The year's budget: a mistyped amount refused, nothing saved; then equipment at
    // ¥5,000, of which ¥4,600 (92%) is spent, and the 90% alert.
    browser.click_through("#budget-link").await;
    retype(&browser, "#f-equipment_purchase", "5000").await;
    retype(&browser, "#f-personnel", "八万").await;
    browser
        .click_through("#set-budget button[type=submit]")
        .await;
    let error = browser.find("#f-personnel-error").await.text().await;
    assert!(error.contains("金额格式不正确"), "{error}");
    assert_eq!(value_of(&browser, "#f-equipment_purchase").await, "5000");
    assert_eq!(value_of(&browser, "#f-personnel").await, "八万");
    assert!(
        browser
            .url()
            .await
            .ends_with(&format!("/finance/budget?year={year}")),
        "the page's own address after the error: {}",
        browser.url().await
    );
    let (_, budget) = platform
        .get_json(&admin, &format!("{api}/budgets/{year}"))
        .await;
    assert_eq!(
        budget["budget_total_minor"].as_i64().unwrap_or(0),
        0,
        "{budget}"
    );
    browser
        .execute("document.getElementById('set-budget').scrollIntoView();")
        .await;
    shots_at_both_widths(&browser, "63-budget-form-error").await;
    retype(&browser, "#f-personnel", "80,000").await;
    browser
        .click_through("#set-budget button[type=submit]")
        .await;
    let said = browser.find(".notice").await.text().await;
    assert!(said.contains("已保存预算"), "{said}");
    let (_, budget) = platform
        .get_json(&admin, &format!("{api}/budgets/{year}"))
        .await;
    let category = |name: &str| {
        budget["categories"]
            .as_array()
            .and_then(|c| c.iter().find(|c| c["category"] == name))
            .cloned()
            .unwrap_or(Value::Null)
    };
    assert_eq!(
        category("equipment_purchase")["budget_minor"],
        500_000,
        "{budget}"
    );
    assert_eq!(
        category("equipment_purchase")["executed_basis_points"],
        9_200
    );
    assert_eq!(category("personnel")["budget_minor"], 8_000_000, "{budget}");
    let alert = browser.find("#budget-alerts").await.text().await;
    assert!(
        alert.contains("设备购置") && alert.contains("九成") && alert.contains("92.0%"),
        "the 90% alert in words: {alert}"
    );
    let row = browser
        .find("tr[data-category=equipment_purchase]")
        .await
        .text()
        .await;
    assert!(
        row.contains("¥5,000.00") && row.contains("¥4,600.00") && row.contains("92.0%"),
        "{row}"
    );
    let shown: Value = browser
        .execute(
            "const e = document.querySelector('tr[data-category=equipment_purchase] .execution');
             const fill = e.querySelector('.fill'), meter = e.querySelector('.meter');
             return { near: e.classList.contains('near'),
                      colour: getComputedStyle(fill).fill,
                      share: fill.getBoundingClientRect().width / meter.getBoundingClientRect().width };",
        )
        .await;
    assert_eq!(shown["near"], true, "{shown}");
    assert_ne!(
        shown["colour"], "rgb(31, 122, 58)",
        "not the colour of fine: {shown}"
    );
    let share = shown["share"].as_f64().unwrap_or(0.0);
    assert!((0.90..0.94).contains(&share), "92% of the meter: {shown}");
    let page = browser.find("main").await.text().await;
    assert!(
        !page.contains("equipment_purchase") && !page.contains("fen"),
        "{page}"
    );
    shots_at_both_widths(&browser, "60-budget").await;

    // A manual entry: office costs paid in cash, the credit mistyped first.
    browser
        .click_through(&format!("a[href=\"/c/{centre}/finance\"]"))
        .await;
    browser.click_through("#entries-link").await;
    browser.click_through("#new-entry").await;
    browser
        .find("#f-description")
        .await
        .type_text("购买打印纸")
        .await;
    browser
        .find("#f-account_0 option[value=\"5005\"]")
        .await
        .click()
        .await;
    browser.find("#f-debit_0").await.type_text("300").await;
    browser
        .find("#f-account_1 option[value=\"1001\"]")
        .await
        .click()
        .await;
    browser.find("#f-credit_1").await.type_text("250").await;
    // 再加一行 gives a fifth line, empty; a line left empty is not part of the entry.
    browser.find("#add-line").await.click().await;
    assert_eq!(value_of(&browser, "#f-account_4").await, "");
    let balance = browser.find("#balance").await.text().await;
    assert!(
        balance.contains("借贷不平衡") && balance.contains("¥50.00"),
        "the running difference as typed: {balance}"
    );
    let chosen = browser
        .find("#f-account_0 option[value=\"5005\"]")
        .await
        .text()
        .await;
    assert_eq!(chosen, "办公费用", "the account by its Chinese name");
    browser
        .click_through("#manual-entry button[type=submit]")
        .await;
    let error = browser.find("#f-lines-error").await.text().await;
    assert!(
        error.contains("借贷不平衡") && error.contains("¥300.00") && error.contains("¥250.00"),
        "refused beside the lines: {error}"
    );
    for (css, typed) in [
        ("#f-description", "购买打印纸"),
        ("#f-account_0", "5005"),
        ("#f-debit_0", "300"),
        ("#f-account_1", "1001"),
        ("#f-credit_1", "250"),
    ] {
        assert_eq!(value_of(&browser, css).await, typed, "{css} kept");
    }
    assert!(
        !browser.url().await.ends_with("/entries/new")
            || browser.source().await.contains("f-lines-error"),
    );
    assert!(of_source(&entries(&platform, centre).await, "manual").is_empty());
    shots_at_both_widths(&browser, "61-manual-entry-unbalanced").await;
    retype(&browser, "#f-credit_1", "300").await;
    let balance = browser.find("#balance").await.text().await;
    assert!(balance.contains("借贷平衡"), "{balance}");
    let stale: Value = browser
        .execute("return document.getElementById('f-lines-error').getClientRects().length;")
        .await;
    assert_eq!(stale, 0, "the refusal leaves once the lines balance");
    assert_eq!(browser.find("#credit-total").await.text().await, "¥300.00");
    shots_at_both_widths(&browser, "62-manual-entry-balanced").await;
    browser
        .click_through("#manual-entry button[type=submit]")
        .await;
    let said = browser.find(".notice").await.text().await;
    assert!(said.contains("已记账"), "{said}");
    let all = entries(&platform, centre).await;
    let manual = of_source(&all, "manual");
    assert_eq!(manual.len(), 1, "{all:?}");
    assert_eq!(manual[0]["description"], "购买打印纸");
    assert_eq!(
        lines(manual[0]),
        [
            ("5005".to_owned(), 30_000, 0),
            ("1001".to_owned(), 0, 30_000)
        ]
    );
    let entry = manual[0]["id"].as_str().expect("entry id").to_owned();
    // Its day as a reader says it (2026年12月6日), never the ISO the API sends.
    let iso = manual[0]["entry_date"]
        .as_str()
        .expect("entry date")
        .to_owned();
    let day = chrono::NaiveDate::parse_from_str(&iso, "%Y-%m-%d").expect("an ISO day");
    let in_words = day.format("%Y年%-m月%-d日").to_string();

    // Reversing it: the reason forgotten first.
    let list = browser.find("#entries").await.text().await;
    assert!(
        list.contains(&in_words) && !list.contains(&iso),
        "{in_words} in the entries, not {iso}: {list}"
    );
    for words in [
        "购买打印纸",
        "手工记账",
        "办公费用",
        "库存现金",
        "社区建设专项资金",
    ] {
        assert!(list.contains(words), "{words} in the entries: {list}");
    }
    browser
        .click_through(&format!("tr[data-entry=\"{entry}\"] a.reverse"))
        .await;
    let asked = browser.find("main").await.text().await;
    assert!(
        asked.contains(&in_words) && !asked.contains(&iso),
        "{in_words} on the reversal page, not {iso}: {asked}"
    );
    browser.find("#f-confirm").await.click().await;
    browser.click_through("#reverse button[type=submit]").await;
    let error = browser.find("#f-reason-error").await.text().await;
    assert!(error.contains("请填写冲销原因"), "{error}");
    let kept: Value = browser
        .execute("return document.getElementById('f-confirm').checked;")
        .await;
    assert_eq!(kept, true, "the confirmation is kept");
    shots_at_both_widths(&browser, "66-reverse-error").await;
    let (_, still) = platform
        .get_json(&admin, &format!("{api}/entries/{entry}"))
        .await;
    assert_eq!(
        still["reversed_by"].as_str().unwrap_or_default(),
        "",
        "{still}"
    );
    browser.find("#f-reason").await.type_text("重复记账").await;
    browser.click_through("#reverse button[type=submit]").await;
    let said = browser.find(".notice").await.text().await;
    assert!(said.contains("已冲销"), "{said}");
    let (_, original) = platform
        .get_json(&admin, &format!("{api}/entries/{entry}"))
        .await;
    let reversal = original["reversed_by"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert!(!reversal.is_empty(), "reversed: {original}");
    let (_, mirror) = platform
        .get_json(&admin, &format!("{api}/entries/{reversal}"))
        .await;
    assert_eq!(mirror["reverses"], entry.as_str(), "{mirror}");
    assert!(
        mirror["description"]
            .as_str()
            .unwrap_or_default()
            .contains("重复记账"),
        "{mirror}"
    );
    assert_eq!(
        lines(&mirror),
        [
            ("5005".to_owned(), 0, 30_000),
            ("1001".to_owned(), 30_000, 0)
        ]
    );
    let row = browser
        .find(&format!("tr[data-entry=\"{entry}\"]"))
        .await
        .text()
        .await;
    assert!(row.contains("已冲销"), "{row}");
    let row = browser
        .find(&format!("tr[data-entry=\"{reversal}\"]"))
        .await
        .text()
        .await;
    assert!(
        row.contains("冲销，原因：重复记账") && !row.contains("Reversal"),
        "{row}"
    );

    // The transparency report as the finance page offers it.
    browser
        .click_through(&format!("a[href=\"/c/{centre}/finance\"]"))
        .await;
    let href = browser
        .find("a[href*=\"transparency.csv\"]")
        .await
        .attribute("href")
        .await;
    let cookie = browser.cookie("linli_session").await;
    let response = platform
        .http
        .get(if href.starts_with("http") {
            href.clone()
        } else {
            format!("{gw}{href}")
        })
        .header("cookie", format!("linli_session={cookie}"))
        .send()
        .await
        .expect("the download");
    assert_eq!(response.status(), StatusCode::OK);
    let csv = response.text().await.expect("text");
    let csv = csv.trim_start_matches('\u{feff}');
    assert!(
        csv.starts_with("部分,项目,金额（元）,预算（元）,执行率"),
        "Chinese headings: {csv}"
    );
    for row in [
        "收入,社区建设专项资金,50000.00,,",
        "收入,项目合作,1200.00,,",
        "支出,设备购置,4600.00,,",
        "预算执行,设备购置,4600.00,5000.00,92.0%",
    ] {
        assert!(csv.contains(row), "{row} in {csv}");
    }
    assert!(
        !csv.contains("_minor") && !csv.contains("special_fund") && !csv.contains("460000"),
        "{csv}"
    );

    // Every new page as the finance officer, then as the auditor, who reads them without a
    // form or an action; each in Chinese words only.
    let pages = [
        format!("/c/{centre}/finance"),
        format!("/c/{centre}/finance/budget"),
        format!("/c/{centre}/finance/entries"),
        format!("/c/{centre}/finance/entries/{entry}/reverse"),
        format!("/c/{centre}/finance/entries/{reversal}/reverse"),
        format!("/c/{centre}/finance/entries/new"),
        format!("/c/{centre}/finance/grants/new"),
        format!("/c/{centre}/finance/partnership/new"),
    ];
    for page in &pages {
        browser.goto(&format!("{gw}{page}")).await;
        let found = objections(&browser).await;
        assert!(found.is_empty(), "finance-a {page}: {found:?}");
        if page.ends_with("/entries") {
            shots_at_both_widths(&browser, "64-entries").await;
        }
    }
    browser
        .click_through("form[action=\"/sign-out\"] button")
        .await;
    platform
        .staff_account("auditor-a", "auditor", &[centre], PASSWORD)
        .await;
    sign_in_browser(&browser, &gw, "auditor-a").await;
    for page in &pages[..4] {
        browser.goto(&format!("{gw}{page}")).await;
        let found = objections(&browser).await;
        assert!(found.is_empty(), "auditor-a {page}: {found:?}");
        let writable: Value = browser
            .execute(
                "return Array.from(document.querySelectorAll('main form[method=post], a.reverse, #new-entry, #new-grant, #new-partnership')).map(e => e.id || e.className);",
            )
            .await;
        assert_eq!(writable, json!([]), "auditor-a {page} reads only");
    }
    for page in &pages[5..] {
        browser.goto(&format!("{gw}{page}")).await;
        let heading = browser.find("h1").await.text().await;
        assert_eq!(heading, "无权访问此页面", "auditor-a {page}");
    }

    browser.close().await;
    platform.stop().await;
}
