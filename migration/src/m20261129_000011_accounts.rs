//! Customer accounts (the dashboard's sign-in) and their server-side sessions.
//!
//! An account owns its HubSpot connections through `portals.account_id`. Sessions live in the
//! database, keyed by a hash of the cookie's random token, so signing out or changing the
//! password revokes them at once on every api dyno. `plan` is empty until plans exist.

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
                    .table(Alias::new("accounts"))
                    .if_not_exists()
                    .col(id_auto())
                    .col(string("email", 254))
                    .col(string("password_hash", 255))
                    .col(string_null("plan", 64))
                    .col(int("failed_attempts"))
                    .col(timestamp_null("locked_until"))
                    .col(timestamp("created_at"))
                    .col(timestamp("updated_at"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index("accounts", &["email"]).unique().to_owned())
            .await?;

        let mut key = Index::create();
        key.name("pk_account_sessions").col(Alias::new("id"));
        manager
            .create_table(
                Table::create()
                    .table(Alias::new("account_sessions"))
                    .if_not_exists()
                    .col(string("id", 64))
                    .col(big_int("account_id"))
                    .col(timestamp("created_at"))
                    .col(timestamp("expires_at"))
                    .col(timestamp("last_seen_at"))
                    .primary_key(&mut key)
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_account_sessions_account")
                            .from(Alias::new("account_sessions"), Alias::new("account_id"))
                            .to(Alias::new("accounts"), Alias::new("id"))
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index("account_sessions", &["account_id"]))
            .await?;
        manager
            .create_index(index("account_sessions", &["expires_at"]))
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(drop_table("account_sessions")).await?;
        manager.drop_table(drop_table("accounts")).await
    }
}
