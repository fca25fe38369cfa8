//! The board's part of evaluation's gRPC surface (理事会, issue 24): each request's caller
//! checked (the centre's manager or the district writes; every staff role of the centre
//! reads), what it carries read, one store call, the answer mapped.

use chrono::{NaiveDate, Utc};
use linli_platform::auth::{Access, Caller, caller, scoped_centre};
use linli_platform::error::Violations;
use linli_platform::id::Id;
use linli_platform::wire::timestamp;
use linli_proto::evaluation::v1 as pb;
use sqlx::PgPool;
use tonic::{Request, Response, Status};

use crate::domain::READERS;
use crate::domain::board::{
    self, Decision, Meeting, MeetingAsked, Member, MemberAsked, WRITERS, committees, optional_date,
};
use crate::domain::ids::{CentreId, DecisionId, MemberId};
use crate::store::board as store;

fn writer<T>(request: &Request<T>, centre_id: &str) -> Result<(Caller, CentreId), Status> {
    let who = caller(request)?;
    let centre = scoped_centre(who, centre_id, Access::Write, WRITERS)?;
    Ok((who.clone(), CentreId::from_uuid(centre)))
}

fn reader<T>(request: &Request<T>, centre_id: &str) -> Result<CentreId, Status> {
    scoped_centre(caller(request)?, centre_id, Access::Read, READERS).map(CentreId::from_uuid)
}

/// A required id, its error kept in `v` with the others.
fn id<T>(field: &str, text: &str, v: &mut Violations) -> Option<Id<T>> {
    v.check(Id::parse(field, text))
}

/// An id that may be left empty, its error kept in `v`.
fn optional<T>(field: &str, text: &str, v: &mut Violations) -> Option<Id<T>> {
    v.check(Id::parse_optional(field, text)).flatten()
}

fn day_text(day: Option<NaiveDate>) -> String {
    day.map(|d| d.format("%Y-%m-%d").to_string())
        .unwrap_or_default()
}

fn member_to_pb(m: Member, today: NaiveDate) -> pb::BoardMember {
    pb::BoardMember {
        id: m.id.to_string(),
        centre_id: m.centre_id.to_string(),
        current: m.is_current(today),
        auditor: m.is_auditor(),
        name: m.name,
        sector: m.sector,
        resident_id: m.resident_id.map(|id| id.to_string()).unwrap_or_default(),
        partner_id: m.partner_id.map(|id| id.to_string()).unwrap_or_default(),
        role: m.role,
        committees: m.committees,
        term_from: day_text(Some(m.term_from)),
        term_until: day_text(Some(m.term_until)),
        ended_on: day_text(m.ended_on),
        staff_username: m.staff_username,
    }
}

fn decision_to_pb(d: Decision, today: NaiveDate) -> pb::BoardDecision {
    pb::BoardDecision {
        id: d.id.to_string(),
        meeting_id: d.meeting_id.to_string(),
        overdue: d.is_overdue(today),
        done: d.done_on.is_some(),
        text: d.text,
        owner_member_id: d.owner_member_id.to_string(),
        due_on: day_text(Some(d.due_on)),
        done_on: day_text(d.done_on),
    }
}

fn meeting_to_pb(m: Meeting, decisions: Vec<Decision>, today: NaiveDate) -> pb::BoardMeeting {
    pb::BoardMeeting {
        id: m.id.to_string(),
        centre_id: m.centre_id.to_string(),
        held_on: day_text(Some(m.held_on)),
        title: m.title,
        agenda: m.agenda,
        minutes: m.minutes,
        attendee_ids: m.attendee_ids.iter().map(ToString::to_string).collect(),
        decisions: (decisions.into_iter())
            .map(|d| decision_to_pb(d, today))
            .collect(),
        recorded_by: m.recorded_by,
    }
}

pub async fn add_member(
    pool: &PgPool,
    request: Request<pb::AddBoardMemberRequest>,
) -> Result<Response<pb::BoardMember>, Status> {
    let (who, centre) = writer(&request, &request.get_ref().centre_id)?;
    let m = request.into_inner().member.unwrap_or_default();
    let mut v = Violations::default();
    let asked = MemberAsked {
        name: &m.name,
        sector: &m.sector,
        role: &m.role,
        resident_id: optional("member.resident_id", &m.resident_id, &mut v),
        resident_text: &m.resident_id,
        partner_id: optional("member.partner_id", &m.partner_id, &mut v),
        committees: &m.committees,
        term_from: &m.term_from,
        term_until: &m.term_until,
        staff_username: &m.staff_username,
    };
    let member = board::new_member(centre, &asked, v)?;
    let (member, today) = store::add_member(pool, member, &who.subject, Utc::now()).await?;
    Ok(Response::new(member_to_pb(member, today)))
}

pub async fn set_committees(
    pool: &PgPool,
    request: Request<pb::SetBoardCommitteesRequest>,
) -> Result<Response<pb::BoardMember>, Status> {
    let (who, centre) = writer(&request, &request.get_ref().centre_id)?;
    let r = request.into_inner();
    let mut v = Violations::default();
    let id: Option<MemberId> = id("member_id", &r.member_id, &mut v);
    let after = committees("committees", &r.committees, &mut v);
    let (Some(id), true) = (id, v.is_empty()) else {
        return Err(v.into());
    };
    let (member, today) =
        store::change_member(pool, centre, id, &who.subject, Utc::now(), |m, _| {
            board::set_committees(m, after)
        })
        .await?;
    Ok(Response::new(member_to_pb(member, today)))
}

pub async fn end_membership(
    pool: &PgPool,
    request: Request<pb::EndBoardMembershipRequest>,
) -> Result<Response<pb::BoardMember>, Status> {
    let (who, centre) = writer(&request, &request.get_ref().centre_id)?;
    let r = request.into_inner();
    let mut v = Violations::default();
    let id: Option<MemberId> = id("member_id", &r.member_id, &mut v);
    let day = optional_date("ended_on", &r.ended_on, &mut v);
    let (Some(id), true) = (id, v.is_empty()) else {
        return Err(v.into());
    };
    let (member, today) =
        store::change_member(pool, centre, id, &who.subject, Utc::now(), |m, today| {
            board::end(m, day, today)
        })
        .await?;
    Ok(Response::new(member_to_pb(member, today)))
}

pub async fn list_members(
    pool: &PgPool,
    request: Request<pb::ListBoardMembersRequest>,
) -> Result<Response<pb::ListBoardMembersResponse>, Status> {
    let centre = reader(&request, &request.get_ref().centre_id)?;
    let (members, today) = store::members(pool, centre, request.get_ref().current_only).await?;
    Ok(Response::new(pb::ListBoardMembersResponse {
        members: members
            .into_iter()
            .map(|m| member_to_pb(m, today))
            .collect(),
    }))
}

pub async fn list_audit(
    pool: &PgPool,
    request: Request<pb::ListBoardAuditRequest>,
) -> Result<Response<pb::ListBoardAuditResponse>, Status> {
    let centre = reader(&request, &request.get_ref().centre_id)?;
    let member = MemberId::parse_optional("member_id", &request.get_ref().member_id)?;
    let rows = store::audit_trail(pool, centre, member).await?;
    Ok(Response::new(pb::ListBoardAuditResponse {
        entries: (rows.into_iter())
            .map(|r| pb::BoardAuditEntry {
                id: r.id.to_string(),
                member_id: r.member_id.to_string(),
                action: r.action,
                committee: r.committee,
                actor: r.actor,
                at: Some(timestamp(r.at)),
            })
            .collect(),
    }))
}

pub async fn record_meeting(
    pool: &PgPool,
    request: Request<pb::RecordBoardMeetingRequest>,
) -> Result<Response<pb::BoardMeeting>, Status> {
    let (who, centre) = writer(&request, &request.get_ref().centre_id)?;
    let m = request.into_inner().meeting.unwrap_or_default();
    let mut v = Violations::default();
    let attendee_ids = (m.attendee_ids.iter().enumerate())
        .filter_map(|(i, text)| id(&format!("meeting.attendee_ids[{i}]"), text, &mut v))
        .collect();
    let decisions = (m.decisions.iter().enumerate())
        .map(|(i, d)| {
            let field = format!("meeting.decisions[{i}].owner_member_id");
            let owner = id(&field, &d.owner_member_id, &mut v);
            (d.text.as_str(), owner, d.due_on.as_str())
        })
        .collect();
    let asked = MeetingAsked {
        held_on: &m.held_on,
        title: &m.title,
        agenda: &m.agenda,
        minutes: &m.minutes,
        attendee_ids,
        decisions,
        recorded_by: &who.subject,
    };
    let (meeting, decisions) = board::new_meeting(centre, &asked, v)?;
    let (meeting, decisions, today) = store::record_meeting(pool, meeting, decisions).await?;
    Ok(Response::new(meeting_to_pb(meeting, decisions, today)))
}

pub async fn list_meetings(
    pool: &PgPool,
    request: Request<pb::ListBoardMeetingsRequest>,
) -> Result<Response<pb::ListBoardMeetingsResponse>, Status> {
    let centre = reader(&request, &request.get_ref().centre_id)?;
    let (meetings, today) = store::meetings(pool, centre).await?;
    Ok(Response::new(pb::ListBoardMeetingsResponse {
        meetings: (meetings.into_iter())
            .map(|(m, decisions)| meeting_to_pb(m, decisions, today))
            .collect(),
    }))
}

pub async fn list_decisions(
    pool: &PgPool,
    request: Request<pb::ListBoardDecisionsRequest>,
) -> Result<Response<pb::ListBoardDecisionsResponse>, Status> {
    let centre = reader(&request, &request.get_ref().centre_id)?;
    let (decisions, today) = store::decisions(pool, centre, request.get_ref().open_only).await?;
    Ok(Response::new(pb::ListBoardDecisionsResponse {
        decisions: (decisions.into_iter())
            .map(|d| decision_to_pb(d, today))
            .collect(),
    }))
}

pub async fn complete_decision(
    pool: &PgPool,
    request: Request<pb::CompleteBoardDecisionRequest>,
) -> Result<Response<pb::BoardDecision>, Status> {
    let (who, centre) = writer(&request, &request.get_ref().centre_id)?;
    let r = request.into_inner();
    let mut v = Violations::default();
    let id: Option<DecisionId> = id("decision_id", &r.decision_id, &mut v);
    let day = optional_date("done_on", &r.done_on, &mut v);
    let (Some(id), true) = (id, v.is_empty()) else {
        return Err(v.into());
    };
    let (decision, today) = store::complete_decision(pool, centre, id, day, &who.subject).await?;
    Ok(Response::new(decision_to_pb(decision, today)))
}
