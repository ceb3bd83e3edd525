//! WriteBack: put changed scores on HubSpot contacts, at most 100 per request; values HubSpot
//! already shows are skipped, and a contact HubSpot rejects is recorded, not retried blindly.
//! A Conturs property a user deleted in HubSpot is provisioned again and the batch retried once.

use std::collections::BTreeMap;

use chrono::Utc;
use entity::scores;
use hubspot::crm::{BatchUpdateReport, ObjectUpdate};
use hubspot::properties::{DriftPolicy, conturs_properties};
use hubspot::{ObjectType, PortalClient};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

use super::scores_store::{WrittenValues, needs_write};
use super::{Deps, budget_lane, db_error};
use crate::errors::JobError;
use crate::payload::{JobPayload as _, WriteBack};
use crate::progress::Progress;

pub async fn write_back(
    deps: Deps,
    job: WriteBack,
    mut progress: Progress,
) -> Result<(), JobError> {
    let portal_id = job.portal_id;
    let rows = scores::Entity::find()
        .filter(scores::Column::PortalId.eq(portal_id))
        .filter(scores::Column::ContactId.is_in(job.contact_ids.iter().copied()))
        .all(&deps.db)
        .await
        .map_err(db_error)?;
    let pending: Vec<(scores::Model, WrittenValues)> = rows
        .into_iter()
        .filter(needs_write)
        .filter_map(|row| WrittenValues::of(&row).map(|values| (row, values)))
        .collect();
    progress
        .phase("writing back", Some(pending.len() as i64))
        .await?;
    if pending.is_empty() {
        return Ok(());
    }
    let today = Utc::now().format("%Y-%m-%d").to_string();
    let updates: Vec<ObjectUpdate> = pending
        .iter()
        .map(|(row, values)| ObjectUpdate {
            id: row.contact_id.to_string(),
            properties: BTreeMap::from([
                ("conturs_score".to_owned(), values.score.to_string()),
                ("conturs_grade".to_owned(), values.grade.clone()),
                ("conturs_explanation".to_owned(), values.explanation.clone()),
                ("conturs_top_factors".to_owned(), values.top_factors.clone()),
                ("conturs_last_scored".to_owned(), today.clone()),
            ]),
        })
        .collect();
    let client = deps.hubspot.portal(portal_id as u64, budget_lane(job.lane));
    let report = send(&deps, &client, &job, &updates).await?;
    let now = Utc::now();
    let txn = platform::db::begin_write(&deps.db)
        .await
        .map_err(db_error)?;
    for (row, values) in &pending {
        let id = row.contact_id.to_string();
        if report.updated.contains(&id) {
            scores::Entity::update_many()
                .col_expr(scores::Column::WrittenScore, Expr::value(values.score))
                .col_expr(
                    scores::Column::WrittenGrade,
                    Expr::value(values.grade.clone()),
                )
                .col_expr(
                    scores::Column::WrittenExplanation,
                    Expr::value(values.explanation.clone()),
                )
                .col_expr(
                    scores::Column::WrittenTopFactors,
                    Expr::value(values.top_factors.clone()),
                )
                .col_expr(scores::Column::WrittenAt, Expr::value(now))
                .col_expr(scores::Column::WritebackError, Expr::value(None::<String>))
                .filter(scores::Column::PortalId.eq(portal_id))
                .filter(scores::Column::ContactId.eq(row.contact_id))
                .exec(&txn)
                .await
                .map_err(db_error)?;
        }
    }
    for failure in &report.failed {
        let Ok(contact_id) = failure.id.parse::<i64>() else {
            continue;
        };
        scores::Entity::update_many()
            .col_expr(
                scores::Column::WritebackError,
                Expr::value(format!(
                    "{}: {}",
                    failure
                        .code
                        .as_deref()
                        .or(failure.category.as_deref())
                        .unwrap_or("error"),
                    failure.message
                )),
            )
            .filter(scores::Column::PortalId.eq(portal_id))
            .filter(scores::Column::ContactId.eq(contact_id))
            .exec(&txn)
            .await
            .map_err(db_error)?;
    }
    txn.commit().await.map_err(db_error)?;
    progress.advance(pending.len() as i64).await?;
    if !report.failed.is_empty() {
        tracing::warn!(
            portal_id,
            failed = report.failed.len(),
            "some contacts were not written back"
        );
    }
    Ok(())
}

/// Sends the batch. When HubSpot answers that one of our own properties does not exist (a user
/// deleted it between runs), provisions the Conturs properties again and retries once, instead
/// of failing this batch and every later one.
async fn send(
    deps: &Deps,
    client: &PortalClient,
    job: &WriteBack,
    updates: &[ObjectUpdate],
) -> Result<BatchUpdateReport, JobError> {
    let portal_id = job.portal_id;
    let error = match client.batch_update(ObjectType::Contacts, updates).await {
        Ok(report) => return Ok(report),
        Err(error) => error,
    };
    let ours = conturs_properties();
    let deleted: Vec<String> = error
        .missing_properties()
        .into_iter()
        .filter(|name| ours.iter().any(|p| p.name == *name))
        .collect();
    if deleted.is_empty() {
        return Err(deps.hubspot_failure(portal_id, error).await);
    }
    tracing::warn!(
        portal_id,
        ?deleted,
        "Conturs properties were deleted in HubSpot; provisioning them again"
    );
    let provisioned = match client
        .provision_conturs_properties(DriftPolicy::Update)
        .await
    {
        Ok(report) => report,
        Err(error) => return Err(deps.hubspot_failure(portal_id, error).await),
    };
    deps.queue
        .ledger()
        .event(
            job.run_id(),
            "properties",
            &format!(
                "HubSpot no longer had {}; Conturs properties provisioned again: {provisioned:?}",
                deleted.join(", ")
            ),
            None,
        )
        .await?;
    match client.batch_update(ObjectType::Contacts, updates).await {
        Ok(report) => Ok(report),
        Err(error) => Err(deps.hubspot_failure(portal_id, error).await),
    }
}
