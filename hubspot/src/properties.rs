//! Idempotent provisioning of the Conturs property group and contact properties (DESIGN §1):
//! read first, create what is missing (409 counts as success), and update or report any
//! definition that drifted from ours.

use std::collections::BTreeMap;

use reqwest::Method;
use serde::{Deserialize, Serialize};

use crate::budget::LimitKind;
use crate::client::{Call, PortalClient};
use crate::error::HubSpotError;
use crate::paths::ObjectType;

/// The internal name of the Conturs property group.
pub const CONTURS_GROUP: &str = "conturs";
const CONTURS_GROUP_LABEL: &str = "Conturs";

/// A selectable value of an enumeration property.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PropertyOption {
    pub label: String,
    pub value: String,
    #[serde(default)]
    pub display_order: i32,
    #[serde(default)]
    pub hidden: bool,
}

/// A contact property as Conturs wants it (and as HubSpot describes it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PropertyDefinition {
    pub name: String,
    pub label: String,
    #[serde(rename = "type")]
    pub value_type: String,
    pub field_type: String,
    pub group_name: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub options: Vec<PropertyOption>,
}

impl PropertyDefinition {
    fn new(name: &str, label: &str, value_type: &str, field_type: &str, description: &str) -> Self {
        Self {
            name: name.to_owned(),
            label: label.to_owned(),
            value_type: value_type.to_owned(),
            field_type: field_type.to_owned(),
            group_name: CONTURS_GROUP.to_owned(),
            description: description.to_owned(),
            options: Vec::new(),
        }
    }

    /// The fields whose values differ from `wanted` (description and option order are cosmetic).
    pub fn drift_from(&self, wanted: &Self) -> Vec<&'static str> {
        let mut fields = Vec::new();
        if self.label != wanted.label {
            fields.push("label");
        }
        if self.value_type != wanted.value_type {
            fields.push("type");
        }
        if self.field_type != wanted.field_type {
            fields.push("fieldType");
        }
        if self.group_name != wanted.group_name {
            fields.push("groupName");
        }
        let values = |d: &Self| {
            let mut v: Vec<String> = d.options.iter().map(|o| o.value.clone()).collect();
            v.sort();
            v
        };
        if values(self) != values(wanted) {
            fields.push("options");
        }
        fields
    }
}

/// The five contact properties Conturs writes.
pub fn conturs_properties() -> Vec<PropertyDefinition> {
    let mut grade = PropertyDefinition::new(
        "conturs_grade",
        "Conturs grade",
        "enumeration",
        "select",
        "A (best fit) to F (poorest fit), from the Conturs score.",
    );
    grade.options = ["A", "B", "C", "D", "F"]
        .iter()
        .enumerate()
        .map(|(i, g)| PropertyOption {
            label: (*g).to_owned(),
            value: (*g).to_owned(),
            display_order: i as i32 + 1,
            hidden: false,
        })
        .collect();
    vec![
        PropertyDefinition::new(
            "conturs_score",
            "Conturs score",
            "number",
            "number",
            "0-100: how closely this contact resembles your closed-won customers (50 = median).",
        ),
        grade,
        PropertyDefinition::new(
            "conturs_explanation",
            "Conturs explanation",
            "string",
            "textarea",
            "Why the contact got its score, in plain words.",
        ),
        PropertyDefinition::new(
            "conturs_top_factors",
            "Conturs top factors",
            "string",
            "textarea",
            "The factors that moved the score most, with signed points.",
        ),
        PropertyDefinition::new(
            "conturs_last_scored",
            "Conturs last scored",
            "date",
            "date",
            "When Conturs last scored this contact.",
        ),
    ]
}

/// What to do about a definition that differs from ours.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DriftPolicy {
    /// PATCH it back to our definition.
    Update,
    /// Leave it and report it.
    Report,
}

/// What provisioning did to one group or property.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProvisionOutcome {
    Created,
    AlreadyPresent,
    Updated {
        fields: Vec<String>,
    },
    /// Differs from our definition and was not (or could not be) changed.
    Drifted {
        fields: Vec<String>,
        reason: String,
    },
}

/// The outcome for the group and for each property, in definition order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProvisionReport {
    pub group: ProvisionOutcome,
    pub properties: Vec<(String, ProvisionOutcome)>,
}

#[derive(Deserialize)]
#[serde(bound(deserialize = "T: Deserialize<'de>"))]
struct Listing<T> {
    #[serde(default = "Vec::new")]
    results: Vec<T>,
}

#[derive(Deserialize)]
struct GroupDefinition {
    name: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct GroupCreate<'a> {
    name: &'a str,
    label: &'a str,
    display_order: i32,
}

impl PortalClient {
    /// Makes sure the Conturs group and properties exist as defined; safe to run on every sync.
    pub async fn provision_conturs_properties(
        &self,
        policy: DriftPolicy,
    ) -> Result<ProvisionReport, HubSpotError> {
        let object = ObjectType::Contacts;
        let group = self.ensure_group(object).await?;
        let existing: Listing<PropertyDefinition> = self
            .call(Call::<()> {
                endpoint: "properties.list",
                method: Method::GET,
                path: self.paths().properties(object),
                query: Vec::new(),
                body: None,
                kind: LimitKind::Api,
            })
            .await?;
        let existing: BTreeMap<String, PropertyDefinition> = existing
            .results
            .into_iter()
            .map(|p| (p.name.clone(), p))
            .collect();
        let mut properties = Vec::new();
        for wanted in conturs_properties() {
            let outcome = match existing.get(&wanted.name) {
                Some(current) => self.reconcile(object, current, &wanted, policy).await?,
                None => self.create_property(object, &wanted, policy).await?,
            };
            properties.push((wanted.name, outcome));
        }
        Ok(ProvisionReport { group, properties })
    }

    async fn ensure_group(&self, object: ObjectType) -> Result<ProvisionOutcome, HubSpotError> {
        let groups: Listing<GroupDefinition> = self
            .call(Call::<()> {
                endpoint: "properties.groups",
                method: Method::GET,
                path: self.paths().property_groups(object),
                query: Vec::new(),
                body: None,
                kind: LimitKind::Api,
            })
            .await?;
        if groups.results.iter().any(|g| g.name == CONTURS_GROUP) {
            return Ok(ProvisionOutcome::AlreadyPresent);
        }
        let body = GroupCreate {
            name: CONTURS_GROUP,
            label: CONTURS_GROUP_LABEL,
            display_order: -1,
        };
        let created: Result<serde_json::Value, _> = self
            .call(Call {
                endpoint: "properties.group_create",
                method: Method::POST,
                path: self.paths().property_groups(object),
                query: Vec::new(),
                body: Some(&body),
                kind: LimitKind::Api,
            })
            .await;
        match created {
            Ok(_) => Ok(ProvisionOutcome::Created),
            Err(HubSpotError::Conflict { .. }) => Ok(ProvisionOutcome::AlreadyPresent),
            Err(other) => Err(other),
        }
    }

    async fn create_property(
        &self,
        object: ObjectType,
        wanted: &PropertyDefinition,
        policy: DriftPolicy,
    ) -> Result<ProvisionOutcome, HubSpotError> {
        let created: Result<serde_json::Value, _> = self
            .call(Call {
                endpoint: "properties.create",
                method: Method::POST,
                path: self.paths().properties(object),
                query: Vec::new(),
                body: Some(wanted),
                kind: LimitKind::Api,
            })
            .await;
        match created {
            Ok(_) => Ok(ProvisionOutcome::Created),
            // Created concurrently by another process (or archived-then-listed): compare it.
            Err(HubSpotError::Conflict { .. }) => {
                let current: PropertyDefinition = self
                    .call(Call::<()> {
                        endpoint: "properties.get",
                        method: Method::GET,
                        path: self.paths().property(object, &wanted.name),
                        query: Vec::new(),
                        body: None,
                        kind: LimitKind::Api,
                    })
                    .await?;
                self.reconcile(object, &current, wanted, policy).await
            }
            Err(other) => Err(other),
        }
    }

    async fn reconcile(
        &self,
        object: ObjectType,
        current: &PropertyDefinition,
        wanted: &PropertyDefinition,
        policy: DriftPolicy,
    ) -> Result<ProvisionOutcome, HubSpotError> {
        let fields: Vec<String> = current
            .drift_from(wanted)
            .into_iter()
            .map(str::to_owned)
            .collect();
        if fields.is_empty() {
            return Ok(ProvisionOutcome::AlreadyPresent);
        }
        if policy == DriftPolicy::Report {
            return Ok(ProvisionOutcome::Drifted {
                fields,
                reason: "drift policy is report-only".to_owned(),
            });
        }
        let patch = serde_json::json!({
            "label": wanted.label,
            "type": wanted.value_type,
            "fieldType": wanted.field_type,
            "groupName": wanted.group_name,
            "description": wanted.description,
            "options": wanted.options,
        });
        let patched: Result<serde_json::Value, _> = self
            .call(Call {
                endpoint: "properties.update",
                method: Method::PATCH,
                path: self.paths().property(object, &wanted.name),
                query: Vec::new(),
                body: Some(&patch),
                kind: LimitKind::Api,
            })
            .await;
        match patched {
            Ok(_) => Ok(ProvisionOutcome::Updated { fields }),
            Err(HubSpotError::InvalidRequest { body, .. }) => Ok(ProvisionOutcome::Drifted {
                fields,
                reason: format!("HubSpot refused the update: {}", body.message),
            }),
            Err(other) => Err(other),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn five_properties_in_the_conturs_group() {
        let defs = conturs_properties();
        let names: Vec<_> = defs.iter().map(|d| d.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "conturs_score",
                "conturs_grade",
                "conturs_explanation",
                "conturs_top_factors",
                "conturs_last_scored"
            ]
        );
        assert!(defs.iter().all(|d| d.group_name == CONTURS_GROUP));
        let grade = &defs[1];
        let values: Vec<_> = grade.options.iter().map(|o| o.value.as_str()).collect();
        assert_eq!(values, ["A", "B", "C", "D", "F"]);
    }

    #[test]
    fn drift_names_changed_fields_only() {
        let wanted = conturs_properties().remove(1);
        let mut current = wanted.clone();
        assert!(current.drift_from(&wanted).is_empty());
        current.description = "edited by a user".into();
        current.options.reverse();
        assert!(
            current.drift_from(&wanted).is_empty(),
            "cosmetic changes are not drift"
        );
        current.options.pop();
        current.field_type = "radio".into();
        assert_eq!(current.drift_from(&wanted), vec!["fieldType", "options"]);
    }

    #[test]
    fn serialises_as_hubspot_expects() {
        let json = serde_json::to_value(&conturs_properties()[0]).unwrap();
        assert_eq!(json["type"], "number");
        assert_eq!(json["fieldType"], "number");
        assert_eq!(json["groupName"], "conturs");
    }
}
