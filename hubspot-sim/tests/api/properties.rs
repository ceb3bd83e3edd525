use serde_json::json;

use crate::helpers::{assert_error, json, spawn};

#[tokio::test]
async fn conturs_provisioning_round_trip() {
    let t = spawn(10).await;
    let group = json!({"name": "conturs", "label": "Conturs", "displayOrder": -1});
    let response = t.post("/crm/v3/properties/contacts/groups", &group).await;
    assert_eq!(response.status().as_u16(), 201);
    assert_eq!(
        response.headers()["location"],
        "/crm/v3/properties/contacts/groups/conturs"
    );
    let (status, body) = json(t.post("/crm/v3/properties/contacts/groups", &group).await).await;
    assert_eq!(status, 409);
    assert_error(&body, "OBJECT_ALREADY_EXISTS");

    let score = json!({"name": "conturs_score", "label": "Conturs score", "type": "number", "fieldType": "number", "groupName": "conturs"});
    let response = t.post("/crm/properties/2026-03/contacts", &score).await;
    assert_eq!(response.status().as_u16(), 201);
    assert_eq!(
        response.headers()["location"],
        "/crm/properties/2026-03/contacts/conturs_score"
    );
    let (_, created) = json(response).await;
    assert_eq!(created["type"], "number");
    assert_eq!(created["hubspotDefined"], false);
    let (status, body) = json(t.post("/crm/v3/properties/contacts", &score).await).await;
    assert_eq!(status, 409);
    assert_error(&body, "OBJECT_ALREADY_EXISTS");
    assert_eq!(body["subCategory"], "Properties.PROPERTY_WITH_NAME_EXISTS");
    assert_eq!(
        body["message"],
        "A property named 'conturs_score' already exists."
    );

    let grade = json!({"name": "conturs_grade", "label": "Grade", "type": "enumeration", "fieldType": "select", "groupName": "conturs",
        "options": [{"label": "A", "value": "A", "displayOrder": 1, "hidden": false}, {"label": "B", "value": "B", "displayOrder": 2, "hidden": false}]});
    let bad_pair = json!({"name": "conturs_x", "label": "X", "type": "number", "fieldType": "text", "groupName": "conturs"});
    let no_options = json!({"name": "conturs_y", "label": "Y", "type": "enumeration", "fieldType": "select", "groupName": "conturs"});
    let (status, batch) = json(
        t.post(
            "/crm/v3/properties/contacts/batch/create",
            &json!({"inputs": [grade, bad_pair, no_options]}),
        )
        .await,
    )
    .await;
    assert_eq!(status, 207, "{batch}");
    assert_eq!(batch["numErrors"], 2);
    assert_eq!(batch["results"][0]["name"], "conturs_grade");

    let (status, body) = json(t.post("/crm/v3/properties/contacts", &json!({"name": "conturs_z", "label": "Z", "type": "string", "fieldType": "textarea", "groupName": "nope"})).await).await;
    assert_eq!(status, 400);
    assert_error(&body, "VALIDATION_ERROR");

    let write = json!({"inputs": [{"id": "1000001", "properties": {"conturs_score": "87", "conturs_grade": "A"}}]});
    assert_eq!(
        t.post("/crm/v3/objects/contacts/batch/update", &write)
            .await
            .status()
            .as_u16(),
        200
    );
    let bad = json!({"inputs": [{"id": "1000001", "properties": {"conturs_score": "high", "conturs_grade": "Z"}}]});
    let (status, body) = json(t.post("/crm/v3/objects/contacts/batch/update", &bad).await).await;
    assert_eq!(status, 400);
    let mut codes: Vec<&str> = body["errors"]
        .as_array()
        .expect("errors")
        .iter()
        .filter_map(|e| e["code"].as_str())
        .collect();
    codes.sort();
    assert_eq!(codes, vec!["INVALID_INTEGER", "INVALID_OPTION"]);

    let (status, patched) = json(
        t.patch(
            "/crm/v3/properties/contacts/conturs_grade",
            &json!({"label": "Conturs grade",
        "options": [{"label": "A", "value": "A"}, {"label": "F", "value": "F"}]}),
        )
        .await,
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(patched["options"].as_array().map(Vec::len), Some(2));
    assert_eq!(patched["label"], "Conturs grade");

    let (status, list) = json(t.get("/crm/v3/properties/contacts").await).await;
    assert_eq!(status, 200);
    assert!(
        list["results"]
            .as_array()
            .expect("results")
            .iter()
            .any(|p| p["name"] == "conturs_score")
    );
    let (status, groups) = json(t.get("/crm/v3/properties/contacts/groups").await).await;
    assert_eq!(status, 200);
    assert!(
        groups["results"]
            .as_array()
            .expect("groups")
            .iter()
            .any(|g| g["name"] == "conturs")
    );

    assert_eq!(
        t.delete("/crm/v3/properties/contacts/conturs_score")
            .await
            .status()
            .as_u16(),
        204
    );
    let (status, body) = json(t.get("/crm/v3/properties/contacts/conturs_score").await).await;
    assert_eq!(status, 404);
    assert_error(&body, "OBJECT_NOT_FOUND");
    assert_eq!(
        t.get("/crm/v3/properties/contacts/conturs_score?archived=true")
            .await
            .status()
            .as_u16(),
        200
    );
    assert_eq!(
        t.post("/crm/v3/properties/contacts", &score)
            .await
            .status()
            .as_u16(),
        201,
        "re-creating restores"
    );
    let (status, _) = json(t.delete("/crm/v3/properties/contacts/email").await).await;
    assert_eq!(status, 400, "HubSpot-defined properties cannot be archived");
    assert_eq!(
        t.delete("/crm/v3/properties/contacts/groups/conturs")
            .await
            .status()
            .as_u16(),
        204
    );
}
