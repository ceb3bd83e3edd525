//! The exported ground truth and the AUC helper used to judge a model against it.

use std::fmt::Write as _;

use serde::Serialize;

use super::icp::{Department, Seniority};

/// Hidden truth about one contact; never visible through the simulated API.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ContactTruth {
    pub contact_id: u64,
    /// Primary company, if the contact has one.
    pub company_id: Option<u64>,
    /// True P(buy) from the hidden ICP, in (0, 1).
    pub propensity: f64,
    /// The contact's company already has a closed-won deal in the portal.
    pub is_customer: bool,
    /// The contact is associated with a closed-won deal (one of the buyers).
    pub buyer: bool,
    /// Held-out "future" purchase for non-customers with a company; `None` otherwise.
    pub future_outcome: Option<bool>,
    /// The seniority the job title was rendered from.
    pub seniority: Seniority,
    /// The department the job title was rendered from.
    pub department: Department,
}

/// Hidden truth about one company.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct CompanyTruth {
    pub company_id: u64,
    /// Company part of the true log-odds (firmographics only).
    pub fit_log_odds: f64,
    pub closed_won: bool,
    pub closed_lost: bool,
}

/// Everything needed to measure model quality on a generated portal.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct GroundTruth {
    /// Sorted by `contact_id`.
    pub contacts: Vec<ContactTruth>,
    /// Sorted by `company_id`.
    pub companies: Vec<CompanyTruth>,
}

impl GroundTruth {
    /// Truth for one contact (binary search; ids are sorted).
    pub fn contact(&self, contact_id: u64) -> Option<&ContactTruth> {
        self.contacts
            .binary_search_by_key(&contact_id, |truth| truth.contact_id)
            .ok()
            .map(|index| &self.contacts[index])
    }

    /// CSV with a header: `contact_id,company_id,propensity,is_customer,future_outcome,seniority,department,buyer`.
    /// Empty cells stand for "none".
    pub fn contacts_csv(&self) -> String {
        let mut out = String::with_capacity(self.contacts.len() * 64 + 80);
        out.push_str(
            "contact_id,company_id,propensity,is_customer,future_outcome,seniority,department,buyer\n",
        );
        for truth in &self.contacts {
            let company = truth
                .company_id
                .map(|id| id.to_string())
                .unwrap_or_default();
            let future = truth
                .future_outcome
                .map(|f| f.to_string())
                .unwrap_or_default();
            // Writing into a String cannot fail.
            let _ = writeln!(
                out,
                "{},{},{:.6},{},{},{},{},{}",
                truth.contact_id,
                company,
                truth.propensity,
                truth.is_customer,
                future,
                enum_name(&truth.seniority),
                enum_name(&truth.department),
                truth.buyer,
            );
        }
        out
    }

    /// AUC of the true propensity against `future_outcome`: the best any model can reach on
    /// this portal. `None` when the outcomes are all one class.
    pub fn ceiling_auc(&self) -> Option<f64> {
        let pairs: Vec<(f64, bool)> = self
            .contacts
            .iter()
            .filter_map(|truth| {
                truth
                    .future_outcome
                    .map(|outcome| (truth.propensity, outcome))
            })
            .collect();
        auc(&pairs)
    }
}

fn enum_name<T: Serialize>(value: &T) -> String {
    serde_json::to_value(value)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

/// ROC AUC by the rank-sum (Mann–Whitney) formula, ties counted as half.
/// `None` if either class is empty or a score is NaN.
pub fn auc(scored: &[(f64, bool)]) -> Option<f64> {
    if scored.iter().any(|(score, _)| score.is_nan()) {
        return None;
    }
    let positives = scored.iter().filter(|(_, label)| *label).count();
    let negatives = scored.len() - positives;
    if positives == 0 || negatives == 0 {
        return None;
    }
    let mut sorted: Vec<(f64, bool)> = scored.to_vec();
    sorted.sort_by(|a, b| a.0.total_cmp(&b.0));
    let mut positive_rank_sum = 0.0;
    let mut start = 0;
    while start < sorted.len() {
        let mut end = start;
        while end < sorted.len() && sorted[end].0 == sorted[start].0 {
            end += 1;
        }
        // Ranks are 1-based; tied scores share the mean rank.
        let mean_rank = (start + 1 + end) as f64 / 2.0;
        let tied_positives = sorted[start..end]
            .iter()
            .filter(|(_, label)| *label)
            .count();
        positive_rank_sum += mean_rank * tied_positives as f64;
        start = end;
    }
    let positives = positives as f64;
    let negatives = negatives as f64;
    Some((positive_rank_sum - positives * (positives + 1.0) / 2.0) / (positives * negatives))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auc_of_perfect_and_inverted_rankings() {
        let perfect = [(0.1, false), (0.2, false), (0.8, true), (0.9, true)];
        assert_eq!(auc(&perfect), Some(1.0));
        let inverted = [(0.9, false), (0.8, false), (0.2, true), (0.1, true)];
        assert_eq!(auc(&inverted), Some(0.0));
    }

    #[test]
    fn auc_counts_ties_as_half() {
        let tied = [(0.5, false), (0.5, true)];
        assert_eq!(auc(&tied), Some(0.5));
        let mixed = [(0.1, false), (0.5, true), (0.5, false), (0.9, true)];
        // Pairs: (0.5t vs 0.1f)=1, (0.5t vs 0.5f)=0.5, (0.9t vs both)=2 → 3.5/4.
        assert_eq!(auc(&mixed), Some(0.875));
    }

    #[test]
    fn auc_needs_both_classes() {
        assert_eq!(auc(&[(0.1, true), (0.2, true)]), None);
        assert_eq!(auc(&[]), None);
        assert_eq!(auc(&[(f64::NAN, true), (0.2, false)]), None);
    }
}
