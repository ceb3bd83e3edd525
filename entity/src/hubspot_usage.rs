//! HubSpot requests per portal and 10-second window (DESIGN §4): what the portal page, the
//! board and `/metrics` show as budget use. Every worker process adds its own counts to the
//! same rows; the row at the Unix epoch holds the totals of windows retention has removed.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "hubspot_usage")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub portal_id: i64,
    /// Start of the window, aligned to 10 s (`hubspot::usage::window_start`).
    #[sea_orm(primary_key, auto_increment = false)]
    pub window_start: DateTimeUtc,
    /// Requests sent, searches included.
    pub requests: i64,
    /// Of which searches (HubSpot limits them separately, 5 per second).
    pub search_requests: i64,
    /// Answers 429 Too Many Requests.
    pub responses_429: i64,
    /// Answers 500–599.
    pub responses_5xx: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
