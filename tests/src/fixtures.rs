//! Rows tests need before they can start.

use entity::{PortalStatus, portals};
use sea_orm::{DatabaseConnection, DbErr};

/// Inserts a connected portal with nothing synced yet.
pub async fn insert_portal(
    db: &DatabaseConnection,
    id: i64,
    status: PortalStatus,
) -> Result<portals::Model, DbErr> {
    jobs::portals::record_portal(db, id, status, &[]).await
}
