//! Access tokens on demand: refreshed ahead of expiry, once per portal however many jobs ask at
//! the same moment, in this process (a per-portal mutex) and across processes (a Redis lock).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::Utc;
use redis::aio::ConnectionManager;
use secrecy::{ExposeSecret, SecretString};

use super::store::TokenStore;
use super::tokens::{OAuthApi, TokenSet};
use crate::error::HubSpotError;

/// Refresh this long before `expires_at` (API-FACTS §6: about 5 minutes).
pub const DEFAULT_REFRESH_MARGIN: Duration = Duration::from_secs(5 * 60);

/// How refreshes are kept single-flight.
#[derive(Clone)]
pub enum RefreshCoordination {
    /// One process only (embedded mode): an in-process mutex per portal suffices.
    Local,
    /// Many processes: a Redis lock per portal (`{prefix}refresh-lock:{portal}`).
    Redis {
        conn: ConnectionManager,
        prefix: String,
    },
}

impl std::fmt::Debug for RefreshCoordination {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Local => f.write_str("Local"),
            Self::Redis { prefix, .. } => write!(f, "Redis(prefix={prefix:?})"),
        }
    }
}

/// How long a refresh may hold the cross-process lock; a crashed holder frees it after this.
const LOCK_TTL: Duration = Duration::from_secs(30);
const LOCK_POLL: Duration = Duration::from_millis(50);
const RELEASE_LUA: &str = r"
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0";

/// Hands out valid access tokens for portals, refreshing them when needed.
pub struct TokenManager {
    api: OAuthApi,
    store: Arc<dyn TokenStore>,
    coordination: RefreshCoordination,
    margin: Duration,
    local_locks: Mutex<HashMap<u64, Arc<tokio::sync::Mutex<()>>>>,
    /// Refresh tokens HubSpot refused, so fifty callers do not each try a dead grant again.
    dead_grants: Mutex<HashMap<u64, String>>,
}

impl std::fmt::Debug for TokenManager {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenManager")
            .field("coordination", &self.coordination)
            .field("margin", &self.margin)
            .finish_non_exhaustive()
    }
}

impl TokenManager {
    pub fn new(
        api: OAuthApi,
        store: Arc<dyn TokenStore>,
        coordination: RefreshCoordination,
    ) -> Self {
        Self {
            api,
            store,
            coordination,
            margin: DEFAULT_REFRESH_MARGIN,
            local_locks: Mutex::new(HashMap::new()),
            dead_grants: Mutex::new(HashMap::new()),
        }
    }

    pub fn with_margin(mut self, margin: Duration) -> Self {
        self.margin = margin;
        self
    }

    pub fn api(&self) -> &OAuthApi {
        &self.api
    }

    pub fn store(&self) -> &Arc<dyn TokenStore> {
        &self.store
    }

    /// Completes an install: exchanges the callback `code` and stores the tokens under the
    /// portal id HubSpot reports.
    pub async fn connect(&self, code: &str) -> Result<TokenSet, HubSpotError> {
        let tokens = self.api.exchange_code(code).await?;
        self.save(&tokens).await?;
        self.dead_grants_map().remove(&tokens.portal_id);
        Ok(tokens)
    }

    /// Disconnect: revokes the refresh token at HubSpot and forgets the tokens.
    pub async fn disconnect(&self, portal: u64) -> Result<(), HubSpotError> {
        if let Some(tokens) = self.load(portal).await? {
            self.api.revoke(&tokens.refresh_token).await?;
        }
        self.store
            .delete(portal)
            .await
            .map_err(|e| HubSpotError::Infrastructure(e.to_string()))
    }

    /// A token valid for at least the refresh margin.
    pub async fn access_token(&self, portal: u64) -> Result<SecretString, HubSpotError> {
        let tokens = self.require(portal).await?;
        if tokens.is_fresh(Utc::now(), self.margin) {
            return Ok(tokens.access_token);
        }
        self.refresh_single_flight(portal, None).await
    }

    /// HubSpot rejected `rejected` (401): refresh once unless someone already replaced it.
    pub async fn replace_rejected(
        &self,
        portal: u64,
        rejected: &SecretString,
    ) -> Result<SecretString, HubSpotError> {
        self.refresh_single_flight(portal, Some(rejected.expose_secret()))
            .await
    }

    async fn refresh_single_flight(
        &self,
        portal: u64,
        rejected: Option<&str>,
    ) -> Result<SecretString, HubSpotError> {
        let local = self.local_lock(portal);
        let _in_process = local.lock().await;
        let tokens = self.require(portal).await?;
        if self.usable(&tokens, rejected) {
            return Ok(tokens.access_token);
        }
        match &self.coordination {
            RefreshCoordination::Local => self.refresh_now(tokens).await,
            RefreshCoordination::Redis { conn, prefix } => {
                self.refresh_with_redis_lock(conn.clone(), prefix, portal, rejected)
                    .await
            }
        }
    }

    async fn refresh_with_redis_lock(
        &self,
        mut conn: ConnectionManager,
        prefix: &str,
        portal: u64,
        rejected: Option<&str>,
    ) -> Result<SecretString, HubSpotError> {
        let key = format!("{prefix}refresh-lock:{portal}");
        let owner = uuid::Uuid::new_v4().to_string();
        let deadline = tokio::time::Instant::now() + LOCK_TTL * 2;
        loop {
            let acquired: Option<String> = redis::cmd("SET")
                .arg(&key)
                .arg(&owner)
                .arg("NX")
                .arg("PX")
                .arg(LOCK_TTL.as_millis() as u64)
                .query_async(&mut conn)
                .await
                .map_err(redis_failure)?;
            if acquired.is_some() {
                // Another process may have refreshed between our check and the lock.
                let result = match self.require(portal).await {
                    Ok(tokens) if self.usable(&tokens, rejected) => Ok(tokens.access_token),
                    Ok(tokens) => self.refresh_now(tokens).await,
                    Err(e) => Err(e),
                };
                let released: redis::RedisResult<i64> = redis::Script::new(RELEASE_LUA)
                    .key(&key)
                    .arg(&owner)
                    .invoke_async(&mut conn)
                    .await;
                if let Err(e) = released {
                    tracing::warn!(portal, error = %e, "could not release token refresh lock; it expires on its own");
                }
                return result;
            }
            tokio::time::sleep(LOCK_POLL).await;
            let tokens = self.require(portal).await?;
            if self.usable(&tokens, rejected) {
                return Ok(tokens.access_token);
            }
            if tokio::time::Instant::now() > deadline {
                return Err(HubSpotError::Infrastructure(format!(
                    "timed out waiting for another process to refresh portal {portal}'s token"
                )));
            }
        }
    }

    async fn refresh_now(&self, tokens: TokenSet) -> Result<SecretString, HubSpotError> {
        let portal = tokens.portal_id;
        let refresh = tokens.refresh_token.expose_secret().to_owned();
        if self.dead_grants_map().get(&portal) == Some(&refresh) {
            return Err(HubSpotError::NeedsReconnect {
                reason: "refresh token was already refused by HubSpot".to_owned(),
            });
        }
        match self.api.refresh(&tokens).await {
            Ok(fresh) => {
                self.save(&fresh).await?;
                metrics::counter!("hubspot_token_refreshes_total").increment(1);
                tracing::info!(portal, expires_at = %fresh.expires_at, "refreshed HubSpot access token");
                Ok(fresh.access_token)
            }
            Err(err @ HubSpotError::NeedsReconnect { .. }) => {
                self.dead_grants_map().insert(portal, refresh);
                Err(err)
            }
            Err(other) => Err(other),
        }
    }

    fn usable(&self, tokens: &TokenSet, rejected: Option<&str>) -> bool {
        tokens.is_fresh(Utc::now(), self.margin)
            && rejected != Some(tokens.access_token.expose_secret())
    }

    async fn load(&self, portal: u64) -> Result<Option<TokenSet>, HubSpotError> {
        self.store
            .load(portal)
            .await
            .map_err(|e| HubSpotError::Infrastructure(e.to_string()))
    }

    async fn require(&self, portal: u64) -> Result<TokenSet, HubSpotError> {
        self.load(portal)
            .await?
            .ok_or_else(|| HubSpotError::NeedsReconnect {
                reason: format!("no HubSpot tokens stored for portal {portal}"),
            })
    }

    async fn save(&self, tokens: &TokenSet) -> Result<(), HubSpotError> {
        self.store
            .save(tokens.portal_id, tokens.clone())
            .await
            .map_err(|e| HubSpotError::Infrastructure(e.to_string()))
    }

    fn local_lock(&self, portal: u64) -> Arc<tokio::sync::Mutex<()>> {
        let mut locks = self.local_locks.lock().unwrap_or_else(|p| p.into_inner());
        locks.entry(portal).or_default().clone()
    }

    fn dead_grants_map(&self) -> std::sync::MutexGuard<'_, HashMap<u64, String>> {
        self.dead_grants.lock().unwrap_or_else(|p| p.into_inner())
    }
}

fn redis_failure(e: redis::RedisError) -> HubSpotError {
    HubSpotError::Infrastructure(format!("token refresh lock (Redis) failed: {e}"))
}
