//! Bulk registration from the spreadsheets centres already keep: a CSV export in UTF-8 or
//! GBK (what Chinese Excel writes), a mapping from the sheet's column headings to the
//! registry's fields, and every row parsed like a front-desk registration, so each bad row
//! is reported by number, field and reason while the good rows go in.

use std::io::Read;

use chrono::NaiveDate;
use linli_platform::error::{Reason, Violations};

use super::household::Relationship;
use super::{NewResident, ResidentForm};

/// The text encodings an import accepts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Encoding {
    Utf8,
    Gbk,
    /// UTF-8 when the bytes are valid UTF-8, GBK otherwise.
    Auto,
}

impl Encoding {
    pub fn parse(text: &str) -> Result<Encoding, Reason> {
        match text.trim().to_ascii_lowercase().as_str() {
            "" | "auto" => Ok(Encoding::Auto),
            "utf-8" | "utf8" => Ok(Encoding::Utf8),
            "gbk" | "gb18030" | "gb2312" => Ok(Encoding::Gbk),
            _ => Err(Reason::new(
                "import.encoding",
                "must be `utf-8`, `gbk` or `auto`",
            )),
        }
    }
}

/// The file as text, whole (the import reads it as it comes: [`text_reader`]).
#[cfg(test)]
pub fn decode(bytes: &[u8], encoding: Encoding) -> Result<String, Reason> {
    let utf8 = || {
        let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
        std::str::from_utf8(bytes).map(str::to_owned)
    };
    let gbk = || {
        let (text, _, malformed) = encoding_rs::GB18030.decode(bytes);
        if malformed {
            Err(Reason::new("import.unreadable", "is not valid GBK text"))
        } else {
            Ok(text.into_owned())
        }
    };
    match encoding {
        Encoding::Utf8 => {
            utf8().map_err(|_| Reason::new("import.unreadable", "is not valid UTF-8 text"))
        }
        Encoding::Gbk => gbk(),
        Encoding::Auto => utf8().or_else(|_| gbk()),
    }
}

/// Reads `file` as UTF-8 text as it comes, in bounded memory. `Auto` decides by the first
/// 64 KiB (GBK text is not valid UTF-8 beyond a few bytes, and a sheet's heading row is in
/// them). A UTF-8 byte order mark is dropped. Bytes that are not valid text in the
/// encoding reach the sheet as invalid UTF-8, so the row holding them is refused
/// (`is not valid CSV: invalid utf-8`) while the other rows go in; a heading row of such
/// bytes refuses the file.
pub fn text_reader<R: Read + Send + 'static>(
    mut file: R,
    encoding: Encoding,
) -> std::io::Result<Box<dyn Read + Send>> {
    const SNIFF: u64 = 64 * 1024;
    let mut head = Vec::new();
    (&mut file).take(SNIFF).read_to_end(&mut head)?;
    let is_utf8 = match encoding {
        Encoding::Utf8 => true,
        Encoding::Gbk => false,
        Encoding::Auto => match std::str::from_utf8(&head) {
            Ok(_) => true,
            // Cut short inside a character at the end of the 64 KiB: still UTF-8.
            Err(e) => e.error_len().is_none() && head.len() as u64 == SNIFF,
        },
    };
    if is_utf8 {
        let start = if head.starts_with(b"\xEF\xBB\xBF") {
            3
        } else {
            0
        };
        head.drain(..start);
        Ok(Box::new(std::io::Cursor::new(head).chain(file)))
    } else {
        Ok(Box::new(GbkReader {
            file: std::io::Cursor::new(head).chain(file),
            decoder: encoding_rs::GB18030.new_decoder_without_bom_handling(),
            input: vec![0; 16 * 1024],
            input_range: (0, 0),
            end_of_file: false,
            output: Vec::with_capacity(32 * 1024),
            output_start: 0,
        }))
    }
}

/// GBK (GB18030) bytes as UTF-8, decoded a buffer at a time.
struct GbkReader<R> {
    file: R,
    decoder: encoding_rs::Decoder,
    input: Vec<u8>,
    input_range: (usize, usize),
    end_of_file: bool,
    output: Vec<u8>,
    output_start: usize,
}

impl<R: Read> Read for GbkReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        use encoding_rs::DecoderResult;
        loop {
            if self.output_start < self.output.len() {
                let n = buf.len().min(self.output.len() - self.output_start);
                buf[..n].copy_from_slice(&self.output[self.output_start..self.output_start + n]);
                self.output_start += n;
                return Ok(n);
            }
            let (start, end) = self.input_range;
            if start == end {
                if self.end_of_file {
                    return Ok(0);
                }
                let n = self.file.read(&mut self.input)?;
                self.input_range = (0, n);
                self.end_of_file = n == 0;
            }
            let (start, end) = self.input_range;
            self.output.clear();
            self.output.resize(self.output.capacity(), 0);
            let (result, read, written) = self.decoder.decode_to_utf8_without_replacement(
                &self.input[start..end],
                &mut self.output,
                self.end_of_file,
            );
            self.output.truncate(written);
            self.output_start = 0;
            self.input_range = (start + read, end);
            if let DecoderResult::Malformed(..) = result {
                // Not GBK: invalid UTF-8 in its place, which refuses the row.
                self.output.push(0xFF);
            }
            if self.end_of_file && self.output.is_empty() && start + read == end {
                return Ok(0);
            }
        }
    }
}

/// The registry fields an import fills, and the headings a sheet commonly uses for each.
const FIELDS: [(&str, &[&str]); FIELD_COUNT] = [
    ("name", &["姓名", "name"]),
    ("gender", &["性别", "gender"]),
    (
        "date_of_birth",
        &["出生日期", "出生年月日", "date_of_birth"],
    ),
    ("phone", &["手机", "手机号", "联系电话", "电话", "phone"]),
    (
        "national_id",
        &["身份证号", "身份证号码", "公民身份号码", "national_id"],
    ),
    ("building", &["楼栋", "楼号", "楼", "栋", "building"]),
    ("unit", &["单元", "单元号", "unit"]),
    ("room", &["房号", "室", "房间号", "门牌号", "room"]),
    (
        "categories",
        &[
            "类别",
            "人群类别",
            "人员类别",
            "人群分类",
            "特殊群体",
            "categories",
        ],
    ),
    ("skills", &["技能", "特长", "skills"]),
    ("professions", &["职业", "professions"]),
    ("hobbies", &["爱好", "兴趣爱好", "hobbies"]),
    ("relationship", &["与户主关系", "户主关系", "relationship"]),
];
const FIELD_COUNT: usize = 13;

/// The column of each field, in the order of [`FIELDS`].
type Columns = [Option<usize>; FIELD_COUNT];

/// The words sheets use for the recorded categories.
const CATEGORY_WORDS: [(&str, &[&str]); 3] = [
    ("disability", &["残疾", "残疾人", "残障"]),
    ("low_income", &["低保", "低保户", "低收入", "困难"]),
    ("living_alone", &["独居", "独居老人", "空巢"]),
];

/// One cell's list: items separated by 、 ， , ； ; / or spaces.
fn items(cell: Option<&str>) -> Vec<&str> {
    cell.unwrap_or_default()
        .split(['、', '，', ',', '；', ';', '/', ' ', '\u{3000}'])
        .map(str::trim)
        .filter(|item| !item.is_empty())
        .collect()
}

/// A category as the registry names it, from its code or a sheet's word for it; `None`
/// for a word the registry does not record (the row is refused with
/// `import.row.category`, naming the word).
fn category(word: &str) -> Option<String> {
    CATEGORY_WORDS
        .iter()
        .find(|(code, words)| *code == word || words.contains(&word))
        .map(|(code, _)| (*code).to_owned())
}

/// A good row: the resident, and their relationship to the head of the household at
/// their address when the sheet gives one.
#[derive(Debug)]
pub struct ImportedRow {
    pub resident: NewResident,
    pub relationship: Option<Relationship>,
}

/// Which column holds which field. `explicit` pairs (`field=heading`) override the
/// common headings.
pub fn column_mapping(
    headings: &[String],
    explicit: &[(String, String)],
) -> Result<Columns, Violations> {
    let mut violations = Violations::default();
    let mut columns = [None; FIELD_COUNT];
    for (field, _) in explicit {
        if !FIELDS.iter().any(|(known, _)| known == field) {
            violations.push(
                "mapping",
                Reason::new(
                    "import.mapping.unknown_field",
                    format!("`{field}` is not an importable field"),
                )
                .with("field", field),
            );
        }
    }
    for (slot, (field, common)) in columns.iter_mut().zip(FIELDS) {
        let wanted: Vec<&str> = match explicit.iter().find(|(f, _)| f == field) {
            Some((_, heading)) => vec![heading.as_str()],
            None => common.to_vec(),
        };
        *slot = headings.iter().position(|h| wanted.contains(&h.trim()));
        if slot.is_none() && explicit.iter().any(|(f, _)| f == field) {
            violations.push(
                "mapping",
                Reason::new(
                    "import.mapping.no_column",
                    format!("no column is headed `{}`", wanted[0]),
                )
                .with("column", wanted[0]),
            );
        }
    }
    for (slot, field) in columns.iter().zip(["name", "gender", "date_of_birth"]) {
        if slot.is_none() && violations.is_empty() {
            violations.push(
                "mapping",
                Reason::new(
                    "import.mapping.required",
                    format!("no column for `{field}`; map one with {field}=<heading>"),
                )
                .with("field", field),
            );
        }
    }
    violations.into_result(|| columns)
}

/// One row's problem: 1-based data row number (the heading row is row 1), field, and why:
/// the English words, the code and its parameters (a row's field refusals are the
/// registration's own, `national_id.check_character` …; the import's are `import.row.*`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RowError {
    pub row: u32,
    pub field: String,
    pub reason: String,
    pub code: String,
    pub params: std::collections::BTreeMap<String, String>,
}

impl RowError {
    pub fn new(row: u32, field: impl Into<String>, reason: impl Into<Reason>) -> Self {
        let reason = reason.into();
        RowError {
            row,
            field: field.into(),
            reason: reason.english,
            code: reason.code.into_owned(),
            params: reason.params,
        }
    }
}

/// One data row's line number and its registration, or what is wrong with it.
pub type ParsedRow = (u32, Result<ImportedRow, Vec<RowError>>);

/// Every data row of `text`: a registration, or what is wrong with it.
#[cfg(test)]
pub fn parse_rows(
    text: &str,
    explicit: &[(String, String)],
    centre_id: &str,
    today: NaiveDate,
) -> Result<Vec<ParsedRow>, Violations> {
    let mut sheet = open_sheet(text.as_bytes(), explicit, centre_id, today)?;
    Ok(next_rows(&mut sheet, usize::MAX))
}

/// A sheet being read: its columns found, its rows read as they are asked for.
pub struct Sheet<R> {
    reader: csv::Reader<R>,
    columns: Columns,
    centre_id: String,
    today: NaiveDate,
    /// Records read so far, blank ones included (row numbers count them).
    read: u32,
}

/// Reads the heading row of `text` (UTF-8, see [`text_reader`]) and maps its columns.
pub fn open_sheet<R: Read>(
    text: R,
    explicit: &[(String, String)],
    centre_id: &str,
    today: NaiveDate,
) -> Result<Sheet<R>, Violations> {
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(text);
    let headings: Vec<String> = reader
        .headers()
        .map_err(|e| {
            Violations::one(
                "file",
                Reason::new(
                    "import.no_heading",
                    format!("has no readable heading row: {e}"),
                ),
            )
        })?
        .iter()
        .map(str::to_owned)
        .collect();
    let columns = column_mapping(&headings, explicit)?;
    Ok(Sheet {
        reader,
        columns,
        centre_id: centre_id.to_owned(),
        today,
        read: 0,
    })
}

/// Up to `max` more data rows of `sheet`, each a registration or what is wrong with it;
/// none when the sheet is read to its end. Blank rows are passed over and not counted, so
/// however many follow each other they never look like the end.
pub fn next_rows<R: Read>(sheet: &mut Sheet<R>, max: usize) -> Vec<ParsedRow> {
    let (columns, centre_id, today) = (sheet.columns, sheet.centre_id.as_str(), sheet.today);
    let mut rows = Vec::new();
    let mut records = sheet.reader.records();
    while rows.len() < max {
        let Some(record) = records.next() else {
            break;
        };
        let index = sheet.read;
        sheet.read = index + 1;
        let row = index + 2;
        let record = match record {
            Ok(record) => record,
            Err(e) => {
                rows.push((
                    row,
                    Err(vec![RowError::new(
                        row,
                        "row",
                        Reason::new("import.row.csv", format!("is not valid CSV: {e}")),
                    )]),
                ));
                continue;
            }
        };
        if record.iter().all(str::is_empty) {
            continue;
        }
        let cell = |i: usize| {
            columns[i]
                .and_then(|c| record.get(c))
                .filter(|v| !v.is_empty())
        };
        let gender = cell(1).map(|g| match g {
            "男" => "male",
            "女" => "female",
            other => other,
        });
        let date_of_birth = cell(2).map(normalise_date).unwrap_or_default();
        let mut errors: Vec<RowError> = Vec::new();
        let mut categories: Vec<String> = Vec::new();
        for word in items(cell(8)) {
            match category(word) {
                Some(code) => categories.push(code),
                None => errors.push(RowError::new(
                    row,
                    "categories",
                    Reason::new(
                        "import.row.category",
                        format!("`{word}` is not a category the registry records"),
                    )
                    .with("word", word),
                )),
            }
        }
        let skills: Vec<(String, String)> = [(9, "skill"), (10, "profession"), (11, "hobby")]
            .into_iter()
            .flat_map(|(column, kind)| {
                items(cell(column))
                    .into_iter()
                    .map(move |name| (kind.to_owned(), name.to_owned()))
            })
            .collect();
        let form = ResidentForm {
            centre_id,
            name: cell(0).unwrap_or_default(),
            gender,
            date_of_birth: &date_of_birth,
            phone: cell(3),
            national_id: cell(4),
            building: cell(5).unwrap_or_default(),
            unit: cell(6).unwrap_or_default(),
            room: cell(7).unwrap_or_default(),
            categories: &categories,
            skills: &skills,
            ..Default::default()
        };
        let resident = NewResident::parse(&form, today).map_err(|violations| {
            errors.extend(violations.0.into_iter().map(|v| RowError {
                row,
                field: v.field,
                reason: v.reason,
                code: v.code,
                params: v.params,
            }))
        });
        let relationship = cell(12)
            .map(Relationship::parse)
            .transpose()
            .map_err(|reason| {
                errors.push(RowError::new(
                    row,
                    "relationship",
                    Reason::new("import.row.relationship", reason),
                ))
            });
        if let (Ok(resident), Ok(Some(_))) = (&resident, &relationship)
            && resident.address.building.is_empty()
            && resident.address.room.is_empty()
        {
            errors.push(RowError::new(
                row,
                "relationship",
                Reason::new(
                    "import.row.household_address",
                    "needs the household's address (building or room)",
                ),
            ));
        }
        let parsed = match (resident, relationship) {
            (Ok(resident), Ok(relationship)) if errors.is_empty() => Ok(ImportedRow {
                resident,
                relationship,
            }),
            _ => Err(errors),
        };
        rows.push((row, parsed));
    }
    rows
}

/// `1950/3/1`, `1950.03.01` and `19500301` as `1950-03-01`; anything else unchanged (and
/// refused by the date parser with the usual message).
fn normalise_date(text: &str) -> String {
    if text.len() == 8 && text.chars().all(|c| c.is_ascii_digit()) {
        return format!("{}-{}-{}", &text[..4], &text[4..6], &text[6..]);
    }
    let parts: Vec<&str> = text.split(['/', '.', '-']).collect();
    match parts.as_slice() {
        [y, m, d] if y.len() == 4 && m.len() <= 2 && d.len() <= 2 => format!("{y}-{m:0>2}-{d:0>2}"),
        _ => text.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, 29).expect("valid")
    }

    const CENTRE: &str = "00000000-0000-0000-0000-000000000000";

    #[test]
    fn a_gbk_sheet_with_chinese_headings_imports_and_reports_bad_rows() {
        let sheet = "姓名,性别,出生日期,手机,身份证号\n张三,男,1950/3/1,13812345678,\n李四,女,19491231,,11010519491231002X\n,女,2000-01-01,,\n王五,男,1960-02-30,,\n";
        let (bytes, _, _) = encoding_rs::GBK.encode(sheet);
        let text = decode(&bytes, Encoding::Auto).expect("GBK decodes");
        let rows = parse_rows(&text, &[], CENTRE, today()).expect("headings found");
        assert_eq!(rows.len(), 4);
        assert!(rows[0].1.is_ok() && rows[1].1.is_ok());
        let errors: Vec<(u32, String)> = rows
            .iter()
            .filter_map(|(_, r)| r.as_ref().err())
            .flatten()
            .map(|e| (e.row, e.field.clone()))
            .collect();
        assert_eq!(errors, [(4, "name".into()), (5, "date_of_birth".into())]);
    }

    #[test]
    fn explicit_mapping_names_the_columns() {
        let sheet = "居民,Sex,Born\n张三,male,1950-03-01\n";
        let mapping = [
            ("name", "居民"),
            ("gender", "Sex"),
            ("date_of_birth", "Born"),
        ]
        .map(|(f, h)| (f.to_owned(), h.to_owned()));
        let rows = parse_rows(sheet, &mapping, CENTRE, today()).expect("mapped");
        assert!(rows[0].1.is_ok());
        let missing = parse_rows(sheet, &[], CENTRE, today()).expect_err("no name column");
        assert_eq!(missing.0[0].field, "mapping");
    }

    #[test]
    fn address_categories_skills_and_relationship_are_read_from_their_columns() {
        let sheet = "姓名,性别,出生日期,楼栋,单元,房号,类别,特长,职业,爱好,与户主关系\n\
                     张三,男,1950-03-01,1号楼,3单元,403,独居、低保,急救,医生,书法；太极,户主\n\
                     李四,女,1952-03-01,1号楼,3单元,403,,,,,配偶\n\
                     王五,男,1960-01-01,,,,,,,,户主\n\
                     赵六,男,1960-01-01,2号楼,,101,富裕,,,,邻居\n";
        let rows = parse_rows(sheet, &[], CENTRE, today()).expect("headings found");
        let head = rows[0].1.as_ref().expect("row 2 is good");
        assert_eq!(head.relationship, Some(Relationship::Head));
        assert_eq!(
            (
                head.resident.address.building.as_str(),
                head.resident.address.unit.as_str(),
                head.resident.address.room.as_str()
            ),
            ("1号楼", "3单元", "403")
        );
        assert_eq!(head.resident.categories, ["living_alone", "low_income"]);
        let mut skills = head.resident.skills.clone();
        skills.sort();
        assert_eq!(
            skills,
            [
                ("hobby".to_owned(), "书法".to_owned()),
                ("hobby".to_owned(), "太极".to_owned()),
                ("profession".to_owned(), "医生".to_owned()),
                ("skill".to_owned(), "急救".to_owned()),
            ]
        );
        let spouse = rows[1].1.as_ref().expect("row 3 is good");
        assert_eq!(spouse.relationship, Some(Relationship::Spouse));
        let errors = |i: usize| -> Vec<String> {
            rows[i]
                .1
                .as_ref()
                .expect_err("a bad row")
                .iter()
                .map(|e| e.field.clone())
                .collect()
        };
        assert_eq!(errors(2), ["relationship"], "a head needs an address");
        assert_eq!(errors(3), ["categories", "relationship"]);
    }

    fn read_all(file: &'static [u8], encoding: Encoding) -> Vec<ParsedRow> {
        let text = text_reader(file, encoding).expect("readable");
        let mut sheet = open_sheet(text, &[], CENTRE, today()).expect("headings found");
        let mut rows = Vec::new();
        loop {
            let batch = next_rows(&mut sheet, 2);
            if batch.is_empty() {
                return rows;
            }
            rows.extend(batch);
        }
    }

    #[test]
    fn a_sheet_read_as_it_comes_numbers_its_rows_across_batches_and_refuses_only_bad_bytes() {
        let sheet = "\u{feff}姓名,性别,出生日期\n张三,男,1950-03-01\n\n李四,女,1960-01-01\n王五,男,1970-01-01\n";
        let rows = read_all(sheet.as_bytes(), Encoding::Auto);
        let numbers: Vec<u32> = rows.iter().map(|(row, _)| *row).collect();
        assert_eq!(numbers, [2, 3, 4], "a blank line is no row");
        assert!(rows.iter().all(|(_, r)| r.is_ok()));
        let (gbk, _, _) = encoding_rs::GBK.encode(sheet.trim_start_matches('\u{feff}'));
        let mut gbk = gbk.into_owned();
        let at = gbk.len() - 8;
        gbk.insert(at, 0x81); // a lead byte that no trail byte follows: row 4 is not GBK
        let rows = read_all(Box::leak(gbk.into_boxed_slice()), Encoding::Auto);
        assert!(rows[0].1.is_ok() && rows[1].1.is_ok(), "{rows:?}");
        let errors = rows[2].1.as_ref().expect_err("row 4 is refused");
        assert_eq!((errors[0].row, errors[0].field.as_str()), (4, "row"));
    }

    #[test]
    fn more_blank_rows_in_a_row_than_a_part_holds_are_not_the_end_of_the_sheet() {
        let sheet =
            "姓名,性别,出生日期\n张三,男,1950-03-01\n,,\n,,\n,,\n,,\n,,\n李四,女,1960-01-01\n";
        let rows = read_all(sheet.as_bytes(), Encoding::Utf8);
        let numbers: Vec<u32> = rows.iter().map(|(row, _)| *row).collect();
        assert_eq!(
            numbers,
            [2, 8],
            "five rows of empty cells, each numbered, none a row"
        );
    }

    #[test]
    fn utf8_with_a_byte_order_mark_decodes() {
        assert_eq!(
            decode(b"\xEF\xBB\xBFname", Encoding::Auto),
            Ok("name".into())
        );
        assert!(decode(&[0xff, 0xfe, 0x00], Encoding::Utf8).is_err());
    }
}
