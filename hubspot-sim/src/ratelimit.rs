//! Rolling-window request budgets, exact under concurrency (one mutex-guarded log per key).

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// The outcome of asking for one request's budget.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Decision {
    Allowed { remaining: u32 },
    Limited,
}

/// A rolling window: at most `max` admitted requests in any `window`-long span.
#[derive(Debug, Default)]
struct Window {
    admitted: VecDeque<Instant>,
    peak: usize,
}

/// Rolling-window limiter keyed by `K` (e.g. (app, portal)). Rejected requests do not count.
#[derive(Debug)]
pub struct RollingLimiter<K> {
    windows: Mutex<HashMap<K, Window>>,
}

impl<K> Default for RollingLimiter<K> {
    fn default() -> Self {
        Self {
            windows: Mutex::new(HashMap::new()),
        }
    }
}

impl<K: std::hash::Hash + Eq + Clone> RollingLimiter<K> {
    /// Admits and records one request for `key`, or refuses it without recording.
    pub fn check(&self, key: &K, max: u32, window: Duration, now: Instant) -> Decision {
        let mut windows = self.windows.lock().unwrap_or_else(|e| e.into_inner());
        let entry = windows.entry(key.clone()).or_default();
        while entry
            .admitted
            .front()
            .is_some_and(|t| now.duration_since(*t) >= window)
        {
            entry.admitted.pop_front();
        }
        if entry.admitted.len() >= max as usize {
            return Decision::Limited;
        }
        entry.admitted.push_back(now);
        entry.peak = entry.peak.max(entry.admitted.len());
        Decision::Allowed {
            remaining: max - entry.admitted.len() as u32,
        }
    }

    /// Most requests admitted within one window so far, for this key.
    pub fn peak(&self, key: &K) -> usize {
        let windows = self.windows.lock().unwrap_or_else(|e| e.into_inner());
        windows.get(key).map_or(0, |w| w.peak)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn admits_max_per_window_and_rolls() {
        let limiter = RollingLimiter::default();
        let start = Instant::now();
        let window = Duration::from_secs(10);
        for i in 0..3 {
            assert_eq!(
                limiter.check(&1, 3, window, start + Duration::from_secs(i)),
                Decision::Allowed {
                    remaining: 2 - i as u32
                }
            );
        }
        assert_eq!(
            limiter.check(&1, 3, window, start + Duration::from_secs(9)),
            Decision::Limited
        );
        // The first request leaves the window at t = 10 s.
        assert_eq!(
            limiter.check(&1, 3, window, start + Duration::from_secs(10)),
            Decision::Allowed { remaining: 0 }
        );
        assert_eq!(
            limiter.check(&2, 3, window, start),
            Decision::Allowed { remaining: 2 }
        );
        assert_eq!(limiter.peak(&1), 3);
    }
}
