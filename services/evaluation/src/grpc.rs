//! Evaluation's gRPC surface.

use linli_platform::auth::{Access, Role, caller, scoped_centre};
use linli_platform::error::internal;
use linli_proto::evaluation::v1 as pb;
use linli_proto::evaluation::v1::evaluation_server::Evaluation;
use sqlx::PgPool;
use tonic::{Request, Response, Status};

use crate::store;

/// Staff roles that read their centre's figures.
const KPI_READERS: &[Role] = &[
    Role::DistrictAdmin,
    Role::CentreManager,
    Role::FrontDesk,
    Role::Coordinator,
    Role::FinanceOfficer,
    Role::Auditor,
];

pub struct EvaluationApi {
    pool: PgPool,
}

impl EvaluationApi {
    pub fn new(pool: PgPool) -> Self {
        EvaluationApi { pool }
    }
}

#[tonic::async_trait]
impl Evaluation for EvaluationApi {
    async fn get_centre_kpis(
        &self,
        request: Request<pb::GetCentreKpisRequest>,
    ) -> Result<Response<pb::CentreKpis>, Status> {
        let caller = caller(&request)?;
        let centre_id = scoped_centre(
            caller,
            &request.get_ref().centre_id,
            Access::Read,
            KPI_READERS,
        )?;
        let registered_residents = store::count_registered(&self.pool, centre_id)
            .await
            .map_err(|e| internal(&e))?;
        Ok(Response::new(pb::CentreKpis {
            centre_id: centre_id.to_string(),
            registered_residents,
        }))
    }
}
