//! Companies, contacts, deals, their associations and the sync checkpoints.

use sea_orm_migration::prelude::*;

use crate::columns::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Columns every synced CRM record has after its own.
fn record_tail() -> Vec<ColumnDef> {
    vec![
        json("properties"),
        timestamp_null("hs_created_at"),
        timestamp_null("hs_updated_at"),
        boolean("archived"),
        timestamp("synced_at"),
    ]
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let mut companies = vec![
            portal_id(),
            big_int("id"),
            string_null("name", 512),
            string_null("domain", 255),
            string_null("industry", 128),
            big_int_null("employees"),
            double_null("annual_revenue"),
            string_null("country", 128),
        ];
        companies.extend(record_tail());
        manager
            .create_table(create_table("companies", companies, &["portal_id", "id"]))
            .await?;

        let mut contacts = vec![
            portal_id(),
            big_int("id"),
            string_null("email", 320),
            string_null("first_name", 255),
            string_null("last_name", 255),
            string_null("job_title", 512),
            string_null("hs_seniority", 64),
            string_null("hs_role", 64),
            string_null("lifecycle_stage", 64),
            string_null("lead_status", 64),
            string_null("country", 128),
            big_int_null("company_id"),
        ];
        contacts.extend(record_tail());
        manager
            .create_table(create_table("contacts", contacts, &["portal_id", "id"]))
            .await?;

        let mut deals = vec![
            portal_id(),
            big_int("id"),
            string_null("name", 512),
            string_null("pipeline", 128),
            string_null("stage", 128),
            double_null("amount"),
            timestamp_null("close_date"),
            boolean("is_closed"),
            boolean("is_closed_won"),
        ];
        deals.extend(record_tail());
        manager
            .create_table(create_table("deals", deals, &["portal_id", "id"]))
            .await?;

        manager
            .create_table(create_table(
                "associations",
                vec![
                    portal_id(),
                    string("kind", 24),
                    big_int("from_id"),
                    big_int("to_id"),
                    boolean("is_primary"),
                    timestamp("synced_at"),
                ],
                &["portal_id", "kind", "from_id", "to_id"],
            ))
            .await?;

        manager
            .create_table(create_table(
                "sync_cursors",
                vec![
                    portal_id(),
                    string("object_type", 16),
                    text_null("after"),
                    big_int("records_done"),
                    timestamp_null("modified_since"),
                    boolean("completed"),
                    timestamp("updated_at"),
                ],
                &["portal_id", "object_type"],
            ))
            .await?;

        for stmt in [
            // Contacts of a company (labels for training, company changes re-score its people).
            index("contacts", &["portal_id", "company_id"]),
            // Incremental sync and reconciliation walk records by modification time.
            index("contacts", &["portal_id", "hs_updated_at"]),
            index("companies", &["portal_id", "hs_updated_at"]),
            index("deals", &["portal_id", "hs_updated_at"]),
            // Closed-won companies define the positives.
            index("deals", &["portal_id", "is_closed_won"]),
            // Reverse lookups: which contacts/deals point at this company.
            index("associations", &["portal_id", "kind", "to_id"]),
        ] {
            manager.create_index(stmt).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            "sync_cursors",
            "associations",
            "deals",
            "contacts",
            "companies",
        ] {
            manager.drop_table(drop_table(table)).await?;
        }
        Ok(())
    }
}
