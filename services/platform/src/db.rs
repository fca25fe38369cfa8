//! Each service's own PostgreSQL database: created when missing (local use), pooled, and
//! migrated at start. The platform's tables (outbox, inbox) have their own migrations and
//! their own history table, `_linli_platform_migrations`, beside the service's
//! `_sqlx_migrations`, so the platform and each service evolve their schemas apart.

use std::time::Duration;

use anyhow::Context as _;
use sqlx::migrate::Migrator;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{AssertSqlSafe, ConnectOptions, Connection, PgConnection, PgPool};

use crate::config::DatabaseArgs;

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
    let pool = PgPoolOptions::new()
        .max_connections(args.database_max_connections)
        .acquire_timeout(Duration::from_secs(5))
        .connect_with(options)
        .await
        .with_context(|| format!("connecting to the {service} database"))?;
    migrate(&pool, migrations)
        .await
        .with_context(|| format!("migrating the {service} database"))?;
    Ok(pool)
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
