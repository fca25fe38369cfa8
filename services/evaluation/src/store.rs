//! Every SQL statement of the evaluation service: the projections of other services'
//! facts (and their log, for rebuilding), the KPI figures, and the instruments.

pub mod alerts;
pub mod board;
pub mod kept;
pub mod reviews;

use chrono::{DateTime, NaiveDate, NaiveTime, Utc};
use linli_platform::bus::{HandlerError, Incoming};
use linli_platform::directory;
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use linli_platform::bus::outbox;
use linli_platform::db::transaction;
use linli_platform::error::Error;
use linli_platform::wire::timestamp;
use linli_proto::events::v1::{NoticePublished, StaffQualityUpdated};

use crate::domain::survey::{self, Given, Question};
use crate::domain::{self, Figure, NoticeDraft, Period};

// ---------------------------------------------------------------------------------------
// The fact log and projections

/// Keeps a fact for rebuilding; a fact already kept is left as it is.
pub async fn log_fact(
    tx: &mut PgConnection,
    event: &linli_platform::bus::Incoming,
    resident: Option<Uuid>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO facts (event_id, routing_key, message_type, centre_id, resident_id, payload, occurred_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (event_id) DO NOTHING",
    )
    .bind(event.id)
    .bind(&event.routing_key)
    .bind(&event.message_type)
    .bind(event.centre_id)
    .bind(resident)
    .bind(&event.payload)
    .bind(event.occurred_at.unwrap_or_else(Utc::now))
    .execute(tx)
    .await?;
    Ok(())
}

/// Logs several facts in one statement, in the order given, each with its resident.
pub async fn log_facts(
    tx: &mut PgConnection,
    facts: &[(&linli_platform::bus::Incoming, Option<Uuid>)],
) -> Result<(), sqlx::Error> {
    let mut ids = Vec::with_capacity(facts.len());
    let mut keys = Vec::with_capacity(facts.len());
    let mut types = Vec::with_capacity(facts.len());
    let mut centres = Vec::with_capacity(facts.len());
    let mut residents = Vec::with_capacity(facts.len());
    let mut payloads = Vec::with_capacity(facts.len());
    let mut times = Vec::with_capacity(facts.len());
    for (event, resident) in facts {
        ids.push(event.id);
        keys.push(event.routing_key.as_str());
        types.push(event.message_type.as_str());
        centres.push(event.centre_id);
        residents.push(*resident);
        payloads.push(event.payload.as_slice());
        times.push(event.occurred_at.unwrap_or_else(Utc::now));
    }
    sqlx::query(
        "INSERT INTO facts (event_id, routing_key, message_type, centre_id, resident_id, payload, occurred_at)
         SELECT f.id, f.key, f.type, f.centre, f.resident, f.payload, f.at
         FROM UNNEST($1::uuid[], $2::text[], $3::text[], $4::uuid[], $5::uuid[], $6::bytea[], $7::timestamptz[])
              WITH ORDINALITY AS f(id, key, type, centre, resident, payload, at, n)
         ORDER BY f.n
         ON CONFLICT (event_id) DO NOTHING",
    )
    .bind(ids)
    .bind(keys)
    .bind(types)
    .bind(centres)
    .bind(residents)
    .bind(payloads)
    .bind(times)
    .execute(tx)
    .await?;
    Ok(())
}

#[derive(sqlx::FromRow)]
pub struct FactRow {
    pub event_id: Uuid,
    pub routing_key: String,
    pub message_type: String,
    pub centre_id: Option<Uuid>,
    pub payload: Vec<u8>,
    pub occurred_at: DateTime<Utc>,
}

/// Replays every fact, in the order it arrived, into emptied projections through `replay`
/// (the consumer's own handling), in one transaction; returns how many it replayed. The
/// facts are locked meanwhile: one rebuild at a time, and consumers wait on the same lock.
pub async fn rebuild_projections(
    pool: &PgPool,
    replay: impl AsyncFn(&Incoming, &mut PgConnection) -> Result<(), HandlerError>,
) -> Result<i64, HandlerError> {
    linli_platform::db::transaction(pool, async |tx| {
        sqlx::query("LOCK TABLE facts IN EXCLUSIVE MODE")
            .execute(&mut *tx)
            .await?;
        clear_projections(tx).await?;
        // Counted from the projections just emptied: counted again from the replay.
        kept::forget_all(tx).await?;
        let facts = facts_in_order(tx).await?;
        let replayed = facts.len() as i64;
        for fact in facts {
            let event = Incoming {
                id: fact.event_id,
                routing_key: fact.routing_key,
                message_type: fact.message_type,
                centre_id: fact.centre_id,
                occurred_at: Some(fact.occurred_at),
                payload: fact.payload,
                delivery_count: 0,
                trace: Default::default(),
            };
            replay(&event, tx).await?;
        }
        Ok(replayed)
    })
    .await
}

/// Empties every projection built from facts, inside `tx`, before a replay.
pub async fn clear_projections(tx: &mut PgConnection) -> Result<(), sqlx::Error> {
    sqlx::query("TRUNCATE attendances, facilities, facility_holds, ledger_effects, volunteer_changes, training_completions")
        .execute(tx)
        .await?;
    Ok(())
}

pub async fn facts_in_order(tx: &mut PgConnection) -> Result<Vec<FactRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT event_id, routing_key, message_type, centre_id, payload, occurred_at FROM facts ORDER BY seq",
    )
    .fetch_all(tx)
    .await
}

/// Erasure: every answer, attendance, follow-up and suggestion loses its link to the
/// resident (the figures keep the answers); the directory forgets them itself, which
/// takes them out of the register count.
pub async fn forget_resident(tx: &mut PgConnection, resident_id: Uuid) -> Result<(), sqlx::Error> {
    // The rows stay for the KPIs (responses, suggestions answered, follow-ups done), without
    // the link to the person or any text that holds their words or their name.
    for statement in [
        "DELETE FROM facts WHERE resident_id = $1",
        "UPDATE attendances SET resident_id = NULL WHERE resident_id = $1",
        "UPDATE answers SET text = ''
         WHERE invitation_id IN (SELECT id FROM invitations WHERE resident_id = $1)",
        "UPDATE invitations SET resident_id = NULL WHERE resident_id = $1",
        "UPDATE follow_ups SET resident_id = NULL, reason = '', outcome = '',
                erased_at = coalesce(erased_at, now())
         WHERE resident_id = $1",
        "UPDATE suggestions SET resident_id = NULL, submitted_by = NULL, text = '', reply = '',
                erased_at = coalesce(erased_at, now())
         WHERE resident_id = $1 OR submitted_by = $1",
        // A post keeps its place in its thread, without the person or their words.
        "UPDATE forum_posts SET author_id = NULL, body = '—', hidden = true WHERE author_id = $1",
        "DELETE FROM forum_reports WHERE reporter_id = $1",
    ] {
        sqlx::query(statement)
            .bind(resident_id)
            .execute(&mut *tx)
            .await?;
    }
    Ok(())
}

pub struct Attendance {
    pub event_id: Uuid,
    pub booking_id: Uuid,
    pub centre_id: Uuid,
    pub offering_id: Uuid,
    pub resident_id: Option<Uuid>,
    pub category: String,
    pub attended_at: DateTime<Utc>,
    /// None for a facility booking.
    pub session_id: Option<Uuid>,
}

/// Records several attendances in one statement.
pub async fn record_attendances(
    tx: &mut PgConnection,
    all: &[Attendance],
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO attendances (event_id, booking_id, centre_id, offering_id, resident_id, category, attended_at, session_id)
         SELECT * FROM UNNEST($1::uuid[], $2::uuid[], $3::uuid[], $4::uuid[], $5::uuid[], $6::text[], $7::timestamptz[], $8::uuid[])
         ON CONFLICT (event_id) DO NOTHING",
    )
    .bind(all.iter().map(|a| a.event_id).collect::<Vec<_>>())
    .bind(all.iter().map(|a| a.booking_id).collect::<Vec<_>>())
    .bind(all.iter().map(|a| a.centre_id).collect::<Vec<_>>())
    .bind(all.iter().map(|a| a.offering_id).collect::<Vec<_>>())
    .bind(all.iter().map(|a| a.resident_id).collect::<Vec<_>>())
    .bind(all.iter().map(|a| a.category.as_str()).collect::<Vec<_>>())
    .bind(all.iter().map(|a| a.attended_at).collect::<Vec<_>>())
    .bind(all.iter().map(|a| a.session_id).collect::<Vec<_>>())
    .execute(tx)
    .await?;
    Ok(())
}

/// A check-in taken back at the desk (`bookings.booking.check_in_undone`).
pub struct UndoneCheckIn {
    pub booking_id: Uuid,
    pub centre_id: Uuid,
    /// None for a facility booking.
    pub session_id: Option<Uuid>,
    /// The delivery the check-in told of; None for a facility booking.
    pub delivery_id: Option<String>,
    pub undone_at: DateTime<Utc>,
}

/// Removes what the check-in recorded: its attendance (of that booking and session,
/// recorded at or before the undo, so a later check-in of the same session still counts)
/// and the satisfaction invitation of its delivery while unanswered (an answer given is
/// kept, with its invitation). Doing it twice removes nothing more.
pub async fn undo_check_in(
    tx: &mut PgConnection,
    undone: &UndoneCheckIn,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "DELETE FROM attendances
         WHERE booking_id = $1 AND centre_id = $2 AND session_id IS NOT DISTINCT FROM $3
           AND attended_at <= $4",
    )
    .bind(undone.booking_id)
    .bind(undone.centre_id)
    .bind(undone.session_id)
    .bind(undone.undone_at)
    .execute(&mut *tx)
    .await?;
    if let Some(delivery) = &undone.delivery_id {
        sqlx::query(
            "DELETE FROM invitations
             WHERE delivery_id = $1 AND centre_id = $2 AND answered_at IS NULL
               AND created_at <= $3
               AND NOT EXISTS (SELECT 1 FROM answers WHERE invitation_id = invitations.id)",
        )
        .bind(delivery)
        .bind(undone.centre_id)
        .bind(undone.undone_at)
        .execute(&mut *tx)
        .await?;
    }
    Ok(())
}

/// The district's satisfaction survey, sent for every delivered service.
pub const SATISFACTION_TEMPLATE: Uuid = Uuid::from_u128(0x5a7e0000_0000_4000_8000_000000000001);
pub const AWARENESS_TEMPLATE: Uuid = Uuid::from_u128(0x5a7e0000_0000_4000_8000_000000000002);

pub struct Delivery {
    pub delivery_id: String,
    pub centre_id: Uuid,
    pub resident_id: Option<Uuid>,
    pub offering_id: Option<Uuid>,
    pub staff_id: Option<Uuid>,
    pub delivered_at: DateTime<Utc>,
}

/// A satisfaction invitation for each delivered service: at most one per delivery.
pub async fn invite_for_deliveries(
    tx: &mut PgConnection,
    all: &[Delivery],
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO invitations (id, centre_id, template_id, resident_id, delivery_id, offering_id, staff_id, created_at)
         SELECT d.id, d.centre, $1, d.resident, d.delivery, d.offering, d.staff, d.at
         FROM UNNEST($2::uuid[], $3::uuid[], $4::uuid[], $5::text[], $6::uuid[], $7::uuid[], $8::timestamptz[])
              WITH ORDINALITY AS d(id, centre, resident, delivery, offering, staff, at, n)
         ORDER BY d.n
         ON CONFLICT (delivery_id) DO NOTHING",
    )
    .bind(SATISFACTION_TEMPLATE)
    .bind(all.iter().map(|_| Uuid::new_v4()).collect::<Vec<_>>())
    .bind(all.iter().map(|d| d.centre_id).collect::<Vec<_>>())
    .bind(all.iter().map(|d| d.resident_id).collect::<Vec<_>>())
    .bind(all.iter().map(|d| d.delivery_id.as_str()).collect::<Vec<_>>())
    .bind(all.iter().map(|d| d.offering_id).collect::<Vec<_>>())
    .bind(all.iter().map(|d| d.staff_id).collect::<Vec<_>>())
    .bind(all.iter().map(|d| d.delivered_at).collect::<Vec<_>>())
    .execute(tx)
    .await?;
    Ok(())
}

/// An entry's effect on evaluation's money figures, from finance.entry.posted.
pub struct LedgerEffect<'a> {
    pub entry: Uuid,
    pub centre: Uuid,
    pub day: NaiveDate,
    pub own_income: i64,
    pub expenditure: i64,
    pub partnership: i64,
    pub currency: &'a str,
}

pub async fn record_ledger_effect(
    tx: &mut PgConnection,
    effect: &LedgerEffect<'_>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO ledger_effects (entry_id, centre_id, entry_date, own_income_minor, expenditure_minor,
                                     partnership_income_minor, currency)
         VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (entry_id) DO NOTHING",
    )
    .bind(effect.entry)
    .bind(effect.centre)
    .bind(effect.day)
    .bind(effect.own_income)
    .bind(effect.expenditure)
    .bind(effect.partnership)
    .bind(if effect.currency.is_empty() {
        "CNY"
    } else {
        effect.currency
    })
    .execute(tx)
    .await?;
    Ok(())
}

pub async fn record_volunteer_change(
    tx: &mut PgConnection,
    event: Uuid,
    volunteer: Uuid,
    centre: Uuid,
    active: bool,
    at: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO volunteer_changes (event_id, volunteer_id, centre_id, active, changed_at)
         VALUES ($1, $2, $3, $4, $5) ON CONFLICT (event_id) DO NOTHING",
    )
    .bind(event)
    .bind(volunteer)
    .bind(centre)
    .bind(active)
    .bind(at)
    .execute(tx)
    .await?;
    Ok(())
}

pub async fn record_training(
    tx: &mut PgConnection,
    completion: Uuid,
    centre: Uuid,
    kind: &str,
    person: Uuid,
    on: NaiveDate,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO training_completions (completion_id, centre_id, person_kind, person_id, completed_on)
         VALUES ($1, $2, $3, $4, $5) ON CONFLICT (completion_id) DO NOTHING",
    )
    .bind(completion)
    .bind(centre)
    .bind(kind)
    .bind(person)
    .bind(on)
    .execute(tx)
    .await?;
    Ok(())
}

pub struct FacilityFact {
    pub id: Uuid,
    pub centre_id: Uuid,
    pub opens: NaiveTime,
    pub closes: NaiveTime,
    pub open_days: Vec<i32>,
    pub time_zone: String,
}

pub async fn record_facility(tx: &mut PgConnection, f: &FacilityFact) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO facilities (id, centre_id, opens, closes, open_days, time_zone) VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (id) DO UPDATE SET opens = EXCLUDED.opens, closes = EXCLUDED.closes,
             open_days = EXCLUDED.open_days, time_zone = EXCLUDED.time_zone",
    )
    .bind(f.id)
    .bind(f.centre_id)
    .bind(f.opens)
    .bind(f.closes)
    .bind(&f.open_days)
    .bind(&f.time_zone)
    .execute(tx)
    .await?;
    Ok(())
}

/// A hold, or a held range moved (the same hold id again).
pub async fn record_hold(
    tx: &mut PgConnection,
    hold: Uuid,
    facility: Uuid,
    centre: Uuid,
    starts: DateTime<Utc>,
    ends: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO facility_holds (hold_id, facility_id, centre_id, starts_at, ends_at) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (hold_id) DO UPDATE SET starts_at = EXCLUDED.starts_at, ends_at = EXCLUDED.ends_at",
    )
    .bind(hold)
    .bind(facility)
    .bind(centre)
    .bind(starts)
    .bind(ends)
    .execute(tx)
    .await?;
    Ok(())
}

pub async fn release_hold(
    tx: &mut PgConnection,
    hold: Uuid,
    at: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE facility_holds SET released_at = LEAST(COALESCE(released_at, $2), $2) WHERE hold_id = $1")
        .bind(hold)
        .bind(at)
        .execute(tx)
        .await?;
    Ok(())
}

// ---------------------------------------------------------------------------------------
// Figures

/// The centres evaluation knows.
pub async fn centres(pool: &PgPool) -> Result<Vec<directory::Centre>, sqlx::Error> {
    let mut conn = pool.acquire().await?;
    directory::centres(&mut conn).await
}

/// The centre's time zone, once the directory knows the centre.
pub async fn centre_zone(pool: &PgPool, centre: Uuid) -> Result<chrono_tz::Tz, directory::Error> {
    let mut conn = pool.acquire().await?;
    directory::time_zone(&mut conn, centre).await
}

/// A centre's figures for one period, as [`kpi_figures`] gives them.
pub struct CentreFigures {
    pub centre: Uuid,
    pub window: domain::KpiWindow,
    /// In [`domain::KPIS`]' order.
    pub figures: Vec<Figure>,
    /// The residents registered there when counted.
    pub registered: i64,
    /// When the counts were taken: the read's own time, or the time kept counts were
    /// taken ([`kept::kpi_figures`]).
    pub computed_at: DateTime<Utc>,
}

/// A centre's counts for one period, counted at `computed_at` over `window`.
struct Counted {
    centre: Uuid,
    window: domain::KpiWindow,
    counts: domain::KpiCounts,
    registered: i64,
    computed_at: DateTime<Utc>,
}

/// Every KPI of each of `centres` for one period, each counted in its own time zone, in
/// the order given. Two statements whatever the number of centres and KPIs: the counts of
/// all centres at once, grouped by centre ([`kpi_counts`]), and their facilities' opening
/// hours. This is what a centre's KPI page and the district's roll-up count when they keep
/// nothing ([`kept::kpi_figures`] keeps these counts for a while), and what the series and
/// an organisation review read; the domain decides the windows and makes the figures.
pub async fn kpi_figures(
    conn: &mut PgConnection,
    period: &Period,
    centres: &[(Uuid, chrono_tz::Tz)],
    now: DateTime<Utc>,
) -> Result<Vec<CentreFigures>, sqlx::Error> {
    let windows: Vec<(Uuid, domain::KpiWindow)> = centres
        .iter()
        .map(|(centre, zone)| (*centre, domain::KpiWindow::new(period, *zone, now)))
        .collect();
    let counted = count(conn, period, windows, now).await?;
    with_figures(conn, period, counted).await
}

/// The counts of every centre in `windows`, in their order, counted at `now`.
async fn count(
    conn: &mut PgConnection,
    period: &Period,
    windows: Vec<(Uuid, domain::KpiWindow)>,
    now: DateTime<Utc>,
) -> Result<Vec<Counted>, sqlx::Error> {
    let counts = kpi_counts(conn, period, &windows).await?;
    Ok(windows
        .into_iter()
        .zip(counts)
        .map(|((centre, window), (counts, registered))| Counted {
            centre,
            window,
            counts,
            registered,
            computed_at: now,
        })
        .collect())
}

/// The figures of each of `counted`, from its counts and its facilities' opening hours as
/// they are now (one statement for all of them).
async fn with_figures(
    conn: &mut PgConnection,
    period: &Period,
    counted: Vec<Counted>,
) -> Result<Vec<CentreFigures>, sqlx::Error> {
    let ids: Vec<Uuid> = counted.iter().map(|c| c.centre).collect();
    let hours = opening_hours(conn, &ids).await?;
    Ok(counted
        .into_iter()
        .map(|c| {
            let facilities: Vec<domain::OpeningHours> = hours
                .iter()
                .filter(|(of, _)| *of == c.centre)
                .map(|(_, h)| h.clone())
                .collect();
            CentreFigures {
                centre: c.centre,
                window: c.window,
                figures: domain::figures(&c.counts, &facilities, period),
                registered: c.registered,
                computed_at: c.computed_at,
            }
        })
        .collect())
}

/// One centre's figures for one period: [`kpi_figures`] for that centre alone.
pub async fn centre_kpi_figures(
    conn: &mut PgConnection,
    period: &Period,
    centre: Uuid,
    zone: chrono_tz::Tz,
    now: DateTime<Utc>,
) -> Result<CentreFigures, sqlx::Error> {
    kpi_figures(conn, period, &[(centre, zone)], now)
        .await?
        .pop()
        .ok_or(sqlx::Error::RowNotFound)
}

#[derive(sqlx::FromRow)]
struct CountsRow {
    satisfied: i64,
    satisfaction_answers: i64,
    aware: i64,
    awareness_answers: i64,
    attended: i64,
    active_residents: i64,
    active_volunteers: i64,
    trained_staff: i64,
    staff: i64,
    own_income_minor: i64,
    expenditure_minor: i64,
    held_seconds: i64,
    registered: i64,
}

impl CountsRow {
    /// The counts, and the residents registered.
    fn counts(self) -> (domain::KpiCounts, i64) {
        let counts = domain::KpiCounts {
            satisfied: self.satisfied,
            satisfaction_answers: self.satisfaction_answers,
            aware: self.aware,
            awareness_answers: self.awareness_answers,
            attended: self.attended,
            active_residents: self.active_residents,
            active_volunteers: self.active_volunteers,
            trained_staff: self.trained_staff,
            staff: self.staff,
            own_income_minor: self.own_income_minor,
            expenditure_minor: self.expenditure_minor,
            held_seconds: self.held_seconds,
        };
        (counts, self.registered)
    }
}

/// The counts behind the KPIs of every centre in `windows` (each over its own window, the
/// books over the period's local dates), and the residents registered there now: one
/// statement, one row per centre in the order given. Each part reads its table once for
/// all the centres, joined to their windows and grouped by centre.
async fn kpi_counts(
    conn: &mut PgConnection,
    period: &Period,
    windows: &[(Uuid, domain::KpiWindow)],
) -> Result<Vec<(domain::KpiCounts, i64)>, sqlx::Error> {
    let column = |f: fn(&domain::KpiWindow) -> DateTime<Utc>| -> Vec<DateTime<Utc>> {
        windows.iter().map(|(_, w)| f(w)).collect()
    };
    let day = |f: fn(&domain::KpiWindow) -> NaiveDate| -> Vec<NaiveDate> {
        windows.iter().map(|(_, w)| f(w)).collect()
    };
    let centres: Vec<Uuid> = windows.iter().map(|(centre, _)| *centre).collect();
    let rows: Vec<CountsRow> = sqlx::query_as(
        "WITH c AS (
             SELECT * FROM UNNEST($1::uuid[], $2::timestamptz[], $3::timestamptz[],
                                  $4::timestamptz[], $5::date[], $6::date[]) WITH ORDINALITY
                 AS c(centre_id, from_at, to_at, volunteers_at, training_on, trained_since, position)),
         satisfaction AS (
             SELECT c.centre_id, count(*) FILTER (WHERE a.score >= 4) AS satisfied, count(*) AS answers
             FROM c JOIN invitations i ON i.centre_id = c.centre_id
                 AND i.answered_at >= c.from_at AND i.answered_at < c.to_at
             JOIN survey_templates t ON t.id = i.template_id
             JOIN answers a ON a.invitation_id = i.id
             WHERE t.kind = 'satisfaction' AND a.key = 'satisfaction' AND a.score IS NOT NULL
             GROUP BY c.centre_id),
         awareness AS (
             SELECT c.centre_id, count(*) FILTER (WHERE 'yes' = ANY (a.choices)) AS aware, count(*) AS answers
             FROM c JOIN invitations i ON i.centre_id = c.centre_id
                 AND i.answered_at >= c.from_at AND i.answered_at < c.to_at
             JOIN survey_templates t ON t.id = i.template_id
             JOIN answers a ON a.invitation_id = i.id
             WHERE t.kind = 'awareness' AND a.key = 'knows_services'
             GROUP BY c.centre_id),
         attended AS (
             SELECT c.centre_id, count(DISTINCT a.resident_id) AS residents
             FROM c JOIN attendances a ON a.centre_id = c.centre_id
                 AND a.attended_at >= c.from_at AND a.attended_at < c.to_at
             WHERE a.resident_id IS NOT NULL
             GROUP BY c.centre_id),
         -- Active: registered before the period ended and not gone before it began.
         residents AS (
             SELECT c.centre_id, count(*) AS registered,
                    count(*) FILTER (WHERE r.registered_at < c.to_at
                                       AND (r.status = 'active' OR r.status_since > $7)) AS active
             FROM c JOIN directory.residents r ON r.centre_id = c.centre_id
             GROUP BY c.centre_id),
         volunteers AS (
             SELECT centre_id, count(*) FILTER (WHERE active) AS active FROM (
                 SELECT DISTINCT ON (v.centre_id, v.volunteer_id) v.centre_id, v.active
                 FROM c JOIN volunteer_changes v ON v.centre_id = c.centre_id
                     AND v.changed_at < c.volunteers_at
                 ORDER BY v.centre_id, v.volunteer_id, v.changed_at DESC, v.event_id) latest
             GROUP BY centre_id),
         training AS (
             SELECT c.centre_id,
                    count(*) FILTER (WHERE EXISTS (
                        SELECT 1 FROM training_completions t
                        WHERE t.person_id = s.id AND t.person_kind = 'staff'
                          AND t.completed_on > c.trained_since AND t.completed_on <= c.training_on)) AS trained,
                    count(*) AS staff
             FROM c JOIN directory.staff s ON s.centre_id = c.centre_id
                 AND s.employed_from <= c.training_on
                 AND (s.employed_until IS NULL OR s.employed_until >= c.training_on)
             GROUP BY c.centre_id),
         money AS (
             SELECT centre_id, sum(own_income_minor) AS own_income_minor,
                    sum(expenditure_minor) AS expenditure_minor
             FROM ledger_effects
             WHERE centre_id = ANY ($1) AND entry_date >= $7 AND entry_date < $8
             GROUP BY centre_id),
         holds AS (
             SELECT c.centre_id, sum(GREATEST(0, EXTRACT(EPOCH FROM
                        LEAST(h.ends_at, COALESCE(h.released_at, 'infinity'), c.to_at)
                        - GREATEST(h.starts_at, c.from_at)))) AS seconds
             FROM c JOIN facility_holds h ON h.centre_id = c.centre_id
                 AND h.starts_at < c.to_at AND h.ends_at > c.from_at
             GROUP BY c.centre_id)
         SELECT COALESCE(satisfaction.satisfied, 0) AS satisfied,
                COALESCE(satisfaction.answers, 0) AS satisfaction_answers,
                COALESCE(awareness.aware, 0) AS aware,
                COALESCE(awareness.answers, 0) AS awareness_answers,
                COALESCE(attended.residents, 0) AS attended,
                COALESCE(residents.active, 0) AS active_residents,
                COALESCE(volunteers.active, 0) AS active_volunteers,
                COALESCE(training.trained, 0) AS trained_staff,
                COALESCE(training.staff, 0) AS staff,
                COALESCE(money.own_income_minor, 0)::bigint AS own_income_minor,
                COALESCE(money.expenditure_minor, 0)::bigint AS expenditure_minor,
                COALESCE(holds.seconds, 0)::bigint AS held_seconds,
                COALESCE(residents.registered, 0) AS registered
         FROM c
         LEFT JOIN satisfaction USING (centre_id)
         LEFT JOIN awareness USING (centre_id)
         LEFT JOIN attended USING (centre_id)
         LEFT JOIN residents USING (centre_id)
         LEFT JOIN volunteers USING (centre_id)
         LEFT JOIN training USING (centre_id)
         LEFT JOIN money USING (centre_id)
         LEFT JOIN holds USING (centre_id)
         ORDER BY c.position",
    )
    .bind(&centres)
    .bind(column(|w| w.from))
    .bind(column(|w| w.to))
    .bind(column(|w| w.volunteers_at))
    .bind(day(|w| w.training_on))
    .bind(day(|w| w.trained_since))
    .bind(period.start)
    .bind(period.end)
    .fetch_all(&mut *conn)
    .await?;
    Ok(rows.into_iter().map(CountsRow::counts).collect())
}

/// The opening hours of every facility of `centres`, with its centre.
async fn opening_hours(
    conn: &mut PgConnection,
    centres: &[Uuid],
) -> Result<Vec<(Uuid, domain::OpeningHours)>, sqlx::Error> {
    let rows: Vec<(Uuid, NaiveTime, NaiveTime, Vec<i32>)> = sqlx::query_as(
        "SELECT centre_id, opens, closes, open_days FROM facilities WHERE centre_id = ANY ($1)",
    )
    .bind(centres)
    .fetch_all(&mut *conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(centre, opens, closes, days)| {
            (
                centre,
                domain::OpeningHours {
                    opens,
                    closes,
                    days,
                },
            )
        })
        .collect())
}

/// Quality figures: mean 1–5 scores and the share done on time.
#[derive(Debug, Default, sqlx::FromRow)]
pub struct Quality {
    pub effectiveness: f64,
    pub professionalism: f64,
    pub satisfaction: f64,
    pub responses: i64,
    pub timeliness: f64,
}

pub async fn quality(
    conn: &mut PgConnection,
    centre: Uuid,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    offering: Option<Uuid>,
    staff: Option<Uuid>,
) -> Result<Quality, sqlx::Error> {
    let mut q: Quality = sqlx::query_as(
        "SELECT COALESCE(avg(a.score) FILTER (WHERE a.key = 'effectiveness'), 0)::float8 AS effectiveness,
                COALESCE(avg(a.score) FILTER (WHERE a.key = 'professionalism'), 0)::float8 AS professionalism,
                COALESCE(avg(a.score) FILTER (WHERE a.key = 'satisfaction'), 0)::float8 AS satisfaction,
                count(DISTINCT i.id) AS responses, 0::float8 AS timeliness
         FROM invitations i JOIN answers a ON a.invitation_id = i.id
         WHERE i.centre_id = $1 AND i.answered_at >= $2 AND i.answered_at < $3
           AND ($4::uuid IS NULL OR i.offering_id = $4) AND ($5::uuid IS NULL OR i.staff_id = $5)",
    )
    .bind(centre)
    .bind(from)
    .bind(to)
    .bind(offering)
    .bind(staff)
    .fetch_one(&mut *conn)
    .await?;
    let (on_time, all): (i64, i64) = match (offering, staff) {
        (_, Some(staff)) => {
            sqlx::query_as(
                "SELECT count(*) FILTER (WHERE done_at::date <= due_on), count(*) FROM follow_ups
                 WHERE centre_id = $1 AND staff_id = $2 AND done_at >= $3 AND done_at < $4",
            )
            .bind(centre)
            .bind(staff)
            .bind(from)
            .bind(to)
            .fetch_one(&mut *conn)
            .await?
        }
        (Some(_), None) => (0, 0),
        (None, None) => {
            sqlx::query_as(
                "SELECT count(*) FILTER (WHERE answered_at - received_at <= interval '5 days'), count(*)
                 FROM suggestions WHERE centre_id = $1 AND answered_at >= $2 AND answered_at < $3",
            )
            .bind(centre)
            .bind(from)
            .bind(to)
            .fetch_one(&mut *conn)
            .await?
        }
    };
    q.timeliness = if all > 0 {
        on_time as f64 / all as f64
    } else {
        0.0
    };
    Ok(q)
}

// ---------------------------------------------------------------------------------------
// Surveys

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct TemplateRow {
    pub id: Uuid,
    pub centre_id: Option<Uuid>,
    pub kind: String,
    pub title: String,
}

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct QuestionRow {
    pub template_id: Uuid,
    pub key: String,
    pub text: String,
    pub kind: String,
    pub options: Vec<String>,
}

pub async fn templates(
    pool: &PgPool,
    centre: Uuid,
) -> Result<(Vec<TemplateRow>, Vec<QuestionRow>), sqlx::Error> {
    let templates: Vec<TemplateRow> = sqlx::query_as(
        "SELECT id, centre_id, kind, title FROM survey_templates
         WHERE centre_id IS NULL OR centre_id = $1 ORDER BY created_at, id",
    )
    .bind(centre)
    .fetch_all(pool)
    .await?;
    let ids: Vec<Uuid> = templates.iter().map(|t| t.id).collect();
    let questions = sqlx::query_as(
        "SELECT template_id, key, text, kind, options FROM survey_questions
         WHERE template_id = ANY($1) ORDER BY template_id, position",
    )
    .bind(&ids)
    .fetch_all(pool)
    .await?;
    Ok((templates, questions))
}

pub async fn create_template(
    pool: &PgPool,
    template: &TemplateRow,
    questions: &[QuestionRow],
) -> Result<(), sqlx::Error> {
    let mut tx = linli_platform::db::begin(pool).await?;
    sqlx::query(
        "INSERT INTO survey_templates (id, centre_id, kind, title) VALUES ($1, $2, $3, $4)",
    )
    .bind(template.id)
    .bind(template.centre_id)
    .bind(&template.kind)
    .bind(&template.title)
    .execute(&mut *tx)
    .await?;
    for (position, q) in questions.iter().enumerate() {
        sqlx::query(
            "INSERT INTO survey_questions (template_id, position, key, text, kind, options)
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(template.id)
        .bind(position as i32 + 1)
        .bind(&q.key)
        .bind(&q.text)
        .bind(&q.kind)
        .bind(&q.options)
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await
}

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct InvitationRow {
    pub id: Uuid,
    pub centre_id: Uuid,
    pub template_id: Uuid,
    pub resident_id: Option<Uuid>,
    pub delivery_id: Option<String>,
    pub offering_id: Option<Uuid>,
    pub staff_id: Option<Uuid>,
    pub created_at: DateTime<Utc>,
    pub answered_at: Option<DateTime<Utc>>,
}

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct AnswerRow {
    pub invitation_id: Uuid,
    pub key: String,
    pub score: Option<i32>,
    pub choices: Vec<String>,
    pub text: String,
}

macro_rules! invitation_columns {
    () => {
        "id, centre_id, template_id, resident_id, delivery_id, offering_id, staff_id, created_at, answered_at"
    };
}

pub async fn find_template(
    pool: &PgPool,
    centre: Uuid,
    id: Uuid,
) -> Result<Option<TemplateRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT id, centre_id, kind, title FROM survey_templates WHERE id = $1 AND (centre_id IS NULL OR centre_id = $2)",
    )
    .bind(id)
    .bind(centre)
    .fetch_optional(pool)
    .await
}

pub async fn create_invitation(pool: &PgPool, row: &InvitationRow) -> Result<(), sqlx::Error> {
    let mut tx = linli_platform::db::begin(pool).await?;
    sqlx::query(
        "INSERT INTO invitations (id, centre_id, template_id, resident_id, created_at) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(row.id)
    .bind(row.centre_id)
    .bind(row.template_id)
    .bind(row.resident_id)
    .bind(row.created_at)
    .execute(&mut *tx)
    .await?;
    tx.commit().await
}

/// A centre's survey invitations (and their answers), newest first, after the keyset
/// `after` (created_at, id), at most `limit`.
pub async fn list_invitations(
    pool: &PgPool,
    centre: Uuid,
    resident: Option<Uuid>,
    delivery: Option<&str>,
    unanswered_only: bool,
    after: Option<(DateTime<Utc>, Uuid)>,
    limit: i64,
) -> Result<(Vec<InvitationRow>, Vec<AnswerRow>), sqlx::Error> {
    let rows: Vec<InvitationRow> = sqlx::query_as(concat!(
        "SELECT ",
        invitation_columns!(),
        " FROM invitations WHERE centre_id = $1 AND ($2::uuid IS NULL OR resident_id = $2)
           AND ($3::text IS NULL OR delivery_id = $3) AND (NOT $4 OR answered_at IS NULL)
           AND ($5::timestamptz IS NULL OR (created_at, id) < ($5, $6))
         ORDER BY created_at DESC, id DESC LIMIT $7"
    ))
    .bind(centre)
    .bind(resident)
    .bind(delivery)
    .bind(unanswered_only)
    .bind(after.map(|(at, _)| at))
    .bind(after.map(|(_, id)| id))
    .bind(limit)
    .fetch_all(pool)
    .await?;
    let ids: Vec<Uuid> = rows.iter().map(|r| r.id).collect();
    let answers = sqlx::query_as(
        "SELECT invitation_id, key, score, choices, text FROM answers WHERE invitation_id = ANY($1) ORDER BY key",
    )
    .bind(&ids)
    .fetch_all(pool)
    .await?;
    Ok((rows, answers))
}

/// Locks an invitation of the centre for its one response.
pub async fn lock_invitation(
    tx: &mut PgConnection,
    centre: Uuid,
    id: Uuid,
) -> Result<Option<InvitationRow>, sqlx::Error> {
    sqlx::query_as(concat!(
        "SELECT ",
        invitation_columns!(),
        " FROM invitations WHERE centre_id = $1 AND id = $2 FOR UPDATE"
    ))
    .bind(centre)
    .bind(id)
    .fetch_optional(tx)
    .await
}

pub async fn questions_of(
    tx: &mut PgConnection,
    template: Uuid,
) -> Result<Vec<QuestionRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT template_id, key, text, kind, options FROM survey_questions WHERE template_id = $1 ORDER BY position",
    )
    .bind(template)
    .fetch_all(tx)
    .await
}

pub async fn record_answers(
    tx: &mut PgConnection,
    invitation: Uuid,
    answers: &[AnswerRow],
    at: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    for a in answers {
        sqlx::query(
            "INSERT INTO answers (invitation_id, key, score, choices, text) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(invitation)
        .bind(&a.key)
        .bind(a.score)
        .bind(&a.choices)
        .bind(&a.text)
        .execute(&mut *tx)
        .await?;
    }
    sqlx::query("UPDATE invitations SET answered_at = $2 WHERE id = $1")
        .bind(invitation)
        .bind(at)
        .execute(tx)
        .await?;
    Ok(())
}

/// Records the one response to an invitation of the centre that `visible` admits (any
/// other is not found): the answers [`survey::answers`] keeps, and when a staff member
/// delivered the service, their month's figures republished ([`survey::quality_update`],
/// `evaluation.staff.quality_updated` in the outbox), in one transaction.
pub async fn respond(
    pool: &PgPool,
    centre: Uuid,
    id: Uuid,
    visible: impl Fn(&InvitationRow) -> bool,
    given: &[Given<'_>],
    now: DateTime<Utc>,
) -> Result<(InvitationRow, Vec<AnswerRow>), Error> {
    transaction(pool, async |tx| -> Result<_, Error> {
        let invitation = (lock_invitation(tx, centre, id).await?)
            .filter(|invitation| visible(invitation))
            .ok_or(Error::NotFound("invitation"))?;
        survey::not_answered(invitation.answered_at)?;
        let rows = questions_of(tx, invitation.template_id).await?;
        let questions: Vec<Question<'_>> = (rows.iter())
            .map(|q| Question {
                key: &q.key,
                text: &q.text,
                kind: &q.kind,
                options: &q.options,
            })
            .collect();
        let answers: Vec<AnswerRow> = (survey::answers(&questions, given)?.into_iter())
            .map(|a| AnswerRow {
                invitation_id: id,
                key: a.key,
                score: a.score,
                choices: a.choices,
                text: a.text,
            })
            .collect();
        record_answers(tx, id, &answers, now).await?;
        if invitation.staff_id.is_some() {
            let zone = centre_zone(pool, centre).await?;
            if let Some((staff, month)) = survey::quality_update(invitation.staff_id, now, zone) {
                let (from, to) = month.bounds(zone);
                let q = quality(tx, centre, from, to, None, Some(staff)).await?;
                let event = StaffQualityUpdated {
                    staff_id: staff.to_string(),
                    centre_id: centre.to_string(),
                    period: month.name(),
                    satisfaction: q.satisfaction,
                    effectiveness: q.effectiveness,
                    professionalism: q.professionalism,
                    responses: q.responses,
                    updated_at: Some(timestamp(now)),
                };
                outbox::enqueue(tx, Some(centre), &event).await?;
            }
        }
        let answered = InvitationRow {
            answered_at: Some(now),
            ..invitation
        };
        Ok((answered, answers))
    })
    .await
}

// ---------------------------------------------------------------------------------------
// Follow-ups, inspections, suggestions

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct FollowUpRow {
    pub id: Uuid,
    pub centre_id: Uuid,
    pub resident_id: Option<Uuid>,
    pub staff_id: Uuid,
    pub reason: String,
    pub due_on: NaiveDate,
    pub status: String,
    pub outcome: String,
    pub done_at: Option<DateTime<Utc>>,
}

macro_rules! follow_up_columns {
    () => {
        "id, centre_id, resident_id, staff_id, reason, due_on, status, outcome, done_at"
    };
}

pub async fn create_follow_up(pool: &PgPool, row: &FollowUpRow) -> Result<(), sqlx::Error> {
    let mut tx = linli_platform::db::begin(pool).await?;
    sqlx::query(
        "INSERT INTO follow_ups (id, centre_id, resident_id, staff_id, reason, due_on) VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(row.id)
    .bind(row.centre_id)
    .bind(row.resident_id)
    .bind(row.staff_id)
    .bind(&row.reason)
    .bind(row.due_on)
    .execute(&mut *tx)
    .await?;
    tx.commit().await
}

/// Closes an open follow-up; one already closed is returned unchanged (`false`).
pub async fn complete_follow_up(
    pool: &PgPool,
    centre: Uuid,
    id: Uuid,
    status: &str,
    outcome: &str,
    at: DateTime<Utc>,
) -> Result<Option<(FollowUpRow, bool)>, sqlx::Error> {
    let updated: Option<FollowUpRow> = sqlx::query_as(concat!(
        "UPDATE follow_ups SET status = $3, outcome = $4, done_at = $5
         WHERE centre_id = $1 AND id = $2 AND status = 'open' RETURNING ",
        follow_up_columns!()
    ))
    .bind(centre)
    .bind(id)
    .bind(status)
    .bind(outcome)
    .bind(at)
    .fetch_optional(pool)
    .await?;
    if let Some(row) = updated {
        return Ok(Some((row, true)));
    }
    let existing: Option<FollowUpRow> = sqlx::query_as(concat!(
        "SELECT ",
        follow_up_columns!(),
        " FROM follow_ups WHERE centre_id = $1 AND id = $2"
    ))
    .bind(centre)
    .bind(id)
    .fetch_optional(pool)
    .await?;
    Ok(existing.map(|row| (row, false)))
}

/// A centre's follow-ups, the soonest due first, after the keyset `after` (due_on, id), at
/// most `limit`.
pub async fn list_follow_ups(
    pool: &PgPool,
    centre: Uuid,
    staff: Option<Uuid>,
    open_only: bool,
    after: Option<(NaiveDate, Uuid)>,
    limit: i64,
) -> Result<Vec<FollowUpRow>, sqlx::Error> {
    sqlx::query_as(concat!(
        "SELECT ",
        follow_up_columns!(),
        " FROM follow_ups WHERE centre_id = $1 AND ($2::uuid IS NULL OR staff_id = $2) AND (NOT $3 OR status = 'open')
           AND ($4::date IS NULL OR (due_on, id) > ($4, $5))
         ORDER BY due_on, id LIMIT $6"
    ))
    .bind(centre)
    .bind(staff)
    .bind(open_only)
    .bind(after.map(|(due, _)| due))
    .bind(after.map(|(_, id)| id))
    .bind(limit)
    .fetch_all(pool)
    .await
}

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct InspectionRow {
    pub id: Uuid,
    pub centre_id: Uuid,
    pub inspector: String,
    pub inspected_on: NaiveDate,
}

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct InspectionItemRow {
    pub inspection_id: Uuid,
    pub item: String,
    pub passed: bool,
    pub score: i32,
    pub note: String,
}

pub async fn record_inspection(
    pool: &PgPool,
    row: &InspectionRow,
    items: &[InspectionItemRow],
) -> Result<(), sqlx::Error> {
    let mut tx = linli_platform::db::begin(pool).await?;
    sqlx::query(
        "INSERT INTO inspections (id, centre_id, inspector, inspected_on) VALUES ($1, $2, $3, $4)",
    )
    .bind(row.id)
    .bind(row.centre_id)
    .bind(&row.inspector)
    .bind(row.inspected_on)
    .execute(&mut *tx)
    .await?;
    for (position, item) in items.iter().enumerate() {
        sqlx::query(
            "INSERT INTO inspection_items (inspection_id, position, item, passed, score, note)
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(row.id)
        .bind(position as i32 + 1)
        .bind(&item.item)
        .bind(item.passed)
        .bind(item.score)
        .bind(&item.note)
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await
}

/// A centre's inspections (and their items), the latest first, after the keyset `after`
/// (inspected_on, id), at most `limit`.
pub async fn list_inspections(
    pool: &PgPool,
    centre: Uuid,
    after: Option<(NaiveDate, Uuid)>,
    limit: i64,
) -> Result<(Vec<InspectionRow>, Vec<InspectionItemRow>), sqlx::Error> {
    let rows: Vec<InspectionRow> = sqlx::query_as(
        "SELECT id, centre_id, inspector, inspected_on FROM inspections WHERE centre_id = $1
           AND ($2::date IS NULL OR (inspected_on, id) < ($2, $3))
         ORDER BY inspected_on DESC, id DESC LIMIT $4",
    )
    .bind(centre)
    .bind(after.map(|(on, _)| on))
    .bind(after.map(|(_, id)| id))
    .bind(limit)
    .fetch_all(pool)
    .await?;
    let ids: Vec<Uuid> = rows.iter().map(|r| r.id).collect();
    let items = sqlx::query_as(
        "SELECT inspection_id, item, passed, score, note FROM inspection_items
         WHERE inspection_id = ANY($1) ORDER BY inspection_id, position",
    )
    .bind(&ids)
    .fetch_all(pool)
    .await?;
    Ok((rows, items))
}

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct SuggestionRow {
    pub id: Uuid,
    pub centre_id: Uuid,
    pub resident_id: Option<Uuid>,
    pub channel: String,
    pub text: String,
    pub status: String,
    pub reply: String,
    pub received_at: DateTime<Utc>,
    pub answered_at: Option<DateTime<Utc>>,
}

macro_rules! suggestion_columns {
    () => {
        "id, centre_id, resident_id, channel, text, status, reply, received_at, answered_at"
    };
}

pub async fn create_suggestion(pool: &PgPool, row: &SuggestionRow) -> Result<(), sqlx::Error> {
    let mut tx = linli_platform::db::begin(pool).await?;
    sqlx::query(
        "INSERT INTO suggestions (id, centre_id, resident_id, channel, text, received_at) VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(row.id)
    .bind(row.centre_id)
    .bind(row.resident_id)
    .bind(&row.channel)
    .bind(&row.text)
    .bind(row.received_at)
    .execute(&mut *tx)
    .await?;
    tx.commit().await
}

/// Moves one of the centre's suggestions to `to` when its flow allows
/// ([`domain::suggestion_move`]), with the reply of an answer, in one transaction.
pub async fn move_suggestion(
    pool: &PgPool,
    centre: Uuid,
    id: Uuid,
    to: &str,
    reply: Option<&str>,
    at: DateTime<Utc>,
) -> Result<SuggestionRow, Error> {
    transaction(pool, async |tx| -> Result<_, Error> {
        let (current,): (String,) = sqlx::query_as(
            "SELECT status FROM suggestions WHERE centre_id = $1 AND id = $2 FOR UPDATE",
        )
        .bind(centre)
        .bind(id)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or(Error::NotFound("suggestion"))?;
        domain::suggestion_move(&current, to).map_err(Error::State)?;
        Ok(sqlx::query_as(concat!(
            "UPDATE suggestions SET status = $2, reply = COALESCE($3, reply),
                 answered_at = CASE WHEN $2 = 'answered' THEN $4 ELSE answered_at END,
                 closed_at = CASE WHEN $2 = 'closed' THEN $4 ELSE closed_at END
             WHERE id = $1 RETURNING ",
            suggestion_columns!()
        ))
        .bind(id)
        .bind(to)
        .bind(reply)
        .bind(at)
        .fetch_one(&mut *tx)
        .await?)
    })
    .await
}

/// A centre's suggestions in the order received, after the keyset `after` (received_at,
/// id), at most `limit`.
pub async fn list_suggestions(
    pool: &PgPool,
    centre: Uuid,
    status: Option<&str>,
    after: Option<(DateTime<Utc>, Uuid)>,
    limit: i64,
) -> Result<Vec<SuggestionRow>, sqlx::Error> {
    sqlx::query_as(concat!(
        "SELECT ",
        suggestion_columns!(),
        " FROM suggestions WHERE centre_id = $1 AND ($2::text IS NULL OR status = $2)
           AND ($3::timestamptz IS NULL OR (received_at, id) > ($3, $4))
         ORDER BY received_at, id LIMIT $5"
    ))
    .bind(centre)
    .bind(status)
    .bind(after.map(|(at, _)| at))
    .bind(after.map(|(_, id)| id))
    .bind(limit)
    .fetch_all(pool)
    .await
}

// ---------------------------------------------------------------------------------------
// A resident's copy of their data

/// Everything evaluation holds about one resident at a centre.
pub struct ResidentData {
    pub invitations: Vec<InvitationRow>,
    pub answers: Vec<AnswerRow>,
    pub follow_ups: Vec<FollowUpRow>,
    pub suggestions: Vec<SuggestionRow>,
}

/// Reads all of it, whole: a copy cut at a page would be silently partial.
pub async fn resident_data(
    pool: &PgPool,
    centre: Uuid,
    resident: Uuid,
) -> Result<ResidentData, sqlx::Error> {
    let mut conn = pool.acquire().await?;
    let invitations: Vec<InvitationRow> = sqlx::query_as(concat!(
        "SELECT ",
        invitation_columns!(),
        " FROM invitations WHERE centre_id = $1 AND resident_id = $2 ORDER BY created_at, id"
    ))
    .bind(centre)
    .bind(resident)
    .fetch_all(&mut *conn)
    .await?;
    let ids: Vec<Uuid> = invitations.iter().map(|i| i.id).collect();
    let answers = sqlx::query_as(
        "SELECT invitation_id, key, score, choices, text FROM answers
         WHERE invitation_id = ANY($1) ORDER BY invitation_id, key",
    )
    .bind(&ids)
    .fetch_all(&mut *conn)
    .await?;
    let follow_ups = sqlx::query_as(concat!(
        "SELECT ",
        follow_up_columns!(),
        " FROM follow_ups WHERE centre_id = $1 AND resident_id = $2 ORDER BY due_on, id"
    ))
    .bind(centre)
    .bind(resident)
    .fetch_all(&mut *conn)
    .await?;
    let suggestions = sqlx::query_as(concat!(
        "SELECT ",
        suggestion_columns!(),
        " FROM suggestions WHERE centre_id = $1 AND resident_id = $2 ORDER BY received_at, id"
    ))
    .bind(centre)
    .bind(resident)
    .fetch_all(&mut *conn)
    .await?;
    Ok(ResidentData {
        invitations,
        answers,
        follow_ups,
        suggestions,
    })
}

// ---------------------------------------------------------------------------------------
// Notices, and the suggestions a resident sent themselves

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct NoticeRow {
    pub id: Uuid,
    pub centre_id: Uuid,
    pub title: String,
    pub body: String,
    pub kind: String,
    pub publish_from: DateTime<Utc>,
    pub publish_until: Option<DateTime<Utc>>,
    pub pinned: bool,
    pub audience_categories: Vec<String>,
    pub audience_age_bands: Vec<String>,
    pub offering_id: Option<Uuid>,
    pub session_id: Option<Uuid>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// The order notices are listed in, and their keyset: pinned first, then the latest to
/// show first.
pub type NoticeKey = (bool, DateTime<Utc>, Uuid);

macro_rules! notice_columns {
    () => {
        "id, centre_id, title, body, kind, publish_from, publish_until, pinned,
         audience_categories, audience_age_bands, offering_id, session_id, created_at, updated_at"
    };
}

/// Stores a new notice and publishes it, in one transaction.
pub async fn create_notice(
    pool: &PgPool,
    centre: Uuid,
    draft: &NoticeDraft,
    now: DateTime<Utc>,
) -> Result<NoticeRow, Error> {
    write_notice(pool, centre, None, draft, now).await
}

/// Replaces what staff wrote on one of the centre's notices and publishes it again, in
/// one transaction; not found when the centre has no such notice.
pub async fn update_notice(
    pool: &PgPool,
    centre: Uuid,
    id: Uuid,
    draft: &NoticeDraft,
    now: DateTime<Utc>,
) -> Result<NoticeRow, Error> {
    write_notice(pool, centre, Some(id), draft, now).await
}

/// Inserts (no `id`) or updates the notice with `draft`, then publishes it. Both
/// statements take the same parameters: id, centre, the draft's ten fields, now.
async fn write_notice(
    pool: &PgPool,
    centre: Uuid,
    id: Option<Uuid>,
    draft: &NoticeDraft,
    now: DateTime<Utc>,
) -> Result<NoticeRow, Error> {
    let sql: &'static str = if id.is_some() {
        concat!(
            "UPDATE notices SET title = $3, body = $4, kind = $5, publish_from = $6,
                 publish_until = $7, pinned = $8, audience_categories = $9,
                 audience_age_bands = $10, offering_id = $11, session_id = $12, updated_at = $13
             WHERE id = $1 AND centre_id = $2 RETURNING ",
            notice_columns!()
        )
    } else {
        concat!(
            "INSERT INTO notices (id, centre_id, title, body, kind, publish_from, publish_until,
                 pinned, audience_categories, audience_age_bands, offering_id, session_id,
                 created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $13) RETURNING ",
            notice_columns!()
        )
    };
    transaction(pool, async |tx| -> Result<_, Error> {
        let row: NoticeRow = sqlx::query_as(sql)
            .bind(id.unwrap_or_else(Uuid::new_v4))
            .bind(centre)
            .bind(&draft.title)
            .bind(&draft.body)
            .bind(&draft.kind)
            .bind(draft.publish_from)
            .bind(draft.publish_until)
            .bind(draft.pinned)
            .bind(&draft.audience_categories)
            .bind(&draft.audience_age_bands)
            .bind(draft.offering_id)
            .bind(draft.session_id)
            .bind(now)
            .fetch_optional(&mut *tx)
            .await?
            .ok_or(Error::NotFound("notice"))?;
        publish_notice(tx, &row, now).await?;
        Ok(row)
    })
    .await
}

/// A notice issued, and every change to one, is published (`evaluation.notice.published`
/// in the outbox, in the change's transaction): the residents' site and the other
/// services learn of it whatever changed.
async fn publish_notice(
    tx: &mut PgConnection,
    row: &NoticeRow,
    now: DateTime<Utc>,
) -> Result<(), Error> {
    let event = NoticePublished {
        notice_id: row.id.to_string(),
        centre_id: row.centre_id.to_string(),
        title: row.title.clone(),
        kind: row.kind.clone(),
        publish_from: Some(timestamp(row.publish_from)),
        publish_until: row.publish_until.map(timestamp),
        pinned: row.pinned,
        audience_categories: row.audience_categories.clone(),
        audience_age_bands: row.audience_age_bands.clone(),
        offering_id: row.offering_id.map(|id| id.to_string()).unwrap_or_default(),
        session_id: row.session_id.map(|id| id.to_string()).unwrap_or_default(),
        published_at: Some(timestamp(now)),
    };
    outbox::enqueue(tx, Some(row.centre_id), &event).await?;
    Ok(())
}

/// A centre's notices for staff, in `state` at `now` (or all), after `after`.
pub async fn list_notices(
    pool: &PgPool,
    centre: Uuid,
    state: Option<&str>,
    now: DateTime<Utc>,
    after: Option<NoticeKey>,
    limit: i64,
) -> Result<Vec<NoticeRow>, sqlx::Error> {
    sqlx::query_as(concat!(
        "SELECT ",
        notice_columns!(),
        " FROM notices WHERE centre_id = $1
           AND CASE $2::text
                 WHEN 'scheduled' THEN publish_from > $3
                 WHEN 'published' THEN publish_from <= $3 AND (publish_until IS NULL OR publish_until > $3)
                 WHEN 'ended' THEN publish_until <= $3
                 ELSE true END
           AND ($4::boolean IS NULL OR (pinned, publish_from, id) < ($4, $5, $6))
         ORDER BY pinned DESC, publish_from DESC, id DESC LIMIT $7"
    ))
    .bind(centre)
    .bind(state)
    .bind(now)
    .bind(after.map(|k| k.0))
    .bind(after.map(|k| k.1))
    .bind(after.map(|k| k.2))
    .bind(limit)
    .fetch_all(pool)
    .await
}

/// The notices of `centre` shown at `now` to `resident` (by the directory's age band and
/// categories, with the rule of `domain::in_audience`), after `after`. A resident the
/// directory does not hold sees nothing.
pub async fn notices_for_resident(
    pool: &PgPool,
    centre: Uuid,
    resident: Uuid,
    now: DateTime<Utc>,
    after: Option<NoticeKey>,
    limit: i64,
) -> Result<Vec<NoticeRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT n.* FROM notices n
           JOIN directory.residents r ON r.id = $2 AND r.centre_id = n.centre_id
         WHERE n.centre_id = $1 AND n.publish_from <= $3
           AND (n.publish_until IS NULL OR n.publish_until > $3)
           AND ((cardinality(n.audience_categories) = 0 AND cardinality(n.audience_age_bands) = 0)
                OR r.age_band = ANY (n.audience_age_bands)
                OR r.categories && n.audience_categories)
           AND ($4::boolean IS NULL OR (n.pinned, n.publish_from, n.id) < ($4, $5, $6))
         ORDER BY n.pinned DESC, n.publish_from DESC, n.id DESC LIMIT $7",
    )
    .bind(centre)
    .bind(resident)
    .bind(now)
    .bind(after.map(|k| k.0))
    .bind(after.map(|k| k.1))
    .bind(after.map(|k| k.2))
    .bind(limit)
    .fetch_all(pool)
    .await
}

/// Records a suggestion a resident sent themselves: `submitted_by` is them; `resident_id`
/// too unless they asked to stay anonymous.
pub async fn create_own_suggestion(
    pool: &PgPool,
    row: &SuggestionRow,
    submitted_by: Uuid,
) -> Result<(), sqlx::Error> {
    let mut tx = linli_platform::db::begin(pool).await?;
    sqlx::query(
        "INSERT INTO suggestions (id, centre_id, resident_id, channel, text, received_at, submitted_by)
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(row.id)
    .bind(row.centre_id)
    .bind(row.resident_id)
    .bind(&row.channel)
    .bind(&row.text)
    .bind(row.received_at)
    .bind(submitted_by)
    .execute(&mut *tx)
    .await?;
    tx.commit().await
}

/// The suggestions `resident` sent through the residents' site (named or not), in the
/// order received, after `after`.
pub async fn own_suggestions(
    pool: &PgPool,
    centre: Uuid,
    resident: Uuid,
    after: Option<(DateTime<Utc>, Uuid)>,
    limit: i64,
) -> Result<Vec<SuggestionRow>, sqlx::Error> {
    sqlx::query_as(concat!(
        "SELECT ",
        suggestion_columns!(),
        " FROM suggestions WHERE centre_id = $1 AND submitted_by = $2
           AND ($3::timestamptz IS NULL OR (received_at, id) > ($3, $4))
         ORDER BY received_at, id LIMIT $5"
    ))
    .bind(centre)
    .bind(resident)
    .bind(after.map(|(at, _)| at))
    .bind(after.map(|(_, id)| id))
    .bind(limit)
    .fetch_all(pool)
    .await
}

// ---------------------------------------------------------------------------------------
// The forum

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct ForumPostRow {
    pub id: Uuid,
    pub centre_id: Uuid,
    pub thread_id: Option<Uuid>,
    pub author_id: Option<Uuid>,
    pub title: String,
    pub body: String,
    pub hidden: bool,
    pub pinned: bool,
    pub locked: bool,
    pub created_at: DateTime<Utc>,
    pub last_activity_at: DateTime<Utc>,
    pub reports: i32,
    pub replies: i32,
}

/// The keyset of the thread list: pinned first, then the latest activity.
pub type ThreadKey = (bool, DateTime<Utc>, Uuid);

macro_rules! forum_columns {
    () => {
        "p.id, p.centre_id, p.thread_id, p.author_id, p.title, p.body, p.hidden, p.pinned,
         p.locked, p.created_at, p.last_activity_at,
         (SELECT count(*)::int FROM forum_reports r WHERE r.post_id = p.id) AS reports,
         (SELECT count(*)::int FROM forum_posts c WHERE c.thread_id = p.id AND NOT c.hidden) AS replies"
    };
}

/// One post of the centre, row-locked when `lock`.
pub async fn forum_post(
    conn: &mut PgConnection,
    centre: Uuid,
    id: Uuid,
) -> Result<Option<ForumPostRow>, sqlx::Error> {
    sqlx::query_as(concat!(
        "SELECT ",
        forum_columns!(),
        " FROM forum_posts p WHERE p.centre_id = $1 AND p.id = $2"
    ))
    .bind(centre)
    .bind(id)
    .fetch_optional(conn)
    .await
}

/// Locks a thread (its row) while a reply is added, so a lock by staff and a reply do not
/// cross.
async fn lock_thread(
    tx: &mut PgConnection,
    centre: Uuid,
    id: Uuid,
) -> Result<Option<(bool, bool)>, sqlx::Error> {
    sqlx::query_as(
        "SELECT hidden, locked FROM forum_posts
         WHERE centre_id = $1 AND id = $2 AND thread_id IS NULL FOR UPDATE",
    )
    .bind(centre)
    .bind(id)
    .fetch_optional(tx)
    .await
}

pub async fn post_to_forum(
    pool: &PgPool,
    centre: Uuid,
    thread: Option<Uuid>,
    author: Uuid,
    title: &str,
    body: &str,
    now: DateTime<Utc>,
) -> Result<ForumPostRow, Error> {
    let id = transaction(pool, async |tx| -> Result<_, Error> {
        if let Some(thread) = thread {
            domain::forum::may_reply(lock_thread(tx, centre, thread).await?)?;
        }
        Ok(insert_forum_post(tx, centre, thread, author, title, body, now).await?)
    })
    .await?;
    let mut conn = pool.acquire().await?;
    forum_post(&mut conn, centre, id)
        .await?
        .ok_or(Error::NotFound("post"))
}

async fn insert_forum_post(
    tx: &mut PgConnection,
    centre: Uuid,
    thread: Option<Uuid>,
    author: Uuid,
    title: &str,
    body: &str,
    now: DateTime<Utc>,
) -> Result<Uuid, sqlx::Error> {
    let id = Uuid::new_v4();
    sqlx::query(
        "INSERT INTO forum_posts (id, centre_id, thread_id, author_id, title, body, created_at, last_activity_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $7)",
    )
    .bind(id)
    .bind(centre)
    .bind(thread)
    .bind(author)
    .bind(title)
    .bind(body)
    .bind(now)
    .execute(&mut *tx)
    .await?;
    if let Some(thread) = thread {
        sqlx::query("UPDATE forum_posts SET last_activity_at = $2 WHERE id = $1")
            .bind(thread)
            .bind(now)
            .execute(&mut *tx)
            .await?;
    }
    Ok(id)
}

/// A centre's threads (with the hidden ones for staff), after `after`.
pub async fn forum_threads(
    pool: &PgPool,
    centre: Uuid,
    with_hidden: bool,
    after: Option<ThreadKey>,
    limit: i64,
) -> Result<Vec<ForumPostRow>, sqlx::Error> {
    sqlx::query_as(concat!(
        "SELECT ",
        forum_columns!(),
        " FROM forum_posts p WHERE p.centre_id = $1 AND p.thread_id IS NULL
           AND ($2 OR NOT p.hidden)
           AND ($3::boolean IS NULL OR (p.pinned, p.last_activity_at, p.id) < ($3, $4, $5))
         ORDER BY p.pinned DESC, p.last_activity_at DESC, p.id DESC LIMIT $6"
    ))
    .bind(centre)
    .bind(with_hidden)
    .bind(after.map(|k| k.0))
    .bind(after.map(|k| k.1))
    .bind(after.map(|k| k.2))
    .bind(limit)
    .fetch_all(pool)
    .await
}

/// A thread's opening post and its replies in order (with the hidden ones for staff).
pub async fn forum_thread(
    pool: &PgPool,
    centre: Uuid,
    thread: Uuid,
    with_hidden: bool,
) -> Result<Vec<ForumPostRow>, sqlx::Error> {
    sqlx::query_as(concat!(
        "SELECT ",
        forum_columns!(),
        " FROM forum_posts p WHERE p.centre_id = $1 AND (p.id = $2 OR p.thread_id = $2)
           AND ($3 OR NOT p.hidden)
         ORDER BY p.thread_id IS NOT NULL, p.created_at, p.id"
    ))
    .bind(centre)
    .bind(thread)
    .bind(with_hidden)
    .fetch_all(pool)
    .await
}

/// Sets a moderation flag (`hidden`, `pinned` or `locked`) of one post.
pub async fn moderate_forum_post(
    pool: &PgPool,
    centre: Uuid,
    id: Uuid,
    flag: &str,
    value: bool,
) -> Result<ForumPostRow, Error> {
    let sql = match flag {
        "hidden" => "UPDATE forum_posts SET hidden = $3 WHERE centre_id = $1 AND id = $2",
        "pinned" => {
            "UPDATE forum_posts SET pinned = $3 WHERE centre_id = $1 AND id = $2 AND thread_id IS NULL"
        }
        _ => {
            "UPDATE forum_posts SET locked = $3 WHERE centre_id = $1 AND id = $2 AND thread_id IS NULL"
        }
    };
    let changed = sqlx::query(sql)
        .bind(centre)
        .bind(id)
        .bind(value)
        .execute(pool)
        .await?
        .rows_affected();
    if changed == 0 {
        return Err(Error::NotFound("thread"));
    }
    let mut conn = pool.acquire().await?;
    forum_post(&mut conn, centre, id)
        .await?
        .ok_or(Error::NotFound("post"))
}

/// Records one resident's report of a post (a second report by them changes nothing).
pub async fn report_forum_post(
    pool: &PgPool,
    post: Uuid,
    reporter: Uuid,
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    let mut tx = linli_platform::db::begin(pool).await?;
    sqlx::query(
        "INSERT INTO forum_reports (post_id, reporter_id, reported_at) VALUES ($1, $2, $3)
         ON CONFLICT DO NOTHING",
    )
    .bind(post)
    .bind(reporter)
    .bind(now)
    .execute(&mut *tx)
    .await?;
    tx.commit().await
}

/// The reported posts still shown, the most reported first (then the newest), after the
/// keyset (reports, created_at, id).
pub async fn reported_forum_posts(
    pool: &PgPool,
    centre: Uuid,
    after: Option<(i32, DateTime<Utc>, Uuid)>,
    limit: i64,
) -> Result<Vec<ForumPostRow>, sqlx::Error> {
    sqlx::query_as(concat!(
        "SELECT * FROM (SELECT ",
        forum_columns!(),
        " FROM forum_posts p WHERE p.centre_id = $1 AND NOT p.hidden) q
         WHERE q.reports > 0
           AND ($2::int IS NULL OR (q.reports, q.created_at, q.id) < ($2, $3, $4))
         ORDER BY q.reports DESC, q.created_at DESC, q.id DESC LIMIT $5"
    ))
    .bind(centre)
    .bind(after.map(|k| k.0))
    .bind(after.map(|k| k.1))
    .bind(after.map(|k| k.2))
    .bind(limit)
    .fetch_all(pool)
    .await
}
