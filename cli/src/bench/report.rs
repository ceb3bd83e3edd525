//! What `bench queue` prints: a short text, or one JSON object for scripts.

use std::time::Duration;

use serde_json::{Value, json};

/// One push-then-drain run.
#[derive(Debug, Clone, Copy)]
pub struct Measured {
    pub jobs: u64,
    pub enqueue: Duration,
    pub process: Duration,
    /// Workers the monitor restarted after they died.
    pub restarts: u64,
}

impl Measured {
    pub fn new(jobs: u64, enqueue: Duration, process: Duration) -> Self {
        Self {
            jobs,
            enqueue,
            process,
            restarts: 0,
        }
    }

    pub fn with_restarts(self, restarts: u64) -> Self {
        Self { restarts, ..self }
    }

    pub fn enqueue_per_s(&self) -> f64 {
        self.jobs as f64 / self.enqueue.as_secs_f64()
    }

    pub fn process_per_s(&self) -> f64 {
        self.jobs as f64 / self.process.as_secs_f64()
    }
}

/// Our stack, and the bare apalis-redis run when asked for.
pub struct Report {
    pub jobs: u64,
    /// The Redis key namespace the run used (and deleted afterwards).
    pub namespace: String,
    pub concurrency: u64,
    pub database: &'static str,
    pub ours: Measured,
    pub bare: Option<Measured>,
}

impl Report {
    /// `jobs`, `enqueue_per_s` and `process_per_s` are our stack's; `bare` is null without
    /// `--bare`.
    pub fn to_json(&self) -> Value {
        let bare = self.bare.map(|b| {
            json!({
                "enqueue_s": round(b.enqueue.as_secs_f64()),
                "enqueue_per_s": round(b.enqueue_per_s()),
                "process_s": round(b.process.as_secs_f64()),
                "process_per_s": round(b.process_per_s()),
                "worker_restarts": b.restarts,
            })
        });
        json!({
            "jobs": self.jobs,
            "namespace": self.namespace,
            "concurrency": self.concurrency,
            "ledger_database": self.database.to_lowercase(),
            "enqueue_s": round(self.ours.enqueue.as_secs_f64()),
            "enqueue_per_s": round(self.ours.enqueue_per_s()),
            "process_s": round(self.ours.process.as_secs_f64()),
            "process_per_s": round(self.ours.process_per_s()),
            "worker_restarts": self.ours.restarts,
            "bare": bare,
        })
    }

    pub fn to_text(&self) -> String {
        let mut out = format!(
            "{} no-op jobs, worker concurrency {}\n\
             Conturs stack (ledger on {}, Redis queue, ledger layer):\n\
             \x20 enqueue {:>9.0} jobs/s  ({:.2} s: ledger rows and queue push in batches of {})\n\
             \x20 process {:>9.0} jobs/s  ({:.2} s: fetched, attempt and success recorded)\n",
            self.jobs,
            self.concurrency,
            self.database,
            self.ours.enqueue_per_s(),
            self.ours.enqueue.as_secs_f64(),
            jobs::bulk::BATCH,
            self.ours.process_per_s(),
            self.ours.process.as_secs_f64(),
        );
        if let Some(bare) = self.bare {
            out.push_str(&format!(
                "Bare apalis-redis (no ledger, no layer):\n\
                 \x20 enqueue {:>9.0} jobs/s  ({:.2} s)\n\
                 \x20 process {:>9.0} jobs/s  ({:.2} s)\n",
                bare.enqueue_per_s(),
                bare.enqueue.as_secs_f64(),
                bare.process_per_s(),
                bare.process.as_secs_f64(),
            ));
        }
        out
    }
}

/// Two decimals are plenty for a rate or a duration.
fn round(value: f64) -> f64 {
    (value * 100.0).round() / 100.0
}
