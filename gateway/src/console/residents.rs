//! Residents: search by name or pinyin initials, register, view (masked as the registry
//! masks it for the user's role), consents, and a spreadsheet import with its per-row
//! report.

use super::Query;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use chrono::NaiveDate;
use linli_proto::registry::v1 as pb;
use maud::{Markup, html};
use serde::Deserialize;

use super::{
    FieldErrors, Lang, Page, Posted, Refusal, Section, Staff, csrf, field, general_errors, i18n,
    is_refusal, notice, today,
};
use crate::AppState;

#[derive(Deserialize, Default)]
pub struct SearchQuery {
    #[serde(default)]
    q: String,
    #[serde(default)]
    category: String,
    #[serde(default)]
    page: String,
    #[serde(default)]
    notice: String,
    /// After a cancellation: the residents the waitlist gave the seat to.
    #[serde(default)]
    promoted: String,
}

fn gender(lang: Lang, value: i32) -> String {
    match pb::Gender::try_from(value) {
        Ok(pb::Gender::Male) => i18n::term(lang, "male"),
        Ok(pb::Gender::Female) => i18n::term(lang, "female"),
        _ => "—".into(),
    }
}

fn age(born: &str, on: NaiveDate) -> String {
    NaiveDate::parse_from_str(born, "%Y-%m-%d")
        .ok()
        .and_then(|b| on.years_since(b))
        .map(|a| a.to_string())
        .unwrap_or_default()
}

/// A building, unit or room as typed or stored, without the word that names it: "3号楼",
/// "3栋", "3 号楼" and "3" are all building 3; "2单元" unit 2; "301室" room 301. Stored
/// addresses come both ways (the seed and imports write "3号楼"), so the page adds the
/// words back once.
pub fn bare(text: &str, words: &[&str]) -> String {
    let mut text = text.trim();
    loop {
        let before = text;
        for word in words {
            text = text.strip_suffix(word).unwrap_or(text).trim_end();
        }
        if text == before {
            return text.to_owned();
        }
    }
}

const BUILDING: &[&str] = &["号楼", "栋", "幢", "楼", "号"];
const UNIT: &[&str] = &["单元"];
const ROOM: &[&str] = &["室", "号", "房"];

fn address(lang: Lang, r: &pb::Resident) -> String {
    address_of(lang, &r.building, &r.unit, &r.room)
}

/// 3号楼2单元301室 / Bldg 3, Unit 2, Room 301: each part once, however it was stored
/// (empty when nothing is). Every console page that shows an address writes it here.
pub fn address_of(lang: Lang, building: &str, unit: &str, room: &str) -> String {
    let (building, unit, room) = (bare(building, BUILDING), bare(unit, UNIT), bare(room, ROOM));
    if building.is_empty() && unit.is_empty() && room.is_empty() {
        return String::new();
    }
    let part = |value: &str, zh: &str, en: &str| match (value.is_empty(), lang) {
        (true, _) => String::new(),
        (false, Lang::Zh) => format!("{value}{zh}"),
        (false, Lang::En) => format!("{en} {value}"),
    };
    let parts = [
        part(&building, "号楼", "Bldg"),
        part(&unit, "单元", "Unit"),
        part(&room, "室", "Room"),
    ];
    match lang {
        Lang::Zh => parts.concat(),
        Lang::En => parts
            .into_iter()
            .filter(|p| !p.is_empty())
            .collect::<Vec<_>>()
            .join(", "),
    }
}

pub async fn list(
    State(state): State<AppState>,
    staff: Staff,
    Path(centre): Path<String>,
    Query(query): Query<SearchQuery>,
) -> Page {
    let centre = staff.centre(Section::Residents, &centre)?;
    let lang = staff.lang;
    let found = state
        .registry
        .clone()
        .list_residents(staff.grpc(pb::ListResidentsRequest {
            centre_id: centre.id.clone(),
            page_size: 50,
            page_token: query.page.clone(),
            q: query.q.trim().to_owned(),
            category: query.category.clone(),
            ..Default::default()
        }))
        .await;
    let (residents, next, errors) = match found {
        Ok(found) => {
            let found = found.into_inner();
            (
                found.residents,
                found.next_page_token,
                FieldErrors::default(),
            )
        }
        Err(status) if is_refusal(&status) => (
            Vec::new(),
            String::new(),
            FieldErrors::from_status(&status, lang),
        ),
        Err(status) => return Err(status.into()),
    };
    let on = today(&centre);
    let base = format!("/c/{}/residents", centre.id);
    let content = html! {
        @if query.notice == "registered" { (notice(lang.pick("已登记。", "Registered."))) }
        @if query.notice == "erased" { (notice(lang.pick("已删除该居民的个人信息，所有页面上不再显示其姓名。", "The resident's personal data is erased; their name shows on no page."))) }
        form.filters role="search" method="get" action=(base) {
            div.field.invalid[errors.get("q").is_some()] {
                label for="q" { (lang.pick("姓名或拼音首字母", "Name or pinyin initials")) }
                input #q type="search" name="q" value=(query.q) placeholder=(lang.pick("如：张三 或 zs", "e.g. 张三 or zs")) autofocus;
                @if let Some(e) = errors.get("q") { span.error role="alert" { (e) } }
            }
            div.field {
                label for="category" { (lang.pick("类别", "Category")) }
                select #category name="category" {
                    option value="" { (lang.pick("全部", "All")) }
                    @for c in ["elderly", "minor", "disability", "low_income", "living_alone"] {
                        option value=(c) selected[query.category == c] { (i18n::term(lang, c)) }
                    }
                }
            }
            button type="submit" { (lang.pick("查找", "Search")) }
            @if staff.may_write() {
                a.button href=(format!("{base}/new")) { (lang.pick("登记新居民", "Register a resident")) }
                a.button href=(format!("{base}/import")) { (lang.pick("导入表格", "Import a spreadsheet")) }
            }
            // The residents' site's sign-in codes waiting at this desk (no SMS provider).
            @if staff.has_role(linli_platform::auth::Role::FrontDesk) || staff.has_role(linli_platform::auth::Role::CentreManager) {
                a.button href=(format!("/c/{}/sign-in-codes", centre.id)) { (lang.pick("验证码发放", "Sign-in codes")) }
            }
        }
        (general_errors(&errors, &["q"]))
        table #residents {
            thead { tr {
                th scope="col" { (lang.pick("姓名", "Name")) }
                th scope="col" { (lang.pick("性别", "Gender")) }
                th scope="col" { (lang.pick("年龄", "Age")) }
                th scope="col" { (lang.pick("手机", "Phone")) }
                th scope="col" { (lang.pick("住址", "Address")) }
                th scope="col" { (lang.pick("类别", "Categories")) }
                th scope="col" { (lang.pick("状态", "Status")) }
            } }
            tbody {
                @for r in &residents {
                    tr {
                        td { a href=(format!("{base}/{}", r.id)) { (r.name) } }
                        td { (gender(lang, r.gender)) }
                        td.num { (age(&r.date_of_birth, on)) }
                        td { (r.phone.clone().unwrap_or_default()) }
                        td { (address(lang, r)) }
                        td { @for c in &r.categories { span.tag { (i18n::term(lang, c)) } } }
                        td { (i18n::term(lang, &r.status)) }
                    }
                }
                @if residents.is_empty() { tr { td colspan="7" { (lang.pick("没有找到居民。", "No residents found.")) } } }
            }
        }
        @if !next.is_empty() {
            a.button href=(format!("{base}?q={}&category={}&page={next}", urlencode(&query.q), query.category)) { (lang.pick("下一页", "Next page")) }
        }
    };
    Ok(layout_residents(
        &staff,
        &centre,
        lang.pick("居民", "Residents"),
        content,
    ))
}

fn layout_residents(
    staff: &Staff,
    centre: &pb::Centre,
    title: &str,
    content: Markup,
) -> axum::response::Response {
    super::layout(
        staff,
        Section::Residents,
        Some(centre),
        &format!("{} · {title}", centre.name),
        content,
    )
}

pub fn urlencode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

impl Staff {
    /// Whether the user writes residents and bookings (auditors only read).
    pub fn may_write(&self) -> bool {
        use linli_platform::auth::Role::*;
        [DistrictAdmin, CentreManager, FrontDesk, Coordinator]
            .iter()
            .any(|r| self.has_role(*r))
    }
}

struct ResidentValues<'a> {
    name: &'a str,
    gender: &'a str,
    date_of_birth: &'a str,
    phone: &'a str,
    national_id: &'a str,
    building: &'a str,
    unit: &'a str,
    room: &'a str,
    categories: Vec<String>,
    /// The resident of the centre this registration probably duplicates, once the
    /// registry said so; the form then asks the desk to confirm it is someone else.
    duplicate_of: Option<String>,
    confirm_not_duplicate: bool,
}

fn resident_form(
    staff: &Staff,
    centre: &pb::Centre,
    v: &ResidentValues,
    errors: &FieldErrors,
) -> Markup {
    let lang = staff.lang;
    html! {
        form.stack method="post" action=(format!("/c/{}/residents/new", centre.id)) novalidate {
            (csrf(staff))
            (general_errors(errors, &["name", "gender", "date_of_birth", "phone", "national_id", "building", "unit", "room", "categories", "confirm_not_duplicate"]))
            @if let Some(existing) = &v.duplicate_of {
                fieldset.field.invalid {
                    legend { (lang.pick("可能重复登记", "Possibly registered already")) }
                    @if let Some(e) = errors.get("confirm_not_duplicate") { span.error #f-confirm_not_duplicate-error role="alert" { (e) } }
                    p { a href=(format!("/c/{}/residents/{existing}", centre.id)) { (lang.pick("查看已登记的居民", "See the resident registered")) } }
                    label { input type="checkbox" name="confirm_not_duplicate" value="yes" checked[v.confirm_not_duplicate]; " " (lang.pick("已核实，这是另一个人，仍然登记", "Checked: this is someone else; register anyway")) }
                }
            }
            (field(lang, "name", lang.pick("姓名", "Name"), "text", v.name, errors, true))
            fieldset.field.invalid[errors.get("gender").is_some()] {
                legend { (lang.pick("性别", "Gender")) span.req aria-hidden="true" { " *" } }
                label { input type="radio" name="gender" value="male" checked[v.gender == "male"]; " " (i18n::term(lang, "male")) }
                label { input type="radio" name="gender" value="female" checked[v.gender == "female"]; " " (i18n::term(lang, "female")) }
                @if let Some(e) = errors.get("gender") { span.error #f-gender-error role="alert" { (e) } }
            }
            (field(lang, "date_of_birth", lang.pick("出生日期", "Date of birth"), "date", v.date_of_birth, errors, true))
            (field(lang, "phone", lang.pick("手机", "Mobile phone"), "tel", v.phone, errors, false))
            (field(lang, "national_id", lang.pick("身份证号", "National ID"), "text", v.national_id, errors, false))
            div.row {
                (field(lang, "building", lang.pick("楼", "Building"), "text", v.building, errors, false))
                (field(lang, "unit", lang.pick("单元", "Unit"), "text", v.unit, errors, false))
                (field(lang, "room", lang.pick("室", "Room"), "text", v.room, errors, false))
            }
            fieldset.field.invalid[errors.get("categories").is_some()] {
                legend { (lang.pick("登记类别", "Recorded categories")) }
                @for c in ["disability", "low_income", "living_alone"] {
                    label { input type="checkbox" name="categories" value=(c) checked[v.categories.iter().any(|x| x == c)]; " " (i18n::term(lang, c)) }
                }
                @if let Some(e) = errors.get("categories") { span.error role="alert" { (e) } }
            }
            button type="submit" { (lang.pick("登记", "Register")) }
        }
    }
}

pub async fn new_form(staff: Staff, Path(centre): Path<String>) -> Page {
    let centre = staff.centre(Section::Residents, &centre)?;
    if !staff.may_write() {
        return Err(Refusal::forbidden());
    }
    let values = ResidentValues {
        name: "",
        gender: "",
        date_of_birth: "",
        phone: "",
        national_id: "",
        building: "",
        unit: "",
        room: "",
        categories: Vec::new(),
        duplicate_of: None,
        confirm_not_duplicate: false,
    };
    let content = resident_form(&staff, &centre, &values, &FieldErrors::default());
    Ok(layout_residents(
        &staff,
        &centre,
        staff.lang.pick("登记新居民", "Register a resident"),
        content,
    ))
}

pub async fn create(
    State(state): State<AppState>,
    Path(centre): Path<String>,
    posted: Posted,
) -> Page {
    let staff = &posted.staff;
    let centre = staff.centre(Section::Residents, &centre)?;
    if !staff.may_write() {
        return Err(Refusal::forbidden());
    }
    let lang = staff.lang;
    let mut values = ResidentValues {
        name: posted.get("name"),
        gender: posted.get("gender"),
        date_of_birth: posted.get("date_of_birth"),
        phone: posted.get("phone"),
        national_id: posted.get("national_id"),
        building: posted.get("building"),
        unit: posted.get("unit"),
        room: posted.get("room"),
        categories: posted.all("categories"),
        duplicate_of: None,
        confirm_not_duplicate: posted.get("confirm_not_duplicate") == "yes",
    };
    // The registry checks everything again; these give the common mistakes in the user's
    // language without a round trip.
    let mut errors = FieldErrors::default();
    if values.name.is_empty() {
        errors.push("name", lang.pick("请填写姓名", "Enter the name"));
    }
    if !matches!(values.gender, "male" | "female") {
        errors.push("gender", lang.pick("请选择性别", "Choose a gender"));
    }
    match NaiveDate::parse_from_str(values.date_of_birth, "%Y-%m-%d") {
        Ok(born) if born > today(&centre) => errors.push(
            "date_of_birth",
            lang.pick("出生日期不能晚于今天", "Cannot be in the future"),
        ),
        Ok(_) => {}
        Err(_) => errors.push(
            "date_of_birth",
            lang.pick(
                "请填写出生日期，格式为 年-月-日",
                "Enter the date of birth as YYYY-MM-DD",
            ),
        ),
    }
    let mobile =
        |p: &str| p.len() == 11 && p.starts_with('1') && p.bytes().all(|b| b.is_ascii_digit());
    if !values.phone.is_empty() && !mobile(values.phone) {
        errors.push(
            "phone",
            lang.pick(
                "手机号须为 1 开头的 11 位数字",
                "A mobile number is 11 digits starting with 1",
            ),
        );
    }
    if errors.is_empty() {
        let gender = if values.gender == "male" {
            pb::Gender::Male
        } else {
            pb::Gender::Female
        };
        let created = state
            .registry
            .clone()
            .create_resident(staff.grpc(pb::CreateResidentRequest {
                centre_id: centre.id.clone(),
                name: values.name.to_owned(),
                gender: gender as i32,
                date_of_birth: values.date_of_birth.to_owned(),
                phone: (!values.phone.is_empty()).then(|| values.phone.to_owned()),
                national_id:
                    (!values.national_id.is_empty()).then(|| values.national_id.to_owned()),
                building: bare(values.building, BUILDING),
                unit: bare(values.unit, UNIT),
                room: bare(values.room, ROOM),
                categories: values.categories.clone(),
                skills: Vec::new(),
                health_note: None,
                confirm_not_duplicate: values.confirm_not_duplicate,
            }))
            .await;
        match created {
            Ok(resident) => {
                let id = resident.into_inner().id;
                return Ok(Redirect::to(&format!(
                    "/c/{}/residents/{id}?notice=registered",
                    centre.id
                ))
                .into_response());
            }
            Err(status) if is_refusal(&status) => {
                errors = FieldErrors::from_status(&status, lang);
                let refusal = linli_platform::error::refusal_of(&status);
                if let Some((_, params)) = refusal
                    .as_ref()
                    .filter(|(code, _)| code == "resident_probably_registered")
                {
                    errors = FieldErrors::default();
                    errors.push(
                        "confirm_not_duplicate",
                        lang.pick(
                            "本中心已有姓名、出生日期和手机号都相同的居民，可能是同一人。请先查看；如确为另一人，勾选下方确认后再登记。",
                            "A resident of this centre has the same name, date of birth and phone: probably the same person. Look first; if this is someone else, tick the box below and register again.",
                        ),
                    );
                    values.duplicate_of = params.get("resident_id").cloned();
                    values.confirm_not_duplicate = false;
                } else if status.code() == tonic::Code::AlreadyExists {
                    errors = FieldErrors::default();
                    errors.push(
                        "national_id",
                        lang.pick(
                            "已有居民使用此身份证号登记",
                            "A resident with this national ID is already registered",
                        ),
                    );
                }
            }
            Err(status) => return Err(status.into()),
        }
    }
    let content = resident_form(staff, &centre, &values, &errors);
    let mut response = layout_residents(
        staff,
        &centre,
        lang.pick("登记新居民", "Register a resident"),
        content,
    );
    *response.status_mut() = StatusCode::BAD_REQUEST;
    Ok(response)
}

pub async fn show(
    State(state): State<AppState>,
    staff: Staff,
    Path((centre, resident)): Path<(String, String)>,
    Query(query): Query<SearchQuery>,
) -> Page {
    let centre = staff.centre(Section::Residents, &centre)?;
    show_page(
        &state,
        &staff,
        &centre,
        &resident,
        &query,
        FieldErrors::default(),
        None,
    )
    .await
}

/// The resident's page again after a refused correction request's form, what was typed
/// kept and the errors beside it.
pub async fn show_with(
    state: &AppState,
    staff: &Staff,
    centre: &pb::Centre,
    resident: &str,
    typed: &super::corrections::Typed,
) -> Page {
    let errors = FieldErrors::default();
    let mut response = show_page(
        state,
        staff,
        centre,
        resident,
        &SearchQuery::default(),
        errors,
        Some(typed),
    )
    .await?;
    *response.status_mut() = StatusCode::BAD_REQUEST;
    Ok(response)
}

async fn show_page(
    state: &AppState,
    staff: &Staff,
    centre: &pb::Centre,
    resident: &str,
    query: &SearchQuery,
    errors: FieldErrors,
    typed: Option<&super::corrections::Typed>,
) -> Page {
    show_consenting(state, staff, centre, resident, query, errors, typed, None).await
}

/// What the desk typed into the consent form, kept through a refusal, and the residents
/// its guardian search found when it found more than one.
#[derive(Default)]
struct ConsentTyped {
    purpose: String,
    granted: String,
    source: String,
    guardian_q: String,
    guardians: Vec<pb::Resident>,
}

#[allow(clippy::too_many_arguments)]
async fn show_consenting(
    state: &AppState,
    staff: &Staff,
    centre: &pb::Centre,
    resident: &str,
    query: &SearchQuery,
    errors: FieldErrors,
    typed: Option<&super::corrections::Typed>,
    consent: Option<&ConsentTyped>,
) -> Page {
    let blank = ConsentTyped::default();
    let consent = consent.unwrap_or(&blank);
    let notice_code = query.notice.as_str();
    let lang = staff.lang;
    let r = state
        .registry
        .clone()
        .get_resident(staff.grpc(pb::GetResidentRequest {
            centre_id: centre.id.clone(),
            id: resident.to_owned(),
            national_id_purpose: String::new(),
        }))
        .await?
        .into_inner();
    let consents = state
        .registry
        .clone()
        .get_consents(staff.grpc(pb::GetConsentsRequest {
            centre_id: centre.id.clone(),
            resident_id: r.id.clone(),
        }))
        .await?
        .into_inner()
        .consents;
    let on = today(centre);
    // Bookings are the desk's: a role that may not open them sees the resident without.
    let bookings = if staff.may(Section::Bookings) {
        Some(
            super::bookings::of_resident(state, staff, centre, &r.id, notice_code, &query.promoted)
                .await?,
        )
    } else {
        None
    };
    let corrections = super::corrections::section(state, staff, centre, &r, typed).await?;
    let charges = super::payments::section(state, staff, centre, &r.id).await?;
    let content = html! {
        @if notice_code == "registered" { (notice(lang.pick("已登记。", "Registered."))) }
        @if notice_code == "consent" { (notice(lang.pick("已记录同意。", "Consent recorded."))) }
        @if notice_code == "corrected" { (notice("已按居民的申请更正，居民会看到“已处理”。")) }
        @if notice_code == "declined" { (notice("已记录不予更正及原因，居民会看到。")) }
        dl.facts #resident {
            dt { (lang.pick("姓名", "Name")) } dd { (r.name) }
            dt { (lang.pick("性别", "Gender")) } dd { (gender(lang, r.gender)) }
            dt { (lang.pick("出生日期", "Date of birth")) } dd { (super::i18n::iso_day(lang, &r.date_of_birth)) " (" (age(&r.date_of_birth, on)) (lang.pick("岁", " years")) ")" }
            dt { (lang.pick("手机", "Phone")) } dd { (r.phone.clone().unwrap_or_else(|| "—".into())) }
            dt { (lang.pick("身份证号", "National ID")) } dd { (r.national_id.clone().unwrap_or_else(|| "—".into())) }
            dt { (lang.pick("住址", "Address")) } dd { (address(lang, &r)) }
            dt { (lang.pick("类别", "Categories")) } dd { @for c in &r.categories { span.tag { (i18n::term(lang, c)) } } }
            dt { (lang.pick("状态", "Status")) } dd { (i18n::term(lang, &r.status)) " · " (super::i18n::iso_day(lang, &r.status_since)) }
            @if !r.skills.is_empty() {
                dt { (lang.pick("特长", "Skills")) } dd { @for s in &r.skills { span.tag { (s.name) } } }
            }
            @if let Some(note) = &r.health_note { dt { (lang.pick("健康备注", "Health note")) } dd { (note) } }
        }
        // What the resident asked to have corrected, beside what is recorded.
        (corrections)
        p { a href=(format!("/c/{}/bookings?resident={}", centre.id, r.id)) { (lang.pick("为此居民预约服务 →", "Book a service for this resident →")) } }
        @if let Some(bookings) = bookings { (bookings) }
        (charges)
        @if super::export::may_export(staff) {
            section {
                h2 { (lang.pick("个人信息副本", "Copy of personal data")) }
                (super::export::purpose_form(lang, &centre.id, &r.id, &FieldErrors::default()))
            }
        }
        (super::erase::action(staff, &centre.id, &r.id))
        section {
            h2 { (lang.pick("个人信息使用同意", "Consents")) }
            table #consents {
                thead { tr { th { (lang.pick("用途", "Purpose")) } th { (lang.pick("同意", "Granted")) } th { (lang.pick("方式", "How")) } th { (lang.pick("记录人", "Recorded by")) } } }
                tbody {
                    @for c in &consents {
                        tr {
                            td { (i18n::term(lang, &c.purpose)) }
                            td { @if c.granted { (lang.pick("同意", "yes")) } @else { (lang.pick("撤回", "withdrawn")) } }
                            td { (i18n::term(lang, &c.source)) }
                            td { (c.recorded_by) }
                        }
                    }
                    @if consents.is_empty() { tr { td colspan="4" { (lang.pick("尚无记录。", "None recorded.")) } } }
                }
            }
            @if staff.may_write() {
                form.inline method="post" action=(format!("/c/{}/residents/{}/consents", centre.id, r.id)) novalidate {
                    (csrf(staff))
                    @if !errors.is_empty() { span hidden data-page-url=(format!("/c/{}/residents/{}#consents", centre.id, r.id)) {} }
                    (general_errors(&errors, &["purpose", "source", "guardian_id", "guardian_q"]))
                    div.field.invalid[errors.get("purpose").is_some()] {
                        label for="purpose" { (lang.pick("用途", "Purpose")) }
                        select #purpose name="purpose" {
                            option value="" { "—" }
                            @for p in ["service_delivery", "activity_contact", "partner_sharing"] { option value=(p) selected[consent.purpose == p] { (i18n::term(lang, p)) } }
                        }
                        @if let Some(e) = errors.get("purpose") { span.error role="alert" { (e) } }
                    }
                    div.field {
                        label for="granted" { (lang.pick("决定", "Decision")) }
                        select #granted name="granted" {
                            option value="true" { (lang.pick("同意", "grant")) }
                            option value="false" selected[consent.granted == "false"] { (lang.pick("撤回", "withdraw")) }
                        }
                    }
                    div.field.invalid[errors.get("source").is_some()] {
                        label for="source" { (lang.pick("方式", "How")) }
                        select #source name="source" {
                            @for s in ["paper_form", "in_person", "phone", "online"] { option value=(s) selected[consent.source == s] { (i18n::term(lang, s)) } }
                        }
                        @if let Some(e) = errors.get("source") { span.error role="alert" { (e) } }
                    }
                    // The guardian found by name or pinyin initials, never typed as an id.
                    @let guardian_error = errors.get("guardian_q").or(errors.get("guardian_id"));
                    div.field.invalid[guardian_error.is_some()] {
                        label for="f-guardian_q" { (lang.pick("监护人（未满14岁时填写）：姓名或拼音首字母", "Guardian (under 14s): name or pinyin initials")) }
                        input #f-guardian_q type="search" name="guardian_q" value=(consent.guardian_q) placeholder=(lang.pick("如：王建国 或 wjg", "e.g. 王建国 or wjg"))
                            aria-invalid=[guardian_error.map(|_| "true")] aria-describedby=[guardian_error.map(|_| "f-guardian_q-error")];
                        @if let Some(e) = guardian_error { span.error #f-guardian_q-error role="alert" { (e) } }
                    }
                    @if !consent.guardians.is_empty() {
                        fieldset.field #guardians {
                            legend { (lang.pick("请选择监护人", "Choose the guardian")) }
                            @for g in &consent.guardians {
                                label {
                                    input type="radio" name="guardian_id" value=(g.id);
                                    " " (g.name) " · " (age(&g.date_of_birth, on)) (lang.pick("岁", " years"))
                                    @let at = address(lang, g);
                                    @if !at.is_empty() { " · " (at) }
                                    @if let Some(p) = &g.phone { " · " (p) }
                                }
                            }
                        }
                    }
                    button type="submit" { (lang.pick("记录", "Record")) }
                }
            }
        }
    };
    let mut response = super::layout(
        staff,
        Section::Residents,
        Some(centre),
        &format!("{} · {}", centre.name, r.name),
        content,
    );
    if !errors.is_empty() {
        *response.status_mut() = StatusCode::BAD_REQUEST;
    }
    Ok(response)
}

pub async fn consent(
    State(state): State<AppState>,
    Path((centre, resident)): Path<(String, String)>,
    posted: Posted,
) -> Page {
    let staff = &posted.staff;
    let centre = staff.centre(Section::Residents, &centre)?;
    let lang = staff.lang;
    let mut typed = ConsentTyped {
        purpose: posted.get("purpose").to_owned(),
        granted: posted.get("granted").to_owned(),
        source: posted.get("source").to_owned(),
        guardian_q: posted.get("guardian_q").to_owned(),
        guardians: Vec::new(),
    };
    let mut errors = FieldErrors::default();
    if typed.purpose.is_empty() {
        errors.push("purpose", lang.pick("请选择用途", "Choose a purpose"));
    }
    // The guardian: the one chosen from a search's list, else the one the search finds.
    let mut guardian = posted.get("guardian_id").to_owned();
    if errors.is_empty() && guardian.is_empty() && !typed.guardian_q.is_empty() {
        let found = state
            .registry
            .clone()
            .list_residents(staff.grpc(pb::ListResidentsRequest {
                centre_id: centre.id.clone(),
                page_size: 20,
                q: typed.guardian_q.clone(),
                ..Default::default()
            }))
            .await;
        let found: Vec<pb::Resident> = match found {
            Ok(found) => found.into_inner().residents,
            Err(status) if is_refusal(&status) => {
                for (_, message) in FieldErrors::from_status(&status, lang).0 {
                    errors.push("guardian_q", message);
                }
                Vec::new()
            }
            Err(status) => return Err(status.into()),
        }
        .into_iter()
        .filter(|r| r.id != resident)
        .collect();
        match found.len() {
            _ if !errors.is_empty() => {}
            0 => errors.push(
                "guardian_q",
                lang.pick(
                    "没有找到这位居民，请换个写法再找",
                    "No resident found; try another spelling",
                ),
            ),
            1 => guardian = found[0].id.clone(),
            _ => {
                errors.push(
                    "guardian_q",
                    lang.pick(
                        "找到多位居民，请在下面选择一位",
                        "Several residents found; choose one below",
                    ),
                );
                typed.guardians = found;
            }
        }
    }
    if errors.is_empty() {
        let recorded = state
            .registry
            .clone()
            .record_consent(staff.grpc(pb::RecordConsentRequest {
                centre_id: centre.id.clone(),
                resident_id: resident.clone(),
                purpose: typed.purpose.clone(),
                granted: typed.granted != "false",
                source: typed.source.clone(),
                guardian_id: guardian,
                ..Default::default()
            }))
            .await;
        match recorded {
            Ok(_) => {
                return Ok(Redirect::to(&format!(
                    "/c/{}/residents/{resident}?notice=consent",
                    centre.id
                ))
                .into_response());
            }
            Err(status) if is_refusal(&status) => errors = FieldErrors::from_status(&status, lang),
            Err(status) => return Err(status.into()),
        }
    }
    show_consenting(
        &state,
        staff,
        &centre,
        &resident,
        &SearchQuery::default(),
        errors,
        None,
        Some(&typed),
    )
    .await
}

fn import_page(
    staff: &Staff,
    centre: &pb::Centre,
    csv_text: &str,
    errors: &FieldErrors,
    report: Option<&pb::ImportResidentsReport>,
) -> Markup {
    let lang = staff.lang;
    html! {
        p { (lang.pick("第一行为表头：姓名,性别,出生日期,手机,身份证号。已登记的行会跳过，重复导入不会重复登记。",
            "The first row names the columns: 姓名,性别,出生日期,手机,身份证号 (or name,gender,date_of_birth,phone,national_id). Rows already registered are skipped, so importing twice adds nothing.")) }
        form.stack method="post" action=(format!("/c/{}/residents/import", centre.id)) novalidate {
            (csrf(staff))
            (general_errors(errors, &["file", "encoding"]))
            div.field {
                label for="pick" { (lang.pick("选择 CSV 文件（UTF-8）", "Choose a CSV file (UTF-8)")) }
                input #pick type="file" accept=".csv,text/csv" data-fill="f-file";
            }
            div.field.invalid[errors.get("file").is_some()] {
                label for="f-file" { (lang.pick("或粘贴表格内容", "or paste the sheet")) }
                textarea #f-file name="file" rows="10" aria-invalid=[errors.get("file").map(|_| "true")] { (csv_text) }
                @if let Some(e) = errors.get("file") { span.error role="alert" { (e) } }
            }
            button type="submit" { (lang.pick("导入", "Import")) }
        }
        @if let Some(report) = report {
            section #import-report {
                h2 { (lang.pick("导入结果", "Import report")) }
                p { (lang.pick("共", "Rows: ")) (report.rows) (lang.pick(" 行，新登记 ", "; registered: ")) strong { (report.imported) }
                    (lang.pick(" 人，已登记跳过 ", "; already registered: ")) (report.already_registered.len()) (lang.pick(" 行，有误 ", "; with errors: ")) (report.errors.len()) }
                @if !report.errors.is_empty() {
                    table {
                        thead { tr { th { (lang.pick("行", "Row")) } th { (lang.pick("字段", "Field")) } th { (lang.pick("原因", "Reason")) } } }
                        tbody { @for e in &report.errors { tr { td.num { (e.row) } td { (import_field(lang, &e.field)) } td { (crate::catalogue::said(lang, &e.code, &e.params.iter().map(|(k, v)| (k.clone(), v.clone())).collect(), &e.reason)) } } } }
                    }
                }
            }
        }
    }
}

/// A column the import report names, as the sheet's heading says it.
fn import_field(lang: Lang, field: &str) -> String {
    let (zh, en) = match field {
        "name" => ("姓名", "name"),
        "gender" => ("性别", "gender"),
        "date_of_birth" => ("出生日期", "date of birth"),
        "phone" => ("手机", "phone"),
        "national_id" => ("身份证号", "national ID"),
        "building" => ("楼", "building"),
        "unit" => ("单元", "unit"),
        "room" => ("室", "room"),
        "categories" => ("类别", "categories"),
        _ => ("其他", "other"),
    };
    lang.pick(zh, en).to_owned()
}

pub async fn import(
    State(state): State<AppState>,
    Path(centre): Path<String>,
    posted: Posted,
) -> Page {
    let staff = &posted.staff;
    let centre = staff.centre(Section::Residents, &centre)?;
    if !staff.may_write() {
        return Err(Refusal::forbidden());
    }
    let lang = staff.lang;
    let text = posted.get("file").to_owned();
    let mut errors = FieldErrors::default();
    let mut report = None;
    if text.lines().filter(|l| !l.trim().is_empty()).count() < 2 {
        errors.push(
            "file",
            lang.pick(
                "请提供表头和至少一行居民",
                "Give a heading row and at least one resident",
            ),
        );
    } else {
        let imported = state
            .registry
            .clone()
            .import_residents(staff.auth.grpc_within(
                pb::ImportResidentsRequest {
                    centre_id: centre.id.clone(),
                    file: text.clone().into_bytes(),
                    encoding: "utf-8".into(),
                    mapping: Default::default(),
                },
                std::time::Duration::from_secs(120),
            ))
            .await;
        match imported {
            Ok(done) => report = Some(done.into_inner()),
            Err(status) if is_refusal(&status) => errors = FieldErrors::from_status(&status, lang),
            Err(status) => return Err(status.into()),
        }
    }
    let content = import_page(staff, &centre, &text, &errors, report.as_ref());
    let mut response = layout_residents(
        staff,
        &centre,
        lang.pick("导入表格", "Import a spreadsheet"),
        content,
    );
    if !errors.is_empty() {
        *response.status_mut() = StatusCode::BAD_REQUEST;
    }
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_address_names_each_part_once_however_it_was_typed() {
        let resident = |building: &str, unit: &str, room: &str| pb::Resident {
            building: building.into(),
            unit: unit.into(),
            room: room.into(),
            ..Default::default()
        };
        for (b, u, r) in [
            ("1号楼", "3单元", "403室"),
            ("1", "3", "403"),
            (" 1 号楼", "3 单元", "403"),
            ("1栋", "3单元", "403号"),
        ] {
            assert_eq!(address(Lang::Zh, &resident(b, u, r)), "1号楼3单元403室");
        }
        assert_eq!(
            address(Lang::En, &resident("1号楼", "3单元", "403室")),
            "Bldg 1, Unit 3, Room 403"
        );
        assert_eq!(address(Lang::Zh, &resident("", "", "")), "");
        assert_eq!(bare("3号楼", BUILDING), "3");
    }
}
