//! The one error shape every `/api` and webhook error has: `{"status", "code", "message"}`, with
//! the right HTTP status, and `Retry-After` when waiting helps. Extractor rejections (bad JSON,
//! bad query strings, bodies too large) are turned into it too, so bad input never becomes a
//! plain-text reply or a 500.

use axum::extract::rejection::{BytesRejection, JsonRejection, PathRejection, QueryRejection};
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde::de::DeserializeOwned;

/// How long clients should wait before retrying after a dependency outage.
pub const OUTAGE_RETRY_AFTER_SECS: u64 = 5;

/// An error answer: status, a stable machine-readable code and a sentence for people.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    pub retry_after_secs: Option<u64>,
}

/// The JSON body of every error answer; named in the OpenAPI document so clients and the
/// fuzzer can check error bodies too.
#[derive(Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    /// The HTTP status, repeated for clients that only see the body.
    #[schema(minimum = 400, maximum = 599, example = 404)]
    pub status: u16,
    /// Stable and machine-readable, e.g. `unauthorized`, `not_found`, `invalid_query`.
    #[schema(example = "not_found")]
    pub code: &'static str,
    /// A sentence for people.
    #[schema(example = "no job 0190f6c8-6c35-7b1a-9f0a-1f2e3d4c5b6a")]
    pub message: String,
}

/// How the OpenAPI document declares a 401: the error body plus the `WWW-Authenticate`
/// challenge that [`ApiError::into_response`] adds.
#[derive(utoipa::ToResponse)]
#[response(
    description = "Missing or wrong admin bearer token (`code`: `unauthorized`).",
    headers(("WWW-Authenticate" = String, description = "`Bearer realm=\"conturs\"`"))
)]
pub struct Unauthorized(pub ErrorBody);

/// How the OpenAPI document declares a 503: a dependency (database, queue) is down, or the
/// request ran past [`crate::REQUEST_TIMEOUT`] (then the body is empty).
#[derive(utoipa::ToResponse)]
#[response(
    description = "The database or the queue is not answering (`database_unavailable`, \
                   `queue_unavailable`); retry after `Retry-After` seconds.",
    headers(("Retry-After" = u64, description = "Seconds to wait before retrying."))
)]
pub struct Unavailable(pub ErrorBody);

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
            retry_after_secs: None,
        }
    }

    pub fn bad_request(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code, message)
    }

    pub fn unauthorized(message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "unauthorized", message)
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", message)
    }

    pub fn conflict(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, code, message)
    }

    /// A dependency (database, queue) is down: 503 with `Retry-After`.
    pub fn unavailable(code: &'static str, message: impl Into<String>) -> Self {
        Self {
            retry_after_secs: Some(OUTAGE_RETRY_AFTER_SECS),
            ..Self::new(StatusCode::SERVICE_UNAVAILABLE, code, message)
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if self.status.is_server_error() {
            tracing::warn!(status = %self.status, code = self.code, message = %self.message, "request failed");
        }
        let body = ErrorBody {
            status: self.status.as_u16(),
            code: self.code,
            message: self.message,
        };
        let mut response = (self.status, axum::Json(body)).into_response();
        let headers = response.headers_mut();
        if let Some(secs) = self.retry_after_secs {
            headers.insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        if self.status == StatusCode::UNAUTHORIZED {
            headers.insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"conturs\""),
            );
        }
        response
    }
}

impl From<sea_orm::DbErr> for ApiError {
    fn from(error: sea_orm::DbErr) -> Self {
        tracing::error!(%error, "database error");
        Self::unavailable("database_unavailable", "the database is not answering")
    }
}

impl From<jobs::LedgerError> for ApiError {
    fn from(error: jobs::LedgerError) -> Self {
        match error {
            jobs::LedgerError::UnknownRun(id) => Self::not_found(format!("no job {id}")),
            jobs::LedgerError::Db(error) => error.into(),
            other => Self::new(StatusCode::CONFLICT, "job_state", other.to_string()),
        }
    }
}

impl From<jobs::QueueError> for ApiError {
    fn from(error: jobs::QueueError) -> Self {
        match error {
            jobs::QueueError::Ledger(error) => error.into(),
            other => {
                tracing::error!(error = %other, "queue error");
                Self::unavailable("queue_unavailable", "the job queue is not answering")
            }
        }
    }
}

fn rejection(status: StatusCode, text: String) -> ApiError {
    let code = match status {
        StatusCode::PAYLOAD_TOO_LARGE => "payload_too_large",
        StatusCode::UNSUPPORTED_MEDIA_TYPE => "unsupported_media_type",
        StatusCode::UNPROCESSABLE_ENTITY => "invalid_body",
        _ => "bad_request",
    };
    ApiError::new(status, code, text)
}

impl From<JsonRejection> for ApiError {
    fn from(r: JsonRejection) -> Self {
        rejection(r.status(), r.body_text())
    }
}

impl From<QueryRejection> for ApiError {
    fn from(r: QueryRejection) -> Self {
        ApiError::bad_request("invalid_query", r.body_text())
    }
}

impl From<PathRejection> for ApiError {
    fn from(r: PathRejection) -> Self {
        ApiError::bad_request("invalid_path", r.body_text())
    }
}

impl From<BytesRejection> for ApiError {
    fn from(r: BytesRejection) -> Self {
        rejection(r.status(), r.body_text())
    }
}

/// `axum::Json` whose rejections are [`ApiError`]s (400, 413, 415, 422).
pub struct ApiJson<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let axum::Json(value) = axum::Json::<T>::from_request(req, state).await?;
        Ok(Self(value))
    }
}

/// `axum::extract::Query` whose rejections are [`ApiError`]s (400).
pub struct ApiQuery<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let axum::extract::Query(value) =
            axum::extract::Query::<T>::from_request_parts(parts, state).await?;
        Ok(Self(value))
    }
}

/// `axum::extract::Path` whose rejections are [`ApiError`]s (400).
pub struct ApiPath<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned + Send> FromRequestParts<S> for ApiPath<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let axum::extract::Path(value) =
            axum::extract::Path::<T>::from_request_parts(parts, state).await?;
        Ok(Self(value))
    }
}

/// The answer for `/api` paths that do not exist.
pub async fn api_not_found() -> ApiError {
    ApiError::not_found("no such API route")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn errors_render_the_one_shape_with_headers() {
        let response = ApiError::unavailable("queue_unavailable", "down").into_response();
        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(response.headers()[header::RETRY_AFTER], "5");
        let bytes = axum::body::to_bytes(response.into_body(), 1024)
            .await
            .expect("body");
        let body: serde_json::Value = serde_json::from_slice(&bytes).expect("json");
        assert_eq!(
            body,
            serde_json::json!({"status": 503, "code": "queue_unavailable", "message": "down"})
        );
        let response = ApiError::unauthorized("no").into_response();
        assert!(response.headers().contains_key(header::WWW_AUTHENTICATE));
    }
}
