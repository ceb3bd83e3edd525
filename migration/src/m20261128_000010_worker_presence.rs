//! Worker processes that are alive, as each writes itself down every few seconds: the board's
//! "workers" panel reads it (a worker that stopped beating is gone). No foreign keys: rows are
//! keyed by the process's unique name and pruned once stale.

use sea_orm_migration::prelude::*;

use crate::columns::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let mut key = Index::create();
        key.name("pk_worker_presence").col(Alias::new("name"));
        manager
            .create_table(
                Table::create()
                    .table(Alias::new("worker_presence"))
                    .if_not_exists()
                    .col(string("name", 128))
                    .col(string("host", 255))
                    .col(big_int("pid"))
                    .col(int("concurrency"))
                    .col(timestamp("started_at"))
                    .col(timestamp("last_seen_at"))
                    .primary_key(&mut key)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index("worker_presence", &["last_seen_at"]))
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(drop_table("worker_presence")).await
    }
}
