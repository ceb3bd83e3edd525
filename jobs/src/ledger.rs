//! The progress ledger and outbox (DESIGN §3).
//!
//! A run's row is written before its job reaches the queue, so a job acknowledged to a caller
//! exists even if the queue loses it; the reconciler re-enqueues such rows. Every transition is
//! stamped on the row and appended to the run's event timeline, which the API streams and the
//! board draws. Handlers never write here directly: the ledger layer records attempts and
//! outcomes, and [`crate::progress::Progress`] records phases and counts.

use std::sync::{Arc, OnceLock};

use chrono::{DateTime, Utc};
use entity::{JobStatus, JobType, Lane, job_events, job_runs};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ActiveValue::NotSet, ActiveValue::Set, ColumnTrait, DatabaseConnection,
    DbErr, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
};
use serde_json::Value;
use uuid::Uuid;

pub mod batch;
mod transition;

use transition::{Outcome, Request};

/// How long a running job's heartbeat keeps other workers from taking it over. Running jobs
/// beat every few seconds (`runtime::JOB_HEARTBEAT`), so only a dead worker's job expires.
pub const LEASE: std::time::Duration = std::time::Duration::from_secs(15);

/// Why the ledger could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum LedgerError {
    #[error("job ledger database error: {0}")]
    Db(#[from] DbErr),
    #[error("job run {0} does not exist")]
    UnknownRun(Uuid),
    /// An operator cancelled the run while it was running; it stops at its next checkpoint.
    #[error("job run {0} was cancelled")]
    Cancelled(Uuid),
}

/// A job about to be enqueued.
#[derive(Debug, Clone)]
pub struct NewRun {
    /// Chosen by the caller (UUIDv7), because the job payload carries it.
    pub id: Uuid,
    pub portal_id: i64,
    pub job_type: JobType,
    pub lane: Lane,
    pub payload: Value,
    pub max_attempts: i32,
    pub idempotency_key: Option<String>,
    pub parent_id: Option<Uuid>,
}

/// What a worker should do with a delivered job, decided before the handler runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AttemptDecision {
    /// Run it; this is attempt number `attempt` (1-based).
    Run { attempt: i32 },
    /// Already finished (a redelivery after success or cancellation): acknowledge and skip.
    Skip { status: JobStatus },
    /// Another worker is running it and its heartbeat is fresh (a duplicate delivery).
    Busy,
    /// Delivered more times than allowed, for example because it keeps killing its worker:
    /// it has been moved to the dead list.
    Exhausted { attempts: i32 },
}

/// How an attempt ended badly.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// needs_reconnect, missing_scopes, rate_limited, transient, invalid, internal…
    pub kind: String,
    pub message: String,
    /// Retrying could succeed (the queue will deliver it again).
    pub retryable: bool,
}

/// Reads and writes job runs and their events.
///
/// Every read-modify-write transition locks the run's row (`SELECT … FOR UPDATE` on Postgres;
/// SQLite's write transactions are exclusive already), so two deliveries of one job racing to
/// start it cannot both win.
///
/// The hot transitions also come in a group-commit form ([`Self::start_attempt_batched`],
/// [`Self::succeed_batched`]): clones share one background task that commits what callers have
/// queued in one transaction ([`batch`]).
#[derive(Debug, Clone)]
pub struct Ledger {
    db: DatabaseConnection,
    /// Started on first use, on the runtime of that caller.
    batcher: Arc<OnceLock<batch::Batcher>>,
}

impl Ledger {
    pub fn new(db: DatabaseConnection) -> Self {
        Self {
            db,
            batcher: Arc::default(),
        }
    }

    pub fn db(&self) -> &DatabaseConnection {
        &self.db
    }

    /// Writes the outbox row (status `pending`) and its first event, atomically.
    pub async fn record(&self, new: NewRun) -> Result<job_runs::Model, LedgerError> {
        let txn = platform::db::begin_write(&self.db).await?;
        let run = Self::record_in(&txn, new).await?;
        txn.commit().await?;
        Ok(run)
    }

    /// Writes the outbox row inside the caller's transaction, so it commits together with
    /// whatever caused it (a clock tick, a webhook event).
    pub async fn record_in<C: sea_orm::ConnectionTrait>(
        txn: &C,
        new: NewRun,
    ) -> Result<job_runs::Model, LedgerError> {
        let now = Utc::now();
        let run = pending_row(new, now).insert(txn).await?;
        insert_event(txn, &run, now, "enqueued", "accepted and recorded", None).await?;
        Ok(run)
    }

    /// The queue accepted the job.
    pub async fn mark_queued(&self, run_id: Uuid) -> Result<(), LedgerError> {
        job_runs::Entity::update_many()
            .col_expr(job_runs::Column::Status, Expr::value(JobStatus::Queued))
            .col_expr(job_runs::Column::UpdatedAt, Expr::value(Utc::now()))
            .filter(job_runs::Column::Id.eq(run_id))
            .filter(job_runs::Column::Status.eq(JobStatus::Pending))
            .exec(&self.db)
            .await?;
        Ok(())
    }

    /// Called when a worker receives the job: counts the attempt and decides whether to run it.
    /// One locked transaction of its own; the ledger layer uses [`Self::start_attempt_batched`].
    pub async fn start_attempt(
        &self,
        run_id: Uuid,
        worker: &str,
    ) -> Result<AttemptDecision, LedgerError> {
        let request = Request::Start {
            run_id,
            worker: worker.into(),
        };
        start_answer(self.apply_alone(request).await)
    }

    /// [`Self::start_attempt`], committed in one transaction together with whatever other
    /// callers have queued meanwhile (group commit): what every job's attempt goes through.
    pub async fn start_attempt_batched(
        &self,
        run_id: Uuid,
        worker: &Arc<str>,
    ) -> Result<AttemptDecision, LedgerError> {
        let request = Request::Start {
            run_id,
            worker: worker.clone(),
        };
        start_answer(self.apply_batched(request).await)
    }

    /// Proves the worker running `run_id` is alive, extending its lease.
    pub async fn heartbeat(&self, run_id: Uuid) -> Result<(), LedgerError> {
        job_runs::Entity::update_many()
            .col_expr(job_runs::Column::HeartbeatAt, Expr::value(Utc::now()))
            .filter(job_runs::Column::Id.eq(run_id))
            .filter(job_runs::Column::Status.eq(JobStatus::Running))
            .exec(&self.db)
            .await?;
        Ok(())
    }

    /// Records progress within the current phase; rate and ETA come from the caller's clock.
    pub async fn progress(&self, update: &ProgressUpdate) -> Result<(), LedgerError> {
        let now = Utc::now();
        job_runs::Entity::update_many()
            .col_expr(job_runs::Column::Phase, Expr::value(update.phase.clone()))
            .col_expr(job_runs::Column::Done, Expr::value(update.done))
            .col_expr(job_runs::Column::Total, Expr::value(update.total))
            .col_expr(job_runs::Column::Rate, Expr::value(update.rate))
            .col_expr(
                job_runs::Column::EtaSeconds,
                Expr::value(update.eta_seconds),
            )
            .col_expr(job_runs::Column::HeartbeatAt, Expr::value(now))
            .col_expr(job_runs::Column::UpdatedAt, Expr::value(now))
            .filter(job_runs::Column::Id.eq(update.run_id))
            .exec(&self.db)
            .await?;
        Ok(())
    }

    /// Appends an event to a run's timeline (phase changes, retries, operator actions).
    pub async fn event(
        &self,
        run_id: Uuid,
        kind: &str,
        message: &str,
        data: Option<Value>,
    ) -> Result<(), LedgerError> {
        let run = self.get(run_id).await?;
        insert_event(&self.db, &run, Utc::now(), kind, message, data).await?;
        Ok(())
    }

    /// The attempt finished its work. Returns `false` when an operator cancelled the run while
    /// it ran: the run stays cancelled and gets a `stopped` event. One locked read decides, so a
    /// cancel is never overwritten and the common path costs one transaction.
    pub async fn succeed(&self, run_id: Uuid) -> Result<bool, LedgerError> {
        succeed_answer(self.apply_alone(Request::Succeed { run_id }).await)
    }

    /// [`Self::succeed`], committed in one transaction together with whatever other callers
    /// have queued meanwhile (group commit).
    pub async fn succeed_batched(&self, run_id: Uuid) -> Result<bool, LedgerError> {
        succeed_answer(self.apply_batched(Request::Succeed { run_id }).await)
    }

    /// A hot transition in a write transaction of its own.
    async fn apply_alone(&self, request: Request) -> Result<Outcome, LedgerError> {
        let mut results = batch::commit(&self.db, std::slice::from_ref(&request)).await?;
        results
            .pop()
            .unwrap_or(Err(LedgerError::UnknownRun(request.run_id())))
    }

    /// A hot transition through the ledger's batcher, started here on first use. Without a
    /// runtime to start it on, or once its runtime is gone, the request commits alone.
    async fn apply_batched(&self, request: Request) -> Result<Outcome, LedgerError> {
        let batcher = match self.batcher.get() {
            Some(batcher) => Some(batcher),
            None => tokio::runtime::Handle::try_current().ok().map(|runtime| {
                self.batcher
                    .get_or_init(|| batch::Batcher::spawn(&runtime, self.db.clone()))
            }),
        };
        if let Some(batcher) = batcher
            && let Some(result) = batcher.submit(request.clone()).await
        {
            return result;
        }
        self.apply_alone(request).await
    }

    /// The attempt failed; the run waits for its next attempt, or ends failed or dead.
    pub async fn fail(&self, run_id: Uuid, failure: &Failure) -> Result<JobStatus, LedgerError> {
        let run = self.get(run_id).await?;
        let status = if !failure.retryable {
            JobStatus::Failed
        } else if run.attempts >= run.max_attempts {
            JobStatus::Dead
        } else {
            JobStatus::Retrying
        };
        let kind = match status {
            JobStatus::Retrying => "retry",
            JobStatus::Dead => "dead",
            _ => "failed",
        };
        let message = match status {
            JobStatus::Retrying => format!(
                "attempt {} failed ({}): {}; will retry",
                run.attempts, failure.kind, failure.message
            ),
            JobStatus::Dead => format!(
                "attempt {} of {} failed ({}): {}; out of attempts",
                run.attempts, run.max_attempts, failure.kind, failure.message
            ),
            _ => format!("failed permanently ({}): {}", failure.kind, failure.message),
        };
        self.finish(run_id, status, Some(failure), kind, &message)
            .await?;
        Ok(status)
    }

    /// The attempt stopped at a checkpoint because its worker is shutting down: the run goes
    /// back to `queued` and the attempt is not counted, since nothing failed.
    pub async fn interrupted(&self, run_id: Uuid) -> Result<(), LedgerError> {
        let txn = platform::db::begin_write(&self.db).await?;
        let run = locked_run(&txn, run_id).await?;
        if run.status != JobStatus::Running {
            return Ok(());
        }
        let now = Utc::now();
        let mut active: job_runs::ActiveModel = run.clone().into();
        active.status = Set(JobStatus::Queued);
        active.attempts = Set((run.attempts - 1).max(0));
        active.worker = Set(None);
        active.heartbeat_at = Set(None);
        active.updated_at = Set(now);
        active.update(&txn).await?;
        insert_event(
            &txn,
            &run,
            now,
            "interrupted",
            "the worker is shutting down; stopped at a checkpoint and re-queued to resume there",
            None,
        )
        .await?;
        txn.commit().await?;
        Ok(())
    }

    /// Cancels a run that has not finished; returns whether it was cancelled.
    pub async fn cancel(&self, run_id: Uuid, reason: &str) -> Result<bool, LedgerError> {
        let run = self.get(run_id).await?;
        if run.status.is_terminal() {
            return Ok(false);
        }
        self.finish(run_id, JobStatus::Cancelled, None, "cancelled", reason)
            .await?;
        Ok(true)
    }

    /// Puts a failed or dead run back on the way to the queue (an operator's retry): status
    /// `pending` (the outbox state, so the reconciler pushes it if the caller cannot), a fresh
    /// set of attempts, and a `retried` event. Returns `None`, changing nothing, when the run is
    /// in any other status.
    pub async fn retry(
        &self,
        run_id: Uuid,
        reason: &str,
    ) -> Result<Option<job_runs::Model>, LedgerError> {
        let txn = platform::db::begin_write(&self.db).await?;
        let run = locked_run(&txn, run_id).await?;
        if !matches!(run.status, JobStatus::Failed | JobStatus::Dead) {
            return Ok(None);
        }
        let now = Utc::now();
        let mut active: job_runs::ActiveModel = run.clone().into();
        active.status = Set(JobStatus::Pending);
        active.attempts = Set(0);
        active.worker = Set(None);
        active.heartbeat_at = Set(None);
        active.finished_at = Set(None);
        active.updated_at = Set(now);
        let updated = active.update(&txn).await?;
        let message = format!(
            "{reason}; was {} after {} attempt(s)",
            serde_json::to_value(run.status)
                .ok()
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_default(),
            run.attempts
        );
        insert_event(&txn, &run, now, "retried", &message, None).await?;
        txn.commit().await?;
        Ok(Some(updated))
    }

    /// Whether an operator cancelled the run; handlers learn it at their next checkpoint.
    pub async fn is_cancelled(&self, run_id: Uuid) -> Result<bool, LedgerError> {
        let status: Option<JobStatus> = job_runs::Entity::find_by_id(run_id)
            .select_only()
            .column(job_runs::Column::Status)
            .into_tuple()
            .one(&self.db)
            .await?;
        Ok(status == Some(JobStatus::Cancelled))
    }

    async fn finish(
        &self,
        run_id: Uuid,
        status: JobStatus,
        failure: Option<&Failure>,
        event_kind: &str,
        message: &str,
    ) -> Result<(), LedgerError> {
        let txn = platform::db::begin_write(&self.db).await?;
        let run = locked_run(&txn, run_id).await?;
        let now = Utc::now();
        let mut active: job_runs::ActiveModel = run.clone().into();
        active.status = Set(status);
        active.updated_at = Set(now);
        if status.is_terminal() {
            active.finished_at = Set(Some(now));
            active.eta_seconds = Set(None);
        }
        if let Some(failure) = failure {
            active.last_error = Set(Some(failure.message.clone()));
            active.error_kind = Set(Some(failure.kind.clone()));
        }
        active.update(&txn).await?;
        insert_event(&txn, &run, now, event_kind, message, None).await?;
        txn.commit().await?;
        Ok(())
    }

    pub async fn get(&self, run_id: Uuid) -> Result<job_runs::Model, LedgerError> {
        job_runs::Entity::find_by_id(run_id)
            .one(&self.db)
            .await?
            .ok_or(LedgerError::UnknownRun(run_id))
    }

    /// A run's events, oldest first.
    pub async fn timeline(&self, run_id: Uuid) -> Result<Vec<job_events::Model>, LedgerError> {
        Ok(job_events::Entity::find()
            .filter(job_events::Column::JobRunId.eq(run_id))
            .order_by_asc(job_events::Column::Id)
            .all(&self.db)
            .await?)
    }

    /// Unfinished runs untouched since `stale_before`, oldest first: what the reconciler puts
    /// back when the queue may have lost them.
    pub async fn unfinished_since(
        &self,
        stale_before: DateTime<Utc>,
        limit: u64,
    ) -> Result<Vec<job_runs::Model>, LedgerError> {
        Ok(job_runs::Entity::find()
            .filter(job_runs::Column::Status.is_in([
                JobStatus::Pending,
                JobStatus::Queued,
                JobStatus::Retrying,
            ]))
            .filter(job_runs::Column::UpdatedAt.lt(stale_before))
            .order_by_asc(job_runs::Column::Id)
            .limit(limit)
            .all(&self.db)
            .await?)
    }
}

impl Ledger {
    /// Running runs whose worker stopped beating before `silent_since` (killed, or its machine
    /// died) go back to `queued`, and are returned for re-pushing. The crashed attempt stays
    /// counted, so a job that keeps killing its worker ends on the dead list.
    pub async fn reclaim_orphans(
        &self,
        silent_since: DateTime<Utc>,
        limit: u64,
    ) -> Result<Vec<job_runs::Model>, LedgerError> {
        let candidates = job_runs::Entity::find()
            .filter(job_runs::Column::Status.eq(JobStatus::Running))
            .filter(job_runs::Column::HeartbeatAt.lt(silent_since))
            .order_by_asc(job_runs::Column::Id)
            .limit(limit)
            .all(&self.db)
            .await?;
        let mut reclaimed = Vec::with_capacity(candidates.len());
        for run in candidates {
            let now = Utc::now();
            // Conditional: a worker that revived the run meanwhile keeps it.
            let updated = job_runs::Entity::update_many()
                .col_expr(job_runs::Column::Status, Expr::value(JobStatus::Queued))
                .col_expr(job_runs::Column::UpdatedAt, Expr::value(now))
                .filter(job_runs::Column::Id.eq(run.id))
                .filter(job_runs::Column::Status.eq(JobStatus::Running))
                .filter(job_runs::Column::HeartbeatAt.lt(silent_since))
                .exec(&self.db)
                .await?;
            if updated.rows_affected == 1 {
                let message = format!(
                    "worker {} stopped beating during attempt {}; put back on the queue",
                    run.worker.as_deref().unwrap_or("?"),
                    run.attempts
                );
                insert_event(&self.db, &run, now, "orphaned", &message, None).await?;
                reclaimed.push(run);
            }
        }
        Ok(reclaimed)
    }
}

/// One progress report from a handler.
#[derive(Debug, Clone, PartialEq)]
pub struct ProgressUpdate {
    pub run_id: Uuid,
    pub phase: String,
    pub done: i64,
    pub total: Option<i64>,
    pub rate: Option<f64>,
    pub eta_seconds: Option<f64>,
}

fn start_answer(outcome: Result<Outcome, LedgerError>) -> Result<AttemptDecision, LedgerError> {
    match outcome? {
        Outcome::Start(decision) => Ok(decision),
        Outcome::Succeed(_) => Err(mismatched_answer()),
    }
}

fn succeed_answer(outcome: Result<Outcome, LedgerError>) -> Result<bool, LedgerError> {
    match outcome? {
        Outcome::Succeed(succeeded) => Ok(succeeded),
        Outcome::Start(_) => Err(mismatched_answer()),
    }
}

/// [`transition::plan`] answers each request with its own kind; this cannot happen.
fn mismatched_answer() -> LedgerError {
    LedgerError::Db(DbErr::Custom(
        "the ledger answered a different kind of request".into(),
    ))
}

/// Reads a run for a read-modify-write transition, locking its row (`SELECT … FOR UPDATE` on
/// Postgres; SQLite's write transaction is exclusive already).
async fn locked_run<C: sea_orm::ConnectionTrait>(
    txn: &C,
    run_id: Uuid,
) -> Result<job_runs::Model, LedgerError> {
    job_runs::Entity::find_by_id(run_id)
        .lock_exclusive()
        .one(txn)
        .await?
        .ok_or(LedgerError::UnknownRun(run_id))
}

/// The row a new run starts as (status `pending`), for single and bulk enqueues alike.
pub(crate) fn pending_row(new: NewRun, now: DateTime<Utc>) -> job_runs::ActiveModel {
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

/// One timeline event of a run, for single and bulk writes alike.
pub(crate) fn event_row(
    run_id: Uuid,
    portal_id: i64,
    at: DateTime<Utc>,
    kind: &str,
    message: &str,
    data: Option<Value>,
) -> job_events::ActiveModel {
    job_events::ActiveModel {
        id: NotSet,
        job_run_id: Set(run_id),
        portal_id: Set(portal_id),
        at: Set(at),
        kind: Set(kind.to_owned()),
        message: Set(message.to_owned()),
        data: Set(data),
    }
}

async fn insert_event<C: sea_orm::ConnectionTrait>(
    db: &C,
    run: &job_runs::Model,
    at: DateTime<Utc>,
    kind: &str,
    message: &str,
    data: Option<Value>,
) -> Result<(), DbErr> {
    event_row(run.id, run.portal_id, at, kind, message, data)
        .insert(db)
        .await?;
    Ok(())
}
