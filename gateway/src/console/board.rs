//! The centre's board (理事会, issue 24): its members with their sector, role, term and
//! committees, adding a member (a resident found by name or pinyin initials, as the consent
//! form finds a guardian) and ending a term; the meetings with attendance, agenda, minutes
//! and decisions, each decision with its owner, due date, 逾期 and 标记完成. The centre
//! manager and the district admin write; the centre's other staff read.

use std::collections::HashMap;

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect};
use chrono::{Duration, Months};
use linli_platform::auth::Role;
use linli_proto::evaluation::v1 as ev;
use linli_proto::registry::v1 as pb;
use maud::html;
use serde::Deserialize;

use super::{
    FieldErrors, Page, Posted, Query, Section, Staff, csrf, general_errors, is_refusal, notice,
    today,
};
use crate::AppState;
use crate::catalogue::Lang;

#[derive(Deserialize, Default)]
pub struct BoardQuery {
    #[serde(default)]
    notice: String,
}

const SECTORS: [&str; 4] = ["resident", "government", "business", "ngo"];
const ROLES: [&str; 4] = ["member", "chair", "vice_chair", "secretary"];

fn sector(lang: Lang, code: &str) -> &'static str {
    match code {
        "resident" => lang.pick("居民", "Residents"),
        "government" => lang.pick("政府", "Government"),
        "business" => lang.pick("企业", "Business"),
        "ngo" => lang.pick("社会组织", "NGO"),
        _ => lang.pick("其他", "Other"),
    }
}

fn role(lang: Lang, code: &str) -> &'static str {
    match code {
        "chair" => lang.pick("理事长", "Chair"),
        "vice_chair" => lang.pick("副理事长", "Vice chair"),
        "secretary" => lang.pick("秘书长", "Secretary"),
        _ => lang.pick("理事", "Member"),
    }
}

fn committee(lang: Lang, code: &str) -> &'static str {
    match code {
        "finance_oversight" => lang.pick("财务监督小组", "Finance oversight group"),
        _ => lang.pick("其他小组", "Other committee"),
    }
}

/// The centre manager and the district admin change the board; the rest read it.
fn writes(staff: &Staff) -> bool {
    staff.has_role(Role::CentreManager) || staff.has_role(Role::DistrictAdmin)
}

fn day(lang: Lang, text: &str) -> String {
    super::i18n::iso_day(lang, text)
}

/// What was typed into the add-member form, kept through a refusal, with the residents its
/// search found when it found more than one.
#[derive(Default)]
struct MemberTyped {
    sector: String,
    name: String,
    resident_q: String,
    role: String,
    term_from: String,
    term_until: String,
    finance: bool,
    found: Vec<pb::Resident>,
}

/// What was typed into the meeting form, kept through a refusal.
#[derive(Default)]
struct MeetingTyped {
    held_on: String,
    title: String,
    agenda: String,
    minutes: String,
    attendees: Vec<String>,
    decision: String,
    owner: String,
    due_on: String,
}

/// Which form a refusal belongs to.
enum Typed {
    None,
    Member(MemberTyped),
    Meeting(MeetingTyped),
    /// A refusal of a row's button (end a term, mark a decision done), shown up top.
    Row,
}

async fn page(
    state: &AppState,
    staff: &Staff,
    centre: &pb::Centre,
    notice_code: &str,
    errors: FieldErrors,
    typed: Typed,
) -> Page {
    let lang = staff.lang;
    let on = today(centre);
    let members = state
        .evaluation
        .clone()
        .list_board_members(staff.grpc(ev::ListBoardMembersRequest {
            centre_id: centre.id.clone(),
            current_only: false,
        }))
        .await?
        .into_inner()
        .members;
    let meetings = state
        .evaluation
        .clone()
        .list_board_meetings(staff.grpc(ev::ListBoardMeetingsRequest {
            centre_id: centre.id.clone(),
        }))
        .await?
        .into_inner()
        .meetings;
    let names: HashMap<&str, &str> = members
        .iter()
        .map(|m| (m.id.as_str(), m.name.as_str()))
        .collect();
    let name_of = |id: &str| {
        names
            .get(id)
            .copied()
            .unwrap_or(lang.pick("（已删除）", "(erased)"))
            .to_owned()
    };
    let current: Vec<&ev::BoardMember> = members.iter().filter(|m| m.current).collect();
    let blank_member = MemberTyped {
        term_from: on.to_string(),
        term_until: (on.checked_add_months(Months::new(36)).unwrap_or(on) - Duration::days(1))
            .to_string(),
        ..Default::default()
    };
    let blank_meeting = MeetingTyped {
        held_on: on.to_string(),
        due_on: (on + Duration::days(30)).to_string(),
        ..Default::default()
    };
    let (member, member_errors) = match &typed {
        Typed::Member(t) => (t, Some(&errors)),
        _ => (&blank_member, None),
    };
    let (meeting, meeting_errors) = match &typed {
        Typed::Meeting(t) => (t, Some(&errors)),
        _ => (&blank_meeting, None),
    };
    let content = html! {
        @if !errors.is_empty() { span hidden data-page-url=(format!("/c/{}/board", centre.id)) {} }
        @if notice_code == "added" { (notice(lang.pick("已添加理事会成员。", "Member added."))) }
        @if notice_code == "ended" { (notice(lang.pick("已结束该成员的任期。", "Term ended."))) }
        @if notice_code == "recorded" { (notice(lang.pick("已记录会议。", "Meeting recorded."))) }
        @if notice_code == "done" { (notice(lang.pick("已标记完成。", "Marked done."))) }
        @if matches!(typed, Typed::Row) { (general_errors(&errors, &[])) }
        p { a #to-reviews href=(format!("/c/{}/board/reviews", centre.id)) { (lang.pick("运营管理评估 ›", "Organisation reviews ›")) } }
        section #members {
            h2 { (lang.pick("理事会成员", "Board members")) }
            table #board-members {
                thead { tr {
                    th { (lang.pick("姓名", "Name")) } th { (lang.pick("界别", "Sector")) } th { (lang.pick("职务", "Role")) }
                    th { (lang.pick("任期", "Term")) } th { (lang.pick("所在小组", "Committees")) } th { (lang.pick("状态", "Status")) }
                    @if writes(staff) { th { (lang.pick("操作", "Action")) } }
                } }
                tbody {
                    @for m in &members {
                        tr data-member=(m.name) {
                            td { (m.name) }
                            td { (sector(lang, &m.sector)) }
                            td { (role(lang, &m.role)) }
                            td { (day(lang, &m.term_from)) " 至 " (day(lang, &m.term_until)) }
                            td { @for c in &m.committees { span.tag { (committee(lang, c)) } } @if m.committees.is_empty() { "—" } }
                            td {
                                @if !m.ended_on.is_empty() { (lang.pick("已于", "Ended ")) (day(lang, &m.ended_on)) (lang.pick("卸任", "")) }
                                @else if m.current { (lang.pick("在任", "Serving")) }
                                @else { (lang.pick("不在任期内", "Outside the term")) }
                            }
                            @if writes(staff) {
                                td {
                                    @if m.ended_on.is_empty() {
                                        // Ended only after a second, explicit click.
                                        details.undo {
                                            summary { (lang.pick("结束任期", "End term")) }
                                            form.inline method="post" action=(format!("/c/{}/board/members/{}/end", centre.id, m.id)) {
                                                (csrf(staff))
                                                span { (lang.pick("确定今天结束", "End the term of ")) (m.name) (lang.pick("的任期吗？同时退出所有小组。", " today? They leave every committee.")) }
                                                " " button.danger type="submit" { (lang.pick("确定结束", "End")) }
                                            }
                                        }
                                    }
                                }
                            }
                        }
                    }
                    @if members.is_empty() { tr { td colspan="7" { (lang.pick("尚无成员。", "No members yet.")) } } }
                }
            }
        }
        section #meetings {
            h2 { (lang.pick("理事会会议", "Meetings")) }
            @for m in &meetings {
                article.meeting data-held-on=(m.held_on) {
                    h3 { (day(lang, &m.held_on)) @if !m.title.is_empty() { " · " (m.title) } }
                    dl.facts {
                        dt { (lang.pick("出席", "Present")) }
                        dd { (m.attendee_ids.len()) (lang.pick(" 人：", " : ")) (m.attendee_ids.iter().map(|a| name_of(a)).collect::<Vec<_>>().join("、")) }
                        dt { (lang.pick("议程", "Agenda")) }
                        dd { @if m.agenda.is_empty() { "—" } @else { ol { @for a in &m.agenda { li { (a) } } } } }
                        dt { (lang.pick("会议纪要", "Minutes")) }
                        dd { @if m.minutes.is_empty() { "—" } @else { (m.minutes) } }
                    }
                    table.decisions {
                        thead { tr { th { (lang.pick("决议", "Decision")) } th { (lang.pick("负责人", "Owner")) } th { (lang.pick("完成期限", "Due")) } th { (lang.pick("状态", "Status")) } } }
                        tbody {
                            @for d in &m.decisions {
                                tr data-decision=(d.text) {
                                    td { (d.text) }
                                    td { (name_of(&d.owner_member_id)) }
                                    td { (day(lang, &d.due_on)) }
                                    td {
                                        @if d.done { (lang.pick("已于", "Done ")) (day(lang, &d.done_on)) (lang.pick("办结", "")) }
                                        @else {
                                            @if d.overdue { span.tag.overdue { (lang.pick("逾期", "Overdue")) } " " } @else { (lang.pick("进行中", "Open")) " " }
                                            @if writes(staff) {
                                                form.inline method="post" action=(format!("/c/{}/board/decisions/{}/done", centre.id, d.id)) {
                                                    (csrf(staff))
                                                    button type="submit" { (lang.pick("标记完成", "Mark done")) }
                                                }
                                            }
                                        }
                                    }
                                }
                            }
                            @if m.decisions.is_empty() { tr { td colspan="4" { (lang.pick("本次会议没有决议。", "No decisions.")) } } }
                        }
                    }
                }
            }
            @if meetings.is_empty() { p { (lang.pick("尚无会议记录。", "No meetings recorded.")) } }
        }
        section #board-forms {
            @if writes(staff) {
                form.stack #new-member method="post" action=(format!("/c/{}/board/members", centre.id)) novalidate {
                    (csrf(staff))
                    h3 { (lang.pick("添加成员", "Add a member")) }
                    @if let Some(e) = member_errors { (general_errors(e, &["sector", "name", "resident_q", "resident_id", "role", "term_from", "term_until", "committees"])) }
                    @let sector_error = member_errors.and_then(|e| e.get("sector"));
                    div.field.invalid[sector_error.is_some()] {
                        label for="f-sector" { (lang.pick("界别", "Sector")) }
                        select #f-sector name="sector" {
                            option value="" { "—" }
                            @for s in SECTORS { option value=(s) selected[member.sector == s] { (sector(lang, s)) } }
                        }
                        @if let Some(e) = sector_error { span.error #f-sector-error role="alert" { (e) } }
                    }
                    // A resident is found by name or pinyin initials, never typed as an id.
                    @let q_error = member_errors.and_then(|e| e.get("resident_q").or(e.get("resident_id")));
                    div.field.invalid[q_error.is_some()] {
                        label for="f-resident_q" { (lang.pick("居民代表：姓名或拼音首字母", "Resident: name or pinyin initials")) }
                        input #f-resident_q type="search" name="resident_q" value=(member.resident_q) placeholder=(lang.pick("如：王建国 或 wjg", "e.g. 王建国 or wjg"))
                            aria-invalid=[q_error.map(|_| "true")] aria-describedby=[q_error.map(|_| "f-resident_q-error")];
                        @if let Some(e) = q_error { span.error #f-resident_q-error role="alert" { (e) } }
                    }
                    @if !member.found.is_empty() {
                        fieldset.field #residents-found {
                            legend { (lang.pick("请选择居民", "Choose the resident")) }
                            @for r in &member.found {
                                label { input type="radio" name="resident_id" value=(r.id); " " (r.name) }
                            }
                        }
                    }
                    (super::optional_field("name", lang.pick("姓名（政府、企业、社会组织代表填写）", "Name (government, business, NGO)"), "text", &member.name, member_errors))
                    @let role_error = member_errors.and_then(|e| e.get("role"));
                    div.field.invalid[role_error.is_some()] {
                        label for="f-role" { (lang.pick("职务", "Role")) }
                        select #f-role name="role" {
                            @for r in ROLES { option value=(r) selected[member.role == r] { (role(lang, r)) } }
                        }
                        @if let Some(e) = role_error { span.error role="alert" { (e) } }
                    }
                    (super::optional_field("term_from", lang.pick("任期开始", "Term from"), "date", &member.term_from, member_errors))
                    (super::optional_field("term_until", lang.pick("任期结束", "Term until"), "date", &member.term_until, member_errors))
                    div.field {
                        label { input #f-finance type="checkbox" name="finance_oversight" value="yes" checked[member.finance]; " " (lang.pick("加入财务监督小组", "Join the finance oversight group")) }
                    }
                    button type="submit" { (lang.pick("添加", "Add")) }
                }
            }
            @if writes(staff) {
                form.stack #new-meeting method="post" action=(format!("/c/{}/board/meetings", centre.id)) novalidate {
                    (csrf(staff))
                    h3 { (lang.pick("记录会议", "Record a meeting")) }
                    @if let Some(e) = meeting_errors { (general_errors(e, &["held_on", "title", "agenda", "minutes", "attendee_ids", "text", "owner_member_id", "due_on"])) }
                    (super::optional_field("held_on", lang.pick("会议日期", "Held on"), "date", &meeting.held_on, meeting_errors))
                    (super::optional_field("title", lang.pick("会议名称", "Title"), "text", &meeting.title, meeting_errors))
                    fieldset.field #attendees {
                        legend { (lang.pick("出席成员", "Present")) }
                        @for m in &current {
                            label { input type="checkbox" name="attendee" value=(m.id) checked[meeting.attendees.contains(&m.id)]; " " (m.name) }
                        }
                        @if current.is_empty() { (lang.pick("尚无在任成员。", "No serving members.")) }
                    }
                    @let agenda_error = meeting_errors.and_then(|e| e.get("agenda"));
                    div.field.invalid[agenda_error.is_some()] {
                        label for="f-agenda" { (lang.pick("议程（每行一项）", "Agenda (one item a line)")) }
                        textarea #f-agenda name="agenda" rows="3" { (meeting.agenda) }
                        @if let Some(e) = agenda_error { span.error role="alert" { (e) } }
                    }
                    div.field {
                        label for="f-minutes" { (lang.pick("会议纪要", "Minutes")) }
                        textarea #f-minutes name="minutes" rows="4" { (meeting.minutes) }
                    }
                    h4 { (lang.pick("决议（可不填）", "Decision (optional)")) }
                    (super::optional_field("text", lang.pick("决议内容", "Decision"), "text", &meeting.decision, meeting_errors))
                    @let owner_error = meeting_errors.and_then(|e| e.get("owner_member_id"));
                    div.field.invalid[owner_error.is_some()] {
                        label for="f-owner_member_id" { (lang.pick("负责人", "Owner")) }
                        select #f-owner_member_id name="owner_member_id" aria-invalid=[owner_error.map(|_| "true")] aria-describedby=[owner_error.map(|_| "f-owner_member_id-error")] {
                            option value="" { "—" }
                            @for m in &current { option value=(m.id) selected[meeting.owner == m.id] { (m.name) } }
                        }
                        @if let Some(e) = owner_error { span.error #f-owner_member_id-error role="alert" { (e) } }
                    }
                    (super::optional_field("due_on", lang.pick("完成期限", "Due on"), "date", &meeting.due_on, meeting_errors))
                    button type="submit" { (lang.pick("记录", "Record")) }
                }
            }
        }
    };
    let mut response = super::layout(
        staff,
        Section::Board,
        Some(centre),
        &format!("{} · {}", centre.name, lang.pick("理事会", "Board")),
        content,
    );
    if !errors.is_empty() {
        *response.status_mut() = axum::http::StatusCode::BAD_REQUEST;
    }
    Ok(response)
}

pub async fn overview(
    State(state): State<AppState>,
    staff: Staff,
    Path(centre): Path<String>,
    Query(query): Query<BoardQuery>,
) -> Page {
    let centre = staff.centre(Section::Board, &centre)?;
    page(
        &state,
        &staff,
        &centre,
        &query.notice,
        FieldErrors::default(),
        Typed::None,
    )
    .await
}

fn done(centre: &pb::Centre, notice: &str) -> Page {
    Ok(Redirect::to(&format!("/c/{}/board?notice={notice}", centre.id)).into_response())
}

pub async fn add_member(
    State(state): State<AppState>,
    Path(centre): Path<String>,
    posted: Posted,
) -> Page {
    let staff = &posted.staff;
    let centre = staff.centre(Section::Board, &centre)?;
    let lang = staff.lang;
    let mut typed = MemberTyped {
        sector: posted.get("sector").to_owned(),
        name: posted.get("name").to_owned(),
        resident_q: posted.get("resident_q").to_owned(),
        role: posted.get("role").to_owned(),
        term_from: posted.get("term_from").to_owned(),
        term_until: posted.get("term_until").to_owned(),
        finance: posted.get("finance_oversight") == "yes",
        found: Vec::new(),
    };
    let mut errors = FieldErrors::default();
    if typed.sector.is_empty() {
        errors.push("sector", lang.pick("请选择界别", "Choose a sector"));
    }
    // A resident: the one chosen from the search's list, else the one the search finds.
    let mut resident = posted.get("resident_id").to_owned();
    let mut name = typed.name.trim().to_owned();
    if errors.is_empty() && typed.sector == "resident" {
        let q = if resident.is_empty() {
            typed.resident_q.trim().to_owned()
        } else {
            String::new()
        };
        if resident.is_empty() && q.is_empty() {
            errors.push(
                "resident_q",
                lang.pick(
                    "请填写居民的姓名或拼音首字母",
                    "Enter the resident's name or pinyin initials",
                ),
            );
        }
        let found = if resident.is_empty() && !q.is_empty() {
            match state
                .registry
                .clone()
                .list_residents(staff.grpc(pb::ListResidentsRequest {
                    centre_id: centre.id.clone(),
                    page_size: 20,
                    q,
                    ..Default::default()
                }))
                .await
            {
                Ok(found) => found.into_inner().residents,
                Err(status) if is_refusal(&status) => {
                    for (_, message) in FieldErrors::from_status(&status, lang).0 {
                        errors.push("resident_q", message);
                    }
                    Vec::new()
                }
                Err(status) => return Err(status.into()),
            }
        } else {
            Vec::new()
        };
        if resident.is_empty() && errors.is_empty() {
            match found.len() {
                0 => errors.push(
                    "resident_q",
                    lang.pick(
                        "没有找到这位居民，请换个写法再找",
                        "No resident found; try another spelling",
                    ),
                ),
                1 => {
                    resident = found[0].id.clone();
                    name = found[0].name.clone();
                }
                _ => {
                    errors.push(
                        "resident_q",
                        lang.pick(
                            "找到多位居民，请在下面选择一位",
                            "Several residents found; choose one below",
                        ),
                    );
                    typed.found = found;
                }
            }
        } else if !resident.is_empty() && name.is_empty() {
            let r = state
                .registry
                .clone()
                .get_resident(staff.grpc(pb::GetResidentRequest {
                    centre_id: centre.id.clone(),
                    id: resident.clone(),
                    national_id_purpose: String::new(),
                }))
                .await?
                .into_inner();
            name = r.name;
        }
    }
    if errors.is_empty() && typed.sector != "resident" && name.is_empty() {
        errors.push("name", lang.pick("请填写姓名", "Enter the name"));
    }
    if errors.is_empty() {
        let added = state
            .evaluation
            .clone()
            .add_board_member(staff.grpc(ev::AddBoardMemberRequest {
                centre_id: centre.id.clone(),
                member: Some(ev::BoardMember {
                    name,
                    sector: typed.sector.clone(),
                    resident_id: if typed.sector == "resident" {
                        resident
                    } else {
                        String::new()
                    },
                    role: typed.role.clone(),
                    term_from: typed.term_from.clone(),
                    term_until: typed.term_until.clone(),
                    committees: if typed.finance {
                        vec!["finance_oversight".into()]
                    } else {
                        Vec::new()
                    },
                    ..Default::default()
                }),
            }))
            .await;
        match added {
            Ok(_) => return done(&centre, "added"),
            Err(status) if is_refusal(&status) => {
                errors = FieldErrors::from_status(&status, lang);
                // The resident's own refusals (not the centre's) belong beside the search.
                if let Some(e) = errors.0.iter_mut().find(|(f, _)| f == "resident_id") {
                    e.0 = "resident_q".into();
                }
            }
            Err(status) => return Err(status.into()),
        }
    }
    page(&state, staff, &centre, "", errors, Typed::Member(typed)).await
}

pub async fn end_member(
    State(state): State<AppState>,
    Path((centre, member)): Path<(String, String)>,
    posted: Posted,
) -> Page {
    let staff = &posted.staff;
    let centre = staff.centre(Section::Board, &centre)?;
    let ended = state
        .evaluation
        .clone()
        .end_board_membership(staff.grpc(ev::EndBoardMembershipRequest {
            centre_id: centre.id.clone(),
            member_id: member,
            ended_on: String::new(),
        }))
        .await;
    match ended {
        Ok(_) => done(&centre, "ended"),
        Err(status) if is_refusal(&status) => {
            let errors = FieldErrors::from_status(&status, staff.lang);
            page(&state, staff, &centre, "", errors, Typed::Row).await
        }
        Err(status) => Err(status.into()),
    }
}

pub async fn record_meeting(
    State(state): State<AppState>,
    Path(centre): Path<String>,
    posted: Posted,
) -> Page {
    let staff = &posted.staff;
    let centre = staff.centre(Section::Board, &centre)?;
    let lang = staff.lang;
    let typed = MeetingTyped {
        held_on: posted.get("held_on").to_owned(),
        title: posted.get("title").to_owned(),
        agenda: posted.get("agenda").to_owned(),
        minutes: posted.get("minutes").to_owned(),
        attendees: posted.all("attendee"),
        decision: posted.get("text").to_owned(),
        owner: posted.get("owner_member_id").to_owned(),
        due_on: posted.get("due_on").to_owned(),
    };
    let mut errors = FieldErrors::default();
    let wants_decision = !typed.decision.trim().is_empty() || !typed.owner.is_empty();
    if wants_decision && typed.decision.trim().is_empty() {
        errors.push("text", lang.pick("请填写决议内容", "Enter the decision"));
    }
    if wants_decision && typed.owner.is_empty() {
        errors.push(
            "owner_member_id",
            lang.pick("请选择负责人", "Choose who carries it out"),
        );
    }
    if errors.is_empty() {
        let decisions = if wants_decision {
            vec![ev::BoardDecision {
                text: typed.decision.trim().to_owned(),
                owner_member_id: typed.owner.clone(),
                due_on: typed.due_on.clone(),
                ..Default::default()
            }]
        } else {
            Vec::new()
        };
        let recorded = state
            .evaluation
            .clone()
            .record_board_meeting(
                staff.grpc(ev::RecordBoardMeetingRequest {
                    centre_id: centre.id.clone(),
                    meeting: Some(ev::BoardMeeting {
                        held_on: typed.held_on.clone(),
                        title: typed.title.trim().to_owned(),
                        agenda: typed
                            .agenda
                            .lines()
                            .map(str::trim)
                            .filter(|l| !l.is_empty())
                            .map(str::to_owned)
                            .collect(),
                        minutes: typed.minutes.trim().to_owned(),
                        attendee_ids: typed.attendees.clone(),
                        decisions,
                        ..Default::default()
                    }),
                }),
            )
            .await;
        match recorded {
            Ok(_) => return done(&centre, "recorded"),
            Err(status) if is_refusal(&status) => {
                errors = FieldErrors::from_status(&status, lang);
                // agenda[0] and attendee_ids[1] are shown beside their lists.
                for e in errors.0.iter_mut() {
                    if let Some((base, _)) = e.0.split_once('[') {
                        e.0 = base.to_owned();
                    }
                }
            }
            Err(status) => return Err(status.into()),
        }
    }
    page(&state, staff, &centre, "", errors, Typed::Meeting(typed)).await
}

pub async fn complete_decision(
    State(state): State<AppState>,
    Path((centre, decision)): Path<(String, String)>,
    posted: Posted,
) -> Page {
    let staff = &posted.staff;
    let centre = staff.centre(Section::Board, &centre)?;
    let completed = state
        .evaluation
        .clone()
        .complete_board_decision(staff.grpc(ev::CompleteBoardDecisionRequest {
            centre_id: centre.id.clone(),
            decision_id: decision,
            done_on: String::new(),
        }))
        .await;
    match completed {
        Ok(_) => done(&centre, "done"),
        Err(status) if is_refusal(&status) => {
            let errors = FieldErrors::from_status(&status, staff.lang);
            page(&state, staff, &centre, "", errors, Typed::Row).await
        }
        Err(status) => Err(status.into()),
    }
}

pub(super) fn review_section(lang: Lang, code: &str) -> &'static str {
    match code {
        "organisation" => lang.pick("组织建设", "Organisation"),
        "staffing_training" => lang.pick("人员与培训", "Staffing and training"),
        "facilities_use" => lang.pick("场地设施使用", "Use of facilities"),
        "partner_resources" => lang.pick("社会资源与合作", "Partners and resources"),
        "finance" => lang.pick("财务管理", "Finance"),
        "participation" => lang.pick("居民参与", "Participation"),
        _ => lang.pick("其他", "Other"),
    }
}

/// "2027" → 2027年, "2027-Q1" → 2027年第一季度, "2027-03" → 2027年3月.
pub(super) fn review_period(lang: Lang, period: &str) -> String {
    let (year, rest) = period.split_once('-').unwrap_or((period, ""));
    if lang == Lang::En {
        return period.to_owned();
    }
    match rest {
        "" => format!("{year}年"),
        q if q.starts_with('Q') => {
            let n = match q {
                "Q1" => "一",
                "Q2" => "二",
                "Q3" => "三",
                _ => "四",
            };
            format!("{year}年第{n}季度")
        }
        m => format!("{year}年{}月", m.trim_start_matches('0')),
    }
}

pub(super) fn measure_name(lang: Lang, measure: &str) -> String {
    match measure {
        "utilisation" => super::i18n::kpi(lang, "facility_utilisation"),
        "partner_income" => lang.pick("合作收入", "Partner income").to_owned(),
        other => super::i18n::kpi(lang, other),
    }
}
