//! Property definitions and groups of one object type, with HubSpot's validation rules for
//! definitions (type/fieldType pairs, options) and for values written to records.

use serde::{Deserialize, Serialize};

use super::object_type::ObjectType;
use crate::generator::iso_millis;

/// One enumeration option.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PropertyOption {
    pub label: String,
    pub value: String,
    #[serde(default)]
    pub display_order: i32,
    #[serde(default)]
    pub hidden: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

/// A property definition as HubSpot returns it.
#[derive(Clone, Debug, PartialEq)]
pub struct PropertyDef {
    pub name: String,
    pub label: String,
    pub value_type: String,
    pub field_type: String,
    pub group_name: String,
    pub description: String,
    pub options: Vec<PropertyOption>,
    pub display_order: i32,
    pub has_unique_value: bool,
    pub hidden: bool,
    pub form_field: bool,
    pub hubspot_defined: bool,
    pub read_only_value: bool,
    pub archived: bool,
    pub created_ms: i64,
    pub updated_ms: i64,
}

impl PropertyDef {
    /// The HubSpot `Property` JSON shape.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({
            "updatedAt": iso_millis(self.updated_ms),
            "createdAt": iso_millis(self.created_ms),
            "name": self.name,
            "label": self.label,
            "type": self.value_type,
            "fieldType": self.field_type,
            "description": self.description,
            "groupName": self.group_name,
            "options": self.options,
            "displayOrder": self.display_order,
            "calculated": false,
            "externalOptions": false,
            "archived": self.archived,
            "hasUniqueValue": self.has_unique_value,
            "hidden": self.hidden,
            "hubspotDefined": self.hubspot_defined,
            "modificationMetadata": {
                "archivable": !self.hubspot_defined,
                "readOnlyDefinition": self.hubspot_defined,
                "readOnlyValue": self.read_only_value,
            },
            "formField": self.form_field,
        })
    }
}

/// A property group.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PropertyGroup {
    pub name: String,
    pub label: String,
    pub display_order: i32,
    pub archived: bool,
}

/// Why a definition or a value was rejected; `code` is HubSpot's error code.
#[derive(Clone, Debug, PartialEq)]
pub struct Invalid {
    pub code: &'static str,
    pub message: String,
}

fn invalid(code: &'static str, message: impl Into<String>) -> Invalid {
    Invalid {
        code,
        message: message.into(),
    }
}

/// Checks a type/fieldType pair and options as HubSpot's property API does.
pub fn validate_definition(
    value_type: &str,
    field_type: &str,
    options: &[PropertyOption],
) -> Result<(), Invalid> {
    let allowed: &[&str] = match value_type {
        "number" => &["number"],
        "enumeration" => &["select", "radio", "checkbox", "booleancheckbox"],
        "string" => &["text", "textarea", "html", "phonenumber", "file"],
        "date" | "datetime" => &["date"],
        "bool" => &["booleancheckbox"],
        other => {
            return Err(invalid(
                "INVALID_PROPERTY_TYPE",
                format!(
                    "'{other}' is not a valid property type; use one of bool, enumeration, date, datetime, string, number"
                ),
            ));
        }
    };
    if !allowed.contains(&field_type) {
        return Err(invalid(
            "INVALID_FIELD_TYPE",
            format!(
                "fieldType '{field_type}' is not valid for type '{value_type}'; allowed: {}",
                allowed.join(", ")
            ),
        ));
    }
    if value_type == "enumeration" && field_type != "booleancheckbox" && options.is_empty() {
        return Err(invalid(
            "OPTIONS_REQUIRED",
            "options are required for enumeration properties",
        ));
    }
    let mut seen = std::collections::HashSet::new();
    for option in options {
        if option.value.is_empty() || option.label.is_empty() {
            return Err(invalid(
                "INVALID_OPTION",
                "every option needs a non-empty label and value",
            ));
        }
        if !seen.insert(option.value.as_str()) {
            return Err(invalid(
                "DUPLICATE_OPTION",
                format!("option value '{}' appears more than once", option.value),
            ));
        }
    }
    Ok(())
}

/// HubSpot property names: lower-case letters, digits and underscores, starting with a letter.
pub fn validate_name(name: &str) -> Result<(), Invalid> {
    let mut chars = name.chars();
    let starts_ok = chars.next().is_some_and(|c| c.is_ascii_lowercase());
    if starts_ok
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        && name.len() <= 100
    {
        Ok(())
    } else {
        Err(invalid(
            "INVALID_PROPERTY_NAME",
            format!(
                "'{name}' is not a valid property name: use lower-case letters, digits and underscores, starting with a letter"
            ),
        ))
    }
}

/// Checks a value written to a record against its definition (empty clears and is always valid).
pub fn validate_value(def: &PropertyDef, value: &str) -> Result<(), Invalid> {
    if value.is_empty() {
        return Ok(());
    }
    match def.value_type.as_str() {
        "number" => value
            .parse::<f64>()
            .ok()
            .filter(|n| n.is_finite())
            .map(|_| ())
            .ok_or_else(|| {
                invalid(
                    "INVALID_INTEGER",
                    format!("{value} was not a valid number."),
                )
            }),
        "bool" => matches!(value, "true" | "false")
            .then_some(())
            .ok_or_else(|| {
                invalid(
                    "INVALID_BOOLEAN",
                    format!("{value} was not a valid boolean; use true or false."),
                )
            }),
        "enumeration" if def.field_type == "booleancheckbox" && def.options.is_empty() => {
            matches!(value, "true" | "false")
                .then_some(())
                .ok_or_else(|| {
                    invalid(
                        "INVALID_OPTION",
                        format!("{value} was not one of the allowed options: [true, false]"),
                    )
                })
        }
        "enumeration" => {
            let parts: Vec<&str> = if def.field_type == "checkbox" {
                value.split(';').collect()
            } else {
                vec![value]
            };
            match parts
                .iter()
                .find(|part| !def.options.iter().any(|o| o.value == **part))
            {
                None => Ok(()),
                Some(bad) => {
                    let allowed: Vec<&str> = def.options.iter().map(|o| o.value.as_str()).collect();
                    Err(invalid(
                        "INVALID_OPTION",
                        format!(
                            "{bad} was not one of the allowed options: [{}]",
                            allowed.join(", ")
                        ),
                    ))
                }
            }
        }
        "date" => parse_date(value).map(|_| ()).ok_or_else(|| {
            invalid(
                "INVALID_DATE",
                format!(
                    "{value} is not a valid date; use YYYY-MM-DD or a midnight-UTC epoch in ms."
                ),
            )
        }),
        "datetime" => parse_datetime_ms(value).map(|_| ()).ok_or_else(|| {
            invalid(
                "INVALID_DATETIME",
                format!("{value} is not a valid datetime; use ISO-8601 or epoch ms."),
            )
        }),
        _ if value.len() > 65_536 => Err(invalid(
            "INVALID_STRING",
            "String values are limited to 65,536 characters.",
        )),
        _ => Ok(()),
    }
}

/// `YYYY-MM-DD` or a midnight-UTC epoch in milliseconds.
fn parse_date(value: &str) -> Option<()> {
    if chrono::NaiveDate::parse_from_str(value, "%Y-%m-%d").is_ok() {
        return Some(());
    }
    let ms: i64 = value.parse().ok()?;
    (ms % 86_400_000 == 0).then_some(())
}

/// ISO-8601 or epoch milliseconds, as epoch milliseconds.
pub fn parse_datetime_ms(value: &str) -> Option<i64> {
    if let Ok(ms) = value.parse::<i64>() {
        return Some(ms);
    }
    if let Ok(dt) = chrono::DateTime::parse_from_rfc3339(value) {
        return Some(dt.timestamp_millis());
    }
    chrono::NaiveDate::parse_from_str(value, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|dt| dt.and_utc().timestamp_millis())
}

/// Why a property could not be archived.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ArchiveRefused {
    /// No live property has that name.
    Missing,
    /// HubSpot's own properties cannot be deleted.
    HubSpotDefined,
}

/// Properties and groups of one object type.
#[derive(Clone, Debug)]
pub struct Schema {
    pub properties: Vec<PropertyDef>,
    pub groups: Vec<PropertyGroup>,
}

impl Schema {
    pub fn property(&self, name: &str) -> Option<&PropertyDef> {
        self.properties.iter().find(|p| p.name == name)
    }

    pub fn property_mut(&mut self, name: &str) -> Option<&mut PropertyDef> {
        self.properties.iter_mut().find(|p| p.name == name)
    }

    /// A live (not archived) property.
    pub fn live(&self, name: &str) -> Option<&PropertyDef> {
        self.property(name).filter(|p| !p.archived)
    }

    pub fn group(&self, name: &str) -> Option<&PropertyGroup> {
        self.groups.iter().find(|g| g.name == name)
    }

    /// Archives a live property, as HubSpot's `DELETE` (or a user deleting it in the UI) does:
    /// it stops accepting values until a `POST` of the same name restores it.
    pub fn archive_property(&mut self, name: &str, now_ms: i64) -> Result<(), ArchiveRefused> {
        let def = self
            .properties
            .iter_mut()
            .find(|p| p.name == name && !p.archived)
            .ok_or(ArchiveRefused::Missing)?;
        if def.hubspot_defined {
            return Err(ArchiveRefused::HubSpotDefined);
        }
        def.archived = true;
        def.updated_ms = now_ms;
        Ok(())
    }

    /// HubSpot's built-in properties for a type (the ones the generator fills, plus a few).
    pub fn defaults(object: ObjectType, now_ms: i64) -> Self {
        let (group, group_label) = match object {
            ObjectType::Contacts => ("contactinformation", "Contact information"),
            ObjectType::Companies => ("companyinformation", "Company information"),
            ObjectType::Deals => ("dealinformation", "Deal information"),
        };
        let mut schema = Schema {
            properties: Vec::new(),
            groups: vec![PropertyGroup {
                name: group.to_owned(),
                label: group_label.to_owned(),
                display_order: -1,
                archived: false,
            }],
        };
        let mut add = |name: &str,
                       label: &str,
                       value_type: &str,
                       field_type: &str,
                       read_only: bool,
                       options: &[&str]| {
            schema.properties.push(PropertyDef {
                name: name.to_owned(),
                label: label.to_owned(),
                value_type: value_type.to_owned(),
                field_type: field_type.to_owned(),
                group_name: group.to_owned(),
                description: String::new(),
                options: options
                    .iter()
                    .enumerate()
                    .map(|(i, v)| PropertyOption {
                        label: (*v).to_owned(),
                        value: (*v).to_owned(),
                        display_order: i as i32,
                        hidden: false,
                        description: None,
                    })
                    .collect(),
                display_order: -1,
                has_unique_value: false,
                hidden: false,
                form_field: !read_only,
                hubspot_defined: true,
                read_only_value: read_only,
                archived: false,
                created_ms: now_ms,
                updated_ms: now_ms,
            });
        };
        add("hs_object_id", "Record ID", "number", "number", true, &[]);
        add("createdate", "Create Date", "datetime", "date", false, &[]);
        add(
            "hs_lastmodifieddate",
            "Last Modified Date",
            "datetime",
            "date",
            true,
            &[],
        );
        add("country", "Country/Region", "string", "text", false, &[]);
        add("city", "City", "string", "text", false, &[]);
        match object {
            ObjectType::Contacts => {
                add(
                    "lastmodifieddate",
                    "Last Modified Date",
                    "datetime",
                    "date",
                    true,
                    &[],
                );
                add("email", "Email", "string", "text", false, &[]);
                add("firstname", "First Name", "string", "text", false, &[]);
                add("lastname", "Last Name", "string", "text", false, &[]);
                add("jobtitle", "Job Title", "string", "text", false, &[]);
                add("phone", "Phone Number", "string", "phonenumber", false, &[]);
                add(
                    "associatedcompanyid",
                    "Primary Associated Company ID",
                    "number",
                    "number",
                    false,
                    &[],
                );
                add(
                    "hs_seniority",
                    "Employment Seniority",
                    "enumeration",
                    "select",
                    false,
                    &[
                        "intern",
                        "employee",
                        "senior",
                        "manager",
                        "director",
                        "vp",
                        "executive",
                        "owner",
                        "partner",
                    ],
                );
                add(
                    "hs_role",
                    "Employment Role",
                    "enumeration",
                    "select",
                    false,
                    &[
                        "administrative",
                        "customer_service",
                        "design",
                        "education",
                        "engineering",
                        "finance",
                        "human_resources",
                        "information_technology",
                        "legal",
                        "marketing",
                        "operations",
                        "product",
                        "sales",
                    ],
                );
                add(
                    "lifecyclestage",
                    "Lifecycle Stage",
                    "enumeration",
                    "radio",
                    false,
                    &[
                        "subscriber",
                        "lead",
                        "marketingqualifiedlead",
                        "salesqualifiedlead",
                        "opportunity",
                        "customer",
                        "evangelist",
                        "other",
                    ],
                );
                add(
                    "hs_lead_status",
                    "Lead Status",
                    "enumeration",
                    "radio",
                    false,
                    &[
                        "NEW",
                        "OPEN",
                        "IN_PROGRESS",
                        "OPEN_DEAL",
                        "UNQUALIFIED",
                        "ATTEMPTED_TO_CONTACT",
                        "CONNECTED",
                        "BAD_TIMING",
                    ],
                );
                add("industry", "Industry", "string", "text", false, &[]);
                add(
                    "annualrevenue",
                    "Annual Revenue",
                    "string",
                    "text",
                    false,
                    &[],
                );
            }
            ObjectType::Companies => {
                add("name", "Company name", "string", "text", false, &[]);
                add(
                    "domain",
                    "Company Domain Name",
                    "string",
                    "text",
                    false,
                    &[],
                );
                let industries: Vec<&str> = crate::generator::industry_values().collect();
                add(
                    "industry",
                    "Industry",
                    "enumeration",
                    "select",
                    false,
                    &industries,
                );
                add(
                    "numberofemployees",
                    "Number of Employees",
                    "number",
                    "number",
                    false,
                    &[],
                );
                add(
                    "annualrevenue",
                    "Annual Revenue",
                    "number",
                    "number",
                    false,
                    &[],
                );
            }
            ObjectType::Deals => {
                add("dealname", "Deal Name", "string", "text", false, &[]);
                add(
                    "pipeline",
                    "Pipeline",
                    "enumeration",
                    "select",
                    false,
                    &["default"],
                );
                add(
                    "dealstage",
                    "Deal Stage",
                    "enumeration",
                    "radio",
                    false,
                    &[
                        "appointmentscheduled",
                        "qualifiedtobuy",
                        "presentationscheduled",
                        "decisionmakerboughtin",
                        "contractsent",
                        "closedwon",
                        "closedlost",
                    ],
                );
                add("amount", "Amount", "number", "number", false, &[]);
                add("closedate", "Close Date", "datetime", "date", false, &[]);
                add(
                    "hs_is_closed_won",
                    "Is Closed Won",
                    "bool",
                    "booleancheckbox",
                    true,
                    &[],
                );
                add(
                    "hs_is_closed_lost",
                    "Is closed lost",
                    "bool",
                    "booleancheckbox",
                    true,
                    &[],
                );
                add(
                    "hs_is_closed",
                    "Is Deal Closed?",
                    "bool",
                    "booleancheckbox",
                    true,
                    &[],
                );
            }
        }
        schema
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn type_field_type_pairs_follow_hubspot() {
        assert!(validate_definition("number", "number", &[]).is_ok());
        assert!(validate_definition("string", "textarea", &[]).is_ok());
        assert!(validate_definition("date", "date", &[]).is_ok());
        assert_eq!(
            validate_definition("number", "text", &[]).map_err(|e| e.code),
            Err("INVALID_FIELD_TYPE")
        );
        assert_eq!(
            validate_definition("enumeration", "select", &[]).map_err(|e| e.code),
            Err("OPTIONS_REQUIRED")
        );
        assert_eq!(
            validate_definition("float", "number", &[]).map_err(|e| e.code),
            Err("INVALID_PROPERTY_TYPE")
        );
    }

    #[test]
    fn values_are_checked_against_their_type() {
        let schema = Schema::defaults(ObjectType::Contacts, 0);
        let stage = schema.property("lifecyclestage").expect("default property");
        assert!(validate_value(stage, "lead").is_ok());
        assert_eq!(
            validate_value(stage, "LEAD").map_err(|e| e.code),
            Err("INVALID_OPTION")
        );
        assert!(validate_value(stage, "").is_ok());
        let id = schema
            .property("associatedcompanyid")
            .expect("default property");
        assert_eq!(
            validate_value(id, "abc").map_err(|e| e.code),
            Err("INVALID_INTEGER")
        );
    }

    #[test]
    fn names_must_be_lower_snake_case() {
        assert!(validate_name("conturs_score").is_ok());
        assert!(validate_name("Conturs").is_err());
        assert!(validate_name("1abc").is_err());
        assert!(validate_name("").is_err());
    }
}
