//! Which rows train the model, and which cross-validation fold each row belongs to.
//!
//! Big portals keep every labelled row and a random subset of the unlabeled ones, so training
//! time stays bounded; folds are assigned per group (company) and stratified by label, so a
//! company's contacts never sit on both sides of a fold boundary.

use std::collections::HashMap;

use rand::SeedableRng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;

use crate::dataset::{Dataset, Label};

/// Rows chosen for fitting, by label.
#[derive(Debug, Clone, PartialEq)]
pub struct TrainingSample {
    pub positives: Vec<usize>,
    pub reliable_negatives: Vec<usize>,
    pub unlabeled: Vec<usize>,
}

impl TrainingSample {
    /// All chosen rows.
    pub fn len(&self) -> usize {
        self.positives.len() + self.reliable_negatives.len() + self.unlabeled.len()
    }

    /// True when nothing was chosen.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Keeps at most `max_per_group` random rows of each group and label (so a customer with 120
/// contacts does not count 120 times more than one with a single contact, and a customer's
/// buyers are not lost among its unlabeled colleagues), then every positive and
/// reliable negative (up to a share of the budget), and fills the rest of `max_rows` with
/// randomly chosen unlabeled rows.
pub fn choose_training_rows(
    dataset: &Dataset,
    rows: &[usize],
    max_rows: usize,
    max_per_group: usize,
    seed: u64,
) -> TrainingSample {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let labels = dataset.labels();
    let mut positives: Vec<usize> = Vec::new();
    let mut reliable_negatives: Vec<usize> = Vec::new();
    let mut unlabeled: Vec<usize> = Vec::new();
    for row in cap_per_group(dataset, rows, max_per_group, &mut rng) {
        match labels[row] {
            Label::Positive => positives.push(row),
            Label::ReliableNegative => reliable_negatives.push(row),
            Label::Unlabeled => unlabeled.push(row),
        }
    }
    let max_rows = max_rows.max(2);
    keep_random(&mut positives, max_rows / 2, &mut rng);
    let remaining = max_rows - positives.len();
    keep_random(&mut reliable_negatives, remaining / 2, &mut rng);
    let remaining = remaining - reliable_negatives.len();
    keep_random(&mut unlabeled, remaining, &mut rng);
    TrainingSample {
        positives,
        reliable_negatives,
        unlabeled,
    }
}

fn cap_per_group(
    dataset: &Dataset,
    rows: &[usize],
    max_per_group: usize,
    rng: &mut ChaCha8Rng,
) -> Vec<usize> {
    let groups = dataset.groups();
    let labels = dataset.labels();
    let mut by_group: HashMap<(u64, u8), Vec<usize>> = HashMap::new();
    for &row in rows {
        by_group
            .entry((groups[row], label_rank(labels[row])))
            .or_default()
            .push(row);
    }
    let mut keys: Vec<(u64, u8)> = by_group.keys().copied().collect();
    keys.sort_unstable();
    let mut kept = Vec::with_capacity(
        rows.len()
            .min(keys.len().saturating_mul(max_per_group.max(1))),
    );
    for key in keys {
        let mut members = by_group.remove(&key).unwrap_or_default();
        keep_random(&mut members, max_per_group.max(1), rng);
        kept.extend(members);
    }
    kept.sort_unstable();
    kept
}

fn label_rank(label: Label) -> u8 {
    match label {
        Label::Positive => 0,
        Label::ReliableNegative => 1,
        Label::Unlabeled => 2,
    }
}

fn keep_random(rows: &mut Vec<usize>, keep: usize, rng: &mut ChaCha8Rng) {
    if rows.len() > keep {
        rows.shuffle(rng);
        rows.truncate(keep);
        rows.sort_unstable();
    }
}

/// Fold (0..folds) of each given row: groups holding a positive are dealt round-robin in random
/// order, then the other groups, so every fold gets its share of positives.
pub fn grouped_stratified_folds(
    dataset: &Dataset,
    rows: &[usize],
    folds: usize,
    seed: u64,
) -> Vec<usize> {
    let folds = folds.max(1);
    let labels = dataset.labels();
    let groups = dataset.groups();
    let mut group_is_positive: HashMap<u64, bool> = HashMap::new();
    for &row in rows {
        let entry = group_is_positive.entry(groups[row]).or_insert(false);
        *entry |= labels[row] == Label::Positive;
    }
    let mut positive_groups: Vec<u64> = Vec::new();
    let mut other_groups: Vec<u64> = Vec::new();
    for (&group, &positive) in &group_is_positive {
        if positive {
            positive_groups.push(group);
        } else {
            other_groups.push(group);
        }
    }
    positive_groups.sort_unstable();
    other_groups.sort_unstable();
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    positive_groups.shuffle(&mut rng);
    other_groups.shuffle(&mut rng);
    let fold_of_group: HashMap<u64, usize> = positive_groups
        .iter()
        .chain(other_groups.iter())
        .enumerate()
        .map(|(index, &group)| (group, index % folds))
        .collect();
    rows.iter()
        .map(|&row| fold_of_group[&groups[row]])
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dataset::{FieldSpec, FieldValue, RowMeta};

    fn dataset(labels: &[(Label, u64)]) -> Dataset {
        let mut dataset = Dataset::new(vec![FieldSpec::numeric("x", "X")]);
        for &(label, group) in labels {
            dataset
                .push(
                    &[FieldValue::Number(Some(1.0))],
                    RowMeta {
                        label,
                        group,
                        label_time: None,
                    },
                )
                .unwrap();
        }
        dataset
    }

    #[test]
    fn subsampling_keeps_labelled_rows_and_caps_unlabeled() {
        let mut rows = vec![(Label::Positive, 1); 10];
        rows.extend(vec![(Label::ReliableNegative, 2); 20]);
        rows.extend((0..1000).map(|g| (Label::Unlabeled, 10 + g)));
        let dataset = dataset(&rows);
        let all: Vec<usize> = (0..dataset.len()).collect();
        let sample = choose_training_rows(&dataset, &all, 200, usize::MAX, 7);
        assert_eq!(sample.positives.len(), 10);
        assert_eq!(sample.reliable_negatives.len(), 20);
        assert_eq!(sample.unlabeled.len(), 170);
        assert_eq!(
            sample,
            choose_training_rows(&dataset, &all, 200, usize::MAX, 7),
            "seeded"
        );
        let capped = choose_training_rows(&dataset, &all, 200, 3, 7);
        assert_eq!(
            capped.positives.len(),
            3,
            "one group of 10 positives keeps 3"
        );
        assert_eq!(capped.reliable_negatives.len(), 3);
        assert_eq!(capped.unlabeled.len(), 194);
    }

    #[test]
    fn folds_keep_groups_together_and_spread_positive_groups() {
        let mut rows = Vec::new();
        for group in 0..30u64 {
            let label = if group < 9 {
                Label::Positive
            } else {
                Label::Unlabeled
            };
            for _ in 0..4 {
                rows.push((label, group));
            }
        }
        let dataset = dataset(&rows);
        let all: Vec<usize> = (0..dataset.len()).collect();
        let folds = grouped_stratified_folds(&dataset, &all, 3, 1);
        for (row, &fold) in folds.iter().enumerate() {
            let first_of_group = row - row % 4;
            assert_eq!(fold, folds[first_of_group], "group split across folds");
        }
        for fold in 0..3 {
            let positive_groups = (0..9).filter(|g| folds[(*g as usize) * 4] == fold).count();
            assert_eq!(positive_groups, 3);
        }
    }
}
