//! What every Linli service shares, and nothing of any service's business: configuration,
//! telemetry and metrics, the database pool and migrations, the directory (each service's
//! read model of the district's centres, residents, staff and partners), the event bus
//! (outbox relay and inbox consumer), identity and access checks, personal-data sealing,
//! the text rule of every request, gRPC and admin server assembly, and the mapping of
//! errors to gRPC status codes.

pub mod admin;
pub mod asyncapi;
pub mod auth;
pub mod bus;
pub mod crypto;
pub mod db;
pub mod directory;
pub mod error;
pub mod grpc;
pub mod id;
pub mod idempotency;
pub mod metrics;
pub mod page;
pub mod partner;
pub mod rate;
pub mod reflection;
pub mod revocation;
pub mod service;
pub mod telemetry;
pub mod text;
pub mod webhook;
pub mod wire;
pub mod words;

pub use tokio_util::sync::CancellationToken;
