//! The HTTP surface: HubSpot's paths (legacy `/crm/v3`, `/crm/v4`, `/oauth/v1|v3` and the
//! date-versioned `2026-03` ones) plus the simulator's `/_sim` admin API.

mod admin;
mod associations;
pub mod error;
mod guard;
mod oauth;
mod objects;
mod properties;
mod query;
mod render;
mod search;
mod webhook_api;

use std::sync::Arc;

use axum::Router;
use axum::middleware::from_fn_with_state;
use axum::routing::{get, post, put};

use crate::state::SimState;

/// Builds the whole router for one simulator.
pub fn router(state: Arc<SimState>) -> Router {
    let mut api = Router::new();
    for base in ["/crm/v3/objects", "/crm/objects/2026-03"] {
        api = api
            .route(&format!("{base}/{{object}}"), get(objects::list))
            .route(
                &format!("{base}/{{object}}/{{id}}"),
                get(objects::get_one).patch(objects::update_one),
            )
            .route(
                &format!("{base}/{{object}}/batch/read"),
                post(objects::batch_read),
            )
            .route(
                &format!("{base}/{{object}}/batch/update"),
                post(objects::batch_update),
            )
            .route(&format!("{base}/{{object}}/search"), post(search::search))
            .route(
                &format!("{base}/{{object}}/gdpr-delete"),
                post(objects::gdpr_delete),
            );
    }
    for base in ["/crm/v4/associations", "/crm/associations/2026-03"] {
        api = api.route(
            &format!("{base}/{{from}}/{{to}}/batch/read"),
            post(associations::batch_read),
        );
    }
    api = api.route(
        "/crm/v4/objects/{object}/{id}/associations/{to}",
        get(associations::single),
    );
    for base in ["/crm/v3/properties", "/crm/properties/2026-03"] {
        api = api
            .route(
                &format!("{base}/{{object}}"),
                get(properties::list).post(properties::create),
            )
            .route(
                &format!("{base}/{{object}}/batch/create"),
                post(properties::batch_create),
            )
            .route(
                &format!("{base}/{{object}}/groups"),
                get(properties::list_groups).post(properties::create_group),
            )
            .route(
                &format!("{base}/{{object}}/groups/{{name}}"),
                get(properties::get_group)
                    .patch(properties::update_group)
                    .delete(properties::archive_group),
            )
            .route(
                &format!("{base}/{{object}}/{{name}}"),
                get(properties::get)
                    .patch(properties::update)
                    .delete(properties::archive),
            );
    }
    let api = api.layer(from_fn_with_state(state.clone(), guard::api_guard));

    let mut open = Router::new()
        .route("/oauth/authorize", get(oauth::authorize))
        .route("/oauth/{portal}/authorize", get(oauth::authorize_portal))
        .route(
            "/oauth/v1/access-tokens/{token}",
            get(oauth::access_token_info),
        )
        .route(
            "/oauth/v1/refresh-tokens/{token}",
            get(oauth::refresh_token_info).delete(oauth::delete_refresh_token),
        );
    for version in ["v1", "v3", "2026-03"] {
        open = open.route(&format!("/oauth/{version}/token"), post(oauth::token));
    }
    for version in ["v3", "2026-03"] {
        open = open
            .route(
                &format!("/oauth/{version}/token/introspect"),
                post(oauth::introspect),
            )
            .route(
                &format!("/oauth/{version}/token/revoke"),
                post(oauth::revoke),
            );
    }
    let open = open
        .route(
            "/webhooks/v3/{app}/settings",
            get(webhook_api::get_settings)
                .put(webhook_api::put_settings)
                .delete(webhook_api::delete_settings),
        )
        .route(
            "/webhooks/v3/{app}/subscriptions",
            get(webhook_api::list_subscriptions).post(webhook_api::create_subscription),
        )
        .route(
            "/webhooks/v3/{app}/subscriptions/{id}",
            axum::routing::patch(webhook_api::update_subscription)
                .delete(webhook_api::delete_subscription),
        )
        .route("/_sim/health", get(|| async { "ok" }))
        .route("/_sim/stats", get(admin::stats))
        .route(
            "/_sim/portals",
            get(admin::list_portals).post(admin::create_portal),
        )
        .route(
            "/_sim/portals/{portal}/objects/{object}",
            post(admin::create_record),
        )
        .route(
            "/_sim/portals/{portal}/objects/{object}/{id}",
            axum::routing::patch(admin::update_record).delete(admin::delete_record),
        )
        .route(
            "/_sim/portals/{portal}/faults",
            put(admin::put_faults).delete(admin::clear_faults),
        )
        .route(
            "/_sim/portals/{portal}/rate-limit-storm",
            post(admin::storm),
        )
        .route(
            "/_sim/portals/{portal}/revoke-tokens",
            post(admin::revoke_tokens),
        )
        .route(
            "/_sim/portals/{portal}/expire-tokens",
            post(admin::expire_tokens),
        )
        .route("/_sim/portals/{portal}/tokens", post(admin::issue_tokens))
        .route(
            "/_sim/portals/{portal}/ground-truth",
            get(admin::ground_truth),
        )
        .route("/_sim/webhooks/knobs", put(admin::put_knobs));

    api.merge(open)
        .fallback(|| async {
            error::ApiError::not_found("This path does not exist in the HubSpot API (hubspot-sim).")
        })
        .layer(from_fn_with_state(state.clone(), guard::observe))
        .with_state(state)
}
