//! `conturs-clock`: the clock dyno. Fires NightlyResync on `CONTURS_NIGHTLY_SCHEDULE`
//! (00:00 UTC by default), once per tick across every process.

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    platform::tls::install_crypto_provider();
    let settings = platform::Settings::from_env()?;
    platform::telemetry::init(settings.log_format, &settings.log_filter)?;
    let (_db, queue) = worker::connect(&settings).await?;
    let clock = jobs::clock::Clock::new(queue, &settings.nightly_schedule)?;
    tracing::info!(schedule = %settings.nightly_schedule, "clock starting");
    clock.run(platform::shutdown::terminate_signal()).await;
    tracing::info!("clock stopped");
    Ok(())
}
