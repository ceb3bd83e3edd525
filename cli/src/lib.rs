//! `conturs`: the operator command line for Conturs.
//!
//! One module per subcommand under `commands/`: `demo` (the main job end to end on a simulated
//! portal), `eval` (judge the scoring model on any CSV export), and the operator commands that
//! talk to a running API over HTTP (`enqueue`, `jobs`, `portals`, `score`, through
//! [`api_client`]); `bench` (measure the queue on the operator's Redis) lives in `bench/`.
//! A library so the end-to-end tests can build the very same binary inside their package.

mod api_client;
mod bench;
mod commands;
mod csv_input;
mod error;
mod table;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

pub use error::{CliError, exit_code};

/// Exit codes a script can rely on; shown by `conturs --help`.
const EXIT_CODES: &str = "\
Exit codes:
  0  success
  1  failure: the API answered an error (its code is printed on stderr), is unreachable, or a
     watched job ended without succeeding
  2  usage or configuration error (bad arguments, missing token, invalid URL)
  3  not found (the API answered 404: no such job, portal or score)

The API commands (enqueue, jobs, portals, score) read --api-url / CONTURS_API_URL and
--token / CONTURS_ADMIN_TOKEN; --json prints JSON instead of tables.";

/// The command line.
#[derive(Parser)]
#[command(name = "conturs", version, about = "Conturs operator tools", after_help = EXIT_CODES)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the main job end to end against a simulated HubSpot portal and show the result.
    Demo(commands::demo::DemoArgs),
    /// Cross-validate the ICP scoring model on a CSV (plain or .gz) with a label column.
    Eval(Box<commands::eval::EvalArgs>),
    /// Queue a job for a portal through the API (initial-sync, train-model, nightly-resync).
    Enqueue(commands::enqueue::EnqueueArgs),
    /// List job runs (with filters), show one, or watch one live.
    Jobs(commands::jobs::JobsArgs),
    /// List connected portals, or show one with grades, model and HubSpot budget use.
    Portals(commands::portals::PortalsArgs),
    /// Show one contact's score, explanation, top factors and history.
    Score(commands::score::ScoreArgs),
    /// Benchmarks against your own services (bench queue: no-op jobs through the real stack).
    Bench(bench::BenchArgs),
}

/// Parses the command line, runs the command and maps its outcome to an exit code.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Demo(args) => commands::demo::run(&args),
        Command::Eval(args) => commands::eval::run(&args),
        Command::Enqueue(args) => commands::enqueue::run(&args),
        Command::Jobs(args) => commands::jobs::run(&args),
        Command::Portals(args) => commands::portals::run(&args),
        Command::Score(args) => commands::score::run(&args),
        Command::Bench(args) => bench::run(&args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::from(exit_code(&error))
        }
    }
}
