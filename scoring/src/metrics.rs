//! Ranking-quality metrics: AUC, top-decile lift, capture@k and win rate by grade.
//!
//! These are what a buyer of a lead score cares about ("are my best leads on top?"), and they
//! need no probability calibration.

use serde::{Deserialize, Serialize};

use crate::calibration::Grade;

/// Errors computing metrics.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum MetricError {
    #[error("{scores} scores but {labels} labels")]
    LengthMismatch { scores: usize, labels: usize },
    #[error("score {index} is not a finite number")]
    NonFinite { index: usize },
    #[error("AUC needs at least one positive and one negative")]
    OneClass,
}

fn check(scores: &[f64], positives: &[bool]) -> Result<(), MetricError> {
    if scores.len() != positives.len() {
        return Err(MetricError::LengthMismatch {
            scores: scores.len(),
            labels: positives.len(),
        });
    }
    match scores.iter().position(|s| !s.is_finite()) {
        Some(index) => Err(MetricError::NonFinite { index }),
        None => Ok(()),
    }
}

/// Area under the ROC curve (Mann–Whitney with tie-averaged ranks).
pub fn auc(scores: &[f64], positives: &[bool]) -> Result<f64, MetricError> {
    check(scores, positives)?;
    let n_pos = positives.iter().filter(|p| **p).count();
    let n_neg = positives.len() - n_pos;
    if n_pos == 0 || n_neg == 0 {
        return Err(MetricError::OneClass);
    }
    let mut order: Vec<usize> = (0..scores.len()).collect();
    order.sort_by(|&a, &b| scores[a].total_cmp(&scores[b]));
    let mut rank_sum_pos = 0.0;
    let mut start = 0;
    while start < order.len() {
        let mut end = start + 1;
        while end < order.len() && scores[order[end]] == scores[order[start]] {
            end += 1;
        }
        let mid_rank = (start + end + 1) as f64 / 2.0; // ranks are 1-based
        let tied_pos = order[start..end].iter().filter(|&&i| positives[i]).count();
        rank_sum_pos += mid_rank * tied_pos as f64;
        start = end;
    }
    let n_pos_f = n_pos as f64;
    Ok((rank_sum_pos - n_pos_f * (n_pos_f + 1.0) / 2.0) / (n_pos_f * n_neg as f64))
}

/// Indices sorted best score first; ties keep input order so results are deterministic.
fn best_first(scores: &[f64]) -> Vec<usize> {
    let mut order: Vec<usize> = (0..scores.len()).collect();
    order.sort_by(|&a, &b| scores[b].total_cmp(&scores[a]).then(a.cmp(&b)));
    order
}

/// Share of all positives found in the best-scored `fraction` of rows.
pub fn capture_at(scores: &[f64], positives: &[bool], fraction: f64) -> Result<f64, MetricError> {
    check(scores, positives)?;
    let total = positives.iter().filter(|p| **p).count();
    if total == 0 {
        return Err(MetricError::OneClass);
    }
    let top = top_count(scores.len(), fraction);
    let found = best_first(scores)[..top]
        .iter()
        .filter(|&&i| positives[i])
        .count();
    Ok(found as f64 / total as f64)
}

/// Positive rate in the best-scored `fraction` of rows divided by the overall positive rate.
pub fn lift_at(scores: &[f64], positives: &[bool], fraction: f64) -> Result<f64, MetricError> {
    check(scores, positives)?;
    let top = top_count(scores.len(), fraction);
    let capture = capture_at(scores, positives, fraction)?;
    Ok(capture * scores.len() as f64 / top as f64)
}

fn top_count(len: usize, fraction: f64) -> usize {
    ((len as f64 * fraction).ceil() as usize).clamp(1, len.max(1))
}

/// Rows and positives in one grade.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GradeRate {
    pub grade: Grade,
    pub rows: usize,
    pub positives: usize,
    /// Positives / rows (0 when the grade is empty).
    pub win_rate: f64,
}

/// Win rate per grade, best grade first.
pub fn win_rate_by_grade(grades: &[Grade], positives: &[bool]) -> Vec<GradeRate> {
    Grade::ALL
        .iter()
        .map(|&grade| {
            let (rows, hits) = grades
                .iter()
                .zip(positives)
                .filter(|(g, _)| **g == grade)
                .fold((0, 0), |(rows, hits), (_, p)| {
                    (rows + 1, hits + usize::from(*p))
                });
            GradeRate {
                grade,
                rows,
                positives: hits,
                win_rate: if rows == 0 {
                    0.0
                } else {
                    hits as f64 / rows as f64
                },
            }
        })
        .collect()
}

/// True when win rates never rise from a better grade to a worse one (empty grades ignored).
pub fn is_monotone(rates: &[GradeRate]) -> bool {
    let present: Vec<f64> = rates
        .iter()
        .filter(|r| r.rows > 0)
        .map(|r| r.win_rate)
        .collect();
    present.windows(2).all(|pair| pair[0] >= pair[1])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auc_of_perfect_reversed_and_tied_rankings() {
        let labels = [true, true, false, false];
        assert_eq!(auc(&[4.0, 3.0, 2.0, 1.0], &labels).unwrap(), 1.0);
        assert_eq!(auc(&[1.0, 2.0, 3.0, 4.0], &labels).unwrap(), 0.0);
        assert_eq!(auc(&[1.0, 1.0, 1.0, 1.0], &labels).unwrap(), 0.5);
        assert_eq!(auc(&[3.0, 1.0, 2.0, 0.0], &labels).unwrap(), 0.75);
    }

    #[test]
    fn auc_refuses_nan_and_one_class() {
        assert_eq!(
            auc(&[1.0, f64::NAN], &[true, false]),
            Err(MetricError::NonFinite { index: 1 })
        );
        assert_eq!(auc(&[1.0, 2.0], &[true, true]), Err(MetricError::OneClass));
        assert!(matches!(
            auc(&[1.0], &[true, false]),
            Err(MetricError::LengthMismatch { .. })
        ));
    }

    #[test]
    fn lift_and_capture_on_a_known_ranking() {
        // 20 rows, 4 positives; the best two rows are positives.
        let scores: Vec<f64> = (0..20).map(|i| 20.0 - i as f64).collect();
        let mut positives = vec![false; 20];
        for i in [0, 1, 10, 19] {
            positives[i] = true;
        }
        assert_eq!(capture_at(&scores, &positives, 0.1).unwrap(), 0.5);
        assert_eq!(lift_at(&scores, &positives, 0.1).unwrap(), 5.0);
        assert_eq!(capture_at(&scores, &positives, 0.2).unwrap(), 0.5);
        assert_eq!(capture_at(&scores, &positives, 1.0).unwrap(), 1.0);
    }

    #[test]
    fn grade_table_and_monotonicity() {
        let grades = [Grade::A, Grade::A, Grade::B, Grade::F, Grade::F];
        let positives = [true, true, false, false, true];
        let rates = win_rate_by_grade(&grades, &positives);
        assert_eq!(rates[0].win_rate, 1.0);
        assert_eq!(rates[1].win_rate, 0.0);
        assert_eq!(rates[2].rows, 0);
        assert_eq!(rates[4].win_rate, 0.5);
        assert!(!is_monotone(&rates));
        let monotone = win_rate_by_grade(&[Grade::A, Grade::B, Grade::F], &[true, true, false]);
        assert!(is_monotone(&monotone));
    }
}
