//! Prometheus metrics for every process, served at `/metrics` on the admin port: the
//! Prometheus text format, or OpenMetrics when the scraper asks for it, where the
//! request-duration histograms carry the trace id of a request in each bucket as an
//! exemplar (so a slow bucket on a chart links to its trace). One registry per process:
//! `serve all` reports every role's series with a `service` label.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::sync::{LazyLock, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

use opentelemetry::trace::TraceContextExt as _;
use prometheus::core::Collector as _;
use prometheus::proto::MetricType;
use tracing::Span;
use tracing_opentelemetry::OpenTelemetrySpanExt as _;

use prometheus::{
    Encoder, GaugeVec, HistogramVec, IntCounterVec, IntGaugeVec, TextEncoder, register_gauge_vec,
    register_histogram_vec, register_int_counter_vec, register_int_gauge_vec,
};

/// Bucket bounds include the SLO thresholds (k8s/components/alerts): 0.2 s for booking
/// latency and 2 s for event lag, so each SLO's good events are one bucket's count.
const LATENCY_BUCKETS: &[f64] = &[
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.2, 0.25, 0.5, 1.0, 2.0, 2.5, 5.0,
];

/// gRPC requests by service, method and status code.
pub static RPC_REQUESTS: LazyLock<IntCounterVec> = LazyLock::new(|| {
    register_int_counter_vec!(
        "linli_rpc_requests_total",
        "gRPC requests handled, by method and status code",
        &["service", "method", "code"]
    )
    .expect("metric names are static and registered once")
});

pub static RPC_DURATION: LazyLock<HistogramVec> = LazyLock::new(|| {
    register_histogram_vec!(
        "linli_rpc_duration_seconds",
        "gRPC request duration",
        &["service", "method"],
        LATENCY_BUCKETS.to_vec()
    )
    .expect("metric names are static and registered once")
});

pub static HTTP_REQUESTS: LazyLock<IntCounterVec> = LazyLock::new(|| {
    register_int_counter_vec!(
        "linli_http_requests_total",
        "HTTP requests at the gateway, by route and status",
        &["method", "route", "status"]
    )
    .expect("metric names are static and registered once")
});

pub static HTTP_DURATION: LazyLock<HistogramVec> = LazyLock::new(|| {
    register_histogram_vec!(
        "linli_http_request_duration_seconds",
        "HTTP request duration at the gateway",
        &["method", "route"],
        LATENCY_BUCKETS.to_vec()
    )
    .expect("metric names are static and registered once")
});

/// Whether a role's database and broker answered its last probe (1) or not (0).
pub static DEPENDENCY_UP: LazyLock<IntGaugeVec> = LazyLock::new(|| {
    register_int_gauge_vec!(
        "linli_dependency_up",
        "Whether the role's database or broker answered its last probe",
        &["service", "dependency"]
    )
    .expect("metric names are static and registered once")
});

/// Pooled database connections closed because they were found inside a transaction
/// block (see `db::pool_options`): each one is a cancelled request that would otherwise
/// have leaked its transaction to the next borrower.
pub static DISCARDED_CONNECTIONS: LazyLock<IntCounterVec> = LazyLock::new(|| {
    let counter = register_int_counter_vec!(
        "linli_db_connections_discarded_total",
        "Pooled connections closed because they were inside a transaction block, by when found",
        &["when"]
    )
    .expect("metric names are static and registered once");
    // Reported as 0 from the start, so a rate of this rare event is never "no data".
    for when in ["acquire", "release"] {
        counter.with_label_values(&[when]);
    }
    counter
});

/// Outbox rows not yet confirmed by the broker, after the relay's last pass.
pub static OUTBOX_BACKLOG: LazyLock<IntGaugeVec> = LazyLock::new(|| {
    register_int_gauge_vec!(
        "linli_outbox_backlog",
        "Events committed but not yet confirmed by the broker",
        &["service"]
    )
    .expect("metric names are static and registered once")
});

/// Age of the oldest outbox row not yet confirmed by the broker, as of each scrape: from
/// [`outbox_looked`], so a relay that stops looking shows as a growing age too.
pub static OUTBOX_OLDEST_AGE: LazyLock<GaugeVec> = LazyLock::new(|| {
    register_gauge_vec!(
        "linli_outbox_oldest_unpublished_age_seconds",
        "Age of the oldest event committed but not yet confirmed by the broker",
        &["service"]
    )
    .expect("metric names are static and registered once")
});

/// Per service, since when (Unix seconds) its outbox has waited, as the relay last saw it.
static OUTBOX_WAITING_SINCE: LazyLock<Mutex<HashMap<String, f64>>> = LazyLock::new(Mutex::default);

/// What the relay of `service` found: when the oldest event not yet confirmed was
/// recorded, or none. With none, it waits since now: were the relay to stop looking (a
/// pass that hangs), the age grows from here and the alert on it fires all the same.
pub fn outbox_looked(service: &str, oldest_unpublished: Option<f64>) {
    let since = oldest_unpublished.unwrap_or_else(unix_now);
    OUTBOX_WAITING_SINCE
        .lock()
        .expect("the outbox lock is never poisoned: no panics under it")
        .insert(service.to_owned(), since);
}

/// Sets every service's outbox age for this scrape.
fn refresh_outbox_ages() {
    let now = unix_now();
    let waiting = OUTBOX_WAITING_SINCE
        .lock()
        .expect("the outbox lock is never poisoned: no panics under it");
    for (service, since) in waiting.iter() {
        OUTBOX_OLDEST_AGE
            .with_label_values(&[service])
            .set((now - since).max(0.0));
    }
}

fn unix_now() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0.0, |since| since.as_secs_f64())
}

/// A service's request pool, by state (`in_use`, `idle`), at its last readiness probe.
pub static DB_POOL_CONNECTIONS: LazyLock<IntGaugeVec> = LazyLock::new(|| {
    register_int_gauge_vec!(
        "linli_db_pool_connections",
        "Connections of the service's database pool, by state (in_use, idle)",
        &["service", "state"]
    )
    .expect("metric names are static and registered once")
});

pub static DB_POOL_MAX: LazyLock<IntGaugeVec> = LazyLock::new(|| {
    register_int_gauge_vec!(
        "linli_db_pool_max_connections",
        "The most connections the service's database pool opens",
        &["service"]
    )
    .expect("metric names are static and registered once")
});

/// Times a role's readiness (its database answering) changed: a flapping pod is taken
/// out of and put back into its Service again and again.
pub static READINESS_CHANGES: LazyLock<IntCounterVec> = LazyLock::new(|| {
    register_int_counter_vec!(
        "linli_readiness_changes_total",
        "Times the role's readiness (its database answering its probe) changed",
        &["service"]
    )
    .expect("metric names are static and registered once")
});

/// When the partner listener's certificates stop being valid (Unix seconds): its own
/// (`listener`) and the CA's that signs partners' certificates (`client_ca`).
pub static PARTNER_CERT_EXPIRY: LazyLock<IntGaugeVec> = LazyLock::new(|| {
    register_int_gauge_vec!(
        "linli_partner_tls_certificate_expiry_timestamp_seconds",
        "When the partner listener's certificate or its client CA's expires, Unix seconds",
        &["certificate"]
    )
    .expect("metric names are static and registered once")
});

/// Outbox relay passes that found events, by part: `pass` (taking the rows to marking
/// them sent) and `confirms` (publishing them until the broker confirmed every one).
pub static RELAY_PASS: LazyLock<HistogramVec> = LazyLock::new(|| {
    register_histogram_vec!(
        "linli_relay_pass_seconds",
        "Outbox relay passes that found events: the whole pass, and publishing until confirmed",
        &["service", "part"],
        LATENCY_BUCKETS.to_vec()
    )
    .expect("metric names are static and registered once")
});

/// Events the relay published, by outcome: `confirmed`, `unroutable`, `failed`.
pub static EVENTS_PUBLISHED: LazyLock<IntCounterVec> = LazyLock::new(|| {
    register_int_counter_vec!(
        "linli_events_published_total",
        "Events published from the outbox, by outcome",
        &["service", "outcome"]
    )
    .expect("metric names are static and registered once")
});

/// Events the broker confirmed that name a centre, by routing key and centre: what each
/// centre of the district does (bookings confirmed, cancelled, attended), for the
/// district dashboard. A district has tens of centres, so the series stay few.
pub static CENTRE_EVENTS: LazyLock<IntCounterVec> = LazyLock::new(|| {
    register_int_counter_vec!(
        "linli_centre_events_total",
        "Events published that name a centre, by routing key and centre id",
        &["routing_key", "centre"]
    )
    .expect("metric names are static and registered once")
});

/// Deliveries a consumer handled, by outcome: `applied`, `duplicate`, `retried`,
/// `dead_lettered`.
pub static EVENTS_CONSUMED: LazyLock<IntCounterVec> = LazyLock::new(|| {
    register_int_counter_vec!(
        "linli_events_consumed_total",
        "Event deliveries handled, by consumer and outcome",
        &["consumer", "outcome"]
    )
    .expect("metric names are static and registered once")
});

pub static EVENTS_REDELIVERED: LazyLock<IntCounterVec> = LazyLock::new(|| {
    register_int_counter_vec!(
        "linli_events_redelivered_total",
        "Deliveries the broker marked as redelivered",
        &["consumer"]
    )
    .expect("metric names are static and registered once")
});

/// Seconds from an event's commit to the end of its handling, per consumer.
pub static EVENT_LAG: LazyLock<HistogramVec> = LazyLock::new(|| {
    register_histogram_vec!(
        "linli_event_lag_seconds",
        "Time from an event being recorded (its outbox row, written just before the commit) to its effect in a consumer",
        &["consumer"],
        LATENCY_BUCKETS.to_vec()
    )
    .expect("metric names are static and registered once")
});

/// Kept KPI counts a service's refresher counted again (evaluation's kept figures).
pub static KEPT_REFRESHED: LazyLock<IntCounterVec> = LazyLock::new(|| {
    register_int_counter_vec!(
        "linli_kept_figures_refreshed_total",
        "Kept KPI counts (a centre and period each) the refresher counted again",
        &["service"]
    )
    .expect("metric names are static and registered once")
});

/// Refresher passes that counted something, whole: at district scale a pass counts every
/// centre asked for, a few per statement, so it runs for seconds, not milliseconds.
pub static KEPT_REFRESH_PASS: LazyLock<HistogramVec> = LazyLock::new(|| {
    register_histogram_vec!(
        "linli_kept_figures_refresh_seconds",
        "Refresher passes that counted kept KPI counts again, start to end",
        &["service"],
        vec![
            0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0
        ]
    )
    .expect("metric names are static and registered once")
});

/// The last sampled observation in one bucket of one series: its trace, value and time.
struct Exemplar {
    trace_id: String,
    value: f64,
    at: f64,
}

/// Exemplars by histogram series (its name and its labels, sorted by name, as the
/// registry reports them) and bucket index (the bucket count is the `+Inf` bucket).
type ExemplarKey = (String, Vec<(String, String)>, usize);

static EXEMPLARS: LazyLock<Mutex<HashMap<ExemplarKey, Exemplar>>> = LazyLock::new(Mutex::default);

/// Observes `seconds` in `histogram`'s series for `labels`, and keeps the trace `span`
/// belongs to as that bucket's exemplar when the trace is sampled (an unsampled trace is
/// stored nowhere, so it would link to nothing). The request-duration histograms use this.
pub fn observe_traced(histogram: &HistogramVec, labels: &[&str], seconds: f64, span: &Span) {
    histogram.with_label_values(labels).observe(seconds);
    let context = span.context();
    let span_context = context.span().span_context().clone();
    if !span_context.is_valid() || !span_context.is_sampled() {
        return;
    }
    let Some(desc) = histogram.desc().into_iter().next() else {
        return;
    };
    let mut series: Vec<(String, String)> = desc
        .const_label_pairs
        .iter()
        .map(|pair| (pair.name().to_owned(), pair.value().to_owned()))
        .chain(
            desc.variable_labels
                .iter()
                .zip(labels)
                .map(|(name, value)| (name.clone(), (*value).to_owned())),
        )
        .collect();
    series.sort();
    let bucket = LATENCY_BUCKETS
        .iter()
        .position(|bound| seconds <= *bound)
        .unwrap_or(LATENCY_BUCKETS.len());
    let exemplar = Exemplar {
        trace_id: span_context.trace_id().to_string(),
        value: seconds,
        at: unix_now(),
    };
    EXEMPLARS
        .lock()
        .expect("the exemplar lock is never poisoned: no panics under it")
        .insert((desc.fq_name.clone(), series, bucket), exemplar);
}

/// The media type of [`render_openmetrics`]'s output.
pub const OPENMETRICS_CONTENT_TYPE: &str =
    "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// Every registered metric in the OpenMetrics text format, with the request-duration
/// histograms' exemplars. `le` bounds are written as in the Prometheus text format
/// (`0.2`, `2`), so the recording rules' `le="0.2"` and `le="2"` match either way.
pub fn render_openmetrics() -> String {
    LazyLock::force(&DISCARDED_CONNECTIONS);
    refresh_outbox_ages();
    let exemplars = EXEMPLARS
        .lock()
        .expect("the exemplar lock is never poisoned: no panics under it");
    let mut out = String::new();
    for family in prometheus::gather() {
        let name = family.name();
        let (kind, family_name) = match family.get_field_type() {
            MetricType::COUNTER => match name.strip_suffix("_total") {
                Some(stem) => ("counter", stem),
                None => ("unknown", name),
            },
            MetricType::GAUGE => ("gauge", name),
            MetricType::HISTOGRAM => ("histogram", name),
            _ => ("unknown", name),
        };
        let _ = writeln!(out, "# TYPE {family_name} {kind}");
        let _ = writeln!(out, "# HELP {family_name} {}", escape(family.help(), false));
        for metric in family.get_metric() {
            let labels: Vec<(String, String)> = metric
                .get_label()
                .iter()
                .map(|pair| (pair.name().to_owned(), pair.value().to_owned()))
                .collect();
            match family.get_field_type() {
                MetricType::COUNTER => {
                    let value = metric.get_counter().get_value();
                    let _ = writeln!(out, "{name}{} {value}", label_text(&labels, None));
                }
                MetricType::GAUGE => {
                    let value = metric.get_gauge().get_value();
                    let _ = writeln!(out, "{name}{} {value}", label_text(&labels, None));
                }
                MetricType::HISTOGRAM => {
                    let histogram = metric.get_histogram();
                    let mut sorted = labels.clone();
                    sorted.sort();
                    let key = (name.to_owned(), sorted, 0);
                    let buckets = histogram.get_bucket();
                    let bounds = buckets
                        .iter()
                        .map(|b| (b.upper_bound().to_string(), b.cumulative_count()))
                        .chain([("+Inf".to_owned(), histogram.get_sample_count())]);
                    for (index, (bound, count)) in bounds.enumerate() {
                        let _ = write!(
                            out,
                            "{name}_bucket{} {count}",
                            label_text(&labels, Some(&bound))
                        );
                        if let Some(exemplar) =
                            exemplars.get(&(key.0.clone(), key.1.clone(), index))
                        {
                            let _ = write!(
                                out,
                                " # {{trace_id=\"{}\"}} {} {:.3}",
                                exemplar.trace_id, exemplar.value, exemplar.at
                            );
                        }
                        out.push('\n');
                    }
                    let _ = writeln!(
                        out,
                        "{name}_sum{} {}",
                        label_text(&labels, None),
                        histogram.get_sample_sum()
                    );
                    let _ = writeln!(
                        out,
                        "{name}_count{} {}",
                        label_text(&labels, None),
                        histogram.get_sample_count()
                    );
                }
                _ => {}
            }
        }
    }
    out.push_str("# EOF\n");
    out
}

/// `{a="1",b="2"}` (with `le` last when given), or nothing for no labels.
fn label_text(labels: &[(String, String)], le: Option<&str>) -> String {
    let mut pairs: Vec<String> = labels
        .iter()
        .map(|(name, value)| format!("{name}=\"{}\"", escape(value, true)))
        .collect();
    if let Some(le) = le {
        pairs.push(format!("le=\"{le}\""));
    }
    if pairs.is_empty() {
        String::new()
    } else {
        format!("{{{}}}", pairs.join(","))
    }
}

/// Escapes a label value (backslash, quote, newline) or a help text (backslash, newline).
fn escape(text: &str, quotes: bool) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\\' => escaped.push_str("\\\\"),
            '\n' => escaped.push_str("\\n"),
            '"' if quotes => escaped.push_str("\\\""),
            c => escaped.push(c),
        }
    }
    escaped
}

/// Every registered metric in the Prometheus text format.
pub fn render() -> String {
    // Registered (with its zeroes) before the first scrape, not at the first discard.
    LazyLock::force(&DISCARDED_CONNECTIONS);
    refresh_outbox_ages();
    let mut buffer = Vec::new();
    TextEncoder::new()
        .encode(&prometheus::gather(), &mut buffer)
        .expect("encoding metrics into a Vec cannot fail");
    String::from_utf8(buffer).expect("the Prometheus text format is UTF-8")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn openmetrics_names_counter_families_without_total_escapes_labels_and_ends_with_eof() {
        HTTP_REQUESTS
            .with_label_values(&["GET", "/a\"b\\c", "200"])
            .inc();
        let text = render_openmetrics();
        assert!(
            text.contains("# TYPE linli_http_requests counter\n"),
            "{text}"
        );
        assert!(
            text.contains(
                r#"linli_http_requests_total{method="GET",route="/a\"b\\c",status="200"} 1"#
            ),
            "{text}"
        );
        assert!(text.ends_with("# EOF\n"));
        assert_eq!(text.matches("# EOF").count(), 1);
    }

    #[test]
    fn an_untraced_observation_leaves_no_exemplar() {
        observe_traced(&RELAY_PASS, &["test", "pass"], 0.3, &Span::none());
        let text = render_openmetrics();
        let bucket = r#"linli_relay_pass_seconds_bucket{part="pass",service="test",le="0.5"} 1"#;
        assert!(text.lines().any(|line| line == bucket), "{text}");
    }
}
