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

use crate::domain::import::{
    Encoding, ImportedRow, ParsedRow, RowError, next_rows, open_sheet, text_reader,
};
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
    import_parts(pool, vault, centre_id, file, None, encoding, mapping, today).await
}

/// A file that arrives in parts (a client-streaming call), read as [`Read`] on the
/// import's reading thread. At most [`Incoming::HELD`] parts wait to be read, so a sender
/// faster than the import waits for it.
pub struct Incoming {
    parts: tokio::sync::mpsc::Receiver<Vec<u8>>,
    part: std::io::Cursor<Vec<u8>>,
}

/// Where the parts of an [`Incoming`] file are sent; [`IncomingSender::cut_short`] when
/// the sender will not send the rest (the call was cancelled or broke).
pub struct IncomingSender {
    parts: tokio::sync::mpsc::Sender<Vec<u8>>,
    cut_short: std::sync::Arc<std::sync::atomic::AtomicBool>,
}

impl Incoming {
    pub const HELD: usize = 4;

    /// A file to be sent in parts, the sender, and the flag [`import_parts`] watches.
    pub fn channel() -> (
        IncomingSender,
        Incoming,
        std::sync::Arc<std::sync::atomic::AtomicBool>,
    ) {
        let (tx, rx) = tokio::sync::mpsc::channel(Self::HELD);
        let cut_short = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        (
            IncomingSender {
                parts: tx,
                cut_short: cut_short.clone(),
            },
            Incoming {
                parts: rx,
                part: std::io::Cursor::new(Vec::new()),
            },
            cut_short,
        )
    }
}

impl IncomingSender {
    /// Sends the file's next bytes; false when the import no longer reads them.
    pub async fn send(&self, bytes: Vec<u8>) -> bool {
        self.parts.send(bytes).await.is_ok()
    }

    /// Marks the file as cut short, before the reader can see its end: the import writes
    /// nothing it reads from then on (a row cut in two must not pass for a whole one).
    pub fn cut_short(self) {
        self.cut_short
            .store(true, std::sync::atomic::Ordering::SeqCst);
    }
}

impl Read for Incoming {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        loop {
            let n = self.part.read(buf)?;
            if n > 0 || buf.is_empty() {
                return Ok(n);
            }
            match self.parts.blocking_recv() {
                Some(part) => self.part = std::io::Cursor::new(part),
                None => return Ok(0),
            }
        }
    }
}

/// [`import`] of a file that may be cut short: once `cut_short` is set, nothing read
/// after is written and the import answers an error (the rows written before stay, as
/// after a crash; importing the file again adds only the rest).
#[allow(clippy::too_many_arguments)]
pub async fn import_parts(
    pool: &PgPool,
    vault: &Vault,
    centre_id: Uuid,
    file: impl Read + Send + 'static,
    cut_short: Option<std::sync::Arc<std::sync::atomic::AtomicBool>>,
    encoding: &str,
    mapping: &[(String, String)],
    today: NaiveDate,
) -> Result<ImportReport, Error> {
    let is_cut_short = move || {
        cut_short
            .as_ref()
            .is_some_and(|flag| flag.load(std::sync::atomic::Ordering::SeqCst))
    };
    let encoding =
        Encoding::parse(encoding).map_err(|reason| Violations::one("encoding", reason))?;
    // The file's first bytes are read on a thread of their own, as the rest: a file that
    // arrives in parts waits for them.
    let text = tokio::task::spawn_blocking(move || text_reader(file, encoding))
        .await
        .map_err(|error| std::panic::resume_unwind(error.into_panic()))
        .and_then(|text| text)
        .map_err(|error| {
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
    let (owned_mapping, centre) = (mapping.to_vec(), centre_id.to_string());
    let mut sheet =
        tokio::task::spawn_blocking(move || open_sheet(text, &owned_mapping, &centre, today))
            .await
            .unwrap_or_else(|error| std::panic::resume_unwind(error.into_panic()))?;
    if is_cut_short() {
        return Err(cut_short_error());
    }
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
        // Read after the file was cut short: possibly a row cut in two.
        if is_cut_short() {
            return Err(cut_short_error());
        }
        report.rows += part.len() as u32;
        let mut good = Vec::with_capacity(part.len());
        for (row, result) in part {
            match result {
                Ok(resident) => good.push((row, resident)),
                Err(errors) => report.errors.extend(errors),
            }
        }
        // Rows of one part that are probably the same person as an earlier row of it wait
        // for a later round, whose check then sees the earlier row in the table (one
        // statement cannot see the rows it adds itself).
        let mut pending = good;
        while !pending.is_empty() {
            let (now, later) = first_of_each_person(pending);
            store::import_residents(pool, vault, &now, today, &mut outcome).await?;
            pending = later;
        }
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
    if is_cut_short() {
        return Err(cut_short_error());
    }
    if outcome.imported > imported_then {
        store::analyze_after_import(pool).await?;
    }
    report.imported = outcome.imported;
    report.already_registered = outcome.already_registered;
    // A row that waited for an earlier one is reported after the rows that did not.
    report.already_registered.sort_unstable();
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

/// Good rows by their row numbers.
type Rows = Vec<(u32, ImportedRow)>;

/// `rows` split into those no earlier row of `rows` describes as the same person (as
/// `same_person!` in store.rs decides: the same centre, name, date of birth and phone, or
/// neither has a phone, unless both carry a national ID), in their order, and the rest.
fn first_of_each_person(rows: Rows) -> (Rows, Rows) {
    /// Whether a row of the person was taken, and one without a national ID.
    #[derive(Default)]
    struct Taken {
        any: bool,
        without_national_id: bool,
    }
    let mut taken: std::collections::HashMap<(Uuid, String, NaiveDate, Option<String>), Taken> =
        std::collections::HashMap::with_capacity(rows.len());
    let (mut now, mut later) = (Vec::with_capacity(rows.len()), Vec::new());
    for (row, imported) in rows {
        let resident = &imported.resident;
        // Phones compare as their blind indexes do: the same number, the same index.
        let person = taken
            .entry((
                resident.centre_id,
                resident.name.as_str().to_owned(),
                resident.date_of_birth.date(),
                resident.phone.as_ref().map(|p| p.expose().to_owned()),
            ))
            .or_default();
        let has_national_id = resident.national_id.is_some();
        let same = if has_national_id {
            person.without_national_id
        } else {
            person.any
        };
        if same {
            later.push((row, imported));
        } else {
            person.any = true;
            person.without_national_id |= !has_national_id;
            now.push((row, imported));
        }
    }
    (now, later)
}

/// The answer to an import whose file stopped before its end.
fn cut_short_error() -> Error {
    Violations::one(
        "file",
        // The rows before were imported; importing the file again adds only the rest.
        Reason::new(
            "request.too_large",
            "the request is too large or was not received whole",
        ),
    )
    .into()
}
