//! The rules of booking, without I/O: the plan's categories, offering kinds, who may book
//! what, what they pay, and how a weekly rule becomes sessions in a centre's time zone.

use chrono::{
    DateTime, Datelike, Duration, LocalResult, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Utc,
};
use chrono_tz::Tz;
use linli_platform::auth::Role;
use linli_platform::error::Violations;

/// Roles that shape the catalogue: offerings, facilities, sessions.
pub const PLANNERS: &[Role] = &[Role::DistrictAdmin, Role::CentreManager, Role::Coordinator];
/// Roles that book, cancel and check in at the desk.
pub const DESK: &[Role] = &[
    Role::DistrictAdmin,
    Role::CentreManager,
    Role::FrontDesk,
    Role::Coordinator,
];
/// Roles that read the catalogue and bookings.
pub const READERS: &[Role] = &[
    Role::DistrictAdmin,
    Role::CentreManager,
    Role::FrontDesk,
    Role::Coordinator,
    Role::FinanceOfficer,
    Role::Auditor,
];

/// A category of the plan's catalogue: code, Chinese name, English name.
pub const CATEGORIES: &[(&str, &str, &str)] = &[
    (
        "government_affairs",
        "政务服务",
        "Government affairs window",
    ),
    ("life_services", "生活服务", "Life services"),
    ("health", "医疗卫生服务", "Health"),
    ("culture_education", "文化教育服务", "Culture and education"),
    ("elderly_care", "养老服务", "Elderly care"),
    ("youth", "青少年服务", "Youth"),
    ("facilities", "社区设施", "Community facilities"),
];

pub fn is_category(code: &str) -> bool {
    CATEGORIES.iter().any(|(c, _, _)| *c == code)
}

/// How an offering is booked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// One session, booked singly.
    Appointment,
    /// A room or equipment by time range.
    Facility,
    /// Every session of the offering, with one enrolment.
    Course,
    /// One occasion.
    Event,
    /// Every session, like a course: meal assistance each weekday.
    RecurringCare,
}

impl Kind {
    pub const ALL: [Kind; 5] = [
        Kind::Appointment,
        Kind::Facility,
        Kind::Course,
        Kind::Event,
        Kind::RecurringCare,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Appointment => "appointment",
            Kind::Facility => "facility",
            Kind::Course => "course",
            Kind::Event => "event",
            Kind::RecurringCare => "recurring_care",
        }
    }

    pub fn parse(text: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.as_str() == text)
    }

    /// One booking covers every upcoming session (an enrolment).
    pub fn enrols(self) -> bool {
        matches!(self, Kind::Course | Kind::RecurringCare)
    }
}

/// A cheaper price for residents of a category.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Concession {
    pub category: String,
    pub price_minor: i64,
}

/// What a resident pays: the lowest price they qualify for, and the concession that gave it.
pub fn price_for(
    fee_minor: i64,
    concessions: &[Concession],
    categories: &[String],
) -> (i64, String) {
    concessions
        .iter()
        .filter(|c| categories.contains(&c.category) && c.price_minor < fee_minor)
        .min_by_key(|c| c.price_minor)
        .map_or((fee_minor, String::new()), |c| {
            (c.price_minor, c.category.clone())
        })
}

/// The registry's age bands as inclusive ranges.
const AGE_BANDS: &[(&str, i32, i32)] = &[
    ("0-13", 0, 13),
    ("14-17", 14, 17),
    ("18-59", 18, 59),
    ("60-79", 60, 79),
    ("80+", 80, 200),
];

/// Checks an offering's age limits lie on band boundaries: the registry publishes age
/// bands, never birth dates, so a limit inside a band could not be decided.
pub fn check_age_limits(min_age: Option<i32>, max_age: Option<i32>, violations: &mut Violations) {
    if let Some(min) = min_age
        && !AGE_BANDS.iter().any(|(_, low, _)| *low == min)
    {
        violations.push(
            "min_age",
            "must be one of 0, 14, 18, 60, 80 (the registry's age bands)",
        );
    }
    if let Some(max) = max_age
        && !AGE_BANDS
            .iter()
            .any(|(_, _, high)| *high == max && *high < 200)
    {
        violations.push(
            "max_age",
            "must be one of 13, 17, 59, 79 (the registry's age bands)",
        );
    }
    if let (Some(min), Some(max)) = (min_age, max_age)
        && min > max
    {
        violations.push("max_age", "must not be below min_age");
    }
}

/// What eligibility needs of an offering.
pub struct Eligibility<'a> {
    pub min_age: Option<i32>,
    pub max_age: Option<i32>,
    pub categories: &'a [String],
}

impl Eligibility<'_> {
    /// The same rule as [`refusal`], as a database statement can test it on the resident's
    /// row: the age bands admitted (None when the offering has no age limits) and the
    /// categories of which a resident needs one (none needed when empty). The status must
    /// be `active`.
    pub fn as_row_test(&self) -> (Option<Vec<String>>, Vec<String>) {
        let bands = (self.min_age.is_some() || self.max_age.is_some()).then(|| {
            AGE_BANDS
                .iter()
                .filter(|(_, low, high)| {
                    self.min_age.is_none_or(|min| *low >= min)
                        && self.max_age.is_none_or(|max| *high <= max)
                })
                .map(|(name, _, _)| (*name).to_owned())
                .collect()
        });
        (bands, self.categories.to_vec())
    }
}

/// What eligibility knows of a resident.
pub struct Applicant<'a> {
    pub age_band: &'a str,
    pub categories: &'a [String],
    pub status: &'a str,
}

/// Why a resident may not book, in words the desk can read out; `None` when they may.
pub fn refusal(rule: &Eligibility<'_>, resident: &Applicant<'_>) -> Option<String> {
    match resident.status {
        "active" => {}
        "moved_out" => return Some("the resident has moved out of the community".into()),
        "deceased" => return Some("the resident is recorded as deceased".into()),
        other => return Some(format!("the resident's status is {other}")),
    }
    let band = AGE_BANDS
        .iter()
        .find(|(name, _, _)| *name == resident.age_band);
    if rule.min_age.is_some() || rule.max_age.is_some() {
        let Some((_, low, high)) = band else {
            return Some("the resident's age band is unknown".into());
        };
        if let Some(min) = rule.min_age
            && *low < min
        {
            return Some(format!(
                "the offering is for ages {min} and over; the resident is {}",
                resident.age_band
            ));
        }
        if let Some(max) = rule.max_age
            && *high > max
        {
            return Some(format!(
                "the offering is for ages up to {max}; the resident is {}",
                resident.age_band
            ));
        }
    }
    if !rule.categories.is_empty()
        && !rule
            .categories
            .iter()
            .any(|c| resident.categories.contains(c))
    {
        return Some(format!(
            "the offering is for residents who are {}; the resident is not",
            rule.categories.join(" or ")
        ));
    }
    None
}

/// Parses "HH:MM".
pub fn parse_time(field: &str, text: &str, violations: &mut Violations) -> Option<NaiveTime> {
    match NaiveTime::parse_from_str(text, "%H:%M") {
        Ok(time) => Some(time),
        Err(_) => {
            violations.push(field, "must be a time as HH:MM");
            None
        }
    }
}

/// Parses "YYYY-MM-DD".
pub fn parse_date(field: &str, text: &str, violations: &mut Violations) -> Option<NaiveDate> {
    match NaiveDate::parse_from_str(text, "%Y-%m-%d") {
        Ok(date) => Some(date),
        Err(_) => {
            violations.push(field, "must be a date as YYYY-MM-DD");
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
                "must name ISO weekdays 1 (Monday) to 7 (Sunday)",
            );
        }
        if self.duration <= Duration::zero() || self.duration > Duration::hours(24) {
            violations.push("duration_minutes", "must be between 1 and 1440");
        }
        match (self.until, self.count) {
            (None, None) => violations.push("until", "give an end date or a count"),
            (Some(_), Some(_)) => violations.push("count", "give an end date or a count, not both"),
            (Some(until), None) if until < self.starts_on => {
                violations.push("until", "must not be before starts_on")
            }
            (None, Some(count)) if count == 0 || count as usize > MAX_SERIES_SESSIONS => {
                violations.push("count", "must be between 1 and 500")
            }
            _ => {}
        }
        if let Some(until) = self.until
            && until > self.starts_on + Duration::days(3 * 366)
        {
            violations.push("until", "must be within three years of starts_on");
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
pub struct OpeningHours {
    pub opens: NaiveTime,
    pub closes: NaiveTime,
    pub days: Vec<u32>,
}

impl OpeningHours {
    /// Why [starts, ends) cannot be booked, or `None`: within one local day, on an open
    /// day, between opening and closing.
    pub fn refusal(&self, zone: Tz, starts: DateTime<Utc>, ends: DateTime<Utc>) -> Option<String> {
        let (from, to) = (to_local(zone, starts), to_local(zone, ends));
        if !self.days.contains(&from.weekday().number_from_monday()) {
            return Some(format!(
                "the facility is closed on {}",
                from.format("%A %Y-%m-%d")
            ));
        }
        if from.date() != to.date() || from.time() < self.opens || to.time() > self.closes {
            return Some(format!(
                "the facility is open {}–{} on one day",
                self.opens.format("%H:%M"),
                self.closes.format("%H:%M")
            ));
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
    fn the_row_test_admits_exactly_whom_refusal_admits() {
        let limits = [None, Some(0), Some(14), Some(18), Some(60), Some(80)];
        let maxima = [None, Some(13), Some(17), Some(59), Some(79)];
        let rule_categories = [
            strings(&[]),
            strings(&["elderly"]),
            strings(&["elderly", "disabled"]),
        ];
        let bands = ["0-13", "14-17", "18-59", "60-79", "80+", "unknown"];
        let resident_categories = [
            strings(&[]),
            strings(&["elderly"]),
            strings(&["disabled", "veteran"]),
        ];
        let mut compared = 0;
        for min_age in limits {
            for max_age in maxima {
                for categories in &rule_categories {
                    let rule = Eligibility {
                        min_age,
                        max_age,
                        categories,
                    };
                    let (admitted_bands, needed) = rule.as_row_test();
                    for band in bands {
                        for resident in &resident_categories {
                            for status in ["active", "moved_out", "deceased"] {
                                let applicant = Applicant {
                                    age_band: band,
                                    categories: resident,
                                    status,
                                };
                                let by_row = status == "active"
                                    && admitted_bands
                                        .as_ref()
                                        .is_none_or(|b| b.iter().any(|b| b == band))
                                    && (needed.is_empty()
                                        || needed.iter().any(|c| resident.contains(c)));
                                assert_eq!(
                                    by_row,
                                    refusal(&rule, &applicant).is_none(),
                                    "min {min_age:?} max {max_age:?} needs {categories:?}; {band} {resident:?} {status}"
                                );
                                compared += 1;
                            }
                        }
                    }
                }
            }
        }
        assert_eq!(compared, 6 * 5 * 3 * 6 * 3 * 3);
    }

    fn strings(items: &[&str]) -> Vec<String> {
        items.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn the_lowest_concession_the_resident_qualifies_for_applies() {
        let concessions = vec![
            Concession {
                category: "low_income".into(),
                price_minor: 0,
            },
            Concession {
                category: "elderly".into(),
                price_minor: 500,
            },
        ];
        assert_eq!(
            price_for(1000, &concessions, &strings(&["elderly"])),
            (500, "elderly".into())
        );
        assert_eq!(
            price_for(1000, &concessions, &strings(&["elderly", "low_income"])),
            (0, "low_income".into())
        );
        assert_eq!(
            price_for(1000, &concessions, &strings(&["minor"])),
            (1000, String::new())
        );
    }

    #[test]
    fn age_and_category_refusals_say_why() {
        let elderly_only = Eligibility {
            min_age: Some(60),
            max_age: None,
            categories: &[],
        };
        let young = Applicant {
            age_band: "18-59",
            categories: &[],
            status: "active",
        };
        let old = Applicant {
            age_band: "80+",
            categories: &[],
            status: "active",
        };
        assert!(
            refusal(&elderly_only, &young)
                .unwrap()
                .contains("60 and over")
        );
        assert_eq!(refusal(&elderly_only, &old), None);

        let categories = strings(&["low_income"]);
        let needs = Eligibility {
            min_age: None,
            max_age: None,
            categories: &categories,
        };
        assert!(refusal(&needs, &old).unwrap().contains("low_income"));
        let moved = Applicant {
            age_band: "80+",
            categories: &categories,
            status: "moved_out",
        };
        assert!(refusal(&needs, &moved).unwrap().contains("moved out"));
    }

    #[test]
    fn age_limits_must_lie_on_band_boundaries() {
        let mut v = Violations::default();
        check_age_limits(Some(60), Some(79), &mut v);
        assert!(v.is_empty());
        check_age_limits(Some(65), Some(70), &mut v);
        assert_eq!(v.0.len(), 2);
    }

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
        assert!(
            hours
                .refusal(zone, sunday, sunday + Duration::hours(1))
                .unwrap()
                .contains("closed")
        );
        let week = NaiveDate::from_ymd_opt(2027, 3, 1).unwrap();
        assert_eq!(hours.open_hours(week, week + Duration::days(7)), 60.0);
    }
}
