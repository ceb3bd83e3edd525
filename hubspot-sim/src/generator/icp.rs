//! The hidden ideal-customer profile: latent facts about companies and people, and the true
//! propensity they imply. Nothing here is visible in the rendered records except through
//! noisy, messy encodings, which is what makes model quality measurable.

use serde::Serialize;

use super::vocab::{COUNTRIES, INDUSTRIES, Sector};

/// A person's true seniority (the job title only hints at it).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Seniority {
    Intern,
    Assistant,
    Individual,
    Senior,
    Manager,
    Director,
    Vp,
    Executive,
}

impl Seniority {
    pub(crate) const ALL: [Seniority; 8] = [
        Seniority::Intern,
        Seniority::Assistant,
        Seniority::Individual,
        Seniority::Senior,
        Seniority::Manager,
        Seniority::Director,
        Seniority::Vp,
        Seniority::Executive,
    ];

    /// Relative frequency among contacts; very small companies are executive-heavy.
    pub(crate) fn weight(self, employees: u32) -> f64 {
        let small = employees < 20;
        match self {
            Seniority::Intern => 4.0,
            Seniority::Assistant => 5.0,
            Seniority::Individual => 38.0,
            Seniority::Senior => 18.0,
            Seniority::Manager => 15.0,
            Seniority::Director => 9.0,
            Seniority::Vp => 5.0,
            Seniority::Executive if small => 24.0,
            Seniority::Executive => 6.0,
        }
    }

    fn effect(self) -> f64 {
        match self {
            Seniority::Intern => -1.2,
            Seniority::Assistant => -0.9,
            Seniority::Individual => -0.4,
            Seniority::Senior => -0.1,
            Seniority::Manager => 0.3,
            Seniority::Director => 0.7,
            Seniority::Vp => 0.9,
            Seniority::Executive => 1.0,
        }
    }

    /// HubSpot `hs_seniority` enum value (set for a minority of contacts, like enrichment does).
    pub(crate) fn hubspot_value(self) -> &'static str {
        match self {
            Seniority::Intern => "intern",
            Seniority::Assistant | Seniority::Individual => "employee",
            Seniority::Senior => "senior",
            Seniority::Manager => "manager",
            Seniority::Director => "director",
            Seniority::Vp => "vp",
            Seniority::Executive => "executive",
        }
    }
}

/// A person's true department.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Department {
    Engineering,
    It,
    Product,
    Sales,
    Marketing,
    Finance,
    People,
    Operations,
    Support,
    Legal,
    General,
}

impl Department {
    pub(crate) const ALL: [Department; 11] = [
        Department::Engineering,
        Department::It,
        Department::Product,
        Department::Sales,
        Department::Marketing,
        Department::Finance,
        Department::People,
        Department::Operations,
        Department::Support,
        Department::Legal,
        Department::General,
    ];

    pub(crate) fn weight(self, sector: Sector) -> f64 {
        let tech = sector == Sector::Tech;
        match self {
            Department::Engineering if tech => 30.0,
            Department::Engineering => 10.0,
            Department::It => 7.0,
            Department::Product if tech => 8.0,
            Department::Product => 3.0,
            Department::Sales => 18.0,
            Department::Marketing => 12.0,
            Department::Finance if sector == Sector::Finance => 16.0,
            Department::Finance => 7.0,
            Department::People => 6.0,
            Department::Operations => 10.0,
            Department::Support => 7.0,
            Department::Legal => 3.0,
            Department::General => 8.0,
        }
    }

    /// The department × industry interaction: technical roles only matter in tech, finance
    /// roles only in financial sectors.
    fn effect(self, sector: Sector) -> f64 {
        match (sector, self) {
            (Sector::Tech, Department::Engineering) => 0.7,
            (Sector::Tech, Department::It) => 0.6,
            (Sector::Tech, Department::Product) => 0.5,
            (Sector::Finance, Department::Finance) => 0.7,
            (Sector::Finance, Department::It) => 0.3,
            (Sector::Finance, Department::Operations) => 0.2,
            (Sector::Other, Department::Sales | Department::Marketing) => 0.3,
            (_, Department::Sales | Department::Marketing) => 0.1,
            (_, Department::People | Department::Legal) => -0.3,
            _ => -0.05,
        }
    }

    /// HubSpot `hs_role` enum value.
    pub(crate) fn hubspot_value(self) -> &'static str {
        match self {
            Department::Engineering => "engineering",
            Department::It => "information_technology",
            Department::Product => "product",
            Department::Sales => "sales",
            Department::Marketing => "marketing",
            Department::Finance => "finance",
            Department::People => "human_resources",
            Department::Operations => "operations",
            Department::Support => "customer_service",
            Department::Legal => "legal",
            Department::General => "administrative",
        }
    }
}

/// True firmographics of a company (the record may hide or garble some of them).
pub(crate) struct CompanyLatent {
    pub industry: usize,
    pub employees: u32,
    pub revenue: u64,
    pub country: usize,
    pub noise: f64,
}

impl CompanyLatent {
    /// Company part of the log-odds: industry, a mid-market sweet spot, region, noise.
    pub(crate) fn fit_log_odds(&self) -> f64 {
        let size = f64::from(self.employees.max(1)).log10();
        let size_effect = (0.7 - 0.5 * (size - 2.5).powi(2)).max(-1.5);
        INDUSTRIES[self.industry].effect + size_effect + COUNTRIES[self.country].effect + self.noise
    }

    /// Seniority weighs more in larger companies (the seniority × size interaction).
    fn seniority_multiplier(&self) -> f64 {
        let size = f64::from(self.employees.max(1)).log10();
        (0.4 + 0.3 * size).clamp(0.5, 1.9)
    }

    pub(crate) fn sector(&self) -> Sector {
        INDUSTRIES[self.industry].sector
    }
}

/// True facts about a person.
pub(crate) struct ContactLatent {
    pub company: Option<usize>,
    pub seniority: Seniority,
    pub department: Department,
    pub noise: f64,
}

/// Spread of the company's hidden log-odds term: what no CRM field reveals (budget, timing,
/// a champion). Kept small: the ceiling is the propensity *including* it, so every unit of
/// hidden variance is ceiling no model can reach; unobservable luck belongs in the outcome draw.
pub(crate) const COMPANY_NOISE_SD: f64 = 0.15;
/// Spread of the person's hidden log-odds term (see `COMPANY_NOISE_SD`).
pub(crate) const PERSON_NOISE_SD: f64 = 0.2;

/// Baseline log-odds: sets the future-buyer base rate to a few percent.
const INTERCEPT: f64 = -3.6;
/// Contacts without a company are poor fits (they are not scored by Conturs anyway).
const NO_COMPANY_PENALTY: f64 = -1.0;

/// Person part of the log-odds (depends on the company through the interactions).
pub(crate) fn person_log_odds(contact: &ContactLatent, company: Option<&CompanyLatent>) -> f64 {
    let (multiplier, sector) = match company {
        Some(company) => (company.seniority_multiplier(), company.sector()),
        None => (1.0, Sector::Other),
    };
    contact.seniority.effect() * multiplier + contact.department.effect(sector) + contact.noise
}

/// The true propensity P(buy) of a contact, in (0, 1).
pub(crate) fn propensity(contact: &ContactLatent, company: Option<&CompanyLatent>) -> f64 {
    let company_part = company.map_or(NO_COMPANY_PENALTY, CompanyLatent::fit_log_odds);
    super::random::sigmoid(INTERCEPT + company_part + person_log_odds(contact, company))
}
