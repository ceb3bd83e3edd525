//! The customer's whole journey in a real browser (headless Chromium, the board's harness):
//! sign up → Integrations (what Conturs needs) → Connect HubSpot (the simulator's consent) →
//! watch the sync's progress bar advance by itself → ready → scores at a glance →
//! troubleshooting lookup → disconnect → reconnect. Screenshots of the Integrations page
//! during the sync and of the scores overview land in `target/dashboard-screenshots/`.

use std::time::Duration;

use apalis::prelude::Monitor;
use conturs_tests::app::{CLIENT_ID, CLIENT_SECRET, REDIRECT_URI};
use conturs_tests::browser::{Browser, artefacts_dir};
use conturs_tests::{AppOptions, Backend, TestApp, spawn_app_with};
use entity::{PortalStatus, contacts, job_runs, portals, scores};
use fantoccini::Locator;
use hubspot_sim::faults::FaultConfig;
use hubspot_sim::{SimConfig, Simulator};
use jobs::handlers::{Deps, register_all};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};

/// Large enough for the default ~3% of companies to give well over 10 closed-won ones.
const CONTACTS: usize = 2_000;
const PATIENCE: Duration = Duration::from_secs(120);
const EMAIL: &str = "journey@example.com";
const PASSWORD: &str = "correct horse battery";

async fn js(browser: &Browser, script: &str) -> serde_json::Value {
    browser.eval(script).await.expect("script")
}

async fn bar(browser: &Browser) -> (f64, f64) {
    let value = js(
        browser,
        "const b = document.querySelector('.progress-panel progress');\
         return b && b.hasAttribute('value') ? [b.value, b.max] : [-1, 0];",
    )
    .await;
    (
        value[0].as_f64().unwrap_or(-1.0),
        value[1].as_f64().unwrap_or(0.0),
    )
}

async fn connection_status(browser: &Browser) -> String {
    js(
        browser,
        "const b = document.querySelector('[data-connection-status]'); return b ? b.textContent : '';",
    )
    .await
    .as_str()
    .unwrap_or_default()
    .to_owned()
}

/// Follows HubSpot's consent (the simulator approves at once) back to the app. The test app's
/// redirect URI has no port, so the browser's last hop is repeated on the app's address.
async fn consent(browser: &Browser, base: &str) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    let callback = loop {
        let url = browser.client.current_url().await.expect("url");
        if url.as_str().starts_with(REDIRECT_URI) {
            break url;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "never sent back from the consent screen: {url}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let query = callback.query().expect("code and state");
    browser
        .open(
            &format!("{base}/oauth/hubspot/callback?{query}"),
            "[data-connection-status]",
        )
        .await;
    let url = browser.client.current_url().await.expect("url");
    assert!(url.path() == "/app/integrations", "{url}");
}

async fn all_runs_finished(app: &TestApp, portal_id: i64) -> bool {
    let runs = job_runs::Entity::find()
        .filter(job_runs::Column::PortalId.eq(portal_id))
        .all(&app.db.conn)
        .await
        .expect("runs");
    !runs.is_empty() && runs.iter().all(|r| r.status.is_terminal())
}

#[tokio::test]
async fn customer_connects_watches_the_sync_reads_scores_and_disconnects_in_chromium() {
    let started = std::time::Instant::now();
    let mut config = SimConfig::new(CLIENT_ID, CLIENT_SECRET);
    config.contacts = CONTACTS;
    config.seed = 41;
    let sim = Simulator::start(config).await.expect("simulator");
    let portal_id = sim.portal_id() as i64;
    // Slow HubSpot down a little so the sync runs long enough to watch.
    sim.set_faults(
        portal_id as u64,
        FaultConfig {
            latency_ms: 120,
            ..FaultConfig::default()
        },
    )
    .expect("faults");
    let app = spawn_app_with(AppOptions::new(Backend::Sqlite).hubspot(sim.base_url())).await;
    let deps = Deps {
        db: app.db.conn.clone(),
        queue: app.queue.clone(),
        hubspot: app.state.hubspot.clone(),
    };
    let monitor = register_all(Monitor::new(), &app.queue, &deps, "journey-worker", 4);
    let workers = tokio::spawn(async move {
        let _ = monitor.run().await;
    });
    // `localhost` (not 127.0.0.1) so Chromium treats the origin as secure for the Secure cookie.
    let base = app.address.replace("127.0.0.1", "localhost");
    let browser = Browser::start(artefacts_dir("dashboard-screenshots"))
        .await
        .expect("browser");
    let client = &browser.client;

    // Sign up; the dashboard opens on Integrations, with what Conturs needs.
    browser
        .open(&format!("{base}/app/sign-up"), "#email")
        .await
        .send_keys(EMAIL)
        .await
        .expect("type");
    client
        .find(Locator::Css("#password"))
        .await
        .expect("password")
        .send_keys(PASSWORD)
        .await
        .expect("type");
    browser
        .click("//button[normalize-space()='Create account']")
        .await;
    browser
        .wait_for("#needs-h", Duration::from_secs(10))
        .await
        .expect("requirements before connecting");

    // Connect HubSpot: consent, then back with a live progress bar.
    browser
        .click("//button[normalize-space()='Connect HubSpot']")
        .await;
    consent(&browser, &base).await;
    browser
        .eval("window.__stillTheSamePage = true; return true;")
        .await
        .expect("mark");
    let deadline = tokio::time::Instant::now() + PATIENCE;
    let first = loop {
        let (value, max) = bar(&browser).await;
        // Mid-phase, so the screenshot shows a bar on its way.
        if value > 0.15 * max && value < 0.85 * max {
            break value;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the progress bar never started"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    browser
        .screenshot("integrations-syncing")
        .await
        .expect("screenshot");
    let moved = loop {
        let (value, _) = bar(&browser).await;
        if value > first {
            break value;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the progress bar stayed at {first}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(
        js(&browser, "return window.__stillTheSamePage === true;").await,
        serde_json::Value::Bool(true),
        "the bar moved from {first} to {moved} without a reload"
    );

    // The page follows the sync, then the training, and settles on Ready by itself.
    loop {
        if connection_status(&browser).await == "Ready" {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the connection never showed Ready: {}",
            connection_status(&browser).await
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    while !all_runs_finished(&app, portal_id).await {
        assert!(
            tokio::time::Instant::now() < deadline,
            "write-backs did not finish"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let checks = js(
        &browser,
        "return document.querySelectorAll('[data-check=met]').length;",
    )
    .await;
    assert_eq!(checks, serde_json::json!(3), "every prerequisite is met");

    // Scores at a glance.
    browser.click("//a[normalize-space()='Scores →']").await;
    browser
        .wait_for("#learned", Duration::from_secs(10))
        .await
        .expect("scores overview");
    let overview = browser
        .wait_for("main", Duration::from_secs(1))
        .await
        .expect("main")
        .text()
        .await
        .expect("text");
    assert!(overview.contains("Hot (above 80)"), "{overview}");
    assert!(overview.contains("as likely to be closed-won customers"));
    assert!(overview.contains("Your best 25 contacts"));
    browser.resize(1280, 2400).await.expect("tall window");
    browser
        .screenshot("scores-overview")
        .await
        .expect("screenshot");
    browser.resize(1280, 900).await.expect("laptop size");

    // Troubleshooting: the best contact by email.
    let best = scores::Entity::find()
        .filter(scores::Column::PortalId.eq(portal_id))
        .filter(scores::Column::Score.is_not_null())
        .order_by_desc(scores::Column::Score)
        .one(&app.db.conn)
        .await
        .expect("read")
        .expect("a scored contact");
    let email = contacts::Entity::find_by_id((portal_id, best.contact_id))
        .one(&app.db.conn)
        .await
        .expect("read")
        .and_then(|c| c.email)
        .expect("an email");
    client
        .find(Locator::Css("#q"))
        .await
        .expect("lookup field")
        .send_keys(&email)
        .await
        .expect("type");
    browser.click("//button[normalize-space()='Look up']").await;
    let result = browser
        .wait_for("#lookup-result", Duration::from_secs(10))
        .await
        .expect("lookup result");
    assert_eq!(
        result.attr("data-standing").await.expect("attr").as_deref(),
        Some("written"),
        "the best contact is scored and written back"
    );
    let text = result.text().await.expect("text");
    assert!(text.contains(&best.score.expect("score").to_string()));
    assert!(text.contains("Last written to HubSpot"));
    browser
        .screenshot("troubleshooting")
        .await
        .expect("screenshot");

    // Disconnect: the explanation first, then the confirmation.
    browser
        .open(
            &format!("{base}/app/integrations"),
            "[data-connection-status]",
        )
        .await;
    browser.click("//a[normalize-space()='Disconnect…']").await;
    browser
        .wait_for("#what-h", Duration::from_secs(10))
        .await
        .expect("what disconnecting does");
    browser
        .click(&format!(
            "//button[normalize-space()='Disconnect HubSpot account {portal_id}']"
        ))
        .await;
    browser
        .wait_for("p.flash.good", Duration::from_secs(10))
        .await
        .expect("disconnected");
    assert_eq!(connection_status(&browser).await, "Disconnected");
    let gone = portals::Entity::find_by_id(portal_id)
        .one(&app.db.conn)
        .await
        .expect("read")
        .expect("row");
    assert_eq!(gone.status, PortalStatus::Disconnected);

    // Reconnect: the same HubSpot account comes back to the same Conturs account.
    browser
        .click("//button[normalize-space()='Connect again']")
        .await;
    consent(&browser, &base).await;
    let back = portals::Entity::find_by_id(portal_id)
        .one(&app.db.conn)
        .await
        .expect("read")
        .expect("row");
    assert_ne!(back.status, PortalStatus::Disconnected);
    assert_eq!(back.account_id, gone.account_id);
    assert_ne!(connection_status(&browser).await, "Disconnected");

    browser.close().await.expect("close");
    workers.abort();
    eprintln!(
        "dashboard journey took {:.1} s",
        started.elapsed().as_secs_f64()
    );
}
