//! Where a booking, a seat and a session stand: the words the tables keep, as types.

use linli_platform::words;

/// Where a booking stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum BookingStatus {
    Confirmed,
    Waitlisted,
    Cancelled,
    Attended,
    NoShow,
}

/// Where one seat of a booking (its place in one session) stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SeatState {
    /// A place counted in the session's `confirmed`.
    Held,
    /// A waitlist place.
    Waiting,
    Attended,
    NoShow,
    /// Given up: cancelled, lapsed or its session cancelled.
    Released,
}

/// Whether a session still takes place.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SessionStatus {
    Scheduled,
    Cancelled,
}

words!(BookingStatus, "booking status",
    Confirmed => "confirmed",
    Waitlisted => "waitlisted",
    Cancelled => "cancelled",
    Attended => "attended",
    NoShow => "no_show",
);

words!(SeatState, "seat state",
    Held => "held",
    Waiting => "waiting",
    Attended => "attended",
    NoShow => "no_show",
    Released => "released",
);

words!(SessionStatus, "session status",
    Scheduled => "scheduled",
    Cancelled => "cancelled",
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_status_reads_back_from_its_word() {
        for status in BookingStatus::ALL {
            assert_eq!(BookingStatus::parse(status.as_str()), Some(*status));
        }
        for state in SeatState::ALL {
            assert_eq!(SeatState::try_from(state.to_string()).unwrap(), *state);
        }
        assert_eq!(
            SessionStatus::parse("scheduled"),
            Some(SessionStatus::Scheduled)
        );
        assert!(BookingStatus::parse("pending").is_none());
    }
}
