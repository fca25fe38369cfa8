//! Days and months as finance counts them: the centre's calendar day, and months as
//! accounting periods. Fiscal years are calendar years.

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use linli_platform::error::Violations;
use linli_platform::error::{Reason, Refusal};

/// A `YYYY-MM-DD` date.
pub fn parse_date(field: &str, text: &str) -> Result<NaiveDate, Violations> {
    NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d")
        .map_err(|_| Violations::one(field, Reason::new("date", "must be a date, YYYY-MM-DD")))
}

/// An optional date: `default` when empty.
pub fn parse_date_or(field: &str, text: &str, default: NaiveDate) -> Result<NaiveDate, Violations> {
    if text.trim().is_empty() {
        Ok(default)
    } else {
        parse_date(field, text)
    }
}

/// The calendar day `at` falls on in `zone`.
pub fn local_date(at: DateTime<Utc>, zone: chrono_tz::Tz) -> NaiveDate {
    at.with_timezone(&zone).date_naive()
}

/// An accounting period: one calendar month.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Month {
    first: NaiveDate,
}

impl Month {
    pub fn parse(field: &str, text: &str) -> Result<Month, Violations> {
        NaiveDate::parse_from_str(&format!("{}-01", text.trim()), "%Y-%m-%d")
            .map(|first| Month { first })
            .map_err(|_| Violations::one(field, Reason::month()))
    }

    pub fn of(date: NaiveDate) -> Month {
        Month {
            first: date.with_day(1).expect("day 1 exists in every month"),
        }
    }

    pub fn first_day(self) -> NaiveDate {
        self.first
    }

    pub fn last_day(self) -> NaiveDate {
        self.next().first - chrono::Duration::days(1)
    }

    pub fn next(self) -> Month {
        let (year, month) = if self.first.month() == 12 {
            (self.first.year() + 1, 1)
        } else {
            (self.first.year(), self.first.month() + 1)
        };
        Month {
            first: NaiveDate::from_ymd_opt(year, month, 1).expect("a valid month"),
        }
    }

    pub fn year(self) -> i32 {
        self.first.year()
    }

    /// Whether the month is over on `today`: only then may it close.
    pub fn has_ended(self, today: NaiveDate) -> bool {
        self.last_day() < today
    }
}

/// Months close in order, each after the one before it. A month may close when the ledger
/// holds no earlier month (it is the ledger's first: nothing was posted or closed before
/// it), or when every earlier month of the ledger is closed. Otherwise this is the month
/// that must close first: the one after the last closed month, or the ledger's first month
/// when none is closed yet. `earliest` is the ledger's earliest month before `month`, and
/// `last_closed` its latest closed month before `month` (closing in order keeps the closed
/// months a run from the first).
pub fn close_first(
    month: Month,
    earliest: Option<Month>,
    last_closed: Option<Month>,
) -> Option<Month> {
    let earliest = earliest.filter(|earliest| *earliest < month)?;
    let due = last_closed.map_or(earliest, Month::next);
    (due < month).then_some(due)
}

/// The refusal of closing `month` while `first` is open ([`close_first`]).
pub fn out_of_order(month: Month, first: Month) -> Refusal {
    Refusal::State(
        Reason::new(
            "period.out_of_order",
            format!("{first} must be closed before {month}: months close in order"),
        )
        .with("period", month)
        .with("first_open", first),
    )
}

/// A month closes once.
pub fn already_closed() -> Refusal {
    Refusal::State(Reason::new(
        "period.already_closed",
        "the period is already closed",
    ))
}

impl std::fmt::Display for Month {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.first.format("%Y-%m"))
    }
}

/// An inclusive range of months, as reports take them.
pub fn month_range(from: &str, to: &str) -> Result<(Month, Month), Violations> {
    let mut violations = Violations::default();
    let from = Month::parse("from", from)
        .map_err(|v| violations.0.extend(v.0))
        .ok();
    let to = Month::parse("to", to)
        .map_err(|v| violations.0.extend(v.0))
        .ok();
    match (from, to) {
        (Some(from), Some(to)) if from <= to => Ok((from, to)),
        (Some(_), Some(_)) => Err(Violations::one(
            "to",
            Reason::new("before", "must not be before from").with("other", "from"),
        )),
        _ => Err(violations),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(text: &str) -> NaiveDate {
        parse_date("d", text).unwrap()
    }

    #[test]
    fn a_month_knows_its_days_and_its_successor() {
        let feb = Month::parse("period", "2024-02").unwrap();
        assert_eq!(feb.first_day(), date("2024-02-01"));
        assert_eq!(feb.last_day(), date("2024-02-29"));
        assert_eq!(
            Month::parse("p", "2025-12").unwrap().next().to_string(),
            "2026-01"
        );
        assert!(Month::parse("period", "2025-13").is_err());
    }

    #[test]
    fn a_month_closes_only_once_it_is_over() {
        let jan = Month::parse("p", "2026-01").unwrap();
        assert!(!jan.has_ended(date("2026-01-31")));
        assert!(jan.has_ended(date("2026-02-01")));
    }

    #[test]
    fn months_close_in_order_from_the_ledgers_first() {
        let month = |text: &str| Month::parse("p", text).unwrap();
        let march = month("2026-03");
        // The ledger's first month closes without a month before it.
        assert_eq!(close_first(march, None, None), None);
        // February is open: it closes first, whether or not January was closed.
        assert_eq!(
            close_first(march, Some(month("2026-01")), Some(month("2026-01"))),
            Some(month("2026-02"))
        );
        assert_eq!(
            close_first(march, Some(month("2026-01")), None),
            Some(month("2026-01"))
        );
        // A month with nothing posted still closes in its turn.
        assert_eq!(
            close_first(march, Some(month("2025-11")), Some(month("2025-12"))),
            Some(month("2026-01"))
        );
        assert_eq!(
            close_first(march, Some(month("2026-01")), Some(month("2026-02"))),
            None
        );
    }

    #[test]
    fn a_late_evening_in_shanghai_is_already_the_next_day() {
        let at = DateTime::parse_from_rfc3339("2026-03-31T17:30:00Z")
            .unwrap()
            .to_utc();
        assert_eq!(
            local_date(at, chrono_tz::Asia::Shanghai),
            date("2026-04-01")
        );
    }

    #[test]
    fn ranges_run_forwards() {
        assert!(month_range("2026-01", "2026-12").is_ok());
        assert_eq!(
            month_range("2026-03", "2026-01").unwrap_err().0[0].field,
            "to"
        );
        assert_eq!(month_range("x", "y").unwrap_err().0.len(), 2);
    }
}
