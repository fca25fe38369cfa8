//! Certifications: who may hold one (a staff member or a volunteer of the centre) and when
//! a certification nearing its expiry is announced: once, within the notice period, counted
//! in days from the centre's today. Whether one is valid for a shift is
//! [`super::qualification`].

use chrono::NaiveDate;
use linli_platform::error::Refusal;

use super::status::PersonKind;

/// An expiry notice decided: the days left, from the centre's today.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Expiring {
    pub days_left: i32,
}

/// Whether a certification expiring on `expires_on` is announced on the centre's `today`
/// (never when announced before, nor when it never expires, nor once it has expired).
pub fn expiry_notice(
    expires_on: Option<NaiveDate>,
    announced: bool,
    today: NaiveDate,
    notice_days: i64,
) -> Option<Expiring> {
    let expires = expires_on.filter(|_| !announced)?;
    let days_left = (expires - today).num_days();
    (0..=notice_days).contains(&days_left).then_some(Expiring {
        days_left: days_left as i32,
    })
}

/// A certification's holder is one of the centre's staff or volunteers: `found` is what
/// the id names there, if anything.
pub fn holder(found: Option<PersonKind>) -> Result<PersonKind, Refusal> {
    found.ok_or(Refusal::NotFound("staff member or volunteer"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::tests::day;

    #[test]
    fn a_certification_is_announced_within_the_notice_period_once() {
        let today = day("2027-03-01");
        let notice = |expires, announced| expiry_notice(Some(day(expires)), announced, today, 30);
        assert_eq!(
            notice("2027-03-31", false),
            Some(Expiring { days_left: 30 })
        );
        assert_eq!(notice("2027-03-01", false), Some(Expiring { days_left: 0 }));
        assert_eq!(notice("2027-04-01", false), None, "not yet");
        assert_eq!(notice("2027-02-28", false), None, "expired already");
        assert_eq!(notice("2027-03-10", true), None, "announced before");
        assert_eq!(expiry_notice(None, false, today, 30), None);
    }

    #[test]
    fn a_holder_is_staff_or_a_volunteer_of_the_centre() {
        assert_eq!(holder(Some(PersonKind::Staff)), Ok(PersonKind::Staff));
        assert_eq!(
            holder(None),
            Err(Refusal::NotFound("staff member or volunteer"))
        );
    }
}
