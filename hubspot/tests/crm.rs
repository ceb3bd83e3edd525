//! CRM reads and writes against the simulator over real HTTP: streaming, batch update with
//! per-input failures, faults and 429 storms, search window splitting, associations, properties.

mod common;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use common::*;
use futures::{StreamExt, TryStreamExt};
use hubspot::budget::Lane;
use hubspot::crm::{ListRequest, ObjectUpdate, TimeWindow};
use hubspot::oauth::InMemoryTokenStore;
use hubspot::properties::{DriftPolicy, ProvisionOutcome};
use hubspot::{ErrorKind, HubSpotClient, ObjectType, PortalClient};
use hubspot_sim::FaultConfig;

async fn connected(
    contacts: usize,
    tweak: impl FnOnce(&mut hubspot_sim::SimConfig),
) -> (hubspot_sim::RunningSimulator, HubSpotClient, PortalClient) {
    let sim = start_sim(contacts, |c| {
        // These tests are about data, not limits: lift the simulator's burst limit.
        c.limits.oauth_per_window = 1_000_000;
        tweak(c);
    })
    .await;
    let client = local_client(&sim, generous_policy(), Arc::new(InMemoryTokenStore::new()));
    let portal = connect(&client).await.expect("connect");
    let portal_client = client.portal(portal, Lane::Bulk);
    (sim, client, portal_client)
}

fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn streaming_a_50k_portal_returns_each_contact_once_page_by_page() {
    let (sim, _client, portal) = connected(50_000, |_| {}).await;
    let request = ListRequest {
        properties: vec!["email".into(), "jobtitle".into()],
        associations: vec![ObjectType::Companies],
        after: None,
    };
    // Ids are dense from 1_000_001: one bit each proves "exactly once" without storing records.
    let mut seen = vec![false; 50_000];
    let mut pages = 0;
    let mut largest_page = 0;
    let rss_before = rss_kib();
    let mut rss_peak = rss_before;
    let mut stream = Box::pin(portal.list_pages(ObjectType::Contacts, request));
    while let Some(page) = stream.next().await {
        let page = page.expect("page");
        pages += 1;
        largest_page = largest_page.max(page.objects.len());
        for record in &page.objects {
            let index = record.id.parse::<usize>().unwrap() - 1_000_001;
            assert!(!seen[index], "contact {} returned twice", record.id);
            seen[index] = true;
        }
        if pages % 50 == 0 {
            rss_peak = rss_peak.max(rss_kib());
        }
    }
    assert!(seen.iter().all(|s| *s), "every contact returned");
    assert_eq!(pages, 500);
    assert!(largest_page <= 100);
    // One page in flight: growth while streaming 50k records stays far below their size.
    assert!(
        rss_peak.saturating_sub(rss_before) < 64 * 1024,
        "RSS grew by {} KiB while streaming",
        rss_peak - rss_before
    );
    assert_eq!(sim.stats().rate_limited, 0);
}

#[tokio::test]
async fn batch_update_reports_exactly_the_invalid_inputs() {
    let (_sim, _client, portal) = connected(300, |_| {}).await;
    portal
        .provision_conturs_properties(DriftPolicy::Update)
        .await
        .expect("provision");
    let ids: Vec<String> = portal
        .list_all(ObjectType::Contacts, ListRequest::default())
        .map_ok(|r| r.id)
        .try_collect()
        .await
        .unwrap();
    assert_eq!(ids.len(), 300);
    let bad_grade: HashSet<usize> = [3, 150, 151].into();
    let bad_score: HashSet<usize> = [42, 299].into();
    let mut updates: Vec<ObjectUpdate> = ids
        .iter()
        .enumerate()
        .map(|(i, id)| {
            let mut props = BTreeMap::new();
            props.insert(
                "conturs_score".into(),
                if bad_score.contains(&i) {
                    "ninety".into()
                } else {
                    (i % 101).to_string()
                },
            );
            props.insert(
                "conturs_grade".into(),
                if bad_grade.contains(&i) {
                    "Z".into()
                } else {
                    "B".into()
                },
            );
            ObjectUpdate {
                id: id.clone(),
                properties: props,
            }
        })
        .collect();
    updates.push(ObjectUpdate {
        id: "999999999".into(),
        properties: BTreeMap::from([("conturs_score".to_owned(), "1".to_owned())]),
    });

    let report = portal
        .batch_update(ObjectType::Contacts, &updates)
        .await
        .expect("batch update");
    let mut expected_failed: Vec<String> = bad_grade
        .iter()
        .chain(&bad_score)
        .map(|i| ids[*i].clone())
        .collect();
    expected_failed.push("999999999".into());
    expected_failed.sort();
    let mut failed: Vec<String> = report.failed.iter().map(|f| f.id.clone()).collect();
    failed.sort();
    assert_eq!(failed, expected_failed);
    assert_eq!(report.updated.len(), 300 - 5);
    for failure in &report.failed {
        assert!(!failure.message.is_empty());
    }
    let grade_failure = report.failed.iter().find(|f| f.id == ids[3]).unwrap();
    assert!(
        grade_failure.message.contains("conturs_grade") || grade_failure.code.is_some(),
        "{grade_failure:?}"
    );

    // The valid inputs really were written.
    let read = portal
        .batch_read(
            ObjectType::Contacts,
            &ids,
            &["conturs_score".into(), "conturs_grade".into()],
        )
        .await
        .unwrap();
    assert!(read.missing.is_empty());
    let by_id: HashMap<_, _> = read.objects.iter().map(|o| (o.id.clone(), o)).collect();
    for (i, id) in ids.iter().enumerate() {
        let record = by_id[id];
        if bad_grade.contains(&i) || bad_score.contains(&i) {
            assert_eq!(
                record.property("conturs_grade"),
                None,
                "invalid input {i} left untouched"
            );
        } else {
            assert_eq!(
                record.property("conturs_score"),
                Some((i % 101).to_string().as_str())
            );
            assert_eq!(record.property("conturs_grade"), Some("B"));
        }
    }
}

#[tokio::test]
async fn batch_read_reports_missing_ids() {
    let (_sim, _client, portal) = connected(250, |_| {}).await;
    let mut ids: Vec<String> = (1_000_001..1_000_251).map(|i: u64| i.to_string()).collect();
    ids.push("1".into());
    let read = portal
        .batch_read(ObjectType::Contacts, &ids, &["email".into()])
        .await
        .unwrap();
    assert_eq!(read.objects.len(), 250);
    assert_eq!(read.missing, vec!["1".to_owned()]);
    assert!(read.objects.iter().all(|o| o.property("email").is_some()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_errors_and_a_429_storm_still_return_every_record() {
    let (sim, _client, portal) = connected(3_000, |_| {}).await;
    sim.set_faults(
        portal.portal_id(),
        FaultConfig {
            server_error_rate: 0.2,
            // Seeded: the first requests meet a 5xx in every run, not in most.
            seed: Some(1),
            ..FaultConfig::default()
        },
    )
    .unwrap();
    sim.rate_limit_storm(portal.portal_id(), Duration::from_secs(2))
        .unwrap();
    let records: Vec<String> = portal
        .list_all(ObjectType::Contacts, ListRequest::default())
        .map_ok(|r| r.id)
        .try_collect()
        .await
        .expect("completes despite faults");
    let unique: HashSet<_> = records.iter().collect();
    assert_eq!(records.len(), 3_000);
    assert_eq!(unique.len(), 3_000);
    let stats = sim.stats();
    let portal_stats = &stats.portals[&portal.portal_id()];
    let server_errors: u64 = portal_stats
        .responses_by_status
        .iter()
        .filter(|(s, _)| **s >= 500)
        .map(|(_, n)| *n)
        .sum();
    assert!(
        server_errors > 0,
        "faults were injected: {:?}",
        portal_stats.responses_by_status
    );
    assert!(portal_stats.rate_limited > 0, "the storm answered 429");
}

/// Requests the simulator has served for the client's portal so far.
fn requests_of(sim: &hubspot_sim::RunningSimulator, portal: &hubspot::PortalClient) -> u64 {
    sim.stats()
        .portals
        .get(&portal.portal_id())
        .map_or(0, |p| p.requests)
}

#[tokio::test]
async fn validation_errors_are_not_retried() {
    let (sim, _client, portal) = connected(10, |_| {}).await;
    let requests = || requests_of(&sim, &portal);
    let before = requests();
    let update = ObjectUpdate {
        id: "1000001".into(),
        properties: BTreeMap::from([("lifecyclestage".to_owned(), "no_such_stage".to_owned())]),
    };
    let report = portal
        .batch_update(ObjectType::Contacts, &[update])
        .await
        .unwrap();
    assert_eq!(report.failed.len(), 1);
    assert_eq!(report.failed[0].code.as_deref(), Some("INVALID_OPTION"));
    assert_eq!(requests() - before, 1);
}

/// A property that does not exist is the request's problem, not one input's: the batch is not
/// split contact by contact (one request), and the error names the property so the caller can
/// create it and try again.
#[tokio::test]
async fn a_missing_property_fails_the_batch_once_and_is_named() {
    let (sim, _client, portal) = connected(10, |_| {}).await;
    let requests = || requests_of(&sim, &portal);
    let before = requests();
    let updates: Vec<ObjectUpdate> = (0..10)
        .map(|i| ObjectUpdate {
            id: (1_000_001 + i).to_string(),
            properties: BTreeMap::from([("no_such_property".to_owned(), "x".to_owned())]),
        })
        .collect();
    let error = portal
        .batch_update(ObjectType::Contacts, &updates)
        .await
        .expect_err("a missing property fails the batch");
    assert_eq!(error.missing_properties(), vec!["no_such_property"]);
    assert_eq!(requests() - before, 1, "not split input by input");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn search_splits_windows_past_ten_thousand_results() {
    let (sim, _client, portal) = connected(10_600, |_| {}).await;
    let window = TimeWindow {
        from_ms: 0,
        to_ms: 4_102_444_800_000,
    };
    let ids: Vec<String> = portal
        .search_modified(ObjectType::Contacts, window, vec!["email".into()])
        .map_ok(|r| r.id)
        .try_collect()
        .await
        .expect("search completes");
    let unique: HashSet<_> = ids.iter().collect();
    assert_eq!(ids.len(), 10_600);
    assert_eq!(unique.len(), 10_600);
    let stats = sim.stats();
    assert_eq!(
        stats.portals[&portal.portal_id()].rate_limited,
        0,
        "search stayed under 5/s"
    );
}

#[tokio::test]
async fn association_batch_read_follows_per_result_paging() {
    let (_sim, _client, portal) = connected(1_500, |c| c.association_page_size = 3).await;
    let contacts: Vec<_> = portal
        .list_all(
            ObjectType::Contacts,
            ListRequest {
                associations: vec![ObjectType::Companies],
                ..ListRequest::default()
            },
        )
        .try_collect()
        .await
        .unwrap();
    let mut contacts_of: BTreeMap<String, HashSet<String>> = BTreeMap::new();
    for contact in &contacts {
        for company in contact.associated_ids(ObjectType::Companies) {
            contacts_of
                .entry(company)
                .or_default()
                .insert(contact.id.clone());
        }
    }
    let company_ids: Vec<String> = contacts_of.keys().cloned().collect();
    assert!(
        contacts_of.values().any(|c| c.len() > 3),
        "some company needs paging"
    );
    let links = portal
        .batch_read_associations(ObjectType::Companies, ObjectType::Contacts, &company_ids)
        .await
        .unwrap();
    assert_eq!(links.len(), company_ids.len());
    for link in links {
        let got: HashSet<String> = link.to_ids.into_iter().collect();
        assert_eq!(got, contacts_of[&link.from_id], "company {}", link.from_id);
    }
    // And contact → company agrees with the inline associations, 1,000 ids per request.
    let contact_ids: Vec<String> = contacts.iter().map(|c| c.id.clone()).collect();
    let links = portal
        .batch_read_associations(ObjectType::Contacts, ObjectType::Companies, &contact_ids)
        .await
        .unwrap();
    for (contact, link) in contacts.iter().zip(links) {
        assert_eq!(contact.id, link.from_id);
        let mut to = link.to_ids.clone();
        to.sort();
        assert_eq!(to, contact.associated_ids(ObjectType::Companies));
    }
}

#[tokio::test]
async fn property_provisioning_is_idempotent_and_repairs_drift() {
    let (sim, client, portal) = connected(10, |_| {}).await;
    // Two provisioners racing: both succeed (one of them sees 409s).
    let other = client.portal(portal.portal_id(), Lane::Realtime);
    let (a, b) = tokio::join!(
        portal.provision_conturs_properties(DriftPolicy::Update),
        other.provision_conturs_properties(DriftPolicy::Update)
    );
    let (a, b) = (a.expect("first"), b.expect("second"));
    let created = a
        .properties
        .iter()
        .chain(&b.properties)
        .filter(|(_, o)| *o == ProvisionOutcome::Created)
        .count();
    assert_eq!(
        created, 5,
        "each property created exactly once: {a:?} {b:?}"
    );
    let again = portal
        .provision_conturs_properties(DriftPolicy::Update)
        .await
        .unwrap();
    assert_eq!(again.group, ProvisionOutcome::AlreadyPresent);
    assert!(
        again
            .properties
            .iter()
            .all(|(_, o)| *o == ProvisionOutcome::AlreadyPresent)
    );

    // Someone edits our grade property in HubSpot.
    let token = client
        .tokens()
        .access_token(portal.portal_id())
        .await
        .unwrap();
    let url = format!(
        "{}{}",
        sim.base_url(),
        client
            .paths()
            .property(ObjectType::Contacts, "conturs_grade")
    );
    let patched = reqwest::Client::new()
        .patch(url)
        .bearer_auth(secrecy::ExposeSecret::expose_secret(&token))
        .json(&serde_json::json!({"label": "Renamed by a user"}))
        .send()
        .await
        .unwrap();
    assert!(patched.status().is_success(), "{}", patched.status());
    let reported = portal
        .provision_conturs_properties(DriftPolicy::Report)
        .await
        .unwrap();
    assert!(
        matches!(&reported.properties[1].1, ProvisionOutcome::Drifted { fields, .. } if fields == &vec!["label".to_owned()]),
        "{reported:?}"
    );
    let repaired = portal
        .provision_conturs_properties(DriftPolicy::Update)
        .await
        .unwrap();
    assert!(
        matches!(&repaired.properties[1].1, ProvisionOutcome::Updated { .. }),
        "{repaired:?}"
    );
    let clean = portal
        .provision_conturs_properties(DriftPolicy::Report)
        .await
        .unwrap();
    assert!(
        clean
            .properties
            .iter()
            .all(|(_, o)| *o == ProvisionOutcome::AlreadyPresent)
    );
}

#[tokio::test]
async fn missing_scopes_are_reported_as_such() {
    let sim = start_sim(10, |_| {}).await;
    let store = Arc::new(InMemoryTokenStore::new());
    let client = local_client(&sim, generous_policy(), store.clone());
    let pair = sim
        .issue_tokens_with(sim.portal_id(), &["crm.objects.contacts.read"])
        .unwrap();
    hubspot::oauth::TokenStore::save(
        store.as_ref(),
        pair.portal_id,
        hubspot::oauth::TokenSet {
            access_token: pair.access_token.into(),
            refresh_token: pair.refresh_token.into(),
            expires_at: chrono::Utc::now() + chrono::Duration::minutes(30),
            portal_id: pair.portal_id,
            scopes: pair.scopes,
        },
    )
    .await
    .unwrap();
    let update = ObjectUpdate {
        id: "1000001".into(),
        properties: BTreeMap::from([("firstname".to_owned(), "A".to_owned())]),
    };
    let err = client
        .portal(pair.portal_id, Lane::Realtime)
        .batch_update(ObjectType::Contacts, &[update])
        .await
        .expect_err("no write scope");
    assert_eq!(err.kind(), ErrorKind::MissingScopes);
    match err {
        hubspot::HubSpotError::MissingScopes { required, .. } => {
            assert!(required.contains(&"crm.objects.contacts.write".to_owned()))
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn legacy_numbered_paths_work_too() {
    let sim = start_sim(250, |c| c.limits.oauth_per_window = 1_000_000).await;
    let mut config = client_config(&sim);
    config.api_version = hubspot::HubSpotApiVersion::Legacy;
    let client = HubSpotClient::new(
        config,
        hubspot::RateBudget::local(generous_policy()).unwrap(),
        Arc::new(InMemoryTokenStore::new()),
        hubspot::oauth::RefreshCoordination::Local,
    )
    .unwrap();
    let portal = client.portal(connect(&client).await.unwrap(), Lane::Bulk);
    let ids: Vec<String> = portal
        .list_all(ObjectType::Contacts, ListRequest::default())
        .map_ok(|r| r.id)
        .try_collect()
        .await
        .unwrap();
    assert_eq!(ids.len(), 250);
    let read = portal
        .batch_read(ObjectType::Contacts, &ids, &[])
        .await
        .unwrap();
    assert_eq!(read.objects.len(), 250);
    let links = portal
        .batch_read_associations(ObjectType::Contacts, ObjectType::Companies, &ids)
        .await
        .unwrap();
    assert_eq!(links.len(), 250);
    assert!(links.iter().any(|l| !l.to_ids.is_empty()));
    let stats = sim.stats();
    assert!(
        stats.portals[&portal.portal_id()]
            .requests_by_endpoint
            .keys()
            .all(|k| k.contains("/crm/v3/") || k.contains("/crm/v4/")),
        "{:?}",
        stats.portals[&portal.portal_id()].requests_by_endpoint
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn search_reads_a_millisecond_holding_more_than_ten_thousand_records() {
    let (sim, _client, portal) = connected(0, |_| {}).await;
    let same_ms = 1_780_000_000_000_i64;
    {
        let state = sim.state().portal(portal.portal_id()).expect("portal");
        let mut data = state.write();
        let store = data.store_mut(hubspot_sim::ObjectType::Contacts);
        for i in 0..10_050 {
            store.create(
                &[("email".to_owned(), format!("c{i}@dense.example"))],
                same_ms,
            );
        }
        for i in 0..30 {
            store.create(
                &[("email".to_owned(), format!("n{i}@near.example"))],
                same_ms - 5 + (i % 3) * 5,
            );
        }
    }
    let window = TimeWindow {
        from_ms: same_ms - 10,
        to_ms: same_ms + 10,
    };
    let ids: Vec<String> = portal
        .search_modified(ObjectType::Contacts, window, vec!["email".into()])
        .map_ok(|r| r.id)
        .try_collect()
        .await
        .expect("search completes");
    let unique: HashSet<_> = ids.iter().collect();
    assert_eq!(unique.len(), ids.len(), "no duplicates");
    assert_eq!(ids.len(), 10_080);
}
