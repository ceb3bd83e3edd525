use std::collections::HashSet;

use serde_json::{Value, json};

use crate::helpers::{assert_error, json, spawn};

#[tokio::test]
async fn paging_a_full_portal_returns_each_record_exactly_once() {
    let t = spawn(1_000).await;
    let mut seen = HashSet::new();
    let mut after: Option<String> = None;
    let mut pages = 0;
    loop {
        let mut url = "/crm/v3/objects/contacts?limit=100&properties=email,jobtitle".to_owned();
        if let Some(cursor) = &after {
            url.push_str(&format!("&after={}", url_encode(cursor)));
        }
        let response = t.get(&url).await;
        assert!(response.headers().contains_key("x-hubspot-correlation-id"));
        assert_eq!(response.headers()["x-hubspot-ratelimit-max"], "110");
        let (status, body) = json(response).await;
        assert_eq!(status, 200, "{body}");
        pages += 1;
        for record in body["results"].as_array().expect("results") {
            let id = record["id"].as_str().expect("string id").to_owned();
            assert!(record["properties"]["email"].is_string());
            assert!(
                record["properties"]
                    .as_object()
                    .expect("map")
                    .values()
                    .all(Value::is_string)
            );
            assert!(
                record["createdAt"]
                    .as_str()
                    .is_some_and(|s| s.ends_with('Z'))
            );
            assert!(seen.insert(id), "duplicate record");
        }
        match body["paging"]["next"]["after"].as_str() {
            Some(next) => {
                assert!(
                    body["paging"]["next"]["link"]
                        .as_str()
                        .is_some_and(|l| l.starts_with("?after="))
                );
                after = Some(next.to_owned());
            }
            None => {
                assert!(body.get("paging").is_none(), "last page has no paging");
                break;
            }
        }
    }
    assert_eq!(seen.len(), 1_000);
    assert_eq!(pages, 10);
}

fn url_encode(text: &str) -> String {
    url::form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

#[tokio::test]
async fn list_validates_limit_and_cursor_and_defaults_properties() {
    let t = spawn(50).await;
    let (status, body) = json(t.get("/crm/v3/objects/contacts").await).await;
    assert_eq!(status, 200);
    assert_eq!(
        body["results"].as_array().map(Vec::len),
        Some(10),
        "default limit is 10"
    );
    let props = body["results"][0]["properties"]
        .as_object()
        .expect("properties");
    assert!(props.contains_key("hs_object_id") && props.contains_key("lastmodifieddate"));
    assert!(
        !props.contains_key("jobtitle"),
        "only defaults without properties="
    );
    let (status, body) = json(t.get("/crm/v3/objects/contacts?limit=101").await).await;
    assert_eq!(status, 400);
    assert_error(&body, "VALIDATION_ERROR");
    let (status, body) = json(t.get("/crm/v3/objects/contacts?after=not-a-cursor").await).await;
    assert_eq!(status, 400);
    assert_error(&body, "VALIDATION_ERROR");
    let (status, body) = json(t.get("/crm/v3/objects/widgets").await).await;
    assert_eq!(status, 400, "{body}");
}

#[tokio::test]
async fn inline_associations_and_versioned_paths() {
    let t = spawn(300).await;
    let (status, body) = json(
        t.get("/crm/objects/2026-03/contacts?limit=100&associations=companies")
            .await,
    )
    .await;
    assert_eq!(status, 200);
    let with_company = body["results"]
        .as_array()
        .expect("results")
        .iter()
        .find(|r| r.get("associations").is_some())
        .expect("some contact has a company");
    let links = with_company["associations"]["companies"]["results"]
        .as_array()
        .expect("links");
    let types: Vec<&str> = links.iter().filter_map(|l| l["type"].as_str()).collect();
    assert!(
        types.contains(&"contact_to_company") && types.contains(&"contact_to_company_unlabeled")
    );
    let id = with_company["id"].as_str().expect("id");
    let (status, one) = json(
        t.get(&format!(
            "/crm/v3/objects/0-1/{id}?properties=email&associations=company"
        ))
        .await,
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(one["id"], with_company["id"]);
    assert_eq!(one["associations"], with_company["associations"]);
}

#[tokio::test]
async fn get_missing_record_is_a_404_with_hubspot_body() {
    let t = spawn(10).await;
    let (status, body) = json(t.get("/crm/v3/objects/contacts/999").await).await;
    assert_eq!(status, 404);
    assert_error(&body, "OBJECT_NOT_FOUND");
    let email_lookup = t
        .sim
        .state()
        .portal(t.portal)
        .expect("portal")
        .read()
        .contacts
        .iter()
        .next()
        .map(|r| r.id);
    let id = email_lookup.expect("a contact");
    let (_, by_id) = json(
        t.get(&format!("/crm/v3/objects/contacts/{id}?properties=email"))
            .await,
    )
    .await;
    let email = by_id["properties"]["email"]
        .as_str()
        .expect("email")
        .to_owned();
    let (status, by_email) = json(
        t.get(&format!(
            "/crm/v3/objects/contacts/{}?idProperty=email",
            url_encode(&email)
        ))
        .await,
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(by_email["id"], id.to_string());
}

#[tokio::test]
async fn batch_read_reports_missing_ids_with_207() {
    let t = spawn(20).await;
    let body = json!({"properties": ["email"], "inputs": [{"id": "1000001"}, {"id": "1000002"}, {"id": "42"}]});
    let (status, body) = json(t.post("/crm/v3/objects/contacts/batch/read", &body).await).await;
    assert_eq!(status, 207, "{body}");
    assert_eq!(body["status"], "COMPLETE");
    assert_eq!(body["results"].as_array().map(Vec::len), Some(2));
    assert_eq!(body["numErrors"], 1);
    assert_eq!(body["errors"][0]["category"], "OBJECT_NOT_FOUND");
    assert_eq!(body["errors"][0]["context"]["ids"], json!(["42"]));
    let ok = json!({"inputs": [{"id": "1000001"}]});
    let (status, body) = json(t.post("/crm/v3/objects/contacts/batch/read", &ok).await).await;
    assert_eq!(status, 200);
    assert!(body.get("errors").is_none());
    let too_many: Vec<Value> = (0..101)
        .map(|i| json!({"id": (1_000_001 + i).to_string()}))
        .collect();
    let (status, body) = json(
        t.post(
            "/crm/v3/objects/contacts/batch/read",
            &json!({"inputs": too_many}),
        )
        .await,
    )
    .await;
    assert_eq!(status, 400);
    assert_error(&body, "VALIDATION_ERROR");
    let response = t
        .http
        .post(t.url("/crm/v3/objects/contacts/batch/read"))
        .bearer_auth(&t.token)
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .expect("sent");
    let (status, body) = json(response).await;
    assert_eq!(status, 400);
    assert_error(&body, "VALIDATION_ERROR");
}

#[tokio::test]
async fn batch_update_writes_values_and_bumps_lastmodifieddate() {
    let t = spawn(20).await;
    let (_, before) = json(t.get("/crm/v3/objects/contacts/1000001").await).await;
    let body = json!({"inputs": [
        {"id": "1000001", "properties": {"jobtitle": "Chief Scoring Officer", "lifecyclestage": "lead"}},
        {"id": "1000002", "properties": {"firstname": ""}}
    ]});
    let (status, result) = json(t.post("/crm/v3/objects/contacts/batch/update", &body).await).await;
    assert_eq!(status, 200, "{result}");
    assert_eq!(result["status"], "COMPLETE");
    assert_eq!(result["results"].as_array().map(Vec::len), Some(2));
    let (_, after) = json(t.get("/crm/v3/objects/contacts/1000001?properties=jobtitle,lastmodifieddate,hs_lastmodifieddate").await).await;
    assert_eq!(after["properties"]["jobtitle"], "Chief Scoring Officer");
    assert_ne!(
        after["properties"]["lastmodifieddate"],
        before["properties"]["lastmodifieddate"]
    );
    assert_eq!(
        after["properties"]["lastmodifieddate"],
        after["properties"]["hs_lastmodifieddate"]
    );
    assert_eq!(
        after["updatedAt"],
        after["properties"]["hs_lastmodifieddate"]
    );
    let (_, cleared) = json(
        t.get("/crm/v3/objects/contacts/1000002?properties=firstname")
            .await,
    )
    .await;
    assert!(
        cleared["properties"].get("firstname").is_none(),
        "empty string clears"
    );
}

#[tokio::test]
async fn batch_update_rejects_bad_properties_for_the_whole_batch() {
    let t = spawn(20).await;
    let body = json!({"inputs": [
        {"id": "1000001", "properties": {"jobtitle": "Ok"}},
        {"id": "1000002", "properties": {"no_such_prop": "x", "hs_object_id": "5", "lifecyclestage": "LEAD"}}
    ]});
    let (status, error) = json(t.post("/crm/v3/objects/contacts/batch/update", &body).await).await;
    assert_eq!(status, 400);
    assert_error(&error, "VALIDATION_ERROR");
    assert!(
        error["message"]
            .as_str()
            .is_some_and(|m| m.starts_with("Property values were not valid: ["))
    );
    let mut codes: Vec<(&str, &str)> = error["errors"]
        .as_array()
        .expect("errors")
        .iter()
        .filter_map(|e| {
            Some((
                e["context"]["propertyName"][0].as_str()?,
                e["code"].as_str()?,
            ))
        })
        .collect();
    codes.sort();
    assert_eq!(
        codes,
        vec![
            ("hs_object_id", "READ_ONLY_VALUE"),
            ("lifecyclestage", "INVALID_OPTION"),
            ("no_such_prop", "PROPERTY_DOESNT_EXIST")
        ]
    );
    let (_, untouched) = json(
        t.get("/crm/v3/objects/contacts/1000001?properties=jobtitle")
            .await,
    )
    .await;
    assert_ne!(
        untouched["properties"]["jobtitle"], "Ok",
        "nothing written on 400"
    );
}

#[tokio::test]
async fn batch_update_reports_unknown_ids_in_a_207_and_limits_inputs() {
    let t = spawn(20).await;
    let body = json!({"inputs": [
        {"id": "1000003", "properties": {"jobtitle": "Updated"}},
        {"id": "77", "properties": {"jobtitle": "Nobody"}}
    ]});
    let (status, result) = json(t.post("/crm/v3/objects/contacts/batch/update", &body).await).await;
    assert_eq!(status, 207, "{result}");
    assert_eq!(result["numErrors"], 1);
    assert_eq!(result["errors"][0]["context"]["ids"], json!(["77"]));
    assert_eq!(result["results"][0]["properties"]["jobtitle"], "Updated");
    let inputs: Vec<Value> = (0..101)
        .map(|i| json!({"id": (1_000_001 + i).to_string(), "properties": {}}))
        .collect();
    let (status, _) = json(
        t.post(
            "/crm/v3/objects/contacts/batch/update",
            &json!({"inputs": inputs}),
        )
        .await,
    )
    .await;
    assert_eq!(status, 400);
    let dup = json!({"inputs": [{"id": "1000001", "properties": {}}, {"id": "1000001", "properties": {}}]});
    let (status, _) = json(t.post("/crm/v3/objects/contacts/batch/update", &dup).await).await;
    assert_eq!(status, 400);
    let (status, patched) = json(
        t.patch(
            "/crm/v3/objects/contacts/1000004",
            &json!({"properties": {"jobtitle": "Solo"}}),
        )
        .await,
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(patched["properties"]["jobtitle"], "Solo");
}
