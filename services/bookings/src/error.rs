//! The bookings service's errors are the platform's ([`linli_platform::error::Error`], with
//! its one mapping to gRPC status codes); the domain's refusals are the platform's
//! [`linli_platform::error::Refusal`], which `?` makes into them. Messages name offerings,
//! rooms and times, never a resident's personal data.

pub use linli_platform::error::{Error, retrying};
