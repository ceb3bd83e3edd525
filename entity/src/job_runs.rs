//! The progress ledger and outbox (DESIGN §3): one row per job, written before the job is queued,
//! so an acknowledged job survives a queue that loses its data.

use chrono::{DateTime, Utc};
use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

use crate::{JobStatus, JobType, Lane};

#[derive(Clone, Debug, PartialEq, DeriveEntityModel, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(as = JobRun))]
#[sea_orm(table_name = "job_runs")]
pub struct Model {
    /// UUIDv7: time-ordered, so it doubles as the paging cursor.
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub portal_id: i64,
    pub job_type: JobType,
    pub lane: Lane,
    pub status: JobStatus,
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub payload: Json,
    pub attempts: i32,
    pub max_attempts: i32,
    /// e.g. "contacts", "training", "writing back".
    pub phase: Option<String>,
    pub done: i64,
    pub total: Option<i64>,
    /// Items per second over the current phase.
    pub rate: Option<f64>,
    pub eta_seconds: Option<f64>,
    pub last_error: Option<String>,
    /// needs_reconnect, missing_scopes, rate_limited, transient, invalid…
    pub error_kind: Option<String>,
    /// Coalescing key (e.g. one ScoreContact per contact burst).
    pub idempotency_key: Option<String>,
    /// The task id in the queue backend, once queued.
    pub queue_task_id: Option<String>,
    pub worker: Option<String>,
    /// The job that enqueued this one (InitialSync → TrainModel → …).
    pub parent_id: Option<Uuid>,
    pub created_at: DateTime<Utc>,
    pub started_at: Option<DateTime<Utc>>,
    pub finished_at: Option<DateTime<Utc>>,
    pub updated_at: DateTime<Utc>,
    /// Last sign of life from the worker running it.
    pub heartbeat_at: Option<DateTime<Utc>>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
