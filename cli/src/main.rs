//! `conturs`: the operator command line for Conturs.
//!
//! One module per subcommand under `commands/`: `demo` (the main job end to end on a simulated
//! portal) and `eval` (judge the scoring model on any CSV export); `bench` (measure the queue
//! on the operator's Redis) lives in `bench/`.

mod bench;
mod commands;
mod csv_input;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(name = "conturs", version, about = "Conturs operator tools")]
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
    /// Benchmarks against your own services (bench queue: no-op jobs through the real stack).
    Bench(bench::BenchArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Demo(args) => commands::demo::run(&args),
        Command::Eval(args) => commands::eval::run(&args),
        Command::Bench(args) => bench::run(&args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            // A configuration the caller must fix exits 2, like clap's usage errors.
            if error.downcast_ref::<bench::ConfigError>().is_some() {
                ExitCode::from(2)
            } else {
                ExitCode::FAILURE
            }
        }
    }
}
