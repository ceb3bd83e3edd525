//! Property-based fuzzing of every operation in the API's OpenAPI document: seeded random
//! requests — path and query parameters and JSON bodies generated from the document's schemas,
//! mutated with hostile values (wrong types, huge and negative numbers, NUL and invalid percent
//! escapes, path traversal, SQL and HTML, 5,000-character strings, deep nesting, missing and
//! extra fields) — with the admin token, a wrong one and none; webhook bodies signed like
//! HubSpot's. Every answer must be below 500 and the app must stay healthy (a panic in a handler
//! would be a 500 or a dropped connection).
//!
//! Not fuzzed, and why:
//! - `GET /api/jobs/{id}/events` for an existing run: a Server-Sent Events stream that stays
//!   open until the run finishes; its parameters are fuzzed against runs that do not exist.
//! - `GET /oauth/hubspot/callback`: every call exchanges a code with HubSpot; its failure pages
//!   are covered one by one in `api_oauth.rs`, and its state check is what stops a fuzzer.

use std::time::Duration;

use chrono::Utc;
use conturs_tests::app::{ADMIN_TOKEN, CLIENT_ID, CLIENT_SECRET};
use conturs_tests::fixtures::routes_fixture;
use conturs_tests::{AppOptions, Backend, spawn_app_with};
use hubspot::webhook::{SignedRequest, sign_v3};
use hubspot_sim::{SimConfig, Simulator};
use rand::rngs::StdRng;
use rand::seq::IndexedRandom;
use rand::{Rng, SeedableRng};
use serde_json::{Map, Value, json};

/// Requests per operation; the whole run takes seconds.
const CASES_PER_OPERATION: usize = 300;
const PORTAL: i64 = 4242;

/// Operations left out, with the reason in the module documentation.
const NOT_FUZZED: [&str; 1] = ["/oauth/hubspot/callback"];

fn hostile_strings(job: &str) -> Vec<String> {
    vec![
        String::new(),
        "0".into(),
        "-1".into(),
        "4242".into(),
        "9223372036854775807".into(),
        "9223372036854775808".into(),
        "-9223372036854775809".into(),
        "1e309".into(),
        "NaN".into(),
        "abc".into(),
        "%00".into(),
        "%ff%fe".into(),
        "\u{0}".into(),
        "../../etc/passwd".into(),
        "' OR 1=1 --".into(),
        "<script>alert(1)</script>".into(),
        "𝔘𝔫𝔦𝔠𝔬𝔡𝔢 ✓".into(),
        "x".repeat(5_000),
        "0190f6c8-6c35-7b1a-9f0a-1f2e3d4c5b6a".into(),
        job.to_owned(),
        "2026-11-27T00:00:00Z".into(),
        "9999-99-99T99:99:99Z".into(),
        "true".into(),
    ]
}

/// A hostile JSON value of any type.
fn hostile_value(rng: &mut StdRng, strings: &[String], depth: usize) -> Value {
    match rng.random_range(0..9) {
        0 => Value::Null,
        1 => json!(rng.random::<bool>()),
        2 => json!(
            [
                i64::MIN,
                -1,
                0,
                1,
                i64::MAX,
                u64::MAX as i64,
                4242,
                i32::MAX as i64 + 1
            ][rng.random_range(0..8)]
        ),
        3 => json!([1e308, -0.5, 1.5, f64::MIN_POSITIVE][rng.random_range(0..4)]),
        4 if depth < 3 => Value::Array(
            (0..rng.random_range(0..4))
                .map(|_| hostile_value(rng, strings, depth + 1))
                .collect(),
        ),
        5 if depth < 3 => {
            let mut map = Map::new();
            map.insert(
                strings.choose(rng).cloned().unwrap_or_default(),
                hostile_value(rng, strings, depth + 1),
            );
            Value::Object(map)
        }
        6 => {
            let depth = rng.random_range(100..2_000);
            serde_json::from_str(&format!("{}{}", "[".repeat(depth), "]".repeat(depth)))
                .unwrap_or(Value::Null)
        }
        _ => Value::String(strings.choose(rng).cloned().unwrap_or_default()),
    }
}

/// Follows `$ref`s into `components`.
fn resolve<'a>(doc: &'a Value, schema: &'a Value) -> &'a Value {
    match schema.get("$ref").and_then(Value::as_str) {
        Some(reference) => {
            let path = reference.trim_start_matches("#/");
            let target = path.split('/').fold(doc, |node, key| &node[key]);
            resolve(doc, target)
        }
        None => schema,
    }
}

/// A value for `schema`: mostly what it asks for, sometimes hostile.
fn generate(
    doc: &Value,
    schema: &Value,
    rng: &mut StdRng,
    strings: &[String],
    depth: usize,
) -> Value {
    if rng.random_bool(0.15) || depth > 6 {
        return hostile_value(rng, strings, depth);
    }
    let schema = resolve(doc, schema);
    for key in ["oneOf", "anyOf"] {
        if let Some(choices) = schema.get(key).and_then(Value::as_array)
            && let Some(choice) = choices.choose(rng)
        {
            return generate(doc, choice, rng, strings, depth + 1);
        }
    }
    if let Some(all) = schema.get("allOf").and_then(Value::as_array) {
        let mut merged = Map::new();
        for part in all {
            if let Value::Object(map) = generate(doc, part, rng, strings, depth + 1) {
                merged.extend(map);
            }
        }
        return Value::Object(merged);
    }
    if let Some(choices) = schema.get("enum").and_then(Value::as_array)
        && let Some(choice) = choices.choose(rng)
    {
        return choice.clone();
    }
    let kind = match schema.get("type") {
        Some(Value::Array(types)) => types
            .choose(rng)
            .and_then(Value::as_str)
            .unwrap_or("null")
            .to_owned(),
        Some(Value::String(kind)) => kind.clone(),
        _ => "object".to_owned(),
    };
    match kind.as_str() {
        "null" => Value::Null,
        "boolean" => json!(rng.random::<bool>()),
        "integer" => json!(rng.random_range(-5..5_000)),
        "number" => json!(rng.random_range(-5.0..5_000.0)),
        "string" => match schema.get("format").and_then(Value::as_str) {
            Some("uuid") => json!(uuid::Uuid::now_v7().to_string()),
            Some("date-time") => json!(Utc::now().to_rfc3339()),
            _ => json!(strings.choose(rng).cloned().unwrap_or_default()),
        },
        "array" => {
            let items = schema.get("items").cloned().unwrap_or(json!({}));
            Value::Array(
                (0..rng.random_range(0..6))
                    .map(|_| generate(doc, &items, rng, strings, depth + 1))
                    .collect(),
            )
        }
        _ => {
            let mut map = Map::new();
            let required: Vec<&str> = schema
                .get("required")
                .and_then(Value::as_array)
                .map(|r| r.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default();
            if let Some(properties) = schema.get("properties").and_then(Value::as_object) {
                for (name, property) in properties {
                    if required.contains(&name.as_str()) && !rng.random_bool(0.1)
                        || rng.random_bool(0.5)
                    {
                        map.insert(
                            name.clone(),
                            generate(doc, property, rng, strings, depth + 1),
                        );
                    }
                }
            }
            if rng.random_bool(0.1) {
                map.insert("unexpected".into(), hostile_value(rng, strings, depth + 1));
            }
            Value::Object(map)
        }
    }
}

fn as_text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn encode(segment: &str) -> String {
    url::form_urlencoded::byte_serialize(segment.as_bytes()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_operation_answers_below_500_whatever_it_is_sent() {
    let sim = Simulator::start(SimConfig::new(CLIENT_ID, CLIENT_SECRET))
        .await
        .expect("simulator");
    let app = spawn_app_with(AppOptions::new(Backend::Sqlite).hubspot(sim.base_url())).await;
    let job = routes_fixture(&app, PORTAL).await;
    let doc: Value = app
        .get("/api/openapi.json")
        .await
        .json()
        .await
        .expect("document");
    let strings = hostile_strings(&job);
    let mut rng = StdRng::seed_from_u64(0x0C01_70B5);
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(20))
        .build()
        .expect("client");

    let mut sent = 0;
    let mut statuses = std::collections::BTreeMap::<u16, usize>::new();
    let paths = doc["paths"].as_object().expect("paths").clone();
    for (template, item) in &paths {
        if NOT_FUZZED.contains(&template.as_str()) {
            continue;
        }
        for (method, operation) in item.as_object().expect("path item") {
            let Ok(method) = method.to_uppercase().parse::<reqwest::Method>() else {
                continue;
            };
            let parameters: Vec<&Value> = operation["parameters"]
                .as_array()
                .map(|p| p.iter().map(|p| resolve(&doc, p)).collect())
                .unwrap_or_default();
            let body_schema =
                operation["requestBody"]["content"]["application/json"]["schema"].clone();
            for _ in 0..CASES_PER_OPERATION {
                let mut path = template.clone();
                let mut query = Vec::new();
                for parameter in &parameters {
                    let name = parameter["name"].as_str().expect("name");
                    let value =
                        as_text(&generate(&doc, &parameter["schema"], &mut rng, &strings, 0));
                    match parameter["in"].as_str() {
                        Some("path") => {
                            // An existing run's event stream would stay open: unknown runs only.
                            let value = if template.ends_with("/events") && value == job {
                                "0190f6c8-6c35-7b1a-9f0a-1f2e3d4c5b6a".to_owned()
                            } else {
                                value
                            };
                            path = path.replace(&format!("{{{name}}}"), &encode(&value));
                        }
                        Some("query") if rng.random_bool(0.7) => {
                            query.push((name.to_owned(), value))
                        }
                        _ => {}
                    }
                }
                let mut request = client.request(method.clone(), app.url(&path)).query(&query);
                let body = (!body_schema.is_null() || rng.random_bool(0.1)).then(|| {
                    serde_json::to_vec(&generate(&doc, &body_schema, &mut rng, &strings, 0))
                        .expect("json")
                });
                if let Some(body) = &body {
                    request = request
                        .header("content-type", "application/json")
                        .body(body.clone());
                }
                request = match rng.random_range(0..10) {
                    0 => request,
                    1 => request.bearer_auth("not-the-admin-token"),
                    _ => request.bearer_auth(ADMIN_TOKEN),
                };
                if template == "/webhooks/hubspot" && rng.random_bool(0.8) {
                    let now = Utc::now().timestamp_millis();
                    let url = app.url(&path);
                    let signature = sign_v3(
                        CLIENT_SECRET.as_bytes(),
                        SignedRequest {
                            method: "POST",
                            uri: &url,
                            body: body.as_deref().unwrap_or_default(),
                        },
                        now,
                    );
                    request = request
                        .header("X-HubSpot-Signature-v3", signature)
                        .header("X-HubSpot-Request-Timestamp", now.to_string());
                }
                let response = request.send().await.unwrap_or_else(|e| {
                    panic!("{method} {path}?{query:?}: no answer (a panic?): {e}")
                });
                let status = response.status();
                let text = response.text().await.unwrap_or_default();
                assert!(
                    status.as_u16() < 500,
                    "{method} {path}?{query:?} body {:?} → {status}: {text}",
                    body.as_deref().map(String::from_utf8_lossy)
                );
                sent += 1;
                *statuses.entry(status.as_u16()).or_default() += 1;
            }
        }
    }
    assert!(
        sent >= 15 * CASES_PER_OPERATION,
        "every operation was fuzzed ({sent} requests)"
    );
    assert_eq!(app.get("/readyz").await.status(), 200, "healthy afterwards");
    let succeeded: usize = statuses.range(200..300).map(|(_, n)| n).sum();
    assert!(
        succeeded * 10 >= sent,
        "at least a tenth of the requests get past validation and auth: {statuses:?}"
    );
    eprintln!("api fuzz: {sent} requests, none answered 5xx; statuses {statuses:?}");
}
