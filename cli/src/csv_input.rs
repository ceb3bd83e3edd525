//! Reads a CSV export (plain or gzip) into a labelled [`Dataset`], typing each column as numeric
//! or categorical. Every error names the line and, where it applies, the column.

use std::collections::{BTreeSet, HashSet};
use std::fs::File;
use std::io::{BufReader, Read};
use std::path::Path;

use anyhow::{Context, Result, anyhow, bail};
use flate2::read::MultiGzDecoder;
use scoring::Dataset;
use scoring::crm::parse_hubspot_time;
use scoring::dataset::{FieldSpec, FieldValue, Label, RowMeta};

/// How the caller wants the columns read.
#[derive(Debug, Clone, Default)]
pub struct CsvOptions {
    pub label: String,
    pub positive: Option<String>,
    pub numeric: Vec<String>,
    pub categorical: Vec<String>,
    pub ignore: Vec<String>,
    pub group: Option<String>,
    pub time: Option<String>,
}

/// Type chosen for one feature column.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ColumnType {
    Numeric,
    Categorical,
}

/// The dataset plus what was learned about the file.
pub struct CsvDataset {
    pub dataset: Dataset,
    pub columns: Vec<(String, ColumnType)>,
    /// The label value treated as positive.
    pub positive_value: String,
    /// File line of each dataset row (for per-row output).
    pub lines: Vec<u64>,
    /// The raw label of each row.
    pub labels: Vec<String>,
}

/// Label spellings taken as positive when `--positive` is not given.
const POSITIVE_SPELLINGS: &[&str] = &[
    "1",
    "true",
    "yes",
    "y",
    "won",
    "closedwon",
    "closed won",
    "closed_won",
    "positive",
    "customer",
];

fn open(path: &Path) -> Result<Box<dyn Read>> {
    let file = File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
    let gzip = path
        .extension()
        .is_some_and(|ext| ext.eq_ignore_ascii_case("gz"));
    Ok(if gzip {
        Box::new(MultiGzDecoder::new(BufReader::new(file)))
    } else {
        Box::new(BufReader::new(file))
    })
}

/// Reads and types the whole file.
pub fn read_csv(path: &Path, options: &CsvOptions) -> Result<CsvDataset> {
    let mut reader = csv::ReaderBuilder::new()
        .flexible(false)
        .from_reader(open(path)?);
    let headers: Vec<String> = reader
        .headers()
        .map_err(|error| describe_csv_error(&error, &[]))?
        .iter()
        .map(|h| h.trim().to_string())
        .collect();
    if headers.is_empty() || headers.iter().all(String::is_empty) {
        bail!("line 1: the CSV has no header row");
    }
    let find = |name: &str, role: &str| -> Result<usize> {
        headers.iter().position(|h| h == name).ok_or_else(|| {
            anyhow!(
                "{role} column `{name}` is not in the header (columns: {})",
                headers.join(", ")
            )
        })
    };
    let label_index = find(&options.label, "label")?;
    let group_index = options
        .group
        .as_deref()
        .map(|g| find(g, "group"))
        .transpose()?;
    let time_index = options
        .time
        .as_deref()
        .map(|t| find(t, "time"))
        .transpose()?;
    for name in options
        .numeric
        .iter()
        .chain(&options.categorical)
        .chain(&options.ignore)
    {
        find(name, "typed")?;
    }
    if let Some(both) = options
        .numeric
        .iter()
        .find(|n| options.categorical.contains(n))
    {
        bail!("column `{both}` cannot be forced both --numeric and --categorical");
    }

    let mut records: Vec<csv::StringRecord> = Vec::new();
    let mut lines: Vec<u64> = Vec::new();
    for result in reader.records() {
        let record = result.map_err(|error| describe_csv_error(&error, &headers))?;
        lines.push(record.position().map_or(0, csv::Position::line));
        records.push(record);
    }
    if records.is_empty() {
        bail!("the CSV has a header but no data rows");
    }

    let feature_indices: Vec<usize> = (0..headers.len())
        .filter(|&i| i != label_index && Some(i) != group_index && Some(i) != time_index)
        .filter(|&i| !options.ignore.contains(&headers[i]) && !headers[i].is_empty())
        .collect();
    if feature_indices.is_empty() {
        bail!("no feature columns left besides the label");
    }
    let mut columns = Vec::with_capacity(feature_indices.len());
    for &index in &feature_indices {
        let name = &headers[index];
        let column_type = if options.numeric.contains(name) {
            check_numeric(&records, &lines, index, name)?;
            ColumnType::Numeric
        } else if options.categorical.contains(name) {
            ColumnType::Categorical
        } else {
            infer_type(&records, index)
        };
        columns.push((name.clone(), column_type));
    }

    let positive_value = choose_positive(
        &records,
        label_index,
        options.positive.as_deref(),
        &headers[label_index],
    )?;
    let fields: Vec<FieldSpec> = columns
        .iter()
        .map(|(name, column_type)| match column_type {
            ColumnType::Numeric => FieldSpec::numeric(name, name),
            ColumnType::Categorical => FieldSpec::categorical(name, name),
        })
        .collect();
    let mut dataset = Dataset::new(fields);
    let mut labels = Vec::with_capacity(records.len());
    let mut values: Vec<FieldValue<'_>> = Vec::with_capacity(feature_indices.len());
    for (row, record) in records.iter().enumerate() {
        let raw_label = record.get(label_index).unwrap_or("").trim();
        let is_positive = raw_label == positive_value;
        let label_time = match time_index {
            Some(index) => parse_time(record.get(index).unwrap_or("")).map_err(|raw| {
                anyhow!(
                    "line {}, column `{}`: `{raw}` is not a date or a number",
                    lines[row],
                    headers[index]
                )
            })?,
            None => None,
        };
        let group = match group_index {
            Some(index) => {
                group_id(record.get(index).unwrap_or("")).unwrap_or(u64::MAX - row as u64)
            }
            None => row as u64,
        };
        values.clear();
        for (&index, (_, column_type)) in feature_indices.iter().zip(&columns) {
            let raw = record.get(index).unwrap_or("").trim();
            values.push(match column_type {
                ColumnType::Numeric => FieldValue::Number(parse_number(raw)),
                ColumnType::Categorical => FieldValue::Category((!raw.is_empty()).then_some(raw)),
            });
        }
        let meta = RowMeta {
            label: if is_positive {
                Label::Positive
            } else {
                Label::Unlabeled
            },
            group,
            label_time: if is_positive { label_time } else { None },
        };
        dataset
            .push(&values, meta)
            .with_context(|| format!("line {}", lines[row]))?;
        labels.push(raw_label.to_string());
    }
    Ok(CsvDataset {
        dataset,
        columns,
        positive_value,
        lines,
        labels,
    })
}

fn describe_csv_error(error: &csv::Error, headers: &[String]) -> anyhow::Error {
    match error.kind() {
        csv::ErrorKind::UnequalLengths {
            pos,
            expected_len,
            len,
        } => anyhow!(
            "line {}: expected {expected_len} fields like the header, found {len}",
            pos.as_ref().map_or(0, csv::Position::line)
        ),
        csv::ErrorKind::Utf8 { pos, err } => {
            let column = headers.get(err.field()).map_or_else(
                || format!("#{}", err.field() + 1),
                |name| format!("`{name}`"),
            );
            anyhow!(
                "line {}, column {column}: text is not valid UTF-8",
                pos.as_ref().map_or(0, csv::Position::line)
            )
        }
        csv::ErrorKind::Io(io) => anyhow!("cannot read the file: {io}"),
        _ => anyhow!("malformed CSV: {error}"),
    }
}

fn parse_number(raw: &str) -> Option<f64> {
    if raw.is_empty() {
        return None;
    }
    raw.parse::<f64>()
        .ok()
        .or_else(|| raw.replace(',', "").parse::<f64>().ok())
        .filter(|v| v.is_finite())
}

fn is_missing(raw: &str) -> bool {
    matches!(
        raw.to_ascii_lowercase().as_str(),
        "" | "na" | "n/a" | "null" | "none" | "nan" | "-"
    )
}

/// Numeric when every present value parses as a number and there are at least 3 distinct ones
/// (two-valued columns like 0/1 read better as categories).
fn infer_type(records: &[csv::StringRecord], index: usize) -> ColumnType {
    let mut distinct: HashSet<&str> = HashSet::new();
    for record in records {
        let raw = record.get(index).unwrap_or("").trim();
        if is_missing(raw) {
            continue;
        }
        if parse_number(raw).is_none() {
            return ColumnType::Categorical;
        }
        if distinct.len() < 3 {
            distinct.insert(raw);
        }
    }
    if distinct.len() >= 3 {
        ColumnType::Numeric
    } else {
        ColumnType::Categorical
    }
}

fn check_numeric(
    records: &[csv::StringRecord],
    lines: &[u64],
    index: usize,
    name: &str,
) -> Result<()> {
    for (row, record) in records.iter().enumerate() {
        let raw = record.get(index).unwrap_or("").trim();
        if !is_missing(raw) && parse_number(raw).is_none() {
            bail!(
                "line {}, column `{name}`: `{raw}` is not a number (the column was forced --numeric)",
                lines[row]
            );
        }
    }
    Ok(())
}

fn choose_positive(
    records: &[csv::StringRecord],
    index: usize,
    given: Option<&str>,
    name: &str,
) -> Result<String> {
    let values: BTreeSet<&str> = records
        .iter()
        .map(|record| record.get(index).unwrap_or("").trim())
        .collect();
    if let Some(given) = given {
        if !values.contains(given) {
            bail!("label column `{name}` never holds the positive value `{given}`");
        }
        return Ok(given.to_string());
    }
    let matches: Vec<&&str> = values
        .iter()
        .filter(|value| POSITIVE_SPELLINGS.contains(&value.to_ascii_lowercase().as_str()))
        .collect();
    match matches.as_slice() {
        [only] => Ok((**only).to_string()),
        _ => {
            let shown: Vec<&str> = values.iter().take(10).copied().collect();
            bail!(
                "cannot tell which value of label column `{name}` is positive (values: {}); pass --positive VALUE",
                shown.join(", ")
            )
        }
    }
}

fn parse_time(raw: &str) -> Result<Option<i64>, String> {
    let raw = raw.trim();
    if is_missing(raw) {
        return Ok(None);
    }
    if let Some(time) = parse_hubspot_time(raw) {
        return Ok(Some(time));
    }
    raw.parse::<f64>()
        .ok()
        .filter(|v| v.is_finite())
        .map(|v| Some(v as i64))
        .ok_or_else(|| raw.to_string())
}

fn group_id(raw: &str) -> Option<u64> {
    let raw = raw.trim();
    if raw.is_empty() {
        return None;
    }
    raw.parse::<u64>().ok().or_else(|| {
        // Stable FNV-1a hash of non-numeric ids.
        let mut hash: u64 = 0xcbf29ce484222325;
        for byte in raw.bytes() {
            hash ^= u64::from(byte);
            hash = hash.wrapping_mul(0x100000001b3);
        }
        Some(hash)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_and_missing_values() {
        assert_eq!(parse_number("1,200"), Some(1200.0));
        assert_eq!(parse_number("3.5"), Some(3.5));
        assert_eq!(parse_number("inf"), None);
        assert!(is_missing("N/A"));
        assert_eq!(parse_time("2026-01-02").unwrap(), Some(1_767_312_000));
        assert_eq!(parse_time("").unwrap(), None);
        assert!(parse_time("soon").is_err());
        assert_eq!(group_id("42"), Some(42));
        assert_eq!(group_id("acme"), group_id("acme"));
        assert_ne!(group_id("acme"), group_id("globex"));
    }
}
