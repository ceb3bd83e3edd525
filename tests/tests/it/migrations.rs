//! The schema applies, rolls back and re-applies cleanly on both backends.

use conturs_tests::{Backend, TestDatabase};
use migration::{Migrator, MigratorTrait, SchemaManager};

const TABLES: [&str; 22] = [
    "portals",
    "oauth_tokens",
    "companies",
    "contacts",
    "deals",
    "associations",
    "sync_cursors",
    "models",
    "scores",
    "score_history",
    "job_runs",
    "job_events",
    "webhook_events",
    "clock_ticks",
    "score_claims",
    "oauth_states",
    "unknown_portal_events",
    "hubspot_usage",
    "worker_presence",
    "accounts",
    "account_sessions",
    "deleted_contacts",
];

async fn existing_tables(db: &sea_orm::DatabaseConnection) -> Vec<&'static str> {
    let manager = SchemaManager::new(db);
    let mut found = Vec::new();
    for table in TABLES {
        if manager.has_table(table).await.expect("has_table") {
            found.push(table);
        }
    }
    found
}

async fn up_down_up(backend: Backend) {
    let test_db = TestDatabase::empty(backend).await.expect("test database");
    // Schema changes go through one connection, as `migration::apply` runs them.
    let conn = platform::db::connect_single(&test_db.url)
        .await
        .expect("one connection");
    assert!(existing_tables(&conn).await.is_empty());

    Migrator::up(&conn, None).await.expect("first up");
    assert_eq!(existing_tables(&conn).await, TABLES.to_vec());
    let applied = Migrator::get_applied_migrations(&conn)
        .await
        .expect("status");
    assert_eq!(applied.len(), Migrator::migrations().len());

    // One step back removes only the newest migration's table.
    Migrator::down(&conn, Some(1)).await.expect("down one");
    let tables = existing_tables(&conn).await;
    assert!(!tables.contains(&"deleted_contacts"));
    assert!(tables.contains(&"accounts"));
    assert!(tables.contains(&"account_sessions"));
    assert!(tables.contains(&"worker_presence"));
    assert!(tables.contains(&"hubspot_usage"));
    assert!(tables.contains(&"oauth_states"));
    assert!(tables.contains(&"unknown_portal_events"));

    Migrator::down(&conn, None).await.expect("down all");
    assert!(
        existing_tables(&conn).await.is_empty(),
        "down must remove every table"
    );
    assert!(
        Migrator::get_applied_migrations(&conn)
            .await
            .expect("status")
            .is_empty()
    );

    Migrator::up(&conn, None).await.expect("second up");
    assert_eq!(existing_tables(&conn).await, TABLES.to_vec());
    // Up again with nothing pending is a no-op, as the release phase runs it on every deploy.
    Migrator::up(&conn, None).await.expect("idempotent up");
    assert!(
        Migrator::get_pending_migrations(&conn)
            .await
            .expect("pending")
            .is_empty()
    );
}

#[tokio::test]
async fn migrations_up_down_up_on_sqlite() {
    up_down_up(Backend::Sqlite).await;
}

#[tokio::test]
async fn migrations_up_down_up_on_postgres() {
    up_down_up(Backend::Postgres).await;
}
