//! The worker and clock dynos: start-up, queue connection, the apalis monitor with its SIGTERM
//! handling, and the reconciler loop. The jobs themselves live in the `jobs` crate.

use std::future::Future;
use std::time::Duration;

use anyhow::Context as _;
use apalis::prelude::Monitor;
use jobs::reconciler::Reconciler;
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
    let queue = Queue::new(backend, QueueSettings::default(), Ledger::new(db.clone()));
    Ok((db, queue))
}

/// Runs the reconciler every [`RECONCILE_EVERY`] until the process ends.
pub fn spawn_reconciler(queue: Queue) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut reconciler = Reconciler::new(queue);
        loop {
            if let Err(error) = reconciler.run_once().await {
                tracing::warn!(%error, "reconciliation pass failed; will try again");
            }
            tokio::time::sleep(RECONCILE_EVERY).await;
        }
    })
}

/// Runs `monitor` until `shutdown`, then gives in-flight jobs [`SHUTDOWN_GRACE`] to finish.
/// Workers that die (a Redis restart, a lost connection) are restarted.
pub async fn run_monitor(
    monitor: Monitor,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    monitor
        .should_restart(|_, _| true)
        .shutdown_timeout(SHUTDOWN_GRACE)
        .run_with_signal(async move {
            shutdown.await;
            Ok(())
        })
        .await
        .context("running the job monitor")
}
