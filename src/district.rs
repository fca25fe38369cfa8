//! `linli seed district`: a district of N centres with M residents each, for measuring
//! Linli at district scale (docs/performance.md, issue 25). Every row goes in through the
//! services' own code: residents (with categories and skills) through the registry's
//! streaming import, the same as `linli import residents`; households through the
//! registry's household store; a year of weekly sessions, bookings and check-ins through
//! the bookings store's `create_booking` and `check_in` (each at the moment it would
//! have happened, so the rules of that moment apply); volunteers with verified hours
//! and a year of books through the volunteers' and finance's own seeders. Their events
//! wait in each service's outbox and reach the others when the platform runs.
//!
//! The same arguments make the same district: names, birthdays, national IDs, addresses,
//! categories, skills, which resident books which session and who attends are drawn from
//! `--seed`, and centre ids are derived from it. Ids the services make themselves
//! (residents', bookings') differ between runs. A rerun adds nothing: the import skips
//! registered residents, a centre with its households, bookings, workforce or books
//! skips that phase, and a centre's bookings resume where an interrupted run stopped.

use std::time::Instant;

use anyhow::Context as _;
use chrono::{Datelike, Duration, NaiveDate, NaiveTime, Utc};
use futures::StreamExt as _;
use linli_platform::crypto::{PersonalDataArgs, Vault};
use linli_platform::db::DatabaseArgs;
use linli_proto::events::v1::ResidentRegistered;
use sqlx::PgPool;
use uuid::Uuid;

/// What to make.
#[derive(Clone, Debug, clap::Args)]
#[group(id = "district_size")]
pub struct District {
    /// Centres in the district.
    #[arg(long, default_value_t = 100)]
    pub centres: usize,
    /// Residents registered at each centre (the district holds centres × residents).
    #[arg(long, default_value_t = 1000)]
    pub residents: usize,
    /// Bookings over the past year per resident, on average (the district: 5 M
    /// bookings for 5 M residents); three in four are checked in.
    #[arg(long, default_value_t = 1.0)]
    pub bookings_per_resident: f64,
    /// Draws every name, date and choice; the same seed makes the same district.
    #[arg(long, default_value_t = 25)]
    pub seed: u64,
    /// Centres worked on at once (PostgreSQL does most of the work).
    #[arg(long, default_value_t = 2)]
    pub parallel: usize,
    /// The phases to run, comma-separated (default: all, in this order). A phase relies
    /// on what the phases before it made, in this run or an earlier one: bookings and
    /// volunteers on the directories. For measuring one part at a size whose whole
    /// seeding takes hours (docs/performance.md).
    #[arg(long, value_delimiter = ',', default_values_t = SeedPhase::ALL)]
    pub phases: Vec<SeedPhase>,
}

/// A part of the district's seeding, run in this order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum SeedPhase {
    Residents,
    Households,
    Directories,
    Bookings,
    Volunteers,
    Books,
}

impl SeedPhase {
    pub const ALL: [SeedPhase; 6] = [
        SeedPhase::Residents,
        SeedPhase::Households,
        SeedPhase::Directories,
        SeedPhase::Bookings,
        SeedPhase::Volunteers,
        SeedPhase::Books,
    ];
}

impl std::fmt::Display for SeedPhase {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        use clap::ValueEnum as _;
        let value = self.to_possible_value().expect("no phase is skipped");
        f.write_str(value.get_name())
    }
}

impl District {
    fn runs(&self, phase: SeedPhase) -> bool {
        self.phases.contains(&phase)
    }
}

/// What the district holds after seeding.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Seeded {
    pub centres: Vec<Uuid>,
    pub residents: i64,
    pub households: i64,
    pub bookings: i64,
    pub check_ins: i64,
}

const NAMESPACE: Uuid = Uuid::from_u128(0x6c69_6e6c_6900_4000_8000_6469_7374_0001);
const SESSIONS: usize = 52;

/// A district centre's id: the same for the same seed and number.
pub fn centre_id(seed: u64, n: usize) -> Uuid {
    Uuid::new_v5(&NAMESPACE, format!("{seed}/{n}").as_bytes())
}

/// Seeds the district into the databases `database` names (already migrated), printing
/// each phase's time; returns what the district holds.
pub async fn seed(
    database: &DatabaseArgs,
    data: &PersonalDataArgs,
    district: &District,
    today: NaiveDate,
) -> anyhow::Result<Seeded> {
    anyhow::ensure!(
        district.centres >= 1 && district.residents >= 1,
        "at least one centre and one resident"
    );
    anyhow::ensure!(
        district.centres * district.residents < 9_000_000,
        "national IDs run out at 9 million residents"
    );
    let vault = Vault::new(data)?;
    // A shared server may be out of connections for a moment: try for a minute.
    let connect = async |service: &str, migrator| {
        let mut tries = 0;
        loop {
            match linli_platform::db::connect(database, service, migrator).await {
                Ok(pool) => return Ok::<_, anyhow::Error>(pool),
                Err(error) if tries < 60 => {
                    tries += 1;
                    tracing::warn!(service, error = %error, "connecting again in a second");
                    tokio::time::sleep(std::time::Duration::from_secs(1)).await;
                }
                Err(error) => return Err(error),
            }
        }
    };
    let registry = connect(linli_registry::SERVICE, &linli_registry::MIGRATOR).await?;
    let parallel = district.parallel.max(1);
    let ids: Vec<Uuid> = (0..district.centres)
        .map(|n| centre_id(district.seed, n))
        .collect();

    let phase = Phase::start("centres");
    let mut centres = Vec::new();
    for n in 0..district.centres {
        centres.push(centre(&registry, district.seed, n).await?);
    }
    phase.done(district.centres as u64, "centres");

    let phase = Phase::asked(
        "residents (the registry's import)",
        district.runs(SeedPhase::Residents),
    );
    if district.runs(SeedPhase::Residents) {
        let imported: u64 = each_centre(district.centres, parallel, "residents", |n| {
            let (registry, vault) = (&registry, &vault);
            async move {
                let centre = centre_id(district.seed, n);
                let have = linli_registry::store::count_residents(registry, centre).await?;
                if have >= district.residents as i64 {
                    return Ok(0);
                }
                let sheet = sheet(district, n, today);
                let report = linli_registry::import::import(
                    registry,
                    vault,
                    centre,
                    std::io::Cursor::new(sheet),
                    "utf-8",
                    &[],
                    today,
                )
                .await
                .map_err(|error| anyhow::anyhow!("importing: {error}"))?;
                anyhow::ensure!(
                    report.errors.is_empty(),
                    "{} rows refused, the first: {:?}",
                    report.errors.len(),
                    report.errors.first()
                );
                Ok(u64::from(report.imported))
            }
        })
        .await?
        .into_iter()
        .sum();
        phase.done(imported, "residents imported");
    } else {
        phase.done(0, "");
    }

    let phase = Phase::asked("households", district.runs(SeedPhase::Households));
    if district.runs(SeedPhase::Households) {
        let placed: u64 = each_centre(district.centres, parallel, "households", |n| {
            households(&registry, ids[n])
        })
        .await?
        .into_iter()
        .sum();
        phase.done(placed, "households made");
    } else {
        phase.done(0, "");
    }

    // What the registry's events tell the other services, given to their directories
    // now, as `linli seed demo` does (the events follow once the platform runs).
    let mut facts: Vec<Vec<ResidentRegistered>> = Vec::new();
    let needs_facts = [
        SeedPhase::Directories,
        SeedPhase::Bookings,
        SeedPhase::Volunteers,
    ];
    let phase = Phase::start("directories");
    for centre in ids
        .iter()
        .filter(|_| needs_facts.iter().any(|p| district.runs(*p)))
    {
        let rows = linli_registry::store::list_residents(
            &registry,
            *centre,
            &linli_registry::store::ResidentFilter {
                status: Some("active".into()),
                ..Default::default()
            },
            None,
            i64::MAX,
        )
        .await?;
        facts.push(
            rows.iter()
                .map(|row| linli_registry::events::resident_registered(row, today))
                .collect(),
        );
    }
    let announced: Vec<linli_platform::directory::Centre> = centres
        .iter()
        .map(|c| {
            Ok(linli_platform::directory::Centre {
                id: c.id,
                code: c.code.clone(),
                name: c.name.clone(),
                time_zone: linli_platform::directory::parse_zone(&c.time_zone)
                    .context("a district centre's time zone")?,
            })
        })
        .collect::<anyhow::Result<_>>()?;
    let everyone: Vec<ResidentRegistered> = facts.iter().flatten().cloned().collect();
    // The centres go to every service's directory; their residents only in this phase.
    let told: &[ResidentRegistered] = if district.runs(SeedPhase::Directories) {
        &everyone
    } else {
        &[]
    };
    for (service, migrator) in [
        (linli_bookings::SERVICE, &linli_bookings::MIGRATOR),
        (linli_volunteers::SERVICE, &linli_volunteers::MIGRATOR),
        (linli_finance::SERVICE, &linli_finance::MIGRATOR),
        (linli_evaluation::SERVICE, &linli_evaluation::MIGRATOR),
    ] {
        let pool = connect(service, migrator).await?;
        linli_platform::directory::record_announced(&pool, &announced, told)
            .await
            .with_context(|| format!("filling the {service} directory"))?;
        pool.close().await;
    }
    phase.done(told.len() as u64 * 4, "directory rows (four services)");
    drop(everyone);

    let phase = Phase::asked(
        "a year of bookings and check-ins (the bookings store)",
        district.runs(SeedPhase::Bookings),
    );
    let bookings = connect(linli_bookings::SERVICE, &linli_bookings::MIGRATOR).await?;
    let known = linli_bookings::store::Known::default();
    let made = if district.runs(SeedPhase::Bookings) {
        each_centre(district.centres, parallel, "bookings", |n| {
            year_of_bookings(&bookings, &known, district, ids[n], &facts[n], today)
        })
        .await?
    } else {
        Vec::new()
    };
    let booked: u64 = made.iter().map(|(b, _)| b).sum();
    let attended: u64 = made.iter().map(|(_, a)| a).sum();
    phase.done(booked, &format!("bookings made, {attended} checked in"));

    let phase = Phase::asked(
        "volunteers, staff and hours (the volunteers' seeder)",
        district.runs(SeedPhase::Volunteers),
    );
    let volunteers = connect(linli_volunteers::SERVICE, &linli_volunteers::MIGRATOR).await?;
    let of = if district.runs(SeedPhase::Volunteers) {
        district.centres
    } else {
        0
    };
    let enlisted: i64 = each_centre(of, parallel, "workforces", |n| {
        let (volunteers, facts, centre) = (&volunteers, &facts, ids[n]);
        async move {
            let seeded =
                linli_volunteers::seed::demo(volunteers, &[centre], &facts[n], today).await?;
            Ok(seeded.iter().map(|(_, active, _)| active).sum::<i64>())
        }
    })
    .await?
    .into_iter()
    .sum();
    volunteers.close().await;
    phase.done(enlisted as u64, "active volunteers");

    let phase = Phase::asked(
        "a year of books (finance's seeder)",
        district.runs(SeedPhase::Books),
    );
    let finance = connect(linli_finance::SERVICE, &linli_finance::MIGRATOR).await?;
    let of = if district.runs(SeedPhase::Books) {
        district.centres
    } else {
        0
    };
    let entries: i64 = each_centre(of, parallel, "books", |n| {
        let (finance, vault, centre) = (&finance, &vault, ids[n]);
        async move {
            let seeded = linli_finance::seed::demo(finance, vault, &[centre], today).await?;
            Ok(seeded.iter().map(|books| books.entries).sum::<i64>())
        }
    })
    .await?
    .into_iter()
    .sum();
    finance.close().await;
    phase.done(entries as u64, "ledger entries");

    let seeded = held(&registry, &bookings, &ids).await?;
    registry.close().await;
    bookings.close().await;
    println!(
        "District: {} centres, {} residents, {} households, {} bookings, {} check-ins",
        seeded.centres.len(),
        seeded.residents,
        seeded.households,
        seeded.bookings,
        seeded.check_ins
    );
    Ok(seeded)
}

/// What the district holds now.
pub async fn held(registry: &PgPool, bookings: &PgPool, ids: &[Uuid]) -> anyhow::Result<Seeded> {
    let (residents, households): (i64, i64) = sqlx::query_as(
        "SELECT (SELECT count(*) FROM residents WHERE centre_id = ANY($1)),
                (SELECT count(*) FROM households WHERE centre_id = ANY($1))",
    )
    .bind(ids)
    .fetch_one(registry)
    .await?;
    let (booked, check_ins): (i64, i64) = sqlx::query_as(
        "SELECT count(*), count(*) FILTER (WHERE status = 'attended') FROM bookings
         WHERE centre_id = ANY($1)",
    )
    .bind(ids)
    .fetch_one(bookings)
    .await?;
    Ok(Seeded {
        centres: ids.to_vec(),
        residents,
        households,
        bookings: booked,
        check_ins,
    })
}

/// Times a phase of the seeding and prints it.
struct Phase {
    name: &'static str,
    started: Instant,
    /// Not among `--phases`: said so, with no count.
    skipped: bool,
}

impl Phase {
    fn start(name: &'static str) -> Phase {
        println!("{name} ...");
        Phase {
            name,
            started: Instant::now(),
            skipped: false,
        }
    }

    /// A phase that runs only when `--phases` asks for it.
    fn asked(name: &'static str, asked: bool) -> Phase {
        if asked {
            return Phase::start(name);
        }
        Phase {
            name,
            started: Instant::now(),
            skipped: true,
        }
    }

    fn done(self, count: u64, what: &str) {
        if self.skipped {
            println!("{}: skipped (not in --phases)", self.name);
            return;
        }
        let seconds = self.started.elapsed().as_secs_f64();
        println!(
            "{}: {count} {what} in {seconds:.1} s ({:.0}/s)",
            self.name,
            count as f64 / seconds.max(1e-9)
        );
    }
}

/// Runs `work` for each centre's number, `parallel` at once, printing every tenth done;
/// the results in the centres' order.
async fn each_centre<T, F: Future<Output = anyhow::Result<T>>>(
    of: usize,
    parallel: usize,
    what: &str,
    work: impl Fn(usize) -> F,
) -> anyhow::Result<Vec<T>> {
    let done = std::sync::atomic::AtomicUsize::new(0);
    let step = (of / 10).max(1);
    let work = &work;
    let done = &done;
    let mut results: Vec<(usize, T)> = futures::stream::iter(0..of)
        .map(|n| async move {
            let result = work(n)
                .await
                .with_context(|| format!("{what}: centre {n}"))?;
            let finished = done.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
            if finished.is_multiple_of(step) {
                println!("  … {what}: {finished} of {of} centres");
            }
            Ok::<_, anyhow::Error>((n, result))
        })
        .buffer_unordered(parallel.max(1))
        .collect::<Vec<_>>()
        .await
        .into_iter()
        .collect::<anyhow::Result<_>>()?;
    results.sort_by_key(|(n, _)| *n);
    Ok(results.into_iter().map(|(_, result)| result).collect())
}

/// Creates centre `n` if it is not there; returns it.
async fn centre(
    registry: &PgPool,
    seed: u64,
    n: usize,
) -> anyhow::Result<linli_registry::store::CentreRow> {
    use linli_registry::domain::centre::{CentreDetails, CentreForm};
    let (code, name) = (
        format!("d{seed}c{n:04}"),
        format!("{}第{}社区服务中心", STREETS[n % STREETS.len()], n + 1),
    );
    let address = format!("{}街道{}号", STREETS[n % STREETS.len()], n + 1);
    let details = CentreDetails::parse(&CentreForm {
        code: &code,
        name: &name,
        address: &address,
        opening_hours: "周一至周六 8:30-20:00",
        contact_phone: "010-6512 3456",
        ..Default::default()
    })
    .map_err(|violations| anyhow::anyhow!("district centre invalid: {violations}"))?;
    let id = centre_id(seed, n);
    linli_registry::store::create_centre(registry, id, &details)
        .await
        .map_err(|error| anyhow::anyhow!("creating centre {n}: {error:?}"))?;
    linli_registry::store::find_centre(registry, id)
        .await?
        .context("the district centre exists")
}

const STREETS: [&str; 10] = [
    "新华", "和平", "朝阳", "建国", "光明", "东风", "胜利", "团结", "幸福", "长安",
];
const SURNAMES: &str = "王王王王王王王李李李李李李李张张张张张张张刘刘刘刘刘陈陈陈陈陈杨杨杨黄黄黄赵赵赵吴吴周周徐徐孙孙马马朱朱胡胡郭郭何何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤";
const GIVEN: &str = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超兰霞平刚桂华玉萍红建国志文婷梅鹏飞辉斌宇浩凯健俊帆帅旭宁龙林欣怡佳琪雨萱子涵妍梓诗思博轩然昊天晨阳嘉雅淑珍德福永海燕春秋菊冬金凤花芬";
const SKILLS: [&str; 9] = [
    "",
    "",
    "",
    "医生",
    "教师",
    "书法",
    "会计、电脑",
    "理发",
    "唱歌、跳舞",
];
const CATEGORIES: [&str; 7] = ["", "", "", "", "独居", "低保", "残疾"];

/// Centre `n`'s register as a sheet a centre keeps (the usual headings), the same for the
/// same seed. One resident in four lives at the previous one's flat (a household).
pub fn sheet(district: &District, n: usize, today: NaiveDate) -> Vec<u8> {
    let mut random = SplitMix(district.seed ^ (n as u64).wrapping_mul(0x9e37_79b9));
    let surnames: Vec<char> = SURNAMES.chars().collect();
    let given: Vec<char> = GIVEN.chars().collect();
    let mut out = String::from("姓名,性别,出生日期,手机,身份证号,楼栋,单元,房号,类别,技能\n");
    let mut address = (1, 1, 101);
    for r in 0..district.residents {
        let serial = n * district.residents + r;
        let mut name = String::new();
        name.push(surnames[random.below(surnames.len())]);
        name.push(given[random.below(given.len())]);
        if random.below(3) != 0 {
            name.push(given[random.below(given.len())]);
        }
        // A register that leans old: a third are 60 or over.
        let age_days = match random.below(3) {
            0 => 365 * 60 + random.below(365 * 30),
            _ => 365 * 3 + random.below(365 * 57),
        };
        let birth = today - Duration::days(age_days as i64);
        // Area, birth date and a sequence number: unique for every serial under 9 M.
        let sequence = serial % 1000;
        let body = format!(
            "11{:04}{}{sequence:03}",
            101 + serial / 1000,
            birth.format("%Y%m%d")
        );
        let check = linli_registry::domain::check_character(&body).unwrap_or('X');
        let gender = if sequence % 2 == 1 { "男" } else { "女" };
        let phone = format!("13{serial:09}");
        if r % 4 != 3 {
            address = (
                1 + random.below(40),
                1 + random.below(4),
                (1 + random.below(30)) * 100 + 1 + random.below(4),
            );
        }
        let (building, unit, room) = address;
        out.push_str(&format!(
            "{name},{gender},{},{phone},{body}{check},{building}号楼,{unit}单元,{room},{},{}\n",
            birth.format("%Y-%m-%d"),
            CATEGORIES[random.below(CATEGORIES.len())],
            SKILLS[random.below(SKILLS.len())],
        ));
    }
    out.into_bytes()
}

/// Puts the residents of each flat with more than one (and no household yet) into a
/// household: the first registered heads it. Returns the households made.
async fn households(registry: &PgPool, centre: Uuid) -> anyhow::Result<u64> {
    use linli_registry::domain::household::Relationship;
    use linli_registry::store::households::{create_household, place_in_household};
    let flats: Vec<Vec<Uuid>> = sqlx::query_scalar(
        "SELECT array_agg(id ORDER BY registered_at, id) FROM residents
         WHERE centre_id = $1 AND household_id IS NULL AND erased_at IS NULL
         GROUP BY building, unit, room HAVING count(*) > 1",
    )
    .bind(centre)
    .fetch_all(registry)
    .await?;
    let mut made = 0;
    for flat in flats {
        let household = create_household(registry, centre, flat[0])
            .await
            .map_err(|error| anyhow::anyhow!("a household: {error:?}"))?;
        for (i, member) in flat.iter().enumerate().skip(1) {
            let relationship = if i == 1 {
                Relationship::Spouse
            } else {
                Relationship::Child
            };
            place_in_household(registry, centre, *member, household.id, relationship)
                .await
                .map_err(|error| anyhow::anyhow!("placing a member: {error:?}"))?;
        }
        made += 1;
    }
    Ok(made)
}

/// A centre's year: a weekly health lecture over the 52 weeks before `today`, each
/// resident booking (on average `bookings_per_resident`) a week two days ahead, and three
/// in four checked in five minutes after the start. Bookings are made in a fixed order,
/// so a rerun skips as many as the centre's lecture holds already. Returns (booked,
/// checked in) by this run.
async fn year_of_bookings(
    pool: &PgPool,
    known: &linli_bookings::store::Known,
    district: &District,
    centre: Uuid,
    people: &[ResidentRegistered],
    today: NaiveDate,
) -> anyhow::Result<(u64, u64)> {
    use linli_bookings::store::{self, NewBooking, OfferingRow, SessionFilter};
    let offering_id = Uuid::new_v5(&NAMESPACE, format!("{centre}/lecture").as_bytes());
    let existing = store::list_offerings(pool, centre, None, None).await?;
    let offering = match existing.into_iter().find(|o| o.id == offering_id) {
        Some(offering) => offering,
        None => {
            let offering = store::create_offering(
                pool,
                &OfferingRow {
                    id: offering_id,
                    centre_id: centre,
                    category: "culture_education".into(),
                    kind: "event".into(),
                    name: "社区健康科普讲座".into(),
                    description: "每周三上午，全年开放".into(),
                    provider: "centre".into(),
                    provider_id: None,
                    min_age: None,
                    max_age: None,
                    eligible_categories: Vec::new(),
                    fee_minor: 0,
                    currency: "CNY".into(),
                    concession_categories: Vec::new(),
                    concession_prices: Vec::new(),
                    capacity: 10_000,
                    facility_id: None,
                    staff_id: None,
                    active: true,
                    revision: 0,
                },
                None,
            )
            .await
            .map_err(|error| anyhow::anyhow!("the lecture: {error:?}"))?;
            let zone = store::zone_of(pool, centre)
                .await
                .map_err(|error| anyhow::anyhow!("{error:?}"))?;
            // Wednesdays at 9:30, the 52 before today.
            let back = (today.weekday().num_days_from_monday() + 7 - 2) % 7;
            let last = today - Duration::days(if back == 0 { 7 } else { back.into() });
            let at = NaiveTime::from_hms_opt(9, 30, 0).unwrap_or(NaiveTime::MIN);
            let occurrences: Vec<store::Occurrence> = (0..SESSIONS as i64)
                .map(|w| {
                    let local = (last - Duration::weeks(w)).and_time(at);
                    (
                        local,
                        linli_bookings::domain::to_instant(zone, local),
                        linli_bookings::domain::to_instant(zone, local + Duration::minutes(90)),
                    )
                })
                .collect();
            store::create_sessions(pool, &offering, None, &occurrences, 10_000)
                .await
                .map_err(|error| anyhow::anyhow!("the lectures: {error:?}"))?;
            offering
        }
    };
    let sessions = store::list_sessions(
        pool,
        &SessionFilter {
            centre,
            from: None,
            to: None,
            offering: Some(offering.id),
            series: None,
        },
        None,
        SESSIONS as i64,
    )
    .await?;
    if people.is_empty() || sessions.is_empty() {
        return Ok((0, 0));
    }
    let wanted = (people.len() as f64 * district.bookings_per_resident).round() as usize;
    let done: i64 = sqlx::query_scalar("SELECT count(*) FROM bookings WHERE offering_id = $1")
        .bind(offering.id)
        .fetch_one(pool)
        .await?;
    let mut random = SplitMix(district.seed ^ centre.as_u128() as u64);
    let (mut booked, mut attended) = (0, 0);
    for j in 0..wanted {
        // Drawn for every booking, made or skipped, so a resumed run draws the same.
        let attends = random.below(4) != 0;
        if j < done as usize {
            continue;
        }
        let resident = &people[j % people.len()];
        // Residents spread over the weeks, and the same resident's rounds fall on
        // different weeks (7 is prime to 52).
        let session = &sessions[(j % people.len() + 7 * (j / people.len())) % sessions.len()];
        let view = store::create_booking(
            pool,
            known,
            &NewBooking {
                centre,
                offering: offering.id,
                resident: Some(resident.resident_id.parse()?),
                session: Some(session.id),
                range: None,
                note: String::new(),
            },
            session.starts_at - Duration::days(2),
        )
        .await;
        let view = match view {
            Ok(view) => view,
            // A resident the rules refuse (e.g. not active) is not booked.
            Err(linli_bookings::error::Error::Database(error)) => return Err(error.into()),
            Err(_) => continue,
        };
        booked += 1;
        if attends {
            store::check_in(
                pool,
                centre,
                view.booking.id,
                Some(session.id),
                session.starts_at + Duration::minutes(5),
            )
            .await
            .map_err(|error| anyhow::anyhow!("a check-in: {error:?}"))?;
            attended += 1;
        }
    }
    Ok((booked, attended))
}

/// A small deterministic generator (splitmix64).
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

/// Today in China (the district's dates).
pub fn today() -> NaiveDate {
    (Utc::now() + Duration::hours(8)).date_naive()
}
