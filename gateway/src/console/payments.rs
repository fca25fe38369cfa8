//! Money that arrives (issue 24): what a resident owes, shown on their page with a 收费
//! action; the 收费 form (method, reference, amount) with its printed receipt; a refund of
//! a payment with its reason; and the centre's receivables for the finance officer. All
//! through finance's RecordPayment / RefundPayment / GetPayment / ListReceivables, which
//! decide who may and how much.

use std::collections::HashMap;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use chrono::NaiveDate;
use linli_platform::auth::Role;
use linli_proto::bookings::v1 as bk;
use linli_proto::finance::v1 as fi;
use linli_proto::registry::v1 as pb;
use maud::{Markup, html};
use serde::Deserialize;

use super::finance::{capitals, parse_yuan};
use super::listing::{PAGE, every_page};
use super::{
    FieldErrors, Lang, Page, Posted, Query, Refusal, Section, Staff, csrf, date, general_errors,
    i18n, instant, money, notice, zone,
};
use crate::AppState;

const METHODS: [&str; 4] = ["cash", "bank_transfer", "wechat_pay", "alipay"];

/// Who takes money at the desk (finance's PAYMENT_TAKERS).
fn takes_payments(staff: &Staff) -> bool {
    use Role::*;
    [DistrictAdmin, CentreManager, FinanceOfficer, FrontDesk]
        .iter()
        .any(|r| staff.has_role(*r))
}

/// Who gives money back (finance's WRITERS).
fn refunds(staff: &Staff) -> bool {
    use Role::*;
    [DistrictAdmin, CentreManager, FinanceOfficer]
        .iter()
        .any(|r| staff.has_role(*r))
}

/// The centre of a payment page, for a role that takes payments.
fn payment_centre(staff: &Staff, centre: &str) -> Result<pb::Centre, Refusal> {
    let centre = staff.centre(Section::Dashboard, centre)?;
    if !takes_payments(staff) && !refunds(staff) {
        return Err(Refusal::forbidden());
    }
    Ok(centre)
}

async fn receivables(
    state: &AppState,
    staff: &Staff,
    centre: &str,
    resident: &str,
) -> Result<(Vec<fi::Receivable>, i64), Refusal> {
    let mut outstanding = 0;
    let list = every_page(|page_token| {
        let mut finance = state.finance.clone();
        let request = staff.grpc(fi::ListReceivablesRequest {
            centre_id: centre.to_owned(),
            resident_id: resident.to_owned(),
            include_settled: false,
            page_size: PAGE,
            page_token,
        });
        async move {
            let reply = finance.list_receivables(request).await?.into_inner();
            Ok::<_, Refusal>((
                vec![(reply.receivables, reply.outstanding_minor)],
                reply.next_page_token,
            ))
        }
    })
    .await?;
    let mut all = Vec::new();
    for (page, total) in list {
        all.extend(page);
        outstanding = total;
    }
    Ok((all, outstanding))
}

/// What each charge was for, in words: the offering's name and the session's day.
async fn what_for(
    state: &AppState,
    staff: &Staff,
    centre: &pb::Centre,
    charges: &[fi::Receivable],
) -> Result<HashMap<String, String>, Refusal> {
    let lang = staff.lang;
    let offerings: HashMap<String, String> = state
        .bookings
        .clone()
        .list_offerings(staff.grpc(bk::ListOfferingsRequest {
            centre_id: centre.id.clone(),
            ..Default::default()
        }))
        .await?
        .into_inner()
        .offerings
        .into_iter()
        .map(|o| (o.id, o.name))
        .collect();
    let tz = zone(centre);
    let mut out = HashMap::new();
    for c in charges {
        if out.contains_key(&c.booking_id) || c.booking_id.is_empty() {
            continue;
        }
        let booking = state
            .bookings
            .clone()
            .get_booking(staff.grpc(bk::GetBookingRequest {
                centre_id: centre.id.clone(),
                booking_id: c.booking_id.clone(),
            }))
            .await;
        let text = match booking {
            Ok(b) => {
                let b = b.into_inner();
                let name = offerings.get(&b.offering_id).cloned().unwrap_or_else(|| {
                    lang.pick("（已停用的服务）", "(withdrawn service)")
                        .to_owned()
                });
                let at = instant(&b.starts_at)
                    .or_else(|| b.seats.iter().filter_map(|s| instant(&s.starts_at)).min());
                match at {
                    Some(t) => {
                        format!("{name} · {}", date(lang, t.with_timezone(&tz).date_naive()))
                    }
                    None => name,
                }
            }
            Err(_) => lang.pick("服务费用", "Service fee").to_owned(),
        };
        out.insert(c.booking_id.clone(), text);
    }
    Ok(out)
}

fn day(lang: Lang, iso: &str) -> String {
    NaiveDate::parse_from_str(iso, "%Y-%m-%d")
        .map(|d| date(lang, d))
        .unwrap_or_else(|_| iso.to_owned())
}

/// The 应缴费用 section of a resident's page: what they owe, with 收费 for each.
pub async fn section(
    state: &AppState,
    staff: &Staff,
    centre: &pb::Centre,
    resident: &str,
) -> Result<Markup, Refusal> {
    if !takes_payments(staff) {
        return Ok(html! {});
    }
    let lang = staff.lang;
    let (charges, outstanding) = receivables(state, staff, &centre.id, resident).await?;
    let what = what_for(state, staff, centre, &charges).await?;
    Ok(html! {
        section #charges {
            h2 { (lang.pick("应缴费用", "Charges to pay")) }
            @if charges.is_empty() {
                p.muted { (lang.pick("没有未缴的费用。", "Nothing outstanding.")) }
            } @else {
                table {
                    thead { tr {
                        th { (lang.pick("费用项目", "For")) }
                        th.num { (lang.pick("金额", "Amount")) }
                        th.num { (lang.pick("尚欠", "Outstanding")) }
                        th { (lang.pick("计费日期", "Charged on")) }
                        th {}
                    } }
                    tbody {
                        @for c in &charges {
                            tr data-charge=(c.charge_id) {
                                td { (what.get(&c.booking_id).cloned().unwrap_or_default()) }
                                td.num { (money(c.amount_minor)) }
                                td.num { (money(c.outstanding_minor)) }
                                td { (day(lang, &c.charged_on)) }
                                td { @if c.outstanding_minor > 0 {
                                    a.button href=(format!("/c/{}/payments/new?charge={}", centre.id, c.charge_id)) { (lang.pick("收费", "Take payment")) }
                                } }
                            }
                        }
                    }
                    tfoot { tr {
                        th { (lang.pick("合计尚欠", "Total outstanding")) }
                        td {}
                        td.num #charges-outstanding { strong { (money(outstanding)) } }
                        td {} td {}
                    } }
                }
            }
        }
    })
}

#[derive(Deserialize, Default)]
pub struct ChargeQuery {
    #[serde(default)]
    charge: String,
}

async fn charge_of(
    state: &AppState,
    staff: &Staff,
    centre: &pb::Centre,
    charge: &str,
) -> Result<fi::Receivable, Refusal> {
    let (charges, _) = receivables(state, staff, &centre.id, "").await?;
    charges
        .into_iter()
        .find(|c| c.charge_id == charge)
        .ok_or_else(Refusal::not_found)
}

async fn pay_page(
    state: &AppState,
    staff: &Staff,
    centre: &pb::Centre,
    charge: &fi::Receivable,
    posted: Option<&Posted>,
    errors: &FieldErrors,
) -> Page {
    let lang = staff.lang;
    let what = what_for(state, staff, centre, std::slice::from_ref(charge)).await?;
    let names = super::bookings::names_of(
        state,
        staff,
        &centre.id,
        std::slice::from_ref(&charge.resident_id),
        "",
    )
    .await
    .unwrap_or_default();
    let value = |name: &str, default: String| posted.map_or(default, |p| p.get(name).to_owned());
    let method = value("method", String::new());
    let reference = value("reference", String::new());
    let amount = value("amount", yuan(charge.outstanding_minor));
    let back = if charge.resident_id.is_empty() || !staff.may(Section::Residents) {
        format!("/c/{}/finance/receivables", centre.id)
    } else {
        format!("/c/{}/residents/{}", centre.id, charge.resident_id)
    };
    let content = html! {
        p { a href=(back) { "← " (lang.pick("返回", "Back")) } }
        dl.facts #charge {
            @if let Some(n) = names.get(&charge.resident_id) { dt { (lang.pick("居民", "Resident")) } dd { (n) } }
            dt { (lang.pick("费用项目", "For")) } dd { (what.get(&charge.booking_id).cloned().unwrap_or_default()) }
            dt { (lang.pick("计费日期", "Charged on")) } dd { (day(lang, &charge.charged_on)) }
            dt { (lang.pick("尚欠", "Outstanding")) } dd #outstanding { strong { (money(charge.outstanding_minor)) } }
        }
        form.stack #pay method="post" action=(format!("/c/{}/payments/new?charge={}", centre.id, charge.charge_id)) novalidate {
            (csrf(staff))
            (general_errors(errors, &["method", "reference", "amount"]))
            fieldset.field.invalid[errors.get("method").is_some()] {
                legend { (lang.pick("收款方式", "Method")) span.req aria-hidden="true" { " *" } }
                @for m in METHODS {
                    label.choice { input type="radio" name="method" value=(m) checked[method == m]; " " (i18n::term(lang, m)) }
                    " "
                }
                @if let Some(e) = errors.get("method") { span.error #f-method-error role="alert" { (e) } }
            }
            (super::field(lang, "reference", lang.pick("交易单号（现金不填）", "Transaction reference (not for cash)"), "text", &reference, errors, false))
            (super::field(lang, "amount", lang.pick("收款金额（元）", "Amount (yuan)"), "text", &amount, errors, true))
            button type="submit" { (lang.pick("收款并打印收据", "Take payment and print the receipt")) }
        }
    };
    let mut response = super::layout(
        staff,
        Section::Residents,
        Some(centre),
        lang.pick("收费", "Take payment"),
        content,
    );
    if !errors.is_empty() {
        *response.status_mut() = StatusCode::BAD_REQUEST;
    }
    Ok(response)
}

/// Fen as the amount box shows it: 35 or 35.50.
fn yuan(minor: i64) -> String {
    let minor = minor.max(0);
    if minor % 100 == 0 {
        (minor / 100).to_string()
    } else {
        format!("{}.{:02}", minor / 100, minor % 100)
    }
}

/// The 收费 form for one charge, the amount prefilled with what is outstanding.
pub async fn new_payment(
    State(state): State<AppState>,
    staff: Staff,
    Path(centre): Path<String>,
    Query(query): Query<ChargeQuery>,
) -> Page {
    let centre = payment_centre(&staff, &centre)?;
    if !takes_payments(&staff) {
        return Err(Refusal::forbidden());
    }
    let charge = charge_of(&state, &staff, &centre, &query.charge).await?;
    pay_page(
        &state,
        &staff,
        &centre,
        &charge,
        None,
        &FieldErrors::default(),
    )
    .await
}

pub async fn record_payment(
    State(state): State<AppState>,
    Path(centre): Path<String>,
    Query(query): Query<ChargeQuery>,
    posted: Posted,
) -> Page {
    let staff = &posted.staff;
    let centre = payment_centre(staff, &centre)?;
    if !takes_payments(staff) {
        return Err(Refusal::forbidden());
    }
    let lang = staff.lang;
    let charge = charge_of(&state, staff, &centre, &query.charge).await?;
    let mut errors = FieldErrors::default();
    let method = posted.get("method").to_owned();
    if !METHODS.contains(&method.as_str()) {
        errors.push(
            "method",
            lang.pick("请选择收款方式", "Choose how it was paid"),
        );
    }
    let reference = posted.get("reference").trim().to_owned();
    if reference.is_empty() && METHODS.contains(&method.as_str()) && method != "cash" {
        errors.push(
            "reference",
            lang.pick(
                "银行转账、微信支付或支付宝须填写交易单号",
                "Enter the transaction reference",
            ),
        );
    }
    let amount = match parse_yuan(lang, posted.get("amount")) {
        Ok(a) if a > charge.outstanding_minor => {
            errors.push(
                "amount",
                format!(
                    "{}{}",
                    lang.pick(
                        "收款金额超过尚欠金额：这笔费用还欠 ",
                        "More than is outstanding: "
                    ),
                    money(charge.outstanding_minor)
                ),
            );
            0
        }
        Ok(a) => a,
        Err(e) => {
            errors.push("amount", e);
            0
        }
    };
    if errors.is_empty() {
        let recorded = state
            .finance
            .clone()
            .record_payment(staff.grpc(fi::RecordPaymentRequest {
                centre_id: centre.id.clone(),
                charge_id: charge.charge_id.clone(),
                amount_minor: amount,
                method,
                reference,
                received_on: String::new(),
            }))
            .await;
        match recorded {
            Ok(p) => {
                let p = p.into_inner();
                return Ok(Redirect::to(&format!(
                    "/c/{}/payments/{}?notice=recorded",
                    centre.id, p.id
                ))
                .into_response());
            }
            Err(status) if super::is_refusal(&status) => {
                for (field, message) in FieldErrors::from_status(&status, lang).0 {
                    let field = match field.as_str() {
                        "amount_minor" | "general" => "amount",
                        "reference" => "reference",
                        "method" => "method",
                        _ => "general",
                    };
                    errors.push(field, message);
                }
            }
            Err(status) => return Err(status.into()),
        }
    }
    pay_page(&state, staff, &centre, &charge, Some(&posted), &errors).await
}

#[derive(Deserialize, Default)]
pub struct ReceiptQuery {
    #[serde(default)]
    notice: String,
}

/// A payment's receipt, laid out like the donation receipt (its print styles), with the
/// 退款 form for those who give money back.
pub async fn receipt(
    State(state): State<AppState>,
    staff: Staff,
    Path((centre, payment)): Path<(String, String)>,
    Query(query): Query<ReceiptQuery>,
) -> Page {
    let centre = payment_centre(&staff, &centre)?;
    receipt_page(
        &state,
        &staff,
        &centre,
        &payment,
        &query.notice,
        None,
        &FieldErrors::default(),
    )
    .await
}

async fn receipt_page(
    state: &AppState,
    staff: &Staff,
    centre: &pb::Centre,
    payment: &str,
    notice_code: &str,
    posted: Option<&Posted>,
    errors: &FieldErrors,
) -> Page {
    let lang = staff.lang;
    super::parse_uuid(payment)?;
    let p = state
        .finance
        .clone()
        .get_payment(staff.grpc(fi::GetPaymentRequest {
            centre_id: centre.id.clone(),
            payment_id: payment.to_owned(),
        }))
        .await?
        .into_inner();
    let names = super::bookings::names_of(
        state,
        staff,
        &centre.id,
        std::slice::from_ref(&p.resident_id),
        "",
    )
    .await
    .unwrap_or_default();
    let charge = fi::Receivable {
        charge_id: p.charge_id.clone(),
        booking_id: p.booking_id.clone(),
        ..Default::default()
    };
    let what = what_for(state, staff, centre, std::slice::from_ref(&charge)).await?;
    let left = p.amount_minor - p.refunded_minor;
    let reason = posted
        .map(|x| x.get("reason").to_owned())
        .unwrap_or_default();
    // Back to the resident for the desk; to the receivables for finance, which does not
    // open residents' pages.
    let (back, back_text) = if !p.resident_id.is_empty() && staff.may(Section::Residents) {
        (
            format!("/c/{}/residents/{}", centre.id, p.resident_id),
            lang.pick("返回居民", "Back to the resident"),
        )
    } else if staff.may(Section::Finance) {
        (
            format!("/c/{}/finance/receivables", centre.id),
            lang.pick("返回应收款", "Back to receivables"),
        )
    } else {
        (
            format!("/c/{}/dashboard", centre.id),
            lang.pick("返回概览", "Back to the dashboard"),
        )
    };
    let content = html! {
        @if notice_code == "recorded" { (notice(lang.pick("已收款。请打印收据交给居民。", "Payment recorded. Print the receipt."))) }
        @if notice_code == "refunded" { (notice(lang.pick("已退款。", "Refunded."))) }
        p.no-print {
            button #print type="button" data-print { (lang.pick("打印收据", "Print the receipt")) }
            " "
            a.button.secondary #back href=(back) { (back_text) }
        }
        article.receipt #receipt {
            header {
                p.centre-name { (centre.name) }
                h2 { (lang.pick("收 款 收 据", "Receipt")) }
                p.number { (lang.pick("收据编号：", "Receipt no. ")) strong #receipt-number { (p.receipt) } }
            }
            table {
                tbody {
                    @if let Some(n) = names.get(&p.resident_id) { tr { th { (lang.pick("付款人", "Paid by")) } td #receipt-payer { (n) } } }
                    tr { th { (lang.pick("费用项目", "For")) } td { (what.get(&p.booking_id).cloned().unwrap_or_default()) } }
                    tr { th { (lang.pick("金额（小写）", "Amount")) } td #receipt-amount { (money(p.amount_minor)) } }
                    tr { th { (lang.pick("金额（大写）", "In words")) } td #receipt-capitals { (lang.pick("人民币", "RMB ")) (capitals(p.amount_minor)) } }
                    tr { th { (lang.pick("收款方式", "Received as")) } td #receipt-method { (i18n::term(lang, &p.method)) } }
                    @if !p.reference.is_empty() { tr { th { (lang.pick("交易单号", "Reference")) } td { (p.reference) } } }
                    tr { th { (lang.pick("收款日期", "Date")) } td #receipt-date { (day(lang, &p.received_on)) } }
                    @for r in &p.refunds {
                        tr.refund { th { (lang.pick("已退款", "Refunded")) } td { (money(r.amount_minor)) " · " (day(lang, &r.refunded_on)) " · " (r.reason) } }
                    }
                }
            }
            footer {
                span { (lang.pick("收款单位（盖章）：", "Received by (seal): ")) (centre.name) }
                span { (lang.pick("经手人：", "Handled by: ")) span.blank {} }
            }
        }
        @if refunds(staff) && left > 0 {
            section.no-print #refund {
                h2 { (lang.pick("退款", "Refund")) }
                form.stack method="post" action=(format!("/c/{}/payments/{}/refund", centre.id, p.id)) novalidate {
                    (csrf(staff))
                    @if !errors.is_empty() { span hidden data-page-url=(format!("/c/{}/payments/{}", centre.id, p.id)) {} }
                    (general_errors(errors, &["reason", "confirm"]))
                    (super::field(lang, "reason", lang.pick("退款原因", "Reason"), "text", &reason, errors, true))
                    div.field.invalid[errors.get("confirm").is_some()] {
                        label.choice { input #f-confirm type="checkbox" name="confirm" value="yes"; " " (lang.pick("我已核对，确认按原方式退还 ", "I confirm giving back ")) (money(left)) }
                        @if let Some(e) = errors.get("confirm") { span.error #f-confirm-error role="alert" { (e) } }
                    }
                    button.danger type="submit" { (lang.pick("退款", "Refund")) }
                }
            }
        }
    };
    let mut response = super::layout(
        staff,
        Section::Residents,
        Some(centre),
        lang.pick("收款收据", "Receipt"),
        content,
    );
    if !errors.is_empty() {
        *response.status_mut() = StatusCode::BAD_REQUEST;
    }
    Ok(response)
}

pub async fn refund(
    State(state): State<AppState>,
    Path((centre, payment)): Path<(String, String)>,
    posted: Posted,
) -> Page {
    let staff = &posted.staff;
    let centre = payment_centre(staff, &centre)?;
    if !refunds(staff) {
        return Err(Refusal::forbidden());
    }
    let lang = staff.lang;
    let mut errors = FieldErrors::default();
    let reason = posted.get("reason").trim().to_owned();
    if reason.is_empty() {
        errors.push("reason", lang.pick("请填写退款原因", "Give the reason"));
    }
    if posted.get("confirm") != "yes" {
        errors.push(
            "confirm",
            lang.pick("请勾选确认后再退款", "Tick to confirm the refund"),
        );
    }
    if errors.is_empty() {
        let refunded = state
            .finance
            .clone()
            .refund_payment(staff.grpc(fi::RefundPaymentRequest {
                centre_id: centre.id.clone(),
                payment_id: payment.clone(),
                amount_minor: 0,
                reason,
                refunded_on: String::new(),
            }))
            .await;
        match refunded {
            Ok(_) => {
                return Ok(Redirect::to(&format!(
                    "/c/{}/payments/{}?notice=refunded",
                    centre.id, payment
                ))
                .into_response());
            }
            Err(status) if super::is_refusal(&status) => {
                for (field, message) in FieldErrors::from_status(&status, lang).0 {
                    let field = if field == "reason" {
                        "reason"
                    } else {
                        "general"
                    };
                    errors.push(field, message);
                }
            }
            Err(status) => return Err(status.into()),
        }
    }
    receipt_page(&state, staff, &centre, &payment, "", Some(&posted), &errors).await
}

/// The centre's 应收款: every charge not settled, for the finance officer.
pub async fn list(State(state): State<AppState>, staff: Staff, Path(centre): Path<String>) -> Page {
    let centre = staff.centre(Section::Finance, &centre)?;
    let lang = staff.lang;
    let (charges, outstanding) = receivables(&state, &staff, &centre.id, "").await?;
    let what = what_for(&state, &staff, &centre, &charges).await?;
    let mut ids: Vec<String> = charges
        .iter()
        .map(|c| c.resident_id.clone())
        .filter(|id| !id.is_empty())
        .collect();
    ids.sort();
    ids.dedup();
    let names = super::bookings::names_of(&state, &staff, &centre.id, &ids, "")
        .await
        .unwrap_or_default();
    let takes = takes_payments(&staff);
    let content = html! {
        p { a href=(format!("/c/{}/finance", centre.id)) { "← " (lang.pick("返回财务", "Back to finance")) } }
        p { (lang.pick("尚未收齐的费用合计：", "Outstanding in all: ")) strong #receivables-outstanding { (money(outstanding)) } }
        table #receivables {
            thead { tr {
                th { (lang.pick("居民", "Resident")) }
                th { (lang.pick("费用项目", "For")) }
                th { (lang.pick("计费日期", "Charged on")) }
                th.num { (lang.pick("金额", "Amount")) }
                th.num { (lang.pick("已收", "Paid")) }
                th.num { (lang.pick("尚欠", "Outstanding")) }
                th {}
            } }
            tbody {
                @for c in &charges {
                    tr data-charge=(c.charge_id) {
                        td { @if let Some(n) = names.get(&c.resident_id) {
                            a href=(format!("/c/{}/residents/{}", centre.id, c.resident_id)) { (n) }
                        } @else if c.resident_id.is_empty() {
                            (lang.pick("（早期费用，未记居民）", "(older charge, no resident)"))
                        } @else {
                            span.muted { (lang.pick("（姓名由前台查看）", "(name at the front desk)")) }
                        } }
                        td { (what.get(&c.booking_id).cloned().unwrap_or_default()) }
                        td { (day(lang, &c.charged_on)) }
                        td.num { (money(c.amount_minor)) }
                        td.num { (money(c.paid_minor)) }
                        td.num { (money(c.outstanding_minor)) }
                        td { @if takes && c.outstanding_minor > 0 {
                            a.button href=(format!("/c/{}/payments/new?charge={}", centre.id, c.charge_id)) { (lang.pick("收费", "Take payment")) }
                        } }
                    }
                }
                @if charges.is_empty() { tr { td colspan="7" { (lang.pick("没有未收的费用。", "Nothing outstanding.")) } } }
            }
        }
    };
    Ok(super::layout(
        &staff,
        Section::Finance,
        Some(&centre),
        lang.pick("应收款", "Receivables"),
        content,
    ))
}
