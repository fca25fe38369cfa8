//! What a resident signed in on the residents' site may do here, through the same calls
//! (and so the same rules, store and events) as the desk: read their centre's catalogue
//! and sessions, and book, list and cancel for themselves and those they act for. Every
//! other call refuses a resident by the role check it already makes.

use linli_platform::auth::{Access, AuthError, Caller, resident_centre, scoped_centre};
use linli_platform::wire::parse_id;
use sqlx::PgPool;
use tonic::Status;
use uuid::Uuid;

use crate::domain::{DESK, READERS};
use crate::store::{self, OfferingRow};

/// The centre a read names: a resident's own, or one the staff member's role covers.
pub(super) fn reading_centre(who: &Caller, centre_id: &str) -> Result<Uuid, Status> {
    if who.is_resident() {
        resident_centre(who, centre_id)
    } else {
        scoped_centre(who, centre_id, Access::Read, READERS)
    }
}

/// The centre a booking is made at: for a resident, their own and only for a resident
/// in their scope; for staff, the desk's.
pub(super) fn booking_centre(
    who: &Caller,
    centre_id: &str,
    resident_id: &str,
) -> Result<Uuid, Status> {
    if !who.is_resident() {
        return scoped_centre(who, centre_id, Access::Write, DESK);
    }
    let centre = resident_centre(who, centre_id)?;
    let resident = parse_id("resident_id", resident_id)?;
    who.require_resident(centre, resident)?;
    Ok(centre)
}

/// A list of bookings a resident may read: only naming a resident in their scope.
pub(super) fn listing_centre(
    who: &Caller,
    centre_id: &str,
    resident_id: &str,
) -> Result<Uuid, Status> {
    if !who.is_resident() {
        return scoped_centre(who, centre_id, Access::Read, READERS);
    }
    if resident_id.is_empty() {
        return Err(AuthError::ResidentDenied.into());
    }
    booking_centre(who, centre_id, resident_id)
}

/// The centre of a call about one booking: for a resident, only a booking of a resident
/// in their scope (another's answers as if it did not exist); for staff, `access` with
/// `roles`.
pub(super) async fn booking_owner_centre(
    pool: &PgPool,
    who: &Caller,
    centre_id: &str,
    booking_id: &str,
    access: Access,
    roles: &[linli_platform::auth::Role],
) -> Result<Uuid, Status> {
    if !who.is_resident() {
        return scoped_centre(who, centre_id, access, roles);
    }
    let centre = resident_centre(who, centre_id)?;
    let id = parse_id("booking_id", booking_id)?;
    let view = store::find_booking(pool, centre, id).await?;
    match view.booking.resident_id {
        Some(resident) if who.require_resident(centre, resident).is_ok() => Ok(centre),
        _ => Err(linli_platform::error::not_found("booking")),
    }
}

/// Keeps the offerings `resident` may book: active, and admitted by the same rule the
/// booking path tests (eligibility's row test on the directory's row).
pub(super) async fn eligible_only(
    pool: &PgPool,
    centre: Uuid,
    resident: Uuid,
    rows: Vec<OfferingRow>,
) -> Result<Vec<OfferingRow>, Status> {
    let mut kept = Vec::with_capacity(rows.len());
    for row in rows.into_iter().filter(|row| row.active) {
        let concessions = row.concessions();
        let test = row.terms(&concessions).eligibility.row_test();
        let admitted = store::admitted_by_row_test(pool, centre, &[resident], &test)
            .await
            .map_err(crate::error::Error::from)?;
        if admitted.contains(&resident) {
            kept.push(row);
        }
    }
    Ok(kept)
}
