//! Configuration shared by every role: flags with environment fallbacks and local
//! defaults, so `linli serve all` works against a local PostgreSQL and RabbitMQ with no
//! flags at all.

use std::str::FromStr;

use sqlx::postgres::PgConnectOptions;

/// Where each service's PostgreSQL database lives.
#[derive(clap::Args, Clone, Debug)]
pub struct DatabaseArgs {
    /// PostgreSQL server; each service uses its own database on it, named
    /// `<prefix><service>`. A database named in the URL is ignored.
    #[arg(
        long = "database-url",
        env = "DATABASE_URL",
        default_value = "postgres://postgres@127.0.0.1:5432/postgres"
    )]
    pub database_url: String,

    /// Prefix of every service database name.
    #[arg(long, env = "LINLI_DATABASE_PREFIX", default_value = "linli_")]
    pub database_prefix: String,

    /// Connections per service pool.
    #[arg(long, env = "LINLI_DATABASE_MAX_CONNECTIONS", default_value_t = DEFAULT_MAX_CONNECTIONS)]
    pub database_max_connections: u32,
}

/// Connections per service pool unless configured: a few per core of a small database
/// server; more only queue inside PostgreSQL, where they compete with the event relay and
/// consumers for the same cores.
pub const DEFAULT_MAX_CONNECTIONS: u32 = 10;

impl DatabaseArgs {
    /// Connection options for one service's database. `LINLI_<SERVICE>_DATABASE_URL`, when
    /// set, names a whole URL for that service (a separate cluster in production).
    /// Its connections name the service in `pg_stat_activity` (`linli-<service>`).
    pub fn options_for(&self, service: &str) -> Result<PgConnectOptions, sqlx::Error> {
        let own = format!("LINLI_{}_DATABASE_URL", service.to_ascii_uppercase());
        let options = match std::env::var(own) {
            Ok(url) => PgConnectOptions::from_str(&url)?,
            Err(_) => {
                let name = format!("{}{}", self.database_prefix, service);
                PgConnectOptions::from_str(&self.database_url)?.database(&name)
            }
        };
        Ok(options.application_name(&format!("linli-{service}")))
    }
}

/// The RabbitMQ broker and the names used on it.
#[derive(clap::Args, Clone, Debug)]
pub struct BusArgs {
    /// AMQP 0-9-1 URL of the broker.
    #[arg(
        long = "amqp-url",
        env = "AMQP_URL",
        default_value = "amqp://guest:guest@127.0.0.1:5672/%2f"
    )]
    pub amqp_url: String,

    /// Prefix of every exchange and queue name (`<prefix>.events`, `<prefix>.<consumer>`),
    /// so parallel test runs never share them.
    #[arg(long = "bus-prefix", env = "LINLI_BUS_PREFIX", default_value = "linli")]
    pub prefix: String,

    /// Deliveries of one message before the broker dead-letters it.
    #[arg(long, env = "LINLI_DELIVERY_LIMIT", default_value_t = 5)]
    pub delivery_limit: u32,

    /// First retry delay, in milliseconds, after a handler fails; doubles per delivery.
    #[arg(long, env = "LINLI_RETRY_BASE_MS", default_value_t = 200)]
    pub retry_base_ms: u64,
}

impl BusArgs {
    pub fn exchange(&self) -> String {
        format!("{}.events", self.prefix)
    }

    pub fn dead_letter_exchange(&self) -> String {
        format!("{}.dead", self.prefix)
    }

    pub fn queue(&self, consumer: &str) -> String {
        format!("{}.{consumer}", self.prefix)
    }

    pub fn dead_letter_queue(&self, consumer: &str) -> String {
        format!("{}.{consumer}.dead", self.prefix)
    }
}

/// Signing and checking of the bearer tokens staff and operators carry.
#[derive(clap::Args, Clone, Debug)]
pub struct AuthArgs {
    /// HMAC key (HS256) for bearer tokens. The default is for local use only.
    #[arg(
        long = "jwt-secret",
        env = "LINLI_JWT_SECRET",
        default_value = crate::auth::LOCAL_SECRET,
        hide_default_value = true
    )]
    pub jwt_secret: String,

    /// Audience every token must name.
    #[arg(
        long = "jwt-audience",
        env = "LINLI_JWT_AUDIENCE",
        default_value = "linli"
    )]
    pub jwt_audience: String,

    /// Issuer every token must name.
    #[arg(long = "jwt-issuer", env = "LINLI_JWT_ISSUER", default_value = "linli")]
    pub jwt_issuer: String,
}

/// Keys that seal personal data at rest.
#[derive(clap::Args, Clone, Debug)]
pub struct PersonalDataArgs {
    /// AES-256-GCM key, 32 bytes in base64. The default is for local use only.
    #[arg(
        long = "data-key",
        env = "LINLI_DATA_KEY",
        default_value = crate::crypto::LOCAL_DATA_KEY,
        hide_default_value = true
    )]
    pub data_key: String,

    /// Identifier stored beside every sealed value, so keys can be rotated.
    #[arg(
        long = "data-key-id",
        env = "LINLI_DATA_KEY_ID",
        default_value = "local-1"
    )]
    pub data_key_id: String,

    /// HMAC-SHA256 key for blind indexes (exact lookups), 32 bytes in base64.
    #[arg(
        long = "blind-index-key",
        env = "LINLI_BLIND_INDEX_KEY",
        default_value = crate::crypto::LOCAL_INDEX_KEY,
        hide_default_value = true
    )]
    pub blind_index_key: String,
}

/// Where traces go.
#[derive(clap::Args, Clone, Debug, Default)]
pub struct TelemetryArgs {
    /// OTLP/gRPC collector; spans are exported only when set.
    #[arg(long = "otlp-endpoint", env = "OTEL_EXPORTER_OTLP_ENDPOINT")]
    pub otlp_endpoint: Option<String>,

    /// Service name reported with every span.
    #[arg(
        long = "otel-service-name",
        env = "OTEL_SERVICE_NAME",
        default_value = "linli"
    )]
    pub service_name: String,

    /// Log filter, e.g. `info` or `linli=debug,sqlx=warn`.
    #[arg(
        long = "log",
        env = "RUST_LOG",
        default_value = "info,sqlx::postgres::notice=warn"
    )]
    pub log: String,
}
