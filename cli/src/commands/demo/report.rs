//! The demo's summary: gathered once the pipeline has ended, printed as text or as one JSON
//! object (`--json`), whose field names scripts and the CI check rely on.

use std::collections::BTreeMap;

use entity::{portals, scores};
use hubspot::{HubSpotClient, ObjectType};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde::Serialize;

use super::ALLOWED_PER_SECOND;
use super::burst::BurstReport;
use super::quality::{self, Quality};

/// Everything the demo reports.
#[derive(Debug, Serialize)]
pub struct Summary {
    pub portal_id: i64,
    /// `ready` once scored; otherwise why not (e.g. `insufficient_data`).
    pub portal_status: String,
    pub portal_status_reason: Option<String>,
    /// From connecting the portal to the last write-back, seconds.
    pub wall_s: f64,
    /// The whole demo, simulator start to summary (and burst), seconds.
    pub demo_s: f64,
    /// `requests` ÷ the allowed rate (11/s): the fastest the pipeline could possibly be.
    pub floor_s: f64,
    /// `wall_s` ÷ `floor_s`.
    pub floor_ratio: f64,
    pub allowed_per_second: f64,
    /// HubSpot requests the pipeline made, and the 429s it received.
    pub requests: u64,
    pub responses_429: u64,
    pub contacts: usize,
    pub scored: usize,
    pub unscorable: usize,
    pub written_back: usize,
    pub write_back_errors: usize,
    #[serde(flatten)]
    pub quality: Quality,
    pub grades: BTreeMap<String, usize>,
    pub hottest: Vec<Lead>,
    pub webhook_burst: Option<BurstReport>,
    /// Set with `--keep-running`.
    pub api_url: Option<String>,
    pub board_url: Option<String>,
}

/// One of the hottest leads, as HubSpot now shows it.
#[derive(Debug, Serialize)]
pub struct Lead {
    pub contact_id: String,
    pub name: String,
    pub job_title: String,
    pub score: String,
    pub grade: String,
    pub explanation: String,
}

pub async fn collect(
    db: &sea_orm::DatabaseConnection,
    hubspot: &HubSpotClient,
    sim: &hubspot_sim::RunningSimulator,
    portal_id: i64,
    wall_s: f64,
) -> anyhow::Result<Summary> {
    let stats = sim.stats();
    let requests: u64 = stats.portals.values().map(|p| p.requests).sum();
    let responses_429: u64 = stats.portals.values().map(|p| p.rate_limited).sum();
    let rows = scores::Entity::find()
        .filter(scores::Column::PortalId.eq(portal_id))
        .all(db)
        .await?;
    let truth = sim
        .state()
        .portal(sim.portal_id())
        .map(|p| p.read().ground_truth.clone())
        .unwrap_or_default();
    let quality = quality::judge(&rows, &truth);
    let scored: Vec<&scores::Model> = rows.iter().filter(|r| r.score.is_some()).collect();
    let mut grades = BTreeMap::new();
    for row in &scored {
        *grades
            .entry(row.grade.clone().unwrap_or_default())
            .or_insert(0usize) += 1;
    }
    let floor_s = requests as f64 / ALLOWED_PER_SECOND;
    let portal = portals::Entity::find_by_id(portal_id).one(db).await?;
    Ok(Summary {
        portal_id,
        portal_status: portal
            .as_ref()
            .and_then(|p| serde_json::to_value(p.status).ok())
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default(),
        portal_status_reason: portal.and_then(|p| p.status_reason),
        wall_s,
        demo_s: 0.0,
        floor_s,
        floor_ratio: if floor_s > 0.0 { wall_s / floor_s } else { 0.0 },
        allowed_per_second: ALLOWED_PER_SECOND,
        requests,
        responses_429,
        contacts: truth.contacts.len(),
        scored: scored.len(),
        unscorable: rows.len() - scored.len(),
        written_back: rows.iter().filter(|r| r.written_at.is_some()).count(),
        write_back_errors: rows.iter().filter(|r| r.writeback_error.is_some()).count(),
        quality,
        grades,
        hottest: hottest(hubspot, portal_id, &scored).await?,
        webhook_burst: None,
        api_url: None,
        board_url: None,
    })
}

/// The ten best-scored contacts, read back from HubSpot.
async fn hottest(
    hubspot: &HubSpotClient,
    portal_id: i64,
    scored: &[&scores::Model],
) -> anyhow::Result<Vec<Lead>> {
    let mut best: Vec<&scores::Model> = scored.to_vec();
    best.sort_by(|a, b| {
        b.raw_score
            .unwrap_or(0.0)
            .total_cmp(&a.raw_score.unwrap_or(0.0))
            .then(a.contact_id.cmp(&b.contact_id))
    });
    let ids: Vec<String> = best
        .iter()
        .take(10)
        .map(|r| r.contact_id.to_string())
        .collect();
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let shown = hubspot
        .portal(u64::try_from(portal_id)?, hubspot::Lane::Realtime)
        .batch_read(
            ObjectType::Contacts,
            &ids,
            &[
                "firstname",
                "lastname",
                "jobtitle",
                "conturs_score",
                "conturs_grade",
                "conturs_explanation",
            ]
            .map(str::to_owned),
        )
        .await?;
    Ok(ids
        .iter()
        .filter_map(|id| shown.objects.iter().find(|c| &c.id == id))
        .map(|contact| {
            let get = |name: &str| contact.property(name).unwrap_or("").to_owned();
            Lead {
                contact_id: contact.id.clone(),
                name: format!("{} {}", get("firstname"), get("lastname"))
                    .trim()
                    .to_owned(),
                job_title: get("jobtitle"),
                score: get("conturs_score"),
                grade: get("conturs_grade"),
                explanation: get("conturs_explanation"),
            }
        })
        .collect())
}

fn opt(value: Option<f64>) -> String {
    value.map_or_else(|| "—".to_owned(), |v| format!("{v:.3}"))
}

/// The summary as text.
pub fn print(s: &Summary) {
    println!();
    println!(
        "Done in {:.1} s from connecting the portal (whole demo {:.1} s).",
        s.wall_s, s.demo_s
    );
    println!(
        "HubSpot requests: {}, 429s: {}; budget floor {:.1} s (requests ÷ {}/s), ratio {:.2}.",
        s.requests, s.responses_429, s.floor_s, s.allowed_per_second, s.floor_ratio
    );
    println!(
        "Contacts: {}; scored {}; not scorable {}; written back {}{}.",
        s.contacts,
        s.scored,
        s.unscorable,
        s.written_back,
        if s.write_back_errors > 0 {
            format!(" ({} write-back errors)", s.write_back_errors)
        } else {
            String::new()
        }
    );
    if s.portal_status != "ready" {
        println!(
            "Portal status: {}{}",
            s.portal_status,
            s.portal_status_reason
                .as_deref()
                .map(|r| format!(" ({r})"))
                .unwrap_or_default()
        );
    }
    let q = &s.quality;
    println!(
        "Model quality against the simulator's ground truth ({} contacts with a held-out future outcome, {} future buyers):",
        q.evaluated, q.future_buyers
    );
    println!(
        "  AUC {} (ceiling: the true propensity's AUC {}), top-decile lift {}.",
        opt(q.auc),
        opt(q.auc_ceiling),
        q.lift_top_decile
            .map_or_else(|| "—".to_owned(), |l| format!("{l:.2}×"))
    );
    println!(
        "  Future buyers per grade: {}",
        q.grade_win_rates
            .iter()
            .map(|(g, r)| format!(
                "{g} {:.1}% ({}/{})",
                r.win_rate * 100.0,
                r.future_buyers,
                r.contacts
            ))
            .collect::<Vec<_>>()
            .join(" · ")
    );
    println!(
        "Grades: {}",
        s.grades
            .iter()
            .map(|(g, n)| format!("{g} {n}"))
            .collect::<Vec<_>>()
            .join(" · ")
    );
    if !s.hottest.is_empty() {
        println!("\nThe ten hottest leads, as they now read in HubSpot:");
        for lead in &s.hottest {
            println!(
                "\n  {} — {} — score {} ({})",
                lead.name, lead.job_title, lead.score, lead.grade
            );
            for line in lead.explanation.lines() {
                println!("    {line}");
            }
        }
    }
    if let Some(burst) = &s.webhook_burst {
        println!(
            "\nWebhook burst: {} changes; {} new scores written back, {} re-scored unchanged, {} not back within {} s; change → written back p50 {} s, max {} s.",
            burst.changes,
            burst.written,
            burst.unchanged,
            burst.missing,
            burst.timeout_s,
            opt(burst.latency_p50_s),
            opt(burst.latency_max_s),
        );
    }
}
