//! Service bookings: the catalogue, facilities, sessions, capacity and waitlists,
//! attendance and fees. Owns the `linli_bookings` database; publishes `bookings.*` events
//! and keeps the platform's directory of the registry's centres and residents for
//! eligibility.

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
use linli_proto::bookings::v1::bookings_server::BookingsServer;
use sqlx::PgPool;
use sqlx::migrate::Migrator;
use tokio::net::TcpListener;

pub const SERVICE: &str = "bookings";
pub const GRPC_SERVICE: &str = "linli.bookings.v1.Bookings";
pub static MIGRATOR: Migrator = sqlx::migrate!();

/// How often ended sessions and unclaimed rooms are looked at.
const SWEEP_EVERY: Duration = Duration::from_secs(2);

/// Runs the bookings role on `listener` until the context's shutdown.
pub async fn serve(ctx: ServiceContext, listener: TcpListener) -> anyhow::Result<()> {
    let mut started = ctx.start(SERVICE, &MIGRATOR).await?;
    started
        .consume(SERVICE, events::BINDINGS, events::RegistryFacts)
        .await;
    tokio::spawn(sweep(started.pool.clone(), ctx.shutdown.clone()));
    let api = grpc::BookingsApi::new(started.pool.clone());
    started
        .serve_api(
            listener,
            GRPC_SERVICE,
            &ctx,
            Checked::new(BookingsServer::new(api)),
        )
        .await
}

/// No-shows and lapsed waitlist places are marked by the service itself: nothing to
/// schedule outside it.
async fn sweep(pool: PgPool, shutdown: CancellationToken) {
    loop {
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = tokio::time::sleep(SWEEP_EVERY) => {}
        }
        loop {
            match store::sweep(&pool, chrono::Utc::now()).await {
                Ok(0) => break,
                Ok(marked) => tracing::info!(marked, "no-shows marked"),
                Err(error) => {
                    tracing::warn!(error = %error, "no-show sweep failed; trying again shortly");
                    break;
                }
            }
        }
    }
}
