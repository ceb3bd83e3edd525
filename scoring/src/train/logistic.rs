//! L2-penalised logistic regression through smartcore, on the active columns of encoded rows.
//!
//! smartcore's `LogisticRegression` defaults to no penalty (which gives NaN coefficients on
//! sparse one-hot data) and has no `predict_proba`, so we always pass α > 0, read the
//! coefficients out into a [`LinearModel`] and refuse any non-finite fit.

use smartcore::linalg::basic::arrays::Array;
use smartcore::linalg::basic::matrix::DenseMatrix;
use smartcore::linear::logistic_regression::{LogisticRegression, LogisticRegressionParameters};

use crate::encoder::{EncodedRows, FeatureEncoder};
use crate::linear::LinearModel;

/// Errors fitting the regression.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum FitError {
    #[error("penalty alpha must be a positive finite number, got {0}")]
    InvalidAlpha(f64),
    #[error("training data must contain both classes")]
    OneClass,
    #[error("smartcore failed to fit: {0}")]
    Solver(String),
    #[error("the fit produced non-finite coefficients (alpha {alpha}); refusing to score with it")]
    NonFinite { alpha: f64 },
}

/// Maps the model's active inputs to design-matrix columns.
///
/// smartcore has one α for every coefficient; a field's relative penalty `p` is applied by
/// scaling its one-hot columns by `1/√p` in the design matrix (a coefficient on a column scaled
/// by `s` is penalised as α/s² in the original units) and scaling the fitted coefficient back.
pub struct Design {
    /// Design column of each one-hot column (None when its field is inactive).
    column_slot: Vec<Option<usize>>,
    /// Design-matrix value of each one-hot column when active (`1/√penalty` of its field).
    column_scale: Vec<f64>,
    /// Design column of each continuous slot (None when its field is inactive).
    continuous_slot: Vec<Option<usize>>,
    width: usize,
}

impl Design {
    /// Lays out the active fields' one-hot columns then their continuous values.
    pub fn new(encoder: &FeatureEncoder, active_fields: &[bool]) -> Design {
        let mut column_slot = vec![None; encoder.columns];
        let mut column_scale = vec![1.0; encoder.columns];
        let mut continuous_slot = vec![None; encoder.continuous];
        let mut width = 0;
        for (field, &active) in encoder.fields.iter().zip(active_fields) {
            if !active {
                continue;
            }
            let penalty = field.spec.penalty;
            let scale = if penalty.is_finite() && penalty > 0.0 {
                1.0 / penalty.sqrt()
            } else {
                1.0
            };
            for column in field.first_column..field.first_column + field.width() {
                column_slot[column] = Some(width);
                column_scale[column] = scale;
                width += 1;
            }
        }
        for (field, &active) in encoder.fields.iter().zip(active_fields) {
            if let (true, Some(slot)) = (active, field.continuous_slot()) {
                continuous_slot[slot] = Some(width);
                width += 1;
            }
        }
        Design {
            column_slot,
            column_scale,
            continuous_slot,
            width,
        }
    }

    /// Dense row-major matrix of the selected encoded rows (smartcore has no sparse input).
    fn matrix(&self, rows: &EncodedRows, selected: &[usize]) -> Result<DenseMatrix<f64>, FitError> {
        let mut values = vec![0.0; selected.len() * self.width];
        for (out_row, &row) in selected.iter().enumerate() {
            let base = out_row * self.width;
            for &column in rows.row_columns(row) {
                if let Some(slot) = self.column_slot[column as usize] {
                    values[base + slot] = self.column_scale[column as usize];
                }
            }
            for (slot, &value) in self.continuous_slot.iter().zip(rows.row_values(row)) {
                if let Some(slot) = slot {
                    values[base + slot] = f64::from(value);
                }
            }
        }
        DenseMatrix::new(selected.len(), self.width, values, false)
            .map_err(|error| FitError::Solver(error.to_string()))
    }

    /// Reads fitted coefficients back into encoder space (inactive inputs get weight 0).
    fn to_linear(&self, coefficients: &[f64], intercept: f64) -> LinearModel {
        LinearModel {
            intercept,
            columns: self
                .column_slot
                .iter()
                .zip(&self.column_scale)
                .map(|(slot, scale)| slot.map_or(0.0, |s| coefficients[s] * scale))
                .collect(),
            continuous: self
                .continuous_slot
                .iter()
                .map(|slot| slot.map_or(0.0, |s| coefficients[s]))
                .collect(),
        }
    }
}

/// Fits `positive` against the rest on the selected rows with penalty `alpha`.
pub fn fit_logistic(
    design: &Design,
    rows: &EncodedRows,
    selected: &[usize],
    positive: &[bool],
    alpha: f64,
) -> Result<LinearModel, FitError> {
    if !(alpha.is_finite() && alpha > 0.0) {
        return Err(FitError::InvalidAlpha(alpha));
    }
    let targets: Vec<i32> = selected
        .iter()
        .map(|&row| i32::from(positive[row]))
        .collect();
    if targets.iter().all(|t| *t == 1) || targets.iter().all(|t| *t == 0) {
        return Err(FitError::OneClass);
    }
    let x = design.matrix(rows, selected)?;
    let parameters = LogisticRegressionParameters::default().with_alpha(alpha);
    let fitted = LogisticRegression::fit(&x, &targets, parameters)
        .map_err(|error| FitError::Solver(error.to_string()))?;
    let coefficients: Vec<f64> = fitted.coefficients().iterator(0).copied().collect();
    let intercept = *fitted.intercept().get((0, 0));
    let model = design.to_linear(&coefficients, intercept);
    if model.is_finite() {
        Ok(model)
    } else {
        Err(FitError::NonFinite { alpha })
    }
}
