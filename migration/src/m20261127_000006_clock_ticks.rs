//! One row per (portal, schedule, tick): the primary key makes each scheduled job fire exactly
//! once however many clock or worker processes race for it.

use sea_orm_migration::prelude::*;

use crate::columns::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(create_table(
                "clock_ticks",
                vec![
                    portal_id(),
                    string("schedule", 64),
                    timestamp("tick_at"),
                    uuid("job_run_id"),
                    timestamp("fired_at"),
                ],
                &["portal_id", "schedule", "tick_at"],
            ))
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(drop_table("clock_ticks")).await
    }
}
