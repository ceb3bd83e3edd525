//! The timeline of a job run: every transition, retry and operator action, timestamped.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "job_events")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub job_run_id: Uuid,
    pub portal_id: i64,
    pub at: DateTimeUtc,
    /// enqueued, started, phase, retry, failed, succeeded, cancelled, audit…
    pub kind: String,
    pub message: String,
    pub data: Option<Json>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
