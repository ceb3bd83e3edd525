//! The generic engine on synthetic tables with a known signal: fallback paths, NaN safety,
//! percentile calibration, explanations, artefact round-trip, leakage guard and evaluation.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use scoring::dataset::{FieldSpec, FieldValue, Label, RowMeta};
use scoring::evaluate::{EvaluationConfig, cross_validate, time_holdout};
use scoring::model::ArtefactError;
use scoring::{Dataset, ModelKind, TabularModel, TrainConfig, TrainOutcome, train};

const PLANS: [(&str, f64); 4] = [
    ("enterprise", 1.2),
    ("team", 0.4),
    ("starter", -0.4),
    ("free", -1.2),
];
const REGIONS: [&str; 3] = ["north", "south", "east"];

/// `rows` records in groups of 3; each group's label is drawn from a logistic model of plan
/// and seats, then thinned so that about `positive_groups` groups are positive.
fn synthetic(
    rows: usize,
    positive_groups: usize,
    seed: u64,
    with_leak: bool,
) -> (Dataset, Vec<f64>) {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut fields = vec![
        FieldSpec::categorical("plan", "Plan"),
        FieldSpec::numeric("seats", "Seats"),
        FieldSpec::categorical("region", "Region"),
    ];
    if with_leak {
        fields.push(FieldSpec::categorical("stage", "Stage"));
    }
    let mut dataset = Dataset::new(fields);
    let groups = rows / 3;
    let mut logits = Vec::with_capacity(groups);
    let mut group_facts = Vec::with_capacity(groups);
    for _ in 0..groups {
        let (plan, effect) = PLANS[rng.random_range(0..PLANS.len())];
        let seats: f64 = rng.random_range(1.0f64..500.0).round();
        let region = REGIONS[rng.random_range(0..REGIONS.len())];
        let logit = effect + 0.8 * (seats.ln() - 3.0) + rng.random_range(-0.5..0.5);
        logits.push(logit);
        group_facts.push((plan, seats, region));
    }
    // The `positive_groups` groups with the highest noisy logit are positives.
    let mut order: Vec<usize> = (0..groups).collect();
    let noisy: Vec<f64> = logits
        .iter()
        .map(|l| l + rng.random_range(-1.5..1.5))
        .collect();
    order.sort_by(|a, b| noisy[*b].total_cmp(&noisy[*a]));
    let mut positive = vec![false; groups];
    for &group in order.iter().take(positive_groups) {
        positive[group] = true;
    }
    let mut truth = Vec::with_capacity(rows);
    for group in 0..groups {
        let (plan, seats, region) = group_facts[group];
        for member in 0..3 {
            let seats_value = if member == 2 && group % 7 == 0 {
                None
            } else {
                Some(seats)
            };
            let stage = if positive[group] { "customer" } else { "lead" };
            let mut values = vec![
                FieldValue::Category(Some(plan)),
                FieldValue::Number(seats_value),
                FieldValue::Category(Some(region)),
            ];
            if with_leak {
                values.push(FieldValue::Category(Some(stage)));
            }
            let label = if positive[group] {
                Label::Positive
            } else if group % 11 == 0 {
                Label::ReliableNegative
            } else {
                Label::Unlabeled
            };
            dataset
                .push(
                    &values,
                    RowMeta {
                        label,
                        group: group as u64,
                        label_time: positive[group].then_some(1_700_000_000 + group as i64 * 3600),
                    },
                )
                .unwrap();
            truth.push(logits[group]);
        }
    }
    (dataset, truth)
}

fn all_rows(dataset: &Dataset) -> Vec<usize> {
    (0..dataset.len()).collect()
}

fn trained(dataset: &Dataset) -> TabularModel {
    let rows = all_rows(dataset);
    match train(dataset, &rows, &rows, &TrainConfig::default()).unwrap() {
        TrainOutcome::Trained(model) => *model,
        TrainOutcome::NotEnoughData(status) => panic!("unexpected: {status}"),
    }
}

fn record(dataset: &Dataset, row: usize) -> Vec<FieldValue<'_>> {
    (0..dataset.fields().len())
        .map(|field| dataset.value(row, field))
        .collect()
}

#[test]
fn enough_positive_groups_train_a_cross_validated_regression() {
    let (dataset, _) = synthetic(3000, 60, 1, false);
    let model = trained(&dataset);
    assert!(matches!(model.kind, ModelKind::LogisticRegression { alpha } if alpha > 0.0));
    assert_eq!(model.metrics.positive_groups, 60);
    assert!(model.metrics.selection_auc.is_some());
    assert!(model.weights.is_finite());
}

#[test]
fn ten_to_twenty_nine_positive_groups_use_the_bayes_blend() {
    for positive_groups in [10, 29] {
        let (dataset, _) = synthetic(3000, positive_groups, 2, false);
        let model = trained(&dataset);
        assert!(
            matches!(model.kind, ModelKind::Blend { alpha, bayes_weight } if alpha > 0.0 && bayes_weight > 0.0),
            "{positive_groups} positive groups gave {:?}",
            model.kind
        );
    }
}

#[test]
fn fewer_than_ten_positive_groups_give_not_enough_data() {
    let (dataset, _) = synthetic(3000, 9, 3, false);
    let rows = all_rows(&dataset);
    match train(&dataset, &rows, &rows, &TrainConfig::default()).unwrap() {
        TrainOutcome::NotEnoughData(status) => {
            assert_eq!(status.positive_groups, 9);
            assert_eq!(status.required, 10);
            assert!(status.to_string().contains("not enough closed-won data"));
        }
        TrainOutcome::Trained(_) => panic!("9 positive groups must not train a model"),
    }
}

#[test]
fn the_model_recovers_the_planted_signal() {
    let (dataset, truth) = synthetic(6000, 150, 4, false);
    let model = trained(&dataset);
    let rows = all_rows(&dataset);
    let encoded = model.encoder.encode_dataset(&dataset, &rows);
    let scores: Vec<f64> = rows
        .iter()
        .map(|&row| {
            model
                .weights
                .score(encoded.row_columns(row), encoded.row_values(row))
        })
        .collect();
    // Correlation of model scores with the planted logit: rank agreement via AUC on a median split.
    let median = {
        let mut sorted = truth.clone();
        sorted.sort_by(f64::total_cmp);
        sorted[sorted.len() / 2]
    };
    let above: Vec<bool> = truth.iter().map(|t| *t > median).collect();
    let agreement = scoring::metrics::auc(&scores, &above).unwrap();
    assert!(
        agreement > 0.8,
        "model ranks the planted signal with AUC {agreement}"
    );
}

#[test]
fn no_nan_can_escape_from_hostile_numbers() {
    let (mut dataset, _) = synthetic(1500, 40, 5, false);
    for (index, value) in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY, 1e308, -1e308]
        .into_iter()
        .enumerate()
    {
        dataset
            .push(
                &[
                    FieldValue::Category(Some("enterprise")),
                    FieldValue::Number(Some(value)),
                    FieldValue::Category(None),
                ],
                RowMeta {
                    label: Label::Unlabeled,
                    group: 1_000_000 + index as u64,
                    label_time: None,
                },
            )
            .unwrap();
    }
    let model = trained(&dataset);
    let mut scratch = model.scratch();
    for hostile in [
        f64::NAN,
        f64::INFINITY,
        f64::NEG_INFINITY,
        1e308,
        -1e308,
        f64::MIN_POSITIVE,
    ] {
        let values = [
            FieldValue::Category(Some("never seen")),
            FieldValue::Number(Some(hostile)),
            FieldValue::Category(Some("")),
        ];
        let score = model.score(&values, &mut scratch).unwrap();
        assert!(score.raw.is_finite(), "raw score for {hostile}");
        assert!((0.0..=100.0).contains(&score.percentile));
        let explanation = model.explain(&values, &mut scratch).unwrap();
        assert!(!explanation.text().contains("NaN"));
    }
}

#[test]
fn population_percentiles_are_uniform_with_median_fifty() {
    let (dataset, _) = synthetic(6000, 120, 6, false);
    let model = trained(&dataset);
    let rows = all_rows(&dataset);
    let encoded = model.encoder.encode_dataset(&dataset, &rows);
    let mut percentiles: Vec<f64> = rows
        .iter()
        .map(|&row| {
            model
                .score_encoded(encoded.row_columns(row), encoded.row_values(row))
                .percentile
        })
        .collect();
    let mean = percentiles.iter().sum::<f64>() / percentiles.len() as f64;
    percentiles.sort_by(f64::total_cmp);
    let median = percentiles[percentiles.len() / 2];
    assert!((mean - 50.0).abs() < 0.5, "mean percentile {mean}");
    assert!((median - 50.0).abs() < 3.0, "median percentile {median}");
    // Groups of 3 share values, so ties exist; deciles still hold close to 10% each.
    let mut deciles = [0usize; 10];
    for p in &percentiles {
        deciles[((p / 10.0) as usize).min(9)] += 1;
    }
    for count in deciles {
        let share = count as f64 / percentiles.len() as f64;
        assert!((0.07..=0.13).contains(&share), "decile share {share}");
    }
}

#[test]
fn explanations_are_short_signed_and_stable_across_a_round_trip() {
    let (dataset, _) = synthetic(3000, 60, 7, false);
    let model = trained(&dataset);
    let reloaded = TabularModel::from_json(&model.to_json().unwrap()).unwrap();
    assert_eq!(model, reloaded);
    let mut scratch = model.scratch();
    let mut other_scratch = reloaded.scratch();
    for row in (0..dataset.len()).step_by(97) {
        let values = record(&dataset, row);
        let first = model.explain(&values, &mut scratch).unwrap();
        let again = model.explain(&values, &mut scratch).unwrap();
        let reloaded_explanation = reloaded.explain(&values, &mut other_scratch).unwrap();
        assert_eq!(first, again);
        assert_eq!(first, reloaded_explanation);
        assert_eq!(
            model.score(&values, &mut scratch).unwrap(),
            reloaded.score(&values, &mut other_scratch).unwrap()
        );
        assert!(first.positives.len() <= 3 && first.negatives.len() <= 2);
        assert!(first.positives.iter().all(|f| f.points > 0));
        assert!(first.negatives.iter().all(|f| f.points < 0));
        assert!(first.text().lines().count() <= 2);
    }
    // An enterprise account with many seats is explained by its plan.
    let best = [
        FieldValue::Category(Some("enterprise")),
        FieldValue::Number(Some(450.0)),
        FieldValue::Category(Some("north")),
    ];
    let explanation = model.explain(&best, &mut scratch).unwrap();
    assert!(
        explanation.positives.iter().any(|f| f.field == "plan"),
        "{}",
        explanation.text()
    );
    assert!(
        explanation.text().starts_with("Strong fit: "),
        "{}",
        explanation.text()
    );
    assert!(
        explanation
            .text()
            .contains("of your closed-won customers vs")
    );
}

#[test]
fn artefacts_of_another_schema_version_are_rejected_clearly() {
    let (dataset, _) = synthetic(1500, 30, 8, false);
    let json = trained(&dataset).to_json().unwrap();
    let old = json.replacen(
        &format!("\"schema_version\":{}", scoring::SCHEMA_VERSION),
        "\"schema_version\":0",
        1,
    );
    let error = TabularModel::from_json(&old).unwrap_err();
    assert_eq!(
        error,
        ArtefactError::SchemaMismatch {
            found: 0,
            expected: scoring::SCHEMA_VERSION
        }
    );
    assert!(error.to_string().contains("retrain"));
    assert_eq!(
        TabularModel::from_json("{\"weights\":[]}").unwrap_err(),
        ArtefactError::MissingSchemaVersion
    );
    assert!(matches!(
        TabularModel::from_json("not json"),
        Err(ArtefactError::Malformed(_))
    ));
    let truncated_weights = json.replacen("\"columns\":[", "\"columns\":[0.5,", 1);
    assert!(matches!(
        TabularModel::from_json(&truncated_weights),
        Err(ArtefactError::Inconsistent(_) | ArtefactError::Malformed(_))
    ));
}

#[test]
fn leakage_guard_drops_a_field_that_records_the_outcome() {
    let (dataset, _) = synthetic(3000, 60, 9, true);
    let model = trained(&dataset);
    let dropped: Vec<&str> = model
        .dropped_fields
        .iter()
        .map(|d| d.field.as_str())
        .collect();
    assert_eq!(dropped, ["stage"]);
    let mut scratch = model.scratch();
    let with_stage = |stage| {
        [
            FieldValue::Category(Some("team")),
            FieldValue::Number(Some(40.0)),
            FieldValue::Category(Some("south")),
            FieldValue::Category(Some(stage)),
        ]
    };
    let customer = model.score(&with_stage("customer"), &mut scratch).unwrap();
    let lead = model.score(&with_stage("lead"), &mut scratch).unwrap();
    assert_eq!(customer, lead, "the outcome field must not move the score");
}

#[test]
fn cross_validation_reports_honest_ranking_metrics() {
    let (dataset, _) = synthetic(4500, 150, 10, false);
    let config = EvaluationConfig {
        folds: 4,
        ..EvaluationConfig::default()
    };
    let evaluation = cross_validate(&dataset, &config).unwrap();
    assert_eq!(evaluation.rows, 4500);
    assert_eq!(evaluation.positive_groups, 150);
    assert_eq!(evaluation.fold_aucs.len(), 4);
    assert!(
        evaluation.auc > 0.7 && evaluation.auc < 0.99,
        "auc {}",
        evaluation.auc
    );
    assert!(
        evaluation.lift_top_decile > 2.0,
        "lift {}",
        evaluation.lift_top_decile
    );
    assert!(
        evaluation.capture_top20 > 0.35,
        "capture {}",
        evaluation.capture_top20
    );
    let best = &evaluation.grades[0];
    let worst = &evaluation.grades[4];
    assert!(best.win_rate > worst.win_rate);
    let holdout = evaluation
        .time_holdout
        .expect("positives carry label dates");
    assert!(holdout.future_positives > 0);
    assert!(holdout.auc > 0.6, "time holdout auc {}", holdout.auc);
    // Same seed, same folds, same numbers.
    assert_eq!(
        cross_validate(&dataset, &config).unwrap().auc,
        evaluation.auc
    );
}

#[test]
fn evaluation_refuses_too_little_data_with_a_reason() {
    let (dataset, _) = synthetic(1500, 12, 11, false);
    let config = EvaluationConfig::default();
    let error = cross_validate(&dataset, &config).unwrap_err();
    assert!(
        error.to_string().contains("not enough closed-won data"),
        "{error}"
    );
    let reason = time_holdout(&dataset, &config).unwrap_err();
    assert!(reason.contains("time holdout needs"), "{reason}");
}
