//! The volunteers service's errors and their one mapping to gRPC status codes. Messages
//! name shifts, certifications and dates, never a person's name, phone or ID number.

use linli_platform::auth::AuthError;
use linli_platform::error::{Violations, database};
use tonic::Status;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Invalid(#[from] Violations),
    #[error(transparent)]
    Denied(#[from] AuthError),
    #[error("{0} not found")]
    NotFound(&'static str),
    /// The person may not take this on; the reason is for the coordinator to read out.
    #[error("not qualified: {0}")]
    Ineligible(String),
    /// A clash with something already recorded, named.
    #[error("{0}")]
    Conflict(String),
    /// The thing is not in a state that allows this.
    #[error("{0}")]
    State(String),
    /// A centre, resident, staff member or partner the directory does not know here.
    #[error(transparent)]
    Directory(#[from] linli_platform::directory::Error),
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

impl From<Error> for Status {
    fn from(error: Error) -> Self {
        match error {
            Error::Invalid(violations) => violations.into(),
            Error::Denied(denied) => denied.into(),
            Error::NotFound(what) => Status::not_found(format!("{what} not found")),
            Error::Ineligible(_) | Error::State(_) => {
                Status::failed_precondition(error.to_string())
            }
            Error::Conflict(message) => Status::already_exists(message),
            Error::Directory(error) => error.into(),
            Error::Database(error) => database(&error),
        }
    }
}

/// Whether `error` is the violation of the named table constraint.
pub fn violates(error: &sqlx::Error, constraint: &str) -> bool {
    matches!(error, sqlx::Error::Database(db) if db.constraint() == Some(constraint))
}
