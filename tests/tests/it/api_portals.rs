//! `/api/portals`: list, detail with the grade distribution, and disconnect (the refresh token
//! is revoked at HubSpot — the simulator — and the portal refuses further work).

use chrono::Utc;
use conturs_tests::app::{CLIENT_ID, CLIENT_SECRET};
use conturs_tests::{AppOptions, Backend, spawn_app_with};
use entity::PortalStatus;
use hubspot::oauth::tokens::TokenSet;
use hubspot_sim::{SimConfig, Simulator};
use sea_orm::ConnectionTrait;
use secrecy::SecretString;
use serde_json::{Value, json};

#[tokio::test]
async fn list_show_and_disconnect() {
    let mut config = SimConfig::new(CLIENT_ID, CLIENT_SECRET);
    config.contacts = 10;
    let sim = Simulator::start(config).await.expect("simulator");
    let app = spawn_app_with(AppOptions::new(Backend::Sqlite).hubspot(sim.base_url())).await;
    let portal = sim.portal_id() as i64;
    jobs::portals::record_portal(&app.db.conn, portal, PortalStatus::Ready, &[])
        .await
        .expect("portal");
    let pair = sim.issue_tokens(portal as u64).expect("tokens");
    let tokens = TokenSet {
        access_token: SecretString::from(pair.access_token),
        refresh_token: SecretString::from(pair.refresh_token),
        expires_at: Utc::now() + chrono::Duration::seconds(pair.expires_in as i64),
        portal_id: portal as u64,
        scopes: pair.scopes,
    };
    let store = app.state.hubspot.tokens().store().clone();
    store
        .save(portal as u64, tokens.clone())
        .await
        .expect("save tokens");
    for (contact, grade) in [(1, "'A'"), (2, "'A'"), (3, "'C'"), (4, "NULL")] {
        app.db
            .conn
            .execute_unprepared(&format!(
                "INSERT INTO scores (portal_id, contact_id, grade, scored_at) \
                 VALUES ({portal}, {contact}, {grade}, '2026-11-27T00:00:00Z')"
            ))
            .await
            .expect("score row");
    }

    let list: Value = app
        .admin_get("/api/portals")
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(list["portals"][0]["id"], portal);
    let detail: Value = app
        .admin_get(&format!("/api/portals/{portal}"))
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(detail["portal"]["status"], "ready");
    assert_eq!(detail["grades"], json!({"A": 2, "C": 1, "unscored": 1}));
    assert_eq!(app.admin_get("/api/portals/999").await.status(), 404);
    assert_eq!(
        app.get(&format!("/api/portals/{portal}")).await.status(),
        401
    );

    let path = format!("/api/portals/{portal}/disconnect");
    let done = app.admin_post(&path, &json!({})).await;
    assert_eq!(done.status(), 200);
    let done: Value = done.json().await.expect("json");
    assert_eq!(done["status"], "disconnected");
    assert!(done["disconnected_at"].is_string());
    assert!(
        store.load(portal as u64).await.expect("load").is_none(),
        "tokens forgotten"
    );
    assert!(
        app.state
            .hubspot
            .tokens()
            .api()
            .refresh(&tokens)
            .await
            .is_err(),
        "HubSpot no longer accepts the refresh token"
    );
    assert_eq!(app.admin_post(&path, &json!({})).await.status(), 409);
    let job = app
        .admin_post(
            "/api/jobs",
            &json!({"type": "initial_sync", "portal_id": portal}),
        )
        .await;
    assert_eq!(job.status(), 409, "a disconnected portal takes no work");
}
