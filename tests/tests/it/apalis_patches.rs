//! Regression tests for the fixes in the vendored apalis-redis
//! (`vendor/apalis-redis/PATCHES.md`), each against real Redis with the raw apalis API.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use apalis::prelude::*;
use apalis_redis::{Config, RedisStorage};
use conturs_tests::TestRedis;
use conturs_tests::processes::RedisServer;

async fn storage(redis: &TestRedis, queue: &str, config: Config) -> RedisStorage<u32> {
    let conn = apalis_redis::connect(redis.url.as_str())
        .await
        .expect("redis");
    RedisStorage::new(conn).with_config(config.queue(format!("{}:{queue}", redis.namespace)))
}

/// Runs a counting worker on `storage` in the background; `fail` makes every run fail.
fn count_runs(
    storage: RedisStorage<u32>,
    fail: bool,
) -> (Arc<AtomicUsize>, tokio::task::JoinHandle<()>) {
    let runs = Arc::new(AtomicUsize::new(0));
    let counter = runs.clone();
    let worker = WorkerBuilder::new(format!("patch-test-{}", uuid::Uuid::new_v4().simple()))
        .backend(storage.poll_with_interval(Duration::from_millis(20)))
        .concurrency(64)
        .build(move |_job: u32| {
            let counter = counter.clone();
            async move {
                counter.fetch_add(1, Ordering::SeqCst);
                if fail {
                    Err(std::io::Error::other("always fails"))
                } else {
                    Ok(())
                }
            }
        });
    let handle = tokio::spawn(async move {
        let _ = worker.run().await;
    });
    (runs, handle)
}

async fn wait_for(runs: &AtomicUsize, wanted: usize, timeout: Duration) {
    let deadline = tokio::time::Instant::now() + timeout;
    while runs.load(Ordering::SeqCst) < wanted {
        assert!(
            tokio::time::Instant::now() < deadline,
            "only {} of {wanted} runs after {timeout:?}",
            runs.load(Ordering::SeqCst)
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Upstream's fetch promoted every due task with one `unpack` and died above ~8,000.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backlog_of_100_000_due_tasks_drains() {
    let redis = TestRedis::new();
    let mut backlog = storage(&redis, "backlog", Config::default().batch_size(100)).await;
    const TASKS: usize = 100_000;
    for chunk in (0..TASKS as u32).collect::<Vec<_>>().chunks(5_000) {
        backlog.push_bulk(chunk.to_vec()).await.expect("push");
    }
    let (runs, worker) = count_runs(backlog, false);
    wait_for(&runs, TASKS, Duration::from_secs(600)).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(runs.load(Ordering::SeqCst), TASKS, "each task runs once");
    worker.abort();
}

/// Upstream leased each fetched task with an `LREM` over the whole active list, so every task of
/// a backlog cost a scan of the backlog. On a private server (its command statistics are ours
/// alone), running part of a 20,000-task backlog must not issue a single `LREM`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn leasing_a_task_does_not_scan_the_backlog() {
    let server = RedisServer::start().await.expect("private redis-server");
    let redis = TestRedis::at(server.url());
    let mut backlog = storage(&redis, "lease", Config::default()).await;
    for chunk in (0..20_000u32).collect::<Vec<_>>().chunks(5_000) {
        backlog.push_bulk(chunk.to_vec()).await.expect("push");
    }
    let (runs, worker) = count_runs(backlog, false);
    wait_for(&runs, 2_000, Duration::from_secs(120)).await;
    worker.abort();
    let client = redis::Client::open(server.url()).expect("client");
    let mut conn = client
        .get_multiplexed_async_connection()
        .await
        .expect("connection");
    let stats: String = redis::cmd("INFO")
        .arg("commandstats")
        .query_async(&mut conn)
        .await
        .expect("INFO");
    assert!(
        stats.contains("cmdstat_evalsha") || stats.contains("cmdstat_eval:"),
        "the worker ran its scripts here: {stats}"
    );
    assert!(
        !stats.contains("cmdstat_lrem"),
        "a lease scanned the active list: {stats}"
    );
}

/// Upstream retried every failure until attempt 25, whatever the task's max_attempts.
#[tokio::test]
async fn a_failing_task_stops_at_its_max_attempts() {
    let redis = TestRedis::new();
    let mut failing = storage(&redis, "failing", Config::default()).await;
    failing
        .push_task(TaskBuilder::new(7u32).max_attempts(2).build())
        .await
        .expect("push");
    let (runs, worker) = count_runs(failing, true);
    wait_for(&runs, 2, Duration::from_secs(90)).await;
    // A third run would come 2 s after the second; none does.
    tokio::time::sleep(Duration::from_secs(6)).await;
    assert_eq!(
        runs.load(Ordering::SeqCst),
        2,
        "ran exactly max_attempts times"
    );
    worker.abort();
}

/// Upstream sent `EXPIRE key 0` when no TTL was configured, deleting the idempotency key at
/// once, so a duplicate was accepted.
#[tokio::test]
async fn an_idempotency_key_without_ttl_blocks_duplicates() {
    let redis = TestRedis::new();
    let mut unique = storage(&redis, "unique", Config::default().idempotency_ttl(None)).await;
    for _ in 0..3 {
        unique
            .push_task(
                TaskBuilder::new(1u32)
                    .idempotency_key("portal-1:contact-9")
                    .build(),
            )
            .await
            .expect("push");
    }
    let (runs, worker) = count_runs(unique, false);
    wait_for(&runs, 1, Duration::from_secs(90)).await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(runs.load(Ordering::SeqCst), 1, "duplicates were folded");
    worker.abort();
}
