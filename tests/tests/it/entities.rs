//! Every entity survives a write and a read unchanged on both backends, records are scoped by
//! portal, and deleting a portal removes everything it owns.

use chrono::{DateTime, Utc};
use conturs_tests::{Backend, TestDatabase};
use entity::*;
use sea_orm::{
    ActiveModelTrait, ActiveValue::NotSet, ColumnTrait, DatabaseConnection, EntityTrait,
    IntoActiveModel, ModelTrait, PaginatorTrait, QueryFilter,
};
use serde_json::json;
use uuid::Uuid;

const PORTAL: i64 = 62_515;
const OTHER_PORTAL: i64 = 99_001;

/// A timestamp with microsecond precision, which both backends store exactly.
fn at(micros: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_micros(1_790_000_000_000_000 + micros).expect("valid timestamp")
}

fn portal(id: i64) -> portals::Model {
    portals::Model {
        id,
        hub_domain: Some(format!("demo-{id}.hubspot.com")),
        status: PortalStatus::NeedsReconnect,
        status_reason: Some("refresh token revoked".into()),
        scopes: json!(["oauth", "crm.objects.contacts.read"]),
        account_id: Some(7),
        active_model_version: Some(3),
        connected_at: at(1),
        disconnected_at: Some(at(2)),
        last_full_sync_at: Some(at(3)),
        last_incremental_sync_at: Some(at(4)),
        sync_watermark: Some(at(5)),
        created_at: at(6),
        updated_at: at(7),
    }
}

async fn insert_portal(db: &DatabaseConnection, id: i64) -> portals::Model {
    portal(id)
        .into_active_model()
        .insert(db)
        .await
        .expect("insert portal")
}

/// Inserts `model` and checks both the returned row and a fresh read equal it.
macro_rules! assert_round_trip {
    ($db:expr, $module:ident, $model:expr, $($pk:expr),+) => {{
        let model: $module::Model = $model;
        let inserted = model.clone().into_active_model().insert($db).await
            .expect(concat!("insert ", stringify!($module)));
        assert_eq!(inserted, model, concat!(stringify!($module), " as returned by insert"));
        let read = $module::Entity::find_by_id(($($pk),+)).one($db).await
            .expect(concat!("read ", stringify!($module)))
            .expect(concat!(stringify!($module), " row must exist"));
        assert_eq!(read, model, concat!(stringify!($module), " as read back"));
    }};
}

/// Same, for tables with an auto-increment id: the database picks the id.
macro_rules! assert_round_trip_auto_id {
    ($db:expr, $module:ident, $model:expr) => {{
        let mut model: $module::Model = $model;
        let mut active = model.clone().into_active_model();
        active.id = NotSet;
        let inserted = active
            .insert($db)
            .await
            .expect(concat!("insert ", stringify!($module)));
        assert!(inserted.id > 0);
        model.id = inserted.id;
        assert_eq!(
            inserted, model,
            concat!(stringify!($module), " as returned by insert")
        );
        let read = $module::Entity::find_by_id(model.id)
            .one($db)
            .await
            .expect(concat!("read ", stringify!($module)))
            .expect(concat!(stringify!($module), " row must exist"));
        assert_eq!(read, model, concat!(stringify!($module), " as read back"));
    }};
}

async fn round_trip_every_table(backend: Backend) {
    let db = TestDatabase::migrated(backend)
        .await
        .expect("test database");
    let db = &db.conn;

    let p = insert_portal(db, PORTAL).await;
    assert_eq!(
        portals::Entity::find_by_id(PORTAL)
            .one(db)
            .await
            .expect("read portal"),
        Some(portal(PORTAL))
    );
    assert_eq!(p, portal(PORTAL));

    assert_round_trip!(
        db,
        oauth_tokens,
        oauth_tokens::Model {
            portal_id: PORTAL,
            access_token_sealed: vec![1, 0, 255, 42, 7],
            refresh_token_sealed: vec![1; 64],
            access_expires_at: at(10),
            token_version: 4,
            updated_at: at(11),
        },
        PORTAL
    );

    let raw =
        json!({"industry": "COMPUTER_SOFTWARE", "numberofemployees": "250", "name": "Zürich AG ✓"});
    assert_round_trip!(
        db,
        companies,
        companies::Model {
            portal_id: PORTAL,
            id: 5_790_939_450,
            name: Some("Zürich AG ✓".into()),
            domain: Some("zuerich.example".into()),
            industry: Some("COMPUTER_SOFTWARE".into()),
            employees: Some(250),
            annual_revenue: Some(12_500_000.5),
            country: Some("Switzerland".into()),
            properties: raw.clone(),
            hs_created_at: Some(at(20)),
            hs_updated_at: Some(at(21)),
            archived: false,
            synced_at: at(22),
        },
        PORTAL,
        5_790_939_450
    );

    assert_round_trip!(
        db,
        contacts,
        contacts::Model {
            portal_id: PORTAL,
            id: 33_451,
            email: Some("ada@zuerich.example".into()),
            first_name: Some("Ada".into()),
            last_name: Some("Lovelace".into()),
            job_title: Some("VP, Sales & Marketing".into()),
            hs_seniority: Some("vice_president".into()),
            hs_role: Some("sales".into()),
            lifecycle_stage: Some("lead".into()),
            lead_status: Some("OPEN".into()),
            country: Some("CH".into()),
            company_id: Some(5_790_939_450),
            properties: json!({"jobtitle": "VP, Sales & Marketing"}),
            hs_created_at: Some(at(30)),
            hs_updated_at: Some(at(31)),
            archived: true,
            synced_at: at(32),
        },
        PORTAL,
        33_451_i64
    );

    assert_round_trip!(
        db,
        deals,
        deals::Model {
            portal_id: PORTAL,
            id: 77,
            name: Some("Zürich renewal".into()),
            pipeline: Some("default".into()),
            stage: Some("closedwon".into()),
            amount: Some(48_000.0),
            close_date: Some(at(40)),
            is_closed: true,
            is_closed_won: true,
            properties: json!({"dealstage": "closedwon", "hs_is_closed_won": "true"}),
            hs_created_at: Some(at(41)),
            hs_updated_at: Some(at(42)),
            archived: false,
            synced_at: at(43),
        },
        PORTAL,
        77
    );

    assert_round_trip!(
        db,
        associations,
        associations::Model {
            portal_id: PORTAL,
            kind: AssociationKind::DealCompany,
            from_id: 77,
            to_id: 5_790_939_450,
            is_primary: true,
            synced_at: at(50),
        },
        PORTAL,
        AssociationKind::DealCompany,
        77,
        5_790_939_450
    );

    assert_round_trip!(
        db,
        sync_cursors,
        sync_cursors::Model {
            portal_id: PORTAL,
            object_type: ObjectType::Contacts,
            after: Some("NTI1Cg%3D%3D".into()),
            records_done: 4_200,
            modified_since: Some(at(60)),
            completed: false,
            updated_at: at(61),
        },
        PORTAL,
        ObjectType::Contacts
    );

    assert_round_trip_auto_id!(
        db,
        models,
        models::Model {
            id: 0,
            portal_id: PORTAL,
            version: 3,
            status: ModelStatus::Active,
            algorithm: "logistic_regression".into(),
            positives: 312,
            negatives: 80,
            unlabeled: 9_608,
            metrics: json!({"auc": 0.83, "lift_top_decile": 3.9}),
            artefact: json!({"schema_version": 1, "weights": [0.5, -1.25]}),
            schema_version: 1,
            trained_at: at(70),
        }
    );

    assert_round_trip!(
        db,
        scores,
        scores::Model {
            portal_id: PORTAL,
            contact_id: 33_451,
            score: Some(87),
            grade: Some("A".into()),
            raw_score: Some(-0.734),
            explanation: Some("Strong fit: Software industry\nWeaker: none".into()),
            top_factors: Some(json!([{"field": "industry", "points": 12.5}])),
            unscorable_reason: None,
            model_version: Some(3),
            scored_at: at(80),
            written_score: Some(85),
            written_grade: Some("A".into()),
            written_explanation: Some("Strong fit".into()),
            written_top_factors: Some("+ Industry: Software".into()),
            written_at: Some(at(81)),
            writeback_error: Some("PROPERTY_DOESNT_EXIST".into()),
        },
        PORTAL,
        33_451_i64
    );

    assert_round_trip_auto_id!(
        db,
        score_history,
        score_history::Model {
            id: 0,
            portal_id: PORTAL,
            contact_id: 33_451,
            model_version: 3,
            score: 87,
            grade: "A".into(),
            scored_at: at(90),
        }
    );

    let run_id = Uuid::now_v7();
    assert_round_trip!(
        db,
        job_runs,
        job_runs::Model {
            id: run_id,
            portal_id: PORTAL,
            job_type: JobType::InitialSync,
            lane: Lane::Bulk,
            status: JobStatus::Retrying,
            payload: json!({"portal": PORTAL}),
            attempts: 2,
            max_attempts: 5,
            phase: Some("contacts".into()),
            done: 4_200,
            total: Some(10_000),
            rate: Some(1_050.5),
            eta_seconds: Some(5.5),
            last_error: Some("HubSpot answered 502".into()),
            error_kind: Some("transient".into()),
            idempotency_key: Some("initial-sync:62515".into()),
            queue_task_id: Some("01JH5Z3Q9Y8X7W6V5T4S3R2P1N".into()),
            worker: Some("worker.1-4242".into()),
            parent_id: Some(Uuid::now_v7()),
            created_at: at(100),
            started_at: Some(at(101)),
            finished_at: Some(at(102)),
            updated_at: at(103),
            heartbeat_at: Some(at(104)),
        },
        run_id
    );

    assert_round_trip_auto_id!(
        db,
        job_events,
        job_events::Model {
            id: 0,
            job_run_id: run_id,
            portal_id: PORTAL,
            at: at(110),
            kind: "retry".into(),
            message: "attempt 2 failed: HubSpot answered 502; retrying in 4 s".into(),
            data: Some(json!({"delay_ms": 4000})),
        }
    );

    assert_round_trip!(
        db,
        clock_ticks,
        clock_ticks::Model {
            portal_id: PORTAL,
            schedule: "nightly_resync".into(),
            tick_at: at(130),
            job_run_id: run_id,
            fired_at: at(131),
        },
        PORTAL,
        "nightly_resync".to_owned(),
        at(130)
    );

    assert_round_trip!(
        db,
        deleted_contacts,
        deleted_contacts::Model {
            portal_id: PORTAL,
            contact_id: 33_451,
            kind: DeletionKind::PrivacyDeleted,
            deleted_at: at(140),
        },
        PORTAL,
        33_451_i64
    );

    assert_round_trip_auto_id!(
        db,
        webhook_events,
        webhook_events::Model {
            id: 0,
            portal_id: PORTAL,
            dedupe_key: "contact.propertyChange:33451:jobtitle:1564113600000".into(),
            event_id: 3_816_279_340,
            subscription_type: "contact.propertyChange".into(),
            object_id: 33_451,
            property_name: Some("jobtitle".into()),
            occurred_at: at(120),
            attempt_number: 0,
            received_at: at(121),
            outcome: WebhookOutcome::Enqueued,
            ignore_reason: None,
            job_run_id: Some(run_id),
        }
    );
}

#[tokio::test]
async fn every_entity_round_trips_on_sqlite() {
    round_trip_every_table(Backend::Sqlite).await;
}

#[tokio::test]
async fn every_entity_round_trips_on_postgres() {
    round_trip_every_table(Backend::Postgres).await;
}

fn contact(portal_id: i64, id: i64, title: &str) -> contacts::Model {
    contacts::Model {
        portal_id,
        id,
        email: None,
        first_name: None,
        last_name: None,
        job_title: Some(title.into()),
        hs_seniority: None,
        hs_role: None,
        lifecycle_stage: None,
        lead_status: None,
        country: None,
        company_id: None,
        properties: json!({}),
        hs_created_at: None,
        hs_updated_at: None,
        archived: false,
        synced_at: at(0),
    }
}

async fn records_are_scoped_by_portal(backend: Backend) {
    let db = TestDatabase::migrated(backend)
        .await
        .expect("test database");
    let db = &db.conn;
    insert_portal(db, PORTAL).await;
    let other = insert_portal(db, OTHER_PORTAL).await;

    // HubSpot ids are only unique within a portal: the same id lives in both.
    for (portal_id, title) in [(PORTAL, "CEO"), (OTHER_PORTAL, "Intern")] {
        contact(portal_id, 1, title)
            .into_active_model()
            .insert(db)
            .await
            .expect("insert contact");
    }
    let ours = contacts::Entity::find_by_id((PORTAL, 1))
        .one(db)
        .await
        .expect("read")
        .expect("exists");
    assert_eq!(ours.job_title.as_deref(), Some("CEO"));

    // Deleting a portal removes what it owns and nothing else.
    other.delete(db).await.expect("delete portal");
    let remaining = contacts::Entity::find()
        .filter(contacts::Column::PortalId.eq(OTHER_PORTAL))
        .count(db)
        .await
        .expect("count");
    assert_eq!(remaining, 0, "contacts of a deleted portal must be removed");
    assert_eq!(
        contacts::Entity::find().count(db).await.expect("count"),
        1,
        "other portals' contacts must stay"
    );

    // Rows cannot point at a portal that does not exist.
    let orphan = contact(123_456, 2, "CTO")
        .into_active_model()
        .insert(db)
        .await;
    assert!(
        orphan.is_err(),
        "a contact of an unknown portal must be rejected"
    );
}

#[tokio::test]
async fn records_are_scoped_by_portal_on_sqlite() {
    records_are_scoped_by_portal(Backend::Sqlite).await;
}

#[tokio::test]
async fn records_are_scoped_by_portal_on_postgres() {
    records_are_scoped_by_portal(Backend::Postgres).await;
}
