//! The dashboard: the plan's KPIs for a centre against their targets with a year of
//! monthly trends, and for district admins every centre side by side with the roll-up.

use super::Query;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect};
use chrono::{Datelike, Months, NaiveDate};
use linli_proto::evaluation::v1 as ev;
use maud::html;
use serde::Deserialize;
use uuid::Uuid;

use super::{
    Page, Refusal, Section, Staff, charts, clock, i18n, instant, layout, percent, today, zone,
};
use crate::AppState;

#[derive(Deserialize, Default)]
pub struct DashboardQuery {
    centre: Option<String>,
    period: Option<String>,
    /// The section to open in the chosen centre (the picker keeps the one the user was in).
    to: Option<String>,
}

#[derive(Deserialize, Default)]
pub struct ChooseQuery {
    #[serde(default)]
    to: String,
}

/// `/centres?to=residents`: which centre to work in, for a user who sees several and has
/// not chosen one yet (a district admin opening 居民 from the district's pages).
pub async fn choose_centre(staff: Staff, Query(query): Query<ChooseQuery>) -> Page {
    let section = Section::from_path(&query.to).unwrap_or(Section::Dashboard);
    staff.require(section)?;
    let lang = staff.lang;
    let path = section.path().unwrap_or("dashboard");
    if let (Some(centre), false) = (staff.home_centre(), staff.caller.is_district_wide()) {
        return Ok(Redirect::to(&format!("/c/{centre}/{path}")).into_response());
    }
    let content = html! {
        p { (lang.pick("请选择要进入的中心：", "Choose the centre to work in:")) }
        ul.centres #centres {
            @for c in &staff.centres {
                li { a.button href=(format!("/c/{}/{path}", c.id)) { (c.name) } }
            }
            @if staff.centres.is_empty() { li { (lang.pick("没有可进入的中心。", "No centres.")) } }
        }
    };
    Ok(layout(
        &staff,
        section,
        None,
        &format!(
            "{} · {}",
            lang.pick("选择中心", "Choose a centre"),
            section.title(lang)
        ),
        content,
    ))
}

const KPI_ORDER: [&str; 7] = [
    "participation",
    "satisfaction",
    "awareness",
    "volunteer_ratio",
    "training_coverage",
    "self_sufficiency",
    "facility_utilisation",
];

fn month(day: NaiveDate) -> String {
    format!("{:04}-{:02}", day.year(), day.month())
}

/// The month to show, chosen from the last two years by name (2026年12月): a month input
/// shows its value in the browser's language, which need not be the page's.
fn month_choice(lang: super::Lang, period: &str, today: NaiveDate) -> maud::Markup {
    let months: Vec<NaiveDate> = (0..24)
        .filter_map(|back| today.with_day(1)?.checked_sub_months(Months::new(back)))
        .collect();
    html! {
        select #period name="period" {
            @for m in &months {
                @let value = month(*m);
                option value=(value) selected[value == period] {
                    (match lang {
                        super::Lang::Zh => format!("{}年{}月", m.year(), m.month()),
                        super::Lang::En => m.format("%B %Y").to_string(),
                    })
                }
            }
        }
    }
}

/// "2026-12" as people say it: 2026年12月 (December 2026).
fn month_words(lang: super::Lang, period: &str) -> String {
    match NaiveDate::parse_from_str(&format!("{period}-01"), "%Y-%m-%d") {
        Ok(m) => match lang {
            super::Lang::Zh => format!("{}年{}月", m.year(), m.month()),
            super::Lang::En => m.format("%B %Y").to_string(),
        },
        Err(_) => period.to_owned(),
    }
}

fn valid_period(text: &str) -> bool {
    NaiveDate::parse_from_str(&format!("{text}-01"), "%Y-%m-%d").is_ok()
}

/// What a KPI's counts are in, in words: 人, 份, 小时, 元; none for a unit not known.
fn unit_words(lang: super::Lang, unit: &str) -> Option<&'static str> {
    Some(match unit {
        "fen" => lang.pick("元", "yuan"),
        "seconds" => lang.pick("小时", "hours"),
        "answers" => lang.pick("份问卷", "answers"),
        "respondents" | "residents" | "staff" => lang.pick("人", "people"),
        "visits" | "bookings" | "attendances" => lang.pick("人次", "visits"),
        _ => return None,
    })
}

fn figure(kpi: &ev::Kpi) -> String {
    if !kpi.has_data {
        return "—".into();
    }
    percent(kpi.value)
}

pub async fn home(
    State(state): State<AppState>,
    staff: Staff,
    Query(query): Query<DashboardQuery>,
) -> Page {
    staff.require(Section::Dashboard)?;
    if let Some(centre) = query.centre.as_deref().filter(|c| !c.is_empty()) {
        let centre = Uuid::parse_str(centre).map_err(|_| Refusal::bad_query())?;
        let path = query
            .to
            .as_deref()
            .and_then(Section::from_path)
            .and_then(Section::path)
            .unwrap_or("dashboard");
        return Ok(Redirect::to(&format!("/c/{centre}/{path}")).into_response());
    }
    if !staff.caller.is_district_wide() {
        return match staff.home_centre() {
            Some(centre) => Ok(Redirect::to(&format!("/c/{centre}/dashboard")).into_response()),
            None => Err(Refusal::forbidden()),
        };
    }
    let lang = staff.lang;
    let period = query
        .period
        .filter(|p| valid_period(p))
        .unwrap_or_else(|| month(chrono::Utc::now().date_naive()));
    let district = state
        .evaluation
        .clone()
        .get_district_kpis(staff.grpc(ev::GetDistrictKpisRequest {
            period: period.clone(),
        }))
        .await?
        .into_inner();
    let name_of = |id: &str| {
        staff
            .centres
            .iter()
            .find(|c| c.id == id)
            .map(|c| c.name.clone())
            .unwrap_or_else(|| id.to_owned())
    };
    let find = |kpis: &[ev::Kpi], name: &str| kpis.iter().find(|k| k.name == name).cloned();
    // Every KPI the evaluation service returns (the district's list, in the plan's order
    // first), each compared across the centres on a scale of 0 to 100% (further only for a
    // ratio past 100%, such as self-sufficiency), with its target and its unit in words.
    let mut names: Vec<String> = KPI_ORDER
        .iter()
        .filter(|n| district.district.iter().any(|k| k.name == **n))
        .map(|n| (*n).to_owned())
        .collect();
    for c in std::iter::once(&district.district).chain(district.centres.iter().map(|c| &c.kpis)) {
        for k in c {
            if !names.contains(&k.name) {
                names.push(k.name.clone());
            }
        }
    }
    let compared: Vec<(String, f64, String, Vec<charts::Compared>)> = names
        .iter()
        .map(|name| {
            let any = find(&district.district, name)
                .or_else(|| district.centres.iter().find_map(|c| find(&c.kpis, name)));
            let target = any.as_ref().map_or(0.0, |k| k.target);
            let unit = any.as_ref().map_or("", |k| k.unit.as_str()).to_owned();
            let rows = district
                .centres
                .iter()
                .map(|c| {
                    let kpi = find(&c.kpis, name);
                    charts::Compared {
                        label: name_of(&c.centre_id),
                        value: kpi.as_ref().filter(|k| k.has_data).map(|k| k.value),
                        detail: kpi
                            .as_ref()
                            .filter(|k| k.has_data)
                            .map(|k| {
                                format!(
                                    "{} / {}",
                                    i18n::kpi_amount(lang, &k.unit, k.numerator),
                                    i18n::kpi_amount(lang, &k.unit, k.denominator)
                                )
                            })
                            .unwrap_or_default(),
                    }
                })
                .collect();
            (name.clone(), target, unit, rows)
        })
        .collect();
    // Each centre's latest organisation review, for the comparison below the KPIs.
    let mut reviews = Vec::new();
    for c in &staff.centres {
        reviews.push((c.clone(), latest_review(&state, &staff, &c.id).await?));
    }
    let content = html! {
        form.filters method="get" action="/dashboard" {
            label for="period" { (lang.pick("月份", "Month")) }
            (month_choice(lang, &period, chrono::Utc::now().date_naive()))
            button type="submit" { (lang.pick("查看", "Show")) }
        }
        section {
            h2 { (lang.pick("各中心与全区汇总", "Centres side by side, and the district")) " · " (month_words(lang, &period)) }
            // How old the figures are (kept for a short while): the oldest centre's, in
            // the district's time.
            @if let Some(at) = instant(&district.computed_at) {
                p.muted #computed-at { (lang.pick("数据截至 ", "Figures as of ")) (clock(at, chrono_tz::Asia::Shanghai)) }
            }
            div.scroll {
                table #district-kpis {
                    thead { tr {
                        th scope="col" { (lang.pick("中心", "Centre")) }
                        @for name in KPI_ORDER { th scope="col" { (i18n::kpi(lang, name)) } }
                    } }
                    tbody {
                        @for c in &district.centres {
                            tr {
                                th scope="row" { a href=(format!("/c/{}/dashboard?period={period}", c.centre_id)) { (name_of(&c.centre_id)) } }
                                @for name in KPI_ORDER {
                                    @let kpi = find(&c.kpis, name);
                                    td.num.met[kpi.as_ref().is_some_and(|k| k.has_data && k.met)].missed[kpi.as_ref().is_some_and(|k| k.has_data && k.target > 0.0 && !k.met)] {
                                        (kpi.as_ref().map(figure).unwrap_or_default())
                                    }
                                }
                            }
                        }
                        tr.total {
                            th scope="row" { (lang.pick("全区", "District")) }
                            @for name in KPI_ORDER {
                                @let kpi = find(&district.district, name);
                                td.num { (kpi.as_ref().map(figure).unwrap_or_default()) }
                            }
                        }
                    }
                }
            }
        }
        section #district-charts {
            h2 { (lang.pick("各中心对比", "Centres compared")) }
            p.muted { (lang.pick("每项指标一张图：横条为各中心的百分比，虚线为目标，条下为计算所用的数量。", "One chart per KPI: each centre's percentage as a bar, the target as a dashed line, and the counts under each bar.")) }
            div.grid.charts {
                @for (name, target, unit, rows) in &compared {
                    figure data-kpi=(name) {
                        figcaption {
                            span.title { (i18n::kpi(lang, name)) }
                            span.unit { " · " (lang.pick("单位", "unit")) " %" @if let Some(words) = unit_words(lang, unit) { (lang.pick("，按", ", counted in ")) (words) (lang.pick("计", "")) } }
                            @if *target > 0.0 { span.unit { " · " (lang.pick("目标", "target")) " ≥ " (percent(*target)) } } @else { span.unit { " · " (lang.pick("仅报告，无目标", "reported, no target")) } }
                        }
                        (charts::compare(&i18n::kpi(lang, name), rows, *target, lang.pick("暂无数据", "no data")))
                    }
                }
            }
        }
        (review_comparison(lang, &reviews))
    };
    Ok(layout(
        &staff,
        Section::Dashboard,
        None,
        lang.pick("全区概览", "District dashboard"),
        content,
    ))
}

pub async fn centre(
    State(state): State<AppState>,
    staff: Staff,
    Path(centre): Path<String>,
    Query(query): Query<DashboardQuery>,
) -> Page {
    let centre = staff.centre(Section::Dashboard, &centre)?;
    let lang = staff.lang;
    let now = today(&centre);
    let period = query
        .period
        .filter(|p| valid_period(p))
        .unwrap_or_else(|| month(now));
    let kpis = state
        .evaluation
        .clone()
        .get_centre_kpis(staff.grpc(ev::GetCentreKpisRequest {
            centre_id: centre.id.clone(),
            period: period.clone(),
        }))
        .await?
        .into_inner();
    let first = now
        .with_day(1)
        .and_then(|d| d.checked_sub_months(Months::new(11)))
        .unwrap_or(now);
    let mut trends = Vec::new();
    for name in KPI_ORDER {
        let series = state
            .evaluation
            .clone()
            .get_kpi_series(staff.grpc(ev::GetKpiSeriesRequest {
                centre_id: centre.id.clone(),
                kpi: name.into(),
                from_month: month(first),
                to_month: month(now),
            }))
            .await?
            .into_inner();
        let target = kpis
            .kpis
            .iter()
            .find(|k| k.name == name)
            .map_or(0.0, |k| k.target);
        let points: Vec<(String, Option<f64>)> = series
            .points
            .iter()
            .map(|p| {
                let value = p.kpi.as_ref().filter(|k| k.has_data).map(|k| k.value);
                (p.period.clone(), value)
            })
            .collect();
        trends.push((name, points, target));
    }
    let review = latest_review(&state, &staff, &centre.id).await?;
    let content = html! {
        form.filters method="get" {
            label for="period" { (lang.pick("月份", "Month")) }
            (month_choice(lang, &period, chrono::Utc::now().date_naive()))
            button type="submit" { (lang.pick("查看", "Show")) }
        }
        p { (lang.pick("登记居民", "Registered residents")) ": " strong #registered { (kpis.registered_residents) } }
        @if let Some(at) = instant(&kpis.computed_at) {
            p.muted #computed-at { (lang.pick("数据截至 ", "Figures as of ")) (clock(at, zone(&centre))) }
        }
        table #kpis {
            thead { tr {
                th scope="col" { (lang.pick("指标", "KPI")) }
                th scope="col" { (lang.pick("本期", "This period")) }
                th scope="col" { (lang.pick("目标", "Target")) }
                th scope="col" { (lang.pick("分子 / 分母", "Numerator / denominator")) }
                th scope="col" { (lang.pick("达标", "Met")) }
            } }
            tbody {
                @for name in KPI_ORDER {
                    @if let Some(kpi) = kpis.kpis.iter().find(|k| k.name == name) {
                        tr #(format!("kpi-{name}")) data-numerator=(kpi.numerator) data-denominator=(kpi.denominator) {
                            th scope="row" { (i18n::kpi(lang, name)) }
                            td.num.value { (figure(kpi)) }
                            td.num { @if kpi.target > 0.0 { "≥ " (percent(kpi.target)) } @else { (lang.pick("仅报告", "reported")) } }
                            td.num.fraction { (i18n::kpi_amount(lang, &kpi.unit, kpi.numerator)) " / " (i18n::kpi_amount(lang, &kpi.unit, kpi.denominator)) }
                            td {
                                @if !kpi.has_data { span.badge { (lang.pick("暂无数据", "no data")) } }
                                @else if kpi.target <= 0.0 { }
                                @else if kpi.met { span.badge.ok { "✓ " (lang.pick("达标", "met")) } }
                                @else { span.badge.warn { "✗ " (lang.pick("未达标", "below")) } }
                            }
                        }
                    }
                }
            }
        }
        section.trends {
            h2 { (lang.pick("近十二个月趋势", "The last twelve months")) }
            div.grid.charts {
                @for (name, points, target) in &trends {
                    figure {
                        figcaption { (i18n::kpi(lang, name)) @if *target > 0.0 { span.unit { " · " (lang.pick("目标", "target")) " " (percent(*target)) } } }
                        (charts::trend(&i18n::kpi(lang, name), points, *target))
                    }
                }
            }
        }
        (review_summary(lang, &centre, review.as_ref()))
    };
    Ok(layout(
        &staff,
        Section::Dashboard,
        Some(&centre),
        &format!("{} · {}", centre.name, lang.pick("概览", "Dashboard")),
        content,
    ))
}

/// The centre's latest organisation review (运营管理评估), or None when it has none or the
/// caller may not read reviews.
async fn latest_review(
    state: &AppState,
    staff: &Staff,
    centre_id: &str,
) -> Result<Option<ev::OrgReview>, tonic::Status> {
    match state
        .evaluation
        .clone()
        .list_org_reviews(staff.grpc(ev::ListOrgReviewsRequest {
            centre_id: centre_id.to_owned(),
        }))
        .await
    {
        // The latest first.
        Ok(list) => Ok(list.into_inner().reviews.into_iter().next()),
        Err(status) if status.code() == tonic::Code::PermissionDenied => Ok(None),
        Err(status) => Err(status),
    }
}

/// The day a review began, in the centre's time zone, in words (2026年12月5日).
fn review_day(lang: super::Lang, review: &ev::OrgReview, zone: chrono_tz::Tz) -> String {
    review
        .started_at
        .as_ref()
        .and_then(|t| chrono::DateTime::from_timestamp(t.seconds, 0))
        .map(|t| i18n::day(lang, t.with_timezone(&zone).date_naive()))
        .unwrap_or_default()
}

/// A review's score per part of the checklist, in the checklist's order: the part, the
/// score of its scored items (None when none is scored yet) and its maximum.
fn review_sections(review: &ev::OrgReview) -> Vec<(String, Option<i32>, i32)> {
    let mut parts: Vec<(String, Option<i32>, i32)> = Vec::new();
    for item in &review.items {
        let at = match parts.iter().position(|p| p.0 == item.section) {
            Some(at) => at,
            None => {
                parts.push((item.section.clone(), None, 0));
                parts.len() - 1
            }
        };
        let part = &mut parts[at];
        part.2 += item.max_score;
        if item.scored {
            part.1 = Some(part.1.unwrap_or_default() + item.score);
        }
    }
    parts
}

/// The centre page's 运营管理评估: the latest review's period and day in words, its total
/// score and each part's, linked to the review page.
fn review_summary(
    lang: super::Lang,
    centre: &linli_proto::registry::v1::Centre,
    review: Option<&ev::OrgReview>,
) -> maud::Markup {
    html! {
        section #org-review {
            h2 { (lang.pick("运营管理评估", "Organisation review")) }
            @match review {
                None => p.muted { (lang.pick("本中心尚未开始运营管理评估。", "The centre has no organisation review yet.")) }
                Some(r) => {
                    p {
                        (lang.pick("最近一次：", "Latest: ")) (super::board::review_period(lang, &r.period))
                        (lang.pick("，", ", begun ")) (review_day(lang, r, super::zone(centre))) (lang.pick("开始", ""))
                    }
                    p { (lang.pick("总分：", "Total score: ")) strong #org-review-total { (r.total_score) " / " (r.max_total) } (lang.pick(" 分", "")) }
                    table #org-review-sections {
                        thead { tr {
                            th scope="col" { (lang.pick("部分", "Part")) }
                            th scope="col" { (lang.pick("得分", "Score")) }
                        } }
                        tbody {
                            @for (section, score, max) in review_sections(r) {
                                tr {
                                    th scope="row" { (super::board::review_section(lang, &section)) }
                                    td.num {
                                        @match score {
                                            Some(s) => { (s) " / " (max) }
                                            None => { (lang.pick("未评分", "Not scored")) (lang.pick("（满分 ", " (out of ")) (max) (lang.pick("）", ")")) }
                                        }
                                    }
                                }
                            }
                        }
                    }
                    p { a href=(format!("/c/{}/board/reviews", centre.id)) { (lang.pick("查看评估详情", "See the review")) } }
                }
            }
        }
    }
}

/// The district page's comparison of the centres' latest organisation reviews: a bar each
/// for the share of the maximum scored so far, the score, period and day under it, and a
/// table of the same.
fn review_comparison(
    lang: super::Lang,
    reviews: &[(linli_proto::registry::v1::Centre, Option<ev::OrgReview>)],
) -> maud::Markup {
    let title = lang.pick(
        "运营管理评估 · 各中心最近一次得分",
        "Organisation review: each centre's latest score",
    );
    let rows: Vec<charts::Compared> = reviews
        .iter()
        .map(|(c, r)| charts::Compared {
            label: c.name.clone(),
            value: r
                .as_ref()
                .filter(|r| r.max_total > 0)
                .map(|r| r.total_score as f64 / r.max_total as f64),
            detail: r
                .as_ref()
                .map(|r| {
                    format!(
                        "{} {} / {}{} · {}",
                        lang.pick("得分", "score"),
                        r.total_score,
                        r.max_total,
                        lang.pick(" 分", ""),
                        super::board::review_period(lang, &r.period)
                    )
                })
                .unwrap_or_default(),
        })
        .collect();
    html! {
        section #district-reviews {
            h2 { (title) }
            p.muted { (lang.pick("横条为得分占满分的百分比，条下为得分与评估期间；尚未评估的中心注明“暂无评估”。", "Each bar is the score as a share of the maximum, with the score and period under it.")) }
            div.grid.charts {
                figure data-kpi="org_review" {
                    figcaption { span.title { (lang.pick("运营管理评估得分", "Organisation review score")) } span.unit { " · " (lang.pick("单位", "unit")) " %" } }
                    (charts::compare(title, &rows, 0.0, lang.pick("暂无评估", "no review")))
                }
            }
            div.scroll {
                table #district-review-scores {
                    thead { tr {
                        th scope="col" { (lang.pick("中心", "Centre")) }
                        th scope="col" { (lang.pick("评估期间", "Period")) }
                        th scope="col" { (lang.pick("开始日期", "Begun")) }
                        th scope="col" { (lang.pick("总分", "Total")) }
                    } }
                    tbody {
                        @for (c, r) in reviews {
                            tr {
                                th scope="row" { a href=(format!("/c/{}/board/reviews", c.id)) { (c.name) } }
                                @match r {
                                    Some(r) => {
                                        td { (super::board::review_period(lang, &r.period)) }
                                        td { (review_day(lang, r, super::zone(c))) }
                                        td.num { (r.total_score) " / " (r.max_total) }
                                    }
                                    None => { td colspan="3" { (lang.pick("暂无评估", "No review yet")) } }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}
