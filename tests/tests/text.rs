//! Text fields end to end: a control character other than tab and line breaks is refused
//! with a 400 naming the field, on every kind of write through the gateway, in every
//! service (the shared check in the platform), and ordinary multi-line text still goes in.

use chrono::{Duration, Utc};
use linli_platform::auth::Role;
use linli_tests::TestPlatform;
use reqwest::StatusCode;
use serde_json::{Value, json};

fn fields(problem: &Value) -> Vec<String> {
    problem["errors"]
        .as_array()
        .map(|errors| {
            errors
                .iter()
                .filter_map(|e| e["field"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

fn id(body: &Value) -> String {
    body["id"].as_str().expect("an id").to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_nul_in_any_text_field_is_a_400_naming_the_field_and_tabs_and_line_breaks_are_text() {
    let platform = TestPlatform::start().await;
    let centre = platform.volunteering_centre("Asia/Shanghai").await;
    let manager = platform.token(&[Role::CentreManager], &[centre]);
    let admin = platform.admin_token();
    let at = |path: &str| format!("/v1/centres/{centre}{path}");
    let created = |token: String, path: String, body: Value| {
        let platform = &platform;
        async move {
            let (status, reply) = platform.post_json(&token, &path, &body, None).await;
            assert!(status.is_success(), "{path}: {status} {reply}");
            reply
        }
    };

    // What the refused writes refer to.
    let resident = id(&created(
        manager.clone(),
        at("/residents"),
        json!({ "name": "陈静", "gender": "female", "date_of_birth": "1975-04-01" }),
    )
    .await);
    let course = id(&created(
        manager.clone(),
        at("/courses"),
        json!({ "title": "服务礼仪", "audience": "all", "minutes": 90 }),
    )
    .await);
    let partner = id(&created(
        admin.clone(),
        "/v1/partners".into(),
        json!({ "name": "幸福超市", "kind": "enterprise" }),
    )
    .await);
    let today = (Utc::now() + Duration::hours(8)).date_naive();
    let agreement = id(&created(
        admin.clone(),
        format!("/v1/partners/{partner}/agreements"),
        json!({ "centre_id": centre, "provides": "送餐服务", "scopes": ["evaluation.kpis:read"],
                "valid_from": (today - Duration::days(1)).to_string(),
                "valid_until": (today + Duration::days(365)).to_string() }),
    )
    .await);
    let starts = Utc::now() + Duration::days(3);
    let ends = starts + Duration::hours(2);

    let nul = "\u{0}";
    let cases: Vec<(&str, String, String, Value, &[&str])> = vec![
        (
            "a course's session",
            manager.clone(),
            at(&format!("/courses/{course}/sessions")),
            json!({ "starts_at": starts.to_rfc3339(), "ends_at": ends.to_rfc3339(),
                    "location": format!("三楼{nul}活动室"), "capacity": 20 }),
            &["location"],
        ),
        (
            "an opportunity",
            manager.clone(),
            at("/opportunities"),
            json!({ "title": format!("陪伴{nul}老人"), "description": "ok",
                    "required_skills": [format!("x{nul}")] }),
            &["title", "required_skills"],
        ),
        (
            "an erasure",
            manager.clone(),
            at(&format!("/residents/{resident}/erasure")),
            json!({ "reason": format!("本人{nul}申请") }),
            &["reason"],
        ),
        (
            "a suggestion",
            manager.clone(),
            at("/suggestions"),
            json!({ "text": format!("希望{nul}增加"), "channel": "box" }),
            &["text"],
        ),
        (
            "an agreement's revocation",
            admin.clone(),
            format!("/v1/partners/{partner}/agreements/{agreement}/revocation"),
            json!({ "reason": format!("合同{nul}终止") }),
            &["reason"],
        ),
        (
            "a staff member",
            manager.clone(),
            at("/staff"),
            json!({ "name": format!("员{nul}工"), "position": "nurse", "employed_from": "2025-09-01" }),
            &["name"],
        ),
        (
            "a partner",
            admin.clone(),
            "/v1/partners".into(),
            json!({ "name": format!("超{nul}市"), "kind": "enterprise",
                    "contacts": [{ "name": format!("王{nul}经理"), "phone": "13800138000" }] }),
            &["name", "contacts.name"],
        ),
        (
            "an inspection",
            manager.clone(),
            at("/inspections"),
            json!({ "inspector": format!("区{nul}民政局"), "inspected_on": today.to_string(),
                    "items": [{ "item": "消防", "passed": true, "score": 9, "note": format!("良{nul}") }] }),
            &["inspector", "items.note"],
        ),
        (
            "a group",
            manager.clone(),
            at("/groups"),
            json!({ "name": format!("合唱{nul}团"), "kind": "art_team" }),
            &["name"],
        ),
        (
            "an offering",
            manager.clone(),
            at("/offerings"),
            json!({ "category": "health", "kind": "event", "name": format!("义诊{nul}"), "capacity": 10 }),
            &["offering.name"],
        ),
        (
            "a resident",
            manager.clone(),
            at("/residents"),
            json!({ "name": format!("王{nul}芳"), "gender": "female", "date_of_birth": "1949-12-31" }),
            &["name"],
        ),
        (
            "an expense",
            platform.token(&[Role::FinanceOfficer], &[centre]),
            at("/finance/expenses"),
            json!({ "category": "office_costs", "amount_minor": 100,
                    "description": format!("茶{nul}叶"), "spent_on": today.to_string() }),
            &["description"],
        ),
    ];
    let mut wrong = Vec::new();
    for (what, token, path, body, expected) in &cases {
        let (status, problem) = platform.post_json(token, path, body, None).await;
        let named = fields(&problem);
        let all_named = expected
            .iter()
            .all(|field| named.iter().any(|n| n == field));
        if status != StatusCode::BAD_REQUEST || !all_named {
            wrong.push(format!("{what} ({path}): {status} {problem}"));
        }
    }
    assert!(
        wrong.is_empty(),
        "a control character must be a 400 naming the field:\n{}",
        wrong.join("\n")
    );

    // Tabs and line breaks (as a browser's form sends them) are text.
    let suggestion = created(
        manager.clone(),
        at("/suggestions"),
        json!({ "text": "第一条：周末书法课\r\n第二条：\t增加茶歇", "channel": "box" }),
    )
    .await;
    assert_eq!(
        suggestion["text"],
        "第一条：周末书法课\r\n第二条：\t增加茶歇"
    );
    let opportunity = created(
        manager.clone(),
        at("/opportunities"),
        json!({ "title": "陪伴老人", "description": "每周两次\n每次两小时" }),
    )
    .await;
    assert_eq!(opportunity["description"], "每周两次\n每次两小时");
    platform.stop().await;
}
