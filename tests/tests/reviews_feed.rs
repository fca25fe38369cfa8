//! The organisation review (运营管理评估, issue 24) fed from and into the rest of Linli:
//! the partner-resources item is pre-filled with the partnership income finance posted for
//! the centre in the period (learnt from finance.entry.posted), and the latest review's
//! score appears on the centre's dashboard and in the district comparison, in Chinese.
//! Every call through the gateway; the pages read in a signed-in browser.

use std::time::Duration;

use chrono::{Datelike, Utc};
use linli_platform::auth::Role;
use linli_tests::webdriver::Browser;
use linli_tests::webdriver::{PASSWORD, screenshots, sign_in_browser};
use linli_tests::{TestPlatform, poll};
use reqwest::StatusCode;
use serde_json::{Value, json};
use uuid::Uuid;

const DEADLINE: Duration = Duration::from_secs(30);

fn today() -> chrono::NaiveDate {
    (Utc::now() + chrono::Duration::hours(8)).date_naive()
}

fn year() -> String {
    today().year().to_string()
}

fn item<'a>(review: &'a Value, key: &str) -> &'a Value {
    review["items"]
        .as_array()
        .expect("items")
        .iter()
        .find(|i| i["key"] == key)
        .expect(key)
}

async fn put(platform: &TestPlatform, token: &str, path: &str, body: Value) -> (StatusCode, Value) {
    let response = reqwest::Client::new()
        .put(format!("{}{path}", platform.gateway))
        .bearer_auth(token)
        .header("Accept-Language", "en")
        .json(&body)
        .send()
        .await
        .expect("the gateway answers");
    let status = response.status();
    (status, response.json().await.unwrap_or(Value::Null))
}

async fn created(platform: &TestPlatform, path: &str, body: Value) -> Value {
    let (status, answer) = platform
        .post_json(&platform.admin_token(), path, &body, None)
        .await;
    assert_eq!(status, StatusCode::CREATED, "{path}: {answer}");
    answer
}

/// A centre with its own name, in Asia/Shanghai, known to every service's directory.
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

async fn sign_out_browser(browser: &Browser) {
    browser
        .click_through("form[action=\"/sign-out\"] button")
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn partnership_income_recorded_through_the_gateway_prefills_the_partner_resources_item() {
    let platform = TestPlatform::start().await;
    let centre = platform.bookable_centre("Asia/Shanghai").await;
    let manager = platform.token(&[Role::CentreManager], &[centre]);
    let at = |rest: &str| format!("/v1/centres/{centre}{rest}");

    // A partner with an agreement with the centre pays it twice this year.
    let partner = created(
        &platform,
        "/v1/partners",
        json!({ "name": "安康养老服务有限公司", "kind": "enterprise", "contacts": [{ "name": "王经理", "phone": "13800138000" }] }),
    )
    .await;
    let partner = partner["id"].as_str().expect("partner id").to_owned();
    let agreement = created(
        &platform,
        &format!("/v1/partners/{partner}/agreements"),
        json!({
            "centre_id": centre, "provides": "助餐服务", "scopes": ["bookings.offerings:read"],
            "valid_from": (today() - chrono::Duration::days(1)).to_string(),
            "valid_until": (today() + chrono::Duration::days(365)).to_string(),
        }),
    )
    .await;
    platform
        .wait_in_directories(
            "partner_agreements",
            &[agreement["id"].as_str().unwrap().parse().unwrap()],
        )
        .await;
    for amount in [800_000, 434_500] {
        let (status, body) = platform
            .post_json(
                &manager,
                &at("/finance/partnership-income"),
                &json!({
                    "partner_id": partner, "description": "助餐项目合作经费",
                    "amount_minor": amount, "currency": "CNY", "received_on": today().to_string(),
                }),
                None,
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
    }
    // Evaluation has heard of both entries once its own-income figure counts them.
    poll(
        "evaluation to count the partnership income",
        DEADLINE,
        || async {
            let (status, kpis) = platform
                .get_json(&manager, &at(&format!("/kpis?period={}", year())))
                .await;
            (status == StatusCode::OK
                && kpis["kpis"].as_array().is_some_and(|k| {
                    k.iter()
                        .any(|k| k["name"] == "self_sufficiency" && k["numerator"] == 1_234_500)
                }))
            .then_some(())
        },
    )
    .await;

    let (status, review) = platform
        .post_json(
            &manager,
            &at("/org-reviews"),
            &json!({ "period": year() }),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{review}");
    let partners = item(&review, "partner_resources");
    assert_eq!(partners["measure"], "partner_income", "{partners}");
    assert_eq!(partners["measured"], true, "{partners}");
    assert_eq!(partners["measured_amount_minor"], 1_234_500, "{partners}");
    assert_eq!(partners["measured_currency"], "CNY", "{partners}");
    assert_eq!(partners["scored"], false, "{partners}");

    // The review keeps the amount it began with; listing says the same.
    let (status, list) = platform.get_json(&manager, &at("/org-reviews")).await;
    assert_eq!(status, StatusCode::OK, "{list}");
    assert_eq!(
        item(&list["reviews"][0], "partner_resources")["measured_amount_minor"],
        1_234_500
    );

    // A centre finance has posted nothing for begins the item unmeasured.
    let other = platform.bookable_centre("Asia/Shanghai").await;
    let other_manager = platform.token(&[Role::CentreManager], &[other]);
    let (status, review) = platform
        .post_json(
            &other_manager,
            &format!("/v1/centres/{other}/org-reviews"),
            &json!({ "period": year() }),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{review}");
    assert_eq!(item(&review, "partner_resources")["measured"], false);
    platform.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_latest_review_score_shows_on_the_centre_dashboard_and_in_the_district_comparison() {
    let platform = TestPlatform::start().await;
    let east = centre(&platform, "东湖社区服务中心").await;
    // West has no review yet.
    let _west = centre(&platform, "西岭社区服务中心").await;
    platform
        .staff_account("feed-manager", "centre_manager", &[east], PASSWORD)
        .await;
    platform
        .staff_account("feed-district", "district_admin", &[], PASSWORD)
        .await;
    let manager = platform.token(&[Role::CentreManager], &[east]);
    let at = |rest: &str| format!("/v1/centres/{east}{rest}");

    // East's review of this year, two items scored: 12 of 15 and 10 of 15.
    let (status, review) = platform
        .post_json(
            &manager,
            &at("/org-reviews"),
            &json!({ "period": year() }),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{review}");
    let id = review["id"].as_str().expect("review id").to_owned();
    for (key, score) in [("governance", 12), ("participation", 10)] {
        let (status, body) = put(
            &platform,
            &manager,
            &at(&format!("/org-reviews/{id}/items/{key}")),
            json!({ "score": score, "evidence": "理事会会议记录" }),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }
    let period_words = format!("{}年", year());
    let day_words = format!(
        "{}年{}月{}日",
        today().year(),
        today().month(),
        today().day()
    );

    let browser = Browser::start().await;
    let dir = screenshots();
    sign_in_browser(&browser, &platform.gateway, "feed-manager").await;
    browser
        .goto(&format!("{}/c/{east}/dashboard", platform.gateway))
        .await;
    let page = browser.source().await;
    assert!(
        page.contains("id=\"org-review\""),
        "no 运营管理评估 on {page}"
    );
    let section = browser.find("#org-review").await.text().await;
    browser.window_size(1366, 900).await;
    browser
        .execute("document.querySelector('#org-review').scrollIntoView(); return null;")
        .await;
    browser
        .screenshot(&dir.join("reviews-feed-centre-1366.png"))
        .await;
    for said in [
        "运营管理评估",
        &period_words,
        &day_words,
        "总分",
        "22 / 100",
        "组织建设",
        "12 / 15",
        "居民参与",
        "10 / 15",
        "场地设施使用",
        "未评分（满分 20）",
    ] {
        assert!(section.contains(said), "{said:?} not in {section:?}");
    }
    assert!(!section.contains(&id), "{section}");
    sign_out_browser(&browser).await;

    sign_in_browser(&browser, &platform.gateway, "feed-district").await;
    browser
        .goto(&format!("{}/dashboard", platform.gateway))
        .await;
    let comparison = browser.find("#district-reviews").await.text().await;
    browser
        .execute("document.querySelector('#district-reviews').scrollIntoView(); return null;")
        .await;
    browser
        .screenshot(&dir.join("reviews-feed-district-1366.png"))
        .await;
    let rows = browser.find("#district-review-scores").await.text().await;
    let east_row = rows
        .lines()
        .find(|l| l.contains("东湖社区服务中心"))
        .unwrap_or_else(|| panic!("east in {rows:?}"));
    assert!(east_row.contains("22 / 100"), "{east_row}");
    assert!(east_row.contains(&period_words), "{east_row}");
    assert!(east_row.contains(&day_words), "{east_row}");
    let west_row = rows
        .lines()
        .find(|l| l.contains("西岭社区服务中心"))
        .unwrap_or_else(|| panic!("west in {rows:?}"));
    assert!(west_row.contains("暂无评估"), "{west_row}");
    assert!(comparison.contains("运营管理评估"), "{comparison}");
    // The chart: East's bar at 22% with its score under it, West without a bar.
    let svg: String = serde_json::from_value(
        browser
            .execute("return document.querySelector('#district-reviews svg.chart').textContent;")
            .await,
    )
    .expect("text");
    assert!(svg.contains("22.0%"), "{svg}");
    assert!(svg.contains("得分 22 / 100 分"), "{svg}");
    assert!(svg.contains("暂无评估"), "{svg}");
    browser.close().await;
    platform.stop().await;
}
