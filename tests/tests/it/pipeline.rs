//! The whole pipeline on real parts: a simulated HubSpot portal over HTTP, the real job runtime
//! and queue, a real database. Connect → InitialSync → TrainModel → WriteBack, then checks what
//! HubSpot shows; then a NightlyResync with nothing changed must write nothing.

use std::sync::Arc;
use std::time::Duration;

use apalis::prelude::Monitor;
use chrono::Utc;
use conturs_tests::{Backend, TestDatabase, TestRedis};
use entity::{JobStatus, JobType, PortalStatus, job_runs, portals, scores};
use hubspot::budget::BudgetPolicy;
use hubspot::crm::ListRequest;
use hubspot::oauth::tokens::TokenSet;
use hubspot::oauth::{RefreshCoordination, TokenStore};
use hubspot::{ClientConfig, HubSpotClient, ObjectType, RateBudget};
use hubspot_sim::{SimConfig, Simulator};
use jobs::handlers::token_store::DbTokenStore;
use jobs::handlers::{Deps, register_all};
use jobs::payload::{InitialSync, NightlyResync};
use jobs::{EnqueueOptions, Ledger, Queue, QueueBackend, QueueSettings};
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter};
use secrecy::SecretString;
use serde_json::json;

const CONTACTS: usize = 3_000;

struct Pipeline {
    sim: hubspot_sim::RunningSimulator,
    db: TestDatabase,
    queue: Queue,
    deps: Deps,
    portal_id: i64,
    _redis: Option<TestRedis>,
}

async fn pipeline(backend: Backend, redis_queue: bool) -> Pipeline {
    platform::tls::install_crypto_provider();
    let mut config = SimConfig::new("conturs-test-client", "conturs-test-secret");
    config.contacts = CONTACTS;
    config.seed = 11;
    let sim = Simulator::start(config).await.expect("simulator");
    let portal_id = sim.portal_id() as i64;

    let db = TestDatabase::migrated(backend).await.expect("database");
    let now = Utc::now();
    portals::ActiveModel {
        id: Set(portal_id),
        hub_domain: Set(None),
        status: Set(PortalStatus::Connected),
        status_reason: Set(None),
        scopes: Set(json!([])),
        account_id: Set(None),
        active_model_version: Set(None),
        connected_at: Set(now),
        disconnected_at: Set(None),
        last_full_sync_at: Set(None),
        last_incremental_sync_at: Set(None),
        sync_watermark: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(&db.conn)
    .await
    .expect("portal");

    let cipher = platform::TokenCipher::new(&platform::config::SecretKey::from_bytes([9; 32]));
    let store = Arc::new(DbTokenStore::new(db.conn.clone(), cipher));
    let pair = sim.issue_tokens(portal_id as u64).expect("tokens");
    store
        .save(
            portal_id as u64,
            TokenSet {
                access_token: SecretString::from(pair.access_token),
                refresh_token: SecretString::from(pair.refresh_token),
                expires_at: Utc::now() + chrono::Duration::seconds(pair.expires_in as i64),
                portal_id: portal_id as u64,
                scopes: pair.scopes,
            },
        )
        .await
        .expect("store tokens");

    let (queue_backend, redis, namespace) = if redis_queue {
        let redis = TestRedis::new();
        let backend = QueueBackend::redis(&redis.url).await.expect("redis");
        let namespace = redis.namespace.clone();
        (backend, Some(redis), namespace)
    } else {
        (
            QueueBackend::sqlite(&db.conn).await.expect("sqlite queue"),
            None,
            format!("pipeline-{}", uuid::Uuid::new_v4().simple()),
        )
    };
    let queue = Queue::new(
        queue_backend,
        QueueSettings {
            namespace,
            poll_interval: Duration::from_millis(100),
            ..QueueSettings::default()
        },
        Ledger::new(db.conn.clone()),
    );
    let client = HubSpotClient::new(
        ClientConfig::new(
            sim.base_url().parse().expect("url"),
            "conturs-test-client",
            SecretString::from("conturs-test-secret"),
            "http://localhost/oauth/hubspot/callback"
                .parse()
                .expect("url"),
        ),
        RateBudget::local(BudgetPolicy::default()).expect("budget"),
        store,
        RefreshCoordination::Local,
    )
    .expect("client");
    let deps = Deps {
        db: db.conn.clone(),
        queue: queue.clone(),
        hubspot: client,
    };
    Pipeline {
        sim,
        db,
        queue,
        deps,
        portal_id,
        _redis: redis,
    }
}

/// Waits until every run is finished and returns them.
async fn settle(p: &Pipeline, at_least: usize) -> Vec<job_runs::Model> {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(180);
    loop {
        let runs = job_runs::Entity::find()
            .filter(job_runs::Column::PortalId.eq(p.portal_id))
            .all(&p.db.conn)
            .await
            .expect("runs");
        if runs.len() >= at_least && runs.iter().all(|r| r.status.is_terminal()) {
            return runs;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "pipeline did not settle: {:?}",
            runs.iter()
                .map(|r| (r.job_type, r.status, r.last_error.clone()))
                .collect::<Vec<_>>()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

async fn connect_to_done(backend: Backend, redis_queue: bool) {
    let p = pipeline(backend, redis_queue).await;
    let monitor = register_all(Monitor::new(), &p.queue, &p.deps, "it-worker", 4);
    let workers = tokio::spawn(async move {
        let _ = monitor.run().await;
    });

    let portal_id = p.portal_id;
    p.queue
        .enqueue(
            |run_id| InitialSync { run_id, portal_id },
            EnqueueOptions::default(),
        )
        .await
        .expect("enqueue");
    let runs = settle(&p, 3).await;
    for run in &runs {
        assert_eq!(
            run.status,
            JobStatus::Succeeded,
            "{:?}: {:?}",
            run.job_type,
            run.last_error
        );
    }
    for job_type in [
        JobType::InitialSync,
        JobType::TrainModel,
        JobType::WriteBack,
    ] {
        assert!(
            runs.iter().any(|r| r.job_type == job_type),
            "{job_type:?} must have run"
        );
    }
    let portal = portals::Entity::find_by_id(portal_id)
        .one(&p.db.conn)
        .await
        .expect("portal")
        .expect("exists");
    assert_eq!(
        portal.status,
        PortalStatus::Ready,
        "{:?}",
        portal.status_reason
    );
    assert_eq!(portal.active_model_version, Some(1));

    // The ledger shows each InitialSync phase with its progress.
    let sync = runs
        .iter()
        .find(|r| r.job_type == JobType::InitialSync)
        .expect("sync run");
    let phases: Vec<String> = p
        .queue
        .ledger()
        .timeline(sync.id)
        .await
        .expect("timeline")
        .into_iter()
        .filter(|e| e.kind == "phase")
        .map(|e| e.message)
        .collect();
    assert_eq!(phases.len(), 4, "{phases:?}");
    assert!(phases[2].starts_with("phase contacts"), "{phases:?}");

    // What HubSpot shows now matches what we stored, for every contact.
    let stored = scores::Entity::find()
        .filter(scores::Column::PortalId.eq(portal_id))
        .all(&p.db.conn)
        .await
        .expect("scores");
    assert_eq!(stored.len(), CONTACTS, "every contact has a score row");
    let scored = stored.iter().filter(|s| s.score.is_some()).count();
    let unscorable = stored
        .iter()
        .filter(|s| s.unscorable_reason.is_some())
        .count();
    assert_eq!(scored + unscorable, CONTACTS);
    assert!(
        scored > CONTACTS / 2,
        "most contacts are scorable: {scored}"
    );
    assert!(
        unscorable > 0,
        "the generator makes contacts without companies"
    );

    let client = p.deps.hubspot.portal(portal_id as u64, hubspot::Lane::Bulk);
    let shown: Vec<hubspot::crm::CrmObject> = futures::TryStreamExt::try_collect(
        client.list_all(
            ObjectType::Contacts,
            ListRequest {
                properties: [
                    "conturs_score",
                    "conturs_grade",
                    "conturs_explanation",
                    "conturs_top_factors",
                    "conturs_last_scored",
                ]
                .map(str::to_owned)
                .to_vec(),
                ..ListRequest::default()
            },
        ),
    )
    .await
    .expect("read back");
    let by_id: std::collections::HashMap<i64, &scores::Model> =
        stored.iter().map(|s| (s.contact_id, s)).collect();
    for contact in &shown {
        let row = by_id[&contact.id.parse::<i64>().expect("id")];
        match row.score {
            Some(score) => {
                assert_eq!(
                    contact.property("conturs_score"),
                    Some(score.to_string().as_str())
                );
                assert_eq!(contact.property("conturs_grade"), row.grade.as_deref());
                assert_eq!(
                    contact.property("conturs_explanation"),
                    row.explanation.as_deref()
                );
                assert!(contact.property("conturs_top_factors").is_some());
                assert!(contact.property("conturs_last_scored").is_some());
            }
            None => {
                assert_eq!(
                    contact.property("conturs_score"),
                    None,
                    "unscorable stays untouched"
                );
            }
        }
    }

    // A nightly run with nothing changed writes nothing.
    let updates_before = batch_updates(&p);
    p.queue
        .enqueue(
            |run_id| NightlyResync { run_id, portal_id },
            EnqueueOptions::default(),
        )
        .await
        .expect("enqueue nightly");
    let after = settle(&p, runs.len() + 1).await;
    assert_eq!(after.len(), runs.len() + 1, "no follow-up jobs: {after:?}");
    let nightly = after
        .iter()
        .find(|r| r.job_type == JobType::NightlyResync)
        .expect("nightly run");
    assert_eq!(
        nightly.status,
        JobStatus::Succeeded,
        "{:?}",
        nightly.last_error
    );
    assert_eq!(
        batch_updates(&p),
        updates_before,
        "nothing was written to HubSpot"
    );
    workers.abort();
}

fn batch_updates(p: &Pipeline) -> u64 {
    let stats = p.sim.stats();
    stats
        .portals
        .values()
        .flat_map(|portal| portal.requests_by_endpoint.iter())
        .filter(|(route, _)| route.contains("batch/update"))
        .map(|(_, count)| *count)
        .sum()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn connect_to_done_embedded_sqlite() {
    connect_to_done(Backend::Sqlite, false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn connect_to_done_redis_postgres() {
    connect_to_done(Backend::Postgres, true).await;
}
