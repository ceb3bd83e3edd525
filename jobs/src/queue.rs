//! Queue backends: Redis in production, an embedded SQLite queue when `REDIS_URL` is unset.
//!
//! Job code is written once: [`Queue::push`] and [`crate::runtime`] are generic over the job
//! type, and the two backends differ only in how a storage for a job type is made. Each job type
//! has its own queue per lane, so realtime work is fetched by its own workers and never waits
//! behind a bulk backlog.
//!
//! Retries and the dead list live in the ledger, not in the backend: a failed attempt is
//! acknowledged to the backend and pushed again with a backoff delay. That keeps retry
//! behaviour identical on both backends and avoids apalis' backend-specific retry bugs
//! (notes/apalis-1.0.md §3.1, notes/apalis-embedded-sqlite.md S1–S3).

use std::time::Duration;

use apalis::prelude::{TaskBuilder, TaskSink};
use apalis_redis::{ConnectionManager, RedisStorage};
use apalis_sqlite::SqliteStorage;
use entity::Lane;
use sea_orm::DatabaseConnection;
use sea_orm::sqlx::SqlitePool;

use crate::drain::Drain;
use crate::ledger::{Ledger, LedgerError, NewRun};
use crate::payload::JobPayload;

/// How long a coalescing key blocks duplicates; long enough to fold a burst of webhooks.
pub const IDEMPOTENCY_TTL: Duration = Duration::from_secs(60);

/// Why a job could not be queued.
#[derive(Debug, thiserror::Error)]
pub enum QueueError {
    #[error(transparent)]
    Ledger(#[from] LedgerError),
    #[error("queue backend error: {0}")]
    Backend(String),
    #[error("cannot connect to the queue: {0}")]
    Connect(String),
    #[error("job payload could not be encoded: {0}")]
    Encode(#[from] serde_json::Error),
}

/// Tuning shared by both backends.
#[derive(Debug, Clone)]
pub struct QueueSettings {
    /// Prefix of every queue name, so tests and tenants of a shared Redis never collide.
    pub namespace: String,
    /// How often an idle worker looks for work pushed by another process.
    pub poll_interval: Duration,
    /// Worker heartbeat; a worker silent for `heartbeat × missed_heartbeats` is presumed dead
    /// and its jobs are delivered again.
    pub heartbeat: Duration,
    pub missed_heartbeats: usize,
}

impl Default for QueueSettings {
    fn default() -> Self {
        Self {
            namespace: "conturs".to_owned(),
            poll_interval: Duration::from_millis(250),
            heartbeat: Duration::from_secs(5),
            missed_heartbeats: 3,
        }
    }
}

impl QueueSettings {
    /// The queue a job type and lane use, e.g. `conturs:score_contact:realtime`.
    pub fn queue_name<J: JobPayload>(&self, lane: Lane) -> String {
        let job = serde_json::to_value(J::TYPE)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default();
        let lane = match lane {
            Lane::Realtime => "realtime",
            Lane::Bulk => "bulk",
        };
        format!("{}:{job}:{lane}", self.namespace)
    }
}

/// Where the queues live.
#[derive(Clone)]
pub enum QueueBackend {
    Redis(ConnectionManager),
    /// The SQLite pool sea-orm uses, so the embedded mode has one database file.
    Sqlite(SqlitePool),
}

impl std::fmt::Debug for QueueBackend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Redis(_) => "QueueBackend::Redis",
            Self::Sqlite(_) => "QueueBackend::Sqlite",
        })
    }
}

impl QueueBackend {
    /// Connects to Redis; `rediss://` URLs use TLS (with `#insecure` for Heroku's certificates).
    pub async fn redis(url: &str) -> Result<Self, QueueError> {
        let conn = apalis_redis::connect(url)
            .await
            .map_err(|e| QueueError::Connect(e.to_string()))?;
        Ok(Self::Redis(conn))
    }

    /// Uses the SQLite database sea-orm is connected to, creating apalis' tables if needed.
    pub async fn sqlite(db: &DatabaseConnection) -> Result<Self, QueueError> {
        let pool = db.get_sqlite_connection_pool().clone();
        SqliteStorage::<()>::setup(&pool)
            .await
            .map_err(|e| QueueError::Connect(e.to_string()))?;
        Ok(Self::Sqlite(pool))
    }

    /// A storage for one job type and lane on the Redis backend.
    pub fn redis_storage<J: JobPayload>(
        conn: &ConnectionManager,
        settings: &QueueSettings,
        lane: Lane,
    ) -> RedisStorage<J> {
        let config = apalis_redis::Config::default()
            .queue(settings.queue_name::<J>(lane))
            .heartbeat_interval(settings.heartbeat)
            .missed_heartbeats(settings.missed_heartbeats)
            .idempotency_ttl(Some(IDEMPOTENCY_TTL));
        RedisStorage::new(conn.clone()).with_config(config)
    }

    /// A storage for one job type and lane on the SQLite backend.
    pub fn sqlite_storage<J: JobPayload>(
        pool: &SqlitePool,
        settings: &QueueSettings,
        lane: Lane,
    ) -> SqliteStorage<J> {
        let config = apalis_sqlite::Config::default()
            .queue(settings.queue_name::<J>(lane))
            .heartbeat_interval(settings.heartbeat)
            .missed_heartbeats(settings.missed_heartbeats);
        SqliteStorage::new(pool).with_config(config)
    }
}

/// Enqueues jobs: ledger row first (the outbox), then the backend.
#[derive(Debug, Clone)]
pub struct Queue {
    backend: QueueBackend,
    settings: QueueSettings,
    ledger: Ledger,
    drain: Drain,
}

/// Options for a new job.
#[derive(Debug, Clone, Default)]
pub struct EnqueueOptions {
    /// Jobs with the same key within [`IDEMPOTENCY_TTL`] are folded into the first one.
    pub idempotency_key: Option<String>,
    /// The job that caused this one.
    pub parent_id: Option<uuid::Uuid>,
    /// Start no earlier than this delay from now.
    pub delay: Option<Duration>,
}

impl Queue {
    pub fn new(backend: QueueBackend, settings: QueueSettings, ledger: Ledger) -> Self {
        Self {
            backend,
            settings,
            ledger,
            drain: Drain::new(),
        }
    }

    /// The process's drain switch: the worker starts it on SIGTERM, and every job run through
    /// this queue's workers stops at its next checkpoint.
    pub fn drain(&self) -> &Drain {
        &self.drain
    }

    pub fn ledger(&self) -> &Ledger {
        &self.ledger
    }

    pub fn backend(&self) -> &QueueBackend {
        &self.backend
    }

    pub fn settings(&self) -> &QueueSettings {
        &self.settings
    }

    /// Records a new run and queues it. `make` receives the run id the payload must carry.
    pub async fn enqueue<J: JobPayload>(
        &self,
        make: impl FnOnce(uuid::Uuid) -> J,
        options: EnqueueOptions,
    ) -> Result<J, QueueError> {
        let job = make(uuid::Uuid::now_v7());
        self.ledger.record(new_run(&job, &options)?).await?;
        self.push(&job, options.delay).await?;
        self.ledger.mark_queued(job.run_id()).await?;
        Ok(job)
    }

    /// Puts an already recorded job on its queue (first delivery, retry or reconciliation).
    pub async fn push<J: JobPayload>(
        &self,
        job: &J,
        delay: Option<Duration>,
    ) -> Result<(), QueueError> {
        let mut builder = TaskBuilder::new(job.clone()).max_attempts(1);
        if let Some(delay) = delay {
            builder = builder.run_after(delay);
        }
        let task = builder.build();
        match &self.backend {
            QueueBackend::Redis(conn) => {
                let mut storage =
                    QueueBackend::redis_storage::<J>(conn, &self.settings, job.lane());
                storage
                    .push_task(task)
                    .await
                    .map_err(|e| QueueError::Backend(e.to_string()))
            }
            QueueBackend::Sqlite(pool) => {
                let mut storage =
                    QueueBackend::sqlite_storage::<J>(pool, &self.settings, job.lane());
                storage
                    .push_task(task)
                    .await
                    .map_err(|e| QueueError::Backend(e.to_string()))
            }
        }
    }
}

/// The ledger row for `job`.
pub fn new_run<J: JobPayload>(job: &J, options: &EnqueueOptions) -> Result<NewRun, QueueError> {
    Ok(NewRun {
        id: job.run_id(),
        portal_id: job.portal_id(),
        job_type: J::TYPE,
        lane: job.lane(),
        payload: serde_json::to_value(job)?,
        max_attempts: J::MAX_ATTEMPTS,
        idempotency_key: options.idempotency_key.clone(),
        parent_id: options.parent_id,
    })
}
