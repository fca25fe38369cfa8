//! Where a volunteer, a sign-up and logged hours stand, and whom a certification or a
//! course is for: the words the tables keep, as types.

use linli_platform::words;

/// Where a volunteer's work stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum VolunteerStatus {
    Active,
    Paused,
    /// Final: a volunteer who comes back registers again.
    Left,
}

/// Where a volunteer's place on a shift stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum AssignmentStatus {
    SignedUp,
    /// Given back: the place and the time are free again.
    Withdrawn,
    CheckedIn,
    Completed,
}

/// Where logged hours stand.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum HourStatus {
    Pending,
    Verified,
    Rejected,
}

/// Who a certification or a course completion belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum PersonKind {
    Volunteer,
    Staff,
}

/// Whom a course is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Audience {
    Staff,
    Volunteers,
    All,
}

words!(VolunteerStatus, "volunteer status",
    Active => "active",
    Paused => "paused",
    Left => "left",
);

words!(AssignmentStatus, "assignment status",
    SignedUp => "signed_up",
    Withdrawn => "withdrawn",
    CheckedIn => "checked_in",
    Completed => "completed",
);

words!(HourStatus, "hour status",
    Pending => "pending",
    Verified => "verified",
    Rejected => "rejected",
);

words!(PersonKind, "person kind",
    Volunteer => "volunteer",
    Staff => "staff",
);

words!(Audience, "audience",
    Staff => "staff",
    Volunteers => "volunteers",
    All => "all",
);

impl Audience {
    /// Whether a person of `kind` may complete a course for this audience.
    pub fn includes(self, kind: PersonKind) -> bool {
        matches!(
            (self, kind),
            (Audience::All, _)
                | (Audience::Staff, PersonKind::Staff)
                | (Audience::Volunteers, PersonKind::Volunteer)
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_status_reads_back_from_its_word() {
        for status in VolunteerStatus::ALL {
            assert_eq!(VolunteerStatus::parse(status.as_str()), Some(*status));
        }
        for status in AssignmentStatus::ALL {
            assert_eq!(
                AssignmentStatus::try_from(status.to_string()).unwrap(),
                *status
            );
        }
        for status in HourStatus::ALL {
            assert_eq!(HourStatus::parse(status.as_str()), Some(*status));
        }
        assert!(VolunteerStatus::parse("retired").is_none());
        assert!(AssignmentStatus::try_from("booked".to_owned()).is_err());
    }

    #[test]
    fn a_course_is_for_its_audience_only() {
        assert!(Audience::All.includes(PersonKind::Staff));
        assert!(Audience::All.includes(PersonKind::Volunteer));
        assert!(Audience::Staff.includes(PersonKind::Staff));
        assert!(!Audience::Staff.includes(PersonKind::Volunteer));
        assert!(!Audience::Volunteers.includes(PersonKind::Staff));
    }
}
