//! Reporting periods (a month, a quarter, a year) in a centre's time zone.

use chrono::{DateTime, Datelike, NaiveDate, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;
use linli_platform::error::{Reason, Violations};

/// A reporting period: a month, a quarter or a year, in local dates [start, end).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Period {
    pub start: NaiveDate,
    pub end: NaiveDate,
    kind: PeriodKind,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum PeriodKind {
    Month,
    Quarter,
    Year,
}

impl Period {
    /// The period a request's `period` field names, refused with the formats it may take.
    pub fn field(text: &str) -> Result<Period, Violations> {
        Period::parse(text).ok_or_else(|| {
            Violations::one(
                "period",
                Reason::new(
                    "period.format",
                    "must be a month (2027-03), a quarter (2027-Q1) or a year (2027)",
                ),
            )
        })
    }

    /// The period a request names, or when it names none the month it is now in China
    /// (UTC+8, the plan's default for district-wide figures).
    pub fn field_or_this_month(text: &str, now: DateTime<Utc>) -> Result<Period, Violations> {
        if text.is_empty() {
            return Ok(Period::month_of(
                (now + chrono::Duration::hours(8)).date_naive(),
            ));
        }
        Period::field(text)
    }

    /// Parses "2027-03", "2027-Q1" or "2027".
    pub fn parse(text: &str) -> Option<Period> {
        let text = text.trim();
        if let Some((year, quarter)) = text.split_once("-Q") {
            let (year, quarter): (i32, u32) = (year.parse().ok()?, quarter.parse().ok()?);
            if !(1..=4).contains(&quarter) {
                return None;
            }
            let start = NaiveDate::from_ymd_opt(year, 3 * quarter - 2, 1)?;
            return Some(Period {
                start,
                end: add_months(start, 3)?,
                kind: PeriodKind::Quarter,
            });
        }
        if let Some((year, month)) = text.split_once('-') {
            let start = NaiveDate::from_ymd_opt(year.parse().ok()?, month.parse().ok()?, 1)?;
            return Some(Period {
                start,
                end: add_months(start, 1)?,
                kind: PeriodKind::Month,
            });
        }
        let year: i32 = text.parse().ok()?;
        let start = NaiveDate::from_ymd_opt(year, 1, 1)?;
        Some(Period {
            start,
            end: NaiveDate::from_ymd_opt(year + 1, 1, 1)?,
            kind: PeriodKind::Year,
        })
    }

    /// The month holding `day`.
    pub fn month_of(day: NaiveDate) -> Period {
        let start = day.with_day(1).unwrap_or(day);
        Period {
            start,
            end: add_months(start, 1).unwrap_or(start),
            kind: PeriodKind::Month,
        }
    }

    pub fn name(&self) -> String {
        match self.kind {
            PeriodKind::Month => self.start.format("%Y-%m").to_string(),
            PeriodKind::Quarter => {
                format!("{}-Q{}", self.start.year(), self.start.month().div_ceil(3))
            }
            PeriodKind::Year => self.start.year().to_string(),
        }
    }

    pub fn next_month(&self) -> Period {
        Period::month_of(self.end)
    }

    /// The period's bounds as instants in `zone`: local midnight to local midnight.
    pub fn bounds(&self, zone: Tz) -> (DateTime<Utc>, DateTime<Utc>) {
        (midnight(zone, self.start), midnight(zone, self.end))
    }
}

fn add_months(date: NaiveDate, months: u32) -> Option<NaiveDate> {
    date.checked_add_months(chrono::Months::new(months))
}

fn midnight(zone: Tz, day: NaiveDate) -> DateTime<Utc> {
    zone.from_local_datetime(&day.and_time(NaiveTime::MIN))
        .earliest()
        .map(|t| t.with_timezone(&Utc))
        .unwrap_or_else(|| Utc.from_utc_datetime(&day.and_time(NaiveTime::MIN)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn periods_parse_and_bound_in_the_centres_zone() {
        let march = Period::parse("2027-03").unwrap();
        assert_eq!(march.name(), "2027-03");
        let (from, to) = march.bounds(chrono_tz::Asia::Shanghai);
        assert_eq!(from.to_rfc3339(), "2027-02-28T16:00:00+00:00");
        assert_eq!(to.to_rfc3339(), "2027-03-31T16:00:00+00:00");
        let q = Period::parse("2027-Q2").unwrap();
        assert_eq!(
            (q.start.to_string(), q.end.to_string()),
            ("2027-04-01".into(), "2027-07-01".into())
        );
        assert_eq!(q.name(), "2027-Q2");
        assert_eq!(Period::parse("2027").unwrap().end.to_string(), "2028-01-01");
        assert!(Period::parse("2027-13").is_none());
        assert!(Period::parse("2027-Q5").is_none());
        assert!(Period::parse("soon").is_none());
        let late = Utc.with_ymd_and_hms(2027, 3, 31, 17, 0, 0).unwrap();
        assert_eq!(
            Period::field_or_this_month("", late).unwrap().name(),
            "2027-04"
        );
        assert_eq!(
            Period::field_or_this_month("2027-13", late).unwrap_err().0[0].code,
            "period.format"
        );
    }
}
