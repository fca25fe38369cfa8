//! The fault suite: bookings under load while the broker goes away, the database drops
//! its connections, a consumer process is killed, the relay cannot mark what it sent, a
//! poison message arrives, and the platform shuts down gracefully. After each, it counts:
//! every acknowledged booking exists, every event of every committed booking took effect
//! exactly once in finance (the fee) and evaluation (the attendance and the survey
//! invitation), and nothing was dead-lettered that should not have been.
//!
//! The load paces itself by progress (so many bookings acknowledged), never by the clock.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use futures::future::join_all;
use lapin::options::QueueDeclareOptions;
use lapin::types::FieldTable;
use linli_platform::CancellationToken;
use linli_platform::auth::Role;
use linli_tests::{Proxy, TestPlatform, poll};
use reqwest::StatusCode;
use serde_json::json;
use tokio::sync::{Mutex, RwLock};
use uuid::Uuid;

const FEE: i64 = 500;
const SESSIONS: usize = 10;
const RESIDENTS: usize = 40;
const CLIENTS: usize = 6;

/// A centre ready for the load: residents known to bookings, a paid event with sessions
/// running now (so each booking is checked in at once).
struct Stage {
    centre: Uuid,
    token: String,
    offering: String,
    sessions: Vec<String>,
    residents: Vec<Uuid>,
}

async fn stage(platform: &TestPlatform) -> Stage {
    let centre = platform.bookable_centre("Asia/Shanghai").await;
    let token = platform.token(&[Role::CentreManager], &[centre]);
    let at = |path: &str| format!("/v1/centres/{centre}{path}");
    let residents: Vec<Uuid> = join_all((0..RESIDENTS).map(|_| async {
        let (status, body) = platform
            .post_json(
                &token,
                &at("/residents"),
                &json!({ "name": "钱进", "gender": "male", "date_of_birth": "1955-05-05", "confirm_not_duplicate": true }),
                None,
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        body["id"]
            .as_str()
            .expect("id")
            .parse::<Uuid>()
            .expect("uuid")
    }))
    .await;
    platform.wait_for_residents_in_bookings(&residents).await;
    let (status, offering) = platform
        .post_json(
            &token,
            &at("/offerings"),
            &json!({ "category": "health", "kind": "event", "name": "义诊", "capacity": 10000, "fee_minor": FEE }),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{offering}");
    let offering = offering["id"].as_str().expect("id").to_owned();
    let now = chrono::Utc::now();
    let mut sessions = Vec::new();
    for n in 0..SESSIONS {
        let (status, session) = platform
            .post_json(
                &token,
                &at("/sessions"),
                &json!({ "offering_id": offering,
                         "starts_at": (now - chrono::Duration::minutes(10 + n as i64)).to_rfc3339(),
                         "ends_at": (now + chrono::Duration::hours(3)).to_rfc3339() }),
                None,
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{session}");
        sessions.push(session["id"].as_str().expect("id").to_owned());
    }
    Stage {
        centre,
        token,
        offering,
        sessions,
        residents,
    }
}

/// Clients booking and checking in until stopped; the gateway's address can change (a
/// restart), so they read it each time.
struct Load {
    acknowledged: Arc<Mutex<Vec<Uuid>>>,
    failures: Arc<AtomicU64>,
    stop: CancellationToken,
    clients: Vec<tokio::task::JoinHandle<()>>,
}

fn start_load(stage: &Stage, gateway: Arc<RwLock<String>>) -> Load {
    let acknowledged = Arc::new(Mutex::new(Vec::new()));
    let failures = Arc::new(AtomicU64::new(0));
    let stop = CancellationToken::new();
    let counter = Arc::new(AtomicU64::new(0));
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(15))
        .build()
        .expect("client");
    let clients = (0..CLIENTS)
        .map(|_| {
            let (acknowledged, failures, stop, counter, http, gateway) = (
                acknowledged.clone(),
                failures.clone(),
                stop.clone(),
                counter.clone(),
                http.clone(),
                gateway.clone(),
            );
            let (token, centre, offering) = (stage.token.clone(), stage.centre, stage.offering.clone());
            let (sessions, residents) = (stage.sessions.clone(), stage.residents.clone());
            tokio::spawn(async move {
                while !stop.is_cancelled() {
                    let i = counter.fetch_add(1, Ordering::Relaxed) as usize;
                    if i >= sessions.len() * residents.len() {
                        break;
                    }
                    let session = &sessions[i % sessions.len()];
                    let resident = residents[(i / sessions.len()) % residents.len()];
                    // A client retries what failed, with the same idempotency key, as a
                    // desk's would; the pause only spaces the retries.
                    let mut booking = None;
                    let mut refused = false;
                    while booking.is_none() && !refused && !stop.is_cancelled() {
                        let base = format!("{}/v1/centres/{centre}", gateway.read().await);
                        let booked = http
                            .post(format!("{base}/bookings"))
                            .bearer_auth(&token)
                            .header("Idempotency-Key", format!("load-{i}"))
                            .json(&json!({ "offering_id": offering, "resident_id": resident, "session_id": session }))
                            .send()
                            .await;
                        booking = match booked {
                            // A refusal is an answer, not a fault: nothing to retry.
                            Ok(r) if r.status().is_client_error() => {
                                refused = true;
                                None
                            }
                            Ok(r) if r.status() == StatusCode::CREATED => r
                                .json::<serde_json::Value>()
                                .await
                                .ok()
                                .and_then(|b| b["id"].as_str().and_then(|id| id.parse::<Uuid>().ok())),
                            _ => None,
                        };
                        if booking.is_none() {
                            failures.fetch_add(1, Ordering::Relaxed);
                            if !refused {
                                tokio::time::sleep(Duration::from_millis(50)).await;
                            }
                        }
                    }
                    let Some(id) = booking else { continue };
                    while !stop.is_cancelled() {
                        let base = format!("{}/v1/centres/{centre}", gateway.read().await);
                        let checked = http
                            .post(format!("{base}/bookings/{id}/check-in"))
                            .bearer_auth(&token)
                            .send()
                            .await;
                        if matches!(&checked, Ok(r) if r.status() == StatusCode::OK) {
                            acknowledged.lock().await.push(id);
                            break;
                        }
                        failures.fetch_add(1, Ordering::Relaxed);
                        tokio::time::sleep(Duration::from_millis(50)).await;
                    }
                }
            })
        })
        .collect();
    Load {
        acknowledged,
        failures,
        stop,
        clients,
    }
}

impl Load {
    /// Waits until `n` bookings were acknowledged in all.
    async fn until(&self, n: usize) {
        poll(
            &format!("{n} acknowledged bookings"),
            Duration::from_secs(90),
            || async { (self.acknowledged.lock().await.len() >= n).then_some(()) },
        )
        .await;
    }

    async fn finish(self) -> (Vec<Uuid>, u64) {
        self.stop.cancel();
        for client in self.clients {
            client.await.expect("a load client ends");
        }
        let acknowledged = self.acknowledged.lock().await.clone();
        (acknowledged, self.failures.load(Ordering::Relaxed))
    }
}

/// What a scenario left behind, counted.
#[derive(Debug)]
struct Tally {
    acknowledged: usize,
    /// Bookings committed with a fee, and of those, checked in.
    charged: i64,
    attended: i64,
    fees_applied: i64,
    attendances_applied: i64,
    invitations_applied: i64,
    lost: i64,
    duplicated: i64,
}

/// Counts, straight from each service's tables: what bookings committed, and what finance
/// and evaluation made of it.
async fn count(platform: &TestPlatform, centre: Uuid, acknowledged: usize) -> Tally {
    let bookings = platform.pool("bookings").await;
    let finance = platform.pool("finance").await;
    let evaluation = platform.pool("evaluation").await;
    let (charged, attended): (i64, i64) = sqlx::query_as(
        "SELECT count(*) FILTER (WHERE charge_id IS NOT NULL), count(*) FILTER (WHERE status = 'attended')
         FROM bookings WHERE centre_id = $1",
    )
    .bind(centre)
    .fetch_one(&bookings)
    .await
    .expect("bookings readable");
    let (fee_rows, fees, income): (i64, i64, i64) = sqlx::query_as(
        "SELECT count(*), count(DISTINCT charge_id),
                (SELECT coalesce(sum(credit_minor - debit_minor), 0)::bigint FROM journal_lines
                 WHERE centre_id = $1 AND account_code = '4004')
         FROM fee_charges WHERE centre_id = $1",
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
    let invitations: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM invitations WHERE centre_id = $1 AND delivery_id IS NOT NULL",
    )
    .bind(centre)
    .fetch_one(&evaluation)
    .await
    .expect("evaluation readable");
    for pool in [bookings, finance, evaluation] {
        pool.close().await;
    }
    Tally {
        acknowledged,
        charged,
        attended,
        fees_applied: fees,
        attendances_applied: attendances,
        invitations_applied: invitations,
        lost: (charged - fees).max(0)
            + (attended - attendances).max(0)
            + (attended - invitations).max(0),
        duplicated: (fee_rows - fees)
            + (attendance_rows - attendances)
            + (income / FEE - fees).max(0)
            + (invitations - attended).max(0),
    }
}

/// Waits until every committed booking's events took effect, then checks them.
async fn settle(platform: &TestPlatform, stage: &Stage, acknowledged: &[Uuid]) -> Tally {
    let pool = platform.pool("bookings").await;
    let present: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM bookings WHERE id = ANY($1) AND status = 'attended'",
    )
    .bind(acknowledged)
    .fetch_one(&pool)
    .await
    .expect("bookings readable");
    pool.close().await;
    assert_eq!(
        present as usize,
        acknowledged.len(),
        "every acknowledged booking exists, attended"
    );
    let settled = tokio::time::timeout(Duration::from_secs(90), async {
        loop {
            let tally = count(platform, stage.centre, acknowledged.len()).await;
            if tally.lost == 0 {
                return;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    })
    .await;
    let tally = count(platform, stage.centre, acknowledged.len()).await;
    assert!(
        settled.is_ok(),
        "every event took effect within 90 s: {tally:?}"
    );
    assert_eq!(tally.lost, 0, "{tally:?}");
    assert_eq!(tally.duplicated, 0, "{tally:?}");
    assert!(tally.attended as usize >= acknowledged.len());
    assert_eq!(tally.charged, tally.fees_applied);
    tally
}

async fn dead_letters(platform: &TestPlatform, consumer: &str) -> u32 {
    let bus = linli_platform::bus::Bus::new(platform.args.bus.clone(), "test");
    let channel = bus.channel().await.expect("broker");
    let declared = channel
        .queue_declare(
            platform.args.bus.dead_letter_queue(consumer).into(),
            QueueDeclareOptions {
                passive: true,
                ..Default::default()
            },
            FieldTable::default(),
        )
        .await
        .expect("the dead-letter queue exists");
    bus.close().await;
    declared.message_count()
}

async fn no_dead_letters(platform: &TestPlatform) {
    for consumer in ["finance", "evaluation", "bookings", "volunteers"] {
        assert_eq!(
            dead_letters(platform, consumer).await,
            0,
            "{consumer} dead-lettered nothing"
        );
    }
}

fn report(scenario: &str, tally: &Tally, failures: u64) {
    println!(
        "fault {scenario}: acknowledged {}, committed {} (attended {}), applied fees {} attendances {} invitations {}, lost {}, duplicated {}, failed requests (retried) {failures}",
        tally.acknowledged,
        tally.charged,
        tally.attended,
        tally.fees_applied,
        tally.attendances_applied,
        tally.invitations_applied,
        tally.lost,
        tally.duplicated
    );
}

#[tokio::test]
async fn the_broker_going_away_mid_load_loses_and_doubles_nothing() {
    let _ = tracing_subscriber::fmt()
        .with_env_filter("warn,linli_platform=info,lapin=off")
        .with_test_writer()
        .try_init();
    let proxy = Proxy::start("127.0.0.1:5672".parse().expect("address")).await;
    let address = proxy.address;
    let platform = TestPlatform::start_with(|args| {
        args.bus.amqp_url = format!("amqp://guest:guest@{address}/%2f");
    })
    .await;
    let stage = stage(&platform).await;
    let load = start_load(&stage, Arc::new(RwLock::new(platform.gateway.clone())));
    load.until(20).await;
    proxy.cut().await;
    // The desk keeps booking while the broker is away: the outbox holds the events.
    load.until(50).await;
    proxy.restore();
    load.until(70).await;
    let (acknowledged, failures) = load.finish().await;
    let tally = settle(&platform, &stage, &acknowledged).await;
    no_dead_letters(&platform).await;
    report("broker away", &tally, failures);
    platform.stop().await;
}

#[tokio::test]
async fn database_connections_terminated_mid_load_lose_and_double_nothing() {
    let platform = TestPlatform::start().await;
    let stage = stage(&platform).await;
    let load = start_load(&stage, Arc::new(RwLock::new(platform.gateway.clone())));
    let admin = sqlx::PgPool::connect(&platform.args.database.database_url)
        .await
        .expect("the server");
    let pattern = format!("{}%", platform.args.database.database_prefix);
    for step in 1..=3 {
        load.until(20 * step).await;
        let ended: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM (SELECT pg_terminate_backend(pid) FROM pg_stat_activity
             WHERE datname LIKE $1 AND pid <> pg_backend_pid()) t",
        )
        .bind(&pattern)
        .fetch_one(&admin)
        .await
        .expect("terminated");
        assert!(ended > 0, "the platform's connections were there to end");
    }
    load.until(80).await;
    admin.close().await;
    let (acknowledged, failures) = load.finish().await;
    let tally = settle(&platform, &stage, &acknowledged).await;
    no_dead_letters(&platform).await;
    report("database connections terminated", &tally, failures);
    platform.stop().await;
}

/// The `linli` binary next to this test's own (deploy/local/test.sh builds it first).
fn linli_binary() -> std::path::PathBuf {
    let exe = std::env::current_exe().expect("the test's path");
    let binary = exe
        .parent()
        .and_then(|deps| deps.parent())
        .expect("target/<profile>")
        .join("linli");
    assert!(
        binary.exists(),
        "{} is missing: build it first with `cargo build --bin linli` (deploy/local/test.sh does)",
        binary.display()
    );
    binary
}

/// `linli serve <role>` as a separate process on the platform's databases and broker names.
fn spawn_role(platform: &TestPlatform, role: &str) -> std::process::Child {
    let args = &platform.args;
    std::process::Command::new(linli_binary())
        .args(["serve", role])
        .env("DATABASE_URL", &args.database.database_url)
        .env("LINLI_DATABASE_PREFIX", &args.database.database_prefix)
        .env("LINLI_DATABASE_MAX_CONNECTIONS", "4")
        .env("AMQP_URL", &args.bus.amqp_url)
        .env("LINLI_BUS_PREFIX", &args.bus.prefix)
        .env("LINLI_DELIVERY_LIMIT", args.bus.delivery_limit.to_string())
        .env("LINLI_RETRY_BASE_MS", args.bus.retry_base_ms.to_string())
        .env("LINLI_JWT_SECRET", &args.auth.jwt_secret)
        .env("LINLI_DATA_KEY", &args.data.data_key)
        .env("LINLI_DATA_KEY_ID", &args.data.data_key_id)
        .env("LINLI_BLIND_INDEX_KEY", &args.data.blind_index_key)
        .env("LINLI_GATEWAY_PORT", "0")
        .env("LINLI_FINANCE_PORT", "0")
        .env("LINLI_EVALUATION_PORT", "0")
        .env("LINLI_ADMIN_PORT", "0")
        .env("RUST_LOG", "warn")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("linli starts")
}

#[tokio::test]
async fn consumer_processes_killed_mid_stream_and_restarted_lose_and_double_nothing() {
    let platform = TestPlatform::start().await;
    let stage = stage(&platform).await;
    // Finance and evaluation each get a second consumer in a process of their own,
    // sharing the queues with the in-process ones.
    let mut children = vec![
        spawn_role(&platform, "finance"),
        spawn_role(&platform, "evaluation"),
    ];
    let load = start_load(&stage, Arc::new(RwLock::new(platform.gateway.clone())));
    load.until(25).await;
    for child in &mut children {
        child.kill().expect("SIGKILL sent");
        child.wait().expect("the process ends");
    }
    load.until(45).await;
    let mut restarted = vec![
        spawn_role(&platform, "finance"),
        spawn_role(&platform, "evaluation"),
    ];
    load.until(70).await;
    let (acknowledged, failures) = load.finish().await;
    let tally = settle(&platform, &stage, &acknowledged).await;
    no_dead_letters(&platform).await;
    for child in &mut restarted {
        let _ = child.kill();
        let _ = child.wait();
    }
    report("consumers killed", &tally, failures);
    platform.stop().await;
}

#[tokio::test]
async fn a_relay_that_cannot_mark_what_it_published_causes_only_harmless_duplicates() {
    let platform = TestPlatform::start().await;
    let stage = stage(&platform).await;
    let bookings = platform.pool("bookings").await;
    let duplicates = || {
        ["finance", "evaluation"]
            .iter()
            .map(|c| {
                linli_platform::metrics::EVENTS_CONSUMED
                    .with_label_values(&[c, "duplicate"])
                    .get()
            })
            .sum::<u64>()
    };
    let before = duplicates();
    let load = start_load(&stage, Arc::new(RwLock::new(platform.gateway.clone())));
    load.until(20).await;
    // Publishing succeeds, marking it sent fails: as if the relay died in between.
    sqlx::query(
        "CREATE FUNCTION refuse_marking() RETURNS trigger LANGUAGE plpgsql AS $$
         BEGIN RAISE EXCEPTION 'the relay died before marking'; END $$",
    )
    .execute(&bookings)
    .await
    .expect("function");
    sqlx::query(
        "CREATE TRIGGER refuse_marking BEFORE UPDATE OF published_at ON outbox
         FOR EACH ROW WHEN (NEW.published_at IS NOT NULL) EXECUTE FUNCTION refuse_marking()",
    )
    .execute(&bookings)
    .await
    .expect("trigger");
    load.until(40).await;
    poll(
        "an event delivered twice",
        Duration::from_secs(30),
        || async { (duplicates() > before).then_some(()) },
    )
    .await;
    sqlx::query("DROP TRIGGER refuse_marking ON outbox")
        .execute(&bookings)
        .await
        .expect("dropped");
    bookings.close().await;
    load.until(60).await;
    let (acknowledged, failures) = load.finish().await;
    let tally = settle(&platform, &stage, &acknowledged).await;
    no_dead_letters(&platform).await;
    report(
        &format!(
            "relay unmarked ({} duplicate deliveries absorbed)",
            duplicates() - before
        ),
        &tally,
        failures,
    );
    platform.stop().await;
}

#[tokio::test]
async fn poison_messages_are_dead_lettered_and_the_stream_goes_on() {
    let platform = TestPlatform::start().await;
    let stage = stage(&platform).await;
    let load = start_load(&stage, Arc::new(RwLock::new(platform.gateway.clone())));
    load.until(20).await;
    let bus = linli_platform::bus::Bus::new(platform.args.bus.clone(), "test");
    let channel = bus.channel().await.expect("broker");
    let refund = linli_proto::events::v1::FeeRefunded {
        refund_id: Uuid::new_v4().to_string(),
        charge_id: Uuid::new_v4().to_string(),
        booking_id: Uuid::new_v4().to_string(),
        centre_id: stage.centre.to_string(),
        amount_minor: FEE,
        currency: "CNY".into(),
        refunded_at: None,
    };
    // Undecodable (dead-lettered at once), and a refund of a charge that never existed
    // (retried up to the delivery limit, then dead-lettered).
    for (key, kind, payload) in [
        (
            "bookings.fee.charged",
            "linli.events.v1.FeeCharged",
            vec![0xff, 0xff, 0xff, 0x01],
        ),
        (
            "bookings.fee.refunded",
            "linli.events.v1.FeeRefunded",
            prost::Message::encode_to_vec(&refund),
        ),
    ] {
        channel
            .basic_publish(
                platform.args.bus.exchange().into(),
                key.into(),
                Default::default(),
                &payload,
                lapin::BasicProperties::default()
                    .with_message_id(Uuid::new_v4().to_string().into())
                    .with_type(kind.into()),
            )
            .await
            .expect("published")
            .await
            .expect("sent");
    }
    bus.close().await;
    poll(
        "both poison messages dead-lettered",
        Duration::from_secs(60),
        || async { (dead_letters(&platform, "finance").await == 2).then_some(()) },
    )
    .await;
    load.until(50).await;
    let (acknowledged, failures) = load.finish().await;
    let tally = settle(&platform, &stage, &acknowledged).await;
    assert_eq!(
        dead_letters(&platform, "finance").await,
        2,
        "only the poison"
    );
    assert_eq!(dead_letters(&platform, "evaluation").await, 0);
    report("poison (2 dead-lettered)", &tally, failures);
    platform.stop().await;
}

#[tokio::test]
async fn a_graceful_shutdown_under_load_finishes_in_flight_work_and_loses_nothing() {
    let platform = TestPlatform::start().await;
    let stage = stage(&platform).await;
    let gateway = Arc::new(RwLock::new(platform.gateway.clone()));
    let load = start_load(&stage, gateway.clone());
    load.until(25).await;
    // What SIGTERM does: stop accepting, drain in-flight requests, stop consuming, flush
    // the outbox; then the roles start again on the same databases.
    let platform = platform.restart().await;
    *gateway.write().await = platform.gateway.clone();
    load.until(50).await;
    let (acknowledged, failures) = load.finish().await;
    let tally = settle(&platform, &stage, &acknowledged).await;
    no_dead_letters(&platform).await;
    report("graceful shutdown and restart", &tally, failures);
    platform.stop().await;
}

/// Each service with a request pool of one connection, held by a request that waits on a
/// table the test has locked: the next request waits out the pool's acquire timeout and is
/// answered 503 with `Retry-After` (a busy pool means "try again", never a 500), and once
/// the lock is gone the service answers again.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_exhausted_pool_answers_503_with_retry_after_in_every_service() {
    let platform =
        TestPlatform::start_with(|args| args.database.database_max_connections = 1).await;
    let centre = platform.create_centre("one-connection").await;
    let token = platform.token(&[Role::CentreManager], &[centre]);
    let cases = [
        ("registry", "residents", "/residents"),
        ("bookings", "offerings", "/offerings"),
        ("volunteers", "opportunities", "/opportunities"),
        ("finance", "accounts", "/finance/accounts"),
        ("evaluation", "suggestions", "/suggestions"),
    ];
    let outcomes = join_all(cases.map(|(service, table, path)| {
        let (platform, token) = (&platform, &token);
        let path = format!("/v1/centres/{centre}{path}");
        async move {
            let pool = platform.pool(service).await;
            let mut lock = pool.begin().await.expect("a transaction");
            sqlx::query(sqlx::AssertSqlSafe(format!(
                "LOCK TABLE {table} IN ACCESS EXCLUSIVE MODE"
            )))
            .execute(&mut *lock)
            .await
            .expect("the table locked");
            // The first request takes the pool's one connection and waits on the lock.
            let first = tokio::spawn({
                let (http, url, token) = (
                    platform.http.clone(),
                    format!("{}{path}", platform.gateway),
                    token.clone(),
                );
                async move {
                    http.get(url)
                        .bearer_auth(token)
                        .send()
                        .await
                        .expect("the gateway answers")
                        .status()
                }
            });
            poll(
                &format!("a {service} request waiting on the lock"),
                Duration::from_secs(30),
                || {
                    let pool = pool.clone();
                    async move {
                        let waiting: i64 = sqlx::query_scalar(
                            "SELECT count(*) FROM pg_stat_activity
                             WHERE datname = current_database() AND wait_event_type = 'Lock'",
                        )
                        .fetch_one(&pool)
                        .await
                        .ok()?;
                        (waiting > 0).then_some(())
                    }
                },
            )
            .await;
            let response = platform
                .http
                .get(format!("{}{path}", platform.gateway))
                .bearer_auth(token)
                .send()
                .await
                .expect("the gateway answers");
            let busy = (
                response.status(),
                response
                    .headers()
                    .get("retry-after")
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_owned),
            );
            lock.rollback().await.expect("the lock released");
            let first = first.await.expect("the first request");
            let (after, _) = platform.get_json(token, &path).await;
            pool.close().await;
            (service, busy, first, after)
        }
    }))
    .await;
    for (service, busy, first, after) in outcomes {
        assert_eq!(
            busy,
            (StatusCode::SERVICE_UNAVAILABLE, Some("2".to_owned())),
            "{service}: a request that found the pool busy"
        );
        assert!(
            first == StatusCode::OK || first == StatusCode::SERVICE_UNAVAILABLE,
            "{service}: the request that waited on the lock: {first}"
        );
        assert_eq!(after, StatusCode::OK, "{service}: once the lock is gone");
    }
    platform.stop().await;
}
