//! Prometheus metrics for every process, served as text at `/metrics` on the admin port.
//! One registry per process: `serve all` reports every role's series with a `service` label.

use std::sync::LazyLock;

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
    register_int_counter_vec!(
        "linli_db_connections_discarded_total",
        "Pooled connections closed because they were inside a transaction block, by when found",
        &["when"]
    )
    .expect("metric names are static and registered once")
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

/// Age of the oldest outbox row not yet confirmed by the broker (0 when there is none),
/// after the relay's last look: a stuck relay shows here long before the backlog is large.
pub static OUTBOX_OLDEST_AGE: LazyLock<GaugeVec> = LazyLock::new(|| {
    register_gauge_vec!(
        "linli_outbox_oldest_unpublished_age_seconds",
        "Age of the oldest event committed but not yet confirmed by the broker",
        &["service"]
    )
    .expect("metric names are static and registered once")
});

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

/// Every registered metric in the Prometheus text format.
pub fn render() -> String {
    let mut buffer = Vec::new();
    TextEncoder::new()
        .encode(&prometheus::gather(), &mut buffer)
        .expect("encoding metrics into a Vec cannot fail");
    String::from_utf8(buffer).expect("the Prometheus text format is UTF-8")
}
