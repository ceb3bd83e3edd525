//! A connected HubSpot account. Its id is HubSpot's own portal (hub) id, which every other table
//! carries as `portal_id`.

use chrono::{DateTime, Utc};
use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

use crate::PortalStatus;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(as = Portal))]
#[sea_orm(table_name = "portals")]
pub struct Model {
    /// HubSpot's portal id (`hub_id` in token responses).
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: i64,
    pub hub_domain: Option<String>,
    pub status: PortalStatus,
    /// Why the portal is in its status, in words a customer can act on.
    pub status_reason: Option<String>,
    /// Scopes granted at install, as a JSON array of strings.
    #[cfg_attr(feature = "openapi", schema(value_type = Vec<String>))]
    pub scopes: Json,
    /// Conturs account that owns the connection (customer dashboard); none for operator-made portals.
    pub account_id: Option<i64>,
    /// Version of the model scores currently come from.
    pub active_model_version: Option<i32>,
    pub connected_at: DateTime<Utc>,
    pub disconnected_at: Option<DateTime<Utc>>,
    pub last_full_sync_at: Option<DateTime<Utc>>,
    pub last_incremental_sync_at: Option<DateTime<Utc>>,
    /// Records modified after this instant still need an incremental sync.
    pub sync_watermark: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
