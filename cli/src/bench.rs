//! `conturs bench`: measurements an operator can run against their own services.
//!
//! `bench queue` pushes no-op jobs into the Redis at `REDIS_URL` and drains them through the
//! worker stack the real jobs use (ledger outbox, ledger layer, apalis monitor), so an operator
//! can check what their Redis and database sustain; `--bare` adds the same run through a plain
//! apalis-redis worker for comparison.
//!
//! Exit codes: 0 measured; 1 the run failed (a service error, jobs not drained in time);
//! 2 bad arguments or configuration (clap's own code for usage errors, and `REDIS_URL` missing).

mod bare;
pub(crate) mod cleanup;
mod queue;
mod report;
mod setup;
mod watch;

use std::time::Duration;

/// `conturs bench …`
#[derive(clap::Args)]
pub struct BenchArgs {
    #[command(subcommand)]
    command: BenchCommand,
}

#[derive(clap::Subcommand)]
enum BenchCommand {
    /// Push N no-op jobs into the queue at REDIS_URL in bulk and drain them through the real
    /// worker stack; report enqueue and processing jobs/second.
    Queue(QueueArgs),
}

/// Options of `conturs bench queue`.
#[derive(clap::Args)]
pub struct QueueArgs {
    /// No-op jobs to push and then drain.
    #[arg(long, default_value_t = 10_000, value_parser = clap::value_parser!(u64).range(1..=10_000_000))]
    pub jobs: u64,
    /// Jobs the worker runs at once (the real worker's default, CONTURS_WORKER_CONCURRENCY).
    #[arg(long, default_value_t = 8, value_parser = clap::value_parser!(u64).range(1..=1024))]
    pub concurrency: u64,
    /// Also push and drain as many jobs through a bare apalis-redis worker (no ledger, no
    /// layer) on the same Redis, for comparison.
    #[arg(long)]
    pub bare: bool,
    /// Print one JSON object instead of text.
    #[arg(long)]
    pub json: bool,
    /// Fail (exit 1) when a run has not drained within this many seconds.
    #[arg(long, default_value_t = 1_800)]
    pub timeout_secs: u64,
}

impl QueueArgs {
    fn timeout(&self) -> Duration {
        Duration::from_secs(self.timeout_secs)
    }
}

/// The configuration is unusable: the caller must fix the environment (exit code 2).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct ConfigError(String);

pub fn run(args: &BenchArgs) -> anyhow::Result<()> {
    match &args.command {
        BenchCommand::Queue(args) => {
            platform::tls::install_crypto_provider();
            tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .build()?
                .block_on(queue::run(args))
        }
    }
}
