//! Where a booking, a seat and a session stand: the words the tables keep, as types.

use std::fmt;

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

/// A word the tables keep that no status has: the table's check makes it a bug.
#[derive(Debug, thiserror::Error)]
#[error("{what} {text:?} is not one of the words bookings keeps")]
pub struct UnknownWord {
    what: &'static str,
    text: String,
}

macro_rules! words {
    ($type:ident, $what:literal, $($variant:ident => $text:literal),+ $(,)?) => {
        impl $type {
            pub const ALL: &[$type] = &[$($type::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self {
                    $($type::$variant => $text),+
                }
            }

            pub fn parse(text: &str) -> Option<$type> {
                match text {
                    $($text => Some($type::$variant),)+
                    _ => None,
                }
            }
        }

        impl fmt::Display for $type {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl TryFrom<String> for $type {
            type Error = UnknownWord;

            fn try_from(text: String) -> Result<Self, UnknownWord> {
                $type::parse(&text).ok_or(UnknownWord { what: $what, text })
            }
        }
    };
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
