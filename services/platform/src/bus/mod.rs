//! The event bus: one durable topic exchange, a transactional outbox on the publishing
//! side ([`outbox`]) and an idempotent inbox on the consuming side ([`inbox`]).
//!
//! Names come from [`BusArgs`]: `<prefix>.events` (topic exchange), `<prefix>.dead`
//! (dead-letter exchange), `<prefix>.<consumer>` (a consumer's quorum queue) and
//! `<prefix>.<consumer>.dead` (its dead-letter queue), so a test run with its own prefix
//! never meets another's messages.
//!
//! The bus works on a runtime of its own ([`runtime`]): one thread that the relays and
//! consumers of every service in the process share, with their own database connections
//! made there (the broker connection has an I/O thread of its own in lapin). Under load a consumer's every round trip
//! would otherwise wait in the run queue behind the requests in flight, and events would
//! fall seconds behind; on a thread of its own it waits only for the operating system.

pub mod field;
pub mod inbox;
pub mod outbox;

use std::sync::{Arc, LazyLock};
use std::time::Duration;

use lapin::options::{ExchangeDeclareOptions, QueueBindOptions, QueueDeclareOptions};
use lapin::types::{AMQPValue, FieldTable, LongString, ShortString};
use lapin::{Channel, Connection, ConnectionProperties, ExchangeKind};
use tokio::sync::Mutex;

pub use inbox::{Consumer, Handler, HandlerError, Incoming, Outcome};
pub use outbox::{Relay, enqueue, enqueue_all};

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

    /// First delay, in milliseconds, before a webhook delivery that failed is sent again;
    /// doubles per attempt up to `webhook_retry_cap_ms`.
    #[arg(long, env = "LINLI_WEBHOOK_RETRY_BASE_MS", default_value_t = 5_000)]
    pub webhook_retry_base_ms: u64,

    /// The longest delay, in milliseconds, between two attempts of a webhook delivery.
    #[arg(long, env = "LINLI_WEBHOOK_RETRY_CAP_MS", default_value_t = 3_600_000)]
    pub webhook_retry_cap_ms: u64,
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

const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// Threads of the bus runtime. With one, a relay waited behind its process's consumers
/// (and they behind it) whenever both had work: in the load tool's mix at 16 clients a
/// relay pass took 38–64 ms and the event lag was p50 192–452 ms, p99 929–1,024 ms; with
/// two, 12–16 ms a pass and p50 76–106 ms, p99 505–648 ms (three runs each, alternated).
/// Three and four measured no better than two (`docs/performance.md`).
const BUS_THREADS: usize = 2;

static RUNTIME: LazyLock<tokio::runtime::Runtime> = LazyLock::new(|| {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(BUS_THREADS)
        .thread_name("linli-bus")
        .enable_all()
        .build()
        .expect("the bus runtime starts: it needs only threads")
});

/// The process's bus runtime: relays and consumers run here, and their pool's connections
/// are made here, so their database round trips never wait for another runtime's threads.
pub fn runtime() -> &'static tokio::runtime::Handle {
    RUNTIME.handle()
}

/// Every consumer's queue and the routing-key patterns bound to it: what must exist on
/// the broker before any event is published, or the exchange would drop (return) events
/// that a consumer is waiting for.
pub type Subscriptions = &'static [(&'static str, &'static [&'static str])];

/// One AMQP connection for one service in this process, made on first use and made again
/// after the broker goes away. Channels are cheap; the connection is not.
#[derive(Clone)]
pub struct Bus {
    args: Arc<BusArgs>,
    name: String,
    connection: Arc<Mutex<Option<Connection>>>,
    topology: Subscriptions,
}

impl Bus {
    /// `name` labels the connection in the broker's management UI.
    pub fn new(args: BusArgs, name: &str) -> Self {
        Bus {
            args: Arc::new(args),
            name: name.to_owned(),
            connection: Arc::new(Mutex::new(None)),
            topology: &[],
        }
    }

    /// A bus that declares the exchanges and every queue of `topology` on each new
    /// connection before it hands out a channel, so a process that started while the
    /// broker was away (or a broker that lost its definitions) never has an event
    /// published before the queues that want it exist.
    pub fn with_topology(mut self, topology: Subscriptions) -> Self {
        self.topology = topology;
        self
    }

    /// Whether this bus's topology declares the queue `consumer` with exactly `bindings`
    /// (in any order). A bus without a topology (a unit test's) knows of no queue and
    /// answers yes. A consumer missing from the topology would have its queue declared
    /// only when it first connects, so events published before that are lost.
    pub fn declares(&self, consumer: &str, bindings: &[&str]) -> bool {
        if self.topology.is_empty() {
            return true;
        }
        let mut wanted: Vec<&str> = bindings.to_vec();
        wanted.sort_unstable();
        self.topology.iter().any(|(name, declared)| {
            let mut declared: Vec<&str> = declared.to_vec();
            declared.sort_unstable();
            *name == consumer && declared == wanted
        })
    }

    /// Declares the exchanges and every queue of this bus's topology on `channel`.
    pub async fn declare_topology(&self, channel: &Channel) -> lapin::Result<()> {
        self.declare_exchanges(channel).await?;
        for (consumer, bindings) in self.topology {
            self.declare_queue(channel, consumer, bindings).await?;
        }
        Ok(())
    }

    pub fn args(&self) -> &BusArgs {
        &self.args
    }

    /// A fresh channel on a live connection, connecting first if needed.
    pub async fn channel(&self) -> lapin::Result<Channel> {
        let mut guard = self.connection.lock().await;
        if let Some(connection) = guard.as_ref()
            && connection.status().connected()
        {
            // A connection whose socket died unnoticed would never answer: give up on it.
            match tokio::time::timeout(CONNECT_TIMEOUT, connection.create_channel()).await {
                Ok(Ok(channel)) => return Ok(channel),
                Ok(Err(error)) => tracing::warn!(%error, "AMQP channel failed; reconnecting"),
                Err(_) => tracing::warn!("AMQP channel did not open in time; reconnecting"),
            }
        }
        let properties = ConnectionProperties::default().with_connection_name(LongString::from(
            format!("{}/{}", self.args.prefix, self.name),
        ));
        // A broker behind a dead network would otherwise hold every caller here.
        let connection = tokio::time::timeout(
            CONNECT_TIMEOUT,
            Connection::connect(&self.args.amqp_url, properties),
        )
        .await
        .map_err(|_| {
            lapin::Error::from(std::io::Error::new(
                std::io::ErrorKind::TimedOut,
                "connecting to the broker timed out",
            ))
        })??;
        let channel = tokio::time::timeout(CONNECT_TIMEOUT, connection.create_channel())
            .await
            .map_err(|_| {
                lapin::Error::from(std::io::Error::new(
                    std::io::ErrorKind::TimedOut,
                    "opening a channel timed out",
                ))
            })??;
        if !self.topology.is_empty() {
            // Not kept unless declared: the next caller connects and declares again.
            let declared = tokio::time::timeout(CONNECT_TIMEOUT, self.declare_topology(&channel))
                .await
                .map_err(|_| {
                    lapin::Error::from(std::io::Error::new(
                        std::io::ErrorKind::TimedOut,
                        "declaring the topology timed out",
                    ))
                })
                .and_then(|declared| declared);
            if let Err(error) = declared {
                let _ = connection.close(200, "topology not declared".into()).await;
                return Err(error);
            }
        }
        *guard = Some(connection);
        Ok(channel)
    }

    /// Whether the broker is reachable: the live connection, or a new one.
    pub async fn is_reachable(&self) -> bool {
        match tokio::time::timeout(Duration::from_secs(3), self.channel()).await {
            Ok(Ok(channel)) => {
                let _ = channel.close(200, "probe".into()).await;
                true
            }
            _ => false,
        }
    }

    /// Declares the durable topic exchange and the dead-letter exchange.
    pub async fn declare_exchanges(&self, channel: &Channel) -> lapin::Result<()> {
        let durable = ExchangeDeclareOptions {
            durable: true,
            ..Default::default()
        };
        channel
            .exchange_declare(
                self.args.exchange().into(),
                ExchangeKind::Topic,
                durable,
                FieldTable::default(),
            )
            .await?;
        channel
            .exchange_declare(
                self.args.dead_letter_exchange().into(),
                ExchangeKind::Direct,
                durable,
                FieldTable::default(),
            )
            .await
    }

    /// Declares `consumer`'s quorum queue bound to `bindings` (routing-key patterns) and
    /// to the platform's own routing keys (see [`crate::revocation`], applied by every
    /// consumer without its service's handler), with its delivery limit and its
    /// dead-letter queue. The directory's keys are bound only where `bindings` list them
    /// ([`crate::directory_bindings!`]). Dead-lettering is at-least-once, so a poison message
    /// reaches the dead-letter queue even if the broker fails meanwhile.
    pub async fn declare_queue(
        &self,
        channel: &Channel,
        consumer: &str,
        bindings: &[&str],
    ) -> lapin::Result<()> {
        self.declare_exchanges(channel).await?;
        let durable = QueueDeclareOptions {
            durable: true,
            ..Default::default()
        };
        let queue = self.args.queue(consumer);
        let dead = self.args.dead_letter_queue(consumer);

        let mut dead_args = FieldTable::default();
        dead_args.insert("x-queue-type".into(), string("quorum"));
        channel
            .queue_declare(dead.clone().into(), durable, dead_args)
            .await?;
        channel
            .queue_bind(
                dead.clone().into(),
                self.args.dead_letter_exchange().into(),
                dead.clone().into(),
                QueueBindOptions::default(),
                FieldTable::default(),
            )
            .await?;

        let mut args = FieldTable::default();
        args.insert("x-queue-type".into(), string("quorum"));
        args.insert(
            "x-delivery-limit".into(),
            AMQPValue::LongInt(self.args.delivery_limit as i32),
        );
        args.insert(
            "x-dead-letter-exchange".into(),
            string(&self.args.dead_letter_exchange()),
        );
        args.insert("x-dead-letter-routing-key".into(), string(&dead));
        args.insert("x-dead-letter-strategy".into(), string("at-least-once"));
        args.insert("x-overflow".into(), string("reject-publish"));
        channel
            .queue_declare(queue.clone().into(), durable, args)
            .await?;
        for binding in bindings.iter().chain(crate::revocation::BINDINGS) {
            channel
                .queue_bind(
                    queue.clone().into(),
                    self.args.exchange().into(),
                    ShortString::from(*binding),
                    QueueBindOptions::default(),
                    FieldTable::default(),
                )
                .await?;
        }
        // Earlier builds bound every queue to the directory's keys; a binding stays until
        // removed, and those would still take every resident of the district for a queue
        // that applies none. Unbinding what is not bound is no error.
        //
        // A queue that now takes only partners' events of a key keeps the key itself if an
        // earlier build bound it: during a rollout, a process of that build publishes
        // partners' bookings without the partner key, and they must still arrive (the
        // handler passes over the others, and a message two bindings route to one queue is
        // delivered once). It is removed by hand once every publisher runs this build
        // (docs/architecture.md, "Partners' events").
        for stale in crate::directory::BINDINGS {
            if !bindings.contains(stale) {
                channel
                    .queue_unbind(
                        queue.clone().into(),
                        self.args.exchange().into(),
                        ShortString::from(*stale),
                        FieldTable::default(),
                    )
                    .await?;
            }
        }
        Ok(())
    }

    /// Closes the connection (shutdown, or a test that wants to see a reconnect).
    pub async fn close(&self) {
        if let Some(connection) = self.connection.lock().await.take() {
            let _ = connection.close(200, "closing".into()).await;
        }
    }
}

fn string(value: &str) -> AMQPValue {
    AMQPValue::LongString(LongString::from(value))
}

/// What an event that concerns a partner's offering ([`linli_proto::Event::for_partner`])
/// is also routed under: `partner.<routing key>`. The relay adds it as the message's `BCC`,
/// which the broker routes by and drops, so a consumer bound to it receives the event
/// under its own routing key. A queue that binds `partner.<key>` takes only partners'
/// events of that key (once it is no longer bound to `<key>` itself by an earlier build,
/// see [`Bus::declare_queue`]).
pub fn partner_key(routing_key: &str) -> String {
    format!("partner.{routing_key}")
}

/// Exponential backoff from `base`, capped at `cap`, with up to 25% jitter so many
/// reconnecting processes do not knock in step.
pub fn backoff(base: Duration, attempt: u32, cap: Duration) -> Duration {
    let exponential = base.saturating_mul(2u32.saturating_pow(attempt.min(16)));
    let capped = exponential.min(cap);
    let jitter = capped.mul_f64(rand::random::<f64>() * 0.25);
    capped + jitter
}

#[cfg(test)]
mod tests {
    use super::*;

    const TOPOLOGY: Subscriptions = &[
        ("bookings", &["registry.resident.#", "registry.centre.#"]),
        ("finance", &["bookings.booking.confirmed"]),
    ];

    fn bus(topology: Subscriptions) -> Bus {
        let args = BusArgs {
            amqp_url: "amqp://127.0.0.1:1/%2f".into(),
            prefix: "linli-unit".into(),
            delivery_limit: 3,
            retry_base_ms: 10,
            webhook_retry_base_ms: 20,
            webhook_retry_cap_ms: 400,
        };
        Bus::new(args, "unit").with_topology(topology)
    }

    #[test]
    fn a_consumer_is_declared_only_with_its_own_name_and_all_its_bindings() {
        let bus = bus(TOPOLOGY);
        assert!(bus.declares("bookings", &["registry.centre.#", "registry.resident.#"]));
        assert!(bus.declares("finance", &["bookings.booking.confirmed"]));
        assert!(!bus.declares("evaluation", &["bookings.booking.confirmed"]));
        assert!(!bus.declares("bookings", &["registry.resident.#"]));
        assert!(!bus.declares(
            "finance",
            &["bookings.booking.confirmed", "bookings.booking.cancelled"]
        ));
    }

    #[test]
    fn a_bus_without_a_topology_knows_of_no_queue_to_hold_against_a_consumer() {
        assert!(bus(&[]).declares("anything", &["#"]));
    }
}
