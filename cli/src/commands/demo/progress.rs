//! The demo's progress: the pipeline's phases read from the ledger (`job_runs` and their
//! `phase` events), one entry per phase — InitialSync properties/companies/contacts/deals,
//! TrainModel loading/training/scoring/queueing write-back, and all WriteBack runs as one — then
//! drawn as indicatif bars on a terminal, or as plain lines (to stderr with `--json`).

use std::collections::HashMap;
use std::io::IsTerminal as _;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use entity::{JobStatus, JobType, Lane, job_events, job_runs};
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

/// One phase as the demo shows it.
#[derive(Clone, Debug, PartialEq)]
pub struct PhaseView {
    /// e.g. `InitialSync · contacts`.
    pub key: String,
    pub done: u64,
    pub total: Option<u64>,
    pub finished: bool,
    /// Items per second and seconds left, as the ledger (or, for WriteBack, the sum) says.
    pub rate: Option<f64>,
    pub eta_seconds: Option<f64>,
    /// How long a finished phase took, by the ledger's timestamps.
    pub seconds: Option<f64>,
}

/// Job types shown as one entry over all their runs (there is one per 1,000 contacts).
fn aggregated(job_type: JobType) -> bool {
    matches!(job_type, JobType::WriteBack | JobType::ScoreContact)
}

/// `phase NAME: N to do` or `phase NAME` (the ledger's phase events) → name and total.
fn parse_phase(message: &str) -> Option<(String, Option<u64>)> {
    let rest = message.strip_prefix("phase ")?;
    match rest.rsplit_once(": ") {
        Some((name, count)) => match count.strip_suffix(" to do").map(str::parse::<u64>) {
            Some(Ok(total)) => Some((name.to_owned(), Some(total))),
            _ => Some((rest.to_owned(), None)),
        },
        None => Some((rest.to_owned(), None)),
    }
}

/// The phases of the bulk pipeline's runs (ordered by id, i.e. creation), in order.
pub fn phases(runs: &[job_runs::Model], events: &[job_events::Model]) -> Vec<PhaseView> {
    let mut views = Vec::new();
    let mut seen_aggregate: Vec<JobType> = Vec::new();
    let pipeline_over = |job_type: JobType| {
        // An aggregate is over once its runs are, and no parent can queue more.
        runs.iter()
            .filter(|r| r.job_type == job_type || r.job_type == JobType::TrainModel)
            .all(|r| r.status.is_terminal())
    };
    for run in runs.iter().filter(|r| r.lane == Lane::Bulk) {
        if aggregated(run.job_type) {
            if seen_aggregate.contains(&run.job_type) {
                continue;
            }
            seen_aggregate.push(run.job_type);
            views.push(aggregate(run.job_type, runs, pipeline_over(run.job_type)));
            continue;
        }
        let mut phases: Vec<(String, Option<u64>, DateTime<Utc>)> = events
            .iter()
            .filter(|e| e.job_run_id == run.id && e.kind == "phase")
            .filter_map(|e| parse_phase(&e.message).map(|(name, total)| (name, total, e.at)))
            .collect();
        if let Some(current) = &run.phase
            && phases.last().map(|(name, _, _)| name) != Some(current)
        {
            phases.push((
                current.clone(),
                run.total.map(|t| t.max(0) as u64),
                run.updated_at,
            ));
        }
        let last = phases.len().saturating_sub(1);
        let ends: Vec<Option<DateTime<Utc>>> = (0..phases.len())
            .map(|i| match phases.get(i + 1) {
                Some(next) => Some(next.2),
                None => run.finished_at,
            })
            .collect();
        for (i, (name, total, began)) in phases.into_iter().enumerate() {
            let seconds = ends[i].map(|end| seconds_between(began, end));
            let key = format!("{} · {name}", type_name(run.job_type));
            let current = i == last && run.phase.as_deref() == Some(name.as_str());
            let view = if current && !run.status.is_terminal() {
                PhaseView {
                    key,
                    done: run.done.max(0) as u64,
                    total: run.total.map(|t| t.max(0) as u64).or(total),
                    finished: false,
                    rate: run.rate,
                    eta_seconds: run.eta_seconds,
                    seconds: None,
                }
            } else {
                let total = if current {
                    run.total.map(|t| t.max(0) as u64).or(total)
                } else {
                    total
                };
                // A phase that is over did all it had (the ledger may reset `done` at the end).
                let done = match total {
                    Some(total) if !current || run.status == JobStatus::Succeeded => total,
                    _ if current => run.done.max(0) as u64,
                    _ => 0,
                };
                PhaseView {
                    key,
                    done,
                    total,
                    finished: true,
                    rate: None,
                    eta_seconds: None,
                    seconds,
                }
            };
            views.push(view);
        }
    }
    views
}

/// All runs of `job_type` as one entry: contacts done of contacts queued.
fn aggregate(job_type: JobType, runs: &[job_runs::Model], over: bool) -> PhaseView {
    let mut done = 0u64;
    let mut total = 0u64;
    let mut first_start = None;
    let mut last_end: Option<DateTime<Utc>> = None;
    for run in runs
        .iter()
        .filter(|r| r.job_type == job_type && r.lane == Lane::Bulk)
    {
        let size = run
            .payload
            .get("contact_ids")
            .and_then(|ids| ids.as_array())
            .map(|ids| ids.len() as u64)
            .or(run.total.map(|t| t.max(0) as u64))
            .unwrap_or(0);
        total += size;
        done += if run.status == JobStatus::Succeeded {
            size
        } else {
            (run.done.max(0) as u64).min(size)
        };
        if let Some(started) = run.started_at {
            first_start = Some(first_start.map_or(started, |s: DateTime<Utc>| s.min(started)));
        }
        if let Some(ended) = run.finished_at {
            last_end = Some(last_end.map_or(ended, |e: DateTime<Utc>| e.max(ended)));
        }
    }
    let rate = first_start.and_then(|start| {
        let secs = seconds_between(start, Utc::now());
        (secs > 0.5 && done > 0).then(|| done as f64 / secs)
    });
    let eta_seconds = rate.map(|r| total.saturating_sub(done) as f64 / r);
    PhaseView {
        key: format!("{} · contacts", type_name(job_type)),
        done,
        total: Some(total),
        finished: over,
        rate: if over { None } else { rate },
        eta_seconds: if over { None } else { eta_seconds },
        seconds: match (over, first_start, last_end) {
            (true, Some(start), Some(end)) => Some(seconds_between(start, end)),
            _ => None,
        },
    }
}

fn seconds_between(start: DateTime<Utc>, end: DateTime<Utc>) -> f64 {
    (end - start).num_milliseconds().max(0) as f64 / 1000.0
}

/// `InitialSync`, `TrainModel`, … as the issue and the board name them.
pub fn type_name(job_type: JobType) -> &'static str {
    match job_type {
        JobType::InitialSync => "InitialSync",
        JobType::TrainModel => "TrainModel",
        JobType::ScoreContact => "ScoreContact",
        JobType::WriteBack => "WriteBack",
        JobType::NightlyResync => "NightlyResync",
        JobType::Noop => "Noop",
    }
}

/// Draws the phases: bars on a terminal, lines otherwise.
pub struct Display {
    mode: Mode,
    /// When each phase last printed a line (plain mode), and the phases shown as finished.
    printed: HashMap<String, Instant>,
    finished: std::collections::HashSet<String>,
}

enum Mode {
    Bars {
        multi: MultiProgress,
        bars: HashMap<String, ProgressBar>,
    },
    /// Plain lines, on stderr when stdout carries JSON.
    Lines { stderr: bool },
}

/// How often a running phase prints a line in plain mode.
const LINE_EVERY: Duration = Duration::from_secs(2);

impl Display {
    /// Bars when stdout is a terminal and carries no JSON.
    pub fn new(json: bool) -> Self {
        let mode = if !json && std::io::stdout().is_terminal() {
            Mode::Bars {
                multi: MultiProgress::with_draw_target(ProgressDrawTarget::stdout()),
                bars: HashMap::new(),
            }
        } else {
            Mode::Lines { stderr: json }
        };
        Self {
            mode,
            printed: HashMap::new(),
            finished: Default::default(),
        }
    }

    /// Brings the display up to date with `views`.
    pub fn update(&mut self, views: &[PhaseView]) {
        for view in views {
            if self.finished.contains(&view.key) {
                continue;
            }
            if view.finished {
                self.finished.insert(view.key.clone());
            }
            match &mut self.mode {
                Mode::Bars { multi, bars } => {
                    let bar = bars.entry(view.key.clone()).or_insert_with(|| {
                        let bar = multi.add(ProgressBar::new(view.total.unwrap_or(0)));
                        bar.set_style(style(view.total.is_some()));
                        bar.set_prefix(view.key.clone());
                        bar
                    });
                    if let Some(total) = view.total
                        && bar.length() != Some(total)
                    {
                        bar.set_style(style(true));
                        bar.set_length(total);
                    }
                    bar.set_position(view.done);
                    if view.finished {
                        if view.total.is_none() {
                            bar.set_style(finished_unsized());
                        }
                        bar.finish_with_message(finished_note(view));
                    } else {
                        bar.set_message(rate_eta(view));
                        bar.tick();
                    }
                }
                Mode::Lines { stderr } => {
                    let due = view.finished
                        || self
                            .printed
                            .get(&view.key)
                            .is_none_or(|at| at.elapsed() >= LINE_EVERY);
                    if !due {
                        continue;
                    }
                    let line = if view.finished {
                        format!(
                            "  ✓ {}: {}",
                            view.key,
                            join(counts(view), finished_note(view))
                        )
                    } else {
                        format!("  … {}: {}", view.key, join(counts(view), rate_eta(view)))
                    };
                    if *stderr {
                        eprintln!("{}", line.trim_end());
                    } else {
                        println!("{}", line.trim_end());
                    }
                    self.printed.insert(view.key.clone(), Instant::now());
                }
            }
        }
    }

    /// Finishes every bar still drawn (e.g. after a failure).
    pub fn clear(&mut self) {
        if let Mode::Bars { bars, .. } = &self.mode {
            for bar in bars.values().filter(|b| !b.is_finished()) {
                bar.abandon();
            }
        }
    }
}

fn style(sized: bool) -> ProgressStyle {
    let template = if sized {
        "{prefix:34} [{bar:32}] {pos:>7}/{len:<7} {msg}"
    } else {
        "{prefix:34} {spinner} {pos:>7} {msg}"
    };
    ProgressStyle::with_template(template)
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> ")
}

fn finished_unsized() -> ProgressStyle {
    ProgressStyle::with_template("{prefix:34} {msg}")
        .unwrap_or_else(|_| ProgressStyle::default_bar())
}

fn counts(view: &PhaseView) -> String {
    match view.total {
        Some(total) => format!("{}/{total}", view.done),
        None if view.finished => String::new(),
        None => view.done.to_string(),
    }
}

fn rate_eta(view: &PhaseView) -> String {
    let mut out = String::new();
    if let Some(rate) = view.rate.filter(|r| *r > 0.0) {
        out.push_str(&format!("{rate:.0}/s"));
    }
    if let Some(eta) = view.eta_seconds.filter(|e| *e > 0.0) {
        out.push_str(&format!(" · ETA {eta:.0} s"));
    }
    out
}

/// "done in 3.2 s (1000/s)", by the ledger's timestamps.
fn finished_note(view: &PhaseView) -> String {
    match view.seconds {
        Some(secs) if secs >= 0.5 && view.done > 1 => {
            format!("done in {secs:.1} s ({:.0}/s)", view.done as f64 / secs)
        }
        Some(secs) => format!("done in {secs:.1} s"),
        None => "done".to_owned(),
    }
}

fn join(a: String, b: String) -> String {
    match (a.is_empty(), b.is_empty()) {
        (true, _) => b,
        (_, true) => a,
        _ => format!("{a} {b}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Utc;
    use uuid::Uuid;

    fn run(
        job_type: JobType,
        status: JobStatus,
        phase: Option<&str>,
        done: i64,
    ) -> job_runs::Model {
        let now = Utc::now();
        job_runs::Model {
            id: Uuid::now_v7(),
            portal_id: 1,
            job_type,
            lane: Lane::Bulk,
            status,
            payload: serde_json::json!({}),
            attempts: 1,
            max_attempts: 5,
            phase: phase.map(str::to_owned),
            done,
            total: None,
            rate: None,
            eta_seconds: None,
            last_error: None,
            error_kind: None,
            idempotency_key: None,
            queue_task_id: None,
            worker: None,
            parent_id: None,
            created_at: now,
            started_at: Some(now),
            finished_at: None,
            updated_at: now,
            heartbeat_at: None,
        }
    }

    fn phase_event(run: &job_runs::Model, message: &str) -> job_events::Model {
        job_events::Model {
            id: 0,
            job_run_id: run.id,
            portal_id: 1,
            at: Utc::now(),
            kind: "phase".to_owned(),
            message: message.to_owned(),
            data: None,
        }
    }

    #[test]
    fn phase_messages_parse_with_and_without_totals() {
        assert_eq!(
            parse_phase("phase contacts: 10000 to do"),
            Some(("contacts".into(), Some(10_000)))
        );
        assert_eq!(parse_phase("phase loading"), Some(("loading".into(), None)));
        assert_eq!(parse_phase("started"), None);
    }

    #[test]
    fn earlier_phases_are_finished_and_the_current_one_follows_the_run() {
        let mut sync = run(
            JobType::InitialSync,
            JobStatus::Running,
            Some("contacts"),
            400,
        );
        sync.total = Some(1_000);
        sync.rate = Some(200.0);
        let events = vec![
            phase_event(&sync, "phase properties: 1 to do"),
            phase_event(&sync, "phase companies: 300 to do"),
            phase_event(&sync, "phase contacts: 1000 to do"),
        ];
        let views = phases(&[sync], &events);
        assert_eq!(views.len(), 3);
        assert_eq!(views[1].key, "InitialSync · companies");
        assert!(views[1].finished && views[1].done == 300);
        assert!(!views[2].finished);
        assert_eq!((views[2].done, views[2].total), (400, Some(1_000)));
        assert_eq!(views[2].rate, Some(200.0));
    }

    #[test]
    fn write_backs_add_up_into_one_entry() {
        let train = run(
            JobType::TrainModel,
            JobStatus::Succeeded,
            Some("queueing write-back"),
            3,
        );
        let mut a = run(JobType::WriteBack, JobStatus::Succeeded, None, 0);
        a.payload = serde_json::json!({"contact_ids": [1, 2]});
        let mut b = run(
            JobType::WriteBack,
            JobStatus::Running,
            Some("writing back"),
            0,
        );
        b.payload = serde_json::json!({"contact_ids": [3]});
        let views = phases(&[train, a.clone(), b], &[]);
        let write_back = views.last().expect("a write-back entry");
        assert_eq!(write_back.key, "WriteBack · contacts");
        assert_eq!((write_back.done, write_back.total), (2, Some(3)));
        assert!(!write_back.finished);
        let mut b_done = a.clone();
        b_done.id = Uuid::now_v7();
        let views = phases(&[a, b_done], &[]);
        assert!(views[0].finished, "every run over: {views:?}");
    }
}
