//! Liveness and readiness, for Heroku's router checks and for operators: `/healthz` (the
//! process is up) and `/readyz` (the database and the queue answer); `/health` and `/ready` are
//! the older names of the same checks.

use std::time::Duration;

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use jobs::QueueBackend;
use sea_orm::ConnectionTrait;
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::error::OUTAGE_RETRY_AFTER_SECS;

/// How long a readiness probe waits for each dependency.
const PROBE_TIMEOUT: Duration = Duration::from_secs(2);

/// The four probe routes (public: they say nothing secret).
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(health))
        .routes(routes!(health_legacy))
        .routes(routes!(ready))
        .routes(routes!(ready_legacy))
}

/// The process is up; says nothing about its dependencies.
#[utoipa::path(
    get,
    path = "/healthz",
    operation_id = "healthz",
    tag = "health",
    responses((status = 200, description = "`ok`", content_type = "text/plain", body = String))
)]
async fn health() -> &'static str {
    "ok"
}

/// `/healthz` under its older name.
#[utoipa::path(
    get,
    path = "/health",
    operation_id = "health",
    tag = "health",
    responses((status = 200, description = "`ok`", content_type = "text/plain", body = String))
)]
async fn health_legacy() -> &'static str {
    health().await
}

/// Each dependency's answer to the readiness probe.
#[derive(Serialize, ToSchema)]
struct Readiness {
    database: Verdict,
    queue: Verdict,
}

/// Whether one dependency answered within the probe timeout.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
enum Verdict {
    Ok,
    Unreachable,
}

fn verdict(ok: bool) -> Verdict {
    if ok {
        Verdict::Ok
    } else {
        Verdict::Unreachable
    }
}

/// The process can do its work: the database and the queue answer (503 + Retry-After if not).
#[utoipa::path(
    get,
    path = "/readyz",
    operation_id = "readyz",
    tag = "health",
    responses(
        (status = 200, description = "The database and the queue answer.", body = Readiness),
        (status = 503, description = "A dependency does not answer.", body = Readiness,
            headers(("Retry-After" = u64, description = "Seconds to wait before retrying."))),
    )
)]
async fn ready(state: State<AppState>) -> Response {
    readiness(state).await
}

/// `/readyz` under its older name.
#[utoipa::path(
    get,
    path = "/ready",
    operation_id = "ready",
    tag = "health",
    responses(
        (status = 200, description = "The database and the queue answer.", body = Readiness),
        (status = 503, description = "A dependency does not answer.", body = Readiness,
            headers(("Retry-After" = u64, description = "Seconds to wait before retrying."))),
    )
)]
async fn ready_legacy(state: State<AppState>) -> Response {
    readiness(state).await
}

async fn readiness(State(state): State<AppState>) -> Response {
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
