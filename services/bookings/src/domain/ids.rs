//! The ids bookings deals in, each its own type (the platform's `Id`), so a session's id
//! cannot be passed where a booking's is meant. The directory's (centre, resident, staff,
//! partner) are the platform's, the same in every service.

pub use linli_platform::id::{CentreId, Id, PartnerId, ResidentId, StaffId};

/// What bookings' own ids name.
pub mod of {
    pub enum Offering {}
    pub enum Facility {}
    pub enum Series {}
    pub enum Session {}
    pub enum Booking {}
    pub enum Charge {}
    pub enum Refund {}
    pub enum Hold {}
}

pub type OfferingId = Id<of::Offering>;
pub type FacilityId = Id<of::Facility>;
pub type SeriesId = Id<of::Series>;
pub type SessionId = Id<of::Session>;
pub type BookingId = Id<of::Booking>;
pub type ChargeId = Id<of::Charge>;
pub type RefundId = Id<of::Refund>;
pub type HoldId = Id<of::Hold>;
