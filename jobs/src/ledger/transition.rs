//! The decisions of the two hot transitions, starting an attempt and settling a success, as pure
//! functions of the locked row. The per-run [`Ledger`](super::Ledger) methods and the
//! group-commit batcher both go through [`plan`], so a batch decides exactly as the same
//! requests would one after another.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use entity::{JobStatus, job_runs};
use uuid::Uuid;

use super::{AttemptDecision, LEASE, LedgerError};

/// A request for one of the hot transitions.
#[derive(Debug, Clone)]
pub(crate) enum Request {
    /// A worker received the job ([`super::Ledger::start_attempt`]).
    Start { run_id: Uuid, worker: Arc<str> },
    /// The attempt finished its work ([`super::Ledger::succeed`]).
    Succeed { run_id: Uuid },
}

impl Request {
    pub(crate) fn run_id(&self) -> Uuid {
        match self {
            Self::Start { run_id, .. } | Self::Succeed { run_id } => *run_id,
        }
    }
}

/// What a request decided, for its caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Outcome {
    Start(AttemptDecision),
    /// `false`: the run had been cancelled and stays so.
    Succeed(bool),
}

/// New values of the columns a transition writes; `None` leaves a column as it is. Every
/// nullable column these transitions touch is set to a value, except the ETA, which is cleared.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct RowChange {
    pub status: Option<JobStatus>,
    pub attempts: Option<i32>,
    pub worker: Option<String>,
    pub started_at: Option<DateTime<Utc>>,
    pub heartbeat_at: Option<DateTime<Utc>>,
    pub finished_at: Option<DateTime<Utc>>,
    pub clear_eta: bool,
    pub error_kind: Option<String>,
    pub last_error: Option<String>,
    pub updated_at: Option<DateTime<Utc>>,
}

impl RowChange {
    /// Applies the change to the in-memory row, so a later request in the same batch sees it.
    pub(crate) fn apply(&self, run: &mut job_runs::Model) {
        if let Some(status) = self.status {
            run.status = status;
        }
        if let Some(attempts) = self.attempts {
            run.attempts = attempts;
        }
        if let Some(worker) = &self.worker {
            run.worker = Some(worker.clone());
        }
        if let Some(at) = self.started_at {
            run.started_at = Some(at);
        }
        if let Some(at) = self.heartbeat_at {
            run.heartbeat_at = Some(at);
        }
        if let Some(at) = self.finished_at {
            run.finished_at = Some(at);
        }
        if self.clear_eta {
            run.eta_seconds = None;
        }
        if let Some(kind) = &self.error_kind {
            run.error_kind = Some(kind.clone());
        }
        if let Some(error) = &self.last_error {
            run.last_error = Some(error.clone());
        }
        if let Some(at) = self.updated_at {
            run.updated_at = at;
        }
    }

    /// Folds a later change of the same run into this one: the later values win.
    pub(crate) fn merge(&mut self, later: &RowChange) {
        fn take<T: Clone>(into: &mut Option<T>, later: &Option<T>) {
            if later.is_some() {
                into.clone_from(later);
            }
        }
        take(&mut self.status, &later.status);
        take(&mut self.attempts, &later.attempts);
        take(&mut self.worker, &later.worker);
        take(&mut self.started_at, &later.started_at);
        take(&mut self.heartbeat_at, &later.heartbeat_at);
        take(&mut self.finished_at, &later.finished_at);
        self.clear_eta |= later.clear_eta;
        take(&mut self.error_kind, &later.error_kind);
        take(&mut self.last_error, &later.last_error);
        take(&mut self.updated_at, &later.updated_at);
    }

    fn is_empty(&self) -> bool {
        *self == Self::default()
    }
}

/// An event to append to a run's timeline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PlannedEvent {
    pub run_id: Uuid,
    pub portal_id: i64,
    pub kind: &'static str,
    pub message: String,
}

/// One decided transition: the caller's answer, the row's change and the event, if any.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Transition {
    pub outcome: Outcome,
    pub change: RowChange,
    pub event: Option<(&'static str, String)>,
}

impl Transition {
    fn answer(outcome: Outcome) -> Self {
        Self {
            outcome,
            change: RowChange::default(),
            event: None,
        }
    }
}

/// Decides a worker's start of `run` at `now`: skip a finished run, leave a run another live
/// worker holds, move a run out of attempts to the dead list, or count the attempt and run it.
pub(crate) fn decide_start(run: &job_runs::Model, worker: &str, now: DateTime<Utc>) -> Transition {
    if run.status.is_terminal() {
        return Transition::answer(Outcome::Start(AttemptDecision::Skip { status: run.status }));
    }
    let lease_expired = run
        .heartbeat_at
        .is_none_or(|beat| now - beat > chrono::Duration::from_std(LEASE).unwrap_or_default());
    if run.status == JobStatus::Running && !lease_expired {
        return Transition::answer(Outcome::Start(AttemptDecision::Busy));
    }
    let attempt = run.attempts + 1;
    if attempt > run.max_attempts {
        let message = format!(
            "delivered {attempt} times, more than its {} allowed attempts \
             (a previous attempt may have crashed its worker)",
            run.max_attempts
        );
        return Transition {
            outcome: Outcome::Start(AttemptDecision::Exhausted {
                attempts: run.attempts,
            }),
            change: RowChange {
                status: Some(JobStatus::Dead),
                error_kind: Some("exhausted".into()),
                last_error: Some(message.clone()),
                finished_at: Some(now),
                updated_at: Some(now),
                ..RowChange::default()
            },
            event: Some(("dead", message)),
        };
    }
    Transition {
        outcome: Outcome::Start(AttemptDecision::Run { attempt }),
        change: RowChange {
            status: Some(JobStatus::Running),
            attempts: Some(attempt),
            worker: Some(worker.to_owned()),
            started_at: Some(run.started_at.unwrap_or(now)),
            heartbeat_at: Some(now),
            updated_at: Some(now),
            ..RowChange::default()
        },
        event: Some((
            "started",
            format!("attempt {attempt} of {} on {worker}", run.max_attempts),
        )),
    }
}

/// Decides a successful attempt's end: a run an operator cancelled meanwhile stays cancelled
/// (with a `stopped` event); any other run succeeds.
pub(crate) fn decide_succeed(run: &job_runs::Model, now: DateTime<Utc>) -> Transition {
    if run.status == JobStatus::Cancelled {
        return Transition {
            outcome: Outcome::Succeed(false),
            change: RowChange::default(),
            event: Some((
                "stopped",
                "the attempt finished after the run was cancelled".into(),
            )),
        };
    }
    Transition {
        outcome: Outcome::Succeed(true),
        change: RowChange {
            status: Some(JobStatus::Succeeded),
            finished_at: Some(now),
            clear_eta: true,
            updated_at: Some(now),
            ..RowChange::default()
        },
        event: Some(("succeeded", "finished".into())),
    }
}

/// What a batch of requests does, decided in arrival order against the locked rows.
#[derive(Debug)]
pub(crate) struct Plan {
    /// One answer per request, in request order.
    pub results: Vec<Result<Outcome, LedgerError>>,
    /// The merged change of every run that changes, in order of its first change.
    pub changes: Vec<(Uuid, RowChange)>,
    /// Events in arrival order.
    pub events: Vec<PlannedEvent>,
}

/// Decides `requests` one after another against `runs` (the rows read under lock), applying
/// each decision to the in-memory row so the next request for the same run sees it.
pub(crate) fn plan(runs: Vec<job_runs::Model>, requests: &[Request], now: DateTime<Utc>) -> Plan {
    let mut runs: std::collections::HashMap<Uuid, job_runs::Model> =
        runs.into_iter().map(|run| (run.id, run)).collect();
    let mut plan = Plan {
        results: Vec::with_capacity(requests.len()),
        changes: Vec::new(),
        events: Vec::with_capacity(requests.len()),
    };
    for request in requests {
        let run_id = request.run_id();
        let Some(run) = runs.get_mut(&run_id) else {
            plan.results.push(Err(LedgerError::UnknownRun(run_id)));
            continue;
        };
        let transition = match request {
            Request::Start { worker, .. } => decide_start(run, worker, now),
            Request::Succeed { .. } => decide_succeed(run, now),
        };
        if !transition.change.is_empty() {
            transition.change.apply(run);
            match plan.changes.iter_mut().find(|(id, _)| *id == run_id) {
                Some((_, change)) => change.merge(&transition.change),
                None => plan.changes.push((run_id, transition.change)),
            }
        }
        if let Some((kind, message)) = transition.event {
            plan.events.push(PlannedEvent {
                run_id,
                portal_id: run.portal_id,
                kind,
                message,
            });
        }
        plan.results.push(Ok(transition.outcome));
    }
    plan
}

/// Groups runs that get identical changes, so each group is one `UPDATE … WHERE id IN (…)`.
pub(crate) fn group(changes: Vec<(Uuid, RowChange)>) -> Vec<(RowChange, Vec<Uuid>)> {
    let mut groups: Vec<(RowChange, Vec<Uuid>)> = Vec::new();
    for (run_id, change) in changes {
        match groups.iter_mut().find(|(same, _)| *same == change) {
            Some((_, ids)) => ids.push(run_id),
            None => groups.push((change, vec![run_id])),
        }
    }
    groups
}

#[cfg(test)]
mod tests {
    use entity::{JobType, Lane};
    use serde_json::json;

    use super::*;

    fn run(status: JobStatus, attempts: i32, max_attempts: i32) -> job_runs::Model {
        let at = Utc::now() - chrono::Duration::minutes(5);
        job_runs::Model {
            id: Uuid::now_v7(),
            portal_id: 7,
            job_type: JobType::InitialSync,
            lane: Lane::Bulk,
            status,
            payload: json!({}),
            attempts,
            max_attempts,
            phase: None,
            done: 0,
            total: None,
            rate: None,
            eta_seconds: Some(12.0),
            last_error: None,
            error_kind: None,
            idempotency_key: None,
            queue_task_id: None,
            worker: None,
            parent_id: None,
            created_at: at,
            started_at: None,
            finished_at: None,
            updated_at: at,
            heartbeat_at: None,
        }
    }

    fn start(run: &job_runs::Model) -> Request {
        Request::Start {
            run_id: run.id,
            worker: Arc::from("w1"),
        }
    }

    #[test]
    fn a_queued_run_starts_its_next_attempt() {
        let now = Utc::now();
        let queued = run(JobStatus::Queued, 1, 3);
        let transition = decide_start(&queued, "w1", now);
        assert_eq!(
            transition.outcome,
            Outcome::Start(AttemptDecision::Run { attempt: 2 })
        );
        assert_eq!(transition.change.status, Some(JobStatus::Running));
        assert_eq!(transition.change.attempts, Some(2));
        assert_eq!(transition.change.worker.as_deref(), Some("w1"));
        assert_eq!(transition.change.heartbeat_at, Some(now));
        assert_eq!(
            transition.event,
            Some(("started", "attempt 2 of 3 on w1".to_owned()))
        );
    }

    #[test]
    fn a_retried_run_keeps_its_first_start_time() {
        let first = Utc::now() - chrono::Duration::hours(1);
        let mut retrying = run(JobStatus::Retrying, 1, 3);
        retrying.started_at = Some(first);
        let transition = decide_start(&retrying, "w1", Utc::now());
        assert_eq!(transition.change.started_at, Some(first));
    }

    #[test]
    fn finished_runs_are_skipped_and_fresh_running_runs_are_busy() {
        let now = Utc::now();
        let done = run(JobStatus::Succeeded, 1, 3);
        assert_eq!(
            decide_start(&done, "w1", now),
            Transition::answer(Outcome::Start(AttemptDecision::Skip {
                status: JobStatus::Succeeded
            }))
        );
        let mut running = run(JobStatus::Running, 1, 3);
        running.heartbeat_at = Some(now - chrono::Duration::seconds(1));
        assert_eq!(
            decide_start(&running, "w2", now).outcome,
            Outcome::Start(AttemptDecision::Busy)
        );
        // Its worker stopped beating: the lease is over and the run is taken over.
        running.heartbeat_at = Some(now - chrono::Duration::from_std(LEASE * 2).unwrap());
        assert_eq!(
            decide_start(&running, "w2", now).outcome,
            Outcome::Start(AttemptDecision::Run { attempt: 2 })
        );
    }

    #[test]
    fn a_run_out_of_attempts_goes_to_the_dead_list() {
        let now = Utc::now();
        let worn = run(JobStatus::Queued, 3, 3);
        let transition = decide_start(&worn, "w1", now);
        assert_eq!(
            transition.outcome,
            Outcome::Start(AttemptDecision::Exhausted { attempts: 3 })
        );
        assert_eq!(transition.change.status, Some(JobStatus::Dead));
        assert_eq!(transition.change.error_kind.as_deref(), Some("exhausted"));
        assert_eq!(transition.change.finished_at, Some(now));
        assert!(
            matches!(transition.event, Some(("dead", ref m)) if m.starts_with("delivered 4 times"))
        );
    }

    #[test]
    fn a_success_settles_unless_the_run_was_cancelled() {
        let now = Utc::now();
        let transition = decide_succeed(&run(JobStatus::Running, 1, 3), now);
        assert_eq!(transition.outcome, Outcome::Succeed(true));
        assert_eq!(transition.change.status, Some(JobStatus::Succeeded));
        assert!(transition.change.clear_eta);
        let cancelled = decide_succeed(&run(JobStatus::Cancelled, 1, 3), now);
        assert_eq!(cancelled.outcome, Outcome::Succeed(false));
        assert!(cancelled.change.is_empty());
        assert_eq!(cancelled.event.map(|(kind, _)| kind), Some("stopped"));
    }

    #[test]
    fn a_batch_decides_as_if_its_requests_came_one_after_another() {
        let now = Utc::now();
        let a = run(JobStatus::Queued, 0, 3);
        let b = run(JobStatus::Queued, 0, 3);
        let unknown = Uuid::now_v7();
        let requests = [
            start(&a),
            start(&a),
            start(&b),
            Request::Succeed { run_id: unknown },
            Request::Succeed { run_id: b.id },
            start(&b),
        ];
        let plan = plan(vec![a.clone(), b.clone()], &requests, now);
        let outcomes: Vec<_> = plan
            .results
            .iter()
            .map(|result| result.as_ref().ok().cloned())
            .collect();
        assert_eq!(
            outcomes,
            vec![
                Some(Outcome::Start(AttemptDecision::Run { attempt: 1 })),
                Some(Outcome::Start(AttemptDecision::Busy)),
                Some(Outcome::Start(AttemptDecision::Run { attempt: 1 })),
                None,
                Some(Outcome::Succeed(true)),
                Some(Outcome::Start(AttemptDecision::Skip {
                    status: JobStatus::Succeeded
                })),
            ]
        );
        assert!(matches!(plan.results[3], Err(LedgerError::UnknownRun(id)) if id == unknown));
        let kinds: Vec<_> = plan.events.iter().map(|e| (e.run_id, e.kind)).collect();
        assert_eq!(
            kinds,
            vec![(a.id, "started"), (b.id, "started"), (b.id, "succeeded")]
        );
        // b's start and success merge into one change: running fields and the final status.
        assert_eq!(plan.changes.len(), 2);
        let (_, b_change) = &plan.changes[1];
        assert_eq!(b_change.status, Some(JobStatus::Succeeded));
        assert_eq!(b_change.attempts, Some(1));
        assert!(b_change.clear_eta);
    }

    #[test]
    fn identical_changes_share_one_update() {
        let now = Utc::now();
        let runs: Vec<_> = (0..4).map(|_| run(JobStatus::Queued, 0, 3)).collect();
        let mut retried = run(JobStatus::Retrying, 1, 3);
        retried.started_at = Some(now - chrono::Duration::hours(1));
        let mut requests: Vec<_> = runs.iter().map(start).collect();
        requests.push(start(&retried));
        let mut all = runs.clone();
        all.push(retried.clone());
        let groups = group(plan(all, &requests, now).changes);
        assert_eq!(groups.len(), 2);
        assert_eq!(groups[0].1, runs.iter().map(|r| r.id).collect::<Vec<_>>());
        assert_eq!(groups[1].1, vec![retried.id]);
    }
}
