//! Operations of the simulator's operator (the "HubSpot UI" side): record changes that fire
//! webhooks, fault knobs, token revocation. Shared by the `/_sim` HTTP API and the in-process
//! `Simulator` handle.

use std::time::{Duration, Instant};

use crate::faults::FaultConfig;
use crate::state::SimState;
use crate::store::ObjectType;
use crate::tokens::{Grant, TokenKind, TokenPair, now_ms};
use crate::webhooks::{Change, ChangeSource};

/// Why an admin operation failed.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum AdminError {
    #[error("portal {0} does not exist")]
    NoPortal(u64),
    #[error("{0} {1} does not exist or is archived")]
    NoRecord(ObjectType, u64),
    #[error("{0} property {1} does not exist, is archived or is HubSpot's own")]
    NoProperty(ObjectType, String),
}

impl SimState {
    fn portal_or_err(
        &self,
        portal_id: u64,
    ) -> Result<std::sync::Arc<crate::state::PortalState>, AdminError> {
        self.portal(portal_id)
            .ok_or(AdminError::NoPortal(portal_id))
    }

    /// Creates a record (optionally with a primary company) and fires `*.creation`.
    pub fn admin_create(
        &self,
        portal_id: u64,
        object: ObjectType,
        properties: &[(String, String)],
        company: Option<u64>,
    ) -> Result<u64, AdminError> {
        let portal = self.portal_or_err(portal_id)?;
        let id = {
            let mut data = portal.write();
            let mut properties = properties.to_vec();
            if let Some(company) = company.filter(|_| object == ObjectType::Contacts) {
                properties.push(("associatedcompanyid".to_owned(), company.to_string()));
            }
            let id = data.store_mut(object).create(&properties, now_ms());
            if let Some(company) = company.filter(|_| object != ObjectType::Companies) {
                data.associations
                    .add(object, id, ObjectType::Companies, company, true);
            }
            id
        };
        self.webhooks.fire(
            portal_id,
            self.config.app_id,
            &Change::Created { object, id },
            ChangeSource::Crm,
        );
        Ok(id)
    }

    /// Changes properties and fires `*.propertyChange` for each value that changed.
    pub fn admin_update(
        &self,
        portal_id: u64,
        object: ObjectType,
        id: u64,
        properties: &[(String, String)],
    ) -> Result<usize, AdminError> {
        let portal = self.portal_or_err(portal_id)?;
        let changed = portal
            .write()
            .store_mut(object)
            .update(id, properties, now_ms())
            .ok_or(AdminError::NoRecord(object, id))?;
        let count = changed.len();
        self.properties_changed(portal_id, object, id, changed, ChangeSource::Crm);
        Ok(count)
    }

    /// Archives a record and fires `*.deletion`.
    pub fn admin_delete(
        &self,
        portal_id: u64,
        object: ObjectType,
        id: u64,
    ) -> Result<(), AdminError> {
        let portal = self.portal_or_err(portal_id)?;
        if !portal.write().store_mut(object).archive(id, now_ms()) {
            return Err(AdminError::NoRecord(object, id));
        }
        self.webhooks.fire(
            portal_id,
            self.config.app_id,
            &Change::Deleted { object, id },
            ChangeSource::Crm,
        );
        Ok(())
    }

    /// Deletes (archives) a custom property, as a user can in HubSpot's settings: writes to it
    /// fail with `PROPERTY_DOESNT_EXIST` until an integration creates it again.
    pub fn archive_property(
        &self,
        portal_id: u64,
        object: ObjectType,
        name: &str,
    ) -> Result<(), AdminError> {
        self.portal_or_err(portal_id)?
            .write()
            .schema_mut(object)
            .archive_property(name, now_ms())
            .map_err(|_| AdminError::NoProperty(object, name.to_owned()))
    }

    /// Deletes a contact for good, as HubSpot's GDPR delete does (the record and its
    /// associations are gone, not archived), and fires `contact.privacyDeletion`.
    pub fn gdpr_delete(&self, portal_id: u64, id: u64) -> Result<(), AdminError> {
        let portal = self.portal_or_err(portal_id)?;
        {
            let mut data = portal.write();
            if !data.store_mut(ObjectType::Contacts).remove(id) {
                return Err(AdminError::NoRecord(ObjectType::Contacts, id));
            }
            data.associations.remove_record(ObjectType::Contacts, id);
        }
        self.webhooks.fire(
            portal_id,
            self.config.app_id,
            &Change::PrivacyDeleted { id },
            ChangeSource::Crm,
        );
        Ok(())
    }

    /// Replaces the portal's fault knobs.
    pub fn set_faults(&self, portal_id: u64, faults: FaultConfig) -> Result<(), AdminError> {
        self.portal_or_err(portal_id)?.faults().set_config(faults);
        Ok(())
    }

    /// Every API call of the portal gets 429 `TEN_SECONDLY_ROLLING` for `duration`.
    pub fn rate_limit_storm(&self, portal_id: u64, duration: Duration) -> Result<(), AdminError> {
        self.portal_or_err(portal_id)?.faults().storm_until = Some(Instant::now() + duration);
        Ok(())
    }

    /// Revokes every token of the portal (as an uninstall would); returns how many.
    pub fn revoke_tokens(&self, portal_id: u64) -> Result<usize, AdminError> {
        self.portal_or_err(portal_id)?;
        Ok(self.tokens().revoke_portal(portal_id))
    }

    /// Makes the portal's access tokens expire now.
    pub fn expire_tokens(&self, portal_id: u64) -> Result<(), AdminError> {
        self.portal_or_err(portal_id)?;
        self.tokens().expire_portal_access(portal_id);
        Ok(())
    }

    /// Issues an OAuth token pair without the browser flow.
    pub fn issue_tokens(&self, portal_id: u64, scopes: &[&str]) -> Result<TokenPair, AdminError> {
        self.portal_or_err(portal_id)?;
        let mut all: Vec<String> = vec!["oauth".to_owned()];
        all.extend(scopes.iter().map(|s| (*s).to_owned()));
        let grant = Grant {
            portal_id,
            scopes: all,
            kind: TokenKind::OAuth {
                app_id: self.config.app_id,
            },
        };
        Ok(self
            .tokens()
            .issue_pair(grant, &self.config.client_id, self.config.access_token_ttl))
    }
}

/// Every scope a private-app token or `issue_tokens(…, ALL_SCOPES)` gets.
pub const ALL_SCOPES: &[&str] = &[
    "crm.objects.contacts.read",
    "crm.objects.contacts.write",
    "crm.objects.companies.read",
    "crm.objects.companies.write",
    "crm.objects.deals.read",
    "crm.objects.deals.write",
    "crm.schemas.contacts.read",
    "crm.schemas.contacts.write",
    "crm.schemas.companies.read",
    "crm.schemas.companies.write",
    "crm.schemas.deals.read",
    "crm.schemas.deals.write",
];
