//! Scale-out, shown (issue 25, item 5): two processes of every role (`linli serve <role>`
//! ×2, each service and the gateway) against one database server and one broker. Each
//! gateway reaches the services of its own set, as a pod reaches a Kubernetes Service;
//! the consumers of both sets share each queue. Clients book and check in through both
//! gateways (falling over to the other when theirs stops answering, as a load balancer
//! would); midway one process of every role is killed (SIGKILL). Then it counts: every
//! acknowledged booking exists and is attended, every committed booking's fee and
//! attendance took effect exactly once, and each process's own `/metrics` counted part
//! of the work before the kill.
//!
//! Needs the `linli` binary next to the test's (`cargo build --bin linli`).

use std::collections::BTreeMap;
use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use futures::future::join_all;
use linli_platform::CancellationToken;
use linli_platform::auth::{Role, TokenKeys};
use linli_tests::{SERVICES, cleanup, poll, test_args, unique_name};
use reqwest::StatusCode;
use serde_json::{Value, json};
use sqlx::PgPool;
use tokio::sync::Mutex;
use uuid::Uuid;

const FEE: i64 = 500;
const SESSIONS: usize = 8;
const RESIDENTS: usize = 12;
const CLIENTS: usize = 6;

fn linli_binary() -> std::path::PathBuf {
    let exe = std::env::current_exe().expect("the test's path");
    let binary = exe
        .parent()
        .and_then(|deps| deps.parent())
        .expect("target/<profile>")
        .join("linli");
    assert!(
        binary.exists(),
        "{} is missing: build it first with `cargo build --bin linli`",
        binary.display()
    );
    binary
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .expect("a free port")
        .local_addr()
        .expect("its address")
        .port()
}

/// One process of a role, with its admin port (`/metrics`).
struct Process {
    role: &'static str,
    set: usize,
    admin: u16,
    child: Child,
}

/// A process the test started is killed when it is dropped, so a failed run leaves none.
impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One set: a process of every service and a gateway reaching them.
struct Set {
    gateway: String,
    processes: Vec<Process>,
}

fn spawn_set(args: &linli::ServeArgs, set: usize) -> Set {
    let ports: BTreeMap<&str, u16> = SERVICES.iter().map(|s| (*s, free_port())).collect();
    let gateway_port = free_port();
    let spawn = |role: &'static str, port_env: &str, port: u16| {
        let admin = free_port();
        let mut command = Command::new(linli_binary());
        command
            .args(["serve", role])
            .env("DATABASE_URL", &args.database.database_url)
            .env("LINLI_DATABASE_PREFIX", &args.database.database_prefix)
            .env("LINLI_DATABASE_MAX_CONNECTIONS", "3")
            .env("AMQP_URL", &args.bus.amqp_url)
            .env("LINLI_BUS_PREFIX", &args.bus.prefix)
            .env("LINLI_DELIVERY_LIMIT", args.bus.delivery_limit.to_string())
            .env("LINLI_RETRY_BASE_MS", args.bus.retry_base_ms.to_string())
            .env("LINLI_JWT_SECRET", &args.auth.jwt_secret)
            .env("LINLI_DATA_KEY", &args.data.data_key)
            .env("LINLI_DATA_KEY_ID", &args.data.data_key_id)
            .env("LINLI_BLIND_INDEX_KEY", &args.data.blind_index_key)
            .env("LINLI_RATE_LIMIT", "1000000")
            .env("LINLI_RATE_BURST", "1000000")
            .env(port_env, port.to_string())
            .env("LINLI_ADMIN_PORT", admin.to_string())
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        for (service, port) in &ports {
            command.env(
                format!("LINLI_{}_ENDPOINT", service.to_ascii_uppercase()),
                format!("http://127.0.0.1:{port}"),
            );
        }
        Process {
            role,
            set,
            admin,
            child: command.spawn().expect("linli starts"),
        }
    };
    let mut processes: Vec<Process> = SERVICES
        .iter()
        .map(|service| {
            let env = format!("LINLI_{}_PORT", service.to_ascii_uppercase());
            spawn(service, &env, ports[service])
        })
        .collect();
    processes.push(spawn("gateway", "LINLI_GATEWAY_PORT", gateway_port));
    Set {
        gateway: format!("http://127.0.0.1:{gateway_port}"),
        processes,
    }
}

async fn wait_ready(http: &reqwest::Client, process: &Process) {
    let url = format!("http://127.0.0.1:{}/readyz", process.admin);
    poll(
        &format!("{} of set {} to be ready", process.role, process.set),
        Duration::from_secs(60),
        || async {
            let response = http.get(&url).send().await.ok()?;
            (response.status() == StatusCode::OK).then_some(())
        },
    )
    .await;
}

/// The sum of a metric's samples whose labels contain every one of `labels`.
fn metric(text: &str, name: &str, labels: &[&str]) -> f64 {
    text.lines()
        .filter(|line| !line.starts_with('#'))
        .filter(|line| {
            line.strip_prefix(name)
                .is_some_and(|rest| rest.starts_with('{') || rest.starts_with(' '))
        })
        .filter(|line| labels.iter().all(|label| line.contains(label)))
        .filter_map(|line| line.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}

/// What each process's own `/metrics` counted of the work: a gateway its booking routes'
/// requests, bookings its CreateBooking calls, the registry its CreateResident calls, and
/// each consumer the events it handled.
async fn shares_of<'a>(
    http: &reqwest::Client,
    processes: impl Iterator<Item = &'a Process>,
) -> Vec<(&'static str, usize, f64)> {
    let mut shares = Vec::new();
    for process in processes {
        let text = http
            .get(format!("http://127.0.0.1:{}/metrics", process.admin))
            .send()
            .await
            .expect("metrics answer")
            .text()
            .await
            .expect("metrics text");
        let share = match process.role {
            "gateway" => metric(
                &text,
                "linli_http_requests_total",
                &["route=\"/v1/centres/{centre_id}/bookings"],
            ),
            "bookings" => metric(
                &text,
                "linli_rpc_requests_total",
                &["method=\"CreateBooking\""],
            ),
            "registry" => metric(
                &text,
                "linli_rpc_requests_total",
                &["method=\"CreateResident\""],
            ),
            consumer => metric(
                &text,
                "linli_events_consumed_total",
                &[&format!("consumer=\"{consumer}\"")],
            ),
        };
        shares.push((process.role, process.set, share));
    }
    shares
}

async fn pool(args: &linli::ServeArgs, service: &str) -> PgPool {
    PgPool::connect_with(args.database.options_for(service).expect("options"))
        .await
        .expect("the test database accepts connections")
}

/// Requests that went to the other gateway because the first did not answer.
static FAILOVERS: AtomicU64 = AtomicU64::new(0);

/// Posts JSON through `gateway`, or the other gateway when it does not answer.
async fn post(
    http: &reqwest::Client,
    gateways: &[String],
    first: usize,
    token: &str,
    path: &str,
    body: &Value,
    key: Option<&str>,
) -> Option<(StatusCode, Value)> {
    for n in 0..gateways.len() {
        let gateway = &gateways[(first + n) % gateways.len()];
        let mut request = http
            .post(format!("{gateway}{path}"))
            .bearer_auth(token)
            .json(body);
        if let Some(key) = key {
            request = request.header("Idempotency-Key", key);
        }
        match request.send().await {
            Ok(response) if !response.status().is_server_error() => {
                let status = response.status();
                return Some((status, response.json().await.unwrap_or(Value::Null)));
            }
            _ => {
                FAILOVERS.fetch_add(1, Ordering::Relaxed);
            }
        }
    }
    None
}

/// Counts what bookings committed at `centre` and what finance and evaluation made of it:
/// (attended, charged, fee rows, distinct fees, attendance rows, distinct attendances).
async fn tally(args: &linli::ServeArgs, centre: Uuid) -> [i64; 6] {
    let (bookings, finance, evaluation) = (
        pool(args, "bookings").await,
        pool(args, "finance").await,
        pool(args, "evaluation").await,
    );
    let (attended, charged): (i64, i64) = sqlx::query_as(
        "SELECT count(*) FILTER (WHERE status = 'attended'), count(*) FILTER (WHERE charge_id IS NOT NULL)
         FROM bookings WHERE centre_id = $1",
    )
    .bind(centre)
    .fetch_one(&bookings)
    .await
    .expect("bookings readable");
    let (fee_rows, fees): (i64, i64) = sqlx::query_as(
        "SELECT count(*), count(DISTINCT charge_id) FROM fee_charges WHERE centre_id = $1",
    )
    .bind(centre)
    .fetch_one(&finance)
    .await
    .expect("finance readable");
    let (attendance_rows, attendances): (i64, i64) = sqlx::query_as(
        "SELECT count(*), count(DISTINCT booking_id) FROM attendances WHERE centre_id = $1",
    )
    .bind(centre)
    .fetch_one(&evaluation)
    .await
    .expect("evaluation readable");
    for pool in [bookings, finance, evaluation] {
        pool.close().await;
    }
    [
        attended,
        charged,
        fee_rows,
        fees,
        attendance_rows,
        attendances,
    ]
}

#[tokio::test]
async fn two_processes_of_every_role_share_the_work_and_one_of_each_killed_loses_and_doubles_nothing()
 {
    let started = Instant::now();
    let name = unique_name();
    let args = test_args(&name);
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(15))
        .build()
        .expect("a client");
    // The first set migrates the databases; the second starts once it is ready.
    let mut sets = vec![spawn_set(&args, 1)];
    for process in &sets[0].processes {
        wait_ready(&http, process).await;
    }
    sets.push(spawn_set(&args, 2));
    for process in &sets[1].processes {
        wait_ready(&http, process).await;
    }
    let gateways: Vec<String> = sets.iter().map(|set| set.gateway.clone()).collect();
    let ready_in = started.elapsed();

    // A centre, as the seed makes one, known to every service.
    let registry = pool(&args, "registry").await;
    let details = linli_registry::domain::centre::CentreDetails::parse(
        &linli_registry::domain::centre::CentreForm {
            code: &format!("c{}", &Uuid::new_v4().simple().to_string()[..8]),
            name: "测试社区服务中心",
            time_zone: "Asia/Shanghai",
            ..Default::default()
        },
    )
    .expect("a valid centre");
    let centre = linli_registry::store::create_centre(&registry, Uuid::new_v4(), &details)
        .await
        .expect("centre inserted")
        .expect("a new centre")
        .id;
    registry.close().await;
    for service in SERVICES.into_iter().filter(|s| *s != "registry") {
        let pool = pool(&args, service).await;
        poll(
            &format!("{service} to know the centre"),
            Duration::from_secs(30),
            || async {
                let n: i64 =
                    sqlx::query_scalar("SELECT count(*) FROM directory.centres WHERE id = $1")
                        .bind(centre)
                        .fetch_one(&pool)
                        .await
                        .ok()?;
                (n == 1).then_some(())
            },
        )
        .await;
        pool.close().await;
    }
    let token = TokenKeys::new(&args.auth).issue(
        "scale-out",
        &[Role::CentreManager],
        &[centre],
        chrono::Duration::hours(1),
    );
    let at = |path: &str| format!("/v1/centres/{centre}{path}");

    // Residents through both gateways; a paid event with sessions running now.
    let residents: Vec<Uuid> = join_all((0..RESIDENTS).map(|n| {
        let (http, gateways, token, path) = (&http, &gateways, &token, at("/residents"));
        async move {
            let body = json!({ "name": "钱进", "gender": "male", "date_of_birth": "1955-05-05", "confirm_not_duplicate": true });
            let (status, body) = post(http, gateways, n, token, &path, &body, None)
                .await
                .expect("a gateway answers");
            assert_eq!(status, StatusCode::CREATED, "{body}");
            body["id"].as_str().expect("id").parse().expect("uuid")
        }
    }))
    .await;
    let bookings_db = pool(&args, "bookings").await;
    poll(
        "bookings to know the residents",
        Duration::from_secs(30),
        || async {
            let n: i64 =
                sqlx::query_scalar("SELECT count(*) FROM directory.residents WHERE id = ANY($1)")
                    .bind(&residents)
                    .fetch_one(&bookings_db)
                    .await
                    .ok()?;
            (n as usize == residents.len()).then_some(())
        },
    )
    .await;
    let (status, offering) = post(
        &http,
        &gateways,
        0,
        &token,
        &at("/offerings"),
        &json!({ "category": "health", "kind": "event", "name": "义诊", "capacity": 10000, "fee_minor": FEE }),
        None,
    )
    .await
    .expect("a gateway answers");
    assert_eq!(status, StatusCode::CREATED, "{offering}");
    let offering = offering["id"].as_str().expect("id").to_owned();
    let now = chrono::Utc::now();
    let mut sessions = Vec::new();
    for n in 0..SESSIONS {
        let (status, session) = post(
            &http,
            &gateways,
            n,
            &token,
            &at("/sessions"),
            &json!({ "offering_id": offering,
                     "starts_at": (now - chrono::Duration::minutes(10 + n as i64)).to_rfc3339(),
                     "ends_at": (now + chrono::Duration::hours(3)).to_rfc3339() }),
            None,
        )
        .await
        .expect("a gateway answers");
        assert_eq!(status, StatusCode::CREATED, "{session}");
        sessions.push(session["id"].as_str().expect("id").to_owned());
    }

    // The load: each booking through one gateway (alternating), then its check-in through
    // the other; a client retries what failed with the same idempotency key.
    let acknowledged = Arc::new(Mutex::new(Vec::<Uuid>::new()));
    let failures = Arc::new(AtomicU64::new(0));
    let counter = Arc::new(AtomicU64::new(0));
    let stop = CancellationToken::new();
    let total = SESSIONS * RESIDENTS;
    let clients: Vec<_> = (0..CLIENTS)
        .map(|_| {
            let (acknowledged, failures, counter, stop) = (
                acknowledged.clone(),
                failures.clone(),
                counter.clone(),
                stop.clone(),
            );
            let (http, gateways, token, offering) = (
                http.clone(),
                gateways.clone(),
                token.clone(),
                offering.clone(),
            );
            let (sessions, residents) = (sessions.clone(), residents.clone());
            let db = bookings_db.clone();
            tokio::spawn(async move {
                loop {
                    let i = counter.fetch_add(1, Ordering::Relaxed) as usize;
                    if i >= total || stop.is_cancelled() {
                        break;
                    }
                    let session = &sessions[i % SESSIONS];
                    let resident = residents[i / SESSIONS];
                    let body = json!({ "offering_id": offering, "resident_id": resident, "session_id": session });
                    let path = format!("/v1/centres/{centre}/bookings");
                    let key = format!("scale-{i}");
                    let booking = loop {
                        match post(&http, &gateways, i, &token, &path, &body, Some(&key)).await {
                            Some((StatusCode::CREATED, body)) => {
                                break body["id"].as_str().and_then(|id| id.parse::<Uuid>().ok());
                            }
                            // Applied, its answer lost with a killed process (409): the
                            // desk looks the booking up, as it would by the resident.
                            Some((StatusCode::CONFLICT, _)) => {
                                failures.fetch_add(1, Ordering::Relaxed);
                                let found: Option<Uuid> = sqlx::query_scalar(
                                    "SELECT b.id FROM bookings b JOIN seats s ON s.booking_id = b.id
                                      WHERE b.resident_id = $1 AND s.session_id = $2::uuid",
                                )
                                .bind(resident)
                                .bind(session)
                                .fetch_optional(&db)
                                .await
                                .expect("bookings readable");
                                if found.is_some() {
                                    break found;
                                }
                                tokio::time::sleep(Duration::from_millis(100)).await;
                            }
                            Some((status, body)) if status.is_client_error() => {
                                panic!("booking {i} refused: {status} {body}")
                            }
                            _ => {
                                failures.fetch_add(1, Ordering::Relaxed);
                                tokio::time::sleep(Duration::from_millis(50)).await;
                            }
                        }
                    };
                    let id = booking.expect("a booking id");
                    let path = format!("/v1/centres/{centre}/bookings/{id}/check-in");
                    loop {
                        match post(&http, &gateways, i + 1, &token, &path, &json!({}), None).await
                        {
                            Some((StatusCode::OK, _)) => break,
                            // A check-in that took effect but whose answer was lost with a
                            // killed process: the booking says so.
                            Some((status, body)) if status.is_client_error() => {
                                let attended: Option<String> = sqlx::query_scalar(
                                    "SELECT status FROM bookings WHERE id = $1",
                                )
                                .bind(id)
                                .fetch_optional(&db)
                                .await
                                .expect("bookings readable");
                                assert_eq!(
                                    attended.as_deref(),
                                    Some("attended"),
                                    "check-in {i} refused: {status} {body}"
                                );
                                break;
                            }
                            _ => {
                                failures.fetch_add(1, Ordering::Relaxed);
                                tokio::time::sleep(Duration::from_millis(50)).await;
                            }
                        }
                    }
                    acknowledged.lock().await.push(id);
                }
            })
        })
        .collect();
    let until = |n: usize| {
        let acknowledged = acknowledged.clone();
        async move {
            poll(
                &format!("{n} acknowledged bookings"),
                Duration::from_secs(60),
                || async { (acknowledged.lock().await.len() >= n).then_some(()) },
            )
            .await;
        }
    };
    until(total / 3).await;

    // Each process's own metrics counted part of the work so far.
    let shares = shares_of(&http, sets.iter().flat_map(|set| &set.processes)).await;
    println!("scale-out: each process's share before the kill: {shares:?}");
    let shares_before = shares.clone();
    for (role, set, share) in &shares {
        assert!(*share > 0.0, "{role} of set {set} counted none of the work");
    }

    // One process of every role killed at once, mid-load.
    for process in &mut sets[0].processes {
        process.child.kill().expect("SIGKILL sent");
        process.child.wait().expect("the process ends");
    }
    let killed_at = acknowledged.lock().await.len();
    until(total).await;
    stop.cancel();
    for client in clients {
        client.await.expect("a load client ends");
    }
    let acknowledged = acknowledged.lock().await.clone();
    assert_eq!(acknowledged.len(), total, "every booking acknowledged");

    // Nothing lost, nothing doubled.
    let present: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM bookings WHERE id = ANY($1) AND status = 'attended'",
    )
    .bind(&acknowledged)
    .fetch_one(&bookings_db)
    .await
    .expect("bookings readable");
    bookings_db.close().await;
    assert_eq!(
        present as usize, total,
        "every acknowledged booking, attended"
    );
    let expected = total as i64;
    let mut last = [0; 6];
    let settled = tokio::time::timeout(Duration::from_secs(60), async {
        loop {
            last = tally(&args, centre).await;
            if last == [expected; 6] {
                return;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    })
    .await;
    assert!(
        settled.is_ok(),
        "attended, charged, fee rows, fees, attendance rows, attendances: {last:?}, each {expected}"
    );
    println!(
        "scale-out: {total} booked and checked in through 2 gateways, set 1 killed after {killed_at}; \
         fees {} (rows {}), attendances {} (rows {}); failed requests (retried) {}, failed over to the other gateway {}; ready in {ready_in:?}, all in {:?}",
        last[3],
        last[2],
        last[5],
        last[4],
        failures.load(Ordering::Relaxed),
        FAILOVERS.load(Ordering::Relaxed),
        started.elapsed()
    );

    // The survivors did the rest: each on the load's path (the registry and volunteers
    // had their share in the setting up) counted more than before the kill.
    let after = shares_of(&http, sets[1].processes.iter()).await;
    println!("scale-out: the surviving set's shares at the end: {after:?}");
    for (role, set, share) in after
        .iter()
        .filter(|(role, _, _)| !["registry", "volunteers"].contains(role))
    {
        let before = shares_before
            .iter()
            .find(|(r, s, _)| r == role && s == set)
            .map(|(_, _, n)| *n)
            .expect("counted before");
        assert!(
            *share > before,
            "{role} of set {set}: {before} then {share}"
        );
    }
    drop(sets);
    cleanup(&args).await;
}
