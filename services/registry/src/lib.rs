//! The resident registry: the district's source of truth about its centres and the
//! people registered at them. Owns the `linli_registry` database; publishes
//! `registry.*` events.

pub mod accounts;
pub mod board_auditors;
pub mod correction_requests;
pub mod domain;
pub mod error;
pub mod events;
pub mod family;
pub mod grpc;
pub mod import;
pub mod partner_bookers;
pub mod seed;
pub mod signin;
pub mod store;
pub mod webhooks;

use linli_platform::service::ServiceContext;
use linli_platform::text::Checked;
use linli_proto::registry::v1::registry_server::RegistryServer;
use sqlx::migrate::Migrator;
use tokio::net::TcpListener;

pub const SERVICE: &str = "registry";
pub const GRPC_SERVICE: &str = "linli.registry.v1.Registry";
pub static MIGRATOR: Migrator = sqlx::migrate!();
/// Largest spreadsheet import, in bytes.
pub const IMPORT_LIMIT: usize = 64 * 1024 * 1024;

/// Runs the registry on `listener` until the context's shutdown.
pub async fn serve(ctx: ServiceContext, listener: TcpListener) -> anyhow::Result<()> {
    let mut started = ctx.start(SERVICE, &MIGRATOR).await?;
    // Partners' webhooks: every event through the inbox into delivery rows, and a sender.
    started
        .consume(webhooks::CONSUMER, webhooks::BINDINGS, webhooks::Deliveries)
        .await;
    tokio::spawn(webhooks::send(
        started.pool.clone(),
        ctx.vault.clone(),
        webhooks::Backoff::from_bus(&ctx.bus),
        ctx.shutdown.clone(),
    ));
    // The finance oversight group's members: their accounts' auditor role for the centre.
    started
        .consume(
            board_auditors::CONSUMER,
            board_auditors::BINDINGS,
            board_auditors::BoardAuditors,
        )
        .await;
    // Who booked which partner's offerings: a partner's consenting bookers' names and phones.
    started
        .consume(
            partner_bookers::CONSUMER,
            partner_bookers::BINDINGS,
            partner_bookers::PartnerBookers,
        )
        .await;
    let backfilled = store::backfill_name_keys(&started.pool).await?;
    if backfilled > 0 {
        tracing::info!(backfilled, "name search keys filled for earlier residents");
    }
    let sealed = store::partners::seal_clear_contacts(&started.pool, &ctx.vault).await?;
    if sealed > 0 {
        tracing::info!(sealed, "partner contacts sealed that were kept in clear");
    }
    let api = grpc::RegistryApi::new(
        started.pool.clone(),
        ctx.vault.clone(),
        ctx.keys.revocations().clone(),
    );
    // Spreadsheet imports arrive in one message: allow files of up to 64 MiB.
    started
        .serve_api(
            listener,
            GRPC_SERVICE,
            &ctx,
            Checked::new(RegistryServer::new(api).max_decoding_message_size(IMPORT_LIMIT))
                .limit(IMPORT_LIMIT + 5),
        )
        .await
}
