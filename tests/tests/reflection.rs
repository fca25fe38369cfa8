//! gRPC server reflection tells the truth about each listener: a service's port lists its
//! own service, health and reflection, and nothing it does not serve; the partner port
//! lists the services offered to partners. Both protocol versions answer alike: grpcurl
//! and older grpcio ask for `grpc.reflection.v1alpha`, newer clients for `v1`.

use std::collections::BTreeSet;
use std::net::SocketAddr;

use linli_tests::{TestPlatform, partner_ca, partner_channel, with_partner_tls};
use serde_json::json;
use tonic::transport::Channel;
use tonic_reflection::pb::{v1, v1alpha};

const HEALTH: &str = "grpc.health.v1.Health";
const REFLECTION: [&str; 2] = [
    "grpc.reflection.v1.ServerReflection",
    "grpc.reflection.v1alpha.ServerReflection",
];
const SERVICES: [&str; 5] = [
    "linli.registry.v1.Registry",
    "linli.bookings.v1.Bookings",
    "linli.volunteers.v1.Volunteers",
    "linli.finance.v1.Finance",
    "linli.evaluation.v1.Evaluation",
];

/// What a version of the protocol answers about one request.
#[derive(Debug, PartialEq)]
enum Answer {
    Services(BTreeSet<String>),
    Files(usize),
    NotFound,
}

async fn ask_v1(
    channel: &Channel,
    request: v1::server_reflection_request::MessageRequest,
) -> Answer {
    use v1::server_reflection_response::MessageResponse;
    let mut client = v1::server_reflection_client::ServerReflectionClient::new(channel.clone());
    let request = v1::ServerReflectionRequest {
        host: String::new(),
        message_request: Some(request),
    };
    let mut answers = client
        .server_reflection_info(futures::stream::iter([request]))
        .await
        .expect("v1 reflection is served")
        .into_inner();
    // tonic's server answers an unknown symbol with a status, not an ErrorResponse.
    let answer = match answers.message().await {
        Ok(answer) => answer.expect("one answer per request"),
        Err(status) if status.code() == tonic::Code::NotFound => return Answer::NotFound,
        Err(status) => panic!("reflection failed: {status}"),
    };
    match answer.message_response.expect("a response") {
        MessageResponse::ListServicesResponse(list) => {
            Answer::Services(list.service.into_iter().map(|s| s.name).collect())
        }
        MessageResponse::FileDescriptorResponse(files) => {
            Answer::Files(files.file_descriptor_proto.len())
        }
        MessageResponse::ErrorResponse(error)
            if error.error_code == tonic::Code::NotFound as i32 =>
        {
            Answer::NotFound
        }
        other => panic!("unexpected v1 answer: {other:?}"),
    }
}

async fn ask_v1alpha(
    channel: &Channel,
    request: v1alpha::server_reflection_request::MessageRequest,
) -> Answer {
    use v1alpha::server_reflection_response::MessageResponse;
    let mut client =
        v1alpha::server_reflection_client::ServerReflectionClient::new(channel.clone());
    let request = v1alpha::ServerReflectionRequest {
        host: String::new(),
        message_request: Some(request),
    };
    let mut answers = client
        .server_reflection_info(futures::stream::iter([request]))
        .await
        .expect("v1alpha reflection is served")
        .into_inner();
    // tonic's server answers an unknown symbol with a status, not an ErrorResponse.
    let answer = match answers.message().await {
        Ok(answer) => answer.expect("one answer per request"),
        Err(status) if status.code() == tonic::Code::NotFound => return Answer::NotFound,
        Err(status) => panic!("reflection failed: {status}"),
    };
    match answer.message_response.expect("a response") {
        MessageResponse::ListServicesResponse(list) => {
            Answer::Services(list.service.into_iter().map(|s| s.name).collect())
        }
        MessageResponse::FileDescriptorResponse(files) => {
            Answer::Files(files.file_descriptor_proto.len())
        }
        MessageResponse::ErrorResponse(error)
            if error.error_code == tonic::Code::NotFound as i32 =>
        {
            Answer::NotFound
        }
        other => panic!("unexpected v1alpha answer: {other:?}"),
    }
}

/// The services listed, asked over each version; both must agree.
async fn listed(channel: &Channel) -> BTreeSet<String> {
    let by_v1 = ask_v1(
        channel,
        v1::server_reflection_request::MessageRequest::ListServices(String::new()),
    )
    .await;
    let by_v1alpha = ask_v1alpha(
        channel,
        v1alpha::server_reflection_request::MessageRequest::ListServices(String::new()),
    )
    .await;
    assert_eq!(by_v1, by_v1alpha, "the two versions list the same services");
    match by_v1 {
        Answer::Services(names) => names,
        other => panic!("not a list: {other:?}"),
    }
}

/// Whether each version finds the file that defines `symbol`; both must agree.
async fn resolves(channel: &Channel, symbol: &str) -> bool {
    let by_v1 = ask_v1(
        channel,
        v1::server_reflection_request::MessageRequest::FileContainingSymbol(symbol.to_owned()),
    )
    .await;
    let by_v1alpha = ask_v1alpha(
        channel,
        v1alpha::server_reflection_request::MessageRequest::FileContainingSymbol(symbol.to_owned()),
    )
    .await;
    assert_eq!(by_v1, by_v1alpha, "the two versions agree on {symbol}");
    match by_v1 {
        Answer::Files(n) => n > 0,
        Answer::NotFound => false,
        other => panic!("not a file answer: {other:?}"),
    }
}

async fn channel(address: SocketAddr) -> Channel {
    tonic::transport::Endpoint::from_shared(format!("http://{address}"))
        .expect("a valid endpoint")
        .connect()
        .await
        .expect("the port accepts")
}

fn names<'a>(names: impl IntoIterator<Item = &'a str>) -> BTreeSet<String> {
    names.into_iter().map(str::to_owned).collect()
}

#[tokio::test]
async fn each_service_port_lists_only_its_own_service_health_and_reflection_over_v1_and_v1alpha() {
    let platform = TestPlatform::start().await;
    let ports = [
        platform.registry,
        platform.bookings,
        platform.volunteers,
        platform.finance,
        platform.evaluation,
    ];
    for (service, port) in SERVICES.into_iter().zip(ports) {
        let channel = channel(port).await;
        let expected = names([service, HEALTH].into_iter().chain(REFLECTION));
        assert_eq!(listed(&channel).await, expected, "port of {service}");
        for symbol in [service, HEALTH, REFLECTION[0], REFLECTION[1]] {
            assert!(
                resolves(&channel, symbol).await,
                "{service}'s port describes {symbol}"
            );
        }
        for other in SERVICES.into_iter().filter(|s| *s != service) {
            assert!(
                !resolves(&channel, other).await,
                "{service}'s port describes {other}, which it does not serve"
            );
        }
    }
    platform.stop().await;
}

#[tokio::test]
async fn the_partner_port_lists_the_services_offered_to_partners_and_no_health() {
    let mut dir = Default::default();
    let platform = TestPlatform::start_with(|args| dir = with_partner_tls(args)).await;
    let centre = platform.bookable_centre("Asia/Shanghai").await;
    let admin = platform.admin_token();
    // Only a partner with an agreement in force gets past the listener's door.
    let (status, partner) = platform
        .post_json(
            &admin,
            "/v1/partners",
            &json!({ "name": "助老服务社", "kind": "enterprise", "contacts": [{ "name": "王经理", "phone": "13800138000" }] }),
            None,
        )
        .await;
    assert!(status.is_success(), "{status} {partner}");
    let partner = partner["id"].as_str().expect("partner id").to_owned();
    let today = (chrono::Utc::now() + chrono::Duration::hours(8)).date_naive();
    let (status, agreement) = platform
        .post_json(
            &admin,
            &format!("/v1/partners/{partner}/agreements"),
            &json!({
                "centre_id": centre, "provides": "送餐服务", "scopes": ["bookings.bookings:read"],
                "valid_from": (today - chrono::Duration::days(1)).to_string(),
                "valid_until": (today + chrono::Duration::days(365)).to_string(),
            }),
            None,
        )
        .await;
    assert!(status.is_success(), "{status} {agreement}");
    let issued = partner_ca(&dir)
        .issue_client("partner-system", 30)
        .expect("a certificate");
    let (status, credential) = platform
        .post_json(
            &admin,
            &format!("/v1/partners/{partner}/credentials"),
            &json!({ "certificate_pem": issued.certificate_pem }),
            None,
        )
        .await;
    assert!(status.is_success(), "{status} {credential}");
    let channel = partner_channel(&platform, &dir, Some(&issued))
        .await
        .expect("the partner port accepts the certificate");

    let expected = names(SERVICES.into_iter().chain(REFLECTION));
    assert_eq!(listed(&channel).await, expected);
    assert!(
        !resolves(&channel, HEALTH).await,
        "health is not served here"
    );
    assert!(resolves(&channel, SERVICES[1]).await);
    std::fs::remove_dir_all(&dir).ok();
    platform.stop().await;
}
