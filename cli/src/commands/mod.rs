//! One module per `conturs` subcommand.

pub mod eval;
