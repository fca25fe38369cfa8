//! Every SQL statement of the evaluation service.

use chrono::{DateTime, Utc};
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

/// Adds a resident to the projection; a resident already there is left as it is.
pub async fn record_registration(
    tx: &mut PgConnection,
    resident_id: Uuid,
    centre_id: Uuid,
    age_band: &str,
    categories: &[String],
    registered_at: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO registered_residents (resident_id, centre_id, age_band, categories, registered_at)
         VALUES ($1, $2, $3, $4, $5) ON CONFLICT (resident_id) DO NOTHING",
    )
    .bind(resident_id)
    .bind(centre_id)
    .bind(age_band)
    .bind(categories)
    .bind(registered_at)
    .execute(tx)
    .await?;
    Ok(())
}

pub async fn count_registered(pool: &PgPool, centre_id: Uuid) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar("SELECT count(*) FROM registered_residents WHERE centre_id = $1")
        .bind(centre_id)
        .fetch_one(pool)
        .await
}

pub async fn forget_resident(tx: &mut PgConnection, resident_id: Uuid) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM registered_residents WHERE resident_id = $1")
        .bind(resident_id)
        .execute(tx)
        .await?;
    Ok(())
}
