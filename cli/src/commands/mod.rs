//! One module per `conturs` subcommand.

pub mod demo;
pub mod eval;
