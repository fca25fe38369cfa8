//! Evaluation: how well the centres do against the plan's targets. Its figures are
//! projections built only from other services' events; it never reads their databases.

pub mod domain;
pub mod events;
pub mod grpc;
pub mod seed;
pub mod store;

use linli_platform::service::ServiceContext;
use linli_platform::text::Checked;
use linli_proto::evaluation::v1::evaluation_server::EvaluationServer;
use sqlx::migrate::Migrator;
use tokio::net::TcpListener;

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
    started
        .serve_api(
            listener,
            GRPC_SERVICE,
            &ctx,
            Checked::new(EvaluationServer::new(api)),
        )
        .await
}
