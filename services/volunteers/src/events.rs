//! What the volunteers service tells other services, and how it keeps its read models:
//! the platform's directory (the registry's centres and residents), and evaluation's
//! quality figures per staff member. Events carry ids, dates, hours and kinds, never a
//! name, phone or ID number.

use chrono::{DateTime, NaiveDate, Utc};
use linli_platform::bus::{Handler, HandlerError, Incoming, field};
use linli_platform::directory;
pub use linli_platform::wire::timestamp;
use linli_proto::Event;
use linli_proto::events::v1::{
    CertificationExpiring, HoursMilestoneReached, ResidentDeceased, ResidentErased,
    ResidentMovedOut, ShiftCompleted, StaffJoined, StaffLeft, StaffQualityUpdated,
    TrainingCompleted, VolunteerDeactivated, VolunteerReactivated, VolunteerRegistered,
};
use sqlx::PgConnection;
use uuid::Uuid;

use crate::store::{self, CertificationRow, CompletionRow, HourEntryRow, ShiftRow, StaffRow};

/// The routing keys volunteers reacts to, and the directory's (see
/// [`linli_platform::directory::BINDINGS`], whose resident events it also acts on).
pub const BINDINGS: &[&str] =
    linli_platform::directory_bindings!["evaluation.staff.quality_updated"];

fn date(day: NaiveDate) -> String {
    day.format("%Y-%m-%d").to_string()
}

pub fn registered(
    volunteer: Uuid,
    centre: Uuid,
    resident: Uuid,
    now: DateTime<Utc>,
) -> VolunteerRegistered {
    VolunteerRegistered {
        volunteer_id: volunteer.to_string(),
        centre_id: centre.to_string(),
        resident_id: resident.to_string(),
        registered_at: Some(timestamp(now)),
    }
}

pub fn deactivated(
    volunteer: Uuid,
    centre: Uuid,
    status: &str,
    reason: &str,
    now: DateTime<Utc>,
) -> VolunteerDeactivated {
    VolunteerDeactivated {
        volunteer_id: volunteer.to_string(),
        centre_id: centre.to_string(),
        status: status.to_owned(),
        reason: reason.to_owned(),
        deactivated_at: Some(timestamp(now)),
    }
}

pub fn reactivated(volunteer: Uuid, centre: Uuid, now: DateTime<Utc>) -> VolunteerReactivated {
    VolunteerReactivated {
        volunteer_id: volunteer.to_string(),
        centre_id: centre.to_string(),
        reactivated_at: Some(timestamp(now)),
    }
}

pub fn shift_completed(
    entry: &HourEntryRow,
    shift: Option<&ShiftRow>,
    now: DateTime<Utc>,
) -> ShiftCompleted {
    ShiftCompleted {
        hour_entry_id: entry.id.to_string(),
        centre_id: entry.centre_id.to_string(),
        volunteer_id: entry.volunteer_id.to_string(),
        shift_id: shift.map(|s| s.id.to_string()).unwrap_or_default(),
        opportunity_id: shift
            .map(|s| s.opportunity_id.to_string())
            .unwrap_or_default(),
        worked_on: date(entry.worked_on),
        verified_minutes: entry.minutes,
        verified_at: Some(timestamp(now)),
    }
}

pub fn milestone(
    volunteer: Uuid,
    centre: Uuid,
    hours: i32,
    total: i64,
    now: DateTime<Utc>,
) -> HoursMilestoneReached {
    HoursMilestoneReached {
        volunteer_id: volunteer.to_string(),
        centre_id: centre.to_string(),
        milestone_hours: hours,
        total_minutes: total,
        reached_at: Some(timestamp(now)),
    }
}

pub fn training_completed(row: &CompletionRow, minutes: i32) -> TrainingCompleted {
    TrainingCompleted {
        completion_id: row.id.to_string(),
        centre_id: row.centre_id.to_string(),
        course_id: row.course_id.to_string(),
        person_kind: row.person_kind.clone(),
        person_id: row.person_id.to_string(),
        completed_on: date(row.completed_on),
        course_minutes: minutes,
    }
}

pub fn expiring(row: &CertificationRow, days_left: i32) -> CertificationExpiring {
    CertificationExpiring {
        certification_id: row.id.to_string(),
        centre_id: row.centre_id.to_string(),
        holder_kind: row.holder_kind.clone(),
        holder_id: row.holder_id.to_string(),
        kind: row.kind.clone(),
        expires_on: row.expires_on.map(date).unwrap_or_default(),
        days_left,
    }
}

pub fn staff_joined(row: &StaffRow) -> StaffJoined {
    StaffJoined {
        staff_id: row.id.to_string(),
        centre_id: row.centre_id.to_string(),
        position: row.position.clone(),
        employed_from: date(row.employed_from),
    }
}

pub fn staff_left(row: &StaffRow) -> StaffLeft {
    StaffLeft {
        staff_id: row.id.to_string(),
        centre_id: row.centre_id.to_string(),
        position: row.position.clone(),
        employed_until: row.employed_until.map(date).unwrap_or_default(),
    }
}

/// Keeps the directory and the quality figures, and reacts to what happens to residents.
pub struct Facts;

impl Handler for Facts {
    async fn handle(&self, event: &Incoming, tx: &mut PgConnection) -> Result<(), HandlerError> {
        directory::apply(event, tx).await?;
        let now = Utc::now();
        match event.routing_key.as_str() {
            ResidentMovedOut::ROUTING_KEY => {
                let e: ResidentMovedOut = event.decode()?;
                leaves(tx, &e.resident_id, "moved_out", now).await?;
            }
            ResidentDeceased::ROUTING_KEY => {
                let e: ResidentDeceased = event.decode()?;
                leaves(tx, &e.resident_id, "deceased", now).await?;
            }
            // A resident active again (returned) volunteers again by a new registration.
            ResidentErased::ROUTING_KEY => {
                let e: ResidentErased = event.decode()?;
                store::anonymise_resident(tx, field::id("resident_id", &e.resident_id)?, now)
                    .await?;
            }
            StaffQualityUpdated::ROUTING_KEY => {
                let e: StaffQualityUpdated = event.decode()?;
                let at = e
                    .updated_at
                    .and_then(|t| DateTime::from_timestamp(t.seconds, t.nanos.max(0) as u32))
                    .or(event.occurred_at)
                    .unwrap_or(now);
                store::record_quality(
                    tx,
                    field::id("staff_id", &e.staff_id)?,
                    field::id("centre_id", &e.centre_id)?,
                    &e.period,
                    // Evaluation sends mean 1–5 scores; reviews show them per thousand
                    // of the best score, satisfaction and the mean of effectiveness and
                    // professionalism.
                    permille(e.satisfaction),
                    permille((e.effectiveness + e.professionalism) / 2.0),
                    i32::try_from(e.responses).unwrap_or(i32::MAX),
                    at,
                )
                .await?;
            }
            // Consent changes do not concern volunteers.
            _ => {}
        }
        Ok(())
    }
}

async fn leaves(
    tx: &mut PgConnection,
    resident: &str,
    status: &str,
    now: DateTime<Utc>,
) -> Result<(), HandlerError> {
    store::volunteer_leaves(tx, field::id("resident_id", resident)?, status, now).await?;
    Ok(())
}

/// A mean 1–5 score as thousandths of the best score.
fn permille(mean: f64) -> i32 {
    (mean.clamp(0.0, 5.0) * 200.0).round() as i32
}
