//! The board's console page (理事会, issue 24): the centre manager, by clicking only, adds a
//! resident found by pinyin initials to the board and its finance oversight group
//! (财务监督小组), records a meeting with a decision and marks the decision done, each
//! checked through the HTTP API; a resident not found is said beside the search with what
//! was typed kept. The front desk reads the board without its forms; another centre's
//! manager gets the Chinese 403 page. Screenshots at 1366 and 1024 px.

use linli_tests::TestPlatform;
use linli_tests::webdriver::Browser;
use linli_tests::webdriver::{screenshots, sign_in_browser};
use reqwest::StatusCode;
use serde_json::{Value, json};
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

async fn put(platform: &TestPlatform, token: &str, path: &str, body: Value) -> (StatusCode, Value) {
    let response = reqwest::Client::new()
        .put(format!("{}{path}", platform.gateway))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .expect("the gateway answers");
    let status = response.status();
    (status, response.json().await.unwrap_or(Value::Null))
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
async fn the_manager_adds_a_resident_to_the_finance_group_records_a_meeting_and_closes_its_decision_by_clicking()
 {
    if let Err(missing) = linli_tests::webdriver::browser_paths() {
        panic!("{missing} (deploy/local/test.sh installs them)");
    }
    let platform = TestPlatform::start().await;
    let east = centre(&platform, "东湖社区服务中心").await;
    let west = centre(&platform, "西城社区服务中心").await;
    platform
        .console_account("manager-b", "centre_manager", &[east])
        .await;
    platform
        .console_account("desk-b", "front_desk", &[east])
        .await;
    platform
        .console_account("manager-w", "centre_manager", &[west])
        .await;
    let admin = platform.admin_token();
    let (status, resident) = platform
        .post_json(
            &admin,
            &format!("/v1/centres/{east}/residents"),
            &json!({ "name": "张桂兰", "gender": "female", "date_of_birth": "1958-03-01", "confirm_not_duplicate": true }),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{resident}");
    let resident_id: Uuid = resident["id"].as_str().unwrap().parse().unwrap();
    platform
        .wait_in_directory("evaluation", "residents", &[resident_id])
        .await;

    let gw = platform.gateway.clone();
    let shots = screenshots();
    let browser = Browser::start().await;
    sign_in_browser(&browser, &gw, "manager-b").await;
    let board = format!("/c/{east}/board");
    browser
        .click_through(&format!("header nav a[href=\"{board}\"]"))
        .await;
    assert!(browser.url().await.ends_with(&board));

    // A resident the search does not find: said beside the search, what was typed kept.
    browser
        .find("#f-sector option[value=resident]")
        .await
        .click()
        .await;
    browser.find("#f-resident_q").await.type_text("qqq").await;
    browser
        .click_through("#new-member button[type=submit]")
        .await;
    assert_eq!(
        browser.find("#f-resident_q-error").await.text().await,
        "没有找到这位居民，请换个写法再找"
    );
    assert_eq!(
        browser.find("#f-resident_q").await.attribute("value").await,
        "qqq",
        "the search typed is kept"
    );
    assert!(
        browser.url().await.ends_with(&board),
        "the page's own address after the error"
    );
    browser
        .screenshot(&shots.join("board-81-resident-not-found.png"))
        .await;
    assert_eq!(objections(&browser).await, Vec::<String>::new());

    // Found by pinyin initials, into the finance oversight group.
    browser.find("#f-resident_q").await.clear().await;
    browser.find("#f-resident_q").await.type_text("zgl").await;
    browser.find("#f-finance").await.click().await;
    browser
        .click_through("#new-member button[type=submit]")
        .await;
    assert!(browser.source().await.contains("已添加理事会成员"));
    let (status, members) = platform
        .get_json(&admin, &format!("/v1/centres/{east}/board/members"))
        .await;
    assert_eq!(status, StatusCode::OK, "{members}");
    let members = members["members"].as_array().expect("members");
    assert_eq!(members.len(), 1, "{members:?}");
    let member = &members[0];
    assert_eq!(member["name"], "张桂兰");
    assert_eq!(member["sector"], "resident");
    assert_eq!(member["resident_id"], resident_id.to_string());
    assert_eq!(member["committees"], json!(["finance_oversight"]));
    let member_id = member["id"].as_str().unwrap().to_owned();
    let row = browser.find("#board-members tbody tr").await.text().await;
    assert!(
        row.contains("居民") && row.contains("财务监督小组"),
        "{row}"
    );

    // A meeting with her present and a decision she carries out.
    browser
        .find("#f-title")
        .await
        .type_text("第一季度理事会")
        .await;
    browser
        .find(&format!("#attendees input[value=\"{member_id}\"]"))
        .await
        .click()
        .await;
    browser
        .find("#f-agenda")
        .await
        .type_text("审议年度预算")
        .await;
    browser
        .find("#f-minutes")
        .await
        .type_text("全体通过年度预算。")
        .await;
    browser
        .find("#f-text")
        .await
        .type_text("每月公示收支")
        .await;
    browser
        .find(&format!("#f-owner_member_id option[value=\"{member_id}\"]"))
        .await
        .click()
        .await;
    browser
        .click_through("#new-meeting button[type=submit]")
        .await;
    assert!(browser.source().await.contains("已记录会议"));
    let (status, meetings) = platform
        .get_json(&admin, &format!("/v1/centres/{east}/board/meetings"))
        .await;
    assert_eq!(status, StatusCode::OK, "{meetings}");
    let meeting = &meetings["meetings"][0];
    assert_eq!(meeting["title"], "第一季度理事会");
    assert_eq!(meeting["attendee_ids"], json!([member_id]));
    assert_eq!(meeting["agenda"], json!(["审议年度预算"]));
    assert_eq!(meeting["decisions"][0]["text"], "每月公示收支");
    assert_eq!(meeting["decisions"][0]["owner_member_id"], member_id);
    assert_ne!(meeting["decisions"][0]["done"], json!(true));
    assert_eq!(objections(&browser).await, Vec::<String>::new());

    let dir = shots.clone();
    browser.window_size(1366, 900).await;
    browser
        .screenshot(&dir.join("board-82-board-1366.png"))
        .await;
    browser.window_size(1024, 900).await;
    browser
        .screenshot(&dir.join("board-82-board-1024.png"))
        .await;
    browser.window_size(1366, 900).await;

    // 标记完成.
    browser
        .click_through("#meetings form[action$=\"/done\"] button")
        .await;
    assert!(browser.source().await.contains("已标记完成"));
    let (status, decisions) = platform
        .get_json(&admin, &format!("/v1/centres/{east}/board/decisions"))
        .await;
    assert_eq!(status, StatusCode::OK, "{decisions}");
    assert_eq!(
        decisions["decisions"][0]["done"],
        json!(true),
        "{decisions}"
    );
    let row = browser.find(".decisions tbody tr").await.text().await;
    assert!(row.contains("办结"), "{row}");
    browser
        .screenshot(&shots.join("board-83-decision-done.png"))
        .await;

    // The organisation review begun and one item scored through the API, read on its page.
    let (status, review) = platform
        .post_json(
            &admin,
            &format!("/v1/centres/{east}/org-reviews"),
            &json!({ "period": "2026-Q4" }),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{review}");
    let review_id = review["id"].as_str().unwrap();
    let (status, scored) = put(
        &platform,
        &admin,
        &format!("/v1/centres/{east}/org-reviews/{review_id}/items/governance"),
        json!({ "score": 12, "evidence": "理事会章程及会议纪要", "follow_up": "补充财务公示制度" }),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{scored}");
    browser.click_through("#to-reviews").await;
    let page = browser.source().await;
    assert!(page.contains("2026年第四季度"), "the period in words");
    assert!(page.contains("理事会章程及会议纪要") && page.contains("12 / 15"));
    assert!(
        page.contains("未评分（满分 15）"),
        "the items not yet scored"
    );
    assert!(
        page.contains("已自动填入：参与率"),
        "a measured item with its figure"
    );
    browser
        .screenshot(&shots.join("board-84-reviews.png"))
        .await;
    assert_eq!(objections(&browser).await, Vec::<String>::new());

    // 结束任期 asks first; then she has left the board and its finance group.
    browser
        .click_through(&format!("header nav a[href=\"{board}\"]"))
        .await;
    browser
        .find("#board-members details summary")
        .await
        .click()
        .await;
    browser
        .click_through("#board-members details button[type=submit]")
        .await;
    assert!(browser.source().await.contains("已结束该成员的任期"));
    let (_, members) = platform
        .get_json(&admin, &format!("/v1/centres/{east}/board/members"))
        .await;
    let member = &members["members"][0];
    assert!(
        member["ended_on"].as_str().is_some_and(|d| !d.is_empty()),
        "{member}"
    );
    assert!(
        member["committees"].as_array().is_none_or(|c| c.is_empty()),
        "{member}"
    );
    sign_out_browser(&browser).await;

    // The front desk reads the board without its forms.
    sign_in_browser(&browser, &gw, "desk-b").await;
    browser.goto(&format!("{gw}{board}")).await;
    let page = browser.source().await;
    assert!(page.contains("张桂兰") && page.contains("每月公示收支"));
    assert!(!page.contains("new-member") && !page.contains("标记完成"));
    sign_out_browser(&browser).await;

    // Another centre's manager: the Chinese 403 page.
    sign_in_browser(&browser, &gw, "manager-w").await;
    browser.goto(&format!("{gw}{board}")).await;
    let page = browser.source().await;
    assert!(page.contains("无权访问此页面"), "{page}");
    assert!(!page.contains("张桂兰"));
    browser.close().await;
}
