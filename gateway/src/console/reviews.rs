//! The organisation review's console pages (运营管理评估, issue 24): the centre's reviews,
//! the latest first, each item with its score, evidence, follow-up and the figure Linli
//! pre-filled it with; the centre manager (and the district admin working in the centre)
//! begins a review for a year, quarter or month chosen from lists, never typed as a code,
//! and scores each item on a page of its own (score, evidence, follow-up with its due
//! date), a refusal shown beside the field with what was typed kept. The district admin
//! edits the district's checklist, which changes only the reviews begun after it.

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect};
use chrono::Datelike;
use linli_platform::auth::Role;
use linli_proto::evaluation::v1 as ev;
use linli_proto::registry::v1 as pb;
use maud::{Markup, html};
use serde::Deserialize;
use uuid::Uuid;

use super::board::{measure_name, review_period, review_section};
use super::{
    FieldErrors, Page, Posted, Query, Section, Staff, csrf, general_errors, is_refusal, notice,
    today,
};
use crate::AppState;
use crate::catalogue::Lang;

#[derive(Deserialize, Default)]
pub struct ReviewsQuery {
    #[serde(default)]
    notice: String,
    #[serde(default)]
    item: String,
}

/// Who begins and scores a review: the centre's manager, or the district admin in the
/// centre (the service checks again).
fn may_review(staff: &Staff) -> bool {
    staff.has_role(Role::CentreManager) || staff.has_role(Role::DistrictAdmin)
}

fn day(lang: Lang, text: &str) -> String {
    super::i18n::iso_day(lang, text)
}

/// The parts of a year a review may cover, as the period's suffix and in words.
fn period_parts(lang: Lang) -> Vec<(String, String)> {
    let mut parts = vec![(String::new(), lang.pick("全年", "Whole year").to_owned())];
    for (q, zh, en) in [
        ("Q1", "第一季度", "First quarter"),
        ("Q2", "第二季度", "Second quarter"),
        ("Q3", "第三季度", "Third quarter"),
        ("Q4", "第四季度", "Fourth quarter"),
    ] {
        parts.push((q.to_owned(), lang.pick(zh, en).to_owned()));
    }
    for m in 1..=12 {
        parts.push((
            format!("{m:02}"),
            match lang {
                Lang::Zh => format!("{m}月"),
                Lang::En => chrono::Month::try_from(m as u8)
                    .map(|m| m.name().to_owned())
                    .unwrap_or_default(),
            },
        ));
    }
    parts
}

/// What was typed into the start form, kept through a refusal.
struct StartTyped {
    year: String,
    part: String,
}

/// The figure Linli pre-filled an item with, in words.
fn measured(lang: Lang, i: &ev::OrgReviewItem) -> Markup {
    html! {
        @if i.measured && i.measure == "partner_income" {
            (lang.pick("已自动填入：", "Pre-filled: ")) (measure_name(lang, &i.measure)) " "
            (super::money(i.measured_amount_minor))
        } @else if i.measured {
            (lang.pick("已自动填入：", "Pre-filled: ")) (measure_name(lang, &i.measure)) " "
            (super::percent(i.measured_value)) "（" (i.measured_numerator) " / " (i.measured_denominator) "）"
        } @else if !i.measure.is_empty() {
            (measure_name(lang, &i.measure)) (lang.pick("：本期尚无数据", ": no figure for the period"))
        } @else { "—" }
    }
}

fn score_text(lang: Lang, i: &ev::OrgReviewItem) -> String {
    if i.scored {
        format!("{} / {}", i.score, i.max_score)
    } else {
        format!(
            "{}{}{}{}",
            lang.pick("未评分", "Not scored"),
            lang.pick("（满分 ", " (out of "),
            i.max_score,
            lang.pick("）", ")")
        )
    }
}

async fn list_reviews(
    state: &AppState,
    staff: &Staff,
    centre: &pb::Centre,
) -> Result<Vec<ev::OrgReview>, tonic::Status> {
    Ok(state
        .evaluation
        .clone()
        .list_org_reviews(staff.grpc(ev::ListOrgReviewsRequest {
            centre_id: centre.id.clone(),
        }))
        .await?
        .into_inner()
        .reviews)
}

async fn list_page(
    state: &AppState,
    staff: &Staff,
    centre: &pb::Centre,
    query: &ReviewsQuery,
    errors: FieldErrors,
    typed: Option<StartTyped>,
) -> Page {
    let lang = staff.lang;
    let reviews = list_reviews(state, staff, centre).await?;
    let on = today(centre);
    let typed = typed.unwrap_or_else(|| StartTyped {
        year: on.year().to_string(),
        part: format!("Q{}", on.month0() / 3 + 1),
    });
    let years: Vec<i32> = (on.year() - 2..=on.year() + 1).rev().collect();
    let scored_title = reviews
        .iter()
        .flat_map(|r| &r.items)
        .find(|i| i.key == query.item)
        .map(|i| i.title.clone())
        .unwrap_or_default();
    let period_error = errors.get("period");
    let zone = super::zone(centre);
    let content = html! {
        @if !errors.is_empty() { span hidden data-page-url=(format!("/c/{}/board/reviews", centre.id)) {} }
        @if query.notice == "started" { (notice(lang.pick("已开始新一期评估，请逐项打分。", "Review begun; score each item."))) }
        @if query.notice == "scored" {
            (notice(&format!("{}{}{}", lang.pick("已保存评分：", "Score saved: "), scored_title, lang.pick("。", "."))))
        }
        @if query.notice == "checklist" { (notice(lang.pick("已保存评估清单，之后开始的评估将使用新清单。", "Checklist saved; reviews begun from now on use it."))) }
        p.links {
            a href=(format!("/c/{}/board", centre.id)) { (lang.pick("‹ 返回理事会", "‹ Back to the board")) }
            @if staff.has_role(Role::DistrictAdmin) {
                " · " a #to-checklist href=(format!("/c/{}/board/reviews/checklist", centre.id)) { (lang.pick("编辑评估清单（全区通用）", "Edit the checklist (district-wide)")) }
            }
        }
        @if may_review(staff) {
            form.inline.start-review #start-review method="post" action=(format!("/c/{}/board/reviews", centre.id)) novalidate {
                (csrf(staff))
                strong.form-title { (lang.pick("开始新一期评估", "Begin a review")) }
                (general_errors(&errors, &["period"]))
                div.field.invalid[period_error.is_some()] {
                    label for="f-year" { (lang.pick("年份", "Year")) }
                    select #f-year name="year" aria-invalid=[period_error.map(|_| "true")] aria-describedby=[period_error.map(|_| "f-period-error")] {
                        @for y in &years { option value=(y) selected[typed.year == y.to_string()] { (y) (lang.pick("年", "")) } }
                    }
                }
                div.field.invalid[period_error.is_some()] {
                    label for="f-part" { (lang.pick("期间（全年、季度或月份）", "Period (year, quarter or month)")) }
                    select #f-part name="part" aria-invalid=[period_error.map(|_| "true")] aria-describedby=[period_error.map(|_| "f-period-error")] {
                        @for (code, words) in period_parts(lang) { option value=(code) selected[typed.part == code] { (words) } }
                    }
                }
                button type="submit" { (lang.pick("开始评估", "Begin")) }
                @if let Some(message) = period_error { span.error #f-period-error role="alert" { (message) } }
            }
        }
        @for r in &reviews {
            @let done = r.items.iter().filter(|i| i.scored).count();
            section.review id=(format!("review-{}", r.id)) data-period=(r.period) {
                h2 { (review_period(lang, &r.period)) " · " (lang.pick("得分", "Score")) " " (r.total_score) " / " (r.max_total) }
                p.muted {
                    @if let Some(at) = super::instant(&r.started_at) {
                        (super::i18n::day(lang, at.with_timezone(&zone).date_naive())) (lang.pick("开始", " begun")) "；"
                    }
                    (lang.pick("已评 ", "Scored ")) (done) " / " (r.items.len()) (lang.pick(" 项", " items"))
                }
                table.review-items {
                    thead { tr {
                        th { (lang.pick("部分", "Part")) } th { (lang.pick("评估项目", "Item")) } th { (lang.pick("系统数据", "Measured")) }
                        th { (lang.pick("得分", "Score")) } th { (lang.pick("佐证材料", "Evidence")) } th { (lang.pick("改进措施", "Follow-up")) }
                        @if may_review(staff) { th { (lang.pick("操作", "Action")) } }
                    } }
                    tbody {
                        @for i in &r.items {
                            tr data-item=(i.key) {
                                td { (review_section(lang, &i.section)) }
                                td { (i.title) }
                                td { (measured(lang, i)) }
                                td.score { (score_text(lang, i)) }
                                td { @if i.evidence.is_empty() { "—" } @else { (i.evidence) } }
                                td {
                                    @if i.follow_up.is_empty() { "—" } @else {
                                        (i.follow_up)
                                        @if !i.follow_up_due_on.is_empty() { "（" (lang.pick("期限 ", "due ")) (day(lang, &i.follow_up_due_on)) "）" }
                                    }
                                }
                                @if may_review(staff) {
                                    td {
                                        a.button.score-item .secondary[i.scored] href=(format!("/c/{}/board/reviews/{}/items/{}", centre.id, r.id, i.key)) {
                                            @if i.scored { (lang.pick("修改", "Change")) } @else { (lang.pick("打分", "Score")) }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        @if reviews.is_empty() { p { (lang.pick("本中心尚未开始运营管理评估。", "No review has begun at this centre.")) } }
    };
    let mut response = super::layout(
        staff,
        Section::Board,
        Some(centre),
        &format!(
            "{} · {}",
            centre.name,
            lang.pick("运营管理评估", "Organisation review")
        ),
        content,
    );
    if !errors.is_empty() {
        *response.status_mut() = axum::http::StatusCode::BAD_REQUEST;
    }
    Ok(response)
}

/// The centre's reviews, with the form that begins one for those who review.
pub async fn list(
    State(state): State<AppState>,
    staff: Staff,
    Path(centre): Path<String>,
    Query(query): Query<ReviewsQuery>,
) -> Page {
    let centre = staff.centre(Section::Board, &centre)?;
    list_page(
        &state,
        &staff,
        &centre,
        &query,
        FieldErrors::default(),
        None,
    )
    .await
}

/// 开始评估: the period from the two lists; a period begun already is said beside them.
pub async fn start(
    State(state): State<AppState>,
    Path(centre): Path<String>,
    posted: Posted,
) -> Page {
    let staff = &posted.staff;
    let centre = staff.centre(Section::Board, &centre)?;
    let lang = staff.lang;
    let typed = StartTyped {
        year: posted.get("year").to_owned(),
        part: posted.get("part").to_owned(),
    };
    let period = if typed.part.is_empty() {
        typed.year.clone()
    } else {
        format!("{}-{}", typed.year, typed.part)
    };
    let started = state
        .evaluation
        .clone()
        .start_org_review(staff.grpc(ev::StartOrgReviewRequest {
            centre_id: centre.id.clone(),
            period: period.clone(),
        }))
        .await;
    let errors = match started {
        Ok(review) => {
            let review = review.into_inner();
            return Ok(Redirect::to(&format!(
                "/c/{}/board/reviews?notice=started#review-{}",
                centre.id, review.id
            ))
            .into_response());
        }
        Err(status) if is_refusal(&status) => {
            let mut errors = FieldErrors::default();
            match linli_platform::error::refusal_of(&status) {
                // Said with the period in words (the catalogue has only its code).
                Some((code, _)) if code == "review.exists" => errors.push(
                    "period",
                    format!(
                        "{}{}{}",
                        lang.pick("本中心", "The centre's review for "),
                        review_period(lang, &period),
                        lang.pick(
                            "的评估已经开始，请在下面原有的评估中继续打分",
                            " has begun already; go on scoring it below"
                        )
                    ),
                ),
                _ => {
                    for (field, message) in FieldErrors::from_status(&status, lang).0 {
                        let field = if field == "general" { "period" } else { &field };
                        errors.push(field, message);
                    }
                }
            }
            errors
        }
        Err(status) => return Err(status.into()),
    };
    list_page(
        &state,
        staff,
        &centre,
        &ReviewsQuery::default(),
        errors,
        Some(typed),
    )
    .await
}

/// What was typed into an item's scoring form, kept through a refusal.
struct ScoreTyped {
    score: String,
    evidence: String,
    follow_up: String,
    due_on: String,
}

async fn review_and_item(
    state: &AppState,
    staff: &Staff,
    centre: &pb::Centre,
    review: &str,
    key: &str,
) -> Result<(ev::OrgReview, ev::OrgReviewItem), super::Refusal> {
    let review_id = super::parse_uuid(review)?;
    let review = list_reviews(state, staff, centre)
        .await?
        .into_iter()
        .find(|r| r.id == review_id.to_string())
        .ok_or_else(super::Refusal::not_found)?;
    let item = review
        .items
        .iter()
        .find(|i| i.key == key)
        .cloned()
        .ok_or_else(super::Refusal::not_found)?;
    Ok((review, item))
}

fn score_page(
    staff: &Staff,
    centre: &pb::Centre,
    review: &ev::OrgReview,
    item: &ev::OrgReviewItem,
    typed: &ScoreTyped,
    errors: &FieldErrors,
) -> Page {
    let lang = staff.lang;
    let own = format!(
        "/c/{}/board/reviews/{}/items/{}",
        centre.id, review.id, item.key
    );
    let back = format!("/c/{}/board/reviews#review-{}", centre.id, review.id);
    let err = |name: &str| errors.get(name);
    let described = |name: &str| err(name).map(|_| format!("f-{name}-error"));
    let content = html! {
        @if !errors.is_empty() { span hidden data-page-url=(own) {} }
        p { a href=(back) { (lang.pick("‹ 返回评估", "‹ Back to the review")) } }
        dl.facts #item-facts {
            dt { (lang.pick("评估期间", "Period")) } dd { (review_period(lang, &review.period)) }
            dt { (lang.pick("部分", "Part")) } dd { (review_section(lang, &item.section)) }
            dt { (lang.pick("评估项目", "Item")) } dd { strong { (item.title) } }
            dt { (lang.pick("满分", "Out of")) } dd { (item.max_score) (lang.pick(" 分", " points")) }
            dt { (lang.pick("系统数据", "Measured")) } dd { (measured(lang, item)) }
            dt { (lang.pick("目前得分", "Score now")) } dd { (score_text(lang, item)) }
        }
        form.stack #score-item method="post" action=(own) novalidate {
            (csrf(staff))
            (general_errors(errors, &["score", "evidence", "follow_up", "follow_up_due_on"]))
            div.field.invalid[err("score").is_some()] {
                label for="f-score" { (lang.pick("得分", "Score")) span.muted { (lang.pick("（0 到 ", " (0 to ")) (item.max_score) (lang.pick(" 分）", ")")) } }
                input #f-score type="number" name="score" min="0" max=(item.max_score) step="1" inputmode="numeric" value=(typed.score)
                    aria-invalid=[err("score").map(|_| "true")] aria-describedby=[described("score")];
                @if let Some(m) = err("score") { span.error #f-score-error role="alert" { (m) } }
            }
            div.field.invalid[err("evidence").is_some()] {
                label for="f-evidence" { (lang.pick("佐证材料", "Evidence")) span.muted { (lang.pick("（如：会议纪要、台账、照片）", " (minutes, records, photos)")) } }
                textarea #f-evidence name="evidence" rows="4" aria-invalid=[err("evidence").map(|_| "true")] aria-describedby=[described("evidence")] { (typed.evidence) }
                @if let Some(m) = err("evidence") { span.error #f-evidence-error role="alert" { (m) } }
            }
            div.field.invalid[err("follow_up").is_some()] {
                label for="f-follow_up" { (lang.pick("改进措施（可不填）", "Follow-up (optional)")) }
                textarea #f-follow_up name="follow_up" rows="3" aria-invalid=[err("follow_up").map(|_| "true")] aria-describedby=[described("follow_up")] { (typed.follow_up) }
                @if let Some(m) = err("follow_up") { span.error #f-follow_up-error role="alert" { (m) } }
            }
            div.field.invalid[err("follow_up_due_on").is_some()] {
                label for="f-follow_up_due_on" { (lang.pick("改进完成期限（可不填）", "Follow-up due (optional)")) }
                input #f-follow_up_due_on type="date" name="follow_up_due_on" value=(typed.due_on)
                    aria-invalid=[err("follow_up_due_on").map(|_| "true")] aria-describedby=[described("follow_up_due_on")];
                @if let Some(m) = err("follow_up_due_on") { span.error #f-follow_up_due_on-error role="alert" { (m) } }
            }
            button type="submit" { (lang.pick("保存评分", "Save the score")) }
            " " a href=(back) { (lang.pick("取消", "Cancel")) }
        }
    };
    let mut response = super::layout(
        staff,
        Section::Board,
        Some(centre),
        &format!(
            "{} · {}",
            review_period(lang, &review.period),
            lang.pick("评估打分", "Score an item")
        ),
        content,
    );
    if !errors.is_empty() {
        *response.status_mut() = axum::http::StatusCode::BAD_REQUEST;
    }
    Ok(response)
}

/// An item's scoring form, with what was scored before.
pub async fn item_form(
    State(state): State<AppState>,
    staff: Staff,
    Path((centre, review, key)): Path<(String, String, String)>,
) -> Page {
    let centre = staff.centre(Section::Board, &centre)?;
    if !may_review(&staff) {
        return Err(super::Refusal::forbidden());
    }
    let (review, item) = review_and_item(&state, &staff, &centre, &review, &key).await?;
    let typed = ScoreTyped {
        score: if item.scored {
            item.score.to_string()
        } else {
            String::new()
        },
        evidence: item.evidence.clone(),
        follow_up: item.follow_up.clone(),
        due_on: item.follow_up_due_on.clone(),
    };
    score_page(
        &staff,
        &centre,
        &review,
        &item,
        &typed,
        &FieldErrors::default(),
    )
}

/// 保存评分: a score that is a whole number within the item's maximum, then back to the
/// review with a notice.
pub async fn score(
    State(state): State<AppState>,
    Path((centre, review, key)): Path<(String, String, String)>,
    posted: Posted,
) -> Page {
    let staff = &posted.staff;
    let centre = staff.centre(Section::Board, &centre)?;
    let lang = staff.lang;
    let (review, item) = review_and_item(&state, staff, &centre, &review, &key).await?;
    let typed = ScoreTyped {
        score: posted.get("score").to_owned(),
        evidence: posted.get("evidence").to_owned(),
        follow_up: posted.get("follow_up").to_owned(),
        due_on: posted.get("follow_up_due_on").to_owned(),
    };
    let mut errors = FieldErrors::default();
    let score = typed.score.replace(['　', ' '], "");
    let score = score.strip_suffix('分').unwrap_or(&score).to_owned();
    let score = if score.is_empty() {
        errors.push("score", lang.pick("请填写得分", "Enter the score"));
        0
    } else {
        match score.parse::<i32>() {
            Ok(n) => n,
            Err(_) => {
                errors.push(
                    "score",
                    format!(
                        "{}{}{}",
                        lang.pick("请填写 0 到 ", "Enter a whole number from 0 to "),
                        item.max_score,
                        lang.pick(" 之间的整数", "")
                    ),
                );
                0
            }
        }
    };
    if errors.is_empty() {
        let scored = state
            .evaluation
            .clone()
            .score_org_review_item(staff.grpc(ev::ScoreOrgReviewItemRequest {
                centre_id: centre.id.clone(),
                review_id: review.id.clone(),
                item_key: item.key.clone(),
                score,
                evidence: typed.evidence.clone(),
                follow_up: typed.follow_up.clone(),
                follow_up_due_on: typed.due_on.clone(),
            }))
            .await;
        match scored {
            Ok(_) => {
                return Ok(Redirect::to(&format!(
                    "/c/{}/board/reviews?notice=scored&item={}#review-{}",
                    centre.id, item.key, review.id
                ))
                .into_response());
            }
            Err(status) if is_refusal(&status) => {
                errors = FieldErrors::from_status(&status, lang);
            }
            Err(status) => return Err(status.into()),
        }
    }
    score_page(staff, &centre, &review, &item, &typed, &errors)
}

/// One row of the checklist form, as typed.
#[derive(Default, Clone)]
struct ChecklistRow {
    key: String,
    section: String,
    title: String,
    max_score: String,
    measure: String,
    remove: bool,
}

const MEASURES: [&str; 5] = [
    "training_coverage",
    "utilisation",
    "partner_income",
    "self_sufficiency",
    "participation",
];

const SECTIONS: [&str; 6] = [
    "organisation",
    "staffing_training",
    "facilities_use",
    "partner_resources",
    "finance",
    "participation",
];

/// Rows for new items below the district's own.
const BLANK_ROWS: usize = 2;

fn checklist_page(
    staff: &Staff,
    centre: &pb::Centre,
    rows: &[ChecklistRow],
    errors: &FieldErrors,
    confirm: bool,
) -> Page {
    let lang = staff.lang;
    let own = format!("/c/{}/board/reviews/checklist", centre.id);
    let removed: Vec<&ChecklistRow> = rows
        .iter()
        .filter(|r| r.remove && !r.key.is_empty())
        .collect();
    let content = html! {
        @if !errors.is_empty() || confirm { span hidden data-page-url=(own) {} }
        p { a href=(format!("/c/{}/board/reviews", centre.id)) { (lang.pick("‹ 返回评估", "‹ Back to the reviews")) } }
        p { (lang.pick("评估清单全区通用。保存后，之后开始的评估使用新清单；已经开始的评估不变。",
                       "The checklist is the district's. Reviews begun after saving use it; reviews begun already keep theirs.")) }
        form #checklist method="post" action=(own) novalidate {
            (csrf(staff))
            (general_errors(errors, &[]))
            @if confirm {
                div.warning #confirm-remove role="alert" {
                    p.warning {
                        (lang.pick("将从清单中删除：", "To be removed from the checklist: "))
                        (removed.iter().map(|r| r.title.as_str()).collect::<Vec<_>>().join("、"))
                        (lang.pick("。确定删除并保存吗？", ". Remove them and save?"))
                    }
                    input type="hidden" name="confirm_remove" value="yes";
                    button.danger #confirm-save type="submit" { (lang.pick("确定删除并保存", "Remove and save")) }
                    " " a href=(own) { (lang.pick("不删除，重新编辑", "Keep them")) }
                }
            }
            div.scroll {
                table #checklist-items {
                    thead { tr {
                        th { (lang.pick("序号", "No.")) } th { (lang.pick("部分", "Part")) } th { (lang.pick("评估项目", "Item")) }
                        th { (lang.pick("满分", "Out of")) } th { (lang.pick("系统自动填入", "Linli measures")) } th { (lang.pick("删除", "Remove")) }
                    } }
                    tbody {
                        @for (n, r) in rows.iter().enumerate() {
                            @let e = |name: &str| errors.get(&format!("{name}_{n}"));
                            tr.invalid[["section", "title", "max_score", "measure"].iter().any(|f| e(f).is_some())] data-row=(n) {
                                td { (n + 1) input type="hidden" name=(format!("key_{n}")) value=(r.key); }
                                td {
                                    select name=(format!("section_{n}")) aria-label=(format!("{}{}", lang.pick("部分 ", "Part "), n + 1)) {
                                        option value="" { "—" }
                                        @for s in SECTIONS { option value=(s) selected[r.section == s] { (review_section(lang, s)) } }
                                    }
                                    @if let Some(m) = e("section") { span.error role="alert" { (m) } }
                                }
                                td {
                                    input type="text" name=(format!("title_{n}")) value=(r.title) aria-label=(format!("{}{}", lang.pick("评估项目 ", "Item "), n + 1));
                                    @if let Some(m) = e("title") { span.error role="alert" { (m) } }
                                }
                                td {
                                    input.narrow type="number" min="1" max="100" name=(format!("max_score_{n}")) value=(r.max_score) aria-label=(format!("{}{}", lang.pick("满分 ", "Out of "), n + 1));
                                    @if let Some(m) = e("max_score") { span.error role="alert" { (m) } }
                                }
                                td {
                                    select name=(format!("measure_{n}")) aria-label=(format!("{}{}", lang.pick("系统自动填入 ", "Measure "), n + 1)) {
                                        option value="" { (lang.pick("不自动填入", "Nothing")) }
                                        @for m in MEASURES { option value=(m) selected[r.measure == m] { (measure_name(lang, m)) } }
                                    }
                                    @if let Some(m) = e("measure") { span.error role="alert" { (m) } }
                                }
                                td {
                                    @if !r.key.is_empty() {
                                        label { input type="checkbox" name=(format!("remove_{n}")) value="yes" checked[r.remove]; span.sr { (lang.pick("删除此项", "Remove")) } }
                                    }
                                }
                            }
                        }
                    }
                }
            }
            p.muted { (lang.pick("新增项目：在最后的空行中填写；不需要的空行留空即可。", "New items: fill in the empty rows at the end; leave the rest empty.")) }
            @if !confirm { button #save-checklist type="submit" { (lang.pick("保存评估清单", "Save the checklist")) } }
        }
    };
    let mut response = super::layout(
        staff,
        Section::Board,
        Some(centre),
        lang.pick("运营管理评估清单", "Review checklist"),
        content,
    );
    if !errors.is_empty() {
        *response.status_mut() = axum::http::StatusCode::BAD_REQUEST;
    }
    Ok(response)
}

fn district_admin(staff: &Staff, centre: &str) -> Result<pb::Centre, super::Refusal> {
    let centre = staff.centre(Section::Board, centre)?;
    if !staff.has_role(Role::DistrictAdmin) {
        return Err(super::Refusal::forbidden());
    }
    Ok(centre)
}

/// The district's checklist, each item editable, with empty rows for new ones.
pub async fn checklist(
    State(state): State<AppState>,
    staff: Staff,
    Path(centre): Path<String>,
) -> Page {
    let centre = district_admin(&staff, &centre)?;
    let items = state
        .evaluation
        .clone()
        .get_review_checklist(staff.grpc(ev::GetReviewChecklistRequest {}))
        .await?
        .into_inner()
        .items;
    let mut rows: Vec<ChecklistRow> = items
        .into_iter()
        .map(|i| ChecklistRow {
            key: i.key,
            section: i.section,
            title: i.title,
            max_score: i.max_score.to_string(),
            measure: i.measure,
            remove: false,
        })
        .collect();
    rows.extend(std::iter::repeat_n(ChecklistRow::default(), BLANK_ROWS));
    checklist_page(&staff, &centre, &rows, &FieldErrors::default(), false)
}

/// 保存评估清单: the rows kept, the new ones given a key of their own; removing an item
/// asks first.
pub async fn save_checklist(
    State(state): State<AppState>,
    Path(centre): Path<String>,
    posted: Posted,
) -> Page {
    let staff = &posted.staff;
    let centre = district_admin(staff, &centre)?;
    let lang = staff.lang;
    let mut rows = Vec::new();
    for n in 0..60 {
        if !posted.fields.iter().any(|(k, _)| k == &format!("key_{n}")) {
            break;
        }
        let get = |name: &str| posted.get(&format!("{name}_{n}")).to_owned();
        rows.push(ChecklistRow {
            key: get("key"),
            section: get("section"),
            title: get("title"),
            max_score: get("max_score"),
            measure: get("measure"),
            remove: get("remove") == "yes",
        });
    }
    let mut errors = FieldErrors::default();
    // The rows sent, by their row on the page; an empty new row is no item.
    let mut sent: Vec<usize> = Vec::new();
    let mut items = Vec::new();
    for (n, r) in rows.iter().enumerate() {
        let blank = r.key.is_empty() && r.title.is_empty() && r.max_score.is_empty();
        if blank || r.remove {
            continue;
        }
        let max_score = match r.max_score.parse::<i32>() {
            Ok(v) => v,
            Err(_) => {
                errors.push(
                    &format!("max_score_{n}"),
                    lang.pick(
                        "请填写 1 到 100 之间的整数",
                        "Enter a whole number from 1 to 100",
                    ),
                );
                0
            }
        };
        if r.section.is_empty() {
            errors.push(
                &format!("section_{n}"),
                lang.pick("请选择部分", "Choose the part"),
            );
        }
        let key = if r.key.is_empty() {
            format!("item_{}", &Uuid::new_v4().simple().to_string()[..10])
        } else {
            r.key.clone()
        };
        sent.push(n);
        items.push(ev::ChecklistItem {
            key,
            section: r.section.clone(),
            title: r.title.clone(),
            max_score,
            measure: r.measure.clone(),
        });
    }
    if errors.is_empty() && items.is_empty() {
        errors.push(
            "general",
            lang.pick("清单至少要有一项", "The checklist needs at least one item"),
        );
    }
    let removing = rows.iter().any(|r| r.remove && !r.key.is_empty());
    if errors.is_empty() && removing && posted.get("confirm_remove") != "yes" {
        return checklist_page(staff, &centre, &rows, &errors, true);
    }
    if errors.is_empty() {
        let saved = state
            .evaluation
            .clone()
            .set_review_checklist(staff.grpc(ev::SetReviewChecklistRequest { items }))
            .await;
        match saved {
            Ok(_) => {
                return Ok(Redirect::to(&format!(
                    "/c/{}/board/reviews?notice=checklist",
                    centre.id
                ))
                .into_response());
            }
            Err(status) if is_refusal(&status) => {
                // items[2].title is the title of the page's row the third item came from.
                let violations = linli_platform::error::violations_of(&status);
                if violations.is_empty() {
                    errors.push("general", super::i18n::refusal(lang, &status));
                }
                for v in violations {
                    let message = crate::catalogue::field_message(lang, &v);
                    let at = v
                        .field
                        .strip_prefix("items[")
                        .and_then(|rest| rest.split_once("]."))
                        .and_then(|(i, name)| Some((i.parse::<usize>().ok()?, name.to_owned())));
                    match at {
                        Some((i, name)) if i < sent.len() => {
                            errors.push(&format!("{name}_{}", sent[i]), message)
                        }
                        _ => errors.push("general", message),
                    }
                }
            }
            Err(status) => return Err(status.into()),
        }
    }
    checklist_page(staff, &centre, &rows, &errors, false)
}
