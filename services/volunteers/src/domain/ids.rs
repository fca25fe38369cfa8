//! The ids volunteers deals in, each its own type (the platform's `Id`), so a shift's id
//! cannot be passed where a volunteer's is meant. The directory's (centre, resident, staff)
//! are the platform's, the same in every service.

pub use linli_platform::id::{CentreId, ResidentId};

// What volunteers' own ids name.
linli_platform::ids!(
    VolunteerId,
    OpportunityId,
    ShiftId,
    AssignmentId,
    CertificationId,
    HourEntryId
);
