//! `migration up|down|status|fresh`: schema changes, run by Heroku's release phase.

use anyhow::Context as _;
use clap::{Parser, Subcommand};
use migration::{Migrator, MigratorTrait};

#[derive(Parser)]
#[command(
    name = "migration",
    about = "Apply or inspect the Conturs database schema"
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Apply pending migrations (the default).
    Up {
        /// Apply at most this many.
        #[arg(short, long)]
        steps: Option<u32>,
    },
    /// Roll back the last migration, or the last N.
    Down {
        #[arg(short, long, default_value_t = 1)]
        steps: u32,
    },
    /// List migrations and whether each is applied.
    Status,
    /// Drop every table and re-apply all migrations (destroys data).
    Fresh,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    platform::tls::install_crypto_provider();
    let cli = Cli::parse();
    let settings = platform::Settings::from_env()?;
    platform::telemetry::init(settings.log_format, &settings.log_filter)?;
    let db = platform::db::connect(&settings.database_url)
        .await
        .context("connecting to DATABASE_URL")?;
    match cli.command.unwrap_or(Command::Up { steps: None }) {
        Command::Up { steps } => Migrator::up(&db, steps).await?,
        Command::Down { steps } => Migrator::down(&db, Some(steps)).await?,
        Command::Status => {
            for migration in Migrator::get_migration_with_status(&db).await? {
                println!("{:<8} {}", migration.status(), migration.name());
            }
        }
        Command::Fresh => Migrator::fresh(&db).await?,
    }
    Ok(())
}
