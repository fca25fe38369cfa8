//! Finance's errors and their one mapping to gRPC status codes. The database's own refusals
//! (a closed period, a second reversal) are recognised here by their SQLSTATE or
//! constraint, so the ledger's triggers and the caller's answer agree.

use linli_platform::auth::AuthError;
use linli_platform::error::{Violations, database, internal};
use tonic::Status;

/// SQLSTATEs raised by the ledger's triggers (see the migrations).
pub const UNBALANCED: &str = "LN001";
pub const IMMUTABLE: &str = "LN002";
pub const PERIOD_CLOSED: &str = "LN003";

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Invalid(#[from] Violations),
    #[error(transparent)]
    Denied(#[from] AuthError),
    #[error("{0} not found")]
    NotFound(&'static str),
    #[error("{0}")]
    PeriodClosed(String),
    #[error("the entry has already been reversed")]
    AlreadyReversed,
    #[error("a reversal cannot itself be reversed; post a new entry instead")]
    ReversalOfReversal,
    #[error("the period is already closed")]
    AlreadyClosed,
    /// Months close in order: `first` is open and must close before `month`.
    #[error("{first} must be closed before {month}: months close in order")]
    OutOfOrder { month: String, first: String },
    #[error("the ledger refused the change: {0}")]
    LedgerRefused(String),
    #[error("database: {0}")]
    Database(sqlx::Error),
    #[error(transparent)]
    Crypto(#[from] linli_platform::crypto::CryptoError),
    /// A centre, resident or partner the directory does not know here.
    #[error(transparent)]
    Directory(#[from] linli_platform::directory::Error),
}

impl From<sqlx::Error> for Error {
    fn from(error: sqlx::Error) -> Self {
        if let sqlx::Error::Database(db) = &error {
            match db.code().as_deref() {
                Some(PERIOD_CLOSED) => return Error::PeriodClosed(db.message().to_owned()),
                Some(UNBALANCED) | Some(IMMUTABLE) => {
                    return Error::LedgerRefused(db.message().to_owned());
                }
                _ => {}
            }
            if db.constraint() == Some("journal_entries_reverses_key") {
                return Error::AlreadyReversed;
            }
        }
        Error::Database(error)
    }
}

impl From<Error> for Status {
    fn from(error: Error) -> Self {
        match error {
            Error::Invalid(violations) => violations.into(),
            Error::Denied(denied) => denied.into(),
            Error::NotFound(what) => Status::not_found(format!("{what} not found")),
            Error::PeriodClosed(_)
            | Error::AlreadyReversed
            | Error::ReversalOfReversal
            | Error::AlreadyClosed
            | Error::OutOfOrder { .. }
            | Error::LedgerRefused(_) => Status::failed_precondition(error.to_string()),
            // Busy or unreachable: nothing was written, and the caller may try again.
            Error::Database(error) => database(&error),
            Error::Crypto(error) => internal(&error),
            Error::Directory(error) => error.into(),
        }
    }
}
