//! The real API, started in-process on a random port against a throwaway database and a real
//! queue (the embedded SQLite queue, or a private namespace on the test Redis).

use std::collections::HashMap;

use api::{ApiConfig, AppState, Application};
use jobs::{Ledger, Queue, QueueBackend, QueueSettings};
use tokio::sync::oneshot;

use crate::database::{Backend, TestDatabase};
use crate::pipeline::QueueKind;
use crate::redis_ns::TestRedis;

/// The admin bearer token every test app accepts.
pub const ADMIN_TOKEN: &str = "conturs-test-admin-token";
/// The HubSpot app the test API is configured as (start the simulator with the same).
pub const CLIENT_ID: &str = "conturs-api-test-client";
pub const CLIENT_SECRET: &str = "conturs-api-test-secret";
/// The key OAuth states are signed (and tokens sealed) with.
pub const SECRET_KEY: [u8; 32] = [7; 32];
/// The redirect URI the app sends to HubSpot; tests replay the callback against the app.
pub const REDIRECT_URI: &str = "http://localhost/oauth/hubspot/callback";

type Configure = Box<dyn FnOnce(&mut ApiConfig) + Send>;

/// How to start a test API.
pub struct AppOptions {
    pub backend: Backend,
    /// Default: the embedded queue on SQLite, Redis on Postgres.
    pub queue: Option<QueueKind>,
    /// Where HubSpot is (a simulator's `base_url()`); default: a closed port.
    pub hubspot_base_url: Option<String>,
    configure: Option<Configure>,
}

impl AppOptions {
    pub fn new(backend: Backend) -> Self {
        Self {
            backend,
            queue: None,
            hubspot_base_url: None,
            configure: None,
        }
    }

    pub fn queue(mut self, queue: QueueKind) -> Self {
        self.queue = Some(queue);
        self
    }

    pub fn hubspot(mut self, base_url: impl Into<String>) -> Self {
        self.hubspot_base_url = Some(base_url.into());
        self
    }

    /// Adjusts the API's configuration (clock, v1 signatures, webhook URL).
    pub fn configure(mut self, change: impl FnOnce(&mut ApiConfig) + Send + 'static) -> Self {
        self.configure = Some(Box::new(change));
        self
    }
}

/// A running API, its database and queue; stops when dropped.
pub struct TestApp {
    pub address: String,
    pub db: TestDatabase,
    pub queue: Queue,
    pub state: AppState,
    pub client: reqwest::Client,
    hubspot_base_url: String,
    _redis: Option<TestRedis>,
    _stop: oneshot::Sender<()>,
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.address)
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client
            .get(self.url(path))
            .send()
            .await
            .unwrap_or_else(|e| panic!("GET {path} failed: {e}"))
    }

    /// GET with the admin token.
    pub async fn admin_get(&self, path: &str) -> reqwest::Response {
        self.client
            .get(self.url(path))
            .bearer_auth(ADMIN_TOKEN)
            .send()
            .await
            .unwrap_or_else(|e| panic!("GET {path} failed: {e}"))
    }

    /// The environment a worker process needs to serve this app (same database, queue,
    /// namespace, HubSpot and secret key), for tests that run `conturs-worker` as a child.
    pub fn worker_env(&self) -> Vec<(&'static str, String)> {
        let mut env = vec![
            ("CONTURS_ENV", "development".to_owned()),
            ("DATABASE_URL", self.db.url.expose().to_owned()),
            (
                "CONTURS_QUEUE_NAMESPACE",
                self.queue.settings().namespace.clone(),
            ),
            ("HUBSPOT_BASE_URL", self.hubspot_base_url.clone()),
            ("HUBSPOT_CLIENT_ID", CLIENT_ID.to_owned()),
            ("HUBSPOT_CLIENT_SECRET", CLIENT_SECRET.to_owned()),
            ("CONTURS_SECRET_KEY", hex_key()),
            ("CONTURS_WORKER_CONCURRENCY", "4".to_owned()),
            ("RUST_LOG", "info,sqlx=warn,sea_orm=warn".to_owned()),
        ];
        if let Some(redis) = &self._redis {
            env.push(("REDIS_URL", redis.url.clone()));
        }
        env
    }

    /// POST of a JSON body with the admin token.
    pub async fn admin_post(&self, path: &str, body: &serde_json::Value) -> reqwest::Response {
        self.client
            .post(self.url(path))
            .bearer_auth(ADMIN_TOKEN)
            .json(body)
            .send()
            .await
            .unwrap_or_else(|e| panic!("POST {path} failed: {e}"))
    }
}

/// [`SECRET_KEY`] as `CONTURS_SECRET_KEY` spells it.
fn hex_key() -> String {
    SECRET_KEY.iter().map(|b| format!("{b:02x}")).collect()
}

/// Starts the API on port 0 with a migrated database of the given backend.
pub async fn spawn_app(backend: Backend) -> TestApp {
    spawn_app_with(AppOptions::new(backend)).await
}

/// Starts the API as `options` say.
pub async fn spawn_app_with(options: AppOptions) -> TestApp {
    crate::capture_logs();
    platform::tls::install_crypto_provider();
    let db = TestDatabase::migrated(options.backend)
        .await
        .expect("migrated test database");
    let queue_kind = options.queue.unwrap_or(match options.backend {
        Backend::Sqlite => QueueKind::EmbeddedSqlite,
        Backend::Postgres => QueueKind::Redis,
    });
    let (backend, redis, namespace) = match queue_kind {
        QueueKind::EmbeddedSqlite => (
            QueueBackend::sqlite(&db.conn)
                .await
                .expect("embedded queue"),
            None,
            format!("api-test-{}", uuid::Uuid::new_v4().simple()),
        ),
        QueueKind::Redis => {
            let redis = TestRedis::new();
            let backend = QueueBackend::redis(&redis.url).await.expect("Redis queue");
            let namespace = redis.namespace.clone();
            (backend, Some(redis), namespace)
        }
    };
    let queue = Queue::new(
        backend,
        QueueSettings {
            namespace: namespace.clone(),
            ..QueueSettings::default()
        },
        Ledger::new(db.conn.clone()),
    );
    let key = hex_key();
    let hubspot_base_url = options
        .hubspot_base_url
        .clone()
        .unwrap_or_else(|| "http://127.0.0.1:9".to_owned());
    let mut vars: HashMap<String, String> = [
        ("CONTURS_ENV", "development".to_owned()),
        ("DATABASE_URL", db.url.expose().to_owned()),
        ("CONTURS_QUEUE_NAMESPACE", namespace),
        ("CONTURS_ADMIN_TOKEN", ADMIN_TOKEN.to_owned()),
        ("CONTURS_SECRET_KEY", key),
        ("CONTURS_PUBLIC_URL", "http://localhost".to_owned()),
        ("HUBSPOT_BASE_URL", hubspot_base_url.clone()),
        ("HUBSPOT_CLIENT_ID", CLIENT_ID.to_owned()),
        ("HUBSPOT_CLIENT_SECRET", CLIENT_SECRET.to_owned()),
        ("HUBSPOT_REDIRECT_URI", REDIRECT_URI.to_owned()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect();
    if let Some(redis) = &redis {
        vars.insert("REDIS_URL".to_owned(), redis.url.clone());
    }
    let settings = platform::Settings::from_vars(&vars).expect("test settings");
    let mut state = AppState::new(&settings, db.conn.clone(), queue.clone())
        .await
        .expect("app state");
    if let Some(configure) = options.configure {
        state = state.configure(configure);
    }
    let app = Application::build_with(0, state.clone())
        .await
        .expect("API must start");
    let address = format!("http://127.0.0.1:{}", app.port());
    let (stop, stopped) = oneshot::channel::<()>();
    tokio::spawn(app.run_until(async move {
        let _ = stopped.await;
    }));
    TestApp {
        address,
        db,
        queue,
        state,
        client: reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("HTTP client"),
        hubspot_base_url,
        _redis: redis,
        _stop: stop,
    }
}
