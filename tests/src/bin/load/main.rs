//! Linli's load benchmark. Starts the whole platform in this process on databases and
//! broker names of its own, prepares a centre with residents and sessions, then drives
//! booking creation through the gateway with N concurrent clients for a fixed time, and
//! measures the floor in the same run: the same concurrency doing bare INSERTs of a
//! booking row and an outbox row in one transaction straight into PostgreSQL.
//! It prints figures and never fails on a time.
//!
//! cargo run --release -p linli-tests --bin load -- --clients 16,64 --seconds 10
//!
//! `--mode residents` drives the residents' site instead: sign-ins with a one-time code
//! and home page reads (see `residents.rs`).
//!
//! cargo run --release -p linli-tests --bin load -- --mode residents --clients 64 --seconds 10
//!
//! `--mode scale` measures the reads of a district that `linli seed district` made in the
//! databases `--prefix` names, and evaluation's rebuild (see `scale.rs`).
//!
//! cargo run --release -p linli-tests --bin load -- --mode scale --prefix scale25_ --clients 16,64 --seconds 5
//!
//! `--mode read` reads a resident by id through the gateway and the same process's bare
//! `/healthz`, and prints the one's rate against the other's (see `read.rs`).
//!
//! cargo run --release -p linli-tests --bin load -- --mode read --clients 64 --seconds 10

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use clap::Parser;
use futures::future::join_all;
use linli_platform::auth::Role;
use linli_tests::TestPlatform;
use serde_json::{Value, json};
use uuid::Uuid;

mod read;
mod residents;
mod scale;

#[derive(Parser, Debug)]
#[command(about = "Booking throughput and latency through the gateway, against the database floor")]
struct Args {
    /// What to drive: `bookings` (the desk's bookings, the floor and the mix),
    /// `residents` (the residents' site: sign-ins and home page reads), `scale` (the
    /// reads of a seeded district, and evaluation's rebuild) or `read` (a resident by id
    /// through the gateway against the bare `/healthz`, logging and tracing as `linli
    /// serve` does).
    #[arg(long, default_value = "bookings", value_parser = ["bookings", "residents", "scale", "read"])]
    mode: String,
    /// `scale`: the database prefix the district was seeded under (LINLI_DATABASE_PREFIX of
    /// `linli seed district`); its databases are kept.
    #[arg(long, default_value = "scale25_")]
    prefix: String,
    /// `scale`: the key id the district's personal data was sealed under (`linli`'s
    /// default unless LINLI_DATA_KEY_ID said otherwise).
    #[arg(long, default_value = "local-1")]
    data_key_id: String,
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
    /// the ratio compares the work, not the pool. The services' own default unless given.
    #[arg(long, default_value_t = linli_platform::db::DEFAULT_MAX_CONNECTIONS)]
    connections: u32,
    /// `scale`: leave evaluation's projections as they are instead of rebuilding them at
    /// the end (a district written into them by `tests/bench/evaluation_district.sql` has
    /// no facts to rebuild them from).
    #[arg(long)]
    no_rebuild: bool,
    /// `scale`: evaluation's LINLI_KPI_MAX_AGE in seconds, how long a centre's counted
    /// KPI figures are answered from before they are counted again; the product's
    /// default unless given (0: every read counts afresh).
    #[arg(long, default_value_t = linli_evaluation::DEFAULT_KPI_MAX_AGE_SECS)]
    kpi_max_age: u64,
}

/// The allocator `linli` runs with (`src/main.rs`), so the figures are the product's.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

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

/// Linli and the clients run on runtimes (threads) of their own, as a server and its
/// clients would in processes of their own: the clients' tasks never queue among the
/// server's, and the two share the cores through the operating system.
fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    if args.mode == "read" {
        read::trace_as_serve_does()?;
    }
    let server = tokio::runtime::Builder::new_multi_thread()
        .thread_name("linli")
        .enable_all()
        .build()?;
    let clients = tokio::runtime::Builder::new_multi_thread()
        .thread_name("load")
        .enable_all()
        .build()?;
    // The loopback SMS provider stand-in, on the server's runtime (the residents' mode reads
    // the codes it was sent).
    let sms = server.block_on(linli_tests::sms::SmsProvider::start());
    let platform = server.block_on(TestPlatform::start_with(|serve| {
        serve.database.database_max_connections = args.connections;
        serve.body_limit = 1024 * 1024;
        serve.sms = sms.args();
        if args.mode == "scale" {
            serve.database.database_prefix = args.prefix.clone();
            serve.data.data_key_id = args.data_key_id.clone();
            serve.evaluation.kpi_max_age_secs = args.kpi_max_age;
        }
    }));
    if args.mode == "scale" {
        let result = clients.block_on(scale::run(&platform, &args));
        server.block_on(platform.stop_keeping_databases());
        return result;
    }
    let result = if args.mode == "residents" {
        clients.block_on(residents::run(&platform, &sms, &args))
    } else if args.mode == "read" {
        clients.block_on(read::run(&platform, &args))
    } else {
        clients.block_on(run(&platform, &args))
    };
    server.block_on(platform.stop());
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
                // Many people of one name and birthday: the desk confirms each is someone else.
                json!({ "name": "测试居民", "gender": "female", "date_of_birth": "1970-01-01", "confirm_not_duplicate": true }),
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
    // Sessions running now, so a booking can be checked in at once.
    let now = chrono::Utc::now();
    let mut sessions = Vec::new();
    for n in 0..args.sessions {
        let session: Value = post(
            "/sessions",
            json!({ "offering_id": offering,
                    "starts_at": (now - chrono::Duration::minutes(30 + n as i64 % 60)).to_rfc3339(),
                    "ends_at": (now + chrono::Duration::hours(6)).to_rfc3339() }),
        )
        .await?
        .json()
        .await?;
        sessions.push(session["id"].as_str().expect("session id").to_owned());
    }
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
    let work = Work {
        base: &base,
        token: &token,
        http: &http,
        offering: &offering,
        sessions: &sessions,
        residents: &residents,
        counter: &counter,
    };
    for &clients in &args.clients {
        let window = Duration::from_secs(args.seconds);
        println!("clients {clients}, {} s each", args.seconds);

        let alone = work.drive(clients, window, false).await;
        // The relay publishes what the bookings recorded before the floor or the mix runs,
        // so neither shares the cores with the bookings' leftover publishing, and the mix's
        // event lag is its own events', not a queue left from bookings alone.
        let (left, caught_up) = relayed(platform).await?;
        let floor = floor(platform, clients, args.connections, window).await?;
        let (booking_rate, line) = alone["book"].line("bookings alone", window);
        println!("  {line}");
        println!(
            "    their events left to publish when they stopped: {left}, all published {:.1} s later",
            caught_up.as_secs_f64()
        );
        let (floor_rate, line) = floor.line("floor: INSERT+outbox tx", window);
        println!("  {line}");
        println!(
            "  ratio bookings/floor: {:.2}",
            booking_rate / floor_rate.max(1e-9)
        );

        let mix_started = chrono::Utc::now();
        let relay_before = RelayFigures::now("bookings");
        let (finished, checked_in) = tokio::sync::oneshot::channel();
        let (mix, visible) = tokio::join!(
            async {
                let mix = work.drive(clients, window, true).await;
                let _ = finished.send(mix.get("check-in").map_or(0, |s| s.latencies.len()));
                mix
            },
            watch_attendances(platform, mix_started, checked_in)
        );
        let visible = visible?;
        println!("  the mix (60% book, 30% residents, 10% KPIs; every 4th booking checked in):");
        let mut total = 0.0;
        for (op, sample) in &mix {
            let (rate, line) = sample.line(&format!("  {op}"), window);
            total += rate;
            println!("  {line}");
        }
        println!("  {:<28} {total:>8.0} /s", "  all operations");
        println!(
            "  event lag, check-in recorded to its attendance visible in evaluation: p50 {:.1} ms, p99 {:.1} ms over {} check-ins ({} never seen)",
            visible.quantile(0.50),
            visible.quantile(0.99),
            visible.latencies.len(),
            visible.errors
        );
        let (lag, relayed, slowest) = event_lag(platform, mix_started).await?;
        println!(
            "    by the database's clock, recorded to evaluation's transaction beginning: p50 {:.1} ms, p99 {:.1} ms over {} events",
            lag.quantile(0.50),
            lag.quantile(0.99),
            lag.latencies.len()
        );
        println!(
            "    of which recorded to the relay taking it: p50 {:.1} ms, p99 {:.1} ms",
            relayed.quantile(0.50),
            relayed.quantile(0.99)
        );
        let relay = RelayFigures::now("bookings").since(&relay_before);
        println!(
            "    bookings' relay: {} passes with events, {:.1} events a pass, {:.1} ms a pass on average, {:.1} ms of it publishing until confirmed; over 100 ms: {} passes, {} of them publishing",
            relay.passes,
            relay.events as f64 / relay.passes.max(1) as f64,
            relay.pass_seconds * 1000.0 / relay.passes.max(1) as f64,
            relay.confirm_seconds * 1000.0 / relay.passes.max(1) as f64,
            relay.slow_passes,
            relay.slow_confirms,
        );
        println!(
            "    slowest check-in events (recorded, after the mix began: to the relay's next pass, to evaluation):"
        );
        for line in slowest {
            println!("      {line}");
        }
        println!();
    }
    Ok(())
}

/// A service's relay so far, from the process's metrics.
struct RelayFigures {
    passes: u64,
    events: u64,
    pass_seconds: f64,
    confirm_seconds: f64,
    /// Passes, and publishing until confirmed, that took longer than 100 ms.
    slow_passes: u64,
    slow_confirms: u64,
}

impl RelayFigures {
    fn now(service: &str) -> Self {
        use linli_platform::metrics::{EVENTS_PUBLISHED, RELAY_PASS};
        let pass = RELAY_PASS.with_label_values(&[service, "pass"]);
        let confirms = RELAY_PASS.with_label_values(&[service, "confirms"]);
        RelayFigures {
            passes: pass.get_sample_count(),
            events: EVENTS_PUBLISHED
                .with_label_values(&[service, "confirmed"])
                .get(),
            pass_seconds: pass.get_sample_sum(),
            confirm_seconds: confirms.get_sample_sum(),
            slow_passes: over(&pass, 0.1),
            slow_confirms: over(&confirms, 0.1),
        }
    }

    fn since(self, before: &RelayFigures) -> Self {
        RelayFigures {
            passes: self.passes - before.passes,
            events: self.events - before.events,
            pass_seconds: self.pass_seconds - before.pass_seconds,
            confirm_seconds: self.confirm_seconds - before.confirm_seconds,
            slow_passes: self.slow_passes - before.slow_passes,
            slow_confirms: self.slow_confirms - before.slow_confirms,
        }
    }
}

/// How many of a histogram's observations were above `seconds` (one of its bucket bounds).
fn over(histogram: &prometheus::Histogram, seconds: f64) -> u64 {
    use prometheus::core::Metric;
    let metric = histogram.metric();
    let buckets = metric.get_histogram();
    let within = buckets
        .get_bucket()
        .iter()
        .find(|bucket| bucket.upper_bound() >= seconds)
        .map_or(0, |bucket| bucket.cumulative_count());
    buckets.get_sample_count() - within
}

/// What the clients work on.
struct Work<'a> {
    base: &'a str,
    token: &'a str,
    http: &'a reqwest::Client,
    offering: &'a str,
    sessions: &'a [String],
    residents: &'a [Uuid],
    counter: &'a AtomicU64,
}

impl Work<'_> {
    /// `clients` clients for `window`: bookings only, or the mix.
    async fn drive(
        &self,
        clients: usize,
        window: Duration,
        mix: bool,
    ) -> std::collections::BTreeMap<&'static str, Sample> {
        let deadline = Instant::now() + window;
        let per_client = join_all((0..clients).map(|c| async move {
            let mut samples: std::collections::BTreeMap<&'static str, Sample> = Default::default();
            let mut draws = c;
            let mut booked = 0;
            while Instant::now() < deadline {
                draws += 1;
                let op = if !mix { "book" } else {
                    match draws % 10 { 0..=5 => "book", 6 | 7 => "resident", 8 => "residents list", _ => "kpis" }
                };
                let began = Instant::now();
                let ok = match op {
                    "book" => {
                        let i = self.counter.fetch_add(1, Ordering::Relaxed) as usize;
                        // Neighbouring requests go to different sessions, as a district's
                        // desks would; each pair of resident and session comes up once.
                        let session = &self.sessions[i % self.sessions.len()];
                        let resident = self.residents[(i / self.sessions.len()) % self.residents.len()];
                        let response = self.post("/bookings", json!({ "offering_id": self.offering, "resident_id": resident, "session_id": session })).await;
                        match response {
                            Some(body) => {
                                let elapsed = began.elapsed();
                                booked += 1;
                                if mix && booked % 4 == 0 {
                                    let id = body["id"].as_str().unwrap_or_default().to_owned();
                                    let checked_at = Instant::now();
                                    let done = self.post(&format!("/bookings/{id}/check-in"), json!({})).await.is_some();
                                    record(samples.entry("check-in").or_default(), done, checked_at.elapsed());
                                }
                                record(samples.entry(op).or_default(), true, elapsed);
                                continue;
                            }
                            None => false,
                        }
                    }
                    "resident" => {
                        let resident = self.residents[draws % self.residents.len()];
                        self.get(&format!("/residents/{resident}")).await
                    }
                    "residents list" => self.get("/residents?page_size=50").await,
                    _ => self.get("/kpis").await,
                };
                record(samples.entry(op).or_default(), ok, began.elapsed());
            }
            samples
        }))
        .await;
        let mut merged: std::collections::BTreeMap<&'static str, Vec<Sample>> = Default::default();
        for samples in per_client {
            for (op, sample) in samples {
                merged.entry(op).or_default().push(sample);
            }
        }
        merged
            .into_iter()
            .map(|(op, samples)| (op, Sample::merge(samples)))
            .collect()
    }

    async fn post(&self, path: &str, body: Value) -> Option<Value> {
        let response = self
            .http
            .post(format!("{}{path}", self.base))
            .bearer_auth(self.token)
            .json(&body)
            .send()
            .await
            .ok()?;
        if !response.status().is_success() {
            return None;
        }
        response.json().await.ok()
    }

    async fn get(&self, path: &str) -> bool {
        match self
            .http
            .get(format!("{}{path}", self.base))
            .bearer_auth(self.token)
            .send()
            .await
        {
            Ok(r) => r.status().is_success() && r.bytes().await.is_ok(),
            Err(_) => false,
        }
    }
}

fn record(sample: &mut Sample, ok: bool, elapsed: Duration) {
    if ok {
        sample.latencies.push(elapsed);
    } else {
        sample.errors += 1;
    }
}

/// Polls evaluation's fact log every 10 ms for new check-in facts (each is logged in the
/// transaction that adds its attendance, the projection the KPIs count) and times each
/// from its event's recording (the outbox row's `occurred_at`, written just before the
/// check-in commits, carried with the event) to the first poll that saw it: an upper
/// bound, by up to the interval. It reads on from the last `seq` seen: evaluation's one
/// consumer commits its transactions one after another, so the log grows in `seq` order.
/// Once `checked_in` says how many check-ins were answered, it waits for all of them, or a
/// minute.
async fn watch_attendances(
    platform: &TestPlatform,
    since: chrono::DateTime<chrono::Utc>,
    mut checked_in: tokio::sync::oneshot::Receiver<usize>,
) -> anyhow::Result<Sample> {
    let evaluation = platform.pool("evaluation").await;
    let mut last: i64 = sqlx::query_scalar("SELECT COALESCE(max(seq), 0) FROM facts")
        .fetch_one(&evaluation)
        .await?;
    let mut sample = Sample::default();
    let mut expected: Option<(usize, Instant)> = None;
    let missing = loop {
        let rows: Vec<(i64, chrono::DateTime<chrono::Utc>)> = sqlx::query_as(
            "SELECT seq, occurred_at FROM facts
             WHERE seq > $1 AND routing_key = 'bookings.booking.attended' ORDER BY seq",
        )
        .bind(last)
        .fetch_all(&evaluation)
        .await?;
        let at = chrono::Utc::now();
        for (seq, recorded_at) in rows {
            last = seq;
            if recorded_at >= since {
                sample
                    .latencies
                    .push((at - recorded_at).to_std().unwrap_or_default());
            }
        }
        if expected.is_none()
            && let Ok(answered) = checked_in.try_recv()
        {
            expected = Some((answered, Instant::now() + Duration::from_secs(60)));
        }
        if let Some((answered, deadline)) = expected
            && (sample.latencies.len() >= answered || Instant::now() > deadline)
        {
            break answered.saturating_sub(sample.latencies.len());
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    };
    evaluation.close().await;
    sample.errors = missing as u64;
    sample.latencies.sort();
    Ok(sample)
}

/// Events recorded and not yet published, in every service's outbox.
async fn unpublished(platform: &TestPlatform) -> anyhow::Result<i64> {
    let mut waiting = 0;
    for service in linli_tests::SERVICES {
        let pool = platform.pool(service).await;
        let left: i64 =
            sqlx::query_scalar("SELECT count(*) FROM outbox WHERE published_at IS NULL")
                .fetch_one(&pool)
                .await?;
        pool.close().await;
        waiting += left;
    }
    Ok(waiting)
}

/// Waits until every outbox is published (at most ten minutes): how many events were
/// waiting at first, and how long they took.
async fn relayed(platform: &TestPlatform) -> anyhow::Result<(i64, Duration)> {
    let started = Instant::now();
    let first = unpublished(platform).await?;
    let mut left = first;
    while left > 0 {
        anyhow::ensure!(
            started.elapsed() < Duration::from_secs(600),
            "{left} events still unpublished after ten minutes"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
        left = unpublished(platform).await?;
    }
    Ok((first, started.elapsed()))
}

/// From each check-in's commit (its outbox row) to evaluation applying it (its fact log
/// row), on the database's one clock; and the first part of that, to the relay taking it
/// (the outbox row's mark, stamped when the relay's pass began).
async fn event_lag(
    platform: &TestPlatform,
    since: chrono::DateTime<chrono::Utc>,
) -> anyhow::Result<(Sample, Sample, Vec<String>)> {
    let bookings = platform.pool("bookings").await;
    let evaluation = platform.pool("evaluation").await;
    let committed: Vec<(Uuid, chrono::DateTime<chrono::Utc>, Option<chrono::DateTime<chrono::Utc>>)> = sqlx::query_as(
        "SELECT id, occurred_at, published_at FROM outbox WHERE routing_key = 'bookings.booking.attended' AND occurred_at >= $1",
    )
    .bind(since)
    .fetch_all(&bookings)
    .await?;
    let ids: Vec<Uuid> = committed.iter().map(|(id, _, _)| *id).collect();
    // Every one arrives; wait for the last before measuring.
    let deadline = Instant::now() + Duration::from_secs(60);
    let applied: Vec<(Uuid, chrono::DateTime<chrono::Utc>)> = loop {
        let applied: Vec<(Uuid, chrono::DateTime<chrono::Utc>)> =
            sqlx::query_as("SELECT event_id, received_at FROM facts WHERE event_id = ANY($1)")
                .bind(&ids)
                .fetch_all(&evaluation)
                .await?;
        if applied.len() == ids.len() || Instant::now() > deadline {
            break applied;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    bookings.close().await;
    evaluation.close().await;
    let mut lag = Sample::default();
    let applied: std::collections::HashMap<Uuid, chrono::DateTime<chrono::Utc>> =
        applied.into_iter().collect();
    for (id, committed_at, _) in &committed {
        if let Some(at) = applied.get(id) {
            lag.latencies
                .push((*at - *committed_at).to_std().unwrap_or_default());
        }
    }
    lag.errors = (ids.len() - applied.len()) as u64;
    lag.latencies.sort();
    let mut relayed = Sample {
        latencies: committed
            .iter()
            .filter_map(|(_, committed_at, published_at)| {
                Some(
                    ((*published_at)? - *committed_at)
                        .to_std()
                        .unwrap_or_default(),
                )
            })
            .collect(),
        errors: 0,
    };
    relayed.latencies.sort();
    // Where the tail sits in the run, and in which part of the way.
    let millis = |d: chrono::Duration| d.num_microseconds().unwrap_or_default() as f64 / 1000.0;
    let mut timelines: Vec<(f64, String)> = committed
        .iter()
        .filter_map(|(id, committed_at, published_at)| {
            let applied_at = applied.get(id)?;
            Some((
                millis(*applied_at - *committed_at),
                format!(
                    "+{:.2} s: relay +{:.0} ms, evaluation +{:.0} ms",
                    millis(*committed_at - since) / 1000.0,
                    published_at.map_or(f64::NAN, |at| millis(at - *committed_at)),
                    millis(*applied_at - *committed_at)
                ),
            ))
        })
        .collect();
    timelines.sort_by(|a, b| b.0.total_cmp(&a.0));
    let slowest = timelines
        .into_iter()
        .take(8)
        .map(|(_, line)| line)
        .collect();
    Ok((lag, relayed, slowest))
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
