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

/// A change to the API's configuration, applied before it starts.
pub type Configure = Box<dyn FnOnce(&mut ApiConfig) + Send>;

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
    _server: ApiServer,
}

/// The HubSpot app an API answers for: where HubSpot is, and the client id and secret (the
/// secret keys webhook signatures), plus the key tokens are sealed with.
pub struct HubSpotApp<'a> {
    pub base_url: &'a str,
    pub client_id: &'a str,
    pub client_secret: &'a str,
    pub secret_key: [u8; 32],
}

/// The API serving on a random port over a database and queue its caller owns (a test app, or
/// a pipeline whose workers share them); stops when dropped.
pub struct ApiServer {
    /// `http://127.0.0.1:PORT`.
    pub address: String,
    pub state: AppState,
    _stop: oneshot::Sender<()>,
}

impl ApiServer {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.address)
    }
}

/// Starts the API as production wires it (`AppState::new` from settings), on port 0, over
/// `db` and `queue`; `redis_url` is the queue's Redis, if any (the HubSpot budget shares it).
pub async fn serve_api(
    db: &TestDatabase,
    queue: &Queue,
    redis_url: Option<&str>,
    hubspot: HubSpotApp<'_>,
    configure: Option<Configure>,
) -> anyhow::Result<ApiServer> {
    let key = hex_key(&hubspot.secret_key);
    let mut vars: HashMap<String, String> = [
        ("CONTURS_ENV", "development".to_owned()),
        ("DATABASE_URL", db.url.expose().to_owned()),
        (
            "CONTURS_QUEUE_NAMESPACE",
            queue.settings().namespace.clone(),
        ),
        ("CONTURS_ADMIN_TOKEN", ADMIN_TOKEN.to_owned()),
        ("CONTURS_SECRET_KEY", key),
        ("CONTURS_PUBLIC_URL", "http://localhost".to_owned()),
        ("HUBSPOT_BASE_URL", hubspot.base_url.to_owned()),
        ("HUBSPOT_CLIENT_ID", hubspot.client_id.to_owned()),
        ("HUBSPOT_CLIENT_SECRET", hubspot.client_secret.to_owned()),
        ("HUBSPOT_REDIRECT_URI", REDIRECT_URI.to_owned()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect();
    if let Some(url) = redis_url {
        vars.insert("REDIS_URL".to_owned(), url.to_owned());
    }
    let settings = platform::Settings::from_vars(&vars)?;
    let mut state = AppState::new(&settings, db.conn.clone(), queue.clone()).await?;
    if let Some(configure) = configure {
        state = state.configure(configure);
    }
    let app = Application::build_with(0, state.clone()).await?;
    let address = format!("http://127.0.0.1:{}", app.port());
    let (stop, stopped) = oneshot::channel::<()>();
    tokio::spawn(app.run_until(async move {
        let _ = stopped.await;
    }));
    Ok(ApiServer {
        address,
        state,
        _stop: stop,
    })
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

    /// GET as a browser with `cookie` (`name=value`): the status and the body.
    pub async fn cookie_get(&self, cookie: &str, path: &str) -> (u16, String) {
        let response = self
            .client
            .get(self.url(path))
            .header(reqwest::header::COOKIE, cookie)
            .send()
            .await
            .unwrap_or_else(|e| panic!("GET {path} failed: {e}"));
        let status = response.status().as_u16();
        (status, response.text().await.expect("body"))
    }

    /// A form POST as a browser with `cookie` (`name=value`).
    pub async fn cookie_post(
        &self,
        cookie: &str,
        path: &str,
        form: &[(&str, &str)],
    ) -> reqwest::Response {
        self.client
            .post(self.url(path))
            .header(reqwest::header::COOKIE, cookie)
            .form(form)
            .send()
            .await
            .unwrap_or_else(|e| panic!("POST {path} failed: {e}"))
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
            ("CONTURS_SECRET_KEY", hex_key(&SECRET_KEY)),
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

/// A key as `CONTURS_SECRET_KEY` spells it.
fn hex_key(key: &[u8; 32]) -> String {
    key.iter().map(|b| format!("{b:02x}")).collect()
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
            namespace,
            ..QueueSettings::default()
        },
        Ledger::new(db.conn.clone()),
    );
    let hubspot_base_url = options
        .hubspot_base_url
        .clone()
        .unwrap_or_else(|| "http://127.0.0.1:9".to_owned());
    let server = serve_api(
        &db,
        &queue,
        redis.as_ref().map(|r| r.url.as_str()),
        HubSpotApp {
            base_url: &hubspot_base_url,
            client_id: CLIENT_ID,
            client_secret: CLIENT_SECRET,
            secret_key: SECRET_KEY,
        },
        options.configure,
    )
    .await
    .expect("API must start");
    TestApp {
        address: server.address.clone(),
        db,
        queue,
        state: server.state.clone(),
        client: reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("HTTP client"),
        hubspot_base_url,
        _redis: redis,
        _server: server,
    }
}

/// Signs in to the board at `address` with the admin token, as a browser does (`client` must
/// not follow redirects); returns the session cookie as `name=value`.
pub async fn board_sign_in(client: &reqwest::Client, address: &str) -> String {
    let response = client
        .post(format!("{address}/board/login"))
        .form(&[("token", ADMIN_TOKEN), ("next", "/board/jobs")])
        .send()
        .await
        .expect("sign in");
    assert_eq!(response.status(), 303, "sign-in redirects");
    assert_eq!(response.headers()[reqwest::header::LOCATION], "/board/jobs");
    let set_cookie = response.headers()[reqwest::header::SET_COOKIE]
        .to_str()
        .expect("ascii")
        .to_owned();
    set_cookie.split(';').next().expect("pair").to_owned()
}

/// POSTs `body` to the webhook URL `url` signed as HubSpot signs it (v3, with `secret`) at
/// `timestamp_ms`.
pub async fn post_signed_webhook(
    client: &reqwest::Client,
    url: &str,
    secret: &str,
    body: &[u8],
    timestamp_ms: i64,
) -> reqwest::Response {
    let signature = hubspot::webhook::sign_v3(
        secret.as_bytes(),
        hubspot::webhook::SignedRequest {
            method: "POST",
            uri: url,
            body,
        },
        timestamp_ms,
    );
    client
        .post(url)
        .header("content-type", "application/json")
        .header("X-HubSpot-Signature-v3", signature)
        .header("X-HubSpot-Request-Timestamp", timestamp_ms.to_string())
        .body(body.to_vec())
        .send()
        .await
        .expect("webhook POST")
}

/// GET of `path` at `address` as a signed-in operator (board cookie and admin token both):
/// the status and the body.
pub async fn operator_get(
    client: &reqwest::Client,
    address: &str,
    cookie: &str,
    path: &str,
) -> (u16, Vec<u8>) {
    let response = client
        .get(format!("{address}{path}"))
        .header(reqwest::header::COOKIE, cookie)
        .bearer_auth(ADMIN_TOKEN)
        .send()
        .await
        .unwrap_or_else(|e| panic!("GET {path} failed: {e}"));
    let status = response.status().as_u16();
    (status, response.bytes().await.expect("body").to_vec())
}

/// The text between the first `start` and the next `end` (a hidden field's value in a page).
pub fn between(text: &str, start: &str, end: &str) -> Option<String> {
    let from = text.find(start)? + start.len();
    let to = text[from..].find(end)? + from;
    Some(text[from..to].to_owned())
}
