//! The OAuth token calls (API-FACTS §1): code exchange, refresh, token info and revocation.
//! They are app-level calls, not drawn from a portal's budget, but retried like any other.

use std::time::Duration;

use chrono::{DateTime, Utc};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use url::Url;

use crate::error::HubSpotError;
use crate::paths::ApiPaths;
use crate::retry::{RateLimitWait, RetryPolicy, with_retries};
use crate::transport::Transport;

/// A portal's OAuth tokens. Debug output never shows the secrets.
#[derive(Clone)]
pub struct TokenSet {
    pub access_token: SecretString,
    pub refresh_token: SecretString,
    pub expires_at: DateTime<Utc>,
    /// The HubSpot account (hub id) the tokens belong to.
    pub portal_id: u64,
    pub scopes: Vec<String>,
}

impl std::fmt::Debug for TokenSet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenSet")
            .field("portal_id", &self.portal_id)
            .field("expires_at", &self.expires_at)
            .field("scopes", &self.scopes)
            .finish_non_exhaustive()
    }
}

impl TokenSet {
    /// Whether the access token is good for at least `margin` more (HubSpot: refresh on
    /// `expires_in`, not on 401).
    pub fn is_fresh(&self, now: DateTime<Utc>, margin: Duration) -> bool {
        let margin = chrono::Duration::from_std(margin).unwrap_or(chrono::Duration::zero());
        self.expires_at - margin > now
    }
}

/// What HubSpot says about an access token (`GET /oauth/v1/access-tokens/{token}`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct AccessTokenInfo {
    pub hub_id: u64,
    #[serde(default)]
    pub app_id: Option<u64>,
    #[serde(default)]
    pub scopes: Vec<String>,
    #[serde(default)]
    pub expires_in: Option<i64>,
    #[serde(default)]
    pub user: Option<String>,
    #[serde(default)]
    pub user_id: Option<u64>,
    #[serde(default)]
    pub hub_domain: Option<String>,
}

#[derive(Deserialize)]
struct TokenResponse {
    access_token: String,
    refresh_token: Option<String>,
    expires_in: u64,
    #[serde(default)]
    hub_id: Option<u64>,
    #[serde(default)]
    scopes: Option<Vec<String>>,
}

/// The app's identity towards HubSpot's OAuth server.
#[derive(Clone)]
pub struct AppCredentials {
    pub client_id: String,
    pub client_secret: SecretString,
    pub redirect_uri: Url,
}

impl std::fmt::Debug for AppCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppCredentials")
            .field("client_id", &self.client_id)
            .field("redirect_uri", &self.redirect_uri.as_str())
            .finish_non_exhaustive()
    }
}

/// HTTP calls to HubSpot's OAuth endpoints.
#[derive(Debug, Clone)]
pub struct OAuthApi {
    transport: Transport,
    paths: ApiPaths,
    app: AppCredentials,
    retry: RetryPolicy,
}

impl OAuthApi {
    pub(crate) fn new(
        transport: Transport,
        paths: ApiPaths,
        app: AppCredentials,
        retry: RetryPolicy,
    ) -> Self {
        Self {
            transport,
            paths,
            app,
            retry,
        }
    }

    pub fn app(&self) -> &AppCredentials {
        &self.app
    }

    /// Exchanges the `code` from the OAuth callback for tokens; looks up the portal id when the
    /// token response does not carry `hub_id` (the v1 endpoint's example omits it).
    pub async fn exchange_code(&self, code: &str) -> Result<TokenSet, HubSpotError> {
        let redirect = self.app.redirect_uri.to_string();
        let form = [
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", redirect.as_str()),
            ("client_id", self.app.client_id.as_str()),
            ("client_secret", self.app.client_secret.expose_secret()),
        ];
        let response = self.token_call("oauth.exchange_code", &form).await?;
        self.to_token_set(response, None, None).await
    }

    /// Uses the refresh token; invalid, expired or revoked grants become
    /// [`HubSpotError::NeedsReconnect`].
    pub async fn refresh(&self, current: &TokenSet) -> Result<TokenSet, HubSpotError> {
        let form = [
            ("grant_type", "refresh_token"),
            ("refresh_token", current.refresh_token.expose_secret()),
            ("client_id", self.app.client_id.as_str()),
            ("client_secret", self.app.client_secret.expose_secret()),
        ];
        let response = self.token_call("oauth.refresh", &form).await?;
        self.to_token_set(response, Some(current), Some(current.portal_id))
            .await
    }

    /// Token metadata, chiefly the portal (hub) id of a fresh connection.
    pub async fn token_info(&self, access_token: &str) -> Result<AccessTokenInfo, HubSpotError> {
        let url = self
            .transport
            .url(&self.paths.access_token_info(access_token));
        let response = with_retries(
            &self.retry,
            "oauth.token_info",
            RateLimitWait::InRetry,
            || async {
                let r = self
                    .transport
                    .send("oauth.token_info", self.transport.http.get(&url))
                    .await?;
                if r.is_success() {
                    Ok(r)
                } else {
                    Err(r.error())
                }
            },
        )
        .await?;
        response.json()
    }

    /// Revokes a refresh token (disconnect). Already-unknown tokens count as revoked.
    pub async fn revoke(&self, refresh_token: &SecretString) -> Result<(), HubSpotError> {
        let url = self
            .transport
            .url(&self.paths.refresh_token(refresh_token.expose_secret()));
        let result = with_retries(
            &self.retry,
            "oauth.revoke",
            RateLimitWait::InRetry,
            || async {
                let r = self
                    .transport
                    .send("oauth.revoke", self.transport.http.delete(&url))
                    .await?;
                if r.is_success() {
                    Ok(())
                } else {
                    Err(r.error())
                }
            },
        )
        .await;
        match result {
            Err(HubSpotError::NotFound { .. }) | Err(HubSpotError::NeedsReconnect { .. }) => Ok(()),
            other => other,
        }
    }

    async fn token_call(
        &self,
        endpoint: &'static str,
        form: &[(&str, &str)],
    ) -> Result<TokenResponse, HubSpotError> {
        let url = self.transport.url(self.paths.oauth_token());
        let response = with_retries(&self.retry, endpoint, RateLimitWait::InRetry, || async {
            let r = self
                .transport
                .send(endpoint, self.transport.http.post(&url).form(form))
                .await?;
            if r.is_success() {
                Ok(r)
            } else {
                Err(match r.error() {
                    // The token endpoint answers 400 for bad codes/grants; 401/403 here also
                    // mean the grant or the app credentials are unusable.
                    HubSpotError::InvalidRequest { body, .. }
                        if body.error.as_deref() == Some("invalid_client") =>
                    {
                        HubSpotError::NeedsReconnect {
                            reason: format!("app credentials rejected: {}", body.message),
                        }
                    }
                    other => other,
                })
            }
        })
        .await?;
        response.json()
    }

    async fn to_token_set(
        &self,
        response: TokenResponse,
        previous: Option<&TokenSet>,
        known_portal: Option<u64>,
    ) -> Result<TokenSet, HubSpotError> {
        let portal_id = match response.hub_id.or(known_portal) {
            Some(id) => id,
            None => self.token_info(&response.access_token).await?.hub_id,
        };
        let refresh_token = match (response.refresh_token, previous) {
            (Some(fresh), _) => SecretString::from(fresh),
            (None, Some(prev)) => prev.refresh_token.clone(),
            (None, None) => {
                return Err(HubSpotError::transient(
                    "malformed body: token response without refresh_token",
                ));
            }
        };
        let scopes = response
            .scopes
            .or_else(|| previous.map(|p| p.scopes.clone()))
            .unwrap_or_default();
        Ok(TokenSet {
            access_token: SecretString::from(response.access_token),
            refresh_token,
            expires_at: Utc::now() + chrono::Duration::seconds(response.expires_in as i64),
            portal_id,
            scopes,
        })
    }
}
