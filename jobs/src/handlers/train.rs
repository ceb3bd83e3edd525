//! TrainModel: learn the portal's closed-won pattern, store a versioned model, score every
//! contact, and queue write-backs of the scores that changed.

use chrono::Utc;
use entity::{Lane, PortalStatus};
use scoring::TrainConfig;
use scoring::crm::{ContactTraining, LabeledContact, contact_dataset, train_contacts};

use super::crm_store::portal_facts;
use super::scores_store::{store_model, store_scores};
use super::{Deps, db_error, queue_write_backs};
use crate::errors::JobError;
use crate::payload::{JobPayload, TrainModel};
use crate::progress::Progress;

/// Contacts scored and stored per transaction (well under SQLite's bound-parameter limit).
pub const SCORE_CHUNK: usize = 500;

/// Contacts per WriteBack job: ten HubSpot batch requests.
pub const WRITE_BACK_BATCH: usize = 1_000;

pub async fn train_model(
    deps: Deps,
    job: TrainModel,
    mut progress: Progress,
) -> Result<(), JobError> {
    let portal_id = job.portal_id;
    progress.phase("loading", None).await?;
    let facts = portal_facts(&deps.db, portal_id).await.map_err(db_error)?;
    progress.set_total(Some(facts.contacts.len() as i64));
    progress.advance(facts.contacts.len() as i64).await?;

    progress.phase("training", Some(1)).await?;
    let training = {
        let labeled: Vec<LabeledContact<'_>> = facts
            .contacts
            .iter()
            .map(|contact| LabeledContact {
                facts: &contact.facts,
                company_id: contact.company_id.map(|c| c as u64),
                label: contact.label,
                label_time: contact.label_time,
            })
            .collect();
        let data = contact_dataset(labeled);
        // Training is CPU work: keep it off the async threads.
        tokio::task::spawn_blocking(move || train_contacts(&data, &TrainConfig::default()))
            .await
            .map_err(|e| JobError::transient(format!("training task failed: {e}")))?
            .map_err(|e| JobError::permanent("training", e.to_string()))?
    };
    progress.advance(1).await?;

    let model = match training {
        ContactTraining::NotEnoughData(status) => {
            deps.set_portal_status(
                portal_id,
                PortalStatus::InsufficientData,
                Some(status.to_string()),
            )
            .await?;
            deps.queue
                .ledger()
                .event(job.run_id(), "insufficient_data", &status.to_string(), None)
                .await?;
            return Ok(());
        }
        ContactTraining::Trained(model) => model,
    };
    let metrics = serde_json::to_value(&model.model().metrics).unwrap_or_default();
    let version = store_model(&deps.db, portal_id, &model, metrics)
        .await
        .map_err(db_error)?;

    progress
        .phase("scoring", Some(facts.contacts.len() as i64))
        .await?;
    let now = Utc::now();
    let mut to_write = Vec::new();
    for chunk in facts.contacts.chunks(SCORE_CHUNK) {
        let results: Vec<_> = chunk
            .iter()
            .map(|contact| (contact.id, model.score(&contact.facts)))
            .collect();
        let txn = platform::db::begin_write(&deps.db)
            .await
            .map_err(db_error)?;
        to_write.extend(
            store_scores(&txn, portal_id, version, &results, now)
                .await
                .map_err(db_error)?,
        );
        txn.commit().await.map_err(db_error)?;
        progress.advance(chunk.len() as i64).await?;
    }
    deps.set_portal_status(portal_id, PortalStatus::Ready, None)
        .await?;

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
