//! The simulator's own admin API under `/_sim` (a prefix HubSpot does not use).

use std::sync::Arc;
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};

use super::error::{ApiError, parse_json};
use super::objects::object_type;
use crate::admin::AdminError;
use crate::faults::FaultConfig;
use crate::generator::GeneratorConfig;
use crate::state::SimState;

impl From<AdminError> for ApiError {
    fn from(error: AdminError) -> Self {
        ApiError::not_found(error.to_string())
    }
}

fn portal_id(text: &str) -> Result<u64, ApiError> {
    text.parse()
        .map_err(|_| ApiError::validation(format!("'{text}' is not a portal id")))
}

/// `GET /_sim/portals`.
pub async fn list_portals(State(state): State<Arc<SimState>>) -> Response {
    let portals: Vec<Value> = state
        .portal_ids()
        .into_iter()
        .filter_map(|id| state.portal(id))
        .map(|p| {
            let data = p.read();
            json!({"portalId": p.id, "contacts": data.contacts.len(), "companies": data.companies.len(), "deals": data.deals.len()})
        })
        .collect();
    axum::Json(json!({ "results": portals })).into_response()
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct NewPortal {
    seed: u64,
    contacts: usize,
    #[serde(default)]
    closed_won_companies: Option<usize>,
}

/// `POST /_sim/portals` `{seed, contacts, closedWonCompanies?}` → 201 `{portalId}`.
pub async fn create_portal(
    State(state): State<Arc<SimState>>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let input: NewPortal = parse_json(&body)?;
    let mut config = GeneratorConfig::new(input.seed, input.contacts);
    config.closed_won_companies = input.closed_won_companies;
    let generated = tokio::task::spawn_blocking(move || state.create_portal(&config))
        .await
        .map_err(|e| {
            ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "INTERNAL_ERROR",
                e.to_string(),
            )
        })?;
    let id = generated.map_err(|e| ApiError::validation(e.to_string()))?;
    Ok((StatusCode::CREATED, axum::Json(json!({ "portalId": id }))).into_response())
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RecordInput {
    #[serde(default)]
    properties: serde_json::Map<String, Value>,
    #[serde(default)]
    company_id: Option<u64>,
}

fn pairs(map: &serde_json::Map<String, Value>) -> Vec<(String, String)> {
    map.iter()
        .map(|(k, v)| {
            let value = match v {
                Value::String(s) => s.clone(),
                Value::Null => String::new(),
                other => other.to_string(),
            };
            (k.clone(), value)
        })
        .collect()
}

/// `POST /_sim/portals/{portal}/objects/{type}` → 201 `{id}`; fires `*.creation`.
pub async fn create_record(
    State(state): State<Arc<SimState>>,
    Path((portal, object)): Path<(String, String)>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let (portal, object) = (portal_id(&portal)?, object_type(&object)?);
    let input: RecordInput = parse_json(&body)?;
    let id = state.admin_create(portal, object, &pairs(&input.properties), input.company_id)?;
    Ok((
        StatusCode::CREATED,
        axum::Json(json!({ "id": id.to_string() })),
    )
        .into_response())
}

/// `PATCH /_sim/portals/{portal}/objects/{type}/{id}`; fires `*.propertyChange`.
pub async fn update_record(
    State(state): State<Arc<SimState>>,
    Path((portal, object, id)): Path<(String, String, u64)>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let (portal, object) = (portal_id(&portal)?, object_type(&object)?);
    let input: RecordInput = parse_json(&body)?;
    let changed = state.admin_update(portal, object, id, &pairs(&input.properties))?;
    Ok(axum::Json(json!({ "changed": changed })).into_response())
}

/// `DELETE /_sim/portals/{portal}/objects/{type}/{id}`; fires `*.deletion`.
pub async fn delete_record(
    State(state): State<Arc<SimState>>,
    Path((portal, object, id)): Path<(String, String, u64)>,
) -> Result<Response, ApiError> {
    let (portal, object) = (portal_id(&portal)?, object_type(&object)?);
    state.admin_delete(portal, object, id)?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// `PUT /_sim/portals/{portal}/faults` with a `FaultConfig`; `DELETE` clears.
pub async fn put_faults(
    State(state): State<Arc<SimState>>,
    Path(portal): Path<String>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let faults: FaultConfig = parse_json(&body)?;
    state.set_faults(portal_id(&portal)?, faults.clone())?;
    Ok(axum::Json(faults).into_response())
}

pub async fn clear_faults(
    State(state): State<Arc<SimState>>,
    Path(portal): Path<String>,
) -> Result<Response, ApiError> {
    state.set_faults(portal_id(&portal)?, FaultConfig::default())?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

#[derive(Deserialize)]
struct Storm {
    seconds: f64,
}

/// `POST /_sim/portals/{portal}/rate-limit-storm` `{seconds}`.
pub async fn storm(
    State(state): State<Arc<SimState>>,
    Path(portal): Path<String>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let storm: Storm = parse_json(&body)?;
    if !(storm.seconds.is_finite() && storm.seconds >= 0.0) {
        return Err(ApiError::validation(
            "seconds must be a non-negative number",
        ));
    }
    state.rate_limit_storm(portal_id(&portal)?, Duration::from_secs_f64(storm.seconds))?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// `POST /_sim/portals/{portal}/revoke-tokens`.
pub async fn revoke_tokens(
    State(state): State<Arc<SimState>>,
    Path(portal): Path<String>,
) -> Result<Response, ApiError> {
    let revoked = state.revoke_tokens(portal_id(&portal)?)?;
    Ok(axum::Json(json!({ "revoked": revoked })).into_response())
}

/// `POST /_sim/portals/{portal}/expire-tokens`.
pub async fn expire_tokens(
    State(state): State<Arc<SimState>>,
    Path(portal): Path<String>,
) -> Result<Response, ApiError> {
    state.expire_tokens(portal_id(&portal)?)?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

#[derive(Deserialize)]
struct TokenRequest {
    #[serde(default)]
    scopes: Option<Vec<String>>,
}

/// `POST /_sim/portals/{portal}/tokens` `{scopes?}`: a token pair without the browser flow.
pub async fn issue_tokens(
    State(state): State<Arc<SimState>>,
    Path(portal): Path<String>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let request: TokenRequest = if body.is_empty() {
        TokenRequest { scopes: None }
    } else {
        parse_json(&body)?
    };
    let scopes: Vec<String> = request.scopes.unwrap_or_else(|| {
        crate::admin::ALL_SCOPES
            .iter()
            .map(|s| (*s).to_owned())
            .collect()
    });
    let refs: Vec<&str> = scopes.iter().map(String::as_str).collect();
    let pair = state.issue_tokens(portal_id(&portal)?, &refs)?;
    Ok(axum::Json(json!({
        "access_token": pair.access_token, "refresh_token": pair.refresh_token,
        "expires_in": pair.expires_in, "hub_id": pair.portal_id, "scopes": pair.scopes,
    }))
    .into_response())
}

/// `GET /_sim/stats`.
pub async fn stats(State(state): State<Arc<SimState>>) -> Response {
    axum::Json(state.snapshot_stats()).into_response()
}

/// `GET /_sim/portals/{portal}/ground-truth` (CSV).
pub async fn ground_truth(
    State(state): State<Arc<SimState>>,
    Path(portal): Path<String>,
) -> Result<Response, ApiError> {
    let id = portal_id(&portal)?;
    let portal = state.portal(id).ok_or(AdminError::NoPortal(id))?;
    let csv = portal.read().ground_truth.contacts_csv();
    Ok(([(header::CONTENT_TYPE, "text/csv; charset=utf-8")], csv).into_response())
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct KnobsInput {
    duplicate_rate: Option<f64>,
    reorder: Option<bool>,
    retry_delay_scale: Option<f64>,
    max_retries: Option<u32>,
    timeout_ms: Option<u64>,
    batch_window_ms: Option<u64>,
}

/// `PUT /_sim/webhooks/knobs`: change delivery behaviour at run time.
pub async fn put_knobs(
    State(state): State<Arc<SimState>>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let input: KnobsInput = parse_json(&body)?;
    let mut knobs = state.webhooks.knobs();
    if let Some(rate) = input.duplicate_rate {
        knobs.duplicate_rate = rate.clamp(0.0, 1.0);
    }
    if let Some(reorder) = input.reorder {
        knobs.reorder = reorder;
    }
    if let Some(scale) = input.retry_delay_scale {
        knobs.retry_delay_scale = scale.max(0.0);
    }
    if let Some(retries) = input.max_retries {
        knobs.max_retries = retries.min(10);
    }
    if let Some(ms) = input.timeout_ms {
        knobs.timeout = Duration::from_millis(ms);
    }
    if let Some(ms) = input.batch_window_ms {
        knobs.batch_window = Duration::from_millis(ms);
    }
    state.webhooks.set_knobs(knobs.clone());
    Ok(axum::Json(json!({
        "duplicateRate": knobs.duplicate_rate, "reorder": knobs.reorder, "retryDelayScale": knobs.retry_delay_scale,
        "maxRetries": knobs.max_retries, "timeoutMs": knobs.timeout.as_millis() as u64, "batchWindowMs": knobs.batch_window.as_millis() as u64,
    }))
    .into_response())
}
