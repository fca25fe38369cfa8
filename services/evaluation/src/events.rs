//! How evaluation reacts to other services' facts: each is logged (for rebuilding) and
//! applied to the projections inside the consumer's transaction, so a redelivery changes
//! nothing.

use chrono::{DateTime, NaiveTime, Utc};
use linli_platform::bus::{Handler, HandlerError, Incoming, field};
use linli_platform::directory;
use linli_proto::Event;
use linli_proto::events::v1::{
    BookingAttended, BookingCheckInUndone, EntryPosted, FacilityCreated, FacilityHeld,
    FacilityReleased, ResidentCorrectionClosed, ResidentCorrectionRequested, ResidentDeceased,
    ResidentErased, ResidentMovedOut, ResidentRegistered, ResidentReturned, ServiceDelivered,
    TrainingCompleted, VolunteerDeactivated, VolunteerReactivated, VolunteerRegistered,
};
use sqlx::PgConnection;
use uuid::Uuid;

use crate::store;

/// The routing keys evaluation logs and reacts to, and the directory's (see
/// [`linli_platform::directory::BINDINGS`]; evaluation logs those too, for rebuilding).
pub const BINDINGS: &[&str] = linli_platform::directory_bindings![
    "bookings.booking.attended",
    "bookings.booking.check_in_undone",
    "bookings.service.delivered",
    "bookings.facility.*",
    "finance.entry.posted",
    "volunteers.volunteer.*",
    "volunteers.training.completed",
    // What the alerts inbox keeps (crate::alerts).
    "finance.budget.threshold_reached",
    "volunteers.certification.expiring",
    "volunteers.hours.milestone_reached",
];

/// Logs each fact and applies it to the projection it changes.
pub struct Projections;

impl Handler for Projections {
    async fn handle(&self, event: &Incoming, tx: &mut PgConnection) -> Result<(), HandlerError> {
        store::log_fact(tx, event, resident_of(event)).await?;
        apply(event, tx).await
    }

    /// In order; a run of check-ins and deliveries (the busiest stream: every check-in is
    /// both) is logged with one statement, and its attendances and invitations recorded
    /// with one each. Neither touches what the other does, so within a run they need not
    /// keep their order; anything else ends the run.
    async fn handle_batch(
        &self,
        events: &[&Incoming],
        tx: &mut PgConnection,
    ) -> Result<(), HandlerError> {
        let mut run = Run::default();
        for event in events {
            match event.routing_key.as_str() {
                BookingAttended::ROUTING_KEY => {
                    let attended = attendance(event)?;
                    run.facts.push((event, attended.resident_id));
                    run.attendances.push(attended);
                }
                ServiceDelivered::ROUTING_KEY => {
                    run.facts.push((event, resident_of(event)));
                    run.deliveries.push(delivery(event)?);
                }
                _ => {
                    run.record(tx).await?;
                    self.handle(event, tx).await?;
                }
            }
        }
        run.record(tx).await
    }
}

/// Check-ins and deliveries in a row, to log and record together.
#[derive(Default)]
struct Run<'a> {
    facts: Vec<(&'a Incoming, Option<Uuid>)>,
    attendances: Vec<store::Attendance>,
    deliveries: Vec<store::Delivery>,
}

impl Run<'_> {
    /// Logs and records the run, and empties it.
    async fn record(&mut self, tx: &mut PgConnection) -> Result<(), HandlerError> {
        if !self.facts.is_empty() {
            store::log_facts(tx, &self.facts).await?;
            self.facts.clear();
        }
        if !self.attendances.is_empty() {
            store::record_attendances(tx, &self.attendances).await?;
            self.attendances.clear();
        }
        if !self.deliveries.is_empty() {
            store::invite_for_deliveries(tx, &self.deliveries).await?;
            self.deliveries.clear();
        }
        Ok(())
    }
}

/// A delivered service as evaluation invites for it.
fn delivery(event: &Incoming) -> Result<store::Delivery, HandlerError> {
    let e: ServiceDelivered = event.decode()?;
    Ok(store::Delivery {
        delivery_id: e.delivery_id,
        centre_id: field::id("centre_id", &e.centre_id)?,
        resident_id: field::optional_id("resident_id", &e.resident_id)?,
        offering_id: field::optional_id("offering_id", &e.offering_id)?,
        staff_id: field::optional_id("staff_id", &e.staff_id)?,
        delivered_at: field::instant("delivered_at", e.delivered_at.as_ref())?,
    })
}

/// A check-in as evaluation records it.
fn attendance(event: &Incoming) -> Result<store::Attendance, HandlerError> {
    let e: BookingAttended = event.decode()?;
    Ok(store::Attendance {
        event_id: event.id,
        booking_id: field::id("booking_id", &e.booking_id)?,
        centre_id: field::id("centre_id", &e.centre_id)?,
        offering_id: field::id("offering_id", &e.offering_id)?,
        resident_id: field::optional_id("resident_id", &e.resident_id)?,
        category: e.category,
        attended_at: field::instant("attended_at", e.attended_at.as_ref())?,
        session_id: field::optional_id("session_id", &e.session_id)?,
    })
}

/// The resident a fact is about, for erasure.
fn resident_of(event: &Incoming) -> Option<Uuid> {
    let id = match event.routing_key.as_str() {
        ResidentRegistered::ROUTING_KEY => event.decode::<ResidentRegistered>().ok()?.resident_id,
        ResidentMovedOut::ROUTING_KEY => event.decode::<ResidentMovedOut>().ok()?.resident_id,
        ResidentDeceased::ROUTING_KEY => event.decode::<ResidentDeceased>().ok()?.resident_id,
        ResidentReturned::ROUTING_KEY => event.decode::<ResidentReturned>().ok()?.resident_id,
        ResidentErased::ROUTING_KEY => event.decode::<ResidentErased>().ok()?.resident_id,
        BookingAttended::ROUTING_KEY => event.decode::<BookingAttended>().ok()?.resident_id,
        ServiceDelivered::ROUTING_KEY => event.decode::<ServiceDelivered>().ok()?.resident_id,
        BookingCheckInUndone::ROUTING_KEY => {
            event.decode::<BookingCheckInUndone>().ok()?.resident_id
        }
        VolunteerRegistered::ROUTING_KEY => event.decode::<VolunteerRegistered>().ok()?.resident_id,
        ResidentCorrectionRequested::ROUTING_KEY => {
            event
                .decode::<ResidentCorrectionRequested>()
                .ok()?
                .resident_id
        }
        ResidentCorrectionClosed::ROUTING_KEY => {
            event.decode::<ResidentCorrectionClosed>().ok()?.resident_id
        }
        _ => return None,
    };
    Uuid::parse_str(&id).ok()
}

/// Applies one fact to the projections: what the consumer does, and what a rebuild replays.
pub async fn apply(event: &Incoming, tx: &mut PgConnection) -> Result<(), HandlerError> {
    // Centres, residents (registered, left, returned, erased) and staff: the directory.
    directory::apply(event, tx).await?;
    // What needs a person: the alerts inbox.
    store::alerts::apply(event, tx).await?;
    match event.routing_key.as_str() {
        ResidentErased::ROUTING_KEY => {
            let e: ResidentErased = event.decode()?;
            let resident = field::id("resident_id", &e.resident_id)?;
            store::forget_resident(tx, resident).await?;
            store::board::forget_resident(tx, resident).await?;
        }
        BookingAttended::ROUTING_KEY => {
            store::record_attendances(tx, &[attendance(event)?]).await?;
        }
        ServiceDelivered::ROUTING_KEY => {
            store::invite_for_deliveries(tx, &[delivery(event)?]).await?;
        }
        BookingCheckInUndone::ROUTING_KEY => {
            let e: BookingCheckInUndone = event.decode()?;
            store::undo_check_in(
                tx,
                &store::UndoneCheckIn {
                    booking_id: field::id("booking_id", &e.booking_id)?,
                    centre_id: field::id("centre_id", &e.centre_id)?,
                    session_id: field::optional_id("session_id", &e.session_id)?,
                    delivery_id: Some(e.delivery_id).filter(|d| !d.is_empty()),
                    undone_at: field::instant("undone_at", e.undone_at.as_ref())?,
                },
            )
            .await?;
        }
        FacilityCreated::ROUTING_KEY => {
            let e: FacilityCreated = event.decode()?;
            store::record_facility(
                tx,
                &store::FacilityFact {
                    id: field::id("facility_id", &e.facility_id)?,
                    centre_id: field::id("centre_id", &e.centre_id)?,
                    opens: time("opens", &e.opens)?,
                    closes: time("closes", &e.closes)?,
                    open_days: e.open_days,
                    time_zone: e.time_zone,
                },
            )
            .await?;
        }
        FacilityHeld::ROUTING_KEY => {
            let e: FacilityHeld = event.decode()?;
            store::record_hold(
                tx,
                field::id("hold_id", &e.hold_id)?,
                field::id("facility_id", &e.facility_id)?,
                field::id("centre_id", &e.centre_id)?,
                field::instant("starts_at", e.starts_at.as_ref())?,
                field::instant("ends_at", e.ends_at.as_ref())?,
            )
            .await?;
        }
        FacilityReleased::ROUTING_KEY => {
            let e: FacilityReleased = event.decode()?;
            store::release_hold(
                tx,
                field::id("hold_id", &e.hold_id)?,
                field::instant("released_at", e.released_at.as_ref())?,
            )
            .await?;
        }
        EntryPosted::ROUTING_KEY => {
            let e: EntryPosted = event.decode()?;
            store::record_ledger_effect(
                tx,
                &store::LedgerEffect {
                    entry: field::id("entry_id", &e.entry_id)?,
                    centre: field::id("centre_id", &e.centre_id)?,
                    day: field::date("entry_date", &e.entry_date)?,
                    own_income: e.own_income_minor,
                    expenditure: e.expenditure_minor,
                    partnership: e.partnership_income_minor,
                    currency: &e.currency,
                },
            )
            .await?;
        }
        VolunteerRegistered::ROUTING_KEY => {
            let e: VolunteerRegistered = event.decode()?;
            let at = field::instant("registered_at", e.registered_at.as_ref())?;
            volunteer_change(tx, event, &e.volunteer_id, &e.centre_id, true, at).await?;
        }
        VolunteerDeactivated::ROUTING_KEY => {
            let e: VolunteerDeactivated = event.decode()?;
            let at = field::instant("deactivated_at", e.deactivated_at.as_ref())?;
            volunteer_change(tx, event, &e.volunteer_id, &e.centre_id, false, at).await?;
        }
        VolunteerReactivated::ROUTING_KEY => {
            let e: VolunteerReactivated = event.decode()?;
            let at = field::instant("reactivated_at", e.reactivated_at.as_ref())?;
            volunteer_change(tx, event, &e.volunteer_id, &e.centre_id, true, at).await?;
        }
        TrainingCompleted::ROUTING_KEY => {
            let e: TrainingCompleted = event.decode()?;
            store::record_training(
                tx,
                field::id("completion_id", &e.completion_id)?,
                field::id("centre_id", &e.centre_id)?,
                &e.person_kind,
                field::id("person_id", &e.person_id)?,
                field::date("completed_on", &e.completed_on)?,
            )
            .await?;
        }
        // Other facts do not change evaluation's figures.
        _ => {}
    }
    Ok(())
}

async fn volunteer_change(
    tx: &mut PgConnection,
    event: &Incoming,
    volunteer: &str,
    centre: &str,
    active: bool,
    at: DateTime<Utc>,
) -> Result<(), HandlerError> {
    let (volunteer, centre) = (
        field::id("volunteer_id", volunteer)?,
        field::id("centre_id", centre)?,
    );
    store::record_volunteer_change(tx, event.id, volunteer, centre, active, at).await?;
    Ok(())
}

fn time(field: &str, text: &str) -> Result<NaiveTime, HandlerError> {
    NaiveTime::parse_from_str(text, "%H:%M")
        .map_err(|_| HandlerError::Permanent(format!("{field} is not a time")))
}
