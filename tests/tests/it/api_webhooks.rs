//! `POST /webhooks/hubspot` over real HTTP: HubSpot's published signature vectors, the
//! simulator's own signed deliveries (with redeliveries), tampering, stale timestamps, size and
//! batch limits, de-duplication, deletions and merges, unknown portals, an enqueue that fails
//! and is recovered on redelivery, and a burst that coalesces per contact.

use std::collections::HashMap;
use std::time::Duration;

use chrono::Utc;
use conturs_tests::app::{CLIENT_ID, CLIENT_SECRET, post_signed_webhook};
use conturs_tests::fixtures::insert_portal;
use conturs_tests::{AppOptions, Backend, TestApp, spawn_app, spawn_app_with};
use entity::{
    JobType, Lane, PortalStatus, WebhookOutcome, contacts, job_runs, scores, unknown_portal_events,
    webhook_events,
};
use hubspot::webhook::{SignedRequest, sign_v3};
use hubspot_sim::{ObjectType, SimConfig, Simulator, WebhookKnobs};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set};
use serde_json::{Value, json};

const VECTOR_SECRET: &str = "yyyyyyyy-yyyy-yyyy-yyyy-yyyyyyyyyyyy";
const VECTOR_TS: i64 = 1_693_657_560_000;
const PORTAL: i64 = 4242;

/// POSTs `body` signed like HubSpot (v3) at `timestamp_ms`.
async fn post_signed_at(app: &TestApp, body: &[u8], timestamp_ms: i64) -> reqwest::Response {
    let url = app.url("/webhooks/hubspot");
    post_signed_webhook(&app.client, &url, CLIENT_SECRET, body, timestamp_ms).await
}

async fn post_signed(app: &TestApp, events: &Value) -> reqwest::Response {
    let body = serde_json::to_vec(events).expect("json");
    post_signed_at(app, &body, Utc::now().timestamp_millis()).await
}

async fn report(response: reqwest::Response) -> Value {
    assert_eq!(response.status(), 200);
    response.json().await.expect("report")
}

fn change(portal: i64, contact: i64, property: &str, occurred_at: i64) -> Value {
    json!({
        "eventId": contact * 1000 + occurred_at % 1000,
        "subscriptionId": 1,
        "portalId": portal,
        "appId": 1,
        "occurredAt": occurred_at,
        "subscriptionType": "contact.propertyChange",
        "attemptNumber": 0,
        "objectId": contact,
        "propertyName": property,
        "propertyValue": "x",
        "changeSource": "CRM",
    })
}

async fn rows(app: &TestApp) -> Vec<webhook_events::Model> {
    webhook_events::Entity::find()
        .all(&app.db.conn)
        .await
        .expect("rows")
}

async fn score_runs(app: &TestApp) -> Vec<job_runs::Model> {
    job_runs::Entity::find()
        .filter(job_runs::Column::JobType.eq(JobType::ScoreContact))
        .all(&app.db.conn)
        .await
        .expect("runs")
}

fn contact_ids(run: &job_runs::Model) -> Vec<i64> {
    serde_json::from_value(run.payload["contact_ids"].clone()).expect("contact ids")
}

#[tokio::test]
async fn published_v3_vectors_over_http() {
    let pinned = chrono::DateTime::from_timestamp_millis(VECTOR_TS + 1_000).expect("time");
    let app = spawn_app_with(AppOptions::new(Backend::Sqlite).configure(move |c| {
        c.webhook_secret = VECTOR_SECRET.to_owned().into();
        c.webhook_url = Some("https://www.example.com/webhook_uri".parse().expect("url"));
        c.clock = api::Clock::fixed(pinned);
    }))
    .await;
    let send = |body: &'static str, signature: &'static str| {
        app.client
            .post(app.url("/webhooks/hubspot"))
            .header("content-type", "application/json")
            .header("X-HubSpot-Signature-v3", signature)
            .header("X-HubSpot-Request-Timestamp", "1693657560000")
            .body(body)
            .send()
    };
    // The signature is accepted; the vector bodies are not event batches, so 400 (not 401).
    let official = send(
        "{'example_field':'example_value'}",
        "K36dawei4A+QBNolUOqo7s91KQDWQ5MXZ/QufNYuk/Y=",
    )
    .await
    .expect("post");
    assert_eq!(official.status(), 400);
    let body: Value = official.json().await.expect("json");
    assert_eq!(body["code"], "invalid_batch");
    let companion = send(
        r#"{"example_field":"example_value"}"#,
        "oaA3M5dEtt6kFsseJD/Hv/x+JNl1vsoxFj4oxmwP6Go=",
    )
    .await
    .expect("post");
    assert_eq!(companion.status(), 400);
    // One changed byte.
    let tampered = send(
        "{'example_field':'example_valuf'}",
        "K36dawei4A+QBNolUOqo7s91KQDWQ5MXZ/QufNYuk/Y=",
    )
    .await
    .expect("post");
    assert_eq!(tampered.status(), 401);
    let body: Value = tampered.json().await.expect("json");
    assert_eq!(body["code"], "invalid_signature");

    // The same vector today is far outside the 5-minute window.
    let today = spawn_app_with(AppOptions::new(Backend::Sqlite).configure(|c| {
        c.webhook_secret = VECTOR_SECRET.to_owned().into();
        c.webhook_url = Some("https://www.example.com/webhook_uri".parse().expect("url"));
    }))
    .await;
    let stale = today
        .client
        .post(today.url("/webhooks/hubspot"))
        .header("content-type", "application/json")
        .header(
            "X-HubSpot-Signature-v3",
            "K36dawei4A+QBNolUOqo7s91KQDWQ5MXZ/QufNYuk/Y=",
        )
        .header("X-HubSpot-Request-Timestamp", "1693657560000")
        .body("{'example_field':'example_value'}")
        .send()
        .await
        .expect("post");
    assert_eq!(stale.status(), 401);
    let body: Value = stale.json().await.expect("json");
    assert_eq!(body["code"], "stale_timestamp");
}

#[tokio::test]
async fn published_v1_vector_only_when_configured() {
    let body = r#"[{"eventId":1,"subscriptionId":12345,"portalId":62515,"occurredAt":1564113600000,"subscriptionType":"contact.creation","attemptNumber":0,"objectId":123,"changeSource":"CRM","changeFlag":"NEW","appId":54321}]"#;
    let send = |app: &TestApp| {
        app.client
            .post(app.url("/webhooks/hubspot"))
            .header("content-type", "application/json")
            .header(
                "X-HubSpot-Signature",
                "232db2615f3d666fe21a8ec971ac7b5402d33b9a925784df3ca654d05f4817de",
            )
            .header("X-HubSpot-Signature-Version", "v1")
            .body(body)
            .send()
    };
    let v1 = spawn_app_with(AppOptions::new(Backend::Sqlite).configure(|c| {
        c.webhook_secret = VECTOR_SECRET.to_owned().into();
        c.accept_v1_signatures = true;
    }))
    .await;
    // Portal 62515 is unknown here: acknowledged, recorded as ignored, once however often sent.
    for _ in 0..2 {
        let report = report(send(&v1).await.expect("post")).await;
        assert_eq!(report["unknown_portal"], 1);
    }
    let strays = unknown_portal_events::Entity::find()
        .all(&v1.db.conn)
        .await
        .expect("rows");
    assert_eq!(strays.len(), 1);
    assert_eq!(strays[0].portal_id, 62515);
    assert_eq!(strays[0].object_id, 123);

    let v3_only = spawn_app_with(AppOptions::new(Backend::Sqlite).configure(|c| {
        c.webhook_secret = VECTOR_SECRET.to_owned().into();
    }))
    .await;
    let refused = send(&v3_only).await.expect("post");
    assert_eq!(refused.status(), 401);
}

#[tokio::test]
async fn simulator_deliveries_are_recorded_once_and_scored() {
    let mut config = SimConfig::new(CLIENT_ID, CLIENT_SECRET);
    config.contacts = 20;
    // Every batch is delivered twice, as HubSpot may.
    config.webhooks = WebhookKnobs {
        duplicate_rate: 1.0,
        ..WebhookKnobs::default()
    };
    let sim = Simulator::start(config).await.expect("simulator");
    let app = spawn_app_with(AppOptions::new(Backend::Sqlite).hubspot(sim.base_url())).await;
    let portal = sim.portal_id() as i64;
    insert_portal(&app.db.conn, portal, PortalStatus::Ready)
        .await
        .expect("portal");
    sim.subscribe_webhooks(
        &app.url("/webhooks/hubspot"),
        &[
            ("contact.creation", None),
            ("contact.propertyChange", Some("jobtitle")),
            ("contact.propertyChange", Some("phone")),
        ],
    );
    let contact = sim
        .create_record(
            portal as u64,
            ObjectType::Contacts,
            &[("email", "new@lead.example")],
            None,
        )
        .expect("create") as i64;
    sim.update_record(
        portal as u64,
        ObjectType::Contacts,
        contact as u64,
        &[("jobtitle", "VP Sales"), ("phone", "+1 555 0100")],
    )
    .expect("update");

    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        let stats = sim.stats().webhooks;
        let recorded = rows(&app).await;
        if recorded.len() >= 3 && stats.duplicates_sent >= 1 && stats.failures == 0 {
            let settled = recorded
                .iter()
                .all(|r| r.outcome == WebhookOutcome::Ignored || r.job_run_id.is_some());
            if settled && stats.deliveries >= stats.duplicates_sent * 2 {
                break;
            }
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "deliveries did not settle: {stats:?} {recorded:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let stats = sim.stats().webhooks;
    assert_eq!(stats.failures, 0, "every delivery was answered 2xx");
    let recorded = rows(&app).await;
    assert_eq!(recorded.len(), 3, "duplicates recorded once: {recorded:?}");
    let by_type: HashMap<(String, Option<String>), &webhook_events::Model> = recorded
        .iter()
        .map(|r| ((r.subscription_type.clone(), r.property_name.clone()), r))
        .collect();
    // The creation and the title change may arrive in one batch or in two concurrent ones:
    // either way one of them queued the run and the other folded into it.
    let created = by_type[&("contact.creation".to_owned(), None)];
    let title = by_type[&(
        "contact.propertyChange".to_owned(),
        Some("jobtitle".to_owned()),
    )];
    let outcomes = [created.outcome, title.outcome];
    assert!(outcomes.contains(&WebhookOutcome::Enqueued), "{outcomes:?}");
    assert!(
        outcomes
            .iter()
            .all(|o| matches!(o, WebhookOutcome::Enqueued | WebhookOutcome::Coalesced))
    );
    let phone = by_type[&(
        "contact.propertyChange".to_owned(),
        Some("phone".to_owned()),
    )];
    assert_eq!(phone.outcome, WebhookOutcome::Ignored);
    assert!(
        phone
            .ignore_reason
            .as_deref()
            .unwrap_or("")
            .contains("not used")
    );
    let runs = score_runs(&app).await;
    assert_eq!(
        runs.len(),
        1,
        "the creation and the change fold into one run"
    );
    assert_eq!(runs[0].lane, Lane::Realtime);
    assert_eq!(contact_ids(&runs[0]), vec![contact]);
    assert_eq!(created.job_run_id, Some(runs[0].id));
    assert_eq!(title.job_run_id, Some(runs[0].id));
}

async fn batches_and_limits(backend: Backend) {
    let app = spawn_app(backend).await;
    insert_portal(&app.db.conn, PORTAL, PortalStatus::Ready)
        .await
        .expect("portal");
    let now = Utc::now().timestamp_millis();

    // 100 events, 100 contacts: one run.
    let batch: Vec<Value> = (1..=100)
        .map(|c| change(PORTAL, c, "jobtitle", now))
        .collect();
    let first = report(post_signed(&app, &json!(batch)).await).await;
    assert_eq!(first["enqueued"], 100);
    let runs = score_runs(&app).await;
    assert_eq!(runs.len(), 1);
    assert_eq!(contact_ids(&runs[0]).len(), 100);
    // Redelivered: nothing new.
    let again = report(post_signed(&app, &json!(batch)).await).await;
    assert_eq!(again["duplicates"], 100);
    assert_eq!(score_runs(&app).await.len(), 1);
    assert_eq!(rows(&app).await.len(), 100);

    // 101 events: refused whole.
    let too_many: Vec<Value> = (1..=101)
        .map(|c| change(PORTAL, c, "jobtitle", now + 1))
        .collect();
    let response = post_signed(&app, &json!(too_many)).await;
    assert_eq!(response.status(), 400);
    let body: Value = response.json().await.expect("json");
    assert_eq!(body["code"], "invalid_batch");

    // Our own properties and properties the model does not read.
    let ignored = report(
        post_signed(
            &app,
            &json!([
                change(PORTAL, 7, "conturs_score", now + 2),
                change(PORTAL, 7, "favorite_color", now + 2)
            ]),
        )
        .await,
    )
    .await;
    assert_eq!(ignored["ignored"], 2);
    assert_eq!(score_runs(&app).await.len(), 1);

    // A stale timestamp, a tampered body, a wrong content type, an oversized body.
    let body = serde_json::to_vec(&json!([change(PORTAL, 1, "jobtitle", now + 3)])).expect("json");
    let stale = post_signed_at(&app, &body, now - 6 * 60 * 1000).await;
    assert_eq!(stale.status(), 401);
    let url = app.url("/webhooks/hubspot");
    let signature = sign_v3(
        CLIENT_SECRET.as_bytes(),
        SignedRequest {
            method: "POST",
            uri: &url,
            body: &body,
        },
        now,
    );
    let mut tampered = body.clone();
    tampered[10] ^= 1;
    let send = |payload: Vec<u8>, content_type: &'static str| {
        app.client
            .post(&url)
            .header("content-type", content_type)
            .header("X-HubSpot-Signature-v3", signature.clone())
            .header("X-HubSpot-Request-Timestamp", now.to_string())
            .body(payload)
            .send()
    };
    assert_eq!(
        send(tampered, "application/json")
            .await
            .expect("post")
            .status(),
        401
    );
    assert_eq!(
        send(body.clone(), "text/plain")
            .await
            .expect("post")
            .status(),
        415
    );
    let unsigned = app
        .client
        .post(&url)
        .header("content-type", "application/json")
        .body(body.clone())
        .send()
        .await
        .expect("post");
    assert_eq!(unsigned.status(), 401);
    let huge = vec![b' '; 1024 * 1024 + 1];
    let too_big = send(huge, "application/json").await.expect("post");
    assert_eq!(too_big.status(), 413);
}

#[tokio::test]
async fn batches_and_limits_sqlite() {
    batches_and_limits(Backend::Sqlite).await;
}

#[tokio::test]
async fn batches_and_limits_postgres() {
    batches_and_limits(Backend::Postgres).await;
}

async fn insert_contact(app: &TestApp, id: i64, scored: bool) {
    contacts::Entity::insert(contacts::ActiveModel {
        portal_id: Set(PORTAL),
        id: Set(id),
        email: Set(None),
        first_name: Set(None),
        last_name: Set(None),
        job_title: Set(None),
        hs_seniority: Set(None),
        hs_role: Set(None),
        lifecycle_stage: Set(None),
        lead_status: Set(None),
        country: Set(None),
        company_id: Set(Some(77)),
        properties: Set(json!({})),
        hs_created_at: Set(None),
        hs_updated_at: Set(None),
        archived: Set(false),
        synced_at: Set(Utc::now()),
    })
    .exec(&app.db.conn)
    .await
    .expect("contact");
    if scored {
        scores::Entity::insert(scores::ActiveModel {
            portal_id: Set(PORTAL),
            contact_id: Set(id),
            score: Set(Some(81)),
            grade: Set(Some("A".into())),
            raw_score: Set(Some(0.9)),
            explanation: Set(None),
            top_factors: Set(None),
            unscorable_reason: Set(None),
            model_version: Set(Some(1)),
            scored_at: Set(Utc::now()),
            written_score: Set(None),
            written_grade: Set(None),
            written_explanation: Set(None),
            written_top_factors: Set(None),
            written_at: Set(None),
            writeback_error: Set(None),
        })
        .exec(&app.db.conn)
        .await
        .expect("score");
    }
}

#[tokio::test]
async fn deletions_merges_and_company_changes() {
    let app = spawn_app(Backend::Sqlite).await;
    insert_portal(&app.db.conn, PORTAL, PortalStatus::Ready)
        .await
        .expect("portal");
    for id in [1, 2, 3, 4] {
        insert_contact(&app, id, true).await;
    }
    let now = Utc::now().timestamp_millis();
    let base = |kind: &str, id: i64| json!({"portalId": PORTAL, "subscriptionType": kind, "objectId": id, "occurredAt": now, "eventId": id});
    let mut merge = base("contact.merge", 2);
    merge["primaryObjectId"] = json!(2);
    merge["mergedObjectIds"] = json!([2, 3]);
    let mut company = base("company.propertyChange", 77);
    company["propertyName"] = json!("industry");
    let result =
        report(post_signed(&app, &json!([base("contact.deletion", 1), merge, company])).await)
            .await;
    assert_eq!(result["archived"], 1);
    assert_eq!(result["purged"], 1);

    let contact = |id: i64| {
        let db = app.db.conn.clone();
        async move {
            contacts::Entity::find_by_id((PORTAL, id))
                .one(&db)
                .await
                .expect("read")
        }
    };
    assert_eq!(contact(1).await, None, "deleted contact purged");
    assert!(
        contact(3).await.expect("contact").archived,
        "merged-away contact archived"
    );
    assert!(
        !contact(2).await.expect("contact").archived,
        "the survivor stays"
    );
    let left: Vec<i64> = scores::Entity::find()
        .all(&app.db.conn)
        .await
        .expect("scores")
        .into_iter()
        .map(|s| s.contact_id)
        .collect();
    assert_eq!(left, vec![2, 4], "scores of removed contacts cleared");
    // The survivor and the company's remaining contacts are scored, once each.
    let mut scored: Vec<i64> = score_runs(&app)
        .await
        .iter()
        .flat_map(contact_ids)
        .collect();
    scored.sort_unstable();
    assert_eq!(scored, vec![2, 4]);
}

async fn failed_enqueue_is_recovered_on_redelivery(backend: Backend) {
    let app = spawn_app(backend).await;
    insert_portal(&app.db.conn, PORTAL, PortalStatus::Ready)
        .await
        .expect("portal");
    let now = Utc::now().timestamp_millis();
    let batch = json!([change(PORTAL, 9, "jobtitle", now)]);
    // Break the coalescing table so queueing fails after the event is recorded.
    app.db
        .conn
        .execute_unprepared("ALTER TABLE score_claims RENAME TO score_claims_away")
        .await
        .expect("rename");
    let failed = post_signed(&app, &batch).await;
    assert_eq!(failed.status(), 503);
    assert!(failed.headers().contains_key("retry-after"));
    let recorded = rows(&app).await;
    assert_eq!(recorded.len(), 1, "recorded before queueing");
    assert_eq!(recorded[0].job_run_id, None, "queueing not confirmed");
    assert!(score_runs(&app).await.is_empty());

    app.db
        .conn
        .execute_unprepared("ALTER TABLE score_claims_away RENAME TO score_claims")
        .await
        .expect("rename back");
    let redelivered = report(post_signed(&app, &batch).await).await;
    assert_eq!(
        redelivered["enqueued"], 1,
        "not swallowed by the de-duplication"
    );
    let runs = score_runs(&app).await;
    assert_eq!(runs.len(), 1);
    let recorded = rows(&app).await;
    assert_eq!(recorded.len(), 1);
    assert_eq!(recorded[0].job_run_id, Some(runs[0].id));
    // A third delivery is a plain duplicate.
    let third = report(post_signed(&app, &batch).await).await;
    assert_eq!(third["duplicates"], 1);
    assert_eq!(score_runs(&app).await.len(), 1);
}

#[tokio::test]
async fn failed_enqueue_is_recovered_on_redelivery_sqlite() {
    failed_enqueue_is_recovered_on_redelivery(Backend::Sqlite).await;
}

#[tokio::test]
async fn failed_enqueue_is_recovered_on_redelivery_postgres() {
    failed_enqueue_is_recovered_on_redelivery(Backend::Postgres).await;
}

#[tokio::test]
async fn a_burst_of_1000_events_for_100_contacts_coalesces() {
    let app = spawn_app(Backend::Sqlite).await;
    insert_portal(&app.db.conn, PORTAL, PortalStatus::Ready)
        .await
        .expect("portal");
    let now = Utc::now().timestamp_millis();
    for round in 0..10 {
        let batch: Vec<Value> = (1..=100)
            .map(|c| change(PORTAL, c, "jobtitle", now + round))
            .collect();
        let result = report(post_signed(&app, &json!(batch)).await).await;
        assert_eq!(
            result["enqueued"].as_u64().unwrap_or(0) + result["coalesced"].as_u64().unwrap_or(0),
            100
        );
    }
    assert_eq!(rows(&app).await.len(), 1000);
    let runs = score_runs(&app).await;
    let mut per_contact: HashMap<i64, usize> = HashMap::new();
    for run in &runs {
        for contact in contact_ids(run) {
            *per_contact.entry(contact).or_default() += 1;
        }
    }
    assert_eq!(per_contact.len(), 100);
    assert!(
        per_contact.values().all(|n| *n == 1),
        "no worker ran, so every later event folded into the first run: {per_contact:?}"
    );
    assert_eq!(runs.len(), 1);
}

#[tokio::test]
async fn disconnected_portals_are_acknowledged_and_ignored() {
    let app = spawn_app(Backend::Sqlite).await;
    insert_portal(&app.db.conn, PORTAL, PortalStatus::Disconnected)
        .await
        .expect("portal");
    let result = report(
        post_signed(
            &app,
            &json!([change(PORTAL, 1, "jobtitle", Utc::now().timestamp_millis())]),
        )
        .await,
    )
    .await;
    assert_eq!(result["ignored"], 1);
    assert!(score_runs(&app).await.is_empty());
    let recorded = rows(&app).await;
    assert_eq!(recorded[0].outcome, WebhookOutcome::Ignored);
}

#[tokio::test]
async fn hostile_bodies_get_a_clear_4xx_and_store_nothing() {
    let app = spawn_app(Backend::Sqlite).await;
    insert_portal(&app.db.conn, PORTAL, PortalStatus::Ready)
        .await
        .expect("portal");
    let now = Utc::now().timestamp_millis();
    let valid = serde_json::to_vec(&json!([change(PORTAL, 1, "jobtitle", now)])).expect("json");
    let event_with = |field: &str, value: Value| {
        let mut event = change(PORTAL, 1, "jobtitle", now);
        event[field] = value;
        serde_json::to_vec(&json!([event])).expect("json")
    };
    let nested = |depth: usize| format!("{}{}", "[".repeat(depth), "]".repeat(depth)).into_bytes();
    let mut deep_field = change(PORTAL, 2, "jobtitle", now);
    deep_field["extra"] = json!(null);
    let deep_field = serde_json::to_string(&json!([deep_field]))
        .expect("json")
        .replace("null", &String::from_utf8(nested(10_000)).expect("ascii"))
        .into_bytes();
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("a truncated body", valid[..valid.len() - 7].to_vec()),
        ("not JSON", b"hello, HubSpot".to_vec()),
        ("invalid UTF-8", b"[\"\xff\xfe\"]".to_vec()),
        ("an empty body", Vec::new()),
        ("null", b"null".to_vec()),
        ("an object, not a batch", b"{\"portalId\":1}".to_vec()),
        ("arrays nested 100,000 deep", nested(100_000)),
        ("a string object id", event_with("objectId", json!("abc"))),
        ("a fractional portal id", event_with("portalId", json!(1.5))),
        (
            "an out-of-range time",
            event_with("occurredAt", json!(i64::MAX)),
        ),
        (
            "a 512 KiB subscription type",
            event_with("subscriptionType", json!("x".repeat(512 * 1024))),
        ),
        (
            "a 300-character property name",
            event_with("propertyName", json!("p".repeat(300))),
        ),
        ("events that are not objects", b"[1, \"two\", [3]]".to_vec()),
    ];
    for (what, body) in cases {
        let response = post_signed_at(&app, &body, now).await;
        assert_eq!(response.status(), 400, "{what}");
        let error: Value = response.json().await.expect("JSON error body");
        assert_eq!(error["code"], "invalid_batch", "{what}: {error}");
    }
    assert!(rows(&app).await.is_empty(), "nothing recorded");
    assert!(score_runs(&app).await.is_empty(), "nothing queued");

    // A replay of one signed request: the copy is recognised; nothing new is stored or queued.
    let first = report(post_signed_at(&app, &valid, now).await).await;
    assert_eq!(first["enqueued"], 1);
    let replay = report(post_signed_at(&app, &valid, now).await).await;
    assert_eq!(replay["duplicates"], 1);
    assert_eq!(rows(&app).await.len(), 1);
    assert_eq!(score_runs(&app).await.len(), 1);
    // Replayed after the 5-minute window, or with its timestamp moved: refused.
    let url = app.url("/webhooks/hubspot");
    let signature = sign_v3(
        CLIENT_SECRET.as_bytes(),
        SignedRequest {
            method: "POST",
            uri: &url,
            body: &valid,
        },
        now - 6 * 60 * 1000,
    );
    for timestamp in [now - 6 * 60 * 1000, now] {
        let response = app
            .client
            .post(&url)
            .header("content-type", "application/json")
            .header("X-HubSpot-Signature-v3", signature.clone())
            .header("X-HubSpot-Request-Timestamp", timestamp.to_string())
            .body(valid.clone())
            .send()
            .await
            .expect("post");
        assert_eq!(response.status(), 401, "timestamp {timestamp}");
    }
    assert_eq!(rows(&app).await.len(), 1, "still one event");

    // An unknown field nested 10,000 deep is skipped without recursion (serde_json ignores
    // unknown values iteratively): the event itself is valid and recorded.
    let accepted = report(post_signed_at(&app, &deep_field, now).await).await;
    assert_eq!(accepted["duplicates"], 0, "{accepted}");
    assert_eq!(
        accepted["coalesced"], 1,
        "folded into the waiting run: {accepted}"
    );
    assert_eq!(rows(&app).await.len(), 2);
}
