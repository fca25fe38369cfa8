//! Each service's own PostgreSQL database: created when missing (local use), pooled, and
//! migrated at start. The platform's tables (outbox, inbox) have their own migrations and
//! their own history table, `_linli_platform_migrations`, beside the service's
//! `_sqlx_migrations`, so the platform and each service evolve their schemas apart.

use std::str::FromStr;
use std::time::Duration;

use anyhow::Context as _;
use sqlx::migrate::Migrator;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{AssertSqlSafe, ConnectOptions, Connection, PgConnection, PgPool, Row as _};

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

    /// Connections per service pool; `LINLI_<SERVICE>_DATABASE_MAX_CONNECTIONS`, when
    /// set, sizes one service's pool (the connection budget: replicas × pool per role).
    #[arg(long, env = "LINLI_DATABASE_MAX_CONNECTIONS", default_value_t = DEFAULT_MAX_CONNECTIONS)]
    pub database_max_connections: u32,
}

/// Connections per service pool unless configured: a few per core of a small database
/// server; more only queue inside PostgreSQL, where they compete with the event relay and
/// consumers for the same cores.
pub const DEFAULT_MAX_CONNECTIONS: u32 = 10;

/// How long a pooled connection may sit unused before the pool closes it. An idle
/// process gives its connections back to the server within this time (sqlx's default
/// kept them ten minutes: an idle `serve all` held about 30), and a busy one keeps them.
pub const IDLE_TIMEOUT: Duration = Duration::from_secs(30);

impl DatabaseArgs {
    /// The size of `service`'s request pool: its own setting, else every service's.
    pub fn max_connections_for(&self, service: &str) -> u32 {
        let own = format!(
            "LINLI_{}_DATABASE_MAX_CONNECTIONS",
            service.to_ascii_uppercase()
        );
        std::env::var(own)
            .ok()
            .and_then(|value| value.trim().parse().ok())
            .filter(|&n: &u32| n > 0)
            .unwrap_or(self.database_max_connections)
    }

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

static PLATFORM_MIGRATIONS: Migrator = sqlx::migrate!("./migrations");

/// Connects to `service`'s database, creating it if missing, and applies the platform's
/// and then the service's migrations.
pub async fn connect(
    args: &DatabaseArgs,
    service: &str,
    migrations: &Migrator,
) -> anyhow::Result<PgPool> {
    let options = args.options_for(service)?;
    ensure_database(&options).await?;
    let pool = pool_options(args.max_connections_for(service))
        .connect_with(options)
        .await
        .with_context(|| format!("connecting to the {service} database"))?;
    migrate(&pool, migrations)
        .await
        .with_context(|| format!("migrating the {service} database"))?;
    Ok(pool)
}

/// The options of every pool Linli opens: bounded waits, and a pool that never hands out
/// a connection still inside a transaction block.
///
/// A future dropped while it was inside `BEGIN` (a client that went away, a deadline, a
/// `select!`) could return its connection to the pool with the server still in the
/// transaction (sqlx 0.9.0 on PostgreSQL, launchbadge/sqlx#4393, fixed in 0.9.1 by #4394).
/// The next borrower's statements then ran inside it: a statement that commits by itself
/// was answered and never committed, and its locks were held until the connection died.
/// The pin on sqlx 0.9.1 fixes the cause; this guard keeps any such regression from
/// reaching a borrower. On release a connection sqlx still counts inside a transaction is
/// closed; on acquire the server itself is asked (in place of sqlx's plain ping, so it
/// costs no extra round trip), and a connection inside a transaction, or in a failed
/// one, is closed and another taken.
pub fn pool_options(max_connections: u32) -> PgPoolOptions {
    PgPoolOptions::new()
        .max_connections(max_connections)
        .min_connections(0)
        .idle_timeout(IDLE_TIMEOUT)
        .acquire_timeout(Duration::from_secs(5))
        .test_before_acquire(false)
        .after_release(|conn, _| {
            Box::pin(async move {
                if conn.is_in_transaction() {
                    discarded_inside_transaction("release");
                    return Ok(false);
                }
                Ok(true)
            })
        })
        .before_acquire(|conn, _| {
            Box::pin(async move {
                if conn.is_in_transaction() {
                    discarded_inside_transaction("acquire");
                    return Ok(false);
                }
                // Outside a transaction block every statement is its own transaction, so
                // its transaction began with it; inside a block it began at `BEGIN`. In a
                // failed block the statement is refused, and the error closes the
                // connection just the same.
                let row = sqlx::raw_sql(OUTSIDE_TRANSACTION)
                    .fetch_one(&mut *conn)
                    .await?;
                let outside: bool = row.try_get(0)?;
                if !outside {
                    discarded_inside_transaction("acquire");
                }
                Ok(outside)
            })
        })
}

/// True exactly when the statement runs outside a transaction block. Sent as a simple
/// query: its one message both starts the statement and, outside a block, the
/// transaction, so the two timestamps are the same instant (in the extended protocol
/// Bind and Execute stamp the statement apart).
const OUTSIDE_TRANSACTION: &str =
    "SELECT pg_catalog.transaction_timestamp() = pg_catalog.statement_timestamp()";

fn discarded_inside_transaction(when: &'static str) {
    crate::metrics::DISCARDED_CONNECTIONS
        .with_label_values(&[when])
        .inc();
    tracing::warn!(
        when,
        "closed a pooled database connection left inside a transaction block"
    );
}

/// Begins a write transaction. When the request being served carries an
/// `Idempotency-Key` (see [`crate::idempotency`]), the key's claim is the transaction's
/// first statement, so the claim commits with what the transaction applies, or neither
/// does; a duplicate sent at the same time fails here, before it applies anything.
pub async fn begin(
    pool: &PgPool,
) -> Result<sqlx::Transaction<'static, sqlx::Postgres>, sqlx::Error> {
    let mut tx = pool.begin().await?;
    crate::idempotency::claim(&mut tx).await?;
    Ok(tx)
}

/// Runs `work` in a write transaction of its own ([`begin`]): committed when it succeeds,
/// rolled back when it fails, so a handler holds no transaction and cannot leave one open
/// or forget its commit.
pub async fn transaction<T, E>(
    pool: &PgPool,
    work: impl AsyncFnOnce(&mut PgConnection) -> Result<T, E>,
) -> Result<T, E>
where
    E: From<sqlx::Error>,
{
    let mut tx = begin(pool).await?;
    let done = work(&mut tx).await?;
    tx.commit().await?;
    Ok(done)
}

/// Applies the platform's migrations, then the service's.
pub async fn migrate(pool: &PgPool, migrations: &Migrator) -> anyhow::Result<()> {
    let mut platform = Migrator::with_migrations(PLATFORM_MIGRATIONS.iter().cloned().collect());
    platform.dangerous_set_table_name("_linli_platform_migrations");
    platform.run(pool).await.context("platform migrations")?;
    migrations.run(pool).await.context("service migrations")?;
    Ok(())
}

/// Creates the database `options` names when it does not exist yet.
pub async fn ensure_database(options: &PgConnectOptions) -> anyhow::Result<()> {
    let (name, mut admin) = maintenance(options).await?;
    let exists: bool =
        sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)")
            .bind(&name)
            .fetch_one(&mut admin)
            .await?;
    if !exists {
        let create = format!("CREATE DATABASE \"{name}\"");
        match sqlx::query(AssertSqlSafe(create)).execute(&mut admin).await {
            Ok(_) => tracing::info!(database = %name, "created database"),
            // Another process created it between our check and our CREATE.
            Err(sqlx::Error::Database(e)) if e.code().as_deref() == Some("42P04") => {}
            Err(e) => return Err(e).with_context(|| format!("creating database {name}")),
        }
    }
    admin.close().await?;
    Ok(())
}

/// Drops the database `options` names, for tests that made their own.
pub async fn drop_database(options: &PgConnectOptions) -> anyhow::Result<()> {
    let (name, mut admin) = maintenance(options).await?;
    let drop = format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)");
    sqlx::query(AssertSqlSafe(drop)).execute(&mut admin).await?;
    admin.close().await?;
    Ok(())
}

/// The database name `options` names (checked safe to quote into DDL), and a connection
/// to the server's `postgres` maintenance database to create or drop it from.
async fn maintenance(options: &PgConnectOptions) -> anyhow::Result<(String, PgConnection)> {
    let name = options
        .get_database()
        .context("the database URL names no database")?
        .to_owned();
    anyhow::ensure!(
        !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'),
        "database name `{name}` may hold only letters, digits and underscores"
    );
    let admin = options
        .clone()
        .database("postgres")
        .connect()
        .await
        .context("connecting to the postgres maintenance database")?;
    Ok((name, admin))
}
