//! Hours: logged by the desk (or a partner's system) for a volunteer, pending until a
//! coordinator other than whoever logged them verifies or rejects them; verified at once
//! on a check-out. Verified hours are published, and each milestone a volunteer's total
//! reaches is recognised once.

use linli_platform::error::{Reason, Refusal};

use super::ids::VolunteerId;
use super::status::HourStatus;

/// Verified hours that are recognised, each once.
pub const MILESTONE_HOURS: [i32; 3] = [50, 100, 500];

/// An event verified hours set off, in the order it is recorded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum HoursEvent {
    /// The entry's hours are verified (volunteers.shift.completed).
    Verified,
    /// The volunteer's verified total reached `hours` for the first time.
    Milestone { hours: i32, total_minutes: i64 },
}

/// The milestones a total of verified minutes has reached.
pub fn milestones_reached(total_minutes: i64) -> Vec<i32> {
    MILESTONE_HOURS
        .into_iter()
        .filter(|hours| total_minutes >= i64::from(*hours) * 60)
        .collect()
}

/// The milestones a new verified total reaches that were not `recorded` before, as the
/// events to publish.
pub fn new_milestones(total_minutes: i64, recorded: &[i32]) -> Vec<HoursEvent> {
    milestones_reached(total_minutes)
        .into_iter()
        .filter(|hours| !recorded.contains(hours))
        .map(|hours| HoursEvent::Milestone {
            hours,
            total_minutes,
        })
        .collect()
}

/// Hours logged against a place on a shift must be the volunteer's own place;
/// `assignment_of` is whose place the named one is (None when none is named).
pub fn may_log(volunteer: VolunteerId, assignment_of: Option<VolunteerId>) -> Result<(), Refusal> {
    match assignment_of {
        Some(holder) if holder != volunteer => Err(Refusal::State(Reason::new(
            "assignment.other_volunteer",
            "the assignment is another volunteer's",
        ))),
        _ => Ok(()),
    }
}

/// A place's hours are recorded once (the table's key says so; this is its answer).
pub fn already_recorded() -> Refusal {
    Refusal::Conflict(Reason::new(
        "hours.already_recorded",
        "hours for this assignment are already recorded",
    ))
}

/// What a coordinator's verification of an entry decides.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verification {
    /// Asked again for what was already decided: nothing changes, nobody is told again.
    Unchanged,
    Decided {
        status: HourStatus,
        /// Why it was rejected; empty when verified.
        rejection_reason: String,
        events: Vec<HoursEvent>,
    },
}

/// Verifies (`approve`) or rejects a pending entry, by someone other than `logged_by`.
/// `reason` is the rejection's (the request requires it to reject).
pub fn verify(
    status: HourStatus,
    logged_by: &str,
    by: &str,
    approve: bool,
    reason: &str,
) -> Result<Verification, Refusal> {
    if status != HourStatus::Pending {
        if (status == HourStatus::Verified) == approve {
            return Ok(Verification::Unchanged);
        }
        return Err(Refusal::State(
            Reason::new(
                "hours.already_decided",
                format!("the entry is already {status}"),
            )
            .with("status", status),
        ));
    }
    if logged_by == by {
        return Err(Refusal::State(Reason::new(
            "hours.self_verification",
            "hours are verified by someone other than who logged them",
        )));
    }
    Ok(if approve {
        Verification::Decided {
            status: HourStatus::Verified,
            rejection_reason: String::new(),
            events: vec![HoursEvent::Verified],
        }
    } else {
        Verification::Decided {
            status: HourStatus::Rejected,
            rejection_reason: reason.to_owned(),
            events: Vec::new(),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code(refusal: Refusal) -> String {
        match refusal {
            Refusal::State(reason) | Refusal::Conflict(reason) => reason.code.into_owned(),
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn milestones_are_50_100_and_500_hours() {
        assert!(milestones_reached(49 * 60 + 59).is_empty());
        assert_eq!(milestones_reached(100 * 60), [50, 100]);
        assert_eq!(milestones_reached(600 * 60), [50, 100, 500]);
    }

    #[test]
    fn each_milestone_is_published_once() {
        assert_eq!(
            new_milestones(120 * 60, &[50]),
            [HoursEvent::Milestone {
                hours: 100,
                total_minutes: 7200
            }]
        );
        assert!(new_milestones(120 * 60, &[50, 100]).is_empty());
        assert_eq!(new_milestones(500 * 60, &[]).len(), 3);
    }

    #[test]
    fn hours_go_against_the_volunteers_own_place_only() {
        let (mine, theirs) = (VolunteerId::new(), VolunteerId::new());
        assert_eq!(may_log(mine, None), Ok(()));
        assert_eq!(may_log(mine, Some(mine)), Ok(()));
        assert_eq!(
            code(may_log(mine, Some(theirs)).unwrap_err()),
            "assignment.other_volunteer"
        );
    }

    #[test]
    fn a_coordinator_other_than_the_logger_verifies_or_rejects_with_the_reason() {
        assert_eq!(
            verify(HourStatus::Pending, "desk", "coord", true, ""),
            Ok(Verification::Decided {
                status: HourStatus::Verified,
                rejection_reason: String::new(),
                events: vec![HoursEvent::Verified],
            })
        );
        assert_eq!(
            verify(HourStatus::Pending, "desk", "coord", false, "no such shift"),
            Ok(Verification::Decided {
                status: HourStatus::Rejected,
                rejection_reason: "no such shift".into(),
                events: Vec::new(),
            })
        );
        assert_eq!(
            code(verify(HourStatus::Pending, "desk", "desk", true, "").unwrap_err()),
            "hours.self_verification"
        );
    }

    #[test]
    fn a_decided_entry_answers_the_same_decision_again_and_refuses_the_other() {
        assert_eq!(
            verify(HourStatus::Verified, "desk", "coord", true, ""),
            Ok(Verification::Unchanged)
        );
        assert_eq!(
            verify(HourStatus::Rejected, "desk", "coord", false, "again"),
            Ok(Verification::Unchanged)
        );
        let Err(Refusal::State(reason)) = verify(HourStatus::Rejected, "desk", "coord", true, "")
        else {
            panic!("refused");
        };
        assert_eq!(reason.code, "hours.already_decided");
        assert_eq!(reason.param("status"), Some("rejected"));
    }
}
