//! Facts about HubSpot records, parsed once from property strings into canonical keys.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate};
use serde::{Deserialize, Serialize};

use crate::dataset::Label;
use crate::normalize::{country_key, industry_key, parse_non_negative_number};

/// What scoring needs to know about a company.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CompanyFacts {
    /// Canonical industry key (`COMPUTER_SOFTWARE`).
    pub industry: Option<String>,
    pub employees: Option<f64>,
    pub annual_revenue: Option<f64>,
    /// Canonical country key (ISO code when recognised).
    pub country: Option<String>,
}

impl CompanyFacts {
    /// Builds facts from raw values, normalising them (the only way values should enter).
    pub fn new(
        industry: Option<&str>,
        employees: Option<&str>,
        annual_revenue: Option<&str>,
        country: Option<&str>,
    ) -> Self {
        CompanyFacts {
            industry: industry.and_then(industry_key),
            employees: employees.and_then(parse_non_negative_number),
            annual_revenue: annual_revenue.and_then(parse_non_negative_number),
            country: country.and_then(country_key),
        }
    }

    /// From HubSpot company properties (`industry`, `numberofemployees`, `annualrevenue`, `country`).
    pub fn from_hubspot_properties(properties: &BTreeMap<String, String>) -> Self {
        let get = |name: &str| properties.get(name).map(String::as_str);
        CompanyFacts::new(
            get("industry"),
            get("numberofemployees"),
            get("annualrevenue"),
            get("country"),
        )
    }

    /// True when no firmographic is known: such a company cannot place a contact.
    pub fn is_empty(&self) -> bool {
        self.industry.is_none()
            && self.employees.is_none()
            && self.annual_revenue.is_none()
            && self.country.is_none()
    }
}

/// What scoring needs to know about a contact (and its primary company).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ContactFacts {
    pub job_title: Option<String>,
    /// HubSpot `hs_seniority`, lower case.
    pub hs_seniority: Option<String>,
    /// HubSpot `hs_role`, lower case.
    pub hs_role: Option<String>,
    /// HubSpot `lifecyclestage`, lower case.
    pub lifecycle_stage: Option<String>,
    /// HubSpot `hs_lead_status`, upper case.
    pub lead_status: Option<String>,
    /// Contact's own country key, used when the company has none.
    pub country: Option<String>,
    pub company: Option<CompanyFacts>,
}

impl ContactFacts {
    /// From HubSpot contact properties plus the primary company's facts, if any.
    pub fn from_hubspot_properties(
        properties: &BTreeMap<String, String>,
        company: Option<CompanyFacts>,
    ) -> Self {
        let text = |name: &str| {
            properties
                .get(name)
                .map(|value| value.trim())
                .filter(|value| !value.is_empty())
        };
        ContactFacts {
            job_title: text("jobtitle").map(str::to_string),
            hs_seniority: text("hs_seniority").map(str::to_lowercase),
            hs_role: text("hs_role").map(str::to_lowercase),
            lifecycle_stage: text("lifecyclestage").map(str::to_lowercase),
            lead_status: text("hs_lead_status").map(str::to_uppercase),
            country: text("country").and_then(country_key),
            company,
        }
    }
}

/// What labelling needs to know about a deal.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DealFacts {
    pub closed_won: bool,
    pub closed: bool,
    /// Close date, seconds since the Unix epoch.
    pub close_time: Option<i64>,
}

impl DealFacts {
    /// From HubSpot deal properties (`hs_is_closed_won`, `hs_is_closed`, `dealstage`, `closedate`).
    pub fn from_hubspot_properties(properties: &BTreeMap<String, String>) -> Self {
        let get = |name: &str| properties.get(name).map(|v| v.trim().to_ascii_lowercase());
        let stage = get("dealstage").unwrap_or_default();
        let closed_won = get("hs_is_closed_won").as_deref() == Some("true") || stage == "closedwon";
        let closed = closed_won
            || get("hs_is_closed").as_deref() == Some("true")
            || get("hs_is_closed_lost").as_deref() == Some("true")
            || stage == "closedlost";
        DealFacts {
            closed_won,
            closed,
            close_time: properties
                .get("closedate")
                .and_then(|raw| parse_hubspot_time(raw)),
        }
    }
}

/// Parses HubSpot timestamps: ISO 8601 with zone, a bare date, or epoch milliseconds.
pub fn parse_hubspot_time(raw: &str) -> Option<i64> {
    let raw = raw.trim();
    if raw.is_empty() {
        return None;
    }
    if let Ok(time) = DateTime::parse_from_rfc3339(raw) {
        return Some(time.timestamp());
    }
    if let Ok(date) = NaiveDate::parse_from_str(raw, "%Y-%m-%d") {
        return date.and_hms_opt(0, 0, 0).map(|t| t.and_utc().timestamp());
    }
    if raw.len() >= 10 && raw.bytes().all(|b| b.is_ascii_digit()) {
        return raw.parse::<i64>().ok().map(|ms| ms / 1000);
    }
    None
}

/// A company's training label from its deals: any closed-won → positive (labelled at the first
/// win); otherwise any closed-lost → reliable negative (at the last loss); else unlabeled.
pub fn company_label(deals: &[DealFacts]) -> (Label, Option<i64>) {
    let wins: Vec<&DealFacts> = deals.iter().filter(|d| d.closed_won).collect();
    if !wins.is_empty() {
        return (
            Label::Positive,
            wins.iter().filter_map(|d| d.close_time).min(),
        );
    }
    let losses: Vec<&DealFacts> = deals.iter().filter(|d| d.closed).collect();
    if !losses.is_empty() {
        return (
            Label::ReliableNegative,
            losses.iter().filter_map(|d| d.close_time).max(),
        );
    }
    (Label::Unlabeled, None)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn props(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn company_properties_are_normalised() {
        let company = CompanyFacts::from_hubspot_properties(&props(&[
            ("industry", "COMPUTER_SOFTWARE"),
            ("numberofemployees", "1,200"),
            ("annualrevenue", "not known"),
            ("country", "Deutschland"),
            ("city", "Berlin"),
        ]));
        assert_eq!(company.industry.as_deref(), Some("COMPUTER_SOFTWARE"));
        assert_eq!(company.employees, Some(1200.0));
        assert_eq!(company.annual_revenue, None);
        assert_eq!(company.country.as_deref(), Some("DE"));
        assert!(!company.is_empty());
        assert!(CompanyFacts::from_hubspot_properties(&props(&[("name", "Acme")])).is_empty());
    }

    #[test]
    fn contact_properties_are_trimmed_and_cased() {
        let contact = ContactFacts::from_hubspot_properties(
            &props(&[
                ("jobtitle", " VP, Sales "),
                ("hs_seniority", "VP"),
                ("lifecyclestage", "Customer"),
                ("hs_lead_status", "open_deal"),
                ("country", ""),
            ]),
            None,
        );
        assert_eq!(contact.job_title.as_deref(), Some("VP, Sales"));
        assert_eq!(contact.hs_seniority.as_deref(), Some("vp"));
        assert_eq!(contact.lifecycle_stage.as_deref(), Some("customer"));
        assert_eq!(contact.lead_status.as_deref(), Some("OPEN_DEAL"));
        assert_eq!(contact.country, None);
    }

    #[test]
    fn deals_label_companies() {
        let won = DealFacts::from_hubspot_properties(&props(&[
            ("dealstage", "closedwon"),
            ("hs_is_closed_won", "true"),
            ("closedate", "2026-03-01T10:00:00.000Z"),
        ]));
        let lost = DealFacts::from_hubspot_properties(&props(&[
            ("dealstage", "closedlost"),
            ("hs_is_closed", "true"),
            ("closedate", "2026-05-01"),
        ]));
        let open = DealFacts::from_hubspot_properties(&props(&[("dealstage", "contractsent")]));
        assert!(won.closed_won && won.closed);
        assert!(!lost.closed_won && lost.closed);
        assert!(!open.closed);
        assert_eq!(won.close_time, Some(1_772_359_200));
        assert_eq!(
            company_label(&[lost, won]),
            (Label::Positive, won.close_time)
        );
        assert_eq!(
            company_label(&[open, lost]),
            (Label::ReliableNegative, lost.close_time)
        );
        assert_eq!(company_label(&[open]), (Label::Unlabeled, None));
        assert_eq!(parse_hubspot_time("1772359200000"), Some(1_772_359_200));
        assert_eq!(parse_hubspot_time("yesterday"), None);
    }
}
