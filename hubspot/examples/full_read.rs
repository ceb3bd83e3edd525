//! Benchmark: a full read of a 10,000-contact portal (companies, contacts with their company
//! associations, deals with theirs) against the simulator with HubSpot's real limits
//! (110 requests per rolling 10 s). Reports requests, wall time and the ratio to the floor
//! (requests ÷ allowed rate), and writes them to `hubspot/BENCHMARKS.md`.
//!
//! Run: `cargo run -p hubspot --example full_read` (Redis at CONTURS_TEST_REDIS_URL, default
//! redis://127.0.0.1:6379, is used for the shared-budget run).

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use futures::TryStreamExt;
use hubspot::budget::{BudgetPolicy, Lane, RateBudget, RedisGcra};
use hubspot::crm::ListRequest;
use hubspot::oauth::{InMemoryTokenStore, RefreshCoordination, StateSigner};
use hubspot::{ClientConfig, HubSpotClient, ObjectType, PortalClient};
use hubspot_sim::{SimConfig, Simulator};
use secrecy::SecretString;
use url::Url;

const CONTACTS: usize = 10_000;
const HUBSPOT_LIMIT_PER_10S: f64 = 110.0;

struct Run {
    mode: &'static str,
    requests: u64,
    rate_limited: u64,
    peak_window: usize,
    seconds: f64,
    companies: usize,
    contacts: usize,
    deals: usize,
    contact_links: usize,
    deal_links: usize,
}

fn strings(names: &[&str]) -> Vec<String> {
    names.iter().map(|s| (*s).to_owned()).collect()
}

async fn full_read(portal: &PortalClient) -> anyhow::Result<(usize, usize, usize, usize, usize)> {
    let companies = portal
        .list_all(
            ObjectType::Companies,
            ListRequest {
                properties: strings(&[
                    "name",
                    "domain",
                    "industry",
                    "numberofemployees",
                    "annualrevenue",
                    "country",
                ]),
                ..ListRequest::default()
            },
        )
        .try_fold(0usize, |n, _| async move { Ok(n + 1) });
    let contacts = portal
        .list_all(
            ObjectType::Contacts,
            ListRequest {
                properties: strings(&[
                    "jobtitle",
                    "hs_seniority",
                    "hs_role",
                    "lifecyclestage",
                    "hs_lead_status",
                    "country",
                ]),
                associations: vec![ObjectType::Companies],
                after: None,
            },
        )
        .try_fold((0usize, 0usize), |(n, links), c| async move {
            Ok((n + 1, links + c.associated_ids(ObjectType::Companies).len()))
        });
    let deals = portal
        .list_all(
            ObjectType::Deals,
            ListRequest {
                properties: strings(&[
                    "dealstage",
                    "pipeline",
                    "amount",
                    "closedate",
                    "hs_is_closed_won",
                    "hs_is_closed_lost",
                ]),
                associations: vec![ObjectType::Companies],
                after: None,
            },
        )
        .try_fold((0usize, 0usize), |(n, links), d| async move {
            Ok((n + 1, links + d.associated_ids(ObjectType::Companies).len()))
        });
    let (companies, (contacts, contact_links), (deals, deal_links)) =
        futures::try_join!(companies, contacts, deals)?;
    Ok((companies, contacts, deals, contact_links, deal_links))
}

async fn run(mode: &'static str) -> anyhow::Result<Run> {
    let mut config = SimConfig::new("bench-client", "bench-secret");
    config.contacts = CONTACTS;
    config.seed = 11;
    let sim = Simulator::start(config).await.context("start simulator")?;
    let store = Arc::new(InMemoryTokenStore::new());
    let (budget, coordination) = match mode {
        "local" => (
            RateBudget::local(BudgetPolicy::default())?,
            RefreshCoordination::Local,
        ),
        _ => {
            let url = std::env::var("CONTURS_TEST_REDIS_URL")
                .unwrap_or_else(|_| "redis://127.0.0.1:6379".into());
            let prefix = format!("bench:{}:", uuid::Uuid::new_v4().simple());
            let gcra = RedisGcra::connect(&url, prefix.clone())
                .await
                .with_context(|| format!("Redis at {url} (set CONTURS_TEST_REDIS_URL)"))?;
            let conn =
                redis::aio::ConnectionManager::new(redis::Client::open(url.as_str())?).await?;
            (
                RateBudget::shared(BudgetPolicy::default(), gcra)?,
                RefreshCoordination::Redis { conn, prefix },
            )
        }
    };
    let client = HubSpotClient::new(
        ClientConfig::new(
            Url::parse(&sim.base_url())?,
            "bench-client",
            SecretString::from("bench-secret"),
            Url::parse("http://localhost:9/callback")?,
        ),
        budget,
        store,
        coordination,
    )?;
    // Connect through the real OAuth flow.
    let install = client.install_url(&StateSigner::new(b"bench"), None);
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()?;
    let location = http.get(install).send().await?.headers()["location"]
        .to_str()?
        .to_owned();
    let code = Url::parse(&location)?
        .query_pairs()
        .find(|(k, _)| k == "code")
        .map(|(_, v)| v.into_owned())
        .context("no code")?;
    let portal_id = client.tokens().connect(&code).await?.portal_id;
    let portal = client.portal(portal_id, Lane::Bulk);

    let started = Instant::now();
    let (companies, contacts, deals, contact_links, deal_links) = full_read(&portal).await?;
    let seconds = started.elapsed().as_secs_f64();
    let stats = sim.stats();
    let portal_stats = stats.portals.get(&portal_id).context("no stats")?;
    let run = Run {
        mode,
        requests: portal_stats.requests,
        rate_limited: portal_stats.rate_limited,
        peak_window: portal_stats.peak_window_requests,
        seconds,
        companies,
        contacts,
        deals,
        contact_links,
        deal_links,
    };
    sim.shutdown().await;
    Ok(run)
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let mut runs = Vec::new();
    for mode in ["local", "redis"] {
        let r = run(mode).await?;
        println!(
            "{:>5}: {} requests in {:.2} s; floor {:.2} s; ratio {:.3}; 429s {}; peak {} per 10 s",
            r.mode,
            r.requests,
            r.seconds,
            floor(r.requests),
            r.seconds / floor(r.requests),
            r.rate_limited,
            r.peak_window
        );
        runs.push(r);
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    std::fs::write(
        concat!(env!("CARGO_MANIFEST_DIR"), "/BENCHMARKS.md"),
        report(&runs),
    )?;
    println!("wrote hubspot/BENCHMARKS.md");
    Ok(())
}

/// Seconds HubSpot's limit needs for `requests`, at best.
fn floor(requests: u64) -> f64 {
    requests as f64 / (HUBSPOT_LIMIT_PER_10S / 10.0)
}

fn report(runs: &[Run]) -> String {
    let policy = BudgetPolicy::default();
    let mut out = String::from(
        "# hubspot: full-read benchmark\n\n\
         Written by `cargo run -p hubspot --example full_read` (do not edit by hand).\n\n\
         A full read of a 10,000-contact simulated portal: companies, contacts with their company\n\
         associations (inline, `associations=companies`), deals with theirs; 100 records per page;\n\
         the three streams run concurrently. The simulator enforces HubSpot's real limit for OAuth\n\
         apps (110 requests per rolling 10 s) and counts requests per portal. Floor = requests ÷\n\
         11 per second.\n\n",
    );
    out += &format!(
        "Client budget: {} per {:?} sustained, realtime burst {}, bulk burst {} (at most {} in any\n\
         10 s), i.e. the budget's own floor is {:.3}× HubSpot's.\n\n",
        policy.requests_per_window,
        policy.window,
        policy.realtime_burst,
        policy.bulk_burst,
        policy.worst_case_per_window(),
        (HUBSPOT_LIMIT_PER_10S / 10.0) / policy.sustained_per_second()
    );
    out += "| budget | companies | contacts | deals | contact→company links | deal→company links | requests | wall time (s) | floor (s) | ratio to floor | 429s | peak per 10 s |\n";
    out += "|---|---|---|---|---|---|---|---|---|---|---|---|\n";
    for r in runs {
        out += &format!(
            "| {} | {} | {} | {} | {} | {} | {} | {:.2} | {:.2} | {:.3} | {} | {} |\n",
            r.mode,
            r.companies,
            r.contacts,
            r.deals,
            r.contact_links,
            r.deal_links,
            r.requests,
            r.seconds,
            floor(r.requests),
            r.seconds / floor(r.requests),
            r.rate_limited,
            r.peak_window
        );
    }
    out += "\n`local` = in-process GCRA (embedded mode); `redis` = the shared Redis GCRA with governor in front.\n";
    out
}
