//! The directory: each service's read model of who and what exists in the district, kept
//! once, here, the same way in every service.
//!
//! Centres (with the time zone their days and hours are read in), residents (age band,
//! categories, status; nothing personal), staff members and partners' agreements with
//! centres live in the registry and in volunteers; a service hears of them through their
//! events ([`BINDINGS`]), which its handler passes to [`apply`] inside the inbox's
//! transaction, and never reads another service's database. The tables are in the
//! `directory` schema of every service database (see the platform's migrations).
//!
//! Two rules hold everywhere because they are written only here:
//! - a centre's time zone is the one the registry announced; a centre the directory does
//!   not know is an error ([`Error::UnknownCentre`]), never a default zone;
//! - a write that names a centre, resident, staff member or partner is checked with
//!   [`require_centre`], [`require_resident`], [`require_staff`] or [`require_partner`]:
//!   an unknown centre is refused as not found, and an id that is unknown or belongs to
//!   another centre is refused naming its field, with the same words either way (so a
//!   centre cannot learn what exists at another).
//!
//! The directory follows the events, so it lags them: a resident registered a moment ago
//! may not be known here yet, and is refused until their registration arrives.

use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;
use linli_proto::Event;
use linli_proto::events::v1::{
    CentreCreated, CentreUpdated, PartnerAgreementRevoked, PartnerAgreementSigned,
    ResidentDeceased, ResidentErased, ResidentMovedOut, ResidentRegistered, ResidentReturned,
    ResidentUpdated, StaffJoined, StaffLeft,
};
use sqlx::PgConnection;
use tonic::{Code, Status};
use uuid::Uuid;

use crate::bus::{HandlerError, Incoming, field};

/// The routing keys the directory is kept from. A service that keeps it binds them to the
/// one queue whose handler applies them ([`directory_bindings!`](crate::directory_bindings));
/// its other queues, and the registry's (whose own tables are what the directory copies),
/// do not take them: each would be a queue write and an inbox row for every resident of a
/// million-row import, applied by no one.
pub const BINDINGS: &[&str] = crate::directory_bindings![];

/// A consumer's routing keys with the directory's ([`directory::BINDINGS`]) after them:
/// `directory_bindings!["bookings.fee.charged"]`, for the queue of a service whose
/// handler passes them to [`apply`]. The keys are written here only.
///
/// [`directory::BINDINGS`]: crate::directory::BINDINGS
#[macro_export]
macro_rules! directory_bindings {
    ($($key:expr),* $(,)?) => {
        &[
            $($key,)*
            "registry.centre.*",
            "registry.resident.*",
            "registry.partner.*",
            "volunteers.staff.*",
        ]
    };
}

/// Why a write naming something of the directory is refused.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The centre named by `field` (`centre_id` unless said) is not one the registry
    /// announced (or not yet).
    #[error("{0} {CENTRE_UNKNOWN}")]
    UnknownCentre(&'static str),
    /// `field` names a resident, staff member or partner that is not the centre's.
    #[error("{field} {reason}")]
    NotOfCentre {
        field: &'static str,
        reason: &'static str,
    },
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

impl Error {
    /// `field` names no resident of the centre: unknown, erased, or another centre's.
    pub fn not_a_resident(field: &'static str) -> Error {
        Error::NotOfCentre {
            field,
            reason: NOT_A_RESIDENT,
        }
    }
}

const CENTRE_UNKNOWN: &str =
    "is not a centre of the district (or its registration has not reached this service yet)";
const NOT_A_RESIDENT: &str = "is not a resident of this centre";
const NOT_STAFF: &str = "is not a staff member of this centre";
const NOT_A_PARTNER: &str = "is not a partner of this centre";

/// Not found (404) for the centre, unprocessable (422) for an id of another centre or of
/// none, each with the field named as a bad-request violation.
impl From<Error> for Status {
    fn from(error: Error) -> Self {
        let (code, field, reason) = match error {
            Error::UnknownCentre(field) => (Code::NotFound, field, CENTRE_UNKNOWN),
            Error::NotOfCentre { field, reason } => (Code::FailedPrecondition, field, reason),
            Error::Database(error) => return crate::error::database(&error),
        };
        let machine = match reason {
            CENTRE_UNKNOWN => "directory.unknown_centre",
            NOT_A_RESIDENT => "directory.not_a_resident",
            NOT_STAFF => "directory.not_staff",
            _ => "directory.not_a_partner",
        };
        crate::error::with_fields(
            code,
            format!("{field} {reason}"),
            machine,
            Default::default(),
            &[crate::error::FieldViolation::new(
                field,
                crate::error::Reason::new(machine, reason),
            )],
        )
    }
}

/// A centre as the registry announced it.
#[derive(Clone, Debug, PartialEq)]
pub struct Centre {
    pub id: Uuid,
    pub code: String,
    pub name: String,
    pub time_zone: Tz,
}

/// The age bands the registry tells other services instead of a birth date.
pub const AGE_BANDS: [&str; 5] = ["0-13", "14-17", "18-59", "60-79", "80+"];
/// The categories a resident may be in: by age (elderly from 60, minor under 18) and as
/// recorded (disability, low income, living alone).
pub const RESIDENT_CATEGORIES: [&str; 5] = [
    "elderly",
    "minor",
    "disability",
    "low_income",
    "living_alone",
];

/// Where a resident stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ResidentStatus {
    Active,
    MovedOut,
    Deceased,
}

impl ResidentStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ResidentStatus::Active => "active",
            ResidentStatus::MovedOut => "moved_out",
            ResidentStatus::Deceased => "deceased",
        }
    }
}

/// A resident as the registry announced them: what eligibility and figures need.
#[derive(Clone, Debug, PartialEq, sqlx::FromRow)]
pub struct Resident {
    pub id: Uuid,
    pub centre_id: Uuid,
    pub age_band: String,
    pub categories: Vec<String>,
    /// `active`, `moved_out` or `deceased`.
    pub status: String,
    pub status_since: Option<NaiveDate>,
}

/// The one reading of a time zone's name: an IANA name, or nothing.
pub fn parse_zone(name: &str) -> Option<Tz> {
    name.parse().ok()
}

// ---------------------------------------------------------------------------------------
// Keeping it

/// Applies one event to the directory, inside the consumer's transaction; an event the
/// directory is not kept from changes nothing. A service's handler calls this first and
/// then reacts in its own way (bookings gives up a leaving resident's bookings, ...).
pub async fn apply(event: &Incoming, tx: &mut PgConnection) -> Result<(), HandlerError> {
    match event.routing_key.as_str() {
        CentreCreated::ROUTING_KEY => {
            let e: CentreCreated = event.decode()?;
            record_centre(tx, &announced(&e.centre_id, e.code, e.name, &e.time_zone)?).await?;
        }
        CentreUpdated::ROUTING_KEY => {
            let e: CentreUpdated = event.decode()?;
            record_centre(tx, &announced(&e.centre_id, e.code, e.name, &e.time_zone)?).await?;
        }
        ResidentRegistered::ROUTING_KEY => {
            let e: ResidentRegistered = event.decode()?;
            let registered_at = e
                .registered_at
                .and_then(|t| DateTime::from_timestamp(t.seconds, t.nanos.max(0) as u32));
            record_resident(
                tx,
                field::id("resident_id", &e.resident_id)?,
                field::id("centre_id", &e.centre_id)?,
                &e.age_band,
                &e.categories,
                registered_at,
            )
            .await?;
        }
        ResidentUpdated::ROUTING_KEY => {
            let e: ResidentUpdated = event.decode()?;
            record_resident(
                tx,
                field::id("resident_id", &e.resident_id)?,
                field::id("centre_id", &e.centre_id)?,
                &e.age_band,
                &e.categories,
                None,
            )
            .await?;
        }
        ResidentMovedOut::ROUTING_KEY => {
            let e: ResidentMovedOut = event.decode()?;
            let resident = field::id("resident_id", &e.resident_id)?;
            set_resident_status(tx, resident, ResidentStatus::MovedOut, day(&e.since)).await?;
        }
        ResidentDeceased::ROUTING_KEY => {
            let e: ResidentDeceased = event.decode()?;
            let resident = field::id("resident_id", &e.resident_id)?;
            set_resident_status(tx, resident, ResidentStatus::Deceased, day(&e.since)).await?;
        }
        ResidentReturned::ROUTING_KEY => {
            let e: ResidentReturned = event.decode()?;
            let resident = field::id("resident_id", &e.resident_id)?;
            set_resident_status(tx, resident, ResidentStatus::Active, day(&e.since)).await?;
        }
        ResidentErased::ROUTING_KEY => {
            let e: ResidentErased = event.decode()?;
            forget_resident(tx, field::id("resident_id", &e.resident_id)?).await?;
        }
        StaffJoined::ROUTING_KEY => {
            let e: StaffJoined = event.decode()?;
            record_staff(
                tx,
                field::id("staff_id", &e.staff_id)?,
                field::id("centre_id", &e.centre_id)?,
                field::date("employed_from", &e.employed_from)?,
                None,
            )
            .await?;
        }
        StaffLeft::ROUTING_KEY => {
            let e: StaffLeft = event.decode()?;
            record_staff(
                tx,
                field::id("staff_id", &e.staff_id)?,
                field::id("centre_id", &e.centre_id)?,
                // A leaving heard of before the joining keeps its last day as the first.
                field::date("employed_until", &e.employed_until)?,
                Some(field::date("employed_until", &e.employed_until)?),
            )
            .await?;
        }
        PartnerAgreementSigned::ROUTING_KEY => {
            let e: PartnerAgreementSigned = event.decode()?;
            record_agreement(
                tx,
                &Agreement {
                    id: field::id("agreement_id", &e.agreement_id)?,
                    partner_id: field::id("partner_id", &e.partner_id)?,
                    centre_id: field::id("centre_id", &e.centre_id)?,
                    valid_from: field::date("valid_from", &e.valid_from)?,
                    valid_until: field::date("valid_until", &e.valid_until)?,
                },
            )
            .await?;
        }
        PartnerAgreementRevoked::ROUTING_KEY => {
            let e: PartnerAgreementRevoked = event.decode()?;
            let at = e
                .revoked_at
                .and_then(|t| DateTime::from_timestamp(t.seconds, t.nanos.max(0) as u32))
                .or(event.occurred_at)
                .unwrap_or_else(Utc::now);
            revoke_agreement(tx, field::id("agreement_id", &e.agreement_id)?, at).await?;
        }
        _ => {}
    }
    Ok(())
}

fn announced(id: &str, code: String, name: String, zone: &str) -> Result<Centre, HandlerError> {
    Ok(Centre {
        id: field::id("centre_id", id)?,
        code,
        name,
        time_zone: parse_zone(zone).ok_or_else(|| {
            HandlerError::Permanent(format!("time_zone {zone:?} is not an IANA time zone"))
        })?,
    })
}

fn day(text: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(text, "%Y-%m-%d").ok()
}

/// Records a centre, or its corrected details.
pub async fn record_centre(conn: &mut PgConnection, centre: &Centre) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO directory.centres (id, code, name, time_zone) VALUES ($1, $2, $3, $4)
         ON CONFLICT (id) DO UPDATE
         SET code = EXCLUDED.code, name = EXCLUDED.name, time_zone = EXCLUDED.time_zone",
    )
    .bind(centre.id)
    .bind(&centre.code)
    .bind(&centre.name)
    .bind(centre.time_zone.name())
    .execute(conn)
    .await?;
    Ok(())
}

/// Records a resident's registration or corrected details (their centre among them: a
/// move between centres). The time of registration is kept from the first that gave one.
pub async fn record_resident(
    conn: &mut PgConnection,
    id: Uuid,
    centre: Uuid,
    age_band: &str,
    categories: &[String],
    registered_at: Option<DateTime<Utc>>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO directory.residents (id, centre_id, age_band, categories, registered_at)
         VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (id) DO UPDATE
         SET centre_id = EXCLUDED.centre_id, age_band = EXCLUDED.age_band,
             categories = EXCLUDED.categories,
             registered_at = coalesce(directory.residents.registered_at, EXCLUDED.registered_at)",
    )
    .bind(id)
    .bind(centre)
    .bind(age_band)
    .bind(categories)
    .bind(registered_at)
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn set_resident_status(
    conn: &mut PgConnection,
    id: Uuid,
    status: ResidentStatus,
    since: Option<NaiveDate>,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE directory.residents SET status = $2, status_since = $3 WHERE id = $1")
        .bind(id)
        .bind(status.as_str())
        .bind(since)
        .execute(conn)
        .await?;
    Ok(())
}

/// Erasure: the resident is no longer anyone the directory knows.
pub async fn forget_resident(conn: &mut PgConnection, id: Uuid) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM directory.residents WHERE id = $1")
        .bind(id)
        .execute(conn)
        .await?;
    Ok(())
}

/// Records a staff member's employment, or its end.
pub async fn record_staff(
    conn: &mut PgConnection,
    id: Uuid,
    centre: Uuid,
    employed_from: NaiveDate,
    employed_until: Option<NaiveDate>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO directory.staff (id, centre_id, employed_from, employed_until)
         VALUES ($1, $2, $3, $4)
         ON CONFLICT (id) DO UPDATE
         SET centre_id = EXCLUDED.centre_id,
             employed_from = CASE WHEN EXCLUDED.employed_until IS NULL
                                  THEN EXCLUDED.employed_from ELSE directory.staff.employed_from END,
             employed_until = coalesce(EXCLUDED.employed_until, directory.staff.employed_until)",
    )
    .bind(id)
    .bind(centre)
    .bind(employed_from)
    .bind(employed_until)
    .execute(conn)
    .await?;
    Ok(())
}

/// A partner's agreement with a centre.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Agreement {
    pub id: Uuid,
    pub partner_id: Uuid,
    pub centre_id: Uuid,
    pub valid_from: NaiveDate,
    pub valid_until: NaiveDate,
}

pub async fn record_agreement(
    conn: &mut PgConnection,
    agreement: &Agreement,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO directory.partner_agreements (id, partner_id, centre_id, valid_from, valid_until)
         VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (id) DO UPDATE
         SET valid_from = EXCLUDED.valid_from, valid_until = EXCLUDED.valid_until",
    )
    .bind(agreement.id)
    .bind(agreement.partner_id)
    .bind(agreement.centre_id)
    .bind(agreement.valid_from)
    .bind(agreement.valid_until)
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn revoke_agreement(
    conn: &mut PgConnection,
    id: Uuid,
    at: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE directory.partner_agreements SET revoked_at = coalesce(revoked_at, $2) WHERE id = $1",
    )
    .bind(id)
    .bind(at)
    .execute(conn)
    .await?;
    Ok(())
}

/// Records what the registry announced (its centres, and its residents' registrations)
/// straight into a service's directory: for `linli seed demo`, which fills each service
/// before the platform runs and its events arrive. The events, when they do, change
/// nothing more.
pub async fn record_announced(
    pool: &sqlx::PgPool,
    centres: &[Centre],
    residents: &[ResidentRegistered],
) -> anyhow::Result<()> {
    let mut tx = pool.begin().await?;
    for centre in centres {
        record_centre(&mut tx, centre).await?;
    }
    for r in residents {
        let registered_at = r
            .registered_at
            .and_then(|t| DateTime::from_timestamp(t.seconds, t.nanos.max(0) as u32));
        let (id, centre) = (r.resident_id.parse()?, r.centre_id.parse()?);
        record_resident(
            &mut tx,
            id,
            centre,
            &r.age_band,
            &r.categories,
            registered_at,
        )
        .await?;
    }
    tx.commit().await?;
    Ok(())
}

// ---------------------------------------------------------------------------------------
// Reading it

#[derive(sqlx::FromRow)]
struct CentreRow {
    id: Uuid,
    code: String,
    name: String,
    time_zone: String,
}

impl CentreRow {
    fn into_centre(self) -> Centre {
        // Only a parsed zone is ever stored; a row written by hand with another is read
        // as the zone it cannot be mistaken for, UTC, and said so.
        let time_zone = parse_zone(&self.time_zone).unwrap_or_else(|| {
            tracing::error!(centre = %self.id, zone = %self.time_zone, "the directory holds an unknown time zone");
            Tz::UTC
        });
        Centre {
            id: self.id,
            code: self.code,
            name: self.name,
            time_zone,
        }
    }
}

/// The centre, when the directory knows it.
pub async fn centre(conn: &mut PgConnection, id: Uuid) -> Result<Option<Centre>, sqlx::Error> {
    let row: Option<CentreRow> =
        sqlx::query_as("SELECT id, code, name, time_zone FROM directory.centres WHERE id = $1")
            .bind(id)
            .fetch_optional(conn)
            .await?;
    Ok(row.map(CentreRow::into_centre))
}

/// Every centre the directory knows, by id.
pub async fn centres(conn: &mut PgConnection) -> Result<Vec<Centre>, sqlx::Error> {
    let rows: Vec<CentreRow> =
        sqlx::query_as("SELECT id, code, name, time_zone FROM directory.centres ORDER BY id")
            .fetch_all(conn)
            .await?;
    Ok(rows.into_iter().map(CentreRow::into_centre).collect())
}

/// The centre named by a write, which must be one the directory knows.
pub async fn require_centre(conn: &mut PgConnection, id: Uuid) -> Result<Centre, Error> {
    centre(conn, id)
        .await?
        .ok_or(Error::UnknownCentre("centre_id"))
}

/// The time zone of a centre the directory knows: the one rule for reading a centre's
/// days and hours.
pub async fn time_zone(conn: &mut PgConnection, centre: Uuid) -> Result<Tz, Error> {
    Ok(require_centre(conn, centre).await?.time_zone)
}

/// What one statement finds of a centre and of the id a write names.
#[derive(sqlx::FromRow)]
struct Found {
    centre: bool,
    named: bool,
}

/// The centre must be known, and `sql` (which tests `$1`, the centre, and `$2`, the id)
/// must find the id there; otherwise `field` is refused with `reason`. One round trip.
async fn require_named(
    conn: &mut PgConnection,
    centre: Uuid,
    id: Uuid,
    sql: &'static str,
    field: &'static str,
    reason: &'static str,
) -> Result<(), Error> {
    let found: Found = sqlx::query_as(sql)
        .bind(centre)
        .bind(id)
        .fetch_one(conn)
        .await?;
    if !found.centre {
        Err(Error::UnknownCentre("centre_id"))
    } else if !found.named {
        Err(Error::NotOfCentre { field, reason })
    } else {
        Ok(())
    }
}

/// `resident`, named by `field` of a write for `centre`, must be one of the centre's
/// residents (whatever their status: history may name a resident who moved out).
pub async fn require_resident(
    conn: &mut PgConnection,
    centre: Uuid,
    resident: Uuid,
    field: &'static str,
) -> Result<(), Error> {
    require_named(
        conn,
        centre,
        resident,
        "SELECT EXISTS (SELECT 1 FROM directory.centres WHERE id = $1) AS centre,
                EXISTS (SELECT 1 FROM directory.residents WHERE id = $2 AND centre_id = $1) AS named",
        field,
        NOT_A_RESIDENT,
    )
    .await
}

/// `resident` as the directory knows them, when they are one of `centre`'s residents.
pub async fn resident_of(
    conn: &mut PgConnection,
    centre: Uuid,
    resident: Uuid,
    field: &'static str,
) -> Result<Resident, Error> {
    find_resident(conn, centre, resident, field, RESIDENT_OF).await
}

/// [`resident_of`], with the resident's row share-locked until the transaction ends, so
/// that an event changing them (a move out) waits for the write, and then sees it.
pub async fn hold_resident(
    conn: &mut PgConnection,
    centre: Uuid,
    resident: Uuid,
    field: &'static str,
) -> Result<Resident, Error> {
    find_resident(conn, centre, resident, field, HOLD_RESIDENT).await
}

const RESIDENT_OF: &str = "SELECT id, centre_id, age_band, categories, status, status_since
     FROM directory.residents WHERE id = $1 AND centre_id = $2";

const HOLD_RESIDENT: &str = "SELECT id, centre_id, age_band, categories, status, status_since
     FROM directory.residents WHERE id = $1 AND centre_id = $2 FOR SHARE";

async fn find_resident(
    conn: &mut PgConnection,
    centre: Uuid,
    resident: Uuid,
    field: &'static str,
    sql: &'static str,
) -> Result<Resident, Error> {
    let row: Option<Resident> = sqlx::query_as(sql)
        .bind(resident)
        .bind(centre)
        .fetch_optional(&mut *conn)
        .await?;
    match row {
        Some(resident) => Ok(resident),
        None => {
            require_centre(conn, centre).await?;
            Err(Error::not_a_resident(field))
        }
    }
}

/// `staff`, named by `field` of a write for `centre`, must be one of the centre's staff
/// (past staff included: a follow-up may concern work done before they left).
pub async fn require_staff(
    conn: &mut PgConnection,
    centre: Uuid,
    staff: Uuid,
    field: &'static str,
) -> Result<(), Error> {
    require_named(
        conn,
        centre,
        staff,
        "SELECT EXISTS (SELECT 1 FROM directory.centres WHERE id = $1) AS centre,
                EXISTS (SELECT 1 FROM directory.staff WHERE id = $2 AND centre_id = $1) AS named",
        field,
        NOT_STAFF,
    )
    .await
}

/// `partner`, named by `field` of a write for `centre`, must have an agreement with the
/// centre that was not revoked.
pub async fn require_partner(
    conn: &mut PgConnection,
    centre: Uuid,
    partner: Uuid,
    field: &'static str,
) -> Result<(), Error> {
    require_named(
        conn,
        centre,
        partner,
        "SELECT EXISTS (SELECT 1 FROM directory.centres WHERE id = $1) AS centre,
                EXISTS (SELECT 1 FROM directory.partner_agreements
                        WHERE partner_id = $2 AND centre_id = $1 AND revoked_at IS NULL) AS named",
        field,
        NOT_A_PARTNER,
    )
    .await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::violations_of;

    #[test]
    fn an_unknown_centre_is_not_found_naming_the_field() {
        let status = Status::from(Error::UnknownCentre("centre_id"));
        assert_eq!(status.code(), Code::NotFound);
        let violations = violations_of(&status);
        assert_eq!(violations.len(), 1);
        assert_eq!(violations[0].field, "centre_id");
    }

    #[test]
    fn an_id_of_another_centre_is_unprocessable_naming_the_field() {
        let status = Status::from(Error::NotOfCentre {
            field: "donor_resident_id",
            reason: NOT_A_RESIDENT,
        });
        assert_eq!(status.code(), Code::FailedPrecondition);
        assert_eq!(violations_of(&status)[0].field, "donor_resident_id");
    }

    #[test]
    fn a_zone_is_an_iana_name_or_nothing() {
        assert_eq!(parse_zone("Asia/Urumqi"), Some(chrono_tz::Asia::Urumqi));
        assert_eq!(parse_zone("Mars/Olympus"), None);
        assert_eq!(parse_zone(""), None);
    }
}
