//! How evaluation reacts to other services' facts: each handler updates its projections
//! inside the consumer's transaction.

use chrono::{DateTime, Utc};
use linli_platform::bus::{Handler, HandlerError, Incoming};
use linli_proto::Event;
use linli_proto::events::v1::{ResidentErased, ResidentRegistered};
use sqlx::PgConnection;
use uuid::Uuid;

use crate::store;

/// The routing keys evaluation subscribes to.
pub const BINDINGS: &[&str] = &["registry.resident.*"];

/// Dispatches each event to the projection it changes.
pub struct Projections;

impl Handler for Projections {
    async fn handle(&self, event: &Incoming, tx: &mut PgConnection) -> Result<(), HandlerError> {
        match event.routing_key.as_str() {
            ResidentRegistered::ROUTING_KEY => resident_registered(event.decode()?, tx).await,
            ResidentErased::ROUTING_KEY => resident_erased(event.decode()?, tx).await,
            // Other registry facts do not change evaluation's figures yet.
            _ => Ok(()),
        }
    }
}

async fn resident_registered(
    event: ResidentRegistered,
    tx: &mut PgConnection,
) -> Result<(), HandlerError> {
    let resident = parse_uuid("resident_id", &event.resident_id)?;
    let centre = parse_uuid("centre_id", &event.centre_id)?;
    let registered_at = event
        .registered_at
        .and_then(|t| DateTime::<Utc>::from_timestamp(t.seconds, t.nanos.max(0) as u32))
        .ok_or_else(|| HandlerError::Permanent("registered_at is missing".into()))?;
    store::record_registration(
        tx,
        resident,
        centre,
        &event.age_band,
        &event.categories,
        registered_at,
    )
    .await?;
    Ok(())
}

fn parse_uuid(field: &str, text: &str) -> Result<Uuid, HandlerError> {
    Uuid::parse_str(text).map_err(|_| HandlerError::Permanent(format!("{field} is not a UUID")))
}

/// An erased resident leaves the projection: evaluation keeps nothing about a person who
/// asked to be forgotten, and the registered count follows the register.
async fn resident_erased(event: ResidentErased, tx: &mut PgConnection) -> Result<(), HandlerError> {
    let resident = parse_uuid("resident_id", &event.resident_id)?;
    store::forget_resident(tx, resident).await?;
    Ok(())
}
