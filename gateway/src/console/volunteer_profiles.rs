//! A volunteer's profile from the coordinator's side: registering a resident found by name
//! (or pinyin) as a volunteer, and editing their skills and weekly availability. Skills are
//! ticked from the Chinese words staff use; availability is a weekday and half-hour times.

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect};
use chrono::Weekday;
use linli_proto::registry::v1 as pb;
use linli_proto::volunteers::v1 as vo;
use maud::{Markup, html};
use serde::Deserialize;

use super::residents::urlencode;
use super::{
    FieldErrors, Lang, Page, Posted, Query, Refusal, Section, Staff, csrf, general_errors, i18n,
    is_refusal, notice,
};
use crate::AppState;

/// The skills a coordinator ticks, by their codes (said in Chinese by [`i18n::skill`]).
pub(super) const SKILLS: [&str; 16] = [
    "elderly_care",
    "cooking",
    "tutoring",
    "reading",
    "first_aid",
    "dance",
    "music",
    "computer",
    "sign_language",
    "calligraphy",
    "hairdressing",
    "repairs",
    "driving",
    "nursing",
    "counselling",
    "photography",
];

/// Availability rows a form offers at least (one more than the volunteer has, up to
/// [`MOST_WINDOWS`], so none is lost on saving).
const WINDOWS: usize = 3;
const MOST_WINDOWS: usize = 14;

#[derive(Deserialize, Default)]
pub struct FindQuery {
    #[serde(default)]
    q: String,
    #[serde(default)]
    notice: String,
}

/// What the profile form holds, as typed.
#[derive(Default)]
struct Profile {
    skills: Vec<String>,
    /// (weekday 1–7, starts, ends) as the selects hold them; empty rows are unused.
    windows: Vec<(String, String, String)>,
}

impl Profile {
    fn posted(posted: &Posted) -> Profile {
        Profile {
            skills: posted.all("skills"),
            windows: (0..MOST_WINDOWS)
                .map(|i| {
                    (
                        posted.get(&format!("day{i}")).to_owned(),
                        posted.get(&format!("from{i}")).to_owned(),
                        posted.get(&format!("to{i}")).to_owned(),
                    )
                })
                .collect(),
        }
    }

    fn of(volunteer: &vo::Volunteer) -> Profile {
        Profile {
            skills: volunteer.skills.clone(),
            windows: volunteer
                .availability
                .iter()
                .map(|w| (w.weekday.to_string(), w.starts.clone(), w.ends.clone()))
                .collect(),
        }
    }

    /// The windows filled in; a row with a day but no times (or times but no day) is an
    /// error beside that row.
    fn availability(&self, lang: Lang, errors: &mut FieldErrors) -> Vec<vo::AvailabilityWindow> {
        let mut out = Vec::new();
        for (i, (day, from, to)) in self.windows.iter().enumerate() {
            if day.is_empty() && from.is_empty() && to.is_empty() {
                continue;
            }
            match day.parse::<i32>() {
                Ok(weekday) if (1..=7).contains(&weekday) && !from.is_empty() && !to.is_empty() => {
                    if from >= to {
                        errors.push(
                            &format!("window{i}"),
                            lang.pick("结束时间要晚于开始时间", "The end must be after the start"),
                        );
                    }
                    out.push(vo::AvailabilityWindow {
                        weekday,
                        starts: from.clone(),
                        ends: to.clone(),
                    });
                }
                _ => errors.push(
                    &format!("window{i}"),
                    lang.pick(
                        "请选择星期几、开始和结束时间",
                        "Choose the day, the start and the end",
                    ),
                ),
            }
        }
        out
    }
}

/// The fields the form shows beside themselves: `also` and every availability row.
fn shown<'a>(also: &[&'a str]) -> Vec<&'a str> {
    const ROWS: [&str; MOST_WINDOWS] = [
        "window0", "window1", "window2", "window3", "window4", "window5", "window6", "window7",
        "window8", "window9", "window10", "window11", "window12", "window13",
    ];
    also.iter().copied().chain(ROWS).collect()
}

pub(super) fn may_coordinate(staff: &Staff) -> bool {
    use linli_platform::auth::Role::*;
    [DistrictAdmin, CentreManager, Coordinator]
        .iter()
        .any(|r| staff.has_role(*r))
}

const WEEKDAYS: [Weekday; 7] = [
    Weekday::Mon,
    Weekday::Tue,
    Weekday::Wed,
    Weekday::Thu,
    Weekday::Fri,
    Weekday::Sat,
    Weekday::Sun,
];

/// Half hours from 06:00 to 22:00.
pub(super) fn half_hours() -> impl Iterator<Item = String> {
    (12..=44).map(|h| format!("{:02}:{:02}", h / 2, (h % 2) * 30))
}

/// The skills' ticks and the availability rows, with their errors beside them.
fn profile_fields(lang: Lang, profile: &Profile, errors: &FieldErrors) -> Markup {
    html! {
        fieldset #skills {
            legend { (lang.pick("技能", "Skills")) }
            @for code in SKILLS {
                label.check {
                    input type="checkbox" name="skills" value=(code) checked[profile.skills.iter().any(|s| s == code)];
                    " " (i18n::skill(lang, code))
                }
            }
            @for held in profile.skills.iter().filter(|s| !SKILLS.contains(&s.as_str())) {
                label.check {
                    input type="checkbox" name="skills" value=(held) checked;
                    " " (i18n::skill(lang, held))
                }
            }
        }
        fieldset #availability {
            legend { (lang.pick("每周空闲时间", "Free each week")) }
            @for i in 0..WINDOWS.max(profile.windows.len() + 1).min(MOST_WINDOWS) {
                @let (day, from, to) = profile.windows.get(i).cloned().unwrap_or_default();
                @let error = errors.get(&format!("window{i}"));
                div.field.invalid[error.is_some()] data-window=(i) {
                    select name=(format!("day{i}")) aria-label=(lang.pick("星期", "Day")) {
                        option value="" { (lang.pick("星期几", "Day")) }
                        @for (n, w) in WEEKDAYS.iter().enumerate() {
                            @let value = (n + 1).to_string();
                            option value=(value) selected[value == day] { (i18n::weekday(lang, *w)) }
                        }
                    }
                    " "
                    select name=(format!("from{i}")) aria-label=(lang.pick("开始", "From")) {
                        option value="" { (lang.pick("开始", "From")) }
                        @for t in half_hours() { option value=(t) selected[t == from] { (t) } }
                    }
                    " 至 "
                    select name=(format!("to{i}")) aria-label=(lang.pick("结束", "To")) {
                        option value="" { (lang.pick("结束", "To")) }
                        @for t in half_hours() { option value=(t) selected[t == to] { (t) } }
                    }
                    @if let Some(message) = error { span.error role="alert" { (message) } }
                }
            }
        }
    }
}

pub async fn new_form(
    State(state): State<AppState>,
    staff: Staff,
    Path(centre): Path<String>,
    Query(query): Query<FindQuery>,
) -> Page {
    let centre = staff.centre(Section::Volunteers, &centre)?;
    if !may_coordinate(&staff) {
        return Err(Refusal::forbidden());
    }
    register_page(
        &state,
        &staff,
        &centre,
        &query.q,
        "",
        &Profile::default(),
        FieldErrors::default(),
    )
    .await
}

async fn register_page(
    state: &AppState,
    staff: &Staff,
    centre: &pb::Centre,
    q: &str,
    chosen: &str,
    profile: &Profile,
    errors: FieldErrors,
) -> Page {
    let lang = staff.lang;
    let found = if q.trim().is_empty() {
        Vec::new()
    } else {
        match state
            .registry
            .clone()
            .list_residents(staff.grpc(pb::ListResidentsRequest {
                centre_id: centre.id.clone(),
                page_size: 10,
                q: q.trim().to_owned(),
                status: "active".into(),
                ..Default::default()
            }))
            .await
        {
            Ok(reply) => reply.into_inner().residents,
            Err(status) if status.code() == tonic::Code::InvalidArgument => Vec::new(),
            Err(status) => return Err(status.into()),
        }
    };
    let here = format!("/c/{}/volunteers/new", centre.id);
    let content = html! {
        @if !errors.is_empty() { span hidden data-page-url=(format!("{here}?q={}", urlencode(q))) {} }
        p { a href=(format!("/c/{}/volunteers", centre.id)) { "← " (lang.pick("返回志愿者", "Back to volunteers")) } }
        form role="search" method="get" action=(here) {
            label for="q" { (lang.pick("找居民（姓名或拼音）", "Find the resident (name or pinyin)")) }
            " "
            input #q type="search" name="q" value=(q);
            " "
            button type="submit" { (lang.pick("查找", "Find")) }
        }
        form method="post" action=(format!("/c/{}/volunteers/register", centre.id)) {
            (csrf(staff))
            input type="hidden" name="q" value=(q);
            (general_errors(&errors, &shown(&["resident_id"])))
            fieldset #residents.invalid[errors.get("resident_id").is_some()] {
                legend { (lang.pick("居民", "Resident")) }
                @for r in &found {
                    label.check {
                        input type="radio" name="resident_id" value=(r.id) data-resident=(r.name) checked[r.id == chosen];
                        " " (r.name) " · " (r.date_of_birth.get(..4).unwrap_or_default()) (lang.pick("年生", ""))
                    }
                }
                @if found.is_empty() {
                    p.hint { @if q.trim().is_empty() { (lang.pick("先按姓名或拼音查找居民。", "Find the resident by name or pinyin first.")) } @else { (lang.pick("没有找到这位居民。", "No resident found.")) } }
                }
                @if let Some(message) = errors.get("resident_id") { span.error role="alert" { (message) } }
            }
            (profile_fields(lang, profile, &errors))
            label.check {
                input type="checkbox" name="guardian_consent" value="true";
                " " (lang.pick("未满 18 岁：已取得监护人同意", "Under 18: the guardian consents"))
            }
            p { button #register type="submit" { (lang.pick("登记为志愿者", "Register as a volunteer")) } }
        }
    };
    Ok(super::layout(
        staff,
        Section::Volunteers,
        Some(centre),
        &format!(
            "{} · {}",
            centre.name,
            lang.pick("登记志愿者", "Register a volunteer")
        ),
        content,
    ))
}

pub async fn register(
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
    let q = posted.get("q").to_owned();
    let chosen = posted.get("resident_id").to_owned();
    let profile = Profile::posted(&posted);
    let mut errors = FieldErrors::default();
    if chosen.is_empty() {
        errors.push(
            "resident_id",
            lang.pick("请先查找并选择居民", "Find and choose the resident"),
        );
    }
    let availability = profile.availability(lang, &mut errors);
    if errors.is_empty() {
        // The volunteer goes by the resident's own name.
        let name = state
            .registry
            .clone()
            .list_residents(staff.grpc(pb::ListResidentsRequest {
                centre_id: centre.id.clone(),
                ids: vec![chosen.clone()],
                page_size: 1,
                ..Default::default()
            }))
            .await?
            .into_inner()
            .residents
            .into_iter()
            .next()
            .map(|r| r.name)
            .unwrap_or_default();
        match state
            .volunteers
            .clone()
            .register_volunteer(staff.grpc(vo::RegisterVolunteerRequest {
                centre_id: centre.id.clone(),
                resident_id: chosen.clone(),
                display_name: name,
                skills: profile.skills.clone(),
                availability,
                guardian_consent: posted.get("guardian_consent") == "true",
                ..Default::default()
            }))
            .await
        {
            Ok(reply) => {
                return Ok(Redirect::to(&format!(
                    "/c/{}/volunteers/profile/{}?notice=registered",
                    centre.id,
                    reply.into_inner().id
                ))
                .into_response());
            }
            Err(status) if is_refusal(&status) => errors = FieldErrors::from_status(&status, lang),
            Err(status) => return Err(status.into()),
        }
    }
    register_page(&state, staff, &centre, &q, &chosen, &profile, errors).await
}

pub async fn profile(
    State(state): State<AppState>,
    staff: Staff,
    Path((centre, volunteer)): Path<(String, String)>,
    Query(query): Query<FindQuery>,
) -> Page {
    let centre = staff.centre(Section::Volunteers, &centre)?;
    let found = get(&state, &staff, &centre, &volunteer).await?;
    let profile = Profile::of(&found);
    profile_page(
        &staff,
        &centre,
        &found,
        &profile,
        FieldErrors::default(),
        &query.notice,
    )
}

async fn get(
    state: &AppState,
    staff: &Staff,
    centre: &pb::Centre,
    volunteer: &str,
) -> Result<vo::Volunteer, Refusal> {
    super::parse_uuid(volunteer)?;
    let mut found = state
        .volunteers
        .clone()
        .get_volunteer(staff.grpc(vo::GetVolunteerRequest {
            centre_id: centre.id.clone(),
            volunteer_id: volunteer.to_owned(),
        }))
        .await?
        .into_inner();
    // Shown by the resident's own name, not a placeholder display name.
    let ids = [found.resident_id.clone()];
    if let Some(name) = super::bookings::names_of(state, staff, &centre.id, &ids, "")
        .await?
        .remove(&found.resident_id)
    {
        found.display_name = name;
    }
    Ok(found)
}

fn profile_page(
    staff: &Staff,
    centre: &pb::Centre,
    volunteer: &vo::Volunteer,
    profile: &Profile,
    errors: FieldErrors,
    said: &str,
) -> Page {
    let lang = staff.lang;
    let here = format!("/c/{}/volunteers/profile/{}", centre.id, volunteer.id);
    let content = html! {
        @if !errors.is_empty() { span hidden data-page-url=(here) {} }
        @match said {
            "registered" => (notice(lang.pick("已登记为志愿者。", "Registered as a volunteer."))),
            "saved" => (notice(lang.pick("已保存技能和空闲时间。", "Skills and availability saved."))),
            _ => {}
        }
        p { a href=(format!("/c/{}/volunteers", centre.id)) { "← " (lang.pick("返回志愿者", "Back to volunteers")) } }
        dl.facts {
            dt { (lang.pick("志愿者", "Volunteer")) } dd #volunteer-name { (volunteer.display_name) }
            dt { (lang.pick("状态", "Status")) } dd { (i18n::term(lang, &volunteer.status)) }
            dt { (lang.pick("已核实服务", "Verified service")) } dd { (i18n::hours(lang, volunteer.verified_minutes)) }
            @if !volunteer.resident_id.is_empty() {
                dt { (lang.pick("居民档案", "Resident record")) }
                dd { a href=(format!("/c/{}/residents/{}", centre.id, volunteer.resident_id)) { (lang.pick("查看", "Open")) } }
            }
        }
        @if may_coordinate(staff) {
            form method="post" action=(format!("{here}/save")) {
                (csrf(staff))
                (general_errors(&errors, &shown(&[])))
                (profile_fields(lang, profile, &errors))
                p { button #save-profile type="submit" { (lang.pick("保存", "Save")) } }
            }
        }
    };
    Ok(super::layout(
        staff,
        Section::Volunteers,
        Some(centre),
        &format!("{} · {}", centre.name, volunteer.display_name),
        content,
    ))
}

/// Saves the skills and availability only: the rest of the profile keeps its values.
pub async fn save(
    State(state): State<AppState>,
    Path((centre, volunteer)): Path<(String, String)>,
    posted: Posted,
) -> Page {
    let staff = &posted.staff;
    let centre = staff.centre(Section::Volunteers, &centre)?;
    if !may_coordinate(staff) {
        return Err(Refusal::forbidden());
    }
    let lang = staff.lang;
    let found = get(&state, staff, &centre, &volunteer).await?;
    let profile = Profile::posted(&posted);
    let mut errors = FieldErrors::default();
    let availability = profile.availability(lang, &mut errors);
    if errors.is_empty() {
        match state
            .volunteers
            .clone()
            .update_volunteer(staff.grpc(vo::UpdateVolunteerRequest {
                centre_id: centre.id.clone(),
                volunteer_id: found.id.clone(),
                skills: profile.skills.clone(),
                availability,
                update_mask: Some(prost_types::FieldMask {
                    paths: vec!["skills".into(), "availability".into()],
                }),
                ..Default::default()
            }))
            .await
        {
            Ok(_) => {
                return Ok(Redirect::to(&format!(
                    "/c/{}/volunteers/profile/{}?notice=saved",
                    centre.id, found.id
                ))
                .into_response());
            }
            Err(status) if is_refusal(&status) => errors = FieldErrors::from_status(&status, lang),
            Err(status) => return Err(status.into()),
        }
    }
    profile_page(staff, &centre, &found, &profile, errors, "")
}
