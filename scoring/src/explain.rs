//! Per-record explanations: signed points per original field and the plain-language text.
//!
//! Points are a field's contribution to the logit relative to the average contact, scaled so
//! that +10 points doubles the odds (points = 10·Δlogit/ln 2). A sales rep sees the top three
//! reasons for and the top two against, with "X% of your closed-won customers vs Y% of
//! contacts" where at least three customers back the claim.

use serde::{Deserialize, Serialize};

use crate::calibration::Grade;

/// At most this many reasons for a good fit.
pub const MAX_POSITIVE_FACTORS: usize = 3;
/// At most this many reasons against.
pub const MAX_NEGATIVE_FACTORS: usize = 2;
/// A share is quoted only when at least this many closed-won customers have the value.
pub const MIN_CUSTOMERS_FOR_SHARE: usize = 3;
/// Factors moving the odds by less than this many points (±15%) are noise to a reader.
pub const MIN_FACTOR_POINTS: i32 = 2;

/// One reason, tied to an original field.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Factor {
    /// Field name (HubSpot property or CSV column).
    pub field: String,
    /// The value in words, e.g. "Computer software industry".
    pub text: String,
    /// Signed points; +10 doubles the odds compared with the average contact.
    pub points: i32,
    /// Share of closed-won records with this value, when quotable.
    pub won_share: Option<f64>,
    /// Share of all contacts with this value, when quotable.
    pub contact_share: Option<f64>,
}

impl Factor {
    /// "Computer software industry (42% of your closed-won customers vs 12% of contacts)".
    pub fn phrase(&self) -> String {
        match (self.won_share, self.contact_share) {
            (Some(0.0), Some(all)) => format!(
                "{} (none of your closed-won customers vs {} of contacts)",
                self.text,
                percent(all)
            ),
            (Some(won), Some(all)) => format!(
                "{} ({} of your closed-won customers vs {} of contacts)",
                self.text,
                percent(won),
                percent(all)
            ),
            _ => self.text.clone(),
        }
    }
}

fn percent(share: f64) -> String {
    let value = share * 100.0;
    if value > 0.0 && value < 1.0 {
        "<1%".to_string()
    } else {
        format!("{}%", value.round() as i64)
    }
}

/// The reasons behind one score.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Explanation {
    /// Grade of the explained score; sets the headline ("Strong fit" only for A and B).
    pub grade: Grade,
    /// Strongest first.
    pub positives: Vec<Factor>,
    /// Strongest (most negative) first.
    pub negatives: Vec<Factor>,
}

impl Explanation {
    /// Picks the top factors (at least [`MIN_FACTOR_POINTS`] either way); ties break by field
    /// order, so the same model and contact always give the same explanation.
    pub fn from_factors(mut factors: Vec<Factor>, grade: Grade) -> Explanation {
        // Stable sort keeps field order among equal points.
        factors.sort_by_key(|factor| std::cmp::Reverse(factor.points));
        let positives: Vec<Factor> = factors
            .iter()
            .filter(|f| f.points >= MIN_FACTOR_POINTS)
            .take(MAX_POSITIVE_FACTORS)
            .cloned()
            .collect();
        let negatives: Vec<Factor> = factors
            .iter()
            .rev()
            .filter(|f| f.points <= -MIN_FACTOR_POINTS)
            .take(MAX_NEGATIVE_FACTORS)
            .cloned()
            .collect();
        Explanation {
            grade,
            positives,
            negatives,
        }
    }

    /// At most two lines for HubSpot's multi-line property. The headline follows the grade:
    /// A/B "Strong fit: …" then "Weaker: …"; C "Partial fit: …" then "Weaker: …"; D/F lead
    /// with what holds the contact back ("Weak fit: …") then "In its favour: …".
    pub fn text(&self) -> String {
        let join = |factors: &[Factor]| {
            factors
                .iter()
                .map(Factor::phrase)
                .collect::<Vec<_>>()
                .join(", ")
        };
        let (first, second) = match self.grade {
            Grade::A | Grade::B => (
                section("Strong fit", &join(&self.positives)),
                section("Weaker", &join(&self.negatives)),
            ),
            Grade::C => (
                section("Partial fit", &join(&self.positives)),
                section("Weaker", &join(&self.negatives)),
            ),
            Grade::D | Grade::F => (
                section("Weak fit", &join(&self.negatives)),
                section("In its favour", &join(&self.positives)),
            ),
        };
        match (first, second) {
            (Some(first), Some(second)) => format!("{first}\n{second}"),
            (Some(only), None) | (None, Some(only)) => only,
            (None, None) => "Close to your average contact on every field.".to_string(),
        }
    }

    /// One factor per line with its signed points, e.g. "+14 Computer software industry".
    pub fn top_factors(&self) -> String {
        self.positives
            .iter()
            .chain(&self.negatives)
            .map(|factor| {
                let sign = if factor.points > 0 { "+" } else { "−" };
                format!("{sign}{} {}", factor.points.abs(), factor.text)
            })
            .collect::<Vec<_>>()
            .join("\n")
    }
}

fn section(heading: &str, body: &str) -> Option<String> {
    (!body.is_empty()).then(|| format!("{heading}: {body}."))
}

/// Points for a logit contribution: +10 doubles the odds.
pub fn points_of_logit(logit: f64) -> i32 {
    if logit.is_finite() {
        (10.0 * logit / std::f64::consts::LN_2).round() as i32
    } else {
        0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn factor(field: &str, points: i32, shares: Option<(f64, f64)>) -> Factor {
        Factor {
            field: field.to_string(),
            text: format!("{field} value"),
            points,
            won_share: shares.map(|s| s.0),
            contact_share: shares.map(|s| s.1),
        }
    }

    #[test]
    fn keeps_three_best_and_two_worst_in_a_stable_order() {
        let explanation = Explanation::from_factors(
            vec![
                factor("a", 5, None),
                factor("b", 12, Some((0.42, 0.12))),
                factor("c", 5, None),
                factor("d", 1, None),
                factor("e", -3, None),
                factor("f", -9, Some((0.0, 0.08))),
                factor("g", -1, None),
                factor("h", 0, None),
            ],
            Grade::A,
        );
        let fields: Vec<&str> = explanation
            .positives
            .iter()
            .map(|f| f.field.as_str())
            .collect();
        assert_eq!(fields, ["b", "a", "c"]);
        let fields: Vec<&str> = explanation
            .negatives
            .iter()
            .map(|f| f.field.as_str())
            .collect();
        assert_eq!(fields, ["f", "e"]);
        assert_eq!(
            explanation.text(),
            "Strong fit: b value (42% of your closed-won customers vs 12% of contacts), a value, c value.\n\
             Weaker: f value (none of your closed-won customers vs 8% of contacts), e value."
        );
        assert_eq!(
            explanation.top_factors(),
            "+12 b value\n+5 a value\n+5 c value\n−9 f value\n−3 e value"
        );
    }

    #[test]
    fn headlines_follow_the_grade() {
        let factors = vec![factor("a", -2, Some((0.004, 0.5))), factor("b", 3, None)];
        let weak = Explanation::from_factors(factors.clone(), Grade::F);
        assert_eq!(
            weak.text(),
            "Weak fit: a value (<1% of your closed-won customers vs 50% of contacts).\nIn its favour: b value."
        );
        let partial = Explanation::from_factors(factors, Grade::C);
        assert!(
            partial
                .text()
                .starts_with("Partial fit: b value.\nWeaker: a value")
        );
        let flat = Explanation::from_factors(vec![factor("a", 1, None)], Grade::C);
        assert!(flat.positives.is_empty(), "1 point is below the threshold");
        assert_eq!(flat.text(), "Close to your average contact on every field.");
        assert_eq!(points_of_logit(std::f64::consts::LN_2), 10);
        assert_eq!(points_of_logit(f64::NAN), 0);
    }
}
