//! The web dyno: a thin axum service that authenticates, validates, records and enqueues.
//! It never does HubSpot work itself (DESIGN §2), apart from the OAuth code exchange.
//!
//! [`Application::build`] binds the listener and returns a handle that knows its port, so `main`
//! and the end-to-end tests start the very same server (tests bind port 0).
//!
//! Front doors and how each is authenticated: `/api/*` by the admin bearer token ([`auth`];
//! all but the public OpenAPI document, [`openapi`]),
//! `/webhooks/hubspot` by HubSpot's signature ([`webhooks`]), `/oauth/hubspot/*` by the signed,
//! single-use `state` ([`oauth`]), `/metrics` by the admin bearer token too ([`metrics`]),
//! `/board` by a session cookie the admin token is exchanged for ([`board`]), `/app` by a
//! customer account's session cookie ([`dashboard`]).

pub mod auth;
pub mod board;
pub mod dashboard;
pub mod error;
mod health;
mod job_filter;
mod job_routes;
pub mod metrics;
pub mod oauth;
pub mod openapi;
mod portal_routes;
mod score_routes;
mod state;
mod web;
pub mod webhooks;

use std::net::SocketAddr;
use std::time::Duration;

use anyhow::Context as _;
use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::StatusCode;
use jobs::{Ledger, Queue, QueueBackend, QueueSettings};
use platform::Settings;
use platform::config::QueueBackend as ConfiguredQueue;
use secrecy::ExposeSecret as _;
use tokio::net::TcpListener;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;
use utoipa_axum::router::OpenApiRouter;

pub use platform::shutdown::terminate_signal;
pub use state::{ApiConfig, AppState, Clock};

/// Largest request body accepted anywhere (HubSpot's 100-event batches are far smaller).
pub const MAX_BODY_BYTES: usize = 1024 * 1024;
/// Longest a request may take before the client gets 503 (streams are exempt).
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

/// The web dyno's whole life: settings from the environment, logging, the server on `PORT`
/// until SIGTERM or Ctrl-C. Shared by `conturs-api` and the test build that tests kill.
pub async fn run_api_process() -> anyhow::Result<()> {
    platform::tls::install_crypto_provider();
    let settings = Settings::from_env()?;
    platform::telemetry::init(settings.log_format, &settings.log_filter)?;
    for var in settings.insecure_defaults() {
        tracing::warn!(
            var,
            "using the development default; set it before exposing this service"
        );
    }
    let app = Application::build(&settings)
        .await
        .context("starting the API")?;
    tracing::info!(port = app.port(), "API listening");
    app.run_until(terminate_signal()).await?;
    Ok(())
}

/// A bound, not yet running, API server.
pub struct Application {
    listener: TcpListener,
    router: Router,
}

impl Application {
    /// Connects to the database and the queue, and binds `settings.port` (0 picks a free port).
    pub async fn build(settings: &Settings) -> anyhow::Result<Self> {
        let db = platform::db::connect(&settings.database_url)
            .await
            .context("connecting to DATABASE_URL")?;
        let backend = match &settings.queue {
            ConfiguredQueue::Redis(url) => QueueBackend::redis(url.expose_secret())
                .await
                .context("connecting to REDIS_URL")?,
            ConfiguredQueue::Embedded => QueueBackend::sqlite(&db)
                .await
                .context("preparing the embedded queue")?,
        };
        let queue = Queue::new(
            backend,
            QueueSettings {
                namespace: settings.queue_namespace.clone(),
                ..QueueSettings::default()
            },
            Ledger::new(db.clone()),
        );
        let state = AppState::new(settings, db, queue).await?;
        Self::build_with(settings.port, state).await
    }

    /// Binds with an existing state, for callers that already hold the connections.
    pub async fn build_with(port: u16, state: AppState) -> anyhow::Result<Self> {
        let listener = TcpListener::bind(SocketAddr::from(([0, 0, 0, 0], port))).await?;
        Ok(Self {
            listener,
            router: router(state),
        })
    }

    pub fn port(&self) -> u16 {
        self.listener.local_addr().map(|a| a.port()).unwrap_or(0)
    }

    /// Serves until `shutdown` resolves, then finishes in-flight requests.
    pub async fn run_until(
        self,
        shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        axum::serve(self.listener, self.router)
            .with_graceful_shutdown(shutdown)
            .await
    }
}

/// Every route, and the OpenAPI document generated from them (served at [`openapi::PATH`]).
fn router(state: AppState) -> Router {
    let timeout = TimeoutLayer::with_status_code(StatusCode::SERVICE_UNAVAILABLE, REQUEST_TIMEOUT);
    let api = job_routes::routes()
        .merge(portal_routes::routes())
        .merge(score_routes::routes())
        .layer(timeout)
        // Job event streams run for as long as their job, so they sit outside the timeout.
        .merge(job_routes::stream_routes());
    let api = openapi::protect(api, &state).fallback(error::api_not_found);
    // Outermost, so it counts every answer: 401s, 413s and timeouts included.
    let track =
        axum::middleware::from_fn_with_state(state.http_metrics.clone(), metrics::http::track);
    let (router, document) = OpenApiRouter::with_openapi(openapi::base())
        .merge(health::routes())
        .merge(oauth::routes())
        .merge(webhooks::routes())
        .merge(openapi::protect(metrics::routes(), &state))
        .merge(openapi::routes())
        .layer(timeout)
        .nest("/api", api)
        .split_for_parts();
    router
        .merge(board::routes())
        .merge(dashboard::routes())
        .layer(openapi::serve(document))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(TraceLayer::new_for_http())
        .layer(track)
        .with_state(state)
}
