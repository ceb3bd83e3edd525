//! Dyno benchmark: each dyno's own peak memory and CPU time while a portal goes through its whole
//! pipeline, with the web and worker dynos as separate processes, as on Heroku.
//!
//! `cargo bench -p conturs-tests --bench dynos [-- 100000 …] [sqlite|postgres]` starts the real
//! `conturs-api` and `conturs-worker` code (built in this package as `conturs-test-api` and
//! `conturs-test-worker`) as child processes over one database and queue, queues the portal's
//! InitialSync through the API's HTTP endpoint, watches the job over the API as an operator's
//! `conturs jobs watch` would (and scrapes `/metrics` like Prometheus), and samples every
//! process' `/proc` until the last WriteBack. The simulator runs in this process, so its memory
//! is not in either figure. Writes `tests/BENCHMARKS-dynos.md`.

use std::fmt::Write as _;
use std::time::{Duration, Instant};

use conturs_tests::Backend;
use conturs_tests::app::ADMIN_TOKEN;
use conturs_tests::bench::{bulk_pipeline_done, load_average, portal_runs, record_figures};
use conturs_tests::pipeline::{Pipeline, QueueKind};
use conturs_tests::processes::{DynoProcess, ProcessUsage};
use entity::JobStatus;

const API: &str = env!("CARGO_BIN_EXE_conturs-test-api");
const WORKER: &str = env!("CARGO_BIN_EXE_conturs-test-worker");
/// How often each process' `/proc` is read.
const SAMPLE_EVERY: Duration = Duration::from_millis(250);
/// How often the API is asked for the job and the portal (as `conturs jobs watch` does).
const WATCH_EVERY: Duration = Duration::from_millis(500);
/// How often `/metrics` is scraped.
const SCRAPE_EVERY: Duration = Duration::from_secs(15);

/// One dyno's figures over a run.
#[derive(Debug, Clone, Copy, Default)]
struct DynoFigures {
    /// RSS once started and idle, before the sync is queued.
    idle_mib: f64,
    /// Highest RSS the kernel saw (`VmHWM`, the process is fresh so nothing earlier counts).
    peak_mib: f64,
    /// RSS when the pipeline was over.
    end_mib: f64,
    /// CPU time used from the sync being queued to the pipeline's end.
    cpu_s: f64,
}

struct Row {
    contacts: usize,
    backend: &'static str,
    pipeline_s: f64,
    written: u64,
    api_requests: u64,
    api: DynoFigures,
    worker: DynoFigures,
}

/// Reads a dyno's `/proc`, failing with its log when it has died.
fn usage(dyno: &DynoProcess, name: &str) -> anyhow::Result<ProcessUsage> {
    dyno.usage()
        .ok_or_else(|| anyhow::anyhow!("the {name} process is gone; its log:\n{}", dyno.log()))
}

async fn run(contacts: usize, backend: Backend) -> anyhow::Result<Row> {
    let queue = match backend {
        Backend::Sqlite => QueueKind::EmbeddedSqlite,
        Backend::Postgres => QueueKind::Redis,
    };
    let p = Pipeline::start(backend, queue, contacts, 42).await?;
    let port = std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port();
    let url = format!("http://127.0.0.1:{port}");
    // The dynos' defaults (worker concurrency 8), not the tests' smaller pool.
    let mut env: Vec<(&'static str, String)> = p
        .worker_env()
        .into_iter()
        .filter(|(name, _)| !matches!(*name, "CONTURS_WORKER_CONCURRENCY" | "RUST_LOG"))
        .collect();
    env.push(("RUST_LOG", "warn".to_owned()));
    env.push(("CONTURS_ADMIN_TOKEN", ADMIN_TOKEN.to_owned()));
    env.push(("CONTURS_PUBLIC_URL", url.clone()));
    let mut api_env = env.clone();
    api_env.push(("PORT", port.to_string()));
    let api = DynoProcess::spawn(std::path::Path::new(API), &api_env)?;
    let worker = DynoProcess::spawn(std::path::Path::new(WORKER), &env)?;
    let http = reqwest::Client::new();
    api.wait_healthy(&url, Duration::from_secs(30)).await?;
    // Let the worker connect and settle before its idle figure is read.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let api_idle = usage(&api, "api")?;
    let worker_idle = usage(&worker, "worker")?;

    let started = Instant::now();
    let created = http
        .post(format!("{url}/api/jobs"))
        .bearer_auth(ADMIN_TOKEN)
        .json(&serde_json::json!({"type": "initial_sync", "portal_id": p.portal_id}))
        .send()
        .await?;
    anyhow::ensure!(
        created.status() == reqwest::StatusCode::ACCEPTED,
        "POST /api/jobs answered {}: {}",
        created.status(),
        created.text().await.unwrap_or_default()
    );
    let sync: serde_json::Value = created.json().await?;
    let sync_id = sync["id"]
        .as_str()
        .map(str::to_owned)
        .or_else(|| sync["id"].as_i64().map(|id| id.to_string()))
        .ok_or_else(|| anyhow::anyhow!("no id in the created job: {sync}"))?;

    let mut api_requests = 1u64;
    let mut next_watch = Instant::now();
    let mut next_scrape = Instant::now();
    let deadline = Instant::now() + Duration::from_secs(3_600);
    loop {
        usage(&api, "api")?;
        usage(&worker, "worker")?;
        if Instant::now() >= next_watch {
            for path in [
                format!("/api/jobs/{sync_id}"),
                format!("/api/portals/{}", p.portal_id),
            ] {
                let answer = http
                    .get(format!("{url}{path}"))
                    .bearer_auth(ADMIN_TOKEN)
                    .send()
                    .await?;
                anyhow::ensure!(
                    answer.status().is_success(),
                    "GET {path}: {}",
                    answer.status()
                );
                api_requests += 1;
            }
            next_watch += WATCH_EVERY;
        }
        if Instant::now() >= next_scrape {
            let answer = http
                .get(format!("{url}/metrics"))
                .bearer_auth(ADMIN_TOKEN)
                .send()
                .await?;
            anyhow::ensure!(
                answer.status().is_success(),
                "GET /metrics: {}",
                answer.status()
            );
            api_requests += 1;
            next_scrape += SCRAPE_EVERY;
        }
        let runs = portal_runs(&p.db.conn, p.portal_id).await?;
        if bulk_pipeline_done(&runs) {
            anyhow::ensure!(
                runs.iter().all(|r| r.status == JobStatus::Succeeded),
                "a job did not succeed: {:?}\nworker log:\n{}",
                runs.iter()
                    .filter(|r| r.status != JobStatus::Succeeded)
                    .map(|r| (r.job_type, r.status, r.last_error.clone()))
                    .collect::<Vec<_>>(),
                worker.log()
            );
            break;
        }
        anyhow::ensure!(
            Instant::now() < deadline,
            "the pipeline did not finish in an hour"
        );
        tokio::time::sleep(SAMPLE_EVERY).await;
    }
    let pipeline_s = started.elapsed().as_secs_f64();
    let api_end = usage(&api, "api")?;
    let worker_end = usage(&worker, "worker")?;
    // Every scorable contact's score, grade and explanation is what HubSpot now shows.
    let written = p.assert_written_back(contacts).await as u64;
    let figures = |idle: ProcessUsage, end: ProcessUsage| DynoFigures {
        idle_mib: idle.rss_mib,
        peak_mib: end.peak_rss_mib,
        end_mib: end.rss_mib,
        cpu_s: end.cpu_s - idle.cpu_s,
    };
    Ok(Row {
        contacts,
        backend: match backend {
            Backend::Sqlite => "SQLite + embedded queue",
            Backend::Postgres => "Postgres + Redis",
        },
        pipeline_s,
        written,
        api_requests,
        api: figures(api_idle, api_end),
        worker: figures(worker_idle, worker_end),
    })
}

#[tokio::main(flavor = "multi_thread")]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut sizes: Vec<usize> = args.iter().filter_map(|a| a.parse().ok()).collect();
    if sizes.is_empty() {
        sizes = vec![100_000];
    }
    let only: Vec<&str> = args
        .iter()
        .map(String::as_str)
        .filter(|a| *a == "postgres" || *a == "sqlite")
        .collect();
    let load_at_start = load_average();
    let mut rows = Vec::new();
    for &contacts in &sizes {
        for (backend, name) in [(Backend::Postgres, "postgres"), (Backend::Sqlite, "sqlite")] {
            if !only.is_empty() && !only.contains(&name) {
                continue;
            }
            let row = run(contacts, backend).await?;
            println!(
                "{} contacts on {}: pipeline {:.1} s, {} written back; api peak {:.1} MiB (idle {:.1}), {:.2} s CPU; worker peak {:.1} MiB (idle {:.1}), {:.2} s CPU",
                row.contacts,
                row.backend,
                row.pipeline_s,
                row.written,
                row.api.peak_mib,
                row.api.idle_mib,
                row.api.cpu_s,
                row.worker.peak_mib,
                row.worker.idle_mib,
                row.worker.cpu_s,
            );
            record_figures(
                "dynos",
                &format!("{} contacts, {}", row.contacts, row.backend),
                serde_json::json!({
                    "pipeline_s": row.pipeline_s,
                    "api_peak_rss_mib": row.api.peak_mib,
                    "api_idle_rss_mib": row.api.idle_mib,
                    "api_cpu_s": row.api.cpu_s,
                    "worker_peak_rss_mib": row.worker.peak_mib,
                    "worker_idle_rss_mib": row.worker.idle_mib,
                    "worker_end_rss_mib": row.worker.end_mib,
                    "worker_cpu_s": row.worker.cpu_s,
                }),
            )?;
            rows.push(row);
        }
    }
    write_report(&rows, &load_at_start)
}

fn write_report(rows: &[Row], load_at_start: &str) -> anyhow::Result<()> {
    let mut out = String::from(
        "# Dyno benchmark\n\n\
         Written by `cargo bench -p conturs-tests --bench dynos` (do not edit by hand). The web and\n\
         worker dynos run as separate processes (the `conturs-api` and `conturs-worker` code, release\n\
         build, default settings: worker concurrency 8) over one database and queue, as on Heroku; the\n\
         simulated HubSpot (seed 42, 110 requests per 10 s) runs in the bench process, so it is in\n\
         neither figure. The sync is queued through `POST /api/jobs`; while the pipeline runs to the\n\
         last WriteBack the bench asks the API for the job and the portal every 500 ms and scrapes\n\
         `/metrics` every 15 s. *Peak* is the kernel's high-water mark of the process' resident set\n\
         (`VmHWM`; the processes start fresh for each row), *idle* its RSS before the sync is queued,\n\
         *CPU* its user + system time, all threads, from the sync being queued to the end (`/proc/PID/stat`).\n\n\
         | contacts | backend | pipeline (s) | written back | API requests | api idle (MiB) | api peak (MiB) | api CPU (s) | worker idle (MiB) | worker peak (MiB) | worker at end (MiB) | worker CPU (s) |\n\
         |---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n",
    );
    for r in rows {
        writeln!(
            out,
            "| {} | {} | {:.1} | {} | {} | {:.1} | {:.1} | {:.2} | {:.1} | {:.1} | {:.1} | {:.1} |",
            r.contacts,
            r.backend,
            r.pipeline_s,
            r.written,
            r.api_requests,
            r.api.idle_mib,
            r.api.peak_mib,
            r.api.cpu_s,
            r.worker.idle_mib,
            r.worker.peak_mib,
            r.worker.end_mib,
            r.worker.cpu_s,
        )?;
    }
    writeln!(
        out,
        "\nLoad average (1, 5, 15 min) at start: {load_at_start}; at end: {}.",
        load_average()
    )?;
    let path = conturs_tests::bench::report_path("BENCHMARKS-dynos.md");
    std::fs::write(&path, out)?;
    println!("wrote {}", path.display());
    Ok(())
}
