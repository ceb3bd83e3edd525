//! Raw score → percentile within the portal → 0–100 score → letter grade.
//!
//! Percentiles make scores comparable across portals and models ("50 = median fit"). The
//! sorted raw scores (or evenly spaced quantiles of them for big portals) are stored with the
//! model, so one new contact is placed by binary search without re-ranking everyone.

use serde::{Deserialize, Serialize};

/// Above this many contacts, the table keeps evenly spaced quantiles instead of every score.
pub const MAX_CALIBRATION_POINTS: usize = 20_001;

/// Sorted reference scores of the portal's scorable contacts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Calibration {
    /// Ascending raw scores: all of them (`exact`) or quantiles at evenly spaced ranks.
    points: Vec<f64>,
    /// Number of contacts the table describes.
    population: usize,
    exact: bool,
}

/// Errors building a calibration table.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum CalibrationError {
    #[error("cannot calibrate on an empty population")]
    Empty,
    #[error("a raw score is not a finite number")]
    NonFinite,
}

impl Calibration {
    /// Builds the table from the raw scores of the reference population.
    pub fn from_scores(mut scores: Vec<f64>) -> Result<Calibration, CalibrationError> {
        if scores.is_empty() {
            return Err(CalibrationError::Empty);
        }
        if scores.iter().any(|s| !s.is_finite()) {
            return Err(CalibrationError::NonFinite);
        }
        scores.sort_by(f64::total_cmp);
        let population = scores.len();
        if population <= MAX_CALIBRATION_POINTS {
            return Ok(Calibration {
                points: scores,
                population,
                exact: true,
            });
        }
        let last = MAX_CALIBRATION_POINTS - 1;
        let points = (0..MAX_CALIBRATION_POINTS)
            .map(|k| scores[k * (population - 1) / last])
            .collect();
        Ok(Calibration {
            points,
            population,
            exact: false,
        })
    }

    /// Percentile in (0, 100): the mid-rank of `raw` among the reference scores, so the median
    /// contact is 50 and ties share one value. Non-finite input maps to 0 (never NaN).
    pub fn percentile(&self, raw: f64) -> f64 {
        if !raw.is_finite() {
            return 0.0;
        }
        let below = self.points.partition_point(|p| *p < raw);
        let not_above = self.points.partition_point(|p| *p <= raw);
        if self.exact {
            let mid_rank = below as f64 + 0.5 * (not_above - below) as f64;
            return 100.0 * mid_rank / self.population as f64;
        }
        let last = (self.points.len() - 1) as f64;
        let position = if below == not_above {
            // Between quantiles: interpolate linearly.
            if below == 0 {
                0.0
            } else if below == self.points.len() {
                last
            } else {
                let (lo, hi) = (self.points[below - 1], self.points[below]);
                (below - 1) as f64 + (raw - lo) / (hi - lo)
            }
        } else {
            (below as f64 + (not_above - 1) as f64) / 2.0
        };
        100.0 * position / last
    }

    /// How many contacts the table describes.
    pub fn population(&self) -> usize {
        self.population
    }

    /// Number of stored points (memory is ~8 bytes each).
    pub fn points(&self) -> usize {
        self.points.len()
    }
}

/// Letter grade of a score.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Grade {
    A,
    B,
    C,
    D,
    F,
}

impl Grade {
    /// Best to worst.
    pub const ALL: [Grade; 5] = [Grade::A, Grade::B, Grade::C, Grade::D, Grade::F];

    /// The letter as HubSpot's dropdown option value.
    pub fn letter(self) -> &'static str {
        match self {
            Grade::A => "A",
            Grade::B => "B",
            Grade::C => "C",
            Grade::D => "D",
            Grade::F => "F",
        }
    }
}

/// Lowest score of each grade; each portal may tune its own.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct GradeThresholds {
    pub a: u8,
    pub b: u8,
    pub c: u8,
    pub d: u8,
}

impl Default for GradeThresholds {
    fn default() -> Self {
        GradeThresholds {
            a: 80,
            b: 60,
            c: 40,
            d: 20,
        }
    }
}

/// Errors in grade thresholds.
#[derive(Debug, thiserror::Error, PartialEq)]
#[error("grade thresholds must satisfy 100 ≥ A > B > C > D > 0, got A={a} B={b} C={c} D={d}")]
pub struct InvalidThresholds {
    pub a: u8,
    pub b: u8,
    pub c: u8,
    pub d: u8,
}

impl GradeThresholds {
    /// Validated thresholds.
    pub fn new(a: u8, b: u8, c: u8, d: u8) -> Result<Self, InvalidThresholds> {
        if a <= 100 && a > b && b > c && c > d && d > 0 {
            Ok(GradeThresholds { a, b, c, d })
        } else {
            Err(InvalidThresholds { a, b, c, d })
        }
    }

    /// Grade of a 0–100 score.
    pub fn grade(&self, score: u8) -> Grade {
        if score >= self.a {
            Grade::A
        } else if score >= self.b {
            Grade::B
        } else if score >= self.c {
            Grade::C
        } else if score >= self.d {
            Grade::D
        } else {
            Grade::F
        }
    }
}

/// 0–100 integer score of a percentile.
pub fn score_of_percentile(percentile: f64) -> u8 {
    if percentile.is_finite() {
        percentile.round().clamp(0.0, 100.0) as u8
    } else {
        0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_are_mid_ranks_with_median_fifty() {
        let calibration = Calibration::from_scores(vec![3.0, 1.0, 2.0, 4.0, 5.0]).unwrap();
        assert_eq!(calibration.percentile(3.0), 50.0);
        assert_eq!(calibration.percentile(1.0), 10.0);
        assert_eq!(calibration.percentile(5.0), 90.0);
        assert_eq!(calibration.percentile(0.0), 0.0);
        assert_eq!(calibration.percentile(9.0), 100.0);
        assert_eq!(calibration.percentile(f64::NAN), 0.0);
    }

    #[test]
    fn ties_share_the_mid_rank() {
        let calibration = Calibration::from_scores(vec![1.0, 1.0, 1.0, 1.0]).unwrap();
        assert_eq!(calibration.percentile(1.0), 50.0);
    }

    #[test]
    fn percentiles_of_the_population_are_uniform_exact_and_sampled() {
        for n in [1_000usize, 100_000] {
            let scores: Vec<f64> = (0..n).map(|i| ((i * 7919) % n) as f64 * 0.01).collect();
            let calibration = Calibration::from_scores(scores.clone()).unwrap();
            assert_eq!(calibration.population(), n);
            assert!(calibration.points() <= MAX_CALIBRATION_POINTS);
            let mut deciles = [0usize; 10];
            let mut sum = 0.0;
            for score in &scores {
                let p = calibration.percentile(*score);
                assert!((0.0..=100.0).contains(&p));
                sum += p;
                deciles[((p / 10.0) as usize).min(9)] += 1;
            }
            assert!(
                (sum / n as f64 - 50.0).abs() < 0.1,
                "mean percentile {}",
                sum / n as f64
            );
            for count in deciles {
                let share = count as f64 / n as f64;
                assert!(
                    (share - 0.1).abs() < 0.005,
                    "decile share {share} for n={n}"
                );
            }
        }
    }

    #[test]
    fn rejects_empty_and_non_finite_populations() {
        assert_eq!(
            Calibration::from_scores(vec![]),
            Err(CalibrationError::Empty)
        );
        assert_eq!(
            Calibration::from_scores(vec![1.0, f64::NAN]),
            Err(CalibrationError::NonFinite)
        );
    }

    #[test]
    fn grades_follow_default_and_custom_thresholds() {
        let default = GradeThresholds::default();
        let grades: Vec<Grade> = [100, 80, 79, 60, 59, 40, 39, 20, 19, 0]
            .into_iter()
            .map(|s| default.grade(s))
            .collect();
        use Grade::*;
        assert_eq!(grades, [A, A, B, B, C, C, D, D, F, F]);
        let custom = GradeThresholds::new(85, 70, 50, 25).unwrap();
        assert_eq!(custom.grade(84), B);
        assert!(GradeThresholds::new(50, 60, 40, 20).is_err());
        assert_eq!(score_of_percentile(49.5), 50);
        assert_eq!(score_of_percentile(f64::NAN), 0);
    }
}
