//! `conturs`: the operator command line for Conturs.
//!
//! One module per subcommand under `commands/`; today `eval` (judge the scoring model on any
//! CSV export). `demo`, `enqueue` and `status` will join it.

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
    /// Cross-validate the ICP scoring model on a CSV (plain or .gz) with a label column.
    Eval(commands::eval::EvalArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Eval(args) => commands::eval::run(&args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}
