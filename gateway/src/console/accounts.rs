//! Staff accounts: district admins and centre managers see the accounts they manage,
//! create new ones, and disable or enable them (the registry decides who may do what; a
//! disabled account's sessions end at once, their tokens refused everywhere).

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use linli_platform::auth::Role;
use linli_proto::registry::v1 as pb;
use maud::html;

use super::{
    FieldErrors, Page, Posted, Section, Staff, csrf, field, general_errors, i18n, instant,
    is_refusal, notice,
};
use crate::AppState;

const ROLES: [&str; 6] = [
    "front_desk",
    "coordinator",
    "finance_officer",
    "auditor",
    "centre_manager",
    "district_admin",
];

async fn page(
    state: &AppState,
    staff: &Staff,
    errors: FieldErrors,
    values: &[(String, String)],
    created: Option<&str>,
) -> Page {
    staff.require(Section::Accounts)?;
    let lang = staff.lang;
    let accounts = state
        .registry
        .clone()
        .list_staff_accounts(staff.grpc(pb::ListStaffAccountsRequest::default()))
        .await?
        .into_inner()
        .accounts;
    let centre_name = |id: &str| {
        staff
            .centres
            .iter()
            .find(|c| c.id == id)
            .map(|c| c.name.clone())
            .unwrap_or_else(|| id.to_owned())
    };
    let value = |name: &str| {
        values
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    let chosen = |name: &str, v: &str| values.iter().any(|(k, x)| k == name && x == v);
    let roles: Vec<&str> = ROLES
        .iter()
        .copied()
        .filter(|r| *r != "district_admin" || staff.has_role(Role::DistrictAdmin))
        .collect();
    let content = html! {
        @if let Some(name) = created { (notice(&format!("{}{name}", lang.pick("已创建账户 ", "Created account ")))) }
        table #accounts {
            thead { tr { th { (lang.pick("用户名", "Username")) } th { (lang.pick("姓名", "Name")) } th { (lang.pick("角色", "Roles")) } th { (lang.pick("中心", "Centres")) } th { (lang.pick("状态", "State")) } th {} } }
            tbody {
                @for a in &accounts {
                    tr {
                        td { (a.username) }
                        td { (a.display_name) }
                        td { @for r in &a.roles { span.tag { (i18n::term(lang, r)) } } }
                        td { @for c in &a.centre_ids { span.tag { (centre_name(c)) } } }
                        td { @if let Some(until) = instant(&a.locked_until) { span.badge.warn { (lang.pick("已锁定至 ", "locked until ")) (until.with_timezone(&chrono_tz::Asia::Shanghai).format("%H:%M")) } } @else if a.active { (lang.pick("正常", "active")) } @else { (lang.pick("停用", "disabled")) } }
                        td {
                            @if a.username != staff.caller.subject {
                                form method="post" action=(format!("/accounts/{}/active", a.id)) {
                                    (csrf(staff))
                                    input type="hidden" name="active" value=(if a.active { "false" } else { "true" });
                                    button type="submit" { (if a.active { lang.pick("停用", "Disable") } else { lang.pick("启用", "Enable") }) }
                                }
                            }
                        }
                    }
                }
            }
        }
        section {
            h2 { (lang.pick("新建账户", "New account")) }
            form.stack method="post" action="/accounts" novalidate {
                (csrf(staff))
                (general_errors(&errors, &["username", "display_name", "password", "roles", "centre_ids"]))
                (field(lang, "username", lang.pick("用户名", "Username"), "text", &value("username"), &errors, true))
                (field(lang, "display_name", lang.pick("姓名", "Name"), "text", &value("display_name"), &errors, true))
                (field(lang, "password", lang.pick("初始密码（至少 10 位）", "First password (10 characters or more)"), "password", "", &errors, true))
                fieldset.field.invalid[errors.get("roles").is_some()] {
                    legend { (lang.pick("角色", "Roles")) }
                    @for r in &roles { label { input type="checkbox" name="roles" value=(r) checked[chosen("roles", r)]; " " (i18n::term(lang, r)) } }
                    @if let Some(e) = errors.get("roles") { span.error role="alert" { (e) } }
                }
                fieldset.field.invalid[errors.get("centre_ids").is_some()] {
                    legend { (lang.pick("中心", "Centres")) }
                    @for c in &staff.centres { label { input type="checkbox" name="centre_ids" value=(c.id) checked[chosen("centre_ids", &c.id)]; " " (c.name) } }
                    @if let Some(e) = errors.get("centre_ids") { span.error role="alert" { (e) } }
                }
                button type="submit" { (lang.pick("创建", "Create")) }
            }
        }
    };
    let mut response: Response = super::layout(
        staff,
        Section::Accounts,
        None,
        lang.pick("员工账户", "Staff accounts"),
        content,
    );
    if !errors.is_empty() {
        *response.status_mut() = StatusCode::BAD_REQUEST;
    }
    Ok(response)
}

pub async fn list(State(state): State<AppState>, staff: Staff) -> Page {
    page(&state, &staff, FieldErrors::default(), &[], None).await
}

pub async fn create(State(state): State<AppState>, posted: Posted) -> Page {
    let staff = &posted.staff;
    staff.require(Section::Accounts)?;
    let lang = staff.lang;
    let mut errors = FieldErrors::default();
    if posted.get("username").is_empty() {
        errors.push("username", lang.pick("请填写用户名", "Enter a username"));
    }
    if posted.get("display_name").is_empty() {
        errors.push("display_name", lang.pick("请填写姓名", "Enter the name"));
    }
    if posted.get("password").chars().count() < 10 {
        errors.push(
            "password",
            lang.pick("密码至少 10 位", "At least 10 characters"),
        );
    }
    if posted.all("roles").is_empty() {
        errors.push(
            "roles",
            lang.pick("请至少选择一个角色", "Choose at least one role"),
        );
    }
    if errors.is_empty() {
        let created = state
            .registry
            .clone()
            .create_staff_account(staff.grpc(pb::CreateStaffAccountRequest {
                username: posted.get("username").to_owned(),
                display_name: posted.get("display_name").to_owned(),
                password: posted.get("password").to_owned(),
                roles: posted.all("roles"),
                centre_ids: posted.all("centre_ids"),
            }))
            .await;
        match created {
            Ok(account) => {
                let account = account.into_inner();
                return page(
                    &state,
                    staff,
                    FieldErrors::default(),
                    &[],
                    Some(&account.username),
                )
                .await;
            }
            Err(status) if is_refusal(&status) => errors = FieldErrors::from_status(&status, lang),
            Err(status) => return Err(status.into()),
        }
    }
    let values: Vec<(String, String)> = posted
        .fields
        .iter()
        .filter(|(k, _)| k != "password" && k != "csrf")
        .cloned()
        .collect();
    page(&state, staff, errors, &values, None).await
}

/// `POST /accounts/{account}/active` with `active=false` (or `true`): disables the account,
/// ending its sessions, or enables it again.
pub async fn set_active(
    State(state): State<AppState>,
    Path(account): Path<String>,
    posted: Posted,
) -> Page {
    let staff = &posted.staff;
    staff.require(Section::Accounts)?;
    state
        .registry
        .clone()
        .set_staff_account_active(staff.grpc(pb::SetStaffAccountActiveRequest {
            account_id: account,
            active: posted.get("active") == "true",
        }))
        .await?;
    Ok(Redirect::to("/accounts").into_response())
}
