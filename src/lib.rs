//! The roles of the one `linli` binary, assembled: which listeners a role needs, which
//! services it runs, and the bus topology every role declares before it publishes. The
//! binary (`main.rs`) only parses the command line and calls [`start`], [`migrate`],
//! [`seed::demo`] or [`import::residents`].

use std::net::{IpAddr, SocketAddr};

use anyhow::Context as _;
use linli_platform::CancellationToken;
use linli_platform::auth::{AuthArgs, TokenKeys};
use linli_platform::bus::{Bus, BusArgs};
use linli_platform::crypto::{PersonalDataArgs, Vault};
use linli_platform::db::DatabaseArgs;
use linli_platform::partner::{PartnerRoutes, PartnerTlsArgs, Resolver};
use linli_platform::service::{Readiness, ServiceContext};
use tokio::net::TcpListener;
use tokio::task::JoinSet;

pub mod district;
pub mod import;
pub mod seed;

/// What one process runs.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Role {
    /// Every service and the gateway in one process.
    All,
    Registry,
    Bookings,
    Volunteers,
    Finance,
    Evaluation,
    Gateway,
}

impl Role {
    const SERVICES: [Role; 5] = [
        Role::Registry,
        Role::Bookings,
        Role::Volunteers,
        Role::Finance,
        Role::Evaluation,
    ];

    fn runs(self, other: Role) -> bool {
        self == Role::All || self == other
    }
}

/// Settings for `linli serve`.
#[derive(clap::Args, Clone, Debug)]
pub struct ServeArgs {
    #[command(flatten)]
    pub database: DatabaseArgs,
    #[command(flatten)]
    pub bus: BusArgs,
    #[command(flatten)]
    pub auth: AuthArgs,
    #[command(flatten)]
    pub data: PersonalDataArgs,
    #[command(flatten)]
    pub ports: Ports,
    /// Registry gRPC address the gateway calls; defaults to this host's registry port.
    #[arg(long, env = "LINLI_REGISTRY_ENDPOINT")]
    pub registry_endpoint: Option<String>,
    /// Bookings gRPC address the gateway calls; defaults to this host's bookings port.
    #[arg(long, env = "LINLI_BOOKINGS_ENDPOINT")]
    pub bookings_endpoint: Option<String>,
    /// Volunteers gRPC address the gateway calls; defaults to this host's volunteers port.
    #[arg(long, env = "LINLI_VOLUNTEERS_ENDPOINT")]
    pub volunteers_endpoint: Option<String>,
    /// Finance gRPC address the gateway calls; defaults to this host's finance port.
    #[arg(long, env = "LINLI_FINANCE_ENDPOINT")]
    pub finance_endpoint: Option<String>,
    /// Evaluation gRPC address the gateway calls; defaults to this host's evaluation port.
    #[arg(long, env = "LINLI_EVALUATION_ENDPOINT")]
    pub evaluation_endpoint: Option<String>,
    /// Largest HTTP request body the gateway accepts, in bytes.
    #[arg(long, env = "LINLI_BODY_LIMIT", default_value_t = 1024 * 1024)]
    pub body_limit: usize,
    /// The partner listener's certificate, key and client CA.
    #[command(flatten)]
    pub partner_tls: PartnerTlsArgs,
    #[command(flatten)]
    pub limits: linli_gateway::Limits,
    /// Where residents' sign-in codes are sent.
    #[command(flatten)]
    pub sms: linli_gateway::residents_site::SmsArgs,
    /// How long evaluation keeps counted KPI figures.
    #[command(flatten)]
    pub evaluation: linli_evaluation::Settings,
}

/// Where each role listens. Port 0 takes any free port (tests).
#[derive(clap::Args, Clone, Debug)]
pub struct Ports {
    /// Address every listener binds; 0.0.0.0 in a container.
    #[arg(long, env = "LINLI_BIND", default_value = "127.0.0.1")]
    pub bind: IpAddr,
    #[arg(long, env = "LINLI_GATEWAY_PORT", default_value_t = 8080)]
    pub gateway_port: u16,
    #[arg(long, env = "LINLI_REGISTRY_PORT", default_value_t = 50051)]
    pub registry_port: u16,
    #[arg(long, env = "LINLI_BOOKINGS_PORT", default_value_t = 50052)]
    pub bookings_port: u16,
    #[arg(long, env = "LINLI_VOLUNTEERS_PORT", default_value_t = 50053)]
    pub volunteers_port: u16,
    #[arg(long, env = "LINLI_FINANCE_PORT", default_value_t = 50054)]
    pub finance_port: u16,
    #[arg(long, env = "LINLI_EVALUATION_PORT", default_value_t = 50055)]
    pub evaluation_port: u16,
    /// Partner gRPC with mutual TLS: every service this process runs, for partners.
    #[arg(long, env = "LINLI_PARTNER_PORT", default_value_t = 50443)]
    pub partner_port: u16,
    /// `/healthz`, `/readyz` and `/metrics`.
    #[arg(long, env = "LINLI_ADMIN_PORT", default_value_t = 9000)]
    pub admin_port: u16,
}

impl Ports {
    fn port(&self, role: Role) -> u16 {
        match role {
            Role::Registry => self.registry_port,
            Role::Bookings => self.bookings_port,
            Role::Volunteers => self.volunteers_port,
            Role::Finance => self.finance_port,
            Role::Evaluation => self.evaluation_port,
            Role::Gateway | Role::All => self.gateway_port,
        }
    }
}

/// Every consumer's queue and bindings. Declared by every role before its relay runs and
/// by `linli migrate`, so no event is published before the queues that want it exist.
pub const SUBSCRIPTIONS: &[(&str, &[&str])] = &[
    (linli_bookings::SERVICE, linli_bookings::events::BINDINGS),
    (
        linli_volunteers::SERVICE,
        linli_volunteers::events::BINDINGS,
    ),
    (
        linli_evaluation::SERVICE,
        linli_evaluation::events::BINDINGS,
    ),
    (linli_finance::SERVICE, linli_finance::events::BINDINGS),
    // Partners' webhooks, in the registry (services/registry/src/webhooks.rs).
    (
        linli_registry::webhooks::CONSUMER,
        linli_registry::webhooks::BINDINGS,
    ),
    // The finance oversight group's auditors, in the registry (board_auditors.rs).
    (
        linli_registry::board_auditors::CONSUMER,
        linli_registry::board_auditors::BINDINGS,
    ),
    // Who booked which partner's offerings, in the registry (partner_bookers.rs).
    (
        linli_registry::partner_bookers::CONSUMER,
        linli_registry::partner_bookers::BINDINGS,
    ),
];

/// Declares the exchanges and every consumer's queue.
pub async fn declare_topology(args: &BusArgs) -> anyhow::Result<()> {
    let bus = Bus::new(args.clone(), "topology").with_topology(SUBSCRIPTIONS);
    // A new connection declares the whole topology before it hands out a channel. The
    // channel is closed before the connection: dropped, it would still be closing when the
    // connection goes, and lapin logs that race as an ERROR on every demo seed.
    let channel = bus.channel().await.context("connecting to the broker")?;
    let _ = channel.close(200, "declared".into()).await;
    bus.close().await;
    Ok(())
}

/// A started process: where each role listens, and its tasks.
pub struct Running {
    pub gateway: Option<SocketAddr>,
    pub registry: Option<SocketAddr>,
    pub bookings: Option<SocketAddr>,
    pub volunteers: Option<SocketAddr>,
    pub finance: Option<SocketAddr>,
    pub evaluation: Option<SocketAddr>,
    /// The partner listener, when its TLS settings were given.
    pub partner: Option<SocketAddr>,
    pub admin: SocketAddr,
    tasks: JoinSet<(String, anyhow::Result<()>)>,
    shutdown: CancellationToken,
}

impl Running {
    /// Waits for every role to stop; the first failure stops the rest and is returned.
    pub async fn wait(mut self) -> anyhow::Result<()> {
        let mut first_error = None;
        while let Some(joined) = self.tasks.join_next().await {
            let (name, result) = joined.context("a role panicked")?;
            if let Err(error) = result {
                tracing::error!(role = %name, error = %format!("{error:#}"), "role failed; stopping");
                self.shutdown.cancel();
                first_error.get_or_insert(error.context(format!("{name} failed")));
            }
        }
        first_error.map_or(Ok(()), Err)
    }
}

/// Binds every listener `role` needs, then starts its services, gateway and admin port.
pub async fn start(
    role: Role,
    args: ServeArgs,
    shutdown: CancellationToken,
) -> anyhow::Result<Running> {
    if args.auth.jwt_secret == linli_platform::auth::LOCAL_SECRET {
        tracing::warn!("using the built-in token key; set LINLI_JWT_SECRET outside a laptop");
    }
    // Only the services seal personal data; a gateway alone never needs the data keys.
    if role != Role::Gateway && Vault::uses_local_keys(&args.data) {
        tracing::warn!(
            "using the built-in data keys; set LINLI_DATA_KEY and LINLI_BLIND_INDEX_KEY outside a laptop"
        );
    }
    // Every service's bus declares the topology on each new connection before its relay
    // publishes, so a role starts (and accepts writes into its outbox) while the broker
    // is away; the gateway never needs the broker at all.
    let bind = |port: u16| TcpListener::bind(SocketAddr::new(args.ports.bind, port));
    let ctx = ServiceContext {
        database: args.database.clone(),
        bus: args.bus.clone(),
        keys: TokenKeys::new(&args.auth),
        vault: Vault::new(&args.data)?,
        readiness: Readiness::default(),
        partner: PartnerRoutes::default(),
        in_process: Default::default(),
        shutdown: shutdown.clone(),
        topology: SUBSCRIPTIONS,
    };

    let mut tasks = JoinSet::new();
    let mut addresses = std::collections::HashMap::new();
    for service in Role::SERVICES {
        if !role.runs(service) {
            continue;
        }
        let listener = bind(args.ports.port(service))
            .await
            .with_context(|| format!("binding the {service:?} port"))?;
        addresses.insert(service, listener.local_addr()?);
        let ctx = ctx.clone();
        let evaluation = args.evaluation.clone();
        let name = format!("{service:?}").to_lowercase();
        // Unready from the start, not only once its task first runs.
        ctx.readiness.starting(&name);
        tasks.spawn(async move {
            let result = match service {
                Role::Registry => linli_registry::serve(ctx, listener).await,
                Role::Bookings => linli_bookings::serve(ctx, listener).await,
                Role::Volunteers => linli_volunteers::serve(ctx, listener).await,
                Role::Finance => linli_finance::serve(ctx, listener).await,
                Role::Evaluation => linli_evaluation::serve(ctx, listener, evaluation).await,
                Role::Gateway | Role::All => unreachable!("not a service"),
            };
            (name, result)
        });
    }

    let partner = start_partner_listener(role, &args, &ctx, &addresses, &mut tasks).await?;

    let mut gateway = None;
    if role.runs(Role::Gateway) {
        let listener = bind(args.ports.gateway_port)
            .await
            .context("binding the gateway port")?;
        gateway = Some(listener.local_addr()?);
        // A service this process runs is called in the process, unless an endpoint for it
        // was named; any other at its endpoint, by default this host's port for it.
        let link = |explicit: &Option<String>, service: Role, grpc_service: &'static str| {
            if explicit.is_none() && role.runs(service) {
                return Ok(ctx.in_process.link(grpc_service));
            }
            let endpoint = explicit.clone().unwrap_or_else(|| {
                let address = addresses.get(&service).copied().unwrap_or_else(|| {
                    SocketAddr::new(loopback_for(args.ports.bind), args.ports.port(service))
                });
                format!(
                    "http://{}",
                    SocketAddr::new(loopback_for(address.ip()), address.port())
                )
            });
            linli_platform::grpc::remote(&endpoint)
        };
        let config = linli_gateway::GatewayConfig {
            registry: link(
                &args.registry_endpoint,
                Role::Registry,
                linli_registry::GRPC_SERVICE,
            )?,
            bookings: link(
                &args.bookings_endpoint,
                Role::Bookings,
                linli_bookings::GRPC_SERVICE,
            )?,
            volunteers: link(
                &args.volunteers_endpoint,
                Role::Volunteers,
                linli_volunteers::GRPC_SERVICE,
            )?,
            finance: link(
                &args.finance_endpoint,
                Role::Finance,
                linli_finance::GRPC_SERVICE,
            )?,
            evaluation: link(
                &args.evaluation_endpoint,
                Role::Evaluation,
                linli_evaluation::GRPC_SERVICE,
            )?,
            body_limit: args.body_limit,
            limits: args.limits.clone(),
            sms: args.sms.clone(),
        };
        let (keys, shutdown) = (ctx.keys.clone(), shutdown.clone());
        tasks.spawn(async move {
            (
                "gateway".to_owned(),
                linli_gateway::serve(listener, config, keys, shutdown).await,
            )
        });
    }

    let admin = bind(args.ports.admin_port)
        .await
        .context("binding the admin port")?;
    let admin_address = admin.local_addr()?;
    let (readiness, admin_shutdown) = (ctx.readiness.clone(), shutdown.clone());
    tasks.spawn(async move {
        (
            "admin".to_owned(),
            linli_platform::admin::serve(admin, readiness, admin_shutdown).await,
        )
    });
    tracing::info!(?role, admin = %admin_address, gateway = ?gateway, "linli started");

    Ok(Running {
        gateway,
        registry: addresses.get(&Role::Registry).copied(),
        bookings: addresses.get(&Role::Bookings).copied(),
        volunteers: addresses.get(&Role::Volunteers).copied(),
        finance: addresses.get(&Role::Finance).copied(),
        evaluation: addresses.get(&Role::Evaluation).copied(),
        partner,
        admin: admin_address,
        tasks,
        shutdown,
    })
}

/// Binds the partner port and serves there, over mutual TLS, every service this process
/// runs, once each has offered its gRPC server. Not started without TLS settings, or in a
/// process that runs no service.
async fn start_partner_listener(
    role: Role,
    args: &ServeArgs,
    ctx: &ServiceContext,
    addresses: &std::collections::HashMap<Role, SocketAddr>,
    tasks: &mut JoinSet<(String, anyhow::Result<()>)>,
) -> anyhow::Result<Option<SocketAddr>> {
    let services = Role::SERVICES.iter().filter(|s| role.runs(**s)).count();
    if services == 0 {
        return Ok(None);
    }
    let Some(tls) = args.partner_tls.server_config()? else {
        tracing::info!(
            "no partner TLS settings (LINLI_PARTNER_TLS_CERT, _KEY, LINLI_PARTNER_CLIENT_CA): the partner port stays closed"
        );
        return Ok(None);
    };
    let listener = TcpListener::bind(SocketAddr::new(args.ports.bind, args.ports.partner_port))
        .await
        .context("binding the partner port")?;
    let address = listener.local_addr()?;
    let registry = args.registry_endpoint.clone().unwrap_or_else(|| {
        let address = addresses.get(&Role::Registry).copied().unwrap_or_else(|| {
            SocketAddr::new(loopback_for(args.ports.bind), args.ports.registry_port)
        });
        format!(
            "http://{}",
            SocketAddr::new(loopback_for(address.ip()), address.port())
        )
    });
    // A partner whose agreements set no rate has the default per-credential one.
    let resolver = Resolver::new(&registry, ctx.keys.clone())?.with_default_rate(
        linli_platform::rate::Rate::per_second(args.limits.rate_per_second, args.limits.rate_burst),
    );
    let (routes, shutdown) = (ctx.partner.clone(), ctx.shutdown.clone());
    tasks.spawn(async move {
        (
            "partner".to_owned(),
            linli_platform::partner::serve(listener, tls, routes, services, resolver, shutdown)
                .await,
        )
    });
    Ok(Some(address))
}

/// A wildcard bind address is not one to dial; dial loopback instead.
fn loopback_for(ip: IpAddr) -> IpAddr {
    if ip.is_unspecified() {
        IpAddr::from([127, 0, 0, 1])
    } else {
        ip
    }
}

/// Applies one role's migrations (or every role's) and declares the bus topology.
pub async fn migrate(role: Role, database: &DatabaseArgs, bus: &BusArgs) -> anyhow::Result<()> {
    let migrations = [
        (
            Role::Registry,
            linli_registry::SERVICE,
            &linli_registry::MIGRATOR,
        ),
        (
            Role::Bookings,
            linli_bookings::SERVICE,
            &linli_bookings::MIGRATOR,
        ),
        (
            Role::Volunteers,
            linli_volunteers::SERVICE,
            &linli_volunteers::MIGRATOR,
        ),
        (
            Role::Finance,
            linli_finance::SERVICE,
            &linli_finance::MIGRATOR,
        ),
        (
            Role::Evaluation,
            linli_evaluation::SERVICE,
            &linli_evaluation::MIGRATOR,
        ),
    ];
    for (service_role, service, migrator) in migrations {
        if role.runs(service_role) {
            let pool = linli_platform::db::connect(database, service, migrator).await?;
            pool.close().await;
            tracing::info!(service, "migrated");
        }
    }
    declare_topology(bus).await
}
