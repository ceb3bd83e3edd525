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
