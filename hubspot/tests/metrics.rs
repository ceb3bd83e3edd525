//! The client's metrics through the `metrics` facade: requests, retries, 429s and latency per
//! endpoint, observed with a recording `metrics::Recorder` installed for this test binary.

mod common;

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::*;
use futures::TryStreamExt;
use hubspot::ObjectType;
use hubspot::budget::Lane;
use hubspot::crm::ListRequest;
use hubspot::oauth::InMemoryTokenStore;
use hubspot_sim::FaultConfig;
use metrics::{
    Counter, CounterFn, Gauge, Histogram, HistogramFn, Key, KeyName, Metadata, Recorder,
    SharedString, Unit,
};

#[derive(Default)]
struct Cell(AtomicU64);

impl CounterFn for Cell {
    fn increment(&self, value: u64) {
        self.0.fetch_add(value, Ordering::SeqCst);
    }
    fn absolute(&self, value: u64) {
        self.0.store(value, Ordering::SeqCst);
    }
}

impl HistogramFn for Cell {
    fn record(&self, _value: f64) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

/// Counts counter increments and histogram samples per rendered key.
#[derive(Default, Clone)]
struct Capture(Arc<Mutex<BTreeMap<String, Arc<Cell>>>>);

impl Capture {
    fn cell(&self, key: &Key) -> Arc<Cell> {
        let mut labels: Vec<String> = key
            .labels()
            .map(|l| format!("{}={}", l.key(), l.value()))
            .collect();
        labels.sort();
        let name = format!("{}{{{}}}", key.name(), labels.join(","));
        self.0.lock().unwrap().entry(name).or_default().clone()
    }

    fn sum(&self, prefix: &str, must_contain: &[&str]) -> u64 {
        self.0
            .lock()
            .unwrap()
            .iter()
            .filter(|(k, _)| k.starts_with(prefix) && must_contain.iter().all(|m| k.contains(m)))
            .map(|(_, c)| c.0.load(Ordering::SeqCst))
            .sum()
    }
}

impl Recorder for Capture {
    fn describe_counter(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}
    fn describe_gauge(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}
    fn describe_histogram(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}
    fn register_counter(&self, key: &Key, _: &Metadata<'_>) -> Counter {
        Counter::from_arc(self.cell(key))
    }
    fn register_gauge(&self, _: &Key, _: &Metadata<'_>) -> Gauge {
        Gauge::noop()
    }
    fn register_histogram(&self, key: &Key, _: &Metadata<'_>) -> Histogram {
        Histogram::from_arc(self.cell(key))
    }
}

#[tokio::test]
async fn requests_retries_429s_and_latency_are_counted_per_endpoint() {
    let capture = Capture::default();
    metrics::set_global_recorder(capture.clone()).expect("only recorder in this binary");

    let sim = start_sim(1_000, |c| c.limits.oauth_per_window = 1_000_000).await;
    let client = local_client(&sim, generous_policy(), Arc::new(InMemoryTokenStore::new()));
    let portal_id = connect(&client).await.unwrap();
    sim.set_faults(
        portal_id,
        FaultConfig {
            server_error_rate: 0.3,
            // Seeded: the first requests meet a 5xx in every run, not in most.
            seed: Some(1),
            ..FaultConfig::default()
        },
    )
    .unwrap();
    sim.rate_limit_storm(portal_id, Duration::from_millis(300))
        .unwrap();
    let records: Vec<_> = client
        .portal(portal_id, Lane::Bulk)
        .list_all(ObjectType::Contacts, ListRequest::default())
        .try_collect()
        .await
        .unwrap();
    assert_eq!(records.len(), 1_000);

    let stats = sim.stats();
    let seen = &stats.portals[&portal_id];
    let ok_pages = capture.sum(
        "hubspot_requests_total",
        &["endpoint=objects.list", "status=200"],
    );
    assert_eq!(ok_pages, 10);
    let all_list = capture.sum("hubspot_requests_total", &["endpoint=objects.list"]);
    assert_eq!(
        all_list, seen.requests,
        "every request the simulator saw was counted"
    );
    let too_many = capture.sum("hubspot_rate_limited_total", &["endpoint=objects.list"]);
    assert_eq!(too_many, seen.rate_limited);
    assert!(too_many > 0);
    let retries = capture.sum("hubspot_retries_total", &["endpoint=objects.list"]);
    assert_eq!(
        retries,
        seen.requests - 10,
        "every failed attempt was retried and counted"
    );
    assert!(capture.sum("hubspot_retries_total", &["reason=server_error"]) > 0);
    assert!(capture.sum("hubspot_retries_total", &["reason=rate_limited"]) > 0);
    let latency_samples = capture.sum(
        "hubspot_request_duration_seconds",
        &["endpoint=objects.list"],
    );
    assert_eq!(latency_samples, seen.requests);
    assert!(
        capture.sum(
            "hubspot_requests_total",
            &["endpoint=oauth.exchange_code", "status=200"]
        ) == 1
    );
}
