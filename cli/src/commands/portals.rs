//! `conturs portals [ID]`: every connected portal (`GET /api/portals`), or one with its grade
//! distribution, latest model and HubSpot budget use (`GET /api/portals/{id}`).

use entity::portals;
use serde::{Deserialize, Serialize};

use crate::api_client::{ApiArgs, ApiClient, block_on};
use crate::commands::jobs::{snake, when};
use crate::table::{Table, or_dash};

/// `conturs portals`
#[derive(clap::Args)]
pub struct PortalsArgs {
    /// Show this portal (HubSpot hub id) in detail instead of listing all.
    pub id: Option<i64>,
    #[command(flatten)]
    pub api: ApiArgs,
}

#[derive(Deserialize)]
struct PortalList {
    portals: Vec<portals::Model>,
}

/// `GET /api/portals/{id}`; the parts not shown in the table stay JSON.
#[derive(Deserialize, Serialize)]
struct PortalDetail {
    portal: portals::Model,
    grades: std::collections::BTreeMap<String, i64>,
    model: Option<serde_json::Value>,
    budget: serde_json::Value,
}

pub fn run(args: &PortalsArgs) -> anyhow::Result<()> {
    let client = ApiClient::new(&args.api)?;
    block_on(async {
        match args.id {
            None => {
                let list: PortalList = client.get("/api/portals").await?;
                if args.api.json {
                    println!("{}", serde_json::to_string_pretty(&list.portals)?);
                    return Ok(());
                }
                let mut table = Table::new(&[
                    "PORTAL",
                    "STATUS",
                    "MODEL",
                    "CONNECTED",
                    "LAST FULL SYNC",
                    "LAST INCREMENTAL",
                ]);
                for p in &list.portals {
                    table.row(vec![
                        p.id.to_string(),
                        snake(&p.status),
                        or_dash(p.active_model_version.map(|v| format!("v{v}"))),
                        when(&p.connected_at),
                        or_dash(p.last_full_sync_at.as_ref().map(when)),
                        or_dash(p.last_incremental_sync_at.as_ref().map(when)),
                    ]);
                }
                if table.is_empty() {
                    println!("No portals connected.");
                } else {
                    println!("{}", table.render());
                }
            }
            Some(id) => {
                let detail: serde_json::Value = client.get(&format!("/api/portals/{id}")).await?;
                if args.api.json {
                    println!("{}", serde_json::to_string_pretty(&detail)?);
                    return Ok(());
                }
                let detail: PortalDetail = serde_json::from_value(detail)?;
                print_detail(&detail);
            }
        }
        Ok(())
    })
}

fn print_detail(detail: &PortalDetail) {
    let p = &detail.portal;
    println!("Portal {}: {}", p.id, snake(&p.status));
    if let Some(reason) = &p.status_reason {
        println!("  reason:            {reason}");
    }
    println!("  connected:         {}", when(&p.connected_at));
    println!(
        "  last full sync:    {}",
        or_dash(p.last_full_sync_at.as_ref().map(when))
    );
    println!(
        "  last incremental:  {}",
        or_dash(p.last_incremental_sync_at.as_ref().map(when))
    );
    let grades: Vec<String> = detail
        .grades
        .iter()
        .map(|(grade, n)| format!("{grade} {n}"))
        .collect();
    println!(
        "  grades:            {}",
        if grades.is_empty() {
            "—".to_owned()
        } else {
            grades.join(" · ")
        }
    );
    match &detail.model {
        Some(model) => {
            let metric = |name: &str| {
                model["metrics"][name]
                    .as_f64()
                    .map(|v| format!("{v:.3}"))
                    .unwrap_or_else(|| "—".to_owned())
            };
            println!(
                "  model:             v{} {} ({}), trained {}; {} positives, {} negatives; AUC {}, top-decile lift {}",
                model["version"],
                model["algorithm"].as_str().unwrap_or("?"),
                model["status"].as_str().unwrap_or("?"),
                model["trained_at"].as_str().unwrap_or("?"),
                model["positives"],
                model["negatives"],
                metric("auc"),
                metric("lift_top_decile"),
            );
        }
        None => println!("  model:             — (not trained yet)"),
    }
    let b = &detail.budget;
    println!(
        "  HubSpot budget:    {} of {} requests in the last {} s window (peak {} this hour); last hour {} requests, {} × 429, {} × 5xx",
        b["last_window_requests"],
        b["limit_per_window"],
        b["window_seconds"],
        b["peak_window_requests_last_hour"],
        b["last_hour"]["requests"],
        b["last_hour"]["responses_429"],
        b["last_hour"]["responses_5xx"],
    );
}
