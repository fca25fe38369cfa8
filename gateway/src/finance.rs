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

use crate::json::Grpc;
use crate::problem::Problem;
use crate::{AppState, call, forward};

/// Finance's part of the OpenAPI document.
#[derive(OpenApi)]
#[openapi(
    paths(transparency_csv),
    tags((name = "finance", description = "Ledger, budgets, funding, donations, oversight and transparency"))
)]
pub struct FinanceDoc;

pub fn routes() -> Router<AppState> {
    forwarded().route(
        "/v1/centres/{centre_id}/finance/transparency.csv",
        get(transparency_csv),
    )
}

/// A journal entry posted by hand.
#[derive(Deserialize, ToSchema)]
pub struct NewEntry {
    #[schema(example = "2026-03-15")]
    pub entry_date: Option<String>,
    pub description: Option<String>,
    /// Default CNY.
    pub currency: Option<String>,
    pub lines: Option<Vec<pb::Line>>,
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

#[derive(Deserialize, ToSchema)]
pub struct BudgetAmount {
    pub amount_minor: Option<i64>,
    pub currency: Option<String>,
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

#[derive(Deserialize, ToSchema)]
pub struct NewPartnershipIncome {
    /// The partner organisation.
    pub partner_id: Option<String>,
    pub description: Option<String>,
    pub amount_minor: Option<i64>,
    pub currency: Option<String>,
    pub received_on: Option<String>,
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

fn fiscal_year(text: &str) -> Result<i32, Problem> {
    text.parse()
        .map_err(|_| Problem::invalid_field("fiscal_year", "must be a year"))
}

forward! { tag = "finance";
    /// Self-sufficiency of every centre the caller sees, and their total.
    get "/v1/finance/self-sufficiency" => district_self_sufficiency(g; query range: MonthRange)
        -> 200 pb::DistrictSelfSufficiency {
        call!(g.finance.get_district_self_sufficiency(pb::GetDistrictSelfSufficiencyRequest {
            from: range.from.unwrap_or_default(),
            to: range.to.unwrap_or_default(),
        }))
    }

    /// The centre's chart of accounts.
    get "/v1/centres/{centre_id}/finance/accounts" => list_accounts(g, centre) -> 200 pb::ListAccountsResponse {
        call!(g.finance.list_accounts(pb::ListAccountsRequest { centre_id: g.centre(&centre)? }))
    }

    /// Journal entries, by date.
    get "/v1/centres/{centre_id}/finance/entries" => list_entries(g, centre; query range: DateRange) -> 200 pb::ListEntriesResponse {
        call!(g.finance.list_entries(pb::ListEntriesRequest {
            centre_id: g.centre(&centre)?,
            from: range.from.unwrap_or_default(),
            to: range.to.unwrap_or_default(),
            limit: range.limit.unwrap_or_default(),
            page_size: range.page_size.unwrap_or(0),
            page_token: range.page_token.unwrap_or_default(),
        }))
    }

    /// Posts a balanced entry (finance officers, centre managers, district admins).
    post "/v1/centres/{centre_id}/finance/entries" => post_entry(g, centre; body e: NewEntry) -> 201 pb::JournalEntry,
        (403, "Auditors and other roles never write"), (422, "The period is closed") {
        call!(g.finance.post_entry(pb::PostEntryRequest {
            centre_id: g.centre(&centre)?,
            entry_date: e.entry_date.unwrap_or_default(),
            description: e.description.unwrap_or_default(),
            currency: e.currency.unwrap_or_default(),
            lines: e.lines.unwrap_or_default(),
        }))
    }

    get "/v1/centres/{centre_id}/finance/entries/{entry_id}" => get_entry(g, centre, entry_id) -> 200 pb::JournalEntry {
        call!(g.finance.get_entry(pb::GetEntryRequest { centre_id: g.centre(&centre)?, entry_id }))
    }

    /// Corrects an entry by posting its mirror image, which points back at it.
    post "/v1/centres/{centre_id}/finance/entries/{entry_id}/reversal"
        => reverse_entry(g, centre, entry_id; body r: Reversal) -> 201 pb::JournalEntry,
        (422, "Already reversed, or the date's period is closed") {
        call!(g.finance.reverse_entry(pb::ReverseEntryRequest {
            centre_id: g.centre(&centre)?,
            entry_id,
            reason: r.reason.unwrap_or_default(),
            entry_date: r.entry_date.unwrap_or_default(),
        }))
    }

    get "/v1/centres/{centre_id}/finance/periods" => list_periods(g, centre) -> 200 pb::ListPeriodsResponse {
        call!(g.finance.list_periods(pb::ListPeriodsRequest { centre_id: g.centre(&centre)? }))
    }

    /// Closes a month that has ended; nothing posts into it afterwards.
    post "/v1/centres/{centre_id}/finance/periods/{period}/close"
        params(("period" = String, Path, description = "YYYY-MM"))
        => close_period(g, centre, period) -> 200 pb::Period, (422, "Already closed") {
        call!(g.finance.close_period(pb::ClosePeriodRequest { centre_id: g.centre(&centre)?, period }))
    }

    /// Sets one category's budget for a fiscal year.
    put "/v1/centres/{centre_id}/finance/budgets/{fiscal_year}/{category}"
        params(("fiscal_year" = i32, Path))
        => set_budget(g, centre, year, category; body b: BudgetAmount) -> 200 pb::BudgetLine {
        call!(g.finance.set_budget(pb::SetBudgetRequest {
            centre_id: g.centre(&centre)?,
            fiscal_year: fiscal_year(&year)?,
            category,
            amount_minor: b.amount_minor.unwrap_or(-1),
            currency: b.currency.unwrap_or_default(),
        }))
    }

    /// Budget against actual, per category, up to a date.
    get "/v1/centres/{centre_id}/finance/budgets/{fiscal_year}" params(("fiscal_year" = i32, Path))
        => budget_report(g, centre, year; query q: AsOf) -> 200 pb::BudgetReport {
        call!(g.finance.get_budget_report(pb::GetBudgetReportRequest {
            centre_id: g.centre(&centre)?,
            fiscal_year: fiscal_year(&year)?,
            as_of: q.as_of.unwrap_or_default(),
        }))
    }

    post "/v1/centres/{centre_id}/finance/grants" => record_grant(g, centre; body grant: NewGrant) -> 201 pb::Grant {
        call!(g.finance.record_grant(pb::RecordGrantRequest {
            centre_id: g.centre(&centre)?,
            kind: grant.kind.unwrap_or_default(),
            granting_body: grant.granting_body.unwrap_or_default(),
            purpose: grant.purpose.unwrap_or_default(),
            amount_minor: grant.amount_minor.unwrap_or_default(),
            currency: grant.currency.unwrap_or_default(),
            received_on: grant.received_on.unwrap_or_default(),
        }))
    }

    get "/v1/centres/{centre_id}/finance/donations" => list_donations(g, centre; query q: ReceiptYear) -> 200 pb::ListDonationsResponse {
        call!(g.finance.list_donations(pb::ListDonationsRequest {
            centre_id: g.centre(&centre)?,
            receipt_year: q.receipt_year.unwrap_or_default(),
            page_size: q.page_size.unwrap_or(0),
            page_token: q.page_token.unwrap_or_default(),
        }))
    }

    /// Records a donation and issues its receipt number.
    post "/v1/centres/{centre_id}/finance/donations" => record_donation(g, centre; body d: NewDonation) -> 201 pb::Donation {
        call!(g.finance.record_donation(pb::RecordDonationRequest {
            centre_id: g.centre(&centre)?,
            anonymous: d.anonymous,
            donor_name: d.donor_name.unwrap_or_default(),
            donor_resident_id: d.donor_resident_id.unwrap_or_default(),
            amount_minor: d.amount_minor.unwrap_or_default(),
            currency: d.currency.unwrap_or_default(),
            purpose: d.purpose.unwrap_or_default(),
            received_on: d.received_on.unwrap_or_default(),
            method: d.method.unwrap_or_default(),
        }))
    }

    post "/v1/centres/{centre_id}/finance/partnership-income"
        => record_partnership_income(g, centre; body p: NewPartnershipIncome) -> 201 pb::PartnershipIncome {
        call!(g.finance.record_partnership_income(pb::RecordPartnershipIncomeRequest {
            centre_id: g.centre(&centre)?,
            partner_id: p.partner_id.unwrap_or_default(),
            description: p.description.unwrap_or_default(),
            amount_minor: p.amount_minor.unwrap_or_default(),
            currency: p.currency.unwrap_or_default(),
            received_on: p.received_on.unwrap_or_default(),
        }))
    }

    post "/v1/centres/{centre_id}/finance/expenses" => record_expense(g, centre; body e: NewExpense) -> 201 pb::JournalEntry {
        call!(g.finance.record_expense(pb::RecordExpenseRequest {
            centre_id: g.centre(&centre)?,
            category: e.category.unwrap_or_default(),
            amount_minor: e.amount_minor.unwrap_or_default(),
            currency: e.currency.unwrap_or_default(),
            description: e.description.unwrap_or_default(),
            spent_on: e.spent_on.unwrap_or_default(),
            paid_from: e.paid_from.unwrap_or_default(),
        }))
    }

    get "/v1/centres/{centre_id}/finance/trial-balance" => trial_balance(g, centre; query q: AsOf) -> 200 pb::TrialBalance {
        let as_of = q.as_of.unwrap_or_default();
        call!(g.finance.get_trial_balance(pb::GetTrialBalanceRequest { centre_id: g.centre(&centre)?, as_of }))
    }

    get "/v1/centres/{centre_id}/finance/self-sufficiency"
        => self_sufficiency(g, centre; query range: MonthRange) -> 200 pb::SelfSufficiency {
        call!(g.finance.get_self_sufficiency(pb::GetSelfSufficiencyRequest {
            centre_id: g.centre(&centre)?,
            from: range.from.unwrap_or_default(),
            to: range.to.unwrap_or_default(),
        }))
    }

    /// Income by source, expenditure by category and budget execution for a span of months.
    get "/v1/centres/{centre_id}/finance/transparency"
        => transparency_report(g, centre; query range: MonthRange) -> 200 pb::TransparencyReport {
        transparency(&g, &centre, range).await?
    }

    /// Every change made in the centre's finance, newest first.
    get "/v1/centres/{centre_id}/finance/audit-trail" => audit_trail(g, centre; query q: Limit) -> 200 pb::ListAuditTrailResponse {
        call!(g.finance.list_audit_trail(pb::ListAuditTrailRequest {
            centre_id: g.centre(&centre)?,
            limit: q.limit.unwrap_or_default(),
            page_size: q.page_size.unwrap_or(0),
            page_token: q.page_token.unwrap_or_default(),
        }))
    }
}

async fn transparency(
    g: &Grpc,
    centre: &str,
    range: MonthRange,
) -> Result<pb::TransparencyReport, Problem> {
    let request = pb::GetTransparencyReportRequest {
        centre_id: g.centre(centre)?,
        from: range.from.unwrap_or_default(),
        to: range.to.unwrap_or_default(),
    };
    Ok(call!(g.finance.get_transparency_report(request)))
}

/// The same report as CSV: `section,item,amount_minor,budget_minor,currency`.
#[utoipa::path(get, path = "/v1/centres/{centre_id}/finance/transparency.csv", tag = "finance",
    params(MonthRange), responses((status = 200, content_type = "text/csv", body = String)))]
pub async fn transparency_csv(
    g: Grpc,
    Path(centre): Path<String>,
    Query(range): Query<MonthRange>,
) -> Result<Response, Problem> {
    let report = transparency(&g, &centre, range).await?;
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

/// Every value is a code, a number or a currency: nothing that needs quoting.
pub fn csv(report: &pb::TransparencyReport) -> String {
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
