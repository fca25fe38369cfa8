//! A spreadsheet import from start to end, shared by `linli import residents` and the
//! `ImportResidents` call: decode, map columns, parse every row, register the good ones.
//! The sheet is read as it comes, a part at a time, on a thread of its own while the
//! previous part is written, so memory stays flat with the file's size (only the report
//! grows, by the rows it names).

use std::io::Read;

use chrono::NaiveDate;
use linli_platform::crypto::Vault;
use linli_platform::error::Violations;
use sqlx::PgPool;
use uuid::Uuid;

use crate::domain::import::{Encoding, ParsedRow, RowError, next_rows, open_sheet, text_reader};
use crate::error::Error;
use crate::store;
use linli_platform::error::Reason;

/// What happened to every row of a sheet.
#[derive(Debug, Default)]
pub struct ImportReport {
    pub rows: u32,
    pub imported: u32,
    pub already_registered: Vec<u32>,
    pub errors: Vec<RowError>,
}

/// Rows parsed ahead of the writes: enough to keep a transaction's worth ready.
const PART: usize = 2000;

/// Imports `file` at `centre_id`, reporting every row.
pub async fn import(
    pool: &PgPool,
    vault: &Vault,
    centre_id: Uuid,
    file: impl Read + Send + 'static,
    encoding: &str,
    mapping: &[(String, String)],
    today: NaiveDate,
) -> Result<ImportReport, Error> {
    let encoding =
        Encoding::parse(encoding).map_err(|reason| Violations::one("encoding", reason))?;
    let text = text_reader(file, encoding).map_err(|error| {
        Violations::one(
            "file",
            Reason::new("import.unreadable", format!("could not be read: {error}")),
        )
    })?;
    if !store::centre_exists(pool, centre_id).await? {
        return Err(Violations::one(
            "centre_id",
            linli_platform::error::Reason::new("not_found", "no centre has this id")
                .with("what", "centre"),
        )
        .into());
    }
    let mut sheet = open_sheet(text, mapping, &centre_id.to_string(), today)?;
    let (parts, mut parsed) = tokio::sync::mpsc::channel::<Vec<ParsedRow>>(2);
    let reader = tokio::task::spawn_blocking(move || {
        loop {
            let part = next_rows(&mut sheet, PART);
            if part.is_empty() || parts.blocking_send(part).is_err() {
                return;
            }
        }
    });
    let mut report = ImportReport::default();
    let mut outcome = store::ImportOutcome::default();
    // The statistics are refreshed whenever the import has doubled the residents they
    // counted, and at the end, so the import's own lookups keep their indexes.
    let mut analyzed = store::residents_as_analyzed(pool).await?;
    let mut imported_then = 0;
    while let Some(part) = parsed.recv().await {
        report.rows += part.len() as u32;
        let mut good = Vec::with_capacity(part.len());
        for (row, result) in part {
            match result {
                Ok(resident) => good.push((row, resident)),
                Err(errors) => report.errors.extend(errors),
            }
        }
        store::import_residents(pool, vault, &good, today, &mut outcome).await?;
        if f64::from(outcome.imported - imported_then) >= analyzed.max(20_000.0) {
            store::analyze_after_import(pool).await?;
            analyzed = store::residents_as_analyzed(pool).await?;
            imported_then = outcome.imported;
        }
    }
    // A reader that panicked must not pass for a sheet read to its end.
    if let Err(error) = reader.await
        && error.is_panic()
    {
        std::panic::resume_unwind(error.into_panic());
    }
    if outcome.imported > imported_then {
        store::analyze_after_import(pool).await?;
    }
    report.imported = outcome.imported;
    report.already_registered = outcome.already_registered;
    report
        .errors
        .extend(outcome.second_heads.into_iter().map(|row| {
            RowError::new(
                row,
                "relationship",
                linli_platform::error::Reason::new(
                    "import.row.second_head",
                    "the household at this address has a head already",
                ),
            )
        }));
    report.errors.sort_by_key(|error| error.row);
    tracing::info!(
        %centre_id,
        rows = report.rows,
        imported = report.imported,
        already_registered = report.already_registered.len(),
        refused = report.errors.len(),
        "residents imported"
    );
    Ok(report)
}
