//! The budget's numbers and the GCRA decision they feed, shared by the in-process limiter and
//! (mirrored line by line) by the Redis Lua script.
//!
//! GCRA keeps one number per portal: the theoretical arrival time (TAT) of the next request.
//! A request is admitted when it would not put the TAT more than `capacity` emission intervals
//! ahead of now. Both lanes share one TAT; bulk work has a smaller capacity than realtime work,
//! so bulk can never use the last `realtime_burst - bulk_burst` slots, and a realtime request
//! always goes ahead of waiting bulk requests. In any window `W` at most
//! `capacity + W / emission` requests pass, which is how the defaults stay under HubSpot's
//! 110 per rolling 10 s.

use std::time::Duration;

/// Which work a request serves; realtime (webhook scoring) must never wait behind bulk syncs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Lane {
    Realtime,
    Bulk,
}

/// Which HubSpot limit a request counts against: search has its own 5/s limit and is excluded
/// from the 110/10 s one (API-FACTS §5).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LimitKind {
    Api,
    Search,
}

impl LimitKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Api => "api",
            Self::Search => "search",
        }
    }
}

/// How fast one portal may be called.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BudgetPolicy {
    /// Sustained requests per `window`.
    pub requests_per_window: u32,
    pub window: Duration,
    /// Requests realtime work may have "in advance" (its burst).
    pub realtime_burst: u32,
    /// Requests bulk work may have in advance; the difference is reserved for realtime.
    pub bulk_burst: u32,
    /// Sustained search requests per second (HubSpot allows 5).
    pub search_per_second: u32,
}

impl Default for BudgetPolicy {
    /// HubSpot public OAuth apps: 110 per rolling 10 s. 100/10 s sustained plus a burst of 8
    /// gives at most 108 in any 10 s, leaving 2 for clock and network jitter. Search: 4/s plus a
    /// burst of 1 = at most 5 in any second.
    fn default() -> Self {
        Self {
            requests_per_window: 100,
            window: Duration::from_secs(10),
            realtime_burst: 8,
            bulk_burst: 4,
            search_per_second: 4,
        }
    }
}

/// A policy that makes no sense (zero rates, bulk allowed more than realtime).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid rate budget policy: {0}")]
pub struct PolicyError(pub &'static str);

impl BudgetPolicy {
    pub fn validate(&self) -> Result<(), PolicyError> {
        if self.requests_per_window == 0 || self.window.is_zero() {
            return Err(PolicyError("requests_per_window and window must be > 0"));
        }
        if self.search_per_second == 0 {
            return Err(PolicyError("search_per_second must be > 0"));
        }
        if self.bulk_burst == 0 {
            return Err(PolicyError("bulk_burst must be at least 1"));
        }
        if self.bulk_burst > self.realtime_burst {
            return Err(PolicyError("bulk_burst must not exceed realtime_burst"));
        }
        Ok(())
    }

    /// Time between two requests at the sustained rate, in microseconds.
    pub fn emission_us(&self, kind: LimitKind) -> u64 {
        match kind {
            LimitKind::Api => {
                (self.window.as_micros() as u64 / u64::from(self.requests_per_window)).max(1)
            }
            LimitKind::Search => 1_000_000 / u64::from(self.search_per_second),
        }
    }

    /// How many emission intervals ahead of now the TAT may run for this lane.
    pub fn capacity(&self, kind: LimitKind, lane: Lane) -> u64 {
        match (kind, lane) {
            (LimitKind::Search, _) => 1,
            (LimitKind::Api, Lane::Realtime) => u64::from(self.realtime_burst),
            (LimitKind::Api, Lane::Bulk) => u64::from(self.bulk_burst),
        }
    }

    /// The most requests that can pass in any one `window`: what HubSpot would count.
    pub fn worst_case_per_window(&self) -> u64 {
        u64::from(self.realtime_burst) + u64::from(self.requests_per_window)
    }

    /// The sustained rate in requests per second, for benchmarks' floor computations.
    pub fn sustained_per_second(&self) -> f64 {
        f64::from(self.requests_per_window) / self.window.as_secs_f64()
    }
}

/// The outcome of one GCRA step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GcraDecision {
    /// Admitted; store `new_tat`.
    Allowed { new_tat: u64 },
    /// Refused; try again after this many microseconds.
    Wait { micros: u64 },
}

/// One GCRA step (times in microseconds). The Lua script in `redis_gcra.rs` is the same code.
pub fn gcra(tat: u64, now: u64, emission: u64, capacity: u64) -> GcraDecision {
    let tat = tat.max(now);
    let new_tat = tat + emission;
    let allow_at = new_tat.saturating_sub(capacity * emission);
    if allow_at > now {
        GcraDecision::Wait {
            micros: allow_at - now,
        }
    } else {
        GcraDecision::Allowed { new_tat }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(arrivals: &[(u64, Lane)], policy: &BudgetPolicy) -> Vec<(u64, Lane)> {
        // Each arrival retries until admitted; returns admission times.
        let e = policy.emission_us(LimitKind::Api);
        let mut tat = 0;
        let mut admitted = Vec::new();
        for &(t, lane) in arrivals {
            let mut now = t;
            loop {
                match gcra(tat, now, e, policy.capacity(LimitKind::Api, lane)) {
                    GcraDecision::Allowed { new_tat } => {
                        tat = new_tat;
                        admitted.push((now, lane));
                        break;
                    }
                    GcraDecision::Wait { micros } => now += micros,
                }
            }
        }
        admitted
    }

    #[test]
    fn default_policy_is_valid_and_under_hubspot_limits() {
        let p = BudgetPolicy::default();
        p.validate().expect("valid");
        assert!(p.worst_case_per_window() <= 110);
        // search: capacity 1 + 4/s in any second = 5
        assert!(u64::from(p.search_per_second) < 5);
        assert_eq!(p.emission_us(LimitKind::Api), 100_000);
    }

    #[test]
    fn invalid_policies_are_rejected() {
        let p = BudgetPolicy {
            bulk_burst: 9,
            ..BudgetPolicy::default()
        };
        assert!(p.validate().is_err());
        let p = BudgetPolicy {
            requests_per_window: 0,
            ..BudgetPolicy::default()
        };
        assert!(p.validate().is_err());
    }

    #[test]
    fn burst_then_steady_rate() {
        let p = BudgetPolicy::default();
        let e = p.emission_us(LimitKind::Api);
        let mut tat = 0;
        let now = 1_000_000_000;
        for i in 0..p.realtime_burst {
            match gcra(tat, now, e, p.capacity(LimitKind::Api, Lane::Realtime)) {
                GcraDecision::Allowed { new_tat } => tat = new_tat,
                GcraDecision::Wait { .. } => panic!("request {i} of the burst refused"),
            }
        }
        assert_eq!(
            gcra(tat, now, e, p.capacity(LimitKind::Api, Lane::Realtime)),
            GcraDecision::Wait { micros: e }
        );
    }

    #[test]
    fn no_window_ever_exceeds_the_worst_case() {
        let p = BudgetPolicy::default();
        // A flood of 2,000 requests arriving at once, mixed lanes.
        let arrivals: Vec<_> = (0..2000)
            .map(|i| {
                let lane = if i % 7 == 0 {
                    Lane::Realtime
                } else {
                    Lane::Bulk
                };
                (1_000_000_000 + (i as u64 % 5) * 1000, lane)
            })
            .collect();
        let admitted = run(&arrivals, &p);
        let times: Vec<u64> = admitted.iter().map(|(t, _)| *t).collect();
        let window = p.window.as_micros() as u64;
        let mut max_in_window = 0;
        for (i, start) in times.iter().enumerate() {
            let count = times[i..]
                .iter()
                .take_while(|t| **t < start + window)
                .count();
            max_in_window = max_in_window.max(count);
        }
        assert!(max_in_window as u64 <= p.worst_case_per_window());
        assert!(
            max_in_window >= 100,
            "the budget should be used, got {max_in_window}"
        );
    }

    #[test]
    fn bulk_leaves_the_reserve_to_realtime() {
        let p = BudgetPolicy::default();
        let e = p.emission_us(LimitKind::Api);
        let now = 5_000_000;
        let mut tat = 0;
        // Bulk fills everything it may.
        while let GcraDecision::Allowed { new_tat } =
            gcra(tat, now, e, p.capacity(LimitKind::Api, Lane::Bulk))
        {
            tat = new_tat;
        }
        // Realtime still gets the reserved slots immediately.
        for _ in 0..(p.realtime_burst - p.bulk_burst) {
            match gcra(tat, now, e, p.capacity(LimitKind::Api, Lane::Realtime)) {
                GcraDecision::Allowed { new_tat } => tat = new_tat,
                GcraDecision::Wait { .. } => panic!("realtime starved by bulk"),
            }
        }
        // And while realtime holds the reserve, bulk waits longer than realtime would.
        let bulk_wait = match gcra(tat, now, e, p.capacity(LimitKind::Api, Lane::Bulk)) {
            GcraDecision::Wait { micros } => micros,
            GcraDecision::Allowed { .. } => panic!("bulk admitted beyond its capacity"),
        };
        let rt_wait = match gcra(tat, now, e, p.capacity(LimitKind::Api, Lane::Realtime)) {
            GcraDecision::Wait { micros } => micros,
            GcraDecision::Allowed { .. } => 0,
        };
        assert!(rt_wait < bulk_wait);
    }

    #[test]
    fn bulk_alone_still_reaches_the_full_sustained_rate() {
        let p = BudgetPolicy::default();
        let arrivals: Vec<_> = (0..1000).map(|_| (0, Lane::Bulk)).collect();
        let admitted = run(&arrivals, &p);
        let span = admitted.last().unwrap().0 - admitted.first().unwrap().0;
        let rate = (admitted.len() - 1) as f64 / (span as f64 / 1e6);
        assert!((rate - p.sustained_per_second()).abs() < 0.1, "rate {rate}");
    }
}
