//! Pipeline benchmark: InitialSync and the whole connect → written-back pipeline on simulated
//! portals under HubSpot's real limits (110 requests / 10 s), against the request-budget floor.
//!
//! `cargo bench -p conturs-tests --bench pipeline [-- 1000 10000 100000] [sqlite|postgres]`
//! prints a table and writes it to `tests/BENCHMARKS-pipeline.md` (`sqlite` or `postgres` runs
//! one backend only). Needs Postgres and Redis like the tests (`scripts/services.sh`).

use std::fmt::Write as _;
use std::time::{Duration, Instant};

use apalis::prelude::Monitor;
use conturs_tests::Backend;
use conturs_tests::pipeline::{Pipeline, QueueKind};
use conturs_tests::processes::ProcessUsage;
use entity::{JobStatus, JobType, job_runs, scores};
use jobs::EnqueueOptions;
use jobs::handlers::register_all;
use jobs::payload::InitialSync;
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};

/// HubSpot's OAuth-app limit: 110 requests per 10 s.
const ALLOWED_PER_SECOND: f64 = 11.0;

struct Row {
    contacts: usize,
    queue: &'static str,
    sync_s: f64,
    sync_requests: u64,
    total_s: f64,
    total_requests: u64,
    responses_429: u64,
    written: u64,
    peak_rss_mib: f64,
    /// RSS once the simulator holds its portal and nothing else runs yet.
    base_rss_mib: f64,
}

async fn run(contacts: usize, backend: Backend, queue: QueueKind) -> anyhow::Result<Row> {
    let p = Pipeline::start(backend, queue, contacts, 42).await?;
    // The simulator runs in this process: its portal is the baseline; the peak above it is the
    // worker side (handlers, queue, database client) plus the simulator serving requests.
    let base_rss_mib = ProcessUsage::of("self").map_or(f64::NAN, |u| u.rss_mib);
    let peak_reset = ProcessUsage::reset_peak("self");
    let monitor = register_all(Monitor::new(), &p.queue, &p.deps, "bench", 8);
    let workers = tokio::spawn(async move {
        let _ = monitor.run().await;
    });
    let portal_id = p.portal_id;
    let started = Instant::now();
    let sync = p
        .queue
        .enqueue(
            |run_id| InitialSync { run_id, portal_id },
            EnqueueOptions::default(),
        )
        .await?;
    let mut sync_s = None;
    let mut sync_requests = 0;
    let deadline = Instant::now() + Duration::from_secs(3_600);
    loop {
        let runs = job_runs::Entity::find()
            .filter(job_runs::Column::PortalId.eq(portal_id))
            .all(&p.db.conn)
            .await?;
        if sync_s.is_none()
            && runs
                .iter()
                .any(|r| r.id == sync.run_id && r.status == JobStatus::Succeeded)
        {
            sync_s = Some(started.elapsed().as_secs_f64());
            sync_requests = p.sim.stats().portals.values().map(|s| s.requests).sum();
        }
        // TrainModel queues the write-backs before it finishes, so once it and everything
        // else are finished, the pipeline is done (small portals may have too few customers
        // for a model: then there is nothing to write).
        let finished = runs.iter().all(|r| r.status.is_terminal())
            && runs.iter().any(|r| r.job_type == JobType::TrainModel);
        if finished {
            anyhow::ensure!(
                runs.iter().all(|r| r.status == JobStatus::Succeeded),
                "a job did not succeed: {:?}",
                runs.iter()
                    .map(|r| (r.job_type, r.status, r.last_error.clone()))
                    .collect::<Vec<_>>()
            );
            break;
        }
        anyhow::ensure!(
            Instant::now() < deadline,
            "pipeline did not finish in an hour"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let total_s = started.elapsed().as_secs_f64();
    let stats = p.sim.stats();
    let written = scores::Entity::find()
        .filter(scores::Column::PortalId.eq(portal_id))
        .filter(scores::Column::WrittenAt.is_not_null())
        .count(&p.db.conn)
        .await?;
    workers.abort();
    Ok(Row {
        contacts,
        queue: match queue {
            QueueKind::EmbeddedSqlite => "SQLite + embedded queue",
            QueueKind::Redis => "Postgres + Redis",
        },
        sync_s: sync_s.unwrap_or(f64::NAN),
        sync_requests,
        total_s,
        total_requests: stats.portals.values().map(|s| s.requests).sum(),
        responses_429: stats.portals.values().map(|s| s.rate_limited).sum(),
        written,
        peak_rss_mib: match ProcessUsage::of("self") {
            Some(usage) if peak_reset => usage.peak_rss_mib,
            _ => f64::NAN,
        },
        base_rss_mib,
    })
}

#[tokio::main(flavor = "multi_thread")]
async fn main() -> anyhow::Result<()> {
    let sizes: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    // `postgres` or `sqlite` among the arguments runs only that backend.
    let only: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a == "postgres" || a == "sqlite")
        .collect();
    let sizes = if sizes.is_empty() {
        vec![1_000, 10_000]
    } else {
        sizes
    };
    let mut rows = Vec::new();
    for &contacts in &sizes {
        for (backend, queue) in [
            (Backend::Sqlite, QueueKind::EmbeddedSqlite),
            (Backend::Postgres, QueueKind::Redis),
        ] {
            let name = if backend == Backend::Sqlite {
                "sqlite"
            } else {
                "postgres"
            };
            if !only.is_empty() && !only.iter().any(|o| o == name) {
                continue;
            }
            let row = run(contacts, backend, queue).await?;
            println!(
                "{} contacts on {}: sync {:.2} s ({} requests, floor {:.2} s, ratio {:.3}); pipeline {:.2} s ({} requests, floor {:.2} s, ratio {:.3}); 429s {}; written back {}",
                row.contacts,
                row.queue,
                row.sync_s,
                row.sync_requests,
                row.sync_requests as f64 / ALLOWED_PER_SECOND,
                row.sync_s / (row.sync_requests as f64 / ALLOWED_PER_SECOND),
                row.total_s,
                row.total_requests,
                row.total_requests as f64 / ALLOWED_PER_SECOND,
                row.total_s / (row.total_requests as f64 / ALLOWED_PER_SECOND),
                row.responses_429,
                row.written
            );
            conturs_tests::bench::record_figures(
                "pipeline",
                &format!("{} contacts, {}", row.contacts, row.queue),
                serde_json::json!({
                    "sync_s": row.sync_s,
                    "sync_requests": row.sync_requests,
                    "sync_ratio_to_floor": row.sync_s / (row.sync_requests as f64 / ALLOWED_PER_SECOND),
                    "requests_per_10k_contacts": row.sync_requests as f64 * 10_000.0 / row.contacts as f64,
                    "pipeline_s": row.total_s,
                    "pipeline_ratio_to_floor": row.total_s / (row.total_requests as f64 / ALLOWED_PER_SECOND),
                    "responses_429": row.responses_429,
                    "written_back": row.written,
                    "peak_rss_mib": row.peak_rss_mib,
                    "worker_side_rss_mib": row.peak_rss_mib - row.base_rss_mib,
                }),
            )?;
            rows.push(row);
        }
    }
    let mut out = String::from(
        "# Pipeline benchmark\n\nWritten by `cargo bench -p conturs-tests --bench pipeline` (do not edit by hand).\n\
         Simulated portals (seed 42) under HubSpot's real limit of 110 requests per rolling 10 s;\n\
         floor = requests ÷ 11 per second. *Sync* is InitialSync alone (properties, companies,\n\
         contacts with associations, deals); *pipeline* runs on to the last WriteBack (a 1,000-contact\n\
         portal has too few closed-won customers for a model, so nothing is written back). Release\n\
         build (`cargo bench`); simulator, database and workers share the 2 cores (with other\n\
         people's builds on this machine). Memory: the simulator runs in this process, so *RSS at\n\
         start* is the process once the simulator holds its portal (plus what earlier runs left\n\
         allocated); the peak is then reset (`/proc/self/clear_refs`) and *peak RSS* is the highest\n\
         RSS during the run; *peak − start* is the worker side (handlers, queue, database client)\n\
         plus the simulator's request handling.\n\n\
         | contacts | backend | sync (s) | sync requests | sync ratio to floor | pipeline (s) | pipeline requests | pipeline ratio to floor | 429s | written back | RSS at start (MiB) | peak RSS (MiB) | peak − start (MiB) |\n\
         |---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n",
    );
    for r in &rows {
        let _ = writeln!(
            out,
            "| {} | {} | {:.2} | {} | {:.3} | {:.2} | {} | {:.3} | {} | {} | {:.0} | {:.0} | {:.0} |",
            r.contacts,
            r.queue,
            r.sync_s,
            r.sync_requests,
            r.sync_s / (r.sync_requests as f64 / ALLOWED_PER_SECOND),
            r.total_s,
            r.total_requests,
            r.total_s / (r.total_requests as f64 / ALLOWED_PER_SECOND),
            r.responses_429,
            r.written,
            r.base_rss_mib,
            r.peak_rss_mib,
            r.peak_rss_mib - r.base_rss_mib
        );
    }
    let path = conturs_tests::bench::report_path(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/BENCHMARKS-pipeline.md"
    ));
    std::fs::write(&path, out)?;
    println!("wrote {}", path.display());
    Ok(())
}
