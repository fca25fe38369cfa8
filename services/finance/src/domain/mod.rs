//! Finance's rules, with no I/O: the default chart of accounts, money and dates as they
//! arrive, journal entries that cannot be built unbalanced, and the arithmetic of budgets
//! and self-sufficiency (integers only: minor units and basis points).

pub mod calendar;
pub mod chart;
pub mod entry;
pub mod figures;
pub mod money;
pub mod payment;

use linli_platform::auth::Role;

pub use calendar::{Month, parse_date};
pub use chart::{BudgetCategory, FundingSource};
pub use entry::{EntryLine, NewEntry, Source};
pub use money::{Currency, parse_amount};

/// Who reads the books: staff who run the centre's money and the oversight group.
pub const READERS: &[Role] = &[
    Role::DistrictAdmin,
    Role::CentreManager,
    Role::FinanceOfficer,
    Role::Auditor,
];

/// Who changes them. The auditor is never among them (and [`Role::Auditor`] is refused
/// every write by the platform regardless).
pub const WRITERS: &[Role] = &[
    Role::DistrictAdmin,
    Role::CentreManager,
    Role::FinanceOfficer,
];

/// Who takes a payment at the desk: the writers and the front desk, where residents pay.
pub const PAYMENT_TAKERS: &[Role] = &[
    Role::DistrictAdmin,
    Role::CentreManager,
    Role::FinanceOfficer,
    Role::FrontDesk,
];

/// Who reads what is owed: the readers and the front desk, which collects it.
pub const RECEIVABLE_READERS: &[Role] = &[
    Role::DistrictAdmin,
    Role::CentreManager,
    Role::FinanceOfficer,
    Role::Auditor,
    Role::FrontDesk,
];
