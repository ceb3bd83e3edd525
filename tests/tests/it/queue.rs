//! One behavioural suite for every queue backend (like River's driver tests): delivery, retries,
//! the dead list, permanent errors and coalescing, run on Redis and on the embedded SQLite queue.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use apalis::prelude::Monitor;
use chrono::Utc;
use conturs_tests::{Backend, TestDatabase, TestRedis};
use entity::{JobStatus, Lane, PortalStatus};
use jobs::payload::ScoreContact;
use jobs::runtime::{WorkerOptions, register};
use jobs::{EnqueueOptions, JobError, Ledger, Queue, QueueBackend, QueueSettings};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use uuid::Uuid;

const PORTAL: i64 = 777;

/// Which queue backend a suite run uses.
#[derive(Debug, Clone, Copy)]
enum QueueKind {
    Redis,
    Sqlite,
}

struct Harness {
    queue: Queue,
    _db: TestDatabase,
    _redis: Option<TestRedis>,
}

async fn harness(kind: QueueKind) -> Harness {
    let db = TestDatabase::migrated(Backend::Sqlite)
        .await
        .expect("database");
    conturs_tests::fixtures::insert_portal(&db.conn, PORTAL, PortalStatus::Ready)
        .await
        .expect("portal");
    let (backend, redis, namespace) = match kind {
        QueueKind::Redis => {
            let redis = TestRedis::new();
            let backend = QueueBackend::redis(&redis.url).await.expect("redis");
            let namespace = redis.namespace.clone();
            (backend, Some(redis), namespace)
        }
        QueueKind::Sqlite => (
            QueueBackend::sqlite(&db.conn).await.expect("sqlite queue"),
            None,
            format!("test-{}", Uuid::new_v4().simple()),
        ),
    };
    let settings = QueueSettings {
        namespace,
        poll_interval: Duration::from_millis(50),
        heartbeat: Duration::from_secs(1),
        missed_heartbeats: 3,
    };
    Harness {
        queue: Queue::new(backend, settings, Ledger::new(db.conn.clone())),
        _db: db,
        _redis: redis,
    }
}

/// Test behaviour encoded in the job: `contact_ids[0]` failures before success,
/// `contact_ids[1]` = 1 for a permanent error.
fn behaviour(fail_times: i64, permanent: bool) -> Vec<i64> {
    vec![fail_times, i64::from(permanent)]
}

type Calls = Arc<Mutex<HashMap<Uuid, u32>>>;

fn start_workers(queue: &Queue, calls: Calls) -> tokio::task::JoinHandle<()> {
    let handler = move |job: ScoreContact, _progress: jobs::Progress| {
        let calls = calls.clone();
        async move {
            let attempt = {
                let mut calls = calls.lock().expect("lock");
                let count = calls.entry(job.run_id).or_insert(0);
                *count += 1;
                *count
            };
            let fail_times = job.contact_ids.first().copied().unwrap_or(0);
            let permanent = job.contact_ids.get(1) == Some(&1);
            if permanent {
                return Err(JobError::permanent("invalid", "bad data"));
            }
            if i64::from(attempt) <= fail_times {
                return Err(JobError::Retryable {
                    kind: "transient",
                    message: format!("failure {attempt}"),
                    after: Some(Duration::from_millis(50)),
                });
            }
            Ok(())
        }
    };
    let mut monitor = Monitor::new().should_restart(|_, _| true);
    for lane in [Lane::Realtime, Lane::Bulk] {
        monitor = register(
            monitor,
            queue,
            WorkerOptions {
                name: format!("test-{lane:?}-{}", Uuid::new_v4().simple()),
                concurrency: 8,
                lane,
            },
            handler.clone(),
        );
    }
    tokio::spawn(async move {
        let _ = monitor.run().await;
    })
}

async fn enqueue(queue: &Queue, contact_ids: Vec<i64>, key: Option<&str>) -> Uuid {
    queue
        .enqueue(
            |run_id| ScoreContact {
                run_id,
                portal_id: PORTAL,
                contact_ids,
                lane: Lane::Realtime,
            },
            EnqueueOptions {
                idempotency_key: key.map(str::to_owned),
                ..EnqueueOptions::default()
            },
        )
        .await
        .expect("enqueue")
        .run_id
}

async fn wait_for_status(ledger: &Ledger, run_id: Uuid, status: JobStatus) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let run = ledger.get(run_id).await.expect("run");
        if run.status == status {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "run {run_id} stuck in {:?} (wanted {status:?}): {:?}",
            run.status,
            run.last_error
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn conformance(kind: QueueKind) {
    let h = harness(kind).await;
    let ledger = h.queue.ledger().clone();
    let calls: Calls = Arc::default();
    let workers = start_workers(&h.queue, calls.clone());

    // Delivery: every job runs exactly once.
    let mut ok_runs = Vec::new();
    for _ in 0..20 {
        ok_runs.push(enqueue(&h.queue, behaviour(0, false), None).await);
    }
    // Retries: two transient failures, then success on attempt 3.
    let flaky = enqueue(&h.queue, behaviour(2, false), None).await;
    // Dead list: fails more often than its 5 attempts allow.
    let doomed = enqueue(&h.queue, behaviour(99, false), None).await;
    // Permanent error: one attempt only.
    let invalid = enqueue(&h.queue, behaviour(0, true), None).await;

    for run in &ok_runs {
        wait_for_status(&ledger, *run, JobStatus::Succeeded).await;
    }
    wait_for_status(&ledger, flaky, JobStatus::Succeeded).await;
    wait_for_status(&ledger, doomed, JobStatus::Dead).await;
    wait_for_status(&ledger, invalid, JobStatus::Failed).await;
    // Let any stray duplicate delivery show itself before counting.
    tokio::time::sleep(Duration::from_millis(500)).await;

    let calls = calls.lock().expect("lock").clone();
    for run in &ok_runs {
        assert_eq!(calls.get(run), Some(&1), "{kind:?}: delivered once");
    }
    assert_eq!(
        calls.get(&flaky),
        Some(&3),
        "{kind:?}: retried until success"
    );
    assert_eq!(
        calls.get(&doomed),
        Some(&5),
        "{kind:?}: bounded by max attempts"
    );
    assert_eq!(
        calls.get(&invalid),
        Some(&1),
        "{kind:?}: permanent errors are not retried"
    );

    let flaky_run = ledger.get(flaky).await.expect("run");
    assert_eq!(flaky_run.attempts, 3);
    let dead = ledger.get(doomed).await.expect("run");
    assert_eq!(dead.attempts, 5);
    assert_eq!(dead.last_error.as_deref(), Some("failure 5"));
    let kinds: Vec<String> = ledger
        .timeline(doomed)
        .await
        .expect("timeline")
        .into_iter()
        .map(|e| e.kind)
        .collect();
    assert_eq!(kinds.iter().filter(|k| *k == "retry").count(), 4);
    assert_eq!(kinds.last().map(String::as_str), Some("dead"));
    workers.abort();
}

#[tokio::test]
async fn conformance_on_redis() {
    conformance(QueueKind::Redis).await;
}

#[tokio::test]
async fn conformance_on_sqlite() {
    conformance(QueueKind::Sqlite).await;
}

/// Redis restarted without persistence: every queued job is gone from Redis, but the ledger
/// still has them, and the reconciler puts them back.
#[tokio::test]
async fn reconciler_restores_jobs_after_redis_loses_its_data() {
    let h = harness(QueueKind::Redis).await;
    let ledger = h.queue.ledger().clone();
    let mut reconciler = jobs::reconciler::Reconciler::new(h.queue.clone());
    // The first pass plants the epoch; nothing is queued yet.
    reconciler.run_once().await.expect("first pass");
    let report = reconciler.run_once().await.expect("steady pass");
    assert!(!report.queue_data_lost);
    assert_eq!(report.requeued, 0);

    let mut runs = Vec::new();
    for _ in 0..25 {
        runs.push(enqueue(&h.queue, behaviour(0, false), None).await);
    }
    // Simulate the restart: this test's keys vanish (a private namespace; never FLUSHALL).
    let redis = h._redis.as_ref().expect("redis harness");
    delete_namespace(redis).await;

    let report = reconciler.run_once().await.expect("pass after loss");
    assert!(report.queue_data_lost, "the lost epoch must be noticed");
    assert_eq!(report.requeued, 25);

    let calls: Calls = Arc::default();
    let workers = start_workers(&h.queue, calls.clone());
    for run in &runs {
        wait_for_status(&ledger, *run, JobStatus::Succeeded).await;
    }
    let calls = calls.lock().expect("lock").clone();
    for run in &runs {
        assert_eq!(calls.get(run), Some(&1), "restored job runs exactly once");
    }
    workers.abort();
}

async fn delete_namespace(redis: &TestRedis) {
    use futures::StreamExt as _;
    let mut conn = redis.connection().await;
    let pattern = format!("*{}*", redis.namespace);
    let keys: Vec<String> = {
        let mut scan = redis::AsyncCommands::scan_match::<_, String>(&mut conn, &pattern)
            .await
            .expect("scan");
        let mut keys = Vec::new();
        while let Some(key) = scan.next().await {
            keys.push(key.expect("key"));
        }
        keys
    };
    assert!(!keys.is_empty(), "the queue must have written keys");
    let _: () = redis::AsyncCommands::del(&mut conn, keys)
        .await
        .expect("del");
}

/// The enqueuer died between writing the ledger row and pushing: the reconciler pushes it.
#[tokio::test]
async fn reconciler_pushes_stranded_pending_runs_on_sqlite() {
    let h = harness(QueueKind::Sqlite).await;
    let ledger = h.queue.ledger().clone();
    let run_id = Uuid::now_v7();
    let job = ScoreContact {
        run_id,
        portal_id: PORTAL,
        contact_ids: behaviour(0, false),
        lane: Lane::Bulk,
    };
    ledger
        .record(jobs::NewRun {
            id: run_id,
            portal_id: PORTAL,
            job_type: entity::JobType::ScoreContact,
            lane: Lane::Bulk,
            payload: serde_json::to_value(&job).expect("json"),
            max_attempts: 3,
            idempotency_key: None,
            parent_id: None,
        })
        .await
        .expect("record");
    let mut reconciler = jobs::reconciler::Reconciler::new(h.queue.clone());
    assert_eq!(
        reconciler.run_once().await.expect("pass").requeued,
        0,
        "too young"
    );

    // Age the row past the stranding threshold.
    let old = Utc::now() - chrono::Duration::minutes(5);
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, sea_query::Expr};
    entity::job_runs::Entity::update_many()
        .col_expr(entity::job_runs::Column::UpdatedAt, Expr::value(old))
        .filter(entity::job_runs::Column::Id.eq(run_id))
        .exec(ledger.db())
        .await
        .expect("age");
    assert_eq!(reconciler.run_once().await.expect("pass").requeued, 1);

    let calls: Calls = Arc::default();
    let workers = start_workers(&h.queue, calls.clone());
    wait_for_status(&ledger, run_id, JobStatus::Succeeded).await;
    workers.abort();
}

/// Ages a finished run, as if it had finished `age` ago.
async fn finished_ago(ledger: &Ledger, run_id: Uuid, age: chrono::Duration) {
    entity::job_runs::Entity::update_many()
        .col_expr(
            entity::job_runs::Column::FinishedAt,
            sea_orm::sea_query::Expr::value(Utc::now() - age),
        )
        .filter(entity::job_runs::Column::Id.eq(run_id))
        .exec(ledger.db())
        .await
        .expect("age run");
}

/// Retention: old finished runs (with their events) and the backend's finished tasks go;
/// recent work, and failures younger than their longer retention, stay.
async fn retention(kind: QueueKind) {
    let h = harness(kind).await;
    let ledger = h.queue.ledger().clone();
    let calls: Calls = Arc::default();
    let workers = start_workers(&h.queue, calls.clone());
    let old_success = enqueue(&h.queue, behaviour(0, false), None).await;
    let new_success = enqueue(&h.queue, behaviour(0, false), None).await;
    let old_failure = enqueue(&h.queue, behaviour(0, true), None).await;
    let ancient_failure = enqueue(&h.queue, behaviour(0, true), None).await;
    for run in [old_success, new_success] {
        wait_for_status(&ledger, run, JobStatus::Succeeded).await;
    }
    for run in [old_failure, ancient_failure] {
        wait_for_status(&ledger, run, JobStatus::Failed).await;
    }
    // The workers keep running: the embedded queue acknowledges tasks in batches.
    let days = chrono::Duration::days;
    finished_ago(&ledger, old_success, days(8)).await;
    finished_ago(&ledger, old_failure, days(8)).await;
    finished_ago(&ledger, ancient_failure, days(31)).await;

    let policy = jobs::retention::RetentionPolicy {
        queue_tasks: Duration::ZERO,
        ..Default::default()
    };
    // The backend acknowledges a task just after the ledger records it, and stamps it in whole
    // seconds: wait until all four are old enough to go.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
    let mut tasks_deleted = 0;
    let mut runs_deleted = 0;
    while tasks_deleted < 4 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "{kind:?}: only {tasks_deleted} finished tasks vacuumed"
        );
        tokio::time::sleep(Duration::from_millis(300)).await;
        let report = jobs::retention::vacuum(&h.queue, &policy)
            .await
            .expect("vacuum");
        tasks_deleted += report.queue_tasks_deleted;
        runs_deleted += report.runs_deleted;
    }
    assert_eq!(
        runs_deleted, 2,
        "{kind:?}: the old success and the ancient failure"
    );
    for (run, kept) in [
        (old_success, false),
        (new_success, true),
        (old_failure, true),
        (ancient_failure, false),
    ] {
        assert_eq!(ledger.get(run).await.is_ok(), kept, "{kind:?}: run {run}");
        let events = ledger.timeline(run).await.expect("timeline");
        assert_eq!(!events.is_empty(), kept, "{kind:?}: events of {run}");
    }
    match (kind, h.queue.backend()) {
        (QueueKind::Redis, QueueBackend::Redis(_)) => {
            let redis = h._redis.as_ref().expect("redis");
            let mut conn = redis.connection().await;
            let queue = h
                .queue
                .settings()
                .queue_name::<ScoreContact>(Lane::Realtime);
            let data: i64 = redis::cmd("HLEN")
                .arg(format!("{queue}:data"))
                .query_async(&mut conn)
                .await
                .expect("HLEN");
            let done: i64 = redis::cmd("SCARD")
                .arg(format!("{queue}:done"))
                .query_async(&mut conn)
                .await
                .expect("SCARD");
            assert_eq!(
                (data, done),
                (0, 0),
                "payloads and the done set are emptied"
            );
        }
        (QueueKind::Sqlite, QueueBackend::Sqlite(pool)) => {
            let left: i64 = sea_orm::sqlx::query_scalar("SELECT COUNT(*) FROM Jobs")
                .fetch_one(pool)
                .await
                .expect("count");
            assert_eq!(left, 0);
        }
        other => panic!("harness mismatch: {other:?}"),
    }
    workers.abort();
}

#[tokio::test]
async fn retention_on_redis() {
    retention(QueueKind::Redis).await;
}

#[tokio::test]
async fn retention_on_sqlite() {
    retention(QueueKind::Sqlite).await;
}
