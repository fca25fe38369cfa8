//! The registry's handling of national ID numbers, end to end: validated and cross-checked,
//! sealed at rest, unique across the district, masked unless a permitted role states a
//! purpose, and every whole-number read logged.

use linli_platform::auth::Role;
use linli_tests::TestPlatform;
use reqwest::StatusCode;
use serde_json::{Value, json};
use uuid::Uuid;

/// A number of no one: the standard's own example.
const ID: &str = "11010519491231002X";

fn resident(national_id: &str) -> Value {
    json!({ "name": "王芳", "gender": "female", "date_of_birth": "1949-12-31", "national_id": national_id })
}

async fn send(request: reqwest::RequestBuilder) -> (StatusCode, Value) {
    let response = request.send().await.expect("gateway answers");
    let status = response.status();
    (status, response.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn national_ids_are_validated_sealed_unique_and_masked_unless_revealed_for_a_logged_purpose()
{
    let platform = TestPlatform::start().await;
    let (a, b) = (
        platform.create_centre("id-a").await,
        platform.create_centre("id-b").await,
    );
    let desk_a = platform.token(&[Role::FrontDesk], &[a]);
    let desk_b = platform.token(&[Role::FrontDesk], &[b]);
    let post = |token: &str, centre: Uuid, body: Value| {
        platform
            .http
            .post(format!(
                "{}/v1/centres/{centre}/residents",
                platform.gateway
            ))
            .bearer_auth(token)
            .json(&body)
    };

    // Wrong check character, and a number that disagrees with the birth date.
    let (status, problem) = send(post(&desk_a, a, resident("110105194912310021"))).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(problem["errors"][0]["field"], "national_id");
    assert!(
        !problem.to_string().contains("1101051949"),
        "the error does not repeat the number"
    );
    let mismatch = json!({ "name": "王芳", "gender": "female", "date_of_birth": "1950-01-01", "national_id": ID });
    let (status, problem) = send(post(&desk_a, a, mismatch)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        problem["errors"],
        json!([{ "field": "national_id", "reason": "does not match date_of_birth" }])
    );

    let (status, created) = send(post(&desk_a, a, resident(ID))).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    assert_eq!(created["national_id"], "110105********002X");
    let id = created["id"].as_str().expect("id").to_owned();

    // The same person registered again, at another centre: found by the blind index.
    let (status, problem) = send(post(&desk_b, b, resident(&ID.to_lowercase()))).await;
    assert_eq!(status, StatusCode::CONFLICT, "{problem}");
    assert!(
        !problem.to_string().contains(&a.to_string()),
        "the conflict does not say where"
    );

    let get = |token: &str, query: &str| {
        platform
            .http
            .get(format!(
                "{}/v1/centres/{a}/residents/{id}{query}",
                platform.gateway
            ))
            .bearer_auth(token)
    };
    let (_, plain) = send(get(&desk_a, "")).await;
    assert_eq!(plain["national_id"], "110105********002X");
    let (status, revealed) = send(get(
        &desk_a,
        "?national_id_purpose=social%20security%20case%20118",
    ))
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(revealed["national_id"], ID);
    let auditor = platform.token(&[Role::Auditor], &[a]);
    let (status, _) = send(get(&auditor, "?national_id_purpose=curious")).await;
    assert_eq!(
        status,
        StatusCode::FORBIDDEN,
        "an auditor never sees the whole number"
    );
    let (status, problem) = send(get(&desk_a, "?national_id_purpose=x")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(problem["errors"][0]["field"], "national_id_purpose");

    let pool = platform.pool("registry").await;
    let reads: Vec<(String, String)> =
        sqlx::query_as("SELECT reader, purpose FROM national_id_reads WHERE resident_id = $1")
            .bind(Uuid::parse_str(&id).expect("uuid"))
            .fetch_all(&pool)
            .await
            .expect("the access log");
    assert_eq!(
        reads,
        [(
            "test-user".to_owned(),
            "social security case 118".to_owned()
        )]
    );
    let dump: String = sqlx::query_scalar("SELECT string_agg(r::text, '') FROM residents r")
        .fetch_one(&pool)
        .await
        .expect("rows");
    assert!(
        !dump.contains("19491231002"),
        "no clear national ID at rest"
    );
    let payloads: Vec<Vec<u8>> = sqlx::query_scalar("SELECT payload FROM outbox")
        .fetch_all(&pool)
        .await
        .expect("events");
    assert!(
        payloads
            .iter()
            .all(|p| !p.windows(11).any(|w| w == b"19491231002")),
        "no national ID in events"
    );
    pool.close().await;
    platform.stop().await;
}

#[tokio::test]
async fn names_are_found_by_characters_pinyin_initials_and_full_pinyin() {
    let platform = TestPlatform::start().await;
    let centre = platform.create_centre("search").await;
    let desk = platform.token(&[Role::FrontDesk], &[centre]);
    for (name, born) in [
        ("张三", "1950-03-01"),
        ("李四", "2000-06-01"),
        ("章子怡", "1979-02-09"),
    ] {
        let body = json!({ "name": name, "gender": "female", "date_of_birth": born });
        let request = platform
            .http
            .post(format!(
                "{}/v1/centres/{centre}/residents",
                platform.gateway
            ))
            .bearer_auth(&desk)
            .json(&body);
        assert_eq!(send(request).await.0, StatusCode::CREATED);
    }
    let search = |query: &str| {
        let request = platform
            .http
            .get(format!(
                "{}/v1/centres/{centre}/residents?{query}",
                platform.gateway
            ))
            .bearer_auth(&desk);
        async move {
            let (status, page) = send(request).await;
            assert_eq!(status, StatusCode::OK, "{page}");
            let mut names: Vec<String> = page["residents"]
                .as_array()
                .expect("residents")
                .iter()
                .map(|r| r["name"].as_str().expect("name").to_owned())
                .collect();
            names.sort();
            names
        }
    };
    assert_eq!(search("q=zs").await, ["张三"]);
    assert_eq!(search("q=zhangsan").await, ["张三"]);
    assert_eq!(search("q=Zhang").await, ["张三", "章子怡"]);
    assert_eq!(
        search("q=%E5%BC%A0").await,
        ["张三"],
        "by the character 张, not the sound"
    );
    assert_eq!(search("q=zhang&min_age=60").await, ["张三"]);
    assert_eq!(search("min_age=18&max_age=47").await, ["李四", "章子怡"]);
    let request = platform
        .http
        .get(format!(
            "{}/v1/centres/{centre}/residents?min_age=70&max_age=60",
            platform.gateway
        ))
        .bearer_auth(&desk);
    let (status, problem) = send(request).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(problem["errors"][0]["field"], "max_age");
    platform.stop().await;
}
