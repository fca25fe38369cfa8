//! An agreement's event push (推送, issue 24), on the district admin's partner pages: where
//! the partner's system is told what happened (its address and the kinds of event the
//! agreement's grants allow), the signing key shown once when it is made, and the recent
//! deliveries with their outcome in words, each failed one sent again with 重发. Changing
//! an address already set makes a new signing key, so it is confirmed first. The registry
//! decides again on every call.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use chrono_tz::Asia::Shanghai;
use linli_proto::registry::v1 as pb;
use maud::html;
use serde::Deserialize;

use super::partners::grant_words;
use super::{
    FieldErrors, Page, Posted, Query, Refusal, Section, Staff, csrf, general_errors, is_refusal,
    notice,
};
use crate::AppState;
use crate::catalogue::Lang;

/// The event kinds a webhook may carry, and the grant that allows each (as the registry's
/// `COVERED` says; it checks again).
const EVENTS: [(&str, &str); 3] = [
    ("bookings.booking.confirmed", "bookings.bookings:read"),
    ("bookings.booking.attended", "bookings.bookings:read"),
    ("bookings.service.delivered", "bookings.bookings:read"),
];

fn event_words(lang: Lang, event_type: &str) -> &'static str {
    match event_type {
        "bookings.booking.confirmed" => lang.pick("居民预约成功", "Booking confirmed"),
        "bookings.booking.attended" => lang.pick("居民到场签到", "Attendance recorded"),
        "bookings.service.delivered" => lang.pick("服务已完成", "Service delivered"),
        _ => lang.pick("其他事件", "Other event"),
    }
}

/// A delivery's outcome in words, and whether it may be sent again now.
fn outcome(lang: Lang, d: &pb::WebhookDelivery) -> (String, &'static str) {
    let answer = match d.last_http_status {
        0 if d.attempts == 0 => lang.pick("尚未发送", "Not sent yet").to_owned(),
        0 => lang
            .pick("未能连接对方系统", "Could not reach the receiver")
            .to_owned(),
        200..=299 => lang.pick("对方已接收", "Accepted").to_owned(),
        code => format!(
            "{}{code}{}",
            lang.pick("对方系统拒收（代码 ", "Refused by the receiver ("),
            lang.pick("）", ")")
        ),
    };
    match d.status.as_str() {
        "delivered" => (answer, "delivered"),
        "failing" => (answer, "failing"),
        _ => (answer, "pending"),
    }
}

fn status_words(lang: Lang, class: &str) -> &'static str {
    match class {
        "delivered" => lang.pick("已送达", "Delivered"),
        "failing" => lang.pick("发送失败，自动重试中", "Failing, retrying"),
        _ => lang.pick("等待发送", "Waiting"),
    }
}

fn when(lang: Lang, ts: &Option<prost_types::Timestamp>) -> String {
    super::instant(ts)
        .map(|at| super::when(lang, at, Shanghai))
        .unwrap_or_else(|| "—".into())
}

#[derive(Deserialize, Default)]
pub struct WebhookQuery {
    #[serde(default)]
    done: String,
    #[serde(default)]
    n: i32,
}

/// What the page says above its forms.
enum Said {
    None,
    /// The webhook just set, with the signing key made for it (shown this once).
    Set(String),
    Replayed(i32),
}

struct Typed {
    url: String,
    events: Vec<String>,
    confirm: bool,
}

#[allow(clippy::too_many_arguments)]
async fn webhook_page(
    state: &AppState,
    staff: &Staff,
    partner_id: &str,
    agreement_id: &str,
    said: Said,
    errors: &FieldErrors,
    typed: Option<Typed>,
) -> Page {
    staff.require(Section::Partners)?;
    super::parse_uuid(partner_id)?;
    super::parse_uuid(agreement_id)?;
    let lang = staff.lang;
    let partner = state
        .registry
        .clone()
        .get_partner(staff.grpc(pb::GetPartnerRequest {
            id: partner_id.to_owned(),
        }))
        .await?
        .into_inner();
    let agreement = partner
        .agreements
        .iter()
        .find(|a| a.id == agreement_id)
        .cloned()
        .ok_or_else(Refusal::not_found)?;
    let current = state
        .registry
        .clone()
        .get_agreement_webhook(staff.grpc(pb::GetAgreementWebhookRequest {
            partner_id: partner_id.to_owned(),
            agreement_id: agreement_id.to_owned(),
        }))
        .await?
        .into_inner();
    let deliveries = state
        .registry
        .clone()
        .list_webhook_deliveries(staff.grpc(pb::ListWebhookDeliveriesRequest {
            partner_id: partner_id.to_owned(),
            agreement_id: agreement_id.to_owned(),
            page_size: 50,
            page_token: String::new(),
        }))
        .await?
        .into_inner()
        .deliveries;
    let allowed: Vec<&str> = EVENTS
        .iter()
        .filter(|(_, grant)| agreement.scopes.iter().any(|s| s == grant))
        .map(|(e, _)| *e)
        .collect();
    let is_set = !current.url.is_empty();
    let typed = typed.unwrap_or_else(|| Typed {
        url: current.url.clone(),
        events: current.event_types.clone(),
        confirm: false,
    });
    let here = format!("/partners/{partner_id}/agreements/{agreement_id}/webhook");
    let centre = staff
        .centres
        .iter()
        .find(|c| c.id == agreement.centre_id)
        .map_or_else(
            || lang.pick("其他中心", "Another centre").to_owned(),
            |c| c.name.clone(),
        );
    let url_error = errors.get("url");
    let events_error = errors.get("event_types");
    let confirm_error = errors.get("confirm");
    let content = html! {
        @if !errors.is_empty() || !matches!(said, Said::None) { span hidden data-page-url=(here) {} }
        @match &said {
            Said::Set(secret) => {
                (notice(lang.pick("已保存推送设置。", "Push settings saved.")))
                div.secret #new-secret {
                    p { strong { (lang.pick("签名密钥（只显示这一次）：", "Signing key (shown this once): ")) } }
                    p { code #webhook-secret { (secret) } }
                    p.muted { (lang.pick("请立即复制，交给对方单位的技术人员，用于核对每条推送确实来自本平台。离开此页后无法再次查看；如遗失，重新保存一次即可生成新的密钥。",
                                         "Copy it now for the partner's technical staff, who check each push with it. It cannot be shown again; save again to make a new one.")) }
                }
            }
            Said::Replayed(n) => {
                (notice(&format!("{}{n}{}", lang.pick("已安排重发 ", "Sending again: "), lang.pick(" 条推送，稍后可在下表查看结果。", " deliveries; see the outcome below shortly."))))
            }
            Said::None => {}
        }
        p { a href=(format!("/partners/{partner_id}")) { (lang.pick("‹ 返回", "‹ Back to ")) (partner.name) } }
        dl.facts {
            dt { (lang.pick("中心", "Centre")) } dd { (centre) }
            dt { (lang.pick("提供的服务", "Provides")) } dd { (agreement.provides) }
            dt { (lang.pick("授权内容", "Grants")) } dd { @for s in &agreement.scopes { div { (grant_words(s)) } } }
            dt { (lang.pick("当前推送", "Pushing now")) }
            dd #current-webhook {
                @if is_set {
                    (lang.pick("推送到 ", "To ")) span.url { (current.url) } br;
                    (lang.pick("推送内容：", "Events: ")) (current.event_types.iter().map(|e| event_words(lang, e)).collect::<Vec<_>>().join("、"))
                    br; span.muted { (lang.pick("设置于 ", "Set on ")) (when(lang, &current.updated_at)) }
                } @else { (lang.pick("尚未设置推送。", "No push set.")) }
            }
        }
        section #deliveries {
            h2 { (lang.pick("最近的推送", "Recent deliveries")) }
            div.scroll {
                table #webhook-deliveries {
                    thead { tr {
                        th { (lang.pick("发生时间", "When")) } th { (lang.pick("事件", "Event")) } th { (lang.pick("状态", "Status")) }
                        th { (lang.pick("对方回应", "Receiver's answer")) } th.num { (lang.pick("已发送次数", "Attempts")) } th { (lang.pick("操作", "Action")) }
                    } }
                    tbody {
                        @for d in &deliveries {
                            @let (answer, class) = outcome(lang, d);
                            tr data-delivery=(class) {
                                td { (when(lang, &d.created_at)) }
                                td { (event_words(lang, &d.event_type)) }
                                td {
                                    span.badge.ok[class == "delivered"].warn[class == "failing"] { (status_words(lang, class)) }
                                    @if class == "delivered" { div.muted { (when(lang, &d.delivered_at)) } }
                                    @if class == "failing" { div.muted { (lang.pick("下次自动重试：", "Next try: ")) (when(lang, &d.next_attempt_at)) } }
                                }
                                td { (answer) }
                                td.num { (d.attempts) }
                                td {
                                    @if class == "failing" && agreement.revoked_at.is_none() {
                                        form.inline method="post" action=(format!("{here}/replay")) {
                                            (csrf(staff))
                                            input type="hidden" name="delivery_id" value=(d.id);
                                            button.replay type="submit" { (lang.pick("立即重发", "Send again now")) }
                                        }
                                    }
                                }
                            }
                        }
                        @if deliveries.is_empty() { tr { td colspan="6" { (lang.pick("还没有推送记录。", "Nothing pushed yet.")) } } }
                    }
                }
            }
        }
        @if agreement.revoked_at.is_some() {
            p.warning { (lang.pick("该协议已撤销，不再推送，也不能设置推送。", "The agreement is revoked: nothing is pushed.")) }
        } @else if allowed.is_empty() {
            p.warning { (lang.pick("该协议的授权内容不包含可以推送的事件（需要“查看本单位项目的预约”）。", "The agreement grants nothing that can be pushed.")) }
        } @else {
            form.stack.boxed #webhook-form method="post" action=(here) novalidate {
                (csrf(staff))
                h2 { @if is_set { (lang.pick("修改推送设置", "Change the push")) } @else { (lang.pick("设置推送", "Set up the push")) } }
                (general_errors(errors, &["url", "event_types", "confirm"]))
                div.field.invalid[url_error.is_some()] {
                    label for="f-url" { (lang.pick("对方接收地址（以 http:// 或 https:// 开头）", "Receiver address (http:// or https://)")) span.req aria-hidden="true" { " *" } }
                    input #f-url type="url" name="url" value=(typed.url) placeholder="https://"
                        aria-invalid=[url_error.map(|_| "true")] aria-describedby=[url_error.map(|_| "f-url-error")];
                    @if let Some(e) = url_error { span.error #f-url-error role="alert" { (e) } }
                }
                fieldset.field.invalid[events_error.is_some()] #events {
                    legend { (lang.pick("推送哪些事件", "Which events")) span.req aria-hidden="true" { " *" } }
                    @for e in &allowed {
                        div { label { input type="checkbox" name="event_types" value=(e) checked[typed.events.iter().any(|t| t == e)]; (event_words(lang, e)) } }
                    }
                    @if let Some(e) = events_error { span.error #f-event_types-error role="alert" { (e) } }
                }
                @if is_set {
                    div.field.invalid[confirm_error.is_some()] {
                        label { input #f-confirm type="checkbox" name="confirm" value="yes" checked[typed.confirm];
                            (lang.pick("我知道保存后会生成新的签名密钥，原密钥立即失效，须把新密钥交给对方", "Saving makes a new signing key; the old one stops working at once")) }
                        @if let Some(e) = confirm_error { span.error #f-confirm-error role="alert" { (e) } }
                    }
                }
                button type="submit" { (lang.pick("保存推送设置", "Save")) }
            }
        }
    };
    let mut response = super::layout(
        staff,
        Section::Partners,
        None,
        &format!("{} · {}", partner.name, lang.pick("推送设置", "Push")),
        content,
    );
    if !errors.is_empty() {
        *response.status_mut() = StatusCode::BAD_REQUEST;
    }
    Ok(response)
}

/// `GET /partners/{partner}/agreements/{agreement}/webhook`.
pub async fn show(
    State(state): State<AppState>,
    staff: Staff,
    Path((partner, agreement)): Path<(String, String)>,
    Query(query): Query<WebhookQuery>,
) -> Page {
    let said = match query.done.as_str() {
        "replayed" => Said::Replayed(query.n),
        _ => Said::None,
    };
    webhook_page(
        &state,
        &staff,
        &partner,
        &agreement,
        said,
        &FieldErrors::default(),
        None,
    )
    .await
}

/// `POST …/webhook`: the address and the events; the page answers with the signing key
/// (never put in an address, so it is not kept in the browser's history).
pub async fn set(
    State(state): State<AppState>,
    Path((partner, agreement)): Path<(String, String)>,
    posted: Posted,
) -> Page {
    let staff = &posted.staff;
    staff.require(Section::Partners)?;
    let lang = staff.lang;
    let typed = Typed {
        url: posted.get("url").to_owned(),
        events: posted.all("event_types"),
        confirm: posted.get("confirm") == "yes",
    };
    let mut errors = FieldErrors::default();
    let current = state
        .registry
        .clone()
        .get_agreement_webhook(staff.grpc(pb::GetAgreementWebhookRequest {
            partner_id: partner.clone(),
            agreement_id: agreement.clone(),
        }))
        .await?
        .into_inner();
    if !current.url.is_empty() && !typed.confirm {
        errors.push(
            "confirm",
            lang.pick(
                "请先勾选确认：保存后原密钥失效",
                "Tick to confirm the old key stops working",
            ),
        );
    }
    if errors.is_empty() {
        let set = state
            .registry
            .clone()
            .set_agreement_webhook(staff.grpc(pb::SetAgreementWebhookRequest {
                partner_id: partner.clone(),
                agreement_id: agreement.clone(),
                url: typed.url.clone(),
                event_types: typed.events.clone(),
            }))
            .await;
        match set {
            Ok(set) => {
                let secret = set.into_inner().secret;
                return webhook_page(
                    &state,
                    staff,
                    &partner,
                    &agreement,
                    Said::Set(secret),
                    &FieldErrors::default(),
                    None,
                )
                .await;
            }
            Err(status) if is_refusal(&status) => {
                errors = FieldErrors::from_status(&status, lang);
                // event_types[0] is said beside the list.
                for e in errors.0.iter_mut() {
                    if let Some((base, _)) = e.0.split_once('[') {
                        e.0 = base.to_owned();
                    }
                }
            }
            Err(status) => return Err(status.into()),
        }
    }
    webhook_page(
        &state,
        staff,
        &partner,
        &agreement,
        Said::None,
        &errors,
        Some(typed),
    )
    .await
}

/// `POST …/webhook/replay`: one failed delivery sent again now.
pub async fn replay(
    State(state): State<AppState>,
    Path((partner, agreement)): Path<(String, String)>,
    posted: Posted,
) -> Page {
    let staff = &posted.staff;
    staff.require(Section::Partners)?;
    let replayed = state
        .registry
        .clone()
        .replay_webhook_deliveries(staff.grpc(pb::ReplayWebhookDeliveriesRequest {
            partner_id: partner.clone(),
            agreement_id: agreement.clone(),
            delivery_id: posted.get("delivery_id").to_owned(),
            since: String::new(),
        }))
        .await;
    match replayed {
        Ok(r) => Ok(axum::response::IntoResponse::into_response(
            axum::response::Redirect::to(&format!(
                "/partners/{partner}/agreements/{agreement}/webhook?done=replayed&n={}",
                r.into_inner().replayed
            )),
        )),
        Err(status) if is_refusal(&status) => {
            let errors = FieldErrors::from_status(&status, staff.lang);
            let mut general = FieldErrors::default();
            for (_, m) in errors.0 {
                general.push("general", m);
            }
            webhook_page(
                &state,
                staff,
                &partner,
                &agreement,
                Said::None,
                &general,
                None,
            )
            .await
        }
        Err(status) => Err(status.into()),
    }
}
