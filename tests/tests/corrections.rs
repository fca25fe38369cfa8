//! Corrections change only what the caller sends, end to end through the gateway: a JSON
//! merge patch (RFC 7396) keeps every field it leaves out, including those the caller
//! cannot see, and clears those it sets to null; a whole replacement (PUT) of a resident
//! that leaves out what the caller cannot see is refused, not erased. Residents, centres
//! and volunteers alike.

use futures::future::join_all;
use linli_platform::auth::Role;
use linli_tests::TestPlatform;
use reqwest::StatusCode;
use serde_json::{Value, json};
use uuid::Uuid;

/// A number of no one: the standard's own example.
const ID: &str = "11010519491231002X";
const MERGE_PATCH: &str = "application/merge-patch+json";

/// A centre with a resident on record, and the tokens of its front desk (sees neither the
/// health note nor the whole national ID) and its manager (a care role: sees both, the ID
/// with a stated purpose).
struct Desk {
    platform: TestPlatform,
    centre: Uuid,
    desk: String,
    manager: String,
    resident: String,
}

impl Desk {
    async fn open(code: &str) -> Desk {
        let platform = TestPlatform::start().await;
        let centre = platform.create_centre(code).await;
        let desk = platform.token(&[Role::FrontDesk], &[centre]);
        let manager = platform.token(&[Role::CentreManager], &[centre]);
        let (status, created) = platform
            .post_json(
                &manager,
                &format!("/v1/centres/{centre}/residents"),
                &json!({ "name": "王芳", "gender": "female", "date_of_birth": "1949-12-31",
                    "national_id": ID, "phone": "13812345678", "building": "3号楼",
                    "unit": "2单元", "room": "501", "categories": ["living_alone"],
                    "skills": [{ "kind": "hobby", "name": "书法" }],
                    "health_note": "高血压，按时服药" }),
                None,
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{created}");
        let resident = created["id"].as_str().expect("id").to_owned();
        Desk {
            platform,
            centre,
            desk,
            manager,
            resident,
        }
    }

    fn url(&self) -> String {
        format!(
            "{}/v1/centres/{}/residents/{}",
            self.platform.gateway, self.centre, self.resident
        )
    }

    async fn patch(&self, token: &str, body: Value) -> (StatusCode, Value) {
        send(
            self.platform
                .http
                .patch(self.url())
                .bearer_auth(token)
                .header("content-type", MERGE_PATCH)
                .body(body.to_string()),
        )
        .await
    }

    async fn put(&self, token: &str, body: Value) -> (StatusCode, Value) {
        send(
            self.platform
                .http
                .put(self.url())
                .bearer_auth(token)
                .json(&body),
        )
        .await
    }

    /// The resident as the manager sees them, with the whole national ID.
    async fn as_care_role(&self) -> Value {
        let (status, seen) = send(
            self.platform
                .http
                .get(format!(
                    "{}?national_id_purpose=checking a correction",
                    self.url()
                ))
                .bearer_auth(&self.manager),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{seen}");
        seen
    }

    async fn updates_published(&self) -> i64 {
        let pool = self.platform.pool("registry").await;
        let count = sqlx::query_scalar(
            "SELECT count(*) FROM outbox WHERE routing_key = 'registry.resident.updated'",
        )
        .fetch_one(&pool)
        .await
        .expect("outbox readable");
        pool.close().await;
        count
    }
}

async fn send(request: reqwest::RequestBuilder) -> (StatusCode, Value) {
    let response = request.send().await.expect("gateway answers");
    let status = response.status();
    (status, response.json().await.unwrap_or(Value::Null))
}

fn fields(problem: &Value) -> Vec<String> {
    problem["errors"]
        .as_array()
        .map(|errors| {
            errors
                .iter()
                .map(|e| e["field"].as_str().unwrap_or_default().to_owned())
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test]
async fn a_front_desk_patch_of_the_room_keeps_the_national_id_and_health_note_it_cannot_see() {
    let desk = Desk::open("patch-room").await;
    let (status, corrected) = desk.patch(&desk.desk, json!({ "room": "502" })).await;
    assert_eq!(status, StatusCode::OK, "{corrected}");
    assert_eq!(corrected["room"], "502");
    assert!(
        corrected.get("health_note").is_none(),
        "the front desk still does not see the health note"
    );

    let seen = desk.as_care_role().await;
    assert_eq!(seen["room"], "502");
    assert_eq!(seen["national_id"], ID);
    assert_eq!(seen["health_note"], "高血压，按时服药");
    assert_eq!(seen["phone"], "13812345678");
    assert_eq!(
        (&seen["name"], &seen["building"], &seen["unit"]),
        (&json!("王芳"), &json!("3号楼"), &json!("2单元"))
    );
    assert!(
        seen["categories"]
            .as_array()
            .expect("categories")
            .contains(&json!("living_alone")),
        "{seen}"
    );
    assert_eq!(seen["skills"], json!([{ "kind": "hobby", "name": "书法" }]));
    assert_eq!(desk.updates_published().await, 1);
    desk.platform.stop().await;
}

#[tokio::test]
async fn a_put_that_leaves_out_what_the_front_desk_cannot_see_is_refused_and_changes_nothing() {
    let desk = Desk::open("put-refused").await;
    // The front desk sends back what it read, with the room corrected: the national ID
    // as masked, no health note (it never saw one).
    let (status, read) = send(desk.platform.http.get(desk.url()).bearer_auth(&desk.desk)).await;
    assert_eq!(status, StatusCode::OK);
    assert!(read.get("health_note").is_none());
    let mut body = json!({ "name": read["name"], "gender": read["gender"],
        "date_of_birth": read["date_of_birth"], "phone": read["phone"],
        "building": read["building"], "unit": read["unit"], "room": "503",
        "categories": ["living_alone"], "skills": read["skills"] });
    let (status, problem) = desk.put(&desk.desk, body.clone()).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{problem}");
    assert_eq!(
        fields(&problem),
        ["national_id", "health_note"],
        "{problem}"
    );

    // The masked national ID sent back is named as such, not taken for a new number.
    body["national_id"] = read["national_id"].clone();
    body["health_note"] = json!("高血压");
    let (status, problem) = desk.put(&desk.desk, body).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{problem}");
    assert_eq!(fields(&problem), ["national_id"], "{problem}");
    assert!(
        problem["errors"][0]["reason"]
            .as_str()
            .is_some_and(|r| r.contains("masked")),
        "{problem}"
    );

    let seen = desk.as_care_role().await;
    assert_eq!(seen["room"], "501", "nothing changed");
    assert_eq!(seen["national_id"], ID);
    assert_eq!(seen["health_note"], "高血压，按时服药");
    assert_eq!(desk.updates_published().await, 0);

    // A whole replacement that says what it means for each hidden field is one.
    let (status, replaced) = desk
        .put(
            &desk.desk,
            json!({ "name": "王芳", "gender": "female", "date_of_birth": "1949-12-31",
                "national_id": ID, "health_note": null, "room": "504" }),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{replaced}");
    let seen = desk.as_care_role().await;
    assert_eq!(seen["room"], "504");
    assert_eq!(seen["national_id"], ID);
    assert!(
        seen.get("health_note").is_none(),
        "cleared on purpose: {seen}"
    );
    assert!(seen.get("phone").is_none(), "replaced by nothing: {seen}");
    desk.platform.stop().await;
}

#[tokio::test]
async fn a_merge_patch_null_clears_a_field_and_what_cannot_change_is_named() {
    let desk = Desk::open("patch-null").await;
    let (status, corrected) = desk
        .patch(&desk.desk, json!({ "phone": null, "unit": null }))
        .await;
    assert_eq!(status, StatusCode::OK, "{corrected}");
    assert!(corrected.get("phone").is_none(), "{corrected}");
    assert_eq!(corrected["unit"], "");
    let seen = desk.as_care_role().await;
    assert!(seen.get("phone").is_none());
    assert_eq!(seen["room"], "501");
    assert_eq!(seen["national_id"], ID);
    assert_eq!(seen["health_note"], "高血压，按时服药");

    // A care role clears the health note the same way.
    let (status, _) = desk
        .patch(&desk.manager, json!({ "health_note": null }))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(desk.as_care_role().await.get("health_note").is_none());

    // What a correction cannot do is refused, naming the field, and changes nothing.
    let (status, problem) = desk.patch(&desk.desk, json!({ "name": null })).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{problem}");
    assert_eq!(fields(&problem), ["name"]);
    let (status, problem) = desk
        .patch(&desk.desk, json!({ "room": "509", "status": "moved_out" }))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{problem}");
    assert_eq!(fields(&problem), ["status"]);
    let (status, problem) = send(
        desk.platform
            .http
            .patch(desk.url())
            .bearer_auth(&desk.desk)
            .json(&json!({ "room": "509" })),
    )
    .await;
    assert_eq!(
        status,
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "a merge patch says so: {problem}"
    );
    assert_eq!(desk.as_care_role().await["room"], "501");
    desk.platform.stop().await;
}

#[tokio::test]
async fn concurrent_patches_of_different_fields_all_take_effect() {
    let desk = Desk::open("patch-race").await;
    let patches = [
        json!({ "room": "601" }),
        json!({ "unit": "6单元" }),
        json!({ "building": "6号楼" }),
        json!({ "phone": "13900001111" }),
        json!({ "categories": ["low_income"] }),
        json!({ "skills": [{ "kind": "skill", "name": "急救" }] }),
    ];
    for _ in 0..5 {
        let answers = join_all(patches.iter().map(|p| desk.patch(&desk.desk, p.clone()))).await;
        for (status, body) in &answers {
            assert_eq!(*status, StatusCode::OK, "{body}");
        }
    }
    let seen = desk.as_care_role().await;
    assert_eq!(
        (
            &seen["room"],
            &seen["unit"],
            &seen["building"],
            &seen["phone"]
        ),
        (
            &json!("601"),
            &json!("6单元"),
            &json!("6号楼"),
            &json!("13900001111")
        ),
        "{seen}"
    );
    assert!(
        seen["categories"]
            .as_array()
            .expect("categories")
            .contains(&json!("low_income"))
    );
    assert_eq!(seen["skills"], json!([{ "kind": "skill", "name": "急救" }]));
    assert_eq!(seen["national_id"], ID);
    assert_eq!(seen["health_note"], "高血压，按时服药");
    desk.platform.stop().await;
}

#[tokio::test]
async fn a_centre_correction_keeps_what_it_does_not_send() {
    let platform = TestPlatform::start().await;
    let admin = platform.admin_token();
    let (status, created) = platform
        .post_json(
            &admin,
            "/v1/centres",
            &json!({ "code": "keep-centre", "name": "新华社区服务中心", "address": "新华路 1 号",
                "time_zone": "Asia/Urumqi", "opening_hours": "周一至周五 8:30-17:30",
                "contact_phone": "010-1234 5678" }),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let url = format!(
        "{}/v1/centres/{}",
        platform.gateway,
        created["id"].as_str().expect("id")
    );
    let (status, patched) = send(
        platform
            .http
            .patch(&url)
            .bearer_auth(&admin)
            .header("content-type", MERGE_PATCH)
            .body(json!({ "opening_hours": "每天 8:00-20:00", "address": null }).to_string()),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{patched}");
    assert_eq!(patched["opening_hours"], "每天 8:00-20:00");
    assert_eq!(patched["address"], "", "null clears");
    assert_eq!(patched["time_zone"], "Asia/Urumqi");
    assert_eq!(patched["contact_phone"], "010-1234 5678");
    assert_eq!(patched["name"], "新华社区服务中心");

    // An update that leaves out the time zone and phone keeps them too (it used to put
    // the zone back to Asia/Shanghai and blank the phone).
    let (status, put) = send(
        platform
            .http
            .put(&url)
            .bearer_auth(&admin)
            .json(&json!({ "code": "keep-centre", "name": "新华街道社区服务中心" })),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{put}");
    assert_eq!(put["name"], "新华街道社区服务中心");
    assert_eq!(put["time_zone"], "Asia/Urumqi");
    assert_eq!(put["contact_phone"], "010-1234 5678");
    assert_eq!(put["opening_hours"], "每天 8:00-20:00");
    let (status, problem) = send(
        platform
            .http
            .patch(&url)
            .bearer_auth(&admin)
            .header("content-type", MERGE_PATCH)
            .body(json!({ "code": "dongcheng" }).to_string()),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{problem}");
    assert_eq!(fields(&problem), ["code"]);
    platform.stop().await;
}

#[tokio::test]
async fn a_volunteer_correction_keeps_what_it_does_not_send() {
    let platform = TestPlatform::start().await;
    let centre = platform.volunteering_centre("Asia/Shanghai").await;
    let token = platform.token(&[Role::CentreManager], &[centre]);
    let (status, resident) = platform
        .post_json(
            &token,
            &format!("/v1/centres/{centre}/residents"),
            &json!({ "name": "陈静", "gender": "female", "date_of_birth": "1975-04-01" }),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{resident}");
    let resident: Uuid = resident["id"].as_str().expect("id").parse().expect("uuid");
    platform.wait_for_residents_in_volunteers(&[resident]).await;
    let (status, volunteer) = platform
        .post_json(
            &token,
            &format!("/v1/centres/{centre}/volunteers"),
            &json!({ "resident_id": resident, "display_name": "陈阿姨", "skills": ["dance", "cooking"],
                "languages": ["cantonese"], "availability": [{ "weekday": 2, "starts": "09:00", "ends": "11:00" }],
                "background_checked": true, "background_checked_on": "2026-01-05" }),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{volunteer}");
    let url = format!(
        "{}/v1/centres/{centre}/volunteers/{}",
        platform.gateway,
        volunteer["id"].as_str().expect("id")
    );
    let patch = |body: Value| {
        platform
            .http
            .patch(&url)
            .bearer_auth(&token)
            .header("content-type", MERGE_PATCH)
            .body(body.to_string())
    };

    let (status, patched) = send(patch(json!({ "languages": ["mandarin", "cantonese"] }))).await;
    assert_eq!(status, StatusCode::OK, "{patched}");
    assert_eq!(patched["languages"], json!(["mandarin", "cantonese"]));
    assert_eq!(patched["skills"], json!(["dance", "cooking"]));
    assert_eq!(patched["display_name"], "陈阿姨");
    assert_eq!(patched["background_checked"], true);
    assert_eq!(patched["background_checked_on"], "2026-01-05");
    assert_eq!(
        patched["availability"],
        json!([{ "weekday": 2, "starts": "09:00", "ends": "11:00" }])
    );

    let (status, cleared) = send(patch(json!({ "skills": null }))).await;
    assert_eq!(status, StatusCode::OK, "{cleared}");
    assert_eq!(cleared["skills"], json!([]));
    assert_eq!(cleared["languages"], json!(["mandarin", "cantonese"]));
    let (status, problem) = send(patch(json!({ "resident_id": Uuid::new_v4() }))).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{problem}");
    assert_eq!(fields(&problem), ["resident_id"]);

    // An update of the display name alone keeps the background check and availability
    // (it used to reset them to unchecked and none).
    let (status, put) = send(
        platform
            .http
            .put(&url)
            .bearer_auth(&token)
            .json(&json!({ "display_name": "陈静阿姨" })),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{put}");
    assert_eq!(put["display_name"], "陈静阿姨");
    assert_eq!(put["background_checked"], true);
    assert_eq!(put["background_checked_on"], "2026-01-05");
    assert_eq!(put["languages"], json!(["mandarin", "cantonese"]));
    assert_eq!(
        put["availability"],
        json!([{ "weekday": 2, "starts": "09:00", "ends": "11:00" }])
    );
    platform.stop().await;
}
