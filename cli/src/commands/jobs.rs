//! `conturs jobs`: list runs with filters (`GET /api/jobs`, following the cursor up to
//! `--limit`), show one with its timeline (`jobs show ID`), or follow one live
//! (`jobs watch ID`, the `/api/jobs/{id}/events` Server-Sent Events, drawn as a progress bar).

use std::io::IsTerminal as _;

use chrono::{DateTime, Utc};
use entity::{JobStatus, job_events, job_runs};
use indicatif::{ProgressBar, ProgressStyle};
use reqwest::Method;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::api_client::{ApiArgs, ApiClient, block_on};
use crate::error::CliError;
use crate::table::{Table, or_dash};

/// `conturs jobs`
#[derive(clap::Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct JobsArgs {
    #[command(subcommand)]
    command: Option<JobsCommand>,
    #[command(flatten)]
    list: ListArgs,
}

#[derive(clap::Subcommand)]
enum JobsCommand {
    /// Show one run and its timeline.
    Show {
        /// The run's id (a UUID).
        id: Uuid,
        #[command(flatten)]
        api: ApiArgs,
    },
    /// Follow one run live until it ends (exit 0 if it succeeded, 1 otherwise); with --json
    /// one JSON snapshot per line.
    Watch {
        /// The run's id (a UUID).
        id: Uuid,
        #[command(flatten)]
        api: ApiArgs,
    },
}

/// Filters of the list, as `GET /api/jobs` takes them.
#[derive(clap::Args)]
struct ListArgs {
    /// Only runs in this status.
    #[arg(long, value_enum)]
    status: Option<StatusFilter>,
    /// Only runs of this job type.
    #[arg(long = "type", value_enum)]
    job_type: Option<TypeFilter>,
    /// Only runs of this portal (HubSpot hub id).
    #[arg(long)]
    portal: Option<i64>,
    /// At most this many runs, newest first.
    #[arg(long, default_value_t = 20, value_parser = clap::value_parser!(u64).range(1..=10_000))]
    limit: u64,
    #[command(flatten)]
    api: ApiArgs,
}

/// Job statuses as the API spells them.
#[derive(clap::ValueEnum, Clone, Copy, Debug)]
#[value(rename_all = "snake_case")]
enum StatusFilter {
    Pending,
    Queued,
    Running,
    Retrying,
    Succeeded,
    Failed,
    Dead,
    Cancelled,
}

/// Job types (kebab-case, or the API's snake_case).
#[derive(clap::ValueEnum, Clone, Copy, Debug)]
enum TypeFilter {
    #[value(alias = "initial_sync")]
    InitialSync,
    #[value(alias = "train_model")]
    TrainModel,
    #[value(alias = "score_contact")]
    ScoreContact,
    #[value(alias = "write_back")]
    WriteBack,
    #[value(alias = "nightly_resync")]
    NightlyResync,
}

/// The API's snake_case name of a value.
fn api_name(value: impl clap::ValueEnum) -> String {
    value
        .to_possible_value()
        .map(|v| v.get_name().replace('-', "_"))
        .unwrap_or_default()
}

#[derive(Deserialize, Serialize)]
struct JobPage {
    jobs: Vec<job_runs::Model>,
    next_cursor: Option<Uuid>,
}

#[derive(Deserialize)]
struct JobDetail {
    job: job_runs::Model,
    events: Vec<job_events::Model>,
}

/// One snapshot of the event stream.
#[derive(Clone, Debug, Deserialize, Serialize)]
struct Snapshot {
    id: Uuid,
    status: JobStatus,
    phase: Option<String>,
    done: i64,
    total: Option<i64>,
    rate: Option<f64>,
    eta_seconds: Option<f64>,
    attempts: i32,
    last_error: Option<String>,
}

pub fn run(args: &JobsArgs) -> anyhow::Result<()> {
    match &args.command {
        None => {
            let client = ApiClient::new(&args.list.api)?;
            block_on(list(&client, &args.list))
        }
        Some(JobsCommand::Show { id, api }) => {
            let client = ApiClient::new(api)?;
            block_on(show(&client, *id, api.json))
        }
        Some(JobsCommand::Watch { id, api }) => {
            let client = ApiClient::new(api)?;
            block_on(watch(&client, *id, api.json))
        }
    }
}

async fn list(client: &ApiClient, args: &ListArgs) -> anyhow::Result<()> {
    let mut jobs: Vec<job_runs::Model> = Vec::new();
    let mut cursor: Option<Uuid> = None;
    loop {
        let want = (args.limit - jobs.len() as u64).min(200);
        let mut query = vec![format!("limit={want}")];
        if let Some(status) = args.status {
            query.push(format!("status={}", api_name(status)));
        }
        if let Some(job_type) = args.job_type {
            query.push(format!("type={}", api_name(job_type)));
        }
        if let Some(portal) = args.portal {
            query.push(format!("portal={portal}"));
        }
        if let Some(cursor) = cursor {
            query.push(format!("cursor={cursor}"));
        }
        let page: JobPage = client
            .get(&format!("/api/jobs?{}", query.join("&")))
            .await?;
        jobs.extend(page.jobs);
        cursor = page.next_cursor;
        if cursor.is_none() || jobs.len() as u64 >= args.limit {
            break;
        }
    }
    if args.api.json {
        println!("{}", serde_json::to_string_pretty(&jobs)?);
    } else if jobs.is_empty() {
        println!("No job runs match.");
    } else {
        print_runs(&jobs);
    }
    Ok(())
}

async fn show(client: &ApiClient, id: Uuid, json: bool) -> anyhow::Result<()> {
    let answer: serde_json::Value = client.get(&format!("/api/jobs/{id}")).await?;
    if json {
        println!("{}", serde_json::to_string_pretty(&answer)?);
        return Ok(());
    }
    let JobDetail { job, events } = serde_json::from_value(answer)?;
    print_runs(std::slice::from_ref(&job));
    if let Some(error) = &job.last_error {
        println!("\nlast error: {error}");
    }
    println!();
    let mut table = Table::new(&["AT", "EVENT", "MESSAGE"]);
    for event in &events {
        table.row(vec![
            when(&event.at),
            event.kind.clone(),
            event.message.clone(),
        ]);
    }
    println!("{}", table.render());
    Ok(())
}

/// Prints runs as a table (newest first, as given).
pub fn print_runs(runs: &[job_runs::Model]) {
    let mut table = Table::new(&[
        "ID", "TYPE", "STATUS", "PORTAL", "PHASE", "PROGRESS", "TRIES", "CREATED",
    ]);
    for run in runs {
        table.row(vec![
            run.id.to_string(),
            snake(&run.job_type),
            snake(&run.status),
            run.portal_id.to_string(),
            or_dash(run.phase.as_ref()),
            progress(run.done, run.total),
            format!("{}/{}", run.attempts, run.max_attempts),
            when(&run.created_at),
        ]);
    }
    println!("{}", table.render());
}

fn progress(done: i64, total: Option<i64>) -> String {
    match total {
        Some(total) => format!("{done}/{total}"),
        None => done.to_string(),
    }
}

/// An enum as the API spells it (its serde name).
pub fn snake<T: Serialize>(value: &T) -> String {
    serde_json::to_value(value)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

/// A timestamp to the second, UTC.
pub fn when(at: &DateTime<Utc>) -> String {
    at.format("%Y-%m-%d %H:%M:%S").to_string()
}

async fn watch(client: &ApiClient, id: Uuid, json: bool) -> anyhow::Result<()> {
    let mut response = client
        .send(Method::GET, &format!("/api/jobs/{id}/events"), None::<&()>)
        .await?;
    let mut view = WatchView::new(json);
    let mut buffer = String::new();
    let mut last: Option<Snapshot> = None;
    let mut finished = false;
    while !finished {
        let chunk = response
            .chunk()
            .await
            .map_err(|e| CliError::Unreachable(format!("the event stream broke: {e}")))?;
        let Some(chunk) = chunk else { break };
        buffer.push_str(&String::from_utf8_lossy(&chunk));
        while let Some((event, rest)) = next_event(&buffer) {
            buffer = rest;
            match event.name.as_str() {
                "progress" | "finished" => {
                    let snapshot: Snapshot = serde_json::from_str(&event.data).map_err(|e| {
                        CliError::Unreachable(format!("an event is not a job snapshot: {e}"))
                    })?;
                    view.show(&event.name, &snapshot)?;
                    finished = event.name == "finished";
                    last = Some(snapshot);
                }
                "error" => {
                    view.end();
                    return Err(CliError::Unreachable(format!(
                        "the API stopped following the job: {}",
                        event.data
                    ))
                    .into());
                }
                _ => {}
            }
            if finished {
                break;
            }
        }
    }
    view.end();
    match last {
        Some(s) if finished && s.status == JobStatus::Succeeded => Ok(()),
        Some(s) if finished => Err(CliError::JobEnded {
            id: s.id.to_string(),
            status: snake(&s.status),
            reason: s.last_error,
        }
        .into()),
        _ => Err(CliError::Unreachable("the event stream ended early".to_owned()).into()),
    }
}

/// One Server-Sent Event.
#[derive(Debug, PartialEq)]
struct SseEvent {
    name: String,
    data: String,
}

/// The first complete event in `buffer` (blank-line terminated) and what follows it; comments
/// (keep-alives) yield an event with an empty name.
fn next_event(buffer: &str) -> Option<(SseEvent, String)> {
    let normalized;
    let text = if buffer.contains('\r') {
        normalized = buffer.replace("\r\n", "\n");
        normalized.as_str()
    } else {
        buffer
    };
    let end = text.find("\n\n")?;
    let block = &text[..end];
    let rest = text[end + 2..].to_owned();
    let mut name = String::new();
    let mut data: Vec<&str> = Vec::new();
    for line in block.lines() {
        if let Some(value) = line.strip_prefix("event:") {
            name = value.trim().to_owned();
        } else if let Some(value) = line.strip_prefix("data:") {
            data.push(value.strip_prefix(' ').unwrap_or(value));
        }
    }
    if name.is_empty() && !data.is_empty() {
        name = "message".to_owned();
    }
    Some((
        SseEvent {
            name,
            data: data.join("\n"),
        },
        rest,
    ))
}

/// How a watched job is shown: a bar on a terminal, lines otherwise, JSON lines with --json.
enum WatchView {
    Json,
    Lines,
    Bar(ProgressBar, Option<String>),
}

impl WatchView {
    fn new(json: bool) -> Self {
        if json {
            Self::Json
        } else if std::io::stdout().is_terminal() {
            let bar = ProgressBar::new_spinner();
            bar.enable_steady_tick(std::time::Duration::from_millis(120));
            Self::Bar(bar, None)
        } else {
            Self::Lines
        }
    }

    fn show(&mut self, event: &str, s: &Snapshot) -> anyhow::Result<()> {
        match self {
            Self::Json => {
                let mut value = serde_json::to_value(s)?;
                value["event"] = event.into();
                println!("{value}");
            }
            Self::Lines => println!("{}", describe(s)),
            Self::Bar(bar, phase) => {
                if phase.as_deref() != s.phase.as_deref() {
                    *phase = s.phase.clone();
                    if let Some(previous) = phase.as_ref() {
                        bar.println(format!("phase {previous}"));
                    }
                    bar.reset();
                }
                match s.total {
                    Some(total) => {
                        bar.set_style(bar_style());
                        bar.set_length(total.max(0) as u64);
                    }
                    None => bar.set_style(ProgressStyle::default_spinner()),
                }
                bar.set_position(s.done.max(0) as u64);
                bar.set_prefix(format!(
                    "{} {}",
                    snake(&s.status),
                    or_dash(s.phase.as_ref())
                ));
                bar.set_message(rate_eta(s.rate, s.eta_seconds));
                if event == "finished" {
                    bar.finish_with_message(describe(s));
                }
            }
        }
        Ok(())
    }

    fn end(&self) {
        if let Self::Bar(bar, _) = self
            && !bar.is_finished()
        {
            bar.abandon();
        }
    }
}

fn bar_style() -> ProgressStyle {
    ProgressStyle::with_template("{spinner} {prefix:24} [{bar:40}] {pos}/{len} {msg}")
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> ")
}

fn rate_eta(rate: Option<f64>, eta: Option<f64>) -> String {
    let mut out = String::new();
    if let Some(rate) = rate.filter(|r| *r > 0.0) {
        out.push_str(&format!("{rate:.0}/s"));
    }
    if let Some(eta) = eta.filter(|e| *e > 0.0) {
        out.push_str(&format!(" ETA {eta:.0} s"));
    }
    out
}

/// One line for a snapshot.
fn describe(s: &Snapshot) -> String {
    let mut line = format!(
        "{} {} {}",
        snake(&s.status),
        or_dash(s.phase.as_ref()),
        progress(s.done, s.total)
    );
    let extra = rate_eta(s.rate, s.eta_seconds);
    if !extra.is_empty() {
        line.push(' ');
        line.push_str(extra.trim());
    }
    if let Some(error) = &s.last_error {
        line.push_str(&format!(" (last error: {error})"));
    }
    line
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_split_on_blank_lines_and_keep_alives_have_no_name() {
        let buffer = "event: progress\ndata: {\"a\":1}\n\n:keep-alive\n\nevent: fini";
        let (first, rest) = next_event(buffer).expect("one event");
        assert_eq!(
            first,
            SseEvent {
                name: "progress".into(),
                data: "{\"a\":1}".into()
            }
        );
        let (second, rest) = next_event(&rest).expect("the comment");
        assert_eq!(second.name, "");
        assert!(next_event(&rest).is_none(), "an incomplete event waits");
    }

    #[test]
    fn filters_use_the_api_spelling() {
        assert_eq!(api_name(TypeFilter::InitialSync), "initial_sync");
        assert_eq!(api_name(StatusFilter::Succeeded), "succeeded");
    }
}
