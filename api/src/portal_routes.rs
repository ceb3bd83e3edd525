//! `/api/portals`: list connected HubSpot accounts, read one (status, sync times, model
//! version, grade distribution, job counts) and disconnect one (stop updates, revoke the
//! refresh token at HubSpot; the properties stay in HubSpot). Reconnecting is the OAuth flow
//! again (`/oauth/hubspot/install`), which turns the same portal row back on.

use std::collections::BTreeMap;

use axum::extract::State;
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::Utc;
use entity::{PortalStatus, portals, scores};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use serde::Serialize;

use crate::AppState;
use crate::error::{ApiError, ApiPath};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/portals", get(list))
        .route("/portals/{id}", get(show))
        .route("/portals/{id}/disconnect", post(disconnect))
}

#[derive(Debug, Serialize)]
struct PortalList {
    portals: Vec<portals::Model>,
}

async fn list(State(state): State<AppState>) -> Result<Json<PortalList>, ApiError> {
    let portals = portals::Entity::find()
        .order_by_asc(portals::Column::Id)
        .all(&state.db)
        .await?;
    Ok(Json(PortalList { portals }))
}

#[derive(Debug, Serialize)]
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

/// Revokes the refresh token (HubSpot first, so a failure leaves everything as it was) and
/// marks the portal disconnected: webhooks and job requests for it are refused from now on.
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
