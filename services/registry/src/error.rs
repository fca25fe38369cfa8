//! The registry's errors are the platform's ([`linli_platform::error::Error`], with its one
//! mapping to gRPC status codes); here the store's refusals of a registration, a centre, a
//! household and a partner become them, each with its stable code.

pub use linli_platform::error::Error;
use linli_platform::error::Reason;
use uuid::Uuid;

use crate::store::{CentreError, RegisterError};

/// A resident with this national ID is already registered: said beside the field.
pub fn national_id_registered() -> Error {
    Error::Taken {
        field: "national_id",
        reason: Reason::new(
            "national_id.registered",
            "a resident with this national ID is already registered",
        ),
    }
}

/// The centre has a resident who is probably the one being registered.
pub fn probably_registered(resident: Uuid) -> Error {
    Error::Conflict(
        Reason::new(
            "resident_probably_registered",
            format!(
                "resident {resident} of this centre has the same name, date of birth and phone; if this is someone else, register again with confirm_not_duplicate"
            ),
        )
        .with("resident_id", resident),
    )
}

/// Another centre has the code: said beside the field.
pub fn centre_code_taken() -> Error {
    Error::Taken {
        field: "code",
        reason: Reason::new("centre.code_taken", "another centre has this code"),
    }
}

/// The address has a household already: place the resident into it instead.
pub fn household_exists(household: Uuid) -> Error {
    Error::Conflict(
        Reason::new(
            "household_exists",
            format!("household {household} is at this address already"),
        )
        .with("household_id", household),
    )
}

/// A clash the registry names in words only (code `conflict`).
pub fn conflict(what: &'static str) -> Error {
    Error::Conflict(Reason::new("conflict", what))
}

impl From<RegisterError> for Error {
    fn from(error: RegisterError) -> Self {
        match error {
            RegisterError::DuplicateNationalId => national_id_registered(),
            RegisterError::ProbablyRegistered(id) => probably_registered(id),
            RegisterError::Database(e) => Error::Database(e),
        }
    }
}

impl From<CentreError> for Error {
    fn from(error: CentreError) -> Self {
        match error {
            CentreError::DuplicateCode => centre_code_taken(),
            CentreError::Database(e) => Error::Database(e),
        }
    }
}
