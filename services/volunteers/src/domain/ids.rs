//! The ids volunteers deals in, each its own type (the platform's `Id`), so a shift's id
//! cannot be passed where a volunteer's is meant. The directory's (centre, resident, staff)
//! are the platform's, the same in every service.

pub use linli_platform::id::{CentreId, Id, ResidentId};

/// What volunteers' own ids name.
pub mod of {
    pub enum Volunteer {}
    pub enum Opportunity {}
    pub enum Shift {}
    pub enum Assignment {}
    pub enum Certification {}
    pub enum HourEntry {}
}

pub type VolunteerId = Id<of::Volunteer>;
pub type OpportunityId = Id<of::Opportunity>;
pub type ShiftId = Id<of::Shift>;
pub type AssignmentId = Id<of::Assignment>;
pub type CertificationId = Id<of::Certification>;
pub type HourEntryId = Id<of::HourEntry>;
