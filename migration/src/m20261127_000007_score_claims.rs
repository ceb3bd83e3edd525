//! Which queued ScoreContact run will score a contact: a burst of webhooks for one contact
//! becomes one scoring, because later requests see the claim and fold into that run.

use sea_orm_migration::prelude::*;

use crate::columns::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(create_table(
                "score_claims",
                vec![
                    portal_id(),
                    big_int("contact_id"),
                    uuid("job_run_id"),
                    timestamp("claimed_at"),
                ],
                &["portal_id", "contact_id"],
            ))
            .await?;
        manager
            .create_index(index("score_claims", &["job_run_id"]))
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(drop_table("score_claims")).await
    }
}
