//! The chaos suite's common verdict (issue 11): whatever went wrong during a run — a killed
//! worker, a HubSpot fault storm, several workers on one portal — the same promises must hold
//! once it is over:
//!
//! - every scorable contact carries the score its data deserves (what an undisturbed run of the
//!   same portal stores), and HubSpot shows exactly that;
//! - nothing acknowledged was lost: every run that was queued ended, and succeeded (unless the
//!   scenario says which must fail);
//! - no contact's score was written to HubSpot twice with different values for one model;
//! - the ledger tells the true story: one `succeeded` event per successful run, one `started`
//!   per counted attempt or SIGTERM interruption;
//! - the system is healthy afterwards: a nightly re-sync runs at once and writes nothing.

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use entity::{JobStatus, JobType, job_runs, models, scores};
use hubspot_sim::webhooks::ChangeSource;
use jobs::EnqueueOptions;
use jobs::payload::NightlyResync;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

use crate::Backend;
use crate::pipeline::{Pipeline, QueueKind};

/// How long a disturbed pipeline may take to settle (faults slow it down, never stop it).
pub const SETTLE: Duration = Duration::from_secs(300);

/// The property whose every change at the simulator the verdict reads.
const SCORE_PROPERTY: &str = "conturs_score";

/// What one contact's stored score should be.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Deserved {
    score: Option<i16>,
    grade: Option<String>,
    explanation: Option<String>,
    unscorable_reason: Option<String>,
}

impl From<&scores::Model> for Deserved {
    fn from(row: &scores::Model) -> Self {
        Self {
            score: row.score,
            grade: row.grade.clone(),
            explanation: row.explanation.clone(),
            unscorable_reason: row.unscorable_reason.clone(),
        }
    }
}

/// The scores an undisturbed run stores for a seeded portal: the yardstick of "the score its
/// data deserves".
pub struct Reference {
    by_contact: HashMap<i64, Deserved>,
    /// HubSpot requests the undisturbed pipeline needed.
    requests: u64,
}

impl Reference {
    /// Runs the same seeded portal through the whole pipeline on its own simulator, database
    /// and in-process workers, with nothing going wrong.
    pub async fn undisturbed(
        backend: Backend,
        queue: QueueKind,
        contacts: usize,
        seed: u64,
    ) -> anyhow::Result<Self> {
        let p = Pipeline::start(backend, queue, contacts, seed).await?;
        let _workers = p.spawn_workers("reference");
        p.sync_to_done(SETTLE).await;
        let by_contact = portal_scores(&p)
            .await?
            .iter()
            .map(|row| (row.contact_id, Deserved::from(row)))
            .collect();
        let requests = p.sim.stats().portals.values().map(|s| s.requests).sum();
        Ok(Self {
            by_contact,
            requests,
        })
    }
}

async fn portal_scores(p: &Pipeline) -> Result<Vec<scores::Model>, sea_orm::DbErr> {
    scores::Entity::find()
        .filter(scores::Column::PortalId.eq(p.portal_id))
        .all(&p.db.conn)
        .await
}

/// Starts logging every value of the score property the simulator takes; call before the
/// disturbed run starts, so [`assert_recovered`] sees each write.
pub fn watch_score_writes(p: &Pipeline) {
    p.sim.watch_changes(&[SCORE_PROPERTY]);
}

/// The verdict: waits for the portal's runs to settle, then checks every promise of this
/// module's header. Panics with what broke; `log` adds the worker logs to the message.
pub async fn assert_recovered(
    p: &Pipeline,
    reference: &Reference,
    contacts: usize,
    log: impl Fn() -> String,
) {
    assert_recovered_except(p, reference, contacts, &[], log).await;
}

/// [`assert_recovered`] for a scenario where some runs must fail (a sync cut off by a revoked
/// token): exactly the `expected_failures` ended failed or dead, and everything else holds.
pub async fn assert_recovered_except(
    p: &Pipeline,
    reference: &Reference,
    contacts: usize,
    expected_failures: &[uuid::Uuid],
    log: impl Fn() -> String,
) {
    let watching = std::time::Instant::now();
    let runs = p.settle(3, SETTLE).await;
    let recovery_s = watching.elapsed().as_secs_f64();
    nothing_lost(&runs, expected_failures, &log);
    ledger_tells_the_story(p, &runs).await;

    let trained = models::Entity::find()
        .filter(models::Column::PortalId.eq(p.portal_id))
        .all(&p.db.conn)
        .await
        .expect("models");
    assert_eq!(
        trained.len(),
        1,
        "one model, trained once: {:?}",
        trained.iter().map(|m| m.version).collect::<Vec<_>>()
    );

    let requests: u64 = p.sim.stats().portals.values().map(|s| s.requests).sum();
    p.assert_written_back(contacts).await;
    deserved_scores(p, reference).await;
    let written = no_conflicting_writes(p);
    healthy_afterwards(p, runs.len(), &log).await;
    let attempts: i64 = runs.iter().map(|r| i64::from(r.attempts)).sum();
    eprintln!(
        "verdict: settled {recovery_s:.1} s after the fault ended; {} runs, {attempts} counted attempts ({} runs took more than one), {requests} \
         HubSpot requests (undisturbed: {}), {written} scores written once each, 0 differing \
         from the undisturbed run, 0 lost",
        runs.len(),
        runs.iter().filter(|r| r.attempts > 1).count(),
        reference.requests,
    );
}

fn nothing_lost(
    runs: &[job_runs::Model],
    expected_failures: &[uuid::Uuid],
    log: &impl Fn() -> String,
) {
    for job_type in [
        JobType::InitialSync,
        JobType::TrainModel,
        JobType::WriteBack,
    ] {
        assert!(
            runs.iter().any(|r| r.job_type == job_type),
            "{job_type:?} never ran; logs:\n{}",
            log()
        );
    }
    for id in expected_failures {
        let run = runs
            .iter()
            .find(|r| r.id == *id)
            .expect("an expected failure ran");
        assert!(
            matches!(run.status, JobStatus::Failed | JobStatus::Dead),
            "{:?} {id} was expected to fail and is {:?}",
            run.job_type,
            run.status
        );
    }
    let failed: Vec<_> = runs
        .iter()
        .filter(|r| r.status != JobStatus::Succeeded && !expected_failures.contains(&r.id))
        .map(|r| (r.id, r.job_type, r.status, r.last_error.clone()))
        .collect();
    assert!(
        failed.is_empty(),
        "runs that did not succeed: {failed:?}; logs:\n{}",
        log()
    );
}

/// One `succeeded` event per run and one `started` event per attempt: a killed attempt shows
/// as a start without an end, never as a second success.
async fn ledger_tells_the_story(p: &Pipeline, runs: &[job_runs::Model]) {
    for run in runs {
        let kinds: Vec<String> = p
            .queue
            .ledger()
            .timeline(run.id)
            .await
            .expect("timeline")
            .into_iter()
            .map(|e| e.kind)
            .collect();
        let count = |kind: &str| kinds.iter().filter(|k| *k == kind).count();
        let successes = usize::from(run.status == JobStatus::Succeeded);
        assert_eq!(
            count("succeeded"),
            successes,
            "{:?} {} ({:?}): {kinds:?}",
            run.job_type,
            run.id,
            run.status
        );
        // A SIGTERM hands the run back without counting an attempt ("interrupted").
        assert_eq!(
            count("started"),
            usize::try_from(run.attempts).unwrap_or(usize::MAX) + count("interrupted"),
            "{:?} {} has {} attempts: {kinds:?}",
            run.job_type,
            run.id,
            run.attempts
        );
    }
}

async fn deserved_scores(p: &Pipeline, reference: &Reference) {
    let stored: BTreeMap<i64, Deserved> = portal_scores(p)
        .await
        .expect("scores")
        .iter()
        .map(|row| (row.contact_id, Deserved::from(row)))
        .collect();
    assert_eq!(stored.len(), reference.by_contact.len(), "score rows");
    let wrong: Vec<_> = stored
        .iter()
        .filter(|(id, got)| reference.by_contact.get(id) != Some(got))
        .map(|(id, got)| (id, got, reference.by_contact.get(id)))
        .take(5)
        .collect();
    assert!(
        wrong.is_empty(),
        "contacts whose score differs from an undisturbed run's (stored, deserved): {wrong:?}"
    );
}

/// One model, so each contact's score may change at HubSpot once (from nothing to its value);
/// rewriting the same value is harmless and not logged by the simulator. Returns how many
/// contacts' scores were written.
fn no_conflicting_writes(p: &Pipeline) -> usize {
    let mut writes: HashMap<u64, Vec<String>> = HashMap::new();
    for change in p.sim.logged_changes() {
        if change.name == SCORE_PROPERTY && change.source == ChangeSource::Integration {
            writes.entry(change.id).or_default().push(change.value);
        }
    }
    assert!(!writes.is_empty(), "the score writes were not logged");
    let conflicting: Vec<_> = writes
        .iter()
        .filter(|(_, values)| values.len() > 1)
        .take(5)
        .collect();
    assert!(
        conflicting.is_empty(),
        "scores written with different values: {conflicting:?}"
    );
    writes.len()
}

/// The last promise of the verdict on its own, for scenarios whose scores legitimately move
/// (contacts changed in HubSpot meanwhile): a nightly re-sync runs at once, succeeds and finds
/// nothing left to write, so every change already reached its score and HubSpot.
pub async fn assert_healthy(p: &Pipeline, log: impl Fn() -> String) {
    let runs = p.settle(1, SETTLE).await;
    healthy_afterwards(p, runs.len(), &log).await;
}

/// A nightly re-sync right after runs at once, succeeds, and writes nothing: nothing is stuck
/// and nothing is left half-done.
async fn healthy_afterwards(p: &Pipeline, runs_so_far: usize, log: &impl Fn() -> String) {
    let updates_before = p.requests_matching("batch/update");
    let portal_id = p.portal_id;
    let nightly = p
        .queue
        .enqueue(
            |run_id| NightlyResync { run_id, portal_id },
            EnqueueOptions::default(),
        )
        .await
        .expect("enqueue the nightly re-sync");
    let runs = p.settle(runs_so_far + 1, Duration::from_secs(120)).await;
    let run = runs
        .iter()
        .find(|r| r.id == nightly.run_id)
        .expect("the nightly run");
    assert_eq!(
        run.status,
        JobStatus::Succeeded,
        "the nightly re-sync after the fault: {:?}; logs:\n{}",
        run.last_error,
        log()
    );
    assert_eq!(
        p.requests_matching("batch/update"),
        updates_before,
        "the nightly re-sync found something left to write"
    );
}
