//! `conturs demo`: the main job end to end on one machine. Starts the HubSpot simulator with a
//! seeded portal, the real API (board included) and the real workers over one database and
//! queue (embedded SQLite, or Postgres/Redis when their URLs are set), connects the portal
//! through the API's OAuth flow, follows InitialSync → TrainModel → scoring → WriteBack phase by
//! phase, and prints what happened: time against the request-budget floor, model quality
//! against the simulator's ground truth, grades, and the hottest leads as HubSpot now shows
//! them. `--webhook-burst N` then changes N contacts in HubSpot and shows their new scores
//! arriving; `--keep-running` leaves everything up for the board.

mod burst;
mod progress;
mod quality;
mod report;

use std::collections::HashMap;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use apalis::prelude::Monitor;
use chrono::Utc;
use entity::{JobStatus, JobType, job_events, job_runs};
use hubspot_sim::{SimConfig, Simulator};
use jobs::handlers::{Deps, register_all};
use jobs::{Ledger, Queue, QueueBackend, QueueSettings};
use platform::config::QueueBackend as ConfiguredQueue;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
use secrecy::ExposeSecret as _;
use tokio::sync::oneshot;

const CLIENT_ID: &str = "conturs-demo-client";
const CLIENT_SECRET: &str = "conturs-demo-secret";
/// HubSpot's limit for OAuth apps: 110 requests per 10 s.
pub const ALLOWED_PER_SECOND: f64 = 11.0;
/// The pipeline gives up after this long without finishing.
const PIPELINE_TIMEOUT: Duration = Duration::from_secs(3_600);

/// `conturs demo`
#[derive(clap::Args)]
pub struct DemoArgs {
    /// Contacts in the simulated portal.
    #[arg(long, default_value_t = 10_000, value_parser = clap::value_parser!(u64).range(100..=1_000_000))]
    pub contacts: u64,
    /// Seed of the simulated portal (same seed, same portal).
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Print the summary as one JSON object on stdout (progress goes to stderr).
    #[arg(long)]
    pub json: bool,
    /// After the summary, keep the simulator, API, board and workers running and print the
    /// board's URL and admin token (Ctrl-C ends).
    #[arg(long)]
    pub keep_running: bool,
    /// After the pipeline, change N contacts' job titles in HubSpot (signed webhooks to the
    /// API) and show their new scores arriving, with the latency to the write-back.
    #[arg(long, value_name = "N", default_value_t = 0, value_parser = clap::value_parser!(u64).range(0..=1_000))]
    pub webhook_burst: u64,
    /// Port of the API and board (0: any free port).
    #[arg(long, default_value_t = 0)]
    pub port: u16,
}

pub fn run(args: &DemoArgs) -> anyhow::Result<()> {
    platform::tls::install_crypto_provider();
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?
        .block_on(demo(args))
}

/// Status text: on stdout, or on stderr when stdout carries the JSON summary.
#[derive(Clone, Copy)]
pub struct Say {
    json: bool,
}

impl Say {
    pub fn line(&self, text: impl AsRef<str>) {
        if self.json {
            eprintln!("{}", text.as_ref());
        } else {
            println!("{}", text.as_ref());
        }
    }
}

/// The settings every part of the demo shares: the process environment (DATABASE_URL,
/// REDIS_URL, …) with HubSpot pointed at the simulator, development mode, an admin token
/// (CONTURS_ADMIN_TOKEN, or a fresh one) and a private queue namespace.
fn demo_settings(sim_url: &str, database_url: &str) -> anyhow::Result<platform::Settings> {
    let mut vars: HashMap<String, String> = std::env::vars().collect();
    vars.remove("DYNO");
    let token = vars
        .get("CONTURS_ADMIN_TOKEN")
        .filter(|t| t.trim().len() >= 16)
        .cloned()
        .unwrap_or_else(|| format!("demo-{}", uuid::Uuid::new_v4().simple()));
    for (name, value) in [
        ("CONTURS_ENV", "development".to_owned()),
        ("DATABASE_URL", database_url.to_owned()),
        ("CONTURS_ADMIN_TOKEN", token),
        ("HUBSPOT_BASE_URL", sim_url.to_owned()),
        ("HUBSPOT_CLIENT_ID", CLIENT_ID.to_owned()),
        ("HUBSPOT_CLIENT_SECRET", CLIENT_SECRET.to_owned()),
        (
            "CONTURS_QUEUE_NAMESPACE",
            format!("conturs-demo-{}", uuid::Uuid::new_v4().simple()),
        ),
    ] {
        vars.insert(name.to_owned(), value);
    }
    Ok(platform::Settings::from_vars(&vars)?)
}

/// The running API: its address, and the sender that stops it.
struct RunningApi {
    url: String,
    _stop: oneshot::Sender<()>,
}

async fn start_api(
    settings: &platform::Settings,
    db: &sea_orm::DatabaseConnection,
    queue: &Queue,
    port: u16,
) -> anyhow::Result<RunningApi> {
    let state = api::AppState::new(settings, db.clone(), queue.clone()).await?;
    let app = api::Application::build_with(port, state)
        .await
        .with_context(|| format!("binding the API to port {port}"))?;
    let url = format!("http://127.0.0.1:{}", app.port());
    let (stop, stopped) = oneshot::channel::<()>();
    tokio::spawn(app.run_until(async move {
        let _ = stopped.await;
    }));
    Ok(RunningApi { url, _stop: stop })
}

/// The OAuth flow a person would click through: the API's install link → HubSpot's consent
/// (the simulator approves at once) → the API's callback, which exchanges the code, seals the
/// tokens, records the portal and queues its InitialSync.
async fn connect_through_oauth(api_url: &str) -> anyhow::Result<()> {
    hubspot_sim::consent::click_through_install(
        &format!("{api_url}/oauth/hubspot/install"),
        api_url,
    )
    .await
    .context("connecting the portal through OAuth")
}

async fn demo(args: &DemoArgs) -> anyhow::Result<()> {
    let say = Say { json: args.json };
    let started = Instant::now();
    say.line(format!(
        "Starting a simulated HubSpot portal of {} contacts (seed {})…",
        args.contacts, args.seed
    ));
    let mut sim_config = SimConfig::new(CLIENT_ID, CLIENT_SECRET);
    sim_config.contacts = usize::try_from(args.contacts)?;
    sim_config.seed = args.seed;
    let sim = Simulator::start(sim_config).await?;

    // The embedded default keeps its database in a temporary directory, so every demo starts
    // fresh; DATABASE_URL (SQLite or Postgres) is used as given.
    let temp = tempfile::tempdir()?;
    let database_url = match std::env::var("DATABASE_URL") {
        Ok(url) if !url.trim().is_empty() => url,
        _ => format!("sqlite://{}/conturs.db?mode=rwc", temp.path().display()),
    };
    let settings = demo_settings(&sim.base_url(), &database_url)?;
    let outcome = run_with(args, say, started, &sim, &settings, &database_url).await;
    // The demo's queue keys (a namespace of its own) go with it; never a FLUSH.
    if let ConfiguredQueue::Redis(url) = &settings.queue
        && let Err(error) =
            crate::bench::cleanup::delete_namespace(url.expose_secret(), &settings.queue_namespace)
                .await
    {
        eprintln!(
            "warning: could not delete the demo's Redis keys ({}*): {error:#}",
            settings.queue_namespace
        );
    }
    sim.shutdown().await;
    outcome
}

/// Everything after the simulator and the settings: database, queue, API, workers, the
/// pipeline, the summary, the burst, and waiting for Ctrl-C with `--keep-running`.
async fn run_with(
    args: &DemoArgs,
    say: Say,
    started: Instant,
    sim: &hubspot_sim::RunningSimulator,
    settings: &platform::Settings,
    database_url: &str,
) -> anyhow::Result<()> {
    let portal_id = i64::try_from(sim.portal_id())?;
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
            namespace: settings.queue_namespace.clone(),
            ..QueueSettings::default()
        },
        Ledger::new(db.clone()),
    );
    let api = start_api(settings, &db, &queue, args.port).await?;
    say.line(format!(
        "API and board at {} ({}; queue {}).",
        api.url,
        if database_url.starts_with("postgres") {
            "Postgres"
        } else {
            "SQLite"
        },
        match settings.queue {
            ConfiguredQueue::Redis(_) => "Redis",
            ConfiguredQueue::Embedded => "embedded",
        }
    ));

    let deps = Deps::from_settings(settings, queue.clone()).await?;
    let worker_name = worker::process_name("demo");
    let monitor = register_all(
        Monitor::new(),
        &queue,
        &deps,
        &worker_name,
        settings.worker_concurrency,
    );
    let workers = tokio::spawn(async move {
        let _ = monitor.run().await;
    });
    // What a worker dyno runs beside its jobs: the reconciler, HubSpot usage written down
    // every 5 s (the board's budget), and its presence (the board's workers table).
    let maintenance = worker::spawn_maintenance(
        queue.clone(),
        deps.hubspot.usage().clone(),
        jobs::presence::WorkerIdentity::current(worker_name, settings.worker_concurrency),
        worker::retention_policy(settings),
    );

    let since = Utc::now() - chrono::Duration::seconds(1);
    let pipeline_started = Instant::now();
    connect_through_oauth(&api.url).await?;
    say.line(format!(
        "Connected HubSpot portal {portal_id} through OAuth; its InitialSync is queued."
    ));

    let mut display = progress::Display::new(args.json);
    let outcome = follow_pipeline(&db, portal_id, since, &mut display).await;
    display.clear();
    outcome?;
    let wall_s = pipeline_started.elapsed().as_secs_f64();

    let mut summary = report::collect(&db, &deps.hubspot, sim, portal_id, wall_s).await?;
    if args.webhook_burst > 0 {
        let count = usize::try_from(args.webhook_burst)?;
        summary.webhook_burst = Some(burst::run(sim, &db, portal_id, &api.url, count, say).await?);
    }
    summary.demo_s = started.elapsed().as_secs_f64();
    if args.keep_running {
        summary.api_url = Some(api.url.clone());
        summary.board_url = Some(format!("{}/board", api.url));
    }
    if args.json {
        println!("{}", serde_json::to_string(&summary)?);
    } else {
        report::print(&summary);
    }
    if args.keep_running {
        say.line(format!(
            "\nEverything keeps running. Board: {}/board — sign in with the admin token {}\nAPI: {}/api (Bearer token), e.g. CONTURS_API_URL={} CONTURS_ADMIN_TOKEN={} conturs portals\nCtrl-C ends.",
            api.url,
            settings.admin_token.expose_secret(),
            api.url,
            api.url,
            settings.admin_token.expose_secret(),
        ));
        tokio::signal::ctrl_c().await?;
    }
    workers.abort();
    maintenance.abort();
    drop(api);
    Ok(())
}

/// Polls the ledger until every run of the portal's pipeline has ended (a TrainModel among
/// them), drawing each phase; fails on a failed or dead run.
async fn follow_pipeline(
    db: &sea_orm::DatabaseConnection,
    portal_id: i64,
    since: chrono::DateTime<Utc>,
    display: &mut progress::Display,
) -> anyhow::Result<()> {
    let deadline = Instant::now() + PIPELINE_TIMEOUT;
    loop {
        let runs = job_runs::Entity::find()
            .filter(job_runs::Column::PortalId.eq(portal_id))
            .filter(job_runs::Column::CreatedAt.gte(since))
            .order_by_asc(job_runs::Column::Id)
            .all(db)
            .await?;
        let events = job_events::Entity::find()
            .filter(job_events::Column::PortalId.eq(portal_id))
            .filter(job_events::Column::Kind.eq("phase"))
            .filter(job_events::Column::At.gte(since))
            .order_by_asc(job_events::Column::Id)
            .all(db)
            .await?;
        display.update(&progress::phases(&runs, &events));
        if let Some(failed) = runs
            .iter()
            .find(|r| matches!(r.status, JobStatus::Failed | JobStatus::Dead))
        {
            anyhow::bail!(
                "{} failed: {}",
                progress::type_name(failed.job_type),
                failed.last_error.clone().unwrap_or_default()
            );
        }
        if !runs.is_empty()
            && runs.iter().all(|r| r.status.is_terminal())
            && runs.iter().any(|r| r.job_type == JobType::TrainModel)
        {
            return Ok(());
        }
        anyhow::ensure!(
            Instant::now() < deadline,
            "the pipeline did not finish within {} s",
            PIPELINE_TIMEOUT.as_secs()
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}
