//! Test support shared by the end-to-end suites: throwaway databases on SQLite and Postgres,
//! and [`spawn_app`], which starts the real API on a random port.
//!
//! Each test gets its own database (a temp SQLite file, or a fresh Postgres database named
//! `conturs_test_<uuid>` that is dropped afterwards), so tests run in parallel and never touch
//! data that belongs to anyone else on the server.

pub mod app;
pub mod bench;
pub mod browser;
pub mod chaos;
pub mod counting;
pub mod database;
pub mod fixtures;
pub mod pipeline;
pub mod processes;
pub mod redis_ns;
pub mod small_disk;

pub use app::{AppOptions, TestApp, spawn_app, spawn_app_with};
pub use database::{Backend, TestDatabase};
pub use redis_ns::TestRedis;

/// Sends the app's warnings and errors to the test's captured output, so a failure in CI shows
/// why (a 503 says "database error"; the log says which). `RUST_LOG` overrides the level.
pub fn capture_logs() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    // A second call in the same process keeps the first subscriber; that is fine.
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_test_writer()
        .try_init();
}
