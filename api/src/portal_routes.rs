//! `/api/portals`: list connected HubSpot accounts, read one (status, sync times, the latest
//! model with its quality metrics, grade distribution, HubSpot budget use) and disconnect one (stop updates, revoke the
//! refresh token at HubSpot; the properties stay in HubSpot). Reconnecting is the OAuth flow
//! again (`/oauth/hubspot/install`), which turns the same portal row back on.

use std::collections::BTreeMap;

use axum::extract::State;
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::{DateTime, Utc};
use entity::{ModelStatus, PortalStatus, models, portals, scores};
use jobs::usage::{PortalUsage, UsageTotals};
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
    /// The latest trained model, `null` before the first training.
    model: Option<ModelSummary>,
    /// How much of HubSpot's request budget the portal uses.
    budget: BudgetUse,
}

/// A trained model as the portal page shows it: which, when, from what, and how good.
#[derive(Debug, Serialize)]
struct ModelSummary {
    version: i32,
    /// `active` (scores come from it) or `retired`.
    status: ModelStatus,
    /// e.g. `logistic_regression` or `naive_bayes`.
    algorithm: String,
    trained_at: DateTime<Utc>,
    positives: i32,
    negatives: i32,
    unlabeled: i32,
    /// Quality as evaluated at training: cross-validated AUC, lift, capture, grade rates.
    metrics: serde_json::Value,
}

impl From<models::Model> for ModelSummary {
    fn from(model: models::Model) -> Self {
        Self {
            version: model.version,
            status: model.status,
            algorithm: model.algorithm,
            trained_at: model.trained_at,
            positives: model.positives,
            negatives: model.negatives,
            unlabeled: model.unlabeled,
            metrics: model.metrics,
        }
    }
}

/// Requests sent to HubSpot for this portal against the budget Conturs keeps to, as written
/// down by the workers (every few seconds, so the newest window may still be filling up).
#[derive(Debug, Serialize)]
struct BudgetUse {
    /// Width of a window in seconds (HubSpot limits requests per rolling 10 s).
    window_seconds: i64,
    /// Requests per window Conturs allows itself for this portal, sustained (HubSpot: 110).
    limit_per_window: i64,
    /// The most the budget lets through in any one window, bursts included.
    burst_ceiling_per_window: i64,
    /// Start of the last complete window.
    last_window_start: DateTime<Utc>,
    /// Requests in the last complete window that count against the limit (not searches).
    last_window_requests: i64,
    /// The busiest window of the last hour, counted the same way.
    peak_window_requests_last_hour: i64,
    last_hour: UsageWindow,
    last_day: UsageWindow,
}

/// Requests (searches included), 429s and 5xx answers over a stretch of time.
#[derive(Debug, Serialize)]
struct UsageWindow {
    requests: i64,
    responses_429: i64,
    responses_5xx: i64,
}

impl From<UsageTotals> for UsageWindow {
    fn from(totals: UsageTotals) -> Self {
        Self {
            requests: totals.requests,
            responses_429: totals.responses_429,
            responses_5xx: totals.responses_5xx,
        }
    }
}

impl BudgetUse {
    fn new(policy: &hubspot::BudgetPolicy, usage: PortalUsage) -> Self {
        let window = hubspot::usage::USAGE_WINDOW_SECS;
        // The policy's window may differ from the 10-second usage window: scale to it.
        let per_window = |n: u64| {
            let scaled = n as f64 * window as f64 / policy.window.as_secs_f64().max(1e-3);
            scaled.round() as i64
        };
        Self {
            window_seconds: window,
            limit_per_window: per_window(u64::from(policy.requests_per_window)),
            burst_ceiling_per_window: per_window(u64::from(policy.requests_per_window))
                + i64::from(policy.realtime_burst),
            last_window_start: usage.last_window_start,
            last_window_requests: usage.last_window_requests,
            peak_window_requests_last_hour: usage.peak_window_requests_last_hour,
            last_hour: usage.last_hour.into(),
            last_day: usage.last_day.into(),
        }
    }
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
    let model = models::Entity::find()
        .filter(models::Column::PortalId.eq(id))
        .order_by_desc(models::Column::Version)
        .one(&state.db)
        .await?
        .map(ModelSummary::from);
    let usage = jobs::usage::portal_usage(&state.db, id, state.config.clock.now()).await?;
    let budget = BudgetUse::new(state.hubspot.budget().policy(), usage);
    Ok(Json(PortalDetail {
        portal,
        grades,
        model,
        budget,
    }))
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
