//! The web dyno: a thin axum service that authenticates, validates, records and enqueues.
//! It never does HubSpot work itself (DESIGN §2).
//!
//! [`Application::build`] binds the listener and returns a handle that knows its port, so `main`
//! and the end-to-end tests start the very same server (tests bind port 0).

mod health;

use std::net::SocketAddr;

use axum::Router;
use platform::Settings;
use sea_orm::DatabaseConnection;
use tokio::net::TcpListener;
use tower_http::trace::TraceLayer;

pub use platform::shutdown::terminate_signal;

/// What every request handler can reach.
#[derive(Clone)]
pub struct AppState {
    pub db: DatabaseConnection,
}

/// A bound, not yet running, API server.
pub struct Application {
    listener: TcpListener,
    router: Router,
}

impl Application {
    /// Connects to the database and binds `settings.port` (0 picks a free port).
    pub async fn build(settings: &Settings) -> anyhow::Result<Self> {
        let db = platform::db::connect(&settings.database_url).await?;
        Self::build_with(settings.port, AppState { db }).await
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

fn router(state: AppState) -> Router {
    Router::new()
        .merge(health::routes())
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}
