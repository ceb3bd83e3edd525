//! Failures as pages: the API's status codes and messages, rendered in the site's own bare
//! shell with links back into that site (never a JSON body, never the other site's links).

use std::marker::PhantomData;

use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use maud::html;

use super::{Site, shell};
use crate::error::ApiError;

/// An error a handler of site `S` returns; shown as a page with its status.
pub struct ErrorPage<S> {
    /// The HTTP status the page is sent with.
    pub status: StatusCode,
    /// The sentence shown, written for the person reading the page.
    pub message: String,
    site: PhantomData<S>,
}

impl<S> std::fmt::Debug for ErrorPage<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ErrorPage")
            .field("status", &self.status)
            .field("message", &self.message)
            .finish()
    }
}

impl<S: Site> ErrorPage<S> {
    /// An error with this status and sentence.
    pub fn new(status: StatusCode, message: impl Into<String>) -> Self {
        Self {
            status,
            message: message.into(),
            site: PhantomData,
        }
    }

    /// 400 with a sentence saying what was wrong with the request.
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, message)
    }

    /// The site's one answer for anything missing — and, on the dashboard, for anything the
    /// signed-in account does not own, so another tenant's objects cannot be told apart from
    /// ones that do not exist.
    pub fn not_found() -> Self {
        Self::new(StatusCode::NOT_FOUND, S::NOT_FOUND)
    }
}

impl<S: Site, E> From<E> for ErrorPage<S>
where
    ApiError: From<E>,
{
    fn from(error: E) -> Self {
        let api = ApiError::from(error);
        if api.status.is_server_error() {
            tracing::error!(status = %api.status, message = %api.message, "{} request failed", S::LOG_LABEL);
        }
        Self::new(api.status, api.message)
    }
}

impl<S: Site> IntoResponse for ErrorPage<S> {
    fn into_response(self) -> Response {
        let title = self.status.canonical_reason().unwrap_or("Error").to_owned();
        let body = html! {
            section.panel.error role="alert" {
                h2 { (self.status.as_u16()) " " (title) }
                p { (self.message) }
                p { (S::error_links()) }
            }
        };
        (
            self.status,
            Html(shell::bare::<S>(&title, body).into_string()),
        )
            .into_response()
    }
}
