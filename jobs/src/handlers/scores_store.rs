//! Models and scores in the database: the active model per portal, each contact's current score
//! and history, and which scores differ from what HubSpot already shows.

use chrono::{DateTime, Utc};
use entity::{ModelStatus, models, portals, score_history, scores};
use scoring::crm::{ContactModel, ContactScore};
use sea_orm::sea_query::{Expr, OnConflict};
use std::collections::HashMap;

use sea_orm::{
    ActiveValue::NotSet, ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr, EntityTrait,
    IntoActiveModel, QueryFilter, QueryOrder,
};

/// The values a score puts on a HubSpot contact.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WrittenValues {
    pub score: i16,
    pub grade: String,
    pub explanation: String,
    pub top_factors: String,
}

impl WrittenValues {
    /// What HubSpot should show for a stored score, or `None` for an unscored contact.
    pub fn of(row: &scores::Model) -> Option<Self> {
        Some(Self {
            score: row.score?,
            grade: row.grade.clone()?,
            explanation: row.explanation.clone()?,
            top_factors: row
                .top_factors
                .as_ref()
                .and_then(|v| v.get("text"))
                .and_then(|v| v.as_str())
                .map(str::to_owned)?,
        })
    }

    /// What HubSpot shows now, from the values last written.
    pub fn written(row: &scores::Model) -> Option<Self> {
        Some(Self {
            score: row.written_score?,
            grade: row.written_grade.clone()?,
            explanation: row.written_explanation.clone()?,
            top_factors: row.written_top_factors.clone()?,
        })
    }
}

/// The portal's active model and its version.
pub async fn active_model<C: ConnectionTrait>(
    db: &C,
    portal_id: i64,
) -> Result<Option<(i32, ContactModel)>, DbErr> {
    Ok(latest_active_row(db, portal_id)
        .await?
        .and_then(|row| usable_model(&row)))
}

/// The portal's newest active model row, usable or not.
async fn latest_active_row<C: ConnectionTrait>(
    db: &C,
    portal_id: i64,
) -> Result<Option<models::Model>, DbErr> {
    models::Entity::find()
        .filter(models::Column::PortalId.eq(portal_id))
        .filter(models::Column::Status.eq(ModelStatus::Active))
        .order_by_desc(models::Column::Version)
        .one(db)
        .await
}

/// The row's model with its version, or `None` for an artefact of an older schema, so
/// TrainModel replaces it.
fn usable_model(row: &models::Model) -> Option<(i32, ContactModel)> {
    match ContactModel::from_json(&row.artefact.to_string()) {
        Ok(model) => Some((row.version, model)),
        Err(error) => {
            tracing::warn!(
                portal_id = row.portal_id,
                version = row.version,
                %error,
                "stored model unusable"
            );
            None
        }
    }
}

/// The metrics key naming the TrainModel run that trained a model.
pub const TRAINED_BY_RUN: &str = "trained_by_run";

/// The portal's active model if `run_id` trained it: an attempt of that run that was killed or
/// interrupted after storing its model, so the next attempt reuses it instead of adding a
/// second version of the same training.
pub async fn model_trained_by_run<C: ConnectionTrait>(
    db: &C,
    portal_id: i64,
    run_id: uuid::Uuid,
) -> Result<Option<(i32, ContactModel)>, DbErr> {
    let run = run_id.to_string();
    Ok(latest_active_row(db, portal_id)
        .await?
        .filter(|row| row.metrics[TRAINED_BY_RUN].as_str() == Some(run.as_str()))
        .and_then(|row| usable_model(&row)))
}

/// Stores `model` as the portal's new active model, retiring the previous one; returns its version.
pub async fn store_model<C: ConnectionTrait>(
    db: &C,
    portal_id: i64,
    model: &ContactModel,
    metrics: serde_json::Value,
) -> Result<i32, DbErr> {
    let latest = models::Entity::find()
        .filter(models::Column::PortalId.eq(portal_id))
        .order_by_desc(models::Column::Version)
        .one(db)
        .await?
        .map(|m| m.version)
        .unwrap_or(0);
    let version = latest + 1;
    let artefact: serde_json::Value = model
        .to_json()
        .ok()
        .and_then(|json| serde_json::from_str(&json).ok())
        .ok_or_else(|| DbErr::Custom("model artefact did not serialise".into()))?;
    let tabular = model.model();
    models::Entity::update_many()
        .col_expr(models::Column::Status, Expr::value(ModelStatus::Retired))
        .filter(models::Column::PortalId.eq(portal_id))
        .filter(models::Column::Status.eq(ModelStatus::Active))
        .exec(db)
        .await?;
    models::Entity::insert(models::ActiveModel {
        id: NotSet,
        portal_id: Set(portal_id),
        version: Set(version),
        status: Set(ModelStatus::Active),
        algorithm: Set(algorithm_name(&tabular.kind).to_owned()),
        positives: Set(tabular.metrics.positives as i32),
        negatives: Set(tabular.metrics.reliable_negatives as i32),
        unlabeled: Set((tabular.metrics.rows
            - tabular.metrics.positives
            - tabular.metrics.reliable_negatives) as i32),
        metrics: Set(metrics),
        artefact: Set(artefact),
        schema_version: Set(scoring::SCHEMA_VERSION as i32),
        trained_at: Set(Utc::now()),
    })
    .exec(db)
    .await?;
    portals::Entity::update_many()
        .col_expr(portals::Column::ActiveModelVersion, Expr::value(version))
        .filter(portals::Column::Id.eq(portal_id))
        .exec(db)
        .await?;
    Ok(version)
}

/// Stores a batch of contacts' scores (or why each has none) with one read and two writes, and
/// returns the contacts whose HubSpot values must change.
pub async fn store_scores<C: ConnectionTrait>(
    db: &C,
    portal_id: i64,
    version: i32,
    results: &[(i64, ContactScore)],
    now: DateTime<Utc>,
) -> Result<Vec<i64>, DbErr> {
    // Contacts HubSpot deleted while this batch was being scored get no score back.
    let deleted =
        crate::privacy::tombstoned(db, portal_id, results.iter().map(|(id, _)| *id)).await?;
    let results: Vec<&(i64, ContactScore)> = results
        .iter()
        .filter(|(id, _)| !deleted.contains_key(id))
        .collect();
    if results.is_empty() {
        return Ok(Vec::new());
    }
    let existing: HashMap<i64, scores::Model> = scores::Entity::find()
        .filter(scores::Column::PortalId.eq(portal_id))
        .filter(scores::Column::ContactId.is_in(results.iter().map(|(id, _)| *id)))
        .all(db)
        .await?
        .into_iter()
        .map(|row| (row.contact_id, row))
        .collect();
    let mut rows = Vec::with_capacity(results.len());
    let mut history = Vec::new();
    let mut to_write = Vec::new();
    for (contact_id, result) in results.iter().copied() {
        let previous = existing.get(contact_id);
        let mut row = scores::Model {
            portal_id,
            contact_id: *contact_id,
            score: None,
            grade: None,
            raw_score: None,
            explanation: None,
            top_factors: None,
            unscorable_reason: None,
            model_version: Some(version),
            scored_at: now,
            written_score: previous.and_then(|p| p.written_score),
            written_grade: previous.and_then(|p| p.written_grade.clone()),
            written_explanation: previous.and_then(|p| p.written_explanation.clone()),
            written_top_factors: previous.and_then(|p| p.written_top_factors.clone()),
            written_at: previous.and_then(|p| p.written_at),
            writeback_error: previous.and_then(|p| p.writeback_error.clone()),
        };
        match result {
            ContactScore::Scored(scored) => {
                row.score = Some(i16::from(scored.score.score));
                row.grade = Some(scored.score.grade.letter().to_owned());
                row.raw_score = Some(scored.score.raw);
                row.explanation = Some(scored.explanation.text());
                row.top_factors = Some(factors_json(&scored.explanation));
            }
            ContactScore::Unscorable(reason) => {
                row.unscorable_reason = Some(reason.to_string());
            }
        }
        let moved = previous.map(|p| (p.score, &p.grade)) != Some((row.score, &row.grade));
        if let (true, Some(score), Some(grade)) = (moved, row.score, row.grade.clone()) {
            history.push(score_history::ActiveModel {
                id: NotSet,
                portal_id: Set(portal_id),
                contact_id: Set(*contact_id),
                model_version: Set(version),
                score: Set(score),
                grade: Set(grade),
                scored_at: Set(now),
            });
        }
        if needs_write(&row) {
            to_write.push(*contact_id);
        }
        rows.push(scores::ActiveModel {
            written_score: NotSet,
            written_grade: NotSet,
            written_explanation: NotSet,
            written_top_factors: NotSet,
            written_at: NotSet,
            writeback_error: NotSet,
            ..row.into_active_model()
        });
    }
    scores::Entity::insert_many(rows)
        .on_conflict(
            OnConflict::columns([scores::Column::PortalId, scores::Column::ContactId])
                .update_columns([
                    scores::Column::Score,
                    scores::Column::Grade,
                    scores::Column::RawScore,
                    scores::Column::Explanation,
                    scores::Column::TopFactors,
                    scores::Column::UnscorableReason,
                    scores::Column::ModelVersion,
                    scores::Column::ScoredAt,
                ])
                .to_owned(),
        )
        .exec(db)
        .await?;
    if !history.is_empty() {
        score_history::Entity::insert_many(history).exec(db).await?;
    }
    Ok(to_write)
}

/// The explanation's factors as stored: the HubSpot text plus the signed points per field.
fn factors_json(explanation: &scoring::Explanation) -> serde_json::Value {
    let factor = |f: &scoring::Factor| serde_json::json!({"field": f.field, "text": f.text, "points": f.points});
    serde_json::json!({
        "text": explanation.top_factors(),
        "positives": explanation.positives.iter().map(factor).collect::<Vec<_>>(),
        "negatives": explanation.negatives.iter().map(factor).collect::<Vec<_>>(),
    })
}

/// Whether HubSpot shows something other than the stored score.
pub fn needs_write(row: &scores::Model) -> bool {
    match WrittenValues::of(row) {
        Some(values) => WrittenValues::written(row).as_ref() != Some(&values),
        None => false,
    }
}

/// The stored, stable name of a model kind (its parameters go into the metrics).
pub fn algorithm_name(kind: &scoring::ModelKind) -> &'static str {
    match kind {
        scoring::ModelKind::LogisticRegression { .. } => "logistic_regression",
        scoring::ModelKind::Blend { .. } => "logistic_naive_bayes_blend",
    }
}
