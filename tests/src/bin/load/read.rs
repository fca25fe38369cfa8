//! `--mode read`: what a request costs the gateway (issue 25, item 7). The same clients
//! read a resident by id through the gateway (`GET /v1/centres/{c}/residents/{id}`: the
//! bearer token checked, the limits, the call to the registry in this process, one row
//! read and unsealed, the JSON written) and then the same process's bare `/healthz` on its
//! admin port (an axum route that answers "ok": the HTTP stack and the clients alone), and
//! prints the one's rate against the other's. Then the centre's first page of residents
//! (`GET …/residents?page_size=20`: the page and its residents' skills), with its own ratio.
//!
//! The process logs and traces as `linli serve` does (the JSON log lines at the default
//! filter, here to stderr, and every span through the OpenTelemetry layer, exported to
//! nowhere): those are part of each request's cost.

use std::time::{Duration, Instant};

use futures::future::join_all;
use linli_tests::TestPlatform;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::{Args, Sample, record};

/// Installs the tracing subscriber `linli serve` installs (`telemetry::init` with its
/// default filter), writing its log lines to stderr so stdout stays the report.
pub fn trace_as_serve_does() -> anyhow::Result<()> {
    use clap::Parser as _;
    #[derive(clap::Parser)]
    struct Defaults {
        #[command(flatten)]
        telemetry: linli_platform::telemetry::TelemetryArgs,
    }
    let defaults = Defaults::parse_from(["load"]);
    let provider = opentelemetry_sdk::trace::SdkTracerProvider::builder().build();
    linli_platform::telemetry::install_to(
        provider,
        &defaults.telemetry.log,
        true,
        tracing_subscriber::fmt::writer::BoxMakeWriter::new(std::io::stderr),
    )
}

/// Residents registered to be read; the reads go round them.
const READ_RESIDENTS: usize = 200;

pub async fn run(platform: &TestPlatform, args: &Args) -> anyhow::Result<()> {
    let centre = platform.bookable_centre("Asia/Shanghai").await;
    let token = platform.token(&[linli_platform::auth::Role::CentreManager], &[centre]);
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(256)
        .build()?;
    let base = format!("{}/v1/centres/{centre}", platform.gateway);
    let mut residents: Vec<Uuid> = Vec::new();
    for _ in 0..READ_RESIDENTS {
        let body: Value = http
            .post(format!("{base}/residents"))
            .bearer_auth(&token)
            .json(
                &json!({ "name": "测试居民", "gender": "female", "date_of_birth": "1950-01-01",
                           "skills": [{ "kind": "hobby", "name": "象棋" }],
                           "confirm_not_duplicate": true }),
            )
            .send()
            .await?
            .json()
            .await?;
        residents.push(body["id"].as_str().expect("resident id").parse()?);
    }
    let healthz = format!("http://{}/healthz", platform.admin);
    let first_page = format!("{base}/residents?page_size=20");
    let reads: Vec<String> = residents
        .iter()
        .map(|id| format!("{base}/residents/{id}"))
        .collect();

    for &clients in &args.clients {
        let window = Duration::from_secs(args.seconds);
        println!("clients {clients}, {} s each", args.seconds);
        // A warm-up of each, so both start with their connections open.
        drive(clients, Duration::from_secs(1), |_| {
            http.get(&healthz).send()
        })
        .await;
        drive(clients, Duration::from_secs(1), |n| {
            http.get(&reads[n % reads.len()]).bearer_auth(&token).send()
        })
        .await;
        let bare = drive(clients, window, |_| http.get(&healthz).send()).await;
        let read = drive(clients, window, |n| {
            http.get(&reads[n % reads.len()]).bearer_auth(&token).send()
        })
        .await;
        let list = drive(clients, window, |_| {
            http.get(&first_page).bearer_auth(&token).send()
        })
        .await;
        let (bare_rate, line) = bare.line("bare /healthz", window);
        println!("  {line}");
        let (read_rate, line) = read.line("a resident by id (gateway)", window);
        println!("  {line}");
        let (list_rate, line) = list.line("a first page of 20 (gateway)", window);
        println!("  {line}");
        println!(
            "  ratio resident read/healthz: {:.3}, first page/healthz: {:.3}\n",
            read_rate / bare_rate.max(1e-9),
            list_rate / bare_rate.max(1e-9)
        );
    }
    Ok(())
}

/// `clients` clients each sending `request(n)` one after another for `window`; a request
/// counts when its answer is 200 and its body has arrived.
async fn drive<F, R>(clients: usize, window: Duration, request: F) -> Sample
where
    F: Fn(usize) -> R,
    R: std::future::Future<Output = reqwest::Result<reqwest::Response>>,
{
    let deadline = Instant::now() + window;
    let request = &request;
    let samples = join_all((0..clients).map(|c| async move {
        let mut sample = Sample::default();
        let mut n = c;
        while Instant::now() < deadline {
            n += clients;
            let began = Instant::now();
            let ok = match request(n).await {
                Ok(response) => response.status().is_success() && response.bytes().await.is_ok(),
                Err(_) => false,
            };
            record(&mut sample, ok, began.elapsed());
        }
        sample
    }))
    .await;
    Sample::merge(samples)
}
