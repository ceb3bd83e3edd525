//! Renders latent facts into HubSpot-shaped records: string property values, HubSpot enum
//! values, ISO timestamps, and the missing or messy fields real portals have.

use std::collections::{BTreeMap, HashSet};
use std::hash::{DefaultHasher, Hash, Hasher};

use rand::Rng;
use rand_chacha::ChaCha8Rng;

use super::icp::{CompanyLatent, ContactLatent};
use super::random::{chance, pick, weighted_index};
use super::vocab::{
    COMPANY_STEMS, COMPANY_SUFFIXES, COMPANY_TAILS, COUNTRIES, FIRST_NAMES, FREE_MAIL, INDUSTRIES,
    LAST_NAMES, TLDS,
};
use super::{
    CompanyOutcome, DealPlan, GeneratorConfig, SimRecord, company_id, contact_id, deal_id, titles,
};

const DAY_MS: i64 = 86_400_000;

/// HubSpot's default-pipeline deal stages.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum DealStage {
    AppointmentScheduled,
    QualifiedToBuy,
    PresentationScheduled,
    DecisionMakerBoughtIn,
    ContractSent,
    ClosedWon,
    ClosedLost,
}

impl DealStage {
    pub(crate) fn open(rng: &mut ChaCha8Rng) -> Self {
        pick(
            rng,
            &[
                DealStage::AppointmentScheduled,
                DealStage::QualifiedToBuy,
                DealStage::PresentationScheduled,
                DealStage::DecisionMakerBoughtIn,
                DealStage::ContractSent,
            ],
        )
    }

    fn value(self) -> &'static str {
        match self {
            DealStage::AppointmentScheduled => "appointmentscheduled",
            DealStage::QualifiedToBuy => "qualifiedtobuy",
            DealStage::PresentationScheduled => "presentationscheduled",
            DealStage::DecisionMakerBoughtIn => "decisionmakerboughtin",
            DealStage::ContractSent => "contractsent",
            DealStage::ClosedWon => "closedwon",
            DealStage::ClosedLost => "closedlost",
        }
    }
}

/// Keeps domains and emails unique within a portal (HubSpot dedupes contacts by email).
/// Stores 64-bit hashes only, so a million emails cost a few megabytes.
#[derive(Default)]
pub(crate) struct Namer {
    used: HashSet<u64>,
}

impl Namer {
    fn unique(&mut self, base: &str, make: impl Fn(&str, usize) -> String) -> String {
        let mut attempt = 0;
        loop {
            let candidate = make(base, attempt);
            let mut hasher = DefaultHasher::new();
            candidate.hash(&mut hasher);
            if self.used.insert(hasher.finish()) {
                return candidate;
            }
            attempt += 1;
        }
    }
}

/// A rendered company plus the parts contacts and deals reuse.
pub(crate) struct CompanyRendered {
    pub record: SimRecord,
    pub name: String,
    pub domain: String,
}

/// ISO-8601 with milliseconds and `Z`, as HubSpot renders datetimes.
pub fn iso_millis(epoch_ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(epoch_ms)
        .unwrap_or_default()
        .format("%Y-%m-%dT%H:%M:%S%.3fZ")
        .to_string()
}

fn between(rng: &mut ChaCha8Rng, from: i64, to: i64) -> i64 {
    if to <= from {
        from
    } else {
        rng.random_range(from..=to)
    }
}

fn base_properties(id: u64, created: i64, updated: i64) -> BTreeMap<String, String> {
    let mut props = BTreeMap::new();
    props.insert("hs_object_id".to_owned(), id.to_string());
    props.insert("createdate".to_owned(), iso_millis(created));
    props.insert("hs_lastmodifieddate".to_owned(), iso_millis(updated));
    props
}

pub(crate) fn render_company(
    rng: &mut ChaCha8Rng,
    namer: &mut Namer,
    config: &GeneratorConfig,
    index: usize,
    company: &CompanyLatent,
) -> CompanyRendered {
    let now = config.reference_time_ms;
    let created = now - between(rng, 30 * DAY_MS, 6 * 365 * DAY_MS);
    let updated = between(rng, created, now);
    let stem = format!("{}{}", pick(rng, COMPANY_STEMS), pick(rng, COMPANY_TAILS));
    let mut display = capitalize(&stem);
    display.push_str(pick(rng, COMPANY_SUFFIXES));
    let tld = pick(rng, TLDS);
    let domain = namer.unique(&stem, |base, n| match n {
        0 => format!("{base}.{tld}"),
        n => format!("{base}{n}.{tld}"),
    });
    let id = company_id(index);
    let mut props = base_properties(id, created, updated);
    props.insert("name".to_owned(), display.clone());
    props.insert("domain".to_owned(), domain.clone());
    if !chance(rng, 0.08) {
        props.insert(
            "industry".to_owned(),
            INDUSTRIES[company.industry].value.to_owned(),
        );
    }
    if !chance(rng, 0.10) {
        props.insert(
            "numberofemployees".to_owned(),
            company.employees.to_string(),
        );
    }
    if !chance(rng, 0.20) {
        props.insert("annualrevenue".to_owned(), company.revenue.to_string());
    }
    let country = &COUNTRIES[company.country];
    if !chance(rng, 0.10) {
        props.insert(
            "country".to_owned(),
            pick(rng, country.spellings).to_owned(),
        );
    }
    if !chance(rng, 0.15) {
        props.insert("city".to_owned(), pick(rng, country.cities).to_owned());
    }
    CompanyRendered {
        record: SimRecord {
            id,
            properties: props,
            created_at_ms: created,
            updated_at_ms: updated,
        },
        name: display,
        domain,
    }
}

fn capitalize(word: &str) -> String {
    let mut chars = word.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// Lower-cased ASCII-ish local-part token.
fn email_token(name: &str) -> String {
    name.chars()
        .filter_map(|c| match c {
            'ä' => Some('a'),
            'ö' | 'ø' => Some('o'),
            'ü' => Some('u'),
            'é' | 'è' | 'ë' => Some('e'),
            'í' => Some('i'),
            'ã' | 'á' => Some('a'),
            c if c.is_ascii_alphanumeric() => Some(c.to_ascii_lowercase()),
            _ => None,
        })
        .collect()
}

pub(crate) fn render_contact(
    rng: &mut ChaCha8Rng,
    namer: &mut Namer,
    config: &GeneratorConfig,
    index: usize,
    contact: &ContactLatent,
    company: Option<(&CompanyLatent, &CompanyRendered, CompanyOutcome)>,
) -> SimRecord {
    let now = config.reference_time_ms;
    let earliest = company.map_or(now - 3 * 365 * DAY_MS, |(_, rendered, _)| {
        rendered.record.created_at_ms
    });
    let created = between(rng, earliest, now - DAY_MS);
    let updated = between(rng, created, now);
    let id = contact_id(index);
    let mut props = base_properties(id, created, updated);
    props.insert("lastmodifieddate".to_owned(), iso_millis(updated));

    let first = pick(rng, FIRST_NAMES);
    let last = pick(rng, LAST_NAMES);
    props.insert("firstname".to_owned(), first.to_owned());
    props.insert("lastname".to_owned(), last.to_owned());
    let (first_token, last_token) = (email_token(first), email_token(last));
    let email = match company {
        Some((_, rendered, _)) => {
            let local = match rng.random_range(0..4) {
                0 => format!("{first_token}.{last_token}"),
                1 => format!("{}{last_token}", &first_token[..1.min(first_token.len())]),
                2 => first_token.clone(),
                _ => format!("{first_token}_{last_token}"),
            };
            let domain = rendered.domain.clone();
            namer.unique(&local, |base, n| match n {
                0 => format!("{base}@{domain}"),
                n => format!("{base}{n}@{domain}"),
            })
        }
        None => {
            let provider = pick(rng, FREE_MAIL);
            let digits = rng.random_range(1..10_000);
            namer.unique(
                &format!("{first_token}.{last_token}{digits}"),
                |base, n| match n {
                    0 => format!("{base}@{provider}"),
                    n => format!("{base}x{n}@{provider}"),
                },
            )
        }
    };
    props.insert("email".to_owned(), email);

    if let Some(title) = titles::render(rng, contact.seniority, contact.department) {
        props.insert("jobtitle".to_owned(), title);
    }
    // Enrichment fills these for a minority only.
    if chance(rng, 0.25) {
        props.insert(
            "hs_seniority".to_owned(),
            contact.seniority.hubspot_value().to_owned(),
        );
    }
    if chance(rng, 0.22) {
        props.insert(
            "hs_role".to_owned(),
            contact.department.hubspot_value().to_owned(),
        );
    }

    let outcome = company.map(|(_, _, o)| o).unwrap_or_default();
    props.insert(
        "lifecyclestage".to_owned(),
        lifecycle_stage(rng, outcome).to_owned(),
    );
    if let Some(status) = lead_status(rng, outcome) {
        props.insert("hs_lead_status".to_owned(), status.to_owned());
    }
    match company {
        Some((latent, rendered, _)) => {
            props.insert(
                "associatedcompanyid".to_owned(),
                rendered.record.id.to_string(),
            );
            if chance(rng, 0.2) {
                let spelling = pick(rng, COUNTRIES[latent.country].spellings);
                props.insert("country".to_owned(), spelling.to_owned());
            }
        }
        None => {
            if chance(rng, 0.4) {
                let weights: Vec<f64> = COUNTRIES.iter().map(|c| c.weight).collect();
                let country = &COUNTRIES[weighted_index(rng, &weights)];
                props.insert(
                    "country".to_owned(),
                    pick(rng, country.spellings).to_owned(),
                );
            }
        }
    }
    SimRecord {
        id,
        properties: props,
        created_at_ms: created,
        updated_at_ms: updated,
    }
}

/// `customer` for contacts of closed-won companies: the leakage trap the scorer must avoid.
fn lifecycle_stage(rng: &mut ChaCha8Rng, outcome: CompanyOutcome) -> &'static str {
    if outcome.closed_won {
        return pick(
            rng,
            &[
                "customer",
                "customer",
                "customer",
                "customer",
                "customer",
                "customer",
                "evangelist",
                "opportunity",
            ],
        );
    }
    if outcome.open_deal && chance(rng, 0.6) {
        return pick(rng, &["opportunity", "salesqualifiedlead"]);
    }
    const STAGES: [&str; 6] = [
        "subscriber",
        "lead",
        "marketingqualifiedlead",
        "salesqualifiedlead",
        "opportunity",
        "other",
    ];
    STAGES[weighted_index(rng, &[25.0, 35.0, 15.0, 8.0, 4.0, 5.0])]
}

fn lead_status(rng: &mut ChaCha8Rng, outcome: CompanyOutcome) -> Option<&'static str> {
    if chance(rng, 0.35) {
        return None;
    }
    if outcome.closed_won && chance(rng, 0.6) {
        return Some(pick(rng, &["CONNECTED", "OPEN_DEAL"]));
    }
    const STATUSES: [&str; 8] = [
        "NEW",
        "OPEN",
        "IN_PROGRESS",
        "OPEN_DEAL",
        "UNQUALIFIED",
        "ATTEMPTED_TO_CONTACT",
        "CONNECTED",
        "BAD_TIMING",
    ];
    Some(STATUSES[weighted_index(rng, &[20.0, 15.0, 15.0, 4.0, 12.0, 18.0, 10.0, 6.0])])
}

pub(crate) fn render_deal(
    rng: &mut ChaCha8Rng,
    config: &GeneratorConfig,
    index: usize,
    deal: &DealPlan,
    company: &CompanyLatent,
    rendered: &CompanyRendered,
) -> SimRecord {
    let now = config.reference_time_ms;
    let closed = matches!(deal.stage, DealStage::ClosedWon | DealStage::ClosedLost);
    let company_created = rendered.record.created_at_ms;
    let created = between(rng, company_created, now - 20 * DAY_MS);
    let close_date = if closed {
        (created + between(rng, 10 * DAY_MS, 180 * DAY_MS)).min(now - DAY_MS)
    } else {
        now + between(rng, 10 * DAY_MS, 120 * DAY_MS)
    };
    let updated = if closed {
        between(rng, close_date, now)
    } else {
        between(rng, created, now)
    };
    let id = deal_id(index);
    let mut props = base_properties(id, created, updated);
    props.insert(
        "dealname".to_owned(),
        format!(
            "{} - {}",
            rendered.name,
            pick(rng, &["New Business", "Expansion", "Renewal", "Pilot"])
        ),
    );
    props.insert("pipeline".to_owned(), "default".to_owned());
    props.insert("dealstage".to_owned(), deal.stage.value().to_owned());
    let seats = (f64::from(company.employees).sqrt() * rng.random_range(0.5..2.0)).max(1.0);
    let amount = ((seats * 600.0) / 100.0).round() * 100.0;
    props.insert("amount".to_owned(), format!("{amount:.0}"));
    props.insert("closedate".to_owned(), iso_millis(close_date));
    props.insert(
        "hs_is_closed_won".to_owned(),
        (deal.stage == DealStage::ClosedWon).to_string(),
    );
    props.insert(
        "hs_is_closed_lost".to_owned(),
        (deal.stage == DealStage::ClosedLost).to_string(),
    );
    props.insert("hs_is_closed".to_owned(), closed.to_string());
    SimRecord {
        id,
        properties: props,
        created_at_ms: created,
        updated_at_ms: updated,
    }
}
