//! Received webhook events, unique per portal and de-duplication key.

use sea_orm_migration::prelude::*;

use crate::columns::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(create_table(
                "webhook_events",
                vec![
                    id_auto(),
                    portal_id(),
                    string("dedupe_key", 255),
                    big_int("event_id"),
                    string("subscription_type", 64),
                    big_int("object_id"),
                    string_null("property_name", 255),
                    timestamp("occurred_at"),
                    int("attempt_number"),
                    timestamp("received_at"),
                    string("outcome", 16),
                    text_null("ignore_reason"),
                    uuid_null("job_run_id"),
                ],
                &[],
            ))
            .await?;
        manager
            .create_index(
                index("webhook_events", &["portal_id", "dedupe_key"])
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index("webhook_events", &["portal_id", "received_at"]))
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(drop_table("webhook_events")).await
    }
}
