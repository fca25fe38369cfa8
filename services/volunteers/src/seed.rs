//! Demo data for `linli seed demo` (filled in below).
