//! Every SQL statement of the bookings service. Seats are given while the sessions' rows
//! are locked (always in id order, so two bookings never wait on each other in a cycle),
//! and the table checks have the last word: a session's `confirmed` never passes its
//! capacity and a facility is never held twice at once, whatever the concurrency.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, LazyLock, Mutex};

use chrono::{DateTime, Duration, NaiveDate, NaiveDateTime, NaiveTime, Utc};
use chrono_tz::Tz;
use linli_platform::bus::outbox;
use linli_platform::directory;
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use crate::domain::booking::{
    self, Decision, Event, FACILITY_GRACE, Fee, FirstSession, Seats, SessionState, Terms, Wanted,
    Who,
};
use crate::domain::changes::{self, CheckIn, Seat};
use crate::domain::eligibility::{self, Applicant, Eligibility, RowTest};
use crate::domain::ids::{FacilityId, SessionId};
use crate::domain::offering;
use crate::domain::{
    self, BookingStatus, Concession, Kind, OpeningHours, SeatState, SessionStatus,
    priced_by_category,
};
use crate::error::Error;
use crate::events;
use linli_platform::error::Reason;

mod undo;
pub use undo::undo_check_in;

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct OfferingRow {
    pub id: Uuid,
    pub centre_id: Uuid,
    pub category: String,
    pub kind: String,
    pub name: String,
    pub description: String,
    pub provider: String,
    pub provider_id: Option<Uuid>,
    pub min_age: Option<i32>,
    pub max_age: Option<i32>,
    pub eligible_categories: Vec<String>,
    pub fee_minor: i64,
    pub currency: String,
    pub concession_categories: Vec<String>,
    pub concession_prices: Vec<i64>,
    pub capacity: i32,
    pub facility_id: Option<Uuid>,
    pub staff_id: Option<Uuid>,
    pub active: bool,
    /// Raised by each change (fee, capacity, retirement), so a booking from memory
    /// ([`Known`]) is made only at the offering's current terms.
    pub revision: i32,
}

impl OfferingRow {
    pub fn kind(&self) -> Kind {
        Kind::parse(&self.kind).unwrap_or(Kind::Event)
    }

    /// What deciding a booking needs of the offering.
    pub fn terms<'a>(&'a self, concessions: &'a [Concession]) -> Terms<'a> {
        Terms {
            id: self.id.into(),
            centre: self.centre_id.into(),
            kind: self.kind(),
            active: self.active,
            eligibility: Eligibility {
                min_age: self.min_age,
                max_age: self.max_age,
                categories: &self.eligible_categories,
            },
            fee_minor: self.fee_minor,
            concessions,
            facility: self.facility_id.map(FacilityId::from),
        }
    }

    pub fn concessions(&self) -> Vec<Concession> {
        self.concession_categories
            .iter()
            .zip(&self.concession_prices)
            .map(|(category, price)| Concession {
                category: category.clone(),
                price_minor: *price,
            })
            .collect()
    }
}

macro_rules! offering_columns {
    () => {
        "id, centre_id, category, kind, name, description, provider, provider_id, min_age, max_age, eligible_categories, fee_minor, currency, concession_categories, concession_prices, capacity, facility_id, staff_id, active, revision"
    };
}

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct FacilityRow {
    pub id: Uuid,
    pub centre_id: Uuid,
    pub name: String,
    pub kind: String,
    pub opens: NaiveTime,
    pub closes: NaiveTime,
    pub open_days: Vec<i32>,
}

impl FacilityRow {
    pub fn hours(&self) -> OpeningHours {
        OpeningHours {
            opens: self.opens,
            closes: self.closes,
            days: self.open_days.iter().map(|d| *d as u32).collect(),
        }
    }
}

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct SessionRow {
    pub id: Uuid,
    pub centre_id: Uuid,
    pub offering_id: Uuid,
    pub series_id: Option<Uuid>,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub local_start: NaiveDateTime,
    pub capacity: i32,
    pub confirmed: i32,
    pub waitlisted: i64,
    pub status: String,
    pub moved: bool,
    pub facility_id: Option<Uuid>,
}

macro_rules! session_columns {
    () => {
        "s.id, s.centre_id, s.offering_id, s.series_id, s.starts_at, s.ends_at, s.local_start, s.capacity, s.confirmed, (SELECT count(*) FROM seats w WHERE w.session_id = s.id AND w.state = 'waiting') AS waitlisted, s.status, s.moved, s.facility_id"
    };
}

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct SeriesRow {
    pub id: Uuid,
    pub centre_id: Uuid,
    pub offering_id: Uuid,
    pub weekdays: Vec<i32>,
    pub start_time: NaiveTime,
    pub duration_minutes: i32,
    pub starts_on: NaiveDate,
    pub until: Option<NaiveDate>,
    pub count: Option<i32>,
    pub time_zone: String,
}

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct BookingRow {
    pub id: Uuid,
    pub centre_id: Uuid,
    pub offering_id: Uuid,
    pub resident_id: Option<Uuid>,
    pub status: String,
    pub arrival: i64,
    pub facility_id: Option<Uuid>,
    pub starts_at: Option<DateTime<Utc>>,
    pub ends_at: Option<DateTime<Utc>>,
    pub fee_minor: i64,
    pub currency: String,
    pub concession: String,
    pub charge_id: Option<Uuid>,
    pub refund_id: Option<Uuid>,
    pub cancel_reason: Option<String>,
    pub note: String,
    pub created_at: DateTime<Utc>,
}

macro_rules! booking_columns {
    () => {
        "b.id, b.centre_id, b.offering_id, b.resident_id, b.status, b.arrival, b.facility_id, lower(b.during) AS starts_at, upper(b.during) AS ends_at, b.fee_minor, b.currency, b.concession, b.charge_id, b.refund_id, b.cancel_reason, b.note, b.created_at"
    };
}

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct SeatRow {
    pub booking_id: Uuid,
    pub session_id: Uuid,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub state: String,
}

impl SeatRow {
    /// The seat as the rules see it.
    pub fn seat(&self) -> Result<Seat, Error> {
        Ok(Seat {
            session: self.session_id.into(),
            state: SeatState::try_from(self.state.clone())
                .map_err(|e| sqlx::Error::Decode(e.into()))?,
            starts_at: self.starts_at,
            ends_at: self.ends_at,
        })
    }
}

/// A booking with its seats and, while waitlisted, its place in the queue.
#[derive(Clone, Debug)]
pub struct BookingView {
    pub booking: BookingRow,
    pub seats: Vec<SeatRow>,
    pub waitlist_position: i64,
}

// ---------------------------------------------------------------------------------------
// Read models of the registry: the directory (centres, residents) is the platform's;
// consent to sharing with partners is bookings' own.

/// The centre's time zone, once the directory knows the centre.
pub async fn centre_zone(conn: &mut PgConnection, centre: Uuid) -> Result<Tz, Error> {
    Ok(directory::time_zone(conn, centre).await?)
}

/// Records a resident's consent to sharing with partners, or its withdrawal, unless a
/// later record of it was already heard (events may arrive out of order after a retry).
pub async fn record_partner_sharing(
    tx: &mut PgConnection,
    resident: Uuid,
    granted: bool,
    recorded_at: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO partner_sharing (resident_id, granted, recorded_at) VALUES ($1, $2, $3)
         ON CONFLICT (resident_id) DO UPDATE
         SET granted = EXCLUDED.granted, recorded_at = EXCLUDED.recorded_at
         WHERE partner_sharing.recorded_at <= EXCLUDED.recorded_at",
    )
    .bind(resident)
    .bind(granted)
    .bind(recorded_at)
    .execute(tx)
    .await?;
    Ok(())
}

/// Which of `residents` consent to sharing with partners now.
pub async fn sharing_with_partners(
    pool: &PgPool,
    residents: &[Uuid],
) -> Result<HashSet<Uuid>, sqlx::Error> {
    let ids: Vec<Uuid> = sqlx::query_scalar(
        "SELECT resident_id FROM partner_sharing WHERE resident_id = ANY($1) AND granted",
    )
    .bind(residents)
    .fetch_all(pool)
    .await?;
    Ok(ids.into_iter().collect())
}

/// Cancels every booking of the resident that still has a session to come (moved out,
/// deceased, erased), giving the seats to the waitlist. Returns how many were cancelled.
pub async fn cancel_future_bookings(
    tx: &mut PgConnection,
    resident: Uuid,
    reason: &str,
    now: DateTime<Utc>,
) -> Result<usize, Error> {
    let ids: Vec<Uuid> = sqlx::query_scalar(
        "SELECT b.id FROM bookings b
         WHERE b.resident_id = $1 AND b.status IN ('confirmed', 'waitlisted')
           AND (upper(b.during) > $2
                OR EXISTS (SELECT 1 FROM seats s JOIN sessions x ON x.id = s.session_id
                           WHERE s.booking_id = b.id AND s.state IN ('held', 'waiting') AND x.ends_at > $2))
         ORDER BY b.id",
    )
    .bind(resident)
    .bind(now)
    .fetch_all(&mut *tx)
    .await?;
    for id in &ids {
        let booking = lock_booking(tx, None, *id).await?;
        cancel_in(tx, &booking, reason, now).await?;
    }
    Ok(ids.len())
}

/// Erasure: the resident's bookings stay (they are the centre's history and figures) but
/// lose every link to the person.
pub async fn anonymise_resident(tx: &mut PgConnection, resident: Uuid) -> Result<u64, sqlx::Error> {
    sqlx::query(
        "UPDATE seats SET resident_id = NULL
         WHERE booking_id IN (SELECT id FROM bookings WHERE resident_id = $1)",
    )
    .bind(resident)
    .execute(&mut *tx)
    .await?;
    let done = sqlx::query(
        "UPDATE bookings SET resident_id = NULL, note = '', anonymised_at = now(), updated_at = now()
         WHERE resident_id = $1",
    )
    .bind(resident)
    .execute(&mut *tx)
    .await?;
    sqlx::query("DELETE FROM partner_sharing WHERE resident_id = $1")
        .bind(resident)
        .execute(tx)
        .await?;
    Ok(done.rows_affected())
}

// ---------------------------------------------------------------------------------------
// Catalogue

pub async fn create_facility(pool: &PgPool, row: &FacilityRow) -> Result<FacilityRow, Error> {
    let mut tx = linli_platform::db::begin(pool).await?;
    let zone = centre_zone(&mut tx, row.centre_id).await?;
    let result = sqlx::query(
        "INSERT INTO facilities (id, centre_id, name, kind, opens, closes, open_days)
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(row.id)
    .bind(row.centre_id)
    .bind(&row.name)
    .bind(&row.kind)
    .bind(row.opens)
    .bind(row.closes)
    .bind(&row.open_days)
    .execute(&mut *tx)
    .await;
    match result {
        Ok(_) => {}
        Err(sqlx::Error::Database(db)) if db.is_unique_violation() => {
            return Err(Error::Conflict(Reason::new(
                "facility.name_taken",
                format!("the centre already has a facility named «{}»", row.name),
            )));
        }
        Err(error) => return Err(error.into()),
    }
    outbox::enqueue(
        &mut tx,
        Some(row.centre_id),
        &events::facility_created(row, zone.name()),
    )
    .await?;
    tx.commit().await?;
    Ok(row.clone())
}

pub async fn list_facilities(pool: &PgPool, centre: Uuid) -> Result<Vec<FacilityRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT id, centre_id, name, kind, opens, closes, open_days FROM facilities
         WHERE centre_id = $1 ORDER BY name",
    )
    .bind(centre)
    .fetch_all(pool)
    .await
}

async fn find_facility(
    conn: &mut PgConnection,
    centre: Uuid,
    id: Uuid,
) -> Result<Option<FacilityRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT id, centre_id, name, kind, opens, closes, open_days FROM facilities
         WHERE centre_id = $1 AND id = $2",
    )
    .bind(centre)
    .bind(id)
    .fetch_optional(conn)
    .await
}

/// Takes the facility's row lock for the rest of the transaction. Every path that holds a
/// facility for a time range takes it before inserting or moving a hold, so concurrent
/// requests for one facility queue here and each meets the others' committed holds. Left
/// to the exclusion constraint alone, overlapping inserts wait on each other's
/// uncommitted index entries and PostgreSQL breaks the cycle as a deadlock: a burst for
/// one slot on a cold platform deadlocked for tens of seconds with no winner.
/// `NO KEY UPDATE` leaves foreign-key checks from other tables unblocked.
async fn lock_facility(conn: &mut PgConnection, id: Uuid) -> Result<(), sqlx::Error> {
    sqlx::query("SELECT 1 FROM facilities WHERE id = $1 FOR NO KEY UPDATE")
        .bind(id)
        .execute(conn)
        .await?;
    Ok(())
}

/// Adds an offering of a centre the directory knows. The staff member it names, and the
/// partner providing it, must be the centre's; a partner adding its own offering (`by`)
/// was already found to have an agreement in force there, as it called.
pub async fn create_offering(
    pool: &PgPool,
    row: &OfferingRow,
    by: Option<Uuid>,
) -> Result<OfferingRow, Error> {
    let mut tx = linli_platform::db::begin(pool).await?;
    directory::require_centre(&mut tx, row.centre_id).await?;
    if let Some(partner) = row.provider_id.filter(|p| Some(*p) != by) {
        directory::require_partner(&mut tx, row.centre_id, partner, "offering.provider_id").await?;
    }
    if let Some(staff) = row.staff_id {
        directory::require_staff(&mut tx, row.centre_id, staff, "offering.staff_id").await?;
    }
    if let Some(facility) = row.facility_id
        && find_facility(&mut tx, row.centre_id, facility)
            .await?
            .is_none()
    {
        return Err(linli_platform::error::Violations::one(
            "facility_id",
            Reason::new("not_found", "is not a facility of this centre").with("what", "facility"),
        )
        .into());
    }
    sqlx::query(
        "INSERT INTO offerings (id, centre_id, category, kind, name, description, provider, provider_id,
             min_age, max_age, eligible_categories, fee_minor, currency, concession_categories,
             concession_prices, capacity, facility_id, staff_id, active)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, true)",
    )
    .bind(row.id)
    .bind(row.centre_id)
    .bind(&row.category)
    .bind(&row.kind)
    .bind(&row.name)
    .bind(&row.description)
    .bind(&row.provider)
    .bind(row.provider_id)
    .bind(row.min_age)
    .bind(row.max_age)
    .bind(&row.eligible_categories)
    .bind(row.fee_minor)
    .bind(&row.currency)
    .bind(&row.concession_categories)
    .bind(&row.concession_prices)
    .bind(row.capacity)
    .bind(row.facility_id)
    .bind(row.staff_id)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(row.clone())
}

pub async fn find_offering(
    conn: &mut PgConnection,
    centre: Uuid,
    id: Uuid,
) -> Result<OfferingRow, Error> {
    sqlx::query_as(concat!(
        "SELECT ",
        offering_columns!(),
        " FROM offerings WHERE centre_id = $1 AND id = $2"
    ))
    .bind(centre)
    .bind(id)
    .fetch_optional(conn)
    .await?
    .ok_or(Error::NotFound("offering"))
}

pub async fn list_offerings(
    pool: &PgPool,
    centre: Uuid,
    category: Option<&str>,
    kind: Option<&str>,
) -> Result<Vec<OfferingRow>, sqlx::Error> {
    sqlx::query_as(concat!("SELECT ", offering_columns!(), " FROM offerings
         WHERE centre_id = $1 AND ($2::text IS NULL OR category = $2) AND ($3::text IS NULL OR kind = $3)
         ORDER BY category, name"))
    .bind(centre)
    .bind(category)
    .bind(kind)
    .fetch_all(pool)
    .await
}

/// Changes an offering as `decide` answers over its current terms (read under its row
/// lock): the row at a higher revision, the capacity of its sessions not yet started
/// (never below the seats they have confirmed; seats added go to the waitlist), and the
/// decision's event in the outbox, all in one transaction. Bookings already made are not touched: they keep their fee.
pub async fn revise_offering(
    pool: &PgPool,
    centre: Uuid,
    id: Uuid,
    decide: impl FnOnce(&offering::Current) -> Result<offering::Revised, linli_platform::error::Refusal>,
    now: DateTime<Utc>,
) -> Result<OfferingRow, Error> {
    let mut tx = linli_platform::db::begin(pool).await?;
    let mut row: OfferingRow = sqlx::query_as(concat!(
        "SELECT ",
        offering_columns!(),
        " FROM offerings WHERE centre_id = $1 AND id = $2 FOR UPDATE"
    ))
    .bind(centre)
    .bind(id)
    .fetch_optional(&mut *tx)
    .await?
    .ok_or(Error::NotFound("offering"))?;
    let current = offering::Current {
        kind: row.kind(),
        active: row.active,
        fee_minor: row.fee_minor,
        capacity: row.capacity,
        revision: row.revision,
    };
    let revised = decide(&current)?;
    let Some(event) = revised.event else {
        return Ok(row);
    };
    let previous = (row.fee_minor, row.capacity);
    sqlx::query(
        "UPDATE offerings SET fee_minor = $2, capacity = $3, active = $4, revision = $5
         WHERE id = $1",
    )
    .bind(id)
    .bind(revised.fee_minor)
    .bind(revised.capacity)
    .bind(revised.active)
    .bind(revised.revision)
    .execute(&mut *tx)
    .await?;
    row.fee_minor = revised.fee_minor;
    row.capacity = revised.capacity;
    row.active = revised.active;
    row.revision = revised.revision;
    match event {
        offering::OfferingEvent::Updated => {
            if revised.capacity != previous.1 {
                // Locked in id order, as every booking locks sessions, so the two never wait
                // on each other in a cycle.
                let changed: Vec<Uuid> = sqlx::query_scalar(
                    "WITH locked AS (
                         SELECT id FROM sessions
                         WHERE offering_id = $1 AND status = 'scheduled' AND starts_at > $3
                         ORDER BY id FOR UPDATE)
                     UPDATE sessions s SET capacity = GREATEST($2, s.confirmed)
                     FROM locked WHERE s.id = locked.id
                     RETURNING s.id",
                )
                .bind(id)
                .bind(revised.capacity)
                .bind(now)
                .fetch_all(&mut *tx)
                .await?;
                // More seats: the waitlist takes them, first come first served, as after a
                // cancellation (each promoted booking keeps the fee it was given).
                if revised.capacity > previous.1 {
                    promote(&mut tx, &changed, now).await?;
                }
            }
            let event = events::offering_updated(&row, previous, now);
            outbox::enqueue(&mut tx, Some(centre), &event).await?;
        }
        offering::OfferingEvent::Retired => {
            let event = events::offering_retired(&row, now);
            outbox::enqueue(&mut tx, Some(centre), &event).await?;
        }
    }
    tx.commit().await?;
    Ok(row)
}

// ---------------------------------------------------------------------------------------
// Sessions

/// One session to create: local start, and its instants.
pub type Occurrence = (NaiveDateTime, DateTime<Utc>, DateTime<Utc>);

/// Creates sessions (and their series, if any) for `offering`, holding its facility for
/// each. Refused whole, naming the first clash, when any instance overlaps another hold.
pub async fn create_sessions(
    pool: &PgPool,
    offering: &OfferingRow,
    series: Option<&SeriesRow>,
    occurrences: &[Occurrence],
    capacity: i32,
) -> Result<Vec<SessionRow>, Error> {
    let mut tx = linli_platform::db::begin(pool).await?;
    let zone = centre_zone(&mut tx, offering.centre_id).await?;
    if let Some(series) = series {
        insert_series(&mut tx, series).await?;
    }
    let ids: Vec<Uuid> = occurrences.iter().map(|_| Uuid::new_v4()).collect();
    let locals: Vec<NaiveDateTime> = occurrences.iter().map(|o| o.0).collect();
    let starts: Vec<DateTime<Utc>> = occurrences.iter().map(|o| o.1).collect();
    let ends: Vec<DateTime<Utc>> = occurrences.iter().map(|o| o.2).collect();
    sqlx::query(
        "INSERT INTO sessions (id, centre_id, offering_id, series_id, starts_at, ends_at, local_start, capacity, facility_id)
         SELECT o.id, $5, $6, $7, o.starts_at, o.ends_at, o.local_start, $8, $9
         FROM UNNEST($1::uuid[], $2::timestamptz[], $3::timestamptz[], $4::timestamp[]) AS o(id, starts_at, ends_at, local_start)",
    )
    .bind(&ids)
    .bind(&starts)
    .bind(&ends)
    .bind(&locals)
    .bind(offering.centre_id)
    .bind(offering.id)
    .bind(series.map(|s| s.id))
    .bind(capacity)
    .bind(offering.facility_id)
    .execute(&mut *tx)
    .await?;
    if let Some(facility) = offering.facility_id {
        lock_facility(&mut tx, facility).await?;
        let held: Result<Vec<HoldRow>, sqlx::Error> = sqlx::query_as(
            "INSERT INTO facility_holds (id, centre_id, facility_id, during, session_id)
             SELECT gen_random_uuid(), $4, $5, tstzrange(o.starts_at, o.ends_at), o.id
             FROM UNNEST($1::uuid[], $2::timestamptz[], $3::timestamptz[]) AS o(id, starts_at, ends_at)
             RETURNING id, facility_id, centre_id, lower(during) AS starts_at, upper(during) AS ends_at",
        )
        .bind(&ids)
        .bind(&starts)
        .bind(&ends)
        .bind(offering.centre_id)
        .bind(facility)
        .fetch_all(&mut *tx)
        .await;
        match held {
            Ok(holds) => announce_held(&mut tx, &holds).await?,
            Err(error) => {
                drop(tx);
                return Err(clash_or(pool, error, facility, &starts, &ends, zone).await);
            }
        }
    }
    tx.commit().await?;
    list_sessions_by_ids(pool, &ids).await.map_err(Error::from)
}

async fn insert_series(tx: &mut PgConnection, series: &SeriesRow) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO series (id, centre_id, offering_id, weekdays, start_time, duration_minutes, starts_on, until, count, time_zone)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(series.id)
    .bind(series.centre_id)
    .bind(series.offering_id)
    .bind(&series.weekdays)
    .bind(series.start_time)
    .bind(series.duration_minutes)
    .bind(series.starts_on)
    .bind(series.until)
    .bind(series.count)
    .bind(&series.time_zone)
    .execute(tx)
    .await?;
    Ok(())
}

/// A facility hold as the events describe it.
#[derive(Debug, sqlx::FromRow)]
struct HoldRow {
    id: Uuid,
    facility_id: Uuid,
    centre_id: Uuid,
    starts_at: DateTime<Utc>,
    ends_at: DateTime<Utc>,
}

async fn announce_held(tx: &mut PgConnection, holds: &[HoldRow]) -> Result<(), sqlx::Error> {
    if holds.is_empty() {
        return Ok(());
    }
    let events: Vec<_> = holds
        .iter()
        .map(|h| {
            let event =
                events::facility_held(h.id, h.facility_id, h.centre_id, h.starts_at, h.ends_at);
            (Some(h.centre_id), event)
        })
        .collect();
    outbox::enqueue_all(tx, &events).await?;
    Ok(())
}

async fn announce_released(
    tx: &mut PgConnection,
    holds: &[HoldRow],
    at: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    if holds.is_empty() {
        return Ok(());
    }
    let events: Vec<_> = holds
        .iter()
        .map(|h| {
            let event = events::facility_released(h.id, h.facility_id, h.centre_id, at);
            (Some(h.centre_id), event)
        })
        .collect();
    outbox::enqueue_all(tx, &events).await?;
    Ok(())
}

/// Frees the facility a booking held, from `now`.
async fn release_holds_of(
    tx: &mut PgConnection,
    booking: Uuid,
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    let released: Vec<HoldRow> = sqlx::query_as(
        "UPDATE facility_holds SET released_at = $2 WHERE booking_id = $1 AND released_at IS NULL
         RETURNING id, facility_id, centre_id, lower(during) AS starts_at, upper(during) AS ends_at",
    )
    .bind(booking)
    .bind(now)
    .fetch_all(&mut *tx)
    .await?;
    announce_released(tx, &released, now).await
}

fn is_clash(error: &sqlx::Error) -> bool {
    matches!(error, sqlx::Error::Database(db) if db.code().as_deref() == Some("23P01"))
}

/// Turns an exclusion violation into a conflict that names what is already there.
async fn clash_or(
    pool: &PgPool,
    error: sqlx::Error,
    facility: Uuid,
    starts: &[DateTime<Utc>],
    ends: &[DateTime<Utc>],
    zone: Tz,
) -> Error {
    if !is_clash(&error) {
        return error.into();
    }
    match describe_clash(pool, facility, starts, ends, zone).await {
        Ok(Some(reason)) => Error::Conflict(reason),
        Ok(None) => Error::Conflict(Reason::new(
            "facility.taken",
            "the facility was booked for an overlapping time by another request just now",
        )),
        Err(error) => error.into(),
    }
}

#[derive(sqlx::FromRow)]
struct Clash {
    facility: String,
    held_from: DateTime<Utc>,
    held_until: DateTime<Utc>,
    wanted_from: DateTime<Utc>,
    what: String,
}

async fn describe_clash(
    pool: &PgPool,
    facility: Uuid,
    starts: &[DateTime<Utc>],
    ends: &[DateTime<Utc>],
    zone: Tz,
) -> Result<Option<Reason>, sqlx::Error> {
    let clash: Option<Clash> = sqlx::query_as(
        "SELECT f.name AS facility, lower(h.during) AS held_from, upper(h.during) AS held_until,
                w.starts_at AS wanted_from,
                COALESCE('the session of «' || o.name || '»', 'booking ' || h.booking_id::text) AS what
         FROM UNNEST($2::timestamptz[], $3::timestamptz[]) AS w(starts_at, ends_at)
         JOIN facility_holds h ON h.facility_id = $1 AND h.released_at IS NULL
              AND h.during && tstzrange(w.starts_at, w.ends_at)
         JOIN facilities f ON f.id = h.facility_id
         LEFT JOIN sessions s ON s.id = h.session_id
         LEFT JOIN offerings o ON o.id = s.offering_id
         ORDER BY w.starts_at, lower(h.during) LIMIT 1",
    )
    .bind(facility)
    .bind(starts)
    .bind(ends)
    .fetch_optional(pool)
    .await?;
    Ok(clash.map(|c| {
        let local = |at| domain::to_local(zone, at);
        let held_from = local(c.held_from).format("%Y-%m-%d %H:%M").to_string();
        let held_until = local(c.held_until).format("%H:%M").to_string();
        Reason::new(
            "facility.held",
            format!(
                "«{}» is already held {held_from}–{held_until} by {} (clash with the time wanted from {})",
                c.facility,
                c.what,
                local(c.wanted_from).format("%Y-%m-%d %H:%M"),
            ),
        )
        .with("facility", &c.facility)
        .with("held_from", held_from)
        .with("held_until", held_until)
    }))
}

async fn list_sessions_by_ids(pool: &PgPool, ids: &[Uuid]) -> Result<Vec<SessionRow>, sqlx::Error> {
    sqlx::query_as(concat!(
        "SELECT ",
        session_columns!(),
        " FROM sessions s WHERE s.id = ANY($1) ORDER BY s.starts_at, s.id"
    ))
    .bind(ids)
    .fetch_all(pool)
    .await
}

pub struct SessionFilter {
    pub centre: Uuid,
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
    pub offering: Option<Uuid>,
    pub series: Option<Uuid>,
}

/// Sessions matching `filter` in start order, after the keyset `after` (start, id), at most
/// `limit` of them.
pub async fn list_sessions(
    pool: &PgPool,
    filter: &SessionFilter,
    after: Option<(DateTime<Utc>, Uuid)>,
    limit: i64,
) -> Result<Vec<SessionRow>, sqlx::Error> {
    sqlx::query_as(concat!(
        "SELECT ",
        session_columns!(),
        " FROM sessions s
         WHERE s.centre_id = $1
           AND ($2::timestamptz IS NULL OR s.ends_at > $2)
           AND ($3::timestamptz IS NULL OR s.starts_at < $3)
           AND ($4::uuid IS NULL OR s.offering_id = $4)
           AND ($5::uuid IS NULL OR s.series_id = $5)
           AND ($6::timestamptz IS NULL OR (s.starts_at, s.id) > ($6, $7))
         ORDER BY s.starts_at, s.id LIMIT $8"
    ))
    .bind(filter.centre)
    .bind(filter.from)
    .bind(filter.to)
    .bind(filter.offering)
    .bind(filter.series)
    .bind(after.map(|(at, _)| at))
    .bind(after.map(|(_, id)| id))
    .bind(limit)
    .fetch_all(pool)
    .await
}

pub async fn find_series(
    pool: &PgPool,
    centre: Uuid,
    id: Uuid,
) -> Result<Option<SeriesRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT id, centre_id, offering_id, weekdays, start_time, duration_minutes, starts_on, until, count, time_zone
         FROM series WHERE centre_id = $1 AND id = $2",
    )
    .bind(centre)
    .bind(id)
    .fetch_optional(pool)
    .await
}

/// Locks the session and, for "this and following", every later scheduled session of its
/// series, in id order. The first row is the named session.
async fn lock_sessions_from(
    tx: &mut PgConnection,
    centre: Uuid,
    session: Uuid,
    following: bool,
) -> Result<Vec<SessionRow>, Error> {
    let target: SessionRow = sqlx::query_as(concat!(
        "SELECT ",
        session_columns!(),
        " FROM sessions s WHERE s.centre_id = $1 AND s.id = $2 FOR UPDATE"
    ))
    .bind(centre)
    .bind(session)
    .fetch_optional(&mut *tx)
    .await?
    .ok_or(Error::NotFound("session"))?;
    changes::may_change_session(
        SessionStatus::try_from(target.status.clone())
            .map_err(|e| sqlx::Error::Decode(e.into()))?,
    )?;
    if !following {
        return Ok(vec![target]);
    }
    let Some(series) = target.series_id else {
        return Err(linli_platform::error::Violations::one(
            "scope",
            Reason::new(
                "session.not_in_series",
                "this and following needs a session that belongs to a series",
            ),
        )
        .into());
    };
    let mut rest: Vec<SessionRow> = sqlx::query_as(concat!(
        "SELECT ",
        session_columns!(),
        " FROM sessions s
         WHERE s.series_id = $1 AND s.status = 'scheduled' AND s.starts_at > $2 AND s.id <> $3
         ORDER BY s.id FOR UPDATE"
    ))
    .bind(series)
    .bind(target.starts_at)
    .bind(target.id)
    .fetch_all(&mut *tx)
    .await?;
    rest.sort_by_key(|s| s.starts_at);
    let mut all = vec![target];
    all.append(&mut rest);
    Ok(all)
}

/// Moves one session, or it and every later one of its series by the same local shift
/// (so 09:30 stays 09:30 across an offset change). "This and following" splits the series:
/// the old one ends the day before, a new one carries the new time on.
pub async fn move_sessions(
    pool: &PgPool,
    centre: Uuid,
    session: Uuid,
    following: bool,
    new_start: DateTime<Utc>,
    duration: Option<Duration>,
) -> Result<Vec<SessionRow>, Error> {
    let mut tx = pool.begin().await?;
    let zone = centre_zone(&mut tx, centre).await?;
    let sessions = lock_sessions_from(&mut tx, centre, session, following).await?;
    let target = &sessions[0];
    let shift = domain::to_local(zone, new_start) - target.local_start;
    let mut new_series = None;
    if following && let Some(series_id) = target.series_id {
        let old = find_series(pool, centre, series_id)
            .await?
            .ok_or(Error::NotFound("series"))?;
        let first_day = target.local_start.date();
        let before: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM sessions WHERE series_id = $1 AND local_start < $2",
        )
        .bind(series_id)
        .bind(target.local_start)
        .fetch_one(&mut *tx)
        .await?;
        let next = SeriesRow {
            id: Uuid::new_v4(),
            start_time: (target.local_start + shift).time(),
            duration_minutes: duration.map_or(old.duration_minutes, |d| d.num_minutes() as i32),
            starts_on: first_day,
            count: old.count.map(|c| (c - before as i32).max(1)),
            ..old.clone()
        };
        insert_series(&mut tx, &next).await?;
        sqlx::query("UPDATE series SET until = $2, count = CASE WHEN count IS NULL THEN NULL ELSE $3 END WHERE id = $1")
            .bind(series_id)
            .bind(first_day.pred_opt())
            .bind(before as i32)
            .execute(&mut *tx)
            .await?;
        new_series = Some(next.id);
    }
    let mut ids = Vec::new();
    let (mut starts, mut ends) = (Vec::new(), Vec::new());
    for session in &sessions {
        let local = session.local_start + shift;
        let length = duration.unwrap_or(session.ends_at - session.starts_at);
        let starts_at = domain::to_instant(zone, local);
        let ends_at = domain::to_instant(zone, local + length);
        sqlx::query(
            "UPDATE sessions SET starts_at = $2, ends_at = $3, local_start = $4,
                 moved = $5, series_id = COALESCE($6, series_id)
             WHERE id = $1",
        )
        .bind(session.id)
        .bind(starts_at)
        .bind(ends_at)
        .bind(local)
        .bind(new_series.is_none())
        .bind(new_series)
        .execute(&mut *tx)
        .await?;
        ids.push(session.id);
        starts.push(starts_at);
        ends.push(ends_at);
    }
    if let Some(facility) = target.facility_id {
        lock_facility(&mut tx, facility).await?;
        let moved: Result<Vec<HoldRow>, sqlx::Error> = sqlx::query_as(
            "UPDATE facility_holds h SET during = tstzrange(m.starts_at, m.ends_at)
             FROM UNNEST($1::uuid[], $2::timestamptz[], $3::timestamptz[]) AS m(id, starts_at, ends_at)
             WHERE h.session_id = m.id AND h.released_at IS NULL
             RETURNING h.id, h.facility_id, h.centre_id, lower(h.during) AS starts_at, upper(h.during) AS ends_at",
        )
        .bind(&ids)
        .bind(&starts)
        .bind(&ends)
        .fetch_all(&mut *tx)
        .await;
        match moved {
            Ok(holds) => announce_held(&mut tx, &holds).await?,
            Err(error) => {
                drop(tx);
                return Err(clash_or(pool, error, facility, &starts, &ends, zone).await);
            }
        }
    }
    tx.commit().await?;
    list_sessions_by_ids(pool, &ids).await.map_err(Error::from)
}

/// Cancels one session, or it and every later one of its series: seats are released,
/// bookings left with nothing to attend are cancelled and refunded, the room is freed.
pub async fn cancel_sessions(
    pool: &PgPool,
    centre: Uuid,
    session: Uuid,
    following: bool,
    now: DateTime<Utc>,
) -> Result<Vec<SessionRow>, Error> {
    let mut tx = pool.begin().await?;
    let sessions = lock_sessions_from(&mut tx, centre, session, following).await?;
    let ids: Vec<Uuid> = sessions.iter().map(|s| s.id).collect();
    sqlx::query("UPDATE sessions SET status = 'cancelled', confirmed = 0 WHERE id = ANY($1)")
        .bind(&ids)
        .execute(&mut *tx)
        .await?;
    let released: Vec<HoldRow> = sqlx::query_as(
        "UPDATE facility_holds SET released_at = $2 WHERE session_id = ANY($1) AND released_at IS NULL
         RETURNING id, facility_id, centre_id, lower(during) AS starts_at, upper(during) AS ends_at",
    )
    .bind(&ids)
    .bind(now)
    .fetch_all(&mut *tx)
    .await?;
    announce_released(&mut tx, &released, now).await?;
    let touched: Vec<Uuid> = sqlx::query_scalar(
        "UPDATE seats SET state = 'released', changed_at = $2
         WHERE session_id = ANY($1) AND state IN ('held', 'waiting')
         RETURNING booking_id",
    )
    .bind(&ids)
    .bind(now)
    .fetch_all(&mut *tx)
    .await?;
    let mut touched = touched;
    touched.sort();
    touched.dedup();
    for booking in touched {
        let row = lock_booking(&mut tx, None, booking).await?;
        let states: Vec<String> =
            sqlx::query_scalar("SELECT state FROM seats WHERE booking_id = $1")
                .bind(booking)
                .fetch_all(&mut *tx)
                .await?;
        let states = states
            .into_iter()
            .map(SeatState::try_from)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| sqlx::Error::Decode(e.into()))?;
        if changes::left_with_nothing(&states) {
            cancel_in(&mut tx, &row, "session_cancelled", now).await?;
        }
    }
    if following && let Some(series) = sessions[0].series_id {
        sqlx::query("UPDATE series SET until = $2, count = NULL WHERE id = $1")
            .bind(series)
            .bind(sessions[0].local_start.date().pred_opt())
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await?;
    list_sessions_by_ids(pool, &ids).await.map_err(Error::from)
}

// ---------------------------------------------------------------------------------------
// Bookings

/// A booking as asked for.
pub struct NewBooking {
    pub centre: Uuid,
    pub offering: Uuid,
    pub resident: Option<Uuid>,
    pub session: Option<Uuid>,
    pub range: Option<(DateTime<Utc>, DateTime<Utc>)>,
    pub note: String,
}

/// Creates a booking as the domain decides it ([`booking::decide`]): the store loads the
/// offering, the resident and what is wanted (the facility under its lock, or the
/// sessions, locked in id order), and persists the decision with its events; a facility
/// clash is the exclusion constraint's to find, and is named.
pub async fn create_booking(
    pool: &PgPool,
    known: &Known,
    new: &NewBooking,
    now: DateTime<Utc>,
) -> Result<BookingView, Error> {
    if let Some(view) = book_at_once(pool, known, new, now).await? {
        return Ok(view);
    }
    // A request sent with an Idempotency-Key claims it here, with the booking.
    let mut tx = linli_platform::db::begin(pool).await?;
    let id = Uuid::new_v4();
    let applying = applying(&mut *tx, new)
        .await?
        .ok_or(Error::NotFound("offering"))?;
    let offering = &applying.offering;
    let concessions = offering.concessions();
    let terms = offering.terms(&concessions);
    let who = applying.who(new)?;

    if terms.kind == Kind::Facility {
        let facility = match offering.facility_id {
            Some(facility) => find_facility(&mut tx, new.centre, facility).await?,
            None => None,
        };
        if let Some(facility) = &facility {
            lock_facility(&mut tx, facility.id).await?;
        }
        let zone = centre_zone(&mut tx, new.centre).await?;
        let hours = facility.as_ref().map(FacilityRow::hours);
        let wanted = Wanted::Facility {
            range: new.range,
            facility: facility
                .as_ref()
                .zip(hours.as_ref())
                .map(|(f, hours)| (FacilityId::from(f.id), hours)),
            zone,
        };
        let decision = booking::decide(&terms, &who, &wanted, now)?;
        let Seats::Facility {
            id: facility_id,
            starts_at,
            ends_at,
        } = decision.seats
        else {
            return Err(Error::State(Reason::new(
                "offering.booked_by_range",
                "the offering is booked by time range",
            )));
        };
        let facility_id = facility_id.uuid();
        let booking = insert_booking(
            &mut tx,
            id,
            new,
            decision.status,
            &decision.fee,
            offering,
            Some((facility_id, starts_at, ends_at)),
            now,
        )
        .await?;
        for event in &decision.events {
            match event {
                Event::FacilityHeld => {
                    let held: Result<HoldRow, sqlx::Error> = sqlx::query_as(
                        "INSERT INTO facility_holds (id, centre_id, facility_id, during, booking_id)
                         VALUES ($1, $2, $3, tstzrange($4, $5), $6)
                         RETURNING id, facility_id, centre_id, lower(during) AS starts_at, upper(during) AS ends_at",
                    )
                    .bind(Uuid::new_v4())
                    .bind(new.centre)
                    .bind(facility_id)
                    .bind(starts_at)
                    .bind(ends_at)
                    .bind(id)
                    .fetch_one(&mut *tx)
                    .await;
                    match held {
                        Ok(hold) => announce_held(&mut tx, &[hold]).await?,
                        Err(error) => {
                            drop(tx);
                            return Err(clash_or(
                                pool,
                                error,
                                facility_id,
                                &[starts_at],
                                &[ends_at],
                                zone,
                            )
                            .await);
                        }
                    }
                }
                event => record(&mut tx, &booking, offering, &decision, event, 0, now).await?,
            }
        }
        tx.commit().await?;
        return Ok(BookingView {
            booking,
            seats: Vec::new(),
            waitlist_position: 0,
        });
    }

    // Lock the sessions wanted, in id order: the one named, or every upcoming one for an
    // enrolment; and see whether the resident already has a place in any of them.
    let locked: Vec<LockedSession> = if terms.kind.enrols() {
        sqlx::query_as(concat!(
            "SELECT ",
            session_columns!(),
            ", EXISTS (SELECT 1 FROM seats x WHERE x.session_id = s.id AND x.resident_id = $3
                       AND x.state IN ('held', 'waiting')) AS mine
             FROM sessions s WHERE s.offering_id = $1 AND s.status = 'scheduled' AND s.ends_at > $2
             ORDER BY s.id FOR UPDATE"
        ))
        .bind(offering.id)
        .bind(now)
        .bind(new.resident)
        .fetch_all(&mut *tx)
        .await?
    } else if let Some(session) = new.session {
        sqlx::query_as(concat!(
            "SELECT ",
            session_columns!(),
            ", EXISTS (SELECT 1 FROM seats x WHERE x.session_id = s.id AND x.resident_id = $3
                       AND x.state IN ('held', 'waiting')) AS mine
             FROM sessions s WHERE s.id = $1 AND s.offering_id = $2 FOR UPDATE"
        ))
        .bind(session)
        .bind(offering.id)
        .bind(new.resident)
        .fetch_all(&mut *tx)
        .await?
    } else {
        Vec::new()
    };
    let states = locked
        .iter()
        .map(LockedSession::state)
        .collect::<Result<Vec<_>, _>>()?;
    let wanted = Wanted::Sessions {
        named: new.session.map(SessionId::from),
        locked: &states,
    };
    let decision = booking::decide(&terms, &who, &wanted, now)?;
    let Seats::Sessions { ids, state } = &decision.seats else {
        return Err(Error::State(Reason::new(
            "offering.booked_by_session",
            "the offering is booked by session",
        )));
    };
    let wanted: Vec<Uuid> = ids.iter().map(|id| id.uuid()).collect();
    let mut waitlist_position = 0;
    let booking = match decision.status {
        BookingStatus::Confirmed => {
            let seated = Seated::new(id, new, &decision, offering, now);
            confirm_seated(&mut tx, seated, &wanted).await?
        }
        _ => {
            let booking = insert_booking(
                &mut tx,
                id,
                new,
                decision.status,
                &decision.fee,
                offering,
                None,
                now,
            )
            .await?;
            sqlx::query(
                "INSERT INTO seats (booking_id, session_id, state, changed_at, resident_id)
                 SELECT $1, UNNEST($2::uuid[]), $5, $3, $4",
            )
            .bind(id)
            .bind(&wanted)
            .bind(now)
            .bind(new.resident)
            .bind(state.as_str())
            .execute(&mut *tx)
            .await?;
            waitlist_position = waitlist_position_of(&mut tx, &booking).await?;
            for event in &decision.events {
                record(
                    &mut tx,
                    &booking,
                    offering,
                    &decision,
                    event,
                    waitlist_position,
                    now,
                )
                .await?;
            }
            booking
        }
    };
    tx.commit().await?;
    let mut seats: Vec<SeatRow> = locked
        .iter()
        .map(|l| SeatRow {
            booking_id: id,
            session_id: l.session.id,
            starts_at: l.session.starts_at,
            ends_at: l.session.ends_at,
            state: state.as_str().to_owned(),
        })
        .collect();
    seats.sort_by_key(|s| s.starts_at);
    Ok(BookingView {
        booking,
        seats,
        waitlist_position,
    })
}

/// Records one event of a decision about `booking` in the outbox (a fee charged makes its
/// charge id). A facility's hold is recorded where it is taken.
async fn record(
    tx: &mut PgConnection,
    booking: &BookingRow,
    offering: &OfferingRow,
    decision: &Decision,
    event: &Event,
    waitlist_position: i64,
    now: DateTime<Utc>,
) -> Result<(), Error> {
    let centre = Some(booking.centre_id);
    match event {
        Event::Confirmed { first } => {
            let event = events::confirmed(booking, offering, *first, now);
            outbox::enqueue(&mut *tx, centre, &event).await?;
        }
        Event::FeeCharged => charge(tx, booking, decision.fee.list_minor, now).await?,
        Event::Waitlisted { first } => {
            let event = events::waitlisted(
                booking,
                first.map(SessionId::uuid),
                waitlist_position as i32,
                now,
            );
            outbox::enqueue(&mut *tx, centre, &event).await?;
        }
        Event::FacilityHeld => {}
    }
    Ok(())
}

/// The statement that seats a booking in sessions known to have room: the booking with
/// its arrival, its seats, the sessions' counts and its events (confirmed, and the fee
/// charged when there is one), all in one. `guard` are the CTEs before these, ending
/// with `go`: the ids of the sessions to seat in, or none to change nothing at all.
/// Parameters `$1`–`$10` are [`bind_seated`]'s; the events' follow from `$outbox`.
fn seat_statement(guard: &str, outbox: usize) -> String {
    format!(
        "WITH {guard},
         booked AS (
             INSERT INTO bookings (id, centre_id, offering_id, resident_id, status, arrival,
                 fee_minor, currency, concession, note, charge_id, created_at, updated_at)
             SELECT $1, $2, $3, $4, 'confirmed', nextval('booking_arrival'),
                 $5, $6, $7, $8, $9, $10, $10
             WHERE EXISTS (SELECT 1 FROM go)
             RETURNING arrival),
         seated AS (
             INSERT INTO seats (booking_id, session_id, state, changed_at, resident_id)
             SELECT $1, go.id, 'held', $10, $4 FROM go),
         counted AS (
             UPDATE sessions SET confirmed = confirmed + 1 FROM go WHERE sessions.id = go.id),
         recorded AS ({})
         SELECT arrival FROM booked",
        outbox::Recorded::insert_if(outbox, "EXISTS (SELECT 1 FROM go)")
    )
}

/// A confirmed booking as [`seat_statement`] stores it (its arrival still to come), and
/// the events it records.
struct Seated {
    booking: BookingRow,
    recorded: outbox::Recorded,
}

impl Seated {
    /// The booking a confirmed decision makes, with its events rendered for the outbox in
    /// the decision's order (a charge id made for the fee when it is charged).
    fn new(
        id: Uuid,
        new: &NewBooking,
        decision: &Decision,
        offering: &OfferingRow,
        now: DateTime<Utc>,
    ) -> Self {
        let charged = decision.events.contains(&Event::FeeCharged);
        let booking = BookingRow {
            id,
            centre_id: new.centre,
            offering_id: offering.id,
            resident_id: new.resident,
            status: decision.status.as_str().to_owned(),
            arrival: 0,
            facility_id: None,
            starts_at: None,
            ends_at: None,
            fee_minor: decision.fee.amount_minor,
            currency: offering.currency.clone(),
            concession: decision.fee.concession.clone(),
            charge_id: charged.then(Uuid::new_v4),
            refund_id: None,
            cancel_reason: None,
            note: new.note.clone(),
            created_at: now,
        };
        let mut recorded = outbox::Recorded::default();
        for event in &decision.events {
            match event {
                Event::Confirmed { first } => {
                    recorded.push(
                        Some(new.centre),
                        &events::confirmed(&booking, offering, *first, now),
                    );
                }
                Event::FeeCharged => {
                    if let Some(charge) = booking.charge_id {
                        recorded.push(
                            Some(new.centre),
                            &events::fee_charged(&booking, charge, decision.fee.list_minor, now),
                        );
                    }
                }
                Event::Waitlisted { .. } | Event::FacilityHeld => {}
            }
        }
        Seated { booking, recorded }
    }
}

/// Binds [`seat_statement`]'s `$1`–`$10`: the booking's own columns.
fn bind_seated<'q>(
    b: &'q BookingRow,
    query: sqlx::query::Query<'q, sqlx::Postgres, sqlx::postgres::PgArguments>,
) -> sqlx::query::Query<'q, sqlx::Postgres, sqlx::postgres::PgArguments> {
    query
        .bind(b.id)
        .bind(b.centre_id)
        .bind(b.offering_id)
        .bind(b.resident_id)
        .bind(b.fee_minor)
        .bind(&b.currency)
        .bind(&b.concession)
        .bind(&b.note)
        .bind(b.charge_id)
        .bind(b.created_at)
}

/// A booking of sessions that have room, while they are locked.
async fn confirm_seated(
    tx: &mut PgConnection,
    seated: Seated,
    sessions: &[Uuid],
) -> Result<BookingRow, Error> {
    static STATEMENT: LazyLock<String> =
        LazyLock::new(|| seat_statement("go AS (SELECT UNNEST($11::uuid[]) AS id)", 12));
    let Seated {
        mut booking,
        recorded,
    } = seated;
    let row = {
        let query = bind_seated(&booking, sqlx::query(STATEMENT.as_str())).bind(sessions);
        recorded.bind(query).fetch_one(&mut *tx).await?
    };
    booking.arrival = sqlx::Row::try_get(&row, 0)?;
    Ok(booking)
}

/// What [`book_at_once`] keeps from one booking to the next, so that most bookings need
/// no read before their statement: offerings, whose statement checks the revision kept is
/// still the row's (a change raises it, and the table refuses a change that does not), and the times of sessions booked lately, which the statement
/// checks are still the session's. Whether the resident may book is never kept: the
/// statement tests their row as it stands.
#[derive(Default)]
pub struct Known {
    offerings: Mutex<HashMap<(Uuid, Uuid), Arc<OfferingRow>>>,
    sessions: Mutex<HashMap<Uuid, Times>>,
}

/// When a session starts and ends.
type Times = (DateTime<Utc>, DateTime<Utc>);

/// How many offerings, and sessions, [`Known`] keeps before it starts afresh.
const KNOWN_AT_MOST: usize = 10_000;

impl Known {
    fn offering(&self, centre: Uuid, id: Uuid) -> Option<Arc<OfferingRow>> {
        lock(&self.offerings).get(&(centre, id)).cloned()
    }

    fn session(&self, id: Uuid) -> Option<Times> {
        lock(&self.sessions).get(&id).copied()
    }

    fn remember(&self, offering: OfferingRow, session: Uuid, times: Times) -> Arc<OfferingRow> {
        let offering = Arc::new(offering);
        remember(
            &self.offerings,
            (offering.centre_id, offering.id),
            offering.clone(),
        );
        remember(&self.sessions, session, times);
        offering
    }

    fn forget_session(&self, id: Uuid) {
        lock(&self.sessions).remove(&id);
    }

    /// Reads the offering afresh next time: it changed (here, or on another replica,
    /// which the booking statement's revision check found).
    pub fn forget_offering(&self, centre: Uuid, id: Uuid) {
        lock(&self.offerings).remove(&(centre, id));
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn remember<K: std::hash::Hash + Eq, V>(map: &Mutex<HashMap<K, V>>, key: K, value: V) {
    let mut map = lock(map);
    if map.len() >= KNOWN_AT_MOST {
        map.clear();
    }
    map.insert(key, value);
}

/// How long [`book_at_once`]'s statement may wait for a lock: well under the shortest
/// request deadline (the gateway's is whole seconds).
const AT_ONCE_LOCK_WAIT: &str = "250ms";

/// The path nearly every booking takes: the offering and the named session's times as
/// [`Known`], or else read with the resident (no transaction); then one statement that
/// locks the session only while it is still open, unmoved and with room, and the resident
/// may book it, claims the idempotency key when one was given, and seats the booking.
/// Anything else (no room, a place already held, a key used before, a refusal of any
/// kind) changes nothing and answers None: the full path then decides, and says why. One
/// round trip, or two, and no transaction to begin or commit; so that a request
/// abandoned at its deadline is never booked behind the caller's back, the statement waits
/// for no lock longer than [`AT_ONCE_LOCK_WAIT`] (far under any deadline) and, refused
/// one, falls back to the full path, whose transaction rolls back when abandoned.
async fn book_at_once(
    pool: &PgPool,
    known: &Known,
    new: &NewBooking,
    now: DateTime<Utc>,
) -> Result<Option<BookingView>, Error> {
    static STATEMENT: LazyLock<String> = LazyLock::new(|| {
        seat_statement(
            &format!(
                "open AS (
                 SELECT s.id FROM sessions s,
                      (SELECT set_config('lock_timeout', $16, true)) AS bounded
                 WHERE s.id = $11 AND s.offering_id = $3 AND s.status = 'scheduled'
                   AND s.ends_at > $10 AND s.confirmed < s.capacity
                   AND s.starts_at = $12 AND s.ends_at = $13
                   AND EXISTS (SELECT 1 FROM offerings o
                       WHERE o.id = $3 AND o.active AND o.revision = $22)
                   AND EXISTS (SELECT 1 FROM directory.residents r
                       WHERE r.id = $4 AND {})
                 FOR UPDATE OF s),
             claimed AS (
                 INSERT INTO idempotency_keys (subject, method, key, request_hash, attempt)
                 SELECT $19, $20, $14, $15, $21 FROM open WHERE $14::text IS NOT NULL
                 ON CONFLICT DO NOTHING RETURNING attempt),
             go AS (SELECT id FROM open WHERE $14::text IS NULL OR EXISTS (SELECT 1 FROM claimed))",
                row_test_sql("$2", "$17", "$18")
            ),
            23,
        )
    });
    let Some(session) = new.session.filter(|_| new.resident.is_some()) else {
        return Ok(None);
    };
    // One checkout for both statements: the pool tests a connection with a round trip of
    // its own each time it is given back, so a checkout per statement costs one more.
    let mut conn = pool.acquire().await?;
    let remembered = known
        .offering(new.centre, new.offering)
        .filter(|o| !priced_by_category(o.fee_minor, &o.concessions()))
        .zip(known.session(session));
    let (offering, (starts_at, ends_at), categories) = match remembered {
        // The statement tests the resident's row itself; their categories do not change
        // the price.
        Some((offering, times)) => (offering, times, Vec::new()),
        None => {
            let Some(applying) = applying(&mut *conn, new).await? else {
                return Ok(None);
            };
            let (Some(starts_at), Some(ends_at)) =
                (applying.session_starts_at, applying.session_ends_at)
            else {
                return Ok(None);
            };
            let Some(categories) = applying.admitted_categories(new) else {
                return Ok(None);
            };
            let offering = known.remember(applying.offering, session, (starts_at, ends_at));
            (offering, (starts_at, ends_at), categories)
        }
    };
    let offering = &*offering;
    let concessions = offering.concessions();
    let first = FirstSession {
        id: session.into(),
        starts_at,
        ends_at,
    };
    let Some((decision, row_test)) =
        booking::at_once(&offering.terms(&concessions), &categories, first, now)
    else {
        return Ok(None);
    };
    let Seated {
        mut booking,
        recorded,
    } = Seated::new(Uuid::new_v4(), new, &decision, offering, now);
    // The request's Idempotency-Key, when it carries one, is claimed by the statement
    // itself (the platform's claim, as `linli_platform::db::begin` takes it in the full
    // path's transaction): the claim and the booking commit together or not at all.
    let claim = linli_platform::idempotency::pending();
    let done = {
        let query = bind_seated(&booking, sqlx::query(STATEMENT.as_str()))
            .bind(session)
            .bind(starts_at)
            .bind(ends_at)
            .bind(claim.as_ref().map(|c| c.key.as_str()))
            .bind(claim.as_ref().map(|c| c.request_hash.as_slice()))
            .bind(AT_ONCE_LOCK_WAIT)
            .bind(&row_test.bands)
            .bind(&row_test.categories)
            .bind(claim.as_ref().map(|c| c.subject.as_str()))
            .bind(claim.as_ref().map(|c| c.method.as_str()))
            .bind(claim.as_ref().map(|c| c.attempt))
            .bind(offering.revision);
        recorded.bind(query).fetch_optional(&mut *conn).await
    };
    let row = match done {
        Ok(Some(row)) => row,
        // Refused, for whatever reason: the full path reads everything afresh and says why
        // (and the session's times are read again next time, in case it moved).
        Ok(None) => {
            known.forget_session(session);
            known.forget_offering(new.centre, new.offering);
            return Ok(None);
        }
        // The resident has a place in the session already, or a lock was held longer than
        // the statement may wait: the full path says so, or waits.
        Err(sqlx::Error::Database(db))
            if db.is_unique_violation() || db.code().as_deref() == Some("55P03") =>
        {
            return Ok(None);
        }
        Err(error) => return Err(error.into()),
    };
    booking.arrival = sqlx::Row::try_get(&row, 0)?;
    let seat = SeatRow {
        booking_id: booking.id,
        session_id: session,
        starts_at,
        ends_at,
        state: SeatState::Held.as_str().to_owned(),
    };
    Ok(Some(BookingView {
        booking,
        seats: vec![seat],
        waitlist_position: 0,
    }))
}

/// The offering, what eligibility needs of the resident asking and the named session's
/// times, in one round trip; None when the centre has no such offering.
async fn applying<'c>(
    conn: impl sqlx::PgExecutor<'c>,
    new: &NewBooking,
) -> Result<Option<Applying>, sqlx::Error> {
    sqlx::query_as(concat!(
        "SELECT ",
        offering_columns!(),
        ", r.resident_centre, r.resident_band, r.resident_categories, r.resident_status,
           s.session_starts_at, s.session_ends_at
         FROM offerings
         LEFT JOIN LATERAL (
             SELECT centre_id AS resident_centre, age_band AS resident_band,
                    categories AS resident_categories, status AS resident_status
             FROM directory.residents WHERE id = $3) r ON true
         LEFT JOIN LATERAL (
             SELECT starts_at AS session_starts_at, ends_at AS session_ends_at
             FROM sessions WHERE id = $4 AND offering_id = offerings.id) s ON true
         WHERE centre_id = $1 AND id = $2"
    ))
    .bind(new.centre)
    .bind(new.offering)
    .bind(new.resident)
    .bind(new.session)
    .fetch_optional(conn)
    .await
}

/// A session locked for booking, and whether the resident already has a place in it.
#[derive(sqlx::FromRow)]
struct LockedSession {
    #[sqlx(flatten)]
    session: SessionRow,
    mine: bool,
}

impl LockedSession {
    /// The session as deciding a booking sees it.
    fn state(&self) -> Result<SessionState, Error> {
        let s = &self.session;
        Ok(SessionState {
            id: s.id.into(),
            status: SessionStatus::try_from(s.status.clone())
                .map_err(|e| sqlx::Error::Decode(e.into()))?,
            starts_at: s.starts_at,
            ends_at: s.ends_at,
            local_start: s.local_start,
            capacity: s.capacity,
            confirmed: s.confirmed,
            mine: self.mine,
        })
    }
}

impl From<&SessionRow> for FirstSession {
    fn from(session: &SessionRow) -> Self {
        FirstSession {
            id: session.id.into(),
            starts_at: session.starts_at,
            ends_at: session.ends_at,
        }
    }
}

/// The fast path's test of a resident's row `r` (see [`RowTest`]): of the centre bound at
/// `centre`, of a standing the domain lets book (written in), of a band bound at `bands`
/// (any when null) and, when `categories` binds any, of one of them. The domain's
/// eligibility rule as PostgreSQL evaluates it; `tests/tests/bookings.rs` holds the two to
/// the same answers for every band, category and status.
fn row_test_sql(centre: &str, bands: &str, categories: &str) -> String {
    let statuses: Vec<String> = eligibility::admitted_statuses()
        .map(|s| format!("'{s}'"))
        .collect();
    format!(
        "r.centre_id = {centre} AND r.status IN ({statuses})
         AND ({bands}::text[] IS NULL OR r.age_band = ANY({bands}))
         AND (cardinality({categories}::text[]) = 0 OR r.categories && {categories})",
        statuses = statuses.join(", ")
    )
}

/// Which of `residents` the fast path's statement would let book an offering whose rule
/// reads as `test`, in `centre`: its test of the resident's row ([`row_test_sql`]) alone.
pub async fn admitted_by_row_test(
    pool: &PgPool,
    centre: Uuid,
    residents: &[Uuid],
    test: &RowTest,
) -> Result<Vec<Uuid>, sqlx::Error> {
    static STATEMENT: LazyLock<String> = LazyLock::new(|| {
        format!(
            "SELECT r.id FROM directory.residents r WHERE r.id = ANY($1) AND {} ORDER BY r.id",
            row_test_sql("$2", "$3", "$4")
        )
    });
    sqlx::query_scalar(STATEMENT.as_str())
        .bind(residents)
        .bind(centre)
        .bind(&test.bands)
        .bind(&test.categories)
        .fetch_all(pool)
        .await
}

/// An offering with what eligibility needs of the resident asking (absent when bookings
/// has not heard of them), and the times of the session named (absent when none is).
#[derive(sqlx::FromRow)]
struct Applying {
    #[sqlx(flatten)]
    offering: OfferingRow,
    resident_centre: Option<Uuid>,
    resident_band: Option<String>,
    resident_categories: Option<Vec<String>>,
    resident_status: Option<String>,
    session_starts_at: Option<DateTime<Utc>>,
    session_ends_at: Option<DateTime<Utc>>,
}

impl Applying {
    /// Who the booking is for, as the directory knows them.
    fn who(&self, new: &NewBooking) -> Result<Who<'_>, Error> {
        if new.resident.is_none() {
            return Ok(Who::Centre);
        }
        let (Some(centre), Some(band), Some(categories), Some(status)) = (
            self.resident_centre,
            &self.resident_band,
            &self.resident_categories,
            &self.resident_status,
        ) else {
            return Ok(Who::Unknown);
        };
        let status = eligibility::resident_status(status).ok_or_else(|| {
            sqlx::Error::Decode(
                format!("a resident's status {status:?} is not one the directory keeps").into(),
            )
        })?;
        Ok(Who::Resident {
            centre: centre.into(),
            applicant: Applicant {
                age_band: band,
                categories,
                status,
            },
        })
    }

    /// The resident's categories (to price them), once the domain admits them to the
    /// offering; None when it does not, or no resident is known.
    fn admitted_categories(&self, new: &NewBooking) -> Option<Vec<String>> {
        let concessions = self.offering.concessions();
        let terms = self.offering.terms(&concessions);
        let who = self.who(new).ok()?;
        booking::admit(&terms, &who).ok()?;
        match who {
            Who::Resident { applicant, .. } => Some(applicant.categories.to_vec()),
            Who::Centre | Who::Unknown => None,
        }
    }
}

/// Inserts the booking, its arrival taken now (while its sessions are locked), and a
/// charge id when it is confirmed with something to pay; returns the row as stored.
#[allow(clippy::too_many_arguments)]
async fn insert_booking(
    tx: &mut PgConnection,
    id: Uuid,
    new: &NewBooking,
    status: BookingStatus,
    fee: &Fee,
    offering: &OfferingRow,
    facility: Option<(Uuid, DateTime<Utc>, DateTime<Utc>)>,
    now: DateTime<Utc>,
) -> Result<BookingRow, sqlx::Error> {
    let arrival: i64 = sqlx::query_scalar(
        "INSERT INTO bookings (id, centre_id, offering_id, resident_id, status, arrival, facility_id, during,
             fee_minor, currency, concession, note, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, nextval('booking_arrival'), $6,
             CASE WHEN $6::uuid IS NULL THEN NULL ELSE tstzrange($7, $8) END,
             $9, $10, $11, $12, $13, $13)
         RETURNING arrival",
    )
    .bind(id)
    .bind(new.centre)
    .bind(offering.id)
    .bind(new.resident)
    .bind(status.as_str())
    .bind(facility.map(|f| f.0))
    .bind(facility.map(|f| f.1))
    .bind(facility.map(|f| f.2))
    .bind(fee.amount_minor)
    .bind(&offering.currency)
    .bind(&fee.concession)
    .bind(&new.note)
    .bind(now)
    .fetch_one(tx)
    .await?;
    Ok(BookingRow {
        id,
        centre_id: new.centre,
        offering_id: offering.id,
        resident_id: new.resident,
        status: status.as_str().to_owned(),
        arrival,
        facility_id: facility.map(|f| f.0),
        starts_at: facility.map(|f| f.1),
        ends_at: facility.map(|f| f.2),
        fee_minor: fee.amount_minor,
        currency: offering.currency.clone(),
        concession: fee.concession.clone(),
        charge_id: None,
        refund_id: None,
        cancel_reason: None,
        note: new.note.clone(),
        created_at: now,
    })
}

async fn charge(
    tx: &mut PgConnection,
    booking: &BookingRow,
    list_price: i64,
    now: DateTime<Utc>,
) -> Result<(), Error> {
    if !changes::charge_due(booking.fee_minor, booking.charge_id.is_some()) {
        return Ok(());
    }
    let charge_id = Uuid::new_v4();
    sqlx::query("UPDATE bookings SET charge_id = $2 WHERE id = $1")
        .bind(booking.id)
        .bind(charge_id)
        .execute(&mut *tx)
        .await?;
    let event = events::fee_charged(booking, charge_id, list_price, now);
    outbox::enqueue(tx, Some(booking.centre_id), &event).await?;
    Ok(())
}

async fn lock_booking(
    tx: &mut PgConnection,
    centre: Option<Uuid>,
    id: Uuid,
) -> Result<BookingRow, Error> {
    sqlx::query_as(concat!(
        "SELECT ",
        booking_columns!(),
        " FROM bookings b WHERE b.id = $1 AND ($2::uuid IS NULL OR b.centre_id = $2) FOR UPDATE"
    ))
    .bind(id)
    .bind(centre)
    .fetch_optional(tx)
    .await?
    .ok_or(Error::NotFound("booking"))
}

async fn waitlist_position_of(
    conn: &mut PgConnection,
    booking: &BookingRow,
) -> Result<i64, sqlx::Error> {
    if booking.status != "waitlisted" {
        return Ok(0);
    }
    let ahead: i64 = sqlx::query_scalar(
        "SELECT count(DISTINCT b2.id) FROM seats s1
         JOIN seats s2 ON s2.session_id = s1.session_id AND s2.state = 'waiting'
         JOIN bookings b2 ON b2.id = s2.booking_id AND b2.status = 'waitlisted' AND b2.arrival < $2
         WHERE s1.booking_id = $1 AND s1.state = 'waiting'",
    )
    .bind(booking.id)
    .bind(booking.arrival)
    .fetch_one(conn)
    .await?;
    Ok(ahead + 1)
}

pub async fn find_booking(pool: &PgPool, centre: Uuid, id: Uuid) -> Result<BookingView, Error> {
    let mut conn = pool.acquire().await?;
    let booking: BookingRow = sqlx::query_as(concat!(
        "SELECT ",
        booking_columns!(),
        " FROM bookings b WHERE b.centre_id = $1 AND b.id = $2"
    ))
    .bind(centre)
    .bind(id)
    .fetch_optional(&mut *conn)
    .await?
    .ok_or(Error::NotFound("booking"))?;
    let seats = seats_of(&mut conn, &[booking.id]).await?;
    let waitlist_position = waitlist_position_of(&mut conn, &booking).await?;
    Ok(BookingView {
        booking,
        seats,
        waitlist_position,
    })
}

/// A booking's status as the domain reads it.
fn booking_status(booking: &BookingRow) -> Result<BookingStatus, Error> {
    BookingStatus::try_from(booking.status.clone())
        .map_err(|e| Error::Database(sqlx::Error::Decode(e.into())))
}

/// A booking's seats as the domain's changes read them, each with its session's status,
/// first session first.
async fn seat_views(
    conn: &mut PgConnection,
    booking: Uuid,
) -> Result<Vec<(Seat, SessionStatus)>, Error> {
    /// Session, seat state, the session's start, end and status.
    type SeatLine = (Uuid, String, DateTime<Utc>, DateTime<Utc>, String);
    let rows: Vec<SeatLine> = sqlx::query_as(
        "SELECT s.session_id, s.state, x.starts_at, x.ends_at, x.status
         FROM seats s JOIN sessions x ON x.id = s.session_id
         WHERE s.booking_id = $1 ORDER BY x.starts_at",
    )
    .bind(booking)
    .fetch_all(conn)
    .await?;
    rows.into_iter()
        .map(|(session, state, starts_at, ends_at, status)| {
            let seat = Seat {
                session: session.into(),
                state: SeatState::try_from(state).map_err(|e| sqlx::Error::Decode(e.into()))?,
                starts_at,
                ends_at,
            };
            let status =
                SessionStatus::try_from(status).map_err(|e| sqlx::Error::Decode(e.into()))?;
            Ok((seat, status))
        })
        .collect()
}

async fn seats_of(conn: &mut PgConnection, bookings: &[Uuid]) -> Result<Vec<SeatRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT s.booking_id, s.session_id, x.starts_at, x.ends_at, s.state
         FROM seats s JOIN sessions x ON x.id = s.session_id
         WHERE s.booking_id = ANY($1) ORDER BY x.starts_at",
    )
    .bind(bookings)
    .fetch_all(conn)
    .await
}

pub struct BookingFilter {
    pub centre: Uuid,
    pub resident: Option<Uuid>,
    pub offering: Option<Uuid>,
    pub session: Option<Uuid>,
    pub status: Option<String>,
    /// Only bookings that arrived before this one (keyset pagination, newest first).
    pub before: Option<i64>,
    pub limit: i64,
    /// Only bookings of offerings this partner provides (a partner's list).
    pub provider: Option<Uuid>,
}

pub async fn list_bookings(
    pool: &PgPool,
    filter: &BookingFilter,
) -> Result<Vec<BookingView>, Error> {
    let mut conn = pool.acquire().await?;
    let rows: Vec<BookingRow> = sqlx::query_as(concat!("SELECT ", booking_columns!(), " FROM bookings b
         WHERE b.centre_id = $1
           AND ($2::uuid IS NULL OR b.resident_id = $2)
           AND ($3::uuid IS NULL OR b.offering_id = $3)
           AND ($4::uuid IS NULL OR EXISTS (SELECT 1 FROM seats s WHERE s.booking_id = b.id AND s.session_id = $4))
           AND ($5::text IS NULL OR b.status = $5)
           AND ($6::bigint IS NULL OR b.arrival < $6)
           AND ($8::uuid IS NULL OR EXISTS (SELECT 1 FROM offerings o WHERE o.id = b.offering_id
                                             AND o.provider = 'partner' AND o.provider_id = $8))
         ORDER BY b.arrival DESC LIMIT $7"))
    .bind(filter.centre)
    .bind(filter.resident)
    .bind(filter.offering)
    .bind(filter.session)
    .bind(&filter.status)
    .bind(filter.before)
    .bind(filter.limit)
    .bind(filter.provider)
    .fetch_all(&mut *conn)
    .await?;
    let ids: Vec<Uuid> = rows.iter().map(|b| b.id).collect();
    let mut seats = seats_of(&mut conn, &ids).await?;
    let mut views = Vec::with_capacity(rows.len());
    for booking in rows {
        let waitlist_position = waitlist_position_of(&mut conn, &booking).await?;
        let (mine, rest): (Vec<SeatRow>, Vec<SeatRow>) =
            seats.into_iter().partition(|s| s.booking_id == booking.id);
        seats = rest;
        views.push(BookingView {
            booking,
            seats: mine,
            waitlist_position,
        });
    }
    Ok(views)
}

/// Cancels a booking; cancelling one already cancelled changes nothing and tells no one.
/// Answers the booking and the residents whose waitlisted bookings took its seats.
pub async fn cancel_booking(
    pool: &PgPool,
    centre: Uuid,
    id: Uuid,
    reason: &str,
    now: DateTime<Utc>,
) -> Result<(BookingView, Vec<Uuid>), Error> {
    let mut tx = pool.begin().await?;
    let booking = lock_booking(&mut tx, Some(centre), id).await?;
    let promoted = cancel_in(&mut tx, &booking, reason, now).await?;
    tx.commit().await?;
    Ok((find_booking(pool, centre, id).await?, promoted))
}

/// Cancels a locked booking inside `tx`: frees its seats of sessions not yet over and its
/// facility, refunds a fee charged for something that has not begun, and promotes the
/// waitlist into the freed seats. Answers the residents promoted.
async fn cancel_in(
    tx: &mut PgConnection,
    booking: &BookingRow,
    reason: &str,
    now: DateTime<Utc>,
) -> Result<Vec<Uuid>, Error> {
    let status = booking_status(booking)?;
    if !changes::may_cancel(status)? {
        return Ok(Vec::new());
    }
    // Lock the sessions first, in id order, as a new booking would.
    let freed: Vec<Uuid> = sqlx::query_scalar(
        "SELECT x.id FROM sessions x JOIN seats s ON s.session_id = x.id
         WHERE s.booking_id = $1 AND s.state = 'held' AND x.ends_at > $2 AND x.status = 'scheduled'
         ORDER BY x.id FOR UPDATE OF x",
    )
    .bind(booking.id)
    .bind(now)
    .fetch_all(&mut *tx)
    .await?;
    sqlx::query("UPDATE sessions SET confirmed = confirmed - 1 WHERE id = ANY($1)")
        .bind(&freed)
        .execute(&mut *tx)
        .await?;
    sqlx::query(
        "UPDATE seats s SET state = 'released', changed_at = $2 FROM sessions x
         WHERE s.booking_id = $1 AND x.id = s.session_id AND s.state IN ('held', 'waiting') AND x.ends_at > $2",
    )
    .bind(booking.id)
    .bind(now)
    .execute(&mut *tx)
    .await?;
    release_holds_of(tx, booking.id, now).await?;
    let seats = seat_views(tx, booking.id).await?;
    let cancellation = changes::cancellation(
        status,
        booking.charge_id.is_some(),
        booking.refund_id.is_some(),
        booking.starts_at,
        &seats,
        !freed.is_empty(),
        now,
    );
    let refund_id = cancellation.refund.then(Uuid::new_v4);
    // The offering's provider (which never changes) rides along for the event.
    let provider: Option<Uuid> = sqlx::query_scalar(
        "UPDATE bookings b SET status = $5, cancel_reason = $2, refund_id = COALESCE($3, b.refund_id), updated_at = $4
         FROM offerings o WHERE b.id = $1 AND o.id = b.offering_id
         RETURNING o.provider_id",
    )
    .bind(booking.id)
    .bind(reason)
    .bind(refund_id)
    .bind(now)
    .bind(BookingStatus::Cancelled.as_str())
    .fetch_one(&mut *tx)
    .await?;
    outbox::enqueue(
        &mut *tx,
        Some(booking.centre_id),
        &events::cancelled(
            booking,
            provider,
            cancellation.first.map(SessionId::uuid),
            reason,
            now,
        ),
    )
    .await?;
    if let (Some(refund), Some(charge)) = (refund_id, booking.charge_id) {
        outbox::enqueue(
            &mut *tx,
            Some(booking.centre_id),
            &events::fee_refunded(booking, refund, charge, now),
        )
        .await?;
    }
    if cancellation.promote {
        return promote(tx, &freed, now).await;
    }
    Ok(Vec::new())
}

/// Gives freed seats to the waitlist, first come first served: a waitlisted booking is
/// promoted when every session it waits for has room and its resident may still book.
/// Answers the residents promoted, in order.
async fn promote(
    tx: &mut PgConnection,
    freed: &[Uuid],
    now: DateTime<Utc>,
) -> Result<Vec<Uuid>, Error> {
    let mut promoted = Vec::new();
    let candidates: Vec<Uuid> = sqlx::query_scalar(
        "SELECT b.id FROM bookings b
         WHERE b.status = 'waitlisted'
           AND EXISTS (SELECT 1 FROM seats s WHERE s.booking_id = b.id AND s.state = 'waiting' AND s.session_id = ANY($1))
         ORDER BY b.arrival",
    )
    .bind(freed)
    .fetch_all(&mut *tx)
    .await?;
    for candidate in candidates {
        let room: bool = sqlx::query_scalar(
            "SELECT EXISTS (SELECT 1 FROM sessions WHERE id = ANY($1) AND confirmed < capacity AND status = 'scheduled')",
        )
        .bind(freed)
        .fetch_one(&mut *tx)
        .await?;
        if !room {
            break;
        }
        let booking = lock_booking(tx, None, candidate).await?;
        let standing: Option<String> =
            sqlx::query_scalar("SELECT status FROM directory.residents WHERE id = $1")
                .bind(booking.resident_id)
                .fetch_optional(&mut *tx)
                .await?;
        let standing = standing.as_deref().and_then(eligibility::resident_status);
        if !changes::may_promote(booking_status(&booking)?, standing) {
            continue;
        }
        let sessions: Vec<SessionRow> = sqlx::query_as(concat!("SELECT ", session_columns!(), " FROM sessions s JOIN seats w ON w.session_id = s.id
             WHERE w.booking_id = $1 AND w.state = 'waiting' AND s.status = 'scheduled' AND s.ends_at > $2
             ORDER BY s.id FOR UPDATE OF s"))
        .bind(booking.id)
        .bind(now)
        .fetch_all(&mut *tx)
        .await?;
        let counts: Vec<(i32, i32)> = sessions.iter().map(|s| (s.confirmed, s.capacity)).collect();
        if !changes::has_room(&counts) {
            continue;
        }
        let ids: Vec<Uuid> = sessions.iter().map(|s| s.id).collect();
        sqlx::query("UPDATE sessions SET confirmed = confirmed + 1 WHERE id = ANY($1)")
            .bind(&ids)
            .execute(&mut *tx)
            .await?;
        sqlx::query("UPDATE seats SET state = 'held', changed_at = $3 WHERE booking_id = $1 AND session_id = ANY($2)")
            .bind(booking.id)
            .bind(&ids)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        sqlx::query("UPDATE bookings SET status = 'confirmed', updated_at = $2 WHERE id = $1")
            .bind(booking.id)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        let first = sessions.iter().min_by_key(|s| s.starts_at);
        let offering = find_offering(tx, booking.centre_id, booking.offering_id).await?;
        outbox::enqueue(
            &mut *tx,
            Some(booking.centre_id),
            &events::promoted(&booking, &offering, first, now),
        )
        .await?;
        let list_price = offering.fee_minor;
        charge(tx, &booking, list_price, now).await?;
        promoted.extend(booking.resident_id);
    }
    Ok(promoted)
}

/// Checks a booking in for one session (or its facility). A second check-in for the same
/// session changes nothing and tells no one.
pub async fn check_in(
    pool: &PgPool,
    centre: Uuid,
    id: Uuid,
    session: Option<Uuid>,
    now: DateTime<Utc>,
) -> Result<BookingView, Error> {
    let mut tx = pool.begin().await?;
    let booking = lock_booking(&mut tx, Some(centre), id).await?;
    let offering = find_offering(&mut tx, centre, booking.offering_id).await?;
    let mut seats = if booking.starts_at.is_some() {
        Vec::new()
    } else {
        seats_of(&mut tx, &[id]).await?
    };
    let views = seats
        .iter()
        .map(SeatRow::seat)
        .collect::<Result<Vec<_>, Error>>()?;
    let decided = changes::check_in(
        offering.kind(),
        booking_status(&booking)?,
        booking.starts_at,
        &views,
        session.map(SessionId::from),
        now,
    )?;
    let mut booking = booking;
    match decided {
        CheckIn::Nothing => {}
        CheckIn::Facility => {
            sqlx::query("UPDATE bookings SET status = $3, updated_at = $2 WHERE id = $1")
                .bind(id)
                .bind(now)
                .bind(BookingStatus::Attended.as_str())
                .execute(&mut *tx)
                .await?;
            outbox::enqueue(
                &mut tx,
                Some(centre),
                &events::attended(&booking, &offering, None, now),
            )
            .await?;
        }
        CheckIn::Seat { session, whole } => {
            let session = session.uuid();
            // The seat, the booking (unless it is an enrolment, with sessions to come) and
            // both events in one statement, just before the commit.
            static ATTEND: LazyLock<String> = LazyLock::new(|| {
                format!(
                    "WITH seat AS (
                         UPDATE seats SET state = 'attended', changed_at = $3
                         WHERE booking_id = $1 AND session_id = $2),
                     booking AS (
                         UPDATE bookings SET status = 'attended', updated_at = $3
                         WHERE id = $1 AND $4),
                     recorded AS ({})
                     SELECT 1",
                    outbox::Recorded::insert(5)
                )
            });
            let mut recorded = outbox::Recorded::default();
            recorded.push(
                Some(centre),
                &events::attended(&booking, &offering, Some(session), now),
            );
            recorded.push(
                Some(centre),
                &events::delivered(&booking, &offering, session, now),
            );
            let query = sqlx::query(ATTEND.as_str())
                .bind(id)
                .bind(session)
                .bind(now)
                .bind(whole);
            recorded.bind(query).execute(&mut *tx).await?;
            // What was read under the lock, as the statement above left it: no need to
            // read again.
            if whole {
                booking.status = BookingStatus::Attended.as_str().to_owned();
            }
            for seat in seats.iter_mut().filter(|s| s.session_id == session) {
                seat.state = SeatState::Attended.as_str().to_owned();
            }
        }
    }
    tx.commit().await?;
    if booking.starts_at.is_some() {
        return find_booking(pool, centre, id).await;
    }
    Ok(BookingView {
        booking,
        seats,
        waitlist_position: 0,
    })
}

/// Marks what happened without anyone: held seats of sessions that ended become no-shows,
/// waitlist places for them lapse, and facility bookings not claimed within the grace
/// period are released early. Safe to run from several replicas at once.
pub async fn sweep(pool: &PgPool, now: DateTime<Utc>) -> Result<usize, Error> {
    let mut tx = pool.begin().await?;
    let ended: Vec<Uuid> = sqlx::query_scalar(
        "SELECT id FROM sessions WHERE swept_at IS NULL AND status = 'scheduled' AND ends_at <= $1
         ORDER BY ends_at LIMIT 100 FOR UPDATE SKIP LOCKED",
    )
    .bind(now)
    .fetch_all(&mut *tx)
    .await?;
    let mut marked = 0;
    if !ended.is_empty() {
        let no_shows: Vec<(Uuid, Uuid)> = sqlx::query_as(
            "UPDATE seats SET state = 'no_show', changed_at = $2 WHERE session_id = ANY($1) AND state = 'held'
             RETURNING booking_id, session_id",
        )
        .bind(&ended)
        .bind(now)
        .fetch_all(&mut *tx)
        .await?;
        for (booking_id, session_id) in &no_shows {
            let booking = lock_booking(&mut tx, None, *booking_id).await?;
            let offering = find_offering(&mut tx, booking.centre_id, booking.offering_id).await?;
            if changes::no_show_ends_booking(offering.kind(), booking_status(&booking)?) {
                sqlx::query(
                    "UPDATE bookings SET status = 'no_show', updated_at = $2 WHERE id = $1",
                )
                .bind(booking.id)
                .bind(now)
                .execute(&mut *tx)
                .await?;
            }
            let ends = sqlx::query_scalar("SELECT ends_at FROM sessions WHERE id = $1")
                .bind(session_id)
                .fetch_one(&mut *tx)
                .await?;
            outbox::enqueue(
                &mut tx,
                Some(booking.centre_id),
                &events::no_show(&booking, Some(*session_id), ends),
            )
            .await?;
        }
        marked += no_shows.len();
        let lapsed: Vec<Uuid> = sqlx::query_scalar(
            "UPDATE seats SET state = 'released', changed_at = $2 WHERE session_id = ANY($1) AND state = 'waiting'
             RETURNING booking_id",
        )
        .bind(&ended)
        .bind(now)
        .fetch_all(&mut *tx)
        .await?;
        for booking_id in lapsed {
            let booking = lock_booking(&mut tx, None, booking_id).await?;
            let waiting: bool = sqlx::query_scalar(
                "SELECT EXISTS (SELECT 1 FROM seats WHERE booking_id = $1 AND state = 'waiting')",
            )
            .bind(booking_id)
            .fetch_one(&mut *tx)
            .await?;
            if changes::waitlist_closed(booking_status(&booking)?, waiting) {
                cancel_in(&mut tx, &booking, "waitlist_closed", now).await?;
            }
        }
        sqlx::query("UPDATE sessions SET swept_at = $2 WHERE id = ANY($1)")
            .bind(&ended)
            .bind(now)
            .execute(&mut *tx)
            .await?;
    }
    let unclaimed: Vec<BookingRow> = sqlx::query_as(concat!(
        "SELECT ",
        booking_columns!(),
        " FROM bookings b
         WHERE b.status = 'confirmed' AND b.during IS NOT NULL AND lower(b.during) <= $1
         ORDER BY lower(b.during) LIMIT 100 FOR UPDATE SKIP LOCKED"
    ))
    .bind(now - FACILITY_GRACE)
    .fetch_all(&mut *tx)
    .await?;
    for booking in &unclaimed {
        sqlx::query("UPDATE bookings SET status = 'no_show', updated_at = $2 WHERE id = $1")
            .bind(booking.id)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        release_holds_of(&mut tx, booking.id, now).await?;
        outbox::enqueue(
            &mut tx,
            Some(booking.centre_id),
            &events::no_show(booking, None, booking.ends_at.unwrap_or(now)),
        )
        .await?;
    }
    marked += unclaimed.len();
    tx.commit().await?;
    Ok(marked)
}

/// Booked hours per facility over the local days [from, to), each hold counted until it
/// was released (a no-show frees the room early).
pub async fn booked_seconds(
    pool: &PgPool,
    centre: Uuid,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<Vec<(Uuid, i64)>, sqlx::Error> {
    sqlx::query_as(
        "SELECT facility_id,
                COALESCE(sum(GREATEST(0, EXTRACT(EPOCH FROM
                    LEAST(upper(during), COALESCE(released_at, 'infinity'), $3) - GREATEST(lower(during), $2)))), 0)::bigint
         FROM facility_holds
         WHERE centre_id = $1 AND during && tstzrange($2, $3)
         GROUP BY facility_id",
    )
    .bind(centre)
    .bind(from)
    .bind(to)
    .fetch_all(pool)
    .await
}

/// The centre's zone, for callers outside a transaction.
pub async fn zone_of(pool: &PgPool, centre: Uuid) -> Result<Tz, Error> {
    let mut conn = pool.acquire().await?;
    centre_zone(&mut conn, centre).await
}
