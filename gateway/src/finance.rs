//! Finance's HTTP routes: the ledger, periods, budgets, funding, donations, reports and the
//! audit trail, each a JSON translation of one `linli.finance.v1` call. Money travels as
//! integer minor units (`*_minor`, fen) with a currency, never as a decimal number. The
//! transparency report is also served as CSV, ready to publish.

use axum::Router;
use axum::extract::{Path, Query};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use linli_proto::finance::v1 as pb;
use serde::Deserialize;
use utoipa::{IntoParams, OpenApi, ToSchema};

use crate::json::{FromPath, Grpc};
use crate::problem::Problem;
use crate::{AppState, call, forward};

#[derive(OpenApi)]
#[openapi(paths(transparency_csv))]
pub struct FinanceDoc;

pub fn routes() -> Router<AppState> {
    forwarded().route(
        "/v1/centres/{centre_id}/finance/transparency.csv",
        get(transparency_csv),
    )
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct MonthRange {
    /// YYYY-MM, inclusive.
    pub from: Option<String>,
    /// YYYY-MM, inclusive.
    pub to: Option<String>,
}

#[derive(Deserialize, ToSchema)]
pub struct BudgetAmount {
    pub amount_minor: Option<i64>,
    pub currency: Option<String>,
}

forward! { tag = "finance", "Ledger, budgets, funding, donations, oversight and transparency";
    /// Self-sufficiency of every centre the caller sees, and their total.
    get "/v1/finance/self-sufficiency" => district_self_sufficiency(g; query q: pb::GetDistrictSelfSufficiencyRequest)
        -> 200 pb::DistrictSelfSufficiency = finance.get_district_self_sufficiency

    /// The centre's chart of accounts.
    get "/v1/centres/{centre_id}/finance/accounts" => list_accounts(g, centre_id) -> 200 pb::ListAccountsResponse
        = finance.list_accounts(pb::ListAccountsRequest)

    /// Journal entries, by date.
    get "/v1/centres/{centre_id}/finance/entries" => list_entries(g, centre_id; query q: pb::ListEntriesRequest)
        -> 200 pb::ListEntriesResponse = finance.list_entries

    /// Posts a balanced entry (finance officers, centre managers, district admins).
    post "/v1/centres/{centre_id}/finance/entries" => post_entry(g, centre_id; body e: pb::PostEntryRequest)
        -> 201 pb::JournalEntry, (403, "Auditors and other roles never write"), (422, "The period is closed")
        = finance.post_entry

    get "/v1/centres/{centre_id}/finance/entries/{entry_id}" => get_entry(g, centre_id, entry_id) -> 200 pb::JournalEntry
        = finance.get_entry(pb::GetEntryRequest)

    /// Corrects an entry by posting its mirror image, which points back at it.
    post "/v1/centres/{centre_id}/finance/entries/{entry_id}/reversal"
        => reverse_entry(g, centre_id, entry_id; body r: pb::ReverseEntryRequest) -> 201 pb::JournalEntry,
        (422, "Already reversed, or the date's period is closed") = finance.reverse_entry

    get "/v1/centres/{centre_id}/finance/periods" => list_periods(g, centre_id) -> 200 pb::ListPeriodsResponse
        = finance.list_periods(pb::ListPeriodsRequest)

    /// Closes a month that has ended; nothing posts into it afterwards.
    post "/v1/centres/{centre_id}/finance/periods/{period}/close"
        params(("period" = String, Path, description = "YYYY-MM"))
        => close_period(g, centre_id, period) -> 200 pb::Period, (422, "Already closed")
        = finance.close_period(pb::ClosePeriodRequest)

    /// Sets one category's budget for a fiscal year.
    put "/v1/centres/{centre_id}/finance/budgets/{fiscal_year}/{category}"
        params(("fiscal_year" = i32, Path))
        => set_budget(g, centre, fiscal_year, category; body b: BudgetAmount) -> 200 pb::BudgetLine {
        call!(g.finance.set_budget(pb::SetBudgetRequest {
            centre_id: g.centre(&centre)?,
            fiscal_year: FromPath::from_path("fiscal_year", fiscal_year)?,
            category,
            // Left out, it is refused as negative: a budget is never set to zero unasked.
            amount_minor: b.amount_minor.unwrap_or(-1),
            currency: b.currency.unwrap_or_default(),
        }))
    }

    /// Budget against actual, per category, up to a date.
    get "/v1/centres/{centre_id}/finance/budgets/{fiscal_year}" params(("fiscal_year" = i32, Path))
        => budget_report(g, centre_id, fiscal_year; query q: pb::GetBudgetReportRequest) -> 200 pb::BudgetReport
        = finance.get_budget_report

    post "/v1/centres/{centre_id}/finance/grants" => record_grant(g, centre_id; body grant: pb::RecordGrantRequest)
        -> 201 pb::Grant = finance.record_grant

    get "/v1/centres/{centre_id}/finance/donations" => list_donations(g, centre_id; query q: pb::ListDonationsRequest)
        -> 200 pb::ListDonationsResponse = finance.list_donations

    /// Records a donation and issues its receipt number.
    post "/v1/centres/{centre_id}/finance/donations" => record_donation(g, centre_id; body d: pb::RecordDonationRequest)
        -> 201 pb::Donation = finance.record_donation

    post "/v1/centres/{centre_id}/finance/partnership-income"
        => record_partnership_income(g, centre_id; body p: pb::RecordPartnershipIncomeRequest)
        -> 201 pb::PartnershipIncome = finance.record_partnership_income

    post "/v1/centres/{centre_id}/finance/expenses" => record_expense(g, centre_id; body e: pb::RecordExpenseRequest)
        -> 201 pb::JournalEntry = finance.record_expense

    get "/v1/centres/{centre_id}/finance/trial-balance" => trial_balance(g, centre_id; query q: pb::GetTrialBalanceRequest)
        -> 200 pb::TrialBalance = finance.get_trial_balance

    get "/v1/centres/{centre_id}/finance/self-sufficiency"
        => self_sufficiency(g, centre_id; query q: pb::GetSelfSufficiencyRequest) -> 200 pb::SelfSufficiency
        = finance.get_self_sufficiency

    /// Income by source, expenditure by category and budget execution for a span of months.
    get "/v1/centres/{centre_id}/finance/transparency"
        => transparency_report(g, centre_id; query q: pb::GetTransparencyReportRequest) -> 200 pb::TransparencyReport
        = finance.get_transparency_report

    /// Every change made in the centre's finance, newest first.
    get "/v1/centres/{centre_id}/finance/audit-trail" => audit_trail(g, centre_id; query q: pb::ListAuditTrailRequest)
        -> 200 pb::ListAuditTrailResponse = finance.list_audit_trail
}

/// The same report as CSV: `section,item,amount_minor,budget_minor,currency`.
#[utoipa::path(get, path = "/v1/centres/{centre_id}/finance/transparency.csv", tag = "finance",
    params(MonthRange), responses((status = 200, content_type = "text/csv", body = String)))]
pub async fn transparency_csv(
    g: Grpc,
    Path(centre): Path<String>,
    Query(range): Query<MonthRange>,
) -> Result<Response, Problem> {
    let centre_id = g.centre(&centre)?;
    let (from, to) = (range.from.unwrap_or_default(), range.to.unwrap_or_default());
    let request = pb::GetTransparencyReportRequest {
        centre_id,
        from,
        to,
    };
    let report = call!(g.finance.get_transparency_report(request));
    let filename = format!("transparency-{}-{}.csv", report.from, report.to);
    let disposition = format!("attachment; filename=\"{filename}\"");
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        csv(&report),
    )
        .into_response())
}

/// The report's rows: section, item (a code), amounts in fen, the currency.
pub fn csv(r: &pb::TransparencyReport) -> String {
    let mut out = csv::Writer::from_writer(Vec::new());
    let mut row = |fields: [&str; 5]| out.write_record(fields).expect("a record in memory");
    let c = r.currency.as_str();
    row([
        "section",
        "item",
        "amount_minor",
        "budget_minor",
        "currency",
    ]);
    for a in &r.income_by_source {
        row(["income", &a.key, &a.amount_minor.to_string(), "", c]);
    }
    row(["income", "total", &r.income_total_minor.to_string(), "", c]);
    for a in &r.expenditure_by_category {
        row(["expenditure", &a.key, &a.amount_minor.to_string(), "", c]);
    }
    row([
        "expenditure",
        "total",
        &r.expenditure_total_minor.to_string(),
        "",
        c,
    ]);
    for b in r.budget_execution.iter().flat_map(|b| &b.categories) {
        let (actual, budget) = (b.actual_minor.to_string(), b.budget_minor.to_string());
        row(["budget_execution", &b.category, &actual, &budget, c]);
    }
    if let Some(s) = &r.self_sufficiency {
        row([
            "self_sufficiency",
            "own_income",
            &s.own_income_minor.to_string(),
            "",
            c,
        ]);
        let basis_points = s.ratio_basis_points.to_string();
        row([
            "self_sufficiency",
            "ratio_basis_points",
            &basis_points,
            "",
            "",
        ]);
    }
    String::from_utf8(out.into_inner().expect("written to memory")).expect("UTF-8 in and out")
}
