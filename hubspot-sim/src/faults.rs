//! Per-portal fault injection: what can go wrong on HubSpot's side, on demand.

use std::time::{Duration, Instant};

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

/// Fault knobs for one portal (all off by default). Rates are probabilities per request.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct FaultConfig {
    /// Share of requests answered with a 5xx.
    pub server_error_rate: f64,
    /// Status for those (500, 502, 503 or 504); 0 means 500.
    pub server_error_status: u16,
    /// Latency added to every API request.
    pub latency_ms: u64,
    /// Share of requests answered 423 Locked.
    pub locked_rate: f64,
    /// Share of requests whose connection is dropped without a response.
    pub drop_rate: f64,
    /// Share of requests answered 200 with a truncated JSON body.
    pub malformed_rate: f64,
    /// Seeds the fault draws so a test meets the same faults in every run (`None`: fresh
    /// randomness). Any N requests then meet the same multiset of faults whatever their order.
    pub seed: Option<u64>,
}

/// What to do to one request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fault {
    ServerError(u16),
    Locked,
    Drop,
    Malformed,
}

impl FaultConfig {
    /// Draws this request's fault, if any (one uniform draw split across the rates).
    pub fn draw(&self, uniform: f64) -> Option<Fault> {
        let mut threshold = 0.0;
        let status = match self.server_error_status {
            500 | 502 | 503 | 504 => self.server_error_status,
            _ => 500,
        };
        for (rate, fault) in [
            (self.server_error_rate, Fault::ServerError(status)),
            (self.locked_rate, Fault::Locked),
            (self.drop_rate, Fault::Drop),
            (self.malformed_rate, Fault::Malformed),
        ] {
            threshold += rate.clamp(0.0, 1.0);
            if uniform < threshold {
                return Some(fault);
            }
        }
        None
    }

    /// Latency to add before answering.
    pub fn latency(&self) -> Duration {
        Duration::from_millis(self.latency_ms)
    }
}

/// Live fault state of a portal: knobs plus an optional 429 storm.
#[derive(Clone, Debug, Default)]
pub struct FaultState {
    config: FaultConfig,
    draws: Option<ChaCha8Rng>,
    pub storm_until: Option<Instant>,
}

impl FaultState {
    /// The knobs in force.
    pub fn config(&self) -> &FaultConfig {
        &self.config
    }

    /// Replaces the knobs. A seeded stream carries on while the seed stays the same, so
    /// switching a latency spike on and off does not replay the same faults.
    pub fn set_config(&mut self, config: FaultConfig) {
        if config.seed != self.config.seed {
            self.draws = config.seed.map(ChaCha8Rng::seed_from_u64);
        }
        self.config = config;
    }

    /// Draws the next request's fault from the seeded stream, or from fresh randomness.
    pub fn draw(&mut self) -> Option<Fault> {
        let uniform = match self.draws.as_mut() {
            Some(draws) => draws.random::<f64>(),
            None => rand::random::<f64>(),
        };
        self.config.draw(uniform)
    }

    /// Whether an on-demand 429 storm is in progress.
    pub fn in_storm(&self, now: Instant) -> bool {
        self.storm_until.is_some_and(|until| now < until)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn draw_splits_the_unit_interval() {
        let config = FaultConfig {
            server_error_rate: 0.1,
            server_error_status: 502,
            locked_rate: 0.1,
            drop_rate: 0.1,
            malformed_rate: 0.1,
            latency_ms: 0,
            seed: None,
        };
        assert_eq!(config.draw(0.05), Some(Fault::ServerError(502)));
        assert_eq!(config.draw(0.15), Some(Fault::Locked));
        assert_eq!(config.draw(0.25), Some(Fault::Drop));
        assert_eq!(config.draw(0.35), Some(Fault::Malformed));
        assert_eq!(config.draw(0.45), None);
        assert_eq!(FaultConfig::default().draw(0.0), None);
    }

    #[test]
    fn a_seeded_stream_repeats_and_survives_a_knob_change() {
        let config = FaultConfig {
            server_error_rate: 0.3,
            locked_rate: 0.3,
            seed: Some(11),
            ..FaultConfig::default()
        };
        let draws = |changes: bool| {
            let mut state = FaultState::default();
            state.set_config(config.clone());
            (0..200)
                .map(|i| {
                    if changes && i % 7 == 0 {
                        let latency_ms = if i % 14 == 0 { 2_000 } else { 0 };
                        state.set_config(FaultConfig {
                            latency_ms,
                            ..config.clone()
                        });
                    }
                    state.draw()
                })
                .collect::<Vec<_>>()
        };
        let first = draws(false);
        assert_eq!(first, draws(false), "same seed, same faults");
        assert_eq!(
            first,
            draws(true),
            "a latency change keeps the stream going"
        );
        assert!(first.contains(&Some(Fault::Locked)));
        assert!(first.contains(&None));
    }
}
