use serde_json::json;

use crate::helpers::{json, spawn};

#[tokio::test]
async fn admin_api_creates_portals_mutates_records_and_reports() {
    let t = spawn(10).await;
    let (status, created) = json(
        t.http
            .post(t.url("/_sim/portals"))
            .json(&json!({"seed": 5, "contacts": 200}))
            .send()
            .await
            .expect("sent"),
    )
    .await;
    assert_eq!(status, 201);
    let portal = created["portalId"].as_u64().expect("id");
    let (status, tokens) = json(
        t.http
            .post(t.url(&format!("/_sim/portals/{portal}/tokens")))
            .send()
            .await
            .expect("sent"),
    )
    .await;
    assert_eq!(status, 200);
    let token = tokens["access_token"].as_str().expect("token").to_owned();
    let (status, record) = json(
        t.http
            .post(t.url(&format!("/_sim/portals/{portal}/objects/contacts")))
            .json(&json!({"properties": {"email": "new@x.io", "jobtitle": "VP Sales"}, "companyId": 5000000001u64}))
            .send()
            .await
            .expect("sent"),
    )
    .await;
    assert_eq!(status, 201);
    let id = record["id"].as_str().expect("id").to_owned();
    let (status, fetched) = json(
        t.http
            .get(t.url(&format!(
                "/crm/v3/objects/contacts/{id}?properties=email,jobtitle&associations=companies"
            )))
            .bearer_auth(&token)
            .send()
            .await
            .expect("sent"),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(fetched["properties"]["jobtitle"], "VP Sales");
    let (_, company_id) = json(
        t.http
            .get(t.url(&format!(
                "/crm/v3/objects/contacts/{id}?properties=associatedcompanyid"
            )))
            .bearer_auth(&token)
            .send()
            .await
            .expect("sent"),
    )
    .await;
    assert_eq!(
        company_id["properties"]["associatedcompanyid"],
        "5000000001"
    );
    assert_eq!(
        fetched["associations"]["companies"]["results"][0]["id"],
        "5000000001"
    );
    let patch = t
        .http
        .patch(t.url(&format!("/_sim/portals/{portal}/objects/contacts/{id}")))
        .json(&json!({"properties": {"jobtitle": "CEO"}}))
        .send()
        .await
        .expect("sent");
    assert_eq!(patch.status().as_u16(), 200);
    let gone = t
        .http
        .delete(t.url(&format!("/_sim/portals/{portal}/objects/contacts/{id}")))
        .send()
        .await
        .expect("sent");
    assert_eq!(gone.status().as_u16(), 204);
    let missing = t
        .http
        .get(t.url(&format!("/crm/v3/objects/contacts/{id}")))
        .bearer_auth(&token)
        .send()
        .await
        .expect("sent");
    assert_eq!(missing.status().as_u16(), 404);
    let archived = t
        .http
        .get(t.url(&format!("/crm/v3/objects/contacts/{id}?archived=true")))
        .bearer_auth(&token)
        .send()
        .await
        .expect("sent");
    assert_eq!(archived.status().as_u16(), 200);

    let faults = t
        .http
        .put(t.url(&format!("/_sim/portals/{portal}/faults")))
        .json(&json!({"lockedRate": 1.0}))
        .send()
        .await
        .expect("sent");
    assert_eq!(faults.status().as_u16(), 200);
    let locked = t
        .http
        .get(t.url("/crm/v3/objects/contacts"))
        .bearer_auth(&token)
        .send()
        .await
        .expect("sent");
    assert_eq!(locked.status().as_u16(), 423);
    let cleared = t
        .http
        .delete(t.url(&format!("/_sim/portals/{portal}/faults")))
        .send()
        .await
        .expect("sent");
    assert_eq!(cleared.status().as_u16(), 204);

    let csv = t
        .http
        .get(t.url(&format!("/_sim/portals/{portal}/ground-truth")))
        .send()
        .await
        .expect("sent")
        .text()
        .await
        .expect("text");
    assert_eq!(csv.lines().count(), 201);
    let (status, stats) = json(t.http.get(t.url("/_sim/stats")).send().await.expect("sent")).await;
    assert_eq!(status, 200);
    let portal_stats = &stats["portals"][portal.to_string()];
    assert_eq!(portal_stats["responsesByStatus"]["423"], 1);
    assert!(
        portal_stats["requestsByEndpoint"]["GET /crm/v3/objects/{object}/{id}"]
            .as_u64()
            .expect("count")
            >= 3
    );
    let (status, _) = json(
        t.http
            .post(t.url("/_sim/portals/1/revoke-tokens"))
            .send()
            .await
            .expect("sent"),
    )
    .await;
    assert_eq!(status, 404);
    let unknown = t
        .http
        .get(t.url("/no/such/path"))
        .send()
        .await
        .expect("sent");
    assert_eq!(unknown.status().as_u16(), 404);
    assert!(unknown.headers().contains_key("x-hubspot-correlation-id"));
}

#[tokio::test]
async fn many_simulators_run_side_by_side_and_shut_down() {
    let a = crate::helpers::spawn(20).await;
    let b = crate::helpers::spawn(20).await;
    assert_ne!(a.sim.base_url(), b.sim.base_url());
    assert_eq!(
        a.get("/crm/v3/objects/contacts").await.status().as_u16(),
        200
    );
    let url = b.sim.base_url();
    b.sim.shutdown().await;
    let after = reqwest::get(format!("{url}/_sim/health")).await;
    assert!(after.is_err(), "server stopped");
    assert_eq!(
        a.get("/crm/v3/objects/contacts").await.status().as_u16(),
        200
    );
}
