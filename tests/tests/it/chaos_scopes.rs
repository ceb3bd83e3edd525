//! Chaos (issue 11): the customer installed the app without a scope Conturs needs. The sync
//! stops where it needs it, the portal asks for a reconnect naming the scope, nothing retries
//! against HubSpot meanwhile; after a reconnect with every scope, the pipeline completes as if
//! nothing had happened.

use super::chaos::{cut_off, enqueue_sync, reconnect_and_recover, spawn_worker, start};

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

    let (cut_off, first_sync) = cut_off(&p, &worker).await;
    let reason = cut_off.status_reason.unwrap_or_default();
    eprintln!("needs reconnect: {reason}");
    assert!(
        reason.contains(MISSING),
        "the reason must name the missing scope: {reason}"
    );
    assert_eq!(first_sync.attempts, 1, "a missing scope is not retried");
    assert!(
        first_sync
            .last_error
            .as_deref()
            .is_some_and(|e| e.contains(MISSING)),
        "the run's error names the scope: {:?}",
        first_sync.last_error
    );
    let stats = p.sim.stats().portals[&portal].clone();
    eprintln!(
        "requests before the reconnect {}, by status {:?}",
        stats.requests, stats.responses_by_status
    );
    assert_eq!(
        stats.responses_by_status.get(&403).copied(),
        Some(1),
        "one refused request, not a storm: {:?}",
        stats.responses_by_status
    );
    reconnect_and_recover(&p, &api, &reference, first_sync.id, &worker).await;
}
