//! Reading an event's fields. A field that cannot be read (an id that is not a UUID, a
//! date that is not one, a time left out) will never read better on a later delivery: the
//! error is permanent, so the message goes to the dead-letter queue at once, naming the
//! field. Every consumer reads its events' fields through these.

use chrono::{DateTime, NaiveDate, Utc};
use uuid::Uuid;

use super::HandlerError;

/// A required id.
pub fn id(field: &str, text: &str) -> Result<Uuid, HandlerError> {
    Uuid::parse_str(text).map_err(|_| HandlerError::Permanent(format!("{field} is not a UUID")))
}

/// An id that may be left empty.
pub fn optional_id(field: &str, text: &str) -> Result<Option<Uuid>, HandlerError> {
    if text.is_empty() {
        Ok(None)
    } else {
        id(field, text).map(Some)
    }
}

/// A calendar date, `YYYY-MM-DD`.
pub fn date(field: &str, text: &str) -> Result<NaiveDate, HandlerError> {
    NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .map_err(|_| HandlerError::Permanent(format!("{field} is not a date")))
}

/// A required instant.
pub fn instant(
    field: &str,
    at: Option<&prost_types::Timestamp>,
) -> Result<DateTime<Utc>, HandlerError> {
    at.and_then(|t| DateTime::<Utc>::from_timestamp(t.seconds, t.nanos.max(0) as u32))
        .ok_or_else(|| HandlerError::Permanent(format!("{field} is missing")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unreadable_field_is_permanent_and_named() {
        let refused = |result: Result<(), HandlerError>| match result {
            Err(HandlerError::Permanent(message)) => message,
            other => panic!("expected a permanent error, got {other:?}"),
        };
        assert_eq!(
            refused(id("resident_id", "r-1").map(drop)),
            "resident_id is not a UUID"
        );
        assert_eq!(
            refused(date("valid_from", "2026-13-01").map(drop)),
            "valid_from is not a date"
        );
        assert_eq!(
            refused(instant("charged_at", None).map(drop)),
            "charged_at is missing"
        );
        assert_eq!(optional_id("staff_id", "").ok(), Some(None));
        let known = Uuid::new_v4();
        assert_eq!(id("centre_id", &known.to_string()).ok(), Some(known));
    }
}
