//! Every SQL statement of the finance service, one function per query or per posting.
//! A posting writes the entry, its lines, its events, its budget alerts and its audit
//! record in the caller's transaction; the database checks the balance at commit.

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use linli_platform::bus::enqueue;
use linli_platform::crypto::Sealed;
use linli_platform::directory;
use linli_platform::error::Violations;
pub use linli_platform::wire::timestamp;
use linli_proto::events::v1 as events;
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use crate::domain::chart::{DEFAULT_CHART, FundingSource};
use crate::domain::figures::{THRESHOLDS, threshold_reached};
use crate::domain::{BudgetCategory, EntryLine, Month, NewEntry};
use crate::error::{Error, ledger};
use linli_platform::error::Reason;

pub mod payments;

/// Who made a change, for the audit trail: the caller's subject (or the event that caused
/// it) and the trace the change belongs to.
#[derive(Clone, Debug)]
pub struct Actor {
    pub subject: String,
    pub trace_id: Option<String>,
}

impl Actor {
    /// `subject`, in the current span's trace.
    pub fn current(subject: &str) -> Actor {
        Actor {
            subject: subject.to_owned(),
            trace_id: linli_platform::telemetry::trace_id(&tracing::Span::current()),
        }
    }
}

/// A centre's books: the time zone its days are read in (the directory's) and the
/// currency every entry is in.
#[derive(Clone, Debug)]
pub struct CentreBooks {
    pub id: Uuid,
    pub time_zone: chrono_tz::Tz,
    pub currency: String,
}

/// The books of `centre`, opened with the default chart when finance first meets it. The
/// centre must be one the directory knows: a write for any other is refused here, before
/// anything of it is written, so no books are ever opened for a centre that does not exist.
pub async fn ensure_centre(tx: &mut PgConnection, centre: Uuid) -> Result<CentreBooks, Error> {
    let known = directory::require_centre(tx, centre).await?;
    let inserted: Option<Uuid> = sqlx::query_scalar(
        "INSERT INTO centres (id) VALUES ($1) ON CONFLICT (id) DO NOTHING RETURNING id",
    )
    .bind(centre)
    .fetch_optional(&mut *tx)
    .await?;
    if inserted.is_some() {
        let codes: Vec<&str> = DEFAULT_CHART.iter().map(|a| a.code).collect();
        let names: Vec<&str> = DEFAULT_CHART.iter().map(|a| a.name).collect();
        let kinds: Vec<&str> = DEFAULT_CHART.iter().map(|a| a.kind).collect();
        let sources: Vec<Option<&str>> = DEFAULT_CHART
            .iter()
            .map(|a| a.funding_source.map(FundingSource::as_str))
            .collect();
        let categories: Vec<Option<&str>> = DEFAULT_CHART
            .iter()
            .map(|a| a.budget_category.map(BudgetCategory::as_str))
            .collect();
        sqlx::query(
            "INSERT INTO accounts (centre_id, code, name, kind, funding_source, budget_category)
             SELECT $1, * FROM UNNEST($2::text[], $3::text[], $4::text[], $5::text[], $6::text[])
             ON CONFLICT DO NOTHING",
        )
        .bind(centre)
        .bind(&codes)
        .bind(&names)
        .bind(&kinds)
        .bind(&sources)
        .bind(&categories)
        .execute(&mut *tx)
        .await?;
    }
    let currency: String = sqlx::query_scalar("SELECT currency FROM centres WHERE id = $1")
        .bind(centre)
        .fetch_one(&mut *tx)
        .await?;
    Ok(CentreBooks {
        id: centre,
        time_zone: known.time_zone,
        currency,
    })
}

/// The books of a centre the directory knows, as they would be opened if finance has not
/// met it yet (no entry, the default currency).
pub async fn find_centre(pool: &PgPool, centre: Uuid) -> Result<CentreBooks, Error> {
    let mut conn = pool.acquire().await?;
    let known = directory::require_centre(&mut conn, centre).await?;
    let currency: Option<String> = sqlx::query_scalar("SELECT currency FROM centres WHERE id = $1")
        .bind(centre)
        .fetch_optional(&mut *conn)
        .await?;
    Ok(CentreBooks {
        id: centre,
        time_zone: known.time_zone,
        currency: currency.unwrap_or_else(|| crate::domain::Currency::DEFAULT.to_owned()),
    })
}

/// The centres finance keeps books for, among those the directory knows.
pub async fn known_centres(pool: &PgPool) -> Result<Vec<Uuid>, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT c.id FROM centres c JOIN directory.centres d ON d.id = c.id ORDER BY c.id",
    )
    .fetch_all(pool)
    .await
}

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct AccountRow {
    pub code: String,
    pub name: String,
    pub kind: String,
    pub funding_source: Option<String>,
    pub budget_category: Option<String>,
}

pub async fn accounts(pool: &PgPool, centre: Uuid) -> Result<Vec<AccountRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT code, name, kind, funding_source, budget_category FROM accounts
         WHERE centre_id = $1 ORDER BY code",
    )
    .bind(centre)
    .fetch_all(pool)
    .await
}

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct EntryHead {
    pub id: Uuid,
    pub centre_id: Uuid,
    pub entry_date: NaiveDate,
    pub description: String,
    pub source: String,
    pub reverses: Option<Uuid>,
    pub reversed_by: Option<Uuid>,
    pub currency: String,
    pub posted_at: DateTime<Utc>,
    pub posted_by: String,
}

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct LineRow {
    pub entry_id: Uuid,
    pub account_code: String,
    pub debit_minor: i64,
    pub credit_minor: i64,
}

#[derive(Clone, Debug)]
pub struct EntryRow {
    pub head: EntryHead,
    pub lines: Vec<LineRow>,
}

/// Posts `entry`: the entry, its lines, `finance.entry.posted`, any budget threshold it
/// crosses, and its audit record, all in `tx`. The database refuses a closed period now
/// and an unbalanced entry at commit.
pub async fn post(
    tx: &mut PgConnection,
    entry: &NewEntry,
    actor: &Actor,
) -> Result<EntryRow, Error> {
    let centre = ensure_centre(tx, entry.centre_id).await?;
    if entry.currency.as_str() != centre.currency {
        return Err(Violations::one(
            "currency",
            Reason::new(
                "currency.centre",
                format!("must be {}, the centre's currency", centre.currency),
            ),
        )
        .into());
    }
    let codes: Vec<&str> = entry
        .lines
        .iter()
        .map(|l| l.account_code.as_str())
        .collect();
    let known: Vec<AccountRow> = sqlx::query_as(
        "SELECT code, name, kind, funding_source, budget_category FROM accounts
         WHERE centre_id = $1 AND code = ANY($2)",
    )
    .bind(entry.centre_id)
    .bind(&codes)
    .fetch_all(&mut *tx)
    .await?;
    let mut violations = Violations::default();
    for (i, code) in codes.iter().enumerate() {
        if !known.iter().any(|a| a.code == *code) {
            violations.push(
                format!("lines[{i}].account_code"),
                Reason::new("account.unknown", "is not an account of the centre's chart"),
            );
        }
    }
    if !violations.is_empty() {
        return Err(violations.into());
    }

    let (posted_at,): (DateTime<Utc>,) = sqlx::query_as(
        "INSERT INTO journal_entries
             (id, centre_id, entry_date, description, source, source_ref, reverses, currency, posted_by)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING posted_at",
    )
    .bind(entry.id)
    .bind(entry.centre_id)
    .bind(entry.entry_date)
    .bind(&entry.description)
    .bind(entry.source.as_str())
    .bind(&entry.source_ref)
    .bind(entry.reverses)
    .bind(entry.currency.as_str())
    .bind(&actor.subject)
    .fetch_one(&mut *tx)
    .await
    .map_err(ledger)?;
    let numbers: Vec<i32> = (1..=entry.lines.len() as i32).collect();
    let debits: Vec<i64> = entry.lines.iter().map(|l| l.debit_minor).collect();
    let credits: Vec<i64> = entry.lines.iter().map(|l| l.credit_minor).collect();
    sqlx::query(
        "INSERT INTO journal_lines (entry_id, centre_id, line_no, account_code, debit_minor, credit_minor)
         SELECT $1, $2, * FROM UNNEST($3::int[], $4::text[], $5::bigint[], $6::bigint[])",
    )
    .bind(entry.id)
    .bind(entry.centre_id)
    .bind(&numbers)
    .bind(&codes)
    .bind(&debits)
    .bind(&credits)
    .execute(&mut *tx)
    .await
    .map_err(ledger)?;

    let account = |code: &str| {
        known
            .iter()
            .find(|a| a.code == code)
            .expect("checked above")
    };
    let (mut own_income, mut expenditure) = (0i64, 0i64);
    let mut partnership = 0i64;
    let mut categories = Vec::new();
    let mut posted_lines = Vec::with_capacity(entry.lines.len());
    for line in &entry.lines {
        let account = account(&line.account_code);
        if account
            .funding_source
            .as_deref()
            .and_then(FundingSource::parse)
            .is_some_and(FundingSource::is_own_income)
        {
            own_income += line.credit_minor - line.debit_minor;
        }
        if account.funding_source.as_deref() == Some(FundingSource::Partnership.as_str()) {
            partnership += line.credit_minor - line.debit_minor;
        }
        if account.kind == "expenditure" {
            expenditure += line.debit_minor - line.credit_minor;
        }
        if let Some(category) = &account.budget_category
            && !categories.contains(category)
        {
            categories.push(category.clone());
        }
        posted_lines.push(events::PostedLine {
            account_code: line.account_code.clone(),
            account_kind: account.kind.clone(),
            debit_minor: line.debit_minor,
            credit_minor: line.credit_minor,
        });
    }
    enqueue(
        tx,
        Some(entry.centre_id),
        &events::EntryPosted {
            entry_id: entry.id.to_string(),
            centre_id: entry.centre_id.to_string(),
            entry_date: entry.entry_date.to_string(),
            source: entry.source.as_str().to_owned(),
            reverses: entry.reverses.map(|r| r.to_string()).unwrap_or_default(),
            currency: entry.currency.as_str().to_owned(),
            lines: posted_lines,
            own_income_minor: own_income,
            expenditure_minor: expenditure,
            posted_at: Some(timestamp(posted_at)),
            partnership_income_minor: partnership,
        },
    )
    .await?;
    // Always in the same order, so two postings never wait on each other's budget rows.
    categories.sort();
    for category in &categories {
        check_thresholds(
            tx,
            entry.centre_id,
            entry.entry_date.year(),
            category,
            actor,
        )
        .await?;
    }
    audit(
        tx,
        actor,
        "entry.posted",
        Some(entry.centre_id),
        &entry.id.to_string(),
        serde_json::json!({
            "source": entry.source.as_str(),
            "entry_date": entry.entry_date.to_string(),
            "reverses": entry.reverses,
            "total_minor": entry.total_minor(),
            "currency": entry.currency.as_str(),
        }),
    )
    .await?;
    Ok(EntryRow {
        head: EntryHead {
            id: entry.id,
            centre_id: entry.centre_id,
            entry_date: entry.entry_date,
            description: entry.description.clone(),
            source: entry.source.as_str().to_owned(),
            reverses: entry.reverses,
            reversed_by: None,
            currency: entry.currency.as_str().to_owned(),
            posted_at,
            posted_by: actor.subject.clone(),
        },
        lines: entry
            .lines
            .iter()
            .map(|l| LineRow {
                entry_id: entry.id,
                account_code: l.account_code.clone(),
                debit_minor: l.debit_minor,
                credit_minor: l.credit_minor,
            })
            .collect(),
    })
}

macro_rules! entry_columns {
    () => {
        "e.id, e.centre_id, e.entry_date, e.description, e.source, e.reverses,
         (SELECT r.id FROM journal_entries r WHERE r.reverses = e.id) AS reversed_by,
         e.currency, e.posted_at, e.posted_by"
    };
}

async fn lines_of(conn: &mut PgConnection, ids: &[Uuid]) -> Result<Vec<LineRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT entry_id, account_code, debit_minor, credit_minor FROM journal_lines
         WHERE entry_id = ANY($1) ORDER BY entry_id, line_no",
    )
    .bind(ids)
    .fetch_all(conn)
    .await
}

pub async fn find_entry(
    conn: &mut PgConnection,
    centre: Uuid,
    id: Uuid,
) -> Result<Option<EntryRow>, sqlx::Error> {
    let head: Option<EntryHead> = sqlx::query_as(concat!(
        "SELECT ",
        entry_columns!(),
        " FROM journal_entries e WHERE e.centre_id = $1 AND e.id = $2"
    ))
    .bind(centre)
    .bind(id)
    .fetch_optional(&mut *conn)
    .await?;
    match head {
        Some(head) => {
            let lines = lines_of(conn, &[head.id]).await?;
            Ok(Some(EntryRow { head, lines }))
        }
        None => Ok(None),
    }
}

/// A centre's entries dated `from`..=`to`, by date and then by posting, after the keyset
/// `after` (entry_date, posted_at, id), at most `limit`.
pub async fn list_entries(
    pool: &PgPool,
    centre: Uuid,
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
    after: Option<(NaiveDate, DateTime<Utc>, Uuid)>,
    limit: i64,
) -> Result<Vec<EntryRow>, sqlx::Error> {
    let mut conn = pool.acquire().await?;
    let heads: Vec<EntryHead> = sqlx::query_as(concat!(
        "SELECT ",
        entry_columns!(),
        " FROM journal_entries e WHERE e.centre_id = $1
           AND ($2::date IS NULL OR e.entry_date >= $2) AND ($3::date IS NULL OR e.entry_date <= $3)
           AND ($5::date IS NULL OR (e.entry_date, e.posted_at, e.id) > ($5, $6, $7))
         ORDER BY e.entry_date, e.posted_at, e.id LIMIT $4"
    ))
    .bind(centre)
    .bind(from)
    .bind(to)
    .bind(limit)
    .bind(after.map(|(date, _, _)| date))
    .bind(after.map(|(_, at, _)| at))
    .bind(after.map(|(_, _, id)| id))
    .fetch_all(&mut *conn)
    .await?;
    let ids: Vec<Uuid> = heads.iter().map(|h| h.id).collect();
    let mut lines = lines_of(&mut conn, &ids).await?;
    Ok(heads
        .into_iter()
        .map(|head| {
            let (mine, rest): (Vec<_>, Vec<_>) =
                lines.drain(..).partition(|l| l.entry_id == head.id);
            lines = rest;
            EntryRow { head, lines: mine }
        })
        .collect())
}

/// Reverses entry `id` of `centre`, dated `date`.
pub async fn reverse(
    tx: &mut PgConnection,
    centre: Uuid,
    id: Uuid,
    date: NaiveDate,
    reason: &str,
    actor: &Actor,
) -> Result<EntryRow, Error> {
    // Lock the original so two reversals of it queue up; the unique index decides anyway.
    let original = find_entry(tx, centre, id)
        .await?
        .ok_or(Error::NotFound("entry"))?;
    crate::domain::entry::may_reverse(original.head.reverses, original.head.reversed_by)?;
    let lines: Vec<EntryLine> = original
        .lines
        .iter()
        .map(|l| EntryLine {
            account_code: l.account_code.clone(),
            debit_minor: l.debit_minor,
            credit_minor: l.credit_minor,
        })
        .collect();
    let currency = crate::domain::Currency::parse("currency", &original.head.currency)?;
    let reversal = NewEntry::reversal_of(id, centre, currency, &lines, date, reason)?;
    post(tx, &reversal, actor).await
}

/// The first day on or after `date` whose month is open: a fact that arrives after its
/// month closed is booked in the next open month, as accountants do.
pub async fn open_date(
    tx: &mut PgConnection,
    centre: Uuid,
    date: NaiveDate,
) -> Result<NaiveDate, sqlx::Error> {
    let mut month = Month::of(date);
    let mut day = date;
    loop {
        let closed: bool = sqlx::query_scalar(
            "SELECT EXISTS (SELECT 1 FROM periods WHERE centre_id = $1 AND month = $2 AND closed_at IS NOT NULL)",
        )
        .bind(centre)
        .bind(month.first_day())
        .fetch_one(&mut *tx)
        .await?;
        if !closed {
            return Ok(day);
        }
        month = month.next();
        day = month.first_day();
    }
}

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct PeriodRow {
    pub month: NaiveDate,
    pub closed_at: Option<DateTime<Utc>>,
    pub closed_by: Option<String>,
}

/// Closes `month`: posting waits for nothing and finds it closed from the commit on.
/// Months close in order ([`crate::domain::calendar::close_first`]): a close waits for no
/// other, and one racing the close of the month before it is refused until that commits.
pub async fn close_period(
    tx: &mut PgConnection,
    centre: Uuid,
    month: Month,
    actor: &Actor,
) -> Result<PeriodRow, Error> {
    let books = ensure_centre(tx, centre).await?;
    let (earliest, last_closed): (Option<NaiveDate>, Option<NaiveDate>) = sqlx::query_as(
        "SELECT min(month), max(month) FILTER (WHERE closed_at IS NOT NULL)
         FROM periods WHERE centre_id = $1 AND month < $2",
    )
    .bind(centre)
    .bind(month.first_day())
    .fetch_one(&mut *tx)
    .await?;
    if let Some(first) = crate::domain::calendar::close_first(
        month,
        earliest.map(Month::of),
        last_closed.map(Month::of),
    ) {
        return Err(crate::domain::calendar::out_of_order(month, first).into());
    }
    sqlx::query("INSERT INTO periods (centre_id, month) VALUES ($1, $2) ON CONFLICT DO NOTHING")
        .bind(centre)
        .bind(month.first_day())
        .execute(&mut *tx)
        .await?;
    let closed: Option<PeriodRow> = sqlx::query_as(
        "UPDATE periods SET closed_at = now(), closed_by = $3
         WHERE centre_id = $1 AND month = $2 AND closed_at IS NULL
         RETURNING month, closed_at, closed_by",
    )
    .bind(centre)
    .bind(month.first_day())
    .bind(&actor.subject)
    .fetch_optional(&mut *tx)
    .await?;
    let closed = closed.ok_or_else(crate::domain::calendar::already_closed)?;
    let totals =
        account_totals(&mut *tx, centre, Some(month.first_day()), month.last_day()).await?;
    let figures = crate::report::Figures::of(&totals);
    enqueue(
        tx,
        Some(centre),
        &events::PeriodClosed {
            centre_id: centre.to_string(),
            period: month.to_string(),
            currency: books.currency.clone(),
            own_income_minor: figures.own_income,
            expenditure_minor: figures.expenditure,
            closed_at: closed.closed_at.map(timestamp),
        },
    )
    .await?;
    audit(
        tx,
        actor,
        "period.closed",
        Some(centre),
        &month.to_string(),
        serde_json::json!({
            "own_income_minor": figures.own_income,
            "expenditure_minor": figures.expenditure,
        }),
    )
    .await?;
    Ok(closed)
}

pub async fn periods(pool: &PgPool, centre: Uuid) -> Result<Vec<PeriodRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT month, closed_at, closed_by FROM periods WHERE centre_id = $1 ORDER BY month",
    )
    .bind(centre)
    .fetch_all(pool)
    .await
}

/// Sets a budget line and announces any threshold spending has already reached.
pub async fn set_budget(
    tx: &mut PgConnection,
    centre: Uuid,
    year: i32,
    category: BudgetCategory,
    amount_minor: i64,
    actor: &Actor,
) -> Result<String, Error> {
    let books = ensure_centre(tx, centre).await?;
    sqlx::query(
        "INSERT INTO budgets (centre_id, fiscal_year, category, amount_minor, currency)
         VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (centre_id, fiscal_year, category) DO UPDATE SET amount_minor = EXCLUDED.amount_minor",
    )
    .bind(centre)
    .bind(year)
    .bind(category.as_str())
    .bind(amount_minor)
    .bind(&books.currency)
    .execute(&mut *tx)
    .await?;
    audit(
        tx,
        actor,
        "budget.set",
        Some(centre),
        &format!("{year}/{}", category.as_str()),
        serde_json::json!({ "amount_minor": amount_minor, "currency": books.currency }),
    )
    .await?;
    check_thresholds(tx, centre, year, category.as_str(), actor).await?;
    Ok(books.currency)
}

/// Announces each threshold of the budget line that spending has reached, once. The
/// budget row is locked first, so concurrent postings see each other's spending.
async fn check_thresholds(
    tx: &mut PgConnection,
    centre: Uuid,
    year: i32,
    category: &str,
    actor: &Actor,
) -> Result<(), sqlx::Error> {
    let budget: Option<(i64, String)> = sqlx::query_as(
        "SELECT amount_minor, currency FROM budgets
         WHERE centre_id = $1 AND fiscal_year = $2 AND category = $3 FOR UPDATE",
    )
    .bind(centre)
    .bind(year)
    .bind(category)
    .fetch_optional(&mut *tx)
    .await?;
    let Some((budget, currency)) = budget else {
        return Ok(());
    };
    let first = NaiveDate::from_ymd_opt(year, 1, 1).expect("1 January exists");
    let last = NaiveDate::from_ymd_opt(year, 12, 31).expect("31 December exists");
    let actual: i64 = sqlx::query_scalar(
        "SELECT coalesce(sum(l.debit_minor - l.credit_minor), 0)::bigint
         FROM journal_lines l
         JOIN journal_entries e ON e.id = l.entry_id
         JOIN accounts a ON a.centre_id = l.centre_id AND a.code = l.account_code
         WHERE l.centre_id = $1 AND a.budget_category = $2 AND e.entry_date BETWEEN $3 AND $4",
    )
    .bind(centre)
    .bind(category)
    .bind(first)
    .bind(last)
    .fetch_one(&mut *tx)
    .await?;
    for percent in THRESHOLDS {
        if !threshold_reached(actual, budget, percent) {
            continue;
        }
        let reached: Option<DateTime<Utc>> = sqlx::query_scalar(
            "INSERT INTO budget_alerts (centre_id, fiscal_year, category, threshold_percent)
             VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING RETURNING reached_at",
        )
        .bind(centre)
        .bind(year)
        .bind(category)
        .bind(percent)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(reached_at) = reached else {
            continue;
        };
        enqueue(
            tx,
            Some(centre),
            &events::BudgetThresholdReached {
                centre_id: centre.to_string(),
                fiscal_year: year,
                category: category.to_owned(),
                threshold_percent: percent,
                budget_minor: budget,
                actual_minor: actual,
                currency: currency.clone(),
                reached_at: Some(timestamp(reached_at)),
            },
        )
        .await?;
        audit(
            tx,
            actor,
            "budget.threshold_reached",
            Some(centre),
            &format!("{year}/{category}"),
            serde_json::json!({ "threshold_percent": percent, "budget_minor": budget, "actual_minor": actual }),
        )
        .await?;
    }
    Ok(())
}

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct BudgetRow {
    pub category: String,
    pub amount_minor: i64,
}

pub async fn budgets(
    pool: &PgPool,
    centre: Uuid,
    year: i32,
) -> Result<Vec<BudgetRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT category, amount_minor FROM budgets WHERE centre_id = $1 AND fiscal_year = $2",
    )
    .bind(centre)
    .bind(year)
    .fetch_all(pool)
    .await
}

/// One account's debits and credits over a span of dates.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct AccountTotal {
    pub code: String,
    pub name: String,
    pub kind: String,
    pub funding_source: Option<String>,
    pub budget_category: Option<String>,
    pub debit_minor: i64,
    pub credit_minor: i64,
}

/// Every account of the centre with its totals for entries dated from `from` (or the
/// beginning) to `to`, inclusive.
pub async fn account_totals(
    conn: impl sqlx::PgExecutor<'_>,
    centre: Uuid,
    from: Option<NaiveDate>,
    to: NaiveDate,
) -> Result<Vec<AccountTotal>, sqlx::Error> {
    sqlx::query_as(
        "SELECT a.code, a.name, a.kind, a.funding_source, a.budget_category,
                coalesce(sum(l.debit_minor), 0)::bigint AS debit_minor,
                coalesce(sum(l.credit_minor), 0)::bigint AS credit_minor
         FROM accounts a
         LEFT JOIN (journal_lines l JOIN journal_entries e ON e.id = l.entry_id)
           ON l.centre_id = a.centre_id AND l.account_code = a.code
          AND ($2::date IS NULL OR e.entry_date >= $2) AND e.entry_date <= $3
         WHERE a.centre_id = $1
         GROUP BY a.code, a.name, a.kind, a.funding_source, a.budget_category
         ORDER BY a.code",
    )
    .bind(centre)
    .bind(from)
    .bind(to)
    .fetch_all(conn)
    .await
}

/// Takes the centre's next receipt number for `year`. The counter row stays locked until
/// the caller's transaction ends, so numbers are issued one at a time and a rollback
/// returns its number: no gap, no duplicate.
pub async fn next_receipt_number(
    tx: &mut PgConnection,
    centre: Uuid,
    year: i32,
) -> Result<i32, sqlx::Error> {
    sqlx::query_scalar(
        "INSERT INTO receipt_counters (centre_id, year, last_number) VALUES ($1, $2, 1)
         ON CONFLICT (centre_id, year) DO UPDATE SET last_number = receipt_counters.last_number + 1
         RETURNING last_number",
    )
    .bind(centre)
    .bind(year)
    .fetch_one(tx)
    .await
}

pub struct NewDonation<'a> {
    pub id: Uuid,
    pub centre_id: Uuid,
    pub anonymous: bool,
    pub donor_name: Option<Sealed>,
    pub donor_resident_id: Option<Uuid>,
    pub amount_minor: i64,
    pub purpose: &'a str,
    pub method: &'a str,
    pub received_on: NaiveDate,
}

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct DonationRow {
    pub id: Uuid,
    pub centre_id: Uuid,
    pub receipt_year: i32,
    pub receipt_number: i32,
    pub anonymous: bool,
    pub donor_name_sealed: Option<Vec<u8>>,
    pub donor_name_key_id: Option<String>,
    pub donor_resident_id: Option<Uuid>,
    pub amount_minor: i64,
    pub currency: String,
    pub purpose: String,
    pub method: String,
    pub received_on: NaiveDate,
    pub entry_id: Uuid,
}

impl DonationRow {
    pub fn sealed_donor_name(&self) -> Option<Sealed> {
        match (&self.donor_name_sealed, &self.donor_name_key_id) {
            (Some(bytes), Some(key_id)) => Some(Sealed {
                key_id: key_id.clone(),
                bytes: bytes.clone(),
            }),
            _ => None,
        }
    }
}

macro_rules! donation_columns {
    () => {
        "id, centre_id, receipt_year, receipt_number, anonymous, donor_name_sealed,
         donor_name_key_id, donor_resident_id, amount_minor, currency, purpose, method,
         received_on, entry_id"
    };
}

/// Records a donation: its entry, then its receipt number (taken last, so the counter is
/// held for as short a time as possible), its event and its audit record.
pub async fn record_donation(
    tx: &mut PgConnection,
    donation: &NewDonation<'_>,
    entry: &NewEntry,
    actor: &Actor,
) -> Result<DonationRow, Error> {
    // A donor who is a resident is one of this centre's.
    if let Some(resident) = donation.donor_resident_id {
        directory::require_resident(tx, donation.centre_id, resident, "donor_resident_id").await?;
    }
    let posted = post(tx, entry, actor).await?;
    let year = donation.received_on.year();
    let number = next_receipt_number(tx, donation.centre_id, year).await?;
    let row: DonationRow = sqlx::query_as(concat!(
        "INSERT INTO donations (id, centre_id, receipt_year, receipt_number, anonymous,
             donor_name_sealed, donor_name_key_id, donor_resident_id, amount_minor, currency,
             purpose, method, received_on, entry_id)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)
         RETURNING ",
        donation_columns!()
    ))
    .bind(donation.id)
    .bind(donation.centre_id)
    .bind(year)
    .bind(number)
    .bind(donation.anonymous)
    .bind(donation.donor_name.as_ref().map(|s| s.bytes.clone()))
    .bind(donation.donor_name.as_ref().map(|s| s.key_id.clone()))
    .bind(donation.donor_resident_id)
    .bind(donation.amount_minor)
    .bind(&posted.head.currency)
    .bind(donation.purpose)
    .bind(donation.method)
    .bind(donation.received_on)
    .bind(posted.head.id)
    .fetch_one(&mut *tx)
    .await?;
    enqueue(
        tx,
        Some(donation.centre_id),
        &events::DonationReceived {
            donation_id: row.id.to_string(),
            centre_id: row.centre_id.to_string(),
            receipt_year: year,
            receipt_number: number,
            amount_minor: row.amount_minor,
            currency: row.currency.clone(),
            anonymous: row.anonymous,
            received_on: row.received_on.to_string(),
            entry_id: row.entry_id.to_string(),
        },
    )
    .await?;
    audit(
        tx,
        actor,
        "donation.received",
        Some(donation.centre_id),
        &row.id.to_string(),
        serde_json::json!({
            "receipt": format!("{year}-{number:06}"),
            "amount_minor": row.amount_minor,
            "anonymous": row.anonymous,
        }),
    )
    .await?;
    Ok(row)
}

pub async fn donation_exists(pool: &PgPool, id: Uuid) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM donations WHERE id = $1)")
        .bind(id)
        .fetch_one(pool)
        .await
}

/// A centre's donations (of one receipt year when given) by receipt, after the keyset
/// `after` (receipt year, number), at most `limit`.
pub async fn donations(
    pool: &PgPool,
    centre: Uuid,
    year: Option<i32>,
    after: Option<(i32, i32)>,
    limit: i64,
) -> Result<Vec<DonationRow>, sqlx::Error> {
    sqlx::query_as(concat!(
        "SELECT ",
        donation_columns!(),
        " FROM donations WHERE centre_id = $1 AND ($2::int IS NULL OR receipt_year = $2)
           AND ($3::int IS NULL OR (receipt_year, receipt_number) > ($3, $4))
         ORDER BY receipt_year, receipt_number LIMIT $5"
    ))
    .bind(centre)
    .bind(year)
    .bind(after.map(|(year, _)| year))
    .bind(after.map(|(_, number)| number))
    .bind(limit)
    .fetch_all(pool)
    .await
}

/// Every donation a resident made at the centre, for their copy of their data.
pub async fn donations_of_resident(
    pool: &PgPool,
    centre: Uuid,
    resident: Uuid,
) -> Result<Vec<DonationRow>, sqlx::Error> {
    sqlx::query_as(concat!(
        "SELECT ",
        donation_columns!(),
        " FROM donations WHERE centre_id = $1 AND donor_resident_id = $2
         ORDER BY receipt_year, receipt_number"
    ))
    .bind(centre)
    .bind(resident)
    .fetch_all(pool)
    .await
}

/// An erased resident's name leaves every donation they made; the amounts stay, as the
/// books must.
pub async fn forget_donor(
    tx: &mut PgConnection,
    resident: Uuid,
    actor: &Actor,
) -> Result<u64, sqlx::Error> {
    let rows: Vec<(Uuid, Uuid)> = sqlx::query_as(
        "UPDATE donations SET donor_name_sealed = NULL, donor_name_key_id = NULL,
                donor_erased_at = coalesce(donor_erased_at, now())
         WHERE donor_resident_id = $1 RETURNING id, centre_id",
    )
    .bind(resident)
    .fetch_all(&mut *tx)
    .await?;
    for (donation, centre) in &rows {
        audit(
            tx,
            actor,
            "donation.donor_erased",
            Some(*centre),
            &donation.to_string(),
            serde_json::json!({ "resident_id": resident }),
        )
        .await?;
    }
    Ok(rows.len() as u64)
}

/// Records a grant and posts it: bank debited, the source's income account credited.
#[allow(clippy::too_many_arguments)]
pub async fn record_grant(
    tx: &mut PgConnection,
    id: Uuid,
    kind: FundingSource,
    granting_body: &str,
    purpose: &str,
    entry: &NewEntry,
    actor: &Actor,
) -> Result<EntryRow, Error> {
    let posted = post(tx, entry, actor).await?;
    sqlx::query(
        "INSERT INTO grants (id, centre_id, kind, granting_body, purpose, amount_minor, currency, received_on, entry_id)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(id)
    .bind(entry.centre_id)
    .bind(kind.as_str())
    .bind(granting_body)
    .bind(purpose)
    .bind(entry.total_minor())
    .bind(entry.currency.as_str())
    .bind(entry.entry_date)
    .bind(entry.id)
    .execute(&mut *tx)
    .await?;
    audit(
        tx,
        actor,
        "grant.recorded",
        Some(entry.centre_id),
        &id.to_string(),
        serde_json::json!({ "kind": kind.as_str(), "granting_body": granting_body, "purpose": purpose, "amount_minor": entry.total_minor() }),
    )
    .await?;
    Ok(posted)
}

pub async fn record_partnership(
    tx: &mut PgConnection,
    id: Uuid,
    partner: Uuid,
    entry: &NewEntry,
    actor: &Actor,
) -> Result<EntryRow, Error> {
    // The partner pays as one of this centre's partners (an agreement with it).
    directory::require_partner(tx, entry.centre_id, partner, "partner_id").await?;
    let posted = post(tx, entry, actor).await?;
    sqlx::query(
        "INSERT INTO partnership_income (id, centre_id, partner_id, description, amount_minor, currency, received_on, entry_id)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(id)
    .bind(entry.centre_id)
    .bind(partner)
    .bind(&entry.description)
    .bind(entry.total_minor())
    .bind(entry.currency.as_str())
    .bind(entry.entry_date)
    .bind(entry.id)
    .execute(&mut *tx)
    .await?;
    audit(
        tx,
        actor,
        "partnership_income.recorded",
        Some(entry.centre_id),
        &id.to_string(),
        serde_json::json!({ "partner_id": partner, "amount_minor": entry.total_minor() }),
    )
    .await?;
    Ok(posted)
}

pub struct FeeCharge<'a> {
    pub charge_id: &'a str,
    pub booking_id: &'a str,
    /// The resident charged, when the event names one.
    pub resident_id: Option<Uuid>,
    pub list_price_minor: i64,
    pub concession: &'a str,
}

/// Books a fee charged by bookings: receivable debited, fee income credited.
pub async fn record_fee(
    tx: &mut PgConnection,
    fee: &FeeCharge<'_>,
    entry: &NewEntry,
    actor: &Actor,
) -> Result<(), Error> {
    post(tx, entry, actor).await?;
    sqlx::query(
        "INSERT INTO fee_charges (charge_id, centre_id, booking_id, amount_minor, list_price_minor, concession, currency, entry_id, resident_id)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(fee.charge_id)
    .bind(entry.centre_id)
    .bind(fee.booking_id)
    .bind(entry.total_minor())
    .bind(fee.list_price_minor)
    .bind(fee.concession)
    .bind(entry.currency.as_str())
    .bind(entry.id)
    .bind(fee.resident_id)
    .execute(&mut *tx)
    .await?;
    Ok(())
}

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct FeeChargeRow {
    pub centre_id: Uuid,
    pub amount_minor: i64,
    pub refunded_minor: i64,
    pub currency: String,
    pub entry_id: Uuid,
}

/// The charge, locked for the refund that is about to change it.
pub async fn fee_charge_for_refund(
    tx: &mut PgConnection,
    charge_id: &str,
) -> Result<Option<FeeChargeRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT centre_id, amount_minor, refunded_minor, currency, entry_id FROM fee_charges
         WHERE charge_id = $1 FOR UPDATE",
    )
    .bind(charge_id)
    .fetch_optional(tx)
    .await
}

pub async fn add_refund(
    tx: &mut PgConnection,
    charge_id: &str,
    minor: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE fee_charges SET refunded_minor = refunded_minor + $2 WHERE charge_id = $1")
        .bind(charge_id)
        .bind(minor)
        .execute(tx)
        .await?;
    Ok(())
}

/// Appends one record to the audit trail.
pub async fn audit(
    tx: &mut PgConnection,
    actor: &Actor,
    action: &str,
    centre: Option<Uuid>,
    subject: &str,
    details: serde_json::Value,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO audit_trail (actor, action, centre_id, subject, details, trace_id)
         VALUES ($1, $2, $3, $4, $5::jsonb, $6)",
    )
    .bind(&actor.subject)
    .bind(action)
    .bind(centre)
    .bind(subject)
    .bind(details.to_string())
    .bind(&actor.trace_id)
    .execute(tx)
    .await?;
    Ok(())
}

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct AuditRow {
    pub seq: i64,
    pub at: DateTime<Utc>,
    pub actor: String,
    pub action: String,
    pub subject: String,
    /// JSON text.
    pub details: String,
    pub trace_id: Option<String>,
}

/// A centre's audit trail, newest first, before the record `before` (its seq), at most
/// `limit`.
pub async fn audit_trail(
    pool: &PgPool,
    centre: Uuid,
    before: Option<i64>,
    limit: i64,
) -> Result<Vec<AuditRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT seq, at, actor, action, subject, details::text AS details, trace_id FROM audit_trail
         WHERE centre_id = $1 AND ($3::bigint IS NULL OR seq < $3) ORDER BY seq DESC LIMIT $2",
    )
    .bind(centre)
    .bind(limit)
    .bind(before)
    .fetch_all(pool)
    .await
}
