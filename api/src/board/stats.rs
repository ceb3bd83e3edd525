//! What the overview counts, read from the ledger (the truth for every backend and worker):
//! runs per lane, type and status; finished runs per time bucket; the oldest waiting run; the
//! workers alive and what they run.

use chrono::{DateTime, Duration, DurationRound as _, Utc};
use entity::{JobStatus, job_runs, worker_presence};
use sea_orm::{
    ColumnTrait, DatabaseConnection, DbErr, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
};

use super::charts::Bar;

pub(crate) use crate::metrics::ledger::{oldest_waiting, run_counts};

/// Runs that finished in each of `buckets` buckets of `width` ending at `now` (the last bucket
/// holds `now`), as succeeded and failed (failed, dead) counts. Reads `finished_at` only, over
/// its index.
pub async fn throughput(
    db: &DatabaseConnection,
    now: DateTime<Utc>,
    width: Duration,
    buckets: usize,
    label: impl Fn(DateTime<Utc>) -> String,
) -> Result<Vec<Bar>, DbErr> {
    let last_start = now.duration_trunc(width).unwrap_or(now);
    let first_start = last_start - width * (buckets.saturating_sub(1) as i32);
    let finished: Vec<(Option<DateTime<Utc>>, JobStatus)> = job_runs::Entity::find()
        .select_only()
        .column(job_runs::Column::FinishedAt)
        .column(job_runs::Column::Status)
        .filter(job_runs::Column::FinishedAt.gte(first_start))
        .into_tuple()
        .all(db)
        .await?;
    let mut bars: Vec<Bar> = (0..buckets)
        .map(|i| Bar {
            label: label(first_start + width * i as i32),
            ..Bar::default()
        })
        .collect();
    let width_ms = width.num_milliseconds().max(1);
    for (at, status) in finished {
        let Some(at) = at else { continue };
        let index = (at - first_start).num_milliseconds() / width_ms;
        let Some(bar) = usize::try_from(index).ok().and_then(|i| bars.get_mut(i)) else {
            continue;
        };
        match status {
            JobStatus::Succeeded => bar.succeeded += 1,
            JobStatus::Failed | JobStatus::Dead => bar.failed += 1,
            _ => {}
        }
    }
    Ok(bars)
}

/// A worker the overview lists: alive (it wrote itself down lately) or seen running a job.
#[derive(Debug)]
pub struct WorkerRow {
    pub name: String,
    pub presence: Option<worker_presence::Model>,
    pub running: Vec<job_runs::Model>,
}

/// Most running runs the overview lists.
pub const RUNNING_SHOWN: u64 = 200;

/// Workers alive and the runs each has running (runs of workers without a presence row, e.g.
/// in-process workers, are grouped under their recorded name).
pub async fn workers(db: &DatabaseConnection, now: DateTime<Utc>) -> Result<Vec<WorkerRow>, DbErr> {
    let alive = jobs::presence::alive(db, now).await?;
    let running = job_runs::Entity::find()
        .filter(job_runs::Column::Status.eq(JobStatus::Running))
        .order_by_asc(job_runs::Column::Id)
        .limit(RUNNING_SHOWN)
        .all(db)
        .await?;
    let mut rows: Vec<WorkerRow> = alive
        .into_iter()
        .map(|presence| WorkerRow {
            name: presence.name.clone(),
            presence: Some(presence),
            running: Vec::new(),
        })
        .collect();
    for run in running {
        // A run records the worker task that runs it: `<process name>:<job>:<lane>:r<n>`.
        let task = run.worker.clone().unwrap_or_else(|| "unknown".to_owned());
        let name = task.split(':').next().unwrap_or(&task).to_owned();
        match rows.iter_mut().find(|row| row.name == name) {
            Some(row) => row.running.push(run),
            None => rows.push(WorkerRow {
                name,
                presence: None,
                running: vec![run],
            }),
        }
    }
    Ok(rows)
}
