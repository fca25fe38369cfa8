//! How a volunteer's weekly availability reads in the centre's time zone, and how the
//! candidates for a shift are ranked and why: availability first, then skills, then a
//! lighter recent load. Skills rank; they never refuse a sign-up (certifications and the
//! background check do: [`super::qualification`]).

use chrono::{DateTime, Datelike, NaiveDate, NaiveTime, Utc};
use chrono_tz::Tz;
use linli_platform::error::{Reason, Violations};

use super::qualification::{Held, disqualifications};

/// How far back "recent load" looks when ranking candidates.
pub const RECENT_DAYS: i64 = 30;

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

/// Where a volunteer already is at a shift's time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Busy {
    Free,
    /// Signed up for this very shift.
    OnThisShift,
    /// On another shift that meets its time.
    Overlapping,
}

/// A shift as matching reads it: what its opportunity needs, and when it is.
#[derive(Clone, Copy, Debug)]
pub struct Opening<'a> {
    pub required_skills: &'a [String],
    pub required_certifications: &'a [String],
    pub works_with_minors: bool,
    pub zone: Tz,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub local_date: NaiveDate,
}

/// One active volunteer as matching reads them.
#[derive(Clone, Copy, Debug)]
pub struct Applicant<'a> {
    pub skills: &'a [String],
    pub windows: &'a [Window],
    pub held: &'a [Held],
    pub background_checked: bool,
    pub recent_minutes: i64,
    pub busy: Busy,
}

/// A volunteer judged for a shift: ranked (a score above 0, with the reasons for their
/// place) or excluded (score 0, with every reason they cannot take it).
#[derive(Clone, Debug)]
pub struct Judged {
    pub prospect: Prospect,
    pub score: f64,
    pub reasons: Vec<Reason>,
}

impl Judged {
    pub fn ranked(&self) -> bool {
        self.score > 0.0
    }
}

/// Judges one volunteer for a shift: excluded when not qualified on its day
/// ([`disqualifications`]) or already busy at its time, otherwise scored ([`score`]).
pub fn judge(opening: &Opening<'_>, applicant: &Applicant<'_>) -> Judged {
    let prospect = Prospect {
        skill_fit: skill_fit(opening.required_skills, applicant.skills),
        fit: availability(
            applicant.windows,
            opening.zone,
            opening.starts_at,
            opening.ends_at,
        ),
        recent_minutes: applicant.recent_minutes,
    };
    let mut why_not = disqualifications(
        opening.required_certifications,
        applicant.held,
        opening.works_with_minors,
        applicant.background_checked,
        opening.local_date,
    );
    match applicant.busy {
        Busy::OnThisShift => why_not.push(Reason::new(
            "match.already_signed_up",
            "already signed up for this shift",
        )),
        Busy::Overlapping => why_not.push(Reason::new(
            "match.overlapping",
            "already on an overlapping shift",
        )),
        Busy::Free => {}
    }
    if why_not.is_empty() {
        Judged {
            score: score(&prospect),
            reasons: reasons(&prospect, opening.required_skills, applicant.skills),
            prospect,
        }
    } else {
        Judged {
            score: 0.0,
            reasons: why_not,
            prospect,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn window(weekday: u32, from: &str, to: &str) -> Window {
        Window {
            weekday,
            starts: NaiveTime::parse_from_str(from, "%H:%M").unwrap(),
            ends: NaiveTime::parse_from_str(to, "%H:%M").unwrap(),
        }
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
    fn missing_skills_are_named_and_lower_the_fit() {
        let required = ["first_aid".to_owned(), "sign_language".to_owned()];
        let held = ["first_aid".to_owned()];
        assert_eq!(skill_fit(&required, &held), 0.5);
        assert_eq!(skill_fit(&[], &held), 1.0);
        let p = Prospect {
            skill_fit: 0.5,
            fit: Fit::Part,
            recent_minutes: 90,
        };
        let why = reasons(&p, &required, &held);
        let codes: Vec<&str> = why.iter().map(|r| r.code.as_ref()).collect();
        assert_eq!(
            codes,
            [
                "match.available_part",
                "match.lacks_skills",
                "match.recent_hours"
            ]
        );
        assert_eq!(why[1].param("skills"), Some("sign_language"));
        assert_eq!(why[2].param("hours"), Some("1.5"));
    }

    #[test]
    fn the_unqualified_and_the_busy_are_excluded_with_every_reason() {
        let zone = chrono_tz::Asia::Shanghai;
        let opening = Opening {
            required_skills: &[],
            required_certifications: &["first_aid".to_owned()],
            works_with_minors: false,
            zone,
            starts_at: Utc.with_ymd_and_hms(2027, 3, 2, 1, 0, 0).unwrap(),
            ends_at: Utc.with_ymd_and_hms(2027, 3, 2, 3, 0, 0).unwrap(),
            local_date: NaiveDate::from_ymd_opt(2027, 3, 2).unwrap(),
        };
        let windows = [window(2, "08:00", "12:00")];
        let held = [Held {
            kind: "first_aid".into(),
            expires_on: None,
        }];
        let applicant = Applicant {
            skills: &[],
            windows: &windows,
            held: &held,
            background_checked: false,
            recent_minutes: 0,
            busy: Busy::Free,
        };
        let judged = judge(&opening, &applicant);
        assert!(judged.ranked());
        assert_eq!(judged.prospect.fit, Fit::Whole);
        assert_eq!(judged.reasons[0].code, "match.available_whole");
        let busy = judge(
            &opening,
            &Applicant {
                busy: Busy::Overlapping,
                held: &[],
                ..applicant
            },
        );
        assert!(!busy.ranked());
        let codes: Vec<&str> = busy.reasons.iter().map(|r| r.code.as_ref()).collect();
        assert_eq!(codes, ["match.certification_missing", "match.overlapping"]);
    }
}
