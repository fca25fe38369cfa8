//! `linli seed demo`: a demo district in every service's database (three centres, a few
//! hundred residents, a week of bookings, a workforce, books and surveys), and the
//! console accounts to look at it with. Each service seeds its own part (its `seed`
//! module); this puts them in order and tells every directory of the district first, as
//! the registry's events would once the platform runs.

use anyhow::Context as _;
use chrono::Duration;
use linli_platform::bus::BusArgs;
use linli_platform::crypto::{PersonalDataArgs, Vault};
use linli_platform::db::DatabaseArgs;
use uuid::Uuid;

use crate::Role;

/// Migrates every role, seeds the demo district and prints what it made.
pub async fn demo(
    database: &DatabaseArgs,
    bus: &BusArgs,
    data: &PersonalDataArgs,
) -> anyhow::Result<()> {
    crate::migrate(Role::All, database, bus).await?;
    let pool =
        linli_platform::db::connect(database, linli_registry::SERVICE, &linli_registry::MIGRATOR)
            .await?;
    let vault = Vault::new(data)?;
    let today = (chrono::Utc::now() + Duration::hours(8)).date_naive();
    let centres = linli_registry::seed::demo(&pool, &vault, today)
        .await
        .context("seeding the demo district")?;
    let facts = linli_registry::seed::demo_facts(&pool, today).await?;
    linli_registry::seed::demo_accounts(&pool)
        .await
        .context("seeding the demo console accounts")?;
    pool.close().await;
    // Every service's directory learns the district now, as the registry's events
    // will tell it once the platform runs.
    let announced: Vec<linli_platform::directory::Centre> = centres
        .iter()
        .map(|(centre, _)| {
            Ok(linli_platform::directory::Centre {
                id: centre.id,
                code: centre.code.clone(),
                name: centre.name.clone(),
                time_zone: linli_platform::directory::parse_zone(&centre.time_zone)
                    .context("a demo centre's time zone")?,
            })
        })
        .collect::<anyhow::Result<_>>()?;
    for (service, migrator) in [
        (linli_bookings::SERVICE, &linli_bookings::MIGRATOR),
        (linli_volunteers::SERVICE, &linli_volunteers::MIGRATOR),
        (linli_finance::SERVICE, &linli_finance::MIGRATOR),
        (linli_evaluation::SERVICE, &linli_evaluation::MIGRATOR),
    ] {
        let pool = linli_platform::db::connect(database, service, migrator).await?;
        linli_platform::directory::record_announced(&pool, &announced, &facts)
            .await
            .with_context(|| format!("filling the {service} directory"))?;
        pool.close().await;
    }
    let bookings =
        linli_platform::db::connect(database, linli_bookings::SERVICE, &linli_bookings::MIGRATOR)
            .await?;
    let demo_centres: Vec<linli_bookings::seed::DemoCentre> = centres
        .iter()
        .map(|(centre, _)| linli_bookings::seed::DemoCentre { id: centre.id })
        .collect();
    let booked = linli_bookings::seed::demo(&bookings, &demo_centres, &facts, today)
        .await
        .context("seeding the demo week of bookings")?;
    bookings.close().await;
    let volunteers = linli_platform::db::connect(
        database,
        linli_volunteers::SERVICE,
        &linli_volunteers::MIGRATOR,
    )
    .await?;
    let ids: Vec<Uuid> = centres.iter().map(|(centre, _)| centre.id).collect();
    let enlisted = linli_volunteers::seed::demo(&volunteers, &ids, &facts, today)
        .await
        .context("seeding the demo workforce")?;
    volunteers.close().await;
    println!("Demo district ready:");
    for (centre, residents) in &centres {
        let bookings = booked
            .iter()
            .find(|(id, _)| *id == centre.id)
            .map_or(0, |(_, n)| *n);
        println!(
            "  {}  {:<10} {}  ({residents} residents, {bookings} bookings)",
            centre.id, centre.code, centre.name
        );
    }
    let finance =
        linli_platform::db::connect(database, linli_finance::SERVICE, &linli_finance::MIGRATOR)
            .await?;
    for books in linli_finance::seed::demo(&finance, &vault, &ids, today)
        .await
        .context("seeding the demo books")?
    {
        println!(
            "  {}  books: {} entries, {} donations",
            books.centre, books.entries, books.donations
        );
    }
    for (centre, active, staff) in enlisted {
        println!("  {centre}  {active} active volunteers, {staff} staff");
    }
    let evaluation = linli_platform::db::connect(
        database,
        linli_evaluation::SERVICE,
        &linli_evaluation::MIGRATOR,
    )
    .await?;
    let people: Vec<(Uuid, Uuid)> = facts
        .iter()
        .filter_map(|f| Some((f.resident_id.parse().ok()?, f.centre_id.parse().ok()?)))
        .collect();
    let surveyed = linli_evaluation::seed::demo(&evaluation, &ids, &people, today)
        .await
        .context("seeding the demo surveys")?;
    evaluation.close().await;
    for (centre, answered) in surveyed {
        println!("  {centre}  {answered} answered surveys");
    }
    println!(
        "Console http://127.0.0.1:8080/ accounts (password {}):",
        linli_registry::seed::DEMO_PASSWORD
    );
    for (username, name, role, centre) in linli_registry::seed::DEMO_ACCOUNTS {
        println!("  {username:<20} {role:<16} {centre:<8} {name}");
    }
    Ok(())
}
