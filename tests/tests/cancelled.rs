//! Requests abandoned mid-flight leave nothing behind. A client that goes away (a timeout,
//! an aborted task) drops the request's future wherever it is, inside `BEGIN` included;
//! with sqlx 0.9.0 that could return a connection to the pool still inside a transaction,
//! and the next borrower's one-statement booking was answered and never committed. The
//! pool now refuses to hand out such a connection (`db::pool_options`). In its own binary
//! because it installs the process-wide subscriber to read every log line.

use std::collections::HashSet;
use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use linli_platform::auth::Role;
use linli_tests::{TestPlatform, poll, unique_name};
use opentelemetry_sdk::trace::SdkTracerProvider;
use serde_json::{Value, json};
use sqlx::ConnectOptions as _;
use tracing_subscriber::fmt::writer::BoxMakeWriter;
use uuid::Uuid;

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .expect("not poisoned")
            .extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Captured {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().expect("not poisoned")).into_owned()
    }
}

static CAPTURED: std::sync::OnceLock<Captured> = std::sync::OnceLock::new();

fn capture_logs() -> Captured {
    CAPTURED
        .get_or_init(|| {
            let captured = Captured::default();
            let writer = captured.clone();
            linli_platform::telemetry::install_to(
                SdkTracerProvider::builder().build(),
                "info,sqlx=info",
                true,
                BoxMakeWriter::new(move || writer.clone()),
            )
            .expect("subscriber installs");
            captured
        })
        .clone()
}

/// A random number below `n`, from a fresh UUID's random bits.
fn below(n: u64) -> u64 {
    (Uuid::new_v4().as_u128() % u128::from(n)) as u64
}

/// Connections of this platform's databases that sit inside a transaction block with no
/// statement running.
async fn idle_in_transaction(platform: &TestPlatform) -> i64 {
    let pool = platform.pool("registry").await;
    let count: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM pg_stat_activity
         WHERE datname LIKE $1 AND state LIKE 'idle in transaction%'",
    )
    .bind(format!("{}%", platform.args.database.database_prefix))
    .fetch_one(&pool)
    .await
    .expect("pg_stat_activity readable");
    pool.close().await;
    count
}

#[tokio::test]
async fn bookings_dropped_mid_flight_leave_no_connection_in_a_transaction_and_every_answered_one_exists_after_a_restart()
 {
    let logs = capture_logs();
    let platform = TestPlatform::start().await;
    let centre = platform.bookable_centre("Asia/Shanghai").await;
    let token = platform.token(&[Role::CentreManager], &[centre]);
    let base = format!("/v1/centres/{centre}");

    let (status, offering) = platform
        .post_json(
            &token,
            &format!("{base}/offerings"),
            &json!({ "category": "culture_education", "kind": "event", "name": "社区读书会", "capacity": 1000 }),
            None,
        )
        .await;
    assert_eq!(status, 201, "{offering}");
    let offering = offering["id"].as_str().expect("offering id").to_owned();
    let (status, session) = platform
        .post_json(
            &token,
            &format!("{base}/sessions"),
            &json!({ "offering_id": offering, "starts_at": "2027-05-10T09:00:00+08:00", "ends_at": "2027-05-10T11:00:00+08:00" }),
            None,
        )
        .await;
    assert_eq!(status, 201, "{session}");
    let session = session["id"].as_str().expect("session id").to_owned();

    let (residents_path, adult) = (
        format!("{base}/residents"),
        json!({ "name": "张伟", "gender": "female", "date_of_birth": "1980-05-01", "confirm_not_duplicate": true }),
    );
    let residents: Vec<String> = futures::future::join_all(
        (0..240).map(|_| platform.post_json(&token, &residents_path, &adult, None)),
    )
    .await
    .into_iter()
    .map(|(status, body)| {
        assert_eq!(status, 201, "{body}");
        body["id"].as_str().expect("resident id").to_owned()
    })
    .collect();
    let ids: Vec<Uuid> = residents
        .iter()
        .map(|id| id.parse().expect("uuid"))
        .collect();
    platform.wait_for_residents_in_bookings(&ids).await;

    // Three rounds: each request is dropped by a client timeout of a few milliseconds,
    // dropped with its future at a random moment, aborted as a task at a random moment,
    // or left to finish, in random measure.
    let url = format!("{}{base}/bookings", platform.gateway);
    let mut answered: Vec<String> = Vec::new();
    let mut dropped = 0;
    for round in residents.chunks(80) {
        let requests = round.iter().map(|resident| {
            let body =
                json!({ "offering_id": offering, "resident_id": resident, "session_id": session });
            let mut request = platform.http.post(&url).bearer_auth(&token).json(&body);
            let mode = below(4);
            if mode == 0 {
                request = request.timeout(Duration::from_millis(1 + below(25)));
            }
            let send = async move {
                let response = request.send().await.ok()?;
                if response.status() != 201 {
                    return None;
                }
                let body: Value = response.json().await.ok()?;
                body["id"].as_str().map(str::to_owned)
            };
            let drop_after = Duration::from_millis(1 + below(30));
            async move {
                match mode {
                    1 => tokio::time::timeout(drop_after, send).await.ok().flatten(),
                    2 => {
                        let task = tokio::spawn(send);
                        let abort = task.abort_handle();
                        let killer = tokio::spawn(async move {
                            tokio::time::sleep(drop_after).await;
                            abort.abort();
                        });
                        let outcome = task.await.ok().flatten();
                        killer.abort();
                        outcome
                    }
                    _ => send.await,
                }
            }
        });
        for outcome in futures::future::join_all(requests).await {
            match outcome {
                Some(id) => answered.push(id),
                None => dropped += 1,
            }
        }
    }
    assert!(
        dropped > 20,
        "enough requests were dropped mid-flight to matter ({dropped})"
    );
    assert!(
        answered.len() > 20,
        "enough were answered to check ({})",
        answered.len()
    );

    // Bookings made after the drops borrow the connections the drops gave back.
    let bookings_path = format!("{base}/bookings");
    let after: Vec<_> =
        futures::future::join_all((0..40).map(|_| platform.get_json(&token, &bookings_path))).await;
    assert!(after.iter().all(|(status, _)| *status == 200));

    poll(
        "no connection of the platform's pools idle inside a transaction",
        Duration::from_secs(10),
        || async { (idle_in_transaction(&platform).await == 0).then_some(()) },
    )
    .await;

    let platform = platform.restart().await;
    let pool = platform.pool("bookings").await;
    let answered_ids: Vec<Uuid> = answered
        .iter()
        .map(|id| id.parse().expect("uuid"))
        .collect();
    let stored: Vec<Uuid> =
        sqlx::query_scalar("SELECT id FROM bookings WHERE id = ANY($1) AND status = 'confirmed'")
            .bind(&answered_ids)
            .fetch_all(&pool)
            .await
            .expect("bookings readable");
    pool.close().await;
    let stored: HashSet<Uuid> = stored.into_iter().collect();
    let missing: Vec<&Uuid> = answered_ids
        .iter()
        .filter(|id| !stored.contains(id))
        .collect();
    assert!(
        missing.is_empty(),
        "every booking answered 201 is committed; missing after the restart: {missing:?}"
    );
    let text = logs.text();
    for warning in [
        "there is no transaction in progress",
        "there is already a transaction in progress",
    ] {
        assert!(
            !text.contains(warning),
            "no connection was handed out inside a transaction: «{warning}» was logged"
        );
    }
    platform.stop().await;
}

/// The guard itself, on the regression it exists for: a connection whose server is inside
/// a transaction sqlx does not know of (a `BEGIN` it never counted) goes back to the pool;
/// the next borrower gets a connection outside any transaction, and its one-statement
/// write commits by itself.
#[tokio::test]
async fn a_connection_left_inside_a_transaction_is_never_handed_to_the_next_borrower() {
    let _ = capture_logs();
    let name = unique_name();
    let options = linli_tests::test_args(&name)
        .database
        .options_for("guard")
        .expect("options");
    linli_platform::db::ensure_database(&options)
        .await
        .expect("database created");
    let pool = linli_platform::db::pool_options(1)
        .connect_with(options.clone())
        .await
        .expect("pool connects");
    sqlx::raw_sql("CREATE TABLE written (n int)")
        .execute(&pool)
        .await
        .expect("table");
    let discarded = || {
        linli_platform::metrics::DISCARDED_CONNECTIONS
            .with_label_values(&["acquire"])
            .get()
    };
    let before = discarded();

    let mut leaked = pool.acquire().await.expect("a connection");
    // A BEGIN that sqlx does not count, as a cancelled begin() did in 0.9.0.
    sqlx::raw_sql("BEGIN")
        .execute(&mut *leaked)
        .await
        .expect("begin");
    drop(leaked);

    let mut next = pool.acquire().await.expect("the next connection");
    sqlx::raw_sql("INSERT INTO written VALUES (1)")
        .execute(&mut *next)
        .await
        .expect("insert");
    drop(next);
    assert!(
        discarded() > before,
        "the leaked connection was found and closed"
    );

    let mut other = options.connect().await.expect("a connection of its own");
    let committed: i64 = sqlx::query_scalar("SELECT count(*) FROM written")
        .fetch_one(&mut other)
        .await
        .expect("count");
    assert_eq!(
        committed, 1,
        "the next borrower's write committed by itself"
    );
    drop(other);
    pool.close().await;
    linli_platform::db::drop_database(&options)
        .await
        .expect("dropped");
}
