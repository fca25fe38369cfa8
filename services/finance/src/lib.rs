//! Money: the centres' double-entry ledger, budgets, funding sources, donations with
//! receipts, service fees, oversight and transparency. Owns the `linli_finance` database,
//! whose triggers hold the ledger's invariants (balanced, immutable, closed periods stay
//! closed, an append-only audit trail); publishes `finance.*` events and consumes the fee
//! events of bookings and the registry's erasures and new centres.

pub mod domain;
pub mod error;
pub mod events;
pub mod grpc;
pub mod report;
pub mod seed;
pub mod store;

use linli_platform::service::ServiceContext;
use linli_platform::text::Checked;
use linli_proto::finance::v1::finance_server::FinanceServer;
use sqlx::migrate::Migrator;
use tokio::net::TcpListener;

pub const SERVICE: &str = "finance";
pub const GRPC_SERVICE: &str = "linli.finance.v1.Finance";
pub static MIGRATOR: Migrator = sqlx::migrate!();

/// Runs the finance role on `listener` until the context's shutdown.
pub async fn serve(ctx: ServiceContext, listener: TcpListener) -> anyhow::Result<()> {
    let mut started = ctx.start(SERVICE, &MIGRATOR).await?;
    started
        .consume(SERVICE, events::BINDINGS, events::Books)
        .await;
    let api = grpc::FinanceApi::new(started.pool.clone(), ctx.vault.clone());
    started
        .serve_api(
            listener,
            GRPC_SERVICE,
            &ctx,
            Checked::new(FinanceServer::new(api)),
        )
        .await
}
