//! The admin port of every process: `/healthz` (the process is alive), `/readyz` (every
//! role's database is reachable; the broker is reported beside it) and `/metrics`
//! (Prometheus text, or OpenMetrics with exemplars when asked).

use axum::Json;
use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::get;
use serde_json::json;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use crate::service::{Check, Readiness};

pub fn router(readiness: Readiness) -> Router {
    Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(ready))
        .route("/metrics", get(metrics))
        .with_state(readiness)
}

pub async fn serve(
    listener: TcpListener,
    readiness: Readiness,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    axum::serve(listener, router(readiness))
        .with_graceful_shutdown(shutdown.cancelled_owned())
        .await?;
    Ok(())
}

/// Ready while every role's database answers. The broker is reported beside it, but a
/// broker outage leaves a role ready: its writes wait in the outbox and are delivered
/// when the broker is back, so taking the pod out of its Service would refuse work the
/// process can do.
async fn ready(State(readiness): State<Readiness>) -> impl IntoResponse {
    let results = readiness.check_all().await;
    let ready = results.iter().all(|(_, check)| check.serving());
    let mut checks = serde_json::Map::new();
    let mut broker = serde_json::Map::new();
    for (name, check) in results {
        let (database, reachable) = match check {
            Check::Starting => ("starting: waiting for the database", None),
            Check::Checked(health) => (
                if health.database {
                    "ok"
                } else {
                    "database unreachable"
                },
                Some(health.broker),
            ),
        };
        checks.insert(name.clone(), json!(database));
        if let Some(reachable) = reachable {
            broker.insert(name, json!(if reachable { "ok" } else { "unreachable" }));
        }
    }
    let status = if ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (
        status,
        Json(json!({ "ready": ready, "checks": checks, "broker": broker })),
    )
}

/// OpenMetrics (with exemplars) when the scraper lists it in `Accept`, as Prometheus
/// does; the Prometheus text format otherwise.
async fn metrics(headers: HeaderMap) -> impl IntoResponse {
    let openmetrics = headers
        .get_all(header::ACCEPT)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .any(|value| value.contains("application/openmetrics-text"));
    if openmetrics {
        (
            [(
                header::CONTENT_TYPE,
                crate::metrics::OPENMETRICS_CONTENT_TYPE,
            )],
            crate::metrics::render_openmetrics(),
        )
    } else {
        (
            [(
                header::CONTENT_TYPE,
                "text/plain; version=0.0.4; charset=utf-8",
            )],
            crate::metrics::render(),
        )
    }
}
