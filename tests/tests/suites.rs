//! The end-to-end suites, one module a file, in one test binary: linking a binary of the
//! whole platform per file cost minutes of every test run. Run one suite with
//! `cargo test -p linli-tests --test suites -- <file>::`. The suites that install a
//! process-wide tracing subscriber or tracer provider (cancelled, logs, monitoring, trace)
//! stay binaries of their own (see `tests/Cargo.toml`).

mod alerts;
mod api;
mod board;
mod bookings;
mod bus;
mod check_in_undo;
mod consent_guardian;
mod console;
mod console_board;
mod console_desk;
mod console_district;
mod console_finance;
mod console_payments;
mod console_reviews;
mod console_staffing;
mod console_webhooks;
mod correction_requests;
mod corrections;
mod directory;
mod errors;
mod evaluation;
mod export;
mod faults;
mod finance;
mod gateway;
mod health;
mod households;
mod households_import;
mod idempotency;
mod k8s;
mod licences;
mod notices_audience;
mod offerings;
mod openapi;
mod paging;
mod participation;
mod partners;
mod partners_deliver;
mod payments;
mod pinyin;
mod rate_limits;
mod reflection;
mod registry;
mod residents_scope;
mod residents_site;
mod reviews;
mod reviews_feed;
mod scale_out;
mod seed_district;
mod sessions;
mod text;
mod volunteers;
mod webhooks;
