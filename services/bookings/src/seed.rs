//! The demo week of `linli seed demo`.
