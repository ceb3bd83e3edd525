use std::time::{Duration, Instant};

use hubspot_sim::FaultConfig;

use crate::helpers::{assert_error, json, spawn};

#[tokio::test]
async fn server_errors_and_locks() {
    let t = spawn(10).await;
    t.sim
        .set_faults(
            t.portal,
            FaultConfig {
                server_error_rate: 1.0,
                server_error_status: 502,
                ..Default::default()
            },
        )
        .expect("portal");
    let response = t.get("/crm/v3/objects/contacts").await;
    assert!(response.headers().contains_key("x-hubspot-correlation-id"));
    let (status, body) = json(response).await;
    assert_eq!(status, 502);
    assert_error(&body, "INTERNAL_ERROR");
    t.sim
        .set_faults(
            t.portal,
            FaultConfig {
                locked_rate: 1.0,
                ..Default::default()
            },
        )
        .expect("portal");
    assert_eq!(
        t.get("/crm/v3/objects/contacts").await.status().as_u16(),
        423
    );
    t.sim
        .set_faults(
            t.portal,
            FaultConfig {
                server_error_rate: 0.5,
                ..Default::default()
            },
        )
        .expect("portal");
    let mut errors = 0;
    for _ in 0..60 {
        if t.get("/crm/v3/objects/contacts?limit=1")
            .await
            .status()
            .as_u16()
            == 500
        {
            errors += 1;
        }
    }
    assert!(
        (10..=50).contains(&errors),
        "about half should fail, got {errors}"
    );
    t.sim
        .set_faults(t.portal, FaultConfig::default())
        .expect("portal");
    assert_eq!(
        t.get("/crm/v3/objects/contacts").await.status().as_u16(),
        200
    );
}

#[tokio::test]
async fn dropped_connections_malformed_bodies_and_latency() {
    let t = spawn(10).await;
    t.sim
        .set_faults(
            t.portal,
            FaultConfig {
                drop_rate: 1.0,
                ..Default::default()
            },
        )
        .expect("portal");
    let outcome = t
        .http
        .get(t.url("/crm/v3/objects/contacts"))
        .bearer_auth(&t.token)
        .send()
        .await;
    let failed = match outcome {
        Err(_) => true,
        Ok(response) => response.bytes().await.is_err(),
    };
    assert!(failed, "the connection must break");

    t.sim
        .set_faults(
            t.portal,
            FaultConfig {
                malformed_rate: 1.0,
                ..Default::default()
            },
        )
        .expect("portal");
    let response = t.get("/crm/v3/objects/contacts").await;
    assert_eq!(response.status().as_u16(), 200);
    assert!(
        response.json::<serde_json::Value>().await.is_err(),
        "body must not parse"
    );

    t.sim
        .set_faults(
            t.portal,
            FaultConfig {
                latency_ms: 300,
                ..Default::default()
            },
        )
        .expect("portal");
    let started = Instant::now();
    assert_eq!(
        t.get("/crm/v3/objects/contacts").await.status().as_u16(),
        200
    );
    assert!(started.elapsed() >= Duration::from_millis(300));
}

#[tokio::test]
async fn rate_limit_storm_and_token_revocation() {
    let t = spawn(10).await;
    t.sim
        .rate_limit_storm(t.portal, Duration::from_millis(300))
        .expect("portal");
    let (status, body) = json(t.get("/crm/v3/objects/contacts").await).await;
    assert_eq!(status, 429);
    assert_eq!(body["policyName"], "TEN_SECONDLY_ROLLING");
    tokio::time::sleep(Duration::from_millis(350)).await;
    assert_eq!(
        t.get("/crm/v3/objects/contacts").await.status().as_u16(),
        200
    );

    assert!(t.sim.revoke_tokens(t.portal).expect("portal") >= 2);
    let (status, body) = json(t.get("/crm/v3/objects/contacts").await).await;
    assert_eq!(status, 401);
    assert_error(&body, "INVALID_AUTHENTICATION");
}

#[tokio::test]
async fn faults_are_per_portal() {
    let t = spawn(10).await;
    let other = t
        .sim
        .create_portal(hubspot_sim::generator::GeneratorConfig::new(3, 10))
        .await
        .expect("generated");
    t.sim
        .set_faults(
            other,
            FaultConfig {
                server_error_rate: 1.0,
                ..Default::default()
            },
        )
        .expect("portal");
    let other_token = t.sim.issue_tokens(other).expect("portal").access_token;
    let broken = t
        .http
        .get(t.url("/crm/v3/objects/contacts"))
        .bearer_auth(other_token)
        .send()
        .await
        .expect("sent");
    assert_eq!(broken.status().as_u16(), 500);
    assert_eq!(
        t.get("/crm/v3/objects/contacts").await.status().as_u16(),
        200
    );
}
