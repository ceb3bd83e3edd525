//! One simulated HubSpot account: its records, property schemas, associations and the
//! generator's ground truth.

use std::collections::BTreeMap;

use super::associations::Associations;
use super::object_type::ObjectType;
use super::objects::ObjectStore;
use super::schema::Schema;
use crate::generator::{
    self, COMPANY_ID_BASE, CONTACT_ID_BASE, DEAL_ID_BASE, GeneratorConfig, GeneratorError,
    GroundTruth, PortalSink, SimRecord,
};

/// A portal's data. Guarded by one lock in the server; all methods are synchronous.
#[derive(Debug)]
pub struct Portal {
    pub id: u64,
    pub contacts: ObjectStore,
    pub companies: ObjectStore,
    pub deals: ObjectStore,
    pub schemas: BTreeMap<ObjectType, Schema>,
    pub associations: Associations,
    pub ground_truth: GroundTruth,
}

impl Portal {
    /// An empty portal with HubSpot's default properties.
    pub fn empty(id: u64, now_ms: i64) -> Self {
        Self {
            id,
            contacts: ObjectStore::new(CONTACT_ID_BASE, true),
            companies: ObjectStore::new(COMPANY_ID_BASE, false),
            deals: ObjectStore::new(DEAL_ID_BASE, false),
            schemas: ObjectType::ALL
                .into_iter()
                .map(|t| (t, Schema::defaults(t, now_ms)))
                .collect(),
            associations: Associations::default(),
            ground_truth: GroundTruth::default(),
        }
    }

    /// A portal filled by the seeded generator, streamed straight into compact storage.
    pub fn generated(
        id: u64,
        config: &GeneratorConfig,
        now_ms: i64,
    ) -> Result<Self, GeneratorError> {
        struct Fill<'a>(&'a mut Portal);
        impl PortalSink for Fill<'_> {
            fn company(&mut self, r: SimRecord) {
                self.0.companies.push_generated(
                    r.id,
                    r.created_at_ms,
                    r.updated_at_ms,
                    &r.properties,
                );
            }
            fn contact(&mut self, r: SimRecord) {
                self.0.contacts.push_generated(
                    r.id,
                    r.created_at_ms,
                    r.updated_at_ms,
                    &r.properties,
                );
            }
            fn deal(&mut self, r: SimRecord) {
                self.0
                    .deals
                    .push_generated(r.id, r.created_at_ms, r.updated_at_ms, &r.properties);
            }
        }
        let mut portal = Portal::empty(id, now_ms);
        let links = generator::generate_into(config, &mut Fill(&mut portal))?;
        for (contact, company) in links.contact_company {
            portal.associations.add(
                ObjectType::Contacts,
                contact,
                ObjectType::Companies,
                company,
                true,
            );
        }
        for (deal, company) in links.deal_company {
            portal.associations.add(
                ObjectType::Deals,
                deal,
                ObjectType::Companies,
                company,
                true,
            );
        }
        // Deal→contact links carry no primary flag in HubSpot (one type each way: 3 and 4).
        for (deal, contact) in links.deal_contact {
            portal.associations.add(
                ObjectType::Deals,
                deal,
                ObjectType::Contacts,
                contact,
                false,
            );
        }
        portal.ground_truth = links.ground_truth;
        Ok(portal)
    }

    pub fn store(&self, object: ObjectType) -> &ObjectStore {
        match object {
            ObjectType::Contacts => &self.contacts,
            ObjectType::Companies => &self.companies,
            ObjectType::Deals => &self.deals,
        }
    }

    pub fn store_mut(&mut self, object: ObjectType) -> &mut ObjectStore {
        match object {
            ObjectType::Contacts => &mut self.contacts,
            ObjectType::Companies => &mut self.companies,
            ObjectType::Deals => &mut self.deals,
        }
    }

    pub fn schema(&self, object: ObjectType) -> &Schema {
        // Every type gets a schema in `empty`.
        &self.schemas[&object]
    }

    pub fn schema_mut(&mut self, object: ObjectType) -> &mut Schema {
        self.schemas
            .entry(object)
            .or_insert_with(|| Schema::defaults(object, 0))
    }
}
