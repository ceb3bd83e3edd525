//! The worker and clock dynos: start-up, queue connection, the apalis monitor with its SIGTERM
//! handling, and the reconciler loop. The jobs themselves live in the `jobs` crate.

use std::future::Future;
use std::time::Duration;

use anyhow::Context as _;
use apalis::prelude::Monitor;
use hubspot::UsageCounter;
use jobs::presence::{self, WorkerIdentity};
use jobs::reconciler::Reconciler;
use jobs::retention::{self, RetentionPolicy, VACUUM_EVERY};
use jobs::usage::{self, FLUSH_EVERY};
use jobs::{Ledger, Queue, QueueBackend, QueueSettings};
use migration::{Migrator, MigratorTrait};
use platform::Settings;
use platform::config::QueueBackend as ConfiguredQueue;
use sea_orm::DatabaseConnection;
use secrecy::ExposeSecret as _;

/// Heroku gives a dyno 30 s between SIGTERM and SIGKILL; in-flight jobs get 25 of them.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(25);
/// How often the reconciler looks for work the queue may have lost.
pub const RECONCILE_EVERY: Duration = Duration::from_secs(15);

/// A name no other process uses, now or later: reused worker names block orphan recovery in
/// both apalis backends (notes/apalis-1.0.md §3.6).
pub fn process_name(role: &str) -> String {
    format!(
        "{role}-{}-{}",
        std::process::id(),
        ulid::Ulid::new().to_string().to_lowercase()
    )
}

/// Database, ledger and queue, as every process that runs or schedules jobs needs them.
pub async fn connect(settings: &Settings) -> anyhow::Result<(DatabaseConnection, Queue)> {
    let db = platform::db::connect(&settings.database_url)
        .await
        .context("connecting to DATABASE_URL")?;
    let pending = Migrator::get_pending_migrations(&db)
        .await
        .context("reading the migration status")?;
    if !pending.is_empty() {
        anyhow::bail!(
            "the database schema is {} migration(s) behind; run `migration up` (Heroku's release phase does)",
            pending.len()
        );
    }
    let backend = match &settings.queue {
        ConfiguredQueue::Redis(url) => QueueBackend::redis(url.expose_secret())
            .await
            .context("connecting to REDIS_URL")?,
        ConfiguredQueue::Embedded => QueueBackend::sqlite(&db)
            .await
            .context("preparing the embedded queue")?,
    };
    let queue_settings = QueueSettings {
        namespace: settings.queue_namespace.clone(),
        ..QueueSettings::default()
    };
    let queue = Queue::new(backend, queue_settings, Ledger::new(db.clone()));
    Ok((db, queue))
}

/// Runs the reconciler every [`RECONCILE_EVERY`], the retention pass every [`VACUUM_EVERY`]
/// (the first one a minute after start), writes down the HubSpot usage `usage` counted every
/// [`FLUSH_EVERY`] and the worker's presence every [`presence::BEAT_EVERY`], until the process
/// ends. Every worker runs all of them: they are idempotent (usage counts add up), so more
/// workers only means the work is done sooner.
pub fn spawn_maintenance(
    queue: Queue,
    usage: UsageCounter,
    identity: WorkerIdentity,
    policy: RetentionPolicy,
) -> tokio::task::JoinHandle<()> {
    let db = queue.ledger().db().clone();
    tokio::spawn(async move {
        let reconcile = async move {
            let mut reconciler = Reconciler::new(queue.clone());
            let mut next_vacuum = tokio::time::Instant::now() + Duration::from_secs(60);
            loop {
                if let Err(error) = reconciler.run_once().await {
                    tracing::warn!(%error, "reconciliation pass failed; will try again");
                }
                if tokio::time::Instant::now() >= next_vacuum {
                    if let Err(error) = retention::vacuum(&queue, &policy).await {
                        tracing::warn!(%error, "retention pass failed; will try again");
                    }
                    next_vacuum = tokio::time::Instant::now() + VACUUM_EVERY;
                }
                tokio::time::sleep(RECONCILE_EVERY).await;
            }
        };
        tokio::join!(
            reconcile,
            usage::flush_forever(db.clone(), usage, FLUSH_EVERY),
            presence::beat_forever(db, identity),
        );
    })
}

/// The retention pass as configured: the defaults, with the disconnected-portal retention
/// from `CONTURS_DISCONNECTED_RETENTION_DAYS`.
pub fn retention_policy(settings: &Settings) -> RetentionPolicy {
    RetentionPolicy {
        disconnected_portals: settings.disconnected_retention,
        ..RetentionPolicy::default()
    }
}

/// Runs `monitor` until `shutdown`, then stops fetching, starts `drain` so running jobs stop
/// at their next checkpoint and go back on the queue, and gives them [`SHUTDOWN_GRACE`] to do
/// so. Workers that die (a Redis restart, a lost connection) are restarted.
pub async fn run_monitor(
    monitor: Monitor,
    drain: jobs::Drain,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    monitor
        .should_restart(|_, _| true)
        .shutdown_timeout(SHUTDOWN_GRACE)
        .run_with_signal(async move {
            shutdown.await;
            tracing::info!("shutdown requested: draining running jobs to their checkpoints");
            drain.start();
            Ok(())
        })
        .await
        .context("running the job monitor")
}

/// The whole worker dyno: settings from the environment, every job type on both lanes, the
/// maintenance loop, until SIGTERM. `conturs-worker` is this function; the crash tests run the
/// same function in a child process so they can kill it.
pub async fn run_worker_process() -> anyhow::Result<()> {
    platform::tls::install_crypto_provider();
    let settings = Settings::from_env()?;
    platform::telemetry::init(settings.log_format, &settings.log_filter)?;
    let (db, queue) = connect(&settings).await?;
    let name = process_name("worker");
    tracing::info!(%name, "worker starting");
    let deps = jobs::handlers::Deps::from_settings(&settings, queue.clone())
        .await
        .context("preparing job dependencies")?;
    let monitor = jobs::handlers::register_all(
        Monitor::new(),
        &queue,
        &deps,
        &name,
        settings.worker_concurrency,
    );
    let drain = queue.drain().clone();
    let identity = WorkerIdentity::current(name.clone(), settings.worker_concurrency);
    let maintenance = spawn_maintenance(
        queue,
        deps.hubspot.usage().clone(),
        identity.clone(),
        retention_policy(&settings),
    );
    run_monitor(monitor, drain, platform::shutdown::terminate_signal()).await?;
    maintenance.abort();
    // What the draining jobs sent since the last flush.
    if let Err(error) = usage::flush(&db, deps.hubspot.usage()).await {
        tracing::warn!(%error, "could not write the last HubSpot usage down");
    }
    if let Err(error) = presence::leave(&db, &identity).await {
        tracing::warn!(%error, "could not remove this worker's presence");
    }
    tracing::info!(%name, "worker stopped");
    Ok(())
}
