//! Evaluation: how well the centres do against the plan's targets. Its figures are
//! projections built only from other services' events; it never reads their databases.

pub mod domain;
pub mod events;
pub mod grpc;
pub mod seed;
pub mod store;

use linli_platform::auth::Authenticate;
use linli_platform::service::ServiceContext;
use linli_proto::evaluation::v1::evaluation_server::EvaluationServer;
use sqlx::migrate::Migrator;
use tokio::net::TcpListener;
use tonic::service::Routes;

pub const SERVICE: &str = "evaluation";
pub const GRPC_SERVICE: &str = "linli.evaluation.v1.Evaluation";
pub static MIGRATOR: Migrator = sqlx::migrate!();

/// Runs evaluation on `listener` until the context's shutdown.
pub async fn serve(ctx: ServiceContext, listener: TcpListener) -> anyhow::Result<()> {
    let mut started = ctx.start(SERVICE, &MIGRATOR).await?;
    started
        .consume(SERVICE, events::BINDINGS, events::Projections)
        .await;
    let api = grpc::EvaluationApi::new(started.pool.clone());
    // Every string of every request is checked for control characters first, and a create
    // sent again with its Idempotency-Key is answered as the first time, never applied twice.
    let server = linli_platform::idempotency::Idempotent::new(
        linli_platform::text::Checked::new(EvaluationServer::new(api)),
        started.pool.clone(),
        ctx.vault.clone(),
    );
    // Partners reach the same service over mutual TLS; their scopes decide, not roles.
    ctx.partner.offer(server.clone());
    let routes = Routes::new(tonic::service::interceptor::InterceptedService::new(
        server,
        Authenticate(ctx.keys.clone()),
    ));
    started.serve(listener, GRPC_SERVICE, routes).await
}
