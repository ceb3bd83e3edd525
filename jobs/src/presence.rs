//! Worker presence: every worker process writes itself down every [`BEAT_EVERY`] so the board
//! can show which workers are alive and what each runs. A row older than [`ALIVE_WITHIN`] is a
//! worker that stopped (killed, scaled down); rows stale for [`FORGET_AFTER`] are removed by
//! whichever worker beats next.

use std::time::Duration;

use chrono::{DateTime, Utc};
use entity::worker_presence;
use sea_orm::sea_query::OnConflict;
use sea_orm::{ColumnTrait, DatabaseConnection, DbErr, EntityTrait, QueryFilter, QueryOrder, Set};

/// How often a worker writes itself down.
pub const BEAT_EVERY: Duration = Duration::from_secs(5);
/// A worker seen within this long is alive (three missed beats are not).
pub const ALIVE_WITHIN: Duration = Duration::from_secs(20);
/// Rows of workers gone this long are deleted.
pub const FORGET_AFTER: Duration = Duration::from_secs(24 * 3600);

/// Who this worker process is, as the board shows it.
#[derive(Clone, Debug)]
pub struct WorkerIdentity {
    /// The unique process name job runs record as their `worker`.
    pub name: String,
    /// The dyno (`DYNO`, e.g. `worker.2`) or host name.
    pub host: String,
    pub pid: u32,
    pub concurrency: usize,
    pub started_at: DateTime<Utc>,
}

impl WorkerIdentity {
    /// This process, started now.
    pub fn current(name: impl Into<String>, concurrency: usize) -> Self {
        let host = std::env::var("DYNO")
            .or_else(|_| std::env::var("HOSTNAME"))
            .ok()
            .or_else(|| std::fs::read_to_string("/etc/hostname").ok())
            .map(|h| h.trim().to_owned())
            .filter(|h| !h.is_empty())
            .unwrap_or_else(|| "unknown".to_owned());
        Self {
            name: name.into(),
            host,
            pid: std::process::id(),
            concurrency,
            started_at: Utc::now(),
        }
    }
}

/// Writes `worker` down as seen at `now`, and forgets workers gone for [`FORGET_AFTER`].
pub async fn beat(
    db: &DatabaseConnection,
    worker: &WorkerIdentity,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    let row = worker_presence::ActiveModel {
        name: Set(worker.name.clone()),
        host: Set(worker.host.chars().take(255).collect()),
        pid: Set(i64::from(worker.pid)),
        concurrency: Set(i32::try_from(worker.concurrency).unwrap_or(i32::MAX)),
        started_at: Set(worker.started_at),
        last_seen_at: Set(now),
    };
    worker_presence::Entity::insert(row)
        .on_conflict(
            OnConflict::column(worker_presence::Column::Name)
                .update_column(worker_presence::Column::LastSeenAt)
                .to_owned(),
        )
        .exec_without_returning(db)
        .await?;
    let forget_before = now - chrono::Duration::from_std(FORGET_AFTER).unwrap_or_default();
    worker_presence::Entity::delete_many()
        .filter(worker_presence::Column::LastSeenAt.lt(forget_before))
        .exec(db)
        .await?;
    Ok(())
}

/// Removes `worker` at a clean stop, so the board does not show it for [`ALIVE_WITHIN`] more.
pub async fn leave(db: &DatabaseConnection, worker: &WorkerIdentity) -> Result<(), DbErr> {
    worker_presence::Entity::delete_by_id(worker.name.clone())
        .exec(db)
        .await?;
    Ok(())
}

/// Beats every [`BEAT_EVERY`] until the task is dropped; a failed beat is tried again next time.
pub async fn beat_forever(db: DatabaseConnection, worker: WorkerIdentity) {
    loop {
        if let Err(error) = beat(&db, &worker, Utc::now()).await {
            tracing::warn!(%error, "could not write worker presence down; will try again");
        }
        tokio::time::sleep(BEAT_EVERY).await;
    }
}

/// Workers seen within [`ALIVE_WITHIN`] of `now`, longest-running first.
pub async fn alive(
    db: &DatabaseConnection,
    now: DateTime<Utc>,
) -> Result<Vec<worker_presence::Model>, DbErr> {
    let since = now - chrono::Duration::from_std(ALIVE_WITHIN).unwrap_or_default();
    worker_presence::Entity::find()
        .filter(worker_presence::Column::LastSeenAt.gte(since))
        .order_by_asc(worker_presence::Column::StartedAt)
        .order_by_asc(worker_presence::Column::Name)
        .all(db)
        .await
}
