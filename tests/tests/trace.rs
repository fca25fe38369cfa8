//! One request, one trace: the gateway's span, its client span for the gRPC call, the
//! registry's span and the evaluation consumer's span for the same registration share the
//! caller's trace id, each under the one that caused it; the broker client's own
//! connection loop exports nothing. In its own test
//! binary because it installs the process-wide subscriber with an in-memory exporter.

use std::time::Duration;

use linli_platform::auth::Role;
use linli_tests::{TestPlatform, poll};
use opentelemetry::trace::SpanKind;
use opentelemetry_sdk::trace::{InMemorySpanExporter, SdkTracerProvider};
use serde_json::json;

#[tokio::test]
async fn one_trace_covers_the_gateway_the_registry_and_the_evaluation_consumer() {
    let exporter = InMemorySpanExporter::default();
    let provider = SdkTracerProvider::builder()
        .with_simple_exporter(exporter.clone())
        .build();
    linli_platform::telemetry::install(provider, "info,sqlx=warn", false)
        .expect("subscriber installs");

    let platform = TestPlatform::start().await;
    let centre = platform.create_centre("trace").await;
    let desk = platform.token(&[Role::FrontDesk], &[centre]);
    let trace_id = "4bf92f3577b34da6a3ce929d0e0e4736";
    let response = platform
        .http
        .post(format!(
            "{}/v1/centres/{centre}/residents",
            platform.gateway
        ))
        .bearer_auth(&desk)
        .header("traceparent", format!("00-{trace_id}-00f067aa0ba902b7-01"))
        .json(&json!({ "name": "钱七", "gender": "female", "date_of_birth": "1948-08-08" }))
        .send()
        .await
        .expect("gateway answers");
    assert_eq!(response.status(), 201);

    let spans = poll(
        "the evaluation consumer's span",
        Duration::from_secs(15),
        || async {
            let spans = exporter.get_finished_spans().expect("spans");
            spans
                .iter()
                .any(|s| {
                    s.name == "registry.resident.registered process"
                        && s.span_context.trace_id().to_string() == trace_id
                })
                .then_some(spans)
        },
    )
    .await;
    let in_trace = |name: &str, kind: SpanKind| {
        spans.iter().any(|s| {
            s.name == name
                && s.span_kind == kind
                && s.span_context.trace_id().to_string() == trace_id
        })
    };
    assert!(
        in_trace("POST /v1/centres/{centre_id}/residents", SpanKind::Server),
        "gateway span"
    );
    assert!(
        in_trace(
            "linli.registry.v1.Registry/CreateResident",
            SpanKind::Server
        ),
        "registry span"
    );
    // The gateway's call is a client span: the HTTP span, then the call, then the
    // registry's server span under it.
    let named = |name: &str, kind: SpanKind| {
        spans
            .iter()
            .find(|s| {
                s.name == name
                    && s.span_kind == kind
                    && s.span_context.trace_id().to_string() == trace_id
            })
            .unwrap_or_else(|| panic!("a {kind:?} span named {name}"))
    };
    let http = named("POST /v1/centres/{centre_id}/residents", SpanKind::Server);
    let call = named(
        "linli.registry.v1.Registry/CreateResident",
        SpanKind::Client,
    );
    let served = named(
        "linli.registry.v1.Registry/CreateResident",
        SpanKind::Server,
    );
    assert_eq!(
        call.parent_span_id,
        http.span_context.span_id(),
        "the call under the request"
    );
    assert_eq!(
        served.parent_span_id,
        call.span_context.span_id(),
        "the service under the call"
    );
    // The broker client's connection loop is no trace of its own.
    assert!(
        !spans.iter().any(|s| s.name == "io_loop"),
        "no io_loop span is exported"
    );
    assert!(
        in_trace("registry.resident.registered publish", SpanKind::Producer),
        "relay span"
    );
    assert!(
        in_trace("registry.resident.registered process", SpanKind::Consumer),
        "evaluation consumer span"
    );
    platform.stop().await;
}
