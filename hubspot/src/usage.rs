//! Per-portal tallies of what this process sent to HubSpot, in 10-second windows, for the
//! portal page and the board (requests per 10 s against the limit, 429s).
//!
//! Requests are made by worker processes, but shown by the API process, so the counts have to
//! travel through the database. This crate has no database: the client only counts, cheaply
//! (one short mutex hold per HTTP request), and the owner of the client [`UsageCounter::drain`]s
//! the tallies every few seconds and writes them down (the `jobs` crate does). Counting per
//! window at the moment a request is sent keeps a late flush from smearing one busy window
//! into the next.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use crate::budget::LimitKind;

/// Width of one usage window in seconds: HubSpot's burst limit is per 10 s (API-FACTS §5).
pub const USAGE_WINDOW_SECS: i64 = 10;

/// The start (Unix seconds) of the window holding `unix_secs`, aligned to
/// [`USAGE_WINDOW_SECS`], so every process puts the same instant in the same window.
pub fn window_start(unix_secs: i64) -> i64 {
    unix_secs.div_euclid(USAGE_WINDOW_SECS) * USAGE_WINDOW_SECS
}

/// What became of one request, as far as usage is concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// HubSpot answered with this status.
    Answered(u16),
    /// The request went out but no complete answer came back (timeout, dropped connection,
    /// truncated body); HubSpot counted it against the limit all the same.
    NoAnswer,
}

/// Counts of one portal in one window.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct UsageCounts {
    /// Every request sent, searches included.
    pub requests: u64,
    /// Of which searches (their own 5/s limit, not the 10-second one).
    pub search_requests: u64,
    /// Answers 429 Too Many Requests.
    pub responses_429: u64,
    /// Answers 500–599.
    pub responses_5xx: u64,
}

impl UsageCounts {
    fn add(&mut self, other: &UsageCounts) {
        self.requests += other.requests;
        self.search_requests += other.search_requests;
        self.responses_429 += other.responses_429;
        self.responses_5xx += other.responses_5xx;
    }

    fn count(&mut self, kind: LimitKind, outcome: Outcome) {
        self.requests += 1;
        if kind == LimitKind::Search {
            self.search_requests += 1;
        }
        match outcome {
            Outcome::Answered(429) => self.responses_429 += 1,
            Outcome::Answered(500..=599) => self.responses_5xx += 1,
            Outcome::Answered(_) | Outcome::NoAnswer => {}
        }
    }
}

/// One portal's counts in one window, as [`UsageCounter::drain`] hands them out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UsageSample {
    pub portal_id: u64,
    /// Unix seconds, a multiple of [`USAGE_WINDOW_SECS`].
    pub window_start: i64,
    pub counts: UsageCounts,
}

/// The tallies not yet written down; cheap to clone (shared), one per client.
#[derive(Debug, Clone, Default)]
pub struct UsageCounter {
    pending: Arc<Mutex<HashMap<(u64, i64), UsageCounts>>>,
}

impl UsageCounter {
    /// Counts one request sent now.
    pub fn record(&self, portal_id: u64, kind: LimitKind, outcome: Outcome) {
        self.record_at(portal_id, chrono::Utc::now().timestamp(), kind, outcome);
    }

    /// Counts one request sent at `unix_secs`.
    pub fn record_at(&self, portal_id: u64, unix_secs: i64, kind: LimitKind, outcome: Outcome) {
        let key = (portal_id, window_start(unix_secs));
        self.lock().entry(key).or_default().count(kind, outcome);
    }

    /// Takes every tally counted so far, oldest window first; the counter starts again at zero.
    pub fn drain(&self) -> Vec<UsageSample> {
        let taken = std::mem::take(&mut *self.lock());
        let mut samples: Vec<UsageSample> = taken
            .into_iter()
            .map(|((portal_id, window_start), counts)| UsageSample {
                portal_id,
                window_start,
                counts,
            })
            .collect();
        samples.sort_by_key(|s| (s.window_start, s.portal_id));
        samples
    }

    /// Puts drained tallies back (added to anything counted since), when writing them down
    /// failed, so the next flush carries them instead of losing them.
    pub fn restore(&self, samples: &[UsageSample]) {
        let mut pending = self.lock();
        for sample in samples {
            pending
                .entry((sample.portal_id, sample.window_start))
                .or_default()
                .add(&sample.counts);
        }
    }

    /// Whether nothing is waiting to be drained.
    pub fn is_empty(&self) -> bool {
        self.lock().is_empty()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<(u64, i64), UsageCounts>> {
        // Counting never panics while holding the lock, and plain counts stay valid anyway.
        self.pending.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_are_aligned_to_ten_seconds() {
        assert_eq!(window_start(0), 0);
        assert_eq!(window_start(9), 0);
        assert_eq!(window_start(10), 10);
        assert_eq!(window_start(1_764_000_019), 1_764_000_010);
        assert_eq!(window_start(1_764_000_020), 1_764_000_020);
        // Before 1970 still floors (towards the past), never towards zero.
        assert_eq!(window_start(-1), -10);
        assert_eq!(window_start(-10), -10);
    }

    #[test]
    fn counts_requests_searches_429s_and_5xx_per_portal_and_window() {
        let counter = UsageCounter::default();
        let t = 1_764_000_000;
        counter.record_at(7, t, LimitKind::Api, Outcome::Answered(200));
        counter.record_at(7, t + 9, LimitKind::Api, Outcome::Answered(429));
        counter.record_at(7, t + 9, LimitKind::Search, Outcome::Answered(200));
        counter.record_at(7, t + 10, LimitKind::Api, Outcome::Answered(503));
        counter.record_at(7, t + 10, LimitKind::Api, Outcome::NoAnswer);
        counter.record_at(8, t + 1, LimitKind::Api, Outcome::Answered(404));

        let drained = counter.drain();
        assert_eq!(
            drained,
            vec![
                UsageSample {
                    portal_id: 7,
                    window_start: t,
                    counts: UsageCounts {
                        requests: 3,
                        search_requests: 1,
                        responses_429: 1,
                        responses_5xx: 0,
                    },
                },
                UsageSample {
                    portal_id: 8,
                    window_start: t,
                    counts: UsageCounts {
                        requests: 1,
                        ..UsageCounts::default()
                    },
                },
                UsageSample {
                    portal_id: 7,
                    window_start: t + 10,
                    counts: UsageCounts {
                        requests: 2,
                        responses_5xx: 1,
                        ..UsageCounts::default()
                    },
                },
            ]
        );
        assert!(counter.is_empty(), "drain takes everything");
        assert!(counter.drain().is_empty());
    }

    #[test]
    fn restored_tallies_add_to_new_ones() {
        let counter = UsageCounter::default();
        let t = 1_764_000_000;
        counter.record_at(7, t, LimitKind::Api, Outcome::Answered(429));
        let failed_flush = counter.drain();
        counter.record_at(7, t + 1, LimitKind::Api, Outcome::Answered(200));
        counter.restore(&failed_flush);
        let drained = counter.drain();
        assert_eq!(drained.len(), 1);
        assert_eq!(drained[0].counts.requests, 2);
        assert_eq!(drained[0].counts.responses_429, 1);
    }

    #[test]
    fn clones_share_one_tally_across_threads() {
        let counter = UsageCounter::default();
        let threads: Vec<_> = (0..4)
            .map(|_| {
                let counter = counter.clone();
                std::thread::spawn(move || {
                    for _ in 0..1_000 {
                        counter.record_at(1, 100, LimitKind::Api, Outcome::Answered(200));
                    }
                })
            })
            .collect();
        for thread in threads {
            thread.join().expect("thread");
        }
        assert_eq!(counter.drain()[0].counts.requests, 4_000);
    }
}
