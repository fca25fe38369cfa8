//! Health tells the truth: while the broker is unreachable every service reports
//! NOT_SERVING over the gRPC health protocol and `/readyz` answers 503, and both recover
//! when it returns. Requests that need only the database keep working meanwhile, and the
//! events they commit are delivered once the broker is back.

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
    let channel = tonic::transport::Endpoint::from_shared(format!("http://{}", platform.registry))
        .expect("a valid endpoint")
        .connect()
        .await
        .expect("registry answers");
    let mut client = HealthClient::new(channel);
    let reply = client
        .check(HealthCheckRequest {
            service: linli_registry::GRPC_SERVICE.into(),
        })
        .await
        .expect("health check answers");
    reply.into_inner().status()
}

#[tokio::test]
async fn services_report_not_serving_while_the_broker_is_unreachable_and_recover_after() {
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
    let (_, body) = poll("readyz to answer 503", Duration::from_secs(20), || async {
        let (status, body) = readiness(&platform).await;
        (status == 503).then_some((status, body))
    })
    .await;
    assert_eq!(body["checks"]["registry"], "broker unreachable");
    poll("registry NOT_SERVING", Duration::from_secs(20), || async {
        (registry_health(&platform).await == ServingStatus::NotServing).then_some(())
    })
    .await;

    // The front desk keeps working: the registration and its event commit together.
    let centre = platform.create_centre("outage").await;
    let desk = platform.token(&[Role::FrontDesk], &[centre]);
    let response = platform
        .http
        .post(format!(
            "{}/v1/centres/{centre}/residents",
            platform.gateway
        ))
        .bearer_auth(&desk)
        .json(&json!({ "name": "孙八", "gender": "male", "date_of_birth": "1940-04-04" }))
        .send()
        .await
        .expect("gateway answers");
    assert_eq!(response.status(), 201);

    proxy.restore();
    poll("readyz to answer 200", Duration::from_secs(30), || async {
        (readiness(&platform).await.0 == 200).then_some(())
    })
    .await;
    poll(
        "registry SERVING again",
        Duration::from_secs(20),
        || async { (registry_health(&platform).await == ServingStatus::Serving).then_some(()) },
    )
    .await;
    poll(
        "the registration counted after the outage",
        Duration::from_secs(30),
        || async {
            let kpis: Value = platform
                .http
                .get(format!("{}/v1/centres/{centre}/kpis", platform.gateway))
                .bearer_auth(&desk)
                .send()
                .await
                .ok()?
                .json()
                .await
                .ok()?;
            (kpis["registered_residents"] == 1).then_some(())
        },
    )
    .await;
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
    in_process.offer("grpc.health.v1.Health", tonic::service::Routes::new(health));
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
