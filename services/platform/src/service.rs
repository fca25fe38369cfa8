//! What a service role is given by the binary ([`ServiceContext`]) and what every service
//! does at start ([`ServiceContext::start`]): connect and migrate its own database, start
//! its outbox relay, and report its readiness. The relay and the consumers run on the
//! bus runtime (see [`crate::bus::runtime`]) with a small pool of their own.

use std::convert::Infallible;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use sqlx::PgPool;
use sqlx::migrate::Migrator;
use tokio::net::TcpListener;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;
use tonic::server::NamedService;
use tonic::service::Routes;
use tonic::service::interceptor::InterceptedService;

use crate::auth::{Authenticate, TokenKeys};
use crate::bus::BusArgs;
use crate::bus::{Bus, Consumer, Handler, Relay};
use crate::crypto::Vault;
use crate::db::DatabaseArgs;
use crate::idempotency::Idempotent;
use crate::revocation::Revocations;
use crate::text::Checked;

/// Shared settings and handles for every role in a process.
#[derive(Clone)]
pub struct ServiceContext {
    pub database: DatabaseArgs,
    pub bus: BusArgs,
    pub keys: TokenKeys,
    pub vault: Vault,
    pub readiness: Readiness,
    /// Where each service offers its gRPC to the partner listener.
    pub partner: crate::partner::PartnerRoutes,
    /// Where each service offers its gRPC to a gateway in the same process.
    pub in_process: crate::grpc::InProcess,
    /// Cancelled when the process is asked to stop.
    pub shutdown: CancellationToken,
    /// Every consumer's queue, declared on each new broker connection before a relay
    /// publishes on it.
    pub topology: crate::bus::Subscriptions,
}

/// Connections of a service's bus pool: its relay's and its consumer's. Counted in the
/// connection budget the Kubernetes manifests are checked against (tests/tests/k8s.rs).
pub const BUS_CONNECTIONS: u32 = 2;

/// Connections a service holds beside its request pool: the bus pool, and the relay's own
/// connection holding the relay lock (see `bus::outbox`).
pub const CONNECTIONS_BESIDE_THE_POOL: u32 = BUS_CONNECTIONS + 1;

/// A started service: its pool and bus, and its background tasks.
pub struct Started {
    pub pool: PgPool,
    pub bus: Bus,
    /// The relay's and the consumers' pool, on the bus runtime.
    bus_pool: PgPool,
    probe: Probe,
    relay_stop: CancellationToken,
    tasks: JoinSet<()>,
    shutdown: CancellationToken,
    in_process: crate::grpc::InProcess,
    revocations: Revocations,
}

impl ServiceContext {
    /// Connects and migrates `service`'s database, starts its outbox relay and registers
    /// its readiness probe. A database that does not answer yet is waited for, with
    /// backoff, until it does or the process is asked to stop: a role restarted during
    /// an outage serves once the database is back, without another restart. Meanwhile
    /// `/readyz` names it as waiting for its database.
    pub async fn start(&self, service: &str, migrations: &Migrator) -> anyhow::Result<Started> {
        self.readiness.starting(service);
        let pool = self.connect_when_reachable(service, migrations).await?;
        // Sessions that ended before this start are refused from the first call on.
        let revocations = self.keys.revocations().clone();
        if let Err(error) = revocations.load(&pool).await {
            tracing::warn!(service, %error, "ended sessions not loaded yet; retrying shortly");
        }
        let bus = Bus::new(self.bus.clone(), service).with_topology(self.topology);
        let bus_pool = {
            // Its housekeeping, and every connection it makes, belong to the bus runtime.
            let _bus_runtime = crate::bus::runtime().enter();
            crate::db::pool_options(BUS_CONNECTIONS).connect_lazy_with(
                pool.connect_options()
                    .as_ref()
                    .clone()
                    .application_name(&format!("linli-{service}-bus")),
            )
        };
        let probe = Probe {
            name: service.to_owned(),
            pool: pool.clone(),
            bus_pool: bus_pool.clone(),
            bus: bus.clone(),
            database_up: Arc::new(AtomicBool::new(true)),
        };
        self.readiness.register(probe.clone());
        let relay_stop = CancellationToken::new();
        let mut tasks = JoinSet::new();
        tasks.spawn_on(
            Relay::new(bus_pool.clone(), bus.clone(), service).run(relay_stop.clone()),
            crate::bus::runtime(),
        );
        tasks.spawn_on(
            revocations
                .clone()
                .keep_fresh(bus_pool.clone(), relay_stop.clone()),
            crate::bus::runtime(),
        );
        Ok(Started {
            pool,
            bus,
            bus_pool,
            probe,
            relay_stop,
            tasks,
            shutdown: self.shutdown.clone(),
            in_process: self.in_process.clone(),
            revocations,
        })
    }

    async fn connect_when_reachable(
        &self,
        service: &str,
        migrations: &Migrator,
    ) -> anyhow::Result<PgPool> {
        let mut attempt = 0;
        loop {
            match crate::db::connect(&self.database, service, migrations).await {
                Ok(pool) => return Ok(pool),
                // Only an unreachable server is waited for; a failed migration is a bug.
                Err(error) if is_unreachable(&error) => {
                    let wait = crate::bus::backoff(
                        Duration::from_millis(250),
                        attempt,
                        Duration::from_secs(10),
                    );
                    tracing::warn!(
                        service,
                        error = %format!("{error:#}"),
                        retry_in_ms = wait.as_millis() as u64,
                        "the database does not answer yet; waiting for it"
                    );
                    attempt += 1;
                    tokio::select! {
                        _ = self.shutdown.cancelled() => {
                            anyhow::bail!("stopped before the {service} database answered")
                        }
                        _ = tokio::time::sleep(wait) => {}
                    }
                }
                Err(error) => return Err(error),
            }
        }
    }
}

/// Whether a start-up failure means the database server did not answer (as opposed to
/// a refused statement or a bad migration).
fn is_unreachable(error: &anyhow::Error) -> bool {
    error.chain().any(|cause| {
        cause
            .downcast_ref::<sqlx::Error>()
            .is_some_and(crate::error::is_unreachable_db_error)
            || cause.downcast_ref::<std::io::Error>().is_some()
    })
}

impl Started {
    /// Serves the service's gRPC API as every service does: `api`, its request strings
    /// checked ([`Checked`]), answers a create sent again with its Idempotency-Key as the
    /// first time, never applying it twice ([`Idempotent`]); partners reach the same
    /// service over mutual TLS, where their scopes decide, not roles; every other caller's
    /// bearer token is checked ([`Authenticate`]).
    pub async fn serve_api<S>(
        self,
        listener: TcpListener,
        service_name: &'static str,
        ctx: &ServiceContext,
        api: Checked<S>,
    ) -> anyhow::Result<()>
    where
        Idempotent<Checked<S>>: tower::Service<
                http::Request<tonic::body::Body>,
                Error = Infallible,
                Response = http::Response<tonic::body::Body>,
            > + NamedService
            + Clone
            + Send
            + Sync
            + 'static,
        <Idempotent<Checked<S>> as tower::Service<http::Request<tonic::body::Body>>>::Future:
            Send + 'static,
    {
        let server = Idempotent::new(api, self.pool.clone(), ctx.vault.clone());
        ctx.partner.offer(server.clone());
        let routes = Routes::new(InterceptedService::new(
            server,
            Authenticate(ctx.keys.clone()),
        ));
        self.serve(listener, service_name, routes).await
    }

    /// Runs the consumer `name` of `bindings` with `handler` until shutdown, on the bus
    /// runtime. Its queue is declared here when the broker answers (every role also
    /// declares every subscription's queue before it starts, see
    /// `linli::declare_topology`), and again on every reconnect; a broker that drops
    /// while a role starts never stops the role.
    ///
    /// # Panics
    /// When the process's topology (`linli::SUBSCRIPTIONS`) does not declare `name` with
    /// these `bindings`: a wiring mistake that would lose every event published before
    /// the consumer first connects, stopped at start, in every suite.
    pub async fn consume<H: Handler>(&mut self, name: &str, bindings: &[&str], handler: H) {
        assert!(
            self.bus.declares(name, bindings),
            "the consumer {name} is not in the topology (linli::SUBSCRIPTIONS) with these bindings"
        );
        let consumer = Consumer::new(
            name,
            self.bus_pool.clone(),
            self.bus.clone(),
            bindings,
            handler,
        )
        .revoking_into(self.revocations.clone());
        if let Err(error) = consumer.declare().await {
            tracing::warn!(error = %error, "the broker did not answer; the consumer declares its queue when it connects");
        }
        self.tasks
            .spawn_on(consumer.run(self.shutdown.clone()), crate::bus::runtime());
    }

    /// Runs a service's own background `task` (a sweep, a refresher) beside its relay and
    /// consumers. Like them it is awaited when the service stops, after in-flight calls
    /// and before its pools close: a task that watches the shutdown token finishes its
    /// current statement and returns.
    pub fn spawn(&mut self, task: impl Future<Output = ()> + Send + 'static) {
        self.tasks.spawn(task);
    }

    /// Serves gRPC until shutdown; then, once in-flight calls are done, stops the
    /// consumers and flushes the outbox.
    pub async fn serve(
        mut self,
        listener: TcpListener,
        service_name: &'static str,
        routes: Routes,
    ) -> anyhow::Result<()> {
        self.in_process
            .offer(service_name, routes.clone(), self.probe.database_up());
        let result = crate::grpc::serve(
            listener,
            service_name,
            routes,
            self.probe.clone(),
            self.shutdown.clone(),
        )
        .await;
        self.in_process.withdraw(service_name).await;
        self.relay_stop.cancel();
        while self.tasks.join_next().await.is_some() {}
        // Only now that the relay and every consumer have closed their channels.
        self.bus.close().await;
        self.bus_pool.close().await;
        self.pool.close().await;
        result
    }
}

/// Whether one role's database and broker answer.
#[derive(Clone)]
pub struct Probe {
    name: String,
    /// The requests' pool, whose use each check records (`linli_db_pool_connections`).
    pool: PgPool,
    /// The relay's and consumers' pool: requests never hold its connections, so a burst
    /// that keeps every request connection busy (or waiting on a lock) is not mistaken
    /// for a database that does not answer.
    bus_pool: PgPool,
    bus: Bus,
    /// What the last check found of the database, for calls to be refused at once while
    /// it is unreachable.
    database_up: Arc<AtomicBool>,
}

/// What a probe found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Health {
    pub database: bool,
    pub broker: bool,
}

impl Health {
    /// Whether the role can do its job. Writes go to the outbox, which the relay
    /// delivers once the broker is back, so only the database decides.
    pub fn serving(self) -> bool {
        self.database
    }
}

impl Probe {
    /// Whether the database answered the last check (true until a check says otherwise).
    pub fn database_up(&self) -> Arc<AtomicBool> {
        self.database_up.clone()
    }

    pub async fn check(&self) -> Health {
        let pool = self.bus_pool.clone();
        let database = crate::bus::runtime()
            .spawn(async move {
                tokio::time::timeout(
                    Duration::from_secs(2),
                    sqlx::query("SELECT 1").execute(&pool),
                )
                .await
            })
            .await;
        let database = matches!(database, Ok(Ok(Ok(_))));
        // Made at the first check, so a role that never flaps reports 0 rather than nothing.
        let changes = crate::metrics::READINESS_CHANGES.with_label_values(&[&self.name]);
        if self.database_up.swap(database, Ordering::Relaxed) != database {
            changes.inc();
        }
        self.record_pool();
        let broker = self.bus.is_reachable().await;
        for (dependency, up) in [("database", database), ("broker", broker)] {
            crate::metrics::DEPENDENCY_UP
                .with_label_values(&[&self.name, dependency])
                .set(i64::from(up));
        }
        Health { database, broker }
    }

    /// How much of the requests' pool is in use, for the pool-saturation alert.
    fn record_pool(&self) {
        let size = i64::from(self.pool.size());
        let idle = i64::try_from(self.pool.num_idle()).unwrap_or(i64::MAX);
        let gauge = &crate::metrics::DB_POOL_CONNECTIONS;
        gauge
            .with_label_values(&[&self.name, "in_use"])
            .set((size - idle).max(0));
        gauge.with_label_values(&[&self.name, "idle"]).set(idle);
        crate::metrics::DB_POOL_MAX
            .with_label_values(&[&self.name])
            .set(i64::from(self.pool.options().get_max_connections()));
    }
}

/// Every role's probe in this process, for `/readyz`; a role still waiting for its
/// database at start has a name and no probe yet.
#[derive(Clone, Default)]
pub struct Readiness(Arc<Mutex<Vec<Entry>>>);

/// A role's name, and its probe once it has one.
type Entry = (String, Option<Probe>);

/// One role's line in `/readyz`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Check {
    /// Still connecting to its database at start.
    Starting,
    Checked(Health),
}

impl Check {
    pub fn serving(&self) -> bool {
        matches!(self, Check::Checked(health) if health.serving())
    }
}

impl Readiness {
    fn entries(&self) -> std::sync::MutexGuard<'_, Vec<Entry>> {
        self.0
            .lock()
            .expect("readiness lock is never poisoned: no panics under it")
    }

    /// Names a role that is starting: unready until its probe is registered.
    pub fn starting(&self, name: &str) {
        let mut entries = self.entries();
        if !entries.iter().any(|(n, _)| n == name) {
            entries.push((name.to_owned(), None));
        }
    }

    pub fn register(&self, probe: Probe) {
        let mut entries = self.entries();
        match entries.iter_mut().find(|(n, _)| *n == probe.name) {
            Some(entry) => entry.1 = Some(probe),
            None => entries.push((probe.name.clone(), Some(probe))),
        }
    }

    pub async fn check_all(&self) -> Vec<(String, Check)> {
        let entries = self.entries().clone();
        let mut results = Vec::with_capacity(entries.len());
        for (name, probe) in entries {
            let check = match probe {
                Some(probe) => Check::Checked(probe.check().await),
                None => Check::Starting,
            };
            results.push((name, check));
        }
        results
    }
}
