//! How finance reacts to other services' facts, each inside the consumer's transaction
//! (so the inbox makes each take effect once): a fee charged by bookings becomes a
//! receivable and fee income, a refund takes it back, an erased resident's name leaves the
//! donor records, and a new centre gets its books.

use linli_platform::bus::{Handler, HandlerError, Incoming, field};
use linli_platform::directory;
use linli_proto::Event;
use linli_proto::events::v1::{CentreCreated, FeeCharged, FeeRefunded, ResidentErased};
use sqlx::PgConnection;

use crate::domain::calendar::local_date;
use crate::domain::chart::{FundingSource, RECEIVABLES};
use crate::domain::{Currency, EntryLine, NewEntry, Source};
use crate::error::Error;
use crate::store::{self, Actor};

/// The routing keys finance reacts to, and the directory's (see
/// [`linli_platform::directory::BINDINGS`]).
pub const BINDINGS: &[&str] = linli_platform::directory_bindings![
    "bookings.fee.charged",
    "bookings.fee.refunded",
    "registry.resident.erased",
    "registry.centre.created",
];

/// Dispatches each event to what it changes in the books.
pub struct Books;

impl Handler for Books {
    async fn handle(&self, event: &Incoming, tx: &mut PgConnection) -> Result<(), HandlerError> {
        directory::apply(event, tx).await?;
        let actor = Actor::current(&format!("event:{}", event.routing_key));
        match event.routing_key.as_str() {
            FeeCharged::ROUTING_KEY => fee_charged(event.decode()?, tx, &actor).await,
            FeeRefunded::ROUTING_KEY => fee_refunded(event.decode()?, tx, &actor).await,
            ResidentErased::ROUTING_KEY => {
                let erased: ResidentErased = event.decode()?;
                let resident = field::id("resident_id", &erased.resident_id)?;
                store::forget_donor(tx, resident, &actor).await?;
                Ok(())
            }
            CentreCreated::ROUTING_KEY => {
                // The directory has it now: its books are opened.
                let created: CentreCreated = event.decode()?;
                let centre = field::id("centre_id", &created.centre_id)?;
                store::ensure_centre(tx, centre)
                    .await
                    .map_err(handler_error)?;
                Ok(())
            }
            _ => Ok(()),
        }
    }
}

/// A store error as the consumer sees it: the database may recover, and a centre not yet
/// in the directory may arrive (its registration travels on its own); bad data never will.
fn handler_error(error: Error) -> HandlerError {
    match error {
        Error::Database(error) | Error::Directory(directory::Error::Database(error)) => {
            HandlerError::Database(error)
        }
        Error::Directory(directory::Error::UnknownCentre(_)) => {
            HandlerError::Transient("the centre is not in the directory yet".into())
        }
        other => HandlerError::Permanent(other.to_string()),
    }
}

async fn fee_charged(
    event: FeeCharged,
    tx: &mut PgConnection,
    actor: &Actor,
) -> Result<(), HandlerError> {
    let centre = field::id("centre_id", &event.centre_id)?;
    let charged_at = field::instant("charged_at", event.charged_at.as_ref())?;
    if event.amount_minor <= 0 {
        // Bookings never charges zero; a full concession leaves nothing to book.
        return Ok(());
    }
    if store::fee_charge_for_refund(tx, &event.charge_id)
        .await?
        .is_some()
    {
        // The same charge under another event id: booked already.
        return Ok(());
    }
    let currency = Currency::parse("currency", &event.currency)
        .map_err(|v| HandlerError::Permanent(v.to_string()))?;
    let books = store::ensure_centre(tx, centre)
        .await
        .map_err(handler_error)?;
    let date = store::open_date(tx, centre, local_date(charged_at, books.time_zone)).await?;
    let description = if event.concession.is_empty() {
        format!("Service fee, booking {}", event.booking_id)
    } else {
        format!(
            "Service fee, booking {} (concession {}, list price {} minor units)",
            event.booking_id, event.concession, event.list_price_minor
        )
    };
    let entry = NewEntry::new(
        centre,
        date,
        &description,
        Source::Fee,
        Some(event.charge_id.clone()),
        currency,
        vec![
            EntryLine::debit(RECEIVABLES, event.amount_minor),
            EntryLine::credit(FundingSource::ServiceFee.account(), event.amount_minor),
        ],
    )
    .map_err(|v| HandlerError::Permanent(v.to_string()))?;
    let fee = store::FeeCharge {
        charge_id: &event.charge_id,
        booking_id: &event.booking_id,
        resident_id: event.resident_id.parse().ok(),
        list_price_minor: event.list_price_minor.max(event.amount_minor),
        concession: &event.concession,
    };
    store::record_fee(tx, &fee, &entry, actor)
        .await
        .map_err(handler_error)
}

/// A refund of the whole charge reverses its entry; a part refund books the part back.
async fn fee_refunded(
    event: FeeRefunded,
    tx: &mut PgConnection,
    actor: &Actor,
) -> Result<(), HandlerError> {
    let centre = field::id("centre_id", &event.centre_id)?;
    let refunded_at = field::instant("refunded_at", event.refunded_at.as_ref())?;
    let charge = store::fee_charge_for_refund(tx, &event.charge_id)
        .await?
        .ok_or_else(|| HandlerError::Transient("the charge is not booked yet".into()))?;
    if charge.centre_id != centre {
        return Err(HandlerError::Permanent(
            "the refund names another centre than its charge".into(),
        ));
    }
    if event.amount_minor <= 0 || event.amount_minor > charge.amount_minor - charge.refunded_minor {
        return Err(HandlerError::Permanent(
            "the refund exceeds what is left of the charge".into(),
        ));
    }
    let books = store::ensure_centre(tx, centre)
        .await
        .map_err(handler_error)?;
    let date = store::open_date(tx, centre, local_date(refunded_at, books.time_zone)).await?;
    if event.amount_minor == charge.amount_minor {
        let reason = format!("fee refunded ({})", event.refund_id);
        store::reverse(tx, centre, charge.entry_id, date, &reason, actor)
            .await
            .map_err(handler_error)?;
    } else {
        let currency = Currency::parse("currency", &charge.currency)
            .map_err(|v| HandlerError::Permanent(v.to_string()))?;
        let entry = NewEntry::new(
            centre,
            date,
            &format!("Part refund of the fee for booking {}", event.booking_id),
            Source::Refund,
            Some(event.refund_id.clone()),
            currency,
            vec![
                EntryLine::debit(FundingSource::ServiceFee.account(), event.amount_minor),
                EntryLine::credit(RECEIVABLES, event.amount_minor),
            ],
        )
        .map_err(|v| HandlerError::Permanent(v.to_string()))?;
        store::post(tx, &entry, actor)
            .await
            .map_err(handler_error)?;
    }
    store::add_refund(tx, &event.charge_id, event.amount_minor).await?;
    Ok(())
}
