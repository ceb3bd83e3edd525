//! What every request handler can reach: the database, the job queue, the HubSpot client (for
//! the OAuth code exchange) and the API's own configuration.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use hubspot::HubSpotClient;
use hubspot::oauth::StateSigner;
use jobs::Queue;
use platform::Settings;
use sea_orm::DatabaseConnection;
use secrecy::SecretString;
use url::Url;

use crate::auth::AdminToken;
use crate::board::BoardKey;
use crate::dashboard::DashboardKey;
use crate::metrics::HttpMetrics;

/// The time source; tests pin it to replay published webhook signature vectors.
#[derive(Clone)]
pub struct Clock(Arc<dyn Fn() -> DateTime<Utc> + Send + Sync>);

impl Clock {
    pub fn system() -> Self {
        Self(Arc::new(Utc::now))
    }

    /// Always `at`.
    pub fn fixed(at: DateTime<Utc>) -> Self {
        Self(Arc::new(move || at))
    }

    pub fn now(&self) -> DateTime<Utc> {
        (self.0)()
    }

    pub fn now_ms(&self) -> i64 {
        self.now().timestamp_millis()
    }
}

impl std::fmt::Debug for Clock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Clock")
    }
}

/// How the API checks the callers of its three front doors.
#[derive(Clone, Debug)]
pub struct ApiConfig {
    /// `/api/*` callers.
    pub admin_token: AdminToken,
    /// OAuth `state` values (keyed by `CONTURS_SECRET_KEY`).
    pub state_signer: StateSigner,
    /// The HubSpot app's client secret: webhook signatures are keyed by it.
    pub webhook_secret: SecretString,
    /// Also accept v1/v2 signatures (HubSpot still signs some CRM-object subscriptions with
    /// v1, which has no timestamp and so no replay protection): off unless turned on.
    pub accept_v1_signatures: bool,
    /// The exact URL HubSpot calls (its webhook `targetUrl`), which v3 signatures cover. When
    /// unset, the URL is rebuilt from the request (`Host`, `X-Forwarded-Proto`) and from
    /// `CONTURS_PUBLIC_URL`.
    pub webhook_url: Option<Url>,
    pub public_url: Url,
    pub clock: Clock,
    /// Signs board session cookies (derived from `CONTURS_SECRET_KEY`).
    pub board_key: BoardKey,
    /// Customer dashboard CSRF tokens and the sign-in throttle (from `CONTURS_SECRET_KEY`).
    pub dashboard_key: DashboardKey,
}

/// Shared by all handlers; cheap to clone.
#[derive(Clone)]
pub struct AppState {
    pub db: DatabaseConnection,
    pub queue: Queue,
    pub hubspot: HubSpotClient,
    pub config: Arc<ApiConfig>,
    /// This app's HTTP request counters, for `/metrics`.
    pub http_metrics: HttpMetrics,
}

impl AppState {
    /// The production wiring: the HubSpot client the workers use (tokens sealed in the
    /// database; shared rate budget when Redis is configured) and the configured secrets.
    pub async fn new(
        settings: &Settings,
        db: DatabaseConnection,
        queue: Queue,
    ) -> anyhow::Result<Self> {
        let deps = jobs::handlers::Deps::from_settings(settings, queue.clone()).await?;
        Ok(Self {
            db,
            queue,
            hubspot: deps.hubspot,
            config: Arc::new(ApiConfig {
                admin_token: AdminToken::new(&settings.admin_token),
                state_signer: StateSigner::new(settings.secret_key.expose()),
                webhook_secret: settings.hubspot.client_secret.clone(),
                accept_v1_signatures: settings.accept_v1_webhook_signatures,
                webhook_url: None,
                public_url: settings.public_url.clone(),
                clock: Clock::system(),
                board_key: BoardKey::derive(settings.secret_key.expose()),
                dashboard_key: DashboardKey::derive(settings.secret_key.expose()),
            }),
            http_metrics: HttpMetrics::default(),
        })
    }

    /// Changes the configuration (tests: a pinned clock, v1 signatures, a fixed webhook URL).
    pub fn configure(mut self, change: impl FnOnce(&mut ApiConfig)) -> Self {
        change(Arc::make_mut(&mut self.config));
        self
    }
}
