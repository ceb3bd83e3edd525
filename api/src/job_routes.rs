//! `/api/jobs`: enqueue any of the five jobs for a portal, list runs with filters and cursor
//! paging, read one with its timeline, follow it live (Server-Sent Events), retry a failed or
//! dead run and cancel an unfinished one. Everything reads and writes the ledger (the outbox),
//! so what the API shows is what the workers record.

use std::convert::Infallible;
use std::time::Duration;

use axum::Json;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use entity::{JobStatus, JobType, Lane, PortalStatus, job_events, job_runs, portals};
use futures::Stream;
use jobs::payload::JobPayload;
use jobs::payload::{InitialSync, NightlyResync, ScoreContact, TrainModel, WriteBack};
use jobs::{EnqueueOptions, Ledger};
use sea_orm::EntityTrait;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::AppState;
use crate::error::{ApiError, ApiJson, ApiPath, ApiQuery, ErrorBody, Unavailable};
use crate::job_filter::JobFilter;

/// Most contacts one API-made ScoreContact or WriteBack run may name.
pub const MAX_CONTACTS_PER_JOB: usize = 10_000;
/// Page size when none is asked for, and the largest allowed.
pub const DEFAULT_PAGE: u64 = 50;
pub const MAX_PAGE: u64 = 200;
/// How often a job's event stream looks at the ledger.
pub const STREAM_POLL: Duration = Duration::from_millis(250);

/// Everything under `/api/jobs` except the event stream (which must not time out).
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create, list))
        .routes(routes!(show))
        .routes(routes!(retry))
        .routes(routes!(cancel))
}

/// `GET /api/jobs/{id}/events`.
pub fn stream_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(events))
}

/// `POST /api/jobs` body.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CreateJob {
    #[serde(rename = "type")]
    job_type: JobType,
    portal_id: i64,
    /// ScoreContact and WriteBack only.
    #[serde(default)]
    contact_ids: Vec<i64>,
    /// ScoreContact and WriteBack only; bulk unless asked.
    #[serde(default)]
    lane: Option<Lane>,
}

/// The `POST /api/jobs` body as the OpenAPI document states it: which fields each job type
/// takes. The handler reads [`CreateJob`] and enforces the same rules (422 `invalid_job`); the
/// OpenAPI tests post bodies on both sides of each rule, so the two cannot drift apart.
#[derive(ToSchema)]
#[serde(tag = "type", rename_all = "snake_case")]
#[schema(as = CreateJob)]
#[allow(dead_code, reason = "describes the body for the document; never built")]
// `deny_unknown_fields` on each variant (read by `ToSchema` only; no serde derive here) makes
// every variant `additionalProperties: false`, as the handler's `CreateJob` is.
enum CreateJobBody {
    #[serde(deny_unknown_fields)]
    InitialSync { portal_id: i64 },
    #[serde(deny_unknown_fields)]
    TrainModel { portal_id: i64 },
    #[serde(deny_unknown_fields)]
    NightlyResync { portal_id: i64 },
    #[serde(deny_unknown_fields)]
    ScoreContact {
        portal_id: i64,
        /// Duplicates are ignored.
        #[schema(min_items = 1, max_items = 10000)]
        contact_ids: Vec<i64>,
        /// `bulk` unless asked.
        lane: Option<Lane>,
    },
    #[serde(deny_unknown_fields)]
    WriteBack {
        portal_id: i64,
        /// Duplicates are ignored.
        #[schema(min_items = 1, max_items = 10000)]
        contact_ids: Vec<i64>,
        /// `bulk` unless asked.
        lane: Option<Lane>,
    },
}

fn unprocessable(message: impl Into<String>) -> ApiError {
    ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_job", message)
}

/// Queues a job for a connected portal; answers with its ledger row.
#[utoipa::path(
    post,
    path = "/jobs",
    operation_id = "create_job",
    tag = "jobs",
    request_body = CreateJobBody,
    responses(
        (status = 202, description = "Queued (or recorded for the reconciler to queue).",
            body = job_runs::Model,
            headers(("Location" = String, description = "`/api/jobs/{id}` of the new run."))),
        (status = 400, description = "The body is not JSON.", body = ErrorBody),
        (status = 404, description = "No such portal.", body = ErrorBody),
        (status = 409, description = "The portal is disconnected (`portal_disconnected`).",
            body = ErrorBody),
        (status = 413, description = "The body is larger than 1 MiB.", body = ErrorBody),
        (status = 415, description = "The body is not `application/json`.", body = ErrorBody),
        (status = 422, description = "The body is JSON but not a job request \
            (`invalid_body`), or not one this API makes: `noop`, no `contact_ids` for a contact \
            job, `contact_ids` or `lane` for a portal job (`invalid_job`).", body = ErrorBody),
        (status = 503, response = Unavailable),
    )
)]
async fn create(
    State(state): State<AppState>,
    ApiJson(request): ApiJson<CreateJob>,
) -> Result<Response, ApiError> {
    let run_id = enqueue(
        &state,
        request.job_type,
        request.portal_id,
        request.contact_ids,
        request.lane,
    )
    .await?;
    let run = state.queue.ledger().get(run_id).await?;
    Ok((
        StatusCode::ACCEPTED,
        [(header::LOCATION, format!("/api/jobs/{run_id}"))],
        Json(run),
    )
        .into_response())
}

/// Queues a job for a connected portal after the checks `POST /api/jobs` states (the board's
/// "trigger a job" goes through the same door); returns the new run's id.
pub(crate) async fn enqueue(
    state: &AppState,
    job_type: JobType,
    portal_id: i64,
    contact_ids: Vec<i64>,
    lane: Option<Lane>,
) -> Result<Uuid, ApiError> {
    let contact_job = matches!(job_type, JobType::ScoreContact | JobType::WriteBack);
    if job_type == JobType::Noop {
        return Err(unprocessable("noop is a benchmark job, not available here"));
    }
    if contact_job && contact_ids.is_empty() {
        return Err(unprocessable("contact_ids must name at least one contact"));
    }
    if contact_ids.len() > MAX_CONTACTS_PER_JOB {
        return Err(unprocessable(format!(
            "at most {MAX_CONTACTS_PER_JOB} contacts per job"
        )));
    }
    if !contact_job && (!contact_ids.is_empty() || lane.is_some()) {
        return Err(unprocessable(
            "contact_ids and lane apply to score_contact and write_back only",
        ));
    }
    let portal = portals::Entity::find_by_id(portal_id)
        .one(&state.db)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("no portal {}", portal_id)))?;
    if portal.status == PortalStatus::Disconnected {
        return Err(ApiError::conflict(
            "portal_disconnected",
            format!("portal {} is disconnected; reconnect it first", portal.id),
        ));
    }
    let portal_id = portal.id;
    let mut contacts = contact_ids;
    contacts.sort_unstable();
    contacts.dedup();
    let lane = lane.unwrap_or(Lane::Bulk);
    let queue = &state.queue;
    let options = EnqueueOptions::default;
    let run_id = match job_type {
        JobType::InitialSync => queue
            .enqueue(|run_id| InitialSync { run_id, portal_id }, options())
            .await?
            .run_id(),
        JobType::TrainModel => queue
            .enqueue(|run_id| TrainModel { run_id, portal_id }, options())
            .await?
            .run_id(),
        JobType::NightlyResync => queue
            .enqueue(|run_id| NightlyResync { run_id, portal_id }, options())
            .await?
            .run_id(),
        JobType::ScoreContact => queue
            .enqueue(
                |run_id| ScoreContact {
                    run_id,
                    portal_id,
                    contact_ids: contacts,
                    lane,
                },
                options(),
            )
            .await?
            .run_id(),
        JobType::WriteBack => queue
            .enqueue(
                |run_id| WriteBack {
                    run_id,
                    portal_id,
                    contact_ids: contacts,
                    lane,
                },
                options(),
            )
            .await?
            .run_id(),
        JobType::Noop => return Err(unprocessable("noop is not available here")),
    };
    Ok(run_id)
}

/// `GET /api/jobs` filters.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
struct ListQuery {
    #[serde(rename = "type")]
    job_type: Option<JobType>,
    status: Option<JobStatus>,
    /// Portal (HubSpot hub) id.
    portal: Option<i64>,
    /// Only runs created strictly after this instant (RFC 3339).
    created_after: Option<DateTime<Utc>>,
    /// Only runs created strictly before this instant (RFC 3339).
    created_before: Option<DateTime<Utc>>,
    /// The last id of the previous page: this page holds older runs.
    cursor: Option<Uuid>,
    /// Page size (default 50).
    #[param(minimum = 1, maximum = 200)]
    limit: Option<u64>,
}

/// One page of runs, newest first.
#[derive(Debug, Serialize, ToSchema)]
struct JobPage {
    jobs: Vec<job_runs::Model>,
    /// Pass as `cursor` for the next (older) page; null on the last page.
    next_cursor: Option<Uuid>,
}

/// Lists runs, newest first, with filters and cursor paging.
#[utoipa::path(
    get,
    path = "/jobs",
    operation_id = "list_jobs",
    tag = "jobs",
    params(ListQuery),
    responses(
        (status = 200, description = "One page of runs.", body = JobPage),
        (status = 400, description = "A filter does not parse, is unknown, or `limit` is out \
            of range (`invalid_query`).", body = ErrorBody),
        (status = 503, response = Unavailable),
    )
)]
async fn list(
    State(state): State<AppState>,
    ApiQuery(query): ApiQuery<ListQuery>,
) -> Result<Json<JobPage>, ApiError> {
    let limit = query.limit.unwrap_or(DEFAULT_PAGE);
    if !(1..=MAX_PAGE).contains(&limit) {
        return Err(ApiError::bad_request(
            "invalid_query",
            format!("limit must be from 1 to {MAX_PAGE}"),
        ));
    }
    let filter = JobFilter {
        job_type: query.job_type,
        status: query.status,
        portal: query.portal,
        created_after: query.created_after,
        created_before: query.created_before,
    };
    let (jobs, next_cursor) = filter.page(&state.db, query.cursor, limit).await?;
    Ok(Json(JobPage { jobs, next_cursor }))
}

/// A run and its timeline.
#[derive(Debug, Serialize, ToSchema)]
struct JobDetail {
    job: job_runs::Model,
    /// Oldest first.
    events: Vec<job_events::Model>,
}

/// One run with its timeline.
#[utoipa::path(
    get,
    path = "/jobs/{id}",
    operation_id = "get_job",
    tag = "jobs",
    params(("id" = Uuid, Path, description = "The run's id.")),
    responses(
        (status = 200, description = "The run and its events.", body = JobDetail),
        (status = 400, description = "`id` is not a UUID (`invalid_path`).", body = ErrorBody),
        (status = 404, description = "No such run.", body = ErrorBody),
        (status = 503, response = Unavailable),
    )
)]
async fn show(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Json<JobDetail>, ApiError> {
    let ledger = state.queue.ledger();
    let job = ledger.get(id).await?;
    let events = ledger.timeline(id).await?;
    Ok(Json(JobDetail { job, events }))
}

/// Retries a failed or dead run (same id, attempts start again).
#[utoipa::path(
    post,
    path = "/jobs/{id}/retry",
    operation_id = "retry_job",
    tag = "jobs",
    params(("id" = Uuid, Path, description = "The run's id.")),
    responses(
        (status = 202, description = "Queued again.", body = job_runs::Model),
        (status = 400, description = "`id` is not a UUID (`invalid_path`).", body = ErrorBody),
        (status = 404, description = "No such run.", body = ErrorBody),
        (status = 409, description = "The run is neither failed nor dead (`not_retryable`).",
            body = ErrorBody),
        (status = 503, response = Unavailable),
    )
)]
async fn retry(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Response, ApiError> {
    let run = retry_run(&state, id, "retried by an operator through the API").await?;
    Ok((StatusCode::ACCEPTED, Json(run)).into_response())
}

/// Puts a failed or dead run back on the queue (409 `not_retryable` otherwise), recording
/// `reason` on its timeline; the API and the board retry through here.
pub(crate) async fn retry_run(
    state: &AppState,
    id: Uuid,
    reason: &str,
) -> Result<job_runs::Model, ApiError> {
    let ledger = state.queue.ledger();
    let Some(run) = ledger.retry(id, reason).await? else {
        let run = ledger.get(id).await?;
        return Err(ApiError::conflict(
            "not_retryable",
            format!(
                "only failed or dead jobs can be retried; this one is {}",
                status_name(run.status)
            ),
        ));
    };
    // The run is `pending` (the outbox state): if the push fails now, the reconciler pushes it.
    match jobs::reconciler::push_recorded(&state.queue, &run).await {
        Ok(()) => ledger.mark_queued(id).await?,
        Err(error) => tracing::warn!(%id, %error, "retried job left for the reconciler to queue"),
    }
    Ok(ledger.get(id).await?)
}

/// Cancels a run that has not finished.
#[utoipa::path(
    post,
    path = "/jobs/{id}/cancel",
    operation_id = "cancel_job",
    tag = "jobs",
    params(("id" = Uuid, Path, description = "The run's id.")),
    responses(
        (status = 200, description = "Cancelled.", body = job_runs::Model),
        (status = 400, description = "`id` is not a UUID (`invalid_path`).", body = ErrorBody),
        (status = 404, description = "No such run.", body = ErrorBody),
        (status = 409, description = "The run has already finished (`already_finished`).",
            body = ErrorBody),
        (status = 503, response = Unavailable),
    )
)]
async fn cancel(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Json<job_runs::Model>, ApiError> {
    Ok(Json(
        cancel_run(&state, id, "cancelled by an operator through the API").await?,
    ))
}

/// Cancels a run that has not finished (409 `already_finished` otherwise), recording `reason`.
pub(crate) async fn cancel_run(
    state: &AppState,
    id: Uuid,
    reason: &str,
) -> Result<job_runs::Model, ApiError> {
    let ledger = state.queue.ledger();
    if !ledger.cancel(id, reason).await? {
        let run = ledger.get(id).await?;
        return Err(ApiError::conflict(
            "already_finished",
            format!(
                "the job has already finished ({}); nothing to cancel",
                status_name(run.status)
            ),
        ));
    }
    Ok(ledger.get(id).await?)
}

pub(crate) fn status_name(status: JobStatus) -> String {
    serde_json::to_value(status)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

/// One progress snapshot on the event stream (the `data` of each event).
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
#[schema(as = JobSnapshot)]
pub(crate) struct Snapshot {
    id: Uuid,
    status: JobStatus,
    phase: Option<String>,
    done: i64,
    total: Option<i64>,
    rate: Option<f64>,
    eta_seconds: Option<f64>,
    attempts: i32,
    last_error: Option<String>,
    updated_at: DateTime<Utc>,
}

impl From<&job_runs::Model> for Snapshot {
    fn from(run: &job_runs::Model) -> Self {
        Self {
            id: run.id,
            status: run.status,
            phase: run.phase.clone(),
            done: run.done,
            total: run.total,
            rate: run.rate,
            eta_seconds: run.eta_seconds,
            attempts: run.attempts,
            last_error: run.last_error.clone(),
            updated_at: run.updated_at,
        }
    }
}

/// Follows a run live (Server-Sent Events).
///
/// Streams `progress` events (a snapshot whenever the run changes) and ends with the terminal
/// snapshot as a `finished` event.
#[utoipa::path(
    get,
    path = "/jobs/{id}/events",
    operation_id = "job_events",
    tag = "jobs",
    params(("id" = Uuid, Path, description = "The run's id.")),
    responses(
        (status = 200, description = "Server-Sent Events: `progress` events while the run \
            changes, then one `finished` event, after which the stream ends; an `error` event \
            (plain text) if the ledger stops answering. Each `progress` and `finished` event's \
            `data` is a `JobSnapshot` (see components) as JSON.",
            content_type = "text/event-stream", body = String),
        (status = 400, description = "`id` is not a UUID (`invalid_path`).", body = ErrorBody),
        (status = 404, description = "No such run.", body = ErrorBody),
        (status = 503, response = Unavailable),
    )
)]
async fn events(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, ApiError> {
    let ledger = state.queue.ledger().clone();
    let first = ledger.get(id).await?;
    Ok(Sse::new(follow(ledger, first)).keep_alive(KeepAlive::default()))
}

/// A run's snapshots as SSE events: `progress` whenever it changes (the first at once), then
/// `finished`, then the end; the API's and the board's live views both read this.
pub(crate) fn follow(
    ledger: Ledger,
    first: job_runs::Model,
) -> impl Stream<Item = Result<Event, Infallible>> {
    let id = first.id;
    futures::stream::unfold(
        StreamState {
            ledger,
            id,
            first: Some(Box::new(first)),
            last: None,
            done: false,
        },
        next_event,
    )
}

struct StreamState {
    ledger: Ledger,
    id: Uuid,
    /// Read before the stream started; sent without waiting.
    first: Option<Box<job_runs::Model>>,
    last: Option<Snapshot>,
    done: bool,
}

async fn next_event(mut state: StreamState) -> Option<(Result<Event, Infallible>, StreamState)> {
    if state.done {
        return None;
    }
    loop {
        let current = match state.first.take() {
            Some(run) => *run,
            None => {
                tokio::time::sleep(STREAM_POLL).await;
                match state.ledger.get(state.id).await {
                    Ok(run) => run,
                    Err(error) => {
                        state.done = true;
                        let event = Event::default().event("error").data(error.to_string());
                        return Some((Ok(event), state));
                    }
                }
            }
        };
        let snapshot = Snapshot::from(&current);
        if state.last.as_ref() == Some(&snapshot) {
            continue;
        }
        let terminal = current.status.is_terminal();
        let event = Event::default()
            .event(if terminal { "finished" } else { "progress" })
            .json_data(&snapshot)
            .unwrap_or_else(|_| Event::default().event("error").data("snapshot encoding"));
        state.done = terminal;
        state.last = Some(snapshot);
        return Some((Ok(event), state));
    }
}
