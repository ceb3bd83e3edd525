//! Waiting for a drain: done, stalled, or out of time.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// How long the handled count may stand still before the run is declared stalled.
pub const STALL: Duration = Duration::from_secs(60);

/// Returns once `handled` reaches `jobs`; fails when it has not moved for [`STALL`] (a stuck
/// worker) or when `timeout` has passed. `what` names the run in the error.
pub async fn until_handled(
    what: &str,
    handled: &AtomicU64,
    jobs: u64,
    timeout: Duration,
) -> anyhow::Result<()> {
    let deadline = Instant::now() + timeout;
    let mut last = (handled.load(Ordering::Relaxed), Instant::now());
    loop {
        let done = handled.load(Ordering::Relaxed);
        if done >= jobs {
            return Ok(());
        }
        let now = Instant::now();
        if done != last.0 {
            last = (done, now);
        }
        anyhow::ensure!(
            now - last.1 < STALL,
            "{what}: stalled after {done} of {jobs} jobs (no progress for {} s)",
            STALL.as_secs()
        );
        anyhow::ensure!(
            now < deadline,
            "{what}: only {done} of {jobs} jobs ran within {} s",
            timeout.as_secs()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
