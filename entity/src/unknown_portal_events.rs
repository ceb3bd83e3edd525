//! Webhook events for portals Conturs has no connection to (an uninstalled app, a test event):
//! acknowledged and recorded as ignored, so HubSpot stops retrying and operators can see them.
//! Kept apart from `webhook_events`, whose rows belong to a connected portal.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "unknown_portal_events")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    /// The portal id the event named; no `portals` row exists for it.
    pub portal_id: i64,
    /// Same key as `webhook_events.dedupe_key`, so redeliveries are recorded once.
    pub dedupe_key: String,
    pub subscription_type: String,
    pub object_id: i64,
    pub occurred_at: DateTimeUtc,
    pub received_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
