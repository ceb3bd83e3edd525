//! Part A: how fast `POST /webhooks/hubspot` answers. The real API (Postgres + a Redis queue)
//! with one connected portal; C senders on one keep-alive client POST v3-signed batches for a
//! fixed time, every event distinct (its contact and `occurredAt`), so de-duplication never
//! short-circuits. No worker runs: what is measured is intake (verify, record, claim, queue).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use chrono::Utc;
use conturs_tests::app::CLIENT_SECRET;
use conturs_tests::bench::{Latencies, Summary};
use conturs_tests::fixtures::insert_portal;
use conturs_tests::{AppOptions, Backend, spawn_app_with};
use entity::{JobType, PortalStatus, job_runs, webhook_events};
use hubspot::webhook::{SignedRequest, sign_v3};
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::{Value, json};
use tokio::task::JoinSet;

const PORTAL: i64 = 7_700_001;

/// One load case.
pub struct Case {
    pub batch: usize,
    pub senders: usize,
    pub duration: Duration,
    /// Contacts the events cycle through (ids 1..=contacts).
    pub contacts: u64,
}

/// What one case measured.
pub struct Outcome {
    pub batch: usize,
    pub senders: usize,
    pub latency: Summary,
    pub ok: u64,
    pub failed: u64,
    pub wall: Duration,
    pub enqueued: u64,
    pub coalesced: u64,
    pub duplicates: u64,
    pub ignored: u64,
    /// ScoreContact runs in the ledger afterwards.
    pub runs: u64,
    /// Event rows recorded.
    pub recorded: u64,
    /// Requests answered 200 in each second of the case, to show a trend within it.
    pub per_second: Vec<u64>,
}

impl Outcome {
    pub fn requests_per_s(&self) -> f64 {
        self.ok as f64 / self.wall.as_secs_f64()
    }

    pub fn events_per_s(&self) -> f64 {
        (self.ok * self.batch as u64) as f64 / self.wall.as_secs_f64()
    }
}

/// What one sender saw.
struct Sent {
    per_second: Vec<u64>,
    latencies: Latencies,
    ok: u64,
    failed: u64,
    report: [u64; 4],
}

/// `count` property changes of distinct (contact, time) pairs starting at sequence `first`.
fn batch(first: u64, count: usize, contacts: u64, base_ms: i64) -> Value {
    let events: Vec<Value> = (first..first + count as u64)
        .map(|seq| {
            json!({
                "eventId": seq + 1,
                "subscriptionId": 1,
                "portalId": PORTAL,
                "appId": 1,
                // Unique per event: the de-duplication key includes it.
                "occurredAt": base_ms + seq as i64,
                "subscriptionType": "contact.propertyChange",
                "attemptNumber": 0,
                "objectId": seq % contacts + 1,
                "propertyName": "jobtitle",
                "propertyValue": "Chief Executive Officer",
                "changeSource": "CRM",
            })
        })
        .collect();
    Value::Array(events)
}

async fn sender(
    client: reqwest::Client,
    url: Arc<str>,
    sequence: Arc<AtomicU64>,
    case: Arc<Case>,
    base_ms: i64,
    begun: Instant,
) -> anyhow::Result<Sent> {
    let until = begun + case.duration;
    let mut sent = Sent {
        latencies: Latencies::new()?,
        ok: 0,
        failed: 0,
        report: [0; 4],
        per_second: Vec::new(),
    };
    while Instant::now() < until {
        let first = sequence.fetch_add(case.batch as u64, Ordering::Relaxed);
        let body = serde_json::to_vec(&batch(first, case.batch, case.contacts, base_ms))?;
        let timestamp = Utc::now().timestamp_millis();
        let signature = sign_v3(
            CLIENT_SECRET.as_bytes(),
            SignedRequest {
                method: "POST",
                uri: &url,
                body: &body,
            },
            timestamp,
        );
        let started = Instant::now();
        let response = client
            .post(&*url)
            .header("content-type", "application/json")
            .header("X-HubSpot-Signature-v3", signature)
            .header("X-HubSpot-Request-Timestamp", timestamp.to_string())
            .body(body)
            .send()
            .await;
        let answered = match response {
            Ok(response) if response.status().is_success() => response.bytes().await.ok(),
            Ok(_) | Err(_) => None,
        };
        let elapsed = started.elapsed();
        let Some(answer) = answered else {
            sent.failed += 1;
            continue;
        };
        sent.latencies.record(elapsed);
        sent.ok += 1;
        let second = started.saturating_duration_since(begun).as_secs() as usize;
        if sent.per_second.len() <= second {
            sent.per_second.resize(second + 1, 0);
        }
        sent.per_second[second] += 1;
        let report: Value = serde_json::from_slice(&answer)?;
        for (total, key) in
            sent.report
                .iter_mut()
                .zip(["enqueued", "coalesced", "duplicates", "ignored"])
        {
            *total += report[key].as_u64().unwrap_or(0);
        }
    }
    Ok(sent)
}

/// Runs one case against a fresh API and database.
pub async fn run(case: Case) -> anyhow::Result<Outcome> {
    let app = spawn_app_with(AppOptions::new(Backend::Postgres)).await;
    insert_portal(&app.db.conn, PORTAL, PortalStatus::Ready).await?;
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(case.senders)
        .build()?;
    let url: Arc<str> = app.url("/webhooks/hubspot").into();
    let sequence = Arc::new(AtomicU64::new(0));
    let case = Arc::new(case);
    let base_ms = Utc::now().timestamp_millis();
    let started = Instant::now();
    let mut senders = JoinSet::new();
    for _ in 0..case.senders {
        senders.spawn(sender(
            client.clone(),
            url.clone(),
            sequence.clone(),
            case.clone(),
            base_ms,
            started,
        ));
    }
    let mut latencies = Latencies::new()?;
    let (mut ok, mut failed, mut report) = (0, 0, [0u64; 4]);
    let mut per_second: Vec<u64> = Vec::new();
    while let Some(sent) = senders.join_next().await {
        let sent = sent??;
        latencies.add(&sent.latencies)?;
        ok += sent.ok;
        if per_second.len() < sent.per_second.len() {
            per_second.resize(sent.per_second.len(), 0);
        }
        for (total, part) in per_second.iter_mut().zip(&sent.per_second) {
            *total += part;
        }
        failed += sent.failed;
        for (total, part) in report.iter_mut().zip(sent.report) {
            *total += part;
        }
    }
    let wall = started.elapsed();
    let runs = job_runs::Entity::find()
        .filter(job_runs::Column::PortalId.eq(PORTAL))
        .filter(job_runs::Column::JobType.eq(JobType::ScoreContact))
        .count(&app.db.conn)
        .await?;
    let recorded = webhook_events::Entity::find()
        .filter(webhook_events::Column::PortalId.eq(PORTAL))
        .count(&app.db.conn)
        .await?;
    let latency = latencies
        .summary()
        .ok_or_else(|| anyhow::anyhow!("no request succeeded ({failed} failed)"))?;
    let [enqueued, coalesced, duplicates, ignored] = report;
    Ok(Outcome {
        batch: case.batch,
        senders: case.senders,
        latency,
        ok,
        failed,
        wall,
        enqueued,
        coalesced,
        duplicates,
        ignored,
        runs,
        recorded,
        per_second,
    })
}
