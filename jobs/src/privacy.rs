//! Forgetting customer data: a contact HubSpot deleted (`contact.deletion`, or a GDPR
//! `contact.privacyDeletion`), and the whole CRM copy of a portal that disconnected.
//!
//! A purged contact leaves a tombstone (`deleted_contacts`: its id, nothing personal) so data
//! read before the deletion and still in flight — a sync page, a scoring batch, a redelivered
//! webhook — is never stored again. A restorable deletion's tombstone is lifted when HubSpot
//! restores the contact; a privacy deletion's never is.

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use chrono::{DateTime, Utc};
use entity::{
    AssociationKind, DeletionKind, JobStatus, JobType, PortalStatus, associations, companies,
    contacts, deals, deleted_contacts, job_runs, models, oauth_tokens, portals, score_claims,
    score_history, scores, sync_cursors, webhook_events,
};
use sea_orm::sea_query::{Alias, Expr, ExprTrait, OnConflict};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, DatabaseConnection, DbErr,
    EntityTrait, QueryFilter, QuerySelect,
};

/// The webhook events that record a removal: kept after a purge (they hold only the id) so a
/// redelivery of the same event is still recognised as a duplicate.
const REMOVAL_EVENTS: [&str; 2] = ["contact.deletion", "contact.privacyDeletion"];

/// Rows a purge deleted, per table.
#[derive(Debug, Default, Clone, PartialEq, Eq, serde::Serialize)]
pub struct PurgeReport {
    pub contacts: u64,
    pub companies: u64,
    pub deals: u64,
    pub associations: u64,
    pub scores: u64,
    pub score_history: u64,
    pub models: u64,
    pub webhook_events: u64,
    /// Finished job runs whose payload listed a purged contact (the id is taken out).
    pub job_payloads: u64,
    pub other: u64,
}

impl PurgeReport {
    /// Rows deleted in all.
    pub fn total(&self) -> u64 {
        self.contacts
            + self.companies
            + self.deals
            + self.associations
            + self.scores
            + self.score_history
            + self.models
            + self.webhook_events
            + self.job_payloads
            + self.other
    }
}

/// Deletes everything Conturs stores about these contacts of the portal (the contact rows,
/// scores, score history, coalescing claims, deal links and the webhook events about them) and
/// leaves a tombstone per id. Idempotent; run it inside the caller's write transaction.
pub async fn purge_contacts<C: ConnectionTrait>(
    db: &C,
    portal_id: i64,
    ids: &[i64],
    kind: DeletionKind,
    now: DateTime<Utc>,
) -> Result<PurgeReport, DbErr> {
    if ids.is_empty() {
        return Ok(PurgeReport::default());
    }
    let tombstones = ids.iter().map(|id| deleted_contacts::ActiveModel {
        portal_id: Set(portal_id),
        contact_id: Set(*id),
        kind: Set(kind),
        deleted_at: Set(now),
    });
    let mut on_conflict = OnConflict::columns([
        deleted_contacts::Column::PortalId,
        deleted_contacts::Column::ContactId,
    ]);
    // A privacy deletion upgrades an earlier plain one; a plain one never downgrades it.
    match kind {
        DeletionKind::PrivacyDeleted => on_conflict.update_columns([
            deleted_contacts::Column::Kind,
            deleted_contacts::Column::DeletedAt,
        ]),
        DeletionKind::Deleted => on_conflict.do_nothing(),
    };
    deleted_contacts::Entity::insert_many(tombstones)
        .on_conflict(on_conflict.to_owned())
        .exec_without_returning(db)
        .await?;

    let ids = || ids.iter().copied();
    let mut report = PurgeReport {
        contacts: contacts::Entity::delete_many()
            .filter(contacts::Column::PortalId.eq(portal_id))
            .filter(contacts::Column::Id.is_in(ids()))
            .exec(db)
            .await?
            .rows_affected,
        scores: scores::Entity::delete_many()
            .filter(scores::Column::PortalId.eq(portal_id))
            .filter(scores::Column::ContactId.is_in(ids()))
            .exec(db)
            .await?
            .rows_affected,
        score_history: score_history::Entity::delete_many()
            .filter(score_history::Column::PortalId.eq(portal_id))
            .filter(score_history::Column::ContactId.is_in(ids()))
            .exec(db)
            .await?
            .rows_affected,
        ..PurgeReport::default()
    };
    report.associations = associations::Entity::delete_many()
        .filter(associations::Column::PortalId.eq(portal_id))
        .filter(
            Condition::any()
                .add(
                    Condition::all()
                        .add(associations::Column::Kind.eq(AssociationKind::ContactCompany))
                        .add(associations::Column::FromId.is_in(ids())),
                )
                .add(
                    Condition::all()
                        .add(associations::Column::Kind.eq(AssociationKind::DealContact))
                        .add(associations::Column::ToId.is_in(ids())),
                ),
        )
        .exec(db)
        .await?
        .rows_affected;
    report.webhook_events = webhook_events::Entity::delete_many()
        .filter(webhook_events::Column::PortalId.eq(portal_id))
        .filter(webhook_events::Column::ObjectId.is_in(ids()))
        .filter(webhook_events::Column::SubscriptionType.like("contact.%"))
        .filter(webhook_events::Column::SubscriptionType.is_not_in(REMOVAL_EVENTS))
        .exec(db)
        .await?
        .rows_affected;
    report.other = score_claims::Entity::delete_many()
        .filter(score_claims::Column::PortalId.eq(portal_id))
        .filter(score_claims::Column::ContactId.is_in(ids()))
        .exec(db)
        .await?
        .rows_affected;
    let ids: Vec<i64> = ids().collect();
    report.job_payloads = scrub_finished_payloads(db, portal_id, &ids).await?;
    Ok(report)
}

/// Takes the ids out of the `contact_ids` of the portal's finished ScoreContact and WriteBack
/// runs (a retry of a failed one then leaves them out too). Unfinished runs keep theirs: the
/// queue holds a copy, and the tombstone stops them from storing anything.
async fn scrub_finished_payloads<C: ConnectionTrait>(
    db: &C,
    portal_id: i64,
    ids: &[i64],
) -> Result<u64, DbErr> {
    let gone: HashSet<i64> = ids.iter().copied().collect();
    let mut scrubbed = 0;
    for id in ids {
        // A text match narrows the rows on both backends; the exact check is below.
        let candidates = job_runs::Entity::find()
            .filter(job_runs::Column::PortalId.eq(portal_id))
            .filter(job_runs::Column::JobType.is_in([JobType::ScoreContact, JobType::WriteBack]))
            .filter(job_runs::Column::Status.is_in([
                JobStatus::Succeeded,
                JobStatus::Failed,
                JobStatus::Dead,
                JobStatus::Cancelled,
            ]))
            .filter(
                Expr::col(job_runs::Column::Payload)
                    .cast_as(Alias::new("TEXT"))
                    .like(format!("%{id}%")),
            )
            .all(db)
            .await?;
        for run in candidates {
            let mut payload = run.payload.clone();
            let Some(listed) = payload
                .get_mut("contact_ids")
                .and_then(serde_json::Value::as_array_mut)
            else {
                continue;
            };
            let before = listed.len();
            listed.retain(|v| v.as_i64().is_none_or(|v| !gone.contains(&v)));
            if listed.len() == before {
                continue;
            }
            job_runs::Entity::update_many()
                .col_expr(job_runs::Column::Payload, Expr::value(payload))
                .filter(job_runs::Column::Id.eq(run.id))
                .exec(db)
                .await?;
            scrubbed += 1;
        }
    }
    Ok(scrubbed)
}

/// Lifts the restorable tombstones of contacts HubSpot restored (or re-created under the same
/// id); privacy deletions stay.
pub async fn lift_tombstones<C: ConnectionTrait>(
    db: &C,
    portal_id: i64,
    ids: &[i64],
) -> Result<u64, DbErr> {
    if ids.is_empty() {
        return Ok(0);
    }
    Ok(deleted_contacts::Entity::delete_many()
        .filter(deleted_contacts::Column::PortalId.eq(portal_id))
        .filter(deleted_contacts::Column::ContactId.is_in(ids.iter().copied()))
        .filter(deleted_contacts::Column::Kind.eq(DeletionKind::Deleted))
        .exec(db)
        .await?
        .rows_affected)
}

/// Which of `ids` HubSpot deleted, and how: they must not be stored or scored again.
pub async fn tombstoned<C: ConnectionTrait>(
    db: &C,
    portal_id: i64,
    ids: impl IntoIterator<Item = i64>,
) -> Result<HashMap<i64, DeletionKind>, DbErr> {
    let ids: Vec<i64> = ids.into_iter().collect();
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let mut found = HashMap::new();
    // Chunks keep the statement under every backend's bound-parameter limit.
    for chunk in ids.chunks(1_000) {
        let rows: Vec<(i64, DeletionKind)> = deleted_contacts::Entity::find()
            .select_only()
            .column(deleted_contacts::Column::ContactId)
            .column(deleted_contacts::Column::Kind)
            .filter(deleted_contacts::Column::PortalId.eq(portal_id))
            .filter(deleted_contacts::Column::ContactId.is_in(chunk.iter().copied()))
            .into_tuple()
            .all(db)
            .await?;
        found.extend(rows);
    }
    Ok(found)
}

/// Deletes the portal's copy of its CRM (contacts, companies, deals, associations, scores,
/// score history, models, sync cursors, coalescing claims, webhook events, tombstones) and its
/// sealed tokens. The portal row and the job ledger stay (the ledger has its own retention), so
/// the operator still sees what happened and a reconnect starts from a clean slate.
pub async fn purge_portal_data<C: ConnectionTrait>(
    db: &C,
    portal_id: i64,
) -> Result<PurgeReport, DbErr> {
    macro_rules! delete_all {
        ($table:ident) => {
            $table::Entity::delete_many()
                .filter($table::Column::PortalId.eq(portal_id))
                .exec(db)
                .await?
                .rows_affected
        };
    }
    let mut report = PurgeReport {
        scores: delete_all!(scores),
        score_history: delete_all!(score_history),
        associations: delete_all!(associations),
        contacts: delete_all!(contacts),
        companies: delete_all!(companies),
        deals: delete_all!(deals),
        models: delete_all!(models),
        webhook_events: delete_all!(webhook_events),
        ..PurgeReport::default()
    };
    report.other = delete_all!(score_claims)
        + delete_all!(sync_cursors)
        + delete_all!(deleted_contacts)
        + delete_all!(oauth_tokens);
    portals::Entity::update_many()
        .col_expr(
            portals::Column::ActiveModelVersion,
            Expr::value(Option::<i32>::None),
        )
        .filter(portals::Column::Id.eq(portal_id))
        .exec(db)
        .await?;
    Ok(report)
}

/// Purges the CRM data of every portal disconnected for longer than `keep` at `now`, one write
/// transaction per portal; returns the portals purged that still had data, with what went.
pub async fn purge_expired_portals(
    db: &DatabaseConnection,
    keep: Duration,
    now: DateTime<Utc>,
) -> Result<Vec<(i64, PurgeReport)>, DbErr> {
    let cutoff = now - chrono::Duration::from_std(keep).unwrap_or(chrono::Duration::MAX);
    let expired: Vec<i64> = portals::Entity::find()
        .select_only()
        .column(portals::Column::Id)
        .filter(portals::Column::Status.eq(PortalStatus::Disconnected))
        .filter(portals::Column::DisconnectedAt.lt(cutoff))
        .into_tuple()
        .all(db)
        .await?;
    let mut purged = Vec::new();
    for portal_id in expired {
        let txn = platform::db::begin_write(db).await?;
        let report = purge_portal_data(&txn, portal_id).await?;
        txn.commit().await?;
        if report.total() > 0 {
            tracing::info!(
                portal_id,
                rows = report.total(),
                "retention: deleted the CRM data of a portal disconnected for longer than allowed"
            );
            purged.push((portal_id, report));
        }
    }
    Ok(purged)
}
