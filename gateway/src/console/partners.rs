//! Partner organisations, for the district admin: the list of partners (government
//! departments, companies and social organisations), a new partner, one partner's
//! agreements at the centres (what they grant, in words, and for how long), a new agreement
//! at one or more centres, revoking an agreement after a confirmation with a reason, and
//! the client certificates its systems present. The registry decides again on every call;
//! only the district admin's menu shows this section.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use chrono::{Duration, NaiveDate};
use linli_proto::registry::v1 as pb;
use maud::{Markup, html};
use serde::Deserialize;

use super::{
    FieldErrors, Page, Posted, Query, Refusal, Section, Staff, csrf, date, field, general_errors,
    instant, is_refusal, notice,
};
use crate::AppState;

/// The kinds of partner, as the registry names them, and as staff call them.
pub const KINDS: [(&str, &str); 3] = [
    ("government", "政府部门"),
    ("enterprise", "企业"),
    ("social_organisation", "社会组织（公益机构）"),
];

/// What an agreement may grant, as the platform names it, and in words.
pub const GRANTS: [(&str, &str); 7] = [
    ("bookings.offerings:write", "在中心开设服务项目"),
    ("bookings.offerings:read", "查看本单位的服务项目"),
    ("bookings.bookings:read", "查看本单位项目的预约"),
    ("bookings.attendance:write", "登记本单位项目的签到"),
    ("evaluation.kpis:read", "查看中心公开的考核指标"),
    (
        "registry.residents:read",
        "查看同意共享的居民信息（已遮盖）",
    ),
    ("volunteers.hours:write", "登记本单位志愿者的服务时长"),
];

fn kind_words(kind: &str) -> &'static str {
    KINDS
        .iter()
        .find(|(k, _)| *k == kind)
        .map_or("其他", |(_, w)| w)
}

/// A scope in words; one the console does not know is said as such, never as its code.
pub fn grant_words(scope: &str) -> &'static str {
    GRANTS
        .iter()
        .find(|(s, _)| *s == scope)
        .map_or("其他授权", |(_, w)| w)
}

/// Where an agreement stands on `today`.
fn standing(agreement: &pb::Agreement, today: NaiveDate) -> (&'static str, &'static str) {
    let day = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").ok();
    if agreement.revoked_at.is_some() {
        return ("已撤销", "revoked");
    }
    match (day(&agreement.valid_from), day(&agreement.valid_until)) {
        (Some(from), _) if today < from => ("尚未生效", "pending"),
        (_, Some(until)) if today >= until => ("已到期", "ended"),
        _ => ("生效中", "live"),
    }
}

/// An agreement's days as people say them: the last day it holds, not the registry's
/// exclusive end.
fn period(agreement: &pb::Agreement) -> String {
    let day = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").ok();
    match (day(&agreement.valid_from), day(&agreement.valid_until)) {
        (Some(from), Some(until)) => format!(
            "{} 至 {}",
            short_date(from),
            short_date(until - Duration::days(1))
        ),
        _ => "—".into(),
    }
}

/// 2026年12月6日, without the weekday (a period is read as two days, not two weekdays).
fn short_date(day: NaiveDate) -> String {
    use chrono::Datelike;
    format!("{}年{}月{}日", day.year(), day.month(), day.day())
}

fn today() -> NaiveDate {
    chrono::Utc::now()
        .with_timezone(&chrono_tz::Asia::Shanghai)
        .date_naive()
}

fn centre_name(staff: &Staff, id: &str) -> String {
    staff
        .centres
        .iter()
        .find(|c| c.id == id)
        .map_or_else(|| "其他中心".to_owned(), |c| c.name.clone())
}

fn page(staff: &Staff, title: &str, content: Markup, refused: bool) -> Response {
    let mut response = super::layout(staff, Section::Partners, None, title, content);
    if refused {
        *response.status_mut() = StatusCode::BAD_REQUEST;
    }
    response
}

#[derive(Deserialize, Default)]
pub struct Done {
    #[serde(default)]
    done: String,
}

/// What the form had, to show again after a refusal.
struct Typed<'a>(&'a [(String, String)]);

impl Typed<'_> {
    fn get(&self, name: &str) -> String {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    }

    fn has(&self, name: &str, value: &str) -> bool {
        self.0.iter().any(|(k, v)| k == name && v == value)
    }
}

async fn list_page(
    state: &AppState,
    staff: &Staff,
    errors: &FieldErrors,
    typed: &[(String, String)],
) -> Page {
    staff.require(Section::Partners)?;
    let partners = state
        .registry
        .clone()
        .list_partners(staff.grpc(pb::ListPartnersRequest {}))
        .await?
        .into_inner()
        .partners;
    let typed = Typed(typed);
    let now = today();
    let shown = [
        "name",
        "kind",
        "contact_name",
        "contact_role",
        "contact_phone",
        "contact_email",
    ];
    let content = html! {
        @if !errors.is_empty() { span hidden data-page-url="/partners" {} }
        @if partners.is_empty() {
            p.empty #partners { "还没有合作单位。可在下方新增。" }
        } @else {
            table #partners {
                thead { tr { th { "名称" } th { "类型" } th.num { "生效中的协议" } th.num { "全部协议" } th { "登记日期" } } }
                tbody {
                    @for p in &partners {
                        tr {
                            td { a href=(format!("/partners/{}", p.id)) { (p.name) } }
                            td { (kind_words(&p.kind)) }
                            td.num { (p.agreements.iter().filter(|a| standing(a, now).1 == "live").count()) }
                            td.num { (p.agreements.len()) }
                            td { (instant(&p.created_at).map(|t| date(super::Lang::Zh, t.with_timezone(&chrono_tz::Asia::Shanghai).date_naive())).unwrap_or_default()) }
                        }
                    }
                }
            }
        }
        section #new-partner {
            h2 { "新增合作单位" }
            form.stack method="post" action="/partners" novalidate {
                (csrf(staff))
                (general_errors(errors, &shown))
                (field(staff.lang, "name", "单位名称", "text", &typed.get("name"), errors, true))
                fieldset.field.invalid[errors.get("kind").is_some()] {
                    legend { "单位类型" span.req aria-hidden="true" { " *" } }
                    @for (code, words) in KINDS {
                        label { input type="radio" name="kind" value=(code) checked[typed.has("kind", code)]; (words) }
                    }
                    @if let Some(e) = errors.get("kind") { span.error #f-kind-error role="alert" { (e) } }
                }
                p { strong { "联系人" } span.muted { "（可不填）" } }
                (field(staff.lang, "contact_name", "联系人姓名", "text", &typed.get("contact_name"), errors, false))
                (field(staff.lang, "contact_role", "职务", "text", &typed.get("contact_role"), errors, false))
                (field(staff.lang, "contact_phone", "电话", "tel", &typed.get("contact_phone"), errors, false))
                (field(staff.lang, "contact_email", "电子邮箱", "text", &typed.get("contact_email"), errors, false))
                button type="submit" { "新增" }
            }
        }
    };
    Ok(page(staff, "合作单位", content, !errors.is_empty()))
}

/// `GET /partners`.
pub async fn list(State(state): State<AppState>, staff: Staff) -> Page {
    list_page(&state, &staff, &FieldErrors::default(), &[]).await
}

/// `POST /partners`: a new partner, then its own page.
pub async fn create(State(state): State<AppState>, posted: Posted) -> Page {
    let staff = &posted.staff;
    staff.require(Section::Partners)?;
    let mut errors = FieldErrors::default();
    let name = posted.get("name");
    if name.is_empty() {
        errors.push("name", "请填写单位名称");
    }
    let kind = posted.get("kind");
    if !KINDS.iter().any(|(k, _)| *k == kind) {
        errors.push("kind", "请选择单位类型");
    }
    let contact = pb::PartnerContact {
        name: posted.get("contact_name").to_owned(),
        role: posted.get("contact_role").to_owned(),
        phone: posted.get("contact_phone").to_owned(),
        email: posted.get("contact_email").to_owned(),
    };
    let any_contact =
        !(contact.role.is_empty() && contact.phone.is_empty() && contact.email.is_empty());
    if contact.name.is_empty() && any_contact {
        errors.push("contact_name", "填写了联系方式，请同时填写联系人姓名");
    }
    if errors.is_empty() {
        let contacts = if contact.name.is_empty() {
            Vec::new()
        } else {
            vec![contact]
        };
        let created = state
            .registry
            .clone()
            .create_partner(staff.grpc(pb::CreatePartnerRequest {
                name: name.to_owned(),
                kind: kind.to_owned(),
                contacts,
            }))
            .await;
        match created {
            Ok(partner) => {
                let id = partner.into_inner().id;
                return Ok(Redirect::to(&format!("/partners/{id}?done=created")).into_response());
            }
            Err(status) if status.code() == tonic::Code::AlreadyExists => {
                errors.push("name", "已有同名的合作单位");
            }
            Err(status) if is_refusal(&status) => {
                errors = FieldErrors::from_status(&status, staff.lang);
            }
            Err(status) => return Err(status.into()),
        }
    }
    let typed: Vec<(String, String)> = posted
        .fields
        .iter()
        .filter(|(k, _)| k != "csrf")
        .cloned()
        .collect();
    list_page(&state, staff, &errors, &typed).await
}

async fn partner_page(
    state: &AppState,
    staff: &Staff,
    id: &str,
    done: &str,
    errors: &FieldErrors,
    typed: &[(String, String)],
) -> Page {
    staff.require(Section::Partners)?;
    super::parse_uuid(id)?;
    let partner = state
        .registry
        .clone()
        .get_partner(staff.grpc(pb::GetPartnerRequest { id: id.to_owned() }))
        .await?
        .into_inner();
    let now = today();
    let typed = Typed(typed);
    let said = match done {
        "created" => Some("已新增合作单位。"),
        "agreement" => Some("已签订协议。"),
        "revoked" => Some("已撤销协议，对方系统即刻失去这项授权。"),
        "credential" => Some("已登记证书。"),
        "credential-revoked" => Some("已停用证书。"),
        _ => None,
    };
    let from = {
        let t = typed.get("valid_from");
        if t.is_empty() { now.to_string() } else { t }
    };
    let last = {
        let t = typed.get("last_day");
        if t.is_empty() {
            (now + Duration::days(364)).to_string()
        } else {
            t
        }
    };
    let shown = [
        "centre_ids",
        "centre_id",
        "provides",
        "scopes",
        "valid_from",
        "last_day",
        "valid_until",
        "certificate_pem",
    ];
    let mut agreements = partner.agreements.clone();
    agreements.sort_by(|a, b| {
        (a.revoked_at.is_some(), &b.valid_from).cmp(&(b.revoked_at.is_some(), &a.valid_from))
    });
    let content = html! {
        @if !errors.is_empty() { span hidden data-page-url=(format!("/partners/{}", partner.id)) {} }
        @if let Some(text) = said { (notice(text)) }
        p { a href="/partners" { "← 全部合作单位" } }
        dl.facts {
            dt { "单位类型" } dd #kind { (kind_words(&partner.kind)) }
            dt { "联系人" } dd {
                @if partner.contacts.is_empty() { "未登记" }
                @for c in &partner.contacts {
                    div { (c.name) @if !c.role.is_empty() { "（" (c.role) "）" } @if !c.phone.is_empty() { " " (c.phone) } @if !c.email.is_empty() { " " (c.email) } }
                }
            }
        }
        section {
            h2 { "协议" }
            @if agreements.is_empty() {
                p.empty #agreements { "还没有协议。" }
            } @else {
                div.scroll {
                    table #agreements {
                        thead { tr { th { "中心" } th { "提供的服务" } th { "授权内容" } th { "有效期" } th { "状态" } th {} } }
                        tbody {
                            @for a in &agreements {
                                @let (words, class) = standing(a, now);
                                tr.revoked[class == "revoked"] {
                                    td { (centre_name(staff, &a.centre_id)) }
                                    td { (a.provides) }
                                    td { ul.grants { @for s in &a.scopes { li { (grant_words(s)) } } } }
                                    td.period { (period(a)) }
                                    td {
                                        span.badge.ok[class == "live"].warn[class == "revoked"] { (words) }
                                        @if let Some(at) = instant(&a.revoked_at) {
                                            div.muted { (date(super::Lang::Zh, at.with_timezone(&chrono_tz::Asia::Shanghai).date_naive())) }
                                            @if !a.revoked_reason.is_empty() { div.muted { "原因：" (a.revoked_reason) } }
                                        }
                                    }
                                    td {
                                        a.webhook-link href=(format!("/partners/{}/agreements/{}/webhook", partner.id, a.id)) { "推送设置" }
                                        " "
                                        @if a.revoked_at.is_none() && class != "ended" {
                                            a.button.secondary href=(format!("/partners/{}/agreements/{}/revoke", partner.id, a.id)) { "撤销" }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        section #new-agreement {
            h2 { "签订新协议" }
            form.stack method="post" action=(format!("/partners/{}/agreements", partner.id)) novalidate {
                (csrf(staff))
                (general_errors(errors, &shown))
                fieldset.field.invalid[errors.get("centre_ids").is_some()] {
                    legend { "在哪些中心" span.req aria-hidden="true" { " *" } }
                    @for c in &staff.centres {
                        label { input type="checkbox" name="centre_ids" value=(c.id) checked[typed.has("centre_ids", &c.id)]; (c.name) }
                    }
                    @if let Some(e) = errors.get("centre_ids") { span.error #f-centre_ids-error role="alert" { (e) } }
                }
                (field(staff.lang, "provides", "提供的服务（如：送餐服务）", "text", &typed.get("provides"), errors, true))
                fieldset.field.invalid[errors.get("scopes").is_some()] {
                    legend { "授权对方系统可以" span.req aria-hidden="true" { " *" } }
                    @for (code, words) in GRANTS {
                        div { label { input type="checkbox" name="scopes" value=(code) checked[typed.has("scopes", code)]; (words) } }
                    }
                    @if let Some(e) = errors.get("scopes") { span.error #f-scopes-error role="alert" { (e) } }
                }
                div.row {
                    (field(staff.lang, "valid_from", "生效日期", "date", &from, errors, true))
                    (field(staff.lang, "last_day", "有效期至（含当天）", "date", &last, errors, true))
                }
                button type="submit" { "签订协议" }
            }
        }
        section #credentials {
            h2 { "对方系统的证书" }
            @if partner.credentials.is_empty() {
                p.empty { "还没有登记证书。" }
            } @else {
                table {
                    thead { tr { th { "证书名称" } th { "有效期至" } th { "状态" } th {} } }
                    tbody {
                        @for c in &partner.credentials {
                            tr {
                                td { (c.subject) }
                                td { (instant(&c.not_after).map(|t| date(super::Lang::Zh, t.with_timezone(&chrono_tz::Asia::Shanghai).date_naive())).unwrap_or_default()) }
                                td { @if c.revoked_at.is_some() { span.badge.warn { "已停用" } } @else { span.badge.ok { "可用" } } }
                                td {
                                    @if c.revoked_at.is_none() {
                                        a.button.secondary href=(format!("/partners/{}/credentials/{}/revoke", partner.id, c.id)) { "停用" }
                                    }
                                }
                            }
                        }
                    }
                }
            }
            form.stack method="post" action=(format!("/partners/{}/credentials", partner.id)) novalidate {
                (csrf(staff))
                div.field.invalid[errors.get("certificate_pem").is_some()] {
                    label for="f-certificate_pem" { "登记新证书（粘贴对方提供的证书文本）" }
                    textarea #f-certificate_pem name="certificate_pem" rows="4" { (typed.get("certificate_pem")) }
                    @if let Some(e) = errors.get("certificate_pem") { span.error #f-certificate_pem-error role="alert" { (e) } }
                }
                button type="submit" { "登记证书" }
            }
        }
    };
    Ok(page(staff, &partner.name, content, !errors.is_empty()))
}

/// `GET /partners/{partner}`.
pub async fn show(
    State(state): State<AppState>,
    staff: Staff,
    Path(partner): Path<String>,
    Query(query): Query<Done>,
) -> Page {
    partner_page(
        &state,
        &staff,
        &partner,
        &query.done,
        &FieldErrors::default(),
        &[],
    )
    .await
}

/// `POST /partners/{partner}/agreements`: one agreement at each centre ticked.
pub async fn create_agreement(
    State(state): State<AppState>,
    Path(partner): Path<String>,
    posted: Posted,
) -> Page {
    let staff = &posted.staff;
    staff.require(Section::Partners)?;
    super::parse_uuid(&partner)?;
    let mut errors = FieldErrors::default();
    let centres = posted.all("centre_ids");
    if centres.is_empty() {
        errors.push("centre_ids", "请至少选择一个中心");
    }
    if posted.get("provides").is_empty() {
        errors.push("provides", "请填写对方提供的服务");
    }
    let scopes = posted.all("scopes");
    if scopes.is_empty() {
        errors.push("scopes", "请至少选择一项授权内容");
    }
    let day = |name: &str| NaiveDate::parse_from_str(posted.get(name), "%Y-%m-%d").ok();
    let from = day("valid_from");
    if from.is_none() {
        errors.push("valid_from", "请填写生效日期");
    }
    let last = day("last_day");
    match (from, last) {
        (_, None) => errors.push("last_day", "请填写有效期的最后一天"),
        (Some(from), Some(last)) if last < from => {
            errors.push("last_day", "有效期的最后一天不能早于生效日期")
        }
        _ => {}
    }
    if let (true, Some(from), Some(last)) = (errors.is_empty(), from, last) {
        for centre in &centres {
            let made = state
                .registry
                .clone()
                .create_agreement(staff.grpc(pb::CreateAgreementRequest {
                    partner_id: partner.clone(),
                    centre_id: centre.clone(),
                    provides: posted.get("provides").to_owned(),
                    scopes: scopes.clone(),
                    valid_from: from.to_string(),
                    valid_until: (last + Duration::days(1)).to_string(),
                    // The default rate: a partner's own is set over the JSON API.
                    ..Default::default()
                }))
                .await;
            match made {
                Ok(_) => {}
                Err(status) if is_refusal(&status) => {
                    errors = FieldErrors::from_status(&status, staff.lang);
                    // The registry's exclusive end is the form's last day.
                    for (field, _) in errors.0.iter_mut() {
                        if field == "valid_until" {
                            *field = "last_day".into();
                        }
                        if field.starts_with("scopes") {
                            *field = "scopes".into();
                        }
                        if field == "centre_id" {
                            *field = "centre_ids".into();
                        }
                    }
                    break;
                }
                Err(status) => return Err(status.into()),
            }
        }
        if errors.is_empty() {
            return Ok(Redirect::to(&format!("/partners/{partner}?done=agreement")).into_response());
        }
    }
    let typed: Vec<(String, String)> = posted
        .fields
        .iter()
        .filter(|(k, _)| k != "csrf")
        .cloned()
        .collect();
    partner_page(&state, staff, &partner, "", &errors, &typed).await
}

async fn revoke_page(
    state: &AppState,
    staff: &Staff,
    partner: &str,
    agreement: &str,
    errors: &FieldErrors,
    reason: &str,
) -> Page {
    staff.require(Section::Partners)?;
    super::parse_uuid(partner)?;
    super::parse_uuid(agreement)?;
    let found = state
        .registry
        .clone()
        .get_partner(staff.grpc(pb::GetPartnerRequest {
            id: partner.to_owned(),
        }))
        .await?
        .into_inner();
    let a = found
        .agreements
        .iter()
        .find(|a| a.id == agreement)
        .ok_or_else(Refusal::not_found)?;
    let back = format!("/partners/{partner}");
    let content = html! {
        @if !errors.is_empty() { span hidden data-page-url=(format!("{back}/agreements/{agreement}/revoke")) {} }
        p.big { "撤销后，" (found.name) " 的系统在 " (centre_name(staff, &a.centre_id)) " 即刻失去以下授权，且不能恢复：" }
        ul #revoking { @for s in &a.scopes { li { (grant_words(s)) } } }
        p { "提供的服务：" (a.provides) "；有效期 " (period(a)) }
        form.stack method="post" action=(format!("{back}/agreements/{agreement}/revoke")) novalidate {
            (csrf(staff))
            (general_errors(errors, &["reason"]))
            div.field.invalid[errors.get("reason").is_some()] {
                label for="f-reason" { "撤销原因" span.req aria-hidden="true" { " *" } }
                textarea #f-reason name="reason" rows="2" required { (reason) }
                @if let Some(e) = errors.get("reason") { span.error #f-reason-error role="alert" { (e) } }
            }
            button type="submit" { "确认撤销" }
            " "
            a.button.secondary href=(back) { "不撤销，返回" }
        }
    };
    Ok(page(staff, "撤销协议", content, !errors.is_empty()))
}

/// `GET /partners/{partner}/agreements/{agreement}/revoke`: what revoking ends, and why.
pub async fn revoke_form(
    State(state): State<AppState>,
    staff: Staff,
    Path((partner, agreement)): Path<(String, String)>,
) -> Page {
    revoke_page(
        &state,
        &staff,
        &partner,
        &agreement,
        &FieldErrors::default(),
        "",
    )
    .await
}

/// `POST /partners/{partner}/agreements/{agreement}/revoke`.
pub async fn revoke(
    State(state): State<AppState>,
    Path((partner, agreement)): Path<(String, String)>,
    posted: Posted,
) -> Page {
    let staff = &posted.staff;
    staff.require(Section::Partners)?;
    let reason = posted.get("reason");
    let mut errors = FieldErrors::default();
    if reason.chars().count() < 3 {
        errors.push("reason", "请写明撤销原因（至少 3 个字）");
    } else {
        let revoked = state
            .registry
            .clone()
            .revoke_agreement(staff.grpc(pb::RevokeAgreementRequest {
                partner_id: partner.clone(),
                agreement_id: agreement.clone(),
                reason: reason.to_owned(),
            }))
            .await;
        match revoked {
            Ok(_) => {
                return Ok(
                    Redirect::to(&format!("/partners/{partner}?done=revoked")).into_response()
                );
            }
            Err(status) if is_refusal(&status) => {
                errors = FieldErrors::from_status(&status, staff.lang);
            }
            Err(status) => return Err(status.into()),
        }
    }
    revoke_page(&state, staff, &partner, &agreement, &errors, reason).await
}

/// `POST /partners/{partner}/credentials`: a client certificate, pasted as text.
pub async fn register_credential(
    State(state): State<AppState>,
    Path(partner): Path<String>,
    posted: Posted,
) -> Page {
    let staff = &posted.staff;
    staff.require(Section::Partners)?;
    super::parse_uuid(&partner)?;
    let pem = posted.get("certificate_pem");
    let mut errors = FieldErrors::default();
    if pem.is_empty() {
        errors.push("certificate_pem", "请粘贴证书文本");
    } else {
        let registered = state
            .registry
            .clone()
            .register_credential(staff.grpc(pb::RegisterCredentialRequest {
                partner_id: partner.clone(),
                certificate_pem: pem.to_owned(),
            }))
            .await;
        match registered {
            Ok(_) => {
                return Ok(
                    Redirect::to(&format!("/partners/{partner}?done=credential")).into_response(),
                );
            }
            Err(status) if status.code() == tonic::Code::AlreadyExists => {
                errors.push("certificate_pem", "这张证书已经登记过了");
            }
            Err(status) if is_refusal(&status) => {
                // Whatever the registry objects to is about the pasted text: an expired
                // certificate by its code, anything else (the parser's English) as text
                // that is not a certificate.
                let expired = linli_platform::error::violations_of(&status)
                    .iter()
                    .any(|v| v.code == "certificate.expired");
                errors.push(
                    "certificate_pem",
                    if expired {
                        "这张证书已过期，请向对方索取新证书"
                    } else {
                        "不是有效的证书文本，请粘贴对方提供的完整证书"
                    },
                );
            }
            Err(status) => return Err(status.into()),
        }
    }
    let typed = vec![("certificate_pem".to_owned(), pem.to_owned())];
    partner_page(&state, staff, &partner, "", &errors, &typed).await
}

/// `GET /partners/{partner}/credentials/{credential}/revoke`: a confirmation first.
pub async fn revoke_credential_form(
    State(state): State<AppState>,
    staff: Staff,
    Path((partner, credential)): Path<(String, String)>,
) -> Page {
    staff.require(Section::Partners)?;
    super::parse_uuid(&partner)?;
    super::parse_uuid(&credential)?;
    let found = state
        .registry
        .clone()
        .get_partner(staff.grpc(pb::GetPartnerRequest {
            id: partner.clone(),
        }))
        .await?
        .into_inner();
    let c = found
        .credentials
        .iter()
        .find(|c| c.id == credential)
        .ok_or_else(Refusal::not_found)?;
    let back = format!("/partners/{partner}");
    let content = html! {
        p.big { "停用后，" (found.name) " 的系统再用证书「" (c.subject) "」连接时将被拒绝，且不能恢复。" }
        form.stack method="post" action=(format!("{back}/credentials/{credential}/revoke")) {
            (csrf(&staff))
            button type="submit" { "确认停用" }
            " "
            a.button.secondary href=(back) { "不停用，返回" }
        }
    };
    Ok(page(&staff, "停用证书", content, false))
}

/// `POST /partners/{partner}/credentials/{credential}/revoke`.
pub async fn revoke_credential(
    State(state): State<AppState>,
    Path((partner, credential)): Path<(String, String)>,
    posted: Posted,
) -> Page {
    let staff = &posted.staff;
    staff.require(Section::Partners)?;
    state
        .registry
        .clone()
        .revoke_credential(staff.grpc(pb::RevokeCredentialRequest {
            partner_id: partner.clone(),
            credential_id: credential,
        }))
        .await?;
    Ok(Redirect::to(&format!("/partners/{partner}?done=credential-revoked")).into_response())
}
