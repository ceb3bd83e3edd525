//! The scoring function every model reduces to: an intercept plus one weight per active one-hot
//! column plus one weight per continuous value.
//!
//! Logistic regression, the naive-Bayes log-odds table and their blend are all linear in the
//! encoded record, so one representation serves scoring, explanations and serialisation.

use serde::{Deserialize, Serialize};

/// Weights of a linear score over encoded records (logit scale).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LinearModel {
    pub intercept: f64,
    /// One weight per one-hot column.
    pub columns: Vec<f64>,
    /// One weight per continuous slot.
    pub continuous: Vec<f64>,
}

impl LinearModel {
    /// A model that scores everything 0 (used as a neutral start).
    pub fn zeros(columns: usize, continuous: usize) -> Self {
        LinearModel {
            intercept: 0.0,
            columns: vec![0.0; columns],
            continuous: vec![0.0; continuous],
        }
    }

    /// Raw score of one encoded record; indices come from the encoder so they are in range.
    #[inline]
    pub fn score(&self, columns: &[u32], values: &[f32]) -> f64 {
        let mut total = self.intercept;
        for &column in columns {
            total += self.columns[column as usize];
        }
        for (weight, value) in self.continuous.iter().zip(values) {
            total += weight * f64::from(*value);
        }
        total
    }

    /// True when every weight is a finite number (a NaN fit must never produce scores).
    pub fn is_finite(&self) -> bool {
        self.intercept.is_finite()
            && self.columns.iter().all(|w| w.is_finite())
            && self.continuous.iter().all(|w| w.is_finite())
    }

    /// `a·self + b·other`, used to blend two models on a common scale.
    pub fn combine(&self, a: f64, other: &LinearModel, b: f64) -> LinearModel {
        LinearModel {
            intercept: a * self.intercept + b * other.intercept,
            columns: self
                .columns
                .iter()
                .zip(&other.columns)
                .map(|(x, y)| a * x + b * y)
                .collect(),
            continuous: self
                .continuous
                .iter()
                .zip(&other.continuous)
                .map(|(x, y)| a * x + b * y)
                .collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn score_adds_active_columns_and_continuous_terms() {
        let model = LinearModel {
            intercept: 0.5,
            columns: vec![1.0, 2.0, 4.0],
            continuous: vec![0.5],
        };
        assert_eq!(model.score(&[0, 2], &[2.0]), 0.5 + 1.0 + 4.0 + 1.0);
        assert!(model.is_finite());
        let blended = model.combine(0.5, &LinearModel::zeros(3, 1), 1.0);
        assert_eq!(blended.columns, vec![0.5, 1.0, 2.0]);
        let broken = LinearModel {
            intercept: f64::NAN,
            ..model
        };
        assert!(!broken.is_finite());
    }
}
