//! The ids evaluation deals in, each its own type (the platform's `Id`), so a board
//! member's id cannot be passed where a meeting's is meant. The directory's (centre,
//! resident, staff, partner) are the platform's, the same in every service.

pub use linli_platform::id::{CentreId, Id, PartnerId, ResidentId, StaffId};

/// What evaluation's own ids name.
pub mod of {
    pub enum BoardMember {}
    pub enum BoardMeeting {}
    pub enum BoardDecision {}
    pub enum Review {}
}

pub type MemberId = Id<of::BoardMember>;
pub type MeetingId = Id<of::BoardMeeting>;
pub type DecisionId = Id<of::BoardDecision>;
pub type ReviewId = Id<of::Review>;
