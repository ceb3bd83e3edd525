//! Worker processes alive now (DESIGN §2): each writes itself down every few seconds so the
//! board can show who is working; a row not refreshed for a while is a worker that is gone.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "worker_presence")]
pub struct Model {
    /// The process's unique name (`worker-<pid>-<ulid>`), as job runs record it.
    #[sea_orm(primary_key, auto_increment = false)]
    pub name: String,
    pub host: String,
    pub pid: i64,
    /// Jobs it runs at once per lane.
    pub concurrency: i32,
    pub started_at: DateTimeUtc,
    pub last_seen_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
