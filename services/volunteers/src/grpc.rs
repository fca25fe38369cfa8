//! The volunteers gRPC surface: requests in, checks, store calls, responses out.

use chrono::{NaiveDate, Utc};
use linli_platform::auth::{
    Access, Caller, RESIDENT_EXPORTERS, caller, request_centre, scoped_centre,
};
use linli_platform::error::Violations;
use linli_platform::page::PageRequest;
use linli_platform::wire::{instant, optional_id, parse_id};
use linli_proto::volunteers::v1 as pb;
use linli_proto::volunteers::v1::volunteers_server::Volunteers;
use sqlx::PgPool;
use tonic::{Request, Response, Status};
use uuid::Uuid;

use crate::domain::{
    self, COORDINATORS, DESK, HOUR_LOGGERS, MANAGERS, READERS, VolunteerStatus, Window,
};
use crate::error::Error;
use crate::events::timestamp;
use crate::store::{self, Profile};
use linli_platform::error::Reason;

pub struct VolunteersApi {
    pool: PgPool,
}

impl VolunteersApi {
    pub fn new(pool: PgPool) -> Self {
        VolunteersApi { pool }
    }

    /// A volunteer as the API shows them, with their availability.
    async fn volunteer(&self, row: store::VolunteerRow) -> Result<pb::Volunteer, Error> {
        let mut conn = self.pool.acquire().await?;
        let windows = store::windows_of(&mut conn, &[row.id]).await?;
        Ok(volunteer_to_pb(row, &windows))
    }

    /// Today in the centre's time zone.
    async fn today(&self, centre: Uuid) -> Result<NaiveDate, Error> {
        let mut conn = self.pool.acquire().await?;
        let zone = store::centre_zone(&mut conn, centre).await?;
        Ok(domain::local_date(zone, Utc::now()))
    }
}

type Reply<T> = Result<Response<T>, Status>;

fn date_text(day: Option<NaiveDate>) -> String {
    day.map(|d| d.format("%Y-%m-%d").to_string())
        .unwrap_or_default()
}

fn one_of(field: &str, value: &str, allowed: &[&str], v: &mut Violations) {
    if !allowed.contains(&value) {
        v.push(
            field,
            Reason::new("one_of", format!("must be one of {}", allowed.join(", "))),
        );
    }
}

fn text(field: &str, value: &str, max: usize, required: bool, v: &mut Violations) -> String {
    let value = value.trim();
    if required && value.is_empty() {
        v.push(field, Reason::required());
    } else if value.chars().count() > max {
        v.push(
            field,
            Reason::new("too_long", format!("must be at most {max} characters")).with("max", max),
        );
    }
    value.to_owned()
}

fn filter(value: &str) -> Option<&str> {
    Some(value).filter(|v| !v.is_empty())
}

/// The profile fields shared by registration and update, checked field by field.
fn profile(
    display_name: &str,
    skills: &[String],
    languages: &[String],
    availability: &[pb::AvailabilityWindow],
    background_checked: bool,
    background_checked_on: &str,
    v: &mut Violations,
) -> Profile {
    let windows: Vec<Window> = availability
        .iter()
        .enumerate()
        .filter_map(|(i, w)| Window::parse(i, w.weekday, &w.starts, &w.ends, v))
        .collect();
    Profile {
        display_name: text("display_name", display_name, 100, false, v),
        skills: domain::tags("skills", skills, v),
        languages: domain::tags("languages", languages, v),
        availability: windows,
        background_checked,
        background_checked_on: domain::parse_optional_date(
            "background_checked_on",
            background_checked_on,
            v,
        ),
    }
}

fn volunteer_to_pb(row: store::VolunteerRow, windows: &[store::WindowRow]) -> pb::Volunteer {
    pb::Volunteer {
        id: row.id.to_string(),
        centre_id: row.centre_id.to_string(),
        resident_id: row.resident_id.map(|id| id.to_string()).unwrap_or_default(),
        display_name: row.display_name,
        skills: row.skills,
        languages: row.languages,
        availability: windows
            .iter()
            .filter(|w| w.volunteer_id == row.id)
            .map(|w| pb::AvailabilityWindow {
                weekday: w.weekday,
                starts: w.starts.format("%H:%M").to_string(),
                ends: w.ends.format("%H:%M").to_string(),
            })
            .collect(),
        status: row.status.to_string(),
        background_checked: row.background_checked,
        background_checked_on: date_text(row.background_checked_on),
        registered_at: Some(timestamp(row.registered_at)),
        verified_minutes: row.verified_minutes,
    }
}

fn staff_to_pb(row: store::StaffRow, today: NaiveDate) -> pb::StaffMember {
    let active =
        row.employed_from <= today && row.employed_until.is_none_or(|until| until >= today);
    pb::StaffMember {
        id: row.id.to_string(),
        centre_id: row.centre_id.to_string(),
        name: row.name,
        position: row.position,
        employed_from: date_text(Some(row.employed_from)),
        employed_until: date_text(row.employed_until),
        active,
    }
}

fn certification_to_pb(row: store::CertificationRow) -> pb::Certification {
    pb::Certification {
        id: row.id.to_string(),
        centre_id: row.centre_id.to_string(),
        holder_kind: row.holder_kind,
        holder_id: row.holder_id.to_string(),
        kind: row.kind,
        issuer: row.issuer,
        number: row.number,
        issued_on: date_text(row.issued_on),
        expires_on: date_text(row.expires_on),
        expiring_announced: row.expiring_announced_at.is_some(),
    }
}

fn course_to_pb(row: store::CourseRow) -> pb::Course {
    pb::Course {
        id: row.id.to_string(),
        centre_id: row.centre_id.to_string(),
        title: row.title,
        topic: row.topic,
        audience: row.audience,
        minutes: row.minutes,
    }
}

fn completion_to_pb(row: store::CompletionRow) -> pb::Completion {
    pb::Completion {
        id: row.id.to_string(),
        centre_id: row.centre_id.to_string(),
        course_id: row.course_id.to_string(),
        session_id: row.session_id.map(|id| id.to_string()).unwrap_or_default(),
        person_kind: row.person_kind,
        person_id: row.person_id.to_string(),
        completed_on: date_text(Some(row.completed_on)),
    }
}

fn opportunity_to_pb(row: store::OpportunityRow) -> pb::Opportunity {
    pb::Opportunity {
        id: row.id.to_string(),
        centre_id: row.centre_id.to_string(),
        title: row.title,
        description: row.description,
        required_skills: row.required_skills,
        required_certifications: row.required_certifications,
        works_with_minors: row.works_with_minors,
        location: row.location,
    }
}

fn shift_to_pb(row: store::ShiftRow) -> pb::Shift {
    pb::Shift {
        id: row.id.to_string(),
        centre_id: row.centre_id.to_string(),
        opportunity_id: row.opportunity_id.to_string(),
        starts_at: Some(timestamp(row.starts_at)),
        ends_at: Some(timestamp(row.ends_at)),
        local_date: date_text(Some(row.local_date)),
        capacity: row.capacity,
        signed_up: row.signed_up,
        location: row.location,
    }
}

fn assignment_to_pb(row: store::AssignmentRow) -> pb::Assignment {
    pb::Assignment {
        id: row.id.to_string(),
        centre_id: row.centre_id.to_string(),
        shift_id: row.shift_id.to_string(),
        volunteer_id: row.volunteer_id.to_string(),
        status: row.status.to_string(),
        checked_in_at: row.checked_in_at.map(timestamp),
        checked_out_at: row.checked_out_at.map(timestamp),
        verified_minutes: row.verified_minutes,
    }
}

fn entry_to_pb(row: store::HourEntryRow) -> pb::HourEntry {
    pb::HourEntry {
        id: row.id.to_string(),
        centre_id: row.centre_id.to_string(),
        volunteer_id: row.volunteer_id.to_string(),
        assignment_id: row
            .assignment_id
            .map(|id| id.to_string())
            .unwrap_or_default(),
        source: row.source,
        worked_on: date_text(Some(row.worked_on)),
        minutes: row.minutes,
        status: row.status.to_string(),
        note: row.note,
        logged_by: row.logged_by,
        verified_by: row.verified_by.unwrap_or_default(),
        rejection_reason: row.rejection_reason,
    }
}

fn group_to_pb(row: store::GroupRow, members: Vec<store::MemberRow>) -> pb::CommunityGroup {
    pb::CommunityGroup {
        id: row.id.to_string(),
        centre_id: row.centre_id.to_string(),
        name: row.name,
        kind: row.kind,
        description: row.description,
        support_rooms: row.support_rooms,
        support_equipment: row.support_equipment,
        members: members
            .into_iter()
            .map(|m| pb::GroupMember {
                resident_id: m.resident_id.to_string(),
                role: m.role,
                joined_on: date_text(Some(m.joined_on)),
            })
            .collect(),
    }
}

fn review_to_pb(row: store::ReviewRow) -> pb::Review {
    let quality = row.quality_period.map(|period| pb::QualityFigures {
        period,
        satisfaction_permille: row.satisfaction_permille.unwrap_or_default(),
        quality_permille: row.quality_permille.unwrap_or_default(),
        responses: row.responses.unwrap_or_default(),
        updated_at: row.quality_updated_at.map(timestamp),
    });
    pb::Review {
        id: row.id.to_string(),
        centre_id: row.centre_id.to_string(),
        staff_id: row.staff_id.to_string(),
        period_start: date_text(Some(row.period_start)),
        period_end: date_text(Some(row.period_end)),
        reviewer: row.reviewer,
        scores: row
            .criteria
            .into_iter()
            .zip(row.scores)
            .map(|(criterion, score)| pb::Score { criterion, score })
            .collect(),
        comments: row.comments,
        created_at: Some(timestamp(row.created_at)),
        quality,
    }
}

/// The caller and the centre they act for.
fn scope<T>(
    request: &Request<T>,
    centre_id: &str,
    access: Access,
    roles: &[linli_platform::auth::Role],
) -> Result<(Caller, Uuid), Status> {
    let who = caller(request)?;
    let centre = scoped_centre(who, centre_id, access, roles)?;
    Ok((who.clone(), centre))
}

#[tonic::async_trait]
impl Volunteers for VolunteersApi {
    async fn register_volunteer(
        &self,
        request: Request<pb::RegisterVolunteerRequest>,
    ) -> Reply<pb::Volunteer> {
        let centre = request_centre(&request, |r| &r.centre_id, Access::Write, DESK)?;
        let r = request.into_inner();
        let mut v = Violations::default();
        let resident = v.check(parse_id("resident_id", &r.resident_id));
        let profile = profile(
            &r.display_name,
            &r.skills,
            &r.languages,
            &r.availability,
            r.background_checked,
            &r.background_checked_on,
            &mut v,
        );
        let resident = v.into_result(|| resident).map_err(Error::from)?;
        let resident =
            resident.ok_or_else(|| Error::from(Violations::one("resident_id", Reason::uuid())))?;
        let row = store::register_volunteer(
            &self.pool,
            centre.into(),
            resident.into(),
            &profile,
            r.guardian_consent,
            Utc::now(),
        )
        .await?;
        Ok(Response::new(self.volunteer(row).await?))
    }

    async fn get_volunteer(
        &self,
        request: Request<pb::GetVolunteerRequest>,
    ) -> Reply<pb::Volunteer> {
        let centre = request_centre(&request, |r| &r.centre_id, Access::Read, READERS)?;
        let id = parse_id("volunteer_id", &request.get_ref().volunteer_id).map_err(Error::from)?;
        let mut conn = self.pool.acquire().await.map_err(Error::from)?;
        let row = store::find_volunteer(&mut conn, centre, id).await?;
        let windows = store::windows_of(&mut conn, &[id])
            .await
            .map_err(Error::from)?;
        Ok(Response::new(volunteer_to_pb(row, &windows)))
    }

    async fn list_volunteers(
        &self,
        request: Request<pb::ListVolunteersRequest>,
    ) -> Reply<pb::ListVolunteersResponse> {
        let centre = request_centre(&request, |r| &r.centre_id, Access::Read, READERS)?;
        let r = request.into_inner();
        let mut v = Violations::default();
        if let Some(status) = filter(&r.status) {
            one_of("status", status, &domain::VOLUNTEER_STATUSES, &mut v);
        }
        v.into_result(|| ()).map_err(Error::from)?;
        let page = PageRequest::parse("volunteers.volunteers", r.page_size, &r.page_token)
            .map_err(Error::from)?;
        let rows = store::list_volunteers(
            &self.pool,
            centre,
            filter(&r.status),
            filter(&r.skill),
            page.after(),
            page.limit(),
        )
        .await?;
        let page = page.page(rows, |row| (row.registered_at, row.id));
        let ids: Vec<Uuid> = page.rows.iter().map(|r| r.id).collect();
        let mut conn = self.pool.acquire().await.map_err(Error::from)?;
        let windows = store::windows_of(&mut conn, &ids)
            .await
            .map_err(Error::from)?;
        let page = page.map(|row| volunteer_to_pb(row, &windows));
        Ok(Response::new(pb::ListVolunteersResponse {
            volunteers: page.rows,
            next_page_token: page.next_page_token,
        }))
    }

    async fn update_volunteer(
        &self,
        request: Request<pb::UpdateVolunteerRequest>,
    ) -> Reply<pb::Volunteer> {
        let centre = request_centre(&request, |r| &r.centre_id, Access::Write, DESK)?;
        let r = request.into_inner();
        let mut v = Violations::default();
        let id = v.check(parse_id("volunteer_id", &r.volunteer_id));
        let profile = profile(
            &r.display_name,
            &r.skills,
            &r.languages,
            &r.availability,
            r.background_checked,
            &r.background_checked_on,
            &mut v,
        );
        // A mask names the fields to change and the rest stay; without one every field
        // is replaced.
        let fields = match r.update_mask {
            Some(mask) => domain::profile_fields(&mask.paths, &mut v),
            None => domain::PROFILE_FIELDS.to_vec(),
        };
        let id = v
            .into_result(|| id)
            .map_err(Error::from)?
            .unwrap_or_default();
        let row = store::update_volunteer(&self.pool, centre, id, &profile, &fields).await?;
        Ok(Response::new(self.volunteer(row).await?))
    }

    async fn set_volunteer_status(
        &self,
        request: Request<pb::SetVolunteerStatusRequest>,
    ) -> Reply<pb::Volunteer> {
        let centre = request_centre(&request, |r| &r.centre_id, Access::Write, DESK)?;
        let r = request.into_inner();
        let mut v = Violations::default();
        one_of("status", &r.status, &domain::VOLUNTEER_STATUSES, &mut v);
        let status = VolunteerStatus::parse(&r.status);
        let id = v.check(parse_id("volunteer_id", &r.volunteer_id));
        let (id, status) = v
            .into_result(|| id.zip(status))
            .map_err(Error::from)?
            .unwrap_or((Uuid::nil(), VolunteerStatus::Active));
        let row =
            store::set_volunteer_status(&self.pool, centre.into(), id.into(), status, Utc::now())
                .await?;
        Ok(Response::new(self.volunteer(row).await?))
    }

    async fn add_staff(&self, request: Request<pb::AddStaffRequest>) -> Reply<pb::StaffMember> {
        let centre = request_centre(&request, |r| &r.centre_id, Access::Write, MANAGERS)?;
        let r = request.into_inner();
        let mut v = Violations::default();
        let name = text("name", &r.name, 100, true, &mut v);
        one_of("position", &r.position, &domain::POSITIONS, &mut v);
        let from = domain::parse_date("employed_from", &r.employed_from, &mut v);
        let from = v
            .into_result(|| from)
            .map_err(Error::from)?
            .unwrap_or_default();
        let row = store::StaffRow {
            id: Uuid::new_v4(),
            centre_id: centre,
            name,
            position: r.position,
            employed_from: from,
            employed_until: None,
        };
        let row = store::add_staff(&self.pool, &row).await?;
        let today = self.today(centre).await?;
        Ok(Response::new(staff_to_pb(row, today)))
    }

    async fn end_employment(
        &self,
        request: Request<pb::EndEmploymentRequest>,
    ) -> Reply<pb::StaffMember> {
        let centre = request_centre(&request, |r| &r.centre_id, Access::Write, MANAGERS)?;
        let r = request.into_inner();
        let mut v = Violations::default();
        let id = v.check(parse_id("staff_id", &r.staff_id));
        let until = domain::parse_date("employed_until", &r.employed_until, &mut v);
        let (id, until) = v.into_result(|| (id, until)).map_err(Error::from)?;
        let row = store::end_employment(
            &self.pool,
            centre,
            id.unwrap_or_default(),
            until.unwrap_or_default(),
        )
        .await?;
        let today = self.today(centre).await?;
        Ok(Response::new(staff_to_pb(row, today)))
    }

    async fn list_staff(
        &self,
        request: Request<pb::ListStaffRequest>,
    ) -> Reply<pb::ListStaffResponse> {
        let centre = request_centre(&request, |r| &r.centre_id, Access::Read, READERS)?;
        let r = request.into_inner();
        let page = PageRequest::parse("volunteers.staff", r.page_size, &r.page_token)
            .map_err(Error::from)?;
        let today = self.today(centre).await?;
        let active_on = r.active_only.then_some(today);
        let rows =
            store::list_staff(&self.pool, centre, active_on, page.after(), page.limit()).await?;
        let page = page
            .page(rows, |row| (row.employed_from, row.id))
            .map(|row| staff_to_pb(row, today));
        Ok(Response::new(pb::ListStaffResponse {
            staff: page.rows,
            next_page_token: page.next_page_token,
        }))
    }

    async fn add_certification(
        &self,
        request: Request<pb::AddCertificationRequest>,
    ) -> Reply<pb::Certification> {
        let centre = request_centre(&request, |r| &r.centre_id, Access::Write, COORDINATORS)?;
        let r = request.into_inner();
        let mut v = Violations::default();
        let holder = v.check(parse_id("holder_id", &r.holder_id));
        let kind = domain::tags("kind", std::slice::from_ref(&r.kind), &mut v);
        let issuer = text("issuer", &r.issuer, 200, true, &mut v);
        let number = text("number", &r.number, 100, true, &mut v);
        let issued_on = domain::parse_optional_date("issued_on", &r.issued_on, &mut v);
        let expires_on = domain::parse_optional_date("expires_on", &r.expires_on, &mut v);
        if let (Some(issued), Some(expires)) = (issued_on, expires_on)
            && expires <= issued
        {
            v.push("expires_on", Reason::after("issued_on"));
        }
        let holder = v
            .into_result(|| holder)
            .map_err(Error::from)?
            .unwrap_or_default();
        let row = store::CertificationRow {
            id: Uuid::new_v4(),
            centre_id: centre,
            holder_kind: String::new(),
            holder_id: holder,
            kind: kind.into_iter().next().unwrap_or_default(),
            issuer,
            number,
            issued_on,
            expires_on,
            expiring_announced_at: None,
        };
        let row = store::add_certification(&self.pool, &row).await?;
        Ok(Response::new(certification_to_pb(row)))
    }

    async fn list_certifications(
        &self,
        request: Request<pb::ListCertificationsRequest>,
    ) -> Reply<pb::ListCertificationsResponse> {
        let centre = request_centre(&request, |r| &r.centre_id, Access::Read, READERS)?;
        let r = request.into_inner();
        let holder = optional_id("holder_id", &r.holder_id).map_err(Error::from)?;
        let page = PageRequest::parse("volunteers.certifications", r.page_size, &r.page_token)
            .map_err(Error::from)?;
        let rows =
            store::list_certifications(&self.pool, centre, holder, page.after(), page.limit())
                .await?;
        let page = page
            .page(rows, |row| (row.expires_on, row.id))
            .map(certification_to_pb);
        Ok(Response::new(pb::ListCertificationsResponse {
            certifications: page.rows,
            next_page_token: page.next_page_token,
        }))
    }

    async fn create_course(&self, request: Request<pb::CreateCourseRequest>) -> Reply<pb::Course> {
        let centre = request_centre(&request, |r| &r.centre_id, Access::Write, COORDINATORS)?;
        let r = request.into_inner();
        let mut v = Violations::default();
        let title = text("title", &r.title, 200, true, &mut v);
        let topic = text("topic", &r.topic, 200, false, &mut v);
        one_of("audience", &r.audience, &domain::AUDIENCES, &mut v);
        if !(1..=100_000).contains(&r.minutes) {
            v.push(
                "minutes",
                Reason::new("not_positive", "must be a positive number of minutes"),
            );
        }
        v.into_result(|| ()).map_err(Error::from)?;
        let row = store::CourseRow {
            id: Uuid::new_v4(),
            centre_id: centre,
            title,
            topic,
            audience: r.audience,
            minutes: r.minutes,
        };
        Ok(Response::new(course_to_pb(
            store::create_course(&self.pool, &row).await?,
        )))
    }

    async fn list_courses(
        &self,
        request: Request<pb::ListCoursesRequest>,
    ) -> Reply<pb::ListCoursesResponse> {
        let centre = request_centre(&request, |r| &r.centre_id, Access::Read, READERS)?;
        let rows = store::list_courses(&self.pool, centre).await?;
        Ok(Response::new(pb::ListCoursesResponse {
            courses: rows.into_iter().map(course_to_pb).collect(),
        }))
    }

    async fn schedule_training(
        &self,
        request: Request<pb::ScheduleTrainingRequest>,
    ) -> Reply<pb::TrainingSession> {
        let centre = request_centre(&request, |r| &r.centre_id, Access::Write, COORDINATORS)?;
        let r = request.into_inner();
        let mut v = Violations::default();
        let course = v.check(parse_id("course_id", &r.course_id));
        let starts = v
            .check(instant("starts_at", r.starts_at.as_ref()))
            .flatten();
        let ends = v.check(instant("ends_at", r.ends_at.as_ref())).flatten();
        match (starts, ends) {
            (Some(s), Some(e)) if e <= s => v.push("ends_at", Reason::after("starts_at")),
            (None, _) => v.push("starts_at", Reason::required()),
            (_, None) => v.push("ends_at", Reason::required()),
            _ => {}
        }
        if r.capacity < 1 {
            v.push(
                "capacity",
                Reason::new("too_small", "must be at least 1").with("min", 1),
            );
        }
        let location = text("location", &r.location, 200, false, &mut v);
        v.into_result(|| ()).map_err(Error::from)?;
        let row = store::TrainingSessionRow {
            id: Uuid::new_v4(),
            centre_id: centre,
            course_id: course.unwrap_or_default(),
            starts_at: starts.unwrap_or_default(),
            ends_at: ends.unwrap_or_default(),
            location,
            capacity: r.capacity,
        };
        let row = store::schedule_training(&self.pool, &row).await?;
        Ok(Response::new(pb::TrainingSession {
            id: row.id.to_string(),
            centre_id: row.centre_id.to_string(),
            course_id: row.course_id.to_string(),
            starts_at: Some(timestamp(row.starts_at)),
            ends_at: Some(timestamp(row.ends_at)),
            location: row.location,
            capacity: row.capacity,
        }))
    }

    async fn record_completion(
        &self,
        request: Request<pb::RecordCompletionRequest>,
    ) -> Reply<pb::Completion> {
        let centre = request_centre(&request, |r| &r.centre_id, Access::Write, COORDINATORS)?;
        let r = request.into_inner();
        let mut v = Violations::default();
        let course = v.check(parse_id("course_id", &r.course_id));
        let person = v.check(parse_id("person_id", &r.person_id));
        let session = v.check(optional_id("session_id", &r.session_id)).flatten();
        let on = domain::parse_date("completed_on", &r.completed_on, &mut v);
        v.into_result(|| ()).map_err(Error::from)?;
        let on = on.unwrap_or_default();
        if on > self.today(centre).await? {
            return Err(
                Error::from(Violations::one("completed_on", Reason::not_in_future())).into(),
            );
        }
        let row = store::record_completion(
            &self.pool,
            centre,
            course.unwrap_or_default(),
            session,
            person.unwrap_or_default(),
            on,
        )
        .await?;
        Ok(Response::new(completion_to_pb(row)))
    }

    async fn get_training_coverage(
        &self,
        request: Request<pb::GetTrainingCoverageRequest>,
    ) -> Reply<pb::TrainingCoverage> {
        let centre = request_centre(&request, |r| &r.centre_id, Access::Read, READERS)?;
        let on = if request.get_ref().on.is_empty() {
            self.today(centre).await?
        } else {
            let mut v = Violations::default();
            let on = domain::parse_date("on", &request.get_ref().on, &mut v);
            v.into_result(|| on)
                .map_err(Error::from)?
                .unwrap_or_default()
        };
        let (active, trained) = store::training_coverage(&self.pool, centre, on).await?;
        Ok(Response::new(pb::TrainingCoverage {
            centre_id: centre.to_string(),
            on: date_text(Some(on)),
            active_staff: active,
            trained_staff: trained,
            coverage: domain::coverage(trained, active),
            target: domain::COVERAGE_TARGET,
        }))
    }

    async fn create_opportunity(
        &self,
        request: Request<pb::CreateOpportunityRequest>,
    ) -> Reply<pb::Opportunity> {
        let centre = request_centre(&request, |r| &r.centre_id, Access::Write, COORDINATORS)?;
        let r = request.into_inner();
        let mut v = Violations::default();
        let row = store::OpportunityRow {
            id: Uuid::new_v4(),
            centre_id: centre,
            title: text("title", &r.title, 200, true, &mut v),
            description: text("description", &r.description, 2000, false, &mut v),
            required_skills: domain::tags("required_skills", &r.required_skills, &mut v),
            required_certifications: domain::tags(
                "required_certifications",
                &r.required_certifications,
                &mut v,
            ),
            works_with_minors: r.works_with_minors,
            location: text("location", &r.location, 200, false, &mut v),
        };
        v.into_result(|| ()).map_err(Error::from)?;
        Ok(Response::new(opportunity_to_pb(
            store::create_opportunity(&self.pool, &row).await?,
        )))
    }

    async fn list_opportunities(
        &self,
        request: Request<pb::ListOpportunitiesRequest>,
    ) -> Reply<pb::ListOpportunitiesResponse> {
        let centre = request_centre(&request, |r| &r.centre_id, Access::Read, READERS)?;
        let r = request.into_inner();
        let page = PageRequest::parse("volunteers.opportunities", r.page_size, &r.page_token)
            .map_err(Error::from)?;
        let rows =
            store::list_opportunities(&self.pool, centre, page.after(), page.limit()).await?;
        let page = page
            .page(rows, |row| (row.title.clone(), row.id))
            .map(opportunity_to_pb);
        Ok(Response::new(pb::ListOpportunitiesResponse {
            opportunities: page.rows,
            next_page_token: page.next_page_token,
        }))
    }

    async fn create_shift(&self, request: Request<pb::CreateShiftRequest>) -> Reply<pb::Shift> {
        let centre = request_centre(&request, |r| &r.centre_id, Access::Write, COORDINATORS)?;
        let r = request.into_inner();
        let mut v = Violations::default();
        let opportunity = v.check(parse_id("opportunity_id", &r.opportunity_id));
        let starts = v
            .check(instant("starts_at", r.starts_at.as_ref()))
            .flatten();
        let ends = v.check(instant("ends_at", r.ends_at.as_ref())).flatten();
        match (starts, ends) {
            (Some(s), Some(e)) if e <= s => v.push("ends_at", Reason::after("starts_at")),
            (Some(s), Some(e)) if e - s > chrono::Duration::hours(24) => v.push(
                "ends_at",
                Reason::new("shift.too_long", "a shift lasts at most 24 hours"),
            ),
            (None, _) => v.push("starts_at", Reason::required()),
            (_, None) => v.push("ends_at", Reason::required()),
            _ => {}
        }
        if !(1..=10_000).contains(&r.capacity) {
            v.push(
                "capacity",
                Reason::new("too_small", "must be at least 1").with("min", 1),
            );
        }
        let location = text("location", &r.location, 200, false, &mut v);
        v.into_result(|| ()).map_err(Error::from)?;
        let row = store::create_shift(
            &self.pool,
            centre,
            opportunity.unwrap_or_default(),
            starts.unwrap_or_default(),
            ends.unwrap_or_default(),
            r.capacity,
            &location,
        )
        .await?;
        Ok(Response::new(shift_to_pb(row)))
    }

    async fn list_shifts(
        &self,
        request: Request<pb::ListShiftsRequest>,
    ) -> Reply<pb::ListShiftsResponse> {
        let centre = request_centre(&request, |r| &r.centre_id, Access::Read, READERS)?;
        let r = request.into_inner();
        let opportunity = optional_id("opportunity_id", &r.opportunity_id).map_err(Error::from)?;
        let from = instant("from", r.from.as_ref()).map_err(Error::from)?;
        let to = instant("to", r.to.as_ref()).map_err(Error::from)?;
        let page = PageRequest::parse("volunteers.shifts", r.page_size, &r.page_token)
            .map_err(Error::from)?;
        let rows = store::list_shifts(
            &self.pool,
            centre,
            opportunity,
            from,
            to,
            page.after(),
            page.limit(),
        )
        .await?;
        let page = page
            .page(rows, |row| (row.starts_at, row.id))
            .map(shift_to_pb);
        Ok(Response::new(pb::ListShiftsResponse {
            shifts: page.rows,
            next_page_token: page.next_page_token,
        }))
    }

    async fn sign_up(&self, request: Request<pb::SignUpRequest>) -> Reply<pb::Assignment> {
        let centre = request_centre(&request, |r| &r.centre_id, Access::Write, DESK)?;
        let r = request.into_inner();
        let mut v = Violations::default();
        let shift = v.check(parse_id("shift_id", &r.shift_id));
        let volunteer = v.check(parse_id("volunteer_id", &r.volunteer_id));
        v.into_result(|| ()).map_err(Error::from)?;
        let row = store::sign_up(
            &self.pool,
            centre.into(),
            shift.unwrap_or_default().into(),
            volunteer.unwrap_or_default().into(),
            Utc::now(),
        )
        .await?;
        Ok(Response::new(assignment_to_pb(row)))
    }

    async fn withdraw(&self, request: Request<pb::WithdrawRequest>) -> Reply<pb::Assignment> {
        let centre = request_centre(&request, |r| &r.centre_id, Access::Write, DESK)?;
        let id =
            parse_id("assignment_id", &request.get_ref().assignment_id).map_err(Error::from)?;
        Ok(Response::new(assignment_to_pb(
            store::withdraw(&self.pool, centre.into(), id.into()).await?,
        )))
    }

    async fn match_volunteers(
        &self,
        request: Request<pb::MatchVolunteersRequest>,
    ) -> Reply<pb::MatchVolunteersResponse> {
        let centre = request_centre(&request, |r| &r.centre_id, Access::Read, READERS)?;
        let shift = parse_id("shift_id", &request.get_ref().shift_id).map_err(Error::from)?;
        let limit = match request.get_ref().limit {
            n if n <= 0 => 20,
            n => n.min(200) as usize,
        };
        let input = store::match_input(&self.pool, centre, shift).await?;
        Ok(Response::new(rank(input, limit)))
    }

    async fn check_in(&self, request: Request<pb::CheckInRequest>) -> Reply<pb::Assignment> {
        let centre = request_centre(&request, |r| &r.centre_id, Access::Write, DESK)?;
        let r = request.into_inner();
        let id = parse_id("assignment_id", &r.assignment_id).map_err(Error::from)?;
        let at = instant("at", r.at.as_ref())
            .map_err(Error::from)?
            .unwrap_or_else(Utc::now);
        Ok(Response::new(assignment_to_pb(
            store::check_in(&self.pool, centre.into(), id.into(), at).await?,
        )))
    }

    async fn check_out(&self, request: Request<pb::CheckOutRequest>) -> Reply<pb::Assignment> {
        let (who, centre) = scope(&request, &request.get_ref().centre_id, Access::Write, DESK)?;
        let r = request.into_inner();
        let id = parse_id("assignment_id", &r.assignment_id).map_err(Error::from)?;
        let at = instant("at", r.at.as_ref())
            .map_err(Error::from)?
            .unwrap_or_else(Utc::now);
        Ok(Response::new(assignment_to_pb(
            store::check_out(&self.pool, centre.into(), id.into(), at, &who.subject).await?,
        )))
    }

    async fn log_hours(&self, request: Request<pb::LogHoursRequest>) -> Reply<pb::HourEntry> {
        // A volunteer association's own system logs hours with its agreement's scope.
        let (who, centre) = if caller(&request)?.is_partner() {
            let who = caller(&request)?.clone();
            let centre = linli_platform::auth::partner_centre(
                &who,
                &request.get_ref().centre_id,
                "volunteers.hours:write",
            )?;
            (who, centre)
        } else {
            scope(
                &request,
                &request.get_ref().centre_id,
                Access::Write,
                HOUR_LOGGERS,
            )?
        };
        let r = request.into_inner();
        let mut v = Violations::default();
        let volunteer = v.check(parse_id("volunteer_id", &r.volunteer_id));
        let assignment = v
            .check(optional_id("assignment_id", &r.assignment_id))
            .flatten();
        let worked_on = domain::parse_date("worked_on", &r.worked_on, &mut v);
        if !(1..=1440).contains(&r.minutes) {
            v.push(
                "minutes",
                Reason::new("out_of_range", "must be 1 to 1440")
                    .with("min", 1)
                    .with("max", 1440),
            );
        }
        let note = text("note", &r.note, 500, false, &mut v);
        v.into_result(|| ()).map_err(Error::from)?;
        let worked_on = worked_on.unwrap_or_default();
        if worked_on > self.today(centre).await? {
            return Err(Error::from(Violations::one("worked_on", Reason::not_in_future())).into());
        }
        let row = store::log_hours(
            &self.pool,
            centre.into(),
            volunteer.unwrap_or_default().into(),
            assignment.map(Into::into),
            worked_on,
            r.minutes,
            &note,
            &who.subject,
        )
        .await?;
        Ok(Response::new(entry_to_pb(row)))
    }

    async fn verify_hours(&self, request: Request<pb::VerifyHoursRequest>) -> Reply<pb::HourEntry> {
        let (who, centre) = scope(
            &request,
            &request.get_ref().centre_id,
            Access::Write,
            COORDINATORS,
        )?;
        let r = request.into_inner();
        let id = parse_id("entry_id", &r.entry_id).map_err(Error::from)?;
        let mut v = Violations::default();
        let reason = text("reason", &r.reason, 200, !r.approve, &mut v);
        v.into_result(|| ()).map_err(Error::from)?;
        let row = store::verify_hours(
            &self.pool,
            centre.into(),
            id.into(),
            r.approve,
            &reason,
            &who.subject,
            Utc::now(),
        )
        .await?;
        Ok(Response::new(entry_to_pb(row)))
    }

    async fn list_hour_entries(
        &self,
        request: Request<pb::ListHourEntriesRequest>,
    ) -> Reply<pb::ListHourEntriesResponse> {
        let centre = request_centre(&request, |r| &r.centre_id, Access::Read, READERS)?;
        let r = request.into_inner();
        let volunteer = optional_id("volunteer_id", &r.volunteer_id).map_err(Error::from)?;
        let page = PageRequest::parse("volunteers.hour_entries", r.page_size, &r.page_token)
            .map_err(Error::from)?;
        let rows = store::list_hour_entries(
            &self.pool,
            centre,
            volunteer,
            filter(&r.status),
            page.after(),
            page.limit(),
        )
        .await?;
        let page = page
            .page(rows, |row| (row.worked_on, row.created_at, row.id))
            .map(entry_to_pb);
        Ok(Response::new(pb::ListHourEntriesResponse {
            entries: page.rows,
            next_page_token: page.next_page_token,
        }))
    }

    async fn get_hours_totals(
        &self,
        request: Request<pb::GetHoursTotalsRequest>,
    ) -> Reply<pb::HoursTotals> {
        let centre = request_centre(&request, |r| &r.centre_id, Access::Read, READERS)?;
        let r = request.into_inner();
        let mut v = Violations::default();
        let from = domain::parse_optional_date("from", &r.from, &mut v);
        let to = domain::parse_optional_date("to", &r.to, &mut v);
        v.into_result(|| ()).map_err(Error::from)?;
        let rows = store::hours_totals(&self.pool, centre, from, to).await?;
        Ok(Response::new(pb::HoursTotals {
            centre_id: centre.to_string(),
            verified_minutes: rows.iter().map(|r| r.1).sum(),
            pending_minutes: rows.iter().map(|r| r.2).sum(),
            volunteers: rows
                .into_iter()
                .map(|(id, verified, pending, milestones)| pb::VolunteerHours {
                    volunteer_id: id.to_string(),
                    verified_minutes: verified,
                    pending_minutes: pending,
                    milestones,
                })
                .collect(),
        }))
    }

    async fn create_group(
        &self,
        request: Request<pb::CreateGroupRequest>,
    ) -> Reply<pb::CommunityGroup> {
        let centre = request_centre(&request, |r| &r.centre_id, Access::Write, COORDINATORS)?;
        let r = request.into_inner();
        let mut v = Violations::default();
        one_of("kind", &r.kind, &domain::GROUP_KINDS, &mut v);
        let clean = |field: &str, items: &[String], v: &mut Violations| -> Vec<String> {
            items
                .iter()
                .enumerate()
                .map(|(i, item)| text(&format!("{field}[{i}]"), item, 100, true, v))
                .collect()
        };
        let row = store::GroupRow {
            id: Uuid::new_v4(),
            centre_id: centre,
            name: text("name", &r.name, 100, true, &mut v),
            kind: r.kind.clone(),
            description: text("description", &r.description, 2000, false, &mut v),
            support_rooms: clean("support_rooms", &r.support_rooms, &mut v),
            support_equipment: clean("support_equipment", &r.support_equipment, &mut v),
        };
        v.into_result(|| ()).map_err(Error::from)?;
        let row = store::create_group(&self.pool, &row).await?;
        Ok(Response::new(group_to_pb(row, Vec::new())))
    }

    async fn list_groups(
        &self,
        request: Request<pb::ListGroupsRequest>,
    ) -> Reply<pb::ListGroupsResponse> {
        let centre = request_centre(&request, |r| &r.centre_id, Access::Read, READERS)?;
        let rows = store::list_groups(&self.pool, centre, filter(&request.get_ref().kind)).await?;
        Ok(Response::new(pb::ListGroupsResponse {
            groups: rows.into_iter().map(|(g, m)| group_to_pb(g, m)).collect(),
        }))
    }

    async fn add_group_member(
        &self,
        request: Request<pb::AddGroupMemberRequest>,
    ) -> Reply<pb::CommunityGroup> {
        let centre = request_centre(&request, |r| &r.centre_id, Access::Write, DESK)?;
        let r = request.into_inner();
        let mut v = Violations::default();
        let group = v.check(parse_id("group_id", &r.group_id));
        let resident = v.check(parse_id("resident_id", &r.resident_id));
        one_of("role", &r.role, &domain::MEMBER_ROLES, &mut v);
        v.into_result(|| ()).map_err(Error::from)?;
        let group = group.unwrap_or_default();
        let today = self.today(centre).await?;
        store::add_group_member(
            &self.pool,
            centre,
            group,
            resident.unwrap_or_default(),
            &r.role,
            today,
        )
        .await?;
        let groups = store::list_groups(&self.pool, centre, None).await?;
        let (g, m) = groups
            .into_iter()
            .find(|(g, _)| g.id == group)
            .ok_or(Error::NotFound("group"))?;
        Ok(Response::new(group_to_pb(g, m)))
    }

    async fn create_review(&self, request: Request<pb::CreateReviewRequest>) -> Reply<pb::Review> {
        let (who, centre) = scope(
            &request,
            &request.get_ref().centre_id,
            Access::Write,
            MANAGERS,
        )?;
        let r = request.into_inner();
        let mut v = Violations::default();
        let staff = v.check(parse_id("staff_id", &r.staff_id));
        let start = domain::parse_date("period_start", &r.period_start, &mut v);
        let end = domain::parse_date("period_end", &r.period_end, &mut v);
        if let (Some(s), Some(e)) = (start, end)
            && e < s
        {
            v.push(
                "period_end",
                Reason::new("before", "must not be before period_start")
                    .with("other", "period_start"),
            );
        }
        if r.scores.is_empty() {
            v.push(
                "scores",
                Reason::new("review.no_score", "at least one criterion is scored"),
            );
        }
        let mut criteria = Vec::new();
        let mut scores = Vec::new();
        for (i, s) in r.scores.iter().enumerate() {
            criteria.extend(domain::tags(
                &format!("scores[{i}].criterion"),
                std::slice::from_ref(&s.criterion),
                &mut v,
            ));
            if !(1..=5).contains(&s.score) {
                v.push(
                    format!("scores[{i}].score"),
                    Reason::new("out_of_range", "must be 1 to 5")
                        .with("min", 1)
                        .with("max", 5),
                );
            }
            scores.push(s.score);
        }
        if criteria.len() != scores.len() && v.is_empty() {
            v.push(
                "scores",
                Reason::new("review.duplicate_score", "each criterion is scored once"),
            );
        }
        let comments = text("comments", &r.comments, 4000, false, &mut v);
        v.into_result(|| ()).map_err(Error::from)?;
        let row = store::create_review(
            &self.pool,
            centre,
            staff.unwrap_or_default(),
            start.unwrap_or_default(),
            end.unwrap_or_default(),
            &who.subject,
            &criteria,
            &scores,
            &comments,
        )
        .await?;
        Ok(Response::new(review_to_pb(row)))
    }

    async fn list_reviews(
        &self,
        request: Request<pb::ListReviewsRequest>,
    ) -> Reply<pb::ListReviewsResponse> {
        let centre = request_centre(
            &request,
            |r| &r.centre_id,
            Access::Read,
            MANAGERS_AND_AUDITORS,
        )?;
        let r = request.into_inner();
        let staff = optional_id("staff_id", &r.staff_id).map_err(Error::from)?;
        let page = PageRequest::parse("volunteers.reviews", r.page_size, &r.page_token)
            .map_err(Error::from)?;
        let rows =
            store::list_reviews(&self.pool, centre, staff, page.after(), page.limit()).await?;
        let page = page
            .page(rows, |row| (row.period_start, row.id))
            .map(review_to_pb);
        Ok(Response::new(pb::ListReviewsResponse {
            reviews: page.rows,
            next_page_token: page.next_page_token,
        }))
    }

    async fn export_resident(
        &self,
        request: Request<pb::ExportResidentRequest>,
    ) -> Reply<pb::ResidentExport> {
        // The centre's exporters, or the resident themselves (the residents' site's 我的信息).
        let resident =
            parse_id("resident_id", &request.get_ref().resident_id).map_err(Error::from)?;
        let centre = linli_platform::auth::own_or_scoped_centre(
            caller(&request)?,
            &request.get_ref().centre_id,
            resident,
            Access::Read,
            RESIDENT_EXPORTERS,
        )?;
        let data = store::resident_data(&self.pool, centre, resident).await?;
        Ok(Response::new(pb::ResidentExport {
            volunteer: data
                .volunteer
                .map(|row| volunteer_to_pb(row, &data.windows)),
            guardian_consent_at: data.guardian_consent_at.map(timestamp),
            assignments: data.assignments.into_iter().map(assignment_to_pb).collect(),
            shifts: data.shifts.into_iter().map(shift_to_pb).collect(),
            opportunities: data
                .opportunities
                .into_iter()
                .map(opportunity_to_pb)
                .collect(),
            hour_entries: data.hours.into_iter().map(entry_to_pb).collect(),
            certifications: data
                .certifications
                .into_iter()
                .map(certification_to_pb)
                .collect(),
            completions: data.completions.into_iter().map(completion_to_pb).collect(),
            courses: data.courses.into_iter().map(course_to_pb).collect(),
            groups: data
                .groups
                .into_iter()
                .map(|(id, name, kind, role, joined_on)| pb::GroupMembership {
                    group_id: id.to_string(),
                    group_name: name,
                    kind,
                    role,
                    joined_on: date_text(Some(joined_on)),
                })
                .collect(),
        }))
    }

    async fn assign_staff(
        &self,
        request: Request<pb::AssignStaffRequest>,
    ) -> Reply<pb::StaffAssignment> {
        let (who, centre) = scope(
            &request,
            &request.get_ref().centre_id,
            Access::Write,
            COORDINATORS,
        )?;
        let r = request.into_inner();
        let mut v = Violations::default();
        let mut id = |field: &str, text: &str| v.check(parse_id(field, text)).unwrap_or_default();
        let (staff, offering, session) = (
            id("staff_id", &r.staff_id),
            id("offering_id", &r.offering_id),
            id("session_id", &r.session_id),
        );
        let starts = v
            .check(instant("starts_at", r.starts_at.as_ref()))
            .flatten();
        let ends = v.check(instant("ends_at", r.ends_at.as_ref())).flatten();
        if starts.is_none() {
            v.push("starts_at", Reason::required());
        }
        if ends.is_none() {
            v.push("ends_at", Reason::required());
        }
        if let (Some(starts), Some(ends)) = (starts, ends)
            && ends <= starts
        {
            v.push("ends_at", Reason::after("starts_at"));
        }
        v.into_result(|| ()).map_err(Error::from)?;
        let row = store::StaffAssignmentRow {
            id: Uuid::new_v4(),
            centre_id: centre,
            staff_id: staff,
            offering_id: offering,
            session_id: session,
            starts_at: starts.unwrap_or_default(),
            ends_at: ends.unwrap_or_default(),
            session_on: NaiveDate::default(),
            licence: String::new(),
            assigned_by: who.subject.clone(),
            assigned_at: Utc::now(),
        };
        let row = store::assign_staff(&self.pool, &row).await?;
        Ok(Response::new(staff_assignment_to_pb(row)))
    }

    async fn list_staff_assignments(
        &self,
        request: Request<pb::ListStaffAssignmentsRequest>,
    ) -> Reply<pb::ListStaffAssignmentsResponse> {
        let centre = request_centre(&request, |r| &r.centre_id, Access::Read, READERS)?;
        let r = request.into_inner();
        let session = optional_id("session_id", &r.session_id).map_err(Error::from)?;
        let staff = optional_id("staff_id", &r.staff_id).map_err(Error::from)?;
        let rows = store::list_staff_assignments(&self.pool, centre, session, staff).await?;
        Ok(Response::new(pb::ListStaffAssignmentsResponse {
            assignments: rows.into_iter().map(staff_assignment_to_pb).collect(),
        }))
    }
}

fn staff_assignment_to_pb(row: store::StaffAssignmentRow) -> pb::StaffAssignment {
    pb::StaffAssignment {
        id: row.id.to_string(),
        centre_id: row.centre_id.to_string(),
        staff_id: row.staff_id.to_string(),
        offering_id: row.offering_id.to_string(),
        session_id: row.session_id.to_string(),
        starts_at: Some(timestamp(row.starts_at)),
        ends_at: Some(timestamp(row.ends_at)),
        session_on: date_text(Some(row.session_on)),
        licence: row.licence,
        assigned_by: row.assigned_by,
        assigned_at: Some(timestamp(row.assigned_at)),
    }
}

/// Reviews are read by managers and auditors only.
const MANAGERS_AND_AUDITORS: &[linli_platform::auth::Role] = &[
    linli_platform::auth::Role::DistrictAdmin,
    linli_platform::auth::Role::CentreManager,
    linli_platform::auth::Role::Auditor,
];

/// Splits the centre's active volunteers into the ranked and the excluded for a shift, as
/// the domain judges them ([`domain::matching::judge`]).
fn rank(input: store::MatchInput, limit: usize) -> pb::MatchVolunteersResponse {
    let opportunity = &input.opportunity;
    let opening = domain::matching::Opening {
        required_skills: &opportunity.required_skills,
        required_certifications: &opportunity.required_certifications,
        works_with_minors: opportunity.works_with_minors,
        zone: input.zone,
        starts_at: input.shift.starts_at,
        ends_at: input.shift.ends_at,
        local_date: input.shift.local_date,
    };
    let mut ranked = Vec::new();
    let mut excluded = Vec::new();
    for volunteer in &input.volunteers {
        let windows: Vec<Window> = input
            .windows
            .iter()
            .filter(|w| w.volunteer_id == volunteer.id)
            .map(store::WindowRow::window)
            .collect();
        let judged = domain::matching::judge(
            &opening,
            &domain::matching::Applicant {
                skills: &volunteer.skills,
                windows: &windows,
                held: input
                    .held
                    .get(&volunteer.id)
                    .map(Vec::as_slice)
                    .unwrap_or_default(),
                background_checked: volunteer.background_checked,
                recent_minutes: input.recent.get(&volunteer.id).copied().unwrap_or_default(),
                busy: match input.busy.get(&volunteer.id) {
                    Some(true) => domain::matching::Busy::OnThisShift,
                    Some(false) => domain::matching::Busy::Overlapping,
                    None => domain::matching::Busy::Free,
                },
            },
        );
        let candidate = pb::Candidate {
            volunteer_id: volunteer.id.to_string(),
            display_name: volunteer.display_name.clone(),
            score: judged.score,
            skill_fit: judged.prospect.skill_fit,
            available: judged.prospect.fit == domain::Fit::Whole,
            recent_minutes: judged.prospect.recent_minutes,
            reasons: judged.reasons.iter().map(|r| r.english.clone()).collect(),
            explanations: judged
                .reasons
                .into_iter()
                .map(|r| pb::Explanation {
                    code: r.code.into_owned(),
                    params: r.params.into_iter().collect(),
                })
                .collect(),
        };
        if judged.score > 0.0 {
            ranked.push(candidate);
        } else {
            excluded.push(candidate);
        }
    }
    ranked.sort_by(|a, b| {
        b.score
            .total_cmp(&a.score)
            .then_with(|| a.volunteer_id.cmp(&b.volunteer_id))
    });
    ranked.truncate(limit);
    pb::MatchVolunteersResponse { ranked, excluded }
}
