//! Support for Linli's end-to-end suites: the whole platform started in-process against
//! the real PostgreSQL and RabbitMQ, with databases and exchange/queue names of its own
//! so parallel tests and runs never meet; polling with a deadline; and a TCP proxy that
//! can cut a connection to the broker on demand.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

pub mod phone;
pub mod sms;
pub mod webdriver;
pub mod webhook_receiver;

use linli::{Ports, Role, ServeArgs};
use linli_platform::CancellationToken;
use linli_platform::auth::{AuthArgs, Role as AccessRole, TokenKeys};
use linli_platform::bus::BusArgs;
use linli_platform::crypto::{LOCAL_DATA_KEY, LOCAL_INDEX_KEY, PersonalDataArgs, Vault};
use linli_platform::db::DatabaseArgs;
use linli_platform::partner::{IssuedCertificate, PartnerCa, PartnerTlsArgs};
use sqlx::PgPool;
use std::path::{Path, PathBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Mutex;
use tokio::task::JoinHandle;
use tonic::transport::{Certificate, Channel, ClientTlsConfig, Endpoint, Identity};
use uuid::Uuid;

pub const SERVICES: [&str; 5] = [
    "registry",
    "bookings",
    "volunteers",
    "finance",
    "evaluation",
];

/// A name no other test or run uses: `t<pid>x<counter><random>`.
pub fn unique_name() -> String {
    static COUNTER: AtomicUsize = AtomicUsize::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let random = &Uuid::new_v4().simple().to_string()[..6];
    format!("t{}x{n}{random}", std::process::id())
}

/// A test's connections commit without waiting for the write-ahead log to reach the disk
/// (`synchronous_commit = off`, for these sessions only): every commit is still atomic and
/// seen at once by every other session, and only a crash of the server itself could lose
/// the last moments, of databases a test drops anyway. Thousands of migrations and writes
/// per run no longer each wait about a millisecond for an fsync.
fn without_waiting_for_the_disk(url: &str) -> String {
    let separator = if url.contains('?') { '&' } else { '?' };
    format!("{url}{separator}options[synchronous_commit]=off")
}

/// Settings for a test's own databases (`linli_<name>_<service>`) and bus prefix
/// (`linli-<name>`), on the local PostgreSQL and RabbitMQ unless the environment says
/// otherwise.
pub fn test_args(name: &str) -> ServeArgs {
    ServeArgs {
        database: DatabaseArgs {
            database_url: without_waiting_for_the_disk(
                &std::env::var("DATABASE_URL")
                    .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into()),
            ),
            database_prefix: format!("linli_{name}_"),
            database_max_connections: 5,
        },
        bus: BusArgs {
            amqp_url: std::env::var("AMQP_URL")
                .unwrap_or_else(|_| "amqp://guest:guest@127.0.0.1:5672/%2f".into()),
            prefix: format!("linli-{name}"),
            delivery_limit: 3,
            retry_base_ms: 10,
            webhook_retry_base_ms: 20,
            webhook_retry_cap_ms: 400,
        },
        auth: AuthArgs {
            jwt_secret: format!("secret-{name}"),
            jwt_audience: "linli".into(),
            jwt_issuer: "linli".into(),
        },
        data: PersonalDataArgs {
            data_key: LOCAL_DATA_KEY.into(),
            data_key_id: "test-1".into(),
            blind_index_key: LOCAL_INDEX_KEY.into(),
        },
        ports: Ports {
            bind: [127, 0, 0, 1].into(),
            gateway_port: 0,
            registry_port: 0,
            bookings_port: 0,
            volunteers_port: 0,
            finance_port: 0,
            evaluation_port: 0,
            partner_port: 0,
            admin_port: 0,
        },
        registry_endpoint: None,
        bookings_endpoint: None,
        volunteers_endpoint: None,
        finance_endpoint: None,
        evaluation_endpoint: None,
        body_limit: 64 * 1024,
        partner_tls: Default::default(),
        // The suites fire hundreds of requests at once from one token to test the
        // services; the gateway's own limits are tested with settings of their own.
        limits: linli_gateway::Limits {
            rate_per_second: 1_000_000.0,
            rate_burst: 1_000_000,
            concurrency: 100_000,
            request_timeout_secs: 120,
        },
        // Codes go to the front desk unless a suite starts an SMS provider of its own.
        sms: Default::default(),
        // Every read counts its figures afresh, so a test sees a fact in the next read; the
        // kept figures are tested with a max age of their own.
        evaluation: linli_evaluation::Settings {
            kpi_max_age_secs: 0,
        },
    }
}

/// Gives a platform a partner CA of its own and the listener's certificate (in a directory
/// under the system's temporary one), as `linli partner init-ca` would; the directory,
/// for issuing client certificates with [`partner_ca`].
pub fn with_partner_tls(args: &mut ServeArgs) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("linli-partners-{}", unique_name()));
    std::fs::create_dir_all(&dir).expect("a temporary directory");
    let (ca, key) = PartnerCa::generate("test partner CA").expect("a CA");
    let server = ca
        .issue_server(&["localhost".into(), "127.0.0.1".into()])
        .expect("a server certificate");
    for (file, text) in [
        ("ca.pem", &ca.certificate_pem),
        ("ca.key", &key),
        ("server.pem", &server.certificate_pem),
        ("server.key", &server.key_pem),
    ] {
        std::fs::write(dir.join(file), text).expect("written");
    }
    args.partner_tls = PartnerTlsArgs {
        partner_tls_cert: Some(dir.join("server.pem")),
        partner_tls_key: Some(dir.join("server.key")),
        partner_client_ca: Some(dir.join("ca.pem")),
    };
    dir
}

/// The partner CA in `dir`.
pub fn partner_ca(dir: &Path) -> PartnerCa {
    let read = |file: &str| std::fs::read_to_string(dir.join(file)).expect("the CA's files");
    PartnerCa::load(&read("ca.pem"), &read("ca.key")).expect("the CA loads")
}

/// A channel to the partner port presenting `client` (or no certificate at all).
pub async fn partner_channel(
    platform: &TestPlatform,
    dir: &Path,
    client: Option<&IssuedCertificate>,
) -> Result<Channel, tonic::transport::Error> {
    let address = platform.partner.expect("started with_partner_tls");
    let ca = std::fs::read_to_string(dir.join("ca.pem")).expect("the CA certificate");
    let mut tls = ClientTlsConfig::new()
        .ca_certificate(Certificate::from_pem(ca))
        .domain_name("localhost");
    if let Some(client) = client {
        tls = tls.identity(Identity::from_pem(&client.certificate_pem, &client.key_pem));
    }
    Endpoint::from_shared(format!("https://{address}"))?
        .tls_config(tls)?
        .connect_timeout(Duration::from_secs(5))
        .connect()
        .await
}

/// `linli serve all`, in this process, on its own databases and bus names.
pub struct TestPlatform {
    pub name: String,
    pub args: ServeArgs,
    pub gateway: String,
    pub registry: SocketAddr,
    pub bookings: SocketAddr,
    pub volunteers: SocketAddr,
    pub finance: SocketAddr,
    pub evaluation: SocketAddr,
    /// The partner gRPC port, when started [`with_partner_tls`].
    pub partner: Option<SocketAddr>,
    pub admin: SocketAddr,
    pub keys: TokenKeys,
    pub http: reqwest::Client,
    shutdown: CancellationToken,
    running: Option<JoinHandle<anyhow::Result<()>>>,
}

/// A platform a test drops without [`TestPlatform::stop`] (a failed assertion, a panic) is
/// told to stop too, so its broker and database connections close with it instead of
/// staying open for the rest of the suites' process.
impl Drop for TestPlatform {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

/// An HTTP client that asks for English (`Accept-Language: en`): the suites read the
/// services' English words in `detail`; the gateway's default is Chinese, which the errors
/// suite checks with a client of its own.
pub fn english_client() -> reqwest::Client {
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert(
        reqwest::header::ACCEPT_LANGUAGE,
        reqwest::header::HeaderValue::from_static("en"),
    );
    reqwest::Client::builder()
        .default_headers(headers)
        .build()
        .expect("an HTTP client")
}

impl TestPlatform {
    pub async fn start() -> TestPlatform {
        TestPlatform::start_with(|_| {}).await
    }

    /// Starts with settings adjusted by `adjust`, e.g. the broker behind a [`Proxy`].
    pub async fn start_with(adjust: impl FnOnce(&mut ServeArgs)) -> TestPlatform {
        let name = unique_name();
        let mut args = test_args(&name);
        adjust(&mut args);
        TestPlatform::launch(name, args).await
    }

    /// Stops this platform without removing anything, and starts a new one on the same
    /// databases and broker names: a restart of every role.
    pub async fn restart(mut self) -> TestPlatform {
        self.shutdown.cancel();
        if let Some(running) = self.running.take() {
            running
                .await
                .expect("platform task joins")
                .expect("platform stops cleanly");
        }
        TestPlatform::launch(self.name.clone(), self.args.clone()).await
    }

    async fn launch(name: String, args: ServeArgs) -> TestPlatform {
        let platform = TestPlatform::launch_unready(name, args).await;
        platform.wait_until_ready(Duration::from_secs(30)).await;
        platform
    }

    /// Starts with settings adjusted by `adjust` and returns as soon as every listener is
    /// bound, ready or not: for a start while the database or the broker is away.
    pub async fn start_unready_with(adjust: impl FnOnce(&mut ServeArgs)) -> TestPlatform {
        let name = unique_name();
        let mut args = test_args(&name);
        adjust(&mut args);
        TestPlatform::launch_unready(name, args).await
    }

    async fn launch_unready(name: String, args: ServeArgs) -> TestPlatform {
        let shutdown = CancellationToken::new();
        let running = linli::start(Role::All, args.clone(), shutdown.clone())
            .await
            .expect("the platform starts against the local PostgreSQL and RabbitMQ");
        TestPlatform {
            gateway: format!(
                "http://{}",
                running.gateway.expect("serve all runs the gateway")
            ),
            registry: running.registry.expect("serve all runs the registry"),
            bookings: running.bookings.expect("serve all runs bookings"),
            volunteers: running.volunteers.expect("serve all runs volunteers"),
            finance: running.finance.expect("serve all runs finance"),
            evaluation: running.evaluation.expect("serve all runs evaluation"),
            partner: running.partner,
            admin: running.admin,
            keys: TokenKeys::new(&args.auth),
            http: english_client(),
            name,
            args,
            shutdown,
            running: Some(tokio::spawn(running.wait())),
        }
    }

    /// Waits until `/readyz` says every service role is ready.
    pub async fn wait_until_ready(&self, deadline: Duration) {
        let ready = format!("http://{}/readyz", self.admin);
        let http = self.http.clone();
        poll("every role to be ready", deadline, || {
            let (http, ready) = (http.clone(), ready.clone());
            async move {
                let response = http.get(&ready).send().await.ok()?;
                let body: serde_json::Value = response.json().await.ok()?;
                (body["ready"] == true
                    && body["checks"]
                        .as_object()
                        .is_some_and(|c| c.len() == SERVICES.len()))
                .then_some(())
            }
        })
        .await;
    }

    /// A token from the same code as `linli token`.
    pub fn token(&self, roles: &[AccessRole], centres: &[Uuid]) -> String {
        self.keys
            .issue("test-user", roles, centres, chrono::Duration::hours(1))
    }

    pub fn admin_token(&self) -> String {
        self.token(&[AccessRole::DistrictAdmin], &[])
    }

    /// A pool on one service's database.
    pub async fn pool(&self, service: &str) -> PgPool {
        let options = self
            .args
            .database
            .options_for(service)
            .expect("valid test database options");
        PgPool::connect_with(options)
            .await
            .expect("the test database accepts connections")
    }

    /// Adds a centre to the registry and waits until every service's directory knows it,
    /// so writes for it are accepted everywhere.
    pub async fn create_centre(&self, code: &str) -> Uuid {
        let centre = self.create_centre_in_registry(code).await;
        self.wait_in_directories("centres", &[centre]).await;
        centre
    }

    /// Adds a centre to the registry only: the services hear of it when its event reaches
    /// them (for a test that runs while the broker is away).
    pub async fn create_centre_in_registry(&self, code: &str) -> Uuid {
        let pool = self.pool("registry").await;
        let details = linli_registry::domain::centre::CentreDetails::parse(
            &linli_registry::domain::centre::CentreForm {
                code,
                name: &format!("{code} 社区服务中心"),
                ..Default::default()
            },
        )
        .expect("a valid test centre");
        let centre = linli_registry::store::create_centre(&pool, Uuid::new_v4(), &details)
            .await
            .expect("centre inserted")
            .expect("a new id");
        pool.close().await;
        centre.id
    }

    /// A console account with the browser suites' password ([`webdriver::PASSWORD`]).
    pub async fn console_account(&self, username: &str, role: &str, centres: &[Uuid]) {
        self.staff_account(username, role, centres, webdriver::PASSWORD)
            .await;
    }

    /// Adds a console account straight into the registry's store, as the seed does.
    pub async fn staff_account(
        &self,
        username: &str,
        role: &str,
        centres: &[Uuid],
        password: &str,
    ) {
        let pool = self.pool("registry").await;
        let centres: Vec<String> = centres.iter().map(Uuid::to_string).collect();
        let new = linli_registry::domain::staff::NewAccount::parse(
            username,
            username,
            password,
            &[role.to_owned()],
            &centres,
        )
        .expect("a valid account");
        let hash = linli_registry::domain::staff::hash_password(password);
        linli_registry::store::create_staff_account(&pool, &new, &hash, "test")
            .await
            .expect("account stored")
            .expect("a new username");
        pool.close().await;
    }

    /// Adds a centre in `zone` and waits until every service's directory heard of it
    /// (through the registry's event), so sessions can be planned in its time zone.
    pub async fn bookable_centre(&self, zone: &str) -> Uuid {
        let pool = self.pool("registry").await;
        let code = format!("c{}", &Uuid::new_v4().simple().to_string()[..8]);
        let details = linli_registry::domain::centre::CentreDetails::parse(
            &linli_registry::domain::centre::CentreForm {
                code: &code,
                name: "测试社区服务中心",
                time_zone: zone,
                ..Default::default()
            },
        )
        .expect("a valid centre");
        let centre = linli_registry::store::create_centre(&pool, Uuid::new_v4(), &details)
            .await
            .expect("centre inserted")
            .expect("a new centre")
            .id;
        pool.close().await;
        self.wait_in_directories("centres", &[centre]).await;
        centre
    }

    /// Waits until bookings' directory holds every one of `residents`.
    pub async fn wait_for_residents_in_bookings(&self, residents: &[Uuid]) {
        self.wait_in_directory("bookings", "residents", residents)
            .await;
    }

    /// Waits until every service's directory holds every one of `residents`.
    pub async fn wait_for_residents(&self, residents: &[Uuid]) {
        self.wait_in_directories("residents", residents).await;
    }

    /// Waits until the directory of every service that keeps one (all but the registry)
    /// holds each of `ids` in `table` (`centres`, `residents`, `staff`,
    /// `partner_agreements`).
    pub async fn wait_in_directories(&self, table: &str, ids: &[Uuid]) {
        for service in SERVICES.into_iter().filter(|s| *s != "registry") {
            self.wait_in_directory(service, table, ids).await;
        }
    }

    /// Waits until `service`'s directory holds each of `ids` in `table`.
    pub async fn wait_in_directory(&self, service: &str, table: &str, ids: &[Uuid]) {
        let pool = self.pool(service).await;
        let count = format!("SELECT count(*) FROM directory.{table} WHERE id = ANY($1)");
        poll(
            &format!("{service}'s directory to hear of the {table}"),
            Duration::from_secs(60),
            || {
                let (pool, count) = (pool.clone(), count.clone());
                async move {
                    let known: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(count))
                        .bind(ids)
                        .fetch_one(&pool)
                        .await
                        .ok()?;
                    (known == ids.len() as i64).then_some(())
                }
            },
        )
        .await;
        pool.close().await;
    }

    /// POSTs JSON to the gateway as `token` (with an idempotency key if given); the
    /// status and the JSON body (`Null` when there is none).
    pub async fn post_json(
        &self,
        token: &str,
        path: &str,
        body: &serde_json::Value,
        idempotency_key: Option<&str>,
    ) -> (reqwest::StatusCode, serde_json::Value) {
        let mut request = self
            .http
            .post(format!("{}{path}", self.gateway))
            .bearer_auth(token)
            .json(body);
        if let Some(key) = idempotency_key {
            request = request.header("Idempotency-Key", key);
        }
        let response = request.send().await.expect("the gateway answers");
        let status = response.status();
        (
            status,
            response.json().await.unwrap_or(serde_json::Value::Null),
        )
    }

    /// GETs JSON from the gateway as `token`.
    pub async fn get_json(
        &self,
        token: &str,
        path: &str,
    ) -> (reqwest::StatusCode, serde_json::Value) {
        let response = self
            .http
            .get(format!("{}{path}", self.gateway))
            .bearer_auth(token)
            .send()
            .await
            .expect("the gateway answers");
        let status = response.status();
        (
            status,
            response.json().await.unwrap_or(serde_json::Value::Null),
        )
    }

    /// Adds a centre in `zone` and waits until every service heard of it (as
    /// [`TestPlatform::bookable_centre`] does).
    pub async fn volunteering_centre(&self, zone: &str) -> Uuid {
        self.bookable_centre(zone).await
    }

    /// Waits until the volunteers service's directory holds every one of `residents`.
    pub async fn wait_for_residents_in_volunteers(&self, residents: &[Uuid]) {
        self.wait_in_directory("volunteers", "residents", residents)
            .await;
    }

    pub fn vault(&self) -> Vault {
        Vault::new(&self.args.data).expect("test keys are valid")
    }

    /// Stops the platform, then removes its databases and broker names.
    pub async fn stop(mut self) {
        self.shutdown.cancel();
        if let Some(running) = self.running.take() {
            running
                .await
                .expect("platform task joins")
                .expect("platform stops cleanly");
        }
        cleanup(&self.args).await;
    }

    /// Stops the platform and deletes its exchanges and queues, keeping its databases (a
    /// seeded district the load tool measures).
    pub async fn stop_keeping_databases(mut self) {
        self.shutdown.cancel();
        if let Some(running) = self.running.take() {
            running
                .await
                .expect("platform task joins")
                .expect("platform stops cleanly");
        }
        cleanup_bus(&self.args).await;
    }
}

/// Drops a test's databases and deletes its exchanges and queues (best effort).
pub async fn cleanup(args: &ServeArgs) {
    for service in SERVICES {
        if let Ok(options) = args.database.options_for(service) {
            let _ = linli_platform::db::drop_database(&options).await;
        }
    }
    cleanup_bus(args).await;
}

/// Deletes a test's exchanges and queues (best effort).
pub async fn cleanup_bus(args: &ServeArgs) {
    let bus = linli_platform::bus::Bus::new(args.bus.clone(), "cleanup");
    if let Ok(channel) = bus.channel().await {
        for (consumer, _) in linli::SUBSCRIPTIONS {
            for queue in [
                args.bus.queue(consumer),
                args.bus.dead_letter_queue(consumer),
            ] {
                let _ = channel.queue_delete(queue.into(), Default::default()).await;
            }
        }
        for exchange in [args.bus.exchange(), args.bus.dead_letter_exchange()] {
            let _ = channel
                .exchange_delete(exchange.into(), Default::default())
                .await;
        }
        // Closed before the connection: dropped, it would still be closing when the
        // connection goes, which lapin logs as a connection ERROR.
        let _ = channel.close(200, "cleaned up".into()).await;
    }
    bus.close().await;
}

/// A gRPC request carrying `token` as its bearer, as the gateway forwards one.
pub fn bearer<T>(token: &str, message: T) -> tonic::Request<T> {
    let mut request = tonic::Request::new(message);
    request.metadata_mut().insert(
        "authorization",
        format!("Bearer {token}").parse().expect("ascii"),
    );
    request
}

impl TestPlatform {
    /// Publishes a payload straight to the platform's exchange through the real broker,
    /// as a service's relay would (message id `id`, type `message_type`): for a redelivery,
    /// or a fact from a publisher the test does not drive.
    pub async fn publish_raw(
        &self,
        routing_key: &str,
        id: Uuid,
        message_type: &str,
        payload: &[u8],
    ) {
        let bus = linli_platform::bus::Bus::new(self.args.bus.clone(), "test");
        let channel = bus.channel().await.expect("broker");
        channel
            .basic_publish(
                self.args.bus.exchange().into(),
                routing_key.into(),
                Default::default(),
                payload,
                lapin::BasicProperties::default()
                    .with_message_id(id.to_string().into())
                    .with_type(message_type.into()),
            )
            .await
            .expect("published")
            .await
            .expect("sent");
        bus.close().await;
    }

    /// Publishes `event` under its own routing key and type, with the event id `id`.
    pub async fn publish<E: linli_proto::Event>(&self, event: &E, id: Uuid) {
        self.publish_raw(
            E::ROUTING_KEY,
            id,
            E::TYPE,
            &prost::Message::encode_to_vec(event),
        )
        .await;
    }
}

/// Calls `probe` until it returns `Some`, failing the test after `deadline`.
pub async fn poll<T, F, Fut>(what: &str, deadline: Duration, mut probe: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let start = tokio::time::Instant::now();
    loop {
        if let Some(value) = probe().await {
            return value;
        }
        assert!(
            start.elapsed() < deadline,
            "timed out after {deadline:?} waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// A TCP proxy in front of a real server, which a test can cut (every open connection
/// dropped, new ones refused) and restore, to see what a client does when the network
/// between it and the server fails.
pub struct Proxy {
    pub address: SocketAddr,
    upstream: SocketAddr,
    open: Arc<AtomicBool>,
    connections: Arc<Mutex<Vec<JoinHandle<()>>>>,
    accept: std::sync::Mutex<Option<JoinHandle<()>>>,
}

impl Proxy {
    pub async fn start(upstream: SocketAddr) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("a loopback port is free");
        let address = listener.local_addr().expect("bound");
        let proxy = Proxy {
            address,
            upstream,
            open: Arc::new(AtomicBool::new(true)),
            connections: Arc::default(),
            accept: std::sync::Mutex::new(None),
        };
        proxy.listen(listener);
        proxy
    }

    fn listen(&self, listener: TcpListener) {
        let (open, connections, upstream) =
            (self.open.clone(), self.connections.clone(), self.upstream);
        let accept = tokio::spawn(async move {
            while let Ok((mut client, _)) = listener.accept().await {
                if !open.load(Ordering::SeqCst) {
                    continue; // dropped: the connection is refused
                }
                let Ok(mut server) = TcpStream::connect(upstream).await else {
                    continue;
                };
                let copy = tokio::spawn(async move {
                    let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
                });
                connections.lock().await.push(copy);
            }
        });
        *self.accept.lock().expect("not poisoned") = Some(accept);
    }

    /// Drops every open connection and refuses new ones.
    pub async fn cut(&self) {
        self.open.store(false, Ordering::SeqCst);
        for connection in self.connections.lock().await.drain(..) {
            connection.abort();
        }
    }

    /// As [`Proxy::cut`], and stops listening, so a new connection is refused by the
    /// operating system (`ECONNREFUSED`), as it is by a server that is down.
    pub async fn stop_listening(&self) {
        self.cut().await;
        let accept = self.accept.lock().expect("not poisoned").take();
        if let Some(accept) = accept {
            accept.abort();
            let _ = accept.await;
        }
    }

    pub fn restore(&self) {
        if self.accept.lock().expect("not poisoned").is_none() {
            let listener =
                std::net::TcpListener::bind(self.address).expect("the proxy's port is free again");
            listener.set_nonblocking(true).expect("non-blocking");
            self.listen(TcpListener::from_std(listener).expect("a tokio listener"));
        }
        self.open.store(true, Ordering::SeqCst);
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        if let Some(accept) = self.accept.lock().expect("not poisoned").take() {
            accept.abort();
        }
    }
}
