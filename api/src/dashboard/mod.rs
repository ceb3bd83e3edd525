//! The customer dashboard at `/app`: Conturs accounts (sign-up, sign-in, sign-out, password
//! change), the Integrations page where a customer connects and disconnects HubSpot and
//! watches the first sync, prerequisite checks, scores at a glance per HubSpot account, and a
//! contact lookup for troubleshooting.
//!
//! Server-rendered HTML like the operators' board, sharing its stylesheet, script and
//! formatting (no build step, no CDN). Sessions are server-side (`account_sessions`), named
//! by an HttpOnly, Secure, SameSite=Lax `conturs_session` cookie; every POST carries a CSRF
//! token. Every route that names a portal or a job is scoped to the signed-in account and
//! answers 404 for anything it does not own. Not part of the JSON API or its OpenAPI document.

mod accounts;
mod checks;
mod error;
pub(crate) mod integrations;
mod layout;
mod lookup;
mod pages;
mod scores;
pub(crate) mod session;

use axum::Router;
use axum::http::Method;
use axum::routing::{MethodRouter, get, post};

pub use session::{COOKIE_NAME, DashboardKey};

use crate::AppState;

/// Where a signed-in customer lands.
pub const HOME: &str = "/app/integrations";

/// One dashboard route as the router serves it: its path and the methods it answers. The
/// router is built from [`route_table`], so a test can walk every route (tenant scoping) and
/// a new route cannot be left out of it.
#[derive(Debug, Clone)]
pub struct RouteInfo {
    /// The path template as axum matches it (`{id}` for a parameter).
    pub path: &'static str,
    /// The methods it answers; any other gets 405.
    pub methods: &'static [Method],
    /// Long-lived (Server-Sent Events): outside the request timeout.
    pub streaming: bool,
}

const GET: &[Method] = &[Method::GET];
const POST: &[Method] = &[Method::POST];
const GET_POST: &[Method] = &[Method::GET, Method::POST];

fn table() -> Vec<(RouteInfo, MethodRouter<AppState>)> {
    let route = |path, methods, handler| {
        (
            RouteInfo {
                path,
                methods,
                streaming: false,
            },
            handler,
        )
    };
    vec![
        route("/app", GET, get(pages::home)),
        route("/app/assets/{file}", GET, get(crate::board::assets::serve)),
        route(
            "/app/sign-up",
            GET_POST,
            get(pages::sign_up_form).post(pages::sign_up),
        ),
        route(
            "/app/sign-in",
            GET_POST,
            get(pages::sign_in_form).post(pages::sign_in),
        ),
        route("/app/sign-out", POST, post(pages::sign_out)),
        route("/app/account", GET, get(pages::account)),
        route("/app/account/password", POST, post(pages::change_password)),
        route("/app/integrations", GET, get(integrations::page)),
        route(
            "/app/integrations/connect",
            POST,
            post(integrations::connect),
        ),
        route(
            "/app/integrations/{id}/disconnect",
            GET_POST,
            get(integrations::disconnect_page).post(integrations::disconnect),
        ),
        route("/app/portals", GET, get(scores::list)),
        route("/app/portals/{id}", GET, get(scores::page)),
        route("/app/portals/{id}/lookup", GET, get(lookup::page)),
        route("/app/lookup", GET, get(lookup::index)),
        (
            RouteInfo {
                path: "/app/jobs/{id}/stream",
                methods: GET,
                streaming: true,
            },
            get(integrations::stream),
        ),
    ]
}

/// Every dashboard route with the methods it answers (what [`routes`] serves).
pub fn route_table() -> Vec<RouteInfo> {
    table().into_iter().map(|(info, _)| info).collect()
}

/// Every dashboard route; mounted beside the API and the board.
pub fn routes() -> Router<AppState> {
    let (mut timed, mut streams) = (Router::new(), Router::new());
    for (info, handler) in table() {
        if info.streaming {
            streams = streams.route(info.path, handler);
        } else {
            timed = timed.route(info.path, handler);
        }
    }
    timed
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
