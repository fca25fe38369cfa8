//! The volunteers service's errors are the platform's ([`linli_platform::error::Error`], with
//! its one mapping to gRPC status codes). Messages name shifts, certifications and dates,
//! never a person's name, phone or ID number; a refusal of who may take a shift on begins
//! "not qualified:".

pub use linli_platform::error::{Error, Reason, violates};
