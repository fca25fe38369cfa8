//! A booking's rules, decided over values the store loaded: who may book, what they pay,
//! whether they get a seat or a waitlist place, and which events that sets off. The store
//! loads what [`decide`] needs (locking what it must), calls it, and persists the
//! [`Decision`]: it keeps no rule and chooses no event.
//!
//! The fast path ([`at_once`]) is the same decision taken before anything is loaded: the
//! statement that books it tests the resident's row and the session's room itself, with
//! the [`RowTest`] derived from the same eligibility rule [`decide`] applies.

use chrono::{DateTime, Duration, NaiveDateTime, Utc};
use chrono_tz::Tz;

use super::Kind;
use super::eligibility::{Applicant, Eligibility, RowTest};
use super::ids::{CentreId, FacilityId, OfferingId, SessionId};
use super::price::{Concession, price_for};
use super::status::{BookingStatus, SeatState, SessionStatus};
use super::time::OpeningHours;
use linli_platform::error::Reason;

/// How long after its start an unclaimed facility booking is released as a no-show.
pub const FACILITY_GRACE: Duration = Duration::minutes(15);
/// How early before a session (or a facility booking) the desk may check someone in.
pub const CHECK_IN_OPENS: Duration = Duration::hours(2);
/// The longest reason the desk may give for cancelling a booking, in characters.
pub const CANCEL_REASON_MAX: usize = 200;
/// How far in the past a facility booking may start: a room booked at its door.
pub const FACILITY_LATE_START: Duration = Duration::minutes(5);

/// Why a booking (or a change to one) is refused: the platform's refusals.
pub use linli_platform::error::Refusal;

/// The resident may not book the offering; the reason is for the desk to read out, and
/// says so ("not eligible: …").
fn not_eligible(mut reason: Reason) -> Refusal {
    reason.english = format!("not eligible: {}", reason.english);
    Refusal::Ineligible {
        field: "resident_id",
        reason,
    }
}

fn invalid(field: &'static str, reason: Reason) -> Refusal {
    Refusal::Invalid { field, reason }
}

/// What deciding needs of an offering.
#[derive(Clone, Copy, Debug)]
pub struct Terms<'a> {
    pub id: OfferingId,
    pub centre: CentreId,
    pub kind: Kind,
    pub active: bool,
    pub eligibility: Eligibility<'a>,
    pub fee_minor: i64,
    pub concessions: &'a [Concession],
    pub facility: Option<FacilityId>,
}

/// Who a booking is for, as the directory knows them.
#[derive(Clone, Copy, Debug)]
pub enum Who<'a> {
    /// Nobody: the centre books a facility itself.
    Centre,
    /// A resident the directory does not know (never registered, erased, or not yet
    /// heard of: a registration a moment ago may still be arriving).
    Unknown,
    /// A resident the directory knows, of the centre it names.
    Resident {
        centre: CentreId,
        applicant: Applicant<'a>,
    },
}

/// A session as it stands while locked for booking.
#[derive(Clone, Copy, Debug)]
pub struct SessionState {
    pub id: SessionId,
    pub status: SessionStatus,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub local_start: NaiveDateTime,
    pub capacity: i32,
    pub confirmed: i32,
    /// The resident already has a place (or a waitlist place) in it.
    pub mine: bool,
}

/// What the booking asks for, loaded.
#[derive(Clone, Copy, Debug)]
pub enum Wanted<'a> {
    /// A facility offering's room for a time range; the facility as found (None when the
    /// centre has no such facility) under its lock, and the centre's zone.
    Facility {
        range: Option<(DateTime<Utc>, DateTime<Utc>)>,
        facility: Option<(FacilityId, &'a OpeningHours)>,
        zone: Tz,
    },
    /// Sessions, locked: the one named (none when none was named), or every upcoming one
    /// for an enrolment ([`Kind::enrols`]).
    Sessions {
        named: Option<SessionId>,
        locked: &'a [SessionState],
    },
}

/// The session a booking's events name: the first it covers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FirstSession {
    pub id: SessionId,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
}

impl From<&SessionState> for FirstSession {
    fn from(session: &SessionState) -> Self {
        FirstSession {
            id: session.id,
            starts_at: session.starts_at,
            ends_at: session.ends_at,
        }
    }
}

/// What the resident pays.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Fee {
    pub amount_minor: i64,
    /// The offering's price before any concession.
    pub list_minor: i64,
    /// The concession's category, empty when none applied.
    pub concession: String,
}

impl Fee {
    /// Whether a confirmation charges it (nothing to charge for a free place).
    pub fn charged(&self) -> bool {
        self.amount_minor != 0
    }
}

/// Where the booking sits.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Seats {
    /// A seat in each session, all in one state.
    Sessions {
        ids: Vec<SessionId>,
        state: SeatState,
    },
    /// The facility held for the range.
    Facility {
        id: FacilityId,
        starts_at: DateTime<Utc>,
        ends_at: DateTime<Utc>,
    },
}

/// An event the decision sets off, in the order it is recorded. The store renders it
/// with what it persisted (ids it made, the arrival, the waitlist position).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Event {
    /// The facility is held for the booking's range.
    FacilityHeld,
    Confirmed {
        first: Option<FirstSession>,
    },
    /// The fee is charged (a charge id made for it).
    FeeCharged,
    Waitlisted {
        first: Option<SessionId>,
    },
}

/// What [`decide`] decided: the booking's status, its seats, its fee and its events.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Decision {
    pub status: BookingStatus,
    pub seats: Seats,
    pub fee: Fee,
    pub events: Vec<Event>,
}

/// Whether the resident may book the offering, and what they pay if so.
pub fn admit(terms: &Terms<'_>, who: &Who<'_>) -> Result<Fee, Refusal> {
    let list = |amount_minor, concession| Fee {
        amount_minor,
        list_minor: terms.fee_minor,
        concession,
    };
    match who {
        Who::Resident { centre, applicant } if *centre == terms.centre => {
            if let Some(reason) = terms.eligibility.refusal(applicant) {
                return Err(not_eligible(reason));
            }
            let (amount, concession) =
                price_for(terms.fee_minor, terms.concessions, applicant.categories);
            Ok(list(amount, concession))
        }
        Who::Resident { .. } | Who::Unknown => Err(Refusal::NotAResident("resident_id")),
        Who::Centre if terms.kind == Kind::Facility => Ok(list(terms.fee_minor, String::new())),
        Who::Centre => Err(invalid(
            "resident_id",
            Reason::new(
                "booking.resident_required",
                "is required except when the centre books a facility itself",
            ),
        )),
    }
}

/// Decides a booking: refused (and why), or confirmed while every session it needs has a
/// seat, waitlisted when one has none; a facility is held for the range asked, within
/// its opening hours. A clash with another hold is the database's to find: the store
/// names it.
pub fn decide(
    terms: &Terms<'_>,
    who: &Who<'_>,
    wanted: &Wanted<'_>,
    now: DateTime<Utc>,
) -> Result<Decision, Refusal> {
    if !terms.active {
        return Err(Refusal::State(Reason::new(
            "offering.inactive",
            "the offering is no longer offered",
        )));
    }
    let fee = admit(terms, who)?;
    match *wanted {
        Wanted::Facility {
            range,
            facility,
            zone,
        } => {
            let (starts_at, ends_at) = range.ok_or(invalid(
                "starts_at",
                Reason::new(
                    "facility.range_required",
                    "a facility booking needs starts_at and ends_at",
                ),
            ))?;
            if starts_at < now - FACILITY_LATE_START {
                return Err(invalid(
                    "starts_at",
                    Reason::new("in_past", "must not be in the past"),
                ));
            }
            let (id, hours) = facility.ok_or(Refusal::NotFound("facility"))?;
            if let Some(reason) = hours.refusal(zone, starts_at, ends_at) {
                return Err(Refusal::State(reason));
            }
            let mut events = vec![Event::FacilityHeld, Event::Confirmed { first: None }];
            if fee.charged() {
                events.push(Event::FeeCharged);
            }
            Ok(Decision {
                status: BookingStatus::Confirmed,
                seats: Seats::Facility {
                    id,
                    starts_at,
                    ends_at,
                },
                fee,
                events,
            })
        }
        Wanted::Sessions { named, locked } => {
            let enrols = terms.kind.enrols();
            if !enrols && named.is_none() {
                return Err(invalid(
                    "session_id",
                    Reason::new("required", "is required for an appointment or event"),
                ));
            }
            if locked.is_empty() {
                return Err(if enrols {
                    Refusal::State(Reason::new(
                        "offering.no_upcoming_sessions",
                        "the offering has no upcoming sessions",
                    ))
                } else {
                    Refusal::NotFound("session")
                });
            }
            let at = |s: &SessionState| s.local_start.format("%Y-%m-%d %H:%M");
            if let Some(s) = locked.iter().find(|s| s.status != SessionStatus::Scheduled) {
                return Err(Refusal::State(
                    Reason::new(
                        "session.cancelled",
                        format!("the session at {} is cancelled", at(s)),
                    )
                    .with("starts_at", at(s)),
                ));
            }
            if let Some(s) = locked.iter().find(|s| s.ends_at <= now) {
                return Err(Refusal::State(
                    Reason::new("session.over", format!("the session at {} is over", at(s)))
                        .with("starts_at", at(s)),
                ));
            }
            if locked.iter().any(|s| s.mine) {
                return Err(Refusal::Conflict(Reason::new(
                    "booking.already_booked",
                    "the resident already has a place (or a waitlist place) in this session",
                )));
            }
            let ids = locked.iter().map(|s| s.id).collect();
            let first = locked.iter().min_by_key(|s| s.starts_at);
            if locked.iter().all(|s| s.confirmed < s.capacity) {
                Ok(seated(ids, fee, first.map(FirstSession::from)))
            } else {
                Ok(Decision {
                    status: BookingStatus::Waitlisted,
                    seats: Seats::Sessions {
                        ids,
                        state: SeatState::Waiting,
                    },
                    fee,
                    events: vec![Event::Waitlisted {
                        first: first.map(|s| s.id),
                    }],
                })
            }
        }
    }
}

/// A confirmed place in sessions with room: the confirmation, and the fee's charge.
fn seated(ids: Vec<SessionId>, fee: Fee, first: Option<FirstSession>) -> Decision {
    let mut events = vec![Event::Confirmed { first }];
    if fee.charged() {
        events.push(Event::FeeCharged);
    }
    Decision {
        status: BookingStatus::Confirmed,
        seats: Seats::Sessions {
            ids,
            state: SeatState::Held,
        },
        fee,
        events,
    }
}

/// The fast path's decision, taken before the resident and the session are loaded: a
/// single session named by a resident, of an offering that books one session at a time.
/// The statement that books it must find the session scheduled, unmoved (at `session`'s
/// times), not over and with room, and the resident's row passing the [`RowTest`] (the
/// same rule as [`decide`]'s); when it does not, nothing changes and [`decide`] is asked.
/// `categories` are the resident's when known, to price them; without them the fee is the
/// list price, which is right only when the offering is not [`priced_by_category`].
/// None when the offering books no such way.
///
/// [`priced_by_category`]: super::price::priced_by_category
pub fn at_once(
    terms: &Terms<'_>,
    categories: &[String],
    session: FirstSession,
    now: DateTime<Utc>,
) -> Option<(Decision, RowTest)> {
    if !terms.active
        || terms.kind == Kind::Facility
        || terms.kind.enrols()
        || session.ends_at <= now
    {
        return None;
    }
    let (amount_minor, concession) = price_for(terms.fee_minor, terms.concessions, categories);
    let fee = Fee {
        amount_minor,
        list_minor: terms.fee_minor,
        concession,
    };
    let decision = seated(vec![session.id], fee, Some(session));
    Some((decision, terms.eligibility.row_test()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::eligibility::ResidentStatus;
    use chrono::TimeZone;

    fn terms<'a>(
        kind: Kind,
        eligibility: Eligibility<'a>,
        concessions: &'a [Concession],
    ) -> Terms<'a> {
        Terms {
            id: OfferingId::new(),
            centre: CENTRE,
            kind,
            active: true,
            eligibility,
            fee_minor: 1000,
            concessions,
            facility: None,
        }
    }

    const CENTRE: CentreId = CentreId::from_uuid(uuid::Uuid::from_u128(1));

    fn anyone() -> Eligibility<'static> {
        Eligibility {
            min_age: None,
            max_age: None,
            categories: &[],
        }
    }

    fn resident<'a>(band: &'a str, categories: &'a [String]) -> Who<'a> {
        Who::Resident {
            centre: CENTRE,
            applicant: Applicant {
                age_band: band,
                categories,
                status: ResidentStatus::Active,
            },
        }
    }

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2027, 3, 1, 1, 0, 0).unwrap()
    }

    fn session(confirmed: i32, capacity: i32, hours_ahead: i64) -> SessionState {
        let starts_at = now() + Duration::hours(hours_ahead);
        SessionState {
            id: SessionId::new(),
            status: SessionStatus::Scheduled,
            starts_at,
            ends_at: starts_at + Duration::hours(1),
            local_start: starts_at.naive_utc(),
            capacity,
            confirmed,
            mine: false,
        }
    }

    #[test]
    fn a_session_with_room_confirms_and_charges_the_concession_price() {
        let concessions = [Concession {
            category: "elderly".into(),
            price_minor: 300,
        }];
        let categories = vec!["elderly".to_owned()];
        let offering = terms(Kind::Event, anyone(), &concessions);
        let locked = [session(3, 10, 24)];
        let decision = decide(
            &offering,
            &resident("60-79", &categories),
            &Wanted::Sessions {
                named: Some(locked[0].id),
                locked: &locked,
            },
            now(),
        )
        .unwrap();
        assert_eq!(decision.status, BookingStatus::Confirmed);
        assert_eq!(decision.fee.amount_minor, 300);
        assert_eq!(decision.fee.concession, "elderly");
        assert_eq!(
            decision.events,
            vec![
                Event::Confirmed {
                    first: Some(FirstSession::from(&locked[0]))
                },
                Event::FeeCharged
            ]
        );
    }

    #[test]
    fn an_enrolment_waits_when_any_session_is_full_and_charges_nothing_yet() {
        let offering = terms(Kind::Course, anyone(), &[]);
        let locked = [session(0, 10, 48), session(10, 10, 24)];
        let decision = decide(
            &offering,
            &resident("18-59", &[]),
            &Wanted::Sessions {
                named: None,
                locked: &locked,
            },
            now(),
        )
        .unwrap();
        assert_eq!(decision.status, BookingStatus::Waitlisted);
        assert_eq!(
            decision.events,
            vec![Event::Waitlisted {
                first: Some(locked[1].id)
            }]
        );
    }

    #[test]
    fn refusals_come_in_the_order_the_desk_is_told_them() {
        let old = Eligibility {
            min_age: Some(60),
            max_age: None,
            categories: &[],
        };
        let offering = terms(Kind::Event, old, &[]);
        let over = [session(0, 10, -5)];
        let wanted = Wanted::Sessions {
            named: Some(over[0].id),
            locked: &over,
        };
        // Eligibility before the session's state.
        assert!(matches!(
            decide(&offering, &resident("18-59", &[]), &wanted, now()),
            Err(Refusal::Ineligible { .. })
        ));
        assert!(matches!(
            decide(&offering, &resident("60-79", &[]), &wanted, now()),
            Err(Refusal::State(reason)) if reason.code == "session.over"
        ));
        assert_eq!(
            decide(&offering, &Who::Unknown, &wanted, now()),
            Err(Refusal::NotAResident("resident_id"))
        );
        let elsewhere = Who::Resident {
            centre: CentreId::new(),
            applicant: Applicant {
                age_band: "60-79",
                categories: &[],
                status: ResidentStatus::Active,
            },
        };
        assert_eq!(
            decide(&offering, &elsewhere, &wanted, now()),
            Err(Refusal::NotAResident("resident_id"))
        );
        assert!(matches!(
            decide(&offering, &Who::Centre, &wanted, now()),
            Err(Refusal::Invalid {
                field: "resident_id",
                ..
            })
        ));
        let mut mine = session(0, 10, 5);
        mine.mine = true;
        assert!(matches!(
            decide(
                &offering,
                &resident("60-79", &[]),
                &Wanted::Sessions {
                    named: Some(mine.id),
                    locked: &[mine]
                },
                now()
            ),
            Err(Refusal::Conflict(_))
        ));
    }

    #[test]
    fn a_facility_is_held_within_its_hours_and_the_centre_may_book_it_itself() {
        let hours = OpeningHours {
            opens: chrono::NaiveTime::from_hms_opt(8, 0, 0).unwrap(),
            closes: chrono::NaiveTime::from_hms_opt(20, 0, 0).unwrap(),
            days: vec![1, 2, 3, 4, 5],
        };
        let facility = FacilityId::new();
        let offering = terms(Kind::Facility, anyone(), &[]);
        let zone = chrono_tz::Asia::Shanghai;
        // Monday 2027-03-01 10:00–11:00 local.
        let range = (now() + Duration::hours(1), now() + Duration::hours(2));
        let wanted = Wanted::Facility {
            range: Some(range),
            facility: Some((facility, &hours)),
            zone,
        };
        let decision = decide(&offering, &Who::Centre, &wanted, now()).unwrap();
        assert_eq!(
            decision.events,
            vec![
                Event::FacilityHeld,
                Event::Confirmed { first: None },
                Event::FeeCharged
            ]
        );
        let night = Wanted::Facility {
            range: Some((now() + Duration::hours(13), now() + Duration::hours(14))),
            facility: Some((facility, &hours)),
            zone,
        };
        assert!(matches!(
            decide(&offering, &Who::Centre, &night, now()),
            Err(Refusal::State(_))
        ));
    }

    #[test]
    fn the_fast_path_decides_as_decide_does_for_a_session_with_room() {
        let offering = terms(Kind::Appointment, anyone(), &[]);
        let locked = [session(0, 1, 3)];
        let (fast, row_test) =
            at_once(&offering, &[], FirstSession::from(&locked[0]), now()).unwrap();
        let full = decide(
            &offering,
            &resident("18-59", &[]),
            &Wanted::Sessions {
                named: Some(locked[0].id),
                locked: &locked,
            },
            now(),
        )
        .unwrap();
        assert_eq!(fast, full);
        assert_eq!(row_test, anyone().row_test());
        let course = terms(Kind::Course, anyone(), &[]);
        assert!(at_once(&course, &[], FirstSession::from(&locked[0]), now()).is_none());
    }
}
