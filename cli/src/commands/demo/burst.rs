//! `--webhook-burst N`: after the pipeline, N contacts get a new job title in HubSpot, as a
//! user would change them (the simulator's admin API, which sends signed webhooks to our API);
//! the API records and queues them, the realtime lane re-scores and writes back, and each new
//! score is shown as HubSpot receives it. Latency is change → new score in HubSpot, both ends
//! on the simulator's own clock (its change log).

use std::collections::HashMap;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use entity::{job_runs, scores};
use hubspot_sim::webhooks::ChangeSource;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde::Serialize;

use super::Say;

/// Titles far apart in the model's eyes, so a change usually moves the score.
const SENIOR: &str = "Chief Executive Officer";
const JUNIOR: &str = "Office Intern";
/// Give up on a change's write-back after this long.
const TIMEOUT: Duration = Duration::from_secs(90);
/// Once nothing is in flight, how long to wait for stragglers.
const QUIET: Duration = Duration::from_secs(2);

/// What the burst showed.
#[derive(Clone, Debug, Default, Serialize)]
pub struct BurstReport {
    pub changes: usize,
    /// New scores written back to HubSpot.
    pub written: usize,
    /// Re-scored, but the score did not move (nothing new to write).
    pub unchanged: usize,
    /// Neither within the timeout.
    pub missing: usize,
    pub timeout_s: u64,
    /// Change in HubSpot → new score in HubSpot, seconds.
    pub latency_p50_s: Option<f64>,
    pub latency_p95_s: Option<f64>,
    pub latency_max_s: Option<f64>,
}

struct Change {
    contact_id: u64,
    title: &'static str,
    old_score: Option<i16>,
    at: Option<DateTime<Utc>>,
    arrived: Option<f64>,
}

pub async fn run(
    sim: &hubspot_sim::RunningSimulator,
    db: &sea_orm::DatabaseConnection,
    portal_id: i64,
    api_url: &str,
    count: usize,
    say: Say,
) -> anyhow::Result<BurstReport> {
    let mut rows: Vec<scores::Model> = scores::Entity::find()
        .filter(scores::Column::PortalId.eq(portal_id))
        .filter(scores::Column::Score.is_not_null())
        .all(db)
        .await?;
    rows.sort_by_key(|r| r.contact_id);
    let stride = (rows.len() / count.max(1)).max(1);
    let picked: Vec<&scores::Model> = rows.iter().step_by(stride).take(count).collect();

    sim.subscribe_webhooks(
        &format!("{api_url}/webhooks/hubspot"),
        &[("contact.propertyChange", Some("jobtitle"))],
    );
    sim.watch_changes(&["jobtitle", "conturs_score"]);
    let started = Utc::now();
    let clock = Instant::now();
    say.line(format!(
        "\nWebhook burst: changing {} contacts' job titles in HubSpot…",
        picked.len()
    ));
    let mut changes = Vec::with_capacity(picked.len());
    for row in &picked {
        let contact_id = u64::try_from(row.contact_id)?;
        let title = if matches!(row.grade.as_deref(), Some("A" | "B")) {
            JUNIOR
        } else {
            SENIOR
        };
        sim.update_record(
            sim.portal_id(),
            hubspot_sim::ObjectType::Contacts,
            contact_id,
            &[("jobtitle", title)],
        )
        .map_err(|e| anyhow::anyhow!("changing contact {contact_id}: {e}"))?;
        changes.push(Change {
            contact_id,
            title,
            old_score: row.score,
            at: None,
            arrived: None,
        });
    }

    let mut quiet_since: Option<Instant> = None;
    loop {
        let log = sim.logged_changes();
        let mut arrived_now = false;
        for change in changes.iter_mut().filter(|c| c.arrived.is_none()) {
            if change.at.is_none() {
                change.at = log
                    .iter()
                    .find(|e| {
                        e.id == change.contact_id
                            && e.name == "jobtitle"
                            && e.source == ChangeSource::Crm
                            && e.at >= started
                    })
                    .map(|e| e.at);
            }
            let Some(at) = change.at else { continue };
            let Some(written) = log.iter().find(|e| {
                e.id == change.contact_id
                    && e.name == "conturs_score"
                    && e.source == ChangeSource::Integration
                    && e.at >= at
            }) else {
                continue;
            };
            let latency = (written.at - at).num_milliseconds() as f64 / 1000.0;
            change.arrived = Some(latency);
            arrived_now = true;
            let grade = scores::Entity::find_by_id((portal_id, change.contact_id as i64))
                .one(db)
                .await?
                .and_then(|s| s.grade)
                .unwrap_or_default();
            say.line(format!(
                "  contact {}: job title → {:?}; score {} → {} ({grade}) in HubSpot {latency:.2} s after the change",
                change.contact_id,
                change.title,
                change
                    .old_score
                    .map_or_else(|| "—".to_owned(), |s| s.to_string()),
                written.value,
            ));
        }
        if changes.iter().all(|c| c.arrived.is_some()) || clock.elapsed() > TIMEOUT {
            break;
        }
        if arrived_now || !settled(sim, db, portal_id, started).await? {
            quiet_since = None;
        } else if quiet_since.get_or_insert_with(Instant::now).elapsed() >= QUIET {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    // The rest: re-scored with the same score, or not done in time.
    let rescored: HashMap<i64, DateTime<Utc>> = scores::Entity::find()
        .filter(scores::Column::PortalId.eq(portal_id))
        .filter(scores::Column::ScoredAt.gte(started))
        .all(db)
        .await?
        .into_iter()
        .map(|s| (s.contact_id, s.scored_at))
        .collect();
    let mut latencies: Vec<f64> = changes.iter().filter_map(|c| c.arrived).collect();
    latencies.sort_by(f64::total_cmp);
    let unchanged = changes
        .iter()
        .filter(|c| c.arrived.is_none() && rescored.contains_key(&(c.contact_id as i64)))
        .count();
    let quantile = |q: f64| {
        (!latencies.is_empty()).then(|| {
            let index = ((latencies.len() as f64 - 1.0) * q).round() as usize;
            latencies[index.min(latencies.len() - 1)]
        })
    };
    Ok(BurstReport {
        changes: changes.len(),
        written: latencies.len(),
        unchanged,
        missing: changes.len() - latencies.len() - unchanged,
        timeout_s: TIMEOUT.as_secs(),
        latency_p50_s: quantile(0.5),
        latency_p95_s: quantile(0.95),
        latency_max_s: latencies.last().copied(),
    })
}

/// Every webhook delivered and every run since the burst began ended.
async fn settled(
    sim: &hubspot_sim::RunningSimulator,
    db: &sea_orm::DatabaseConnection,
    portal_id: i64,
    since: DateTime<Utc>,
) -> anyhow::Result<bool> {
    let hooks = sim.stats().webhooks;
    if hooks.events_delivered < hooks.events_fired {
        return Ok(false);
    }
    let runs = job_runs::Entity::find()
        .filter(job_runs::Column::PortalId.eq(portal_id))
        .filter(job_runs::Column::CreatedAt.gte(since))
        .all(db)
        .await?;
    Ok(!runs.is_empty() && runs.iter().all(|r| r.status.is_terminal()))
}
