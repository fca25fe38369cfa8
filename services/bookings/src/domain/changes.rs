//! What happens to a booking after it is made: a cancellation (and the refund and the
//! waitlist's promotion it may bring), a check-in, a session that ended without anyone.
//! Decided over values the store loaded under its locks; the store persists the answer
//! and records the events it lists.

use chrono::{DateTime, Utc};

use super::Kind;
use super::booking::{CHECK_IN_OPENS, Refusal};
use super::eligibility::{ResidentStatus, may_book};
use super::ids::SessionId;
use super::status::{BookingStatus, SeatState, SessionStatus};
use linli_platform::error::Reason;

/// A seat of a booking as it stands, with its session's times.
#[derive(Clone, Copy, Debug)]
pub struct Seat {
    pub session: SessionId,
    pub state: SeatState,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
}

/// Whether a booking may be cancelled: `Ok(false)` when it already is (nothing changes
/// and no one is told), refused once it was attended or marked a no-show.
pub fn may_cancel(status: BookingStatus) -> Result<bool, Refusal> {
    match status {
        BookingStatus::Cancelled => Ok(false),
        BookingStatus::Attended => Err(Refusal::State(Reason::new(
            "booking.attended",
            "the booking was attended and can no longer be cancelled",
        ))),
        BookingStatus::NoShow => Err(Refusal::State(no_show())),
        BookingStatus::Confirmed | BookingStatus::Waitlisted => Ok(true),
    }
}

/// What a cancellation sets off, once its seats to come and its facility are freed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Cancellation {
    /// The fee charged is refunded (a refund id is made for it).
    pub refund: bool,
    /// The freed seats go to the waitlist.
    pub promote: bool,
    /// The session the cancellation event names: the booking's first.
    pub first: Option<SessionId>,
}

/// A cancelled booking is refunded when it was charged, not refunded yet, and nothing of
/// it has begun: its facility's range or a session it holds a place in has not started
/// (a seat attended counts as begun); a confirmed booking's freed seats are promoted.
/// `seats` are as they stand after the freeing, each with its session's status.
pub fn cancellation(
    status: BookingStatus,
    charged: bool,
    refunded: bool,
    facility_from: Option<DateTime<Utc>>,
    seats: &[(Seat, SessionStatus)],
    freed_any: bool,
    now: DateTime<Utc>,
) -> Cancellation {
    let begun = facility_from.is_some_and(|from| from <= now)
        || seats.iter().any(|(s, session)| {
            s.state == SeatState::Attended
                || (s.starts_at <= now
                    && *session == SessionStatus::Scheduled
                    && s.state != SeatState::Waiting)
        });
    Cancellation {
        refund: charged && !refunded && !begun,
        promote: status == BookingStatus::Confirmed && freed_any,
        first: seats
            .iter()
            .map(|(s, _)| s)
            .min_by_key(|s| s.starts_at)
            .map(|s| s.session),
    }
}

/// Whether a waitlisted booking may take freed seats: it is still waitlisted and its
/// resident may still book (the directory's standing; None when no longer known). It
/// takes them when every session it waits for has room ([`has_room`]).
pub fn may_promote(status: BookingStatus, resident: Option<ResidentStatus>) -> bool {
    status == BookingStatus::Waitlisted && resident.is_some_and(may_book)
}

/// Whether sessions (their `confirmed` and `capacity`, each scheduled and not over) all
/// have a seat free; none is no room.
pub fn has_room(sessions: &[(i32, i32)]) -> bool {
    !sessions.is_empty()
        && sessions
            .iter()
            .all(|(confirmed, capacity)| confirmed < capacity)
}

/// What a check-in changes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CheckIn {
    /// Already checked in: nothing changes and no one is told.
    Nothing,
    /// A facility booking is attended: told as attended.
    Facility,
    /// A seat is attended, and the booking too when it is not an enrolment with sessions
    /// to come (`whole`): told as attended and as a service delivered.
    Seat { session: SessionId, whole: bool },
}

/// Checks a booking in, for the session named or the one open for check-in now.
pub fn check_in(
    kind: Kind,
    status: BookingStatus,
    facility_from: Option<DateTime<Utc>>,
    seats: &[Seat],
    named: Option<SessionId>,
    now: DateTime<Utc>,
) -> Result<CheckIn, Refusal> {
    holds_places(status)?;
    if let Some(starts) = facility_from {
        if status != BookingStatus::Confirmed {
            return Ok(CheckIn::Nothing);
        }
        if starts > now + CHECK_IN_OPENS {
            return Err(Refusal::State(check_in_not_open(
                starts,
                "check-in opens two hours before the booking",
            )));
        }
        return Ok(CheckIn::Facility);
    }
    let seat = match named {
        Some(session) => seats
            .iter()
            .find(|s| s.session == session)
            .ok_or(Refusal::NotFound("session of this booking"))?,
        None if seats.len() == 1 => &seats[0],
        None => seats
            .iter()
            .filter(|s| {
                s.state == SeatState::Held && s.ends_at > now && s.starts_at <= now + CHECK_IN_OPENS
            })
            .min_by_key(|s| s.starts_at)
            .ok_or_else(|| {
                Refusal::State(Reason::new(
                    "checkin.no_open_session",
                    "no session of this booking is open for check-in now; name the session",
                ))
            })?,
    };
    match seat.state {
        SeatState::Attended => Ok(CheckIn::Nothing),
        SeatState::Held if seat.starts_at > now + CHECK_IN_OPENS => {
            Err(Refusal::State(check_in_not_open(
                seat.starts_at,
                "check-in opens two hours before the session",
            )))
        }
        SeatState::Held => Ok(CheckIn::Seat {
            session: seat.session,
            whole: !kind.enrols(),
        }),
        SeatState::NoShow => Err(Refusal::State(Reason::new(
            "checkin.session_no_show",
            "the session was already marked as a no-show",
        ))),
        SeatState::Waiting | SeatState::Released => Err(Refusal::State(Reason::new(
            "checkin.no_place",
            "the booking has no place in that session",
        ))),
    }
}

/// Only a booking that holds its places (confirmed, or attended already) is checked in,
/// or has a check-in undone.
pub(super) fn holds_places(status: BookingStatus) -> Result<(), Refusal> {
    let reason = match status {
        BookingStatus::Confirmed | BookingStatus::Attended => return Ok(()),
        BookingStatus::Cancelled => Reason::new("booking.cancelled", "the booking is cancelled"),
        BookingStatus::Waitlisted => {
            Reason::new("booking.waitlisted", "the booking is still on the waitlist")
        }
        BookingStatus::NoShow => no_show(),
    };
    Err(Refusal::State(reason))
}

fn no_show() -> Reason {
    Reason::new("booking.no_show", "the booking was marked as a no-show")
}

/// Check-in is not open yet: it opens [`CHECK_IN_OPENS`] before `starts` (parameters
/// `opens_at`, RFC 3339, and `hours_before`).
fn check_in_not_open(starts: DateTime<Utc>, english: &str) -> Reason {
    Reason::new("checkin.not_open", english)
        .with(
            "opens_at",
            (starts - CHECK_IN_OPENS).to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        )
        .with("hours_before", CHECK_IN_OPENS.num_hours())
}

/// Whether a promoted (or confirmed) booking's fee is still to be charged: there is one,
/// and no charge was made for it yet.
pub fn charge_due(fee_minor: i64, charged: bool) -> bool {
    fee_minor != 0 && !charged
}

/// Whether a session may be moved or cancelled: not once it is cancelled.
pub fn may_change_session(status: SessionStatus) -> Result<(), Refusal> {
    match status {
        SessionStatus::Scheduled => Ok(()),
        SessionStatus::Cancelled => Err(Refusal::State(Reason::new(
            "session.cancelled",
            "the session is cancelled",
        ))),
    }
}

/// Whether a seat left held when its session ended makes the whole booking a no-show: a
/// confirmed booking of one session; an enrolment goes on to its next sessions.
pub fn no_show_ends_booking(kind: Kind, status: BookingStatus) -> bool {
    !kind.enrols() && status == BookingStatus::Confirmed
}

/// Whether a waitlisted booking whose places lapsed (their sessions ended) is given up:
/// it waits for nothing any more.
pub fn waitlist_closed(status: BookingStatus, still_waiting: bool) -> bool {
    status == BookingStatus::Waitlisted && !still_waiting
}

/// Whether a booking touched by cancelled sessions is cancelled with them: nothing is
/// left of it to attend (no seat held, waiting or attended).
pub fn left_with_nothing(states: &[SeatState]) -> bool {
    !states.iter().any(|s| {
        matches!(
            s,
            SeatState::Held | SeatState::Waiting | SeatState::Attended
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{Duration, TimeZone};

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2027, 3, 1, 1, 0, 0).unwrap()
    }

    fn seat(state: SeatState, hours_ahead: i64) -> Seat {
        let starts_at = now() + Duration::hours(hours_ahead);
        Seat {
            session: SessionId::new(),
            state,
            starts_at,
            ends_at: starts_at + Duration::hours(1),
        }
    }

    fn scheduled(seat: Seat) -> [(Seat, SessionStatus); 1] {
        [(seat, SessionStatus::Scheduled)]
    }

    #[test]
    fn a_cancellation_refunds_only_what_has_not_begun() {
        let later = scheduled(seat(SeatState::Released, 24));
        let c = cancellation(
            BookingStatus::Confirmed,
            true,
            false,
            None,
            &later,
            true,
            now(),
        );
        assert!(c.refund && c.promote);
        assert_eq!(c.first, Some(later[0].0.session));
        let begun = scheduled(seat(SeatState::Released, -1));
        assert!(
            !cancellation(
                BookingStatus::Confirmed,
                true,
                false,
                None,
                &begun,
                true,
                now()
            )
            .refund
        );
        let attended = scheduled(seat(SeatState::Attended, 24));
        assert!(
            !cancellation(
                BookingStatus::Confirmed,
                true,
                false,
                None,
                &attended,
                true,
                now()
            )
            .refund
        );
        assert!(
            !cancellation(
                BookingStatus::Waitlisted,
                true,
                false,
                None,
                &later,
                true,
                now()
            )
            .promote
        );
        assert!(
            !cancellation(
                BookingStatus::Confirmed,
                true,
                true,
                None,
                &later,
                true,
                now()
            )
            .refund
        );
        assert!(
            !cancellation(
                BookingStatus::Confirmed,
                true,
                false,
                Some(now()),
                &[],
                false,
                now()
            )
            .refund
        );
        assert_eq!(may_cancel(BookingStatus::Cancelled), Ok(false));
        assert!(may_cancel(BookingStatus::Attended).is_err());
    }

    #[test]
    fn check_in_opens_two_hours_before_and_only_once() {
        let soon = [seat(SeatState::Held, 1)];
        assert_eq!(
            check_in(
                Kind::Event,
                BookingStatus::Confirmed,
                None,
                &soon,
                None,
                now()
            ),
            Ok(CheckIn::Seat {
                session: soon[0].session,
                whole: true
            })
        );
        let far = [seat(SeatState::Held, 3)];
        assert!(
            check_in(
                Kind::Event,
                BookingStatus::Confirmed,
                None,
                &far,
                None,
                now()
            )
            .is_err()
        );
        let done = [seat(SeatState::Attended, 1)];
        assert_eq!(
            check_in(
                Kind::Course,
                BookingStatus::Confirmed,
                None,
                &done,
                None,
                now()
            ),
            Ok(CheckIn::Nothing)
        );
        assert_eq!(
            check_in(
                Kind::Facility,
                BookingStatus::Attended,
                Some(now()),
                &[],
                None,
                now()
            ),
            Ok(CheckIn::Nothing)
        );
        assert!(
            check_in(
                Kind::Event,
                BookingStatus::Waitlisted,
                None,
                &soon,
                None,
                now()
            )
            .is_err()
        );
    }

    #[test]
    fn promotion_needs_room_everywhere_and_a_resident_who_may_still_book() {
        assert!(may_promote(
            BookingStatus::Waitlisted,
            Some(ResidentStatus::Active)
        ));
        assert!(!may_promote(
            BookingStatus::Waitlisted,
            Some(ResidentStatus::MovedOut)
        ));
        assert!(!may_promote(BookingStatus::Waitlisted, None));
        assert!(!may_promote(
            BookingStatus::Cancelled,
            Some(ResidentStatus::Active)
        ));
        assert!(has_room(&[(9, 10)]));
        assert!(!has_room(&[(9, 10), (10, 10)]));
        assert!(!has_room(&[]));
        assert!(no_show_ends_booking(Kind::Event, BookingStatus::Confirmed));
        assert!(!no_show_ends_booking(
            Kind::Course,
            BookingStatus::Confirmed
        ));
        assert!(left_with_nothing(&[SeatState::Released, SeatState::NoShow]));
        assert!(charge_due(500, false) && !charge_due(500, true) && !charge_due(0, false));
        assert!(!left_with_nothing(&[
            SeatState::Released,
            SeatState::Attended
        ]));
    }
}
