//! End-to-end tests. One binary, modules per area, so the workspace links tests once.

mod apalis_patches;
mod api_auth;
mod api_health;
mod api_jobs;
mod api_metrics;
mod api_oauth;
mod api_openapi;
mod api_portals;
mod api_probes;
mod api_scores;
mod api_webhooks;
mod board;
mod board_browser;
mod cli;
mod clock;
mod coalesce;
mod crash;
mod dashboard;
mod dashboard_browser;
mod dashboard_scores;
mod entities;
mod ledger;
mod ledger_batch;
mod migrations;
mod pipeline;
mod queue;
