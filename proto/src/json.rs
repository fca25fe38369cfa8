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

    /// From RFC 3339 text with its offset; null, absent or empty is no time. A bad time
    /// is refused in the words a field error says it in (the gateway names the field).
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Timestamp>, D::Error> {
        let Some(text) = Option::<String>::deserialize(d)?.filter(|t| !t.is_empty()) else {
            return Ok(None);
        };
        let at = DateTime::parse_from_rfc3339(&text).map_err(|_| {
            serde::de::Error::custom(format!(
                "{MUST_BE}an RFC 3339 time, e.g. 2027-03-01T09:00:00+08:00"
            ))
        })?;
        Ok(Some(Timestamp {
            seconds: at.timestamp(),
            nanos: at.timestamp_subsec_nanos() as i32,
        }))
    }
}

/// How a value's own rule words its refusal (`must be …`): the gateway answers such an
/// error as the field's (400, naming it), any other as a body it could not read.
pub const MUST_BE: &str = "must be ";

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

/// A number the services send as 0 for none (a waitlist place, a series' count), given as
/// null then, and taken as 0 from null.
pub mod zero_as_null {
    use super::*;

    pub fn serialize<S: Serializer>(n: &i32, s: S) -> Result<S::Ok, S::Error> {
        match n {
            0 => s.serialize_none(),
            n => s.serialize_i32(*n),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<i32, D::Error> {
        Ok(Option::<i32>::deserialize(d)?.unwrap_or_default())
    }
}

/// Whether a member holds nothing (an empty text or list, an absent value): such members
/// are left out of the JSON (`~` in `build.rs`).
pub fn absent<T: Absent>(value: &T) -> bool {
    value.absent()
}

pub trait Absent {
    fn absent(&self) -> bool;
}

impl Absent for String {
    fn absent(&self) -> bool {
        self.is_empty()
    }
}

impl<T> Absent for Vec<T> {
    fn absent(&self) -> bool {
        self.is_empty()
    }
}

impl<T> Absent for Option<T> {
    fn absent(&self) -> bool {
        self.is_none()
    }
}

/// A resident's gender as `male` or `female` (`unspecified` for neither), and taken from
/// those names (anything else is unspecified, which the registry refuses in its words).
pub mod gender {
    use super::*;
    use crate::registry::v1::Gender;

    pub fn serialize<S: Serializer>(n: &i32, s: S) -> Result<S::Ok, S::Error> {
        match lower_name::<Gender>(*n) {
            name if name.is_empty() => s.serialize_str("unspecified"),
            name => s.serialize_str(&name),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<i32, D::Error> {
        Ok(number_of::<Gender>(&String::deserialize(d)?))
    }
}

/// A service's enum whose values travel as their lower-case names: the value's name
/// without the enum's prefix (`OFFERING_KIND_RECURRING_CARE` is `recurring_care`).
pub trait Named: Sized + TryFrom<i32> + Into<i32> {
    const PREFIX: &'static str;
    fn upper(self) -> &'static str;
    fn from_upper(name: &str) -> Option<Self>;
}

macro_rules! named {
    ($($e:ty = $prefix:literal),* $(,)?) => {$(
        impl Named for $e {
            const PREFIX: &'static str = $prefix;
            fn upper(self) -> &'static str {
                self.as_str_name()
            }
            fn from_upper(name: &str) -> Option<Self> {
                Self::from_str_name(name)
            }
        }
    )*};
}

named!(
    crate::bookings::v1::OfferingKind = "OFFERING_KIND_",
    crate::bookings::v1::BookingStatus = "BOOKING_STATUS_",
    crate::registry::v1::Gender = "GENDER_",
    crate::bookings::v1::Scope = "SCOPE_",
);

/// The name of `number`; empty for the unspecified value (0) and any the enum lacks.
pub fn lower_name<E: Named>(number: i32) -> String {
    match E::try_from(number) {
        Ok(e) if number != 0 => (e.upper().strip_prefix(E::PREFIX))
            .unwrap_or_default()
            .to_ascii_lowercase(),
        _ => String::new(),
    }
}

/// The number of a lower-case `name`; 0 (unspecified) for one the enum lacks, which the
/// caller refuses in its own words.
pub fn number_of<E: Named>(name: &str) -> i32 {
    if name.is_empty() || name.bytes().any(|b| b.is_ascii_uppercase()) {
        return 0;
    }
    let upper = format!("{}{}", E::PREFIX, name.to_ascii_uppercase());
    E::from_upper(&upper).map_or(0, Into::into)
}

/// Every name of the enum but the unspecified one, in number order.
pub fn lower_names<E: Named>() -> Vec<String> {
    (1..)
        .map_while(|n| E::try_from(n).ok().map(|_| lower_name::<E>(n)))
        .collect()
}

/// An enum field as its name (see [`Named`]).
pub mod lower {
    use super::*;

    pub fn serialize<E: Named, S: Serializer>(n: &i32, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&lower_name::<E>(*n))
    }

    /// Empty is the unspecified value; a name the enum lacks is refused, naming them all.
    pub fn deserialize<'de, E: Named, D: Deserializer<'de>>(d: D) -> Result<i32, D::Error> {
        let name = Option::<String>::deserialize(d)?.unwrap_or_default();
        match number_of::<E>(&name) {
            0 if !name.is_empty() => Err(serde::de::Error::custom(one_of::<E>())),
            number => Ok(number),
        }
    }
}

/// How a field of the enum is refused when it holds no name of it: `must be a, b or c`.
pub fn one_of<E: Named>() -> String {
    let all = lower_names::<E>();
    let (last, rest) = all.split_last().expect("an enum has names");
    format!("{MUST_BE}{} or {last}", rest.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bookings::v1::{Booking, BookingStatus, OfferingKind, Seat};
    use serde_json::json;

    #[test]
    fn enums_travel_as_their_lower_case_names() {
        assert_eq!(lower_name::<OfferingKind>(5), "recurring_care");
        assert_eq!(lower_name::<BookingStatus>(0), "");
        assert_eq!(lower_name::<BookingStatus>(99), "");
        assert_eq!(number_of::<BookingStatus>("no_show"), 5);
        assert_eq!(number_of::<BookingStatus>("NO_SHOW"), 0);
        assert_eq!(number_of::<BookingStatus>("unspecified"), 0);
        assert_eq!(
            lower_names::<OfferingKind>(),
            [
                "appointment",
                "facility",
                "course",
                "event",
                "recurring_care"
            ]
        );
    }

    #[test]
    fn a_booking_reads_as_the_api_always_gave_it() {
        let at = |seconds| Some(Timestamp { seconds, nanos: 5 });
        let seat = Seat {
            session_id: "s".into(),
            starts_at: at(1_800_000_000),
            state: "held".into(),
            check_in_opens_at: at(1),
            ..Default::default()
        };
        let booking = Booking {
            id: "b".into(),
            centre_id: "c".into(),
            status: BookingStatus::Waitlisted as i32,
            seats: vec![seat],
            fee_minor: 2000,
            created_at: at(1_800_000_000),
            check_in_opens_at: at(1),
            ..Default::default()
        };
        let expected = json!({
            "id": "b", "offering_id": "", "resident_id": null, "status": "waitlisted",
            "waitlist_position": null, "facility_id": null, "starts_at": null, "ends_at": null,
            "fee_minor": 2000, "currency": "", "concession": null, "cancel_reason": null,
            "created_at": "2027-01-15T08:00:00Z", "note": "",
            "seats": [{ "session_id": "s", "starts_at": "2027-01-15T08:00:00Z", "ends_at": null, "state": "held" }],
        });
        assert_eq!(serde_json::to_value(&booking).unwrap(), expected);
        let promoted = Booking {
            waitlist_position: 2,
            promoted_resident_ids: vec!["r".into()],
            ..booking
        };
        let value = serde_json::to_value(&promoted).unwrap();
        assert_eq!(
            (
                value["waitlist_position"].clone(),
                value["promoted_resident_ids"].clone()
            ),
            (json!(2), json!(["r"]))
        );
    }
}
