//! A volunteer's record: who may register (an active resident of the centre, 14 or over,
//! under 18 only with a guardian's consent), and how their status changes (pausing,
//! resuming, leaving for good), with the sign-ups it withdraws and the events it sets off.

use linli_platform::directory::ResidentStatus;
use linli_platform::error::{Reason, Refusal};

use super::status::VolunteerStatus;

/// An event a volunteer's registration or status change sets off.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum VolunteerEvent {
    Registered,
    /// An active volunteer stopped: `status` is where they are now, `reason` why (the
    /// status itself, or what the registry said of the resident).
    Deactivated {
        status: VolunteerStatus,
        reason: String,
    },
    Reactivated,
}

/// A resident who moved out or died takes nothing on: no registration, no group.
pub fn resident_active(status: &str) -> Result<(), Refusal> {
    if status == ResidentStatus::Active.as_str() {
        return Ok(());
    }
    Err(Refusal::Ineligible {
        field: "resident_id",
        reason: Reason::new(
            "volunteer.resident_inactive",
            format!("not qualified: the resident is no longer active ({status})"),
        )
        .with("status", status),
    })
}

/// Whether a resident of `age_band` (the registry's band: "0-13", "14-17", "18-59", ...)
/// may register as a volunteer. Under 14 nobody volunteers; 14 to 17 only with a
/// guardian's consent, which the desk records with the registration (the registry's
/// consents are per purpose for the resident's data and carry no guardian for 14-17, so
/// volunteers cannot read one from its events). An unknown band is treated as adult: the
/// registry sends a band with every resident.
pub fn may_volunteer(age_band: &str, guardian_consent: bool) -> Result<(), Refusal> {
    match age_band {
        "0-13" => Err(Refusal::Invalid {
            field: "resident_id",
            reason: Reason::new("volunteer.under_14", "a resident under 14 cannot volunteer"),
        }),
        "14-17" if !guardian_consent => Err(Refusal::Invalid {
            field: "guardian_consent",
            reason: Reason::new(
                "volunteer.guardian_consent",
                "a volunteer aged 14 to 17 needs a guardian's consent",
            ),
        }),
        _ => Ok(()),
    }
}

/// A registration decided: the resident is active and old enough (or has the consent);
/// the events it sets off.
pub fn register(
    resident_status: &str,
    age_band: &str,
    guardian_consent: bool,
) -> Result<Vec<VolunteerEvent>, Refusal> {
    resident_active(resident_status)?;
    may_volunteer(age_band, guardian_consent)?;
    Ok(vec![VolunteerEvent::Registered])
}

/// A resident is a volunteer once (the table's key says so; this is its answer).
pub fn already_registered() -> Refusal {
    Refusal::Conflict(Reason::new(
        "volunteer.already_registered",
        "the resident is already a volunteer",
    ))
}

/// A status change decided.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StatusChange {
    pub status: VolunteerStatus,
    /// The volunteer's sign-ups for shifts not yet started are withdrawn.
    pub withdraw_future: bool,
    pub events: Vec<VolunteerEvent>,
}

/// A coordinator pauses, resumes or ends a volunteer's work: `Ok(None)` when it is where
/// it was asked to be; leaving is final. Pausing or leaving withdraws future sign-ups, and
/// an active volunteer's stop is published.
pub fn change_status(
    before: VolunteerStatus,
    after: VolunteerStatus,
) -> Result<Option<StatusChange>, Refusal> {
    if before == after {
        return Ok(None);
    }
    if before == VolunteerStatus::Left {
        return Err(Refusal::State(Reason::new(
            "volunteer.left",
            "the volunteer has left; register again instead",
        )));
    }
    Ok(Some(stop_or_resume(before, after, after.as_str())))
}

/// The resident behind a volunteer moved out, died or was erased (`reason`): the volunteer
/// leaves. `None` when they already had.
pub fn resident_gone(before: VolunteerStatus, reason: &str) -> Option<StatusChange> {
    (before != VolunteerStatus::Left).then(|| stop_or_resume(before, VolunteerStatus::Left, reason))
}

fn stop_or_resume(before: VolunteerStatus, after: VolunteerStatus, reason: &str) -> StatusChange {
    let events = match (before, after) {
        (_, VolunteerStatus::Active) => vec![VolunteerEvent::Reactivated],
        (VolunteerStatus::Active, status) => vec![VolunteerEvent::Deactivated {
            status,
            reason: reason.to_owned(),
        }],
        _ => Vec::new(),
    };
    StatusChange {
        status: after,
        withdraw_future: after != VolunteerStatus::Active,
        events,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use VolunteerStatus::{Active, Left, Paused};

    fn invalid_field(refusal: Refusal) -> &'static str {
        match refusal {
            Refusal::Invalid { field, .. } => field,
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn under_fourteen_never_volunteers_and_under_eighteen_only_with_a_guardians_consent() {
        for consent in [false, true] {
            let refused = may_volunteer("0-13", consent).unwrap_err();
            assert_eq!(invalid_field(refused), "resident_id");
        }
        let refused = may_volunteer("14-17", false).unwrap_err();
        assert_eq!(invalid_field(refused), "guardian_consent");
        assert!(may_volunteer("14-17", true).is_ok());
        for adult in ["18-59", "60-79", "80+"] {
            assert!(may_volunteer(adult, false).is_ok());
        }
    }

    #[test]
    fn only_an_active_resident_registers_and_the_registration_is_published() {
        assert_eq!(
            register("active", "18-59", false),
            Ok(vec![VolunteerEvent::Registered])
        );
        for gone in ["moved_out", "deceased"] {
            let Err(Refusal::Ineligible { field, reason }) = register(gone, "18-59", false) else {
                panic!("refused");
            };
            assert_eq!(field, "resident_id");
            assert_eq!(reason.code, "volunteer.resident_inactive");
            assert_eq!(reason.param("status"), Some(gone));
        }
        // Inactive is said before age.
        assert!(matches!(
            register("moved_out", "0-13", false),
            Err(Refusal::Ineligible { .. })
        ));
    }

    #[test]
    fn pausing_withdraws_future_sign_ups_and_publishes_the_stop() {
        let change = change_status(Active, Paused).unwrap().unwrap();
        assert!(change.withdraw_future);
        assert_eq!(
            change.events,
            [VolunteerEvent::Deactivated {
                status: Paused,
                reason: "paused".into()
            }]
        );
        // Paused to left: withdrawn again, but the stop was already published.
        let change = change_status(Paused, Left).unwrap().unwrap();
        assert!(change.withdraw_future);
        assert!(change.events.is_empty());
    }

    #[test]
    fn resuming_is_published_and_leaving_is_final() {
        let change = change_status(Paused, Active).unwrap().unwrap();
        assert!(!change.withdraw_future);
        assert_eq!(change.events, [VolunteerEvent::Reactivated]);
        assert_eq!(change_status(Active, Active), Ok(None));
        assert_eq!(change_status(Left, Left), Ok(None));
        let Err(Refusal::State(reason)) = change_status(Left, Active) else {
            panic!("refused");
        };
        assert_eq!(reason.code, "volunteer.left");
    }

    #[test]
    fn a_resident_who_is_gone_leaves_once_with_the_registrys_reason() {
        let change = resident_gone(Active, "moved_out").unwrap();
        assert_eq!(change.status, Left);
        assert!(change.withdraw_future);
        assert_eq!(
            change.events,
            [VolunteerEvent::Deactivated {
                status: Left,
                reason: "moved_out".into()
            }]
        );
        assert!(resident_gone(Paused, "erased").unwrap().events.is_empty());
        assert_eq!(resident_gone(Left, "erased"), None);
    }
}
