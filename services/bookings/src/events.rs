//! What bookings tells other services, and how it reacts to what happens to residents
//! (the directory, its read model of the registry, is the platform's).
//! Events carry ids, times and categories, never a resident's name or contact.

use chrono::{DateTime, Utc};
use linli_platform::bus::{Handler, HandlerError, Incoming, field};
use linli_platform::directory;
pub use linli_platform::wire::timestamp;
use linli_proto::Event;
use linli_proto::events::v1::{
    BookingAttended, BookingCancelled, BookingConfirmed, BookingNoShow, BookingPromoted,
    BookingWaitlisted, FacilityCreated, FacilityHeld, FacilityReleased, FeeCharged, FeeRefunded,
    OfferingRetired, OfferingUpdated, ResidentConsentChanged, ResidentDeceased, ResidentErased,
    ResidentMovedOut, ServiceDelivered,
};
use sqlx::PgConnection;
use uuid::Uuid;

use crate::domain::booking::FirstSession;
use crate::error::Error;
use crate::store::{self, BookingRow, OfferingRow, SessionRow};

/// The registry's consent purpose for sharing a resident's data with partners.
pub const PARTNER_SHARING: &str = "partner_sharing";

/// The routing keys bookings reacts to: the directory's (see
/// [`linli_platform::directory::BINDINGS`]), whose resident events it also acts on.
pub const BINDINGS: &[&str] = linli_platform::directory_bindings![];

fn text(id: Option<impl std::fmt::Display>) -> String {
    id.map(|id| id.to_string()).unwrap_or_default()
}

pub fn confirmed(
    booking: &BookingRow,
    offering: &OfferingRow,
    first: Option<FirstSession>,
    now: DateTime<Utc>,
) -> BookingConfirmed {
    BookingConfirmed {
        booking_id: booking.id.to_string(),
        centre_id: booking.centre_id.to_string(),
        offering_id: booking.offering_id.to_string(),
        session_id: text(first.map(|s| s.id)),
        resident_id: text(booking.resident_id),
        facility_id: text(booking.facility_id),
        starts_at: booking
            .starts_at
            .or(first.map(|s| s.starts_at))
            .map(timestamp),
        ends_at: booking.ends_at.or(first.map(|s| s.ends_at)).map(timestamp),
        confirmed_at: Some(timestamp(now)),
        category: offering.category.clone(),
        provider_id: text(offering.provider_id),
    }
}

/// An offering's new fee or capacity; `previous` is (fee, capacity) before the change.
pub fn offering_updated(
    offering: &OfferingRow,
    previous: (i64, i32),
    now: DateTime<Utc>,
) -> OfferingUpdated {
    OfferingUpdated {
        offering_id: offering.id.to_string(),
        centre_id: offering.centre_id.to_string(),
        fee_minor: offering.fee_minor,
        currency: offering.currency.clone(),
        capacity: offering.capacity,
        previous_fee_minor: previous.0,
        previous_capacity: previous.1,
        updated_at: Some(timestamp(now)),
    }
}

pub fn offering_retired(offering: &OfferingRow, now: DateTime<Utc>) -> OfferingRetired {
    OfferingRetired {
        offering_id: offering.id.to_string(),
        centre_id: offering.centre_id.to_string(),
        retired_at: Some(timestamp(now)),
    }
}

pub fn waitlisted(
    booking: &BookingRow,
    first: Option<Uuid>,
    position: i32,
    now: DateTime<Utc>,
) -> BookingWaitlisted {
    BookingWaitlisted {
        booking_id: booking.id.to_string(),
        centre_id: booking.centre_id.to_string(),
        offering_id: booking.offering_id.to_string(),
        session_id: text(first),
        resident_id: text(booking.resident_id),
        position,
        waitlisted_at: Some(timestamp(now)),
    }
}

/// A booking cancelled; `provider` is its offering's partner, if any.
pub fn cancelled(
    booking: &BookingRow,
    provider: Option<Uuid>,
    session: Option<Uuid>,
    reason: &str,
    now: DateTime<Utc>,
) -> BookingCancelled {
    BookingCancelled {
        booking_id: booking.id.to_string(),
        centre_id: booking.centre_id.to_string(),
        offering_id: booking.offering_id.to_string(),
        session_id: text(session),
        resident_id: text(booking.resident_id),
        reason: reason.to_owned(),
        cancelled_at: Some(timestamp(now)),
        provider_id: text(provider),
    }
}

pub fn promoted(
    booking: &BookingRow,
    offering: &OfferingRow,
    first: Option<&SessionRow>,
    now: DateTime<Utc>,
) -> BookingPromoted {
    BookingPromoted {
        booking_id: booking.id.to_string(),
        centre_id: booking.centre_id.to_string(),
        offering_id: booking.offering_id.to_string(),
        session_id: text(first.map(|s| s.id)),
        resident_id: text(booking.resident_id),
        promoted_at: Some(timestamp(now)),
        provider_id: text(offering.provider_id),
    }
}

pub fn attended(
    booking: &BookingRow,
    offering: &OfferingRow,
    session: Option<Uuid>,
    now: DateTime<Utc>,
) -> BookingAttended {
    BookingAttended {
        booking_id: booking.id.to_string(),
        centre_id: booking.centre_id.to_string(),
        offering_id: booking.offering_id.to_string(),
        session_id: text(session),
        resident_id: text(booking.resident_id),
        category: offering.category.clone(),
        attended_at: Some(timestamp(now)),
        provider_id: text(offering.provider_id),
    }
}

pub fn delivered(
    booking: &BookingRow,
    offering: &OfferingRow,
    session: Uuid,
    now: DateTime<Utc>,
) -> ServiceDelivered {
    ServiceDelivered {
        delivery_id: format!("{}:{}", booking.id, session),
        booking_id: booking.id.to_string(),
        centre_id: booking.centre_id.to_string(),
        offering_id: booking.offering_id.to_string(),
        session_id: session.to_string(),
        resident_id: text(booking.resident_id),
        category: offering.category.clone(),
        staff_id: text(offering.staff_id),
        delivered_at: Some(timestamp(now)),
        provider_id: text(offering.provider_id),
    }
}

pub fn no_show(booking: &BookingRow, session: Option<Uuid>, ended: DateTime<Utc>) -> BookingNoShow {
    BookingNoShow {
        booking_id: booking.id.to_string(),
        centre_id: booking.centre_id.to_string(),
        offering_id: booking.offering_id.to_string(),
        session_id: text(session),
        resident_id: text(booking.resident_id),
        session_ended_at: Some(timestamp(ended)),
    }
}

pub fn fee_charged(
    booking: &BookingRow,
    charge: Uuid,
    list_price: i64,
    now: DateTime<Utc>,
) -> FeeCharged {
    FeeCharged {
        charge_id: charge.to_string(),
        booking_id: booking.id.to_string(),
        centre_id: booking.centre_id.to_string(),
        offering_id: booking.offering_id.to_string(),
        resident_id: text(booking.resident_id),
        amount_minor: booking.fee_minor,
        currency: booking.currency.clone(),
        list_price_minor: list_price,
        concession: booking.concession.clone(),
        charged_at: Some(timestamp(now)),
    }
}

pub fn fee_refunded(
    booking: &BookingRow,
    refund: Uuid,
    charge: Uuid,
    now: DateTime<Utc>,
) -> FeeRefunded {
    FeeRefunded {
        refund_id: refund.to_string(),
        charge_id: charge.to_string(),
        booking_id: booking.id.to_string(),
        centre_id: booking.centre_id.to_string(),
        amount_minor: booking.fee_minor,
        currency: booking.currency.clone(),
        refunded_at: Some(timestamp(now)),
    }
}

pub fn facility_created(row: &crate::store::FacilityRow, zone: &str) -> FacilityCreated {
    FacilityCreated {
        facility_id: row.id.to_string(),
        centre_id: row.centre_id.to_string(),
        name: row.name.clone(),
        opens: row.opens.format("%H:%M").to_string(),
        closes: row.closes.format("%H:%M").to_string(),
        open_days: row.open_days.clone(),
        time_zone: zone.to_owned(),
    }
}

pub fn facility_held(
    hold: Uuid,
    facility: Uuid,
    centre: Uuid,
    starts: DateTime<Utc>,
    ends: DateTime<Utc>,
) -> FacilityHeld {
    FacilityHeld {
        hold_id: hold.to_string(),
        facility_id: facility.to_string(),
        centre_id: centre.to_string(),
        starts_at: Some(timestamp(starts)),
        ends_at: Some(timestamp(ends)),
    }
}

pub fn facility_released(
    hold: Uuid,
    facility: Uuid,
    centre: Uuid,
    at: DateTime<Utc>,
) -> FacilityReleased {
    FacilityReleased {
        hold_id: hold.to_string(),
        facility_id: facility.to_string(),
        centre_id: centre.to_string(),
        released_at: Some(timestamp(at)),
    }
}

/// Keeps the directory and reacts to what happens to residents.
pub struct RegistryFacts;

impl Handler for RegistryFacts {
    async fn handle(&self, event: &Incoming, tx: &mut PgConnection) -> Result<(), HandlerError> {
        directory::apply(event, tx).await?;
        let now = Utc::now();
        match event.routing_key.as_str() {
            ResidentMovedOut::ROUTING_KEY => {
                let e: ResidentMovedOut = event.decode()?;
                give_up_future_bookings(
                    tx,
                    field::id("resident_id", &e.resident_id)?,
                    "moved_out",
                    now,
                )
                .await?;
            }
            ResidentDeceased::ROUTING_KEY => {
                let e: ResidentDeceased = event.decode()?;
                give_up_future_bookings(
                    tx,
                    field::id("resident_id", &e.resident_id)?,
                    "deceased",
                    now,
                )
                .await?;
            }
            ResidentErased::ROUTING_KEY => {
                // The bookings to come are given up exactly as when the resident leaves
                // (seats freed, the waitlist promoted); what remains is history, kept for
                // the centre's figures without the person.
                let e: ResidentErased = event.decode()?;
                let resident = field::id("resident_id", &e.resident_id)?;
                give_up_future_bookings(tx, resident, "erased", now).await?;
                store::anonymise_resident(tx, resident).await?;
            }
            ResidentConsentChanged::ROUTING_KEY => {
                let e: ResidentConsentChanged = event.decode()?;
                // Only sharing with partners concerns bookings: it decides whether a
                // partner reading its offerings' bookings learns who booked.
                if e.purpose == PARTNER_SHARING {
                    let recorded_at =
                        linli_platform::wire::instant("recorded_at", e.recorded_at.as_ref())
                            .ok()
                            .flatten()
                            .ok_or_else(|| {
                                HandlerError::Permanent(
                                    "recorded_at is missing or out of range".into(),
                                )
                            })?;
                    store::record_partner_sharing(
                        tx,
                        field::id("resident_id", &e.resident_id)?,
                        e.granted,
                        recorded_at,
                    )
                    .await?;
                }
            }
            _ => {}
        }
        Ok(())
    }
}

/// The one path by which a resident's bookings to come end without them asking: a move
/// out, a death or an erasure. Each is cancelled with `reason` as a cancellation at the
/// desk would be, so its seats go to the waitlist and a fee not yet used is refunded.
async fn give_up_future_bookings(
    tx: &mut PgConnection,
    resident: Uuid,
    reason: &str,
    now: DateTime<Utc>,
) -> Result<(), HandlerError> {
    store::cancel_future_bookings(tx, resident, reason, now)
        .await
        .map_err(|error| match error {
            Error::Database(error) => HandlerError::Database(error),
            other => HandlerError::Transient(other.to_string()),
        })?;
    Ok(())
}
