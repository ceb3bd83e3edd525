//! Middleware: correlation ids and stats for every request; bearer auth, fault injection and
//! HubSpot's rate limits in front of the API routes.

use std::sync::Arc;
use std::time::Instant;

use axum::body::{Body, Bytes};
use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::error::{ApiError, CORRELATION_ID, correlation_id};
use crate::faults::Fault;
use crate::generator::iso_millis;
use crate::ratelimit::Decision;
use crate::state::{PortalState, SimState};
use crate::tokens::{Grant, Lookup, TokenKind};

/// Which portal a response belongs to (for per-portal stats).
#[derive(Clone, Copy, Debug)]
pub struct PortalTag(pub u64);

/// The authenticated caller of an API route.
#[derive(Clone)]
pub struct Caller {
    pub portal: Arc<PortalState>,
    pub grant: Grant,
}

impl Caller {
    /// 403 `MISSING_SCOPES` unless the token has at least one of `any_of`.
    pub fn require(&self, any_of: &[&str]) -> Result<(), ApiError> {
        if any_of
            .iter()
            .any(|s| self.grant.scopes.iter().any(|g| g == s))
        {
            return Ok(());
        }
        Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "MISSING_SCOPES",
            "This app hasn't been granted all required scopes to make this call. Read more about required scopes here: https://developers.hubspot.com/scopes.",
        )
        .with(
            "errors",
            json!([{
                "message": "One or more of the following scopes are required.",
                "context": {"requiredGranularScopes": any_of},
            }]),
        )
        .with("links", json!({"scopes": "https://developers.hubspot.com/scopes"})))
    }
}

/// Outermost layer: correlation id header and body field, per-endpoint stats.
pub async fn observe(State(state): State<Arc<SimState>>, request: Request, next: Next) -> Response {
    let id = uuid::Uuid::new_v4().to_string();
    let path = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |p| p.as_str().to_owned());
    let endpoint = format!("{} {}", request.method(), path);
    let mut response = CORRELATION_ID.scope(id.clone(), next.run(request)).await;
    if let Ok(value) = HeaderValue::from_str(&id) {
        response
            .headers_mut()
            .insert("x-hubspot-correlation-id", value);
    }
    let portal = response
        .extensions()
        .get::<PortalTag>()
        .map_or(0, |tag| tag.0);
    state
        .stats()
        .record(portal, &endpoint, response.status().as_u16());
    response
}

fn bearer(request: &Request) -> Option<&str> {
    let value = request
        .headers()
        .get(header::AUTHORIZATION)?
        .to_str()
        .ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
}

fn unauthenticated(message: &str) -> ApiError {
    ApiError::new(StatusCode::UNAUTHORIZED, "INVALID_AUTHENTICATION", message)
}

/// Auth, faults and rate limits for API routes.
pub async fn api_guard(
    State(state): State<Arc<SimState>>,
    mut request: Request,
    next: Next,
) -> Response {
    let grant = match authenticate(&state, &request) {
        Ok(grant) => grant,
        Err(error) => return error.into_response(),
    };
    let Some(portal) = state.portal(grant.portal_id) else {
        return unauthenticated("The portal this token belongs to does not exist.").into_response();
    };
    let tag = PortalTag(portal.id);
    let is_search = request.uri().path().ends_with("/search");
    let now = Instant::now();
    let storm = portal.faults().in_storm(now);
    let limit_headers = if storm {
        Err(ten_secondly_limited(&state, &grant, portal.id))
    } else if is_search {
        check_search(&state, portal.id, now).map(|()| Vec::new())
    } else {
        check_burst(&state, &grant, portal.id, now)
    };
    let limit_headers = match limit_headers {
        Ok(headers) => headers,
        Err(error) => return tagged(error.into_response(), tag),
    };
    // Drawn only for requests the limits let through, so a seeded stream is spent on them alone.
    let (config, fault) = {
        let mut faults = portal.faults();
        let fault = faults.draw();
        (faults.config().clone(), fault)
    };
    if config.latency_ms > 0 {
        tokio::time::sleep(config.latency()).await;
    }
    let mut response = match fault {
        Some(fault) => fault_response(fault),
        None => {
            request.extensions_mut().insert(Caller { portal, grant });
            next.run(request).await
        }
    };
    for (name, value) in limit_headers {
        if let Ok(value) = HeaderValue::from_str(&value) {
            response.headers_mut().insert(name, value);
        }
    }
    tagged(response, tag)
}

fn tagged(mut response: Response, tag: PortalTag) -> Response {
    response.extensions_mut().insert(tag);
    response
}

fn authenticate(state: &SimState, request: &Request) -> Result<Grant, ApiError> {
    let Some(token) = bearer(request) else {
        return Err(unauthenticated(
            "Authentication credentials not found. This API supports OAuth 2.0 authentication and you can find more details at https://developers.hubspot.com/docs/methods/auth/oauth-overview",
        ));
    };
    match state.tokens().lookup(token) {
        Lookup::Valid(grant) => Ok(grant),
        Lookup::Expired {
            expired_for,
            expired_at_ms,
        } => Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "EXPIRED_AUTHENTICATION",
            format!(
                "The OAuth token used to make this call expired {} second(s) ago.",
                expired_for.as_secs()
            ),
        )
        .with(
            "context",
            json!({"expire time": [iso_millis(expired_at_ms)]}),
        )),
        Lookup::Unknown => Err(unauthenticated(
            "The OAuth token used to make this call is invalid, revoked or does not exist.",
        )),
    }
}

fn check_burst(
    state: &SimState,
    grant: &Grant,
    portal_id: u64,
    now: Instant,
) -> Result<Vec<(&'static str, String)>, ApiError> {
    let limits = &state.config.limits;
    let max = match grant.kind {
        TokenKind::OAuth { .. } => limits.oauth_per_window,
        TokenKind::PrivateApp => limits.private_app_per_window,
    };
    let window_ms = limits.window.as_millis().to_string();
    match state
        .burst
        .check(&(grant.kind.clone(), portal_id), max, limits.window, now)
    {
        Decision::Allowed { remaining } => {
            let mut headers = vec![
                ("x-hubspot-ratelimit-interval-milliseconds", window_ms),
                ("x-hubspot-ratelimit-max", max.to_string()),
                ("x-hubspot-ratelimit-remaining", remaining.to_string()),
            ];
            if grant.kind == TokenKind::PrivateApp {
                let used = state
                    .stats()
                    .portals
                    .get(&portal_id)
                    .map_or(0, |p| p.requests);
                headers.push((
                    "x-hubspot-ratelimit-daily",
                    limits.private_app_daily.to_string(),
                ));
                headers.push((
                    "x-hubspot-ratelimit-daily-remaining",
                    u64::from(limits.private_app_daily)
                        .saturating_sub(used + 1)
                        .to_string(),
                ));
            }
            Ok(headers)
        }
        Decision::Limited => Err(ten_secondly_limited(state, grant, portal_id)),
    }
}

fn ten_secondly_limited(state: &SimState, grant: &Grant, portal_id: u64) -> ApiError {
    let limits = &state.config.limits;
    let (max, group) = match grant.kind {
        TokenKind::OAuth { app_id } => (
            limits.oauth_per_window,
            format!("publicapi:oauth-app-api-calls-ten-secondly:{app_id}:{portal_id}"),
        ),
        TokenKind::PrivateApp => (
            limits.private_app_per_window,
            format!("publicapi:private-app-api-calls-ten-secondly:{portal_id}"),
        ),
    };
    ApiError::raw(
        StatusCode::TOO_MANY_REQUESTS,
        json!({
            "status": "error",
            "message": "You have reached your ten_secondly_rolling limit.",
            "errorType": "RATE_LIMIT",
            "correlationId": correlation_id(),
            "policyName": "TEN_SECONDLY_ROLLING",
            "groupName": group,
        }),
    )
    .header(
        "x-hubspot-ratelimit-interval-milliseconds",
        limits.window.as_millis().to_string(),
    )
    .header("x-hubspot-ratelimit-max", max.to_string())
    .header("x-hubspot-ratelimit-remaining", "0")
}

fn check_search(state: &SimState, portal_id: u64, now: Instant) -> Result<(), ApiError> {
    let per_second = state.config.limits.search_per_second;
    match state.search.check(
        &portal_id,
        per_second,
        std::time::Duration::from_secs(1),
        now,
    ) {
        Decision::Allowed { .. } => Ok(()),
        Decision::Limited => Err(ApiError::raw(
            StatusCode::TOO_MANY_REQUESTS,
            json!({
                "status": "error",
                "message": "You have reached your secondly limit.",
                "errorType": "RATE_LIMIT",
                "correlationId": correlation_id(),
                "policyName": "SECONDLY",
                "groupName": format!("publicapi:search-api-calls-secondly:{portal_id}"),
            }),
        )),
    }
}

fn fault_response(fault: Fault) -> Response {
    match fault {
        Fault::ServerError(status) => {
            let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            ApiError::new(status, "INTERNAL_ERROR", "An internal error occurred (injected by hubspot-sim).").into_response()
        }
        Fault::Locked => ApiError::new(
            StatusCode::LOCKED,
            "LOCKED",
            "The resource is locked by another request. Locks last 2 seconds; retry after a delay of at least 2 seconds.",
        )
        .into_response(),
        Fault::Malformed => (
            StatusCode::OK,
            [(header::CONTENT_TYPE, "application/json;charset=utf-8")],
            r#"{"results":[{"id":"1","properties":{"email":"trunc"#,
        )
            .into_response(),
        Fault::Drop => {
            // A body that fails before its first byte makes hyper abort the connection.
            let failing = futures::stream::once(async {
                Err::<Bytes, std::io::Error>(std::io::Error::other("connection dropped (injected by hubspot-sim)"))
            });
            Response::builder()
                .status(StatusCode::OK)
                .header(header::CONTENT_LENGTH, "64")
                .body(Body::from_stream(failing))
                .unwrap_or_else(|_| StatusCode::INTERNAL_SERVER_ERROR.into_response())
        }
    }
}
