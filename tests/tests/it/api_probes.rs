//! `/healthz` and `/readyz` (and their older names): readiness covers the database and the
//! queue, and says which one is down.

use conturs_tests::{Backend, spawn_app};
use serde_json::Value;

#[tokio::test]
async fn probes_on_both_backends() {
    // SQLite runs the embedded queue, Postgres the Redis one.
    for backend in Backend::ALL {
        let app = spawn_app(backend).await;
        for path in ["/healthz", "/health"] {
            let response = app.get(path).await;
            assert_eq!(response.status(), 200);
            assert_eq!(response.text().await.expect("body"), "ok");
        }
        for path in ["/readyz", "/ready"] {
            let response = app.get(path).await;
            assert_eq!(response.status(), 200, "{backend:?} {path}");
            let body: Value = response.json().await.expect("json");
            assert_eq!(body["database"], "ok");
            assert_eq!(body["queue"], "ok");
        }
    }
}

#[tokio::test]
async fn readyz_names_what_is_down() {
    let app = spawn_app(Backend::Sqlite).await;
    app.db.conn.clone().close().await.expect("close pool");
    let response = app.get("/readyz").await;
    assert_eq!(response.status(), 503);
    assert!(response.headers().contains_key("retry-after"));
    let body: Value = response.json().await.expect("json");
    assert_eq!(body["database"], "unreachable");
    assert_eq!(
        body["queue"], "unreachable",
        "the embedded queue lives in the database"
    );
    // Liveness does not depend on the database.
    assert_eq!(app.get("/healthz").await.status(), 200);
}
