//! The clock: fires NightlyResync for every live portal on a cron schedule (00:00 UTC by
//! default), exactly once per tick however many clock or worker processes run.
//!
//! Each firing first claims its `(portal, schedule, tick)` row in `clock_ticks` in the same
//! transaction that records the run in the ledger; a process that loses the race gets a
//! primary-key conflict and fires nothing. The push to the queue follows the commit, and the
//! reconciler covers a crash in between.

use std::str::FromStr;

use chrono::{DateTime, Utc};
use entity::{PortalStatus, clock_ticks, portals};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter, QuerySelect,
};

use crate::ledger::{Ledger, LedgerError};
use crate::payload::{JobPayload, NightlyResync};
use crate::queue::{EnqueueOptions, Queue, QueueError, new_run};

/// The schedule's name in `clock_ticks`.
pub const NIGHTLY_RESYNC: &str = "nightly_resync";
pub use platform::config::DEFAULT_NIGHTLY_SCHEDULE;

/// Why the clock could not start or fire.
#[derive(Debug, thiserror::Error)]
pub enum ClockError {
    #[error("invalid cron schedule {expression:?}: {reason}")]
    Schedule { expression: String, reason: String },
    #[error(transparent)]
    Queue(#[from] QueueError),
    #[error(transparent)]
    Ledger(#[from] LedgerError),
    #[error("clock database error: {0}")]
    Db(#[from] sea_orm::DbErr),
}

/// Fires the nightly re-sync.
#[derive(Debug)]
pub struct Clock {
    queue: Queue,
    schedule: cron::Schedule,
}

impl Clock {
    pub fn new(queue: Queue, expression: &str) -> Result<Self, ClockError> {
        let schedule = cron::Schedule::from_str(expression).map_err(|e| ClockError::Schedule {
            expression: expression.to_owned(),
            reason: e.to_string(),
        })?;
        Ok(Self { queue, schedule })
    }

    /// The first tick strictly after `after`.
    pub fn next_tick(&self, after: DateTime<Utc>) -> Option<DateTime<Utc>> {
        self.schedule.after(&after).next()
    }

    /// Fires `tick` for every live portal that has not had it yet; returns how many fired here.
    pub async fn fire(&self, tick: DateTime<Utc>) -> Result<usize, ClockError> {
        let db = self.queue.ledger().db().clone();
        let portal_ids: Vec<i64> = portals::Entity::find()
            .select_only()
            .column(portals::Column::Id)
            .filter(portals::Column::Status.is_in([
                PortalStatus::Connected,
                PortalStatus::Syncing,
                PortalStatus::Ready,
                PortalStatus::InsufficientData,
            ]))
            .into_tuple()
            .all(&db)
            .await?;
        let mut fired = 0;
        for portal_id in portal_ids {
            let job = NightlyResync {
                run_id: uuid::Uuid::now_v7(),
                portal_id,
            };
            let txn = platform::db::begin_write(&db).await?;
            let claimed = clock_ticks::ActiveModel {
                portal_id: Set(portal_id),
                schedule: Set(NIGHTLY_RESYNC.to_owned()),
                tick_at: Set(tick),
                job_run_id: Set(job.run_id()),
                fired_at: Set(Utc::now()),
            }
            .insert(&txn)
            .await;
            if claimed.is_err() {
                // Another process claimed this tick first (or it fired before a restart).
                txn.rollback().await?;
                continue;
            }
            Ledger::record_in(&txn, new_run(&job, &EnqueueOptions::default())?).await?;
            txn.commit().await?;
            self.queue.push(&job, None).await?;
            self.queue.ledger().mark_queued(job.run_id()).await?;
            fired += 1;
        }
        Ok(fired)
    }

    /// Sleeps until each tick and fires it, until `shutdown` resolves.
    pub async fn run(self, shutdown: impl std::future::Future<Output = ()>) {
        tokio::pin!(shutdown);
        loop {
            let now = Utc::now();
            let Some(tick) = self.next_tick(now) else {
                tracing::error!("the schedule has no future ticks; the clock stops");
                return;
            };
            let wait = (tick - now).to_std().unwrap_or_default();
            tracing::info!(%tick, "clock waiting for the next tick");
            tokio::select! {
                () = &mut shutdown => return,
                () = tokio::time::sleep(wait) => {}
            }
            match self.fire(tick).await {
                Ok(fired) => tracing::info!(%tick, fired, "nightly re-sync fired"),
                Err(error) => tracing::error!(%tick, %error, "nightly re-sync failed to fire"),
            }
        }
    }
}
