//! Evaluation: how well the centres do against the plan's targets. Its figures are
//! projections built only from other services' events; it never reads their databases.

pub mod domain;
pub mod events;
pub mod grpc;
pub mod seed;
pub mod store;

use std::time::Instant;

use linli_platform::CancellationToken;
use linli_platform::service::ServiceContext;
use linli_platform::text::Checked;
use linli_proto::evaluation::v1::evaluation_server::EvaluationServer;
use sqlx::PgPool;
use sqlx::migrate::Migrator;
use tokio::net::TcpListener;

use crate::domain::MaxAge;

pub const SERVICE: &str = "evaluation";
pub const GRPC_SERVICE: &str = "linli.evaluation.v1.Evaluation";
pub static MIGRATOR: Migrator = sqlx::migrate!();

/// How long a centre's counted KPI figures are answered from, unless configured.
pub const DEFAULT_KPI_MAX_AGE_SECS: u64 = 120;

/// Settings of the evaluation role.
#[derive(clap::Args, Clone, Debug)]
pub struct Settings {
    /// Seconds a centre's counted KPI figures may be kept and answered from (the district
    /// roll-up reads kept counts instead of counting every centre); 0 counts them on every
    /// read and runs no refresher.
    #[arg(long = "kpi-max-age", env = "LINLI_KPI_MAX_AGE", default_value_t = DEFAULT_KPI_MAX_AGE_SECS)]
    pub kpi_max_age_secs: u64,
}

/// Runs evaluation on `listener` until the context's shutdown.
pub async fn serve(
    ctx: ServiceContext,
    listener: TcpListener,
    settings: Settings,
) -> anyhow::Result<()> {
    let max_age = MaxAge::seconds(settings.kpi_max_age_secs);
    let mut started = ctx.start(SERVICE, &MIGRATOR).await?;
    started
        .consume(SERVICE, events::BINDINGS, events::Projections)
        .await;
    started.spawn(refresh_kept_figures(
        started.pool.clone(),
        max_age,
        ctx.shutdown.clone(),
    ));
    let api = grpc::EvaluationApi::new(started.pool.clone(), max_age);
    started
        .serve_api(
            listener,
            GRPC_SERVICE,
            &ctx,
            Checked::new(EvaluationServer::new(api)),
        )
        .await
}

/// Kept KPI counts asked for today are counted again by the service itself, every half
/// max age, so a read seldom finds them too old and counts them while someone waits. The
/// first turn is at start: counts kept before a restart or a deploy would otherwise grow
/// old before it, and the day's first dashboards count them. One replica refreshes at a
/// time (the others find its lock taken and wait for the next turn). Nothing runs when
/// the max age is zero.
async fn refresh_kept_figures(pool: PgPool, max_age: MaxAge, shutdown: CancellationToken) {
    let Some(every) = max_age.refresh_every() else {
        return;
    };
    let mut first = true;
    loop {
        if !std::mem::take(&mut first) {
            tokio::select! {
                _ = shutdown.cancelled() => return,
                _ = tokio::time::sleep(every) => {}
            }
        }
        let began = Instant::now();
        let stopping = || shutdown.is_cancelled();
        match store::kept::refresh(&pool, chrono::Utc::now(), max_age, stopping).await {
            Ok(Some(refreshed)) if refreshed > 0 => {
                let seconds = began.elapsed().as_secs_f64();
                linli_platform::metrics::KEPT_REFRESHED
                    .with_label_values(&[SERVICE])
                    .inc_by(refreshed);
                linli_platform::metrics::KEPT_REFRESH_PASS
                    .with_label_values(&[SERVICE])
                    .observe(seconds);
                tracing::info!(
                    refreshed,
                    ms = (seconds * 1000.0) as u64,
                    "kept KPI figures counted again"
                );
            }
            Ok(_) => {}
            Err(_) if shutdown.is_cancelled() => return,
            Err(error) => {
                tracing::warn!(error = %error, "refreshing kept KPI figures failed; trying again at the next turn")
            }
        }
    }
}
