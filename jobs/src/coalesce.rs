//! Coalescing scoring requests per contact (DESIGN §3: ScoreContact is "coalesced per contact by
//! an idempotency key with a TTL").
//!
//! HubSpot sends a webhook per property change, so one edit in the UI can produce a dozen events
//! for one contact within a second. Each request claims its contacts (key: portal + contact)
//! for the run that will score them. A later request for a claimed contact folds into that run
//! instead of queueing another, because the run reads fresh data from HubSpot when it starts.
//! The run releases its claims as it starts, before that read, so a change arriving after the
//! read gets a run of its own and is never lost. A claim older than [`CLAIM_TTL`] (its run
//! waited too long, or was lost) stops blocking, so a stuck run can delay a contact's re-score
//! by at most the TTL.

use std::collections::{BTreeSet, HashMap};
use std::time::Duration;

use chrono::Utc;
use entity::{Lane, score_claims};
use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, Set};
use uuid::Uuid;

use crate::ledger::{Ledger, LedgerError};
use crate::payload::ScoreContact;
use crate::queue::{EnqueueOptions, Queue, QueueError, new_run};

/// How long a claim folds later requests into its run.
pub const CLAIM_TTL: Duration = Duration::from_secs(60);
/// Contacts per statement (well under SQLite's and Postgres' bind limits).
const CHUNK: usize = 500;

/// What a scoring request became.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ScoringRequest {
    /// The new run, holding the contacts nobody had claimed; `None` when all were folded.
    pub queued: Option<ScoreContact>,
    /// Contacts folded into runs already waiting, with those runs' ids.
    pub folded: Vec<(i64, Uuid)>,
}

/// Queues scoring for `contact_ids`, folding contacts another waiting run already covers.
pub async fn enqueue_scoring(
    queue: &Queue,
    portal_id: i64,
    contact_ids: &[i64],
    lane: Lane,
    parent_id: Option<Uuid>,
) -> Result<ScoringRequest, QueueError> {
    let contacts: Vec<i64> = contact_ids
        .iter()
        .copied()
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    if contacts.is_empty() {
        return Ok(ScoringRequest::default());
    }
    let run_id = Uuid::now_v7();
    let db = queue.ledger().db();
    let txn = platform::db::begin_write(db).await.map_err(db_err)?;
    let owners = claim(&txn, portal_id, &contacts, run_id)
        .await
        .map_err(db_err)?;
    let (mine, folded): (Vec<_>, Vec<_>) = contacts
        .iter()
        .map(|contact| (*contact, owners.get(contact).copied().unwrap_or(run_id)))
        .partition(|(_, owner)| *owner == run_id);
    if mine.is_empty() {
        txn.commit().await.map_err(db_err)?;
        return Ok(ScoringRequest {
            queued: None,
            folded,
        });
    }
    let job = ScoreContact {
        run_id,
        portal_id,
        contact_ids: mine.iter().map(|(contact, _)| *contact).collect(),
        lane,
    };
    let options = EnqueueOptions {
        idempotency_key: Some(format!("score:{portal_id}")),
        parent_id,
        delay: None,
    };
    // The claims and the outbox row commit together: a claim never points at a run that does
    // not exist.
    Ledger::record_in(&txn, new_run(&job, &options)?).await?;
    txn.commit().await.map_err(db_err)?;
    queue.push(&job, None).await?;
    queue.ledger().mark_queued(run_id).await?;
    Ok(ScoringRequest {
        queued: Some(job),
        folded,
    })
}

/// Claims `contacts` for `run_id` where no live claim exists; returns each contact's owner.
async fn claim<C: ConnectionTrait>(
    txn: &C,
    portal_id: i64,
    contacts: &[i64],
    run_id: Uuid,
) -> Result<HashMap<i64, Uuid>, DbErr> {
    let now = Utc::now();
    let expired = now - chrono::Duration::from_std(CLAIM_TTL).unwrap_or_default();
    let mut owners = HashMap::with_capacity(contacts.len());
    for chunk in contacts.chunks(CHUNK) {
        score_claims::Entity::delete_many()
            .filter(score_claims::Column::PortalId.eq(portal_id))
            .filter(score_claims::Column::ContactId.is_in(chunk.iter().copied()))
            .filter(score_claims::Column::ClaimedAt.lt(expired))
            .exec(txn)
            .await?;
        let rows = chunk.iter().map(|contact| score_claims::ActiveModel {
            portal_id: Set(portal_id),
            contact_id: Set(*contact),
            job_run_id: Set(run_id),
            claimed_at: Set(now),
        });
        score_claims::Entity::insert_many(rows)
            .on_conflict_do_nothing_on([
                score_claims::Column::PortalId,
                score_claims::Column::ContactId,
            ])
            .exec(txn)
            .await?;
        let claims = score_claims::Entity::find()
            .filter(score_claims::Column::PortalId.eq(portal_id))
            .filter(score_claims::Column::ContactId.is_in(chunk.iter().copied()))
            .all(txn)
            .await?;
        owners.extend(claims.into_iter().map(|c| (c.contact_id, c.job_run_id)));
    }
    Ok(owners)
}

/// Releases `run_id`'s claims; the run calls this as it starts, before reading HubSpot.
pub async fn release<C: ConnectionTrait>(db: &C, run_id: Uuid) -> Result<u64, DbErr> {
    let result = score_claims::Entity::delete_many()
        .filter(score_claims::Column::JobRunId.eq(run_id))
        .exec(db)
        .await?;
    Ok(result.rows_affected)
}

fn db_err(error: DbErr) -> QueueError {
    QueueError::Ledger(LedgerError::Db(error))
}
