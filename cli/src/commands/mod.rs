//! One module per `conturs` subcommand.

pub mod demo;
pub mod enqueue;
pub mod eval;
pub mod jobs;
pub mod portals;
pub mod score;
