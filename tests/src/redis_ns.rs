//! A private key namespace on the shared test Redis, deleted afterwards (never a FLUSHALL).

/// The variable naming the Redis server tests use; `scripts/test` sets it.
pub const REDIS_URL_VAR: &str = "CONTURS_TEST_REDIS_URL";
const DEFAULT_REDIS_URL: &str = "redis://127.0.0.1:6379";

/// A Redis URL plus a namespace no other test uses.
pub struct TestRedis {
    pub url: String,
    pub namespace: String,
}

impl TestRedis {
    /// A fresh namespace on the Redis at `url` (a throwaway server, say).
    pub fn at(url: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            namespace: format!("conturs-test-{}", uuid::Uuid::new_v4().simple()),
        }
    }

    pub fn new() -> Self {
        Self {
            url: std::env::var(REDIS_URL_VAR).unwrap_or_else(|_| DEFAULT_REDIS_URL.to_owned()),
            namespace: format!("conturs-test-{}", uuid::Uuid::new_v4().simple()),
        }
    }

    /// A connection, failing loudly when Redis is not running.
    pub async fn connection(&self) -> redis::aio::MultiplexedConnection {
        let client = redis::Client::open(self.url.as_str()).expect("valid Redis URL");
        client
            .get_multiplexed_async_connection()
            .await
            .unwrap_or_else(|e| {
                panic!(
                    "Redis is required for these tests: cannot connect to {} ({e}); \
                     set {REDIS_URL_VAR} or run scripts/test, which starts one",
                    self.url
                )
            })
    }
}

impl Default for TestRedis {
    fn default() -> Self {
        Self::new()
    }
}

impl Drop for TestRedis {
    fn drop(&mut self) {
        let url = self.url.clone();
        let pattern = format!("*{}*", self.namespace);
        let _ = std::thread::spawn(move || -> redis::RedisResult<()> {
            let client = redis::Client::open(url.as_str())?;
            let mut conn = client.get_connection()?;
            // SCAN, not KEYS: never block a shared server.
            let keys = redis::Commands::scan_match::<_, String>(&mut conn, &pattern)?
                .collect::<Result<Vec<String>, _>>()?;
            for chunk in keys.chunks(500) {
                redis::cmd("DEL").arg(chunk).query::<()>(&mut conn)?;
            }
            Ok(())
        })
        .join();
    }
}
