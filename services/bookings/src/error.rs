//! The bookings service's errors and their one mapping to gRPC status codes. Messages
//! name offerings, rooms and times, never a resident's personal data.

use linli_platform::auth::AuthError;
use linli_platform::error::{Violations, database};
use tonic::Status;

use crate::domain::booking::Refusal;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Invalid(#[from] Violations),
    #[error(transparent)]
    Denied(#[from] AuthError),
    #[error("{0} not found")]
    NotFound(&'static str),
    /// The resident may not book this offering; the reason is for the desk to read out.
    #[error("not eligible: {0}")]
    Ineligible(String),
    /// A clash with something already booked, named.
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

impl Error {
    /// A deadlock or serialization failure: the whole transaction may simply run again.
    pub fn is_retryable(&self) -> bool {
        matches!(self, Error::Database(sqlx::Error::Database(db))
            if db.code().is_some_and(|code| matches!(code.as_ref(), "40001" | "40P01")))
    }
}

impl From<Refusal> for Error {
    fn from(refusal: Refusal) -> Self {
        match refusal {
            Refusal::Invalid { field, reason } => Violations::one(field, reason).into(),
            Refusal::NotFound(what) => Error::NotFound(what),
            Refusal::NotAResident(field) => {
                linli_platform::directory::Error::not_a_resident(field).into()
            }
            Refusal::Ineligible(reason) => Error::Ineligible(reason),
            Refusal::State(reason) => Error::State(reason),
            Refusal::Conflict(reason) => Error::Conflict(reason),
        }
    }
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

/// Runs `attempt` again (a few times) when the database chose it as a deadlock victim.
pub async fn retrying<T, F, Fut>(mut attempt: F) -> Result<T, Error>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, Error>>,
{
    let mut tries = 0;
    loop {
        match attempt().await {
            Err(error) if error.is_retryable() && tries < 8 => {
                tries += 1;
                tracing::debug!(tries, "transaction retried after a deadlock");
            }
            result => return result,
        }
    }
}
