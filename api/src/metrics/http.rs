//! HTTP metrics from one middleware around every route: requests and latency by method,
//! matched route template (never the raw path, which would make a series per contact or job
//! id) and status.

use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::Response;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::{Registry, Unit};

/// Prometheus' default latency buckets (5 ms … 10 s), in seconds.
const LATENCY_BUCKETS: [f64; 11] = [
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];
/// The route label of requests no route matched (404s for unknown paths).
pub const UNMATCHED_ROUTE: &str = "unmatched";

/// One series per method, route template and status.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct HttpLabels {
    pub method: String,
    pub route: String,
    pub status: String,
}

type HistogramFamily = Family<HttpLabels, Histogram, fn() -> Histogram>;

/// This process's HTTP counters; cheap to clone (shared). Each app keeps its own, so several
/// apps in one process (the tests) never mix their counts.
#[derive(Clone, Debug)]
pub struct HttpMetrics {
    requests: Family<HttpLabels, Counter>,
    duration: HistogramFamily,
}

impl Default for HttpMetrics {
    fn default() -> Self {
        fn histogram() -> Histogram {
            Histogram::new(LATENCY_BUCKETS)
        }
        Self {
            requests: Family::default(),
            duration: Family::new_with_constructor(histogram),
        }
    }
}

impl HttpMetrics {
    /// Counts one answered request.
    pub fn observe(&self, labels: &HttpLabels, seconds: f64) {
        self.requests.get_or_create(labels).inc();
        self.duration.get_or_create(labels).observe(seconds);
    }

    /// Adds this process's HTTP series to a scrape's registry (they stay shared).
    pub fn register(&self, registry: &mut Registry) {
        registry.register(
            "conturs_http_requests",
            "HTTP requests answered, by method, route template and status",
            self.requests.clone(),
        );
        registry.register_with_unit(
            "conturs_http_request_duration",
            "Time to answer (until the response headers), by method, route template and status",
            Unit::Seconds,
            self.duration.clone(),
        );
    }
}

/// The middleware: times the request and counts it under its matched route template.
pub async fn track(State(metrics): State<HttpMetrics>, request: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = request.method().as_str().to_owned();
    let route = request.extensions().get::<MatchedPath>().map_or_else(
        || UNMATCHED_ROUTE.to_owned(),
        |path| path.as_str().to_owned(),
    );
    let response = next.run(request).await;
    let labels = HttpLabels {
        method,
        route,
        status: response.status().as_u16().to_string(),
    };
    metrics.observe(&labels, started.elapsed().as_secs_f64());
    response
}
