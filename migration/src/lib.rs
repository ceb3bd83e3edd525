//! Schema migrations for SQLite and Postgres from one set of sea-query definitions.
//!
//! The `migration` binary runs them in Heroku's release phase; the tests and the embedded mode
//! call [`apply`] before they open their own pool. Migrations are append-only once released.

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
mod m20261128_000010_worker_presence;
mod m20261129_000011_accounts;
mod m20261130_000012_deleted_contacts;

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
            Box::new(m20261128_000010_worker_presence::Migration),
            Box::new(m20261129_000011_accounts::Migration),
            Box::new(m20261130_000012_deleted_contacts::Migration),
        ]
    }
}

/// Applies every pending migration over a connection of its own, closed before returning.
///
/// Open the application's pool only afterwards: a pooled SQLite connection that was open while
/// the schema changed can keep preparing statements against the old schema (an upsert then fails
/// with "ON CONFLICT clause does not match any PRIMARY KEY or UNIQUE constraint" on whichever
/// request draws that connection).
pub async fn apply(url: &platform::config::DatabaseUrl) -> Result<(), DbErr> {
    let db = platform::db::connect_single(url).await?;
    let applied = Migrator::up(&db, None).await;
    db.close().await?;
    applied
}
