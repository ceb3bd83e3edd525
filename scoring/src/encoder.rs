//! Turns records into model inputs: exactly one one-hot column per field plus one standardised
//! continuous value per numeric field.
//!
//! Because every field activates exactly one column, an encoded record is a fixed-size array of
//! column indices, and a linear score is a handful of table look-ups with no allocation.

use serde::{Deserialize, Serialize};

use crate::crm::features::{Sector, describe_department_by_sector, describe_seniority_by_size};
use crate::dataset::{
    Bins, Column, Dataset, FieldKind, FieldSpec, FieldValue, MISSING_CODE, Transform, ValueStyle,
};
use crate::normalize::{country_label, industry_label, region_label};
use crate::title::{Department, Seniority};

/// Standardised continuous values are clipped to this many standard deviations so one absurd
/// CRM entry cannot dominate a score.
pub(crate) const CONTINUOUS_CLIP: f64 = 5.0;

/// How one field was encoded.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum EncodedKind {
    /// Columns: one per kept value (sorted), then "other", then "missing"; plus a continuous
    /// slot for the value's level when the field has ordered levels.
    Categorical {
        values: Vec<String>,
        #[serde(default)]
        ordinal: Option<OrdinalTerm>,
    },
    /// Columns: one per bin (`edges.len() + 1`), then "missing"; plus continuous slot `continuous`.
    Numeric {
        transform: Transform,
        edges: Vec<f64>,
        continuous: usize,
        mean: f64,
        std: f64,
    },
}

/// The continuous term of a categorical field with ordered levels.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OrdinalTerm {
    /// Standardised level of each key that has one, sorted by key (rare keys keep their level
    /// even when their one-hot is pooled into "other").
    pub levels: Vec<(String, f64)>,
    /// Continuous slot of the term.
    pub continuous: usize,
}

impl OrdinalTerm {
    /// Standardised level of a key; 0 (the mean) for keys without a level and for missing.
    pub(crate) fn level(&self, key: &str) -> f64 {
        self.levels
            .binary_search_by(|(candidate, _)| candidate.as_str().cmp(key))
            .map_or(0.0, |index| self.levels[index].1)
    }

    /// Standardises `levels` over the training rows whose value has a level.
    fn fit(
        levels: &[(String, f64)],
        column: &crate::dataset::CategoricalColumn,
        rows: &[usize],
        continuous: usize,
    ) -> OrdinalTerm {
        let level_of_code: Vec<Option<f64>> = column
            .values()
            .iter()
            .map(|value| levels.iter().find(|(key, _)| key == value).map(|l| l.1))
            .collect();
        let present: Vec<f64> = rows
            .iter()
            .filter_map(|&row| {
                let code = column.codes()[row];
                (code != MISSING_CODE)
                    .then(|| level_of_code[code as usize])
                    .flatten()
            })
            .collect();
        let (mean, std) = mean_and_std(&present);
        let mut standardised: Vec<(String, f64)> = levels
            .iter()
            .map(|(key, level)| {
                let z = ((level - mean) / std).clamp(-CONTINUOUS_CLIP, CONTINUOUS_CLIP);
                (key.clone(), z)
            })
            .collect();
        standardised.sort_by(|a, b| a.0.cmp(&b.0));
        standardised.dedup_by(|a, b| a.0 == b.0);
        OrdinalTerm {
            levels: standardised,
            continuous,
        }
    }
}

/// One field's encoding and the words that explain each of its columns.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EncodedField {
    pub spec: FieldSpec,
    pub kind: EncodedKind,
    /// Index of this field's first one-hot column.
    pub first_column: usize,
    /// Explanation phrase per one-hot column of this field.
    pub column_labels: Vec<String>,
}

impl EncodedField {
    /// Number of one-hot columns of this field.
    pub fn width(&self) -> usize {
        self.column_labels.len()
    }

    fn missing_column(&self) -> usize {
        self.first_column + self.width() - 1
    }

    /// The continuous slot of a numeric field.
    pub fn continuous_slot(&self) -> Option<usize> {
        match self.kind {
            EncodedKind::Numeric { continuous, .. } => Some(continuous),
            EncodedKind::Categorical { ref ordinal, .. } => {
                ordinal.as_ref().map(|ordinal| ordinal.continuous)
            }
        }
    }

    /// Column and continuous value for one raw value (no allocation).
    fn encode(&self, value: FieldValue<'_>) -> (u32, f32) {
        match (&self.kind, value) {
            (EncodedKind::Categorical { values, ordinal }, FieldValue::Category(Some(key))) => {
                let offset = values
                    .binary_search_by(|candidate| candidate.as_str().cmp(key))
                    .unwrap_or(values.len());
                let level = ordinal.as_ref().map_or(0.0, |ordinal| ordinal.level(key));
                ((self.first_column + offset) as u32, level as f32)
            }
            (
                EncodedKind::Numeric {
                    transform,
                    edges,
                    mean,
                    std,
                    ..
                },
                FieldValue::Number(Some(raw)),
            ) => match transform.apply(raw) {
                Some(transformed) => {
                    let bin = edges.partition_point(|edge| *edge < raw);
                    let z = ((transformed - mean) / std).clamp(-CONTINUOUS_CLIP, CONTINUOUS_CLIP);
                    ((self.first_column + bin) as u32, z as f32)
                }
                None => (self.missing_column() as u32, 0.0),
            },
            _ => (self.missing_column() as u32, 0.0),
        }
    }
}

/// Encoded rows: `fields` column indices and `continuous` values per row, row-major.
#[derive(Debug, Clone, Default)]
pub struct EncodedRows {
    pub fields: usize,
    pub continuous: usize,
    pub columns: Vec<u32>,
    pub values: Vec<f32>,
}

impl EncodedRows {
    /// Number of rows.
    pub fn len(&self) -> usize {
        self.columns.len().checked_div(self.fields).unwrap_or(0)
    }

    /// True when empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Column indices of one row.
    pub fn row_columns(&self, row: usize) -> &[u32] {
        &self.columns[row * self.fields..(row + 1) * self.fields]
    }

    /// Continuous values of one row.
    pub fn row_values(&self, row: usize) -> &[f32] {
        &self.values[row * self.continuous..(row + 1) * self.continuous]
    }
}

/// Errors encoding a record.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum EncodeError {
    #[error("record has {found} values but the model expects {expected} fields")]
    WrongArity { found: usize, expected: usize },
}

/// The fitted encoding of every field; part of the model artefact.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FeatureEncoder {
    pub fields: Vec<EncodedField>,
    pub columns: usize,
    pub continuous: usize,
}

/// Knobs for fitting an encoder.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct EncoderConfig {
    /// Values seen fewer times than this are pooled into "other".
    pub min_category_count: usize,
    /// At most this many distinct values per categorical field (most frequent first).
    pub max_categories: usize,
}

impl Default for EncoderConfig {
    fn default() -> Self {
        EncoderConfig {
            min_category_count: 10,
            max_categories: 60,
        }
    }
}

impl FeatureEncoder {
    /// Learns vocabularies, bins and standardisation from the given rows only (so a
    /// cross-validation fold never sees its held-out rows).
    pub fn fit(dataset: &Dataset, rows: &[usize], config: &EncoderConfig) -> FeatureEncoder {
        let mut fields = Vec::with_capacity(dataset.fields().len());
        let mut first_column = 0;
        let mut continuous = 0;
        for (spec, column) in dataset.fields().iter().zip(dataset.columns()) {
            let field = match (&spec.kind, column) {
                (FieldKind::Categorical { style }, Column::Categorical(column)) => {
                    let mut counts = vec![0usize; column.values().len()];
                    for &row in rows {
                        let code = column.codes()[row];
                        if code != MISSING_CODE {
                            counts[code as usize] += 1;
                        }
                    }
                    let mut kept: Vec<(usize, &String)> = counts
                        .iter()
                        .zip(column.values())
                        .filter(|(count, _)| **count >= config.min_category_count.max(1))
                        .map(|(count, value)| (*count, value))
                        .collect();
                    kept.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.cmp(b.1)));
                    kept.truncate(config.max_categories);
                    let mut values: Vec<String> =
                        kept.into_iter().map(|(_, v)| v.clone()).collect();
                    values.sort();
                    let mut column_labels: Vec<String> = values
                        .iter()
                        .map(|value| spec.template.replace("{}", &describe_value(*style, value)))
                        .collect();
                    column_labels.push(spec.other_text.clone());
                    column_labels.push(spec.missing_text.clone());
                    let ordinal = (!spec.levels.is_empty()).then(|| {
                        continuous += 1;
                        OrdinalTerm::fit(&spec.levels, column, rows, continuous - 1)
                    });
                    EncodedField {
                        spec: spec.clone(),
                        kind: EncodedKind::Categorical { values, ordinal },
                        first_column,
                        column_labels,
                    }
                }
                (FieldKind::Numeric { transform, bins }, Column::Numeric(column)) => {
                    let present: Vec<f64> = rows
                        .iter()
                        .map(|&row| column[row])
                        .filter(|value| !value.is_nan() && transform.apply(*value).is_some())
                        .collect();
                    let (edges, bin_labels) = match bins {
                        Bins::Fixed { edges, labels } => (edges.clone(), labels.clone()),
                        Bins::Quantiles(count) => quantile_edges(&present, *count),
                    };
                    let transformed: Vec<f64> = present
                        .iter()
                        .filter_map(|value| transform.apply(*value))
                        .collect();
                    let (mean, std) = mean_and_std(&transformed);
                    let mut column_labels: Vec<String> = bin_labels
                        .iter()
                        .map(|label| spec.template.replace("{}", label))
                        .collect();
                    column_labels.push(spec.missing_text.clone());
                    let field = EncodedField {
                        spec: spec.clone(),
                        kind: EncodedKind::Numeric {
                            transform: *transform,
                            edges,
                            continuous,
                            mean,
                            std,
                        },
                        first_column,
                        column_labels,
                    };
                    continuous += 1;
                    field
                }
                _ => unreachable!("Dataset keeps columns and field kinds aligned"),
            };
            first_column += field.width();
            fields.push(field);
        }
        FeatureEncoder {
            fields,
            columns: first_column,
            continuous,
        }
    }

    /// Encodes one record into caller-provided buffers (`fields` and `continuous` long).
    pub fn encode_into(
        &self,
        values: &[FieldValue<'_>],
        columns: &mut [u32],
        continuous: &mut [f32],
    ) -> Result<(), EncodeError> {
        if values.len() != self.fields.len()
            || columns.len() != self.fields.len()
            || continuous.len() != self.continuous
        {
            return Err(EncodeError::WrongArity {
                found: values.len(),
                expected: self.fields.len(),
            });
        }
        for ((field, value), column) in self.fields.iter().zip(values).zip(columns.iter_mut()) {
            let (index, value) = field.encode(*value);
            *column = index;
            if let Some(slot) = field.continuous_slot() {
                continuous[slot] = value;
            }
        }
        Ok(())
    }

    /// Encodes the given dataset rows in bulk, resolving each interned value once.
    pub fn encode_dataset(&self, dataset: &Dataset, rows: &[usize]) -> EncodedRows {
        let n_fields = self.fields.len();
        let mut encoded = EncodedRows {
            fields: n_fields,
            continuous: self.continuous,
            columns: vec![0; rows.len() * n_fields],
            values: vec![0.0; rows.len() * self.continuous],
        };
        for (field_index, (field, column)) in self.fields.iter().zip(dataset.columns()).enumerate()
        {
            match column {
                Column::Categorical(column) => {
                    let code_to_encoding: Vec<(u32, f32)> = column
                        .values()
                        .iter()
                        .map(|value| field.encode(FieldValue::Category(Some(value))))
                        .collect();
                    let missing = (field.missing_column() as u32, 0.0);
                    let slot = field.continuous_slot();
                    for (out_row, &row) in rows.iter().enumerate() {
                        let code = column.codes()[row];
                        let (index, level) = if code == MISSING_CODE {
                            missing
                        } else {
                            code_to_encoding[code as usize]
                        };
                        encoded.columns[out_row * n_fields + field_index] = index;
                        if let Some(slot) = slot {
                            encoded.values[out_row * self.continuous + slot] = level;
                        }
                    }
                }
                Column::Numeric(column) => {
                    let slot = field.continuous_slot().unwrap_or(0);
                    for (out_row, &row) in rows.iter().enumerate() {
                        let raw = column[row];
                        let value = FieldValue::Number((!raw.is_nan()).then_some(raw));
                        let (index, z) = field.encode(value);
                        encoded.columns[out_row * n_fields + field_index] = index;
                        encoded.values[out_row * self.continuous + slot] = z;
                    }
                }
            }
        }
        encoded
    }

    /// Index of the field that owns a one-hot column.
    pub fn field_of_column(&self, column: usize) -> usize {
        self.fields
            .partition_point(|field| field.first_column + field.width() <= column)
    }
}

/// Words for a categorical key in the given style.
pub fn describe_value(style: ValueStyle, key: &str) -> String {
    match style {
        ValueStyle::Raw => key.to_string(),
        ValueStyle::Industry => industry_label(key),
        ValueStyle::Country => country_label(key),
        ValueStyle::Region => region_label(key)
            .map(str::to_string)
            .unwrap_or_else(|| key.to_string()),
        ValueStyle::Seniority => Seniority::ALL
            .iter()
            .find(|level| level.key() == key)
            .map(|level| level.label().to_string())
            .unwrap_or_else(|| key.to_string()),
        ValueStyle::Department => Department::ALL
            .iter()
            .find(|department| department.key() == key)
            .map(|department| department.label().to_string())
            .unwrap_or_else(|| key.to_string()),
        ValueStyle::SeniorityBySize => {
            describe_seniority_by_size(key).unwrap_or_else(|| key.to_string())
        }
        ValueStyle::DepartmentBySector => {
            describe_department_by_sector(key).unwrap_or_else(|| key.to_string())
        }
        ValueStyle::Sector => Sector::ALL
            .iter()
            .find(|sector| sector.key() == key)
            .map(|sector| sector.label().to_string())
            .unwrap_or_else(|| key.to_string()),
    }
}

/// Upper-inclusive quantile edges (deduplicated) and a label per bin.
fn quantile_edges(values: &[f64], bins: usize) -> (Vec<f64>, Vec<String>) {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let mut edges: Vec<f64> = Vec::new();
    if !sorted.is_empty() && bins > 1 {
        for k in 1..bins {
            let position = (k * (sorted.len() - 1)) / bins;
            let edge = sorted[position];
            if edges.last().is_none_or(|last| edge > *last) && edge < sorted[sorted.len() - 1] {
                edges.push(edge);
            }
        }
    }
    let mut labels = Vec::with_capacity(edges.len() + 1);
    for (index, edge) in edges.iter().enumerate() {
        labels.push(match index {
            0 => format!("≤ {}", format_number(*edge)),
            _ => format!(
                "{}–{}",
                format_number(edges[index - 1]),
                format_number(*edge)
            ),
        });
    }
    labels.push(match edges.last() {
        Some(last) => format!("> {}", format_number(*last)),
        None => "any value".to_string(),
    });
    (edges, labels)
}

/// Short human formatting: 1200 → "1,200", 0.25 → "0.25", 3500000 → "3.5M".
pub fn format_number(value: f64) -> String {
    let magnitude = value.abs();
    if magnitude >= 1e9 {
        format!("{}B", trim_decimal(value / 1e9))
    } else if magnitude >= 1e6 {
        format!("{}M", trim_decimal(value / 1e6))
    } else if magnitude >= 1000.0 && value.fract() == 0.0 {
        let digits = format!("{}", value.abs() as u64);
        let mut grouped = String::new();
        for (index, ch) in digits.chars().enumerate() {
            if index > 0 && (digits.len() - index) % 3 == 0 {
                grouped.push(',');
            }
            grouped.push(ch);
        }
        if value < 0.0 {
            format!("-{grouped}")
        } else {
            grouped
        }
    } else {
        trim_decimal(value)
    }
}

fn trim_decimal(value: f64) -> String {
    let text = format!("{value:.2}");
    text.trim_end_matches('0').trim_end_matches('.').to_string()
}

fn mean_and_std(values: &[f64]) -> (f64, f64) {
    if values.is_empty() {
        return (0.0, 1.0);
    }
    let n = values.len() as f64;
    let mean = values.iter().sum::<f64>() / n;
    let variance = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n;
    let std = variance.sqrt();
    (mean, if std > 1e-9 { std } else { 1.0 })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dataset::{Label, RowMeta};

    fn dataset() -> Dataset {
        let mut dataset = Dataset::new(vec![
            FieldSpec::categorical("plan", "Plan"),
            FieldSpec::numeric("seats", "Seats"),
        ]);
        let plans = ["pro", "pro", "free", "free", "team", "pro", "free", "rare"];
        for (index, plan) in plans.iter().enumerate() {
            let seats = if index == 7 {
                None
            } else {
                Some(index as f64 * 10.0)
            };
            dataset
                .push(
                    &[FieldValue::Category(Some(plan)), FieldValue::Number(seats)],
                    RowMeta {
                        label: Label::Unlabeled,
                        group: index as u64,
                        label_time: None,
                    },
                )
                .unwrap();
        }
        dataset
    }

    #[test]
    fn each_field_activates_exactly_one_of_its_columns() {
        let dataset = dataset();
        let rows: Vec<usize> = (0..dataset.len()).collect();
        let config = EncoderConfig {
            min_category_count: 2,
            max_categories: 10,
        };
        let encoder = FeatureEncoder::fit(&dataset, &rows, &config);
        let EncodedKind::Categorical { values, .. } = &encoder.fields[0].kind else {
            panic!("plan is categorical")
        };
        assert_eq!(values, &["free", "pro"]);
        let encoded = encoder.encode_dataset(&dataset, &rows);
        for row in 0..encoded.len() {
            for (field_index, &column) in encoded.row_columns(row).iter().enumerate() {
                assert_eq!(encoder.field_of_column(column as usize), field_index);
            }
        }
        // "team" and "rare" are pooled into "other" (offset 2), missing seats use the last column.
        assert_eq!(encoded.row_columns(4)[0], 2);
        let seats = &encoder.fields[1];
        assert_eq!(
            encoded.row_columns(7)[1] as usize,
            seats.first_column + seats.width() - 1
        );
        assert_eq!(encoded.row_values(7)[0], 0.0);
        assert_eq!(encoder.fields[0].column_labels[1], "Plan = pro");
    }

    #[test]
    fn single_record_encoding_matches_bulk_encoding() {
        let dataset = dataset();
        let rows: Vec<usize> = (0..dataset.len()).collect();
        let encoder = FeatureEncoder::fit(&dataset, &rows, &EncoderConfig::default());
        let bulk = encoder.encode_dataset(&dataset, &rows);
        let mut columns = vec![0; 2];
        let mut values = vec![0.0; 1];
        for row in rows {
            let record = [dataset.value(row, 0), dataset.value(row, 1)];
            encoder
                .encode_into(&record, &mut columns, &mut values)
                .unwrap();
            assert_eq!(columns, bulk.row_columns(row));
            assert_eq!(values, bulk.row_values(row));
        }
        assert!(encoder.encode_into(&[], &mut columns, &mut values).is_err());
    }

    #[test]
    fn ordered_levels_add_a_standardised_continuous_term() {
        let mut spec = FieldSpec::categorical("level", "Level");
        spec.levels = vec![("low".into(), 0.0), ("high".into(), 2.0)];
        let mut dataset = Dataset::new(vec![spec]);
        for value in [Some("low"), Some("high"), Some("odd"), None] {
            dataset
                .push(
                    &[FieldValue::Category(value)],
                    RowMeta {
                        label: Label::Unlabeled,
                        group: 0,
                        label_time: None,
                    },
                )
                .unwrap();
        }
        let rows: Vec<usize> = (0..dataset.len()).collect();
        let config = EncoderConfig {
            min_category_count: 1,
            max_categories: 10,
        };
        let encoder = FeatureEncoder::fit(&dataset, &rows, &config);
        assert_eq!(encoder.continuous, 1);
        assert_eq!(encoder.fields[0].continuous_slot(), Some(0));
        let encoded = encoder.encode_dataset(&dataset, &rows);
        // Levels 0 and 2 standardise to -1 and +1; a value without a level and a missing value
        // sit at the mean.
        let values: Vec<f32> = (0..4).map(|row| encoded.row_values(row)[0]).collect();
        assert_eq!(values, vec![-1.0, 1.0, 0.0, 0.0]);
        let mut columns = vec![0; 1];
        let mut single = vec![0.0; 1];
        encoder
            .encode_into(
                &[FieldValue::Category(Some("high"))],
                &mut columns,
                &mut single,
            )
            .unwrap();
        assert_eq!(single[0], 1.0);
        assert_eq!(columns[0], encoded.row_columns(1)[0]);
    }

    #[test]
    fn quantile_bins_are_increasing_and_labelled() {
        let values: Vec<f64> = (0..100).map(f64::from).collect();
        let (edges, labels) = quantile_edges(&values, 4);
        assert_eq!(edges.len(), 3);
        assert!(edges.windows(2).all(|pair| pair[0] < pair[1]));
        assert_eq!(labels.len(), 4);
        assert_eq!(format_number(1200.0), "1,200");
        assert_eq!(format_number(3_500_000.0), "3.5M");
        assert_eq!(format_number(0.25), "0.25");
    }
}
