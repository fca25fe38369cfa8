//! The organisation and resource-integration review (运营管理评估, issue 24): a periodic
//! review of a centre against the checklist the district defines (organisation; staffing
//! and training; facilities use; partner resources; finance; residents' participation).
//! A review copies the checklist when it begins, so a later checklist changes no review
//! begun; it records a score per item, the evidence and a follow-up action. Items Linli
//! measures are pre-filled with evaluation's own figures for the period, the same the
//! KPIs show: training coverage, facility utilisation, self-sufficiency and participation.
//! Partner income is an amount, not a ratio: the partnership income finance posted for the
//! centre in the period, which evaluation keeps per entry from finance.entry.posted
//! (`ledger_effects`, reversals negative); an item measuring it begins with that sum when
//! finance posted anything for the centre in the period, else unmeasured.

use chrono::{DateTime, NaiveDate, Utc};
use linli_platform::auth::{Access, Role, caller, scoped_centre};
use linli_platform::db::transaction;
use linli_platform::directory;
use linli_platform::error::{Error, Reason, Violations};
use linli_platform::wire::{parse_id, timestamp};
use linli_proto::evaluation::v1 as pb;
use sqlx::{PgConnection, PgPool};
use tonic::{Request, Response, Status};
use uuid::Uuid;

use crate::domain::{KPIS, Period, READERS};
use crate::store;

/// Who reviews a centre: the district, or the centre's manager (a self-assessment).
pub const REVIEWERS: &[Role] = &[Role::DistrictAdmin, Role::CentreManager];
pub const SECTIONS: [&str; 6] = [
    "organisation",
    "staffing_training",
    "facilities_use",
    "partner_resources",
    "finance",
    "participation",
];
pub const MEASURES: [&str; 5] = [
    "training_coverage",
    "utilisation",
    "partner_income",
    "self_sufficiency",
    "participation",
];

/// The KPI a measure is read from, when evaluation has one.
pub fn kpi_of(measure: &str) -> Option<&'static str> {
    match measure {
        "training_coverage" => Some("training_coverage"),
        "utilisation" => Some("facility_utilisation"),
        "self_sufficiency" => Some("self_sufficiency"),
        "participation" => Some("participation"),
        _ => None,
    }
}

/// A score is whole and within the item's maximum.
pub fn score_within(score: i32, max: i32) -> Result<(), Error> {
    if (0..=max).contains(&score) {
        return Ok(());
    }
    Err(Violations::one("score", Reason::between(0, max as i64)).into())
}

#[derive(Clone, Debug, sqlx::FromRow)]
struct ChecklistRow {
    key: String,
    section: String,
    title: String,
    max_score: i32,
    measure: String,
}

#[derive(Clone, Debug, sqlx::FromRow)]
struct ReviewRow {
    id: Uuid,
    centre_id: Uuid,
    period: String,
    reviewer: String,
    started_at: DateTime<Utc>,
}

#[derive(Clone, Debug, sqlx::FromRow)]
struct ItemRow {
    review_id: Uuid,
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

fn checklist_to_pb(rows: Vec<ChecklistRow>) -> pb::ReviewChecklist {
    pb::ReviewChecklist {
        items: rows
            .into_iter()
            .map(|r| pb::ChecklistItem {
                key: r.key,
                section: r.section,
                title: r.title,
                max_score: r.max_score,
                measure: r.measure,
            })
            .collect(),
    }
}

fn review_to_pb(review: ReviewRow, items: Vec<ItemRow>) -> pb::OrgReview {
    let total_score = items.iter().filter_map(|i| i.score).sum();
    let max_total = items.iter().map(|i| i.max_score).sum();
    pb::OrgReview {
        id: review.id.to_string(),
        centre_id: review.centre_id.to_string(),
        period: review.period,
        items: items
            .into_iter()
            .map(|i| pb::OrgReviewItem {
                measured_value: if i.measured && i.measured_denominator > 0 {
                    i.measured_numerator as f64 / i.measured_denominator as f64
                } else {
                    0.0
                },
                key: i.key,
                section: i.section,
                title: i.title,
                max_score: i.max_score,
                measure: i.measure,
                measured: i.measured,
                measured_numerator: i.measured_numerator,
                measured_denominator: i.measured_denominator,
                scored: i.score.is_some(),
                score: i.score.unwrap_or_default(),
                evidence: i.evidence,
                follow_up: i.follow_up,
                follow_up_due_on: i
                    .follow_up_due_on
                    .map(|d| d.format("%Y-%m-%d").to_string())
                    .unwrap_or_default(),
                measured_amount_minor: i.measured_amount_minor,
                measured_currency: i.measured_currency,
            })
            .collect(),
        total_score,
        max_total,
        reviewer: review.reviewer,
        started_at: Some(timestamp(review.started_at)),
    }
}

async fn checklist(conn: &mut PgConnection) -> Result<Vec<ChecklistRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT key, section, title, max_score, measure FROM review_checklist ORDER BY position, key",
    )
    .fetch_all(conn)
    .await
}

async fn items_of(conn: &mut PgConnection, reviews: &[Uuid]) -> Result<Vec<ItemRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT review_id, key, section, title, max_score, measure, measured, measured_numerator,
                measured_denominator, score, evidence, follow_up, follow_up_due_on,
                measured_amount_minor, measured_currency
           FROM org_review_items WHERE review_id = ANY($1) ORDER BY position, key",
    )
    .bind(reviews)
    .fetch_all(conn)
    .await
}

async fn review_of(
    conn: &mut PgConnection,
    centre: Uuid,
    id: Uuid,
) -> Result<pb::OrgReview, Error> {
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
    Ok(review_to_pb(review, items))
}

pub async fn get_checklist(
    pool: &PgPool,
    request: Request<pb::GetReviewChecklistRequest>,
) -> Result<Response<pb::ReviewChecklist>, Status> {
    caller(&request)?.require_role(Access::Read, READERS)?;
    let mut conn = pool.acquire().await.map_err(Error::from)?;
    let rows = checklist(&mut conn).await.map_err(Error::from)?;
    Ok(Response::new(checklist_to_pb(rows)))
}

pub async fn set_checklist(
    pool: &PgPool,
    request: Request<pb::SetReviewChecklistRequest>,
) -> Result<Response<pb::ReviewChecklist>, Status> {
    caller(&request)?.require_role(Access::Write, &[Role::DistrictAdmin])?;
    let items = request.into_inner().items;
    let mut v = Violations::default();
    if items.is_empty() {
        v.push("items", Reason::required());
    }
    let mut keys: Vec<&str> = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let field = |name: &str| format!("items[{i}].{name}");
        let key = item.key.as_str();
        let key_ok = (2..=50).contains(&key.len())
            && key.starts_with(|c: char| c.is_ascii_lowercase())
            && key
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
        if !key_ok {
            v.push(
                field("key"),
                Reason::new(
                    "code.format",
                    "must be 2 to 50 lower-case letters, digits or _",
                ),
            );
        } else if keys.contains(&key) {
            v.push(
                field("key"),
                Reason::new("checklist.key_repeated", "is the key of an earlier item"),
            );
        }
        keys.push(key);
        if !SECTIONS.contains(&item.section.as_str()) {
            v.push(field("section"), Reason::one_of(&SECTIONS));
        }
        let n = item.title.trim().chars().count();
        if !(1..=200).contains(&n) {
            v.push(field("title"), Reason::length(1, 200));
        }
        if !(1..=100).contains(&item.max_score) {
            v.push(field("max_score"), Reason::between(1, 100));
        }
        if !item.measure.is_empty() && !MEASURES.contains(&item.measure.as_str()) {
            v.push(field("measure"), Reason::one_of(&MEASURES));
        }
    }
    if !v.is_empty() {
        return Err(v.into());
    }
    let rows = transaction(pool, async |tx| -> Result<_, Error> {
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
            .bind(item.title.trim())
            .bind(item.max_score)
            .bind(&item.measure)
            .execute(&mut *tx)
            .await?;
        }
        Ok(checklist(tx).await?)
    })
    .await?;
    Ok(Response::new(checklist_to_pb(rows)))
}

pub async fn start(
    pool: &PgPool,
    request: Request<pb::StartOrgReviewRequest>,
) -> Result<Response<pb::OrgReview>, Status> {
    let who = caller(&request)?.clone();
    let centre = scoped_centre(&who, &request.get_ref().centre_id, Access::Write, REVIEWERS)?;
    let text = request.get_ref().period.trim().to_owned();
    let period = Period::parse(&text).ok_or_else(|| {
        Violations::one(
            "period",
            Reason::new(
                "period.format",
                "must be a month (2027-03), a quarter (2027-Q1) or a year (2027)",
            ),
        )
    })?;
    let id = Uuid::new_v4();
    let review = transaction(pool, async |tx| -> Result<_, Error> {
        let zone = directory::time_zone(tx, centre).await?;
        let taken: Option<Uuid> =
            sqlx::query_scalar("SELECT id FROM org_reviews WHERE centre_id = $1 AND period = $2")
                .bind(centre)
                .bind(period.name())
                .fetch_optional(&mut *tx)
                .await?;
        if taken.is_some() {
            return Err(Error::Conflict(
                Reason::new(
                    "review.exists",
                    format!("the centre's review for {} has begun already", period.name()),
                )
                .with("period", period.name()),
            ));
        }
        let (figures, _) = store::kpi_figures(tx, centre, &period, zone).await?;
        let partner_income = partner_income(tx, centre, &period).await?;
        sqlx::query(
            "INSERT INTO org_reviews (id, centre_id, period, reviewer) VALUES ($1, $2, $3, $4)",
        )
        .bind(id)
        .bind(centre)
        .bind(period.name())
        .bind(&who.subject)
        .execute(&mut *tx)
        .await?;
        for (i, item) in checklist(tx).await?.into_iter().enumerate() {
            let figure = kpi_of(&item.measure).and_then(|kpi| {
                KPIS.iter()
                    .position(|k| k.name == kpi)
                    .and_then(|at| figures.get(at))
                    .filter(|f| f.denominator > 0)
            });
            let amount = (item.measure == "partner_income")
                .then_some(partner_income.as_ref())
                .flatten();
            sqlx::query(
                "INSERT INTO org_review_items (review_id, key, position, section, title, max_score,
                                               measure, measured, measured_numerator, measured_denominator,
                                               measured_amount_minor, measured_currency)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
            )
            .bind(id)
            .bind(&item.key)
            .bind(i as i32 + 1)
            .bind(&item.section)
            .bind(&item.title)
            .bind(item.max_score)
            .bind(&item.measure)
            .bind(figure.is_some() || amount.is_some())
            .bind(figure.map(|f| f.numerator).unwrap_or_default())
            .bind(figure.map(|f| f.denominator).unwrap_or_default())
            .bind(amount.map(|a| a.0).unwrap_or_default())
            .bind(amount.map(|a| a.1.as_str()).unwrap_or_default())
            .execute(&mut *tx)
            .await?;
        }
        review_of(tx, centre, id).await
    })
    .await?;
    Ok(Response::new(review))
}

/// The partnership income finance posted for the centre in the period (the centre's
/// calendar days), with its currency; None when finance posted nothing for the centre then.
async fn partner_income(
    conn: &mut PgConnection,
    centre: Uuid,
    period: &Period,
) -> Result<Option<(i64, String)>, sqlx::Error> {
    let row: (i64, Option<i64>, Option<String>) = sqlx::query_as(
        "SELECT count(*), sum(partnership_income_minor)::bigint, min(currency)
           FROM ledger_effects WHERE centre_id = $1 AND entry_date >= $2 AND entry_date < $3",
    )
    .bind(centre)
    .bind(period.start)
    .bind(period.end)
    .fetch_one(conn)
    .await?;
    Ok((row.0 > 0).then(|| {
        (
            row.1.unwrap_or_default(),
            row.2.unwrap_or_else(|| "CNY".into()),
        )
    }))
}

pub async fn score(
    pool: &PgPool,
    request: Request<pb::ScoreOrgReviewItemRequest>,
) -> Result<Response<pb::OrgReview>, Status> {
    let centre = scoped_centre(
        caller(&request)?,
        &request.get_ref().centre_id,
        Access::Write,
        REVIEWERS,
    )?;
    let r = request.into_inner();
    let mut v = Violations::default();
    let id = parse_id("review_id", &r.review_id)
        .map_err(|e| v.0.extend(e.0))
        .ok();
    if r.evidence.chars().count() > 4000 {
        v.push("evidence", Reason::too_long(4000));
    }
    if r.follow_up.chars().count() > 2000 {
        v.push("follow_up", Reason::too_long(2000));
    }
    let due = if r.follow_up_due_on.trim().is_empty() {
        None
    } else {
        NaiveDate::parse_from_str(r.follow_up_due_on.trim(), "%Y-%m-%d")
            .map_err(|_| v.push("follow_up_due_on", Reason::date()))
            .ok()
    };
    let (Some(id), true) = (id, v.is_empty()) else {
        return Err(v.into());
    };
    let review = transaction(pool, async |tx| -> Result<_, Error> {
        let max: i32 = sqlx::query_scalar(
            "SELECT i.max_score FROM org_review_items i JOIN org_reviews r ON r.id = i.review_id
              WHERE r.centre_id = $1 AND r.id = $2 AND i.key = $3 FOR UPDATE OF i",
        )
        .bind(centre)
        .bind(id)
        .bind(r.item_key.trim())
        .fetch_optional(&mut *tx)
        .await?
        .ok_or(Error::NotFound("review item"))?;
        score_within(r.score, max)?;
        sqlx::query(
            "UPDATE org_review_items SET score = $3, evidence = $4, follow_up = $5,
                    follow_up_due_on = $6
              WHERE review_id = $1 AND key = $2",
        )
        .bind(id)
        .bind(r.item_key.trim())
        .bind(r.score)
        .bind(r.evidence.trim())
        .bind(r.follow_up.trim())
        .bind(due)
        .execute(&mut *tx)
        .await?;
        review_of(tx, centre, id).await
    })
    .await?;
    Ok(Response::new(review))
}

pub async fn list(
    pool: &PgPool,
    request: Request<pb::ListOrgReviewsRequest>,
) -> Result<Response<pb::ListOrgReviewsResponse>, Status> {
    let centre = scoped_centre(
        caller(&request)?,
        &request.get_ref().centre_id,
        Access::Read,
        READERS,
    )?;
    let mut conn = pool.acquire().await.map_err(Error::from)?;
    let reviews: Vec<ReviewRow> = sqlx::query_as(
        "SELECT id, centre_id, period, reviewer, started_at FROM org_reviews
          WHERE centre_id = $1 ORDER BY started_at DESC, id LIMIT 100",
    )
    .bind(centre)
    .fetch_all(&mut *conn)
    .await
    .map_err(Error::from)?;
    let ids: Vec<Uuid> = reviews.iter().map(|r| r.id).collect();
    let items = items_of(&mut conn, &ids).await.map_err(Error::from)?;
    Ok(Response::new(pb::ListOrgReviewsResponse {
        reviews: reviews
            .into_iter()
            .map(|r| {
                let theirs = items
                    .iter()
                    .filter(|i| i.review_id == r.id)
                    .cloned()
                    .collect();
                review_to_pb(r, theirs)
            })
            .collect(),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_measures_linli_has_come_from_the_kpis() {
        for measure in MEASURES {
            if let Some(kpi) = kpi_of(measure) {
                assert!(KPIS.iter().any(|k| k.name == kpi), "{kpi}");
            }
        }
        assert_eq!(kpi_of("partner_income"), None);
        assert_eq!(kpi_of("utilisation"), Some("facility_utilisation"));
    }

    #[test]
    fn a_score_is_within_the_items_maximum() {
        assert!(score_within(0, 15).is_ok());
        assert!(score_within(15, 15).is_ok());
        assert!(score_within(16, 15).is_err());
        assert!(score_within(-1, 15).is_err());
    }
}
