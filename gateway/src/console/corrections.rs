//! The desk's side of a resident's correction requests (asked on the residents' site): on
//! the resident's page, what they asked for in their own words; a correction form over the
//! fields they named, pre-filled with the value their words state plainly (a mobile number,
//! an ID number, a date, an address, a name after 应为/改为) or else with what is recorded,
//! which changes only what differs from the record; then 已更正 (closed as applied) or 不予更正
//! with a reason the resident reads on their site.

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect};
use chrono::NaiveDate;
use linli_platform::auth::Role;
use linli_proto::registry::v1 as pb;
use maud::{Markup, html};

use super::residents::{address_of, bare};
use super::{FieldErrors, Lang, Page, Posted, Refusal, Section, Staff, csrf, i18n, is_refusal};
use crate::AppState;

/// What the desk typed into one request's forms, kept through a refusal.
pub struct Typed {
    pub request: String,
    pub fields: Vec<(String, String)>,
    pub errors: FieldErrors,
}

impl Typed {
    fn get(&self, name: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.trim())
    }

    fn all(&self, name: &str) -> Vec<String> {
        self.fields
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .collect()
    }
}

/// The requested field's words.
pub fn field_words(field: &str) -> &'static str {
    match field {
        "name" => "姓名",
        "gender" => "性别",
        "date_of_birth" => "出生日期",
        "phone" => "手机号",
        "national_id" => "身份证号",
        "address" => "住址",
        "categories" => "登记类别",
        _ => "其他信息",
    }
}

/// Whether the user reads the resident's words and closes requests (as the registry
/// decides: the front desk and the manager).
fn handles(staff: &Staff) -> bool {
    staff.has_role(Role::FrontDesk) || staff.has_role(Role::CentreManager)
}

/// Runs of ASCII digits in `text` (an ID's final X kept), with what follows each.
fn digit_runs(text: &str) -> Vec<(String, String)> {
    let chars: Vec<char> = text.chars().collect();
    let mut runs = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        if chars[i].is_ascii_digit() {
            let start = i;
            while i < chars.len() && chars[i].is_ascii_digit() {
                i += 1;
            }
            if i - start == 17 && i < chars.len() && matches!(chars[i], 'X' | 'x') {
                i += 1;
            }
            let run: String = chars[start..i].iter().collect();
            let after: String = chars[i..].iter().take(2).collect();
            runs.push((run.to_uppercase(), after));
        } else {
            i += 1;
        }
    }
    runs
}

/// The value a resident's words state plainly for `field`, if they do.
pub fn wished(field: &str, words: &str) -> Option<String> {
    let runs = digit_runs(words);
    match field {
        "phone" => runs
            .iter()
            .find(|(r, _)| r.len() == 11 && r.starts_with('1'))
            .map(|(r, _)| r.clone()),
        "national_id" => runs
            .iter()
            .find(|(r, _)| r.len() == 18)
            .map(|(r, _)| r.clone()),
        "date_of_birth" => runs.windows(3).find_map(|w| {
            let [(y, a), (m, b), (d, _)] = w else {
                return None;
            };
            let sep = |s: &str| s.starts_with(['-', '/', '.', '年', '月']);
            if y.len() != 4 || !sep(a) || !sep(b) {
                return None;
            }
            NaiveDate::from_ymd_opt(y.parse().ok()?, m.parse().ok()?, d.parse().ok()?)
                .map(|day| day.format("%Y-%m-%d").to_string())
        }),
        "name" => {
            let at = ["应为", "改为", "应该是", "改成", "是"]
                .iter()
                .find_map(|m| words.find(m).map(|i| i + m.len()))?;
            let name: String = words[at..]
                .trim_start_matches([' ', '：', ':', '“', '"', '「'])
                .chars()
                .take_while(|c| ('\u{4e00}'..='\u{9fff}').contains(c) || *c == '·')
                .collect();
            (2..=6).contains(&name.chars().count()).then_some(name)
        }
        "gender" => {
            let male = ["应为男", "改为男", "是男"]
                .iter()
                .any(|m| words.contains(m));
            let female = ["应为女", "改为女", "是女"]
                .iter()
                .any(|m| words.contains(m));
            match (male, female) {
                (true, false) => Some("male".into()),
                (false, true) => Some("female".into()),
                _ => None,
            }
        }
        "building" | "unit" | "room" => {
            let suffixes: &[&str] = match field {
                "building" => &["号楼", "栋", "幢"],
                "unit" => &["单元"],
                _ => &["室", "房"],
            };
            runs.iter()
                .find(|(_, after)| suffixes.iter().any(|s| after.starts_with(s)))
                .map(|(r, _)| r.clone())
        }
        _ => None,
    }
}

const RECORDED: [&str; 3] = ["disability", "low_income", "living_alone"];

/// One input of a request's correction form, with its error beside it.
fn input(
    prefix: &str,
    name: &str,
    label: &str,
    kind: &str,
    value: &str,
    errors: &FieldErrors,
) -> Markup {
    let id = format!("{prefix}-{name}");
    let error = errors.get(name);
    html! {
        div.field.invalid[error.is_some()] {
            label for=(id) { (label) }
            input #(id) type=(kind) name=(name) value=(value)
                aria-invalid=[error.map(|_| "true")] aria-describedby=[error.map(|_| format!("{id}-error"))];
            @if let Some(message) = error { span.error #(format!("{id}-error")) role="alert" { (message) } }
        }
    }
}

/// The section 更正申请 of a resident's page: their requests (open ones first, with the
/// forms for those who handle them), or nothing when there are none or the role may not
/// list them.
pub async fn section(
    state: &AppState,
    staff: &Staff,
    centre: &pb::Centre,
    r: &pb::Resident,
    typed: Option<&Typed>,
) -> Result<Markup, Refusal> {
    let listed = state
        .registry
        .clone()
        .list_correction_requests(staff.grpc(pb::ListCorrectionRequestsRequest {
            centre_id: centre.id.clone(),
            resident_id: r.id.clone(),
        }))
        .await;
    let requests = match listed {
        Ok(list) => list.into_inner().requests,
        Err(status) if status.code() == tonic::Code::PermissionDenied => return Ok(html! {}),
        Err(status) => return Err(status.into()),
    };
    if requests.is_empty() {
        return Ok(html! {});
    }
    let lang = staff.lang;
    let tz = super::zone(centre);
    let (open, closed): (Vec<_>, Vec<_>) = requests.iter().partition(|c| c.status == "open");
    let base = format!("/c/{}/residents/{}/corrections", centre.id, r.id);
    Ok(html! {
        section #corrections aria-labelledby="corrections-h" {
            // After a refused form the page shows its own address, not the POST's.
            @if typed.is_some() { span hidden data-page-url=(format!("/c/{}/residents/{}#corrections", centre.id, r.id)) {} }
            h2 #corrections-h { "更正申请" }
            @if open.is_empty() { p { "居民的更正申请都已处理。" } }
            @for (n, c) in open.iter().enumerate() {
                @let prefix = format!("c{}", n + 1);
                @let mine = typed.filter(|t| t.request == c.id);
                @let none = FieldErrors::default();
                @let errors = mine.map(|t| &t.errors).unwrap_or(&none);
                article.correction {
                    p.label {
                        span.tag { "待处理" }
                        " 居民申请更正："
                        strong { (c.fields.iter().map(|f| field_words(f)).collect::<Vec<_>>().join("、")) }
                        @if let Some(at) = super::instant(&c.requested_at) { " · " (super::when(lang, at, tz)) }
                    }
                    @if c.details_hidden {
                        p.muted { "居民的原话仅前台和中心主任可以查看。" }
                    } @else {
                        blockquote.words { "居民原话：" (c.details) }
                    }
                    @if handles(staff) {
                        (super::general_errors(errors, &["name", "gender", "date_of_birth", "phone", "national_id", "building", "unit", "room", "categories", "reason"]))
                        form.stack method="post" action=(format!("{base}/{}", c.id)) novalidate {
                            (csrf(staff))
                            p.hint { "已按居民所说填好，请核对后修改；只更改与登记不同的内容。" }
                            (form_fields(&prefix, c, r, mine, errors))
                            @let reason_id = format!("{prefix}-reason");
                            @let error = errors.get("reason");
                            div.field.invalid[error.is_some()] {
                                label for=(reason_id) { "不予更正时，请写明原因（居民会看到）" }
                                textarea #(reason_id) name="reason" rows="2"
                                    aria-invalid=[error.map(|_| "true")] aria-describedby=[error.map(|_| format!("{reason_id}-error"))] {
                                    (mine.and_then(|t| t.get("reason")).unwrap_or(""))
                                }
                                @if let Some(message) = error { span.error #(format!("{reason_id}-error")) role="alert" { (message) } }
                            }
                            div.actions {
                                button type="submit" name="outcome" value="applied" { "已更正" }
                                " "
                                button.secondary type="submit" name="outcome" value="declined" { "不予更正" }
                            }
                        }
                    }
                }
            }
            @if !closed.is_empty() {
                table #corrections-closed {
                    thead { tr { th { "申请时间" } th { "更正内容" } th { "结果" } th { "处理时间" } } }
                    tbody {
                        @for c in &closed {
                            tr {
                                td { (super::instant(&c.requested_at).map(|at| super::when(lang, at, tz)).unwrap_or_default()) }
                                td { (c.fields.iter().map(|f| field_words(f)).collect::<Vec<_>>().join("、")) }
                                td {
                                    @if c.status == "declined" { "未予更正：" (c.decline_reason) } @else { "已更正" }
                                }
                                td { (super::instant(&c.closed_at).map(|at| super::when(lang, at, tz)).unwrap_or_default()) }
                            }
                        }
                    }
                }
            }
        }
    })
}

/// The inputs for the fields a request names: what the desk typed, else what the words
/// state, else what is recorded.
fn form_fields(
    prefix: &str,
    c: &pb::CorrectionRequest,
    r: &pb::Resident,
    typed: Option<&Typed>,
    errors: &FieldErrors,
) -> Markup {
    let value = |name: &str, recorded: &str| -> String {
        if let Some(v) = typed.and_then(|t| t.get(name)) {
            return v.to_owned();
        }
        wished(name, &c.details).unwrap_or_else(|| recorded.to_owned())
    };
    let gender = value(
        "gender",
        match pb::Gender::try_from(r.gender) {
            Ok(pb::Gender::Male) => "male",
            Ok(pb::Gender::Female) => "female",
            _ => "",
        },
    );
    let recorded: Vec<String> = r
        .categories
        .iter()
        .filter(|x| RECORDED.contains(&x.as_str()))
        .cloned()
        .collect();
    let categories = typed.map(|t| t.all("categories")).unwrap_or(recorded);
    let asked = |f: &str| c.fields.iter().any(|x| x == f);
    html! {
        @if asked("name") { (input(prefix, "name", "姓名", "text", &value("name", &r.name), errors)) }
        @if asked("gender") {
            fieldset.field.invalid[errors.get("gender").is_some()] {
                legend { "性别" }
                label { input type="radio" name="gender" value="male" checked[gender == "male"]; " 男" }
                label { input type="radio" name="gender" value="female" checked[gender == "female"]; " 女" }
                @if let Some(e) = errors.get("gender") { span.error role="alert" { (e) } }
            }
        }
        @if asked("date_of_birth") { (input(prefix, "date_of_birth", "出生日期", "date", &value("date_of_birth", &r.date_of_birth), errors)) }
        @if asked("phone") { (input(prefix, "phone", "手机号", "tel", &value("phone", r.phone.as_deref().unwrap_or("")), errors)) }
        @if asked("national_id") {
            (input(prefix, "national_id", "身份证号（不改请留空）", "text", &value("national_id", ""), errors))
        }
        @if asked("address") {
            @let recorded = address_of(Lang::Zh, &r.building, &r.unit, &r.room);
            p.hint { "现登记住址：" (if recorded.is_empty() { "未登记".to_owned() } else { recorded }) }
            div.row {
                (input(prefix, "building", "楼", "text", &value("building", &bare(&r.building, &["号楼", "栋", "幢", "楼", "号"])), errors))
                (input(prefix, "unit", "单元", "text", &value("unit", &bare(&r.unit, &["单元"])), errors))
                (input(prefix, "room", "室", "text", &value("room", &bare(&r.room, &["室", "号", "房"])), errors))
            }
        }
        @if asked("categories") {
            fieldset.field.invalid[errors.get("categories").is_some()] {
                legend { "登记类别" }
                @for k in RECORDED {
                    label { input type="checkbox" name="categories" value=(k) checked[categories.iter().any(|x| x == k)]; " " (i18n::term(Lang::Zh, k)) }
                }
                @if let Some(e) = errors.get("categories") { span.error role="alert" { (e) } }
            }
        }
        @if asked("other") { p.hint { "“其他信息”请按居民原话在相应栏目中更正。" } }
    }
}

/// The request `id` of the resident, as the registry lists it for the user.
async fn request_of(
    state: &AppState,
    staff: &Staff,
    centre: &pb::Centre,
    resident: &str,
    id: &str,
) -> Result<pb::CorrectionRequest, Refusal> {
    state
        .registry
        .clone()
        .list_correction_requests(staff.grpc(pb::ListCorrectionRequestsRequest {
            centre_id: centre.id.clone(),
            resident_id: resident.to_owned(),
        }))
        .await?
        .into_inner()
        .requests
        .into_iter()
        .find(|c| c.id == id)
        .ok_or_else(Refusal::not_found)
}

/// The change the form asks for: the fields whose typed value differs from the record.
fn change(
    c: &pb::CorrectionRequest,
    r: &pb::Resident,
    posted: &Posted,
) -> (pb::CreateResidentRequest, Vec<String>) {
    let mut to = pb::CreateResidentRequest {
        centre_id: r.centre_id.clone(),
        ..Default::default()
    };
    let mut mask = Vec::new();
    let asked = |f: &str| c.fields.iter().any(|x| x == f);
    if asked("name") && !posted.get("name").is_empty() && posted.get("name") != r.name {
        to.name = posted.get("name").to_owned();
        mask.push("name".to_owned());
    }
    if asked("gender") {
        let gender = match posted.get("gender") {
            "male" => Some(pb::Gender::Male),
            "female" => Some(pb::Gender::Female),
            _ => None,
        };
        if let Some(g) = gender.filter(|g| *g as i32 != r.gender) {
            to.gender = g as i32;
            mask.push("gender".into());
        }
    }
    if asked("date_of_birth")
        && !posted.get("date_of_birth").is_empty()
        && posted.get("date_of_birth") != r.date_of_birth
    {
        to.date_of_birth = posted.get("date_of_birth").to_owned();
        mask.push("date_of_birth".into());
    }
    if asked("phone") && posted.get("phone") != r.phone.as_deref().unwrap_or("") {
        to.phone = Some(posted.get("phone").to_owned());
        mask.push("phone".into());
    }
    if asked("national_id") && !posted.get("national_id").is_empty() {
        to.national_id = Some(posted.get("national_id").to_uppercase());
        mask.push("national_id".into());
    }
    if asked("address") {
        let parts = [
            (
                "building",
                &r.building,
                &["号楼", "栋", "幢", "楼", "号"][..],
            ),
            ("unit", &r.unit, &["单元"][..]),
            ("room", &r.room, &["室", "号", "房"][..]),
        ];
        for (name, recorded, words) in parts {
            let typed = bare(posted.get(name), words);
            if typed != bare(recorded, words) {
                match name {
                    "building" => to.building = typed,
                    "unit" => to.unit = typed,
                    _ => to.room = typed,
                }
                mask.push(name.into());
            }
        }
    }
    if asked("categories") {
        let mut typed = posted.all("categories");
        typed.sort();
        let mut recorded: Vec<String> = r
            .categories
            .iter()
            .filter(|x| RECORDED.contains(&x.as_str()))
            .cloned()
            .collect();
        recorded.sort();
        if typed != recorded {
            to.categories = typed;
            mask.push("categories".into());
        }
    }
    (to, mask)
}

async fn close(
    state: &AppState,
    staff: &Staff,
    centre: &pb::Centre,
    request: &str,
    outcome: &str,
    reason: &str,
) -> Result<(), tonic::Status> {
    state
        .registry
        .clone()
        .close_correction_request(staff.grpc(pb::CloseCorrectionRequestRequest {
            centre_id: centre.id.clone(),
            request_id: request.to_owned(),
            outcome: outcome.into(),
            reason: reason.to_owned(),
        }))
        .await
        .map(|_| ())
}

/// The form's two buttons: 已更正 sends the typed changes through the registry's ordinary
/// correction, then closes the request as applied; 不予更正 closes it as declined, with the
/// reason the resident reads.
pub async fn close_form(
    State(state): State<AppState>,
    Path((centre, resident, request)): Path<(String, String, String)>,
    posted: Posted,
) -> Page {
    let staff = &posted.staff;
    let centre = staff.centre(Section::Residents, &centre)?;
    if !handles(staff) {
        return Err(Refusal::forbidden());
    }
    let c = request_of(&state, staff, &centre, &resident, &request).await?;
    if posted.get("outcome") == "declined" {
        if posted.get("reason").is_empty() {
            let mut errors = FieldErrors::default();
            errors.push("reason", "请写明不予更正的原因，居民会看到");
            return again(&state, staff, &centre, &resident, &c.id, &posted, errors).await;
        }
        let result = close(
            &state,
            staff,
            &centre,
            &c.id,
            "declined",
            posted.get("reason"),
        )
        .await;
        return after(
            &state, staff, &centre, &resident, &c.id, &posted, result, "declined",
        )
        .await;
    }
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
    let (to, mask) = change(&c, &r, &posted);
    let mut result = Ok(());
    if !mask.is_empty() {
        result = state
            .registry
            .clone()
            .update_resident(staff.grpc(pb::UpdateResidentRequest {
                id: r.id.clone(),
                resident: Some(to),
                update_mask: Some(prost_types::FieldMask { paths: mask }),
            }))
            .await
            .map(|_| ());
    }
    if result.is_ok() {
        result = close(&state, staff, &centre, &c.id, "applied", "").await;
    }
    after(
        &state,
        staff,
        &centre,
        &resident,
        &c.id,
        &posted,
        result,
        "corrected",
    )
    .await
}

#[allow(clippy::too_many_arguments)]
async fn after(
    state: &AppState,
    staff: &Staff,
    centre: &pb::Centre,
    resident: &str,
    request: &str,
    posted: &Posted,
    result: Result<(), tonic::Status>,
    notice: &str,
) -> Page {
    match result {
        Ok(()) => Ok(Redirect::to(&format!(
            "/c/{}/residents/{resident}?notice={notice}#corrections",
            centre.id
        ))
        .into_response()),
        Err(status) if is_refusal(&status) => {
            let errors = FieldErrors::from_status(&status, staff.lang);
            again(state, staff, centre, resident, request, posted, errors).await
        }
        Err(status) => Err(status.into()),
    }
}

async fn again(
    state: &AppState,
    staff: &Staff,
    centre: &pb::Centre,
    resident: &str,
    request: &str,
    posted: &Posted,
    errors: FieldErrors,
) -> Page {
    let typed = Typed {
        request: request.to_owned(),
        fields: posted.fields.clone(),
        errors,
    };
    super::residents::show_with(state, staff, centre, resident, &typed).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_value_the_words_state_plainly_fills_the_form() {
        let words = "我的手机号应为13912345678，住址是3号楼2单元501室，出生日期1950年3月8日";
        assert_eq!(wished("phone", words).as_deref(), Some("13912345678"));
        assert_eq!(wished("building", words).as_deref(), Some("3"));
        assert_eq!(wished("unit", words).as_deref(), Some("2"));
        assert_eq!(wished("room", words).as_deref(), Some("501"));
        assert_eq!(
            wished("date_of_birth", words).as_deref(),
            Some("1950-03-08")
        );
        assert_eq!(
            wished("national_id", "身份证号应为11010519491231002x").as_deref(),
            Some("11010519491231002X")
        );
        assert_eq!(
            wished("name", "名字应为王秀英，不是王秀音").as_deref(),
            Some("王秀英")
        );
        assert_eq!(wished("gender", "性别应为女").as_deref(), Some("female"));
        // Words that state nothing plainly leave the record's value.
        assert_eq!(wished("phone", "号码换了，请打电话问我"), None);
        assert_eq!(wished("name", "名字写错了"), None);
    }
}
