//! Leakage guard: a field that on its own separates customers almost perfectly is recording the
//! outcome (lifecycle stage "customer", a "won" flag in an export), not predicting it.

use crate::encoder::{EncodedRows, FeatureEncoder};
use crate::metrics::auc;
use crate::train::naive_bayes::fit_log_odds;

/// A field removed from the model, with why.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct DroppedField {
    pub field: String,
    pub reason: String,
}

/// Which fields stay active; dropped ones are listed with their single-field AUC.
pub fn guard_fields(
    encoder: &FeatureEncoder,
    rows: &EncodedRows,
    positive: &[bool],
) -> (Vec<bool>, Vec<DroppedField>) {
    let mut active = vec![true; encoder.fields.len()];
    let mut dropped = Vec::new();
    for (index, field) in encoder.fields.iter().enumerate() {
        if field.spec.sales_process {
            active[index] = false;
            dropped.push(DroppedField {
                field: field.spec.name.clone(),
                reason: "describes the sales process: for closed-won customers its current value records \
                         the sale itself (e.g. lifecycle stage \"customer\", lead status \"OPEN_DEAL\"), \
                         so it is not learned from without property history"
                    .to_string(),
            });
            continue;
        }
        let mut only_this = vec![false; encoder.fields.len()];
        only_this[index] = true;
        let table = fit_log_odds(encoder, rows, positive, &only_this);
        let scores: Vec<f64> = (0..rows.len())
            .map(|row| table.columns[rows.row_columns(row)[index] as usize])
            .collect();
        if let Ok(separation) = auc(&scores, positive)
            && separation >= field.spec.leak_guard_auc
        {
            active[index] = false;
            dropped.push(DroppedField {
                field: field.spec.name.clone(),
                reason: format!(
                    "alone it separates closed-won from other records with AUC {separation:.3} \
                     (≥ {:.2}), so it records the outcome rather than predicting it",
                    field.spec.leak_guard_auc
                ),
            });
        }
    }
    (active, dropped)
}
