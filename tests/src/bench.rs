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

#[cfg(test)]
mod tests {
    use super::*;

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
