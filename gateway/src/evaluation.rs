//! The evaluation routes: the plan's KPIs (centre, district, series), quality indicators,
//! and the instruments (surveys, follow-ups, inspections, the suggestion box).

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::{DateTime, SecondsFormat};
use linli_proto::evaluation::v1 as pb;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, OpenApi, ToSchema};

use crate::AppState;
use crate::auth::Authenticated;
use crate::problem::Problem;
use crate::routes::ApiJson;

#[derive(OpenApi)]
#[openapi(
    paths(centre_kpis, district_kpis, kpi_series, quality, rebuild, list_templates, create_template,
        list_invitations, create_invitation, submit_response, list_follow_ups, create_follow_up,
        complete_follow_up, list_inspections, record_inspection, list_suggestions, submit_suggestion,
        move_suggestion),
    tags((name = "evaluation", description = "KPIs, quality, surveys, follow-ups, inspections and suggestions"))
)]
pub struct EvaluationDoc;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/v1/centres/{centre_id}/kpis", get(centre_kpis))
        .route("/v1/kpis", get(district_kpis))
        .route("/v1/centres/{centre_id}/kpis/{kpi}/series", get(kpi_series))
        .route("/v1/centres/{centre_id}/quality", get(quality))
        .route("/v1/evaluation/rebuild", post(rebuild))
        .route(
            "/v1/centres/{centre_id}/survey-templates",
            get(list_templates).post(create_template),
        )
        .route(
            "/v1/centres/{centre_id}/invitations",
            get(list_invitations).post(create_invitation),
        )
        .route(
            "/v1/centres/{centre_id}/invitations/{invitation_id}/response",
            post(submit_response),
        )
        .route(
            "/v1/centres/{centre_id}/follow-ups",
            get(list_follow_ups).post(create_follow_up),
        )
        .route(
            "/v1/centres/{centre_id}/follow-ups/{follow_up_id}/completion",
            post(complete_follow_up),
        )
        .route(
            "/v1/centres/{centre_id}/inspections",
            get(list_inspections).post(record_inspection),
        )
        .route(
            "/v1/centres/{centre_id}/suggestions",
            get(list_suggestions).post(submit_suggestion),
        )
        .route(
            "/v1/centres/{centre_id}/suggestions/{suggestion_id}/status",
            post(move_suggestion),
        )
}

fn time_text(t: Option<prost_types::Timestamp>) -> Option<String> {
    t.and_then(|t| DateTime::from_timestamp(t.seconds, t.nanos.max(0) as u32))
        .map(|t| t.to_rfc3339_opts(SecondsFormat::Secs, true))
}

fn none_if_empty(text: String) -> Option<String> {
    Some(text).filter(|t| !t.is_empty())
}

/// One KPI: numerator over denominator, against the plan's target.
#[derive(Serialize, ToSchema)]
pub struct Kpi {
    #[schema(example = "participation")]
    pub name: String,
    pub numerator: i64,
    pub denominator: i64,
    pub value: f64,
    /// 0 when the KPI is only reported.
    pub target: f64,
    pub met: bool,
    /// False while there is nothing to measure.
    pub has_data: bool,
    pub unit: String,
}

impl From<pb::Kpi> for Kpi {
    fn from(k: pb::Kpi) -> Self {
        Kpi {
            name: k.name,
            numerator: k.numerator,
            denominator: k.denominator,
            value: k.value,
            target: k.target,
            met: k.met,
            has_data: k.has_data,
            unit: k.unit,
        }
    }
}

/// A centre's KPIs for a period.
#[derive(Serialize, ToSchema)]
pub struct CentreKpis {
    pub centre_id: String,
    /// Residents registered at the centre (all time).
    pub registered_residents: i64,
    pub period: String,
    pub from: Option<String>,
    pub to: Option<String>,
    pub kpis: Vec<Kpi>,
}

impl From<pb::CentreKpis> for CentreKpis {
    fn from(c: pb::CentreKpis) -> Self {
        CentreKpis {
            centre_id: c.centre_id,
            registered_residents: c.registered_residents,
            period: c.period,
            from: time_text(c.from),
            to: time_text(c.to),
            kpis: c.kpis.into_iter().map(Kpi::from).collect(),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct DistrictKpis {
    pub period: String,
    pub centres: Vec<CentreKpis>,
    /// Numerators and denominators summed over the centres.
    pub district: Vec<Kpi>,
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

#[derive(Serialize, ToSchema)]
pub struct KpiPoint {
    pub period: String,
    pub kpi: Option<Kpi>,
}

#[derive(Serialize, ToSchema)]
pub struct KpiSeries {
    pub kpi: String,
    pub points: Vec<KpiPoint>,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct QualityQuery {
    pub period: Option<String>,
    pub offering_id: Option<String>,
    pub staff_id: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct QualityIndicators {
    pub period: String,
    pub effectiveness: f64,
    pub professionalism: f64,
    pub satisfaction: f64,
    pub timeliness: f64,
    pub responses: i64,
}

#[derive(Serialize, ToSchema)]
pub struct Rebuilt {
    pub facts_replayed: i64,
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct Question {
    pub key: String,
    pub text: String,
    /// scale (1–5), single, multiple or text.
    pub kind: String,
    #[serde(default)]
    pub options: Vec<String>,
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct SurveyTemplate {
    #[serde(default)]
    pub id: String,
    /// satisfaction, awareness or periodic.
    pub kind: String,
    pub title: String,
    pub questions: Vec<Question>,
}

#[derive(Serialize, ToSchema)]
pub struct TemplateList {
    pub templates: Vec<SurveyTemplate>,
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct Answer {
    pub key: String,
    pub score: Option<i32>,
    #[serde(default)]
    pub choices: Vec<String>,
    #[serde(default)]
    pub text: String,
}

#[derive(Serialize, ToSchema)]
pub struct Invitation {
    pub id: String,
    pub template_id: String,
    pub resident_id: Option<String>,
    pub delivery_id: Option<String>,
    pub offering_id: Option<String>,
    pub staff_id: Option<String>,
    pub created_at: Option<String>,
    pub answered: bool,
    pub answered_at: Option<String>,
    pub answers: Vec<Answer>,
}

impl From<pb::Invitation> for Invitation {
    fn from(i: pb::Invitation) -> Self {
        Invitation {
            id: i.id,
            template_id: i.template_id,
            resident_id: none_if_empty(i.resident_id),
            delivery_id: none_if_empty(i.delivery_id),
            offering_id: none_if_empty(i.offering_id),
            staff_id: none_if_empty(i.staff_id),
            created_at: time_text(i.created_at),
            answered: i.answered,
            answered_at: time_text(i.answered_at),
            answers: i
                .answers
                .into_iter()
                .map(|a| Answer {
                    key: a.key,
                    score: a.score,
                    choices: a.choices,
                    text: a.text,
                })
                .collect(),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct InvitationList {
    pub invitations: Vec<Invitation>,
    /// Pass as `page_token` for the next page; absent on the last page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_page_token: Option<String>,
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
    pub answers: Vec<Answer>,
}

#[derive(Serialize, ToSchema)]
pub struct FollowUp {
    pub id: String,
    pub resident_id: Option<String>,
    pub staff_id: String,
    pub reason: String,
    pub due_on: String,
    /// open, done or unreachable.
    pub status: String,
    pub outcome: String,
    pub done_at: Option<String>,
}

impl From<pb::FollowUp> for FollowUp {
    fn from(f: pb::FollowUp) -> Self {
        FollowUp {
            id: f.id,
            resident_id: none_if_empty(f.resident_id),
            staff_id: f.staff_id,
            reason: f.reason,
            due_on: f.due_on,
            status: f.status,
            outcome: f.outcome,
            done_at: time_text(f.done_at),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct FollowUpList {
    pub follow_ups: Vec<FollowUp>,
    /// Pass as `page_token` for the next page; absent on the last page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_page_token: Option<String>,
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

#[derive(Serialize, Deserialize, ToSchema)]
pub struct InspectionItem {
    pub item: String,
    pub passed: bool,
    /// 0–10.
    pub score: i32,
    #[serde(default)]
    pub note: String,
}

#[derive(Serialize, ToSchema)]
pub struct Inspection {
    pub id: String,
    pub inspector: String,
    pub inspected_on: String,
    pub items: Vec<InspectionItem>,
    /// 0–100.
    pub score: i32,
}

impl From<pb::Inspection> for Inspection {
    fn from(i: pb::Inspection) -> Self {
        Inspection {
            id: i.id,
            inspector: i.inspector,
            inspected_on: i.inspected_on,
            items: i
                .items
                .into_iter()
                .map(|x| InspectionItem {
                    item: x.item,
                    passed: x.passed,
                    score: x.score,
                    note: x.note,
                })
                .collect(),
            score: i.score,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct InspectionList {
    pub inspections: Vec<Inspection>,
    /// Pass as `page_token` for the next page; absent on the last page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_page_token: Option<String>,
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
    pub items: Vec<InspectionItem>,
}

#[derive(Serialize, ToSchema)]
pub struct Suggestion {
    pub id: String,
    pub resident_id: Option<String>,
    pub channel: String,
    pub text: String,
    /// received, in_progress, answered or closed.
    pub status: String,
    pub reply: String,
    pub received_at: Option<String>,
    pub answered_at: Option<String>,
    pub seconds_to_answer: Option<i64>,
}

impl From<pb::Suggestion> for Suggestion {
    fn from(s: pb::Suggestion) -> Self {
        let answered = s.answered_at.is_some();
        Suggestion {
            id: s.id,
            resident_id: none_if_empty(s.resident_id),
            channel: s.channel,
            text: s.text,
            status: s.status,
            reply: s.reply,
            received_at: time_text(s.received_at),
            answered_at: time_text(s.answered_at),
            seconds_to_answer: answered.then_some(s.seconds_to_answer),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct SuggestionList {
    pub suggestions: Vec<Suggestion>,
    /// Pass as `page_token` for the next page; absent on the last page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_page_token: Option<String>,
}

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

/// The plan's KPIs for a centre and period.
#[utoipa::path(get, path = "/v1/centres/{centre_id}/kpis", tag = "evaluation",
    params(("centre_id" = String, Path), PeriodQuery),
    responses((status = 200, body = CentreKpis), (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn centre_kpis(
    State(state): State<AppState>,
    auth: Authenticated,
    Path(centre_id): Path<String>,
    Query(query): Query<PeriodQuery>,
) -> Result<Json<CentreKpis>, Problem> {
    let centre = auth.centre(&centre_id)?;
    let request = pb::GetCentreKpisRequest {
        centre_id: centre.to_string(),
        period: query.period.unwrap_or_default(),
    };
    let reply = state
        .evaluation
        .clone()
        .get_centre_kpis(auth.grpc(request))
        .await?
        .into_inner();
    Ok(Json(reply.into()))
}

/// Every centre the caller covers, side by side, with the district roll-up.
#[utoipa::path(get, path = "/v1/kpis", tag = "evaluation", params(PeriodQuery),
    responses((status = 200, body = DistrictKpis), (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn district_kpis(
    State(state): State<AppState>,
    auth: Authenticated,
    Query(query): Query<PeriodQuery>,
) -> Result<Json<DistrictKpis>, Problem> {
    let request = pb::GetDistrictKpisRequest {
        period: query.period.unwrap_or_default(),
    };
    let reply = state
        .evaluation
        .clone()
        .get_district_kpis(auth.grpc(request))
        .await?
        .into_inner();
    Ok(Json(DistrictKpis {
        period: reply.period,
        centres: reply.centres.into_iter().map(CentreKpis::from).collect(),
        district: reply.district.into_iter().map(Kpi::from).collect(),
    }))
}

/// One KPI month by month, for charts.
#[utoipa::path(get, path = "/v1/centres/{centre_id}/kpis/{kpi}/series", tag = "evaluation",
    params(("centre_id" = String, Path), ("kpi" = String, Path), SeriesQuery),
    responses((status = 200, body = KpiSeries), (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn kpi_series(
    State(state): State<AppState>,
    auth: Authenticated,
    Path((centre_id, kpi)): Path<(String, String)>,
    Query(query): Query<SeriesQuery>,
) -> Result<Json<KpiSeries>, Problem> {
    let centre = auth.centre(&centre_id)?;
    let request = pb::GetKpiSeriesRequest {
        centre_id: centre.to_string(),
        kpi,
        from_month: query.from,
        to_month: query.to,
    };
    let reply = state
        .evaluation
        .clone()
        .get_kpi_series(auth.grpc(request))
        .await?
        .into_inner();
    Ok(Json(KpiSeries {
        kpi: reply.kpi,
        points: reply
            .points
            .into_iter()
            .map(|p| KpiPoint {
                period: p.period,
                kpi: p.kpi.map(Kpi::from),
            })
            .collect(),
    }))
}

/// Quality indicators for the centre, an offering or a staff member.
#[utoipa::path(get, path = "/v1/centres/{centre_id}/quality", tag = "evaluation",
    params(("centre_id" = String, Path), QualityQuery),
    responses((status = 200, body = QualityIndicators), (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn quality(
    State(state): State<AppState>,
    auth: Authenticated,
    Path(centre_id): Path<String>,
    Query(query): Query<QualityQuery>,
) -> Result<Json<QualityIndicators>, Problem> {
    let centre = auth.centre(&centre_id)?;
    let request = pb::GetQualityIndicatorsRequest {
        centre_id: centre.to_string(),
        period: query.period.unwrap_or_default(),
        offering_id: query.offering_id.unwrap_or_default(),
        staff_id: query.staff_id.unwrap_or_default(),
    };
    let q = state
        .evaluation
        .clone()
        .get_quality_indicators(auth.grpc(request))
        .await?
        .into_inner();
    Ok(Json(QualityIndicators {
        period: q.period,
        effectiveness: q.effectiveness,
        professionalism: q.professionalism,
        satisfaction: q.satisfaction,
        timeliness: q.timeliness,
        responses: q.responses,
    }))
}

/// Rebuilds evaluation's projections from its fact log (district admins).
#[utoipa::path(post, path = "/v1/evaluation/rebuild", tag = "evaluation",
    responses((status = 200, body = Rebuilt), (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn rebuild(
    State(state): State<AppState>,
    auth: Authenticated,
) -> Result<Json<Rebuilt>, Problem> {
    let request = auth.grpc_within(
        pb::RebuildProjectionsRequest {},
        std::time::Duration::from_secs(120),
    );
    let reply = state
        .evaluation
        .clone()
        .rebuild_projections(request)
        .await?
        .into_inner();
    Ok(Json(Rebuilt {
        facts_replayed: reply.facts_replayed,
    }))
}

/// The survey templates a centre may use.
#[utoipa::path(get, path = "/v1/centres/{centre_id}/survey-templates", tag = "evaluation",
    params(("centre_id" = String, Path)),
    responses((status = 200, body = TemplateList), (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn list_templates(
    State(state): State<AppState>,
    auth: Authenticated,
    Path(centre_id): Path<String>,
) -> Result<Json<TemplateList>, Problem> {
    let centre = auth.centre(&centre_id)?;
    let request = pb::ListSurveyTemplatesRequest {
        centre_id: centre.to_string(),
    };
    let reply = state
        .evaluation
        .clone()
        .list_survey_templates(auth.grpc(request))
        .await?
        .into_inner();
    Ok(Json(TemplateList {
        templates: reply
            .templates
            .into_iter()
            .map(|t| SurveyTemplate {
                id: t.id,
                kind: t.kind,
                title: t.title,
                questions: t
                    .questions
                    .into_iter()
                    .map(|q| Question {
                        key: q.key,
                        text: q.text,
                        kind: q.kind,
                        options: q.options,
                    })
                    .collect(),
            })
            .collect(),
    }))
}

/// Adds a survey template for the centre.
#[utoipa::path(post, path = "/v1/centres/{centre_id}/survey-templates", tag = "evaluation",
    params(("centre_id" = String, Path)), request_body = SurveyTemplate,
    responses((status = 201, body = SurveyTemplate), (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn create_template(
    State(state): State<AppState>,
    auth: Authenticated,
    Path(centre_id): Path<String>,
    ApiJson(body): ApiJson<SurveyTemplate>,
) -> Result<(StatusCode, Json<SurveyTemplate>), Problem> {
    let centre = auth.centre(&centre_id)?;
    let template = pb::SurveyTemplate {
        id: String::new(),
        centre_id: centre.to_string(),
        kind: body.kind,
        title: body.title,
        questions: body
            .questions
            .into_iter()
            .map(|q| pb::Question {
                key: q.key,
                text: q.text,
                kind: q.kind,
                options: q.options,
            })
            .collect(),
    };
    let request = pb::CreateSurveyTemplateRequest {
        centre_id: centre.to_string(),
        template: Some(template),
    };
    let t = state
        .evaluation
        .clone()
        .create_survey_template(auth.grpc(request))
        .await?
        .into_inner();
    Ok((
        StatusCode::CREATED,
        Json(SurveyTemplate {
            id: t.id,
            kind: t.kind,
            title: t.title,
            questions: t
                .questions
                .into_iter()
                .map(|q| Question {
                    key: q.key,
                    text: q.text,
                    kind: q.kind,
                    options: q.options,
                })
                .collect(),
        }),
    ))
}

/// Survey invitations, newest first.
#[utoipa::path(get, path = "/v1/centres/{centre_id}/invitations", tag = "evaluation",
    params(("centre_id" = String, Path), InvitationQuery),
    responses((status = 200, body = InvitationList), (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn list_invitations(
    State(state): State<AppState>,
    auth: Authenticated,
    Path(centre_id): Path<String>,
    Query(query): Query<InvitationQuery>,
) -> Result<Json<InvitationList>, Problem> {
    let centre = auth.centre(&centre_id)?;
    let request = pb::ListInvitationsRequest {
        centre_id: centre.to_string(),
        resident_id: query.resident_id.unwrap_or_default(),
        delivery_id: query.delivery_id.unwrap_or_default(),
        unanswered_only: query.unanswered_only.unwrap_or(false),
        page_size: query.page_size.unwrap_or(0),
        page_token: query.page_token.unwrap_or_default(),
    };
    let reply = state
        .evaluation
        .clone()
        .list_invitations(auth.grpc(request))
        .await?
        .into_inner();
    Ok(Json(InvitationList {
        invitations: reply
            .invitations
            .into_iter()
            .map(Invitation::from)
            .collect(),
        next_page_token: none_if_empty(reply.next_page_token),
    }))
}

/// Invites a resident (or anyone, anonymously) to answer a survey.
#[utoipa::path(post, path = "/v1/centres/{centre_id}/invitations", tag = "evaluation",
    params(("centre_id" = String, Path)), request_body = NewInvitation,
    responses((status = 201, body = Invitation), (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn create_invitation(
    State(state): State<AppState>,
    auth: Authenticated,
    Path(centre_id): Path<String>,
    ApiJson(body): ApiJson<NewInvitation>,
) -> Result<(StatusCode, Json<Invitation>), Problem> {
    let centre = auth.centre(&centre_id)?;
    let request = pb::CreateInvitationRequest {
        centre_id: centre.to_string(),
        template_id: body.template_id,
        resident_id: body.resident_id.unwrap_or_default(),
    };
    let reply = state
        .evaluation
        .clone()
        .create_invitation(auth.grpc(request))
        .await?
        .into_inner();
    Ok((StatusCode::CREATED, Json(reply.into())))
}

/// Records the one response to an invitation.
#[utoipa::path(post, path = "/v1/centres/{centre_id}/invitations/{invitation_id}/response", tag = "evaluation",
    params(("centre_id" = String, Path), ("invitation_id" = String, Path)), request_body = Response,
    responses((status = 200, body = Invitation), (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, body = Problem, content_type = "application/problem+json", description = "Already answered")),
    security(("bearer" = [])))]
pub async fn submit_response(
    State(state): State<AppState>,
    auth: Authenticated,
    Path((centre_id, invitation_id)): Path<(String, String)>,
    ApiJson(body): ApiJson<Response>,
) -> Result<Json<Invitation>, Problem> {
    let centre = auth.centre(&centre_id)?;
    let request = pb::SubmitResponseRequest {
        centre_id: centre.to_string(),
        invitation_id,
        answers: body
            .answers
            .into_iter()
            .map(|a| pb::Answer {
                key: a.key,
                score: a.score,
                choices: a.choices,
                text: a.text,
            })
            .collect(),
    };
    let reply = state
        .evaluation
        .clone()
        .submit_response(auth.grpc(request))
        .await?
        .into_inner();
    Ok(Json(reply.into()))
}

/// Phone follow-up tasks.
#[utoipa::path(get, path = "/v1/centres/{centre_id}/follow-ups", tag = "evaluation",
    params(("centre_id" = String, Path), FollowUpQuery),
    responses((status = 200, body = FollowUpList), (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn list_follow_ups(
    State(state): State<AppState>,
    auth: Authenticated,
    Path(centre_id): Path<String>,
    Query(query): Query<FollowUpQuery>,
) -> Result<Json<FollowUpList>, Problem> {
    let centre = auth.centre(&centre_id)?;
    let request = pb::ListFollowUpsRequest {
        centre_id: centre.to_string(),
        staff_id: query.staff_id.unwrap_or_default(),
        open_only: query.open_only.unwrap_or(false),
        page_size: query.page_size.unwrap_or(0),
        page_token: query.page_token.unwrap_or_default(),
    };
    let reply = state
        .evaluation
        .clone()
        .list_follow_ups(auth.grpc(request))
        .await?
        .into_inner();
    Ok(Json(FollowUpList {
        follow_ups: reply.follow_ups.into_iter().map(FollowUp::from).collect(),
        next_page_token: none_if_empty(reply.next_page_token),
    }))
}

/// Assigns a phone follow-up to a staff member.
#[utoipa::path(post, path = "/v1/centres/{centre_id}/follow-ups", tag = "evaluation",
    params(("centre_id" = String, Path)), request_body = NewFollowUp,
    responses((status = 201, body = FollowUp), (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn create_follow_up(
    State(state): State<AppState>,
    auth: Authenticated,
    Path(centre_id): Path<String>,
    ApiJson(body): ApiJson<NewFollowUp>,
) -> Result<(StatusCode, Json<FollowUp>), Problem> {
    let centre = auth.centre(&centre_id)?;
    let request = pb::CreateFollowUpRequest {
        centre_id: centre.to_string(),
        resident_id: body.resident_id.unwrap_or_default(),
        staff_id: body.staff_id,
        reason: body.reason,
        due_on: body.due_on,
    };
    let reply = state
        .evaluation
        .clone()
        .create_follow_up(auth.grpc(request))
        .await?
        .into_inner();
    Ok((StatusCode::CREATED, Json(reply.into())))
}

/// Records a follow-up's outcome.
#[utoipa::path(post, path = "/v1/centres/{centre_id}/follow-ups/{follow_up_id}/completion", tag = "evaluation",
    params(("centre_id" = String, Path), ("follow_up_id" = String, Path)), request_body = FollowUpCompletion,
    responses((status = 200, body = FollowUp), (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn complete_follow_up(
    State(state): State<AppState>,
    auth: Authenticated,
    Path((centre_id, follow_up_id)): Path<(String, String)>,
    ApiJson(body): ApiJson<FollowUpCompletion>,
) -> Result<Json<FollowUp>, Problem> {
    let centre = auth.centre(&centre_id)?;
    let request = pb::CompleteFollowUpRequest {
        centre_id: centre.to_string(),
        follow_up_id,
        status: body.status,
        outcome: body.outcome,
    };
    let reply = state
        .evaluation
        .clone()
        .complete_follow_up(auth.grpc(request))
        .await?
        .into_inner();
    Ok(Json(reply.into()))
}

/// On-site inspections, newest first.
#[utoipa::path(get, path = "/v1/centres/{centre_id}/inspections", tag = "evaluation",
    params(("centre_id" = String, Path), InspectionQuery),
    responses((status = 200, body = InspectionList), (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn list_inspections(
    State(state): State<AppState>,
    auth: Authenticated,
    Path(centre_id): Path<String>,
    Query(query): Query<InspectionQuery>,
) -> Result<Json<InspectionList>, Problem> {
    let centre = auth.centre(&centre_id)?;
    let request = pb::ListInspectionsRequest {
        centre_id: centre.to_string(),
        page_size: query.page_size.unwrap_or(0),
        page_token: query.page_token.unwrap_or_default(),
    };
    let reply = state
        .evaluation
        .clone()
        .list_inspections(auth.grpc(request))
        .await?
        .into_inner();
    Ok(Json(InspectionList {
        inspections: reply
            .inspections
            .into_iter()
            .map(Inspection::from)
            .collect(),
        next_page_token: none_if_empty(reply.next_page_token),
    }))
}

/// Records an on-site inspection with its checklist.
#[utoipa::path(post, path = "/v1/centres/{centre_id}/inspections", tag = "evaluation",
    params(("centre_id" = String, Path)), request_body = NewInspection,
    responses((status = 201, body = Inspection), (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn record_inspection(
    State(state): State<AppState>,
    auth: Authenticated,
    Path(centre_id): Path<String>,
    ApiJson(body): ApiJson<NewInspection>,
) -> Result<(StatusCode, Json<Inspection>), Problem> {
    let centre = auth.centre(&centre_id)?;
    let request = pb::RecordInspectionRequest {
        centre_id: centre.to_string(),
        inspector: body.inspector,
        inspected_on: body.inspected_on,
        items: body
            .items
            .into_iter()
            .map(|i| pb::InspectionItem {
                item: i.item,
                passed: i.passed,
                score: i.score,
                note: i.note,
            })
            .collect(),
    };
    let reply = state
        .evaluation
        .clone()
        .record_inspection(auth.grpc(request))
        .await?
        .into_inner();
    Ok((StatusCode::CREATED, Json(reply.into())))
}

/// The suggestion box, oldest first.
#[utoipa::path(get, path = "/v1/centres/{centre_id}/suggestions", tag = "evaluation",
    params(("centre_id" = String, Path), SuggestionQuery),
    responses((status = 200, body = SuggestionList), (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn list_suggestions(
    State(state): State<AppState>,
    auth: Authenticated,
    Path(centre_id): Path<String>,
    Query(query): Query<SuggestionQuery>,
) -> Result<Json<SuggestionList>, Problem> {
    let centre = auth.centre(&centre_id)?;
    let request = pb::ListSuggestionsRequest {
        centre_id: centre.to_string(),
        status: query.status.unwrap_or_default(),
        page_size: query.page_size.unwrap_or(0),
        page_token: query.page_token.unwrap_or_default(),
    };
    let reply = state
        .evaluation
        .clone()
        .list_suggestions(auth.grpc(request))
        .await?
        .into_inner();
    Ok(Json(SuggestionList {
        suggestions: reply
            .suggestions
            .into_iter()
            .map(Suggestion::from)
            .collect(),
        next_page_token: none_if_empty(reply.next_page_token),
    }))
}

/// Records a resident's suggestion (named or anonymous).
#[utoipa::path(post, path = "/v1/centres/{centre_id}/suggestions", tag = "evaluation",
    params(("centre_id" = String, Path)), request_body = NewSuggestion,
    responses((status = 201, body = Suggestion), (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn submit_suggestion(
    State(state): State<AppState>,
    auth: Authenticated,
    Path(centre_id): Path<String>,
    ApiJson(body): ApiJson<NewSuggestion>,
) -> Result<(StatusCode, Json<Suggestion>), Problem> {
    let centre = auth.centre(&centre_id)?;
    let request = pb::SubmitSuggestionRequest {
        centre_id: centre.to_string(),
        resident_id: body.resident_id.unwrap_or_default(),
        channel: body.channel.unwrap_or_default(),
        text: body.text,
    };
    let reply = state
        .evaluation
        .clone()
        .submit_suggestion(auth.grpc(request))
        .await?
        .into_inner();
    Ok((StatusCode::CREATED, Json(reply.into())))
}

/// Moves a suggestion to its next status; illegal moves are refused with why.
#[utoipa::path(post, path = "/v1/centres/{centre_id}/suggestions/{suggestion_id}/status", tag = "evaluation",
    params(("centre_id" = String, Path), ("suggestion_id" = String, Path)), request_body = SuggestionMove,
    responses((status = 200, body = Suggestion), (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json", description = "Not the next status")),
    security(("bearer" = [])))]
pub async fn move_suggestion(
    State(state): State<AppState>,
    auth: Authenticated,
    Path((centre_id, suggestion_id)): Path<(String, String)>,
    ApiJson(body): ApiJson<SuggestionMove>,
) -> Result<Json<Suggestion>, Problem> {
    let centre = auth.centre(&centre_id)?;
    let request = pb::MoveSuggestionRequest {
        centre_id: centre.to_string(),
        suggestion_id,
        status: body.status,
        reply: body.reply.unwrap_or_default(),
    };
    let reply = state
        .evaluation
        .clone()
        .move_suggestion(auth.grpc(request))
        .await?
        .into_inner();
    Ok(Json(reply.into()))
}
