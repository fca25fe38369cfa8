//! A volunteer's place on a shift: signing up (the shift not over, the volunteer active
//! and qualified on its day, a place free, no other shift of theirs at the same time),
//! withdrawing, checking in and checking out (which verifies the hours at once). Decided
//! over what the store loaded with the shift locked; the table's constraints stay the last
//! word under concurrency, and the store answers their violations with the same refusals.

use chrono::{DateTime, NaiveDate, Utc};
use linli_platform::error::{Reason, Refusal};

use super::hours::HoursEvent;
use super::ids::ShiftId;
use super::qualification::{Held, disqualifications, must_be_active, not_qualified};
use super::status::{AssignmentStatus, VolunteerStatus};

/// The longest a checked-out shift counts, in minutes (and the shortest: one).
pub const MAX_SHIFT_MINUTES: i64 = 1440;

/// A shift as it stands while locked for a sign-up.
#[derive(Clone, Copy, Debug)]
pub struct Shift {
    pub id: ShiftId,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    /// Its day in the centre's zone: certifications must be valid on it.
    pub local_date: NaiveDate,
    pub capacity: i32,
    pub signed_up: i32,
}

/// What the shift's opportunity asks of whoever takes it.
#[derive(Clone, Copy, Debug)]
pub struct Requirements<'a> {
    pub certifications: &'a [String],
    pub works_with_minors: bool,
}

/// A place the volunteer holds (not withdrawn) on a shift, with its time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Commitment {
    pub shift: ShiftId,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
}

/// The volunteer asking, as loaded: their status, background check, certifications and
/// the places they already hold that end after the shift starts.
#[derive(Clone, Copy, Debug)]
pub struct Candidate<'a> {
    pub status: VolunteerStatus,
    pub background_checked: bool,
    pub held: &'a [Held],
    pub commitments: &'a [Commitment],
}

/// A sign-up decided: a place on the shift for its time (no event: nobody outside the
/// service is told of a sign-up).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SignUp {
    pub shift: ShiftId,
    pub during: (DateTime<Utc>, DateTime<Utc>),
}

pub fn over() -> Refusal {
    Refusal::State(Reason::new("shift.over", "the shift is over"))
}

pub fn full() -> Refusal {
    Refusal::Conflict(Reason::new("shift.full", "the shift is full"))
}

pub fn overlapping() -> Refusal {
    Refusal::Conflict(Reason::new(
        "shift.overlapping",
        "the volunteer is already on this or an overlapping shift",
    ))
}

/// Whether two times meet: ranges are `[start, end)`, so back-to-back shifts do not.
fn meet(a: (DateTime<Utc>, DateTime<Utc>), b: (DateTime<Utc>, DateTime<Utc>)) -> bool {
    a.0 < b.1 && b.0 < a.1
}

/// Whether `candidate` may take a place on `shift`, in this order: the shift is not over,
/// the volunteer is active and qualified on the shift's day, a place is free, and none of
/// their places meets its time (this shift's included).
pub fn sign_up(
    shift: &Shift,
    needs: &Requirements<'_>,
    candidate: &Candidate<'_>,
    now: DateTime<Utc>,
) -> Result<SignUp, Refusal> {
    if shift.ends_at <= now {
        return Err(over());
    }
    must_be_active(candidate.status)?;
    not_qualified(&disqualifications(
        needs.certifications,
        candidate.held,
        needs.works_with_minors,
        candidate.background_checked,
        shift.local_date,
    ))?;
    if shift.signed_up >= shift.capacity {
        return Err(full());
    }
    let during = (shift.starts_at, shift.ends_at);
    if candidate
        .commitments
        .iter()
        .any(|c| c.shift == shift.id || meet((c.starts_at, c.ends_at), during))
    {
        return Err(overlapping());
    }
    Ok(SignUp {
        shift: shift.id,
        during,
    })
}

/// Whether a place may be given back: `Ok(false)` when it already was (nothing changes),
/// refused once the volunteer checked in.
pub fn withdraw(status: AssignmentStatus) -> Result<bool, Refusal> {
    match status {
        AssignmentStatus::Withdrawn => Ok(false),
        AssignmentStatus::SignedUp => Ok(true),
        other => Err(Refusal::State(
            Reason::new(
                "assignment.not_withdrawable",
                format!("the assignment is {other}; it can no longer be withdrawn"),
            )
            .with("status", other),
        )),
    }
}

/// Whether the volunteer may be checked in: `Ok(false)` when they already are.
pub fn check_in(status: AssignmentStatus) -> Result<bool, Refusal> {
    match status {
        AssignmentStatus::SignedUp => Ok(true),
        AssignmentStatus::CheckedIn => Ok(false),
        other => Err(Refusal::State(
            Reason::new("assignment.status", format!("the assignment is {other}"))
                .with("status", other),
        )),
    }
}

/// A check-out decided: the minutes worked, verified at once (the desk saw the work), and
/// the events that sets off (the milestones follow from the new total: [`super::hours`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CheckOut {
    pub minutes: i32,
    pub events: Vec<HoursEvent>,
}

/// Whether the volunteer may be checked out at `at`: `Ok(None)` when they already were;
/// refused before a check-in, or at or before it.
pub fn check_out(
    status: AssignmentStatus,
    checked_in_at: Option<DateTime<Utc>>,
    at: DateTime<Utc>,
) -> Result<Option<CheckOut>, Refusal> {
    let checked_in = match (status, checked_in_at) {
        (AssignmentStatus::CheckedIn, Some(checked_in)) => checked_in,
        (AssignmentStatus::Completed, _) => return Ok(None),
        (other, _) => {
            return Err(Refusal::State(
                Reason::new(
                    "assignment.not_checked_in",
                    format!("the assignment is {other}; check in first"),
                )
                .with("status", other),
            ));
        }
    };
    if at <= checked_in {
        return Err(Refusal::State(Reason::new(
            "assignment.check_out_before_check_in",
            "the check-out must come after the check-in",
        )));
    }
    Ok(Some(CheckOut {
        minutes: (at - checked_in).num_minutes().clamp(1, MAX_SHIFT_MINUTES) as i32,
        events: vec![HoursEvent::Verified],
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{Duration, TimeZone};

    fn at(hour: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2027, 3, 2, hour, 0, 0).unwrap()
    }

    fn shift(from: u32, to: u32) -> Shift {
        Shift {
            id: ShiftId::new(),
            starts_at: at(from),
            ends_at: at(to),
            local_date: NaiveDate::from_ymd_opt(2027, 3, 2).unwrap(),
            capacity: 2,
            signed_up: 0,
        }
    }

    const NONE: Requirements<'static> = Requirements {
        certifications: &[],
        works_with_minors: false,
    };

    fn active<'a>(held: &'a [Held], commitments: &'a [Commitment]) -> Candidate<'a> {
        Candidate {
            status: VolunteerStatus::Active,
            background_checked: false,
            held,
            commitments,
        }
    }

    fn code(refusal: Refusal) -> String {
        match refusal {
            Refusal::Ineligible { reason, .. }
            | Refusal::State(reason)
            | Refusal::Conflict(reason) => reason.code.into_owned(),
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn an_active_volunteer_takes_a_free_place_for_the_shifts_time() {
        let s = shift(9, 11);
        let decided = sign_up(&s, &NONE, &active(&[], &[]), at(8)).unwrap();
        assert_eq!(decided.shift, s.id);
        assert_eq!(decided.during, (at(9), at(11)));
        // A shift under way still takes people; one over does not.
        assert!(sign_up(&s, &NONE, &active(&[], &[]), at(10)).is_ok());
        assert_eq!(
            code(sign_up(&s, &NONE, &active(&[], &[]), at(11)).unwrap_err()),
            "shift.over"
        );
    }

    #[test]
    fn a_paused_volunteer_is_refused_before_anything_else() {
        let candidate = Candidate {
            status: VolunteerStatus::Paused,
            ..active(&[], &[])
        };
        let full = Shift {
            signed_up: 2,
            ..shift(9, 11)
        };
        assert_eq!(
            code(sign_up(&full, &NONE, &candidate, at(8)).unwrap_err()),
            "volunteer.not_active"
        );
    }

    #[test]
    fn certifications_are_read_on_the_shifts_day_and_minors_need_the_check() {
        let needs = Requirements {
            certifications: &["first_aid".to_owned()],
            works_with_minors: true,
        };
        let expired = [Held {
            kind: "first_aid".into(),
            expires_on: NaiveDate::from_ymd_opt(2027, 3, 1),
        }];
        let refused = sign_up(&shift(9, 11), &needs, &active(&expired, &[]), at(8)).unwrap_err();
        let Refusal::Ineligible { field, reason } = refused else {
            panic!("not qualified");
        };
        assert_eq!(field, "volunteer_id");
        assert_eq!(reason.code, "volunteer.not_qualified");
        assert_eq!(reason.param("certifications"), Some("first_aid"));
        assert_eq!(reason.param("background_check"), Some("missing"));
        let valid = [Held {
            kind: "first_aid".into(),
            expires_on: NaiveDate::from_ymd_opt(2027, 3, 2),
        }];
        let checked = Candidate {
            background_checked: true,
            ..active(&valid, &[])
        };
        assert!(sign_up(&shift(9, 11), &needs, &checked, at(8)).is_ok());
    }

    #[test]
    fn a_full_shift_takes_nobody_more() {
        let full = Shift {
            signed_up: 2,
            ..shift(9, 11)
        };
        assert_eq!(
            code(sign_up(&full, &NONE, &active(&[], &[]), at(8)).unwrap_err()),
            "shift.full"
        );
    }

    #[test]
    fn a_volunteer_is_never_on_two_shifts_at_once_but_back_to_back_is_fine() {
        let s = shift(9, 11);
        let other = |from, to| Commitment {
            shift: ShiftId::new(),
            starts_at: at(from),
            ends_at: at(to),
        };
        for clash in [other(10, 12), other(8, 10), other(9, 11), other(8, 12)] {
            assert_eq!(
                code(sign_up(&s, &NONE, &active(&[], &[clash]), at(8)).unwrap_err()),
                "shift.overlapping"
            );
        }
        let same = Commitment {
            shift: s.id,
            starts_at: s.starts_at,
            ends_at: s.ends_at,
        };
        assert!(sign_up(&s, &NONE, &active(&[], &[same]), at(8)).is_err());
        assert!(
            sign_up(
                &s,
                &NONE,
                &active(&[], &[other(7, 9), other(11, 13)]),
                at(8)
            )
            .is_ok()
        );
    }

    #[test]
    fn withdrawing_and_checking_in_follow_the_places_status() {
        assert_eq!(withdraw(AssignmentStatus::SignedUp), Ok(true));
        assert_eq!(withdraw(AssignmentStatus::Withdrawn), Ok(false));
        assert_eq!(
            code(withdraw(AssignmentStatus::CheckedIn).unwrap_err()),
            "assignment.not_withdrawable"
        );
        assert_eq!(check_in(AssignmentStatus::SignedUp), Ok(true));
        assert_eq!(check_in(AssignmentStatus::CheckedIn), Ok(false));
        assert_eq!(
            code(check_in(AssignmentStatus::Withdrawn).unwrap_err()),
            "assignment.status"
        );
    }

    #[test]
    fn a_check_out_counts_the_minutes_since_the_check_in_and_verifies_them() {
        let decided = check_out(
            AssignmentStatus::CheckedIn,
            Some(at(9)),
            at(9) + Duration::minutes(95),
        )
        .unwrap()
        .unwrap();
        assert_eq!(decided.minutes, 95);
        assert_eq!(decided.events, [HoursEvent::Verified]);
        let long = check_out(
            AssignmentStatus::CheckedIn,
            Some(at(0)),
            at(0) + Duration::days(2),
        );
        assert_eq!(long.unwrap().unwrap().minutes, 1440);
        assert_eq!(
            check_out(AssignmentStatus::Completed, None, at(9)),
            Ok(None)
        );
        assert_eq!(
            code(check_out(AssignmentStatus::SignedUp, None, at(9)).unwrap_err()),
            "assignment.not_checked_in"
        );
        assert_eq!(
            code(check_out(AssignmentStatus::CheckedIn, Some(at(9)), at(9)).unwrap_err()),
            "assignment.check_out_before_check_in"
        );
    }
}
