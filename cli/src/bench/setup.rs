//! What a queue benchmark run needs: the Redis URL, a migrated ledger database (the configured
//! one, or a temporary SQLite file) and a throwaway portal row for the ledger's foreign key.

use anyhow::Context as _;
use entity::PortalStatus;
use platform::config::{DatabaseKind, DatabaseUrl};
use sea_orm::DatabaseConnection;

use super::ConfigError;

/// `REDIS_URL`, checked: the benchmark measures a Redis, so it refuses to run without one.
pub fn redis_url() -> Result<String, ConfigError> {
    let raw = std::env::var("REDIS_URL").map_err(|_| {
        ConfigError(
            "REDIS_URL is not set: bench queue measures the Redis queue \
             (e.g. REDIS_URL=redis://127.0.0.1:6379)"
                .to_owned(),
        )
    })?;
    let url: url::Url = raw
        .parse()
        .map_err(|e| ConfigError(format!("REDIS_URL is not a valid URL: {e}")))?;
    if !matches!(url.scheme(), "redis" | "rediss") {
        return Err(ConfigError(format!(
            "REDIS_URL must use redis:// or rediss://, got {}://",
            url.scheme()
        )));
    }
    Ok(raw)
}

/// The ledger's database; keeps the temporary directory alive while the run needs it.
pub struct LedgerDb {
    pub conn: DatabaseConnection,
    pub kind: DatabaseKind,
    _temp: Option<tempfile::TempDir>,
}

impl LedgerDb {
    /// `DATABASE_URL` when set, else a fresh SQLite file in a temporary directory; migrated.
    pub async fn open() -> anyhow::Result<Self> {
        let (url, temp) = match std::env::var("DATABASE_URL") {
            Ok(raw) => (
                DatabaseUrl::parse(&raw).map_err(|e| ConfigError(e.to_string()))?,
                None,
            ),
            Err(_) => {
                let dir = tempfile::Builder::new()
                    .prefix("conturs-bench-")
                    .tempdir()
                    .context("creating a temporary directory for the ledger database")?;
                let raw = format!("sqlite://{}/ledger.db?mode=rwc", dir.path().display());
                (DatabaseUrl::parse(&raw)?, Some(dir))
            }
        };
        migration::apply(&url)
            .await
            .context("applying migrations to the ledger database")?;
        let conn = platform::db::connect(&url)
            .await
            .context("connecting to the ledger database")?;
        Ok(Self {
            conn,
            kind: url.kind(),
            _temp: temp,
        })
    }

    pub fn kind_name(&self) -> &'static str {
        match self.kind {
            DatabaseKind::Sqlite => "SQLite",
            DatabaseKind::Postgres => "Postgres",
        }
    }
}

/// Records the benchmark's portal: a negative id (HubSpot's are positive, so it never collides
/// with a customer's) and `disconnected`, so no clock schedules work for it. Deleting it
/// afterwards removes every run and event of the benchmark (ON DELETE CASCADE).
pub async fn bench_portal(db: &DatabaseConnection) -> anyhow::Result<i64> {
    let (high, _) = uuid::Uuid::new_v4().as_u64_pair();
    let id = -((high >> 12) as i64) - 1;
    jobs::portals::record_portal(db, id, PortalStatus::Disconnected, &[])
        .await
        .context("recording the benchmark's portal")?;
    Ok(id)
}
