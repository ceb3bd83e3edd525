//! `GET /api/openapi.json`: the OpenAPI 3.1 document generated from the router. It parses
//! with a typed OpenAPI parser, every `$ref` resolves and every schema is valid JSON Schema; it
//! lists exactly the routes below, each of which the live app serves; `/api/*` and `/metrics`
//! operations declare the admin bearer token (and the live app enforces it) and their 401 error
//! body; the public ones declare no security. Live answers, errors included, are checked
//! against the document: a declared status and content type, and a body that validates
//! (`jsonschema`).

use std::collections::BTreeSet;

use conturs_tests::app::ADMIN_TOKEN;
use conturs_tests::{Backend, TestApp, spawn_app};
use entity::{JobStatus, JobType, Lane, PortalStatus};
use sea_orm::Iterable;
use serde_json::{Value, json};

/// Every route the API serves, as the document must list it.
const ROUTES: &[(&str, &str)] = &[
    ("GET", "/healthz"),
    ("GET", "/health"),
    ("GET", "/readyz"),
    ("GET", "/ready"),
    ("GET", "/oauth/hubspot/install"),
    ("GET", "/oauth/hubspot/callback"),
    ("POST", "/webhooks/hubspot"),
    ("GET", "/metrics"),
    ("GET", "/api/openapi.json"),
    ("POST", "/api/jobs"),
    ("GET", "/api/jobs"),
    ("GET", "/api/jobs/{id}"),
    ("GET", "/api/jobs/{id}/events"),
    ("POST", "/api/jobs/{id}/retry"),
    ("POST", "/api/jobs/{id}/cancel"),
    ("GET", "/api/portals"),
    ("GET", "/api/portals/{id}"),
    ("POST", "/api/portals/{id}/disconnect"),
    ("GET", "/api/portals/{portal}/scores/top"),
    ("GET", "/api/portals/{portal}/contacts/{contact}/score"),
    // Last: it deletes the portal's data the routes above read.
    ("POST", "/api/portals/{id}/purge"),
];

/// The one `/api` route that needs no admin token.
const DOCUMENT: &str = "/api/openapi.json";

/// `/api/*` but the document, and `/metrics`, need the admin token.
fn is_admin_route(path: &str) -> bool {
    (path.starts_with("/api/") && path != DOCUMENT) || path == "/metrics"
}

/// Fetches the document without a token and parses it twice: typed, and as plain JSON.
async fn document(app: &TestApp) -> (oas3::Spec, Value) {
    let response = app.get(DOCUMENT).await;
    assert_eq!(response.status(), 200, "the document is public");
    assert!(
        response.headers()["content-type"]
            .to_str()
            .expect("ascii")
            .starts_with("application/json")
    );
    let text = response.text().await.expect("body");
    let spec =
        oas3::from_json(&text).unwrap_or_else(|e| panic!("not an OpenAPI 3.1 document: {e}"));
    let json: Value = serde_json::from_str(&text).expect("JSON");
    (spec, json)
}

/// Every `(METHOD, path)` the document lists.
fn listed(spec: &oas3::Spec) -> BTreeSet<(String, String)> {
    spec.operations()
        .map(|(path, method, _)| (method.as_str().to_owned(), path))
        .collect()
}

/// Every `"$ref"` string anywhere in `value`.
fn refs(value: &Value, found: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            for (key, inner) in map {
                match (key.as_str(), inner) {
                    ("$ref", Value::String(target)) => found.push(target.clone()),
                    _ => refs(inner, found),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|item| refs(item, found)),
        _ => {}
    }
}

/// The document's operation object for `method` and `path`, as JSON.
fn operation<'a>(json: &'a Value, method: &str, path: &str) -> &'a Value {
    let op = &json["paths"][path][method.to_ascii_lowercase()];
    assert!(op.is_object(), "{method} {path} is not in the document");
    op
}

/// A schema from the document, made a standalone JSON Schema (2020-12, the dialect of
/// OpenAPI 3.1) whose `#/components/...` references resolve; building it also checks the
/// schema against the JSON Schema meta-schema.
fn validator(json: &Value, schema: &Value) -> jsonschema::Validator {
    let mut root = match schema {
        Value::Object(map) => map.clone(),
        other => panic!("schema {other} is not an object"),
    };
    root.insert("components".to_owned(), json["components"].clone());
    jsonschema::options()
        .should_validate_formats(true)
        .build(&Value::Object(root))
        .unwrap_or_else(|e| panic!("{schema} is not a valid JSON Schema: {e}"))
}

/// Checks a live answer against the document: its status is declared for the operation, its
/// content type is a declared one, and a JSON body validates against the declared schema.
/// Event streams are not read (they stay open while their job runs).
async fn conforms(json: &Value, method: &str, template: &str, response: reqwest::Response) {
    let status = response.status().as_u16().to_string();
    let declared = &operation(json, method, template)["responses"][&status];
    let declared = match declared["$ref"].as_str() {
        Some(target) => json
            .pointer(target.trim_start_matches('#'))
            .expect("response resolves"),
        None => declared,
    };
    assert!(
        declared.is_object(),
        "{method} {template} answered {status}, which the document does not declare"
    );
    let Some(content) = declared["content"].as_object() else {
        return;
    };
    let content_type = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let (media, body) = content
        .iter()
        .find(|(media, _)| content_type.starts_with(media.as_str()))
        .unwrap_or_else(|| {
            panic!("{method} {template} {status}: {content_type:?} is not a declared content type")
        });
    if media != "application/json" {
        return;
    }
    let value: Value = response.json().await.expect("a JSON body");
    let errors: Vec<String> = validator(json, &body["schema"])
        .iter_errors(&value)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(
        errors.is_empty(),
        "{method} {template} {status} does not match its schema: {errors:?}\n{value}"
    );
}

/// The `{name}`s of a path template.
fn path_params(path: &str) -> Vec<&str> {
    path.split('/')
        .filter_map(|s| s.strip_prefix('{')?.strip_suffix('}'))
        .collect()
}

#[tokio::test]
async fn document_parses_as_openapi_3_1_and_every_ref_resolves() {
    let app = spawn_app(Backend::Sqlite).await;
    let (spec, json) = document(&app).await;
    let version = spec.validate_version().expect("a supported version");
    assert_eq!((version.major, version.minor), (3, 1), "OpenAPI 3.1");
    assert_eq!(spec.info.title, "Conturs API");

    let mut targets = Vec::new();
    refs(&json, &mut targets);
    assert!(targets.len() > 20, "the document uses shared components");
    for target in &targets {
        let pointer = target
            .strip_prefix('#')
            .unwrap_or_else(|| panic!("{target} points outside the document"));
        assert!(json.pointer(pointer).is_some(), "{target} does not resolve");
    }

    let mut ids = BTreeSet::new();
    for (path, method, op) in spec.operations() {
        let id = op.operation_id.clone().expect("every operation has an id");
        assert!(ids.insert(id.clone()), "operation id {id} is used twice");
        let params = op
            .parameters(&spec)
            .unwrap_or_else(|e| panic!("{method} {path} parameters: {e}"));
        for name in path_params(&path) {
            let param = params
                .iter()
                .find(|p| p.name == name)
                .unwrap_or_else(|| panic!("{method} {path} does not declare {{{name}}}"));
            assert_eq!(param.location, oas3::spec::ParameterIn::Path);
            assert_eq!(param.required, Some(true));
            assert!(param.schema.is_some(), "{{{name}}} has a type");
        }
        op.request_body(&spec)
            .unwrap_or_else(|e| panic!("{method} {path} request body: {e}"));
        let declared = op.responses.as_ref().map_or(0, |r| r.len());
        assert!(declared > 0, "{method} {path} declares its responses");
        assert_eq!(
            op.responses(&spec).len(),
            declared,
            "{method} {path}: every response resolves"
        );
    }

    // Path parameters carry their types: job ids are UUIDs, portal and contact ids integers.
    let job = operation(&json, "GET", "/api/jobs/{id}");
    assert_eq!(job["parameters"][0]["schema"]["type"], "string");
    assert_eq!(job["parameters"][0]["schema"]["format"], "uuid");
    let score = operation(
        &json,
        "GET",
        "/api/portals/{portal}/contacts/{contact}/score",
    );
    for param in score["parameters"].as_array().expect("parameters") {
        assert_eq!(param["schema"]["type"], "integer", "{param}");
    }

    // Entity enums are string enums with exactly the values the API reads and writes.
    let schemas = &json["components"]["schemas"];
    for (name, values) in [
        (
            "JobStatus",
            JobStatus::iter().map(|v| json!(v)).collect::<Vec<_>>(),
        ),
        (
            "JobType",
            JobType::iter().map(|v| json!(v)).collect::<Vec<_>>(),
        ),
        ("Lane", Lane::iter().map(|v| json!(v)).collect::<Vec<_>>()),
        (
            "PortalStatus",
            PortalStatus::iter().map(|v| json!(v)).collect::<Vec<_>>(),
        ),
    ] {
        assert_eq!(schemas[name]["type"], "string", "{name}");
        assert_eq!(schemas[name]["enum"], Value::Array(values), "{name}");
    }
    // Every component schema is a valid JSON Schema.
    for schema in schemas.as_object().expect("schemas").values() {
        validator(&json, schema);
    }
    let run = &schemas["JobRun"]["properties"];
    assert_eq!(run["id"]["format"], "uuid");
    assert_eq!(run["created_at"]["format"], "date-time");
    assert_eq!(run["status"]["$ref"], "#/components/schemas/JobStatus");

    // Query parameters, their types and bounds, as the handlers enforce them.
    let list = operation(&json, "GET", "/api/jobs");
    let names: BTreeSet<&str> = list["parameters"]
        .as_array()
        .expect("parameters")
        .iter()
        .map(|p| {
            assert_eq!(p["in"], "query");
            assert_ne!(p["required"], true, "filters are optional");
            p["name"].as_str().expect("name")
        })
        .collect();
    assert_eq!(
        names,
        BTreeSet::from([
            "type",
            "status",
            "portal",
            "created_after",
            "created_before",
            "cursor",
            "limit"
        ])
    );
    let request = &operation(&json, "POST", "/api/jobs")["requestBody"]["content"];
    assert_eq!(
        request["application/json"]["schema"]["$ref"],
        "#/components/schemas/CreateJob"
    );

    // The job request: one closed variant per job type the API makes (all but `noop`), and
    // the app accepts exactly the bodies the schema accepts.
    let types: BTreeSet<String> = schemas["CreateJob"]["oneOf"]
        .as_array()
        .expect("one variant per job type")
        .iter()
        .map(|variant| {
            assert_eq!(variant["additionalProperties"], false, "{variant}");
            variant["properties"]["type"]["enum"][0]
                .as_str()
                .expect("the variant's type")
                .to_owned()
        })
        .collect();
    let made: BTreeSet<String> = JobType::iter()
        .filter(|t| *t != JobType::Noop)
        .map(|t| json!(t).as_str().expect("a string").to_owned())
        .collect();
    assert_eq!(types, made);
    let portal = 4_243_i64;
    jobs::portals::record_portal(&app.db.conn, portal, PortalStatus::Ready, &[])
        .await
        .expect("portal");
    let body_schema = validator(&json, &request["application/json"]["schema"]);
    let too_many: Vec<i64> = (0..10_001).collect();
    for (body, accepted) in [
        (json!({"type": "initial_sync", "portal_id": portal}), true),
        (json!({"type": "train_model", "portal_id": portal}), true),
        (json!({"type": "nightly_resync", "portal_id": portal}), true),
        (
            json!({"type": "score_contact", "portal_id": portal, "contact_ids": [1, 1], "lane": "realtime"}),
            true,
        ),
        (
            json!({"type": "write_back", "portal_id": portal, "contact_ids": [2], "lane": null}),
            true,
        ),
        (json!({"type": "score_contact", "portal_id": portal}), false),
        (
            json!({"type": "write_back", "portal_id": portal, "contact_ids": []}),
            false,
        ),
        (
            json!({"type": "score_contact", "portal_id": portal, "contact_ids": too_many}),
            false,
        ),
        (
            json!({"type": "initial_sync", "portal_id": portal, "contact_ids": [1]}),
            false,
        ),
        (
            json!({"type": "train_model", "portal_id": portal, "lane": "bulk"}),
            false,
        ),
        (json!({"type": "noop", "portal_id": portal}), false),
        (json!({"type": "initial_sync"}), false),
        (
            json!({"type": "initial_sync", "portal_id": portal, "extra": 1}),
            false,
        ),
    ] {
        assert_eq!(
            body_schema.is_valid(&body),
            accepted,
            "the schema on {body}"
        );
        let status = app.admin_post("/api/jobs", &body).await.status().as_u16();
        let expected = if accepted { 202 } else { 422 };
        assert_eq!(status, expected, "the app on {body}");
    }
    for (template, path, name, max) in [
        ("/api/jobs", "/api/jobs", "limit", 200),
        (
            "/api/portals/{portal}/scores/top",
            "/api/portals/1/scores/top",
            "n",
            500,
        ),
    ] {
        let param = operation(&json, "GET", template)["parameters"]
            .as_array()
            .expect("parameters")
            .iter()
            .find(|p| p["name"] == name)
            .unwrap_or_else(|| panic!("{template} declares {name}"))
            .clone();
        assert_eq!(param["schema"]["minimum"], 1, "{name}");
        assert_eq!(param["schema"]["maximum"], max, "{name}");
        for (value, status) in [(1, 200), (max, 200), (max + 1, 400), (0, 400)] {
            let got = app.admin_get(&format!("{path}?{name}={value}")).await;
            assert_eq!(got.status(), status, "{path}?{name}={value}");
        }
    }
}

/// Fills a path template with values that exist in `app`.
fn concrete(template: &str, job: &str, portal: i64) -> String {
    let portal = portal.to_string();
    let value = |name: &str| match name {
        "id" if template.starts_with("/api/jobs") => job.to_owned(),
        "id" | "portal" => portal.clone(),
        "contact" => "1".to_owned(),
        other => panic!("no value for {{{other}}} in {template}"),
    };
    template
        .split('/')
        .map(
            |segment| match segment.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
                Some(name) => value(name),
                None => segment.to_owned(),
            },
        )
        .collect::<Vec<_>>()
        .join("/")
}

#[tokio::test]
async fn document_lists_exactly_the_routes_the_app_serves() {
    let app = spawn_app(Backend::Sqlite).await;
    let (spec, json) = document(&app).await;
    let expected: BTreeSet<(String, String)> = ROUTES
        .iter()
        .map(|(method, path)| ((*method).to_owned(), (*path).to_owned()))
        .collect();
    assert_eq!(listed(&spec), expected);

    // Real rows, so that routes with ids answer as they would in use.
    let portal = 4_242_i64;
    let job = conturs_tests::fixtures::routes_fixture(&app, portal).await;

    for (method, template) in ROUTES {
        let path = concrete(template, &job, portal);
        let mut request = app
            .client
            .request(method.parse().expect("method"), app.url(&path));
        if is_admin_route(template) {
            request = request.bearer_auth(ADMIN_TOKEN);
        }
        if *template == "/api/jobs" && *method == "POST" {
            request = request.json(&json!({"type": "train_model", "portal_id": portal}));
        } else if *template == "/webhooks/hubspot" {
            request = request.json(&json!([]));
        }
        let response = request.send().await.expect("request");
        let status = response.status().as_u16();
        assert!(
            status != 404 && status != 405,
            "{method} {path} is listed but answers {status}"
        );
        conforms(&json, method, template, response).await;
    }
}

#[tokio::test]
async fn api_operations_require_the_admin_bearer_and_public_ones_do_not() {
    let app = spawn_app(Backend::Sqlite).await;
    let (spec, json) = document(&app).await;
    assert!(spec.security.is_empty(), "no document-wide security");
    let scheme = &json["components"]["securitySchemes"]["admin_token"];
    assert_eq!(scheme["type"], "http");
    assert_eq!(scheme["scheme"], "bearer");

    let mut protected = 0;
    for (path, method, op) in spec.operations() {
        if is_admin_route(&path) {
            protected += 1;
            assert_eq!(op.security.len(), 1, "{method} {path}");
            let requirement = &op.security[0].0;
            assert_eq!(
                requirement.keys().collect::<Vec<_>>(),
                vec!["admin_token"],
                "{method} {path}"
            );
            // What the document says is what the app does: no token, no answer.
            let concrete_path = concrete(&path, "0190f6c8-6c35-7b1a-9f0a-1f2e3d4c5b6a", 1);
            let response = app
                .client
                .request(method.clone(), app.url(&concrete_path))
                .send()
                .await
                .expect("request");
            assert_eq!(response.status(), 401, "{method} {path} without a token");
            conforms(&json, method.as_str(), &path, response).await;
            // Nor with a wrong one (a prefix of the real one, another scheme, the token bare).
            for wrong in [
                format!("Bearer {}", &ADMIN_TOKEN[..ADMIN_TOKEN.len() - 1]),
                format!("Bearer {ADMIN_TOKEN}x"),
                format!("Basic {ADMIN_TOKEN}"),
                ADMIN_TOKEN.to_owned(),
            ] {
                let response = app
                    .client
                    .request(method.clone(), app.url(&concrete_path))
                    .header("authorization", wrong)
                    .send()
                    .await
                    .expect("request");
                assert_eq!(response.status(), 401, "{method} {path} with a wrong token");
            }
        } else {
            assert!(op.security.is_empty(), "{method} {path} is public");
        }
    }
    assert_eq!(
        protected, 13,
        "every /api route but the document, and /metrics"
    );
}

#[tokio::test]
async fn api_operations_declare_their_json_error_bodies() {
    let app = spawn_app(Backend::Sqlite).await;
    let (spec, json) = document(&app).await;

    let error_body = &json["components"]["schemas"]["ErrorBody"];
    let mut required: Vec<&str> = error_body["required"]
        .as_array()
        .expect("required")
        .iter()
        .map(|v| v.as_str().expect("name"))
        .collect();
    required.sort_unstable();
    assert_eq!(required, ["code", "message", "status"]);

    for (path, method, op) in spec.operations() {
        let responses = op.responses(&spec);
        if is_admin_route(&path) {
            let unauthorized = responses
                .get("401")
                .unwrap_or_else(|| panic!("{method} {path} declares 401"));
            assert!(
                unauthorized.headers.contains_key("WWW-Authenticate"),
                "{method} {path}"
            );
            let schema = unauthorized.content["application/json"]
                .schema
                .as_ref()
                .expect("401 schema")
                .resolve(&spec)
                .expect("401 schema resolves");
            let oas3::spec::Schema::Object(schema) = schema else {
                panic!("{method} {path}: the 401 body is an object schema");
            };
            let oas3::spec::ObjectOrReference::Object(schema) = *schema else {
                panic!("{method} {path}: resolved schemas are inline");
            };
            assert!(schema.properties.contains_key("code"), "{method} {path}");
        }
        // Every JSON error answer of the API and the webhook is the one error shape.
        if is_admin_route(&path) || path.starts_with("/webhooks/") {
            let raw = &operation(&json, method.as_str(), &path)["responses"];
            for (status, response) in raw.as_object().expect("responses") {
                if !(status.starts_with('4') || status.starts_with('5')) {
                    continue;
                }
                let response = match response["$ref"].as_str() {
                    Some(target) => json
                        .pointer(target.trim_start_matches('#'))
                        .expect("response resolves"),
                    None => response,
                };
                assert_eq!(
                    response["content"]["application/json"]["schema"]["$ref"],
                    "#/components/schemas/ErrorBody",
                    "{method} {path} {status}"
                );
            }
        }
    }

    // Error answers of the live app are declared, with bodies that match.
    let unknown = "0190f6c8-6c35-7b1a-9f0a-1f2e3d4c5b6a";
    let cases: [(&str, &str, String, Option<Value>, u16); 8] = [
        (
            "GET",
            "/api/jobs/{id}",
            "/api/jobs/not-a-uuid".into(),
            None,
            400,
        ),
        (
            "GET",
            "/api/jobs/{id}",
            format!("/api/jobs/{unknown}"),
            None,
            404,
        ),
        (
            "POST",
            "/api/jobs/{id}/retry",
            format!("/api/jobs/{unknown}/retry"),
            None,
            404,
        ),
        ("GET", "/api/jobs", "/api/jobs?limit=0".into(), None, 400),
        (
            "GET",
            "/api/portals/{id}",
            "/api/portals/999".into(),
            None,
            404,
        ),
        (
            "GET",
            "/api/portals/{portal}/contacts/{contact}/score",
            "/api/portals/1/contacts/2/score".into(),
            None,
            404,
        ),
        (
            "POST",
            "/api/jobs",
            "/api/jobs".into(),
            Some(json!({"type": "bogus", "portal_id": 1})),
            422,
        ),
        (
            "POST",
            "/api/jobs",
            "/api/jobs".into(),
            Some(json!({"type": "noop", "portal_id": 1})),
            422,
        ),
    ];
    for (method, template, path, body, status) in cases {
        let mut request = app
            .client
            .request(method.parse().expect("method"), app.url(&path))
            .bearer_auth(ADMIN_TOKEN);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.expect("request");
        assert_eq!(response.status(), status, "{method} {path}");
        conforms(&json, method, template, response).await;
    }

    // And the live 401 has exactly the declared fields.
    let live: Value = app.get("/api/portals").await.json().await.expect("json");
    let mut fields: Vec<&str> = live
        .as_object()
        .expect("object")
        .keys()
        .map(String::as_str)
        .collect();
    fields.sort_unstable();
    assert_eq!(fields, required);
}
