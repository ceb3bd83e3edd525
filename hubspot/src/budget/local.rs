//! The in-process budget for the embedded single-process setup: the same GCRA as the Redis
//! script, with its state in a mutex-protected map.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use super::policy::{BudgetPolicy, GcraDecision, Lane, LimitKind, gcra};

/// GCRA state per (portal, limit) in this process only.
#[derive(Debug)]
pub struct LocalGcra {
    epoch: Instant,
    tats: Mutex<HashMap<(u64, LimitKind), u64>>,
}

impl Default for LocalGcra {
    fn default() -> Self {
        Self {
            epoch: Instant::now(),
            tats: Mutex::new(HashMap::new()),
        }
    }
}

impl LocalGcra {
    fn now_us(&self) -> u64 {
        // Offset by one second so "TAT 0" (never used) is always in the past.
        self.epoch.elapsed().as_micros() as u64 + 1_000_000
    }

    /// One admission attempt: `None` when admitted, `Some(wait)` when refused.
    pub fn try_take(
        &self,
        policy: &BudgetPolicy,
        portal: u64,
        kind: LimitKind,
        lane: Lane,
    ) -> Option<Duration> {
        let now = self.now_us();
        let mut tats = self.tats.lock().unwrap_or_else(|p| p.into_inner());
        let tat = tats.entry((portal, kind)).or_insert(0);
        match gcra(
            *tat,
            now,
            policy.emission_us(kind),
            policy.capacity(kind, lane),
        ) {
            GcraDecision::Allowed { new_tat } => {
                *tat = new_tat;
                None
            }
            GcraDecision::Wait { micros } => Some(Duration::from_micros(micros)),
        }
    }

    /// Pauses this process's requests for the portal until `pause` has passed.
    pub fn penalize(&self, policy: &BudgetPolicy, portal: u64, kind: LimitKind, pause: Duration) {
        let now = self.now_us();
        let e = policy.emission_us(kind);
        let pushed = now
            + pause.as_micros() as u64
            + policy.capacity(kind, Lane::Realtime).saturating_sub(1) * e;
        let mut tats = self.tats.lock().unwrap_or_else(|p| p.into_inner());
        let tat = tats.entry((portal, kind)).or_insert(0);
        *tat = (*tat).max(pushed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reserve_and_pause_hold_in_process() {
        let gcra = LocalGcra::default();
        let p = BudgetPolicy::default();
        let mut bulk = 0;
        while gcra.try_take(&p, 1, LimitKind::Api, Lane::Bulk).is_none() {
            bulk += 1;
            assert!(bulk < 100);
        }
        assert_eq!(bulk, p.bulk_burst);
        assert!(
            gcra.try_take(&p, 1, LimitKind::Api, Lane::Realtime)
                .is_none()
        );
        assert!(
            gcra.try_take(&p, 2, LimitKind::Api, Lane::Bulk).is_none(),
            "portals are independent"
        );
        gcra.penalize(&p, 2, LimitKind::Api, Duration::from_secs(5));
        let wait = gcra
            .try_take(&p, 2, LimitKind::Api, Lane::Realtime)
            .expect("paused");
        assert!(
            wait > Duration::from_millis(4_900) && wait <= Duration::from_secs(5),
            "{wait:?}"
        );
    }
}
