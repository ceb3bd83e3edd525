//! Dashboard failures as pages: a status and a sentence the customer can act on, in the
//! dashboard's own shell (never a JSON body, never the board's links).

use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use maud::html;

use super::layout;
use crate::error::ApiError;

/// An error a dashboard handler returns; shown as a page with its status.
#[derive(Debug)]
pub struct PageError {
    pub status: StatusCode,
    pub message: String,
}

impl PageError {
    pub fn new(status: StatusCode, message: impl Into<String>) -> Self {
        Self {
            status,
            message: message.into(),
        }
    }

    /// The one answer for anything the signed-in account does not own, so another tenant's
    /// portals and jobs cannot even be told apart from ones that do not exist.
    pub fn not_found() -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "There is no such page in your Conturs account.",
        )
    }
}

impl<E> From<E> for PageError
where
    ApiError: From<E>,
{
    fn from(error: E) -> Self {
        let api = ApiError::from(error);
        if api.status.is_server_error() {
            tracing::error!(status = %api.status, message = %api.message, "dashboard request failed");
        }
        Self {
            status: api.status,
            message: api.message,
        }
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let title = self.status.canonical_reason().unwrap_or("Error").to_owned();
        let body = html! {
            section.panel.error role="alert" {
                h2 { (self.status.as_u16()) " " (title) }
                p { (self.message) }
                p { a href=(super::HOME) { "Back to your dashboard" } }
            }
        };
        (self.status, Html(layout::bare(&title, body).into_string())).into_response()
    }
}
