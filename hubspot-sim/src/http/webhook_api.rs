//! The app webhook settings and subscriptions API (`/webhooks/v3/{appId}/…`), authenticated
//! with the developer API key (`?hapikey=`), as HubSpot's is.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::json;

use super::error::{ApiError, parse_json};
use super::query::QueryParams;
use crate::state::SimState;
use crate::webhooks::{EVENT_TYPES, WebhookSettings};

fn authorize(state: &SimState, app_id: &str, raw: Option<&str>) -> Result<(), ApiError> {
    let params = QueryParams::parse(raw);
    if params.get("hapikey") != Some(state.config.developer_api_key.as_str()) {
        return Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "INVALID_AUTHENTICATION",
            "The developer API key provided is invalid. Use ?hapikey= with the app's developer account key.",
        ));
    }
    if app_id != state.config.app_id.to_string() {
        return Err(ApiError::not_found(format!("App {app_id} does not exist.")));
    }
    Ok(())
}

/// `GET /webhooks/v3/{appId}/settings`.
pub async fn get_settings(
    State(state): State<Arc<SimState>>,
    Path(app_id): Path<String>,
    RawQuery(raw): RawQuery,
) -> Result<Response, ApiError> {
    authorize(&state, &app_id, raw.as_deref())?;
    let settings = state
        .webhooks
        .settings()
        .ok_or_else(|| ApiError::not_found("No webhook settings exist for this app."))?;
    Ok(axum::Json(settings).into_response())
}

/// `PUT /webhooks/v3/{appId}/settings`.
pub async fn put_settings(
    State(state): State<Arc<SimState>>,
    Path(app_id): Path<String>,
    RawQuery(raw): RawQuery,
    body: Bytes,
) -> Result<Response, ApiError> {
    authorize(&state, &app_id, raw.as_deref())?;
    let settings: WebhookSettings = parse_json(&body)?;
    if url::Url::parse(&settings.target_url).is_err() {
        return Err(ApiError::validation(format!(
            "targetUrl '{}' is not a valid URL.",
            settings.target_url
        )));
    }
    if !(6..=crate::webhooks::MAX_CONCURRENCY)
        .contains(&settings.throttling.max_concurrent_requests)
    {
        return Err(ApiError::validation(
            "throttling.maxConcurrentRequests must be greater than five and at most 10.",
        ));
    }
    Ok(axum::Json(state.webhooks.set_settings(settings)).into_response())
}

/// `DELETE /webhooks/v3/{appId}/settings`.
pub async fn delete_settings(
    State(state): State<Arc<SimState>>,
    Path(app_id): Path<String>,
    RawQuery(raw): RawQuery,
) -> Result<Response, ApiError> {
    authorize(&state, &app_id, raw.as_deref())?;
    state.webhooks.clear_settings();
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// `GET /webhooks/v3/{appId}/subscriptions`.
pub async fn list_subscriptions(
    State(state): State<Arc<SimState>>,
    Path(app_id): Path<String>,
    RawQuery(raw): RawQuery,
) -> Result<Response, ApiError> {
    authorize(&state, &app_id, raw.as_deref())?;
    Ok(axum::Json(json!({ "results": state.webhooks.subscriptions() })).into_response())
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct SubscriptionCreate {
    event_type: String,
    #[serde(default)]
    property_name: Option<String>,
    #[serde(default)]
    active: bool,
}

/// `POST /webhooks/v3/{appId}/subscriptions` (new subscriptions default to inactive).
pub async fn create_subscription(
    State(state): State<Arc<SimState>>,
    Path(app_id): Path<String>,
    RawQuery(raw): RawQuery,
    body: Bytes,
) -> Result<Response, ApiError> {
    authorize(&state, &app_id, raw.as_deref())?;
    let input: SubscriptionCreate = parse_json(&body)?;
    if !EVENT_TYPES.contains(&input.event_type.as_str()) {
        return Err(ApiError::validation(format!(
            "Unknown eventType '{}'.",
            input.event_type
        )));
    }
    let is_property_change = input.event_type.ends_with(".propertyChange");
    if is_property_change != input.property_name.is_some() {
        return Err(ApiError::validation(
            "propertyName is required for, and only for, propertyChange subscriptions.",
        ));
    }
    if input.property_name.as_deref() == Some("hs_lastmodifieddate") {
        return Err(ApiError::validation(
            "hs_lastmodifieddate is not available for property change subscriptions.",
        ));
    }
    let subscription = state
        .webhooks
        .subscribe(&input.event_type, input.property_name, input.active)
        .map_err(ApiError::validation)?;
    Ok((StatusCode::CREATED, axum::Json(subscription)).into_response())
}

#[derive(Deserialize)]
struct SubscriptionPatch {
    active: bool,
}

/// `PATCH /webhooks/v3/{appId}/subscriptions/{id}`.
pub async fn update_subscription(
    State(state): State<Arc<SimState>>,
    Path((app_id, id)): Path<(String, String)>,
    RawQuery(raw): RawQuery,
    body: Bytes,
) -> Result<Response, ApiError> {
    authorize(&state, &app_id, raw.as_deref())?;
    let patch: SubscriptionPatch = parse_json(&body)?;
    let subscription = state
        .webhooks
        .set_active(&id, patch.active)
        .ok_or_else(|| ApiError::not_found(format!("Subscription {id} does not exist.")))?;
    Ok(axum::Json(subscription).into_response())
}

/// `DELETE /webhooks/v3/{appId}/subscriptions/{id}`.
pub async fn delete_subscription(
    State(state): State<Arc<SimState>>,
    Path((app_id, id)): Path<(String, String)>,
    RawQuery(raw): RawQuery,
) -> Result<Response, ApiError> {
    authorize(&state, &app_id, raw.as_deref())?;
    if state.webhooks.unsubscribe(&id) {
        Ok(StatusCode::NO_CONTENT.into_response())
    } else {
        Err(ApiError::not_found(format!(
            "Subscription {id} does not exist."
        )))
    }
}
