//! The organisation review's rows (运营管理评估, issue 24): the district's checklist, the
//! reviews and their items. Each write opens its own transaction, loads what the rule
//! needs (the period's figures, the partner income finance posted, the item's maximum),
//! asks [`crate::domain::review`] and persists what it decided.

use chrono::{DateTime, NaiveDate, Utc};
use linli_platform::db::transaction;
use linli_platform::directory;
use linli_platform::error::Error;
use sqlx::{PgConnection, PgPool};

use crate::domain::Period;
use crate::domain::ids::{CentreId, ReviewId};
use crate::domain::review::{self, Amount, ChecklistItem, Item, Review, Scored};

#[derive(sqlx::FromRow)]
struct ChecklistRow {
    key: String,
    section: String,
    title: String,
    max_score: i32,
    measure: String,
}

#[derive(sqlx::FromRow)]
struct ReviewRow {
    id: ReviewId,
    centre_id: CentreId,
    period: String,
    reviewer: String,
    started_at: DateTime<Utc>,
}

#[derive(sqlx::FromRow)]
struct ItemRow {
    review_id: ReviewId,
    key: String,
    section: String,
    title: String,
    max_score: i32,
    measure: String,
    measured: bool,
    measured_numerator: i64,
    measured_denominator: i64,
    score: Option<i32>,
    evidence: String,
    follow_up: String,
    follow_up_due_on: Option<NaiveDate>,
    measured_amount_minor: i64,
    measured_currency: String,
}

impl From<ChecklistRow> for ChecklistItem {
    fn from(r: ChecklistRow) -> ChecklistItem {
        ChecklistItem {
            key: r.key,
            section: r.section,
            title: r.title,
            max_score: r.max_score,
            measure: r.measure,
        }
    }
}

impl From<ReviewRow> for Review {
    fn from(r: ReviewRow) -> Review {
        Review {
            id: r.id,
            centre_id: r.centre_id,
            period: r.period,
            reviewer: r.reviewer,
            started_at: r.started_at,
        }
    }
}

impl From<ItemRow> for Item {
    fn from(r: ItemRow) -> Item {
        Item {
            review_id: r.review_id,
            key: r.key,
            section: r.section,
            title: r.title,
            max_score: r.max_score,
            measure: r.measure,
            measured: r.measured,
            measured_numerator: r.measured_numerator,
            measured_denominator: r.measured_denominator,
            score: r.score,
            evidence: r.evidence,
            follow_up: r.follow_up,
            follow_up_due_on: r.follow_up_due_on,
            measured_amount_minor: r.measured_amount_minor,
            measured_currency: r.measured_currency,
        }
    }
}

async fn checklist_in(conn: &mut PgConnection) -> Result<Vec<ChecklistItem>, sqlx::Error> {
    let rows: Vec<ChecklistRow> = sqlx::query_as(
        "SELECT key, section, title, max_score, measure FROM review_checklist ORDER BY position, key",
    )
    .fetch_all(conn)
    .await?;
    Ok(rows.into_iter().map(ChecklistItem::from).collect())
}

async fn items_of(conn: &mut PgConnection, reviews: &[ReviewId]) -> Result<Vec<Item>, sqlx::Error> {
    let rows: Vec<ItemRow> = sqlx::query_as(
        "SELECT review_id, key, section, title, max_score, measure, measured, measured_numerator,
                measured_denominator, score, evidence, follow_up, follow_up_due_on,
                measured_amount_minor, measured_currency
           FROM org_review_items WHERE review_id = ANY($1) ORDER BY position, key",
    )
    .bind(reviews)
    .fetch_all(conn)
    .await?;
    Ok(rows.into_iter().map(Item::from).collect())
}

async fn review_of(
    conn: &mut PgConnection,
    centre: CentreId,
    id: ReviewId,
) -> Result<(Review, Vec<Item>), Error> {
    let review: ReviewRow = sqlx::query_as(
        "SELECT id, centre_id, period, reviewer, started_at FROM org_reviews
          WHERE centre_id = $1 AND id = $2",
    )
    .bind(centre)
    .bind(id)
    .fetch_optional(&mut *conn)
    .await?
    .ok_or(Error::NotFound("review"))?;
    let items = items_of(conn, &[id]).await?;
    Ok((review.into(), items))
}

/// The district's checklist, in its order.
pub async fn checklist(pool: &PgPool) -> Result<Vec<ChecklistItem>, Error> {
    let mut conn = pool.acquire().await?;
    Ok(checklist_in(&mut conn).await?)
}

/// Replaces the checklist with `items` (already checked by [`review::checklist`]); a
/// review begun keeps the copy it made.
pub async fn set_checklist(
    pool: &PgPool,
    items: Vec<ChecklistItem>,
) -> Result<Vec<ChecklistItem>, Error> {
    transaction(pool, async |tx| -> Result<_, Error> {
        sqlx::query("DELETE FROM review_checklist")
            .execute(&mut *tx)
            .await?;
        for (i, item) in items.iter().enumerate() {
            sqlx::query(
                "INSERT INTO review_checklist (key, position, section, title, max_score, measure)
                 VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(&item.key)
            .bind(i as i32 + 1)
            .bind(&item.section)
            .bind(&item.title)
            .bind(item.max_score)
            .bind(&item.measure)
            .execute(&mut *tx)
            .await?;
        }
        Ok(checklist_in(tx).await?)
    })
    .await
}

/// Begins the centre's review for `period` ([`review::not_begun`], [`review::begin`]),
/// from the checklist as it is and the period's figures.
pub async fn start(
    pool: &PgPool,
    centre: CentreId,
    period: &Period,
    reviewer: &str,
    now: DateTime<Utc>,
) -> Result<(Review, Vec<Item>), Error> {
    transaction(pool, async |tx| -> Result<_, Error> {
        let zone = directory::time_zone(tx, centre.uuid()).await?;
        let taken: Option<ReviewId> =
            sqlx::query_scalar("SELECT id FROM org_reviews WHERE centre_id = $1 AND period = $2")
                .bind(centre)
                .bind(period.name())
                .fetch_optional(&mut *tx)
                .await?;
        review::not_begun(taken.is_some(), period)?;
        let figures = super::centre_kpi_figures(tx, period, centre.uuid(), zone, now)
            .await?
            .figures;
        let income = partner_income(tx, centre, period).await?;
        let checklist = checklist_in(tx).await?;
        let (review, items) = review::begin(
            centre,
            period,
            reviewer,
            checklist,
            &figures,
            income.as_ref(),
            now,
        );
        sqlx::query(
            "INSERT INTO org_reviews (id, centre_id, period, reviewer, started_at)
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(review.id)
        .bind(centre)
        .bind(&review.period)
        .bind(&review.reviewer)
        .bind(review.started_at)
        .execute(&mut *tx)
        .await?;
        for (i, item) in items.iter().enumerate() {
            sqlx::query(
                "INSERT INTO org_review_items (review_id, key, position, section, title, max_score,
                                               measure, measured, measured_numerator, measured_denominator,
                                               measured_amount_minor, measured_currency)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
            )
            .bind(item.review_id)
            .bind(&item.key)
            .bind(i as i32 + 1)
            .bind(&item.section)
            .bind(&item.title)
            .bind(item.max_score)
            .bind(&item.measure)
            .bind(item.measured)
            .bind(item.measured_numerator)
            .bind(item.measured_denominator)
            .bind(item.measured_amount_minor)
            .bind(&item.measured_currency)
            .execute(&mut *tx)
            .await?;
        }
        review_of(tx, centre, review.id).await
    })
    .await
}

/// The partnership income finance posted for the centre in the period (the centre's
/// calendar days), with its currency; None when finance posted nothing for the centre then.
async fn partner_income(
    conn: &mut PgConnection,
    centre: CentreId,
    period: &Period,
) -> Result<Option<Amount>, sqlx::Error> {
    let row: (i64, Option<i64>, Option<String>) = sqlx::query_as(
        "SELECT count(*), sum(partnership_income_minor)::bigint, min(currency)
           FROM ledger_effects WHERE centre_id = $1 AND entry_date >= $2 AND entry_date < $3",
    )
    .bind(centre)
    .bind(period.start)
    .bind(period.end)
    .fetch_one(conn)
    .await?;
    Ok((row.0 > 0).then(|| Amount {
        minor: row.1.unwrap_or_default(),
        currency: row.2.unwrap_or_else(|| "CNY".into()),
    }))
}

/// Scores one item of the centre's review, within its maximum ([`review::score_within`]).
pub async fn score(
    pool: &PgPool,
    centre: CentreId,
    id: ReviewId,
    key: &str,
    scored: &Scored,
) -> Result<(Review, Vec<Item>), Error> {
    transaction(pool, async |tx| -> Result<_, Error> {
        let max: i32 = sqlx::query_scalar(
            "SELECT i.max_score FROM org_review_items i JOIN org_reviews r ON r.id = i.review_id
              WHERE r.centre_id = $1 AND r.id = $2 AND i.key = $3 FOR UPDATE OF i",
        )
        .bind(centre)
        .bind(id)
        .bind(key)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or(Error::NotFound("review item"))?;
        review::score_within(scored.score, max)?;
        sqlx::query(
            "UPDATE org_review_items SET score = $3, evidence = $4, follow_up = $5,
                    follow_up_due_on = $6
              WHERE review_id = $1 AND key = $2",
        )
        .bind(id)
        .bind(key)
        .bind(scored.score)
        .bind(&scored.evidence)
        .bind(&scored.follow_up)
        .bind(scored.follow_up_due_on)
        .execute(&mut *tx)
        .await?;
        review_of(tx, centre, id).await
    })
    .await
}

/// The centre's reviews, the latest first, each with its items.
pub async fn reviews(pool: &PgPool, centre: CentreId) -> Result<Vec<(Review, Vec<Item>)>, Error> {
    let mut conn = pool.acquire().await?;
    let reviews: Vec<ReviewRow> = sqlx::query_as(
        "SELECT id, centre_id, period, reviewer, started_at FROM org_reviews
          WHERE centre_id = $1 ORDER BY started_at DESC, id LIMIT 100",
    )
    .bind(centre)
    .fetch_all(&mut *conn)
    .await?;
    let ids: Vec<ReviewId> = reviews.iter().map(|r| r.id).collect();
    let items = items_of(&mut conn, &ids).await?;
    Ok((reviews.into_iter())
        .map(|r| {
            let theirs = (items.iter())
                .filter(|i| i.review_id == r.id)
                .cloned()
                .collect();
            (r.into(), theirs)
        })
        .collect())
}
