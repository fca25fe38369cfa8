//! The evaluation routes: the plan's KPIs (centre, district, series), quality indicators,
//! and the instruments (surveys, follow-ups, inspections, the suggestion box).

use axum::Json;
use axum::Router;
use axum::routing::post;
use linli_proto::evaluation::v1 as pb;
use utoipa::OpenApi;

use crate::json::{FromPb, Grpc, Reply};
use crate::{AppState, forward, page, reply};

#[derive(OpenApi)]
#[openapi(paths(rebuild))]
pub struct EvaluationDoc;

pub fn routes() -> Router<AppState> {
    forwarded().route("/v1/evaluation/rebuild", post(rebuild))
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

forward! { tag = "evaluation", "KPIs, quality, surveys, follow-ups, inspections and suggestions";
    /// Every centre the caller covers, side by side, with the district roll-up.
    get "/v1/kpis" => district_kpis(g; query q: pb::GetDistrictKpisRequest) -> 200 pb::DistrictKpis
        = evaluation.get_district_kpis

    /// The plan's KPIs for a centre and period.
    get "/v1/centres/{centre_id}/kpis" => centre_kpis(g, centre_id; query q: pb::GetCentreKpisRequest)
        -> 200 pb::CentreKpis = evaluation.get_centre_kpis

    /// One KPI month by month, for charts.
    get "/v1/centres/{centre_id}/kpis/{kpi}/series" => kpi_series(g, centre_id, kpi; query q: pb::GetKpiSeriesRequest)
        -> 200 pb::KpiSeries = evaluation.get_kpi_series

    /// Quality indicators for the centre, an offering or a staff member.
    get "/v1/centres/{centre_id}/quality" => quality(g, centre_id; query q: pb::GetQualityIndicatorsRequest)
        -> 200 pb::QualityIndicators = evaluation.get_quality_indicators

    /// The survey templates a centre may use.
    get "/v1/centres/{centre_id}/survey-templates" => list_templates(g, centre_id) -> 200 pb::ListSurveyTemplatesResponse
        = evaluation.list_survey_templates(pb::ListSurveyTemplatesRequest)

    /// Adds a survey template for the centre.
    post "/v1/centres/{centre_id}/survey-templates" => create_template(g, centre_id; body t: pb::SurveyTemplate)
        -> 201 pb::SurveyTemplate = evaluation.create_survey_template(pb::CreateSurveyTemplateRequest, template)

    /// Survey invitations, newest first.
    get "/v1/centres/{centre_id}/invitations" => list_invitations(g, centre_id; query q: pb::ListInvitationsRequest)
        -> 200 pb::ListInvitationsResponse = evaluation.list_invitations

    /// Invites a resident (or anyone, anonymously) to answer a survey.
    post "/v1/centres/{centre_id}/invitations" => create_invitation(g, centre_id; body i: pb::CreateInvitationRequest)
        -> 201 pb::Invitation = evaluation.create_invitation

    /// Records the one response to an invitation.
    post "/v1/centres/{centre_id}/invitations/{invitation_id}/response"
        => submit_response(g, centre_id, invitation_id; body r: pb::SubmitResponseRequest) -> 200 pb::Invitation,
        (409, "Already answered") = evaluation.submit_response

    /// Phone follow-up tasks.
    get "/v1/centres/{centre_id}/follow-ups" => list_follow_ups(g, centre_id; query q: pb::ListFollowUpsRequest)
        -> 200 pb::ListFollowUpsResponse = evaluation.list_follow_ups

    /// Assigns a phone follow-up to a staff member.
    post "/v1/centres/{centre_id}/follow-ups" => create_follow_up(g, centre_id; body f: pb::CreateFollowUpRequest)
        -> 201 pb::FollowUp = evaluation.create_follow_up

    /// Records a follow-up's outcome.
    post "/v1/centres/{centre_id}/follow-ups/{follow_up_id}/completion"
        => complete_follow_up(g, centre_id, follow_up_id; body c: pb::CompleteFollowUpRequest) -> 200 pb::FollowUp
        = evaluation.complete_follow_up

    /// On-site inspections, newest first.
    get "/v1/centres/{centre_id}/inspections" => list_inspections(g, centre_id; query q: pb::ListInspectionsRequest)
        -> 200 pb::ListInspectionsResponse = evaluation.list_inspections

    /// Records an on-site inspection with its checklist.
    post "/v1/centres/{centre_id}/inspections" => record_inspection(g, centre_id; body i: pb::RecordInspectionRequest)
        -> 201 pb::Inspection = evaluation.record_inspection

    /// The suggestion box, oldest first.
    get "/v1/centres/{centre_id}/suggestions" => list_suggestions(g, centre_id; query q: pb::ListSuggestionsRequest)
        -> 200 SuggestionList = evaluation.list_suggestions

    /// Records a resident's suggestion (named or anonymous).
    post "/v1/centres/{centre_id}/suggestions" => submit_suggestion(g, centre_id; body s: pb::SubmitSuggestionRequest)
        -> 201 Suggestion = evaluation.submit_suggestion

    /// Moves a suggestion to its next status; illegal moves are refused with why.
    post "/v1/centres/{centre_id}/suggestions/{suggestion_id}/status"
        => move_suggestion(g, centre_id, suggestion_id; body m: pb::MoveSuggestionRequest) -> 200 Suggestion,
        (422, "Not the next status") = evaluation.move_suggestion

    /// The centre's board (理事会): its members with their terms and committees (current
    /// ones only with `current_only=true`).
    get "/v1/centres/{centre_id}/board/members"
        => list_board_members(g, centre_id; query q: pb::ListBoardMembersRequest) -> 200 pb::ListBoardMembersResponse
        = evaluation.list_board_members

    /// Adds a board member: a resident of the centre (sector resident, `resident_id`), or
    /// someone from government, business or an NGO (a partner's contact with `partner_id`).
    /// Members of the finance oversight group (`finance_oversight`) are the centre's auditors.
    post "/v1/centres/{centre_id}/board/members" => add_board_member(g, centre_id; body b: pb::BoardMember)
        -> 201 pb::BoardMember, (422, "The resident or partner is not the centre's")
        = evaluation.add_board_member(pb::AddBoardMemberRequest, member)

    /// Sets a member's committees; joining and leaving are each audited.
    post "/v1/centres/{centre_id}/board/members/{member_id}/committees"
        => set_board_committees(g, centre_id, member_id; body b: pb::SetBoardCommitteesRequest) -> 200 pb::BoardMember,
        (422, "The membership has ended") = evaluation.set_board_committees

    /// Ends a membership (on `ended_on`, default today), leaving every committee.
    post "/v1/centres/{centre_id}/board/members/{member_id}/end"
        => end_board_membership(g, centre_id, member_id; body b: pb::EndBoardMembershipRequest) -> 200 pb::BoardMember,
        (422, "The membership has already ended") = evaluation.end_board_membership

    /// Every membership change, the latest first.
    get "/v1/centres/{centre_id}/board/audit"
        => list_board_audit(g, centre_id; query q: pb::ListBoardAuditRequest) -> 200 pb::ListBoardAuditResponse
        = evaluation.list_board_audit

    /// The board's meetings, the latest first, each with its decisions.
    get "/v1/centres/{centre_id}/board/meetings" => list_board_meetings(g, centre_id) -> 200 pb::ListBoardMeetingsResponse
        = evaluation.list_board_meetings(pb::ListBoardMeetingsRequest)

    /// Records a meeting held: date, attendance, agenda, minutes and decisions (each with
    /// an owner among the members and a due date).
    post "/v1/centres/{centre_id}/board/meetings" => record_board_meeting(g, centre_id; body b: pb::BoardMeeting)
        -> 201 pb::BoardMeeting = evaluation.record_board_meeting(pb::RecordBoardMeetingRequest, meeting)

    /// The board's decisions, soonest due first (`open_only=true`: those not yet done).
    get "/v1/centres/{centre_id}/board/decisions"
        => list_board_decisions(g, centre_id; query q: pb::ListBoardDecisionsRequest) -> 200 pb::ListBoardDecisionsResponse
        = evaluation.list_board_decisions

    /// Marks a decision done (on `done_on`, default today); once.
    post "/v1/centres/{centre_id}/board/decisions/{decision_id}/done"
        => complete_board_decision(g, centre_id, decision_id; body b: pb::CompleteBoardDecisionRequest)
        -> 200 pb::BoardDecision, (422, "Already done") = evaluation.complete_board_decision

    /// The district's checklist for the organisation review (运营管理评估).
    get "/v1/review-checklist" => get_review_checklist(g) -> 200 pb::ReviewChecklist
        = evaluation.get_review_checklist(pb::GetReviewChecklistRequest)

    /// Replaces the checklist (the district admin); reviews begun keep their copy.
    put "/v1/review-checklist" => set_review_checklist(g; body b: pb::SetReviewChecklistRequest) -> 200 pb::ReviewChecklist
        = evaluation.set_review_checklist

    /// The centre's organisation reviews, the latest first.
    get "/v1/centres/{centre_id}/org-reviews" => list_org_reviews(g, centre_id) -> 200 pb::ListOrgReviewsResponse
        = evaluation.list_org_reviews(pb::ListOrgReviewsRequest)

    /// Begins the centre's review for a period: the checklist, with the items Linli
    /// measures pre-filled from its figures for the period.
    post "/v1/centres/{centre_id}/org-reviews" => start_org_review(g, centre_id; body b: pb::StartOrgReviewRequest)
        -> 201 pb::OrgReview, (409, "The centre's review for the period has begun already") = evaluation.start_org_review

    /// Scores one item, with the evidence and a follow-up action.
    put "/v1/centres/{centre_id}/org-reviews/{review_id}/items/{item_key}"
        => score_org_review_item(g, centre_id, review_id, item_key; body b: pb::ScoreOrgReviewItemRequest)
        -> 200 pb::OrgReview = evaluation.score_org_review_item
}
