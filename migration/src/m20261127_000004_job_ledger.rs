//! The job ledger: runs (progress, outbox) and their event timelines.

use sea_orm_migration::prelude::*;

use crate::columns::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(create_table(
                "job_runs",
                vec![
                    uuid("id").primary_key().to_owned(),
                    portal_id(),
                    string("job_type", 32),
                    string("lane", 16),
                    string("status", 16),
                    json("payload"),
                    int("attempts"),
                    int("max_attempts"),
                    string_null("phase", 64),
                    big_int("done"),
                    big_int_null("total"),
                    double_null("rate"),
                    double_null("eta_seconds"),
                    text_null("last_error"),
                    string_null("error_kind", 32),
                    string_null("idempotency_key", 255),
                    string_null("queue_task_id", 64),
                    string_null("worker", 128),
                    uuid_null("parent_id"),
                    timestamp("created_at"),
                    timestamp_null("started_at"),
                    timestamp_null("finished_at"),
                    timestamp("updated_at"),
                    timestamp_null("heartbeat_at"),
                ],
                &[],
            ))
            .await?;
        for stmt in [
            // A portal's jobs, newest first (board, API).
            index("job_runs", &["portal_id", "id"]),
            // Filter by status/type, newest first; the reconciler scans pending/queued.
            index("job_runs", &["status", "id"]),
            index("job_runs", &["job_type", "status", "id"]),
            // Coalescing lookups.
            index("job_runs", &["idempotency_key"]),
            // Retention sweeps of finished runs.
            index("job_runs", &["finished_at"]),
        ] {
            manager.create_index(stmt).await?;
        }

        let mut job_events = create_table(
            "job_events",
            vec![
                id_auto(),
                uuid("job_run_id"),
                portal_id(),
                timestamp("at"),
                string("kind", 32),
                ColumnDef::new(Alias::new("message"))
                    .text()
                    .not_null()
                    .to_owned(),
                json_null("data"),
            ],
            &[],
        );
        job_events.foreign_key(
            ForeignKey::create()
                .name("fk_job_events_run")
                .from(Alias::new("job_events"), Alias::new("job_run_id"))
                .to(Alias::new("job_runs"), Alias::new("id"))
                .on_delete(ForeignKeyAction::Cascade),
        );
        manager.create_table(job_events).await?;
        for stmt in [
            index("job_events", &["job_run_id", "id"]),
            index("job_events", &["portal_id", "at"]),
        ] {
            manager.create_index(stmt).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(drop_table("job_events")).await?;
        manager.drop_table(drop_table("job_runs")).await
    }
}
