//! `linli seed district` (issue 25): a tiny district seeded into a running platform's
//! databases holds what it says, is the same when seeded again into fresh databases,
//! adds nothing on a rerun, and passes the rules: its residents are found by the
//! registry's pinyin and initials search, and its check-ins reach evaluation's KPIs
//! through the events the bookings store wrote.

use std::time::Duration;

use chrono::Datelike;
use linli::district::{District, Seeded};
use linli_platform::auth::Role;
use linli_tests::{TestPlatform, poll};
use serde_json::Value;
use sqlx::PgPool;
use uuid::Uuid;

fn district() -> District {
    District {
        centres: 3,
        residents: 40,
        bookings_per_resident: 1.5,
        seed: 7,
        parallel: 2,
        phases: linli::district::SeedPhase::ALL.to_vec(),
    }
}

/// Pinyin of the characters a test resident's name may be made of.
const PINYIN: [(char, &str); 24] = [
    ('王', "wang"),
    ('李', "li"),
    ('张', "zhang"),
    ('刘', "liu"),
    ('陈', "chen"),
    ('杨', "yang"),
    ('黄', "huang"),
    ('赵', "zhao"),
    ('吴', "wu"),
    ('周', "zhou"),
    ('伟', "wei"),
    ('芳', "fang"),
    ('娜', "na"),
    ('敏', "min"),
    ('静', "jing"),
    ('强', "qiang"),
    ('磊', "lei"),
    ('军', "jun"),
    ('明', "ming"),
    ('华', "hua"),
    ('文', "wen"),
    ('平', "ping"),
    ('林', "lin"),
    ('杰', "jie"),
];

fn pinyin(name: &str) -> Option<(String, String)> {
    let syllables: Vec<&str> = name
        .chars()
        .map(|c| PINYIN.iter().find(|(h, _)| *h == c).map(|(_, p)| *p))
        .collect::<Option<_>>()?;
    Some((
        syllables.concat(),
        syllables.iter().filter_map(|s| s.chars().next()).collect(),
    ))
}

/// Every resident as the registry keeps their clear fields, in a fixed order.
async fn register(registry: &PgPool, ids: &[Uuid]) -> Vec<(Uuid, String, String, String)> {
    sqlx::query_as(
        "SELECT centre_id, name, date_of_birth::text, building || unit || room FROM residents
         WHERE centre_id = ANY($1) ORDER BY centre_id, name, date_of_birth, building, unit, room",
    )
    .bind(ids)
    .fetch_all(registry)
    .await
    .expect("the register")
}

/// How many bookings each centre's lecture of each week holds, and how many attended.
async fn weeks(bookings: &PgPool, ids: &[Uuid]) -> Vec<(Uuid, String, i64, i64)> {
    sqlx::query_as(
        "SELECT s.centre_id, s.local_start::text, count(*), count(*) FILTER (WHERE x.state = 'attended')
         FROM seats x JOIN sessions s ON s.id = x.session_id
         WHERE s.centre_id = ANY($1) GROUP BY 1, 2 ORDER BY 1, 2",
    )
    .bind(ids)
    .fetch_all(bookings)
    .await
    .expect("the weeks")
}

fn number(value: &Value) -> i64 {
    value
        .as_i64()
        .or_else(|| value.as_str().and_then(|s| s.parse().ok()))
        .unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_seeded_district_is_made_the_same_twice_adds_nothing_when_rerun_and_passes_the_rules() {
    // Seeded before the platform runs, as `linli seed district` is used: the year's
    // sessions have all ended, and a running platform's sweep would mark their seats
    // no-shows while the seeding checks them in.
    let args = linli_tests::test_args(&linli_tests::unique_name());
    let today = linli::district::today();
    let (database, data) = (&args.database, &args.data);

    let first = linli::district::seed(database, data, &district(), today)
        .await
        .expect("the district is seeded");
    let ids: Vec<Uuid> = (0..3)
        .map(|n| linli::district::centre_id(district().seed, n))
        .collect();
    assert_eq!(first.centres, ids);
    assert_eq!(first.residents, 120, "40 residents at each of 3 centres");
    // One resident in four shares the previous one's flat: at least 30 households.
    assert!(first.households >= 30, "households: {}", first.households);
    assert_eq!(first.bookings, 180, "1.5 bookings a resident");
    assert!(
        (90..180).contains(&first.check_ins),
        "about three in four checked in: {}",
        first.check_ins
    );

    // A rerun adds nothing.
    let again = linli::district::seed(database, data, &district(), today)
        .await
        .expect("seeded again");
    assert_eq!(again, first, "a rerun adds nothing");

    let connect = |args: &linli::ServeArgs, service: &str| {
        PgPool::connect_with(args.database.options_for(service).expect("options"))
    };
    let registry = connect(&args, "registry").await.expect("registry");
    let bookings = connect(&args, "bookings").await.expect("bookings");
    let volunteers = connect(&args, "volunteers").await.expect("volunteers");
    let finance = connect(&args, "finance").await.expect("finance");
    let active_volunteers: i64 =
        sqlx::query_scalar("SELECT count(*) FROM volunteers WHERE centre_id = ANY($1)")
            .bind(&ids)
            .fetch_one(&volunteers)
            .await
            .expect("volunteers");
    assert!(active_volunteers >= 3, "volunteers: {active_volunteers}");
    let entries: i64 =
        sqlx::query_scalar("SELECT count(*) FROM journal_entries WHERE centre_id = ANY($1)")
            .bind(&ids)
            .fetch_one(&finance)
            .await
            .expect("ledger entries");
    assert!(entries >= 3 * 12, "a year of books: {entries} entries");

    // The same seed into fresh databases makes the same district: the same people at the
    // same flats, the same bookings of the same weeks, the same attendance.
    let fresh = linli_tests::test_args(&linli_tests::unique_name());
    let second: Seeded = linli::district::seed(&fresh.database, data, &district(), today)
        .await
        .expect("seeded into fresh databases");
    assert_eq!(second, first, "the same counts");
    let connect =
        |service: &str| PgPool::connect_with(fresh.database.options_for(service).expect("options"));
    let (registry2, bookings2) = (
        connect("registry").await.expect("registry"),
        connect("bookings").await.expect("bookings"),
    );
    let people = register(&registry, &ids).await;
    assert_eq!(people.len(), 120);
    assert_eq!(register(&registry2, &ids).await, people, "the same people");
    let lectures: i64 =
        sqlx::query_scalar("SELECT count(*) FROM sessions WHERE centre_id = ANY($1)")
            .bind(&ids)
            .fetch_one(&bookings)
            .await
            .expect("sessions");
    assert_eq!(lectures, 3 * 52, "a lecture a week for a year");
    let booked = weeks(&bookings, &ids).await;
    assert_eq!(
        booked.len(),
        3 * 40,
        "each centre's 40 residents on 40 weeks"
    );
    assert_eq!(weeks(&bookings2, &ids).await, booked, "the same weeks");
    registry2.close().await;
    bookings2.close().await;
    linli_tests::cleanup(&fresh).await;

    // The platform starts on the seeded databases and delivers what the seeding wrote.
    let platform = TestPlatform::start_with(|serve| {
        serve.database.database_prefix = args.database.database_prefix.clone();
    })
    .await;

    // Found by the registry's own name search: pinyin and initials.
    let (centre, name) = people
        .iter()
        .find(|(_, name, _, _)| pinyin(name).is_some())
        .map(|(centre, name, _, _)| (*centre, name.clone()))
        .expect("a resident whose name the test can spell");
    let (full, initials) = pinyin(&name).expect("spelt");
    let token = platform.token(&[Role::CentreManager], &[centre]);
    for query in [name.clone(), full, initials] {
        let (status, page) = platform
            .get_json(
                &token,
                &format!("/v1/centres/{centre}/residents?page_size=200&q={query}"),
            )
            .await;
        assert!(status.is_success(), "{query}: {status} {page}");
        assert!(
            page["residents"]
                .as_array()
                .is_some_and(|all| all.iter().any(|r| r["name"] == name.as_str())),
            "{name} is found by {query}: {page}"
        );
    }

    // The centre's KPIs count its residents and the residents who attended in the year,
    // from the events the registry and the bookings store wrote.
    let year = (today - chrono::Duration::days(60)).year();
    let attended: i64 = sqlx::query_scalar(
        "SELECT count(DISTINCT b.resident_id) FROM seats x
         JOIN bookings b ON b.id = x.booking_id JOIN sessions s ON s.id = x.session_id
         WHERE b.centre_id = $1 AND x.state = 'attended'
           AND s.starts_at >= make_timestamptz($2, 1, 1, 0, 0, 0, 'Asia/Shanghai')
           AND s.starts_at < make_timestamptz($2 + 1, 1, 1, 0, 0, 0, 'Asia/Shanghai')",
    )
    .bind(centre)
    .bind(year)
    .fetch_one(&bookings)
    .await
    .expect("attended");
    assert!(attended > 0, "some attended in {year}");
    let kpis = poll(
        "the seeded check-ins in the centre's KPIs",
        Duration::from_secs(60),
        || {
            let (platform, token) = (&platform, &token);
            async move {
                let (status, kpis) = platform
                    .get_json(token, &format!("/v1/centres/{centre}/kpis?period={year}"))
                    .await;
                let participation = kpis["kpis"]
                    .as_array()?
                    .iter()
                    .find(|k| k["name"] == "participation")?
                    .clone();
                (status.is_success()
                    && number(&kpis["registered_residents"]) == 40
                    && number(&participation["numerator"]) == attended)
                    .then_some(kpis)
            }
        },
    )
    .await;
    assert_eq!(number(&kpis["registered_residents"]), 40);

    for pool in [registry, bookings, volunteers, finance] {
        pool.close().await;
    }
    platform.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_district_seeded_in_some_phases_holds_only_what_they_make() {
    let args = linli_tests::test_args(&linli_tests::unique_name());
    let today = linli::district::today();
    let district = District {
        centres: 2,
        residents: 10,
        phases: vec![
            linli::district::SeedPhase::Residents,
            linli::district::SeedPhase::Books,
        ],
        ..district()
    };
    let seeded = linli::district::seed(&args.database, &args.data, &district, today)
        .await
        .expect("seeded");
    assert_eq!(seeded.residents, 20, "10 residents at each of 2 centres");
    assert_eq!(seeded.households, 0, "no households phase");
    assert_eq!(seeded.bookings, 0, "no bookings phase");

    let connect =
        |service: &str| PgPool::connect_with(args.database.options_for(service).expect("options"));
    let (volunteers, finance, evaluation) = (
        connect("volunteers").await.expect("volunteers"),
        connect("finance").await.expect("finance"),
        connect("evaluation").await.expect("evaluation"),
    );
    let count = async |pool: &PgPool, sql: &'static str| -> i64 {
        sqlx::query_scalar(sql)
            .bind(&seeded.centres)
            .fetch_one(pool)
            .await
            .expect(sql)
    };
    assert_eq!(
        count(
            &volunteers,
            "SELECT count(*) FROM volunteers WHERE centre_id = ANY($1)"
        )
        .await,
        0,
        "no volunteers phase"
    );
    assert!(
        count(
            &finance,
            "SELECT count(*) FROM journal_entries WHERE centre_id = ANY($1)"
        )
        .await
            >= 2 * 12,
        "the books phase ran"
    );
    // The centres are told to every service; their residents are not (no directories).
    assert_eq!(
        count(
            &evaluation,
            "SELECT count(*) FROM directory.centres WHERE id = ANY($1)"
        )
        .await,
        2
    );
    assert_eq!(
        count(
            &evaluation,
            "SELECT count(*) FROM directory.residents WHERE centre_id = ANY($1)"
        )
        .await,
        0
    );
}
