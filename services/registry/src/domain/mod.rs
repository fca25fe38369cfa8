//! The registry's rules, without I/O: what makes a valid resident, what the public may
//! learn of one (masking), and what other services are told (age band and categories).

pub mod centre;
pub mod consent;
pub mod correction;
pub mod household;
pub mod import;
mod name_search;
mod national_id;
mod resident;
pub mod staff;
pub mod status;

pub use name_search::{
    NAME_KEYS_VERSION, NameQuery, centre_character_grams, character_grams, name_keys,
};
pub use national_id::{NationalId, check_character};
pub use resident::{
    Address, DateOfBirth, Gender, NewResident, Phone, RECORDED_CATEGORIES, ResidentForm,
    ResidentName, SKILL_KINDS, age_band, birth_bounds, categories,
};

use linli_platform::auth::{Caller, Role};

/// Roles that register and read residents at their centres.
pub const STAFF_WRITERS: &[Role] = &[
    Role::DistrictAdmin,
    Role::CentreManager,
    Role::FrontDesk,
    Role::Coordinator,
];
/// Roles that read residents: the writers and the auditors.
pub const STAFF_READERS: &[Role] = &[
    Role::DistrictAdmin,
    Role::CentreManager,
    Role::FrontDesk,
    Role::Coordinator,
    Role::Auditor,
];

/// Roles that create and edit centres.
pub const CENTRE_ADMINS: &[Role] = &[Role::DistrictAdmin];

/// Roles that may erase a resident's personal data.
pub const ERASERS: &[Role] = &[Role::DistrictAdmin, Role::CentreManager];

/// Roles that may see a resident's whole national ID, for a stated purpose that is logged:
/// the front desk verifying identity for a government-affairs case, and the manager.
pub const NATIONAL_ID_READERS: &[Role] = &[Role::CentreManager, Role::FrontDesk];

/// Whether the caller cares for residents and so reads their health notes (the centre's
/// manager and the coordinators who run care services); nobody else ever sees them.
pub fn reads_health_notes(caller: &Caller) -> bool {
    caller
        .roles
        .iter()
        .any(|role| matches!(role, Role::CentreManager | Role::Coordinator))
}

/// Whether the caller's work needs residents' full contact details (the front desk and
/// the coordinators phone residents; everyone else sees masked numbers).
pub fn sees_contact_details(caller: &Caller) -> bool {
    caller.roles.iter().any(|role| {
        matches!(
            role,
            Role::CentreManager | Role::FrontDesk | Role::Coordinator
        )
    })
}
