//! Every SQL statement about partners: organisations, agreements, credentials, and the
//! one query the partner listener asks on every call.

use chrono::{DateTime, NaiveDate, Utc};
use linli_platform::bus::enqueue;
use linli_platform::crypto::{Sealed, Vault};
use sqlx::PgPool;
use uuid::Uuid;

#[derive(Debug, sqlx::FromRow)]
pub struct PartnerRow {
    pub id: Uuid,
    pub name: String,
    pub kind: String,
    /// Sealed JSON text: `[{"name", "role", "phone", "email"}]`; none before any contact
    /// was given.
    pub contacts_sealed: Option<Vec<u8>>,
    pub contacts_key_id: Option<String>,
    pub created_at: DateTime<Utc>,
}

impl PartnerRow {
    pub fn sealed_contacts(&self) -> Option<Sealed> {
        Some(Sealed {
            key_id: self.contacts_key_id.clone()?,
            bytes: self.contacts_sealed.clone()?,
        })
    }
}

#[derive(Debug, sqlx::FromRow)]
pub struct AgreementRow {
    pub id: Uuid,
    pub partner_id: Uuid,
    pub centre_id: Uuid,
    pub provides: String,
    pub scopes: Vec<String>,
    pub valid_from: NaiveDate,
    pub valid_until: NaiveDate,
    pub revoked_at: Option<DateTime<Utc>>,
    pub revoked_reason: String,
    pub rate_per_minute: i32,
    pub rate_burst: i32,
}

#[derive(Debug, sqlx::FromRow)]
pub struct CredentialRow {
    pub id: Uuid,
    pub partner_id: Uuid,
    pub fingerprint: String,
    pub subject: String,
    pub not_after: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
}

macro_rules! partner_columns {
    () => {
        "id, name, kind, contacts_sealed, contacts_key_id, created_at"
    };
}

macro_rules! agreement_columns {
    () => {
        "id, partner_id, centre_id, provides, scopes, valid_from, valid_until, revoked_at, \
         revoked_reason, rate_per_minute, rate_burst"
    };
}

macro_rules! credential_columns {
    () => {
        "id, partner_id, fingerprint, subject, not_after, revoked_at"
    };
}

/// Why a partner or credential was not stored.
#[derive(Debug, thiserror::Error)]
pub enum PartnerError {
    #[error("{0}")]
    Duplicate(&'static str),
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

fn unique_violation(error: sqlx::Error, what: &'static str) -> PartnerError {
    match &error {
        sqlx::Error::Database(db) if db.is_unique_violation() => PartnerError::Duplicate(what),
        _ => PartnerError::Database(error),
    }
}

pub async fn create_partner(
    pool: &PgPool,
    name: &str,
    kind: &str,
    contacts: &Sealed,
) -> Result<PartnerRow, PartnerError> {
    let mut tx = linli_platform::db::begin(pool).await?;
    let row = sqlx::query_as(concat!(
        "INSERT INTO partners (id, name, kind, contacts_sealed, contacts_key_id)
         VALUES ($1, $2, $3, $4, $5) RETURNING ",
        partner_columns!()
    ))
    .bind(Uuid::new_v4())
    .bind(name)
    .bind(kind)
    .bind(&contacts.bytes)
    .bind(&contacts.key_id)
    .fetch_one(&mut *tx)
    .await
    .map_err(|e| unique_violation(e, "a partner with this name is registered"))?;
    tx.commit().await?;
    Ok(row)
}

/// Seals the contacts of partners registered while they were kept in clear, and empties
/// the clear column; returns how many were sealed. Run at start: a no-op once done.
pub async fn seal_clear_contacts(pool: &PgPool, vault: &Vault) -> Result<u64, sqlx::Error> {
    let clear: Vec<(Uuid, String)> = sqlx::query_as(
        "SELECT id, contacts::text FROM partners
         WHERE contacts_sealed IS NULL AND contacts <> '[]'::jsonb",
    )
    .fetch_all(pool)
    .await?;
    let mut sealed = 0;
    for (id, contacts) in clear {
        let value = vault.seal(&contacts);
        sealed += sqlx::query(
            "UPDATE partners SET contacts_sealed = $2, contacts_key_id = $3, contacts = '[]'
             WHERE id = $1 AND contacts_sealed IS NULL",
        )
        .bind(id)
        .bind(&value.bytes)
        .bind(&value.key_id)
        .execute(pool)
        .await?
        .rows_affected();
    }
    Ok(sealed)
}

pub async fn find_partner(pool: &PgPool, id: Uuid) -> Result<Option<PartnerRow>, sqlx::Error> {
    sqlx::query_as(concat!(
        "SELECT ",
        partner_columns!(),
        " FROM partners WHERE id = $1"
    ))
    .bind(id)
    .fetch_optional(pool)
    .await
}

pub async fn list_partners(pool: &PgPool) -> Result<Vec<PartnerRow>, sqlx::Error> {
    sqlx::query_as(concat!(
        "SELECT ",
        partner_columns!(),
        " FROM partners ORDER BY name"
    ))
    .fetch_all(pool)
    .await
}

pub async fn agreements_of(
    pool: &PgPool,
    partners: &[Uuid],
) -> Result<Vec<AgreementRow>, sqlx::Error> {
    sqlx::query_as(concat!(
        "SELECT ",
        agreement_columns!(),
        " FROM partner_agreements WHERE partner_id = ANY($1) ORDER BY created_at"
    ))
    .bind(partners)
    .fetch_all(pool)
    .await
}

pub async fn credentials_of(
    pool: &PgPool,
    partners: &[Uuid],
) -> Result<Vec<CredentialRow>, sqlx::Error> {
    sqlx::query_as(concat!(
        "SELECT ",
        credential_columns!(),
        " FROM partner_credentials WHERE partner_id = ANY($1) ORDER BY created_at"
    ))
    .bind(partners)
    .fetch_all(pool)
    .await
}

pub struct NewAgreement<'a> {
    pub partner_id: Uuid,
    pub centre_id: Uuid,
    pub provides: &'a str,
    pub scopes: &'a [String],
    pub valid_from: NaiveDate,
    pub valid_until: NaiveDate,
    /// Requests per minute and at once on the partner port; 0 for the default.
    pub rate_per_minute: i32,
    pub rate_burst: i32,
}

pub async fn create_agreement(
    pool: &PgPool,
    agreement: &NewAgreement<'_>,
) -> Result<AgreementRow, sqlx::Error> {
    let mut tx = linli_platform::db::begin(pool).await?;
    let row: AgreementRow = sqlx::query_as(concat!(
        "INSERT INTO partner_agreements \
         (id, partner_id, centre_id, provides, scopes, valid_from, valid_until, \
          rate_per_minute, rate_burst) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING ",
        agreement_columns!()
    ))
    .bind(Uuid::new_v4())
    .bind(agreement.partner_id)
    .bind(agreement.centre_id)
    .bind(agreement.provides)
    .bind(agreement.scopes)
    .bind(agreement.valid_from)
    .bind(agreement.valid_until)
    .bind(agreement.rate_per_minute)
    .bind(agreement.rate_burst)
    .fetch_one(&mut *tx)
    .await?;
    // Every service's directory learns the partner works with the centre.
    enqueue(
        &mut tx,
        Some(row.centre_id),
        &crate::events::agreement_signed(&row),
    )
    .await?;
    tx.commit().await?;
    Ok(row)
}

pub async fn find_agreement(
    pool: &PgPool,
    partner_id: Uuid,
    id: Uuid,
) -> Result<Option<AgreementRow>, sqlx::Error> {
    sqlx::query_as(concat!(
        "SELECT ",
        agreement_columns!(),
        " FROM partner_agreements WHERE partner_id = $1 AND id = $2"
    ))
    .bind(partner_id)
    .bind(id)
    .fetch_optional(pool)
    .await
}

/// Revokes an agreement (a second revocation keeps the first's time and reason), and
/// tells every service's directory.
pub async fn revoke_agreement(
    pool: &PgPool,
    partner_id: Uuid,
    id: Uuid,
    reason: &str,
) -> Result<Option<AgreementRow>, sqlx::Error> {
    let mut tx = linli_platform::db::begin(pool).await?;
    let row: Option<AgreementRow> = sqlx::query_as(concat!(
        "UPDATE partner_agreements \
         SET revoked_at = COALESCE(revoked_at, now()), \
             revoked_reason = CASE WHEN revoked_at IS NULL THEN $3 ELSE revoked_reason END \
         WHERE partner_id = $1 AND id = $2 RETURNING ",
        agreement_columns!()
    ))
    .bind(partner_id)
    .bind(id)
    .bind(reason)
    .fetch_optional(&mut *tx)
    .await?;
    if let Some(row) = &row {
        enqueue(
            &mut tx,
            Some(row.centre_id),
            &crate::events::agreement_revoked(row),
        )
        .await?;
    }
    tx.commit().await?;
    Ok(row)
}

pub async fn register_credential(
    pool: &PgPool,
    partner_id: Uuid,
    fingerprint: &str,
    subject: &str,
    not_after: DateTime<Utc>,
) -> Result<CredentialRow, PartnerError> {
    let mut tx = linli_platform::db::begin(pool).await?;
    let row = sqlx::query_as(concat!(
        "INSERT INTO partner_credentials (id, partner_id, fingerprint, subject, not_after) \
         VALUES ($1, $2, $3, $4, $5) RETURNING ",
        credential_columns!()
    ))
    .bind(Uuid::new_v4())
    .bind(partner_id)
    .bind(fingerprint)
    .bind(subject)
    .bind(not_after)
    .fetch_one(&mut *tx)
    .await
    .map_err(|e| unique_violation(e, "this certificate is registered already"))?;
    tx.commit().await?;
    Ok(row)
}

pub async fn revoke_credential(
    pool: &PgPool,
    partner_id: Uuid,
    id: Uuid,
) -> Result<Option<CredentialRow>, sqlx::Error> {
    sqlx::query_as(concat!(
        "UPDATE partner_credentials SET revoked_at = COALESCE(revoked_at, now()) \
         WHERE partner_id = $1 AND id = $2 RETURNING ",
        credential_columns!()
    ))
    .bind(partner_id)
    .bind(id)
    .fetch_optional(pool)
    .await
}

/// The partner presenting the certificate with this fingerprint (when the credential is
/// neither revoked nor past its end), with its name.
pub async fn partner_of_certificate(
    pool: &PgPool,
    fingerprint: &str,
    now: DateTime<Utc>,
) -> Result<Option<(Uuid, String)>, sqlx::Error> {
    sqlx::query_as(
        "SELECT p.id, p.name FROM partner_credentials c JOIN partners p ON p.id = c.partner_id \
         WHERE c.fingerprint = $1 AND c.revoked_at IS NULL AND c.not_after > $2",
    )
    .bind(fingerprint)
    .bind(now)
    .fetch_optional(pool)
    .await
}

/// Every (centre, scope) the partner's agreements in force on `today` grant.
pub async fn grants_in_force(
    pool: &PgPool,
    partner_id: Uuid,
    today: NaiveDate,
) -> Result<Vec<(Uuid, String)>, sqlx::Error> {
    sqlx::query_as(
        "SELECT DISTINCT centre_id, unnest(scopes) FROM partner_agreements \
         WHERE partner_id = $1 AND revoked_at IS NULL \
           AND valid_from <= $2 AND $2 < valid_until \
         ORDER BY 1, 2",
    )
    .bind(partner_id)
    .bind(today)
    .fetch_all(pool)
    .await
}

/// The highest rate and burst (requests per minute, at once) of the partner's agreements
/// in force on `today`; 0 where none sets one.
pub async fn rate_in_force(
    pool: &PgPool,
    partner_id: Uuid,
    today: NaiveDate,
) -> Result<(i32, i32), sqlx::Error> {
    sqlx::query_as(
        "SELECT COALESCE(max(rate_per_minute), 0), COALESCE(max(rate_burst), 0) \
           FROM partner_agreements \
          WHERE partner_id = $1 AND revoked_at IS NULL \
            AND valid_from <= $2 AND $2 < valid_until",
    )
    .bind(partner_id)
    .bind(today)
    .fetch_one(pool)
    .await
}
