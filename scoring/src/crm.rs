//! HubSpot-shaped facts (contacts, companies, deals) and the contact-level feature set.
//!
//! Callers build facts from HubSpot property strings once, at the edge; from then on the
//! scoring code sees canonical keys only. The feature set mixes firmographics with the
//! person's role, adds the two interactions B2B fit usually has (seniority matters more in
//! bigger companies; which department matters depends on the sector), and guards the CRM's
//! leakage traps (lifecycle stage "customer" is an outcome of winning, not a predictor).

mod facts;
pub(crate) mod features;
mod labels;
mod model;

pub use facts::{CompanyFacts, ContactFacts, DealFacts, company_label, parse_hubspot_time};
pub use features::{Sector, SizeBand, contact_fields, field};
pub use labels::DealLabels;
pub use model::{
    ContactDataset, ContactModel, ContactModelError, ContactScore, ContactTraining, LabeledContact,
    ScoredContact, Unscorable, contact_dataset, positive_companies, scorability, train_contacts,
};
