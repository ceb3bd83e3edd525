//! The customer dashboard at `/app`: Conturs accounts (sign-up, sign-in, sign-out, password
//! change) and the Integrations page where a customer connects and disconnects HubSpot and
//! watches the first sync.
//!
//! Server-rendered HTML like the operators' board, sharing its stylesheet, script and
//! formatting (no build step, no CDN). Sessions are server-side (`account_sessions`), named
//! by an HttpOnly, Secure, SameSite=Lax `conturs_session` cookie; every POST carries a CSRF
//! token. Every route that names a portal or a job is scoped to the signed-in account and
//! answers 404 for anything it does not own. Not part of the JSON API or its OpenAPI document.

mod accounts;
mod error;
pub(crate) mod integrations;
mod layout;
mod pages;
pub(crate) mod session;

use axum::Router;
use axum::routing::{get, post};

pub use session::{COOKIE_NAME, DashboardKey};

use crate::AppState;

/// Where a signed-in customer lands.
pub const HOME: &str = "/app/integrations";

/// Every dashboard route; mounted beside the API and the board.
pub fn routes() -> Router<AppState> {
    let streams = Router::new().route("/app/jobs/{id}/stream", get(integrations::stream));
    Router::new()
        .route("/app", get(pages::home))
        .route("/app/assets/{file}", get(crate::board::assets::serve))
        .route(
            "/app/sign-up",
            get(pages::sign_up_form).post(pages::sign_up),
        )
        .route(
            "/app/sign-in",
            get(pages::sign_in_form).post(pages::sign_in),
        )
        .route("/app/sign-out", post(pages::sign_out))
        .route("/app/account", get(pages::account))
        .route("/app/account/password", post(pages::change_password))
        .route("/app/integrations", get(integrations::page))
        .route("/app/integrations/connect", post(integrations::connect))
        .route(
            "/app/integrations/{id}/disconnect",
            get(integrations::disconnect_page).post(integrations::disconnect),
        )
        .layer(tower_http::timeout::TimeoutLayer::with_status_code(
            axum::http::StatusCode::SERVICE_UNAVAILABLE,
            crate::REQUEST_TIMEOUT,
        ))
        .merge(streams)
}

/// The accounts the operators' board lists, with the portals each owns.
pub(crate) async fn accounts_with_portals(
    state: &AppState,
) -> Result<Vec<(entity::accounts::Model, Vec<entity::portals::Model>)>, sea_orm::DbErr> {
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
    let accounts = entity::accounts::Entity::find()
        .order_by_desc(entity::accounts::Column::CreatedAt)
        .order_by_desc(entity::accounts::Column::Id)
        .all(&state.db)
        .await?;
    let owned = entity::portals::Entity::find()
        .filter(entity::portals::Column::AccountId.is_not_null())
        .order_by_asc(entity::portals::Column::Id)
        .all(&state.db)
        .await?;
    Ok(accounts
        .into_iter()
        .map(|account| {
            let portals = owned
                .iter()
                .filter(|p| p.account_id == Some(account.id))
                .cloned()
                .collect();
            (account, portals)
        })
        .collect())
}
