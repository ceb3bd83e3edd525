//! OAuth: the auto-approving install page, the token endpoint (both grants, form-encoded),
//! token info, introspection and revocation, with HubSpot's response and error bodies.

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::{Path, RawQuery, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::error::{ApiError, correlation_id};
use super::query::QueryParams;
use crate::state::SimState;
use crate::tokens::{CodeError, Grant, TokenKind, TokenPair};

fn oauth_error(status: &str, message: &str, error: &str) -> ApiError {
    ApiError::raw(
        StatusCode::BAD_REQUEST,
        json!({
            "status": status,
            "message": message,
            "correlationId": correlation_id(),
            "error": error,
            "error_description": message,
        }),
    )
}

/// `GET /oauth/authorize` and `/oauth/{portalId}/authorize`: approves at once and redirects.
pub async fn authorize(State(state): State<Arc<SimState>>, RawQuery(raw): RawQuery) -> Response {
    authorize_for(state, None, raw).await
}

pub async fn authorize_portal(
    State(state): State<Arc<SimState>>,
    Path(portal): Path<String>,
    RawQuery(raw): RawQuery,
) -> Response {
    authorize_for(state, Some(portal), raw).await
}

async fn authorize_for(
    state: Arc<SimState>,
    portal: Option<String>,
    raw: Option<String>,
) -> Response {
    let params = QueryParams::parse(raw.as_deref());
    let page = |status: StatusCode, message: &str| {
        (
            status,
            [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
            format!("<!doctype html><title>HubSpot (simulated)</title><h1>Authorization failed</h1><p>{message}</p>"),
        )
            .into_response()
    };
    if params.get("client_id") != Some(state.config.client_id.as_str()) {
        return page(StatusCode::BAD_REQUEST, "Unknown or missing client_id.");
    }
    let Some(redirect_uri) = params
        .get("redirect_uri")
        .filter(|u| url::Url::parse(u).is_ok())
    else {
        return page(StatusCode::BAD_REQUEST, "Missing or invalid redirect_uri.");
    };
    let portal_id = portal
        .or_else(|| params.get("portal_id").map(str::to_owned))
        .and_then(|p| p.parse::<u64>().ok())
        .or_else(|| state.portal_ids().first().copied());
    let Some(portal_id) = portal_id.filter(|id| state.portal(*id).is_some()) else {
        return page(
            StatusCode::NOT_FOUND,
            "That HubSpot account does not exist in this simulator.",
        );
    };
    let mut scopes: Vec<String> = vec!["oauth".to_owned()];
    for key in ["scope", "optional_scope"] {
        for scope in params.get(key).unwrap_or_default().split([' ', '+', ',']) {
            if !scope.is_empty() && !scopes.iter().any(|s| s == scope) {
                scopes.push(scope.to_owned());
            }
        }
    }
    let grant = Grant {
        portal_id,
        scopes,
        kind: TokenKind::OAuth {
            app_id: state.config.app_id,
        },
    };
    let code = state.tokens().issue_code(
        grant,
        &state.config.client_id,
        redirect_uri,
        state.config.auth_code_ttl,
    );
    let mut target = match url::Url::parse(redirect_uri) {
        Ok(url) => url,
        Err(_) => return page(StatusCode::BAD_REQUEST, "Missing or invalid redirect_uri."),
    };
    {
        let mut query = target.query_pairs_mut();
        query.append_pair("code", &code);
        if let Some(state_param) = params.get("state") {
            query.append_pair("state", state_param);
        }
    }
    (StatusCode::FOUND, [(header::LOCATION, target.to_string())]).into_response()
}

fn token_json(pair: &TokenPair) -> Value {
    json!({
        "token_type": "bearer",
        "refresh_token": pair.refresh_token,
        "access_token": pair.access_token,
        "expires_in": pair.expires_in,
        "token_use": "access_token",
        "hub_id": pair.portal_id,
        "scopes": pair.scopes,
    })
}

/// Form fields, with v1's query-string fallback.
fn form_fields(raw_query: Option<&str>, body: &[u8]) -> HashMap<String, String> {
    let mut fields: HashMap<String, String> =
        url::form_urlencoded::parse(raw_query.unwrap_or_default().as_bytes())
            .into_owned()
            .collect();
    fields.extend(url::form_urlencoded::parse(body).into_owned());
    fields
}

/// `POST /oauth/v1/token` (also `/oauth/v3/token`, `/oauth/2026-03/token`).
pub async fn token(
    State(state): State<Arc<SimState>>,
    RawQuery(raw): RawQuery,
    body: axum::body::Bytes,
) -> Result<Response, ApiError> {
    let fields = form_fields(raw.as_deref(), &body);
    let field = |name: &str| fields.get(name).map(String::as_str).unwrap_or_default();
    if field("client_id") != state.config.client_id {
        return Err(oauth_error(
            "BAD_CLIENT_ID",
            "missing or invalid client id",
            "invalid_client",
        ));
    }
    if field("client_secret") != state.config.client_secret {
        return Err(oauth_error(
            "BAD_CLIENT_SECRET",
            "missing or invalid client secret",
            "invalid_client",
        ));
    }
    let ttl = state.config.access_token_ttl;
    let pair = match field("grant_type") {
        "authorization_code" => {
            match state.tokens().redeem_code(
                field("code"),
                field("client_id"),
                field("redirect_uri"),
                ttl,
            ) {
                Ok(pair) => pair,
                Err(CodeError::RedirectMismatch) => {
                    return Err(oauth_error(
                        "BAD_REDIRECT_URI",
                        "redirect_uri does not match the one used to authorize",
                        "invalid_grant",
                    ));
                }
                Err(CodeError::Unknown | CodeError::ClientMismatch) => {
                    return Err(oauth_error(
                        "BAD_AUTH_CODE",
                        "missing or unknown auth code",
                        "invalid_grant",
                    ));
                }
            }
        }
        "refresh_token" => state
            .tokens()
            .refresh(field("refresh_token"), field("client_id"), ttl)
            .ok_or_else(|| {
                oauth_error(
                    "BAD_REFRESH_TOKEN",
                    "refresh token is invalid, expired or revoked",
                    "invalid_grant",
                )
            })?,
        other => {
            return Err(oauth_error(
                "BAD_GRANT_TYPE",
                &format!("grant_type must be authorization_code or refresh_token, got '{other}'"),
                "unsupported_grant_type",
            ));
        }
    };
    Ok(axum::Json(token_json(&pair)).into_response())
}

fn hub_domain(portal_id: u64) -> String {
    format!("sim-{portal_id}.hubspot.com")
}

/// `GET /oauth/v1/access-tokens/{token}`.
pub async fn access_token_info(
    State(state): State<Arc<SimState>>,
    Path(token): Path<String>,
) -> Result<Response, ApiError> {
    let tokens = state.tokens();
    let info = tokens
        .access_info(&token)
        .ok_or_else(|| ApiError::not_found("The access token does not exist or has expired."))?;
    let expires_in = info
        .expires_at
        .saturating_duration_since(std::time::Instant::now())
        .as_secs();
    Ok(axum::Json(json!({
        "token": token,
        "user": "sim-user@example.com",
        "hub_domain": hub_domain(info.grant.portal_id),
        "scopes": info.grant.scopes,
        "hub_id": info.grant.portal_id,
        "app_id": state.config.app_id,
        "expires_in": expires_in,
        "user_id": 1,
        "token_type": "access",
    }))
    .into_response())
}

/// `GET /oauth/v1/refresh-tokens/{token}`.
pub async fn refresh_token_info(
    State(state): State<Arc<SimState>>,
    Path(token): Path<String>,
) -> Result<Response, ApiError> {
    let tokens = state.tokens();
    let info = tokens.refresh_info(&token).ok_or_else(|| {
        ApiError::not_found("The refresh token does not exist or has been revoked.")
    })?;
    Ok(axum::Json(json!({
        "token": token,
        "user": "sim-user@example.com",
        "hub_domain": hub_domain(info.grant.portal_id),
        "scopes": info.grant.scopes,
        "hub_id": info.grant.portal_id,
        "client_id": info.client_id,
        "user_id": 1,
        "token_type": "refresh",
    }))
    .into_response())
}

/// `DELETE /oauth/v1/refresh-tokens/{token}`: 204; access tokens keep working.
pub async fn delete_refresh_token(
    State(state): State<Arc<SimState>>,
    Path(token): Path<String>,
) -> Result<Response, ApiError> {
    if state.tokens().revoke_refresh(&token) {
        Ok(StatusCode::NO_CONTENT.into_response())
    } else {
        Err(ApiError::not_found(
            "The refresh token does not exist or has been revoked.",
        ))
    }
}

fn check_client(state: &SimState, fields: &HashMap<String, String>) -> Result<(), ApiError> {
    if fields.get("client_id").map(String::as_str) != Some(state.config.client_id.as_str()) {
        return Err(oauth_error(
            "BAD_CLIENT_ID",
            "missing or invalid client id",
            "invalid_client",
        ));
    }
    if fields.get("client_secret").map(String::as_str) != Some(state.config.client_secret.as_str())
    {
        return Err(oauth_error(
            "BAD_CLIENT_SECRET",
            "missing or invalid client secret",
            "invalid_client",
        ));
    }
    Ok(())
}

/// The token of an introspect/revoke form: `token`, or `access_token` / `refresh_token`.
fn posted_token(fields: &HashMap<String, String>) -> (String, Option<String>) {
    let hint = fields.get("token_type_hint").cloned();
    let token = fields
        .get("token")
        .or_else(|| fields.get("access_token"))
        .or_else(|| fields.get("refresh_token"))
        .cloned()
        .unwrap_or_default();
    let hint = hint.or_else(|| {
        if fields.contains_key("refresh_token") {
            Some("refresh_token".to_owned())
        } else if fields.contains_key("access_token") {
            Some("access_token".to_owned())
        } else {
            None
        }
    });
    (token, hint)
}

/// `POST /oauth/v3/token/introspect`.
pub async fn introspect(
    State(state): State<Arc<SimState>>,
    body: axum::body::Bytes,
) -> Result<Response, ApiError> {
    let fields = form_fields(None, &body);
    check_client(&state, &fields)?;
    let (token, hint) = posted_token(&fields);
    let tokens = state.tokens();
    let now = std::time::Instant::now();
    let access = tokens
        .access_info(&token)
        .filter(|_| hint.as_deref() != Some("refresh_token"))
        .map(|info| (info.grant.clone(), info.expires_at));
    let body = match (access, tokens.refresh_info(&token)) {
        (Some((grant, expires_at)), _) => json!({
            "active": true, "token_use": "access_token", "client_id": state.config.client_id,
            "hub_id": grant.portal_id, "scopes": grant.scopes, "app_id": state.config.app_id,
            "user_id": 1, "expires_in": expires_at.saturating_duration_since(now).as_secs(), "token_type": "bearer",
        }),
        (None, Some(info)) => json!({
            "active": true, "token_use": "refresh_token", "client_id": info.client_id,
            "hub_id": info.grant.portal_id, "scopes": info.grant.scopes, "user_id": 1, "token_type": "refresh",
        }),
        (None, None) => json!({"active": false}),
    };
    Ok(axum::Json(body).into_response())
}

/// `POST /oauth/v3/token/revoke`: 200 whether or not the token existed (RFC 7009).
pub async fn revoke(
    State(state): State<Arc<SimState>>,
    body: axum::body::Bytes,
) -> Result<Response, ApiError> {
    let fields = form_fields(None, &body);
    check_client(&state, &fields)?;
    let (token, _) = posted_token(&fields);
    let mut tokens = state.tokens();
    if !tokens.revoke_refresh(&token) {
        tokens.revoke_access(&token);
    }
    Ok(StatusCode::OK.into_response())
}
