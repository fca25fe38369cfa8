//! The finance service against the real PostgreSQL and RabbitMQ: the database itself keeps
//! the ledger balanced, immutable and out of closed periods; receipts run without gaps
//! under concurrency; bookings' fee events count once however often they arrive; a seeded
//! year balances and its transparency report equals the ledger; money never meets a
//! floating-point type; and an auditor reads but never writes.

use std::time::Duration;

use chrono::{NaiveDate, Utc};
use linli_finance::domain::Month;
use linli_platform::auth::Role;
use linli_platform::bus::enqueue;
use linli_platform::metrics::EVENTS_CONSUMED;
use linli_proto::events::v1::{FeeCharged, FeeRefunded, ResidentErased};
use linli_proto::finance::v1 as pb;
use linli_proto::finance::v1::finance_client::FinanceClient;
use linli_tests::{TestPlatform, poll};
use reqwest::StatusCode;
use serde_json::{Value, json};
use sqlx::PgPool;
use tonic::transport::Channel;
use uuid::Uuid;

const DEADLINE: Duration = Duration::from_secs(30);

async fn client(platform: &TestPlatform) -> FinanceClient<Channel> {
    FinanceClient::connect(format!("http://{}", platform.finance))
        .await
        .expect("finance answers")
}

/// `message` with the bearer token.
fn call<T>(token: &str, message: T) -> tonic::Request<T> {
    let mut request = tonic::Request::new(message);
    request.metadata_mut().insert(
        "authorization",
        format!("Bearer {token}").parse().expect("ascii"),
    );
    request
}

fn line(account: &str, debit: i64, credit: i64) -> pb::Line {
    pb::Line {
        account_code: account.into(),
        debit_minor: debit,
        credit_minor: credit,
    }
}

async fn post_entry(
    finance: &mut FinanceClient<Channel>,
    token: &str,
    centre: Uuid,
    date: &str,
    lines: Vec<pb::Line>,
) -> Result<pb::JournalEntry, tonic::Status> {
    finance
        .post_entry(call(
            token,
            pb::PostEntryRequest {
                centre_id: centre.to_string(),
                entry_date: date.into(),
                description: "test entry".into(),
                currency: String::new(),
                lines,
            },
        ))
        .await
        .map(|r| r.into_inner())
}

/// (account, balance) for every account, as the service reports it.
async fn balances(
    finance: &mut FinanceClient<Channel>,
    token: &str,
    centre: Uuid,
) -> Vec<(String, i64)> {
    let trial = finance
        .get_trial_balance(call(
            token,
            pb::GetTrialBalanceRequest {
                centre_id: centre.to_string(),
                as_of: String::new(),
            },
        ))
        .await
        .expect("trial balance")
        .into_inner();
    trial
        .rows
        .into_iter()
        .map(|r| (r.account_code, r.balance_minor))
        .collect()
}

fn db_code(error: &sqlx::Error) -> Option<String> {
    match error {
        sqlx::Error::Database(db) => db.code().map(|c| c.into_owned()),
        _ => None,
    }
}

/// Inserts an entry and its lines with plain SQL, as someone bypassing the service would.
async fn raw_entry(
    pool: &PgPool,
    centre: Uuid,
    date: NaiveDate,
    lines: &[(&str, i64, i64)],
) -> Result<(), sqlx::Error> {
    let id = Uuid::new_v4();
    let mut tx = pool.begin().await?;
    sqlx::query(
        "INSERT INTO journal_entries (id, centre_id, entry_date, description, source, currency, posted_by)
         VALUES ($1, $2, $3, 'raw', 'manual', 'CNY', 'intruder')",
    )
    .bind(id)
    .bind(centre)
    .bind(date)
    .execute(&mut *tx)
    .await?;
    for (n, (account, debit, credit)) in lines.iter().enumerate() {
        sqlx::query(
            "INSERT INTO journal_lines (entry_id, centre_id, line_no, account_code, debit_minor, credit_minor)
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(id)
        .bind(centre)
        .bind(n as i32 + 1)
        .bind(account)
        .bind(debit)
        .bind(credit)
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await
}

fn date(text: &str) -> NaiveDate {
    NaiveDate::parse_from_str(text, "%Y-%m-%d").expect("a date")
}

#[tokio::test]
async fn an_unbalanced_entry_is_refused_by_the_database_even_through_raw_sql() {
    let platform = TestPlatform::start().await;
    let centre = platform.create_centre("fin-raw").await;
    let officer = platform.token(&[Role::FinanceOfficer], &[centre]);
    let mut finance = client(&platform).await;

    // The service refuses it first, naming the lines.
    let refused = post_entry(
        &mut finance,
        &officer,
        centre,
        "2025-03-01",
        vec![line("1002", 1000, 0), line("4003", 0, 999)],
    )
    .await
    .expect_err("unbalanced");
    assert_eq!(refused.code(), tonic::Code::InvalidArgument);
    let good = post_entry(
        &mut finance,
        &officer,
        centre,
        "2025-03-01",
        vec![line("1002", 1000, 0), line("4003", 0, 1000)],
    )
    .await
    .expect("a balanced entry posts");

    let pool = platform.pool("finance").await;
    let day = date("2025-03-02");
    for lines in [
        vec![("1002", 1000, 0), ("4003", 0, 999)],
        vec![("1002", 1000, 0)],
        vec![],
    ] {
        let error = raw_entry(&pool, centre, day, &lines)
            .await
            .expect_err("the database refuses it");
        assert_eq!(
            db_code(&error).as_deref(),
            Some("LN001"),
            "{lines:?}: {error}"
        );
    }
    // Balanced raw SQL passes: the database checks balance, not who wrote it.
    raw_entry(&pool, centre, day, &[("1002", 5, 0), ("4003", 0, 5)])
        .await
        .expect("balanced");

    // Nothing posted can change: not a line, not an entry, not by adding a balanced pair.
    let entry = Uuid::parse_str(&good.id).expect("uuid");
    for statement in [
        "UPDATE journal_lines SET debit_minor = 1 WHERE entry_id = $1 AND debit_minor > 0",
        "DELETE FROM journal_lines WHERE entry_id = $1",
        "UPDATE journal_entries SET description = 'edited' WHERE id = $1",
        "DELETE FROM journal_entries WHERE id = $1",
    ] {
        let error = sqlx::query(statement)
            .bind(entry)
            .execute(&pool)
            .await
            .expect_err(statement);
        assert_eq!(db_code(&error).as_deref(), Some("LN002"), "{statement}");
    }
    let error = sqlx::query(
        "INSERT INTO journal_lines (entry_id, centre_id, line_no, account_code, debit_minor, credit_minor)
         VALUES ($1, $2, 3, '1001', 7, 0), ($1, $2, 4, '4003', 0, 7)",
    )
    .bind(entry)
    .bind(centre)
    .execute(&pool)
    .await
    .expect_err("lines cannot join an entry later");
    assert_eq!(db_code(&error).as_deref(), Some("LN002"));

    // The audit trail recorded the posting, and no one can edit it.
    let (actor, trace): (String, Option<String>) = sqlx::query_as(
        "SELECT actor, trace_id FROM audit_trail WHERE action = 'entry.posted' AND subject = $1",
    )
    .bind(&good.id)
    .fetch_one(&pool)
    .await
    .expect("an audit record");
    assert_eq!(actor, "test-user");
    let _ = trace;
    for statement in [
        "UPDATE audit_trail SET actor = 'someone else'",
        "DELETE FROM audit_trail",
        "TRUNCATE audit_trail",
    ] {
        let error = sqlx::query(statement)
            .execute(&pool)
            .await
            .expect_err(statement);
        assert_eq!(db_code(&error).as_deref(), Some("LN004"), "{statement}");
    }
    pool.close().await;
    platform.stop().await;
}

#[tokio::test]
async fn posting_into_a_closed_period_is_refused_and_a_reversal_restores_balances_exactly() {
    let platform = TestPlatform::start().await;
    let centre = platform.create_centre("fin-close").await;
    let officer = platform.token(&[Role::FinanceOfficer], &[centre]);
    let mut finance = client(&platform).await;

    post_entry(
        &mut finance,
        &officer,
        centre,
        "2025-01-05",
        vec![line("1002", 500_000, 0), line("4001", 0, 500_000)],
    )
    .await
    .expect("appropriation");
    let before = balances(&mut finance, &officer, centre).await;
    let wrong = post_entry(
        &mut finance,
        &officer,
        centre,
        "2025-01-20",
        vec![line("5002", 12_345, 0), line("1002", 0, 12_345)],
    )
    .await
    .expect("an expense booked to the wrong month");
    assert_ne!(balances(&mut finance, &officer, centre).await, before);

    let closed = finance
        .close_period(call(
            &officer,
            pb::ClosePeriodRequest {
                centre_id: centre.to_string(),
                period: "2025-01".into(),
            },
        ))
        .await
        .expect("January closes")
        .into_inner();
    assert!(closed.closed);
    let again = finance
        .close_period(call(
            &officer,
            pb::ClosePeriodRequest {
                centre_id: centre.to_string(),
                period: "2025-01".into(),
            },
        ))
        .await
        .expect_err("closed once");
    assert_eq!(again.code(), tonic::Code::FailedPrecondition);

    // Into the closed month: refused by the service, and by the database underneath it.
    let refused = post_entry(
        &mut finance,
        &officer,
        centre,
        "2025-01-31",
        vec![line("5002", 1, 0), line("1002", 0, 1)],
    )
    .await
    .expect_err("January is closed");
    assert_eq!(
        refused.code(),
        tonic::Code::FailedPrecondition,
        "{refused:?}"
    );
    let pool = platform.pool("finance").await;
    let error = raw_entry(
        &pool,
        centre,
        date("2025-01-31"),
        &[("5002", 1, 0), ("1002", 0, 1)],
    )
    .await
    .expect_err("the database refuses it");
    assert_eq!(db_code(&error).as_deref(), Some("LN003"));
    let error =
        sqlx::query("UPDATE periods SET closed_at = NULL, closed_by = NULL WHERE centre_id = $1")
            .bind(centre)
            .execute(&pool)
            .await
            .expect_err("a closed period stays closed");
    assert_eq!(db_code(&error).as_deref(), Some("LN003"));

    // The correction goes into an open period and takes back exactly what was booked.
    let reversal = finance
        .reverse_entry(call(
            &officer,
            pb::ReverseEntryRequest {
                centre_id: centre.to_string(),
                entry_id: wrong.id.clone(),
                reason: "booked to the wrong month".into(),
                entry_date: "2025-02-03".into(),
            },
        ))
        .await
        .expect("reversed")
        .into_inner();
    assert_eq!(reversal.reverses, wrong.id);
    assert_eq!(balances(&mut finance, &officer, centre).await, before);
    let original = finance
        .get_entry(call(
            &officer,
            pb::GetEntryRequest {
                centre_id: centre.to_string(),
                entry_id: wrong.id.clone(),
            },
        ))
        .await
        .expect("the original is still there")
        .into_inner();
    assert_eq!(original.reversed_by, reversal.id);
    assert_eq!(original.lines.len(), 2, "the original is untouched");
    let twice = finance
        .reverse_entry(call(
            &officer,
            pb::ReverseEntryRequest {
                centre_id: centre.to_string(),
                entry_id: wrong.id.clone(),
                reason: "again".into(),
                entry_date: "2025-02-03".into(),
            },
        ))
        .await
        .expect_err("an entry is reversed once");
    assert_eq!(twice.code(), tonic::Code::FailedPrecondition);

    // finance.period.closed went out through the outbox.
    let closed_events: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM outbox WHERE routing_key = 'finance.period.closed'",
    )
    .fetch_one(&pool)
    .await
    .expect("outbox");
    assert_eq!(closed_events, 1);
    pool.close().await;
    platform.stop().await;
}

#[tokio::test]
async fn months_close_in_order_after_the_ledgers_first_month_and_an_early_close_names_the_open_month()
 {
    let platform = TestPlatform::start().await;
    let centre = platform.create_centre("fin-order").await;
    let officer = platform.token(&[Role::FinanceOfficer], &[centre]);
    let mut finance = client(&platform).await;
    // Entries in January and March 2025; nothing posted in February.
    for date in ["2025-01-10", "2025-03-10"] {
        post_entry(
            &mut finance,
            &officer,
            centre,
            date,
            vec![line("1002", 1_000, 0), line("4001", 0, 1_000)],
        )
        .await
        .expect("posted");
    }
    let close = |period: &str| {
        let (platform, officer) = (&platform, &officer);
        let path = format!("/v1/centres/{centre}/finance/periods/{period}/close");
        async move { platform.post_json(officer, &path, &json!({}), None).await }
    };

    // March cannot close before January, the ledger's first month, nor before February.
    let (status, problem) = close("2025-03").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
    assert_eq!(
        problem["detail"],
        "2025-01 must be closed before 2025-03: months close in order"
    );
    let (status, _) = close("2025-02").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    // January is the first month of the ledger: nothing before it to wait for.
    let (status, closed) = close("2025-01").await;
    assert_eq!(status, StatusCode::OK, "{closed}");
    let (status, problem) = close("2025-03").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        problem["detail"],
        "2025-02 must be closed before 2025-03: months close in order"
    );
    // February, though empty, closes in its turn; then March.
    for period in ["2025-02", "2025-03"] {
        let (status, closed) = close(period).await;
        assert_eq!(status, StatusCode::OK, "{period}: {closed}");
    }
    let (_, periods) = platform
        .get_json(&officer, &format!("/v1/centres/{centre}/finance/periods"))
        .await;
    let closed: Vec<(&str, bool)> = periods["periods"]
        .as_array()
        .expect("periods")
        .iter()
        .map(|p| {
            (
                p["period"].as_str().expect("period"),
                p["closed"].as_bool().expect("closed"),
            )
        })
        .collect();
    assert_eq!(
        closed,
        [("2025-01", true), ("2025-02", true), ("2025-03", true)]
    );

    // A centre with no ledger yet may close any month first: it becomes the first.
    let fresh = platform.create_centre("fin-order-new").await;
    let fresh_officer = platform.token(&[Role::FinanceOfficer], &[fresh]);
    let (status, body) = platform
        .post_json(
            &fresh_officer,
            &format!("/v1/centres/{fresh}/finance/periods/2025-06/close"),
            &json!({}),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    platform.stop().await;
}

#[tokio::test]
async fn a_thousand_concurrent_donations_get_receipts_1_to_1000_without_gap_or_duplicate() {
    let platform =
        TestPlatform::start_with(|args| args.database.database_max_connections = 16).await;
    let centre = platform.create_centre("fin-receipts").await;
    let officer = platform.token(&[Role::FinanceOfficer], &[centre]);
    let finance = client(&platform).await;

    let donations = (0..1000).map(|n| {
        let mut finance = finance.clone();
        let officer = officer.clone();
        async move {
            let anonymous = n % 4 == 0;
            finance
                .record_donation(call(
                    &officer,
                    pb::RecordDonationRequest {
                        centre_id: centre.to_string(),
                        anonymous,
                        donor_name: if anonymous {
                            String::new()
                        } else {
                            format!("捐赠人{n}")
                        },
                        amount_minor: 100 + n,
                        received_on: "2025-06-15".into(),
                        ..Default::default()
                    },
                ))
                .await
                .map(|r| r.into_inner())
        }
    });
    let results = futures::future::join_all(donations).await;
    let mut numbers: Vec<i32> = results
        .into_iter()
        .map(|r| r.expect("every donation is recorded").receipt_number)
        .collect();
    numbers.sort_unstable();
    assert_eq!(numbers, (1..=1000).collect::<Vec<_>>());

    let pool = platform.pool("finance").await;
    let (count, distinct, max, total): (i64, i64, i32, i64) = sqlx::query_as(
        "SELECT count(*), count(DISTINCT receipt_number), max(receipt_number), sum(amount_minor)::bigint
         FROM donations WHERE centre_id = $1 AND receipt_year = 2025",
    )
    .bind(centre)
    .fetch_one(&pool)
    .await
    .expect("donations");
    assert_eq!((count, distinct, max), (1000, 1000, 1000));
    let income: i64 = sqlx::query_scalar(
        "SELECT sum(credit_minor - debit_minor)::bigint FROM journal_lines WHERE centre_id = $1 AND account_code = '4003'",
    )
    .bind(centre)
    .fetch_one(&pool)
    .await
    .expect("ledger");
    assert_eq!(income, total, "the ledger holds every donation once");
    assert_eq!(total, (0..1000).map(|n| 100 + n).sum::<i64>());
    pool.close().await;
    platform.stop().await;
}

/// Publishes `event` as bookings would: through the outbox of the test's bookings
/// database, which the running bookings role relays to the real broker.
async fn publish_from_bookings<E: linli_proto::Event>(
    bookings: &PgPool,
    centre: Uuid,
    event: &E,
) -> Uuid {
    let mut tx = bookings.begin().await.expect("bookings database");
    let id = enqueue(&mut tx, Some(centre), event)
        .await
        .expect("enqueued");
    tx.commit().await.expect("committed");
    id
}

fn now() -> Option<prost_types::Timestamp> {
    let at = Utc::now();
    Some(prost_types::Timestamp {
        seconds: at.timestamp(),
        nanos: 0,
    })
}

fn charge(centre: Uuid, charge_id: &str, amount: i64) -> FeeCharged {
    FeeCharged {
        charge_id: charge_id.into(),
        booking_id: format!("booking-{charge_id}"),
        centre_id: centre.to_string(),
        offering_id: "calligraphy".into(),
        resident_id: Uuid::new_v4().to_string(),
        amount_minor: amount,
        currency: "CNY".into(),
        list_price_minor: amount * 2,
        concession: "elderly".into(),
        charged_at: now(),
    }
}

async fn fee_income(pool: &PgPool, centre: Uuid) -> i64 {
    sqlx::query_scalar(
        "SELECT coalesce(sum(credit_minor - debit_minor), 0)::bigint FROM journal_lines
         WHERE centre_id = $1 AND account_code = '4004'",
    )
    .bind(centre)
    .fetch_one(pool)
    .await
    .expect("ledger")
}

async fn charge_booked(pool: &PgPool, charge_id: &str) -> bool {
    sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM fee_charges WHERE charge_id = $1)")
        .bind(charge_id)
        .fetch_one(pool)
        .await
        .expect("fee charges")
}

#[tokio::test]
async fn a_redelivered_fee_charged_event_does_not_double_the_income_and_a_refund_reverses_it() {
    let platform = TestPlatform::start().await;
    let centre = platform.create_centre("fin-fees").await;
    let bookings = platform.pool("bookings").await;
    let finance = platform.pool("finance").await;
    let duplicates = || {
        EVENTS_CONSUMED
            .with_label_values(&["finance", "duplicate"])
            .get()
    };
    let duplicates_before = duplicates();

    let first = publish_from_bookings(&bookings, centre, &charge(centre, "c-1", 2_500)).await;
    poll("the first charge to be booked", DEADLINE, || async {
        charge_booked(&finance, "c-1").await.then_some(())
    })
    .await;
    assert_eq!(fee_income(&finance, centre).await, 2_500);

    // The same event again, with the same message id: a redelivery. A marker charge
    // follows it through the same queue, so once the marker is booked the redelivery
    // has been handled.
    sqlx::query("UPDATE outbox SET published_at = NULL WHERE id = $1")
        .bind(first)
        .execute(&bookings)
        .await
        .expect("republish");
    publish_from_bookings(&bookings, centre, &charge(centre, "c-marker", 100)).await;
    poll("the marker charge to be booked", DEADLINE, || async {
        charge_booked(&finance, "c-marker").await.then_some(())
    })
    .await;
    let republished: bool =
        sqlx::query_scalar("SELECT published_at IS NOT NULL FROM outbox WHERE id = $1")
            .bind(first)
            .fetch_one(&bookings)
            .await
            .expect("outbox");
    assert!(republished, "the first event really went out twice");
    assert!(
        duplicates() > duplicates_before,
        "the consumer saw the duplicate"
    );
    assert_eq!(
        fee_income(&finance, centre).await,
        2_600,
        "income counted once"
    );
    let entries: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM journal_entries WHERE source = 'fee' AND source_ref = 'c-1'",
    )
    .fetch_one(&finance)
    .await
    .expect("entries");
    assert_eq!(entries, 1);
    let receivable: i64 = sqlx::query_scalar(
        "SELECT sum(debit_minor - credit_minor)::bigint FROM journal_lines WHERE centre_id = $1 AND account_code = '1122'",
    )
    .bind(centre)
    .fetch_one(&finance)
    .await
    .expect("receivables");
    assert_eq!(receivable, 2_600);

    // A full refund reverses the charge's entry.
    publish_from_bookings(
        &bookings,
        centre,
        &FeeRefunded {
            refund_id: "r-1".into(),
            charge_id: "c-1".into(),
            booking_id: "booking-c-1".into(),
            centre_id: centre.to_string(),
            amount_minor: 2_500,
            currency: "CNY".into(),
            refunded_at: now(),
        },
    )
    .await;
    poll("the refund to be booked", DEADLINE, || async {
        (fee_income(&finance, centre).await == 100).then_some(())
    })
    .await;
    let reversed: bool = sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM journal_entries r JOIN journal_entries f ON r.reverses = f.id
                        WHERE f.source_ref = 'c-1')",
    )
    .fetch_one(&finance)
    .await
    .expect("entries");
    assert!(
        reversed,
        "the refund is a reversal pointing at the charge's entry"
    );
    bookings.close().await;
    finance.close().await;
    platform.stop().await;
}

#[tokio::test]
async fn the_trial_balance_of_a_seeded_year_sums_to_zero_and_the_transparency_report_equals_the_ledger()
 {
    let platform = TestPlatform::start().await;
    let centre = platform.create_centre("fin-seed").await;
    // The demo district has several centres: their books must not collide.
    let neighbour = platform.create_centre("fin-seed-2").await;
    let pool = platform.pool("finance").await;
    let today = Utc::now().date_naive();
    let seeded = linli_finance::seed::demo(&pool, &platform.vault(), &[centre, neighbour], today)
        .await
        .expect("seeded");
    let again = linli_finance::seed::demo(&pool, &platform.vault(), &[centre, neighbour], today)
        .await
        .expect("seeded again");
    assert!(
        seeded[0].entries > 200 && seeded[0].donations == 36,
        "{seeded:?}"
    );
    assert_eq!(
        (again[0].entries, again[0].donations),
        (seeded[0].entries, seeded[0].donations),
        "a second run adds nothing"
    );

    let auditor = platform.token(&[Role::Auditor], &[centre]);
    let mut finance = client(&platform).await;
    let trial = finance
        .get_trial_balance(call(
            &auditor,
            pb::GetTrialBalanceRequest {
                centre_id: centre.to_string(),
                as_of: String::new(),
            },
        ))
        .await
        .expect("trial balance")
        .into_inner();
    assert!(trial.debit_total_minor > 0);
    assert_eq!(trial.debit_total_minor, trial.credit_total_minor);
    assert_eq!(trial.rows.iter().map(|r| r.balance_minor).sum::<i64>(), 0);

    let this_month = Month::of(today);
    let mut first = this_month;
    for _ in 0..12 {
        first = Month::of(first.first_day() - chrono::Duration::days(1));
    }
    let last = Month::of(this_month.first_day() - chrono::Duration::days(1));
    let report = finance
        .get_transparency_report(call(
            &auditor,
            pb::GetTransparencyReportRequest {
                centre_id: centre.to_string(),
                from: first.to_string(),
                to: last.to_string(),
            },
        ))
        .await
        .expect("report")
        .into_inner();
    let ledger = |kind: &'static str| {
        let pool = pool.clone();
        async move {
            let rows: Vec<(String, i64)> = sqlx::query_as(
                "SELECT coalesce(a.funding_source, a.budget_category), sum(l.credit_minor - l.debit_minor)::bigint
                 FROM journal_lines l
                 JOIN journal_entries e ON e.id = l.entry_id
                 JOIN accounts a ON a.centre_id = l.centre_id AND a.code = l.account_code
                 WHERE l.centre_id = $1 AND a.kind = $2 AND e.entry_date BETWEEN $3 AND $4
                 GROUP BY 1",
            )
            .bind(centre)
            .bind(kind)
            .bind(first.first_day())
            .bind(last.last_day())
            .fetch_all(&pool)
            .await
            .expect("ledger");
            rows
        }
    };
    let income = ledger("income").await;
    let spending = ledger("expenditure").await;
    assert_eq!(
        report.income_total_minor,
        income.iter().map(|(_, v)| v).sum::<i64>()
    );
    assert_eq!(
        report.expenditure_total_minor,
        -spending.iter().map(|(_, v)| v).sum::<i64>()
    );
    for (source, amount) in &income {
        let reported = report
            .income_by_source
            .iter()
            .find(|a| &a.key == source)
            .expect("every source reported");
        assert_eq!(reported.amount_minor, *amount, "{source}");
    }
    for (category, amount) in &spending {
        let reported = report
            .expenditure_by_category
            .iter()
            .find(|a| &a.key == category)
            .expect("every category reported");
        assert_eq!(reported.amount_minor, -amount, "{category}");
    }
    assert!(report.income_total_minor > 0 && report.expenditure_total_minor > 0);
    let ratio = report.self_sufficiency.expect("self-sufficiency");
    assert_eq!(
        ratio.ratio_basis_points,
        ratio.own_income_minor * 10_000 / ratio.expenditure_minor
    );

    // The CSV carries the same totals.
    let admin = platform.admin_token();
    let csv = platform
        .http
        .get(format!(
            "{}/v1/centres/{centre}/finance/transparency.csv?from={first}&to={last}",
            platform.gateway
        ))
        .bearer_auth(&admin)
        .send()
        .await
        .expect("gateway answers");
    assert_eq!(csv.status(), StatusCode::OK);
    assert!(
        csv.headers()["content-type"]
            .to_str()
            .expect("ascii")
            .starts_with("text/csv")
    );
    let csv = csv.text().await.expect("text");
    assert!(
        csv.contains(&format!("income,total,{},,CNY", report.income_total_minor)),
        "{csv}"
    );
    assert!(
        csv.contains(&format!(
            "expenditure,total,{},,CNY",
            report.expenditure_total_minor
        )),
        "{csv}"
    );
    pool.close().await;
    platform.stop().await;
}

/// Every file on a money path: the finance service's code and migrations, its contracts
/// and its gateway module.
fn money_path_files() -> Vec<std::path::PathBuf> {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut files = vec![
        root.join("proto/linli/finance/v1/finance.proto"),
        root.join("proto/linli/events/v1/finance.proto"),
        root.join("gateway/src/finance.rs"),
    ];
    let mut folders = vec![
        root.join("services/finance/src"),
        root.join("services/finance/migrations"),
    ];
    while let Some(folder) = folders.pop() {
        for entry in std::fs::read_dir(&folder).expect("the finance sources") {
            let path = entry.expect("a directory entry").path();
            if path.is_dir() {
                folders.push(path);
            } else {
                files.push(path);
            }
        }
    }
    files
}

#[test]
fn no_floating_point_type_reaches_a_money_path() {
    // Floating-point types in Rust, SQL and protobuf: whole words only (`real` is a type,
    // `already` is not), and any identifier carrying f32 or f64 (`as_f64`, `from_f32`).
    // (`double` counts as a protobuf type only: "double-entry" is what the ledger is.)
    let forbidden = ["float", "float4", "float8", "real"];
    let mut found = Vec::new();
    let files = money_path_files();
    assert!(files.len() > 10, "the scan sees the finance sources");
    for file in files {
        let text = std::fs::read_to_string(&file)
            .expect("readable source")
            .to_lowercase();
        for word in text
            .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .filter(|w| !w.is_empty())
        {
            let proto_double = word == "double" && file.extension().is_some_and(|e| e == "proto");
            if forbidden.contains(&word)
                || proto_double
                || word.contains("f32")
                || word.contains("f64")
            {
                found.push(format!("{}: {word}", file.display()));
            }
        }
        if text.contains("double precision") {
            found.push(format!("{}: double precision", file.display()));
        }
    }
    assert!(
        found.is_empty(),
        "floating-point types on a money path: {found:#?}"
    );
}

#[tokio::test]
async fn an_auditor_reads_every_assigned_centre_but_every_write_is_refused_at_the_gateway_and_over_grpc()
 {
    let platform = TestPlatform::start().await;
    let (a, b) = (
        platform.create_centre("fin-aud-a").await,
        platform.create_centre("fin-aud-b").await,
    );
    let officer = platform.token(&[Role::FinanceOfficer], &[a, b]);
    let auditor = platform.token(&[Role::Auditor], &[a, b]);
    let mut finance = client(&platform).await;
    for centre in [a, b] {
        post_entry(
            &mut finance,
            &officer,
            centre,
            "2025-04-01",
            vec![line("1001", 300, 0), line("4004", 0, 300)],
        )
        .await
        .expect("posted");
    }

    let http = |method: reqwest::Method, path: String, body: Option<Value>| {
        let mut request = platform
            .http
            .request(method, format!("{}{path}", platform.gateway))
            .bearer_auth(&auditor);
        if let Some(body) = body {
            request = request.json(&body);
        }
        async move {
            let response = request.send().await.expect("gateway answers");
            let status = response.status();
            (
                status,
                response.json::<Value>().await.unwrap_or(Value::Null),
            )
        }
    };
    for centre in [a, b] {
        let (status, trial) = http(
            reqwest::Method::GET,
            format!("/v1/centres/{centre}/finance/trial-balance"),
            None,
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{trial}");
        assert_eq!(trial["debit_total_minor"], 300);
        let (status, _) = http(
            reqwest::Method::GET,
            format!("/v1/centres/{centre}/finance/audit-trail"),
            None,
        )
        .await;
        assert_eq!(status, StatusCode::OK);
    }
    let (status, district) = http(
        reqwest::Method::GET,
        "/v1/finance/self-sufficiency?from=2025-01&to=2025-12".into(),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(district["centres"].as_array().expect("centres").len(), 2);
    assert_eq!(district["total"]["own_income_minor"], 600);

    let writes = [
        (
            reqwest::Method::POST,
            format!("/v1/centres/{a}/finance/entries"),
            Some(
                json!({ "entry_date": "2025-04-02", "description": "x", "lines": [{ "account_code": "1001", "debit_minor": 1 }, { "account_code": "4004", "credit_minor": 1 }] }),
            ),
        ),
        (
            reqwest::Method::POST,
            format!("/v1/centres/{a}/finance/donations"),
            Some(json!({ "anonymous": true, "amount_minor": 100 })),
        ),
        (
            reqwest::Method::POST,
            format!("/v1/centres/{a}/finance/expenses"),
            Some(
                json!({ "category": "office_costs", "amount_minor": 100, "description": "x", "spent_on": "2025-04-02" }),
            ),
        ),
        (
            reqwest::Method::PUT,
            format!("/v1/centres/{a}/finance/budgets/2025/personnel"),
            Some(json!({ "amount_minor": 1 })),
        ),
        (
            reqwest::Method::POST,
            format!("/v1/centres/{a}/finance/periods/2025-04/close"),
            None,
        ),
    ];
    for (method, path, body) in writes {
        let (status, problem) = http(method, path.clone(), body).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{path}: {problem}");
    }

    let grpc_writes = [
        finance
            .post_entry(call(
                &auditor,
                pb::PostEntryRequest {
                    centre_id: a.to_string(),
                    entry_date: "2025-04-02".into(),
                    description: "x".into(),
                    currency: String::new(),
                    lines: vec![line("1001", 1, 0), line("4004", 0, 1)],
                },
            ))
            .await
            .map(|_| ()),
        finance
            .record_donation(call(
                &auditor,
                pb::RecordDonationRequest {
                    centre_id: a.to_string(),
                    anonymous: true,
                    amount_minor: 1,
                    ..Default::default()
                },
            ))
            .await
            .map(|_| ()),
        finance
            .close_period(call(
                &auditor,
                pb::ClosePeriodRequest {
                    centre_id: a.to_string(),
                    period: "2025-04".into(),
                },
            ))
            .await
            .map(|_| ()),
        finance
            .set_budget(call(
                &auditor,
                pb::SetBudgetRequest {
                    centre_id: a.to_string(),
                    fiscal_year: 2025,
                    category: "personnel".into(),
                    amount_minor: 1,
                    currency: String::new(),
                },
            ))
            .await
            .map(|_| ()),
    ];
    for result in grpc_writes {
        assert_eq!(
            result.expect_err("refused").code(),
            tonic::Code::PermissionDenied
        );
    }
    // The routes are in the served OpenAPI document beside the gateway's own.
    let doc: Value = platform
        .http
        .get(format!("{}/openapi.json", platform.gateway))
        .send()
        .await
        .expect("gateway answers")
        .json()
        .await
        .expect("json");
    for path in [
        "/v1/centres",
        "/v1/centres/{centre_id}/finance/entries",
        "/v1/centres/{centre_id}/finance/transparency.csv",
        "/v1/finance/self-sufficiency",
    ] {
        assert!(doc["paths"].get(path).is_some(), "{path} is documented");
    }

    // Nothing the auditor tried reached the books.
    let pool = platform.pool("finance").await;
    let entries: i64 = sqlx::query_scalar("SELECT count(*) FROM journal_entries")
        .fetch_one(&pool)
        .await
        .expect("entries");
    assert_eq!(entries, 2);
    pool.close().await;
    platform.stop().await;
}

#[tokio::test]
async fn budget_thresholds_are_announced_once_each_and_an_erased_donor_loses_their_name() {
    let platform = TestPlatform::start().await;
    let centre = platform.create_centre("fin-budget").await;
    let officer = platform.token(&[Role::FinanceOfficer], &[centre]);
    let mut finance = client(&platform).await;
    finance
        .set_budget(call(
            &officer,
            pb::SetBudgetRequest {
                centre_id: centre.to_string(),
                fiscal_year: 2025,
                category: "office_costs".into(),
                amount_minor: 10_000,
                currency: String::new(),
            },
        ))
        .await
        .expect("budget set");
    for amount in [8_999, 1, 500, 499, 1, 5_000] {
        finance
            .record_expense(call(
                &officer,
                pb::RecordExpenseRequest {
                    centre_id: centre.to_string(),
                    category: "office_costs".into(),
                    amount_minor: amount,
                    description: "paper".into(),
                    spent_on: "2025-05-10".into(),
                    ..Default::default()
                },
            ))
            .await
            .expect("expense");
    }
    let pool = platform.pool("finance").await;
    let alerts: Vec<(i32, i64)> = sqlx::query_as(
        "SELECT threshold_percent, count(*) FROM budget_alerts WHERE centre_id = $1 GROUP BY 1 ORDER BY 1",
    )
    .bind(centre)
    .fetch_all(&pool)
    .await
    .expect("alerts");
    assert_eq!(alerts, [(90, 1), (100, 1)]);
    let events: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM outbox WHERE routing_key = 'finance.budget.threshold_reached'",
    )
    .fetch_one(&pool)
    .await
    .expect("outbox");
    assert_eq!(events, 2);
    let report = finance
        .get_budget_report(call(
            &officer,
            pb::GetBudgetReportRequest {
                centre_id: centre.to_string(),
                fiscal_year: 2025,
                as_of: "2025-12-31".into(),
            },
        ))
        .await
        .expect("report")
        .into_inner();
    let office = report
        .categories
        .iter()
        .find(|c| c.category == "office_costs")
        .expect("office costs");
    assert_eq!(
        (
            office.budget_minor,
            office.actual_minor,
            office.executed_basis_points
        ),
        (10_000, 15_000, 15_000)
    );

    // A donation from a resident who is later erased keeps its amount and loses the name.
    // The resident as the registry's registration leaves them in finance's directory.
    let resident = Uuid::new_v4();
    let mut conn = pool.acquire().await.expect("a connection");
    linli_platform::directory::record_resident(&mut conn, resident, centre, "60-79", &[], None)
        .await
        .expect("the directory takes the resident");
    drop(conn);
    let donation = finance
        .record_donation(call(
            &officer,
            pb::RecordDonationRequest {
                centre_id: centre.to_string(),
                donor_name: "李四".into(),
                donor_resident_id: resident.to_string(),
                amount_minor: 8_800,
                received_on: "2025-05-11".into(),
                ..Default::default()
            },
        ))
        .await
        .expect("donation")
        .into_inner();
    assert_eq!(donation.donor_name, "李四");
    assert_eq!(donation.receipt, "2025-000001");
    let dump: String = sqlx::query_scalar("SELECT string_agg(d::text, '') FROM donations d")
        .fetch_one(&pool)
        .await
        .expect("rows");
    assert!(!dump.contains("李四"), "the name is sealed at rest");
    let registry = platform.pool("registry").await;
    publish_from_bookings(
        &registry,
        centre,
        &ResidentErased {
            resident_id: resident.to_string(),
            centre_id: centre.to_string(),
            erased_at: now(),
        },
    )
    .await;
    let listed = poll("the donor's name to go", DEADLINE, || {
        let mut finance = finance.clone();
        let officer = officer.clone();
        async move {
            let list = finance
                .list_donations(call(
                    &officer,
                    pb::ListDonationsRequest {
                        centre_id: centre.to_string(),
                        receipt_year: 2025,
                        ..Default::default()
                    },
                ))
                .await
                .ok()?
                .into_inner();
            list.donations
                .first()
                .filter(|d| d.donor_name.is_empty())
                .cloned()
        }
    })
    .await;
    assert_eq!((listed.amount_minor, listed.receipt_number), (8_800, 1));
    registry.close().await;
    pool.close().await;
    platform.stop().await;
}
