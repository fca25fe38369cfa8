//! Service volunteers: the centres' volunteers and staff, certifications, training,
//! opportunities and shifts with sign-up and matching, verified hours and milestones,
//! community groups and staff reviews. Owns the `linli_volunteers` database; publishes
//! `volunteers.*` events and keeps read models of the registry's centres and residents
//! and of evaluation's quality figures per staff member.

pub mod domain;
pub mod error;
pub mod events;
pub mod grpc;
pub mod seed;
pub mod store;

use std::time::Duration;

use linli_platform::CancellationToken;
use linli_platform::service::ServiceContext;
use linli_platform::text::Checked;
use linli_proto::volunteers::v1::volunteers_server::VolunteersServer;
use sqlx::PgPool;
use sqlx::migrate::Migrator;
use tokio::net::TcpListener;

pub const SERVICE: &str = "volunteers";
pub const GRPC_SERVICE: &str = "linli.volunteers.v1.Volunteers";
pub static MIGRATOR: Migrator = sqlx::migrate!();

/// How often certifications nearing expiry are looked for.
const SWEEP_EVERY: Duration = Duration::from_secs(2);
/// Days ahead of expiry a certification is announced, unless
/// `LINLI_CERTIFICATION_NOTICE_DAYS` says otherwise.
pub const DEFAULT_NOTICE_DAYS: i64 = 30;

/// The notice period from the environment, or the default.
pub fn notice_days() -> i64 {
    std::env::var("LINLI_CERTIFICATION_NOTICE_DAYS")
        .ok()
        .and_then(|days| days.parse().ok())
        .filter(|days| (0..=365).contains(days))
        .unwrap_or(DEFAULT_NOTICE_DAYS)
}

/// Runs the volunteers role on `listener` until the context's shutdown.
pub async fn serve(ctx: ServiceContext, listener: TcpListener) -> anyhow::Result<()> {
    let mut started = ctx.start(SERVICE, &MIGRATOR).await?;
    started
        .consume(SERVICE, events::BINDINGS, events::Facts)
        .await;
    tokio::spawn(sweep(
        started.pool.clone(),
        notice_days(),
        ctx.shutdown.clone(),
    ));
    let api = grpc::VolunteersApi::new(started.pool.clone());
    started
        .serve_api(
            listener,
            GRPC_SERVICE,
            &ctx,
            Checked::new(VolunteersServer::new(api)),
        )
        .await
}

/// Expiry notices are given by the service itself; each certification's notice is
/// recorded with its outbox row, so a restart never repeats one.
async fn sweep(pool: PgPool, notice_days: i64, shutdown: CancellationToken) {
    loop {
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = tokio::time::sleep(SWEEP_EVERY) => {}
        }
        loop {
            match store::announce_expiring(&pool, chrono::Utc::now(), notice_days).await {
                Ok(0) => break,
                Ok(announced) => {
                    tracing::info!(announced, "certification expiry notices published")
                }
                Err(error) => {
                    tracing::warn!(error = %error, "expiry sweep failed; trying again shortly");
                    break;
                }
            }
        }
    }
}
