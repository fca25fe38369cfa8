//! The default chart of accounts every centre starts with: assets and liabilities, income
//! by the plan's funding sources, and expenditure by the plan's budget categories.

use linli_platform::error::Reason;
use linli_platform::error::Violations;

/// Where income comes from [资金筹集].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FundingSource {
    Appropriation,
    SpecialFund,
    Donation,
    ServiceFee,
    Partnership,
}

impl FundingSource {
    pub const ALL: [FundingSource; 5] = [
        FundingSource::Appropriation,
        FundingSource::SpecialFund,
        FundingSource::Donation,
        FundingSource::ServiceFee,
        FundingSource::Partnership,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            FundingSource::Appropriation => "appropriation",
            FundingSource::SpecialFund => "special_fund",
            FundingSource::Donation => "donation",
            FundingSource::ServiceFee => "service_fee",
            FundingSource::Partnership => "partnership",
        }
    }

    pub fn parse(text: &str) -> Option<FundingSource> {
        Self::ALL.into_iter().find(|s| s.as_str() == text)
    }

    /// The centre's own income, as the self-sufficiency KPI counts it: what it earns or
    /// raises itself, not what government grants it.
    pub fn is_own_income(self) -> bool {
        matches!(
            self,
            FundingSource::Donation | FundingSource::ServiceFee | FundingSource::Partnership
        )
    }

    pub fn account(self) -> &'static str {
        match self {
            FundingSource::Appropriation => "4001",
            FundingSource::SpecialFund => "4002",
            FundingSource::Donation => "4003",
            FundingSource::ServiceFee => "4004",
            FundingSource::Partnership => "4005",
        }
    }
}

/// What money is spent on [预算编制].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum BudgetCategory {
    Personnel,
    ServiceCosts,
    EquipmentPurchase,
    EquipmentMaintenance,
    OfficeCosts,
}

impl BudgetCategory {
    pub const ALL: [BudgetCategory; 5] = [
        BudgetCategory::Personnel,
        BudgetCategory::ServiceCosts,
        BudgetCategory::EquipmentPurchase,
        BudgetCategory::EquipmentMaintenance,
        BudgetCategory::OfficeCosts,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            BudgetCategory::Personnel => "personnel",
            BudgetCategory::ServiceCosts => "service_costs",
            BudgetCategory::EquipmentPurchase => "equipment_purchase",
            BudgetCategory::EquipmentMaintenance => "equipment_maintenance",
            BudgetCategory::OfficeCosts => "office_costs",
        }
    }

    pub fn parse(field: &str, text: &str) -> Result<BudgetCategory, Violations> {
        Self::ALL
            .into_iter()
            .find(|c| c.as_str() == text)
            .ok_or_else(|| {
                Violations::one(
                    field,
                    Reason::new("one_of", "must be personnel, service_costs, equipment_purchase, equipment_maintenance or office_costs"),
                )
            })
    }

    pub fn account(self) -> &'static str {
        match self {
            BudgetCategory::Personnel => "5001",
            BudgetCategory::ServiceCosts => "5002",
            BudgetCategory::EquipmentPurchase => "5003",
            BudgetCategory::EquipmentMaintenance => "5004",
            BudgetCategory::OfficeCosts => "5005",
        }
    }
}

pub const CASH: &str = "1001";
pub const BANK: &str = "1002";
pub const RECEIVABLES: &str = "1122";

/// Where money is received into or paid from.
pub fn money_account(field: &str, method: &str) -> Result<&'static str, Violations> {
    match method {
        "" | "bank" => Ok(BANK),
        "cash" => Ok(CASH),
        _ => Err(Violations::one(
            field,
            Reason::new("one_of", "must be cash or bank"),
        )),
    }
}

/// One account of the default chart.
pub struct DefaultAccount {
    pub code: &'static str,
    pub name: &'static str,
    pub kind: &'static str,
    pub funding_source: Option<FundingSource>,
    pub budget_category: Option<BudgetCategory>,
}

const fn account(code: &'static str, name: &'static str, kind: &'static str) -> DefaultAccount {
    DefaultAccount {
        code,
        name,
        kind,
        funding_source: None,
        budget_category: None,
    }
}

const fn income(code: &'static str, name: &'static str, source: FundingSource) -> DefaultAccount {
    DefaultAccount {
        funding_source: Some(source),
        ..account(code, name, "income")
    }
}

const fn spending(
    code: &'static str,
    name: &'static str,
    category: BudgetCategory,
) -> DefaultAccount {
    DefaultAccount {
        budget_category: Some(category),
        ..account(code, name, "expenditure")
    }
}

/// The chart a centre is given when finance first meets it.
pub const DEFAULT_CHART: [DefaultAccount; 16] = [
    account(CASH, "库存现金 Cash", "asset"),
    account(BANK, "银行存款 Bank", "asset"),
    account(RECEIVABLES, "应收款项 Receivables", "asset"),
    account("2201", "应付款项 Payables", "liability"),
    account("2241", "其他应付款 Other payables", "liability"),
    account("3001", "净资产 Net assets", "net_assets"),
    income(
        "4001",
        "政府拨款 Government appropriation",
        FundingSource::Appropriation,
    ),
    income(
        "4002",
        "社区建设专项资金 Special community-building funds",
        FundingSource::SpecialFund,
    ),
    income("4003", "社会捐赠 Donations", FundingSource::Donation),
    income("4004", "服务收费 Service fees", FundingSource::ServiceFee),
    income(
        "4005",
        "项目合作收入 Partnership income",
        FundingSource::Partnership,
    ),
    spending("5001", "人员经费 Personnel", BudgetCategory::Personnel),
    spending(
        "5002",
        "服务费用 Service costs",
        BudgetCategory::ServiceCosts,
    ),
    spending(
        "5003",
        "设备购置 Equipment purchase",
        BudgetCategory::EquipmentPurchase,
    ),
    spending(
        "5004",
        "设备维护 Equipment maintenance",
        BudgetCategory::EquipmentMaintenance,
    ),
    spending("5005", "办公费用 Office costs", BudgetCategory::OfficeCosts),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_source_and_category_has_its_account_in_the_default_chart() {
        for source in FundingSource::ALL {
            let account = DEFAULT_CHART
                .iter()
                .find(|a| a.code == source.account())
                .unwrap();
            assert_eq!(account.funding_source, Some(source));
        }
        for category in BudgetCategory::ALL {
            let account = DEFAULT_CHART
                .iter()
                .find(|a| a.code == category.account())
                .unwrap();
            assert_eq!(account.budget_category, Some(category));
        }
    }

    #[test]
    fn own_income_is_fees_donations_and_partnerships() {
        let own: Vec<_> = FundingSource::ALL
            .into_iter()
            .filter(|s| s.is_own_income())
            .collect();
        assert_eq!(
            own,
            [
                FundingSource::Donation,
                FundingSource::ServiceFee,
                FundingSource::Partnership
            ]
        );
    }
}
