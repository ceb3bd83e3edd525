//! The API answers health and readiness checks, and readiness tells the truth about the database.

use conturs_tests::{Backend, spawn_app};

#[tokio::test]
async fn health_and_ready_on_both_backends() {
    for backend in Backend::ALL {
        let app = spawn_app(backend).await;
        let health = app.get("/health").await;
        assert_eq!(health.status(), 200);
        assert_eq!(health.text().await.expect("body"), "ok");

        let ready = app.get("/ready").await;
        assert_eq!(ready.status(), 200, "{backend:?}");
        let body: serde_json::Value = ready.json().await.expect("json");
        assert_eq!(body["database"], "ok");
    }
}

#[tokio::test]
async fn ready_reports_an_unreachable_database() {
    let app = spawn_app(Backend::Sqlite).await;
    app.db.conn.clone().close().await.expect("close pool");
    let ready = app.get("/ready").await;
    assert_eq!(ready.status(), 503);
    let body: serde_json::Value = ready.json().await.expect("json");
    assert_eq!(body["database"], "unreachable");
}

#[tokio::test]
async fn unknown_paths_are_404() {
    let app = spawn_app(Backend::Sqlite).await;
    assert_eq!(app.get("/nope").await.status(), 404);
}
