//! App webhooks: settings, subscriptions, event creation on record changes, and signed,
//! batched, retried delivery like HubSpot's.

mod delivery;
pub mod signature;

use std::sync::{Mutex, MutexGuard};

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use tokio::sync::mpsc;

use crate::config::WebhookKnobs;
use crate::stats::WebhookStats;
use crate::store::ObjectType;
use crate::tokens::now_ms;

pub use delivery::{MAX_BATCH, MAX_CONCURRENCY, run_dispatcher};

/// App-level webhook settings (`PUT /webhooks/v3/{appId}/settings`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WebhookSettings {
    pub target_url: String,
    pub throttling: Throttling,
    #[serde(default)]
    pub created_at: Option<String>,
    #[serde(default)]
    pub updated_at: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Throttling {
    pub max_concurrent_requests: u32,
    #[serde(default = "secondly")]
    pub period: String,
}

fn secondly() -> String {
    "SECONDLY".to_owned()
}

/// One subscription (`POST /webhooks/v3/{appId}/subscriptions`).
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Subscription {
    pub id: String,
    pub event_type: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub property_name: Option<String>,
    pub active: bool,
    pub created_at: String,
    pub updated_at: String,
}

/// A record change that may fire events.
#[derive(Clone, Debug)]
pub enum Change {
    Created {
        object: ObjectType,
        id: u64,
    },
    Deleted {
        object: ObjectType,
        id: u64,
    },
    /// A contact permanently deleted for privacy (GDPR): `contact.privacyDeletion`.
    PrivacyDeleted {
        id: u64,
    },
    PropertyChanged {
        object: ObjectType,
        id: u64,
        name: String,
        value: String,
    },
}

/// Who made a change: a HubSpot user (`CRM`) or an app through the API (`INTEGRATION`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ChangeSource {
    Crm,
    Integration,
}

impl ChangeSource {
    fn as_str(self) -> &'static str {
        match self {
            ChangeSource::Crm => "CRM",
            ChangeSource::Integration => "INTEGRATION",
        }
    }
}

/// An event waiting for delivery.
#[derive(Clone, Debug)]
pub struct Event {
    pub portal_id: u64,
    pub body: Value,
}

#[derive(Debug, Default)]
struct HubInner {
    settings: Option<WebhookSettings>,
    subscriptions: Vec<Subscription>,
    next_subscription: u64,
    next_event: u64,
}

/// Subscriptions, settings and the queue to the dispatcher.
#[derive(Debug)]
pub struct WebhookHub {
    inner: Mutex<HubInner>,
    knobs: Mutex<WebhookKnobs>,
    stats: Mutex<WebhookStats>,
    queue: mpsc::UnboundedSender<Event>,
}

/// Event types HubSpot's subscription API accepts for our object types.
pub const EVENT_TYPES: [&str; 19] = [
    "contact.creation",
    "contact.deletion",
    "contact.privacyDeletion",
    "contact.propertyChange",
    "contact.merge",
    "contact.restore",
    "contact.associationChange",
    "company.creation",
    "company.deletion",
    "company.propertyChange",
    "company.merge",
    "company.restore",
    "company.associationChange",
    "deal.creation",
    "deal.deletion",
    "deal.propertyChange",
    "deal.merge",
    "deal.restore",
    "deal.associationChange",
];

/// Max subscriptions per app (the 1001st is refused).
pub const MAX_SUBSCRIPTIONS: usize = 1000;

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl WebhookHub {
    pub fn new(knobs: WebhookKnobs) -> (Self, mpsc::UnboundedReceiver<Event>) {
        let (queue, rx) = mpsc::unbounded_channel();
        let hub = Self {
            inner: Mutex::new(HubInner {
                next_subscription: 100_001,
                next_event: 1,
                ..HubInner::default()
            }),
            knobs: Mutex::new(knobs),
            stats: Mutex::new(WebhookStats::default()),
            queue,
        };
        (hub, rx)
    }

    pub fn settings(&self) -> Option<WebhookSettings> {
        lock(&self.inner).settings.clone()
    }

    pub fn set_settings(&self, mut settings: WebhookSettings) -> WebhookSettings {
        let now = crate::generator::iso_millis(now_ms());
        let mut inner = lock(&self.inner);
        settings.created_at = inner
            .settings
            .as_ref()
            .and_then(|s| s.created_at.clone())
            .or_else(|| Some(now.clone()));
        settings.updated_at = Some(now);
        inner.settings = Some(settings.clone());
        settings
    }

    pub fn clear_settings(&self) {
        lock(&self.inner).settings = None;
    }

    pub fn subscriptions(&self) -> Vec<Subscription> {
        lock(&self.inner).subscriptions.clone()
    }

    /// Adds a subscription; `Err` with HubSpot's message when the app is at its limit.
    pub fn subscribe(
        &self,
        event_type: &str,
        property_name: Option<String>,
        active: bool,
    ) -> Result<Subscription, String> {
        let mut inner = lock(&self.inner);
        if inner.subscriptions.len() >= MAX_SUBSCRIPTIONS {
            return Err(format!(
                "Couldn't create another subscription. You've reached the maximum number allowed per application ({MAX_SUBSCRIPTIONS})."
            ));
        }
        let now = crate::generator::iso_millis(now_ms());
        let subscription = Subscription {
            id: inner.next_subscription.to_string(),
            event_type: event_type.to_owned(),
            property_name,
            active,
            created_at: now.clone(),
            updated_at: now,
        };
        inner.next_subscription += 1;
        inner.subscriptions.push(subscription.clone());
        Ok(subscription)
    }

    pub fn set_active(&self, id: &str, active: bool) -> Option<Subscription> {
        let mut inner = lock(&self.inner);
        let subscription = inner.subscriptions.iter_mut().find(|s| s.id == id)?;
        subscription.active = active;
        subscription.updated_at = crate::generator::iso_millis(now_ms());
        Some(subscription.clone())
    }

    pub fn unsubscribe(&self, id: &str) -> bool {
        let mut inner = lock(&self.inner);
        let before = inner.subscriptions.len();
        inner.subscriptions.retain(|s| s.id != id);
        inner.subscriptions.len() != before
    }

    pub fn knobs(&self) -> WebhookKnobs {
        lock(&self.knobs).clone()
    }

    pub fn set_knobs(&self, knobs: WebhookKnobs) {
        *lock(&self.knobs) = knobs;
    }

    pub fn stats(&self) -> WebhookStats {
        lock(&self.stats).clone()
    }

    pub(crate) fn stats_mut(&self) -> MutexGuard<'_, WebhookStats> {
        lock(&self.stats)
    }

    /// Turns a change into events for every matching active subscription and queues them.
    /// Nothing is queued while the app has no target URL.
    pub fn fire(
        &self,
        portal_id: u64,
        app_id: u64,
        change: &Change,
        source: ChangeSource,
    ) -> usize {
        let mut inner = lock(&self.inner);
        if inner.settings.is_none() {
            return 0;
        }
        let (object, id, suffix, property) = match change {
            Change::Created { object, id } => (*object, *id, "creation", None),
            Change::Deleted { object, id } => (*object, *id, "deletion", None),
            Change::PrivacyDeleted { id } => (ObjectType::Contacts, *id, "privacyDeletion", None),
            Change::PropertyChanged {
                object,
                id,
                name,
                value,
            } => (*object, *id, "propertyChange", Some((name, value))),
        };
        let event_type = format!("{}.{}", object.singular(), suffix);
        let matching: Vec<u64> = inner
            .subscriptions
            .iter()
            .filter(|s| s.active && s.event_type == event_type)
            .filter(|s| {
                property.is_none()
                    || s.property_name.as_deref() == property.map(|(n, _)| n.as_str())
            })
            .filter_map(|s| s.id.parse().ok())
            .collect();
        let occurred_at = now_ms();
        for subscription_id in &matching {
            let event_id = inner.next_event;
            inner.next_event += 1;
            let mut body = json!({
                "eventId": event_id,
                "subscriptionId": subscription_id,
                "portalId": portal_id,
                "appId": app_id,
                "occurredAt": occurred_at,
                "subscriptionType": event_type,
                "attemptNumber": 0,
                "objectId": id,
                "changeSource": source.as_str(),
            });
            match (suffix, property) {
                ("creation", _) => body["changeFlag"] = json!("NEW"),
                ("deletion" | "privacyDeletion", _) => body["changeFlag"] = json!("DELETED"),
                (_, Some((name, value))) => {
                    body["propertyName"] = json!(name);
                    body["propertyValue"] = json!(value);
                }
                _ => {}
            }
            if source == ChangeSource::Integration {
                body["sourceId"] = json!(app_id.to_string());
            }
            // The dispatcher only stops at shutdown; events after that are moot.
            let _ = self.queue.send(Event { portal_id, body });
        }
        lock(&self.stats).events_fired += matching.len() as u64;
        matching.len()
    }
}
