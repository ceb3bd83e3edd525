//! Cleaning of messy CRM values (industry, country, numbers) into canonical keys.
//!
//! Without this, "USA", "United States" and "US" would be three unrelated categories and the
//! model would split their evidence three ways.

use serde::{Deserialize, Serialize};

/// Canonical industry key: upper case, words joined by `_`, like HubSpot's enum values,
/// so free text ("Computer software") and the enum (`COMPUTER_SOFTWARE`) coincide.
pub fn industry_key(raw: &str) -> Option<String> {
    let mut key = String::with_capacity(raw.len());
    let mut pending_separator = false;
    for ch in raw.trim().chars() {
        if ch.is_alphanumeric() {
            if pending_separator && !key.is_empty() {
                key.push('_');
            }
            pending_separator = false;
            key.extend(ch.to_uppercase());
        } else {
            pending_separator = true;
        }
    }
    if key.is_empty() || is_placeholder(&key) {
        None
    } else {
        Some(key)
    }
}

/// Human words for an industry key: `COMPUTER_SOFTWARE` → "Computer software".
pub fn industry_label(key: &str) -> String {
    let mut label = String::with_capacity(key.len());
    for (index, word) in key.split('_').enumerate() {
        if index > 0 {
            label.push(' ');
        }
        let lower = word.to_lowercase();
        if index == 0 {
            let mut chars = lower.chars();
            if let Some(first) = chars.next() {
                label.extend(first.to_uppercase());
                label.push_str(chars.as_str());
            }
        } else {
            label.push_str(&lower);
        }
    }
    label
}

fn is_placeholder(key: &str) -> bool {
    matches!(
        key,
        "NA" | "N_A" | "NONE" | "NULL" | "UNKNOWN" | "OTHER_UNKNOWN" | "TBD"
    )
}

/// World region of a country, a coarser signal that still has support when a country is rare.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Region {
    NorthAmerica,
    LatinAmerica,
    Europe,
    MiddleEastAfrica,
    AsiaPacific,
}

impl Region {
    /// Stable key used as the categorical feature value.
    pub fn key(self) -> &'static str {
        match self {
            Region::NorthAmerica => "north_america",
            Region::LatinAmerica => "latin_america",
            Region::Europe => "europe",
            Region::MiddleEastAfrica => "middle_east_africa",
            Region::AsiaPacific => "asia_pacific",
        }
    }

    /// Words a sales rep reads.
    pub fn label(self) -> &'static str {
        match self {
            Region::NorthAmerica => "North America",
            Region::LatinAmerica => "Latin America",
            Region::Europe => "Europe",
            Region::MiddleEastAfrica => "Middle East & Africa",
            Region::AsiaPacific => "Asia-Pacific",
        }
    }
}

/// A recognised country: ISO 3166 alpha-2 code, English name and region.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Country {
    pub code: &'static str,
    pub name: &'static str,
    pub region: Region,
}

/// (code, English name, region, spellings besides code and name: lower case, no punctuation).
const COUNTRIES: &[(&str, &str, Region, &[&str])] = &[
    (
        "US",
        "United States",
        Region::NorthAmerica,
        &[
            "usa",
            "united states of america",
            "america",
            "us of a",
            "u s",
            "u s a",
            "the united states",
        ],
    ),
    ("CA", "Canada", Region::NorthAmerica, &[]),
    ("MX", "Mexico", Region::LatinAmerica, &["méxico", "mexique"]),
    ("BR", "Brazil", Region::LatinAmerica, &["brasil"]),
    ("AR", "Argentina", Region::LatinAmerica, &[]),
    ("CL", "Chile", Region::LatinAmerica, &[]),
    ("CO", "Colombia", Region::LatinAmerica, &[]),
    ("PE", "Peru", Region::LatinAmerica, &["perú"]),
    (
        "GB",
        "United Kingdom",
        Region::Europe,
        &[
            "uk",
            "u k",
            "great britain",
            "britain",
            "england",
            "scotland",
            "wales",
            "northern ireland",
            "the united kingdom",
        ],
    ),
    (
        "DE",
        "Germany",
        Region::Europe,
        &["deutschland", "allemagne", "germania"],
    ),
    ("FR", "France", Region::Europe, &["frankreich"]),
    (
        "NL",
        "Netherlands",
        Region::Europe,
        &["the netherlands", "holland", "nederland"],
    ),
    (
        "BE",
        "Belgium",
        Region::Europe,
        &["belgië", "belgie", "belgique"],
    ),
    ("LU", "Luxembourg", Region::Europe, &[]),
    ("ES", "Spain", Region::Europe, &["españa", "espana"]),
    ("PT", "Portugal", Region::Europe, &[]),
    ("IT", "Italy", Region::Europe, &["italia"]),
    (
        "CH",
        "Switzerland",
        Region::Europe,
        &["schweiz", "suisse", "svizzera"],
    ),
    (
        "AT",
        "Austria",
        Region::Europe,
        &["österreich", "osterreich", "oesterreich"],
    ),
    (
        "IE",
        "Ireland",
        Region::Europe,
        &["eire", "republic of ireland"],
    ),
    ("SE", "Sweden", Region::Europe, &["sverige"]),
    ("NO", "Norway", Region::Europe, &["norge"]),
    ("DK", "Denmark", Region::Europe, &["danmark"]),
    ("FI", "Finland", Region::Europe, &["suomi"]),
    ("IS", "Iceland", Region::Europe, &[]),
    ("PL", "Poland", Region::Europe, &["polska"]),
    ("CZ", "Czech Republic", Region::Europe, &["czechia"]),
    ("HU", "Hungary", Region::Europe, &[]),
    ("RO", "Romania", Region::Europe, &[]),
    ("GR", "Greece", Region::Europe, &[]),
    ("EE", "Estonia", Region::Europe, &[]),
    ("UA", "Ukraine", Region::Europe, &[]),
    (
        "TR",
        "Turkey",
        Region::MiddleEastAfrica,
        &["türkiye", "turkiye"],
    ),
    ("IL", "Israel", Region::MiddleEastAfrica, &[]),
    (
        "AE",
        "United Arab Emirates",
        Region::MiddleEastAfrica,
        &["uae", "u a e", "emirates"],
    ),
    ("SA", "Saudi Arabia", Region::MiddleEastAfrica, &["ksa"]),
    ("ZA", "South Africa", Region::MiddleEastAfrica, &["rsa"]),
    ("NG", "Nigeria", Region::MiddleEastAfrica, &[]),
    ("KE", "Kenya", Region::MiddleEastAfrica, &[]),
    ("EG", "Egypt", Region::MiddleEastAfrica, &[]),
    ("IN", "India", Region::AsiaPacific, &["bharat"]),
    (
        "CN",
        "China",
        Region::AsiaPacific,
        &["prc", "people s republic of china"],
    ),
    ("JP", "Japan", Region::AsiaPacific, &["nippon"]),
    (
        "KR",
        "South Korea",
        Region::AsiaPacific,
        &["korea", "republic of korea"],
    ),
    ("SG", "Singapore", Region::AsiaPacific, &[]),
    ("HK", "Hong Kong", Region::AsiaPacific, &[]),
    ("TW", "Taiwan", Region::AsiaPacific, &[]),
    ("AU", "Australia", Region::AsiaPacific, &["aus", "oz"]),
    ("NZ", "New Zealand", Region::AsiaPacific, &["aotearoa"]),
    ("ID", "Indonesia", Region::AsiaPacific, &[]),
    ("MY", "Malaysia", Region::AsiaPacific, &[]),
    ("PH", "Philippines", Region::AsiaPacific, &[]),
    ("TH", "Thailand", Region::AsiaPacific, &[]),
    ("VN", "Vietnam", Region::AsiaPacific, &["viet nam"]),
];

/// Recognises a country from free text ("USA", "Deutschland", "U.K.", "de").
pub fn parse_country(raw: &str) -> Option<Country> {
    let cleaned = clean_country(raw);
    if cleaned.is_empty() {
        return None;
    }
    COUNTRIES
        .iter()
        .find(|(code, name, _, aliases)| {
            cleaned.eq_ignore_ascii_case(code)
                || cleaned.eq_ignore_ascii_case(name)
                || aliases.iter().any(|alias| cleaned == *alias)
        })
        .map(|&(code, name, region, _)| Country { code, name, region })
}

/// Canonical key for a country: its ISO code when recognised, otherwise the cleaned text
/// upper-cased (so the same unknown spelling still groups with itself).
pub fn country_key(raw: &str) -> Option<String> {
    match parse_country(raw) {
        Some(country) => Some(country.code.to_string()),
        None => {
            let cleaned = clean_country(raw);
            if cleaned.is_empty()
                || matches!(cleaned.as_str(), "n a" | "na" | "none" | "unknown" | "null")
            {
                None
            } else {
                Some(cleaned.to_uppercase())
            }
        }
    }
}

/// English name for a canonical country key.
pub fn country_label(key: &str) -> String {
    COUNTRIES
        .iter()
        .find(|(code, ..)| *code == key)
        .map(|(_, name, ..)| (*name).to_string())
        .unwrap_or_else(|| industry_label(&key.replace(' ', "_")))
}

/// Region for a canonical country key.
pub fn region_of_key(key: &str) -> Option<Region> {
    COUNTRIES
        .iter()
        .find(|(code, ..)| *code == key)
        .map(|(_, _, region, _)| *region)
}

/// Region key → label, for explanations.
pub fn region_label(key: &str) -> Option<&'static str> {
    [
        Region::NorthAmerica,
        Region::LatinAmerica,
        Region::Europe,
        Region::MiddleEastAfrica,
        Region::AsiaPacific,
    ]
    .into_iter()
    .find(|region| region.key() == key)
    .map(Region::label)
}

fn clean_country(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    let mut pending_space = false;
    for ch in raw.trim().chars() {
        if ch == '.' {
            continue;
        }
        if ch.is_alphanumeric() {
            if pending_space && !out.is_empty() {
                out.push(' ');
            }
            pending_space = false;
            out.extend(ch.to_lowercase());
        } else {
            pending_space = true;
        }
    }
    out
}

/// Parses a CRM number ("1,200", " 35000.5 ", "1e6"); non-finite, negative or unparsable
/// values are missing rather than an error, because CRM data is typed by hand.
pub fn parse_non_negative_number(raw: &str) -> Option<f64> {
    let trimmed = raw.trim();
    if trimmed.is_empty() {
        return None;
    }
    let value: f64 = if trimmed.contains(',') {
        trimmed.replace(',', "").parse().ok()?
    } else {
        trimmed.parse().ok()?
    };
    (value.is_finite() && value >= 0.0).then_some(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn industry_enum_and_free_text_coincide() {
        assert_eq!(
            industry_key("COMPUTER_SOFTWARE").as_deref(),
            Some("COMPUTER_SOFTWARE")
        );
        assert_eq!(
            industry_key(" Computer software ").as_deref(),
            Some("COMPUTER_SOFTWARE")
        );
        assert_eq!(
            industry_key("Hospital & Health Care").as_deref(),
            Some("HOSPITAL_HEALTH_CARE")
        );
        assert_eq!(industry_key("  "), None);
        assert_eq!(industry_key("n/a"), None);
        assert_eq!(industry_label("COMPUTER_SOFTWARE"), "Computer software");
    }

    #[test]
    fn country_spellings_map_to_one_code() {
        for spelling in [
            "United States",
            "USA",
            "US",
            "u.s.a.",
            "U.S.",
            "united states of america",
        ] {
            assert_eq!(country_key(spelling).as_deref(), Some("US"), "{spelling}");
        }
        for spelling in ["Germany", "Deutschland", "DE", "germany "] {
            assert_eq!(country_key(spelling).as_deref(), Some("DE"), "{spelling}");
        }
        assert_eq!(country_key("UK").as_deref(), Some("GB"));
        assert_eq!(country_key("England").as_deref(), Some("GB"));
        assert_eq!(country_key("Atlantis").as_deref(), Some("ATLANTIS"));
        assert_eq!(country_key(""), None);
        assert_eq!(region_of_key("DE"), Some(Region::Europe));
        assert_eq!(region_of_key("ATLANTIS"), None);
        assert_eq!(country_label("GB"), "United Kingdom");
    }

    #[test]
    fn numbers_are_lenient_but_never_non_finite() {
        assert_eq!(parse_non_negative_number("1,200"), Some(1200.0));
        assert_eq!(parse_non_negative_number(" 35000.5 "), Some(35000.5));
        assert_eq!(parse_non_negative_number("NaN"), None);
        assert_eq!(parse_non_negative_number("inf"), None);
        assert_eq!(parse_non_negative_number("-5"), None);
        assert_eq!(parse_non_negative_number("lots"), None);
    }
}
