//! The consuming half of the bus. A [`Consumer`] reads its own quorum queue and, for each
//! delivery, records the event id in the `inbox` table and applies the [`Handler`] in one
//! transaction, then acks after the commit: an event takes effect exactly once however
//! often it is delivered. A handler's failure is retried with a growing delay until the
//! queue's delivery limit, after which the broker dead-letters the message; a message that
//! can never succeed goes to the dead-letter queue at once. While the database is
//! unreachable the consumer waits and retries in place, so an outage spends no deliveries.

use std::collections::{HashMap, HashSet};
use std::future::Future;
use std::time::Duration;

use chrono::{DateTime, Utc};
use futures::FutureExt as _;
use futures::StreamExt as _;
use lapin::message::Delivery;
use lapin::options::{
    BasicAckOptions, BasicConsumeOptions, BasicNackOptions, BasicQosOptions, BasicRejectOptions,
};
use lapin::types::{AMQPValue, FieldTable};
use linli_proto::Event;
use sqlx::{PgConnection, PgPool};
use tokio_util::sync::CancellationToken;
use tracing::Instrument as _;
use uuid::Uuid;

use super::{Bus, backoff};
use crate::error::{error_chain, is_transient_db_error};
use crate::metrics::{EVENT_LAG, EVENTS_CONSUMED, EVENTS_REDELIVERED};
use crate::revocation::{self, Revocations};
use crate::telemetry;

const PREFETCH: u16 = 64;
/// The most deliveries applied in one transaction.
const BATCH: usize = 32;

/// One delivered event, read from its AMQP properties.
#[derive(Clone, Debug)]
pub struct Incoming {
    pub id: Uuid,
    pub routing_key: String,
    pub message_type: String,
    pub centre_id: Option<Uuid>,
    pub occurred_at: Option<DateTime<Utc>>,
    pub payload: Vec<u8>,
    /// How many times the broker delivered it before this delivery.
    pub delivery_count: u32,
    /// W3C trace context from the headers.
    pub trace: HashMap<String, String>,
}

impl Incoming {
    /// Reads a delivery; an error means the message can never be handled (no event id).
    pub fn from_delivery(delivery: &Delivery) -> Result<Self, String> {
        let properties = &delivery.properties;
        let id = properties
            .message_id()
            .as_ref()
            .and_then(|id| Uuid::parse_str(id.as_str()).ok())
            .ok_or("message_id is missing or not a UUID")?;
        let headers = properties.headers().clone().unwrap_or_default();
        let text = |key: &str| header_text(&headers, key);
        let mut trace = HashMap::new();
        for key in ["traceparent", "tracestate"] {
            if let Some(value) = text(key) {
                trace.insert(key.to_owned(), value);
            }
        }
        Ok(Incoming {
            id,
            routing_key: delivery.routing_key.as_str().to_owned(),
            message_type: properties
                .kind()
                .as_ref()
                .map(|t| t.as_str().to_owned())
                .unwrap_or_default(),
            centre_id: text("centre_id").and_then(|c| Uuid::parse_str(&c).ok()),
            occurred_at: text("occurred_at")
                .and_then(|t| DateTime::parse_from_rfc3339(&t).ok())
                .map(|t| t.with_timezone(&Utc)),
            payload: delivery.data.clone(),
            delivery_count: header_count(&headers, "x-delivery-count"),
            trace,
        })
    }

    /// The payload as `E`, refusing a message of another type.
    pub fn decode<E: Event>(&self) -> Result<E, HandlerError> {
        if self.message_type != E::TYPE {
            return Err(HandlerError::Permanent(format!(
                "expected {}, got {:?}",
                E::TYPE,
                self.message_type
            )));
        }
        E::decode(self.payload.as_slice())
            .map_err(|e| HandlerError::Permanent(format!("undecodable {}: {e}", E::TYPE)))
    }
}

fn header_text(headers: &FieldTable, key: &str) -> Option<String> {
    match headers.inner().get(key)? {
        AMQPValue::LongString(value) => {
            Some(String::from_utf8_lossy(value.as_bytes()).into_owned())
        }
        AMQPValue::ShortString(value) => Some(value.as_str().to_owned()),
        _ => None,
    }
}

fn header_count(headers: &FieldTable, key: &str) -> u32 {
    match headers.inner().get(key) {
        Some(AMQPValue::LongLongInt(n)) => (*n).max(0) as u32,
        Some(AMQPValue::LongInt(n)) => (*n).max(0) as u32,
        Some(AMQPValue::LongUInt(n)) => *n,
        Some(AMQPValue::ShortInt(n)) => (*n).max(0) as u32,
        Some(AMQPValue::ShortUInt(n)) => u32::from(*n),
        _ => 0,
    }
}

/// Why a handler did not apply an event.
#[derive(Debug, thiserror::Error)]
pub enum HandlerError {
    /// Might succeed later: retried with a delay, dead-lettered after the delivery limit.
    #[error("transient: {0}")]
    Transient(String),
    /// Can never succeed (malformed, unknown type): dead-lettered at once.
    #[error("permanent: {0}")]
    Permanent(String),
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
}

/// Applies one kind of event inside the consumer's transaction. It never acks: the
/// consumer commits, then acks.
pub trait Handler: Send + Sync + 'static {
    fn handle(
        &self,
        event: &Incoming,
        tx: &mut PgConnection,
    ) -> impl Future<Output = Result<(), HandlerError>> + Send;

    /// Applies several events, in order, in one transaction: one by one unless the
    /// handler has a faster way (fewer statements for a run of one kind). A failure
    /// fails them all; the consumer then takes them one by one.
    fn handle_batch(
        &self,
        events: &[&Incoming],
        tx: &mut PgConnection,
    ) -> impl Future<Output = Result<(), HandlerError>> + Send {
        async move {
            for event in events {
                self.handle(event, tx).await?;
            }
            Ok(())
        }
    }
}

/// What became of one delivery.
#[derive(Debug, PartialEq, Eq)]
pub enum Outcome {
    /// The effect is committed.
    Applied,
    /// This event id was applied before; nothing done.
    Duplicate,
    /// The handler failed in a way that may pass later.
    Retry(String),
    /// The message can never be handled.
    DeadLetter(String),
    /// The database could not be reached; nothing was spent.
    Unavailable(String),
}

/// A service's subscription: its queue, bindings and handler.
pub struct Consumer<H> {
    name: String,
    pool: PgPool,
    bus: Bus,
    bindings: Vec<String>,
    handler: H,
    /// Where the sessions this consumer learns have ended are refused at once.
    revocations: Option<Revocations>,
}

impl<H: Handler> Consumer<H> {
    /// `name` names the queue (`<prefix>.<name>`) and the inbox rows; `bindings` are
    /// routing-key patterns such as `registry.resident.*`.
    pub fn new(name: &str, pool: PgPool, bus: Bus, bindings: &[&str], handler: H) -> Self {
        Consumer {
            name: name.to_owned(),
            pool,
            bus,
            bindings: bindings.iter().map(|b| (*b).to_owned()).collect(),
            handler,
            revocations: None,
        }
    }

    /// Also tells `revocations` of each session end it applies, as soon as it commits
    /// (without, the end is in the table only, for the next [`Revocations::load`]).
    pub fn revoking_into(mut self, revocations: Revocations) -> Self {
        self.revocations = Some(revocations);
        self
    }

    fn revoke(&self, ended: &[(Uuid, DateTime<Utc>)]) {
        if let Some(revocations) = &self.revocations {
            for (session, expires_at) in ended {
                revocations.revoke(*session, *expires_at);
            }
        }
    }

    /// Declares the queue, its bindings and its dead-letter queue.
    pub async fn declare(&self) -> lapin::Result<()> {
        let channel = self.bus.channel().await?;
        let bindings: Vec<&str> = self.bindings.iter().map(String::as_str).collect();
        self.bus
            .declare_queue(&channel, &self.name, &bindings)
            .await?;
        let _ = channel.close(200, "declared".into()).await;
        Ok(())
    }

    /// Applies one event exactly once: the inbox insert and the handler's effect commit
    /// together, or neither does.
    pub async fn handle(&self, event: &Incoming) -> Outcome {
        let result: Result<Outcome, HandlerError> = async {
            let mut tx = self.pool.begin().await?;
            let fresh = sqlx::query(
                "INSERT INTO inbox (consumer, event_id, routing_key) VALUES ($1, $2, $3)
                 ON CONFLICT DO NOTHING",
            )
            .bind(&self.name)
            .bind(event.id)
            .bind(&event.routing_key)
            .execute(&mut *tx)
            .await?
            .rows_affected()
                == 1;
            if !fresh {
                return Ok(Outcome::Duplicate);
            }
            // The platform's own events never reach the service's handler.
            if revocation::is_platform_event(&event.routing_key) {
                let ended = revocation::apply(event, &mut tx).await?;
                tx.commit().await?;
                self.revoke(&[ended]);
                return Ok(Outcome::Applied);
            }
            self.handler.handle(event, &mut tx).await?;
            tx.commit().await?;
            Ok(Outcome::Applied)
        }
        .await;
        match result {
            Ok(outcome) => outcome,
            Err(HandlerError::Permanent(reason)) => Outcome::DeadLetter(reason),
            Err(HandlerError::Transient(reason)) => Outcome::Retry(reason),
            Err(HandlerError::Database(error)) if is_transient_db_error(&error) => {
                Outcome::Unavailable(error_chain(&error))
            }
            Err(HandlerError::Database(error)) => Outcome::Retry(error_chain(&error)),
        }
    }

    /// Consumes until `shutdown`, reconnecting with backoff whenever the broker goes away.
    pub async fn run(self, shutdown: CancellationToken) {
        let mut attempt = 0;
        while !shutdown.is_cancelled() {
            match self.consume(&shutdown, &mut attempt).await {
                Ok(()) => break,
                Err(error) => {
                    attempt += 1;
                    tracing::warn!(consumer = %self.name, error = %format!("{error:#}"), "consumer lost the broker; reconnecting");
                    tokio::select! {
                        _ = shutdown.cancelled() => break,
                        _ = tokio::time::sleep(backoff(Duration::from_millis(100), attempt, Duration::from_secs(10))) => {}
                    }
                }
            }
        }
    }

    async fn consume(&self, shutdown: &CancellationToken, attempt: &mut u32) -> anyhow::Result<()> {
        let channel = self.bus.channel().await?;
        let bindings: Vec<&str> = self.bindings.iter().map(String::as_str).collect();
        within(self.bus.declare_queue(&channel, &self.name, &bindings)).await?;
        within(channel.basic_qos(PREFETCH, BasicQosOptions::default())).await?;
        let mut deliveries = within(channel.basic_consume(
            self.bus.args().queue(&self.name).into(),
            format!("{}-{}", self.name, Uuid::new_v4()).into(),
            BasicConsumeOptions::default(),
            FieldTable::default(),
        ))
        .await?;
        *attempt = 0;
        tracing::info!(consumer = %self.name, "consuming");
        // Reported as 0 from the start: redeliveries are rare, and a rate of a series that
        // does not exist yet is "no data" on the dashboards, not 0.
        EVENTS_REDELIVERED.with_label_values(&[&self.name]);
        loop {
            let delivery = tokio::select! {
                _ = shutdown.cancelled() => {
                    let _ = channel.close(200, "shutting down".into()).await;
                    return Ok(());
                }
                next = deliveries.next() => match next {
                    Some(delivery) => delivery?,
                    None => anyhow::bail!("the consumer stream ended"),
                },
            };
            // Whatever else has already arrived goes into the same transaction: one commit
            // for many events keeps up with a busy stream.
            let mut batch = vec![delivery];
            while batch.len() < BATCH {
                match deliveries.next().now_or_never() {
                    Some(Some(delivery)) => batch.push(delivery?),
                    Some(None) => anyhow::bail!("the consumer stream ended"),
                    None => break,
                }
            }
            for delivery in self.apply_batch(batch).await? {
                if !self.process(delivery, shutdown).await? {
                    let _ = channel.close(200, "shutting down".into()).await;
                    return Ok(());
                }
            }
        }
    }

    /// Applies a batch of deliveries in one transaction and acks them once it commits:
    /// one statement claims every event id in the inbox, then the handler applies the
    /// fresh ones. Returns the deliveries that need the one-by-one path: an unreadable
    /// message, or the whole batch when a handler failed or the transaction did (one
    /// failure rolls the batch back, so nothing of it is half applied).
    async fn apply_batch(&self, batch: Vec<Delivery>) -> lapin::Result<Vec<Delivery>> {
        if batch.len() == 1 {
            return Ok(batch);
        }
        let mut rest = Vec::new();
        let mut readable = Vec::new();
        for delivery in batch {
            match Incoming::from_delivery(&delivery) {
                Ok(event) => readable.push((delivery, event)),
                Err(_) => rest.push(delivery),
            }
        }
        let outcome: Result<Vec<&'static str>, HandlerError> = async {
            let mut tx = self.pool.begin().await?;
            let ids: Vec<Uuid> = readable.iter().map(|(_, event)| event.id).collect();
            let keys: Vec<&str> = readable
                .iter()
                .map(|(_, event)| event.routing_key.as_str())
                .collect();
            let mut fresh: HashSet<Uuid> = sqlx::query_scalar(
                "INSERT INTO inbox (consumer, event_id, routing_key)
                 SELECT $1, e.id, e.routing_key FROM UNNEST($2::uuid[], $3::text[]) AS e(id, routing_key)
                 ON CONFLICT DO NOTHING RETURNING event_id",
            )
            .bind(&self.name)
            .bind(&ids)
            .bind(&keys)
            .fetch_all(&mut *tx)
            .await?
            .into_iter()
            .collect();
            let mut outcomes = Vec::with_capacity(readable.len());
            let mut applying = Vec::with_capacity(readable.len());
            // Each event's span continues its own trace and lasts until the transaction
            // that applies the whole batch has committed.
            let mut spans = Vec::with_capacity(readable.len());
            for (_, event) in &readable {
                // The same event twice in one batch is applied once.
                if !fresh.remove(&event.id) {
                    outcomes.push("duplicate");
                    continue;
                }
                let span = tracing::info_span!(
                    "consume",
                    otel.name = format!("{} process", event.routing_key),
                    otel.kind = "consumer",
                    consumer = %self.name,
                    event_id = %event.id,
                    trace_id = tracing::field::Empty,
                );
                telemetry::adopt_parent(&span, &event.trace);
                spans.push(span);
                applying.push(event);
                outcomes.push("applied");
            }
            // The platform's own events never reach the service's handler.
            let mut ended = Vec::new();
            let mut services = Vec::with_capacity(applying.len());
            for event in applying {
                if revocation::is_platform_event(&event.routing_key) {
                    ended.push(revocation::apply(event, &mut tx).await?);
                } else {
                    services.push(event);
                }
            }
            if !services.is_empty() {
                let work = self.handler.handle_batch(&services, &mut tx);
                match spans.first() {
                    Some(span) => work.instrument(span.clone()).await?,
                    None => work.await?,
                }
            }
            tx.commit().await?;
            self.revoke(&ended);
            drop(spans);
            Ok(outcomes)
        }
        .await;
        let outcomes = match outcome {
            Ok(outcomes) => outcomes,
            Err(error) => {
                tracing::warn!(consumer = %self.name, error = %error_chain(&error), "batch not applied; one by one instead");
                rest.extend(readable.into_iter().map(|(delivery, _)| delivery));
                return Ok(rest);
            }
        };
        // With nothing of the batch left over, one ack settles it all: this channel's
        // earlier deliveries are settled already, one by one in this task.
        let together = rest.is_empty();
        let count = readable.len();
        for (n, ((delivery, event), label)) in readable.into_iter().zip(outcomes).enumerate() {
            if delivery.redelivered {
                EVENTS_REDELIVERED.with_label_values(&[&self.name]).inc();
            }
            EVENTS_CONSUMED
                .with_label_values(&[&self.name, label])
                .inc();
            if let Some(occurred) = event.occurred_at {
                let lag = (Utc::now() - occurred).to_std().unwrap_or_default();
                EVENT_LAG
                    .with_label_values(&[&self.name])
                    .observe(lag.as_secs_f64());
            }
            if !together {
                within(delivery.acker.ack(BasicAckOptions::default())).await?;
            } else if n + 1 == count {
                within(delivery.acker.ack(BasicAckOptions { multiple: true })).await?;
            }
        }
        Ok(rest)
    }

    /// Handles one delivery and settles it; false when shutdown interrupted it.
    async fn process(
        &self,
        delivery: Delivery,
        shutdown: &CancellationToken,
    ) -> lapin::Result<bool> {
        if delivery.redelivered {
            EVENTS_REDELIVERED.with_label_values(&[&self.name]).inc();
        }
        let event = match Incoming::from_delivery(&delivery) {
            Ok(event) => event,
            Err(reason) => {
                tracing::error!(consumer = %self.name, routing_key = %delivery.routing_key, %reason, "unreadable message dead-lettered");
                EVENTS_CONSUMED
                    .with_label_values(&[&self.name, "dead_lettered"])
                    .inc();
                within(delivery.acker.reject(BasicRejectOptions { requeue: false })).await?;
                return Ok(true);
            }
        };
        let span = tracing::info_span!(
            "consume",
            otel.name = format!("{} process", event.routing_key),
            otel.kind = "consumer",
            consumer = %self.name,
            event_id = %event.id,
            trace_id = tracing::field::Empty,
        );
        telemetry::adopt_parent(&span, &event.trace);

        let mut waits = 0;
        let outcome = loop {
            match self.handle(&event).instrument(span.clone()).await {
                Outcome::Unavailable(reason) => {
                    waits += 1;
                    tracing::warn!(parent: &span, consumer = %self.name, %reason, "database unavailable; waiting");
                    tokio::select! {
                        _ = shutdown.cancelled() => {
                            within(delivery.acker.nack(BasicNackOptions { requeue: true, ..Default::default() })).await?;
                            return Ok(false);
                        }
                        _ = tokio::time::sleep(backoff(Duration::from_millis(100), waits, Duration::from_secs(5))) => {}
                    }
                }
                outcome => break outcome,
            }
        };

        let limit = self.bus.args().delivery_limit;
        match outcome {
            Outcome::Applied | Outcome::Duplicate => {
                let label = if outcome == Outcome::Applied {
                    "applied"
                } else {
                    "duplicate"
                };
                EVENTS_CONSUMED
                    .with_label_values(&[&self.name, label])
                    .inc();
                if let Some(occurred) = event.occurred_at {
                    let lag = (Utc::now() - occurred).to_std().unwrap_or_default();
                    EVENT_LAG
                        .with_label_values(&[&self.name])
                        .observe(lag.as_secs_f64());
                }
                within(delivery.acker.ack(BasicAckOptions::default())).await?;
            }
            Outcome::Retry(reason) => {
                let last = event.delivery_count + 1 >= limit;
                let label = if last { "dead_lettered" } else { "retried" };
                EVENTS_CONSUMED
                    .with_label_values(&[&self.name, label])
                    .inc();
                tracing::warn!(parent: &span, consumer = %self.name, %reason, deliveries = event.delivery_count + 1, limit, "handler failed; {}", if last { "dead-lettering" } else { "will retry" });
                if !last {
                    let delay = backoff(
                        Duration::from_millis(self.bus.args().retry_base_ms),
                        event.delivery_count,
                        Duration::from_secs(30),
                    );
                    tokio::select! {
                        _ = shutdown.cancelled() => {}
                        _ = tokio::time::sleep(delay) => {}
                    }
                }
                within(delivery.acker.nack(BasicNackOptions {
                    requeue: !last,
                    ..Default::default()
                }))
                .await?;
            }
            Outcome::DeadLetter(reason) => {
                EVENTS_CONSUMED
                    .with_label_values(&[&self.name, "dead_lettered"])
                    .inc();
                tracing::error!(parent: &span, consumer = %self.name, %reason, "event can never be handled; dead-lettered");
                within(delivery.acker.reject(BasicRejectOptions { requeue: false })).await?;
            }
            Outcome::Unavailable(_) => unreachable!("waited out above"),
        }
        Ok(true)
    }
}

/// How long a broker operation may take before the connection is taken for dead.
const BROKER_ANSWER: Duration = Duration::from_secs(10);

/// A broker operation with a deadline: a connection whose socket died unnoticed would
/// otherwise hold the consumer forever; the error makes it reconnect.
async fn within<T>(operation: impl Future<Output = lapin::Result<T>>) -> lapin::Result<T> {
    tokio::time::timeout(BROKER_ANSWER, operation)
        .await
        .unwrap_or_else(|_| {
            Err(lapin::Error::from(std::io::Error::new(
                std::io::ErrorKind::TimedOut,
                "the broker did not answer in time",
            )))
        })
}
