//! Recording a verified batch and turning it into work, fast (HubSpot gives up after 5 s):
//! de-duplicate against `webhook_events`, purge contacts HubSpot deleted (`jobs::privacy`:
//! their data goes, a tombstone of the id stays; a restore lifts a plain deletion's), archive
//! merged-away ones, skip contacts deleted earlier, and queue realtime
//! scoring with per-contact coalescing (`jobs::coalesce::enqueue_scoring`), one call per portal.
//!
//! An event that asks for scoring is first recorded with outcome `enqueued` and no
//! `job_run_id`: that means "queueing not confirmed yet". Once queueing succeeds the row gets
//! the run that will score it (`enqueued`, or `coalesced` when it folded into a waiting run).
//! If queueing fails the request answers 503, HubSpot redelivers, and the redelivery finds the
//! unconfirmed row and queues it again — a recorded event is never lost to the de-duplication.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use chrono::{DateTime, Utc};
use entity::{
    DeletionKind, Lane, PortalStatus, WebhookOutcome, contacts, portals, scores,
    unknown_portal_events, webhook_events,
};
use jobs::coalesce::enqueue_scoring;
use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QuerySelect, Set,
};
use serde::Serialize;
use uuid::Uuid;

use super::events::{Action, UsedProperties, WebhookEvent, classify};
use crate::AppState;
use crate::error::ApiError;

/// What a batch became; returned as the response body (HubSpot ignores it, operators and tests
/// read it).
#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct IntakeReport {
    pub received: usize,
    /// Seen before (a redelivery, or a repeat within the batch).
    pub duplicates: usize,
    pub ignored: usize,
    /// Contacts archived because HubSpot merged them into another.
    pub archived: usize,
    /// Contacts HubSpot deleted (or erased for privacy) whose stored data was purged.
    pub purged: usize,
    /// Events whose contacts got a new scoring run.
    pub enqueued: usize,
    /// Events folded into scoring runs already waiting.
    pub coalesced: usize,
    /// Events for portals Conturs does not know.
    pub unknown_portal: usize,
}

/// An event that asks for scoring, and the contacts to score.
struct Planned<'a> {
    event: &'a WebhookEvent,
    key: String,
    contacts: Vec<i64>,
    /// Not recorded yet (a first delivery, not the retry of an unconfirmed one).
    new: bool,
}

/// Records the batch and queues the work it asks for.
pub async fn intake(state: &AppState, events: Vec<WebhookEvent>) -> Result<IntakeReport, ApiError> {
    let mut report = IntakeReport {
        received: events.len(),
        ..IntakeReport::default()
    };
    let now = state.config.clock.now();
    let mut seen = HashSet::new();
    let mut by_portal: BTreeMap<i64, Vec<WebhookEvent>> = BTreeMap::new();
    for event in events {
        if seen.insert((event.portal_id, event.dedupe_key())) {
            by_portal.entry(event.portal_id).or_default().push(event);
        } else {
            report.duplicates += 1;
        }
    }
    let portal_ids: Vec<i64> = by_portal.keys().copied().collect();
    let statuses: HashMap<i64, PortalStatus> = portals::Entity::find()
        .select_only()
        .column(portals::Column::Id)
        .column(portals::Column::Status)
        .filter(portals::Column::Id.is_in(portal_ids))
        .into_tuple::<(i64, PortalStatus)>()
        .all(&state.db)
        .await?
        .into_iter()
        .collect();
    let used = UsedProperties::from_sync();
    for (portal_id, events) in by_portal {
        match statuses.get(&portal_id) {
            None => {
                record_unknown(state, portal_id, &events, now).await?;
                report.unknown_portal += events.len();
            }
            Some(status) => {
                portal_batch(state, portal_id, *status, events, &used, now, &mut report).await?;
            }
        }
    }
    Ok(report)
}

async fn record_unknown(
    state: &AppState,
    portal_id: i64,
    events: &[WebhookEvent],
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    tracing::warn!(
        portal_id,
        events = events.len(),
        "webhook events for a portal Conturs does not know; acknowledged and ignored"
    );
    let rows = events.iter().map(|e| unknown_portal_events::ActiveModel {
        id: sea_orm::NotSet,
        portal_id: Set(portal_id),
        dedupe_key: Set(e.dedupe_key()),
        subscription_type: Set(e.subscription_type.clone()),
        object_id: Set(e.object_id),
        occurred_at: Set(e.occurred().unwrap_or(now)),
        received_at: Set(now),
    });
    unknown_portal_events::Entity::insert_many(rows)
        .on_conflict(
            OnConflict::columns([
                unknown_portal_events::Column::PortalId,
                unknown_portal_events::Column::DedupeKey,
            ])
            .do_nothing()
            .to_owned(),
        )
        .exec_without_returning(&state.db)
        .await?;
    Ok(())
}

async fn portal_batch(
    state: &AppState,
    portal_id: i64,
    status: PortalStatus,
    events: Vec<WebhookEvent>,
    used: &UsedProperties,
    now: DateTime<Utc>,
    report: &mut IntakeReport,
) -> Result<(), ApiError> {
    let keys: Vec<String> = events.iter().map(WebhookEvent::dedupe_key).collect();
    let existing: HashMap<String, webhook_events::Model> = webhook_events::Entity::find()
        .filter(webhook_events::Column::PortalId.eq(portal_id))
        .filter(webhook_events::Column::DedupeKey.is_in(keys))
        .all(&state.db)
        .await?
        .into_iter()
        .map(|row| (row.dedupe_key.clone(), row))
        .collect();
    let active = !matches!(
        status,
        PortalStatus::Disconnected | PortalStatus::NeedsReconnect
    );

    let mut new_rows = Vec::new();
    let mut to_archive = BTreeSet::new();
    let mut removals = Removals::default();
    let mut planned = Vec::new();
    for event in &events {
        let key = event.dedupe_key();
        let previous = existing.get(&key);
        if let Some(row) = previous {
            let unconfirmed = row.outcome != WebhookOutcome::Ignored && row.job_run_id.is_none();
            if !unconfirmed {
                report.duplicates += 1;
                continue;
            }
        }
        let action = if active {
            classify(event, used)
        } else {
            Action::Ignore(format!("the portal is {status:?}; no updates are made"))
        };
        let contacts = match action {
            Action::Score(contacts) => contacts,
            Action::Restore(contact) => {
                removals.restored.insert(contact);
                vec![contact]
            }
            Action::Purge(contact, kind) => {
                report.purged += 1;
                removals.purge(contact, kind);
                ignore(
                    event,
                    &key,
                    "deleted in HubSpot: everything stored about the contact was purged",
                    now,
                    previous,
                    &mut new_rows,
                    report,
                );
                continue;
            }
            Action::ScoreCompanyContacts(company) => {
                let contacts = company_contacts(state, portal_id, company).await?;
                if contacts.is_empty() {
                    ignore(
                        event,
                        &key,
                        "the company has no known contacts",
                        now,
                        previous,
                        &mut new_rows,
                        report,
                    );
                    continue;
                }
                contacts
            }
            Action::Remove { archive, survivor } => {
                report.archived += archive.len();
                to_archive.extend(archive);
                match survivor {
                    Some(survivor) => vec![survivor],
                    None => {
                        ignore(
                            event,
                            &key,
                            "removed from HubSpot: archived, score cleared",
                            now,
                            previous,
                            &mut new_rows,
                            report,
                        );
                        continue;
                    }
                }
            }
            Action::Ignore(reason) => {
                ignore(event, &key, &reason, now, previous, &mut new_rows, report);
                continue;
            }
        };
        planned.push(Planned {
            event,
            key,
            contacts,
            new: previous.is_none(),
        });
    }
    // A contact removed by this batch, or deleted before (and not restored since), is not
    // scored, even if another event asks for it.
    let blocked = removals
        .blocked(
            &state.db,
            portal_id,
            planned.iter().flat_map(|p| p.contacts.iter().copied()),
        )
        .await?;
    for plan in &mut planned {
        plan.contacts
            .retain(|c| !to_archive.contains(c) && !blocked.contains(c));
    }
    let (planned, emptied): (Vec<_>, Vec<_>) =
        planned.into_iter().partition(|p| !p.contacts.is_empty());
    for plan in emptied {
        let reason = "its contacts were deleted or merged away in HubSpot";
        let previous = existing.get(&plan.key);
        ignore(
            plan.event,
            &plan.key,
            reason,
            now,
            previous,
            &mut new_rows,
            report,
        );
    }
    for plan in planned.iter().filter(|p| p.new) {
        new_rows.push(row(
            plan.event,
            &plan.key,
            now,
            WebhookOutcome::Enqueued,
            None,
        ));
    }

    record(state, portal_id, new_rows, &to_archive, &removals, now).await?;
    if planned.is_empty() {
        return Ok(());
    }
    let contacts: Vec<i64> = planned
        .iter()
        .flat_map(|p| p.contacts.iter().copied())
        .collect();
    let request = enqueue_scoring(&state.queue, portal_id, &contacts, Lane::Realtime, None).await?;
    let mut owners: HashMap<i64, (Uuid, WebhookOutcome)> = request
        .folded
        .iter()
        .map(|(contact, run)| (*contact, (*run, WebhookOutcome::Coalesced)))
        .collect();
    if let Some(job) = &request.queued {
        for contact in &job.contact_ids {
            owners.insert(*contact, (job.run_id, WebhookOutcome::Enqueued));
        }
    }
    let mut confirm: BTreeMap<(Uuid, bool), Vec<String>> = BTreeMap::new();
    for plan in planned {
        let Some((run, outcome)) = plan.contacts.iter().find_map(|c| owners.get(c)) else {
            continue;
        };
        let fresh = *outcome == WebhookOutcome::Enqueued;
        if fresh {
            report.enqueued += 1;
        } else {
            report.coalesced += 1;
        }
        confirm.entry((*run, fresh)).or_default().push(plan.key);
    }
    for ((run, fresh), keys) in confirm {
        let outcome = if fresh {
            WebhookOutcome::Enqueued
        } else {
            WebhookOutcome::Coalesced
        };
        webhook_events::Entity::update_many()
            .col_expr(webhook_events::Column::JobRunId, Expr::value(Some(run)))
            .col_expr(webhook_events::Column::Outcome, Expr::value(outcome))
            .filter(webhook_events::Column::PortalId.eq(portal_id))
            .filter(webhook_events::Column::DedupeKey.is_in(keys))
            // A concurrent duplicate delivery may have confirmed it already (as folded into
            // this very run, when it raced the delivery that queued the run): the queueing
            // delivery may correct that; otherwise the first confirmation stays.
            .filter(if fresh {
                Condition::any()
                    .add(webhook_events::Column::JobRunId.is_null())
                    .add(webhook_events::Column::JobRunId.eq(run))
            } else {
                Condition::all().add(webhook_events::Column::JobRunId.is_null())
            })
            .exec(&state.db)
            .await?;
    }
    Ok(())
}

#[allow(clippy::too_many_arguments)]
fn ignore(
    event: &WebhookEvent,
    key: &str,
    reason: &str,
    now: DateTime<Utc>,
    previous: Option<&webhook_events::Model>,
    new_rows: &mut Vec<webhook_events::ActiveModel>,
    report: &mut IntakeReport,
) {
    report.ignored += 1;
    if previous.is_none() {
        new_rows.push(row(
            event,
            key,
            now,
            WebhookOutcome::Ignored,
            Some(reason.to_owned()),
        ));
    }
}

fn row(
    event: &WebhookEvent,
    key: &str,
    now: DateTime<Utc>,
    outcome: WebhookOutcome,
    reason: Option<String>,
) -> webhook_events::ActiveModel {
    webhook_events::ActiveModel {
        id: sea_orm::NotSet,
        portal_id: Set(event.portal_id),
        dedupe_key: Set(key.to_owned()),
        event_id: Set(event.event_id),
        subscription_type: Set(event.subscription_type.clone()),
        object_id: Set(event.object_id),
        property_name: Set(event.property_name.clone()),
        occurred_at: Set(event.occurred().unwrap_or(now)),
        attempt_number: Set(event.attempt_number),
        received_at: Set(now),
        outcome: Set(outcome),
        ignore_reason: Set(reason),
        job_run_id: Set(None),
    }
}

/// Deletions and restores a batch asks for.
#[derive(Default)]
struct Removals {
    purge: BTreeMap<i64, DeletionKind>,
    restored: BTreeSet<i64>,
}

impl Removals {
    fn purge(&mut self, contact: i64, kind: DeletionKind) {
        let entry = self.purge.entry(contact).or_insert(kind);
        // A privacy deletion is final, whatever else the batch says.
        if kind == DeletionKind::PrivacyDeleted {
            *entry = kind;
        }
    }

    /// Contacts of `ids` that must not be scored: purged by this batch, erased for privacy
    /// before, or deleted before and not restored by this batch.
    async fn blocked(
        &self,
        db: &sea_orm::DatabaseConnection,
        portal_id: i64,
        ids: impl Iterator<Item = i64>,
    ) -> Result<HashSet<i64>, DbErr> {
        let tombstones = jobs::privacy::tombstoned(db, portal_id, ids).await?;
        let mut blocked: HashSet<i64> = tombstones
            .into_iter()
            .filter(|(id, kind)| {
                *kind == DeletionKind::PrivacyDeleted || !self.restored.contains(id)
            })
            .map(|(id, _)| id)
            .collect();
        blocked.extend(self.purge.keys().copied());
        Ok(blocked)
    }

    fn is_empty(&self) -> bool {
        self.purge.is_empty() && self.restored.is_empty()
    }
}

/// Writes the new events, archives merged-away contacts with their scores cleared, purges
/// deleted ones and lifts the deletion of restored ones, atomically.
async fn record(
    state: &AppState,
    portal_id: i64,
    rows: Vec<webhook_events::ActiveModel>,
    archive: &BTreeSet<i64>,
    removals: &Removals,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    if rows.is_empty() && archive.is_empty() && removals.is_empty() {
        return Ok(());
    }
    let txn = platform::db::begin_write(&state.db).await?;
    if !rows.is_empty() {
        webhook_events::Entity::insert_many(rows)
            .on_conflict(
                OnConflict::columns([
                    webhook_events::Column::PortalId,
                    webhook_events::Column::DedupeKey,
                ])
                .do_nothing()
                .to_owned(),
            )
            .exec_without_returning(&txn)
            .await?;
    }
    if !archive.is_empty() {
        archive_contacts(&txn, portal_id, archive).await?;
    }
    let restored: Vec<i64> = removals
        .restored
        .iter()
        .copied()
        .filter(|c| !removals.purge.contains_key(c))
        .collect();
    jobs::privacy::lift_tombstones(&txn, portal_id, &restored).await?;
    for kind in [DeletionKind::Deleted, DeletionKind::PrivacyDeleted] {
        let ids: Vec<i64> = removals
            .purge
            .iter()
            .filter(|(_, k)| **k == kind)
            .map(|(id, _)| *id)
            .collect();
        let purged = jobs::privacy::purge_contacts(&txn, portal_id, &ids, kind, now).await?;
        if !ids.is_empty() {
            tracing::info!(
                portal_id,
                contacts = ids.len(),
                rows = purged.total(),
                ?kind,
                "purged contacts HubSpot deleted"
            );
        }
    }
    txn.commit().await
}

async fn archive_contacts<C: ConnectionTrait>(
    db: &C,
    portal_id: i64,
    ids: &BTreeSet<i64>,
) -> Result<(), DbErr> {
    contacts::Entity::update_many()
        .col_expr(contacts::Column::Archived, Expr::value(true))
        .filter(contacts::Column::PortalId.eq(portal_id))
        .filter(contacts::Column::Id.is_in(ids.iter().copied()))
        .exec(db)
        .await?;
    scores::Entity::delete_many()
        .filter(scores::Column::PortalId.eq(portal_id))
        .filter(scores::Column::ContactId.is_in(ids.iter().copied()))
        .exec(db)
        .await?;
    Ok(())
}

async fn company_contacts(
    state: &AppState,
    portal_id: i64,
    company_id: i64,
) -> Result<Vec<i64>, DbErr> {
    contacts::Entity::find()
        .select_only()
        .column(contacts::Column::Id)
        .filter(contacts::Column::PortalId.eq(portal_id))
        .filter(contacts::Column::CompanyId.eq(company_id))
        .filter(contacts::Column::Archived.eq(false))
        .into_tuple::<i64>()
        .all(&state.db)
        .await
}
