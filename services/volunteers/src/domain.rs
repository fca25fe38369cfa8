//! The volunteers service's rules, without I/O: who may do what, the vocabularies, whether
//! a volunteer qualifies for a shift (certifications valid on the shift's day, a background
//! check for work with minors), how weekly availability reads in the centre's time zone,
//! how candidates are ranked, milestones and training coverage.

use chrono::{DateTime, Datelike, NaiveDate, NaiveTime, Utc};
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
pub const VOLUNTEER_STATUSES: [&str; 3] = ["active", "paused", "left"];
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
pub const AUDIENCES: [&str; 3] = ["staff", "volunteers", "all"];
pub const MEMBER_ROLES: [&str; 2] = ["leader", "member"];
/// Verified hours that are recognised, each once.
pub const MILESTONE_HOURS: [i32; 3] = [50, 100, 500];
/// The plan's training-coverage target.
pub const COVERAGE_TARGET: f64 = 0.9;
/// How far back "recent load" looks when ranking candidates.
pub const RECENT_DAYS: i64 = 30;

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

/// A weekly window in the centre's time zone.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Window {
    pub weekday: u32,
    pub starts: NaiveTime,
    pub ends: NaiveTime,
}

impl Window {
    pub fn parse(
        i: usize,
        weekday: i32,
        starts: &str,
        ends: &str,
        v: &mut Violations,
    ) -> Option<Window> {
        let field = format!("availability[{i}]");
        let time = |text: &str| NaiveTime::parse_from_str(text, "%H:%M").ok();
        if !(1..=7).contains(&weekday) {
            v.push(
                format!("{field}.weekday"),
                Reason::new("weekdays", "must be 1 (Monday) to 7 (Sunday)"),
            );
            return None;
        }
        match (time(starts), time(ends)) {
            (Some(starts), Some(ends)) if ends > starts => Some(Window {
                weekday: weekday as u32,
                starts,
                ends,
            }),
            (Some(_), Some(_)) => {
                v.push(format!("{field}.ends"), Reason::after("starts"));
                None
            }
            _ => {
                v.push(
                    field,
                    Reason::new("time_of_day", "starts and ends must be HH:MM"),
                );
                None
            }
        }
    }
}

/// How a volunteer's weekly windows meet a shift.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fit {
    /// One window covers the whole shift.
    Whole,
    /// A window overlaps part of it.
    Part,
    None,
}

/// Reads the shift in the centre's zone and compares it with the weekly windows. A shift
/// running past midnight is covered only in part at best.
pub fn availability(
    windows: &[Window],
    zone: Tz,
    starts: DateTime<Utc>,
    ends: DateTime<Utc>,
) -> Fit {
    let (start, end) = (starts.with_timezone(&zone), ends.with_timezone(&zone));
    let day = start.weekday().number_from_monday();
    let (from, to) = (start.time(), end.time());
    let same_day = start.date_naive() == end.date_naive();
    let mut fit = Fit::None;
    for w in windows.iter().filter(|w| w.weekday == day) {
        let (whole, part) = if same_day {
            (
                w.starts <= from && to <= w.ends,
                w.starts < to && w.ends > from,
            )
        } else {
            (false, w.ends > from)
        };
        if whole {
            return Fit::Whole;
        }
        if part {
            fit = Fit::Part;
        }
    }
    fit
}

/// A certification a person holds, as the qualification check needs it.
#[derive(Clone, Debug)]
pub struct Held {
    pub kind: String,
    pub expires_on: Option<NaiveDate>,
}

/// Why a volunteer may not take a shift on `day`, if they may not: each missing or
/// expired certification, and a missing background check for work with minors (each with
/// its code, `match.*`, and parameters). Empty when qualified.
pub fn disqualifications(
    required: &[String],
    held: &[Held],
    works_with_minors: bool,
    background_checked: bool,
    day: NaiveDate,
) -> Vec<Reason> {
    let mut reasons = Vec::new();
    if works_with_minors && !background_checked {
        reasons.push(Reason::new(
            "match.no_background_check",
            "works with minors and has no background check on record",
        ));
    }
    for kind in required {
        let of_kind: Vec<&Held> = held.iter().filter(|h| &h.kind == kind).collect();
        if of_kind.is_empty() {
            reasons.push(
                Reason::new(
                    "match.certification_missing",
                    format!("needs a {kind} certification and holds none"),
                )
                .with("kind", kind),
            );
            continue;
        }
        let valid = of_kind
            .iter()
            .any(|h| h.expires_on.is_none_or(|expires| expires >= day));
        if !valid {
            let last = of_kind.iter().filter_map(|h| h.expires_on).max();
            if let Some(last) = last {
                reasons.push(
                    Reason::new(
                        "match.certification_expired",
                        format!(
                            "{kind} certification expired on {last}, before the shift on {day}"
                        ),
                    )
                    .with("kind", kind)
                    .with("expired_on", last)
                    .with("shift_on", day),
                );
            }
        }
    }
    reasons
}

/// Required skills held / required skills; 1 when none are required.
pub fn skill_fit(required: &[String], held: &[String]) -> f64 {
    if required.is_empty() {
        return 1.0;
    }
    let matched = required.iter().filter(|s| held.contains(s)).count();
    matched as f64 / required.len() as f64
}

/// One volunteer as the ranking sees them.
#[derive(Clone, Debug)]
pub struct Prospect {
    pub skill_fit: f64,
    pub fit: Fit,
    pub recent_minutes: i64,
}

/// A candidate's score: availability first (a whole-shift window is worth more than any
/// skill), then skill fit, then a lighter recent load, so work spreads out.
pub fn score(p: &Prospect) -> f64 {
    let available = match p.fit {
        Fit::Whole => 2.0,
        Fit::Part => 1.0,
        Fit::None => 0.0,
    };
    let load = 1.0 / (1.0 + p.recent_minutes as f64 / 600.0);
    available * 10.0 + p.skill_fit * 3.0 + load
}

/// The reasons behind a candidate's place, each with its code (`match.*`) and parameters
/// and in words a coordinator reads.
pub fn reasons(p: &Prospect, required: &[String], held: &[String]) -> Vec<Reason> {
    let mut out = Vec::new();
    out.push(match p.fit {
        Fit::Whole => Reason::new("match.available_whole", "available for the whole shift"),
        Fit::Part => Reason::new("match.available_part", "available for part of the shift"),
        Fit::None => Reason::new("match.not_available", "no availability window at this time"),
    });
    if !required.is_empty() {
        let missing: Vec<&str> = required
            .iter()
            .filter(|s| !held.contains(s))
            .map(String::as_str)
            .collect();
        if missing.is_empty() {
            out.push(Reason::new("match.has_skills", "has every required skill"));
        } else {
            out.push(
                Reason::new(
                    "match.lacks_skills",
                    format!("lacks {}", missing.join(", ")),
                )
                .with("skills", missing.join(",")),
            );
        }
    }
    let hours = format!("{:.1}", p.recent_minutes as f64 / 60.0);
    out.push(
        Reason::new(
            "match.recent_hours",
            format!("{hours} verified hours in the last {RECENT_DAYS} days"),
        )
        .with("hours", hours)
        .with("days", RECENT_DAYS),
    );
    out
}

/// The milestones a total of verified minutes has reached.
pub fn milestones_reached(total_minutes: i64) -> Vec<i32> {
    MILESTONE_HOURS
        .into_iter()
        .filter(|hours| total_minutes >= i64::from(*hours) * 60)
        .collect()
}

/// Trained / active staff; 0 without active staff.
pub fn coverage(trained: i64, active: i64) -> f64 {
    if active == 0 {
        0.0
    } else {
        trained as f64 / active as f64
    }
}

/// Whether a resident of `age_band` (the registry's band: "0-13", "14-17", "18-59", ...)
/// may register as a volunteer. Under 14 nobody volunteers; 14 to 17 only with a
/// guardian's consent, which the desk records with the registration (the registry's
/// consents are per purpose for the resident's data and carry no guardian for 14-17, so
/// volunteers cannot read one from its events). An unknown band is treated as adult: the
/// registry sends a band with every resident.
pub fn may_volunteer(age_band: &str, guardian_consent: bool) -> Result<(), Violations> {
    match age_band {
        "0-13" => Err(Violations::one(
            "resident_id",
            Reason::new("volunteer.under_14", "a resident under 14 cannot volunteer"),
        )),
        "14-17" if !guardian_consent => Err(Violations::one(
            "guardian_consent",
            Reason::new(
                "volunteer.guardian_consent",
                "a volunteer aged 14 to 17 needs a guardian's consent",
            ),
        )),
        _ => Ok(()),
    }
}

/// The calendar day an instant falls on in the centre's zone.
pub fn local_date(zone: Tz, at: DateTime<Utc>) -> NaiveDate {
    at.with_timezone(&zone).date_naive()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn day(text: &str) -> NaiveDate {
        NaiveDate::parse_from_str(text, "%Y-%m-%d").unwrap()
    }

    fn window(weekday: u32, from: &str, to: &str) -> Window {
        Window {
            weekday,
            starts: NaiveTime::parse_from_str(from, "%H:%M").unwrap(),
            ends: NaiveTime::parse_from_str(to, "%H:%M").unwrap(),
        }
    }

    #[test]
    fn under_fourteen_never_volunteers_and_under_eighteen_only_with_a_guardians_consent() {
        for consent in [false, true] {
            let refused = may_volunteer("0-13", consent).unwrap_err();
            assert_eq!(refused.0[0].field, "resident_id");
        }
        let refused = may_volunteer("14-17", false).unwrap_err();
        assert_eq!(refused.0[0].field, "guardian_consent");
        assert!(may_volunteer("14-17", true).is_ok());
        for adult in ["18-59", "60-79", "80+"] {
            assert!(may_volunteer(adult, false).is_ok());
        }
    }

    #[test]
    fn an_expired_certification_is_named_with_its_date_and_the_shifts() {
        let held = [Held {
            kind: "first_aid".into(),
            expires_on: Some(day("2027-03-01")),
        }];
        let reasons =
            disqualifications(&["first_aid".into()], &held, false, true, day("2027-03-02"));
        let english: Vec<&str> = reasons.iter().map(|r| r.english.as_str()).collect();
        assert_eq!(
            english,
            ["first_aid certification expired on 2027-03-01, before the shift on 2027-03-02"]
        );
        assert_eq!(reasons[0].code, "match.certification_expired");
        assert_eq!(reasons[0].param("expired_on"), Some("2027-03-01"));
        assert!(
            disqualifications(&["first_aid".into()], &held, false, true, day("2027-03-01"))
                .is_empty()
        );
    }

    #[test]
    fn a_missing_certification_and_background_check_are_both_named() {
        let reasons = disqualifications(&["first_aid".into()], &[], true, false, day("2027-03-02"));
        assert_eq!(reasons.len(), 2);
        assert!(reasons[1].english.contains("holds none"));
        assert_eq!(reasons[0].code, "match.no_background_check");
        assert_eq!(reasons[1].code, "match.certification_missing");
        assert_eq!(reasons[1].param("kind"), Some("first_aid"));
    }

    #[test]
    fn availability_is_read_in_the_centres_zone() {
        let zone = chrono_tz::Asia::Shanghai;
        // Tuesday 2027-03-02 09:00–11:00 in Shanghai is 01:00–03:00 UTC.
        let starts = Utc.with_ymd_and_hms(2027, 3, 2, 1, 0, 0).unwrap();
        let ends = Utc.with_ymd_and_hms(2027, 3, 2, 3, 0, 0).unwrap();
        assert_eq!(
            availability(&[window(2, "08:00", "12:00")], zone, starts, ends),
            Fit::Whole
        );
        assert_eq!(
            availability(&[window(2, "10:00", "12:00")], zone, starts, ends),
            Fit::Part
        );
        assert_eq!(
            availability(&[window(2, "13:00", "17:00")], zone, starts, ends),
            Fit::None
        );
        assert_eq!(
            availability(&[window(3, "08:00", "12:00")], zone, starts, ends),
            Fit::None
        );
    }

    #[test]
    fn availability_outranks_skills_and_a_light_load_breaks_ties() {
        let free = Prospect {
            skill_fit: 0.0,
            fit: Fit::Whole,
            recent_minutes: 0,
        };
        let skilled = Prospect {
            skill_fit: 1.0,
            fit: Fit::None,
            recent_minutes: 0,
        };
        assert!(score(&free) > score(&skilled));
        let busy = Prospect {
            skill_fit: 1.0,
            fit: Fit::Whole,
            recent_minutes: 6000,
        };
        let rested = Prospect {
            recent_minutes: 0,
            ..busy.clone()
        };
        assert!(score(&rested) > score(&busy));
    }

    #[test]
    fn milestones_are_50_100_and_500_hours() {
        assert!(milestones_reached(49 * 60 + 59).is_empty());
        assert_eq!(milestones_reached(100 * 60), [50, 100]);
        assert_eq!(milestones_reached(600 * 60), [50, 100, 500]);
    }
}
