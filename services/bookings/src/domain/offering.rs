//! Revising and retiring an offering (issue 24): what a change to its fee or capacity, or
//! its retirement, decides and which event it emits. A change applies to bookings made
//! from then on; a booking keeps the fee it was given, so nothing here touches bookings.

use linli_platform::error::{Reason, Refusal};

use super::Kind;
use super::limits::CAPACITY_MAX;

/// What a revision may change: the fee, the seats per session, or both.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Change {
    pub fee_minor: Option<i64>,
    pub capacity: Option<i32>,
}

/// An offering as revising it needs it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Current {
    pub kind: Kind,
    pub active: bool,
    pub fee_minor: i64,
    pub capacity: i32,
    pub revision: i32,
}

/// What a decision sets off.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OfferingEvent {
    Updated,
    Retired,
}

/// The offering after a decision, and its event; no event when nothing changed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Revised {
    pub fee_minor: i64,
    pub capacity: i32,
    pub active: bool,
    pub revision: i32,
    pub event: Option<OfferingEvent>,
}

fn retired() -> Refusal {
    Refusal::State(Reason::new(
        "offering.inactive",
        "the offering is no longer offered",
    ))
}

/// A new fee or capacity: refused for a retired offering, a negative fee, a capacity out
/// of range (a facility has none: it is booked by time), or a request that changes
/// nothing at all. The same values again change nothing and emit nothing.
pub fn revise(current: &Current, change: Change) -> Result<Revised, Refusal> {
    if change == Change::default() {
        return Err(Refusal::Invalid {
            field: "fee_minor",
            reason: Reason::new("offering.nothing_to_change", "give a fee or a capacity"),
        });
    }
    if !current.active {
        return Err(retired());
    }
    if let Some(fee) = change.fee_minor
        && fee < 0
    {
        return Err(Refusal::Invalid {
            field: "fee_minor",
            reason: Reason::not_negative(),
        });
    }
    if let Some(capacity) = change.capacity {
        if current.kind == Kind::Facility {
            return Err(Refusal::Invalid {
                field: "capacity",
                reason: Reason::new(
                    "offering.booked_by_range",
                    "the offering is booked by time range",
                ),
            });
        }
        if !(1..=CAPACITY_MAX).contains(&capacity) {
            return Err(Refusal::Invalid {
                field: "capacity",
                reason: Reason::between(1, CAPACITY_MAX.into()),
            });
        }
    }
    let fee_minor = change.fee_minor.unwrap_or(current.fee_minor);
    let capacity = change.capacity.unwrap_or(current.capacity);
    let changed = fee_minor != current.fee_minor || capacity != current.capacity;
    Ok(Revised {
        fee_minor,
        capacity,
        active: true,
        revision: current.revision + i32::from(changed),
        event: changed.then_some(OfferingEvent::Updated),
    })
}

/// Retires an offering: no new bookings, existing ones kept. Retiring a retired one
/// changes nothing and emits nothing.
pub fn retire(current: &Current) -> Revised {
    Revised {
        fee_minor: current.fee_minor,
        capacity: current.capacity,
        active: false,
        revision: current.revision + i32::from(current.active),
        event: current.active.then_some(OfferingEvent::Retired),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn current() -> Current {
        Current {
            kind: Kind::Event,
            active: true,
            fee_minor: 1000,
            capacity: 10,
            revision: 3,
        }
    }

    #[test]
    fn a_new_fee_is_a_new_revision_with_its_event() {
        let revised = revise(
            &current(),
            Change {
                fee_minor: Some(1500),
                capacity: None,
            },
        )
        .expect("revised");
        assert_eq!((revised.fee_minor, revised.capacity), (1500, 10));
        assert_eq!(revised.revision, 4);
        assert_eq!(revised.event, Some(OfferingEvent::Updated));
    }

    #[test]
    fn the_same_values_change_nothing() {
        let revised = revise(
            &current(),
            Change {
                fee_minor: Some(1000),
                capacity: Some(10),
            },
        )
        .expect("revised");
        assert_eq!((revised.revision, revised.event), (3, None));
    }

    #[test]
    fn refusals() {
        let retired_one = Current {
            active: false,
            ..current()
        };
        let fee = Change {
            fee_minor: Some(1),
            capacity: None,
        };
        assert_eq!(revise(&retired_one, fee), Err(retired()));
        assert!(matches!(
            revise(&current(), Change::default()),
            Err(Refusal::Invalid { .. })
        ));
        assert!(matches!(
            revise(
                &current(),
                Change {
                    fee_minor: Some(-1),
                    capacity: None
                }
            ),
            Err(Refusal::Invalid {
                field: "fee_minor",
                ..
            })
        ));
        assert!(matches!(
            revise(
                &current(),
                Change {
                    fee_minor: None,
                    capacity: Some(0)
                }
            ),
            Err(Refusal::Invalid {
                field: "capacity",
                ..
            })
        ));
    }

    #[test]
    fn retiring_twice_is_harmless() {
        let once = retire(&current());
        assert_eq!(
            (once.active, once.revision, once.event),
            (false, 4, Some(OfferingEvent::Retired))
        );
        let twice = retire(&Current {
            active: false,
            revision: once.revision,
            ..current()
        });
        assert_eq!((twice.revision, twice.event), (4, None));
    }
}
