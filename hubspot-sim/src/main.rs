//! `hubspot-sim`: serve one generated portal on a port, print the base URL and portal id.

use std::net::SocketAddr;
use std::time::Duration;

use anyhow::Context;
use clap::Parser;
use hubspot_sim::{SimConfig, Simulator};

/// HubSpot simulator: HubSpot's API, limits, OAuth and webhooks over a seeded synthetic portal.
#[derive(Parser, Debug)]
#[command(version)]
struct Cli {
    /// Port to listen on (0 = any free port).
    #[arg(long, default_value_t = 0)]
    port: u16,
    /// Address to bind.
    #[arg(long, default_value = "127.0.0.1")]
    host: std::net::IpAddr,
    /// Generator seed.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Contacts in the generated portal.
    #[arg(long, default_value_t = 10_000)]
    contacts: usize,
    #[arg(long)]
    client_id: String,
    #[arg(long)]
    client_secret: String,
    #[arg(long, default_value_t = 1_000_001)]
    app_id: u64,
    /// Static bearer token accepted like a private-app token for the generated portal.
    #[arg(long)]
    private_app_token: Option<String>,
    /// Webhook target; subscribes to creation, deletion and key property changes.
    #[arg(long)]
    webhook_url: Option<String>,
    /// Access-token lifetime in seconds.
    #[arg(long, default_value_t = 1800)]
    token_ttl_secs: u64,
    /// OAuth apps' requests per rolling 10 seconds.
    #[arg(long, default_value_t = 110)]
    rate_limit: u32,
    /// Search indexing lag in milliseconds.
    #[arg(long, default_value_t = 0)]
    search_lag_ms: u64,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    // One process-wide rustls provider, as in every Conturs binary (webhook delivery uses TLS).
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .init();
    let cli = Cli::parse();
    let mut config = SimConfig::new(cli.client_id, cli.client_secret);
    config.bind = SocketAddr::new(cli.host, cli.port);
    config.seed = cli.seed;
    config.contacts = cli.contacts;
    config.app_id = cli.app_id;
    config.private_app_token = cli.private_app_token;
    config.webhook_url = cli.webhook_url;
    config.access_token_ttl = Duration::from_secs(cli.token_ttl_secs);
    config.limits.oauth_per_window = cli.rate_limit;
    config.search_index_lag = Duration::from_millis(cli.search_lag_ms);
    let sim = Simulator::start(config)
        .await
        .context("starting hubspot-sim")?;
    println!("HUBSPOT_BASE_URL={}", sim.base_url());
    println!("PORTAL_ID={}", sim.portal_id());
    tokio::signal::ctrl_c()
        .await
        .context("waiting for Ctrl-C")?;
    sim.shutdown().await;
    Ok(())
}
