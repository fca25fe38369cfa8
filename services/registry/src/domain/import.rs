//! Bulk registration from the spreadsheets centres already keep: a CSV export in UTF-8 or
//! GBK (what Chinese Excel writes), a mapping from the sheet's column headings to the
//! registry's fields, and every row parsed like a front-desk registration, so each bad row
//! is reported by number, field and reason while the good rows go in.

use chrono::NaiveDate;
use linli_platform::error::Violations;

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
    pub fn parse(text: &str) -> Result<Encoding, String> {
        match text.trim().to_ascii_lowercase().as_str() {
            "" | "auto" => Ok(Encoding::Auto),
            "utf-8" | "utf8" => Ok(Encoding::Utf8),
            "gbk" | "gb18030" | "gb2312" => Ok(Encoding::Gbk),
            _ => Err("must be `utf-8`, `gbk` or `auto`".into()),
        }
    }
}

/// The file as text.
pub fn decode(bytes: &[u8], encoding: Encoding) -> Result<String, String> {
    let utf8 = || {
        let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
        std::str::from_utf8(bytes).map(str::to_owned)
    };
    let gbk = || {
        let (text, _, malformed) = encoding_rs::GB18030.decode(bytes);
        if malformed {
            Err("is not valid GBK text".to_owned())
        } else {
            Ok(text.into_owned())
        }
    };
    match encoding {
        Encoding::Utf8 => utf8().map_err(|_| "is not valid UTF-8 text".to_owned()),
        Encoding::Gbk => gbk(),
        Encoding::Auto => utf8().or_else(|_| gbk()),
    }
}

/// The registry fields an import fills, and the headings a sheet commonly uses for each.
const FIELDS: [(&str, &[&str]); 5] = [
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
];

/// Which column holds which field. `explicit` pairs (`field=heading`) override the
/// common headings.
pub fn column_mapping(
    headings: &[String],
    explicit: &[(String, String)],
) -> Result<[Option<usize>; 5], Violations> {
    let mut violations = Violations::default();
    let mut columns = [None; 5];
    for (field, _) in explicit {
        if !FIELDS.iter().any(|(known, _)| known == field) {
            violations.push("mapping", format!("`{field}` is not an importable field"));
        }
    }
    for (slot, (field, common)) in columns.iter_mut().zip(FIELDS) {
        let wanted: Vec<&str> = match explicit.iter().find(|(f, _)| f == field) {
            Some((_, heading)) => vec![heading.as_str()],
            None => common.to_vec(),
        };
        *slot = headings.iter().position(|h| wanted.contains(&h.trim()));
        if slot.is_none() && explicit.iter().any(|(f, _)| f == field) {
            violations.push("mapping", format!("no column is headed `{}`", wanted[0]));
        }
    }
    for (slot, field) in columns.iter().zip(["name", "gender", "date_of_birth"]) {
        if slot.is_none() && violations.is_empty() {
            violations.push(
                "mapping",
                format!("no column for `{field}`; map one with {field}=<heading>"),
            );
        }
    }
    violations.into_result(|| columns)
}

/// One row's problem: 1-based data row number (the heading row is row 1), field, reason.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RowError {
    pub row: u32,
    pub field: String,
    pub reason: String,
}

/// One data row's line number and its registration, or what is wrong with it.
pub type ParsedRow = (u32, Result<NewResident, Vec<RowError>>);

/// Every data row: a registration, or what is wrong with it.
pub fn parse_rows(
    text: &str,
    explicit: &[(String, String)],
    centre_id: &str,
    today: NaiveDate,
) -> Result<Vec<ParsedRow>, Violations> {
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    let headings: Vec<String> = reader
        .headers()
        .map_err(|e| Violations::one("file", format!("has no readable heading row: {e}")))?
        .iter()
        .map(str::to_owned)
        .collect();
    let columns = column_mapping(&headings, explicit)?;
    let mut rows = Vec::new();
    for (index, record) in reader.records().enumerate() {
        let row = index as u32 + 2;
        let record = match record {
            Ok(record) => record,
            Err(e) => {
                rows.push((
                    row,
                    Err(vec![RowError {
                        row,
                        field: "row".into(),
                        reason: format!("is not valid CSV: {e}"),
                    }]),
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
        let form = ResidentForm {
            centre_id,
            name: cell(0).unwrap_or_default(),
            gender,
            date_of_birth: &date_of_birth,
            phone: cell(3),
            national_id: cell(4),
            ..Default::default()
        };
        let parsed = NewResident::parse(&form, today).map_err(|violations| {
            violations
                .0
                .into_iter()
                .map(|v| RowError {
                    row,
                    field: v.field,
                    reason: v.reason,
                })
                .collect()
        });
        rows.push((row, parsed));
    }
    Ok(rows)
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
    fn utf8_with_a_byte_order_mark_decodes() {
        assert_eq!(
            decode(b"\xEF\xBB\xBFname", Encoding::Auto),
            Ok("name".into())
        );
        assert!(decode(&[0xff, 0xfe, 0x00], Encoding::Utf8).is_err());
    }
}
