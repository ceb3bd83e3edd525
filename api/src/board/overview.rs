//! The overview: jobs per lane and type by status, throughput and failures over the last hour
//! and day, the oldest waiting job per lane, workers alive with what each runs, and each
//! portal's HubSpot budget. `/board/live` renders the live part alone for the refresh.

use axum::extract::State;
use axum::response::Html;
use chrono::{Duration, Utc};
use entity::{JobStatus, JobType, Lane, PortalStatus, portals};
use maud::{Markup, html};
use sea_orm::{ColumnTrait, EntityTrait, Iterable, QueryFilter, QueryOrder};

use super::charts;
use super::error::BoardError;
use super::format;
use super::layout::{self, Nav};
use super::session::Session;
use super::stats;
use crate::AppState;
use crate::portal_routes::BudgetUse;

/// Statuses as the overview's columns, in the order work moves through them.
const COLUMNS: [JobStatus; 8] = [
    JobStatus::Pending,
    JobStatus::Queued,
    JobStatus::Running,
    JobStatus::Retrying,
    JobStatus::Succeeded,
    JobStatus::Failed,
    JobStatus::Dead,
    JobStatus::Cancelled,
];

/// `GET /board`.
pub async fn page(
    State(state): State<AppState>,
    session: Session,
) -> Result<Html<String>, BoardError> {
    let live = live_section(&state).await?;
    let body = html! {
        div #live data-refresh="/board/live" data-every="5" aria-live="polite" { (live) }
    };
    Ok(Html(
        layout::page("Overview", Nav::Overview, &session, body).into_string(),
    ))
}

/// `GET /board/live`: the overview's live part, refreshed by board.js every few seconds.
pub async fn live(
    State(state): State<AppState>,
    _session: Session,
) -> Result<Html<String>, BoardError> {
    Ok(Html(live_section(&state).await?.into_string()))
}

async fn live_section(state: &AppState) -> Result<Markup, BoardError> {
    let now = state.config.clock.now();
    let counts = stats::run_counts(&state.db).await?;
    let oldest = stats::oldest_waiting(&state.db).await?;
    let hour = stats::throughput(&state.db, now, Duration::minutes(1), 60, |at| {
        at.format("%H:%M").to_string()
    })
    .await?;
    let day = stats::throughput(&state.db, now, Duration::hours(1), 24, |at| {
        at.format("%Hh").to_string()
    })
    .await?;
    let workers = stats::workers(&state.db, now).await?;
    let portals = portals::Entity::find()
        .filter(portals::Column::Status.ne(PortalStatus::Disconnected))
        .order_by_asc(portals::Column::Id)
        .all(&state.db)
        .await?;
    let mut budgets = Vec::with_capacity(portals.len());
    let policy = state.hubspot.budget().policy();
    for portal in &portals {
        let usage = jobs::usage::portal_usage(&state.db, portal.id, now).await?;
        budgets.push((portal, BudgetUse::new(policy, usage)));
    }

    let count = |job_type: JobType, lane: Lane, status: JobStatus| {
        counts
            .iter()
            .find(|(t, l, s, _)| (*t, *l, *s) == (job_type, lane, status))
            .map_or(0, |(_, _, _, n)| *n)
    };
    Ok(html! {
        section.panel aria-labelledby="queues-h" {
            h2 #queues-h { "Queues" }
            div.lanes {
                @for lane in Lane::iter() {
                    @let waiting = oldest.iter().find(|(l, _)| *l == lane).and_then(|(_, at)| *at);
                    div.lane {
                        h3 { (format::lane(lane)) " lane" }
                        p.muted {
                            "Oldest waiting: "
                            @match waiting {
                                Some(at) => strong { (format::duration_secs((now - at).num_milliseconds() as f64 / 1000.0)) },
                                None => "nothing waiting",
                            }
                        }
                    }
                }
            }
            div.scroll {
                table.counts {
                    caption.sr-only { "Job runs by lane, type and status" }
                    thead {
                        tr {
                            th scope="col" { "Lane" }
                            th scope="col" { "Job type" }
                            @for status in COLUMNS { th scope="col" class="num" { (format::job_status(status)) } }
                        }
                    }
                    tbody {
                        @for lane in Lane::iter() {
                            @for job_type in JobType::iter() {
                                @let row: Vec<i64> = COLUMNS.iter().map(|s| count(job_type, lane, *s)).collect();
                                @if row.iter().any(|n| *n > 0) {
                                    tr {
                                        td { (format::lane(lane)) }
                                        th scope="row" { (format::job_type(job_type)) }
                                        @for (status, n) in COLUMNS.iter().zip(&row) {
                                            td.num {
                                                @if *n > 0 {
                                                    a class=(format!("count {}", format::job_tone(*status)))
                                                      href=(format!("/board/jobs?type={}&status={}", format::job_type(job_type), format::job_status(*status))) {
                                                        (format::count(*n))
                                                    }
                                                } @else { span.muted { "0" } }
                                            }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        section.panel aria-labelledby="tp-h" {
            h2 #tp-h { "Throughput" }
            div.charts {
                (charts::throughput("Last hour, per minute", &hour, 10))
                (charts::throughput("Last day, per hour", &day, 4))
            }
        }
        section.panel aria-labelledby="workers-h" {
            h2 #workers-h { "Workers" }
            @if workers.is_empty() {
                p.muted { "No worker has checked in within the last 20 seconds and nothing is running." }
            } @else {
                ul.workers {
                    @for worker in &workers {
                        li {
                            strong { (worker.name) }
                            @if let Some(p) = &worker.presence {
                                span.muted { " on " (p.host) ", pid " (p.pid) ", " (p.concurrency) " per lane, up "
                                    (format::duration_secs((now - p.started_at).num_seconds() as f64)) }
                            }
                            @if worker.running.is_empty() {
                                span.muted { " — idle" }
                            } @else {
                                ul {
                                    @for run in &worker.running {
                                        li {
                                            a href=(format!("/board/jobs/{}", run.id)) { (format::job_type(run.job_type)) " " (format::short_id(&run.id)) }
                                            " portal " (run.portal_id)
                                            @if let Some(phase) = &run.phase { " · " (phase) }
                                            " · " (format::progress(run.done, run.total))
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        section.panel aria-labelledby="budget-h" {
            h2 #budget-h { "HubSpot budgets" }
            @if budgets.is_empty() {
                p.muted { "No connected portal." }
            } @else {
                div.gauges {
                    @for (portal, usage) in &budgets {
                        div {
                            (charts::budget_gauge(&format!("Portal {}", portal.id), usage.last_window_requests, usage.limit_per_window, usage.burst_ceiling_per_window))
                            p.muted.small {
                                "Peak this hour " (usage.peak_window_requests_last_hour) " · 429s: hour "
                                (usage.last_hour.responses_429) ", day " (usage.last_day.responses_429)
                            }
                        }
                    }
                }
            }
        }
        p.muted.small { "Updated " (format::timestamp(Utc::now())) }
    })
}
