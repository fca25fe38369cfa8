//! `linli import residents`: a centre's spreadsheet of residents into the registry, with
//! a line for every refused row. The rules are the registry's (`linli_registry::import`),
//! the same as the console's upload.

use std::path::Path;

use anyhow::Context as _;
use chrono::Duration;
use linli_platform::crypto::{PersonalDataArgs, Vault};
use linli_platform::db::DatabaseArgs;
use uuid::Uuid;

/// Imports `file` (UTF-8 or GBK, or `auto`) at `centre` and prints the report.
pub async fn residents(
    file: &Path,
    centre: Uuid,
    encoding: &str,
    mapping: &[(String, String)],
    database: &DatabaseArgs,
    data: &PersonalDataArgs,
) -> anyhow::Result<()> {
    // Read as the import goes, never whole: memory stays flat with the file's size.
    let file = std::fs::File::open(file).with_context(|| format!("opening {}", file.display()))?;
    let pool =
        linli_platform::db::connect(database, linli_registry::SERVICE, &linli_registry::MIGRATOR)
            .await?;
    let today = (chrono::Utc::now() + Duration::hours(8)).date_naive();
    let started = std::time::Instant::now();
    let report = linli_registry::import::import(
        &pool,
        &Vault::new(data)?,
        centre,
        std::io::BufReader::with_capacity(256 * 1024, file),
        encoding,
        mapping,
        today,
    )
    .await
    .map_err(|error| anyhow::anyhow!("{error}"))?;
    let elapsed = started.elapsed().as_secs_f64();
    println!(
        "{} rows: {} imported, {} already registered, {} refused ({elapsed:.1} s, {:.0} rows/s)",
        report.rows,
        report.imported,
        report.already_registered.len(),
        report.errors.len(),
        f64::from(report.rows) / elapsed.max(1e-9),
    );
    for error in &report.errors {
        println!("  row {}: {}: {}", error.row, error.field, error.reason);
    }
    Ok(())
}
