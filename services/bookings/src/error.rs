//! The bookings service's errors are the platform's ([`linli_platform::error::Error`], with
//! its one mapping to gRPC status codes); here the domain's refusals become them. Messages
//! name offerings, rooms and times, never a resident's personal data.

use linli_platform::error::Violations;
pub use linli_platform::error::{Error, retrying};

use crate::domain::booking::Refusal;

impl From<Refusal> for Error {
    fn from(refusal: Refusal) -> Self {
        match refusal {
            Refusal::Invalid { field, reason } => Violations::one(field, reason).into(),
            Refusal::NotFound(what) => Error::NotFound(what),
            Refusal::NotAResident(field) => {
                linli_platform::directory::Error::not_a_resident(field).into()
            }
            Refusal::Ineligible(mut reason) => {
                reason.english = format!("not eligible: {}", reason.english);
                Error::Ineligible {
                    field: "resident_id",
                    reason,
                }
            }
            Refusal::State(reason) => Error::State(reason),
            Refusal::Conflict(reason) => Error::Conflict(reason),
        }
    }
}
