//! Finance's errors and their one mapping to gRPC status codes, each refusal with its
//! stable code (the platform's [`Reason`]). The database's own refusals (a closed period, a
//! second reversal) are recognised here by their SQLSTATE or constraint, so the ledger's
//! triggers and the caller's answer agree; that recognition (a `From<sqlx::Error>` of its
//! own) is why finance keeps this enum beside the platform's `Error`.

use linli_platform::auth::AuthError;
use linli_platform::error::{Reason, Violations, database, internal, not_found};
use tonic::{Code, Status};

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
            Error::NotFound(what) => not_found(what),
            Error::PeriodClosed(ref message) => {
                // The trigger names the month: "the period 2026-11 is closed".
                let month = message
                    .split_whitespace()
                    .find(|word| word.len() == 7 && word.as_bytes()[4] == b'-')
                    .unwrap_or_default()
                    .to_owned();
                Reason::new("period.closed", error.to_string())
                    .with("period", month)
                    .into_status(Code::FailedPrecondition)
            }
            Error::AlreadyReversed => Reason::new("entry.already_reversed", error.to_string())
                .into_status(Code::FailedPrecondition),
            Error::ReversalOfReversal => {
                Reason::new("entry.reversal_of_reversal", error.to_string())
                    .into_status(Code::FailedPrecondition)
            }
            Error::AlreadyClosed => Reason::new("period.already_closed", error.to_string())
                .into_status(Code::FailedPrecondition),
            Error::OutOfOrder {
                ref month,
                ref first,
            } => Reason::new("period.out_of_order", error.to_string())
                .with("period", month)
                .with("first_open", first)
                .into_status(Code::FailedPrecondition),
            Error::LedgerRefused(_) => Reason::new("ledger.refused", error.to_string())
                .into_status(Code::FailedPrecondition),
            // Busy or unreachable: nothing was written, and the caller may try again.
            Error::Database(error) => database(&error),
            Error::Crypto(error) => internal(&error),
            Error::Directory(error) => error.into(),
        }
    }
}
