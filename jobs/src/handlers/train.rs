//! TrainModel: learn the portal's closed-won pattern, store a versioned model, score every
//! contact, and queue write-backs of the scores that changed.

use chrono::Utc;
use entity::{Lane, PortalStatus};
use scoring::TrainConfig;
use scoring::crm::{
    ContactModel, ContactTraining, LabeledContact, contact_dataset, train_contacts,
};

use super::crm_store::PortalFacts;
use super::crm_store::portal_facts;
use super::scores_store::{TRAINED_BY_RUN, model_trained_by_run, store_model, store_scores};
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

    let (version, model) = match model_trained_by_run(&deps.db, portal_id, job.run_id())
        .await
        .map_err(db_error)?
    {
        Some(stored) => {
            deps.queue
                .ledger()
                .event(
                    job.run_id(),
                    "model_reused",
                    &format!(
                        "model version {} was trained by an earlier attempt of this run",
                        stored.0
                    ),
                    None,
                )
                .await?;
            stored
        }
        None => match train_and_store(&deps, &job, &facts, &mut progress).await? {
            Some(trained) => trained,
            None => return Ok(()),
        },
    };

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

/// Trains on the portal's facts and stores the model with the run that trained it; `None` when
/// there are too few customers to learn from (the portal is marked, nothing stored).
async fn train_and_store(
    deps: &Deps,
    job: &TrainModel,
    facts: &PortalFacts,
    progress: &mut Progress,
) -> Result<Option<(i32, ContactModel)>, JobError> {
    let portal_id = job.portal_id;
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
        tokio::task::spawn_blocking(move || {
            let trained = train_contacts(&data, &TrainConfig::default());
            let quality = match &trained {
                Ok(ContactTraining::Trained(model)) => fit_quality(model, &data),
                _ => None,
            };
            trained.map(|training| (training, quality))
        })
        .await
        .map_err(|e| JobError::transient(format!("training task failed: {e}")))?
        .map_err(|e| JobError::permanent("training", e.to_string()))?
    };
    let (training, quality) = training;
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
            return Ok(None);
        }
        ContactTraining::Trained(model) => model,
    };
    let mut metrics = serde_json::to_value(&model.model().metrics).unwrap_or_default();
    if let Some(object) = metrics.as_object_mut() {
        let (alpha, bayes_weight) = match model.model().kind {
            scoring::ModelKind::LogisticRegression { alpha } => (alpha, None),
            scoring::ModelKind::Blend {
                alpha,
                bayes_weight,
            } => (alpha, Some(bayes_weight)),
        };
        object.insert("penalty_alpha".to_owned(), alpha.into());
        if let Some(weight) = bayes_weight {
            object.insert("bayes_weight".to_owned(), weight.into());
        }
    }
    if let (Some(object), Some(quality)) = (metrics.as_object_mut(), quality) {
        object.insert("training_auc".to_owned(), quality.auc.into());
        object.insert("lift_top_decile".to_owned(), quality.lift_top_decile.into());
        object.insert("capture_top20".to_owned(), quality.capture_top20.into());
    }
    if let Some(object) = metrics.as_object_mut() {
        object.insert(TRAINED_BY_RUN.to_owned(), job.run_id().to_string().into());
    }
    // Retiring the old model, adding the new one and pointing the portal at it: all or nothing.
    let txn = platform::db::begin_write(&deps.db)
        .await
        .map_err(db_error)?;
    let version = store_model(&txn, portal_id, &model, metrics)
        .await
        .map_err(db_error)?;
    txn.commit().await.map_err(db_error)?;
    Ok(Some((version, *model)))
}

/// How well the model ranks the contacts it learned from: buyers against everyone else, on
/// the training labels (in-sample, so a little optimistic; the CV `selection_auc` is the
/// held-out figure when there are enough buyers). Shown on the board and the dashboard.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FitQuality {
    pub auc: f64,
    /// Buyers' share in the top 10% by score over their share overall.
    pub lift_top_decile: f64,
    /// Share of all buyers in the top 20% by score.
    pub capture_top20: f64,
}

/// `None` when the dataset has no buyers or no one else (nothing to rank).
pub fn fit_quality(
    model: &scoring::crm::ContactModel,
    data: &scoring::crm::ContactDataset,
) -> Option<FitQuality> {
    let raw: Vec<f64> = model
        .score_dataset(data)
        .iter()
        .map(|score| score.raw)
        .collect();
    let buyers: Vec<bool> = data
        .dataset
        .labels()
        .iter()
        .map(|label| *label == scoring::Label::Positive)
        .collect();
    Some(FitQuality {
        auc: scoring::metrics::auc(&raw, &buyers).ok()?,
        lift_top_decile: scoring::metrics::lift_at(&raw, &buyers, 0.1).ok()?,
        capture_top20: scoring::metrics::capture_at(&raw, &buyers, 0.2).ok()?,
    })
}
