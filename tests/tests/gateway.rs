//! The slice through everything, over HTTP: a resident registered at the gateway reaches
//! the registry's database and, by event, evaluation's KPIs; and every way in that should
//! be shut is shut.

use std::time::Duration;

use linli_platform::auth::Role;
use linli_proto::registry::v1 as pb;
use linli_proto::registry::v1::registry_client::RegistryClient;
use linli_tests::{TestPlatform, poll};
use reqwest::StatusCode;
use serde_json::{Value, json};
use uuid::Uuid;

async fn post(
    platform: &TestPlatform,
    token: &str,
    path: &str,
    body: Value,
) -> (StatusCode, Value) {
    let response = platform
        .http
        .post(format!("{}{path}", platform.gateway))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .expect("gateway answers");
    let status = response.status();
    (status, response.json().await.unwrap_or(Value::Null))
}

async fn get(platform: &TestPlatform, token: Option<&str>, path: &str) -> (StatusCode, Value) {
    let mut request = platform.http.get(format!("{}{path}", platform.gateway));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.expect("gateway answers");
    let status = response.status();
    (status, response.json().await.unwrap_or(Value::Null))
}

fn zhang_san() -> Value {
    json!({ "name": "张三", "gender": "male", "date_of_birth": "1950-03-01", "phone": "13812345678" })
}

#[tokio::test]
async fn a_resident_registered_at_the_gateway_is_counted_in_the_centres_kpis() {
    let platform = TestPlatform::start().await;
    let centre = platform.create_centre("slice").await;
    let desk = platform.token(&[Role::FrontDesk], &[centre]);

    let (status, resident) = post(
        &platform,
        &desk,
        &format!("/v1/centres/{centre}/residents"),
        zhang_san(),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{resident}");
    assert_eq!(resident["name"], "张三");
    assert_eq!(resident["gender"], "male");
    assert_eq!(resident["date_of_birth"], "1950-03-01");
    let id = resident["id"].as_str().expect("an id");

    let (status, fetched) = get(
        &platform,
        Some(&desk),
        &format!("/v1/centres/{centre}/residents/{id}"),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(fetched["id"], id);

    let kpis_path = format!("/v1/centres/{centre}/kpis");
    let counted = poll(
        "evaluation to count the resident",
        Duration::from_secs(15),
        || async {
            let (status, kpis) = get(&platform, Some(&desk), &kpis_path).await;
            (status == StatusCode::OK && kpis["registered_residents"] == 1).then_some(kpis)
        },
    )
    .await;
    assert_eq!(counted["centre_id"], centre.to_string());
    platform.stop().await;
}

#[tokio::test]
async fn residents_list_in_stable_pages_and_centres_list_only_the_callers() {
    let platform = TestPlatform::start().await;
    let (own, other) = (
        platform.create_centre("own").await,
        platform.create_centre("other").await,
    );
    let desk = platform.token(&[Role::FrontDesk], &[own]);
    for n in 0..5 {
        let body =
            json!({ "name": format!("李{n}"), "gender": "female", "date_of_birth": "1980-01-01" });
        let (status, _) = post(
            &platform,
            &desk,
            &format!("/v1/centres/{own}/residents"),
            body,
        )
        .await;
        assert_eq!(status, StatusCode::CREATED);
    }

    let (_, first) = get(
        &platform,
        Some(&desk),
        &format!("/v1/centres/{own}/residents?page_size=2"),
    )
    .await;
    let token = first["next_page_token"]
        .as_str()
        .expect("more pages")
        .to_owned();
    // A registration between pages lands at the top and does not shift later pages.
    let late = json!({ "name": "新来", "gender": "male", "date_of_birth": "1990-01-01" });
    post(
        &platform,
        &desk,
        &format!("/v1/centres/{own}/residents"),
        late,
    )
    .await;
    let (_, second) = get(
        &platform,
        Some(&desk),
        &format!("/v1/centres/{own}/residents?page_size=2&page_token={token}"),
    )
    .await;
    let (_, third) = get(
        &platform,
        Some(&desk),
        &format!(
            "/v1/centres/{own}/residents?page_size=2&page_token={}",
            second["next_page_token"].as_str().expect("a third page")
        ),
    )
    .await;
    let names: Vec<&str> = [&first, &second, &third]
        .iter()
        .flat_map(|page| page["residents"].as_array().expect("residents").iter())
        .map(|r| r["name"].as_str().expect("name"))
        .collect();
    assert_eq!(names, ["李4", "李3", "李2", "李1", "李0"]);
    assert!(third.get("next_page_token").is_none());

    let (_, centres) = get(&platform, Some(&desk), "/v1/centres").await;
    let ids: Vec<&str> = centres["centres"]
        .as_array()
        .expect("centres")
        .iter()
        .map(|c| c["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, [own.to_string()]);
    let (_, all) = get(&platform, Some(&platform.admin_token()), "/v1/centres").await;
    assert_eq!(all["centres"].as_array().expect("centres").len(), 2);
    let _ = other;
    platform.stop().await;
}

#[tokio::test]
async fn requests_without_a_valid_token_are_refused_with_401() {
    let platform = TestPlatform::start().await;
    let centre = platform.create_centre("auth").await;
    let path = format!("/v1/centres/{centre}/residents");
    let good = platform.token(&[Role::FrontDesk], &[centre]);

    let expired = platform.keys.issue(
        "x",
        &[Role::FrontDesk],
        &[centre],
        chrono::Duration::minutes(-10),
    );
    let mut tampered = good.clone();
    let flip = tampered.len() - 3;
    let replaced = if &tampered[flip..flip + 1] == "A" {
        "B"
    } else {
        "A"
    };
    tampered.replace_range(flip..flip + 1, replaced);
    let unsigned = {
        use base64::Engine as _;
        let engine = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        let claims = good.split('.').nth(1).expect("a payload");
        format!(
            "{}.{claims}.",
            engine.encode(r#"{"alg":"none","typ":"JWT"}"#)
        )
    };
    let wrong_audience = linli_platform::auth::TokenKeys::new(&linli_platform::auth::AuthArgs {
        jwt_audience: "someone-else".into(),
        ..platform.args.auth.clone()
    })
    .issue(
        "x",
        &[Role::FrontDesk],
        &[centre],
        chrono::Duration::hours(1),
    );

    let (status, problem) = get(&platform, None, &path).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "no token");
    assert_eq!(problem["status"], 401);
    for (what, token) in [
        ("expired", &expired),
        ("tampered", &tampered),
        ("alg none", &unsigned),
        ("wrong audience", &wrong_audience),
    ] {
        let (status, _) = get(&platform, Some(token), &path).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{what} token");
    }
    let (status, _) = get(&platform, Some(&good), &path).await;
    assert_eq!(status, StatusCode::OK, "the untampered token works");

    // The service refuses them too when reached without the gateway.
    let mut client = RegistryClient::connect(format!("http://{}", platform.registry))
        .await
        .expect("registry answers");
    for token in [&expired, &tampered, &unsigned, &wrong_audience] {
        let mut request = tonic::Request::new(pb::ListResidentsRequest {
            centre_id: centre.to_string(),
            ..Default::default()
        });
        request.metadata_mut().insert(
            "authorization",
            format!("Bearer {token}").parse().expect("ascii"),
        );
        let status = client.list_residents(request).await.expect_err("refused");
        assert_eq!(status.code(), tonic::Code::Unauthenticated);
    }
    let bare = client
        .list_residents(pb::ListResidentsRequest {
            centre_id: centre.to_string(),
            ..Default::default()
        })
        .await
        .expect_err("refused without a token");
    assert_eq!(bare.code(), tonic::Code::Unauthenticated);
    platform.stop().await;
}

#[tokio::test]
async fn staff_of_one_centre_never_reach_another_centres_residents() {
    let platform = TestPlatform::start().await;
    let (a, b) = (
        platform.create_centre("centre-a").await,
        platform.create_centre("centre-b").await,
    );
    let desk_a = platform.token(&[Role::FrontDesk], &[a]);
    let desk_b = platform.token(&[Role::FrontDesk], &[b]);
    let (_, resident) = post(
        &platform,
        &desk_b,
        &format!("/v1/centres/{b}/residents"),
        zhang_san(),
    )
    .await;
    let id = resident["id"].as_str().expect("an id");

    let (status, _) = get(
        &platform,
        Some(&desk_a),
        &format!("/v1/centres/{b}/residents/{id}"),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "another centre's path");
    let (status, _) = get(
        &platform,
        Some(&desk_a),
        &format!("/v1/centres/{a}/residents/{id}"),
    )
    .await;
    assert_eq!(
        status,
        StatusCode::NOT_FOUND,
        "another centre's resident under one's own centre"
    );
    let (status, _) = post(
        &platform,
        &desk_a,
        &format!("/v1/centres/{b}/residents"),
        zhang_san(),
    )
    .await;
    assert_eq!(
        status,
        StatusCode::FORBIDDEN,
        "registering at another centre"
    );
    let (status, _) = get(&platform, Some(&desk_a), &format!("/v1/centres/{b}/kpis")).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "another centre's KPIs");

    // Directly over gRPC, with centre A's token: refused by the registry itself.
    let mut client = RegistryClient::connect(format!("http://{}", platform.registry))
        .await
        .expect("registry answers");
    let mut request = tonic::Request::new(pb::GetResidentRequest {
        centre_id: b.to_string(),
        id: id.to_owned(),
        ..Default::default()
    });
    request.metadata_mut().insert(
        "authorization",
        format!("Bearer {desk_a}").parse().expect("ascii"),
    );
    let status = client.get_resident(request).await.expect_err("refused");
    assert_eq!(status.code(), tonic::Code::PermissionDenied);

    // An auditor of centre B reads but cannot register.
    let auditor = platform.token(&[Role::Auditor], &[b]);
    let (status, _) = get(
        &platform,
        Some(&auditor),
        &format!("/v1/centres/{b}/residents/{id}"),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = post(
        &platform,
        &auditor,
        &format!("/v1/centres/{b}/residents"),
        zhang_san(),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    platform.stop().await;
}

#[tokio::test]
async fn bad_input_is_answered_400_naming_the_field() {
    let platform = TestPlatform::start().await;
    let centre = platform.create_centre("input").await;
    let admin = platform.admin_token();
    let path = format!("/v1/centres/{centre}/residents");

    let (status, problem) = post(
        &platform,
        &admin,
        &path,
        json!({ "gender": "female", "date_of_birth": "1960-05-05" }),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        problem["errors"],
        json!([{ "field": "name", "reason": "is required", "code": "required", "message": "is required" }])
    );

    let (status, problem) = post(
        &platform,
        &admin,
        &path,
        json!({ "name": "王五", "gender": "x", "date_of_birth": "1960-13-01", "phone": "123" }),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let fields: Vec<&str> = problem["errors"]
        .as_array()
        .expect("errors")
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["gender", "date_of_birth", "phone"]);

    let response = platform
        .http
        .post(format!("{}{path}", platform.gateway))
        .bearer_auth(&admin)
        .header("content-type", "application/json")
        .body("{\"name\": ")
        .send()
        .await
        .expect("gateway answers");
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert_eq!(
        response.headers()["content-type"],
        "application/problem+json"
    );
    let problem: Value = response.json().await.expect("problem json");
    assert!(
        problem["detail"]
            .as_str()
            .expect("detail")
            .starts_with("malformed JSON"),
        "{problem}"
    );

    let unknown = Uuid::new_v4();
    let (status, problem) = post(
        &platform,
        &admin,
        &format!("/v1/centres/{unknown}/residents"),
        zhang_san(),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        problem["errors"],
        json!([{
            "field": "centre_id",
            "reason": "no centre has this id",
            "code": "not_found",
            "params": { "what": "centre" },
            "message": "centre not found",
        }])
    );

    let (status, problem) = post(
        &platform,
        &admin,
        "/v1/centres/not-a-uuid/residents",
        zhang_san(),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(problem["errors"][0]["field"], "centre_id");

    let big = json!({ "name": "x".repeat(100 * 1024) });
    let (status, _) = post(&platform, &admin, &path, big).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    platform.stop().await;
}

#[tokio::test]
async fn phone_numbers_are_sealed_at_rest_and_masked_for_roles_that_do_not_call_residents() {
    let platform = TestPlatform::start().await;
    let centre = platform.create_centre("privacy").await;
    let desk = platform.token(&[Role::FrontDesk], &[centre]);
    let (_, resident) = post(
        &platform,
        &desk,
        &format!("/v1/centres/{centre}/residents"),
        zhang_san(),
    )
    .await;
    assert_eq!(
        resident["phone"], "13812345678",
        "the front desk phones residents"
    );
    let id = resident["id"].as_str().expect("an id");

    let auditor = platform.token(&[Role::Auditor], &[centre]);
    let (_, seen) = get(
        &platform,
        Some(&auditor),
        &format!("/v1/centres/{centre}/residents/{id}"),
    )
    .await;
    assert_eq!(seen["phone"], "138****5678");

    let pool = platform.pool("registry").await;
    let row: (Vec<u8>, String) =
        sqlx::query_as("SELECT phone_sealed, phone_key_id FROM residents WHERE id = $1")
            .bind(Uuid::parse_str(id).expect("uuid"))
            .fetch_one(&pool)
            .await
            .expect("the row exists");
    assert!(
        !row.0.windows(11).any(|w| w == b"13812345678"),
        "no clear phone number at rest"
    );
    assert_eq!(row.1, "test-1");
    let dump: String = sqlx::query_scalar("SELECT string_agg(residents::text, '') FROM residents")
        .fetch_one(&pool)
        .await
        .expect("readable");
    assert!(!dump.contains("13812345678"));
    let outbox: Vec<u8> = sqlx::query_scalar("SELECT payload FROM outbox LIMIT 1")
        .fetch_one(&pool)
        .await
        .expect("the event was recorded");
    assert!(
        !outbox.windows(11).any(|w| w == b"13812345678"),
        "the event carries no phone"
    );
    pool.close().await;
    platform.stop().await;
}

#[tokio::test]
async fn the_openapi_document_describes_the_routes() {
    let platform = TestPlatform::start().await;
    let (status, doc) = get(&platform, None, "/openapi.json").await;
    assert_eq!(status, StatusCode::OK);
    assert!(doc["openapi"].as_str().expect("version").starts_with("3.1"));
    for path in [
        "/v1/centres",
        "/v1/centres/{centre_id}/residents",
        "/v1/centres/{centre_id}/residents/{resident_id}",
        "/v1/centres/{centre_id}/kpis",
    ] {
        assert!(doc["paths"].get(path).is_some(), "{path} is documented");
    }
    assert_eq!(
        doc["components"]["securitySchemes"]["bearer"]["scheme"],
        "bearer"
    );
    platform.stop().await;
}

#[tokio::test]
async fn a_request_past_its_deadline_is_answered_504_with_a_problem_not_a_hang() {
    // One second: the gateway's deadline, well under the services' own ten.
    let platform = TestPlatform::start_with(|args| args.limits.request_timeout_secs = 1).await;
    let centre = platform.bookable_centre("Asia/Shanghai").await;
    let token = platform.token(&[Role::CentreManager], &[centre]);
    let (status, resident) = post(
        &platform,
        &token,
        &format!("/v1/centres/{centre}/residents"),
        zhang_san(),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{resident}");
    let resident = resident["id"].as_str().expect("resident id").to_owned();
    platform
        .wait_for_residents_in_bookings(&[resident.parse().expect("uuid")])
        .await;
    let (status, offering) = post(
        &platform,
        &token,
        &format!("/v1/centres/{centre}/offerings"),
        json!({ "category": "life_services", "kind": "event", "name": "健康讲座", "capacity": 20 }),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{offering}");
    let starts = chrono::Utc::now() + chrono::Duration::days(2);
    let (status, session) = post(
        &platform,
        &token,
        &format!("/v1/centres/{centre}/sessions"),
        json!({ "offering_id": offering["id"], "starts_at": starts.to_rfc3339(),
                "ends_at": (starts + chrono::Duration::hours(1)).to_rfc3339() }),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{session}");
    let session: Uuid = session["id"]
        .as_str()
        .expect("session id")
        .parse()
        .expect("uuid");

    // Someone else holds the session's row, which a booking locks to take a seat.
    let bookings = platform.pool("bookings").await;
    let mut holder = bookings.begin().await.expect("a transaction");
    sqlx::query("SELECT 1 FROM sessions WHERE id = $1 FOR UPDATE")
        .bind(session)
        .execute(&mut *holder)
        .await
        .expect("the row is locked");

    let booking =
        json!({ "offering_id": offering["id"], "resident_id": resident, "session_id": session });
    let started = std::time::Instant::now();
    let response = platform
        .http
        .post(format!("{}/v1/centres/{centre}/bookings", platform.gateway))
        .bearer_auth(&token)
        .json(&booking)
        // A hang would fail here rather than hold the suite.
        .timeout(Duration::from_secs(30))
        .send()
        .await
        .expect("the gateway answers");
    let waited = started.elapsed();
    assert_eq!(response.status(), StatusCode::GATEWAY_TIMEOUT);
    assert_eq!(
        response.headers()["content-type"],
        "application/problem+json"
    );
    let problem: Value = response.json().await.expect("a problem document");
    assert_eq!(problem["status"], 504, "{problem}");
    assert!(
        problem["detail"]
            .as_str()
            .is_some_and(|d| d.contains("deadline")),
        "{problem}"
    );
    // The gateway's own deadline answered, not the service's longer one behind it.
    assert!(
        waited >= Duration::from_secs(1) && waited < Duration::from_secs(5),
        "answered after {waited:?}"
    );

    // Once the row is free, the same request goes through within the deadline, and the
    // abandoned one left nothing behind: the resident holds one booking, not two.
    holder.rollback().await.expect("released");
    let (status, body) = poll(
        "a booking once the session is free",
        Duration::from_secs(30),
        || {
            let booking = booking.clone();
            let platform = &platform;
            let token = &token;
            async move {
                let (status, body) = post(
                    platform,
                    token,
                    &format!("/v1/centres/{centre}/bookings"),
                    booking,
                )
                .await;
                (status != StatusCode::GATEWAY_TIMEOUT).then_some((status, body))
            }
        },
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let held: i64 = sqlx::query_scalar("SELECT count(*) FROM bookings WHERE resident_id = $1")
        .bind(resident.parse::<Uuid>().expect("uuid"))
        .fetch_one(&bookings)
        .await
        .expect("counted");
    assert_eq!(held, 1);
    bookings.close().await;
    platform.stop().await;
}

/// A gateway run as a role of its own (as each is in Kubernetes) calls the services over
/// gRPC at their endpoints, where `serve all` calls them in the process: a resident
/// registered through it is read back through the platform's own gateway, and another
/// centre's staff are refused through it as well.
#[tokio::test]
async fn a_gateway_run_alone_calls_the_services_over_the_network() {
    let platform = TestPlatform::start().await;
    let mut args = platform.args.clone();
    let at = |address: std::net::SocketAddr| Some(format!("http://{address}"));
    args.registry_endpoint = at(platform.registry);
    args.bookings_endpoint = at(platform.bookings);
    args.volunteers_endpoint = at(platform.volunteers);
    args.finance_endpoint = at(platform.finance);
    args.evaluation_endpoint = at(platform.evaluation);
    let shutdown = linli_platform::CancellationToken::new();
    let running = linli::start(linli::Role::Gateway, args, shutdown.clone())
        .await
        .expect("the gateway role starts");
    let alone = format!("http://{}", running.gateway.expect("it runs the gateway"));
    let waiting = tokio::spawn(running.wait());

    let (a, b) = (
        platform.create_centre("centre-a").await,
        platform.create_centre("centre-b").await,
    );
    let desk = platform.token(&[Role::FrontDesk], &[a]);
    let response = platform
        .http
        .post(format!("{alone}/v1/centres/{a}/residents"))
        .bearer_auth(&desk)
        .json(&zhang_san())
        .send()
        .await
        .expect("the lone gateway answers");
    assert_eq!(response.status(), StatusCode::CREATED);
    let created: Value = response.json().await.expect("a resident");
    let id = created["id"].as_str().expect("an id");
    let (status, read) = get(
        &platform,
        Some(&desk),
        &format!("/v1/centres/{a}/residents/{id}"),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{read}");
    assert_eq!(read["name"], created["name"]);

    let refused = platform
        .http
        .get(format!("{alone}/v1/centres/{b}/residents"))
        .bearer_auth(&desk)
        .send()
        .await
        .expect("the lone gateway answers");
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);

    shutdown.cancel();
    waiting
        .await
        .expect("the gateway's task")
        .expect("the gateway stops cleanly");
    platform.stop().await;
}
