//! Rows tests need before they can start.

use chrono::Utc;
use entity::{PortalStatus, portals};
use hubspot::oauth::TokenStore;
use hubspot::oauth::tokens::TokenSet;
use hubspot_sim::RunningSimulator;
use sea_orm::{DatabaseConnection, DbErr};
use secrecy::SecretString;

/// Inserts a connected portal with nothing synced yet.
pub async fn insert_portal(
    db: &DatabaseConnection,
    id: i64,
    status: PortalStatus,
) -> Result<portals::Model, DbErr> {
    jobs::portals::record_portal(db, id, status, &[]).await
}

/// Issues tokens for `portal_id` in the simulator (skipping the browser) and saves them in
/// `store`, as a completed OAuth install would.
pub async fn save_sim_tokens(
    sim: &RunningSimulator,
    store: &dyn TokenStore,
    portal_id: i64,
) -> anyhow::Result<()> {
    save_sim_tokens_with(sim, store, portal_id, hubspot_sim::admin::ALL_SCOPES).await
}

/// Like [`save_sim_tokens`], for a grant of exactly `scopes` (plus `oauth`): a portal that was
/// connected with a scope missing.
pub async fn save_sim_tokens_with(
    sim: &RunningSimulator,
    store: &dyn TokenStore,
    portal_id: i64,
    scopes: &[&str],
) -> anyhow::Result<()> {
    let pair = sim.issue_tokens_with(portal_id as u64, scopes)?;
    store
        .save(
            portal_id as u64,
            TokenSet {
                access_token: SecretString::from(pair.access_token),
                refresh_token: SecretString::from(pair.refresh_token),
                expires_at: Utc::now() + chrono::Duration::seconds(pair.expires_in as i64),
                portal_id: portal_id as u64,
                scopes: pair.scopes,
            },
        )
        .await?;
    Ok(())
}
