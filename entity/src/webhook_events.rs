//! Webhook events as received, for de-duplication of HubSpot's redeliveries and for the audit trail.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

use crate::WebhookOutcome;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "webhook_events")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub portal_id: i64,
    /// (subscriptionType, objectId, propertyName, occurredAt): HubSpot's eventId is not unique.
    pub dedupe_key: String,
    pub event_id: i64,
    pub subscription_type: String,
    pub object_id: i64,
    pub property_name: Option<String>,
    pub occurred_at: DateTimeUtc,
    pub attempt_number: i32,
    pub received_at: DateTimeUtc,
    pub outcome: WebhookOutcome,
    pub ignore_reason: Option<String>,
    pub job_run_id: Option<Uuid>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
