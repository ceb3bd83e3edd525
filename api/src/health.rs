//! Liveness and readiness, for Heroku's router checks and for operators.

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use sea_orm::ConnectionTrait;
use serde::Serialize;

use crate::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/health", get(health))
        .route("/ready", get(ready))
}

/// The process is up; says nothing about its dependencies.
async fn health() -> &'static str {
    "ok"
}

#[derive(Serialize)]
struct Readiness {
    database: &'static str,
}

/// The process can do its work: the database answers.
async fn ready(State(state): State<AppState>) -> (StatusCode, Json<Readiness>) {
    match state.db.execute_unprepared("SELECT 1").await {
        Ok(_) => (StatusCode::OK, Json(Readiness { database: "ok" })),
        Err(error) => {
            tracing::warn!(%error, "readiness check: database unreachable");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(Readiness {
                    database: "unreachable",
                }),
            )
        }
    }
}
