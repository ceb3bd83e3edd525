//! A labelled table of records, independent of where it came from (HubSpot or a CSV export).
//!
//! Both the CRM pipeline and `conturs eval` build one of these, so the same training,
//! calibration and evaluation code serves both. Categorical columns are interned (a code per
//! row, one string per distinct value) so a million-contact portal stays compact.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

/// What the training set knows about a record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Label {
    /// Bought: on a closed-won deal (or, when deals name no contacts, of a closed-won company).
    Positive,
    /// Known not to buy (so far): on closed-lost deals only (or of a lost-only company).
    ReliableNegative,
    /// Anything else; future customers hide here (PU learning).
    Unlabeled,
}

/// How a categorical key is turned into words in explanations.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ValueStyle {
    /// Shown as is.
    Raw,
    /// `COMPUTER_SOFTWARE` → "Computer software".
    Industry,
    /// ISO code → English country name.
    Country,
    /// Region key → region name.
    Region,
    /// Seniority key → "VP-level".
    Seniority,
    /// Department key → "Sales".
    Department,
    /// "vp@large" → "VP-level at a large company (1,000+ employees)".
    SeniorityBySize,
    /// "engineering@technology" → "Engineering/R&D role in technology".
    DepartmentBySector,
    /// Sector key → "financial services".
    Sector,
}

/// Monotone transform applied to a number before binning and standardising.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub enum Transform {
    Identity,
    /// `log10(1 + x)` for heavy-tailed counts and amounts (x ≥ 0).
    Log10,
}

impl Transform {
    /// Applies the transform; `None` when the result would not be finite.
    pub fn apply(self, value: f64) -> Option<f64> {
        let out = match self {
            Transform::Identity => value,
            Transform::Log10 if value > -1.0 => (1.0 + value).log10(),
            Transform::Log10 => return None,
        };
        out.is_finite().then_some(out)
    }
}

/// How a numeric field is cut into bins (bins let the model learn non-linear shapes).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Bins {
    /// Fixed upper-inclusive edges on the raw value, with a label per bin (edges.len() + 1 labels).
    Fixed {
        edges: Vec<f64>,
        labels: Vec<String>,
    },
    /// Up to this many quantile bins learned from the training rows.
    Quantiles(usize),
}

/// Kind of a field.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum FieldKind {
    Categorical { style: ValueStyle },
    Numeric { transform: Transform, bins: Bins },
}

/// One original field of a record, with how to explain it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FieldSpec {
    /// Stable name (HubSpot property or CSV header).
    pub name: String,
    pub kind: FieldKind,
    /// Phrase with `{}` for the value, e.g. "{} industry" or "Plan = {}".
    pub template: String,
    /// Phrase when the value is missing, e.g. "industry unknown".
    pub missing_text: String,
    /// Phrase for pooled rare values, e.g. "a less common industry".
    pub other_text: String,
    /// A field that alone separates positives this well (AUC) is treated as leakage and dropped.
    pub leak_guard_auc: f64,
    /// Describes the sales process (lifecycle stage, lead status): for customers its current
    /// value records the sale itself, so without property history it is never learned from.
    #[serde(default)]
    pub sales_process: bool,
    /// Ordered levels of a categorical field (value → level, e.g. seniority rank). When set,
    /// the field also gets one continuous term (the standardised level), so a monotone trend
    /// is learned as one slope from few customers, with the one-hot columns as (more heavily
    /// penalised, see `penalty`) deviations from it. Values without a level sit at the mean.
    #[serde(default)]
    pub levels: Vec<(String, f64)>,
    /// Relative L2 penalty of the field's one-hot columns (1 = the chosen α). Above 1 for
    /// many-valued fields whose effects should shrink toward a coarser field that is also in
    /// the model (industry toward its sector, country toward its region) or toward an ordinal
    /// trend; continuous terms always get the plain α.
    #[serde(default = "unit_penalty")]
    pub penalty: f64,
}

fn unit_penalty() -> f64 {
    1.0
}

impl FieldSpec {
    /// A categorical field explained as "`label` = value".
    pub fn categorical(name: &str, label: &str) -> Self {
        FieldSpec {
            name: name.to_string(),
            kind: FieldKind::Categorical {
                style: ValueStyle::Raw,
            },
            template: format!("{label} = {{}}"),
            missing_text: format!("{label} missing"),
            other_text: format!("{label} = a rare value"),
            leak_guard_auc: DEFAULT_LEAK_GUARD_AUC,
            sales_process: false,
            levels: Vec::new(),
            penalty: 1.0,
        }
    }

    /// A numeric field with quantile bins, explained as "`label` value-range".
    pub fn numeric(name: &str, label: &str) -> Self {
        FieldSpec {
            name: name.to_string(),
            kind: FieldKind::Numeric {
                transform: Transform::Identity,
                bins: Bins::Quantiles(5),
            },
            template: format!("{label} {{}}"),
            missing_text: format!("{label} missing"),
            other_text: format!("{label} other"),
            leak_guard_auc: DEFAULT_LEAK_GUARD_AUC,
            sales_process: false,
            levels: Vec::new(),
            penalty: 1.0,
        }
    }

    /// True for numeric fields.
    pub fn is_numeric(&self) -> bool {
        matches!(self.kind, FieldKind::Numeric { .. })
    }
}

/// A single field alone rarely ranks customers this well unless it records the outcome itself.
pub const DEFAULT_LEAK_GUARD_AUC: f64 = 0.97;

/// One value of a record, borrowed from the caller.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum FieldValue<'a> {
    Category(Option<&'a str>),
    Number(Option<f64>),
}

/// Code of a missing categorical value.
pub const MISSING_CODE: u32 = u32::MAX;

/// An interned categorical column.
#[derive(Debug, Clone, Default)]
pub struct CategoricalColumn {
    values: Vec<String>,
    index: HashMap<String, u32>,
    codes: Vec<u32>,
}

impl CategoricalColumn {
    fn push(&mut self, value: Option<&str>) {
        let code = match value {
            None => MISSING_CODE,
            Some(value) => match self.index.get(value) {
                Some(&code) => code,
                None => {
                    let code = self.values.len() as u32;
                    self.values.push(value.to_string());
                    self.index.insert(value.to_string(), code);
                    code
                }
            },
        };
        self.codes.push(code);
    }

    /// Distinct values, indexed by code.
    pub fn values(&self) -> &[String] {
        &self.values
    }

    /// Code per row (`MISSING_CODE` when missing).
    pub fn codes(&self) -> &[u32] {
        &self.codes
    }

    /// Value of a row.
    pub fn get(&self, row: usize) -> Option<&str> {
        let code = self.codes[row];
        (code != MISSING_CODE).then(|| self.values[code as usize].as_str())
    }
}

/// A column of values.
#[derive(Debug, Clone)]
pub enum Column {
    Categorical(CategoricalColumn),
    /// NaN marks a missing value.
    Numeric(Vec<f64>),
}

/// Errors building a dataset.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum DatasetError {
    #[error("row {row} has {found} values but the dataset has {expected} fields")]
    WrongArity {
        row: usize,
        found: usize,
        expected: usize,
    },
    #[error("row {row}, field `{field}`: expected a {expected} value")]
    WrongKind {
        row: usize,
        field: String,
        expected: &'static str,
    },
}

/// A labelled table: one column per field, plus label, group and label time per row.
#[derive(Debug, Clone)]
pub struct Dataset {
    fields: Vec<FieldSpec>,
    columns: Vec<Column>,
    labels: Vec<Label>,
    groups: Vec<u64>,
    label_times: Vec<Option<i64>>,
}

/// One row to append.
#[derive(Debug, Clone, Copy)]
pub struct RowMeta {
    pub label: Label,
    /// Records of one group (a company) share firmographics, so folds and counts use groups.
    pub group: u64,
    /// When the label became known (e.g. deal close date, seconds since epoch), if known.
    pub label_time: Option<i64>,
}

impl Dataset {
    /// An empty dataset with these fields.
    pub fn new(fields: Vec<FieldSpec>) -> Self {
        let columns = fields
            .iter()
            .map(|field| match field.kind {
                FieldKind::Categorical { .. } => Column::Categorical(CategoricalColumn::default()),
                FieldKind::Numeric { .. } => Column::Numeric(Vec::new()),
            })
            .collect();
        Dataset {
            fields,
            columns,
            labels: Vec::new(),
            groups: Vec::new(),
            label_times: Vec::new(),
        }
    }

    /// Appends a row; values must match the fields in number and kind. Non-finite numbers
    /// are stored as missing so no NaN can reach the model.
    pub fn push(&mut self, values: &[FieldValue<'_>], meta: RowMeta) -> Result<(), DatasetError> {
        let row = self.labels.len();
        if values.len() != self.fields.len() {
            return Err(DatasetError::WrongArity {
                row,
                found: values.len(),
                expected: self.fields.len(),
            });
        }
        for ((value, column), field) in values.iter().zip(&self.columns).zip(&self.fields) {
            let ok = matches!(
                (value, column),
                (FieldValue::Category(_), Column::Categorical(_))
                    | (FieldValue::Number(_), Column::Numeric(_))
            );
            if !ok {
                return Err(DatasetError::WrongKind {
                    row,
                    field: field.name.clone(),
                    expected: if field.is_numeric() {
                        "numeric"
                    } else {
                        "categorical"
                    },
                });
            }
        }
        for (value, column) in values.iter().zip(&mut self.columns) {
            match (value, column) {
                (FieldValue::Category(value), Column::Categorical(column)) => column.push(*value),
                (FieldValue::Number(value), Column::Numeric(column)) => {
                    column.push(value.filter(|v| v.is_finite()).unwrap_or(f64::NAN))
                }
                _ => unreachable!("kinds checked above"),
            }
        }
        self.labels.push(meta.label);
        self.groups.push(meta.group);
        self.label_times.push(meta.label_time);
        Ok(())
    }

    pub fn fields(&self) -> &[FieldSpec] {
        &self.fields
    }

    pub fn columns(&self) -> &[Column] {
        &self.columns
    }

    pub fn labels(&self) -> &[Label] {
        &self.labels
    }

    pub fn groups(&self) -> &[u64] {
        &self.groups
    }

    pub fn label_times(&self) -> &[Option<i64>] {
        &self.label_times
    }

    /// Number of rows.
    pub fn len(&self) -> usize {
        self.labels.len()
    }

    /// True when there are no rows.
    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    /// Replaces the labels (used by time-based holdouts that hide later outcomes).
    pub fn with_labels(&self, labels: Vec<Label>) -> Dataset {
        assert_eq!(labels.len(), self.labels.len(), "one label per row");
        Dataset {
            labels,
            ..self.clone()
        }
    }

    /// The value of one field in one row, for building record views.
    pub fn value(&self, row: usize, field: usize) -> FieldValue<'_> {
        match &self.columns[field] {
            Column::Categorical(column) => FieldValue::Category(column.get(row)),
            Column::Numeric(column) => {
                let value = column[row];
                FieldValue::Number((!value.is_nan()).then_some(value))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn meta() -> RowMeta {
        RowMeta {
            label: Label::Unlabeled,
            group: 1,
            label_time: None,
        }
    }

    #[test]
    fn interns_categories_and_masks_non_finite_numbers() {
        let mut dataset = Dataset::new(vec![
            FieldSpec::categorical("plan", "Plan"),
            FieldSpec::numeric("seats", "Seats"),
        ]);
        dataset
            .push(
                &[
                    FieldValue::Category(Some("pro")),
                    FieldValue::Number(Some(3.0)),
                ],
                meta(),
            )
            .unwrap();
        dataset
            .push(
                &[
                    FieldValue::Category(Some("pro")),
                    FieldValue::Number(Some(f64::NAN)),
                ],
                meta(),
            )
            .unwrap();
        dataset
            .push(
                &[
                    FieldValue::Category(None),
                    FieldValue::Number(Some(f64::INFINITY)),
                ],
                meta(),
            )
            .unwrap();
        let Column::Categorical(plan) = &dataset.columns()[0] else {
            panic!("plan is categorical")
        };
        assert_eq!(plan.values(), ["pro"]);
        assert_eq!(plan.codes(), [0, 0, MISSING_CODE]);
        assert_eq!(dataset.value(0, 1), FieldValue::Number(Some(3.0)));
        assert_eq!(dataset.value(1, 1), FieldValue::Number(None));
        assert_eq!(dataset.value(2, 1), FieldValue::Number(None));
    }

    #[test]
    fn rejects_rows_of_the_wrong_shape() {
        let mut dataset = Dataset::new(vec![FieldSpec::numeric("seats", "Seats")]);
        assert_eq!(
            dataset.push(&[], meta()),
            Err(DatasetError::WrongArity {
                row: 0,
                found: 0,
                expected: 1
            })
        );
        assert!(matches!(
            dataset.push(&[FieldValue::Category(Some("x"))], meta()),
            Err(DatasetError::WrongKind { .. })
        ));
        assert!(dataset.is_empty());
    }
}
