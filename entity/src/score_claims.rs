//! Coalescing claims: the queued ScoreContact run that will score a contact (DESIGN §3).

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "score_claims")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub portal_id: i64,
    #[sea_orm(primary_key, auto_increment = false)]
    pub contact_id: i64,
    /// The run that will read and score the contact; released when that run starts.
    pub job_run_id: Uuid,
    /// A claim older than the coalescing TTL no longer blocks new runs.
    pub claimed_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
