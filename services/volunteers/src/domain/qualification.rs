//! Whether a volunteer qualifies for a shift on its day: active, every certification the
//! work needs valid on the shift's local date, and a background check on record for work
//! with minors. Each shortfall has its code (`match.*`), for matching to show; a sign-up
//! refused for them names them all in one `volunteer.not_qualified`.

use chrono::NaiveDate;
use linli_platform::error::{Reason, Refusal};

use super::status::VolunteerStatus;

/// A certification a person holds, as the qualification check needs it.
#[derive(Clone, Debug)]
pub struct Held {
    pub kind: String,
    pub expires_on: Option<NaiveDate>,
}

/// Why a volunteer may not take a shift on `day`, if they may not: each missing or
/// expired certification, and a missing background check for work with minors (each with
/// its code, `match.*`, and parameters). Empty when qualified.
pub fn disqualifications(
    required: &[String],
    held: &[Held],
    works_with_minors: bool,
    background_checked: bool,
    day: NaiveDate,
) -> Vec<Reason> {
    let mut reasons = Vec::new();
    if works_with_minors && !background_checked {
        reasons.push(Reason::new(
            "match.no_background_check",
            "works with minors and has no background check on record",
        ));
    }
    for kind in required {
        let of_kind: Vec<&Held> = held.iter().filter(|h| &h.kind == kind).collect();
        if of_kind.is_empty() {
            reasons.push(
                Reason::new(
                    "match.certification_missing",
                    format!("needs a {kind} certification and holds none"),
                )
                .with("kind", kind),
            );
            continue;
        }
        let valid = of_kind
            .iter()
            .any(|h| h.expires_on.is_none_or(|expires| expires >= day));
        if !valid {
            let last = of_kind.iter().filter_map(|h| h.expires_on).max();
            if let Some(last) = last {
                reasons.push(
                    Reason::new(
                        "match.certification_expired",
                        format!(
                            "{kind} certification expired on {last}, before the shift on {day}"
                        ),
                    )
                    .with("kind", kind)
                    .with("expired_on", last)
                    .with("shift_on", day),
                );
            }
        }
    }
    reasons
}

/// A volunteer who is not active takes no shift.
pub fn must_be_active(status: VolunteerStatus) -> Result<(), Refusal> {
    if status == VolunteerStatus::Active {
        return Ok(());
    }
    Err(Refusal::Ineligible {
        field: "volunteer_id",
        reason: Reason::new(
            "volunteer.not_active",
            format!("not qualified: the volunteer is {status}"),
        )
        .with("status", status),
    })
}

/// The refusal of a sign-up for the shortfalls [`disqualifications`] found (none: no
/// refusal): every reason in its words, the certifications named, and whether the
/// background check is missing.
pub fn not_qualified(reasons: &[Reason]) -> Result<(), Refusal> {
    if reasons.is_empty() {
        return Ok(());
    }
    let english: Vec<&str> = reasons.iter().map(|r| r.english.as_str()).collect();
    let certifications: Vec<&str> = reasons.iter().filter_map(|r| r.param("kind")).collect();
    let mut refused = Reason::new(
        "volunteer.not_qualified",
        format!("not qualified: {}", english.join("; ")),
    );
    if !certifications.is_empty() {
        refused = refused.with("certifications", certifications.join(","));
    }
    if reasons
        .iter()
        .any(|r| r.code == "match.no_background_check")
    {
        refused = refused.with("background_check", "missing");
    }
    Err(Refusal::Ineligible {
        field: "volunteer_id",
        reason: refused,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::tests::day;

    #[test]
    fn an_expired_certification_is_named_with_its_date_and_the_shifts() {
        let held = [Held {
            kind: "first_aid".into(),
            expires_on: Some(day("2027-03-01")),
        }];
        let reasons =
            disqualifications(&["first_aid".into()], &held, false, true, day("2027-03-02"));
        let english: Vec<&str> = reasons.iter().map(|r| r.english.as_str()).collect();
        assert_eq!(
            english,
            ["first_aid certification expired on 2027-03-01, before the shift on 2027-03-02"]
        );
        assert_eq!(reasons[0].code, "match.certification_expired");
        assert_eq!(reasons[0].param("expired_on"), Some("2027-03-01"));
        assert!(
            disqualifications(&["first_aid".into()], &held, false, true, day("2027-03-01"))
                .is_empty()
        );
    }

    #[test]
    fn a_missing_certification_and_background_check_are_both_named() {
        let reasons = disqualifications(&["first_aid".into()], &[], true, false, day("2027-03-02"));
        assert_eq!(reasons.len(), 2);
        assert!(reasons[1].english.contains("holds none"));
        assert_eq!(reasons[0].code, "match.no_background_check");
        assert_eq!(reasons[1].code, "match.certification_missing");
        assert_eq!(reasons[1].param("kind"), Some("first_aid"));
    }

    #[test]
    fn a_certification_without_expiry_or_a_later_one_of_the_kind_qualifies() {
        let held = [
            Held {
                kind: "first_aid".into(),
                expires_on: Some(day("2027-01-01")),
            },
            Held {
                kind: "first_aid".into(),
                expires_on: None,
            },
        ];
        let required = ["first_aid".to_owned()];
        assert!(disqualifications(&required, &held, false, false, day("2030-01-01")).is_empty());
        assert!(disqualifications(&[], &[], false, false, day("2030-01-01")).is_empty());
        // Minors need the check, whatever the certifications.
        assert_eq!(
            disqualifications(&required, &held, true, false, day("2030-01-01"))[0].code,
            "match.no_background_check"
        );
    }

    #[test]
    fn a_sign_up_refused_names_every_shortfall_and_the_certifications() {
        assert_eq!(not_qualified(&[]), Ok(()));
        let reasons = disqualifications(&["first_aid".into()], &[], true, false, day("2027-03-02"));
        let Err(Refusal::Ineligible { field, reason }) = not_qualified(&reasons) else {
            panic!("refused");
        };
        assert_eq!(field, "volunteer_id");
        assert_eq!(reason.code, "volunteer.not_qualified");
        assert_eq!(reason.param("certifications"), Some("first_aid"));
        assert_eq!(reason.param("background_check"), Some("missing"));
        assert!(
            reason
                .english
                .starts_with("not qualified: works with minors")
        );
    }

    #[test]
    fn only_an_active_volunteer_takes_a_shift() {
        assert_eq!(must_be_active(VolunteerStatus::Active), Ok(()));
        for status in [VolunteerStatus::Paused, VolunteerStatus::Left] {
            let Err(Refusal::Ineligible { reason, .. }) = must_be_active(status) else {
                panic!("refused");
            };
            assert_eq!(reason.code, "volunteer.not_active");
            assert_eq!(reason.param("status"), Some(status.as_str()));
        }
    }
}
