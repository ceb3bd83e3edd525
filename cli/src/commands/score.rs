//! `conturs score <portal> <contact>`: one contact's score, grade, explanation, top factors and
//! history (`GET /api/portals/{portal}/contacts/{contact}/score`).

use entity::{score_history, scores};
use serde::Deserialize;

use crate::api_client::{ApiArgs, ApiClient, block_on};
use crate::commands::jobs::when;
use crate::table::or_dash;

/// `conturs score`
#[derive(clap::Args)]
pub struct ScoreArgs {
    /// The portal (HubSpot hub) id.
    pub portal: i64,
    /// The HubSpot contact id.
    pub contact: i64,
    #[command(flatten)]
    pub api: ApiArgs,
}

#[derive(Deserialize)]
struct ContactScore {
    score: scores::Model,
    history: Vec<score_history::Model>,
}

pub fn run(args: &ScoreArgs) -> anyhow::Result<()> {
    let client = ApiClient::new(&args.api)?;
    block_on(async {
        let path = format!(
            "/api/portals/{}/contacts/{}/score",
            args.portal, args.contact
        );
        let answer: serde_json::Value = client.get(&path).await?;
        if args.api.json {
            println!("{}", serde_json::to_string_pretty(&answer)?);
            return Ok(());
        }
        let ContactScore { score, history } = serde_json::from_value(answer)?;
        println!("Contact {} in portal {}", score.contact_id, score.portal_id);
        match score.score {
            Some(value) => println!(
                "  score:        {value} ({}), raw {}",
                or_dash(score.grade.as_ref()),
                or_dash(score.raw_score.map(|r| format!("{r:.4}")))
            ),
            None => println!(
                "  score:        not scorable ({})",
                or_dash(score.unscorable_reason.as_ref())
            ),
        }
        println!(
            "  model:        {}; scored {}",
            or_dash(score.model_version.map(|v| format!("v{v}"))),
            when(&score.scored_at)
        );
        println!(
            "  in HubSpot:   {}",
            match (&score.written_at, score.written_score) {
                (Some(at), Some(written)) => format!("{written} written {}", when(at)),
                (Some(at), None) => format!("written {}", when(at)),
                _ => "not written yet".to_owned(),
            }
        );
        if let Some(error) = &score.writeback_error {
            println!("  write-back:   {error}");
        }
        if let Some(explanation) = &score.explanation {
            println!("  explanation:");
            for line in explanation.lines() {
                println!("    {line}");
            }
        }
        if let Some(factors) = score.top_factors.as_ref().and_then(|f| f.as_array()) {
            println!("  top factors:");
            for factor in factors {
                println!("    {}", compact(factor));
            }
        }
        if !history.is_empty() {
            println!("  history:");
            for h in &history {
                println!(
                    "    {}  {} ({}), model v{}",
                    when(&h.scored_at),
                    h.score,
                    h.grade,
                    h.model_version
                );
            }
        }
        Ok(())
    })
}

/// A factor as one line: its string, or its JSON.
fn compact(factor: &serde_json::Value) -> String {
    match factor {
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}
