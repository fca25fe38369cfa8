//! The volunteers routes: volunteers, staff, certifications, training, opportunities and
//! shifts with sign-up and matching, hours, community groups and reviews, as JSON over
//! the volunteers service's gRPC.

use axum::extract::Path;
use axum::http::StatusCode;
use axum::routing::put;
use axum::{Json, Router};
use linli_proto::volunteers::v1 as pb;
use utoipa::OpenApi;

use crate::json::{Grpc, Reply};
use crate::merge_patch::{Correctable, Correction};
use crate::problem::Problem;
use crate::{AppState, call, forward};

#[derive(OpenApi)]
#[openapi(paths(update_volunteer, patch_volunteer))]
pub struct VolunteersDoc;

pub fn routes() -> Router<AppState> {
    forwarded().route(
        "/v1/centres/{centre_id}/volunteers/{volunteer_id}",
        put(update_volunteer).patch(patch_volunteer),
    )
}

/// A volunteer's correction changes their profile (not the resident, nor a registration's
/// guardian consent).
impl Correctable for pb::UpdateVolunteerRequest {
    const FIELDS: &[&str] = &[
        "display_name",
        "skills",
        "languages",
        "availability",
        "background_checked",
        "background_checked_on",
    ];
}

forward! { tag = "volunteers", "Volunteers, staff, certifications, training, shifts, hours, groups and reviews";
    /// The centre's volunteers.
    get "/v1/centres/{centre_id}/volunteers" => list_volunteers(g, centre_id; query q: pb::ListVolunteersRequest)
        -> 200 pb::ListVolunteersResponse = volunteers.list_volunteers

    /// Registers a resident of the centre as a volunteer.
    post "/v1/centres/{centre_id}/volunteers" => register_volunteer(g, centre_id; body b: pb::RegisterVolunteerRequest)
        -> 201 pb::Volunteer, (409, "Already a volunteer"), (422, "The resident is unknown or no longer active")
        = volunteers.register_volunteer

    /// One volunteer.
    get "/v1/centres/{centre_id}/volunteers/{volunteer_id}" => get_volunteer(g, centre_id, volunteer_id)
        -> 200 pb::Volunteer = volunteers.get_volunteer(pb::GetVolunteerRequest)

    /// Pauses, resumes or ends a volunteer's work.
    post "/v1/centres/{centre_id}/volunteers/{volunteer_id}/status"
        => set_volunteer_status(g, centre_id, volunteer_id; body b: pb::SetVolunteerStatusRequest) -> 200 pb::Volunteer
        = volunteers.set_volunteer_status

    /// The centre's staff.
    get "/v1/centres/{centre_id}/staff" => list_staff(g, centre_id; query q: pb::ListStaffRequest)
        -> 200 pb::ListStaffResponse = volunteers.list_staff

    /// A staff member joins the centre.
    post "/v1/centres/{centre_id}/staff" => add_staff(g, centre_id; body b: pb::AddStaffRequest)
        -> 201 pb::StaffMember = volunteers.add_staff

    /// A staff member's employment ends.
    post "/v1/centres/{centre_id}/staff/{staff_id}/end"
        => end_employment(g, centre_id, staff_id; body b: pb::EndEmploymentRequest) -> 200 pb::StaffMember
        = volunteers.end_employment

    /// Certifications held by the centre's staff and volunteers.
    get "/v1/centres/{centre_id}/certifications" => list_certifications(g, centre_id; query q: pb::ListCertificationsRequest)
        -> 200 pb::ListCertificationsResponse = volunteers.list_certifications

    /// Records a certification (licence, certificate, first aid) for a staff member or volunteer.
    post "/v1/centres/{centre_id}/certifications" => add_certification(g, centre_id; body b: pb::AddCertificationRequest)
        -> 201 pb::Certification = volunteers.add_certification

    /// Training courses.
    get "/v1/centres/{centre_id}/courses" => list_courses(g, centre_id) -> 200 pb::ListCoursesResponse
        = volunteers.list_courses(pb::ListCoursesRequest)

    /// Adds a training course.
    post "/v1/centres/{centre_id}/courses" => create_course(g, centre_id; body b: pb::CreateCourseRequest)
        -> 201 pb::Course = volunteers.create_course

    /// Schedules a session of a course.
    post "/v1/centres/{centre_id}/courses/{course_id}/sessions"
        => schedule_training(g, centre_id, course_id; body b: pb::ScheduleTrainingRequest) -> 201 pb::TrainingSession
        = volunteers.schedule_training

    /// Records that a staff member or volunteer completed the course.
    post "/v1/centres/{centre_id}/courses/{course_id}/completions"
        => record_completion(g, centre_id, course_id; body b: pb::RecordCompletionRequest) -> 201 pb::Completion
        = volunteers.record_completion

    /// Staff with a completed training in the last 12 months / active staff.
    get "/v1/centres/{centre_id}/training-coverage" => training_coverage(g, centre_id; query q: pb::GetTrainingCoverageRequest)
        -> 200 pb::TrainingCoverage = volunteers.get_training_coverage

    /// Volunteer opportunities.
    get "/v1/centres/{centre_id}/opportunities" => list_opportunities(g, centre_id; query q: pb::ListOpportunitiesRequest)
        -> 200 pb::ListOpportunitiesResponse = volunteers.list_opportunities

    /// Adds an opportunity with its required skills and certifications.
    post "/v1/centres/{centre_id}/opportunities" => create_opportunity(g, centre_id; body b: pb::CreateOpportunityRequest)
        -> 201 pb::Opportunity = volunteers.create_opportunity

    /// Shifts in a window.
    get "/v1/centres/{centre_id}/shifts" => list_shifts(g, centre_id; query q: pb::ListShiftsRequest)
        -> 200 pb::ListShiftsResponse = volunteers.list_shifts

    /// Adds a shift of an opportunity.
    post "/v1/centres/{centre_id}/shifts" => create_shift(g, centre_id; body b: pb::CreateShiftRequest)
        -> 201 pb::Shift = volunteers.create_shift

    /// The centre's volunteers ranked for a shift, with reasons; the unqualified apart, with why.
    get "/v1/centres/{centre_id}/shifts/{shift_id}/matches"
        => match_volunteers(g, centre_id, shift_id; query q: pb::MatchVolunteersRequest) -> 200 pb::MatchVolunteersResponse
        = volunteers.match_volunteers

    /// Signs a volunteer up for a shift.
    post "/v1/centres/{centre_id}/shifts/{shift_id}/sign-ups" => sign_up(g, centre_id, shift_id; body b: pb::SignUpRequest)
        -> 201 pb::Assignment, (409, "Full, or the volunteer is on an overlapping shift"),
        (422, "Not qualified: the reason names the certification or check") = volunteers.sign_up

    /// Withdraws a sign-up; the place goes back to the shift.
    post "/v1/centres/{centre_id}/assignments/{assignment_id}/withdraw"
        => withdraw(g, centre_id, assignment_id) -> 200 pb::Assignment = volunteers.withdraw(pb::WithdrawRequest)

    /// Checks a volunteer in for their shift (at `at`, or now when the body is left out).
    post "/v1/centres/{centre_id}/assignments/{assignment_id}/check-in"
        => check_in_assignment(g, centre_id, assignment_id; body m: pb::CheckInRequest) -> 200 pb::Assignment
        = volunteers.check_in

    /// Checks a volunteer out; the hours are verified at once.
    post "/v1/centres/{centre_id}/assignments/{assignment_id}/check-out"
        => check_out_assignment(g, centre_id, assignment_id; body m: pb::CheckOutRequest) -> 200 pb::Assignment
        = volunteers.check_out

    /// Hour entries.
    get "/v1/centres/{centre_id}/hours" => list_hours(g, centre_id; query q: pb::ListHourEntriesRequest)
        -> 200 pb::ListHourEntriesResponse = volunteers.list_hour_entries

    /// Hours a volunteer logged themself; they count once a coordinator verifies them.
    post "/v1/centres/{centre_id}/hours" => log_hours(g, centre_id; body b: pb::LogHoursRequest)
        -> 201 pb::HourEntry = volunteers.log_hours

    /// A coordinator verifies or rejects logged hours.
    post "/v1/centres/{centre_id}/hours/{entry_id}/verification"
        => verify_hours(g, centre_id, entry_id; body b: pb::VerifyHoursRequest) -> 200 pb::HourEntry
        = volunteers.verify_hours

    /// Verified and pending minutes per volunteer and for the centre.
    get "/v1/centres/{centre_id}/hours-totals" => hours_totals(g, centre_id; query q: pb::GetHoursTotalsRequest)
        -> 200 pb::HoursTotals = volunteers.get_hours_totals

    /// Community groups.
    get "/v1/centres/{centre_id}/groups" => list_groups(g, centre_id; query q: pb::ListGroupsRequest)
        -> 200 pb::ListGroupsResponse = volunteers.list_groups

    /// Adds a community group with the centre's support.
    post "/v1/centres/{centre_id}/groups" => create_group(g, centre_id; body b: pb::CreateGroupRequest)
        -> 201 pb::CommunityGroup = volunteers.create_group

    /// Adds a resident to a group as leader or member.
    post "/v1/centres/{centre_id}/groups/{group_id}/members"
        => add_group_member(g, centre_id, group_id; body b: pb::AddGroupMemberRequest) -> 200 pb::CommunityGroup
        = volunteers.add_group_member

    /// Staff performance reviews, with evaluation's figures.
    get "/v1/centres/{centre_id}/reviews" => list_reviews(g, centre_id; query q: pb::ListReviewsRequest)
        -> 200 pb::ListReviewsResponse = volunteers.list_reviews

    /// Records a staff member's performance review; the reviewer is the caller.
    post "/v1/centres/{centre_id}/reviews" => create_review(g, centre_id; body b: pb::CreateReviewRequest)
        -> 201 pb::Review = volunteers.create_review

    /// Puts a staff member on a session of the offering. A nurse or doctor needs a medical
    /// licence, a teacher a teacher's certificate, valid on the session's day: otherwise
    /// refused (422 staff.not_licensed, naming the licence and the day it expired).
    post "/v1/centres/{centre_id}/offerings/{offering_id}/sessions/{session_id}/staff"
        => assign_staff(g, centre, offering_id, session_id; body b: pb::AssignStaffRequest) -> 201 pb::StaffAssignment,
        (404, "No such session of the offering, or no such staff member"),
        (422, "Not licensed on the session's day, not employed then, or the session is cancelled") {
        let centre_id = g.centre(&centre)?;
        let session = session_of(&g, &centre_id, &offering_id, &session_id).await?;
        let (starts_at, ends_at) = (session.starts_at, session.ends_at);
        let request = pb::AssignStaffRequest { centre_id, offering_id, session_id, starts_at, ends_at, ..b };
        call!(g.volunteers.assign_staff(request))
    }

    /// The staff on the centre's sessions (one session's, one staff member's), earliest first.
    get "/v1/centres/{centre_id}/staff-assignments"
        => list_staff_assignments(g, centre_id; query q: pb::ListStaffAssignmentsRequest)
        -> 200 pb::ListStaffAssignmentsResponse = volunteers.list_staff_assignments
}

/// The session of the offering, as bookings keeps it (its times are what the licence is
/// checked against): 404 when the offering has no such session, 422 when it is cancelled.
async fn session_of(
    g: &Grpc,
    centre_id: &str,
    offering_id: &str,
    session_id: &str,
) -> Result<linli_proto::bookings::v1::Session, Problem> {
    use linli_proto::bookings::v1 as bookings;
    let mut page_token = String::new();
    // An offering's sessions, 200 a page: a year of daily sessions is two pages.
    for _ in 0..20 {
        let page = call!(g.bookings.list_sessions(bookings::ListSessionsRequest {
            centre_id: centre_id.to_owned(),
            offering_id: offering_id.to_owned(),
            page_size: 200,
            page_token: page_token.clone(),
            ..Default::default()
        }));
        if let Some(session) = page.sessions.into_iter().find(|s| s.id == session_id) {
            if session.status == "cancelled" {
                return Err(Problem::new(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "the session is cancelled",
                )
                .with_code("session.cancelled"));
            }
            return Ok(session);
        }
        if page.next_page_token.is_empty() {
            break;
        }
        page_token = page.next_page_token;
    }
    Err(Problem::new(StatusCode::NOT_FOUND, "session not found"))
}

/// Corrects a volunteer's skills, languages, availability and background check: the
/// members sent replace their fields (null or empty clears one) and the members left out
/// keep theirs.
#[utoipa::path(put, path = "/v1/centres/{centre_id}/volunteers/{volunteer_id}", tag = "volunteers",
    request_body = pb::UpdateVolunteerRequest, responses((status = 200, body = pb::Volunteer)))]
pub async fn update_volunteer(
    g: Grpc,
    Path((centre, volunteer_id)): Path<(String, String)>,
    c: Correction<pb::UpdateVolunteerRequest>,
) -> Reply<pb::Volunteer> {
    let (centre_id, update_mask) = (g.centre(&centre)?, Some(c.mask));
    let request = pb::UpdateVolunteerRequest {
        centre_id,
        volunteer_id,
        update_mask,
        ..c.body
    };
    Ok(Json(call!(g.volunteers.update_volunteer(request))))
}

/// Corrects only the fields sent (JSON Merge Patch, RFC 7396): a member set to null clears
/// its field, an absent member keeps it.
#[utoipa::path(patch, path = "/v1/centres/{centre_id}/volunteers/{volunteer_id}", tag = "volunteers",
    request_body(content = pb::UpdateVolunteerRequest, content_type = "application/merge-patch+json"),
    responses((status = 200, body = pb::Volunteer),
        (status = 415, body = Problem, content_type = "application/problem+json", description = "Not sent as application/merge-patch+json")))]
pub async fn patch_volunteer(
    g: Grpc,
    path: Path<(String, String)>,
    c: Correction<pb::UpdateVolunteerRequest>,
) -> Reply<pb::Volunteer> {
    update_volunteer(g, path, c).await
}
