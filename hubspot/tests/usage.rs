//! The client's per-portal usage tally (`HubSpotClient::usage`) counts exactly what HubSpot —
//! the simulator — saw: every request, 429s, 5xx answers and searches, in aligned windows.

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::*;
use futures::TryStreamExt;
use hubspot::ObjectType;
use hubspot::budget::Lane;
use hubspot::crm::{ListRequest, TimeWindow};
use hubspot::oauth::InMemoryTokenStore;
use hubspot::usage::USAGE_WINDOW_SECS;
use hubspot_sim::FaultConfig;

#[tokio::test]
async fn usage_matches_what_the_simulator_saw_under_5xx_and_429_storms() {
    let sim = start_sim(600, |c| c.limits.oauth_per_window = 1_000_000).await;
    let client = local_client(&sim, generous_policy(), Arc::new(InMemoryTokenStore::new()));
    let portal_id = connect(&client).await.expect("connect");
    assert!(
        client.usage().is_empty(),
        "OAuth calls are not CRM budget use"
    );
    sim.set_faults(
        portal_id,
        FaultConfig {
            server_error_rate: 0.25,
            // Seeded: the first requests meet a 5xx in every run, not in most.
            seed: Some(1),
            ..FaultConfig::default()
        },
    )
    .expect("faults");
    sim.rate_limit_storm(portal_id, Duration::from_millis(300))
        .expect("storm");
    let started = chrono::Utc::now().timestamp();
    let portal = client.portal(portal_id, Lane::Bulk);
    let contacts: Vec<_> = portal
        .list_all(ObjectType::Contacts, ListRequest::default())
        .try_collect()
        .await
        .expect("list");
    assert_eq!(contacts.len(), 600);
    assert!(
        server_errors_seen(&sim, portal_id) > 0,
        "the seeded faults answered a 5xx"
    );
    let now_ms = chrono::Utc::now().timestamp_millis();
    let _found: Vec<_> = portal
        .search_modified(
            ObjectType::Contacts,
            TimeWindow {
                from_ms: now_ms - 86_400_000,
                to_ms: now_ms,
            },
            vec!["email".to_owned()],
        )
        .try_collect()
        .await
        .expect("search");
    let finished = chrono::Utc::now().timestamp();

    let samples = client.usage().drain();
    assert!(!samples.is_empty());
    for sample in &samples {
        assert_eq!(sample.portal_id, portal_id);
        assert_eq!(sample.window_start % USAGE_WINDOW_SECS, 0);
        assert!(
            sample.window_start > started - USAGE_WINDOW_SECS && sample.window_start <= finished,
            "window {} outside the run {started}..{finished}",
            sample.window_start
        );
    }
    let sum =
        |f: fn(&hubspot::UsageCounts) -> u64| -> u64 { samples.iter().map(|s| f(&s.counts)).sum() };
    let stats = sim.stats();
    let seen = &stats.portals[&portal_id];
    let server_errors = server_errors_seen(&sim, portal_id);
    assert_eq!(sum(|c| c.requests), seen.requests, "every request counted");
    assert_eq!(sum(|c| c.responses_429), seen.rate_limited);
    assert!(seen.rate_limited > 0, "the storm answered 429");
    assert_eq!(sum(|c| c.responses_5xx), server_errors);
    assert!(server_errors > 0, "the faults answered 5xx");
    assert_eq!(
        sum(|c| c.search_requests),
        sim_requests(&sim, portal_id, "/search"),
        "searches counted apart"
    );
    assert!(sum(|c| c.search_requests) > 0);
    assert!(client.usage().is_empty(), "drained");
}

/// 5xx answers the simulator gave the portal so far.
fn server_errors_seen(sim: &hubspot_sim::RunningSimulator, portal_id: u64) -> u64 {
    sim.stats().portals[&portal_id]
        .responses_by_status
        .iter()
        .filter(|(status, _)| (500..600).contains(*status))
        .map(|(_, n)| *n)
        .sum()
}
