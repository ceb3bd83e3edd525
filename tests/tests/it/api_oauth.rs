//! Connecting HubSpot through the real OAuth flow against the simulator over HTTP: install →
//! consent → callback → code exchange → sealed tokens → portal → InitialSync queued → board
//! page; and every way the callback can fail ends on an HTML page with its own status.

use chrono::Utc;
use conturs_tests::app::{CLIENT_ID, CLIENT_SECRET, SECRET_KEY};
use conturs_tests::{AppOptions, Backend, TestApp, spawn_app_with};
use entity::{JobStatus, JobType, PortalStatus, job_runs, oauth_tokens, portals};
use hubspot::oauth::StateSigner;
use hubspot_sim::{RunningSimulator, SimConfig, Simulator};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

async fn simulator() -> RunningSimulator {
    let mut config = SimConfig::new(CLIENT_ID, CLIENT_SECRET);
    config.contacts = 30;
    Simulator::start(config).await.expect("simulator")
}

fn location(response: &reqwest::Response) -> String {
    response.headers()["location"]
        .to_str()
        .expect("ascii location")
        .to_owned()
}

/// Install → the simulator's consent (auto-approved) → the callback query it redirects with.
async fn consent(app: &TestApp) -> String {
    let install = app.get("/oauth/hubspot/install").await;
    assert_eq!(install.status(), 302);
    let authorize = location(&install);
    let consent = app.client.get(&authorize).send().await.expect("consent");
    assert_eq!(consent.status(), 302, "the simulator approves at once");
    let callback: url::Url = location(&consent).parse().expect("callback URL");
    callback.query().expect("code and state").to_owned()
}

async fn callback(app: &TestApp, query: &str) -> reqwest::Response {
    app.get(&format!("/oauth/hubspot/callback?{query}")).await
}

async fn html_page(response: reqwest::Response, status: u16, needle: &str) {
    assert_eq!(response.status(), status);
    assert!(
        response.headers()["content-type"]
            .to_str()
            .expect("ascii")
            .starts_with("text/html")
    );
    let body = response.text().await.expect("body");
    assert!(body.contains(needle), "{needle:?} not in {body}");
}

async fn initial_syncs(app: &TestApp, portal_id: i64) -> Vec<job_runs::Model> {
    job_runs::Entity::find()
        .filter(job_runs::Column::PortalId.eq(portal_id))
        .filter(job_runs::Column::JobType.eq(JobType::InitialSync))
        .all(&app.db.conn)
        .await
        .expect("runs")
}

async fn round_trip(backend: Backend) {
    let sim = simulator().await;
    let app = spawn_app_with(AppOptions::new(backend).hubspot(sim.base_url())).await;
    let portal_id = sim.portal_id() as i64;

    let install = app.get("/oauth/hubspot/install").await;
    let authorize: url::Url = location(&install).parse().expect("URL");
    assert!(
        authorize
            .as_str()
            .starts_with(&format!("{}/oauth/authorize", sim.base_url()))
    );
    let params: std::collections::HashMap<_, _> = authorize.query_pairs().into_owned().collect();
    assert_eq!(params["client_id"], CLIENT_ID);
    assert!(params["scope"].contains("crm.objects.contacts.write"));
    assert!(params["state"].contains('.'), "a signed state");

    let query = consent(&app).await;
    let done = callback(&app, &query).await;
    assert_eq!(done.status(), 302);
    assert_eq!(location(&done), format!("/board/portals/{portal_id}"));

    let portal = portals::Entity::find_by_id(portal_id)
        .one(&app.db.conn)
        .await
        .expect("read")
        .expect("portal created");
    assert_eq!(portal.status, PortalStatus::Connected);
    let scopes: Vec<String> = serde_json::from_value(portal.scopes).expect("scopes");
    assert!(scopes.iter().any(|s| s == "crm.objects.contacts.read"));
    let sealed = oauth_tokens::Entity::find_by_id(portal_id)
        .one(&app.db.conn)
        .await
        .expect("read")
        .expect("tokens stored");
    let tokens = app
        .state
        .hubspot
        .tokens()
        .store()
        .load(portal_id as u64)
        .await
        .expect("load")
        .expect("tokens");
    let access = secrecy::ExposeSecret::expose_secret(&tokens.access_token).to_owned();
    assert!(
        !sealed
            .access_token_sealed
            .windows(access.len())
            .any(|w| w == access.as_bytes()),
        "tokens are sealed, not stored in the clear"
    );
    let syncs = initial_syncs(&app, portal_id).await;
    assert_eq!(syncs.len(), 1);
    assert_eq!(syncs[0].status, JobStatus::Queued);

    // The same callback again: the state is spent.
    html_page(callback(&app, &query).await, 409, "already been used").await;
    assert_eq!(initial_syncs(&app, portal_id).await.len(), 1);

    // Reconnect after a disconnect: same portal row, connected again, a new InitialSync.
    portals::Entity::update_many()
        .col_expr(
            portals::Column::Status,
            sea_orm::sea_query::Expr::value(PortalStatus::Disconnected),
        )
        .col_expr(
            portals::Column::DisconnectedAt,
            sea_orm::sea_query::Expr::value(Some(Utc::now())),
        )
        .filter(portals::Column::Id.eq(portal_id))
        .exec(&app.db.conn)
        .await
        .expect("disconnect");
    let again = consent(&app).await;
    assert_eq!(callback(&app, &again).await.status(), 302);
    let portal = portals::Entity::find_by_id(portal_id)
        .one(&app.db.conn)
        .await
        .expect("read")
        .expect("portal");
    assert_eq!(portal.status, PortalStatus::Connected);
    assert_eq!(portal.disconnected_at, None);
    assert_eq!(initial_syncs(&app, portal_id).await.len(), 2);
}

#[tokio::test]
async fn oauth_round_trip_queues_initial_sync_sqlite() {
    round_trip(Backend::Sqlite).await;
}

#[tokio::test]
async fn oauth_round_trip_queues_initial_sync_postgres() {
    round_trip(Backend::Postgres).await;
}

#[tokio::test]
async fn every_failed_callback_ends_on_a_clear_page() {
    let sim = simulator().await;
    let app = spawn_app_with(AppOptions::new(Backend::Sqlite).hubspot(sim.base_url())).await;
    let signer = StateSigner::new(&SECRET_KEY);
    let now = Utc::now().timestamp_millis();

    let fresh = signer.issue(None, now);
    html_page(
        callback(&app, &format!("error=access_denied&state={fresh}")).await,
        403,
        "declined",
    )
    .await;
    html_page(
        callback(&app, "error=server_error&error_description=boom").await,
        400,
        "boom",
    )
    .await;
    html_page(callback(&app, "code=abc").await, 400, "missing its").await;
    html_page(
        callback(&app, "code=abc&state=garbage").await,
        400,
        "malformed",
    )
    .await;
    let forged = StateSigner::new(b"someone else's key").issue(None, now);
    html_page(
        callback(&app, &format!("code=abc&state={forged}")).await,
        403,
        "not issued by Conturs",
    )
    .await;
    let expired = signer.issue(None, now - 11 * 60 * 1000);
    html_page(
        callback(&app, &format!("code=abc&state={expired}")).await,
        400,
        "expired",
    )
    .await;
    // A valid state with a code HubSpot never issued: the exchange fails.
    let valid = signer.issue(None, now);
    html_page(
        callback(&app, &format!("code=never-issued&state={valid}")).await,
        502,
        "failed",
    )
    .await;
    assert!(
        portals::Entity::find()
            .all(&app.db.conn)
            .await
            .expect("read")
            .is_empty(),
        "no failed attempt created a portal"
    );
}
