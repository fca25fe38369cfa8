//! How the messages the gateway answers as they are (`build.rs`'s `JSON`) read in JSON:
//! the one rule for times on the wire (RFC 3339, UTC) and text given as null when empty.

use chrono::{DateTime, SecondsFormat};
use prost_types::Timestamp;
use serde::{Deserialize, Deserializer, Serializer};

/// `t` as RFC 3339 text in UTC, to `format`'s precision.
pub fn rfc3339(t: &Timestamp, format: SecondsFormat) -> String {
    DateTime::from_timestamp(t.seconds, t.nanos.max(0) as u32)
        .map(|t| t.to_rfc3339_opts(format, true))
        .unwrap_or_default()
}

/// A time to the second (the services' times for people: sessions, shifts, answers); null
/// when absent.
pub mod time {
    use super::*;

    pub fn serialize<S: Serializer>(t: &Option<Timestamp>, s: S) -> Result<S::Ok, S::Error> {
        match t {
            Some(t) => s.serialize_str(&rfc3339(t, SecondsFormat::Secs)),
            None => s.serialize_none(),
        }
    }
}

/// A time to the microsecond (records: registrations, consents, journal entries); null
/// when absent.
pub mod micros {
    use super::*;

    pub fn serialize<S: Serializer>(t: &Option<Timestamp>, s: S) -> Result<S::Ok, S::Error> {
        match t {
            Some(t) => s.serialize_str(&rfc3339(t, SecondsFormat::Micros)),
            None => s.serialize_none(),
        }
    }
}

/// Text the API gives as null when it is empty, and takes as empty from null.
pub mod empty_as_null {
    use super::*;

    pub fn serialize<S: Serializer>(text: &str, s: S) -> Result<S::Ok, S::Error> {
        match text {
            "" => s.serialize_none(),
            text => s.serialize_str(text),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
        Ok(Option::<String>::deserialize(d)?.unwrap_or_default())
    }
}
