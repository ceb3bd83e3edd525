//! Recording a HubSpot account that has just been connected.

use chrono::Utc;
use entity::{PortalStatus, portals};
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ConnectionTrait, DbErr};

/// Inserts the portal row a connection starts from: nothing synced, no model yet.
pub async fn record_portal<C: ConnectionTrait>(
    db: &C,
    portal_id: i64,
    status: PortalStatus,
    scopes: &[String],
) -> Result<portals::Model, DbErr> {
    let now = Utc::now();
    portals::ActiveModel {
        id: Set(portal_id),
        hub_domain: Set(None),
        status: Set(status),
        status_reason: Set(None),
        scopes: Set(serde_json::json!(scopes)),
        account_id: Set(None),
        active_model_version: Set(None),
        connected_at: Set(now),
        disconnected_at: Set(None),
        last_full_sync_at: Set(None),
        last_incremental_sync_at: Set(None),
        sync_watermark: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(db)
    .await
}
