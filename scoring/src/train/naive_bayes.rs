//! Smoothed naive-Bayes log-odds table: one weight per one-hot column.
//!
//! With a few dozen positives, counting "how much more common is this value among customers"
//! ranks better than a fitted regression, and it is linear in the one-hot encoding.

use crate::encoder::{EncodedRows, FeatureEncoder};
use crate::linear::LinearModel;

/// Laplace pseudo-count per column.
const PSEUDO_COUNT: f64 = 1.0;

/// Log-odds weights for the given rows (`positive[i]` for row i); inactive fields get 0.
pub fn fit_log_odds(
    encoder: &FeatureEncoder,
    rows: &EncodedRows,
    positive: &[bool],
    active_fields: &[bool],
) -> LinearModel {
    let mut pos_counts = vec![0.0f64; encoder.columns];
    let mut neg_counts = vec![0.0f64; encoder.columns];
    for (row, &is_positive) in positive.iter().enumerate() {
        let counts = if is_positive {
            &mut pos_counts
        } else {
            &mut neg_counts
        };
        for &column in rows.row_columns(row) {
            counts[column as usize] += 1.0;
        }
    }
    let n_pos = positive.iter().filter(|p| **p).count() as f64;
    let n_neg = positive.len() as f64 - n_pos;
    let mut model = LinearModel::zeros(encoder.columns, encoder.continuous);
    for (field, &active) in encoder.fields.iter().zip(active_fields) {
        if !active {
            continue;
        }
        let width = field.width() as f64;
        for column in field.first_column..field.first_column + field.width() {
            let p = (pos_counts[column] + PSEUDO_COUNT) / (n_pos + PSEUDO_COUNT * width);
            let q = (neg_counts[column] + PSEUDO_COUNT) / (n_neg + PSEUDO_COUNT * width);
            model.columns[column] = (p / q).ln();
        }
    }
    model
}
