//! The real API, started in-process on a random port against a throwaway database.

use api::{AppState, Application};
use migration::{Migrator, MigratorTrait};
use tokio::sync::oneshot;

use crate::database::{Backend, TestDatabase};

/// A running API and the database behind it; stops when dropped.
pub struct TestApp {
    pub address: String,
    pub db: TestDatabase,
    pub client: reqwest::Client,
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
}

/// Starts the API on port 0 with a migrated database of the given backend.
pub async fn spawn_app(backend: Backend) -> TestApp {
    platform::tls::install_crypto_provider();
    let db = TestDatabase::empty(backend).await.expect("test database");
    Migrator::up(&db.conn, None).await.expect("migrations");
    let app = Application::build_with(
        0,
        AppState {
            db: db.conn.clone(),
        },
    )
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
        client: reqwest::Client::new(),
        _stop: stop,
    }
}
