//! HubSpot's standard error body and the correlation id every response carries.

use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};

tokio::task_local! {
    /// The correlation id of the request being served (set by the observe middleware).
    pub static CORRELATION_ID: String;
}

/// The current request's correlation id (a fresh one outside a request).
pub fn correlation_id() -> String {
    CORRELATION_ID
        .try_with(Clone::clone)
        .unwrap_or_else(|_| uuid::Uuid::new_v4().to_string())
}

/// An error response in HubSpot's shape: `{status:"error", message, correlationId, category, …}`.
#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub body: Map<String, Value>,
    pub headers: Vec<(&'static str, String)>,
}

impl ApiError {
    /// The standard error body with this status, category and message.
    pub fn new(status: StatusCode, category: &str, message: impl Into<String>) -> Self {
        let mut body = Map::new();
        body.insert("status".into(), json!("error"));
        body.insert("message".into(), json!(message.into()));
        body.insert("correlationId".into(), json!(correlation_id()));
        body.insert("category".into(), json!(category));
        Self {
            status,
            body,
            headers: Vec::new(),
        }
    }

    /// A body that is not the standard error shape (OAuth and rate-limit errors).
    pub fn raw(status: StatusCode, body: Value) -> Self {
        Self {
            status,
            body: body.as_object().cloned().unwrap_or_default(),
            headers: Vec::new(),
        }
    }

    /// Adds a field such as `errors`, `context` or `subCategory`.
    pub fn with(mut self, key: &str, value: Value) -> Self {
        self.body.insert(key.to_owned(), value);
        self
    }

    /// Adds a response header (e.g. rate-limit headers on a 429).
    pub fn header(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.headers.push((name, value.into()));
        self
    }

    /// 400 `VALIDATION_ERROR`.
    pub fn validation(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "VALIDATION_ERROR", message)
    }

    /// 404 `OBJECT_NOT_FOUND`.
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "OBJECT_NOT_FOUND", message)
    }

    /// Bad JSON in a request body, as HubSpot reports it.
    pub fn bad_json(error: &serde_json::Error) -> Self {
        Self::validation(format!(
            "Invalid input JSON on line {}, column {}: {}",
            error.line(),
            error.column(),
            error
        ))
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut response = (self.status, axum::Json(Value::Object(self.body))).into_response();
        for (name, value) in self.headers {
            if let Ok(value) = HeaderValue::from_str(&value) {
                response.headers_mut().insert(name, value);
            }
        }
        response
    }
}

/// Parses a JSON body into a domain type, with HubSpot's 400 on failure.
pub fn parse_json<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    serde_json::from_slice(body).map_err(|e| ApiError::bad_json(&e))
}
