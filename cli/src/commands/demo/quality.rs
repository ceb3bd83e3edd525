//! How good the demo's scores are against the simulator's hidden ground truth: our scores'
//! AUC against the held-out future outcomes, the true propensity's AUC against the same
//! outcomes (the ceiling), top-decile lift, and the future buyers' rate per grade. Judged, as
//! in `scoring/tests/quality.rs`, over scorable contacts that have a future outcome (contacts
//! of companies that are not customers yet).

use std::collections::BTreeMap;

use entity::scores;
use hubspot_sim::generator::GroundTruth;
use serde::Serialize;

/// Model quality on the demo portal.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Quality {
    /// Our raw scores' AUC against the future outcomes.
    pub auc: Option<f64>,
    /// The true propensity's AUC against the same outcomes: the best any model can do.
    pub auc_ceiling: Option<f64>,
    /// Future-buyer rate in our top 10 % over the overall rate.
    pub lift_top_decile: Option<f64>,
    /// Contacts judged (scorable, with a future outcome) and the future buyers among them.
    pub evaluated: usize,
    pub future_buyers: usize,
    /// Per grade: contacts judged, future buyers, and their rate.
    pub grade_win_rates: BTreeMap<String, GradeRate>,
}

/// One grade's future buyers.
#[derive(Clone, Debug, Default, Serialize)]
pub struct GradeRate {
    pub contacts: usize,
    pub future_buyers: usize,
    pub win_rate: f64,
}

/// Judges `rows` (the portal's scores) against `truth`.
pub fn judge(rows: &[scores::Model], truth: &GroundTruth) -> Quality {
    let mut ours = Vec::new();
    let mut ceiling = Vec::new();
    let mut grades: BTreeMap<String, GradeRate> = BTreeMap::new();
    for row in rows {
        let (Some(raw), Some(grade)) = (row.raw_score, row.grade.as_ref()) else {
            continue;
        };
        let Some(contact) = u64::try_from(row.contact_id)
            .ok()
            .and_then(|id| truth.contact(id))
        else {
            continue;
        };
        let Some(outcome) = contact.future_outcome else {
            continue;
        };
        ours.push((raw, outcome));
        ceiling.push((contact.propensity, outcome));
        let entry = grades.entry(grade.clone()).or_default();
        entry.contacts += 1;
        entry.future_buyers += usize::from(outcome);
    }
    for rate in grades.values_mut() {
        rate.win_rate = rate.future_buyers as f64 / rate.contacts.max(1) as f64;
    }
    let raw: Vec<f64> = ours.iter().map(|(s, _)| *s).collect();
    let outcomes: Vec<bool> = ours.iter().map(|(_, o)| *o).collect();
    Quality {
        auc: hubspot_sim::generator::auc(&ours),
        auc_ceiling: hubspot_sim::generator::auc(&ceiling),
        lift_top_decile: scoring::metrics::lift_at(&raw, &outcomes, 0.1).ok(),
        evaluated: ours.len(),
        future_buyers: outcomes.iter().filter(|o| **o).count(),
        grade_win_rates: grades,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hubspot_sim::generator::{ContactTruth, Department, GroundTruth, Seniority};

    fn truth(rows: &[(u64, f64, Option<bool>)]) -> GroundTruth {
        GroundTruth {
            contacts: rows
                .iter()
                .map(|&(contact_id, propensity, future_outcome)| ContactTruth {
                    contact_id,
                    company_id: Some(1),
                    propensity,
                    is_customer: false,
                    buyer: false,
                    future_outcome,
                    seniority: Seniority::Manager,
                    department: Department::Sales,
                })
                .collect(),
            companies: Vec::new(),
        }
    }

    fn score(contact_id: i64, raw: Option<f64>, grade: &str) -> scores::Model {
        scores::Model {
            portal_id: 1,
            contact_id,
            score: raw.map(|r| (r * 100.0) as i16),
            grade: raw.map(|_| grade.to_owned()),
            raw_score: raw,
            explanation: None,
            top_factors: None,
            unscorable_reason: None,
            model_version: Some(1),
            scored_at: chrono::Utc::now(),
            written_score: None,
            written_grade: None,
            written_explanation: None,
            written_top_factors: None,
            written_at: None,
            writeback_error: None,
        }
    }

    #[test]
    fn judges_only_scorable_contacts_with_a_future_outcome() {
        let truth = truth(&[
            (1, 0.9, Some(true)),
            (2, 0.1, Some(false)),
            (3, 0.5, None),
            (4, 0.8, Some(true)),
        ]);
        let rows = vec![
            score(1, Some(0.2), "D"),
            score(2, Some(0.7), "A"),
            score(3, Some(0.9), "A"),
            score(4, None, ""),
        ];
        let q = judge(&rows, &truth);
        assert_eq!(q.evaluated, 2);
        assert_eq!(q.future_buyers, 1);
        assert_eq!(q.auc, Some(0.0), "the buyer ranked below the non-buyer");
        assert_eq!(q.auc_ceiling, Some(1.0));
        assert_eq!(q.grade_win_rates["D"].win_rate, 1.0);
        assert_eq!(q.grade_win_rates["A"].future_buyers, 0);
    }
}
