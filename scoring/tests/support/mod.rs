//! Turns a generated HubSpot portal into scoring inputs, the way the pipeline does.

#![allow(dead_code)]

use std::collections::{HashMap, HashSet};

use hubspot_sim::generator::{GeneratedPortal, GeneratorConfig, generate};
use scoring::crm::{
    CompanyFacts, ContactFacts, ContactTraining, DealFacts, DealLabels, LabeledContact,
    contact_dataset, train_contacts,
};
use scoring::{Label, TrainConfig};

/// A portal's contacts as facts, with labels from deals and the hidden truth alongside.
pub struct Fixture {
    pub facts: Vec<ContactFacts>,
    pub company_ids: Vec<Option<u64>>,
    pub labels: Vec<(Label, Option<i64>)>,
    pub propensity: Vec<f64>,
    pub future_outcome: Vec<Option<bool>>,
    pub ceiling_auc: f64,
    pub closed_won_companies: usize,
}

impl Fixture {
    pub fn labeled(&self) -> Vec<LabeledContact<'_>> {
        self.facts
            .iter()
            .zip(&self.company_ids)
            .zip(&self.labels)
            .map(
                |((facts, company_id), (label, label_time))| LabeledContact {
                    facts,
                    company_id: *company_id,
                    label: *label,
                    label_time: *label_time,
                },
            )
            .collect()
    }
}

pub fn generate_portal(seed: u64, contacts: usize, closed_won: Option<usize>) -> GeneratedPortal {
    let mut config = GeneratorConfig::new(seed, contacts);
    config.closed_won_companies = closed_won;
    generate(&config).expect("valid generator config")
}

pub fn fixture(seed: u64, contacts: usize, closed_won: Option<usize>) -> Fixture {
    fixture_of(&generate_portal(seed, contacts, closed_won))
}

/// Which deal associations labelling may use.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Links {
    /// Deal→contact and deal→company, as the pipeline reads them: buyers are the positives.
    DealContacts,
    /// Deal→company only (a portal that never links contacts to deals): company-level labels.
    CompaniesOnly,
}

pub fn fixture_of(portal: &GeneratedPortal) -> Fixture {
    fixture_with(portal, Links::DealContacts)
}

fn closed_won_companies(deals: &[(u64, DealFacts)], deal_company: &[(u64, u64)]) -> usize {
    let won: HashSet<u64> = deals
        .iter()
        .filter(|(_, facts)| facts.closed_won)
        .map(|(id, _)| *id)
        .collect();
    deal_company
        .iter()
        .filter(|(deal, _)| won.contains(deal))
        .map(|(_, company)| *company)
        .collect::<HashSet<_>>()
        .len()
}

pub fn fixture_with(portal: &GeneratedPortal, links: Links) -> Fixture {
    let companies: HashMap<u64, CompanyFacts> = portal
        .companies
        .iter()
        .map(|record| {
            (
                record.id,
                CompanyFacts::from_hubspot_properties(&record.properties),
            )
        })
        .collect();
    let deals: Vec<(u64, DealFacts)> = portal
        .deals
        .iter()
        .map(|record| {
            (
                record.id,
                DealFacts::from_hubspot_properties(&record.properties),
            )
        })
        .collect();
    let closed_won_companies = closed_won_companies(&deals, &portal.deal_company);
    let deal_contact: &[(u64, u64)] = match links {
        Links::DealContacts => &portal.deal_contact,
        Links::CompaniesOnly => &[],
    };
    let labels = DealLabels::new(
        deals,
        portal.deal_company.iter().copied(),
        deal_contact.iter().copied(),
    );
    let company_of: HashMap<u64, u64> = portal.contact_company.iter().copied().collect();
    let mut fixture = Fixture {
        facts: Vec::with_capacity(portal.contacts.len()),
        company_ids: Vec::with_capacity(portal.contacts.len()),
        labels: Vec::with_capacity(portal.contacts.len()),
        propensity: Vec::with_capacity(portal.contacts.len()),
        future_outcome: Vec::with_capacity(portal.contacts.len()),
        ceiling_auc: portal.ground_truth.ceiling_auc().expect("ceiling defined"),
        closed_won_companies,
    };
    for contact in &portal.contacts {
        let company_id = company_of.get(&contact.id).copied();
        let company = company_id.and_then(|id| companies.get(&id).cloned());
        fixture.facts.push(ContactFacts::from_hubspot_properties(
            &contact.properties,
            company,
        ));
        fixture.company_ids.push(company_id);
        fixture.labels.push(labels.label(contact.id, company_id));
        let truth = portal
            .ground_truth
            .contact(contact.id)
            .expect("truth for every contact");
        fixture.propensity.push(truth.propensity);
        fixture.future_outcome.push(truth.future_outcome);
    }
    fixture
}

/// Model AUC and the truth's AUC on the same contacts: scorable, with a future outcome.
pub struct Quality {
    pub model_auc: f64,
    pub ceiling_auc: f64,
    pub generator_ceiling_auc: f64,
    pub lift_top_decile: f64,
    /// Future buyers among the evaluated contacts.
    pub positives: usize,
    /// Positive rows the model trained on (scorable contacts labelled positive).
    pub training_positives: usize,
    pub closed_won_companies: usize,
    pub evaluated: usize,
}

pub fn quality(fixture: &Fixture, config: &TrainConfig) -> Quality {
    let data = contact_dataset(fixture.labeled());
    let ContactTraining::Trained(model) = train_contacts(&data, config).expect("training succeeds")
    else {
        panic!(
            "expected a model with {} closed-won companies",
            fixture.closed_won_companies
        )
    };
    let scores = model.score_dataset(&data);
    let mut model_scored = Vec::new();
    let mut truth_scored = Vec::new();
    for (row, &input) in data.input_index.iter().enumerate() {
        if let Some(outcome) = fixture.future_outcome[input] {
            model_scored.push((scores[row].raw, outcome));
            truth_scored.push((fixture.propensity[input], outcome));
        }
    }
    let raw: Vec<f64> = model_scored.iter().map(|s| s.0).collect();
    let outcomes: Vec<bool> = model_scored.iter().map(|s| s.1).collect();
    Quality {
        model_auc: scoring::metrics::auc(&raw, &outcomes).expect("both classes"),
        ceiling_auc: scoring::metrics::auc(
            &truth_scored.iter().map(|s| s.0).collect::<Vec<_>>(),
            &outcomes,
        )
        .expect("both classes"),
        generator_ceiling_auc: fixture.ceiling_auc,
        lift_top_decile: scoring::metrics::lift_at(&raw, &outcomes, 0.1).expect("positives"),
        positives: outcomes.iter().filter(|o| **o).count(),
        training_positives: data
            .dataset
            .labels()
            .iter()
            .filter(|l| **l == Label::Positive)
            .count(),
        closed_won_companies: fixture.closed_won_companies,
        evaluated: outcomes.len(),
    }
}

/// AUC (against the future outcomes, on the contacts `quality` evaluates) of the best our
/// feature space can do with unlimited labels: a least-squares fit of the true log-odds on the
/// encoded features of every scorable contact. What it misses of the ceiling is hidden from
/// any model trained on these features: missing firmographics, titles that say nothing, the
/// generator's hidden terms. A trained model above it by more than noise would be leaking.
pub fn observable_oracle_auc(fixture: &Fixture) -> f64 {
    use scoring::encoder::{EncoderConfig, FeatureEncoder};
    let data = contact_dataset(fixture.labeled());
    let rows: Vec<usize> = (0..data.dataset.len()).collect();
    let encoder = FeatureEncoder::fit(&data.dataset, &rows, &EncoderConfig::default());
    let encoded = encoder.encode_dataset(&data.dataset, &rows);
    let width = encoder.columns + encoder.continuous + 1;
    let features = |row: usize| -> Vec<(usize, f64)> {
        let mut active: Vec<(usize, f64)> = encoded
            .row_columns(row)
            .iter()
            .map(|&column| (column as usize, 1.0))
            .collect();
        for (slot, &value) in encoded.row_values(row).iter().enumerate() {
            active.push((encoder.columns + slot, f64::from(value)));
        }
        active.push((width - 1, 1.0));
        active
    };
    let mut gram = vec![0.0f64; width * width];
    let mut moment = vec![0.0f64; width];
    for row in 0..encoded.len() {
        let p = fixture.propensity[data.input_index[row]];
        let log_odds = (p / (1.0 - p)).ln();
        let active = features(row);
        for &(i, a) in &active {
            moment[i] += a * log_odds;
            for &(j, b) in &active {
                gram[i * width + j] += a * b;
            }
        }
    }
    let beta = solve_ridge(gram, &moment, width, 1e-3);
    let mut scores = Vec::new();
    let mut outcomes = Vec::new();
    for row in 0..encoded.len() {
        if let Some(outcome) = fixture.future_outcome[data.input_index[row]] {
            scores.push(features(row).iter().map(|&(i, a)| beta[i] * a).sum::<f64>());
            outcomes.push(outcome);
        }
    }
    scoring::metrics::auc(&scores, &outcomes).expect("both classes")
}

/// Solves (G + ridge·I) β = m by Cholesky (G is a Gram matrix, so the system is positive definite).
fn solve_ridge(mut gram: Vec<f64>, moment: &[f64], n: usize, ridge: f64) -> Vec<f64> {
    for i in 0..n {
        gram[i * n + i] += ridge;
    }
    let mut lower = vec![0.0f64; n * n];
    for i in 0..n {
        for j in 0..=i {
            let mut sum = gram[i * n + j];
            for k in 0..j {
                sum -= lower[i * n + k] * lower[j * n + k];
            }
            lower[i * n + j] = if i == j {
                sum.max(1e-12).sqrt()
            } else {
                sum / lower[j * n + j]
            };
        }
    }
    let mut forward = vec![0.0; n];
    for i in 0..n {
        let sum: f64 = (0..i).map(|k| lower[i * n + k] * forward[k]).sum();
        forward[i] = (moment[i] - sum) / lower[i * n + i];
    }
    let mut beta = vec![0.0; n];
    for i in (0..n).rev() {
        let sum: f64 = (i + 1..n).map(|k| lower[k * n + i] * beta[k]).sum();
        beta[i] = (forward[i] - sum) / lower[i * n + i];
    }
    beta
}
