//! Customer accounts as operators see them: email, when created, the portals each owns.

use axum::extract::State;
use axum::response::Html;
use maud::html;

use super::error::BoardError;
use super::format;
use super::layout::{self, Nav};
use super::session::Session;
use crate::AppState;

/// `GET /board/accounts`.
pub async fn list(
    State(state): State<AppState>,
    session: Session,
) -> Result<Html<String>, BoardError> {
    let now = state.config.clock.now();
    let accounts = crate::dashboard::accounts_with_portals(&state).await?;
    let body = html! {
        @if accounts.is_empty() {
            p.muted { "No customer has signed up yet (" code { "/app/sign-up" } ")." }
        } @else {
            div.scroll {
                table.accounts {
                    thead { tr {
                        th scope="col" { "Email" } th scope="col" { "Created" } th scope="col" { "Portals" }
                    } }
                    tbody {
                        @for (account, portals) in &accounts {
                            tr {
                                th scope="row" { (account.email) }
                                td { time datetime=(account.created_at.to_rfc3339()) title=(format::timestamp(account.created_at)) { (format::ago(account.created_at, now)) } }
                                td {
                                    @if portals.is_empty() { span.muted { "none" } }
                                    @for (i, portal) in portals.iter().enumerate() {
                                        @if i > 0 { ", " }
                                        a href=(format!("/board/portals/{}", portal.id)) { (portal.id) }
                                        " " (layout::badge(&format::portal_status(portal.status), format::portal_tone(portal.status)))
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    };
    Ok(Html(
        layout::page("Accounts", Nav::Accounts, &session, body).into_string(),
    ))
}
