//! Seeded synthetic HubSpot portals with a hidden ground-truth ICP (pure: no I/O, no async).
//!
//! Same seed and config give the identical portal, so quality tests and benchmarks are
//! reproducible. See the crate README for the property formats and the ICP.

mod icp;
mod random;
mod records;
mod titles;
mod truth;
mod vocab;

use std::collections::BTreeMap;

use rand::Rng;
use rand_chacha::ChaCha8Rng;

pub use icp::{Department, Seniority};
pub use records::iso_millis;
pub use truth::{CompanyTruth, ContactTruth, GroundTruth, auc};

use icp::{CompanyLatent, ContactLatent};
use random::{chance, normal, stream, weighted_index};
use vocab::{COUNTRIES, INDUSTRIES};

/// Largest portal the generator accepts (the product target is 1M; headroom for benches).
pub const MAX_CONTACTS: usize = 2_000_000;

/// First id of each object type; distinct ranges make mixed-up ids obvious in tests.
pub const CONTACT_ID_BASE: u64 = 1_000_001;
pub const COMPANY_ID_BASE: u64 = 5_000_000_001;
pub const DEAL_ID_BASE: u64 = 9_000_000_001;

/// What portal to generate. `GeneratorConfig::new(seed, contacts)` gives realistic defaults.
#[derive(Clone, Debug, PartialEq)]
pub struct GeneratorConfig {
    pub seed: u64,
    /// Number of contacts, 0 ..= `MAX_CONTACTS` (the contract targets 100 ..= 1,000,000).
    pub contacts: usize,
    /// Companies with a closed-won deal; `None` = about 3% of companies. Clamped to the number of companies.
    pub closed_won_companies: Option<usize>,
    /// Share of contacts with no company, 0.0 ..= 1.0 (default 0.12).
    pub share_without_company: f64,
    /// Share of extra companies that have no contacts at all (default 0.08).
    pub share_empty_companies: f64,
    /// "Now" for the generated timestamps, epoch ms (default 2026-11-01T00:00:00Z), so the
    /// portal does not depend on the wall clock.
    pub reference_time_ms: i64,
}

impl GeneratorConfig {
    /// Defaults for everything but the seed and size.
    pub fn new(seed: u64, contacts: usize) -> Self {
        Self {
            seed,
            contacts,
            closed_won_companies: None,
            share_without_company: 0.12,
            share_empty_companies: 0.08,
            reference_time_ms: 1_793_491_200_000,
        }
    }

    /// Checks the knobs; `generate` calls it first.
    pub fn validate(&self) -> Result<(), GeneratorError> {
        if self.contacts > MAX_CONTACTS {
            return Err(GeneratorError::TooManyContacts(self.contacts));
        }
        for (name, share) in [
            ("share_without_company", self.share_without_company),
            ("share_empty_companies", self.share_empty_companies),
        ] {
            if !(0.0..=1.0).contains(&share) {
                return Err(GeneratorError::ShareOutOfRange { name, value: share });
            }
        }
        Ok(())
    }
}

/// Why a config was rejected.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum GeneratorError {
    #[error("{0} contacts requested; the generator supports at most {MAX_CONTACTS}")]
    TooManyContacts(usize),
    #[error("{name} must be between 0 and 1, got {value}")]
    ShareOutOfRange { name: &'static str, value: f64 },
}

/// One HubSpot-shaped record: all property values are strings, as HubSpot sends them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SimRecord {
    pub id: u64,
    pub properties: BTreeMap<String, String>,
    /// Epoch milliseconds (also rendered as ISO in `createdate`).
    pub created_at_ms: i64,
    /// Epoch milliseconds (also rendered in `hs_lastmodifieddate`).
    pub updated_at_ms: i64,
}

/// A generated portal, ids ascending within each type.
#[derive(Clone, Debug, PartialEq)]
pub struct GeneratedPortal {
    pub companies: Vec<SimRecord>,
    pub contacts: Vec<SimRecord>,
    pub deals: Vec<SimRecord>,
    /// (contact id, company id): the primary association; contacts may have none.
    pub contact_company: Vec<(u64, u64)>,
    /// (deal id, company id).
    pub deal_company: Vec<(u64, u64)>,
    /// (deal id, contact id): the contacts on each deal (its buying committee); deals of
    /// companies without contacts have none.
    pub deal_contact: Vec<(u64, u64)>,
    pub ground_truth: GroundTruth,
}

/// Receives records one at a time, so a large portal can go straight into a compact store
/// without first holding every record as a `BTreeMap`.
pub trait PortalSink {
    fn company(&mut self, record: SimRecord);
    fn contact(&mut self, record: SimRecord);
    fn deal(&mut self, record: SimRecord);
}

/// What `generate_into` returns besides the streamed records.
#[derive(Clone, Debug, PartialEq)]
pub struct GeneratedLinks {
    pub contact_company: Vec<(u64, u64)>,
    pub deal_company: Vec<(u64, u64)>,
    pub deal_contact: Vec<(u64, u64)>,
    pub ground_truth: GroundTruth,
}

/// Generates a whole portal in memory.
pub fn generate(config: &GeneratorConfig) -> Result<GeneratedPortal, GeneratorError> {
    #[derive(Default)]
    struct Collect {
        companies: Vec<SimRecord>,
        contacts: Vec<SimRecord>,
        deals: Vec<SimRecord>,
    }
    impl PortalSink for Collect {
        fn company(&mut self, record: SimRecord) {
            self.companies.push(record);
        }
        fn contact(&mut self, record: SimRecord) {
            self.contacts.push(record);
        }
        fn deal(&mut self, record: SimRecord) {
            self.deals.push(record);
        }
    }
    let mut sink = Collect::default();
    let links = generate_into(config, &mut sink)?;
    Ok(GeneratedPortal {
        companies: sink.companies,
        contacts: sink.contacts,
        deals: sink.deals,
        contact_company: links.contact_company,
        deal_company: links.deal_company,
        deal_contact: links.deal_contact,
        ground_truth: links.ground_truth,
    })
}

/// Generates a portal, streaming records (companies, then contacts, then deals, each by
/// ascending id) into `sink`. Identical output to `generate`.
pub fn generate_into(
    config: &GeneratorConfig,
    sink: &mut impl PortalSink,
) -> Result<GeneratedLinks, GeneratorError> {
    config.validate()?;
    let companies = draw_companies(config);
    let contacts = draw_contacts(config, &companies);
    let company_contacts = group_by_company(&contacts, companies.len());
    let propensities: Vec<f64> = contacts
        .iter()
        .map(|c| icp::propensity(c, c.company.map(|i| &companies[i].latent)))
        .collect();
    let outcomes = deals_plan(
        config,
        &companies,
        &contacts,
        &company_contacts,
        &propensities,
    );

    let mut render_rng = stream(config.seed, phase::RENDER);
    let mut namer = records::Namer::default();
    let company_records: Vec<records::CompanyRendered> = companies
        .iter()
        .enumerate()
        .map(|(index, company)| {
            records::render_company(&mut render_rng, &mut namer, config, index, company)
        })
        .collect();
    for rendered in &company_records {
        sink.company(rendered.record.clone());
    }

    let mut contact_company = Vec::new();
    for (index, contact) in contacts.iter().enumerate() {
        let company = contact.company.map(|i| {
            (
                &companies[i].latent,
                &company_records[i],
                outcomes.company[i],
            )
        });
        let record =
            records::render_contact(&mut render_rng, &mut namer, config, index, contact, company);
        if let Some(company_index) = contact.company {
            contact_company.push((record.id, company_id(company_index)));
        }
        sink.contact(record);
    }

    let mut deal_company = Vec::new();
    let mut deal_contact = Vec::new();
    let mut buyer = vec![false; contacts.len()];
    for (index, deal) in outcomes.deals.iter().enumerate() {
        let company = &company_records[deal.company];
        let record = records::render_deal(
            &mut render_rng,
            config,
            index,
            deal,
            &companies[deal.company],
            company,
        );
        deal_company.push((record.id, company_id(deal.company)));
        for &member in &deal.contacts {
            deal_contact.push((record.id, contact_id(member)));
            buyer[member] |= deal.stage == records::DealStage::ClosedWon;
        }
        sink.deal(record);
    }

    let mut future_rng = stream(config.seed, phase::FUTURE);
    let contact_truth = contacts
        .iter()
        .zip(&propensities)
        .enumerate()
        .map(|(index, (contact, &propensity))| {
            let is_customer = contact
                .company
                .is_some_and(|i| outcomes.company[i].closed_won);
            // Always draw, so one contact's status does not shift the next contact's outcome.
            let draw = future_rng.random::<f64>() < propensity;
            ContactTruth {
                contact_id: contact_id(index),
                company_id: contact.company.map(company_id),
                propensity,
                is_customer,
                buyer: buyer[index],
                future_outcome: (contact.company.is_some() && !is_customer).then_some(draw),
                seniority: contact.seniority,
                department: contact.department,
            }
        })
        .collect();
    let company_truth = companies
        .iter()
        .enumerate()
        .map(|(index, company)| CompanyTruth {
            company_id: company_id(index),
            fit_log_odds: company.fit_log_odds(),
            closed_won: outcomes.company[index].closed_won,
            closed_lost: outcomes.company[index].closed_lost,
        })
        .collect();
    Ok(GeneratedLinks {
        contact_company,
        deal_company,
        deal_contact,
        ground_truth: GroundTruth {
            contacts: contact_truth,
            companies: company_truth,
        },
    })
}

/// Random stream ids, one per phase.
mod phase {
    pub const COMPANIES: u64 = 1;
    pub const CONTACTS: u64 = 2;
    pub const DEALS: u64 = 3;
    pub const RENDER: u64 = 4;
    pub const FUTURE: u64 = 5;
}

pub(crate) fn contact_id(index: usize) -> u64 {
    CONTACT_ID_BASE + index as u64
}

pub(crate) fn company_id(index: usize) -> u64 {
    COMPANY_ID_BASE + index as u64
}

pub(crate) fn deal_id(index: usize) -> u64 {
    DEAL_ID_BASE + index as u64
}

/// A company's latent facts plus how many contacts it will get.
struct CompanyDraw {
    latent: CompanyLatent,
    contact_slots: usize,
}

impl std::ops::Deref for CompanyDraw {
    type Target = CompanyLatent;
    fn deref(&self) -> &CompanyLatent {
        &self.latent
    }
}

fn draw_companies(config: &GeneratorConfig) -> Vec<CompanyDraw> {
    let mut rng = stream(config.seed, phase::COMPANIES);
    let industry_weights: Vec<f64> = INDUSTRIES.iter().map(|i| i.weight).collect();
    let country_weights: Vec<f64> = COUNTRIES.iter().map(|c| c.weight).collect();
    let with_company =
        ((config.contacts as f64) * (1.0 - config.share_without_company)).round() as usize;
    let mut companies = Vec::new();
    let mut assigned = 0usize;
    while assigned < with_company {
        let latent = draw_company(&mut rng, &industry_weights, &country_weights);
        let slots = contact_slots(&mut rng, latent.employees).min(with_company - assigned);
        assigned += slots;
        companies.push(CompanyDraw {
            latent,
            contact_slots: slots,
        });
    }
    let empty = ((companies.len() as f64) * config.share_empty_companies).round() as usize;
    for _ in 0..empty {
        let latent = draw_company(&mut rng, &industry_weights, &country_weights);
        companies.push(CompanyDraw {
            latent,
            contact_slots: 0,
        });
    }
    companies
}

fn draw_company(
    rng: &mut ChaCha8Rng,
    industry_weights: &[f64],
    country_weights: &[f64],
) -> CompanyLatent {
    // Log-normal head count: median ~50, a long tail into the hundreds of thousands.
    let employees = (50f64.ln() + 1.6 * normal(rng))
        .exp()
        .round()
        .clamp(1.0, 250_000.0) as u32;
    let revenue_per_head = (120_000f64.ln() + 0.7 * normal(rng)).exp();
    let revenue = ((f64::from(employees) * revenue_per_head) / 1000.0).round() as u64 * 1000;
    CompanyLatent {
        industry: weighted_index(rng, industry_weights),
        employees,
        revenue,
        country: weighted_index(rng, country_weights),
        noise: icp::COMPANY_NOISE_SD * normal(rng),
    }
}

/// Heavy-tailed contacts per company (Pareto), larger companies holding more contacts.
fn contact_slots(rng: &mut ChaCha8Rng, employees: u32) -> usize {
    let u: f64 = rng.random::<f64>().max(1e-9);
    let pareto = u.powf(-1.0 / 1.4);
    let scale = 0.5 + 0.5 * f64::from(employees.max(1)).log10();
    ((pareto * scale).ceil() as usize).clamp(1, 120)
}

fn draw_contacts(config: &GeneratorConfig, companies: &[CompanyDraw]) -> Vec<ContactLatent> {
    let mut rng = stream(config.seed, phase::CONTACTS);
    let mut contacts = Vec::with_capacity(config.contacts);
    for (index, company) in companies.iter().enumerate() {
        let seniority_weights: Vec<f64> = Seniority::ALL
            .iter()
            .map(|s| s.weight(company.employees))
            .collect();
        let department_weights: Vec<f64> = Department::ALL
            .iter()
            .map(|d| d.weight(company.sector()))
            .collect();
        for _ in 0..company.contact_slots {
            contacts.push(ContactLatent {
                company: Some(index),
                seniority: Seniority::ALL[weighted_index(&mut rng, &seniority_weights)],
                department: Department::ALL[weighted_index(&mut rng, &department_weights)],
                noise: icp::PERSON_NOISE_SD * normal(&mut rng),
            });
        }
    }
    let seniority_weights: Vec<f64> = Seniority::ALL.iter().map(|s| s.weight(10)).collect();
    let department_weights: Vec<f64> = Department::ALL
        .iter()
        .map(|d| d.weight(vocab::Sector::Other))
        .collect();
    while contacts.len() < config.contacts {
        contacts.push(ContactLatent {
            company: None,
            seniority: Seniority::ALL[weighted_index(&mut rng, &seniority_weights)],
            department: Department::ALL[weighted_index(&mut rng, &department_weights)],
            noise: icp::PERSON_NOISE_SD * normal(&mut rng),
        });
    }
    // Creation order is not grouped by company in a real CRM.
    for i in (1..contacts.len()).rev() {
        let j = rng.random_range(0..=i);
        contacts.swap(i, j);
    }
    contacts
}

fn group_by_company(contacts: &[ContactLatent], companies: usize) -> Vec<Vec<usize>> {
    let mut grouped = vec![Vec::new(); companies];
    for (index, contact) in contacts.iter().enumerate() {
        if let Some(company) = contact.company {
            grouped[company].push(index);
        }
    }
    grouped
}

/// Deal history of one company.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct CompanyOutcome {
    pub closed_won: bool,
    pub closed_lost: bool,
    pub open_deal: bool,
}

/// A deal to render.
pub(crate) struct DealPlan {
    pub company: usize,
    pub stage: records::DealStage,
    /// Contact indices on the deal (its buying committee), distinct, ascending.
    pub contacts: Vec<usize>,
}

struct DealsPlan {
    company: Vec<CompanyOutcome>,
    deals: Vec<DealPlan>,
}

/// Chooses which companies won, lost or have open deals, and which of their contacts sit on
/// each deal.
///
/// Closed-won deals come from buyers: contacts are drawn one by one with weight equal to their
/// true propensity (the same probability the held-out future outcomes are drawn from), and the
/// first buyer drawn at a company makes it a customer. Every won deal then gets 1–3 buyers of
/// that company, again weighted by propensity, so being on a won deal is driven by the person
/// and the company together — what HubSpot's deal→contact associations record. Lost and open
/// deals are drawn by a weaker company-level fit (sales also chases poor fits), and their
/// contacts by a mild preference for senior, relevant people.
fn deals_plan(
    config: &GeneratorConfig,
    companies: &[CompanyDraw],
    contacts: &[ContactLatent],
    company_contacts: &[Vec<usize>],
    propensities: &[f64],
) -> DealsPlan {
    let mut rng = stream(config.seed, phase::DEALS);
    let person: Vec<f64> = contacts
        .iter()
        .map(|c| icp::person_log_odds(c, c.company.map(|i| &companies[i].latent)))
        .collect();
    let fits: Vec<f64> = companies
        .iter()
        .zip(company_contacts)
        .map(|(company, members)| {
            let people = members
                .iter()
                .map(|&m| person[m])
                .fold(None, |best: Option<f64>, p| {
                    Some(best.map_or(p, |b| b.max(p)))
                })
                .unwrap_or(0.0);
            company.fit_log_odds() + 0.5 * people
        })
        .collect();
    let total = companies.len();
    let with_contacts = company_contacts.iter().filter(|m| !m.is_empty()).count();
    let won_target = config
        .closed_won_companies
        .unwrap_or_else(|| ((total as f64) * 0.03).round().max(1.0) as usize)
        .min(with_contacts);
    let mut outcome = vec![CompanyOutcome::default(); total];
    let mut first_buyer: Vec<Option<usize>> = vec![None; total];
    let mut won = 0;
    let candidates: Vec<usize> = (0..contacts.len())
        .filter(|&i| contacts[i].company.is_some())
        .collect();
    for contact in weighted_order(&mut rng, &candidates, |i| propensities[i]) {
        if won == won_target {
            break;
        }
        let Some(company) = contacts[contact].company else {
            continue;
        };
        if !outcome[company].closed_won {
            outcome[company].closed_won = true;
            first_buyer[company] = Some(contact);
            won += 1;
        }
    }
    let lost_target = ((total as f64) * 0.05).round() as usize;
    let lost = weighted_sample(&mut rng, &fits, 0.3, lost_target, &outcome, |o| {
        !o.closed_won
    });
    for index in lost {
        outcome[index].closed_lost = true;
    }
    // Some winners lost an earlier deal too.
    for o in outcome.iter_mut().filter(|o| o.closed_won) {
        if chance(&mut rng, 0.2) {
            o.closed_lost = true;
        }
    }
    let open_target = ((total as f64) * 0.05).round() as usize;
    let open = weighted_sample(&mut rng, &fits, 0.6, open_target, &outcome, |o| {
        !o.closed_won
    });
    for index in open {
        outcome[index].open_deal = true;
    }

    let propensity_weight = |i: usize| propensities[i];
    let mild_weight = |i: usize| (0.3 * person[i]).exp();
    let keen_weight = |i: usize| (0.6 * person[i]).exp();
    let mut deals = Vec::new();
    for (index, o) in outcome.iter().enumerate() {
        let members = &company_contacts[index];
        if o.closed_lost {
            let contacts = committee(&mut rng, members, None, mild_weight);
            deals.push(DealPlan {
                company: index,
                stage: records::DealStage::ClosedLost,
                contacts,
            });
        }
        if o.closed_won {
            let won_deals = if chance(&mut rng, 0.3) { 2 } else { 1 };
            for deal in 0..won_deals {
                let first = if deal == 0 { first_buyer[index] } else { None };
                let contacts = committee(&mut rng, members, first, propensity_weight);
                deals.push(DealPlan {
                    company: index,
                    stage: records::DealStage::ClosedWon,
                    contacts,
                });
            }
        }
        if o.open_deal {
            let stage = records::DealStage::open(&mut rng);
            let contacts = committee(&mut rng, members, None, keen_weight);
            deals.push(DealPlan {
                company: index,
                stage,
                contacts,
            });
        }
    }
    // Deals are created over time, not company by company.
    for i in (1..deals.len()).rev() {
        let j = rng.random_range(0..=i);
        deals.swap(i, j);
    }
    DealsPlan {
        company: outcome,
        deals,
    }
}

/// A deal's contacts: `first` (if given) plus others of the company drawn by `weight`, 1–3 in
/// all (half the deals have one contact), ascending. Empty when the company has no contacts.
fn committee(
    rng: &mut ChaCha8Rng,
    members: &[usize],
    first: Option<usize>,
    weight: impl Fn(usize) -> f64,
) -> Vec<usize> {
    let size = 1 + weighted_index(rng, &[0.5, 0.3, 0.2]);
    let others: Vec<usize> = members
        .iter()
        .copied()
        .filter(|&m| Some(m) != first)
        .collect();
    let mut chosen: Vec<usize> = first.into_iter().collect();
    for member in weighted_order(rng, &others, weight) {
        if chosen.len() >= size {
            break;
        }
        chosen.push(member);
    }
    chosen.sort_unstable();
    chosen
}

/// `items` in the order of weighted sampling without replacement (Efraimidis–Spirakis keys
/// `u^(1/w)`, compared in log space); every item gets a draw, so the stream does not depend on
/// where the caller stops.
fn weighted_order(
    rng: &mut ChaCha8Rng,
    items: &[usize],
    weight: impl Fn(usize) -> f64,
) -> Vec<usize> {
    let mut keyed: Vec<(f64, usize)> = items
        .iter()
        .map(|&item| {
            let u: f64 = rng.random::<f64>().max(f64::MIN_POSITIVE);
            (u.ln() / weight(item).max(f64::MIN_POSITIVE), item)
        })
        .collect();
    keyed.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
    keyed.into_iter().map(|(_, item)| item).collect()
}

/// Weighted sampling without replacement (Efraimidis–Spirakis keys), weight = exp(steepness × fit).
fn weighted_sample(
    rng: &mut ChaCha8Rng,
    fits: &[f64],
    steepness: f64,
    count: usize,
    outcome: &[CompanyOutcome],
    eligible: impl Fn(&CompanyOutcome) -> bool,
) -> Vec<usize> {
    let mut keyed: Vec<(f64, usize)> = fits
        .iter()
        .enumerate()
        .map(|(index, fit)| {
            let u: f64 = rng.random::<f64>().max(f64::MIN_POSITIVE);
            // log(u^(1/w)) = ln(u) / w, compared in log space to avoid underflow.
            (u.ln() / (steepness * fit).exp(), index)
        })
        .filter(|(_, index)| eligible(&outcome[*index]))
        .collect();
    keyed.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
    keyed
        .into_iter()
        .take(count)
        .map(|(_, index)| index)
        .collect()
}

#[cfg(test)]
mod tests;

/// HubSpot `industry` enum values the generator uses (for the simulator's property schema).
pub fn industry_values() -> impl Iterator<Item = &'static str> {
    INDUSTRIES.iter().map(|industry| industry.value)
}
