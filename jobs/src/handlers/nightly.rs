//! NightlyResync: catch what webhooks missed. Reads everything modified since the last sync
//! (search by modification time, windows split below HubSpot's 10,000-result cap), retrains
//! when closed-won data changed, otherwise re-scores what changed; then reconciles: any score
//! HubSpot does not show yet is written back. Unchanged contacts cost nothing.

use std::collections::BTreeSet;

use chrono::{Duration, Utc};
use entity::{AssociationKind, Lane, contacts, portals, scores};
use futures::TryStreamExt as _;
use hubspot::ObjectType;
use hubspot::crm::TimeWindow;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

use super::crm_store::{closed_won_deals, properties_for, replace_links, upsert_page};
use super::score::{refresh_contacts, score_stored};
use super::scores_store::{active_model, needs_write};
use super::{Deps, db_error, queue_write_backs};
use crate::errors::JobError;
use crate::payload::{JobPayload, NightlyResync, TrainModel};
use crate::progress::Progress;

/// Re-read a little before the watermark: clocks and HubSpot's index are not exact.
const OVERLAP: Duration = Duration::minutes(10);

pub async fn nightly_resync(
    deps: Deps,
    job: NightlyResync,
    mut progress: Progress,
) -> Result<(), JobError> {
    let portal_id = job.portal_id;
    let started = Utc::now();
    let Some(portal) = portals::Entity::find_by_id(portal_id)
        .one(&deps.db)
        .await
        .map_err(db_error)?
    else {
        return Err(JobError::permanent(
            "not_found",
            format!("portal {portal_id} is not connected"),
        ));
    };
    let Some(since) = portal.sync_watermark.or(portal.last_full_sync_at) else {
        return Err(JobError::permanent(
            "not_synced",
            "the portal has never been fully synced; run InitialSync first",
        ));
    };
    let window = TimeWindow {
        from_ms: (since - OVERLAP).timestamp_millis(),
        to_ms: started.timestamp_millis(),
    };
    let closed_won_before = closed_won_deals(&deps.db, portal_id)
        .await
        .map_err(db_error)?;
    let client = deps.hubspot.portal(portal_id as u64, hubspot::Lane::Bulk);

    let mut changed_contacts = BTreeSet::new();
    let mut changed_companies = Vec::new();
    for object in [
        ObjectType::Companies,
        ObjectType::Contacts,
        ObjectType::Deals,
    ] {
        progress
            .phase(&format!("changed {}", object.as_str()), None)
            .await?;
        let stream = client.search_modified(object, window, properties_for(object));
        futures::pin_mut!(stream);
        let mut page = Vec::new();
        loop {
            let next = match stream.try_next().await {
                Ok(next) => next,
                Err(error) => return Err(deps.hubspot_failure(portal_id, error).await),
            };
            let done = next.is_none();
            if let Some(record) = next {
                page.push(record);
            }
            if page.len() >= 100 || (done && !page.is_empty()) {
                let ids: Vec<i64> = page.iter().filter_map(|r| r.id.parse().ok()).collect();
                match object {
                    ObjectType::Contacts => changed_contacts.extend(ids),
                    ObjectType::Companies => {
                        upsert_page(&deps.db, portal_id, object, &page)
                            .await
                            .map_err(db_error)?;
                        changed_companies.extend(ids);
                    }
                    ObjectType::Deals => {
                        sync_deal_page(&deps, portal_id, &page).await?;
                    }
                }
                progress.advance(page.len() as i64).await?;
                page.clear();
            }
            if done {
                break;
            }
        }
    }

    // People of changed companies need new scores too.
    if !changed_companies.is_empty() {
        let people: Vec<i64> = contacts::Entity::find()
            .filter(contacts::Column::PortalId.eq(portal_id))
            .filter(contacts::Column::CompanyId.is_in(changed_companies))
            .all(&deps.db)
            .await
            .map_err(db_error)?
            .into_iter()
            .map(|c| c.id)
            .collect();
        changed_contacts.extend(people);
    }
    let changed_contacts: Vec<i64> = changed_contacts.into_iter().collect();
    progress
        .phase("refreshing contacts", Some(changed_contacts.len() as i64))
        .await?;
    for chunk in changed_contacts.chunks(100) {
        refresh_contacts(&deps, portal_id, chunk, Lane::Bulk).await?;
        progress.advance(chunk.len() as i64).await?;
    }
    portals::Entity::update_many()
        .col_expr(portals::Column::SyncWatermark, Expr::value(started))
        .col_expr(
            portals::Column::LastIncrementalSyncAt,
            Expr::value(Utc::now()),
        )
        .filter(portals::Column::Id.eq(portal_id))
        .exec(&deps.db)
        .await
        .map_err(db_error)?;

    let closed_won_after = closed_won_deals(&deps.db, portal_id)
        .await
        .map_err(db_error)?;
    let model = active_model(&deps.db, portal_id).await.map_err(db_error)?;
    if closed_won_after != closed_won_before || model.is_none() {
        // New customers change what a good fit looks like: retrain, which re-scores everyone
        // and writes back only what changed.
        deps.enqueue_child(job.run_id(), |run_id| TrainModel { run_id, portal_id })
            .await?;
        return Ok(());
    }
    if let Some((version, model)) = model {
        progress
            .phase("scoring", Some(changed_contacts.len() as i64))
            .await?;
        for chunk in changed_contacts.chunks(500) {
            score_stored(&deps, portal_id, chunk, version, &model).await?;
            progress.advance(chunk.len() as i64).await?;
        }
    }

    // Reconciliation: every score HubSpot does not show yet, whatever the reason.
    let to_write: Vec<i64> = scores::Entity::find()
        .filter(scores::Column::PortalId.eq(portal_id))
        .all(&deps.db)
        .await
        .map_err(db_error)?
        .into_iter()
        .filter(needs_write)
        .map(|s| s.contact_id)
        .collect();
    queue_write_backs(
        &deps,
        portal_id,
        &to_write,
        Lane::Bulk,
        job.run_id(),
        &mut progress,
    )
    .await?;
    Ok(())
}

/// Stores changed deals with their companies and contacts (search results carry no
/// associations, so they are read with the v4 batch endpoint).
async fn sync_deal_page(
    deps: &Deps,
    portal_id: i64,
    page: &[hubspot::crm::CrmObject],
) -> Result<(), JobError> {
    upsert_page(&deps.db, portal_id, ObjectType::Deals, page)
        .await
        .map_err(db_error)?;
    let ids: Vec<String> = page.iter().map(|r| r.id.clone()).collect();
    let client = deps.hubspot.portal(portal_id as u64, hubspot::Lane::Bulk);
    for (target, kind) in [
        (ObjectType::Companies, AssociationKind::DealCompany),
        (ObjectType::Contacts, AssociationKind::DealContact),
    ] {
        let links = match client
            .batch_read_associations(ObjectType::Deals, target, &ids)
            .await
        {
            Ok(links) => links,
            Err(error) => return Err(deps.hubspot_failure(portal_id, error).await),
        };
        let pairs: Vec<(i64, i64)> = links
            .iter()
            .filter_map(|link| Some((link.from_id.parse::<i64>().ok()?, link)))
            .flat_map(|(deal, link)| {
                link.to_ids
                    .iter()
                    .filter_map(move |to| Some((deal, to.parse::<i64>().ok()?)))
            })
            .collect();
        replace_links(&deps.db, portal_id, kind, &pairs)
            .await
            .map_err(db_error)?;
    }
    Ok(())
}
