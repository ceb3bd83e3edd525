//! The Integrations page: connect HubSpot (the OAuth install bound to the signed-in account),
//! each connection's HubSpot account, scopes, status with a live sync progress bar, last full
//! sync and next nightly re-sync, reconnect, and disconnect after saying what stays in HubSpot.
//!
//! Every route that names a portal or a job checks that it belongs to the signed-in account
//! and answers 404 otherwise, exactly as for one that does not exist.

use std::convert::Infallible;

use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{Html, IntoResponse, Redirect, Response};
use chrono::{DateTime, Days, NaiveTime, Utc};
use entity::{JobStatus, JobType, PortalStatus, job_runs, portals};
use futures::Stream;
use maud::{Markup, html};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
use serde::Deserialize;
use uuid::Uuid;

use super::checks;
use super::error::PageError;
use super::layout::{self, Nav};
use super::session::AccountSession;
use crate::AppState;
use crate::board::format;

/// The OAuth `state` context that binds an install to an account.
pub fn account_context(account_id: i64) -> String {
    format!("account:{account_id}")
}

/// The account an OAuth `state` context names, if it names one.
pub fn context_account(context: &str) -> Option<i64> {
    context.strip_prefix("account:")?.parse().ok()
}

/// The portal `raw` names, if the account owns it; 404 for anything else (malformed ids
/// included), so nothing tells another tenant's portals apart from missing ones.
pub(crate) async fn owned_portal(
    state: &AppState,
    session: &AccountSession,
    raw: &str,
) -> Result<portals::Model, PageError> {
    let Ok(id) = raw.parse::<i64>() else {
        return Err(PageError::not_found());
    };
    portals::Entity::find_by_id(id)
        .filter(portals::Column::AccountId.eq(session.account.id))
        .one(&state.db)
        .await?
        .ok_or_else(PageError::not_found)
}

/// Every HubSpot account the signed-in account owns (disconnected ones included), oldest first.
pub(super) async fn owned_portals(
    state: &AppState,
    session: &AccountSession,
) -> Result<Vec<portals::Model>, PageError> {
    Ok(portals::Entity::find()
        .filter(portals::Column::AccountId.eq(session.account.id))
        .order_by_asc(portals::Column::Id)
        .all(&state.db)
        .await?)
}

/// The sync work in flight for a portal: its newest unfinished InitialSync, TrainModel or
/// NightlyResync run.
async fn active_sync(
    state: &AppState,
    portal_id: i64,
) -> Result<Option<job_runs::Model>, PageError> {
    Ok(job_runs::Entity::find()
        .filter(job_runs::Column::PortalId.eq(portal_id))
        .filter(job_runs::Column::JobType.is_in([
            JobType::InitialSync,
            JobType::TrainModel,
            JobType::NightlyResync,
        ]))
        .filter(job_runs::Column::Status.is_in([
            JobStatus::Pending,
            JobStatus::Queued,
            JobStatus::Running,
            JobStatus::Retrying,
        ]))
        .order_by_desc(job_runs::Column::CreatedAt)
        .one(&state.db)
        .await?)
}

/// The next 00:00 UTC after `now`, when the nightly re-sync runs.
pub fn next_nightly(now: DateTime<Utc>) -> DateTime<Utc> {
    let tomorrow = now
        .date_naive()
        .checked_add_days(Days::new(1))
        .unwrap_or(now.date_naive());
    tomorrow.and_time(NaiveTime::MIN).and_utc()
}

/// How a connection is shown: a label, a badge tone and a sentence.
pub(super) fn presented(
    portal: &portals::Model,
    syncing: bool,
) -> (&'static str, &'static str, String) {
    let reason = portal.status_reason.clone();
    match portal.status {
        PortalStatus::Disconnected => (
            "Disconnected",
            "muted",
            "Conturs no longer reads or updates this HubSpot account. Connect it again to resume."
                .to_owned(),
        ),
        PortalStatus::NeedsReconnect => (
            "Needs reconnect",
            "bad",
            reason.unwrap_or_else(|| {
                "HubSpot no longer accepts Conturs' access (the app was uninstalled or a \
                 permission is missing). Reconnect to resume scoring."
                    .to_owned()
            }),
        ),
        _ if syncing => (
            "Syncing",
            "busy",
            "Conturs is reading your contacts, companies and deals and scoring them.".to_owned(),
        ),
        PortalStatus::Connected | PortalStatus::Syncing => (
            "Connected",
            "busy",
            "Connected; the first sync is about to start.".to_owned(),
        ),
        PortalStatus::Ready => (
            "Ready",
            "good",
            "Every contact with company data is scored and kept up to date.".to_owned(),
        ),
        PortalStatus::InsufficientData => (
            "Ready — not enough data",
            "warn",
            reason.unwrap_or_else(|| {
                "Conturs needs at least 10 closed-won deals to learn what your best customers \
                 look like."
                    .to_owned()
            }),
        ),
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct PageQuery {
    done: Option<String>,
}

/// `GET /app/integrations`.
pub async fn page(
    State(state): State<AppState>,
    session: AccountSession,
    Query(query): Query<PageQuery>,
) -> Result<Html<String>, PageError> {
    let now = state.config.clock.now();
    let owned = owned_portals(&state, &session).await?;
    let mut cards = Vec::with_capacity(owned.len());
    for portal in &owned {
        let (run, checks) = if portal.status == PortalStatus::Disconnected {
            (None, Vec::new())
        } else {
            let facts = checks::portal_facts(&state.db, portal).await?;
            (
                active_sync(&state, portal.id).await?,
                checks::evaluate(&facts),
            )
        };
        cards.push(card(&session, portal, run.as_ref(), &checks, now));
    }
    let connected = owned.iter().any(|p| p.status != PortalStatus::Disconnected);
    let body = html! {
        @if let Some(done) = &query.done { p.flash.good role="status" { (done) } }
        section.panel aria-labelledby="hubspot-h" {
            h2 #hubspot-h { "HubSpot" }
            p { "Conturs reads your HubSpot contacts, companies and deals, learns what your closed-won customers have in common, and writes a 0–100 score, a grade and an explanation onto every contact." }
            @if !connected {
                (connect_button(&session, "Connect HubSpot", "primary"))
            } @else {
                (connect_button(&session, "Connect another HubSpot account", ""))
            }
        }
        @for card in &cards { (card) }
        @if !connected { (checks::requirements()) }
    };
    Ok(Html(
        layout::page("Integrations", Nav::Integrations, &session, body).into_string(),
    ))
}

fn connect_button(session: &AccountSession, label: &str, tone: &str) -> Markup {
    html! {
        form.inline method="post" action="/app/integrations/connect" {
            (layout::csrf_field(&session.csrf))
            button class=(format!("btn {tone}")) type="submit" { (label) }
        }
    }
}

fn card(
    session: &AccountSession,
    portal: &portals::Model,
    run: Option<&job_runs::Model>,
    checks: &[checks::Check],
    now: DateTime<Utc>,
) -> Markup {
    let (label, tone, sentence) = presented(portal, run.is_some());
    let scopes: Vec<String> = serde_json::from_value(portal.scopes.clone()).unwrap_or_default();
    let connected = portal.status != PortalStatus::Disconnected;
    let heading = format!("portal-{}-h", portal.id);
    html! {
        section.panel.connection #(format!("portal-{}", portal.id)) aria-labelledby=(heading) {
            h2 #(heading) { "HubSpot account " (portal.id) }
            p.lead {
                span.badge class=(tone) data-connection-status { (label) }
                " " span { (sentence) }
            }
            @if let Some(run) = run { (progress(run)) }
            dl.facts {
                dt { "HubSpot account id" } dd { (portal.id) }
                dt { "Domain" } dd { (portal.hub_domain.as_deref().unwrap_or("–")) }
                dt { "Granted scopes" } dd {
                    @if scopes.is_empty() { "–" } @else {
                        ul.scopes { @for scope in &scopes { li { code { (scope) } } } }
                    }
                }
                dt { "Connected" } dd { (format::timestamp(portal.connected_at)) }
                dt { "Last full sync" } dd { (portal.last_full_sync_at.map(|at| format!("{} ({})", format::timestamp(at), format::ago(at, now))).unwrap_or_else(|| "not yet".into())) }
                @if connected {
                    dt { "Next nightly re-sync" } dd { (format::timestamp(next_nightly(now))) }
                } @else if let Some(at) = portal.disconnected_at {
                    dt { "Disconnected" } dd { (format::timestamp(at)) }
                }
            }
            @if !checks.is_empty() {
                details.checks open[checks.iter().any(|c| c.standing == checks::Standing::NotMet)] {
                    summary { "Prerequisite checks" }
                    (checks::render(checks))
                }
            }
            div.actions {
                @if connected {
                    a.btn href=(format!("/app/portals/{}", portal.id)) { "Scores →" }
                }
                @match portal.status {
                    PortalStatus::NeedsReconnect => (connect_button(session, "Reconnect", "primary")),
                    PortalStatus::Disconnected => (connect_button(session, "Connect again", "primary")),
                    _ => {}
                }
                @if connected {
                    a.btn.danger href=(format!("/app/integrations/{}/disconnect", portal.id)) { "Disconnect…" }
                }
            }
        }
    }
}

/// A sync's progress bar; board.js follows the account-scoped stream until it finishes.
fn progress(run: &job_runs::Model) -> Markup {
    let (value, max) = match run.total {
        Some(total) if total > 0 => (run.done.min(total), total),
        _ => (0, 0),
    };
    let what = match run.job_type {
        JobType::InitialSync => "First sync",
        JobType::TrainModel => "Learning from your customers and scoring",
        _ => "Nightly re-sync",
    };
    html! {
        div.progress-panel data-stream=(format!("/app/jobs/{}/stream", run.id))
            data-status=(format::job_status(run.status)) {
            p { strong { (what) } }
            @if max > 0 {
                progress max=(max) value=(value) aria-label=(what) { (value) " / " (max) }
            } @else {
                progress aria-label=(what) {}
            }
            p.small aria-live="polite" {
                span data-field="status" { (format::job_status(run.status)) }
                " · " span data-field="phase" { (run.phase.as_deref().unwrap_or("–")) }
                " · " span data-field="done" { (format::progress(run.done, run.total)) }
                " · " span data-field="rate" { (run.rate.map(|r| format!("{r:.0}/s")).unwrap_or_else(|| "–".into())) }
                " · ETA " span data-field="eta" { (run.eta_seconds.map(format::duration_secs).unwrap_or_else(|| "–".into())) }
            }
        }
    }
}

#[derive(Deserialize)]
pub struct CsrfForm {
    #[serde(default)]
    csrf: String,
}

/// `POST /app/integrations/connect`: to HubSpot's consent screen with a `state` that carries
/// the account (connect, reconnect and connect again are all this).
pub async fn connect(
    State(state): State<AppState>,
    session: AccountSession,
    Form(form): Form<CsrfForm>,
) -> Result<Response, PageError> {
    session.check_csrf(&form.csrf)?;
    let context = account_context(session.account.id);
    let url = state
        .hubspot
        .install_url(&state.config.state_signer, Some(&context));
    Ok((StatusCode::SEE_OTHER, [(header::LOCATION, url.to_string())]).into_response())
}

/// `GET /app/integrations/{id}/disconnect`: what disconnecting does and does not do, then the
/// confirmation.
pub async fn disconnect_page(
    State(state): State<AppState>,
    session: AccountSession,
    Path(raw): Path<String>,
) -> Result<Html<String>, PageError> {
    let portal = owned_portal(&state, &session, &raw).await?;
    let body = html! {
        section.panel aria-labelledby="what-h" {
            h2 #what-h { "What disconnecting does" }
            ul {
                li { "Conturs stops reading and updating HubSpot account " (portal.id) " at once: no more scoring, no nightly re-sync." }
                li { "Conturs' access is revoked at HubSpot." }
                li { "The Conturs properties stay on your contacts in HubSpot with their last values: "
                    code { "conturs_score" } ", " code { "conturs_grade" } ", " code { "conturs_explanation" } ", "
                    code { "conturs_top_factors" } " and " code { "conturs_last_scored" } ", in the property group “Conturs”." }
            }
            h3 { "Deleting the properties from HubSpot" }
            p { "If you no longer want them, a HubSpot super admin can delete them: in HubSpot open "
                strong { "Settings → Data Management → Properties" } ", choose " strong { "Contact properties" }
                ", filter by the group " strong { "Conturs" } ", select the five properties and choose "
                strong { "Delete" } ". Then delete the empty group. Lists, reports or workflows that use them stop working." }
            p { "You can connect the same HubSpot account again at any time; scores resume after a fresh sync." }
            @if portal.status == PortalStatus::Disconnected {
                p.flash role="status" { "This HubSpot account is already disconnected." }
            } @else {
                form.inline method="post" action=(format!("/app/integrations/{}/disconnect", portal.id)) {
                    (layout::csrf_field(&session.csrf))
                    button.btn.danger type="submit" { "Disconnect HubSpot account " (portal.id) }
                }
                " " a href="/app/integrations" { "Keep it connected" }
            }
        }
    };
    Ok(Html(
        layout::page(
            &format!("Disconnect HubSpot account {}", portal.id),
            Nav::Integrations,
            &session,
            body,
        )
        .into_string(),
    ))
}

/// `POST /app/integrations/{id}/disconnect`: stops every update and revokes the token
/// (`portal_routes::disconnect_portal`, as the API and the board do).
pub async fn disconnect(
    State(state): State<AppState>,
    session: AccountSession,
    Path(raw): Path<String>,
    Form(form): Form<CsrfForm>,
) -> Result<Response, PageError> {
    session.check_csrf(&form.csrf)?;
    let portal = owned_portal(&state, &session, &raw).await?;
    crate::portal_routes::disconnect_portal(
        &state,
        portal.id,
        "disconnected by the customer on the dashboard",
    )
    .await?;
    tracing::info!(
        portal = portal.id,
        account = session.account.id,
        "customer disconnected a portal"
    );
    let done =
        crate::web::shell::done_query(&format!("HubSpot account {} is disconnected.", portal.id));
    Ok(Redirect::to(&format!("/app/integrations?done={done}")).into_response())
}

/// `GET /app/jobs/{id}/stream`: a sync's snapshots as Server-Sent Events, only for a run of a
/// portal the account owns.
pub async fn stream(
    State(state): State<AppState>,
    session: AccountSession,
    Path(raw): Path<String>,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, PageError> {
    let Ok(id) = Uuid::parse_str(&raw) else {
        return Err(PageError::not_found());
    };
    let Some(run) = job_runs::Entity::find_by_id(id).one(&state.db).await? else {
        return Err(PageError::not_found());
    };
    owned_portal(&state, &session, &run.portal_id.to_string()).await?;
    let ledger = state.queue.ledger().clone();
    Ok(Sse::new(crate::job_routes::follow(ledger, run)).keep_alive(KeepAlive::default()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn account_contexts_round_trip_and_reject_others() {
        assert_eq!(context_account(&account_context(42)), Some(42));
        assert_eq!(context_account("account:"), None);
        assert_eq!(context_account("account:x"), None);
        assert_eq!(context_account("portal:1"), None);
    }

    #[test]
    fn the_nightly_resync_is_the_next_midnight_utc() {
        let at = |s: &str| DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc);
        assert_eq!(
            next_nightly(at("2026-11-29T13:45:00Z")),
            at("2026-11-30T00:00:00Z")
        );
        assert_eq!(
            next_nightly(at("2026-11-29T00:00:00Z")),
            at("2026-11-30T00:00:00Z")
        );
        assert_eq!(
            next_nightly(at("2026-12-31T23:59:59Z")),
            at("2027-01-01T00:00:00Z")
        );
    }
}
