//! Retention: what the ledger, the queue backends and disconnected portals keep, and the
//! scheduled pass that deletes the rest.
//!
//! Every job leaves a ledger row with its events, and the queue backends keep their own copy of
//! each finished task (apalis never expires them: notes/apalis-1.0.md §4). A portal re-scored
//! on every webhook makes millions of rows a month, so finished work is deleted once it is old
//! enough to no longer interest an operator. Failed and dead runs are kept longer than
//! successes, because someone may still want to read or retry them.

use std::time::Duration;

use apalis_core::backend::Vacuum as _;
use chrono::Utc;
use entity::{JobStatus, Lane, clock_ticks, job_runs};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QuerySelect};

use crate::ledger::LedgerError;
use crate::payload::{InitialSync, JobPayload, NightlyResync, ScoreContact, TrainModel, WriteBack};
use crate::queue::{Queue, QueueBackend, QueueError};

/// How often a worker runs the retention pass.
pub const VACUUM_EVERY: Duration = Duration::from_secs(3_600);
/// Rows deleted per statement, so a large backlog never holds a long lock.
const DELETE_BATCH: u64 = 5_000;

/// How long finished work is kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetentionPolicy {
    /// Succeeded and cancelled runs.
    pub succeeded_runs: Duration,
    /// Failed and dead runs (still retryable from the API until then).
    pub failed_runs: Duration,
    /// The queue backend's own record of finished tasks (the ledger has the story).
    pub queue_tasks: Duration,
    /// Clock ticks (only the recent ones guard against a double fire).
    pub clock_ticks: Duration,
    /// HubSpot usage windows; older ones are folded into each portal's all-time row.
    pub hubspot_usage: Duration,
    /// A disconnected portal's CRM data (`CONTURS_DISCONNECTED_RETENTION_DAYS`).
    pub disconnected_portals: Duration,
}

impl Default for RetentionPolicy {
    fn default() -> Self {
        const DAY: u64 = 86_400;
        Self {
            succeeded_runs: Duration::from_secs(7 * DAY),
            failed_runs: Duration::from_secs(30 * DAY),
            queue_tasks: Duration::from_secs(DAY),
            clock_ticks: Duration::from_secs(30 * DAY),
            hubspot_usage: Duration::from_secs(7 * DAY),
            disconnected_portals: Duration::from_secs(
                platform::config::DEFAULT_DISCONNECTED_RETENTION_DAYS * DAY,
            ),
        }
    }
}

/// What one pass deleted.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct VacuumReport {
    pub runs_deleted: u64,
    pub queue_tasks_deleted: u64,
    pub clock_ticks_deleted: u64,
    pub usage_windows_compacted: u64,
    /// Disconnected portals whose CRM data was deleted.
    pub portals_purged: u64,
}

/// Why a retention pass stopped.
#[derive(Debug, thiserror::Error)]
pub enum RetentionError {
    #[error(transparent)]
    Ledger(#[from] LedgerError),
    #[error(transparent)]
    Queue(#[from] QueueError),
}

/// Deletes finished work older than `policy` allows, from the ledger and the queue backend.
pub async fn vacuum(
    queue: &Queue,
    policy: &RetentionPolicy,
) -> Result<VacuumReport, RetentionError> {
    let runs_deleted = delete_finished_runs(queue, policy).await?;
    let clock_ticks_deleted = delete_old_ticks(queue, policy.clock_ticks).await?;
    let usage_windows_compacted = crate::usage::compact_before(
        queue.ledger().db(),
        Utc::now() - chrono::Duration::from_std(policy.hubspot_usage).unwrap_or_default(),
    )
    .await
    .map_err(LedgerError::from)?;
    let portals_purged = crate::privacy::purge_expired_portals(
        queue.ledger().db(),
        policy.disconnected_portals,
        Utc::now(),
    )
    .await
    .map_err(LedgerError::from)?
    .len() as u64;
    let queue_tasks_deleted = vacuum_backend(queue, policy.queue_tasks).await?;
    let report = VacuumReport {
        runs_deleted,
        queue_tasks_deleted,
        clock_ticks_deleted,
        usage_windows_compacted,
        portals_purged,
    };
    if report != VacuumReport::default() {
        tracing::info!(?report, "retention pass deleted old work");
    }
    Ok(report)
}

async fn delete_finished_runs(queue: &Queue, policy: &RetentionPolicy) -> Result<u64, LedgerError> {
    let db = queue.ledger().db();
    let mut deleted = 0;
    for (statuses, keep) in [
        (
            &[JobStatus::Succeeded, JobStatus::Cancelled][..],
            policy.succeeded_runs,
        ),
        (
            &[JobStatus::Failed, JobStatus::Dead][..],
            policy.failed_runs,
        ),
    ] {
        let cutoff = Utc::now() - chrono::Duration::from_std(keep).unwrap_or_default();
        loop {
            // Ids first, then delete by id: portable (no DELETE … LIMIT) and index-friendly.
            let ids: Vec<uuid::Uuid> = job_runs::Entity::find()
                .select_only()
                .column(job_runs::Column::Id)
                .filter(job_runs::Column::Status.is_in(statuses.iter().copied()))
                .filter(job_runs::Column::FinishedAt.lt(cutoff))
                .limit(DELETE_BATCH)
                .into_tuple()
                .all(db)
                .await
                .map_err(LedgerError::from)?;
            if ids.is_empty() {
                break;
            }
            // Events go with their run (ON DELETE CASCADE).
            let result = job_runs::Entity::delete_many()
                .filter(job_runs::Column::Id.is_in(ids.iter().copied()))
                .exec(db)
                .await
                .map_err(LedgerError::from)?;
            deleted += result.rows_affected;
            if (ids.len() as u64) < DELETE_BATCH {
                break;
            }
        }
    }
    Ok(deleted)
}

async fn delete_old_ticks(queue: &Queue, keep: Duration) -> Result<u64, LedgerError> {
    let cutoff = Utc::now() - chrono::Duration::from_std(keep).unwrap_or_default();
    let result = clock_ticks::Entity::delete_many()
        .filter(clock_ticks::Column::TickAt.lt(cutoff))
        .exec(queue.ledger().db())
        .await
        .map_err(LedgerError::from)?;
    Ok(result.rows_affected)
}

/// The backend's finished tasks older than `keep`, on every queue Conturs uses.
async fn vacuum_backend(queue: &Queue, keep: Duration) -> Result<u64, QueueError> {
    match queue.backend() {
        QueueBackend::Redis(_) => {
            let mut deleted = 0;
            for lane in [Lane::Bulk, Lane::Realtime] {
                deleted += vacuum_redis_queue::<InitialSync>(queue, lane, keep).await?;
                deleted += vacuum_redis_queue::<TrainModel>(queue, lane, keep).await?;
                deleted += vacuum_redis_queue::<ScoreContact>(queue, lane, keep).await?;
                deleted += vacuum_redis_queue::<WriteBack>(queue, lane, keep).await?;
                deleted += vacuum_redis_queue::<NightlyResync>(queue, lane, keep).await?;
            }
            Ok(deleted)
        }
        QueueBackend::Sqlite(pool) => {
            // Our own statement, not apalis-sqlite's `vacuum_before`, which compares an integer
            // with datetime text and deletes every finished task (notes/apalis-embedded-sqlite.md
            // S5), and then runs a whole-file VACUUM that would lock the shared database.
            let cutoff = Utc::now().timestamp() - keep.as_secs() as i64;
            let result = sea_orm::sqlx::query(
                "DELETE FROM Jobs WHERE done_at IS NOT NULL AND done_at < ?1 \
                 AND (status IN ('Done', 'Killed') OR (status = 'Failed' AND attempts >= max_attempts))",
            )
            .bind(cutoff)
            .execute(pool)
            .await
            .map_err(|e| QueueError::Backend(e.to_string()))?;
            Ok(result.rows_affected())
        }
    }
}

async fn vacuum_redis_queue<J: JobPayload>(
    queue: &Queue,
    lane: Lane,
    keep: Duration,
) -> Result<u64, QueueError> {
    let QueueBackend::Redis(conn) = queue.backend() else {
        return Ok(0);
    };
    let mut storage = QueueBackend::redis_storage::<J>(conn, queue.settings(), lane);
    let deleted = storage
        .vacuum_before(keep)
        .await
        .map_err(|e| QueueError::Backend(e.to_string()))?;
    Ok(deleted as u64)
}
