//! What the operators watch agrees with what Linli exports: every metric the alerting
//! rules (k8s/components/alerts) and the Grafana dashboards (k8s/components/dashboards)
//! name is in the `/metrics` of a running platform that has served a booking, except the
//! operators' own exporters' metrics, listed here one by one; and `/metrics` served as
//! OpenMetrics carries a request's trace id as an exemplar of its duration's bucket; and
//! the services keep a caller's sampling decision (parent-based sampling).
//! (promtool parses the same expressions: deploy/monitoring-check.sh.) In its own test
//! binary because it installs the process-wide subscriber, without which no span has a
//! trace id.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::Duration;

use linli_platform::auth::Role;
use linli_tests::{TestPlatform, poll, with_partner_tls};
use opentelemetry_sdk::trace::{InMemorySpanExporter, SdkTracerProvider};
use serde::Deserialize as _;
use serde_json::{Value, json};
use tracing_subscriber::fmt::writer::BoxMakeWriter;
use uuid::Uuid;

/// Metrics of RabbitMQ's Prometheus plugin and of CloudNativePG's exporter that the rules
/// and dashboards read: not Linli's to export, so checked against this list instead.
const OPERATOR_METRICS: &[&str] = &[
    "rabbitmq_detailed_queue_consumers",
    "rabbitmq_detailed_queue_info",
    "rabbitmq_detailed_queue_messages",
    "rabbitmq_detailed_queue_messages_ready",
    "cnpg_pg_replication_lag",
];

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ sits in the workspace")
        .to_path_buf()
}

/// Installs the process's subscriber once, exporting to memory with the SDK's default
/// sampler (parent-based, always on at a root: what the services run with), and returns
/// the exporter.
fn install_tracing() -> InMemorySpanExporter {
    static EXPORTER: OnceLock<InMemorySpanExporter> = OnceLock::new();
    EXPORTER
        .get_or_init(|| {
            let exporter = InMemorySpanExporter::default();
            linli_platform::telemetry::install_to(
                SdkTracerProvider::builder()
                    .with_simple_exporter(exporter.clone())
                    .build(),
                "info,sqlx=warn",
                false,
                BoxMakeWriter::new(std::io::sink),
            )
            .expect("subscriber installs");
            exporter
        })
        .clone()
}

/// Every PromQL expression of the alerting rules and the dashboards, with where it is.
fn expressions() -> Vec<(String, String)> {
    let mut found = Vec::new();
    let alerts = workspace().join("k8s/components/alerts");
    for entry in std::fs::read_dir(&alerts).expect("the alerts component") {
        let path = entry.expect("a file").path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if !name.ends_with(".yaml") || name == "kustomization.yaml" {
            continue;
        }
        let text = std::fs::read_to_string(&path).expect("readable");
        for document in serde_yaml_ng::Deserializer::from_str(&text) {
            let rule: Value = serde_json::to_value(
                serde_yaml_ng::Value::deserialize(document).expect("valid YAML"),
            )
            .expect("YAML maps to JSON");
            for group in rule["spec"]["groups"].as_array().into_iter().flatten() {
                for rule in group["rules"].as_array().into_iter().flatten() {
                    let what = rule["alert"].as_str().or(rule["record"].as_str());
                    found.push((
                        format!("{name}: {}", what.unwrap_or("?")),
                        rule["expr"]
                            .as_str()
                            .expect("every rule has expr")
                            .to_owned(),
                    ));
                }
            }
        }
    }
    let dashboards = workspace().join("k8s/components/dashboards");
    for entry in std::fs::read_dir(&dashboards).expect("the dashboards component") {
        let path = entry.expect("a file").path();
        if path.extension().is_none_or(|e| e != "json") {
            continue;
        }
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let dashboard: Value =
            serde_json::from_str(&std::fs::read_to_string(&path).expect("readable"))
                .expect("a JSON dashboard");
        let mut panels: Vec<&Value> = dashboard["panels"].as_array().unwrap().iter().collect();
        while let Some(panel) = panels.pop() {
            panels.extend(panel["panels"].as_array().into_iter().flatten());
            for target in panel["targets"].as_array().into_iter().flatten() {
                if let Some(expr) = target["expr"].as_str() {
                    found.push((format!("{name}: {}", panel["title"]), expr.to_owned()));
                }
            }
        }
    }
    assert!(found.len() > 50, "only {} expressions found", found.len());
    found
}

/// The metric names an expression reads: identifiers that are not inside a string, not
/// a function or keyword (followed by `(`, or PromQL's `by`, `on`, ...), not a label name
/// (followed by `=`, `!`, `~` or inside a grouping's parentheses), and not a recording
/// rule (with a colon).
fn metric_names(expr: &str) -> BTreeSet<String> {
    const KEYWORDS: &[&str] = &[
        "by",
        "without",
        "on",
        "ignoring",
        "group_left",
        "group_right",
        "and",
        "or",
        "unless",
        "bool",
        "offset",
        "inf",
        "nan", // and the aggregations, which `by` may follow:
        "sum",
        "min",
        "max",
        "avg",
        "count",
        "group",
        "stddev",
        "stdvar",
        "topk",
        "bottomk",
        "quantile",
        "count_values",
    ];
    let mut names = BTreeSet::new();
    let chars: Vec<char> = expr.chars().collect();
    let (mut i, mut in_string, mut braces, mut grouping) = (0, None, 0, false);
    while i < chars.len() {
        let c = chars[i];
        if let Some(quote) = in_string {
            if c == '\\' {
                i += 1;
            } else if c == quote {
                in_string = None;
            }
            i += 1;
            continue;
        }
        match c {
            '"' | '\'' | '`' => in_string = Some(c),
            '{' => braces += 1,
            '}' => braces -= 1,
            ')' => grouping = false,
            c if c.is_ascii_alphabetic() || c == '_' || c == ':' => {
                let start = i;
                while i < chars.len()
                    && (chars[i].is_ascii_alphanumeric() || "_:".contains(chars[i]))
                {
                    i += 1;
                }
                let word: String = chars[start..i].iter().collect();
                let next = chars[i..].iter().find(|c| !c.is_whitespace());
                // `5m` in a range, or a Grafana variable such as `$__rate_interval`.
                let is_duration =
                    start > 0 && (chars[start - 1].is_ascii_digit() || chars[start - 1] == '$');
                if KEYWORDS.contains(&word.as_str()) {
                    grouping = matches!(
                        word.as_str(),
                        "by" | "without" | "on" | "ignoring" | "group_left" | "group_right"
                    );
                } else if braces == 0
                    && !grouping
                    && !is_duration
                    && next != Some(&'(')
                    && !word.contains(':')
                {
                    names.insert(word);
                }
                continue;
            }
            _ => {}
        }
        i += 1;
    }
    names
}

/// The sample names in a Prometheus text exposition.
fn exported(metrics: &str) -> BTreeSet<String> {
    metrics
        .lines()
        .filter(|line| !line.starts_with('#') && !line.trim().is_empty())
        .map(|line| {
            line.split(['{', ' '])
                .next()
                .expect("a sample has a name")
                .to_owned()
        })
        .collect()
}

async fn metrics_text(platform: &TestPlatform, accept: Option<&str>) -> (String, String) {
    let mut request = platform
        .http
        .get(format!("http://{}/metrics", platform.admin));
    if let Some(accept) = accept {
        request = request.header("accept", accept);
    }
    let response = request.send().await.expect("the admin port answers");
    let content_type = response.headers()["content-type"]
        .to_str()
        .expect("text")
        .to_owned();
    (content_type, response.text().await.expect("a body"))
}

/// A centre, a resident, an offering and a session there; the token of its manager.
async fn bookable_session(platform: &TestPlatform) -> (Uuid, String, Value) {
    let centre = platform.bookable_centre("Asia/Shanghai").await;
    let token = platform.token(&[Role::CentreManager], &[centre]);
    let (status, resident) = platform
        .post_json(
            &token,
            &format!("/v1/centres/{centre}/residents"),
            &json!({ "name": "王五", "gender": "male", "date_of_birth": "1950-03-01" }),
            None,
        )
        .await;
    assert_eq!(status, 201, "{resident}");
    let resident = resident["id"].as_str().expect("resident id").to_owned();
    platform
        .wait_for_residents_in_bookings(&[resident.parse().expect("uuid")])
        .await;
    let (status, offering) = platform
        .post_json(
            &token,
            &format!("/v1/centres/{centre}/offerings"),
            &json!({ "category": "life_services", "kind": "event", "name": "健康讲座", "capacity": 20 }),
            None,
        )
        .await;
    assert_eq!(status, 201, "{offering}");
    let starts = chrono::Utc::now() + chrono::Duration::days(2);
    let (status, session) = platform
        .post_json(
            &token,
            &format!("/v1/centres/{centre}/sessions"),
            &json!({ "offering_id": offering["id"], "starts_at": starts.to_rfc3339(),
                     "ends_at": (starts + chrono::Duration::hours(1)).to_rfc3339() }),
            None,
        )
        .await;
    assert_eq!(status, 201, "{session}");
    let booking = json!({ "offering_id": offering["id"], "resident_id": resident,
                          "session_id": session["id"] });
    (centre, token, booking)
}

#[tokio::test]
async fn every_metric_the_alerts_and_dashboards_read_is_one_linli_exports() {
    install_tracing();
    // With the partner listener, whose certificates' expiry an alert reads.
    let mut partner_dir = None;
    let platform =
        TestPlatform::start_with(|args| partner_dir = Some(with_partner_tls(args))).await;
    let (centre, token, booking) = bookable_session(&platform).await;
    let (status, body) = platform
        .post_json(
            &token,
            &format!("/v1/centres/{centre}/bookings"),
            &booking,
            None,
        )
        .await;
    assert_eq!(status, 201, "{body}");

    // The relay counts the booking's event for its centre; finance has applied events.
    let counted = format!(
        r#"linli_centre_events_total{{centre="{centre}",routing_key="bookings.booking.confirmed"}}"#
    );
    let metrics = poll(
        "the booking's event counted, an event's lag observed",
        Duration::from_secs(30),
        || async {
            let (_, metrics) = metrics_text(&platform, None).await;
            (metrics.contains(&counted)
                && metrics.contains(r#"linli_event_lag_seconds_bucket{consumer="finance""#))
            .then_some(metrics)
        },
    )
    .await;
    let exported = exported(&metrics);

    let mut missing = Vec::new();
    let mut read = BTreeSet::new();
    for (place, expr) in expressions() {
        for name in metric_names(&expr) {
            read.insert(name.clone());
            let known = if name.starts_with("linli_") {
                exported.contains(&name)
            } else {
                OPERATOR_METRICS.contains(&name.as_str())
            };
            if !known {
                missing.push(format!("{place}: {name}"));
            }
        }
    }
    assert!(
        missing.is_empty(),
        "metrics read but not exported:\n{}",
        missing.join("\n")
    );
    // The list of the operators' metrics holds nothing the rules and dashboards dropped.
    for name in OPERATOR_METRICS {
        assert!(read.contains(*name), "{name} is listed but read nowhere");
    }
    // The SLOs' thresholds are bucket bounds, written as the rules match them.
    for bucket in [
        r#"linli_http_request_duration_seconds_bucket{method="POST",route="/v1/centres/{centre_id}/bookings",le="0.2"}"#,
        r#"linli_event_lag_seconds_bucket{consumer="finance",le="2"}"#,
    ] {
        assert!(metrics.contains(bucket), "no {bucket} in:\n{metrics}");
    }
    platform.stop().await;
    if let Some(dir) = partner_dir {
        let _ = std::fs::remove_dir_all(dir);
    }
}

#[test]
fn metric_names_are_read_from_expressions_without_functions_labels_or_rules() {
    let names = metric_names(
        r#"sum by (namespace, consumer) (label_replace(rabbitmq_detailed_queue_messages{queue=~".+\\.dead"}, "consumer", "$1", "queue", "x")) > 0
           unless on (consumer) slo:event_lag_bad:ratio_rate5m / ignoring (state) linli_db_pool_max_connections
           or histogram_quantile(0.99, sum by (le) (rate(linli_http_request_duration_seconds_bucket{route="a"}[5m]))) * 21 * 86400 - time()"#,
    );
    assert_eq!(
        names.into_iter().collect::<Vec<_>>(),
        [
            "linli_db_pool_max_connections",
            "linli_http_request_duration_seconds_bucket",
            "rabbitmq_detailed_queue_messages"
        ]
    );
}

#[tokio::test]
async fn a_request_leaves_its_trace_id_as_an_openmetrics_exemplar() {
    install_tracing();
    let platform = TestPlatform::start().await;
    let centre = platform.create_centre("exemplar").await;
    let desk = platform.token(&[Role::FrontDesk], &[centre]);
    // The caller's trace, which the gateway and the registry continue.
    let trace_id = Uuid::new_v4().simple().to_string();
    let response = platform
        .http
        .get(format!(
            "{}/v1/centres/{centre}/residents",
            platform.gateway
        ))
        .bearer_auth(&desk)
        .header("traceparent", format!("00-{trace_id}-00f067aa0ba902b7-01"))
        .send()
        .await
        .expect("the gateway answers");
    assert_eq!(response.status(), 200);

    let exemplar = format!(r#" # {{trace_id="{trace_id}"}} "#);
    let (content_type, metrics) = metrics_text(
        &platform,
        Some("application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5"),
    )
    .await;
    assert!(
        content_type.starts_with("application/openmetrics-text; version=1.0.0"),
        "{content_type}"
    );
    assert!(metrics.ends_with("# EOF\n"), "OpenMetrics ends with # EOF");
    // The gateway's bucket for this route, and the registry's for the call it made.
    for series in [
        r#"linli_http_request_duration_seconds_bucket{method="GET",route="/v1/centres/{centre_id}/residents","#,
        r#"linli_rpc_duration_seconds_bucket{method="ListResidents","#,
    ] {
        let lines: Vec<&str> = metrics
            .lines()
            .filter(|line| line.starts_with(series) && line.contains(&exemplar))
            .collect();
        assert_eq!(
            lines.len(),
            1,
            "one bucket of {series} has the trace:\n{metrics}"
        );
        // The exemplar's value lies within its bucket.
        let line = lines[0];
        let le: f64 = line
            .split("le=\"")
            .nth(1)
            .and_then(|rest| rest.split('"').next())
            .and_then(|le| {
                if le == "+Inf" {
                    Some(f64::INFINITY)
                } else {
                    le.parse().ok()
                }
            })
            .expect("a bucket bound");
        let value: f64 = line
            .split(&exemplar)
            .nth(1)
            .and_then(|rest| rest.split(' ').next())
            .and_then(|v| v.parse().ok())
            .expect("an exemplar value");
        assert!(value > 0.0 && value <= le, "{line}");
    }
    // Counters are named as OpenMetrics names them, and the plain format has no exemplars.
    assert!(metrics.contains("# TYPE linli_http_requests counter\n"));
    let (content_type, plain) = metrics_text(&platform, None).await;
    assert!(
        content_type.starts_with("text/plain; version=0.0.4"),
        "{content_type}"
    );
    assert!(!plain.contains(&exemplar));
    platform.stop().await;
}

#[tokio::test]
async fn a_callers_sampling_decision_is_kept_and_a_booking_is_a_handful_of_spans() {
    let exporter = install_tracing();
    let platform = TestPlatform::start().await;
    let (centre, token, booking) = bookable_session(&platform).await;
    let spans_of = |trace_id: &str| {
        exporter
            .get_finished_spans()
            .expect("spans")
            .into_iter()
            .filter(|span| span.span_context.trace_id().to_string() == trace_id)
            .collect::<Vec<_>>()
    };

    // A caller that did not sample its trace (flags 00): nothing of it is recorded.
    let unsampled = Uuid::new_v4().simple().to_string();
    let response = platform
        .http
        .get(format!("{}/v1/centres/{centre}/bookings", platform.gateway))
        .bearer_auth(&token)
        .header("traceparent", format!("00-{unsampled}-00f067aa0ba902b7-00"))
        .send()
        .await
        .expect("the gateway answers");
    assert_eq!(response.status(), 200);

    // A caller that sampled it (flags 01), making a booking: the gateway, the bookings
    // service and the relay's publish are in its trace.
    let sampled = Uuid::new_v4().simple().to_string();
    let response = platform
        .http
        .post(format!("{}/v1/centres/{centre}/bookings", platform.gateway))
        .bearer_auth(&token)
        .header("traceparent", format!("00-{sampled}-00f067aa0ba902b7-01"))
        .json(&booking)
        .send()
        .await
        .expect("the gateway answers");
    assert_eq!(response.status(), 201);
    let spans = poll(
        "the booking's event published in its trace",
        Duration::from_secs(15),
        || async {
            let spans = spans_of(&sampled);
            spans
                .iter()
                .any(|span| span.name == "bookings.booking.confirmed publish")
                .then_some(spans)
        },
    )
    .await;
    let names: BTreeSet<String> = spans.iter().map(|span| span.name.to_string()).collect();
    assert!(
        names.contains("POST /v1/centres/{centre_id}/bookings")
            && names.contains("linli.bookings.v1.Bookings/CreateBooking"),
        "{names:?}"
    );
    // deploy/README.md's trace budget counts this (the test prints it with --nocapture).
    println!("a booking's trace: {} spans: {names:?}", spans.len());
    assert!(
        spans.len() <= 12,
        "a booking is {} spans: {names:?}",
        spans.len()
    );
    // Recorded after the unsampled request ended, so that one had its chance too.
    assert!(
        spans_of(&unsampled).is_empty(),
        "an unsampled caller's trace was recorded"
    );
    platform.stop().await;
}
