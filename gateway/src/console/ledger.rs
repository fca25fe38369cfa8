//! The rest of the finance officer's day: a grant (a government appropriation or a special
//! fund) and a partner's income received, the year's budget per category with budget
//! against actual and its 90% and 100% alerts, a manual journal entry with balanced lines,
//! and reversing an entry with a reason. Each page calls finance over gRPC with the user's
//! own token; only those who record money (see [`writes`]) see the forms.

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect};
use chrono::NaiveDate;
use linli_proto::finance::v1 as fi;
use linli_proto::registry::v1 as pb;
use maud::{Markup, html};
use serde::Deserialize;

use super::finance::{CATEGORIES, finance_page, money_errors, parse_yuan, radio, writes};
use super::listing::{PAGE, every_page};
use super::{
    FieldErrors, Lang, Page, Posted, Query, Refusal, Section, Staff, csrf, date, field,
    general_errors, i18n, is_refusal, money, notice, today,
};
use crate::AppState;

fn back(lang: Lang, centre: &pb::Centre) -> Markup {
    html! { p { a href=(format!("/c/{}/finance", centre.id)) { "← " (lang.pick("返回财务", "Back to finance")) } } }
}

fn day_ok(text: &str) -> bool {
    NaiveDate::parse_from_str(text, "%Y-%m-%d").is_ok()
}

// ---- A grant. ----

const GRANT_KINDS: [&str; 2] = ["appropriation", "special_fund"];

fn grant_form(
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
    let kind = posted.map_or("appropriation".to_owned(), |p| p.get("kind").to_owned());
    html! {
        (back(lang, centre))
        form.stack #grant method="post" action=(format!("/c/{}/finance/grants/new", centre.id)) novalidate {
            (csrf(staff))
            (general_errors(errors, &["kind", "granting_body", "purpose", "amount", "received_on"]))
            fieldset.field.invalid[errors.get("kind").is_some()] {
                legend { (lang.pick("资金类别", "Kind of grant")) }
                @for k in GRANT_KINDS { (radio("kind", k, &i18n::term(lang, k), &kind)) }
                @if let Some(e) = errors.get("kind") { span.error #f-kind-error role="alert" { (e) } }
            }
            (field(lang, "granting_body", lang.pick("拨款单位（例如 区民政局）", "Granted by"), "text", &value("granting_body"), errors, true))
            (field(lang, "purpose", lang.pick("用途（例如 2026年度运营补贴）", "Purpose"), "text", &value("purpose"), errors, true))
            (field(lang, "amount", lang.pick("金额（元）", "Amount (yuan)"), "text", &value("amount"), errors, true))
            (field(lang, "received_on", lang.pick("到账日期", "Received on"), "date", &received_on, errors, true))
            button type="submit" { (lang.pick("登记拨款", "Record the grant")) }
        }
    }
}

pub async fn new_grant(staff: Staff, Path(centre): Path<String>) -> Page {
    let centre = staff.centre(Section::Finance, &centre)?;
    if !writes(&staff) {
        return Err(Refusal::forbidden());
    }
    let content = grant_form(&staff, &centre, None, &FieldErrors::default());
    let title = staff.lang.pick("登记拨款", "Record a grant");
    Ok(finance_page(&staff, &centre, title, content, false))
}

pub async fn record_grant(
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
    if !GRANT_KINDS.contains(&posted.get("kind")) {
        errors.push("kind", lang.pick("请选择资金类别", "Choose the kind"));
    }
    if posted.get("granting_body").is_empty() {
        errors.push(
            "granting_body",
            lang.pick("请填写拨款单位", "Say who granted it"),
        );
    }
    if posted.get("purpose").is_empty() {
        errors.push("purpose", lang.pick("请填写用途", "Say what it is for"));
    }
    let amount = parse_yuan(lang, posted.get("amount"))
        .map_err(|e| errors.push("amount", e))
        .ok();
    if !day_ok(posted.get("received_on")) {
        errors.push("received_on", lang.pick("请选择到账日期", "Choose the day"));
    }
    if let (Some(amount), true) = (amount, errors.is_empty()) {
        let recorded = state
            .finance
            .clone()
            .record_grant(staff.grpc(fi::RecordGrantRequest {
                centre_id: centre.id.clone(),
                kind: posted.get("kind").to_owned(),
                granting_body: posted.get("granting_body").to_owned(),
                purpose: posted.get("purpose").to_owned(),
                amount_minor: amount,
                currency: String::new(),
                received_on: posted.get("received_on").to_owned(),
            }))
            .await;
        match recorded {
            Ok(_) => {
                return Ok(
                    Redirect::to(&format!("/c/{}/finance?notice=grant", centre.id)).into_response(),
                );
            }
            Err(status) if is_refusal(&status) => errors = money_errors(&status, lang),
            Err(status) => return Err(status.into()),
        }
    }
    let content = grant_form(staff, &centre, Some(&posted), &errors);
    let title = lang.pick("登记拨款", "Record a grant");
    Ok(finance_page(staff, &centre, title, content, true))
}

// ---- A partner's income. ----

/// The partners with an agreement in force at the centre, by name: the only ones finance
/// takes income from.
async fn partners_of(
    state: &AppState,
    staff: &Staff,
    centre: &pb::Centre,
) -> Result<Vec<(String, String)>, Refusal> {
    let partners = state
        .registry
        .clone()
        .list_partners(staff.grpc(pb::ListPartnersRequest {}))
        .await?
        .into_inner()
        .partners;
    let day = today(centre).to_string();
    let mut named: Vec<(String, String)> = partners
        .into_iter()
        .filter(|p| {
            p.agreements.iter().any(|a| {
                a.centre_id == centre.id
                    && a.revoked_at.is_none()
                    && a.valid_from <= day
                    && day < a.valid_until
            })
        })
        .map(|p| (p.id, p.name))
        .collect();
    named.sort_by(|a, b| a.1.cmp(&b.1));
    Ok(named)
}

fn partnership_form(
    staff: &Staff,
    centre: &pb::Centre,
    partners: &[(String, String)],
    posted: Option<&Posted>,
    errors: &FieldErrors,
) -> Markup {
    let lang = staff.lang;
    let value = |name: &str| posted.map(|p| p.get(name).to_owned()).unwrap_or_default();
    let received_on = posted.map_or_else(
        || today(centre).to_string(),
        |p| p.get("received_on").to_owned(),
    );
    let chosen = value("partner_id");
    html! {
        (back(lang, centre))
        @if partners.is_empty() {
            p.notice.warn { (lang.pick("本中心还没有生效的合作协议，暂时不能登记合作收入。请中心主任先在合作方管理中签订协议。", "The centre has no agreement in force with a partner yet.")) }
        }
        form.stack #partnership method="post" action=(format!("/c/{}/finance/partnership/new", centre.id)) novalidate {
            (csrf(staff))
            (general_errors(errors, &["partner_id", "description", "amount", "received_on"]))
            div.field.invalid[errors.get("partner_id").is_some()] {
                label for="f-partner_id" { (lang.pick("合作单位", "Partner")) span.req aria-hidden="true" { " *" } }
                select #f-partner_id name="partner_id" {
                    option value="" { (lang.pick("请选择", "Choose")) }
                    @for (id, name) in partners { option value=(id) selected[chosen == *id] { (name) } }
                }
                @if let Some(e) = errors.get("partner_id") { span.error #f-partner_id-error role="alert" { (e) } }
            }
            (field(lang, "description", lang.pick("摘要（哪个项目、什么款项）", "What it is for"), "text", &value("description"), errors, true))
            (field(lang, "amount", lang.pick("金额（元）", "Amount (yuan)"), "text", &value("amount"), errors, true))
            (field(lang, "received_on", lang.pick("到账日期", "Received on"), "date", &received_on, errors, true))
            button type="submit" { (lang.pick("登记合作收入", "Record the income")) }
        }
    }
}

pub async fn new_partnership(
    State(state): State<AppState>,
    staff: Staff,
    Path(centre): Path<String>,
) -> Page {
    let centre = staff.centre(Section::Finance, &centre)?;
    if !writes(&staff) {
        return Err(Refusal::forbidden());
    }
    let partners = partners_of(&state, &staff, &centre).await?;
    let content = partnership_form(&staff, &centre, &partners, None, &FieldErrors::default());
    let title = staff
        .lang
        .pick("登记项目合作收入", "Record partnership income");
    Ok(finance_page(&staff, &centre, title, content, false))
}

pub async fn record_partnership(
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
    let partners = partners_of(&state, staff, &centre).await?;
    let mut errors = FieldErrors::default();
    if !partners
        .iter()
        .any(|(id, _)| id == posted.get("partner_id"))
    {
        errors.push(
            "partner_id",
            lang.pick("请选择合作单位", "Choose the partner"),
        );
    }
    if posted.get("description").is_empty() {
        errors.push("description", lang.pick("请填写摘要", "Say what it is for"));
    }
    let amount = parse_yuan(lang, posted.get("amount"))
        .map_err(|e| errors.push("amount", e))
        .ok();
    if !day_ok(posted.get("received_on")) {
        errors.push("received_on", lang.pick("请选择到账日期", "Choose the day"));
    }
    if let (Some(amount), true) = (amount, errors.is_empty()) {
        let recorded = state
            .finance
            .clone()
            .record_partnership_income(staff.grpc(fi::RecordPartnershipIncomeRequest {
                centre_id: centre.id.clone(),
                partner_id: posted.get("partner_id").to_owned(),
                description: posted.get("description").to_owned(),
                amount_minor: amount,
                currency: String::new(),
                received_on: posted.get("received_on").to_owned(),
            }))
            .await;
        match recorded {
            Ok(_) => {
                return Ok(
                    Redirect::to(&format!("/c/{}/finance?notice=partnership", centre.id))
                        .into_response(),
                );
            }
            Err(status) if is_refusal(&status) => errors = money_errors(&status, lang),
            Err(status) => return Err(status.into()),
        }
    }
    let content = partnership_form(staff, &centre, &partners, Some(&posted), &errors);
    let title = lang.pick("登记项目合作收入", "Record partnership income");
    Ok(finance_page(staff, &centre, title, content, true))
}

// ---- The budget: set per category, and budget against actual with its alerts. ----

#[derive(Deserialize, Default)]
pub struct BudgetQuery {
    year: Option<i32>,
    #[serde(default)]
    notice: String,
}

/// An amount in fen as typed in a form: 5000 or 5000.50, no symbol or separators.
fn typed_yuan(minor: i64) -> String {
    if minor % 100 == 0 {
        (minor / 100).to_string()
    } else {
        format!("{}.{:02}", minor / 100, minor % 100)
    }
}

/// A share of the budget spent, on a 0–100% scale, in words and colour: 100% or more is
/// over the budget, 90% or more close to it.
fn execution(lang: Lang, basis_points: i64, budget: i64) -> Markup {
    if budget == 0 {
        return html! { span.muted { (lang.pick("未设预算", "no budget")) } };
    }
    let shown = basis_points.clamp(0, 10_000) as f64 / 100.0;
    let (class, words) = if basis_points >= 10_000 {
        ("over", lang.pick("已超预算", "over budget"))
    } else if basis_points >= 9_000 {
        ("near", lang.pick("已用九成，请注意", "90% spent"))
    } else {
        ("fine", lang.pick("正常", "within budget"))
    };
    html! {
        div class=(format!("execution {class}")) {
            // An SVG, not a styled width: the console's policy allows no inline style.
            svg.meter viewBox="0 0 100 10" preserveAspectRatio="none" role="img" aria-label=(format!("{:.1}%", basis_points as f64 / 100.0)) {
                rect.track x="0" y="0" width="100" height="10" {}
                rect.fill x="0" y="0" width=(format!("{shown:.1}")) height="10" {}
                rect.mark90 x="89.6" y="0" width="0.8" height="10" {}
            }
            span.figure { (format!("{:.1}%", basis_points as f64 / 100.0)) }
            " " span.alert-words.badge { (words) }
        }
    }
}

async fn budget_page(
    state: &AppState,
    staff: &Staff,
    centre: &pb::Centre,
    year: i32,
    notice_of: &str,
    posted: Option<&Posted>,
    errors: FieldErrors,
) -> Page {
    let lang = staff.lang;
    let report = state
        .finance
        .clone()
        .get_budget_report(staff.grpc(fi::GetBudgetReportRequest {
            centre_id: centre.id.clone(),
            fiscal_year: year,
            as_of: String::new(),
        }))
        .await?
        .into_inner();
    let line = |category: &str| report.categories.iter().find(|c| c.category == category);
    let alerts: Vec<(&str, i64)> = CATEGORIES
        .iter()
        .filter_map(|c| line(c).map(|l| (*c, l)))
        .filter(|(_, l)| l.budget_minor > 0 && l.executed_basis_points >= 9_000)
        .map(|(c, l)| (c, l.executed_basis_points))
        .collect();
    let base = format!("/c/{}/finance/budget", centre.id);
    let content = html! {
        (back(lang, centre))
        @if notice_of == "saved" { (notice(lang.pick("已保存预算。", "Budget saved."))) }
        @if !errors.is_empty() { span hidden data-page-url=(format!("{base}?year={year}")) {} }
        form.filters method="get" action=(base) {
            label for="year" { (lang.pick("年度", "Year")) }
            input #year type="number" name="year" min="2000" max="2100" value=(year);
            button type="submit" { (lang.pick("查看", "Show")) }
        }
        @if !alerts.is_empty() {
            div #budget-alerts role="alert" {
                @for (category, bp) in &alerts {
                    p.budget-alert.over[*bp >= 10_000].near[*bp < 10_000] {
                        strong { (i18n::term(lang, category)) }
                        @if *bp >= 10_000 {
                            (lang.pick(" 已超出年度预算（已用 ", " is over its budget ("))
                        } @else {
                            (lang.pick(" 已用去年度预算的九成以上（已用 ", " has spent over 90% of its budget ("))
                        }
                        (format!("{:.1}%", *bp as f64 / 100.0)) (lang.pick("）。", ")."))
                    }
                }
            }
        }
        section {
            h2 { (lang.pick("预算执行", "Budget against actual")) " · " (year) }
            p.muted { (lang.pick("统计截至 ", "Up to ")) (NaiveDate::parse_from_str(&report.as_of, "%Y-%m-%d").map(|d| date(lang, d)).unwrap_or_default()) (lang.pick("。用到预算的九成显示黄色提醒，超过预算显示红色。", ". Yellow at 90% of the budget, red over it.")) }
            table #budget-execution {
                thead { tr {
                    th { (lang.pick("类别", "Category")) }
                    th.num { (lang.pick("年度预算", "Budget")) }
                    th.num { (lang.pick("实际支出", "Actual")) }
                    th.num { (lang.pick("剩余", "Remaining")) }
                    th.wide { (lang.pick("执行率", "Executed")) }
                } }
                tbody {
                    @for c in CATEGORIES {
                        @let l = line(c).cloned().unwrap_or_default();
                        tr data-category=(c) {
                            td { (i18n::term(lang, c)) }
                            td.num { @if l.budget_minor > 0 { (money(l.budget_minor)) } @else { span.muted { (lang.pick("未设", "none")) } } }
                            td.num { (money(l.actual_minor)) }
                            td.num { @if l.budget_minor > 0 { (money(l.remaining_minor)) } }
                            td { (execution(lang, l.executed_basis_points, l.budget_minor)) }
                        }
                    }
                    tr.total {
                        th { (lang.pick("合计", "Total")) }
                        td.num { (money(report.budget_total_minor)) }
                        td.num { (money(report.actual_total_minor)) }
                        td.num { @if report.budget_total_minor > 0 { (money(report.budget_total_minor - report.actual_total_minor)) } }
                        td {}
                    }
                }
            }
        }
        @if writes(staff) {
            section {
                h2 { (lang.pick("设定年度预算", "Set the year's budget")) " · " (year) }
                p { (lang.pick("按类别填写本年度预算（元）。留空的类别保持不变。", "The year's budget per category, in yuan. A blank one stays as it is.")) }
                form.stack #set-budget method="post" action=(format!("{base}/set")) novalidate {
                    (csrf(staff))
                    input type="hidden" name="year" value=(year);
                    (general_errors(&errors, &CATEGORIES))
                    @for c in CATEGORIES {
                        @let current = line(c).map(|l| l.budget_minor).filter(|m| *m > 0).map(typed_yuan).unwrap_or_default();
                        @let typed = posted.map(|p| p.get(c).to_owned()).unwrap_or(current);
                        (field(lang, c, &format!("{}{}", i18n::term(lang, c), lang.pick("（元）", " (yuan)")), "text", &typed, &errors, false))
                    }
                    button type="submit" { (lang.pick("保存预算", "Save the budget")) }
                }
            }
        }
    };
    let title = lang.pick("预算设置与执行", "Budget");
    Ok(finance_page(
        staff,
        centre,
        title,
        content,
        !errors.is_empty(),
    ))
}

pub async fn budget(
    State(state): State<AppState>,
    staff: Staff,
    Path(centre): Path<String>,
    Query(query): Query<BudgetQuery>,
) -> Page {
    let centre = staff.centre(Section::Finance, &centre)?;
    let (year, _, _) = super::finance::range(today(&centre), query.year);
    let notice_of = if query.notice == "saved" { "saved" } else { "" };
    budget_page(
        &state,
        &staff,
        &centre,
        year,
        notice_of,
        None,
        FieldErrors::default(),
    )
    .await
}

pub async fn set_budget(
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
    let (year, _, _) = super::finance::range(today(&centre), posted.get("year").parse().ok());
    let mut errors = FieldErrors::default();
    let mut amounts = Vec::new();
    for c in CATEGORIES {
        let typed = posted.get(c);
        if typed.is_empty() {
            continue;
        }
        match parse_yuan(lang, typed) {
            Ok(minor) => amounts.push((c, minor)),
            Err(e) => errors.push(c, e),
        }
    }
    if errors.is_empty() && amounts.is_empty() {
        errors.push(
            CATEGORIES[0],
            lang.pick(
                "请至少填写一个类别的预算",
                "Enter at least one category's budget",
            ),
        );
    }
    if errors.is_empty() {
        for (category, minor) in amounts {
            let set = state
                .finance
                .clone()
                .set_budget(staff.grpc(fi::SetBudgetRequest {
                    centre_id: centre.id.clone(),
                    fiscal_year: year,
                    category: category.to_owned(),
                    amount_minor: minor,
                    currency: String::new(),
                }))
                .await;
            match set {
                Ok(_) => {}
                Err(status) if is_refusal(&status) => {
                    for (field, message) in FieldErrors::from_status(&status, lang).0 {
                        let field = if field == "amount_minor" || field == "category" {
                            category.to_owned()
                        } else {
                            field
                        };
                        errors.push(&field, message);
                    }
                    break;
                }
                Err(status) => return Err(status.into()),
            }
        }
    }
    if errors.is_empty() {
        return Ok(Redirect::to(&format!(
            "/c/{}/finance/budget?year={year}&notice=saved",
            centre.id
        ))
        .into_response());
    }
    budget_page(&state, staff, &centre, year, "", Some(&posted), errors).await
}

// ---- Journal entries: the list, a manual entry, a reversal. ----

/// An account's name in the user's language: the chart names each "库存现金 Cash".
fn account_name(lang: Lang, name: &str) -> String {
    match (lang, name.split_once(' ')) {
        (Lang::Zh, Some((zh, _))) => zh.to_owned(),
        (Lang::En, Some((_, en))) => en.to_owned(),
        _ => name.to_owned(),
    }
}

async fn accounts(
    state: &AppState,
    staff: &Staff,
    centre: &pb::Centre,
) -> Result<Vec<fi::Account>, Refusal> {
    Ok(state
        .finance
        .clone()
        .list_accounts(staff.grpc(fi::ListAccountsRequest {
            centre_id: centre.id.clone(),
        }))
        .await?
        .into_inner()
        .accounts)
}

/// What an entry is about, in words: the ledger writes some itself ("Donation (助老)",
/// "special_fund: 区民政局, 专项", "Reversal of <id>: reason"), and those are said in
/// the user's language without codes or ids.
fn entry_words(lang: Lang, e: &fi::JournalEntry) -> String {
    let d = e.description.as_str();
    match e.source.as_str() {
        "reversal" => {
            let reason = d.split_once(": ").map(|(_, r)| r).unwrap_or("");
            format!("{}{reason}", lang.pick("冲销，原因：", "Reversal: "))
        }
        "grant" => match d.split_once(": ") {
            Some((kind, rest)) => match lang {
                Lang::Zh => format!(
                    "{}：{}",
                    i18n::term(lang, kind),
                    rest.replacen(", ", "，", 1)
                ),
                Lang::En => format!("{}: {rest}", i18n::term(lang, kind)),
            },
            None => d.to_owned(),
        },
        "donation" => {
            let purpose = d
                .strip_prefix("Donation (")
                .and_then(|p| p.strip_suffix(')'))
                .unwrap_or(d);
            let purpose = if purpose == "general" {
                lang.pick("一般用途", "general")
            } else {
                purpose
            };
            format!("{}（{purpose}）", i18n::term(lang, "donation"))
        }
        _ => d.to_owned(),
    }
}

fn entry_total(e: &fi::JournalEntry) -> i64 {
    e.lines.iter().map(|l| l.debit_minor).sum()
}

#[derive(Deserialize, Default)]
pub struct EntriesQuery {
    #[serde(default)]
    notice: String,
}

/// How far back the list of entries reaches.
const RECENT_DAYS: u64 = 120;

pub async fn entries(
    State(state): State<AppState>,
    staff: Staff,
    Path(centre): Path<String>,
    Query(query): Query<EntriesQuery>,
) -> Page {
    let centre = staff.centre(Section::Finance, &centre)?;
    let lang = staff.lang;
    let from = today(&centre) - chrono::Days::new(RECENT_DAYS);
    let mut list = every_page(|page_token| async {
        let reply = state
            .finance
            .clone()
            .list_entries(staff.grpc(fi::ListEntriesRequest {
                centre_id: centre.id.clone(),
                from: from.to_string(),
                to: String::new(),
                limit: 0,
                page_size: PAGE,
                page_token,
            }))
            .await?
            .into_inner();
        Ok::<_, Refusal>((reply.entries, reply.next_page_token))
    })
    .await?;
    list.reverse();
    let names = accounts(&state, &staff, &centre).await?;
    let name_of = |code: &str| {
        names
            .iter()
            .find(|a| a.code == code)
            .map(|a| account_name(lang, &a.name))
            .unwrap_or_else(|| code.to_owned())
    };
    let base = format!("/c/{}/finance/entries", centre.id);
    let content = html! {
        (back(lang, &centre))
        @match query.notice.as_str() {
            "posted" => { (notice(lang.pick("已记账。", "Entry posted."))) }
            "reversed" => { (notice(lang.pick("已冲销，冲销凭证已记入账簿。", "Entry reversed."))) }
            _ => {}
        }
        @if writes(&staff) {
            nav.actions { a.button #new-entry href=(format!("{base}/new")) { (lang.pick("手工记账", "Post an entry")) } }
        }
        p.muted { (lang.pick("最近四个月的账目，最新的在前。冲销会另记一笔相反的账，原账目保留。", "The last four months' entries, newest first. A reversal posts the opposite entry; the original stays.")) }
        table #entries {
            thead { tr {
                th { (lang.pick("日期", "Date")) }
                th { (lang.pick("摘要", "Description")) }
                th { (lang.pick("来源", "Source")) }
                th { (lang.pick("借贷科目", "Accounts")) }
                th.num { (lang.pick("金额", "Amount")) }
                th { (lang.pick("状态", "Status")) }
            } }
            tbody {
                @for e in &list {
                    tr data-entry=(e.id) {
                        td { (super::i18n::iso_day(lang, &e.entry_date)) }
                        td.description { (entry_words(lang, e)) }
                        td { (i18n::term(lang, &e.source)) }
                        td.accounts {
                            @for l in &e.lines {
                                div {
                                    @if l.debit_minor > 0 { (lang.pick("借 ", "Dr ")) } @else { (lang.pick("贷 ", "Cr ")) }
                                    (name_of(&l.account_code))
                                }
                            }
                        }
                        td.num { (money(entry_total(e))) }
                        td {
                            @if !e.reversed_by.is_empty() {
                                span.badge { (lang.pick("已冲销", "reversed")) }
                            } @else if !e.reverses.is_empty() {
                                span.badge { (lang.pick("冲销凭证", "a reversal")) }
                            } @else if writes(&staff) {
                                a.button.secondary.reverse href=(format!("{base}/{}/reverse", e.id)) { (lang.pick("冲销", "Reverse")) }
                            }
                        }
                    }
                }
                @if list.is_empty() { tr { td colspan="6" { (lang.pick("最近没有账目。", "No entries lately.")) } } }
            }
        }
    };
    Ok(finance_page(
        &staff,
        &centre,
        lang.pick("账目与冲销", "Journal entries"),
        content,
        false,
    ))
}

/// How many lines a manual entry's form offers, and the most it takes.
const LINES: usize = 4;
const MAX_LINES: usize = 20;

/// A typed line: its account and its debit and credit as typed.
struct TypedLine {
    account: String,
    debit: String,
    credit: String,
}

fn typed_lines(posted: Option<&Posted>) -> Vec<TypedLine> {
    let count = posted.map_or(LINES, |p| {
        (0..MAX_LINES)
            .rev()
            .find(|i| p.fields.iter().any(|(k, _)| k == &format!("account_{i}")))
            .map_or(LINES, |last| (last + 1).max(LINES))
    });
    (0..count)
        .map(|i| {
            let get = |name: &str| {
                posted
                    .map(|p| p.get(&format!("{name}_{i}")).to_owned())
                    .unwrap_or_default()
            };
            TypedLine {
                account: get("account"),
                debit: get("debit"),
                credit: get("credit"),
            }
        })
        .collect()
}

/// What a screen reader says for a line's input: 第1行 科目 (the script numbers added lines
/// on from the first figure).
fn line_label(lang: Lang, i: usize, what: &str) -> String {
    match lang {
        Lang::Zh => format!("第{}行 {what}", i + 1),
        Lang::En => format!("Line {} {what}", i + 1),
    }
}

fn entry_form(
    staff: &Staff,
    centre: &pb::Centre,
    accounts: &[fi::Account],
    posted: Option<&Posted>,
    errors: &FieldErrors,
) -> Markup {
    let lang = staff.lang;
    let value = |name: &str| posted.map(|p| p.get(name).to_owned()).unwrap_or_default();
    let entry_date = posted.map_or_else(
        || today(centre).to_string(),
        |p| p.get("entry_date").to_owned(),
    );
    let lines = typed_lines(posted);
    let sum = |typed: Vec<&str>| -> i64 {
        typed
            .into_iter()
            .filter_map(|t| parse_yuan(lang, t).ok())
            .sum()
    };
    let debits = sum(lines.iter().map(|l| l.debit.as_str()).collect());
    let credits = sum(lines.iter().map(|l| l.credit.as_str()).collect());
    let kinds = [
        ("asset", lang.pick("资产", "Assets")),
        ("liability", lang.pick("负债", "Liabilities")),
        ("net_assets", lang.pick("净资产", "Net assets")),
        ("income", lang.pick("收入", "Income")),
        ("expenditure", lang.pick("支出", "Expenditure")),
    ];
    let lines_error = errors.get("lines");
    html! {
        p { a href=(format!("/c/{}/finance/entries", centre.id)) { "← " (lang.pick("返回账目", "Back to the entries")) } }
        form.stack.wide #manual-entry method="post" action=(format!("/c/{}/finance/entries/new", centre.id)) novalidate data-balance {
            (csrf(staff))
            (general_errors(errors, &["entry_date", "description", "lines"]))
            (field(lang, "entry_date", lang.pick("记账日期", "Date"), "date", &entry_date, errors, true))
            (field(lang, "description", lang.pick("摘要", "Description"), "text", &value("description"), errors, true))
            fieldset.field.lines.unbalanced[lines_error.is_some()] #f-lines aria-describedby=[lines_error.map(|_| "f-lines-error")] {
                legend { (lang.pick("分录（每行选一个科目，借方或贷方只填一个，单位：元）", "Lines (one account each; a debit or a credit, in yuan)")) }
                table #entry-lines {
                    thead { tr {
                        th { (lang.pick("科目", "Account")) }
                        th.num { (lang.pick("借方（元）", "Debit (yuan)")) }
                        th.num { (lang.pick("贷方（元）", "Credit (yuan)")) }
                    } }
                    tbody {
                        @for (i, l) in lines.iter().enumerate() {
                            @let line_error = errors.get(&format!("line_{i}"));
                            tr.invalid[line_error.is_some()] {
                                td {
                                    select #(format!("f-account_{i}")) name=(format!("account_{i}")) aria-label=(line_label(lang, i, lang.pick("科目", "account"))) {
                                        option value="" { (lang.pick("请选择科目", "Choose an account")) }
                                        @for (kind, label) in kinds {
                                            optgroup label=(label) {
                                                @for a in accounts.iter().filter(|a| a.kind == kind) {
                                                    option value=(a.code) selected[l.account == a.code] { (account_name(lang, &a.name)) }
                                                }
                                            }
                                        }
                                    }
                                    @if let Some(e) = line_error { span.error #(format!("f-line_{i}-error")) role="alert" { (e) } }
                                }
                                td.num { input.money #(format!("f-debit_{i}")) type="text" inputmode="decimal" name=(format!("debit_{i}")) value=(l.debit) data-debit aria-label=(line_label(lang, i, lang.pick("借方", "debit"))); }
                                td.num { input.money #(format!("f-credit_{i}")) type="text" inputmode="decimal" name=(format!("credit_{i}")) value=(l.credit) data-credit aria-label=(line_label(lang, i, lang.pick("贷方", "credit"))); }
                            }
                        }
                    }
                    tfoot {
                        tr.total {
                            th { (lang.pick("合计", "Total")) }
                            td.num #debit-total { (money(debits)) }
                            td.num #credit-total { (money(credits)) }
                        }
                    }
                }
                p.balance.ok[debits == credits && debits > 0].off[debits != credits] #balance aria-live="polite"
                    data-balanced=(lang.pick("借贷平衡", "Balanced"))
                    data-unbalanced=(lang.pick("借贷不平衡，相差 ", "Out of balance by ")) {
                    @if debits == credits { (lang.pick("借贷平衡", "Balanced")) } @else { (lang.pick("借贷不平衡，相差 ", "Out of balance by ")) (money((debits - credits).abs())) }
                }
                @if let Some(e) = lines_error { span.error #f-lines-error role="alert" { (e) } }
                button.secondary #add-line type="button" data-add-line hidden { (lang.pick("再加一行", "Add a line")) }
            }
            button type="submit" { (lang.pick("记账", "Post the entry")) }
        }
    }
}

pub async fn new_entry(
    State(state): State<AppState>,
    staff: Staff,
    Path(centre): Path<String>,
) -> Page {
    let centre = staff.centre(Section::Finance, &centre)?;
    if !writes(&staff) {
        return Err(Refusal::forbidden());
    }
    let chart = accounts(&state, &staff, &centre).await?;
    let content = entry_form(&staff, &centre, &chart, None, &FieldErrors::default());
    let title = staff.lang.pick("手工记账", "Post a journal entry");
    Ok(finance_page(&staff, &centre, title, content, false))
}

pub async fn post_entry(
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
    let chart = accounts(&state, staff, &centre).await?;
    let mut errors = FieldErrors::default();
    if !day_ok(posted.get("entry_date")) {
        errors.push("entry_date", lang.pick("请选择记账日期", "Choose the date"));
    }
    if posted.get("description").is_empty() {
        errors.push(
            "description",
            lang.pick("请填写摘要", "Say what the entry is"),
        );
    }
    let mut lines = Vec::new();
    for (i, l) in typed_lines(Some(&posted)).iter().enumerate() {
        if l.account.is_empty() && l.debit.is_empty() && l.credit.is_empty() {
            continue;
        }
        let field = format!("line_{i}");
        if !chart.iter().any(|a| a.code == l.account) {
            errors.push(&field, lang.pick("请选择科目", "Choose the account"));
            continue;
        }
        let line = match (l.debit.is_empty(), l.credit.is_empty()) {
            (false, false) => Err(lang
                .pick(
                    "借方和贷方只能填一个",
                    "A line is a debit or a credit, not both",
                )
                .to_owned()),
            (true, true) => Err(lang
                .pick("请填写借方或贷方金额", "Enter a debit or a credit")
                .to_owned()),
            (false, true) => parse_yuan(lang, &l.debit).map(|m| (m, 0)),
            (true, false) => parse_yuan(lang, &l.credit).map(|m| (0, m)),
        };
        match line {
            Ok((debit_minor, credit_minor)) => lines.push(fi::Line {
                account_code: l.account.clone(),
                debit_minor,
                credit_minor,
            }),
            Err(e) => errors.push(&field, e),
        }
    }
    let debits: i64 = lines.iter().map(|l| l.debit_minor).sum();
    let credits: i64 = lines.iter().map(|l| l.credit_minor).sum();
    if errors.0.iter().all(|(f, _)| !f.starts_with("line_")) {
        if lines.len() < 2 {
            errors.push(
                "lines",
                lang.pick(
                    "一笔账至少要有两行：一行借方，一行贷方",
                    "An entry needs at least two lines",
                ),
            );
        } else if debits != credits {
            errors.push(
                "lines",
                format!(
                    "{}{}{}{}{}{}",
                    lang.pick("借贷不平衡：借方合计 ", "Out of balance: debits "),
                    money(debits),
                    lang.pick("，贷方合计 ", ", credits "),
                    money(credits),
                    lang.pick("，相差 ", ", a difference of "),
                    money((debits - credits).abs())
                ),
            );
        }
    }
    if errors.is_empty() {
        let posted_entry = state
            .finance
            .clone()
            .post_entry(staff.grpc(fi::PostEntryRequest {
                centre_id: centre.id.clone(),
                entry_date: posted.get("entry_date").to_owned(),
                description: posted.get("description").to_owned(),
                currency: String::new(),
                lines,
            }))
            .await;
        match posted_entry {
            Ok(_) => {
                return Ok(Redirect::to(&format!(
                    "/c/{}/finance/entries?notice=posted",
                    centre.id
                ))
                .into_response());
            }
            Err(status) if is_refusal(&status) => {
                for (field, message) in FieldErrors::from_status(&status, lang).0 {
                    let field = match field.as_str() {
                        "entry_date" | "description" | "general" => field,
                        _ => "lines".to_owned(),
                    };
                    errors.push(&field, message);
                }
            }
            Err(status) => return Err(status.into()),
        }
    }
    let content = entry_form(staff, &centre, &chart, Some(&posted), &errors);
    let title = lang.pick("手工记账", "Post a journal entry");
    Ok(finance_page(staff, &centre, title, content, true))
}

async fn reverse_page(
    state: &AppState,
    staff: &Staff,
    centre: &pb::Centre,
    entry: &str,
    posted: Option<&Posted>,
    errors: FieldErrors,
) -> Page {
    let lang = staff.lang;
    let e = state
        .finance
        .clone()
        .get_entry(staff.grpc(fi::GetEntryRequest {
            centre_id: centre.id.clone(),
            entry_id: entry.to_owned(),
        }))
        .await
        .map_err(|status| match status.code() {
            tonic::Code::InvalidArgument => Refusal::not_found(),
            _ => status.into(),
        })?
        .into_inner();
    let chart = accounts(state, staff, centre).await?;
    let name_of = |code: &str| {
        chart
            .iter()
            .find(|a| a.code == code)
            .map(|a| account_name(lang, &a.name))
            .unwrap_or_else(|| code.to_owned())
    };
    let reason = posted
        .map(|p| p.get("reason").to_owned())
        .unwrap_or_default();
    let confirmed = posted.is_some_and(|p| p.get("confirm") == "yes");
    let here = format!("/c/{}/finance/entries/{}/reverse", centre.id, e.id);
    let done = !e.reversed_by.is_empty() || !e.reverses.is_empty();
    let content = html! {
        p { a href=(format!("/c/{}/finance/entries", centre.id)) { "← " (lang.pick("返回账目", "Back to the entries")) } }
        section #entry {
            h2 { (lang.pick("要冲销的账目", "The entry")) }
            p { (super::i18n::iso_day(lang, &e.entry_date)) " · " (entry_words(lang, &e)) " · " (i18n::term(lang, &e.source)) }
            table #entry-lines {
                thead { tr { th { (lang.pick("科目", "Account")) } th.num { (lang.pick("借方", "Debit")) } th.num { (lang.pick("贷方", "Credit")) } } }
                tbody {
                    @for l in &e.lines {
                        tr {
                            td { (name_of(&l.account_code)) }
                            td.num { @if l.debit_minor > 0 { (money(l.debit_minor)) } }
                            td.num { @if l.credit_minor > 0 { (money(l.credit_minor)) } }
                        }
                    }
                }
            }
        }
        @if done {
            p.notice { (lang.pick("这笔账目已经冲销过，或本身就是冲销凭证，不能再冲销。", "This entry is already reversed, or is itself a reversal.")) }
        } @else if writes(staff) {
            section {
                h2 { (lang.pick("确认冲销", "Confirm the reversal")) }
                p { (lang.pick("冲销会在今天另记一笔借贷相反的账，原账目保留并标为已冲销。冲销后不能撤销。", "Reversing posts the opposite entry today; the original stays, marked reversed. It cannot be undone.")) }
                form.stack #reverse method="post" action=(here) novalidate {
                    (csrf(staff))
                    (general_errors(&errors, &["reason", "confirm"]))
                    div.field.invalid[errors.get("reason").is_some()] {
                        label for="f-reason" { (lang.pick("冲销原因", "Why it is reversed")) span.req aria-hidden="true" { " *" } }
                        textarea #f-reason name="reason" rows="3" aria-invalid=[errors.get("reason").map(|_| "true")] aria-describedby=[errors.get("reason").map(|_| "f-reason-error")] { (reason) }
                        @if let Some(m) = errors.get("reason") { span.error #f-reason-error role="alert" { (m) } }
                    }
                    div.field.invalid[errors.get("confirm").is_some()] {
                        label { input #f-confirm type="checkbox" name="confirm" value="yes" checked[confirmed]; " " (lang.pick("我已核对，确认冲销这笔账目", "I have checked; reverse this entry")) }
                        @if let Some(m) = errors.get("confirm") { span.error #f-confirm-error role="alert" { (m) } }
                    }
                    button type="submit" { (lang.pick("确认冲销", "Reverse the entry")) }
                }
            }
        }
    };
    let title = lang.pick("冲销账目", "Reverse an entry");
    Ok(finance_page(
        staff,
        centre,
        title,
        content,
        !errors.is_empty(),
    ))
}

pub async fn reverse_form(
    State(state): State<AppState>,
    staff: Staff,
    Path((centre, entry)): Path<(String, String)>,
) -> Page {
    let centre = staff.centre(Section::Finance, &centre)?;
    super::parse_uuid(&entry)?;
    reverse_page(
        &state,
        &staff,
        &centre,
        &entry,
        None,
        FieldErrors::default(),
    )
    .await
}

pub async fn reverse(
    State(state): State<AppState>,
    Path((centre, entry)): Path<(String, String)>,
    posted: Posted,
) -> Page {
    let staff = &posted.staff;
    let centre = staff.centre(Section::Finance, &centre)?;
    if !writes(staff) {
        return Err(Refusal::forbidden());
    }
    super::parse_uuid(&entry)?;
    let lang = staff.lang;
    let mut errors = FieldErrors::default();
    if posted.get("reason").is_empty() {
        errors.push(
            "reason",
            lang.pick("请填写冲销原因", "Say why the entry is reversed"),
        );
    }
    if posted.get("confirm") != "yes" {
        errors.push(
            "confirm",
            lang.pick("冲销不能撤销，请先勾选确认", "Tick to confirm"),
        );
    }
    if errors.is_empty() {
        let reversed = state
            .finance
            .clone()
            .reverse_entry(staff.grpc(fi::ReverseEntryRequest {
                centre_id: centre.id.clone(),
                entry_id: entry.clone(),
                reason: posted.get("reason").to_owned(),
                entry_date: String::new(),
            }))
            .await;
        match reversed {
            Ok(_) => {
                return Ok(Redirect::to(&format!(
                    "/c/{}/finance/entries?notice=reversed",
                    centre.id
                ))
                .into_response());
            }
            Err(status) if is_refusal(&status) => {
                errors = FieldErrors::from_status(&status, lang);
            }
            Err(status) => return Err(status.into()),
        }
    }
    reverse_page(&state, staff, &centre, &entry, Some(&posted), errors).await
}

// ---- The transparency report as a spreadsheet. ----

/// The transparency report as CSV for the public: Chinese headings, every amount in yuan
/// (two decimals, no symbol, so a spreadsheet reads it as a number), categories and
/// sources in words. A byte-order mark first, so that Excel reads it as UTF-8.
pub fn transparency_csv(lang: Lang, r: &fi::TransparencyReport) -> Result<String, csv::Error> {
    let yuan = |minor: i64| {
        let sign = if minor < 0 { "-" } else { "" };
        format!(
            "{sign}{}.{:02}",
            minor.unsigned_abs() / 100,
            minor.unsigned_abs() % 100
        )
    };
    let mut out = csv::Writer::from_writer(Vec::new());
    out.write_record([
        lang.pick("部分", "Section"),
        lang.pick("项目", "Item"),
        lang.pick("金额（元）", "Amount (yuan)"),
        lang.pick("预算（元）", "Budget (yuan)"),
        lang.pick("执行率", "Executed"),
    ])?;
    let income = lang.pick("收入", "Income");
    let spending = lang.pick("支出", "Expenditure");
    let total = lang.pick("合计", "Total");
    for a in &r.income_by_source {
        out.write_record([
            income,
            &i18n::term(lang, &a.key),
            &yuan(a.amount_minor),
            "",
            "",
        ])?;
    }
    out.write_record([income, total, &yuan(r.income_total_minor), "", ""])?;
    for a in &r.expenditure_by_category {
        out.write_record([
            spending,
            &i18n::term(lang, &a.key),
            &yuan(a.amount_minor),
            "",
            "",
        ])?;
    }
    out.write_record([spending, total, &yuan(r.expenditure_total_minor), "", ""])?;
    if let Some(b) = &r.budget_execution {
        let section = lang.pick("预算执行", "Budget execution");
        for c in &b.categories {
            out.write_record([
                section,
                &i18n::term(lang, &c.category),
                &yuan(c.actual_minor),
                &yuan(c.budget_minor),
                &format!("{:.1}%", c.executed_basis_points as f64 / 100.0),
            ])?;
        }
        out.write_record([
            section,
            total,
            &yuan(b.actual_total_minor),
            &yuan(b.budget_total_minor),
            "",
        ])?;
    }
    if let Some(s) = &r.self_sufficiency {
        let section = lang.pick("自我造血能力", "Self-sufficiency");
        out.write_record([
            section,
            lang.pick("自有收入", "Own income"),
            &yuan(s.own_income_minor),
            "",
            "",
        ])?;
        out.write_record([
            section,
            lang.pick(
                "自有收入占支出比例（目标 50% 以上）",
                "Own income / expenditure (target 50%)",
            ),
            "",
            "",
            &format!("{:.1}%", s.ratio_basis_points as f64 / 100.0),
        ])?;
    }
    let bytes = out
        .into_inner()
        .map_err(|e| csv::Error::from(e.into_error()))?;
    Ok(format!("\u{feff}{}", String::from_utf8_lossy(&bytes)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_transparency_csv_has_chinese_headings_and_yuan() {
        let report = fi::TransparencyReport {
            currency: "CNY".into(),
            income_by_source: vec![fi::AmountBy {
                key: "special_fund".into(),
                amount_minor: 151_050,
            }],
            income_total_minor: 151_050,
            expenditure_by_category: vec![fi::AmountBy {
                key: "equipment_purchase".into(),
                amount_minor: 32_050,
            }],
            expenditure_total_minor: 32_050,
            ..Default::default()
        };
        let csv = transparency_csv(Lang::Zh, &report).expect("written");
        let mut rows = csv.trim_start_matches('\u{feff}').lines();
        assert_eq!(rows.next(), Some("部分,项目,金额（元）,预算（元）,执行率"));
        assert_eq!(rows.next(), Some("收入,社区建设专项资金,1510.50,,"));
        assert!(csv.contains("支出,设备购置,320.50,,"), "{csv}");
        assert!(!csv.contains("_minor") && !csv.contains("equipment_purchase"));
    }

    #[test]
    fn entries_the_ledger_describes_are_said_without_codes_or_ids() {
        let entry = |source: &str, description: &str| fi::JournalEntry {
            source: source.into(),
            description: description.into(),
            ..Default::default()
        };
        let said = entry_words(
            Lang::Zh,
            &entry(
                "reversal",
                "Reversal of 0b0e4e4a-6d7f-4d1c-9d7a-0e8f2b9c1a11: 金额记错",
            ),
        );
        assert_eq!(said, "冲销，原因：金额记错");
        assert_eq!(
            entry_words(Lang::Zh, &entry("grant", "special_fund: 区民政局, 专项")),
            "社区建设专项资金：区民政局，专项"
        );
        assert_eq!(
            entry_words(Lang::Zh, &entry("donation", "Donation (general)")),
            "社会捐赠（一般用途）"
        );
    }
}
