//! What every service's gRPC surface does to its fields: ids checked with a clear field
//! error, and times carried as protobuf timestamps.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::error::{Reason, Violations};

/// A required id.
pub fn parse_id(field: &str, text: &str) -> Result<Uuid, Violations> {
    Uuid::parse_str(text.trim()).map_err(|_| Violations::one(field, Reason::uuid()))
}

/// An id that may be left empty.
pub fn optional_id(field: &str, text: &str) -> Result<Option<Uuid>, Violations> {
    if text.trim().is_empty() {
        Ok(None)
    } else {
        parse_id(field, text).map(Some)
    }
}

/// A time that may be absent; a present one must be representable.
pub fn instant(
    field: &str,
    at: Option<&prost_types::Timestamp>,
) -> Result<Option<DateTime<Utc>>, Violations> {
    match at {
        None => Ok(None),
        Some(t) => DateTime::<Utc>::from_timestamp(t.seconds, t.nanos.max(0) as u32)
            .map(Some)
            .ok_or_else(|| Violations::one(field, Reason::instant())),
    }
}

pub fn timestamp(at: DateTime<Utc>) -> prost_types::Timestamp {
    prost_types::Timestamp {
        seconds: at.timestamp(),
        nanos: at.timestamp_subsec_nanos() as i32,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_and_times_are_checked_with_the_field_named() {
        assert!(optional_id("resident_id", " ").unwrap().is_none());
        assert_eq!(
            parse_id("centre_id", "nope").unwrap_err().0[0].field,
            "centre_id"
        );
        let at = DateTime::from_timestamp(1_800_000_000, 5).unwrap();
        assert_eq!(instant("at", Some(&timestamp(at))).unwrap(), Some(at));
        let bad = prost_types::Timestamp {
            seconds: i64::MAX,
            nanos: 0,
        };
        assert!(instant("at", Some(&bad)).is_err());
    }
}
