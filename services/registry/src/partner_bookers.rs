//! Who booked which partner's offerings (issue 24, partners who deliver). The bookings
//! service keeps no personal data and the registry keeps no bookings; to give a partner
//! the name and phone of a consenting resident who booked one of its offerings, the
//! registry learns from `bookings.booking.confirmed` / `.promoted` / `.attended` (which carry the
//! offering's `provider_id`) who holds a booking of which partner's offering, through its
//! inbox into `partner_bookers`; it binds the partners' keys of those events, so it takes
//! partners' bookings only. `bookings.booking.cancelled` (a partner's too) and
//! `registry.resident.erased` remove the rows. Consent is not copied: it is read from the
//! registry's own `consents` at the moment of every partner read.

use linli_platform::bus::{Handler, HandlerError, Incoming, field};
use linli_proto::Event;
use linli_proto::events::v1::{
    BookingAttended, BookingCancelled, BookingConfirmed, BookingPromoted, ResidentErased,
};
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

/// The consumer's name: its queue is `<prefix>.partner-bookers`.
pub const CONSUMER: &str = "partner-bookers";
/// Partners' bookings only ([`linli_platform::bus::partner_key`]): a booking of a centre's
/// own offering concerns no partner, and the district's million a day would each cost the
/// broker a queue write and the registry an inbox row for nothing.
pub const BINDINGS: &[&str] = &[
    "partner.bookings.booking.confirmed",
    "partner.bookings.booking.promoted",
    "partner.bookings.booking.attended",
    "partner.bookings.booking.cancelled",
    ResidentErased::ROUTING_KEY,
];

/// Keeps `partner_bookers` as the events say, inside the inbox's transaction.
pub struct PartnerBookers;

impl Handler for PartnerBookers {
    async fn handle(&self, event: &Incoming, tx: &mut PgConnection) -> Result<(), HandlerError> {
        let key = event.routing_key.as_str();
        if key == BookingConfirmed::ROUTING_KEY {
            link(tx, &event.decode::<BookingConfirmed>()?).await?;
        } else if key == BookingPromoted::ROUTING_KEY {
            link(tx, &event.decode::<BookingPromoted>()?).await?;
        } else if key == BookingAttended::ROUTING_KEY {
            link(tx, &event.decode::<BookingAttended>()?).await?;
        } else if key == BookingCancelled::ROUTING_KEY {
            let e: BookingCancelled = event.decode()?;
            let booking = field::id("booking_id", &e.booking_id)?;
            sqlx::query("DELETE FROM partner_bookers WHERE booking_id = $1")
                .bind(booking)
                .execute(&mut *tx)
                .await?;
        } else if key == ResidentErased::ROUTING_KEY {
            let e: ResidentErased = event.decode()?;
            let resident = field::id("resident_id", &e.resident_id)?;
            sqlx::query("DELETE FROM partner_bookers WHERE resident_id = $1")
                .bind(resident)
                .execute(&mut *tx)
                .await?;
        }
        Ok(())
    }
}

/// The booking events that say who holds which partner's offering: each carries the
/// same five fields.
trait Holding {
    /// Booking, provider, offering, resident and centre, as the event gives them.
    fn holding(&self) -> [&str; 5];
}

macro_rules! holding {
    ($($event:ty),+) => {$(
        impl Holding for $event {
            fn holding(&self) -> [&str; 5] {
                [
                    &self.booking_id,
                    &self.provider_id,
                    &self.offering_id,
                    &self.resident_id,
                    &self.centre_id,
                ]
            }
        }
    )+};
}

holding!(BookingConfirmed, BookingPromoted, BookingAttended);

/// Records that the resident holds the booking of the partner's offering; nothing for the
/// centre's own offerings (no provider) or a facility booking (no resident).
async fn link(tx: &mut PgConnection, event: &impl Holding) -> Result<(), HandlerError> {
    let [booking, provider, offering, resident, centre] = event.holding();
    let (Some(partner), Some(resident)) = (
        field::optional_id("provider_id", provider)?,
        field::optional_id("resident_id", resident)?,
    ) else {
        return Ok(());
    };
    sqlx::query(
        "INSERT INTO partner_bookers (booking_id, partner_id, offering_id, resident_id, centre_id)
         VALUES ($1, $2, $3, $4, $5) ON CONFLICT (booking_id) DO NOTHING",
    )
    .bind(field::id("booking_id", booking)?)
    .bind(partner)
    .bind(field::id("offering_id", offering)?)
    .bind(resident)
    .bind(field::id("centre_id", centre)?)
    .execute(&mut *tx)
    .await?;
    Ok(())
}

/// Which of `residents` hold a booking of one of `partner`'s offerings.
pub async fn booked(
    pool: &PgPool,
    partner: Uuid,
    residents: &[Uuid],
) -> Result<Vec<Uuid>, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT DISTINCT resident_id FROM partner_bookers
          WHERE partner_id = $1 AND resident_id = ANY($2)",
    )
    .bind(partner)
    .bind(residents)
    .fetch_all(pool)
    .await
}

/// Records that `partner` was given these residents' names and phones.
pub async fn record_reads(
    pool: &PgPool,
    partner: Uuid,
    centre: Uuid,
    residents: &[Uuid],
) -> Result<(), sqlx::Error> {
    if residents.is_empty() {
        return Ok(());
    }
    sqlx::query(
        "INSERT INTO partner_contact_reads (partner_id, resident_id, centre_id)
         SELECT $1, r, $2 FROM unnest($3::uuid[]) AS r",
    )
    .bind(partner)
    .bind(centre)
    .bind(residents)
    .execute(pool)
    .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use linli_platform::bus::partner_key;

    #[test]
    fn it_binds_the_partner_keys_of_the_booking_events_it_handles_and_the_erasure_itself() {
        for key in [
            BookingConfirmed::ROUTING_KEY,
            BookingPromoted::ROUTING_KEY,
            BookingAttended::ROUTING_KEY,
            BookingCancelled::ROUTING_KEY,
        ] {
            assert!(BINDINGS.contains(&partner_key(key).as_str()), "{key}");
            assert!(
                !BINDINGS.contains(&key),
                "{key} is bound for every centre's"
            );
        }
        assert!(BINDINGS.contains(&ResidentErased::ROUTING_KEY));
    }
}
