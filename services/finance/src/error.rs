//! Finance's errors are the platform's ([`linli_platform::error::Error`], with its one
//! mapping to gRPC status codes); its refusals are its domain's, each with its code. The
//! ledger's own refusals (its triggers' SQLSTATEs, the unique index on reversals) are
//! recognised here, where the store writes the ledger ([`ledger`]), so the triggers and
//! the caller's answer agree.

pub use linli_platform::error::Error;

use crate::domain::entry;

/// SQLSTATEs raised by the ledger's triggers (see the migrations).
pub const UNBALANCED: &str = "LN001";
pub const IMMUTABLE: &str = "LN002";
pub const PERIOD_CLOSED: &str = "LN003";

/// A failed write to the ledger as the caller should see it: a trigger's or the reversal
/// index's refusal as the domain words it, anything else the database's failure.
pub fn ledger(error: sqlx::Error) -> Error {
    if let sqlx::Error::Database(db) = &error {
        match db.code().as_deref() {
            Some(PERIOD_CLOSED) => return entry::period_closed(db.message()).into(),
            Some(UNBALANCED) | Some(IMMUTABLE) => {
                return entry::ledger_refused(db.message()).into();
            }
            _ => {}
        }
        if db.constraint() == Some("journal_entries_reverses_key") {
            return entry::already_reversed().into();
        }
    }
    Error::Database(error)
}
