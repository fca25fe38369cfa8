//! Finance: budget against actual per category as a chart, income by funding source,
//! self-sufficiency against the plan's target, and the transparency report as CSV.

use super::Query;
use axum::extract::{Path, State};
use axum::http::header;
use axum::response::IntoResponse;
use chrono::Datelike;
use linli_proto::finance::v1 as fi;
use maud::html;
use serde::Deserialize;

use super::{Page, Section, Staff, charts, i18n, money, today};
use crate::AppState;

#[derive(Deserialize, Default)]
pub struct YearQuery {
    year: Option<i32>,
}

async fn report(
    state: &AppState,
    staff: &Staff,
    centre: &str,
    from: String,
    to: String,
) -> Result<fi::TransparencyReport, super::Refusal> {
    Ok(state
        .finance
        .clone()
        .get_transparency_report(staff.grpc(fi::GetTransparencyReportRequest {
            centre_id: centre.to_owned(),
            from,
            to,
        }))
        .await?
        .into_inner())
}

fn range(staff_today: chrono::NaiveDate, year: Option<i32>) -> (i32, String, String) {
    let year = year
        .filter(|y| (2000..=2100).contains(y))
        .unwrap_or(staff_today.year());
    let last = if year == staff_today.year() {
        staff_today.month()
    } else {
        12
    };
    (
        year,
        format!("{year:04}-01"),
        format!("{year:04}-{last:02}"),
    )
}

pub async fn overview(
    State(state): State<AppState>,
    staff: Staff,
    Path(centre): Path<String>,
    Query(query): Query<YearQuery>,
) -> Page {
    let centre = staff.centre(Section::Finance, &centre)?;
    let lang = staff.lang;
    let (year, from, to) = range(today(&centre), query.year);
    let r = report(&state, &staff, &centre.id, from.clone(), to.clone()).await?;
    let budget = r.budget_execution.clone().unwrap_or_default();
    let sufficiency = r.self_sufficiency.clone().unwrap_or_default();
    let rows: Vec<(String, i64, i64)> = budget
        .categories
        .iter()
        .map(|c| {
            (
                i18n::term(lang, &c.category),
                c.budget_minor,
                c.actual_minor,
            )
        })
        .collect();
    let income: Vec<(String, i64)> = r
        .income_by_source
        .iter()
        .map(|a| (i18n::term(lang, &a.key), a.amount_minor))
        .collect();
    let content = html! {
        form.filters method="get" {
            label for="year" { (lang.pick("年度", "Year")) }
            input #year type="number" name="year" min="2000" max="2100" value=(year);
            button type="submit" { (lang.pick("查看", "Show")) }
            a.button href=(format!("/c/{}/finance/transparency.csv?year={year}", centre.id)) download { (lang.pick("下载公开报告 (CSV)", "Download the transparency report (CSV)")) }
        }
        section #self-sufficiency {
            h2 { (i18n::kpi(lang, "self_sufficiency")) " · " (from) " – " (to) }
            p.big {
                strong { (format!("{:.1}%", sufficiency.ratio_basis_points as f64 / 100.0)) }
                " " (lang.pick("（目标 ≥ 50%）", "(target ≥ 50%)")) " "
                @if sufficiency.meets_target { span.badge.ok { "✓ " (lang.pick("达标", "met")) } } @else { span.badge.warn { "✗ " (lang.pick("未达标", "below")) } }
            }
            p { (lang.pick("自有收入 ", "Own income ")) (money(sufficiency.own_income_minor)) " · " (lang.pick("支出 ", "expenditure ")) (money(sufficiency.expenditure_minor)) }
        }
        section {
            h2 { (lang.pick("预算执行", "Budget against actual")) " · " (year) }
            (charts::paired_bars(lang.pick("预算执行", "Budget against actual"), &rows, (lang.pick("预算", "budget"), lang.pick("实际", "actual")), money))
            table #budget {
                thead { tr { th { (lang.pick("类别", "Category")) } th { (lang.pick("预算", "Budget")) } th { (lang.pick("实际", "Actual")) } th { (lang.pick("执行率", "Executed")) } } }
                tbody {
                    @for c in &budget.categories {
                        tr { td { (i18n::term(lang, &c.category)) } td.num { (money(c.budget_minor)) } td.num { (money(c.actual_minor)) } td.num { (format!("{:.1}%", c.executed_basis_points as f64 / 100.0)) } }
                    }
                    tr.total { th { (lang.pick("合计", "Total")) } td.num { (money(budget.budget_total_minor)) } td.num { (money(budget.actual_total_minor)) } td {} }
                }
            }
        }
        section {
            h2 { (lang.pick("收入来源", "Income by funding source")) }
            (charts::bars(lang.pick("收入来源", "Income by funding source"), &income, money))
            table #income {
                tbody {
                    @for (label, amount) in &income { tr { td { (label) } td.num { (money(*amount)) } } }
                    tr.total { th { (lang.pick("合计", "Total")) } td.num { (money(r.income_total_minor)) } }
                }
            }
        }
    };
    Ok(super::layout(
        &staff,
        Section::Finance,
        Some(&centre),
        &format!("{} · {}", centre.name, lang.pick("财务", "Finance")),
        content,
    ))
}

pub async fn transparency_csv(
    State(state): State<AppState>,
    staff: Staff,
    Path(centre): Path<String>,
    Query(query): Query<YearQuery>,
) -> Page {
    let centre = staff.centre(Section::Finance, &centre)?;
    let (_, from, to) = range(today(&centre), query.year);
    let r = report(&state, &staff, &centre.id, from, to).await?;
    let filename = format!("transparency-{}-{}.csv", r.from, r.to);
    let r: crate::finance::TransparencyReport = r.into();
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{filename}\""),
            ),
        ],
        crate::finance::csv(&r),
    )
        .into_response())
}
