//! Portals and their sealed OAuth tokens.

use sea_orm_migration::prelude::*;

use crate::columns::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Alias::new("portals"))
                    .if_not_exists()
                    .col(
                        ColumnDef::new(Alias::new("id"))
                            .big_integer()
                            .not_null()
                            .primary_key(),
                    )
                    .col(string_null("hub_domain", 255))
                    .col(string("status", 32))
                    .col(text_null("status_reason"))
                    .col(json("scopes"))
                    .col(big_int_null("account_id"))
                    .col(int_null("active_model_version"))
                    .col(timestamp("connected_at"))
                    .col(timestamp_null("disconnected_at"))
                    .col(timestamp_null("last_full_sync_at"))
                    .col(timestamp_null("last_incremental_sync_at"))
                    .col(timestamp_null("sync_watermark"))
                    .col(timestamp("created_at"))
                    .col(timestamp("updated_at"))
                    .to_owned(),
            )
            .await?;
        manager.create_index(index("portals", &["status"])).await?;
        manager
            .create_index(index("portals", &["account_id"]))
            .await?;

        manager
            .create_table(create_table(
                "oauth_tokens",
                vec![
                    portal_id().primary_key().to_owned(),
                    blob("access_token_sealed"),
                    blob("refresh_token_sealed"),
                    timestamp("access_expires_at"),
                    int("token_version"),
                    timestamp("updated_at"),
                ],
                &[],
            ))
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(drop_table("oauth_tokens")).await?;
        manager.drop_table(drop_table("portals")).await
    }
}
