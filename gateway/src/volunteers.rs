//! The volunteers routes: volunteers, staff, certifications, training, opportunities and
//! shifts with sign-up and matching, hours, community groups and reviews, as JSON over
//! the volunteers service's gRPC.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::{DateTime, SecondsFormat};
use linli_proto::volunteers::v1 as pb;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, OpenApi, ToSchema};

use crate::AppState;
use crate::auth::Authenticated;
use crate::merge_patch::MergePatch;
use crate::problem::Problem;
use crate::routes::ApiJson;

#[derive(OpenApi)]
#[openapi(
    paths(list_volunteers, register_volunteer, get_volunteer, update_volunteer, patch_volunteer, set_volunteer_status,
        list_staff, add_staff, end_employment, list_certifications, add_certification,
        list_courses, create_course, schedule_training, record_completion, training_coverage,
        list_opportunities, create_opportunity, list_shifts, create_shift, match_volunteers, sign_up,
        withdraw, check_in, check_out, list_hours, log_hours, verify_hours, hours_totals,
        list_groups, create_group, add_group_member, list_reviews, create_review),
    tags((name = "volunteers", description = "Volunteers, staff, certifications, training, shifts, hours, groups and reviews"))
)]
pub struct VolunteersDoc;

pub fn routes() -> Router<AppState> {
    let base = "/v1/centres/{centre_id}";
    let at = |path: &str| format!("{base}{path}");
    Router::new()
        .route(
            &at("/volunteers"),
            get(list_volunteers).post(register_volunteer),
        )
        .route(
            &at("/volunteers/{volunteer_id}"),
            get(get_volunteer)
                .put(update_volunteer)
                .patch(patch_volunteer),
        )
        .route(
            &at("/volunteers/{volunteer_id}/status"),
            post(set_volunteer_status),
        )
        .route(&at("/staff"), get(list_staff).post(add_staff))
        .route(&at("/staff/{staff_id}/end"), post(end_employment))
        .route(
            &at("/certifications"),
            get(list_certifications).post(add_certification),
        )
        .route(&at("/courses"), get(list_courses).post(create_course))
        .route(
            &at("/courses/{course_id}/sessions"),
            post(schedule_training),
        )
        .route(
            &at("/courses/{course_id}/completions"),
            post(record_completion),
        )
        .route(&at("/training-coverage"), get(training_coverage))
        .route(
            &at("/opportunities"),
            get(list_opportunities).post(create_opportunity),
        )
        .route(&at("/shifts"), get(list_shifts).post(create_shift))
        .route(&at("/shifts/{shift_id}/matches"), get(match_volunteers))
        .route(&at("/shifts/{shift_id}/sign-ups"), post(sign_up))
        .route(&at("/assignments/{assignment_id}/withdraw"), post(withdraw))
        .route(&at("/assignments/{assignment_id}/check-in"), post(check_in))
        .route(
            &at("/assignments/{assignment_id}/check-out"),
            post(check_out),
        )
        .route(&at("/hours"), get(list_hours).post(log_hours))
        .route(&at("/hours/{entry_id}/verification"), post(verify_hours))
        .route(&at("/hours-totals"), get(hours_totals))
        .route(&at("/groups"), get(list_groups).post(create_group))
        .route(&at("/groups/{group_id}/members"), post(add_group_member))
        .route(&at("/reviews"), get(list_reviews).post(create_review))
}

fn time_text(t: Option<prost_types::Timestamp>) -> Option<String> {
    t.and_then(|t| DateTime::from_timestamp(t.seconds, t.nanos.max(0) as u32))
        .map(|t| t.to_rfc3339_opts(SecondsFormat::Secs, true))
}

fn timestamp(field: &str, text: &str) -> Result<prost_types::Timestamp, Problem> {
    let at = DateTime::parse_from_rfc3339(text).map_err(|_| {
        Problem::invalid_field(
            field,
            "must be an RFC 3339 time, e.g. 2027-03-01T09:00:00+08:00",
        )
    })?;
    Ok(prost_types::Timestamp {
        seconds: at.timestamp(),
        nanos: at.timestamp_subsec_nanos() as i32,
    })
}

fn optional_timestamp(
    field: &str,
    text: &Option<String>,
) -> Result<Option<prost_types::Timestamp>, Problem> {
    text.as_deref().map(|t| timestamp(field, t)).transpose()
}

/// An optional body: empty means now.
fn moment(body: &[u8]) -> Result<Moment, Problem> {
    if body.is_empty() {
        return Ok(Moment::default());
    }
    serde_json::from_slice(body)
        .map_err(|e| Problem::new(StatusCode::BAD_REQUEST, format!("malformed JSON: {e}")))
}

fn none_if_empty(text: String) -> Option<String> {
    Some(text).filter(|t| !t.is_empty())
}

// ---------------------------------------------------------------------------------------
// Documents

/// A weekly window in the centre's time zone.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct Window {
    /// ISO weekday, 1 = Monday.
    pub weekday: i32,
    #[schema(example = "09:00")]
    pub starts: String,
    #[schema(example = "12:00")]
    pub ends: String,
}

fn windows_to_pb(windows: Vec<Window>) -> Vec<pb::AvailabilityWindow> {
    windows
        .into_iter()
        .map(|w| pb::AvailabilityWindow {
            weekday: w.weekday,
            starts: w.starts,
            ends: w.ends,
        })
        .collect()
}

/// A volunteer's profile, as registered or updated.
#[derive(Deserialize, ToSchema)]
pub struct VolunteerProfile {
    /// Required when registering.
    #[serde(default)]
    pub resident_id: String,
    #[serde(default)]
    pub display_name: String,
    #[serde(default)]
    pub skills: Vec<String>,
    #[serde(default)]
    pub languages: Vec<String>,
    #[serde(default)]
    pub availability: Vec<Window>,
    #[serde(default)]
    pub background_checked: bool,
    #[serde(default)]
    pub background_checked_on: String,
    /// When registering: the desk holds a guardian's consent. Required for a resident aged
    /// 14 to 17; under 14 nobody volunteers.
    #[serde(default)]
    pub guardian_consent: bool,
}

#[derive(Serialize, ToSchema)]
pub struct Volunteer {
    pub id: String,
    /// Absent once the resident was erased.
    pub resident_id: Option<String>,
    pub display_name: String,
    pub skills: Vec<String>,
    pub languages: Vec<String>,
    pub availability: Vec<Window>,
    /// active, paused or left.
    pub status: String,
    pub background_checked: bool,
    pub background_checked_on: Option<String>,
    pub registered_at: Option<String>,
    pub verified_minutes: i64,
}

impl From<pb::Volunteer> for Volunteer {
    fn from(v: pb::Volunteer) -> Self {
        Volunteer {
            id: v.id,
            resident_id: none_if_empty(v.resident_id),
            display_name: v.display_name,
            skills: v.skills,
            languages: v.languages,
            availability: v
                .availability
                .into_iter()
                .map(|w| Window {
                    weekday: w.weekday,
                    starts: w.starts,
                    ends: w.ends,
                })
                .collect(),
            status: v.status,
            background_checked: v.background_checked,
            background_checked_on: none_if_empty(v.background_checked_on),
            registered_at: time_text(v.registered_at),
            verified_minutes: v.verified_minutes,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct VolunteerList {
    pub volunteers: Vec<Volunteer>,
    /// Pass as `page_token` for the next page; absent on the last page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_page_token: Option<String>,
}

#[derive(Deserialize, ToSchema)]
pub struct StatusChange {
    /// active, paused or left.
    pub status: String,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct VolunteerQuery {
    pub status: Option<String>,
    pub skill: Option<String>,
    /// 1 to 200; default 50.
    pub page_size: Option<u32>,
    /// The previous page's `next_page_token`.
    pub page_token: Option<String>,
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct StaffMember {
    #[serde(default)]
    pub id: String,
    pub name: String,
    /// government_affairs_clerk, nurse, doctor, teacher, social_worker or manager.
    pub position: String,
    #[schema(example = "2025-09-01")]
    pub employed_from: String,
    #[serde(default)]
    pub employed_until: Option<String>,
    #[serde(default)]
    pub active: bool,
}

impl From<pb::StaffMember> for StaffMember {
    fn from(s: pb::StaffMember) -> Self {
        StaffMember {
            id: s.id,
            name: s.name,
            position: s.position,
            employed_from: s.employed_from,
            employed_until: none_if_empty(s.employed_until),
            active: s.active,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct StaffList {
    pub staff: Vec<StaffMember>,
    /// Pass as `page_token` for the next page; absent on the last page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_page_token: Option<String>,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct StaffQuery {
    pub active_only: Option<bool>,
    /// 1 to 200; default 50.
    pub page_size: Option<u32>,
    /// The previous page's `next_page_token`.
    pub page_token: Option<String>,
}

#[derive(Deserialize, ToSchema)]
pub struct EmploymentEnd {
    /// The last day worked.
    pub employed_until: String,
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct Certification {
    #[serde(default)]
    pub id: String,
    /// A volunteer's or a staff member's id.
    pub holder_id: String,
    /// staff or volunteer.
    #[serde(default)]
    pub holder_kind: String,
    #[schema(example = "first_aid")]
    pub kind: String,
    pub issuer: String,
    pub number: String,
    #[serde(default)]
    pub issued_on: Option<String>,
    #[serde(default)]
    pub expires_on: Option<String>,
    #[serde(default)]
    pub expiring_announced: bool,
}

impl From<pb::Certification> for Certification {
    fn from(c: pb::Certification) -> Self {
        Certification {
            id: c.id,
            holder_id: c.holder_id,
            holder_kind: c.holder_kind,
            kind: c.kind,
            issuer: c.issuer,
            number: c.number,
            issued_on: none_if_empty(c.issued_on),
            expires_on: none_if_empty(c.expires_on),
            expiring_announced: c.expiring_announced,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct CertificationList {
    pub certifications: Vec<Certification>,
    /// Pass as `page_token` for the next page; absent on the last page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_page_token: Option<String>,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct HolderQuery {
    pub holder_id: Option<String>,
    /// 1 to 200; default 50.
    pub page_size: Option<u32>,
    /// The previous page's `next_page_token`.
    pub page_token: Option<String>,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct OpportunityQuery {
    /// 1 to 200; default 50.
    pub page_size: Option<u32>,
    /// The previous page's `next_page_token`.
    pub page_token: Option<String>,
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct Course {
    #[serde(default)]
    pub id: String,
    pub title: String,
    #[serde(default)]
    pub topic: String,
    /// staff, volunteers or all.
    pub audience: String,
    pub minutes: i32,
}

impl From<pb::Course> for Course {
    fn from(c: pb::Course) -> Self {
        Course {
            id: c.id,
            title: c.title,
            topic: c.topic,
            audience: c.audience,
            minutes: c.minutes,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct CourseList {
    pub courses: Vec<Course>,
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct TrainingSession {
    #[serde(default)]
    pub id: String,
    #[serde(default)]
    pub course_id: String,
    pub starts_at: String,
    pub ends_at: String,
    #[serde(default)]
    pub location: String,
    pub capacity: i32,
}

#[derive(Deserialize, ToSchema)]
pub struct NewCompletion {
    /// A staff member's or a volunteer's id.
    pub person_id: String,
    #[schema(example = "2027-03-01")]
    pub completed_on: String,
    pub session_id: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct Completion {
    pub id: String,
    pub course_id: String,
    pub session_id: Option<String>,
    pub person_kind: String,
    pub person_id: String,
    pub completed_on: String,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CoverageQuery {
    /// YYYY-MM-DD; default today in the centre's time zone.
    pub on: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct TrainingCoverage {
    pub on: String,
    pub active_staff: i64,
    pub trained_staff: i64,
    pub coverage: f64,
    pub target: f64,
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct Opportunity {
    #[serde(default)]
    pub id: String,
    pub title: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub required_skills: Vec<String>,
    #[serde(default)]
    pub required_certifications: Vec<String>,
    #[serde(default)]
    pub works_with_minors: bool,
    #[serde(default)]
    pub location: String,
}

impl From<pb::Opportunity> for Opportunity {
    fn from(o: pb::Opportunity) -> Self {
        Opportunity {
            id: o.id,
            title: o.title,
            description: o.description,
            required_skills: o.required_skills,
            required_certifications: o.required_certifications,
            works_with_minors: o.works_with_minors,
            location: o.location,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct OpportunityList {
    pub opportunities: Vec<Opportunity>,
    /// Pass as `page_token` for the next page; absent on the last page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_page_token: Option<String>,
}

#[derive(Deserialize, ToSchema)]
pub struct NewShift {
    pub opportunity_id: String,
    #[schema(example = "2027-03-01T09:00:00+08:00")]
    pub starts_at: String,
    #[schema(example = "2027-03-01T12:00:00+08:00")]
    pub ends_at: String,
    pub capacity: i32,
    #[serde(default)]
    pub location: String,
}

#[derive(Serialize, ToSchema)]
pub struct Shift {
    pub id: String,
    pub opportunity_id: String,
    pub starts_at: Option<String>,
    pub ends_at: Option<String>,
    pub local_date: String,
    pub capacity: i32,
    pub signed_up: i32,
    pub location: String,
}

impl From<pb::Shift> for Shift {
    fn from(s: pb::Shift) -> Self {
        Shift {
            id: s.id,
            opportunity_id: s.opportunity_id,
            starts_at: time_text(s.starts_at),
            ends_at: time_text(s.ends_at),
            local_date: s.local_date,
            capacity: s.capacity,
            signed_up: s.signed_up,
            location: s.location,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct ShiftList {
    pub shifts: Vec<Shift>,
    /// Pass as `page_token` for the next page; absent on the last page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_page_token: Option<String>,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ShiftQuery {
    pub opportunity_id: Option<String>,
    /// RFC 3339; shifts ending after it.
    pub from: Option<String>,
    /// RFC 3339; shifts starting before it.
    pub to: Option<String>,
    /// 1 to 200; default 50.
    pub page_size: Option<u32>,
    /// The previous page's `next_page_token`.
    pub page_token: Option<String>,
}

#[derive(Deserialize, ToSchema)]
pub struct NewSignUp {
    pub volunteer_id: String,
}

#[derive(Deserialize, Default, ToSchema)]
pub struct Moment {
    /// RFC 3339; default now.
    pub at: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct Assignment {
    pub id: String,
    pub shift_id: String,
    pub volunteer_id: String,
    /// signed_up, withdrawn, checked_in or completed.
    pub status: String,
    pub checked_in_at: Option<String>,
    pub checked_out_at: Option<String>,
    pub verified_minutes: i32,
}

impl From<pb::Assignment> for Assignment {
    fn from(a: pb::Assignment) -> Self {
        Assignment {
            id: a.id,
            shift_id: a.shift_id,
            volunteer_id: a.volunteer_id,
            status: a.status,
            checked_in_at: time_text(a.checked_in_at),
            checked_out_at: time_text(a.checked_out_at),
            verified_minutes: a.verified_minutes,
        }
    }
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct MatchQuery {
    pub limit: Option<i32>,
}

#[derive(Serialize, ToSchema)]
pub struct Candidate {
    pub volunteer_id: String,
    pub display_name: String,
    pub score: f64,
    pub skill_fit: f64,
    pub available: bool,
    pub recent_minutes: i64,
    pub reasons: Vec<String>,
}

impl From<pb::Candidate> for Candidate {
    fn from(c: pb::Candidate) -> Self {
        Candidate {
            volunteer_id: c.volunteer_id,
            display_name: c.display_name,
            score: c.score,
            skill_fit: c.skill_fit,
            available: c.available,
            recent_minutes: c.recent_minutes,
            reasons: c.reasons,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct Matches {
    /// Best first.
    pub ranked: Vec<Candidate>,
    /// Not qualified or not free, each with why.
    pub excluded: Vec<Candidate>,
}

#[derive(Deserialize, ToSchema)]
pub struct NewHours {
    pub volunteer_id: String,
    pub worked_on: String,
    pub minutes: i32,
    #[serde(default)]
    pub note: String,
    pub assignment_id: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct HourEntry {
    pub id: String,
    pub volunteer_id: String,
    pub assignment_id: Option<String>,
    /// check_out or self_logged.
    pub source: String,
    pub worked_on: String,
    pub minutes: i32,
    /// pending, verified or rejected.
    pub status: String,
    pub note: String,
    pub logged_by: String,
    pub verified_by: Option<String>,
}

impl From<pb::HourEntry> for HourEntry {
    fn from(h: pb::HourEntry) -> Self {
        HourEntry {
            id: h.id,
            volunteer_id: h.volunteer_id,
            assignment_id: none_if_empty(h.assignment_id),
            source: h.source,
            worked_on: h.worked_on,
            minutes: h.minutes,
            status: h.status,
            note: h.note,
            logged_by: h.logged_by,
            verified_by: none_if_empty(h.verified_by),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct HourEntryList {
    pub entries: Vec<HourEntry>,
    /// Pass as `page_token` for the next page; absent on the last page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_page_token: Option<String>,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct HoursQuery {
    pub volunteer_id: Option<String>,
    pub status: Option<String>,
    /// 1 to 200; default 50.
    pub page_size: Option<u32>,
    /// The previous page's `next_page_token`.
    pub page_token: Option<String>,
}

#[derive(Deserialize, ToSchema)]
pub struct Verification {
    /// true verifies, false rejects.
    pub approve: bool,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PeriodQuery {
    /// YYYY-MM-DD, inclusive.
    pub from: Option<String>,
    /// YYYY-MM-DD, exclusive.
    pub to: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct VolunteerHours {
    pub volunteer_id: String,
    pub verified_minutes: i64,
    pub pending_minutes: i64,
    pub milestones: Vec<i32>,
}

#[derive(Serialize, ToSchema)]
pub struct HoursTotals {
    pub verified_minutes: i64,
    pub pending_minutes: i64,
    pub volunteers: Vec<VolunteerHours>,
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct GroupMember {
    pub resident_id: String,
    /// leader or member.
    pub role: String,
    #[serde(default)]
    pub joined_on: String,
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct CommunityGroup {
    #[serde(default)]
    pub id: String,
    pub name: String,
    /// art_team, volunteer_group or interest_group.
    pub kind: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub support_rooms: Vec<String>,
    #[serde(default)]
    pub support_equipment: Vec<String>,
    #[serde(default)]
    pub members: Vec<GroupMember>,
}

impl From<pb::CommunityGroup> for CommunityGroup {
    fn from(g: pb::CommunityGroup) -> Self {
        CommunityGroup {
            id: g.id,
            name: g.name,
            kind: g.kind,
            description: g.description,
            support_rooms: g.support_rooms,
            support_equipment: g.support_equipment,
            members: g
                .members
                .into_iter()
                .map(|m| GroupMember {
                    resident_id: m.resident_id,
                    role: m.role,
                    joined_on: m.joined_on,
                })
                .collect(),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct GroupList {
    pub groups: Vec<CommunityGroup>,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct GroupQuery {
    pub kind: Option<String>,
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct Score {
    #[schema(example = "professionalism")]
    pub criterion: String,
    /// 1 to 5.
    pub score: i32,
}

#[derive(Serialize, ToSchema)]
pub struct QualityFigures {
    pub period: String,
    pub satisfaction_permille: i32,
    pub quality_permille: i32,
    pub responses: i32,
    pub updated_at: Option<String>,
}

#[derive(Deserialize, ToSchema)]
pub struct NewReview {
    pub staff_id: String,
    pub period_start: String,
    pub period_end: String,
    pub scores: Vec<Score>,
    #[serde(default)]
    pub comments: String,
}

#[derive(Serialize, ToSchema)]
pub struct Review {
    pub id: String,
    pub staff_id: String,
    pub period_start: String,
    pub period_end: String,
    pub reviewer: String,
    pub scores: Vec<Score>,
    pub comments: String,
    pub created_at: Option<String>,
    /// What evaluation published for this staff member; absent until it has.
    pub quality: Option<QualityFigures>,
}

impl From<pb::Review> for Review {
    fn from(r: pb::Review) -> Self {
        Review {
            id: r.id,
            staff_id: r.staff_id,
            period_start: r.period_start,
            period_end: r.period_end,
            reviewer: r.reviewer,
            scores: r
                .scores
                .into_iter()
                .map(|s| Score {
                    criterion: s.criterion,
                    score: s.score,
                })
                .collect(),
            comments: r.comments,
            created_at: time_text(r.created_at),
            quality: r.quality.map(|q| QualityFigures {
                period: q.period,
                satisfaction_permille: q.satisfaction_permille,
                quality_permille: q.quality_permille,
                responses: q.responses,
                updated_at: time_text(q.updated_at),
            }),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct ReviewList {
    pub reviews: Vec<Review>,
    /// Pass as `page_token` for the next page; absent on the last page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_page_token: Option<String>,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ReviewQuery {
    pub staff_id: Option<String>,
    /// 1 to 200; default 50.
    pub page_size: Option<u32>,
    /// The previous page's `next_page_token`.
    pub page_token: Option<String>,
}

type Created<T> = Result<(StatusCode, Json<T>), Problem>;
type Found<T> = Result<Json<T>, Problem>;

// ---------------------------------------------------------------------------------------
// Handlers. Each checks the centre, calls the service, and translates the answer.

/// The centre's volunteers.
#[utoipa::path(get, path = "/v1/centres/{centre_id}/volunteers", tag = "volunteers",
    params(("centre_id" = String, Path), VolunteerQuery),
    responses((status = 200, body = VolunteerList), (status = 403, body = Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn list_volunteers(
    State(state): State<AppState>,
    auth: Authenticated,
    Path(centre_id): Path<String>,
    Query(q): Query<VolunteerQuery>,
) -> Found<VolunteerList> {
    let centre_id = auth.centre(&centre_id)?.to_string();
    let request = pb::ListVolunteersRequest {
        centre_id,
        status: q.status.unwrap_or_default(),
        skill: q.skill.unwrap_or_default(),
        page_size: q.page_size.unwrap_or(0),
        page_token: q.page_token.unwrap_or_default(),
    };
    let reply = state
        .volunteers
        .clone()
        .list_volunteers(auth.grpc(request))
        .await?
        .into_inner();
    Ok(Json(VolunteerList {
        volunteers: reply.volunteers.into_iter().map(Volunteer::from).collect(),
        next_page_token: none_if_empty(reply.next_page_token),
    }))
}

/// Registers a resident of the centre as a volunteer.
#[utoipa::path(post, path = "/v1/centres/{centre_id}/volunteers", tag = "volunteers",
    params(("centre_id" = String, Path)), request_body = VolunteerProfile,
    responses((status = 201, body = Volunteer), (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 409, body = Problem, content_type = "application/problem+json", description = "Already a volunteer"),
        (status = 422, body = Problem, content_type = "application/problem+json", description = "The resident is unknown or no longer active")),
    security(("bearer" = [])))]
pub async fn register_volunteer(
    State(state): State<AppState>,
    auth: Authenticated,
    Path(centre_id): Path<String>,
    ApiJson(b): ApiJson<VolunteerProfile>,
) -> Created<Volunteer> {
    let centre_id = auth.centre(&centre_id)?.to_string();
    let request = pb::RegisterVolunteerRequest {
        centre_id,
        resident_id: b.resident_id,
        display_name: b.display_name,
        skills: b.skills,
        languages: b.languages,
        availability: windows_to_pb(b.availability),
        background_checked: b.background_checked,
        background_checked_on: b.background_checked_on,
        guardian_consent: b.guardian_consent,
    };
    let reply = state
        .volunteers
        .clone()
        .register_volunteer(auth.grpc(request))
        .await?
        .into_inner();
    Ok((StatusCode::CREATED, Json(reply.into())))
}

/// One volunteer.
#[utoipa::path(get, path = "/v1/centres/{centre_id}/volunteers/{volunteer_id}", tag = "volunteers",
    params(("centre_id" = String, Path), ("volunteer_id" = String, Path)),
    responses((status = 200, body = Volunteer), (status = 404, body = Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn get_volunteer(
    State(state): State<AppState>,
    auth: Authenticated,
    Path((centre_id, volunteer_id)): Path<(String, String)>,
) -> Found<Volunteer> {
    let centre_id = auth.centre(&centre_id)?.to_string();
    let reply = state
        .volunteers
        .clone()
        .get_volunteer(auth.grpc(pb::GetVolunteerRequest {
            centre_id,
            volunteer_id,
        }))
        .await?
        .into_inner();
    Ok(Json(reply.into()))
}

/// The members of [`VolunteerProfile`] a correction can change (not the resident, nor a
/// registration's guardian consent).
const PROFILE_FIELDS: [&str; 6] = [
    "display_name",
    "skills",
    "languages",
    "availability",
    "background_checked",
    "background_checked_on",
];

/// Corrects a volunteer's skills, languages, availability and background check: the
/// members sent replace their fields (null or empty clears one) and the members left out
/// keep theirs.
#[utoipa::path(put, path = "/v1/centres/{centre_id}/volunteers/{volunteer_id}", tag = "volunteers",
    params(("centre_id" = String, Path), ("volunteer_id" = String, Path)), request_body = VolunteerProfile,
    responses((status = 200, body = Volunteer), (status = 400, body = Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn update_volunteer(
    State(state): State<AppState>,
    auth: Authenticated,
    Path((centre_id, volunteer_id)): Path<(String, String)>,
    ApiJson(body): ApiJson<serde_json::Map<String, serde_json::Value>>,
) -> Found<Volunteer> {
    let body = MergePatch(body);
    let mask = body.mask_of(&PROFILE_FIELDS);
    correct_volunteer(state, auth, &centre_id, volunteer_id, body, mask).await
}

/// Corrects only the fields sent (JSON Merge Patch, RFC 7396): a member set to null clears
/// its field, an absent member keeps it.
#[utoipa::path(patch, path = "/v1/centres/{centre_id}/volunteers/{volunteer_id}", tag = "volunteers",
    params(("centre_id" = String, Path), ("volunteer_id" = String, Path)),
    request_body(content = VolunteerProfile, content_type = "application/merge-patch+json"),
    responses((status = 200, body = Volunteer), (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 415, body = Problem, content_type = "application/problem+json", description = "Not sent as application/merge-patch+json")),
    security(("bearer" = [])))]
pub async fn patch_volunteer(
    State(state): State<AppState>,
    auth: Authenticated,
    Path((centre_id, volunteer_id)): Path<(String, String)>,
    patch: MergePatch,
) -> Found<Volunteer> {
    patch.check(&PROFILE_FIELDS)?;
    let mask = patch.mask();
    correct_volunteer(state, auth, &centre_id, volunteer_id, patch, mask).await
}

async fn correct_volunteer(
    state: AppState,
    auth: Authenticated,
    centre_id: &str,
    volunteer_id: String,
    body: MergePatch,
    mask: prost_types::FieldMask,
) -> Found<Volunteer> {
    let centre_id = auth.centre(centre_id)?.to_string();
    let b: VolunteerProfile = body.into_body()?;
    let request = pb::UpdateVolunteerRequest {
        centre_id,
        volunteer_id,
        display_name: b.display_name,
        skills: b.skills,
        languages: b.languages,
        availability: windows_to_pb(b.availability),
        background_checked: b.background_checked,
        background_checked_on: b.background_checked_on,
        update_mask: Some(mask),
    };
    let reply = state
        .volunteers
        .clone()
        .update_volunteer(auth.grpc(request))
        .await?
        .into_inner();
    Ok(Json(reply.into()))
}

/// Pauses, resumes or ends a volunteer's work.
#[utoipa::path(post, path = "/v1/centres/{centre_id}/volunteers/{volunteer_id}/status", tag = "volunteers",
    params(("centre_id" = String, Path), ("volunteer_id" = String, Path)), request_body = StatusChange,
    responses((status = 200, body = Volunteer), (status = 422, body = Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn set_volunteer_status(
    State(state): State<AppState>,
    auth: Authenticated,
    Path((centre_id, volunteer_id)): Path<(String, String)>,
    ApiJson(b): ApiJson<StatusChange>,
) -> Found<Volunteer> {
    let centre_id = auth.centre(&centre_id)?.to_string();
    let request = pb::SetVolunteerStatusRequest {
        centre_id,
        volunteer_id,
        status: b.status,
    };
    let reply = state
        .volunteers
        .clone()
        .set_volunteer_status(auth.grpc(request))
        .await?
        .into_inner();
    Ok(Json(reply.into()))
}

/// The centre's staff.
#[utoipa::path(get, path = "/v1/centres/{centre_id}/staff", tag = "volunteers",
    params(("centre_id" = String, Path), StaffQuery), responses((status = 200, body = StaffList)), security(("bearer" = [])))]
pub async fn list_staff(
    State(state): State<AppState>,
    auth: Authenticated,
    Path(centre_id): Path<String>,
    Query(q): Query<StaffQuery>,
) -> Found<StaffList> {
    let centre_id = auth.centre(&centre_id)?.to_string();
    let request = pb::ListStaffRequest {
        centre_id,
        active_only: q.active_only.unwrap_or(false),
        page_size: q.page_size.unwrap_or(0),
        page_token: q.page_token.unwrap_or_default(),
    };
    let reply = state
        .volunteers
        .clone()
        .list_staff(auth.grpc(request))
        .await?
        .into_inner();
    Ok(Json(StaffList {
        staff: reply.staff.into_iter().map(StaffMember::from).collect(),
        next_page_token: none_if_empty(reply.next_page_token),
    }))
}

/// A staff member joins the centre.
#[utoipa::path(post, path = "/v1/centres/{centre_id}/staff", tag = "volunteers",
    params(("centre_id" = String, Path)), request_body = StaffMember,
    responses((status = 201, body = StaffMember), (status = 400, body = Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn add_staff(
    State(state): State<AppState>,
    auth: Authenticated,
    Path(centre_id): Path<String>,
    ApiJson(b): ApiJson<StaffMember>,
) -> Created<StaffMember> {
    let centre_id = auth.centre(&centre_id)?.to_string();
    let request = pb::AddStaffRequest {
        centre_id,
        name: b.name,
        position: b.position,
        employed_from: b.employed_from,
    };
    let reply = state
        .volunteers
        .clone()
        .add_staff(auth.grpc(request))
        .await?
        .into_inner();
    Ok((StatusCode::CREATED, Json(reply.into())))
}

/// A staff member's employment ends.
#[utoipa::path(post, path = "/v1/centres/{centre_id}/staff/{staff_id}/end", tag = "volunteers",
    params(("centre_id" = String, Path), ("staff_id" = String, Path)), request_body = EmploymentEnd,
    responses((status = 200, body = StaffMember), (status = 422, body = Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn end_employment(
    State(state): State<AppState>,
    auth: Authenticated,
    Path((centre_id, staff_id)): Path<(String, String)>,
    ApiJson(b): ApiJson<EmploymentEnd>,
) -> Found<StaffMember> {
    let centre_id = auth.centre(&centre_id)?.to_string();
    let request = pb::EndEmploymentRequest {
        centre_id,
        staff_id,
        employed_until: b.employed_until,
    };
    let reply = state
        .volunteers
        .clone()
        .end_employment(auth.grpc(request))
        .await?
        .into_inner();
    Ok(Json(reply.into()))
}

/// Certifications held by the centre's staff and volunteers.
#[utoipa::path(get, path = "/v1/centres/{centre_id}/certifications", tag = "volunteers",
    params(("centre_id" = String, Path), HolderQuery), responses((status = 200, body = CertificationList)), security(("bearer" = [])))]
pub async fn list_certifications(
    State(state): State<AppState>,
    auth: Authenticated,
    Path(centre_id): Path<String>,
    Query(q): Query<HolderQuery>,
) -> Found<CertificationList> {
    let centre_id = auth.centre(&centre_id)?.to_string();
    let request = pb::ListCertificationsRequest {
        centre_id,
        holder_id: q.holder_id.unwrap_or_default(),
        page_size: q.page_size.unwrap_or(0),
        page_token: q.page_token.unwrap_or_default(),
    };
    let reply = state
        .volunteers
        .clone()
        .list_certifications(auth.grpc(request))
        .await?
        .into_inner();
    Ok(Json(CertificationList {
        certifications: reply
            .certifications
            .into_iter()
            .map(Certification::from)
            .collect(),
        next_page_token: none_if_empty(reply.next_page_token),
    }))
}

/// Records a certification (licence, certificate, first aid) for a staff member or volunteer.
#[utoipa::path(post, path = "/v1/centres/{centre_id}/certifications", tag = "volunteers",
    params(("centre_id" = String, Path)), request_body = Certification,
    responses((status = 201, body = Certification), (status = 400, body = Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn add_certification(
    State(state): State<AppState>,
    auth: Authenticated,
    Path(centre_id): Path<String>,
    ApiJson(b): ApiJson<Certification>,
) -> Created<Certification> {
    let centre_id = auth.centre(&centre_id)?.to_string();
    let request = pb::AddCertificationRequest {
        centre_id,
        holder_id: b.holder_id,
        kind: b.kind,
        issuer: b.issuer,
        number: b.number,
        issued_on: b.issued_on.unwrap_or_default(),
        expires_on: b.expires_on.unwrap_or_default(),
    };
    let reply = state
        .volunteers
        .clone()
        .add_certification(auth.grpc(request))
        .await?
        .into_inner();
    Ok((StatusCode::CREATED, Json(reply.into())))
}

/// Training courses.
#[utoipa::path(get, path = "/v1/centres/{centre_id}/courses", tag = "volunteers",
    params(("centre_id" = String, Path)), responses((status = 200, body = CourseList)), security(("bearer" = [])))]
pub async fn list_courses(
    State(state): State<AppState>,
    auth: Authenticated,
    Path(centre_id): Path<String>,
) -> Found<CourseList> {
    let centre_id = auth.centre(&centre_id)?.to_string();
    let reply = state
        .volunteers
        .clone()
        .list_courses(auth.grpc(pb::ListCoursesRequest { centre_id }))
        .await?
        .into_inner();
    Ok(Json(CourseList {
        courses: reply.courses.into_iter().map(Course::from).collect(),
    }))
}

/// Adds a training course.
#[utoipa::path(post, path = "/v1/centres/{centre_id}/courses", tag = "volunteers",
    params(("centre_id" = String, Path)), request_body = Course,
    responses((status = 201, body = Course), (status = 400, body = Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn create_course(
    State(state): State<AppState>,
    auth: Authenticated,
    Path(centre_id): Path<String>,
    ApiJson(b): ApiJson<Course>,
) -> Created<Course> {
    let centre_id = auth.centre(&centre_id)?.to_string();
    let request = pb::CreateCourseRequest {
        centre_id,
        title: b.title,
        topic: b.topic,
        audience: b.audience,
        minutes: b.minutes,
    };
    let reply = state
        .volunteers
        .clone()
        .create_course(auth.grpc(request))
        .await?
        .into_inner();
    Ok((StatusCode::CREATED, Json(reply.into())))
}

/// Schedules a session of a course.
#[utoipa::path(post, path = "/v1/centres/{centre_id}/courses/{course_id}/sessions", tag = "volunteers",
    params(("centre_id" = String, Path), ("course_id" = String, Path)), request_body = TrainingSession,
    responses((status = 201, body = TrainingSession), (status = 400, body = Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn schedule_training(
    State(state): State<AppState>,
    auth: Authenticated,
    Path((centre_id, course_id)): Path<(String, String)>,
    ApiJson(b): ApiJson<TrainingSession>,
) -> Created<TrainingSession> {
    let centre_id = auth.centre(&centre_id)?.to_string();
    let request = pb::ScheduleTrainingRequest {
        centre_id,
        course_id,
        starts_at: Some(timestamp("starts_at", &b.starts_at)?),
        ends_at: Some(timestamp("ends_at", &b.ends_at)?),
        location: b.location,
        capacity: b.capacity,
    };
    let s = state
        .volunteers
        .clone()
        .schedule_training(auth.grpc(request))
        .await?
        .into_inner();
    Ok((
        StatusCode::CREATED,
        Json(TrainingSession {
            id: s.id,
            course_id: s.course_id,
            starts_at: time_text(s.starts_at).unwrap_or_default(),
            ends_at: time_text(s.ends_at).unwrap_or_default(),
            location: s.location,
            capacity: s.capacity,
        }),
    ))
}

/// Records that a staff member or volunteer completed the course.
#[utoipa::path(post, path = "/v1/centres/{centre_id}/courses/{course_id}/completions", tag = "volunteers",
    params(("centre_id" = String, Path), ("course_id" = String, Path)), request_body = NewCompletion,
    responses((status = 201, body = Completion), (status = 422, body = Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn record_completion(
    State(state): State<AppState>,
    auth: Authenticated,
    Path((centre_id, course_id)): Path<(String, String)>,
    ApiJson(b): ApiJson<NewCompletion>,
) -> Created<Completion> {
    let centre_id = auth.centre(&centre_id)?.to_string();
    let request = pb::RecordCompletionRequest {
        centre_id,
        course_id,
        session_id: b.session_id.unwrap_or_default(),
        person_id: b.person_id,
        completed_on: b.completed_on,
    };
    let c = state
        .volunteers
        .clone()
        .record_completion(auth.grpc(request))
        .await?
        .into_inner();
    Ok((
        StatusCode::CREATED,
        Json(Completion {
            id: c.id,
            course_id: c.course_id,
            session_id: none_if_empty(c.session_id),
            person_kind: c.person_kind,
            person_id: c.person_id,
            completed_on: c.completed_on,
        }),
    ))
}

/// Staff with a completed training in the last 12 months / active staff.
#[utoipa::path(get, path = "/v1/centres/{centre_id}/training-coverage", tag = "volunteers",
    params(("centre_id" = String, Path), CoverageQuery), responses((status = 200, body = TrainingCoverage)), security(("bearer" = [])))]
pub async fn training_coverage(
    State(state): State<AppState>,
    auth: Authenticated,
    Path(centre_id): Path<String>,
    Query(q): Query<CoverageQuery>,
) -> Found<TrainingCoverage> {
    let centre_id = auth.centre(&centre_id)?.to_string();
    let request = pb::GetTrainingCoverageRequest {
        centre_id,
        on: q.on.unwrap_or_default(),
    };
    let c = state
        .volunteers
        .clone()
        .get_training_coverage(auth.grpc(request))
        .await?
        .into_inner();
    Ok(Json(TrainingCoverage {
        on: c.on,
        active_staff: c.active_staff,
        trained_staff: c.trained_staff,
        coverage: c.coverage,
        target: c.target,
    }))
}

/// Volunteer opportunities.
#[utoipa::path(get, path = "/v1/centres/{centre_id}/opportunities", tag = "volunteers",
    params(("centre_id" = String, Path), OpportunityQuery), responses((status = 200, body = OpportunityList)), security(("bearer" = [])))]
pub async fn list_opportunities(
    State(state): State<AppState>,
    auth: Authenticated,
    Path(centre_id): Path<String>,
    Query(q): Query<OpportunityQuery>,
) -> Found<OpportunityList> {
    let centre_id = auth.centre(&centre_id)?.to_string();
    let request = pb::ListOpportunitiesRequest {
        centre_id,
        page_size: q.page_size.unwrap_or(0),
        page_token: q.page_token.unwrap_or_default(),
    };
    let reply = state
        .volunteers
        .clone()
        .list_opportunities(auth.grpc(request))
        .await?
        .into_inner();
    Ok(Json(OpportunityList {
        opportunities: reply
            .opportunities
            .into_iter()
            .map(Opportunity::from)
            .collect(),
        next_page_token: none_if_empty(reply.next_page_token),
    }))
}

/// Adds an opportunity with its required skills and certifications.
#[utoipa::path(post, path = "/v1/centres/{centre_id}/opportunities", tag = "volunteers",
    params(("centre_id" = String, Path)), request_body = Opportunity,
    responses((status = 201, body = Opportunity), (status = 400, body = Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn create_opportunity(
    State(state): State<AppState>,
    auth: Authenticated,
    Path(centre_id): Path<String>,
    ApiJson(b): ApiJson<Opportunity>,
) -> Created<Opportunity> {
    let centre_id = auth.centre(&centre_id)?.to_string();
    let request = pb::CreateOpportunityRequest {
        centre_id,
        title: b.title,
        description: b.description,
        required_skills: b.required_skills,
        required_certifications: b.required_certifications,
        works_with_minors: b.works_with_minors,
        location: b.location,
    };
    let reply = state
        .volunteers
        .clone()
        .create_opportunity(auth.grpc(request))
        .await?
        .into_inner();
    Ok((StatusCode::CREATED, Json(reply.into())))
}

/// Shifts in a window.
#[utoipa::path(get, path = "/v1/centres/{centre_id}/shifts", tag = "volunteers",
    params(("centre_id" = String, Path), ShiftQuery), responses((status = 200, body = ShiftList)), security(("bearer" = [])))]
pub async fn list_shifts(
    State(state): State<AppState>,
    auth: Authenticated,
    Path(centre_id): Path<String>,
    Query(q): Query<ShiftQuery>,
) -> Found<ShiftList> {
    let centre_id = auth.centre(&centre_id)?.to_string();
    let request = pb::ListShiftsRequest {
        centre_id,
        opportunity_id: q.opportunity_id.unwrap_or_default(),
        from: optional_timestamp("from", &q.from)?,
        to: optional_timestamp("to", &q.to)?,
        page_size: q.page_size.unwrap_or(0),
        page_token: q.page_token.unwrap_or_default(),
    };
    let reply = state
        .volunteers
        .clone()
        .list_shifts(auth.grpc(request))
        .await?
        .into_inner();
    Ok(Json(ShiftList {
        shifts: reply.shifts.into_iter().map(Shift::from).collect(),
        next_page_token: none_if_empty(reply.next_page_token),
    }))
}

/// Adds a shift of an opportunity.
#[utoipa::path(post, path = "/v1/centres/{centre_id}/shifts", tag = "volunteers",
    params(("centre_id" = String, Path)), request_body = NewShift,
    responses((status = 201, body = Shift), (status = 400, body = Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn create_shift(
    State(state): State<AppState>,
    auth: Authenticated,
    Path(centre_id): Path<String>,
    ApiJson(b): ApiJson<NewShift>,
) -> Created<Shift> {
    let centre_id = auth.centre(&centre_id)?.to_string();
    let request = pb::CreateShiftRequest {
        centre_id,
        opportunity_id: b.opportunity_id,
        starts_at: Some(timestamp("starts_at", &b.starts_at)?),
        ends_at: Some(timestamp("ends_at", &b.ends_at)?),
        capacity: b.capacity,
        location: b.location,
    };
    let reply = state
        .volunteers
        .clone()
        .create_shift(auth.grpc(request))
        .await?
        .into_inner();
    Ok((StatusCode::CREATED, Json(reply.into())))
}

/// The centre's volunteers ranked for a shift, with reasons; the unqualified apart, with why.
#[utoipa::path(get, path = "/v1/centres/{centre_id}/shifts/{shift_id}/matches", tag = "volunteers",
    params(("centre_id" = String, Path), ("shift_id" = String, Path), MatchQuery),
    responses((status = 200, body = Matches), (status = 404, body = Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn match_volunteers(
    State(state): State<AppState>,
    auth: Authenticated,
    Path((centre_id, shift_id)): Path<(String, String)>,
    Query(q): Query<MatchQuery>,
) -> Found<Matches> {
    let centre_id = auth.centre(&centre_id)?.to_string();
    let request = pb::MatchVolunteersRequest {
        centre_id,
        shift_id,
        limit: q.limit.unwrap_or_default(),
    };
    let reply = state
        .volunteers
        .clone()
        .match_volunteers(auth.grpc(request))
        .await?
        .into_inner();
    Ok(Json(Matches {
        ranked: reply.ranked.into_iter().map(Candidate::from).collect(),
        excluded: reply.excluded.into_iter().map(Candidate::from).collect(),
    }))
}

/// Signs a volunteer up for a shift.
#[utoipa::path(post, path = "/v1/centres/{centre_id}/shifts/{shift_id}/sign-ups", tag = "volunteers",
    params(("centre_id" = String, Path), ("shift_id" = String, Path)), request_body = NewSignUp,
    responses((status = 201, body = Assignment),
        (status = 409, body = Problem, content_type = "application/problem+json", description = "Full, or the volunteer is on an overlapping shift"),
        (status = 422, body = Problem, content_type = "application/problem+json", description = "Not qualified: the reason names the certification or check")),
    security(("bearer" = [])))]
pub async fn sign_up(
    State(state): State<AppState>,
    auth: Authenticated,
    Path((centre_id, shift_id)): Path<(String, String)>,
    ApiJson(b): ApiJson<NewSignUp>,
) -> Created<Assignment> {
    let centre_id = auth.centre(&centre_id)?.to_string();
    let request = pb::SignUpRequest {
        centre_id,
        shift_id,
        volunteer_id: b.volunteer_id,
    };
    let reply = state
        .volunteers
        .clone()
        .sign_up(auth.grpc(request))
        .await?
        .into_inner();
    Ok((StatusCode::CREATED, Json(reply.into())))
}

/// Withdraws a sign-up; the place goes back to the shift.
#[utoipa::path(post, path = "/v1/centres/{centre_id}/assignments/{assignment_id}/withdraw", tag = "volunteers",
    params(("centre_id" = String, Path), ("assignment_id" = String, Path)),
    responses((status = 200, body = Assignment), (status = 422, body = Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn withdraw(
    State(state): State<AppState>,
    auth: Authenticated,
    Path((centre_id, assignment_id)): Path<(String, String)>,
) -> Found<Assignment> {
    let centre_id = auth.centre(&centre_id)?.to_string();
    let reply = state
        .volunteers
        .clone()
        .withdraw(auth.grpc(pb::WithdrawRequest {
            centre_id,
            assignment_id,
        }))
        .await?
        .into_inner();
    Ok(Json(reply.into()))
}

/// Checks a volunteer in for their shift.
#[utoipa::path(post, path = "/v1/centres/{centre_id}/assignments/{assignment_id}/check-in", tag = "volunteers",
    operation_id = "check_in_assignment",
    params(("centre_id" = String, Path), ("assignment_id" = String, Path)), request_body = Moment,
    responses((status = 200, body = Assignment), (status = 422, body = Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn check_in(
    State(state): State<AppState>,
    auth: Authenticated,
    Path((centre_id, assignment_id)): Path<(String, String)>,
    body: axum::body::Bytes,
) -> Found<Assignment> {
    let centre_id = auth.centre(&centre_id)?.to_string();
    let at = moment(&body)?.at;
    let request = pb::CheckInRequest {
        centre_id,
        assignment_id,
        at: optional_timestamp("at", &at)?,
    };
    let reply = state
        .volunteers
        .clone()
        .check_in(auth.grpc(request))
        .await?
        .into_inner();
    Ok(Json(reply.into()))
}

/// Checks a volunteer out; the hours are verified at once.
#[utoipa::path(post, path = "/v1/centres/{centre_id}/assignments/{assignment_id}/check-out", tag = "volunteers",
    operation_id = "check_out_assignment",
    params(("centre_id" = String, Path), ("assignment_id" = String, Path)), request_body = Moment,
    responses((status = 200, body = Assignment), (status = 422, body = Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn check_out(
    State(state): State<AppState>,
    auth: Authenticated,
    Path((centre_id, assignment_id)): Path<(String, String)>,
    body: axum::body::Bytes,
) -> Found<Assignment> {
    let centre_id = auth.centre(&centre_id)?.to_string();
    let at = moment(&body)?.at;
    let request = pb::CheckOutRequest {
        centre_id,
        assignment_id,
        at: optional_timestamp("at", &at)?,
    };
    let reply = state
        .volunteers
        .clone()
        .check_out(auth.grpc(request))
        .await?
        .into_inner();
    Ok(Json(reply.into()))
}

/// Hour entries.
#[utoipa::path(get, path = "/v1/centres/{centre_id}/hours", tag = "volunteers",
    params(("centre_id" = String, Path), HoursQuery), responses((status = 200, body = HourEntryList)), security(("bearer" = [])))]
pub async fn list_hours(
    State(state): State<AppState>,
    auth: Authenticated,
    Path(centre_id): Path<String>,
    Query(q): Query<HoursQuery>,
) -> Found<HourEntryList> {
    let centre_id = auth.centre(&centre_id)?.to_string();
    let request = pb::ListHourEntriesRequest {
        centre_id,
        volunteer_id: q.volunteer_id.unwrap_or_default(),
        status: q.status.unwrap_or_default(),
        page_size: q.page_size.unwrap_or(0),
        page_token: q.page_token.unwrap_or_default(),
    };
    let reply = state
        .volunteers
        .clone()
        .list_hour_entries(auth.grpc(request))
        .await?
        .into_inner();
    Ok(Json(HourEntryList {
        entries: reply.entries.into_iter().map(HourEntry::from).collect(),
        next_page_token: none_if_empty(reply.next_page_token),
    }))
}

/// Hours a volunteer logged themself; they count once a coordinator verifies them.
#[utoipa::path(post, path = "/v1/centres/{centre_id}/hours", tag = "volunteers",
    params(("centre_id" = String, Path)), request_body = NewHours,
    responses((status = 201, body = HourEntry), (status = 400, body = Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn log_hours(
    State(state): State<AppState>,
    auth: Authenticated,
    Path(centre_id): Path<String>,
    ApiJson(b): ApiJson<NewHours>,
) -> Created<HourEntry> {
    let centre_id = auth.centre(&centre_id)?.to_string();
    let request = pb::LogHoursRequest {
        centre_id,
        volunteer_id: b.volunteer_id,
        worked_on: b.worked_on,
        minutes: b.minutes,
        note: b.note,
        assignment_id: b.assignment_id.unwrap_or_default(),
    };
    let reply = state
        .volunteers
        .clone()
        .log_hours(auth.grpc(request))
        .await?
        .into_inner();
    Ok((StatusCode::CREATED, Json(reply.into())))
}

/// A coordinator verifies or rejects logged hours.
#[utoipa::path(post, path = "/v1/centres/{centre_id}/hours/{entry_id}/verification", tag = "volunteers",
    params(("centre_id" = String, Path), ("entry_id" = String, Path)), request_body = Verification,
    responses((status = 200, body = HourEntry), (status = 422, body = Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn verify_hours(
    State(state): State<AppState>,
    auth: Authenticated,
    Path((centre_id, entry_id)): Path<(String, String)>,
    ApiJson(b): ApiJson<Verification>,
) -> Found<HourEntry> {
    let centre_id = auth.centre(&centre_id)?.to_string();
    let request = pb::VerifyHoursRequest {
        centre_id,
        entry_id,
        approve: b.approve,
    };
    let reply = state
        .volunteers
        .clone()
        .verify_hours(auth.grpc(request))
        .await?
        .into_inner();
    Ok(Json(reply.into()))
}

/// Verified and pending minutes per volunteer and for the centre.
#[utoipa::path(get, path = "/v1/centres/{centre_id}/hours-totals", tag = "volunteers",
    params(("centre_id" = String, Path), PeriodQuery), responses((status = 200, body = HoursTotals)), security(("bearer" = [])))]
pub async fn hours_totals(
    State(state): State<AppState>,
    auth: Authenticated,
    Path(centre_id): Path<String>,
    Query(q): Query<PeriodQuery>,
) -> Found<HoursTotals> {
    let centre_id = auth.centre(&centre_id)?.to_string();
    let request = pb::GetHoursTotalsRequest {
        centre_id,
        from: q.from.unwrap_or_default(),
        to: q.to.unwrap_or_default(),
    };
    let t = state
        .volunteers
        .clone()
        .get_hours_totals(auth.grpc(request))
        .await?
        .into_inner();
    Ok(Json(HoursTotals {
        verified_minutes: t.verified_minutes,
        pending_minutes: t.pending_minutes,
        volunteers: t
            .volunteers
            .into_iter()
            .map(|v| VolunteerHours {
                volunteer_id: v.volunteer_id,
                verified_minutes: v.verified_minutes,
                pending_minutes: v.pending_minutes,
                milestones: v.milestones,
            })
            .collect(),
    }))
}

/// Community groups.
#[utoipa::path(get, path = "/v1/centres/{centre_id}/groups", tag = "volunteers",
    params(("centre_id" = String, Path), GroupQuery), responses((status = 200, body = GroupList)), security(("bearer" = [])))]
pub async fn list_groups(
    State(state): State<AppState>,
    auth: Authenticated,
    Path(centre_id): Path<String>,
    Query(q): Query<GroupQuery>,
) -> Found<GroupList> {
    let centre_id = auth.centre(&centre_id)?.to_string();
    let request = pb::ListGroupsRequest {
        centre_id,
        kind: q.kind.unwrap_or_default(),
    };
    let reply = state
        .volunteers
        .clone()
        .list_groups(auth.grpc(request))
        .await?
        .into_inner();
    Ok(Json(GroupList {
        groups: reply.groups.into_iter().map(CommunityGroup::from).collect(),
    }))
}

/// Adds a community group with the centre's support.
#[utoipa::path(post, path = "/v1/centres/{centre_id}/groups", tag = "volunteers",
    params(("centre_id" = String, Path)), request_body = CommunityGroup,
    responses((status = 201, body = CommunityGroup), (status = 409, body = Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn create_group(
    State(state): State<AppState>,
    auth: Authenticated,
    Path(centre_id): Path<String>,
    ApiJson(b): ApiJson<CommunityGroup>,
) -> Created<CommunityGroup> {
    let centre_id = auth.centre(&centre_id)?.to_string();
    let request = pb::CreateGroupRequest {
        centre_id,
        name: b.name,
        kind: b.kind,
        description: b.description,
        support_rooms: b.support_rooms,
        support_equipment: b.support_equipment,
    };
    let reply = state
        .volunteers
        .clone()
        .create_group(auth.grpc(request))
        .await?
        .into_inner();
    Ok((StatusCode::CREATED, Json(reply.into())))
}

/// Adds a resident to a group as leader or member.
#[utoipa::path(post, path = "/v1/centres/{centre_id}/groups/{group_id}/members", tag = "volunteers",
    params(("centre_id" = String, Path), ("group_id" = String, Path)), request_body = GroupMember,
    responses((status = 200, body = CommunityGroup), (status = 422, body = Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn add_group_member(
    State(state): State<AppState>,
    auth: Authenticated,
    Path((centre_id, group_id)): Path<(String, String)>,
    ApiJson(b): ApiJson<GroupMember>,
) -> Found<CommunityGroup> {
    let centre_id = auth.centre(&centre_id)?.to_string();
    let request = pb::AddGroupMemberRequest {
        centre_id,
        group_id,
        resident_id: b.resident_id,
        role: b.role,
    };
    let reply = state
        .volunteers
        .clone()
        .add_group_member(auth.grpc(request))
        .await?
        .into_inner();
    Ok(Json(reply.into()))
}

/// Staff performance reviews, with evaluation's figures.
#[utoipa::path(get, path = "/v1/centres/{centre_id}/reviews", tag = "volunteers",
    params(("centre_id" = String, Path), ReviewQuery), responses((status = 200, body = ReviewList)), security(("bearer" = [])))]
pub async fn list_reviews(
    State(state): State<AppState>,
    auth: Authenticated,
    Path(centre_id): Path<String>,
    Query(q): Query<ReviewQuery>,
) -> Found<ReviewList> {
    let centre_id = auth.centre(&centre_id)?.to_string();
    let request = pb::ListReviewsRequest {
        centre_id,
        staff_id: q.staff_id.unwrap_or_default(),
        page_size: q.page_size.unwrap_or(0),
        page_token: q.page_token.unwrap_or_default(),
    };
    let reply = state
        .volunteers
        .clone()
        .list_reviews(auth.grpc(request))
        .await?
        .into_inner();
    Ok(Json(ReviewList {
        reviews: reply.reviews.into_iter().map(Review::from).collect(),
        next_page_token: none_if_empty(reply.next_page_token),
    }))
}

/// Records a staff member's performance review; the reviewer is the caller.
#[utoipa::path(post, path = "/v1/centres/{centre_id}/reviews", tag = "volunteers",
    params(("centre_id" = String, Path)), request_body = NewReview,
    responses((status = 201, body = Review), (status = 400, body = Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn create_review(
    State(state): State<AppState>,
    auth: Authenticated,
    Path(centre_id): Path<String>,
    ApiJson(b): ApiJson<NewReview>,
) -> Created<Review> {
    let centre_id = auth.centre(&centre_id)?.to_string();
    let request = pb::CreateReviewRequest {
        centre_id,
        staff_id: b.staff_id,
        period_start: b.period_start,
        period_end: b.period_end,
        scores: b
            .scores
            .into_iter()
            .map(|s| pb::Score {
                criterion: s.criterion,
                score: s.score,
            })
            .collect(),
        comments: b.comments,
    };
    let reply = state
        .volunteers
        .clone()
        .create_review(auth.grpc(request))
        .await?
        .into_inner();
    Ok((StatusCode::CREATED, Json(reply.into())))
}
