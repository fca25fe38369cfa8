//! The district admin's console (issue 22, District admin and Charts): partners and their
//! agreements by clicking only, checked through the API; the district comparison with a
//! chart for every KPI the evaluation service returns, legible (text at least 12 px, none
//! cut off) at 1366 and 1024 px; and a centre's role kept out of the partner pages.

use std::time::Duration;

use chrono::Utc;
use linli_tests::webdriver::Browser;
use linli_tests::webdriver::{screenshots, sign_in_browser};
use linli_tests::{TestPlatform, poll};
use reqwest::StatusCode;
use serde_json::{Value, json};
use uuid::Uuid;

/// A centre with its own name (the platform's helper names every centre alike), in
/// Asia/Shanghai, known to every service's directory.
async fn centre(platform: &TestPlatform, name: &str) -> Uuid {
    let pool = platform.pool("registry").await;
    let code = format!("c{}", &Uuid::new_v4().simple().to_string()[..8]);
    let details = linli_registry::domain::centre::CentreDetails::parse(
        &linli_registry::domain::centre::CentreForm {
            code: &code,
            name,
            time_zone: "Asia/Shanghai",
            ..Default::default()
        },
    )
    .expect("a valid centre");
    let id = linli_registry::store::create_centre(&pool, Uuid::new_v4(), &details)
        .await
        .expect("centre inserted")
        .expect("a new centre")
        .id;
    pool.close().await;
    platform.wait_in_directories("centres", &[id]).await;
    id
}

async fn created(platform: &TestPlatform, path: &str, body: Value) -> Value {
    let (status, answer) = platform
        .post_json(&platform.admin_token(), path, &body, None)
        .await;
    assert_eq!(status, StatusCode::CREATED, "{path}: {answer}");
    answer
}

async fn sign_out_browser(browser: &Browser) {
    browser
        .click_through("form[action=\"/sign-out\"] button")
        .await;
}

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

/// What is wrong with the charts' text on the page as shown: text drawn smaller than 12 px
/// (its font size times the chart's scale on screen), text reaching outside its chart,
/// and a page wider than the window.
const ILLEGIBLE: &str = r#"
const found = [];
for (const svg of document.querySelectorAll('svg.chart')) {
  const box = svg.getBoundingClientRect();
  const scale = svg.getScreenCTM().a;
  for (const t of svg.querySelectorAll('text')) {
    const px = parseFloat(getComputedStyle(t).fontSize) * scale;
    if (px < 12) found.push('small ' + px.toFixed(1) + 'px: ' + t.textContent);
    const r = t.getBoundingClientRect();
    if (r.width > 0 && (r.left < box.left - 0.5 || r.right > box.right + 0.5 || r.top < box.top - 0.5 || r.bottom > box.bottom + 0.5))
      found.push('cut off: ' + t.textContent);
  }
}
if (document.documentElement.scrollWidth > window.innerWidth + 1)
  found.push('page wider than the window: ' + document.documentElement.scrollWidth + ' > ' + window.innerWidth);
return found;
"#;

async fn illegible_at_both_widths(browser: &Browser) -> Vec<String> {
    let mut found = Vec::new();
    for width in [1366, 1024] {
        browser.window_size(width, 900).await;
        let said: Vec<String> =
            serde_json::from_value(browser.execute(ILLEGIBLE).await).expect("a list");
        found.extend(said.into_iter().map(|s| format!("{width} px: {s}")));
    }
    browser.window_size(1366, 900).await;
    found
}

/// What a person would object to in the visible text (as console.rs's crawl): an English
/// sentence, a raw code, a UUID, a JSON document, or a failed page.
const OBJECTIONS: &str = r#"
const text = document.body ? document.body.innerText : '';
const found = [];
const add = (what, re) => { for (const m of text.matchAll(re)) found.push(what + ': ' + m[0]); };
add('UUID', /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/gi);
add('code', /\b[a-z]+(?:[_.:][a-z]+)+\b/g);
add('English', /[A-Za-z]{2,}(?:[ ,:;'’]+[A-Za-z]{2,}){2,}/g);
if (/^\s*[\[{]/.test(text)) found.push('JSON: ' + text.slice(0, 80));
const heading = document.querySelector('h1');
if (heading && /出错了|服务暂时不可用/.test(heading.innerText)) found.push('failed: ' + heading.innerText);
return found;
"#;

async fn objections(browser: &Browser) -> Vec<String> {
    serde_json::from_value(browser.execute(OBJECTIONS).await).expect("a list")
}

fn this_month() -> String {
    Utc::now().format("%Y-%m").to_string()
}

/// Every minute of Shanghai's clock from `from` to `to`, as the console writes a time.
fn shanghai_minutes(from: chrono::DateTime<Utc>, to: chrono::DateTime<Utc>) -> Vec<String> {
    let shanghai = chrono::FixedOffset::east_opt(8 * 3600).expect("UTC+8");
    let mut minutes = Vec::new();
    let mut at = from - chrono::Duration::seconds(from.timestamp().rem_euclid(60));
    while at <= to {
        minutes.push(at.with_timezone(&shanghai).format("%H:%M").to_string());
        at += chrono::Duration::minutes(1);
    }
    minutes
}

/// Opens `url`, a page of KPI figures, and checks it says how old they are in the
/// district's time: counted for this page (the suites keep none), so within the minutes
/// it took to load.
async fn open_counted_while_loading(browser: &Browser, url: &str) {
    let before = Utc::now();
    browser.goto(url).await;
    let as_of = browser.find("#computed-at").await.text().await;
    assert!(
        shanghai_minutes(before, Utc::now())
            .iter()
            .any(|m| as_of == format!("数据截至 {m}")),
        "{as_of}"
    );
}

/// Two centres with something to measure: residents, a volunteer among them, and at one a
/// donation against an expense.
async fn two_centres_with_figures(platform: &TestPlatform) -> (Uuid, Uuid) {
    let east = centre(platform, "东湖社区服务中心").await;
    let west = centre(platform, "西城社区服务中心").await;
    let mut residents = Vec::new();
    for (centre, name, phone) in [
        (east, "张三丰", "13812345671"),
        (east, "李四", "13812345672"),
        (east, "王五", "13812345673"),
        (west, "赵六", "13812345674"),
        (west, "钱七", "13812345675"),
    ] {
        let r = created(
            platform,
            &format!("/v1/centres/{centre}/residents"),
            json!({ "name": name, "gender": "male", "date_of_birth": "1950-03-01", "phone": phone }),
        )
        .await;
        residents.push((centre, r["id"].as_str().expect("id").to_owned()));
    }
    let ids: Vec<Uuid> = residents
        .iter()
        .map(|(_, r)| r.parse().expect("uuid"))
        .collect();
    platform.wait_for_residents(&ids).await;
    platform.wait_for_residents_in_volunteers(&ids).await;
    created(
        platform,
        &format!("/v1/centres/{east}/volunteers"),
        json!({ "resident_id": residents[1].1, "display_name": "李四", "skills": ["first_aid"] }),
    )
    .await;
    let today = Utc::now()
        .with_timezone(&chrono::FixedOffset::east_opt(8 * 3600).expect("UTC+8"))
        .date_naive();
    created(
        platform,
        &format!("/v1/centres/{east}/finance/expenses"),
        json!({ "category": "equipment_purchase", "amount_minor": 151_000, "description": "购买血压计", "spent_on": today.to_string() }),
    )
    .await;
    created(
        platform,
        &format!("/v1/centres/{east}/finance/donations"),
        json!({ "donor_name": "王大爷", "amount_minor": 30_000, "purpose": "助老" }),
    )
    .await;
    (east, west)
}

/// The district comparison draws one chart for each KPI the evaluation service returns for
/// the month (the same set of names), each with its title, its unit in words and its
/// target; bars on a 0–100% scale; and its text at least 12 px and never cut off at 1366
/// and at 1024 px.
#[tokio::test]
async fn the_district_comparison_charts_every_kpi_the_api_returns_legibly_at_both_widths() {
    if let Err(missing) = linli_tests::webdriver::browser_paths() {
        panic!("{missing} (deploy/local/test.sh installs them)");
    }
    let platform = TestPlatform::start().await;
    let (east, _west) = two_centres_with_figures(&platform).await;
    platform
        .console_account("district-a", "district_admin", &[])
        .await;
    let month = this_month();
    // The evaluation service counts from the registry's and finance's events: wait until
    // east's volunteers show.
    let district = poll(
        "east's figures in the KPIs",
        Duration::from_secs(60),
        || async {
            let (status, body) = platform
                .get_json(&platform.admin_token(), &format!("/v1/kpis?period={month}"))
                .await;
            assert_eq!(status, StatusCode::OK, "{body}");
            let east_has = body["centres"]
                .as_array()?
                .iter()
                .find(|c| c["centre_id"] == east.to_string())?["kpis"]
                .as_array()?
                .iter()
                .any(|k| k["name"] == "volunteer_ratio" && k["has_data"] == true);
            east_has.then_some(body)
        },
    )
    .await;
    let mut from_api: Vec<String> = district["district"]
        .as_array()
        .expect("the district's KPIs")
        .iter()
        .map(|k| k["name"].as_str().expect("a name").to_owned())
        .collect();
    from_api.sort();
    assert!(from_api.len() >= 7, "{from_api:?}");

    let gw = platform.gateway.clone();
    let browser = Browser::start().await;
    sign_in_browser(&browser, &gw, "district-a").await;
    open_counted_while_loading(&browser, &format!("{gw}/dashboard?period={month}")).await;
    let mut charted: Vec<String> = serde_json::from_value(
        browser
            .execute(
                "return Array.from(document.querySelectorAll('#district-charts figure[data-kpi]'))
                   .filter(f => f.querySelector('svg.chart, p.single-figure'))
                   .map(f => f.dataset.kpi);",
            )
            .await,
    )
    .expect("names");
    charted.sort();
    assert_eq!(charted, from_api, "a chart for every KPI, no more");

    // Each chart says what it is, in what, and against which target.
    let captions: Vec<String> = serde_json::from_value(
        browser
            .execute("return Array.from(document.querySelectorAll('#district-charts figcaption')).map(f => f.innerText);")
            .await,
    )
    .expect("captions");
    let volunteers = captions
        .iter()
        .find(|c| c.contains("志愿者比例"))
        .expect("the volunteer ratio's chart");
    assert!(
        volunteers.contains("单位 %") && volunteers.contains("按人计"),
        "{volunteers}"
    );
    let money = captions
        .iter()
        .find(|c| c.contains("自我造血率"))
        .expect("self-sufficiency's chart");
    assert!(money.contains("按元计"), "{money}");
    let hours = captions
        .iter()
        .find(|c| c.contains("设施利用率"))
        .expect("utilisation's chart");
    assert!(hours.contains("按小时计"), "{hours}");
    for kpi in &district["district"].as_array().expect("kpis").clone() {
        let target = kpi["target"].as_f64().unwrap_or_default();
        let name = kpi["name"].as_str().unwrap_or_default();
        let has_line: bool = serde_json::from_value(
            browser
                .execute(&format!(
                    "const f = document.querySelector('#district-charts figure[data-kpi=\"{name}\"]');
                     return !!f.querySelector('line.target') || !f.querySelector('svg');"
                ))
                .await,
        )
        .expect("a boolean");
        if target > 0.0 {
            assert!(has_line, "{name}'s target line");
        }
    }
    // East's volunteer ratio (1 of 3 residents) against the width of 100%: a third of the
    // scale, not the whole width.
    let share: f64 = serde_json::from_value(
        browser
            .execute(
                "const svg = document.querySelector('#district-charts figure[data-kpi=\"volunteer_ratio\"] svg');
                 const bar = Array.from(svg.querySelectorAll('rect.actual')).find(r => r.textContent.includes('东湖'));
                 const grid = Array.from(svg.querySelectorAll('line.grid')).map(l => parseFloat(l.getAttribute('x1')));
                 return (parseFloat(bar.getAttribute('width'))) / (Math.max(...grid) - Math.min(...grid));",
            )
            .await,
    )
    .expect("a share");
    assert!(
        (share - 1.0 / 3.0).abs() < 0.02,
        "a third of the scale: {share}"
    );
    let illegible = illegible_at_both_widths(&browser).await;
    assert!(illegible.is_empty(), "{illegible:#?}");
    let said = objections(&browser).await;
    assert!(said.is_empty(), "the district comparison: {said:?}");
    let (year, month_no) = month.split_once('-').expect("YYYY-MM");
    let said_month = format!("{year}年{}月", month_no.trim_start_matches('0'));
    let body = browser.find("main").await.text().await;
    assert!(
        body.contains(&said_month) && !body.contains(&format!("· {month}")),
        "the month in words"
    );
    shots_at_both_widths(&browser, "district-70-comparison").await;
    browser
        .execute("document.getElementById('district-charts').scrollIntoView();")
        .await;
    shots_at_both_widths(&browser, "district-71-charts").await;

    // A centre's own dashboard: trends drawn at their size too, and its figures' time.
    open_counted_while_loading(&browser, &format!("{gw}/c/{east}/dashboard?period={month}")).await;
    let illegible = illegible_at_both_widths(&browser).await;
    assert!(illegible.is_empty(), "{illegible:#?}");
    shots_at_both_widths(&browser, "district-72-centre-dashboard").await;
    // Finance's bars (their labels were cut off at the left edge).
    browser.goto(&format!("{gw}/c/{east}/finance")).await;
    let illegible = illegible_at_both_widths(&browser).await;
    assert!(illegible.is_empty(), "{illegible:#?}");
    sign_out_browser(&browser).await;
    browser.close().await;
    platform.stop().await;
}

/// The district admin, by clicking only, adds a partner (a missing kind said beside it, the
/// name kept), makes an agreement at one centre (no grant chosen said beside it, what was
/// typed kept), sees it in Chinese words, and revokes it after a confirmation with a reason;
/// each step checked through the API. A centre manager gets the console's Chinese 403.
#[tokio::test]
async fn the_district_admin_adds_a_partner_makes_an_agreement_and_revokes_it_by_clicking() {
    if let Err(missing) = linli_tests::webdriver::browser_paths() {
        panic!("{missing} (deploy/local/test.sh installs them)");
    }
    let platform = TestPlatform::start().await;
    let east = centre(&platform, "东湖社区服务中心").await;
    let west = centre(&platform, "西城社区服务中心").await;
    platform
        .console_account("district-a", "district_admin", &[])
        .await;
    platform
        .console_account("manager-a", "centre_manager", &[east])
        .await;
    let gw = platform.gateway.clone();
    let shots = screenshots();
    let browser = Browser::start().await;
    sign_in_browser(&browser, &gw, "district-a").await;

    browser
        .click_through("header nav a[href=\"/partners\"]")
        .await;
    assert!(browser.url().await.ends_with("/partners"));
    browser
        .find("#f-name")
        .await
        .type_text("幸福家政服务有限公司")
        .await;
    browser
        .find("#f-contact_name")
        .await
        .type_text("周经理")
        .await;
    browser
        .find("#f-contact_phone")
        .await
        .type_text("13900001111")
        .await;
    browser
        .click_through("#new-partner button[type=submit]")
        .await;
    let error = browser.find("#f-kind-error").await.text().await;
    assert_eq!(error, "请选择单位类型");
    assert_eq!(
        browser.find("#f-name").await.attribute("value").await,
        "幸福家政服务有限公司",
        "the name is kept"
    );
    assert!(
        browser.url().await.ends_with("/partners"),
        "the page's own address after the error"
    );
    browser
        .screenshot(&shots.join("district-73-partner-kind-missing.png"))
        .await;
    browser
        .find("#new-partner input[name=kind][value=enterprise]")
        .await
        .click()
        .await;
    browser
        .click_through("#new-partner button[type=submit]")
        .await;
    let (status, partners) = platform
        .get_json(&platform.admin_token(), "/v1/partners")
        .await;
    assert_eq!(status, StatusCode::OK, "{partners}");
    let partner = partners["partners"]
        .as_array()
        .expect("partners")
        .iter()
        .find(|p| p["name"] == "幸福家政服务有限公司")
        .expect("the new partner")
        .clone();
    assert_eq!(partner["kind"], "enterprise");
    assert_eq!(partner["contacts"][0]["name"], "周经理");
    let id = partner["id"].as_str().expect("id").to_owned();
    assert!(browser.url().await.contains(&format!("/partners/{id}")));
    assert_eq!(browser.find("#kind").await.text().await, "企业");

    // An agreement at the east centre, first without a grant.
    browser
        .find(&format!(
            "#new-agreement input[name=centre_ids][value=\"{east}\"]"
        ))
        .await
        .click()
        .await;
    browser
        .find("#f-provides")
        .await
        .type_text("上门保洁")
        .await;
    browser
        .click_through("#new-agreement button[type=submit]")
        .await;
    assert_eq!(
        browser.find("#f-scopes-error").await.text().await,
        "请至少选择一项授权内容"
    );
    assert_eq!(
        browser.find("#f-provides").await.attribute("value").await,
        "上门保洁"
    );
    let kept: bool = serde_json::from_value(
        browser
            .execute(&format!(
                "return document.querySelector('#new-agreement input[name=centre_ids][value=\"{east}\"]').checked;"
            ))
            .await,
    )
    .expect("a boolean");
    assert!(kept, "the chosen centre is kept");
    assert!(browser.url().await.ends_with(&format!("/partners/{id}")));
    browser
        .find("#new-agreement input[name=scopes][value=\"bookings.offerings:write\"]")
        .await
        .click()
        .await;
    browser
        .find("#new-agreement input[name=scopes][value=\"bookings.bookings:read\"]")
        .await
        .click()
        .await;
    browser
        .click_through("#new-agreement button[type=submit]")
        .await;
    let rows = browser.find("#agreements tbody").await.text().await;
    assert!(
        rows.contains("东湖社区服务中心")
            && rows.contains("在中心开设服务项目")
            && rows.contains("查看本单位项目的预约")
            && rows.contains("生效中"),
        "{rows}"
    );
    assert!(!rows.contains("bookings."), "no raw scope: {rows}");
    shots_at_both_widths(&browser, "district-74-partner-agreement").await;
    let cramped = illegible_at_both_widths(&browser).await;
    assert!(cramped.is_empty(), "{cramped:#?}");
    let said = objections(&browser).await;
    assert!(said.is_empty(), "the partner's page: {said:?}");
    let (_, partner) = platform
        .get_json(&platform.admin_token(), &format!("/v1/partners/{id}"))
        .await;
    let agreements = partner["agreements"].as_array().expect("agreements");
    assert_eq!(agreements.len(), 1, "{partner}");
    let agreement = &agreements[0];
    assert_eq!(agreement["centre_id"], east.to_string());
    assert_eq!(agreement["provides"], "上门保洁");
    assert_eq!(
        agreement["scopes"],
        json!(["bookings.bookings:read", "bookings.offerings:write"])
    );
    let today = Utc::now()
        .with_timezone(&chrono::FixedOffset::east_opt(8 * 3600).expect("UTC+8"))
        .date_naive();
    assert_eq!(agreement["valid_from"], today.to_string());
    assert_eq!(
        agreement["valid_until"],
        (today + chrono::Days::new(365)).to_string(),
        "the last day shown is the day before the registry's end"
    );
    assert!(agreement["revoked_at"].is_null());
    let _ = west;

    // The partner's system's certificate: pasted text that is not one is said beside the
    // field and kept; the real one is listed by its name, then stopped after a confirmation.
    let (ca, _) = linli_platform::partner::PartnerCa::generate("test partner CA").expect("a CA");
    let issued = ca.issue_client("xingfu", 30).expect("a client certificate");
    browser
        .find("#f-certificate_pem")
        .await
        .type_text("这不是证书")
        .await;
    browser
        .click_through("#credentials button[type=submit]")
        .await;
    assert_eq!(
        browser.find("#f-certificate_pem-error").await.text().await,
        "不是有效的证书文本，请粘贴对方提供的完整证书"
    );
    assert!(browser.url().await.ends_with(&format!("/partners/{id}")));
    let pem = browser.find("#f-certificate_pem").await;
    pem.clear().await;
    pem.type_text(&issued.certificate_pem).await;
    browser
        .click_through("#credentials button[type=submit]")
        .await;
    let listed = browser.find("#credentials table").await.text().await;
    assert!(
        listed.contains("xingfu") && listed.contains("可用"),
        "{listed}"
    );
    let said = objections(&browser).await;
    assert!(said.is_empty(), "the certificates: {said:?}");
    browser.click_through("#credentials a.button").await;
    browser
        .click_through("form.stack button[type=submit]")
        .await;
    let listed = browser.find("#credentials table").await.text().await;
    assert!(listed.contains("已停用"), "{listed}");
    let (_, partner) = platform
        .get_json(&platform.admin_token(), &format!("/v1/partners/{id}"))
        .await;
    assert_eq!(partner["credentials"].as_array().map(Vec::len), Some(1));
    assert!(
        partner["credentials"][0]["revoked_at"].is_string(),
        "{partner}"
    );

    // Revoking asks first, and wants a reason.
    browser.click_through("#agreements a.button").await;
    assert!(browser.url().await.ends_with("/revoke"));
    let said = browser.find("#revoking").await.text().await;
    assert!(said.contains("在中心开设服务项目"), "{said}");
    browser.find("#f-reason").await.type_text("到").await;
    browser
        .click_through("form.stack button[type=submit]")
        .await;
    assert_eq!(
        browser.find("#f-reason-error").await.text().await,
        "请写明撤销原因（至少 3 个字）"
    );
    assert_eq!(browser.find("#f-reason").await.text().await, "到");
    let (_, partner) = platform
        .get_json(&platform.admin_token(), &format!("/v1/partners/{id}"))
        .await;
    assert!(partner["agreements"][0]["revoked_at"].is_null(), "not yet");
    browser
        .screenshot(&shots.join("district-75-revoke-agreement.png"))
        .await;
    let said = objections(&browser).await;
    assert!(said.is_empty(), "the revoking page: {said:?}");
    browser
        .find("#f-reason")
        .await
        .type_text("期服务结束")
        .await;
    browser
        .click_through("form.stack button[type=submit]")
        .await;
    assert!(
        browser
            .url()
            .await
            .contains(&format!("/partners/{id}?done=revoked"))
    );
    let rows = browser.find("#agreements tbody").await.text().await;
    assert!(
        rows.contains("已撤销") && rows.contains("到期服务结束"),
        "{rows}"
    );
    let (_, partner) = platform
        .get_json(&platform.admin_token(), &format!("/v1/partners/{id}"))
        .await;
    assert!(
        partner["agreements"][0]["revoked_at"].is_string(),
        "{partner}"
    );
    assert_eq!(partner["agreements"][0]["revoked_reason"], "到期服务结束");
    browser.click_through("main a[href=\"/partners\"]").await;
    let listed = browser.find("#partners tbody").await.text().await;
    assert!(
        listed.contains("幸福家政服务有限公司") && listed.contains("企业"),
        "{listed}"
    );
    let cramped = illegible_at_both_widths(&browser).await;
    assert!(cramped.is_empty(), "{cramped:#?}");
    let said = objections(&browser).await;
    assert!(said.is_empty(), "the partner list: {said:?}");
    shots_at_both_widths(&browser, "district-76-partners").await;
    sign_out_browser(&browser).await;

    // A centre's manager has no partner pages: no menu item, and the console's 403.
    sign_in_browser(&browser, &gw, "manager-a").await;
    let menu = browser.find("header nav").await.text().await;
    assert!(!menu.contains("合作单位"), "{menu}");
    for page in [
        "/partners".to_owned(),
        format!("/partners/{id}"),
        format!(
            "/partners/{id}/agreements/{}/revoke",
            agreement["id"].as_str().unwrap_or_default()
        ),
    ] {
        browser.goto(&format!("{gw}{page}")).await;
        let heading = browser.find("h1").await.text().await;
        assert_eq!(heading, "无权访问此页面", "{page}");
    }
    browser.goto(&format!("{gw}/dashboard")).await;
    sign_out_browser(&browser).await;
    browser.close().await;
    platform.stop().await;
}
