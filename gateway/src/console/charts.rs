//! Charts as inline SVG, drawn from numbers on the server: a monthly trend line with its
//! target, and paired bars (budget against actual). Text in them is escaped like any other.

use maud::{Markup, html};

const WIDTH: f64 = 560.0;
const HEIGHT: f64 = 200.0;
const LEFT: f64 = 62.0;
const BOTTOM: f64 = 34.0;
const TOP: f64 = 14.0;

/// A monthly trend of a ratio (0..1) with the target as a dashed line; months without data
/// leave a gap. The scale runs from 0 to 100% (further, in whole steps of 50%, only for a
/// ratio past 100% such as self-sufficiency); a trend with a single month of data is that
/// month's figure, not a lonely dot.
pub fn trend(title: &str, points: &[(String, Option<f64>)], target: f64) -> Markup {
    let known: Vec<(&String, f64)> = points
        .iter()
        .filter_map(|(label, v)| v.map(|v| (label, v)))
        .collect();
    if let [(label, value)] = known.as_slice() {
        return html! {
            p.single-figure role="img" aria-label=(title) {
                strong { (format!("{:.1}%", value * 100.0)) }
                " " span.unit { (label.split_once('-').map(|(y, _)| format!("{y}年{}", month_label(label))).unwrap_or_else(|| (*label).clone())) }
            }
        };
    }
    let max = known
        .iter()
        .map(|(_, v)| *v)
        .fold(target.max(1.0), f64::max)
        .min(10.0);
    let max = (max * 2.0).ceil() / 2.0;
    let plot_w = WIDTH - LEFT - 8.0;
    let plot_h = HEIGHT - BOTTOM - TOP;
    let step = if points.len() > 1 {
        plot_w / (points.len() - 1) as f64
    } else {
        0.0
    };
    let x = |i: usize| LEFT + step * i as f64;
    let y = |v: f64| TOP + plot_h - (v / max) * plot_h;
    let mut path = String::new();
    let mut pen_up = true;
    for (i, (_, value)) in points.iter().enumerate() {
        match value {
            Some(v) => {
                path.push_str(&format!(
                    "{}{:.1},{:.1} ",
                    if pen_up { "M" } else { "L" },
                    x(i),
                    y(*v)
                ));
                pen_up = false;
            }
            None => pen_up = true,
        }
    }
    let ticks = [0.0, max / 2.0, max];
    html! {
        svg.chart viewBox=(format!("0 0 {WIDTH} {HEIGHT}")) role="img" aria-label=(title) {
            title { (title) }
            @for t in ticks {
                line.grid x1=(LEFT) x2=(WIDTH - 8.0) y1=(format!("{:.1}", y(t))) y2=(format!("{:.1}", y(t))) {}
                text.axis x=(LEFT - 6.0) y=(format!("{:.1}", y(t) + 6.0)) text-anchor="end" { (format!("{:.0}%", t * 100.0)) }
            }
            @if target > 0.0 {
                line.target x1=(LEFT) x2=(WIDTH - 8.0) y1=(format!("{:.1}", y(target))) y2=(format!("{:.1}", y(target))) {}
            }
            path.series d=(path) {}
            @for (i, (label, value)) in points.iter().enumerate() {
                @if let Some(v) = value {
                    circle.point cx=(format!("{:.1}", x(i))) cy=(format!("{:.1}", y(*v))) r="3" { title { (label) ": " (format!("{:.1}%", v * 100.0)) } }
                }
                @if i % 2 == 0 || points.len() <= 6 {
                    text.axis x=(format!("{:.1}", x(i))) y=(HEIGHT - 8.0) text-anchor="middle" { (month_label(label)) }
                }
            }
        }
    }
}

/// "2026-03" on an axis: 3月.
fn month_label(period: &str) -> String {
    period
        .split_once('-')
        .map(|(_, m)| format!("{}月", m.trim_start_matches('0')))
        .unwrap_or_else(|| period.to_owned())
}

/// Horizontal paired bars: for each label, a planned amount and an actual one.
pub fn paired_bars(
    title: &str,
    rows: &[(String, i64, i64)],
    legend: (&str, &str),
    format: impl Fn(i64) -> String,
) -> Markup {
    let max = rows
        .iter()
        .map(|(_, a, b)| (*a).max(*b))
        .max()
        .unwrap_or(1)
        .max(1) as f64;
    let label_w = 150.0;
    let bar_w = WIDTH - label_w - 20.0;
    // Each row: the two bars, then their figures on a line of their own under them, so a
    // long figure beside a full bar is never cut off at the edge.
    let row_h = 48.0;
    let height = rows.len() as f64 * row_h + 30.0;
    html! {
        svg.chart.bars viewBox=(format!("0 0 {WIDTH} {height}")) role="img" aria-label=(title) {
            title { (title) }
            rect.planned x=(label_w) y="4" width="12" height="10" {}
            text.axis x=(label_w + 16.0) y="13" { (legend.0) }
            rect.actual x=(label_w + 120.0) y="4" width="12" height="10" {}
            text.axis x=(label_w + 136.0) y="13" { (legend.1) }
            @for (i, (label, planned, actual)) in rows.iter().enumerate() {
                @let top = 24.0 + i as f64 * row_h;
                text.label x=(label_w - 6.0) y=(format!("{:.1}", top + 16.0)) text-anchor="end" { (label) }
                rect.planned x=(label_w) y=(format!("{:.1}", top + 2.0)) width=(format!("{:.1}", (*planned as f64 / max) * bar_w)) height="12" { title { (legend.0) " " (format(*planned)) } }
                rect.actual.over[*actual > *planned && *planned > 0] x=(label_w) y=(format!("{:.1}", top + 15.0)) width=(format!("{:.1}", (*actual as f64 / max) * bar_w)) height="12" { title { (legend.1) " " (format(*actual)) } }
                text.axis x=(label_w) y=(format!("{:.1}", top + 40.0)) { (legend.1) " " (format(*actual)) " · " (legend.0) " " (format(*planned)) }
            }
        }
    }
}

/// Single bars for shares of a whole (income by source).
pub fn bars(title: &str, rows: &[(String, i64)], format: impl Fn(i64) -> String) -> Markup {
    scaled_bars(title, rows, 1, format)
}

/// Single bars on a scale that reaches at least `floor`: ratios in per mille on a scale of
/// 0 to 100% (`floor` 1000), so a 0.9% bar is a sliver and not the whole width.
pub fn scaled_bars(
    title: &str,
    rows: &[(String, i64)],
    floor: i64,
    format: impl Fn(i64) -> String,
) -> Markup {
    let rows: Vec<(String, i64, i64)> = rows.iter().map(|(l, v)| (l.clone(), 0, *v)).collect();
    let max = rows
        .iter()
        .map(|r| r.2)
        .max()
        .unwrap_or(1)
        .max(floor)
        .max(1) as f64;
    let label_w = 190.0;
    let bar_w = WIDTH - label_w - 120.0;
    let row_h = 30.0;
    let height = rows.len() as f64 * row_h + 8.0;
    // A negative value is a figure not known (no data): no bar, and `format` says so.
    let width = |value: i64| (value.max(0) as f64 / max) * bar_w;
    html! {
        svg.chart.bars viewBox=(format!("0 0 {WIDTH} {height}")) role="img" aria-label=(title) {
            title { (title) }
            @for (i, (label, _, value)) in rows.iter().enumerate() {
                @let top = 4.0 + i as f64 * row_h;
                text.label x=(label_w - 8.0) y=(format!("{:.1}", top + 19.0)) text-anchor="end" { (label) }
                rect.actual x=(label_w) y=(format!("{:.1}", top + 4.0)) width=(format!("{:.1}", width(*value))) height="20" {}
                text.axis x=(format!("{:.1}", label_w + width(*value) + 6.0)) y=(format!("{:.1}", top + 19.0)) { (format(*value)) }
            }
        }
    }
}
