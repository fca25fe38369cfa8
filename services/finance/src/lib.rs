//! Money: the double-entry ledger, budgets, funding sources, donations, fees, oversight and transparency.
//!
//! The role runs on the shared platform today (its own database and migrations, outbox
//! relay, health, reflection, readiness); its business API arrives with its own issue.

use linli_platform::service::ServiceContext;
use sqlx::migrate::Migrator;
use tokio::net::TcpListener;
use tonic::service::Routes;

pub const SERVICE: &str = "finance";
pub const GRPC_SERVICE: &str = "linli.finance.v1.Finance";
pub static MIGRATOR: Migrator = sqlx::migrate!();

/// Runs the finance role on `listener` until the context's shutdown.
pub async fn serve(ctx: ServiceContext, listener: TcpListener) -> anyhow::Result<()> {
    let started = ctx.start(SERVICE, &MIGRATOR).await?;
    started
        .serve(listener, GRPC_SERVICE, Routes::builder().routes())
        .await
}
