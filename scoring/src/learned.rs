//! What a model learned across a whole portal: every field value's effect on the score
//! compared with the average contact, read from the artefact alone (weights, baselines,
//! explanation tables; no contact data), so the dashboard can say which traits the portal's
//! closed-won customers share and which ones count against a contact.
//!
//! The points are those a contact with that value gets in its own explanation. For numeric
//! fields (employees, revenue) a bin's continuous part is taken at the bin's middle (its
//! edge for the open-ended first and last bins), so their points are typical, not exact.

use crate::encoder::{CONTINUOUS_CLIP, EncodedField, EncodedKind};
use crate::explain::{Factor, MIN_FACTOR_POINTS};
use crate::model::TabularModel;

/// Values held by fewer contacts than this share are left out: too rare to describe a portal.
pub const MIN_CONTACT_SHARE: f64 = 0.01;

/// The strongest reasons for and against across a portal.
#[derive(Debug, Clone, PartialEq)]
pub struct Learned {
    /// Strongest first.
    pub positives: Vec<Factor>,
    /// Strongest (most negative) first.
    pub negatives: Vec<Factor>,
}

impl TabularModel {
    /// At most `per_side` values that raise the score most and that lower it most (each at
    /// least [`MIN_FACTOR_POINTS`] either way and held by [`MIN_CONTACT_SHARE`] of contacts).
    /// "Other" and "missing" columns are not traits and never appear.
    pub fn learned(&self, per_side: usize) -> Learned {
        let mut factors: Vec<Factor> = self
            .encoder
            .fields
            .iter()
            .enumerate()
            .flat_map(|(index, field)| {
                (0..field.width()).filter_map(move |offset| self.value_factor(index, field, offset))
            })
            .filter(|factor| factor.points.abs() >= MIN_FACTOR_POINTS)
            .collect();
        factors.sort_by_key(|factor| std::cmp::Reverse(factor.points));
        let positives = factors
            .iter()
            .filter(|f| f.points > 0)
            .take(per_side)
            .cloned()
            .collect();
        let negatives = factors
            .iter()
            .rev()
            .filter(|f| f.points < 0)
            .take(per_side)
            .cloned()
            .collect();
        Learned {
            positives,
            negatives,
        }
    }

    /// The factor of one value column, or `None` for "other", "missing" and rare values.
    fn value_factor(&self, index: usize, field: &EncodedField, offset: usize) -> Option<Factor> {
        let column = field.first_column + offset;
        if self.insights[column].contact_share < MIN_CONTACT_SHARE {
            return None;
        }
        let level = match &field.kind {
            EncodedKind::Categorical { values, ordinal } => {
                let key = values.get(offset)?;
                ordinal.as_ref().map_or(0.0, |ordinal| ordinal.level(key))
            }
            EncodedKind::Numeric {
                transform,
                edges,
                mean,
                std,
                ..
            } => {
                if offset > edges.len() {
                    return None;
                }
                let raw = match (offset.checked_sub(1).map(|i| edges[i]), edges.get(offset)) {
                    (Some(low), Some(high)) => (low + high) / 2.0,
                    (Some(edge), None) | (None, Some(&edge)) => edge,
                    (None, None) => return None,
                };
                let transformed = transform.apply(raw)?;
                ((transformed - mean) / std).clamp(-CONTINUOUS_CLIP, CONTINUOUS_CLIP)
            }
        };
        let contribution = self.weights.columns[column]
            + field
                .continuous_slot()
                .map_or(0.0, |slot| self.weights.continuous[slot] * level)
            - self.baselines[index];
        Some(self.factor(field, column, contribution))
    }
}
