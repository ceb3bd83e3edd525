//! Training: PU-labelled rows → encoder, linear weights, calibration and explanation tables.
//!
//! Positives are closed-won records (buyers, or a customer's contacts when deals name no
//! contacts); everything else is "not (yet) a customer".
//! Under the PU assumption a labeled-vs-unlabeled classifier ranks like the true propensity, so
//! percentiles need no class-prior estimate. Paths by the number of positive groups (companies):
//! fewer than `min_positive_groups` → no model; below `regression_min_positive_groups` → a blend
//! of a strongly penalised regression and a naive-Bayes table; otherwise logistic regression with
//! α chosen by grouped cross-validation.

pub mod leakage;
pub mod logistic;
pub mod naive_bayes;
pub mod sample;

use std::collections::HashSet;

use serde::{Deserialize, Serialize};

use crate::calibration::{Calibration, CalibrationError, GradeThresholds};
use crate::dataset::{Dataset, Label};
use crate::encoder::{EncodedRows, EncoderConfig, FeatureEncoder};
use crate::linear::LinearModel;
use crate::metrics::auc;
use crate::model::{ColumnInsight, ModelKind, SCHEMA_VERSION, TabularModel, TrainingMetrics};
use leakage::guard_fields;
use logistic::{Design, FitError, fit_logistic};
use naive_bayes::fit_log_odds;
use sample::{choose_training_rows, grouped_stratified_folds};

/// Knobs for training; defaults follow notes/lead-scoring.md.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainConfig {
    /// Fewer positive groups than this → "not enough closed-won data".
    pub min_positive_groups: usize,
    /// From this many positive groups, plain logistic regression with a CV-chosen α.
    pub regression_min_positive_groups: usize,
    /// Cap on rows used for fitting; unlabeled rows are subsampled beyond it.
    pub max_training_rows: usize,
    /// At most this many rows of one group (company) train the model, so big customers do not
    /// outweigh small ones.
    pub max_rows_per_group: usize,
    /// Cap on rows used to choose α by cross-validation.
    pub max_selection_rows: usize,
    /// Candidate penalties (all > 0).
    pub alpha_grid: Vec<f64>,
    /// Penalty for the small-data blend, where cross-validation is too noisy to choose one.
    pub small_data_alpha: f64,
    /// Weight of the naive-Bayes table in the small-data blend (0..=1).
    pub small_data_bayes_weight: f64,
    /// Folds for choosing α.
    pub selection_folds: usize,
    /// Reliable negatives count this many times in the regression (smartcore has no weights).
    pub reliable_negative_copies: usize,
    pub encoder: EncoderConfig,
    pub thresholds: GradeThresholds,
    pub seed: u64,
}

impl Default for TrainConfig {
    fn default() -> Self {
        TrainConfig {
            min_positive_groups: 10,
            regression_min_positive_groups: 30,
            max_training_rows: 12_000,
            max_selection_rows: 4_000,
            max_rows_per_group: 3,
            alpha_grid: vec![3.0, 10.0, 30.0, 100.0],
            small_data_alpha: 100.0,
            small_data_bayes_weight: 0.25,
            selection_folds: 3,
            reliable_negative_copies: 2,
            encoder: EncoderConfig::default(),
            thresholds: GradeThresholds::default(),
            seed: 0x5eed,
        }
    }
}

/// Either a model or the clear reason there is none.
#[derive(Debug, Clone)]
pub enum TrainOutcome {
    Trained(Box<TabularModel>),
    /// Too few closed-won customers to learn a meaningful pattern.
    NotEnoughData(NotEnoughData),
}

/// The "not enough closed-won data" status shown to the customer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct NotEnoughData {
    pub positive_groups: usize,
    pub required: usize,
}

impl std::fmt::Display for NotEnoughData {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "not enough closed-won data: {} closed-won customers, at least {} needed",
            self.positive_groups, self.required
        )
    }
}

/// Errors that stop training (never a silently broken model).
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum TrainError {
    #[error("invalid training configuration: {0}")]
    InvalidConfig(String),
    #[error(transparent)]
    Fit(#[from] FitError),
    #[error("calibration failed: {0}")]
    Calibration(#[from] CalibrationError),
    #[error("every field was dropped by the leakage guard; nothing is left to learn from")]
    NoUsableFields,
}

/// Trains on `train_rows` and calibrates percentiles on `population_rows` (the contacts whose
/// scores the percentiles compare; usually the same rows).
pub fn train(
    dataset: &Dataset,
    train_rows: &[usize],
    population_rows: &[usize],
    config: &TrainConfig,
) -> Result<TrainOutcome, TrainError> {
    validate(config)?;
    let labels = dataset.labels();
    let groups = dataset.groups();
    let positive_groups: HashSet<u64> = train_rows
        .iter()
        .filter(|&&row| labels[row] == Label::Positive)
        .map(|&row| groups[row])
        .collect();
    if positive_groups.len() < config.min_positive_groups {
        return Ok(TrainOutcome::NotEnoughData(NotEnoughData {
            positive_groups: positive_groups.len(),
            required: config.min_positive_groups,
        }));
    }
    let population_rows = if population_rows.is_empty() {
        train_rows
    } else {
        population_rows
    };

    let encoder = FeatureEncoder::fit(dataset, train_rows, &config.encoder);
    let sample = choose_training_rows(
        dataset,
        train_rows,
        config.max_training_rows,
        config.max_rows_per_group,
        config.seed,
    );
    let mut fit_rows: Vec<usize> =
        Vec::with_capacity(sample.len() + sample.reliable_negatives.len());
    fit_rows.extend(&sample.positives);
    fit_rows.extend(&sample.unlabeled);
    fit_rows.extend(&sample.reliable_negatives);
    let encoded = encoder.encode_dataset(dataset, &fit_rows);
    let positive: Vec<bool> = fit_rows
        .iter()
        .map(|&row| labels[row] == Label::Positive)
        .collect();

    let (active, dropped_fields) = guard_fields(&encoder, &encoded, &positive);
    if !active.iter().any(|a| *a) {
        return Err(TrainError::NoUsableFields);
    }
    let design = Design::new(&encoder, &active);
    // Reliable negatives sit at the end of `fit_rows`; repeat them to up-weight them.
    let first_negative = fit_rows.len() - sample.reliable_negatives.len();
    let mut weighted_rows: Vec<usize> = (0..fit_rows.len()).collect();
    for _ in 1..config.reliable_negative_copies.max(1) {
        weighted_rows.extend(first_negative..fit_rows.len());
    }

    let (kind, weights, selection_auc) =
        if positive_groups.len() >= config.regression_min_positive_groups {
            let (alpha, selection_auc) =
                choose_alpha(dataset, &fit_rows, &encoded, &positive, &design, config)?;
            let weights = fit_logistic(&design, &encoded, &weighted_rows, &positive, alpha)?;
            (
                ModelKind::LogisticRegression { alpha },
                weights,
                selection_auc,
            )
        } else {
            let alpha = config.small_data_alpha;
            let regression = fit_logistic(&design, &encoded, &weighted_rows, &positive, alpha)?;
            let bayes = fit_log_odds(&encoder, &encoded, &positive, &active);
            let bayes_weight = config.small_data_bayes_weight;
            let weights = blend(&regression, &bayes, &encoded, bayes_weight);
            (
                ModelKind::Blend {
                    alpha,
                    bayes_weight,
                },
                weights,
                None,
            )
        };
    if !weights.is_finite() {
        return Err(FitError::NonFinite { alpha: 0.0 }.into());
    }

    let population = encoder.encode_dataset(dataset, population_rows);
    let raw: Vec<f64> = (0..population.len())
        .map(|row| weights.score(population.row_columns(row), population.row_values(row)))
        .collect();
    let calibration = Calibration::from_scores(raw)?;
    let baselines = field_baselines(&encoder, &weights, &population);
    let insights = column_insights(dataset, &encoder, &population, population_rows);

    let metrics = TrainingMetrics {
        rows: train_rows.len(),
        training_rows: fit_rows.len(),
        positives: train_rows
            .iter()
            .filter(|&&row| labels[row] == Label::Positive)
            .count(),
        positive_groups: positive_groups.len(),
        reliable_negatives: train_rows
            .iter()
            .filter(|&&row| labels[row] == Label::ReliableNegative)
            .count(),
        population: population_rows.len(),
        selection_auc,
    };
    Ok(TrainOutcome::Trained(Box::new(TabularModel {
        schema_version: SCHEMA_VERSION,
        kind,
        encoder,
        weights,
        calibration,
        baselines,
        insights,
        thresholds: config.thresholds,
        metrics,
        dropped_fields,
    })))
}

fn validate(config: &TrainConfig) -> Result<(), TrainError> {
    let bad_alpha = |a: &f64| !(a.is_finite() && *a > 0.0);
    if config.alpha_grid.is_empty() || config.alpha_grid.iter().any(bad_alpha) {
        return Err(TrainError::InvalidConfig(
            "alpha_grid must be non-empty with every alpha > 0".into(),
        ));
    }
    if bad_alpha(&config.small_data_alpha) {
        return Err(TrainError::InvalidConfig(
            "small_data_alpha must be > 0".into(),
        ));
    }
    if !(0.0..=1.0).contains(&config.small_data_bayes_weight) {
        return Err(TrainError::InvalidConfig(
            "small_data_bayes_weight must be within 0..=1".into(),
        ));
    }
    if config.min_positive_groups == 0 || config.selection_folds < 2 || config.max_training_rows < 2
    {
        return Err(TrainError::InvalidConfig(
            "min_positive_groups ≥ 1, selection_folds ≥ 2 and max_training_rows ≥ 2 are required"
                .into(),
        ));
    }
    Ok(())
}

/// Picks α by held-out log-loss over grouped, stratified folds with the one-standard-error
/// rule: the largest α whose mean log-loss is within one standard error of the best. Log-loss
/// is smoother than AUC between neighbouring penalties, and with few customers the best fold
/// score is often a lucky, too-weak penalty; the rule prefers the simpler model the data
/// cannot tell apart from the best. Returns α and its mean held-out AUC.
fn choose_alpha(
    dataset: &Dataset,
    fit_rows: &[usize],
    encoded: &EncodedRows,
    positive: &[bool],
    design: &Design,
    config: &TrainConfig,
) -> Result<(f64, Option<f64>), TrainError> {
    if config.alpha_grid.len() == 1 {
        return Ok((config.alpha_grid[0], None));
    }
    // Positions into `encoded` (not dataset rows): an even, label-stratified subsample keeps
    // the selection fits cheap on big portals.
    let positions = stratified_subsample(positive, config.max_selection_rows);
    let dataset_rows: Vec<usize> = positions.iter().map(|&i| fit_rows[i]).collect();
    let folds =
        grouped_stratified_folds(dataset, &dataset_rows, config.selection_folds, config.seed);
    let mut results: Vec<AlphaResult> = Vec::new();
    for &alpha in &config.alpha_grid {
        let mut losses: Vec<f64> = Vec::with_capacity(config.selection_folds);
        let mut aucs: Vec<f64> = Vec::with_capacity(config.selection_folds);
        for fold in 0..config.selection_folds {
            let mut train = Vec::with_capacity(positions.len());
            let mut test = Vec::with_capacity(positions.len() / config.selection_folds + 1);
            for (&position, &row_fold) in positions.iter().zip(&folds) {
                if row_fold == fold {
                    test.push(position);
                } else {
                    train.push(position);
                }
            }
            let model = match fit_logistic(design, encoded, &train, positive, alpha) {
                Ok(model) => model,
                Err(FitError::OneClass) => continue,
                Err(error) => return Err(error.into()),
            };
            let scores: Vec<f64> = test
                .iter()
                .map(|&i| model.score(encoded.row_columns(i), encoded.row_values(i)))
                .collect();
            let truth: Vec<bool> = test.iter().map(|&i| positive[i]).collect();
            if let Ok(value) = auc(&scores, &truth) {
                aucs.push(value);
                losses.push(log_loss(&scores, &truth));
            }
        }
        if let Some((loss, loss_se)) = mean_and_standard_error(&losses) {
            results.push(AlphaResult {
                alpha,
                loss,
                loss_se,
                auc: aucs.iter().sum::<f64>() / aucs.len() as f64,
            });
        }
    }
    let Some(best) = results.iter().min_by(|a, b| a.loss.total_cmp(&b.loss)) else {
        return Ok((config.alpha_grid[config.alpha_grid.len() / 2], None));
    };
    let limit = best.loss + best.loss_se;
    let chosen = results
        .iter()
        .filter(|result| result.loss <= limit)
        .max_by(|a, b| a.alpha.total_cmp(&b.alpha))
        .unwrap_or(best);
    Ok((chosen.alpha, Some(chosen.auc)))
}

/// Cross-validated figures of one candidate α.
struct AlphaResult {
    alpha: f64,
    /// Mean held-out log-loss and its standard error over the folds.
    loss: f64,
    loss_se: f64,
    /// Mean held-out AUC.
    auc: f64,
}

/// Mean log-loss of logit scores against labels (probabilities clamped away from 0 and 1).
fn log_loss(scores: &[f64], truth: &[bool]) -> f64 {
    let total: f64 = scores
        .iter()
        .zip(truth)
        .map(|(&logit, &is_positive)| {
            let p = (1.0 / (1.0 + (-logit).exp())).clamp(1e-12, 1.0 - 1e-12);
            if is_positive {
                -p.ln()
            } else {
                -(1.0 - p).ln()
            }
        })
        .sum();
    total / scores.len().max(1) as f64
}

/// Mean and standard error of the mean (None when empty; SE 0 for a single value).
fn mean_and_standard_error(values: &[f64]) -> Option<(f64, f64)> {
    if values.is_empty() {
        return None;
    }
    let n = values.len() as f64;
    let mean = values.iter().sum::<f64>() / n;
    let variance = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0).max(1.0);
    Some((mean, (variance / n).sqrt()))
}

/// Every k-th positive and every m-th other position, so that at most `max_rows` remain with
/// positives taking at most half.
fn stratified_subsample(positive: &[bool], max_rows: usize) -> Vec<usize> {
    let max_rows = max_rows.max(2);
    let positives = positive.iter().filter(|p| **p).count();
    let others = positive.len() - positives;
    let keep_positives = positives.min(max_rows / 2);
    let keep_others = others.min(max_rows - keep_positives);
    let positive_stride = positives.div_ceil(keep_positives.max(1)).max(1);
    let other_stride = others.div_ceil(keep_others.max(1)).max(1);
    let (mut seen_positive, mut seen_other) = (0usize, 0usize);
    let mut positions = Vec::with_capacity(keep_positives + keep_others);
    for (index, &is_positive) in positive.iter().enumerate() {
        let (seen, stride) = if is_positive {
            (&mut seen_positive, positive_stride)
        } else {
            (&mut seen_other, other_stride)
        };
        if *seen % stride == 0 {
            positions.push(index);
        }
        *seen += 1;
    }
    positions
}

/// Mixes two linear scores after scaling each to unit standard deviation on the fit rows.
fn blend(
    regression: &LinearModel,
    bayes: &LinearModel,
    rows: &EncodedRows,
    bayes_weight: f64,
) -> LinearModel {
    let spread = |model: &LinearModel| {
        let scores: Vec<f64> = (0..rows.len())
            .map(|row| model.score(rows.row_columns(row), rows.row_values(row)))
            .collect();
        let mean = scores.iter().sum::<f64>() / scores.len().max(1) as f64;
        (scores.iter().map(|s| (s - mean).powi(2)).sum::<f64>() / scores.len().max(1) as f64).sqrt()
    };
    let (sr, sb) = (spread(regression), spread(bayes));
    match (sr > 1e-12, sb > 1e-12) {
        (true, true) => regression.combine((1.0 - bayes_weight) / sr, bayes, bayes_weight / sb),
        (false, true) => bayes.clone(),
        _ => regression.clone(),
    }
}

/// Mean raw contribution of each field over the population, so a contact's points say how
/// much a field moves it away from the average contact.
fn field_baselines(
    encoder: &FeatureEncoder,
    weights: &LinearModel,
    population: &EncodedRows,
) -> Vec<f64> {
    let mut sums = vec![0.0; encoder.fields.len()];
    for row in 0..population.len() {
        let columns = population.row_columns(row);
        let values = population.row_values(row);
        for (index, field) in encoder.fields.iter().enumerate() {
            sums[index] += weights.columns[columns[index] as usize]
                + field.continuous_slot().map_or(0.0, |slot| {
                    weights.continuous[slot] * f64::from(values[slot])
                });
        }
    }
    let n = population.len().max(1) as f64;
    sums.into_iter().map(|sum| sum / n).collect()
}

/// Per column: share of positives and of all population rows with it, and how many distinct
/// positive groups have it (explanations quote shares only when ≥ 3 customers share a value).
fn column_insights(
    dataset: &Dataset,
    encoder: &FeatureEncoder,
    population: &EncodedRows,
    population_rows: &[usize],
) -> Vec<ColumnInsight> {
    let labels = dataset.labels();
    let groups = dataset.groups();
    let mut all = vec![0usize; encoder.columns];
    let mut won = vec![0usize; encoder.columns];
    let mut won_groups: Vec<HashSet<u64>> = vec![HashSet::new(); encoder.columns];
    let mut positives = 0usize;
    for (encoded_row, &row) in population_rows.iter().enumerate() {
        let is_positive = labels[row] == Label::Positive;
        positives += usize::from(is_positive);
        for &column in population.row_columns(encoded_row) {
            all[column as usize] += 1;
            if is_positive {
                won[column as usize] += 1;
                won_groups[column as usize].insert(groups[row]);
            }
        }
    }
    let n = population_rows.len().max(1) as f64;
    (0..encoder.columns)
        .map(|column| ColumnInsight {
            won_share: if positives == 0 {
                0.0
            } else {
                won[column] as f64 / positives as f64
            },
            contact_share: all[column] as f64 / n,
            won_groups: won_groups[column].len(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_loss_and_standard_error() {
        // logit 0 is p = 0.5 for both classes: ln 2 each.
        let loss = log_loss(&[0.0, 0.0], &[true, false]);
        assert!((loss - std::f64::consts::LN_2).abs() < 1e-12, "{loss}");
        assert!(log_loss(&[5.0], &[true]) < log_loss(&[-5.0], &[true]));
        let (mean, se) = mean_and_standard_error(&[1.0, 2.0, 3.0]).unwrap();
        assert_eq!(mean, 2.0);
        assert!((se - (1.0f64 / 3.0).sqrt()).abs() < 1e-12, "{se}");
        assert_eq!(mean_and_standard_error(&[4.0]), Some((4.0, 0.0)));
        assert_eq!(mean_and_standard_error(&[]), None);
    }

    #[test]
    fn selection_subsample_is_bounded_and_keeps_both_classes() {
        let positive: Vec<bool> = (0..10_000).map(|i| i % 4 == 0).collect();
        let positions = stratified_subsample(&positive, 1_000);
        assert!(positions.len() <= 1_000, "{}", positions.len());
        let kept_positive = positions.iter().filter(|&&p| positive[p]).count();
        assert!((400..=500).contains(&kept_positive), "{kept_positive}");
        assert!(positions.windows(2).all(|w| w[0] < w[1]));
        let small = stratified_subsample(&positive[..100], 1_000);
        assert_eq!(small.len(), 100, "small inputs are kept whole");
    }
}
