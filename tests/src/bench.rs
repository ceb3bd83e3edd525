//! What the benchmarks in `benches/` share: latency histograms and their summary, the ledger
//! reads that tell when a portal's bulk pipeline is over, and the machine's load.

use std::time::Duration;

use chrono::{DateTime, Utc};
use entity::{JobType, Lane, job_runs};
use hdrhistogram::Histogram;
use hdrhistogram::errors::{AdditionError, CreationError};
use sea_orm::{ColumnTrait, DatabaseConnection, DbErr, EntityTrait, QueryFilter};

/// Latencies from 1 µs to an hour, to three significant digits.
pub struct Latencies(Histogram<u64>);

/// Percentiles of a [`Latencies`], in milliseconds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Summary {
    pub count: u64,
    pub p50: f64,
    pub p90: f64,
    pub p95: f64,
    pub p99: f64,
    pub max: f64,
}

impl Latencies {
    pub fn new() -> Result<Self, CreationError> {
        Ok(Self(Histogram::new_with_bounds(1, 3_600_000_000, 3)?))
    }

    /// Records one latency (longer than an hour counts as an hour).
    pub fn record(&mut self, latency: Duration) {
        let micros = u64::try_from(latency.as_micros()).unwrap_or(u64::MAX);
        self.0.saturating_record(micros.max(1));
    }

    /// Records `to - from`; a negative span (clock skew) counts as zero.
    pub fn record_between(&mut self, from: DateTime<Utc>, to: DateTime<Utc>) {
        self.record((to - from).to_std().unwrap_or_default());
    }

    /// Adds another's samples (senders record separately, then merge).
    pub fn add(&mut self, other: &Latencies) -> Result<(), AdditionError> {
        self.0.add(&other.0)
    }

    pub fn len(&self) -> u64 {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// `None` when nothing was recorded.
    pub fn summary(&self) -> Option<Summary> {
        if self.0.is_empty() {
            return None;
        }
        let ms = |micros: u64| micros as f64 / 1_000.0;
        let at = |q: f64| ms(self.0.value_at_quantile(q));
        Some(Summary {
            count: self.0.len(),
            p50: at(0.50),
            p90: at(0.90),
            p95: at(0.95),
            p99: at(0.99),
            max: ms(self.0.max()),
        })
    }
}

/// Every ledger run of one portal.
pub async fn portal_runs(
    db: &DatabaseConnection,
    portal_id: i64,
) -> Result<Vec<job_runs::Model>, DbErr> {
    job_runs::Entity::find()
        .filter(job_runs::Column::PortalId.eq(portal_id))
        .all(db)
        .await
}

/// The portal's bulk pipeline ran to its end: TrainModel exists and every bulk run is
/// finished (realtime runs a benchmark keeps adding are not part of it).
pub fn bulk_pipeline_done(runs: &[job_runs::Model]) -> bool {
    runs.iter()
        .filter(|r| r.lane == Lane::Bulk)
        .all(|r| r.status.is_terminal())
        && runs.iter().any(|r| r.job_type == JobType::TrainModel)
}

/// `/proc/loadavg` (1, 5 and 15-minute load averages), or why it could not be read: benches
/// print it at start and end because the machine's cores are shared.
pub fn load_average() -> String {
    match std::fs::read_to_string("/proc/loadavg") {
        Ok(text) => text
            .split_whitespace()
            .take(3)
            .collect::<Vec<_>>()
            .join(" "),
        Err(error) => format!("unknown ({error})"),
    }
}

/// The file benches append their figures to when the suite (`scripts/bench`) runs them.
pub const RESULTS_VAR: &str = "CONTURS_BENCH_RESULTS";

/// Appends one measured case to `$CONTURS_BENCH_RESULTS`, if set, as one JSON line
/// `{"bench": …, "case": …, "figures": {name: number, …}}`: the suite runs each bench several
/// times and reports every figure's median and spread per case (`bench-report`).
pub fn record_figures(bench: &str, case: &str, figures: serde_json::Value) -> std::io::Result<()> {
    use std::io::Write as _;
    let Some(path) = std::env::var_os(RESULTS_VAR) else {
        return Ok(());
    };
    let line = serde_json::json!({ "bench": bench, "case": case, "figures": figures });
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)?;
    writeln!(file, "{line}")
}

/// Where a bench writes its Markdown report: `default` (a path in the repository), or the same
/// file name under `$CONTURS_BENCH_MD_DIR` (the suite's quick mode, so CI leaves the committed
/// reports alone).
pub fn report_path(default: &str) -> std::path::PathBuf {
    match std::env::var_os("CONTURS_BENCH_MD_DIR") {
        Some(dir) => {
            let name = std::path::Path::new(default)
                .file_name()
                .map(std::ffi::OsStr::to_owned)
                .unwrap_or_default();
            std::path::Path::new(&dir).join(name)
        }
        None => std::path::PathBuf::from(default),
    }
}

/// One figure over the suite's runs: its median and range.
#[derive(Debug, Clone, PartialEq)]
pub struct Spread {
    pub runs: usize,
    pub median: f64,
    pub min: f64,
    pub max: f64,
}

/// Median (mean of the middle two for an even count) and range; `None` for no values.
pub fn spread(values: &[f64]) -> Option<Spread> {
    let mut sorted: Vec<f64> = values.iter().copied().filter(|v| v.is_finite()).collect();
    if sorted.is_empty() {
        return None;
    }
    sorted.sort_by(f64::total_cmp);
    let n = sorted.len();
    let median = if n % 2 == 1 {
        sorted[n / 2]
    } else {
        (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0
    };
    Some(Spread {
        runs: n,
        median,
        min: sorted[0],
        max: sorted[n - 1],
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spread_is_median_and_range() {
        assert_eq!(spread(&[]), None);
        let odd = spread(&[3.0, 1.0, 2.0]).unwrap();
        assert_eq!((odd.runs, odd.median, odd.min, odd.max), (3, 2.0, 1.0, 3.0));
        let even = spread(&[4.0, 1.0, 2.0, 10.0]).unwrap();
        assert_eq!((even.median, even.min, even.max), (3.0, 1.0, 10.0));
        assert_eq!(spread(&[f64::NAN, 5.0]).unwrap().runs, 1);
    }

    #[test]
    fn percentiles_of_known_latencies() {
        let mut latencies = Latencies::new().expect("histogram");
        assert_eq!(latencies.summary(), None);
        for ms in 1..=100 {
            latencies.record(Duration::from_millis(ms));
        }
        let from = Utc::now();
        latencies.record_between(from, from - chrono::Duration::seconds(1));
        let summary = latencies.summary().expect("recorded");
        assert_eq!(summary.count, 101);
        // Three significant digits: within 0.1 %.
        let near = |value: f64, expected: f64| (value - expected).abs() <= expected * 0.001;
        assert!(near(summary.p50, 50.0), "{summary:?}");
        assert!(near(summary.p99, 99.0), "{summary:?}");
        assert!(near(summary.max, 100.0), "{summary:?}");
    }
}
