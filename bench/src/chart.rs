//! `chart.svg`, drawn as text: each function's cold start next to the floor, each route's warm
//! latency next to its SDK floor, and replay throughput against the event count.

use std::fmt::Write as _;

use crate::report::Results;
use crate::stats::Spread;

const WIDTH: f64 = 980.0;
const PANEL_HEIGHT: f64 = 300.0;
const LEFT: f64 = 70.0;
const RIGHT: f64 = 20.0;
const FONT: &str = "font-family=\"Helvetica, Arial, sans-serif\"";

/// One series of a bar panel: its name and colour.
struct Series {
    name: &'static str,
    colour: &'static str,
}

struct Group {
    label: String,
    bars: Vec<Option<Spread>>,
}

pub fn svg(results: &Results) -> String {
    let mut out = String::new();
    let height = 3.0 * (PANEL_HEIGHT + 110.0) + 20.0;
    let _ = writeln!(
        out,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{WIDTH}\" height=\"{height}\" viewBox=\"0 0 {WIDTH} {height}\" {FONT} font-size=\"11\">"
    );
    let _ = writeln!(out, "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>");

    let cold: Vec<Group> = results
        .cold_starts
        .iter()
        .map(|c| Group {
            label: if c.is_floor { "floor".to_owned() } else { c.function.clone() },
            bars: vec![c.ready_ms.clone(), c.first_response_ms.clone()],
        })
        .collect();
    bar_panel(
        &mut out,
        20.0,
        "1. Cold start under the Runtime API emulator (median, whiskers: lowest–highest run)",
        "ms",
        &[
            Series { name: "exec -> ready", colour: "#9ecae1" },
            Series { name: "exec -> first response", colour: "#3182bd" },
        ],
        &cold,
        Some((20.0, "target 20 ms")),
    );

    let warm: Vec<Group> = results
        .warm
        .iter()
        .map(|w| Group { label: w.route.clone(), bars: vec![w.handler_p50_ms.clone(), w.floor_p50_ms.clone()] })
        .collect();
    bar_panel(
        &mut out,
        20.0 + PANEL_HEIGHT + 110.0,
        "2. Warm handler latency against DynamoDB Local, p50, next to the same SDK calls (floor)",
        "ms",
        &[Series { name: "handler", colour: "#e6550d" }, Series { name: "SDK floor", colour: "#bdbdbd" }],
        &warm,
        None,
    );

    replay_panel(&mut out, 20.0 + 2.0 * (PANEL_HEIGHT + 110.0), results);
    let _ = writeln!(out, "</svg>");
    out
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

/// A round upper bound for an axis, and its tick step.
fn axis(max: f64) -> (f64, f64) {
    let max = if max > 0.0 && max.is_finite() { max } else { 1.0 };
    let magnitude = 10f64.powf(max.log10().floor());
    for step in [0.1, 0.2, 0.25, 0.5, 1.0, 2.0, 2.5, 5.0, 10.0] {
        let step = step * magnitude;
        if max / step <= 6.0 {
            return ((max / step).ceil() * step, step);
        }
    }
    (max, max / 5.0)
}

/// A horizontal grid line across the plot, labelled on the axis.
fn gridline(out: &mut String, right: f64, y: f64, label: &str) {
    let label_x = LEFT - 6.0;
    let label_y = y + 4.0;
    let _ = writeln!(
        out,
        "<line x1=\"{LEFT}\" x2=\"{right:.1}\" y1=\"{y:.1}\" y2=\"{y:.1}\" stroke=\"#e5e5e5\"/>\
         <text x=\"{label_x:.1}\" y=\"{label_y:.1}\" text-anchor=\"end\">{}</text>",
        escape(label)
    );
}

/// A dashed red line at a target value, labelled at its right end.
fn target_line(out: &mut String, right: f64, y: f64, label: &str) {
    let label_y = y - 4.0;
    let _ = writeln!(
        out,
        "<line x1=\"{LEFT}\" x2=\"{right:.1}\" y1=\"{y:.1}\" y2=\"{y:.1}\" stroke=\"#d62728\" stroke-dasharray=\"6 4\"/>\
         <text x=\"{right:.1}\" y=\"{label_y:.1}\" fill=\"#d62728\" text-anchor=\"end\">{}</text>",
        escape(label)
    );
}

fn number(value: f64) -> String {
    if value >= 100.0 || value == value.round() { format!("{value:.0}") } else { format!("{value:.1}") }
}

fn bar_panel(
    out: &mut String,
    top: f64,
    title: &str,
    unit: &str,
    series: &[Series],
    groups: &[Group],
    target: Option<(f64, &str)>,
) {
    let plot_top = top + 40.0;
    let plot_height = PANEL_HEIGHT - 40.0;
    let bottom = plot_top + plot_height;
    let plot_width = WIDTH - LEFT - RIGHT;
    let _ = writeln!(
        out,
        "<text x=\"{LEFT}\" y=\"{}\" font-size=\"14\" font-weight=\"bold\">{}</text>",
        top + 14.0,
        escape(title)
    );
    for (i, s) in series.iter().enumerate() {
        let x = LEFT + i as f64 * 190.0;
        let _ =
            writeln!(out, "<rect x=\"{x}\" y=\"{}\" width=\"12\" height=\"12\" fill=\"{}\"/>", top + 22.0, s.colour);
        let _ = writeln!(out, "<text x=\"{}\" y=\"{}\">{}</text>", x + 16.0, top + 32.0, escape(s.name));
    }
    if groups.is_empty() {
        let _ =
            writeln!(out, "<text x=\"{LEFT}\" y=\"{}\" fill=\"#888\">not measured in this run</text>", plot_top + 40.0);
        return;
    }
    let highest = groups
        .iter()
        .flat_map(|g| g.bars.iter().flatten().map(|s| s.max))
        .chain(target.map(|(value, _)| value))
        .fold(0.0, f64::max);
    let (max, step) = axis(highest);
    let y = |value: f64| bottom - (value / max) * plot_height;
    let mut tick = 0.0;
    while tick <= max + step / 2.0 {
        gridline(out, LEFT + plot_width, y(tick), &number(tick));
        tick += step;
    }
    let _ = writeln!(
        out,
        "<text transform=\"translate({},{}) rotate(-90)\" text-anchor=\"middle\">{}</text>",
        LEFT - 48.0,
        plot_top + plot_height / 2.0,
        escape(unit)
    );
    let group_width = plot_width / groups.len() as f64;
    let bar_width = (group_width * 0.7 / series.len() as f64).min(40.0);
    for (g, group) in groups.iter().enumerate() {
        let start = LEFT + g as f64 * group_width + (group_width - bar_width * series.len() as f64) / 2.0;
        for (b, (bar, s)) in group.bars.iter().zip(series).enumerate() {
            let Some(bar) = bar else { continue };
            let x = start + b as f64 * bar_width;
            let _ = writeln!(
                out,
                "<rect x=\"{x:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"{:.1}\" fill=\"{}\"><title>{}: {}</title></rect>",
                y(bar.median),
                bar_width - 2.0,
                bottom - y(bar.median),
                s.colour,
                escape(&group.label),
                bar.show(2)
            );
            let middle = x + (bar_width - 2.0) / 2.0;
            let _ = writeln!(
                out,
                "<line x1=\"{middle:.1}\" x2=\"{middle:.1}\" y1=\"{:.1}\" y2=\"{:.1}\" stroke=\"#333\"/>",
                y(bar.min),
                y(bar.max)
            );
            let _ = writeln!(
                out,
                "<text x=\"{middle:.1}\" y=\"{:.1}\" text-anchor=\"middle\" font-size=\"9\">{}</text>",
                y(bar.max) - 3.0,
                number(bar.median)
            );
        }
        let label_x = LEFT + (g as f64 + 0.5) * group_width;
        let _ = writeln!(
            out,
            "<text transform=\"translate({label_x:.1},{}) rotate(-25)\" text-anchor=\"end\">{}</text>",
            bottom + 14.0,
            escape(&group.label)
        );
    }
    let _ = writeln!(
        out,
        "<line x1=\"{LEFT}\" x2=\"{}\" y1=\"{bottom}\" y2=\"{bottom}\" stroke=\"#333\"/>",
        LEFT + plot_width
    );
    if let Some((value, label)) = target {
        target_line(out, LEFT + plot_width, y(value), label);
    }
}

fn replay_panel(out: &mut String, top: f64, results: &Results) {
    let plot_top = top + 40.0;
    let plot_height = PANEL_HEIGHT - 40.0;
    let bottom = plot_top + plot_height;
    let plot_width = WIDTH - LEFT - RIGHT - 120.0;
    let _ = writeln!(
        out,
        "<text x=\"{LEFT}\" y=\"{}\" font-size=\"14\" font-weight=\"bold\">5. Replay throughput against the event count (median, whiskers: lowest–highest run; label: peak RSS)</text>",
        top + 14.0
    );
    // (legend, store, colour, whether it is the floor series)
    let series_list = [
        ("embedded (SQLite)", "embedded (SQLite)", "#31a354", false),
        ("embedded floor: read + fold only", "embedded (SQLite)", "#a1d99b", true),
        ("DynamoDB Local", "DynamoDB Local", "#756bb1", false),
    ];
    for (i, (name, _, colour, _)) in series_list.iter().enumerate() {
        let x = LEFT + i as f64 * 250.0;
        let _ = writeln!(out, "<rect x=\"{x}\" y=\"{}\" width=\"12\" height=\"12\" fill=\"{colour}\"/>", top + 22.0);
        let _ = writeln!(out, "<text x=\"{}\" y=\"{}\">{name}</text>", x + 16.0, top + 32.0);
    }
    let points: Vec<_> = results.replay.iter().filter(|r| r.events_per_second.is_some()).collect();
    if points.is_empty() {
        let _ =
            writeln!(out, "<text x=\"{LEFT}\" y=\"{}\" fill=\"#888\">not measured in this run</text>", plot_top + 40.0);
        return;
    }
    let (low, high) = points.iter().fold((f64::MAX, f64::MIN), |(lo, hi), r| {
        let e = (r.events as f64).log10();
        (lo.min(e), hi.max(e))
    });
    let (low, high) = (low.floor(), high.ceil().max(low.floor() + 1.0));
    let x = |events: f64| LEFT + 30.0 + (events.log10() - low) / (high - low) * (plot_width - 60.0);
    let highest = points
        .iter()
        .flat_map(|r| [r.events_per_second.as_ref(), r.scan_floor_events_per_second.as_ref()])
        .flatten()
        .map(|s| s.max)
        .fold(200_000.0, f64::max);
    let (max, step) = axis(highest / 1e3);
    let y = |per_second: f64| bottom - (per_second / 1e3 / max) * plot_height;
    let mut tick = 0.0;
    while tick <= max + step / 2.0 {
        gridline(out, LEFT + plot_width, y(tick * 1e3), &format!("{}k", number(tick)));
        tick += step;
    }
    let _ = writeln!(
        out,
        "<text transform=\"translate({},{}) rotate(-90)\" text-anchor=\"middle\">events/s</text>",
        LEFT - 52.0,
        plot_top + plot_height / 2.0
    );
    let mut decade = low;
    while decade <= high {
        let events = 10f64.powf(decade);
        let label = if events >= 1e6 { format!("{}M", events / 1e6) } else { format!("{}k", events / 1e3) };
        let _ = writeln!(
            out,
            "<line x1=\"{0:.1}\" x2=\"{0:.1}\" y1=\"{bottom}\" y2=\"{1}\" stroke=\"#333\"/><text x=\"{0:.1}\" y=\"{2}\" text-anchor=\"middle\">{label} events</text>",
            x(events),
            bottom + 4.0,
            bottom + 18.0
        );
        decade += 1.0;
    }
    let _ = writeln!(
        out,
        "<line x1=\"{LEFT}\" x2=\"{}\" y1=\"{bottom}\" y2=\"{bottom}\" stroke=\"#333\"/>",
        LEFT + plot_width
    );
    target_line(out, LEFT + plot_width, y(200_000.0), "target 200k events/s (embedded)");
    for (_, store, colour, floor) in series_list {
        let rate_of = |r: &crate::projection::ReplayResult| match floor {
            true => r.scan_floor_events_per_second.clone(),
            false => r.events_per_second.clone(),
        };
        let series: Vec<_> = points.iter().filter(|r| r.store == store).collect();
        let path: Vec<String> = series
            .iter()
            .filter_map(|r| rate_of(r).map(|s| format!("{:.1},{:.1}", x(r.events as f64), y(s.median))))
            .collect();
        if path.len() > 1 {
            let dash = if floor { " stroke-dasharray=\"4 3\"" } else { "" };
            let _ = writeln!(
                out,
                "<polyline points=\"{}\" fill=\"none\" stroke=\"{colour}\" stroke-width=\"2\"{dash}/>",
                path.join(" ")
            );
        }
        for r in series {
            let Some(rate) = rate_of(r) else { continue };
            let (px, py) = (x(r.events as f64), y(rate.median));
            let _ = writeln!(
                out,
                "<line x1=\"{px:.1}\" x2=\"{px:.1}\" y1=\"{:.1}\" y2=\"{:.1}\" stroke=\"{colour}\"/><circle cx=\"{px:.1}\" cy=\"{py:.1}\" r=\"4\" fill=\"{colour}\"><title>{} events: {} events/s</title></circle>",
                y(rate.min),
                y(rate.max),
                r.events,
                rate.show(0)
            );
            let memory = match (floor, &r.peak_rss_mb) {
                (false, Some(m)) => format!(", {:.1} MB", m.median),
                _ => String::new(),
            };
            let _ = writeln!(
                out,
                "<text x=\"{:.1}\" y=\"{:.1}\" font-size=\"10\" fill=\"{colour}\">{:.0}k/s{memory}</text>",
                px + 7.0,
                py - 6.0,
                rate.median / 1e3
            );
        }
    }
}
