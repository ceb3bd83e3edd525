//! Measures the simulator: sustained requests/s under a concurrent load client, and resident
//! memory for generated portals. Appends a Markdown section to the file given by `--out`.

use std::fmt::Write as _;
use std::io::Write as _;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::Context;
use clap::{Parser, Subcommand};
use hubspot_sim::generator::GeneratorConfig;
use hubspot_sim::{SimConfig, Simulator};

/// Builds the i-th request of a workload.
type MakeRequest = Arc<dyn Fn(&reqwest::Client, u64) -> reqwest::RequestBuilder + Send + Sync>;

#[derive(Parser)]
struct Cli {
    #[command(subcommand)]
    command: Command,
    /// Markdown file to append results to.
    #[arg(long, global = true)]
    out: Option<std::path::PathBuf>,
}

#[derive(Subcommand)]
enum Command {
    /// Requests/s with rate limits lifted (what the simulator itself can serve).
    Throughput {
        #[arg(long, default_value_t = 100_000)]
        contacts: usize,
        #[arg(long, default_value_t = 32)]
        concurrency: usize,
        #[arg(long, default_value_t = 10)]
        seconds: u64,
    },
    /// Resident memory after starting a simulator with a portal of this size, and start time.
    Memory {
        #[arg(long)]
        contacts: usize,
    },
    /// Latency of typical searches on a portal of this size (sequential, within the 5/s limit).
    Search {
        #[arg(long)]
        contacts: usize,
    },
    /// Wall time to start (and stop) many small simulators at once, as parallel tests do.
    Startup {
        #[arg(long, default_value_t = 20)]
        simulators: usize,
        #[arg(long, default_value_t = 1_000)]
        contacts: usize,
    },
    /// Time and memory of `generator::generate` alone (the `BTreeMap` records the scoring tests use).
    Generate {
        #[arg(long)]
        contacts: usize,
    },
}

fn rss_mib() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines().find(|l| l.starts_with("VmRSS:")).and_then(|l| {
                l.split_whitespace()
                    .nth(1)
                    .and_then(|kb| kb.parse::<f64>().ok())
            })
        })
        .map_or(f64::NAN, |kb| kb / 1024.0)
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let report = match cli.command {
        Command::Throughput {
            contacts,
            concurrency,
            seconds,
        } => throughput(contacts, concurrency, seconds).await?,
        Command::Memory { contacts } => memory(contacts).await?,
        Command::Generate { contacts } => generate(contacts)?,
        Command::Search { contacts } => search(contacts).await?,
        Command::Startup {
            simulators,
            contacts,
        } => startup(simulators, contacts).await?,
    };
    print!("{report}");
    if let Some(path) = cli.out {
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .context("opening --out")?;
        file.write_all(report.as_bytes())?;
    }
    Ok(())
}

async fn memory(contacts: usize) -> anyhow::Result<String> {
    let before = rss_mib();
    let started = Instant::now();
    let mut config = SimConfig::new("bench", "bench-secret");
    config.contacts = contacts;
    let sim = Simulator::start(config).await.context("starting")?;
    let elapsed = started.elapsed();
    let after = rss_mib();
    let (records, blob_bytes) = {
        let portal = sim.state().portal(sim.portal_id()).context("portal")?;
        let data = portal.read();
        (
            data.contacts.len() + data.companies.len() + data.deals.len(),
            data.contacts.blob_bytes() + data.companies.blob_bytes() + data.deals.blob_bytes(),
        )
    };
    sim.shutdown().await;
    let mut out = String::new();
    writeln!(
        out,
        "| memory | {contacts} contacts | {records} records | start (generate + load) {:.2} s | RSS {:.0} MiB (process before: {:.0} MiB) | property blobs {:.0} MiB |",
        elapsed.as_secs_f64(),
        after,
        before,
        blob_bytes as f64 / 1_048_576.0
    )?;
    Ok(out)
}

async fn throughput(contacts: usize, concurrency: usize, seconds: u64) -> anyhow::Result<String> {
    let mut config = SimConfig::new("bench", "bench-secret");
    config.contacts = contacts;
    config.limits.oauth_per_window = u32::MAX;
    let sim = Simulator::start(config).await.context("starting")?;
    let token = sim.issue_tokens(sim.portal_id())?.access_token;
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(concurrency)
        .build()?;
    let base = sim.base_url();
    let mut lines = String::new();
    let batch_ids: Vec<serde_json::Value> = (0..100)
        .map(|i| serde_json::json!({"id": (hubspot_sim::generator::CONTACT_ID_BASE + i).to_string()}))
        .collect();
    let batch_body = serde_json::json!({"properties": ["email", "jobtitle", "lifecyclestage"], "inputs": batch_ids});
    let workloads: [(&str, MakeRequest); 3] = [
        ("GET one contact", {
            let base = base.clone();
            Arc::new(move |c: &reqwest::Client, i: u64| {
                c.get(format!(
                    "{base}/crm/v3/objects/contacts/{}",
                    hubspot_sim::generator::CONTACT_ID_BASE + i % 1000
                ))
            })
        }),
        ("GET list page (limit=100, 3 properties)", {
            let base = base.clone();
            Arc::new(move |c: &reqwest::Client, _| {
                c.get(format!("{base}/crm/v3/objects/contacts?limit=100&properties=email,jobtitle,lifecyclestage"))
            })
        }),
        ("POST batch/read (100 ids)", {
            let base = base.clone();
            let body = batch_body.clone();
            Arc::new(move |c: &reqwest::Client, _| {
                c.post(format!("{base}/crm/v3/objects/contacts/batch/read"))
                    .json(&body)
            })
        }),
    ];
    for (name, make) in workloads {
        let done = Arc::new(AtomicU64::new(0));
        let failed = Arc::new(AtomicU64::new(0));
        let deadline = Instant::now() + Duration::from_secs(seconds);
        let started = Instant::now();
        let mut workers = Vec::new();
        for w in 0..concurrency {
            let (client, token, make, done, failed) = (
                client.clone(),
                token.clone(),
                make.clone(),
                done.clone(),
                failed.clone(),
            );
            workers.push(tokio::spawn(async move {
                let mut i = w as u64;
                while Instant::now() < deadline {
                    let ok = match make(&client, i).bearer_auth(&token).send().await {
                        Ok(r) => r.status().is_success() && r.bytes().await.is_ok(),
                        Err(_) => false,
                    };
                    if ok {
                        done.fetch_add(1, Ordering::Relaxed)
                    } else {
                        failed.fetch_add(1, Ordering::Relaxed)
                    };
                    i += concurrency as u64;
                }
            }));
        }
        for worker in workers {
            worker.await?;
        }
        let elapsed = started.elapsed().as_secs_f64();
        let ok = done.load(Ordering::Relaxed);
        writeln!(
            lines,
            "| throughput | {name} | {contacts} contacts | {concurrency} concurrent | {ok} ok, {} failed in {elapsed:.1} s | **{:.0} req/s** |",
            failed.load(Ordering::Relaxed),
            ok as f64 / elapsed
        )?;
    }
    let stats = sim.stats();
    writeln!(
        lines,
        "| throughput | total served (stats endpoint) | {} requests | | | |",
        stats.requests
    )?;
    sim.shutdown().await;
    Ok(lines)
}

fn generate(contacts: usize) -> anyhow::Result<String> {
    let before = rss_mib();
    let started = Instant::now();
    let portal = hubspot_sim::generator::generate(&GeneratorConfig::new(1, contacts))?;
    let elapsed = started.elapsed();
    let after = rss_mib();
    let mut out = String::new();
    writeln!(
        out,
        "| generate | {contacts} contacts | {} companies, {} deals | {:.2} s | RSS {:.0} MiB (before: {:.0} MiB) | ceiling AUC {:.3} |",
        portal.companies.len(),
        portal.deals.len(),
        elapsed.as_secs_f64(),
        after,
        before,
        portal.ground_truth.ceiling_auc().unwrap_or(f64::NAN)
    )?;
    Ok(out)
}

async fn search(contacts: usize) -> anyhow::Result<String> {
    let mut config = SimConfig::new("bench", "bench-secret");
    config.contacts = contacts;
    let sim = Simulator::start(config).await.context("starting")?;
    let token = sim.issue_tokens(sim.portal_id())?.access_token;
    let client = reqwest::Client::new();
    let url = format!("{}/crm/v3/objects/contacts/search", sim.base_url());
    let queries = [
        ("no filter, limit 10", serde_json::json!({"limit": 10})),
        (
            "lifecyclestage EQ customer, limit 100",
            serde_json::json!({"filterGroups": [{"filters": [{"propertyName": "lifecyclestage", "operator": "EQ", "value": "customer"}]}], "limit": 100}),
        ),
        (
            "hs_lastmodifieddate GTE 2026-10-01, sorted ascending, limit 200",
            serde_json::json!({
                "filterGroups": [{"filters": [{"propertyName": "hs_lastmodifieddate", "operator": "GTE", "value": "2026-10-01T00:00:00Z"}]}],
                "sorts": [{"propertyName": "hs_lastmodifieddate", "direction": "ASCENDING"}], "limit": 200
            }),
        ),
    ];
    let mut out = String::new();
    for (name, body) in queries {
        tokio::time::sleep(Duration::from_millis(250)).await;
        let started = Instant::now();
        let response = client
            .post(&url)
            .bearer_auth(&token)
            .json(&body)
            .send()
            .await?;
        let status = response.status().as_u16();
        let parsed: serde_json::Value = response.json().await?;
        writeln!(
            out,
            "| search | {contacts} contacts | {name} | status {status} | total {} | {:.0} ms |",
            parsed["total"],
            started.elapsed().as_secs_f64() * 1000.0
        )?;
    }
    sim.shutdown().await;
    Ok(out)
}

async fn startup(simulators: usize, contacts: usize) -> anyhow::Result<String> {
    let started = Instant::now();
    let starts = (0..simulators).map(|i| {
        let mut config = SimConfig::new("bench", "bench-secret");
        config.contacts = contacts;
        config.seed = i as u64;
        Simulator::start(config)
    });
    let running = futures::future::try_join_all(starts).await?;
    let up = started.elapsed();
    let stopping = Instant::now();
    futures::future::join_all(running.into_iter().map(|sim| sim.shutdown())).await;
    let mut out = String::new();
    writeln!(
        out,
        "| startup | {simulators} simulators × {contacts} contacts, started concurrently | all serving after {:.0} ms | all stopped in {:.0} ms | | |",
        up.as_secs_f64() * 1000.0,
        stopping.elapsed().as_secs_f64() * 1000.0
    )?;
    Ok(out)
}
