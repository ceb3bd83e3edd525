//! `bench-report RESULTS.jsonl OUT.md [HEADER.md]`: turns the figures the benches recorded
//! during a `scripts/bench` run (several runs each) into the results section of BENCHMARKS.md:
//! per bench and case, each figure's median and range over the runs. The header (machine,
//! versions, commands) is written by the script and put first.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use anyhow::Context as _;
use conturs_tests::bench::spread;

/// A bench and one of its cases.
type Case = (String, String);
/// Each figure's name and its values over the runs, in the order first seen.
type Figures = Vec<(String, Vec<f64>)>;

fn format_value(value: f64) -> String {
    let magnitude = value.abs();
    if magnitude >= 1000.0 {
        let rounded = value.round() as i64;
        let digits = rounded.unsigned_abs().to_string();
        let mut out = String::new();
        for (i, c) in digits.chars().enumerate() {
            if i > 0 && (digits.len() - i).is_multiple_of(3) {
                out.push(',');
            }
            out.push(c);
        }
        if rounded < 0 { format!("-{out}") } else { out }
    } else if magnitude >= 10.0 {
        format!("{value:.1}")
    } else {
        format!("{value:.3}")
    }
}

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [results, out, rest @ ..] = args.as_slice() else {
        anyhow::bail!("usage: bench-report RESULTS.jsonl OUT.md [HEADER.md]");
    };
    let text = std::fs::read_to_string(results).with_context(|| format!("reading {results}"))?;
    // bench → case → figure → values, in the order first seen.
    let mut order: Vec<Case> = Vec::new();
    let mut figures: BTreeMap<Case, Figures> = BTreeMap::new();
    for (number, line) in text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
    {
        let record: serde_json::Value = serde_json::from_str(line)
            .with_context(|| format!("{results}:{}: not JSON", number + 1))?;
        let bench = record["bench"].as_str().unwrap_or("?").to_owned();
        let case = record["case"].as_str().unwrap_or("?").to_owned();
        let key = (bench, case);
        if !order.contains(&key) {
            order.push(key.clone());
        }
        let entry = figures.entry(key).or_default();
        if let Some(map) = record["figures"].as_object() {
            for (name, value) in map {
                let Some(value) = value.as_f64() else {
                    continue;
                };
                match entry.iter_mut().find(|(n, _)| n == name) {
                    Some((_, values)) => values.push(value),
                    None => entry.push((name.clone(), vec![value])),
                }
            }
        }
    }
    let mut report = match rest.first() {
        Some(header) => {
            std::fs::read_to_string(header).with_context(|| format!("reading {header}"))?
        }
        None => String::new(),
    };
    let mut current_bench = String::new();
    for key in &order {
        let (bench, case) = key;
        if bench != &current_bench {
            writeln!(report, "\n### {bench}\n")?;
            writeln!(
                report,
                "| case | figure | median | min – max | runs |\n|---|---|---:|---:|---:|"
            )?;
            current_bench = bench.clone();
        }
        for (name, values) in &figures[key] {
            if let Some(s) = spread(values) {
                writeln!(
                    report,
                    "| {case} | {name} | {} | {} – {} | {} |",
                    format_value(s.median),
                    format_value(s.min),
                    format_value(s.max),
                    s.runs
                )?;
            }
        }
    }
    std::fs::write(out, report).with_context(|| format!("writing {out}"))?;
    println!("wrote {out} ({} cases)", order.len());
    Ok(())
}
