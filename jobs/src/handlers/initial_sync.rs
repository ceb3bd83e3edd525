//! InitialSync: provision the Conturs properties, stream companies → contacts → deals into the
//! database page by page with a checkpointed cursor (a crash resumes at the last page written),
//! then hand over to TrainModel.

use chrono::Utc;
use entity::{ObjectType as StoredObject, PortalStatus, portals, sync_cursors};
use futures::TryStreamExt as _;
use hubspot::crm::ListRequest;
use hubspot::properties::DriftPolicy;
use hubspot::{Lane as BudgetLane, ObjectType};
use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter};

use super::crm_store::{properties_for, upsert_page};
use super::{Deps, db_error};
use crate::errors::JobError;
use crate::payload::{InitialSync, JobPayload, TrainModel};
use crate::progress::Progress;

/// Companies first (contacts point at them), deals last (they label companies).
const ORDER: [ObjectType; 3] = [
    ObjectType::Companies,
    ObjectType::Contacts,
    ObjectType::Deals,
];

fn stored(object: ObjectType) -> StoredObject {
    match object {
        ObjectType::Companies => StoredObject::Companies,
        ObjectType::Contacts => StoredObject::Contacts,
        ObjectType::Deals => StoredObject::Deals,
    }
}

pub async fn initial_sync(
    deps: Deps,
    job: InitialSync,
    mut progress: Progress,
) -> Result<(), JobError> {
    let portal_id = job.portal_id;
    let started = Utc::now();
    deps.set_portal_status(portal_id, PortalStatus::Syncing, None)
        .await?;
    let client = deps.hubspot.portal(portal_id as u64, BudgetLane::Bulk);

    progress.phase("properties", Some(1)).await?;
    let report = match client
        .provision_conturs_properties(DriftPolicy::Update)
        .await
    {
        Ok(report) => report,
        Err(error) => return Err(deps.hubspot_failure(portal_id, error).await),
    };
    progress.advance(1).await?;
    deps.queue
        .ledger()
        .event(
            job.run_id(),
            "properties",
            &format!("Conturs properties provisioned: {report:?}"),
            None,
        )
        .await?;

    for object in ORDER {
        sync_object(&deps, portal_id, object, &mut progress).await?;
    }

    // Done: the next InitialSync starts from scratch; the nightly run continues from `started`.
    sync_cursors::Entity::delete_many()
        .filter(sync_cursors::Column::PortalId.eq(portal_id))
        .exec(&deps.db)
        .await
        .map_err(db_error)?;
    portals::Entity::update_many()
        .col_expr(portals::Column::LastFullSyncAt, Expr::value(Utc::now()))
        .col_expr(portals::Column::SyncWatermark, Expr::value(started))
        .filter(portals::Column::Id.eq(portal_id))
        .exec(&deps.db)
        .await
        .map_err(db_error)?;
    deps.enqueue_child(job.run_id(), |run_id| TrainModel { run_id, portal_id })
        .await?;
    Ok(())
}

/// Streams one object type from its checkpoint to the end.
async fn sync_object(
    deps: &Deps,
    portal_id: i64,
    object: ObjectType,
    progress: &mut Progress,
) -> Result<(), JobError> {
    let cursor = sync_cursors::Entity::find_by_id((portal_id, stored(object)))
        .one(&deps.db)
        .await
        .map_err(db_error)?;
    if cursor.as_ref().is_some_and(|c| c.completed) {
        return Ok(());
    }
    let (after, mut done) = cursor
        .map(|c| (c.after, c.records_done))
        .unwrap_or((None, 0));
    let client = deps.hubspot.portal(portal_id as u64, hubspot::Lane::Bulk);
    // The total makes the progress bar and its ETA honest; without it the sync still runs.
    let total = match client.count(object).await {
        Ok(total) => i64::try_from(total).ok(),
        // Only the customer can fix a revoked grant or a missing scope: stop at the first refusal.
        Err(error) if error.is_permanent() => {
            return Err(deps.hubspot_failure(portal_id, error).await);
        }
        Err(error) => {
            tracing::warn!(portal_id, object = object.as_str(), %error, "could not count records; progress shows no total");
            None
        }
    };
    progress.phase(object.as_str(), total).await?;
    progress.advance(done).await?;
    let associations = match object {
        ObjectType::Companies => vec![],
        ObjectType::Contacts => vec![ObjectType::Companies],
        // Deal→contact links say who bought: they label contacts for training.
        ObjectType::Deals => vec![ObjectType::Companies, ObjectType::Contacts],
    };
    let pages = client.list_pages(
        object,
        ListRequest {
            properties: properties_for(object),
            associations,
            after,
        },
    );
    futures::pin_mut!(pages);
    loop {
        let page = match pages.try_next().await {
            Ok(Some(page)) => page,
            Ok(None) => break,
            Err(error) => return Err(deps.hubspot_failure(portal_id, error).await),
        };
        // The page and its checkpoint commit together: a crash never skips or repeats work
        // beyond one idempotent page.
        let txn = platform::db::begin_write(&deps.db)
            .await
            .map_err(db_error)?;
        let written = upsert_page(&txn, portal_id, object, &page.objects)
            .await
            .map_err(db_error)?;
        done += written as i64;
        save_cursor(
            &txn,
            portal_id,
            object,
            page.next_after.clone(),
            done,
            page.next_after.is_none(),
        )
        .await
        .map_err(db_error)?;
        txn.commit().await.map_err(db_error)?;
        progress.advance(written as i64).await?;
    }
    save_cursor(&deps.db, portal_id, object, None, done, true)
        .await
        .map_err(db_error)?;
    progress.flush().await?;
    Ok(())
}

async fn save_cursor<C: sea_orm::ConnectionTrait>(
    db: &C,
    portal_id: i64,
    object: ObjectType,
    after: Option<String>,
    done: i64,
    completed: bool,
) -> Result<(), sea_orm::DbErr> {
    sync_cursors::Entity::insert(sync_cursors::ActiveModel {
        portal_id: Set(portal_id),
        object_type: Set(stored(object)),
        after: Set(after),
        records_done: Set(done),
        modified_since: Set(None),
        completed: Set(completed),
        updated_at: Set(Utc::now()),
    })
    .on_conflict(
        OnConflict::columns([
            sync_cursors::Column::PortalId,
            sync_cursors::Column::ObjectType,
        ])
        .update_columns([
            sync_cursors::Column::After,
            sync_cursors::Column::RecordsDone,
            sync_cursors::Column::Completed,
            sync_cursors::Column::UpdatedAt,
        ])
        .to_owned(),
    )
    .exec(db)
    .await?;
    Ok(())
}
