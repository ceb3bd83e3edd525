//! The one way Conturs opens its database, so SQLite is always configured for concurrent use.
//!
//! Embedded mode shares one SQLite file between sea-orm and the apalis queue. Without WAL and a
//! busy timeout, concurrent writers fail with "database is locked" and kill workers
//! (notes/apalis-embedded-sqlite.md), so both are set on every pooled connection here.

use std::time::Duration;

use sea_orm::{ConnectOptions, Database, DatabaseConnection, DbErr};

use crate::config::{DatabaseKind, DatabaseUrl};

const SQLITE_BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// Connects with pool sizes and SQLite pragmas suited to our workload.
pub async fn connect(url: &DatabaseUrl) -> Result<DatabaseConnection, DbErr> {
    Database::connect(options(url)).await
}

/// One connection, for schema changes: every DDL statement of a migration run goes through the
/// same SQLite connection in order, so none runs against another pooled connection's view of a
/// schema the run has just changed (seen as "index … already exists" after a down and up).
pub async fn connect_single(url: &DatabaseUrl) -> Result<DatabaseConnection, DbErr> {
    let mut options = options(url);
    options.max_connections(1).min_connections(1);
    Database::connect(options).await
}

fn options(url: &DatabaseUrl) -> ConnectOptions {
    let mut options = ConnectOptions::new(url.expose().to_owned());
    options
        .sqlx_logging(false)
        .connect_timeout(Duration::from_secs(10))
        .acquire_timeout(Duration::from_secs(30));
    match url.kind() {
        DatabaseKind::Sqlite => {
            options
                .max_connections(8)
                .min_connections(1)
                .map_sqlx_sqlite_opts(|o| {
                    o.journal_mode(sea_orm::sqlx::sqlite::SqliteJournalMode::Wal)
                        .synchronous(sea_orm::sqlx::sqlite::SqliteSynchronous::Normal)
                        .busy_timeout(SQLITE_BUSY_TIMEOUT)
                        .foreign_keys(true)
                });
        }
        DatabaseKind::Postgres => {
            options.max_connections(16).min_connections(1);
        }
    }
    options
}

/// Begins a transaction that will write. On SQLite it takes the write lock up front
/// (`BEGIN IMMEDIATE`): a deferred transaction that reads and then writes fails with "database
/// is locked" when another connection wrote in between, whatever the busy timeout.
pub async fn begin_write(db: &DatabaseConnection) -> Result<sea_orm::DatabaseTransaction, DbErr> {
    use sea_orm::{SqliteTransactionMode, TransactionOptions, TransactionTrait};
    db.begin_with_options(TransactionOptions {
        isolation_level: None,
        access_mode: None,
        sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
    })
    .await
}
