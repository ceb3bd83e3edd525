use std::time::Duration;

use serde_json::json;

use crate::helpers::{assert_error, json, spawn, spawn_with};

#[tokio::test]
async fn filters_sorts_and_pages() {
    let t = spawn(300).await;
    let body = json!({
        "filterGroups": [{"filters": [{"propertyName": "lifecyclestage", "operator": "EQ", "value": "lead"}]}],
        "sorts": [{"propertyName": "lastmodifieddate", "direction": "ASCENDING"}],
        "properties": ["lifecyclestage", "lastmodifieddate"],
        "limit": 20
    });
    let (status, page) = json(t.post("/crm/v3/objects/contacts/search", &body).await).await;
    assert_eq!(status, 200, "{page}");
    let total = page["total"].as_u64().expect("total");
    assert!(total > 20, "expected many leads, got {total}");
    let results = page["results"].as_array().expect("results");
    assert_eq!(results.len(), 20);
    assert!(
        results
            .iter()
            .all(|r| r["properties"]["lifecyclestage"] == "lead")
    );
    let dates: Vec<&str> = results
        .iter()
        .filter_map(|r| r["properties"]["lastmodifieddate"].as_str())
        .collect();
    assert!(dates.windows(2).all(|w| w[0] <= w[1]), "sorted ascending");
    assert_eq!(page["paging"]["next"]["after"], "20");

    let cut = dates[10];
    let since = json!({"filterGroups": [{"filters": [{"propertyName": "hs_lastmodifieddate", "operator": "GTE", "value": cut}]}], "limit": 200});
    let (_, newer) = json(t.post("/crm/v3/objects/contacts/search", &since).await).await;
    assert!(newer["total"].as_u64().expect("total") > 0);
}

#[tokio::test]
async fn search_limits_are_enforced() {
    let t = spawn(30).await;
    let (status, body) = json(
        t.post("/crm/v3/objects/contacts/search", &json!({"limit": 201}))
            .await,
    )
    .await;
    assert_eq!(status, 400);
    assert_error(&body, "VALIDATION_ERROR");
    let (status, _) = json(
        t.post(
            "/crm/v3/objects/contacts/search",
            &json!({"after": "10000"}),
        )
        .await,
    )
    .await;
    assert_eq!(status, 400, "paging beyond 10,000 results");
    tokio::time::sleep(Duration::from_millis(1_050)).await;
    let groups: Vec<serde_json::Value> = (0..6)
        .map(|_| json!({"filters": [{"propertyName": "email", "operator": "HAS_PROPERTY"}]}))
        .collect();
    let (status, _) = json(
        t.post(
            "/crm/v3/objects/contacts/search",
            &json!({"filterGroups": groups}),
        )
        .await,
    )
    .await;
    assert_eq!(status, 400, "at most five filter groups");
    let (status, _) = json(
        t.post(
            "/crm/v3/objects/contacts/search",
            &json!({"sorts": ["email", "firstname"]}),
        )
        .await,
    )
    .await;
    assert_eq!(status, 400, "one sort only");
    let (status, body) = json(
        t.post(
            "/crm/v3/objects/companies/search",
            &json!({"query": "a", "limit": 5}),
        )
        .await,
    )
    .await;
    assert_eq!(status, 200);
    assert!(body["results"].as_array().expect("results").len() <= 5);
}

#[tokio::test]
async fn changes_show_up_in_search_only_after_the_index_lag() {
    let t = spawn_with(30, |c| c.search_index_lag = Duration::from_millis(600)).await;
    let body =
        json!({"inputs": [{"id": "1000005", "properties": {"jobtitle": "Unique Title Zebra"}}]});
    assert_eq!(
        t.post("/crm/v3/objects/contacts/batch/update", &body)
            .await
            .status()
            .as_u16(),
        200
    );
    let query = json!({"filterGroups": [{"filters": [{"propertyName": "jobtitle", "operator": "EQ", "value": "Unique Title Zebra"}]}], "properties": ["jobtitle"]});
    let (_, early) = json(t.post("/crm/v3/objects/contacts/search", &query).await).await;
    assert_eq!(early["total"], 0, "not indexed yet");
    tokio::time::sleep(Duration::from_millis(700)).await;
    let (_, later) = json(t.post("/crm/v3/objects/contacts/search", &query).await).await;
    assert_eq!(later["total"], 1);
    assert_eq!(later["results"][0]["id"], "1000005");
    let assoc = json!({"filterGroups": [{"filters": [{"propertyName": "associations.company", "operator": "EQ", "value": "5000000001"}]}]});
    let (status, linked) = json(t.post("/crm/v3/objects/contacts/search", &assoc).await).await;
    assert_eq!(status, 200);
    assert!(linked["total"].as_u64().expect("total") >= 1);
}

#[tokio::test]
async fn numeric_and_datetime_filters_agree_with_the_store() {
    let t = spawn(400).await;
    let portal = t.sim.state().portal(t.portal).expect("portal");
    let (expected_mid, cutoff_ms, expected_recent) = {
        let data = portal.read();
        let mid = data
            .companies
            .iter()
            .filter(|r| {
                data.companies
                    .value(r, "numberofemployees")
                    .and_then(|v| v.parse::<f64>().ok())
                    .is_some_and(|n| (10.0..=100.0).contains(&n))
            })
            .count();
        let mut updated: Vec<i64> = data.contacts.iter().map(|r| r.updated_ms).collect();
        updated.sort_unstable();
        let cutoff = updated[updated.len() / 2];
        let recent = updated.iter().filter(|&&ms| ms >= cutoff).count();
        (mid, cutoff, recent)
    };
    let between = json!({
        "filterGroups": [{"filters": [{"propertyName": "numberofemployees", "operator": "BETWEEN", "value": "10", "highValue": 100}]}],
        "sorts": [{"propertyName": "numberofemployees", "direction": "DESCENDING"}],
        "properties": ["numberofemployees"], "limit": 200
    });
    let (status, body) = json(t.post("/crm/v3/objects/companies/search", &between).await).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["total"].as_u64(), Some(expected_mid as u64));
    let sizes: Vec<f64> = body["results"]
        .as_array()
        .expect("results")
        .iter()
        .filter_map(|r| r["properties"]["numberofemployees"].as_str()?.parse().ok())
        .collect();
    assert!(
        sizes.windows(2).all(|w| w[0] >= w[1]),
        "numeric descending sort"
    );

    let recent = json!({"filterGroups": [{"filters": [{"propertyName": "lastmodifieddate", "operator": "GTE", "value": cutoff_ms.to_string()}]}]});
    let (_, body) = json(t.post("/crm/v3/objects/contacts/search", &recent).await).await;
    assert_eq!(body["total"].as_u64(), Some(expected_recent as u64));

    let stages = json!({"filterGroups": [{"filters": [{"propertyName": "dealstage", "operator": "IN", "values": ["closedwon", "closedlost"]}]}], "limit": 200});
    let (_, body) = json(t.post("/crm/v3/objects/deals/search", &stages).await).await;
    let all_closed = body["results"]
        .as_array()
        .expect("results")
        .iter()
        .all(|d| {
            matches!(
                d["properties"]["dealstage"].as_str(),
                Some("closedwon" | "closedlost")
            )
        });
    assert!(all_closed && body["total"].as_u64().is_some_and(|n| n > 0));

    tokio::time::sleep(Duration::from_millis(1_050)).await;
    let bad = json!({"filterGroups": [{"filters": [{"propertyName": "email", "operator": "LIKE", "value": "x"}]}]});
    let (status, body) = json(t.post("/crm/v3/objects/contacts/search", &bad).await).await;
    assert_eq!(status, 400);
    assert_error(&body, "VALIDATION_ERROR");
}
