//! A log of property changes stamped with the simulator's own clock, so a benchmark can time a
//! change made "in HubSpot" against the write-back it causes, both seen from HubSpot's side.
//!
//! Off by default: only properties named with [`ChangeLog::watch`] are kept, since logging every
//! value a bulk write-back touches would grow without bound.

use std::collections::HashSet;
use std::sync::{Mutex, MutexGuard};

use chrono::{DateTime, Utc};

use crate::store::ObjectType;
use crate::webhooks::ChangeSource;

/// One value that actually changed on a record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LoggedChange {
    /// When the simulator applied it (before any webhook for it was queued).
    pub at: DateTime<Utc>,
    pub portal_id: u64,
    pub object: ObjectType,
    pub id: u64,
    pub name: String,
    pub value: String,
    /// A user in the CRM (`/_sim` admin changes) or an app through the API.
    pub source: ChangeSource,
}

#[derive(Debug, Default)]
struct Inner {
    watched: HashSet<String>,
    entries: Vec<LoggedChange>,
}

/// The watched property names and what changed in them, in order.
#[derive(Debug, Default)]
pub struct ChangeLog {
    inner: Mutex<Inner>,
}

impl ChangeLog {
    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Starts logging changes of these properties (any object type, any portal).
    pub fn watch(&self, properties: &[&str]) {
        self.lock()
            .watched
            .extend(properties.iter().map(|p| (*p).to_owned()));
    }

    /// Logs the watched ones among `changed` (name, new value) of one record.
    pub fn record(
        &self,
        portal_id: u64,
        object: ObjectType,
        id: u64,
        changed: &[(String, String)],
        source: ChangeSource,
    ) {
        let mut inner = self.lock();
        if inner.watched.is_empty() {
            return;
        }
        let at = Utc::now();
        let watched: Vec<LoggedChange> = changed
            .iter()
            .filter(|(name, _)| inner.watched.contains(name))
            .map(|(name, value)| LoggedChange {
                at,
                portal_id,
                object,
                id,
                name: name.clone(),
                value: value.clone(),
                source,
            })
            .collect();
        inner.entries.extend(watched);
    }

    /// Everything logged so far, oldest first.
    pub fn entries(&self) -> Vec<LoggedChange> {
        self.lock().entries.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(values: &[(&str, &str)]) -> Vec<(String, String)> {
        values
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn only_watched_properties_are_kept_in_order() {
        let log = ChangeLog::default();
        let change = pairs(&[("jobtitle", "CTO"), ("phone", "1")]);
        log.record(1, ObjectType::Contacts, 5, &change, ChangeSource::Crm);
        assert!(log.entries().is_empty(), "nothing is watched yet");

        log.watch(&["jobtitle", "conturs_score"]);
        log.record(1, ObjectType::Contacts, 5, &change, ChangeSource::Crm);
        log.record(
            1,
            ObjectType::Contacts,
            5,
            &pairs(&[("conturs_score", "80")]),
            ChangeSource::Integration,
        );
        let entries = log.entries();
        let seen: Vec<(&str, &str, ChangeSource)> = entries
            .iter()
            .map(|e| (e.name.as_str(), e.value.as_str(), e.source))
            .collect();
        assert_eq!(
            seen,
            vec![
                ("jobtitle", "CTO", ChangeSource::Crm),
                ("conturs_score", "80", ChangeSource::Integration)
            ]
        );
        assert!(entries[0].at <= entries[1].at);
    }
}
