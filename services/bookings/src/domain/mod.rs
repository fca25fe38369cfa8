//! The rules of booking, without I/O: the plan's categories, offering kinds, who may book
//! what ([`eligibility`]), what they pay ([`price`]), what a booking request decides and
//! sets off ([`booking`]), how a weekly rule becomes sessions in a centre's time zone
//! ([`time`]), the limits of what a request may carry ([`limits`]), and the typed ids and
//! statuses the rest of the service deals in ([`ids`], [`status`]).

pub mod booking;
pub mod changes;
pub mod eligibility;
pub mod ids;
pub mod limits;
pub mod offering;
pub mod price;
pub mod status;
pub mod time;
pub mod undo;

pub use booking::{CANCEL_REASON_MAX, CHECK_IN_OPENS, FACILITY_GRACE};
pub use eligibility::{Applicant, Eligibility, RowTest, check_age_limits};
pub use price::{Concession, price_for, priced_by_category};
pub use status::{BookingStatus, SeatState, SessionStatus};
pub use time::{
    MAX_SERIES_SESSIONS, OpeningHours, WeeklyRule, parse_date, parse_time, to_instant, to_local,
};

use linli_platform::auth::Role;

/// Roles that shape the catalogue: offerings, facilities, sessions.
pub const PLANNERS: &[Role] = &[Role::DistrictAdmin, Role::CentreManager, Role::Coordinator];
/// Roles that book, cancel and check in at the desk.
pub const DESK: &[Role] = &[
    Role::DistrictAdmin,
    Role::CentreManager,
    Role::FrontDesk,
    Role::Coordinator,
];
/// Roles that read the catalogue and bookings: every staff role.
pub const READERS: &[Role] = &Role::STAFF;

/// A category of the plan's catalogue: code, Chinese name, English name.
pub const CATEGORIES: &[(&str, &str, &str)] = &[
    (
        "government_affairs",
        "政务服务",
        "Government affairs window",
    ),
    ("life_services", "生活服务", "Life services"),
    ("health", "医疗卫生服务", "Health"),
    ("culture_education", "文化教育服务", "Culture and education"),
    ("elderly_care", "养老服务", "Elderly care"),
    ("youth", "青少年服务", "Youth"),
    ("facilities", "社区设施", "Community facilities"),
];

pub fn is_category(code: &str) -> bool {
    CATEGORIES.iter().any(|(c, _, _)| *c == code)
}

/// How an offering is booked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// One session, booked singly.
    Appointment,
    /// A room or equipment by time range.
    Facility,
    /// Every session of the offering, with one enrolment.
    Course,
    /// One occasion.
    Event,
    /// Every session, like a course: meal assistance each weekday.
    RecurringCare,
}

impl Kind {
    pub const ALL: [Kind; 5] = [
        Kind::Appointment,
        Kind::Facility,
        Kind::Course,
        Kind::Event,
        Kind::RecurringCare,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Appointment => "appointment",
            Kind::Facility => "facility",
            Kind::Course => "course",
            Kind::Event => "event",
            Kind::RecurringCare => "recurring_care",
        }
    }

    pub fn parse(text: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.as_str() == text)
    }

    /// One booking covers every upcoming session (an enrolment).
    pub fn enrols(self) -> bool {
        matches!(self, Kind::Course | Kind::RecurringCare)
    }
}
