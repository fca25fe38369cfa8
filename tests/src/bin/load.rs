//! Linli's load benchmark. Starts the whole platform in this process on databases and
//! broker names of its own, prepares a centre with residents and sessions, then drives
//! booking creation through the gateway with N concurrent clients for a fixed time, and
//! measures the floor in the same run: the same concurrency doing bare INSERTs of a
//! booking row and an outbox row in one transaction straight into PostgreSQL.
//! It prints figures and never fails on a time.
//!
//! cargo run --release -p linli-tests --bin load -- --clients 16,64 --seconds 10

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use clap::Parser;
use futures::future::join_all;
use linli_platform::auth::Role;
use linli_tests::TestPlatform;
use serde_json::{Value, json};
use uuid::Uuid;

#[derive(Parser, Debug)]
#[command(about = "Booking throughput and latency through the gateway, against the database floor")]
struct Args {
    /// Concurrent clients, one run per value.
    #[arg(long, value_delimiter = ',', default_value = "16,64")]
    clients: Vec<usize>,
    /// Seconds each run lasts.
    #[arg(long, default_value_t = 10)]
    seconds: u64,
    /// Residents registered for the run (each books each session at most once).
    #[arg(long, default_value_t = 2000)]
    residents: usize,
    /// Sessions the bookings spread over.
    #[arg(long, default_value_t = 200)]
    sessions: usize,
    /// Database connections per service pool, and for the floor: the same for both, so
    /// the ratio compares the work, not the pool.
    #[arg(long, default_value_t = 20)]
    connections: u32,
}

/// Latencies of one kind of operation.
#[derive(Default)]
struct Sample {
    latencies: Vec<Duration>,
    errors: u64,
}

impl Sample {
    fn merge(samples: Vec<Sample>) -> Sample {
        let mut all = Sample::default();
        for s in samples {
            all.latencies.extend(s.latencies);
            all.errors += s.errors;
        }
        all.latencies.sort();
        all
    }

    fn quantile(&self, q: f64) -> f64 {
        if self.latencies.is_empty() {
            return 0.0;
        }
        let index = ((self.latencies.len() as f64 - 1.0) * q).round() as usize;
        self.latencies[index].as_secs_f64() * 1000.0
    }

    fn line(&self, what: &str, elapsed: Duration) -> (f64, String) {
        let rate = self.latencies.len() as f64 / elapsed.as_secs_f64();
        (
            rate,
            format!(
                "{what:<28} {:>8.0} /s  p50 {:>7.2} ms  p95 {:>7.2} ms  p99 {:>7.2} ms  ok {:>7}  errors {}",
                rate,
                self.quantile(0.50),
                self.quantile(0.95),
                self.quantile(0.99),
                self.latencies.len(),
                self.errors
            ),
        )
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let platform = TestPlatform::start_with(|serve| {
        serve.database.database_max_connections = args.connections;
        serve.body_limit = 1024 * 1024;
    })
    .await;
    let result = run(&platform, &args).await;
    platform.stop().await;
    result
}

async fn run(platform: &TestPlatform, args: &Args) -> anyhow::Result<()> {
    let centre = platform.bookable_centre("Asia/Shanghai").await;
    let token = platform.token(&[Role::CentreManager], &[centre]);
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(256)
        .build()?;
    let base = format!("{}/v1/centres/{centre}", platform.gateway);
    let post = |path: &str, body: Value| {
        http.post(format!("{base}{path}"))
            .bearer_auth(&token)
            .json(&body)
            .send()
    };

    println!(
        "preparing: {} residents, {} sessions",
        args.residents, args.sessions
    );
    let started = Instant::now();
    let next = AtomicU64::new(0);
    let registered: Vec<Vec<Uuid>> = join_all((0..32).map(|_| async {
        let mut mine = Vec::new();
        while (next.fetch_add(1, Ordering::Relaxed) as usize) < args.residents {
            let response = post(
                "/residents",
                json!({ "name": "测试居民", "gender": "female", "date_of_birth": "1970-01-01" }),
            )
            .await
            .expect("the gateway answers");
            let body: Value = response.json().await.expect("a resident");
            mine.push(
                body["id"]
                    .as_str()
                    .expect("resident id")
                    .parse()
                    .expect("uuid"),
            );
        }
        mine
    }))
    .await;
    let residents: Vec<Uuid> = registered.into_iter().flatten().collect();
    platform.wait_for_residents_in_bookings(&residents).await;
    let offering: Value = post(
        "/offerings",
        json!({ "category": "culture_education", "kind": "event", "name": "压测活动", "capacity": 10000 }),
    )
    .await?
    .json()
    .await?;
    let offering = offering["id"].as_str().expect("offering id").to_owned();
    let series: Value = post(
        "/series",
        json!({ "offering_id": offering, "weekdays": [1, 2, 3, 4, 5, 6, 7], "start_time": "09:00",
                "duration_minutes": 60, "starts_on": "2030-01-01", "count": args.sessions }),
    )
    .await?
    .json()
    .await?;
    let sessions: Vec<String> = series["sessions"]
        .as_array()
        .expect("sessions")
        .iter()
        .map(|s| s["id"].as_str().expect("session id").to_owned())
        .collect();
    println!("prepared in {:.1} s\n", started.elapsed().as_secs_f64());

    let bookings_pool = platform.pool("bookings").await;
    sqlx::query("CREATE TABLE floor_bookings (LIKE bookings INCLUDING ALL)")
        .execute(&bookings_pool)
        .await?;
    sqlx::query("CREATE TABLE floor_outbox (LIKE outbox INCLUDING ALL)")
        .execute(&bookings_pool)
        .await?;
    bookings_pool.close().await;

    let counter = Arc::new(AtomicU64::new(0));
    for &clients in &args.clients {
        let window = Duration::from_secs(args.seconds);
        let deadline = Instant::now() + window;
        let samples = join_all((0..clients).map(|_| {
            let (counter, residents, sessions, offering) =
                (counter.clone(), &residents, &sessions, &offering);
            let post = &post;
            async move {
                let mut sample = Sample::default();
                while Instant::now() < deadline {
                    let i = counter.fetch_add(1, Ordering::Relaxed) as usize;
                    // Neighbouring requests go to different sessions, as a district's
                    // desks would; each pair of resident and session comes up once.
                    let session = &sessions[i % sessions.len()];
                    let resident = residents[(i / sessions.len()) % residents.len()];
                    let began = Instant::now();
                    let response = post(
                        "/bookings",
                        json!({ "offering_id": offering, "resident_id": resident, "session_id": session }),
                    )
                    .await;
                    match response {
                        Ok(r) if r.status().is_success() => sample.latencies.push(began.elapsed()),
                        _ => sample.errors += 1,
                    }
                }
                sample
            }
        }))
        .await;
        let linli = Sample::merge(samples);
        let floor = floor(platform, clients, args.connections, window).await?;
        let (linli_rate, linli_line) = linli.line("bookings via gateway", window);
        let (floor_rate, floor_line) = floor.line("floor: INSERT+outbox tx", window);
        println!("clients {clients}, {} s each", args.seconds);
        println!("  {linli_line}");
        println!("  {floor_line}");
        println!(
            "  ratio linli/floor: {:.2}\n",
            linli_rate / floor_rate.max(1e-9)
        );
    }
    Ok(())
}

/// The same concurrency doing what a booking must do at the very least: one booking row
/// and one outbox row, committed together.
async fn floor(
    platform: &TestPlatform,
    clients: usize,
    connections: u32,
    window: Duration,
) -> anyhow::Result<Sample> {
    let mut options = platform.args.database.options_for("bookings")?;
    options = options.application_name("linli-load-floor");
    let pool = sqlx::postgres::PgPoolOptions::new()
        .max_connections(connections)
        .acquire_timeout(Duration::from_secs(30))
        .connect_with(options)
        .await?;
    let deadline = Instant::now() + window;
    let samples = join_all((0..clients).map(|_| {
        let pool = pool.clone();
        async move {
            let mut sample = Sample::default();
            let (centre, offering) = (Uuid::new_v4(), Uuid::new_v4());
            while Instant::now() < deadline {
                let began = Instant::now();
                let done: Result<(), sqlx::Error> = async {
                    let mut tx = pool.begin().await?;
                    let id = Uuid::new_v4();
                    sqlx::query(
                        "INSERT INTO floor_bookings (id, centre_id, offering_id, resident_id, status, arrival)
                         VALUES ($1, $2, $3, $4, 'confirmed', nextval('booking_arrival'))",
                    )
                    .bind(id)
                    .bind(centre)
                    .bind(offering)
                    .bind(Uuid::new_v4())
                    .execute(&mut *tx)
                    .await?;
                    sqlx::query(
                        "INSERT INTO floor_outbox (id, routing_key, message_type, centre_id, payload)
                         VALUES ($1, 'bookings.booking.confirmed', 'linli.events.v1.BookingConfirmed', $2, $3)",
                    )
                    .bind(Uuid::new_v4())
                    .bind(centre)
                    .bind(id.as_bytes().to_vec())
                    .execute(&mut *tx)
                    .await?;
                    tx.commit().await
                }
                .await;
                match done {
                    Ok(()) => sample.latencies.push(began.elapsed()),
                    Err(_) => sample.errors += 1,
                }
            }
            sample
        }
    }))
    .await;
    pool.close().await;
    Ok(Sample::merge(samples))
}
