//! `conturs demo`: the main job end to end on one machine. Starts the HubSpot simulator with a
//! seeded portal, connects it through the real OAuth flow, runs InitialSync → TrainModel →
//! scoring → WriteBack on the real workers and queue (embedded SQLite, or Redis/Postgres when
//! their URLs are set), shows progress, and prints what HubSpot now shows.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use apalis::prelude::Monitor;
use chrono::Utc;
use entity::{JobStatus, JobType, PortalStatus, job_runs, portals, scores};
use hubspot::budget::BudgetPolicy;
use hubspot::oauth::{RefreshCoordination, StateSigner, TokenStore};
use hubspot::{ClientConfig, HubSpotClient, ObjectType, RateBudget};
use hubspot_sim::{SimConfig, Simulator};
use jobs::handlers::token_store::DbTokenStore;
use jobs::handlers::{Deps, register_all};
use jobs::payload::InitialSync;
use jobs::{EnqueueOptions, Ledger, Queue, QueueBackend, QueueSettings};
use platform::config::QueueBackend as ConfiguredQueue;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use secrecy::{ExposeSecret as _, SecretString};

const CLIENT_ID: &str = "conturs-demo-client";
const CLIENT_SECRET: &str = "conturs-demo-secret";
/// HubSpot's limit for OAuth apps: 110 requests per 10 s.
const ALLOWED_PER_SECOND: f64 = 11.0;

#[derive(clap::Args)]
pub struct DemoArgs {
    /// Contacts in the simulated portal.
    #[arg(long, default_value_t = 10_000)]
    pub contacts: usize,
    /// Seed of the simulated portal (same seed, same portal).
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
}

pub fn run(args: &DemoArgs) -> anyhow::Result<()> {
    platform::tls::install_crypto_provider();
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?
        .block_on(demo(args))
}

async fn demo(args: &DemoArgs) -> anyhow::Result<()> {
    let settings = platform::Settings::from_env()?;
    let started = Instant::now();
    println!(
        "Starting a simulated HubSpot portal of {} contacts (seed {})…",
        args.contacts, args.seed
    );
    let mut sim_config = SimConfig::new(CLIENT_ID, CLIENT_SECRET);
    sim_config.contacts = args.contacts;
    sim_config.seed = args.seed;
    let sim = Simulator::start(sim_config).await?;

    migration::apply(&settings.database_url)
        .await
        .context("applying migrations")?;
    let db = platform::db::connect(&settings.database_url)
        .await
        .context("connecting to DATABASE_URL")?;
    let backend = match &settings.queue {
        ConfiguredQueue::Redis(url) => QueueBackend::redis(url.expose_secret()).await?,
        ConfiguredQueue::Embedded => QueueBackend::sqlite(&db).await?,
    };
    let queue = Queue::new(
        backend,
        QueueSettings {
            namespace: format!("conturs-demo-{}", std::process::id()),
            ..QueueSettings::default()
        },
        Ledger::new(db.clone()),
    );
    let store = Arc::new(DbTokenStore::new(
        db.clone(),
        platform::TokenCipher::new(&settings.secret_key),
    ));
    let hubspot = HubSpotClient::new(
        ClientConfig::new(
            sim.base_url().parse()?,
            CLIENT_ID,
            SecretString::from(CLIENT_SECRET),
            settings.hubspot.redirect_uri.clone(),
        ),
        RateBudget::local(BudgetPolicy::default()).map_err(|e| anyhow::anyhow!("{e}"))?,
        store.clone(),
        RefreshCoordination::Local,
    )?;

    // The real OAuth flow: install URL with a signed state → consent (auto-approved by the
    // simulator) → callback code → token exchange.
    let signer = StateSigner::new(settings.secret_key.expose());
    let install = hubspot.install_url(&signer, Some("demo"));
    let consent = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()?
        .get(install.as_str())
        .send()
        .await?;
    let callback: url::Url = consent
        .headers()
        .get(reqwest::header::LOCATION)
        .and_then(|v| v.to_str().ok())
        .context("the consent page did not redirect")?
        .parse()?;
    let query = |name: &str| {
        callback
            .query_pairs()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.into_owned())
    };
    let state = query("state").context("no state in the callback")?;
    signer
        .verify(&state, Utc::now().timestamp_millis())
        .map_err(|e| anyhow::anyhow!("state rejected: {e}"))?;
    let code = query("code").context("no code in the callback")?;
    let tokens = hubspot.tokens().api().exchange_code(&code).await?;
    let portal_id = tokens.portal_id as i64;
    jobs::portals::record_portal(&db, portal_id, PortalStatus::Connected, &tokens.scopes)
        .await
        .context("recording the portal (use a fresh DATABASE_URL for each demo)")?;
    store
        .save(tokens.portal_id, tokens)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    println!("Connected HubSpot portal {portal_id} through OAuth.");

    let deps = Deps {
        db: db.clone(),
        queue: queue.clone(),
        hubspot: hubspot.clone(),
    };
    let monitor = register_all(
        Monitor::new(),
        &queue,
        &deps,
        "demo",
        settings.worker_concurrency,
    );
    let workers = tokio::spawn(async move {
        let _ = monitor.run().await;
    });
    let pipeline_started = Instant::now();
    queue
        .enqueue(
            |run_id| InitialSync { run_id, portal_id },
            EnqueueOptions::default(),
        )
        .await?;

    let mut last_line = String::new();
    loop {
        let runs = job_runs::Entity::find()
            .filter(job_runs::Column::PortalId.eq(portal_id))
            .all(&db)
            .await?;
        let line = progress_line(&runs);
        if !line.is_empty() && line != last_line {
            println!(
                "  {:>5.1} s  {line}",
                pipeline_started.elapsed().as_secs_f64()
            );
            last_line = line;
        }
        if let Some(failed) = runs
            .iter()
            .find(|r| matches!(r.status, JobStatus::Failed | JobStatus::Dead))
        {
            anyhow::bail!(
                "{:?} failed: {}",
                failed.job_type,
                failed.last_error.clone().unwrap_or_default()
            );
        }
        if runs.iter().all(|r| r.status.is_terminal())
            && runs.iter().any(|r| r.job_type == JobType::TrainModel)
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let pipeline_s = pipeline_started.elapsed().as_secs_f64();
    workers.abort();
    summary(&db, &hubspot, &sim, portal_id, pipeline_s, started).await
}

/// One line for everything running: per job type and phase, done/total, rate and ETA.
fn progress_line(runs: &[job_runs::Model]) -> String {
    let mut parts: std::collections::BTreeMap<String, (i64, i64, f64, f64)> = Default::default();
    for run in runs.iter().filter(|r| r.status == JobStatus::Running) {
        let key = format!(
            "{:?} {}",
            run.job_type,
            run.phase.clone().unwrap_or_default()
        );
        let entry = parts.entry(key).or_default();
        entry.0 += run.done;
        entry.1 += run.total.unwrap_or(0);
        entry.2 += run.rate.unwrap_or(0.0);
        entry.3 = entry.3.max(run.eta_seconds.unwrap_or(0.0));
    }
    parts
        .into_iter()
        .map(|(name, (done, total, rate, eta))| {
            let total = if total > 0 {
                format!("/{total}")
            } else {
                String::new()
            };
            let rate = if rate > 0.0 {
                format!(" at {rate:.0}/s")
            } else {
                String::new()
            };
            let eta = if eta > 0.0 {
                format!(", ETA {eta:.0} s")
            } else {
                String::new()
            };
            format!("{name}: {done}{total}{rate}{eta}")
        })
        .collect::<Vec<_>>()
        .join(" | ")
}

async fn summary(
    db: &sea_orm::DatabaseConnection,
    hubspot: &HubSpotClient,
    sim: &hubspot_sim::RunningSimulator,
    portal_id: i64,
    pipeline_s: f64,
    started: Instant,
) -> anyhow::Result<()> {
    let stats = sim.stats();
    let requests: u64 = stats.portals.values().map(|p| p.requests).sum();
    let rate_limited: u64 = stats.portals.values().map(|p| p.rate_limited).sum();
    let rows = scores::Entity::find()
        .filter(scores::Column::PortalId.eq(portal_id))
        .all(db)
        .await?;
    let scored: Vec<&scores::Model> = rows.iter().filter(|r| r.score.is_some()).collect();
    let written = rows.iter().filter(|r| r.written_at.is_some()).count();
    let portal = portals::Entity::find_by_id(portal_id).one(db).await?;
    println!();
    println!(
        "Done in {pipeline_s:.1} s (whole demo {:.1} s).",
        started.elapsed().as_secs_f64()
    );
    println!(
        "HubSpot requests: {requests}, 429s: {rate_limited}; budget floor {:.1} s (requests ÷ 11/s), ratio {:.2}.",
        requests as f64 / ALLOWED_PER_SECOND,
        pipeline_s / (requests as f64 / ALLOWED_PER_SECOND)
    );
    println!(
        "Contacts: {}; scored {}; not scorable {}; written back {written}.",
        rows.len(),
        scored.len(),
        rows.len() - scored.len()
    );
    if let Some(portal) = portal.filter(|p| p.status != PortalStatus::Ready) {
        println!(
            "Portal status: {:?} ({})",
            portal.status,
            portal.status_reason.unwrap_or_default()
        );
    }
    let mut grades = std::collections::BTreeMap::new();
    for row in &scored {
        *grades
            .entry(row.grade.clone().unwrap_or_default())
            .or_insert(0usize) += 1;
    }
    println!(
        "Grades: {}",
        grades
            .iter()
            .map(|(g, n)| format!("{g} {n}"))
            .collect::<Vec<_>>()
            .join(" · ")
    );
    let mut hottest: Vec<&&scores::Model> = scored.iter().collect();
    hottest.sort_by_key(|r| {
        (
            std::cmp::Reverse(r.raw_score.map(|s| (s * 1e6) as i64)),
            r.contact_id,
        )
    });
    let ids: Vec<String> = hottest
        .iter()
        .take(10)
        .map(|r| r.contact_id.to_string())
        .collect();
    if ids.is_empty() {
        return Ok(());
    }
    let shown = hubspot
        .portal(portal_id as u64, hubspot::Lane::Realtime)
        .batch_read(
            ObjectType::Contacts,
            &ids,
            &[
                "firstname",
                "lastname",
                "jobtitle",
                "conturs_score",
                "conturs_grade",
                "conturs_explanation",
            ]
            .map(str::to_owned),
        )
        .await?;
    println!("\nThe ten hottest leads, as they now read in HubSpot:");
    for id in &ids {
        let Some(contact) = shown.objects.iter().find(|c| &c.id == id) else {
            continue;
        };
        let get = |name: &str| contact.property(name).unwrap_or("");
        println!(
            "\n  {} {} — {} — score {} ({})",
            get("firstname"),
            get("lastname"),
            get("jobtitle"),
            get("conturs_score"),
            get("conturs_grade")
        );
        for line in get("conturs_explanation").lines() {
            println!("    {line}");
        }
    }
    Ok(())
}
