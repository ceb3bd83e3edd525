//! Small server-rendered SVG charts: readable without a chart library, and each with a text
//! alternative (a title, and the numbers in a table for screen readers).

use maud::{Markup, html};

/// One bar of a throughput chart: runs that succeeded and failed in a time bucket.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Bar {
    /// Axis label ("19:40", "Tue 14h").
    pub label: String,
    pub succeeded: i64,
    pub failed: i64,
}

const WIDTH: f64 = 600.0;
const HEIGHT: f64 = 140.0;
const AXIS: f64 = 18.0;

/// Stacked bars (succeeded below, failed on top), labelled every `label_every` bars.
pub fn throughput(title: &str, bars: &[Bar], label_every: usize) -> Markup {
    let max = bars
        .iter()
        .map(|b| b.succeeded + b.failed)
        .max()
        .unwrap_or(0)
        .max(1) as f64;
    let slot = WIDTH / bars.len().max(1) as f64;
    let plot = HEIGHT - AXIS;
    let total_ok: i64 = bars.iter().map(|b| b.succeeded).sum();
    let total_failed: i64 = bars.iter().map(|b| b.failed).sum();
    let summary = format!(
        "{title}: {} succeeded, {} failed; busiest bucket {} runs",
        super::format::count(total_ok),
        super::format::count(total_failed),
        super::format::count(max as i64)
    );
    html! {
        figure.chart {
            svg viewBox=(format!("0 0 {WIDTH} {HEIGHT}")) role="img" aria-label=(summary)
                preserveAspectRatio="none" {
                title { (summary) }
                line.axis x1="0" y1=(plot) x2=(WIDTH) y2=(plot) {}
                @for (i, bar) in bars.iter().enumerate() {
                    @let x = i as f64 * slot + slot * 0.1;
                    @let w = slot * 0.8;
                    @let ok_h = bar.succeeded as f64 / max * (plot - 4.0);
                    @let bad_h = bar.failed as f64 / max * (plot - 4.0);
                    @if bar.succeeded > 0 {
                        rect.ok x=(fmt(x)) y=(fmt(plot - ok_h)) width=(fmt(w)) height=(fmt(ok_h)) {
                            title { (bar.label) ": " (bar.succeeded) " succeeded" }
                        }
                    }
                    @if bar.failed > 0 {
                        rect.fail x=(fmt(x)) y=(fmt(plot - ok_h - bad_h)) width=(fmt(w))
                            height=(fmt(bad_h)) {
                            title { (bar.label) ": " (bar.failed) " failed" }
                        }
                    }
                    @if label_every > 0 && i % label_every == 0 {
                        text.tick x=(fmt(x)) y=(fmt(HEIGHT - 4.0)) { (bar.label) }
                    }
                }
            }
            figcaption {
                (title) " — "
                span.key.ok { "succeeded " (super::format::count(total_ok)) }
                " · "
                span.key.fail { "failed " (super::format::count(total_failed)) }
            }
        }
    }
}

fn fmt(value: f64) -> String {
    format!("{value:.1}")
}

/// Horizontal bars of contacts per grade (A–F, then unscored), with counts and shares.
pub fn grades(counts: &[(String, i64)]) -> Markup {
    let rows: Vec<(Markup, i64)> = counts
        .iter()
        .map(|(grade, n)| {
            let label =
                html! { span class=(format!("grade g-{}", grade.to_lowercase())) { (grade) } };
            (label, *n)
        })
        .collect();
    share_table("Contacts per grade", "Grade", &rows)
}

/// Horizontal bars of contacts per group (a grade, a temperature…), each with its count and
/// its share of all the rows' contacts.
pub fn share_table(caption: &str, header: &str, rows: &[(Markup, i64)]) -> Markup {
    let total: i64 = rows.iter().map(|(_, n)| *n).sum();
    let max = rows.iter().map(|(_, n)| *n).max().unwrap_or(0).max(1);
    html! {
        table.grades {
            caption.sr-only { (caption) }
            thead { tr { th scope="col" { (header) } th scope="col" { "Contacts" } th scope="col" { "Share" } } }
            tbody {
                @for (label, n) in rows {
                    @let share = if total > 0 { *n as f64 / total as f64 * 100.0 } else { 0.0 };
                    tr {
                        th scope="row" { (label) }
                        td.bar-cell {
                            span.bar style=(format!("width:{:.1}%", *n as f64 / max as f64 * 80.0)) {}
                            span.num { (super::format::count(*n)) }
                        }
                        td.num { (format!("{share:.1}%")) }
                    }
                }
            }
        }
    }
}

/// A budget gauge: requests in the last complete window against the limit.
pub fn budget_gauge(label: &str, used: i64, limit: i64, ceiling: i64) -> Markup {
    let limit = limit.max(1);
    let ceiling = ceiling.max(limit);
    html! {
        div.gauge {
            label { (label) }
            meter min="0" max=(ceiling) low=(limit * 7 / 10) high=(limit) optimum="0" value=(used)
                aria-label=(format!("{label}: {used} of {limit} requests per 10 s")) {
                (used) " / " (limit)
            }
            span.num { (used) " / " (limit) " per 10 s" }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn throughput_chart_states_its_totals() {
        let bars = vec![
            Bar {
                label: "a".into(),
                succeeded: 3,
                failed: 1,
            },
            Bar {
                label: "b".into(),
                succeeded: 5,
                failed: 0,
            },
        ];
        let svg = throughput("Last hour", &bars, 1).into_string();
        assert!(svg.contains("Last hour: 8 succeeded, 1 failed; busiest bucket 5 runs"));
        assert_eq!(svg.matches("<rect class=\"ok\"").count(), 2);
        assert_eq!(svg.matches("<rect class=\"fail\"").count(), 1);
    }

    #[test]
    fn empty_charts_do_not_divide_by_zero() {
        let svg = throughput("Nothing", &[], 1).into_string();
        assert!(svg.contains("0 succeeded, 0 failed"));
        assert!(!svg.contains("NaN"));
        let table = grades(&[("A".into(), 0)]).into_string();
        assert!(table.contains("0.0%"));
        assert!(!table.contains("NaN"));
    }
}
