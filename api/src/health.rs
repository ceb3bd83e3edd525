//! Liveness and readiness, for Heroku's router checks and for operators: `/healthz` (the
//! process is up) and `/readyz` (the database and the queue answer); `/health` and `/ready` are
//! the older names of the same checks.

use std::time::Duration;

use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use jobs::QueueBackend;
use sea_orm::ConnectionTrait;
use serde::Serialize;

use crate::AppState;
use crate::error::OUTAGE_RETRY_AFTER_SECS;

/// How long a readiness probe waits for each dependency.
const PROBE_TIMEOUT: Duration = Duration::from_secs(2);

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/healthz", get(health))
        .route("/health", get(health))
        .route("/readyz", get(ready))
        .route("/ready", get(ready))
}

/// The process is up; says nothing about its dependencies.
async fn health() -> &'static str {
    "ok"
}

#[derive(Serialize)]
struct Readiness {
    database: &'static str,
    queue: &'static str,
}

fn verdict(ok: bool) -> &'static str {
    if ok { "ok" } else { "unreachable" }
}

/// The process can do its work: the database and the queue answer (503 + Retry-After if not).
async fn ready(State(state): State<AppState>) -> Response {
    let database = matches!(
        tokio::time::timeout(PROBE_TIMEOUT, state.db.execute_unprepared("SELECT 1")).await,
        Ok(Ok(_))
    );
    let queue = match state.queue.backend() {
        QueueBackend::Redis(conn) => {
            let mut conn = conn.clone();
            let ping = redis::cmd("PING");
            let answer = ping.query_async::<String>(&mut conn);
            matches!(tokio::time::timeout(PROBE_TIMEOUT, answer).await, Ok(Ok(_)))
        }
        // The embedded queue lives in the database.
        QueueBackend::Sqlite(_) => database,
    };
    if !database || !queue {
        tracing::warn!(database, queue, "readiness check failed");
    }
    let body = Json(Readiness {
        database: verdict(database),
        queue: verdict(queue),
    });
    if database && queue {
        (StatusCode::OK, body).into_response()
    } else {
        let mut response = (StatusCode::SERVICE_UNAVAILABLE, body).into_response();
        response.headers_mut().insert(
            header::RETRY_AFTER,
            HeaderValue::from(OUTAGE_RETRY_AFTER_SECS),
        );
        response
    }
}
