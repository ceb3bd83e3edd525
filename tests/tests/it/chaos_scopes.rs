//! Chaos (issue 11): the customer installed the app without a scope Conturs needs. The sync
//! stops where it needs it, the portal asks for a reconnect naming the scope, nothing retries
//! against HubSpot meanwhile; after a reconnect with every scope, the pipeline completes as if
//! nothing had happened.

use std::time::{Duration, Instant};

use conturs_tests::chaos::assert_recovered_except;
use entity::{JobType, PortalStatus, portals};
use sea_orm::EntityTrait;

use super::chaos::{CONTACTS, enqueue_sync, spawn_worker, start};

/// Deals are read last, so the sync gets through companies and contacts first.
const MISSING: &str = "crm.objects.deals.read";

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn chaos_missing_scope_then_reconnected() {
    let (p, reference) = start().await;
    let granted: Vec<&str> = hubspot_sim::admin::ALL_SCOPES
        .iter()
        .copied()
        .filter(|s| *s != MISSING)
        .collect();
    p.connect_with_scopes(&granted).await.expect("connect");
    let api = p.spawn_api().await.expect("api");
    let portal = p.portal_id as u64;
    enqueue_sync(&p).await;
    let worker = spawn_worker(&p);

    let deadline = Instant::now() + Duration::from_secs(120);
    let cut_off = loop {
        let row = portals::Entity::find_by_id(p.portal_id)
            .one(&p.db.conn)
            .await
            .expect("portal")
            .expect("exists");
        if row.status == PortalStatus::NeedsReconnect {
            break row;
        }
        assert!(
            Instant::now() < deadline,
            "the portal never asked for a reconnect; worker log:\n{}",
            worker.log()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let reason = cut_off.status_reason.unwrap_or_default();
    eprintln!("needs reconnect: {reason}");
    assert!(
        reason.contains(MISSING),
        "the reason must name the missing scope: {reason}"
    );
    let runs = p.settle(1, Duration::from_secs(30)).await;
    let first_sync = runs
        .iter()
        .find(|r| r.job_type == JobType::InitialSync)
        .expect("the first sync");
    assert_eq!(first_sync.attempts, 1, "a missing scope is not retried");
    assert!(
        first_sync
            .last_error
            .as_deref()
            .is_some_and(|e| e.contains(MISSING)),
        "the run's error names the scope: {:?}",
        first_sync.last_error
    );
    let first_sync = first_sync.id;

    // No retry storm: HubSpot hears nothing more from us until the customer reconnects.
    let requests = || p.sim.stats().portals[&portal].requests;
    let at_cut_off = requests();
    let by_status = p.sim.stats().portals[&portal].responses_by_status.clone();
    tokio::time::sleep(Duration::from_secs(5)).await;
    assert_eq!(
        requests(),
        at_cut_off,
        "requests after the portal was cut off"
    );
    eprintln!("requests before the reconnect {at_cut_off}, by status {by_status:?}");
    assert_eq!(
        by_status.get(&403).copied(),
        Some(1),
        "one refused request, not a storm: {by_status:?}"
    );

    hubspot_sim::consent::click_through_install(&api.url("/oauth/hubspot/install"), &api.address)
        .await
        .expect("reconnect through OAuth");
    assert_recovered_except(&p, &reference, CONTACTS, &[first_sync], || worker.log()).await;
    let row = portals::Entity::find_by_id(p.portal_id)
        .one(&p.db.conn)
        .await
        .expect("portal")
        .expect("exists");
    assert_eq!(row.status, PortalStatus::Ready);
}
