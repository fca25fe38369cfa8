//! A year of plausible books for the demo centres (`linli seed demo`): the twelve months
//! before the current one, with monthly appropriations, quarterly special funds and
//! partnership income, donations with receipts (some anonymous), service fees, and
//! spending in every budget category against a budget per fiscal year. Months older than
//! the last two are closed. Everything goes through the same postings as the API, and
//! every item has a fixed id, so running it again adds nothing.

use chrono::{Datelike, NaiveDate};
use linli_platform::crypto::Vault;
use sqlx::PgPool;
use uuid::Uuid;

use crate::domain::chart::{BANK, CASH, FundingSource, RECEIVABLES};
use crate::domain::{BudgetCategory, Currency, EntryLine, Month, NewEntry, Source};
use crate::error::Error;
use crate::store::{self, Actor};

const NAMESPACE: Uuid = Uuid::from_u128(0x6c696e6c_6900_4000_8000_66696e000001);

const DONORS: [&str; 8] = [
    "王建国",
    "李秀英",
    "张伟",
    "新华超市有限公司",
    "刘芳",
    "和平药房",
    "陈志强",
    "朝阳培训学校",
];

/// What one centre's books hold after seeding.
#[derive(Debug)]
pub struct Seeded {
    pub centre: Uuid,
    pub entries: i64,
    pub donations: i64,
}

fn yuan(amount: i64) -> i64 {
    amount * 100
}

fn id(centre: Uuid, what: &str) -> Uuid {
    Uuid::new_v5(&NAMESPACE, format!("{centre}/{what}").as_bytes())
}

async fn entry_exists(pool: &PgPool, id: Uuid) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM journal_entries WHERE id = $1)")
        .bind(id)
        .fetch_one(pool)
        .await
}

fn entry(
    centre: Uuid,
    key: &str,
    date: NaiveDate,
    description: &str,
    source: Source,
    lines: Vec<EntryLine>,
) -> anyhow::Result<NewEntry> {
    let currency = Currency::parse("currency", "").map_err(|v| anyhow::anyhow!("{v}"))?;
    let source_ref = (source == Source::Fee).then(|| format!("seed-{centre}-{key}"));
    let mut entry = NewEntry::new(
        centre,
        date,
        description,
        source,
        source_ref,
        currency,
        lines,
    )
    .map_err(|v| anyhow::anyhow!("seed entry {key} invalid: {v}"))?;
    entry.id = id(centre, key);
    Ok(entry)
}

/// Seeds each of `centres`; `today` decides which year.
pub async fn demo(
    pool: &PgPool,
    vault: &Vault,
    centres: &[Uuid],
    today: NaiveDate,
) -> anyhow::Result<Vec<Seeded>> {
    let actor = Actor {
        subject: "seed:demo".into(),
        trace_id: None,
    };
    let this_month = Month::of(today);
    let mut first = this_month;
    for _ in 0..12 {
        first = Month::of(first.first_day() - chrono::Duration::days(1));
    }
    let months: Vec<Month> = std::iter::successors(Some(first), |m| Some(m.next()))
        .take_while(|m| *m < this_month)
        .collect();
    let mut seeded = Vec::new();
    for (index, &centre) in centres.iter().enumerate() {
        // Centres differ in size; the numbers scale with this.
        let scale = 3 + index as i64;
        let mut years: Vec<i32> = months.iter().map(|m| m.year()).collect();
        years.dedup();
        for year in years {
            for (category, per_month) in budget_per_month(scale) {
                let mut tx = pool.begin().await?;
                store::set_budget(&mut tx, centre, year, category, per_month * 12, &actor).await?;
                tx.commit().await?;
            }
        }
        for (n, month) in months.iter().enumerate() {
            seed_month(pool, vault, centre, *month, n, scale, &actor).await?;
        }
        for month in months.iter().take(months.len().saturating_sub(2)) {
            let mut tx = pool.begin().await?;
            match store::close_period(&mut tx, centre, *month, &actor).await {
                Ok(_) => tx.commit().await?,
                Err(Error::State(reason)) if reason.code == "period.already_closed" => {}
                Err(error) => return Err(error.into()),
            }
        }
        let entries: i64 =
            sqlx::query_scalar("SELECT count(*) FROM journal_entries WHERE centre_id = $1")
                .bind(centre)
                .fetch_one(pool)
                .await?;
        let donations: i64 =
            sqlx::query_scalar("SELECT count(*) FROM donations WHERE centre_id = $1")
                .bind(centre)
                .fetch_one(pool)
                .await?;
        seeded.push(Seeded {
            centre,
            entries,
            donations,
        });
    }
    Ok(seeded)
}

/// Each category's monthly budget, in minor units.
fn budget_per_month(scale: i64) -> [(BudgetCategory, i64); 5] {
    [
        (BudgetCategory::Personnel, yuan(10_000 * scale)),
        (BudgetCategory::ServiceCosts, yuan(3_000 * scale)),
        (BudgetCategory::EquipmentPurchase, yuan(1_500 * scale)),
        (BudgetCategory::EquipmentMaintenance, yuan(500 * scale)),
        (BudgetCategory::OfficeCosts, yuan(800 * scale)),
    ]
}

async fn seed_month(
    pool: &PgPool,
    vault: &Vault,
    centre: Uuid,
    month: Month,
    n: usize,
    scale: i64,
    actor: &Actor,
) -> anyhow::Result<()> {
    let day = |d: u32| {
        month
            .first_day()
            .with_day(d)
            .expect("days 1..28 exist in every month")
    };
    let tag = month.to_string();
    let mut entries = Vec::new();

    entries.push(entry(
        centre,
        &format!("appropriation/{tag}"),
        day(5),
        "appropriation: 街道办事处, 中心运营经费",
        Source::Grant,
        vec![
            EntryLine::debit(BANK, yuan(11_000 * scale)),
            EntryLine::credit(FundingSource::Appropriation.account(), yuan(11_000 * scale)),
        ],
    )?);
    if n.is_multiple_of(3) {
        entries.push(entry(
            centre,
            &format!("special/{tag}"),
            day(10),
            "special_fund: 区民政局, 社区建设专项",
            Source::Grant,
            vec![
                EntryLine::debit(BANK, yuan(4_000 * scale)),
                EntryLine::credit(FundingSource::SpecialFund.account(), yuan(4_000 * scale)),
            ],
        )?);
    }
    if n % 3 == 1 {
        entries.push(entry(
            centre,
            &format!("partnership/{tag}"),
            day(15),
            "项目合作: 老年健康讲座 (partner programme)",
            Source::Partnership,
            vec![
                EntryLine::debit(BANK, yuan(5_000 * scale)),
                EntryLine::credit(FundingSource::Partnership.account(), yuan(5_000 * scale)),
            ],
        )?);
    }
    for week in 0..4u32 {
        // Fees for a week of courses, meals and room hire, collected in cash.
        let amount = yuan(1_200 * scale + 150 * i64::from(week) + 37 * n as i64);
        let key = format!("fee/{tag}/{week}");
        entries.push(entry(
            centre,
            &key,
            day(7 * week + 6),
            "Service fees of the week",
            Source::Fee,
            vec![
                EntryLine::debit(RECEIVABLES, amount),
                EntryLine::credit(FundingSource::ServiceFee.account(), amount),
            ],
        )?);
        entries.push(entry(
            centre,
            &format!("fee-paid/{tag}/{week}"),
            day(7 * week + 7),
            "Service fees collected",
            Source::Manual,
            vec![
                EntryLine::debit(CASH, amount),
                EntryLine::credit(RECEIVABLES, amount),
            ],
        )?);
    }
    let spend =
        |category: BudgetCategory, amount: i64, d: u32, text: &str| -> anyhow::Result<NewEntry> {
            entry(
                centre,
                &format!("{}/{tag}", category.as_str()),
                day(d),
                text,
                Source::Expense,
                vec![
                    EntryLine::debit(category.account(), amount),
                    EntryLine::credit(BANK, amount),
                ],
            )
        };
    entries.push(spend(
        BudgetCategory::Personnel,
        yuan(9_600 * scale),
        25,
        "工资及社保 Salaries",
    )?);
    entries.push(spend(
        BudgetCategory::ServiceCosts,
        yuan(2_700 * scale + 90 * n as i64),
        18,
        "活动物料 Activity materials",
    )?);
    entries.push(spend(
        BudgetCategory::EquipmentMaintenance,
        yuan(380 * scale),
        20,
        "设备维修 Repairs",
    )?);
    entries.push(spend(
        BudgetCategory::OfficeCosts,
        yuan(760 * scale),
        22,
        "水电及办公用品 Utilities and office supplies",
    )?);
    if n % 4 == 2 {
        entries.push(spend(
            BudgetCategory::EquipmentPurchase,
            yuan(5_500 * scale),
            12,
            "康复器材 Rehabilitation equipment",
        )?);
    }
    for entry in entries {
        if entry_exists(pool, entry.id).await? {
            continue;
        }
        let mut tx = pool.begin().await?;
        if entry.source == Source::Fee {
            let charge = entry.source_ref.clone().unwrap_or_default();
            let fee = store::FeeCharge {
                charge_id: &charge,
                booking_id: "seed",
                resident_id: None,
                list_price_minor: entry.total_minor(),
                concession: "",
            };
            store::record_fee(&mut tx, &fee, &entry, actor).await?;
        } else {
            store::post(&mut tx, &entry, actor).await?;
        }
        tx.commit().await?;
    }

    for k in 0..3usize {
        let key = format!("donation/{tag}/{k}");
        let donation_id = id(centre, &key);
        if store::donation_exists(pool, donation_id).await? {
            continue;
        }
        let anonymous = (n + k).is_multiple_of(3);
        let amount = yuan([200, 500, 1_000, 2_000, 5_000][(n * 3 + k) % 5]);
        let method = if amount >= yuan(1_000) {
            "bank"
        } else {
            "cash"
        };
        let received_on = day(3 + 8 * k as u32);
        let mut donation_entry = entry(
            centre,
            &key,
            received_on,
            "Donation (general)",
            Source::Donation,
            vec![
                EntryLine::debit(if method == "bank" { BANK } else { CASH }, amount),
                EntryLine::credit(FundingSource::Donation.account(), amount),
            ],
        )?;
        donation_entry.id = id(centre, &format!("{key}/entry"));
        let donation = store::NewDonation {
            id: donation_id,
            centre_id: centre,
            anonymous,
            donor_name: (!anonymous).then(|| vault.seal(DONORS[(n + k) % DONORS.len()])),
            donor_resident_id: None,
            amount_minor: amount,
            purpose: "general",
            method,
            received_on,
        };
        let mut tx = pool.begin().await?;
        store::record_donation(&mut tx, &donation, &donation_entry, actor).await?;
        tx.commit().await?;
    }
    Ok(())
}
