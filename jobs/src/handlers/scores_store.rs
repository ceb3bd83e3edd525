//! Models and scores in the database: the active model per portal, each contact's current score
//! and history, and which scores differ from what HubSpot already shows.

use chrono::{DateTime, Utc};
use entity::{ModelStatus, models, portals, score_history, scores};
use scoring::crm::{ContactModel, ContactScore};
use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{
    ActiveValue::NotSet, ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr, EntityTrait,
    QueryFilter, QueryOrder,
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
    let row = models::Entity::find()
        .filter(models::Column::PortalId.eq(portal_id))
        .filter(models::Column::Status.eq(ModelStatus::Active))
        .order_by_desc(models::Column::Version)
        .one(db)
        .await?;
    let Some(row) = row else { return Ok(None) };
    let json = row.artefact.to_string();
    match ContactModel::from_json(&json) {
        Ok(model) => Ok(Some((row.version, model))),
        Err(error) => {
            // An artefact from an older schema: treat as no model, so TrainModel replaces it.
            tracing::warn!(portal_id, version = row.version, %error, "stored model unusable");
            Ok(None)
        }
    }
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
        algorithm: Set(format!("{:?}", tabular.kind)),
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

/// Stores one contact's score (or why it has none); returns whether HubSpot must be updated.
pub async fn store_score<C: ConnectionTrait>(
    db: &C,
    portal_id: i64,
    contact_id: i64,
    version: i32,
    result: &ContactScore,
    now: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let existing = scores::Entity::find_by_id((portal_id, contact_id))
        .one(db)
        .await?;
    let mut row = scores::ActiveModel {
        portal_id: Set(portal_id),
        contact_id: Set(contact_id),
        score: Set(None),
        grade: Set(None),
        raw_score: Set(None),
        explanation: Set(None),
        top_factors: Set(None),
        unscorable_reason: Set(None),
        model_version: Set(Some(version)),
        scored_at: Set(now),
        written_score: NotSet,
        written_grade: NotSet,
        written_explanation: NotSet,
        written_top_factors: NotSet,
        written_at: NotSet,
        writeback_error: NotSet,
    };
    match result {
        ContactScore::Scored(scored) => {
            row.score = Set(Some(i16::from(scored.score.score)));
            row.grade = Set(Some(scored.score.grade.letter().to_owned()));
            row.raw_score = Set(Some(scored.score.raw));
            row.explanation = Set(Some(scored.explanation.text()));
            row.top_factors = Set(Some(serde_json::json!({
                "text": scored.explanation.top_factors(),
                "positives": scored.explanation.positives.iter().map(|f| serde_json::json!({"field": f.field, "text": f.text, "points": f.points})).collect::<Vec<_>>(),
                "negatives": scored.explanation.negatives.iter().map(|f| serde_json::json!({"field": f.field, "text": f.text, "points": f.points})).collect::<Vec<_>>(),
            })));
        }
        ContactScore::Unscorable(reason) => {
            row.unscorable_reason = Set(Some(reason.to_string()));
        }
    }
    let new_value = match result {
        ContactScore::Scored(scored) => (
            Some(i16::from(scored.score.score)),
            Some(scored.score.grade.letter().to_owned()),
        ),
        ContactScore::Unscorable(_) => (None, None),
    };
    let changed_score = existing.as_ref().map(|e| (e.score, e.grade.clone())) != Some(new_value);
    scores::Entity::insert(row)
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
    if let ContactScore::Scored(scored) = result
        && changed_score
    {
        score_history::Entity::insert(score_history::ActiveModel {
            id: NotSet,
            portal_id: Set(portal_id),
            contact_id: Set(contact_id),
            model_version: Set(version),
            score: Set(i16::from(scored.score.score)),
            grade: Set(scored.score.grade.letter().to_owned()),
            scored_at: Set(now),
        })
        .exec(db)
        .await?;
    }
    let stored = scores::Entity::find_by_id((portal_id, contact_id))
        .one(db)
        .await?
        .ok_or_else(|| DbErr::RecordNotFound("score just written".into()))?;
    Ok(needs_write(&stored))
}

/// Whether HubSpot shows something other than the stored score.
pub fn needs_write(row: &scores::Model) -> bool {
    match WrittenValues::of(row) {
        Some(values) => WrittenValues::written(row).as_ref() != Some(&values),
        None => false,
    }
}
