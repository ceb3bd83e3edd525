//! `/api/jobs` over real HTTP: enqueue each job type, list with filters and cursor paging,
//! read one with its timeline, follow it as Server-Sent Events, retry a failed run and cancel
//! a queued one and a running one (which stops at its next checkpoint).

use std::collections::HashSet;
use std::time::Duration;

use conturs_tests::counting::{counting_worker, enqueue_noop};
use conturs_tests::fixtures::insert_portal;
use conturs_tests::{Backend, TestApp, spawn_app};
use entity::{JobStatus, PortalStatus};
use jobs::ledger::Failure;
use serde_json::{Value, json};
use uuid::Uuid;

const PORTAL: i64 = 7001;
const OTHER: i64 = 7002;

async fn create(app: &TestApp, body: Value) -> reqwest::Response {
    app.admin_post("/api/jobs", &body).await
}

async fn created(app: &TestApp, body: Value) -> Value {
    let response = create(app, body).await;
    assert_eq!(response.status(), 202);
    let location = response.headers()["location"]
        .to_str()
        .expect("ascii")
        .to_owned();
    let job: Value = response.json().await.expect("json");
    assert_eq!(
        location,
        format!("/api/jobs/{}", job["id"].as_str().expect("id"))
    );
    job
}

async fn error_code(response: reqwest::Response, status: u16) -> String {
    assert_eq!(response.status(), status);
    let body: Value = response.json().await.expect("json");
    body["code"].as_str().expect("code").to_owned()
}

async fn enqueue_and_validate(backend: Backend) {
    let app = spawn_app(backend).await;
    for (id, status) in [
        (PORTAL, PortalStatus::Ready),
        (OTHER, PortalStatus::Connected),
    ] {
        insert_portal(&app.db.conn, id, status)
            .await
            .expect("portal");
    }
    let mut ids = Vec::new();
    for body in [
        json!({"type": "initial_sync", "portal_id": PORTAL}),
        json!({"type": "train_model", "portal_id": PORTAL}),
        json!({"type": "nightly_resync", "portal_id": PORTAL}),
        json!({"type": "score_contact", "portal_id": PORTAL, "contact_ids": [3, 1, 3], "lane": "realtime"}),
        json!({"type": "write_back", "portal_id": OTHER, "contact_ids": [5]}),
    ] {
        let job = created(&app, body.clone()).await;
        assert_eq!(job["job_type"], body["type"]);
        assert_eq!(job["status"], "queued");
        assert_eq!(job["portal_id"], body["portal_id"]);
        ids.push(job["id"].as_str().expect("id").to_owned());
    }
    let score = app.admin_get(&format!("/api/jobs/{}", ids[3])).await;
    let score: Value = score.json().await.expect("json");
    assert_eq!(score["job"]["payload"]["contact_ids"], json!([1, 3]));
    assert_eq!(score["job"]["lane"], "realtime");
    assert_eq!(score["events"][0]["kind"], "enqueued");

    // Validation.
    assert_eq!(
        error_code(
            create(&app, json!({"type": "initial_sync", "portal_id": 999})).await,
            404
        )
        .await,
        "not_found"
    );
    for bad in [
        json!({"type": "score_contact", "portal_id": PORTAL}),
        json!({"type": "initial_sync", "portal_id": PORTAL, "contact_ids": [1]}),
        json!({"type": "noop", "portal_id": PORTAL}),
    ] {
        assert_eq!(
            error_code(create(&app, bad).await, 422).await,
            "invalid_job"
        );
    }
    assert_eq!(
        error_code(create(&app, json!({"type": "initial_sync"})).await, 422).await,
        "invalid_body"
    );
    insert_portal(&app.db.conn, 7003, PortalStatus::Disconnected)
        .await
        .expect("portal");
    assert_eq!(
        error_code(
            create(&app, json!({"type": "initial_sync", "portal_id": 7003})).await,
            409
        )
        .await,
        "portal_disconnected"
    );

    // Listing: newest first, filters, cursor paging.
    let page: Value = app.admin_get("/api/jobs").await.json().await.expect("json");
    let listed: Vec<&str> = page["jobs"]
        .as_array()
        .expect("jobs")
        .iter()
        .map(|j| j["id"].as_str().expect("id"))
        .collect();
    let mut newest_first = ids.clone();
    newest_first.reverse();
    assert_eq!(listed, newest_first);
    assert!(page["next_cursor"].is_null());

    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            Some(c) => format!("/api/jobs?limit=2&cursor={c}"),
            None => "/api/jobs?limit=2".to_owned(),
        };
        let page: Value = app.admin_get(&path).await.json().await.expect("json");
        for job in page["jobs"].as_array().expect("jobs") {
            seen.push(job["id"].as_str().expect("id").to_owned());
        }
        match page["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => break,
        }
    }
    assert_eq!(seen, newest_first, "pages cover every job once, in order");

    let count = |path: String| {
        let app = &app;
        async move {
            let page: Value = app.admin_get(&path).await.json().await.expect("json");
            page["jobs"].as_array().expect("jobs").len()
        }
    };
    assert_eq!(count(format!("/api/jobs?portal={OTHER}")).await, 1);
    assert_eq!(count("/api/jobs?type=train_model".to_owned()).await, 1);
    assert_eq!(
        count(format!("/api/jobs?type=write_back&portal={PORTAL}")).await,
        0
    );
    assert_eq!(count("/api/jobs?status=queued".to_owned()).await, 5);
    assert_eq!(count("/api/jobs?status=failed".to_owned()).await, 0);
    assert_eq!(
        count("/api/jobs?created_after=2000-01-01T00:00:00Z".to_owned()).await,
        5
    );
    assert_eq!(
        count("/api/jobs?created_before=2000-01-01T00:00:00Z".to_owned()).await,
        0
    );
    assert_eq!(
        error_code(
            app.admin_get("/api/jobs?created_after=yesterday").await,
            400
        )
        .await,
        "invalid_query"
    );
    assert_eq!(
        error_code(
            app.admin_get(&format!("/api/jobs/{}", Uuid::now_v7()))
                .await,
            404
        )
        .await,
        "not_found"
    );
}

#[tokio::test]
async fn enqueue_list_and_show_sqlite() {
    enqueue_and_validate(Backend::Sqlite).await;
}

#[tokio::test]
async fn enqueue_list_and_show_postgres() {
    enqueue_and_validate(Backend::Postgres).await;
}

#[tokio::test]
async fn retry_and_cancel_follow_the_ledger() {
    let app = spawn_app(Backend::Sqlite).await;
    insert_portal(&app.db.conn, PORTAL, PortalStatus::Ready)
        .await
        .expect("portal");
    let job = created(&app, json!({"type": "train_model", "portal_id": PORTAL})).await;
    let id: Uuid = job["id"].as_str().expect("id").parse().expect("uuid");

    // Retrying a queued job is refused.
    let refused = app
        .admin_post(&format!("/api/jobs/{id}/retry"), &json!({}))
        .await;
    assert_eq!(error_code(refused, 409).await, "not_retryable");

    // Make it fail permanently, as a worker would record it, then retry it.
    let ledger = app.queue.ledger();
    ledger
        .start_attempt(id, "test-worker")
        .await
        .expect("start");
    ledger
        .fail(
            id,
            &Failure {
                kind: "invalid".into(),
                message: "bad data".into(),
                retryable: false,
            },
        )
        .await
        .expect("fail");
    let retried = app
        .admin_post(&format!("/api/jobs/{id}/retry"), &json!({}))
        .await;
    assert_eq!(retried.status(), 202);
    let retried: Value = retried.json().await.expect("json");
    assert_eq!(retried["status"], "queued");
    assert_eq!(retried["attempts"], 0);
    let detail: Value = app
        .admin_get(&format!("/api/jobs/{id}"))
        .await
        .json()
        .await
        .expect("json");
    let kinds: Vec<&str> = detail["events"]
        .as_array()
        .expect("events")
        .iter()
        .map(|e| e["kind"].as_str().expect("kind"))
        .collect();
    assert!(kinds.contains(&"retried"), "{kinds:?}");

    // Cancel the queued job; cancelling again is refused.
    let cancelled = app
        .admin_post(&format!("/api/jobs/{id}/cancel"), &json!({}))
        .await;
    assert_eq!(cancelled.status(), 200);
    let cancelled: Value = cancelled.json().await.expect("json");
    assert_eq!(cancelled["status"], "cancelled");
    let again = app
        .admin_post(&format!("/api/jobs/{id}/cancel"), &json!({}))
        .await;
    assert_eq!(error_code(again, 409).await, "already_finished");
    let missing = app
        .admin_post(&format!("/api/jobs/{}/cancel", Uuid::now_v7()), &json!({}))
        .await;
    assert_eq!(error_code(missing, 404).await, "not_found");
}

async fn wait_for(app: &TestApp, id: Uuid, done: impl Fn(&entity::job_runs::Model) -> bool) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let run = app.queue.ledger().get(id).await.expect("run");
        if done(&run) {
            return;
        }
        assert!(tokio::time::Instant::now() < deadline, "timed out: {run:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn a_running_job_stops_at_its_next_checkpoint_when_cancelled() {
    let app = spawn_app(Backend::Sqlite).await;
    insert_portal(&app.db.conn, PORTAL, PortalStatus::Ready)
        .await
        .expect("portal");
    let _worker = counting_worker(&app, 10_000, 2);
    let id = enqueue_noop(&app, PORTAL).await;
    wait_for(&app, id, |run| {
        run.status == JobStatus::Running && run.done > 0
    })
    .await;
    let cancelled = app
        .admin_post(&format!("/api/jobs/{id}/cancel"), &json!({}))
        .await;
    assert_eq!(cancelled.status(), 200);
    wait_for(&app, id, |_| true).await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    let timeline = loop {
        let timeline = app.queue.ledger().timeline(id).await.expect("timeline");
        if timeline.iter().any(|e| e.kind == "stopped") {
            break timeline;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "no stop: {timeline:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let run = app.queue.ledger().get(id).await.expect("run");
    assert_eq!(run.status, JobStatus::Cancelled, "stays cancelled");
    assert!(run.done < 10_000, "stopped early, at {}", run.done);
    assert!(
        !timeline
            .iter()
            .any(|e| e.kind == "retry" || e.kind == "failed"),
        "a cancel is not a failure: {timeline:?}"
    );
}

#[tokio::test]
async fn job_progress_streams_as_server_sent_events() {
    let app = spawn_app(Backend::Sqlite).await;
    insert_portal(&app.db.conn, PORTAL, PortalStatus::Ready)
        .await
        .expect("portal");
    let id = enqueue_noop(&app, PORTAL).await;
    let unauthorized = app.get(&format!("/api/jobs/{id}/events")).await;
    assert_eq!(unauthorized.status(), 401);
    let missing = app
        .admin_get(&format!("/api/jobs/{}/events", Uuid::now_v7()))
        .await;
    assert_eq!(missing.status(), 404);

    let stream = app.admin_get(&format!("/api/jobs/{id}/events")).await;
    assert_eq!(stream.status(), 200);
    assert!(
        stream.headers()["content-type"]
            .to_str()
            .expect("ascii")
            .starts_with("text/event-stream")
    );
    let _worker = counting_worker(&app, 30, 2);
    // The stream ends by itself once the run is terminal.
    let body = tokio::time::timeout(Duration::from_secs(60), stream.text())
        .await
        .expect("the stream ends when the job does")
        .expect("body");
    let events: Vec<(String, Value)> = body
        .split("\n\n")
        .filter_map(|block| {
            let kind = block.lines().find_map(|l| l.strip_prefix("event: "))?;
            let data = block.lines().find_map(|l| l.strip_prefix("data: "))?;
            Some((kind.to_owned(), serde_json::from_str(data).ok()?))
        })
        .collect();
    assert_eq!(
        events.first().map(|e| e.1["status"].clone()),
        Some(json!("queued"))
    );
    let (last_kind, last) = events.last().expect("events");
    assert_eq!(last_kind, "finished");
    assert_eq!(last["status"], "succeeded");
    assert_eq!(last["done"], 30);
    let statuses: HashSet<String> = events
        .iter()
        .map(|(_, e)| e["status"].as_str().unwrap_or_default().to_owned())
        .collect();
    assert!(
        statuses.contains("running"),
        "progress while running: {statuses:?}"
    );
}
