//! Shared set-up for the integration tests: a real simulator on a random port, a real Redis
//! (unique key prefix per test), and a client connected through the real OAuth flow.
#![allow(dead_code)]

use std::sync::Arc;
use std::time::Duration;

use hubspot::budget::{BudgetPolicy, RateBudget, RedisGcra};
use hubspot::oauth::{InMemoryTokenStore, RefreshCoordination, StateSigner};
use hubspot::retry::RetryPolicy;
use hubspot::{ClientConfig, HubSpotClient, HubSpotError};
use hubspot_sim::{RunningSimulator, SimConfig, Simulator};
use redis::aio::ConnectionManager;
use secrecy::SecretString;
use url::Url;

pub const CLIENT_ID: &str = "conturs-test-client";
pub const CLIENT_SECRET: &str = "conturs-test-secret";
pub const REDIRECT_URI: &str = "http://localhost:9/oauth/hubspot/callback";

pub fn redis_url() -> String {
    std::env::var("CONTURS_TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into())
}

/// A fresh key namespace so tests sharing one Redis never see each other's keys.
pub fn unique_prefix() -> String {
    format!("test:{}:", uuid::Uuid::new_v4().simple())
}

/// Connects to the test Redis or fails the test with instructions (never skips).
pub async fn redis() -> ConnectionManager {
    let url = redis_url();
    let client = redis::Client::open(url.as_str())
        .unwrap_or_else(|e| panic!("CONTURS_TEST_REDIS_URL={url} is not a Redis URL: {e}"));
    match tokio::time::timeout(Duration::from_secs(5), ConnectionManager::new(client)).await {
        Ok(Ok(conn)) => conn,
        Ok(Err(e)) => panic!(
            "Redis is required for this test but {url} is unreachable ({e}); start redis-server \
             or set CONTURS_TEST_REDIS_URL"
        ),
        Err(_) => panic!(
            "Redis at {url} did not answer within 5 s; start redis-server or set CONTURS_TEST_REDIS_URL"
        ),
    }
}

pub async fn start_sim(contacts: usize, tweak: impl FnOnce(&mut SimConfig)) -> RunningSimulator {
    let mut config = SimConfig::new(CLIENT_ID, CLIENT_SECRET);
    config.contacts = contacts;
    config.seed = 7;
    tweak(&mut config);
    Simulator::start(config).await.expect("simulator starts")
}

/// Retries fast enough for tests, bounded like production.
pub fn quick_retry() -> RetryPolicy {
    RetryPolicy {
        max_retries: 8,
        max_rate_limit_retries: 12,
        min_delay: Duration::from_millis(20),
        max_delay: Duration::from_millis(400),
    }
}

pub fn client_config(sim: &RunningSimulator) -> ClientConfig {
    let mut config = ClientConfig::new(
        Url::parse(&sim.base_url()).expect("sim URL"),
        CLIENT_ID,
        SecretString::from(CLIENT_SECRET),
        Url::parse(REDIRECT_URI).expect("redirect"),
    );
    config.retry = quick_retry();
    config
}

/// A budget that does not slow tests whose subject is not rate limiting.
pub fn generous_policy() -> BudgetPolicy {
    BudgetPolicy {
        requests_per_window: 100_000,
        window: Duration::from_secs(10),
        realtime_burst: 200,
        bulk_burst: 100,
        search_per_second: 4,
    }
}

pub fn local_client(
    sim: &RunningSimulator,
    policy: BudgetPolicy,
    store: Arc<InMemoryTokenStore>,
) -> HubSpotClient {
    HubSpotClient::new(
        client_config(sim),
        RateBudget::local(policy).expect("policy"),
        store,
        RefreshCoordination::Local,
    )
    .expect("client")
}

pub async fn shared_client(
    sim: &RunningSimulator,
    policy: BudgetPolicy,
    store: Arc<InMemoryTokenStore>,
    prefix: &str,
) -> HubSpotClient {
    let budget = RateBudget::shared(policy, RedisGcra::new(redis().await, prefix)).expect("policy");
    HubSpotClient::new(
        client_config(sim),
        budget,
        store,
        RefreshCoordination::Redis {
            conn: redis().await,
            prefix: prefix.to_owned(),
        },
    )
    .expect("client")
}

/// The whole browser-less install: install URL → simulator consent redirect → state check →
/// code exchange. Returns the connected portal id.
pub async fn connect(client: &HubSpotClient) -> Result<u64, HubSpotError> {
    let signer = StateSigner::new(b"test-state-key");
    let install = client.install_url(&signer, Some("account-1"));
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("http");
    let consent = http.get(install).send().await.expect("authorize answers");
    assert_eq!(
        consent.status().as_u16(),
        302,
        "simulator approves and redirects"
    );
    let location = consent
        .headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .expect("Location header");
    let callback = Url::parse(location).expect("callback URL");
    assert!(callback.as_str().starts_with(REDIRECT_URI));
    let params: std::collections::HashMap<_, _> = callback.query_pairs().into_owned().collect();
    let claims = signer
        .verify(&params["state"], chrono::Utc::now().timestamp_millis())
        .expect("state survives the round trip");
    assert_eq!(claims.context.as_deref(), Some("account-1"));
    Ok(client.tokens().connect(&params["code"]).await?.portal_id)
}

/// Requests the simulator saw for one endpoint label (e.g. `POST /oauth/{version}/token`).
pub fn sim_requests(sim: &RunningSimulator, portal: u64, endpoint_suffix: &str) -> u64 {
    sim.stats()
        .portals
        .get(&portal)
        .map(|p| {
            p.requests_by_endpoint
                .iter()
                .filter(|(k, _)| k.ends_with(endpoint_suffix))
                .map(|(_, v)| *v)
                .sum()
        })
        .unwrap_or(0)
}
