//! Trained scoring models, versioned per portal, with their metrics and calibration.

use chrono::{DateTime, Utc};
use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

use crate::ModelStatus;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(as = ScoringModel))]
#[sea_orm(table_name = "models")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub portal_id: i64,
    /// 1, 2, 3… per portal; scores record which one produced them.
    pub version: i32,
    pub status: ModelStatus,
    /// e.g. `logistic_regression` or `naive_bayes`.
    pub algorithm: String,
    pub positives: i32,
    pub negatives: i32,
    pub unlabeled: i32,
    /// Cross-validated AUC, lift, capture, win rate by grade…
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub metrics: Json,
    /// The serialized `scoring` artefact: weights, feature schema and calibration table.
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub artefact: Json,
    /// The artefact's schema version, so an old one is rejected clearly after an upgrade.
    pub schema_version: i32,
    pub trained_at: DateTime<Utc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
