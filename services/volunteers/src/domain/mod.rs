//! The volunteers service's rules, without I/O. Each change a desk or a coordinator asks
//! for is decided here over values the store loaded (under the locks it needs) and comes
//! back as what to write and which events it sets off, or as a refusal with its code (the
//! platform's [`Refusal`]): who may sign up for a shift ([`shift`], with
//! [`qualification`]), registering a volunteer and their status ([`volunteer`]), logged
//! and verified hours and milestones ([`hours`]), certifications' expiry notices
//! ([`certification`]), staff employment and training ([`staff`]), the licences staff need to
//! deliver a session ([`licence`]). How candidates for a
//! shift are ranked is [`matching`]; the typed ids and statuses the rest of the service
//! deals in are [`ids`] and [`status`]. Here too: who may do what, and the vocabularies.

pub mod certification;
pub mod hours;
pub mod ids;
pub mod licence;
pub mod matching;
pub mod qualification;
pub mod shift;
pub mod staff;
pub mod status;
pub mod volunteer;

pub use hours::{MILESTONE_HOURS, milestones_reached};
pub use matching::{Fit, Prospect, RECENT_DAYS, Window, availability, reasons, score, skill_fit};
pub use qualification::{Held, disqualifications};
pub use staff::{COVERAGE_TARGET, coverage};
pub use status::{AssignmentStatus, Audience, HourStatus, PersonKind, VolunteerStatus};
pub use volunteer::may_volunteer;

pub use linli_platform::error::Refusal;

use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;
use linli_platform::auth::Role;
use linli_platform::error::{Reason, Violations};
/// Read volunteers, staff, training, shifts and groups.
pub const READERS: &[Role] = &[
    Role::DistrictAdmin,
    Role::CentreManager,
    Role::Coordinator,
    Role::FrontDesk,
    Role::Auditor,
];
/// Register volunteers, sign them up, check them in and out, log hours.
pub const DESK: &[Role] = &[
    Role::DistrictAdmin,
    Role::CentreManager,
    Role::Coordinator,
    Role::FrontDesk,
];
/// Plan opportunities, shifts, training and groups; verify hours.
pub const COORDINATORS: &[Role] = &[Role::DistrictAdmin, Role::CentreManager, Role::Coordinator];
/// Staff records and performance reviews.
pub const MANAGERS: &[Role] = &[Role::DistrictAdmin, Role::CentreManager];
/// Who may log a volunteer's own hours: the desk on their behalf (a partner volunteer
/// association's system logs them with the `volunteers.hours:write` scope instead); a
/// coordinator verifies them either way.
pub const HOUR_LOGGERS: &[Role] = &[
    Role::DistrictAdmin,
    Role::CentreManager,
    Role::Coordinator,
    Role::FrontDesk,
];

pub const POSITIONS: [&str; 6] = [
    "government_affairs_clerk",
    "nurse",
    "doctor",
    "teacher",
    "social_worker",
    "manager",
];
/// The fields of a volunteer's profile a correction can name.
pub const PROFILE_FIELDS: [&str; 6] = [
    "display_name",
    "skills",
    "languages",
    "availability",
    "background_checked",
    "background_checked_on",
];

/// The profile fields a correction names, from a field mask's paths; an unknown name is
/// reported under `update_mask`.
pub fn profile_fields(paths: &[String], v: &mut Violations) -> Vec<&'static str> {
    let mut fields = Vec::new();
    for path in paths {
        match PROFILE_FIELDS.iter().find(|field| **field == path.trim()) {
            Some(field) if !fields.contains(field) => fields.push(*field),
            Some(_) => {}
            None => v.push(
                "update_mask",
                Reason::new(
                    "mask.unknown_field",
                    format!(
                        "`{path}` is not a field of a volunteer's profile; the fields are {}",
                        PROFILE_FIELDS.join(", ")
                    ),
                ),
            ),
        }
    }
    fields
}
pub const GROUP_KINDS: [&str; 3] = ["art_team", "volunteer_group", "interest_group"];
pub const MEMBER_ROLES: [&str; 2] = ["leader", "member"];

/// A centre's groups have names of their own (the table's key says so; this is its answer).
pub fn group_name_taken(name: &str) -> Refusal {
    Refusal::Conflict(Reason::new(
        "group.name_taken",
        format!("the centre already has a group named {name}"),
    ))
}

/// The words of [`VolunteerStatus`], for a request's field.
pub const VOLUNTEER_STATUSES: [&str; 3] = ["active", "paused", "left"];
/// The words of [`Audience`], for a request's field.
pub const AUDIENCES: [&str; 3] = ["staff", "volunteers", "all"];

pub fn parse_date(field: &str, text: &str, v: &mut Violations) -> Option<NaiveDate> {
    match NaiveDate::parse_from_str(text, "%Y-%m-%d") {
        Ok(date) => Some(date),
        Err(_) => {
            v.push(field, Reason::new("date", "must be a date YYYY-MM-DD"));
            None
        }
    }
}

/// An optional date: empty is `None`.
pub fn parse_optional_date(field: &str, text: &str, v: &mut Violations) -> Option<NaiveDate> {
    if text.is_empty() {
        None
    } else {
        parse_date(field, text, v)
    }
}

/// Lower-case words such as `first_aid` or `sign_language`: the vocabulary of skills,
/// languages and certification kinds.
pub fn tags(field: &str, values: &[String], v: &mut Violations) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for (i, value) in values.iter().enumerate() {
        let value = value.trim().to_lowercase();
        let ok = (2..=50).contains(&value.len())
            && value
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-');
        if !ok {
            v.push(
                format!("{field}[{i}]"),
                Reason::new(
                    "code.format",
                    "must be 2 to 50 lower-case letters, digits, _ or -",
                ),
            );
        } else if !out.contains(&value) {
            out.push(value);
        }
    }
    out
}

/// The calendar day an instant falls on in the centre's zone.
pub fn local_date(zone: Tz, at: DateTime<Utc>) -> NaiveDate {
    at.with_timezone(&zone).date_naive()
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A date written as YYYY-MM-DD, for the rules' tests.
    pub(crate) fn day(text: &str) -> NaiveDate {
        NaiveDate::parse_from_str(text, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn the_request_vocabularies_are_the_statuses_words() {
        let statuses: Vec<&str> = VolunteerStatus::ALL.iter().map(|s| s.as_str()).collect();
        assert_eq!(statuses, VOLUNTEER_STATUSES);
        let audiences: Vec<&str> = Audience::ALL.iter().map(|a| a.as_str()).collect();
        assert_eq!(audiences, AUDIENCES);
    }
}
