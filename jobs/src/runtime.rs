//! Running jobs: the ledger layer every job passes through, and the wiring of one apalis
//! worker per job type and lane onto a [`Monitor`].
//!
//! The ledger layer is where at-least-once delivery becomes "each run does its work once": it
//! counts the attempt (and refuses a run that keeps crashing its worker), skips redeliveries of
//! finished runs and of runs another live worker holds, keeps a heartbeat while the handler
//! runs, records the outcome, and schedules a retry with exponential backoff and jitter.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use apalis::prelude::*;
use apalis_codec::json::JsonCodec;
use apalis_core::backend::WireFormatBackend;
use apalis_core::backend::finalize::Durable;
use apalis_core::backend::persistence::TaskPersistLayer;
use apalis_core::backend::{Backend, BackendConfig};
use entity::{JobStatus, Lane};
use serde_json::Value;
use tower::{Layer, Service};

use crate::errors::JobError;
use crate::ledger::{AttemptDecision, Failure};
use crate::payload::JobPayload;
use crate::progress::Progress;
use crate::queue::{Queue, QueueBackend};

/// How often a running job proves its worker is alive.
pub const JOB_HEARTBEAT: Duration = Duration::from_secs(5);
/// Longest wait between two attempts.
pub const MAX_RETRY_DELAY: Duration = Duration::from_secs(300);

type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;

/// Adds ledger bookkeeping around a job service.
#[derive(Clone)]
pub struct LedgerLayer {
    queue: Queue,
    worker: Arc<str>,
}

impl LedgerLayer {
    pub fn new(queue: Queue, worker: impl Into<Arc<str>>) -> Self {
        Self {
            queue,
            worker: worker.into(),
        }
    }
}

impl<S> Layer<S> for LedgerLayer {
    type Service = LedgerService<S>;
    fn layer(&self, inner: S) -> Self::Service {
        LedgerService {
            inner,
            layer: self.clone(),
        }
    }
}

/// See [`LedgerLayer`].
#[derive(Clone)]
pub struct LedgerService<S> {
    inner: S,
    layer: LedgerLayer,
}

impl<S, J> Service<Task<J>> for LedgerService<S>
where
    J: JobPayload,
    S: Service<Task<J>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    S::Error: Into<BoxDynError> + Send,
{
    type Response = ();
    type Error = BoxDynError;
    type Future = BoxFuture<Result<(), BoxDynError>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx).map_err(Into::into)
    }

    fn call(&mut self, task: Task<J>) -> Self::Future {
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let layer = self.layer.clone();
        Box::pin(async move {
            let job = task.args.clone();
            let ledger = layer.queue.ledger().clone();
            let run_id = job.run_id();
            if layer.queue.drain().is_draining() {
                // Fetched just before the drain began: hand it straight to another worker.
                layer.queue.push(&job, None).await?;
                return Ok(());
            }
            match ledger.start_attempt_batched(run_id, &layer.worker).await? {
                AttemptDecision::Run { attempt } => {
                    // Beats only while this future lives: if apalis drops the attempt (its
                    // worker died on a lost Redis connection), the beats stop, the lease runs
                    // out and the reconciler hands the run to a live worker.
                    let heartbeat = AbortOnDrop(tokio::spawn(keep_alive(ledger.clone(), run_id)));
                    let outcome = inner.call(task).await.map(drop).map_err(Into::into);
                    drop(heartbeat);
                    settle(&layer.queue, &job, attempt, outcome).await
                }
                AttemptDecision::Skip { status } => {
                    tracing::info!(%run_id, ?status, "skipping redelivered job");
                    Ok(())
                }
                AttemptDecision::Busy => {
                    tracing::info!(%run_id, "job is running on another live worker; skipping");
                    Ok(())
                }
                AttemptDecision::Exhausted { attempts } => {
                    tracing::error!(%run_id, attempts, "job exhausted its attempts; now dead");
                    Ok(())
                }
            }
        })
    }
}

/// Aborts the task when dropped, so it cannot outlive the future that owns it.
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

async fn keep_alive(ledger: crate::Ledger, run_id: uuid::Uuid) {
    loop {
        tokio::time::sleep(JOB_HEARTBEAT).await;
        if let Err(error) = ledger.heartbeat(run_id).await {
            tracing::warn!(%run_id, %error, "could not record job heartbeat");
        }
    }
}

/// Records how an attempt ended and schedules the next one when it should be retried.
async fn settle<J: JobPayload>(
    queue: &Queue,
    job: &J,
    attempt: i32,
    outcome: Result<(), BoxDynError>,
) -> Result<(), BoxDynError> {
    let ledger = queue.ledger();
    let run_id = job.run_id();
    let error = match outcome {
        Ok(()) => {
            if !ledger.succeed_batched(run_id).await? {
                tracing::info!(%run_id, attempt, "cancelled job finished its attempt; stays cancelled");
            }
            return Ok(());
        }
        Err(error) => error,
    };
    if ledger.is_cancelled(run_id).await? {
        // An operator cancelled the run while it ran: it stays cancelled, whatever the attempt
        // returned (normally `LedgerError::Cancelled` from its last checkpoint).
        let how = format!("the attempt stopped after the run was cancelled: {error}");
        tracing::info!(%run_id, attempt, "cancelled job stopped");
        ledger.event(run_id, "stopped", &how, None).await?;
        return Ok(());
    }
    if matches!(
        error.downcast_ref::<JobError>(),
        Some(JobError::Interrupted)
    ) {
        tracing::info!(%run_id, attempt, "job stopped at a checkpoint for shutdown; re-queued");
        ledger.interrupted(run_id).await?;
        queue.push(job, None).await?;
        return Ok(());
    }
    let (failure, retry_after) = match error.downcast_ref::<JobError>() {
        Some(job_error) => (job_error.to_failure(), job_error.retry_after()),
        // Anything unclassified (including a caught panic) is worth another attempt.
        None => (
            Failure {
                kind: "internal".into(),
                message: error.to_string(),
                retryable: true,
            },
            None,
        ),
    };
    tracing::warn!(%run_id, attempt, kind = %failure.kind, error = %failure.message, "job attempt failed");
    if ledger.fail(run_id, &failure).await? == JobStatus::Retrying {
        let delay = retry_after.unwrap_or_else(|| backoff(attempt, jitter_seed(run_id, attempt)));
        // The event goes first: once pushed, the next attempt may finish before we write. It
        // is only the story; the push is what must not be lost.
        if let Err(error) = ledger
            .event(
                run_id,
                "scheduled",
                &format!("attempt {} in {:.1} s", attempt + 1, delay.as_secs_f64()),
                None,
            )
            .await
        {
            tracing::warn!(%run_id, %error, "could not record the next attempt's schedule");
        }
        push_next_attempt(queue, job, delay).await?;
    }
    Ok(())
}

/// Pushes the next attempt of a run the ledger now calls `retrying`, trying again for a few
/// minutes when the queue cannot take it (Redis unreachable, a full disk under the embedded
/// queue): giving up at once would leave the run waiting for a push that never came. If this
/// process dies meanwhile, the reconciler re-pushes the overdue run.
async fn push_next_attempt<J: JobPayload>(
    queue: &Queue,
    job: &J,
    delay: Duration,
) -> Result<(), crate::queue::QueueError> {
    use backon::Retryable as _;
    let policy = backon::ExponentialBuilder::default()
        .with_min_delay(Duration::from_millis(200))
        .with_max_delay(Duration::from_secs(15))
        .with_max_times(25)
        .with_jitter();
    (|| queue.push(job, Some(delay)))
        .retry(policy)
        .notify(|error, wait| {
            tracing::warn!(run_id = %job.run_id(), %error, ?wait, "could not queue the next attempt; trying again");
        })
        .await
}

/// Exponential backoff, 2^attempt seconds capped at [`MAX_RETRY_DELAY`], with ±25 % jitter so
/// retries of a failed batch do not arrive together. `seed` picks the jitter.
pub fn backoff(attempt: i32, seed: u64) -> Duration {
    let base = 2f64
        .powi(attempt.clamp(0, 16))
        .min(MAX_RETRY_DELAY.as_secs_f64());
    let unit = (seed % 1_000) as f64 / 1_000.0; // in [0, 1)
    Duration::from_secs_f64((base * (0.75 + 0.5 * unit)).min(MAX_RETRY_DELAY.as_secs_f64()))
}

fn jitter_seed(run_id: uuid::Uuid, attempt: i32) -> u64 {
    let (high, low) = run_id.as_u64_pair();
    (high ^ low)
        .wrapping_add(attempt as u64)
        .wrapping_mul(0x9E37_79B9_7F4A_7C15)
        >> 11
}

/// Per-type worker settings.
#[derive(Debug, Clone)]
pub struct WorkerOptions {
    /// Unique per process start (e.g. `worker.1-<pid>-<ulid>`): reused names block orphan
    /// recovery on both backends.
    pub name: String,
    pub concurrency: usize,
    pub lane: Lane,
}

/// The codec-level layer both backends install; pinning it lets one generic function serve both.
type JsonPersistLayer = TaskPersistLayer<JsonCodec<Value>, Value>;

/// Registers one worker for job type `J` on `monitor`, whichever backend the queue uses.
/// `handler` receives the job and its progress handle.
pub fn register<J, H, Fut>(
    monitor: Monitor,
    queue: &Queue,
    options: WorkerOptions,
    handler: H,
) -> Monitor
where
    J: JobPayload,
    H: Fn(J, Progress) -> Fut + Clone + Send + Sync + 'static,
    Fut: Future<Output = Result<(), JobError>> + Send + 'static,
{
    match queue.backend().clone() {
        QueueBackend::Redis(conn) => {
            let settings = queue.settings().clone();
            let lane = options.lane;
            let poll = settings.poll_interval;
            register_on(monitor, queue, options, handler, move || {
                QueueBackend::redis_storage::<J>(&conn, &settings, lane).poll_with_interval(poll)
            })
        }
        QueueBackend::Sqlite(pool) => {
            let settings = queue.settings().clone();
            let lane = options.lane;
            let poll = settings.poll_interval;
            register_on(monitor, queue, options, handler, move || {
                QueueBackend::sqlite_storage::<J>(&pool, &settings, lane).poll_with_interval(poll)
            })
        }
    }
}

fn register_on<J, H, Fut, B, MakeBackend>(
    monitor: Monitor,
    queue: &Queue,
    options: WorkerOptions,
    handler: H,
    make_backend: MakeBackend,
) -> Monitor
where
    J: JobPayload,
    H: Fn(J, Progress) -> Fut + Clone + Send + Sync + 'static,
    Fut: Future<Output = Result<(), JobError>> + Send + 'static,
    MakeBackend: Fn() -> B + Send + Sync + 'static,
    B: Backend<Task = Task<Vec<u8>>>
        + BackendConfig<Args = J, Kind = Durable, Layer = JsonPersistLayer>
        + WireFormatBackend<Codec = JsonCodec<Vec<u8>>, Compact = Vec<u8>>
        + Send
        + Sync
        + Unpin
        + 'static,
    B::Error: Into<BoxDynError> + Send + 'static,
{
    let queue = queue.clone();
    monitor.register(move |restart| {
        let ledger = queue.ledger().clone();
        let drain = queue.drain().clone();
        let handler = handler.clone();
        // A restarted worker gets a new name, so the backend treats it as a new consumer.
        let name = format!("{}:r{restart}", options.name);
        WorkerBuilder::new(name.clone())
            .backend(make_backend())
            .concurrency(options.concurrency)
            .layer(LedgerLayer::new(queue.clone(), name))
            .catch_panic()
            .build(move |job: J| {
                let progress =
                    Progress::new(ledger.clone(), job.run_id()).with_drain(drain.clone());
                handler(job, progress)
            })
    })
}
