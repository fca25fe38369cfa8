//! The one way services turn failures into gRPC status codes. Every refusal carries a
//! stable machine code and its parameters ([`Reason`]), so the gateway can say it in the
//! reader's language; the English words stay for gRPC clients. Bad input becomes
//! `InvalidArgument` carrying a `BadRequest` detail that names each field, its code
//! (`FieldViolation.reason`) and English description, with each field's parameters in the
//! status's `ErrorInfo` metadata as `field_violations[i].name`; a refusal that is not about
//! a field's form carries its code as `ErrorInfo.reason` and its parameters as the
//! metadata. An unexpected failure is logged here with its cause and leaves as a bare
//! `Internal`, so nothing internal (or personal) reaches the caller. [`Error`] is the error
//! of every service, with its one mapping; a service's own refusals are its domain's (or
//! the platform's [`Refusal`]), each a [`Reason`] with its code, made into one of these.

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};

use tonic::{Code, Status};
use tonic_types::{ErrorDetails, StatusExt};

use crate::auth::AuthError;
use crate::crypto::CryptoError;

/// The `ErrorInfo.domain` of Linli's refusals.
pub const DOMAIN: &str = "linli";

/// The code of a bad request as a whole (its fields carry their own codes).
pub const INVALID_REQUEST: &str = "invalid_request";

/// The code of a reason given only as English words (not yet given a code of its own).
pub const UNCODED: &str = "invalid";

/// Why something was refused: a stable machine code (lower snake case, dotted by area,
/// e.g. `ineligible.min_age`), its parameters by name (ids, numbers, dates, codes; never a
/// person's name, phone or ID number), and the English words gRPC clients read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reason {
    pub code: Cow<'static, str>,
    pub params: BTreeMap<String, String>,
    pub english: String,
}

impl std::fmt::Display for Reason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.english)
    }
}

/// Words with no code yet: code [`UNCODED`]. Give a refusal a code with [`Reason::new`].
impl From<&str> for Reason {
    fn from(english: &str) -> Self {
        Reason::new(UNCODED, english)
    }
}

impl From<String> for Reason {
    fn from(english: String) -> Self {
        Reason::new(UNCODED, english)
    }
}

impl Reason {
    pub fn new(code: &'static str, english: impl Into<String>) -> Self {
        Reason {
            code: Cow::Borrowed(code),
            params: BTreeMap::new(),
            english: english.into(),
        }
    }

    /// The same reason with one more parameter.
    pub fn with(mut self, name: &str, value: impl ToString) -> Self {
        self.params.insert(name.to_owned(), value.to_string());
        self
    }

    pub fn param(&self, name: &str) -> Option<&str> {
        self.params.get(name).map(String::as_str)
    }

    // The reasons every service gives about a field's form.

    pub fn required() -> Self {
        Reason::new("required", "is required")
    }

    pub fn uuid() -> Self {
        Reason::new("uuid", "must be a UUID")
    }

    pub fn date() -> Self {
        Reason::new("date", "must be a date as YYYY-MM-DD")
    }

    pub fn month() -> Self {
        Reason::new("month", "must be a month, YYYY-MM")
    }

    pub fn time_of_day() -> Self {
        Reason::new("time_of_day", "must be a time as HH:MM")
    }

    pub fn instant() -> Self {
        Reason::new("instant", "is not a valid time")
    }

    /// Text of `min` to `max` characters.
    pub fn length(min: usize, max: usize) -> Self {
        Reason::new("length", format!("must be {min} to {max} characters"))
            .with("min", min)
            .with("max", max)
    }

    pub fn too_long(max: usize) -> Self {
        Reason::new("too_long", format!("must be at most {max} characters")).with("max", max)
    }

    /// A number from `min` to `max`.
    pub fn between(min: i64, max: i64) -> Self {
        Reason::new("out_of_range", format!("must be between {min} and {max}"))
            .with("min", min)
            .with("max", max)
    }

    /// One of the listed codes (the list is a parameter, comma-separated).
    pub fn one_of(allowed: &[&str]) -> Self {
        let list = allowed.join(", ");
        Reason::new("one_of", format!("must be one of {list}")).with("allowed", list)
    }

    pub fn not_negative() -> Self {
        Reason::new("negative", "must not be negative")
    }

    pub fn positive() -> Self {
        Reason::new("not_positive", "must be a positive amount")
    }

    /// A time or date that must come after the one `other` names.
    pub fn after(other: &str) -> Self {
        Reason::new("not_after", format!("must be after {other}")).with("other", other)
    }

    pub fn not_in_future() -> Self {
        Reason::new("in_future", "must not be in the future")
    }
}

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
    /// The person `field` names may not take this on (a rule of eligibility or
    /// qualification); the English words begin with what the service calls it ("not
    /// eligible: …", "not qualified: …").
    #[error("{reason}")]
    Ineligible { field: &'static str, reason: Reason },
    /// A clash with something already recorded, named.
    #[error("{0}")]
    Conflict(Reason),
    /// The value of `field` is already another's (a national ID, a centre's code): a clash
    /// said beside the field.
    #[error("{reason}")]
    Taken { field: &'static str, reason: Reason },
    /// The thing is not in a state that allows this.
    #[error("{0}")]
    State(Reason),
    /// A centre, resident, staff member or partner the directory does not know here.
    #[error(transparent)]
    Directory(#[from] crate::directory::Error),
    #[error(transparent)]
    Database(#[from] sqlx::Error),
    #[error(transparent)]
    Crypto(#[from] CryptoError),
}

/// A rule's refusal, decided over values without I/O: what a service's domain answers
/// when it says no. The caller's `?` makes it an [`Error`], with that one mapping to gRPC
/// status codes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// A field of the request, and what it must be.
    Invalid {
        field: &'static str,
        reason: Reason,
    },
    NotFound(&'static str),
    /// The field names no resident of this centre the directory knows.
    NotAResident(&'static str),
    /// The person `field` names may not take this on.
    Ineligible {
        field: &'static str,
        reason: Reason,
    },
    /// The thing is not in a state that allows this.
    State(Reason),
    /// A clash with something already recorded.
    Conflict(Reason),
}

impl From<Refusal> for Error {
    fn from(refusal: Refusal) -> Self {
        match refusal {
            Refusal::Invalid { field, reason } => Violations::one(field, reason).into(),
            Refusal::NotFound(what) => Error::NotFound(what),
            Refusal::NotAResident(field) => crate::directory::Error::not_a_resident(field).into(),
            Refusal::Ineligible { field, reason } => Error::Ineligible { field, reason },
            Refusal::State(reason) => Error::State(reason),
            Refusal::Conflict(reason) => Error::Conflict(reason),
        }
    }
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
            Error::NotFound(what) => not_found(what),
            Error::Ineligible { field, reason } => {
                refusal_at(Code::FailedPrecondition, field, reason)
            }
            Error::State(reason) => reason.into_status(Code::FailedPrecondition),
            Error::Conflict(reason) => reason.into_status(Code::AlreadyExists),
            Error::Taken { field, reason } => refusal_at(Code::AlreadyExists, field, reason),
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

/// One field of a request that cannot be accepted, and why: the English words
/// (`reason`), the machine code and its parameters.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FieldViolation {
    pub field: String,
    pub reason: String,
    pub code: String,
    pub params: BTreeMap<String, String>,
}

impl FieldViolation {
    pub fn new(field: impl Into<String>, reason: impl Into<Reason>) -> Self {
        let reason = reason.into();
        FieldViolation {
            field: field.into(),
            reason: reason.english,
            code: reason.code.into_owned(),
            params: reason.params,
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
    pub fn one(field: impl Into<String>, reason: impl Into<Reason>) -> Self {
        Violations(vec![FieldViolation::new(field, reason)])
    }

    pub fn push(&mut self, field: impl Into<String>, reason: impl Into<Reason>) {
        self.0.push(FieldViolation::new(field, reason));
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The value of one field's check, its violations kept with the others' (so a request
    /// is checked whole): `let id = v.check(parse_id("id", &r.id));`.
    pub fn check<T>(&mut self, checked: Result<T, Violations>) -> Option<T> {
        checked.map_err(|e| self.0.extend(e.0)).ok()
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
        with_fields(
            Code::InvalidArgument,
            violations.to_string(),
            INVALID_REQUEST,
            BTreeMap::new(),
            &violations.0,
        )
    }
}

/// A status whose `BadRequest` names `fields` (each with its code as the violation's
/// `reason`) and whose `ErrorInfo` carries `code`, `params` and each field's parameters
/// (`field_violations[i].name`).
pub fn with_fields(
    code: Code,
    message: String,
    reason: &str,
    params: BTreeMap<String, String>,
    fields: &[FieldViolation],
) -> Status {
    let mut metadata: HashMap<String, String> = params.into_iter().collect();
    let mut violations = Vec::with_capacity(fields.len());
    for (i, v) in fields.iter().enumerate() {
        for (name, value) in &v.params {
            metadata.insert(format!("field_violations[{i}].{name}"), value.clone());
        }
        violations.push(tonic_types::FieldViolation {
            field: v.field.clone(),
            description: v.reason.clone(),
            reason: v.code.clone(),
            localized_message: None,
        });
    }
    let mut details = ErrorDetails::with_bad_request(violations);
    details.set_error_info(reason, DOMAIN, metadata);
    Status::with_error_details(code, message, details)
}

impl Reason {
    /// This reason as a status of `code`: the English words as the message, the code and
    /// parameters as its `ErrorInfo`.
    pub fn into_status(self, code: Code) -> Status {
        let metadata: HashMap<String, String> = self.params.into_iter().collect();
        Status::with_error_details(
            code,
            self.english,
            ErrorDetails::with_error_info(self.code, DOMAIN, metadata),
        )
    }
}

/// A refusal about what `field` names (a resident who may not book, a volunteer who may
/// not take a shift): the code and parameters as for [`Reason::into_status`], and the
/// field named with the same code, so a form can say it beside that field.
pub fn refusal_at(code: Code, field: &str, reason: Reason) -> Status {
    let message = reason.english.clone();
    let violation = FieldViolation::new(field, reason.clone());
    with_fields(
        code,
        message,
        &reason.code,
        reason.params,
        std::slice::from_ref(&violation),
    )
}

/// `NOT_FOUND` for the thing named (`offering`, `session`, …): code `not_found`, parameter
/// `what`.
pub fn not_found(what: &str) -> Status {
    Reason::new("not_found", format!("{what} not found"))
        .with("what", what)
        .into_status(Code::NotFound)
}

/// A refusal with a stable machine code (`reason`, snake_case) and its parameters, carried
/// as a `google.rpc.ErrorInfo` detail, for the gateway's problem document (`code`,
/// `params`): what a page needs to say it in the reader's language and to link to what the
/// parameters name. Parameters are ids and values, never personal data.
pub fn refusal(
    code: Code,
    message: impl Into<String>,
    reason: &'static str,
    params: &[(&str, String)],
) -> Status {
    let mut refusal = Reason::new(reason, message);
    for (name, value) in params {
        refusal = refusal.with(name, value);
    }
    refusal.into_status(code)
}

/// The code and parameters of a refusal, if the status carries them (the parameters of
/// its fields left out: [`violations_of`] gives those).
pub fn refusal_of(status: &Status) -> Option<(String, BTreeMap<String, String>)> {
    status.get_details_error_info().map(|info| {
        let params = info
            .metadata
            .into_iter()
            .filter(|(name, _)| !name.starts_with("field_violations["))
            .collect();
        (info.reason, params)
    })
}

/// The field violations inside a status (a bad request's, or a refusal naming its field),
/// each with its code and parameters, for the gateway to show.
pub fn violations_of(status: &Status) -> Vec<FieldViolation> {
    let Some(bad) = status.get_details_bad_request() else {
        return Vec::new();
    };
    let metadata = status
        .get_details_error_info()
        .map(|info| info.metadata)
        .unwrap_or_default();
    bad.field_violations
        .into_iter()
        .enumerate()
        .map(|(i, v)| {
            let prefix = format!("field_violations[{i}].");
            let params = metadata
                .iter()
                .filter_map(|(name, value)| {
                    name.strip_prefix(&prefix)
                        .map(|name| (name.to_owned(), value.clone()))
                })
                .collect();
            FieldViolation {
                field: v.field,
                reason: v.description,
                // A status from before codes (or from elsewhere) names none.
                code: if v.reason.is_empty() {
                    UNCODED.to_owned()
                } else {
                    v.reason
                },
                params,
            }
        })
        .collect()
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
        let mut reason = crate::text::reason();
        reason.english = format!("text {}", crate::text::REASON);
        reason.into_status(Code::InvalidArgument)
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
        let mut violations = Violations::one("name", Reason::required());
        violations.push("note", Reason::too_long(500));
        violations.push("date_of_birth", "looks wrong");
        let status = Status::from(violations.clone());
        assert_eq!(status.code(), Code::InvalidArgument);
        let back = violations_of(&status);
        assert_eq!(back, violations.0);
        assert_eq!(back[1].code, "too_long");
        assert_eq!(back[1].params["max"], "500");
        assert_eq!(back[2].code, UNCODED);
        let (code, params) = refusal_of(&status).expect("an ErrorInfo");
        assert_eq!(code, INVALID_REQUEST);
        assert!(params.is_empty(), "field parameters stay with their field");
    }

    #[test]
    fn a_refusal_about_a_field_names_it_with_its_code() {
        let status = Status::from(Error::Ineligible {
            field: "resident_id",
            reason: Reason::new("ineligible.min_age", "not eligible: ages 60 and over")
                .with("min_age", 60),
        });
        assert_eq!(status.code(), Code::FailedPrecondition);
        assert_eq!(status.message(), "not eligible: ages 60 and over");
        let (code, params) = refusal_of(&status).expect("an ErrorInfo");
        assert_eq!(code, "ineligible.min_age");
        assert_eq!(params["min_age"], "60");
        let fields = violations_of(&status);
        assert_eq!(fields[0].field, "resident_id");
        assert_eq!(fields[0].code, "ineligible.min_age");
        assert_eq!(fields[0].params["min_age"], "60");
    }
}
