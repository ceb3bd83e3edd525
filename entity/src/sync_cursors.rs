//! Checkpoints of a streaming sync, so a crashed or restarted worker resumes where it stopped.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

use crate::ObjectType;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "sync_cursors")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub portal_id: i64,
    #[sea_orm(primary_key, auto_increment = false)]
    pub object_type: ObjectType,
    /// HubSpot's opaque `after` cursor of the next page; none before the first page.
    pub after: Option<String>,
    pub records_done: i64,
    /// Lower bound of the modified-since window this sync covers; none for a full sync.
    pub modified_since: Option<DateTimeUtc>,
    pub completed: bool,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
