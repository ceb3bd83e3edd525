//! Webhooks (issue 7): A. how fast the API takes HubSpot's signed webhook batches in
//! (latency percentiles, requests/s, events/s, jobs queued), and B. how long a change in
//! HubSpot takes to come back as a new score written to HubSpot, at 50 changes/s while another
//! portal's 10k-contact initial sync runs (DESIGN §8: "p99 a few seconds").
//!
//! `cargo bench -p conturs-tests --bench webhooks [-- OPTIONS]` (`-- --help` lists them) prints
//! the results and writes `tests/BENCHMARKS-webhooks.md`. Needs Postgres and Redis like the
//! tests (`scripts/services.sh`).

// A bench root's modules resolve next to it; these two live in `benches/webhooks/`.
#[path = "webhooks/end_to_end.rs"]
mod end_to_end;
#[path = "webhooks/intake.rs"]
mod intake;

use std::fmt::Write as _;
use std::time::Duration;

use clap::{Parser, ValueEnum};
use conturs_tests::bench::load_average;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Part {
    A,
    B,
    All,
}

/// Webhook intake and end-to-end latency benchmark.
#[derive(Debug, Parser)]
struct Args {
    /// Which part to run.
    #[arg(long, value_enum, default_value_t = Part::All)]
    part: Part,
    /// A: seconds each case sends for.
    #[arg(long, default_value_t = 20)]
    intake_secs: u64,
    /// A: concurrent senders (one keep-alive client).
    #[arg(long, default_value_t = 8)]
    senders: usize,
    /// A: events per batch, one case each (HubSpot sends at most 100).
    #[arg(long, value_delimiter = ',', default_value = "1,100")]
    batches: Vec<usize>,
    /// A: distinct contacts the events cycle through.
    #[arg(long, default_value_t = 10_000)]
    intake_contacts: u64,
    /// B: contacts of the portal whose changes are timed.
    #[arg(long, default_value_t = 2_000)]
    live_contacts: usize,
    /// B: contacts of the portal whose initial sync runs meanwhile.
    #[arg(long, default_value_t = 10_000)]
    sync_contacts: usize,
    /// B: changes per second, one run each (a fresh pipeline per rate).
    #[arg(long, value_delimiter = ',', default_value = "50")]
    rates: Vec<f64>,
    /// B: keep changing at least this many seconds, even if the sync finishes sooner.
    #[arg(long, default_value_t = 60)]
    min_secs: u64,
    /// B: stop changing after this many seconds, whatever the sync does.
    #[arg(long, default_value_t = 1_800)]
    max_secs: u64,
    /// B: a write-back later than this many seconds after its change counts as missing.
    #[arg(long, default_value_t = 60)]
    timeout_secs: u64,
    /// Passed by `cargo bench`; ignored.
    #[arg(long, hide = true)]
    bench: bool,
}

impl Args {
    /// The command that reproduces this run, for the results file.
    fn command(&self) -> String {
        format!(
            "cargo bench -p conturs-tests --bench webhooks -- --part {} --intake-secs {} \
             --senders {} --batches {} --intake-contacts {} --live-contacts {} \
             --sync-contacts {} --rates {} --min-secs {} --max-secs {} --timeout-secs {}",
            format!("{:?}", self.part).to_lowercase(),
            self.intake_secs,
            self.senders,
            self.batches
                .iter()
                .map(usize::to_string)
                .collect::<Vec<_>>()
                .join(","),
            self.intake_contacts,
            self.live_contacts,
            self.sync_contacts,
            self.rates
                .iter()
                .map(f64::to_string)
                .collect::<Vec<_>>()
                .join(","),
            self.min_secs,
            self.max_secs,
            self.timeout_secs,
        )
    }
}

async fn part_a(args: &Args) -> anyhow::Result<String> {
    let load_before = load_average();
    let mut table = String::from(
        "| events per batch | senders | requests | failed | p50 (ms) | p90 (ms) | p99 (ms) | max (ms) | requests/s | events/s | events enqueued / coalesced | ScoreContact runs |\n\
         |---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|\n",
    );
    let mut notes = String::new();
    for &batch in &args.batches {
        let outcome = intake::run(intake::Case {
            batch,
            senders: args.senders,
            duration: Duration::from_secs(args.intake_secs),
            contacts: args.intake_contacts,
        })
        .await?;
        let l = outcome.latency;
        println!(
            "intake, {batch} events per batch: {} requests, p50 {:.2} ms, p99 {:.2} ms, {:.0} requests/s, {:.0} events/s",
            outcome.ok,
            l.p50,
            l.p99,
            outcome.requests_per_s(),
            outcome.events_per_s()
        );
        conturs_tests::bench::record_figures(
            "webhook intake",
            &format!("{batch} events per request, {} senders", args.senders),
            serde_json::json!({
                "p50_ms": l.p50, "p99_ms": l.p99,
                "requests_per_s": outcome.requests_per_s(),
                "events_per_s": outcome.events_per_s(),
                "failed": outcome.failed,
            }),
        )?;
        let _ = writeln!(
            table,
            "| {} | {} | {} | {} | {:.2} | {:.2} | {:.2} | {:.2} | {:.0} | {:.0} | {} / {} | {} |",
            outcome.batch,
            outcome.senders,
            outcome.ok,
            outcome.failed,
            l.p50,
            l.p90,
            l.p99,
            l.max,
            outcome.requests_per_s(),
            outcome.events_per_s(),
            outcome.enqueued,
            outcome.coalesced,
            outcome.runs,
        );
        let _ = writeln!(
            notes,
            "- {batch} per batch: {} events sent and answered 200, {} rows recorded, {} duplicates, \
             {} ignored, {:.1} s of sending; requests answered in each second: {}.",
            outcome.ok * batch as u64,
            outcome.recorded,
            outcome.duplicates,
            outcome.ignored,
            outcome.wall.as_secs_f64(),
            outcome
                .per_second
                .iter()
                .map(u64::to_string)
                .collect::<Vec<_>>()
                .join(" "),
        );
    }
    Ok(format!(
        "## A. Intake: `POST /webhooks/hubspot`\n\n\
         The real API (`api::Application`, Postgres + Redis queue, random port) with one connected \
         portal, in the same process as the load generator: {} tokio tasks on one keep-alive \
         `reqwest` client, each POSTing v3-signed batches back to back for {} s per case. Every \
         event is a `contact.propertyChange` of `jobtitle` with its own `occurredAt`, so none is \
         a duplicate; contacts cycle through {} ids, so a contact comes round again while its \
         first run still waits (no worker runs here) and its later events fold into that run \
         (coalesced). Latency: request sent → whole answer read, for 200 answers; it includes \
         connection set-up for each sender's first request. A fresh database per case.\n\n\
         {table}\n{notes}\n\
         Load average (1/5/15 min) at the start of part A: {load_before}; at its end: {}.\n",
        args.senders,
        args.intake_secs,
        args.intake_contacts,
        load_average(),
    ))
}

#[tokio::main(flavor = "multi_thread")]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let load_at_start = load_average();
    let mut sections = Vec::new();
    if args.part != Part::B {
        sections.push(part_a(&args).await?);
    }
    for &rate in args.rates.iter().filter(|_| args.part != Part::A) {
        sections.push(
            end_to_end::run(&end_to_end::Settings {
                live_contacts: args.live_contacts,
                sync_contacts: args.sync_contacts,
                rate,
                min_duration: Duration::from_secs(args.min_secs),
                max_duration: Duration::from_secs(args.max_secs),
                timeout: Duration::from_secs(args.timeout_secs),
            })
            .await?,
        );
    }
    let out = format!(
        "# Webhooks: intake and change → written back\n\n\
         Written by `{}` (do not edit by hand). {}, everything in one process except Postgres \
         and Redis. The machine has 2 cores shared with other people's builds and \
         benchmarks, so the figures are rough: load average (1/5/15 min) {load_at_start} at the \
         start, {} at the end.\n\n{}",
        args.command(),
        if cfg!(debug_assertions) {
            "Debug build (not `cargo bench`: figures not comparable)"
        } else {
            "Release build"
        },
        load_average(),
        sections.join("\n"),
    );
    print!("{out}");
    let path = conturs_tests::bench::report_path(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/BENCHMARKS-webhooks.md"
    ));
    std::fs::write(&path, out)?;
    println!("wrote {}", path.display());
    Ok(())
}
