//! Throwaway databases for tests.

use anyhow::Context as _;
use platform::config::DatabaseUrl;
use sea_orm::{ConnectionTrait, Database, DatabaseConnection};

/// The variable naming the Postgres server tests create their databases on; `scripts/test` sets
/// it (to the machine's server, or to a private one it started).
pub const POSTGRES_ADMIN_URL_VAR: &str = "CONTURS_TEST_POSTGRES_URL";
const DEFAULT_POSTGRES_ADMIN_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";

/// Which SQL backend a test runs against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    pub const ALL: [Backend; 2] = [Backend::Sqlite, Backend::Postgres];
}

/// A database that exists for one test and is removed when dropped.
pub struct TestDatabase {
    pub conn: DatabaseConnection,
    pub url: DatabaseUrl,
    pub backend: Backend,
    cleanup: Cleanup,
}

enum Cleanup {
    Sqlite(#[allow(dead_code)] tempfile::TempDir),
    Postgres { admin_url: String, name: String },
}

impl TestDatabase {
    /// A new, empty database (no migrations applied).
    pub async fn empty(backend: Backend) -> anyhow::Result<Self> {
        match backend {
            Backend::Sqlite => {
                let dir = tempfile::tempdir()?;
                let path = dir.path().join("conturs.db");
                let url = DatabaseUrl::parse(&format!("sqlite://{}?mode=rwc", path.display()))?;
                let conn = platform::db::connect(&url).await?;
                Ok(Self {
                    conn,
                    url,
                    backend,
                    cleanup: Cleanup::Sqlite(dir),
                })
            }
            Backend::Postgres => {
                let admin_url = std::env::var(POSTGRES_ADMIN_URL_VAR)
                    .unwrap_or_else(|_| DEFAULT_POSTGRES_ADMIN_URL.to_owned());
                Self::empty_postgres_on(admin_url).await
            }
        }
    }

    /// A new, empty Postgres database on the server `admin_url` names (a private server a test
    /// restarts, say).
    pub async fn empty_postgres_on(admin_url: String) -> anyhow::Result<Self> {
        let name = format!("conturs_test_{}", uuid::Uuid::new_v4().simple());
        let admin = Database::connect(&admin_url).await.with_context(|| {
            format!(
                "Postgres is required for these tests: cannot connect to {admin_url} \
                 (set {POSTGRES_ADMIN_URL_VAR} or run scripts/test, which starts one)"
            )
        })?;
        admin
            .execute_unprepared(&format!("CREATE DATABASE {name}"))
            .await?;
        admin.close().await?;
        let url = DatabaseUrl::parse(&replace_database(&admin_url, &name)?)?;
        let conn = platform::db::connect(&url).await?;
        Ok(Self {
            conn,
            url,
            backend: Backend::Postgres,
            cleanup: Cleanup::Postgres { admin_url, name },
        })
    }

    /// A new database with every migration applied.
    pub async fn migrated(backend: Backend) -> anyhow::Result<Self> {
        let mut db = Self::empty(backend).await?;
        db.migrate().await?;
        Ok(db)
    }

    /// Applies the migrations and reopens the pool, as the app does: connections opened before
    /// a schema change may keep the old schema (see [`migration::apply`]).
    pub async fn migrate(&mut self) -> anyhow::Result<()> {
        migration::apply(&self.url).await?;
        let stale = std::mem::replace(&mut self.conn, platform::db::connect(&self.url).await?);
        stale.close().await?;
        Ok(())
    }
}

fn replace_database(admin_url: &str, name: &str) -> anyhow::Result<String> {
    let mut url = url::Url::parse(admin_url)?;
    url.set_path(&format!("/{name}"));
    Ok(url.to_string())
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        if let Cleanup::Postgres { admin_url, name } = &self.cleanup {
            let (admin_url, db_name) = (admin_url.clone(), name.clone());
            // Drop runs outside async; a short-lived runtime on its own thread does the DROP.
            let dropped = std::thread::spawn(move || {
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()?;
                runtime.block_on(async {
                    let admin = Database::connect(&admin_url).await?;
                    admin
                        .execute_unprepared(&format!(
                            "DROP DATABASE IF EXISTS {db_name} WITH (FORCE)"
                        ))
                        .await?;
                    anyhow::Ok(())
                })
            })
            .join();
            if !matches!(dropped, Ok(Ok(()))) {
                eprintln!("warning: could not drop test database {name}");
            }
        }
    }
}
