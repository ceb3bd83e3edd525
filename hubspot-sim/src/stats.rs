//! Counters for benchmarks and tests: requests by endpoint, 429s, webhook outcomes.

use std::collections::BTreeMap;

use serde::Serialize;

/// Counters of one portal (or of requests with no portal, under id 0).
#[derive(Clone, Debug, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PortalStats {
    pub requests: u64,
    pub requests_by_endpoint: BTreeMap<String, u64>,
    pub responses_by_status: BTreeMap<u16, u64>,
    pub rate_limited: u64,
    /// Most requests admitted within one rolling window (any app).
    pub peak_window_requests: usize,
}

/// Webhook delivery counters.
#[derive(Clone, Debug, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct WebhookStats {
    pub events_fired: u64,
    /// Batches acknowledged with a 2xx.
    pub deliveries: u64,
    pub events_delivered: u64,
    /// Attempts that failed (connection error, timeout or non-2xx).
    pub failures: u64,
    /// Batches dropped after the last retry.
    pub given_up: u64,
    pub duplicates_sent: u64,
}

/// A snapshot of everything.
#[derive(Clone, Debug, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StatsSnapshot {
    pub requests: u64,
    pub rate_limited: u64,
    pub portals: BTreeMap<u64, PortalStats>,
    pub webhooks: WebhookStats,
}

/// Mutable counters behind the simulator's stats mutex.
#[derive(Debug, Default)]
pub struct Stats {
    pub portals: BTreeMap<u64, PortalStats>,
}

impl Stats {
    /// Counts one finished request.
    pub fn record(&mut self, portal: u64, endpoint: &str, status: u16) {
        let entry = self.portals.entry(portal).or_default();
        entry.requests += 1;
        *entry
            .requests_by_endpoint
            .entry(endpoint.to_owned())
            .or_default() += 1;
        *entry.responses_by_status.entry(status).or_default() += 1;
        if status == 429 {
            entry.rate_limited += 1;
        }
    }
}
