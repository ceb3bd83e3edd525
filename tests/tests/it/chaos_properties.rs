//! Chaos (issue 11): a customer deletes one of the Conturs properties in HubSpot's settings
//! while scores are being written back. The next write-back must put the property back and
//! succeed, not fail every batch from then on; the run ends with the common verdict.

use std::time::{Duration, Instant};

use conturs_tests::chaos::assert_recovered;
use entity::{JobStatus, JobType, job_runs, scores};
use hubspot_sim::ObjectType;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

use super::chaos::{CONTACTS, enqueue_sync, spawn_worker, start};

const DELETED: &str = "conturs_explanation";

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn chaos_property_deleted_in_hubspot_is_provisioned_again() {
    let (p, reference) = start().await;
    enqueue_sync(&p).await;
    let worker = spawn_worker(&p);

    // The first write-back has landed: the customer deletes a property the next ones write.
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let written = job_runs::Entity::find()
            .filter(job_runs::Column::PortalId.eq(p.portal_id))
            .filter(job_runs::Column::JobType.eq(JobType::WriteBack))
            .filter(job_runs::Column::Status.eq(JobStatus::Succeeded))
            .all(&p.db.conn)
            .await
            .expect("runs");
        if !written.is_empty() {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "no write-back finished; worker log:\n{}",
            worker.log()
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    p.sim
        .archive_property(p.portal_id as u64, ObjectType::Contacts, DELETED)
        .expect("delete the property");

    assert_recovered(&p, &reference, CONTACTS, || worker.log()).await;

    // It was the write-back that noticed and put the property back, and no contact was left
    // with a write-back error.
    let runs = p.settle(1, Duration::from_secs(10)).await;
    let mut reprovisioned = Vec::new();
    for run in runs.iter().filter(|r| r.job_type == JobType::WriteBack) {
        for event in p.queue.ledger().timeline(run.id).await.expect("timeline") {
            if event.kind == "properties" {
                reprovisioned.push(event.message);
            }
        }
    }
    eprintln!("re-provisioned by write-backs: {reprovisioned:?}");
    assert!(
        reprovisioned.iter().any(|m| m.contains(DELETED)),
        "no write-back re-provisioned {DELETED}: {reprovisioned:?}"
    );
    let errors = scores::Entity::find()
        .filter(scores::Column::PortalId.eq(p.portal_id))
        .filter(scores::Column::WritebackError.is_not_null())
        .all(&p.db.conn)
        .await
        .expect("scores");
    assert!(
        errors.is_empty(),
        "contacts with a write-back error: {:?}",
        errors
            .iter()
            .take(3)
            .map(|s| (s.contact_id, s.writeback_error.clone()))
            .collect::<Vec<_>>()
    );
    let requests = p.sim.stats().portals[&(p.portal_id as u64)].clone();
    eprintln!(
        "requests {}, by endpoint {:?}",
        requests.requests, requests.requests_by_endpoint
    );
}
