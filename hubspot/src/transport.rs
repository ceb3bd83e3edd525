//! One HTTP exchange with HubSpot: send, time it, count it, and turn a non-success answer into
//! the error taxonomy. Budgets, tokens and retries wrap around this.

use std::time::Instant;

use bytes::Bytes;
use reqwest::header::HeaderMap;
use serde::de::DeserializeOwned;
use url::Url;

use crate::error::{HubSpotError, classify};
use crate::usage::Outcome;

/// The HTTP client and the base URL every path is appended to.
#[derive(Debug, Clone)]
pub(crate) struct Transport {
    pub(crate) http: reqwest::Client,
    base: String,
}

/// A received answer, success or not.
#[derive(Debug)]
pub(crate) struct RawResponse {
    pub(crate) status: u16,
    pub(crate) headers: HeaderMap,
    pub(crate) body: Bytes,
}

impl Transport {
    pub(crate) fn new(http: reqwest::Client, base: &Url) -> Self {
        Self {
            http,
            base: base.as_str().trim_end_matches('/').to_owned(),
        }
    }

    pub(crate) fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Sends once. Transport failures become [`HubSpotError::Transient`]; HTTP errors are
    /// returned as a response for the caller to classify (some callers read 400 bodies).
    pub(crate) async fn send(
        &self,
        endpoint: &'static str,
        request: reqwest::RequestBuilder,
    ) -> Result<RawResponse, HubSpotError> {
        self.send_observed(endpoint, request, |_| {}).await
    }

    /// Like [`Transport::send`], and tells `observe` what became of a request that left this
    /// process (every answer, and timeouts or dropped connections after sending); a request
    /// that never connected is not observed, since HubSpot never saw it.
    pub(crate) async fn send_observed(
        &self,
        endpoint: &'static str,
        request: reqwest::RequestBuilder,
        observe: impl FnOnce(Outcome),
    ) -> Result<RawResponse, HubSpotError> {
        let started = Instant::now();
        let outcome = async {
            let response = request.send().await?;
            let status = response.status().as_u16();
            let headers = response.headers().clone();
            let body = response.bytes().await?;
            Ok::<_, reqwest::Error>(RawResponse {
                status,
                headers,
                body,
            })
        }
        .await;
        metrics::histogram!("hubspot_request_duration_seconds", "endpoint" => endpoint)
            .record(started.elapsed().as_secs_f64());
        match outcome {
            Ok(response) => {
                observe(Outcome::Answered(response.status));
                metrics::counter!(
                    "hubspot_requests_total",
                    "endpoint" => endpoint,
                    "status" => response.status.to_string()
                )
                .increment(1);
                if response.status == 429 {
                    metrics::counter!("hubspot_rate_limited_total", "endpoint" => endpoint)
                        .increment(1);
                }
                Ok(response)
            }
            Err(err) => {
                if !err.is_connect() {
                    observe(Outcome::NoAnswer);
                }
                metrics::counter!(
                    "hubspot_requests_total",
                    "endpoint" => endpoint,
                    "status" => "transport_error"
                )
                .increment(1);
                Err(HubSpotError::from_transport(&err))
            }
        }
    }
}

impl RawResponse {
    pub(crate) fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }

    /// The answer as an error when it is not a success.
    pub(crate) fn error(&self) -> HubSpotError {
        classify(self.status, &self.headers, &self.body)
    }

    /// Decodes a success body; a body that does not parse is transient (HubSpot hiccup,
    /// truncated proxy answer), so it is retried rather than trusted.
    pub(crate) fn json<T: DeserializeOwned>(&self) -> Result<T, HubSpotError> {
        let body: &[u8] = if self.body.is_empty() {
            b"null"
        } else {
            &self.body
        };
        serde_json::from_slice(body).map_err(|e| {
            HubSpotError::transient(format!(
                "malformed body from HubSpot ({}): {e}",
                self.status
            ))
        })
    }

    pub(crate) fn header_u64(&self, name: &str) -> Option<u64> {
        self.headers.get(name)?.to_str().ok()?.trim().parse().ok()
    }
}
