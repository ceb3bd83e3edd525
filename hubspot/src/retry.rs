//! Bounded retries with backon: exponential backoff with jitter for transient failures, HubSpot's
//! own waits for 429/423/477, never a retry for validation errors. Every retry is logged with
//! its reason and counted.

use std::future::Future;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use backon::{ExponentialBuilder, Retryable};

use crate::error::HubSpotError;

/// How hard to try before giving up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Retries for transient failures (5xx, 423, timeouts, connection errors, bad bodies).
    pub max_retries: usize,
    /// Retries after 429s, counted separately: a 429 storm is waited out, not given up on early.
    pub max_rate_limit_retries: usize,
    /// First backoff; it doubles per retry, with jitter, up to `max_delay`.
    pub min_delay: Duration,
    pub max_delay: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_retries: 6,
            max_rate_limit_retries: 12,
            min_delay: Duration::from_secs(1),
            max_delay: Duration::from_secs(30),
        }
    }
}

/// Who waits out a 429: the shared budget (which was told to pause the portal) or the retry
/// loop itself (calls that do not draw from a portal budget, like OAuth token calls).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RateLimitWait {
    InBudget,
    InRetry,
}

/// Runs `attempt` until it succeeds, fails permanently, or the policy's bounds are reached.
pub(crate) async fn with_retries<T, F, Fut>(
    policy: &RetryPolicy,
    endpoint: &'static str,
    rate_limit_wait: RateLimitWait,
    attempt: F,
) -> Result<T, HubSpotError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, HubSpotError>>,
{
    let transient_retries = AtomicUsize::new(0);
    let rate_limit_retries = AtomicUsize::new(0);
    let backoff = ExponentialBuilder::default()
        .with_jitter()
        .with_min_delay(policy.min_delay)
        .with_max_delay(policy.max_delay)
        .with_max_times(policy.max_retries + policy.max_rate_limit_retries);
    attempt
        .retry(backoff)
        .sleep(tokio::time::sleep)
        .when(|err: &HubSpotError| {
            if !err.is_retryable() {
                return false;
            }
            if matches!(err, HubSpotError::RateLimited { .. }) {
                rate_limit_retries.load(Ordering::Relaxed) < policy.max_rate_limit_retries
            } else {
                transient_retries.load(Ordering::Relaxed) < policy.max_retries
            }
        })
        .adjust(|err: &HubSpotError, backoff: Option<Duration>| match err {
            HubSpotError::RateLimited { retry_after, .. } => Some(match rate_limit_wait {
                // The budget now holds every request for the portal; just re-queue behind it.
                RateLimitWait::InBudget => jitter_up_to(Duration::from_millis(250)),
                RateLimitWait::InRetry => *retry_after + jitter_up_to(*retry_after / 10),
            }),
            other => match (other.required_wait(), backoff) {
                (Some(wait), Some(backoff)) => Some(wait.max(backoff)),
                (Some(wait), None) => Some(wait),
                (None, backoff) => Some(backoff.unwrap_or(policy.max_delay)),
            },
        })
        .notify(|err: &HubSpotError, delay: Duration| {
            let counter = if matches!(err, HubSpotError::RateLimited { .. }) {
                &rate_limit_retries
            } else {
                &transient_retries
            };
            counter.fetch_add(1, Ordering::Relaxed);
            let reason = err.reason_label();
            metrics::counter!("hubspot_retries_total", "endpoint" => endpoint, "reason" => reason)
                .increment(1);
            tracing::warn!(
                endpoint,
                reason,
                attempt = transient_retries.load(Ordering::Relaxed) + rate_limit_retries.load(Ordering::Relaxed),
                delay_ms = delay.as_millis() as u64,
                error = %err,
                "retrying HubSpot request"
            );
        })
        .await
}

fn jitter_up_to(max: Duration) -> Duration {
    let max_us = max.as_micros().max(1) as u64;
    Duration::from_micros(rand::random_range(0..max_us))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::RateLimitPolicy;

    fn quick() -> RetryPolicy {
        RetryPolicy {
            max_retries: 3,
            max_rate_limit_retries: 2,
            min_delay: Duration::from_millis(1),
            max_delay: Duration::from_millis(5),
        }
    }

    #[tokio::test]
    async fn transient_errors_are_retried_until_success() {
        let calls = AtomicUsize::new(0);
        let result = with_retries(&quick(), "test", RateLimitWait::InRetry, || async {
            if calls.fetch_add(1, Ordering::SeqCst) < 2 {
                Err(HubSpotError::transient("503 server error"))
            } else {
                Ok(7)
            }
        })
        .await;
        assert_eq!(result.unwrap(), 7);
        assert_eq!(calls.load(Ordering::SeqCst), 3);
    }

    #[tokio::test]
    async fn transient_retries_are_bounded() {
        let calls = AtomicUsize::new(0);
        let result: Result<(), _> =
            with_retries(&quick(), "test", RateLimitWait::InRetry, || async {
                calls.fetch_add(1, Ordering::SeqCst);
                Err(HubSpotError::transient("timeout"))
            })
            .await;
        assert!(result.is_err());
        assert_eq!(calls.load(Ordering::SeqCst), 4, "1 try + 3 retries");
    }

    #[tokio::test]
    async fn validation_errors_are_never_retried() {
        let calls = AtomicUsize::new(0);
        let result: Result<(), _> =
            with_retries(&quick(), "test", RateLimitWait::InRetry, || async {
                calls.fetch_add(1, Ordering::SeqCst);
                Err(HubSpotError::InvalidRequest {
                    status: 400,
                    body: Default::default(),
                })
            })
            .await;
        assert!(result.is_err());
        assert_eq!(calls.load(Ordering::SeqCst), 1);
        let reconnect: Result<(), _> =
            with_retries(&quick(), "test", RateLimitWait::InRetry, || async {
                calls.fetch_add(1, Ordering::SeqCst);
                Err(HubSpotError::NeedsReconnect {
                    reason: "revoked".into(),
                })
            })
            .await;
        assert!(reconnect.is_err());
        assert_eq!(calls.load(Ordering::SeqCst), 2);
    }

    #[tokio::test]
    async fn rate_limits_have_their_own_bound_and_wait_as_told() {
        let calls = AtomicUsize::new(0);
        let started = tokio::time::Instant::now();
        let result: Result<(), _> =
            with_retries(&quick(), "test", RateLimitWait::InRetry, || async {
                calls.fetch_add(1, Ordering::SeqCst);
                Err(HubSpotError::RateLimited {
                    policy: RateLimitPolicy::Secondly,
                    retry_after: Duration::from_millis(30),
                })
            })
            .await;
        assert!(result.is_err());
        assert_eq!(
            calls.load(Ordering::SeqCst),
            3,
            "1 try + 2 rate-limit retries"
        );
        assert!(started.elapsed() >= Duration::from_millis(60));
    }

    #[tokio::test]
    async fn locked_waits_at_least_what_hubspot_asks() {
        let calls = AtomicUsize::new(0);
        let started = tokio::time::Instant::now();
        let result = with_retries(&quick(), "test", RateLimitWait::InRetry, || async {
            if calls.fetch_add(1, Ordering::SeqCst) == 0 {
                Err(HubSpotError::Transient {
                    reason: "423 locked".into(),
                    min_wait: Some(Duration::from_millis(40)),
                })
            } else {
                Ok(())
            }
        })
        .await;
        assert!(result.is_ok());
        assert!(started.elapsed() >= Duration::from_millis(40));
    }
}
