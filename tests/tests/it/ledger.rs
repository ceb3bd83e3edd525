//! The job ledger on both backends: outbox rows, attempts, retries, the dead list, progress and
//! the timeline.

use std::time::Duration;

use chrono::Utc;
use conturs_tests::{Backend, TestDatabase};
use entity::{JobStatus, JobType, Lane, PortalStatus};
use jobs::{AttemptDecision, Failure, Ledger, NewRun, Progress};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::json;

const PORTAL: i64 = 4_242;

async fn ledger_with_portal(backend: Backend) -> (TestDatabase, Ledger) {
    let db = TestDatabase::migrated(backend).await.expect("database");
    conturs_tests::fixtures::insert_portal(&db.conn, PORTAL, PortalStatus::Connected)
        .await
        .expect("portal");
    let ledger = Ledger::new(db.conn.clone());
    (db, ledger)
}

fn new_run(max_attempts: i32) -> NewRun {
    NewRun {
        id: uuid::Uuid::now_v7(),
        portal_id: PORTAL,
        job_type: JobType::InitialSync,
        lane: Lane::Bulk,
        payload: json!({"portal_id": PORTAL}),
        max_attempts,
        idempotency_key: None,
        parent_id: None,
    }
}

/// Ages a run's heartbeat past the lease, as if its worker had been killed.
async fn expire_lease(ledger: &Ledger, run_id: uuid::Uuid) {
    let stale = Utc::now() - chrono::Duration::from_std(jobs::ledger::LEASE).expect("lease") * 2;
    entity::job_runs::Entity::update_many()
        .col_expr(
            entity::job_runs::Column::HeartbeatAt,
            sea_orm::sea_query::Expr::value(stale),
        )
        .filter(entity::job_runs::Column::Id.eq(run_id))
        .exec(ledger.db())
        .await
        .expect("age heartbeat");
}

fn transient(message: &str) -> Failure {
    Failure {
        kind: "transient".into(),
        message: message.into(),
        retryable: true,
    }
}

async fn lifecycle(backend: Backend) {
    let (_db, ledger) = ledger_with_portal(backend).await;

    let run = ledger.record(new_run(3)).await.expect("record");
    assert_eq!(run.status, JobStatus::Pending);
    ledger.mark_queued(run.id).await.expect("queued");
    let queued = ledger.get(run.id).await.expect("get");
    assert_eq!(queued.status, JobStatus::Queued);

    // Attempt 1 fails transiently: the run waits for a retry.
    assert_eq!(
        ledger
            .start_attempt(run.id, "worker-a")
            .await
            .expect("start"),
        AttemptDecision::Run { attempt: 1 }
    );
    let status = ledger
        .fail(run.id, &transient("HubSpot answered 502"))
        .await
        .expect("fail");
    assert_eq!(status, JobStatus::Retrying);

    // Attempt 2 reports progress and succeeds.
    assert_eq!(
        ledger
            .start_attempt(run.id, "worker-b")
            .await
            .expect("start"),
        AttemptDecision::Run { attempt: 2 }
    );
    let mut progress = Progress::new(ledger.clone(), run.id);
    progress
        .phase("contacts", Some(1_000))
        .await
        .expect("phase");
    tokio::time::sleep(Duration::from_millis(20)).await;
    progress.advance(400).await.expect("advance");
    progress.flush().await.expect("flush");
    let running = ledger.get(run.id).await.expect("get");
    assert_eq!(running.status, JobStatus::Running);
    assert_eq!(running.phase.as_deref(), Some("contacts"));
    assert_eq!((running.done, running.total), (400, Some(1_000)));
    assert!(running.rate.is_some_and(|r| r > 0.0), "rate must be known");
    assert!(
        running.eta_seconds.is_some_and(|e| e > 0.0),
        "ETA must be known"
    );
    assert_eq!(running.worker.as_deref(), Some("worker-b"));

    assert!(ledger.succeed(run.id).await.expect("succeed"), "recorded");
    let done = ledger.get(run.id).await.expect("get");
    assert_eq!(done.status, JobStatus::Succeeded);
    assert_eq!(done.attempts, 2);
    assert!(done.finished_at.is_some());
    assert_eq!(done.last_error.as_deref(), Some("HubSpot answered 502"));

    // A redelivery after success is skipped, not run again.
    assert_eq!(
        ledger
            .start_attempt(run.id, "worker-c")
            .await
            .expect("start"),
        AttemptDecision::Skip {
            status: JobStatus::Succeeded
        }
    );

    let kinds: Vec<String> = ledger
        .timeline(run.id)
        .await
        .expect("timeline")
        .into_iter()
        .map(|e| e.kind)
        .collect();
    assert_eq!(
        kinds,
        [
            "enqueued",
            "started",
            "retry",
            "started",
            "phase",
            "succeeded"
        ]
    );
}

/// An operator's cancel while the attempt runs wins over the attempt's success.
async fn cancel_while_running(backend: Backend) {
    let (_db, ledger) = ledger_with_portal(backend).await;
    let run = ledger.record(new_run(3)).await.expect("record");
    ledger.mark_queued(run.id).await.expect("queued");
    let decision = ledger
        .start_attempt(run.id, "worker-a")
        .await
        .expect("start");
    assert_eq!(decision, AttemptDecision::Run { attempt: 1 });
    assert!(ledger.cancel(run.id, "operator").await.expect("cancel"));
    assert!(
        !ledger.succeed(run.id).await.expect("succeed"),
        "not recorded"
    );
    let run = ledger.get(run.id).await.expect("get");
    assert_eq!(run.status, JobStatus::Cancelled);
    let kinds: Vec<String> = ledger
        .timeline(run.id)
        .await
        .expect("timeline")
        .into_iter()
        .map(|e| e.kind)
        .collect();
    assert_eq!(
        kinds.last().map(String::as_str),
        Some("stopped"),
        "{kinds:?}"
    );
}

#[tokio::test]
async fn cancel_while_running_on_sqlite() {
    cancel_while_running(Backend::Sqlite).await;
}

#[tokio::test]
async fn cancel_while_running_on_postgres() {
    cancel_while_running(Backend::Postgres).await;
}

#[tokio::test]
async fn lifecycle_on_sqlite() {
    lifecycle(Backend::Sqlite).await;
}

#[tokio::test]
async fn lifecycle_on_postgres() {
    lifecycle(Backend::Postgres).await;
}

async fn dead_and_failed(backend: Backend) {
    let (_db, ledger) = ledger_with_portal(backend).await;

    // Out of attempts after a retryable failure: dead, with the reason.
    let run = ledger.record(new_run(2)).await.expect("record");
    for attempt in 1..=2 {
        assert_eq!(
            ledger.start_attempt(run.id, "w").await.expect("start"),
            AttemptDecision::Run { attempt }
        );
        ledger
            .fail(run.id, &transient("timeout"))
            .await
            .expect("fail");
    }
    let dead = ledger.get(run.id).await.expect("get");
    assert_eq!(dead.status, JobStatus::Dead);
    assert_eq!(dead.error_kind.as_deref(), Some("transient"));

    // A permanent error stops at once, whatever attempts are left.
    let run = ledger.record(new_run(5)).await.expect("record");
    ledger.start_attempt(run.id, "w").await.expect("start");
    let status = ledger
        .fail(
            run.id,
            &Failure {
                kind: "needs_reconnect".into(),
                message: "refresh token revoked".into(),
                retryable: false,
            },
        )
        .await
        .expect("fail");
    assert_eq!(status, JobStatus::Failed);

    // A job that crashes its worker on every delivery never reports failure; the ledger
    // counts deliveries and sends it to the dead list once they exceed its attempts.
    let run = ledger.record(new_run(3)).await.expect("record");
    for attempt in 1..=3 {
        assert_eq!(
            ledger.start_attempt(run.id, "w").await.expect("start"),
            AttemptDecision::Run { attempt }
        );
        // While its worker beats, a duplicate delivery is turned away…
        assert_eq!(
            ledger.start_attempt(run.id, "other").await.expect("start"),
            AttemptDecision::Busy
        );
        // …until the worker dies and its lease runs out.
        expire_lease(&ledger, run.id).await;
    }
    assert_eq!(
        ledger.start_attempt(run.id, "w").await.expect("start"),
        AttemptDecision::Exhausted { attempts: 3 }
    );
    let poisoned = ledger.get(run.id).await.expect("get");
    assert_eq!(poisoned.status, JobStatus::Dead);
    assert_eq!(poisoned.error_kind.as_deref(), Some("exhausted"));

    // Cancelling works once, and only on unfinished runs.
    let run = ledger.record(new_run(3)).await.expect("record");
    assert!(ledger.cancel(run.id, "operator").await.expect("cancel"));
    assert!(
        !ledger
            .cancel(run.id, "operator")
            .await
            .expect("cancel again")
    );
    assert_eq!(
        ledger.start_attempt(run.id, "w").await.expect("start"),
        AttemptDecision::Skip {
            status: JobStatus::Cancelled
        }
    );
}

#[tokio::test]
async fn dead_and_failed_on_sqlite() {
    dead_and_failed(Backend::Sqlite).await;
}

#[tokio::test]
async fn dead_and_failed_on_postgres() {
    dead_and_failed(Backend::Postgres).await;
}

async fn reconciler_candidates(backend: Backend) {
    let (_db, ledger) = ledger_with_portal(backend).await;
    let pending = ledger.record(new_run(3)).await.expect("record");
    let finished = ledger.record(new_run(3)).await.expect("record");
    ledger.start_attempt(finished.id, "w").await.expect("start");
    ledger.succeed(finished.id).await.expect("succeed");

    let later = Utc::now() + chrono::Duration::seconds(1);
    let candidates = ledger.unfinished_since(later, 100).await.expect("scan");
    let ids: Vec<_> = candidates.iter().map(|r| r.id).collect();
    assert_eq!(
        ids,
        vec![pending.id],
        "only unfinished runs need reconciling"
    );
    let earlier = Utc::now() - chrono::Duration::seconds(60);
    assert!(
        ledger
            .unfinished_since(earlier, 100)
            .await
            .expect("scan")
            .is_empty()
    );
}

#[tokio::test]
async fn reconciler_candidates_on_sqlite() {
    reconciler_candidates(Backend::Sqlite).await;
}

#[tokio::test]
async fn reconciler_candidates_on_postgres() {
    reconciler_candidates(Backend::Postgres).await;
}

async fn interruption_and_orphans(backend: Backend) {
    let (_db, ledger) = ledger_with_portal(backend).await;

    // A draining worker stops a job at its next checkpoint: progress is saved, the attempt is
    // handed back, and the run is queued again.
    let run = ledger.record(new_run(3)).await.expect("record");
    ledger
        .start_attempt(run.id, "worker-a")
        .await
        .expect("start");
    let drain = jobs::Drain::new();
    let mut progress = Progress::new(ledger.clone(), run.id).with_drain(drain.clone());
    progress.phase("contacts", Some(100)).await.expect("phase");
    progress.advance(10).await.expect("not draining yet");
    drain.start();
    let stopped = progress.advance(10).await;
    assert!(
        matches!(stopped, Err(jobs::progress::ProgressError::Interrupted)),
        "{stopped:?}"
    );
    ledger.interrupted(run.id).await.expect("interrupted");
    let back = ledger.get(run.id).await.expect("get");
    assert_eq!(back.status, JobStatus::Queued);
    assert_eq!(back.attempts, 0, "an interruption is not a failed attempt");
    assert_eq!(back.done, 20, "the progress up to the checkpoint was saved");
    let kinds: Vec<String> = ledger
        .timeline(run.id)
        .await
        .expect("timeline")
        .into_iter()
        .map(|e| e.kind)
        .collect();
    assert_eq!(kinds.last().map(String::as_str), Some("interrupted"));

    // A worker killed mid-job: once its heartbeat is older than the lease, the run is
    // reclaimed exactly once, with the crashed attempt still counted.
    let orphan = ledger.record(new_run(3)).await.expect("record");
    ledger
        .start_attempt(orphan.id, "worker-b")
        .await
        .expect("start");
    let live = ledger.record(new_run(3)).await.expect("record");
    ledger
        .start_attempt(live.id, "worker-c")
        .await
        .expect("start");
    let silent_since = Utc::now() - chrono::Duration::from_std(jobs::ledger::LEASE).expect("lease");
    assert!(
        ledger
            .reclaim_orphans(silent_since, 10)
            .await
            .expect("reclaim")
            .is_empty(),
        "fresh heartbeats are left alone"
    );
    expire_lease(&ledger, orphan.id).await;
    let reclaimed = ledger
        .reclaim_orphans(silent_since, 10)
        .await
        .expect("reclaim");
    assert_eq!(
        reclaimed.iter().map(|r| r.id).collect::<Vec<_>>(),
        vec![orphan.id]
    );
    let requeued = ledger.get(orphan.id).await.expect("get");
    assert_eq!(requeued.status, JobStatus::Queued);
    assert_eq!(requeued.attempts, 1);
    assert!(
        ledger
            .reclaim_orphans(silent_since, 10)
            .await
            .expect("reclaim")
            .is_empty(),
        "reclaimed once"
    );
    assert_eq!(
        ledger.get(live.id).await.expect("get").status,
        JobStatus::Running
    );
}

#[tokio::test]
async fn interruption_and_orphans_on_sqlite() {
    interruption_and_orphans(Backend::Sqlite).await;
}

#[tokio::test]
async fn interruption_and_orphans_on_postgres() {
    interruption_and_orphans(Backend::Postgres).await;
}
