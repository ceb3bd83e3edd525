//! `conturs bench queue`: no-op jobs through the real stack — ledger outbox, bulk push to
//! Redis, apalis worker with the ledger layer — then, with `--bare`, through a plain apalis
//! worker on the same Redis.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::Context as _;
use apalis::prelude::Monitor;
use entity::{JobStatus, Lane, job_runs};
use jobs::payload::Noop;
use jobs::runtime::{WorkerOptions, register};
use jobs::{Ledger, Queue, QueueBackend, QueueSettings};
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};

use super::report::{Measured, Report};
use super::setup::{LedgerDb, bench_portal, redis_url};
use super::watch::until_handled;
use super::{QueueArgs, bare, cleanup};

/// How long a stopping worker may take to finish in-flight no-ops.
const STOP_GRACE: Duration = Duration::from_secs(10);

pub async fn run(args: &QueueArgs) -> anyhow::Result<()> {
    let redis_url = redis_url()?;
    let db = LedgerDb::open().await?;
    let namespace = format!("conturs-bench-{}", uuid::Uuid::new_v4().simple());
    let portal_id = bench_portal(&db.conn).await?;

    let ours = measure_ours(args, &redis_url, &db, &namespace, portal_id).await;
    let bare = match (&ours, args.bare) {
        (Ok(_), true) => Some(bare::measure(args, &redis_url, &namespace).await),
        _ => None,
    };

    // Clean up whatever happened, then report the first failure.
    let keys = cleanup::delete_namespace(&redis_url, &namespace).await;
    let rows = cleanup::delete_portal(&db.conn, portal_id).await;
    let ours = ours?;
    let bare = bare.transpose()?;
    keys.context("deleting the benchmark's Redis keys")?;
    rows.context("deleting the benchmark's ledger rows")?;

    let report = Report {
        jobs: args.jobs,
        namespace,
        concurrency: args.concurrency,
        database: db.kind_name(),
        ours,
        bare,
    };
    if args.json {
        println!("{}", serde_json::to_string(&report.to_json())?);
    } else {
        print!("{}", report.to_text());
    }
    Ok(())
}

async fn measure_ours(
    args: &QueueArgs,
    redis_url: &str,
    db: &LedgerDb,
    namespace: &str,
    portal_id: i64,
) -> anyhow::Result<Measured> {
    let backend = QueueBackend::redis(redis_url)
        .await
        .context("connecting to REDIS_URL")?;
    let queue = Queue::new(
        backend,
        QueueSettings {
            namespace: namespace.to_owned(),
            ..QueueSettings::default()
        },
        Ledger::new(db.conn.clone()),
    );
    let jobs: Vec<Noop> = (0..args.jobs)
        .map(|_| Noop {
            run_id: uuid::Uuid::now_v7(),
            portal_id,
        })
        .collect();

    let started = Instant::now();
    jobs::bulk::enqueue_many(&queue, &jobs)
        .await
        .context("enqueueing the no-op jobs")?;
    let enqueue = started.elapsed();
    drop(jobs);

    let handled = Arc::new(AtomicU64::new(0));
    let counter = handled.clone();
    let restarts = Arc::new(AtomicU64::new(0));
    let restarted = restarts.clone();
    // Restart a worker that dies, as the real worker process does (`conturs-worker`).
    let monitor = Monitor::new().should_restart(move |_, _| {
        restarted.fetch_add(1, Ordering::Relaxed);
        true
    });
    let monitor = register(
        monitor,
        &queue,
        WorkerOptions {
            name: format!(
                "bench-{}-{}",
                std::process::id(),
                uuid::Uuid::new_v4().simple()
            ),
            concurrency: args.concurrency as usize,
            lane: Lane::Bulk,
        },
        move |_job: Noop, _progress| {
            let counter = counter.clone();
            async move {
                counter.fetch_add(1, Ordering::Relaxed);
                Ok::<(), jobs::JobError>(())
            }
        },
    );
    let started = Instant::now();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let workers = tokio::spawn(monitor.run_with_signal(async move {
        let _ = stopped.await;
        Ok(())
    }));
    let drained = wait_drained(&db.conn, portal_id, args.jobs, &handled, args.timeout()).await;
    let process = started.elapsed();
    let _ = stop.send(());
    let _ = tokio::time::timeout(STOP_GRACE, workers).await;
    drained?;
    Ok(Measured::new(args.jobs, enqueue, process).with_restarts(restarts.load(Ordering::Relaxed)))
}

/// Waits until the handler has seen every job and the ledger shows each run finished; fails on
/// a run that did not succeed or at the timeout. The ledger is only read near the end, so the
/// polling does not compete with the workers for the database.
async fn wait_drained(
    db: &sea_orm::DatabaseConnection,
    portal_id: i64,
    jobs: u64,
    handled: &AtomicU64,
    timeout: Duration,
) -> anyhow::Result<()> {
    until_handled("Conturs stack", handled, jobs, timeout).await?;
    let deadline = Instant::now() + super::watch::STALL;
    loop {
        anyhow::ensure!(
            Instant::now() < deadline,
            "the handler ran every no-op job, but the ledger did not record them all as finished"
        );
        let runs = job_runs::Entity::find().filter(job_runs::Column::PortalId.eq(portal_id));
        let finished = runs
            .clone()
            .filter(job_runs::Column::FinishedAt.is_not_null())
            .count(db)
            .await?;
        if finished >= jobs {
            let succeeded = runs
                .filter(job_runs::Column::Status.eq(JobStatus::Succeeded))
                .count(db)
                .await?;
            anyhow::ensure!(
                succeeded == jobs,
                "{} of {jobs} no-op runs did not succeed (see the ledger)",
                jobs - succeeded
            );
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
