//! The limits of what the catalogue and a booking may hold: names, notes, capacities,
//! lengths of time. Rules of the service, not of its transport: the gRPC layer asks here
//! and names the field the caller sent.

use chrono::{DateTime, Duration, Utc};
use linli_platform::error::Reason;
use linli_platform::error::Violations;

use super::Kind;

/// The longest name of an offering or a facility, in characters.
pub const NAME_MAX: usize = 100;
/// The longest note the desk may keep on a booking, in characters.
pub const NOTE_MAX: usize = 500;
/// The most places one offering or session may have.
pub const CAPACITY_MAX: i32 = 10_000;
/// The longest a session may last, and the longest a duration in minutes may be.
pub const SESSION_LONGEST: Duration = Duration::hours(24);
/// The longest stretch a utilisation report covers.
pub const REPORT_LONGEST: Duration = Duration::days(366);
/// What a facility may be.
pub const FACILITY_KINDS: [&str; 2] = ["room", "equipment"];

/// A name of 1 to [`NAME_MAX`] characters (already trimmed).
pub fn check_name(field: &'static str, name: &str, v: &mut Violations) {
    if name.is_empty() || name.chars().count() > NAME_MAX {
        v.push(field, Reason::length(1, 100));
    }
}

pub fn check_note(note: &str, v: &mut Violations) {
    if note.chars().count() > NOTE_MAX {
        v.push("note", Reason::too_long(500));
    }
}

/// An offering's capacity: none for a facility (it is booked by time), at least one place
/// for anything with sessions.
pub fn check_offering_capacity(kind: Option<Kind>, capacity: i32, v: &mut Violations) {
    if !(0..=CAPACITY_MAX).contains(&capacity) {
        v.push("offering.capacity", Reason::between(0, 10000));
    }
    if kind.is_some_and(|k| k != Kind::Facility) && capacity == 0 {
        v.push(
            "offering.capacity",
            Reason::new(
                "too_small",
                "must be at least 1 for an offering with sessions",
            )
            .with("min", 1),
        );
    }
}

/// A session's own capacity, when it differs from its offering's.
pub fn check_session_capacity(capacity: Option<i32>) -> Result<(), Violations> {
    if capacity.is_some_and(|c| !(1..=CAPACITY_MAX).contains(&c)) {
        return Err(Violations::one("capacity", Reason::between(1, 10000)));
    }
    Ok(())
}

/// A session ends after it starts, within [`SESSION_LONGEST`].
pub fn check_session_times(starts: DateTime<Utc>, ends: DateTime<Utc>) -> Result<(), Violations> {
    if ends <= starts || ends - starts > SESSION_LONGEST {
        return Err(Violations::one(
            "ends_at",
            Reason::new(
                "range.within_day",
                "must be after starts_at, within 24 hours",
            ),
        ));
    }
    Ok(())
}

/// A session's new length, in minutes: 1 to a day's.
pub fn check_duration_minutes(minutes: Option<i32>) -> Result<(), Violations> {
    if minutes.is_some_and(|d| !(1..=SESSION_LONGEST.num_minutes() as i32).contains(&d)) {
        return Err(Violations::one(
            "duration_minutes",
            Reason::between(1, 1440),
        ));
    }
    Ok(())
}

/// An ISO currency code as the ledger keeps it.
pub fn check_currency(currency: &str, v: &mut Violations) {
    if currency.len() != 3 || !currency.chars().all(|c| c.is_ascii_uppercase()) {
        v.push(
            "offering.currency",
            Reason::new("currency", "must be a three-letter ISO code such as CNY"),
        );
    }
}

/// The days a facility opens: ISO weekdays.
pub fn check_open_days(days: &[i32], v: &mut Violations) {
    if days.iter().any(|d| !(1..=7).contains(d)) {
        v.push(
            "facility.open_days",
            Reason::new("weekdays", "must be ISO weekdays 1 (Monday) to 7 (Sunday)"),
        );
    }
}

pub fn check_facility_kind(kind: &str, v: &mut Violations) {
    if !FACILITY_KINDS.contains(&kind) {
        v.push(
            "facility.kind",
            Reason::new("one_of", "must be room or equipment"),
        );
    }
}

/// A report's days [from, to): forward, within [`REPORT_LONGEST`].
pub fn check_report_days(from: chrono::NaiveDate, to: chrono::NaiveDate) -> Result<(), Violations> {
    if to <= from || to - from > REPORT_LONGEST {
        return Err(Violations::one(
            "to",
            Reason::new("range.within_year", "must be after from, within a year"),
        ));
    }
    Ok(())
}

/// Whether an offering of `kind` has sessions at all: a facility is booked by time range.
pub fn has_sessions(kind: Kind) -> Result<(), super::booking::Refusal> {
    if kind == Kind::Facility {
        return Err(super::booking::Refusal::State(
            linli_platform::error::Reason::new(
                "offering.facility_has_no_sessions",
                "a facility offering is booked by time range, without sessions",
            ),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_name_the_field_and_the_bound() {
        let mut v = Violations::default();
        check_name("offering.name", &"名".repeat(100), &mut v);
        check_note(&"字".repeat(500), &mut v);
        assert!(v.is_empty());
        check_name("offering.name", "", &mut v);
        check_note(&"字".repeat(501), &mut v);
        check_offering_capacity(Some(Kind::Event), 0, &mut v);
        check_offering_capacity(Some(Kind::Facility), 0, &mut v);
        let fields: Vec<&str> = v.0.iter().map(|f| f.field.as_str()).collect();
        assert_eq!(fields, ["offering.name", "note", "offering.capacity"]);
        assert!(check_duration_minutes(Some(1440)).is_ok());
        assert!(check_duration_minutes(Some(1441)).is_err());
        assert!(has_sessions(Kind::Facility).is_err());
    }
}
