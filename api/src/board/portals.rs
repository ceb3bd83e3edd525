//! Portals: each one's status, last sync, model quality, grade distribution, HubSpot budget,
//! hottest contacts with their explanations, recent jobs, and the actions (re-sync now,
//! retrain, nightly re-sync, disconnect).

use axum::Form;
use axum::extract::{Path, Query, State};
use axum::response::{Html, IntoResponse, Redirect, Response};
use entity::{JobType, PortalStatus, portals, scores};
use maud::{Markup, html};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use serde::Deserialize;

use super::charts;
use super::error::BoardError;
use super::format;
use super::layout::{self, Nav};
use super::session::Session;
use crate::AppState;
use crate::job_filter::JobFilter;
use crate::portal_routes::ModelSummary;

/// Contacts shown in a portal's "hottest leads".
const TOP_CONTACTS: u64 = 10;
/// Recent jobs shown on a portal's page.
const RECENT_JOBS: u64 = 10;

fn parse_id(raw: &str) -> Result<i64, BoardError> {
    raw.parse()
        .map_err(|_| BoardError::bad_request(format!("\"{raw}\" is not a portal id")))
}

/// A model's quality as a sentence: the held-out AUC from choosing its penalty, and the AUC
/// and top-decile lift on its own training labels, as far as the model recorded them.
fn quality(model: &ModelSummary) -> String {
    let metric = |name: &str| model.metrics.get(name).and_then(serde_json::Value::as_f64);
    let mut parts = Vec::new();
    if let Some(auc) = metric("selection_auc") {
        parts.push(format!("cross-validated AUC {auc:.2}"));
    }
    if let Some(auc) = metric("training_auc") {
        parts.push(format!("AUC {auc:.2} on its training labels"));
    }
    if let Some(lift) = metric("lift_top_decile") {
        parts.push(format!("top-decile lift {lift:.1}×"));
    }
    if parts.is_empty() {
        "no quality figures recorded".to_owned()
    } else {
        parts.join(", ")
    }
}

/// A stored algorithm name in words.
fn algorithm(name: &str) -> &str {
    match name {
        "logistic_regression" => "L2 logistic regression",
        "logistic_naive_bayes_blend" => {
            "logistic regression blended with naive Bayes (few customers)"
        }
        other => other,
    }
}

/// `GET /board/portals`.
pub async fn list(
    State(state): State<AppState>,
    session: Session,
) -> Result<Html<String>, BoardError> {
    let now = state.config.clock.now();
    let portals = portals::Entity::find()
        .order_by_asc(portals::Column::Id)
        .all(&state.db)
        .await?;
    let body = html! {
        @if portals.is_empty() {
            p.muted { "No portal has connected yet. A customer connects one through " code { "/oauth/hubspot/install" } "." }
        } @else {
            div.scroll {
                table.portals {
                    thead { tr {
                        th scope="col" { "Portal" } th scope="col" { "Status" } th scope="col" { "Last full sync" }
                        th scope="col" { "Last incremental" } th scope="col" { "Model" }
                    } }
                    tbody {
                        @for portal in &portals {
                            tr {
                                th scope="row" {
                                    a href=(format!("/board/portals/{}", portal.id)) { (portal.id) }
                                    @if let Some(domain) = &portal.hub_domain { span.muted.small { " " (domain) } }
                                }
                                td { (layout::badge(&format::portal_status(portal.status), format::portal_tone(portal.status))) }
                                td { (portal.last_full_sync_at.map(|at| format::ago(at, now)).unwrap_or_else(|| "never".into())) }
                                td { (portal.last_incremental_sync_at.map(|at| format::ago(at, now)).unwrap_or_else(|| "never".into())) }
                                td { (portal.active_model_version.map(|v| format!("v{v}")).unwrap_or_else(|| "–".into())) }
                            }
                        }
                    }
                }
            }
        }
    };
    Ok(Html(
        layout::page("Portals", Nav::Portals, &session, body).into_string(),
    ))
}

#[derive(Debug, Default, Deserialize)]
pub struct PageQuery {
    done: Option<String>,
}

/// `GET /board/portals/{id}`.
pub async fn page(
    State(state): State<AppState>,
    session: Session,
    Path(raw): Path<String>,
    Query(query): Query<PageQuery>,
) -> Result<Html<String>, BoardError> {
    let id = parse_id(&raw)?;
    let now = state.config.clock.now();
    let detail = crate::portal_routes::portal_detail(&state, id).await?;
    let portal = &detail.portal;
    let top = scores::Entity::find()
        .filter(scores::Column::PortalId.eq(id))
        .filter(scores::Column::Score.is_not_null())
        .order_by_desc(scores::Column::Score)
        .order_by_asc(scores::Column::ContactId)
        .limit(TOP_CONTACTS)
        .all(&state.db)
        .await?;
    let filter = JobFilter {
        portal: Some(id),
        ..JobFilter::default()
    };
    let (recent, _) = filter.page(&state.db, None, RECENT_JOBS).await?;
    let grades: Vec<(String, i64)> = ["A", "B", "C", "D", "F", "unscored"]
        .iter()
        .map(|g| ((*g).to_owned(), detail.grades.get(*g).copied().unwrap_or(0)))
        .collect();
    let budget = &detail.budget;
    let body = html! {
        (layout::flash(query.done.as_deref(), "good"))
        p.lead {
            (layout::badge(&format::portal_status(portal.status), format::portal_tone(portal.status)))
            @if let Some(reason) = &portal.status_reason { " " span.muted { (reason) } }
        }
        (actions(&session, portal))
        div.grid {
            section.panel aria-labelledby="sync-h" {
                h2 #sync-h { "Sync" }
                dl.facts {
                    dt { "Domain" } dd { (portal.hub_domain.as_deref().unwrap_or("–")) }
                    dt { "Connected" } dd { (format::timestamp(portal.connected_at)) }
                    dt { "Last full sync" } dd { (portal.last_full_sync_at.map(format::timestamp).unwrap_or_else(|| "never".into())) }
                    dt { "Last incremental" } dd { (portal.last_incremental_sync_at.map(format::timestamp).unwrap_or_else(|| "never".into())) }
                    @if let Some(at) = portal.disconnected_at { dt { "Disconnected" } dd { (format::timestamp(at)) } }
                }
            }
            section.panel aria-labelledby="model-h" {
                h2 #model-h { "Model" }
                @match &detail.model {
                    None => p.muted { "Not trained yet." },
                    Some(model) => dl.facts {
                        dt { "Version" } dd { "v" (model.version) " (" (format!("{:?}", model.status).to_lowercase()) ")" }
                        dt { "Algorithm" } dd { (algorithm(&model.algorithm)) }
                        dt { "Quality" } dd { (quality(model)) }
                        dt { "Trained on" } dd { (model.positives) " buyers, " (model.negatives) " lost, " (format::count(i64::from(model.unlabeled))) " unlabeled" }
                        dt { "Trained" } dd { (format::ago(model.trained_at, now)) }
                    },
                }
            }
            section.panel aria-labelledby="budget-h" {
                h2 #budget-h { "HubSpot budget" }
                (charts::budget_gauge("Last 10 s", budget.last_window_requests, budget.limit_per_window, budget.burst_ceiling_per_window))
                dl.facts {
                    dt { "Peak window, last hour" } dd { (budget.peak_window_requests_last_hour) }
                    dt { "Last hour" } dd { (format::count(budget.last_hour.requests)) " requests, " (budget.last_hour.responses_429) " × 429, " (budget.last_hour.responses_5xx) " × 5xx" }
                    dt { "Last day" } dd { (format::count(budget.last_day.requests)) " requests, " (budget.last_day.responses_429) " × 429, " (budget.last_day.responses_5xx) " × 5xx" }
                }
            }
        }
        section.panel aria-labelledby="grades-h" {
            h2 #grades-h { "Grades" }
            (charts::grades(&grades))
        }
        section.panel aria-labelledby="top-h" {
            h2 #top-h { "Hottest contacts" }
            (top_table(&top))
        }
        section.panel aria-labelledby="recent-h" {
            h2 #recent-h { "Recent jobs" }
            div.scroll { (super::job_list::runs_table(&recent, now)) }
            p { a href=(format!("/board/jobs?portal={id}")) { "All jobs of this portal →" } }
        }
    };
    Ok(Html(
        layout::page(&format!("Portal {id}"), Nav::Portals, &session, body).into_string(),
    ))
}

fn top_table(top: &[scores::Model]) -> Markup {
    html! {
        @if top.is_empty() {
            p.muted { "No contact is scored yet." }
        } @else {
            div.scroll {
                table.top {
                    thead { tr { th scope="col" { "Contact" } th scope="col" { "Score" } th scope="col" { "Grade" } th scope="col" { "Why" } } }
                    tbody {
                        @for score in top {
                            tr {
                                th scope="row" { (score.contact_id) }
                                td.num { (score.score.map(|s| s.to_string()).unwrap_or_default()) }
                                td { @if let Some(g) = &score.grade { span class=(format!("grade g-{}", g.to_lowercase())) { (g) } } }
                                td.explanation { (score.explanation.as_deref().unwrap_or("")) }
                            }
                        }
                    }
                }
            }
        }
    }
}

fn actions(session: &Session, portal: &portals::Model) -> Markup {
    let action = format!("/board/portals/{}/action", portal.id);
    let connected = portal.status != PortalStatus::Disconnected;
    html! {
        @if !connected {
            div.actions {
                (layout::action_button(session, &action, "Delete data now",
                    "Delete this portal's contacts, companies, deals, scores, history and models now, instead of after the retention period?",
                    "danger", &[("do", "purge")]))
            }
        }
        @if connected {
            div.actions {
                (layout::action_button(session, &action, "Re-sync now",
                    "Fetch every contact, company and deal again and re-score the portal?", "primary", &[("do", "resync")]))
                (layout::action_button(session, &action, "Retrain",
                    "Train a new model from the current data and re-score?", "", &[("do", "retrain")]))
                (layout::action_button(session, &action, "Nightly re-sync now",
                    "Run the nightly catch-up (changes since the last sync) now?", "", &[("do", "nightly")]))
                (layout::action_button(session, &action, "Disconnect",
                    "Disconnect this portal? Its token is revoked and updates stop until the customer reconnects.",
                    "danger", &[("do", "disconnect")]))
            }
        }
    }
}

#[derive(Deserialize)]
pub struct ActionForm {
    csrf: String,
    #[serde(rename = "do")]
    action: String,
}

/// `POST /board/portals/{id}/action`: re-sync (InitialSync), retrain (TrainModel), nightly
/// (NightlyResync), disconnect, or (once disconnected) purge its CRM data.
pub async fn action(
    State(state): State<AppState>,
    session: Session,
    Path(raw): Path<String>,
    Form(form): Form<ActionForm>,
) -> Result<Response, BoardError> {
    session.check_csrf(&form.csrf)?;
    let id = parse_id(&raw)?;
    let job_type = match form.action.as_str() {
        "resync" => JobType::InitialSync,
        "retrain" => JobType::TrainModel,
        "nightly" => JobType::NightlyResync,
        "disconnect" => {
            crate::portal_routes::disconnect_portal(
                &state,
                id,
                "disconnected by an operator on the board",
            )
            .await?;
            tracing::info!(portal = id, "portal disconnected from the board");
            let done = crate::web::shell::done_query("Disconnected.");
            return Ok(Redirect::to(&format!("/board/portals/{id}?done={done}")).into_response());
        }
        "purge" => {
            let report = crate::portal_routes::purge_portal(&state, id, "the board").await?;
            let done = format!("Deleted {} rows of CRM data.", report.total());
            let done = url::form_urlencoded::byte_serialize(done.as_bytes()).collect::<String>();
            return Ok(Redirect::to(&format!("/board/portals/{id}?done={done}")).into_response());
        }
        other => {
            return Err(BoardError::bad_request(format!(
                "unknown portal action \"{other}\""
            )));
        }
    };
    let run_id = crate::job_routes::enqueue(&state, job_type, id, Vec::new(), None).await?;
    super::job_detail::audit(
        &state,
        run_id,
        &format!("{} triggered", format::job_type(job_type)),
    )
    .await;
    Ok(Redirect::to(&format!("/board/jobs/{run_id}")).into_response())
}
