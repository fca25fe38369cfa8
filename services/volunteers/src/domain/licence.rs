//! Licences (the plan's 招聘与选拔): staff who deliver a regulated service hold a licence
//! valid on the day they deliver it. Nurses and doctors need a medical licence (医师/护士执业
//! 证书, `medical_licence`), teachers a teacher's certificate (教师资格证,
//! `teacher_certificate`); other positions need none. A licence is a certification of
//! that kind ([`super::certification`]): recorded the same way, and announced the same way
//! when it nears its expiry (evaluation's alerts inbox shows it as a certification
//! expiring). Putting a staff member on a session is refused, with the reason, when the
//! licence is missing or expired on the session's day, just as a volunteer's sign-up is
//! ([`super::qualification`]).

use chrono::NaiveDate;
use linli_platform::error::{Reason, Refusal};

use super::qualification::Held;

/// The licence kinds, as certifications name them.
pub const MEDICAL_LICENCE: &str = "medical_licence";
pub const TEACHER_CERTIFICATE: &str = "teacher_certificate";
pub const KINDS: [&str; 2] = [MEDICAL_LICENCE, TEACHER_CERTIFICATE];

/// The licence a position needs to deliver its service, if any.
pub fn required(position: &str) -> Option<&'static str> {
    match position {
        "nurse" | "doctor" => Some(MEDICAL_LICENCE),
        "teacher" => Some(TEACHER_CERTIFICATE),
        _ => None,
    }
}

/// Whether a staff member employed from `employed_from` (until `employed_until`, the last
/// day worked) is employed on `day`.
pub fn employed_on(
    employed_from: NaiveDate,
    employed_until: Option<NaiveDate>,
    day: NaiveDate,
) -> Result<(), Refusal> {
    if employed_from <= day && employed_until.is_none_or(|until| day <= until) {
        return Ok(());
    }
    Err(Refusal::Ineligible {
        field: "staff_id",
        reason: Reason::new(
            "staff.not_employed",
            format!("the staff member is not employed on {day}"),
        )
        .with("session_on", day),
    })
}

/// Whether a staff member of `position`, holding `held`, may deliver a session on `day`:
/// the licence the position needs, valid that day (a licence without expiry is valid; of
/// several of the kind, any valid one will do). Refused as `staff.not_licensed`, naming
/// the licence and, when every one has expired, the day the last one did.
pub fn may_deliver(position: &str, held: &[Held], day: NaiveDate) -> Result<(), Refusal> {
    let Some(kind) = required(position) else {
        return Ok(());
    };
    let of_kind: Vec<&Held> = held.iter().filter(|h| h.kind == kind).collect();
    if of_kind
        .iter()
        .any(|h| h.expires_on.is_none_or(|expires| expires >= day))
    {
        return Ok(());
    }
    let last = of_kind.iter().filter_map(|h| h.expires_on).max();
    let reason = match last {
        Some(last) => Reason::new(
            "staff.not_licensed",
            format!("not licensed: the {kind} expired on {last}, before the session on {day}"),
        )
        .with("licence", kind)
        .with("expired_on", last)
        .with("session_on", day),
        None => Reason::new(
            "staff.not_licensed",
            format!("not licensed: a {position} needs a {kind} and holds none"),
        )
        .with("licence", kind)
        .with("session_on", day),
    };
    Err(Refusal::Ineligible {
        field: "staff_id",
        reason,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::tests::day;

    fn refused(result: Result<(), Refusal>) -> Reason {
        match result {
            Err(Refusal::Ineligible { field, reason }) => {
                assert_eq!(field, "staff_id");
                reason
            }
            other => panic!("unexpected {other:?}"),
        }
    }

    fn licence(kind: &str, expires: Option<&str>) -> Held {
        Held {
            kind: kind.into(),
            expires_on: expires.map(day),
        }
    }

    #[test]
    fn nurses_and_doctors_need_a_medical_licence_and_teachers_a_certificate() {
        assert_eq!(required("nurse"), Some(MEDICAL_LICENCE));
        assert_eq!(required("doctor"), Some(MEDICAL_LICENCE));
        assert_eq!(required("teacher"), Some(TEACHER_CERTIFICATE));
        assert_eq!(required("social_worker"), None);
        assert_eq!(may_deliver("manager", &[], day("2027-03-01")), Ok(()));
    }

    #[test]
    fn a_missing_licence_is_named() {
        let reason = refused(may_deliver(
            "teacher",
            &[licence("first_aid", None)],
            day("2027-03-01"),
        ));
        assert_eq!(reason.code, "staff.not_licensed");
        assert_eq!(reason.param("licence"), Some("teacher_certificate"));
        assert_eq!(reason.param("expired_on"), None);
    }

    #[test]
    fn a_licence_counts_through_its_last_day_and_not_after() {
        let held = [licence("medical_licence", Some("2027-03-01"))];
        assert_eq!(may_deliver("nurse", &held, day("2027-03-01")), Ok(()));
        let reason = refused(may_deliver("nurse", &held, day("2027-03-02")));
        assert_eq!(reason.param("expired_on"), Some("2027-03-01"));
        assert_eq!(reason.param("session_on"), Some("2027-03-02"));
        // A renewed one of the kind will do.
        let renewed = [
            licence("medical_licence", Some("2027-03-01")),
            licence("medical_licence", Some("2032-03-01")),
        ];
        assert_eq!(may_deliver("doctor", &renewed, day("2027-03-02")), Ok(()));
    }

    #[test]
    fn staff_deliver_only_while_employed() {
        let from = day("2027-01-01");
        assert_eq!(employed_on(from, None, day("2027-01-01")), Ok(()));
        assert_eq!(
            refused(employed_on(from, None, day("2026-12-31"))).code,
            "staff.not_employed"
        );
        assert_eq!(
            refused(employed_on(
                from,
                Some(day("2027-02-01")),
                day("2027-02-02")
            ))
            .code,
            "staff.not_employed"
        );
    }
}
