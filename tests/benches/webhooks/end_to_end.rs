//! Part B: a change in HubSpot → its new score written back to HubSpot, while another portal's
//! initial sync runs. One simulator hosts both portals; the real API receives the simulator's
//! signed webhooks; the real workers (`register_all`, concurrency 8) on Postgres + Redis do
//! the rest. Both ends are the simulator's own clock (its change log): when it applied the
//! job-title change, and when it received the `conturs_score` write for that contact.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::sync::Arc;
use std::time::{Duration, Instant};

use apalis::prelude::Monitor;
use chrono::{DateTime, Utc};
use conturs_tests::Backend;
use conturs_tests::bench::{Latencies, Summary, bulk_pipeline_done, portal_runs};
use conturs_tests::pipeline::{Pipeline, QueueKind};
use entity::{JobStatus, JobType, Lane, job_runs, portals, scores, webhook_events};
use hubspot_sim::LoggedChange;
use hubspot_sim::webhooks::ChangeSource;
use jobs::EnqueueOptions;
use jobs::handlers::register_all;
use jobs::payload::InitialSync;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::json;
use tokio::sync::watch;
use tokio::task::JoinSet;
use uuid::Uuid;

/// Job titles far apart in the model's eyes, so a change usually moves the score.
const TITLES: [&str; 2] = ["Chief Executive Officer", "Office Intern"];
const CHANGED: &str = "jobtitle";
const WRITTEN: &str = "conturs_score";

/// How to run part B.
pub struct Settings {
    pub live_contacts: usize,
    pub sync_contacts: usize,
    /// Changes per second at the live portal.
    pub rate: f64,
    /// Keep changing at least this long, even if the other portal finishes first.
    pub min_duration: Duration,
    /// Stop changing after this long, finished or not.
    pub max_duration: Duration,
    /// A write-back later than this after its change counts as missing.
    pub timeout: Duration,
}

/// Where the other portal's pipeline was when a change was made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Window {
    Sync,
    AfterSync,
    Done,
}

/// What became of one change.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Fate {
    /// Its new score reached HubSpot within the timeout.
    Written,
    /// Written, but later than the timeout.
    Late,
    /// Re-scored; the score did not move, so no write-back was due.
    ScoreUnchanged,
    /// Re-scored and written back (grade, factors or explanation moved), score unchanged.
    WrittenSameScore,
    /// Its scoring or write-back run had not finished when the bench stopped waiting.
    Unfinished,
    /// Its scoring or write-back run failed.
    Failed,
    /// The API never recorded the webhook.
    NotReceived,
}

/// The order the fates are reported in.
const FATES: [(Fate, &str); 7] = [
    (Fate::Written, "written back within the timeout"),
    (
        Fate::ScoreUnchanged,
        "re-scored, score unchanged (no write-back due)",
    ),
    (
        Fate::WrittenSameScore,
        "written back with the same score (grade/factors moved)",
    ),
    (Fate::Late, "written back after the timeout"),
    (
        Fate::Unfinished,
        "not finished when the bench stopped waiting",
    ),
    (Fate::Failed, "scoring or write-back failed"),
    (Fate::NotReceived, "webhook never recorded by the API"),
];

/// What the change driver did.
#[derive(Debug, Default)]
struct Driven {
    sent: u64,
    failed: u64,
    /// The contact already had that title: nothing changed, no webhook.
    no_op: u64,
}

/// The `i`-th change: a contact spread over the portal, and the title it gets. Each pass over
/// the contacts flips every contact's title, so the score moves again.
fn pick(i: usize, ids: &[u64]) -> (u64, &'static str) {
    let n = ids.len();
    let stride = if n.is_multiple_of(7_919) { 1 } else { 7_919 };
    let j = (i * stride) % n;
    (ids[j], TITLES[(i / n + j) % 2])
}

/// Changes a contact's job title every `1 / rate` s through the simulator's admin HTTP API
/// (as a HubSpot user would), until told to stop.
async fn drive(
    base_url: String,
    portal: i64,
    ids: Arc<Vec<u64>>,
    rate: f64,
    mut stop: watch::Receiver<bool>,
) -> anyhow::Result<Driven> {
    let client = reqwest::Client::new();
    let mut tick = tokio::time::interval(Duration::from_secs_f64(1.0 / rate));
    let mut in_flight: JoinSet<Result<u64, reqwest::Error>> = JoinSet::new();
    let mut driven = Driven::default();
    let mut sent = 0;
    let mut tally = |done: Result<Result<u64, reqwest::Error>, tokio::task::JoinError>| match done {
        Ok(Ok(0)) => driven.no_op += 1,
        Ok(Ok(_)) => {}
        Ok(Err(_)) | Err(_) => driven.failed += 1,
    };
    for i in 0.. {
        tokio::select! {
            _ = tick.tick() => {}
            _ = stop.changed() => break,
        }
        let (contact, title) = pick(i, &ids);
        sent += 1;
        let request = client
            .patch(format!(
                "{base_url}/_sim/portals/{portal}/objects/contacts/{contact}"
            ))
            .json(&json!({"properties": {CHANGED: title}}));
        in_flight.spawn(async move {
            let answer: serde_json::Value =
                request.send().await?.error_for_status()?.json().await?;
            Ok(answer["changed"].as_u64().unwrap_or(0))
        });
        while let Some(done) = in_flight.try_join_next() {
            tally(done);
        }
    }
    while let Some(done) = in_flight.join_next().await {
        tally(done);
    }
    driven.sent = sent;
    Ok(driven)
}

/// Which changes a row of the results table covers.
type Keep = fn(&Timed) -> bool;

/// One change as the simulator logged it, and what followed.
struct Timed {
    at: DateTime<Utc>,
    window: Window,
    fate: Fate,
    /// When the simulator received the new score.
    written: Option<DateTime<Utc>>,
    /// When the API recorded the webhook.
    received: Option<DateTime<Utc>>,
    /// When the scoring run that covered it finished.
    scored: Option<DateTime<Utc>>,
}

/// The ledger and event rows of the live portal, indexed for matching.
struct Ledger {
    runs: HashMap<Uuid, job_runs::Model>,
    /// WriteBack runs by their parent ScoreContact run.
    write_backs: HashMap<Uuid, Vec<Uuid>>,
    /// Job-title events the API recorded, per contact, in time order.
    events: HashMap<i64, Vec<webhook_events::Model>>,
}

impl Ledger {
    async fn read(p: &Pipeline, portal: i64) -> anyhow::Result<Self> {
        let runs: HashMap<Uuid, job_runs::Model> = portal_runs(&p.db.conn, portal)
            .await?
            .into_iter()
            .map(|r| (r.id, r))
            .collect();
        let mut write_backs: HashMap<Uuid, Vec<Uuid>> = HashMap::new();
        for run in runs.values().filter(|r| r.job_type == JobType::WriteBack) {
            if let Some(parent) = run.parent_id {
                write_backs.entry(parent).or_default().push(run.id);
            }
        }
        let mut events: HashMap<i64, Vec<webhook_events::Model>> = HashMap::new();
        for row in webhook_events::Entity::find()
            .filter(webhook_events::Column::PortalId.eq(portal))
            .filter(webhook_events::Column::PropertyName.eq(CHANGED))
            .all(&p.db.conn)
            .await?
        {
            events.entry(row.object_id).or_default().push(row);
        }
        for rows in events.values_mut() {
            rows.sort_by_key(|r| r.occurred_at);
        }
        Ok(Self {
            runs,
            write_backs,
            events,
        })
    }

    /// The event the API recorded for a change at `at` (the simulator stamps the event after
    /// logging the change, in whole milliseconds), before the contact's next change.
    fn event(
        &self,
        contact: u64,
        at: DateTime<Utc>,
        next: Option<DateTime<Utc>>,
    ) -> Option<&webhook_events::Model> {
        let from = DateTime::<Utc>::from_timestamp_millis(at.timestamp_millis())?;
        self.events
            .get(&(contact as i64))?
            .iter()
            .find(|e| e.occurred_at >= from && next.is_none_or(|n| e.occurred_at < n))
    }

    /// The WriteBack run (a child of `run`) that wrote `contact`, if one was queued.
    fn write_back(&self, run: &job_runs::Model, contact: u64) -> Option<&job_runs::Model> {
        let children = self.write_backs.get(&run.id).into_iter().flatten();
        children.filter_map(|id| self.runs.get(id)).find(|child| {
            serde_json::from_value::<Vec<i64>>(child.payload["contact_ids"].clone())
                .is_ok_and(|ids| ids.contains(&(contact as i64)))
        })
    }
}

/// How far one change's chain got.
struct Followed<'a> {
    fate: Fate,
    event: Option<&'a webhook_events::Model>,
    run: Option<&'a job_runs::Model>,
    /// When the simulator received the new score.
    written: Option<DateTime<Utc>>,
}

/// Follows one change through its own chain: the webhook the API recorded → the ScoreContact
/// run it was queued in (or folded into) → that run's WriteBack for the contact → the
/// `conturs_score` write the simulator received while that WriteBack ran. Another change's
/// write never counts for this one.
fn follow<'a>(
    ledger: &'a Ledger,
    writes: &[DateTime<Utc>],
    contact: u64,
    at: DateTime<Utc>,
    next: Option<DateTime<Utc>>,
    timeout: chrono::Duration,
) -> Followed<'a> {
    let mut followed = Followed {
        fate: Fate::NotReceived,
        event: ledger.event(contact, at, next),
        run: None,
        written: None,
    };
    let Some(event) = followed.event else {
        return followed;
    };
    followed.run = event.job_run_id.and_then(|id| ledger.runs.get(&id));
    let unfinished_or_failed = |status: JobStatus| {
        if status.is_terminal() {
            Fate::Failed
        } else {
            Fate::Unfinished
        }
    };
    followed.fate = match followed.run {
        None => Fate::Unfinished,
        Some(run) if run.status != JobStatus::Succeeded => unfinished_or_failed(run.status),
        Some(run) => match ledger.write_back(run, contact) {
            None => Fate::ScoreUnchanged,
            Some(child) if child.status != JobStatus::Succeeded => {
                unfinished_or_failed(child.status)
            }
            Some(child) => match (child.started_at, child.finished_at) {
                (Some(from), Some(to)) => {
                    followed.written = writes
                        .iter()
                        .find(|w| **w >= from.max(at) && **w <= to)
                        .copied();
                    match followed.written {
                        Some(w) if w - at <= timeout => Fate::Written,
                        Some(_) => Fate::Late,
                        None => Fate::WrittenSameScore,
                    }
                }
                _ => Fate::Unfinished,
            },
        },
    };
    followed
}

fn window(
    at: DateTime<Utc>,
    sync_done: Option<DateTime<Utc>>,
    all_done: Option<DateTime<Utc>>,
) -> Window {
    if sync_done.is_none_or(|done| at < done) {
        Window::Sync
    } else if all_done.is_none_or(|done| at < done) {
        Window::AfterSync
    } else {
        Window::Done
    }
}

/// Times every logged job-title change of the live portal (see [`follow`]).
fn time_changes(
    log: &[LoggedChange],
    portal: u64,
    ledger: &Ledger,
    timeout: Duration,
    sync_done: Option<DateTime<Utc>>,
    all_done: Option<DateTime<Utc>>,
) -> Vec<Timed> {
    let of_portal = |name: &'static str, source: ChangeSource| {
        log.iter()
            .filter(move |c| c.portal_id == portal && c.name == name && c.source == source)
    };
    let mut changes_of: HashMap<u64, Vec<DateTime<Utc>>> = HashMap::new();
    for change in of_portal(CHANGED, ChangeSource::Crm) {
        changes_of.entry(change.id).or_default().push(change.at);
    }
    let mut writes_of: HashMap<u64, Vec<DateTime<Utc>>> = HashMap::new();
    for write in of_portal(WRITTEN, ChangeSource::Integration) {
        writes_of.entry(write.id).or_default().push(write.at);
    }
    let timeout = chrono::Duration::from_std(timeout).unwrap_or(chrono::Duration::MAX);
    of_portal(CHANGED, ChangeSource::Crm)
        .map(|change| {
            let (contact, at) = (change.id, change.at);
            let next = changes_of
                .get(&contact)
                .and_then(|times| times.iter().find(|t| **t > at).copied());
            let writes = writes_of.get(&contact).map_or(&[][..], Vec::as_slice);
            let followed = follow(ledger, writes, contact, at, next, timeout);
            Timed {
                at,
                window: window(at, sync_done, all_done),
                fate: followed.fate,
                written: followed.written,
                received: followed.event.map(|e| e.received_at),
                scored: followed.run.and_then(|r| r.finished_at),
            }
        })
        .collect()
}

fn summary_of<'a>(
    timed: impl Iterator<Item = &'a Timed>,
    end: impl Fn(&Timed) -> Option<DateTime<Utc>>,
) -> anyhow::Result<Option<Summary>> {
    let mut latencies = Latencies::new()?;
    for t in timed {
        if let Some(end) = end(t) {
            latencies.record_between(t.at, end);
        }
    }
    Ok(latencies.summary())
}

fn row(table: &mut String, label: &str, n: usize, summary: Option<Summary>) {
    match summary {
        Some(s) => {
            let _ = writeln!(
                table,
                "| {label} | {n} | {} | {:.0} | {:.0} | {:.0} | {:.0} |",
                s.count, s.p50, s.p95, s.p99, s.max
            );
        }
        None => {
            let _ = writeln!(table, "| {label} | {n} | 0 | – | – | – | – |");
        }
    }
}

/// Runs part B; returns its section of the results file.
pub async fn run(settings: &Settings) -> anyhow::Result<String> {
    anyhow::ensure!(
        settings.rate.is_finite() && settings.rate > 0.0,
        "the change rate must be a positive number, not {}",
        settings.rate
    );
    let p = Pipeline::start(
        Backend::Postgres,
        QueueKind::Redis,
        settings.live_contacts,
        42,
    )
    .await?;
    let live = p.portal_id;
    let monitor = register_all(Monitor::new(), &p.queue, &p.deps, "bench", 8);
    let workers = tokio::spawn(async move {
        let _ = monitor.run().await;
    });

    // 1. The live portal: synced, trained, scored and written back.
    let started = Instant::now();
    p.queue
        .enqueue(
            |run_id| InitialSync {
                run_id,
                portal_id: live,
            },
            EnqueueOptions::default(),
        )
        .await?;
    p.settle(3, Duration::from_secs(1_800)).await;
    let model = portals::Entity::find_by_id(live)
        .one(&p.db.conn)
        .await?
        .and_then(|portal| portal.active_model_version);
    anyhow::ensure!(
        model.is_some(),
        "the {}-contact portal trained no model (too few customers); use more contacts",
        settings.live_contacts
    );
    println!(
        "live portal {live} ({} contacts) written back in {:.1} s",
        settings.live_contacts,
        started.elapsed().as_secs_f64()
    );

    // 2. HubSpot sends its job-title changes to the real API; the simulator times both ends.
    let api = p.spawn_api().await?;
    p.sim.subscribe_webhooks(
        &api.url("/webhooks/hubspot"),
        &[("contact.propertyChange", Some(CHANGED))],
    );
    p.sim.watch_changes(&[CHANGED, WRITTEN]);

    // 3. The other portal's initial sync starts; changes flow at `rate` meanwhile.
    let bulk = p.add_portal(settings.sync_contacts, 7).await?;
    let ids = Arc::new(p.contact_ids(live)?);
    let sync = p
        .queue
        .enqueue(
            |run_id| InitialSync {
                run_id,
                portal_id: bulk,
            },
            EnqueueOptions::default(),
        )
        .await?;
    let load_before = conturs_tests::bench::load_average();
    let live_requests_before = p
        .sim
        .stats()
        .portals
        .get(&(live as u64))
        .map_or(0, |s| s.requests);
    let started = Instant::now();
    let (stop, stopped) = watch::channel(false);
    let driver = tokio::spawn(drive(
        p.sim.base_url(),
        live,
        ids.clone(),
        settings.rate,
        stopped,
    ));
    let (mut sync_done, mut all_done, mut pipeline_s) = (None, None, None);
    loop {
        tokio::time::sleep(Duration::from_millis(250)).await;
        let runs = portal_runs(&p.db.conn, bulk).await?;
        if sync_done.is_none()
            && runs
                .iter()
                .any(|r| r.id == sync.run_id && r.status.is_terminal())
        {
            sync_done = Some(Utc::now());
            println!(
                "bulk InitialSync done after {:.1} s",
                started.elapsed().as_secs_f64()
            );
        }
        if all_done.is_none() && bulk_pipeline_done(&runs) {
            all_done = Some(Utc::now());
            pipeline_s = Some(started.elapsed().as_secs_f64());
            println!(
                "bulk pipeline done after {:.1} s",
                started.elapsed().as_secs_f64()
            );
        }
        let elapsed = started.elapsed();
        if (all_done.is_some() && elapsed >= settings.min_duration)
            || elapsed >= settings.max_duration
        {
            break;
        }
    }
    let _ = stop.send(true);
    let driven = driver.await??;
    let drive_s = started.elapsed().as_secs_f64();
    println!("stopped changing after {drive_s:.1} s; waiting for the last write-backs");

    // 4. Let the last changes through (or give up after the timeout).
    let deadline = Instant::now() + settings.timeout;
    let settled = loop {
        let hooks = p.sim.stats().webhooks;
        let runs = portal_runs(&p.db.conn, live).await?;
        if hooks.events_delivered >= hooks.events_fired
            && runs.iter().all(|r| r.status.is_terminal())
        {
            break true;
        }
        if Instant::now() > deadline {
            break false;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    };
    let load_after = conturs_tests::bench::load_average();
    let phase_s = started.elapsed().as_secs_f64();

    // 5. Match both ends of every change.
    let ledger = Ledger::read(&p, live).await?;
    let log = p.sim.logged_changes();
    let timed = time_changes(
        &log,
        live as u64,
        &ledger,
        settings.timeout,
        sync_done,
        all_done,
    );
    workers.abort();
    drop(api);

    let mut fates: HashMap<Fate, usize> = HashMap::new();
    for t in &timed {
        *fates.entry(t.fate).or_default() += 1;
    }
    // The last score written for each contact is the one stored.
    let stored: HashMap<i64, Option<i16>> = scores::Entity::find()
        .filter(scores::Column::PortalId.eq(live))
        .all(&p.db.conn)
        .await?
        .into_iter()
        .map(|s| (s.contact_id, s.score))
        .collect();
    let mut last_written: HashMap<u64, &LoggedChange> = HashMap::new();
    for write in log.iter().filter(|c| {
        c.portal_id == live as u64 && c.name == WRITTEN && c.source == ChangeSource::Integration
    }) {
        last_written.insert(write.id, write);
    }
    let agreeing = last_written
        .iter()
        .filter(|(contact, write)| {
            stored
                .get(&(**contact as i64))
                .copied()
                .flatten()
                .is_some_and(|score| score.to_string() == write.value)
        })
        .count();

    let written = |t: &Timed| (t.fate == Fate::Written).then_some(t.written).flatten();
    let mut table = String::from(
        "| changes made while portal B was in | changes | written back | p50 (ms) | p95 (ms) | p99 (ms) | max (ms) |\n\
         |---|---:|---:|---:|---:|---:|---:|\n",
    );
    let windows: [(&str, Keep); 5] = [
        ("its InitialSync", |t| t.window == Window::Sync),
        ("its train, score, write back", |t| {
            t.window == Window::AfterSync
        }),
        ("**either (B running)**", |t| t.window != Window::Done),
        ("nothing (B finished)", |t| t.window == Window::Done),
        ("any phase", |_| true),
    ];
    if let Some(during) = summary_of(timed.iter().filter(|t| t.window != Window::Done), written)? {
        conturs_tests::bench::record_figures(
            "webhook to written back",
            "changes while another portal bulk-syncs",
            serde_json::json!({
                "p50_ms": during.p50, "p95_ms": during.p95, "p99_ms": during.p99,
                "max_ms": during.max, "changes": during.count,
            }),
        )?;
    }
    for (label, keep) in windows {
        let n = timed.iter().filter(|t| keep(t)).count();
        row(
            &mut table,
            label,
            n,
            summary_of(timed.iter().filter(|t| keep(t)), written)?,
        );
    }
    let mut stages = String::from(
        "| from the change in HubSpot to | changes | reached | p50 (ms) | p95 (ms) | p99 (ms) | max (ms) |\n\
         |---|---:|---:|---:|---:|---:|---:|\n",
    );
    let running = || timed.iter().filter(|t| t.window != Window::Done);
    let n = running().count();
    row(
        &mut stages,
        "the API recorded its webhook",
        n,
        summary_of(running(), |t| t.received)?,
    );
    row(
        &mut stages,
        "its ScoreContact run finished",
        n,
        summary_of(running(), |t| t.scored)?,
    );
    row(
        &mut stages,
        "HubSpot received the new score",
        n,
        summary_of(running(), written)?,
    );

    let mut fate_lines = String::new();
    for (fate, label) in FATES {
        let _ = writeln!(
            fate_lines,
            "- {label}: {}",
            fates.get(&fate).copied().unwrap_or(0)
        );
    }
    let live_runs: Vec<&job_runs::Model> = ledger
        .runs
        .values()
        .filter(|r| r.lane == Lane::Realtime)
        .collect();
    let score_runs = live_runs
        .iter()
        .filter(|r| r.job_type == JobType::ScoreContact)
        .count();
    let write_runs = live_runs
        .iter()
        .filter(|r| r.job_type == JobType::WriteBack)
        .count();
    let scored_contacts: usize = live_runs
        .iter()
        .filter(|r| r.job_type == JobType::ScoreContact)
        .filter_map(|r| r.payload["contact_ids"].as_array().map(Vec::len))
        .sum();
    let bulk_runs = portal_runs(&p.db.conn, bulk).await?;
    let bulk_sync_s = bulk_runs
        .iter()
        .find(|r| r.id == sync.run_id)
        .and_then(|r| Some((r.finished_at? - r.created_at).num_milliseconds() as f64 / 1_000.0));
    let stats = p.sim.stats();
    let requests = |portal: i64| {
        stats
            .portals
            .get(&(portal as u64))
            .map_or((0, 0), |s| (s.requests, s.rate_limited))
    };
    let (live_requests, live_429) = requests(live);
    let (bulk_requests, bulk_429) = requests(bulk);
    let hooks = &stats.webhooks;
    let phase_requests = live_requests.saturating_sub(live_requests_before);

    Ok(format!(
        "## B. Change in HubSpot → new score written back, {} changes/s during another portal's sync\n\n\
         Portal A ({} contacts) was synced, trained, scored and written back first. Then portal B \
         ({} contacts) started its InitialSync, and a job title of one of A's contacts was changed \
         through the simulator's admin HTTP API {:.0} times a second (contacts spread over the \
         portal, titles alternating between \"{}\" and \"{}\"), for {drive_s:.1} s (until B's \
         whole pipeline had finished or {} s had passed, and at least {} s). The simulator sent its signed webhooks \
         (batched per 50 ms, ≤ 10 requests in flight) to the real API; the real workers \
         (`register_all`, concurrency 8 per lane) on Postgres + Redis scored and wrote back. \
         Latency: the simulator's clock when it applied the change → its clock when it received \
         the `conturs_score` write for that contact made by the change's own chain (the webhook \
         the API recorded → the ScoreContact run it queued or folded into → that run's \
         WriteBack, during which the simulator received the write); a write later than {} s \
         counts as missing.\n\n\
         Portal B: InitialSync {} s, whole pipeline {}; HubSpot requests / 429s: A {live_requests} \
         / {live_429}, B {bulk_requests} / {bulk_429}. Webhooks: {} events fired, {} delivered in \
         {} requests, {} failed attempts. Changes requested {}: {} changed a title, {} found the \
         title already set (no event), {} requests failed. A's realtime runs: {score_runs} \
         ScoreContact ({:.1} contacts each on average; {:.1} events per webhook request), \
         {write_runs} WriteBack. A's HubSpot requests from the first change until the bench \
         stopped waiting: {phase_requests} in {phase_s:.1} s = {:.1}/s (its budget: 100 per 10 s \
         sustained). Settled before the timeout: {}. The last score written for a contact \
         equals the one stored: {agreeing} of {} contacts.\n\n\
         {table}\n\
         Where the time went (changes made while B was running; percentiles over the changes that \
         reached each stage: a ScoreContact run that finished after the timeout counts, a \
         write-back after it does not):\n\n{stages}\n\
         What became of the {} changes:\n{fate_lines}\n\
         Load average (1/5/15 min) at the start of part B: {load_before}; at its end: {load_after}.\n",
        settings.rate,
        settings.live_contacts,
        settings.sync_contacts,
        settings.rate,
        TITLES[0],
        TITLES[1],
        settings.max_duration.as_secs(),
        settings.min_duration.as_secs(),
        settings.timeout.as_secs(),
        bulk_sync_s.map_or("not finished".to_owned(), |s| format!("{s:.1}")),
        pipeline_s.map_or("not finished".to_owned(), |s| format!("{s:.1} s")),
        hooks.events_fired,
        hooks.events_delivered,
        hooks.deliveries,
        hooks.failures,
        driven.sent,
        timed.len(),
        driven.no_op,
        driven.failed,
        scored_contacts as f64 / score_runs.max(1) as f64,
        hooks.events_delivered as f64 / hooks.deliveries.max(1) as f64,
        phase_requests as f64 / phase_s,
        if settled { "yes" } else { "no" },
        last_written.len(),
        timed.len(),
    ))
}
