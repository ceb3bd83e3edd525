//! The dispatcher: batches queued events per portal (≤ 100), delivers them signed with at most
//! N requests in flight per portal, and retries failures with jittered, scalable delays.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use rand::Rng;
use rand::seq::SliceRandom;
use serde_json::Value;
use tokio::sync::{Semaphore, mpsc, watch};
use tokio::task::JoinSet;

use super::{Event, WebhookHub, signature};
use crate::tokens::now_ms;

/// HubSpot's cap on events per request.
pub const MAX_BATCH: usize = 100;
/// HubSpot's cap on concurrent requests per account.
pub const MAX_CONCURRENCY: u32 = 10;

/// Runs until `shutdown` flips; in-flight deliveries are aborted then.
pub async fn run_dispatcher(
    hub: Arc<WebhookHub>,
    secret: String,
    mut events: mpsc::UnboundedReceiver<Event>,
    mut shutdown: watch::Receiver<bool>,
) {
    let client = match reqwest::Client::builder().build() {
        Ok(client) => client,
        Err(error) => {
            tracing::error!(%error, "webhook HTTP client could not be built; webhooks disabled");
            return;
        }
    };
    let mut in_flight = JoinSet::new();
    let mut permits: HashMap<u64, Arc<Semaphore>> = HashMap::new();
    loop {
        let first = tokio::select! {
            event = events.recv() => match event { Some(event) => event, None => break },
            _ = shutdown.changed() => break,
        };
        let knobs = hub.knobs();
        let mut pending = vec![first];
        let deadline = tokio::time::sleep(knobs.batch_window);
        tokio::pin!(deadline);
        loop {
            tokio::select! {
                event = events.recv() => match event { Some(event) => pending.push(event), None => break },
                _ = &mut deadline => break,
            }
        }
        let Some(settings) = hub.settings() else {
            continue;
        };
        let concurrency = settings
            .throttling
            .max_concurrent_requests
            .clamp(1, MAX_CONCURRENCY) as usize;
        let mut by_portal: HashMap<u64, Vec<Value>> = HashMap::new();
        for event in pending {
            by_portal
                .entry(event.portal_id)
                .or_default()
                .push(event.body);
        }
        for (portal_id, mut bodies) in by_portal {
            if knobs.reorder {
                bodies.shuffle(&mut rand::rng());
            }
            let semaphore = permits
                .entry(portal_id)
                .or_insert_with(|| Arc::new(Semaphore::new(concurrency)))
                .clone();
            for chunk in bodies.chunks(MAX_BATCH) {
                let copies = if rand::rng().random::<f64>() < knobs.duplicate_rate {
                    2
                } else {
                    1
                };
                if copies == 2 {
                    hub.stats_mut().duplicates_sent += 1;
                }
                for _ in 0..copies {
                    let job = Delivery {
                        hub: hub.clone(),
                        client: client.clone(),
                        secret: secret.clone(),
                        target: settings.target_url.clone(),
                        events: chunk.to_vec(),
                        semaphore: semaphore.clone(),
                        knobs: knobs.clone(),
                    };
                    in_flight.spawn(job.run());
                }
            }
        }
        // Reap finished deliveries so the set does not grow without bound.
        while in_flight.try_join_next().is_some() {}
    }
    in_flight.abort_all();
}

struct Delivery {
    hub: Arc<WebhookHub>,
    client: reqwest::Client,
    secret: String,
    target: String,
    events: Vec<Value>,
    semaphore: Arc<Semaphore>,
    knobs: crate::config::WebhookKnobs,
}

impl Delivery {
    async fn run(mut self) {
        for attempt in 0..=self.knobs.max_retries {
            for event in &mut self.events {
                event["attemptNumber"] = Value::from(attempt);
            }
            let delivered = {
                let Ok(_permit) = self.semaphore.acquire().await else {
                    return;
                };
                self.attempt().await
            };
            if delivered {
                let mut stats = self.hub.stats_mut();
                stats.deliveries += 1;
                stats.events_delivered += self.events.len() as u64;
                return;
            }
            self.hub.stats_mut().failures += 1;
            if attempt < self.knobs.max_retries {
                tokio::time::sleep(retry_delay(&self.knobs, attempt)).await;
            }
        }
        self.hub.stats_mut().given_up += 1;
    }

    async fn attempt(&self) -> bool {
        let body = match serde_json::to_vec(&self.events) {
            Ok(body) => body,
            Err(_) => return false,
        };
        let timestamp = now_ms();
        let request = self
            .client
            .post(&self.target)
            .timeout(self.knobs.timeout)
            .header("Content-Type", "application/json")
            .header("X-HubSpot-Signature", signature::v1(&self.secret, &body))
            .header("X-HubSpot-Signature-Version", "v1")
            .header(
                "X-HubSpot-Signature-v3",
                signature::v3(&self.secret, "POST", &self.target, &body, timestamp),
            )
            .header("X-HubSpot-Request-Timestamp", timestamp.to_string())
            .header(
                "User-Agent",
                "HubSpot Connect 2.0 (http://dev.hubspot.com/) (hubspot-sim)",
            )
            .body(body);
        match request.send().await {
            Ok(response) => response.status().is_success(),
            Err(_) => false,
        }
    }
}

/// Exponential from `retry_base_delay`, jittered ±50%, capped at 6 h, then scaled.
fn retry_delay(knobs: &crate::config::WebhookKnobs, attempt: u32) -> Duration {
    let base = knobs.retry_base_delay.as_secs_f64() * 2f64.powi(attempt.min(20) as i32);
    let capped = base.min(6.0 * 3600.0);
    let jitter = rand::rng().random_range(0.5..1.5);
    Duration::from_secs_f64((capped * jitter * knobs.retry_delay_scale).max(0.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_delays_grow_and_scale() {
        let knobs = crate::config::WebhookKnobs {
            retry_base_delay: Duration::from_secs(60),
            retry_delay_scale: 0.001,
            ..Default::default()
        };
        let first = retry_delay(&knobs, 0);
        let fifth = retry_delay(&knobs, 4);
        assert!(
            first >= Duration::from_millis(30) && first <= Duration::from_millis(90),
            "{first:?}"
        );
        assert!(fifth >= Duration::from_millis(480), "{fifth:?}");
    }
}
