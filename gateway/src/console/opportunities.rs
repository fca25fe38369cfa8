//! The coordinator's opportunities (the kinds of volunteer work a centre offers) and their
//! shifts: created from one page, skills and certifications ticked by their Chinese words,
//! a shift's day and times chosen in the centre's zone.

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect};
use chrono::{DateTime, NaiveDate, NaiveTime, TimeZone, Utc};
use linli_proto::registry::v1 as pb;
use linli_proto::volunteers::v1 as vo;
use maud::html;
use serde::Deserialize;

use super::listing::{PAGE, every_page};
use super::volunteer_profiles::{SKILLS, half_hours, may_coordinate};
use super::{
    FieldErrors, Page, Posted, Query, Refusal, Section, Staff, csrf, field, general_errors, i18n,
    is_refusal, notice, timestamp, today, zone,
};
use crate::AppState;

/// The certification kinds an opportunity may require (said by [`i18n::certification`]).
const CERTIFICATIONS: [&str; 5] = [
    "first_aid",
    "medical_licence",
    "nursing_licence",
    "teacher_certificate",
    "social_worker",
];

#[derive(Deserialize, Default)]
pub struct PageQuery {
    #[serde(default)]
    notice: String,
}

/// Both forms as typed, kept when either is refused.
#[derive(Default)]
struct Typed {
    title: String,
    description: String,
    location: String,
    skills: Vec<String>,
    certifications: Vec<String>,
    minors: bool,
    opportunity_id: String,
    day: String,
    from: String,
    to: String,
    capacity: String,
    shift_location: String,
}

pub async fn page(
    State(state): State<AppState>,
    staff: Staff,
    Path(centre): Path<String>,
    Query(query): Query<PageQuery>,
) -> Page {
    let centre = staff.centre(Section::Volunteers, &centre)?;
    let typed = Typed {
        day: (today(&centre) + chrono::Duration::days(1)).to_string(),
        capacity: "2".into(),
        ..Default::default()
    };
    render(
        &state,
        &staff,
        &centre,
        &typed,
        FieldErrors::default(),
        &query.notice,
    )
    .await
}

async fn render(
    state: &AppState,
    staff: &Staff,
    centre: &pb::Centre,
    typed: &Typed,
    errors: FieldErrors,
    said: &str,
) -> Page {
    let lang = staff.lang;
    let opportunities = every_page(|page_token| async {
        let reply = state
            .volunteers
            .clone()
            .list_opportunities(staff.grpc(vo::ListOpportunitiesRequest {
                centre_id: centre.id.clone(),
                page_size: PAGE,
                page_token,
            }))
            .await?
            .into_inner();
        Ok::<_, Refusal>((reply.opportunities, reply.next_page_token))
    })
    .await?;
    let here = format!("/c/{}/volunteers/opportunities", centre.id);
    let content = html! {
        @if !errors.is_empty() { span hidden data-page-url=(here) {} }
        @match said {
            "created" => (notice(lang.pick("已新建岗位。", "The opportunity is created."))),
            "shift" => (notice(lang.pick("已添加班次。", "The shift is added."))),
            _ => {}
        }
        p { a href=(format!("/c/{}/volunteers", centre.id)) { "← " (lang.pick("返回志愿者", "Back to volunteers")) } }
        section {
            h2 { (lang.pick("岗位", "Opportunities")) }
            table #opportunities {
                thead { tr { th { (lang.pick("岗位", "Opportunity")) } th { (lang.pick("地点", "Where")) } th { (lang.pick("所需技能", "Skills")) } th { (lang.pick("所需证书", "Certifications")) } } }
                tbody {
                    @for o in &opportunities {
                        tr data-opportunity=(o.title) {
                            td { (o.title) @if o.works_with_minors { " " span.badge { (lang.pick("面向未成年人", "with minors")) } } }
                            td { (o.location) }
                            td { (o.required_skills.iter().map(|s| i18n::skill(lang, s)).collect::<Vec<_>>().join("、")) }
                            td { (o.required_certifications.iter().map(|c| i18n::certification(lang, c)).collect::<Vec<_>>().join("、")) }
                        }
                    }
                    @if opportunities.is_empty() { tr { td colspan="4" { (lang.pick("还没有岗位。", "No opportunities yet.")) } } }
                }
            }
        }
        @if may_coordinate(staff) {
            section #new-shift {
                h2 { (lang.pick("添加班次", "Add a shift")) }
                form method="post" action=(format!("/c/{}/volunteers/shifts", centre.id)) {
                    (csrf(staff))
                    (general_errors(&errors, &["opportunity_id", "starts_at", "ends_at", "capacity", "location", "title", "description", "required_skills", "required_certifications"]))
                    div.field.invalid[errors.get("opportunity_id").is_some()] {
                        label for="f-opportunity_id" { (lang.pick("岗位", "Opportunity")) span.req aria-hidden="true" { " *" } }
                        select #f-opportunity_id name="opportunity_id" required {
                            option value="" { (lang.pick("请选择", "Choose")) }
                            @for o in &opportunities { option value=(o.id) selected[o.id == typed.opportunity_id] { (o.title) } }
                        }
                        @if let Some(message) = errors.get("opportunity_id") { span.error #f-opportunity_id-error role="alert" { (message) } }
                    }
                    (field(lang, "day", lang.pick("日期", "Day"), "date", &typed.day, &errors, true))
                    div.field.invalid[errors.get("starts_at").or(errors.get("ends_at")).is_some()] {
                        label for="f-from" { (lang.pick("时间", "Time")) span.req aria-hidden="true" { " *" } }
                        select #f-from name="from" {
                            option value="" { (lang.pick("开始", "From")) }
                            @for t in half_hours() { option value=(t) selected[t == typed.from] { (t) } }
                        }
                        " 至 "
                        select #f-to name="to" aria-label=(lang.pick("结束", "To")) {
                            option value="" { (lang.pick("结束", "To")) }
                            @for t in half_hours() { option value=(t) selected[t == typed.to] { (t) } }
                        }
                        @if let Some(message) = errors.get("starts_at").or(errors.get("ends_at")) { span.error #f-time-error role="alert" { (message) } }
                    }
                    (field(lang, "capacity", lang.pick("名额", "Places"), "number", &typed.capacity, &errors, true))
                    (field(lang, "location", lang.pick("地点（不填则用岗位的地点）", "Where (the opportunity's if empty)"), "text", &typed.shift_location, &errors, false))
                    button #add-shift type="submit" { (lang.pick("添加班次", "Add the shift")) }
                }
            }
            section #new-opportunity {
                h2 { (lang.pick("新建岗位", "New opportunity")) }
                form method="post" action=(format!("{here}/create")) {
                    (csrf(staff))
                    (field(lang, "title", lang.pick("岗位名称", "Title"), "text", &typed.title, &errors, true))
                    (field(lang, "description", lang.pick("说明", "Description"), "text", &typed.description, &errors, false))
                    (field(lang, "opportunity_location", lang.pick("地点", "Where"), "text", &typed.location, &errors, false))
                    fieldset #required-skills {
                        legend { (lang.pick("所需技能", "Skills needed")) }
                        @for code in SKILLS {
                            label.check { input type="checkbox" name="required_skills" value=(code) checked[typed.skills.iter().any(|s| s == code)]; " " (i18n::skill(lang, code)) }
                        }
                    }
                    fieldset #required-certifications {
                        legend { (lang.pick("所需证书", "Certifications needed")) }
                        @for kind in CERTIFICATIONS {
                            label.check { input type="checkbox" name="required_certifications" value=(kind) checked[typed.certifications.iter().any(|c| c == kind)]; " " (i18n::certification(lang, kind)) }
                        }
                    }
                    label.check { input type="checkbox" name="works_with_minors" value="true" checked[typed.minors]; " " (lang.pick("面向未成年人（志愿者须有无犯罪记录证明）", "Works with minors (volunteers need a background check)")) }
                    p { button #create-opportunity type="submit" { (lang.pick("新建岗位", "Create")) } }
                }
            }
        }
    };
    Ok(super::layout(
        staff,
        Section::Volunteers,
        Some(centre),
        &format!(
            "{} · {}",
            centre.name,
            lang.pick("岗位与班次", "Opportunities and shifts")
        ),
        content,
    ))
}

fn typed(posted: &Posted) -> Typed {
    Typed {
        title: posted.get("title").to_owned(),
        description: posted.get("description").to_owned(),
        location: posted.get("opportunity_location").to_owned(),
        skills: posted.all("required_skills"),
        certifications: posted.all("required_certifications"),
        minors: posted.get("works_with_minors") == "true",
        opportunity_id: posted.get("opportunity_id").to_owned(),
        day: posted.get("day").to_owned(),
        from: posted.get("from").to_owned(),
        to: posted.get("to").to_owned(),
        capacity: posted.get("capacity").trim().to_owned(),
        shift_location: posted.get("location").to_owned(),
    }
}

pub async fn create(
    State(state): State<AppState>,
    Path(centre): Path<String>,
    posted: Posted,
) -> Page {
    let staff = &posted.staff;
    let centre = staff.centre(Section::Volunteers, &centre)?;
    if !may_coordinate(staff) {
        return Err(Refusal::forbidden());
    }
    let lang = staff.lang;
    let mut typed = typed(&posted);
    match state
        .volunteers
        .clone()
        .create_opportunity(staff.grpc(vo::CreateOpportunityRequest {
            centre_id: centre.id.clone(),
            title: typed.title.clone(),
            description: typed.description.clone(),
            required_skills: typed.skills.clone(),
            required_certifications: typed.certifications.clone(),
            works_with_minors: typed.minors,
            location: typed.location.clone(),
        }))
        .await
    {
        Ok(_) => Ok(Redirect::to(&format!(
            "/c/{}/volunteers/opportunities?notice=created",
            centre.id
        ))
        .into_response()),
        Err(status) if is_refusal(&status) => {
            let mut errors = FieldErrors::from_status(&status, lang);
            for (field, _) in &mut errors.0 {
                if field == "location" {
                    *field = "opportunity_location".into();
                }
            }
            typed.day = (today(&centre) + chrono::Duration::days(1)).to_string();
            render(&state, staff, &centre, &typed, errors, "").await
        }
        Err(status) => Err(status.into()),
    }
}

fn at(tz: chrono_tz::Tz, day: NaiveDate, time: &str) -> Option<DateTime<Utc>> {
    let time = NaiveTime::parse_from_str(time, "%H:%M").ok()?;
    tz.from_local_datetime(&day.and_time(time))
        .earliest()
        .map(|t| t.with_timezone(&Utc))
}

pub async fn add_shift(
    State(state): State<AppState>,
    Path(centre): Path<String>,
    posted: Posted,
) -> Page {
    let staff = &posted.staff;
    let centre = staff.centre(Section::Volunteers, &centre)?;
    if !may_coordinate(staff) {
        return Err(Refusal::forbidden());
    }
    let lang = staff.lang;
    let typed = typed(&posted);
    let tz = zone(&centre);
    let mut errors = FieldErrors::default();
    if typed.opportunity_id.is_empty() {
        errors.push(
            "opportunity_id",
            lang.pick("请选择岗位", "Choose the opportunity"),
        );
    }
    let day = NaiveDate::parse_from_str(&typed.day, "%Y-%m-%d").ok();
    if day.is_none() {
        errors.push("day", lang.pick("请选择日期", "Choose the day"));
    }
    let starts = day.and_then(|d| at(tz, d, &typed.from));
    let ends = day.and_then(|d| at(tz, d, &typed.to));
    if day.is_some() && (starts.is_none() || ends.is_none()) {
        errors.push(
            "starts_at",
            lang.pick("请选择开始和结束时间", "Choose the start and the end"),
        );
    } else if let (Some(s), Some(e)) = (starts, ends)
        && e <= s
    {
        errors.push(
            "starts_at",
            lang.pick("结束时间要晚于开始时间", "The end must be after the start"),
        );
    }
    let capacity = typed.capacity.parse::<i32>().ok().filter(|c| *c >= 1);
    if capacity.is_none() {
        errors.push(
            "capacity",
            lang.pick(
                "名额请填 1 或更多的整数",
                "Places must be a whole number, 1 or more",
            ),
        );
    }
    if errors.is_empty() {
        match state
            .volunteers
            .clone()
            .create_shift(staff.grpc(vo::CreateShiftRequest {
                centre_id: centre.id.clone(),
                opportunity_id: typed.opportunity_id.clone(),
                starts_at: starts.map(timestamp),
                ends_at: ends.map(timestamp),
                capacity: capacity.unwrap_or_default(),
                location: typed.shift_location.clone(),
            }))
            .await
        {
            Ok(_) => {
                return Ok(Redirect::to(&format!(
                    "/c/{}/volunteers/opportunities?notice=shift",
                    centre.id
                ))
                .into_response());
            }
            Err(status) if is_refusal(&status) => errors = FieldErrors::from_status(&status, lang),
            Err(status) => return Err(status.into()),
        }
    }
    render(&state, staff, &centre, &typed, errors, "").await
}
