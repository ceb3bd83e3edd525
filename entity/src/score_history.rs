//! Every score a contact has had, for "how did this lead move" questions.

use chrono::{DateTime, Utc};
use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, DeriveEntityModel, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(as = ScoreHistoryEntry))]
#[sea_orm(table_name = "score_history")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub portal_id: i64,
    pub contact_id: i64,
    pub model_version: i32,
    pub score: i16,
    pub grade: String,
    pub scored_at: DateTime<Utc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
