//! A connected portal on real parts, for end-to-end tests and the pipeline benchmark: the
//! HubSpot simulator over HTTP, a throwaway database, the embedded SQLite queue or Redis, and
//! the real job handlers.

use std::sync::Arc;
use std::time::Duration;

use entity::{PortalStatus, job_runs, scores};
use hubspot::budget::BudgetPolicy;
use hubspot::oauth::RefreshCoordination;
use hubspot::{ClientConfig, HubSpotClient, RateBudget};
use hubspot_sim::generator::GeneratorConfig;
use hubspot_sim::{RunningSimulator, SimConfig, Simulator};
use jobs::handlers::Deps;
use jobs::handlers::token_store::DbTokenStore;
use jobs::{Ledger, Queue, QueueBackend, QueueSettings};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use secrecy::SecretString;

use crate::app::{ApiServer, HubSpotApp, serve_api};
use crate::{Backend, TestDatabase, TestRedis};

/// The HubSpot app a pipeline's simulator and API are configured as.
pub const CLIENT_ID: &str = "conturs-test-client";
/// Its client secret (webhook signatures are keyed by it; tests check it never leaks).
pub const CLIENT_SECRET: &str = "conturs-test-secret";
/// The key the tokens are sealed with; worker processes get it as `CONTURS_SECRET_KEY`.
const TOKEN_KEY: [u8; 32] = [9; 32];

fn hex_key(key: [u8; 32]) -> String {
    key.iter().map(|b| format!("{b:02x}")).collect()
}

/// Which queue the pipeline runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QueueKind {
    EmbeddedSqlite,
    Redis,
}

/// A simulated portal connected to Conturs, ready for jobs.
pub struct Pipeline {
    pub sim: RunningSimulator,
    pub db: TestDatabase,
    pub queue: Queue,
    pub deps: Deps,
    pub portal_id: i64,
    _redis: Option<TestRedis>,
    /// Writes the client's HubSpot usage down every few seconds, as a worker dyno does.
    _usage_flusher: AbortOnDrop,
}

/// Stops a background task when its owner goes away.
pub struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

impl Pipeline {
    /// Generates a portal of `contacts` (seeded), stores its tokens sealed in the database, and
    /// wires the queue and the HubSpot client as the worker does.
    pub async fn start(
        backend: Backend,
        queue_kind: QueueKind,
        contacts: usize,
        seed: u64,
    ) -> anyhow::Result<Self> {
        Self::start_with(backend, queue_kind, contacts, seed, None).await
    }

    /// Like [`Pipeline::start`]; with [`QueueKind::Redis`], `redis` chooses the server (a
    /// throwaway one the test may restart) instead of the shared test Redis.
    pub async fn start_with(
        backend: Backend,
        queue_kind: QueueKind,
        contacts: usize,
        seed: u64,
        redis: Option<TestRedis>,
    ) -> anyhow::Result<Self> {
        let db = TestDatabase::migrated(backend).await?;
        Self::start_over(db, queue_kind, contacts, seed, redis).await
    }

    /// Like [`Pipeline::start_with`], over a database the caller made (on a private Postgres
    /// server the test restarts, say); migrations are applied here.
    pub async fn start_over(
        mut db: TestDatabase,
        queue_kind: QueueKind,
        contacts: usize,
        seed: u64,
        redis: Option<TestRedis>,
    ) -> anyhow::Result<Self> {
        db.migrate().await?;
        crate::capture_logs();
        platform::tls::install_crypto_provider();
        let mut config = SimConfig::new(CLIENT_ID, CLIENT_SECRET);
        config.contacts = contacts;
        config.seed = seed;
        let sim = Simulator::start(config).await?;
        let portal_id = sim.portal_id() as i64;

        crate::fixtures::insert_portal(&db.conn, portal_id, PortalStatus::Connected).await?;

        let store = token_store(&db);
        crate::fixtures::save_sim_tokens(&sim, store.as_ref(), portal_id).await?;

        let (queue_backend, redis, namespace) = match queue_kind {
            QueueKind::Redis => {
                let redis = redis.unwrap_or_default();
                let backend = QueueBackend::redis(&redis.url).await?;
                let namespace = redis.namespace.clone();
                (backend, Some(redis), namespace)
            }
            QueueKind::EmbeddedSqlite => (
                QueueBackend::sqlite(&db.conn).await?,
                None,
                format!("pipeline-{}", uuid::Uuid::new_v4().simple()),
            ),
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
                sim.base_url().parse()?,
                CLIENT_ID,
                SecretString::from(CLIENT_SECRET),
                "http://localhost/oauth/hubspot/callback".parse()?,
            ),
            RateBudget::local(BudgetPolicy::default())
                .map_err(|e| anyhow::anyhow!("budget: {e}"))?,
            store,
            RefreshCoordination::Local,
        )?;
        let usage_flusher = tokio::spawn(jobs::usage::flush_forever(
            db.conn.clone(),
            client.usage().clone(),
            jobs::usage::FLUSH_EVERY,
        ));
        let deps = Deps {
            db: db.conn.clone(),
            queue: queue.clone(),
            hubspot: client,
        };
        Ok(Self {
            sim,
            db,
            queue,
            deps,
            portal_id,
            _redis: redis,
            _usage_flusher: AbortOnDrop(usage_flusher),
        })
    }

    /// Adds another generated portal (`contacts`, `seed`) to the same simulator and connects it
    /// like the first (portal row, sealed tokens), for benchmarks with several tenants. The
    /// HubSpot client serves every connected portal, each under its own rate budget.
    pub async fn add_portal(&self, contacts: usize, seed: u64) -> anyhow::Result<i64> {
        let portal_id = self
            .sim
            .create_portal(GeneratorConfig::new(seed, contacts))
            .await? as i64;
        crate::fixtures::insert_portal(&self.db.conn, portal_id, PortalStatus::Connected).await?;
        crate::fixtures::save_sim_tokens(&self.sim, token_store(&self.db).as_ref(), portal_id)
            .await?;
        Ok(portal_id)
    }

    /// Replaces the first portal's stored tokens with a grant of exactly `scopes` (plus
    /// `oauth`), as if the customer had installed the app without some of them.
    pub async fn connect_with_scopes(&self, scopes: &[&str]) -> anyhow::Result<()> {
        crate::fixtures::save_sim_tokens_with(
            &self.sim,
            token_store(&self.db).as_ref(),
            self.portal_id,
            scopes,
        )
        .await
    }

    /// The ids of a simulated portal's live contacts, ascending, read from the simulator.
    pub fn contact_ids(&self, portal_id: i64) -> anyhow::Result<Vec<u64>> {
        let portal = self
            .sim
            .state()
            .portal(portal_id as u64)
            .ok_or_else(|| anyhow::anyhow!("no simulated portal {portal_id}"))?;
        let data = portal.read();
        Ok(data.contacts.iter_from(0, false).map(|r| r.id).collect())
    }

    /// Runs the real job handlers (every type, both lanes) in this process until the returned
    /// guard is dropped.
    pub fn spawn_workers(&self, name: &str) -> AbortOnDrop {
        let monitor = jobs::handlers::register_all(
            apalis::prelude::Monitor::new(),
            &self.queue,
            &self.deps,
            name,
            4,
        );
        AbortOnDrop(tokio::spawn(async move {
            let _ = monitor.run().await;
        }))
    }

    /// Queues InitialSync and waits until it, TrainModel and WriteBack have all succeeded
    /// (run [`Pipeline::spawn_workers`] first); returns the runs.
    pub async fn sync_to_done(&self, timeout: Duration) -> Vec<job_runs::Model> {
        let portal_id = self.portal_id;
        self.queue
            .enqueue(
                |run_id| jobs::payload::InitialSync { run_id, portal_id },
                jobs::EnqueueOptions::default(),
            )
            .await
            .expect("enqueue InitialSync");
        self.settle_succeeded(3, timeout).await
    }

    /// Like [`Pipeline::settle`], and every run must have succeeded.
    pub async fn settle_succeeded(
        &self,
        at_least: usize,
        timeout: Duration,
    ) -> Vec<job_runs::Model> {
        let runs = self.settle(at_least, timeout).await;
        for run in &runs {
            assert_eq!(
                run.status,
                entity::JobStatus::Succeeded,
                "{:?}: {:?}",
                run.job_type,
                run.last_error
            );
        }
        runs
    }

    /// Waits until at least `at_least` runs exist and all are finished; returns them.
    pub async fn settle(&self, at_least: usize, timeout: Duration) -> Vec<job_runs::Model> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let runs = job_runs::Entity::find()
                .filter(job_runs::Column::PortalId.eq(self.portal_id))
                .all(&self.db.conn)
                .await
                .expect("job runs");
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
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Starts the real API over this pipeline's database and queue, as the HubSpot app the
    /// simulator signs webhooks for, so `sim.subscribe_webhooks(&api.url(...))` delivers
    /// signed events the workers here then score.
    pub async fn spawn_api(&self) -> anyhow::Result<ApiServer> {
        serve_api(
            &self.db,
            &self.queue,
            self._redis.as_ref().map(|r| r.url.as_str()),
            HubSpotApp {
                base_url: &self.sim.base_url(),
                client_id: CLIENT_ID,
                client_secret: CLIENT_SECRET,
                secret_key: TOKEN_KEY,
            },
            None,
        )
        .await
    }

    /// The environment a worker process needs to join this pipeline (same database, queue,
    /// namespace, simulator and token key), for tests that run `conturs-worker` as a child.
    pub fn worker_env(&self) -> Vec<(&'static str, String)> {
        let mut env = vec![
            ("CONTURS_ENV", "development".to_owned()),
            ("DATABASE_URL", self.db.url.expose().to_owned()),
            (
                "CONTURS_QUEUE_NAMESPACE",
                self.queue.settings().namespace.clone(),
            ),
            ("HUBSPOT_BASE_URL", self.sim.base_url().to_string()),
            ("HUBSPOT_CLIENT_ID", CLIENT_ID.to_owned()),
            ("HUBSPOT_CLIENT_SECRET", CLIENT_SECRET.to_owned()),
            ("CONTURS_SECRET_KEY", hex_key(TOKEN_KEY)),
            ("CONTURS_WORKER_CONCURRENCY", "4".to_owned()),
            ("RUST_LOG", "info,sqlx=warn,sea_orm=warn".to_owned()),
        ];
        if let Some(redis) = &self._redis {
            env.push(("REDIS_URL", redis.url.clone()));
        }
        env
    }

    /// Checks the promise of the whole pipeline: every contact has a score row, and what HubSpot
    /// shows for each contact is exactly what we stored (score, grade, explanation, top factors
    /// and last-scored date for the scorable ones; nothing for the unscorable ones, whose reason
    /// is stored). Returns the number of scored contacts.
    pub async fn assert_written_back(&self, contacts: usize) -> usize {
        let stored = scores::Entity::find()
            .filter(scores::Column::PortalId.eq(self.portal_id))
            .all(&self.db.conn)
            .await
            .expect("scores");
        assert_eq!(stored.len(), contacts, "every contact has a score row");
        let scored = stored.iter().filter(|s| s.score.is_some()).count();
        let unscorable = stored
            .iter()
            .filter(|s| s.unscorable_reason.is_some())
            .count();
        assert_eq!(scored + unscorable, contacts);
        assert!(
            scored > contacts / 2,
            "most contacts are scorable: {scored}"
        );
        assert!(
            unscorable > 0,
            "the generator makes contacts without companies"
        );

        let client = self
            .deps
            .hubspot
            .portal(self.portal_id as u64, hubspot::Lane::Bulk);
        let shown: Vec<hubspot::crm::CrmObject> = futures::TryStreamExt::try_collect(
            client.list_all(
                hubspot::ObjectType::Contacts,
                hubspot::crm::ListRequest {
                    properties: [
                        "conturs_score",
                        "conturs_grade",
                        "conturs_explanation",
                        "conturs_top_factors",
                        "conturs_last_scored",
                    ]
                    .map(str::to_owned)
                    .to_vec(),
                    ..hubspot::crm::ListRequest::default()
                },
            ),
        )
        .await
        .expect("read back");
        assert_eq!(shown.len(), contacts, "HubSpot lists every contact");
        let by_id: std::collections::HashMap<i64, &scores::Model> =
            stored.iter().map(|s| (s.contact_id, s)).collect();
        for contact in &shown {
            let row = by_id[&contact.id.parse::<i64>().expect("id")];
            match row.score {
                Some(score) => {
                    assert_eq!(
                        contact.property("conturs_score"),
                        Some(score.to_string().as_str()),
                        "contact {}",
                        contact.id
                    );
                    assert_eq!(contact.property("conturs_grade"), row.grade.as_deref());
                    assert_eq!(
                        contact.property("conturs_explanation"),
                        row.explanation.as_deref()
                    );
                    // HubSpot omits empty values: a contact with no notable factor shows none.
                    let factors = row.written_top_factors.as_deref().filter(|f| !f.is_empty());
                    assert_eq!(contact.property("conturs_top_factors"), factors);
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
        scored
    }

    /// Writes down the HubSpot usage counted since the last flush now, instead of waiting for
    /// the background flush.
    pub async fn flush_usage(&self) -> anyhow::Result<usize> {
        Ok(jobs::usage::flush(&self.db.conn, self.deps.hubspot.usage()).await?)
    }

    /// Requests the simulator served for this portal whose route contains `fragment`.
    pub fn requests_matching(&self, fragment: &str) -> u64 {
        self.sim
            .stats()
            .portals
            .values()
            .flat_map(|portal| portal.requests_by_endpoint.iter())
            .filter(|(route, _)| route.contains(fragment))
            .map(|(_, count)| *count)
            .sum()
    }
}

/// The token store the harness' HubSpot client reads, over the test database.
fn token_store(db: &TestDatabase) -> Arc<DbTokenStore> {
    let cipher = platform::TokenCipher::new(&platform::config::SecretKey::from_bytes(TOKEN_KEY));
    Arc::new(DbTokenStore::new(db.conn.clone(), cipher))
}
