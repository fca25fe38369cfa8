//! The alerts inbox's rows (issue 22): what [`crate::domain::alert::effect`] decided a fact
//! does, persisted inside the consumer's transaction (an alert kept under the event's id,
//! so a redelivery or a rebuild's replay adds nothing), and the open alerts read with the
//! suggestions past their target computed at the answer.

use chrono::{DateTime, Utc};
use linli_platform::bus::{HandlerError, Incoming};
use linli_platform::error::Error;
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use crate::domain::alert::{self, Effect, SUGGESTION_ANSWER_DAYS};

/// Persists what `event` does to the inbox, if anything.
pub async fn apply(event: &Incoming, tx: &mut PgConnection) -> Result<(), HandlerError> {
    match alert::effect(event)? {
        Some(Effect::Raise(alert)) => {
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
        }
        Some(Effect::Handled {
            centre,
            request,
            at,
            by,
        }) => {
            sqlx::query(
                "UPDATE alerts
                    SET acknowledged_at = COALESCE(acknowledged_at, $3),
                        acknowledged_by = COALESCE(acknowledged_by, $4)
                  WHERE kind = 'correction_requested' AND centre_id = $1
                    AND $2 = ANY(details)",
            )
            .bind(centre)
            .bind(alert::request_detail(request))
            .bind(at)
            .bind(by)
            .execute(&mut *tx)
            .await?;
        }
        Some(Effect::Forget { resident }) => {
            sqlx::query("DELETE FROM alerts WHERE subject_kind = 'resident' AND subject_id = $1")
                .bind(resident.to_string())
                .execute(&mut *tx)
                .await?;
        }
        None => {}
    }
    Ok(())
}

#[derive(Debug, sqlx::FromRow)]
pub struct AlertRow {
    pub id: Uuid,
    pub centre_id: Uuid,
    pub kind: String,
    pub subject_kind: String,
    pub subject_id: String,
    pub details: Vec<String>,
    pub created_at: DateTime<Utc>,
    pub acknowledged_at: Option<DateTime<Utc>>,
    pub standing: bool,
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

/// The open alerts of `kinds` at the centre at `now`, the latest first after the keyset
/// `after` (created_at, id), at most `limit`; and how many are open in all.
pub async fn open(
    pool: &PgPool,
    centre: Uuid,
    kinds: &[&str],
    now: DateTime<Utc>,
    after: Option<(DateTime<Utc>, Uuid)>,
    limit: i64,
) -> Result<(Vec<AlertRow>, i64), Error> {
    let rows: Vec<AlertRow> = sqlx::query_as(concat!(
        open_alerts!(),
        " SELECT * FROM open
          WHERE $5::timestamptz IS NULL OR (created_at, id) < ($5, $6)
          ORDER BY created_at DESC, id DESC LIMIT $7"
    ))
    .bind(centre)
    .bind(kinds)
    .bind(now)
    .bind(SUGGESTION_ANSWER_DAYS)
    .bind(after.map(|(at, _)| at))
    .bind(after.map(|(_, id)| id))
    .bind(limit)
    .fetch_all(pool)
    .await?;
    let (count,): (i64,) = sqlx::query_as(concat!(open_alerts!(), " SELECT count(*) FROM open"))
        .bind(centre)
        .bind(kinds)
        .bind(now)
        .bind(SUGGESTION_ANSWER_DAYS)
        .fetch_one(pool)
        .await?;
    Ok((rows, count))
}

/// Marks one alert of `kinds` at the centre handled; the first acknowledgement is kept. A
/// standing alert, another centre's or another kind is not found.
pub async fn acknowledge(
    pool: &PgPool,
    centre: Uuid,
    id: Uuid,
    kinds: &[&str],
    by: &str,
    now: DateTime<Utc>,
) -> Result<AlertRow, Error> {
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
    .bind(kinds)
    .bind(now)
    .bind(by)
    .fetch_optional(pool)
    .await?;
    row.ok_or(Error::NotFound("alert"))
}
