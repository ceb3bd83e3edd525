//! Bulk enqueue: many jobs of one type with a few statements and one queue push per batch,
//! instead of two transactions and one push per job.
//!
//! The outbox order is the same as [`Queue::enqueue`]: the batch's ledger rows (status
//! `pending`, with their `enqueued` events) commit first, then the batch goes to the backend in
//! one push (apalis `push_all`, one Lua call on Redis), then the rows are marked `queued`. A crash
//! between the steps leaves `pending` rows that the reconciler puts back, as for single jobs.
//! Used by the queue benchmark (`conturs bench queue`) to fill a queue fast.

use apalis::prelude::{TaskBuilder, TaskSink};
use chrono::Utc;
use entity::{JobStatus, Lane, job_events, job_runs};
use futures::stream;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

use crate::ledger::{event_row, pending_row};
use crate::payload::JobPayload;
use crate::queue::{EnqueueOptions, Queue, QueueBackend, QueueError, new_run};

/// Jobs per ledger transaction and per queue push: 500 rows × 24 columns stays well inside
/// SQLite's and Postgres' bind-parameter limits.
pub const BATCH: usize = 500;

/// Records and queues `jobs` in batches of [`BATCH`]; returns how many were queued.
/// Jobs carry their own run ids (see [`Queue::enqueue`]). Bulk jobs are independent work: no
/// idempotency key, parent or delay (use [`Queue::enqueue`] for those).
pub async fn enqueue_many<J: JobPayload>(queue: &Queue, jobs: &[J]) -> Result<usize, QueueError> {
    for batch in jobs.chunks(BATCH) {
        record_batch(queue, batch).await?;
        for lane in [Lane::Realtime, Lane::Bulk] {
            let in_lane: Vec<&J> = batch.iter().filter(|job| job.lane() == lane).collect();
            if !in_lane.is_empty() {
                push_batch(queue, lane, &in_lane).await?;
            }
        }
        mark_queued(queue, batch).await?;
    }
    Ok(jobs.len())
}

/// Writes the batch's outbox rows and their first events in one transaction.
async fn record_batch<J: JobPayload>(queue: &Queue, batch: &[J]) -> Result<(), QueueError> {
    let now = Utc::now();
    let options = EnqueueOptions::default();
    let runs = batch
        .iter()
        .map(|job| new_run(job, &options).map(|new| pending_row(new, now)))
        .collect::<Result<Vec<_>, _>>()?;
    let events = batch.iter().map(|job| {
        event_row(
            job.run_id(),
            job.portal_id(),
            now,
            "enqueued",
            "accepted and recorded",
            None,
        )
    });
    let db = queue.ledger().db();
    let txn = platform::db::begin_write(db)
        .await
        .map_err(crate::LedgerError::from)?;
    job_runs::Entity::insert_many(runs)
        .exec(&txn)
        .await
        .map_err(crate::LedgerError::from)?;
    job_events::Entity::insert_many(events)
        .exec(&txn)
        .await
        .map_err(crate::LedgerError::from)?;
    txn.commit().await.map_err(crate::LedgerError::from)?;
    Ok(())
}

/// One backend push for the jobs of one lane.
async fn push_batch<J: JobPayload>(
    queue: &Queue,
    lane: Lane,
    jobs: &[&J],
) -> Result<(), QueueError> {
    // As in `Queue::push`: one delivery per push; retries are the ledger layer's.
    let tasks: Vec<_> = jobs
        .iter()
        .map(|job| TaskBuilder::new((*job).clone()).max_attempts(1).build())
        .collect();
    let tasks = stream::iter(tasks);
    match queue.backend() {
        QueueBackend::Redis(conn) => QueueBackend::redis_storage::<J>(conn, queue.settings(), lane)
            .push_all(tasks)
            .await
            .map_err(|e| QueueError::Backend(e.to_string())),
        QueueBackend::Sqlite(pool) => {
            QueueBackend::sqlite_storage::<J>(pool, queue.settings(), lane)
                .push_all(tasks)
                .await
                .map_err(|e| QueueError::Backend(e.to_string()))
        }
    }
}

/// The backend has the batch: `pending` → `queued`, in one statement.
async fn mark_queued<J: JobPayload>(queue: &Queue, batch: &[J]) -> Result<(), QueueError> {
    job_runs::Entity::update_many()
        .col_expr(job_runs::Column::Status, Expr::value(JobStatus::Queued))
        .col_expr(job_runs::Column::UpdatedAt, Expr::value(Utc::now()))
        .filter(job_runs::Column::Id.is_in(batch.iter().map(JobPayload::run_id)))
        .filter(job_runs::Column::Status.eq(JobStatus::Pending))
        .exec(queue.ledger().db())
        .await
        .map_err(crate::LedgerError::from)?;
    Ok(())
}
