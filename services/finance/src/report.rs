//! Figures the reports share, computed from account totals: income by funding source,
//! expenditure by budget category, and the self-sufficiency KPI's numerator and
//! denominator. Income counts credits less debits; expenditure debits less credits, so a
//! reversal takes back exactly what its original added.

use crate::domain::chart::{BudgetCategory, FundingSource};
use crate::store::AccountTotal;

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Figures {
    pub income_by_source: Vec<(FundingSource, i64)>,
    pub expenditure_by_category: Vec<(BudgetCategory, i64)>,
    pub income_total: i64,
    pub expenditure: i64,
    pub own_income: i64,
}

impl Figures {
    pub fn of(totals: &[AccountTotal]) -> Figures {
        let income_by_source: Vec<(FundingSource, i64)> = FundingSource::ALL
            .into_iter()
            .map(|source| {
                let amount = totals
                    .iter()
                    .filter(|t| t.funding_source.as_deref() == Some(source.as_str()))
                    .map(|t| t.credit_minor - t.debit_minor)
                    .sum();
                (source, amount)
            })
            .collect();
        let expenditure_by_category: Vec<(BudgetCategory, i64)> = BudgetCategory::ALL
            .into_iter()
            .map(|category| {
                let amount = totals
                    .iter()
                    .filter(|t| t.budget_category.as_deref() == Some(category.as_str()))
                    .map(|t| t.debit_minor - t.credit_minor)
                    .sum();
                (category, amount)
            })
            .collect();
        // Income and expenditure accounts outside the default sources and categories
        // still count in the totals, so the report always equals the ledger.
        let income_total = totals
            .iter()
            .filter(|t| t.kind == "income")
            .map(|t| t.credit_minor - t.debit_minor)
            .sum();
        let expenditure = totals
            .iter()
            .filter(|t| t.kind == "expenditure")
            .map(|t| t.debit_minor - t.credit_minor)
            .sum();
        let own_income = income_by_source
            .iter()
            .filter(|(source, _)| source.is_own_income())
            .map(|(_, amount)| amount)
            .sum();
        Figures {
            income_by_source,
            expenditure_by_category,
            income_total,
            expenditure,
            own_income,
        }
    }

    pub fn spent_on(&self, category: BudgetCategory) -> i64 {
        self.expenditure_by_category
            .iter()
            .find(|(c, _)| *c == category)
            .map_or(0, |(_, amount)| *amount)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn total(
        code: &str,
        kind: &str,
        source: Option<&str>,
        category: Option<&str>,
        debit: i64,
        credit: i64,
    ) -> AccountTotal {
        AccountTotal {
            code: code.into(),
            name: code.into(),
            kind: kind.into(),
            funding_source: source.map(Into::into),
            budget_category: category.map(Into::into),
            debit_minor: debit,
            credit_minor: credit,
        }
    }

    #[test]
    fn own_income_leaves_out_government_money() {
        let figures = Figures::of(&[
            total("4001", "income", Some("appropriation"), None, 0, 10_000),
            total("4003", "income", Some("donation"), None, 0, 2_000),
            total("4004", "income", Some("service_fee"), None, 500, 3_500),
            total("5001", "expenditure", None, Some("personnel"), 9_000, 1_000),
            total("1002", "asset", None, None, 15_000, 8_000),
        ]);
        assert_eq!(figures.own_income, 5_000);
        assert_eq!(figures.income_total, 15_000);
        assert_eq!(figures.expenditure, 8_000);
        assert_eq!(figures.spent_on(BudgetCategory::Personnel), 8_000);
    }
}
