//! The alerts inbox's part of evaluation's gRPC surface (issue 22): each role reads the
//! kinds it handles ([`crate::domain::alert::kinds_for`]); acknowledging (已处理) takes an
//! alert out of everyone's inbox at the centre.

use chrono::{DateTime, Utc};
use linli_platform::auth::{Access, caller, scoped_centre};
use linli_platform::page::PageRequest;
use linli_platform::wire::{parse_id, timestamp};
use linli_proto::evaluation::v1 as pb;
use sqlx::PgPool;
use tonic::{Request, Response, Status};
use uuid::Uuid;

use crate::domain::alert::{ALERT_ROLES, kinds_for};
use crate::store::alerts::{self as store, AlertRow};

fn to_pb(row: AlertRow) -> pb::Alert {
    pb::Alert {
        id: row.id.to_string(),
        centre_id: row.centre_id.to_string(),
        kind: row.kind,
        subject_kind: row.subject_kind,
        subject_id: row.subject_id,
        details: (row.details.iter())
            .filter_map(|d| d.split_once('='))
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect(),
        created_at: Some(timestamp(row.created_at)),
        acknowledged_at: row.acknowledged_at.map(timestamp),
        standing: row.standing,
    }
}

/// The caller's open alerts at the centre, the latest first, and how many there are.
pub async fn list(
    pool: &PgPool,
    request: Request<pb::ListAlertsRequest>,
) -> Result<Response<pb::ListAlertsResponse>, Status> {
    let who = caller(&request)?;
    let req = request.get_ref();
    let centre = scoped_centre(who, &req.centre_id, Access::Read, ALERT_ROLES)?;
    let page = PageRequest::<(DateTime<Utc>, Uuid)>::parse(
        "evaluation.alerts",
        req.page_size,
        &req.page_token,
    )?;
    let kinds = kinds_for(&who.roles);
    let (rows, open_count) =
        store::open(pool, centre, &kinds, Utc::now(), page.after(), page.limit()).await?;
    let page = page.page(rows, |row| (row.created_at, row.id)).map(to_pb);
    Ok(Response::new(pb::ListAlertsResponse {
        alerts: page.rows,
        next_page_token: page.next_page_token,
        open_count: u32::try_from(open_count).unwrap_or(u32::MAX),
    }))
}

/// Marks one of the caller's alerts handled; the first acknowledgement is kept.
pub async fn acknowledge(
    pool: &PgPool,
    request: Request<pb::AcknowledgeAlertRequest>,
) -> Result<Response<pb::Alert>, Status> {
    let who = caller(&request)?;
    let req = request.get_ref();
    let centre = scoped_centre(who, &req.centre_id, Access::Write, ALERT_ROLES)?;
    let id = parse_id("alert_id", &req.alert_id)?;
    let kinds = kinds_for(&who.roles);
    let row = store::acknowledge(pool, centre, id, &kinds, &who.subject, Utc::now()).await?;
    Ok(Response::new(to_pb(row)))
}
