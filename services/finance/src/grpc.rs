//! Finance's gRPC surface: each call checks the caller's role and centre, parses the
//! request into domain values, and runs one store transaction. No SQL, no rules here.

use chrono::{NaiveDate, Utc};
use linli_platform::auth::{
    Access, Caller, RESIDENT_EXPORTERS, caller, request_centre, scoped_centre,
};
use linli_platform::crypto::Vault;
use linli_platform::db::transaction;
use linli_platform::error::{FieldViolation, Violations};
use linli_platform::page::{Keyset, PageRequest};
use linli_platform::wire::parse_id;
use linli_proto::finance::v1 as pb;
use linli_proto::finance::v1::finance_server::Finance;
use std::sync::Arc;

use sqlx::PgPool;
use tokio::sync::{Semaphore, SemaphorePermit};
use tonic::{Request, Response, Status};
use uuid::Uuid;

use crate::domain::calendar::{local_date, month_range, parse_date_or};
use crate::domain::chart::{FundingSource, money_account};
use crate::domain::figures::{basis_points, meets_self_sufficiency_target};
use crate::domain::{
    BudgetCategory, Currency, EntryLine, Month, NewEntry, READERS, Source, WRITERS, parse_amount,
    parse_date,
};
use crate::error::Error;
use crate::report::Figures;
use crate::store::{self, Actor, EntryRow, timestamp};
use linli_platform::error::Reason;

mod payments;

pub struct FinanceApi {
    pool: PgPool,
    vault: Vault,
    /// Turns at writing: a burst of writes (a thousand donations at once) queues here,
    /// bounded only by each caller's deadline, instead of timing out waiting for a pooled
    /// connection; two connections stay free for reads and the event consumer.
    writers: Arc<Semaphore>,
}

impl FinanceApi {
    pub fn new(pool: PgPool, vault: Vault) -> Self {
        let connections = pool.options().get_max_connections() as usize;
        FinanceApi {
            pool,
            vault,
            writers: Arc::new(Semaphore::new(connections.saturating_sub(2).max(1))),
        }
    }

    /// Waits for a turn to write.
    async fn turn(&self) -> SemaphorePermit<'_> {
        self.writers
            .acquire()
            .await
            .expect("the writers' semaphore is never closed")
    }

    /// The centre's time zone and currency (the default currency for a centre finance
    /// has not met); a centre the directory does not know is refused.
    async fn books(&self, centre: Uuid) -> Result<(chrono_tz::Tz, String), Error> {
        let books = store::find_centre(&self.pool, centre).await?;
        Ok((books.time_zone, books.currency))
    }

    async fn today(&self, centre: Uuid) -> Result<NaiveDate, Error> {
        let (zone, _) = self.books(centre).await?;
        Ok(local_date(Utc::now(), zone))
    }

    /// Posts `entry` in a transaction of its own.
    async fn post(&self, entry: NewEntry, caller: &Caller) -> Result<pb::JournalEntry, Error> {
        let _turn = self.turn().await;
        let row = transaction(&self.pool, async |tx| {
            store::post(tx, &entry, &Actor::current(&caller.subject)).await
        })
        .await?;
        Ok(journal_entry(row))
    }

    async fn budget_report(
        &self,
        centre: Uuid,
        year: i32,
        as_of: NaiveDate,
    ) -> Result<pb::BudgetReport, Error> {
        let first = NaiveDate::from_ymd_opt(year, 1, 1).ok_or_else(|| {
            Violations::one("fiscal_year", Reason::new("invalid_value", "out of range"))
        })?;
        let totals = store::account_totals(&self.pool, centre, Some(first), as_of).await?;
        let figures = Figures::of(&totals);
        let budgets = store::budgets(&self.pool, centre, year).await?;
        let (_, currency) = self.books(centre).await?;
        let categories: Vec<pb::BudgetExecution> = BudgetCategory::ALL
            .into_iter()
            .map(|category| {
                let budget = budgets
                    .iter()
                    .find(|b| b.category == category.as_str())
                    .map_or(0, |b| b.amount_minor);
                let actual = figures.spent_on(category);
                pb::BudgetExecution {
                    category: category.as_str().to_owned(),
                    budget_minor: budget,
                    actual_minor: actual,
                    remaining_minor: budget - actual,
                    executed_basis_points: basis_points(actual, budget),
                }
            })
            .collect();
        Ok(pb::BudgetReport {
            centre_id: centre.to_string(),
            fiscal_year: year,
            as_of: as_of.to_string(),
            currency,
            budget_total_minor: categories.iter().map(|c| c.budget_minor).sum(),
            actual_total_minor: categories.iter().map(|c| c.actual_minor).sum(),
            categories,
        })
    }

    async fn self_sufficiency(
        &self,
        centre: Uuid,
        from: Month,
        to: Month,
    ) -> Result<pb::SelfSufficiency, Error> {
        let totals =
            store::account_totals(&self.pool, centre, Some(from.first_day()), to.last_day())
                .await?;
        let (_, currency) = self.books(centre).await?;
        Ok(self_sufficiency(
            centre.to_string(),
            from,
            to,
            currency,
            &Figures::of(&totals),
        ))
    }
}

fn self_sufficiency(
    centre: String,
    from: Month,
    to: Month,
    currency: String,
    figures: &Figures,
) -> pb::SelfSufficiency {
    pb::SelfSufficiency {
        centre_id: centre,
        from: from.to_string(),
        to: to.to_string(),
        currency,
        own_income_minor: figures.own_income,
        expenditure_minor: figures.expenditure,
        ratio_basis_points: basis_points(figures.own_income, figures.expenditure),
        meets_target: meets_self_sufficiency_target(figures.own_income, figures.expenditure),
    }
}

fn journal_entry(row: EntryRow) -> pb::JournalEntry {
    let head = row.head;
    pb::JournalEntry {
        id: head.id.to_string(),
        centre_id: head.centre_id.to_string(),
        entry_date: head.entry_date.to_string(),
        description: head.description,
        source: head.source,
        reverses: head.reverses.map(|id| id.to_string()).unwrap_or_default(),
        reversed_by: head
            .reversed_by
            .map(|id| id.to_string())
            .unwrap_or_default(),
        currency: head.currency,
        lines: row
            .lines
            .into_iter()
            .map(|l| pb::Line {
                account_code: l.account_code,
                debit_minor: l.debit_minor,
                credit_minor: l.credit_minor,
            })
            .collect(),
        posted_at: Some(timestamp(head.posted_at)),
        posted_by: head.posted_by,
    }
}

fn required<'a>(field: &str, text: &'a str) -> Result<&'a str, Violations> {
    let text = text.trim();
    if text.is_empty() {
        Err(Violations::one(field, Reason::required()))
    } else {
        Ok(text)
    }
}

fn fiscal_year(year: i32) -> Result<i32, Violations> {
    if (2000..=2100).contains(&year) {
        Ok(year)
    } else {
        Err(Violations::one(
            "fiscal_year",
            Reason::new("out_of_range", "must be a year between 2000 and 2100")
                .with("min", 2000)
                .with("max", 2100),
        ))
    }
}

/// A list's page by the platform's rule; `limit`, the older name of `page_size`, counts
/// when `page_size` is 0, and a refusal then names it.
fn paging<K: Keyset>(
    list: &'static str,
    page_size: u32,
    limit: u32,
    page_token: &str,
) -> Result<PageRequest<K>, Violations> {
    let (size, field) = match page_size {
        0 if limit > 0 => (limit, "limit"),
        _ => (page_size, "page_size"),
    };
    PageRequest::parse(list, size, page_token).map_err(|violations| {
        Violations(
            violations
                .0
                .into_iter()
                .map(|v| match v.field.as_str() {
                    "page_size" => FieldViolation::new(field, v.reason),
                    _ => v,
                })
                .collect(),
        )
    })
}

fn period(centre: Uuid, row: store::PeriodRow) -> pb::Period {
    pb::Period {
        centre_id: centre.to_string(),
        period: Month::of(row.month).to_string(),
        closed: row.closed_at.is_some(),
        closed_at: row.closed_at.map(timestamp),
        closed_by: row.closed_by.unwrap_or_default(),
    }
}

#[tonic::async_trait]
impl Finance for FinanceApi {
    async fn list_accounts(
        &self,
        request: Request<pb::ListAccountsRequest>,
    ) -> Result<Response<pb::ListAccountsResponse>, Status> {
        let centre = request_centre(&request, |r| &r.centre_id, Access::Read, READERS)?;
        let accounts = store::accounts(&self.pool, centre)
            .await
            .map_err(Error::from)?;
        Ok(Response::new(pb::ListAccountsResponse {
            accounts: accounts
                .into_iter()
                .map(|a| pb::Account {
                    code: a.code,
                    name: a.name,
                    kind: a.kind,
                    funding_source: a.funding_source.unwrap_or_default(),
                    budget_category: a.budget_category.unwrap_or_default(),
                })
                .collect(),
        }))
    }

    async fn post_entry(
        &self,
        request: Request<pb::PostEntryRequest>,
    ) -> Result<Response<pb::JournalEntry>, Status> {
        let caller = caller(&request)?;
        let body = request.get_ref();
        let centre = scoped_centre(caller, &body.centre_id, Access::Write, WRITERS)?;
        let date = parse_date("entry_date", &body.entry_date)?;
        let currency = Currency::parse("currency", &body.currency)?;
        let lines = body
            .lines
            .iter()
            .map(|l| EntryLine {
                account_code: l.account_code.trim().to_owned(),
                debit_minor: l.debit_minor,
                credit_minor: l.credit_minor,
            })
            .collect();
        let entry = NewEntry::new(
            centre,
            date,
            &body.description,
            Source::Manual,
            None,
            currency,
            lines,
        )?;
        Ok(Response::new(self.post(entry, caller).await?))
    }

    async fn reverse_entry(
        &self,
        request: Request<pb::ReverseEntryRequest>,
    ) -> Result<Response<pb::JournalEntry>, Status> {
        let caller = caller(&request)?;
        let body = request.get_ref();
        let centre = scoped_centre(caller, &body.centre_id, Access::Write, WRITERS)?;
        let id = parse_id("entry_id", &body.entry_id)?;
        let date = parse_date_or("entry_date", &body.entry_date, self.today(centre).await?)?;
        let _turn = self.turn().await;
        let row = transaction(&self.pool, async |tx| {
            store::reverse(
                tx,
                centre,
                id,
                date,
                &body.reason,
                &Actor::current(&caller.subject),
            )
            .await
        })
        .await?;
        Ok(Response::new(journal_entry(row)))
    }

    async fn get_entry(
        &self,
        request: Request<pb::GetEntryRequest>,
    ) -> Result<Response<pb::JournalEntry>, Status> {
        let body = request.get_ref();
        let centre = request_centre(&request, |r| &r.centre_id, Access::Read, READERS)?;
        let id = parse_id("entry_id", &body.entry_id)?;
        let mut conn = self.pool.acquire().await.map_err(Error::from)?;
        let row = store::find_entry(&mut conn, centre, id)
            .await
            .map_err(Error::from)?
            .ok_or(Error::NotFound("entry"))?;
        Ok(Response::new(journal_entry(row)))
    }

    async fn list_entries(
        &self,
        request: Request<pb::ListEntriesRequest>,
    ) -> Result<Response<pb::ListEntriesResponse>, Status> {
        let body = request.get_ref();
        let centre = request_centre(&request, |r| &r.centre_id, Access::Read, READERS)?;
        let bound = |field: &str, text: &str| -> Result<Option<NaiveDate>, Violations> {
            if text.trim().is_empty() {
                Ok(None)
            } else {
                parse_date(field, text).map(Some)
            }
        };
        let (from, to) = (bound("from", &body.from)?, bound("to", &body.to)?);
        let page = paging(
            "finance.entries",
            body.page_size,
            body.limit,
            &body.page_token,
        )?;
        let rows = store::list_entries(&self.pool, centre, from, to, page.after(), page.limit())
            .await
            .map_err(Error::from)?;
        let page = page
            .page(rows, |row| {
                (row.head.entry_date, row.head.posted_at, row.head.id)
            })
            .map(journal_entry);
        Ok(Response::new(pb::ListEntriesResponse {
            entries: page.rows,
            next_page_token: page.next_page_token,
        }))
    }

    async fn close_period(
        &self,
        request: Request<pb::ClosePeriodRequest>,
    ) -> Result<Response<pb::Period>, Status> {
        let caller = caller(&request)?;
        let body = request.get_ref();
        let centre = scoped_centre(caller, &body.centre_id, Access::Write, WRITERS)?;
        let month = Month::parse("period", &body.period)?;
        if !month.has_ended(self.today(centre).await?) {
            return Err(Violations::one(
                "period",
                Reason::new("period.not_ended", "has not ended yet"),
            )
            .into());
        }
        let _turn = self.turn().await;
        let row = transaction(&self.pool, async |tx| {
            store::close_period(tx, centre, month, &Actor::current(&caller.subject)).await
        })
        .await?;
        Ok(Response::new(period(centre, row)))
    }

    async fn list_periods(
        &self,
        request: Request<pb::ListPeriodsRequest>,
    ) -> Result<Response<pb::ListPeriodsResponse>, Status> {
        let centre = request_centre(&request, |r| &r.centre_id, Access::Read, READERS)?;
        let rows = store::periods(&self.pool, centre)
            .await
            .map_err(Error::from)?;
        Ok(Response::new(pb::ListPeriodsResponse {
            periods: rows.into_iter().map(|row| period(centre, row)).collect(),
        }))
    }

    async fn set_budget(
        &self,
        request: Request<pb::SetBudgetRequest>,
    ) -> Result<Response<pb::BudgetLine>, Status> {
        let caller = caller(&request)?;
        let body = request.get_ref();
        let centre = scoped_centre(caller, &body.centre_id, Access::Write, WRITERS)?;
        let mut violations = Violations::default();
        let year = fiscal_year(body.fiscal_year)
            .map_err(|v| violations.0.extend(v.0))
            .ok();
        let category = BudgetCategory::parse("category", &body.category)
            .map_err(|v| violations.0.extend(v.0))
            .ok();
        if body.amount_minor < 0 {
            violations.push("amount_minor", Reason::not_negative());
        }
        let currency = Currency::parse("currency", &body.currency)
            .map_err(|v| violations.0.extend(v.0))
            .ok();
        let (Some(year), Some(category), Some(currency), true) =
            (year, category, currency, violations.is_empty())
        else {
            return Err(violations.into());
        };
        let (_, centre_currency) = self.books(centre).await?;
        if currency.as_str() != centre_currency {
            return Err(Violations::one(
                "currency",
                Reason::new(
                    "currency.centre",
                    format!("must be {centre_currency}, the centre's currency"),
                )
                .with("currency", &centre_currency),
            )
            .into());
        }
        let _turn = self.turn().await;
        let currency = transaction(&self.pool, async |tx| {
            store::set_budget(
                tx,
                centre,
                year,
                category,
                body.amount_minor,
                &Actor::current(&caller.subject),
            )
            .await
        })
        .await?;
        Ok(Response::new(pb::BudgetLine {
            centre_id: centre.to_string(),
            fiscal_year: year,
            category: category.as_str().to_owned(),
            amount_minor: body.amount_minor,
            currency,
        }))
    }

    async fn get_budget_report(
        &self,
        request: Request<pb::GetBudgetReportRequest>,
    ) -> Result<Response<pb::BudgetReport>, Status> {
        let body = request.get_ref();
        let centre = request_centre(&request, |r| &r.centre_id, Access::Read, READERS)?;
        let year = fiscal_year(body.fiscal_year)?;
        let year_end = NaiveDate::from_ymd_opt(year, 12, 31).expect("31 December exists");
        let as_of = parse_date_or(
            "as_of",
            &body.as_of,
            self.today(centre).await?.min(year_end),
        )?;
        Ok(Response::new(
            self.budget_report(centre, year, as_of).await?,
        ))
    }

    async fn record_grant(
        &self,
        request: Request<pb::RecordGrantRequest>,
    ) -> Result<Response<pb::Grant>, Status> {
        let caller = caller(&request)?;
        let body = request.get_ref();
        let centre = scoped_centre(caller, &body.centre_id, Access::Write, WRITERS)?;
        let kind = match body.kind.as_str() {
            "appropriation" => FundingSource::Appropriation,
            "special_fund" => FundingSource::SpecialFund,
            _ => {
                return Err(Violations::one(
                    "kind",
                    Reason::new("one_of", "must be appropriation or special_fund"),
                )
                .into());
            }
        };
        let granting_body = required("granting_body", &body.granting_body)?;
        let purpose = required("purpose", &body.purpose)?;
        let amount = parse_amount("amount_minor", body.amount_minor)?;
        let currency = Currency::parse("currency", &body.currency)?;
        let received_on = parse_date("received_on", &body.received_on)?;
        let entry = NewEntry::new(
            centre,
            received_on,
            &format!("{}: {granting_body}, {purpose}", kind.as_str()),
            Source::Grant,
            None,
            currency,
            vec![
                EntryLine::debit(crate::domain::chart::BANK, amount),
                EntryLine::credit(kind.account(), amount),
            ],
        )?;
        let id = Uuid::new_v4();
        let _turn = self.turn().await;
        let posted = transaction(&self.pool, async |tx| {
            store::record_grant(
                tx,
                id,
                kind,
                granting_body,
                purpose,
                &entry,
                &Actor::current(&caller.subject),
            )
            .await
        })
        .await?;
        Ok(Response::new(pb::Grant {
            id: id.to_string(),
            centre_id: centre.to_string(),
            kind: kind.as_str().to_owned(),
            granting_body: granting_body.to_owned(),
            purpose: purpose.to_owned(),
            amount_minor: amount,
            currency: posted.head.currency,
            received_on: received_on.to_string(),
            entry_id: posted.head.id.to_string(),
        }))
    }

    async fn record_donation(
        &self,
        request: Request<pb::RecordDonationRequest>,
    ) -> Result<Response<pb::Donation>, Status> {
        let caller = caller(&request)?;
        let body = request.get_ref();
        let centre = scoped_centre(caller, &body.centre_id, Access::Write, WRITERS)?;
        let mut violations = Violations::default();
        let name = body.donor_name.trim();
        let resident = if body.donor_resident_id.trim().is_empty() {
            None
        } else {
            parse_id("donor_resident_id", &body.donor_resident_id)
                .map_err(|v| violations.0.extend(v.0))
                .ok()
        };
        if body.anonymous && (!name.is_empty() || resident.is_some()) {
            violations.push(
                "anonymous",
                Reason::new(
                    "donation.anonymous_with_donor",
                    "an anonymous donation names no donor",
                ),
            );
        }
        if !body.anonymous && name.is_empty() {
            violations.push(
                "donor_name",
                Reason::new(
                    "donation.donor_required",
                    "is required unless the donation is anonymous",
                ),
            );
        } else if name.chars().count() > 200 {
            violations.push("donor_name", Reason::too_long(200));
        }
        let amount = parse_amount("amount_minor", body.amount_minor)
            .map_err(|v| violations.0.extend(v.0))
            .ok();
        let currency = Currency::parse("currency", &body.currency)
            .map_err(|v| violations.0.extend(v.0))
            .ok();
        let method = if body.method.is_empty() {
            "cash"
        } else {
            body.method.as_str()
        };
        let account = money_account("method", method)
            .map_err(|v| violations.0.extend(v.0))
            .ok();
        let today = self.today(centre).await?;
        let received_on = parse_date_or("received_on", &body.received_on, today)
            .map_err(|v| violations.0.extend(v.0))
            .ok();
        let (Some(amount), Some(currency), Some(account), Some(received_on), true) = (
            amount,
            currency,
            account,
            received_on,
            violations.is_empty(),
        ) else {
            return Err(violations.into());
        };
        let purpose = if body.purpose.trim().is_empty() {
            "general"
        } else {
            body.purpose.trim()
        };
        // The entry's description never names the donor: the ledger cannot be erased.
        let entry = NewEntry::new(
            centre,
            received_on,
            &format!("Donation ({purpose})"),
            Source::Donation,
            None,
            currency,
            vec![
                EntryLine::debit(account, amount),
                EntryLine::credit(FundingSource::Donation.account(), amount),
            ],
        )?;
        let donation = store::NewDonation {
            id: Uuid::new_v4(),
            centre_id: centre,
            anonymous: body.anonymous,
            donor_name: (!name.is_empty()).then(|| self.vault.seal(name)),
            donor_resident_id: resident,
            amount_minor: amount,
            purpose,
            method,
            received_on,
        };
        let _turn = self.turn().await;
        let row = transaction(&self.pool, async |tx| {
            store::record_donation(tx, &donation, &entry, &Actor::current(&caller.subject)).await
        })
        .await?;
        Ok(Response::new(self.donation(row)?))
    }

    async fn export_resident(
        &self,
        request: Request<pb::ExportResidentRequest>,
    ) -> Result<Response<pb::ResidentExport>, Status> {
        let body = request.get_ref();
        // The centre's exporters, or the resident themselves (the residents' site's 我的信息).
        let resident = parse_id("resident_id", &body.resident_id)?;
        let centre = linli_platform::auth::own_or_scoped_centre(
            caller(&request)?,
            &body.centre_id,
            resident,
            Access::Read,
            RESIDENT_EXPORTERS,
        )?;
        let rows = store::donations_of_resident(&self.pool, centre, resident)
            .await
            .map_err(Error::from)?;
        let donations = rows
            .into_iter()
            .map(|row| self.donation(row))
            .collect::<Result<_, _>>()?;
        Ok(Response::new(pb::ResidentExport { donations }))
    }

    async fn record_payment(
        &self,
        request: Request<pb::RecordPaymentRequest>,
    ) -> Result<Response<pb::Payment>, Status> {
        Ok(Response::new(self.payment_recorded(request).await?))
    }

    async fn refund_payment(
        &self,
        request: Request<pb::RefundPaymentRequest>,
    ) -> Result<Response<pb::Payment>, Status> {
        Ok(Response::new(self.payment_refunded(request).await?))
    }

    async fn get_payment(
        &self,
        request: Request<pb::GetPaymentRequest>,
    ) -> Result<Response<pb::Payment>, Status> {
        Ok(Response::new(self.payment(request).await?))
    }

    async fn list_receivables(
        &self,
        request: Request<pb::ListReceivablesRequest>,
    ) -> Result<Response<pb::ListReceivablesResponse>, Status> {
        Ok(Response::new(self.receivables(request).await?))
    }

    async fn list_donations(
        &self,
        request: Request<pb::ListDonationsRequest>,
    ) -> Result<Response<pb::ListDonationsResponse>, Status> {
        let body = request.get_ref();
        let centre = request_centre(&request, |r| &r.centre_id, Access::Read, READERS)?;
        let year = (body.receipt_year != 0).then_some(body.receipt_year);
        let page = PageRequest::parse("finance.donations", body.page_size, &body.page_token)?;
        let rows = store::donations(&self.pool, centre, year, page.after(), page.limit())
            .await
            .map_err(Error::from)?;
        let page = page.page(rows, |row| (row.receipt_year, row.receipt_number));
        let donations = page
            .rows
            .into_iter()
            .map(|row| self.donation(row))
            .collect::<Result<_, _>>()?;
        Ok(Response::new(pb::ListDonationsResponse {
            donations,
            next_page_token: page.next_page_token,
        }))
    }

    async fn record_partnership_income(
        &self,
        request: Request<pb::RecordPartnershipIncomeRequest>,
    ) -> Result<Response<pb::PartnershipIncome>, Status> {
        let caller = caller(&request)?;
        let body = request.get_ref();
        let centre = scoped_centre(caller, &body.centre_id, Access::Write, WRITERS)?;
        let partner = parse_id("partner_id", &body.partner_id)?;
        let description = required("description", &body.description)?;
        let amount = parse_amount("amount_minor", body.amount_minor)?;
        let currency = Currency::parse("currency", &body.currency)?;
        let received_on = parse_date("received_on", &body.received_on)?;
        let entry = NewEntry::new(
            centre,
            received_on,
            description,
            Source::Partnership,
            None,
            currency,
            vec![
                EntryLine::debit(crate::domain::chart::BANK, amount),
                EntryLine::credit(FundingSource::Partnership.account(), amount),
            ],
        )?;
        let id = Uuid::new_v4();
        let _turn = self.turn().await;
        let posted = transaction(&self.pool, async |tx| {
            store::record_partnership(tx, id, partner, &entry, &Actor::current(&caller.subject))
                .await
        })
        .await?;
        Ok(Response::new(pb::PartnershipIncome {
            id: id.to_string(),
            centre_id: centre.to_string(),
            partner_id: partner.to_string(),
            description: description.to_owned(),
            amount_minor: amount,
            currency: posted.head.currency,
            received_on: received_on.to_string(),
            entry_id: posted.head.id.to_string(),
        }))
    }

    async fn record_expense(
        &self,
        request: Request<pb::RecordExpenseRequest>,
    ) -> Result<Response<pb::JournalEntry>, Status> {
        let caller = caller(&request)?;
        let body = request.get_ref();
        let centre = scoped_centre(caller, &body.centre_id, Access::Write, WRITERS)?;
        let category = BudgetCategory::parse("category", &body.category)?;
        let amount = parse_amount("amount_minor", body.amount_minor)?;
        let currency = Currency::parse("currency", &body.currency)?;
        let spent_on = parse_date("spent_on", &body.spent_on)?;
        let paid_from = money_account("paid_from", &body.paid_from)?;
        let description = required("description", &body.description)?;
        let entry = NewEntry::new(
            centre,
            spent_on,
            description,
            Source::Expense,
            None,
            currency,
            vec![
                EntryLine::debit(category.account(), amount),
                EntryLine::credit(paid_from, amount),
            ],
        )?;
        Ok(Response::new(self.post(entry, caller).await?))
    }

    async fn get_trial_balance(
        &self,
        request: Request<pb::GetTrialBalanceRequest>,
    ) -> Result<Response<pb::TrialBalance>, Status> {
        let body = request.get_ref();
        let centre = request_centre(&request, |r| &r.centre_id, Access::Read, READERS)?;
        let as_of = parse_date_or("as_of", &body.as_of, self.today(centre).await?)?;
        let totals = store::account_totals(&self.pool, centre, None, as_of)
            .await
            .map_err(Error::from)?;
        let (_, currency) = self.books(centre).await?;
        let rows: Vec<pb::TrialBalanceRow> = totals
            .into_iter()
            .map(|t| pb::TrialBalanceRow {
                balance_minor: t.debit_minor - t.credit_minor,
                account_code: t.code,
                account_name: t.name,
                kind: t.kind,
                debit_minor: t.debit_minor,
                credit_minor: t.credit_minor,
            })
            .collect();
        Ok(Response::new(pb::TrialBalance {
            centre_id: centre.to_string(),
            as_of: as_of.to_string(),
            currency,
            debit_total_minor: rows.iter().map(|r| r.debit_minor).sum(),
            credit_total_minor: rows.iter().map(|r| r.credit_minor).sum(),
            rows,
        }))
    }

    async fn get_self_sufficiency(
        &self,
        request: Request<pb::GetSelfSufficiencyRequest>,
    ) -> Result<Response<pb::SelfSufficiency>, Status> {
        let body = request.get_ref();
        let centre = request_centre(&request, |r| &r.centre_id, Access::Read, READERS)?;
        let (from, to) = month_range(&body.from, &body.to)?;
        Ok(Response::new(
            self.self_sufficiency(centre, from, to).await?,
        ))
    }

    async fn get_district_self_sufficiency(
        &self,
        request: Request<pb::GetDistrictSelfSufficiencyRequest>,
    ) -> Result<Response<pb::DistrictSelfSufficiency>, Status> {
        let caller = caller(&request)?;
        caller.require_role(Access::Read, READERS)?;
        let body = request.get_ref();
        let (from, to) = month_range(&body.from, &body.to)?;
        // The centres the directory knows (a token may name others: none of them is
        // counted, nor refused), of those the caller covers.
        let centres: Vec<Uuid> = store::known_centres(&self.pool)
            .await
            .map_err(Error::from)?
            .into_iter()
            .filter(|centre| caller.is_district_wide() || caller.centres.contains(centre))
            .collect();
        let mut rows = Vec::with_capacity(centres.len());
        let mut total = Figures::default();
        for centre in centres {
            let row = self.self_sufficiency(centre, from, to).await?;
            total.own_income += row.own_income_minor;
            total.expenditure += row.expenditure_minor;
            rows.push(row);
        }
        Ok(Response::new(pb::DistrictSelfSufficiency {
            centres: rows,
            total: Some(self_sufficiency(
                String::new(),
                from,
                to,
                Currency::DEFAULT.to_owned(),
                &total,
            )),
        }))
    }

    async fn get_transparency_report(
        &self,
        request: Request<pb::GetTransparencyReportRequest>,
    ) -> Result<Response<pb::TransparencyReport>, Status> {
        let body = request.get_ref();
        let centre = request_centre(&request, |r| &r.centre_id, Access::Read, READERS)?;
        let (from, to) = month_range(&body.from, &body.to)?;
        let totals =
            store::account_totals(&self.pool, centre, Some(from.first_day()), to.last_day())
                .await
                .map_err(Error::from)?;
        let figures = Figures::of(&totals);
        let (_, currency) = self.books(centre).await?;
        let budget = self.budget_report(centre, to.year(), to.last_day()).await?;
        Ok(Response::new(pb::TransparencyReport {
            centre_id: centre.to_string(),
            from: from.to_string(),
            to: to.to_string(),
            currency: currency.clone(),
            income_by_source: figures
                .income_by_source
                .iter()
                .map(|(source, amount)| pb::AmountBy {
                    key: source.as_str().to_owned(),
                    amount_minor: *amount,
                })
                .collect(),
            expenditure_by_category: figures
                .expenditure_by_category
                .iter()
                .map(|(category, amount)| pb::AmountBy {
                    key: category.as_str().to_owned(),
                    amount_minor: *amount,
                })
                .collect(),
            income_total_minor: figures.income_total,
            expenditure_total_minor: figures.expenditure,
            budget_execution: Some(budget),
            self_sufficiency: Some(self_sufficiency(
                centre.to_string(),
                from,
                to,
                currency,
                &figures,
            )),
        }))
    }

    async fn list_audit_trail(
        &self,
        request: Request<pb::ListAuditTrailRequest>,
    ) -> Result<Response<pb::ListAuditTrailResponse>, Status> {
        let body = request.get_ref();
        let centre = request_centre(&request, |r| &r.centre_id, Access::Read, READERS)?;
        let page = paging(
            "finance.audit_trail",
            body.page_size,
            body.limit,
            &body.page_token,
        )?;
        let rows = store::audit_trail(&self.pool, centre, page.after(), page.limit())
            .await
            .map_err(Error::from)?;
        let page = page.page(rows, |row| row.seq);
        Ok(Response::new(pb::ListAuditTrailResponse {
            next_page_token: page.next_page_token,
            records: page
                .rows
                .into_iter()
                .map(|r| pb::AuditRecord {
                    seq: r.seq,
                    at: Some(timestamp(r.at)),
                    actor: r.actor,
                    action: r.action,
                    subject: r.subject,
                    details: r.details,
                    trace_id: r.trace_id.unwrap_or_default(),
                })
                .collect(),
        }))
    }
}

impl FinanceApi {
    fn donation(&self, row: store::DonationRow) -> Result<pb::Donation, Error> {
        let donor_name = match row.sealed_donor_name() {
            Some(sealed) => self.vault.open(&sealed)?,
            None => String::new(),
        };
        Ok(pb::Donation {
            id: row.id.to_string(),
            centre_id: row.centre_id.to_string(),
            receipt_year: row.receipt_year,
            receipt_number: row.receipt_number,
            receipt: format!("{}-{:06}", row.receipt_year, row.receipt_number),
            anonymous: row.anonymous,
            donor_name,
            donor_resident_id: row
                .donor_resident_id
                .map(|id| id.to_string())
                .unwrap_or_default(),
            amount_minor: row.amount_minor,
            currency: row.currency,
            purpose: row.purpose,
            received_on: row.received_on.to_string(),
            method: row.method,
            entry_id: row.entry_id.to_string(),
        })
    }
}
