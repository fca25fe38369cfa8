//! The one way services turn failures into gRPC status codes. Bad input becomes
//! `InvalidArgument` carrying a `BadRequest` detail that names each field and why; an
//! unexpected failure is logged here with its cause and leaves as a bare `Internal`, so
//! nothing internal (or personal) reaches the caller. [`Error`] is the error of a service
//! whose refusals are the common ones (bookings, volunteers), with its one mapping.

use tonic::{Code, Status};
use tonic_types::{ErrorDetails, StatusExt};

use crate::auth::AuthError;
use crate::crypto::CryptoError;

/// What a service call can fail with, when the service has no refusal of its own kind.
/// Messages name things, times and rules, never a person's name, phone or ID number.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Invalid(#[from] Violations),
    #[error(transparent)]
    Denied(#[from] AuthError),
    #[error("{0} not found")]
    NotFound(&'static str),
    /// The person may not take this on (a rule of eligibility or qualification); the words,
    /// which the service begins with what it calls it ("not eligible: …", "not qualified:
    /// …"), are for the desk to read out.
    #[error("{0}")]
    Ineligible(String),
    /// A clash with something already recorded, named.
    #[error("{0}")]
    Conflict(String),
    /// The thing is not in a state that allows this.
    #[error("{0}")]
    State(String),
    /// A centre, resident, staff member or partner the directory does not know here.
    #[error(transparent)]
    Directory(#[from] crate::directory::Error),
    #[error(transparent)]
    Database(#[from] sqlx::Error),
    #[error(transparent)]
    Crypto(#[from] CryptoError),
}

impl Error {
    /// A deadlock or serialization failure: the whole transaction may simply run again.
    pub fn is_retryable(&self) -> bool {
        matches!(self, Error::Database(sqlx::Error::Database(db))
            if db.code().is_some_and(|code| matches!(code.as_ref(), "40001" | "40P01")))
    }
}

impl From<Error> for Status {
    fn from(error: Error) -> Self {
        match error {
            Error::Invalid(violations) => violations.into(),
            Error::Denied(denied) => denied.into(),
            Error::NotFound(what) => Status::not_found(format!("{what} not found")),
            Error::Ineligible(message) | Error::State(message) => {
                Status::failed_precondition(message)
            }
            Error::Conflict(message) => Status::already_exists(message),
            Error::Directory(error) => error.into(),
            Error::Database(error) => database(&error),
            Error::Crypto(error) => internal(&error),
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

/// Whether `error` is the violation of the named table constraint.
pub fn violates(error: &sqlx::Error, constraint: &str) -> bool {
    matches!(error, sqlx::Error::Database(db) if db.constraint() == Some(constraint))
}

/// One field of a request that cannot be accepted, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FieldViolation {
    pub field: String,
    pub reason: String,
}

impl FieldViolation {
    pub fn new(field: impl Into<String>, reason: impl Into<String>) -> Self {
        FieldViolation {
            field: field.into(),
            reason: reason.into(),
        }
    }
}

/// Every problem found with one request, so a caller can fix them all at once.
#[derive(Clone, Debug, Default, PartialEq, Eq, thiserror::Error)]
#[error("invalid request: {}", describe(.0))]
pub struct Violations(pub Vec<FieldViolation>);

fn describe(violations: &[FieldViolation]) -> String {
    violations
        .iter()
        .map(|v| format!("{}: {}", v.field, v.reason))
        .collect::<Vec<_>>()
        .join("; ")
}

impl Violations {
    pub fn one(field: impl Into<String>, reason: impl Into<String>) -> Self {
        Violations(vec![FieldViolation::new(field, reason)])
    }

    pub fn push(&mut self, field: impl Into<String>, reason: impl Into<String>) {
        self.0.push(FieldViolation::new(field, reason));
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// `Ok(value)` when nothing was found wrong.
    pub fn into_result<T>(self, value: impl FnOnce() -> T) -> Result<T, Violations> {
        if self.0.is_empty() {
            Ok(value())
        } else {
            Err(self)
        }
    }
}

impl From<Violations> for Status {
    fn from(violations: Violations) -> Self {
        let mut details = ErrorDetails::new();
        for violation in &violations.0 {
            details.add_bad_request_violation(violation.field.clone(), violation.reason.clone());
        }
        Status::with_error_details(Code::InvalidArgument, violations.to_string(), details)
    }
}

/// A refusal with a stable machine code (`reason`, snake_case) and its parameters, carried
/// as a `google.rpc.ErrorInfo` detail, for the gateway's problem document (`code`,
/// `params`): what a page needs to say it in the reader's language and to link to what the
/// parameters name. Parameters are ids and values, never personal data.
pub fn refusal(
    code: Code,
    message: impl Into<String>,
    reason: &str,
    params: &[(&str, String)],
) -> Status {
    let params: std::collections::HashMap<String, String> = params
        .iter()
        .map(|(name, value)| ((*name).to_owned(), value.clone()))
        .collect();
    Status::with_error_details(
        code,
        message,
        ErrorDetails::with_error_info(reason, "linli", params),
    )
}

/// The code and parameters of a [`refusal`], if the status carries them.
pub fn refusal_of(status: &Status) -> Option<(String, std::collections::BTreeMap<String, String>)> {
    status
        .get_details_error_info()
        .map(|info| (info.reason, info.metadata.into_iter().collect()))
}

/// The field violations inside an `InvalidArgument` status, for the gateway to show.
pub fn violations_of(status: &Status) -> Vec<FieldViolation> {
    status
        .get_details_bad_request()
        .map(|bad| {
            bad.field_violations
                .into_iter()
                .map(|v| FieldViolation::new(v.field, v.description))
                .collect()
        })
        .unwrap_or_default()
}

/// An unexpected failure: logged with its cause, answered without it.
pub fn internal(error: &(dyn std::error::Error + 'static)) -> Status {
    tracing::error!(error = %error_chain(error), "internal error");
    Status::internal("internal error")
}

/// A failed database call as its caller should see it: the database busy or unreachable
/// (a pool that timed out waiting for a connection included) is `Unavailable`, for the
/// caller to try again; text the database cannot store is `InvalidArgument` (a backstop:
/// [`crate::text::Checked`] refuses such text before it gets here, naming the field);
/// anything else is an unexpected failure, logged and answered `Internal`.
pub fn database(error: &sqlx::Error) -> Status {
    if crate::idempotency::is_claim_taken(error) {
        // Never what the caller sees: the idempotency layer answers with the first answer.
        Status::aborted("another request with this Idempotency-Key was applied first")
    } else if is_transient_db_error(error) {
        tracing::warn!(error = %error_chain(error), "database busy or unreachable");
        Status::unavailable("the database is busy or unreachable; try again")
    } else if is_unstorable_text(error) {
        Status::invalid_argument(format!("text {}", crate::text::REASON))
    } else {
        internal(error)
    }
}

/// PostgreSQL's "invalid byte sequence" (SQLSTATE 22021): text it cannot store, such as NUL.
pub fn is_unstorable_text(error: &sqlx::Error) -> bool {
    matches!(error, sqlx::Error::Database(db) if db.code().as_deref() == Some("22021"))
}

/// `error: cause: cause`, for logs.
pub fn error_chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// Database errors that mean the server cannot be reached: the connection failed or the
/// server is shutting down or starting. A busy pool, a deadlock or a serialization failure
/// is not one of them: the server answered.
pub fn is_unreachable_db_error(error: &sqlx::Error) -> bool {
    matches!(
        error,
        sqlx::Error::Io(_)
            | sqlx::Error::PoolClosed
            | sqlx::Error::WorkerCrashed
            | sqlx::Error::Tls(_)
    ) || matches!(error, sqlx::Error::Database(db) if db.code().is_some_and(|code| {
        code.starts_with("08") || matches!(code.as_ref(), "57P01" | "57P02" | "57P03")
    }))
}

/// Database errors worth answering "try again" (Unavailable) rather than Internal: the
/// server is unreachable, the pool is busy, or the transaction lost a deadlock or a
/// serialization conflict.
pub fn is_transient_db_error(error: &sqlx::Error) -> bool {
    matches!(
        error,
        sqlx::Error::Io(_)
            | sqlx::Error::PoolTimedOut
            | sqlx::Error::PoolClosed
            | sqlx::Error::WorkerCrashed
            | sqlx::Error::Tls(_)
    ) || matches!(error, sqlx::Error::Database(db) if db.code().is_some_and(|code| {
        // 57P01 admin shutdown, 57P02 crash shutdown, 57P03 cannot connect now,
        // 08xxx connection exceptions, 40001 serialization failure, 40P01 deadlock.
        code.starts_with("08") || matches!(code.as_ref(), "57P01" | "57P02" | "57P03" | "40001" | "40P01")
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refusal_carries_its_code_and_parameters() {
        let status = refusal(
            Code::AlreadyExists,
            "already registered",
            "resident_probably_registered",
            &[("resident_id", "r-1".to_owned())],
        );
        assert_eq!(status.code(), Code::AlreadyExists);
        let (code, params) = refusal_of(&status).expect("an ErrorInfo");
        assert_eq!(code, "resident_probably_registered");
        assert_eq!(params["resident_id"], "r-1");
        assert!(refusal_of(&Status::not_found("x")).is_none());
    }

    #[test]
    fn violations_travel_inside_invalid_argument() {
        let mut violations = Violations::one("name", "is required");
        violations.push("date_of_birth", "must be YYYY-MM-DD");
        let status = Status::from(violations.clone());
        assert_eq!(status.code(), Code::InvalidArgument);
        assert_eq!(violations_of(&status), violations.0);
    }
}
