//! Finance: budget against actual per category as a chart, income by funding source,
//! self-sufficiency against the plan's target, and the transparency report as CSV; and the
//! finance officer's writing: a donation with its printed receipt, an expense, closing a
//! month.

use super::Query;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use chrono::{Datelike, NaiveDate};
use linli_platform::auth::Role;
use linli_proto::finance::v1 as fi;
use linli_proto::registry::v1 as pb;
use maud::{Markup, html};
use serde::Deserialize;

use super::listing::{PAGE, every_page};
use super::{
    FieldErrors, Lang, Page, Posted, Refusal, Section, Staff, charts, csrf, field, general_errors,
    i18n, instant, is_refusal, money, notice, today, when, zone,
};
use crate::AppState;

#[derive(Deserialize, Default)]
pub struct YearQuery {
    year: Option<i32>,
    #[serde(default)]
    notice: String,
}

async fn report(
    state: &AppState,
    staff: &Staff,
    centre: &str,
    from: String,
    to: String,
) -> Result<fi::TransparencyReport, super::Refusal> {
    Ok(state
        .finance
        .clone()
        .get_transparency_report(staff.grpc(fi::GetTransparencyReportRequest {
            centre_id: centre.to_owned(),
            from,
            to,
        }))
        .await?
        .into_inner())
}

pub(super) fn range(staff_today: chrono::NaiveDate, year: Option<i32>) -> (i32, String, String) {
    let year = year
        .filter(|y| (2000..=2100).contains(y))
        .unwrap_or(staff_today.year());
    let last = if year == staff_today.year() {
        staff_today.month()
    } else {
        12
    };
    (
        year,
        format!("{year:04}-01"),
        format!("{year:04}-{last:02}"),
    )
}

pub async fn overview(
    State(state): State<AppState>,
    staff: Staff,
    Path(centre): Path<String>,
    Query(query): Query<YearQuery>,
) -> Page {
    let centre = staff.centre(Section::Finance, &centre)?;
    let lang = staff.lang;
    let (year, from, to) = range(today(&centre), query.year);
    let r = report(&state, &staff, &centre.id, from.clone(), to.clone()).await?;
    let budget = r.budget_execution.clone().unwrap_or_default();
    let sufficiency = r.self_sufficiency.clone().unwrap_or_default();
    let rows: Vec<(String, i64, i64)> = budget
        .categories
        .iter()
        .map(|c| {
            (
                i18n::term(lang, &c.category),
                c.budget_minor,
                c.actual_minor,
            )
        })
        .collect();
    let income: Vec<(String, i64)> = r
        .income_by_source
        .iter()
        .map(|a| (i18n::term(lang, &a.key), a.amount_minor))
        .collect();
    let donations = every_page(|page_token| async {
        let reply = state
            .finance
            .clone()
            .list_donations(staff.grpc(fi::ListDonationsRequest {
                centre_id: centre.id.clone(),
                receipt_year: year,
                page_size: PAGE,
                page_token,
            }))
            .await?
            .into_inner();
        Ok::<_, Refusal>((reply.donations, reply.next_page_token))
    })
    .await?;
    let base = format!("/c/{}/finance", centre.id);
    let content = html! {
        @match query.notice.as_str() {
            "expense" => { (notice(lang.pick("已登记支出。", "Expense recorded."))) }
            "grant" => { (notice(lang.pick("已登记拨款。", "Grant recorded."))) }
            "partnership" => { (notice(lang.pick("已登记项目合作收入。", "Partnership income recorded."))) }
            _ => {}
        }
        @if writes(&staff) {
            nav.actions aria-label=(lang.pick("记账", "Bookkeeping")) {
                a.button #new-donation href=(format!("{base}/donations/new")) { (lang.pick("登记捐赠", "Record a donation")) }
                a.button #new-expense href=(format!("{base}/expenses/new")) { (lang.pick("登记支出", "Record an expense")) }
                a.button #new-grant href=(format!("{base}/grants/new")) { (lang.pick("登记拨款", "Record a grant")) }
                a.button #new-partnership href=(format!("{base}/partnership/new")) { (lang.pick("登记合作收入", "Record partnership income")) }
                a.button.secondary #new-entry-link href=(format!("{base}/entries/new")) { (lang.pick("手工记账", "Post an entry")) }
                a.button.secondary #periods-link href=(format!("{base}/periods")) { (lang.pick("月末结账", "Close a month")) }
            }
        }
        nav.actions aria-label=(lang.pick("账簿", "Books")) {
            a.button.secondary #budget-link href=(format!("{base}/budget?year={year}")) { (lang.pick("预算设置与执行", "Budget")) }
            a.button.secondary #entries-link href=(format!("{base}/entries")) { (lang.pick("账目与冲销", "Journal entries")) }
            a.button.secondary #receivables-link href=(format!("{base}/receivables")) { (lang.pick("应收款", "Receivables")) }
        }
        form.filters method="get" {
            label for="year" { (lang.pick("年度", "Year")) }
            input #year type="number" name="year" min="2000" max="2100" value=(year);
            button type="submit" { (lang.pick("查看", "Show")) }
            a.button href=(format!("/c/{}/finance/transparency.csv?year={year}", centre.id)) download { (lang.pick("下载公开报告 (CSV)", "Download the transparency report (CSV)")) }
        }
        section #self-sufficiency {
            h2 { (i18n::kpi(lang, "self_sufficiency")) " · " (from) " – " (to) }
            p.big {
                strong { (format!("{:.1}%", sufficiency.ratio_basis_points as f64 / 100.0)) }
                " " (lang.pick("（目标 ≥ 50%）", "(target ≥ 50%)")) " "
                @if sufficiency.meets_target { span.badge.ok { "✓ " (lang.pick("达标", "met")) } } @else { span.badge.warn { "✗ " (lang.pick("未达标", "below")) } }
            }
            p { (lang.pick("自有收入 ", "Own income ")) (money(sufficiency.own_income_minor)) " · " (lang.pick("支出 ", "expenditure ")) (money(sufficiency.expenditure_minor)) }
        }
        section {
            h2 { (lang.pick("预算执行", "Budget against actual")) " · " (year) }
            (charts::paired_bars(lang.pick("预算执行", "Budget against actual"), &rows, (lang.pick("预算", "budget"), lang.pick("实际", "actual")), money))
            table #budget {
                thead { tr { th { (lang.pick("类别", "Category")) } th { (lang.pick("预算", "Budget")) } th { (lang.pick("实际", "Actual")) } th { (lang.pick("执行率", "Executed")) } } }
                tbody {
                    @for c in &budget.categories {
                        tr { td { (i18n::term(lang, &c.category)) } td.num { (money(c.budget_minor)) } td.num { (money(c.actual_minor)) } td.num { (format!("{:.1}%", c.executed_basis_points as f64 / 100.0)) } }
                    }
                    tr.total { th { (lang.pick("合计", "Total")) } td.num { (money(budget.budget_total_minor)) } td.num { (money(budget.actual_total_minor)) } td {} }
                }
            }
        }
        section {
            h2 { (lang.pick("收入来源", "Income by funding source")) }
            (charts::bars(lang.pick("收入来源", "Income by funding source"), &income, money))
            table #income {
                tbody {
                    @for (label, amount) in &income { tr { td { (label) } td.num { (money(*amount)) } } }
                    tr.total { th { (lang.pick("合计", "Total")) } td.num { (money(r.income_total_minor)) } }
                }
            }
        }
        section {
            h2 { (lang.pick("捐赠与收据", "Donations and receipts")) " · " (year) }
            table #donations {
                thead { tr { th { (lang.pick("收据编号", "Receipt")) } th { (lang.pick("日期", "Date")) } th { (lang.pick("捐赠人", "Donor")) } th.num { (lang.pick("金额", "Amount")) } th { span.sr { (lang.pick("操作", "Actions")) } } } }
                tbody {
                    @for d in donations.iter().rev() {
                        tr {
                            td { (d.receipt) }
                            td { (super::i18n::iso_day(lang, &d.received_on)) }
                            td { @if d.anonymous || d.donor_name.is_empty() { (lang.pick("匿名", "Anonymous")) } @else { (d.donor_name) } }
                            td.num { (money(d.amount_minor)) }
                            td { a href=(format!("{base}/donations/{}/receipt?year={}", d.id, d.receipt_year)) { (lang.pick("查看或打印收据", "Receipt")) } }
                        }
                    }
                    @if donations.is_empty() { tr { td colspan="5" { (lang.pick("本年度还没有捐赠。", "No donations this year.")) } } }
                }
            }
        }
    };
    Ok(super::layout(
        &staff,
        Section::Finance,
        Some(&centre),
        &format!("{} · {}", centre.name, lang.pick("财务", "Finance")),
        content,
    ))
}

pub async fn transparency_csv(
    State(state): State<AppState>,
    staff: Staff,
    Path(centre): Path<String>,
    Query(query): Query<YearQuery>,
) -> Page {
    let centre = staff.centre(Section::Finance, &centre)?;
    let (_, from, to) = range(today(&centre), query.year);
    let r = report(&state, &staff, &centre.id, from, to).await?;
    let filename = format!("transparency-{}-{}.csv", r.from, r.to);
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{filename}\""),
            ),
        ],
        super::ledger::transparency_csv(staff.lang, &r).map_err(|_| Refusal {
            status: StatusCode::INTERNAL_SERVER_ERROR,
            detail: String::new(),
        })?,
    )
        .into_response())
}

// ---- Writing: donations with their receipts, expenses, and closing a month. ----

/// Whether the user records money (auditors and the other roles only read).
pub(super) fn writes(staff: &Staff) -> bool {
    [
        Role::DistrictAdmin,
        Role::CentreManager,
        Role::FinanceOfficer,
    ]
    .iter()
    .any(|r| staff.has_role(*r))
}

/// An amount typed in yuan ("1510", "1,510.50", "¥1510元") in fen, or why it is not one.
pub fn parse_yuan(lang: Lang, text: &str) -> Result<i64, String> {
    let cleaned: String = text
        .trim()
        .trim_start_matches(['¥', '￥'])
        .trim_end_matches('元')
        .chars()
        .filter(|c| !matches!(c, ',' | '，' | ' '))
        .collect();
    if cleaned.is_empty() {
        return Err(lang.pick("请填写金额", "Enter the amount").into());
    }
    let malformed = || {
        lang.pick(
            "金额格式不正确，请填写数字，例如 1510 或 1510.50",
            "Write the amount in figures, such as 1510 or 1510.50",
        )
        .to_owned()
    };
    let (whole, part) = cleaned.split_once('.').unwrap_or((&cleaned, ""));
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if whole.is_empty() || !digits(whole) || !digits(part) || part.len() > 2 || whole.len() > 12 {
        return Err(malformed());
    }
    let yuan: i64 = whole.parse().map_err(|_| malformed())?;
    let fen: i64 = format!("{part:0<2}").parse().map_err(|_| malformed())?;
    let minor = yuan * 100 + fen;
    if minor <= 0 {
        return Err(lang
            .pick("金额须大于零", "The amount must be more than zero")
            .into());
    }
    Ok(minor)
}

/// An amount in Chinese capitals as a receipt writes it: 151000 fen is 壹仟伍佰壹拾元整.
pub fn capitals(minor: i64) -> String {
    const DIGITS: [char; 10] = ['零', '壹', '贰', '叁', '肆', '伍', '陆', '柒', '捌', '玖'];
    const PLACES: [&str; 4] = ["仟", "佰", "拾", ""];
    const GROUPS: [&str; 4] = ["", "万", "亿", "万亿"];
    let minor = minor.unsigned_abs();
    let (mut yuan, jiao, fen) = (
        minor / 100,
        (minor / 10 % 10) as usize,
        (minor % 10) as usize,
    );
    let mut groups = Vec::new();
    while yuan > 0 {
        groups.push(yuan % 10_000);
        yuan /= 10_000;
    }
    let mut out = String::new();
    let mut gap = false;
    for (i, group) in groups.iter().enumerate().rev() {
        if *group == 0 {
            gap = !out.is_empty();
            continue;
        }
        if !out.is_empty() && (gap || *group < 1000) {
            out.push('零');
        }
        gap = false;
        let digits = [group / 1000, group / 100 % 10, group / 10 % 10, group % 10];
        let (mut started, mut zero) = (false, false);
        for (place, digit) in digits.iter().enumerate() {
            if *digit == 0 {
                zero = started;
                continue;
            }
            if zero {
                out.push('零');
                zero = false;
            }
            out.push(DIGITS[*digit as usize]);
            out.push_str(PLACES[place]);
            started = true;
        }
        out.push_str(GROUPS[i]);
    }
    let whole = !out.is_empty();
    if whole {
        out.push('元');
    }
    match (jiao, fen) {
        (0, 0) if whole => out.push('整'),
        (0, 0) => out.push_str("零元整"),
        (j, 0) => {
            out.push(DIGITS[j]);
            out.push_str("角整");
        }
        (0, f) => {
            if whole {
                out.push('零');
            }
            out.push(DIGITS[f]);
            out.push('分');
        }
        (j, f) => {
            out.push(DIGITS[j]);
            out.push('角');
            out.push(DIGITS[f]);
            out.push('分');
        }
    }
    out
}

/// A service's refusal on a money form, with the service's field names as the form's.
pub(super) fn money_errors(status: &tonic::Status, lang: Lang) -> FieldErrors {
    let mut errors = FieldErrors::from_status(status, lang);
    for (field, _) in errors.0.iter_mut() {
        if field == "amount_minor" {
            *field = "amount".into();
        }
    }
    errors
}

pub(super) fn finance_page(
    staff: &Staff,
    centre: &pb::Centre,
    title: &str,
    content: Markup,
    failed: bool,
) -> Response {
    let mut response = super::layout(
        staff,
        Section::Finance,
        Some(centre),
        &format!("{} · {title}", centre.name),
        content,
    );
    if failed {
        *response.status_mut() = StatusCode::BAD_REQUEST;
    }
    response
}

pub(super) fn radio(name: &str, value: &str, label: &str, chosen: &str) -> Markup {
    html! { label { input type="radio" name=(name) value=(value) checked[chosen == value]; " " (label) } }
}

fn donation_form(
    staff: &Staff,
    centre: &pb::Centre,
    posted: Option<&Posted>,
    errors: &FieldErrors,
) -> Markup {
    let lang = staff.lang;
    let value = |name: &str| posted.map(|p| p.get(name).to_owned()).unwrap_or_default();
    let received_on = posted.map_or_else(
        || today(centre).to_string(),
        |p| p.get("received_on").to_owned(),
    );
    let method = posted.map_or("cash".to_owned(), |p| p.get("method").to_owned());
    let anonymous = value("anonymous") == "yes";
    html! {
        p { a href=(format!("/c/{}/finance", centre.id)) { "← " (lang.pick("返回财务", "Back to finance")) } }
        form.stack #donation method="post" action=(format!("/c/{}/finance/donations/new", centre.id)) novalidate {
            (csrf(staff))
            (general_errors(errors, &["donor_name", "anonymous", "amount", "purpose", "received_on", "method"]))
            (field(lang, "donor_name", lang.pick("捐赠人姓名或单位", "Donor's name"), "text", &value("donor_name"), errors, false))
            div.field.invalid[errors.get("anonymous").is_some()] {
                label { input #f-anonymous type="checkbox" name="anonymous" value="yes" checked[anonymous]; " " (lang.pick("匿名捐赠（不填姓名）", "Anonymous (no name)")) }
                @if let Some(e) = errors.get("anonymous") { span.error #f-anonymous-error role="alert" { (e) } }
            }
            (field(lang, "amount", lang.pick("金额（元）", "Amount (yuan)"), "text", &value("amount"), errors, true))
            (field(lang, "purpose", lang.pick("用途（可不填）", "Purpose (optional)"), "text", &value("purpose"), errors, false))
            (field(lang, "received_on", lang.pick("收款日期", "Received on"), "date", &received_on, errors, true))
            fieldset.field.invalid[errors.get("method").is_some()] {
                legend { (lang.pick("收款方式", "Received as")) }
                (radio("method", "cash", &i18n::term(lang, "cash"), &method))
                (radio("method", "bank", &i18n::term(lang, "bank"), &method))
                @if let Some(e) = errors.get("method") { span.error #f-method-error role="alert" { (e) } }
            }
            button type="submit" { (lang.pick("登记并打印收据", "Record and print the receipt")) }
        }
    }
}

pub async fn new_donation(staff: Staff, Path(centre): Path<String>) -> Page {
    let centre = staff.centre(Section::Finance, &centre)?;
    if !writes(&staff) {
        return Err(Refusal::forbidden());
    }
    let content = donation_form(&staff, &centre, None, &FieldErrors::default());
    Ok(finance_page(
        &staff,
        &centre,
        staff.lang.pick("登记捐赠", "Record a donation"),
        content,
        false,
    ))
}

pub async fn record_donation(
    State(state): State<AppState>,
    Path(centre): Path<String>,
    posted: Posted,
) -> Page {
    let staff = &posted.staff;
    let centre = staff.centre(Section::Finance, &centre)?;
    if !writes(staff) {
        return Err(Refusal::forbidden());
    }
    let lang = staff.lang;
    let mut errors = FieldErrors::default();
    let anonymous = posted.get("anonymous") == "yes";
    if !anonymous && posted.get("donor_name").is_empty() {
        errors.push(
            "donor_name",
            lang.pick(
                "请填写捐赠人姓名，或勾选匿名捐赠",
                "Enter the donor's name, or tick anonymous",
            ),
        );
    }
    if anonymous && !posted.get("donor_name").is_empty() {
        errors.push(
            "donor_name",
            lang.pick("匿名捐赠不填写姓名", "An anonymous donation names no one"),
        );
    }
    let amount = parse_yuan(lang, posted.get("amount"))
        .map_err(|e| errors.push("amount", e))
        .ok();
    if NaiveDate::parse_from_str(posted.get("received_on"), "%Y-%m-%d").is_err() {
        errors.push(
            "received_on",
            lang.pick("请选择收款日期", "Choose the day it was received"),
        );
    }
    if let (Some(amount), true) = (amount, errors.is_empty()) {
        let recorded = state
            .finance
            .clone()
            .record_donation(staff.grpc(fi::RecordDonationRequest {
                centre_id: centre.id.clone(),
                anonymous,
                donor_name: posted.get("donor_name").to_owned(),
                donor_resident_id: String::new(),
                amount_minor: amount,
                currency: String::new(),
                purpose: posted.get("purpose").to_owned(),
                received_on: posted.get("received_on").to_owned(),
                method: posted.get("method").to_owned(),
            }))
            .await;
        match recorded {
            Ok(donation) => {
                let d = donation.into_inner();
                return Ok(Redirect::to(&format!(
                    "/c/{}/finance/donations/{}/receipt?year={}&notice=recorded",
                    centre.id, d.id, d.receipt_year
                ))
                .into_response());
            }
            Err(status) if is_refusal(&status) => errors = money_errors(&status, lang),
            Err(status) => return Err(status.into()),
        }
    }
    let content = donation_form(staff, &centre, Some(&posted), &errors);
    Ok(finance_page(
        staff,
        &centre,
        lang.pick("登记捐赠", "Record a donation"),
        content,
        true,
    ))
}

#[derive(Deserialize, Default)]
pub struct ReceiptQuery {
    year: Option<i32>,
    #[serde(default)]
    notice: String,
}

/// The receipt of a donation, to print on A5 and hand to the donor.
pub async fn receipt(
    State(state): State<AppState>,
    staff: Staff,
    Path((centre, donation)): Path<(String, String)>,
    Query(query): Query<ReceiptQuery>,
) -> Page {
    let centre = staff.centre(Section::Finance, &centre)?;
    let lang = staff.lang;
    let year = query
        .year
        .filter(|y| (2000..=2100).contains(y))
        .unwrap_or(today(&centre).year());
    let donations = every_page(|page_token| async {
        let reply = state
            .finance
            .clone()
            .list_donations(staff.grpc(fi::ListDonationsRequest {
                centre_id: centre.id.clone(),
                receipt_year: year,
                page_size: PAGE,
                page_token,
            }))
            .await?
            .into_inner();
        Ok::<_, Refusal>((reply.donations, reply.next_page_token))
    })
    .await?;
    let d = donations
        .into_iter()
        .find(|d| d.id == donation)
        .ok_or_else(Refusal::not_found)?;
    let received = NaiveDate::parse_from_str(&d.received_on, "%Y-%m-%d").ok();
    let donor = if d.anonymous || d.donor_name.is_empty() {
        lang.pick("匿名", "Anonymous").to_owned()
    } else {
        d.donor_name.clone()
    };
    let purpose = match d.purpose.as_str() {
        "" | "general" => lang.pick("一般用途", "General").to_owned(),
        other => other.to_owned(),
    };
    let content = html! {
        @if query.notice == "recorded" { (notice(lang.pick("已登记捐赠。请打印收据交给捐赠人。", "Donation recorded. Print the receipt for the donor."))) }
        p.no-print {
            button #print type="button" data-print { (lang.pick("打印收据", "Print the receipt")) }
            " "
            a.button.secondary href=(format!("/c/{}/finance", centre.id)) { (lang.pick("返回财务", "Back to finance")) }
            " "
            a.button.secondary href=(format!("/c/{}/finance/donations/new", centre.id)) { (lang.pick("再登记一笔", "Record another")) }
        }
        article.receipt #receipt {
            header {
                p.centre-name { (centre.name) }
                h2 { (lang.pick("捐 赠 收 据", "Donation receipt")) }
                p.number { (lang.pick("收据编号：", "Receipt no. ")) strong #receipt-number { (d.receipt) } }
            }
            table {
                tbody {
                    tr { th { (lang.pick("捐赠人", "Donor")) } td #receipt-donor { (donor) } }
                    tr { th { (lang.pick("金额（小写）", "Amount")) } td #receipt-amount { (money(d.amount_minor)) } }
                    tr { th { (lang.pick("金额（大写）", "In words")) } td #receipt-capitals { (lang.pick("人民币", "RMB ")) (capitals(d.amount_minor)) } }
                    tr { th { (lang.pick("用途", "Purpose")) } td { (purpose) } }
                    tr { th { (lang.pick("收款方式", "Received as")) } td { (i18n::term(lang, &d.method)) } }
                    tr { th { (lang.pick("收款日期", "Date")) } td #receipt-date { (received.map(|r| super::i18n::day(lang, r)).unwrap_or_else(|| d.received_on.clone())) } }
                }
            }
            p.thanks { (lang.pick("衷心感谢您对社区服务事业的支持！", "Thank you for supporting the community.")) }
            footer {
                span { (lang.pick("收款单位（盖章）：", "Received by (seal): ")) (centre.name) }
                span { (lang.pick("经手人：", "Handled by: ")) span.blank {} }
            }
        }
    };
    Ok(finance_page(
        &staff,
        &centre,
        lang.pick("捐赠收据", "Donation receipt"),
        content,
        false,
    ))
}

pub(super) const CATEGORIES: [&str; 5] = [
    "personnel",
    "service_costs",
    "equipment_purchase",
    "equipment_maintenance",
    "office_costs",
];

fn expense_form(
    staff: &Staff,
    centre: &pb::Centre,
    posted: Option<&Posted>,
    errors: &FieldErrors,
) -> Markup {
    let lang = staff.lang;
    let value = |name: &str| posted.map(|p| p.get(name).to_owned()).unwrap_or_default();
    let spent_on = posted.map_or_else(
        || today(centre).to_string(),
        |p| p.get("spent_on").to_owned(),
    );
    let paid_from = posted.map_or("bank".to_owned(), |p| p.get("paid_from").to_owned());
    let category = value("category");
    html! {
        p { a href=(format!("/c/{}/finance", centre.id)) { "← " (lang.pick("返回财务", "Back to finance")) } }
        form.stack #expense method="post" action=(format!("/c/{}/finance/expenses/new", centre.id)) novalidate {
            (csrf(staff))
            (general_errors(errors, &["category", "amount", "description", "spent_on", "paid_from"]))
            div.field.invalid[errors.get("category").is_some()] {
                label for="f-category" { (lang.pick("预算类别", "Budget category")) span.req aria-hidden="true" { " *" } }
                select #f-category name="category" {
                    option value="" { (lang.pick("请选择", "Choose")) }
                    @for c in CATEGORIES { option value=(c) selected[category == c] { (i18n::term(lang, c)) } }
                }
                @if let Some(e) = errors.get("category") { span.error #f-category-error role="alert" { (e) } }
            }
            (field(lang, "amount", lang.pick("金额（元）", "Amount (yuan)"), "text", &value("amount"), errors, true))
            (field(lang, "description", lang.pick("摘要（买了什么、付给谁）", "What it paid for"), "text", &value("description"), errors, true))
            (field(lang, "spent_on", lang.pick("支出日期", "Spent on"), "date", &spent_on, errors, true))
            fieldset.field.invalid[errors.get("paid_from").is_some()] {
                legend { (lang.pick("付款方式", "Paid from")) }
                (radio("paid_from", "bank", &i18n::term(lang, "bank"), &paid_from))
                (radio("paid_from", "cash", &i18n::term(lang, "cash"), &paid_from))
                @if let Some(e) = errors.get("paid_from") { span.error #f-paid_from-error role="alert" { (e) } }
            }
            button type="submit" { (lang.pick("登记支出", "Record the expense")) }
        }
    }
}

pub async fn new_expense(staff: Staff, Path(centre): Path<String>) -> Page {
    let centre = staff.centre(Section::Finance, &centre)?;
    if !writes(&staff) {
        return Err(Refusal::forbidden());
    }
    let content = expense_form(&staff, &centre, None, &FieldErrors::default());
    Ok(finance_page(
        &staff,
        &centre,
        staff.lang.pick("登记支出", "Record an expense"),
        content,
        false,
    ))
}

pub async fn record_expense(
    State(state): State<AppState>,
    Path(centre): Path<String>,
    posted: Posted,
) -> Page {
    let staff = &posted.staff;
    let centre = staff.centre(Section::Finance, &centre)?;
    if !writes(staff) {
        return Err(Refusal::forbidden());
    }
    let lang = staff.lang;
    let mut errors = FieldErrors::default();
    if !CATEGORIES.contains(&posted.get("category")) {
        errors.push(
            "category",
            lang.pick("请选择预算类别", "Choose the budget category"),
        );
    }
    let amount = parse_yuan(lang, posted.get("amount"))
        .map_err(|e| errors.push("amount", e))
        .ok();
    if posted.get("description").is_empty() {
        errors.push(
            "description",
            lang.pick("请填写摘要", "Say what it paid for"),
        );
    }
    if NaiveDate::parse_from_str(posted.get("spent_on"), "%Y-%m-%d").is_err() {
        errors.push("spent_on", lang.pick("请选择支出日期", "Choose the day"));
    }
    if let (Some(amount), true) = (amount, errors.is_empty()) {
        let recorded = state
            .finance
            .clone()
            .record_expense(staff.grpc(fi::RecordExpenseRequest {
                centre_id: centre.id.clone(),
                category: posted.get("category").to_owned(),
                amount_minor: amount,
                currency: String::new(),
                description: posted.get("description").to_owned(),
                spent_on: posted.get("spent_on").to_owned(),
                paid_from: posted.get("paid_from").to_owned(),
            }))
            .await;
        match recorded {
            Ok(_) => {
                return Ok(
                    Redirect::to(&format!("/c/{}/finance?notice=expense", centre.id))
                        .into_response(),
                );
            }
            Err(status) if is_refusal(&status) => errors = money_errors(&status, lang),
            Err(status) => return Err(status.into()),
        }
    }
    let content = expense_form(staff, &centre, Some(&posted), &errors);
    Ok(finance_page(
        staff,
        &centre,
        lang.pick("登记支出", "Record an expense"),
        content,
        true,
    ))
}

#[derive(Deserialize, Default)]
pub struct PeriodsQuery {
    #[serde(default)]
    closed: String,
}

/// The months of the last year and a half, newest first, for the close form's choice.
fn recent_months(day: NaiveDate) -> Vec<String> {
    (0..18)
        .filter_map(|back| {
            day.with_day(1)?
                .checked_sub_months(chrono::Months::new(back))
        })
        .map(|d| format!("{:04}-{:02}", d.year(), d.month()))
        .collect()
}

fn month_words(lang: Lang, month: &str) -> String {
    match (lang, month.split_once('-')) {
        (Lang::Zh, Some((y, m))) => format!("{y}年{}月", m.trim_start_matches('0')),
        _ => month.to_owned(),
    }
}

async fn periods_page(
    state: &AppState,
    staff: &Staff,
    centre: &pb::Centre,
    chosen: &str,
    confirmed: bool,
    closed_now: &str,
    errors: FieldErrors,
) -> Page {
    let lang = staff.lang;
    let periods = state
        .finance
        .clone()
        .list_periods(staff.grpc(fi::ListPeriodsRequest {
            centre_id: centre.id.clone(),
        }))
        .await?
        .into_inner()
        .periods;
    let tz = zone(centre);
    let months = recent_months(today(centre));
    let last_month = months.get(1).cloned().unwrap_or_default();
    let chosen = if chosen.is_empty() {
        last_month
    } else {
        chosen.to_owned()
    };
    let is_closed = |m: &str| periods.iter().any(|p| p.period == m && p.closed);
    let content = html! {
        p { a href=(format!("/c/{}/finance", centre.id)) { "← " (lang.pick("返回财务", "Back to finance")) } }
        @if !closed_now.is_empty() { (notice(&format!("{}{}", month_words(lang, closed_now), lang.pick(" 已结账，此后不能再记入该月。", " is closed; nothing more posts into it.")))) }
        @if writes(staff) {
            section {
                h2 { (lang.pick("月末结账", "Close a month")) }
                p { (lang.pick("结账后，该月不能再登记或修改任何账目（更正请在以后的月份冲销）。只有已经结束的月份可以结账。", "Once closed, nothing can be posted into the month (correct it by reversing in a later month). Only a month that has ended can be closed.")) }
                form.stack #close-period method="post" action=(format!("/c/{}/finance/periods/close", centre.id)) novalidate {
                    (csrf(staff))
                    (general_errors(&errors, &["period", "confirm"]))
                    div.field.invalid[errors.get("period").is_some()] {
                        label for="f-period" { (lang.pick("月份", "Month")) }
                        select #f-period name="period" {
                            @for m in &months {
                                option value=(m) selected[*m == chosen] disabled[is_closed(m)] {
                                    (month_words(lang, m)) @if is_closed(m) { (lang.pick("（已结账）", " (closed)")) }
                                }
                            }
                        }
                        @if let Some(e) = errors.get("period") { span.error #f-period-error role="alert" { (e) } }
                    }
                    div.field.invalid[errors.get("confirm").is_some()] {
                        label { input #f-confirm type="checkbox" name="confirm" value="yes" checked[confirmed]; " " (lang.pick("我已核对该月账目，确认结账（结账后不能撤销）", "I have checked the month's books; close it (this cannot be undone)")) }
                        @if let Some(e) = errors.get("confirm") { span.error #f-confirm-error role="alert" { (e) } }
                    }
                    button type="submit" { (lang.pick("结账", "Close the month")) }
                }
            }
        }
        section {
            h2 { (lang.pick("已结账的月份", "Closed months")) }
            table #periods {
                thead { tr { th { (lang.pick("月份", "Month")) } th { (lang.pick("结账时间", "Closed at")) } th { (lang.pick("结账人", "Closed by")) } } }
                tbody {
                    @for p in periods.iter().filter(|p| p.closed) {
                        tr data-period=(p.period) {
                            td { (month_words(lang, &p.period)) }
                            td { (instant(&p.closed_at).map(|t| when(lang, t, tz)).unwrap_or_default()) }
                            td { (p.closed_by) }
                        }
                    }
                    @if !periods.iter().any(|p| p.closed) { tr { td colspan="3" { (lang.pick("还没有结账的月份。", "No month is closed yet.")) } } }
                }
            }
        }
    };
    Ok(finance_page(
        staff,
        centre,
        lang.pick("月末结账", "Closing months"),
        content,
        !errors.is_empty(),
    ))
}

pub async fn periods(
    State(state): State<AppState>,
    staff: Staff,
    Path(centre): Path<String>,
    Query(query): Query<PeriodsQuery>,
) -> Page {
    let centre = staff.centre(Section::Finance, &centre)?;
    let closed = if recent_months(today(&centre)).contains(&query.closed) {
        query.closed.clone()
    } else {
        String::new()
    };
    periods_page(
        &state,
        &staff,
        &centre,
        "",
        false,
        &closed,
        FieldErrors::default(),
    )
    .await
}

pub async fn close_period(
    State(state): State<AppState>,
    Path(centre): Path<String>,
    posted: Posted,
) -> Page {
    let staff = &posted.staff;
    let centre = staff.centre(Section::Finance, &centre)?;
    if !writes(staff) {
        return Err(Refusal::forbidden());
    }
    let lang = staff.lang;
    let period = posted.get("period").to_owned();
    let confirmed = posted.get("confirm") == "yes";
    let mut errors = FieldErrors::default();
    if !recent_months(today(&centre)).contains(&period) {
        errors.push("period", lang.pick("请选择月份", "Choose a month"));
    }
    if !confirmed {
        errors.push(
            "confirm",
            lang.pick(
                "结账不能撤销，请先勾选确认",
                "Closing cannot be undone: tick to confirm",
            ),
        );
    }
    if errors.is_empty() {
        let closed = state
            .finance
            .clone()
            .close_period(staff.grpc(fi::ClosePeriodRequest {
                centre_id: centre.id.clone(),
                period: period.clone(),
            }))
            .await;
        match closed {
            Ok(_) => {
                return Ok(Redirect::to(&format!(
                    "/c/{}/finance/periods?closed={period}",
                    centre.id
                ))
                .into_response());
            }
            Err(status) if is_refusal(&status) => errors = FieldErrors::from_status(&status, lang),
            Err(status) => return Err(status.into()),
        }
    }
    periods_page(&state, staff, &centre, &period, confirmed, "", errors).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_in_capitals_read_as_a_receipt_writes_them() {
        for (minor, words) in [
            (151_000, "壹仟伍佰壹拾元整"),
            (151_050, "壹仟伍佰壹拾元伍角整"),
            (151_005, "壹仟伍佰壹拾元零伍分"),
            (101_000, "壹仟零壹拾元整"),
            (1_000_500, "壹万零伍元整"),
            (10_000_000, "壹拾万元整"),
            (10_000_000_500, "壹亿零伍元整"),
            (12_003_400, "壹拾贰万零叁拾肆元整"),
            (50, "伍角整"),
            (7, "柒分"),
            (100, "壹元整"),
        ] {
            assert_eq!(capitals(minor), words, "{minor}");
        }
    }

    #[test]
    fn amounts_are_typed_in_yuan() {
        assert_eq!(parse_yuan(Lang::Zh, "1,510"), Ok(151_000));
        assert_eq!(parse_yuan(Lang::Zh, "¥1510.5元"), Ok(151_050));
        assert_eq!(parse_yuan(Lang::Zh, "0.05"), Ok(5));
        for bad in ["", "abc", "1.234", "-5", "0", "1.2.3"] {
            assert!(parse_yuan(Lang::Zh, bad).is_err(), "{bad}");
        }
    }
}
