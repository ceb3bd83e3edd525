//! Contacts HubSpot deleted (or erased for privacy): only their ids, so data read before the
//! deletion and still in flight (a sync page, a scoring batch) is never stored again.

use sea_orm_migration::prelude::*;

use crate::columns::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(create_table(
                "deleted_contacts",
                vec![
                    portal_id(),
                    big_int("contact_id"),
                    string("kind", 32),
                    timestamp("deleted_at"),
                ],
                &["portal_id", "contact_id"],
            ))
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(drop_table("deleted_contacts")).await
    }
}
