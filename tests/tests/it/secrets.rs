//! Secrets stay secret through a whole run: a portal connected through the real OAuth flow,
//! synced, trained, written back, re-scored from a webhook after its access token expired (a
//! refresh), with failed callbacks, forged webhooks and wrong admin tokens on the way — and with
//! every log line at debug level captured. None of the access or refresh tokens, the client
//! secret or the admin token appears in the logs, in any response body, in the board's pages,
//! or in the bytes of the SQLite database file (tokens are sealed at rest).
//!
//! The log capture installs the process's global subscriber, so this test needs a process of
//! its own, as `cargo nextest` (what `scripts/test` runs) gives every test.

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use conturs_tests::Backend;
use conturs_tests::app::{ADMIN_TOKEN, board_sign_in, operator_get};
use conturs_tests::pipeline::{CLIENT_SECRET, Pipeline, QueueKind};
use entity::job_runs;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use secrecy::ExposeSecret;

/// Everything the app logs, in memory.
#[derive(Clone, Default)]
struct LogBuffer(Arc<Mutex<Vec<u8>>>);

impl Write for LogBuffer {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .extend_from_slice(bytes);
        Ok(bytes.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl LogBuffer {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap_or_else(|e| e.into_inner())).into_owned()
    }
}

fn capture_debug_logs() -> LogBuffer {
    let buffer = LogBuffer::default();
    let writer = buffer.clone();
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new("debug"))
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .try_init()
        .expect("this test installs the global log subscriber: run it in a process of its own (cargo nextest)");
    buffer
}

fn location(response: &reqwest::Response) -> String {
    response.headers()["location"]
        .to_str()
        .expect("ascii")
        .to_owned()
}

/// Where every secret must not be: `(what, text)`.
fn assert_absent(places: &[(String, Vec<u8>)], secrets: &[(&str, String)]) {
    for (place, bytes) in places {
        for (name, secret) in secrets {
            assert!(
                !bytes
                    .windows(secret.len())
                    .any(|window| window == secret.as_bytes()),
                "the {name} appears in {place}"
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_secret_in_logs_bodies_board_or_database_file() {
    let logs = capture_debug_logs();
    let p = Pipeline::start(Backend::Sqlite, QueueKind::EmbeddedSqlite, 2_000, 21)
        .await
        .expect("pipeline");
    let portal = p.portal_id;
    let store = p.deps.hubspot.tokens().store().clone();
    let mut token_sets = vec![
        store
            .load(portal as u64)
            .await
            .expect("load")
            .expect("tokens"),
    ];
    let api = p.spawn_api().await.expect("api");
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    let mut bodies: Vec<(String, Vec<u8>)> = Vec::new();

    // Connect through OAuth: install → the simulator's consent → the callback (a code exchange).
    hubspot_sim::consent::click_through_install(&api.url("/oauth/hubspot/install"), &api.address)
        .await
        .expect("OAuth install");
    token_sets.push(
        store
            .load(portal as u64)
            .await
            .expect("load")
            .expect("tokens"),
    );

    // The pipeline runs: InitialSync → TrainModel → WriteBack.
    let workers = p.spawn_workers("secrets-worker");
    let runs = p.settle_succeeded(3, Duration::from_secs(180)).await;

    // The access token expires; a webhook change makes a worker refresh it and re-score.
    p.sim.state().expire_tokens(portal as u64).expect("expire");
    p.sim.subscribe_webhooks(
        &api.url("/webhooks/hubspot"),
        &[("contact.propertyChange", Some("jobtitle"))],
    );
    let contact = p.contact_ids(portal).expect("contacts")[0];
    p.sim
        .update_record(
            portal as u64,
            hubspot_sim::ObjectType::Contacts,
            contact,
            &[("jobtitle", "VP Security")],
        )
        .expect("change");
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    loop {
        let now = store
            .load(portal as u64)
            .await
            .expect("load")
            .expect("tokens");
        if now.access_token.expose_secret() != token_sets[1].access_token.expose_secret() {
            token_sets.push(now);
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the expired token was never refreshed"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    p.settle(runs.len() + 1, Duration::from_secs(60)).await;

    // Failures on the way, whose bodies are read: a code HubSpot never issued, forged and
    // unsigned webhooks, wrong and missing admin tokens.
    let install = client
        .get(api.url("/oauth/hubspot/install"))
        .send()
        .await
        .expect("install");
    let state = url::Url::parse(&location(&install))
        .expect("url")
        .query_pairs()
        .find(|(k, _)| k == "state")
        .expect("state")
        .1
        .into_owned();
    let failures = [
        client.get(api.url(&format!(
            "/oauth/hubspot/callback?code=never-issued&state={state}"
        ))),
        client
            .post(api.url("/webhooks/hubspot"))
            .header("content-type", "application/json")
            .header("X-HubSpot-Signature-v3", "forged")
            .header("X-HubSpot-Request-Timestamp", "1")
            .body("[]"),
        client
            .post(api.url("/webhooks/hubspot"))
            .header("content-type", "application/json")
            .body("[]"),
        client.get(api.url("/api/jobs")).bearer_auth("wrong-token"),
        client.get(api.url("/api/portals")),
    ];
    for request in failures {
        let response = request.send().await.expect("request");
        assert!(response.status().is_client_error() || response.status().is_server_error());
        let url = response.url().to_string();
        bodies.push((
            format!("the body of {url}"),
            response.bytes().await.expect("body").to_vec(),
        ));
    }
    // What operators read: the API's JSON and the board's pages.
    let runs = job_runs::Entity::find()
        .filter(job_runs::Column::PortalId.eq(portal))
        .all(&p.db.conn)
        .await
        .expect("runs");
    let cookie = board_sign_in(&client, &api.address).await;
    let mut pages = vec![
        "/board".to_owned(),
        "/board/jobs".to_owned(),
        format!("/board/portals/{portal}"),
        format!("/api/portals/{portal}"),
        "/api/jobs?limit=200".to_owned(),
        "/metrics".to_owned(),
    ];
    pages.extend(runs.iter().map(|r| format!("/board/jobs/{}", r.id)));
    pages.extend(runs.iter().map(|r| format!("/api/jobs/{}", r.id)));
    for page in pages {
        let (status, body) = operator_get(&client, &api.address, &cookie, &page).await;
        assert_eq!(status, 200, "{page}");
        bodies.push((page, body));
    }
    drop(workers);

    let mut secrets: Vec<(&str, String)> = Vec::new();
    for set in &token_sets {
        secrets.push(("access token", set.access_token.expose_secret().to_owned()));
        secrets.push((
            "refresh token",
            set.refresh_token.expose_secret().to_owned(),
        ));
    }
    secrets.push(("client secret", CLIENT_SECRET.to_owned()));
    assert_eq!(
        token_sets.len(),
        3,
        "install tokens, OAuth tokens, refreshed tokens"
    );

    let text = logs.text();
    assert!(
        text.contains("DEBUG") && text.lines().count() > 100,
        "debug logs were captured ({} lines)",
        text.lines().count()
    );
    let mut places = bodies;
    places.push(("the logs".to_owned(), text.into_bytes()));
    let mut with_admin = secrets.clone();
    with_admin.push(("admin token", ADMIN_TOKEN.to_owned()));
    assert_absent(&places, &with_admin);

    // At rest: the database file (and its write-ahead log) holds sealed tokens only.
    let url = p.db.url.expose().to_owned();
    let path = url
        .trim_start_matches("sqlite://")
        .split('?')
        .next()
        .expect("path")
        .to_owned();
    let mut files = Vec::new();
    for suffix in ["", "-wal"] {
        let file = format!("{path}{suffix}");
        if let Ok(bytes) = std::fs::read(&file) {
            files.push((file, bytes));
        }
    }
    assert!(
        files.first().is_some_and(|(_, bytes)| bytes.len() > 4096),
        "the database file was read"
    );
    assert_absent(&files, &secrets);
}
