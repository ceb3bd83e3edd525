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

/// A ready portal with one scored contact (id 1) and a queued InitialSync, created through the
/// API, so every route that names a portal, a contact or a job has something real to answer
/// with; returns the job's id.
pub async fn routes_fixture(app: &crate::TestApp, portal: i64) -> String {
    use sea_orm::ConnectionTrait as _;
    insert_portal(&app.db.conn, portal, PortalStatus::Ready)
        .await
        .expect("portal");
    app.db
        .conn
        .execute_unprepared(&format!(
            "INSERT INTO scores (portal_id, contact_id, score, grade, scored_at) \
             VALUES ({portal}, 1, 90, 'A', '2026-11-27T00:00:00Z')"
        ))
        .await
        .expect("score row");
    let created = app
        .admin_post(
            "/api/jobs",
            &serde_json::json!({"type": "initial_sync", "portal_id": portal}),
        )
        .await;
    assert_eq!(created.status(), 202);
    let created: serde_json::Value = created.json().await.expect("json");
    created["id"].as_str().expect("job id").to_owned()
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
