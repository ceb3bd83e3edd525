//! Board pages over a ledger of 100,000 job runs (issue 8: "fast on a portal with 100k job
//! runs"): seeds the runs straight into `job_runs` (a week of history, 20 portals, the last day
//! finished at a steady rate, a few hundred failed), signs in, and times each page as a browser
//! asks for it, on SQLite and on Postgres.
//!
//! `cargo bench -p conturs-tests --bench board [-- --runs N --samples K]` prints the results and
//! writes `tests/BENCHMARKS-board.md`.

use std::fmt::Write as _;
use std::time::{Duration, Instant};

use chrono::{Duration as Span, Utc};
use clap::Parser;
use conturs_tests::app::ADMIN_TOKEN;
use conturs_tests::bench::{Latencies, load_average};
use conturs_tests::fixtures::insert_portal;
use conturs_tests::{Backend, TestApp, spawn_app};
use entity::{JobStatus, JobType, Lane, PortalStatus, job_runs};
use sea_orm::{EntityTrait, Set};
use uuid::{NoContext, Timestamp, Uuid};

/// Board page latency with a large ledger.
#[derive(Debug, Parser)]
struct Args {
    /// Job runs to seed.
    #[arg(long, default_value_t = 100_000)]
    runs: usize,
    /// Requests per page.
    #[arg(long, default_value_t = 30)]
    samples: usize,
    /// Write the results here.
    #[arg(long, default_value = concat!(env!("CARGO_MANIFEST_DIR"), "/BENCHMARKS-board.md"))]
    out: String,
    #[arg(long, hide = true)]
    bench: bool,
}

const PORTALS: i64 = 20;
const FIRST_PORTAL: i64 = 9_100;

async fn seed(app: &TestApp, runs: usize) -> anyhow::Result<Duration> {
    for portal in 0..PORTALS {
        insert_portal(&app.db.conn, FIRST_PORTAL + portal, PortalStatus::Ready).await?;
    }
    let started = Instant::now();
    let now = Utc::now();
    let types = [
        JobType::ScoreContact,
        JobType::WriteBack,
        JobType::InitialSync,
        JobType::TrainModel,
        JobType::NightlyResync,
    ];
    let mut batch = Vec::with_capacity(500);
    for i in 0..runs {
        // Oldest first over the last 7 days; ids are UUIDv7 of the creation time.
        let created = now - Span::seconds(7 * 86_400)
            + Span::milliseconds((i as i64) * 7 * 86_400_000 / runs as i64);
        let ms = created.timestamp_millis() as u64;
        let id = Uuid::new_v7(Timestamp::from_unix(
            NoContext,
            ms / 1000,
            ((ms % 1000) * 1_000_000) as u32,
        ));
        let status = match i % 1000 {
            0..=4 => JobStatus::Failed,
            5..=6 => JobStatus::Dead,
            7 => JobStatus::Cancelled,
            _ if i + 50 >= runs => JobStatus::Running,
            _ if i + 100 >= runs => JobStatus::Queued,
            _ => JobStatus::Succeeded,
        };
        let finished = status
            .is_terminal()
            .then(|| created + Span::milliseconds(800));
        batch.push(job_runs::ActiveModel {
            id: Set(id),
            portal_id: Set(FIRST_PORTAL + (i as i64 % PORTALS)),
            job_type: Set(types[i % types.len()]),
            lane: Set(if i % 3 == 0 {
                Lane::Realtime
            } else {
                Lane::Bulk
            }),
            status: Set(status),
            payload: Set(
                serde_json::json!({"run_id": id, "portal_id": FIRST_PORTAL + (i as i64 % PORTALS)}),
            ),
            attempts: Set(1),
            max_attempts: Set(5),
            phase: Set(None),
            done: Set(100),
            total: Set(Some(100)),
            rate: Set(None),
            eta_seconds: Set(None),
            last_error: Set(matches!(status, JobStatus::Failed | JobStatus::Dead)
                .then(|| "HubSpot answered 502".to_owned())),
            error_kind: Set(None),
            idempotency_key: Set(None),
            queue_task_id: Set(None),
            worker: Set((status == JobStatus::Running).then(|| "bench-worker".to_owned())),
            parent_id: Set(None),
            created_at: Set(created),
            started_at: Set(Some(created)),
            finished_at: Set(finished),
            updated_at: Set(finished.unwrap_or(created)),
            heartbeat_at: Set(None),
        });
        if batch.len() == 500 {
            job_runs::Entity::insert_many(std::mem::take(&mut batch))
                .exec_without_returning(&app.db.conn)
                .await?;
        }
    }
    if !batch.is_empty() {
        job_runs::Entity::insert_many(batch)
            .exec_without_returning(&app.db.conn)
            .await?;
    }
    Ok(started.elapsed())
}

async fn cookie(app: &TestApp) -> anyhow::Result<String> {
    let response = app
        .client
        .post(app.url("/board/login"))
        .form(&[("token", ADMIN_TOKEN)])
        .send()
        .await?;
    let set = response
        .headers()
        .get(reqwest::header::SET_COOKIE)
        .ok_or_else(|| anyhow::anyhow!("no cookie"))?;
    Ok(set
        .to_str()?
        .split(';')
        .next()
        .unwrap_or_default()
        .to_owned())
}

async fn time_page(
    app: &TestApp,
    cookie: &str,
    path: &str,
    samples: usize,
) -> anyhow::Result<(Latencies, usize)> {
    let mut latencies = Latencies::new()?;
    let mut bytes = 0;
    for _ in 0..samples {
        let started = Instant::now();
        let response = app
            .client
            .get(app.url(path))
            .header(reqwest::header::COOKIE, cookie)
            .send()
            .await?;
        anyhow::ensure!(response.status() == 200, "{path}: {}", response.status());
        bytes = response.bytes().await?.len();
        latencies.record(started.elapsed());
    }
    Ok((latencies, bytes))
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let mut report = String::new();
    writeln!(report, "# Board pages over {} job runs\n", args.runs)?;
    writeln!(
        report,
        "`cargo bench -p conturs-tests --bench board -- --runs {} --samples {}`; {}; load before: {}.\n",
        args.runs,
        args.samples,
        chrono::Utc::now().format("%Y-%m-%d %H:%M UTC"),
        load_average()
    )?;
    for backend in [Backend::Sqlite, Backend::Postgres] {
        let app = spawn_app(backend).await;
        let seeded = seed(&app, args.runs).await?;
        if backend == Backend::Postgres {
            sea_orm::ConnectionTrait::execute_unprepared(&app.db.conn, "ANALYZE job_runs").await?;
        }
        let cookie = cookie(&app).await?;
        writeln!(
            report,
            "## {backend:?} (seeded in {:.1} s)\n",
            seeded.as_secs_f64()
        )?;
        writeln!(
            report,
            "| page | p50 | p95 | max | size |\n|---|---|---|---|---|"
        )?;
        let failed_portal = format!("/board/jobs?status=failed&portal={FIRST_PORTAL}");
        let cursor_page = "/board/jobs?type=score_contact";
        for path in [
            "/board",
            "/board/live",
            "/board/jobs",
            failed_portal.as_str(),
            cursor_page,
            "/board/portals",
            &format!("/board/portals/{FIRST_PORTAL}"),
        ] {
            let (latencies, bytes) = time_page(&app, &cookie, path, args.samples).await?;
            let s = latencies
                .summary()
                .ok_or_else(|| anyhow::anyhow!("no samples"))?;
            let line = format!(
                "| `{path}` | {:.1} ms | {:.1} ms | {:.1} ms | {} KiB |",
                s.p50,
                s.p95,
                s.max,
                bytes / 1024
            );
            println!("{backend:?} {line}");
            conturs_tests::bench::record_figures(
                "board pages",
                &format!("{backend:?}, {} runs, {path}", args.runs),
                serde_json::json!({ "p50_ms": s.p50, "p95_ms": s.p95 }),
            )?;
            writeln!(report, "{line}")?;
        }
        writeln!(report)?;
    }
    let out = conturs_tests::bench::report_path(&args.out);
    std::fs::write(&out, &report)?;
    println!("wrote {}", out.display());
    Ok(())
}
