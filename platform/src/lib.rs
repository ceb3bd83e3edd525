//! Process-level plumbing every Conturs binary shares: typed configuration read once from the
//! environment, telemetry, the TLS crypto provider, the database connection and the cipher that
//! keeps OAuth tokens encrypted at rest.

pub mod config;
pub mod db;
pub mod secret_box;
pub mod shutdown;
pub mod telemetry;
pub mod tls;

pub use config::{ConfigError, Environment, Settings};
pub use secret_box::{SecretBoxError, TokenCipher};
