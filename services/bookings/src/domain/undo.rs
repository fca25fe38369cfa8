//! Taking back a check-in made by mistake (the wrong row tapped on the roster): who may,
//! and until when. Decided over values the store loaded under its lock.
//!
//! The window: the session's own day in the centre's time zone, and before the session
//! ends. After the end the sweep marks the seats still held as no-shows (once per
//! session), so a seat held again later would never be marked; a check-in wrong for longer
//! is a correction, not an undo.

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use linli_platform::auth::Role;
use linli_platform::error::{Reason, Refusal};

use super::Kind;
use super::changes::{self, Seat};
use super::ids::SessionId;
use super::status::{BookingStatus, SeatState};
use super::time::to_local;

/// Roles that may take a check-in back: the desk and the centre's manager (not a district
/// admin working in the centre, nor a coordinator).
pub const UNDOERS: &[Role] = &[Role::CentreManager, Role::FrontDesk];

/// What taking a check-in back changes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Undo {
    /// Not checked in (or taken back already): nothing changes and no one is told.
    Nothing,
    /// A facility booking is confirmed again.
    Facility,
    /// A seat is held again, and the booking confirmed again when the check-in had made it
    /// attended (`whole`).
    Seat { session: SessionId, whole: bool },
}

/// Decides an undo of a check-in, for the session named or the one of the booking today.
/// `facility` is a facility booking's time range.
pub fn undo_check_in(
    kind: Kind,
    status: BookingStatus,
    facility: Option<(DateTime<Utc>, DateTime<Utc>)>,
    seats: &[Seat],
    named: Option<SessionId>,
    zone: Tz,
    now: DateTime<Utc>,
) -> Result<Undo, Refusal> {
    changes::holds_places(status)?;
    if let Some((starts, ends)) = facility {
        if status != BookingStatus::Attended {
            return Ok(Undo::Nothing);
        }
        within_window(starts, ends, zone, now)?;
        return Ok(Undo::Facility);
    }
    let today = to_local(zone, now).date();
    let seat = match named {
        Some(session) => seats
            .iter()
            .find(|s| s.session == session)
            .ok_or(Refusal::NotFound("session of this booking"))?,
        None if seats.len() == 1 => &seats[0],
        // Of the sessions today, the latest one checked in; else any, to answer as it is.
        None => seats
            .iter()
            .filter(|s| to_local(zone, s.starts_at).date() == today)
            .max_by_key(|s| (s.state == SeatState::Attended, s.starts_at))
            .ok_or_else(|| Refusal::State(other_day()))?,
    };
    match seat.state {
        SeatState::Attended => {
            within_window(seat.starts_at, seat.ends_at, zone, now)?;
            Ok(Undo::Seat {
                session: seat.session,
                whole: !kind.enrols() && status == BookingStatus::Attended,
            })
        }
        SeatState::Held => Ok(Undo::Nothing),
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

/// Refused unless `now` is on the local day the session (or facility time) starts, and
/// before it ends.
fn within_window(
    starts: DateTime<Utc>,
    ends: DateTime<Utc>,
    zone: Tz,
    now: DateTime<Utc>,
) -> Result<(), Refusal> {
    if to_local(zone, starts).date() != to_local(zone, now).date() {
        return Err(Refusal::State(other_day()));
    }
    if now >= ends {
        return Err(Refusal::State(Reason::new(
            "checkin.undo_ended",
            "the session has ended; its check-in can no longer be taken back",
        )));
    }
    Ok(())
}

fn other_day() -> Reason {
    Reason::new(
        "checkin.undo_other_day",
        "a check-in can be taken back only on the day of the session",
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{Duration, TimeZone};

    const SHANGHAI: Tz = chrono_tz::Asia::Shanghai;

    /// 10:00 in Shanghai.
    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2027, 3, 1, 2, 0, 0).unwrap()
    }

    fn seat(state: SeatState, hours_from_now: i64) -> Seat {
        let starts_at = now() + Duration::hours(hours_from_now);
        Seat {
            session: SessionId::new(),
            state,
            starts_at,
            ends_at: starts_at + Duration::hours(2),
        }
    }

    fn code(r: Result<Undo, Refusal>) -> String {
        match r {
            Err(Refusal::State(reason)) => reason.code.to_string(),
            other => format!("{other:?}"),
        }
    }

    #[test]
    fn a_check_in_is_taken_back_the_same_day_until_the_session_ends() {
        let begun = [seat(SeatState::Attended, -1)];
        let undo = |status, seats: &[Seat], at| {
            undo_check_in(Kind::Appointment, status, None, seats, None, SHANGHAI, at)
        };
        assert_eq!(
            undo(BookingStatus::Attended, &begun, now()),
            Ok(Undo::Seat {
                session: begun[0].session,
                whole: true
            })
        );
        // Once the session ended (11:00), no more.
        assert_eq!(
            code(undo(
                BookingStatus::Attended,
                &begun,
                now() + Duration::hours(1)
            )),
            "checkin.undo_ended"
        );
        // Tomorrow's session, checked in early, or yesterday's: another day.
        let tomorrow = [seat(SeatState::Attended, 24)];
        assert_eq!(
            code(undo(BookingStatus::Attended, &tomorrow, now())),
            "checkin.undo_other_day"
        );
        // Taken back already: answered as it is.
        let held = [seat(SeatState::Held, -1)];
        assert_eq!(
            undo(BookingStatus::Confirmed, &held, now()),
            Ok(Undo::Nothing)
        );
        assert_eq!(
            code(undo(BookingStatus::Cancelled, &held, now())),
            "booking.cancelled"
        );
    }

    #[test]
    fn an_enrolment_stays_confirmed_and_a_facility_is_confirmed_again() {
        let seats = [
            seat(SeatState::Attended, -26),
            seat(SeatState::Attended, -1),
        ];
        assert_eq!(
            undo_check_in(
                Kind::Course,
                BookingStatus::Confirmed,
                None,
                &seats,
                None,
                SHANGHAI,
                now()
            ),
            Ok(Undo::Seat {
                session: seats[1].session,
                whole: false
            })
        );
        let range = Some((now() - Duration::hours(1), now() + Duration::hours(1)));
        let facility =
            |status| undo_check_in(Kind::Facility, status, range, &[], None, SHANGHAI, now());
        assert_eq!(facility(BookingStatus::Attended), Ok(Undo::Facility));
        assert_eq!(facility(BookingStatus::Confirmed), Ok(Undo::Nothing));
    }
}
