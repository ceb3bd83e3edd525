//! CRM records as HubSpot returns them: every property value a string, ids strings (accepted as
//! numbers too, since HubSpot's docs and spec disagree in places).

use std::collections::BTreeMap;

use serde::{Deserialize, Deserializer};

/// One contact, company or deal.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CrmObject {
    #[serde(deserialize_with = "id_string")]
    pub id: String,
    /// Requested properties that have a value (HubSpot's `null`s are dropped).
    #[serde(default, deserialize_with = "non_null_properties")]
    pub properties: BTreeMap<String, String>,
    #[serde(default)]
    pub created_at: Option<String>,
    #[serde(default)]
    pub updated_at: Option<String>,
    #[serde(default)]
    pub archived: bool,
    /// Inline associations keyed by plural object name (`companies`), when requested.
    #[serde(default)]
    pub associations: BTreeMap<String, AssociationPage>,
}

impl CrmObject {
    pub fn property(&self, name: &str) -> Option<&str> {
        self.properties.get(name).map(String::as_str)
    }

    /// Distinct associated ids of one object type (HubSpot lists one entry per association type).
    pub fn associated_ids(&self, object: super::ObjectType) -> Vec<String> {
        let mut ids: Vec<String> = self
            .associations
            .get(object.as_str())
            .map(|page| page.results.iter().map(|a| a.id.clone()).collect())
            .unwrap_or_default();
        ids.sort();
        ids.dedup();
        ids
    }

    /// Whether HubSpot truncated inline associations (more pages exist): read them with the
    /// v4 batch endpoint instead.
    pub fn associations_truncated(&self) -> bool {
        self.associations
            .values()
            .any(|page| page.paging.as_ref().and_then(|p| p.next.as_ref()).is_some())
    }
}

/// Inline associations of one type on a record.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct AssociationPage {
    #[serde(default)]
    pub results: Vec<AssociatedId>,
    #[serde(default)]
    pub paging: Option<Paging>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct AssociatedId {
    #[serde(deserialize_with = "id_string")]
    pub id: String,
    #[serde(rename = "type", default)]
    pub association_type: Option<String>,
}

/// HubSpot's cursor envelope; `next` is absent on the last page.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Paging {
    #[serde(default)]
    pub next: Option<NextPage>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct NextPage {
    #[serde(deserialize_with = "id_string")]
    pub after: String,
}

impl Paging {
    pub(crate) fn after(paging: &Option<Paging>) -> Option<String> {
        paging.as_ref()?.next.as_ref().map(|n| n.after.clone())
    }
}

/// Accepts `"123"` or `123`.
pub(crate) fn id_string<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Id {
        Text(String),
        Number(u64),
    }
    Ok(match Id::deserialize(d)? {
        Id::Text(s) => s,
        Id::Number(n) => n.to_string(),
    })
}

fn non_null_properties<'de, D: Deserializer<'de>>(
    d: D,
) -> Result<BTreeMap<String, String>, D::Error> {
    let raw: Option<BTreeMap<String, Option<serde_json::Value>>> = Option::deserialize(d)?;
    Ok(raw
        .unwrap_or_default()
        .into_iter()
        .filter_map(|(k, v)| match v? {
            serde_json::Value::Null => None,
            serde_json::Value::String(s) => Some((k, s)),
            other => Some((k, other.to_string())),
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ObjectType;

    #[test]
    fn parses_hubspot_record_with_associations() {
        let json = r#"{"id":"512","properties":{"email":"a@b.c","jobtitle":null,"hs_object_id":"512"},
            "createdAt":"2026-01-01T00:00:00.000Z","updatedAt":"2026-01-02T00:00:00.000Z","archived":false,
            "associations":{"companies":{"results":[{"id":"123","type":"contact_to_company"},{"id":"123","type":"contact_to_company_unlabeled"},{"id":77,"type":"x"}]}}}"#;
        let record: CrmObject = serde_json::from_str(json).unwrap();
        assert_eq!(record.id, "512");
        assert_eq!(record.property("email"), Some("a@b.c"));
        assert_eq!(record.property("jobtitle"), None);
        assert_eq!(
            record.associated_ids(ObjectType::Companies),
            vec!["123", "77"]
        );
        assert!(!record.associations_truncated());
    }

    #[test]
    fn numeric_ids_are_accepted() {
        let record: CrmObject = serde_json::from_str(r#"{"id":42}"#).unwrap();
        assert_eq!(record.id, "42");
    }
}
