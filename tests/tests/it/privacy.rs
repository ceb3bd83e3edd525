//! Privacy: a contact HubSpot deletes — a GDPR delete (`contact.privacyDeletion`) or a plain
//! delete (`contact.deletion`) — is purged end to end (simulator → signed webhook → API → rows
//! gone) on SQLite and Postgres, and data read before the deletion and still in flight (a sync
//! page, a scoring batch, a redelivered change) never brings it back. A restore lifts a plain
//! deletion, never a privacy one.

use std::time::Duration;

use chrono::Utc;
use conturs_tests::Backend;
use conturs_tests::app::{CLIENT_SECRET, post_signed_webhook};
use conturs_tests::fixtures::insert_portal;
use conturs_tests::pipeline::{Pipeline, QueueKind};
use conturs_tests::{TestApp, spawn_app};
use entity::{
    AssociationKind, DeletionKind, Lane, PortalStatus, associations, contacts, deleted_contacts,
    job_runs, score_history, scores, webhook_events,
};
use hubspot::ObjectType;
use jobs::handlers::crm_store::{properties_for, upsert_page};
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::{Value, json};

/// Rows anything keeps about `contact` of `portal`, per table.
async fn footprint(db: &DatabaseConnection, portal: i64, contact: i64) -> [u64; 4] {
    let contacts = contacts::Entity::find()
        .filter(contacts::Column::PortalId.eq(portal))
        .filter(contacts::Column::Id.eq(contact))
        .count(db)
        .await
        .expect("contacts");
    let scores = scores::Entity::find()
        .filter(scores::Column::PortalId.eq(portal))
        .filter(scores::Column::ContactId.eq(contact))
        .count(db)
        .await
        .expect("scores");
    let history = score_history::Entity::find()
        .filter(score_history::Column::PortalId.eq(portal))
        .filter(score_history::Column::ContactId.eq(contact))
        .count(db)
        .await
        .expect("history");
    let links = associations::Entity::find()
        .filter(associations::Column::PortalId.eq(portal))
        .filter(associations::Column::Kind.eq(AssociationKind::DealContact))
        .filter(associations::Column::ToId.eq(contact))
        .count(db)
        .await
        .expect("links");
    [contacts, scores, history, links]
}

/// The webhook events kept about `contact`: their subscription types.
async fn events_about(db: &DatabaseConnection, portal: i64, contact: i64) -> Vec<String> {
    webhook_events::Entity::find()
        .filter(webhook_events::Column::PortalId.eq(portal))
        .filter(webhook_events::Column::ObjectId.eq(contact))
        .all(db)
        .await
        .expect("events")
        .into_iter()
        .map(|e| e.subscription_type)
        .collect()
}

/// Finished runs of the portal whose payload lists `contact`.
async fn finished_runs_listing(db: &DatabaseConnection, portal: i64, contact: i64) -> Vec<String> {
    job_runs::Entity::find()
        .filter(job_runs::Column::PortalId.eq(portal))
        .all(db)
        .await
        .expect("runs")
        .into_iter()
        .filter(|r| r.status.is_terminal())
        .filter(|r| {
            r.payload["contact_ids"]
                .as_array()
                .is_some_and(|ids| ids.iter().any(|id| id.as_i64() == Some(contact)))
        })
        .map(|r| format!("{:?} {}", r.job_type, r.id))
        .collect()
}

async fn wait_for<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    while !check().await {
        assert!(tokio::time::Instant::now() < deadline, "timed out: {what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn deletion_end_to_end(backend: Backend, queue: QueueKind) {
    let p = Pipeline::start(backend, queue, 2_000, 21)
        .await
        .expect("pipeline");
    let portal = p.portal_id;
    let _workers = p.spawn_workers("privacy-worker");
    let runs = p.sync_to_done(Duration::from_secs(180)).await;

    // Two scored contacts, one of them on a deal (so it has a deal link to purge too).
    let scored: Vec<i64> = scores::Entity::find()
        .filter(scores::Column::PortalId.eq(portal))
        .filter(scores::Column::Score.is_not_null())
        .all(&p.db.conn)
        .await
        .expect("scores")
        .into_iter()
        .map(|s| s.contact_id)
        .collect();
    let on_deal: Vec<i64> = associations::Entity::find()
        .filter(associations::Column::PortalId.eq(portal))
        .filter(associations::Column::Kind.eq(AssociationKind::DealContact))
        .all(&p.db.conn)
        .await
        .expect("links")
        .into_iter()
        .map(|l| l.to_id)
        .filter(|id| scored.contains(id))
        .collect();
    let erased = *on_deal.first().expect("a scored buyer");
    let deleted = *scored.iter().find(|id| **id != erased).expect("another");
    let before = footprint(&p.db.conn, portal, erased).await;
    assert!(
        before.iter().all(|n| *n > 0),
        "the GDPR target has a contact row, a score, history and a deal link: {before:?}"
    );

    // What a sync or scoring in flight read before the deletion.
    let client = p.deps.hubspot.portal(portal as u64, hubspot::Lane::Bulk);
    let stale = client
        .batch_read(
            ObjectType::Contacts,
            &[erased.to_string(), deleted.to_string()],
            &properties_for(ObjectType::Contacts),
        )
        .await
        .expect("read")
        .objects;
    assert_eq!(stale.len(), 2);

    // HubSpot's webhooks go to the real API; a change first, so there is an event to purge.
    let api = p.spawn_api().await.expect("api");
    p.sim.subscribe_webhooks(
        &api.url("/webhooks/hubspot"),
        &[
            ("contact.propertyChange", Some("jobtitle")),
            ("contact.deletion", None),
            ("contact.privacyDeletion", None),
        ],
    );
    p.sim
        .update_record(
            portal as u64,
            hubspot_sim::ObjectType::Contacts,
            erased as u64,
            &[("jobtitle", "Chief Privacy Officer")],
        )
        .expect("change");
    wait_for("the change event is recorded", || async {
        !events_about(&p.db.conn, portal, erased).await.is_empty()
    })
    .await;
    p.settle_succeeded(runs.len() + 1, Duration::from_secs(60))
        .await;
    assert!(
        !finished_runs_listing(&p.db.conn, portal, erased)
            .await
            .is_empty(),
        "the change was scored by a run that lists the contact"
    );

    // A GDPR delete through HubSpot's own endpoint, and a plain delete by a user.
    let tokens = p.sim.issue_tokens(portal as u64).expect("tokens");
    let gdpr = reqwest::Client::new()
        .post(format!(
            "{}/crm/v3/objects/contacts/gdpr-delete",
            p.sim.base_url()
        ))
        .bearer_auth(&tokens.access_token)
        .json(&json!({"objectId": erased.to_string()}))
        .send()
        .await
        .expect("gdpr delete");
    assert_eq!(gdpr.status(), 204);
    p.sim
        .state()
        .admin_delete(
            portal as u64,
            hubspot_sim::ObjectType::Contacts,
            deleted as u64,
        )
        .expect("delete");

    let started = std::time::Instant::now();
    wait_for("both contacts are purged", || async {
        footprint(&p.db.conn, portal, erased).await == [0; 4]
            && footprint(&p.db.conn, portal, deleted).await[..3] == [0; 3]
    })
    .await;
    let purge_latency = started.elapsed();
    assert_eq!(
        events_about(&p.db.conn, portal, erased).await,
        vec!["contact.privacyDeletion".to_owned()],
        "only the (id-only) deletion event is kept, for de-duplication"
    );
    let tombstones: Vec<(i64, DeletionKind)> = deleted_contacts::Entity::find()
        .filter(deleted_contacts::Column::PortalId.eq(portal))
        .all(&p.db.conn)
        .await
        .expect("tombstones")
        .into_iter()
        .map(|t| (t.contact_id, t.kind))
        .collect();
    assert!(tombstones.contains(&(erased, DeletionKind::PrivacyDeleted)));
    assert!(tombstones.contains(&(deleted, DeletionKind::Deleted)));

    // The change's finished scoring and write-back runs no longer list the erased contact.
    let listing = finished_runs_listing(&p.db.conn, portal, erased).await;
    assert!(
        listing.is_empty(),
        "finished runs still list the erased contact: {listing:?}"
    );

    // Stale data in flight: a sync page and a scoring batch read before the deletion.
    let written = upsert_page(&p.db.conn, portal, ObjectType::Contacts, &stale)
        .await
        .expect("upsert");
    assert_eq!(written, 0, "a deleted contact is not stored again");
    jobs::coalesce::enqueue_scoring(&p.queue, portal, &[erased, deleted], Lane::Realtime, None)
        .await
        .expect("score request");
    p.settle_succeeded(runs.len() + 1, Duration::from_secs(60))
        .await;
    assert_eq!(footprint(&p.db.conn, portal, erased).await, [0; 4]);
    assert_eq!(footprint(&p.db.conn, portal, deleted).await[..3], [0; 3]);
    eprintln!("privacy: purged {purge_latency:?} after the deletions in HubSpot");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deleted_contacts_are_purged_end_to_end_sqlite() {
    deletion_end_to_end(Backend::Sqlite, QueueKind::EmbeddedSqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deleted_contacts_are_purged_end_to_end_postgres() {
    deletion_end_to_end(Backend::Postgres, QueueKind::Redis).await;
}

const PORTAL: i64 = 5151;

async fn post_signed(app: &TestApp, events: &Value) -> Value {
    let body = serde_json::to_vec(events).expect("json");
    let url = app.url("/webhooks/hubspot");
    let now = Utc::now().timestamp_millis();
    let response = post_signed_webhook(&app.client, &url, CLIENT_SECRET, &body, now).await;
    assert_eq!(response.status(), 200);
    response.json().await.expect("report")
}

fn event(kind: &str, contact: i64, at: i64) -> Value {
    let mut event = json!({"portalId": PORTAL, "subscriptionType": kind, "objectId": contact, "occurredAt": at, "eventId": at});
    if kind == "contact.propertyChange" {
        event["propertyName"] = json!("jobtitle");
    }
    event
}

#[tokio::test]
async fn a_restore_lifts_a_deletion_but_never_a_privacy_deletion() {
    let app = spawn_app(Backend::Sqlite).await;
    insert_portal(&app.db.conn, PORTAL, PortalStatus::Ready)
        .await
        .expect("portal");
    let t = Utc::now().timestamp_millis();
    let first = post_signed(
        &app,
        &json!([
            event("contact.deletion", 1, t),
            event("contact.privacyDeletion", 2, t),
        ]),
    )
    .await;
    assert_eq!(first["purged"], 2);
    // Changes to deleted contacts are recorded but not scored.
    let changes = post_signed(
        &app,
        &json!([
            event("contact.propertyChange", 1, t + 1),
            event("contact.propertyChange", 2, t + 1)
        ]),
    )
    .await;
    assert_eq!(changes["enqueued"], 0, "{changes}");
    assert_eq!(changes["ignored"], 2, "{changes}");
    // HubSpot restores both (a GDPR-deleted contact cannot really come back; if an event says
    // so anyway, the erasure stands).
    let restored = post_signed(
        &app,
        &json!([
            event("contact.restore", 1, t + 2),
            event("contact.restore", 2, t + 2)
        ]),
    )
    .await;
    assert_eq!(restored["enqueued"], 1, "{restored}");
    let left: Vec<(i64, DeletionKind)> = deleted_contacts::Entity::find()
        .all(&app.db.conn)
        .await
        .expect("tombstones")
        .into_iter()
        .map(|t| (t.contact_id, t.kind))
        .collect();
    assert_eq!(left, vec![(2, DeletionKind::PrivacyDeleted)]);
}
