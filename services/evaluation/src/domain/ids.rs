//! The ids evaluation deals in, each its own type (the platform's `Id`), so a board
//! member's id cannot be passed where a meeting's is meant. The directory's (centre,
//! resident, staff, partner) are the platform's, the same in every service.

pub use linli_platform::id::{CentreId, PartnerId, ResidentId, StaffId};

// What evaluation's own ids name.
linli_platform::ids!(MemberId, MeetingId, DecisionId, ReviewId);
