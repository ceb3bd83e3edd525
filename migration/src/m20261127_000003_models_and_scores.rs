//! Trained models, current scores and score history.

use sea_orm_migration::prelude::*;

use crate::columns::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(create_table(
                "models",
                vec![
                    id_auto(),
                    portal_id(),
                    int("version"),
                    string("status", 16),
                    string("algorithm", 64),
                    int("positives"),
                    int("negatives"),
                    int("unlabeled"),
                    json("metrics"),
                    json("artefact"),
                    int("schema_version"),
                    timestamp("trained_at"),
                ],
                &[],
            ))
            .await?;
        manager
            .create_index(
                index("models", &["portal_id", "version"])
                    .unique()
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(create_table(
                "scores",
                vec![
                    portal_id(),
                    big_int("contact_id"),
                    small_int_null("score"),
                    string_null("grade", 2),
                    double_null("raw_score"),
                    text_null("explanation"),
                    json_null("top_factors"),
                    text_null("unscorable_reason"),
                    int_null("model_version"),
                    timestamp("scored_at"),
                    small_int_null("written_score"),
                    string_null("written_grade", 2),
                    text_null("written_explanation"),
                    text_null("written_top_factors"),
                    timestamp_null("written_at"),
                    text_null("writeback_error"),
                ],
                &["portal_id", "contact_id"],
            ))
            .await?;
        for stmt in [
            // Top-N contacts and hot/warm/cold views.
            index("scores", &["portal_id", "score"]),
            // Grade distribution.
            index("scores", &["portal_id", "grade"]),
        ] {
            manager.create_index(stmt).await?;
        }

        manager
            .create_table(create_table(
                "score_history",
                vec![
                    id_auto(),
                    portal_id(),
                    big_int("contact_id"),
                    int("model_version"),
                    ColumnDef::new(Alias::new("score"))
                        .small_integer()
                        .not_null()
                        .to_owned(),
                    string("grade", 2),
                    timestamp("scored_at"),
                ],
                &[],
            ))
            .await?;
        manager
            .create_index(index(
                "score_history",
                &["portal_id", "contact_id", "scored_at"],
            ))
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in ["score_history", "scores", "models"] {
            manager.drop_table(drop_table(table)).await?;
        }
        Ok(())
    }
}
