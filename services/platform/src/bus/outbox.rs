//! The publishing half of the bus. A service writes its events into the `outbox` table in
//! the same transaction as the state change they describe ([`enqueue`]); the [`Relay`]
//! publishes committed rows with publisher confirms and marks them sent. A crash before
//! commit loses both, a crash after commit loses neither: the relay finds the row on its
//! next pass. A crash between the broker's confirm and the mark publishes twice, which the
//! consumers' inbox absorbs.
//!
//! The relay is woken from inside the process: [`enqueue`] raises its service's wake-up.
//! (A `NOTIFY` at commit would reach other processes too, but PostgreSQL serialises every
//! notifying commit, WAL flush included, on one database-wide lock: a bare booking-plus-
//! outbox transaction fell from 2,190 to 912 per second at 16 clients with it.) Events
//! committed by another process (a replica, a seed, an import) are found by the idle poll.
//!
//! One relay of a service publishes at a time: it holds the service's relay lock (a
//! PostgreSQL advisory lock) on a connection of its own, so a replica's relay stands by
//! until that connection goes: with its process, or on a database error. Holding the lead,
//! a pass needs no transaction: one statement marks what the previous pass published and
//! reads the next batch, and a drain of one batch is two round trips.

use std::collections::HashMap;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, LazyLock};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use lapin::options::{BasicPublishOptions, ConfirmSelectOptions};
use lapin::types::{AMQPValue, FieldTable, LongString};
use lapin::{BasicProperties, Channel, Confirmation};
use linli_proto::Event;
use sqlx::{PgConnection, PgPool};
use tokio::sync::{Mutex, Notify};
use tokio_util::sync::CancellationToken;
use tracing::Instrument as _;
use uuid::Uuid;

use super::{Bus, backoff, partner_key, string};
use crate::error::error_chain;
use crate::metrics::{CENTRE_EVENTS, EVENTS_PUBLISHED, OUTBOX_BACKLOG, RELAY_PASS};
use crate::telemetry;

/// How often the relay looks through every unpublished row, for the rare event committed
/// more than [`RECENT_SLACK`] events after it was written (a long import). Such a pass walks
/// the dead index entries marked rows leave until a vacuum; once a second, it was most of
/// the event lag's tail at 64 clients (p99 329 → 227 ms, one run each).
const FALLBACK_POLL: Duration = Duration::from_secs(10);
/// How often it looks at the recent rows without being woken: for events another process
/// (a replica whose relay stands by, a seed, an import) committed.
const IDLE_POLL: Duration = Duration::from_millis(100);
/// After a wake-up, how long the relay keeps looking (at growing intervals) for the events
/// announced, which become visible only when their transaction commits.
const LOOK_AFTER_WAKE: Duration = Duration::from_millis(500);
/// The first pause of that looking; each next one is twice as long.
const FIRST_LOOK: Duration = Duration::from_millis(5);
const BATCH: i64 = 200;
/// How far before the last published row the passes between full ones look: rows whose
/// transaction committed this many events after they were written are found by the next
/// full pass, within [`FALLBACK_POLL`].
const RECENT_SLACK: i64 = 10_000;
const CONFIRM_TIMEOUT: Duration = Duration::from_secs(15);

/// Records `event` for publication, inside the caller's transaction. Returns its event id.
pub async fn enqueue<E: Event>(
    tx: &mut PgConnection,
    centre_id: Option<Uuid>,
    event: &E,
) -> Result<Uuid, sqlx::Error> {
    let id = Uuid::new_v4();
    let trace = telemetry::current_trace_headers();
    sqlx::query(
        "INSERT INTO outbox (id, routing_key, message_type, centre_id, payload, traceparent, tracestate, for_partner)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(id)
    .bind(E::ROUTING_KEY)
    .bind(E::TYPE)
    .bind(centre_id)
    .bind(event.encode_to_vec())
    .bind(trace.get("traceparent"))
    .bind(trace.get("tracestate"))
    .bind(event.for_partner())
    .execute(tx)
    .await?;
    raise(E::ROUTING_KEY);
    Ok(id)
}

/// Records many events of one kind in one statement (bulk work such as imports), inside
/// the caller's transaction. Returns their event ids, in order.
pub async fn enqueue_all<E: Event>(
    tx: &mut PgConnection,
    events: &[(Option<Uuid>, E)],
) -> Result<Vec<Uuid>, sqlx::Error> {
    static STATEMENT: LazyLock<String> = LazyLock::new(|| Recorded::insert(1));
    let mut recorded = Recorded::default();
    let ids = events
        .iter()
        .map(|(centre, event)| recorded.push(*centre, event))
        .collect();
    recorded
        .bind(sqlx::query(STATEMENT.as_str()))
        .execute(tx)
        .await?;
    Ok(ids)
}

/// Events recorded by the very statement that makes the change, as one more CTE of it
/// (`WITH recorded AS (<Recorded::insert>) ...`): for hot paths, where [`enqueue`]'s round
/// trip per event counts; also [`enqueue_all`]'s one statement. Bind with
/// [`Recorded::bind`], which also wakes the relay.
#[derive(Default)]
pub struct Recorded {
    ids: Vec<Uuid>,
    routing_keys: Vec<&'static str>,
    types: Vec<&'static str>,
    centres: Vec<Option<Uuid>>,
    payloads: Vec<Vec<u8>>,
    for_partners: Vec<bool>,
}

impl Recorded {
    /// Adds `event`; returns its event id.
    pub fn push<E: Event>(&mut self, centre_id: Option<Uuid>, event: &E) -> Uuid {
        let id = Uuid::new_v4();
        self.ids.push(id);
        self.routing_keys.push(E::ROUTING_KEY);
        self.types.push(E::TYPE);
        self.centres.push(centre_id);
        self.payloads.push(event.encode_to_vec());
        self.for_partners.push(event.for_partner());
        id
    }

    /// The `INSERT`, its eight parameters numbered from `first`, in the order
    /// [`Recorded::bind`] binds them. Events keep the order they were pushed in.
    pub fn insert(first: usize) -> String {
        Self::insert_if(first, "true")
    }

    /// [`Recorded::insert`], recording the events only when `condition` (SQL, e.g. on
    /// another CTE of the statement) holds: for a statement that may decide to change
    /// nothing.
    pub fn insert_if(first: usize, condition: &str) -> String {
        let p = |n: usize| format!("${}", first + n);
        format!(
            "INSERT INTO outbox (id, routing_key, message_type, centre_id, payload, traceparent, tracestate, for_partner)
             SELECT e.id, e.routing_key, e.message_type, e.centre_id, e.payload, {}, {}, e.for_partner
             FROM UNNEST({}::uuid[], {}::text[], {}::text[], {}::uuid[], {}::bytea[], {}::boolean[])
                  WITH ORDINALITY AS e(id, routing_key, message_type, centre_id, payload, for_partner, n)
             WHERE {condition}
             ORDER BY e.n",
            p(5),
            p(6),
            p(0),
            p(1),
            p(2),
            p(3),
            p(4),
            p(7)
        )
    }

    /// Binds the events as the next eight parameters of `query`.
    pub fn bind<'q>(
        self,
        query: sqlx::query::Query<'q, sqlx::Postgres, sqlx::postgres::PgArguments>,
    ) -> sqlx::query::Query<'q, sqlx::Postgres, sqlx::postgres::PgArguments> {
        for key in &self.routing_keys {
            raise(key);
        }
        let mut trace = telemetry::current_trace_headers();
        query
            .bind(self.ids)
            .bind(self.routing_keys)
            .bind(self.types)
            .bind(self.centres)
            .bind(self.payloads)
            .bind(trace.remove("traceparent"))
            .bind(trace.remove("tracestate"))
            .bind(self.for_partners)
    }
}

/// A relay's wake-up: raised each time its service enqueues, before the commit.
#[derive(Default)]
struct Wake {
    raised: AtomicU64,
    notify: Notify,
}

/// The wake-ups of this process, by publishing service.
static WAKES: LazyLock<std::sync::Mutex<HashMap<String, Arc<Wake>>>> =
    LazyLock::new(Default::default);

fn wake_of(service: &str) -> Arc<Wake> {
    let mut wakes = WAKES
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    match wakes.get(service) {
        Some(wake) => wake.clone(),
        None => wakes.entry(service.to_owned()).or_default().clone(),
    }
}

/// Wakes the relay of the service that publishes `routing_key` (`<service>.<aggregate>.<verb>`).
fn raise(routing_key: &str) {
    let service = routing_key.split('.').next().unwrap_or(routing_key);
    let wake = wake_of(service);
    wake.raised.fetch_add(1, Ordering::AcqRel);
    wake.notify.notify_waiters();
}

#[derive(sqlx::FromRow)]
struct OutboxRow {
    seq: i64,
    id: Uuid,
    routing_key: String,
    message_type: String,
    centre_id: Option<Uuid>,
    payload: Vec<u8>,
    traceparent: Option<String>,
    tracestate: Option<String>,
    occurred_at: DateTime<Utc>,
    for_partner: bool,
}

/// Publishes a service's committed events.
pub struct Relay {
    pool: PgPool,
    bus: Bus,
    service: String,
    channel: Mutex<Option<Channel>>,
    /// Where the passes between full ones start: the last row published, less the slack.
    recent_from: AtomicI64,
    /// Routing keys already logged as having no subscriber.
    unroutable: Mutex<std::collections::HashSet<String>>,
    /// The connection this relay publishes through, once made.
    lead: Mutex<Option<Lead>>,
}

/// A relay's own connection, outside its pool: it holds the service's relay lock while
/// leading, so one relay of a service (of all its replicas) publishes at a time, in order;
/// the lock goes with the connection, when the process dies or the connection breaks.
struct Lead {
    conn: PgConnection,
    leading: bool,
    /// Confirmed by the broker, to be marked by the next pass's statement.
    confirmed: Vec<Uuid>,
}

impl Relay {
    pub fn new(pool: PgPool, bus: Bus, service: &str) -> Self {
        Relay {
            pool,
            bus,
            service: service.to_owned(),
            channel: Mutex::new(None),
            recent_from: AtomicI64::new(0),
            unroutable: Mutex::default(),
            lead: Mutex::default(),
        }
    }

    /// Publishes one batch of unpublished events, oldest first, and returns how many the
    /// broker confirmed (none while another relay of the service leads). A nack or a lost
    /// connection leaves the row unpublished, with its attempt counted, and is returned as
    /// an error. What the broker confirmed is marked sent by the next pass's own statement
    /// ([`Relay::drain`] always ends with one).
    pub async fn relay_once(&self) -> anyhow::Result<usize> {
        self.pass(0).await
    }

    /// [`Relay::relay_once`] over the rows after `seq` only.
    async fn pass(&self, after: i64) -> anyhow::Result<usize> {
        let began = Instant::now();
        let mut guard = self.lead.lock().await;
        let taken = {
            let lead = match guard.as_mut() {
                Some(lead) => lead,
                None => guard.insert(Lead {
                    conn: self.pool.acquire().await?.detach(),
                    leading: false,
                    confirmed: Vec::new(),
                }),
            };
            self.take(lead, after).await
        };
        let rows = match taken {
            Ok(Some(rows)) => rows,
            // Another relay of the service leads; this one stands by.
            Ok(None) => return Ok(0),
            Err(error) => {
                // Dropping the connection closes it, and with it the lock: whoever leads
                // next publishes again what was not marked, which the inboxes absorb.
                *guard = None;
                return Err(error.into());
            }
        };
        if rows.is_empty() {
            return Ok(0);
        }
        if let Some(last) = rows.last() {
            self.recent_from
                .fetch_max(last.seq - RECENT_SLACK, Ordering::Relaxed);
        }

        // A half-open connection could leave a confirm pending for ever; give up on the
        // batch instead, and let the next pass publish it again.
        let publishing = Instant::now();
        let published = tokio::time::timeout(CONFIRM_TIMEOUT, self.publish(&rows)).await;
        RELAY_PASS
            .with_label_values(&[&self.service, "confirms"])
            .observe(publishing.elapsed().as_secs_f64());
        let (confirmed, failed, error) = match published {
            Ok(Ok(outcome)) => outcome,
            Ok(Err(error)) => {
                *self.channel.lock().await = None;
                let ids = rows.iter().map(|row| row.id).collect();
                (Vec::new(), ids, Some(error_chain(&error)))
            }
            Err(_) => {
                *self.channel.lock().await = None;
                let ids = rows.iter().map(|row| row.id).collect();
                (
                    Vec::new(),
                    ids,
                    Some("no confirm from the broker in time".to_owned()),
                )
            }
        };
        let confirmed_count = confirmed.len();
        let lead = guard.as_mut().expect("the lead that took the rows");
        lead.confirmed = confirmed;
        if !failed.is_empty() {
            let counted = sqlx::query(
                "UPDATE outbox SET attempts = attempts + 1, last_error = $2 WHERE id = ANY($1)",
            )
            .bind(&failed)
            .bind(error.as_deref().unwrap_or("not confirmed"))
            .execute(&mut lead.conn)
            .await;
            if let Err(error) = counted {
                *guard = None;
                return Err(error.into());
            }
        }
        RELAY_PASS
            .with_label_values(&[&self.service, "pass"])
            .observe(began.elapsed().as_secs_f64());
        EVENTS_PUBLISHED
            .with_label_values(&[&self.service, "confirmed"])
            .inc_by(confirmed_count as u64);
        if failed.is_empty() {
            Ok(confirmed_count)
        } else {
            EVENTS_PUBLISHED
                .with_label_values(&[&self.service, "failed"])
                .inc_by(failed.len() as u64);
            anyhow::bail!(
                "{} of {} events not confirmed: {}",
                failed.len(),
                rows.len(),
                error.unwrap_or_else(|| "nacked by the broker".into())
            )
        }
    }

    /// Takes the lead if no relay of the service holds it (None while one does), then, in
    /// one statement, marks sent what the last pass published and reads the next batch.
    /// The mark need not wait for its WAL flush: lost in a crash, it only means these
    /// events are published again, which the consumers' inboxes absorb; the statement
    /// makes that setting itself, for its own transaction.
    async fn take(
        &self,
        lead: &mut Lead,
        after: i64,
    ) -> Result<Option<Vec<OutboxRow>>, sqlx::Error> {
        if !lead.leading {
            lead.leading = sqlx::query_scalar("SELECT pg_try_advisory_lock(hashtext($1))")
                .bind(format!("linli relay {}", self.service))
                .fetch_one(&mut lead.conn)
                .await?;
            if !lead.leading {
                return Ok(None);
            }
        }
        let rows = sqlx::query_as(
            "WITH marked AS (
                 UPDATE outbox SET published_at = now()
                 FROM (SELECT set_config('synchronous_commit', 'off', true)) AS relaxed
                 WHERE id = ANY($3))
             SELECT seq, id, routing_key, message_type, centre_id, payload, traceparent, tracestate, occurred_at, for_partner
             FROM outbox WHERE published_at IS NULL AND seq > $2 AND id <> ALL($3)
             ORDER BY seq LIMIT $1",
        )
        .bind(BATCH)
        .bind(after)
        .bind(&lead.confirmed)
        .fetch_all(&mut lead.conn)
        .await?;
        lead.confirmed.clear();
        Ok(Some(rows))
    }

    /// Publishes every row, then awaits every confirm; returns confirmed ids, failed ids and
    /// the first failure.
    async fn publish(
        &self,
        rows: &[OutboxRow],
    ) -> lapin::Result<(Vec<Uuid>, Vec<Uuid>, Option<String>)> {
        let channel = self.confirmed_channel().await?;
        let exchange = self.bus.args().exchange();
        // Every publish hands its frames to the connection's I/O thread at its first poll,
        // in order (which fixes its confirm's number), and then awaits the write. Polled
        // together, a batch costs one hand-over instead of one per event, which on busy
        // cores was most of the relay's time.
        let mut publishes: Vec<_> = rows
            .iter()
            .map(|row| futures::future::maybe_done(Box::pin(publish_one(&channel, &exchange, row))))
            .collect();
        std::future::poll_fn(|cx| {
            let mut all = true;
            for publish in publishes.iter_mut() {
                all &= std::pin::Pin::new(publish).poll(cx).is_ready();
            }
            if all {
                std::task::Poll::Ready(())
            } else {
                std::task::Poll::Pending
            }
        })
        .await;
        let mut pending = Vec::with_capacity(rows.len());
        for (row, mut publish) in rows.iter().zip(publishes) {
            let confirm = std::pin::Pin::new(&mut publish)
                .take_output()
                .expect("every publish finished above")?;
            pending.push((row.id, &row.routing_key, row.centre_id, confirm));
        }

        let (mut confirmed, mut failed, mut first_error) = (Vec::new(), Vec::new(), None);
        for (id, routing_key, centre, confirm) in pending {
            match confirm.await {
                Ok(Confirmation::Ack(returned)) => {
                    if let Some(centre) = centre {
                        CENTRE_EVENTS
                            .with_label_values(&[routing_key.as_str(), &centre.to_string()])
                            .inc();
                    }
                    if returned.is_some() {
                        // Published and confirmed, but no queue is bound for it: nobody
                        // subscribes to this fact yet. Counted, and logged once per
                        // routing key, never silent (nor a line for every booking).
                        EVENTS_PUBLISHED
                            .with_label_values(&[&self.service, "unroutable"])
                            .inc();
                        if self.unroutable.lock().await.insert(routing_key.to_owned()) {
                            tracing::warn!(%routing_key, event_id = %id, "event had no subscriber; counted in linli_events_published_total{{outcome=\"unroutable\"}} from now on");
                        }
                    }
                    confirmed.push(id);
                }
                Ok(Confirmation::Nack(_)) => {
                    failed.push(id);
                    first_error.get_or_insert_with(|| "nacked by the broker".to_owned());
                }
                Ok(Confirmation::NotRequested) => {
                    failed.push(id);
                    first_error
                        .get_or_insert_with(|| "publisher confirms were not enabled".to_owned());
                }
                Err(error) => {
                    failed.push(id);
                    first_error.get_or_insert_with(|| error.to_string());
                }
            }
        }
        if !failed.is_empty() {
            *self.channel.lock().await = None;
        }
        Ok((confirmed, failed, first_error))
    }

    async fn confirmed_channel(&self) -> lapin::Result<Channel> {
        let mut guard = self.channel.lock().await;
        if let Some(channel) = guard.as_ref()
            && channel.status().connected()
        {
            return Ok(channel.clone());
        }
        let channel = self.bus.channel().await?;
        self.bus.declare_exchanges(&channel).await?;
        channel
            .confirm_select(ConfirmSelectOptions::default())
            .await?;
        *guard = Some(channel.clone());
        Ok(channel)
    }

    /// Publishes until nothing is left or a pass fails.
    pub async fn drain(&self) -> anyhow::Result<usize> {
        self.drain_after(0).await
    }

    async fn drain_after(&self, after: i64) -> anyhow::Result<usize> {
        let mut total = 0;
        loop {
            match self.pass(after).await? {
                0 => return Ok(total),
                n => total += n,
            }
        }
    }

    /// Publishes what was recorded lately: the rows after the last published, less a
    /// slack for transactions that commit out of order; and every [`FALLBACK_POLL`] all
    /// of them.
    /// Marked rows stay in the unpublished index as dead entries until a vacuum, so a
    /// pass from the first row would walk all the day's events; under load that was most
    /// of the relay's time.
    async fn drain_recent(&self, everything: bool) -> anyhow::Result<usize> {
        let after = if everything {
            0
        } else {
            self.recent_from.load(Ordering::Relaxed)
        };
        self.drain_after(after).await
    }

    /// Events committed and not yet confirmed.
    pub async fn backlog(&self) -> Result<i64, sqlx::Error> {
        sqlx::query_scalar("SELECT count(*) FROM outbox WHERE published_at IS NULL")
            .fetch_one(&self.pool)
            .await
    }

    /// The backlog, and when its oldest event was recorded (Unix seconds; none when the
    /// backlog is empty).
    async fn backlog_and_oldest(&self) -> Result<(i64, Option<f64>), sqlx::Error> {
        sqlx::query_as(
            "SELECT count(*), extract(epoch FROM min(occurred_at))::float8
             FROM outbox WHERE published_at IS NULL",
        )
        .fetch_one(&self.pool)
        .await
    }

    /// Runs until `shutdown`: drains whenever its service enqueues (looking again at
    /// growing intervals until the transactions announced have had time to commit), every
    /// [`IDLE_POLL`] regardless, backs off while the broker or database is away, and
    /// flushes once more on the way out. The bus's connection is left to its owner to close
    /// once every user of it has stopped.
    pub async fn run(self, shutdown: CancellationToken) {
        let wake = wake_of(&self.service);
        let mut seen = wake.raised.load(Ordering::Acquire);
        let mut failures: u32 = 0;
        // While looking after a wake-up: when it came, and the next pause.
        let mut looking: Option<(Instant, Duration)> = Some((Instant::now(), Duration::ZERO));
        let mut backlog_read = Instant::now() - Duration::from_secs(60);
        let mut full_pass = Instant::now() - FALLBACK_POLL;
        loop {
            // Registered before the pass, so a raise during it is not missed.
            let notified = wake.notify.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            let everything = full_pass.elapsed() >= FALLBACK_POLL;
            if everything {
                full_pass = Instant::now();
            }
            let published = match self.drain_recent(everything).await {
                Ok(published) => {
                    failures = 0;
                    published
                }
                Err(error) => {
                    failures += 1;
                    tracing::warn!(service = %self.service, error = %format!("{error:#}"), "outbox relay pass failed; will retry");
                    0
                }
            };
            if backlog_read.elapsed() >= Duration::from_secs(1) {
                backlog_read = Instant::now();
                if let Ok((backlog, oldest)) = self.backlog_and_oldest().await {
                    OUTBOX_BACKLOG
                        .with_label_values(&[&self.service])
                        .set(backlog);
                    crate::metrics::outbox_looked(&self.service, oldest);
                }
            }

            let raised = wake.raised.load(Ordering::Acquire);
            let wait = if failures > 0 {
                backoff(
                    Duration::from_millis(100),
                    failures,
                    Duration::from_secs(10),
                )
            } else {
                if raised != seen || published > 0 {
                    // More was announced, or the pass found some: look again soon, after
                    // a pause that lets a busy stream gather into batches.
                    seen = raised;
                    looking = Some((Instant::now(), FIRST_LOOK));
                }
                match looking {
                    Some((since, pause)) if since.elapsed() < LOOK_AFTER_WAKE => {
                        looking = Some((since, (pause * 2).max(FIRST_LOOK)));
                        pause
                    }
                    _ => {
                        looking = None;
                        IDLE_POLL
                    }
                }
            };
            tokio::select! {
                _ = shutdown.cancelled() => break,
                _ = tokio::time::sleep(wait) => {}
                _ = &mut notified, if failures == 0 => {
                    looking = Some((Instant::now(), Duration::ZERO));
                }
            }
        }
        match tokio::time::timeout(Duration::from_secs(5), self.drain()).await {
            Ok(Ok(n)) if n > 0 => {
                tracing::info!(service = %self.service, flushed = n, "outbox flushed at shutdown")
            }
            Ok(Err(error)) => {
                tracing::warn!(service = %self.service, error = %format!("{error:#}"), "outbox not fully flushed at shutdown; the next start publishes the rest")
            }
            Err(_) => {
                tracing::warn!(service = %self.service, "outbox flush timed out at shutdown; the next start publishes the rest")
            }
            _ => {}
        }
        // Its own channel only: the connection is the service's, whose consumers may still
        // be closing theirs on it (closed under them, lapin took the close's answer for a
        // frame of an unknown channel and logged a connection ERROR at every stop).
        if let Some(channel) = self.channel.lock().await.take() {
            let _ = channel.close(200, "relay stopped".into()).await;
        }
    }
}

/// Publishes one row, under a span of its own that continues the trace it was recorded in.
async fn publish_one(
    channel: &Channel,
    exchange: &str,
    row: &OutboxRow,
) -> lapin::Result<lapin::PublisherConfirm> {
    let span = tracing::info_span!(
        "publish",
        otel.name = format!("{} publish", row.routing_key),
        otel.kind = "producer",
        messaging.system = "rabbitmq",
        messaging.message.id = %row.id,
        trace_id = tracing::field::Empty,
    );
    let mut stored = HashMap::new();
    if let Some(traceparent) = &row.traceparent {
        stored.insert("traceparent".to_owned(), traceparent.clone());
    }
    if let Some(tracestate) = &row.tracestate {
        stored.insert("tracestate".to_owned(), tracestate.clone());
    }
    telemetry::adopt_parent(&span, &stored);
    let properties = properties(row, &span);
    channel
        .basic_publish(
            exchange.into(),
            row.routing_key.clone().into(),
            BasicPublishOptions {
                mandatory: true,
                ..Default::default()
            },
            &row.payload,
            properties,
        )
        .instrument(span)
        .await
}

fn properties(row: &OutboxRow, span: &tracing::Span) -> BasicProperties {
    let mut headers = FieldTable::default();
    let mut trace = HashMap::new();
    telemetry::inject(
        &tracing_opentelemetry::OpenTelemetrySpanExt::context(span),
        &mut trace,
    );
    for (key, value) in trace {
        headers.insert(key.into(), AMQPValue::LongString(LongString::from(value)));
    }
    if let Some(centre) = row.centre_id {
        headers.insert(
            "centre_id".into(),
            AMQPValue::LongString(LongString::from(centre.to_string())),
        );
    }
    if row.for_partner {
        // Routed also under the partner key, which the broker drops before delivery: the
        // consumers see the event's own routing key.
        headers.insert(
            "BCC".into(),
            AMQPValue::FieldArray(vec![string(&partner_key(&row.routing_key))].into()),
        );
    }
    headers.insert(
        "occurred_at".into(),
        AMQPValue::LongString(LongString::from(
            row.occurred_at
                .to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
        )),
    );
    BasicProperties::default()
        .with_message_id(row.id.to_string().into())
        .with_type(row.message_type.clone().into())
        .with_timestamp(row.occurred_at.timestamp().max(0) as u64)
        .with_content_type("application/x-protobuf".into())
        .with_delivery_mode(2)
        .with_headers(headers)
}
