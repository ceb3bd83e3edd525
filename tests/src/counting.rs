//! Noop jobs that take a known time and report progress as they go: what the job API, the
//! CLI's `jobs watch` and the board are tested against when the real jobs would be too slow
//! or too noisy.

use std::time::Duration;

use apalis::prelude::Monitor;
use entity::Lane;
use jobs::payload::Noop;
use jobs::runtime::{WorkerOptions, register};
use jobs::{EnqueueOptions, JobError, Progress};
use tokio::task::JoinHandle;
use uuid::Uuid;

use crate::TestApp;

/// Starts a bulk-lane worker on `app`'s queue whose Noop runs count to `steps`, one step every
/// 20 ms, `concurrency` at a time. Abort the handle to stop it.
pub fn counting_worker(app: &TestApp, steps: i64, concurrency: usize) -> JoinHandle<()> {
    let handler = move |_job: Noop, mut progress: Progress| async move {
        progress.phase("counting", Some(steps)).await?;
        for _ in 0..steps {
            tokio::time::sleep(Duration::from_millis(20)).await;
            progress.advance(1).await.map_err(JobError::from)?;
        }
        progress.flush().await?;
        Ok::<(), JobError>(())
    };
    let monitor = register(
        Monitor::new(),
        &app.queue,
        WorkerOptions {
            name: format!("counting-{}", Uuid::new_v4().simple()),
            concurrency,
            lane: Lane::Bulk,
        },
        handler,
    );
    tokio::spawn(async move {
        let _ = monitor.run().await;
    })
}

/// Enqueues one Noop run for `portal_id` and returns its run id.
pub async fn enqueue_noop(app: &TestApp, portal_id: i64) -> Uuid {
    app.queue
        .enqueue(
            |run_id| Noop { run_id, portal_id },
            EnqueueOptions::default(),
        )
        .await
        .expect("enqueue")
        .run_id
}
