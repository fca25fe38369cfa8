//! Taking back a check-in: the seat (or facility booking) and the booking as they were
//! before it, and `bookings.booking.check_in_undone` in the same transaction.

use chrono::{DateTime, Utc};
use linli_platform::bus::outbox;
use linli_proto::events::v1::BookingCheckInUndone;
use sqlx::PgPool;
use uuid::Uuid;

use super::{
    BookingView, SeatRow, booking_status, centre_zone, find_booking, find_offering, lock_booking,
    seats_of,
};
use crate::domain::ids::SessionId;
use crate::domain::status::BookingStatus;
use crate::domain::undo::{self, Undo};
use crate::error::Error;
use crate::events::timestamp;

/// Takes back the check-in of one session (or of a facility booking); a booking not
/// checked in for it is answered as it is, and no one is told.
pub async fn undo_check_in(
    pool: &PgPool,
    centre: Uuid,
    id: Uuid,
    session: Option<Uuid>,
    by: &str,
    now: DateTime<Utc>,
) -> Result<BookingView, Error> {
    let mut tx = pool.begin().await?;
    let booking = lock_booking(&mut tx, Some(centre), id).await?;
    let offering = find_offering(&mut tx, centre, booking.offering_id).await?;
    let zone = centre_zone(&mut tx, centre).await?;
    let facility = booking.starts_at.zip(booking.ends_at);
    let seats = if facility.is_some() {
        Vec::new()
    } else {
        seats_of(&mut tx, &[id]).await?
    };
    let views = seats
        .iter()
        .map(SeatRow::seat)
        .collect::<Result<Vec<_>, Error>>()?;
    let decided = undo::undo_check_in(
        offering.kind(),
        booking_status(&booking)?,
        facility,
        &views,
        session.map(SessionId::from),
        zone,
        now,
    )?;
    let session = match decided {
        Undo::Nothing => {
            tx.rollback().await?;
            return find_booking(pool, centre, id).await;
        }
        Undo::Facility => {
            sqlx::query("UPDATE bookings SET status = $2, updated_at = $3 WHERE id = $1")
                .bind(id)
                .bind(BookingStatus::Confirmed.as_str())
                .bind(now)
                .execute(&mut *tx)
                .await?;
            None
        }
        Undo::Seat { session, whole } => {
            let session = session.uuid();
            sqlx::query(
                "UPDATE seats SET state = 'held', changed_at = $3
                 WHERE booking_id = $1 AND session_id = $2 AND state = 'attended'",
            )
            .bind(id)
            .bind(session)
            .bind(now)
            .execute(&mut *tx)
            .await?;
            if whole {
                sqlx::query(
                    "UPDATE bookings SET status = 'confirmed', updated_at = $2
                     WHERE id = $1 AND status = 'attended'",
                )
                .bind(id)
                .bind(now)
                .execute(&mut *tx)
                .await?;
            }
            Some(session)
        }
    };
    let text = |id: Option<Uuid>| id.map(|id| id.to_string()).unwrap_or_default();
    let event = BookingCheckInUndone {
        booking_id: id.to_string(),
        centre_id: centre.to_string(),
        offering_id: booking.offering_id.to_string(),
        session_id: text(session),
        resident_id: text(booking.resident_id),
        // As the check-in's ServiceDelivered named it (events::delivered).
        delivery_id: session.map(|s| format!("{id}:{s}")).unwrap_or_default(),
        undone_at: Some(timestamp(now)),
        undone_by: by.to_owned(),
    };
    outbox::enqueue(&mut tx, Some(centre), &event).await?;
    tx.commit().await?;
    find_booking(pool, centre, id).await
}
