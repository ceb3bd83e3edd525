//! What the API's front doors remember: OAuth `state` nonces already used (so a state is good
//! for one callback only), and webhook events for portals Conturs does not know (acknowledged so
//! HubSpot stops retrying, and kept for the audit trail). Neither table belongs to a connected
//! portal, so neither carries the portal foreign key.

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
                    .table(Alias::new("oauth_states"))
                    .if_not_exists()
                    .col(string("nonce", 64).primary_key().to_owned())
                    .col(timestamp("used_at"))
                    .col(timestamp("expires_at"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index("oauth_states", &["expires_at"]))
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Alias::new("unknown_portal_events"))
                    .if_not_exists()
                    .col(id_auto())
                    .col(big_int("portal_id"))
                    .col(string("dedupe_key", 255))
                    .col(string("subscription_type", 64))
                    .col(big_int("object_id"))
                    .col(timestamp("occurred_at"))
                    .col(timestamp("received_at"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                index("unknown_portal_events", &["portal_id", "dedupe_key"])
                    .unique()
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(drop_table("unknown_portal_events"))
            .await?;
        manager.drop_table(drop_table("oauth_states")).await
    }
}
