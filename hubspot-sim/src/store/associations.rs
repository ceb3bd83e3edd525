//! Association edges between records, with HubSpot's v4 type ids, stored as sorted pairs so a
//! million edges cost tens of megabytes and per-record lookups are range scans.

use std::collections::BTreeMap;

use super::object_type::ObjectType;

/// One HubSpot-defined association type.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AssociationType {
    pub type_id: u32,
    /// `Some("Primary")` for the primary type, `None` for unlabeled.
    pub label: Option<&'static str>,
    /// v3 inline name, e.g. `contact_to_company` / `contact_to_company_unlabeled`.
    pub name: &'static str,
}

/// (unlabeled, primary) type ids for a direction; `None` if the pair is not supported.
pub fn type_ids(from: ObjectType, to: ObjectType) -> Option<(AssociationType, AssociationType)> {
    use ObjectType::{Companies, Contacts, Deals};
    let t = |type_id, label, name| AssociationType {
        type_id,
        label,
        name,
    };
    match (from, to) {
        (Contacts, Companies) => Some((
            t(279, None, "contact_to_company_unlabeled"),
            t(1, Some("Primary"), "contact_to_company"),
        )),
        (Companies, Contacts) => Some((
            t(280, None, "company_to_contact_unlabeled"),
            t(2, Some("Primary"), "company_to_contact"),
        )),
        (Deals, Companies) => Some((
            t(341, None, "deal_to_company_unlabeled"),
            t(5, Some("Primary"), "deal_to_company"),
        )),
        (Companies, Deals) => Some((
            t(342, None, "company_to_deal_unlabeled"),
            t(6, Some("Primary"), "company_to_deal"),
        )),
        (Deals, Contacts) => Some((t(3, None, "deal_to_contact"), t(3, None, "deal_to_contact"))),
        (Contacts, Deals) => Some((t(4, None, "contact_to_deal"), t(4, None, "contact_to_deal"))),
        _ => None,
    }
}

/// An associated record and whether the link is primary.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Link {
    pub to_id: u64,
    pub primary: bool,
}

/// All edges of a portal; each pair is stored in both directions.
#[derive(Debug, Default)]
pub struct Associations {
    edges: BTreeMap<(ObjectType, ObjectType), BTreeMap<(u64, u64), bool>>,
}

impl Associations {
    pub fn add(
        &mut self,
        from: ObjectType,
        from_id: u64,
        to: ObjectType,
        to_id: u64,
        primary: bool,
    ) {
        self.edges
            .entry((from, to))
            .or_default()
            .insert((from_id, to_id), primary);
        self.edges
            .entry((to, from))
            .or_default()
            .insert((to_id, from_id), primary);
    }

    /// Removes every edge touching a record (used when it is archived).
    pub fn remove_record(&mut self, object: ObjectType, id: u64) {
        for other in ObjectType::ALL {
            let targets: Vec<u64> = self.links(object, id, other).map(|l| l.to_id).collect();
            if let Some(forward) = self.edges.get_mut(&(object, other)) {
                for to in &targets {
                    forward.remove(&(id, *to));
                }
            }
            if let Some(backward) = self.edges.get_mut(&(other, object)) {
                for to in &targets {
                    backward.remove(&(*to, id));
                }
            }
        }
    }

    /// Links from one record to records of `to`, ascending by target id.
    pub fn links(
        &self,
        from: ObjectType,
        from_id: u64,
        to: ObjectType,
    ) -> impl Iterator<Item = Link> + '_ {
        self.edges
            .get(&(from, to))
            .into_iter()
            .flat_map(move |edges| edges.range((from_id, 0)..=(from_id, u64::MAX)))
            .map(|((_, to_id), primary)| Link {
                to_id: *to_id,
                primary: *primary,
            })
    }

    pub fn count(&self, from: ObjectType, to: ObjectType) -> usize {
        self.edges.get(&(from, to)).map_or(0, BTreeMap::len)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edges_are_bidirectional_and_removable() {
        let mut a = Associations::default();
        a.add(ObjectType::Contacts, 1, ObjectType::Companies, 10, true);
        a.add(ObjectType::Contacts, 2, ObjectType::Companies, 10, false);
        let back: Vec<Link> = a
            .links(ObjectType::Companies, 10, ObjectType::Contacts)
            .collect();
        assert_eq!(
            back,
            vec![
                Link {
                    to_id: 1,
                    primary: true
                },
                Link {
                    to_id: 2,
                    primary: false
                }
            ]
        );
        a.remove_record(ObjectType::Contacts, 1);
        assert_eq!(
            a.links(ObjectType::Companies, 10, ObjectType::Contacts)
                .count(),
            1
        );
        assert_eq!(
            a.links(ObjectType::Contacts, 1, ObjectType::Companies)
                .count(),
            0
        );
    }
}
