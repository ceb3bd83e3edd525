//! Bulk enqueue: many jobs of one type with a few statements and one queue push per batch,
//! instead of two transactions and one push per job.
//!
//! The outbox order is the same as [`Queue::enqueue`]: the batch's ledger rows (status
//! `pending`, with their `enqueued` events) commit first, then the batch goes to the backend in
//! one push (apalis `push_all`, one Lua call on Redis), then the rows are marked `queued`. A crash
//! between the steps leaves `pending` rows that the reconciler puts back, as for single jobs.
//! Used by the queue benchmark (`conturs bench queue`) to fill a queue fast.

use apalis::prelude::{TaskBuilder, TaskSink};
use chrono::{DateTime, Utc};
use entity::{JobStatus, Lane, job_events, job_runs};
use futures::stream;
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveValue::NotSet, ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter};

use crate::ledger::NewRun;
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
    let events = batch.iter().map(|job| job_events::ActiveModel {
        id: NotSet,
        job_run_id: Set(job.run_id()),
        portal_id: Set(job.portal_id()),
        at: Set(now),
        kind: Set("enqueued".to_owned()),
        message: Set("accepted and recorded".to_owned()),
        data: Set(None),
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

/// The row [`crate::Ledger::record`] writes for a new run.
fn pending_row(new: NewRun, now: DateTime<Utc>) -> job_runs::ActiveModel {
    job_runs::ActiveModel {
        id: Set(new.id),
        portal_id: Set(new.portal_id),
        job_type: Set(new.job_type),
        lane: Set(new.lane),
        status: Set(JobStatus::Pending),
        payload: Set(new.payload),
        attempts: Set(0),
        max_attempts: Set(new.max_attempts),
        phase: Set(None),
        done: Set(0),
        total: Set(None),
        rate: Set(None),
        eta_seconds: Set(None),
        last_error: Set(None),
        error_kind: Set(None),
        idempotency_key: Set(new.idempotency_key),
        queue_task_id: Set(None),
        worker: Set(None),
        parent_id: Set(new.parent_id),
        created_at: Set(now),
        started_at: Set(None),
        finished_at: Set(None),
        updated_at: Set(now),
        heartbeat_at: Set(None),
    }
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
