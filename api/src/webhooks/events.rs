//! HubSpot webhook events (API-FACTS §4) parsed at the edge, and what each one asks Conturs to
//! do. Pure: no database, so every rule here is unit-tested.

use std::collections::HashSet;

use chrono::{DateTime, Utc};
use entity::DeletionKind;
use serde::Deserialize;

/// HubSpot sends at most 100 events per request.
pub const MAX_EVENTS_PER_BATCH: usize = 100;
/// Our own properties: changes to them are our write-backs echoing, never a reason to score.
pub const OWN_PROPERTY_PREFIX: &str = "conturs_";
const MAX_SUBSCRIPTION_TYPE: usize = 64;
const MAX_PROPERTY_NAME: usize = 255;

/// One event as HubSpot sends it. Unknown fields are ignored; ids are numbers.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct WebhookEvent {
    #[serde(default)]
    pub event_id: i64,
    pub portal_id: i64,
    /// e.g. `contact.propertyChange`, `contact.deletion`, `contact.merge`.
    #[schema(min_length = 1, max_length = 64)]
    pub subscription_type: String,
    pub object_id: i64,
    #[serde(default)]
    #[schema(max_length = 255)]
    pub property_name: Option<String>,
    /// ms since the epoch.
    pub occurred_at: i64,
    #[serde(default)]
    pub attempt_number: i32,
    /// Merge events: the record that absorbed the others.
    #[serde(default)]
    pub primary_object_id: Option<i64>,
    #[serde(default)]
    pub merged_object_ids: Vec<i64>,
    /// Merge events: the id of the merged record, when HubSpot gave it a new one.
    #[serde(default)]
    pub new_object_id: Option<i64>,
    /// Association changes.
    #[serde(default)]
    pub association_type: Option<String>,
    #[serde(default)]
    pub from_object_id: Option<i64>,
}

/// Why a request body is not an acceptable batch (400).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BatchError {
    #[error("the body is not a JSON array of HubSpot webhook events: {0}")]
    Malformed(String),
    #[error("a batch holds at most {MAX_EVENTS_PER_BATCH} events, this one has {0}")]
    TooMany(usize),
    #[error("event {index}: {reason}")]
    InvalidEvent { index: usize, reason: String },
}

/// Parses and validates a batch.
pub fn parse_batch(body: &[u8]) -> Result<Vec<WebhookEvent>, BatchError> {
    let events: Vec<WebhookEvent> =
        serde_json::from_slice(body).map_err(|e| BatchError::Malformed(e.to_string()))?;
    if events.len() > MAX_EVENTS_PER_BATCH {
        return Err(BatchError::TooMany(events.len()));
    }
    for (index, event) in events.iter().enumerate() {
        let invalid = |reason: &str| BatchError::InvalidEvent {
            index,
            reason: reason.to_owned(),
        };
        if event.subscription_type.is_empty()
            || event.subscription_type.len() > MAX_SUBSCRIPTION_TYPE
        {
            return Err(invalid("subscriptionType is empty or too long"));
        }
        if event
            .property_name
            .as_ref()
            .is_some_and(|p| p.len() > MAX_PROPERTY_NAME)
        {
            return Err(invalid("propertyName is too long"));
        }
        if event.occurred().is_none() {
            return Err(invalid("occurredAt is not a valid time"));
        }
    }
    Ok(events)
}

impl WebhookEvent {
    pub fn occurred(&self) -> Option<DateTime<Utc>> {
        DateTime::<Utc>::from_timestamp_millis(self.occurred_at)
    }

    /// HubSpot's `eventId` is not unique; this is (API-FACTS §4).
    pub fn dedupe_key(&self) -> String {
        format!(
            "{}:{}:{}:{}",
            self.subscription_type,
            self.object_id,
            self.property_name.as_deref().unwrap_or(""),
            self.occurred_at
        )
    }
}

/// What an event asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Re-score these contacts.
    Score(Vec<i64>),
    /// A company input changed: re-score the contacts of this company.
    ScoreCompanyContacts(i64),
    /// A contact HubSpot deleted (restorably, or for privacy): forget everything about it.
    Purge(i64, DeletionKind),
    /// A contact HubSpot restored (or created): score it, lifting a restorable deletion.
    Restore(i64),
    /// Contacts merged into another: archive them and clear their scores; then score
    /// `survivor` if any.
    Remove {
        archive: Vec<i64>,
        survivor: Option<i64>,
    },
    /// Nothing to do, and why.
    Ignore(String),
}

/// The input properties scoring reads, per object type.
#[derive(Debug, Clone)]
pub struct UsedProperties {
    pub contacts: HashSet<String>,
    pub companies: HashSet<String>,
}

impl UsedProperties {
    /// What the sync reads (`jobs::handlers::crm_store::properties_for`).
    pub fn from_sync() -> Self {
        use jobs::handlers::crm_store::properties_for;
        Self {
            contacts: properties_for(hubspot::ObjectType::Contacts)
                .into_iter()
                .collect(),
            companies: properties_for(hubspot::ObjectType::Companies)
                .into_iter()
                .collect(),
        }
    }
}

fn property_action(
    event: &WebhookEvent,
    used: &HashSet<String>,
    then: impl FnOnce() -> Action,
) -> Action {
    match event.property_name.as_deref() {
        None => Action::Ignore("property change without a property name".into()),
        Some(name) if name.starts_with(OWN_PROPERTY_PREFIX) => {
            Action::Ignore(format!("{name} is one of Conturs' own properties"))
        }
        Some(name) if !used.contains(name) => {
            Action::Ignore(format!("{name} is not used by the scoring model"))
        }
        Some(_) => then(),
    }
}

/// Decides what an event asks for.
pub fn classify(event: &WebhookEvent, used: &UsedProperties) -> Action {
    let id = event.object_id;
    match event.subscription_type.as_str() {
        "contact.propertyChange" => {
            property_action(event, &used.contacts, || Action::Score(vec![id]))
        }
        "contact.creation" | "contact.restore" => Action::Restore(id),
        "contact.deletion" => Action::Purge(id, DeletionKind::Deleted),
        "contact.privacyDeletion" => Action::Purge(id, DeletionKind::PrivacyDeleted),
        "contact.merge" => {
            let survivor = event
                .new_object_id
                .or(event.primary_object_id)
                .unwrap_or(id);
            let mut archive: Vec<i64> = event
                .merged_object_ids
                .iter()
                .copied()
                .filter(|merged| *merged != survivor)
                .collect();
            archive.sort_unstable();
            archive.dedup();
            Action::Remove {
                archive,
                survivor: Some(survivor),
            }
        }
        "contact.associationChange" => {
            let company_link = event
                .association_type
                .as_deref()
                .is_none_or(|t| t.eq_ignore_ascii_case("CONTACT_TO_COMPANY"));
            if company_link {
                Action::Score(vec![event.from_object_id.unwrap_or(id)])
            } else {
                Action::Ignore("association other than contact to company".into())
            }
        }
        "company.propertyChange" => {
            property_action(event, &used.companies, || Action::ScoreCompanyContacts(id))
        }
        other if other.starts_with("deal.") => {
            Action::Ignore("deal changes reach the model through the nightly re-sync".into())
        }
        other => Action::Ignore(format!("{other} events do not affect scores")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn used() -> UsedProperties {
        UsedProperties::from_sync()
    }

    fn event(json: &str) -> WebhookEvent {
        serde_json::from_str(json).expect("event")
    }

    #[test]
    fn the_documented_v1_vector_body_parses() {
        let body = br#"[{"eventId":1,"subscriptionId":12345,"portalId":62515,"occurredAt":1564113600000,"subscriptionType":"contact.creation","attemptNumber":0,"objectId":123,"changeSource":"CRM","changeFlag":"NEW","appId":54321}]"#;
        let events = parse_batch(body).expect("valid");
        assert_eq!(events[0].portal_id, 62515);
        assert_eq!(classify(&events[0], &used()), Action::Restore(123));
        assert_eq!(
            events[0].dedupe_key(),
            "contact.creation:123::1564113600000"
        );
    }

    #[test]
    fn bad_batches_are_refused() {
        assert!(matches!(
            parse_batch(b"{'example_field':'example_value'}"),
            Err(BatchError::Malformed(_))
        ));
        assert!(matches!(
            parse_batch(br#"{"example_field":"example_value"}"#),
            Err(BatchError::Malformed(_))
        ));
        let one =
            r#"{"portalId":1,"subscriptionType":"contact.creation","objectId":1,"occurredAt":1}"#;
        let many = format!("[{}]", vec![one; 101].join(","));
        assert_eq!(parse_batch(many.as_bytes()), Err(BatchError::TooMany(101)));
        let hundred = format!("[{}]", vec![one; 100].join(","));
        assert_eq!(
            parse_batch(hundred.as_bytes()).expect("100 is fine").len(),
            100
        );
        let long_type = format!(
            r#"[{{"portalId":1,"subscriptionType":"{}","objectId":1,"occurredAt":1}}]"#,
            "x".repeat(65)
        );
        assert!(matches!(
            parse_batch(long_type.as_bytes()),
            Err(BatchError::InvalidEvent { index: 0, .. })
        ));
    }

    #[test]
    fn own_and_unused_properties_are_ignored() {
        let change = |property: &str| {
            event(&format!(
                r#"{{"portalId":1,"subscriptionType":"contact.propertyChange","objectId":7,"occurredAt":1,"propertyName":"{property}"}}"#
            ))
        };
        assert_eq!(
            classify(&change("jobtitle"), &used()),
            Action::Score(vec![7])
        );
        assert!(
            matches!(classify(&change("conturs_score"), &used()), Action::Ignore(r) if r.contains("own"))
        );
        assert!(
            matches!(classify(&change("favorite_color"), &used()), Action::Ignore(r) if r.contains("not used"))
        );
    }

    #[test]
    fn deletions_merges_and_companies() {
        let deletion = event(
            r#"{"portalId":1,"subscriptionType":"contact.deletion","objectId":5,"occurredAt":1}"#,
        );
        assert_eq!(
            classify(&deletion, &used()),
            Action::Purge(5, DeletionKind::Deleted)
        );
        let erased = event(
            r#"{"portalId":1,"subscriptionType":"contact.privacyDeletion","objectId":5,"occurredAt":1}"#,
        );
        assert_eq!(
            classify(&erased, &used()),
            Action::Purge(5, DeletionKind::PrivacyDeleted)
        );
        let merge = event(
            r#"{"portalId":1,"subscriptionType":"contact.merge","objectId":5,"occurredAt":1,"primaryObjectId":5,"mergedObjectIds":[5,9,8]}"#,
        );
        assert_eq!(
            classify(&merge, &used()),
            Action::Remove {
                archive: vec![8, 9],
                survivor: Some(5)
            }
        );
        let company = event(
            r#"{"portalId":1,"subscriptionType":"company.propertyChange","objectId":3,"occurredAt":1,"propertyName":"industry"}"#,
        );
        assert_eq!(classify(&company, &used()), Action::ScoreCompanyContacts(3));
        let deal = event(
            r#"{"portalId":1,"subscriptionType":"deal.propertyChange","objectId":3,"occurredAt":1,"propertyName":"dealstage"}"#,
        );
        assert!(matches!(classify(&deal, &used()), Action::Ignore(_)));
    }
}
