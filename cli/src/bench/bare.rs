//! The comparison: the same number of no-op tasks pushed in the same batches and drained by a
//! plain apalis-redis worker (our vendored, patched apalis-redis) with no ledger and no layer.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::Context as _;
use apalis::prelude::*;
use apalis_redis::RedisStorage;
use serde::{Deserialize, Serialize};

use super::QueueArgs;
use super::report::Measured;
use super::watch::until_handled;

/// Tasks per push, as in `jobs::bulk`.
const BATCH: u64 = jobs::bulk::BATCH as u64;

/// A task that does nothing.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct BareNoop {
    n: u64,
}

pub async fn measure(
    args: &QueueArgs,
    redis_url: &str,
    namespace: &str,
) -> anyhow::Result<Measured> {
    let conn = apalis_redis::connect(redis_url)
        .await
        .context("connecting to REDIS_URL")?;
    // Same queue settings as ours (jobs::QueueSettings::default()): heartbeat, poll interval.
    let settings = jobs::QueueSettings::default();
    let config = apalis_redis::Config::default()
        .queue(format!("{namespace}:bare"))
        .heartbeat_interval(settings.heartbeat)
        .missed_heartbeats(settings.missed_heartbeats);
    let storage = RedisStorage::<BareNoop>::new(conn).with_config(config);

    let started = Instant::now();
    let mut sink = storage.clone();
    let mut n = 0;
    while n < args.jobs {
        let end = (n + BATCH).min(args.jobs);
        let tasks: Vec<_> = (n..end)
            .map(|n| TaskBuilder::new(BareNoop { n }).build())
            .collect();
        sink.push_all(futures::stream::iter(tasks))
            .await
            .map_err(|e| anyhow::anyhow!("pushing bare tasks: {e}"))?;
        n = end;
    }
    let enqueue = started.elapsed();

    let handled = Arc::new(AtomicU64::new(0));
    let counter = handled.clone();
    let poll = settings.poll_interval;
    let concurrency = args.concurrency as usize;
    let name = format!(
        "bench-bare-{}-{}",
        std::process::id(),
        uuid::Uuid::new_v4().simple()
    );
    let restarts = Arc::new(AtomicU64::new(0));
    let restarted = restarts.clone();
    // Restart a worker that dies, as the real worker process does (`conturs-worker`).
    let monitor = Monitor::new()
        .should_restart(move |_, _| {
            restarted.fetch_add(1, Ordering::Relaxed);
            true
        })
        .register(move |restart| {
            let counter = counter.clone();
            // A new name per start, so the backend hands the dead worker's tasks to the new one.
            WorkerBuilder::new(format!("{name}:r{restart}"))
                .backend(storage.clone().poll_with_interval(poll))
                .concurrency(concurrency)
                .build(move |_task: BareNoop| {
                    let counter = counter.clone();
                    async move {
                        counter.fetch_add(1, Ordering::Relaxed);
                    }
                })
        });
    let started = Instant::now();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let workers = tokio::spawn(monitor.run_with_signal(async move {
        let _ = stopped.await;
        Ok(())
    }));
    let drained = until_handled("bare apalis-redis", &handled, args.jobs, args.timeout()).await;
    let process = started.elapsed();
    let _ = stop.send(());
    let _ = tokio::time::timeout(Duration::from_secs(10), workers).await;
    drained?;
    Ok(Measured::new(args.jobs, enqueue, process).with_restarts(restarts.load(Ordering::Relaxed)))
}
