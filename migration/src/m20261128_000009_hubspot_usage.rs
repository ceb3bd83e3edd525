//! HubSpot requests per portal and 10-second window, written by every worker process (their
//! counts add up) and read by the API for the portal page and `/metrics`. No portal foreign
//! key: a worker flushes counts for whatever portal it called, and a flush must not fail
//! because that portal's row went away meanwhile; retention removes old windows.

use sea_orm_migration::prelude::*;

use crate::columns::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let mut key = Index::create();
        key.name("pk_hubspot_usage")
            .col(Alias::new("portal_id"))
            .col(Alias::new("window_start"));
        manager
            .create_table(
                Table::create()
                    .table(Alias::new("hubspot_usage"))
                    .if_not_exists()
                    .col(portal_id())
                    .col(timestamp("window_start"))
                    .col(big_int("requests"))
                    .col(big_int("search_requests"))
                    .col(big_int("responses_429"))
                    .col(big_int("responses_5xx"))
                    .primary_key(&mut key)
                    .to_owned(),
            )
            .await?;
        // Time-range reads over all portals (retention, the board's last hour).
        manager
            .create_index(index("hubspot_usage", &["window_start"]))
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(drop_table("hubspot_usage")).await
    }
}
