//! The outbox's safety net: puts back on the queue any run the ledger says is unfinished but
//! the queue may have lost.
//!
//! Two things can lose a job: a crash between writing the ledger row and pushing (the row stays
//! `pending`), and a Redis that restarts without persistence (every queued job vanishes). The
//! first is caught by age; the second by an epoch key in Redis that only a data loss removes.
//! A third case is a worker killed mid-job (kill -9, a crashed machine): its run stays `running`
//! with a heartbeat that stopped, and is put back once the heartbeat is older than the lease.
//! The queue backends recover their own orphans too; this ledger-side net works the same on
//! both and does not depend on them.
//! Re-pushing is safe because delivery is already at-least-once: the ledger layer skips runs
//! that finished or that a live worker holds.

use std::time::Duration;

use chrono::Utc;
use entity::{JobStatus, JobType, job_runs};
use redis::AsyncCommands;

use crate::ledger::LEASE;
use crate::payload::{
    InitialSync, JobPayload, NightlyResync, Noop, ScoreContact, TrainModel, WriteBack,
};
use crate::queue::{Queue, QueueBackend, QueueError};

/// A `pending` row older than this was never pushed (its enqueuer died).
pub const STRANDED_AFTER: Duration = Duration::from_secs(60);
/// How many runs one pass re-pushes at most.
const BATCH: u64 = 1_000;

/// What one reconciliation pass did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct ReconcileReport {
    /// The queue's data was lost since the last pass (Redis restarted empty).
    pub queue_data_lost: bool,
    pub requeued: usize,
    /// Running runs whose worker died, put back on the queue.
    pub orphans_requeued: usize,
}

/// Watches one queue for lost work.
#[derive(Debug)]
pub struct Reconciler {
    queue: Queue,
    epoch: Option<String>,
}

impl Reconciler {
    pub fn new(queue: Queue) -> Self {
        Self { queue, epoch: None }
    }

    fn epoch_key(&self) -> String {
        format!("{}:epoch", self.queue.settings().namespace)
    }

    /// Returns whether the queue lost its data since this reconciler last looked.
    async fn queue_data_lost(&mut self) -> Result<bool, QueueError> {
        let QueueBackend::Redis(conn) = self.queue.backend() else {
            // The embedded queue lives in the same database as the ledger: they fail together.
            return Ok(false);
        };
        let mut conn = conn.clone();
        let key = self.epoch_key();
        let current: Option<String> = conn.get(&key).await.map_err(backend)?;
        match (current, &self.epoch) {
            (Some(seen), Some(expected)) if &seen == expected => Ok(false),
            (Some(seen), _) => {
                // First look, or another process re-created the epoch after a loss (and
                // re-pushed the work itself).
                self.epoch = Some(seen);
                Ok(false)
            }
            (None, _) => {
                let fresh = uuid::Uuid::now_v7().to_string();
                let claimed: bool = redis::cmd("SET")
                    .arg(&key)
                    .arg(&fresh)
                    .arg("NX")
                    .query_async::<Option<String>>(&mut conn)
                    .await
                    .map_err(backend)?
                    .is_some();
                if claimed {
                    // Whoever re-creates the epoch re-pushes the unfinished work. On a first
                    // deploy that pushes duplicates of queued runs, which the ledger layer skips.
                    self.epoch = Some(fresh);
                    Ok(true)
                } else {
                    let seen: Option<String> = conn.get(&key).await.map_err(backend)?;
                    self.epoch = seen;
                    Ok(false)
                }
            }
        }
    }

    /// One pass: re-pushes stranded `pending` runs, and every unfinished run after a data loss.
    pub async fn run_once(&mut self) -> Result<ReconcileReport, QueueError> {
        let lost = self.queue_data_lost().await?;
        let ledger = self.queue.ledger().clone();
        let cutoff = if lost {
            Utc::now()
        } else {
            Utc::now() - chrono::Duration::from_std(STRANDED_AFTER).unwrap_or_default()
        };
        let mut requeued = 0;
        for run in ledger.unfinished_since(cutoff, BATCH).await? {
            if !lost && run.status != JobStatus::Pending {
                continue;
            }
            push_recorded(&self.queue, &run).await?;
            if run.status == JobStatus::Pending {
                ledger.mark_queued(run.id).await?;
            }
            ledger
                .event(
                    run.id,
                    "requeued",
                    if lost {
                        "queue lost its data; put back from the ledger"
                    } else {
                        "recorded but never queued; put back from the ledger"
                    },
                    None,
                )
                .await?;
            requeued += 1;
        }
        let silent_since = Utc::now() - chrono::Duration::from_std(LEASE).unwrap_or_default();
        let orphans = ledger.reclaim_orphans(silent_since, BATCH).await?;
        for run in &orphans {
            push_recorded(&self.queue, run).await?;
        }
        if requeued > 0 || !orphans.is_empty() {
            tracing::warn!(
                requeued,
                orphans = orphans.len(),
                queue_data_lost = lost,
                "reconciler re-queued runs"
            );
        }
        Ok(ReconcileReport {
            queue_data_lost: lost,
            requeued,
            orphans_requeued: orphans.len(),
        })
    }
}

/// Pushes a recorded run's payload again, decoding it as its job type.
pub async fn push_recorded(queue: &Queue, run: &job_runs::Model) -> Result<(), QueueError> {
    async fn push<J: JobPayload>(queue: &Queue, run: &job_runs::Model) -> Result<(), QueueError> {
        let job: J = serde_json::from_value(run.payload.clone())?;
        queue.push(&job, None).await
    }
    match run.job_type {
        JobType::InitialSync => push::<InitialSync>(queue, run).await,
        JobType::TrainModel => push::<TrainModel>(queue, run).await,
        JobType::ScoreContact => push::<ScoreContact>(queue, run).await,
        JobType::WriteBack => push::<WriteBack>(queue, run).await,
        JobType::NightlyResync => push::<NightlyResync>(queue, run).await,
        JobType::Noop => push::<Noop>(queue, run).await,
    }
}

fn backend(error: redis::RedisError) -> QueueError {
    QueueError::Backend(error.to_string())
}
