//! The jobs list: filter by type, status, portal and creation time, newest first, paged by
//! cursor (so page 500 costs what page 1 does); bulk retry or cancel of everything matching the
//! filter; and the "trigger a job" form's target.

use axum::Form;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use chrono::{DateTime, NaiveDateTime, Utc};
use entity::{JobStatus, JobType, job_runs};
use maud::{Markup, html};
use sea_orm::{ColumnTrait, Iterable, PaginatorTrait, QueryFilter, QuerySelect};
use serde::Deserialize;
use uuid::Uuid;

use super::error::BoardError;
use super::format;
use super::layout::{self, Nav};
use super::session::Session;
use crate::AppState;
use crate::job_filter::JobFilter;

/// Runs per page.
pub const PAGE: u64 = 50;
/// Most runs one bulk click changes (click again for more); keeps a click's work bounded.
pub const BULK_LIMIT: u64 = 10_000;
/// Runs read per round of a bulk action.
const BULK_CHUNK: u64 = 500;

/// The list's query string as typed: everything optional, checked in [`Filters::parse`].
#[derive(Debug, Default, Deserialize)]
pub struct ListQuery {
    #[serde(rename = "type")]
    job_type: Option<String>,
    status: Option<String>,
    portal: Option<String>,
    /// `YYYY-MM-DDTHH:MM` (a `datetime-local` field), UTC.
    after: Option<String>,
    before: Option<String>,
    cursor: Option<String>,
    /// The outcome of the last action, shown once.
    done: Option<String>,
}

/// A parsed filter and the form values to show again.
struct Filters {
    filter: JobFilter,
    /// Query-string pairs that reproduce the filter (for links and bulk forms).
    pairs: Vec<(&'static str, String)>,
}

fn blank(value: &Option<String>) -> Option<&str> {
    value.as_deref().map(str::trim).filter(|v| !v.is_empty())
}

fn parse_enum<T: sea_orm::ActiveEnum<Value = String> + Iterable>(
    name: &str,
    value: Option<&str>,
) -> Result<Option<T>, String> {
    let Some(value) = value else { return Ok(None) };
    T::iter()
        .find(|candidate| candidate.to_value() == value)
        .map(Some)
        .ok_or_else(|| format!("unknown {name} \"{value}\""))
}

fn parse_time(name: &str, value: Option<&str>) -> Result<Option<DateTime<Utc>>, String> {
    let Some(value) = value else { return Ok(None) };
    if let Ok(at) = DateTime::parse_from_rfc3339(value) {
        return Ok(Some(at.with_timezone(&Utc)));
    }
    ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M"]
        .iter()
        .find_map(|f| NaiveDateTime::parse_from_str(value, f).ok())
        .map(|naive| Some(naive.and_utc()))
        .ok_or_else(|| format!("{name} must be a date and time like 2026-11-27T19:30 (UTC)"))
}

impl Filters {
    fn parse(query: &ListQuery) -> Result<Self, String> {
        let job_type: Option<JobType> = parse_enum("job type", blank(&query.job_type))?;
        let status: Option<JobStatus> = parse_enum("status", blank(&query.status))?;
        let portal = blank(&query.portal)
            .map(|p| {
                p.parse::<i64>()
                    .map_err(|_| format!("portal must be a number, not \"{p}\""))
            })
            .transpose()?;
        let created_after = parse_time("after", blank(&query.after))?;
        let created_before = parse_time("before", blank(&query.before))?;
        let mut pairs = Vec::new();
        for (name, value) in [
            ("type", blank(&query.job_type)),
            ("status", blank(&query.status)),
            ("portal", blank(&query.portal)),
            ("after", blank(&query.after)),
            ("before", blank(&query.before)),
        ] {
            if let Some(value) = value {
                pairs.push((name, value.to_owned()));
            }
        }
        Ok(Self {
            filter: JobFilter {
                job_type,
                status,
                portal,
                created_after,
                created_before,
            },
            pairs,
        })
    }

    fn query_string(&self, extra: &[(&str, &str)]) -> String {
        let mut out = url::form_urlencoded::Serializer::new(String::new());
        for (name, value) in &self.pairs {
            out.append_pair(name, value);
        }
        for (name, value) in extra {
            out.append_pair(name, value);
        }
        out.finish()
    }
}

/// `GET /board/jobs`.
pub async fn page(
    State(state): State<AppState>,
    session: Session,
    Query(query): Query<ListQuery>,
) -> Result<Response, BoardError> {
    let now = state.config.clock.now();
    let filters = match Filters::parse(&query) {
        Ok(filters) => filters,
        Err(message) => {
            let body = html! {
                p.flash.bad role="alert" { (message) }
                (filter_form(&query))
            };
            let page = layout::page("Jobs", Nav::Jobs, &session, body).into_string();
            return Ok((StatusCode::BAD_REQUEST, Html(page)).into_response());
        }
    };
    let cursor = match blank(&query.cursor) {
        Some(c) => Some(
            Uuid::parse_str(c)
                .map_err(|_| BoardError::bad_request("the page cursor is not a job id"))?,
        ),
        None => None,
    };
    let (runs, next) = filters.filter.page(&state.db, cursor, PAGE).await?;
    let matching = filters.filter.select().count(&state.db).await?;
    let body = html! {
        (layout::flash(query.done.as_deref(), "good"))
        (filter_form(&query))
        p.muted {
            (format::count(i64::try_from(matching).unwrap_or(i64::MAX))) " matching, newest first."
        }
        (bulk_forms(&session, &filters, matching))
        div.scroll { (runs_table(&runs, now)) }
        (trigger_form(&session))
        nav.pager aria-label="Pages" {
            @if cursor.is_some() {
                a href=(format!("/board/jobs?{}", filters.query_string(&[]))) { "← Newest" }
            }
            @if let Some(next) = next {
                a href=(format!("/board/jobs?{}", filters.query_string(&[("cursor", &next.to_string())]))) rel="next" { "Older →" }
            }
        }
    };
    Ok(Html(layout::page("Jobs", Nav::Jobs, &session, body).into_string()).into_response())
}

fn filter_form(query: &ListQuery) -> Markup {
    let selected = |value: &Option<String>, option: &str| blank(value) == Some(option);
    html! {
        form.filters method="get" action="/board/jobs" role="search" {
            label { "Type "
                select name="type" {
                    option value="" { "any" }
                    @for t in JobType::iter() {
                        @let v = format::job_type(t);
                        option value=(v) selected[selected(&query.job_type, &v)] { (v) }
                    }
                }
            }
            label { "Status "
                select name="status" {
                    option value="" { "any" }
                    @for s in JobStatus::iter() {
                        @let v = format::job_status(s);
                        option value=(v) selected[selected(&query.status, &v)] { (v) }
                    }
                }
            }
            label { "Portal " input type="text" inputmode="numeric" name="portal" size="10" value=[blank(&query.portal)]; }
            label { "Created after (UTC) " input type="datetime-local" name="after" value=[blank(&query.after)]; }
            label { "before " input type="datetime-local" name="before" value=[blank(&query.before)]; }
            button type="submit" { "Filter" }
            a href="/board/jobs" { "Clear" }
        }
    }
}

fn trigger_form(session: &Session) -> Markup {
    html! {
        details.trigger {
            summary { "Trigger a job" }
            form.filters method="post" action="/board/jobs" data-confirm="Queue this job now?" {
                (layout::csrf_field(session))
                label { "Portal " input type="text" inputmode="numeric" name="portal_id" size="10" required; }
                label { "Job "
                    select name="type" {
                        option value="initial_sync" { "initial_sync (full re-sync)" }
                        option value="train_model" { "train_model (retrain and re-score)" }
                        option value="nightly_resync" { "nightly_resync (changes since last sync)" }
                    }
                }
                button type="submit" { "Queue" }
            }
        }
    }
}

fn bulk_forms(session: &Session, filters: &Filters, matching: u64) -> Markup {
    let hidden: Vec<(&str, &str)> = filters
        .pairs
        .iter()
        .map(|(n, v)| (*n, v.as_str()))
        .collect();
    let noun = if matching == 1 { "job" } else { "jobs" };
    html! {
        @if matching > 0 {
            div.bulk {
                (layout::action_button(session, "/board/jobs/bulk", "Retry all matching",
                    &format!("Retry every failed or dead job among the {matching} matching {noun}?"),
                    "", &[hidden.as_slice(), &[("action", "retry")]].concat()))
                (layout::action_button(session, "/board/jobs/bulk", "Cancel all matching",
                    &format!("Cancel every unfinished job among the {matching} matching {noun}?"),
                    "danger", &[hidden.as_slice(), &[("action", "cancel")]].concat()))
            }
        }
    }
}

/// The runs table the list and the portal page share.
pub fn runs_table(runs: &[job_runs::Model], now: DateTime<Utc>) -> Markup {
    html! {
        table.runs {
            thead {
                tr {
                    th scope="col" { "Job" }
                    th scope="col" { "Status" }
                    th scope="col" { "Portal" }
                    th scope="col" { "Progress" }
                    th scope="col" { "Attempts" }
                    th scope="col" { "Created" }
                    th scope="col" { "Took" }
                    th scope="col" { "Error" }
                }
            }
            tbody {
                @if runs.is_empty() {
                    tr { td colspan="8" .muted { "No jobs match." } }
                }
                @for run in runs {
                    tr {
                        td {
                            a href=(format!("/board/jobs/{}", run.id)) {
                                (format::job_type(run.job_type)) " " code { (format::short_id(&run.id)) }
                            }
                            span.muted.small { " " (format::lane(run.lane)) }
                        }
                        td { (layout::badge(&format::job_status(run.status), format::job_tone(run.status))) }
                        td { a href=(format!("/board/portals/{}", run.portal_id)) { (run.portal_id) } }
                        td {
                            @if let Some(phase) = &run.phase { (phase) ": " }
                            (format::progress(run.done, run.total))
                        }
                        td.num { (run.attempts) "/" (run.max_attempts) }
                        td { time datetime=(run.created_at.to_rfc3339()) title=(format::timestamp(run.created_at)) { (format::ago(run.created_at, now)) } }
                        td {
                            @if let (Some(start), Some(end)) = (run.started_at, run.finished_at) {
                                (format::duration_secs((end - start).num_milliseconds() as f64 / 1000.0))
                            }
                        }
                        td.error {
                            @if let Some(error) = &run.last_error {
                                span title=(error) { (truncate(error, 90)) }
                            }
                        }
                    }
                }
            }
        }
    }
}

fn truncate(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        text.to_owned()
    } else {
        let mut out: String = text.chars().take(max).collect();
        out.push('…');
        out
    }
}

/// The bulk form: the filter again, the action and the CSRF token.
#[derive(Debug, Deserialize)]
pub struct BulkForm {
    csrf: String,
    action: String,
    #[serde(rename = "type")]
    job_type: Option<String>,
    status: Option<String>,
    portal: Option<String>,
    after: Option<String>,
    before: Option<String>,
}

/// `POST /board/jobs/bulk`: retry (failed, dead) or cancel (unfinished) every run matching the
/// filter, up to [`BULK_LIMIT`] per click, each with an audit event on its timeline.
pub async fn bulk(
    State(state): State<AppState>,
    session: Session,
    Form(form): Form<BulkForm>,
) -> Result<Response, BoardError> {
    session.check_csrf(&form.csrf)?;
    let query = ListQuery {
        job_type: form.job_type,
        status: form.status,
        portal: form.portal,
        after: form.after,
        before: form.before,
        ..ListQuery::default()
    };
    let filters = Filters::parse(&query).map_err(BoardError::bad_request)?;
    let (eligible, verb): (&[JobStatus], &str) = match form.action.as_str() {
        "retry" => (&[JobStatus::Failed, JobStatus::Dead], "retried"),
        "cancel" => (
            &[
                JobStatus::Pending,
                JobStatus::Queued,
                JobStatus::Running,
                JobStatus::Retrying,
            ],
            "cancelled",
        ),
        other => {
            return Err(BoardError::bad_request(format!(
                "unknown bulk action \"{other}\""
            )));
        }
    };
    let mut changed = 0u64;
    let mut skipped = 0u64;
    let mut cursor: Option<Uuid> = None;
    let mut seen = 0u64;
    while seen < BULK_LIMIT {
        let mut select = filters
            .filter
            .select()
            .filter(job_runs::Column::Status.is_in(eligible.iter().copied()));
        if let Some(cursor) = cursor {
            select = select.filter(job_runs::Column::Id.lt(cursor));
        }
        let ids: Vec<Uuid> = select
            .select_only()
            .column(job_runs::Column::Id)
            .limit(BULK_CHUNK.min(BULK_LIMIT - seen))
            .into_tuple()
            .all(&state.db)
            .await?;
        let Some(last) = ids.last().copied() else {
            break;
        };
        cursor = Some(last);
        seen += ids.len() as u64;
        for id in ids {
            let outcome = match form.action.as_str() {
                "retry" => {
                    crate::job_routes::retry_run(
                        &state,
                        id,
                        "retried by an operator on the board (bulk)",
                    )
                    .await
                }
                _ => {
                    crate::job_routes::cancel_run(
                        &state,
                        id,
                        "cancelled by an operator on the board (bulk)",
                    )
                    .await
                }
            };
            match outcome {
                Ok(_) => {
                    super::job_detail::audit(&state, id, &format!("bulk {}", form.action)).await;
                    changed += 1;
                }
                // It moved on meanwhile (finished, or already retried): not an error.
                Err(error) if error.status == StatusCode::CONFLICT => skipped += 1,
                Err(error) => return Err(error.into()),
            }
        }
    }
    tracing::info!(action = %form.action, changed, skipped, "board bulk action");
    let mut message = format!("{} {changed} job(s)", capitalise(verb));
    if skipped > 0 {
        message.push_str(&format!("; {skipped} had moved on and were left alone"));
    }
    if seen >= BULK_LIMIT {
        message.push_str(&format!(
            "; stopped at {BULK_LIMIT}, run it again for the rest"
        ));
    }
    let back = filters.query_string(&[("done", &message)]);
    Ok(Redirect::to(&format!("/board/jobs?{back}")).into_response())
}

fn capitalise(word: &str) -> String {
    let mut chars = word.chars();
    chars
        .next()
        .map(|c| c.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

/// The trigger form: which job for which portal.
#[derive(Debug, Deserialize)]
pub struct TriggerForm {
    csrf: String,
    portal_id: String,
    #[serde(rename = "type")]
    job_type: String,
}

/// `POST /board/jobs`: enqueue a portal job (initial sync, training, nightly re-sync) through
/// the API's own checks, then show it.
pub async fn trigger(
    State(state): State<AppState>,
    session: Session,
    Form(form): Form<TriggerForm>,
) -> Result<Response, BoardError> {
    session.check_csrf(&form.csrf)?;
    let portal_id: i64 = form
        .portal_id
        .trim()
        .parse()
        .map_err(|_| BoardError::bad_request("portal must be a number"))?;
    let job_type: JobType = parse_enum("job type", Some(form.job_type.trim()))
        .map_err(BoardError::bad_request)?
        .ok_or_else(|| BoardError::bad_request("choose a job type"))?;
    if !matches!(
        job_type,
        JobType::InitialSync | JobType::TrainModel | JobType::NightlyResync
    ) {
        return Err(BoardError::bad_request(
            "the board triggers portal jobs (initial_sync, train_model, nightly_resync); contact jobs come from HubSpot's webhooks",
        ));
    }
    let run_id = crate::job_routes::enqueue(&state, job_type, portal_id, Vec::new(), None).await?;
    super::job_detail::audit(&state, run_id, "triggered").await;
    Ok(Redirect::to(&format!("/board/jobs/{run_id}")).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn query(pairs: &[(&str, &str)]) -> ListQuery {
        let encoded = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(pairs)
            .finish();
        serde_urlencoded::from_str(&encoded).unwrap()
    }

    #[test]
    fn filters_parse_and_round_trip() {
        let q = query(&[
            ("type", "initial_sync"),
            ("status", "failed"),
            ("portal", " 42 "),
            ("after", "2026-11-27T19:30"),
        ]);
        let filters = Filters::parse(&q).unwrap();
        assert_eq!(filters.filter.job_type, Some(JobType::InitialSync));
        assert_eq!(filters.filter.status, Some(JobStatus::Failed));
        assert_eq!(filters.filter.portal, Some(42));
        assert_eq!(
            filters.filter.created_after.unwrap().to_rfc3339(),
            "2026-11-27T19:30:00+00:00"
        );
        assert_eq!(
            filters.query_string(&[]),
            "type=initial_sync&status=failed&portal=42&after=2026-11-27T19%3A30"
        );
    }

    #[test]
    fn bad_filters_say_what_is_wrong() {
        let err = |pairs: &[(&str, &str)]| Filters::parse(&query(pairs)).err().unwrap();
        assert_eq!(err(&[("type", "nope")]), "unknown job type \"nope\"");
        assert_eq!(
            err(&[("portal", "x1")]),
            "portal must be a number, not \"x1\""
        );
        assert!(err(&[("before", "yesterday")]).starts_with("before must be a date"));
    }

    #[test]
    fn empty_fields_mean_any() {
        let filters = Filters::parse(&query(&[("type", ""), ("status", " ")])).unwrap();
        assert_eq!(filters.filter, JobFilter::default());
        assert!(filters.pairs.is_empty());
    }
}
