//! `GET /metrics` in the Prometheus text format (0.0.4), behind the admin bearer token like
//! `/api/*` (it names customer portals; a Prometheus scrape job sends the token with
//! `authorization: { credentials_file: … }`).
//!
//! - HTTP: `conturs_http_requests_total`, `conturs_http_request_duration_seconds` by method,
//!   route template and status, counted by [`http::track`] around every route.
//! - Jobs, read from the ledger at scrape time: `conturs_job_runs{type,lane,status}`,
//!   `conturs_jobs_oldest_queued_age_seconds{lane}`.
//! - HubSpot, from the usage the workers wrote down: `conturs_hubspot_requests_total`,
//!   `conturs_hubspot_rate_limited_total`, `conturs_hubspot_server_errors_total` by portal.
//!
//! Each scrape builds a fresh registry: the HTTP families are shared into it, the rest is read
//! from the database, so nothing stale survives from one scrape to the next.

pub mod http;
pub(crate) mod ledger;
mod usage;

use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use prometheus_client::encoding::prometheus_text;
use prometheus_client::registry::Registry;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::error::{ApiError, ErrorBody, Unavailable};

pub use http::HttpMetrics;

/// The scrape route (the caller adds the admin check, `openapi::protect`).
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(scrape))
}

/// Prometheus metrics: HTTP, jobs, HubSpot requests and 429s.
#[utoipa::path(
    get,
    path = "/metrics",
    operation_id = "metrics",
    tag = "metrics",
    responses(
        (status = 200, description = "Prometheus text format 0.0.4.",
            content_type = "text/plain", body = String),
        (status = 500, description = "The metrics could not be encoded (`metrics_encoding`).",
            body = ErrorBody),
        (status = 503, response = Unavailable),
    )
)]
async fn scrape(State(state): State<AppState>) -> Result<Response, ApiError> {
    let mut registry = Registry::default();
    state.http_metrics.register(&mut registry);
    ledger::register(&mut registry, &state.db, chrono::Utc::now()).await?;
    usage::register(&mut registry, &state.db).await?;
    let mut body = String::new();
    prometheus_text::encode(&mut body, &registry).map_err(|_| {
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "metrics_encoding",
            "the metrics could not be encoded",
        )
    })?;
    Ok((
        [(header::CONTENT_TYPE, prometheus_text::CONTENT_TYPE)],
        body,
    )
        .into_response())
}
