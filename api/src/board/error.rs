//! Board failures as pages: the same status codes and messages as the API's errors, rendered as
//! HTML a person can read (and go back from).

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use maud::html;

use super::layout;
use crate::error::ApiError;

/// An error a board handler returns; shown as a page with its status.
#[derive(Debug)]
pub struct BoardError {
    pub status: StatusCode,
    pub message: String,
}

impl BoardError {
    pub fn new(status: StatusCode, message: impl Into<String>) -> Self {
        Self {
            status,
            message: message.into(),
        }
    }

    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, message)
    }
}

impl<E> From<E> for BoardError
where
    ApiError: From<E>,
{
    fn from(error: E) -> Self {
        let api = ApiError::from(error);
        if api.status.is_server_error() {
            tracing::error!(status = %api.status, message = %api.message, "board request failed");
        }
        Self {
            status: api.status,
            message: api.message,
        }
    }
}

impl IntoResponse for BoardError {
    fn into_response(self) -> Response {
        let title = self.status.canonical_reason().unwrap_or("Error").to_owned();
        let body = html! {
            section.panel.error role="alert" {
                h2 { (self.status.as_u16()) " " (title) }
                p { (self.message) }
                p { a href="javascript:history.back()" { "Go back" } " · " a href="/board" { "Overview" } }
            }
        };
        (
            self.status,
            axum::response::Html(layout::bare(&title, body).into_string()),
        )
            .into_response()
    }
}
