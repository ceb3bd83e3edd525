//! Group commit for the two hot transitions (DESIGN §8, issue 6).
//!
//! Every job starts an attempt before its handler and records its success after it. Done one
//! transaction per call, the ledger caps the worker stack at about a thousand jobs/s on one
//! SQLite writer or a chain of Postgres round trips. The [`Batcher`] takes what callers have
//! queued (no waiting when idle: it receives one request, then whatever else is already
//! there, up to [`MAX_BATCH`]) and applies it in one write transaction: one locked read of all
//! the runs, the per-run decisions in arrival order ([`super::transition::plan`]), one
//! `UPDATE … WHERE id IN (…)` per distinct set of new values and one multi-row event insert.
//! On Postgres a few batches commit at once, so round trips overlap; SQLite's one writer takes
//! one at a time.

use std::sync::Arc;

use chrono::Utc;
use entity::{job_events, job_runs};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, DbErr, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect,
};
use tokio::sync::{Semaphore, mpsc, oneshot};

use super::transition::{self, Outcome, Request, RowChange};
use super::{LedgerError, event_row};

/// Most requests one transaction takes: bounds its locks, statement size and SQLite's bound
/// parameters (a multi-row event insert binds 7 per event).
pub const MAX_BATCH: usize = 256;

/// The answer a caller waits for.
type Reply = oneshot::Sender<Result<Outcome, LedgerError>>;

/// The sending side of one ledger's batching task; clones share the task, which ends when the
/// last clone is dropped.
#[derive(Debug, Clone)]
pub(crate) struct Batcher {
    sender: mpsc::Sender<(Request, Reply)>,
}

impl Batcher {
    /// Starts the batching task on `runtime`, writing through `db`.
    pub(crate) fn spawn(runtime: &tokio::runtime::Handle, db: DatabaseConnection) -> Self {
        let (sender, receiver) = mpsc::channel(MAX_BATCH * 4);
        runtime.spawn(run(db, receiver));
        Self { sender }
    }

    /// Queues `request` and waits for its batch to commit. `None` when the task is gone (its
    /// runtime shut down), so the caller can fall back to a transaction of its own.
    pub(crate) async fn submit(&self, request: Request) -> Option<Result<Outcome, LedgerError>> {
        let (reply, answer) = oneshot::channel();
        if self.sender.send((request, reply)).await.is_err() {
            return None;
        }
        Some(answer.await.unwrap_or_else(|_| {
            Err(LedgerError::Db(DbErr::Custom(
                "the ledger batcher stopped before answering".into(),
            )))
        }))
    }
}

/// Batches committing at once: SQLite has one writer, so a second would only wait for the lock;
/// Postgres overlaps round trips of batches on different rows (each locks its rows in id order,
/// and a run's later request waits for the earlier batch's lock, then sees its result).
fn batches_in_flight(db: &DatabaseConnection) -> usize {
    match db.get_database_backend() {
        sea_orm::DbBackend::Sqlite => 1,
        _ => 8,
    }
}

async fn run(db: DatabaseConnection, mut receiver: mpsc::Receiver<(Request, Reply)>) {
    let slots = Arc::new(Semaphore::new(batches_in_flight(&db)));
    loop {
        // Waiting for a free slot first lets requests pile up into the next, larger batch.
        let Ok(slot) = slots.clone().acquire_owned().await else {
            return;
        };
        let mut batch = Vec::with_capacity(MAX_BATCH);
        if receiver.recv_many(&mut batch, MAX_BATCH).await == 0 {
            return;
        }
        let db = db.clone();
        tokio::spawn(async move {
            answer(&db, batch).await;
            drop(slot);
        });
    }
}

/// Commits one batch and answers its callers.
async fn answer(db: &DatabaseConnection, batch: Vec<(Request, Reply)>) {
    let (requests, replies): (Vec<Request>, Vec<Reply>) = batch.into_iter().unzip();
    match commit(db, &requests).await {
        Ok(results) => {
            for (reply, result) in replies.into_iter().zip(results) {
                // A caller that stopped waiting (its attempt was dropped) needs no answer.
                let _ = reply.send(result);
            }
        }
        Err(error) => {
            tracing::warn!(%error, requests = requests.len(), "ledger batch failed");
            for reply in replies {
                let _ = reply.send(Err(LedgerError::Db(error.clone())));
            }
        }
    }
}

/// Applies `requests` in one write transaction of their own.
pub(crate) async fn commit(
    db: &DatabaseConnection,
    requests: &[Request],
) -> Result<Vec<Result<Outcome, LedgerError>>, DbErr> {
    let txn = platform::db::begin_write(db).await?;
    let results = apply(&txn, requests).await?;
    txn.commit().await?;
    Ok(results)
}

/// Applies `requests` inside `txn`, which must be a write transaction
/// ([`platform::db::begin_write`]): one locked read, grouped updates, one event insert.
/// Returns one answer per request, in order; a request for an unknown run gets
/// [`LedgerError::UnknownRun`] and does not affect the others.
pub(crate) async fn apply<C: ConnectionTrait>(
    txn: &C,
    requests: &[Request],
) -> Result<Vec<Result<Outcome, LedgerError>>, DbErr> {
    let mut ids: Vec<_> = requests.iter().map(Request::run_id).collect();
    ids.sort_unstable();
    ids.dedup();
    // Ordered by id, so concurrent batches (other processes) lock rows in the same order.
    let runs = job_runs::Entity::find()
        .filter(job_runs::Column::Id.is_in(ids))
        .order_by_asc(job_runs::Column::Id)
        .lock_exclusive()
        .all(txn)
        .await?;
    let now = Utc::now();
    let plan = transition::plan(runs, requests, now);
    for (change, ids) in transition::group(plan.changes) {
        update(change, ids).exec(txn).await?;
    }
    if !plan.events.is_empty() {
        let rows = plan.events.into_iter().map(|event| {
            event_row(
                event.run_id,
                event.portal_id,
                now,
                event.kind,
                &event.message,
                None,
            )
        });
        job_events::Entity::insert_many(rows)
            .exec_without_returning(txn)
            .await?;
    }
    Ok(plan.results)
}

/// `UPDATE job_runs SET <change> WHERE id IN (ids)`.
fn update(change: RowChange, ids: Vec<uuid::Uuid>) -> sea_orm::UpdateMany<job_runs::Entity> {
    use job_runs::Column;
    let mut update = job_runs::Entity::update_many();
    if let Some(status) = change.status {
        update = update.col_expr(Column::Status, Expr::value(status));
    }
    if let Some(attempts) = change.attempts {
        update = update.col_expr(Column::Attempts, Expr::value(attempts));
    }
    if let Some(worker) = change.worker {
        update = update.col_expr(Column::Worker, Expr::value(Some(worker)));
    }
    if let Some(at) = change.started_at {
        update = update.col_expr(Column::StartedAt, Expr::value(Some(at)));
    }
    if let Some(at) = change.heartbeat_at {
        update = update.col_expr(Column::HeartbeatAt, Expr::value(Some(at)));
    }
    if let Some(at) = change.finished_at {
        update = update.col_expr(Column::FinishedAt, Expr::value(Some(at)));
    }
    if change.clear_eta {
        update = update.col_expr(Column::EtaSeconds, Expr::value(None::<f64>));
    }
    if let Some(kind) = change.error_kind {
        update = update.col_expr(Column::ErrorKind, Expr::value(Some(kind)));
    }
    if let Some(error) = change.last_error {
        update = update.col_expr(Column::LastError, Expr::value(Some(error)));
    }
    if let Some(at) = change.updated_at {
        update = update.col_expr(Column::UpdatedAt, Expr::value(at));
    }
    update.filter(Column::Id.is_in(ids))
}
