//! The spreadsheet import as the desk does it: upload the CSV file as it is (UTF-8 or the
//! GBK that Chinese Excel writes), see which encoding it was read in, which column goes
//! to which resident field (changeable) and the first rows with phones and ID numbers
//! masked, then confirm and read the per-row report in the user's language.
//!
//! Between the preview and the confirmation the file travels back with the form, sealed:
//! a hidden field holds it encrypted (AES-256-GCM) under a key derived from the user's
//! session token, which the page never holds (an HttpOnly cookie), bound to the centre
//! and the session, and refused after [`SEALED_FOR_SECS`]. The gateway runs as several
//! replicas without shared memory, so a file kept in one replica's memory could be
//! missing at the next request; the sealed field needs nothing kept, and the page's
//! source shows no personal data. The price is the form's size: the upload is limited to
//! [`UPLOAD_LIMIT`] so the confirming form stays within the gateway's body limit (a
//! larger sheet goes through the API's streaming import).

use std::collections::HashMap;
use std::time::Duration;

use aes_gcm::aead::{Aead, Payload};
use aes_gcm::{Aes256Gcm, KeyInit, Nonce};
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use linli_proto::registry::v1 as pb;
use maud::{Markup, html};

use super::{FieldErrors, Lang, Page, Posted, Refusal, Section, Staff, csrf, is_refusal};
use crate::AppState;

/// Largest file the console's import takes, in bytes (about 5,000 residents).
const UPLOAD_LIMIT: usize = 512 * 1024;
/// How long a preview's sealed file may be confirmed.
const SEALED_FOR_SECS: i64 = 30 * 60;
/// Rows the preview shows.
const PREVIEW_ROWS: usize = 5;

/// The fields an import fills: code, the select's words, and the headings a sheet
/// commonly uses for it (the registry's own, and a few more the desks' sheets use).
const FIELDS: [(&str, &str, &str, &[&str]); 13] = [
    (
        "name",
        "姓名",
        "Name",
        &["姓名", "名字", "居民姓名", "name"],
    ),
    ("gender", "性别", "Gender", &["性别", "gender"]),
    (
        "date_of_birth",
        "出生日期",
        "Date of birth",
        &[
            "出生日期",
            "出生年月日",
            "出生年月",
            "生日",
            "date_of_birth",
        ],
    ),
    (
        "phone",
        "手机",
        "Mobile phone",
        &[
            "手机",
            "手机号",
            "手机号码",
            "联系电话",
            "电话",
            "联系方式",
            "phone",
        ],
    ),
    (
        "national_id",
        "身份证号",
        "National ID",
        &[
            "身份证号",
            "身份证号码",
            "身份证",
            "公民身份号码",
            "national_id",
        ],
    ),
    (
        "building",
        "楼号",
        "Building",
        &["楼号", "楼栋", "楼", "栋", "楼栋号", "building"],
    ),
    ("unit", "单元", "Unit", &["单元", "单元号", "unit"]),
    (
        "room",
        "室",
        "Room",
        &["室", "房号", "房间号", "门牌号", "室号", "room"],
    ),
    (
        "categories",
        "类别",
        "Categories",
        &[
            "类别",
            "人群类别",
            "人员类别",
            "人群分类",
            "特殊群体",
            "categories",
        ],
    ),
    ("skills", "特长", "Skills", &["特长", "技能", "skills"]),
    (
        "professions",
        "职业",
        "Professions",
        &["职业", "professions"],
    ),
    (
        "hobbies",
        "爱好",
        "Hobbies",
        &["爱好", "兴趣爱好", "hobbies"],
    ),
    (
        "relationship",
        "与户主关系",
        "Relationship to the head",
        &["与户主关系", "户主关系", "relationship"],
    ),
];

/// Fields every sheet must give.
const REQUIRED: [&str; 3] = ["name", "gender", "date_of_birth"];

fn field_words(lang: Lang, code: &str) -> String {
    FIELDS
        .iter()
        .find(|(c, ..)| *c == code)
        .map(|(_, zh, en, _)| lang.pick(zh, en).to_owned())
        .unwrap_or_else(|| lang.pick("整行", "the row").to_owned())
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Encoding {
    Utf8,
    Gbk,
}

impl Encoding {
    fn byte(self) -> u8 {
        match self {
            Encoding::Utf8 => 0,
            Encoding::Gbk => 1,
        }
    }

    fn words(self, lang: Lang) -> &'static str {
        match self {
            Encoding::Utf8 => lang.pick("UTF-8 编码（通用格式）", "UTF-8 (the common encoding)"),
            Encoding::Gbk => lang.pick(
                "GBK 编码（中文版 Excel 另存的 CSV 文件）",
                "GBK (what Chinese Excel saves)",
            ),
        }
    }
}

/// The file as text: UTF-8 when its bytes are UTF-8 (a byte order mark dropped), GBK
/// (read as GB18030, its superset) when they are valid GBK; neither is refused.
fn decode(bytes: &[u8]) -> Option<(Encoding, String)> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    if let Ok(text) = std::str::from_utf8(bytes) {
        return Some((Encoding::Utf8, text.to_owned()));
    }
    let (text, _, malformed) = encoding_rs::GB18030.decode(bytes);
    (!malformed).then(|| (Encoding::Gbk, text.into_owned()))
}

/// The sheet read: its headings, every row, and where the data rows start in the text.
struct Sheet {
    headings: Vec<String>,
    /// Each data row with its line in the file (the heading's is 1).
    rows: Vec<(u64, Vec<String>)>,
    body_start: usize,
}

fn read_sheet(text: &str) -> Option<Sheet> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(text.as_bytes());
    let mut heading = csv::StringRecord::new();
    if !reader.read_record(&mut heading).ok()? {
        return None;
    }
    let body_start = reader.position().byte() as usize;
    let headings: Vec<String> = heading.iter().map(|h| h.trim().to_owned()).collect();
    if headings.iter().all(String::is_empty) {
        return None;
    }
    let rows = reader
        .records()
        .filter_map(Result::ok)
        .map(|r| {
            let line = r.position().map(|p| p.line()).unwrap_or_default();
            (line, r.iter().map(str::to_owned).collect::<Vec<_>>())
        })
        .filter(|(_, r)| r.iter().any(|c| !c.trim().is_empty()))
        .collect();
    Some(Sheet {
        headings,
        rows,
        body_start,
    })
}

/// Which field each column fills, as the headings suggest ("" for none); a field goes to
/// its first column only.
fn auto_mapping(headings: &[String]) -> Vec<String> {
    let mut taken = Vec::new();
    headings
        .iter()
        .map(|h| {
            let found = FIELDS.iter().find(|(code, _, _, aliases)| {
                aliases.contains(&h.as_str()) && !taken.contains(code)
            });
            match found {
                Some((code, ..)) => {
                    taken.push(*code);
                    (*code).to_owned()
                }
                None => String::new(),
            }
        })
        .collect()
}

/// A cell as the preview shows it: a phone or ID number masked as the resident list
/// masks it (`138****5678`, `110101********123X`), whichever column it is in.
fn masked(cell: &str, field: &str) -> String {
    let cell = cell.trim();
    let digits = cell.chars().filter(char::is_ascii_digit).count();
    let personal = field == "phone" || field == "national_id" || digits >= 11;
    if !personal || cell.is_empty() {
        return cell.to_owned();
    }
    let chars: Vec<char> = cell.chars().collect();
    let n = chars.len();
    let keep = |head: usize, tail: usize| -> String {
        let middle = "*".repeat(n - head - tail);
        chars[..head].iter().collect::<String>()
            + &middle
            + &chars[n - tail..].iter().collect::<String>()
    };
    match n {
        15.. => keep(6, 4),
        11..=14 => keep(3, 4),
        _ => "****".into(),
    }
}

/// The key a session's sealed files are encrypted with.
fn seal_key(staff: &Staff) -> [u8; 32] {
    staff.auth.secret_for("linli-console-import-seal")
}

fn seal_aad(staff: &Staff, centre: &str) -> Vec<u8> {
    format!("{centre}:{}", staff.session).into_bytes()
}

/// The file, encrypted for this session and centre, with the time it was sealed.
fn seal(staff: &Staff, centre: &str, encoding: Encoding, file: &[u8]) -> String {
    let mut plain = Vec::with_capacity(file.len() + 9);
    plain.extend_from_slice(&chrono::Utc::now().timestamp().to_be_bytes());
    plain.push(encoding.byte());
    plain.extend_from_slice(file);
    let cipher = Aes256Gcm::new_from_slice(&seal_key(staff)).expect("a 32-byte key");
    let nonce: [u8; 12] = rand::random();
    let aad = seal_aad(staff, centre);
    let sealed = cipher
        .encrypt(
            Nonce::from_slice(&nonce),
            Payload {
                msg: &plain,
                aad: &aad,
            },
        )
        .expect("encryption of a bounded file");
    let mut out = nonce.to_vec();
    out.extend_from_slice(&sealed);
    URL_SAFE_NO_PAD.encode(out)
}

/// The sealed file back, if this session sealed it for this centre within the time.
fn unseal(staff: &Staff, centre: &str, sealed: &str) -> Option<Vec<u8>> {
    let bytes = URL_SAFE_NO_PAD.decode(sealed.trim()).ok()?;
    if bytes.len() < 12 {
        return None;
    }
    let (nonce, body) = bytes.split_at(12);
    let cipher = Aes256Gcm::new_from_slice(&seal_key(staff)).ok()?;
    let aad = seal_aad(staff, centre);
    let plain = cipher
        .decrypt(
            Nonce::from_slice(nonce),
            Payload {
                msg: body,
                aad: &aad,
            },
        )
        .ok()?;
    if plain.len() < 9 {
        return None;
    }
    let at = i64::from_be_bytes(plain[..8].try_into().ok()?);
    let age = chrono::Utc::now().timestamp() - at;
    if !(0..=SEALED_FOR_SECS).contains(&age) {
        return None;
    }
    Some(plain[9..].to_vec())
}

/// The parts of a `multipart/form-data` body: (name, content).
fn multipart_parts(content_type: &str, body: &[u8]) -> Option<Vec<(String, Vec<u8>)>> {
    let boundary = content_type
        .split(';')
        .map(str::trim)
        .find_map(|p| p.strip_prefix("boundary="))?
        .trim_matches('"');
    if boundary.is_empty() {
        return None;
    }
    let delimiter = format!("\r\n--{boundary}").into_bytes();
    let mut data = b"\r\n".to_vec();
    data.extend_from_slice(body);
    let mut parts = Vec::new();
    let mut rest = &data[..];
    let first = find(rest, &delimiter)?;
    rest = &rest[first + delimiter.len()..];
    loop {
        if rest.starts_with(b"--") {
            return Some(parts);
        }
        rest = rest.strip_prefix(b"\r\n")?;
        let end = find(rest, &delimiter)?;
        let part = &rest[..end];
        rest = &rest[end + delimiter.len()..];
        let split = find(part, b"\r\n\r\n")?;
        let headers = String::from_utf8_lossy(&part[..split]);
        let name = headers
            .lines()
            .find(|l| l.to_ascii_lowercase().starts_with("content-disposition:"))
            .and_then(|l| {
                l.split(';')
                    .map(str::trim)
                    .find_map(|p| p.strip_prefix("name="))
                    .map(|n| n.trim_matches('"').to_owned())
            })?;
        parts.push((name, part[split + 4..].to_vec()));
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

fn constant_time_eq(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

fn import_url(centre: &str) -> String {
    format!("/c/{centre}/residents/import")
}

fn layout(staff: &Staff, centre: &pb::Centre, content: Markup, status: StatusCode) -> Page {
    let mut response = super::layout(
        staff,
        Section::Residents,
        Some(centre),
        &format!(
            "{} · {}",
            centre.name,
            staff.lang.pick("导入表格", "Import a spreadsheet")
        ),
        content,
    );
    *response.status_mut() = status;
    Ok(response)
}

/// The upload form.
fn upload_form(staff: &Staff, centre: &pb::Centre, errors: &FieldErrors) -> Markup {
    let lang = staff.lang;
    let error = errors.get("file");
    html! {
        @if !errors.is_empty() { div hidden data-page-url=(import_url(&centre.id)) {} }
        p { (lang.pick(
            "选择居民表格的 CSV 文件（Excel 中“另存为 CSV”），第一行为表头，如：姓名、性别、出生日期、手机号、身份证号、楼号、单元、室。UTF-8 和 GBK 编码都可以。上传后先预览，确认后才导入；已登记的居民会跳过，重复导入不会重复登记。",
            "Choose the residents' sheet as a CSV file (Excel: Save as CSV), headings in the first row. UTF-8 and GBK both work. You see a preview first; nothing is imported until you confirm. Residents already registered are skipped.")) }
        form.stack #import-upload method="post" enctype="multipart/form-data" action=(format!("{}/preview", import_url(&centre.id))) novalidate {
            (csrf(staff))
            div.field.invalid[error.is_some()] {
                label for="f-file" { (lang.pick("CSV 文件（不超过 512 KB，约 5000 人）", "CSV file (at most 512 KB, about 5,000 residents)")) }
                input #f-file type="file" name="file" accept=".csv,text/csv"
                    aria-invalid=[error.map(|_| "true")] aria-describedby=[error.map(|_| "f-file-error")];
                @if let Some(e) = error { span.error #f-file-error role="alert" { (e) } }
            }
            button type="submit" { (lang.pick("上传并预览", "Upload and preview")) }
        }
    }
}

pub async fn form(staff: Staff, Path(centre): Path<String>) -> Page {
    let centre = staff.centre(Section::Residents, &centre)?;
    if !staff.may_write() {
        return Err(Refusal::forbidden());
    }
    let content = upload_form(&staff, &centre, &FieldErrors::default());
    layout(&staff, &centre, content, StatusCode::OK)
}

/// What the preview shows and the confirming form carries.
struct Preview<'a> {
    encoding: Encoding,
    sheet: &'a Sheet,
    mapping: &'a [String],
    sealed: &'a str,
}

fn preview_page(staff: &Staff, centre: &pb::Centre, p: &Preview, errors: &FieldErrors) -> Markup {
    let lang = staff.lang;
    let shown = p.sheet.rows.len().min(PREVIEW_ROWS);
    html! {
        @if !errors.is_empty() { div hidden data-page-url=(import_url(&centre.id)) {} }
        section #import-preview {
            h2 { (lang.pick("预览", "Preview")) }
            p #import-encoding { (lang.pick("文件编码：识别为 ", "Encoding: read as ")) strong { (p.encoding.words(lang)) } }
            p { (lang.pick("共 ", "")) strong { (p.sheet.rows.len()) } (lang.pick(" 行居民。请核对每一列对应的项目，需要时可以修改；不需要的列选“不导入”。", " rows of residents. Check which field each column fills and change it if needed; choose “Do not import” for a column you do not want.")) }
            form #import-confirm method="post" action=(format!("{}/confirm", import_url(&centre.id))) novalidate {
                (csrf(staff))
                input type="hidden" name="sealed" value=(p.sealed);
                (super::general_errors(errors, &[]))
                @if let Some(e) = errors.get("mapping") { p.error.general role="alert" { (e) } }
                div.scroll {
                    table #import-mapping {
                        thead {
                            tr {
                                th scope="row" { (lang.pick("表格中的列", "Column in the sheet")) }
                                @for h in &p.sheet.headings { th scope="col" { (h) } }
                            }
                            tr {
                                th scope="row" { (lang.pick("导入为", "Import as")) }
                                @for (i, chosen) in p.mapping.iter().enumerate() {
                                    @let name = format!("col{i}");
                                    @let error = errors.get(&name);
                                    td.invalid[error.is_some()] {
                                        select id=(format!("f-{name}")) name=(name) aria-label=(format!("{}{}", lang.pick("导入为：", "Import as: "), p.sheet.headings[i]))
                                            aria-invalid=[error.map(|_| "true")] {
                                            option value="" selected[chosen.is_empty()] { (lang.pick("不导入", "Do not import")) }
                                            @for (code, zh, en, _) in FIELDS {
                                                option value=(code) selected[chosen == code] { (lang.pick(zh, en)) }
                                            }
                                        }
                                        @if let Some(e) = error { span.error id=(format!("f-{name}-error")) role="alert" { (e) } }
                                    }
                                }
                            }
                        }
                        tbody {
                            @for (line, row) in &p.sheet.rows[..shown] {
                                tr {
                                    th scope="row" { (lang.pick("第 ", "Row ")) (line) (lang.pick(" 行", "")) }
                                    @for (i, _) in p.sheet.headings.iter().enumerate() {
                                        td { (masked(row.get(i).map(String::as_str).unwrap_or(""), &p.mapping[i])) }
                                    }
                                }
                            }
                        }
                    }
                }
                p.muted { (lang.pick(
                    "以上为前几行；手机号和身份证号已隐去中间几位。",
                    "The first rows; the middle of phone and ID numbers is hidden.")) }
                div.row {
                    button type="submit" { (lang.pick("确认导入", "Import")) }
                    a.button.secondary href=(import_url(&centre.id)) { (lang.pick("重新选择文件", "Choose another file")) }
                }
            }
        }
    }
}

/// The uploaded file's preview.
pub async fn preview(
    State(_state): State<AppState>,
    staff: Staff,
    Path(centre): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Page {
    let centre = staff.centre(Section::Residents, &centre)?;
    if !staff.may_write() {
        return Err(Refusal::forbidden());
    }
    let lang = staff.lang;
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    // Read with a limit of our own: the file and the form's few other bytes.
    let bytes = axum::body::to_bytes(body, UPLOAD_LIMIT + 16 * 1024).await;
    let refuse = |message: &str| {
        let mut errors = FieldErrors::default();
        errors.push("file", message);
        layout(
            &staff,
            &centre,
            upload_form(&staff, &centre, &errors),
            StatusCode::BAD_REQUEST,
        )
    };
    let Ok(bytes) = bytes else {
        return refuse(lang.pick(
            "文件太大：网页导入不超过 512 KB，请把表格分成几个文件",
            "The file is too large: at most 512 KB here; split the sheet",
        ));
    };
    let parts = multipart_parts(&content_type, &bytes).unwrap_or_default();
    let field = |name: &str| {
        parts
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_slice())
    };
    let sent = String::from_utf8_lossy(field("csrf").unwrap_or_default()).into_owned();
    if !constant_time_eq(&sent, &staff.csrf) {
        return Err(Refusal {
            status: StatusCode::FORBIDDEN,
            detail: "页面已过期，请刷新页面后重试。".into(),
        });
    }
    let file = field("file").unwrap_or_default();
    if file.is_empty() {
        return refuse(lang.pick("请选择要导入的 CSV 文件", "Choose the CSV file to import"));
    }
    if file.len() > UPLOAD_LIMIT {
        return refuse(lang.pick(
            "文件太大：网页导入不超过 512 KB，请把表格分成几个文件",
            "The file is too large: at most 512 KB here; split the sheet",
        ));
    }
    let Some((encoding, text)) = decode(file) else {
        return refuse(lang.pick(
            "无法识别文件编码：请在 Excel 中另存为“CSV UTF-8”或“CSV（逗号分隔）”后再上传",
            "The file is neither UTF-8 nor GBK text: save it as CSV from Excel and try again",
        ));
    };
    let Some(sheet) = read_sheet(&text) else {
        return refuse(lang.pick(
            "无法读取表格：请确认是 CSV 文件，第一行为表头",
            "The sheet cannot be read: a CSV file with headings in the first row",
        ));
    };
    if sheet.rows.is_empty() {
        return refuse(lang.pick(
            "表格中只有表头，没有居民",
            "The sheet has headings and no residents",
        ));
    }
    let mapping = auto_mapping(&sheet.headings);
    let sealed = seal(&staff, &centre.id, encoding, file);
    let preview = Preview {
        encoding,
        sheet: &sheet,
        mapping: &mapping,
        sealed: &sealed,
    };
    let errors = mapping_errors(lang, &mapping);
    let content = preview_page(&staff, &centre, &preview, &FieldErrors::default());
    // A missing required column is said at once, beside the mapping.
    let content = if errors.is_empty() {
        content
    } else {
        html! {
            p.error.general role="alert" { (lang.pick("请为缺少的项目选择对应的列。", "Choose a column for each missing field.")) }
            (content)
        }
    };
    layout(&staff, &centre, content, StatusCode::OK)
}

/// What is wrong with a chosen mapping: a field chosen for two columns, or a required
/// field for none.
fn mapping_errors(lang: Lang, mapping: &[String]) -> FieldErrors {
    let mut errors = FieldErrors::default();
    let mut seen: HashMap<&str, usize> = HashMap::new();
    for (i, field) in mapping.iter().enumerate() {
        if field.is_empty() {
            continue;
        }
        if !FIELDS.iter().any(|(code, ..)| code == field) {
            errors.push(
                &format!("col{i}"),
                lang.pick("请从列表中选择", "Choose from the list"),
            );
        } else if let Some(first) = seen.get(field.as_str()) {
            errors.push(
                &format!("col{i}"),
                format!(
                    "{}{}{}",
                    lang.pick("第 ", "Column "),
                    first + 1,
                    lang.pick(
                        " 列已选了这一项，每一项只能对应一列",
                        " is already this field; a field takes one column"
                    ),
                ),
            );
        } else {
            seen.insert(field, i);
        }
    }
    let missing: Vec<String> = REQUIRED
        .iter()
        .filter(|f| !seen.contains_key(*f))
        .map(|f| field_words(lang, f))
        .collect();
    if !missing.is_empty() {
        errors.push(
            "mapping",
            format!(
                "{}{}",
                lang.pick("必须有的项目没有对应的列：", "No column for: "),
                missing.join(lang.pick("、", ", "))
            ),
        );
    }
    errors
}

/// The sheet with its heading row replaced by the chosen fields' names, so the registry
/// reads each column as the desk chose (a column not imported gets a heading no field
/// has).
fn remapped(text: &str, sheet: &Sheet, mapping: &[String]) -> String {
    let heading: Vec<&str> = mapping
        .iter()
        .map(|f| if f.is_empty() { "-" } else { f.as_str() })
        .collect();
    let mut out = heading.join(",");
    out.push('\n');
    out.push_str(&text[sheet.body_start.min(text.len())..]);
    out
}

fn report_page(staff: &Staff, centre: &pb::Centre, report: &pb::ImportResidentsReport) -> Markup {
    let lang = staff.lang;
    html! {
        div hidden data-page-url=(import_url(&centre.id)) {}
        section #import-report {
            h2 { (lang.pick("导入结果", "Import report")) }
            p { (lang.pick("共 ", "Rows: ")) (report.rows) (lang.pick(" 行：新登记 ", "; registered: ")) strong { (report.imported) }
                (lang.pick(" 人，已登记跳过 ", "; already registered: ")) (report.already_registered.len())
                (lang.pick(" 行，有误未导入 ", "; not imported, with errors: ")) strong { (report.errors.len()) } (lang.pick(" 行。", ".")) }
            @if !report.errors.is_empty() {
                table #import-errors {
                    thead { tr { th scope="col" { (lang.pick("表格第几行", "Row")) } th scope="col" { (lang.pick("项目", "Field")) } th scope="col" { (lang.pick("问题", "Problem")) } } }
                    tbody {
                        @for e in &report.errors {
                            tr {
                                td.line { (lang.pick("第 ", "")) (e.row) (lang.pick(" 行", "")) }
                                td { (field_words(lang, &e.field)) }
                                td { (crate::catalogue::said(lang, &e.code, &e.params.iter().map(|(k, v)| (k.clone(), v.clone())).collect(), &e.reason)) }
                            }
                        }
                    }
                }
                p.muted { (lang.pick("改正有误的行后，可以把整个表格再导入一次：已登记的居民会自动跳过。",
                    "Correct the rows and import the whole sheet again: residents already registered are skipped.")) }
            }
            p {
                a.button href=(format!("/c/{}/residents", centre.id)) { (lang.pick("查看居民名单", "See the residents")) }
                " "
                a.button.secondary href=(import_url(&centre.id)) { (lang.pick("再导入一个表格", "Import another sheet")) }
            }
        }
    }
}

/// The confirmation: the sealed file imported with the chosen mapping, through the
/// registry's streaming import.
pub async fn confirm(
    State(state): State<AppState>,
    Path(centre): Path<String>,
    posted: Posted,
) -> Page {
    let staff = &posted.staff;
    let centre = staff.centre(Section::Residents, &centre)?;
    if !staff.may_write() {
        return Err(Refusal::forbidden());
    }
    let lang = staff.lang;
    let expired = || {
        let mut errors = FieldErrors::default();
        errors.push(
            "file",
            lang.pick(
                "预览已过期（超过 30 分钟或已重新登录），请重新选择文件",
                "The preview has expired; choose the file again",
            ),
        );
        layout(
            staff,
            &centre,
            upload_form(staff, &centre, &errors),
            StatusCode::BAD_REQUEST,
        )
    };
    let sealed = posted.get("sealed").to_owned();
    let Some(plain) = unseal(staff, &centre.id, &sealed) else {
        return expired();
    };
    let Some((encoding, text)) = decode(&plain) else {
        return expired();
    };
    let Some(sheet) = read_sheet(&text) else {
        return expired();
    };
    let mapping: Vec<String> = (0..sheet.headings.len())
        .map(|i| posted.get(&format!("col{i}")).to_owned())
        .collect();
    let errors = mapping_errors(lang, &mapping);
    if !errors.is_empty() {
        let preview = Preview {
            encoding,
            sheet: &sheet,
            mapping: &mapping,
            sealed: &sealed,
        };
        let content = preview_page(staff, &centre, &preview, &errors);
        return layout(staff, &centre, content, StatusCode::BAD_REQUEST);
    }
    let file = remapped(&text, &sheet, &mapping).into_bytes();
    let centre_id = centre.id.clone();
    let messages: Vec<pb::ImportResidentsRequest> = file
        .chunks(64 * 1024)
        .enumerate()
        .map(|(i, part)| pb::ImportResidentsRequest {
            centre_id: if i == 0 {
                centre_id.clone()
            } else {
                String::new()
            },
            file: part.to_vec(),
            encoding: if i == 0 {
                "utf-8".into()
            } else {
                String::new()
            },
            mapping: Default::default(),
        })
        .collect();
    let stream = tonic::codegen::tokio_stream::iter(messages);
    let imported = state
        .registry
        .clone()
        .import_residents_stream(staff.auth.grpc_within(stream, Duration::from_secs(120)))
        .await;
    match imported {
        Ok(report) => {
            let content = report_page(staff, &centre, &report.into_inner());
            layout(staff, &centre, content, StatusCode::OK)
        }
        Err(status) if is_refusal(&status) => {
            let errors = FieldErrors::from_status(&status, lang);
            let mut shown = FieldErrors::default();
            for (_, message) in errors.0 {
                shown.push("mapping", message);
            }
            let preview = Preview {
                encoding,
                sheet: &sheet,
                mapping: &mapping,
                sealed: &sealed,
            };
            let content = preview_page(staff, &centre, &preview, &shown);
            layout(staff, &centre, content, StatusCode::BAD_REQUEST)
        }
        Err(status) => Err(status.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gbk_and_utf8_are_told_apart() {
        let (text, _, _) = encoding_rs::GBK.encode("姓名,性别\n张三,男\n");
        assert_eq!(decode(&text).map(|d| d.0), Some(Encoding::Gbk));
        let (enc, text) = decode("\u{feff}姓名,性别\n".as_bytes()).expect("utf-8");
        assert_eq!((enc, text.as_str()), (Encoding::Utf8, "姓名,性别\n"));
    }

    #[test]
    fn headings_map_to_fields_and_the_heading_row_is_rewritten() {
        let text = "姓名,性别,出生日期,手机号,身份证号,楼号,单元,室,备注\n张三,男,1950-01-01,13812345678,,1,2,301,x\n";
        let sheet = read_sheet(text).expect("sheet");
        let mapping = auto_mapping(&sheet.headings);
        assert_eq!(
            mapping,
            [
                "name",
                "gender",
                "date_of_birth",
                "phone",
                "national_id",
                "building",
                "unit",
                "room",
                ""
            ]
        );
        assert!(mapping_errors(Lang::Zh, &mapping).is_empty());
        assert_eq!(
            remapped(text, &sheet, &mapping),
            "name,gender,date_of_birth,phone,national_id,building,unit,room,-\n张三,男,1950-01-01,13812345678,,1,2,301,x\n"
        );
        let twice = vec!["name".to_owned(), "name".to_owned()];
        let errors = mapping_errors(Lang::Zh, &twice);
        assert!(errors.get("col1").is_some() && errors.get("mapping").is_some());
    }

    #[test]
    fn phones_and_id_numbers_are_masked_in_any_column() {
        assert_eq!(masked("13812345678", ""), "138****5678");
        assert_eq!(masked("11010519491231002X", ""), "110105********002X");
        assert_eq!(masked("张三", "name"), "张三");
        assert_eq!(masked("123", "phone"), "****");
    }

    #[test]
    fn a_multipart_body_gives_its_parts() {
        let body = b"--XyZ\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\nabc\r\n--XyZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.csv\"\r\nContent-Type: text/csv\r\n\r\n\xd0\xd5\r\n\r\n--XyZ--\r\n";
        let parts = multipart_parts("multipart/form-data; boundary=XyZ", body).expect("parts");
        assert_eq!(parts[0], ("csrf".to_owned(), b"abc".to_vec()));
        assert_eq!(parts[1], ("file".to_owned(), b"\xd0\xd5\r\n".to_vec()));
    }
}
