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
//!
//! Requests for *other* contacts of the portal fold too: while a run of the same lane is still
//! waiting (pending or queued) and holds fewer than [`FOLD_LIMIT`] contacts, new contacts are
//! claimed for it, and the run scores everything claimed for it when it starts ([`release`]
//! returns those contacts). Each run costs the same few HubSpot requests whatever its size, so
//! under a burst the portal's budget goes to batches instead of one run per webhook. The run's
//! ledger row is locked while contacts are added, and a run leaves `queued` under that lock when
//! it starts, so a contact is never claimed for a run that has already read HubSpot. While a run
//! of the portal and lane is running, a new run waits [`GATHER_WHILE_BUSY`] before it starts,
//! so it gathers the burst instead of starting with one contact.

use std::collections::{BTreeSet, HashMap};
use std::time::Duration;

use chrono::Utc;
use entity::{JobStatus, JobType, Lane, job_runs, score_claims};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbErr, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect, Set,
};
use uuid::Uuid;

use crate::ledger::{Ledger, LedgerError};
use crate::payload::ScoreContact;
use crate::queue::{EnqueueOptions, Queue, QueueError, new_run};

/// How long a claim folds later requests into its run.
pub const CLAIM_TTL: Duration = Duration::from_secs(60);
/// Contacts per statement (well under SQLite's and Postgres' bind limits).
const CHUNK: usize = 500;
/// A waiting run takes more contacts until it holds this many (one HubSpot batch read).
pub const FOLD_LIMIT: u64 = 100;
/// How long a new run waits before it starts while another run of the portal and lane is
/// already running: the requests arriving meanwhile fold into it, so a burst costs a few large
/// runs instead of many small ones competing for the portal's HubSpot budget. An idle portal's
/// run starts at once.
pub const GATHER_WHILE_BUSY: Duration = Duration::from_secs(1);

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
    let db = queue.ledger().db();
    let txn = platform::db::begin_write(db).await.map_err(db_err)?;
    let waiting = waiting_run(&txn, portal_id, lane).await.map_err(db_err)?;
    let run_id = waiting.unwrap_or_else(Uuid::now_v7);
    let owners = claim(&txn, portal_id, &contacts, run_id)
        .await
        .map_err(db_err)?;
    let (mine, folded): (Vec<_>, Vec<_>) = contacts
        .iter()
        .map(|contact| (*contact, owners.get(contact).copied().unwrap_or(run_id)))
        .partition(|(_, owner)| *owner == run_id && waiting.is_none());
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
    let busy = job_runs::Entity::find()
        .select_only()
        .column(job_runs::Column::Id)
        .filter(job_runs::Column::PortalId.eq(portal_id))
        .filter(job_runs::Column::JobType.eq(JobType::ScoreContact))
        .filter(job_runs::Column::Lane.eq(lane))
        .filter(job_runs::Column::Status.eq(JobStatus::Running))
        .into_tuple::<Uuid>()
        .one(&txn)
        .await
        .map_err(db_err)?
        .is_some();
    // The claims and the outbox row commit together: a claim never points at a run that does
    // not exist.
    Ledger::record_in(&txn, new_run(&job, &options)?).await?;
    txn.commit().await.map_err(db_err)?;
    queue.push(&job, busy.then_some(GATHER_WHILE_BUSY)).await?;
    queue.ledger().mark_queued(run_id).await?;
    Ok(ScoringRequest {
        queued: Some(job),
        folded,
    })
}

/// A run of `lane` for the portal that has not started and still has room, locked for the rest
/// of `txn` so it cannot start while contacts are added to it.
async fn waiting_run<C: ConnectionTrait>(
    txn: &C,
    portal_id: i64,
    lane: Lane,
) -> Result<Option<Uuid>, DbErr> {
    let live = Utc::now() - chrono::Duration::from_std(CLAIM_TTL).unwrap_or_default();
    let candidates: Vec<Uuid> = score_claims::Entity::find()
        .select_only()
        .column(score_claims::Column::JobRunId)
        .distinct()
        .filter(score_claims::Column::PortalId.eq(portal_id))
        .filter(score_claims::Column::ClaimedAt.gte(live))
        .order_by_desc(score_claims::Column::JobRunId)
        .limit(4)
        .into_tuple()
        .all(txn)
        .await?;
    for run_id in candidates {
        // Touching the row takes its lock (Postgres; SQLite's write transaction holds the whole
        // database) and proves, under that lock, that the run is still waiting.
        let locked = job_runs::Entity::update_many()
            .col_expr(job_runs::Column::UpdatedAt, Expr::value(Utc::now()))
            .filter(job_runs::Column::Id.eq(run_id))
            .filter(job_runs::Column::Lane.eq(lane))
            .filter(job_runs::Column::Status.is_in([JobStatus::Pending, JobStatus::Queued]))
            .exec(txn)
            .await?;
        if locked.rows_affected == 0 {
            continue;
        }
        let held = score_claims::Entity::find()
            .filter(score_claims::Column::JobRunId.eq(run_id))
            .count(txn)
            .await?;
        if held < FOLD_LIMIT {
            return Ok(Some(run_id));
        }
    }
    Ok(None)
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

/// Releases `run_id`'s claims and returns the contacts they held (its own and those folded into
/// it); the run calls this as it starts, before reading HubSpot. The run has left `queued` by
/// then, so nothing can be claimed for it between the read and the delete.
pub async fn release<C: ConnectionTrait>(db: &C, run_id: Uuid) -> Result<Vec<i64>, DbErr> {
    let contacts: Vec<i64> = score_claims::Entity::find()
        .select_only()
        .column(score_claims::Column::ContactId)
        .filter(score_claims::Column::JobRunId.eq(run_id))
        .into_tuple()
        .all(db)
        .await?;
    score_claims::Entity::delete_many()
        .filter(score_claims::Column::JobRunId.eq(run_id))
        .exec(db)
        .await?;
    Ok(contacts)
}

fn db_err(error: DbErr) -> QueueError {
    QueueError::Ledger(LedgerError::Db(error))
}
