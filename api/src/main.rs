//! `conturs-api`: the web dyno.

use anyhow::Context as _;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    platform::tls::install_crypto_provider();
    let settings = platform::Settings::from_env()?;
    platform::telemetry::init(settings.log_format, &settings.log_filter)?;
    for var in settings.insecure_defaults() {
        tracing::warn!(
            var,
            "using the development default; set it before exposing this service"
        );
    }
    let app = api::Application::build(&settings)
        .await
        .context("starting the API")?;
    tracing::info!(port = app.port(), "API listening");
    app.run_until(api::terminate_signal()).await?;
    Ok(())
}
