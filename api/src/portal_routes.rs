//! `/api/portals`: list connected HubSpot accounts, read one (status, sync times, the latest
//! model with its quality metrics, grade distribution, HubSpot budget use) and disconnect one (stop updates, revoke the
//! refresh token at HubSpot; the properties stay in HubSpot). Reconnecting is the OAuth flow
//! again (`/oauth/hubspot/install`), which turns the same portal row back on. A disconnected
//! portal's CRM data can be purged at once (otherwise retention deletes it after the configured
//! number of days).

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::State;
use chrono::{DateTime, Utc};
use entity::{ModelStatus, PortalStatus, models, portals, scores};
use jobs::usage::{PortalUsage, UsageTotals};
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
        .routes(routes!(purge))
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

/// A portal with its grade distribution, latest model and HubSpot budget use.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct PortalDetail {
    pub(crate) portal: portals::Model,
    /// Contacts per grade (A–F), plus `unscored` for contacts without a score.
    pub(crate) grades: BTreeMap<String, i64>,
    /// The latest trained model, `null` before the first training.
    pub(crate) model: Option<ModelSummary>,
    /// How much of HubSpot's request budget the portal uses.
    pub(crate) budget: BudgetUse,
}

/// A trained model as the portal page shows it: which, when, from what, and how good.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct ModelSummary {
    pub(crate) version: i32,
    /// `active` (scores come from it) or `retired`.
    pub(crate) status: ModelStatus,
    /// e.g. `logistic_regression` or `naive_bayes`.
    pub(crate) algorithm: String,
    pub(crate) trained_at: DateTime<Utc>,
    pub(crate) positives: i32,
    pub(crate) negatives: i32,
    pub(crate) unlabeled: i32,
    /// Quality as evaluated at training: cross-validated AUC, lift, capture, grade rates.
    #[schema(value_type = Object)]
    pub(crate) metrics: serde_json::Value,
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
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct BudgetUse {
    /// Width of a window in seconds (HubSpot limits requests per rolling 10 s).
    pub(crate) window_seconds: i64,
    /// Requests per window Conturs allows itself for this portal, sustained (HubSpot: 110).
    pub(crate) limit_per_window: i64,
    /// The most the budget lets through in any one window, bursts included.
    pub(crate) burst_ceiling_per_window: i64,
    /// Start of the last complete window.
    pub(crate) last_window_start: DateTime<Utc>,
    /// Requests in the last complete window that count against the limit (not searches).
    pub(crate) last_window_requests: i64,
    /// The busiest window of the last hour, counted the same way.
    pub(crate) peak_window_requests_last_hour: i64,
    pub(crate) last_hour: UsageWindow,
    pub(crate) last_day: UsageWindow,
}

/// Requests (searches included), 429s and 5xx answers over a stretch of time.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct UsageWindow {
    pub(crate) requests: i64,
    pub(crate) responses_429: i64,
    pub(crate) responses_5xx: i64,
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
    pub(crate) fn new(policy: &hubspot::BudgetPolicy, usage: PortalUsage) -> Self {
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

/// One portal with its grade distribution, latest model and HubSpot budget use.
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
    Ok(Json(portal_detail(&state, id).await?))
}

/// A portal's score rows counted per value of `column` (a grade, a score…), one GROUP BY.
pub(crate) async fn score_counts_by<T>(
    db: &sea_orm::DatabaseConnection,
    portal_id: i64,
    column: scores::Column,
) -> Result<Vec<(Option<T>, i64)>, sea_orm::DbErr>
where
    (Option<T>, i64): sea_orm::TryGetableMany,
{
    scores::Entity::find()
        .select_only()
        .column(column)
        .column_as(scores::Column::ContactId.count(), "n")
        .filter(scores::Column::PortalId.eq(portal_id))
        .group_by(column)
        .into_tuple()
        .all(db)
        .await
}

/// The portal page's facts (the API's portal detail and the board's portal view).
pub(crate) async fn portal_detail(state: &AppState, id: i64) -> Result<PortalDetail, ApiError> {
    let portal = find(state, id).await?;
    let counts: Vec<(Option<String>, i64)> =
        score_counts_by(&state.db, id, scores::Column::Grade).await?;
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
    Ok(PortalDetail {
        portal,
        grades,
        model,
        budget,
    })
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
    Ok(Json(
        disconnect_portal(&state, id, "disconnected by an operator").await?,
    ))
}

/// Rows deleted by a purge, per kind of data.
#[derive(Debug, Serialize, ToSchema)]
struct PurgeResult {
    portal_id: i64,
    contacts: u64,
    companies: u64,
    deals: u64,
    associations: u64,
    scores: u64,
    score_history: u64,
    models: u64,
    webhook_events: u64,
    /// Sync cursors, coalescing claims, deletion tombstones and sealed tokens.
    other: u64,
}

/// Deletes a disconnected portal's CRM data now.
///
/// Contacts, companies, deals, associations, scores, score history, models, sync cursors,
/// webhook events and sealed tokens go at once, instead of after the retention period
/// (`CONTURS_DISCONNECTED_RETENTION_DAYS`). The portal row and the job ledger stay; a
/// reconnect starts from a fresh InitialSync. Idempotent.
#[utoipa::path(
    post,
    path = "/portals/{id}/purge",
    operation_id = "purge_portal",
    tag = "portals",
    params(("id" = i64, Path, description = "The portal (HubSpot hub) id.")),
    responses(
        (status = 200, description = "Purged; rows deleted per kind.", body = PurgeResult),
        (status = 400, description = "`id` is not an integer (`invalid_path`).",
            body = ErrorBody),
        (status = 404, description = "No such portal.", body = ErrorBody),
        (status = 409, description = "The portal is still connected (`not_disconnected`): \
            disconnect it first, or its next sync would fetch everything again.",
            body = ErrorBody),
        (status = 503, response = Unavailable),
    )
)]
async fn purge(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<PurgeResult>, ApiError> {
    let report = purge_portal(&state, id, "the API").await?;
    Ok(Json(PurgeResult {
        portal_id: id,
        contacts: report.contacts,
        companies: report.companies,
        deals: report.deals,
        associations: report.associations,
        scores: report.scores,
        score_history: report.score_history,
        models: report.models,
        webhook_events: report.webhook_events,
        other: report.other,
    }))
}

/// Deletes a disconnected portal's CRM data in one write transaction (the API's and the board's
/// purge); 409 `not_disconnected` while it is connected. `by` says who asked, for the log.
pub(crate) async fn purge_portal(
    state: &AppState,
    id: i64,
    by: &str,
) -> Result<jobs::privacy::PurgeReport, ApiError> {
    let portal = find(state, id).await?;
    if portal.status != PortalStatus::Disconnected {
        return Err(ApiError::conflict(
            "not_disconnected",
            format!(
                "portal {id} is {:?}; disconnect it before purging its data",
                portal.status
            ),
        ));
    }
    let txn = platform::db::begin_write(&state.db).await?;
    let report = jobs::privacy::purge_portal_data(&txn, id).await?;
    txn.commit().await?;
    tracing::info!(
        portal = id,
        rows = report.total(),
        by,
        "portal data purged on request"
    );
    Ok(report)
}

/// Revokes the portal's refresh token (HubSpot first) and marks it disconnected with
/// `reason`; 409 `already_disconnected`, 502 `revoke_failed` (nothing changed).
pub(crate) async fn disconnect_portal(
    state: &AppState,
    id: i64,
    reason: &str,
) -> Result<portals::Model, ApiError> {
    let portal = find(state, id).await?;
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
            Expr::value(Some(reason.to_owned())),
        )
        .col_expr(portals::Column::DisconnectedAt, Expr::value(Some(now)))
        .col_expr(portals::Column::UpdatedAt, Expr::value(now))
        .filter(portals::Column::Id.eq(id))
        .exec(&state.db)
        .await?;
    tracing::info!(portal = id, "portal disconnected");
    find(state, id).await
}
