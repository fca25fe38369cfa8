//! Whether a resident still lives in the community. A move out can be undone (people move
//! back); a death cannot. The day a change takes effect is a calendar day that is neither
//! in the future nor before the resident was born.

use chrono::NaiveDate;
use linli_platform::error::Reason;
use linli_platform::error::Violations;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    Active,
    MovedOut,
    Deceased,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Active => "active",
            Status::MovedOut => "moved_out",
            Status::Deceased => "deceased",
        }
    }

    pub fn parse(text: &str) -> Option<Status> {
        match text {
            "active" => Some(Status::Active),
            "moved_out" => Some(Status::MovedOut),
            "deceased" => Some(Status::Deceased),
            _ => None,
        }
    }
}

/// A status change, checked against the resident's current status and birth date.
pub fn change(
    current: Status,
    wanted: &str,
    since: &str,
    born: NaiveDate,
    today: NaiveDate,
) -> Result<(Status, NaiveDate), Violations> {
    let mut violations = Violations::default();
    let status = Status::parse(wanted.trim());
    match status {
        None => violations.push(
            "status",
            Reason::new("one_of", "must be `active`, `moved_out` or `deceased`"),
        ),
        Some(s) if s == current => violations.push(
            "status",
            Reason::new("status.unchanged", format!("is already `{}`", s.as_str()))
                .with("status", s.as_str()),
        ),
        Some(_) if current == Status::Deceased => violations.push(
            "status",
            Reason::new("status.final", "a deceased resident's status is final"),
        ),
        Some(_) => {}
    }
    let since = match since.trim() {
        "" => Some(today),
        text => match NaiveDate::parse_from_str(text, "%Y-%m-%d") {
            Ok(day) if day > today => {
                violations.push("since", Reason::not_in_future());
                None
            }
            Ok(day) if day < born => {
                violations.push(
                    "since",
                    Reason::new("before_birth", "must not be before the resident was born"),
                );
                None
            }
            Ok(day) => Some(day),
            Err(_) => {
                violations.push(
                    "since",
                    Reason::new("date", "must be a calendar date written YYYY-MM-DD"),
                );
                None
            }
        },
    };
    match (status, since) {
        (Some(status), Some(since)) if violations.is_empty() => Ok((status, since)),
        _ => Err(violations),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(text: &str) -> NaiveDate {
        NaiveDate::parse_from_str(text, "%Y-%m-%d").expect("valid")
    }

    #[test]
    fn a_move_out_can_be_undone_but_a_death_cannot() {
        let (born, today) = (day("1950-01-01"), day("2026-11-29"));
        assert_eq!(
            change(Status::Active, "moved_out", "2026-11-01", born, today),
            Ok((Status::MovedOut, day("2026-11-01")))
        );
        assert_eq!(
            change(Status::MovedOut, "active", "", born, today),
            Ok((Status::Active, today))
        );
        let error = change(Status::Deceased, "active", "", born, today).expect_err("final");
        assert_eq!(error.0[0].reason, "a deceased resident's status is final");
    }

    #[test]
    fn the_day_must_be_real_and_possible() {
        let (born, today) = (day("1950-01-01"), day("2026-11-29"));
        assert!(change(Status::Active, "deceased", "2027-01-01", born, today).is_err());
        assert!(change(Status::Active, "deceased", "1949-12-31", born, today).is_err());
        assert!(change(Status::Active, "deceased", "2026-02-30", born, today).is_err());
        assert!(change(Status::Active, "gone", "", born, today).is_err());
        assert!(change(Status::Active, "active", "", born, today).is_err());
    }
}
