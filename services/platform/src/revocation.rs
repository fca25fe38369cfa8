//! Console sessions that ended before their time, whose tokens every service refuses.
//!
//! A token issued for a console session names it in its `sid` claim. When the registry
//! ends a session early (its user signed out, or the account was disabled) it records the
//! end in its own `revoked_sessions` table and publishes `registry.session.ended` in the
//! same transaction. Every other service learns of it through the bus, without a line of
//! its own: the platform binds its [`BINDINGS`] to every queue it declares, and the inbox
//! consumer applies them itself, recording the end in the service's `revoked_sessions`
//! table in the inbox's transaction. A set in memory, [`Revocations`], is what token
//! verification consults: loaded from the table at start (so a restart keeps every
//! revocation), refreshed from it while the service runs (so every replica learns of an
//! end that one of them consumed), and rid of a session once its tokens have expired.
//! Tokens without a `sid` (`linli token`, the services' own) are never affected.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use chrono::{DateTime, Utc};
use linli_proto::Event;
use linli_proto::events::v1::SessionEnded;
use sqlx::{PgConnection, PgPool};
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use crate::bus::{HandlerError, Incoming};

/// The routing keys the platform itself consumes, bound to every consumer's queue.
pub const BINDINGS: &[&str] = &[SessionEnded::ROUTING_KEY];

/// How long an ended session is remembered after its expiry: longer than the leeway token
/// verification allows on `exp`, so a token is refused by one rule or the other.
const KEPT_AFTER_EXPIRY: chrono::Duration = chrono::Duration::minutes(5);

/// How often a running service reads the table again for ends another replica consumed.
const REFRESH_EVERY: Duration = Duration::from_secs(2);

/// Whether a delivery is one the platform applies rather than the service's handler.
pub fn is_platform_event(routing_key: &str) -> bool {
    BINDINGS.contains(&routing_key)
}

/// The sessions ended early in this process's knowledge, each with its expiry.
#[derive(Clone, Default)]
pub struct Revocations(Arc<RwLock<HashMap<Uuid, DateTime<Utc>>>>);

impl Revocations {
    /// Remembers that `session`, valid until `expires_at`, has ended.
    pub fn revoke(&self, session: Uuid, expires_at: DateTime<Utc>) {
        self.0
            .write()
            .expect("the revocation set is never poisoned: no panics under its lock")
            .insert(session, expires_at);
    }

    /// Whether `session` has ended.
    pub fn is_revoked(&self, session: Uuid) -> bool {
        self.0
            .read()
            .expect("the revocation set is never poisoned: no panics under its lock")
            .contains_key(&session)
    }

    /// Forgets sessions whose tokens have expired anyway.
    fn forget_expired(&self, now: DateTime<Utc>) {
        self.0
            .write()
            .expect("the revocation set is never poisoned: no panics under its lock")
            .retain(|_, expires_at| *expires_at + KEPT_AFTER_EXPIRY > now);
    }

    /// Adds every ended session recorded in `pool`'s database whose tokens may still be
    /// presented; returns how many the table holds.
    pub async fn load(&self, pool: &PgPool) -> Result<usize, sqlx::Error> {
        let rows: Vec<(Uuid, DateTime<Utc>)> = sqlx::query_as(
            "SELECT session_id, expires_at FROM revoked_sessions WHERE expires_at > $1",
        )
        .bind(Utc::now() - KEPT_AFTER_EXPIRY)
        .fetch_all(pool)
        .await?;
        let count = rows.len();
        let mut set = self
            .0
            .write()
            .expect("the revocation set is never poisoned: no panics under its lock");
        set.extend(rows);
        Ok(count)
    }

    /// Reads the table again every few seconds until `stop`, forgetting (and deleting)
    /// what has expired.
    pub async fn keep_fresh(self, pool: PgPool, stop: CancellationToken) {
        loop {
            tokio::select! {
                _ = stop.cancelled() => return,
                _ = tokio::time::sleep(REFRESH_EVERY) => {}
            }
            let now = Utc::now();
            self.forget_expired(now);
            if let Err(error) = self.load(&pool).await {
                // The service's own probe reports the database; the next pass tries again.
                tracing::debug!(%error, "ended sessions not refreshed");
                continue;
            }
            let purged = sqlx::query("DELETE FROM revoked_sessions WHERE expires_at <= $1")
                .bind(now - KEPT_AFTER_EXPIRY)
                .execute(&pool)
                .await;
            if let Err(error) = purged {
                tracing::debug!(%error, "expired session ends not purged");
            }
        }
    }
}

/// Records, inside the caller's transaction, that `session` ended; recording it twice is
/// harmless.
pub async fn record(
    tx: &mut PgConnection,
    session: Uuid,
    expires_at: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO revoked_sessions (session_id, expires_at) VALUES ($1, $2)
         ON CONFLICT (session_id) DO NOTHING",
    )
    .bind(session)
    .bind(expires_at)
    .execute(tx)
    .await?;
    Ok(())
}

/// Applies one of the platform's own events inside the inbox's transaction; returns the
/// session it ended, for the set in memory once the transaction commits.
pub(crate) async fn apply(
    event: &Incoming,
    tx: &mut PgConnection,
) -> Result<(Uuid, DateTime<Utc>), HandlerError> {
    let ended: SessionEnded = event.decode()?;
    let session = Uuid::parse_str(&ended.session_id).map_err(|_| {
        HandlerError::Permanent(format!("session_id {:?} is not a UUID", ended.session_id))
    })?;
    let expires_at = crate::wire::instant("expires_at", ended.expires_at.as_ref())
        .ok()
        .flatten()
        .ok_or_else(|| HandlerError::Permanent("expires_at is missing or invalid".into()))?;
    record(tx, session, expires_at).await?;
    Ok((session, expires_at))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_ended_session_is_forgotten_only_after_its_tokens_expired() {
        let revocations = Revocations::default();
        let (live, expired) = (Uuid::new_v4(), Uuid::new_v4());
        let now = Utc::now();
        revocations.revoke(live, now + chrono::Duration::hours(8));
        revocations.revoke(
            expired,
            now - KEPT_AFTER_EXPIRY - chrono::Duration::seconds(1),
        );
        revocations.forget_expired(now);
        assert!(revocations.is_revoked(live));
        assert!(!revocations.is_revoked(expired));
        assert!(!revocations.is_revoked(Uuid::new_v4()));
    }
}
