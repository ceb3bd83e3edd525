//! The operators' job-monitoring board at `/board` (DESIGN §2): what runs, what waits, what
//! failed and why, each portal's HubSpot budget, and the actions to fix things (retry, cancel,
//! trigger, re-sync, retrain, disconnect).
//!
//! Server-rendered HTML (maud, escaped by construction) with one small script for live parts
//! (Server-Sent Events for a job's progress, a periodic refresh of the overview): served from
//! the binary, no build step, no CDN. Behind the admin token, exchanged at `/board/login` for a
//! signed, HttpOnly, Secure, SameSite=Strict session cookie; every action is a POST that must
//! carry the session's CSRF token. Not part of the JSON API, so not in the OpenAPI document.

mod accounts;
pub(crate) mod assets;
pub(crate) mod charts;
mod error;
pub(crate) mod format;
mod job_detail;
mod job_list;
mod layout;
mod overview;
mod portals;
mod session;
mod stats;

use axum::Router;
use axum::routing::{get, post};

pub use session::{BoardKey, COOKIE_NAME};

use crate::AppState;

/// Where the board lives.
pub const PATH: &str = "/board";

/// Every board route; mounted beside the API (outside the JSON error handling and OpenAPI).
pub fn routes() -> Router<AppState> {
    let streams = Router::new().route("/board/jobs/{id}/stream", get(job_detail::stream));
    Router::new()
        .route("/board", get(overview::page))
        .route("/board/live", get(overview::live))
        .route(
            "/board/login",
            get(session::login_form).post(session::login),
        )
        .route("/board/logout", post(session::logout))
        .route("/board/assets/{file}", get(assets::serve))
        .route("/board/jobs", get(job_list::page).post(job_list::trigger))
        .route("/board/jobs/bulk", post(job_list::bulk))
        .route("/board/jobs/{id}", get(job_detail::page))
        .route("/board/jobs/{id}/retry", post(job_detail::retry))
        .route("/board/jobs/{id}/cancel", post(job_detail::cancel))
        .route("/board/accounts", get(accounts::list))
        .route("/board/portals", get(portals::list))
        .route("/board/portals/{id}", get(portals::page))
        .route("/board/portals/{id}/action", post(portals::action))
        .layer(tower_http::timeout::TimeoutLayer::with_status_code(
            axum::http::StatusCode::SERVICE_UNAVAILABLE,
            crate::REQUEST_TIMEOUT,
        ))
        .merge(streams)
}
