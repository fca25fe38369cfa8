//! The board's rules (理事会, issue 24), without I/O: who sits (sector, role, term,
//! committees), what a membership change is and the events it sets off, what ends a
//! membership, a meeting's record and a decision done once. The finance oversight group
//! (财务监督小组) is the committee `finance_oversight`; its members are the centre's
//! auditors, which the registry acts on from the membership events.

use chrono::NaiveDate;
use linli_platform::auth::Role;
use linli_platform::error::{Error, Reason, Violations};

use super::ids::{CentreId, DecisionId, MeetingId, MemberId, PartnerId, ResidentId};

/// Who keeps the board: the centre's manager, or the district.
pub const WRITERS: &[Role] = &[Role::DistrictAdmin, Role::CentreManager];
pub const SECTORS: [&str; 4] = ["resident", "government", "business", "ngo"];
pub const ROLES: [&str; 4] = ["chair", "vice_chair", "secretary", "member"];
/// The board's committees: the finance oversight group.
pub const FINANCE_OVERSIGHT: &str = "finance_oversight";
pub const COMMITTEES: [&str; 1] = [FINANCE_OVERSIGHT];

/// A seat on a centre's board.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Member {
    pub id: MemberId,
    pub centre_id: CentreId,
    pub name: String,
    pub sector: String,
    pub resident_id: Option<ResidentId>,
    pub partner_id: Option<PartnerId>,
    pub role: String,
    pub committees: Vec<String>,
    pub term_from: NaiveDate,
    pub term_until: NaiveDate,
    pub ended_on: Option<NaiveDate>,
    pub staff_username: String,
}

impl Member {
    /// Sitting on `today`: not ended, and within the term.
    pub fn is_current(&self, today: NaiveDate) -> bool {
        self.ended_on.is_none() && self.term_from <= today && today <= self.term_until
    }

    /// On the finance oversight group while sitting: the centre's auditor.
    pub fn is_auditor(&self) -> bool {
        is_auditor(&self.committees, self.ended_on.is_some())
    }
}

/// A decision of a meeting, owned by a member, due on a day.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Decision {
    pub id: DecisionId,
    pub meeting_id: MeetingId,
    pub text: String,
    pub owner_member_id: MemberId,
    pub due_on: NaiveDate,
    pub done_on: Option<NaiveDate>,
}

impl Decision {
    pub fn is_overdue(&self, today: NaiveDate) -> bool {
        self.done_on.is_none() && self.due_on < today
    }
}

/// A meeting as recorded: those present are members of the centre's board.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Meeting {
    pub id: MeetingId,
    pub centre_id: CentreId,
    pub held_on: NaiveDate,
    pub title: String,
    pub agenda: Vec<String>,
    pub minutes: String,
    pub attendee_ids: Vec<MemberId>,
    pub recorded_by: String,
}

/// A membership change, as audited and published (`evaluation.board.membership_changed`):
/// each is an audit row and that event, committed together.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Change {
    pub action: &'static str,
    pub committee: String,
}

impl Change {
    fn of(action: &'static str) -> Change {
        Change {
            action,
            committee: String::new(),
        }
    }
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

/// Something that happened once (ended, done) refuses to happen again: `code`, saying
/// `what` happened on the day, kept as `param`.
fn once(day: Option<NaiveDate>, code: &'static str, what: &str, param: &str) -> Result<(), Error> {
    match day {
        None => Ok(()),
        Some(day) => Err(Error::State(
            Reason::new(code, format!("{what} on {day}")).with(param, day),
        )),
    }
}

/// A membership that ended changes no more.
pub fn still_sitting(ended_on: Option<NaiveDate>) -> Result<(), Error> {
    once(
        ended_on,
        "board.membership_ended",
        "the membership ended",
        "ended_on",
    )
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
    once(
        done_on,
        "board.decision_done",
        "the decision was done",
        "done_on",
    )
}

// ---------------------------------------------------------------------------------------
// Decisions: what each write changes and the events it sets off

/// A new member: added, then each committee joined.
pub fn add(member: &Member) -> Vec<Change> {
    let mut changes = vec![Change::of("added")];
    changes.extend(committee_changes(&[], &member.committees));
    changes
}

/// A sitting member's committees become `after`: each joined and each left.
pub fn set_committees(member: &mut Member, after: Vec<String>) -> Result<Vec<Change>, Error> {
    still_sitting(member.ended_on)?;
    let changes = committee_changes(&member.committees, &after);
    member.committees = after;
    Ok(changes)
}

/// A sitting member leaves on `day` (today when not given), within the term: every
/// committee left, then ended.
pub fn end(
    member: &mut Member,
    day: Option<NaiveDate>,
    today: NaiveDate,
) -> Result<Vec<Change>, Error> {
    still_sitting(member.ended_on)?;
    let day = day.unwrap_or(today);
    ends_within_term(member.term_from, member.term_until, day)?;
    let mut changes = committee_changes(&member.committees, &[]);
    changes.push(Change::of("ended"));
    member.ended_on = Some(day);
    member.committees.clear();
    Ok(changes)
}

/// A decision done on `day` (today when not given), once.
pub fn complete(
    decision: &mut Decision,
    day: Option<NaiveDate>,
    today: NaiveDate,
) -> Result<(), Error> {
    not_done(decision.done_on)?;
    decision.done_on = Some(day.unwrap_or(today));
    Ok(())
}

/// Those present and the decisions' owners (`named`, each with its field) are members of
/// the centre's board (`known`).
pub fn members_named(named: &[(String, MemberId)], known: &[MemberId]) -> Result<(), Violations> {
    let mut v = Violations::default();
    for (field, id) in named {
        if !known.contains(id) {
            v.push(
                field.clone(),
                Reason::new(
                    "board.not_a_member",
                    "is not a member of this centre's board",
                ),
            );
        }
    }
    v.into_result(|| ())
}

// ---------------------------------------------------------------------------------------
// What a request may carry

/// A member as asked for, its ids already read.
pub struct MemberAsked<'a> {
    pub name: &'a str,
    pub sector: &'a str,
    pub role: &'a str,
    pub resident_id: Option<ResidentId>,
    /// The resident's id as written (refused as required only when nothing was written).
    pub resident_text: &'a str,
    pub partner_id: Option<PartnerId>,
    pub committees: &'a [String],
    pub term_from: &'a str,
    pub term_until: &'a str,
    pub staff_username: &'a str,
}

/// A new member of `centre` from what was asked, or every field wrong in `v`.
pub fn new_member(
    centre: CentreId,
    m: &MemberAsked<'_>,
    mut v: Violations,
) -> Result<Member, Violations> {
    let name = text("member.name", m.name, 1, 100, &mut v);
    if !SECTORS.contains(&m.sector) {
        v.push("member.sector", Reason::one_of(&SECTORS));
    }
    let role = match m.role.trim() {
        "" => "member",
        role => role,
    };
    if !ROLES.contains(&role) {
        v.push("member.role", Reason::one_of(&ROLES));
    }
    if m.sector == "resident" && m.resident_id.is_none() && m.resident_text.is_empty() {
        v.push("member.resident_id", Reason::required());
    }
    if m.sector != "resident" && m.resident_id.is_some() {
        v.push(
            "member.resident_id",
            Reason::new(
                "board.resident_sector",
                "a resident sits for the residents: sector must be resident",
            ),
        );
    }
    let committees = committees("member.committees", m.committees, &mut v);
    let from = date("member.term_from", m.term_from, &mut v);
    let until = date("member.term_until", m.term_until, &mut v);
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
        return Err(v);
    };
    Ok(Member {
        id: MemberId::new(),
        centre_id: centre,
        name,
        sector: m.sector.to_owned(),
        resident_id: m.resident_id,
        partner_id: m.partner_id,
        role: role.to_owned(),
        committees,
        term_from: from,
        term_until: until,
        ended_on: None,
        staff_username: username,
    })
}

/// A meeting's record as asked for, its ids already read.
pub struct MeetingAsked<'a> {
    pub held_on: &'a str,
    pub title: &'a str,
    pub agenda: &'a [String],
    pub minutes: &'a str,
    pub attendee_ids: Vec<MemberId>,
    /// Each decision's text, owner and due date as written.
    pub decisions: Vec<(&'a str, Option<MemberId>, &'a str)>,
    pub recorded_by: &'a str,
}

/// A new meeting of `centre` and its decisions, or every field wrong in `v`.
pub fn new_meeting(
    centre: CentreId,
    m: &MeetingAsked<'_>,
    mut v: Violations,
) -> Result<(Meeting, Vec<Decision>), Violations> {
    let held_on = date("meeting.held_on", m.held_on, &mut v);
    let title = text("meeting.title", m.title, 0, 200, &mut v);
    let agenda: Vec<String> = (m.agenda.iter().enumerate())
        .map(|(i, item)| text(&format!("meeting.agenda[{i}]"), item, 1, 500, &mut v))
        .collect();
    let minutes = text("meeting.minutes", m.minutes, 0, 20000, &mut v);
    let mut attendees: Vec<MemberId> = Vec::new();
    for id in &m.attendee_ids {
        if !attendees.contains(id) {
            attendees.push(*id);
        }
    }
    let id = MeetingId::new();
    let mut decisions = Vec::new();
    for (i, (words, owner, due)) in m.decisions.iter().enumerate() {
        let field = |name: &str| format!("meeting.decisions[{i}].{name}");
        let words = text(&field("text"), words, 1, 2000, &mut v);
        let due = date(&field("due_on"), due, &mut v);
        if let (Some(owner), Some(due)) = (owner, due) {
            decisions.push(Decision {
                id: DecisionId::new(),
                meeting_id: id,
                text: words,
                owner_member_id: *owner,
                due_on: due,
                done_on: None,
            });
        }
    }
    let (Some(held_on), true) = (held_on, v.is_empty()) else {
        return Err(v);
    };
    let meeting = Meeting {
        id,
        centre_id: centre,
        held_on,
        title,
        agenda,
        minutes,
        attendee_ids: attendees,
        recorded_by: m.recorded_by.to_owned(),
    };
    Ok((meeting, decisions))
}

/// The members a meeting names, each with its field: those present, then the owners.
pub fn named_in(meeting: &Meeting, decisions: &[Decision]) -> Vec<(String, MemberId)> {
    let present = (meeting.attendee_ids.iter().enumerate())
        .map(|(i, id)| (format!("meeting.attendee_ids[{i}]"), *id));
    let owners = decisions.iter().enumerate().map(|(i, d)| {
        (
            format!("meeting.decisions[{i}].owner_member_id"),
            d.owner_member_id,
        )
    });
    present.chain(owners).collect()
}

/// The committees named, each known, without repeats.
pub fn committees(field: &str, values: &[String], v: &mut Violations) -> Vec<String> {
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

/// A day written as 2027-03-01.
pub fn date(field: &str, text: &str, v: &mut Violations) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d")
        .map_err(|_| v.push(field, Reason::date()))
        .ok()
}

/// A day that may be left empty.
pub fn optional_date(field: &str, text: &str, v: &mut Violations) -> Option<NaiveDate> {
    if text.trim().is_empty() {
        None
    } else {
        date(field, text, v)
    }
}

fn text(field: &str, value: &str, min: usize, max: usize, v: &mut Violations) -> String {
    let value = value.trim();
    let n = value.chars().count();
    if n < min || n > max {
        v.push(field, Reason::length(min, max));
    }
    value.to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(text: &str) -> NaiveDate {
        NaiveDate::parse_from_str(text, "%Y-%m-%d").unwrap()
    }

    fn asked<'a>(committees: &'a [String]) -> MemberAsked<'a> {
        MemberAsked {
            name: " 王大爷 ",
            sector: "resident",
            role: "",
            resident_id: Some(ResidentId::new()),
            resident_text: "x",
            partner_id: None,
            committees,
            term_from: "2026-01-01",
            term_until: "2028-12-31",
            staff_username: "",
        }
    }

    fn member(committees: &[String]) -> Member {
        new_member(CentreId::new(), &asked(committees), Violations::default()).unwrap()
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

    #[test]
    fn a_new_member_is_added_then_joins_each_committee() {
        let oversight = vec![FINANCE_OVERSIGHT.to_owned(), FINANCE_OVERSIGHT.to_owned()];
        let m = member(&oversight);
        assert_eq!((m.name.as_str(), m.role.as_str()), ("王大爷", "member"));
        assert_eq!(m.committees, [FINANCE_OVERSIGHT], "repeats are dropped");
        let actions: Vec<_> = add(&m).iter().map(|c| c.action).collect();
        assert_eq!(actions, ["added", "committee_joined"]);
        assert!(m.is_auditor() && m.is_current(day("2027-06-01")));
        assert!(!m.is_current(day("2029-01-01")));
    }

    #[test]
    fn a_member_is_refused_field_by_field() {
        let mut bad = asked(&[]);
        bad.sector = "government";
        bad.term_until = "2025-01-01";
        bad.role = "king";
        let refused = new_member(CentreId::new(), &bad, Violations::default()).unwrap_err();
        let fields: Vec<&str> = refused.0.iter().map(|f| f.field.as_str()).collect();
        assert_eq!(
            fields,
            ["member.role", "member.resident_id", "member.term_until"]
        );
        let mut unnamed = asked(&[]);
        (unnamed.resident_id, unnamed.resident_text) = (None, "");
        let refused = new_member(CentreId::new(), &unnamed, Violations::default()).unwrap_err();
        assert_eq!(refused.0[0].field, "member.resident_id");
    }

    #[test]
    fn ending_leaves_every_committee_then_ends_and_changes_no_more() {
        let mut m = member(&[FINANCE_OVERSIGHT.to_owned()]);
        let today = day("2027-06-01");
        assert!(end(&mut m.clone(), Some(day("2030-01-01")), today).is_err());
        let actions: Vec<_> = (end(&mut m, None, today).unwrap().iter())
            .map(|c| c.action)
            .collect();
        assert_eq!(actions, ["committee_left", "ended"]);
        assert_eq!((m.ended_on, m.committees.len()), (Some(today), 0));
        assert!(!m.is_auditor());
        assert!(set_committees(&mut m, vec![]).is_err());
        assert!(end(&mut m, None, today).is_err());
    }

    #[test]
    fn a_meeting_names_only_members_and_a_decision_is_done_once() {
        let (a, b) = (MemberId::new(), MemberId::new());
        let asked = MeetingAsked {
            held_on: "2027-03-01",
            title: "季度会议",
            agenda: &["预算".to_owned()],
            minutes: "",
            attendee_ids: vec![a, a],
            decisions: vec![("修缮活动室", Some(b), "2027-04-01")],
            recorded_by: "manager",
        };
        let (meeting, mut decisions) =
            new_meeting(CentreId::new(), &asked, Violations::default()).unwrap();
        assert_eq!(meeting.attendee_ids, [a]);
        let named = named_in(&meeting, &decisions);
        assert!(members_named(&named, &[a, b]).is_ok());
        let refused = members_named(&named, &[a]).unwrap_err();
        assert_eq!(refused.0[0].field, "meeting.decisions[0].owner_member_id");
        let today = day("2027-04-02");
        assert!(decisions[0].is_overdue(today));
        complete(&mut decisions[0], None, today).unwrap();
        assert!(!decisions[0].is_overdue(today));
        assert!(complete(&mut decisions[0], None, today).is_err());
    }
}
