//! URL paths per API generation (API-FACTS §0): the legacy numbered paths and the date-versioned
//! ones have the same payloads, so only this module knows which is in use.

pub use platform::config::HubSpotApiVersion;

/// The CRM object types Conturs reads and writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ObjectType {
    Contacts,
    Companies,
    Deals,
}

impl ObjectType {
    /// The plural name HubSpot uses in paths and in `associations` keys.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Contacts => "contacts",
            Self::Companies => "companies",
            Self::Deals => "deals",
        }
    }

    /// The property that holds the last modification time, used for incremental search.
    pub fn last_modified_property(self) -> &'static str {
        match self {
            Self::Contacts => "lastmodifieddate",
            Self::Companies | Self::Deals => "hs_lastmodifieddate",
        }
    }
}

impl std::fmt::Display for ObjectType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Builds every path the client calls for one API generation.
#[derive(Debug, Clone, Copy)]
pub struct ApiPaths {
    version: HubSpotApiVersion,
}

impl ApiPaths {
    pub fn new(version: HubSpotApiVersion) -> Self {
        Self { version }
    }

    pub fn version(&self) -> HubSpotApiVersion {
        self.version
    }

    /// `GET` list, the base of batch and search paths.
    pub fn objects(&self, object: ObjectType) -> String {
        match self.version {
            HubSpotApiVersion::Legacy => format!("/crm/v3/objects/{object}"),
            HubSpotApiVersion::V2026_03 => format!("/crm/objects/2026-03/{object}"),
        }
    }

    pub fn batch_read(&self, object: ObjectType) -> String {
        format!("{}/batch/read", self.objects(object))
    }

    pub fn batch_update(&self, object: ObjectType) -> String {
        format!("{}/batch/update", self.objects(object))
    }

    pub fn search(&self, object: ObjectType) -> String {
        format!("{}/search", self.objects(object))
    }

    pub fn properties(&self, object: ObjectType) -> String {
        match self.version {
            HubSpotApiVersion::Legacy => format!("/crm/v3/properties/{object}"),
            HubSpotApiVersion::V2026_03 => format!("/crm/properties/2026-03/{object}"),
        }
    }

    pub fn property(&self, object: ObjectType, name: &str) -> String {
        format!("{}/{name}", self.properties(object))
    }

    pub fn property_groups(&self, object: ObjectType) -> String {
        format!("{}/groups", self.properties(object))
    }

    pub fn property_group(&self, object: ObjectType, name: &str) -> String {
        format!("{}/groups/{name}", self.properties(object))
    }

    /// v4 association batch read (`/crm/v4/associations/{from}/{to}/batch/read`).
    pub fn associations_batch_read(&self, from: ObjectType, to: ObjectType) -> String {
        match self.version {
            HubSpotApiVersion::Legacy => format!("/crm/v4/associations/{from}/{to}/batch/read"),
            HubSpotApiVersion::V2026_03 => {
                format!("/crm/associations/2026-03/{from}/{to}/batch/read")
            }
        }
    }

    pub fn oauth_token(&self) -> &'static str {
        match self.version {
            HubSpotApiVersion::Legacy => "/oauth/v1/token",
            HubSpotApiVersion::V2026_03 => "/oauth/2026-03/token",
        }
    }

    /// Token metadata (gives the portal id). Only the v1 form exists as a plain `GET`; it keeps
    /// working until v1's end of life (February 2027, API-FACTS §0), so both generations use it.
    pub fn access_token_info(&self, token: &str) -> String {
        format!("/oauth/v1/access-tokens/{token}")
    }

    /// Refresh-token revocation (`DELETE`, 204); see [`Self::access_token_info`] for why v1.
    pub fn refresh_token(&self, token: &str) -> String {
        format!("/oauth/v1/refresh-tokens/{token}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn legacy_paths_use_numbered_versions() {
        let p = ApiPaths::new(HubSpotApiVersion::Legacy);
        assert_eq!(p.objects(ObjectType::Contacts), "/crm/v3/objects/contacts");
        assert_eq!(
            p.batch_update(ObjectType::Contacts),
            "/crm/v3/objects/contacts/batch/update"
        );
        assert_eq!(p.search(ObjectType::Deals), "/crm/v3/objects/deals/search");
        assert_eq!(
            p.property_groups(ObjectType::Contacts),
            "/crm/v3/properties/contacts/groups"
        );
        assert_eq!(
            p.associations_batch_read(ObjectType::Contacts, ObjectType::Companies),
            "/crm/v4/associations/contacts/companies/batch/read"
        );
        assert_eq!(p.oauth_token(), "/oauth/v1/token");
    }

    #[test]
    fn dated_paths_put_the_version_after_the_family() {
        let p = ApiPaths::new(HubSpotApiVersion::V2026_03);
        assert_eq!(
            p.objects(ObjectType::Companies),
            "/crm/objects/2026-03/companies"
        );
        assert_eq!(
            p.batch_read(ObjectType::Contacts),
            "/crm/objects/2026-03/contacts/batch/read"
        );
        assert_eq!(
            p.property(ObjectType::Contacts, "conturs_score"),
            "/crm/properties/2026-03/contacts/conturs_score"
        );
        assert_eq!(
            p.associations_batch_read(ObjectType::Deals, ObjectType::Companies),
            "/crm/associations/2026-03/deals/companies/batch/read"
        );
        assert_eq!(p.oauth_token(), "/oauth/2026-03/token");
    }
}
