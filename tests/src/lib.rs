//! Test support shared by the end-to-end suites: throwaway databases on SQLite and Postgres,
//! and [`spawn_app`], which starts the real API on a random port.
//!
//! Each test gets its own database (a temp SQLite file, or a fresh Postgres database named
//! `conturs_test_<uuid>` that is dropped afterwards), so tests run in parallel and never touch
//! data that belongs to anyone else on the server.

pub mod app;
pub mod bench;
pub mod database;
pub mod fixtures;
pub mod pipeline;
pub mod processes;
pub mod redis_ns;

pub use app::{AppOptions, TestApp, spawn_app, spawn_app_with};
pub use database::{Backend, TestDatabase};
pub use redis_ns::TestRedis;
