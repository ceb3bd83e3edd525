//! The board in a real browser (headless Chromium): sign in, watch a running InitialSync's
//! progress bar move by itself (Server-Sent Events, no reload), open a failed job, click Retry,
//! confirm, and see it succeed. Screenshots land in `target/board-screenshots/`.
//!
//! The failed job is a TrainModel whose failure is recorded in the ledger as a worker records
//! one (HubSpot answered 502 three times); the retry then runs the real TrainModel on the
//! synced portal.

use std::time::Duration;

use apalis::prelude::Monitor;
use conturs_tests::Backend;
use conturs_tests::app::ADMIN_TOKEN;
use conturs_tests::browser::{Browser, artefacts_dir};
use conturs_tests::pipeline::{Pipeline, QueueKind};
use entity::{JobStatus, JobType, Lane};
use fantoccini::Locator;
use hubspot_sim::faults::FaultConfig;
use jobs::EnqueueOptions;
use jobs::handlers::register_all;
use jobs::ledger::{Failure, NewRun};
use jobs::payload::{InitialSync, JobPayload, TrainModel};
use jobs::presence::{WorkerIdentity, beat_forever};

const CONTACTS: usize = 3_000;
const PATIENCE: Duration = Duration::from_secs(300);

async fn bar_value(browser: &Browser) -> f64 {
    browser
        .eval("const b = document.getElementById('progress-bar'); return b && b.hasAttribute('value') ? b.value : -1;")
        .await
        .expect("progress value")
        .as_f64()
        .unwrap_or(-1.0)
}

#[tokio::test]
async fn operator_watches_progress_and_retries_a_failed_job_in_chromium() {
    let p = Pipeline::start(Backend::Sqlite, QueueKind::EmbeddedSqlite, CONTACTS, 21)
        .await
        .expect("pipeline");
    let portal_id = p.portal_id;
    // Slow HubSpot down a little so the sync runs long enough to watch.
    p.sim
        .set_faults(
            portal_id as u64,
            FaultConfig {
                latency_ms: 120,
                ..FaultConfig::default()
            },
        )
        .expect("faults");
    let monitor = register_all(Monitor::new(), &p.queue, &p.deps, "browser-worker", 4);
    let workers = tokio::spawn(async move {
        let _ = monitor.run().await;
    });
    let presence = tokio::spawn(beat_forever(
        p.db.conn.clone(),
        WorkerIdentity::current("browser-worker", 4),
    ));
    let api = p.spawn_api().await.expect("api");
    // `localhost` (not 127.0.0.1) so Chromium treats the origin as secure for the Secure cookie.
    let base = api.address.replace("127.0.0.1", "localhost");

    let browser = Browser::start(artefacts_dir("board-screenshots"))
        .await
        .expect("browser");
    let client = &browser.client;

    // Sign in: the login form comes first, then the page asked for.
    let token = browser.open(&format!("{base}/board/jobs"), "#token").await;
    token.send_keys(ADMIN_TOKEN).await.expect("type");
    client
        .find(Locator::Css("form button[type=submit]"))
        .await
        .expect("button")
        .click()
        .await
        .expect("sign in");
    browser
        .wait_for("h1", Duration::from_secs(10))
        .await
        .expect("jobs page");
    assert!(
        client
            .current_url()
            .await
            .unwrap()
            .as_str()
            .ends_with("/board/jobs")
    );

    // A failed TrainModel, recorded as a worker records one.
    let failed = {
        let job = TrainModel {
            run_id: uuid::Uuid::now_v7(),
            portal_id,
        };
        let ledger = p.queue.ledger();
        ledger
            .record(NewRun {
                id: job.run_id,
                portal_id,
                job_type: JobType::TrainModel,
                lane: Lane::Bulk,
                payload: serde_json::to_value(&job).expect("payload"),
                max_attempts: 3,
                idempotency_key: None,
                parent_id: None,
            })
            .await
            .expect("record");
        ledger
            .start_attempt(job.run_id, "browser-worker")
            .await
            .expect("start");
        ledger
            .fail(
                job.run_id,
                &Failure {
                    kind: "transient".into(),
                    message: "HubSpot answered 502 Bad Gateway three times".into(),
                    retryable: false,
                },
            )
            .await
            .expect("fail");
        job.run_id()
    };

    // Start the sync and watch it on its page.
    let sync = p
        .queue
        .enqueue(
            |run_id| InitialSync { run_id, portal_id },
            EnqueueOptions::default(),
        )
        .await
        .expect("enqueue")
        .run_id;
    browser
        .open(
            &format!("{base}/board/jobs/{sync}"),
            "#progress[data-stream]",
        )
        .await;
    // Mark this page: a reload would lose the mark, so a moving bar with the mark intact moved
    // by itself.
    browser
        .eval("window.__stillTheSamePage = true; return true;")
        .await
        .expect("mark");
    let deadline = tokio::time::Instant::now() + PATIENCE;
    let first = loop {
        let value = bar_value(&browser).await;
        if value > 0.0 {
            break value;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the progress bar never started"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let moved = loop {
        let value = bar_value(&browser).await;
        if value > first {
            break value;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the progress bar stayed at {first}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let same_page = browser
        .eval("return window.__stillTheSamePage === true;")
        .await
        .expect("mark");
    assert_eq!(
        same_page,
        serde_json::Value::Bool(true),
        "the bar moved from {first} to {moved} without a reload"
    );
    let phase = client
        .find(Locator::Css("[data-field=phase]"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_ne!(phase, "–", "a phase is shown while it runs");
    browser
        .screenshot("job-in-progress")
        .await
        .expect("screenshot");

    // The overview while the sync runs.
    browser.open(&format!("{base}/board"), "#live").await;
    browser.screenshot("overview").await.expect("screenshot");
    browser.resize(390, 844).await.expect("phone size");
    browser
        .screenshot("overview-phone")
        .await
        .expect("screenshot");
    browser.resize(1280, 900).await.expect("laptop size");

    // Let the sync (and the training and write-back it starts) finish.
    let deadline = tokio::time::Instant::now() + PATIENCE;
    loop {
        let run = p.queue.ledger().get(sync).await.expect("run");
        if run.status.is_terminal() {
            assert_eq!(run.status, JobStatus::Succeeded, "{:?}", run.last_error);
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the sync did not finish"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }

    // Open the failed job, retry it, confirm, and watch it succeed.
    let error = browser
        .open(&format!("{base}/board/jobs/{failed}"), "pre.error-text")
        .await;
    assert!(error.text().await.unwrap().contains("502 Bad Gateway"));
    browser.screenshot("failed-job").await.expect("screenshot");
    browser.click("//button[normalize-space()='Retry']").await;
    client.accept_alert().await.expect("confirm dialog");
    let deadline = tokio::time::Instant::now() + PATIENCE;
    loop {
        let status = client.find(Locator::Css("p.lead .badge")).await.ok();
        if let Some(badge) = status
            && badge.text().await.unwrap_or_default() == "succeeded"
        {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the retried job did not succeed on the page"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    let timeline = client
        .find(Locator::Css("ol.timeline"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        timeline.contains("retried by an operator on the board"),
        "{timeline}"
    );
    assert!(timeline.contains("audit"), "{timeline}");
    assert_eq!(
        p.queue.ledger().get(failed).await.unwrap().status,
        JobStatus::Succeeded
    );
    browser.screenshot("retried-job").await.expect("screenshot");

    // The portal page once everything has run.
    let _ = p.settle(4, PATIENCE).await;
    browser
        .open(&format!("{base}/board/portals/{portal_id}"), "table.grades")
        .await;
    browser.screenshot("portal").await.expect("screenshot");

    browser.close().await.expect("close");
    workers.abort();
    presence.abort();
}
