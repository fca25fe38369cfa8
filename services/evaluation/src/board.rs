//! The board (理事会, issue 24): a centre's members drawn from residents, government,
//! business and NGOs (a member may be a resident of the centre or a partner's contact),
//! each with a term, a role and committees; meetings with their date, attendance, agenda,
//! minutes and decisions, each decision with an owner and a due date, tracked to done.
//! The finance oversight group (财务监督小组) is the committee `finance_oversight`, and its
//! members are the centre's auditors: evaluation records it (the member's `auditor`) and
//! says so in `evaluation.board.membership_changed` with the member's console account, for
//! the registry, which keeps accounts and roles, to act on. Every membership change is an
//! audit row and that event, committed together. The centre's manager (or the district)
//! writes; every staff role of the centre reads.

use chrono::{DateTime, NaiveDate, Utc};
use linli_platform::auth::{Access, Caller, Role, caller, scoped_centre};
use linli_platform::bus::outbox;
use linli_platform::db::transaction;
use linli_platform::directory;
use linli_platform::error::{Error, Reason, Violations};
use linli_platform::wire::{optional_id, parse_id, timestamp};
use linli_proto::evaluation::v1 as pb;
use linli_proto::events::v1::BoardMembershipChanged;
use sqlx::{PgConnection, PgPool};
use tonic::{Request, Response, Status};
use uuid::Uuid;

use crate::domain::READERS;

/// Who keeps the board: the centre's manager, or the district.
pub const WRITERS: &[Role] = &[Role::DistrictAdmin, Role::CentreManager];
pub const SECTORS: [&str; 4] = ["resident", "government", "business", "ngo"];
pub const ROLES: [&str; 4] = ["chair", "vice_chair", "secretary", "member"];
/// The board's committees: the finance oversight group.
pub const FINANCE_OVERSIGHT: &str = "finance_oversight";
pub const COMMITTEES: [&str; 1] = [FINANCE_OVERSIGHT];

// ---------------------------------------------------------------------------------------
// Rules

/// A membership change, as audited and published.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Change {
    pub action: &'static str,
    pub committee: String,
}

/// The changes from `before` to `after` committees: each joined, each left, in order.
pub fn committee_changes(before: &[String], after: &[String]) -> Vec<Change> {
    let joined = after
        .iter()
        .filter(|c| !before.contains(c))
        .map(|c| Change {
            action: "committee_joined",
            committee: c.clone(),
        });
    let left = before
        .iter()
        .filter(|c| !after.contains(c))
        .map(|c| Change {
            action: "committee_left",
            committee: c.clone(),
        });
    joined.chain(left).collect()
}

/// A member sits on the finance oversight group: the centre's auditor.
pub fn is_auditor(committees: &[String], ended: bool) -> bool {
    !ended && committees.iter().any(|c| c == FINANCE_OVERSIGHT)
}

/// A membership that ended changes no more.
pub fn still_sitting(ended_on: Option<NaiveDate>) -> Result<(), Error> {
    match ended_on {
        None => Ok(()),
        Some(day) => Err(Error::State(
            Reason::new(
                "board.membership_ended",
                format!("the membership ended on {day}"),
            )
            .with("ended_on", day),
        )),
    }
}

/// A membership ends within its term.
pub fn ends_within_term(
    term_from: NaiveDate,
    term_until: NaiveDate,
    day: NaiveDate,
) -> Result<(), Error> {
    if (term_from..=term_until).contains(&day) {
        return Ok(());
    }
    Err(Violations::one(
        "ended_on",
        Reason::new(
            "board.outside_term",
            format!("must be within the term, {term_from} to {term_until}"),
        )
        .with("term_from", term_from)
        .with("term_until", term_until),
    )
    .into())
}

/// A decision is done once.
pub fn not_done(done_on: Option<NaiveDate>) -> Result<(), Error> {
    match done_on {
        None => Ok(()),
        Some(day) => Err(Error::State(
            Reason::new(
                "board.decision_done",
                format!("the decision was done on {day}"),
            )
            .with("done_on", day),
        )),
    }
}

fn committees(field: &str, values: &[String], v: &mut Violations) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for (i, value) in values.iter().enumerate() {
        let value = value.trim();
        if !COMMITTEES.contains(&value) {
            v.push(format!("{field}[{i}]"), Reason::one_of(&COMMITTEES));
        } else if !out.iter().any(|c| c == value) {
            out.push(value.to_owned());
        }
    }
    out
}

fn date(field: &str, text: &str, v: &mut Violations) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d")
        .map_err(|_| v.push(field, Reason::date()))
        .ok()
}

fn text(field: &str, value: &str, min: usize, max: usize, v: &mut Violations) -> String {
    let value = value.trim();
    let n = value.chars().count();
    if n < min || n > max {
        v.push(field, Reason::length(min, max));
    }
    value.to_owned()
}

fn day_text(day: Option<NaiveDate>) -> String {
    day.map(|d| d.format("%Y-%m-%d").to_string())
        .unwrap_or_default()
}

// ---------------------------------------------------------------------------------------
// Rows

#[derive(Clone, Debug, sqlx::FromRow)]
struct MemberRow {
    id: Uuid,
    centre_id: Uuid,
    name: String,
    sector: String,
    resident_id: Option<Uuid>,
    partner_id: Option<Uuid>,
    role: String,
    committees: Vec<String>,
    term_from: NaiveDate,
    term_until: NaiveDate,
    ended_on: Option<NaiveDate>,
    staff_username: String,
}

macro_rules! member_columns {
    () => {
        "id, centre_id, name, sector, resident_id, partner_id, role, committees, term_from, term_until, ended_on, staff_username"
    };
}

fn member_to_pb(row: MemberRow, today: NaiveDate) -> pb::BoardMember {
    let current = row.ended_on.is_none() && row.term_from <= today && today <= row.term_until;
    pb::BoardMember {
        id: row.id.to_string(),
        centre_id: row.centre_id.to_string(),
        name: row.name,
        sector: row.sector,
        resident_id: row.resident_id.map(|id| id.to_string()).unwrap_or_default(),
        partner_id: row.partner_id.map(|id| id.to_string()).unwrap_or_default(),
        role: row.role,
        auditor: is_auditor(&row.committees, row.ended_on.is_some()),
        committees: row.committees,
        term_from: day_text(Some(row.term_from)),
        term_until: day_text(Some(row.term_until)),
        ended_on: day_text(row.ended_on),
        staff_username: row.staff_username,
        current,
    }
}

#[derive(Clone, Debug, sqlx::FromRow)]
struct DecisionRow {
    id: Uuid,
    meeting_id: Uuid,
    text: String,
    owner_member_id: Uuid,
    due_on: NaiveDate,
    done_on: Option<NaiveDate>,
}

macro_rules! decision_columns {
    () => {
        "id, meeting_id, text, owner_member_id, due_on, done_on"
    };
}

fn decision_to_pb(row: DecisionRow, today: NaiveDate) -> pb::BoardDecision {
    pb::BoardDecision {
        id: row.id.to_string(),
        meeting_id: row.meeting_id.to_string(),
        text: row.text,
        owner_member_id: row.owner_member_id.to_string(),
        due_on: day_text(Some(row.due_on)),
        done_on: day_text(row.done_on),
        done: row.done_on.is_some(),
        overdue: row.done_on.is_none() && row.due_on < today,
    }
}

#[derive(Clone, Debug, sqlx::FromRow)]
struct MeetingRow {
    id: Uuid,
    centre_id: Uuid,
    held_on: NaiveDate,
    title: String,
    agenda: Vec<String>,
    minutes: String,
    attendee_ids: Vec<Uuid>,
    recorded_by: String,
}

// ---------------------------------------------------------------------------------------
// Store

async fn today(conn: &mut PgConnection, centre: Uuid) -> Result<NaiveDate, Error> {
    let zone = directory::time_zone(conn, centre).await?;
    Ok(Utc::now().with_timezone(&zone).date_naive())
}

async fn find_member(
    conn: &mut PgConnection,
    centre: Uuid,
    id: Uuid,
    lock: bool,
) -> Result<MemberRow, Error> {
    let sql = if lock {
        concat!(
            "SELECT ",
            member_columns!(),
            " FROM board_members WHERE centre_id = $1 AND id = $2 FOR UPDATE"
        )
    } else {
        concat!(
            "SELECT ",
            member_columns!(),
            " FROM board_members WHERE centre_id = $1 AND id = $2"
        )
    };
    sqlx::query_as(sql)
        .bind(centre)
        .bind(id)
        .fetch_optional(conn)
        .await?
        .ok_or(Error::NotFound("board member"))
}

/// Writes the audit row of a change and its event, in the caller's transaction.
async fn audit(
    tx: &mut PgConnection,
    member: &MemberRow,
    change: &Change,
    actor: &str,
    now: DateTime<Utc>,
) -> Result<(), Error> {
    sqlx::query(
        "INSERT INTO board_audit (id, centre_id, member_id, action, committee, actor, at)
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(Uuid::new_v4())
    .bind(member.centre_id)
    .bind(member.id)
    .bind(change.action)
    .bind(&change.committee)
    .bind(actor)
    .bind(now)
    .execute(&mut *tx)
    .await?;
    let event = BoardMembershipChanged {
        member_id: member.id.to_string(),
        centre_id: member.centre_id.to_string(),
        action: change.action.to_owned(),
        committee: change.committee.clone(),
        committees: member.committees.clone(),
        auditor: is_auditor(&member.committees, member.ended_on.is_some()),
        staff_username: member.staff_username.clone(),
        actor: actor.to_owned(),
        changed_at: Some(timestamp(now)),
    };
    outbox::enqueue(tx, Some(member.centre_id), &event).await?;
    Ok(())
}

/// A resident's erasure: a resident member's name and their link to the resident go; the
/// seat (sector, term, committees) and its audit stay. Minutes and decisions are the
/// board's own words and are not searched.
pub async fn forget_resident(tx: &mut PgConnection, resident: Uuid) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE board_members SET name = '', resident_id = NULL, erased_at = now()
          WHERE resident_id = $1",
    )
    .bind(resident)
    .execute(tx)
    .await?;
    Ok(())
}

// ---------------------------------------------------------------------------------------
// Requests

fn writer<T>(request: &Request<T>, centre_id: &str) -> Result<(Caller, Uuid), Status> {
    let who = caller(request)?;
    let centre = scoped_centre(who, centre_id, Access::Write, WRITERS)?;
    Ok((who.clone(), centre))
}

fn reader<T>(request: &Request<T>, centre_id: &str) -> Result<Uuid, Status> {
    scoped_centre(caller(request)?, centre_id, Access::Read, READERS)
}

pub async fn add_member(
    pool: &PgPool,
    request: Request<pb::AddBoardMemberRequest>,
) -> Result<Response<pb::BoardMember>, Status> {
    let (who, centre) = writer(&request, &request.get_ref().centre_id)?;
    let m = request.into_inner().member.unwrap_or_default();
    let mut v = Violations::default();
    let name = text("member.name", &m.name, 1, 100, &mut v);
    if !SECTORS.contains(&m.sector.as_str()) {
        v.push("member.sector", Reason::one_of(&SECTORS));
    }
    let role = if m.role.trim().is_empty() {
        "member".to_owned()
    } else {
        m.role.trim().to_owned()
    };
    if !ROLES.contains(&role.as_str()) {
        v.push("member.role", Reason::one_of(&ROLES));
    }
    let resident = optional_id("member.resident_id", &m.resident_id).unwrap_or_else(|e| {
        v.0.extend(e.0);
        None
    });
    let partner = optional_id("member.partner_id", &m.partner_id).unwrap_or_else(|e| {
        v.0.extend(e.0);
        None
    });
    if m.sector == "resident" && resident.is_none() && m.resident_id.is_empty() {
        v.push("member.resident_id", Reason::required());
    }
    if m.sector != "resident" && resident.is_some() {
        v.push(
            "member.resident_id",
            Reason::new(
                "board.resident_sector",
                "a resident sits for the residents: sector must be resident",
            ),
        );
    }
    let committees = committees("member.committees", &m.committees, &mut v);
    let from = date("member.term_from", &m.term_from, &mut v);
    let until = date("member.term_until", &m.term_until, &mut v);
    if let (Some(from), Some(until)) = (from, until)
        && until < from
    {
        v.push("member.term_until", Reason::after("member.term_from"));
    }
    let username = m.staff_username.trim().to_owned();
    if username.chars().count() > 32 {
        v.push("member.staff_username", Reason::too_long(32));
    }
    let (Some(from), Some(until), true) = (from, until, v.is_empty()) else {
        return Err(v.into());
    };
    let now = Utc::now();
    let row = MemberRow {
        id: Uuid::new_v4(),
        centre_id: centre,
        name,
        sector: m.sector,
        resident_id: resident,
        partner_id: partner,
        role,
        committees,
        term_from: from,
        term_until: until,
        ended_on: None,
        staff_username: username,
    };
    let (row, today) = transaction(pool, async |tx| -> Result<_, Error> {
        let today = today(tx, centre).await?;
        if let Some(resident) = row.resident_id {
            directory::require_resident(tx, centre, resident, "member.resident_id").await?;
        }
        if let Some(partner) = row.partner_id {
            directory::require_partner(tx, centre, partner, "member.partner_id").await?;
        }
        sqlx::query(
            "INSERT INTO board_members (id, centre_id, name, sector, resident_id, partner_id, role,
                                        committees, term_from, term_until, staff_username)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
        )
        .bind(row.id)
        .bind(centre)
        .bind(&row.name)
        .bind(&row.sector)
        .bind(row.resident_id)
        .bind(row.partner_id)
        .bind(&row.role)
        .bind(&row.committees)
        .bind(row.term_from)
        .bind(row.term_until)
        .bind(&row.staff_username)
        .execute(&mut *tx)
        .await?;
        let added = Change {
            action: "added",
            committee: String::new(),
        };
        audit(tx, &row, &added, &who.subject, now).await?;
        for change in committee_changes(&[], &row.committees) {
            audit(tx, &row, &change, &who.subject, now).await?;
        }
        Ok((row, today))
    })
    .await?;
    Ok(Response::new(member_to_pb(row, today)))
}

pub async fn set_committees(
    pool: &PgPool,
    request: Request<pb::SetBoardCommitteesRequest>,
) -> Result<Response<pb::BoardMember>, Status> {
    let (who, centre) = writer(&request, &request.get_ref().centre_id)?;
    let r = request.into_inner();
    let mut v = Violations::default();
    let id = parse_id("member_id", &r.member_id)
        .map_err(|e| v.0.extend(e.0))
        .ok();
    let after = committees("committees", &r.committees, &mut v);
    let (Some(id), true) = (id, v.is_empty()) else {
        return Err(v.into());
    };
    let now = Utc::now();
    let (row, today) = transaction(pool, async |tx| -> Result<_, Error> {
        let today = today(tx, centre).await?;
        let mut row = find_member(tx, centre, id, true).await?;
        still_sitting(row.ended_on)?;
        let changes = committee_changes(&row.committees, &after);
        row.committees = after;
        sqlx::query("UPDATE board_members SET committees = $2 WHERE id = $1")
            .bind(id)
            .bind(&row.committees)
            .execute(&mut *tx)
            .await?;
        for change in &changes {
            audit(tx, &row, change, &who.subject, now).await?;
        }
        Ok((row, today))
    })
    .await?;
    Ok(Response::new(member_to_pb(row, today)))
}

pub async fn end_membership(
    pool: &PgPool,
    request: Request<pb::EndBoardMembershipRequest>,
) -> Result<Response<pb::BoardMember>, Status> {
    let (who, centre) = writer(&request, &request.get_ref().centre_id)?;
    let r = request.into_inner();
    let mut v = Violations::default();
    let id = parse_id("member_id", &r.member_id)
        .map_err(|e| v.0.extend(e.0))
        .ok();
    let day = if r.ended_on.trim().is_empty() {
        None
    } else {
        date("ended_on", &r.ended_on, &mut v)
    };
    let (Some(id), true) = (id, v.is_empty()) else {
        return Err(v.into());
    };
    let now = Utc::now();
    let (row, today) = transaction(pool, async |tx| -> Result<_, Error> {
        let today = today(tx, centre).await?;
        let mut row = find_member(tx, centre, id, true).await?;
        still_sitting(row.ended_on)?;
        let day = day.unwrap_or(today);
        ends_within_term(row.term_from, row.term_until, day)?;
        let left = committee_changes(&row.committees, &[]);
        row.ended_on = Some(day);
        row.committees.clear();
        sqlx::query("UPDATE board_members SET ended_on = $2, committees = '{}' WHERE id = $1")
            .bind(id)
            .bind(day)
            .execute(&mut *tx)
            .await?;
        for change in &left {
            audit(tx, &row, change, &who.subject, now).await?;
        }
        let ended = Change {
            action: "ended",
            committee: String::new(),
        };
        audit(tx, &row, &ended, &who.subject, now).await?;
        Ok((row, today))
    })
    .await?;
    Ok(Response::new(member_to_pb(row, today)))
}

pub async fn list_members(
    pool: &PgPool,
    request: Request<pb::ListBoardMembersRequest>,
) -> Result<Response<pb::ListBoardMembersResponse>, Status> {
    let centre = reader(&request, &request.get_ref().centre_id)?;
    let current_only = request.get_ref().current_only;
    let mut conn = pool.acquire().await.map_err(Error::from)?;
    let today = today(&mut conn, centre).await?;
    let rows: Vec<MemberRow> = sqlx::query_as(concat!(
        "SELECT ",
        member_columns!(),
        " FROM board_members WHERE centre_id = $1
           AND (NOT $2 OR (ended_on IS NULL AND term_from <= $3 AND $3 <= term_until))
         ORDER BY array_position(ARRAY['chair','vice_chair','secretary','member'], role),
                  term_from, id LIMIT 500"
    ))
    .bind(centre)
    .bind(current_only)
    .bind(today)
    .fetch_all(&mut *conn)
    .await
    .map_err(Error::from)?;
    Ok(Response::new(pb::ListBoardMembersResponse {
        members: rows.into_iter().map(|r| member_to_pb(r, today)).collect(),
    }))
}

pub async fn list_audit(
    pool: &PgPool,
    request: Request<pb::ListBoardAuditRequest>,
) -> Result<Response<pb::ListBoardAuditResponse>, Status> {
    let centre = reader(&request, &request.get_ref().centre_id)?;
    let member = optional_id("member_id", &request.get_ref().member_id)?;
    let rows: Vec<(Uuid, Uuid, String, String, String, DateTime<Utc>)> = sqlx::query_as(
        "SELECT id, member_id, action, committee, actor, at FROM board_audit
          WHERE centre_id = $1 AND ($2::uuid IS NULL OR member_id = $2)
          ORDER BY at DESC, id LIMIT 500",
    )
    .bind(centre)
    .bind(member)
    .fetch_all(pool)
    .await
    .map_err(Error::from)?;
    Ok(Response::new(pb::ListBoardAuditResponse {
        entries: rows
            .into_iter()
            .map(
                |(id, member_id, action, committee, actor, at)| pb::BoardAuditEntry {
                    id: id.to_string(),
                    member_id: member_id.to_string(),
                    action,
                    committee,
                    actor,
                    at: Some(timestamp(at)),
                },
            )
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
    let held_on = date("meeting.held_on", &m.held_on, &mut v);
    let title = text("meeting.title", &m.title, 0, 200, &mut v);
    let agenda: Vec<String> = m
        .agenda
        .iter()
        .enumerate()
        .map(|(i, item)| text(&format!("meeting.agenda[{i}]"), item, 1, 500, &mut v))
        .collect();
    let minutes = text("meeting.minutes", &m.minutes, 0, 20000, &mut v);
    let mut attendees: Vec<Uuid> = Vec::new();
    for (i, id) in m.attendee_ids.iter().enumerate() {
        match parse_id(&format!("meeting.attendee_ids[{i}]"), id) {
            Ok(id) if !attendees.contains(&id) => attendees.push(id),
            Ok(_) => {}
            Err(e) => v.0.extend(e.0),
        }
    }
    let mut decisions: Vec<(String, Uuid, NaiveDate)> = Vec::new();
    for (i, d) in m.decisions.iter().enumerate() {
        let field = |name: &str| format!("meeting.decisions[{i}].{name}");
        let words = text(&field("text"), &d.text, 1, 2000, &mut v);
        let owner = parse_id(&field("owner_member_id"), &d.owner_member_id)
            .map_err(|e| v.0.extend(e.0))
            .ok();
        let due = date(&field("due_on"), &d.due_on, &mut v);
        if let (Some(owner), Some(due)) = (owner, due) {
            decisions.push((words, owner, due));
        }
    }
    let (Some(held_on), true) = (held_on, v.is_empty()) else {
        return Err(v.into());
    };
    let meeting = MeetingRow {
        id: Uuid::new_v4(),
        centre_id: centre,
        held_on,
        title,
        agenda,
        minutes,
        attendee_ids: attendees,
        recorded_by: who.subject.clone(),
    };
    let (meeting, rows, today) = transaction(pool, async |tx| -> Result<_, Error> {
        let today = today(tx, centre).await?;
        // Those present and the decisions' owners are members of this centre's board.
        let mut named: Vec<(String, Uuid)> = meeting
            .attendee_ids
            .iter()
            .enumerate()
            .map(|(i, id)| (format!("meeting.attendee_ids[{i}]"), *id))
            .collect();
        named.extend(
            decisions
                .iter()
                .enumerate()
                .map(|(i, d)| (format!("meeting.decisions[{i}].owner_member_id"), d.1)),
        );
        let ids: Vec<Uuid> = named.iter().map(|(_, id)| *id).collect();
        let known: Vec<Uuid> =
            sqlx::query_scalar("SELECT id FROM board_members WHERE centre_id = $1 AND id = ANY($2)")
                .bind(centre)
                .bind(&ids)
                .fetch_all(&mut *tx)
                .await?;
        let mut v = Violations::default();
        for (field, id) in &named {
            if !known.contains(id) {
                v.push(
                    field.clone(),
                    Reason::new("board.not_a_member", "is not a member of this centre's board"),
                );
            }
        }
        if !v.is_empty() {
            return Err(v.into());
        }
        sqlx::query(
            "INSERT INTO board_meetings (id, centre_id, held_on, title, agenda, minutes, attendee_ids, recorded_by)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(meeting.id)
        .bind(centre)
        .bind(meeting.held_on)
        .bind(&meeting.title)
        .bind(&meeting.agenda)
        .bind(&meeting.minutes)
        .bind(&meeting.attendee_ids)
        .bind(&meeting.recorded_by)
        .execute(&mut *tx)
        .await?;
        let mut rows = Vec::new();
        for (words, owner, due) in &decisions {
            let row = DecisionRow {
                id: Uuid::new_v4(),
                meeting_id: meeting.id,
                text: words.clone(),
                owner_member_id: *owner,
                due_on: *due,
                done_on: None,
            };
            sqlx::query(
                "INSERT INTO board_decisions (id, centre_id, meeting_id, text, owner_member_id, due_on)
                 VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(row.id)
            .bind(centre)
            .bind(row.meeting_id)
            .bind(&row.text)
            .bind(row.owner_member_id)
            .bind(row.due_on)
            .execute(&mut *tx)
            .await?;
            rows.push(row);
        }
        Ok((meeting, rows, today))
    })
    .await?;
    Ok(Response::new(meeting_to_pb(meeting, rows, today)))
}

fn meeting_to_pb(
    row: MeetingRow,
    decisions: Vec<DecisionRow>,
    today: NaiveDate,
) -> pb::BoardMeeting {
    pb::BoardMeeting {
        id: row.id.to_string(),
        centre_id: row.centre_id.to_string(),
        held_on: day_text(Some(row.held_on)),
        title: row.title,
        agenda: row.agenda,
        minutes: row.minutes,
        attendee_ids: row.attendee_ids.iter().map(Uuid::to_string).collect(),
        decisions: decisions
            .into_iter()
            .map(|d| decision_to_pb(d, today))
            .collect(),
        recorded_by: row.recorded_by,
    }
}

pub async fn list_meetings(
    pool: &PgPool,
    request: Request<pb::ListBoardMeetingsRequest>,
) -> Result<Response<pb::ListBoardMeetingsResponse>, Status> {
    let centre = reader(&request, &request.get_ref().centre_id)?;
    let mut conn = pool.acquire().await.map_err(Error::from)?;
    let today = today(&mut conn, centre).await?;
    let meetings: Vec<MeetingRow> = sqlx::query_as(
        "SELECT id, centre_id, held_on, title, agenda, minutes, attendee_ids, recorded_by
           FROM board_meetings WHERE centre_id = $1 ORDER BY held_on DESC, id LIMIT 200",
    )
    .bind(centre)
    .fetch_all(&mut *conn)
    .await
    .map_err(Error::from)?;
    let ids: Vec<Uuid> = meetings.iter().map(|m| m.id).collect();
    let decisions: Vec<DecisionRow> = sqlx::query_as(concat!(
        "SELECT ",
        decision_columns!(),
        " FROM board_decisions WHERE meeting_id = ANY($1) ORDER BY due_on, id"
    ))
    .bind(&ids)
    .fetch_all(&mut *conn)
    .await
    .map_err(Error::from)?;
    Ok(Response::new(pb::ListBoardMeetingsResponse {
        meetings: meetings
            .into_iter()
            .map(|m| {
                let theirs = decisions
                    .iter()
                    .filter(|d| d.meeting_id == m.id)
                    .cloned()
                    .collect();
                meeting_to_pb(m, theirs, today)
            })
            .collect(),
    }))
}

pub async fn list_decisions(
    pool: &PgPool,
    request: Request<pb::ListBoardDecisionsRequest>,
) -> Result<Response<pb::ListBoardDecisionsResponse>, Status> {
    let centre = reader(&request, &request.get_ref().centre_id)?;
    let open_only = request.get_ref().open_only;
    let mut conn = pool.acquire().await.map_err(Error::from)?;
    let today = today(&mut conn, centre).await?;
    let rows: Vec<DecisionRow> = sqlx::query_as(concat!(
        "SELECT ",
        decision_columns!(),
        " FROM board_decisions WHERE centre_id = $1 AND (NOT $2 OR done_on IS NULL)
          ORDER BY due_on, id LIMIT 500"
    ))
    .bind(centre)
    .bind(open_only)
    .fetch_all(&mut *conn)
    .await
    .map_err(Error::from)?;
    Ok(Response::new(pb::ListBoardDecisionsResponse {
        decisions: rows.into_iter().map(|d| decision_to_pb(d, today)).collect(),
    }))
}

pub async fn complete_decision(
    pool: &PgPool,
    request: Request<pb::CompleteBoardDecisionRequest>,
) -> Result<Response<pb::BoardDecision>, Status> {
    let (who, centre) = writer(&request, &request.get_ref().centre_id)?;
    let r = request.into_inner();
    let mut v = Violations::default();
    let id = parse_id("decision_id", &r.decision_id)
        .map_err(|e| v.0.extend(e.0))
        .ok();
    let day = if r.done_on.trim().is_empty() {
        None
    } else {
        date("done_on", &r.done_on, &mut v)
    };
    let (Some(id), true) = (id, v.is_empty()) else {
        return Err(v.into());
    };
    let (row, today) = transaction(pool, async |tx| -> Result<_, Error> {
        let today = today(tx, centre).await?;
        let mut row: DecisionRow = sqlx::query_as(concat!(
            "SELECT ",
            decision_columns!(),
            " FROM board_decisions WHERE centre_id = $1 AND id = $2 FOR UPDATE"
        ))
        .bind(centre)
        .bind(id)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or(Error::NotFound("board decision"))?;
        not_done(row.done_on)?;
        let day = day.unwrap_or(today);
        sqlx::query("UPDATE board_decisions SET done_on = $2, done_by = $3 WHERE id = $1")
            .bind(id)
            .bind(day)
            .bind(&who.subject)
            .execute(&mut *tx)
            .await?;
        row.done_on = Some(day);
        Ok((row, today))
    })
    .await?;
    Ok(Response::new(decision_to_pb(row, today)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(text: &str) -> NaiveDate {
        NaiveDate::parse_from_str(text, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn joining_and_leaving_a_committee_are_each_a_change() {
        let oversight = vec![FINANCE_OVERSIGHT.to_owned()];
        assert_eq!(
            committee_changes(&[], &oversight),
            [Change {
                action: "committee_joined",
                committee: FINANCE_OVERSIGHT.into()
            }]
        );
        assert_eq!(
            committee_changes(&oversight, &[]),
            [Change {
                action: "committee_left",
                committee: FINANCE_OVERSIGHT.into()
            }]
        );
        assert!(committee_changes(&oversight, &oversight).is_empty());
    }

    #[test]
    fn the_finance_oversight_group_are_the_auditors_while_sitting() {
        let oversight = vec![FINANCE_OVERSIGHT.to_owned()];
        assert!(is_auditor(&oversight, false));
        assert!(!is_auditor(&oversight, true));
        assert!(!is_auditor(&[], false));
    }

    #[test]
    fn a_membership_ends_once_and_within_its_term() {
        assert!(still_sitting(None).is_ok());
        assert!(matches!(
            still_sitting(Some(day("2027-01-01"))),
            Err(Error::State(r)) if r.code == "board.membership_ended"
        ));
        let (from, until) = (day("2026-01-01"), day("2028-12-31"));
        assert!(ends_within_term(from, until, day("2028-12-31")).is_ok());
        assert!(ends_within_term(from, until, day("2029-01-01")).is_err());
        assert!(not_done(None).is_ok());
        assert!(not_done(Some(day("2027-01-01"))).is_err());
    }
}
