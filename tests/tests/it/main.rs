//! End-to-end tests. One binary, modules per area, so the workspace links tests once.

mod apalis_patches;
mod api_health;
mod clock;
mod coalesce;
mod crash;
mod entities;
mod ledger;
mod migrations;
mod pipeline;
mod queue;
