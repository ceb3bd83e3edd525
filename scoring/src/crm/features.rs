//! The contact feature set: field specs and the per-contact values, in one fixed order.

use serde::{Deserialize, Serialize};

use crate::dataset::{
    Bins, DEFAULT_LEAK_GUARD_AUC, FieldKind, FieldSpec, FieldValue, Transform, ValueStyle,
};
use crate::normalize::region_of_key;
use crate::title::{Department, Seniority, parse_title};

use super::facts::ContactFacts;

/// Broad sector of an industry: which departments matter depends on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Sector {
    Technology,
    Finance,
    Healthcare,
    Industrial,
    Consumer,
    ProfessionalServices,
    Public,
    Other,
}

impl Sector {
    /// Every sector.
    pub const ALL: [Sector; 8] = [
        Sector::Technology,
        Sector::Finance,
        Sector::Healthcare,
        Sector::Industrial,
        Sector::Consumer,
        Sector::ProfessionalServices,
        Sector::Public,
        Sector::Other,
    ];

    /// Sector of a canonical HubSpot industry key.
    pub fn of_industry(industry: &str) -> Sector {
        const TECHNOLOGY: &[&str] = &[
            "COMPUTER",
            "SOFTWARE",
            "INTERNET",
            "INFORMATION",
            "TELECOM",
            "SEMICONDUCTOR",
            "WIRELESS",
            "E_LEARNING",
            "NETWORK",
            "TECHNOLOGY",
            "GAMES",
        ];
        const FINANCE: &[&str] = &[
            "FINANCIAL",
            "BANKING",
            "INSURANCE",
            "ACCOUNTING",
            "INVESTMENT",
            "CAPITAL",
            "VENTURE",
        ];
        const HEALTHCARE: &[&str] = &[
            "HOSPITAL",
            "HEALTH",
            "MEDICAL",
            "PHARMA",
            "BIOTECH",
            "VETERINARY",
            "MENTAL",
        ];
        const INDUSTRIAL: &[&str] = &[
            "CONSTRUCTION",
            "AUTOMOTIVE",
            "MECHANICAL",
            "INDUSTRIAL",
            "LOGISTICS",
            "OIL",
            "ENERGY",
            "RENEWABLES",
            "MINING",
            "CHEMICALS",
            "MACHINERY",
            "AVIATION",
            "PRINTING",
            "FARMING",
            "ARCHITECTURE",
            "UTILITIES",
            "MANUFACTURING",
            "PACKAGING",
            "TRANSPORTATION",
        ];
        const CONSUMER: &[&str] = &[
            "RETAIL",
            "CONSUMER",
            "FOOD",
            "RESTAURANTS",
            "HOSPITALITY",
            "APPAREL",
            "WINE",
            "ENTERTAINMENT",
            "MEDIA",
            "SPORTS",
            "LEISURE",
            "COSMETICS",
            "LUXURY",
            "REAL_ESTATE",
        ];
        const SERVICES: &[&str] = &[
            "CONSULTING",
            "MARKETING",
            "LEGAL",
            "STAFFING",
            "OUTSOURCING",
            "RESEARCH",
            "DESIGN",
            "PUBLIC_RELATIONS",
            "HUMAN_RESOURCES",
        ];
        const PUBLIC: &[&str] = &[
            "GOVERNMENT",
            "EDUCATION",
            "NONPROFIT",
            "MILITARY",
            "PUBLIC_SAFETY",
            "LIBRARIES",
            "PHILANTHROPY",
        ];
        // Needles match the start of a `_`-separated word ("TELECOM" in TELECOMMUNICATIONS);
        // needles with `_` match anywhere.
        let mut words = [""; 8];
        for (slot, word) in words.iter_mut().zip(industry.split('_')) {
            *slot = word;
        }
        let words = &words[..industry.split('_').count().min(8)];
        let matches = |needles: &[&str]| {
            needles.iter().any(|needle| {
                if needle.contains('_') {
                    industry.contains(needle)
                } else {
                    let first = needle.as_bytes()[0];
                    words.iter().any(|word| {
                        word.as_bytes().first() == Some(&first) && word.starts_with(needle)
                    })
                }
            })
        };
        if matches(TECHNOLOGY) {
            Sector::Technology
        } else if matches(FINANCE) {
            Sector::Finance
        } else if matches(HEALTHCARE) {
            Sector::Healthcare
        } else if matches(PUBLIC) {
            Sector::Public
        } else if matches(SERVICES) {
            Sector::ProfessionalServices
        } else if matches(INDUSTRIAL) {
            Sector::Industrial
        } else if matches(CONSUMER) {
            Sector::Consumer
        } else {
            Sector::Other
        }
    }

    /// Stable key.
    pub fn key(self) -> &'static str {
        match self {
            Sector::Technology => "technology",
            Sector::Finance => "finance",
            Sector::Healthcare => "healthcare",
            Sector::Industrial => "industrial",
            Sector::Consumer => "consumer",
            Sector::ProfessionalServices => "services",
            Sector::Public => "public",
            Sector::Other => "other",
        }
    }

    /// Words for explanations.
    pub fn label(self) -> &'static str {
        match self {
            Sector::Technology => "technology",
            Sector::Finance => "financial services",
            Sector::Healthcare => "healthcare",
            Sector::Industrial => "industry",
            Sector::Consumer => "consumer businesses",
            Sector::ProfessionalServices => "professional services",
            Sector::Public => "the public sector",
            Sector::Other => "other sectors",
        }
    }
}

/// Company size band for the seniority × size interaction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum SizeBand {
    Small,
    Mid,
    Large,
}

impl SizeBand {
    /// Every band.
    pub const ALL: [SizeBand; 3] = [SizeBand::Small, SizeBand::Mid, SizeBand::Large];

    /// Band of an employee count.
    pub fn of_employees(employees: f64) -> SizeBand {
        if employees < 50.0 {
            SizeBand::Small
        } else if employees < 1000.0 {
            SizeBand::Mid
        } else {
            SizeBand::Large
        }
    }

    /// Stable key.
    pub fn key(self) -> &'static str {
        match self {
            SizeBand::Small => "small",
            SizeBand::Mid => "mid",
            SizeBand::Large => "large",
        }
    }

    /// Words for explanations.
    pub fn label(self) -> &'static str {
        match self {
            SizeBand::Small => "a small company (<50 employees)",
            SizeBand::Mid => "a mid-size company (50–999 employees)",
            SizeBand::Large => "a large company (1,000+ employees)",
        }
    }
}

/// Field order of the contact feature set.
/// Index of each field in the contact feature set (value order).
pub mod field {
    pub const INDUSTRY: usize = 0;
    pub const EMPLOYEES: usize = 1;
    pub const REVENUE: usize = 2;
    pub const COUNTRY: usize = 3;
    pub const REGION: usize = 4;
    pub const SENIORITY: usize = 5;
    pub const DEPARTMENT: usize = 6;
    pub const SENIORITY_BY_SIZE: usize = 7;
    pub const DEPARTMENT_BY_SECTOR: usize = 8;
    pub const HS_SENIORITY: usize = 9;
    pub const HS_ROLE: usize = 10;
    pub const LIFECYCLE_STAGE: usize = 11;
    pub const LEAD_STATUS: usize = 12;
    pub const SECTOR: usize = 13;
    pub const COUNT: usize = 14;
}

/// Lifecycle stages reached only by winning: masked so they cannot predict winning.
const OUTCOME_LIFECYCLE_STAGES: &[&str] = &["customer", "evangelist"];

fn spec(name: &str, kind: FieldKind, template: &str, missing: &str, other: &str) -> FieldSpec {
    FieldSpec {
        name: name.to_string(),
        kind,
        template: template.to_string(),
        missing_text: missing.to_string(),
        other_text: other.to_string(),
        leak_guard_auc: DEFAULT_LEAK_GUARD_AUC,
        sales_process: false,
        levels: Vec::new(),
        penalty: 1.0,
    }
}

fn categorical(style: ValueStyle) -> FieldKind {
    FieldKind::Categorical { style }
}

/// Field specs of the contact feature set, in value order.
pub fn contact_fields() -> Vec<FieldSpec> {
    let employees = FieldKind::Numeric {
        transform: Transform::Log10,
        bins: Bins::Fixed {
            edges: vec![10.0, 50.0, 200.0, 1000.0, 10_000.0],
            labels: [
                "1–10",
                "11–50",
                "51–200",
                "201–1,000",
                "1,001–10,000",
                "10,000+",
            ]
            .map(String::from)
            .to_vec(),
        },
    };
    let revenue = FieldKind::Numeric {
        transform: Transform::Log10,
        bins: Bins::Fixed {
            edges: vec![1e6, 1e7, 5e7, 2.5e8, 1e9],
            labels: [
                "under $1M",
                "$1M–10M",
                "$10M–50M",
                "$50M–250M",
                "$250M–1B",
                "over $1B",
            ]
            .map(String::from)
            .to_vec(),
        },
    };
    let mut fields = vec![
        spec(
            "industry",
            categorical(ValueStyle::Industry),
            "{} industry",
            "industry unknown",
            "a less common industry",
        ),
        spec(
            "numberofemployees",
            employees,
            "{} employees",
            "employee count unknown",
            "employee count unusual",
        ),
        spec(
            "annualrevenue",
            revenue,
            "{} annual revenue",
            "annual revenue unknown",
            "annual revenue unusual",
        ),
        spec(
            "country",
            categorical(ValueStyle::Country),
            "based in {}",
            "country unknown",
            "based in a less common country",
        ),
        spec(
            "region",
            categorical(ValueStyle::Region),
            "in {}",
            "region unknown",
            "in a less common region",
        ),
        spec(
            "seniority",
            categorical(ValueStyle::Seniority),
            "{}",
            "seniority unknown (no usable job title or HubSpot seniority)",
            "unusual seniority",
        ),
        spec(
            "department",
            categorical(ValueStyle::Department),
            "works in {}",
            "department unknown",
            "works in a less common department",
        ),
        spec(
            "seniority_by_size",
            categorical(ValueStyle::SeniorityBySize),
            "{}",
            "seniority or company size unknown",
            "an uncommon seniority for its company size",
        ),
        spec(
            "department_by_sector",
            categorical(ValueStyle::DepartmentBySector),
            "{}",
            "department or sector unknown",
            "an uncommon department for its sector",
        ),
        spec(
            "hs_seniority",
            categorical(ValueStyle::Raw),
            "HubSpot seniority {}",
            "no HubSpot seniority",
            "a rare HubSpot seniority",
        ),
        spec(
            "hs_role",
            categorical(ValueStyle::Raw),
            "HubSpot role {}",
            "no HubSpot role",
            "a rare HubSpot role",
        ),
        spec(
            "lifecyclestage",
            categorical(ValueStyle::Raw),
            "lifecycle stage {}",
            "lifecycle stage unknown",
            "a rare lifecycle stage",
        ),
        spec(
            "hs_lead_status",
            categorical(ValueStyle::Raw),
            "lead status {}",
            "no lead status",
            "a rare lead status",
        ),
    ];
    fields.push(spec(
        "sector",
        categorical(ValueStyle::Sector),
        "in {}",
        "sector unknown",
        "in a less common sector",
    ));
    fields[field::LIFECYCLE_STAGE].sales_process = true;
    fields[field::LEAD_STATUS].sales_process = true;
    // Priors of B2B buying, so a few hundred (or a few dozen) customers are enough: many-valued
    // fields shrink toward their coarser group (industry → sector, country → region), and
    // seniority is a trend (more senior buys more, more so in bigger companies) learned as one
    // slope, with the per-level one-hots as penalised deviations from it.
    for (index, penalty) in [
        (field::INDUSTRY, SHRUNK_TO_GROUP),
        (field::COUNTRY, SHRUNK_TO_GROUP),
        (field::SENIORITY, SHRUNK_TO_GROUP),
        (field::HS_SENIORITY, SHRUNK_TO_GROUP),
        (field::SENIORITY_BY_SIZE, SHRUNK_TO_GROUP),
        (field::DEPARTMENT_BY_SECTOR, SHRUNK_TO_GROUP),
    ] {
        fields[index].penalty = penalty;
    }
    fields[field::SENIORITY].levels = Seniority::ALL
        .iter()
        .map(|&s| (s.key().to_string(), seniority_rank(s)))
        .collect();
    fields[field::HS_SENIORITY].levels = HS_SENIORITY_RANKS
        .iter()
        .map(|(key, rank)| ((*key).to_string(), *rank))
        .collect();
    // The same rank tilted by company size (small −1, mid 0, large +1): seniority weighs more
    // in bigger companies.
    fields[field::SENIORITY_BY_SIZE].levels = Seniority::ALL
        .iter()
        .flat_map(|&s| {
            SizeBand::ALL.iter().enumerate().map(move |(tilt, band)| {
                (
                    format!("{}@{}", s.key(), band.key()),
                    seniority_rank(s) * (tilt as f64 - 1.0),
                )
            })
        })
        .collect();
    debug_assert_eq!(fields.len(), field::COUNT);
    fields
}

/// Relative penalty of one-hot columns that have a coarser group or trend in the model.
const SHRUNK_TO_GROUP: f64 = 3.0;

/// Ordinal rank of each seniority (entry 0 … C-level 6): owners and partners decide like CxOs.
pub fn seniority_rank(seniority: Seniority) -> f64 {
    match seniority {
        Seniority::Entry => 0.0,
        Seniority::Ic => 1.0,
        Seniority::SeniorIc => 2.0,
        Seniority::Manager => 3.0,
        Seniority::Director => 4.0,
        Seniority::Vp => 5.0,
        Seniority::OwnerPartner | Seniority::Cxo => 6.0,
    }
}

/// Seniority of a HubSpot `hs_seniority` value (lower case), for contacts whose title says
/// nothing usable.
fn seniority_of_hubspot(value: &str) -> Option<Seniority> {
    Some(match value {
        "intern" => Seniority::Entry,
        "employee" => Seniority::Ic,
        "senior" => Seniority::SeniorIc,
        "manager" => Seniority::Manager,
        "director" => Seniority::Director,
        "vp" => Seniority::Vp,
        "executive" => Seniority::Cxo,
        "owner" | "partner" => Seniority::OwnerPartner,
        _ => return None,
    })
}

/// Department of a HubSpot `hs_role` value (lower case), for contacts whose title says nothing
/// usable; roles without a clear department give none.
fn department_of_hubspot(value: &str) -> Option<Department> {
    Some(match value {
        "sales" | "business_development" => Department::Sales,
        "marketing" | "communications" | "public_relations" => Department::Marketing,
        "engineering" | "product" | "research" | "design" => Department::Engineering,
        "information_technology" => Department::It,
        "finance" | "accounting" => Department::Finance,
        "human_resources" | "recruiting" => Department::Hr,
        "legal" => Department::Legal,
        "operations" | "administrative" => Department::Operations,
        "customer_service" | "support" => Department::Support,
        _ => return None,
    })
}

/// Ranks of HubSpot's `hs_seniority` enum values, on the `seniority_rank` scale.
const HS_SENIORITY_RANKS: &[(&str, f64)] = &[
    ("intern", 0.0),
    ("employee", 1.0),
    ("senior", 2.0),
    ("manager", 3.0),
    ("director", 4.0),
    ("vp", 5.0),
    ("executive", 6.0),
    ("owner", 6.0),
    ("partner", 6.0),
];

/// A short key built on the stack (`"vp@large"`), so scoring one contact does not allocate.
pub(super) struct KeyBuf {
    bytes: [u8; 48],
    len: usize,
}

impl KeyBuf {
    fn joined(left: &str, right: &str) -> Option<KeyBuf> {
        let len = left.len() + 1 + right.len();
        if len > 48 {
            return None;
        }
        let mut bytes = [0u8; 48];
        bytes[..left.len()].copy_from_slice(left.as_bytes());
        bytes[left.len()] = b'@';
        bytes[left.len() + 1..len].copy_from_slice(right.as_bytes());
        Some(KeyBuf { bytes, len })
    }

    fn as_str(&self) -> &str {
        // Built from two &str and an ASCII '@', so always valid UTF-8.
        std::str::from_utf8(&self.bytes[..self.len]).unwrap_or("")
    }
}

/// Derived facts of a contact, owned so that borrowed values can point into it.
pub(super) struct Derived {
    seniority: Option<Seniority>,
    department: Option<Department>,
    seniority_by_size: Option<KeyBuf>,
    department_by_sector: Option<KeyBuf>,
    sector: Option<Sector>,
}

impl Derived {
    pub(super) fn of(facts: &ContactFacts) -> Derived {
        let parsed = facts
            .job_title
            .as_deref()
            .map(parse_title)
            .unwrap_or_default();
        // HubSpot's own enrichment fills in when the title says nothing usable.
        let seniority = parsed
            .seniority
            .or_else(|| facts.hs_seniority.as_deref().and_then(seniority_of_hubspot));
        let department = parsed
            .department
            .or_else(|| facts.hs_role.as_deref().and_then(department_of_hubspot));
        let company = facts.company.as_ref();
        let size = company
            .and_then(|c| c.employees)
            .map(SizeBand::of_employees);
        let sector = company
            .and_then(|c| c.industry.as_deref())
            .map(Sector::of_industry);
        Derived {
            seniority,
            department,
            seniority_by_size: seniority
                .zip(size)
                .and_then(|(s, b)| KeyBuf::joined(s.key(), b.key())),
            department_by_sector: department
                .zip(sector)
                .and_then(|(d, s)| KeyBuf::joined(d.key(), s.key())),
            sector,
        }
    }

    /// The contact's values in field order.
    pub(super) fn values<'a>(&'a self, facts: &'a ContactFacts) -> [FieldValue<'a>; field::COUNT] {
        let company = facts.company.as_ref();
        let country = company
            .and_then(|c| c.country.as_deref())
            .or(facts.country.as_deref());
        let lifecycle = facts
            .lifecycle_stage
            .as_deref()
            .filter(|stage| !OUTCOME_LIFECYCLE_STAGES.contains(stage));
        [
            FieldValue::Category(company.and_then(|c| c.industry.as_deref())),
            FieldValue::Number(company.and_then(|c| c.employees)),
            FieldValue::Number(company.and_then(|c| c.annual_revenue)),
            FieldValue::Category(country),
            FieldValue::Category(country.and_then(region_of_key).map(|r| r.key())),
            FieldValue::Category(self.seniority.map(Seniority::key)),
            FieldValue::Category(self.department.map(Department::key)),
            FieldValue::Category(self.seniority_by_size.as_ref().map(KeyBuf::as_str)),
            FieldValue::Category(self.department_by_sector.as_ref().map(KeyBuf::as_str)),
            FieldValue::Category(facts.hs_seniority.as_deref()),
            FieldValue::Category(facts.hs_role.as_deref()),
            FieldValue::Category(lifecycle),
            FieldValue::Category(facts.lead_status.as_deref()),
            FieldValue::Category(self.sector.map(Sector::key)),
        ]
    }
}

/// Words for a "seniority@band" key.
pub fn describe_seniority_by_size(key: &str) -> Option<String> {
    let (seniority, band) = key.split_once('@')?;
    let seniority = Seniority::ALL.iter().find(|s| s.key() == seniority)?;
    let band = SizeBand::ALL.iter().find(|b| b.key() == band)?;
    Some(format!("{} at {}", seniority.label(), band.label()))
}

/// Words for a "department@sector" key.
pub fn describe_department_by_sector(key: &str) -> Option<String> {
    let (department, sector) = key.split_once('@')?;
    let department = Department::ALL.iter().find(|d| d.key() == department)?;
    let sector = Sector::ALL.iter().find(|s| s.key() == sector)?;
    Some(format!("{} role in {}", department.label(), sector.label()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crm::facts::CompanyFacts;

    #[test]
    fn sectors_of_common_hubspot_industries() {
        assert_eq!(Sector::of_industry("COMPUTER_SOFTWARE"), Sector::Technology);
        assert_eq!(
            Sector::of_industry("INFORMATION_TECHNOLOGY_AND_SERVICES"),
            Sector::Technology
        );
        assert_eq!(Sector::of_industry("BANKING"), Sector::Finance);
        assert_eq!(
            Sector::of_industry("HOSPITAL_HEALTH_CARE"),
            Sector::Healthcare
        );
        assert_eq!(
            Sector::of_industry("MARKETING_AND_ADVERTISING"),
            Sector::ProfessionalServices
        );
        assert_eq!(Sector::of_industry("HIGHER_EDUCATION"), Sector::Public);
        assert_eq!(Sector::of_industry("CONSTRUCTION"), Sector::Industrial);
        assert_eq!(Sector::of_industry("RETAIL"), Sector::Consumer);
        assert_eq!(Sector::of_industry("SOMETHING_NEW"), Sector::Other);
    }

    #[test]
    fn hubspot_seniority_and_role_fill_in_for_an_unusable_title() {
        let facts = ContactFacts {
            job_title: None,
            hs_seniority: Some("vp".into()),
            hs_role: Some("information_technology".into()),
            company: Some(CompanyFacts::new(
                Some("Banking"),
                Some("20"),
                None,
                Some("Germany"),
            )),
            ..ContactFacts::default()
        };
        let derived = Derived::of(&facts);
        let values = derived.values(&facts);
        assert_eq!(values[field::SENIORITY], FieldValue::Category(Some("vp")));
        assert_eq!(values[field::DEPARTMENT], FieldValue::Category(Some("it")));
        assert_eq!(
            values[field::SENIORITY_BY_SIZE],
            FieldValue::Category(Some("vp@small"))
        );
        assert_eq!(
            values[field::DEPARTMENT_BY_SECTOR],
            FieldValue::Category(Some("it@finance"))
        );
        assert_eq!(values[field::SECTOR], FieldValue::Category(Some("finance")));
        // The title wins when it says something.
        let titled = ContactFacts {
            job_title: Some("Sales Manager".into()),
            ..facts
        };
        let derived = Derived::of(&titled);
        assert_eq!(
            derived.values(&titled)[field::SENIORITY],
            FieldValue::Category(Some("manager"))
        );
    }

    #[test]
    fn seniority_levels_rise_with_rank_and_tilt_with_size() {
        let fields = contact_fields();
        let level = |field: usize, key: &str| {
            fields[field]
                .levels
                .iter()
                .find(|(k, _)| k == key)
                .map(|(_, level)| *level)
        };
        let ranks: Vec<f64> = Seniority::ALL
            .iter()
            .filter_map(|s| level(field::SENIORITY, s.key()))
            .collect();
        assert_eq!(ranks.len(), Seniority::ALL.len());
        assert!(ranks.windows(2).all(|pair| pair[0] <= pair[1]), "{ranks:?}");
        assert_eq!(level(field::SENIORITY_BY_SIZE, "vp@small"), Some(-5.0));
        assert_eq!(level(field::SENIORITY_BY_SIZE, "vp@mid"), Some(0.0));
        assert_eq!(level(field::SENIORITY_BY_SIZE, "vp@large"), Some(5.0));
        assert_eq!(level(field::HS_SENIORITY, "executive"), Some(6.0));
        assert!(fields[field::INDUSTRY].penalty > fields[field::SECTOR].penalty);
        assert!(fields[field::COUNTRY].penalty > fields[field::REGION].penalty);
    }

    #[test]
    fn values_follow_field_order_and_mask_outcome_stages() {
        let facts = ContactFacts {
            job_title: Some("VP, Sales".into()),
            lifecycle_stage: Some("customer".into()),
            lead_status: Some("NEW".into()),
            company: Some(CompanyFacts::new(
                Some("Computer Software"),
                Some("1500"),
                None,
                Some("USA"),
            )),
            ..ContactFacts::default()
        };
        let derived = Derived::of(&facts);
        let values = derived.values(&facts);
        assert_eq!(values.len(), contact_fields().len());
        assert_eq!(
            values[field::INDUSTRY],
            FieldValue::Category(Some("COMPUTER_SOFTWARE"))
        );
        assert_eq!(values[field::COUNTRY], FieldValue::Category(Some("US")));
        assert_eq!(
            values[field::REGION],
            FieldValue::Category(Some("north_america"))
        );
        assert_eq!(values[field::SENIORITY], FieldValue::Category(Some("vp")));
        assert_eq!(
            values[field::SENIORITY_BY_SIZE],
            FieldValue::Category(Some("vp@large"))
        );
        assert_eq!(
            values[field::DEPARTMENT_BY_SECTOR],
            FieldValue::Category(Some("sales@technology"))
        );
        assert_eq!(values[field::LIFECYCLE_STAGE], FieldValue::Category(None));
        assert_eq!(
            values[field::LEAD_STATUS],
            FieldValue::Category(Some("NEW"))
        );
        assert_eq!(
            describe_seniority_by_size("vp@large").as_deref(),
            Some("VP-level at a large company (1,000+ employees)")
        );
        assert_eq!(
            describe_department_by_sector("sales@technology").as_deref(),
            Some("Sales role in technology")
        );
    }
}
