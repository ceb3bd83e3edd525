use futures::future::join_all;
use serde_json::json;

use crate::helpers::{json, spawn, spawn_with};

#[tokio::test]
async fn ten_second_window_admits_exactly_110_under_concurrency() {
    let t = spawn(20).await;
    let requests = (0..150).map(|_| t.get("/crm/v3/objects/contacts?limit=1"));
    let responses = join_all(requests).await;
    let mut ok = 0;
    let mut limited = Vec::new();
    for response in responses {
        match response.status().as_u16() {
            200 => ok += 1,
            429 => limited.push(json(response).await.1),
            other => panic!("unexpected status {other}"),
        }
    }
    assert_eq!(ok, 110);
    assert_eq!(limited.len(), 40);
    let body = &limited[0];
    assert_eq!(body["policyName"], "TEN_SECONDLY_ROLLING");
    assert_eq!(body["errorType"], "RATE_LIMIT");
    assert_eq!(
        body["message"],
        "You have reached your ten_secondly_rolling limit."
    );
    let stats = t.sim.stats();
    assert_eq!(stats.portals[&t.portal].rate_limited, 40);
    assert_eq!(stats.portals[&t.portal].peak_window_requests, 110);
}

#[tokio::test]
async fn remaining_header_counts_down_and_window_rolls() {
    let t = spawn_with(5, |c| {
        c.limits.oauth_per_window = 3;
        c.limits.window = std::time::Duration::from_millis(1_500);
    })
    .await;
    let mut remaining = Vec::new();
    for _ in 0..3 {
        let response = t.get("/crm/v3/objects/contacts").await;
        assert_eq!(
            response.headers()["x-hubspot-ratelimit-interval-milliseconds"],
            "1500"
        );
        remaining.push(
            response.headers()["x-hubspot-ratelimit-remaining"]
                .to_str()
                .expect("ascii")
                .to_owned(),
        );
    }
    assert_eq!(remaining, vec!["2", "1", "0"]);
    assert_eq!(
        t.get("/crm/v3/objects/contacts").await.status().as_u16(),
        429
    );
    tokio::time::sleep(std::time::Duration::from_millis(1_600)).await;
    assert_eq!(
        t.get("/crm/v3/objects/contacts").await.status().as_u16(),
        200
    );
}

#[tokio::test]
async fn search_is_limited_to_five_per_second_separately() {
    let t = spawn(20).await;
    let body = json!({"limit": 1});
    let responses =
        join_all((0..8).map(|_| t.post("/crm/v3/objects/contacts/search", &body))).await;
    let mut ok = 0;
    let mut limited = 0;
    for response in responses {
        match response.status().as_u16() {
            200 => {
                assert!(
                    !response.headers().contains_key("x-hubspot-ratelimit-max"),
                    "search has no burst headers"
                );
                ok += 1;
            }
            429 => {
                let (_, body) = json(response).await;
                assert_eq!(body["policyName"], "SECONDLY");
                assert_eq!(body["message"], "You have reached your secondly limit.");
                limited += 1;
            }
            other => panic!("unexpected {other}"),
        }
    }
    assert_eq!((ok, limited), (5, 3));
    let list = t.get("/crm/v3/objects/contacts").await;
    assert_eq!(
        list.headers()["x-hubspot-ratelimit-remaining"],
        "109",
        "search did not use the burst budget"
    );
}

#[tokio::test]
async fn budgets_are_per_portal() {
    let t = spawn_with(5, |c| c.limits.oauth_per_window = 20).await;
    let other = t
        .sim
        .create_portal(hubspot_sim::generator::GeneratorConfig::new(2, 5))
        .await
        .expect("generated");
    let other_token = t.sim.issue_tokens(other).expect("portal").access_token;
    let first = join_all((0..25).map(|_| t.get("/crm/v3/objects/contacts?limit=1"))).await;
    let second = join_all((0..25).map(|_| {
        t.http
            .get(t.url("/crm/v3/objects/contacts?limit=1"))
            .bearer_auth(&other_token)
            .send()
    }))
    .await;
    let ok_first = first.iter().filter(|r| r.status().as_u16() == 200).count();
    let ok_second = second
        .iter()
        .filter(|r| r.as_ref().is_ok_and(|r| r.status().as_u16() == 200))
        .count();
    assert_eq!((ok_first, ok_second), (20, 20));
}
