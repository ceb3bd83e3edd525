//! Simulator throughput (issue 9): how many CRM list requests per second the HubSpot simulator
//! serves (and so how far it is from being the bottleneck of any benchmark here), with the
//! rate limits lifted. Concurrent clients page through all contacts of a seeded portal with a
//! private-app token, `limit=100`, properties as the sync asks for them.
//!
//! `cargo bench -p conturs-tests --bench simulator [-- --contacts N --clients C --secs S]`.

use std::time::{Duration, Instant};

use clap::Parser;
use hubspot_sim::{SimConfig, Simulator};

/// Simulator throughput benchmark.
#[derive(Debug, Parser)]
struct Args {
    #[arg(long, default_value_t = 10_000)]
    contacts: usize,
    /// Concurrent HTTP clients.
    #[arg(long, default_value_t = 8)]
    clients: usize,
    /// Seconds to send for.
    #[arg(long, default_value_t = 10)]
    secs: u64,
    #[arg(long, hide = true)]
    bench: bool,
}

const TOKEN: &str = "pat-na1-simulator-bench-token";

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let started = Instant::now();
    let mut config = SimConfig::new("sim-bench-client", "sim-bench-secret");
    config.contacts = args.contacts;
    config.seed = 7;
    config.private_app_token = Some(TOKEN.to_owned());
    config.limits.private_app_per_window = u32::MAX / 2;
    config.limits.private_app_daily = u32::MAX / 2;
    let sim = Simulator::start(config).await?;
    let boot_s = started.elapsed().as_secs_f64();
    let base = sim.base_url();
    let deadline = Instant::now() + Duration::from_secs(args.secs);
    let mut tasks = Vec::new();
    for _ in 0..args.clients {
        let base = base.clone();
        tasks.push(tokio::spawn(async move {
            let client = reqwest::Client::new();
            let (mut requests, mut records, mut failed) = (0u64, 0u64, 0u64);
            let mut after: Option<String> = None;
            while Instant::now() < deadline {
                let mut url = format!(
                    "{base}/crm/v3/objects/contacts?limit=100&properties=firstname,lastname,jobtitle,email&associations=companies"
                );
                if let Some(after) = &after {
                    url.push_str(&format!("&after={after}"));
                }
                let response = client.get(&url).bearer_auth(TOKEN).send().await;
                requests += 1;
                let Ok(response) = response else {
                    failed += 1;
                    continue;
                };
                if !response.status().is_success() {
                    failed += 1;
                    continue;
                }
                let body: serde_json::Value = response.json().await.unwrap_or_default();
                records += body["results"].as_array().map_or(0, |r| r.len() as u64);
                after = body["paging"]["next"]["after"].as_str().map(str::to_owned);
            }
            (requests, records, failed)
        }));
    }
    let (mut requests, mut records, mut failed) = (0, 0, 0);
    for task in tasks {
        let (r, n, f) = task.await?;
        requests += r;
        records += n;
        failed += f;
    }
    let secs = args.secs as f64;
    println!(
        "simulator, {} contacts, {} clients: {:.0} requests/s, {:.0} records/s, {failed} failed; portal generated and served in {boot_s:.2} s",
        args.contacts,
        args.clients,
        requests as f64 / secs,
        records as f64 / secs
    );
    anyhow::ensure!(failed == 0, "{failed} requests failed");
    conturs_tests::bench::record_figures(
        "simulator",
        &format!(
            "{} contacts, {} clients, list pages of 100",
            args.contacts, args.clients
        ),
        serde_json::json!({
            "requests_per_s": requests as f64 / secs,
            "records_per_s": records as f64 / secs,
            "start_s": boot_s,
        }),
    )?;
    Ok(())
}
