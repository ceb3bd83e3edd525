//! Job title → seniority and department, by keyword rules (first match wins).
//!
//! Free-text titles are the richest person-level signal in a CRM but too messy to one-hot
//! directly. The rules follow the Demandbase/Engagio level and department mappings with the
//! traps guarded: "Executive Assistant", "Account Executive", "Assistant to the CEO",
//! abbreviations ("Sr.", "Mgr", "Dir.", "V.P."), and titles joined by "&", "/" or ",".

use serde::{Deserialize, Serialize};

/// How senior a person is; ordered from least to most senior so joined titles keep the highest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Seniority {
    Entry,
    Ic,
    SeniorIc,
    Manager,
    Director,
    Vp,
    OwnerPartner,
    Cxo,
}

impl Seniority {
    /// Every level, for building feature vocabularies and tests.
    pub const ALL: [Seniority; 8] = [
        Seniority::Entry,
        Seniority::Ic,
        Seniority::SeniorIc,
        Seniority::Manager,
        Seniority::Director,
        Seniority::Vp,
        Seniority::OwnerPartner,
        Seniority::Cxo,
    ];

    /// Stable key used as the categorical feature value.
    pub fn key(self) -> &'static str {
        match self {
            Seniority::Entry => "entry",
            Seniority::Ic => "ic",
            Seniority::SeniorIc => "senior_ic",
            Seniority::Manager => "manager",
            Seniority::Director => "director",
            Seniority::Vp => "vp",
            Seniority::OwnerPartner => "owner_partner",
            Seniority::Cxo => "cxo",
        }
    }

    /// Words a sales rep reads in an explanation.
    pub fn label(self) -> &'static str {
        match self {
            Seniority::Entry => "entry-level",
            Seniority::Ic => "individual-contributor",
            Seniority::SeniorIc => "senior individual-contributor",
            Seniority::Manager => "manager-level",
            Seniority::Director => "director-level",
            Seniority::Vp => "VP-level",
            Seniority::OwnerPartner => "owner/partner",
            Seniority::Cxo => "C-level",
        }
    }
}

/// Which function a person works in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Department {
    Sales,
    Marketing,
    Engineering,
    It,
    Finance,
    Hr,
    Legal,
    Operations,
    Support,
    Executive,
}

impl Department {
    /// Every department, for vocabularies and tests.
    pub const ALL: [Department; 10] = [
        Department::Sales,
        Department::Marketing,
        Department::Engineering,
        Department::It,
        Department::Finance,
        Department::Hr,
        Department::Legal,
        Department::Operations,
        Department::Support,
        Department::Executive,
    ];

    /// Stable key used as the categorical feature value.
    pub fn key(self) -> &'static str {
        match self {
            Department::Sales => "sales",
            Department::Marketing => "marketing",
            Department::Engineering => "engineering",
            Department::It => "it",
            Department::Finance => "finance",
            Department::Hr => "hr",
            Department::Legal => "legal",
            Department::Operations => "operations",
            Department::Support => "support",
            Department::Executive => "executive",
        }
    }

    /// Words a sales rep reads in an explanation.
    pub fn label(self) -> &'static str {
        match self {
            Department::Sales => "Sales",
            Department::Marketing => "Marketing",
            Department::Engineering => "Engineering/R&D",
            Department::It => "IT",
            Department::Finance => "Finance",
            Department::Hr => "HR",
            Department::Legal => "Legal",
            Department::Operations => "Operations",
            Department::Support => "Customer support",
            Department::Executive => "Executive leadership",
        }
    }
}

/// The two facts a title yields; either may be unknown.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ParsedTitle {
    pub seniority: Option<Seniority>,
    pub department: Option<Department>,
}

/// Parses a free-text job title. Empty or placeholder titles ("n/a", "-") give nothing.
pub fn parse_title(raw: &str) -> ParsedTitle {
    let normalized = normalize(raw);
    let words: Vec<&str> = normalized.split_whitespace().map(correct_typo).collect();
    if words.is_empty() || is_placeholder(&words) {
        return ParsedTitle::default();
    }
    let segments = split_segments(&words);

    let assistant = is_assistant_role(&words);
    let seniority = if assistant {
        Some(Seniority::Entry)
    } else {
        segments
            .iter()
            .map(|segment| segment_seniority(segment))
            .max()
    };
    let department = if assistant {
        Some(Department::Operations)
    } else {
        segments
            .iter()
            .find_map(|segment| segment_department(segment))
    };
    ParsedTitle {
        seniority,
        department,
    }
}

/// Lower-cases, drops dots (so "V.P." is "vp" and "Sr." is "sr"), isolates the joiners
/// "&", "/", ",", "|", ";", "(", ")", "+" as their own words and turns other punctuation into spaces.
fn normalize(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len() + 8);
    for ch in raw.chars() {
        match ch {
            '.' | '\'' | '’' => {}
            '&' | '/' | ',' | '|' | ';' | '(' | ')' | '+' | '\\' => {
                out.push(' ');
                out.push('|');
                out.push(' ');
            }
            c if c.is_alphanumeric() => out.extend(c.to_lowercase()),
            _ => out.push(' '),
        }
    }
    out
}

fn is_placeholder(words: &[&str]) -> bool {
    let content: Vec<&str> = words.iter().copied().filter(|w| *w != "|").collect();
    matches!(
        content.as_slice(),
        [] | ["na"] | ["n", "a"] | ["none"] | ["unknown"] | ["null"] | ["tbd"] | ["x"]
    )
}

/// Splits on joiners and on " and " / " - " style conjunctions, keeping non-empty segments.
fn split_segments<'a>(words: &[&'a str]) -> Vec<Vec<&'a str>> {
    let mut segments = Vec::with_capacity(3);
    let mut current: Vec<&str> = Vec::with_capacity(words.len());
    for &word in words {
        if word == "|" || word == "and" {
            if !current.is_empty() {
                segments.push(std::mem::take(&mut current));
            }
        } else {
            current.push(word);
        }
    }
    if !current.is_empty() {
        segments.push(current);
    }
    segments
}

/// Assistant roles are entry-level support staff even when the title names an executive.
fn is_assistant_role(words: &[&str]) -> bool {
    let has = |phrase: &[&str]| contains_phrase(words, phrase);
    has(&["executive", "assistant"])
        || has(&["administrative", "assistant"])
        || has(&["admin", "assistant"])
        || has(&["personal", "assistant"])
        || has(&["assistant", "to"])
        || has(&["ea", "to"])
        || has(&["pa", "to"])
        || has(&["office", "assistant"])
}

fn contains_phrase(words: &[&str], phrase: &[&str]) -> bool {
    words.windows(phrase.len()).any(|window| window == phrase)
}

fn has_any(words: &[&str], candidates: &[&str]) -> bool {
    words.iter().any(|word| candidates.contains(word))
}

/// Every rule keyword of 7+ letters: a word one typo away from one of them is read as it,
/// because titles are typed by hand ("Manger", "Enginer"). Correcting each word once keeps
/// the rules themselves exact and fast.
const TYPO_VOCABULARY: &[&str] = &[
    "account",
    "accountant",
    "accounting",
    "accounts",
    "administration",
    "administrative",
    "administrator",
    "apprentice",
    "architect",
    "assistant",
    "attorney",
    "auditor",
    "backend",
    "benefits",
    "bookkeeper",
    "business",
    "chairman",
    "chairwoman",
    "channel",
    "cofounder",
    "commercial",
    "communications",
    "compensation",
    "compliance",
    "comptroller",
    "content",
    "contracts",
    "controller",
    "coordinator",
    "copywriter",
    "counsel",
    "customer",
    "cybersecurity",
    "designer",
    "developer",
    "development",
    "directeur",
    "director",
    "direktor",
    "engineer",
    "engineering",
    "executive",
    "experience",
    "facilities",
    "finance",
    "financial",
    "foreman",
    "founder",
    "frontend",
    "fullstack",
    "general",
    "geschaftsfuhrer",
    "geschäftsführer",
    "graduate",
    "helpdesk",
    "implementation",
    "information",
    "infrastructure",
    "internship",
    "investor",
    "logistics",
    "manager",
    "managing",
    "marketer",
    "marketing",
    "network",
    "onboarding",
    "operating",
    "operations",
    "paralegal",
    "partner",
    "partnerships",
    "payroll",
    "personal",
    "personnel",
    "president",
    "principal",
    "process",
    "procurement",
    "product",
    "program",
    "programmer",
    "project",
    "proprietor",
    "purchasing",
    "quality",
    "receptionist",
    "recruiter",
    "recruiting",
    "recruitment",
    "relations",
    "research",
    "resources",
    "revenue",
    "salesperson",
    "scientist",
    "security",
    "service",
    "services",
    "software",
    "solicitor",
    "strategy",
    "student",
    "success",
    "supervisor",
    "support",
    "sysadmin",
    "systems",
    "technical",
    "technology",
    "trainee",
    "treasurer",
    "treasury",
    "vicepres",
    "vicepresident",
    "werkstudent",
];

/// The word itself, or the keyword it is one typo (edit or swap) away from.
fn correct_typo(word: &str) -> &str {
    if word.len() < 6 || TYPO_VOCABULARY.contains(&word) {
        return word;
    }
    TYPO_VOCABULARY
        .iter()
        .find(|keyword| keyword.len().abs_diff(word.len()) <= 1 && within_one_edit(word, keyword))
        .copied()
        .unwrap_or(word)
}

fn within_one_edit(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    let (short, long) = if a.len() <= b.len() { (a, b) } else { (b, a) };
    let prefix = short
        .iter()
        .zip(long.iter())
        .take_while(|(x, y)| x == y)
        .count();
    if short.len() == long.len() {
        // one substitution, or one swap of neighbours
        let rest_equal = short[prefix + 1..] == long[prefix + 1..];
        let swapped = prefix + 1 < short.len()
            && short[prefix] == long[prefix + 1]
            && short[prefix + 1] == long[prefix]
            && short[prefix + 2..] == long[prefix + 2..];
        rest_equal || swapped
    } else {
        short[prefix..] == long[prefix + 1..]
    }
}

const CXO_ABBREVIATIONS: &[&str] = &[
    "ceo", "cto", "cfo", "coo", "cmo", "cio", "ciso", "cro", "cso", "cpo", "chro", "cdo", "cco",
    "cao", "cbo", "cpto",
];

fn segment_seniority(words: &[&str]) -> Seniority {
    let has = |phrase: &[&str]| contains_phrase(words, phrase);
    let any = |candidates: &[&str]| has_any(words, candidates);
    let senior_modifier = any(&["senior", "sr", "snr", "lead", "staff", "principal"]);

    // Traps first: these contain words that would otherwise be read as a higher level.
    if has(&["account", "executive"])
        || has(&["sales", "executive"])
        || has(&["account", "exec"])
        || has(&["marketing", "executive"])
        || has(&["business", "development", "executive"])
    {
        return if senior_modifier {
            Seniority::SeniorIc
        } else {
            Seniority::Ic
        };
    }
    if has(&["chief", "of", "staff"]) {
        return Seniority::Director;
    }
    if has(&["executive", "director"]) {
        return Seniority::Director;
    }
    if has(&["assistant", "vice", "president"]) || any(&["avp"]) {
        return Seniority::Manager;
    }
    if has(&["vice", "president"])
        || any(&["vp", "svp", "evp", "vicepresident", "vicepres"])
        || has(&["v", "p"])
        || has(&["general", "manager"])
        || has(&["general", "counsel"])
        || any(&["gm"])
    {
        return Seniority::Vp;
    }
    if any(CXO_ABBREVIATIONS)
        || any(&[
            "chief",
            "founder",
            "cofounder",
            "president",
            "ceo",
            "geschaftsfuhrer",
            "geschäftsführer",
        ])
        || has(&["co", "founder"])
        || has(&["managing", "director"])
    {
        return Seniority::Cxo;
    }
    let product_owner = has(&["product", "owner"]) || has(&["process", "owner"]);
    if (any(&["owner", "proprietor"]) && !product_owner)
        || has(&["managing", "partner"])
        || has(&["senior", "partner"])
        || (words.last() == Some(&"partner") && !any(&["channel", "business"]))
        || words == ["principal"]
    {
        return Seniority::OwnerPartner;
    }
    if any(&["director", "dir", "directeur", "direktor"]) || any(&["head"]) {
        return Seniority::Director;
    }
    // "Team Lead", "Engineering Lead": a trailing "lead" names who leads a team.
    if any(&["manager", "mgr", "mngr", "supervisor", "foreman"])
        || (words.len() > 1 && words.last() == Some(&"lead"))
        || has(&["team", "lead"])
    {
        return Seniority::Manager;
    }
    if any(&[
        "intern",
        "internship",
        "trainee",
        "student",
        "apprentice",
        "werkstudent",
        "receptionist",
    ]) || any(&["junior", "jr", "graduate", "assistant", "asst", "entry"])
    {
        return Seniority::Entry;
    }
    if senior_modifier || any(&["architect", "fellow", "expert"]) {
        return Seniority::SeniorIc;
    }
    Seniority::Ic
}

/// Department rules in priority order: phrases before single words, specific functions before
/// broad ones ("Sales Engineer" is Sales, "IT Support" is IT, "Product Marketing" is Marketing).
fn segment_department(words: &[&str]) -> Option<Department> {
    let has = |phrase: &[&str]| contains_phrase(words, phrase);
    let any = |candidates: &[&str]| has_any(words, candidates);

    if has(&["account", "executive"])
        || has(&["account", "exec"])
        || has(&["account", "manager"])
        || has(&["business", "development"])
        || has(&["key", "account"])
        || has(&["sales", "engineer"])
    {
        return Some(Department::Sales);
    }
    if has(&["customer", "success"])
        || has(&["customer", "service"])
        || has(&["customer", "experience"])
        || has(&["client", "services"])
        || has(&["customer", "care"])
        || has(&["customer", "support"])
    {
        return Some(Department::Support);
    }
    if has(&["product", "marketing"]) {
        return Some(Department::Marketing);
    }
    if has(&["chief", "executive"]) || has(&["managing", "director"]) {
        return Some(Department::Executive);
    }
    if has(&["chief", "of", "staff"]) || has(&["office", "manager"]) {
        return Some(Department::Operations);
    }
    if has(&["general", "counsel"]) {
        return Some(Department::Legal);
    }
    if has(&["human", "resources"]) || has(&["people", "operations"]) || has(&["chief", "people"]) {
        return Some(Department::Hr);
    }
    if has(&["information", "technology"])
        || has(&["information", "systems"])
        || has(&["information", "security"])
        || has(&["system", "administrator"])
        || has(&["systems", "administrator"])
        || has(&["help", "desk"])
    {
        return Some(Department::It);
    }
    if has(&["chief", "technology"]) || has(&["chief", "product"]) || has(&["data", "scientist"]) {
        return Some(Department::Engineering);
    }
    if has(&["chief", "financial"]) || has(&["investor", "relations"]) {
        return Some(Department::Finance);
    }
    if has(&["chief", "revenue"]) || has(&["chief", "sales"]) {
        return Some(Department::Sales);
    }
    if has(&["chief", "marketing"]) {
        return Some(Department::Marketing);
    }
    if has(&["chief", "customer"]) {
        return Some(Department::Support);
    }
    if has(&["chief", "operating"]) || has(&["chief", "operations"]) {
        return Some(Department::Operations);
    }
    if has(&["chief", "information"]) || has(&["chief", "security"]) {
        return Some(Department::It);
    }

    if any(&[
        "legal",
        "counsel",
        "attorney",
        "lawyer",
        "paralegal",
        "contracts",
        "compliance",
        "solicitor",
    ]) {
        return Some(Department::Legal);
    }
    if any(&[
        "hr",
        "chro",
        "people",
        "talent",
        "recruiter",
        "recruiting",
        "recruitment",
        "hris",
        "compensation",
        "benefits",
        "personnel",
    ]) {
        return Some(Department::Hr);
    }
    if any(&[
        "finance",
        "financial",
        "cfo",
        "accountant",
        "accounting",
        "accounts",
        "controller",
        "comptroller",
        "treasurer",
        "treasury",
        "bookkeeper",
        "payroll",
        "audit",
        "auditor",
        "tax",
        "fp",
    ]) {
        return Some(Department::Finance);
    }
    if any(&[
        "it",
        "cio",
        "ciso",
        "sysadmin",
        "helpdesk",
        "network",
        "infrastructure",
        "security",
        "cybersecurity",
        "dba",
    ]) {
        return Some(Department::It);
    }
    if any(&[
        "marketing",
        "marketer",
        "cmo",
        "seo",
        "sem",
        "abm",
        "content",
        "demand",
        "growth",
        "brand",
        "communications",
        "comms",
        "pr",
        "social",
        "events",
        "copywriter",
    ]) {
        return Some(Department::Marketing);
    }
    if any(&[
        "sales",
        "cro",
        "cso",
        "revenue",
        "bdr",
        "sdr",
        "bdm",
        "commercial",
        "partnerships",
        "channel",
        "salesperson",
    ]) {
        return Some(Department::Sales);
    }
    if any(&[
        "support",
        "service",
        "services",
        "cx",
        "csm",
        "implementation",
        "onboarding",
    ]) {
        return Some(Department::Support);
    }
    if any(&[
        "engineer",
        "engineering",
        "developer",
        "development",
        "software",
        "programmer",
        "architect",
        "devops",
        "sre",
        "qa",
        "quality",
        "data",
        "research",
        "r",
        "scientist",
        "product",
        "design",
        "designer",
        "ux",
        "ui",
        "technology",
        "technical",
        "cto",
        "cpo",
        "frontend",
        "backend",
        "fullstack",
        "ml",
        "ai",
        "swe",
        "eng",
        "pm",
    ]) {
        return Some(Department::Engineering);
    }
    if any(&[
        "operations",
        "ops",
        "coo",
        "admin",
        "administrative",
        "administrator",
        "procurement",
        "purchasing",
        "logistics",
        "supply",
        "facilities",
        "project",
        "program",
        "office",
        "administration",
        "strategy",
        "receptionist",
        "coordinator",
    ]) {
        return Some(Department::Operations);
    }
    // "Vice President" names a level, not the executive function.
    let vice = has(&["vice", "president"]) || any(&["vicepresident"]);
    if !vice
        && any(&[
            "ceo",
            "founder",
            "cofounder",
            "owner",
            "president",
            "partner",
            "board",
            "chairman",
            "chairwoman",
            "chair",
            "principal",
            "proprietor",
            "geschaftsfuhrer",
            "geschäftsführer",
        ])
        || has(&["co", "founder"])
        || has(&["general", "manager"])
    {
        return Some(Department::Executive);
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_edit_accepts_single_typos_only() {
        assert!(within_one_edit("manger", "manager"));
        assert!(within_one_edit("enginer", "engineer"));
        assert!(within_one_edit("dierctor", "director"));
        assert!(!within_one_edit("mngrr", "manager"));
        assert_eq!(correct_typo("directr"), "director");
        assert_eq!(correct_typo("mrketing"), "marketing");
        assert_eq!(correct_typo("dir"), "dir");
        assert_eq!(correct_typo("strategist"), "strategist");
    }

    #[test]
    fn joiners_become_segment_breaks() {
        let words = |raw: &str| {
            normalize(raw)
                .split_whitespace()
                .map(str::to_string)
                .collect::<Vec<_>>()
        };
        assert_eq!(
            words("VP, Sales & Marketing"),
            ["vp", "|", "sales", "|", "marketing"]
        );
        assert_eq!(words("V.P. Finance"), ["vp", "finance"]);
    }
}
