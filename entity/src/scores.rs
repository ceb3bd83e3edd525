//! A contact's current score, and the values last written to HubSpot, so unchanged values are
//! never written twice.

use chrono::{DateTime, Utc};
use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, DeriveEntityModel, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(as = Score))]
#[sea_orm(table_name = "scores")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub portal_id: i64,
    #[sea_orm(primary_key, auto_increment = false)]
    pub contact_id: i64,
    /// Percentile 0–100; none when the contact is not scorable.
    pub score: Option<i16>,
    pub grade: Option<String>,
    pub raw_score: Option<f64>,
    pub explanation: Option<String>,
    /// Signed contributions per field, as JSON.
    #[cfg_attr(feature = "openapi", schema(value_type = Option<Object>))]
    pub top_factors: Option<Json>,
    /// Why the contact has no score (for example "no associated company").
    pub unscorable_reason: Option<String>,
    pub model_version: Option<i32>,
    pub scored_at: DateTime<Utc>,
    pub written_score: Option<i16>,
    pub written_grade: Option<String>,
    pub written_explanation: Option<String>,
    pub written_top_factors: Option<String>,
    pub written_at: Option<DateTime<Utc>>,
    /// HubSpot's per-contact error from the last write-back, if it failed.
    pub writeback_error: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
