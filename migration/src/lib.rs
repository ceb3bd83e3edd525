//! Schema migrations for SQLite and Postgres from one set of sea-query definitions.
//!
//! The `migration` binary runs them in Heroku's release phase; the tests and the embedded mode
//! call [`Migrator::up`] directly. Migrations are append-only once released.

pub use sea_orm_migration::prelude::*;

mod columns;
mod m20261127_000001_portals;
mod m20261127_000002_crm_records;
mod m20261127_000003_models_and_scores;
mod m20261127_000004_job_ledger;
mod m20261127_000005_webhook_events;
mod m20261127_000006_clock_ticks;
mod m20261127_000007_score_claims;
mod m20261128_000008_api_intake;
mod m20261128_000009_hubspot_usage;

/// All Conturs migrations, oldest first.
pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261127_000001_portals::Migration),
            Box::new(m20261127_000002_crm_records::Migration),
            Box::new(m20261127_000003_models_and_scores::Migration),
            Box::new(m20261127_000004_job_ledger::Migration),
            Box::new(m20261127_000005_webhook_events::Migration),
            Box::new(m20261127_000006_clock_ticks::Migration),
            Box::new(m20261127_000007_score_claims::Migration),
            Box::new(m20261128_000008_api_intake::Migration),
            Box::new(m20261128_000009_hubspot_usage::Migration),
        ]
    }
}
