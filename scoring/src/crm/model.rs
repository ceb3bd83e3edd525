//! Training on a portal's contacts and scoring one contact at a time.

use std::collections::HashSet;

use serde::{Deserialize, Serialize};

use crate::dataset::{Dataset, Label, RowMeta};
use crate::explain::Explanation;
use crate::model::{ArtefactError, Score, Scratch, TabularModel};
use crate::train::{NotEnoughData, TrainConfig, TrainError, TrainOutcome, train};

use super::facts::ContactFacts;
use super::features::{Derived, contact_fields};

/// Why a contact gets no score (recorded and shown, never silently skipped).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Unscorable {
    /// The contact has no associated company.
    NoCompany,
    /// The company record has no industry, size, revenue or country.
    NoCompanyData,
}

impl Unscorable {
    /// Stable machine-readable code.
    pub fn code(self) -> &'static str {
        match self {
            Unscorable::NoCompany => "no_company",
            Unscorable::NoCompanyData => "no_company_data",
        }
    }
}

impl std::fmt::Display for Unscorable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Unscorable::NoCompany => "not scored: the contact has no associated company",
            Unscorable::NoCompanyData => {
                "not scored: the company has no industry, size, revenue or country"
            }
        })
    }
}

/// Checks that a contact can be placed by firmographics.
pub fn scorability(facts: &ContactFacts) -> Result<(), Unscorable> {
    match &facts.company {
        None => Err(Unscorable::NoCompany),
        Some(company) if company.is_empty() => Err(Unscorable::NoCompanyData),
        Some(_) => Ok(()),
    }
}

/// A contact with its training label.
#[derive(Debug, Clone, Copy)]
pub struct LabeledContact<'a> {
    pub facts: &'a ContactFacts,
    /// Primary company id: contacts of one company share a group.
    pub company_id: Option<u64>,
    pub label: Label,
    /// When the label became known (first closed-won / last closed-lost), epoch seconds.
    pub label_time: Option<i64>,
}

/// The scorable contacts of a portal as a dataset, plus the ones set aside and why.
#[derive(Debug, Clone)]
pub struct ContactDataset {
    pub dataset: Dataset,
    /// Input position of each dataset row.
    pub input_index: Vec<usize>,
    /// Input position and reason of each contact left out.
    pub unscorable: Vec<(usize, Unscorable)>,
}

/// Builds the dataset of scorable contacts.
pub fn contact_dataset<'a>(
    contacts: impl IntoIterator<Item = LabeledContact<'a>>,
) -> ContactDataset {
    let mut dataset = Dataset::new(contact_fields());
    let mut input_index = Vec::new();
    let mut unscorable = Vec::new();
    for (index, contact) in contacts.into_iter().enumerate() {
        if let Err(reason) = scorability(contact.facts) {
            unscorable.push((index, reason));
            continue;
        }
        let derived = Derived::of(contact.facts);
        let values = derived.values(contact.facts);
        // Contacts whose company id is unknown form their own group.
        let group = contact.company_id.unwrap_or(u64::MAX - index as u64);
        let meta = RowMeta {
            label: contact.label,
            group,
            label_time: contact.label_time,
        };
        if dataset.push(&values, meta).is_ok() {
            input_index.push(index);
        }
    }
    ContactDataset {
        dataset,
        input_index,
        unscorable,
    }
}

/// Result of training on contacts.
#[derive(Debug, Clone)]
pub enum ContactTraining {
    Trained(Box<ContactModel>),
    NotEnoughData(NotEnoughData),
}

/// Trains on every scorable contact and calibrates on the same population.
pub fn train_contacts(
    data: &ContactDataset,
    config: &TrainConfig,
) -> Result<ContactTraining, TrainError> {
    let rows: Vec<usize> = (0..data.dataset.len()).collect();
    Ok(match train(&data.dataset, &rows, &rows, config)? {
        TrainOutcome::Trained(model) => {
            ContactTraining::Trained(Box::new(ContactModel { model: *model }))
        }
        TrainOutcome::NotEnoughData(status) => ContactTraining::NotEnoughData(status),
    })
}

/// A score with its reasons.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScoredContact {
    pub score: Score,
    pub explanation: Explanation,
}

/// The outcome of scoring one contact.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum ContactScore {
    Scored(ScoredContact),
    Unscorable(Unscorable),
}

/// Errors loading a contact model.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum ContactModelError {
    #[error(transparent)]
    Artefact(#[from] ArtefactError),
    #[error(
        "the artefact's fields {found:?} are not the contact feature set; it is not a contact model"
    )]
    NotAContactModel { found: Vec<String> },
}

/// A trained model over the contact feature set.
#[derive(Debug, Clone, PartialEq)]
pub struct ContactModel {
    model: TabularModel,
}

impl ContactModel {
    /// The underlying generic model (metrics, calibration, weights).
    pub fn model(&self) -> &TabularModel {
        &self.model
    }

    /// Buffers for allocation-free repeated scoring.
    pub fn scratch(&self) -> Scratch {
        self.model.scratch()
    }

    /// Score only (the fast path; no explanation strings).
    pub fn fit_score(
        &self,
        facts: &ContactFacts,
        scratch: &mut Scratch,
    ) -> Result<Score, Unscorable> {
        scorability(facts)?;
        let derived = Derived::of(facts);
        let values = derived.values(facts);
        // The value array always matches the contact feature set the model was checked against.
        self.model
            .score(&values, scratch)
            .map_err(|_| Unscorable::NoCompanyData)
    }

    /// Score, grade and explanation of one contact.
    pub fn score(&self, facts: &ContactFacts) -> ContactScore {
        if let Err(reason) = scorability(facts) {
            return ContactScore::Unscorable(reason);
        }
        let mut scratch = self.model.scratch();
        let derived = Derived::of(facts);
        let values = derived.values(facts);
        match (
            self.model.score(&values, &mut scratch),
            self.model.explain(&values, &mut scratch),
        ) {
            (Ok(score), Ok(explanation)) => {
                ContactScore::Scored(ScoredContact { score, explanation })
            }
            _ => ContactScore::Unscorable(Unscorable::NoCompanyData),
        }
    }

    /// Scores every row of a contact dataset in bulk (encodes each distinct value once).
    pub fn score_dataset(&self, data: &ContactDataset) -> Vec<Score> {
        let rows: Vec<usize> = (0..data.dataset.len()).collect();
        let encoded = self.model.encoder.encode_dataset(&data.dataset, &rows);
        (0..encoded.len())
            .map(|row| {
                self.model
                    .score_encoded(encoded.row_columns(row), encoded.row_values(row))
            })
            .collect()
    }

    /// Serialises the artefact.
    pub fn to_json(&self) -> Result<String, ArtefactError> {
        self.model.to_json()
    }

    /// Loads an artefact and checks it was trained on the contact feature set.
    pub fn from_json(json: &str) -> Result<Self, ContactModelError> {
        ContactModel::try_from(TabularModel::from_json(json)?)
    }
}

impl TryFrom<TabularModel> for ContactModel {
    type Error = ContactModelError;

    fn try_from(model: TabularModel) -> Result<Self, Self::Error> {
        let expected: Vec<String> = contact_fields().into_iter().map(|f| f.name).collect();
        let found: Vec<String> = model.fields().iter().map(|f| f.spec.name.clone()).collect();
        if found == expected {
            Ok(ContactModel { model })
        } else {
            Err(ContactModelError::NotAContactModel { found })
        }
    }
}

/// Distinct closed-won companies among the labelled contacts (the "closed-won count").
pub fn positive_companies(contacts: &[LabeledContact<'_>]) -> usize {
    contacts
        .iter()
        .filter(|c| c.label == Label::Positive)
        .filter_map(|c| c.company_id)
        .collect::<HashSet<_>>()
        .len()
}
