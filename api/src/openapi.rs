//! The OpenAPI 3.1 document, `GET /api/openapi.json`. It is generated from the router that
//! serves the routes (`utoipa_axum::OpenApiRouter`): each route module registers its handlers
//! with `routes!`, which adds the handler's `#[utoipa::path]` operation to the document, so a
//! route cannot be served without being documented. [`protect`] applies the admin token and
//! declares it in the same step, for the same routes.
//!
//! Public (no admin token): the document holds no secrets, and clients need it to start.

use std::sync::Arc;

use axum::Extension;
use axum::Json;
use axum::response::{IntoResponse, Response};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityRequirement, SecurityScheme};
use utoipa::openapi::{OpenApi as Document, Ref, RefOr};
use utoipa::{Modify, OpenApi, ToResponse};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::error::{ErrorBody, Unauthorized, Unavailable};
use crate::job_routes::Snapshot;

/// The security scheme the `/api/*` operations require (`Authorization: Bearer <token>`).
pub const ADMIN_SCHEME: &str = "admin_token";

/// Where the document is served.
pub const PATH: &str = "/api/openapi.json";

/// What the route modules do not say themselves: the document's title, the admin security
/// scheme, the shared error responses, and the event-stream snapshot (an SSE payload, which
/// OpenAPI 3.1 cannot attach to the stream's response).
#[derive(OpenApi)]
#[openapi(
    info(
        title = "Conturs API",
        description = "Lead scoring for HubSpot: jobs, portals and scores under `/api` (admin \
                       bearer token), HubSpot's OAuth install and webhooks, health probes and \
                       Prometheus metrics (admin bearer token)."
    ),
    components(
        schemas(ErrorBody, Snapshot),
        responses(Unauthorized, Unavailable)
    ),
    tags(
        (name = "jobs", description = "The job ledger: enqueue, list, follow, retry, cancel."),
        (name = "portals", description = "Connected HubSpot accounts."),
        (name = "scores", description = "Contact scores, always scoped by portal."),
        (name = "oauth", description = "Connecting a HubSpot account."),
        (name = "webhooks", description = "HubSpot's signed event batches."),
        (name = "health", description = "Liveness and readiness probes."),
        (name = "metrics", description = "Prometheus metrics (admin bearer token)."),
        (name = "openapi", description = "This document."),
    ),
    modifiers(&AdminScheme)
)]
struct Base;

/// Adds the admin bearer scheme to the components.
struct AdminScheme;

impl Modify for AdminScheme {
    fn modify(&self, openapi: &mut Document) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            ADMIN_SCHEME,
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some("`CONTURS_ADMIN_TOKEN`"))
                    .build(),
            ),
        );
    }
}

/// The document before any route is added.
pub fn base() -> Document {
    let mut document = Base::openapi();
    // Cargo's `UNLICENSED` is not an SPDX identifier, which OpenAPI requires here.
    document.info.license = None;
    document
}

/// Puts every route of `router` behind the admin token and declares that (the bearer
/// requirement and the 401 answer) on every operation it documents. Routes added to the
/// router afterwards are neither protected nor marked.
pub fn protect(mut router: OpenApiRouter<AppState>, state: &AppState) -> OpenApiRouter<AppState> {
    let unauthorized = RefOr::Ref(Ref::from_response_name(Unauthorized::response().0));
    for item in router.get_openapi_mut().paths.paths.values_mut() {
        for operation in operations(item) {
            operation.security = Some(vec![SecurityRequirement::new(
                ADMIN_SCHEME,
                Vec::<String>::new(),
            )]);
            operation
                .responses
                .responses
                .insert("401".to_owned(), unauthorized.clone());
        }
    }
    router.route_layer(axum::middleware::from_fn_with_state(
        state.clone(),
        crate::auth::require_admin,
    ))
}

fn operations(
    item: &mut utoipa::openapi::PathItem,
) -> impl Iterator<Item = &mut utoipa::openapi::path::Operation> {
    [
        &mut item.get,
        &mut item.put,
        &mut item.post,
        &mut item.delete,
        &mut item.options,
        &mut item.head,
        &mut item.patch,
        &mut item.trace,
        &mut item.query,
    ]
    .into_iter()
    .filter_map(Option::as_mut)
    .chain(item.additional_operations.values_mut())
}

/// `GET /api/openapi.json`; the document reaches the handler through [`serve`].
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(document))
}

/// The finished document, as the extension [`document`] reads.
pub fn serve(document: Document) -> Extension<Arc<Document>> {
    Extension(Arc::new(document))
}

/// This document.
#[utoipa::path(
    get,
    path = PATH,
    operation_id = "openapi",
    tag = "openapi",
    responses((status = 200, description = "The OpenAPI 3.1 document of this API.",
        content_type = "application/json", body = Object))
)]
async fn document(Extension(document): Extension<Arc<Document>>) -> Response {
    Json(&*document).into_response()
}
