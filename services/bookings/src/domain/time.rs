//! Time as the centres live it: wall-clock times and days in a centre's zone, weekly rules
//! that become sessions, and a facility's opening hours.

use chrono::{
    DateTime, Datelike, Duration, LocalResult, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Utc,
};
use chrono_tz::Tz;
use linli_platform::error::{Reason, Violations};

/// Parses "HH:MM".
pub fn parse_time(field: &str, text: &str, violations: &mut Violations) -> Option<NaiveTime> {
    match NaiveTime::parse_from_str(text, "%H:%M") {
        Ok(time) => Some(time),
        Err(_) => {
            violations.push(field, Reason::time_of_day());
            None
        }
    }
}

/// Parses "YYYY-MM-DD".
pub fn parse_date(field: &str, text: &str, violations: &mut Violations) -> Option<NaiveDate> {
    match NaiveDate::parse_from_str(text, "%Y-%m-%d") {
        Ok(date) => Some(date),
        Err(_) => {
            violations.push(field, Reason::date());
            None
        }
    }
}

/// The instant a wall-clock time names in `zone`. In a gap (clocks jump forward) the
/// session starts when the clock shows the time after the jump; in an overlap (clocks go
/// back) at the first of the two.
pub fn to_instant(zone: Tz, local: NaiveDateTime) -> DateTime<Utc> {
    match zone.from_local_datetime(&local) {
        LocalResult::Single(at) => at.with_timezone(&Utc),
        LocalResult::Ambiguous(first, _) => first.with_timezone(&Utc),
        LocalResult::None => {
            // Walk forward to the first minute that exists.
            let mut probe = local;
            loop {
                probe += Duration::minutes(1);
                if let LocalResult::Single(at) | LocalResult::Ambiguous(at, _) =
                    zone.from_local_datetime(&probe)
                {
                    return at.with_timezone(&Utc);
                }
            }
        }
    }
}

pub fn to_local(zone: Tz, at: DateTime<Utc>) -> NaiveDateTime {
    at.with_timezone(&zone).naive_local()
}

/// A weekly rule: on these ISO weekdays at this local time, from a day until a day or a count.
#[derive(Clone, Debug)]
pub struct WeeklyRule {
    pub weekdays: Vec<u32>,
    pub start_time: NaiveTime,
    pub duration: Duration,
    pub starts_on: NaiveDate,
    pub until: Option<NaiveDate>,
    pub count: Option<u32>,
}

/// The most sessions one series may have.
pub const MAX_SERIES_SESSIONS: usize = 500;

impl WeeklyRule {
    /// Checks the rule's shape.
    pub fn validate(&self, violations: &mut Violations) {
        if self.weekdays.is_empty() || self.weekdays.iter().any(|d| !(1..=7).contains(d)) {
            violations.push(
                "weekdays",
                Reason::new(
                    "weekdays",
                    "must name ISO weekdays 1 (Monday) to 7 (Sunday)",
                ),
            );
        }
        if self.duration <= Duration::zero() || self.duration > Duration::hours(24) {
            violations.push("duration_minutes", Reason::between(1, 1440));
        }
        match (self.until, self.count) {
            (None, None) => violations.push(
                "until",
                Reason::new("series.end", "give an end date or a count"),
            ),
            (Some(_), Some(_)) => violations.push(
                "count",
                Reason::new("series.end", "give an end date or a count, not both"),
            ),
            (Some(until), None) if until < self.starts_on => violations.push(
                "until",
                Reason::new("before", "must not be before starts_on").with("other", "starts_on"),
            ),
            (None, Some(count)) if count == 0 || count as usize > MAX_SERIES_SESSIONS => {
                violations.push("count", Reason::between(1, 500))
            }
            _ => {}
        }
        if let Some(until) = self.until
            && until > self.starts_on + Duration::days(3 * 366)
        {
            violations.push(
                "until",
                Reason::new("series.too_long", "must be within three years of starts_on"),
            );
        }
    }

    /// Each session's local start and its instants in `zone`: the local start time stays
    /// the same across offset changes.
    pub fn occurrences(&self, zone: Tz) -> Vec<(NaiveDateTime, DateTime<Utc>, DateTime<Utc>)> {
        let mut out = Vec::new();
        let mut day = self.starts_on;
        loop {
            if self.until.is_some_and(|until| day > until)
                || self.count.is_some_and(|count| out.len() >= count as usize)
                || out.len() >= MAX_SERIES_SESSIONS
            {
                break;
            }
            if self.weekdays.contains(&day.weekday().number_from_monday()) {
                let local = day.and_time(self.start_time);
                let starts = to_instant(zone, local);
                let ends = to_instant(zone, local + self.duration);
                out.push((local, starts, ends.max(starts + Duration::minutes(1))));
            }
            day += Duration::days(1);
        }
        out
    }
}

/// Opening hours of a facility in its centre's zone.
#[derive(Clone, Debug)]
pub struct OpeningHours {
    pub opens: NaiveTime,
    pub closes: NaiveTime,
    pub days: Vec<u32>,
}

impl OpeningHours {
    /// Why [starts, ends) cannot be booked, or `None`: within one local day, on an open
    /// day, between opening and closing.
    pub fn refusal(&self, zone: Tz, starts: DateTime<Utc>, ends: DateTime<Utc>) -> Option<Reason> {
        let (from, to) = (to_local(zone, starts), to_local(zone, ends));
        if !self.days.contains(&from.weekday().number_from_monday()) {
            return Some(
                Reason::new(
                    "facility.closed_day",
                    format!("the facility is closed on {}", from.format("%A %Y-%m-%d")),
                )
                .with("date", from.format("%Y-%m-%d"))
                .with("weekday", from.weekday().number_from_monday()),
            );
        }
        if from.date() != to.date() || from.time() < self.opens || to.time() > self.closes {
            let (opens, closes) = (self.opens.format("%H:%M"), self.closes.format("%H:%M"));
            return Some(
                Reason::new(
                    "facility.outside_hours",
                    format!("the facility is open {opens}–{closes} on one day"),
                )
                .with("opens", opens)
                .with("closes", closes),
            );
        }
        None
    }

    /// Open hours on the local days [from, to).
    pub fn open_hours(&self, from: NaiveDate, to: NaiveDate) -> f64 {
        let daily = (self.closes - self.opens).num_minutes() as f64 / 60.0;
        let mut day = from;
        let mut hours = 0.0;
        while day < to {
            if self.days.contains(&day.weekday().number_from_monday()) {
                hours += daily;
            }
            day += Duration::days(1);
        }
        hours
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weekly_rule_keeps_local_time_across_an_offset_change() {
        // London moves from GMT to BST on 2027-03-28.
        let rule = WeeklyRule {
            weekdays: vec![4],
            start_time: NaiveTime::from_hms_opt(9, 30, 0).unwrap(),
            duration: Duration::minutes(90),
            starts_on: NaiveDate::from_ymd_opt(2027, 3, 15).unwrap(),
            until: None,
            count: Some(4),
        };
        let zone: Tz = "Europe/London".parse().unwrap();
        let sessions = rule.occurrences(zone);
        assert_eq!(sessions.len(), 4);
        for (local, starts, _) in &sessions {
            assert_eq!(local.time(), NaiveTime::from_hms_opt(9, 30, 0).unwrap());
            assert_eq!(to_local(zone, *starts), *local);
        }
        assert_eq!(sessions[0].1.format("%H:%M").to_string(), "09:30");
        assert_eq!(sessions[3].1.format("%H:%M").to_string(), "08:30");
    }

    #[test]
    fn a_start_in_a_gap_moves_to_the_first_minute_that_exists() {
        let zone: Tz = "Europe/London".parse().unwrap();
        let local = NaiveDate::from_ymd_opt(2027, 3, 28)
            .unwrap()
            .and_hms_opt(1, 30, 0)
            .unwrap();
        assert_eq!(
            to_local(zone, to_instant(zone, local))
                .format("%H:%M")
                .to_string(),
            "02:00"
        );
    }

    #[test]
    fn opening_hours_refuse_outside_and_count_open_days() {
        let hours = OpeningHours {
            opens: NaiveTime::from_hms_opt(8, 0, 0).unwrap(),
            closes: NaiveTime::from_hms_opt(20, 0, 0).unwrap(),
            days: vec![1, 2, 3, 4, 5],
        };
        let zone = chrono_tz::Asia::Shanghai;
        // Monday 2027-03-01, 09:00–10:00 local = 01:00–02:00 UTC.
        let at = |h: u32| Utc.with_ymd_and_hms(2027, 3, 1, h, 0, 0).unwrap();
        assert_eq!(hours.refusal(zone, at(1), at(2)), None);
        assert!(hours.refusal(zone, at(11), at(13)).is_some());
        let sunday = Utc.with_ymd_and_hms(2027, 2, 28, 1, 0, 0).unwrap();
        let refused = hours
            .refusal(zone, sunday, sunday + Duration::hours(1))
            .unwrap();
        assert!(refused.english.contains("closed"));
        assert_eq!(refused.code, "facility.closed_day");
        let week = NaiveDate::from_ymd_opt(2027, 3, 1).unwrap();
        assert_eq!(hours.open_hours(week, week + Duration::days(7)), 60.0);
    }
}
