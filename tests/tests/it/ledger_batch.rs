//! Group commit of the hot ledger transitions (`Ledger::start_attempt_batched`,
//! `Ledger::succeed_batched`) on both backends: a batch decides as the same calls would one
//! after another, and many concurrent callers each get exactly one attempt per run.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

use chrono::Utc;
use conturs_tests::{Backend, TestDatabase};
use entity::{JobStatus, JobType, Lane, PortalStatus, job_events};
use futures::future::join_all;
use jobs::{AttemptDecision, Ledger, LedgerError, NewRun};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::json;
use uuid::Uuid;

const PORTAL: i64 = 4_343;

async fn ledger_with_portal(backend: Backend) -> (TestDatabase, Ledger) {
    let db = TestDatabase::migrated(backend).await.expect("database");
    conturs_tests::fixtures::insert_portal(&db.conn, PORTAL, PortalStatus::Connected)
        .await
        .expect("portal");
    let ledger = Ledger::new(db.conn.clone());
    (db, ledger)
}

async fn queued_run(ledger: &Ledger, max_attempts: i32) -> Uuid {
    let run = ledger
        .record(NewRun {
            id: Uuid::now_v7(),
            portal_id: PORTAL,
            job_type: JobType::InitialSync,
            lane: Lane::Bulk,
            payload: json!({"portal_id": PORTAL}),
            max_attempts,
            idempotency_key: None,
            parent_id: None,
        })
        .await
        .expect("record");
    ledger.mark_queued(run.id).await.expect("queued");
    run.id
}

async fn kinds(ledger: &Ledger, run_id: Uuid) -> Vec<String> {
    ledger
        .timeline(run_id)
        .await
        .expect("timeline")
        .into_iter()
        .map(|event| event.kind)
        .collect()
}

/// Ages a run's heartbeat past the lease, as if its worker had been killed.
async fn expire_lease(ledger: &Ledger, run_id: Uuid) {
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

/// One batch holding every kind of decision. The calls are queued before the batcher runs
/// (current-thread runtime, joined futures), so they commit in one transaction: their events
/// share one timestamp.
async fn mixed_batch(backend: Backend) {
    let (_db, ledger) = ledger_with_portal(backend).await;
    let fresh = [
        queued_run(&ledger, 3).await,
        queued_run(&ledger, 3).await,
        queued_run(&ledger, 3).await,
    ];
    let finished = queued_run(&ledger, 3).await;
    ledger.start_attempt(finished, "w0").await.expect("start");
    assert!(ledger.succeed(finished).await.expect("succeed"));
    // One allowed attempt, whose worker died: the next delivery is one too many.
    let worn = queued_run(&ledger, 1).await;
    ledger.start_attempt(worn, "w0").await.expect("start");
    expire_lease(&ledger, worn).await;
    let cancelled = queued_run(&ledger, 3).await;
    ledger.start_attempt(cancelled, "w0").await.expect("start");
    assert!(ledger.cancel(cancelled, "operator").await.expect("cancel"));
    let unknown = Uuid::now_v7();

    let worker: Arc<str> = Arc::from("w1");
    let starts = [
        fresh[0], fresh[1], fresh[2], fresh[0], finished, worn, unknown,
    ]
    .map(|run_id| ledger.start_attempt_batched(run_id, &worker));
    let (started, stopped) = futures::join!(join_all(starts), ledger.succeed_batched(cancelled));
    let decisions: Vec<_> = started
        .iter()
        .map(|result| result.as_ref().ok().cloned())
        .collect();
    assert_eq!(
        decisions,
        vec![
            Some(AttemptDecision::Run { attempt: 1 }),
            Some(AttemptDecision::Run { attempt: 1 }),
            Some(AttemptDecision::Run { attempt: 1 }),
            Some(AttemptDecision::Busy),
            Some(AttemptDecision::Skip {
                status: JobStatus::Succeeded
            }),
            Some(AttemptDecision::Exhausted { attempts: 1 }),
            None,
        ]
    );
    assert!(
        matches!(started[6], Err(LedgerError::UnknownRun(id)) if id == unknown),
        "{:?}",
        started[6]
    );
    assert!(!stopped.expect("succeed cancelled"), "stays cancelled");

    for run_id in fresh {
        let run = ledger.get(run_id).await.expect("get");
        assert_eq!(run.status, JobStatus::Running);
        assert_eq!(run.attempts, 1);
        assert_eq!(run.worker.as_deref(), Some("w1"));
        assert!(run.started_at.is_some() && run.heartbeat_at.is_some());
        assert_eq!(kinds(&ledger, run_id).await, ["enqueued", "started"]);
    }
    let dead = ledger.get(worn).await.expect("get");
    assert_eq!(dead.status, JobStatus::Dead);
    assert_eq!(dead.attempts, 1);
    assert_eq!(dead.error_kind.as_deref(), Some("exhausted"));
    assert!(dead.finished_at.is_some());
    assert_eq!(
        kinds(&ledger, worn).await.last().map(String::as_str),
        Some("dead")
    );
    assert_eq!(
        ledger.get(finished).await.expect("get").status,
        JobStatus::Succeeded
    );
    assert_eq!(
        kinds(&ledger, finished).await,
        ["enqueued", "started", "succeeded"]
    );
    assert_eq!(
        ledger.get(cancelled).await.expect("get").status,
        JobStatus::Cancelled
    );
    assert_eq!(
        kinds(&ledger, cancelled).await.last().map(String::as_str),
        Some("stopped")
    );

    // Everything the batch wrote carries its one timestamp: one transaction.
    let batch_events = job_events::Entity::find()
        .filter(job_events::Column::JobRunId.is_in(fresh.into_iter().chain([worn, cancelled])))
        .filter(job_events::Column::Kind.is_in(["started", "dead", "stopped"]))
        .filter(job_events::Column::Message.not_like("%on w0"))
        .all(ledger.db())
        .await
        .expect("events");
    assert_eq!(batch_events.len(), 5, "{batch_events:?}");
    let stamps: BTreeSet<_> = batch_events.iter().map(|event| event.at).collect();
    assert_eq!(stamps.len(), 1, "{stamps:?}");

    // The successes of the three runs, batched too.
    let settled = join_all(fresh.map(|run_id| ledger.succeed_batched(run_id))).await;
    assert!(settled.into_iter().all(|result| result.expect("succeed")));
    for run_id in fresh {
        let run = ledger.get(run_id).await.expect("get");
        assert_eq!(run.status, JobStatus::Succeeded);
        assert!(run.finished_at.is_some());
        assert_eq!(run.eta_seconds, None);
        assert_eq!(
            kinds(&ledger, run_id).await,
            ["enqueued", "started", "succeeded"]
        );
    }
}

#[tokio::test]
async fn mixed_batch_on_sqlite() {
    mixed_batch(Backend::Sqlite).await;
}

#[tokio::test]
async fn mixed_batch_on_postgres() {
    mixed_batch(Backend::Postgres).await;
}

/// Every run is delivered twice at once, from many tasks on several threads, and each delivery
/// that wins its attempt records a success: every run ends with exactly one `started` and one
/// `succeeded` event, and the batcher did group the calls.
async fn concurrent_callers(backend: Backend) {
    const RUNS: usize = 200;
    let (_db, ledger) = ledger_with_portal(backend).await;
    let mut runs = Vec::with_capacity(RUNS);
    for _ in 0..RUNS {
        runs.push(queued_run(&ledger, 3).await);
    }
    let mut callers = Vec::with_capacity(RUNS * 2);
    for delivery in 0..2 {
        for &run_id in &runs {
            let ledger = ledger.clone();
            let worker: Arc<str> = Arc::from(format!("w{delivery}"));
            callers.push(tokio::spawn(async move {
                match ledger.start_attempt_batched(run_id, &worker).await? {
                    AttemptDecision::Run { .. } => ledger.succeed_batched(run_id).await.map(Some),
                    _ => Ok::<_, LedgerError>(None),
                }
            }));
        }
    }
    let mut ran = 0;
    for caller in join_all(callers).await {
        if caller.expect("task").expect("ledger") == Some(true) {
            ran += 1;
        }
    }
    assert_eq!(ran, RUNS, "one winning delivery per run");

    let events = job_events::Entity::find()
        .filter(job_events::Column::JobRunId.is_in(runs.clone()))
        .all(ledger.db())
        .await
        .expect("events");
    let mut per_run: HashMap<Uuid, Vec<String>> = HashMap::new();
    for event in &events {
        per_run
            .entry(event.job_run_id)
            .or_default()
            .push(event.kind.clone());
    }
    for run_id in &runs {
        let kinds = per_run.get(run_id).cloned().unwrap_or_default();
        let count = |kind: &str| kinds.iter().filter(|k| *k == kind).count();
        assert_eq!(
            (count("started"), count("succeeded")),
            (1, 1),
            "{run_id}: {kinds:?}"
        );
        assert_eq!(
            ledger.get(*run_id).await.expect("get").status,
            JobStatus::Succeeded
        );
    }
    let commits: BTreeSet<_> = events
        .iter()
        .filter(|event| event.kind != "enqueued")
        .map(|event| event.at)
        .collect();
    assert!(
        commits.len() < RUNS,
        "{} transactions for {RUNS} starts and {RUNS} successes: not grouped",
        commits.len()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_callers_on_sqlite() {
    concurrent_callers(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_callers_on_postgres() {
    concurrent_callers(Backend::Postgres).await;
}
