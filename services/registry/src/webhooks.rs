//! Events for outside systems: a partner agreement's webhook. The registry holds the
//! agreements, so it also holds their webhooks and delivers them:
//!
//! - the consumer `webhooks` reads every event from the exchange through the platform's
//!   idempotent inbox and, in the same transaction, records one delivery row per
//!   (agreement, event) for each agreement in force at the event's centre whose webhook
//!   covers the event's type. Only committed events reach the exchange (the outbox), and a
//!   redelivered event adds nothing (the inbox, and the row's unique key);
//! - the sender loop POSTs due deliveries, signed ([`linli_platform::webhook`]), and records
//!   each attempt: `delivered` on a 2xx, otherwise `failing` with the HTTP status and the
//!   next attempt after an exponential, capped backoff. A delivery is sent until delivered;
//!   a revoked agreement's are no longer sent.
//!
//! What a webhook may cover is decided by the agreement's scopes ([`COVERED`]).

use std::time::Duration;

use chrono::{DateTime, Utc};
use linli_platform::CancellationToken;
use linli_platform::bus::{BusArgs, Handler, HandlerError, Incoming};
use linli_platform::crypto::{Sealed, Vault};
use linli_platform::webhook;
use linli_proto::Event;
use linli_proto::events::v1 as ev;
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

/// The consumer's name: its queue is `<prefix>.webhooks`.
pub const CONSUMER: &str = "webhooks";
/// The events a webhook may cover (every type in [`COVERED`]) and the erasure that takes
/// their deliveries. Not `#`: a consumer bound to everything would make every routing key
/// routable, so the relay's `mandatory` publish could no longer catch an event nobody
/// consumes, and the registry would keep an inbox row for every event of the district.
/// The covered events are all partners' own, so it binds their partner keys
/// ([`linli_platform::bus::partner_key`]) and never takes a booking of a centre's own
/// offering.
pub const BINDINGS: &[&str] = &[
    "partner.bookings.booking.confirmed",
    "partner.bookings.booking.attended",
    "partner.bookings.service.delivered",
    ev::ResidentErased::ROUTING_KEY,
];

/// The event types (routing keys) each scope lets a webhook cover. A partner learns by
/// webhook only what its scopes would let it read: `bookings.bookings:read` is bookings of
/// the partner's own offerings, so only the booking events that name the offering's
/// provider (`provider_id`) are covered, and each is sent only to agreements of that
/// partner. Events that do not name whose they are (a waitlisting, a cancellation, a
/// volunteer's hours) are not covered until they do.
pub const COVERED: &[(&str, &[&str])] = &[(
    "bookings.bookings:read",
    &[
        ev::BookingConfirmed::ROUTING_KEY,
        ev::BookingAttended::ROUTING_KEY,
        ev::ServiceDelivered::ROUTING_KEY,
    ],
)];

/// Whether an agreement with `scopes` may have `event_type` sent to it.
pub fn covers(scopes: &[String], event_type: &str) -> bool {
    COVERED
        .iter()
        .any(|(scope, types)| scopes.iter().any(|s| s == scope) && types.contains(&event_type))
}

/// Records the deliveries an event makes, inside the inbox's transaction.
pub struct Deliveries;

impl Handler for Deliveries {
    async fn handle(&self, event: &Incoming, tx: &mut PgConnection) -> Result<(), HandlerError> {
        // An erased resident's deliveries go with the rest of their data: none is kept
        // (or sent, or replayed) that names them.
        if event.routing_key == ev::ResidentErased::ROUTING_KEY {
            let erased: ev::ResidentErased = event.decode()?;
            let names = format!("\"resident_id\":\"{}\"", erased.resident_id.trim());
            sqlx::query(
                "DELETE FROM webhook_deliveries WHERE centre_id::text = $1 AND strpos(body, $2) > 0",
            )
            .bind(erased.centre_id.trim())
            .bind(&names)
            .execute(&mut *tx)
            .await?;
            return Ok(());
        }
        // An event that names no centre concerns no agreement.
        let Some(centre) = event.centre_id else {
            return Ok(());
        };
        let agreements: Vec<(Uuid, Uuid)> = sqlx::query_as(
            "SELECT w.agreement_id, a.partner_id FROM agreement_webhooks w
             JOIN partner_agreements a ON a.id = w.agreement_id
             WHERE a.centre_id = $1 AND a.revoked_at IS NULL
               AND a.valid_from <= current_date AND current_date < a.valid_until
               AND $2 = ANY (w.event_types)",
        )
        .bind(centre)
        .bind(&event.routing_key)
        .fetch_all(&mut *tx)
        .await?;
        if agreements.is_empty() {
            return Ok(());
        }
        // Only the provider's own: an event that names no provider goes to no one.
        let data = webhook::payload_json(&event.message_type, &event.payload)
            .map_err(HandlerError::Permanent)?;
        let provider = data["provider_id"].as_str().unwrap_or_default();
        let agreements: Vec<Uuid> = agreements
            .into_iter()
            .filter(|(_, partner)| partner.to_string() == provider)
            .map(|(agreement, _)| agreement)
            .collect();
        if agreements.is_empty() {
            return Ok(());
        }
        let body = webhook::body(
            event.id,
            &event.routing_key,
            &event.message_type,
            Some(centre),
            event.occurred_at,
            &event.payload,
        )
        .map_err(HandlerError::Permanent)?;
        let ids: Vec<Uuid> = agreements.iter().map(|_| Uuid::new_v4()).collect();
        sqlx::query(
            "INSERT INTO webhook_deliveries (id, agreement_id, event_id, event_type, centre_id, body)
             SELECT d.id, d.agreement_id, $3, $4, $5, $6
             FROM UNNEST($1::uuid[], $2::uuid[]) AS d(id, agreement_id)
             ON CONFLICT (agreement_id, event_id) DO NOTHING",
        )
        .bind(&ids)
        .bind(&agreements)
        .bind(event.id)
        .bind(&event.routing_key)
        .bind(centre)
        .bind(&body)
        .execute(&mut *tx)
        .await?;
        Ok(())
    }
}

/// How the sender retries: from `base`, doubling per attempt, never longer than `cap`.
#[derive(Clone, Copy, Debug)]
pub struct Backoff {
    pub base: Duration,
    pub cap: Duration,
}

impl Backoff {
    pub fn from_bus(args: &BusArgs) -> Self {
        Backoff {
            base: Duration::from_millis(args.webhook_retry_base_ms),
            cap: Duration::from_millis(args.webhook_retry_cap_ms.max(args.webhook_retry_base_ms)),
        }
    }

    fn after(&self, attempts: i32) -> Duration {
        linli_platform::bus::backoff(self.base, attempts.max(0) as u32, self.cap).min(self.cap)
    }

    /// How often due deliveries are looked for.
    fn poll(&self) -> Duration {
        (self.base / 2).clamp(Duration::from_millis(20), Duration::from_secs(1))
    }
}

/// How long a claimed delivery is left to its sender before another may take it.
const LEASE_SECONDS: i64 = 60;
/// How long a receiver has to answer.
const ANSWER_WITHIN: Duration = Duration::from_secs(10);
/// Deliveries sent in one round.
const BATCH: i64 = 32;

#[derive(sqlx::FromRow)]
struct Due {
    id: Uuid,
    event_id: Uuid,
    event_type: String,
    body: String,
    url: String,
    secret_sealed: Vec<u8>,
    secret_key_id: String,
    /// The attempts made before this one.
    attempts: i32,
    /// The lease this attempt holds: its `next_attempt_at` as claimed. A replay asked for
    /// while the attempt is in flight sets it to now, and the attempt's outcome then
    /// leaves the delivery due, so the replay is sent and not overwritten.
    leased_until: DateTime<Utc>,
}

/// Sends due deliveries until `shutdown`.
pub async fn send(pool: PgPool, vault: Vault, backoff: Backoff, shutdown: CancellationToken) {
    let client = match reqwest::Client::builder()
        .timeout(ANSWER_WITHIN)
        .redirect(reqwest::redirect::Policy::none())
        .build()
    {
        Ok(client) => client,
        Err(error) => {
            tracing::error!(%error, "no HTTP client: webhooks are not sent");
            return;
        }
    };
    loop {
        let sent = match send_due(&pool, &vault, &client, backoff).await {
            Ok(sent) => sent,
            Err(error) => {
                tracing::warn!(%error, "webhook deliveries not sent; trying again shortly");
                0
            }
        };
        if sent > 0 {
            continue;
        }
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = tokio::time::sleep(backoff.poll()) => {}
        }
    }
}

/// Claims the deliveries due now (a lease, so another registry replica does not send them
/// too), POSTs them at once and records what each receiver answered; how many were sent.
async fn send_due(
    pool: &PgPool,
    vault: &Vault,
    client: &reqwest::Client,
    backoff: Backoff,
) -> Result<usize, sqlx::Error> {
    let due: Vec<Due> = sqlx::query_as(
        "UPDATE webhook_deliveries d
         SET next_attempt_at = now() + make_interval(secs => $1)
         FROM (SELECT d2.id FROM webhook_deliveries d2
               JOIN partner_agreements a ON a.id = d2.agreement_id
               WHERE d2.status <> 'delivered' AND d2.next_attempt_at <= now()
                 AND a.revoked_at IS NULL
               ORDER BY d2.next_attempt_at
               LIMIT $2
               FOR UPDATE OF d2 SKIP LOCKED) due,
              agreement_webhooks w
         WHERE d.id = due.id AND w.agreement_id = d.agreement_id
         RETURNING d.id, d.event_id, d.event_type, d.body, w.url, w.secret_sealed, w.secret_key_id,
                   d.attempts, d.next_attempt_at AS leased_until",
    )
    .bind(LEASE_SECONDS as f64)
    .bind(BATCH)
    .fetch_all(pool)
    .await?;
    let count = due.len();
    let mut sending = tokio::task::JoinSet::new();
    for delivery in due {
        let (pool, vault, client) = (pool.clone(), vault.clone(), client.clone());
        sending.spawn(async move {
            let answer = post(&vault, &client, &delivery).await;
            record(&pool, &delivery, answer, backoff).await
        });
    }
    while let Some(done) = sending.join_next().await {
        if let Ok(Err(error)) = done {
            tracing::warn!(%error, "a webhook attempt was not recorded; it is sent again after its lease");
        }
    }
    Ok(count)
}

/// What a receiver answered: its HTTP status, or why it was not reached.
enum Answer {
    Status(u16),
    Unreached(String),
}

async fn post(vault: &Vault, client: &reqwest::Client, delivery: &Due) -> Answer {
    let sealed = Sealed {
        key_id: delivery.secret_key_id.clone(),
        bytes: delivery.secret_sealed.clone(),
    };
    let secret = match vault.open(&sealed) {
        Ok(secret) => secret,
        Err(error) => return Answer::Unreached(format!("the secret does not open: {error}")),
    };
    let signature = webhook::sign(&secret, Utc::now().timestamp(), delivery.body.as_bytes());
    let sent = client
        .post(&delivery.url)
        .header("content-type", "application/json")
        .header(webhook::SIGNATURE_HEADER, signature)
        .header(webhook::EVENT_ID_HEADER, delivery.event_id.to_string())
        .header(webhook::EVENT_TYPE_HEADER, &delivery.event_type)
        .header(webhook::DELIVERY_ID_HEADER, delivery.id.to_string())
        .body(delivery.body.clone())
        .send()
        .await;
    match sent {
        Ok(response) => Answer::Status(response.status().as_u16()),
        // Only the kind of failure: the URL is the agreement's, the body never logged.
        Err(error) if error.is_timeout() => Answer::Unreached("timed out".into()),
        Err(error) if error.is_connect() => Answer::Unreached("could not connect".into()),
        Err(_) => Answer::Unreached("request failed".into()),
    }
}

/// Records an attempt's outcome. When the delivery was replayed while the attempt was in
/// flight (its lease is no longer the one claimed), the attempt is counted but the
/// delivery stays as the replay left it, due now.
async fn record(
    pool: &PgPool,
    delivery: &Due,
    answer: Answer,
    backoff: Backoff,
) -> Result<(), sqlx::Error> {
    let (status, http_status, error, wait) = match answer {
        Answer::Status(status) if (200..300).contains(&status) => {
            ("delivered", Some(i32::from(status)), String::new(), 0.0)
        }
        answer => {
            let (http_status, error) = match answer {
                Answer::Status(status) => (Some(i32::from(status)), format!("answered {status}")),
                Answer::Unreached(why) => (None, why),
            };
            let wait = backoff.after(delivery.attempts).as_secs_f64();
            ("failing", http_status, error, wait)
        }
    };
    sqlx::query(
        "UPDATE webhook_deliveries
         SET attempts = attempts + 1, last_http_status = $3, last_error = $4,
             status = CASE WHEN next_attempt_at = $2 THEN $5 ELSE status END,
             delivered_at = CASE WHEN next_attempt_at = $2 AND $5 = 'delivered' THEN now()
                                 ELSE delivered_at END,
             next_attempt_at = CASE WHEN next_attempt_at = $2
                                    THEN now() + make_interval(secs => $6)
                                    ELSE next_attempt_at END
         WHERE id = $1",
    )
    .bind(delivery.id)
    .bind(delivery.leased_until)
    .bind(http_status)
    .bind(error)
    .bind(status)
    .bind(wait)
    .execute(pool)
    .await?;
    Ok(())
}

/// An agreement's webhook as stored (its secret sealed).
#[derive(sqlx::FromRow)]
pub struct WebhookRow {
    pub agreement_id: Uuid,
    pub url: String,
    pub event_types: Vec<String>,
    pub updated_at: DateTime<Utc>,
}

/// Sets (or replaces) an agreement's webhook with a new sealed secret.
pub async fn set(
    pool: &PgPool,
    agreement_id: Uuid,
    url: &str,
    event_types: &[String],
    secret: &Sealed,
) -> Result<WebhookRow, sqlx::Error> {
    sqlx::query_as(
        "INSERT INTO agreement_webhooks (agreement_id, url, event_types, secret_sealed, secret_key_id)
         VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (agreement_id) DO UPDATE
         SET url = EXCLUDED.url, event_types = EXCLUDED.event_types,
             secret_sealed = EXCLUDED.secret_sealed, secret_key_id = EXCLUDED.secret_key_id,
             updated_at = now()
         RETURNING agreement_id, url, event_types, updated_at",
    )
    .bind(agreement_id)
    .bind(url)
    .bind(event_types)
    .bind(&secret.bytes)
    .bind(&secret.key_id)
    .fetch_one(pool)
    .await
}

/// An agreement's webhook, when one is set.
pub async fn get(pool: &PgPool, agreement_id: Uuid) -> Result<Option<WebhookRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT agreement_id, url, event_types, updated_at FROM agreement_webhooks
          WHERE agreement_id = $1",
    )
    .bind(agreement_id)
    .fetch_optional(pool)
    .await
}

#[derive(sqlx::FromRow)]
pub struct DeliveryRow {
    pub id: Uuid,
    pub agreement_id: Uuid,
    pub event_id: Uuid,
    pub event_type: String,
    pub status: String,
    pub attempts: i32,
    pub last_http_status: Option<i32>,
    pub next_attempt_at: DateTime<Utc>,
    pub delivered_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

/// An agreement's deliveries, latest first, after the keyset `after`.
pub async fn list(
    pool: &PgPool,
    agreement_id: Uuid,
    after: Option<(DateTime<Utc>, Uuid)>,
    limit: i64,
) -> Result<Vec<DeliveryRow>, sqlx::Error> {
    let (at, id) = after.unzip();
    sqlx::query_as(
        "SELECT id, agreement_id, event_id, event_type, status, attempts, last_http_status,
                next_attempt_at, delivered_at, created_at
         FROM webhook_deliveries
         WHERE agreement_id = $1 AND ($2::timestamptz IS NULL OR (created_at, id) < ($2, $3))
         ORDER BY created_at DESC, id DESC
         LIMIT $4",
    )
    .bind(agreement_id)
    .bind(at)
    .bind(id)
    .bind(limit)
    .fetch_all(pool)
    .await
}

/// Makes deliveries due again now: one (`delivery`), or every one recorded since `since`;
/// how many.
pub async fn replay(
    pool: &PgPool,
    agreement_id: Uuid,
    delivery: Option<Uuid>,
    since: Option<DateTime<Utc>>,
) -> Result<u64, sqlx::Error> {
    Ok(sqlx::query(
        "UPDATE webhook_deliveries
         SET status = 'pending', next_attempt_at = now(), delivered_at = NULL
         WHERE agreement_id = $1
           AND ($2::uuid IS NULL OR id = $2)
           AND ($3::timestamptz IS NULL OR created_at >= $3)",
    )
    .bind(agreement_id)
    .bind(delivery)
    .bind(since)
    .execute(pool)
    .await?
    .rows_affected())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_type_a_webhook_may_cover_is_bound_for_partners_and_the_erasure_too() {
        use linli_platform::bus::partner_key;
        for (_, types) in COVERED {
            for kind in *types {
                let partners = partner_key(kind);
                assert!(
                    BINDINGS.contains(&partners.as_str()),
                    "{partners} is not bound"
                );
                assert!(
                    !BINDINGS.contains(kind),
                    "{kind} is bound for every centre's"
                );
            }
        }
        assert!(BINDINGS.contains(&ev::ResidentErased::ROUTING_KEY));
        assert!(!BINDINGS.contains(&"#"), "bound to every event");
    }
}
