//! `conturs enqueue <job> --portal P`: queues a portal job through `POST /api/jobs`, exactly as
//! the board's "trigger a job" does, and prints the new run.

use entity::job_runs;
use serde_json::json;

use crate::api_client::{ApiArgs, ApiClient, block_on};
use crate::commands::jobs::{print_runs, snake};

/// The jobs an operator queues for a whole portal.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum PortalJob {
    /// Read the whole portal again (properties, companies, contacts, deals), then train.
    #[value(alias = "initial_sync")]
    InitialSync,
    /// Train a new model on the synced data, score every contact, write back what changed.
    #[value(alias = "train_model")]
    TrainModel,
    /// Pick up changes since the last sync (what the nightly clock queues).
    #[value(alias = "nightly_resync")]
    NightlyResync,
}

impl PortalJob {
    /// The API's name for it (`initial_sync`, …).
    pub fn api_name(self) -> &'static str {
        match self {
            Self::InitialSync => "initial_sync",
            Self::TrainModel => "train_model",
            Self::NightlyResync => "nightly_resync",
        }
    }
}

/// `conturs enqueue`
#[derive(clap::Args)]
pub struct EnqueueArgs {
    /// Which job.
    #[arg(value_enum)]
    pub job: PortalJob,
    /// The portal (HubSpot hub) id.
    #[arg(long)]
    pub portal: i64,
    #[command(flatten)]
    pub api: ApiArgs,
}

pub fn run(args: &EnqueueArgs) -> anyhow::Result<()> {
    let client = ApiClient::new(&args.api)?;
    block_on(async {
        let run: job_runs::Model = client
            .post(
                "/api/jobs",
                &json!({"type": args.job.api_name(), "portal_id": args.portal}),
            )
            .await?;
        if args.api.json {
            println!("{}", serde_json::to_string_pretty(&run)?);
        } else {
            println!(
                "Queued {} for portal {}: run {} ({}).",
                snake(&run.job_type),
                run.portal_id,
                run.id,
                snake(&run.status)
            );
            print_runs(&[run]);
        }
        Ok(())
    })
}
