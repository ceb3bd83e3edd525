use serde_json::{Value, json};

use crate::helpers::{assert_error, json, spawn_with};

#[tokio::test]
async fn batch_read_pages_per_result_and_reports_missing() {
    let t = spawn_with(400, |c| c.association_page_size = 3).await;
    let (_, companies) = json(t.get("/crm/v3/objects/companies?limit=100").await).await;
    // Find a company with more than 3 contacts through the v4 API itself.
    let inputs: Vec<Value> = companies["results"]
        .as_array()
        .expect("results")
        .iter()
        .map(|c| json!({"id": c["id"]}))
        .collect();
    let (status, body) = json(
        t.post(
            "/crm/v4/associations/companies/contacts/batch/read",
            &json!({"inputs": inputs}),
        )
        .await,
    )
    .await;
    assert!(status == 200 || status == 207, "{body}");
    let paged = body["results"]
        .as_array()
        .expect("results")
        .iter()
        .find(|r| r.get("paging").is_some())
        .expect("a company with more than one page")
        .clone();
    let company = paged["from"]["id"].as_str().expect("id").to_owned();
    let first = &paged["to"][0];
    assert!(first["toObjectId"].is_u64(), "toObjectId is a number");
    assert_eq!(first["associationTypes"][0]["category"], "HUBSPOT_DEFINED");
    let mut all: Vec<u64> = paged["to"]
        .as_array()
        .expect("to")
        .iter()
        .filter_map(|t| t["toObjectId"].as_u64())
        .collect();
    let mut after = paged["paging"]["next"]["after"].as_str().map(str::to_owned);
    while let Some(cursor) = after {
        let (_, next) = json(
            t.post(
                "/crm/associations/2026-03/companies/contacts/batch/read",
                &json!({"inputs": [{"id": company, "after": cursor}]}),
            )
            .await,
        )
        .await;
        all.extend(
            next["results"][0]["to"]
                .as_array()
                .expect("to")
                .iter()
                .filter_map(|t| t["toObjectId"].as_u64()),
        );
        after = next["results"][0]["paging"]["next"]["after"]
            .as_str()
            .map(str::to_owned);
    }
    let expected = t
        .sim
        .state()
        .portal(t.portal)
        .expect("portal")
        .read()
        .associations
        .links(
            hubspot_sim::ObjectType::Companies,
            company.parse().expect("numeric"),
            hubspot_sim::ObjectType::Contacts,
        )
        .count();
    assert_eq!(all.len(), expected);
    let unique: std::collections::HashSet<u64> = all.iter().copied().collect();
    assert_eq!(unique.len(), expected);

    let (status, body) = json(
        t.post(
            "/crm/v4/associations/contacts/companies/batch/read",
            &json!({"inputs": [{"id": "424242"}]}),
        )
        .await,
    )
    .await;
    assert_eq!(status, 207);
    assert_eq!(body["numErrors"], 1);
    let too_many: Vec<Value> = (0..1001).map(|i| json!({"id": i.to_string()})).collect();
    let (status, body) = json(
        t.post(
            "/crm/v4/associations/contacts/companies/batch/read",
            &json!({"inputs": too_many}),
        )
        .await,
    )
    .await;
    assert_eq!(status, 400);
    assert_error(&body, "VALIDATION_ERROR");
    let (status, single) = json(
        t.get(&format!(
            "/crm/v4/objects/companies/{company}/associations/contacts?limit=2"
        ))
        .await,
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(single["results"].as_array().map(Vec::len), Some(2));
    assert!(single["paging"]["next"]["after"].is_string());
}

#[tokio::test]
async fn primary_contact_company_links_carry_both_type_ids() {
    let t = spawn_with(50, |_| {}).await;
    let inputs: Vec<Value> = (0..50)
        .map(|i| json!({"id": (1_000_001 + i).to_string()}))
        .collect();
    let (_, body) = json(
        t.post(
            "/crm/v4/associations/contacts/companies/batch/read",
            &json!({"inputs": inputs}),
        )
        .await,
    )
    .await;
    let types: Vec<u64> = body["results"][0]["to"][0]["associationTypes"]
        .as_array()
        .expect("types")
        .iter()
        .filter_map(|t| t["typeId"].as_u64())
        .collect();
    assert_eq!(types, vec![1, 279]);
    assert_eq!(
        body["results"][0]["to"][0]["associationTypes"][0]["label"],
        "Primary"
    );
}

#[tokio::test]
async fn deals_list_and_batch_read_their_contacts() {
    let t = spawn_with(2_000, |_| {}).await;
    let (status, deals) = json(
        t.get("/crm/v3/objects/deals?limit=100&associations=contacts,companies")
            .await,
    )
    .await;
    assert_eq!(status, 200, "{deals}");
    let with_contacts = deals["results"]
        .as_array()
        .expect("results")
        .iter()
        .find(|d| d["associations"].get("contacts").is_some())
        .expect("a deal with contacts")
        .clone();
    let inline = &with_contacts["associations"]["contacts"]["results"];
    assert_eq!(inline[0]["type"], "deal_to_contact");
    assert!(with_contacts["associations"]["companies"]["results"][0]["id"].is_string());
    let deal = with_contacts["id"].as_str().expect("id").to_owned();
    let contact = inline[0]["id"].as_str().expect("id").to_owned();

    let (status, body) = json(
        t.post(
            "/crm/v4/associations/deals/contacts/batch/read",
            &json!({"inputs": [{"id": deal}]}),
        )
        .await,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let link = &body["results"][0]["to"][0];
    assert_eq!(link["toObjectId"].to_string(), contact);
    assert_eq!(
        link["associationTypes"],
        json!([{"category": "HUBSPOT_DEFINED", "typeId": 3, "label": null}])
    );

    let (status, back) = json(
        t.post(
            "/crm/v4/associations/contacts/deals/batch/read",
            &json!({"inputs": [{"id": contact}]}),
        )
        .await,
    )
    .await;
    assert_eq!(status, 200, "{back}");
    let deals_of_contact: Vec<String> = back["results"][0]["to"]
        .as_array()
        .expect("to")
        .iter()
        .map(|l| l["toObjectId"].to_string())
        .collect();
    assert!(deals_of_contact.contains(&deal), "{back}");
    assert_eq!(
        back["results"][0]["to"][0]["associationTypes"][0]["typeId"],
        4
    );
}
