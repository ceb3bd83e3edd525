use std::time::Duration;

use serde_json::Value;

use crate::helpers::{CLIENT_ID, CLIENT_SECRET, assert_error, json, spawn, spawn_with};

const REDIRECT: &str = "http://localhost:9999/oauth/callback";

async fn authorize(t: &crate::helpers::TestSim, scope: &str) -> String {
    let response = t
        .http
        .get(t.url("/oauth/authorize"))
        .query(&[
            ("client_id", CLIENT_ID),
            ("redirect_uri", REDIRECT),
            ("scope", scope),
            ("state", "csrf-123"),
        ])
        .send()
        .await
        .expect("sent");
    assert_eq!(response.status().as_u16(), 302);
    let location = response.headers()["location"]
        .to_str()
        .expect("ascii")
        .to_owned();
    let url = url::Url::parse(&location).expect("absolute redirect");
    assert!(location.starts_with(REDIRECT));
    let pairs: std::collections::HashMap<String, String> = url.query_pairs().into_owned().collect();
    assert_eq!(pairs["state"], "csrf-123");
    pairs["code"].clone()
}

async fn token(t: &crate::helpers::TestSim, path: &str, form: &[(&str, &str)]) -> (u16, Value) {
    json(
        t.http
            .post(t.url(path))
            .form(form)
            .send()
            .await
            .expect("sent"),
    )
    .await
}

#[tokio::test]
async fn authorization_code_flow_and_refresh() {
    let t = spawn(5).await;
    let code = authorize(&t, "crm.objects.contacts.read crm.objects.contacts.write").await;
    let (status, tokens) = token(
        &t,
        "/oauth/v1/token",
        &[
            ("grant_type", "authorization_code"),
            ("client_id", CLIENT_ID),
            ("client_secret", CLIENT_SECRET),
            ("redirect_uri", REDIRECT),
            ("code", &code),
        ],
    )
    .await;
    assert_eq!(status, 200, "{tokens}");
    assert_eq!(tokens["token_type"], "bearer");
    assert_eq!(tokens["expires_in"], 1800);
    assert_eq!(tokens["hub_id"], t.portal);
    let scopes = tokens["scopes"].as_array().expect("scopes");
    assert!(
        scopes.iter().any(|s| s == "oauth")
            && scopes.iter().any(|s| s == "crm.objects.contacts.read")
    );
    let access = tokens["access_token"].as_str().expect("access").to_owned();
    let refresh = tokens["refresh_token"]
        .as_str()
        .expect("refresh")
        .to_owned();

    let (status, _) = token(
        &t,
        "/oauth/v1/token",
        &[
            ("grant_type", "authorization_code"),
            ("client_id", CLIENT_ID),
            ("client_secret", CLIENT_SECRET),
            ("redirect_uri", REDIRECT),
            ("code", &code),
        ],
    )
    .await;
    assert_eq!(status, 400, "codes are single use");

    let response = t
        .http
        .get(t.url("/crm/v3/objects/contacts"))
        .bearer_auth(&access)
        .send()
        .await
        .expect("sent");
    assert_eq!(response.status().as_u16(), 200);

    let (status, info) = json(
        t.http
            .get(t.url(&format!("/oauth/v1/access-tokens/{access}")))
            .send()
            .await
            .expect("sent"),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(info["hub_id"], t.portal);
    assert_eq!(info["token_type"], "access");
    for key in ["app_id", "expires_in", "scopes", "token", "user_id"] {
        assert!(info.get(key).is_some(), "missing {key}");
    }

    let (status, refreshed) = token(
        &t,
        "/oauth/v3/token",
        &[
            ("grant_type", "refresh_token"),
            ("client_id", CLIENT_ID),
            ("client_secret", CLIENT_SECRET),
            ("refresh_token", &refresh),
        ],
    )
    .await;
    assert_eq!(status, 200);
    assert_ne!(refreshed["access_token"], tokens["access_token"]);

    let (status, refresh_info) = json(
        t.http
            .get(t.url(&format!("/oauth/v1/refresh-tokens/{refresh}")))
            .send()
            .await
            .expect("sent"),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(refresh_info["client_id"], CLIENT_ID);

    let deleted = t
        .http
        .delete(t.url(&format!("/oauth/v1/refresh-tokens/{refresh}")))
        .send()
        .await
        .expect("sent");
    assert_eq!(deleted.status().as_u16(), 204);
    let (status, error) = token(
        &t,
        "/oauth/2026-03/token",
        &[
            ("grant_type", "refresh_token"),
            ("client_id", CLIENT_ID),
            ("client_secret", CLIENT_SECRET),
            ("refresh_token", &refresh),
        ],
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(error["status"], "BAD_REFRESH_TOKEN");
    assert_eq!(error["error"], "invalid_grant");
    assert_eq!(
        error["message"],
        "refresh token is invalid, expired or revoked"
    );
    let still = t
        .http
        .get(t.url("/crm/v3/objects/contacts"))
        .bearer_auth(&access)
        .send()
        .await
        .expect("sent");
    assert_eq!(
        still.status().as_u16(),
        200,
        "deleting the refresh token leaves access tokens"
    );
}

#[tokio::test]
async fn token_endpoint_rejects_bad_clients_codes_and_grants() {
    let t = spawn(5).await;
    let (status, body) = token(
        &t,
        "/oauth/v1/token",
        &[("grant_type", "refresh_token"), ("client_id", "nope")],
    )
    .await;
    assert_eq!(
        (status, body["status"].as_str()),
        (400, Some("BAD_CLIENT_ID"))
    );
    let (status, body) = token(
        &t,
        "/oauth/v1/token",
        &[
            ("grant_type", "authorization_code"),
            ("client_id", CLIENT_ID),
            ("client_secret", "wrong"),
        ],
    )
    .await;
    assert_eq!(
        (status, body["status"].as_str()),
        (400, Some("BAD_CLIENT_SECRET"))
    );
    let (status, body) = token(
        &t,
        "/oauth/v1/token",
        &[
            ("grant_type", "authorization_code"),
            ("client_id", CLIENT_ID),
            ("client_secret", CLIENT_SECRET),
            ("redirect_uri", REDIRECT),
            ("code", "bogus"),
        ],
    )
    .await;
    assert_eq!(
        (status, body["status"].as_str()),
        (400, Some("BAD_AUTH_CODE"))
    );
    let code = authorize(&t, "crm.objects.contacts.read").await;
    let (status, body) = token(
        &t,
        "/oauth/v1/token",
        &[
            ("grant_type", "authorization_code"),
            ("client_id", CLIENT_ID),
            ("client_secret", CLIENT_SECRET),
            ("redirect_uri", "http://evil/cb"),
            ("code", &code),
        ],
    )
    .await;
    assert_eq!(
        (status, body["status"].as_str()),
        (400, Some("BAD_REDIRECT_URI"))
    );
    let (status, body) = token(
        &t,
        "/oauth/v1/token",
        &[
            ("grant_type", "password"),
            ("client_id", CLIENT_ID),
            ("client_secret", CLIENT_SECRET),
        ],
    )
    .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("unsupported_grant_type"))
    );
    let bad_client = t
        .http
        .get(t.url("/oauth/authorize?client_id=other&redirect_uri=http://x/cb"))
        .send()
        .await
        .expect("sent");
    assert_eq!(bad_client.status().as_u16(), 400);
}

#[tokio::test]
async fn expired_unknown_and_underscoped_tokens() {
    let t = spawn_with(5, |c| c.access_token_ttl = Duration::from_secs(1)).await;
    let ok = t.get("/crm/v3/objects/contacts").await;
    assert_eq!(ok.status().as_u16(), 200);
    tokio::time::sleep(Duration::from_millis(1_100)).await;
    let (status, body) = json(t.get("/crm/v3/objects/contacts").await).await;
    assert_eq!(status, 401);
    assert_error(&body, "EXPIRED_AUTHENTICATION");
    assert!(
        body["message"]
            .as_str()
            .is_some_and(|m| m.starts_with("The OAuth token used to make this call expired"))
    );
    assert!(
        body["context"]["expire time"][0]
            .as_str()
            .is_some_and(|s| s.ends_with('Z'))
    );

    let (status, body) = json(
        t.http
            .get(t.url("/crm/v3/objects/contacts"))
            .bearer_auth("nonsense")
            .send()
            .await
            .expect("sent"),
    )
    .await;
    assert_eq!(status, 401);
    assert_error(&body, "INVALID_AUTHENTICATION");
    let (status, body) = json(
        t.http
            .get(t.url("/crm/v3/objects/contacts"))
            .send()
            .await
            .expect("sent"),
    )
    .await;
    assert_eq!(status, 401);
    assert_error(&body, "INVALID_AUTHENTICATION");

    let narrow = t
        .sim
        .issue_tokens_with(t.portal, &["crm.objects.contacts.read"])
        .expect("portal");
    let (status, body) = json(
        t.http
            .post(t.url("/crm/v3/objects/contacts/batch/update"))
            .bearer_auth(&narrow.access_token)
            .json(&serde_json::json!({"inputs": []}))
            .send()
            .await
            .expect("sent"),
    )
    .await;
    assert_eq!(status, 403);
    assert_error(&body, "MISSING_SCOPES");
    assert_eq!(
        body["errors"][0]["context"]["requiredGranularScopes"][0],
        "crm.objects.contacts.write"
    );
}

#[tokio::test]
async fn private_app_token_is_a_static_bearer_with_daily_headers() {
    let t = spawn_with(5, |c| {
        c.private_app_token = Some("pat-na1-static".to_owned());
        c.limits.private_app_per_window = 190;
    })
    .await;
    let response = t
        .http
        .get(t.url("/crm/v3/objects/companies"))
        .bearer_auth("pat-na1-static")
        .send()
        .await
        .expect("sent");
    assert_eq!(response.status().as_u16(), 200);
    assert_eq!(response.headers()["x-hubspot-ratelimit-max"], "190");
    assert_eq!(response.headers()["x-hubspot-ratelimit-daily"], "250000");
    assert!(
        response
            .headers()
            .contains_key("x-hubspot-ratelimit-daily-remaining")
    );
    let oauth = t.get("/crm/v3/objects/companies").await;
    assert!(
        !oauth.headers().contains_key("x-hubspot-ratelimit-daily"),
        "no daily headers for OAuth"
    );
}

#[tokio::test]
async fn introspect_and_revoke_accept_both_field_names() {
    let t = spawn(5).await;
    let pair = t.sim.issue_tokens(t.portal).expect("portal");
    let post = |path: &'static str, form: Vec<(&'static str, String)>| {
        let http = t.http.clone();
        let url = t.url(path);
        async move { http.post(url).form(&form).send().await.expect("sent") }
    };
    let client = || {
        vec![
            ("client_id", CLIENT_ID.to_owned()),
            ("client_secret", CLIENT_SECRET.to_owned()),
        ]
    };
    let mut by_token = client();
    by_token.push(("token", pair.access_token.clone()));
    let (status, body) = json(post("/oauth/v3/token/introspect", by_token).await).await;
    assert_eq!(status, 200);
    assert_eq!(
        (body["active"].as_bool(), body["token_use"].as_str()),
        (Some(true), Some("access_token"))
    );
    assert_eq!(body["hub_id"], t.portal);
    let mut by_field = client();
    by_field.push(("refresh_token", pair.refresh_token.clone()));
    let (_, body) = json(post("/oauth/v3/token/introspect", by_field).await).await;
    assert_eq!(body["token_use"], "refresh_token");

    let mut revoke = client();
    revoke.push(("token", pair.refresh_token.clone()));
    revoke.push(("token_type_hint", "refresh_token".to_owned()));
    assert_eq!(
        post("/oauth/2026-03/token/revoke", revoke)
            .await
            .status()
            .as_u16(),
        200
    );
    let mut again = client();
    again.push(("refresh_token", pair.refresh_token.clone()));
    let (_, body) = json(post("/oauth/v3/token/introspect", again).await).await;
    assert_eq!(body, serde_json::json!({"active": false}));
    let (status, _) = json(
        post(
            "/oauth/v3/token/introspect",
            vec![("client_id", "x".to_owned())],
        )
        .await,
    )
    .await;
    assert_eq!(status, 400);
}
