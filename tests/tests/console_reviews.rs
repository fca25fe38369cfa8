//! The organisation review's console pages (运营管理评估, issue 24), by clicking only: the
//! centre manager begins this quarter's review from the board's page (the period chosen
//! from lists), is told beside the lists when that period has begun already, scores an item
//! on its own page (a score over the item's maximum refused beside the field, the evidence
//! typed kept) and sees it on the review; the district admin, working in the centre, edits
//! the district's checklist (a title changed, an item removed after confirming, a new item
//! added), each checked through the HTTP API. The front desk reads the reviews without the
//! forms. Screenshots at 1366 and 1024 px.

use linli_tests::TestPlatform;
use linli_tests::webdriver::Browser;
use linli_tests::webdriver::{screenshots, sign_in_browser};
use reqwest::StatusCode;
use serde_json::Value;
use uuid::Uuid;

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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_manager_begins_a_review_and_scores_an_item_and_the_district_admin_edits_the_checklist_by_clicking()
 {
    if let Err(missing) = linli_tests::webdriver::browser_paths() {
        panic!("{missing} (deploy/local/test.sh installs them)");
    }
    let platform = TestPlatform::start().await;
    let east = centre(&platform, "东湖社区服务中心").await;
    platform
        .console_account("manager-r", "centre_manager", &[east])
        .await;
    platform
        .console_account("desk-r", "front_desk", &[east])
        .await;
    platform
        .console_account("district-r", "district_admin", &[])
        .await;
    let admin = platform.admin_token();

    let gw = platform.gateway.clone();
    let shots = screenshots();
    let browser = Browser::start().await;
    browser.window_size(1366, 900).await;
    sign_in_browser(&browser, &gw, "manager-r").await;
    let board = format!("/c/{east}/board");
    let reviews = format!("/c/{east}/board/reviews");
    browser
        .click_through(&format!("header nav a[href=\"{board}\"]"))
        .await;
    browser.click_through("#to-reviews").await;
    assert!(browser.url().await.ends_with(&reviews));
    assert!(
        browser
            .source()
            .await
            .contains("本中心尚未开始运营管理评估")
    );

    // 开始评估 for the year and quarter the form offers (today's).
    let year = browser
        .execute("return document.querySelector('#f-year').value;")
        .await;
    let part = browser
        .execute("return document.querySelector('#f-part').value;")
        .await;
    let period = format!("{}-{}", year.as_str().unwrap(), part.as_str().unwrap());
    assert!(period.contains("-Q"), "this quarter by default: {period}");
    browser
        .click_through("#start-review button[type=submit]")
        .await;
    assert!(browser.source().await.contains("已开始新一期评估"));
    let (status, listed) = platform
        .get_json(&admin, &format!("/v1/centres/{east}/org-reviews"))
        .await;
    assert_eq!(status, StatusCode::OK, "{listed}");
    let listed = listed["reviews"].as_array().expect("reviews").clone();
    assert_eq!(listed.len(), 1, "{listed:?}");
    assert_eq!(listed[0]["period"], period.as_str());
    let review_id = listed[0]["id"].as_str().unwrap().to_owned();
    let quarter = match part.as_str().unwrap() {
        "Q1" => "第一季度",
        "Q2" => "第二季度",
        "Q3" => "第三季度",
        _ => "第四季度",
    };
    let words = format!("{}年{quarter}", year.as_str().unwrap());
    assert!(browser.source().await.contains(&words), "{words}");
    assert_eq!(objections(&browser).await, Vec::<String>::new());

    // The same period again: said beside the lists, in words, the choice kept.
    browser
        .click_through("#start-review button[type=submit]")
        .await;
    let said = browser.find("#f-period-error").await.text().await;
    assert_eq!(
        said,
        format!("本中心{words}的评估已经开始，请在下面原有的评估中继续打分")
    );
    assert_eq!(
        browser
            .execute("return document.querySelector('#f-part').value;")
            .await,
        part
    );
    assert!(
        browser.url().await.ends_with(&reviews),
        "the page's own address"
    );
    browser
        .screenshot(&shots.join("reviews-91-period-begun.png"))
        .await;
    assert_eq!(objections(&browser).await, Vec::<String>::new());
    let (_, listed) = platform
        .get_json(&admin, &format!("/v1/centres/{east}/org-reviews"))
        .await;
    assert_eq!(listed["reviews"].as_array().unwrap().len(), 1);

    // 打分 on the governance item: over its maximum, refused beside the score.
    browser
        .click_through("tr[data-item=governance] a.score-item")
        .await;
    let item_page = format!("{reviews}/{review_id}/items/governance");
    assert!(browser.url().await.ends_with(&item_page));
    browser.find("#f-score").await.type_text("20").await;
    browser
        .find("#f-evidence")
        .await
        .type_text("理事会章程、2026年四次会议纪要")
        .await;
    browser
        .find("#f-follow_up")
        .await
        .type_text("补充财务公示制度")
        .await;
    browser
        .click_through("#score-item button[type=submit]")
        .await;
    assert_eq!(
        browser.find("#f-score-error").await.text().await,
        "须在 0 到 15 之间"
    );
    assert_eq!(
        browser
            .execute("return document.querySelector('#f-evidence').value;")
            .await,
        "理事会章程、2026年四次会议纪要",
        "the evidence typed is kept"
    );
    assert!(browser.url().await.ends_with(&item_page));
    browser
        .screenshot(&shots.join("reviews-92-score-refused.png"))
        .await;
    assert_eq!(objections(&browser).await, Vec::<String>::new());
    let (_, listed) = platform
        .get_json(&admin, &format!("/v1/centres/{east}/org-reviews"))
        .await;
    let governance = listed["reviews"][0]["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["key"] == "governance")
        .cloned()
        .unwrap();
    assert_ne!(governance["scored"], Value::Bool(true), "{governance}");

    // 12 of 15, with a follow-up due on a day.
    browser.find("#f-score").await.clear().await;
    browser.find("#f-score").await.type_text("12").await;
    browser
        .execute("document.querySelector('#f-follow_up_due_on').value = '2027-03-31';")
        .await;
    browser
        .click_through("#score-item button[type=submit]")
        .await;
    let page = browser.source().await;
    assert!(
        page.contains("已保存评分：理事会、章程与管理制度健全并运行"),
        "the notice names the item"
    );
    let row = browser.find("tr[data-item=governance]").await.text().await;
    assert!(
        row.contains("12 / 15")
            && row.contains("补充财务公示制度")
            && row.contains("2027年3月31日"),
        "{row}"
    );
    let (_, listed) = platform
        .get_json(&admin, &format!("/v1/centres/{east}/org-reviews"))
        .await;
    let review = &listed["reviews"][0];
    assert_eq!(review["total_score"], 12, "{review}");
    let governance = review["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["key"] == "governance")
        .cloned()
        .unwrap();
    assert_eq!(governance["score"], 12);
    assert_eq!(governance["evidence"], "理事会章程、2026年四次会议纪要");
    assert_eq!(governance["follow_up"], "补充财务公示制度");
    assert_eq!(governance["follow_up_due_on"], "2027-03-31");
    assert_eq!(objections(&browser).await, Vec::<String>::new());
    browser
        .screenshot(&shots.join("reviews-93-scored-1366.png"))
        .await;
    browser.window_size(1024, 900).await;
    browser
        .screenshot(&shots.join("reviews-93-scored-1024.png"))
        .await;
    browser.window_size(1366, 900).await;
    assert!(
        !browser.source().await.contains("to-checklist"),
        "the checklist is the district's"
    );
    sign_out_browser(&browser).await;

    // The front desk reads the review without the forms.
    sign_in_browser(&browser, &gw, "desk-r").await;
    browser.goto(&format!("{gw}{reviews}")).await;
    let page = browser.source().await;
    assert!(page.contains("理事会章程、2026年四次会议纪要"));
    assert!(!page.contains("start-review") && !page.contains("score-item"));
    browser.goto(&format!("{gw}{item_page}")).await;
    assert!(browser.source().await.contains("无权访问此页面"));
    browser.goto(&format!("{gw}{reviews}")).await;
    sign_out_browser(&browser).await;

    // The district admin, working in the centre, edits the checklist.
    sign_in_browser(&browser, &gw, "district-r").await;
    browser.goto(&format!("{gw}/centres?to=board")).await;
    browser
        .click_through(&format!("#centres a[href=\"{board}\"]"))
        .await;
    browser.click_through("#to-reviews").await;
    browser.click_through("#to-checklist").await;
    let title = browser.find("input[name=title_0]").await;
    title.clear().await;
    title.type_text("理事会、章程与议事规则健全并运行").await;
    browser.find("input[name=remove_5]").await.click().await;
    browser
        .find("select[name=section_6] option[value=staffing_training]")
        .await
        .click()
        .await;
    browser
        .find("input[name=title_6]")
        .await
        .type_text("志愿者管理制度")
        .await;
    browser
        .find("input[name=max_score_6]")
        .await
        .type_text("10")
        .await;
    browser.click_through("#save-checklist").await;
    // Removing asks first, what was typed kept.
    let warning = browser.find("#confirm-remove").await.text().await;
    assert!(warning.contains("居民参与率"), "{warning}");
    assert_eq!(
        browser
            .find("input[name=title_6]")
            .await
            .attribute("value")
            .await,
        "志愿者管理制度"
    );
    browser
        .screenshot(&shots.join("reviews-94-checklist-confirm.png"))
        .await;
    assert_eq!(objections(&browser).await, Vec::<String>::new());
    let (_, checklist) = platform.get_json(&admin, "/v1/review-checklist").await;
    assert_eq!(checklist["items"].as_array().unwrap().len(), 6, "not yet");
    browser.click_through("#confirm-save").await;
    assert!(browser.source().await.contains("已保存评估清单"));
    let (status, checklist) = platform.get_json(&admin, "/v1/review-checklist").await;
    assert_eq!(status, StatusCode::OK, "{checklist}");
    let items = checklist["items"].as_array().unwrap();
    let titles: Vec<&str> = items.iter().map(|i| i["title"].as_str().unwrap()).collect();
    assert_eq!(
        titles,
        [
            "理事会、章程与议事规则健全并运行",
            "工作人员年度培训覆盖率",
            "场地设施使用率",
            "引入社会资源与合作收入",
            "财务自给率与收支公开",
            "志愿者管理制度",
        ]
    );
    assert_eq!(items[0]["key"], "governance", "an item keeps its key");
    assert_eq!(items[5]["section"], "staffing_training");
    assert_eq!(items[5]["max_score"], 10);
    // The review begun keeps its own copy.
    let (_, listed) = platform
        .get_json(&admin, &format!("/v1/centres/{east}/org-reviews"))
        .await;
    assert_eq!(listed["reviews"][0]["items"].as_array().unwrap().len(), 6);
    browser.click_through("#to-checklist").await;
    browser
        .screenshot(&shots.join("reviews-95-checklist.png"))
        .await;
    assert_eq!(objections(&browser).await, Vec::<String>::new());
    browser.close().await;
}
