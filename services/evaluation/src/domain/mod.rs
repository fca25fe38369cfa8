//! The rules of evaluation, without I/O: the plan's KPIs and targets ([`kpi`]), periods in
//! a centre's time zone ([`period`]), what a survey and its answers may be ([`survey`]),
//! how long counted figures may be kept ([`kept`]), the suggestion box's flow
//! ([`suggestion`]), notices ([`notice`]) and the forum ([`forum`]), the board
//! ([`board`]), the organisation review ([`review`]), which facts raise an alert and who
//! reads it ([`alert`]), and the typed ids ([`ids`]). The store
//! loads and persists what these decide; the gRPC surface parses, authorises and maps.

pub mod alert;
pub mod board;
pub mod follow_up;
pub mod forum;
pub mod ids;
pub mod kept;
pub mod kpi;
pub mod notice;
pub mod period;
pub mod review;
pub mod suggestion;
pub mod survey;

pub use forum::{FORUM_BODY_MAX, FORUM_TITLE_MAX, MODERATIONS, forum_post_refusals, moderation};
pub use kept::{Kept, MaxAge};
pub use kpi::{
    Figure, KPIS, KpiCounts, KpiDefinition, KpiWindow, OpeningHours, figures, kpi, open_seconds,
};
pub use notice::{NoticeDraft, in_audience, notice_state};
pub use period::Period;
pub use suggestion::suggestion_move;

use linli_platform::auth::Role;

/// Staff roles that read their centre's figures and instruments: every staff role.
pub const READERS: &[Role] = &Role::STAFF;
/// Roles that run surveys, follow-ups, inspections and the suggestion box.
pub const EVALUATORS: &[Role] = &[
    Role::DistrictAdmin,
    Role::CentreManager,
    Role::FrontDesk,
    Role::Coordinator,
];
