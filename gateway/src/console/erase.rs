//! Erasing a resident's personal data (PIPL erasure) from the console: the centre manager
//! (or the district admin, the registry's other eraser) opens 删除个人信息 on the
//! resident's page, reads what will happen in plain words, gives a reason, and confirms.
//! The registry erases its record and publishes registry.resident.erased, on which every
//! other service forgets its copy; afterwards the resident list says it is done.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use linli_platform::auth::Role;
use linli_proto::registry::v1 as pb;
use maud::{Markup, html};

use super::{FieldErrors, Page, Posted, Refusal, Section, Staff, csrf, is_refusal};
use crate::AppState;

/// Whether the user's role may erase a resident (the registry's ERASERS).
pub fn may_erase(staff: &Staff) -> bool {
    staff.has_role(Role::CentreManager) || staff.has_role(Role::DistrictAdmin)
}

/// The action on the resident's page.
pub fn action(staff: &Staff, centre: &str, resident: &str) -> Markup {
    let lang = staff.lang;
    html! {
        @if may_erase(staff) {
            section #erase-action {
                h2 { (lang.pick("删除个人信息", "Erase personal data")) }
                p.muted { (lang.pick("居民本人要求删除、且中心不再为其服务时使用。删除后无法恢复。",
                    "When the resident asks for it and the centre no longer serves them. It cannot be undone.")) }
                a.button.secondary href=(format!("/c/{centre}/residents/{resident}/erase")) { (lang.pick("删除个人信息…", "Erase personal data…")) }
            }
        }
    }
}

fn confirm_form(
    staff: &Staff,
    centre: &pb::Centre,
    resident: &pb::Resident,
    reason: &str,
    errors: &FieldErrors,
) -> Markup {
    let lang = staff.lang;
    let error = errors.get("reason");
    let back = format!("/c/{}/residents/{}", centre.id, resident.id);
    html! {
        section #erase-confirm {
            p.warning role="note" {
                strong { (lang.pick("将永久删除居民「", "This permanently erases the personal data of ")) (resident.name) (lang.pick("」的个人信息，删除后无法恢复。", ". It cannot be undone.")) }
            }
            h2 { (lang.pick("删除后会怎样", "What happens")) }
            ul {
                li { (lang.pick("姓名、手机号、身份证号、住址、健康备注和类别被删除；出生日期只保留年份。",
                    "Name, phone, national ID, address, health note and categories are erased; only the year of birth stays.")) }
                li { (lang.pick("名单、预约、志愿服务、捐赠等所有页面上不再出现该居民的姓名，只显示“（已删除）”。",
                    "The name no longer appears on any page (lists, bookings, volunteering, donations): it reads “(erased)”.")) }
                li { (lang.pick("今后已预约的活动全部取消，名额让给候补的居民。",
                    "Future bookings are cancelled and their places go to the waitlist.")) }
                li { (lang.pick("已发生的签到、服务时长和账目只作为不记名的数字保留，用于统计。",
                    "Past attendance, hours and accounts stay only as anonymous figures for the statistics.")) }
            }
            p { (lang.pick("如果居民只是想要一份自己的信息，请用页面上的“个人信息副本”，不要删除。",
                "If the resident only wants a copy of their data, use “Copy of personal data” instead.")) }
            @if let Some(e) = errors.get("general") { p.error.general role="alert" { (e) } }
            form.stack method="post" action=(format!("/c/{}/residents/{}/erase", centre.id, resident.id)) novalidate {
                (csrf(staff))
                div.field.invalid[error.is_some()] {
                    label for="f-reason" { (lang.pick("删除原因（记入记录，3 至 200 字）", "Reason (kept on record, 3 to 200 characters)")) span.req aria-hidden="true" { " *" } }
                    input #f-reason type="text" name="reason" value=(reason) required
                        placeholder=(lang.pick("如：居民本人 12 月 5 日书面申请", "e.g. the resident's written request of 5 December"))
                        aria-invalid=[error.map(|_| "true")] aria-describedby=[error.map(|_| "f-reason-error")];
                    @if let Some(e) = error { span.error #f-reason-error role="alert" { (e) } }
                }
                div.row {
                    button.danger type="submit" { (lang.pick("确认删除", "Erase")) }
                    a.button.secondary href=(back) { (lang.pick("不删除，返回", "Do not erase; go back")) }
                }
            }
        }
    }
}

async fn resident(
    state: &AppState,
    staff: &Staff,
    centre: &pb::Centre,
    id: &str,
) -> Result<pb::Resident, Refusal> {
    Ok(state
        .registry
        .clone()
        .get_resident(staff.grpc(pb::GetResidentRequest {
            centre_id: centre.id.clone(),
            id: id.to_owned(),
            national_id_purpose: String::new(),
        }))
        .await?
        .into_inner())
}

fn page_of(
    staff: &Staff,
    centre: &pb::Centre,
    r: &pb::Resident,
    reason: &str,
    errors: &FieldErrors,
) -> axum::response::Response {
    let title = staff.lang.pick("删除个人信息", "Erase personal data");
    let mut response = super::layout(
        staff,
        Section::Residents,
        Some(centre),
        &format!("{} · {title}", r.name),
        confirm_form(staff, centre, r, reason, errors),
    );
    if !errors.is_empty() {
        *response.status_mut() = StatusCode::BAD_REQUEST;
    }
    response
}

/// The confirmation page.
pub async fn page(
    State(state): State<AppState>,
    staff: Staff,
    Path((centre, id)): Path<(String, String)>,
) -> Page {
    let centre = staff.centre(Section::Residents, &centre)?;
    if !may_erase(&staff) {
        return Err(Refusal::forbidden());
    }
    let r = resident(&state, &staff, &centre, &id).await?;
    Ok(page_of(&staff, &centre, &r, "", &FieldErrors::default()))
}

/// The erasure, then the resident list saying it is done.
pub async fn erase(
    State(state): State<AppState>,
    Path((centre, id)): Path<(String, String)>,
    posted: Posted,
) -> Page {
    let staff = &posted.staff;
    let centre = staff.centre(Section::Residents, &centre)?;
    if !may_erase(staff) {
        return Err(Refusal::forbidden());
    }
    let lang = staff.lang;
    let reason = posted.get("reason").to_owned();
    let r = resident(&state, staff, &centre, &id).await?;
    if reason.is_empty() {
        let mut errors = FieldErrors::default();
        errors.push(
            "reason",
            lang.pick("请填写删除原因", "Say why the data is erased"),
        );
        return Ok(page_of(staff, &centre, &r, &reason, &errors));
    }
    let erased = state
        .registry
        .clone()
        .erase_resident(staff.grpc(pb::EraseResidentRequest {
            centre_id: centre.id.clone(),
            id: r.id.clone(),
            reason: reason.clone(),
        }))
        .await;
    match erased {
        Ok(_) => {
            Ok(Redirect::to(&format!("/c/{}/residents?notice=erased", centre.id)).into_response())
        }
        Err(status) if is_refusal(&status) => {
            let errors = FieldErrors::from_status(&status, lang);
            Ok(page_of(staff, &centre, &r, &reason, &errors))
        }
        Err(status) => Err(status.into()),
    }
}
