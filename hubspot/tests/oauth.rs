//! OAuth against the simulator over real HTTP: install round trip, refresh ahead of expiry and
//! after HubSpot-side expiry under concurrency (exactly one refresh), revocation, disconnect.

mod common;

use std::sync::Arc;

use chrono::Utc;
use common::*;
use futures::future::join_all;
use hubspot::budget::Lane;
use hubspot::crm::ListRequest;
use hubspot::oauth::{InMemoryTokenStore, TokenStore};
use hubspot::{ErrorKind, ObjectType};
use secrecy::ExposeSecret;

const TOKEN_ENDPOINT: &str = "/token";

async fn first_page(
    client: &hubspot::HubSpotClient,
    portal: u64,
) -> Result<usize, hubspot::HubSpotError> {
    use futures::StreamExt;
    let portal_client = client.portal(portal, Lane::Realtime);
    let mut pages =
        Box::pin(portal_client.list_pages(ObjectType::Contacts, ListRequest::default()));
    let page = pages.next().await.expect("at least one page")?;
    Ok(page.objects.len())
}

#[tokio::test]
async fn install_round_trip_stores_tokens_for_the_right_portal() {
    let sim = start_sim(150, |_| {}).await;
    let store = Arc::new(InMemoryTokenStore::new());
    let client = local_client(&sim, generous_policy(), store.clone());
    let portal = connect(&client).await.expect("connects");
    assert_eq!(portal, sim.portal_id());

    let tokens = store.load(portal).await.unwrap().expect("tokens stored");
    assert!(tokens.expires_at > Utc::now() + chrono::Duration::minutes(25));
    assert!(
        tokens
            .scopes
            .iter()
            .any(|s| s == "crm.objects.contacts.write")
    );
    let info = client
        .tokens()
        .api()
        .token_info(tokens.access_token.expose_secret())
        .await
        .expect("token info");
    assert_eq!(info.hub_id, portal);
    assert_eq!(first_page(&client, portal).await.unwrap(), 100);
}

#[tokio::test]
async fn a_code_cannot_be_exchanged_twice() {
    let sim = start_sim(10, |_| {}).await;
    let client = local_client(&sim, generous_policy(), Arc::new(InMemoryTokenStore::new()));
    let signer = hubspot::oauth::StateSigner::new(b"k");
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let consent = http
        .get(client.install_url(&signer, None))
        .send()
        .await
        .unwrap();
    let callback = url::Url::parse(consent.headers()["location"].to_str().unwrap()).unwrap();
    let code = callback
        .query_pairs()
        .find(|(k, _)| k == "code")
        .unwrap()
        .1
        .into_owned();
    client
        .tokens()
        .connect(&code)
        .await
        .expect("first exchange");
    let err = client
        .tokens()
        .connect(&code)
        .await
        .expect_err("second exchange");
    assert_eq!(err.kind(), ErrorKind::NeedsReconnect, "{err}");
}

#[tokio::test]
async fn fifty_callers_after_server_side_expiry_cause_one_refresh_across_two_processes() {
    let sim = start_sim(150, |_| {}).await;
    let store = Arc::new(InMemoryTokenStore::new());
    let prefix = unique_prefix();
    // Two independent clients (two "processes") sharing the token store and Redis.
    let a = shared_client(&sim, generous_policy(), store.clone(), &prefix).await;
    let b = shared_client(&sim, generous_policy(), store.clone(), &prefix).await;
    let portal = connect(&a).await.unwrap();
    let token_calls_before = sim_requests(&sim, 0, TOKEN_ENDPOINT);
    let saves_before = store.save_count();

    // HubSpot expires the token early: our store still believes it is fresh, every caller
    // gets 401 EXPIRED_AUTHENTICATION at once.
    sim.state().expire_tokens(portal).unwrap();
    let calls = (0..50).map(|i| {
        let client = if i % 2 == 0 { a.clone() } else { b.clone() };
        async move { first_page(&client, portal).await }
    });
    let results = join_all(calls).await;
    for r in &results {
        assert_eq!(r.as_ref().expect("every caller succeeds"), &100);
    }
    assert_eq!(
        store.save_count() - saves_before,
        1,
        "exactly one refresh stored"
    );
    assert_eq!(
        sim_requests(&sim, 0, TOKEN_ENDPOINT) - token_calls_before,
        1,
        "exactly one refresh request reached HubSpot"
    );
}

#[tokio::test]
async fn tokens_near_expiry_are_refreshed_ahead_exactly_once() {
    let sim = start_sim(150, |_| {}).await;
    let store = Arc::new(InMemoryTokenStore::new());
    let prefix = unique_prefix();
    let a = shared_client(&sim, generous_policy(), store.clone(), &prefix).await;
    let b = shared_client(&sim, generous_policy(), store.clone(), &prefix).await;
    let portal = connect(&a).await.unwrap();
    // Our record says the token expires in one minute: inside the 5-minute margin.
    let mut tokens = store.load(portal).await.unwrap().unwrap();
    let old_access = tokens.access_token.expose_secret().to_owned();
    tokens.expires_at = Utc::now() + chrono::Duration::minutes(1);
    store.save(portal, tokens).await.unwrap();
    let token_calls_before = sim_requests(&sim, 0, TOKEN_ENDPOINT);

    let calls = (0..50).map(|i| {
        let manager = if i % 2 == 0 { a.clone() } else { b.clone() };
        async move { manager.tokens().access_token(portal).await }
    });
    let handed_out: Vec<String> = join_all(calls)
        .await
        .into_iter()
        .map(|r| r.expect("token").expose_secret().to_owned())
        .collect();
    assert_eq!(
        sim_requests(&sim, 0, TOKEN_ENDPOINT) - token_calls_before,
        1
    );
    assert!(
        handed_out.iter().all(|t| t == &handed_out[0]),
        "everyone got the new token"
    );
    assert_ne!(handed_out[0], old_access);
    let fresh = store.load(portal).await.unwrap().unwrap();
    assert!(fresh.expires_at > Utc::now() + chrono::Duration::minutes(25));
}

#[tokio::test]
async fn revoked_grant_needs_reconnect_without_a_retry_loop() {
    let sim = start_sim(150, |_| {}).await;
    let store = Arc::new(InMemoryTokenStore::new());
    let client = local_client(&sim, generous_policy(), store.clone());
    let portal = connect(&client).await.unwrap();
    assert!(sim.revoke_tokens(portal).unwrap() >= 2);
    let api_before = sim.stats().portals.get(&portal).map_or(0, |p| p.requests);
    let token_before = sim_requests(&sim, 0, TOKEN_ENDPOINT);

    let err = first_page(&client, portal).await.expect_err("revoked");
    assert_eq!(err.kind(), ErrorKind::NeedsReconnect, "{err}");
    assert!(err.is_permanent());
    let api_calls = sim.stats().portals.get(&portal).map_or(0, |p| p.requests) - api_before;
    let token_calls = sim_requests(&sim, 0, TOKEN_ENDPOINT) - token_before;
    assert!(api_calls <= 1, "one rejected API call, got {api_calls}");
    assert_eq!(token_calls, 1, "one refresh attempt, no loop");

    // Asking again does not hammer HubSpot's token endpoint with the dead grant.
    let again = first_page(&client, portal)
        .await
        .expect_err("still revoked");
    assert_eq!(again.kind(), ErrorKind::NeedsReconnect);
    assert_eq!(sim_requests(&sim, 0, TOKEN_ENDPOINT) - token_before, 1);
}

#[tokio::test]
async fn disconnect_revokes_the_refresh_token_and_forgets_tokens() {
    let sim = start_sim(20, |_| {}).await;
    let store = Arc::new(InMemoryTokenStore::new());
    let client = local_client(&sim, generous_policy(), store.clone());
    let portal = connect(&client).await.unwrap();
    let tokens = store.load(portal).await.unwrap().unwrap();
    client
        .tokens()
        .disconnect(portal)
        .await
        .expect("disconnects");
    assert!(store.load(portal).await.unwrap().is_none());
    let refused = client
        .tokens()
        .api()
        .refresh(&tokens)
        .await
        .expect_err("revoked");
    assert_eq!(refused.kind(), ErrorKind::NeedsReconnect);
    let unknown = client
        .tokens()
        .access_token(portal)
        .await
        .expect_err("no tokens");
    assert_eq!(unknown.kind(), ErrorKind::NeedsReconnect);
}
