//! Every SQL statement of the registry, one function per query. A registration writes the
//! resident and its event in one transaction.

use chrono::{DateTime, NaiveDate, Utc};
use linli_platform::bus::{enqueue, enqueue_all};
use linli_platform::crypto::{Sealed, Vault};
use linli_platform::error::Violations;
use sqlx::{PgConnection, PgPool, Postgres, QueryBuilder};
use uuid::Uuid;

use crate::domain::centre::CentreDetails;
use crate::domain::correction::ResidentDetails;
use crate::domain::import::ImportedRow;
use crate::domain::status::Status;
use crate::domain::{NAME_KEYS_VERSION, NameQuery, NewResident, centre_character_grams, name_keys};
use crate::error::Error;
use crate::events;

pub mod partners;
use linli_proto::events::v1::{ResidentDeceased, ResidentMovedOut, ResidentReturned};

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct CentreRow {
    pub id: Uuid,
    pub code: String,
    pub name: String,
    pub address: String,
    pub time_zone: String,
    pub opening_hours: String,
    pub contact_phone: String,
}

/// The columns every centre query returns, as a literal so queries stay static SQL.
macro_rules! centre_columns {
    () => {
        "id, code, name, address, time_zone, opening_hours, contact_phone"
    };
}

#[derive(Clone, sqlx::FromRow)]
pub struct ResidentRow {
    pub id: Uuid,
    pub centre_id: Uuid,
    pub name: String,
    pub gender: String,
    pub date_of_birth: NaiveDate,
    pub phone_sealed: Option<Vec<u8>>,
    pub phone_key_id: Option<String>,
    pub national_id_sealed: Option<Vec<u8>>,
    pub national_id_key_id: Option<String>,
    pub registered_at: DateTime<Utc>,
    pub status: String,
    pub status_since: NaiveDate,
    pub building: String,
    pub unit: String,
    pub room: String,
    /// Recorded categories only; age-derived ones are computed on the way out.
    pub categories: Vec<String>,
    pub health_note_sealed: Option<Vec<u8>>,
    pub health_note_key_id: Option<String>,
    pub household_id: Option<Uuid>,
    /// The relationship to the household's head; set exactly when `household_id` is.
    pub relationship: Option<String>,
}

impl ResidentRow {
    pub fn sealed_phone(&self) -> Option<Sealed> {
        sealed(&self.phone_key_id, &self.phone_sealed)
    }

    pub fn sealed_health_note(&self) -> Option<Sealed> {
        sealed(&self.health_note_key_id, &self.health_note_sealed)
    }

    pub fn sealed_national_id(&self) -> Option<Sealed> {
        sealed(&self.national_id_key_id, &self.national_id_sealed)
    }
}

fn sealed(key_id: &Option<String>, bytes: &Option<Vec<u8>>) -> Option<Sealed> {
    match (key_id, bytes) {
        (Some(key_id), Some(bytes)) => Some(Sealed {
            key_id: key_id.clone(),
            bytes: bytes.clone(),
        }),
        _ => None,
    }
}

/// Why a registration was not stored.
#[derive(Debug, thiserror::Error)]
pub enum RegisterError {
    #[error("a resident with this national ID is already registered")]
    DuplicateNationalId,
    /// The centre has a resident who is probably this person (see [`same_person!`]).
    #[error("a resident of this centre has the same name, date of birth and phone")]
    ProbablyRegistered(Uuid),
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

/// The columns every resident query returns, as a literal so queries stay static SQL.
macro_rules! resident_columns {
    () => {
        "id, centre_id, name, gender, date_of_birth, phone_sealed, phone_key_id, \
         national_id_sealed, national_id_key_id, registered_at, status, status_since, \
         building, unit, room, categories, health_note_sealed, health_note_key_id, \
         household_id, relationship"
    };
}

pub async fn list_centres(pool: &PgPool) -> Result<Vec<CentreRow>, sqlx::Error> {
    sqlx::query_as(concat!(
        "SELECT ",
        centre_columns!(),
        " FROM centres ORDER BY code"
    ))
    .fetch_all(pool)
    .await
}

pub async fn centre_exists(pool: &PgPool, id: Uuid) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM centres WHERE id = $1)")
        .bind(id)
        .fetch_one(pool)
        .await
}

pub async fn find_centre(pool: &PgPool, id: Uuid) -> Result<Option<CentreRow>, sqlx::Error> {
    sqlx::query_as(concat!(
        "SELECT ",
        centre_columns!(),
        " FROM centres WHERE id = $1"
    ))
    .bind(id)
    .fetch_optional(pool)
    .await
}

/// Why a centre was not created.
#[derive(Debug, thiserror::Error)]
pub enum CentreError {
    #[error("another centre has this code")]
    DuplicateCode,
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

/// Adds a centre and records `registry.centre.created`, together; `None` when a centre
/// with this id exists already (so the demo seed can run twice).
pub async fn create_centre(
    pool: &PgPool,
    id: Uuid,
    centre: &CentreDetails,
) -> Result<Option<CentreRow>, CentreError> {
    let mut tx = linli_platform::db::begin(pool).await?;
    let inserted: Option<CentreRow> = sqlx::query_as(concat!(
        "INSERT INTO centres (id, code, name, address, time_zone, opening_hours, contact_phone)
         VALUES ($1, $2, $3, $4, $5, $6, $7)
         ON CONFLICT (id) DO NOTHING RETURNING ",
        centre_columns!()
    ))
    .bind(id)
    .bind(&centre.code)
    .bind(&centre.name)
    .bind(&centre.address)
    .bind(&centre.time_zone)
    .bind(&centre.opening_hours)
    .bind(&centre.contact_phone)
    .fetch_optional(&mut *tx)
    .await
    .map_err(|error| match &error {
        sqlx::Error::Database(e) if e.constraint() == Some("centres_code_key") => {
            CentreError::DuplicateCode
        }
        _ => CentreError::Database(error),
    })?;
    if let Some(row) = &inserted {
        enqueue(&mut tx, Some(row.id), &events::centre_created(row)).await?;
    }
    tx.commit().await?;
    Ok(inserted)
}

/// Corrects a centre in one transaction: the row is locked, `correct` turns its details
/// as they stand into the corrected ones, and those are written. `Ok(None)` when there is
/// no such centre.
pub async fn correct_centre(
    pool: &PgPool,
    id: Uuid,
    correct: impl FnOnce(&CentreDetails) -> Result<CentreDetails, Violations>,
) -> Result<Option<CentreRow>, Error> {
    let mut tx = pool.begin().await?;
    let row: Option<CentreRow> = sqlx::query_as(concat!(
        "SELECT ",
        centre_columns!(),
        " FROM centres WHERE id = $1 FOR UPDATE"
    ))
    .bind(id)
    .fetch_optional(&mut *tx)
    .await?;
    let Some(row) = row else {
        return Ok(None);
    };
    let centre = correct(&CentreDetails {
        code: row.code,
        name: row.name,
        address: row.address,
        time_zone: row.time_zone,
        opening_hours: row.opening_hours,
        contact_phone: row.contact_phone,
    })?;
    let row = sqlx::query_as(concat!(
        "UPDATE centres SET name = $2, address = $3, time_zone = $4, opening_hours = $5,
             contact_phone = $6, updated_at = now()
         WHERE id = $1 RETURNING ",
        centre_columns!()
    ))
    .bind(id)
    .bind(&centre.name)
    .bind(&centre.address)
    .bind(&centre.time_zone)
    .bind(&centre.opening_hours)
    .bind(&centre.contact_phone)
    .fetch_one(&mut *tx)
    .await?;
    // Every service's directory takes the corrected details (the time zone among them).
    enqueue(&mut tx, Some(id), &events::centre_updated(&row)).await?;
    tx.commit().await?;
    Ok(Some(row))
}

/// Registers a resident and records `registry.resident.registered`, in one transaction.
/// Refused when the national ID is registered already, and, unless the desk confirmed
/// this is someone else (`confirmed_not_duplicate`), when the centre has a resident who
/// is probably this person ([`same_person!`], the rule an import skips rows by).
pub async fn register_resident(
    pool: &PgPool,
    vault: &Vault,
    resident: &NewResident,
    confirmed_not_duplicate: bool,
    today: NaiveDate,
) -> Result<ResidentRow, RegisterError> {
    let mut tx = linli_platform::db::begin(pool).await?;
    let row = register_in(&mut tx, vault, resident, confirmed_not_duplicate, today).await?;
    tx.commit().await?;
    Ok(row)
}

/// [`register_resident`] within `tx`.
async fn register_in(
    tx: &mut PgConnection,
    vault: &Vault,
    resident: &NewResident,
    confirmed_not_duplicate: bool,
    today: NaiveDate,
) -> Result<ResidentRow, RegisterError> {
    if !confirmed_not_duplicate
        && let Some(existing) = probably_registered(&mut *tx, vault, resident).await?
    {
        return Err(RegisterError::ProbablyRegistered(existing));
    }
    let row = insert_residents(&mut *tx, vault, &[resident], Duplicates::ByNationalId)
        .await?
        .pop()
        .flatten()
        .ok_or(RegisterError::DuplicateNationalId)?;
    enqueue(
        &mut *tx,
        Some(row.centre_id),
        &events::resident_registered(&row, today),
    )
    .await?;
    Ok(row)
}

/// A value sealed for storage with its blind index, as the three columns hold them.
struct SealedColumns {
    bytes: Vec<u8>,
    key_id: String,
    index: Vec<u8>,
}

fn seal(vault: &Vault, purpose: &str, value: Option<&str>) -> Option<SealedColumns> {
    value.map(|value| {
        let sealed = vault.seal(value);
        SealedColumns {
            bytes: sealed.bytes,
            key_id: sealed.key_id,
            index: vault.blind_index(purpose, value),
        }
    })
}

/// Whether resident `x` is the person registration `r` describes, as far as the registry
/// can tell without comparing national IDs: the same centre, name and date of birth, and
/// the same phone (by its blind index) or neither has one, unless both carry a national
/// ID (those decide alone). One rule for the desk, whose registration of such a person is
/// refused naming the resident found (unless the desk confirms it is someone else), and
/// for a spreadsheet import, which skips such a row as already registered (so importing a
/// sheet twice adds nothing). `r` has the columns `centre_id`, `name`, `date_of_birth`,
/// `phone_index` and `national_id_index`.
macro_rules! same_person {
    () => {
        "x.centre_id = r.centre_id AND x.name = r.name AND x.date_of_birth = r.date_of_birth
         AND x.phone_index IS NOT DISTINCT FROM r.phone_index
         AND (x.national_id_index IS NULL OR r.national_id_index IS NULL)
         AND x.erased_at IS NULL"
    };
}

/// The resident of the centre who is probably the person `resident` describes
/// ([`same_person!`]), the earliest registered if several. Registrations of one name and
/// date of birth at a centre take turns for the rest of `tx`, so two desks registering the
/// same person at once cannot both miss the other.
async fn probably_registered(
    tx: &mut PgConnection,
    vault: &Vault,
    resident: &NewResident,
) -> Result<Option<Uuid>, sqlx::Error> {
    sqlx::query("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))")
        .bind(format!(
            "registry.resident:{}:{}:{}",
            resident.centre_id,
            resident.date_of_birth.date(),
            resident.name.as_str()
        ))
        .execute(&mut *tx)
        .await?;
    let index = |purpose: &str, value: Option<&str>| value.map(|v| vault.blind_index(purpose, v));
    sqlx::query_scalar(concat!(
        "SELECT x.id FROM residents x,
             (SELECT $1::uuid AS centre_id, $2::text AS name, $3::date AS date_of_birth,
                     $4::bytea AS phone_index, $5::bytea AS national_id_index) r
         WHERE ",
        same_person!(),
        " ORDER BY x.registered_at, x.id LIMIT 1"
    ))
    .bind(resident.centre_id)
    .bind(resident.name.as_str())
    .bind(resident.date_of_birth.date())
    .bind(index("phone", resident.phone.as_ref().map(|p| p.expose())))
    .bind(index(
        "national_id",
        resident.national_id.as_ref().map(|id| id.expose()),
    ))
    .fetch_optional(&mut *tx)
    .await
}

/// What counts as a resident already registered.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Duplicates {
    /// The same national ID anywhere in the district.
    ByNationalId,
    /// That, or probably the same person at the same centre ([`same_person!`]).
    ByNationalIdOrSamePerson,
}

/// Inserts the residents not already registered: for each input, its row, or `None` when
/// it was already registered. One statement for any number of rows (arrays unnested), so
/// an import costs a round trip per batch rather than per row.
async fn insert_residents(
    tx: &mut PgConnection,
    vault: &Vault,
    residents: &[&NewResident],
    duplicates: Duplicates,
) -> Result<Vec<Option<ResidentRow>>, sqlx::Error> {
    let n = residents.len();
    let (mut ids, mut centres, mut names, mut genders, mut births) = (
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
    );
    let (mut phone_sealed, mut phone_key, mut phone_index) = (
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
    );
    let (mut id_sealed, mut id_key, mut id_index) = (
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
    );
    let (mut notes_sealed, mut notes_key) = (Vec::with_capacity(n), Vec::with_capacity(n));
    let (mut buildings, mut units, mut rooms, mut categories) = (
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
    );
    for resident in residents {
        ids.push(Uuid::new_v4());
        centres.push(resident.centre_id);
        names.push(resident.name.as_str().to_owned());
        genders.push(resident.gender.as_str().to_owned());
        births.push(resident.date_of_birth.date());
        let phone = seal(vault, "phone", resident.phone.as_ref().map(|p| p.expose()));
        let national_id = seal(
            vault,
            "national_id",
            resident.national_id.as_ref().map(|id| id.expose()),
        );
        for (columns, (sealed, key, index)) in [
            (phone, (&mut phone_sealed, &mut phone_key, &mut phone_index)),
            (national_id, (&mut id_sealed, &mut id_key, &mut id_index)),
        ] {
            match columns {
                Some(c) => {
                    sealed.push(Some(c.bytes));
                    key.push(Some(c.key_id));
                    index.push(Some(c.index));
                }
                None => {
                    sealed.push(None);
                    key.push(None);
                    index.push(None);
                }
            }
        }
        buildings.push(resident.address.building.clone());
        units.push(resident.address.unit.clone());
        rooms.push(resident.address.room.clone());
        // Category names hold no commas; joined, they unnest as one text per row.
        categories.push(resident.categories.join(","));
        let note = resident
            .health_note
            .as_ref()
            .map(|note| vault.seal(note.expose()));
        notes_key.push(note.as_ref().map(|n| n.key_id.clone()));
        notes_sealed.push(note.map(|n| n.bytes));
    }
    let returned: Vec<ResidentRow> = sqlx::query_as(concat!(
        "INSERT INTO residents (id, centre_id, name, gender, date_of_birth,
             phone_sealed, phone_key_id, phone_index,
             national_id_sealed, national_id_key_id, national_id_index,
             building, unit, room, categories, health_note_sealed, health_note_key_id,
             name_keys_version)
         SELECT r.id, r.centre_id, r.name, r.gender, r.date_of_birth,
             r.phone_sealed, r.phone_key_id, r.phone_index,
             r.national_id_sealed, r.national_id_key_id, r.national_id_index,
             r.building, r.unit, r.room,
             coalesce(string_to_array(nullif(r.categories, ''), ','), '{}'),
             r.health_note_sealed, r.health_note_key_id, $19
         FROM UNNEST($1::uuid[], $2::uuid[], $3::text[], $4::text[], $5::date[],
                     $6::bytea[], $7::text[], $8::bytea[], $9::bytea[], $10::text[], $11::bytea[],
                     $13::text[], $14::text[], $15::text[], $16::text[],
                     $17::bytea[], $18::text[])
             WITH ORDINALITY
             AS r(id, centre_id, name, gender, date_of_birth, phone_sealed, phone_key_id, phone_index,
                  national_id_sealed, national_id_key_id, national_id_index,
                  building, unit, room, categories, health_note_sealed, health_note_key_id, n)
         WHERE NOT ($12 AND EXISTS (SELECT 1 FROM residents x WHERE ",
        same_person!(),
        "))
         ORDER BY r.n
         ON CONFLICT (national_id_index) WHERE national_id_index IS NOT NULL DO NOTHING
         RETURNING ",
        resident_columns!()
    ))
    .bind(&ids)
    .bind(&centres)
    .bind(&names)
    .bind(&genders)
    .bind(&births)
    .bind(&phone_sealed)
    .bind(&phone_key)
    .bind(&phone_index)
    .bind(&id_sealed)
    .bind(&id_key)
    .bind(&id_index)
    .bind(duplicates == Duplicates::ByNationalIdOrSamePerson)
    .bind(&buildings)
    .bind(&units)
    .bind(&rooms)
    .bind(&categories)
    .bind(&notes_sealed)
    .bind(&notes_key)
    .bind(NAME_KEYS_VERSION)
    .fetch_all(&mut *tx)
    .await?;
    let mut inserted: std::collections::HashMap<Uuid, ResidentRow> = returned
        .into_iter()
        .map(|row: ResidentRow| (row.id, row))
        .collect();
    let skills: Vec<(&ResidentRow, &(String, String))> = ids
        .iter()
        .zip(residents)
        .filter_map(|(id, resident)| inserted.get(id).zip(Some(resident)))
        .flat_map(|(row, resident)| resident.skills.iter().map(move |skill| (row, skill)))
        .collect();
    insert_skills(tx, &skills).await?;
    let names: Vec<Named> = inserted.values().map(Named::from).collect();
    insert_name_keys(tx, &names).await?;
    Ok(ids.iter().map(|id| inserted.remove(id)).collect())
}

/// What an import did: rows registered, row numbers skipped as already registered, and
/// row numbers refused because their household has a head already.
#[derive(Debug, Default)]
pub struct ImportOutcome {
    pub imported: u32,
    pub already_registered: Vec<u32>,
    pub second_heads: Vec<u32>,
}

/// Registers every row not already registered, each with its event, a batch of rows per
/// transaction so a crash loses at most the batch in flight (and a rerun completes it),
/// adding what it did to `outcome` (an import calls it for each part of a sheet as it is
/// read). A row with a relationship joins the household at its address (made if there is
/// none); a row that would be a second head is left out, and its batch done again
/// without it.
pub async fn import_residents(
    pool: &PgPool,
    vault: &Vault,
    rows: &[(u32, ImportedRow)],
    today: NaiveDate,
    outcome: &mut ImportOutcome,
) -> Result<(), sqlx::Error> {
    const BATCH: usize = 1000;
    for batch in rows.chunks(BATCH) {
        let mut batch: Vec<&(u32, ImportedRow)> = batch.iter().collect();
        loop {
            let residents: Vec<&NewResident> = batch.iter().map(|(_, row)| &row.resident).collect();
            let mut tx = pool.begin().await?;
            let inserted = insert_residents(
                &mut tx,
                vault,
                &residents,
                Duplicates::ByNationalIdOrSamePerson,
            )
            .await?;
            let mut second_heads = Vec::new();
            for ((row_number, row), resident) in batch.iter().map(|r| (r.0, &r.1)).zip(&inserted) {
                if let (Some(resident), Some(relationship)) = (resident, row.relationship)
                    && !households::join_at_address(&mut tx, resident, relationship).await?
                {
                    second_heads.push(row_number);
                }
            }
            if !second_heads.is_empty() {
                tx.rollback().await?;
                batch.retain(|(row_number, _)| !second_heads.contains(row_number));
                outcome.second_heads.extend(second_heads);
                continue;
            }
            let events: Vec<_> = inserted
                .iter()
                .flatten()
                .map(|row| (Some(row.centre_id), events::resident_registered(row, today)))
                .collect();
            enqueue_all(&mut tx, &events).await?;
            tx.commit().await?;
            for ((row_number, _), row) in batch.iter().map(|r| (r.0, &r.1)).zip(&inserted) {
                match row {
                    Some(_) => outcome.imported += 1,
                    None => outcome.already_registered.push(row_number),
                }
            }
            break;
        }
    }
    outcome.second_heads.sort_unstable();
    Ok(())
}

/// Refreshes the planner's statistics of the tables an import writes. A bulk import
/// outgrows them faster than autovacuum notices: at 1 M residents the planner still
/// counted 2,800 in a centre of 20,000 and read its first page by a scan and sort (1.6 s
/// in place of 7–24 ms).
pub async fn analyze_after_import(pool: &PgPool) -> Result<(), sqlx::Error> {
    sqlx::query("ANALYZE residents, resident_name_keys, resident_skills")
        .execute(pool)
        .await?;
    Ok(())
}

/// How many residents the planner's statistics last counted (0 before any).
pub async fn residents_as_analyzed(pool: &PgPool) -> Result<f64, sqlx::Error> {
    let tuples: f32 =
        sqlx::query_scalar("SELECT reltuples FROM pg_class WHERE oid = 'residents'::regclass")
            .fetch_one(pool)
            .await?;
    Ok(f64::from(tuples.max(0.0)))
}

/// Erases a resident's personal data and records `registry.resident.erased`, in one
/// transaction; false when there is no such resident or it was erased already (so the
/// event is recorded once).
pub async fn erase_resident(
    pool: &PgPool,
    centre_id: Uuid,
    id: Uuid,
    reason: &str,
) -> Result<bool, sqlx::Error> {
    let mut tx = pool.begin().await?;
    let erased: Option<DateTime<Utc>> = sqlx::query_scalar(
        "UPDATE residents SET
             name = '（已删除）',
             date_of_birth = date_trunc('year', date_of_birth)::date,
             phone_sealed = NULL, phone_key_id = NULL, phone_index = NULL,
             national_id_sealed = NULL, national_id_key_id = NULL, national_id_index = NULL,
             health_note_sealed = NULL, health_note_key_id = NULL,
             building = '', unit = '', room = '', categories = '{}',
             household_id = NULL, relationship = NULL,
             erased_at = now(), erasure_reason = $3
         WHERE centre_id = $1 AND id = $2 AND erased_at IS NULL
         RETURNING erased_at",
    )
    .bind(centre_id)
    .bind(id)
    .bind(reason)
    .fetch_optional(&mut *tx)
    .await?;
    let Some(erased_at) = erased else {
        return Ok(false);
    };
    sqlx::query("DELETE FROM resident_skills WHERE resident_id = $1")
        .bind(id)
        .execute(&mut *tx)
        .await?;
    sqlx::query("DELETE FROM resident_name_keys WHERE resident_id = $1")
        .bind(id)
        .execute(&mut *tx)
        .await?;
    // A correction request's words are about the person: they go with the record.
    sqlx::query("DELETE FROM correction_requests WHERE resident_id = $1")
        .bind(id)
        .execute(&mut *tx)
        .await?;
    enqueue(
        &mut tx,
        Some(centre_id),
        &events::resident_erased(id, centre_id, erased_at),
    )
    .await?;
    tx.commit().await?;
    Ok(true)
}

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct ConsentRow {
    pub purpose: String,
    pub granted: bool,
    pub source: String,
    pub guardian_id: Option<Uuid>,
    pub recorded_by: String,
    pub recorded_at: DateTime<Utc>,
    /// With purpose "family_delegate": the family member, and their name.
    #[sqlx(default)]
    pub delegate_id: Option<Uuid>,
    #[sqlx(default)]
    pub delegate_name: Option<String>,
}

/// A consent to record, already checked.
pub struct NewConsent<'a> {
    pub resident_id: Uuid,
    pub centre_id: Uuid,
    pub purpose: &'a str,
    pub granted: bool,
    pub source: &'a str,
    pub guardian_id: Option<Uuid>,
    pub recorded_by: &'a str,
    /// With purpose "family_delegate": the family member let act for the resident.
    pub delegate_id: Option<Uuid>,
}

/// Records a consent or withdrawal and `registry.resident.consent_changed`, together.
pub async fn record_consent(pool: &PgPool, consent: &NewConsent<'_>) -> Result<(), sqlx::Error> {
    let mut tx = linli_platform::db::begin(pool).await?;
    let recorded_at: DateTime<Utc> = sqlx::query_scalar(
        "INSERT INTO consents (resident_id, purpose, granted, source, guardian_id, recorded_by,
                               delegate_id)
         VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING recorded_at",
    )
    .bind(consent.resident_id)
    .bind(consent.purpose)
    .bind(consent.granted)
    .bind(consent.source)
    .bind(consent.guardian_id)
    .bind(consent.recorded_by)
    .bind(consent.delegate_id)
    .fetch_one(&mut *tx)
    .await?;
    let event = events::consent_changed(consent, recorded_at);
    enqueue(&mut tx, Some(consent.centre_id), &event).await?;
    tx.commit().await
}

/// The consent that holds now for each purpose ever recorded (and for "family_delegate",
/// for each family member ever named, with their name).
pub async fn current_consents(
    pool: &PgPool,
    resident_id: Uuid,
) -> Result<Vec<ConsentRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT c.*, d.name AS delegate_name FROM (
             SELECT DISTINCT ON (purpose, delegate_id) purpose, granted, source, guardian_id,
                    recorded_by, recorded_at, delegate_id
               FROM consents WHERE resident_id = $1 ORDER BY purpose, delegate_id, id DESC) c
           LEFT JOIN residents d ON d.id = c.delegate_id AND d.erased_at IS NULL
          ORDER BY c.purpose, c.recorded_at",
    )
    .bind(resident_id)
    .fetch_all(pool)
    .await
}

/// Corrects a resident in one transaction: the row is locked, `correct` turns the record
/// as it stands (opened) into the corrected resident, and that is written with
/// `registry.resident.updated`. Corrections of one resident queue on the lock, so one
/// never undoes another's change to a different field. `Ok(None)` when there is no such
/// (unerased) resident.
pub async fn correct_resident(
    pool: &PgPool,
    vault: &Vault,
    centre_id: Uuid,
    id: Uuid,
    today: NaiveDate,
    correct: impl FnOnce(ResidentDetails) -> Result<NewResident, Violations>,
) -> Result<Option<ResidentRow>, Error> {
    let mut tx = pool.begin().await?;
    let row: Option<ResidentRow> = sqlx::query_as(concat!(
        "SELECT ",
        resident_columns!(),
        " FROM residents WHERE centre_id = $1 AND id = $2 AND erased_at IS NULL FOR UPDATE"
    ))
    .bind(centre_id)
    .bind(id)
    .fetch_optional(&mut *tx)
    .await?;
    let Some(row) = row else {
        return Ok(None);
    };
    let skills: Vec<(String, String)> = sqlx::query_as(
        "SELECT kind, name FROM resident_skills WHERE resident_id = $1 ORDER BY kind, name",
    )
    .bind(id)
    .fetch_all(&mut *tx)
    .await?;
    let open = |sealed: Option<Sealed>| sealed.map(|s| vault.open(&s)).transpose();
    let recorded = ResidentDetails {
        centre_id: row.centre_id.to_string(),
        phone: open(row.sealed_phone())?,
        national_id: open(row.sealed_national_id())?,
        health_note: open(row.sealed_health_note())?,
        name: row.name,
        gender: Some(row.gender),
        date_of_birth: row.date_of_birth.format("%Y-%m-%d").to_string(),
        building: row.building,
        unit: row.unit,
        room: row.room,
        categories: row.categories,
        skills,
    };
    let resident = correct(recorded)?;
    let row = write_resident(&mut tx, vault, id, &resident, today).await?;
    tx.commit().await?;
    Ok(row)
}

/// Writes a resident's details as given, with `registry.resident.updated`.
async fn write_resident(
    tx: &mut PgConnection,
    vault: &Vault,
    id: Uuid,
    resident: &NewResident,
    today: NaiveDate,
) -> Result<Option<ResidentRow>, RegisterError> {
    let phone = seal(vault, "phone", resident.phone.as_ref().map(|p| p.expose()));
    let national_id = seal(
        vault,
        "national_id",
        resident.national_id.as_ref().map(|n| n.expose()),
    );
    let note = resident
        .health_note
        .as_ref()
        .map(|note| vault.seal(note.expose()));
    let row: Option<ResidentRow> = sqlx::query_as(concat!(
        "UPDATE residents SET name = $3, gender = $4, date_of_birth = $5,
             phone_sealed = $6, phone_key_id = $7, phone_index = $8,
             national_id_sealed = $9, national_id_key_id = $10, national_id_index = $11,
             building = $12, unit = $13, room = $14, categories = $15,
             health_note_sealed = $16, health_note_key_id = $17,
             -- a member's address is the household's: one who moves leaves it
             household_id = CASE WHEN (building, unit, room) = ($12, $13, $14)
                                 THEN household_id END,
             relationship = CASE WHEN (building, unit, room) = ($12, $13, $14)
                                 THEN relationship END
         WHERE centre_id = $1 AND id = $2 AND erased_at IS NULL
         RETURNING ",
        resident_columns!()
    ))
    .bind(resident.centre_id)
    .bind(id)
    .bind(resident.name.as_str())
    .bind(resident.gender.as_str())
    .bind(resident.date_of_birth.date())
    .bind(phone.as_ref().map(|s| s.bytes.clone()))
    .bind(phone.as_ref().map(|s| s.key_id.clone()))
    .bind(phone.as_ref().map(|s| s.index.clone()))
    .bind(national_id.as_ref().map(|s| s.bytes.clone()))
    .bind(national_id.as_ref().map(|s| s.key_id.clone()))
    .bind(national_id.as_ref().map(|s| s.index.clone()))
    .bind(&resident.address.building)
    .bind(&resident.address.unit)
    .bind(&resident.address.room)
    .bind(&resident.categories)
    .bind(note.as_ref().map(|n| n.bytes.clone()))
    .bind(note.as_ref().map(|n| n.key_id.clone()))
    .fetch_optional(&mut *tx)
    .await
    .map_err(|error| match &error {
        sqlx::Error::Database(e) if e.constraint() == Some("residents_national_id_unique") => {
            RegisterError::DuplicateNationalId
        }
        _ => RegisterError::Database(error),
    })?;
    if let Some(row) = &row {
        sqlx::query("DELETE FROM resident_skills WHERE resident_id = $1")
            .bind(row.id)
            .execute(&mut *tx)
            .await?;
        let skills: Vec<(&ResidentRow, &(String, String))> =
            resident.skills.iter().map(|skill| (row, skill)).collect();
        insert_skills(tx, &skills).await?;
        index_names(tx, &[Named::from(row)]).await?;
        enqueue(
            tx,
            Some(row.centre_id),
            &events::resident_updated(row, today),
        )
        .await?;
    }
    Ok(row)
}

/// Sets a resident's status and records the matching event, together; `None` when there
/// is no such (unerased) resident or its status changed meanwhile (the caller checked the
/// change against `from`).
pub async fn set_status(
    pool: &PgPool,
    centre_id: Uuid,
    id: Uuid,
    from: Status,
    to: Status,
    since: NaiveDate,
) -> Result<Option<ResidentRow>, sqlx::Error> {
    let mut tx = pool.begin().await?;
    let row: Option<ResidentRow> = sqlx::query_as(concat!(
        "UPDATE residents SET status = $4, status_since = $5
         WHERE centre_id = $1 AND id = $2 AND status = $3 AND erased_at IS NULL
         RETURNING ",
        resident_columns!()
    ))
    .bind(centre_id)
    .bind(id)
    .bind(from.as_str())
    .bind(to.as_str())
    .bind(since)
    .fetch_optional(&mut *tx)
    .await?;
    if let Some(row) = &row {
        let (resident_id, centre_id, since) = (
            row.id.to_string(),
            row.centre_id.to_string(),
            since.to_string(),
        );
        match to {
            Status::MovedOut => {
                enqueue(
                    &mut tx,
                    Some(row.centre_id),
                    &ResidentMovedOut {
                        resident_id,
                        centre_id,
                        since,
                    },
                )
                .await?
            }
            Status::Deceased => {
                enqueue(
                    &mut tx,
                    Some(row.centre_id),
                    &ResidentDeceased {
                        resident_id,
                        centre_id,
                        since,
                    },
                )
                .await?
            }
            Status::Active => {
                enqueue(
                    &mut tx,
                    Some(row.centre_id),
                    &ResidentReturned {
                        resident_id,
                        centre_id,
                        since,
                    },
                )
                .await?
            }
        };
    }
    tx.commit().await?;
    Ok(row)
}

/// Every consent record of a resident, oldest first.
pub async fn consent_history(
    pool: &PgPool,
    resident_id: Uuid,
) -> Result<Vec<ConsentRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT purpose, granted, source, guardian_id, recorded_by, recorded_at
         FROM consents WHERE resident_id = $1 ORDER BY id",
    )
    .bind(resident_id)
    .fetch_all(pool)
    .await
}

/// Every logged read of a resident's whole national ID: who, when, why.
pub async fn national_id_reads(
    pool: &PgPool,
    resident_id: Uuid,
) -> Result<Vec<(String, String, DateTime<Utc>)>, sqlx::Error> {
    sqlx::query_as(
        "SELECT reader, purpose, read_at FROM national_id_reads WHERE resident_id = $1 ORDER BY id",
    )
    .bind(resident_id)
    .fetch_all(pool)
    .await
}

/// A resident's directory entries, each with the resident's centre and registration time,
/// so a skill search walks a centre's entries newest first from their index alone.
async fn insert_skills(
    tx: &mut PgConnection,
    skills: &[(&ResidentRow, &(String, String))],
) -> Result<(), sqlx::Error> {
    if skills.is_empty() {
        return Ok(());
    }
    let residents: Vec<Uuid> = skills.iter().map(|(row, _)| row.id).collect();
    let centres: Vec<Uuid> = skills.iter().map(|(row, _)| row.centre_id).collect();
    let registered: Vec<DateTime<Utc>> = skills.iter().map(|(row, _)| row.registered_at).collect();
    let kinds: Vec<&str> = skills.iter().map(|(_, (kind, _))| kind.as_str()).collect();
    let names: Vec<&str> = skills.iter().map(|(_, (_, name))| name.as_str()).collect();
    sqlx::query(
        "INSERT INTO resident_skills (resident_id, centre_id, registered_at, kind, name)
         SELECT * FROM UNNEST($1::uuid[], $2::uuid[], $3::timestamptz[], $4::text[], $5::text[])
         ON CONFLICT DO NOTHING",
    )
    .bind(&residents)
    .bind(&centres)
    .bind(&registered)
    .bind(&kinds)
    .bind(&names)
    .execute(tx)
    .await?;
    Ok(())
}

/// The directory entries (`kind`, `name`) of some residents.
pub async fn skills_of<'c>(
    conn: impl sqlx::PgExecutor<'c>,
    residents: &[Uuid],
) -> Result<Vec<(Uuid, String, String)>, sqlx::Error> {
    sqlx::query_as(
        "SELECT resident_id, kind, name FROM resident_skills WHERE resident_id = ANY($1) ORDER BY kind, name",
    )
    .bind(residents)
    .fetch_all(conn)
    .await
}

/// Records who read a resident's whole national ID, when and why.
pub async fn log_national_id_read(
    pool: &PgPool,
    resident_id: Uuid,
    centre_id: Uuid,
    reader: &str,
    roles: &[String],
    purpose: &str,
    trace_id: Option<&str>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO national_id_reads (resident_id, centre_id, reader, roles, purpose, trace_id)
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(resident_id)
    .bind(centre_id)
    .bind(reader)
    .bind(roles)
    .bind(purpose)
    .bind(trace_id)
    .execute(pool)
    .await?;
    Ok(())
}

/// One resident of one centre; a resident of another centre is not found.
pub async fn find_resident(
    pool: &PgPool,
    centre_id: Uuid,
    id: Uuid,
) -> Result<Option<ResidentRow>, sqlx::Error> {
    sqlx::query_as(concat!(
        "SELECT ",
        resident_columns!(),
        " FROM residents WHERE centre_id = $1 AND id = $2 AND erased_at IS NULL"
    ))
    .bind(centre_id)
    .bind(id)
    .fetch_optional(pool)
    .await
}

/// A resident with their skills, read by one statement on one checkout: the desk's most
/// frequent read. [`find_resident`] and [`skills_of`] would take two checkouts (each with
/// the pool's guard), and `resident_id = ANY($1)` is planned afresh at every call.
#[derive(sqlx::FromRow)]
pub struct ResidentWithSkills {
    #[sqlx(flatten)]
    pub row: ResidentRow,
    /// Kinds and names pairwise, ordered as [`skills_of`] orders them.
    pub skill_kinds: Vec<String>,
    pub skill_names: Vec<String>,
}

pub async fn find_resident_with_skills(
    pool: &PgPool,
    centre_id: Uuid,
    id: Uuid,
) -> Result<Option<ResidentWithSkills>, sqlx::Error> {
    sqlx::query_as(concat!(
        "SELECT ",
        resident_columns!(),
        ", skills.kinds AS skill_kinds, skills.names AS skill_names
         FROM residents CROSS JOIN LATERAL (
             SELECT COALESCE(array_agg(s.kind ORDER BY s.kind, s.name), '{}') AS kinds,
                    COALESCE(array_agg(s.name ORDER BY s.kind, s.name), '{}') AS names
             FROM resident_skills s WHERE s.resident_id = residents.id) skills
         WHERE centre_id = $1 AND id = $2 AND erased_at IS NULL"
    ))
    .bind(centre_id)
    .bind(id)
    .fetch_optional(pool)
    .await
}

/// The latest partner-sharing record of the resident is a grant: a withdrawal hides the
/// resident from partners at once.
const CONSENTED_TO_PARTNERS: &str = " AND (SELECT c.granted FROM consents c \
     WHERE c.resident_id = residents.id AND c.purpose = 'partner_sharing' \
     ORDER BY c.id DESC LIMIT 1) IS TRUE";

/// Whether the resident's consent to sharing with partners holds now.
pub async fn shares_with_partners(pool: &PgPool, resident_id: Uuid) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT COALESCE((SELECT granted FROM consents WHERE resident_id = $1 \
         AND purpose = 'partner_sharing' ORDER BY id DESC LIMIT 1), false)",
    )
    .bind(resident_id)
    .fetch_one(pool)
    .await
}

/// Which of a centre's residents a list shows.
#[derive(Debug, Default)]
pub struct ResidentFilter {
    pub name: Option<NameQuery>,
    pub born_on_or_after: Option<NaiveDate>,
    pub born_on_or_before: Option<NaiveDate>,
    /// A recorded category (`disability`, `low_income`, `living_alone`).
    pub category: Option<String>,
    pub building: Option<String>,
    pub status: Option<String>,
    /// Part of a directory entry: `医` finds 医生 and 中医.
    pub skill: Option<String>,
    /// Only residents whose consent to sharing with partners holds now (a partner's list).
    pub partner_sharing: bool,
    /// Only these residents (a roster naming its people in one call).
    pub ids: Option<Vec<Uuid>>,
}

/// A page of a centre's residents matching `filter`, newest registration first, after the
/// keyset `after`. Every condition is a bound parameter; only fixed SQL text is pushed.
pub async fn list_residents<'c>(
    conn: impl sqlx::PgExecutor<'c>,
    centre_id: Uuid,
    filter: &ResidentFilter,
    after: Option<(DateTime<Utc>, Uuid)>,
    limit: i64,
) -> Result<Vec<ResidentRow>, sqlx::Error> {
    let mut query =
        QueryBuilder::<Postgres>::new(concat!("SELECT ", resident_columns!(), " FROM "));
    // Pinyin and initials (a short key such as `lj` matches hundreds of a centre's
    // residents), and a skill when no name or ids narrow the list, choose the page from an
    // index that holds each match's registration time: the matches are ordered from the
    // index alone and only the page's rows are read, each tested against the other filters
    // as it comes. NameQuery's pinyin holds only ASCII letters and digits: nothing here is
    // a LIKE wildcard.
    let keys = match (&filter.name, &filter.skill) {
        (Some(NameQuery::Pinyin(letters)), _) => Some((
            "resident_name_keys WHERE key LIKE ",
            format!("{letters}%"),
            "",
        )),
        (None, Some(skill)) if filter.ids.is_none() => Some((
            "resident_skills WHERE strpos(name, ",
            skill.clone(),
            ") > 0",
        )),
        _ => None,
    };
    let by_keys = keys.is_some();
    let chosen_by_skill = by_keys && filter.name.is_none();
    if let Some((source, value, test_end)) = keys {
        query
            .push(
                "(SELECT DISTINCT registered_at AS key_registered_at, resident_id AS key_resident FROM ",
            )
            .push(source)
            .push_bind(value)
            .push(test_end)
            .push(" AND centre_id = ")
            .push_bind(centre_id);
        if let Some((registered_at, id)) = after {
            query
                .push(" AND (registered_at, resident_id) < (")
                .push_bind(registered_at)
                .push(", ")
                .push_bind(id)
                .push(")");
        }
        query.push(
            " ORDER BY 1 DESC, 2 DESC) k
             CROSS JOIN LATERAL (SELECT * FROM residents WHERE id = k.key_resident AND ",
        );
    } else {
        query.push("residents WHERE ");
    }
    query
        .push("erased_at IS NULL AND centre_id = ")
        .push_bind(centre_id);
    match &filter.name {
        Some(NameQuery::Characters(text)) => {
            // The centre's grams narrow the rows through `residents_by_centre_name_grams`
            // (the expression must be the index's own); `strpos` keeps those that hold
            // the query.
            query
                .push(" AND resident_centre_name_grams(centre_id, name) @> ")
                .push_bind(centre_character_grams(centre_id, text))
                .push(" AND strpos(name, ")
                .push_bind(text.clone())
                .push(") > 0");
        }
        // Chosen by its keys above.
        Some(NameQuery::Pinyin(_)) | None => {}
    }
    if let Some(category) = &filter.category {
        query
            .push(" AND ")
            .push_bind(category.clone())
            .push(" = ANY(categories)");
    }
    if let Some(building) = &filter.building {
        query.push(" AND building = ").push_bind(building.clone());
    }
    if let Some(status) = &filter.status {
        query.push(" AND status = ").push_bind(status.clone());
    }
    if let Some(skill) = filter.skill.as_ref().filter(|_| !chosen_by_skill) {
        query
            .push(" AND EXISTS (SELECT 1 FROM resident_skills s WHERE s.resident_id = residents.id AND strpos(s.name, ")
            .push_bind(skill.clone())
            .push(") > 0)");
    }
    if filter.partner_sharing {
        query.push(CONSENTED_TO_PARTNERS);
    }
    if let Some(ids) = &filter.ids {
        query
            .push(" AND id = ANY(")
            .push_bind(ids.clone())
            .push(")");
    }
    if let Some(date) = filter.born_on_or_after {
        query.push(" AND date_of_birth >= ").push_bind(date);
    }
    if let Some(date) = filter.born_on_or_before {
        query.push(" AND date_of_birth <= ").push_bind(date);
    }
    if let Some((registered_at, id)) = after {
        query
            .push(" AND (registered_at, id) < (")
            .push_bind(registered_at)
            .push(", ")
            .push_bind(id)
            .push(")");
    }
    if by_keys {
        query.push(") residents ORDER BY k.key_registered_at DESC, k.key_resident DESC LIMIT ");
    } else {
        query.push(" ORDER BY registered_at DESC, id DESC LIMIT ");
    }
    query.push_bind(limit);
    query.build_query_as().fetch_all(conn).await
}

/// A resident's name as its search keys are stored: each key carries the resident's centre
/// and registration time, so a search finds and orders its page from the keys' index alone.
struct Named<'a> {
    id: Uuid,
    centre_id: Uuid,
    registered_at: DateTime<Utc>,
    name: &'a str,
}

impl<'a> From<&'a ResidentRow> for Named<'a> {
    fn from(row: &'a ResidentRow) -> Self {
        Named {
            id: row.id,
            centre_id: row.centre_id,
            registered_at: row.registered_at,
            name: &row.name,
        }
    }
}

/// Replaces the search keys of each resident named by those the current rule computes,
/// and records that rule on the resident.
async fn index_names(tx: &mut PgConnection, names: &[Named<'_>]) -> Result<(), sqlx::Error> {
    let ids: Vec<Uuid> = names.iter().map(|n| n.id).collect();
    sqlx::query("DELETE FROM resident_name_keys WHERE resident_id = ANY($1)")
        .bind(&ids)
        .execute(&mut *tx)
        .await?;
    insert_name_keys(tx, names).await?;
    sqlx::query("UPDATE residents SET name_keys_version = $2 WHERE id = ANY($1)")
        .bind(&ids)
        .bind(NAME_KEYS_VERSION)
        .execute(&mut *tx)
        .await?;
    Ok(())
}

/// The search keys of residents who have none (just registered, or theirs just deleted),
/// by the current rule.
async fn insert_name_keys(tx: &mut PgConnection, names: &[Named<'_>]) -> Result<(), sqlx::Error> {
    let (mut ids, mut centres, mut registered, mut keys) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for named in names {
        for key in name_keys(named.name) {
            ids.push(named.id);
            centres.push(named.centre_id);
            registered.push(named.registered_at);
            keys.push(key);
        }
    }
    sqlx::query(
        "INSERT INTO resident_name_keys (resident_id, centre_id, registered_at, key)
         SELECT * FROM UNNEST($1::uuid[], $2::uuid[], $3::timestamptz[], $4::text[])",
    )
    .bind(&ids)
    .bind(&centres)
    .bind(&registered)
    .bind(&keys)
    .execute(&mut *tx)
    .await?;
    Ok(())
}

/// Indexes again the names of residents whose keys an earlier rule computed (or none, for
/// rows older than search keys), a batch per transaction; returns how many. Rows a newer
/// rule indexed (a newer registry beside this one) are left as they are.
pub async fn backfill_name_keys(pool: &PgPool) -> Result<usize, sqlx::Error> {
    const BATCH: i64 = 1000;
    let mut done = 0;
    loop {
        let mut tx = pool.begin().await?;
        let rows: Vec<(Uuid, Uuid, DateTime<Utc>, String)> = sqlx::query_as(
            "SELECT id, centre_id, registered_at, name FROM residents
             WHERE name_keys_version < $1 AND erased_at IS NULL
             LIMIT $2 FOR UPDATE SKIP LOCKED",
        )
        .bind(NAME_KEYS_VERSION)
        .bind(BATCH)
        .fetch_all(&mut *tx)
        .await?;
        if rows.is_empty() {
            return Ok(done);
        }
        let names: Vec<Named> = rows
            .iter()
            .map(|(id, centre_id, registered_at, name)| Named {
                id: *id,
                centre_id: *centre_id,
                registered_at: *registered_at,
                name,
            })
            .collect();
        index_names(&mut tx, &names).await?;
        tx.commit().await?;
        done += rows.len();
    }
}

pub async fn count_residents(pool: &PgPool, centre_id: Uuid) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar("SELECT count(*) FROM residents WHERE centre_id = $1")
        .bind(centre_id)
        .fetch_one(pool)
        .await
}

/// A console account as stored.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct StaffAccountRow {
    pub id: Uuid,
    pub username: String,
    pub display_name: String,
    pub password_hash: String,
    pub roles: Vec<String>,
    pub centres: Vec<Uuid>,
    pub active: bool,
    pub failed_attempts: i32,
    pub locked_until: Option<DateTime<Utc>>,
}

macro_rules! account_columns {
    () => {
        "id, username, display_name, password_hash, roles, centres, active, failed_attempts, locked_until"
    };
}

/// Whether every one of `centres` is a centre of the district.
pub async fn centres_exist(pool: &PgPool, centres: &[Uuid]) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT NOT EXISTS (SELECT unnest($1::uuid[]) EXCEPT SELECT id FROM centres)",
    )
    .bind(centres)
    .fetch_one(pool)
    .await
}

/// Inserts an account; `None` when the username is taken (whatever its case was).
pub async fn create_staff_account(
    pool: &PgPool,
    account: &crate::domain::staff::NewAccount,
    password_hash: &str,
    created_by: &str,
) -> Result<Option<StaffAccountRow>, sqlx::Error> {
    let roles: Vec<&str> = account.roles.iter().map(|r| r.as_str()).collect();
    let mut tx = linli_platform::db::begin(pool).await?;
    let row = sqlx::query_as(concat!(
        "INSERT INTO staff_accounts (id, username, display_name, password_hash, roles, centres, created_by)
         VALUES ($1, $2, $3, $4, $5, $6, $7)
         ON CONFLICT (username) DO NOTHING RETURNING ",
        account_columns!()
    ))
    .bind(Uuid::new_v4())
    .bind(&account.username)
    .bind(&account.display_name)
    .bind(password_hash)
    .bind(&roles)
    .bind(&account.centres)
    .bind(created_by)
    .fetch_optional(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(row)
}

/// Every account, or those working at one of `centres` (district-wide accounts included
/// only in the whole list), by username.
pub async fn list_staff_accounts(
    pool: &PgPool,
    centres: Option<&[Uuid]>,
) -> Result<Vec<StaffAccountRow>, sqlx::Error> {
    match centres {
        None => {
            sqlx::query_as(concat!(
                "SELECT ",
                account_columns!(),
                " FROM staff_accounts ORDER BY username"
            ))
            .fetch_all(pool)
            .await
        }
        Some(centres) => {
            sqlx::query_as(concat!(
                "SELECT ",
                account_columns!(),
                " FROM staff_accounts WHERE centres && $1 ORDER BY username"
            ))
            .bind(centres)
            .fetch_all(pool)
            .await
        }
    }
}

/// The account with this username, locked for the rest of `tx` so concurrent guesses
/// count one after another.
pub async fn staff_account_for_update(
    tx: &mut PgConnection,
    username: &str,
) -> Result<Option<StaffAccountRow>, sqlx::Error> {
    sqlx::query_as(concat!(
        "SELECT ",
        account_columns!(),
        " FROM staff_accounts WHERE username = $1 FOR UPDATE"
    ))
    .bind(username)
    .fetch_optional(tx)
    .await
}

/// Records the outcome of a password check.
pub async fn record_sign_in_attempt(
    tx: &mut PgConnection,
    account: Uuid,
    failed_attempts: i32,
    locked_until: Option<DateTime<Utc>>,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE staff_accounts SET failed_attempts = $2, locked_until = $3 WHERE id = $1")
        .bind(account)
        .bind(failed_attempts)
        .bind(locked_until)
        .execute(tx)
        .await?;
    Ok(())
}

pub async fn start_staff_session(
    tx: &mut PgConnection,
    account: Uuid,
    expires_at: DateTime<Utc>,
) -> Result<Uuid, sqlx::Error> {
    let id = Uuid::new_v4();
    sqlx::query("INSERT INTO staff_sessions (id, account_id, expires_at) VALUES ($1, $2, $3)")
        .bind(id)
        .bind(account)
        .bind(expires_at)
        .execute(tx)
        .await?;
    Ok(id)
}

/// A session with its account: (expires_at, ended, account).
pub async fn find_staff_session(
    pool: &PgPool,
    session: Uuid,
) -> Result<Option<(DateTime<Utc>, bool, StaffAccountRow)>, sqlx::Error> {
    #[derive(sqlx::FromRow)]
    struct Row {
        expires_at: DateTime<Utc>,
        ended: bool,
        #[sqlx(flatten)]
        account: StaffAccountRow,
    }
    let row: Option<Row> = sqlx::query_as(
        "SELECT s.expires_at, s.ended_at IS NOT NULL AS ended,
                a.id, a.username, a.display_name, a.password_hash, a.roles, a.centres,
                a.active, a.failed_attempts, a.locked_until
           FROM staff_sessions s JOIN staff_accounts a ON a.id = s.account_id
          WHERE s.id = $1",
    )
    .bind(session)
    .fetch_optional(pool)
    .await?;
    Ok(row.map(|r| (r.expires_at, r.ended, r.account)))
}

/// Ends a session; its expiry when it was still live (ended only now, not expired).
pub async fn end_staff_session(
    tx: &mut PgConnection,
    session: Uuid,
) -> Result<Option<DateTime<Utc>>, sqlx::Error> {
    sqlx::query_scalar(
        "UPDATE staff_sessions SET ended_at = now()
          WHERE id = $1 AND ended_at IS NULL AND expires_at > now()
         RETURNING expires_at",
    )
    .bind(session)
    .fetch_optional(tx)
    .await
}

/// Ends every live session of an account: each one's id and expiry.
pub async fn end_staff_sessions_of(
    tx: &mut PgConnection,
    account: Uuid,
) -> Result<Vec<(Uuid, DateTime<Utc>)>, sqlx::Error> {
    sqlx::query_as(
        "UPDATE staff_sessions SET ended_at = now()
          WHERE account_id = $1 AND ended_at IS NULL AND expires_at > now()
         RETURNING id, expires_at",
    )
    .bind(account)
    .fetch_all(tx)
    .await
}

/// The account with this id, locked for the rest of `tx`.
pub async fn staff_account_by_id_for_update(
    tx: &mut PgConnection,
    account: Uuid,
) -> Result<Option<StaffAccountRow>, sqlx::Error> {
    sqlx::query_as(concat!(
        "SELECT ",
        account_columns!(),
        " FROM staff_accounts WHERE id = $1 FOR UPDATE"
    ))
    .bind(account)
    .fetch_optional(tx)
    .await
}

/// Disables or enables an account.
pub async fn set_staff_account_active(
    tx: &mut PgConnection,
    account: Uuid,
    active: bool,
) -> Result<StaffAccountRow, sqlx::Error> {
    sqlx::query_as(concat!(
        "UPDATE staff_accounts SET active = $2 WHERE id = $1 RETURNING ",
        account_columns!()
    ))
    .bind(account)
    .bind(active)
    .fetch_one(tx)
    .await
}

pub mod households;
