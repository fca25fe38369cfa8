//! Health tells the truth about what a service can do. A service whose writes go to its
//! outbox stays SERVING and ready while the broker is away (the broker is reported in
//! `/readyz`'s body and in metrics), and the events it committed meanwhile are delivered
//! once the broker is back; only its database makes it unready. A role started while the
//! broker or the database is away does not exit: it serves once they are back, without a
//! restart.

use std::time::Duration;

use linli_platform::auth::Role;
use linli_tests::{Proxy, TestPlatform, poll};
use serde_json::{Value, json};
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;

async fn readiness(platform: &TestPlatform) -> (u16, Value) {
    let response = platform
        .http
        .get(format!("http://{}/readyz", platform.admin))
        .send()
        .await
        .expect("admin port answers");
    (
        response.status().as_u16(),
        response.json().await.expect("json"),
    )
}

async fn registry_health(platform: &TestPlatform) -> ServingStatus {
    health_of(platform.registry, linli_registry::GRPC_SERVICE).await
}

async fn health_of(address: std::net::SocketAddr, service: &str) -> ServingStatus {
    let channel = tonic::transport::Endpoint::from_shared(format!("http://{address}"))
        .expect("a valid endpoint")
        .connect()
        .await
        .expect("the service answers");
    let mut client = HealthClient::new(channel);
    // A service still starting is not registered with the health service yet: the health
    // protocol answers NOT_FOUND, which is "unknown", not a failure of the check itself.
    match client
        .check(HealthCheckRequest {
            service: service.into(),
        })
        .await
    {
        Ok(reply) => reply.into_inner().status(),
        Err(status) if status.code() == tonic::Code::NotFound => ServingStatus::ServiceUnknown,
        Err(status) => panic!("health check answers: {status:?}"),
    }
}

async fn register(platform: &TestPlatform, centre: uuid::Uuid, token: &str) -> u16 {
    platform
        .http
        .post(format!(
            "{}/v1/centres/{centre}/residents",
            platform.gateway
        ))
        .bearer_auth(token)
        .json(&json!({ "name": "孙八", "gender": "male", "date_of_birth": "1940-04-04", "confirm_not_duplicate": true }))
        .send()
        .await
        .expect("gateway answers")
        .status()
        .as_u16()
}

async fn registered_residents(
    platform: &TestPlatform,
    centre: uuid::Uuid,
    token: &str,
) -> Option<i64> {
    let kpis: Value = platform
        .http
        .get(format!("{}/v1/centres/{centre}/kpis", platform.gateway))
        .bearer_auth(token)
        .send()
        .await
        .ok()?
        .json()
        .await
        .ok()?;
    kpis["registered_residents"].as_i64()
}

#[tokio::test]
async fn services_stay_ready_and_serving_while_the_broker_is_unreachable_and_deliver_after() {
    let _ = tracing_subscriber::fmt()
        .with_env_filter("info,sqlx=warn")
        .with_test_writer()
        .try_init();
    let proxy = Proxy::start("127.0.0.1:5672".parse().expect("address")).await;
    let address = proxy.address;
    let platform = TestPlatform::start_with(|args| {
        args.bus.amqp_url = format!("amqp://guest:guest@{address}/%2f");
    })
    .await;
    poll("registry SERVING", Duration::from_secs(10), || async {
        (registry_health(&platform).await == ServingStatus::Serving).then_some(())
    })
    .await;

    proxy.cut().await;
    let (status, body) = poll(
        "readyz to report the broker unreachable",
        Duration::from_secs(20),
        || async {
            let (status, body) = readiness(&platform).await;
            (body["broker"]["bookings"] == "unreachable"
                && body["broker"]["registry"] == "unreachable")
                .then_some((status, body))
        },
    )
    .await;
    assert_eq!(
        status, 200,
        "a broker outage leaves every role ready: {body}"
    );
    assert_eq!(body["ready"], true, "{body}");
    assert_eq!(body["checks"]["bookings"], "ok", "{body}");
    assert_eq!(registry_health(&platform).await, ServingStatus::Serving);
    assert_eq!(
        health_of(platform.bookings, linli_bookings::GRPC_SERVICE).await,
        ServingStatus::Serving
    );
    // The gauge is the process's, and the other tests' platforms in this process set the
    // same label from their own checks: each readiness check of this platform sets it
    // again, and the metrics read right after it show the outage.
    poll(
        "the broker outage in the metrics",
        Duration::from_secs(20),
        || async {
            let _ = readiness(&platform).await;
            let metrics = platform
                .http
                .get(format!("http://{}/metrics", platform.admin))
                .send()
                .await
                .expect("admin answers")
                .text()
                .await
                .expect("text");
            metrics
                .contains(r#"linli_dependency_up{dependency="broker",service="bookings"} 0"#)
                .then_some(())
        },
    )
    .await;

    // The front desk keeps working: the registration and its event commit together.
    let centre = platform.create_centre_in_registry("outage").await;
    let desk = platform.token(&[Role::FrontDesk], &[centre]);
    assert_eq!(register(&platform, centre, &desk).await, 201);
    // Still ready a while into the outage (longer than a readiness probe's period).
    for _ in 0..3 {
        assert_eq!(readiness(&platform).await.0, 200);
    }

    proxy.restore();
    poll(
        "readyz to report the broker back",
        Duration::from_secs(30),
        || async { (readiness(&platform).await.1["broker"]["registry"] == "ok").then_some(()) },
    )
    .await;
    poll(
        "the registration counted after the outage",
        Duration::from_secs(30),
        || async {
            (registered_residents(&platform, centre, &desk).await == Some(1)).then_some(())
        },
    )
    .await;
    platform.stop().await;
}

/// Restarted during a broker outage (a crash, a deployment), every role starts, accepts
/// writes into its outbox, and delivers them once the broker is back.
#[tokio::test]
async fn a_platform_started_while_the_broker_is_down_serves_and_delivers_once_it_is_back() {
    let proxy = Proxy::start("127.0.0.1:5672".parse().expect("address")).await;
    proxy.cut().await;
    let address = proxy.address;
    let platform = TestPlatform::start_unready_with(|args| {
        args.bus.amqp_url = format!("amqp://guest:guest@{address}/%2f");
    })
    .await;
    platform.wait_until_ready(Duration::from_secs(30)).await;
    let (_, body) = readiness(&platform).await;
    assert_eq!(body["broker"]["bookings"], "unreachable", "{body}");

    let centre = platform.create_centre_in_registry("cold-broker").await;
    let desk = platform.token(&[Role::FrontDesk], &[centre]);
    assert_eq!(register(&platform, centre, &desk).await, 201);
    assert_eq!(register(&platform, centre, &desk).await, 201);

    proxy.restore();
    poll(
        "both registrations counted once the broker is back",
        Duration::from_secs(60),
        || async {
            (registered_residents(&platform, centre, &desk).await == Some(2)).then_some(())
        },
    )
    .await;
    platform.stop().await;
}

/// Restarted during a database outage, a role waits for its database instead of exiting:
/// unready (and NOT_SERVING) meanwhile, and serving once it is back, without a restart.
#[tokio::test]
async fn a_platform_started_while_the_database_is_down_serves_once_it_is_back() {
    let proxy = Proxy::start("127.0.0.1:5432".parse().expect("address")).await;
    proxy.cut().await;
    let address = proxy.address;
    let platform = TestPlatform::start_unready_with(|args| {
        args.database.database_url = format!("postgres://postgres@{address}/postgres");
    })
    .await;
    let (status, body) = poll(
        "readyz to name every role waiting",
        Duration::from_secs(20),
        || async {
            let (status, body) = readiness(&platform).await;
            (body["checks"]
                .as_object()
                .is_some_and(|c| c.len() == linli_tests::SERVICES.len()))
            .then_some((status, body))
        },
    )
    .await;
    assert_eq!(status, 503, "{body}");
    assert_eq!(
        body["checks"]["bookings"], "starting: waiting for the database",
        "{body}"
    );
    // Longer than a failed start took before: the process is still there, waiting.
    tokio::time::timeout(Duration::from_secs(3), async {
        loop {
            assert_eq!(readiness(&platform).await.0, 503);
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
    })
    .await
    .expect_err("the admin port keeps answering, unready, while the database is away");

    proxy.restore();
    platform.wait_until_ready(Duration::from_secs(60)).await;
    let centre = platform.create_centre("cold-database").await;
    let desk = platform.token(&[Role::FrontDesk], &[centre]);
    assert_eq!(register(&platform, centre, &desk).await, 201);
    assert_eq!(
        health_of(platform.bookings, linli_bookings::GRPC_SERVICE).await,
        ServingStatus::Serving
    );
    poll(
        "the registration counted",
        Duration::from_secs(30),
        || async {
            (registered_residents(&platform, centre, &desk).await == Some(1)).then_some(())
        },
    )
    .await;
    platform.stop().await;
}

/// While the database is away a request is answered 503 with `Retry-After` at once, not
/// after the pool's whole acquire timeout (5 s) per request; service health says
/// NOT_SERVING; and once the database is back the same request succeeds.
#[tokio::test]
async fn while_the_database_is_away_requests_get_503_with_retry_after_at_once_and_succeed_after() {
    let proxy = Proxy::start("127.0.0.1:5432".parse().expect("address")).await;
    let address = proxy.address;
    let platform = TestPlatform::start_with(|args| {
        args.database.database_url = format!("postgres://postgres@{address}/postgres");
    })
    .await;
    let centre = platform.create_centre("db-outage").await;
    let desk = platform.token(&[Role::FrontDesk], &[centre]);
    assert_eq!(register(&platform, centre, &desk).await, 201);

    proxy.stop_listening().await;
    poll(
        "readyz to report the database unreachable",
        Duration::from_secs(20),
        || async {
            let (status, body) = readiness(&platform).await;
            (status == 503 && body["checks"]["registry"] == "database unreachable").then_some(())
        },
    )
    .await;
    poll("registry NOT_SERVING", Duration::from_secs(10), || async {
        (registry_health(&platform).await == ServingStatus::NotServing).then_some(())
    })
    .await;
    for _ in 0..5 {
        let started = std::time::Instant::now();
        let response = platform
            .http
            .post(format!(
                "{}/v1/centres/{centre}/residents",
                platform.gateway
            ))
            .bearer_auth(&desk)
            .json(&json!({ "name": "孙八", "gender": "male", "date_of_birth": "1940-04-04", "confirm_not_duplicate": true }))
            .send()
            .await
            .expect("gateway answers");
        let waited = started.elapsed();
        assert_eq!(response.status(), 503);
        assert!(
            response.headers().contains_key("retry-after"),
            "503 says when to try again"
        );
        assert!(
            waited < Duration::from_secs(2),
            "answered without waiting for the pool's timeout: {waited:?}"
        );
    }

    proxy.restore();
    platform.wait_until_ready(Duration::from_secs(30)).await;
    assert_eq!(register(&platform, centre, &desk).await, 201);
    platform.stop().await;
}

/// `serve all`'s gateway calls the services of its own process without the network: a
/// call made while a service starts waits for it (as a connection waits in a bound
/// listener's backlog), and once the service stops a call is refused as Unavailable, as a
/// refused connection would be.
#[tokio::test]
async fn a_service_called_in_the_process_is_waited_for_while_it_starts_and_refused_once_it_stops() {
    let in_process = linli_platform::grpc::InProcess::default();
    let client = HealthClient::new(in_process.link("grpc.health.v1.Health"));
    let check = || HealthCheckRequest {
        service: String::new(),
    };
    let early = tokio::spawn({
        let mut client = client.clone();
        async move { client.check(check()).await }
    });

    let (reporter, health) = tonic_health::server::health_reporter();
    reporter
        .set_service_status("", tonic_health::ServingStatus::Serving)
        .await;
    in_process.offer(
        "grpc.health.v1.Health",
        tonic::service::Routes::new(health),
        std::sync::Arc::new(std::sync::atomic::AtomicBool::new(true)),
    );
    let answer = tokio::time::timeout(Duration::from_secs(10), early)
        .await
        .expect("the early call is answered once the service is offered")
        .expect("the call's task")
        .expect("answered")
        .into_inner();
    assert_eq!(answer.status(), ServingStatus::Serving);

    in_process.withdraw("grpc.health.v1.Health").await;
    let refused = client.clone().check(check()).await.expect_err("withdrawn");
    assert_eq!(refused.code(), tonic::Code::Unavailable, "{refused:?}");
}
