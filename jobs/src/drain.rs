//! The worker's "stop taking on work" switch, shared by every job a process runs.
//!
//! Heroku sends SIGTERM and kills 30 s later. Long jobs (a 100k-contact sync) cannot finish in
//! that time, so instead of being killed mid-page they stop at their next checkpoint: the
//! progress handle notices the drain and returns [`crate::JobError::Interrupted`], and the
//! ledger layer puts the run back on the queue without spending an attempt.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

/// Cheap to clone; every clone sees the same switch.
#[derive(Debug, Clone, Default)]
pub struct Drain(Arc<AtomicBool>);

impl Drain {
    pub fn new() -> Self {
        Self::default()
    }

    /// From now on, running jobs stop at their next checkpoint.
    pub fn start(&self) {
        self.0.store(true, Ordering::SeqCst);
    }

    pub fn is_draining(&self) -> bool {
        self.0.load(Ordering::SeqCst)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_clone_sees_the_drain() {
        let drain = Drain::new();
        let seen_by_job = drain.clone();
        assert!(!seen_by_job.is_draining());
        drain.start();
        assert!(seen_by_job.is_draining());
    }
}
