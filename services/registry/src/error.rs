//! The registry's errors and their one mapping to gRPC status codes, each refusal with its
//! stable code (the platform's [`Reason`]); the store's own refusals of a registration or
//! a centre become these.

use linli_platform::auth::AuthError;
use linli_platform::error::{Reason, Violations, database, internal, not_found, refusal_at};
use tonic::{Code, Status};

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Invalid(#[from] Violations),
    #[error(transparent)]
    Denied(#[from] AuthError),
    #[error("{0} not found")]
    NotFound(&'static str),
    #[error("a resident with this national ID is already registered")]
    DuplicateNationalId,
    /// The centre has a resident who is probably the one being registered.
    #[error(
        "resident {0} of this centre has the same name, date of birth and phone; if this is someone else, register again with confirm_not_duplicate"
    )]
    ProbablyRegistered(uuid::Uuid),
    #[error("another centre has this code")]
    DuplicateCentreCode,
    /// The address has a household already: place the resident into it instead.
    #[error("household {0} is at this address already")]
    HouseholdExists(uuid::Uuid),
    #[error("{0}")]
    Conflict(&'static str),
    #[error(transparent)]
    Database(#[from] sqlx::Error),
    #[error(transparent)]
    Crypto(#[from] linli_platform::crypto::CryptoError),
}

impl From<crate::store::RegisterError> for Error {
    fn from(error: crate::store::RegisterError) -> Self {
        match error {
            crate::store::RegisterError::DuplicateNationalId => Error::DuplicateNationalId,
            crate::store::RegisterError::ProbablyRegistered(id) => Error::ProbablyRegistered(id),
            crate::store::RegisterError::Database(e) => Error::Database(e),
        }
    }
}

impl From<crate::store::CentreError> for Error {
    fn from(error: crate::store::CentreError) -> Self {
        match error {
            crate::store::CentreError::DuplicateCode => Error::DuplicateCentreCode,
            crate::store::CentreError::Database(e) => Error::Database(e),
        }
    }
}

impl From<Error> for Status {
    fn from(error: Error) -> Self {
        match error {
            Error::Invalid(violations) => violations.into(),
            Error::Denied(denied) => denied.into(),
            Error::NotFound(what) => not_found(what),
            Error::ProbablyRegistered(id) => linli_platform::error::refusal(
                tonic::Code::AlreadyExists,
                error.to_string(),
                "resident_probably_registered",
                &[("resident_id", id.to_string())],
            ),
            Error::HouseholdExists(id) => linli_platform::error::refusal(
                tonic::Code::AlreadyExists,
                error.to_string(),
                "household_exists",
                &[("household_id", id.to_string())],
            ),
            Error::DuplicateNationalId => refusal_at(
                Code::AlreadyExists,
                "national_id",
                Reason::new("national_id.registered", error.to_string()),
            ),
            Error::DuplicateCentreCode => refusal_at(
                Code::AlreadyExists,
                "code",
                Reason::new("centre.code_taken", error.to_string()),
            ),
            Error::Conflict(what) => Reason::new("conflict", what).into_status(Code::AlreadyExists),
            Error::Database(error) => database(&error),
            Error::Crypto(error) => internal(&error),
        }
    }
}
