//! Staff employment and training: when an employment may end, who may complete a course,
//! and what the plan's training coverage counts.

use chrono::NaiveDate;
use linli_platform::error::{Reason, Refusal};

use super::status::{Audience, PersonKind};

/// The plan's training-coverage target.
pub const COVERAGE_TARGET: f64 = 0.9;

/// An event a staff change sets off.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StaffEvent {
    Joined,
    Left,
}

/// A staff member joins: published.
pub fn join() -> Vec<StaffEvent> {
    vec![StaffEvent::Joined]
}

/// An employment ends once, on or after the day it began; the departure is published.
pub fn end_employment(
    employed_from: NaiveDate,
    employed_until: Option<NaiveDate>,
    until: NaiveDate,
) -> Result<Vec<StaffEvent>, Refusal> {
    if employed_until.is_some() {
        return Err(Refusal::State(Reason::new(
            "staff.employment_ended",
            "the employment has already ended",
        )));
    }
    if until < employed_from {
        return Err(Refusal::State(
            Reason::new(
                "staff.ends_before_start",
                format!("the employment began on {employed_from}; it cannot end before"),
            )
            .with("employed_from", employed_from),
        ));
    }
    Ok(vec![StaffEvent::Left])
}

/// A course for one audience is completed by its audience only.
pub fn may_complete(audience: Audience, kind: PersonKind) -> Result<(), Refusal> {
    if audience.includes(kind) {
        return Ok(());
    }
    Err(Refusal::State(
        Reason::new(
            "training.wrong_audience",
            format!("the course is for {audience}, and this is a {kind}"),
        )
        .with("audience", audience)
        .with("kind", kind),
    ))
}

/// Trained / active staff; 0 without active staff.
pub fn coverage(trained: i64, active: i64) -> f64 {
    if active == 0 {
        0.0
    } else {
        trained as f64 / active as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::tests::day;

    fn code(refusal: Refusal) -> String {
        match refusal {
            Refusal::State(reason) => reason.code.into_owned(),
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn an_employment_ends_once_and_not_before_it_began() {
        let from = day("2026-01-01");
        assert_eq!(
            end_employment(from, None, day("2026-01-01")),
            Ok(vec![StaffEvent::Left])
        );
        assert_eq!(
            code(end_employment(from, Some(day("2026-06-01")), day("2026-07-01")).unwrap_err()),
            "staff.employment_ended"
        );
        let Err(Refusal::State(reason)) = end_employment(from, None, day("2025-12-31")) else {
            panic!("refused");
        };
        assert_eq!(reason.code, "staff.ends_before_start");
        assert_eq!(reason.param("employed_from"), Some("2026-01-01"));
    }

    #[test]
    fn a_course_is_completed_by_its_audience() {
        assert_eq!(may_complete(Audience::All, PersonKind::Volunteer), Ok(()));
        let Err(Refusal::State(reason)) = may_complete(Audience::Staff, PersonKind::Volunteer)
        else {
            panic!("refused");
        };
        assert_eq!(reason.code, "training.wrong_audience");
        assert_eq!(reason.param("audience"), Some("staff"));
        assert_eq!(reason.param("kind"), Some("volunteer"));
    }

    #[test]
    fn coverage_is_trained_over_active_staff() {
        assert_eq!(coverage(9, 10), 0.9);
        assert_eq!(coverage(0, 0), 0.0);
    }
}
