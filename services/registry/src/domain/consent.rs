//! Consent under the Personal Information Protection Law: given per purpose, with its
//! source; withdrawn at any time, at once; and for a child under 14, given by a guardian
//! (an adult registered resident), never by the child.

use chrono::NaiveDate;
use linli_platform::error::{Reason, Violations};

use super::DateOfBirth;

pub const PURPOSES: [&str; 3] = ["service_delivery", "activity_contact", "partner_sharing"];
pub const SOURCES: [&str; 4] = ["paper_form", "in_person", "phone", "online"];
/// Below this age a guardian consents (PIPL art. 31).
pub const GUARDIAN_AGE: u32 = 14;

/// Checks a consent record: known purpose and source, and a grant for a child under 14
/// made by a guardian who is an adult.
pub fn check(
    purpose: &str,
    source: &str,
    granted: bool,
    resident_birth: DateOfBirth,
    guardian_birth: Option<DateOfBirth>,
    today: NaiveDate,
) -> Result<(), Violations> {
    let mut violations = Violations::default();
    if !PURPOSES.contains(&purpose) {
        violations.push("purpose", Reason::one_of(&PURPOSES));
    }
    if !SOURCES.contains(&source) {
        violations.push("source", Reason::one_of(&SOURCES));
    }
    if granted && resident_birth.age_on(today) < GUARDIAN_AGE {
        match guardian_birth {
            None => violations.push(
                "guardian_id",
                Reason::new(
                    "consent.guardian_required",
                    "a resident under 14 needs a guardian's consent",
                )
                .with("age", GUARDIAN_AGE),
            ),
            Some(guardian) if guardian.age_on(today) < 18 => violations.push(
                "guardian_id",
                Reason::new("consent.guardian_minor", "the guardian must be an adult"),
            ),
            Some(_) => {}
        }
    }
    violations.into_result(|| ())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, 29).expect("valid")
    }

    fn born(text: &str) -> DateOfBirth {
        DateOfBirth::parse(text, today()).expect("valid")
    }

    #[test]
    fn a_child_under_fourteen_needs_an_adult_guardian_to_consent() {
        let child = born("2016-05-01");
        let error = check("activity_contact", "paper_form", true, child, None, today())
            .expect_err("refused");
        assert_eq!(error.0[0].field, "guardian_id");
        assert!(
            check(
                "activity_contact",
                "paper_form",
                true,
                child,
                Some(born("2012-01-01")),
                today()
            )
            .is_err()
        );
        assert!(
            check(
                "activity_contact",
                "paper_form",
                true,
                child,
                Some(born("1985-01-01")),
                today()
            )
            .is_ok()
        );
    }

    #[test]
    fn a_withdrawal_needs_no_guardian_and_adults_consent_for_themselves() {
        assert!(
            check(
                "activity_contact",
                "phone",
                false,
                born("2016-05-01"),
                None,
                today()
            )
            .is_ok()
        );
        assert!(
            check(
                "partner_sharing",
                "online",
                true,
                born("1950-01-01"),
                None,
                today()
            )
            .is_ok()
        );
    }

    #[test]
    fn unknown_purposes_and_sources_are_named() {
        let error = check("marketing", "fax", true, born("1950-01-01"), None, today())
            .expect_err("refused");
        let fields: Vec<&str> = error.0.iter().map(|v| v.field.as_str()).collect();
        assert_eq!(fields, ["purpose", "source"]);
    }
}
