//! The organisation review's part of evaluation's gRPC surface (运营管理评估, issue 24):
//! the caller checked (the district keeps the checklist; the district or the centre's
//! manager reviews; every staff role reads), the request read, one store call, mapped.

use chrono::Utc;
use linli_platform::auth::{Access, caller, request_centre, scoped_centre};
use linli_platform::error::Violations;
use linli_platform::wire::timestamp;
use linli_proto::evaluation::v1 as pb;
use sqlx::PgPool;
use tonic::{Request, Response, Status};

use crate::domain::ids::{CentreId, ReviewId};
use crate::domain::review::{self, CHECKLIST_KEEPERS, ChecklistItem, Item, REVIEWERS, Review};
use crate::domain::{Period, READERS};
use crate::store::reviews as store;

fn checklist_to_pb(items: Vec<ChecklistItem>) -> pb::ReviewChecklist {
    pb::ReviewChecklist {
        items: (items.into_iter())
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

fn review_to_pb((review, items): (Review, Vec<Item>)) -> pb::OrgReview {
    let (total_score, max_total) = review::totals(&items);
    pb::OrgReview {
        id: review.id.to_string(),
        centre_id: review.centre_id.to_string(),
        period: review.period,
        items: (items.into_iter())
            .map(|i| pb::OrgReviewItem {
                measured_value: i.measured_value(),
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
                follow_up_due_on: (i.follow_up_due_on)
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

pub async fn get_checklist(
    pool: &PgPool,
    request: Request<pb::GetReviewChecklistRequest>,
) -> Result<Response<pb::ReviewChecklist>, Status> {
    caller(&request)?.require_role(Access::Read, READERS)?;
    Ok(Response::new(checklist_to_pb(
        store::checklist(pool).await?,
    )))
}

pub async fn set_checklist(
    pool: &PgPool,
    request: Request<pb::SetReviewChecklistRequest>,
) -> Result<Response<pb::ReviewChecklist>, Status> {
    caller(&request)?.require_role(Access::Write, CHECKLIST_KEEPERS)?;
    let asked = (request.into_inner().items.into_iter())
        .map(|i| ChecklistItem {
            key: i.key,
            section: i.section,
            title: i.title,
            max_score: i.max_score,
            measure: i.measure,
        })
        .collect();
    let items = review::checklist(asked)?;
    Ok(Response::new(checklist_to_pb(
        store::set_checklist(pool, items).await?,
    )))
}

pub async fn start(
    pool: &PgPool,
    request: Request<pb::StartOrgReviewRequest>,
) -> Result<Response<pb::OrgReview>, Status> {
    let who = caller(&request)?;
    let centre = scoped_centre(who, &request.get_ref().centre_id, Access::Write, REVIEWERS)?;
    let period = Period::field(request.get_ref().period.trim())?;
    let begun = store::start(
        pool,
        CentreId::from_uuid(centre),
        &period,
        &who.subject,
        Utc::now(),
    )
    .await?;
    Ok(Response::new(review_to_pb(begun)))
}

pub async fn score(
    pool: &PgPool,
    request: Request<pb::ScoreOrgReviewItemRequest>,
) -> Result<Response<pb::OrgReview>, Status> {
    let centre = request_centre(&request, |r| &r.centre_id, Access::Write, REVIEWERS)?;
    let r = request.into_inner();
    let mut v = Violations::default();
    let id = v.check(ReviewId::parse("review_id", &r.review_id));
    let scored = review::scored(
        r.score,
        &r.evidence,
        &r.follow_up,
        &r.follow_up_due_on,
        &mut v,
    );
    let (Some(id), true) = (id, v.is_empty()) else {
        return Err(v.into());
    };
    let centre = CentreId::from_uuid(centre);
    let scored = store::score(pool, centre, id, r.item_key.trim(), &scored).await?;
    Ok(Response::new(review_to_pb(scored)))
}

pub async fn list(
    pool: &PgPool,
    request: Request<pb::ListOrgReviewsRequest>,
) -> Result<Response<pb::ListOrgReviewsResponse>, Status> {
    let centre = request_centre(&request, |r| &r.centre_id, Access::Read, READERS)?;
    let reviews = store::reviews(pool, CentreId::from_uuid(centre)).await?;
    Ok(Response::new(pb::ListOrgReviewsResponse {
        reviews: reviews.into_iter().map(review_to_pb).collect(),
    }))
}
