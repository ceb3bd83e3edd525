//! Test support shared by the end-to-end suites: throwaway databases on SQLite and Postgres.
//!
//! Each test gets its own database (a temp SQLite file, or a fresh Postgres database named
//! `conturs_test_<uuid>` that is dropped afterwards), so tests run in parallel and never touch
//! data that belongs to anyone else on the server.

pub mod database;

pub use database::{Backend, TestDatabase};
