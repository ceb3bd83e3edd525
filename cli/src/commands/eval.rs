//! `conturs eval FILE.csv --label COLUMN`: cross-validates the scoring model on an export so a
//! customer can judge it on their own data (AUC, top-decile lift, capture@20%, grade table).

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use clap::Args;
use scoring::evaluate::{Evaluation, EvaluationConfig, cross_validate};
use scoring::{ModelKind, TrainConfig, TrainOutcome, train};
use serde::Serialize;

use crate::csv_input::{ColumnType, CsvDataset, CsvOptions, read_csv};

/// Arguments of `conturs eval`.
#[derive(Args, Debug)]
pub struct EvalArgs {
    /// CSV file, plain or gzip-compressed (.gz), with a header row.
    pub file: PathBuf,
    /// Column holding the outcome (e.g. "closed won").
    #[arg(long)]
    pub label: String,
    /// Label value that means positive; guessed from 1/true/yes/won when omitted.
    #[arg(long)]
    pub positive: Option<String>,
    /// Cross-validation folds.
    #[arg(long, default_value_t = 5)]
    pub folds: usize,
    /// Seed for fold assignment and subsampling.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Print one JSON object instead of a table.
    #[arg(long)]
    pub json: bool,
    /// Write per-row scores, grades and explanations (model trained on all rows) to this CSV.
    #[arg(long)]
    pub scores_out: Option<PathBuf>,
    /// Force columns to be numeric (comma-separated or repeated).
    #[arg(long, value_delimiter = ',')]
    pub numeric: Vec<String>,
    /// Force columns to be categorical (comma-separated or repeated).
    #[arg(long, value_delimiter = ',')]
    pub categorical: Vec<String>,
    /// Columns to leave out (ids, free text; comma-separated or repeated).
    #[arg(long, value_delimiter = ',')]
    pub ignore: Vec<String>,
    /// Column grouping rows that belong together (e.g. company id), kept in one fold.
    #[arg(long)]
    pub group: Option<String>,
    /// Column with the date the label became known; enables a time-based holdout.
    #[arg(long)]
    pub time: Option<String>,
}

/// The `--json` document.
#[derive(Serialize)]
struct Report<'a> {
    file: String,
    label: &'a str,
    positive_value: &'a str,
    rows: usize,
    positives: usize,
    positive_groups: usize,
    folds: usize,
    seed: u64,
    auc: f64,
    auc_mean: f64,
    fold_aucs: &'a [f64],
    lift_top_decile: f64,
    capture_top20: f64,
    grades_monotone: bool,
    grades: &'a [scoring::metrics::GradeRate],
    time_holdout: &'a Option<scoring::evaluate::TimeHoldout>,
    time_holdout_skipped: &'a Option<String>,
    model: Vec<String>,
    dropped_fields: &'a [String],
    columns: Vec<ColumnReport<'a>>,
}

#[derive(Serialize)]
struct ColumnReport<'a> {
    name: &'a str,
    #[serde(rename = "type")]
    column_type: ColumnType,
}

/// Runs the command.
pub fn run(args: &EvalArgs) -> Result<()> {
    if args.folds < 2 {
        bail!("--folds must be at least 2");
    }
    let options = CsvOptions {
        label: args.label.clone(),
        positive: args.positive.clone(),
        numeric: args.numeric.clone(),
        categorical: args.categorical.clone(),
        ignore: args.ignore.clone(),
        group: args.group.clone(),
        time: args.time.clone(),
    };
    let input = read_csv(&args.file, &options)
        .with_context(|| format!("reading {}", args.file.display()))?;
    let train_config = TrainConfig {
        seed: args.seed,
        ..TrainConfig::default()
    };
    let config = EvaluationConfig {
        folds: args.folds,
        seed: args.seed,
        train: train_config,
        ..EvaluationConfig::default()
    };
    let evaluation = cross_validate(&input.dataset, &config)?;
    if let Some(path) = &args.scores_out {
        write_scores(path, &input, &evaluation, &config.train)
            .with_context(|| format!("writing scores to {}", path.display()))?;
    }
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    if args.json {
        let report = Report {
            file: args.file.display().to_string(),
            label: &args.label,
            positive_value: &input.positive_value,
            rows: evaluation.rows,
            positives: evaluation.positives,
            positive_groups: evaluation.positive_groups,
            folds: evaluation.folds,
            seed: args.seed,
            auc: evaluation.auc,
            auc_mean: evaluation.auc_mean,
            fold_aucs: &evaluation.fold_aucs,
            lift_top_decile: evaluation.lift_top_decile,
            capture_top20: evaluation.capture_top20,
            grades_monotone: evaluation.grades_monotone,
            grades: &evaluation.grades,
            time_holdout: &evaluation.time_holdout,
            time_holdout_skipped: &evaluation.time_holdout_skipped,
            model: evaluation.model_kinds.iter().map(describe_kind).collect(),
            dropped_fields: &evaluation.dropped_fields,
            columns: input
                .columns
                .iter()
                .map(|(name, column_type)| ColumnReport {
                    name,
                    column_type: *column_type,
                })
                .collect(),
        };
        serde_json::to_writer(&mut out, &report)?;
        writeln!(out)?;
    } else {
        write_table(&mut out, args, &input, &evaluation)?;
    }
    Ok(())
}

fn describe_kind(kind: &ModelKind) -> String {
    match kind {
        ModelKind::LogisticRegression { alpha } => format!("logistic regression (alpha {alpha})"),
        ModelKind::Blend {
            alpha,
            bayes_weight,
        } => format!(
            "small-data blend: regression (alpha {alpha}) + naive-Bayes table (weight {bayes_weight})"
        ),
    }
}

fn write_table(
    out: &mut impl Write,
    args: &EvalArgs,
    input: &CsvDataset,
    evaluation: &Evaluation,
) -> Result<()> {
    let base_rate = evaluation.positives as f64 / evaluation.rows.max(1) as f64;
    writeln!(out, "Conturs model evaluation: {}", args.file.display())?;
    writeln!(
        out,
        "  label                  {} = {}",
        args.label, input.positive_value
    )?;
    writeln!(out, "  rows                   {}", evaluation.rows)?;
    writeln!(
        out,
        "  positives              {} ({:.1}%)",
        evaluation.positives,
        base_rate * 100.0
    )?;
    writeln!(
        out,
        "  folds                  {} (seed {})",
        evaluation.folds, args.seed
    )?;
    let folds: Vec<String> = evaluation
        .fold_aucs
        .iter()
        .map(|a| format!("{a:.3}"))
        .collect();
    writeln!(
        out,
        "  AUC (cross-validated)  {:.3}  (per fold: {})",
        evaluation.auc,
        folds.join(" ")
    )?;
    writeln!(
        out,
        "  lift, top decile       {:.2}x",
        evaluation.lift_top_decile
    )?;
    writeln!(
        out,
        "  capture, top 20%       {:.1}%",
        evaluation.capture_top20 * 100.0
    )?;
    writeln!(
        out,
        "  grades monotone        {}",
        if evaluation.grades_monotone {
            "yes"
        } else {
            "no"
        }
    )?;
    writeln!(out)?;
    writeln!(out, "  grade      rows  positives  win rate")?;
    for rate in &evaluation.grades {
        writeln!(
            out,
            "  {:<5} {:>9} {:>10} {:>8.1}%",
            rate.grade.letter(),
            rate.rows,
            rate.positives,
            rate.win_rate * 100.0
        )?;
    }
    writeln!(out)?;
    match (&evaluation.time_holdout, &evaluation.time_holdout_skipped) {
        (Some(holdout), _) => writeln!(
            out,
            "  time holdout           AUC {:.3}, lift {:.2}x, capture@20% {:.1}% on {} later positives",
            holdout.auc,
            holdout.lift_top_decile,
            holdout.capture_top20 * 100.0,
            holdout.future_positives
        )?,
        (None, Some(reason)) => writeln!(out, "  time holdout           skipped: {reason}")?,
        (None, None) => {}
    }
    if let Some(kind) = evaluation.model_kinds.first() {
        writeln!(out, "  model                  {}", describe_kind(kind))?;
    }
    if !evaluation.dropped_fields.is_empty() {
        writeln!(
            out,
            "  leakage guard dropped  {}",
            evaluation.dropped_fields.join(", ")
        )?;
    }
    let typed: Vec<String> = input
        .columns
        .iter()
        .map(|(name, column_type)| match column_type {
            ColumnType::Numeric => format!("{name} (numeric)"),
            ColumnType::Categorical => format!("{name} (categorical)"),
        })
        .collect();
    writeln!(out, "  columns                {}", typed.join(", "))?;
    Ok(())
}

/// Trains on every row, then writes each row's score, grade, held-out percentile and reasons.
fn write_scores(
    path: &PathBuf,
    input: &CsvDataset,
    evaluation: &Evaluation,
    config: &TrainConfig,
) -> Result<()> {
    let rows: Vec<usize> = (0..input.dataset.len()).collect();
    let model = match train(&input.dataset, &rows, &rows, config)? {
        TrainOutcome::Trained(model) => model,
        TrainOutcome::NotEnoughData(status) => bail!("{status}"),
    };
    let encoded = model.encoder.encode_dataset(&input.dataset, &rows);
    let mut writer = csv::Writer::from_writer(BufWriter::new(File::create(path)?));
    writer.write_record([
        "line",
        "label",
        "score",
        "grade",
        "percentile",
        "cv_percentile",
        "top_factors",
        "explanation",
    ])?;
    for row in rows {
        let columns = encoded.row_columns(row);
        let values = encoded.row_values(row);
        let score = model.score_encoded(columns, values);
        let explanation = model.explain_encoded(columns, values);
        writer.write_record([
            input.lines[row].to_string(),
            input.labels[row].clone(),
            score.score.to_string(),
            score.grade.letter().to_string(),
            format!("{:.2}", score.percentile),
            format!("{:.2}", evaluation.out_of_fold_percentiles[row]),
            explanation.top_factors(),
            explanation.text(),
        ])?;
    }
    writer.flush()?;
    Ok(())
}
