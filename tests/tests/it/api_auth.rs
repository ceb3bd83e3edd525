//! Admin authentication on `/api/*` and the one JSON error shape: every bad request gets a
//! 4xx with `{status, code, message}`, never a plain-text body or a 500.

use conturs_tests::app::ADMIN_TOKEN;
use conturs_tests::{Backend, spawn_app};
use serde_json::{Value, json};

async fn error_body(response: reqwest::Response, status: u16, code: &str) -> Value {
    assert_eq!(response.status(), status);
    assert!(
        response.headers()["content-type"]
            .to_str()
            .expect("ascii")
            .starts_with("application/json"),
        "JSON error body"
    );
    let body: Value = response.json().await.expect("json");
    assert_eq!(body["status"], status);
    assert_eq!(body["code"], code, "{body}");
    assert!(body["message"].as_str().is_some_and(|m| !m.is_empty()));
    body
}

#[tokio::test]
async fn api_requires_the_admin_bearer_token() {
    let app = spawn_app(Backend::Sqlite).await;
    let none = app.get("/api/jobs").await;
    assert!(none.headers().contains_key("www-authenticate"));
    error_body(none, 401, "unauthorized").await;
    for bad in [
        format!("Bearer {ADMIN_TOKEN}x"),
        "Bearer ".to_owned(),
        format!("Basic {ADMIN_TOKEN}"),
        ADMIN_TOKEN.to_owned(),
    ] {
        let response = app
            .client
            .get(app.url("/api/jobs"))
            .header("authorization", bad)
            .send()
            .await
            .expect("request");
        error_body(response, 401, "unauthorized").await;
    }
    let ok = app.admin_get("/api/jobs").await;
    assert_eq!(ok.status(), 200);
    // The scheme is case-insensitive.
    let lower = app
        .client
        .get(app.url("/api/jobs"))
        .header("authorization", format!("bearer {ADMIN_TOKEN}"))
        .send()
        .await
        .expect("request");
    assert_eq!(lower.status(), 200);
}

#[tokio::test]
async fn bad_input_gets_the_json_error_shape() {
    let app = spawn_app(Backend::Sqlite).await;
    error_body(app.admin_get("/api/nope").await, 404, "not_found").await;
    error_body(
        app.admin_get("/api/jobs/not-a-uuid").await,
        400,
        "invalid_path",
    )
    .await;
    error_body(
        app.admin_get("/api/jobs?limit=lots").await,
        400,
        "invalid_query",
    )
    .await;
    error_body(
        app.admin_get("/api/jobs?limit=0").await,
        400,
        "invalid_query",
    )
    .await;
    error_body(
        app.admin_get("/api/jobs?status=exploded").await,
        400,
        "invalid_query",
    )
    .await;
    let post = |body: Vec<u8>, content_type: &'static str| {
        app.client
            .post(app.url("/api/jobs"))
            .bearer_auth(ADMIN_TOKEN)
            .header("content-type", content_type)
            .body(body)
            .send()
    };
    error_body(
        post(b"{not json".to_vec(), "application/json")
            .await
            .expect("post"),
        400,
        "bad_request",
    )
    .await;
    error_body(
        post(b"{}".to_vec(), "text/plain").await.expect("post"),
        415,
        "unsupported_media_type",
    )
    .await;
    error_body(
        app.admin_post("/api/jobs", &json!({"type": "bogus", "portal_id": 1}))
            .await,
        422,
        "invalid_body",
    )
    .await;
    let huge = format!(
        "{{\"type\":\"initial_sync\",\"portal_id\":1,\"pad\":\"{}\"}}",
        "x".repeat(1024 * 1024 + 10)
    );
    error_body(
        post(huge.into_bytes(), "application/json")
            .await
            .expect("post"),
        413,
        "payload_too_large",
    )
    .await;
}
