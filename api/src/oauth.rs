//! Connecting a HubSpot account (DESIGN §1): `GET /oauth/hubspot/install` sends the browser to
//! HubSpot's consent screen with a signed, expiring `state`; `GET /oauth/hubspot/callback`
//! checks that state (signature, expiry, and single use through the `oauth_states` table, which
//! works the same on SQLite and Postgres), exchanges the code, seals the tokens, creates or
//! reconnects the portal, queues its InitialSync and redirects to the portal's board page.
//!
//! A state started from the customer dashboard carries the account (`account:{id}`): the
//! callback then requires that account's session in the browser (so nobody can bind their
//! HubSpot to someone else's account, or someone else's HubSpot to theirs, by sending a
//! link), refuses a HubSpot account another Conturs account owns, binds the portal to the
//! account and lands on `/app/integrations`. A state without an account behaves as before.
//!
//! The callback is a browser page, so every failure ends on a short HTML page with the right
//! status (400, 403, 409, 502, 503), never a 500 or a JSON body.

use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use entity::{PortalStatus, oauth_states, portals};
use hubspot::oauth::{StateClaims, StateError};
use jobs::EnqueueOptions;
use jobs::payload::InitialSync;
use jobs::payload::JobPayload as _;
use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, Set};
use secrecy::ExposeSecret as _;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;

/// Install and callback (public: browsers follow them; the signed state protects them).
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(install))
        .routes(routes!(callback))
}

/// The board page a freshly connected portal lands on.
pub fn portal_page(portal_id: i64) -> String {
    format!("/board/portals/{portal_id}")
}

/// 302 to HubSpot's authorize URL with the required scopes and a fresh signed state.
#[utoipa::path(
    get,
    path = "/oauth/hubspot/install",
    operation_id = "oauth_install",
    tag = "oauth",
    responses((status = 302, description = "To HubSpot's consent screen.",
        headers(("Location" = String, description = "HubSpot's authorize URL with `client_id`, \
            `redirect_uri`, `scope` and a signed `state`."))))
)]
async fn install(State(state): State<AppState>) -> Response {
    let url = state.hubspot.install_url(&state.config.state_signer, None);
    (StatusCode::FOUND, [(header::LOCATION, url.to_string())]).into_response()
}

/// A failed connection attempt, shown to the person who tried.
#[derive(Debug)]
struct Failure {
    status: StatusCode,
    title: &'static str,
    message: String,
}

fn fail(status: StatusCode, title: &'static str, message: impl Into<String>) -> Failure {
    Failure {
        status,
        title,
        message: message.into(),
    }
}

impl IntoResponse for Failure {
    fn into_response(self) -> Response {
        tracing::warn!(status = %self.status, title = self.title, message = %self.message, "OAuth callback failed");
        let html = format!(
            "<!doctype html><html lang=\"en\"><meta charset=\"utf-8\"><title>{title} · Conturs</title>\
             <h1>{title}</h1><p>{message}</p>\
             <p><a href=\"/oauth/hubspot/install\">Connect HubSpot again</a></p></html>",
            title = escape(self.title),
            message = escape(&self.message),
        );
        (
            self.status,
            [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
            html,
        )
            .into_response()
    }
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// Where HubSpot sends the browser back after consent. Failures are short HTML pages.
#[utoipa::path(
    get,
    path = "/oauth/hubspot/callback",
    operation_id = "oauth_callback",
    tag = "oauth",
    params(
        ("code" = Option<String>, Query, description = "The authorization code."),
        ("state" = Option<String>, Query, description = "The signed state `install` issued."),
        ("error" = Option<String>, Query,
            description = "Set by HubSpot instead of `code` (e.g. `access_denied`)."),
        ("error_description" = Option<String>, Query, description = "HubSpot's detail."),
    ),
    responses(
        (status = 302, description = "Connected; the initial sync is queued.",
            headers(("Location" = String, description = "The portal's board page, or the \
                dashboard's `/app/integrations` when the install started there."))),
        (status = 400, description = "Missing or malformed `state` or `code`, an expired \
            link, or an error from HubSpot.", content_type = "text/html", body = String),
        (status = 403, description = "Consent declined, a `state` Conturs did not sign, or \
            a dashboard install finished in a browser not signed in to its account.",
            content_type = "text/html", body = String),
        (status = 409, description = "This `state` was already used, or the HubSpot \
            account belongs to another Conturs account.",
            content_type = "text/html", body = String),
        (status = 502, description = "HubSpot refused the code exchange.",
            content_type = "text/html", body = String),
        (status = 503, description = "The connection could not be saved; try again.",
            content_type = "text/html", body = String),
    )
)]
async fn callback(
    State(state): State<AppState>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Response {
    match connect(&state, &headers, raw.as_deref().unwrap_or_default()).await {
        Ok(Connected {
            portal_id,
            account: None,
        }) => (
            StatusCode::FOUND,
            [(header::LOCATION, portal_page(portal_id))],
        )
            .into_response(),
        Ok(Connected {
            portal_id,
            account: Some(_),
        }) => {
            let done = crate::web::shell::done_query(&format!(
                "HubSpot account {portal_id} is connected; the first sync has started."
            ));
            (
                StatusCode::FOUND,
                [(
                    header::LOCATION,
                    format!("{}?done={done}", crate::dashboard::HOME),
                )],
            )
                .into_response()
        }
        Err(failure) => failure.into_response(),
    }
}

/// A finished connection: the portal, and the account it was bound to (dashboard installs).
struct Connected {
    portal_id: i64,
    account: Option<i64>,
}

/// For a state that carries an account: that account, once the browser is shown to be
/// signed in to it.
async fn state_account(
    state: &AppState,
    headers: &HeaderMap,
    claims: &StateClaims,
) -> Result<Option<i64>, Failure> {
    let Some(account) = claims
        .context
        .as_deref()
        .and_then(crate::dashboard::integrations::context_account)
    else {
        return Ok(None);
    };
    let session = crate::dashboard::session::current(state, headers)
        .await
        .map_err(unavailable)?;
    if session.map(|s| s.account.id) != Some(account) {
        return Err(fail(
            StatusCode::FORBIDDEN,
            "Sign in to finish connecting",
            "This connection was started from a Conturs account this browser is not signed in to. Sign in to that account and choose Connect HubSpot again.",
        ));
    }
    Ok(Some(account))
}

/// Refuses a HubSpot account that another Conturs account already owns.
async fn check_owner(state: &AppState, portal_id: i64, account: i64) -> Result<(), Failure> {
    let existing = portals::Entity::find_by_id(portal_id)
        .one(&state.db)
        .await
        .map_err(unavailable)?;
    match existing.and_then(|p| p.account_id) {
        Some(owner) if owner != account => Err(fail(
            StatusCode::CONFLICT,
            "HubSpot account already connected",
            "This HubSpot account is connected to another Conturs account. Ask its owner to disconnect it, or write to support.",
        )),
        _ => Ok(()),
    }
}

async fn connect(
    state: &AppState,
    headers: &HeaderMap,
    raw_query: &str,
) -> Result<Connected, Failure> {
    let param = |name: &str| {
        url::form_urlencoded::parse(raw_query.as_bytes())
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.into_owned())
    };
    if let Some(error) = param("error") {
        let detail = param("error_description").unwrap_or_else(|| error.clone());
        return Err(if error == "access_denied" {
            fail(
                StatusCode::FORBIDDEN,
                "HubSpot access was not granted",
                "You declined the connection on HubSpot's consent screen, so Conturs cannot \
                 score your contacts. Nothing was stored.",
            )
        } else {
            fail(
                StatusCode::BAD_REQUEST,
                "HubSpot reported an error",
                format!("HubSpot ended the connection with an error: {detail}"),
            )
        });
    }
    let raw_state = param("state").ok_or_else(|| {
        fail(
            StatusCode::BAD_REQUEST,
            "Missing state",
            "This link is missing its `state`; start the connection from Conturs.",
        )
    })?;
    let claims = check_state(state, &raw_state)?;
    let account = state_account(state, headers, &claims).await?;
    let code = param("code").filter(|c| !c.is_empty()).ok_or_else(|| {
        fail(
            StatusCode::BAD_REQUEST,
            "Missing code",
            "HubSpot did not send an authorization code.",
        )
    })?;
    spend_state(state, &claims).await?;

    let tokens = state
        .hubspot
        .tokens()
        .api()
        .exchange_code(&code)
        .await
        .map_err(|error| {
            fail(
                StatusCode::BAD_GATEWAY,
                "HubSpot did not accept the connection",
                format!("Exchanging the authorization code with HubSpot failed: {error}"),
            )
        })?;
    let portal_id = i64::try_from(tokens.portal_id).map_err(|_| {
        fail(
            StatusCode::BAD_GATEWAY,
            "Unexpected HubSpot account id",
            "HubSpot returned an account id Conturs cannot store.",
        )
    })?;
    if let Some(account) = account
        && let Err(refused) = check_owner(state, portal_id, account).await
    {
        // The refused install still got tokens from HubSpot: give them back, so nothing is
        // left holding access Conturs will never use.
        if let Err(error) = state
            .hubspot
            .tokens()
            .api()
            .revoke(&tokens.refresh_token)
            .await
        {
            tracing::warn!(portal_id, %error, "could not revoke the refused install's token");
        }
        return Err(refused);
    }
    // The domain is shown to the customer; a failed lookup only leaves it blank.
    let hub_domain = match state
        .hubspot
        .tokens()
        .api()
        .token_info(tokens.access_token.expose_secret())
        .await
    {
        Ok(info) => info.hub_domain,
        Err(error) => {
            tracing::warn!(portal_id, %error, "could not read the HubSpot account's domain");
            None
        }
    };
    upsert_portal(state, portal_id, &tokens.scopes, account, hub_domain)
        .await
        .map_err(unavailable)?;
    state
        .hubspot
        .tokens()
        .store()
        .save(tokens.portal_id, tokens)
        .await
        .map_err(|e| unavailable(e.to_string()))?;
    let job = state
        .queue
        .enqueue(
            |run_id| InitialSync { run_id, portal_id },
            EnqueueOptions::default(),
        )
        .await
        .map_err(|e| unavailable(e.to_string()))?;
    tracing::info!(portal_id, ?account, run_id = %job.run_id(), "HubSpot portal connected; initial sync queued");
    Ok(Connected { portal_id, account })
}

fn unavailable(error: impl std::fmt::Display) -> Failure {
    tracing::error!(%error, "OAuth callback could not finish");
    fail(
        StatusCode::SERVICE_UNAVAILABLE,
        "Conturs is temporarily unavailable",
        "HubSpot accepted the connection but Conturs could not save it. Please try again in a \
         minute.",
    )
}

fn check_state(state: &AppState, raw: &str) -> Result<StateClaims, Failure> {
    let now = state.config.clock.now_ms();
    state
        .config
        .state_signer
        .verify(raw, now)
        .map_err(|error| match error {
            StateError::BadSignature => fail(
                StatusCode::FORBIDDEN,
                "Invalid connection link",
                "This connection link was not issued by Conturs.",
            ),
            StateError::Malformed => fail(
                StatusCode::BAD_REQUEST,
                "Invalid connection link",
                "This connection link is malformed; start the connection from Conturs.",
            ),
            StateError::Expired => fail(
                StatusCode::BAD_REQUEST,
                "Connection link expired",
                "This connection link has expired; start the connection again.",
            ),
        })
}

/// Marks the state's nonce used; a second callback with the same state is refused (409).
async fn spend_state(state: &AppState, claims: &StateClaims) -> Result<(), Failure> {
    let now = state.config.clock.now();
    let expires_at = DateTime::<Utc>::from_timestamp_millis(claims.exp_ms).unwrap_or(now);
    // Spent states past their expiry are refused by the signature check anyway.
    oauth_states::Entity::delete_many()
        .filter(oauth_states::Column::ExpiresAt.lt(now))
        .exec(&state.db)
        .await
        .map_err(unavailable)?;
    let inserted = oauth_states::Entity::insert(oauth_states::ActiveModel {
        nonce: Set(claims.nonce.clone()),
        used_at: Set(now),
        expires_at: Set(expires_at),
    })
    .on_conflict(
        OnConflict::column(oauth_states::Column::Nonce)
            .do_nothing()
            .to_owned(),
    )
    .exec_without_returning(&state.db)
    .await
    .map_err(unavailable)?;
    if inserted == 0 {
        return Err(fail(
            StatusCode::CONFLICT,
            "Connection link already used",
            "This connection link has already been used; start the connection again.",
        ));
    }
    Ok(())
}

/// Creates the portal, or reconnects an existing one (new scopes, status connected); binds it
/// to `account` and records its domain when known (neither is cleared when absent).
async fn upsert_portal(
    state: &AppState,
    portal_id: i64,
    scopes: &[String],
    account: Option<i64>,
    hub_domain: Option<String>,
) -> Result<(), sea_orm::DbErr> {
    let now = Utc::now();
    let mut update = portals::Entity::update_many();
    if let Some(account) = account {
        update = update.col_expr(portals::Column::AccountId, Expr::value(Some(account)));
    }
    if let Some(domain) = &hub_domain {
        update = update.col_expr(
            portals::Column::HubDomain,
            Expr::value(Some(domain.clone())),
        );
    }
    let updated = update
        .col_expr(
            portals::Column::Status,
            Expr::value(PortalStatus::Connected),
        )
        .col_expr(portals::Column::StatusReason, Expr::value(None::<String>))
        .col_expr(
            portals::Column::Scopes,
            Expr::value(serde_json::json!(scopes)),
        )
        .col_expr(portals::Column::ConnectedAt, Expr::value(now))
        .col_expr(
            portals::Column::DisconnectedAt,
            Expr::value(None::<DateTime<Utc>>),
        )
        .col_expr(portals::Column::UpdatedAt, Expr::value(now))
        .filter(portals::Column::Id.eq(portal_id))
        .exec(&state.db)
        .await?;
    if updated.rows_affected == 0 {
        jobs::portals::record_portal(&state.db, portal_id, PortalStatus::Connected, scopes).await?;
        if account.is_some() || hub_domain.is_some() {
            portals::Entity::update_many()
                .col_expr(portals::Column::AccountId, Expr::value(account))
                .col_expr(portals::Column::HubDomain, Expr::value(hub_domain))
                .filter(portals::Column::Id.eq(portal_id))
                .exec(&state.db)
                .await?;
        }
    }
    Ok(())
}
