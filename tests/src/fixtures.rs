//! Rows tests need before they can start.

use chrono::Utc;
use entity::{PortalStatus, portals};
use sea_orm::{ActiveModelTrait, ActiveValue::Set, DatabaseConnection, DbErr};

/// Inserts a connected portal with nothing synced yet.
pub async fn insert_portal(
    db: &DatabaseConnection,
    id: i64,
    status: PortalStatus,
) -> Result<portals::Model, DbErr> {
    let now = Utc::now();
    portals::ActiveModel {
        id: Set(id),
        hub_domain: Set(None),
        status: Set(status),
        status_reason: Set(None),
        scopes: Set(serde_json::json!([])),
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
