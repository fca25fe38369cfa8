//! The demo district for `linli seed demo`: three centres and a few hundred residents with
//! ordinary Chinese names, registered through the same path as the front desk's, so their
//! events reach the other services. Running it again adds nothing.

use chrono::{Duration, NaiveDate};
use linli_platform::crypto::Vault;
use sqlx::PgPool;
use uuid::Uuid;

use crate::domain::{NewResident, ResidentForm, check_character};
use anyhow::Context as _;

use crate::domain::centre::{CentreDetails, CentreForm};
use crate::domain::status::Status;
use crate::store::{self, CentreRow};

/// Namespace for the demo centres' ids, so they are the same on every machine.
const DEMO_NAMESPACE: Uuid = Uuid::from_u128(0x6c696e6c_6900_4000_8000_64656d6f0001);
const RESIDENTS_PER_CENTRE: usize = 120;

const CENTRES: [(&str, &str, &str); 3] = [
    ("xinhua", "新华社区服务中心", "新华街道新华路 12 号"),
    ("heping", "和平社区服务中心", "和平街道和平里 3 号"),
    ("chaoyang", "朝阳社区服务中心", "朝阳街道朝阳北路 88 号"),
];

const SURNAMES: [&str; 24] = [
    "王", "李", "张", "刘", "陈", "杨", "黄", "赵", "吴", "周", "徐", "孙", "马", "朱", "胡", "郭",
    "何", "高", "林", "罗", "郑", "梁", "谢", "宋",
];
const GIVEN_MALE: [&str; 16] = [
    "伟", "强", "磊", "军", "洋", "勇", "杰", "涛", "明", "超", "刚", "建华", "志强", "建国",
    "国庆", "浩然",
];
const GIVEN_FEMALE: [&str; 16] = [
    "芳", "娜", "秀英", "敏", "静", "丽", "艳", "娟", "秀兰", "霞", "桂英", "玉兰", "淑珍", "婷",
    "欣怡", "雨桐",
];

/// A demo centre's fixed id.
pub fn centre_id(code: &str) -> Uuid {
    Uuid::new_v5(&DEMO_NAMESPACE, code.as_bytes())
}

/// Creates the demo centres and their residents; returns each centre with how many
/// residents it has.
pub async fn demo(
    pool: &PgPool,
    vault: &Vault,
    today: NaiveDate,
) -> anyhow::Result<Vec<(CentreRow, i64)>> {
    let mut random = SplitMix(0x5eed);
    let mut seeded = Vec::new();
    for (code, name, address) in CENTRES {
        let details = CentreDetails::parse(&CentreForm {
            code,
            name,
            address,
            opening_hours: "周一至周六 8:30-20:00",
            contact_phone: "010-6512 3456",
            ..Default::default()
        })
        .map_err(|violations| anyhow::anyhow!("demo centre invalid: {violations}"))?;
        store::create_centre(pool, centre_id(code), &details).await?;
        let centre = store::find_centre(pool, centre_id(code))
            .await?
            .context("the demo centre exists")?;
        if store::count_residents(pool, centre.id).await? == 0 {
            for n in 0..RESIDENTS_PER_CENTRE {
                let serial = seeded.len() * RESIDENTS_PER_CENTRE + n;
                let resident = demo_resident(&mut random, centre.id, serial, today)?;
                // Demo people are distinct by construction (their serial).
                let row = store::register_resident(pool, vault, &resident, true, today).await?;
                demo_history(pool, &row, n, today).await?;
            }
        }
        let count = store::count_residents(pool, centre.id).await?;
        seeded.push((centre, count));
    }
    Ok(seeded)
}

/// A demo resident; `serial` (unique in the district) keeps demo national IDs unique.
fn demo_resident(
    random: &mut SplitMix,
    centre_id: Uuid,
    serial: usize,
    today: NaiveDate,
) -> anyhow::Result<NewResident> {
    let male = random.below(2) == 0;
    let given = if male { GIVEN_MALE } else { GIVEN_FEMALE };
    let name = format!(
        "{}{}",
        SURNAMES[random.below(SURNAMES.len())],
        given[random.below(given.len())]
    );
    // A community centre's register leans old: a third are 60 or over.
    let age_days = match random.below(3) {
        0 => 365 * 60 + random.below(365 * 30),
        _ => 365 * 3 + random.below(365 * 57),
    };
    let birth = today - Duration::days(age_days as i64);
    let phone = (random.below(4) != 0)
        .then(|| format!("1{}{:09}", 3 + random.below(7), random.below(1_000_000_000)));
    // Two in three carry a national ID: region 110105, their birth date, a sequence whose
    // last digit follows their gender, and the check character.
    let national_id = (random.below(3) != 0).then(|| {
        let sequence = (serial * 2 + usize::from(male)) % 1000;
        let body = format!("110105{}{sequence:03}", birth.format("%Y%m%d"));
        format!("{body}{}", check_character(&body).expect("17 digits"))
    });
    // Twelve buildings of four units; a few residents share a flat (a household).
    let (building, unit) = (
        format!("{}号楼", 1 + random.below(12)),
        format!("{}单元", 1 + random.below(4)),
    );
    let room = format!("{}0{}", 1 + random.below(18), 1 + random.below(4));
    let categories: Vec<String> = [("disability", 20), ("low_income", 12), ("living_alone", 8)]
        .into_iter()
        .filter(|(_, one_in)| random.below(*one_in) == 0)
        .map(|(category, _)| category.to_owned())
        .collect();
    let skills: Vec<(String, String)> = [
        ("profession", "医生"),
        ("profession", "护士"),
        ("profession", "教师"),
        ("skill", "急救"),
        ("skill", "书法"),
        ("hobby", "广场舞"),
        ("hobby", "象棋"),
        ("hobby", "合唱"),
    ]
    .into_iter()
    .filter(|_| random.below(10) == 0)
    .map(|(kind, name)| (kind.to_owned(), name.to_owned()))
    .collect();
    let health_note = (age_days >= 365 * 60 && random.below(3) == 0).then(|| {
        ["高血压，按时服药", "糖尿病，饮食需控制", "行动不便，需搀扶"][random.below(3)].to_owned()
    });
    let (centre, birth) = (centre_id.to_string(), birth.format("%Y-%m-%d").to_string());
    let form = ResidentForm {
        centre_id: &centre,
        name: &name,
        gender: Some(if male { "male" } else { "female" }),
        date_of_birth: &birth,
        phone: phone.as_deref(),
        national_id: national_id.as_deref(),
        building: &building,
        unit: &unit,
        room: &room,
        categories: &categories,
        skills: &skills,
        health_note: health_note.as_deref(),
    };
    NewResident::parse(&form, today)
        .map_err(|violations| anyhow::anyhow!("demo resident invalid: {violations}"))
}

/// Consents most adults gave at the desk, and the occasional move or death, so every
/// part of the registry has something to show.
async fn demo_history(
    pool: &PgPool,
    row: &store::ResidentRow,
    n: usize,
    today: NaiveDate,
) -> anyhow::Result<()> {
    let age = crate::domain::DateOfBirth::from_stored(row.date_of_birth).age_on(today);
    if age >= 18 {
        for (purpose, every) in [
            ("service_delivery", 1),
            ("activity_contact", 2),
            ("partner_sharing", 5),
        ] {
            if n.is_multiple_of(every) {
                let consent = store::NewConsent {
                    resident_id: row.id,
                    centre_id: row.centre_id,
                    purpose,
                    granted: true,
                    source: "paper_form",
                    guardian_id: None,
                    delegate_id: None,
                    recorded_by: "demo",
                };
                store::record_consent(pool, &consent).await?;
            }
        }
    }
    let change = match n % 40 {
        7 => Some(Status::MovedOut),
        23 if age >= 60 => Some(Status::Deceased),
        _ => None,
    };
    if let Some(status) = change {
        store::set_status(
            pool,
            row.centre_id,
            row.id,
            Status::Active,
            status,
            today - Duration::days(30),
        )
        .await?;
    }
    Ok(())
}

/// A small deterministic generator, so the demo district is the same every time.
struct SplitMix(u64);

impl SplitMix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// What the registry's events tell other services about every active demo resident, for
/// seeding their read models in the same run (the events themselves follow through the
/// outbox once the platform runs, and change nothing more).
pub async fn demo_facts(
    pool: &PgPool,
    today: NaiveDate,
) -> anyhow::Result<Vec<linli_proto::events::v1::ResidentRegistered>> {
    let mut facts = Vec::new();
    for (code, _, _) in CENTRES {
        let centre = centre_id(code);
        let ids: Vec<Uuid> = sqlx::query_scalar(
            "SELECT id FROM residents WHERE centre_id = $1 AND status = 'active' AND erased_at IS NULL
             ORDER BY registered_at, id",
        )
        .bind(centre)
        .fetch_all(pool)
        .await?;
        for id in ids {
            if let Some(row) = store::find_resident(pool, centre, id).await? {
                facts.push(crate::events::resident_registered(&row, today));
            }
        }
    }
    Ok(facts)
}

/// The demo district's console password, printed by `linli seed demo` and in the README.
pub const DEMO_PASSWORD: &str = "linli-demo-2026";

/// The demo console accounts: (username, display name, roles, centre codes).
pub const DEMO_ACCOUNTS: [(&str, &str, &str, &str); 7] = [
    ("admin", "区管理员", "district_admin", ""),
    ("manager-xinhua", "新华中心主任", "centre_manager", "xinhua"),
    ("frontdesk-xinhua", "新华前台", "front_desk", "xinhua"),
    (
        "coordinator-xinhua",
        "新华项目协调员",
        "coordinator",
        "xinhua",
    ),
    ("finance-xinhua", "新华财务", "finance_officer", "xinhua"),
    ("auditor-xinhua", "新华监督小组", "auditor", "xinhua"),
    ("frontdesk-heping", "和平前台", "front_desk", "heping"),
];

/// Creates the demo console accounts that do not exist yet; returns how many were added.
pub async fn demo_accounts(pool: &PgPool) -> anyhow::Result<usize> {
    let mut added = 0;
    for (username, display_name, role, centre) in DEMO_ACCOUNTS {
        let centres: Vec<String> = if centre.is_empty() {
            Vec::new()
        } else {
            vec![centre_id(centre).to_string()]
        };
        let account = crate::domain::staff::NewAccount::parse(
            username,
            display_name,
            DEMO_PASSWORD,
            &[role.to_owned()],
            &centres,
        )
        .map_err(|violations| anyhow::anyhow!("demo account invalid: {violations}"))?;
        let hash = crate::domain::staff::hash_password(DEMO_PASSWORD);
        if store::create_staff_account(pool, &account, &hash, "seed")
            .await?
            .is_some()
        {
            added += 1;
        }
    }
    Ok(added)
}
