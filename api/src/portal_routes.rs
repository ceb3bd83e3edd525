//! `/api/portals`: list connected HubSpot accounts, read one (status, sync times, model
//! version, grade distribution, job counts) and disconnect one (stop updates, revoke the
//! refresh token at HubSpot; the properties stay in HubSpot). Reconnecting is the OAuth flow
//! again (`/oauth/hubspot/install`), which turns the same portal row back on.

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::State;
use chrono::Utc;
use entity::{PortalStatus, portals, scores};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::error::{ApiError, ApiPath, ErrorBody, Unavailable};

/// `/api/portals` and its children (scores are in `score_routes`).
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list))
        .routes(routes!(show))
        .routes(routes!(disconnect))
}

/// Every portal, by id.
#[derive(Debug, Serialize, ToSchema)]
struct PortalList {
    portals: Vec<portals::Model>,
}

/// Lists every portal.
#[utoipa::path(
    get,
    path = "/portals",
    operation_id = "list_portals",
    tag = "portals",
    responses(
        (status = 200, description = "All portals, by id.", body = PortalList),
        (status = 503, response = Unavailable),
    )
)]
async fn list(State(state): State<AppState>) -> Result<Json<PortalList>, ApiError> {
    let portals = portals::Entity::find()
        .order_by_asc(portals::Column::Id)
        .all(&state.db)
        .await?;
    Ok(Json(PortalList { portals }))
}

/// A portal with its grade distribution.
#[derive(Debug, Serialize, ToSchema)]
struct PortalDetail {
    portal: portals::Model,
    /// Contacts per grade (A–F), plus `unscored` for contacts without a score.
    grades: BTreeMap<String, i64>,
}

async fn find(state: &AppState, id: i64) -> Result<portals::Model, ApiError> {
    portals::Entity::find_by_id(id)
        .one(&state.db)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("no portal {id}")))
}

/// One portal with its grade distribution.
#[utoipa::path(
    get,
    path = "/portals/{id}",
    operation_id = "get_portal",
    tag = "portals",
    params(("id" = i64, Path, description = "The portal (HubSpot hub) id.")),
    responses(
        (status = 200, description = "The portal.", body = PortalDetail),
        (status = 400, description = "`id` is not an integer (`invalid_path`).",
            body = ErrorBody),
        (status = 404, description = "No such portal.", body = ErrorBody),
        (status = 503, response = Unavailable),
    )
)]
async fn show(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<PortalDetail>, ApiError> {
    let portal = find(&state, id).await?;
    let counts: Vec<(Option<String>, i64)> = scores::Entity::find()
        .select_only()
        .column(scores::Column::Grade)
        .column_as(scores::Column::ContactId.count(), "n")
        .filter(scores::Column::PortalId.eq(id))
        .group_by(scores::Column::Grade)
        .into_tuple()
        .all(&state.db)
        .await?;
    let grades = counts
        .into_iter()
        .map(|(grade, n)| (grade.unwrap_or_else(|| "unscored".to_owned()), n))
        .collect();
    Ok(Json(PortalDetail { portal, grades }))
}

/// Disconnects a portal.
///
/// Revokes the refresh token (HubSpot first, so a failure leaves everything as it was) and
/// marks the portal disconnected: webhooks and job requests for it are refused from now on.
#[utoipa::path(
    post,
    path = "/portals/{id}/disconnect",
    operation_id = "disconnect_portal",
    tag = "portals",
    params(("id" = i64, Path, description = "The portal (HubSpot hub) id.")),
    responses(
        (status = 200, description = "Disconnected; the portal as it is now.",
            body = portals::Model),
        (status = 400, description = "`id` is not an integer (`invalid_path`).",
            body = ErrorBody),
        (status = 404, description = "No such portal.", body = ErrorBody),
        (status = 409, description = "Already disconnected (`already_disconnected`).",
            body = ErrorBody),
        (status = 502, description = "HubSpot did not revoke the token (`revoke_failed`); \
            nothing changed.", body = ErrorBody),
        (status = 503, response = Unavailable),
    )
)]
async fn disconnect(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<portals::Model>, ApiError> {
    let portal = find(&state, id).await?;
    if portal.status == PortalStatus::Disconnected {
        return Err(ApiError::conflict(
            "already_disconnected",
            format!("portal {id} is already disconnected"),
        ));
    }
    let hub_id = u64::try_from(id).map_err(|_| ApiError::not_found(format!("no portal {id}")))?;
    state
        .hubspot
        .tokens()
        .disconnect(hub_id)
        .await
        .map_err(|error| {
            tracing::error!(portal = id, %error, "could not revoke the refresh token");
            ApiError::new(
                axum::http::StatusCode::BAD_GATEWAY,
                "revoke_failed",
                format!("HubSpot did not revoke the token: {error}"),
            )
        })?;
    let now = Utc::now();
    portals::Entity::update_many()
        .col_expr(
            portals::Column::Status,
            Expr::value(PortalStatus::Disconnected),
        )
        .col_expr(
            portals::Column::StatusReason,
            Expr::value(Some("disconnected by an operator".to_owned())),
        )
        .col_expr(portals::Column::DisconnectedAt, Expr::value(Some(now)))
        .col_expr(portals::Column::UpdatedAt, Expr::value(now))
        .filter(portals::Column::Id.eq(id))
        .exec(&state.db)
        .await?;
    tracing::info!(portal = id, "portal disconnected");
    Ok(Json(find(&state, id).await?))
}
