//! What a service role is given by the binary ([`ServiceContext`]) and what every service
//! does at start ([`ServiceContext::start`]): connect and migrate its own database, start
//! its outbox relay, and report its readiness. The relay and the consumers run on the
//! bus runtime (see [`crate::bus::runtime`]) with a small pool of their own.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use sqlx::PgPool;
use sqlx::migrate::Migrator;
use sqlx::postgres::PgPoolOptions;
use tokio::net::TcpListener;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;
use tonic::service::Routes;

use crate::auth::TokenKeys;
use crate::bus::{Bus, Consumer, Handler, Relay};
use crate::config::{BusArgs, DatabaseArgs};
use crate::crypto::Vault;

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
}

/// Connections of a service's bus pool: its relay's and its consumer's.
const BUS_CONNECTIONS: u32 = 2;

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
}

impl ServiceContext {
    /// Connects and migrates `service`'s database, starts its outbox relay and registers
    /// its readiness probe.
    pub async fn start(&self, service: &str, migrations: &Migrator) -> anyhow::Result<Started> {
        let pool = crate::db::connect(&self.database, service, migrations).await?;
        let bus = Bus::new(self.bus.clone(), service);
        let probe = Probe {
            name: service.to_owned(),
            pool: pool.clone(),
            bus: bus.clone(),
        };
        self.readiness.register(probe.clone());
        let bus_pool = {
            // Its housekeeping, and every connection it makes, belong to the bus runtime.
            let _bus_runtime = crate::bus::runtime().enter();
            PgPoolOptions::new()
                .max_connections(BUS_CONNECTIONS)
                .acquire_timeout(Duration::from_secs(5))
                .connect_lazy_with(
                    pool.connect_options()
                        .as_ref()
                        .clone()
                        .application_name(&format!("linli-{service}-bus")),
                )
        };
        let relay_stop = CancellationToken::new();
        let mut tasks = JoinSet::new();
        tasks.spawn_on(
            Relay::new(bus_pool.clone(), bus.clone(), service).run(relay_stop.clone()),
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
        })
    }
}

impl Started {
    /// Runs the consumer `name` of `bindings` with `handler` until shutdown, on the bus
    /// runtime. Its queue is declared here when the broker answers (every role also
    /// declares every subscription's queue before it starts, see
    /// `linli::declare_topology`), and again on every reconnect; a broker that drops
    /// while a role starts never stops the role.
    pub async fn consume<H: Handler>(&mut self, name: &str, bindings: &[&str], handler: H) {
        let consumer = Consumer::new(
            name,
            self.bus_pool.clone(),
            self.bus.clone(),
            bindings,
            handler,
        );
        if let Err(error) = consumer.declare().await {
            tracing::warn!(error = %error, "the broker did not answer; the consumer declares its queue when it connects");
        }
        self.tasks
            .spawn_on(consumer.run(self.shutdown.clone()), crate::bus::runtime());
    }

    /// Serves gRPC until shutdown; then, once in-flight calls are done, stops the
    /// consumers and flushes the outbox.
    pub async fn serve(
        mut self,
        listener: TcpListener,
        service_name: &'static str,
        routes: Routes,
    ) -> anyhow::Result<()> {
        self.in_process.offer(service_name, routes.clone());
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
        self.bus_pool.close().await;
        self.pool.close().await;
        result
    }
}

/// Whether one role's database and broker answer.
#[derive(Clone)]
pub struct Probe {
    name: String,
    pool: PgPool,
    bus: Bus,
}

impl Probe {
    pub async fn check(&self) -> Result<(), String> {
        let database = tokio::time::timeout(
            Duration::from_secs(2),
            sqlx::query("SELECT 1").execute(&self.pool),
        )
        .await;
        if !matches!(database, Ok(Ok(_))) {
            return Err("database unreachable".into());
        }
        if !self.bus.is_reachable().await {
            return Err("broker unreachable".into());
        }
        Ok(())
    }
}

/// Every role's probe in this process, for `/readyz`.
#[derive(Clone, Default)]
pub struct Readiness(Arc<Mutex<Vec<Probe>>>);

impl Readiness {
    pub fn register(&self, probe: Probe) {
        self.0
            .lock()
            .expect("readiness lock is never poisoned: no panics under it")
            .push(probe);
    }

    pub async fn check_all(&self) -> Vec<(String, Result<(), String>)> {
        let probes = self
            .0
            .lock()
            .expect("readiness lock is never poisoned: no panics under it")
            .clone();
        let mut results = Vec::with_capacity(probes.len());
        for probe in probes {
            results.push((probe.name.clone(), probe.check().await));
        }
        results
    }
}
