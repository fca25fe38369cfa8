//! The public HTTP API as documented: every route in the served `/openapi.json` is called
//! (the list comes from the document, so a new route is covered without editing this
//! file), without a token and with one, and must answer a status the document names, as a
//! problem document when it is an error; and the gateway's limits answer as they say.

use std::collections::BTreeSet;

use linli_platform::auth::Role;
use linli_tests::TestPlatform;
use reqwest::StatusCode;
use serde_json::{Value, json};
use uuid::Uuid;

const METHODS: [&str; 5] = ["get", "put", "post", "delete", "patch"];

struct Operation {
    method: reqwest::Method,
    template: String,
    path: String,
    secured: bool,
    documented: BTreeSet<u16>,
    body_type: Option<String>,
}

fn operations(doc: &Value, centre: Uuid) -> Vec<Operation> {
    let mut found = Vec::new();
    for (template, item) in doc["paths"].as_object().expect("paths") {
        for method in METHODS {
            let Some(op) = item.get(method) else { continue };
            let path = template
                .split('/')
                .map(|segment| match segment {
                    "{centre_id}" => centre.to_string(),
                    s if s.starts_with('{') => Uuid::new_v4().to_string(),
                    s => s.to_owned(),
                })
                .collect::<Vec<_>>()
                .join("/");
            found.push(Operation {
                method: method.to_uppercase().parse().expect("a method"),
                template: template.clone(),
                path,
                secured: op["security"].as_array().is_some_and(|s| !s.is_empty()),
                documented: op["responses"]
                    .as_object()
                    .expect("responses")
                    .keys()
                    .map(|k| k.parse().expect("a numeric status"))
                    .collect(),
                body_type: op["requestBody"]["content"]
                    .as_object()
                    .and_then(|c| c.keys().next().cloned()),
            });
        }
    }
    found
}

async fn call(
    platform: &TestPlatform,
    op: &Operation,
    token: Option<&str>,
) -> (StatusCode, String, Value) {
    let mut request = platform.http.request(
        op.method.clone(),
        format!("{}{}", platform.gateway, op.path),
    );
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    request = match op.body_type.as_deref() {
        Some("application/json") => request.json(&json!({})),
        Some(other) => request.header("content-type", other).body(""),
        None => request,
    };
    let response = request.send().await.expect("the gateway answers");
    let status = response.status();
    let content_type = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let body = response.json().await.unwrap_or(Value::Null);
    (status, content_type, body)
}

#[tokio::test]
async fn every_documented_route_answers_as_documented_with_and_without_a_token() {
    let platform = TestPlatform::start_with(|args| {
        args.limits.rate_per_second = 10_000.0;
        args.limits.rate_burst = 10_000;
    })
    .await;
    let centre = platform.bookable_centre("Asia/Shanghai").await;
    let response = platform
        .http
        .get(format!("{}/openapi.json", platform.gateway))
        .send()
        .await
        .expect("the document");
    assert_eq!(response.status(), StatusCode::OK);
    let doc: Value = response.json().await.expect("JSON");
    assert!(
        doc["openapi"]
            .as_str()
            .is_some_and(|v| v.starts_with("3.1"))
    );
    assert_eq!(
        doc["components"]["securitySchemes"]["bearer"]["scheme"],
        "bearer"
    );

    let operations = operations(&doc, centre);
    assert!(
        operations.len() > 50,
        "only {} operations",
        operations.len()
    );
    assert!(operations.iter().any(|op| op.template == "/v1/partners"));
    eprintln!("calling {} documented operations", operations.len());
    let admin = platform.admin_token();
    let mut failures = Vec::new();
    for op in &operations {
        let name = format!("{} {}", op.method, op.template);
        if !op.documented.contains(&429) {
            failures.push(format!("{name}: 429 is not documented"));
        }
        let (status, content_type, body) = call(&platform, op, None).await;
        if op.secured {
            if status != StatusCode::UNAUTHORIZED
                || !content_type.starts_with("application/problem+json")
            {
                failures.push(format!(
                    "{name} without a token: {status} {content_type} {body}"
                ));
            }
            if !op.documented.contains(&401) {
                failures.push(format!("{name}: 401 is not documented"));
            }
        } else if status != StatusCode::OK {
            failures.push(format!("{name} (open): {status}"));
        }
        let (status, content_type, body) = call(&platform, op, Some(&admin)).await;
        if !op.documented.contains(&status.as_u16()) {
            failures.push(format!(
                "{name} as district admin: {status} is not documented ({body})"
            ));
        }
        if status.is_server_error() {
            failures.push(format!("{name} as district admin: {status} {body}"));
        }
        if (status.is_client_error() || status.is_server_error())
            && !content_type.starts_with("application/problem+json")
        {
            failures.push(format!(
                "{name} as district admin: {status} as {content_type}"
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));

    // The docs page is served from the binary and names no other host.
    let page = platform
        .http
        .get(format!("{}/docs", platform.gateway))
        .send()
        .await
        .expect("the page");
    assert_eq!(page.status(), StatusCode::OK);
    let html = page.text().await.expect("HTML");
    assert!(html.contains("/openapi.json"));
    assert!(
        !html.contains("http://") && !html.contains("https://"),
        "the page fetches from elsewhere"
    );
    platform.stop().await;
}

#[tokio::test]
async fn a_burst_over_the_rate_limit_gets_429_with_retry_after_while_others_are_answered() {
    let platform = TestPlatform::start_with(|args| {
        args.limits.rate_per_second = 2.0;
        args.limits.rate_burst = 5;
    })
    .await;
    let noisy = platform.keys.issue(
        "noisy-system",
        &[Role::DistrictAdmin],
        &[],
        chrono::Duration::hours(1),
    );
    let quiet = platform.keys.issue(
        "quiet-desk",
        &[Role::DistrictAdmin],
        &[],
        chrono::Duration::hours(1),
    );
    let burst = futures::future::join_all((0..30).map(|_| {
        let request = platform
            .http
            .get(format!("{}/v1/centres", platform.gateway))
            .bearer_auth(&noisy);
        async move { request.send().await.expect("the gateway answers") }
    }))
    .await;
    let answered = burst
        .iter()
        .filter(|r| r.status() == StatusCode::OK)
        .count();
    let limited: Vec<_> = burst
        .iter()
        .filter(|r| r.status() == StatusCode::TOO_MANY_REQUESTS)
        .collect();
    assert!((5..=6).contains(&answered), "{answered} answered");
    assert_eq!(answered + limited.len(), 30);
    for response in &limited {
        let wait: u64 = response.headers()["retry-after"]
            .to_str()
            .expect("ASCII")
            .parse()
            .expect("whole seconds");
        assert!((1..=5).contains(&wait), "Retry-After {wait}");
        assert_eq!(
            response.headers()["content-type"],
            "application/problem+json"
        );
    }
    let (status, _) = platform.get_json(&quiet, "/v1/centres").await;
    assert_eq!(
        status,
        StatusCode::OK,
        "another credential is still answered"
    );
    platform.stop().await;
}

#[tokio::test]
async fn oversized_bodies_and_pages_are_refused_with_problems() {
    let platform = TestPlatform::start().await;
    let centre = platform.bookable_centre("Asia/Shanghai").await;
    let token = platform.token(&[Role::CentreManager], &[centre]);
    let huge = "长".repeat(100_000);
    let response = platform
        .http
        .post(format!(
            "{}/v1/centres/{centre}/residents",
            platform.gateway
        ))
        .bearer_auth(&token)
        .json(&json!({ "name": huge }))
        .send()
        .await
        .expect("answered");
    assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(
        response.headers()["content-type"],
        "application/problem+json"
    );
    for path in [
        format!("/v1/centres/{centre}/residents?page_size=1000"),
        format!("/v1/centres/{centre}/bookings?page_size=1000"),
    ] {
        let (status, body) = platform.get_json(&token, &path).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{path}: {body}");
        assert_eq!(body["errors"][0]["field"], "page_size", "{body}");
    }
    platform.stop().await;
}
