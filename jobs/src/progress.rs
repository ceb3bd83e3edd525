//! The handle a job handler reports progress through: phase, done/total, and from those the rate
//! and ETA the board shows. Writes are throttled so a tight loop costs one row update per
//! interval, not one per record.
//!
//! Handlers report progress right after work is durable, so [`Progress::advance`] is also the
//! checkpoint where a draining worker stops a job (see [`crate::drain`]).

use std::time::{Duration, Instant};

use uuid::Uuid;

use crate::drain::Drain;
use crate::ledger::{Ledger, LedgerError, ProgressUpdate};

/// Why progress could not be reported, or why the job should stop here.
#[derive(Debug, thiserror::Error)]
pub enum ProgressError {
    #[error(transparent)]
    Ledger(#[from] LedgerError),
    /// The worker is draining: the work so far is saved, stop and let the next worker resume.
    #[error("interrupted: the worker is shutting down")]
    Interrupted,
}

/// How often progress reaches the database at most, unless a phase starts or ends.
pub const DEFAULT_FLUSH_INTERVAL: Duration = Duration::from_millis(500);

/// Progress of one job run.
#[derive(Debug)]
pub struct Progress {
    ledger: Ledger,
    run_id: Uuid,
    phase: String,
    total: Option<i64>,
    done: i64,
    phase_started: Instant,
    last_flush: Option<Instant>,
    flush_interval: Duration,
    drain: Drain,
}

impl Progress {
    pub fn new(ledger: Ledger, run_id: Uuid) -> Self {
        Self {
            ledger,
            run_id,
            phase: String::new(),
            total: None,
            done: 0,
            phase_started: Instant::now(),
            last_flush: None,
            flush_interval: DEFAULT_FLUSH_INTERVAL,
            drain: Drain::new(),
        }
    }

    /// Stops the job at its next checkpoint once `drain` starts.
    pub fn with_drain(mut self, drain: Drain) -> Self {
        self.drain = drain;
        self
    }

    pub fn run_id(&self) -> Uuid {
        self.run_id
    }

    /// Starts a named phase ("companies", "training", …) with its size when known.
    pub async fn phase(&mut self, name: &str, total: Option<i64>) -> Result<(), LedgerError> {
        self.phase = name.to_owned();
        self.total = total;
        self.done = 0;
        self.phase_started = Instant::now();
        let message = match total {
            Some(total) => format!("phase {name}: {total} to do"),
            None => format!("phase {name}"),
        };
        self.ledger
            .event(self.run_id, "phase", &message, None)
            .await?;
        self.flush().await
    }

    /// Counts `n` more items done (call it once they are saved); writes if the flush interval
    /// has passed. When the worker is draining it writes at once and returns
    /// [`ProgressError::Interrupted`], so the handler's `?` ends the attempt at this checkpoint.
    /// Each write also checks whether an operator cancelled the run, and if so returns
    /// [`LedgerError::Cancelled`] so the attempt stops here (the ledger layer keeps the run
    /// cancelled instead of recording a failure).
    pub async fn advance(&mut self, n: i64) -> Result<(), ProgressError> {
        self.done += n;
        if self.drain.is_draining() {
            self.flush().await?;
            return Err(ProgressError::Interrupted);
        }
        let due = self
            .last_flush
            .is_none_or(|at| at.elapsed() >= self.flush_interval);
        if due {
            self.flush().await?;
            if self.ledger.is_cancelled(self.run_id).await? {
                return Err(LedgerError::Cancelled(self.run_id).into());
            }
        }
        Ok(())
    }

    /// Learns the phase's size once it is known (e.g. after the first page).
    pub fn set_total(&mut self, total: Option<i64>) {
        self.total = total;
    }

    pub fn done(&self) -> i64 {
        self.done
    }

    /// Writes the current state now.
    pub async fn flush(&mut self) -> Result<(), LedgerError> {
        let (rate, eta_seconds) = rate_and_eta(self.done, self.total, self.phase_started.elapsed());
        self.ledger
            .progress(&ProgressUpdate {
                run_id: self.run_id,
                phase: self.phase.clone(),
                done: self.done,
                total: self.total,
                rate,
                eta_seconds,
            })
            .await?;
        self.last_flush = Some(Instant::now());
        Ok(())
    }
}

/// Items per second so far, and seconds left at that rate (none until there is a rate, and no
/// ETA without a total).
pub fn rate_and_eta(
    done: i64,
    total: Option<i64>,
    elapsed: Duration,
) -> (Option<f64>, Option<f64>) {
    let seconds = elapsed.as_secs_f64();
    if done <= 0 || seconds <= 0.0 {
        return (None, None);
    }
    let rate = done as f64 / seconds;
    let eta = total.map(|total| ((total - done).max(0) as f64) / rate);
    (Some(rate), eta)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_rate_before_any_work() {
        assert_eq!(
            rate_and_eta(0, Some(10), Duration::from_secs(3)),
            (None, None)
        );
        assert_eq!(rate_and_eta(5, Some(10), Duration::ZERO), (None, None));
    }

    #[test]
    fn rate_and_eta_follow_the_work_done() {
        let (rate, eta) = rate_and_eta(250, Some(1_000), Duration::from_secs(5));
        assert_eq!(rate, Some(50.0));
        assert_eq!(eta, Some(15.0));
    }

    #[test]
    fn unknown_total_has_a_rate_but_no_eta() {
        assert_eq!(
            rate_and_eta(30, None, Duration::from_secs(3)),
            (Some(10.0), None)
        );
    }

    #[test]
    fn overshooting_the_total_never_gives_a_negative_eta() {
        let (_, eta) = rate_and_eta(120, Some(100), Duration::from_secs(1));
        assert_eq!(eta, Some(0.0));
    }
}
