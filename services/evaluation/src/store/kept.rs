//! Kept figures (issue 25): each centre's KPI counts for a period in `kept_kpis`, so a read
//! of many centres counts only those whose kept counts are missing or older than the max
//! age ([`crate::domain::kept`]), and a refresher counts again, a few centres at a time,
//! the counts asked for today before they grow old. The figures are still made from the
//! counts by the domain, with the facilities' opening hours as they are now.

use std::collections::HashMap;

use chrono::{DateTime, SubsecRound as _, Utc};
use linli_platform::directory;
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use super::{CentreFigures, Counted, CountsRow, count, kpi_figures, with_figures};
use crate::domain::kept::{ASKED_EVERY, ASKED_WITHIN};
use crate::domain::{self, Kept, MaxAge, Period};

/// Centres counted in one statement by the refresher: a district's worth. A count reads
/// the residents of the district once whatever the number of centres (the planner scans
/// the directory rather than fetch a tenth of it by index), so smaller batches cost more
/// in all: at 100 centres x 10,000 residents a month of 1 centre took 145-190 ms, of 10
/// 310-380 ms and of all 100 1.8-2.6 s (load 5); at 100 x 50,000, a pass over a month and
/// a year took 31 s in statements of ten against 11 s in one statement a period
/// (docs/performance.md). The statement runs on its own, in no transaction.
pub const REFRESH_BATCH: usize = 100;

/// Every KPI of each of `centres` for `period`, as [`kpi_figures`] counts them, but from
/// the counts kept for a centre when they are younger than `max_age`: three statements
/// whatever the number of centres (the kept counts, the opening hours, and one count of
/// the centres whose kept counts cannot answer, which are then kept). Only a read that
/// must count takes a lock, the period's, so reads that find the same counts missing at
/// once count them once ([`count_once`]); a read answered by kept counts takes none. A max
/// age of zero counts every centre on every read, keeps nothing and locks nothing. Each
/// centre's figures say when they were counted.
pub async fn kpi_figures_kept(
    conn: &mut PgConnection,
    period: &Period,
    centres: &[(Uuid, chrono_tz::Tz)],
    now: DateTime<Utc>,
    max_age: MaxAge,
) -> Result<Vec<CentreFigures>, sqlx::Error> {
    // As the database keeps it, so the first answer's time is the kept answers' too.
    let now = now.trunc_subsecs(6);
    if !max_age.keeps() {
        return kpi_figures(conn, period, centres, now).await;
    }
    let ids: Vec<Uuid> = centres.iter().map(|(centre, _)| *centre).collect();
    let mut kept = asked(conn, period, &ids, now).await?;
    let mut answered: Vec<Option<Counted>> = Vec::with_capacity(centres.len());
    let mut to_count = Vec::new();
    for (centre, zone) in centres {
        let window = domain::KpiWindow::new(period, *zone, now);
        match kept.remove(centre) {
            Some(kept) if kept.answers(&window, now, max_age) => {
                answered.push(Some(from_kept(period, *centre, *zone, kept)))
            }
            _ => {
                answered.push(None);
                to_count.push((*centre, *zone));
            }
        }
    }
    if !to_count.is_empty() {
        let mut counted = count_once(conn, period, to_count, now, max_age)
            .await?
            .into_iter();
        for slot in answered.iter_mut().filter(|slot| slot.is_none()) {
            *slot = counted.next();
        }
    }
    with_figures(conn, period, answered.into_iter().flatten().collect()).await
}

/// The advisory lock's namespace (its first key; the second is the period's name hashed).
/// Two int4 keys never meet the refresher's lock, which is one bigint key.
const COUNT_LOCK: &str = "linli evaluation kept_kpis count";

/// The longest any statement of a locked count may run, the wait for the lock included.
/// A caller's deadline (the gateway's is 10 s) drops the read, but the server would
/// finish the statement it is in, and hold the lock, regardless; at 5 M residents the
/// district's count took 6-9 s.
const COUNT_WITHIN: &str = "60s";

/// Counts `to_count` (in centre order), each in its time zone, as one read among many that
/// may find the same counts missing at once (a morning's first dashboards, a rebuild):
/// under the period's advisory lock, held for this transaction only, it reads the kept
/// counts again and counts only those still missing or too old, which it keeps before it
/// commits. A read that waited for the lock so answers with what the holder counted. The
/// result is in the order of `to_count`.
async fn count_once(
    conn: &mut PgConnection,
    period: &Period,
    to_count: Vec<(Uuid, chrono_tz::Tz)>,
    now: DateTime<Utc>,
    max_age: MaxAge,
) -> Result<Vec<Counted>, sqlx::Error> {
    let mut tx = sqlx::Connection::begin(&mut *conn).await?;
    // Local to the transaction: the pooled connection goes back with its own setting.
    sqlx::query("SELECT set_config('statement_timeout', $1, true)")
        .bind(COUNT_WITHIN)
        .execute(&mut *tx)
        .await?;
    sqlx::query("SELECT pg_advisory_xact_lock(hashtext($1), hashtext($2))")
        .bind(COUNT_LOCK)
        .bind(period.name())
        .execute(&mut *tx)
        .await?;
    // A plain read, no mark: it takes no lock on the table that a rebuild's would wait
    // for while this transaction waits on the rebuild's emptied projections.
    let ids: Vec<Uuid> = to_count.iter().map(|(centre, _)| *centre).collect();
    let mut kept = kept(&mut tx, period, &ids).await?;
    let mut answered: Vec<Option<Counted>> = Vec::with_capacity(to_count.len());
    let mut still = Vec::new();
    for (centre, zone) in to_count {
        let window = domain::KpiWindow::new(period, zone, now);
        match kept.remove(&centre) {
            Some(kept) if kept.answers(&window, now, max_age) => {
                answered.push(Some(from_kept(period, centre, zone, kept)))
            }
            _ => {
                answered.push(None);
                still.push((centre, window));
            }
        }
    }
    if !still.is_empty() {
        let mut counted = count(&mut tx, period, still, now).await?.into_iter();
        keep(&mut tx, period, counted.as_slice(), Some(now)).await?;
        for slot in answered.iter_mut().filter(|slot| slot.is_none()) {
            *slot = counted.next();
        }
    }
    tx.commit().await?;
    Ok(answered.into_iter().flatten().collect())
}

#[derive(sqlx::FromRow)]
struct KeptRow {
    centre_id: Uuid,
    #[sqlx(flatten)]
    counts: CountsRow,
    window_from: DateTime<Utc>,
    window_to: DateTime<Utc>,
    computed_at: DateTime<Utc>,
}

/// A centre's counts as kept, with the window as it was when counted (volunteers at that
/// instant).
fn from_kept(period: &Period, centre: Uuid, zone: chrono_tz::Tz, kept: Kept) -> Counted {
    Counted {
        centre,
        window: domain::KpiWindow::new(period, zone, kept.computed_at),
        counts: kept.counts,
        registered: kept.registered,
        computed_at: kept.computed_at,
    }
}

/// The kept counts of `centres` for `period`, by centre, as they are (no mark).
async fn kept(
    conn: &mut PgConnection,
    period: &Period,
    centres: &[Uuid],
) -> Result<HashMap<Uuid, Kept>, sqlx::Error> {
    let rows: Vec<KeptRow> = sqlx::query_as(
        "SELECT centre_id, satisfied, satisfaction_answers, aware, awareness_answers, attended,
                active_residents, active_volunteers, trained_staff, staff, own_income_minor,
                expenditure_minor, held_seconds, registered, window_from, window_to, computed_at
         FROM kept_kpis WHERE centre_id = ANY ($1) AND period = $2",
    )
    .bind(centres)
    .bind(period.name())
    .fetch_all(&mut *conn)
    .await?;
    Ok(by_centre(rows))
}

/// The kept counts of `centres` for `period`, by centre; each is marked as asked for at
/// `now` unless it was less than [`ASKED_EVERY`] ago (so reads seldom write), or is being
/// written at that moment (a mark is never waited for: it matters only by the day).
async fn asked(
    conn: &mut PgConnection,
    period: &Period,
    centres: &[Uuid],
    now: DateTime<Utc>,
) -> Result<HashMap<Uuid, Kept>, sqlx::Error> {
    let rows: Vec<KeptRow> = sqlx::query_as(
        "WITH asked AS (
             UPDATE kept_kpis SET last_asked_at = $3
             WHERE period = $2 AND centre_id IN (
                 SELECT centre_id FROM kept_kpis
                 WHERE centre_id = ANY ($1) AND period = $2 AND last_asked_at < $4
                 FOR UPDATE SKIP LOCKED))
         SELECT centre_id, satisfied, satisfaction_answers, aware, awareness_answers, attended,
                active_residents, active_volunteers, trained_staff, staff, own_income_minor,
                expenditure_minor, held_seconds, registered, window_from, window_to, computed_at
         FROM kept_kpis WHERE centre_id = ANY ($1) AND period = $2",
    )
    .bind(centres)
    .bind(period.name())
    .bind(now)
    .bind(now - ASKED_EVERY)
    .fetch_all(&mut *conn)
    .await?;
    Ok(by_centre(rows))
}

fn by_centre(rows: Vec<KeptRow>) -> HashMap<Uuid, Kept> {
    rows.into_iter()
        .map(|row| {
            let (counts, registered) = row.counts.counts();
            let kept = Kept {
                counts,
                registered,
                from: row.window_from,
                to: row.window_to,
                computed_at: row.computed_at,
            };
            (row.centre_id, kept)
        })
        .collect()
}

/// Keeps `counted` for `period`. Asked for (a read's counts, `asked` its time): each is
/// kept, or replaces what is kept, in the order given (reads give centres in id order, so
/// two reads never wait on each other in a cycle). Without (the refresher's): each replaces
/// counts kept before, a row forgotten meanwhile (by a rebuild) stays forgotten, and a row
/// a read is writing is left to it (the refresher never waits on a read). Counts never
/// replace younger ones another read or replica kept meanwhile. Returns the rows written.
async fn keep(
    conn: &mut PgConnection,
    period: &Period,
    counted: &[Counted],
    asked: Option<DateTime<Utc>>,
) -> Result<u64, sqlx::Error> {
    let Some(computed_at) = counted.first().map(|c| c.computed_at) else {
        return Ok(0);
    };
    let query = match asked {
        Some(_) => sqlx::query(
            "INSERT INTO kept_kpis (centre_id, satisfied, satisfaction_answers, aware,
                 awareness_answers, attended, active_residents, active_volunteers, trained_staff,
                 staff, own_income_minor, expenditure_minor, held_seconds, registered,
                 window_from, window_to, period, computed_at, last_asked_at)
             SELECT u.*, $17, $18, $19
             FROM UNNEST($1::uuid[], $2::int8[], $3::int8[], $4::int8[], $5::int8[], $6::int8[],
                         $7::int8[], $8::int8[], $9::int8[], $10::int8[], $11::int8[], $12::int8[],
                         $13::int8[], $14::int8[], $15::timestamptz[], $16::timestamptz[]) AS u
             ON CONFLICT (centre_id, period) DO UPDATE SET
                 satisfied = EXCLUDED.satisfied,
                 satisfaction_answers = EXCLUDED.satisfaction_answers,
                 aware = EXCLUDED.aware,
                 awareness_answers = EXCLUDED.awareness_answers,
                 attended = EXCLUDED.attended,
                 active_residents = EXCLUDED.active_residents,
                 active_volunteers = EXCLUDED.active_volunteers,
                 trained_staff = EXCLUDED.trained_staff,
                 staff = EXCLUDED.staff,
                 own_income_minor = EXCLUDED.own_income_minor,
                 expenditure_minor = EXCLUDED.expenditure_minor,
                 held_seconds = EXCLUDED.held_seconds,
                 registered = EXCLUDED.registered,
                 window_from = EXCLUDED.window_from,
                 window_to = EXCLUDED.window_to,
                 computed_at = EXCLUDED.computed_at,
                 last_asked_at = GREATEST(kept_kpis.last_asked_at, EXCLUDED.last_asked_at)
             WHERE kept_kpis.computed_at <= EXCLUDED.computed_at",
        ),
        None => sqlx::query(
            "WITH free AS (
                 SELECT centre_id FROM kept_kpis
                 WHERE centre_id = ANY ($1) AND period = $17 AND computed_at <= $18
                 FOR UPDATE SKIP LOCKED)
             UPDATE kept_kpis k SET
                 satisfied = u.satisfied,
                 satisfaction_answers = u.satisfaction_answers,
                 aware = u.aware,
                 awareness_answers = u.awareness_answers,
                 attended = u.attended,
                 active_residents = u.active_residents,
                 active_volunteers = u.active_volunteers,
                 trained_staff = u.trained_staff,
                 staff = u.staff,
                 own_income_minor = u.own_income_minor,
                 expenditure_minor = u.expenditure_minor,
                 held_seconds = u.held_seconds,
                 registered = u.registered,
                 window_from = u.window_from,
                 window_to = u.window_to,
                 computed_at = $18
             FROM UNNEST($1::uuid[], $2::int8[], $3::int8[], $4::int8[], $5::int8[], $6::int8[],
                         $7::int8[], $8::int8[], $9::int8[], $10::int8[], $11::int8[], $12::int8[],
                         $13::int8[], $14::int8[], $15::timestamptz[], $16::timestamptz[])
                 AS u(centre_id, satisfied, satisfaction_answers, aware, awareness_answers,
                      attended, active_residents, active_volunteers, trained_staff, staff,
                      own_income_minor, expenditure_minor, held_seconds, registered,
                      window_from, window_to)
             WHERE k.centre_id = u.centre_id AND k.period = $17
               AND k.centre_id IN (SELECT centre_id FROM free)",
        ),
    };
    let column = |f: fn(&domain::KpiCounts) -> i64| -> Vec<i64> {
        counted.iter().map(|c| f(&c.counts)).collect()
    };
    let mut query = query
        .bind(counted.iter().map(|c| c.centre).collect::<Vec<Uuid>>())
        .bind(column(|c| c.satisfied))
        .bind(column(|c| c.satisfaction_answers))
        .bind(column(|c| c.aware))
        .bind(column(|c| c.awareness_answers))
        .bind(column(|c| c.attended))
        .bind(column(|c| c.active_residents))
        .bind(column(|c| c.active_volunteers))
        .bind(column(|c| c.trained_staff))
        .bind(column(|c| c.staff))
        .bind(column(|c| c.own_income_minor))
        .bind(column(|c| c.expenditure_minor))
        .bind(column(|c| c.held_seconds))
        .bind(counted.iter().map(|c| c.registered).collect::<Vec<i64>>())
        .bind(counted.iter().map(|c| c.window.from).collect::<Vec<_>>())
        .bind(counted.iter().map(|c| c.window.to).collect::<Vec<_>>())
        .bind(period.name())
        .bind(computed_at);
    if let Some(asked) = asked {
        query = query.bind(asked);
    }
    Ok(query.execute(&mut *conn).await?.rows_affected())
}

/// Forgets every kept count, inside a rebuild's transaction: they were counted from the
/// projections it empties.
pub async fn forget_all(tx: &mut PgConnection) -> Result<(), sqlx::Error> {
    // Writers wait for the rebuild (readers do not): a read keeping counts row by row
    // while the rebuild deletes them could otherwise deadlock with it.
    sqlx::query("LOCK TABLE kept_kpis IN EXCLUSIVE MODE")
        .execute(&mut *tx)
        .await?;
    sqlx::query("DELETE FROM kept_kpis")
        .execute(&mut *tx)
        .await?;
    Ok(())
}

/// One pass of the refresher at `now`: counts again every kept count asked for in the last
/// [`ASKED_WITHIN`] and older than half the max age, [`REFRESH_BATCH`] centres of one
/// period per statement, each statement on its own (no transaction around them). Only one
/// replica refreshes at a time: the pass holds the refresher's advisory lock on its
/// connection, and returns None at once when another holds it. `stopping` is asked between
/// statements; the pass ends early when it says so. Returns the rows refreshed.
pub async fn refresh(
    pool: &PgPool,
    now: DateTime<Utc>,
    max_age: MaxAge,
    stopping: impl Fn() -> bool,
) -> Result<Option<u64>, sqlx::Error> {
    let mut conn = pool.acquire().await?;
    let leading: bool = sqlx::query_scalar("SELECT pg_try_advisory_lock(hashtext($1))")
        .bind(REFRESHER_LOCK)
        .fetch_one(&mut *conn)
        .await?;
    if !leading {
        return Ok(None);
    }
    let refreshed = refresh_leading(&mut conn, now, max_age, stopping).await;
    let unlocked = refreshed.is_ok()
        && sqlx::query("SELECT pg_advisory_unlock(hashtext($1))")
            .bind(REFRESHER_LOCK)
            .execute(&mut *conn)
            .await
            .is_ok();
    if !unlocked {
        // The lock goes with the connection, which never returns to the pool holding it.
        let _ = conn.close().await;
    }
    refreshed.map(Some)
}

/// The advisory lock one refresher of the service holds while it refreshes.
const REFRESHER_LOCK: &str = "linli evaluation kept_kpis refresher";

async fn refresh_leading(
    conn: &mut PgConnection,
    now: DateTime<Utc>,
    max_age: MaxAge,
    stopping: impl Fn() -> bool,
) -> Result<u64, sqlx::Error> {
    let due: Vec<(Uuid, String)> = sqlx::query_as(
        "SELECT centre_id, period FROM kept_kpis
         WHERE last_asked_at >= $1 AND computed_at < $2
         ORDER BY period, centre_id",
    )
    .bind(now - ASKED_WITHIN)
    .bind(max_age.refresh_before(now))
    .fetch_all(&mut *conn)
    .await?;
    if due.is_empty() {
        return Ok(0);
    }
    let zones: HashMap<Uuid, chrono_tz::Tz> = directory::centres(&mut *conn)
        .await?
        .into_iter()
        .map(|centre| (centre.id, centre.time_zone))
        .collect();
    let mut by_period: Vec<(Period, Vec<(Uuid, chrono_tz::Tz)>)> = Vec::new();
    for (centre, name) in due {
        let (Some(period), Some(zone)) = (Period::parse(&name), zones.get(&centre)) else {
            continue;
        };
        match by_period.last_mut() {
            Some((last, centres)) if *last == period => centres.push((centre, *zone)),
            _ => by_period.push((period, vec![(centre, *zone)])),
        }
    }
    let mut refreshed = 0;
    for (period, centres) in by_period {
        for batch in centres.chunks(REFRESH_BATCH) {
            if stopping() {
                return Ok(refreshed);
            }
            let at = Utc::now().trunc_subsecs(6);
            let windows = batch
                .iter()
                .map(|(centre, zone)| (*centre, domain::KpiWindow::new(&period, *zone, at)))
                .collect();
            let counted = count(conn, &period, windows, at).await?;
            refreshed += keep(conn, &period, &counted, None).await?;
        }
    }
    Ok(refreshed)
}
