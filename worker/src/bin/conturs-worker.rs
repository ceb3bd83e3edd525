//! `conturs-worker`: a worker dyno. Runs every job type on both lanes until SIGTERM.

use anyhow::Context as _;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    platform::tls::install_crypto_provider();
    let settings = platform::Settings::from_env()?;
    platform::telemetry::init(settings.log_format, &settings.log_filter)?;
    let (_db, queue) = worker::connect(&settings).await?;
    let name = worker::process_name("worker");
    tracing::info!(%name, "worker starting");
    let monitor = jobs::handlers::register_all(
        apalis::prelude::Monitor::new(),
        &queue,
        &jobs::handlers::Deps::from_settings(&settings, queue.clone())
            .await
            .context("preparing job dependencies")?,
        &name,
        settings.worker_concurrency,
    );
    worker::spawn_reconciler(queue);
    worker::run_monitor(monitor, platform::shutdown::terminate_signal()).await?;
    tracing::info!(%name, "worker stopped");
    Ok(())
}
