//! One typed configuration for a simulator instance; nothing else reads the environment.

use std::net::SocketAddr;
use std::time::Duration;

/// How a simulator instance behaves. `SimConfig::new(client_id, client_secret)` gives HubSpot's
/// real limits and an empty default portal; set `contacts` to generate one.
#[derive(Clone, Debug)]
pub struct SimConfig {
    /// Address to bind; port 0 picks a free port.
    pub bind: SocketAddr,
    /// Seed and size of the portal generated at start (0 contacts = an empty portal).
    pub seed: u64,
    pub contacts: usize,
    pub client_id: String,
    pub client_secret: String,
    pub app_id: u64,
    /// Static bearer token accepted like a HubSpot private-app token for the default portal.
    pub private_app_token: Option<String>,
    /// Pre-configures the app's webhook target and subscribes to creation, deletion and
    /// property changes of the generated properties.
    pub webhook_url: Option<String>,
    /// Developer API key (`?hapikey=`) for the webhook settings API.
    pub developer_api_key: String,
    /// Access-token lifetime (`expires_in`); HubSpot uses 30 minutes.
    pub access_token_ttl: Duration,
    /// Authorization-code lifetime.
    pub auth_code_ttl: Duration,
    pub limits: RateLimits,
    /// How long a change takes to show up in search results.
    pub search_index_lag: Duration,
    /// Maximum associations per result page in v4 batch read.
    pub association_page_size: usize,
    pub webhooks: WebhookKnobs,
}

/// Request budgets, per (app, portal) for the burst window and per portal for search.
#[derive(Clone, Debug)]
pub struct RateLimits {
    pub window: Duration,
    /// OAuth apps: 110 per 10 s.
    pub oauth_per_window: u32,
    /// Private apps: 100 (Free/Starter), 190 (Pro/Enterprise), 250 (add-on).
    pub private_app_per_window: u32,
    /// Private apps: daily budget reported in the `-Daily` headers.
    pub private_app_daily: u32,
    pub search_per_second: u32,
}

impl Default for RateLimits {
    fn default() -> Self {
        Self {
            window: Duration::from_secs(10),
            oauth_per_window: 110,
            private_app_per_window: 100,
            private_app_daily: 250_000,
            search_per_second: 5,
        }
    }
}

/// Webhook delivery behaviour; delays are HubSpot-like but scalable for tests.
#[derive(Clone, Debug)]
pub struct WebhookKnobs {
    /// How long events wait to be batched together.
    pub batch_window: Duration,
    pub timeout: Duration,
    pub max_retries: u32,
    /// First retry delay before jitter and scaling; doubles each attempt.
    pub retry_base_delay: Duration,
    /// Multiplies every retry delay (e.g. 0.001 in tests).
    pub retry_delay_scale: f64,
    /// Probability that a batch is delivered twice.
    pub duplicate_rate: f64,
    /// Shuffle events within each batch.
    pub reorder: bool,
}

impl Default for WebhookKnobs {
    fn default() -> Self {
        Self {
            batch_window: Duration::from_millis(50),
            timeout: Duration::from_secs(5),
            max_retries: 10,
            retry_base_delay: Duration::from_secs(60),
            retry_delay_scale: 1.0,
            duplicate_rate: 0.0,
            reorder: false,
        }
    }
}

impl SimConfig {
    /// HubSpot's real limits and lifetimes, an empty portal, port 0 on localhost.
    pub fn new(client_id: impl Into<String>, client_secret: impl Into<String>) -> Self {
        Self {
            bind: SocketAddr::from(([127, 0, 0, 1], 0)),
            seed: 1,
            contacts: 0,
            client_id: client_id.into(),
            client_secret: client_secret.into(),
            app_id: 1_000_001,
            private_app_token: None,
            webhook_url: None,
            developer_api_key: "dev-api-key".to_owned(),
            access_token_ttl: Duration::from_secs(1800),
            auth_code_ttl: Duration::from_secs(600),
            limits: RateLimits::default(),
            search_index_lag: Duration::ZERO,
            association_page_size: 500,
            webhooks: WebhookKnobs::default(),
        }
    }
}
