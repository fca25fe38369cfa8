//! Charts as inline SVG, drawn from numbers on the server: a monthly trend line with its
//! target, bars comparing centres on one KPI, and paired bars (budget against actual).
//! Text in them is escaped like any other.
//!
//! Legibility: a chart is drawn at its own size in pixels (the `width`/`height`
//! attributes, never stretched past them), so its text is the stylesheet's size (13 px
//! axes, 14 px labels) at 1366 px and at 1024 px; it only shrinks on a screen narrower
//! than the chart. Scales run in round steps ([`nice_ticks`]); a ratio's scale is 0–100%
//! (further only past 100%); labels are measured ([`text_width`]) so none is cut off.

use maud::{Markup, html};

/// The trend's and the comparison's width, in CSS pixels: three to a row at 1366 px, two
/// at 1024 px (the stylesheet's grid gives each at least this much).
pub const SMALL: f64 = 400.0;
const WIDTH: f64 = 560.0;
/// The stylesheet's sizes for chart text (svg .axis, svg .label), in pixels.
const AXIS_PX: f64 = 13.0;
const LABEL_PX: f64 = 14.0;

/// About how wide `text` is at `px`: a Chinese character is a square, a digit or a Latin
/// letter a little over half of one.
pub fn text_width(text: &str, px: f64) -> f64 {
    text.chars()
        .map(|c| if c.is_ascii() { 0.62 } else { 1.0 })
        .sum::<f64>()
        * px
}

/// `text` cut to fit `room` pixels at `px`, with an ellipsis when it was cut.
fn fit(text: &str, room: f64, px: f64) -> String {
    if text_width(text, px) <= room {
        return text.to_owned();
    }
    let mut out = String::new();
    for c in text.chars() {
        if text_width(&out, px) + text_width(&c.to_string(), px) + px > room {
            break;
        }
        out.push(c);
    }
    out.push('…');
    out
}

/// Round ticks from 0 to at least `max`: steps of 1, 2, 2.5 or 5 times a power of ten, at
/// most six of them (0, 0.25, 0.5, 0.75, 1; 0, 2,000, 4,000, 6,000).
pub fn nice_ticks(max: f64) -> Vec<f64> {
    if !max.is_finite() || max <= 0.0 {
        return vec![0.0, 1.0];
    }
    let rough = max / 5.0;
    let power = 10f64.powf(rough.log10().floor());
    let step = [1.0, 2.0, 2.5, 5.0, 10.0]
        .into_iter()
        .map(|m| m * power)
        .find(|s| max / s <= 5.0 + 1e-9)
        .unwrap_or(10.0 * power);
    let count = (max / step - 1e-9).ceil().max(1.0) as usize;
    (0..=count).map(|i| i as f64 * step).collect()
}

/// The scale of a ratio: 0 to 100%, in quarters; past 100% (self-sufficiency can be),
/// round steps up to the largest value.
pub fn ratio_ticks(max: f64) -> Vec<f64> {
    if max <= 1.0 {
        vec![0.0, 0.25, 0.5, 0.75, 1.0]
    } else {
        nice_ticks(max.min(100.0))
    }
}

/// A ratio as an axis says it: 25%, 12.5%.
fn tick_percent(v: f64) -> String {
    let p = v * 100.0;
    if (p - p.round()).abs() < 1e-6 {
        format!("{p:.0}%")
    } else {
        format!("{p:.1}%")
    }
}

/// One figure in large type, for a KPI with a single value to show: a lone dot or a lone
/// bar says nothing a number does not say better.
fn big_figure(title: &str, figure: &str, caption: &str) -> Markup {
    html! {
        p.single-figure role="img" aria-label=(format!("{title} {figure}")) {
            strong { (figure) }
            " " span.unit { (caption) }
        }
    }
}

/// A monthly trend of a ratio (0..1) with the target as a dashed line; months without data
/// leave a gap. The scale runs from 0 to 100% (further, in round steps, only for a ratio
/// past 100% such as self-sufficiency); a trend with a single month of data is that
/// month's figure, not a lonely dot.
pub fn trend(title: &str, points: &[(String, Option<f64>)], target: f64) -> Markup {
    let known: Vec<(&String, f64)> = points
        .iter()
        .filter_map(|(label, v)| v.map(|v| (label, v)))
        .collect();
    if let [(label, value)] = known.as_slice() {
        let when = label
            .split_once('-')
            .map(|(y, _)| format!("{y}年{}", month_label(label)))
            .unwrap_or_else(|| (*label).clone());
        return big_figure(title, &tick_percent_1(*value), &when);
    }
    let (width, height) = (SMALL, 190.0);
    let left = 46.0;
    let (top, bottom, right) = (10.0, 28.0, 12.0);
    let ticks = ratio_ticks(known.iter().map(|(_, v)| *v).fold(target, f64::max));
    let max = *ticks.last().unwrap_or(&1.0);
    let plot_w = width - left - right;
    let plot_h = height - bottom - top;
    let step = if points.len() > 1 {
        plot_w / (points.len() - 1) as f64
    } else {
        0.0
    };
    let x = |i: usize| left + step * i as f64;
    let y = |v: f64| top + plot_h - (v.clamp(0.0, max) / max) * plot_h;
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
    // Month labels every other month when twelve would crowd the axis.
    let every = if points.len() > 7 { 2 } else { 1 };
    html! {
        svg.chart.fixed width=(width) height=(height) viewBox=(format!("0 0 {width} {height}")) role="img" aria-label=(title) {
            title { (title) }
            @for t in &ticks {
                line.grid x1=(left) x2=(width - right) y1=(format!("{:.1}", y(*t))) y2=(format!("{:.1}", y(*t))) {}
                text.axis x=(left - 5.0) y=(format!("{:.1}", y(*t) + AXIS_PX * 0.35)) text-anchor="end" { (tick_percent(*t)) }
            }
            @if target > 0.0 {
                line.target x1=(left) x2=(width - right) y1=(format!("{:.1}", y(target))) y2=(format!("{:.1}", y(target))) {}
            }
            path.series d=(path) {}
            @for (i, (label, value)) in points.iter().enumerate() {
                @if let Some(v) = value {
                    circle.point cx=(format!("{:.1}", x(i))) cy=(format!("{:.1}", y(*v))) r="3" { title { (label) ": " (tick_percent_1(*v)) } }
                }
                @if i % every == 0 {
                    text.axis x=(format!("{:.1}", x(i))) y=(height - 9.0) text-anchor=(if i == 0 { "start" } else if i + 1 == points.len() { "end" } else { "middle" }) { (month_label(label)) }
                }
            }
        }
    }
}

/// A ratio with one decimal: 12.5%.
fn tick_percent_1(v: f64) -> String {
    format!("{:.1}%", v * 100.0)
}

/// "2026-03" on an axis: 3月.
fn month_label(period: &str) -> String {
    period
        .split_once('-')
        .map(|(_, m)| format!("{}月", m.trim_start_matches('0')))
        .unwrap_or_else(|| period.to_owned())
}

/// One bar of a comparison: who, the ratio (none without data), and what it counts in
/// words (12 人 / 40 人) for under the bar.
pub struct Compared {
    pub label: String,
    pub value: Option<f64>,
    pub detail: String,
}

/// Centres compared on one ratio: a bar each on a 0–100% scale in quarters (further only
/// past 100%), the target as a dashed line with its figure, each bar's figure beside it and
/// what it counts under it; a centre without data says `no_data` and has no bar. A single
/// centre is its figure in large type.
pub fn compare(title: &str, rows: &[Compared], target: f64, no_data: &str) -> Markup {
    if let [only] = rows {
        let figure = only
            .value
            .map_or_else(|| no_data.to_owned(), tick_percent_1);
        return big_figure(title, &figure, &format!("{} {}", only.label, only.detail));
    }
    let width = SMALL;
    let longest = rows
        .iter()
        .map(|r| text_width(&r.label, LABEL_PX))
        .fold(0.0, f64::max);
    let label_w = (longest + 10.0).clamp(60.0, 130.0);
    // Room for "100.0%" after a full bar.
    let figure_w = text_width("100.0%", LABEL_PX) + 8.0;
    let bar_left = label_w;
    let bar_w = width - label_w - figure_w - 4.0;
    let ticks = ratio_ticks(rows.iter().filter_map(|r| r.value).fold(target, f64::max));
    let max = *ticks.last().unwrap_or(&1.0);
    let x = |v: f64| bar_left + (v.clamp(0.0, max) / max) * bar_w;
    let (top, row_h) = (22.0, 40.0);
    let height = top + rows.len() as f64 * row_h + 6.0;
    html! {
        svg.chart.fixed.compare width=(width) height=(height) viewBox=(format!("0 0 {width} {height}")) role="img" aria-label=(title) {
            title { (title) }
            @for (i, t) in ticks.iter().enumerate() {
                line.grid x1=(format!("{:.1}", x(*t))) x2=(format!("{:.1}", x(*t))) y1=(top - 4.0) y2=(height - 4.0) {}
                text.axis x=(format!("{:.1}", x(*t))) y=(top - 8.0) text-anchor=(if i == 0 { "start" } else { "middle" }) { (tick_percent(*t)) }
            }
            @if target > 0.0 {
                line.target x1=(format!("{:.1}", x(target))) x2=(format!("{:.1}", x(target))) y1=(top - 2.0) y2=(height - 4.0) {}
            }
            @for (i, r) in rows.iter().enumerate() {
                @let y = top + i as f64 * row_h;
                text.label x=(label_w - 8.0) y=(format!("{:.1}", y + 15.0)) text-anchor="end" { title { (r.label) } (fit(&r.label, label_w - 10.0, LABEL_PX)) }
                @match r.value {
                    Some(v) => {
                        rect.actual x=(bar_left) y=(format!("{:.1}", y + 3.0)) width=(format!("{:.1}", x(v) - bar_left)) height="16" { title { (r.label) " " (tick_percent_1(v)) } }
                        text.label.figure x=(format!("{:.1}", x(v) + 5.0)) y=(format!("{:.1}", y + 16.0)) { (tick_percent_1(v)) }
                    }
                    None => {
                        text.axis x=(bar_left + 4.0) y=(format!("{:.1}", y + 15.0)) { (no_data) }
                    }
                }
                text.axis.detail x=(bar_left) y=(format!("{:.1}", y + 33.0)) { (fit(&r.detail, width - bar_left - 4.0, AXIS_PX)) }
            }
        }
    }
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
    // The label column as wide as the longest label (the font here is 18 px in a 560-wide
    // drawing), never more than a third of the chart; a longer one is cut with an ellipsis
    // and said in full on hover, never clipped at the edge.
    let px = 18.0;
    let label_w = (rows
        .iter()
        .map(|(l, _, _)| text_width(l, px))
        .fold(0.0, f64::max)
        + 12.0)
        .clamp(80.0, WIDTH / 3.0);
    let bar_w = WIDTH - label_w - 20.0;
    // Each row: the two bars, then their figures on a line of their own under them, so a
    // long figure beside a full bar is never cut off at the edge.
    let row_h = 48.0;
    let height = rows.len() as f64 * row_h + 36.0;
    html! {
        svg.chart.bars viewBox=(format!("0 0 {WIDTH} {height}")) role="img" aria-label=(title) {
            title { (title) }
            // The legend's text sits wholly inside the drawing (its top was cut off at 13).
            rect.planned x=(label_w) y="7" width="12" height="12" {}
            text.axis x=(label_w + 16.0) y="18" { (legend.0) }
            rect.actual x=(label_w + 120.0) y="7" width="12" height="12" {}
            text.axis x=(label_w + 136.0) y="18" { (legend.1) }
            @for (i, (label, planned, actual)) in rows.iter().enumerate() {
                @let top = 30.0 + i as f64 * row_h;
                text.label x=(label_w - 6.0) y=(format!("{:.1}", top + 16.0)) text-anchor="end" { title { (label) } (fit(label, label_w - 8.0, px)) }
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
    let max = rows
        .iter()
        .map(|r| r.1)
        .max()
        .unwrap_or(1)
        .max(floor)
        .max(1) as f64;
    let px = 18.0;
    let label_w = (rows
        .iter()
        .map(|(l, _)| text_width(l, px))
        .fold(0.0, f64::max)
        + 14.0)
        .clamp(80.0, WIDTH / 3.0);
    // Room after the longest bar for the longest figure.
    let figure_w = rows
        .iter()
        .map(|(_, v)| text_width(&format(*v), 16.0))
        .fold(0.0, f64::max)
        + 12.0;
    let bar_w = (WIDTH - label_w - figure_w).max(100.0);
    let row_h = 30.0;
    let height = rows.len() as f64 * row_h + 8.0;
    // A negative value is a figure not known (no data): no bar, and `format` says so.
    let width = |value: i64| (value.max(0) as f64 / max) * bar_w;
    html! {
        svg.chart.bars viewBox=(format!("0 0 {WIDTH} {height}")) role="img" aria-label=(title) {
            title { (title) }
            @for (i, (label, value)) in rows.iter().enumerate() {
                @let top = 4.0 + i as f64 * row_h;
                text.label x=(label_w - 8.0) y=(format!("{:.1}", top + 19.0)) text-anchor="end" { title { (label) } (fit(label, label_w - 10.0, px)) }
                rect.actual x=(label_w) y=(format!("{:.1}", top + 4.0)) width=(format!("{:.1}", width(*value))) height="20" {}
                text.axis x=(format!("{:.1}", label_w + width(*value) + 6.0)) y=(format!("{:.1}", top + 19.0)) { (format(*value)) }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_are_round_numbers_reaching_the_largest_value() {
        let same = |a: Vec<f64>, b: &[f64]| {
            a.len() == b.len() && a.iter().zip(b).all(|(x, y)| (x - y).abs() < 1e-9)
        };
        assert!(same(nice_ticks(1.0), &[0.0, 0.2, 0.4, 0.6, 0.8, 1.0]));
        assert!(same(
            nice_ticks(7300.0),
            &[0.0, 2000.0, 4000.0, 6000.0, 8000.0]
        ));
        assert!(same(nice_ticks(9.0), &[0.0, 2.0, 4.0, 6.0, 8.0, 10.0]));
        assert!(same(nice_ticks(23.0), &[0.0, 5.0, 10.0, 15.0, 20.0, 25.0]));
        assert!(same(
            nice_ticks(151_000.0),
            &[0.0, 50_000.0, 100_000.0, 150_000.0, 200_000.0]
        ));
        for max in [0.3, 1.7, 42.0, 999.0, 12_345.0] {
            let ticks = nice_ticks(max);
            assert!(
                ticks.len() <= 6 && *ticks.last().unwrap() >= max,
                "{max}: {ticks:?}"
            );
            let step = ticks[1];
            let mantissa = step / 10f64.powf(step.log10().floor());
            assert!(
                [1.0, 2.0, 2.5, 5.0]
                    .iter()
                    .any(|m| (m - mantissa).abs() < 1e-9),
                "{max}: a step of {step}"
            );
        }
        // A ratio's scale is 0 to 100% in quarters however small its values; past 100%
        // it grows in round steps.
        assert!(same(ratio_ticks(0.009), &[0.0, 0.25, 0.5, 0.75, 1.0]));
        assert!(same(ratio_ticks(1.3), &[0.0, 0.5, 1.0, 1.5]));
    }

    fn bar_width(svg: &str, label: &str) -> f64 {
        let at = svg
            .find(&format!("<title>{label} "))
            .expect("the bar's title");
        let rect = svg[..at].rfind("<rect").expect("its bar");
        let width = svg[rect..].split("width=\"").nth(1).expect("a width");
        width.split('"').next().unwrap().parse().unwrap()
    }

    #[test]
    fn a_percentage_is_drawn_on_a_scale_of_0_to_100_percent() {
        let rows = [
            Compared {
                label: "东湖中心".into(),
                value: Some(0.009),
                detail: "9 人 / 1000 人".into(),
            },
            Compared {
                label: "西城中心".into(),
                value: Some(0.5),
                detail: "50 人 / 100 人".into(),
            },
            Compared {
                label: "南山中心".into(),
                value: None,
                detail: String::new(),
            },
        ];
        let svg = compare("参与率", &rows, 0.6, "暂无数据").into_string();
        let small = bar_width(&svg, "东湖中心");
        let half = bar_width(&svg, "西城中心");
        // 0.9% is a sliver, a hundredth of the half bar's twice.
        assert!(
            small < half / 40.0,
            "0.9% drew {small} beside 50% at {half}"
        );
        assert!(
            svg.contains(">100%</text>") && svg.contains(">0%</text>"),
            "{svg}"
        );
        assert!(svg.contains(">0.9%<") && svg.contains("暂无数据"), "{svg}");
        assert!(svg.contains("class=\"target\""), "the target's line: {svg}");
        assert!(
            svg.contains("width=\"400\""),
            "drawn at its own size: {svg}"
        );
    }

    #[test]
    fn a_single_value_is_a_figure_not_a_lonely_dot_or_bar() {
        let points = vec![
            ("2026-10".to_owned(), None),
            ("2026-11".to_owned(), Some(0.425)),
            ("2026-12".to_owned(), None),
        ];
        let one = trend("参与率", &points, 0.6).into_string();
        assert!(!one.contains("<svg") && !one.contains("<circle"), "{one}");
        assert!(
            one.contains("single-figure") && one.contains("42.5%") && one.contains("2026年11月"),
            "{one}"
        );
        let two = trend(
            "参与率",
            &[
                ("2026-11".to_owned(), Some(0.4)),
                ("2026-12".to_owned(), Some(0.5)),
            ],
            0.6,
        )
        .into_string();
        assert!(two.contains("<svg") && two.contains("<path"), "{two}");
        let lone = compare(
            "参与率",
            &[Compared {
                label: "东湖中心".into(),
                value: Some(0.3),
                detail: "3 人 / 10 人".into(),
            }],
            0.6,
            "暂无数据",
        )
        .into_string();
        assert!(
            !lone.contains("<svg") && lone.contains("30.0%") && lone.contains("东湖中心"),
            "{lone}"
        );
    }

    #[test]
    fn a_long_label_is_cut_with_an_ellipsis_not_clipped() {
        let rows = [("社区居家养老服务设备购置与维护".to_owned(), 100, 120)];
        let svg = paired_bars("预算执行", &rows, ("预算", "实际"), |v| {
            v.to_string()
        })
        .into_string();
        assert!(svg.contains('…'), "{svg}");
        assert!(text_width("社区居家养老服务", 18.0) > 100.0);
    }
}
