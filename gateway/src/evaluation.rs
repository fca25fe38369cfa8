//! The evaluation routes: the plan's KPIs (centre, district, series), quality indicators,
//! and the instruments (surveys, follow-ups, inspections, the suggestion box).

use axum::Json;
use axum::Router;
use axum::routing::post;
use linli_proto::evaluation::v1 as pb;
use serde::Deserialize;
use utoipa::{IntoParams, OpenApi, ToSchema};

use crate::json::{FromPb, Grpc, Reply};
use crate::{AppState, call, forward, page, reply};

#[derive(OpenApi)]
#[openapi(
    paths(rebuild),
    tags((name = "evaluation", description = "KPIs, quality, surveys, follow-ups, inspections and suggestions"))
)]
pub struct EvaluationDoc;

pub fn routes() -> Router<AppState> {
    forwarded().route("/v1/evaluation/rebuild", post(rebuild))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PeriodQuery {
    /// "2027-03", "2027-Q1" or "2027"; default the current month.
    pub period: Option<String>,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SeriesQuery {
    /// First month, YYYY-MM.
    pub from: String,
    /// Last month, YYYY-MM.
    pub to: String,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct QualityQuery {
    pub period: Option<String>,
    pub offering_id: Option<String>,
    pub staff_id: Option<String>,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct InvitationQuery {
    pub resident_id: Option<String>,
    pub delivery_id: Option<String>,
    pub unanswered_only: Option<bool>,
    /// 1 to 200; default 50.
    pub page_size: Option<u32>,
    /// The previous page's `next_page_token`.
    pub page_token: Option<String>,
}

#[derive(Deserialize, ToSchema)]
pub struct NewInvitation {
    pub template_id: String,
    pub resident_id: Option<String>,
}

#[derive(Deserialize, ToSchema)]
pub struct Response {
    pub answers: Vec<pb::Answer>,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct FollowUpQuery {
    pub staff_id: Option<String>,
    pub open_only: Option<bool>,
    /// 1 to 200; default 50.
    pub page_size: Option<u32>,
    /// The previous page's `next_page_token`.
    pub page_token: Option<String>,
}

#[derive(Deserialize, ToSchema)]
pub struct NewFollowUp {
    pub resident_id: Option<String>,
    pub staff_id: String,
    pub reason: String,
    /// YYYY-MM-DD.
    pub due_on: String,
}

#[derive(Deserialize, ToSchema)]
pub struct FollowUpCompletion {
    /// done or unreachable.
    pub status: String,
    #[serde(default)]
    pub outcome: String,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct InspectionQuery {
    /// 1 to 200; default 50.
    pub page_size: Option<u32>,
    /// The previous page's `next_page_token`.
    pub page_token: Option<String>,
}

#[derive(Deserialize, ToSchema)]
pub struct NewInspection {
    pub inspector: String,
    /// YYYY-MM-DD.
    pub inspected_on: String,
    pub items: Vec<pb::InspectionItem>,
}

reply! {
    pub struct Suggestion from pb::Suggestion as s {
        pub id: String,
        pub resident_id: Option<String>,
        pub channel: String,
        pub text: String,
        /// received, in_progress, answered or closed.
        pub status: String,
        pub reply: String,
        pub received_at: Option<String>,
        pub answered_at: Option<String> = FromPb::from_pb(s.answered_at),
        pub seconds_to_answer: Option<i64> = s.answered_at.is_some().then_some(s.seconds_to_answer),
    }
}

page!(pub struct SuggestionList from pb::ListSuggestionsResponse { pub suggestions: Vec<Suggestion> });

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SuggestionQuery {
    pub status: Option<String>,
    /// 1 to 200; default 50.
    pub page_size: Option<u32>,
    /// The previous page's `next_page_token`.
    pub page_token: Option<String>,
}

#[derive(Deserialize, ToSchema)]
pub struct NewSuggestion {
    /// Empty for an anonymous suggestion.
    pub resident_id: Option<String>,
    /// box, phone, online or in_person.
    pub channel: Option<String>,
    pub text: String,
}

#[derive(Deserialize, ToSchema)]
pub struct SuggestionMove {
    /// The next status: in_progress, answered or closed.
    pub status: String,
    /// Required to answer.
    pub reply: Option<String>,
}

/// Rebuilds evaluation's projections from its fact log (district admins).
#[utoipa::path(post, path = "/v1/evaluation/rebuild", tag = "evaluation",
    responses((status = 200, body = pb::RebuildProjectionsResponse)))]
pub async fn rebuild(g: Grpc) -> Reply<pb::RebuildProjectionsResponse> {
    let deadline = std::time::Duration::from_secs(120);
    let request = g
        .auth
        .grpc_within(pb::RebuildProjectionsRequest {}, deadline);
    let reply = g
        .state
        .evaluation
        .clone()
        .rebuild_projections(request)
        .await?;
    Ok(Json(reply.into_inner()))
}

forward! { tag = "evaluation";
    /// Every centre the caller covers, side by side, with the district roll-up.
    get "/v1/kpis" => district_kpis(g; query q: PeriodQuery) -> 200 pb::DistrictKpis {
        call!(g.evaluation.get_district_kpis(pb::GetDistrictKpisRequest { period: q.period.unwrap_or_default() }))
    }

    /// The plan's KPIs for a centre and period.
    get "/v1/centres/{centre_id}/kpis" => centre_kpis(g, centre; query q: PeriodQuery) -> 200 pb::CentreKpis {
        let period = q.period.unwrap_or_default();
        call!(g.evaluation.get_centre_kpis(pb::GetCentreKpisRequest { centre_id: g.centre(&centre)?, period }))
    }

    /// One KPI month by month, for charts.
    get "/v1/centres/{centre_id}/kpis/{kpi}/series" => kpi_series(g, centre, kpi; query q: SeriesQuery) -> 200 pb::KpiSeries {
        call!(g.evaluation.get_kpi_series(pb::GetKpiSeriesRequest {
            centre_id: g.centre(&centre)?,
            kpi,
            from_month: q.from,
            to_month: q.to,
        }))
    }

    /// Quality indicators for the centre, an offering or a staff member.
    get "/v1/centres/{centre_id}/quality" => quality(g, centre; query q: QualityQuery) -> 200 pb::QualityIndicators {
        call!(g.evaluation.get_quality_indicators(pb::GetQualityIndicatorsRequest {
            centre_id: g.centre(&centre)?,
            period: q.period.unwrap_or_default(),
            offering_id: q.offering_id.unwrap_or_default(),
            staff_id: q.staff_id.unwrap_or_default(),
        }))
    }

    /// The survey templates a centre may use.
    get "/v1/centres/{centre_id}/survey-templates" => list_templates(g, centre) -> 200 pb::ListSurveyTemplatesResponse {
        let centre_id = g.centre(&centre)?;
        call!(g.evaluation.list_survey_templates(pb::ListSurveyTemplatesRequest { centre_id }))
    }

    /// Adds a survey template for the centre.
    post "/v1/centres/{centre_id}/survey-templates" => create_template(g, centre; body t: pb::SurveyTemplate)
        -> 201 pb::SurveyTemplate {
        let centre_id = g.centre(&centre)?;
        let template = pb::SurveyTemplate { id: String::new(), centre_id: centre_id.clone(), ..t };
        let request = pb::CreateSurveyTemplateRequest { centre_id, template: Some(template) };
        call!(g.evaluation.create_survey_template(request))
    }

    /// Survey invitations, newest first.
    get "/v1/centres/{centre_id}/invitations" => list_invitations(g, centre; query q: InvitationQuery)
        -> 200 pb::ListInvitationsResponse {
        call!(g.evaluation.list_invitations(pb::ListInvitationsRequest {
            centre_id: g.centre(&centre)?,
            resident_id: q.resident_id.unwrap_or_default(),
            delivery_id: q.delivery_id.unwrap_or_default(),
            unanswered_only: q.unanswered_only.unwrap_or(false),
            page_size: q.page_size.unwrap_or(0),
            page_token: q.page_token.unwrap_or_default(),
        }))
    }

    /// Invites a resident (or anyone, anonymously) to answer a survey.
    post "/v1/centres/{centre_id}/invitations" => create_invitation(g, centre; body i: NewInvitation) -> 201 pb::Invitation {
        call!(g.evaluation.create_invitation(pb::CreateInvitationRequest {
            centre_id: g.centre(&centre)?,
            template_id: i.template_id,
            resident_id: i.resident_id.unwrap_or_default(),
        }))
    }

    /// Records the one response to an invitation.
    post "/v1/centres/{centre_id}/invitations/{invitation_id}/response"
        => submit_response(g, centre, invitation_id; body r: Response) -> 200 pb::Invitation, (409, "Already answered") {
        let request = pb::SubmitResponseRequest { centre_id: g.centre(&centre)?, invitation_id, answers: r.answers };
        call!(g.evaluation.submit_response(request))
    }

    /// Phone follow-up tasks.
    get "/v1/centres/{centre_id}/follow-ups" => list_follow_ups(g, centre; query q: FollowUpQuery) -> 200 pb::ListFollowUpsResponse {
        call!(g.evaluation.list_follow_ups(pb::ListFollowUpsRequest {
            centre_id: g.centre(&centre)?,
            staff_id: q.staff_id.unwrap_or_default(),
            open_only: q.open_only.unwrap_or(false),
            page_size: q.page_size.unwrap_or(0),
            page_token: q.page_token.unwrap_or_default(),
        }))
    }

    /// Assigns a phone follow-up to a staff member.
    post "/v1/centres/{centre_id}/follow-ups" => create_follow_up(g, centre; body f: NewFollowUp) -> 201 pb::FollowUp {
        call!(g.evaluation.create_follow_up(pb::CreateFollowUpRequest {
            centre_id: g.centre(&centre)?,
            resident_id: f.resident_id.unwrap_or_default(),
            staff_id: f.staff_id,
            reason: f.reason,
            due_on: f.due_on,
        }))
    }

    /// Records a follow-up's outcome.
    post "/v1/centres/{centre_id}/follow-ups/{follow_up_id}/completion"
        => complete_follow_up(g, centre, follow_up_id; body c: FollowUpCompletion) -> 200 pb::FollowUp {
        call!(g.evaluation.complete_follow_up(pb::CompleteFollowUpRequest {
            centre_id: g.centre(&centre)?,
            follow_up_id,
            status: c.status,
            outcome: c.outcome,
        }))
    }

    /// On-site inspections, newest first.
    get "/v1/centres/{centre_id}/inspections" => list_inspections(g, centre; query q: InspectionQuery)
        -> 200 pb::ListInspectionsResponse {
        call!(g.evaluation.list_inspections(pb::ListInspectionsRequest {
            centre_id: g.centre(&centre)?,
            page_size: q.page_size.unwrap_or(0),
            page_token: q.page_token.unwrap_or_default(),
        }))
    }

    /// Records an on-site inspection with its checklist.
    post "/v1/centres/{centre_id}/inspections" => record_inspection(g, centre; body i: NewInspection) -> 201 pb::Inspection {
        call!(g.evaluation.record_inspection(pb::RecordInspectionRequest {
            centre_id: g.centre(&centre)?,
            inspector: i.inspector,
            inspected_on: i.inspected_on,
            items: i.items,
        }))
    }

    /// The suggestion box, oldest first.
    get "/v1/centres/{centre_id}/suggestions" => list_suggestions(g, centre; query q: SuggestionQuery)
        -> 200 SuggestionList {
        call!(g.evaluation.list_suggestions(pb::ListSuggestionsRequest {
            centre_id: g.centre(&centre)?,
            status: q.status.unwrap_or_default(),
            page_size: q.page_size.unwrap_or(0),
            page_token: q.page_token.unwrap_or_default(),
        }))
    }

    /// Records a resident's suggestion (named or anonymous).
    post "/v1/centres/{centre_id}/suggestions" => submit_suggestion(g, centre; body s: NewSuggestion) -> 201 Suggestion {
        call!(g.evaluation.submit_suggestion(pb::SubmitSuggestionRequest {
            centre_id: g.centre(&centre)?,
            resident_id: s.resident_id.unwrap_or_default(),
            channel: s.channel.unwrap_or_default(),
            text: s.text,
            anonymous: false,
        }))
    }

    /// Moves a suggestion to its next status; illegal moves are refused with why.
    post "/v1/centres/{centre_id}/suggestions/{suggestion_id}/status"
        => move_suggestion(g, centre, suggestion_id; body m: SuggestionMove) -> 200 Suggestion,
        (422, "Not the next status") {
        call!(g.evaluation.move_suggestion(pb::MoveSuggestionRequest {
            centre_id: g.centre(&centre)?,
            suggestion_id,
            status: m.status,
            reply: m.reply.unwrap_or_default(),
        }))
    }

    /// The centre's board (理事会): its members with their terms and committees (current
    /// ones only with `current_only=true`).
    get "/v1/centres/{centre_id}/board/members"
        => list_board_members(g, centre; query q: BoardMemberQuery) -> 200 pb::ListBoardMembersResponse {
        call!(g.evaluation.list_board_members(pb::ListBoardMembersRequest {
            centre_id: g.centre(&centre)?,
            current_only: q.current_only.unwrap_or_default(),
        }))
    }

    /// Adds a board member: a resident of the centre (sector resident, `resident_id`), or
    /// someone from government, business or an NGO (a partner's contact with `partner_id`).
    /// Members of the finance oversight group (`finance_oversight`) are the centre's auditors.
    post "/v1/centres/{centre_id}/board/members" => add_board_member(g, centre; body b: pb::BoardMember)
        -> 201 pb::BoardMember, (422, "The resident or partner is not the centre's") {
        call!(g.evaluation.add_board_member(pb::AddBoardMemberRequest {
            centre_id: g.centre(&centre)?,
            member: Some(b),
        }))
    }

    /// Sets a member's committees; joining and leaving are each audited.
    post "/v1/centres/{centre_id}/board/members/{member_id}/committees"
        => set_board_committees(g, centre, member_id; body b: BoardCommittees) -> 200 pb::BoardMember,
        (422, "The membership has ended") {
        call!(g.evaluation.set_board_committees(pb::SetBoardCommitteesRequest {
            centre_id: g.centre(&centre)?,
            member_id,
            committees: b.committees,
        }))
    }

    /// Ends a membership (on `ended_on`, default today), leaving every committee.
    post "/v1/centres/{centre_id}/board/members/{member_id}/end"
        => end_board_membership(g, centre, member_id; body b: BoardMembershipEnd) -> 200 pb::BoardMember,
        (422, "The membership has already ended") {
        call!(g.evaluation.end_board_membership(pb::EndBoardMembershipRequest {
            centre_id: g.centre(&centre)?,
            member_id,
            ended_on: b.ended_on.unwrap_or_default(),
        }))
    }

    /// Every membership change, the latest first.
    get "/v1/centres/{centre_id}/board/audit"
        => list_board_audit(g, centre; query q: BoardAuditQuery) -> 200 pb::ListBoardAuditResponse {
        call!(g.evaluation.list_board_audit(pb::ListBoardAuditRequest {
            centre_id: g.centre(&centre)?,
            member_id: q.member_id.unwrap_or_default(),
        }))
    }

    /// The board's meetings, the latest first, each with its decisions.
    get "/v1/centres/{centre_id}/board/meetings" => list_board_meetings(g, centre) -> 200 pb::ListBoardMeetingsResponse {
        call!(g.evaluation.list_board_meetings(pb::ListBoardMeetingsRequest { centre_id: g.centre(&centre)? }))
    }

    /// Records a meeting held: date, attendance, agenda, minutes and decisions (each with
    /// an owner among the members and a due date).
    post "/v1/centres/{centre_id}/board/meetings" => record_board_meeting(g, centre; body b: pb::BoardMeeting)
        -> 201 pb::BoardMeeting {
        call!(g.evaluation.record_board_meeting(pb::RecordBoardMeetingRequest {
            centre_id: g.centre(&centre)?,
            meeting: Some(b),
        }))
    }

    /// The board's decisions, soonest due first (`open_only=true`: those not yet done).
    get "/v1/centres/{centre_id}/board/decisions"
        => list_board_decisions(g, centre; query q: BoardDecisionQuery) -> 200 pb::ListBoardDecisionsResponse {
        call!(g.evaluation.list_board_decisions(pb::ListBoardDecisionsRequest {
            centre_id: g.centre(&centre)?,
            open_only: q.open_only.unwrap_or_default(),
        }))
    }

    /// Marks a decision done (on `done_on`, default today); once.
    post "/v1/centres/{centre_id}/board/decisions/{decision_id}/done"
        => complete_board_decision(g, centre, decision_id; body b: BoardDecisionDone) -> 200 pb::BoardDecision,
        (422, "Already done") {
        call!(g.evaluation.complete_board_decision(pb::CompleteBoardDecisionRequest {
            centre_id: g.centre(&centre)?,
            decision_id,
            done_on: b.done_on.unwrap_or_default(),
        }))
    }

    /// The district's checklist for the organisation review (运营管理评估).
    get "/v1/review-checklist" => get_review_checklist(g) -> 200 pb::ReviewChecklist {
        call!(g.evaluation.get_review_checklist(pb::GetReviewChecklistRequest {}))
    }

    /// Replaces the checklist (the district admin); reviews begun keep their copy.
    put "/v1/review-checklist" => set_review_checklist(g; body b: pb::ReviewChecklist) -> 200 pb::ReviewChecklist {
        call!(g.evaluation.set_review_checklist(pb::SetReviewChecklistRequest { items: b.items }))
    }

    /// The centre's organisation reviews, the latest first.
    get "/v1/centres/{centre_id}/org-reviews" => list_org_reviews(g, centre) -> 200 pb::ListOrgReviewsResponse {
        call!(g.evaluation.list_org_reviews(pb::ListOrgReviewsRequest { centre_id: g.centre(&centre)? }))
    }

    /// Begins the centre's review for a period: the checklist, with the items Linli
    /// measures pre-filled from its figures for the period.
    post "/v1/centres/{centre_id}/org-reviews" => start_org_review(g, centre; body b: NewOrgReview)
        -> 201 pb::OrgReview, (409, "The centre's review for the period has begun already") {
        call!(g.evaluation.start_org_review(pb::StartOrgReviewRequest {
            centre_id: g.centre(&centre)?,
            period: b.period,
        }))
    }

    /// Scores one item, with the evidence and a follow-up action.
    put "/v1/centres/{centre_id}/org-reviews/{review_id}/items/{item_key}"
        => score_org_review_item(g, centre, review_id, item_key; body b: OrgReviewScore) -> 200 pb::OrgReview {
        call!(g.evaluation.score_org_review_item(pb::ScoreOrgReviewItemRequest {
            centre_id: g.centre(&centre)?,
            review_id,
            item_key,
            score: b.score,
            evidence: b.evidence,
            follow_up: b.follow_up,
            follow_up_due_on: b.follow_up_due_on.unwrap_or_default(),
        }))
    }
}

#[derive(Deserialize, ToSchema)]
pub struct NewOrgReview {
    /// "2027", "2027-Q1" or "2027-03".
    pub period: String,
}

#[derive(Deserialize, ToSchema)]
pub struct OrgReviewScore {
    /// 0 to the item's max_score.
    pub score: i32,
    #[serde(default)]
    pub evidence: String,
    #[serde(default)]
    pub follow_up: String,
    /// YYYY-MM-DD.
    pub follow_up_due_on: Option<String>,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct BoardMemberQuery {
    pub current_only: Option<bool>,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct BoardAuditQuery {
    pub member_id: Option<String>,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct BoardDecisionQuery {
    pub open_only: Option<bool>,
}

#[derive(Deserialize, ToSchema)]
pub struct BoardCommittees {
    /// finance_oversight (财务监督小组); empty to leave every committee.
    #[serde(default)]
    pub committees: Vec<String>,
}

#[derive(Deserialize, ToSchema)]
pub struct BoardMembershipEnd {
    /// YYYY-MM-DD; default the centre's today.
    pub ended_on: Option<String>,
}

#[derive(Deserialize, ToSchema)]
pub struct BoardDecisionDone {
    /// YYYY-MM-DD; default the centre's today.
    pub done_on: Option<String>,
}
