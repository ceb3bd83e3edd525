//! Leaves nothing behind: the benchmark's ledger rows and its Redis keys.

use entity::portals;
use redis::AsyncCommands as _;
use sea_orm::{DatabaseConnection, EntityTrait};

/// Deletes every key of `namespace` with SCAN + DEL (never KEYS or FLUSH*: the Redis may be
/// shared); returns how many were deleted.
pub async fn delete_namespace(redis_url: &str, namespace: &str) -> anyhow::Result<usize> {
    let client = redis::Client::open(redis_url)?;
    let mut conn = client.get_multiplexed_async_connection().await?;
    let pattern = format!("*{namespace}*");
    let keys: Vec<String> = {
        let mut iter = conn.scan_match::<_, String>(&pattern).await?;
        let mut keys = Vec::new();
        while let Some(key) = iter.next_item().await {
            keys.push(key?);
        }
        keys
    };
    for chunk in keys.chunks(500) {
        conn.del::<_, ()>(chunk).await?;
    }
    Ok(keys.len())
}

/// Deletes the benchmark's portal and, by cascade, its runs and events.
pub async fn delete_portal(db: &DatabaseConnection, portal_id: i64) -> anyhow::Result<()> {
    portals::Entity::delete_by_id(portal_id).exec(db).await?;
    Ok(())
}
