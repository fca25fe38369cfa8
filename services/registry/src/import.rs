//! A spreadsheet import from start to end, shared by `linli import residents` and the
//! `ImportResidents` call: decode, map columns, parse every row, register the good ones.

use chrono::NaiveDate;
use linli_platform::crypto::Vault;
use linli_platform::error::Violations;
use sqlx::PgPool;
use uuid::Uuid;

use crate::domain::import::{Encoding, RowError, decode, parse_rows};
use crate::error::Error;
use crate::store;

/// What happened to every row of a sheet.
#[derive(Debug, Default)]
pub struct ImportReport {
    pub rows: u32,
    pub imported: u32,
    pub already_registered: Vec<u32>,
    pub errors: Vec<RowError>,
}

pub async fn import(
    pool: &PgPool,
    vault: &Vault,
    centre_id: Uuid,
    file: &[u8],
    encoding: &str,
    mapping: &[(String, String)],
    today: NaiveDate,
) -> Result<ImportReport, Error> {
    let encoding =
        Encoding::parse(encoding).map_err(|reason| Violations::one("encoding", reason))?;
    let text = decode(file, encoding).map_err(|reason| Violations::one("file", reason))?;
    if !store::centre_exists(pool, centre_id).await? {
        return Err(Violations::one(
            "centre_id",
            linli_platform::error::Reason::new("not_found", "no centre has this id")
                .with("what", "centre"),
        )
        .into());
    }
    let parsed = parse_rows(&text, mapping, &centre_id.to_string(), today)?;
    let mut report = ImportReport {
        rows: parsed.len() as u32,
        ..Default::default()
    };
    let mut good = Vec::with_capacity(parsed.len());
    for (row, result) in parsed {
        match result {
            Ok(resident) => good.push((row, resident)),
            Err(errors) => report.errors.extend(errors),
        }
    }
    let outcome = store::import_residents(pool, vault, &good, today).await?;
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
