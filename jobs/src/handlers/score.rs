//! ScoreContact: re-score a batch of contacts from fresh HubSpot data (batch read by id, never
//! search, whose index lags), store the scores, and write back the ones that changed.

use std::collections::{BTreeSet, HashMap};

use chrono::Utc;
use entity::contacts;
use hubspot::ObjectType;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

use super::crm_store::{company_facts, properties_for, upsert_page};
use super::scores_store::{active_model, store_scores};
use super::{Deps, budget_lane, db_error};
use crate::errors::JobError;
use crate::payload::{JobPayload, ScoreContact, WriteBack};
use crate::progress::Progress;

pub async fn score_contacts(
    deps: Deps,
    job: ScoreContact,
    mut progress: Progress,
) -> Result<(), JobError> {
    let portal_id = job.portal_id;
    // From here on a new change to these contacts needs a run of its own: this one is about to
    // read them. Contacts other requests folded into this run come back with the release.
    let released = crate::coalesce::release(&deps.db, job.run_id())
        .await
        .map_err(db_error)?;
    let own: BTreeSet<i64> = job.contact_ids.iter().copied().collect();
    let folded: Vec<i64> = released
        .into_iter()
        .filter(|contact| !own.contains(contact))
        .collect();
    let contact_ids: Vec<i64> = own.iter().copied().chain(folded.iter().copied()).collect();
    let outcome = score_batch(&deps, &job, &contact_ids, &mut progress).await;
    if outcome.is_err() && !folded.is_empty() {
        // The retry carries only the job's own contacts: hand the folded ones to a new run.
        if let Err(error) =
            crate::coalesce::enqueue_scoring(&deps.queue, portal_id, &folded, job.lane, None).await
        {
            tracing::error!(portal_id, contacts = folded.len(), %error, "could not re-queue folded contacts");
        }
    }
    outcome
}

async fn score_batch(
    deps: &Deps,
    job: &ScoreContact,
    contact_ids: &[i64],
    progress: &mut Progress,
) -> Result<(), JobError> {
    let portal_id = job.portal_id;
    progress
        .phase("refreshing", Some(contact_ids.len() as i64))
        .await?;
    refresh_contacts(deps, portal_id, contact_ids, job.lane).await?;
    progress.advance(contact_ids.len() as i64).await?;

    let Some((version, model)) = active_model(&deps.db, portal_id).await.map_err(db_error)? else {
        // No model yet (not trained, or not enough data): the data is stored, nothing to score.
        return Ok(());
    };
    progress
        .phase("scoring", Some(contact_ids.len() as i64))
        .await?;
    let changed = score_stored(deps, portal_id, contact_ids, version, &model).await?;
    progress.advance(contact_ids.len() as i64).await?;
    if !changed.is_empty() {
        deps.enqueue_child(job.run_id(), |run_id| WriteBack {
            run_id,
            portal_id,
            contact_ids: changed,
            lane: job.lane,
        })
        .await?;
    }
    Ok(())
}

/// Reads the contacts, their primary companies and any company we have not stored yet.
pub async fn refresh_contacts(
    deps: &Deps,
    portal_id: i64,
    contact_ids: &[i64],
    lane: entity::Lane,
) -> Result<(), JobError> {
    let client = deps.hubspot.portal(portal_id as u64, budget_lane(lane));
    let ids: Vec<String> = contact_ids.iter().map(i64::to_string).collect();
    let read = match client
        .batch_read(
            ObjectType::Contacts,
            &ids,
            &properties_for(ObjectType::Contacts),
        )
        .await
    {
        Ok(read) => read,
        Err(error) => return Err(deps.hubspot_failure(portal_id, error).await),
    };
    let links = match client
        .batch_read_associations(ObjectType::Contacts, ObjectType::Companies, &ids)
        .await
    {
        Ok(links) => links,
        Err(error) => return Err(deps.hubspot_failure(portal_id, error).await),
    };
    let primary: HashMap<i64, i64> = links
        .iter()
        .filter_map(|l| {
            let company = l.primary_ids.first().or_else(|| l.to_ids.first())?;
            Some((l.from_id.parse().ok()?, company.parse().ok()?))
        })
        .collect();

    // Companies we have never seen (a contact moved to a new company).
    let wanted: Vec<i64> = primary.values().copied().collect();
    let known = company_facts(&deps.db, portal_id, Some(&wanted))
        .await
        .map_err(db_error)?;
    let unknown: Vec<String> = wanted
        .iter()
        .filter(|id| !known.contains_key(id))
        .map(i64::to_string)
        .collect();
    if !unknown.is_empty() {
        let companies_read = match client
            .batch_read(
                ObjectType::Companies,
                &unknown,
                &properties_for(ObjectType::Companies),
            )
            .await
        {
            Ok(read) => read,
            Err(error) => return Err(deps.hubspot_failure(portal_id, error).await),
        };
        upsert_page(
            &deps.db,
            portal_id,
            ObjectType::Companies,
            &companies_read.objects,
        )
        .await
        .map_err(db_error)?;
    }

    let txn = platform::db::begin_write(&deps.db)
        .await
        .map_err(db_error)?;
    upsert_page(&txn, portal_id, ObjectType::Contacts, &read.objects)
        .await
        .map_err(db_error)?;
    for contact_id in contact_ids {
        contacts::Entity::update_many()
            .col_expr(
                contacts::Column::CompanyId,
                Expr::value(primary.get(contact_id).copied()),
            )
            .filter(contacts::Column::PortalId.eq(portal_id))
            .filter(contacts::Column::Id.eq(*contact_id))
            .exec(&txn)
            .await
            .map_err(db_error)?;
    }
    // Contacts HubSpot no longer has (deleted or merged away) stop being scored.
    let missing: Vec<i64> = read
        .missing
        .iter()
        .filter_map(|id| id.parse().ok())
        .collect();
    if !missing.is_empty() {
        contacts::Entity::update_many()
            .col_expr(contacts::Column::Archived, Expr::value(true))
            .filter(contacts::Column::PortalId.eq(portal_id))
            .filter(contacts::Column::Id.is_in(missing))
            .exec(&txn)
            .await
            .map_err(db_error)?;
    }
    txn.commit().await.map_err(db_error)?;
    Ok(())
}

/// Scores stored contacts with `model`; returns those whose HubSpot values must change.
pub async fn score_stored(
    deps: &Deps,
    portal_id: i64,
    contact_ids: &[i64],
    version: i32,
    model: &scoring::crm::ContactModel,
) -> Result<Vec<i64>, JobError> {
    let rows = contacts::Entity::find()
        .filter(contacts::Column::PortalId.eq(portal_id))
        .filter(contacts::Column::Archived.eq(false))
        .filter(contacts::Column::Id.is_in(contact_ids.iter().copied()))
        .all(&deps.db)
        .await
        .map_err(db_error)?;
    let company_ids: Vec<i64> = rows.iter().filter_map(|c| c.company_id).collect();
    let companies = company_facts(&deps.db, portal_id, Some(&company_ids))
        .await
        .map_err(db_error)?;
    let results: Vec<_> = rows
        .into_iter()
        .map(|contact| {
            let properties = serde_json::from_value(contact.properties).unwrap_or_default();
            let company = contact
                .company_id
                .and_then(|id| companies.get(&id).cloned());
            let facts = scoring::crm::ContactFacts::from_hubspot_properties(&properties, company);
            (contact.id, model.score(&facts))
        })
        .collect();
    let txn = platform::db::begin_write(&deps.db)
        .await
        .map_err(db_error)?;
    let changed = store_scores(&txn, portal_id, version, &results, Utc::now())
        .await
        .map_err(db_error)?;
    txn.commit().await.map_err(db_error)?;
    Ok(changed)
}
