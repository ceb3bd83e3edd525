//! The client: configuration, the app-level handle, and per-portal handles whose every request
//! goes budget → token → HTTP → classification → bounded retry.

use std::sync::Arc;
use std::time::Duration;

use platform::config::HubSpotSettings;
use reqwest::Method;
use secrecy::SecretString;
use serde::Serialize;
use serde::de::DeserializeOwned;
use url::Url;

use crate::budget::{Lane, LimitKind, RateBudget};
use crate::error::HubSpotError;
use crate::oauth::install::{
    OPTIONAL_SCOPES, REQUIRED_SCOPES, StateSigner, authorize_url_for, install_url,
};
use crate::oauth::refresh::{DEFAULT_REFRESH_MARGIN, TokenManager};
use crate::oauth::tokens::{AppCredentials, OAuthApi};
use crate::oauth::{RefreshCoordination, TokenStore};
use crate::paths::{ApiPaths, HubSpotApiVersion};
use crate::retry::{RateLimitWait, RetryPolicy, with_retries};
use crate::transport::{RawResponse, Transport};
use crate::usage::UsageCounter;

/// Everything needed to talk to HubSpot as the Conturs app.
#[derive(Debug, Clone)]
pub struct ClientConfig {
    pub base_url: Url,
    pub api_version: HubSpotApiVersion,
    pub app: AppCredentials,
    /// Per-request timeout; a timeout is retried as transient.
    pub request_timeout: Duration,
    pub retry: RetryPolicy,
    /// Refresh access tokens this long before they expire.
    pub refresh_margin: Duration,
}

impl ClientConfig {
    /// From plain values (tests, tools).
    pub fn new(
        base_url: Url,
        client_id: impl Into<String>,
        client_secret: SecretString,
        redirect_uri: Url,
    ) -> Self {
        Self {
            base_url,
            api_version: HubSpotApiVersion::V2026_03,
            app: AppCredentials {
                client_id: client_id.into(),
                client_secret,
                redirect_uri,
            },
            request_timeout: Duration::from_secs(30),
            retry: RetryPolicy::default(),
            refresh_margin: DEFAULT_REFRESH_MARGIN,
        }
    }

    /// From the process settings (`platform::config`).
    pub fn from_settings(settings: &HubSpotSettings) -> Self {
        let mut config = Self::new(
            settings.base_url.clone(),
            settings.client_id.clone(),
            settings.client_secret.clone(),
            settings.redirect_uri.clone(),
        );
        config.api_version = settings.api_version;
        config
    }
}

/// The app-level client; cheap to clone, share one per process.
#[derive(Clone)]
pub struct HubSpotClient {
    inner: Arc<Inner>,
}

struct Inner {
    transport: Transport,
    paths: ApiPaths,
    config: ClientConfig,
    budget: RateBudget,
    tokens: TokenManager,
    usage: UsageCounter,
}

impl std::fmt::Debug for HubSpotClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HubSpotClient")
            .field("base_url", &self.inner.config.base_url.as_str())
            .field("budget", &self.inner.budget)
            .finish_non_exhaustive()
    }
}

impl HubSpotClient {
    /// Builds the client. `coordination` must be [`RefreshCoordination::Redis`] whenever more
    /// than one process serves the same portals.
    pub fn new(
        config: ClientConfig,
        budget: RateBudget,
        store: Arc<dyn TokenStore>,
        coordination: RefreshCoordination,
    ) -> Result<Self, HubSpotError> {
        let http = reqwest::Client::builder()
            .timeout(config.request_timeout)
            .connect_timeout(Duration::from_secs(10))
            .user_agent("conturs-hubspot/0.1")
            .build()
            .map_err(|e| HubSpotError::Infrastructure(format!("HTTP client: {e}")))?;
        let transport = Transport::new(http, &config.base_url);
        let paths = ApiPaths::new(config.api_version);
        let api = OAuthApi::new(transport.clone(), paths, config.app.clone(), config.retry);
        Ok(Self {
            inner: Arc::new(Inner {
                transport,
                paths,
                tokens: TokenManager::new(api, store, coordination)
                    .with_margin(config.refresh_margin),
                config,
                budget,
                usage: UsageCounter::default(),
            }),
        })
    }

    /// The install URL with the required and optional scopes and a fresh signed `state`.
    pub fn install_url(&self, signer: &StateSigner, context: Option<&str>) -> Url {
        let state = signer.issue(context, chrono::Utc::now().timestamp_millis());
        install_url(
            &authorize_url_for(&self.inner.config.base_url),
            &self.inner.config.app.client_id,
            &self.inner.config.app.redirect_uri,
            REQUIRED_SCOPES,
            OPTIONAL_SCOPES,
            &state,
        )
    }

    pub fn tokens(&self) -> &TokenManager {
        &self.inner.tokens
    }

    pub fn paths(&self) -> &ApiPaths {
        &self.inner.paths
    }

    pub fn budget(&self) -> &RateBudget {
        &self.inner.budget
    }

    /// What this client has sent to each portal, per 10-second window, not yet drained: the
    /// process that owns the client writes it down for the portal page and `/metrics`.
    pub fn usage(&self) -> &UsageCounter {
        &self.inner.usage
    }

    /// A handle for one portal's CRM calls on one lane.
    pub fn portal(&self, portal_id: u64, lane: Lane) -> PortalClient {
        PortalClient {
            client: self.clone(),
            portal_id,
            lane,
        }
    }
}

/// CRM calls for one portal; every request draws from the portal's budget on `lane`.
#[derive(Debug, Clone)]
pub struct PortalClient {
    client: HubSpotClient,
    portal_id: u64,
    lane: Lane,
}

/// One CRM request, described once and sent as often as retries need.
pub(crate) struct Call<'a, B: Serialize + ?Sized> {
    pub endpoint: &'static str,
    pub method: Method,
    pub path: String,
    pub query: Vec<(&'static str, String)>,
    pub body: Option<&'a B>,
    pub kind: LimitKind,
}

impl PortalClient {
    pub fn portal_id(&self) -> u64 {
        self.portal_id
    }

    pub fn lane(&self) -> Lane {
        self.lane
    }

    pub(crate) fn paths(&self) -> &ApiPaths {
        &self.client.inner.paths
    }

    /// Sends with budget, token, retries; decodes a success body.
    pub(crate) async fn call<B, T>(&self, call: Call<'_, B>) -> Result<T, HubSpotError>
    where
        B: Serialize + ?Sized,
        T: DeserializeOwned,
    {
        self.call_raw(call).await?.json()
    }

    /// Sends with budget, token and retries; returns the successful raw answer.
    pub(crate) async fn call_raw<B>(&self, call: Call<'_, B>) -> Result<RawResponse, HubSpotError>
    where
        B: Serialize + ?Sized,
    {
        let inner = &self.client.inner;
        let url = inner.transport.url(&call.path);
        let refreshed = std::sync::atomic::AtomicBool::new(false);
        with_retries(
            &inner.config.retry,
            call.endpoint,
            RateLimitWait::InBudget,
            || async {
                inner
                    .budget
                    .acquire(self.portal_id, call.kind, self.lane)
                    .await?;
                let token = inner.tokens.access_token(self.portal_id).await?;
                let mut request = inner
                    .transport
                    .http
                    .request(call.method.clone(), &url)
                    .bearer_auth(secrecy::ExposeSecret::expose_secret(&token));
                if !call.query.is_empty() {
                    request = request.query(&call.query);
                }
                if let Some(body) = call.body {
                    request = request.json(body);
                }
                // Counted in the window it was sent in, as HubSpot's limit counts it.
                let sent_at = chrono::Utc::now().timestamp();
                let response = inner
                    .transport
                    .send_observed(call.endpoint, request, |outcome| {
                        inner
                            .usage
                            .record_at(self.portal_id, sent_at, call.kind, outcome);
                    })
                    .await?;
                self.adapt_to_headers(&response, call.kind).await;
                if response.is_success() {
                    return Ok(response);
                }
                match response.error() {
                    HubSpotError::Unauthorized { category } => {
                        if refreshed.swap(true, std::sync::atomic::Ordering::SeqCst) {
                            return Err(HubSpotError::NeedsReconnect {
                                reason: format!(
                                    "HubSpot rejected a freshly refreshed token ({category})"
                                ),
                            });
                        }
                        inner
                            .tokens
                            .replace_rejected(self.portal_id, &token)
                            .await?;
                        Err(HubSpotError::Transient {
                            reason: format!("access token rejected ({category}); refreshed"),
                            min_wait: Some(Duration::ZERO),
                        })
                    }
                    err @ HubSpotError::RateLimited { .. } => {
                        if let Some(pause) = err.required_wait() {
                            inner
                                .budget
                                .penalize(self.portal_id, call.kind, pause)
                                .await?;
                        }
                        Err(err)
                    }
                    other => Err(other),
                }
            },
        )
        .await
    }

    /// HubSpot tells us how much of the window is left; if it is nearly gone (another client
    /// of the same app, clock skew), pause the portal briefly instead of earning a 429.
    async fn adapt_to_headers(&self, response: &RawResponse, kind: LimitKind) {
        let Some(remaining) = response.header_u64("x-hubspot-ratelimit-remaining") else {
            return;
        };
        let pause = match remaining {
            0 => Duration::from_secs(1),
            1 => Duration::from_millis(200),
            _ => return,
        };
        tracing::debug!(
            portal = self.portal_id,
            remaining,
            "HubSpot rate window nearly used up; pausing"
        );
        if let Err(e) = self
            .client
            .inner
            .budget
            .penalize(self.portal_id, kind, pause)
            .await
        {
            tracing::warn!(portal = self.portal_id, error = %e, "could not record rate-limit pause");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_from_platform_settings_keeps_version_and_app() {
        let settings = HubSpotSettings {
            base_url: Url::parse("http://127.0.0.1:8090").unwrap(),
            client_id: "id-1".into(),
            client_secret: SecretString::from("s"),
            redirect_uri: Url::parse("https://c.example/cb").unwrap(),
            app_id: Some(7),
            api_version: HubSpotApiVersion::Legacy,
        };
        let config = ClientConfig::from_settings(&settings);
        assert_eq!(config.api_version, HubSpotApiVersion::Legacy);
        assert_eq!(config.app.client_id, "id-1");
        assert_eq!(config.app.redirect_uri.as_str(), "https://c.example/cb");
        assert_eq!(config.refresh_margin, DEFAULT_REFRESH_MARGIN);
        assert!(
            !format!("{config:?}").contains("\"s\""),
            "secret not in Debug"
        );
    }
}
