//! The trained model artefact: encoder, weights, calibration and explanation tables, with a
//! schema version so a model stored by an older build is rejected clearly instead of misread.

use serde::{Deserialize, Serialize};

use crate::calibration::{Calibration, Grade, GradeThresholds, score_of_percentile};
use crate::dataset::FieldValue;
use crate::encoder::{EncodeError, EncodedField, FeatureEncoder};
use crate::explain::{Explanation, Factor, MIN_CUSTOMERS_FOR_SHARE, points_of_logit};
use crate::linear::LinearModel;
use crate::train::leakage::DroppedField;

/// Bump whenever the serialised layout or the meaning of a field changes.
pub const SCHEMA_VERSION: u32 = 2;

/// Which learner produced the weights.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum ModelKind {
    /// L2 logistic regression with a cross-validated penalty.
    LogisticRegression { alpha: f64 },
    /// Small-data blend of a strongly penalised regression and a naive-Bayes log-odds table.
    Blend { alpha: f64, bayes_weight: f64 },
}

/// What the model was trained on, for the status page and the audit trail.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainingMetrics {
    pub rows: usize,
    /// Rows actually used for fitting (after subsampling unlabeled ones).
    pub training_rows: usize,
    pub positives: usize,
    pub positive_groups: usize,
    pub reliable_negatives: usize,
    /// Contacts the calibration table describes.
    pub population: usize,
    /// Mean held-out AUC of the chosen penalty while selecting it (labeled vs unlabeled).
    pub selection_auc: Option<f64>,
}

/// Explanation statistics of one one-hot column.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ColumnInsight {
    pub won_share: f64,
    pub contact_share: f64,
    pub won_groups: usize,
}

/// A score in every form the product shows.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Score {
    /// Logit-scale model output.
    pub raw: f64,
    /// Mid-rank percentile among the portal's scorable contacts (0–100).
    pub percentile: f64,
    /// Rounded percentile, the number written to HubSpot.
    pub score: u8,
    pub grade: Grade,
}

/// Errors loading an artefact.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum ArtefactError {
    #[error(
        "model artefact has schema version {found}, but this build reads version {expected}; \
         retrain the model"
    )]
    SchemaMismatch { found: u32, expected: u32 },
    #[error("model artefact has no schema_version; it is not a Conturs model")]
    MissingSchemaVersion,
    #[error("model artefact is malformed: {0}")]
    Malformed(String),
    #[error("model artefact is inconsistent: {0}")]
    Inconsistent(String),
}

/// A trained, calibrated model over a generic record schema.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TabularModel {
    pub schema_version: u32,
    pub kind: ModelKind,
    pub encoder: FeatureEncoder,
    pub weights: LinearModel,
    pub calibration: Calibration,
    /// Mean raw contribution per field over the population (the "average contact").
    pub baselines: Vec<f64>,
    /// Per one-hot column.
    pub insights: Vec<ColumnInsight>,
    pub thresholds: GradeThresholds,
    pub metrics: TrainingMetrics,
    /// Fields removed by the leakage guard.
    pub dropped_fields: Vec<DroppedField>,
}

/// Reusable buffers so repeated single-record scoring does not allocate.
#[derive(Debug, Clone)]
pub struct Scratch {
    columns: Vec<u32>,
    values: Vec<f32>,
}

impl TabularModel {
    /// Original fields in record order.
    pub fn fields(&self) -> &[EncodedField] {
        &self.encoder.fields
    }

    /// Buffers sized for this model.
    pub fn scratch(&self) -> Scratch {
        Scratch {
            columns: vec![0; self.encoder.fields.len()],
            values: vec![0.0; self.encoder.continuous],
        }
    }

    /// Scores one record given as values in field order.
    pub fn score(
        &self,
        values: &[FieldValue<'_>],
        scratch: &mut Scratch,
    ) -> Result<Score, EncodeError> {
        self.encoder
            .encode_into(values, &mut scratch.columns, &mut scratch.values)?;
        Ok(self.score_encoded(&scratch.columns, &scratch.values))
    }

    /// Scores one already-encoded record (the batch hot path).
    #[inline]
    pub fn score_encoded(&self, columns: &[u32], values: &[f32]) -> Score {
        let raw = self.weights.score(columns, values);
        self.score_of_raw(raw)
    }

    /// Percentile, score and grade for a raw score.
    #[inline]
    pub fn score_of_raw(&self, raw: f64) -> Score {
        let percentile = self.calibration.percentile(raw);
        let score = score_of_percentile(percentile);
        Score {
            raw,
            percentile,
            score,
            grade: self.thresholds.grade(score),
        }
    }

    /// The same model with other grade cut-points (a per-portal setting).
    pub fn with_thresholds(mut self, thresholds: GradeThresholds) -> Self {
        self.thresholds = thresholds;
        self
    }

    /// Signed points per original field and the top reasons for and against.
    pub fn explain(
        &self,
        values: &[FieldValue<'_>],
        scratch: &mut Scratch,
    ) -> Result<Explanation, EncodeError> {
        self.encoder
            .encode_into(values, &mut scratch.columns, &mut scratch.values)?;
        Ok(self.explain_encoded(&scratch.columns, &scratch.values))
    }

    /// Explanation of an already-encoded record.
    pub fn explain_encoded(&self, columns: &[u32], values: &[f32]) -> Explanation {
        let factors = self
            .encoder
            .fields
            .iter()
            .enumerate()
            .filter_map(|(index, field)| {
                let column = columns[index] as usize;
                let contribution = self.weights.columns[column]
                    + field.continuous_slot().map_or(0.0, |slot| {
                        self.weights.continuous[slot] * f64::from(values[slot])
                    })
                    - self.baselines[index];
                // A missing value is not a trait of the contact; it never headlines a reason.
                let missing = column == field.first_column + field.width() - 1;
                (!missing).then(|| self.factor(field, column, contribution))
            })
            .collect();
        let grade = self.score_encoded(columns, values).grade;
        Explanation::from_factors(factors, grade)
    }

    /// The factor one-hot `column` of `field` stands for, with `contribution` (logit relative
    /// to the average contact) in points and the shares quoted when they back its sign.
    pub(crate) fn factor(&self, field: &EncodedField, column: usize, contribution: f64) -> Factor {
        let insight = &self.insights[column];
        // Quote shares only when they back the sign of the points by a clear margin.
        let backed = if contribution > 0.0 {
            insight.won_share >= 1.1 * insight.contact_share
        } else {
            insight.won_share <= 0.9 * insight.contact_share
        };
        let quotable = backed
            && (insight.won_groups >= MIN_CUSTOMERS_FOR_SHARE
                || (insight.won_groups == 0 && insight.contact_share >= 0.01));
        Factor {
            field: field.spec.name.clone(),
            text: field.column_labels[column - field.first_column].clone(),
            points: points_of_logit(contribution),
            won_share: quotable.then_some(insight.won_share),
            contact_share: quotable.then_some(insight.contact_share),
        }
    }

    /// Serialises the artefact (JSON, so it can be inspected and diffed).
    pub fn to_json(&self) -> Result<String, ArtefactError> {
        serde_json::to_string(self).map_err(|error| ArtefactError::Malformed(error.to_string()))
    }

    /// Loads an artefact, rejecting other schema versions before reading anything else.
    pub fn from_json(json: &str) -> Result<Self, ArtefactError> {
        #[derive(Deserialize)]
        struct Header {
            schema_version: Option<u32>,
        }
        let header: Header = serde_json::from_str(json)
            .map_err(|error| ArtefactError::Malformed(error.to_string()))?;
        match header.schema_version {
            None => return Err(ArtefactError::MissingSchemaVersion),
            Some(found) if found != SCHEMA_VERSION => {
                return Err(ArtefactError::SchemaMismatch {
                    found,
                    expected: SCHEMA_VERSION,
                });
            }
            Some(_) => {}
        }
        let model: TabularModel = serde_json::from_str(json)
            .map_err(|error| ArtefactError::Malformed(error.to_string()))?;
        model.check_consistency()?;
        Ok(model)
    }

    fn check_consistency(&self) -> Result<(), ArtefactError> {
        let encoder = &self.encoder;
        let expected_columns: usize = encoder.fields.iter().map(EncodedField::width).sum();
        let problems = [
            (
                encoder.columns != expected_columns,
                "column count disagrees with the fields",
            ),
            (
                self.weights.columns.len() != encoder.columns,
                "one weight per column is required",
            ),
            (
                self.weights.continuous.len() != encoder.continuous,
                "one weight per continuous value is required",
            ),
            (
                self.baselines.len() != encoder.fields.len(),
                "one baseline per field is required",
            ),
            (
                self.insights.len() != encoder.columns,
                "one insight per column is required",
            ),
            (!self.weights.is_finite(), "weights must be finite"),
            (self.calibration.points() == 0, "calibration table is empty"),
        ];
        match problems.iter().find(|(bad, _)| *bad) {
            Some((_, message)) => Err(ArtefactError::Inconsistent((*message).to_string())),
            None => Ok(()),
        }
    }

    /// Approximate heap size of the model in bytes (for capacity planning).
    pub fn memory_bytes(&self) -> usize {
        let strings: usize = self
            .encoder
            .fields
            .iter()
            .map(|field| {
                let labels: usize = field.column_labels.iter().map(|l| l.len() + 24).sum();
                let values: usize = match &field.kind {
                    crate::encoder::EncodedKind::Categorical { values, ordinal } => {
                        values.iter().map(|v| v.len() + 24).sum::<usize>()
                            + ordinal
                                .as_ref()
                                .map_or(0, |o| o.levels.iter().map(|l| l.0.len() + 32).sum())
                    }
                    crate::encoder::EncodedKind::Numeric { edges, .. } => edges.len() * 8,
                };
                labels + values + field.spec.name.len() + field.spec.template.len() + 200
            })
            .sum();
        strings
            + self.weights.columns.len() * 8
            + self.weights.continuous.len() * 8
            + self.calibration.points() * 8
            + self.baselines.len() * 8
            + self.insights.len() * std::mem::size_of::<ColumnInsight>()
            + std::mem::size_of::<Self>()
    }
}
