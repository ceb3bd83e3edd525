//! The shared budget: one atomic Lua GCRA step per request in Redis, keyed per portal, so every
//! worker and API process draws from the same 110/10 s allowance.

use std::time::Duration;

use redis::Script;
use redis::aio::ConnectionManager;

use super::policy::{BudgetPolicy, Lane, LimitKind};

const GCRA_LUA: &str = include_str!("gcra.lua");

/// Redis-side GCRA; cheap to clone (the connection manager multiplexes and reconnects).
#[derive(Clone)]
pub struct RedisGcra {
    conn: ConnectionManager,
    script: Script,
    prefix: String,
}

impl std::fmt::Debug for RedisGcra {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "RedisGcra(prefix={:?})", self.prefix)
    }
}

impl RedisGcra {
    /// `prefix` namespaces the keys (`{prefix}budget:{portal}:{api|search}`), so tests and
    /// deployments sharing a Redis never collide.
    pub fn new(conn: ConnectionManager, prefix: impl Into<String>) -> Self {
        Self {
            conn,
            script: Script::new(GCRA_LUA),
            prefix: prefix.into(),
        }
    }

    /// Connects with reconnection handled by `redis`' connection manager.
    pub async fn connect(url: &str, prefix: impl Into<String>) -> redis::RedisResult<Self> {
        let client = redis::Client::open(url)?;
        let conn = ConnectionManager::new(client).await?;
        Ok(Self::new(conn, prefix))
    }

    fn key(&self, portal: u64, kind: LimitKind) -> String {
        format!("{}budget:{portal}:{}", self.prefix, kind.as_str())
    }

    /// One admission attempt: `None` when admitted, `Some(wait)` when refused.
    pub async fn try_take(
        &self,
        policy: &BudgetPolicy,
        portal: u64,
        kind: LimitKind,
        lane: Lane,
    ) -> redis::RedisResult<Option<Duration>> {
        let (allowed, wait_us): (i64, i64) = self
            .script
            .key(self.key(portal, kind))
            .arg(policy.emission_us(kind))
            .arg(policy.capacity(kind, lane))
            .arg(0)
            .invoke_async(&mut self.conn.clone())
            .await?;
        Ok((allowed == 0).then(|| Duration::from_micros(wait_us.max(1) as u64)))
    }

    /// Pauses every process's requests for this portal until `pause` has passed (after a 429).
    pub async fn penalize(
        &self,
        policy: &BudgetPolicy,
        portal: u64,
        kind: LimitKind,
        pause: Duration,
    ) -> redis::RedisResult<()> {
        let e = policy.emission_us(kind);
        // TAT such that even the realtime lane waits `pause`.
        let push =
            pause.as_micros() as u64 + policy.capacity(kind, Lane::Realtime).saturating_sub(1) * e;
        let _: (i64, i64) = self
            .script
            .key(self.key(portal, kind))
            .arg(e)
            .arg(policy.capacity(kind, Lane::Realtime))
            .arg(push.max(1))
            .invoke_async(&mut self.conn.clone())
            .await?;
        Ok(())
    }
}
