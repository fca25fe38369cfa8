//! Every SQL statement of the volunteers service. The store loads what a change needs
//! (locking what it must), asks the domain ([`crate::domain`]) to decide, and persists the
//! decision: the change and the events the domain chose commit in one transaction (the
//! outbox). It keeps no rule; the table constraints have the last word on what
//! concurrency could break (a volunteer's overlapping shifts, a shift's capacity, a
//! milestone or an expiry notice given twice), answered with the domain's refusals.

use std::collections::HashMap;

use chrono::{DateTime, Duration, NaiveDate, NaiveTime, Utc};
use linli_platform::bus::outbox;
use linli_platform::directory;
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use crate::domain::hours::{HoursEvent, Verification};
use crate::domain::ids::{AssignmentId, CentreId, HourEntryId, ResidentId, ShiftId, VolunteerId};
use crate::domain::staff::StaffEvent;
use crate::domain::volunteer::VolunteerEvent;
use crate::domain::{
    self, AssignmentStatus, Held, HourStatus, PersonKind, VolunteerStatus, Window, certification,
    hours, shift, staff, volunteer,
};
use crate::error::{Error, violates};
use crate::events;
use linli_platform::words::UnknownWord;

// ---------------------------------------------------------------------------------------
// Rows

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct VolunteerRow {
    pub id: Uuid,
    pub centre_id: Uuid,
    pub resident_id: Option<Uuid>,
    pub display_name: String,
    pub skills: Vec<String>,
    pub languages: Vec<String>,
    #[sqlx(try_from = "String")]
    pub status: VolunteerStatus,
    pub background_checked: bool,
    pub background_checked_on: Option<NaiveDate>,
    pub registered_at: DateTime<Utc>,
    pub verified_minutes: i64,
}

macro_rules! volunteer_columns {
    () => {
        "v.id, v.centre_id, v.resident_id, v.display_name, v.skills, v.languages, v.status, v.background_checked, v.background_checked_on, v.registered_at, (SELECT coalesce(sum(h.minutes), 0) FROM hour_entries h WHERE h.volunteer_id = v.id AND h.status = 'verified')::bigint AS verified_minutes"
    };
}

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct WindowRow {
    pub volunteer_id: Uuid,
    pub weekday: i32,
    pub starts: NaiveTime,
    pub ends: NaiveTime,
}

impl WindowRow {
    pub fn window(&self) -> Window {
        Window {
            weekday: self.weekday as u32,
            starts: self.starts,
            ends: self.ends,
        }
    }
}

/// What a volunteer's profile says, as a desk gives it.
#[derive(Clone, Debug)]
pub struct Profile {
    pub display_name: String,
    pub skills: Vec<String>,
    pub languages: Vec<String>,
    pub availability: Vec<Window>,
    pub background_checked: bool,
    pub background_checked_on: Option<NaiveDate>,
}

impl Profile {
    /// This profile with `fields` (of [`domain::PROFILE_FIELDS`]) taken from `change`;
    /// every other field stays as it is.
    pub fn corrected(mut self, change: Profile, fields: &[&str]) -> Profile {
        let mut change = change;
        for field in fields {
            match *field {
                "display_name" => self.display_name = std::mem::take(&mut change.display_name),
                "skills" => self.skills = std::mem::take(&mut change.skills),
                "languages" => self.languages = std::mem::take(&mut change.languages),
                "availability" => self.availability = std::mem::take(&mut change.availability),
                "background_checked" => self.background_checked = change.background_checked,
                "background_checked_on" => {
                    self.background_checked_on = change.background_checked_on
                }
                _ => {}
            }
        }
        self
    }
}

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct StaffRow {
    pub id: Uuid,
    pub centre_id: Uuid,
    pub name: String,
    pub position: String,
    pub employed_from: NaiveDate,
    pub employed_until: Option<NaiveDate>,
}

macro_rules! staff_columns {
    () => {
        "id, centre_id, name, position, employed_from, employed_until"
    };
}

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct CertificationRow {
    pub id: Uuid,
    pub centre_id: Uuid,
    pub holder_kind: String,
    pub holder_id: Uuid,
    pub kind: String,
    pub issuer: String,
    pub number: String,
    pub issued_on: Option<NaiveDate>,
    pub expires_on: Option<NaiveDate>,
    pub expiring_announced_at: Option<DateTime<Utc>>,
}

macro_rules! certification_columns {
    () => {
        "id, centre_id, holder_kind, holder_id, kind, issuer, number, issued_on, expires_on, expiring_announced_at"
    };
}

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct CourseRow {
    pub id: Uuid,
    pub centre_id: Uuid,
    pub title: String,
    pub topic: String,
    pub audience: String,
    pub minutes: i32,
}

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct TrainingSessionRow {
    pub id: Uuid,
    pub centre_id: Uuid,
    pub course_id: Uuid,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub location: String,
    pub capacity: i32,
}

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct CompletionRow {
    pub id: Uuid,
    pub centre_id: Uuid,
    pub course_id: Uuid,
    pub session_id: Option<Uuid>,
    pub person_kind: String,
    pub person_id: Uuid,
    pub completed_on: NaiveDate,
}

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct OpportunityRow {
    pub id: Uuid,
    pub centre_id: Uuid,
    pub title: String,
    pub description: String,
    pub required_skills: Vec<String>,
    pub required_certifications: Vec<String>,
    pub works_with_minors: bool,
    pub location: String,
}

macro_rules! opportunity_columns {
    () => {
        "id, centre_id, title, description, required_skills, required_certifications, works_with_minors, location"
    };
}

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct ShiftRow {
    pub id: Uuid,
    pub centre_id: Uuid,
    pub opportunity_id: Uuid,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub local_date: NaiveDate,
    pub capacity: i32,
    pub signed_up: i32,
    pub location: String,
}

macro_rules! shift_columns {
    () => {
        "id, centre_id, opportunity_id, starts_at, ends_at, local_date, capacity, signed_up, location"
    };
}

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct AssignmentRow {
    pub id: Uuid,
    pub centre_id: Uuid,
    pub shift_id: Uuid,
    pub volunteer_id: Uuid,
    #[sqlx(try_from = "String")]
    pub status: AssignmentStatus,
    pub checked_in_at: Option<DateTime<Utc>>,
    pub checked_out_at: Option<DateTime<Utc>>,
    pub verified_minutes: i32,
}

macro_rules! assignment_columns {
    () => {
        "a.id, a.centre_id, a.shift_id, a.volunteer_id, a.status, a.checked_in_at, a.checked_out_at, coalesce((SELECT h.minutes FROM hour_entries h WHERE h.assignment_id = a.id AND h.status = 'verified'), 0) AS verified_minutes"
    };
}

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct HourEntryRow {
    pub id: Uuid,
    pub centre_id: Uuid,
    pub volunteer_id: Uuid,
    pub assignment_id: Option<Uuid>,
    pub source: String,
    pub worked_on: NaiveDate,
    pub minutes: i32,
    #[sqlx(try_from = "String")]
    pub status: HourStatus,
    pub note: String,
    pub logged_by: String,
    pub verified_by: Option<String>,
    pub rejection_reason: String,
    pub created_at: DateTime<Utc>,
}

macro_rules! hour_columns {
    () => {
        "id, centre_id, volunteer_id, assignment_id, source, worked_on, minutes, status, note, logged_by, verified_by, rejection_reason, created_at"
    };
}

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct GroupRow {
    pub id: Uuid,
    pub centre_id: Uuid,
    pub name: String,
    pub kind: String,
    pub description: String,
    pub support_rooms: Vec<String>,
    pub support_equipment: Vec<String>,
}

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct MemberRow {
    pub group_id: Uuid,
    pub resident_id: Uuid,
    pub role: String,
    pub joined_on: NaiveDate,
}

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct ReviewRow {
    pub id: Uuid,
    pub centre_id: Uuid,
    pub staff_id: Uuid,
    pub period_start: NaiveDate,
    pub period_end: NaiveDate,
    pub reviewer: String,
    pub criteria: Vec<String>,
    pub scores: Vec<i32>,
    pub comments: String,
    pub created_at: DateTime<Utc>,
    pub quality_period: Option<String>,
    pub satisfaction_permille: Option<i32>,
    pub quality_permille: Option<i32>,
    pub responses: Option<i32>,
    pub quality_updated_at: Option<DateTime<Utc>>,
}

// ---------------------------------------------------------------------------------------
// The registry's centres and residents: the platform's directory

/// The centre's time zone, once the directory knows the centre.
pub async fn centre_zone(conn: &mut PgConnection, centre: Uuid) -> Result<chrono_tz::Tz, Error> {
    Ok(directory::time_zone(conn, centre).await?)
}

/// A resident who moved out, died or was erased stops volunteering
/// ([`volunteer::resident_gone`]): the record is set to `left`, their future sign-ups are
/// withdrawn, and what the domain decided is published. Returns the volunteer, if there
/// was one.
pub async fn volunteer_leaves(
    tx: &mut PgConnection,
    resident: Uuid,
    reason: &str,
    now: DateTime<Utc>,
) -> Result<Option<Uuid>, sqlx::Error> {
    let found: Option<(Uuid, Uuid, String)> = sqlx::query_as(
        "SELECT id, centre_id, status FROM volunteers WHERE resident_id = $1 FOR UPDATE",
    )
    .bind(resident)
    .fetch_optional(&mut *tx)
    .await?;
    let Some((id, centre, before)) = found else {
        return Ok(None);
    };
    if let Some(change) = volunteer::resident_gone(word(before)?, reason) {
        change_volunteer_status(tx, id, centre, &change, now).await?;
    }
    Ok(Some(id))
}

/// A status the table keeps, read: any other word is a bug the table's check prevents.
fn word<W: TryFrom<String, Error = UnknownWord>>(text: String) -> Result<W, sqlx::Error> {
    W::try_from(text).map_err(|e| sqlx::Error::Decode(e.into()))
}

/// Persists a status change the domain decided, with its withdrawals and events.
async fn change_volunteer_status(
    tx: &mut PgConnection,
    id: Uuid,
    centre: Uuid,
    change: &volunteer::StatusChange,
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE volunteers SET status = $2, status_changed_at = $3 WHERE id = $1")
        .bind(id)
        .bind(change.status.as_str())
        .bind(now)
        .execute(&mut *tx)
        .await?;
    if change.withdraw_future {
        withdraw_future(tx, id, now).await?;
    }
    record_volunteer_events(tx, id, centre, None, &change.events, now).await
}

/// Writes the events a volunteer's registration or status change set off to the outbox.
async fn record_volunteer_events(
    tx: &mut PgConnection,
    id: Uuid,
    centre: Uuid,
    resident: Option<Uuid>,
    decided: &[VolunteerEvent],
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    for event in decided {
        match event {
            VolunteerEvent::Registered => {
                let resident = resident.unwrap_or_default();
                outbox::enqueue(
                    tx,
                    Some(centre),
                    &events::registered(id, centre, resident, now),
                )
                .await?;
            }
            VolunteerEvent::Deactivated { status, reason } => {
                outbox::enqueue(
                    tx,
                    Some(centre),
                    &events::deactivated(id, centre, status.as_str(), reason, now),
                )
                .await?;
            }
            VolunteerEvent::Reactivated => {
                outbox::enqueue(tx, Some(centre), &events::reactivated(id, centre, now)).await?;
            }
        }
    }
    Ok(())
}

/// The registry erased the resident: the volunteer record stays for the centre's hour
/// totals, with nothing left that points to the person.
pub async fn anonymise_resident(
    tx: &mut PgConnection,
    resident: Uuid,
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    if let Some(volunteer) = volunteer_leaves(tx, resident, "erased", now).await? {
        sqlx::query(
            "UPDATE volunteers SET resident_id = NULL, display_name = '', skills = '{}', languages = '{}',
                    background_checked_on = NULL, anonymised_at = $2
             WHERE id = $1",
        )
        .bind(volunteer)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        sqlx::query("DELETE FROM availability WHERE volunteer_id = $1")
            .bind(volunteer)
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "UPDATE hour_entries SET note = '', rejection_reason = '' WHERE volunteer_id = $1",
        )
        .bind(volunteer)
        .execute(&mut *tx)
        .await?;
        sqlx::query("UPDATE certifications SET number = '-' WHERE holder_id = $1")
            .bind(volunteer)
            .execute(&mut *tx)
            .await?;
    }
    sqlx::query("DELETE FROM group_members WHERE resident_id = $1")
        .bind(resident)
        .execute(tx)
        .await?;
    Ok(())
}

/// Figures evaluation published for a staff member; an older period never overwrites a
/// newer one.
#[allow(clippy::too_many_arguments)]
pub async fn record_quality(
    tx: &mut PgConnection,
    staff: Uuid,
    centre: Uuid,
    period: &str,
    satisfaction: i32,
    quality: i32,
    responses: i32,
    updated_at: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO staff_quality (staff_id, centre_id, period, satisfaction_permille, quality_permille, responses, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7)
         ON CONFLICT (staff_id) DO UPDATE SET period = EXCLUDED.period,
             satisfaction_permille = EXCLUDED.satisfaction_permille, quality_permille = EXCLUDED.quality_permille,
             responses = EXCLUDED.responses, updated_at = EXCLUDED.updated_at
         WHERE staff_quality.updated_at <= EXCLUDED.updated_at",
    )
    .bind(staff)
    .bind(centre)
    .bind(period)
    .bind(satisfaction)
    .bind(quality)
    .bind(responses)
    .bind(updated_at)
    .execute(tx)
    .await?;
    Ok(())
}

// ---------------------------------------------------------------------------------------
// Volunteers

async fn insert_windows(
    tx: &mut PgConnection,
    volunteer: Uuid,
    windows: &[Window],
) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM availability WHERE volunteer_id = $1")
        .bind(volunteer)
        .execute(&mut *tx)
        .await?;
    let days: Vec<i32> = windows.iter().map(|w| w.weekday as i32).collect();
    let starts: Vec<NaiveTime> = windows.iter().map(|w| w.starts).collect();
    let ends: Vec<NaiveTime> = windows.iter().map(|w| w.ends).collect();
    sqlx::query(
        "INSERT INTO availability (volunteer_id, weekday, starts, ends)
         SELECT $1, d, s, e FROM UNNEST($2::int[], $3::time[], $4::time[]) AS w(d, s, e)
         ON CONFLICT DO NOTHING",
    )
    .bind(volunteer)
    .bind(&days)
    .bind(&starts)
    .bind(&ends)
    .execute(tx)
    .await?;
    Ok(())
}

/// Registers a resident as a volunteer of `centre`, as the domain decides
/// ([`volunteer::register`]: the registry says they live there and are active, and their
/// age band allows it; `guardian_consent` is the desk's word that it holds a guardian's
/// consent, recorded with the registration); publishes what it decided.
pub async fn register_volunteer(
    pool: &PgPool,
    centre: CentreId,
    resident: ResidentId,
    profile: &Profile,
    guardian_consent: bool,
    now: DateTime<Utc>,
) -> Result<VolunteerRow, Error> {
    let (centre, resident) = (centre.uuid(), resident.uuid());
    let mut tx = linli_platform::db::begin(pool).await?;
    // Held until commit, so a move out heard meanwhile waits and then finds the volunteer.
    let known = directory::hold_resident(&mut tx, centre, resident, "resident_id").await?;
    let decided = volunteer::register(&known.status, &known.age_band, guardian_consent)?;
    let id = Uuid::new_v4();
    let inserted = sqlx::query(
        "INSERT INTO volunteers (id, centre_id, resident_id, display_name, skills, languages, background_checked, background_checked_on, registered_at, status_changed_at, guardian_consent_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9, $10)",
    )
    .bind(id)
    .bind(centre)
    .bind(resident)
    .bind(&profile.display_name)
    .bind(&profile.skills)
    .bind(&profile.languages)
    .bind(profile.background_checked)
    .bind(profile.background_checked_on)
    .bind(now)
    .bind(guardian_consent.then_some(now))
    .execute(&mut *tx)
    .await;
    match inserted {
        Err(error) if violates(&error, "volunteers_resident_id_key") => {
            return Err(volunteer::already_registered().into());
        }
        other => {
            other?;
        }
    }
    insert_windows(&mut tx, id, &profile.availability).await?;
    record_volunteer_events(&mut tx, id, centre, Some(resident), &decided, now).await?;
    let row = find_volunteer(&mut tx, centre, id).await?;
    tx.commit().await?;
    Ok(row)
}

pub async fn find_volunteer(
    conn: &mut PgConnection,
    centre: Uuid,
    id: Uuid,
) -> Result<VolunteerRow, Error> {
    sqlx::query_as(concat!(
        "SELECT ",
        volunteer_columns!(),
        " FROM volunteers v WHERE v.centre_id = $1 AND v.id = $2"
    ))
    .bind(centre)
    .bind(id)
    .fetch_optional(conn)
    .await?
    .ok_or(Error::NotFound("volunteer"))
}

/// A centre's volunteers in order of registration, after the keyset `after`
/// (registered_at, id), at most `limit`.
pub async fn list_volunteers(
    pool: &PgPool,
    centre: Uuid,
    status: Option<&str>,
    skill: Option<&str>,
    after: Option<(DateTime<Utc>, Uuid)>,
    limit: i64,
) -> Result<Vec<VolunteerRow>, Error> {
    Ok(sqlx::query_as(concat!(
        "SELECT ",
        volunteer_columns!(),
        " FROM volunteers v WHERE v.centre_id = $1 AND ($2::text IS NULL OR v.status = $2)
           AND ($3::text IS NULL OR $3 = ANY (v.skills))
           AND ($4::timestamptz IS NULL OR (v.registered_at, v.id) > ($4, $5))
         ORDER BY v.registered_at, v.id LIMIT $6"
    ))
    .bind(centre)
    .bind(status)
    .bind(skill)
    .bind(after.map(|(at, _)| at))
    .bind(after.map(|(_, id)| id))
    .bind(limit)
    .fetch_all(pool)
    .await?)
}

pub async fn windows_of(
    conn: &mut PgConnection,
    volunteers: &[Uuid],
) -> Result<Vec<WindowRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT volunteer_id, weekday, starts, ends FROM availability WHERE volunteer_id = ANY($1)
         ORDER BY volunteer_id, weekday, starts",
    )
    .bind(volunteers)
    .fetch_all(conn)
    .await
}

/// Corrects a volunteer's profile in one transaction: the row is locked, the profile as
/// it stands takes `fields` from `change`, and the result is written. Corrections of one
/// volunteer queue on the lock, so one never undoes another's change to a different field.
pub async fn update_volunteer(
    pool: &PgPool,
    centre: Uuid,
    id: Uuid,
    change: &Profile,
    fields: &[&str],
) -> Result<VolunteerRow, Error> {
    let mut tx = pool.begin().await?;
    let locked: Option<Uuid> = sqlx::query_scalar(
        "SELECT id FROM volunteers WHERE centre_id = $1 AND id = $2 AND anonymised_at IS NULL FOR UPDATE",
    )
    .bind(centre)
    .bind(id)
    .fetch_optional(&mut *tx)
    .await?;
    if locked.is_none() {
        return Err(Error::NotFound("volunteer"));
    }
    let row = find_volunteer(&mut tx, centre, id).await?;
    let windows = windows_of(&mut tx, &[id]).await?;
    let recorded = Profile {
        display_name: row.display_name,
        skills: row.skills,
        languages: row.languages,
        availability: windows.iter().map(WindowRow::window).collect(),
        background_checked: row.background_checked,
        background_checked_on: row.background_checked_on,
    };
    let profile = recorded.corrected(change.clone(), fields);
    sqlx::query(
        "UPDATE volunteers SET display_name = $3, skills = $4, languages = $5, background_checked = $6, background_checked_on = $7
         WHERE centre_id = $1 AND id = $2",
    )
    .bind(centre)
    .bind(id)
    .bind(&profile.display_name)
    .bind(&profile.skills)
    .bind(&profile.languages)
    .bind(profile.background_checked)
    .bind(profile.background_checked_on)
    .execute(&mut *tx)
    .await?;
    insert_windows(&mut tx, id, &profile.availability).await?;
    let row = find_volunteer(&mut tx, centre, id).await?;
    tx.commit().await?;
    Ok(row)
}

/// Pauses, resumes or ends a volunteer's work, as the domain decides
/// ([`volunteer::change_status`]).
pub async fn set_volunteer_status(
    pool: &PgPool,
    centre: CentreId,
    id: VolunteerId,
    status: VolunteerStatus,
    now: DateTime<Utc>,
) -> Result<VolunteerRow, Error> {
    let (centre, id) = (centre.uuid(), id.uuid());
    let mut tx = pool.begin().await?;
    let before: String = sqlx::query_scalar(
        "SELECT status FROM volunteers WHERE centre_id = $1 AND id = $2 FOR UPDATE",
    )
    .bind(centre)
    .bind(id)
    .fetch_optional(&mut *tx)
    .await?
    .ok_or(Error::NotFound("volunteer"))?;
    if let Some(change) = volunteer::change_status(word(before)?, status)? {
        change_volunteer_status(&mut tx, id, centre, &change, now).await?;
    }
    let row = find_volunteer(&mut tx, centre, id).await?;
    tx.commit().await?;
    Ok(row)
}

/// Withdraws a volunteer's sign-ups for shifts that have not started, giving the places
/// back.
async fn withdraw_future(
    tx: &mut PgConnection,
    volunteer: Uuid,
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    let shifts: Vec<Uuid> = sqlx::query_scalar(
        "UPDATE assignments SET status = 'withdrawn'
         WHERE volunteer_id = $1 AND status = 'signed_up' AND lower(during) > $2
         RETURNING shift_id",
    )
    .bind(volunteer)
    .bind(now)
    .fetch_all(&mut *tx)
    .await?;
    sqlx::query(
        "UPDATE shifts s SET signed_up = s.signed_up - n.count
         FROM (SELECT id, count(*)::int AS count FROM UNNEST($1::uuid[]) AS id GROUP BY id) n
         WHERE s.id = n.id",
    )
    .bind(&shifts)
    .execute(tx)
    .await?;
    Ok(())
}

// ---------------------------------------------------------------------------------------
// Staff

pub async fn add_staff(pool: &PgPool, row: &StaffRow) -> Result<StaffRow, Error> {
    let mut tx = linli_platform::db::begin(pool).await?;
    directory::require_centre(&mut tx, row.centre_id).await?;
    sqlx::query(
        "INSERT INTO staff (id, centre_id, name, position, employed_from) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(row.id)
    .bind(row.centre_id)
    .bind(&row.name)
    .bind(&row.position)
    .bind(row.employed_from)
    .execute(&mut *tx)
    .await?;
    record_staff_events(&mut tx, row, &staff::join()).await?;
    tx.commit().await?;
    Ok(row.clone())
}

pub async fn end_employment(
    pool: &PgPool,
    centre: Uuid,
    id: Uuid,
    until: NaiveDate,
) -> Result<StaffRow, Error> {
    let mut tx = pool.begin().await?;
    let row: StaffRow = sqlx::query_as(concat!(
        "SELECT ",
        staff_columns!(),
        " FROM staff WHERE centre_id = $1 AND id = $2 FOR UPDATE"
    ))
    .bind(centre)
    .bind(id)
    .fetch_optional(&mut *tx)
    .await?
    .ok_or(Error::NotFound("staff member"))?;
    let decided = staff::end_employment(row.employed_from, row.employed_until, until)?;
    sqlx::query("UPDATE staff SET employed_until = $2 WHERE id = $1")
        .bind(id)
        .bind(until)
        .execute(&mut *tx)
        .await?;
    let row = StaffRow {
        employed_until: Some(until),
        ..row
    };
    record_staff_events(&mut tx, &row, &decided).await?;
    tx.commit().await?;
    Ok(row)
}

/// Writes the events a staff change set off to the outbox.
async fn record_staff_events(
    tx: &mut PgConnection,
    row: &StaffRow,
    decided: &[StaffEvent],
) -> Result<(), sqlx::Error> {
    for event in decided {
        let centre = Some(row.centre_id);
        match event {
            StaffEvent::Joined => outbox::enqueue(tx, centre, &events::staff_joined(row)).await?,
            StaffEvent::Left => outbox::enqueue(tx, centre, &events::staff_left(row)).await?,
        };
    }
    Ok(())
}

/// A centre's staff (those employed on `active_on` when given) in order of employment,
/// after the keyset `after` (employed_from, id), at most `limit`.
pub async fn list_staff(
    pool: &PgPool,
    centre: Uuid,
    active_on: Option<NaiveDate>,
    after: Option<(NaiveDate, Uuid)>,
    limit: i64,
) -> Result<Vec<StaffRow>, Error> {
    Ok(sqlx::query_as(concat!(
        "SELECT ",
        staff_columns!(),
        " FROM staff WHERE centre_id = $1
           AND ($2::date IS NULL OR (employed_from <= $2 AND (employed_until IS NULL OR employed_until >= $2)))
           AND ($3::date IS NULL OR (employed_from, id) > ($3, $4))
         ORDER BY employed_from, id LIMIT $5"
    ))
    .bind(centre)
    .bind(active_on)
    .bind(after.map(|(from, _)| from))
    .bind(after.map(|(_, id)| id))
    .bind(limit)
    .fetch_all(pool)
    .await?)
}

async fn find_staff(
    conn: &mut PgConnection,
    centre: Uuid,
    id: Uuid,
) -> Result<Option<StaffRow>, sqlx::Error> {
    sqlx::query_as(concat!(
        "SELECT ",
        staff_columns!(),
        " FROM staff WHERE centre_id = $1 AND id = $2"
    ))
    .bind(centre)
    .bind(id)
    .fetch_optional(conn)
    .await
}

/// Whether `id` is one of the centre's staff or volunteers.
pub async fn person_kind(
    conn: &mut PgConnection,
    centre: Uuid,
    id: Uuid,
) -> Result<PersonKind, Error> {
    let kind: Option<String> = sqlx::query_scalar(
        "SELECT 'volunteer' FROM volunteers WHERE centre_id = $1 AND id = $2
         UNION ALL SELECT 'staff' FROM staff WHERE centre_id = $1 AND id = $2",
    )
    .bind(centre)
    .bind(id)
    .fetch_optional(conn)
    .await?;
    let found = kind.map(word).transpose()?;
    Ok(certification::holder(found)?)
}

// ---------------------------------------------------------------------------------------
// Certifications

pub async fn add_certification(
    pool: &PgPool,
    row: &CertificationRow,
) -> Result<CertificationRow, Error> {
    let mut tx = linli_platform::db::begin(pool).await?;
    let kind = person_kind(&mut tx, row.centre_id, row.holder_id).await?;
    let row = CertificationRow {
        holder_kind: kind.as_str().to_owned(),
        ..row.clone()
    };
    sqlx::query(
        "INSERT INTO certifications (id, centre_id, holder_kind, holder_id, kind, issuer, number, issued_on, expires_on)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(row.id)
    .bind(row.centre_id)
    .bind(&row.holder_kind)
    .bind(row.holder_id)
    .bind(&row.kind)
    .bind(&row.issuer)
    .bind(&row.number)
    .bind(row.issued_on)
    .bind(row.expires_on)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(row)
}

/// A centre's certifications (one holder's when given), soonest expiry first and those that
/// never expire last, after the keyset `after` (expiry, id), at most `limit`.
pub async fn list_certifications(
    pool: &PgPool,
    centre: Uuid,
    holder: Option<Uuid>,
    after: Option<(Option<NaiveDate>, Uuid)>,
    limit: i64,
) -> Result<Vec<CertificationRow>, Error> {
    // No expiry sorts as 'infinity', after every date: the order of NULLS LAST, as a
    // keyset a row comparison can follow.
    Ok(sqlx::query_as(concat!(
        "SELECT ",
        certification_columns!(),
        " FROM certifications WHERE centre_id = $1 AND ($2::uuid IS NULL OR holder_id = $2)
           AND ($4::uuid IS NULL OR (coalesce(expires_on, 'infinity'::date), id)
                                     > (coalesce($3::date, 'infinity'::date), $4))
         ORDER BY coalesce(expires_on, 'infinity'::date), id LIMIT $5"
    ))
    .bind(centre)
    .bind(holder)
    .bind(after.and_then(|(expires, _)| expires))
    .bind(after.map(|(_, id)| id))
    .bind(limit)
    .fetch_all(pool)
    .await?)
}

/// Certifications held by these people, for the qualification check.
pub async fn held_by(
    conn: &mut PgConnection,
    people: &[Uuid],
) -> Result<HashMap<Uuid, Vec<Held>>, sqlx::Error> {
    let rows: Vec<(Uuid, String, Option<NaiveDate>)> = sqlx::query_as(
        "SELECT holder_id, kind, expires_on FROM certifications WHERE holder_id = ANY($1)",
    )
    .bind(people)
    .fetch_all(conn)
    .await?;
    let mut held: HashMap<Uuid, Vec<Held>> = HashMap::new();
    for (holder, kind, expires_on) in rows {
        held.entry(holder)
            .or_default()
            .push(Held { kind, expires_on });
    }
    Ok(held)
}

/// Announces certifications that expire within `notice_days` of the centre's today, as
/// the domain decides ([`certification::expiry_notice`]): each row is marked in the same
/// transaction as its outbox row, so a certification is announced once, whatever restarts
/// or replicas. Returns how many were announced.
pub async fn announce_expiring(
    pool: &PgPool,
    now: DateTime<Utc>,
    notice_days: i64,
) -> Result<usize, Error> {
    let mut tx = pool.begin().await?;
    let utc_today = now.date_naive();
    // Those a day either side of the UTC window: the centre's own today decides.
    let due: Vec<(Uuid, String)> = sqlx::query_as(
        "SELECT c.id, z.time_zone FROM certifications c JOIN directory.centres z ON z.id = c.centre_id
         WHERE c.expiring_announced_at IS NULL AND c.expires_on BETWEEN $1 AND $2
         ORDER BY c.expires_on, c.id LIMIT 100 FOR UPDATE OF c SKIP LOCKED",
    )
    .bind(utc_today - Duration::days(1))
    .bind(utc_today + Duration::days(notice_days + 1))
    .fetch_all(&mut *tx)
    .await?;
    let mut announced = 0;
    for (id, zone) in due {
        let row: CertificationRow = sqlx::query_as(concat!(
            "SELECT ",
            certification_columns!(),
            " FROM certifications WHERE id = $1"
        ))
        .bind(id)
        .fetch_one(&mut *tx)
        .await?;
        let Some(zone) = directory::parse_zone(&zone) else {
            continue;
        };
        let Some(notice) = certification::expiry_notice(
            row.expires_on,
            row.expiring_announced_at.is_some(),
            domain::local_date(zone, now),
            notice_days,
        ) else {
            continue;
        };
        sqlx::query("UPDATE certifications SET expiring_announced_at = $2 WHERE id = $1")
            .bind(id)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        outbox::enqueue(
            &mut tx,
            Some(row.centre_id),
            &events::expiring(&row, notice.days_left),
        )
        .await?;
        announced += 1;
    }
    tx.commit().await?;
    Ok(announced)
}

// ---------------------------------------------------------------------------------------
// Training

pub async fn create_course(pool: &PgPool, row: &CourseRow) -> Result<CourseRow, Error> {
    let mut tx = linli_platform::db::begin(pool).await?;
    directory::require_centre(&mut tx, row.centre_id).await?;
    sqlx::query(
        "INSERT INTO courses (id, centre_id, title, topic, audience, minutes) VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(row.id)
    .bind(row.centre_id)
    .bind(&row.title)
    .bind(&row.topic)
    .bind(&row.audience)
    .bind(row.minutes)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(row.clone())
}

pub async fn list_courses(pool: &PgPool, centre: Uuid) -> Result<Vec<CourseRow>, Error> {
    Ok(sqlx::query_as(
        "SELECT id, centre_id, title, topic, audience, minutes FROM courses WHERE centre_id = $1 ORDER BY title, id",
    )
    .bind(centre)
    .fetch_all(pool)
    .await?)
}

async fn find_course(conn: &mut PgConnection, centre: Uuid, id: Uuid) -> Result<CourseRow, Error> {
    sqlx::query_as(
        "SELECT id, centre_id, title, topic, audience, minutes FROM courses WHERE centre_id = $1 AND id = $2",
    )
    .bind(centre)
    .bind(id)
    .fetch_optional(conn)
    .await?
    .ok_or(Error::NotFound("course"))
}

pub async fn schedule_training(
    pool: &PgPool,
    row: &TrainingSessionRow,
) -> Result<TrainingSessionRow, Error> {
    let mut conn = pool.acquire().await?;
    find_course(&mut conn, row.centre_id, row.course_id).await?;
    sqlx::query(
        "INSERT INTO training_sessions (id, centre_id, course_id, starts_at, ends_at, location, capacity)
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(row.id)
    .bind(row.centre_id)
    .bind(row.course_id)
    .bind(row.starts_at)
    .bind(row.ends_at)
    .bind(&row.location)
    .bind(row.capacity)
    .execute(&mut *conn)
    .await?;
    Ok(row.clone())
}

/// Records that a person completed a course, when it is for them
/// ([`staff::may_complete`]); the same completion recorded again is answered with the
/// first, and published once.
pub async fn record_completion(
    pool: &PgPool,
    centre: Uuid,
    course: Uuid,
    session: Option<Uuid>,
    person: Uuid,
    completed_on: NaiveDate,
) -> Result<CompletionRow, Error> {
    let mut tx = linli_platform::db::begin(pool).await?;
    let course = find_course(&mut tx, centre, course).await?;
    let kind = person_kind(&mut tx, centre, person).await?;
    staff::may_complete(word(course.audience.clone())?, kind)?;
    if let Some(session) = session {
        let exists: bool = sqlx::query_scalar(
            "SELECT EXISTS (SELECT 1 FROM training_sessions WHERE id = $1 AND course_id = $2)",
        )
        .bind(session)
        .bind(course.id)
        .fetch_one(&mut *tx)
        .await?;
        if !exists {
            return Err(Error::NotFound("training session of this course"));
        }
    }
    let inserted: Option<CompletionRow> = sqlx::query_as(
        "INSERT INTO completions (id, centre_id, course_id, session_id, person_kind, person_id, completed_on)
         VALUES ($1, $2, $3, $4, $5, $6, $7)
         ON CONFLICT (course_id, person_id, completed_on) DO NOTHING
         RETURNING id, centre_id, course_id, session_id, person_kind, person_id, completed_on",
    )
    .bind(Uuid::new_v4())
    .bind(centre)
    .bind(course.id)
    .bind(session)
    .bind(kind.as_str())
    .bind(person)
    .bind(completed_on)
    .fetch_optional(&mut *tx)
    .await?;
    let row =
        match inserted {
            Some(row) => {
                outbox::enqueue(
                    &mut tx,
                    Some(centre),
                    &events::training_completed(&row, course.minutes),
                )
                .await?;
                row
            }
            None => sqlx::query_as(
                "SELECT id, centre_id, course_id, session_id, person_kind, person_id, completed_on
                 FROM completions WHERE course_id = $1 AND person_id = $2 AND completed_on = $3",
            )
            .bind(course.id)
            .bind(person)
            .bind(completed_on)
            .fetch_one(&mut *tx)
            .await?,
        };
    tx.commit().await?;
    Ok(row)
}

/// (active staff on `on`, those of them with a completion in the 12 months up to `on`).
pub async fn training_coverage(
    pool: &PgPool,
    centre: Uuid,
    on: NaiveDate,
) -> Result<(i64, i64), Error> {
    Ok(sqlx::query_as(
        "SELECT count(*), count(*) FILTER (WHERE EXISTS (
                    SELECT 1 FROM completions c
                    WHERE c.person_kind = 'staff' AND c.person_id = s.id
                      AND c.completed_on > ($2::date - interval '12 months')::date AND c.completed_on <= $2))
         FROM staff s
         WHERE s.centre_id = $1 AND s.employed_from <= $2 AND (s.employed_until IS NULL OR s.employed_until >= $2)",
    )
    .bind(centre)
    .bind(on)
    .fetch_one(pool)
    .await?)
}

// ---------------------------------------------------------------------------------------
// Opportunities and shifts

pub async fn create_opportunity(
    pool: &PgPool,
    row: &OpportunityRow,
) -> Result<OpportunityRow, Error> {
    let mut tx = linli_platform::db::begin(pool).await?;
    directory::require_centre(&mut tx, row.centre_id).await?;
    sqlx::query(
        "INSERT INTO opportunities (id, centre_id, title, description, required_skills, required_certifications, works_with_minors, location)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(row.id)
    .bind(row.centre_id)
    .bind(&row.title)
    .bind(&row.description)
    .bind(&row.required_skills)
    .bind(&row.required_certifications)
    .bind(row.works_with_minors)
    .bind(&row.location)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(row.clone())
}

/// A centre's opportunities by title, after the keyset `after` (title, id), at most `limit`.
pub async fn list_opportunities(
    pool: &PgPool,
    centre: Uuid,
    after: Option<(String, Uuid)>,
    limit: i64,
) -> Result<Vec<OpportunityRow>, Error> {
    let (title, id) = after.unzip();
    Ok(sqlx::query_as(concat!(
        "SELECT ",
        opportunity_columns!(),
        " FROM opportunities WHERE centre_id = $1
           AND ($3::uuid IS NULL OR (title, id) > ($2, $3))
         ORDER BY title, id LIMIT $4"
    ))
    .bind(centre)
    .bind(title)
    .bind(id)
    .bind(limit)
    .fetch_all(pool)
    .await?)
}

pub async fn find_opportunity(
    conn: &mut PgConnection,
    centre: Uuid,
    id: Uuid,
) -> Result<OpportunityRow, Error> {
    sqlx::query_as(concat!(
        "SELECT ",
        opportunity_columns!(),
        " FROM opportunities WHERE centre_id = $1 AND id = $2"
    ))
    .bind(centre)
    .bind(id)
    .fetch_optional(conn)
    .await?
    .ok_or(Error::NotFound("opportunity"))
}

/// Adds a shift, its local day read in the centre's zone.
pub async fn create_shift(
    pool: &PgPool,
    centre: Uuid,
    opportunity: Uuid,
    starts_at: DateTime<Utc>,
    ends_at: DateTime<Utc>,
    capacity: i32,
    location: &str,
) -> Result<ShiftRow, Error> {
    let mut tx = linli_platform::db::begin(pool).await?;
    let opportunity = find_opportunity(&mut tx, centre, opportunity).await?;
    let zone = centre_zone(&mut tx, centre).await?;
    let location = if location.is_empty() {
        opportunity.location.clone()
    } else {
        location.to_owned()
    };
    let row = ShiftRow {
        id: Uuid::new_v4(),
        centre_id: centre,
        opportunity_id: opportunity.id,
        starts_at,
        ends_at,
        local_date: domain::local_date(zone, starts_at),
        capacity,
        signed_up: 0,
        location,
    };
    sqlx::query(
        "INSERT INTO shifts (id, centre_id, opportunity_id, starts_at, ends_at, local_date, capacity, location)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(row.id)
    .bind(row.centre_id)
    .bind(row.opportunity_id)
    .bind(row.starts_at)
    .bind(row.ends_at)
    .bind(row.local_date)
    .bind(row.capacity)
    .bind(&row.location)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(row)
}

/// A centre's shifts in start order, after the keyset `after` (starts_at, id), at most
/// `limit`.
pub async fn list_shifts(
    pool: &PgPool,
    centre: Uuid,
    opportunity: Option<Uuid>,
    from: Option<DateTime<Utc>>,
    to: Option<DateTime<Utc>>,
    after: Option<(DateTime<Utc>, Uuid)>,
    limit: i64,
) -> Result<Vec<ShiftRow>, Error> {
    Ok(sqlx::query_as(concat!(
        "SELECT ",
        shift_columns!(),
        " FROM shifts WHERE centre_id = $1 AND ($2::uuid IS NULL OR opportunity_id = $2)
           AND ($3::timestamptz IS NULL OR ends_at > $3) AND ($4::timestamptz IS NULL OR starts_at < $4)
           AND ($5::timestamptz IS NULL OR (starts_at, id) > ($5, $6))
         ORDER BY starts_at, id LIMIT $7"
    ))
    .bind(centre)
    .bind(opportunity)
    .bind(from)
    .bind(to)
    .bind(after.map(|(at, _)| at))
    .bind(after.map(|(_, id)| id))
    .bind(limit)
    .fetch_all(pool)
    .await?)
}

pub async fn find_shift(
    conn: &mut PgConnection,
    centre: Uuid,
    id: Uuid,
) -> Result<ShiftRow, Error> {
    sqlx::query_as(concat!(
        "SELECT ",
        shift_columns!(),
        " FROM shifts WHERE centre_id = $1 AND id = $2"
    ))
    .bind(centre)
    .bind(id)
    .fetch_optional(conn)
    .await?
    .ok_or(Error::NotFound("shift"))
}

async fn find_assignment(
    conn: &mut PgConnection,
    centre: Uuid,
    id: Uuid,
    lock: bool,
) -> Result<AssignmentRow, Error> {
    let query = if lock {
        concat!(
            "SELECT ",
            assignment_columns!(),
            " FROM assignments a WHERE a.centre_id = $1 AND a.id = $2 FOR UPDATE OF a"
        )
    } else {
        concat!(
            "SELECT ",
            assignment_columns!(),
            " FROM assignments a WHERE a.centre_id = $1 AND a.id = $2"
        )
    };
    sqlx::query_as(query)
        .bind(centre)
        .bind(id)
        .fetch_optional(conn)
        .await?
        .ok_or(Error::NotFound("assignment"))
}

/// Signs a volunteer up for a shift, as the domain decides ([`shift::sign_up`]) over the
/// shift (locked), its opportunity's requirements, the volunteer, their certifications and
/// the places they hold around the shift's time. The table's constraints stay the last
/// word under concurrency (two sign-ups of one volunteer at once), answered with the same
/// refusals.
pub async fn sign_up(
    pool: &PgPool,
    centre: CentreId,
    shift: ShiftId,
    volunteer: VolunteerId,
    now: DateTime<Utc>,
) -> Result<AssignmentRow, Error> {
    let centre = centre.uuid();
    let mut tx = pool.begin().await?;
    let row: ShiftRow = sqlx::query_as(concat!(
        "SELECT ",
        shift_columns!(),
        " FROM shifts WHERE centre_id = $1 AND id = $2 FOR UPDATE"
    ))
    .bind(centre)
    .bind(shift)
    .fetch_optional(&mut *tx)
    .await?
    .ok_or(Error::NotFound("shift"))?;
    let locked = shift::Shift {
        id: shift,
        starts_at: row.starts_at,
        ends_at: row.ends_at,
        local_date: row.local_date,
        capacity: row.capacity,
        signed_up: row.signed_up,
    };
    let opportunity = find_opportunity(&mut tx, centre, row.opportunity_id).await?;
    let person = find_volunteer(&mut tx, centre, volunteer.uuid()).await?;
    let held = held_by(&mut tx, &[volunteer.uuid()]).await?;
    let commitments: Vec<(Uuid, DateTime<Utc>, DateTime<Utc>)> = sqlx::query_as(
        "SELECT shift_id, lower(during), upper(during) FROM assignments
         WHERE volunteer_id = $1 AND status <> 'withdrawn' AND upper(during) > $2",
    )
    .bind(volunteer)
    .bind(locked.starts_at)
    .fetch_all(&mut *tx)
    .await?;
    let commitments: Vec<shift::Commitment> = commitments
        .into_iter()
        .map(|(shift, starts_at, ends_at)| shift::Commitment {
            shift: shift.into(),
            starts_at,
            ends_at,
        })
        .collect();
    let decided = shift::sign_up(
        &locked,
        &shift::Requirements {
            certifications: &opportunity.required_certifications,
            works_with_minors: opportunity.works_with_minors,
        },
        &shift::Candidate {
            status: person.status,
            background_checked: person.background_checked,
            held: held.get(&person.id).map(Vec::as_slice).unwrap_or_default(),
            commitments: &commitments,
        },
        now,
    )?;
    let id = Uuid::new_v4();
    let inserted = sqlx::query(
        "INSERT INTO assignments (id, centre_id, shift_id, volunteer_id, during)
         VALUES ($1, $2, $3, $4, tstzrange($5, $6))",
    )
    .bind(id)
    .bind(centre)
    .bind(decided.shift)
    .bind(volunteer)
    .bind(decided.during.0)
    .bind(decided.during.1)
    .execute(&mut *tx)
    .await;
    if let Err(error) = inserted {
        return Err(
            if violates(&error, "volunteer_never_on_overlapping_shifts") {
                shift::overlapping().into()
            } else {
                error.into()
            },
        );
    }
    let counted = sqlx::query("UPDATE shifts SET signed_up = signed_up + 1 WHERE id = $1")
        .bind(decided.shift)
        .execute(&mut *tx)
        .await;
    if let Err(error) = counted {
        return Err(if violates(&error, "shifts_within_capacity") {
            shift::full().into()
        } else {
            error.into()
        });
    }
    let row = find_assignment(&mut tx, centre, id, false).await?;
    tx.commit().await?;
    Ok(row)
}

pub async fn withdraw(
    pool: &PgPool,
    centre: CentreId,
    id: AssignmentId,
) -> Result<AssignmentRow, Error> {
    let (centre, id) = (centre.uuid(), id.uuid());
    let mut tx = pool.begin().await?;
    let row = find_assignment(&mut tx, centre, id, true).await?;
    if !shift::withdraw(row.status)? {
        tx.commit().await?;
        return Ok(row);
    }
    sqlx::query("UPDATE assignments SET status = $2 WHERE id = $1")
        .bind(id)
        .bind(AssignmentStatus::Withdrawn.as_str())
        .execute(&mut *tx)
        .await?;
    sqlx::query("UPDATE shifts SET signed_up = signed_up - 1 WHERE id = $1")
        .bind(row.shift_id)
        .execute(&mut *tx)
        .await?;
    let row = find_assignment(&mut tx, centre, id, false).await?;
    tx.commit().await?;
    Ok(row)
}

pub async fn check_in(
    pool: &PgPool,
    centre: CentreId,
    id: AssignmentId,
    at: DateTime<Utc>,
) -> Result<AssignmentRow, Error> {
    let (centre, id) = (centre.uuid(), id.uuid());
    let mut tx = pool.begin().await?;
    let row = find_assignment(&mut tx, centre, id, true).await?;
    if !shift::check_in(row.status)? {
        tx.commit().await?;
        return Ok(row);
    }
    sqlx::query("UPDATE assignments SET status = $3, checked_in_at = $2 WHERE id = $1")
        .bind(id)
        .bind(at)
        .bind(AssignmentStatus::CheckedIn.as_str())
        .execute(&mut *tx)
        .await?;
    let row = find_assignment(&mut tx, centre, id, false).await?;
    tx.commit().await?;
    Ok(row)
}

/// Checks a volunteer out: the desk saw the work, so the hours are verified at once
/// ([`shift::check_out`]), and the events the domain chose, milestones included, follow.
pub async fn check_out(
    pool: &PgPool,
    centre: CentreId,
    id: AssignmentId,
    at: DateTime<Utc>,
    by: &str,
) -> Result<AssignmentRow, Error> {
    let (centre, id) = (centre.uuid(), id.uuid());
    let mut tx = pool.begin().await?;
    let row = find_assignment(&mut tx, centre, id, true).await?;
    let Some(decided) = shift::check_out(row.status, row.checked_in_at, at)? else {
        tx.commit().await?;
        return Ok(row);
    };
    sqlx::query("UPDATE assignments SET status = $3, checked_out_at = $2 WHERE id = $1")
        .bind(id)
        .bind(at)
        .bind(AssignmentStatus::Completed.as_str())
        .execute(&mut *tx)
        .await?;
    let shift = find_shift(&mut tx, centre, row.shift_id).await?;
    let entry: HourEntryRow = sqlx::query_as(concat!(
        "INSERT INTO hour_entries (id, centre_id, volunteer_id, assignment_id, source, worked_on, minutes, status, logged_by, verified_by, verified_at)
         VALUES ($1, $2, $3, $4, 'check_out', $5, $6, $7, $8, $8, $9)
         RETURNING ",
        hour_columns!()
    ))
    .bind(Uuid::new_v4())
    .bind(centre)
    .bind(row.volunteer_id)
    .bind(id)
    .bind(shift.local_date)
    .bind(decided.minutes)
    .bind(HourStatus::Verified.as_str())
    .bind(by)
    .bind(at)
    .fetch_one(&mut *tx)
    .await?;
    record_hours_events(&mut tx, &entry, Some(&shift), &decided.events, Utc::now()).await?;
    let row = find_assignment(&mut tx, centre, id, false).await?;
    tx.commit().await?;
    Ok(row)
}

/// Writes the events verified hours set off, then the milestones the volunteer's new
/// total reaches ([`hours::new_milestones`]). The volunteer's row is locked so two
/// verifications never both miss (or both claim) a milestone; the milestones table's key
/// makes each one once.
async fn record_hours_events(
    tx: &mut PgConnection,
    entry: &HourEntryRow,
    shift: Option<&ShiftRow>,
    decided: &[HoursEvent],
    now: DateTime<Utc>,
) -> Result<(), Error> {
    if decided.is_empty() {
        return Ok(());
    }
    sqlx::query("SELECT 1 FROM volunteers WHERE id = $1 FOR UPDATE")
        .bind(entry.volunteer_id)
        .execute(&mut *tx)
        .await?;
    let (total, recorded): (i64, Vec<i32>) = sqlx::query_as(
        "SELECT (SELECT coalesce(sum(minutes), 0)::bigint FROM hour_entries WHERE volunteer_id = $1 AND status = 'verified'),
                coalesce((SELECT array_agg(hours) FROM milestones WHERE volunteer_id = $1), '{}')",
    )
    .bind(entry.volunteer_id)
    .fetch_one(&mut *tx)
    .await?;
    let milestones = hours::new_milestones(total, &recorded);
    for event in decided.iter().chain(&milestones) {
        match event {
            HoursEvent::Verified => {
                outbox::enqueue(
                    tx,
                    Some(entry.centre_id),
                    &events::shift_completed(entry, shift, now),
                )
                .await?;
            }
            HoursEvent::Milestone {
                hours,
                total_minutes,
            } => {
                let new = sqlx::query(
                    "INSERT INTO milestones (volunteer_id, hours, reached_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
                )
                .bind(entry.volunteer_id)
                .bind(hours)
                .bind(now)
                .execute(&mut *tx)
                .await?;
                if new.rows_affected() == 1 {
                    outbox::enqueue(
                        tx,
                        Some(entry.centre_id),
                        &events::milestone(
                            entry.volunteer_id,
                            entry.centre_id,
                            *hours,
                            *total_minutes,
                            now,
                        ),
                    )
                    .await?;
                }
            }
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------
// Hours

/// Hours a volunteer logged themself: pending until a coordinator verifies them; against
/// a place on a shift only the volunteer's own ([`hours::may_log`]).
#[allow(clippy::too_many_arguments)]
pub async fn log_hours(
    pool: &PgPool,
    centre: CentreId,
    volunteer: VolunteerId,
    assignment: Option<AssignmentId>,
    worked_on: NaiveDate,
    minutes: i32,
    note: &str,
    by: &str,
) -> Result<HourEntryRow, Error> {
    let centre = centre.uuid();
    let mut tx = linli_platform::db::begin(pool).await?;
    find_volunteer(&mut tx, centre, volunteer.uuid()).await?;
    let assignment_of = match assignment {
        Some(assignment) => {
            let row = find_assignment(&mut tx, centre, assignment.uuid(), true).await?;
            Some(VolunteerId::from(row.volunteer_id))
        }
        None => None,
    };
    hours::may_log(volunteer, assignment_of)?;
    let inserted = sqlx::query_as(concat!(
        "INSERT INTO hour_entries (id, centre_id, volunteer_id, assignment_id, source, worked_on, minutes, status, note, logged_by)
         VALUES ($1, $2, $3, $4, 'self_logged', $5, $6, $7, $8, $9)
         RETURNING ",
        hour_columns!()
    ))
    .bind(Uuid::new_v4())
    .bind(centre)
    .bind(volunteer)
    .bind(assignment)
    .bind(worked_on)
    .bind(minutes)
    .bind(HourStatus::Pending.as_str())
    .bind(note)
    .bind(by)
    .fetch_one(&mut *tx)
    .await;
    let row: HourEntryRow = match inserted {
        Err(error) if violates(&error, "hour_entries_assignment_id_key") => {
            return Err(hours::already_recorded().into());
        }
        other => other?,
    };
    tx.commit().await?;
    Ok(row)
}

/// A coordinator verifies (or rejects, saying why in `reason`) logged hours, as the
/// domain decides ([`hours::verify`]); the events it chose are written with the change.
#[allow(clippy::too_many_arguments)]
pub async fn verify_hours(
    pool: &PgPool,
    centre: CentreId,
    id: HourEntryId,
    approve: bool,
    reason: &str,
    by: &str,
    now: DateTime<Utc>,
) -> Result<HourEntryRow, Error> {
    let (centre, id) = (centre.uuid(), id.uuid());
    let mut tx = pool.begin().await?;
    let entry: HourEntryRow = sqlx::query_as(concat!(
        "SELECT ",
        hour_columns!(),
        " FROM hour_entries WHERE centre_id = $1 AND id = $2 FOR UPDATE"
    ))
    .bind(centre)
    .bind(id)
    .fetch_optional(&mut *tx)
    .await?
    .ok_or(Error::NotFound("hour entry"))?;
    let Verification::Decided {
        status,
        rejection_reason,
        events: decided,
    } = hours::verify(entry.status, &entry.logged_by, by, approve, reason)?
    else {
        tx.commit().await?;
        return Ok(entry);
    };
    let entry: HourEntryRow = sqlx::query_as(concat!(
        "UPDATE hour_entries SET status = $2, verified_by = $3, verified_at = $4, rejection_reason = $5 WHERE id = $1 RETURNING ",
        hour_columns!()
    ))
    .bind(id)
    .bind(status.as_str())
    .bind(by)
    .bind(now)
    .bind(&rejection_reason)
    .fetch_one(&mut *tx)
    .await?;
    let shift = match entry.assignment_id.filter(|_| !decided.is_empty()) {
        Some(assignment) => {
            let a = find_assignment(&mut tx, centre, assignment, false).await?;
            Some(find_shift(&mut tx, centre, a.shift_id).await?)
        }
        None => None,
    };
    record_hours_events(&mut tx, &entry, shift.as_ref(), &decided, now).await?;
    tx.commit().await?;
    Ok(entry)
}

/// A centre's hour entries, the latest day worked first (the latest logged first within a
/// day), after the keyset `after` (worked_on, created_at, id), at most `limit`.
pub async fn list_hour_entries(
    pool: &PgPool,
    centre: Uuid,
    volunteer: Option<Uuid>,
    status: Option<&str>,
    after: Option<(NaiveDate, DateTime<Utc>, Uuid)>,
    limit: i64,
) -> Result<Vec<HourEntryRow>, Error> {
    Ok(sqlx::query_as(concat!(
        "SELECT ",
        hour_columns!(),
        " FROM hour_entries WHERE centre_id = $1 AND ($2::uuid IS NULL OR volunteer_id = $2)
           AND ($3::text IS NULL OR status = $3)
           AND ($4::date IS NULL OR (worked_on, created_at, id) < ($4, $5, $6))
         ORDER BY worked_on DESC, created_at DESC, id DESC LIMIT $7"
    ))
    .bind(centre)
    .bind(volunteer)
    .bind(status)
    .bind(after.map(|(on, _, _)| on))
    .bind(after.map(|(_, at, _)| at))
    .bind(after.map(|(_, _, id)| id))
    .bind(limit)
    .fetch_all(pool)
    .await?)
}

/// Per volunteer of the centre: (volunteer, verified minutes, pending minutes, milestones),
/// over work days in [from, to) when given.
pub async fn hours_totals(
    pool: &PgPool,
    centre: Uuid,
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
) -> Result<Vec<(Uuid, i64, i64, Vec<i32>)>, Error> {
    Ok(sqlx::query_as(
        "SELECT v.id,
                coalesce(sum(h.minutes) FILTER (WHERE h.status = 'verified'), 0)::bigint,
                coalesce(sum(h.minutes) FILTER (WHERE h.status = 'pending'), 0)::bigint,
                coalesce((SELECT array_agg(m.hours ORDER BY m.hours) FROM milestones m WHERE m.volunteer_id = v.id), '{}')
         FROM volunteers v
         LEFT JOIN hour_entries h ON h.volunteer_id = v.id
              AND ($2::date IS NULL OR h.worked_on >= $2) AND ($3::date IS NULL OR h.worked_on < $3)
         WHERE v.centre_id = $1
         GROUP BY v.id ORDER BY v.id",
    )
    .bind(centre)
    .bind(from)
    .bind(to)
    .fetch_all(pool)
    .await?)
}

// ---------------------------------------------------------------------------------------
// Matching

/// Everything the ranking of one shift needs, read in one snapshot.
pub struct MatchInput {
    pub shift: ShiftRow,
    pub opportunity: OpportunityRow,
    pub zone: chrono_tz::Tz,
    pub volunteers: Vec<VolunteerRow>,
    pub windows: Vec<WindowRow>,
    pub held: HashMap<Uuid, Vec<Held>>,
    /// Volunteers already on this shift or an overlapping one.
    pub busy: HashMap<Uuid, bool>,
    pub recent: HashMap<Uuid, i64>,
}

pub async fn match_input(pool: &PgPool, centre: Uuid, shift: Uuid) -> Result<MatchInput, Error> {
    let mut tx = pool.begin().await?;
    sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
        .execute(&mut *tx)
        .await?;
    let shift = find_shift(&mut tx, centre, shift).await?;
    let opportunity = find_opportunity(&mut tx, centre, shift.opportunity_id).await?;
    let zone = centre_zone(&mut tx, centre).await?;
    let volunteers: Vec<VolunteerRow> = sqlx::query_as(concat!(
        "SELECT ",
        volunteer_columns!(),
        " FROM volunteers v WHERE v.centre_id = $1 AND v.status = $2 ORDER BY v.id"
    ))
    .bind(centre)
    .bind(VolunteerStatus::Active.as_str())
    .fetch_all(&mut *tx)
    .await?;
    let ids: Vec<Uuid> = volunteers.iter().map(|v| v.id).collect();
    let windows = windows_of(&mut tx, &ids).await?;
    let held = held_by(&mut tx, &ids).await?;
    let busy: Vec<(Uuid, bool)> = sqlx::query_as(
        "SELECT volunteer_id, bool_or(shift_id = $2) FROM assignments
         WHERE volunteer_id = ANY($1) AND status <> 'withdrawn' AND during && tstzrange($3, $4)
         GROUP BY volunteer_id",
    )
    .bind(&ids)
    .bind(shift.id)
    .bind(shift.starts_at)
    .bind(shift.ends_at)
    .fetch_all(&mut *tx)
    .await?;
    let recent: Vec<(Uuid, i64)> = sqlx::query_as(
        "SELECT volunteer_id, sum(minutes)::bigint FROM hour_entries
         WHERE volunteer_id = ANY($1) AND status = 'verified' AND worked_on > $2 AND worked_on <= $3
         GROUP BY volunteer_id",
    )
    .bind(&ids)
    .bind(shift.local_date - Duration::days(domain::RECENT_DAYS))
    .bind(shift.local_date)
    .fetch_all(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(MatchInput {
        shift,
        opportunity,
        zone,
        volunteers,
        windows,
        held,
        busy: busy.into_iter().collect(),
        recent: recent.into_iter().collect(),
    })
}

// ---------------------------------------------------------------------------------------
// Community groups

pub async fn create_group(pool: &PgPool, row: &GroupRow) -> Result<GroupRow, Error> {
    let mut tx = linli_platform::db::begin(pool).await?;
    directory::require_centre(&mut tx, row.centre_id).await?;
    let inserted = sqlx::query(
        "INSERT INTO community_groups (id, centre_id, name, kind, description, support_rooms, support_equipment)
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(row.id)
    .bind(row.centre_id)
    .bind(&row.name)
    .bind(&row.kind)
    .bind(&row.description)
    .bind(&row.support_rooms)
    .bind(&row.support_equipment)
    .execute(&mut *tx)
    .await;
    match inserted {
        Err(error) if violates(&error, "community_groups_centre_id_name_key") => {
            Err(domain::group_name_taken(&row.name).into())
        }
        other => {
            other?;
            tx.commit().await?;
            Ok(row.clone())
        }
    }
}

pub async fn list_groups(
    pool: &PgPool,
    centre: Uuid,
    kind: Option<&str>,
) -> Result<Vec<(GroupRow, Vec<MemberRow>)>, Error> {
    let groups: Vec<GroupRow> = sqlx::query_as(
        "SELECT id, centre_id, name, kind, description, support_rooms, support_equipment
         FROM community_groups WHERE centre_id = $1 AND ($2::text IS NULL OR kind = $2) ORDER BY name",
    )
    .bind(centre)
    .bind(kind)
    .fetch_all(pool)
    .await?;
    let ids: Vec<Uuid> = groups.iter().map(|g| g.id).collect();
    let members: Vec<MemberRow> = sqlx::query_as(
        "SELECT group_id, resident_id, role, joined_on FROM group_members WHERE group_id = ANY($1)
         ORDER BY role, joined_on, resident_id",
    )
    .bind(&ids)
    .fetch_all(pool)
    .await?;
    Ok(groups
        .into_iter()
        .map(|g| {
            let of: Vec<MemberRow> = members
                .iter()
                .filter(|m| m.group_id == g.id)
                .cloned()
                .collect();
            (g, of)
        })
        .collect())
}

/// Adds a resident of the centre to a group, or changes their role in it.
pub async fn add_group_member(
    pool: &PgPool,
    centre: Uuid,
    group: Uuid,
    resident: Uuid,
    role: &str,
    today: NaiveDate,
) -> Result<(), Error> {
    let mut tx = linli_platform::db::begin(pool).await?;
    let exists: bool = sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM community_groups WHERE centre_id = $1 AND id = $2)",
    )
    .bind(centre)
    .bind(group)
    .fetch_one(&mut *tx)
    .await?;
    if !exists {
        return Err(Error::NotFound("group"));
    }
    let member = directory::resident_of(&mut tx, centre, resident, "resident_id").await?;
    volunteer::resident_active(&member.status)?;
    sqlx::query(
        "INSERT INTO group_members (group_id, resident_id, role, joined_on) VALUES ($1, $2, $3, $4)
         ON CONFLICT (group_id, resident_id) DO UPDATE SET role = EXCLUDED.role",
    )
    .bind(group)
    .bind(resident)
    .bind(role)
    .bind(today)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(())
}

// ---------------------------------------------------------------------------------------
// Performance reviews

macro_rules! review_select {
    () => {
        "SELECT r.id, r.centre_id, r.staff_id, r.period_start, r.period_end, r.reviewer, r.criteria, r.scores, r.comments, r.created_at,
                q.period AS quality_period, q.satisfaction_permille, q.quality_permille, q.responses, q.updated_at AS quality_updated_at
         FROM reviews r LEFT JOIN staff_quality q ON q.staff_id = r.staff_id "
    };
}

#[allow(clippy::too_many_arguments)]
pub async fn create_review(
    pool: &PgPool,
    centre: Uuid,
    staff: Uuid,
    period_start: NaiveDate,
    period_end: NaiveDate,
    reviewer: &str,
    criteria: &[String],
    scores: &[i32],
    comments: &str,
) -> Result<ReviewRow, Error> {
    let mut tx = linli_platform::db::begin(pool).await?;
    find_staff(&mut tx, centre, staff)
        .await?
        .ok_or(Error::NotFound("staff member"))?;
    let id = Uuid::new_v4();
    sqlx::query(
        "INSERT INTO reviews (id, centre_id, staff_id, period_start, period_end, reviewer, criteria, scores, comments)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(id)
    .bind(centre)
    .bind(staff)
    .bind(period_start)
    .bind(period_end)
    .bind(reviewer)
    .bind(criteria)
    .bind(scores)
    .bind(comments)
    .execute(&mut *tx)
    .await?;
    let row = sqlx::query_as(concat!(review_select!(), "WHERE r.id = $1"))
        .bind(id)
        .fetch_one(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(row)
}

/// A centre's reviews, the latest period first, after the keyset `after` (period_start,
/// id), at most `limit`.
pub async fn list_reviews(
    pool: &PgPool,
    centre: Uuid,
    staff: Option<Uuid>,
    after: Option<(NaiveDate, Uuid)>,
    limit: i64,
) -> Result<Vec<ReviewRow>, Error> {
    Ok(sqlx::query_as(concat!(
        review_select!(),
        "WHERE r.centre_id = $1 AND ($2::uuid IS NULL OR r.staff_id = $2)
           AND ($3::date IS NULL OR (r.period_start, r.id) < ($3, $4))
         ORDER BY r.period_start DESC, r.id DESC LIMIT $5"
    ))
    .bind(centre)
    .bind(staff)
    .bind(after.map(|(start, _)| start))
    .bind(after.map(|(_, id)| id))
    .bind(limit)
    .fetch_all(pool)
    .await?)
}

// ---------------------------------------------------------------------------------------
// A resident's copy of their data

/// Everything this service holds about one resident at a centre.
#[derive(Default)]
pub struct ResidentData {
    pub volunteer: Option<VolunteerRow>,
    pub windows: Vec<WindowRow>,
    pub guardian_consent_at: Option<DateTime<Utc>>,
    pub assignments: Vec<AssignmentRow>,
    pub shifts: Vec<ShiftRow>,
    pub opportunities: Vec<OpportunityRow>,
    pub hours: Vec<HourEntryRow>,
    pub certifications: Vec<CertificationRow>,
    pub completions: Vec<CompletionRow>,
    pub courses: Vec<CourseRow>,
    /// (group id, name, kind, role, joined on).
    pub groups: Vec<(Uuid, String, String, String, NaiveDate)>,
}

/// Reads all of it, whole: a copy cut at a page would be silently partial.
pub async fn resident_data(
    pool: &PgPool,
    centre: Uuid,
    resident: Uuid,
) -> Result<ResidentData, Error> {
    let mut conn = pool.acquire().await?;
    let mut data = ResidentData {
        groups: sqlx::query_as(
            "SELECT g.id, g.name, g.kind, m.role, m.joined_on
             FROM group_members m JOIN community_groups g ON g.id = m.group_id
             WHERE g.centre_id = $1 AND m.resident_id = $2 ORDER BY m.joined_on, g.name",
        )
        .bind(centre)
        .bind(resident)
        .fetch_all(&mut *conn)
        .await?,
        ..ResidentData::default()
    };
    let found: Option<VolunteerRow> = sqlx::query_as(concat!(
        "SELECT ",
        volunteer_columns!(),
        " FROM volunteers v WHERE v.centre_id = $1 AND v.resident_id = $2"
    ))
    .bind(centre)
    .bind(resident)
    .fetch_optional(&mut *conn)
    .await?;
    let Some(volunteer) = found else {
        return Ok(data);
    };
    let id = volunteer.id;
    data.windows = windows_of(&mut conn, &[id]).await?;
    data.guardian_consent_at =
        sqlx::query_scalar("SELECT guardian_consent_at FROM volunteers WHERE id = $1")
            .bind(id)
            .fetch_one(&mut *conn)
            .await?;
    data.assignments = sqlx::query_as(concat!(
        "SELECT ",
        assignment_columns!(),
        " FROM assignments a WHERE a.centre_id = $1 AND a.volunteer_id = $2
         ORDER BY lower(a.during), a.id"
    ))
    .bind(centre)
    .bind(id)
    .fetch_all(&mut *conn)
    .await?;
    let shifts: Vec<Uuid> = data.assignments.iter().map(|a| a.shift_id).collect();
    data.shifts = sqlx::query_as(concat!(
        "SELECT ",
        shift_columns!(),
        " FROM shifts WHERE id = ANY($1) ORDER BY starts_at, id"
    ))
    .bind(&shifts)
    .fetch_all(&mut *conn)
    .await?;
    let opportunities: Vec<Uuid> = data.shifts.iter().map(|s| s.opportunity_id).collect();
    data.opportunities = sqlx::query_as(concat!(
        "SELECT ",
        opportunity_columns!(),
        " FROM opportunities WHERE id = ANY($1) ORDER BY title, id"
    ))
    .bind(&opportunities)
    .fetch_all(&mut *conn)
    .await?;
    data.hours = sqlx::query_as(concat!(
        "SELECT ",
        hour_columns!(),
        " FROM hour_entries WHERE centre_id = $1 AND volunteer_id = $2
         ORDER BY worked_on DESC, created_at DESC"
    ))
    .bind(centre)
    .bind(id)
    .fetch_all(&mut *conn)
    .await?;
    data.certifications = sqlx::query_as(concat!(
        "SELECT ",
        certification_columns!(),
        " FROM certifications WHERE centre_id = $1 AND holder_id = $2 ORDER BY issued_on, id"
    ))
    .bind(centre)
    .bind(id)
    .fetch_all(&mut *conn)
    .await?;
    data.completions = sqlx::query_as(
        "SELECT id, centre_id, course_id, session_id, person_kind, person_id, completed_on
         FROM completions WHERE centre_id = $1 AND person_id = $2 ORDER BY completed_on, id",
    )
    .bind(centre)
    .bind(id)
    .fetch_all(&mut *conn)
    .await?;
    let courses: Vec<Uuid> = data.completions.iter().map(|c| c.course_id).collect();
    data.courses = sqlx::query_as(
        "SELECT id, centre_id, title, topic, audience, minutes FROM courses
         WHERE id = ANY($1) ORDER BY title, id",
    )
    .bind(&courses)
    .fetch_all(&mut *conn)
    .await?;
    data.volunteer = Some(volunteer);
    Ok(data)
}

// ---------------------------------------------------------------------------------------
// Staff on sessions

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct StaffAssignmentRow {
    pub id: Uuid,
    pub centre_id: Uuid,
    pub staff_id: Uuid,
    pub offering_id: Uuid,
    pub session_id: Uuid,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub session_on: NaiveDate,
    pub licence: String,
    pub assigned_by: String,
    pub assigned_at: DateTime<Utc>,
}

macro_rules! staff_assignment_columns {
    () => {
        "id, centre_id, staff_id, offering_id, session_id, starts_at, ends_at, session_on, licence, assigned_by, assigned_at"
    };
}

/// Puts a staff member on a session, as the domain's licence rule allows
/// ([`domain::licence`]): the staff row is locked so the employment cannot end meanwhile,
/// and a second assignment of the same person to the session answers the first.
pub async fn assign_staff(
    pool: &PgPool,
    row: &StaffAssignmentRow,
) -> Result<StaffAssignmentRow, Error> {
    let mut tx = linli_platform::db::begin(pool).await?;
    let zone = centre_zone(&mut tx, row.centre_id).await?;
    let staff: StaffRow = sqlx::query_as(concat!(
        "SELECT ",
        staff_columns!(),
        " FROM staff WHERE centre_id = $1 AND id = $2 FOR SHARE"
    ))
    .bind(row.centre_id)
    .bind(row.staff_id)
    .fetch_optional(&mut *tx)
    .await?
    .ok_or(Error::NotFound("staff member"))?;
    let session_on = domain::local_date(zone, row.starts_at);
    domain::licence::employed_on(staff.employed_from, staff.employed_until, session_on)?;
    let held = held_by(&mut tx, &[staff.id]).await?;
    domain::licence::may_deliver(
        &staff.position,
        held.get(&staff.id).map(Vec::as_slice).unwrap_or_default(),
        session_on,
    )?;
    let licence = domain::licence::required(&staff.position).unwrap_or_default();
    let inserted: Option<StaffAssignmentRow> = sqlx::query_as(concat!(
        "INSERT INTO staff_assignments (id, centre_id, staff_id, offering_id, session_id, starts_at, ends_at, session_on, licence, assigned_by)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
         ON CONFLICT (session_id, staff_id) DO NOTHING RETURNING ",
        staff_assignment_columns!()
    ))
    .bind(row.id)
    .bind(row.centre_id)
    .bind(row.staff_id)
    .bind(row.offering_id)
    .bind(row.session_id)
    .bind(row.starts_at)
    .bind(row.ends_at)
    .bind(session_on)
    .bind(licence)
    .bind(&row.assigned_by)
    .fetch_optional(&mut *tx)
    .await?;
    let assigned =
        match inserted {
            Some(row) => row,
            None => sqlx::query_as(concat!(
                "SELECT ",
                staff_assignment_columns!(),
                " FROM staff_assignments WHERE session_id = $1 AND staff_id = $2 AND centre_id = $3"
            ))
            .bind(row.session_id)
            .bind(row.staff_id)
            .bind(row.centre_id)
            .fetch_one(&mut *tx)
            .await?,
        };
    tx.commit().await?;
    Ok(assigned)
}

/// The centre's staff on sessions (one session's, one staff member's), earliest first.
pub async fn list_staff_assignments(
    pool: &PgPool,
    centre: Uuid,
    session: Option<Uuid>,
    staff: Option<Uuid>,
) -> Result<Vec<StaffAssignmentRow>, Error> {
    Ok(sqlx::query_as(concat!(
        "SELECT ",
        staff_assignment_columns!(),
        " FROM staff_assignments WHERE centre_id = $1
           AND ($2::uuid IS NULL OR session_id = $2) AND ($3::uuid IS NULL OR staff_id = $3)
         ORDER BY starts_at, id LIMIT 500"
    ))
    .bind(centre)
    .bind(session)
    .bind(staff)
    .fetch_all(pool)
    .await?)
}
