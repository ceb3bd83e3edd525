//! Records of one object type in one portal: sorted by id, properties in compact blobs.

use std::collections::{BTreeMap, HashMap};
use std::time::Instant;

use super::blob::{PropKey, PropertyBlob};
use crate::generator::iso_millis;

/// Properties computed from the record itself rather than stored.
pub const DERIVED_PROPERTIES: [&str; 4] = [
    "hs_object_id",
    "createdate",
    "lastmodifieddate",
    "hs_lastmodifieddate",
];

/// One stored record.
#[derive(Clone, Debug)]
pub struct Record {
    pub id: u64,
    pub created_ms: i64,
    pub updated_ms: i64,
    pub archived: bool,
    pub props: PropertyBlob,
}

/// Property-name interner shared by all records of one type.
#[derive(Default, Debug)]
pub struct Interner {
    names: Vec<String>,
    ids: HashMap<String, PropKey>,
}

impl Interner {
    /// The key for `name`, adding it if new.
    pub fn intern(&mut self, name: &str) -> PropKey {
        if let Some(id) = self.ids.get(name) {
            return *id;
        }
        let id = self.names.len() as PropKey;
        self.names.push(name.to_owned());
        self.ids.insert(name.to_owned(), id);
        id
    }

    /// The key for `name` if any record ever had it.
    pub fn lookup(&self, name: &str) -> Option<PropKey> {
        self.ids.get(name).copied()
    }

    /// The name behind a key.
    pub fn name(&self, key: PropKey) -> &str {
        self.names.get(usize::from(key)).map_or("", String::as_str)
    }
}

/// All records of one type, ids ascending (new ids are always larger).
#[derive(Debug)]
pub struct ObjectStore {
    pub names: Interner,
    records: Vec<Record>,
    next_id: u64,
    is_contact: bool,
    /// When each recently changed record changed (drives the search indexing lag).
    recently_changed: HashMap<u64, Instant>,
}

impl ObjectStore {
    /// An empty store; contacts also derive `lastmodifieddate`.
    pub fn new(first_id: u64, is_contact: bool) -> Self {
        Self {
            names: Interner::default(),
            records: Vec::new(),
            next_id: first_id,
            is_contact,
            recently_changed: HashMap::new(),
        }
    }

    /// Appends a generated record; ids must arrive ascending.
    pub fn push_generated(
        &mut self,
        id: u64,
        created_ms: i64,
        updated_ms: i64,
        props: &BTreeMap<String, String>,
    ) {
        let pairs: Vec<(PropKey, &str)> = props
            .iter()
            .filter(|(name, _)| !DERIVED_PROPERTIES.contains(&name.as_str()))
            .map(|(name, value)| (self.names.intern(name), value.as_str()))
            .collect();
        self.records.push(Record {
            id,
            created_ms,
            updated_ms,
            archived: false,
            props: PropertyBlob::from_pairs(pairs),
        });
        self.next_id = self.next_id.max(id + 1);
    }

    /// Records including archived ones.
    pub fn len(&self) -> usize {
        self.records.len()
    }

    /// No records at all.
    pub fn is_empty(&self) -> bool {
        self.records.is_empty()
    }

    /// A record by id (archived or not).
    pub fn get(&self, id: u64) -> Option<&Record> {
        self.position(id).map(|at| &self.records[at])
    }

    fn position(&self, id: u64) -> Option<usize> {
        self.records.binary_search_by_key(&id, |r| r.id).ok()
    }

    /// Records with id ≥ `from_id` and the given archived flag, in id order.
    pub fn iter_from(&self, from_id: u64, archived: bool) -> impl Iterator<Item = &Record> {
        let start = self.records.partition_point(|r| r.id < from_id);
        self.records[start..]
            .iter()
            .filter(move |r| r.archived == archived)
    }

    /// All records in id order, archived included.
    pub fn iter(&self) -> impl Iterator<Item = &Record> {
        self.records.iter()
    }

    /// Creates a record with the given properties; returns its id.
    pub fn create(&mut self, props: &[(String, String)], now_ms: i64) -> u64 {
        let id = self.next_id;
        self.next_id += 1;
        let pairs: Vec<(PropKey, &str)> = props
            .iter()
            .filter(|(name, _)| !DERIVED_PROPERTIES.contains(&name.as_str()))
            .map(|(name, value)| (self.names.intern(name), value.as_str()))
            .collect();
        self.records.push(Record {
            id,
            created_ms: now_ms,
            updated_ms: now_ms,
            archived: false,
            props: PropertyBlob::from_pairs(pairs),
        });
        self.recently_changed.insert(id, Instant::now());
        id
    }

    /// Applies property changes; returns the `(name, new value)` pairs that actually changed.
    /// `None` if the record does not exist or is archived.
    pub fn update(
        &mut self,
        id: u64,
        props: &[(String, String)],
        now_ms: i64,
    ) -> Option<Vec<(String, String)>> {
        let at = self.position(id)?;
        if self.records[at].archived {
            return None;
        }
        let mut changed = Vec::new();
        let mut pairs = Vec::new();
        for (name, value) in props {
            let key = self.names.intern(name);
            let current = self.records[at].props.get(key).unwrap_or("");
            if current != value {
                changed.push((name.clone(), value.clone()));
            }
            pairs.push((key, value.as_str()));
        }
        let record = &mut self.records[at];
        if !changed.is_empty() {
            record.props = record.props.with_changes(&pairs);
            record.updated_ms = now_ms.max(record.updated_ms + 1);
            self.recently_changed.insert(id, Instant::now());
        }
        Some(changed)
    }

    /// Removes a record for good (a GDPR delete: it cannot be restored, reads do not find it);
    /// `false` if it does not exist.
    pub fn remove(&mut self, id: u64) -> bool {
        match self.position(id) {
            Some(at) => {
                self.records.remove(at);
                self.recently_changed.remove(&id);
                true
            }
            None => false,
        }
    }

    /// Archives a live record; `false` if it does not exist or is already archived.
    pub fn archive(&mut self, id: u64, now_ms: i64) -> bool {
        match self.position(id) {
            Some(at) if !self.records[at].archived => {
                self.records[at].archived = true;
                self.records[at].updated_ms = now_ms;
                self.recently_changed.insert(id, Instant::now());
                true
            }
            _ => false,
        }
    }

    /// Whether the record changed after `cutoff` (not yet visible to search).
    pub fn changed_after(&self, id: u64, cutoff: Instant) -> bool {
        self.recently_changed
            .get(&id)
            .is_some_and(|at| *at > cutoff)
    }

    /// Forgets change times older than `cutoff` to keep the side table small.
    pub fn prune_changes(&mut self, cutoff: Instant) {
        self.recently_changed.retain(|_, at| *at > cutoff);
    }

    /// A property's value, including the derived ones.
    pub fn value<'a>(
        &'a self,
        record: &'a Record,
        name: &str,
    ) -> Option<std::borrow::Cow<'a, str>> {
        use std::borrow::Cow;
        match name {
            "hs_object_id" => Some(Cow::Owned(record.id.to_string())),
            "createdate" => Some(Cow::Owned(iso_millis(record.created_ms))),
            "hs_lastmodifieddate" => Some(Cow::Owned(iso_millis(record.updated_ms))),
            "lastmodifieddate" if self.is_contact => {
                Some(Cow::Owned(iso_millis(record.updated_ms)))
            }
            _ => self
                .names
                .lookup(name)
                .and_then(|key| record.props.get(key))
                .map(Cow::Borrowed),
        }
    }

    /// Heap bytes held by property blobs (for memory reports).
    pub fn blob_bytes(&self) -> usize {
        self.records.iter().map(|r| r.props.heap_bytes()).sum()
    }
}
