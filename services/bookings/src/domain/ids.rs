//! The ids bookings deals in, each its own type (the platform's `Id`), so a session's id
//! cannot be passed where a booking's is meant. The directory's (centre, resident, staff,
//! partner) are the platform's, the same in every service.

pub use linli_platform::id::{CentreId, PartnerId, ResidentId, StaffId};

// What bookings' own ids name.
linli_platform::ids!(
    OfferingId, FacilityId, SeriesId, SessionId, BookingId, ChargeId, RefundId, HoldId
);
