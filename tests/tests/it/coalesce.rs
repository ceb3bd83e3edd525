//! Coalescing of scoring requests: a burst of webhooks becomes one ScoreContact run per waiting
//! batch (the same contact or other contacts of the portal, up to the fold limit, same lane
//! only), and a change after a run has read its data still gets scored.

use std::time::Duration;

use apalis::prelude::Monitor;
use chrono::Utc;
use conturs_tests::Backend;
use conturs_tests::pipeline::{Pipeline, QueueKind};
use entity::{JobType, Lane, job_runs, score_claims};
use jobs::coalesce::{CLAIM_TTL, FOLD_LIMIT, enqueue_scoring, release};
use jobs::handlers::register_all;
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};

async fn score_runs(p: &Pipeline) -> Vec<job_runs::Model> {
    job_runs::Entity::find()
        .filter(job_runs::Column::PortalId.eq(p.portal_id))
        .filter(job_runs::Column::JobType.eq(JobType::ScoreContact))
        .all(&p.db.conn)
        .await
        .expect("runs")
}

async fn coalescing(backend: Backend, queue: QueueKind) {
    let p = Pipeline::start(backend, queue, 300, 3)
        .await
        .expect("pipeline");
    let portal = p.portal_id;
    let client = p.deps.hubspot.portal(portal as u64, hubspot::Lane::Bulk);
    let listed: Vec<hubspot::crm::CrmObject> = futures::TryStreamExt::try_collect(
        client.list_all(hubspot::ObjectType::Contacts, Default::default()),
    )
    .await
    .expect("contacts");
    let mut ids: Vec<i64> = listed
        .iter()
        .take(3)
        .map(|c| c.id.parse().expect("numeric id"))
        .collect();
    ids.sort_unstable();
    let (a, b, c) = (ids[0], ids[1], ids[2]);

    // A burst: the first request claims its contacts, later ones fold into it.
    let first = enqueue_scoring(&p.queue, portal, &[a, b, a], Lane::Realtime, None)
        .await
        .expect("enqueue");
    let r1 = first.queued.expect("a new run");
    assert_eq!(r1.contact_ids, vec![a, b], "deduplicated and sorted");
    let second = enqueue_scoring(&p.queue, portal, &[b, c], Lane::Realtime, None)
        .await
        .expect("enqueue");
    assert_eq!(second.queued, None, "c joins the waiting run");
    assert_eq!(second.folded, vec![(b, r1.run_id), (c, r1.run_id)]);
    for _ in 0..20 {
        let again = enqueue_scoring(&p.queue, portal, &[a, b, c], Lane::Realtime, None)
            .await
            .expect("enqueue");
        assert_eq!(again.queued, None, "everything is already waiting");
        assert_eq!(again.folded.len(), 3);
    }
    assert_eq!(score_runs(&p).await.len(), 1, "22 requests, 1 run");

    // A run that started has released its claims, and scores everything claimed for it.
    let mut released = release(&p.db.conn, r1.run_id).await.expect("release");
    released.sort_unstable();
    assert_eq!(released, vec![a, b, c]);
    let after_start = enqueue_scoring(&p.queue, portal, &[a], Lane::Realtime, None)
        .await
        .expect("enqueue");
    assert!(after_start.queued.is_some(), "{after_start:?}");

    // A claim older than the TTL no longer blocks (its run may be lost).
    let old = Utc::now() - chrono::Duration::from_std(CLAIM_TTL).expect("ttl") * 2;
    score_claims::Entity::update_many()
        .col_expr(
            score_claims::Column::ClaimedAt,
            sea_orm::sea_query::Expr::value(old),
        )
        .filter(score_claims::Column::ContactId.eq(a))
        .exec(&p.db.conn)
        .await
        .expect("age claim");
    let after_ttl = enqueue_scoring(&p.queue, portal, &[a], Lane::Realtime, None)
        .await
        .expect("enqueue");
    let r3 = after_ttl.queued.expect("an expired claim is taken over");
    assert_eq!(r3.contact_ids, vec![a]);

    // Another lane never folds into a realtime run.
    let bulk = enqueue_scoring(&p.queue, portal, &[b], Lane::Bulk, None)
        .await
        .expect("enqueue");
    assert_eq!(bulk.queued.map(|job| job.contact_ids), Some(vec![b]));

    // Other contacts fold into the waiting run until it holds FOLD_LIMIT of them.
    let others: Vec<i64> = listed
        .iter()
        .skip(3)
        .take(FOLD_LIMIT as usize + 1)
        .map(|c| c.id.parse().expect("numeric id"))
        .collect();
    let (fill, overflow) = others.split_at(FOLD_LIMIT as usize);
    let filled = enqueue_scoring(&p.queue, portal, fill, Lane::Realtime, None)
        .await
        .expect("enqueue");
    assert_eq!(filled.queued, None);
    assert!(filled.folded.iter().all(|(_, run)| *run == r3.run_id));
    let full = enqueue_scoring(&p.queue, portal, overflow, Lane::Realtime, None)
        .await
        .expect("enqueue");
    assert!(full.queued.is_some(), "a full run takes no more: {full:?}");

    // The real worker runs them: every run succeeds and releases its claims.
    let reads_before = p.requests_matching("batch/read");
    let monitor = register_all(Monitor::new(), &p.queue, &p.deps, "coalesce-worker", 4);
    let workers = tokio::spawn(async move {
        let _ = monitor.run().await;
    });
    let runs = p.settle(5, Duration::from_secs(60)).await;
    assert_eq!(runs.len(), 5, "{runs:?}");
    for run in &runs {
        assert_eq!(
            run.status,
            entity::JobStatus::Succeeded,
            "{:?}",
            run.last_error
        );
    }
    let left = score_claims::Entity::find()
        .filter(score_claims::Column::PortalId.eq(portal))
        .count(&p.db.conn)
        .await
        .expect("claims");
    assert_eq!(left, 0, "every run released its claims");
    assert!(
        p.requests_matching("batch/read") > reads_before,
        "runs read fresh data from HubSpot"
    );
    workers.abort();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn coalescing_on_embedded_sqlite() {
    coalescing(Backend::Sqlite, QueueKind::EmbeddedSqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn coalescing_on_redis_postgres() {
    coalescing(Backend::Postgres, QueueKind::Redis).await;
}
