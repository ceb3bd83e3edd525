//! Logging to stdout, in one place, as Heroku's log router expects.
//!
//! Human-readable lines by default and JSON for log drains (`CONTURS_LOG_FORMAT=json`). Secrets are
//! kept out structurally: every secret in [`crate::Settings`] is a `secrecy` type or redacts its own
//! `Debug`, so logging a value cannot print one.

use tracing_subscriber::EnvFilter;

use crate::config::LogFormat;

/// Why telemetry could not start (a bad `RUST_LOG` or a second initialisation).
#[derive(Debug, thiserror::Error)]
pub enum TelemetryError {
    #[error("configuration error: RUST_LOG is not a valid filter: {0}")]
    BadFilter(String),
    #[error("telemetry was already initialised in this process")]
    AlreadyInitialised,
}

/// Installs the global subscriber; call once from `main`.
pub fn init(format: LogFormat, filter: &str) -> Result<(), TelemetryError> {
    let filter =
        EnvFilter::try_new(filter).map_err(|e| TelemetryError::BadFilter(e.to_string()))?;
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stdout);
    let result = match format {
        LogFormat::Human => builder.try_init(),
        LogFormat::Json => builder.json().flatten_event(true).try_init(),
    };
    result.map_err(|_| TelemetryError::AlreadyInitialised)
}
