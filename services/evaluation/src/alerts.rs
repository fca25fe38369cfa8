//! The alerts inbox (issue 22): what needs a person at a centre, from the facts other
//! services publish (a budget threshold reached, a certification expiring, an hours
//! milestone, a resident asking for a correction) and one condition evaluation computes
//! at the answer (a suggestion unanswered past its target). Each role reads the kinds it
//! handles; acknowledging (已处理) takes an alert out of everyone's inbox at the centre.

use chrono::{DateTime, Utc};
use linli_platform::auth::{Access, Caller, Role, caller, scoped_centre};
use linli_platform::bus::{HandlerError, Incoming, field};
use linli_platform::error::Error;
use linli_platform::page::PageRequest;
use linli_platform::wire::{parse_id, timestamp};
use linli_proto::Event;
use linli_proto::evaluation::v1 as pb;
use linli_proto::events::v1::{
    BudgetThresholdReached, CertificationExpiring, HoursMilestoneReached, ResidentCorrectionClosed,
    ResidentCorrectionRequested, ResidentErased,
};
use sqlx::{PgConnection, PgPool};
use tonic::{Request, Response, Status};
use uuid::Uuid;

/// Every kind of alert.
pub const KINDS: [&str; 5] = [
    "budget_threshold",
    "certification_expiring",
    "hours_milestone",
    "correction_requested",
    "suggestion_overdue",
];

/// Days a suggestion may wait for its answer before it is an alert: the centre answers
/// within a week (a rule of ours; the plan names no number).
pub const SUGGESTION_ANSWER_DAYS: i32 = 7;

/// Who reads alerts at all: every staff role that handles some kind (not the auditor, who
/// handles nothing).
pub const ALERT_ROLES: &[Role] = &[
    Role::DistrictAdmin,
    Role::CentreManager,
    Role::FinanceOfficer,
    Role::Coordinator,
    Role::FrontDesk,
];

/// The kinds of alert `roles` handle: budgets the finance officer, certifications and
/// hours the coordinator, corrections the front desk; managers (and the district) all.
pub fn kinds_for<'a>(roles: impl IntoIterator<Item = &'a Role>) -> Vec<&'static str> {
    let mut kinds: Vec<&'static str> = Vec::new();
    for role in roles {
        let theirs: &[&'static str] = match role {
            Role::DistrictAdmin | Role::CentreManager => &KINDS,
            Role::FinanceOfficer => &["budget_threshold"],
            Role::Coordinator => &["certification_expiring", "hours_milestone"],
            Role::FrontDesk => &["correction_requested"],
            _ => &[],
        };
        kinds.extend(
            theirs
                .iter()
                .filter(|k| !kinds.contains(k))
                .collect::<Vec<_>>(),
        );
    }
    kinds
}

// ---------------------------------------------------------------------------------------
// From events

/// An alert to keep, from one event.
struct NewAlert {
    centre: Uuid,
    kind: &'static str,
    subject_kind: &'static str,
    subject_id: String,
    details: Vec<String>,
    at: DateTime<Utc>,
}

/// Keeps the alert `event` raises, if it raises one, under the event's id (a redelivery,
/// or a rebuild's replay, adds nothing); an erasure drops the alerts about the resident.
pub async fn apply(event: &Incoming, tx: &mut PgConnection) -> Result<(), HandlerError> {
    let occurred = event.occurred_at.unwrap_or_else(Utc::now);
    let alert = match event.routing_key.as_str() {
        BudgetThresholdReached::ROUTING_KEY => {
            let e: BudgetThresholdReached = event.decode()?;
            NewAlert {
                centre: field::id("centre_id", &e.centre_id)?,
                kind: "budget_threshold",
                subject_kind: "budget_category",
                subject_id: e.category.clone(),
                details: vec![
                    format!("fiscal_year={}", e.fiscal_year),
                    format!("threshold_percent={}", e.threshold_percent),
                    format!("budget_minor={}", e.budget_minor),
                    format!("actual_minor={}", e.actual_minor),
                ],
                at: field::instant("reached_at", e.reached_at.as_ref()).unwrap_or(occurred),
            }
        }
        CertificationExpiring::ROUTING_KEY => {
            let e: CertificationExpiring = event.decode()?;
            let holder = field::id("holder_id", &e.holder_id)?;
            NewAlert {
                centre: field::id("centre_id", &e.centre_id)?,
                kind: "certification_expiring",
                subject_kind: if e.holder_kind == "staff" {
                    "staff"
                } else {
                    "volunteer"
                },
                subject_id: holder.to_string(),
                details: vec![
                    format!("certification_kind={}", e.kind),
                    format!("expires_on={}", field::date("expires_on", &e.expires_on)?),
                    format!("days_left={}", e.days_left),
                ],
                at: occurred,
            }
        }
        HoursMilestoneReached::ROUTING_KEY => {
            let e: HoursMilestoneReached = event.decode()?;
            NewAlert {
                centre: field::id("centre_id", &e.centre_id)?,
                kind: "hours_milestone",
                subject_kind: "volunteer",
                subject_id: field::id("volunteer_id", &e.volunteer_id)?.to_string(),
                details: vec![format!("milestone_hours={}", e.milestone_hours)],
                at: field::instant("reached_at", e.reached_at.as_ref()).unwrap_or(occurred),
            }
        }
        ResidentCorrectionRequested::ROUTING_KEY => {
            let e: ResidentCorrectionRequested = event.decode()?;
            let fields: Vec<&str> = e
                .fields
                .iter()
                .map(String::as_str)
                .filter(|f| !f.is_empty() && f.chars().all(|c| c.is_ascii_lowercase() || c == '_'))
                .collect();
            NewAlert {
                centre: field::id("centre_id", &e.centre_id)?,
                kind: "correction_requested",
                subject_kind: "resident",
                subject_id: field::id("resident_id", &e.resident_id)?.to_string(),
                details: vec![
                    format!("fields={}", fields.join(",")),
                    format!("request_id={}", field::id("request_id", &e.request_id)?),
                ],
                at: field::instant("requested_at", e.requested_at.as_ref()).unwrap_or(occurred),
            }
        }
        ResidentCorrectionClosed::ROUTING_KEY => {
            // The desk closed the request in the registry: its alert is handled, by whoever
            // closed it and when (the first acknowledgement is kept, so a redelivery or a
            // replay changes nothing).
            let e: ResidentCorrectionClosed = event.decode()?;
            let request = field::id("request_id", &e.request_id)?;
            let at = field::instant("closed_at", e.closed_at.as_ref()).unwrap_or(occurred);
            sqlx::query(
                "UPDATE alerts
                    SET acknowledged_at = COALESCE(acknowledged_at, $3),
                        acknowledged_by = COALESCE(acknowledged_by, $4)
                  WHERE kind = 'correction_requested' AND centre_id = $1
                    AND $2 = ANY(details)",
            )
            .bind(field::id("centre_id", &e.centre_id)?)
            .bind(format!("request_id={request}"))
            .bind(at)
            .bind(&e.closed_by)
            .execute(&mut *tx)
            .await?;
            return Ok(());
        }
        ResidentErased::ROUTING_KEY => {
            let e: ResidentErased = event.decode()?;
            let resident = field::id("resident_id", &e.resident_id)?;
            sqlx::query("DELETE FROM alerts WHERE subject_kind = 'resident' AND subject_id = $1")
                .bind(resident.to_string())
                .execute(&mut *tx)
                .await?;
            return Ok(());
        }
        _ => return Ok(()),
    };
    sqlx::query(
        "INSERT INTO alerts (id, centre_id, kind, subject_kind, subject_id, details, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (id) DO NOTHING",
    )
    .bind(event.id)
    .bind(alert.centre)
    .bind(alert.kind)
    .bind(alert.subject_kind)
    .bind(&alert.subject_id)
    .bind(&alert.details)
    .bind(alert.at)
    .execute(&mut *tx)
    .await?;
    Ok(())
}

// ---------------------------------------------------------------------------------------
// Reading and acknowledging

#[derive(Debug, sqlx::FromRow)]
struct AlertRow {
    id: Uuid,
    centre_id: Uuid,
    kind: String,
    subject_kind: String,
    subject_id: String,
    details: Vec<String>,
    created_at: DateTime<Utc>,
    acknowledged_at: Option<DateTime<Utc>>,
    standing: bool,
}

/// The open alerts of a centre of the given kinds: those kept from events and not yet
/// acknowledged, and the suggestions past their target, computed now. `$1` centre, `$2`
/// kinds, `$3` now, `$4` the target in days.
macro_rules! open_alerts {
    () => {
        "WITH open AS (
    SELECT id, centre_id, kind, subject_kind, subject_id, details, created_at,
           acknowledged_at, false AS standing
      FROM alerts
     WHERE centre_id = $1 AND acknowledged_at IS NULL AND kind = ANY($2)
    UNION ALL
    SELECT id, centre_id, 'suggestion_overdue', 'suggestion', id::text,
           ARRAY['received_at=' || to_char(received_at AT TIME ZONE 'UTC',
                                           'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'),
                 'target_days=' || $4::int::text],
           received_at + make_interval(days => $4::int), NULL::timestamptz, true
      FROM suggestions
     WHERE centre_id = $1 AND answered_at IS NULL AND 'suggestion_overdue' = ANY($2)
       AND received_at + make_interval(days => $4::int) <= $3
)"
    };
}

fn to_pb(row: AlertRow) -> pb::Alert {
    pb::Alert {
        id: row.id.to_string(),
        centre_id: row.centre_id.to_string(),
        kind: row.kind,
        subject_kind: row.subject_kind,
        subject_id: row.subject_id,
        details: row
            .details
            .iter()
            .filter_map(|d| d.split_once('='))
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect(),
        created_at: Some(timestamp(row.created_at)),
        acknowledged_at: row.acknowledged_at.map(timestamp),
        standing: row.standing,
    }
}

fn db(error: sqlx::Error) -> Status {
    linli_platform::error::database(&error)
}

/// The caller's open alerts at the centre, the latest first, and how many there are.
pub async fn list(
    pool: &PgPool,
    request: Request<pb::ListAlertsRequest>,
) -> Result<Response<pb::ListAlertsResponse>, Status> {
    let who: &Caller = caller(&request)?;
    let req = request.get_ref();
    let centre = scoped_centre(who, &req.centre_id, Access::Read, ALERT_ROLES)?;
    let kinds = kinds_for(&who.roles);
    let page = PageRequest::<(DateTime<Utc>, Uuid)>::parse(
        "evaluation.alerts",
        req.page_size,
        &req.page_token,
    )?;
    let now = Utc::now();
    let after = page.after();
    let rows: Vec<AlertRow> = sqlx::query_as(concat!(
        open_alerts!(),
        " SELECT * FROM open
          WHERE $5::timestamptz IS NULL OR (created_at, id) < ($5, $6)
          ORDER BY created_at DESC, id DESC LIMIT $7"
    ))
    .bind(centre)
    .bind(&kinds)
    .bind(now)
    .bind(SUGGESTION_ANSWER_DAYS)
    .bind(after.map(|(at, _)| at))
    .bind(after.map(|(_, id)| id))
    .bind(page.limit())
    .fetch_all(pool)
    .await
    .map_err(db)?;
    let (open_count,): (i64,) =
        sqlx::query_as(concat!(open_alerts!(), " SELECT count(*) FROM open"))
            .bind(centre)
            .bind(&kinds)
            .bind(now)
            .bind(SUGGESTION_ANSWER_DAYS)
            .fetch_one(pool)
            .await
            .map_err(db)?;
    let page = page.page(rows, |row| (row.created_at, row.id)).map(to_pb);
    Ok(Response::new(pb::ListAlertsResponse {
        alerts: page.rows,
        next_page_token: page.next_page_token,
        open_count: u32::try_from(open_count).unwrap_or(u32::MAX),
    }))
}

/// Marks one of the caller's alerts handled; the first acknowledgement is kept. A
/// standing alert, another centre's or a kind the caller does not handle is not found.
pub async fn acknowledge(
    pool: &PgPool,
    request: Request<pb::AcknowledgeAlertRequest>,
) -> Result<Response<pb::Alert>, Status> {
    let who: &Caller = caller(&request)?;
    let req = request.get_ref();
    let centre = scoped_centre(who, &req.centre_id, Access::Write, ALERT_ROLES)?;
    let id = parse_id("alert_id", &req.alert_id)?;
    let row: Option<AlertRow> = sqlx::query_as(
        "UPDATE alerts
            SET acknowledged_at = COALESCE(acknowledged_at, $4),
                acknowledged_by = COALESCE(acknowledged_by, $5)
          WHERE id = $1 AND centre_id = $2 AND kind = ANY($3)
         RETURNING id, centre_id, kind, subject_kind, subject_id, details, created_at,
                   acknowledged_at, false AS standing",
    )
    .bind(id)
    .bind(centre)
    .bind(kinds_for(&who.roles))
    .bind(Utc::now())
    .bind(&who.subject)
    .fetch_optional(pool)
    .await
    .map_err(db)?;
    let row = row.ok_or(Error::NotFound("alert"))?;
    Ok(Response::new(to_pb(row)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_role_reads_the_kinds_it_handles() {
        assert_eq!(kinds_for(&[Role::FinanceOfficer]), ["budget_threshold"]);
        assert_eq!(
            kinds_for(&[Role::Coordinator]),
            ["certification_expiring", "hours_milestone"]
        );
        assert_eq!(kinds_for(&[Role::FrontDesk]), ["correction_requested"]);
        assert_eq!(kinds_for(&[Role::CentreManager]), KINDS);
        assert_eq!(
            kinds_for(&[Role::FrontDesk, Role::CentreManager, Role::Coordinator]).len(),
            KINDS.len()
        );
        assert!(kinds_for(&[Role::Auditor]).is_empty());
    }
}
