//! The front desk's and the centre manager's console work that touches many residents at
//! once or for good (issue 22): a spreadsheet import with its preview, and erasing a
//! resident. Each is done in headless Chromium by clicking only, and checked through the
//! API. The few browser helpers are copied from console.rs.

use linli_tests::TestPlatform;
use linli_tests::webdriver::Browser;
use linli_tests::webdriver::{screenshots, sign_in_browser};
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

async fn value_of(browser: &Browser, css: &str) -> String {
    browser
        .execute(&format!("return document.querySelector('{css}').value;"))
        .await
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

/// The residents the API finds in `centre` by `q`.
async fn found(platform: &TestPlatform, centre: Uuid, q: &str) -> Vec<Value> {
    let (status, body) = platform
        .get_json(
            &platform.admin_token(),
            &format!(
                "/v1/centres/{centre}/residents?q={}",
                q.bytes().map(|b| format!("%{b:02X}")).collect::<String>()
            ),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["residents"].as_array().cloned().unwrap_or_default()
}

fn has_latin_or_code(text: &str) -> bool {
    text.chars().any(|c| c.is_ascii_alphabetic())
}

/// The desk uploads the GBK CSV Chinese Excel writes: the preview says the encoding in
/// words, maps the Chinese headings (one column it cannot guess left out), shows the first
/// rows with phones and ID numbers masked; the desk maps the odd column to 手机 and
/// confirms; the report says in Chinese which row was wrong and why; the API has the good
/// residents (with the phone the changed mapping gave) and not the bad one.
#[tokio::test]
async fn the_desk_uploads_a_gbk_sheet_previews_and_changes_the_mapping_and_reads_the_report_in_chinese()
 {
    if let Err(missing) = linli_tests::webdriver::browser_paths() {
        panic!("{missing} (deploy/local/test.sh installs them)");
    }
    let platform = TestPlatform::start().await;
    let centre = platform.bookable_centre("Asia/Shanghai").await;
    platform
        .console_account("desk-imp", "front_desk", &[centre])
        .await;

    // Row 2 and 3 are good; row 4 was born in the future. 老人手机 is no heading the
    // import knows, so the preview leaves it out until the desk maps it.
    let sheet = "姓名,性别,出生日期,老人手机,身份证号,楼号,单元,室,备注\n\
                 王秀兰,女,1949-12-31,13912345678,11010519491231002X,3,2,401,独居\n\
                 李建国,男,1952-11-03,13887654321,,5号楼,1单元,102,\n\
                 赵小红,女,2999-01-01,,,1,1,101,\n";
    let (gbk, _, unmappable) = encoding_rs::GBK.encode(sheet);
    assert!(!unmappable);
    let dir = screenshots();
    std::fs::create_dir_all(&dir).expect("screenshot dir");
    let file = dir.join("desk-import-gbk.csv");
    std::fs::write(&file, &gbk).expect("the sheet written");
    let file = std::fs::canonicalize(&file).expect("the sheet's path");

    let gw = platform.gateway.clone();
    let browser = Browser::start().await;
    sign_in_browser(&browser, &gw, "desk-imp").await;
    browser
        .click_through(&format!("header nav a[href=\"/c/{centre}/residents\"]"))
        .await;
    browser
        .click_through(&format!("a[href=\"/c/{centre}/residents/import\"]"))
        .await;
    browser
        .find("#f-file")
        .await
        .type_text(file.to_str().expect("a UTF-8 path"))
        .await;
    browser
        .click_through("#import-upload button[type=submit]")
        .await;

    let encoding = browser.find("#import-encoding").await.text().await;
    assert!(
        encoding.contains("GBK") && encoding.contains("中文版 Excel"),
        "the encoding said in words: {encoding}"
    );
    let mapping: Vec<String> = {
        let mut found = Vec::new();
        for i in 0..9 {
            found.push(value_of(&browser, &format!("#f-col{i}")).await);
        }
        found
    };
    assert_eq!(
        mapping,
        [
            "name",
            "gender",
            "date_of_birth",
            "",
            "national_id",
            "building",
            "unit",
            "room",
            ""
        ],
        "the Chinese headings mapped, 老人手机 and 备注 left out"
    );
    let preview = browser.find("#import-mapping").await.text().await;
    for shown in [
        "姓名",
        "不导入",
        "身份证号",
        "楼号",
        "王秀兰",
        "李建国",
        "139****5678",
        "110105********002X",
    ] {
        assert!(preview.contains(shown), "{shown} in the preview: {preview}");
    }
    let source = browser.source().await;
    for hidden in ["13912345678", "11010519491231002X", "13887654321"] {
        assert!(
            !source.contains(hidden),
            "{hidden} appears nowhere in the page, not even its source"
        );
    }
    shots_at_both_widths(&browser, "70-import-preview").await;

    // 老人手机 is the phone.
    browser
        .find("#f-col3 option[value=\"phone\"]")
        .await
        .click()
        .await;
    assert_eq!(value_of(&browser, "#f-col3").await, "phone");
    browser
        .click_through("#import-confirm button[type=submit]")
        .await;

    let report = browser.find("#import-report").await.text().await;
    assert!(
        report.contains("共 3 行")
            && report.contains("新登记 2 人")
            && report.contains("有误未导入 1 行"),
        "the counts: {report}"
    );
    let errors = browser.find("#import-errors tbody").await.text().await;
    assert!(
        errors.contains("第 4 行") && errors.contains("出生日期"),
        "the bad row and its field: {errors}"
    );
    assert!(
        !has_latin_or_code(&errors),
        "no English, code or id in the row report: {errors}"
    );
    assert!(
        browser
            .url()
            .await
            .ends_with(&format!("/c/{centre}/residents/import")),
        "the report's address is the import page's, not the POST's"
    );
    shots_at_both_widths(&browser, "71-import-report").await;

    let wang = found(&platform, centre, "王秀兰").await;
    assert_eq!(wang.len(), 1, "{wang:?}");
    assert!(
        wang[0]["phone"]
            .as_str()
            .is_some_and(|p| p.ends_with("5678")),
        "the phone came from the column mapped by hand: {wang:?}"
    );
    let li = found(&platform, centre, "李建国").await;
    assert_eq!(li.len(), 1, "{li:?}");
    assert!(
        li[0]["phone"].as_str().is_some_and(|p| p.ends_with("4321")),
        "{li:?}"
    );
    assert!(
        found(&platform, centre, "赵小红").await.is_empty(),
        "the bad row was not registered"
    );

    browser.close().await;
    platform.stop().await;
}

/// The centre manager erases a resident from the resident's page: the confirmation says
/// what will happen, an empty and a too-short reason are refused beside the field with
/// the typing kept, and after confirming the list says it is done and the name is gone;
/// the API says the resident is erased.
#[tokio::test]
async fn the_manager_erases_a_resident_with_a_reason_and_the_name_is_gone() {
    if let Err(missing) = linli_tests::webdriver::browser_paths() {
        panic!("{missing} (deploy/local/test.sh installs them)");
    }
    let platform = TestPlatform::start().await;
    let centre = platform.bookable_centre("Asia/Shanghai").await;
    platform
        .console_account("manager-erase", "centre_manager", &[centre])
        .await;
    platform
        .console_account("desk-erase", "front_desk", &[centre])
        .await;
    let (status, body) = platform
        .post_json(
            &platform.admin_token(),
            &format!("/v1/centres/{centre}/residents"),
            &json!({ "name": "钱多多", "gender": "female", "date_of_birth": "1950-03-01", "phone": "13812345678" }),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let qian = body["id"].as_str().expect("resident id").to_owned();

    let gw = platform.gateway.clone();
    let browser = Browser::start().await;
    // The front desk sees no such action.
    sign_in_browser(&browser, &gw, "desk-erase").await;
    browser
        .goto(&format!("{gw}/c/{centre}/residents/{qian}"))
        .await;
    assert!(
        !browser.source().await.contains("erase-action"),
        "the desk is not offered the erasure"
    );
    browser
        .goto(&format!("{gw}/c/{centre}/residents/{qian}/erase"))
        .await;
    assert!(browser.source().await.contains("无权访问"));
    browser.goto(&format!("{gw}/dashboard")).await;
    browser
        .click_through("form[action=\"/sign-out\"] button")
        .await;

    sign_in_browser(&browser, &gw, "manager-erase").await;
    browser
        .click_through(&format!("header nav a[href=\"/c/{centre}/residents\"]"))
        .await;
    browser
        .click_through(&format!("#residents a[href*=\"{qian}\"]"))
        .await;
    browser.click_through("#erase-action a").await;
    let said = browser.find("#erase-confirm").await.text().await;
    for words in [
        "将永久删除居民「钱多多」的个人信息",
        "无法恢复",
        "预约",
        "（已删除）",
    ] {
        assert!(said.contains(words), "{words}: {said}");
    }
    browser
        .click_through("#erase-confirm button[type=submit]")
        .await;
    assert_eq!(
        browser.find("#f-reason-error").await.text().await,
        "请填写删除原因"
    );
    browser.find("#f-reason").await.type_text("申请").await;
    browser
        .click_through("#erase-confirm button[type=submit]")
        .await;
    let error = browser.find("#f-reason-error").await.text().await;
    assert!(
        !error.is_empty() && !has_latin_or_code(&error),
        "the registry's refusal of a two-character reason, in Chinese: {error}"
    );
    assert_eq!(value_of(&browser, "#f-reason").await, "申请", "typing kept");
    shots_at_both_widths(&browser, "72-erase-reason-refused").await;
    let (_, resident) = platform
        .get_json(
            &platform.admin_token(),
            &format!("/v1/centres/{centre}/residents/{qian}"),
        )
        .await;
    assert_eq!(resident["name"], "钱多多", "nothing erased yet");

    let input = browser.find("#f-reason").await;
    input.clear().await;
    input.type_text("居民本人书面申请删除").await;
    browser
        .click_through("#erase-confirm button[type=submit]")
        .await;
    assert!(
        browser
            .url()
            .await
            .contains(&format!("/c/{centre}/residents?notice=erased")),
        "{}",
        browser.url().await
    );
    let notice = browser.find("p.notice").await.text().await;
    assert!(notice.contains("已删除"), "{notice}");
    let list = browser.find("#residents").await.text().await;
    assert!(
        !list.contains("钱多多"),
        "the name is gone from the list: {list}"
    );

    let (status, resident) = platform
        .get_json(
            &platform.admin_token(),
            &format!("/v1/centres/{centre}/residents/{qian}"),
        )
        .await;
    assert_eq!(
        status,
        StatusCode::NOT_FOUND,
        "an erased resident is no longer found: {resident}"
    );
    assert!(
        found(&platform, centre, "钱多多").await.is_empty(),
        "no search finds the name"
    );
    browser.close().await;
    platform.stop().await;
}
