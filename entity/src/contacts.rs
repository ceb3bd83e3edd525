//! HubSpot contacts: the person-level inputs to scoring, typed, plus the raw properties.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "contacts")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub portal_id: i64,
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: i64,
    pub email: Option<String>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub job_title: Option<String>,
    pub hs_seniority: Option<String>,
    pub hs_role: Option<String>,
    pub lifecycle_stage: Option<String>,
    pub lead_status: Option<String>,
    pub country: Option<String>,
    /// Primary associated company; contacts without one are not scorable.
    pub company_id: Option<i64>,
    pub properties: Json,
    pub hs_created_at: Option<DateTimeUtc>,
    pub hs_updated_at: Option<DateTimeUtc>,
    pub archived: bool,
    pub synced_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
