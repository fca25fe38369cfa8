//! The organisation review (运营管理评估) end to end (issue 24): the district's checklist
//! (organisation; staffing and training; facilities use; partner resources; finance;
//! residents' participation), a review per centre and period with a score per item,
//! evidence and follow-up actions, and the items Linli measures pre-filled with the same
//! figures its KPIs show. Every call through the gateway.

use std::time::Duration;

use chrono::{Datelike, Utc};
use linli_platform::auth::Role;
use linli_tests::{TestPlatform, poll};
use reqwest::StatusCode;
use serde_json::{Value, json};

const DEADLINE: Duration = Duration::from_secs(30);

fn year() -> String {
    (Utc::now() + chrono::Duration::hours(8))
        .date_naive()
        .year()
        .to_string()
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

fn kpi<'a>(kpis: &'a Value, name: &str) -> &'a Value {
    kpis["kpis"]
        .as_array()
        .expect("kpis")
        .iter()
        .find(|k| k["name"] == name)
        .expect(name)
}

fn item<'a>(review: &'a Value, key: &str) -> &'a Value {
    review["items"]
        .as_array()
        .expect("items")
        .iter()
        .find(|i| i["key"] == key)
        .expect(key)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_review_copies_the_checklist_prefills_linlis_figures_and_keeps_scores_evidence_and_follow_ups()
 {
    let platform = TestPlatform::start().await;
    let centre = platform.bookable_centre("Asia/Shanghai").await;
    let manager = platform.token(&[Role::CentreManager], &[centre]);
    let at = |rest: &str| format!("/v1/centres/{centre}{rest}");

    // Figures to measure: two residents, a staff member who completed a course this year.
    for name in ["陈静", "李华"] {
        let (status, body) = platform
            .post_json(
                &manager,
                &at("/residents"),
                &json!({ "name": name, "gender": "female", "date_of_birth": "1950-05-01", "confirm_not_duplicate": true }),
                None,
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
    }
    let (status, staff) = platform
        .post_json(
            &manager,
            &at("/staff"),
            &json!({ "name": "王护士", "position": "nurse", "employed_from": "2020-01-01" }),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{staff}");
    let (status, course) = platform
        .post_json(
            &manager,
            &at("/courses"),
            &json!({ "title": "老年人急救", "audience": "staff", "minutes": 120 }),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{course}");
    let today = (Utc::now() + chrono::Duration::hours(8)).date_naive();
    let (status, body) = platform
        .post_json(
            &manager,
            &at(&format!(
                "/courses/{}/completions",
                course["id"].as_str().unwrap()
            )),
            &json!({ "person_id": staff["id"], "completed_on": today.to_string() }),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let kpis = poll(
        "evaluation to count the residents and the training",
        DEADLINE,
        || async {
            let (status, kpis) = platform
                .get_json(&manager, &at(&format!("/kpis?period={}", year())))
                .await;
            (status == StatusCode::OK
                && kpi(&kpis, "training_coverage")["numerator"] == 1
                && kpi(&kpis, "participation")["denominator"] == 2)
                .then_some(kpis)
        },
    )
    .await;

    // The review begins with the district's checklist, Linli's figures filled in.
    let (status, review) = platform
        .post_json(
            &manager,
            &at("/org-reviews"),
            &json!({ "period": year() }),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{review}");
    assert_eq!(review["period"], year());
    let sections: Vec<&str> = review["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["section"].as_str().unwrap())
        .collect();
    assert_eq!(
        sections,
        [
            "organisation",
            "staffing_training",
            "facilities_use",
            "partner_resources",
            "finance",
            "participation"
        ]
    );
    let training = item(&review, "training_coverage");
    assert_eq!(training["measured"], true, "{training}");
    assert_eq!(
        (
            &training["measured_numerator"],
            &training["measured_denominator"]
        ),
        (
            &kpi(&kpis, "training_coverage")["numerator"],
            &kpi(&kpis, "training_coverage")["denominator"]
        )
    );
    assert_eq!(training["measured_value"], 1.0);
    let participation = item(&review, "participation");
    assert_eq!(participation["measured"], true, "{participation}");
    assert_eq!(participation["measured_denominator"], 2);
    // What Linli cannot measure (or has nothing to measure yet) waits for the reviewer.
    assert_eq!(item(&review, "governance")["measured"], false);
    assert_eq!(item(&review, "partner_resources")["measured"], false);
    assert_eq!(item(&review, "governance")["scored"], false);
    assert_eq!(review["total_score"], 0);
    assert_eq!(review["max_total"], 100);

    // A score per item, with its evidence and a follow-up action.
    let id = review["id"].as_str().unwrap();
    let (status, scored) = put(
        &platform,
        &manager,
        &at(&format!("/org-reviews/{id}/items/governance")),
        json!({ "score": 12, "evidence": "理事会章程及2次会议纪要", "follow_up": "补充财务监督小组议事规则",
                "follow_up_due_on": format!("{}-12-31", year()) }),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{scored}");
    let governance = item(&scored, "governance");
    assert_eq!(governance["scored"], true);
    assert_eq!(governance["score"], 12);
    assert_eq!(governance["evidence"], "理事会章程及2次会议纪要");
    assert_eq!(governance["follow_up"], "补充财务监督小组议事规则");
    assert_eq!(governance["follow_up_due_on"], format!("{}-12-31", year()));
    assert_eq!(scored["total_score"], 12);
    let (status, body) = put(
        &platform,
        &manager,
        &at(&format!("/org-reviews/{id}/items/training_coverage")),
        json!({ "score": 16 }),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body["errors"][0]["field"], "score");
    let (status, _) = put(
        &platform,
        &manager,
        &at(&format!("/org-reviews/{id}/items/nothing")),
        json!({ "score": 1 }),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // One review per centre and period; staff read it, only the manager writes.
    let (status, body) = platform
        .post_json(
            &manager,
            &at("/org-reviews"),
            &json!({ "period": year() }),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert_eq!(body["code"], "review.exists");
    let coordinator = platform.token(&[Role::Coordinator], &[centre]);
    let (status, _) = platform
        .post_json(
            &coordinator,
            &at("/org-reviews"),
            &json!({ "period": "2025" }),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, list) = platform.get_json(&coordinator, &at("/org-reviews")).await;
    assert_eq!(status, StatusCode::OK, "{list}");
    assert_eq!(list["reviews"].as_array().unwrap().len(), 1);
    assert_eq!(list["reviews"][0]["total_score"], 12);
    platform.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_district_defines_the_checklist_and_a_review_begun_keeps_its_copy() {
    let platform = TestPlatform::start().await;
    let centre = platform.bookable_centre("Asia/Shanghai").await;
    let manager = platform.token(&[Role::CentreManager], &[centre]);
    let district = platform.admin_token();
    let at = |rest: &str| format!("/v1/centres/{centre}{rest}");

    let (status, first) = platform
        .post_json(
            &manager,
            &at("/org-reviews"),
            &json!({ "period": "2025" }),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{first}");
    assert_eq!(first["items"].as_array().unwrap().len(), 6);

    let checklist = json!({ "items": [
        { "key": "board_meetings", "section": "organisation", "title": "理事会每季度至少开会一次", "max_score": 40 },
        { "key": "participation", "section": "participation", "title": "居民参与率", "max_score": 60, "measure": "participation" }
    ]});
    let (status, _) = put(
        &platform,
        &manager,
        "/v1/review-checklist",
        checklist.clone(),
    )
    .await;
    assert_eq!(
        status,
        StatusCode::FORBIDDEN,
        "only the district defines it"
    );
    let (status, body) = put(
        &platform,
        &district,
        "/v1/review-checklist",
        json!({ "items": [{ "key": "x", "section": "kitchen", "title": "", "max_score": 0, "measure": "smiles" }] }),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    let mut fields: Vec<&str> = body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    fields.sort();
    assert_eq!(
        fields,
        [
            "items[0].key",
            "items[0].max_score",
            "items[0].measure",
            "items[0].section",
            "items[0].title"
        ]
    );
    let (status, set) = put(&platform, &district, "/v1/review-checklist", checklist).await;
    assert_eq!(status, StatusCode::OK, "{set}");
    let (status, read) = platform.get_json(&manager, "/v1/review-checklist").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(read, set);

    let (status, second) = platform
        .post_json(
            &manager,
            &at("/org-reviews"),
            &json!({ "period": "2026-Q1" }),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{second}");
    let keys: Vec<&str> = second["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["key"].as_str().unwrap())
        .collect();
    assert_eq!(keys, ["board_meetings", "participation"]);
    assert_eq!(second["max_total"], 100);
    let (_, list) = platform.get_json(&manager, &at("/org-reviews")).await;
    let first_now = list["reviews"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == first["id"])
        .expect("the first review");
    assert_eq!(first_now["items"].as_array().unwrap().len(), 6);
    // Another centre's manager reads none of this centre's reviews.
    let elsewhere = platform.bookable_centre("Asia/Shanghai").await;
    let theirs = platform.token(&[Role::CentreManager], &[elsewhere]);
    let (status, _) = platform.get_json(&theirs, &at("/org-reviews")).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    platform.stop().await;
}
