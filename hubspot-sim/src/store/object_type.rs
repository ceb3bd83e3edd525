//! The CRM object types the simulator serves and their HubSpot names.

use std::fmt;

/// Contacts, companies or deals.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ObjectType {
    Contacts,
    Companies,
    Deals,
}

impl ObjectType {
    pub const ALL: [ObjectType; 3] = [
        ObjectType::Contacts,
        ObjectType::Companies,
        ObjectType::Deals,
    ];

    /// Accepts what HubSpot accepts in paths: plural, singular or the `0-x` type id.
    pub fn parse(segment: &str) -> Option<Self> {
        match segment.to_ascii_lowercase().as_str() {
            "contacts" | "contact" | "0-1" => Some(ObjectType::Contacts),
            "companies" | "company" | "0-2" => Some(ObjectType::Companies),
            "deals" | "deal" | "0-3" => Some(ObjectType::Deals),
            _ => None,
        }
    }

    pub fn plural(self) -> &'static str {
        match self {
            ObjectType::Contacts => "contacts",
            ObjectType::Companies => "companies",
            ObjectType::Deals => "deals",
        }
    }

    pub fn singular(self) -> &'static str {
        match self {
            ObjectType::Contacts => "contact",
            ObjectType::Companies => "company",
            ObjectType::Deals => "deal",
        }
    }

    /// Upper-case name used in HubSpot error messages ("Could not get some CONTACT objects").
    pub fn upper(self) -> &'static str {
        match self {
            ObjectType::Contacts => "CONTACT",
            ObjectType::Companies => "COMPANY",
            ObjectType::Deals => "DEAL",
        }
    }

    /// Scope needed to read records of this type.
    pub fn read_scope(self) -> &'static str {
        match self {
            ObjectType::Contacts => "crm.objects.contacts.read",
            ObjectType::Companies => "crm.objects.companies.read",
            ObjectType::Deals => "crm.objects.deals.read",
        }
    }

    pub fn write_scope(self) -> &'static str {
        match self {
            ObjectType::Contacts => "crm.objects.contacts.write",
            ObjectType::Companies => "crm.objects.companies.write",
            ObjectType::Deals => "crm.objects.deals.write",
        }
    }

    pub fn schema_read_scope(self) -> &'static str {
        match self {
            ObjectType::Contacts => "crm.schemas.contacts.read",
            ObjectType::Companies => "crm.schemas.companies.read",
            ObjectType::Deals => "crm.schemas.deals.read",
        }
    }

    pub fn schema_write_scope(self) -> &'static str {
        match self {
            ObjectType::Contacts => "crm.schemas.contacts.write",
            ObjectType::Companies => "crm.schemas.companies.write",
            ObjectType::Deals => "crm.schemas.deals.write",
        }
    }

    /// Properties returned when the caller names none (HubSpot's search defaults; used for
    /// list and get too).
    pub fn default_properties(self) -> &'static [&'static str] {
        match self {
            ObjectType::Contacts => &[
                "createdate",
                "email",
                "firstname",
                "hs_object_id",
                "lastmodifieddate",
                "lastname",
            ],
            ObjectType::Companies => &[
                "createdate",
                "domain",
                "hs_lastmodifieddate",
                "hs_object_id",
                "name",
            ],
            ObjectType::Deals => &[
                "amount",
                "closedate",
                "createdate",
                "dealname",
                "dealstage",
                "hs_lastmodifieddate",
                "hs_object_id",
                "pipeline",
            ],
        }
    }
}

impl fmt::Display for ObjectType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.plural())
    }
}
