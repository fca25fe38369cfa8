//! The board's rows (理事会, issue 24). Each write opens its own transaction, loads what it
//! changes under lock, asks [`crate::domain::board`], and persists what that decided: the
//! member or decision, and for each membership change its audit row and its event
//! (`evaluation.board.membership_changed`) in the outbox, committed together.

use chrono::{DateTime, NaiveDate, Utc};
use linli_platform::bus::outbox;
use linli_platform::db::transaction;
use linli_platform::directory;
use linli_platform::error::Error;
use linli_platform::wire::timestamp;
use linli_proto::events::v1::BoardMembershipChanged;
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use crate::domain::board::{self, Change, Decision, Meeting, Member};
use crate::domain::ids::{CentreId, DecisionId, MeetingId, MemberId, PartnerId, ResidentId};

#[derive(sqlx::FromRow)]
struct MemberRow {
    id: MemberId,
    centre_id: CentreId,
    name: String,
    sector: String,
    resident_id: Option<ResidentId>,
    partner_id: Option<PartnerId>,
    role: String,
    committees: Vec<String>,
    term_from: NaiveDate,
    term_until: NaiveDate,
    ended_on: Option<NaiveDate>,
    staff_username: String,
}

impl From<MemberRow> for Member {
    fn from(r: MemberRow) -> Member {
        Member {
            id: r.id,
            centre_id: r.centre_id,
            name: r.name,
            sector: r.sector,
            resident_id: r.resident_id,
            partner_id: r.partner_id,
            role: r.role,
            committees: r.committees,
            term_from: r.term_from,
            term_until: r.term_until,
            ended_on: r.ended_on,
            staff_username: r.staff_username,
        }
    }
}

macro_rules! member_columns {
    () => {
        "id, centre_id, name, sector, resident_id, partner_id, role, committees, term_from, term_until, ended_on, staff_username"
    };
}

#[derive(sqlx::FromRow)]
struct DecisionRow {
    id: DecisionId,
    meeting_id: MeetingId,
    text: String,
    owner_member_id: MemberId,
    due_on: NaiveDate,
    done_on: Option<NaiveDate>,
}

impl From<DecisionRow> for Decision {
    fn from(r: DecisionRow) -> Decision {
        Decision {
            id: r.id,
            meeting_id: r.meeting_id,
            text: r.text,
            owner_member_id: r.owner_member_id,
            due_on: r.due_on,
            done_on: r.done_on,
        }
    }
}

macro_rules! decision_columns {
    () => {
        "id, meeting_id, text, owner_member_id, due_on, done_on"
    };
}

#[derive(sqlx::FromRow)]
struct MeetingRow {
    id: MeetingId,
    centre_id: CentreId,
    held_on: NaiveDate,
    title: String,
    agenda: Vec<String>,
    minutes: String,
    attendee_ids: Vec<MemberId>,
    recorded_by: String,
}

impl From<MeetingRow> for Meeting {
    fn from(r: MeetingRow) -> Meeting {
        Meeting {
            id: r.id,
            centre_id: r.centre_id,
            held_on: r.held_on,
            title: r.title,
            agenda: r.agenda,
            minutes: r.minutes,
            attendee_ids: r.attendee_ids,
            recorded_by: r.recorded_by,
        }
    }
}

/// One line of the membership audit.
#[derive(sqlx::FromRow)]
pub struct AuditRow {
    pub id: Uuid,
    pub member_id: MemberId,
    pub action: String,
    pub committee: String,
    pub actor: String,
    pub at: DateTime<Utc>,
}

/// The centre's day today, in its time zone.
async fn today(conn: &mut PgConnection, centre: CentreId) -> Result<NaiveDate, Error> {
    let zone = directory::time_zone(conn, centre.uuid()).await?;
    Ok(Utc::now().with_timezone(&zone).date_naive())
}

async fn lock_member(
    tx: &mut PgConnection,
    centre: CentreId,
    id: MemberId,
) -> Result<Member, Error> {
    let row: MemberRow = sqlx::query_as(concat!(
        "SELECT ",
        member_columns!(),
        " FROM board_members WHERE centre_id = $1 AND id = $2 FOR UPDATE"
    ))
    .bind(centre)
    .bind(id)
    .fetch_optional(&mut *tx)
    .await?
    .ok_or(Error::NotFound("board member"))?;
    Ok(row.into())
}

/// Writes each change's audit row and its event, in `tx`.
async fn audit(
    tx: &mut PgConnection,
    member: &Member,
    changes: &[Change],
    actor: &str,
    now: DateTime<Utc>,
) -> Result<(), Error> {
    for change in changes {
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
            auditor: member.is_auditor(),
            staff_username: member.staff_username.clone(),
            actor: actor.to_owned(),
            changed_at: Some(timestamp(now)),
        };
        outbox::enqueue(tx, Some(member.centre_id.uuid()), &event).await?;
    }
    Ok(())
}

/// Adds `member` (its resident and partner the centre's), with the changes
/// [`board::add`] decides; returns it and the centre's day.
pub async fn add_member(
    pool: &PgPool,
    member: Member,
    actor: &str,
    now: DateTime<Utc>,
) -> Result<(Member, NaiveDate), Error> {
    transaction(pool, async |tx| -> Result<_, Error> {
        let centre = member.centre_id;
        let today = today(tx, centre).await?;
        if let Some(resident) = member.resident_id {
            directory::require_resident(tx, centre.uuid(), resident.uuid(), "member.resident_id")
                .await?;
        }
        if let Some(partner) = member.partner_id {
            directory::require_partner(tx, centre.uuid(), partner.uuid(), "member.partner_id")
                .await?;
        }
        sqlx::query(
            "INSERT INTO board_members (id, centre_id, name, sector, resident_id, partner_id, role,
                                        committees, term_from, term_until, staff_username)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
        )
        .bind(member.id)
        .bind(centre)
        .bind(&member.name)
        .bind(&member.sector)
        .bind(member.resident_id)
        .bind(member.partner_id)
        .bind(&member.role)
        .bind(&member.committees)
        .bind(member.term_from)
        .bind(member.term_until)
        .bind(&member.staff_username)
        .execute(&mut *tx)
        .await?;
        audit(tx, &member, &board::add(&member), actor, now).await?;
        Ok((member, today))
    })
    .await
}

/// Changes a sitting member as `decide` says ([`board::set_committees`], [`board::end`]):
/// the member locked, decided on with the centre's day, its committees and end kept, and
/// each change decided audited and published.
pub async fn change_member(
    pool: &PgPool,
    centre: CentreId,
    id: MemberId,
    actor: &str,
    now: DateTime<Utc>,
    decide: impl FnOnce(&mut Member, NaiveDate) -> Result<Vec<Change>, Error>,
) -> Result<(Member, NaiveDate), Error> {
    transaction(pool, async |tx| -> Result<_, Error> {
        let today = today(tx, centre).await?;
        let mut member = lock_member(tx, centre, id).await?;
        let changes = decide(&mut member, today)?;
        sqlx::query("UPDATE board_members SET committees = $2, ended_on = $3 WHERE id = $1")
            .bind(id)
            .bind(&member.committees)
            .bind(member.ended_on)
            .execute(&mut *tx)
            .await?;
        audit(tx, &member, &changes, actor, now).await?;
        Ok((member, today))
    })
    .await
}

/// The centre's members (those sitting today only, when asked), chair first.
pub async fn members(
    pool: &PgPool,
    centre: CentreId,
    current_only: bool,
) -> Result<(Vec<Member>, NaiveDate), Error> {
    let mut conn = pool.acquire().await?;
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
    .await?;
    Ok((rows.into_iter().map(Member::from).collect(), today))
}

/// The centre's membership audit (of one member, when named), the latest first.
pub async fn audit_trail(
    pool: &PgPool,
    centre: CentreId,
    member: Option<MemberId>,
) -> Result<Vec<AuditRow>, Error> {
    Ok(sqlx::query_as(
        "SELECT id, member_id, action, committee, actor, at FROM board_audit
          WHERE centre_id = $1 AND ($2::uuid IS NULL OR member_id = $2)
          ORDER BY at DESC, id LIMIT 500",
    )
    .bind(centre)
    .bind(member)
    .fetch_all(pool)
    .await?)
}

/// Records a meeting and its decisions, refused when it names someone not on the
/// centre's board ([`board::members_named`]).
pub async fn record_meeting(
    pool: &PgPool,
    meeting: Meeting,
    decisions: Vec<Decision>,
) -> Result<(Meeting, Vec<Decision>, NaiveDate), Error> {
    transaction(pool, async |tx| -> Result<_, Error> {
        let centre = meeting.centre_id;
        let today = today(tx, centre).await?;
        let named = board::named_in(&meeting, &decisions);
        let ids: Vec<MemberId> = named.iter().map(|(_, id)| *id).collect();
        let known: Vec<MemberId> =
            sqlx::query_scalar("SELECT id FROM board_members WHERE centre_id = $1 AND id = ANY($2)")
                .bind(centre)
                .bind(&ids)
                .fetch_all(&mut *tx)
                .await?;
        board::members_named(&named, &known)?;
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
        for d in &decisions {
            sqlx::query(
                "INSERT INTO board_decisions (id, centre_id, meeting_id, text, owner_member_id, due_on)
                 VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(d.id)
            .bind(centre)
            .bind(d.meeting_id)
            .bind(&d.text)
            .bind(d.owner_member_id)
            .bind(d.due_on)
            .execute(&mut *tx)
            .await?;
        }
        Ok((meeting, decisions, today))
    })
    .await
}

/// The centre's meetings, the latest first, each with its decisions.
pub async fn meetings(
    pool: &PgPool,
    centre: CentreId,
) -> Result<(Vec<(Meeting, Vec<Decision>)>, NaiveDate), Error> {
    let mut conn = pool.acquire().await?;
    let today = today(&mut conn, centre).await?;
    let meetings: Vec<MeetingRow> = sqlx::query_as(
        "SELECT id, centre_id, held_on, title, agenda, minutes, attendee_ids, recorded_by
           FROM board_meetings WHERE centre_id = $1 ORDER BY held_on DESC, id LIMIT 200",
    )
    .bind(centre)
    .fetch_all(&mut *conn)
    .await?;
    let ids: Vec<MeetingId> = meetings.iter().map(|m| m.id).collect();
    let decisions: Vec<Decision> = sqlx::query_as::<_, DecisionRow>(concat!(
        "SELECT ",
        decision_columns!(),
        " FROM board_decisions WHERE meeting_id = ANY($1) ORDER BY due_on, id"
    ))
    .bind(&ids)
    .fetch_all(&mut *conn)
    .await?
    .into_iter()
    .map(Decision::from)
    .collect();
    let meetings = (meetings.into_iter().map(Meeting::from))
        .map(|m| {
            let theirs = (decisions.iter())
                .filter(|d| d.meeting_id == m.id)
                .cloned()
                .collect();
            (m, theirs)
        })
        .collect();
    Ok((meetings, today))
}

/// The centre's decisions (open ones only, when asked), the soonest due first.
pub async fn decisions(
    pool: &PgPool,
    centre: CentreId,
    open_only: bool,
) -> Result<(Vec<Decision>, NaiveDate), Error> {
    let mut conn = pool.acquire().await?;
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
    .await?;
    Ok((rows.into_iter().map(Decision::from).collect(), today))
}

/// A decision done on `day` or today, once ([`board::complete`]).
pub async fn complete_decision(
    pool: &PgPool,
    centre: CentreId,
    id: DecisionId,
    day: Option<NaiveDate>,
    actor: &str,
) -> Result<(Decision, NaiveDate), Error> {
    transaction(pool, async |tx| -> Result<_, Error> {
        let today = today(tx, centre).await?;
        let mut decision: Decision = sqlx::query_as::<_, DecisionRow>(concat!(
            "SELECT ",
            decision_columns!(),
            " FROM board_decisions WHERE centre_id = $1 AND id = $2 FOR UPDATE"
        ))
        .bind(centre)
        .bind(id)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or(Error::NotFound("board decision"))?
        .into();
        board::complete(&mut decision, day, today)?;
        sqlx::query("UPDATE board_decisions SET done_on = $2, done_by = $3 WHERE id = $1")
            .bind(id)
            .bind(decision.done_on)
            .bind(actor)
            .execute(&mut *tx)
            .await?;
        Ok((decision, today))
    })
    .await
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
