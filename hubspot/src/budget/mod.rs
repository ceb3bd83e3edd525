//! The per-portal request budget (DESIGN §4): who may call HubSpot now, and who waits.
//!
//! In production the truth lives in Redis ([`RedisGcra`]) so every process shares one budget,
//! with a `governor` limiter in front in each process to smooth its own bursts before they
//! reach Redis. The embedded single-process setup uses [`LocalGcra`] only.

mod local;
mod policy;
mod redis_gcra;

use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::{Duration, Instant};

use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

pub use local::LocalGcra;
pub use policy::{BudgetPolicy, GcraDecision, Lane, LimitKind, PolicyError, gcra};
pub use redis_gcra::RedisGcra;

use crate::error::HubSpotError;

/// The budget a client draws from; clone it into every client of the process.
#[derive(Clone)]
pub struct RateBudget {
    policy: BudgetPolicy,
    backend: Backend,
}

#[derive(Clone)]
enum Backend {
    Local(Arc<LocalGcra>),
    Shared {
        redis: RedisGcra,
        /// Keyed per lane too, so this process's bulk work never queues realtime work locally.
        front: Arc<DefaultKeyedRateLimiter<(u64, LimitKind, Lane)>>,
    },
}

impl std::fmt::Debug for RateBudget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mode = match &self.backend {
            Backend::Local(_) => "local",
            Backend::Shared { .. } => "redis",
        };
        write!(f, "RateBudget({mode}, {:?})", self.policy)
    }
}

impl RateBudget {
    /// In-process only: correct when exactly one process talks to HubSpot for a portal.
    pub fn local(policy: BudgetPolicy) -> Result<Self, PolicyError> {
        policy.validate()?;
        Ok(Self {
            policy,
            backend: Backend::Local(Arc::new(LocalGcra::default())),
        })
    }

    /// Shared through Redis, with a per-process governor in front.
    pub fn shared(policy: BudgetPolicy, redis: RedisGcra) -> Result<Self, PolicyError> {
        policy.validate()?;
        let period = Duration::from_micros(policy.emission_us(LimitKind::Api));
        let burst = NonZeroU32::new(policy.realtime_burst.max(1)).unwrap_or(NonZeroU32::MIN);
        let quota = Quota::with_period(period)
            .ok_or(PolicyError("emission interval must be > 0"))?
            .allow_burst(burst);
        Ok(Self {
            policy,
            backend: Backend::Shared {
                redis,
                front: Arc::new(RateLimiter::keyed(quota)),
            },
        })
    }

    pub fn policy(&self) -> &BudgetPolicy {
        &self.policy
    }

    /// Waits until this portal may send one more request of `kind` on `lane`.
    pub async fn acquire(
        &self,
        portal: u64,
        kind: LimitKind,
        lane: Lane,
    ) -> Result<(), HubSpotError> {
        let started = Instant::now();
        if let Backend::Shared { front, .. } = &self.backend
            && kind == LimitKind::Api
        {
            front.until_key_ready(&(portal, kind, lane)).await;
        }
        loop {
            let wait = match &self.backend {
                Backend::Local(local) => local.try_take(&self.policy, portal, kind, lane),
                Backend::Shared { redis, .. } => redis
                    .try_take(&self.policy, portal, kind, lane)
                    .await
                    .map_err(|e| {
                        HubSpotError::Infrastructure(format!("rate budget (Redis) failed: {e}"))
                    })?,
            };
            match wait {
                None => break,
                Some(wait) => tokio::time::sleep(wait + small_jitter()).await,
            }
        }
        metrics::histogram!(
            "hubspot_budget_wait_seconds",
            "kind" => kind.as_str(),
            "lane" => lane_label(lane)
        )
        .record(started.elapsed().as_secs_f64());
        Ok(())
    }

    /// Stops every request for the portal (in all processes when shared) for `pause`:
    /// called when HubSpot answers 429 or its headers say the window is nearly used up.
    pub async fn penalize(
        &self,
        portal: u64,
        kind: LimitKind,
        pause: Duration,
    ) -> Result<(), HubSpotError> {
        match &self.backend {
            Backend::Local(local) => {
                local.penalize(&self.policy, portal, kind, pause);
                Ok(())
            }
            Backend::Shared { redis, .. } => redis
                .penalize(&self.policy, portal, kind, pause)
                .await
                .map_err(|e| {
                    HubSpotError::Infrastructure(format!("rate budget (Redis) failed: {e}"))
                }),
        }
    }
}

pub(crate) fn lane_label(lane: Lane) -> &'static str {
    match lane {
        Lane::Realtime => "realtime",
        Lane::Bulk => "bulk",
    }
}

/// Up to 2 ms, so waiters refused together do not all hit Redis in the same instant.
fn small_jitter() -> Duration {
    Duration::from_micros(rand::random_range(0..2000))
}
