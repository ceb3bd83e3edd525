//! One job: its progress (live over Server-Sent Events while it runs), facts, error with its
//! context, payload and event timeline, and the retry and cancel actions.

use std::convert::Infallible;

use axum::Form;
use axum::extract::{Path, State};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{Html, IntoResponse, Redirect, Response};
use entity::{JobStatus, job_events, job_runs};
use futures::Stream;
use maud::{Markup, html};
use serde::Deserialize;
use uuid::Uuid;

use super::error::BoardError;
use super::format;
use super::layout::{self, Nav};
use super::session::Session;
use crate::AppState;

fn parse_id(raw: &str) -> Result<Uuid, BoardError> {
    Uuid::parse_str(raw).map_err(|_| BoardError::bad_request(format!("\"{raw}\" is not a job id")))
}

/// Records an operator's action on the run's timeline (the audit trail); a failure to record
/// it is logged, not shown: the action itself has happened.
pub async fn audit(state: &AppState, run_id: Uuid, action: &str) {
    let message = format!("{action} by an operator on the board");
    let data = serde_json::json!({ "actor": "board", "action": action });
    if let Err(error) = state
        .queue
        .ledger()
        .event(run_id, "audit", &message, Some(data))
        .await
    {
        tracing::warn!(%run_id, %error, "could not record the board action's audit event");
    }
}

/// `GET /board/jobs/{id}`.
pub async fn page(
    State(state): State<AppState>,
    session: Session,
    Path(raw): Path<String>,
) -> Result<Response, BoardError> {
    let id = parse_id(&raw)?;
    let ledger = state.queue.ledger();
    let run = ledger.get(id).await?;
    let events = ledger.timeline(id).await?;
    let now = state.config.clock.now();
    let title = format!(
        "{} {}",
        format::job_type(run.job_type),
        format::short_id(&run.id)
    );
    let body = html! {
        p.lead {
            (layout::badge(&format::job_status(run.status), format::job_tone(run.status)))
            " " (format::lane(run.lane)) " lane · portal "
            a href=(format!("/board/portals/{}", run.portal_id)) { (run.portal_id) }
            " · " code { (run.id) }
        }
        (actions(&session, &run))
        (progress(&run))
        @if run.last_error.is_some() || run.error_kind.is_some() {
            (error_panel(&run, &events))
        }
        section.panel aria-labelledby="facts-h" {
            h2 #facts-h { "Facts" }
            dl.facts {
                dt { "Attempts" } dd { (run.attempts) " of " (run.max_attempts) }
                dt { "Worker" } dd { (run.worker.as_deref().unwrap_or("–")) }
                dt { "Created" } dd { (format::timestamp(run.created_at)) " (" (format::ago(run.created_at, now)) ")" }
                dt { "Started" } dd { (run.started_at.map(format::timestamp).unwrap_or_else(|| "–".into())) }
                dt { "Finished" } dd { (run.finished_at.map(format::timestamp).unwrap_or_else(|| "–".into())) }
                dt { "Last heartbeat" } dd { (run.heartbeat_at.map(|at| format::ago(at, now)).unwrap_or_else(|| "–".into())) }
                @if let Some(parent) = run.parent_id {
                    dt { "Started by" } dd { a href=(format!("/board/jobs/{parent}")) { code { (parent) } } }
                }
                @if let Some(key) = &run.idempotency_key {
                    dt { "Coalescing key" } dd { code { (key) } }
                }
                @if let Some(task) = &run.queue_task_id {
                    dt { "Queue task" } dd { code { (task) } }
                }
            }
        }
        section.panel aria-labelledby="payload-h" {
            h2 #payload-h { "Payload" }
            (layout::json_block(&run.payload))
        }
        section.panel aria-labelledby="timeline-h" {
            h2 #timeline-h { "Timeline" }
            (timeline(&events, now))
        }
    };
    Ok(Html(layout::page(&title, Nav::Jobs, &session, body).into_string()).into_response())
}

fn actions(session: &Session, run: &job_runs::Model) -> Markup {
    let retryable = matches!(run.status, JobStatus::Failed | JobStatus::Dead);
    html! {
        div.actions {
            @if retryable {
                (layout::action_button(session, &format!("/board/jobs/{}/retry", run.id), "Retry",
                    "Run this job again from its first attempt?", "primary", &[]))
            }
            @if !run.status.is_terminal() {
                (layout::action_button(session, &format!("/board/jobs/{}/cancel", run.id), "Cancel",
                    "Cancel this job? A running job stops at its next checkpoint.", "danger", &[]))
            }
        }
    }
}

/// The progress bar; board.js keeps it moving from the stream while the run is unfinished.
fn progress(run: &job_runs::Model) -> Markup {
    let live = !run.status.is_terminal();
    let (value, max) = match run.total {
        Some(total) if total > 0 => (run.done.min(total), total),
        _ => (0, 0),
    };
    html! {
        section.panel #progress
            data-stream=[live.then(|| format!("/board/jobs/{}/stream", run.id))]
            data-status=(format::job_status(run.status))
            aria-labelledby="progress-h" {
            h2 #progress-h { "Progress" }
            @if max > 0 {
                progress #progress-bar max=(max) value=(value) aria-describedby="progress-text" { (value) " / " (max) }
            } @else {
                progress #progress-bar aria-describedby="progress-text" {}
            }
            p #progress-text aria-live="polite" {
                span data-field="status" { (format::job_status(run.status)) }
                " · " span data-field="phase" { (run.phase.as_deref().unwrap_or("–")) }
                " · " span data-field="done" { (format::progress(run.done, run.total)) }
                " · " span data-field="rate" { (run.rate.map(|r| format!("{r:.0}/s")).unwrap_or_else(|| "–".into())) }
                " · ETA " span data-field="eta" { (run.eta_seconds.map(format::duration_secs).unwrap_or_else(|| "–".into())) }
            }
        }
    }
}

fn error_panel(run: &job_runs::Model, events: &[job_events::Model]) -> Markup {
    // The context: the most recent failure event's data (HubSpot category, status, attempt…).
    let context = events
        .iter()
        .rev()
        .find(|e| matches!(e.kind.as_str(), "failed" | "retry" | "dead" | "error"))
        .and_then(|e| e.data.clone());
    html! {
        section.panel.error aria-labelledby="error-h" {
            h2 #error-h { "Error" }
            @if let Some(kind) = &run.error_kind { p { "Kind: " strong { (kind) } } }
            @if let Some(error) = &run.last_error { pre.error-text { (error) } }
            @if let Some(context) = context {
                h3 { "Context" }
                (layout::json_block(&context))
            }
        }
    }
}

fn timeline(events: &[job_events::Model], now: chrono::DateTime<chrono::Utc>) -> Markup {
    html! {
        @if events.is_empty() {
            p.muted { "No events yet." }
        } @else {
            ol.timeline {
                @for event in events {
                    li class=(format!("ev-{}", event.kind)) {
                        time datetime=(event.at.to_rfc3339()) title=(format::ago(event.at, now)) { (format::timestamp(event.at)) }
                        " " span.kind { (event.kind) }
                        " " span { (event.message) }
                        @if let Some(data) = &event.data {
                            details { summary { "data" } (layout::json_block(data)) }
                        }
                    }
                }
            }
        }
    }
}

/// `GET /board/jobs/{id}/stream`: the run's snapshots as Server-Sent Events.
pub async fn stream(
    State(state): State<AppState>,
    _session: Session,
    Path(raw): Path<String>,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, BoardError> {
    let id = parse_id(&raw)?;
    let ledger = state.queue.ledger().clone();
    let first = ledger.get(id).await?;
    Ok(Sse::new(crate::job_routes::follow(ledger, first)).keep_alive(KeepAlive::default()))
}

#[derive(Deserialize)]
pub struct ActionForm {
    csrf: String,
}

/// `POST /board/jobs/{id}/retry`.
pub async fn retry(
    State(state): State<AppState>,
    session: Session,
    Path(raw): Path<String>,
    Form(form): Form<ActionForm>,
) -> Result<Response, BoardError> {
    session.check_csrf(&form.csrf)?;
    let id = parse_id(&raw)?;
    crate::job_routes::retry_run(&state, id, "retried by an operator on the board").await?;
    audit(&state, id, "retried").await;
    Ok(Redirect::to(&format!("/board/jobs/{id}")).into_response())
}

/// `POST /board/jobs/{id}/cancel`.
pub async fn cancel(
    State(state): State<AppState>,
    session: Session,
    Path(raw): Path<String>,
    Form(form): Form<ActionForm>,
) -> Result<Response, BoardError> {
    session.check_csrf(&form.csrf)?;
    let id = parse_id(&raw)?;
    crate::job_routes::cancel_run(&state, id, "cancelled by an operator on the board").await?;
    audit(&state, id, "cancelled").await;
    Ok(Redirect::to(&format!("/board/jobs/{id}")).into_response())
}
