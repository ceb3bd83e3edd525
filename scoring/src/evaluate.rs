//! Model evaluation as a product feature: how well would this model have ranked records it did
//! not see? Grouped, stratified k-fold cross-validation (AUC, top-decile lift, capture@20%, win
//! rate by grade) and, when label dates exist, a time-based holdout ("trained before T, did it
//! find the customers won after T?").

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use crate::calibration::Grade;
use crate::dataset::{Dataset, Label};
use crate::metrics::{
    GradeRate, MetricError, auc, capture_at, is_monotone, lift_at, win_rate_by_grade,
};
use crate::model::ModelKind;
use crate::train::sample::grouped_stratified_folds;
use crate::train::{NotEnoughData, TrainConfig, TrainError, TrainOutcome, train};

/// Knobs for an evaluation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EvaluationConfig {
    pub folds: usize,
    pub seed: u64,
    pub train: TrainConfig,
    /// Share of dated positive groups held out as "future" in the time-based holdout.
    pub holdout_share: f64,
}

impl Default for EvaluationConfig {
    fn default() -> Self {
        EvaluationConfig {
            folds: 5,
            seed: 42,
            train: TrainConfig::default(),
            holdout_share: 0.25,
        }
    }
}

/// Errors that stop an evaluation.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum EvaluationError {
    #[error("need at least 2 folds, got {0}")]
    TooFewFolds(usize),
    #[error("fold {fold}: {status}; use fewer folds or more data")]
    NotEnoughData { fold: usize, status: NotEnoughData },
    #[error("{0}")]
    NotEnoughOverall(NotEnoughData),
    #[error("fold {fold}: {source}")]
    Train { fold: usize, source: TrainError },
    #[error("metric failed: {0}")]
    Metric(#[from] MetricError),
}

/// Results of a time-based holdout.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TimeHoldout {
    /// Labels known at or before this time (epoch seconds) were used for training.
    pub cutoff: i64,
    pub train_positive_groups: usize,
    /// Records that became positive after the cutoff.
    pub future_positives: usize,
    /// Records scored (everything not already positive at the cutoff).
    pub evaluated: usize,
    pub auc: f64,
    pub lift_top_decile: f64,
    pub capture_top20: f64,
}

/// Everything an evaluation reports.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Evaluation {
    pub rows: usize,
    pub positives: usize,
    pub positive_groups: usize,
    pub folds: usize,
    /// AUC pooled over all held-out rows, ranked by their percentile within their fold's model.
    pub auc: f64,
    /// Mean and per-fold AUC on raw scores.
    pub auc_mean: f64,
    pub fold_aucs: Vec<f64>,
    pub lift_top_decile: f64,
    pub capture_top20: f64,
    pub grades: Vec<GradeRate>,
    pub grades_monotone: bool,
    pub time_holdout: Option<TimeHoldout>,
    /// Why there is no time holdout, when there is none.
    pub time_holdout_skipped: Option<String>,
    /// The learner used in each fold.
    pub model_kinds: Vec<ModelKind>,
    /// Fields dropped by the leakage guard in any fold.
    pub dropped_fields: Vec<String>,
    /// Held-out percentile of every row (index = dataset row).
    #[serde(skip)]
    pub out_of_fold_percentiles: Vec<f64>,
}

/// Cross-validates the full training pipeline (including α selection and the leakage guard)
/// on `dataset`; each fold's percentiles are relative to that fold's training rows.
pub fn cross_validate(
    dataset: &Dataset,
    config: &EvaluationConfig,
) -> Result<Evaluation, EvaluationError> {
    if config.folds < 2 {
        return Err(EvaluationError::TooFewFolds(config.folds));
    }
    let labels = dataset.labels();
    let rows: Vec<usize> = (0..dataset.len()).collect();
    let positive: Vec<bool> = labels.iter().map(|l| *l == Label::Positive).collect();
    let positive_groups = count_positive_groups(dataset, &rows);
    if positive_groups < config.train.min_positive_groups {
        return Err(EvaluationError::NotEnoughOverall(NotEnoughData {
            positive_groups,
            required: config.train.min_positive_groups,
        }));
    }
    let folds = grouped_stratified_folds(dataset, &rows, config.folds, config.seed);
    let mut percentiles = vec![0.0; dataset.len()];
    let mut grades = vec![Grade::F; dataset.len()];
    let mut fold_aucs = Vec::with_capacity(config.folds);
    let mut model_kinds = Vec::with_capacity(config.folds);
    let mut dropped_fields: Vec<String> = Vec::new();
    for fold in 0..config.folds {
        let (train_rows, test_rows): (Vec<usize>, Vec<usize>) =
            rows.iter().partition(|&&row| folds[row] != fold);
        let model = match train(dataset, &train_rows, &train_rows, &config.train) {
            Ok(TrainOutcome::Trained(model)) => model,
            Ok(TrainOutcome::NotEnoughData(status)) => {
                return Err(EvaluationError::NotEnoughData { fold, status });
            }
            Err(source) => return Err(EvaluationError::Train { fold, source }),
        };
        let encoded = model.encoder.encode_dataset(dataset, &test_rows);
        let mut raw = Vec::with_capacity(test_rows.len());
        for (index, &row) in test_rows.iter().enumerate() {
            let score = model.score_encoded(encoded.row_columns(index), encoded.row_values(index));
            percentiles[row] = score.percentile;
            grades[row] = score.grade;
            raw.push(score.raw);
        }
        let truth: Vec<bool> = test_rows.iter().map(|&row| positive[row]).collect();
        if let Ok(value) = auc(&raw, &truth) {
            fold_aucs.push(value);
        }
        model_kinds.push(model.kind.clone());
        for dropped in &model.dropped_fields {
            if !dropped_fields.contains(&dropped.field) {
                dropped_fields.push(dropped.field.clone());
            }
        }
    }
    let grade_rates = win_rate_by_grade(&grades, &positive);
    let (time_holdout, time_holdout_skipped) = match time_holdout(dataset, config) {
        Ok(holdout) => (Some(holdout), None),
        Err(reason) => (None, Some(reason)),
    };
    Ok(Evaluation {
        rows: dataset.len(),
        positives: positive.iter().filter(|p| **p).count(),
        positive_groups,
        folds: config.folds,
        auc: auc(&percentiles, &positive)?,
        auc_mean: fold_aucs.iter().sum::<f64>() / fold_aucs.len().max(1) as f64,
        fold_aucs,
        lift_top_decile: lift_at(&percentiles, &positive, 0.1)?,
        capture_top20: capture_at(&percentiles, &positive, 0.2)?,
        grades_monotone: is_monotone(&grade_rates),
        grades: grade_rates,
        time_holdout,
        time_holdout_skipped,
        model_kinds,
        dropped_fields,
        out_of_fold_percentiles: percentiles,
    })
}

fn count_positive_groups(dataset: &Dataset, rows: &[usize]) -> usize {
    let labels = dataset.labels();
    let groups = dataset.groups();
    rows.iter()
        .filter(|&&row| labels[row] == Label::Positive)
        .map(|&row| groups[row])
        .collect::<std::collections::HashSet<_>>()
        .len()
}

/// Trains as of a cutoff time and checks how the records that became positive later rank.
/// Returns the reason as text when the data does not allow it.
pub fn time_holdout(dataset: &Dataset, config: &EvaluationConfig) -> Result<TimeHoldout, String> {
    let labels = dataset.labels();
    let times = dataset.label_times();
    let groups = dataset.groups();
    // First positive time per positive group.
    let mut group_time: HashMap<u64, i64> = HashMap::new();
    for row in 0..dataset.len() {
        if let (Label::Positive, Some(time)) = (labels[row], times[row]) {
            let entry = group_time.entry(groups[row]).or_insert(time);
            *entry = (*entry).min(time);
        }
    }
    let needed = config.train.min_positive_groups * 2;
    if group_time.len() < needed {
        return Err(format!(
            "{} positive groups have a label date; a time holdout needs at least {needed}",
            group_time.len()
        ));
    }
    let mut sorted: Vec<i64> = group_time.values().copied().collect();
    sorted.sort_unstable();
    let share = config.holdout_share.clamp(0.05, 0.5);
    let cutoff_index = ((sorted.len() as f64) * (1.0 - share)).floor() as usize;
    let cutoff = sorted[cutoff_index.clamp(1, sorted.len() - 1) - 1];

    let is_future = |row: usize| times[row].is_some_and(|time| time > cutoff);
    let as_of_cutoff: Vec<Label> = (0..dataset.len())
        .map(|row| match labels[row] {
            Label::Positive | Label::ReliableNegative if is_future(row) => Label::Unlabeled,
            label => label,
        })
        .collect();
    let past = dataset.with_labels(as_of_cutoff.clone());
    let all_rows: Vec<usize> = (0..dataset.len()).collect();
    let model = match train(&past, &all_rows, &all_rows, &config.train) {
        Ok(TrainOutcome::Trained(model)) => model,
        Ok(TrainOutcome::NotEnoughData(status)) => {
            return Err(format!("before the cutoff, {status}"));
        }
        Err(error) => return Err(format!("training before the cutoff failed: {error}")),
    };
    let evaluated: Vec<usize> = all_rows
        .iter()
        .copied()
        .filter(|&row| as_of_cutoff[row] != Label::Positive)
        .collect();
    let encoded = model.encoder.encode_dataset(dataset, &evaluated);
    let raw: Vec<f64> = (0..encoded.len())
        .map(|i| {
            model
                .weights
                .score(encoded.row_columns(i), encoded.row_values(i))
        })
        .collect();
    let outcome: Vec<bool> = evaluated
        .iter()
        .map(|&row| labels[row] == Label::Positive)
        .collect();
    let metric = |result: Result<f64, MetricError>| result.map_err(|error| error.to_string());
    Ok(TimeHoldout {
        cutoff,
        train_positive_groups: model.metrics.positive_groups,
        future_positives: outcome.iter().filter(|o| **o).count(),
        evaluated: evaluated.len(),
        auc: metric(auc(&raw, &outcome))?,
        lift_top_decile: metric(lift_at(&raw, &outcome, 0.1))?,
        capture_top20: metric(capture_at(&raw, &outcome, 0.2))?,
    })
}
