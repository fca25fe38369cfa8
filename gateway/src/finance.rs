//! Finance's HTTP routes: the ledger, periods, budgets, funding, donations, reports and the
//! audit trail, each a JSON translation of one `linli.finance.v1` call. Money travels as
//! integer minor units (`*_minor`, fen) with a currency, never as a decimal number. The
//! transparency report is also served as CSV, ready to publish.

use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use chrono::{DateTime, SecondsFormat};
use linli_proto::finance::v1 as pb;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, OpenApi, ToSchema};

use crate::AppState;
use crate::auth::Authenticated;
use crate::problem::Problem;
use crate::routes::ApiJson;

/// Finance's part of the OpenAPI document.
#[derive(OpenApi)]
#[openapi(
    paths(list_accounts, list_entries, post_entry, get_entry, reverse_entry, list_periods,
        close_period, set_budget, budget_report, record_grant, list_donations, record_donation,
        record_partnership_income, record_expense, trial_balance, self_sufficiency,
        district_self_sufficiency, transparency_report, transparency_csv, audit_trail),
    tags((name = "finance", description = "Ledger, budgets, funding, donations, oversight and transparency"))
)]
pub struct FinanceDoc;

pub fn routes() -> Router<AppState> {
    let centre = "/v1/centres/{centre_id}/finance";
    Router::new()
        .route(&format!("{centre}/accounts"), get(list_accounts))
        .route(
            &format!("{centre}/entries"),
            get(list_entries).post(post_entry),
        )
        .route(&format!("{centre}/entries/{{entry_id}}"), get(get_entry))
        .route(
            &format!("{centre}/entries/{{entry_id}}/reversal"),
            post(reverse_entry),
        )
        .route(&format!("{centre}/periods"), get(list_periods))
        .route(
            &format!("{centre}/periods/{{period}}/close"),
            post(close_period),
        )
        .route(
            &format!("{centre}/budgets/{{fiscal_year}}"),
            get(budget_report),
        )
        .route(
            &format!("{centre}/budgets/{{fiscal_year}}/{{category}}"),
            put(set_budget),
        )
        .route(&format!("{centre}/grants"), post(record_grant))
        .route(
            &format!("{centre}/donations"),
            get(list_donations).post(record_donation),
        )
        .route(
            &format!("{centre}/partnership-income"),
            post(record_partnership_income),
        )
        .route(&format!("{centre}/expenses"), post(record_expense))
        .route(&format!("{centre}/trial-balance"), get(trial_balance))
        .route(&format!("{centre}/self-sufficiency"), get(self_sufficiency))
        .route(&format!("{centre}/transparency"), get(transparency_report))
        .route(&format!("{centre}/transparency.csv"), get(transparency_csv))
        .route(&format!("{centre}/audit-trail"), get(audit_trail))
        .route(
            "/v1/finance/self-sufficiency",
            get(district_self_sufficiency),
        )
}

fn time(at: Option<prost_types::Timestamp>) -> Option<String> {
    at.and_then(|t| DateTime::from_timestamp(t.seconds, t.nanos.max(0) as u32))
        .map(|t| t.to_rfc3339_opts(SecondsFormat::Micros, true))
}

#[derive(Serialize, ToSchema)]
pub struct Account {
    pub code: String,
    pub name: String,
    /// `asset`, `liability`, `net_assets`, `income` or `expenditure`.
    pub kind: String,
    pub funding_source: String,
    pub budget_category: String,
}

#[derive(Serialize, ToSchema)]
pub struct AccountList {
    pub accounts: Vec<Account>,
}

/// One line of an entry: exactly one of the two amounts is positive.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct Line {
    #[schema(example = "1002")]
    pub account_code: String,
    #[serde(default)]
    pub debit_minor: i64,
    #[serde(default)]
    pub credit_minor: i64,
}

#[derive(Serialize, ToSchema)]
pub struct JournalEntry {
    pub id: String,
    pub centre_id: String,
    pub entry_date: String,
    pub description: String,
    pub source: String,
    /// The entry this one reverses ("" if none).
    pub reverses: String,
    /// The entry that reversed this one ("" if none).
    pub reversed_by: String,
    pub currency: String,
    pub lines: Vec<Line>,
    pub posted_at: Option<String>,
    pub posted_by: String,
}

impl From<pb::JournalEntry> for JournalEntry {
    fn from(e: pb::JournalEntry) -> Self {
        JournalEntry {
            id: e.id,
            centre_id: e.centre_id,
            entry_date: e.entry_date,
            description: e.description,
            source: e.source,
            reverses: e.reverses,
            reversed_by: e.reversed_by,
            currency: e.currency,
            lines: e
                .lines
                .into_iter()
                .map(|l| Line {
                    account_code: l.account_code,
                    debit_minor: l.debit_minor,
                    credit_minor: l.credit_minor,
                })
                .collect(),
            posted_at: time(e.posted_at),
            posted_by: e.posted_by,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct EntryList {
    pub entries: Vec<JournalEntry>,
    /// Pass as `page_token` for the next page; absent on the last page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_page_token: Option<String>,
}

/// A journal entry posted by hand.
#[derive(Deserialize, ToSchema)]
pub struct NewEntry {
    #[schema(example = "2026-03-15")]
    pub entry_date: Option<String>,
    pub description: Option<String>,
    /// Default CNY.
    pub currency: Option<String>,
    pub lines: Option<Vec<Line>>,
}

#[derive(Deserialize, ToSchema)]
pub struct Reversal {
    pub reason: Option<String>,
    /// Default: today.
    pub entry_date: Option<String>,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DateRange {
    /// YYYY-MM-DD, inclusive.
    pub from: Option<String>,
    pub to: Option<String>,
    /// The older name of `page_size`.
    pub limit: Option<u32>,
    /// 1 to 200; default 50.
    pub page_size: Option<u32>,
    /// The previous page's `next_page_token`.
    pub page_token: Option<String>,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct MonthRange {
    /// YYYY-MM, inclusive.
    pub from: Option<String>,
    /// YYYY-MM, inclusive.
    pub to: Option<String>,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AsOf {
    /// YYYY-MM-DD.
    pub as_of: Option<String>,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct Limit {
    /// The older name of `page_size`.
    pub limit: Option<u32>,
    /// 1 to 200; default 50.
    pub page_size: Option<u32>,
    /// The previous page's `next_page_token`.
    pub page_token: Option<String>,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ReceiptYear {
    pub receipt_year: Option<i32>,
    /// 1 to 200; default 50.
    pub page_size: Option<u32>,
    /// The previous page's `next_page_token`.
    pub page_token: Option<String>,
}

/// The centre's chart of accounts.
#[utoipa::path(get, path = "/v1/centres/{centre_id}/finance/accounts", tag = "finance",
    params(("centre_id" = String, Path)),
    responses((status = 200, body = AccountList), (status = 403, body = Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn list_accounts(
    State(state): State<AppState>,
    auth: Authenticated,
    Path(centre_id): Path<String>,
) -> Result<Json<AccountList>, Problem> {
    let centre = auth.centre(&centre_id)?;
    let request = pb::ListAccountsRequest {
        centre_id: centre.to_string(),
    };
    let reply = state
        .finance
        .clone()
        .list_accounts(auth.grpc(request))
        .await?
        .into_inner();
    Ok(Json(AccountList {
        accounts: reply
            .accounts
            .into_iter()
            .map(|a| Account {
                code: a.code,
                name: a.name,
                kind: a.kind,
                funding_source: a.funding_source,
                budget_category: a.budget_category,
            })
            .collect(),
    }))
}

/// Journal entries, by date.
#[utoipa::path(get, path = "/v1/centres/{centre_id}/finance/entries", tag = "finance",
    params(("centre_id" = String, Path), DateRange),
    responses((status = 200, body = EntryList), (status = 403, body = Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn list_entries(
    State(state): State<AppState>,
    auth: Authenticated,
    Path(centre_id): Path<String>,
    Query(range): Query<DateRange>,
) -> Result<Json<EntryList>, Problem> {
    let centre = auth.centre(&centre_id)?;
    let request = pb::ListEntriesRequest {
        centre_id: centre.to_string(),
        from: range.from.unwrap_or_default(),
        to: range.to.unwrap_or_default(),
        limit: range.limit.unwrap_or_default(),
        page_size: range.page_size.unwrap_or(0),
        page_token: range.page_token.unwrap_or_default(),
    };
    let reply = state
        .finance
        .clone()
        .list_entries(auth.grpc(request))
        .await?
        .into_inner();
    Ok(Json(EntryList {
        entries: reply.entries.into_iter().map(Into::into).collect(),
        next_page_token: Some(reply.next_page_token).filter(|t| !t.is_empty()),
    }))
}

/// Posts a balanced entry (finance officers, centre managers, district admins).
#[utoipa::path(post, path = "/v1/centres/{centre_id}/finance/entries", tag = "finance",
    params(("centre_id" = String, Path)),
    request_body = NewEntry,
    responses(
        (status = 201, body = JournalEntry),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json", description = "Auditors and other roles never write"),
        (status = 422, body = Problem, content_type = "application/problem+json", description = "The period is closed")),
    security(("bearer" = [])))]
pub async fn post_entry(
    State(state): State<AppState>,
    auth: Authenticated,
    Path(centre_id): Path<String>,
    ApiJson(body): ApiJson<NewEntry>,
) -> Result<(StatusCode, Json<JournalEntry>), Problem> {
    let centre = auth.centre(&centre_id)?;
    let request = pb::PostEntryRequest {
        centre_id: centre.to_string(),
        entry_date: body.entry_date.unwrap_or_default(),
        description: body.description.unwrap_or_default(),
        currency: body.currency.unwrap_or_default(),
        lines: body
            .lines
            .unwrap_or_default()
            .into_iter()
            .map(|l| pb::Line {
                account_code: l.account_code,
                debit_minor: l.debit_minor,
                credit_minor: l.credit_minor,
            })
            .collect(),
    };
    let reply = state.finance.clone().post_entry(auth.grpc(request)).await?;
    Ok((StatusCode::CREATED, Json(reply.into_inner().into())))
}

#[utoipa::path(get, path = "/v1/centres/{centre_id}/finance/entries/{entry_id}", tag = "finance",
    params(("centre_id" = String, Path), ("entry_id" = String, Path)),
    responses((status = 200, body = JournalEntry), (status = 404, body = Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn get_entry(
    State(state): State<AppState>,
    auth: Authenticated,
    Path((centre_id, entry_id)): Path<(String, String)>,
) -> Result<Json<JournalEntry>, Problem> {
    let centre = auth.centre(&centre_id)?;
    let request = pb::GetEntryRequest {
        centre_id: centre.to_string(),
        entry_id,
    };
    let reply = state.finance.clone().get_entry(auth.grpc(request)).await?;
    Ok(Json(reply.into_inner().into()))
}

/// Corrects an entry by posting its mirror image, which points back at it.
#[utoipa::path(post, path = "/v1/centres/{centre_id}/finance/entries/{entry_id}/reversal", tag = "finance",
    params(("centre_id" = String, Path), ("entry_id" = String, Path)),
    request_body = Reversal,
    responses(
        (status = 201, body = JournalEntry),
        (status = 422, body = Problem, content_type = "application/problem+json", description = "Already reversed, or the date's period is closed")),
    security(("bearer" = [])))]
pub async fn reverse_entry(
    State(state): State<AppState>,
    auth: Authenticated,
    Path((centre_id, entry_id)): Path<(String, String)>,
    ApiJson(body): ApiJson<Reversal>,
) -> Result<(StatusCode, Json<JournalEntry>), Problem> {
    let centre = auth.centre(&centre_id)?;
    let request = pb::ReverseEntryRequest {
        centre_id: centre.to_string(),
        entry_id,
        reason: body.reason.unwrap_or_default(),
        entry_date: body.entry_date.unwrap_or_default(),
    };
    let reply = state
        .finance
        .clone()
        .reverse_entry(auth.grpc(request))
        .await?;
    Ok((StatusCode::CREATED, Json(reply.into_inner().into())))
}

#[derive(Serialize, ToSchema)]
pub struct Period {
    /// YYYY-MM
    pub period: String,
    pub closed: bool,
    pub closed_at: Option<String>,
    pub closed_by: String,
}

impl From<pb::Period> for Period {
    fn from(p: pb::Period) -> Self {
        Period {
            period: p.period,
            closed: p.closed,
            closed_at: time(p.closed_at),
            closed_by: p.closed_by,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct PeriodList {
    pub periods: Vec<Period>,
}

#[utoipa::path(get, path = "/v1/centres/{centre_id}/finance/periods", tag = "finance",
    params(("centre_id" = String, Path)),
    responses((status = 200, body = PeriodList)),
    security(("bearer" = [])))]
pub async fn list_periods(
    State(state): State<AppState>,
    auth: Authenticated,
    Path(centre_id): Path<String>,
) -> Result<Json<PeriodList>, Problem> {
    let centre = auth.centre(&centre_id)?;
    let request = pb::ListPeriodsRequest {
        centre_id: centre.to_string(),
    };
    let reply = state
        .finance
        .clone()
        .list_periods(auth.grpc(request))
        .await?
        .into_inner();
    Ok(Json(PeriodList {
        periods: reply.periods.into_iter().map(Into::into).collect(),
    }))
}

/// Closes a month that has ended; nothing posts into it afterwards.
#[utoipa::path(post, path = "/v1/centres/{centre_id}/finance/periods/{period}/close", tag = "finance",
    params(("centre_id" = String, Path), ("period" = String, Path, description = "YYYY-MM")),
    responses((status = 200, body = Period), (status = 422, body = Problem, content_type = "application/problem+json", description = "Already closed")),
    security(("bearer" = [])))]
pub async fn close_period(
    State(state): State<AppState>,
    auth: Authenticated,
    Path((centre_id, period)): Path<(String, String)>,
) -> Result<Json<Period>, Problem> {
    let centre = auth.centre(&centre_id)?;
    let request = pb::ClosePeriodRequest {
        centre_id: centre.to_string(),
        period,
    };
    let reply = state
        .finance
        .clone()
        .close_period(auth.grpc(request))
        .await?;
    Ok(Json(reply.into_inner().into()))
}

#[derive(Deserialize, ToSchema)]
pub struct BudgetAmount {
    pub amount_minor: Option<i64>,
    pub currency: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct BudgetLine {
    pub fiscal_year: i32,
    pub category: String,
    pub amount_minor: i64,
    pub currency: String,
}

/// Sets one category's budget for a fiscal year.
#[utoipa::path(put, path = "/v1/centres/{centre_id}/finance/budgets/{fiscal_year}/{category}", tag = "finance",
    params(("centre_id" = String, Path), ("fiscal_year" = i32, Path), ("category" = String, Path)),
    request_body = BudgetAmount,
    responses((status = 200, body = BudgetLine), (status = 400, body = Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn set_budget(
    State(state): State<AppState>,
    auth: Authenticated,
    Path((centre_id, fiscal_year, category)): Path<(String, String, String)>,
    ApiJson(body): ApiJson<BudgetAmount>,
) -> Result<Json<BudgetLine>, Problem> {
    let centre = auth.centre(&centre_id)?;
    let fiscal_year = fiscal_year
        .parse()
        .map_err(|_| Problem::invalid_field("fiscal_year", "must be a year"))?;
    let request = pb::SetBudgetRequest {
        centre_id: centre.to_string(),
        fiscal_year,
        category,
        amount_minor: body.amount_minor.unwrap_or(-1),
        currency: body.currency.unwrap_or_default(),
    };
    let reply = state
        .finance
        .clone()
        .set_budget(auth.grpc(request))
        .await?
        .into_inner();
    Ok(Json(BudgetLine {
        fiscal_year: reply.fiscal_year,
        category: reply.category,
        amount_minor: reply.amount_minor,
        currency: reply.currency,
    }))
}

#[derive(Serialize, ToSchema)]
pub struct BudgetExecution {
    pub category: String,
    pub budget_minor: i64,
    pub actual_minor: i64,
    pub remaining_minor: i64,
    /// actual / budget, in basis points (10000 = 100%).
    pub executed_basis_points: i64,
}

#[derive(Serialize, ToSchema)]
pub struct BudgetReport {
    pub fiscal_year: i32,
    pub as_of: String,
    pub currency: String,
    pub categories: Vec<BudgetExecution>,
    pub budget_total_minor: i64,
    pub actual_total_minor: i64,
}

impl From<pb::BudgetReport> for BudgetReport {
    fn from(r: pb::BudgetReport) -> Self {
        BudgetReport {
            fiscal_year: r.fiscal_year,
            as_of: r.as_of,
            currency: r.currency,
            categories: r
                .categories
                .into_iter()
                .map(|c| BudgetExecution {
                    category: c.category,
                    budget_minor: c.budget_minor,
                    actual_minor: c.actual_minor,
                    remaining_minor: c.remaining_minor,
                    executed_basis_points: c.executed_basis_points,
                })
                .collect(),
            budget_total_minor: r.budget_total_minor,
            actual_total_minor: r.actual_total_minor,
        }
    }
}

/// Budget against actual, per category, up to a date.
#[utoipa::path(get, path = "/v1/centres/{centre_id}/finance/budgets/{fiscal_year}", tag = "finance",
    params(("centre_id" = String, Path), ("fiscal_year" = i32, Path), AsOf),
    responses((status = 200, body = BudgetReport)),
    security(("bearer" = [])))]
pub async fn budget_report(
    State(state): State<AppState>,
    auth: Authenticated,
    Path((centre_id, fiscal_year)): Path<(String, String)>,
    Query(query): Query<AsOf>,
) -> Result<Json<BudgetReport>, Problem> {
    let centre = auth.centre(&centre_id)?;
    let fiscal_year = fiscal_year
        .parse()
        .map_err(|_| Problem::invalid_field("fiscal_year", "must be a year"))?;
    let request = pb::GetBudgetReportRequest {
        centre_id: centre.to_string(),
        fiscal_year,
        as_of: query.as_of.unwrap_or_default(),
    };
    let reply = state
        .finance
        .clone()
        .get_budget_report(auth.grpc(request))
        .await?;
    Ok(Json(reply.into_inner().into()))
}

/// A government appropriation or special fund received.
#[derive(Deserialize, ToSchema)]
pub struct NewGrant {
    /// `appropriation` or `special_fund`.
    pub kind: Option<String>,
    #[schema(example = "区民政局")]
    pub granting_body: Option<String>,
    pub purpose: Option<String>,
    pub amount_minor: Option<i64>,
    pub currency: Option<String>,
    pub received_on: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct Grant {
    pub id: String,
    pub kind: String,
    pub granting_body: String,
    pub purpose: String,
    pub amount_minor: i64,
    pub currency: String,
    pub received_on: String,
    pub entry_id: String,
}

#[utoipa::path(post, path = "/v1/centres/{centre_id}/finance/grants", tag = "finance",
    params(("centre_id" = String, Path)),
    request_body = NewGrant,
    responses((status = 201, body = Grant), (status = 400, body = Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn record_grant(
    State(state): State<AppState>,
    auth: Authenticated,
    Path(centre_id): Path<String>,
    ApiJson(body): ApiJson<NewGrant>,
) -> Result<(StatusCode, Json<Grant>), Problem> {
    let centre = auth.centre(&centre_id)?;
    let request = pb::RecordGrantRequest {
        centre_id: centre.to_string(),
        kind: body.kind.unwrap_or_default(),
        granting_body: body.granting_body.unwrap_or_default(),
        purpose: body.purpose.unwrap_or_default(),
        amount_minor: body.amount_minor.unwrap_or_default(),
        currency: body.currency.unwrap_or_default(),
        received_on: body.received_on.unwrap_or_default(),
    };
    let g = state
        .finance
        .clone()
        .record_grant(auth.grpc(request))
        .await?
        .into_inner();
    Ok((
        StatusCode::CREATED,
        Json(Grant {
            id: g.id,
            kind: g.kind,
            granting_body: g.granting_body,
            purpose: g.purpose,
            amount_minor: g.amount_minor,
            currency: g.currency,
            received_on: g.received_on,
            entry_id: g.entry_id,
        }),
    ))
}

/// A donation as the finance officer records it.
#[derive(Deserialize, ToSchema)]
pub struct NewDonation {
    #[serde(default)]
    pub anonymous: bool,
    /// Required unless anonymous.
    pub donor_name: Option<String>,
    /// When the donor is a registered resident.
    pub donor_resident_id: Option<String>,
    pub amount_minor: Option<i64>,
    pub currency: Option<String>,
    pub purpose: Option<String>,
    /// Default: today.
    pub received_on: Option<String>,
    /// `cash` (default) or `bank`.
    pub method: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct Donation {
    pub id: String,
    /// e.g. 2026-000042: gap-free per centre and year.
    pub receipt: String,
    pub receipt_year: i32,
    pub receipt_number: i32,
    pub anonymous: bool,
    /// Empty when anonymous, or once an erased resident's name is gone.
    pub donor_name: String,
    pub donor_resident_id: String,
    pub amount_minor: i64,
    pub currency: String,
    pub purpose: String,
    pub received_on: String,
    pub method: String,
    pub entry_id: String,
}

impl From<pb::Donation> for Donation {
    fn from(d: pb::Donation) -> Self {
        Donation {
            id: d.id,
            receipt: d.receipt,
            receipt_year: d.receipt_year,
            receipt_number: d.receipt_number,
            anonymous: d.anonymous,
            donor_name: d.donor_name,
            donor_resident_id: d.donor_resident_id,
            amount_minor: d.amount_minor,
            currency: d.currency,
            purpose: d.purpose,
            received_on: d.received_on,
            method: d.method,
            entry_id: d.entry_id,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct DonationList {
    pub donations: Vec<Donation>,
    /// Pass as `page_token` for the next page; absent on the last page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_page_token: Option<String>,
}

#[utoipa::path(get, path = "/v1/centres/{centre_id}/finance/donations", tag = "finance",
    params(("centre_id" = String, Path), ReceiptYear),
    responses((status = 200, body = DonationList)),
    security(("bearer" = [])))]
pub async fn list_donations(
    State(state): State<AppState>,
    auth: Authenticated,
    Path(centre_id): Path<String>,
    Query(query): Query<ReceiptYear>,
) -> Result<Json<DonationList>, Problem> {
    let centre = auth.centre(&centre_id)?;
    let request = pb::ListDonationsRequest {
        centre_id: centre.to_string(),
        receipt_year: query.receipt_year.unwrap_or_default(),
        page_size: query.page_size.unwrap_or(0),
        page_token: query.page_token.unwrap_or_default(),
    };
    let reply = state
        .finance
        .clone()
        .list_donations(auth.grpc(request))
        .await?
        .into_inner();
    Ok(Json(DonationList {
        donations: reply.donations.into_iter().map(Into::into).collect(),
        next_page_token: Some(reply.next_page_token).filter(|t| !t.is_empty()),
    }))
}

/// Records a donation and issues its receipt number.
#[utoipa::path(post, path = "/v1/centres/{centre_id}/finance/donations", tag = "finance",
    params(("centre_id" = String, Path)),
    request_body = NewDonation,
    responses((status = 201, body = Donation), (status = 400, body = Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn record_donation(
    State(state): State<AppState>,
    auth: Authenticated,
    Path(centre_id): Path<String>,
    ApiJson(body): ApiJson<NewDonation>,
) -> Result<(StatusCode, Json<Donation>), Problem> {
    let centre = auth.centre(&centre_id)?;
    let request = pb::RecordDonationRequest {
        centre_id: centre.to_string(),
        anonymous: body.anonymous,
        donor_name: body.donor_name.unwrap_or_default(),
        donor_resident_id: body.donor_resident_id.unwrap_or_default(),
        amount_minor: body.amount_minor.unwrap_or_default(),
        currency: body.currency.unwrap_or_default(),
        purpose: body.purpose.unwrap_or_default(),
        received_on: body.received_on.unwrap_or_default(),
        method: body.method.unwrap_or_default(),
    };
    let reply = state
        .finance
        .clone()
        .record_donation(auth.grpc(request))
        .await?;
    Ok((StatusCode::CREATED, Json(reply.into_inner().into())))
}

#[derive(Deserialize, ToSchema)]
pub struct NewPartnershipIncome {
    /// The partner organisation.
    pub partner_id: Option<String>,
    pub description: Option<String>,
    pub amount_minor: Option<i64>,
    pub currency: Option<String>,
    pub received_on: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct PartnershipIncome {
    pub id: String,
    pub partner_id: String,
    pub description: String,
    pub amount_minor: i64,
    pub currency: String,
    pub received_on: String,
    pub entry_id: String,
}

#[utoipa::path(post, path = "/v1/centres/{centre_id}/finance/partnership-income", tag = "finance",
    params(("centre_id" = String, Path)),
    request_body = NewPartnershipIncome,
    responses((status = 201, body = PartnershipIncome), (status = 400, body = Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn record_partnership_income(
    State(state): State<AppState>,
    auth: Authenticated,
    Path(centre_id): Path<String>,
    ApiJson(body): ApiJson<NewPartnershipIncome>,
) -> Result<(StatusCode, Json<PartnershipIncome>), Problem> {
    let centre = auth.centre(&centre_id)?;
    let request = pb::RecordPartnershipIncomeRequest {
        centre_id: centre.to_string(),
        partner_id: body.partner_id.unwrap_or_default(),
        description: body.description.unwrap_or_default(),
        amount_minor: body.amount_minor.unwrap_or_default(),
        currency: body.currency.unwrap_or_default(),
        received_on: body.received_on.unwrap_or_default(),
    };
    let p = state
        .finance
        .clone()
        .record_partnership_income(auth.grpc(request))
        .await?
        .into_inner();
    Ok((
        StatusCode::CREATED,
        Json(PartnershipIncome {
            id: p.id,
            partner_id: p.partner_id,
            description: p.description,
            amount_minor: p.amount_minor,
            currency: p.currency,
            received_on: p.received_on,
            entry_id: p.entry_id,
        }),
    ))
}

#[derive(Deserialize, ToSchema)]
pub struct NewExpense {
    /// `personnel`, `service_costs`, `equipment_purchase`, `equipment_maintenance`, `office_costs`.
    pub category: Option<String>,
    pub amount_minor: Option<i64>,
    pub currency: Option<String>,
    pub description: Option<String>,
    pub spent_on: Option<String>,
    /// `bank` (default) or `cash`.
    pub paid_from: Option<String>,
}

#[utoipa::path(post, path = "/v1/centres/{centre_id}/finance/expenses", tag = "finance",
    params(("centre_id" = String, Path)),
    request_body = NewExpense,
    responses((status = 201, body = JournalEntry), (status = 400, body = Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn record_expense(
    State(state): State<AppState>,
    auth: Authenticated,
    Path(centre_id): Path<String>,
    ApiJson(body): ApiJson<NewExpense>,
) -> Result<(StatusCode, Json<JournalEntry>), Problem> {
    let centre = auth.centre(&centre_id)?;
    let request = pb::RecordExpenseRequest {
        centre_id: centre.to_string(),
        category: body.category.unwrap_or_default(),
        amount_minor: body.amount_minor.unwrap_or_default(),
        currency: body.currency.unwrap_or_default(),
        description: body.description.unwrap_or_default(),
        spent_on: body.spent_on.unwrap_or_default(),
        paid_from: body.paid_from.unwrap_or_default(),
    };
    let reply = state
        .finance
        .clone()
        .record_expense(auth.grpc(request))
        .await?;
    Ok((StatusCode::CREATED, Json(reply.into_inner().into())))
}

#[derive(Serialize, ToSchema)]
pub struct TrialBalanceRow {
    pub account_code: String,
    pub account_name: String,
    pub kind: String,
    pub debit_minor: i64,
    pub credit_minor: i64,
    pub balance_minor: i64,
}

#[derive(Serialize, ToSchema)]
pub struct TrialBalance {
    pub as_of: String,
    pub currency: String,
    pub rows: Vec<TrialBalanceRow>,
    pub debit_total_minor: i64,
    pub credit_total_minor: i64,
}

#[utoipa::path(get, path = "/v1/centres/{centre_id}/finance/trial-balance", tag = "finance",
    params(("centre_id" = String, Path), AsOf),
    responses((status = 200, body = TrialBalance)),
    security(("bearer" = [])))]
pub async fn trial_balance(
    State(state): State<AppState>,
    auth: Authenticated,
    Path(centre_id): Path<String>,
    Query(query): Query<AsOf>,
) -> Result<Json<TrialBalance>, Problem> {
    let centre = auth.centre(&centre_id)?;
    let request = pb::GetTrialBalanceRequest {
        centre_id: centre.to_string(),
        as_of: query.as_of.unwrap_or_default(),
    };
    let t = state
        .finance
        .clone()
        .get_trial_balance(auth.grpc(request))
        .await?
        .into_inner();
    Ok(Json(TrialBalance {
        as_of: t.as_of,
        currency: t.currency,
        rows: t
            .rows
            .into_iter()
            .map(|r| TrialBalanceRow {
                account_code: r.account_code,
                account_name: r.account_name,
                kind: r.kind,
                debit_minor: r.debit_minor,
                credit_minor: r.credit_minor,
                balance_minor: r.balance_minor,
            })
            .collect(),
        debit_total_minor: t.debit_total_minor,
        credit_total_minor: t.credit_total_minor,
    }))
}

#[derive(Serialize, ToSchema)]
pub struct SelfSufficiency {
    /// Empty for a district total.
    pub centre_id: String,
    pub from: String,
    pub to: String,
    pub currency: String,
    pub own_income_minor: i64,
    pub expenditure_minor: i64,
    /// Own income / expenditure in basis points (10000 = 100%).
    pub ratio_basis_points: i64,
    /// The plan's target is 50% or more.
    pub meets_target: bool,
}

impl From<pb::SelfSufficiency> for SelfSufficiency {
    fn from(s: pb::SelfSufficiency) -> Self {
        SelfSufficiency {
            centre_id: s.centre_id,
            from: s.from,
            to: s.to,
            currency: s.currency,
            own_income_minor: s.own_income_minor,
            expenditure_minor: s.expenditure_minor,
            ratio_basis_points: s.ratio_basis_points,
            meets_target: s.meets_target,
        }
    }
}

#[utoipa::path(get, path = "/v1/centres/{centre_id}/finance/self-sufficiency", tag = "finance",
    params(("centre_id" = String, Path), MonthRange),
    responses((status = 200, body = SelfSufficiency)),
    security(("bearer" = [])))]
pub async fn self_sufficiency(
    State(state): State<AppState>,
    auth: Authenticated,
    Path(centre_id): Path<String>,
    Query(range): Query<MonthRange>,
) -> Result<Json<SelfSufficiency>, Problem> {
    let centre = auth.centre(&centre_id)?;
    let request = pb::GetSelfSufficiencyRequest {
        centre_id: centre.to_string(),
        from: range.from.unwrap_or_default(),
        to: range.to.unwrap_or_default(),
    };
    let reply = state
        .finance
        .clone()
        .get_self_sufficiency(auth.grpc(request))
        .await?;
    Ok(Json(reply.into_inner().into()))
}

#[derive(Serialize, ToSchema)]
pub struct DistrictSelfSufficiency {
    pub centres: Vec<SelfSufficiency>,
    pub total: Option<SelfSufficiency>,
}

/// Self-sufficiency of every centre the caller sees, and their total.
#[utoipa::path(get, path = "/v1/finance/self-sufficiency", tag = "finance",
    params(MonthRange),
    responses((status = 200, body = DistrictSelfSufficiency)),
    security(("bearer" = [])))]
pub async fn district_self_sufficiency(
    State(state): State<AppState>,
    auth: Authenticated,
    Query(range): Query<MonthRange>,
) -> Result<Json<DistrictSelfSufficiency>, Problem> {
    let request = pb::GetDistrictSelfSufficiencyRequest {
        from: range.from.unwrap_or_default(),
        to: range.to.unwrap_or_default(),
    };
    let reply = state
        .finance
        .clone()
        .get_district_self_sufficiency(auth.grpc(request))
        .await?
        .into_inner();
    Ok(Json(DistrictSelfSufficiency {
        centres: reply.centres.into_iter().map(Into::into).collect(),
        total: reply.total.map(Into::into),
    }))
}

#[derive(Serialize, ToSchema)]
pub struct AmountBy {
    pub key: String,
    pub amount_minor: i64,
}

#[derive(Serialize, ToSchema)]
pub struct TransparencyReport {
    pub centre_id: String,
    pub from: String,
    pub to: String,
    pub currency: String,
    pub income_by_source: Vec<AmountBy>,
    pub expenditure_by_category: Vec<AmountBy>,
    pub income_total_minor: i64,
    pub expenditure_total_minor: i64,
    pub budget_execution: Option<BudgetReport>,
    pub self_sufficiency: Option<SelfSufficiency>,
}

impl From<pb::TransparencyReport> for TransparencyReport {
    fn from(r: pb::TransparencyReport) -> Self {
        let amounts = |list: Vec<pb::AmountBy>| {
            list.into_iter()
                .map(|a| AmountBy {
                    key: a.key,
                    amount_minor: a.amount_minor,
                })
                .collect()
        };
        TransparencyReport {
            centre_id: r.centre_id,
            from: r.from,
            to: r.to,
            currency: r.currency,
            income_by_source: amounts(r.income_by_source),
            expenditure_by_category: amounts(r.expenditure_by_category),
            income_total_minor: r.income_total_minor,
            expenditure_total_minor: r.expenditure_total_minor,
            budget_execution: r.budget_execution.map(Into::into),
            self_sufficiency: r.self_sufficiency.map(Into::into),
        }
    }
}

async fn transparency(
    state: &AppState,
    auth: &Authenticated,
    centre_id: &str,
    range: MonthRange,
) -> Result<TransparencyReport, Problem> {
    let centre = auth.centre(centre_id)?;
    let request = pb::GetTransparencyReportRequest {
        centre_id: centre.to_string(),
        from: range.from.unwrap_or_default(),
        to: range.to.unwrap_or_default(),
    };
    let reply = state
        .finance
        .clone()
        .get_transparency_report(auth.grpc(request))
        .await?;
    Ok(reply.into_inner().into())
}

/// Income by source, expenditure by category and budget execution for a span of months.
#[utoipa::path(get, path = "/v1/centres/{centre_id}/finance/transparency", tag = "finance",
    params(("centre_id" = String, Path), MonthRange),
    responses((status = 200, body = TransparencyReport)),
    security(("bearer" = [])))]
pub async fn transparency_report(
    State(state): State<AppState>,
    auth: Authenticated,
    Path(centre_id): Path<String>,
    Query(range): Query<MonthRange>,
) -> Result<Json<TransparencyReport>, Problem> {
    Ok(Json(transparency(&state, &auth, &centre_id, range).await?))
}

/// The same report as CSV: `section,item,amount_minor,budget_minor,currency`.
#[utoipa::path(get, path = "/v1/centres/{centre_id}/finance/transparency.csv", tag = "finance",
    params(("centre_id" = String, Path), MonthRange),
    responses((status = 200, content_type = "text/csv", body = String)),
    security(("bearer" = [])))]
pub async fn transparency_csv(
    State(state): State<AppState>,
    auth: Authenticated,
    Path(centre_id): Path<String>,
    Query(range): Query<MonthRange>,
) -> Result<Response, Problem> {
    let report = transparency(&state, &auth, &centre_id, range).await?;
    let filename = format!("transparency-{}-{}.csv", report.from, report.to);
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{filename}\""),
            ),
        ],
        csv(&report),
    )
        .into_response())
}

/// Every value is a code, a number or a currency: nothing that needs quoting.
pub fn csv(report: &TransparencyReport) -> String {
    let currency = &report.currency;
    let mut out = String::from("section,item,amount_minor,budget_minor,currency\n");
    for a in &report.income_by_source {
        out.push_str(&format!(
            "income,{},{},,{currency}\n",
            a.key, a.amount_minor
        ));
    }
    out.push_str(&format!(
        "income,total,{},,{currency}\n",
        report.income_total_minor
    ));
    for a in &report.expenditure_by_category {
        out.push_str(&format!(
            "expenditure,{},{},,{currency}\n",
            a.key, a.amount_minor
        ));
    }
    out.push_str(&format!(
        "expenditure,total,{},,{currency}\n",
        report.expenditure_total_minor
    ));
    if let Some(budget) = &report.budget_execution {
        for c in &budget.categories {
            out.push_str(&format!(
                "budget_execution,{},{},{},{currency}\n",
                c.category, c.actual_minor, c.budget_minor
            ));
        }
    }
    if let Some(s) = &report.self_sufficiency {
        out.push_str(&format!(
            "self_sufficiency,own_income,{},,{currency}\n",
            s.own_income_minor
        ));
        out.push_str(&format!(
            "self_sufficiency,ratio_basis_points,{},,\n",
            s.ratio_basis_points
        ));
    }
    out
}

#[derive(Serialize, ToSchema)]
pub struct AuditRecord {
    pub seq: i64,
    pub at: Option<String>,
    pub actor: String,
    pub action: String,
    pub subject: String,
    /// JSON text; never personal data.
    pub details: String,
    pub trace_id: String,
}

#[derive(Serialize, ToSchema)]
pub struct AuditTrail {
    pub records: Vec<AuditRecord>,
    /// Pass as `page_token` for the next page; absent on the last page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_page_token: Option<String>,
}

/// Every change made in the centre's finance, newest first.
#[utoipa::path(get, path = "/v1/centres/{centre_id}/finance/audit-trail", tag = "finance",
    params(("centre_id" = String, Path), Limit),
    responses((status = 200, body = AuditTrail)),
    security(("bearer" = [])))]
pub async fn audit_trail(
    State(state): State<AppState>,
    auth: Authenticated,
    Path(centre_id): Path<String>,
    Query(query): Query<Limit>,
) -> Result<Json<AuditTrail>, Problem> {
    let centre = auth.centre(&centre_id)?;
    let request = pb::ListAuditTrailRequest {
        centre_id: centre.to_string(),
        limit: query.limit.unwrap_or_default(),
        page_size: query.page_size.unwrap_or(0),
        page_token: query.page_token.unwrap_or_default(),
    };
    let reply = state
        .finance
        .clone()
        .list_audit_trail(auth.grpc(request))
        .await?
        .into_inner();
    Ok(Json(AuditTrail {
        records: reply
            .records
            .into_iter()
            .map(|r| AuditRecord {
                seq: r.seq,
                at: time(r.at),
                actor: r.actor,
                action: r.action,
                subject: r.subject,
                details: r.details,
                trace_id: r.trace_id,
            })
            .collect(),
        next_page_token: Some(reply.next_page_token).filter(|t| !t.is_empty()),
    }))
}
