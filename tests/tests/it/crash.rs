//! The worker dyno as a real process, killed and restarted the ways production kills it:
//! kill -9 mid-InitialSync, SIGTERM mid-InitialSync, and Redis restarting empty mid-run. Each
//! test ends with the pipeline's own promise: every contact scored and shown in HubSpot exactly
//! as stored, and a ledger that tells what happened.

use std::time::Duration;

use conturs_tests::Backend;
use conturs_tests::TestRedis;
use conturs_tests::pipeline::{Pipeline, QueueKind};
use conturs_tests::processes::{DynoProcess, RedisServer};
use entity::{JobStatus, JobType, ObjectType, companies, contacts, deals, job_runs, sync_cursors};
use jobs::EnqueueOptions;
use jobs::payload::InitialSync;
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};

const CONTACTS: usize = 5_000;
const SETTLE: Duration = Duration::from_secs(240);
const WORKER: &str = env!("CARGO_BIN_EXE_conturs-test-worker");

async fn start(redis: Option<TestRedis>) -> Pipeline {
    Pipeline::start_with(Backend::Postgres, QueueKind::Redis, CONTACTS, 5, redis)
        .await
        .expect("pipeline")
}

fn spawn_worker(p: &Pipeline) -> DynoProcess {
    DynoProcess::spawn(std::path::Path::new(WORKER), &p.worker_env()).expect("start worker")
}

async fn enqueue_sync(p: &Pipeline) -> uuid::Uuid {
    let portal_id = p.portal_id;
    p.queue
        .enqueue(
            |run_id| InitialSync { run_id, portal_id },
            EnqueueOptions::default(),
        )
        .await
        .expect("enqueue")
        .run_id
}

/// Waits until the contacts cursor has saved at least `records` contacts; returns the count.
async fn contacts_checkpointed(p: &Pipeline, records: i64, worker: &DynoProcess) -> i64 {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(120);
    loop {
        let cursor = sync_cursors::Entity::find_by_id((p.portal_id, ObjectType::Contacts))
            .one(&p.db.conn)
            .await
            .expect("cursor");
        if let Some(cursor) = cursor {
            assert!(
                !cursor.completed,
                "the sync finished before the test could interrupt it"
            );
            if cursor.records_done >= records {
                return cursor.records_done;
            }
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the sync never reached {records} contacts; worker log:\n{}",
            worker.log()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// List-page requests the simulator served (companies, contacts and deals).
fn list_requests(p: &Pipeline) -> u64 {
    p.sim
        .stats()
        .portals
        .values()
        .flat_map(|portal| portal.requests_by_endpoint.iter())
        .filter(|(route, _)| {
            route.starts_with("GET ") && route.contains("/objects") && route.ends_with("/{object}")
        })
        .map(|(_, count)| *count)
        .sum()
}

/// The pages an uninterrupted sync needs for what was stored (100 records per page).
async fn pages_needed(p: &Pipeline) -> u64 {
    let db = &p.db.conn;
    let portal = p.portal_id;
    let counts = [
        companies::Entity::find()
            .filter(companies::Column::PortalId.eq(portal))
            .count(db)
            .await
            .expect("count"),
        contacts::Entity::find()
            .filter(contacts::Column::PortalId.eq(portal))
            .count(db)
            .await
            .expect("count"),
        deals::Entity::find()
            .filter(deals::Column::PortalId.eq(portal))
            .count(db)
            .await
            .expect("count"),
    ];
    counts.iter().map(|n| n.div_ceil(100).max(1)).sum()
}

async fn sync_run(p: &Pipeline, run_id: uuid::Uuid) -> job_runs::Model {
    p.queue.ledger().get(run_id).await.expect("sync run")
}

async fn event_kinds(p: &Pipeline, run_id: uuid::Uuid) -> Vec<String> {
    p.queue
        .ledger()
        .timeline(run_id)
        .await
        .expect("timeline")
        .into_iter()
        .map(|e| e.kind)
        .collect()
}

/// Every run succeeded, and HubSpot shows every contact's score. Returns the list pages the
/// sync used (counted before the check reads every contact back).
async fn assert_completed(p: &Pipeline, worker: &DynoProcess) -> u64 {
    let runs = p.settle(3, SETTLE).await;
    for run in &runs {
        assert_eq!(
            run.status,
            JobStatus::Succeeded,
            "{:?}: {:?}; worker log:\n{}",
            run.job_type,
            run.last_error,
            worker.log()
        );
    }
    assert!(runs.iter().any(|r| r.job_type == JobType::WriteBack));
    let list_pages = list_requests(p);
    p.assert_written_back(CONTACTS).await;
    list_pages
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn kill_9_mid_initial_sync_resumes_on_another_worker_with_nothing_missing() {
    let p = start(None).await;
    let run_id = enqueue_sync(&p).await;
    let mut first = spawn_worker(&p);
    let saved = contacts_checkpointed(&p, 1_500, &first).await;
    first.kill9();

    let second = spawn_worker(&p);
    let used = assert_completed(&p, &second).await;

    let sync = sync_run(&p, run_id).await;
    assert_eq!(
        sync.attempts, 2,
        "the killed attempt counts, the second finished"
    );
    let kinds = event_kinds(&p, run_id).await;
    assert_eq!(
        kinds.iter().filter(|k| *k == "started").count(),
        2,
        "{kinds:?}"
    );
    // Resumed from the checkpoint: at most the page in flight at the kill was read twice,
    // where starting over would have re-read every saved page.
    let needed = pages_needed(&p).await;
    assert!(
        used <= needed + 1,
        "{used} list pages for {needed} needed: the sync started over \
         instead of resuming at {saved} contacts"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sigterm_mid_initial_sync_exits_in_time_and_the_next_worker_resumes() {
    let p = start(None).await;
    let run_id = enqueue_sync(&p).await;
    let mut first = spawn_worker(&p);
    contacts_checkpointed(&p, 1_500, &first).await;
    first.terminate().expect("SIGTERM");
    let exit = first.wait_exit(Duration::from_secs(25)).await;
    let log = first.log();
    let status = exit.unwrap_or_else(|| panic!("no exit within 25 s of SIGTERM; log:\n{log}"));
    assert!(status.success(), "{status}; log:\n{log}");

    let stopped = sync_run(&p, run_id).await;
    assert_eq!(stopped.status, JobStatus::Queued, "back on the queue");
    assert_eq!(
        stopped.attempts, 0,
        "an interruption is not a failed attempt"
    );
    let saved = sync_cursors::Entity::find_by_id((p.portal_id, ObjectType::Contacts))
        .one(&p.db.conn)
        .await
        .expect("cursor")
        .expect("saved")
        .records_done;

    let second = spawn_worker(&p);
    let used = assert_completed(&p, &second).await;
    let sync = sync_run(&p, run_id).await;
    assert_eq!(sync.attempts, 1, "finished on its first counted attempt");
    let kinds = event_kinds(&p, run_id).await;
    assert!(kinds.contains(&"interrupted".to_owned()), "{kinds:?}");
    let needed = pages_needed(&p).await;
    assert!(
        used <= needed + 1,
        "{used} list pages for {needed} needed: not resumed from {saved} contacts"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn redis_restarting_empty_mid_run_loses_no_work() {
    let mut redis = RedisServer::start().await.expect("redis-server");
    let p = start(Some(TestRedis::at(redis.url()))).await;
    enqueue_sync(&p).await;
    let worker = spawn_worker(&p);

    // Wait until write-back batches sit in the queue, then lose them.
    let deadline = tokio::time::Instant::now() + SETTLE;
    loop {
        let waiting = job_runs::Entity::find()
            .filter(job_runs::Column::PortalId.eq(p.portal_id))
            .filter(job_runs::Column::JobType.eq(JobType::WriteBack))
            .filter(job_runs::Column::Status.eq(JobStatus::Queued))
            .count(&p.db.conn)
            .await
            .expect("count");
        if waiting >= 2 {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "no write-back was ever waiting; worker log:\n{}",
            worker.log()
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    redis.restart_empty().await.expect("restart redis");

    assert_completed(&p, &worker).await;
    let requeued = jobs_requeued_after_loss(&p).await;
    assert!(
        requeued > 0,
        "the reconciler must have put lost work back; worker log:\n{}",
        worker.log()
    );
}

/// Runs whose timeline says the reconciler restored them after the queue lost its data.
async fn jobs_requeued_after_loss(p: &Pipeline) -> usize {
    entity::job_events::Entity::find()
        .filter(entity::job_events::Column::PortalId.eq(p.portal_id))
        .filter(entity::job_events::Column::Kind.eq("requeued"))
        .all(&p.db.conn)
        .await
        .expect("events")
        .iter()
        .filter(|e| e.message.contains("lost its data"))
        .count()
}
