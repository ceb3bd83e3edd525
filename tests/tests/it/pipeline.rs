//! The whole pipeline on real parts: a simulated HubSpot portal over HTTP, the real job runtime
//! and queue, a real database. Connect → InitialSync → TrainModel → WriteBack, then checks what
//! HubSpot shows; then a NightlyResync with nothing changed must write nothing.

use std::time::Duration;

use apalis::prelude::Monitor;
use conturs_tests::Backend;
use conturs_tests::pipeline::{Pipeline, QueueKind};
use entity::{JobStatus, JobType, PortalStatus, portals, scores};
use jobs::EnqueueOptions;
use jobs::handlers::register_all;
use jobs::payload::{InitialSync, NightlyResync};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

const CONTACTS: usize = 5_000;

/// Generous: CI runs two heavy tests at once on two shared cores; this is patience, not a
/// performance bar (the pipeline bench measures speed).
const SETTLE: Duration = Duration::from_secs(420);

async fn connect_to_done(backend: Backend, queue: QueueKind) {
    let p = Pipeline::start(backend, queue, CONTACTS, 11)
        .await
        .expect("pipeline");
    let monitor = register_all(Monitor::new(), &p.queue, &p.deps, "it-worker", 4);
    let workers = tokio::spawn(async move {
        let _ = monitor.run().await;
    });

    let portal_id = p.portal_id;
    p.queue
        .enqueue(
            |run_id| InitialSync { run_id, portal_id },
            EnqueueOptions::default(),
        )
        .await
        .expect("enqueue");
    let runs = p.settle(3, SETTLE).await;
    for run in &runs {
        assert_eq!(
            run.status,
            JobStatus::Succeeded,
            "{:?}: {:?}",
            run.job_type,
            run.last_error
        );
    }
    for job_type in [
        JobType::InitialSync,
        JobType::TrainModel,
        JobType::WriteBack,
    ] {
        assert!(
            runs.iter().any(|r| r.job_type == job_type),
            "{job_type:?} must have run"
        );
    }
    let portal = portals::Entity::find_by_id(portal_id)
        .one(&p.db.conn)
        .await
        .expect("portal")
        .expect("exists");
    assert_eq!(
        portal.status,
        PortalStatus::Ready,
        "{:?}",
        portal.status_reason
    );
    assert_eq!(portal.active_model_version, Some(1));

    // The ledger shows each InitialSync phase with its progress.
    let sync = runs
        .iter()
        .find(|r| r.job_type == JobType::InitialSync)
        .expect("sync run");
    let phases: Vec<String> = p
        .queue
        .ledger()
        .timeline(sync.id)
        .await
        .expect("timeline")
        .into_iter()
        .filter(|e| e.kind == "phase")
        .map(|e| e.message)
        .collect();
    assert_eq!(phases.len(), 4, "{phases:?}");
    assert!(phases[2].starts_with("phase contacts"), "{phases:?}");

    p.assert_written_back(CONTACTS).await;

    // A nightly run with nothing changed writes nothing.
    let updates_before = p.requests_matching("batch/update");
    p.queue
        .enqueue(
            |run_id| NightlyResync { run_id, portal_id },
            EnqueueOptions::default(),
        )
        .await
        .expect("enqueue nightly");
    let after = p.settle(runs.len() + 1, SETTLE).await;
    assert_eq!(after.len(), runs.len() + 1, "no follow-up jobs: {after:?}");
    let nightly = after
        .iter()
        .find(|r| r.job_type == JobType::NightlyResync)
        .expect("nightly run");
    assert_eq!(
        nightly.status,
        JobStatus::Succeeded,
        "{:?}",
        nightly.last_error
    );
    assert_eq!(
        p.requests_matching("batch/update"),
        updates_before,
        "nothing was written to HubSpot"
    );

    // Fifty people change jobs in HubSpot; the next nightly run writes back exactly the
    // contacts among them whose score changed, and nobody else.
    let before: std::collections::HashMap<i64, scores::Model> = scores::Entity::find()
        .filter(scores::Column::PortalId.eq(portal_id))
        .all(&p.db.conn)
        .await
        .expect("scores")
        .into_iter()
        .map(|s| (s.contact_id, s))
        .collect();
    let mut changed: Vec<i64> = before
        .values()
        .filter(|s| s.score.is_some_and(|score| score < 50))
        .map(|s| s.contact_id)
        .collect();
    changed.sort_unstable();
    changed.truncate(50);
    assert_eq!(changed.len(), 50);
    for id in &changed {
        p.sim
            .update_record(
                portal_id as u64,
                hubspot_sim::ObjectType::Contacts,
                *id as u64,
                &[("jobtitle", "Chief Executive Officer")],
            )
            .expect("update contact");
    }
    let nightly_started = chrono::Utc::now();
    let runs_before = after.len();
    p.queue
        .enqueue(
            |run_id| NightlyResync { run_id, portal_id },
            EnqueueOptions::default(),
        )
        .await
        .expect("enqueue nightly");
    let settled = p.settle(runs_before + 1, SETTLE).await;
    for run in &settled {
        assert_eq!(
            run.status,
            JobStatus::Succeeded,
            "{:?}: {:?}",
            run.job_type,
            run.last_error
        );
    }
    let now_scores = scores::Entity::find()
        .filter(scores::Column::PortalId.eq(portal_id))
        .all(&p.db.conn)
        .await
        .expect("scores");
    let rewritten: std::collections::BTreeSet<i64> = now_scores
        .iter()
        .filter(|s| s.written_at.is_some_and(|at| at >= nightly_started))
        .map(|s| s.contact_id)
        .collect();
    let moved: std::collections::BTreeSet<i64> = now_scores
        .iter()
        .filter(|s| {
            let old = &before[&s.contact_id];
            (old.score, &old.grade, &old.explanation) != (s.score, &s.grade, &s.explanation)
        })
        .map(|s| s.contact_id)
        .collect();
    assert!(!moved.is_empty(), "a CEO title must move some scores");
    assert!(
        moved.iter().all(|id| changed.contains(id)),
        "only changed contacts get new scores: {moved:?}"
    );
    assert_eq!(
        rewritten, moved,
        "exactly the moved scores are written back"
    );
    workers.abort();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn connect_to_done_embedded_sqlite() {
    connect_to_done(Backend::Sqlite, QueueKind::EmbeddedSqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn connect_to_done_redis_postgres() {
    connect_to_done(Backend::Postgres, QueueKind::Redis).await;
}
