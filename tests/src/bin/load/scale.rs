//! `--mode scale`: the reads of a district at scale (issue 25), against a district
//! `linli seed district` made in the databases `--prefix` names (kept: this mode never
//! drops them). The platform starts on them with a bus of its own; it first delivers
//! whatever the seeding left in the outboxes (timed), then each read is driven by N
//! clients for `--seconds`, one read at a time, each request at a centre drawn in turn:
//!
//! - a resident by id; a centre's first page of residents and a deep one (20 pages on);
//! - name search by characters, by pinyin and by initials (a resident's own name and its
//!   keys); a skill search;
//! - a centre's KPIs, the district roll-up, a centre's trial balance;
//!
//! and then evaluation rebuilds its projections from its whole fact log (timed, facts/s).
//!
//! LINLI_DATABASE_PREFIX=scale25_ linli seed district --centres 100 --residents 1000
//! cargo run --release -p linli-tests --bin load -- --mode scale --prefix scale25_ --clients 16,64 --seconds 5

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use futures::future::join_all;
use linli_platform::auth::Role;
use linli_tests::TestPlatform;
use uuid::Uuid;

use crate::{Args, Sample, record};

/// A centre's path for its `n`th request.
type CentrePath = Box<dyn Fn(&Centre, usize) -> String + Send + Sync>;

/// A read the clients make, at the `n`th request.
struct Read {
    name: &'static str,
    path: Box<dyn Fn(usize) -> String + Send + Sync>,
}

/// One centre's things to ask for.
struct Centre {
    id: Uuid,
    residents: Vec<Uuid>,
    /// (name, full pinyin, initials) of some residents.
    names: Vec<(String, String, String)>,
    deep_token: Option<String>,
}

pub async fn run(platform: &TestPlatform, args: &Args) -> anyhow::Result<()> {
    let registry = platform.pool("registry").await;
    let bookings = platform.pool("bookings").await;
    let evaluation = platform.pool("evaluation").await;
    let ids: Vec<Uuid> = sqlx::query_scalar("SELECT id FROM centres ORDER BY code")
        .fetch_all(&registry)
        .await?;
    anyhow::ensure!(
        !ids.is_empty(),
        "no centres under the prefix {}: seed a district first",
        args.prefix
    );
    let (residents, households): (i64, i64) = sqlx::query_as(
        "SELECT (SELECT count(*) FROM residents), (SELECT count(*) FROM households)",
    )
    .fetch_one(&registry)
    .await?;
    let (booked, attended): (i64, i64) = sqlx::query_as(
        "SELECT (SELECT count(*) FROM bookings), (SELECT count(*) FROM seats WHERE state = 'attended')",
    )
    .fetch_one(&bookings)
    .await?;
    println!(
        "district: {} centres, {residents} residents, {households} households, {booked} bookings, {attended} attended",
        ids.len()
    );
    for service in linli_tests::SERVICES {
        let pool = platform.pool(service).await;
        let size: i64 = sqlx::query_scalar("SELECT pg_database_size(current_database())")
            .fetch_one(&pool)
            .await?;
        println!("  {service} database: {:.0} MB", size as f64 / 1e6);
        pool.close().await;
    }

    // What the seeding left in the outboxes reaches the other services first.
    let started = Instant::now();
    let deadline = started + Duration::from_secs(3600);
    let waiting = loop {
        let waiting = crate::unpublished(platform).await?;
        let recorded: i64 = sqlx::query_scalar("SELECT count(*) FROM attendances")
            .fetch_one(&evaluation)
            .await?;
        if waiting == 0 && recorded >= attended {
            break 0;
        }
        if Instant::now() > deadline {
            println!(
                "  gave up waiting: {waiting} events unpublished, {recorded} of {attended} attendances"
            );
            break waiting;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    };
    let facts: i64 = sqlx::query_scalar("SELECT count(*) FROM facts")
        .fetch_one(&evaluation)
        .await?;
    println!(
        "events delivered (the outboxes empty, every attendance in evaluation) in {:.1} s; evaluation's log holds {facts} facts{}",
        started.elapsed().as_secs_f64(),
        if waiting > 0 {
            " (not all delivered)"
        } else {
            ""
        }
    );
    sqlx::query("ANALYZE").execute(&evaluation).await?;

    let admin = platform.token(
        &[
            Role::DistrictAdmin,
            Role::CentreManager,
            Role::FinanceOfficer,
        ],
        &ids,
    );
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(256)
        .build()?;
    let gateway = platform.gateway.clone();

    // Some residents of each centre, their names and name keys, and a page 20 pages on.
    let mut centres = Vec::new();
    for id in &ids {
        let people: Vec<(Uuid, String)> = sqlx::query_as(
            "SELECT id, name FROM residents WHERE centre_id = $1 AND erased_at IS NULL
             ORDER BY md5(id::text) LIMIT 50",
        )
        .bind(id)
        .fetch_all(&registry)
        .await?;
        let mut names = Vec::new();
        for (resident, name) in people.iter().take(10) {
            let keys: Vec<String> = sqlx::query_scalar(
                "SELECT key FROM resident_name_keys WHERE resident_id = $1 ORDER BY length(key)",
            )
            .bind(resident)
            .fetch_all(&registry)
            .await?;
            if let (Some(initials), Some(full)) = (keys.first(), keys.last()) {
                names.push((name.clone(), full.clone(), initials.clone()));
            }
        }
        let mut token: Option<String> = None;
        for _ in 0..20 {
            let mut url = format!("{gateway}/v1/centres/{id}/residents?page_size=50");
            if let Some(t) = &token {
                url.push_str(&format!("&page_token={t}"));
            }
            let page: serde_json::Value = http
                .get(url)
                .bearer_auth(&admin)
                .send()
                .await?
                .json()
                .await?;
            match page["next_page_token"].as_str() {
                Some(next) if !next.is_empty() => token = Some(next.to_owned()),
                _ => break,
            }
        }
        centres.push(Centre {
            id: *id,
            residents: people.into_iter().map(|(id, _)| id).collect(),
            names,
            deep_token: token,
        });
    }
    registry.close().await;
    bookings.close().await;

    let centres = std::sync::Arc::new(centres);
    let year = chrono::Utc::now().format("%Y").to_string();
    let read = |name: &'static str, path: CentrePath| {
        let centres = centres.clone();
        Read {
            name,
            path: Box::new(move |n| {
                let centre = &centres[n % centres.len()];
                (path)(centre, n / centres.len())
            }),
        }
    };
    let name_of = |c: &Centre, n: usize| c.names[n % c.names.len().max(1)].clone();
    let reads = vec![
        read(
            "resident by id",
            Box::new(|c, n| {
                format!(
                    "/v1/centres/{}/residents/{}",
                    c.id,
                    c.residents[n % c.residents.len()]
                )
            }),
        ),
        read(
            "first page (50)",
            Box::new(|c, _| format!("/v1/centres/{}/residents?page_size=50", c.id)),
        ),
        read(
            "deep page (21st)",
            Box::new(|c, _| {
                format!(
                    "/v1/centres/{}/residents?page_size=50&page_token={}",
                    c.id,
                    c.deep_token.clone().unwrap_or_default()
                )
            }),
        ),
        read(
            "name by characters",
            Box::new(move |c, n| {
                format!(
                    "/v1/centres/{}/residents?page_size=50&q={}",
                    c.id,
                    name_of(c, n).0
                )
            }),
        ),
        read(
            "name by pinyin",
            Box::new(move |c, n| {
                format!(
                    "/v1/centres/{}/residents?page_size=50&q={}",
                    c.id,
                    name_of(c, n).1
                )
            }),
        ),
        read(
            "name by initials",
            Box::new(move |c, n| {
                format!(
                    "/v1/centres/{}/residents?page_size=50&q={}",
                    c.id,
                    name_of(c, n).2
                )
            }),
        ),
        read(
            "skill (医)",
            Box::new(|c, _| format!("/v1/centres/{}/residents?page_size=50&skill=医", c.id)),
        ),
        read(
            "centre KPIs (year)",
            Box::new({
                let year = year.clone();
                move |c, _| format!("/v1/centres/{}/kpis?period={year}", c.id)
            }),
        ),
        read(
            "district roll-up (year)",
            Box::new({
                let year = year.clone();
                move |_, _| format!("/v1/kpis?period={year}")
            }),
        ),
        read(
            "trial balance",
            Box::new(|c, _| format!("/v1/centres/{}/finance/trial-balance", c.id)),
        ),
    ];

    // One client, warm: the roll-up alone, as a person at the console would see it.
    let rollup = &reads[8];
    let mut alone = Sample::default();
    for n in 0..20 {
        let began = Instant::now();
        let ok = get(&http, &gateway, &admin, &(rollup.path)(n)).await;
        record(&mut alone, ok, began.elapsed());
    }
    alone.latencies.sort();
    println!(
        "district roll-up, one client, 20 in a row: p50 {:.1} ms, max {:.1} ms ({} errors)",
        alone.quantile(0.5),
        alone.quantile(1.0),
        alone.errors
    );

    for &clients in &args.clients {
        let window = Duration::from_secs(args.seconds);
        println!("\nclients {clients}, {} s each read", args.seconds);
        for read in &reads {
            let counter = AtomicU64::new(0);
            let deadline = Instant::now() + window;
            let samples = join_all((0..clients).map(|_| async {
                let mut sample = Sample::default();
                while Instant::now() < deadline {
                    let n = counter.fetch_add(1, Ordering::Relaxed) as usize;
                    let began = Instant::now();
                    let ok = get(&http, &gateway, &admin, &(read.path)(n)).await;
                    record(&mut sample, ok, began.elapsed());
                }
                sample
            }))
            .await;
            let (_, line) = Sample::merge(samples).line(read.name, window);
            println!("  {line}");
        }
    }

    if args.no_rebuild {
        evaluation.close().await;
        return Ok(());
    }
    // Evaluation's rebuild: every fact replayed into emptied projections.
    let mut client = linli_proto::evaluation::v1::evaluation_client::EvaluationClient::connect(
        format!("http://{}", platform.evaluation),
    )
    .await?;
    let mut request = linli_tests::bearer(
        &platform.admin_token(),
        linli_proto::evaluation::v1::RebuildProjectionsRequest {},
    );
    request.set_timeout(Duration::from_secs(3600));
    let started = Instant::now();
    let replayed = client.rebuild_projections(request).await;
    let seconds = started.elapsed().as_secs_f64();
    match replayed {
        Ok(reply) => {
            let replayed = reply.into_inner().facts_replayed;
            println!(
                "\nevaluation rebuild: {replayed} facts replayed in {seconds:.1} s, {:.0} facts/s",
                replayed as f64 / seconds
            );
        }
        Err(status) => println!("\nevaluation rebuild failed after {seconds:.1} s: {status}"),
    }
    evaluation.close().await;
    Ok(())
}

async fn get(http: &reqwest::Client, gateway: &str, token: &str, path: &str) -> bool {
    match http
        .get(format!("{gateway}{path}"))
        .bearer_auth(token)
        .send()
        .await
    {
        Ok(r) => r.status().is_success() && r.bytes().await.is_ok(),
        Err(_) => false,
    }
}
