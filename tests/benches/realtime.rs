//! Realtime lane latency under bulk load (issue 6: "a 100k-contact initial sync of one portal
//! does not delay another portal's (or its own) realtime scoring beyond a few seconds").
//!
//! One simulator hosts two portals, one HubSpot client serves both (each portal has its own
//! rate budget, as in production), on Postgres + Redis with the real handlers (`register_all`,
//! concurrency 8). First a *trained* portal is synced and scored to the end. Then a big portal
//! starts its InitialSync, and until its whole pipeline (sync → train → score → write back) has
//! finished, every 500 ms one realtime ScoreContact is enqueued for a random contact of each
//! portal. For the trained portal the contact's job title is changed in HubSpot first, as a
//! webhook would report, so its score usually moves and a realtime WriteBack follows. Latency is
//! read from the ledger: `created_at` (enqueued) → `finished_at` of the ScoreContact run, and
//! → `finished_at` of its WriteBack child when there is one.
//!
//! `cargo bench -p conturs-tests --bench realtime [-- SYNC_CONTACTS [TRAINED_CONTACTS]]`
//! (defaults 100000 and 10000) prints the table and writes `tests/BENCHMARKS-realtime.md`.
//! Needs Postgres and Redis like the tests (`scripts/services.sh`).

use std::collections::HashMap;
use std::fmt::Write as _;
use std::time::{Duration, Instant};

use apalis::prelude::Monitor;
use conturs_tests::Backend;
use conturs_tests::bench::{Latencies, bulk_pipeline_done, portal_runs};
use conturs_tests::pipeline::{Pipeline, QueueKind};
use entity::{JobStatus, JobType, Lane, job_runs};
use hubspot_sim::ObjectType;
use jobs::EnqueueOptions;
use jobs::handlers::register_all;
use jobs::payload::{InitialSync, ScoreContact};
use uuid::Uuid;

/// How often each portal gets a realtime job.
const TICK: Duration = Duration::from_millis(500);
const TITLES: [&str; 2] = ["Chief Executive Officer", "Office Intern"];

/// Where the bulk portal's pipeline was when a realtime job was enqueued.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
enum Window {
    /// The big portal's InitialSync is running.
    Sync,
    /// Its TrainModel, bulk scoring and bulk write-back are running.
    AfterSync,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
enum Target {
    /// The portal that is already trained (another tenant).
    Trained,
    /// The portal whose bulk sync is running.
    Syncing,
}

struct Sample {
    target: Target,
    window: Window,
    run_id: Uuid,
}

async fn enqueue_realtime(p: &Pipeline, portal_id: i64, contact: u64) -> anyhow::Result<Uuid> {
    let job = p
        .queue
        .enqueue(
            |run_id| ScoreContact {
                run_id,
                portal_id,
                contact_ids: vec![contact as i64],
                lane: Lane::Realtime,
            },
            EnqueueOptions::default(),
        )
        .await?;
    Ok(job.run_id)
}

#[tokio::main(flavor = "multi_thread")]
async fn main() -> anyhow::Result<()> {
    let args: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let sync_contacts = args.first().copied().unwrap_or(100_000);
    let trained_contacts = args.get(1).copied().unwrap_or(10_000);

    let p = Pipeline::start(Backend::Postgres, QueueKind::Redis, trained_contacts, 42).await?;
    let trained = p.portal_id;
    let monitor = register_all(Monitor::new(), &p.queue, &p.deps, "bench", 8);
    let workers = tokio::spawn(async move {
        let _ = monitor.run().await;
    });

    // 1. The other tenant: synced, trained, scored and written back.
    let started = Instant::now();
    p.queue
        .enqueue(
            |run_id| InitialSync {
                run_id,
                portal_id: trained,
            },
            EnqueueOptions::default(),
        )
        .await?;
    p.settle(3, Duration::from_secs(1_800)).await;
    println!(
        "trained portal {trained} ({trained_contacts} contacts) ready in {:.1} s",
        started.elapsed().as_secs_f64()
    );

    // 2. The big portal's bulk pipeline, with realtime jobs for both portals every TICK.
    let syncing = p.add_portal(sync_contacts, 7).await?;
    let trained_ids = p.contact_ids(trained)?;
    let syncing_ids = p.contact_ids(syncing)?;
    let started = Instant::now();
    let sync = p
        .queue
        .enqueue(
            |run_id| InitialSync {
                run_id,
                portal_id: syncing,
            },
            EnqueueOptions::default(),
        )
        .await?;
    let mut samples = Vec::new();
    let mut sync_s = None;
    let mut tick = tokio::time::interval(TICK);
    let deadline = Instant::now() + Duration::from_secs(3_600);
    let mut i = 0usize;
    loop {
        tick.tick().await;
        let runs = portal_runs(&p.db.conn, syncing).await?;
        if sync_s.is_none()
            && runs
                .iter()
                .any(|r| r.id == sync.run_id && r.status.is_terminal())
        {
            sync_s = Some(started.elapsed().as_secs_f64());
        }
        if bulk_pipeline_done(&runs) {
            break;
        }
        anyhow::ensure!(
            Instant::now() < deadline,
            "bulk pipeline did not finish in an hour"
        );
        let window = if sync_s.is_none() {
            Window::Sync
        } else {
            Window::AfterSync
        };
        // Deterministic spread over the portals' contacts.
        let contact = trained_ids[(i * 7_919) % trained_ids.len()];
        p.sim.update_record(
            trained as u64,
            ObjectType::Contacts,
            contact,
            &[("jobtitle", TITLES[i % 2])],
        )?;
        samples.push(Sample {
            target: Target::Trained,
            window,
            run_id: enqueue_realtime(&p, trained, contact).await?,
        });
        let contact = syncing_ids[(i * 104_729) % syncing_ids.len()];
        samples.push(Sample {
            target: Target::Syncing,
            window,
            run_id: enqueue_realtime(&p, syncing, contact).await?,
        });
        i += 1;
    }
    let pipeline_s = started.elapsed().as_secs_f64();

    // 3. Let the last realtime jobs (and their write-backs) finish, then read the ledger.
    let settle_deadline = Instant::now() + Duration::from_secs(120);
    let runs = loop {
        let mut runs = portal_runs(&p.db.conn, trained).await?;
        runs.extend(portal_runs(&p.db.conn, syncing).await?);
        if runs.iter().all(|r| r.status.is_terminal()) || Instant::now() > settle_deadline {
            break runs;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    workers.abort();
    let by_id: HashMap<Uuid, &job_runs::Model> = runs.iter().map(|r| (r.id, r)).collect();
    let children: HashMap<Uuid, &job_runs::Model> = runs
        .iter()
        .filter(|r| r.job_type == JobType::WriteBack && r.lane == Lane::Realtime)
        .filter_map(|r| r.parent_id.map(|parent| (parent, r)))
        .collect();
    let failed = samples
        .iter()
        .filter(|s| {
            by_id
                .get(&s.run_id)
                .is_none_or(|r| r.status != JobStatus::Succeeded)
        })
        .count();
    let stats = |target: Target, window: Option<Window>, written: bool| {
        let mut latencies = Latencies::new()?;
        for s in samples
            .iter()
            .filter(|s| s.target == target && window.is_none_or(|w| s.window == w))
        {
            let Some(run) = by_id.get(&s.run_id) else {
                continue;
            };
            let end = if written {
                children.get(&s.run_id).and_then(|child| child.finished_at)
            } else {
                run.finished_at
            };
            if let Some(end) = end {
                latencies.record_between(run.created_at, end);
            }
        }
        anyhow::Ok(latencies.summary())
    };

    let mut table = String::from(
        "| realtime jobs for | while the big portal was in | measured to | n | p50 (ms) | p95 (ms) | max (ms) |\n\
         |---|---|---|---:|---:|---:|---:|\n",
    );
    let rows = [
        (Target::Trained, Some(Window::Sync), false),
        (Target::Trained, Some(Window::AfterSync), false),
        (Target::Trained, None, false),
        (Target::Trained, None, true),
        (Target::Syncing, Some(Window::Sync), false),
        (Target::Syncing, Some(Window::AfterSync), false),
        (Target::Syncing, None, false),
    ];
    for (target, window, written) in rows {
        let Some(s) = stats(target, window, written)? else {
            continue;
        };
        if window.is_none() {
            conturs_tests::bench::record_figures(
                "realtime lane under a bulk sync",
                &format!(
                    "{} to {}",
                    match target {
                        Target::Trained => "another tenant",
                        Target::Syncing => "the syncing portal",
                    },
                    if written { "written back" } else { "scored" }
                ),
                serde_json::json!({ "p50_ms": s.p50, "p95_ms": s.p95, "max_ms": s.max, "n": s.count }),
            )?;
        }
        let _ = writeln!(
            table,
            "| {} | {} | {} | {} | {:.0} | {:.0} | {:.0} |",
            match target {
                Target::Trained => "the trained portal (another tenant)",
                Target::Syncing => "the syncing portal itself",
            },
            match window {
                Some(Window::Sync) => "InitialSync",
                Some(Window::AfterSync) => "train, score, write back",
                None => "any phase",
            },
            if written {
                "its WriteBack finished"
            } else {
                "ScoreContact finished"
            },
            s.count,
            s.p50,
            s.p95,
            s.max,
        );
    }
    let stats = p.sim.stats();
    let sync_portal = stats.portals.get(&(syncing as u64));
    let trained_portal = stats.portals.get(&(trained as u64));
    let out = format!(
        "# Realtime lane latency under bulk load\n\n\
         Written by `cargo bench -p conturs-tests --bench realtime -- {sync_contacts} {trained_contacts}` \
         (do not edit by hand). Postgres + Redis, the real handlers (`register_all`, concurrency 8 \
         per lane), one in-process simulator with two portals under HubSpot's real limits \
         (110 requests / 10 s each) and one HubSpot client. A {trained_contacts}-contact portal is \
         trained and written back first; then a {sync_contacts}-contact portal runs its whole \
         pipeline while one realtime ScoreContact per portal is enqueued every {} ms (for the \
         trained portal after changing the contact's job title in HubSpot, as a webhook would \
         report). Latency: ledger `created_at` of the ScoreContact run → `finished_at` of that run \
         or of its realtime WriteBack child (only runs whose score moved have one). Release build; \
         the simulator, Postgres, Redis and the workers share the machine's 2 cores with other \
         people's builds.\n\n\
         Big portal: InitialSync {:.1} s, whole pipeline {pipeline_s:.1} s; HubSpot requests / \
         429s: big portal {} / {}, trained portal {} / {}. Realtime jobs that did not succeed: \
         {failed} of {}.\n\n{table}",
        TICK.as_millis(),
        sync_s.unwrap_or(f64::NAN),
        sync_portal.map_or(0, |s| s.requests),
        sync_portal.map_or(0, |s| s.rate_limited),
        trained_portal.map_or(0, |s| s.requests),
        trained_portal.map_or(0, |s| s.rate_limited),
        samples.len(),
    );
    print!("{out}");
    let path = conturs_tests::bench::report_path(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/BENCHMARKS-realtime.md"
    ));
    std::fs::write(&path, out)?;
    println!("wrote {}", path.display());
    Ok(())
}
