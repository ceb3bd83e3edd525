use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode};
use hubspot_sim::ObjectType;
use hubspot_sim::webhooks::signature;
use serde_json::Value;

use crate::helpers::{CLIENT_SECRET, spawn_with};

/// A local webhook receiver that records deliveries and fails the first `fail_first`.
struct Receiver {
    url: String,
    received: Arc<Mutex<Vec<(HeaderMap, Bytes)>>>,
    attempts: Arc<AtomicUsize>,
    peak_in_flight: Arc<AtomicUsize>,
}

async fn receiver(fail_first: usize) -> Receiver {
    slow_receiver(fail_first, Duration::ZERO).await
}

/// Like `receiver`, but each request takes `delay`; tracks the most requests in flight.
async fn slow_receiver(fail_first: usize, delay: Duration) -> Receiver {
    let received: Arc<Mutex<Vec<(HeaderMap, Bytes)>>> = Arc::default();
    let attempts = Arc::new(AtomicUsize::new(0));
    let in_flight = Arc::new(AtomicUsize::new(0));
    let peak_in_flight = Arc::new(AtomicUsize::new(0));
    let (store, count, current, peak) = (
        received.clone(),
        attempts.clone(),
        in_flight.clone(),
        peak_in_flight.clone(),
    );
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::post(move |headers: HeaderMap, body: Bytes| {
            let (store, count, current, peak) =
                (store.clone(), count.clone(), current.clone(), peak.clone());
            async move {
                let now = current.fetch_add(1, Ordering::SeqCst) + 1;
                peak.fetch_max(now, Ordering::SeqCst);
                tokio::time::sleep(delay).await;
                current.fetch_sub(1, Ordering::SeqCst);
                if count.fetch_add(1, Ordering::SeqCst) < fail_first {
                    return StatusCode::INTERNAL_SERVER_ERROR;
                }
                store.lock().expect("lock").push((headers, body));
                StatusCode::OK
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let url = format!("http://{}/hook", listener.local_addr().expect("addr"));
    tokio::spawn(async move { axum::serve(listener, app).await });
    Receiver {
        url,
        received,
        attempts,
        peak_in_flight,
    }
}

/// Webhook stats once `done` holds (the receiver sees a batch before the sender counts it).
async fn settled(
    t: &crate::helpers::TestSim,
    done: impl Fn(&hubspot_sim::stats::WebhookStats) -> bool,
) -> hubspot_sim::stats::WebhookStats {
    for _ in 0..200 {
        let stats = t.sim.stats().webhooks;
        if done(&stats) {
            return stats;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    t.sim.stats().webhooks
}

async fn wait_for(receiver: &Receiver, events: usize) -> Vec<Value> {
    for _ in 0..200 {
        let all: Vec<Value> = receiver
            .received
            .lock()
            .expect("lock")
            .iter()
            .flat_map(|(_, body)| serde_json::from_slice::<Vec<Value>>(body).expect("JSON array"))
            .collect();
        if all.len() >= events {
            return all;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("webhooks did not arrive");
}

#[tokio::test]
async fn signed_batches_of_at_most_100() {
    let hook = receiver(0).await;
    let t = spawn_with(5, |_| {}).await;
    t.sim.subscribe_webhooks(
        &hook.url,
        &[
            ("contact.creation", None),
            ("contact.propertyChange", Some("jobtitle")),
        ],
    );
    for i in 0..150 {
        t.sim
            .create_record(
                t.portal,
                ObjectType::Contacts,
                &[("email", &format!("n{i}@x.io"))],
                None,
            )
            .expect("created");
    }
    let changed = t
        .sim
        .update_record(
            t.portal,
            ObjectType::Contacts,
            1_000_001,
            &[("jobtitle", "CTO")],
        )
        .expect("updated");
    assert_eq!(changed, 1);
    let events = wait_for(&hook, 151).await;
    assert_eq!(events.len(), 151);
    let change = events
        .iter()
        .find(|e| e["subscriptionType"] == "contact.propertyChange")
        .expect("change event");
    assert_eq!(change["propertyName"], "jobtitle");
    assert_eq!(change["propertyValue"], "CTO");
    assert_eq!(change["objectId"], 1_000_001);
    assert_eq!(change["portalId"], t.portal);
    assert_eq!(change["attemptNumber"], 0);
    let creation = events
        .iter()
        .find(|e| e["subscriptionType"] == "contact.creation")
        .expect("creation");
    assert_eq!(creation["changeFlag"], "NEW");

    let deliveries = hook.received.lock().expect("lock").clone();
    assert!(
        deliveries.len() >= 2,
        "150+ events need at least two requests"
    );
    for (headers, body) in &deliveries {
        let batch: Vec<Value> = serde_json::from_slice(body).expect("array");
        assert!(!batch.is_empty() && batch.len() <= 100);
        let timestamp: i64 = headers["x-hubspot-request-timestamp"]
            .to_str()
            .expect("ascii")
            .parse()
            .expect("ms");
        let v3 = signature::v3(CLIENT_SECRET, "POST", &hook.url, body, timestamp);
        assert_eq!(headers["x-hubspot-signature-v3"], v3.as_str());
        assert_eq!(
            headers["x-hubspot-signature"],
            signature::v1(CLIENT_SECRET, body).as_str()
        );
        assert_eq!(headers["x-hubspot-signature-version"], "v1");
    }
    let stats = settled(&t, |s| s.events_delivered >= 151).await;
    assert_eq!(stats.events_delivered, 151);
    assert_eq!(stats.failures, 0);
}

#[tokio::test]
async fn failed_deliveries_are_retried_with_attempt_numbers() {
    let hook = receiver(2).await;
    let t = spawn_with(5, |c| {
        c.webhooks.retry_delay_scale = 0.0005;
    })
    .await;
    t.sim
        .subscribe_webhooks(&hook.url, &[("company.deletion", None)]);
    t.sim
        .state()
        .admin_delete(t.portal, ObjectType::Companies, 5_000_000_001)
        .expect("deleted");
    let events = wait_for(&hook, 1).await;
    assert_eq!(events[0]["subscriptionType"], "company.deletion");
    assert_eq!(events[0]["attemptNumber"], 2, "third attempt succeeded");
    assert_eq!(hook.attempts.load(Ordering::SeqCst), 3);
    let stats = settled(&t, |s| s.deliveries >= 1).await;
    assert_eq!((stats.failures, stats.deliveries), (2, 1));
}

#[tokio::test]
async fn gives_up_after_the_last_retry_and_can_duplicate() {
    let hook = receiver(usize::MAX).await;
    let t = spawn_with(5, |c| {
        c.webhooks.retry_delay_scale = 0.0001;
        c.webhooks.max_retries = 3;
    })
    .await;
    t.sim
        .subscribe_webhooks(&hook.url, &[("deal.creation", None)]);
    t.sim
        .create_record(t.portal, ObjectType::Deals, &[("dealname", "x")], None)
        .expect("created");
    for _ in 0..200 {
        if t.sim.stats().webhooks.given_up == 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    assert_eq!(t.sim.stats().webhooks.given_up, 1);
    assert_eq!(
        hook.attempts.load(Ordering::SeqCst),
        4,
        "one attempt plus three retries"
    );

    let dup_hook = receiver(0).await;
    let mut knobs = t.sim.state().webhooks.knobs();
    knobs.duplicate_rate = 1.0;
    t.sim.state().webhooks.set_knobs(knobs);
    t.sim.subscribe_webhooks(&dup_hook.url, &[]);
    t.sim
        .create_record(t.portal, ObjectType::Deals, &[("dealname", "y")], None)
        .expect("created");
    let events = wait_for(&dup_hook, 2).await;
    assert_eq!(
        events[0]["eventId"], events[1]["eventId"],
        "the same event twice"
    );
}

#[tokio::test]
async fn settings_and_subscriptions_api() {
    let t = spawn_with(5, |_| {}).await;
    let base = format!("/webhooks/v3/{}", 1_000_001);
    let key = "hapikey=dev-api-key";
    let put = t
        .http
        .put(t.url(&format!("{base}/settings?{key}")))
        .json(&serde_json::json!({"targetUrl": "https://example.com/hook", "throttling": {"maxConcurrentRequests": 10, "period": "SECONDLY"}}))
        .send()
        .await
        .expect("sent");
    assert_eq!(put.status().as_u16(), 200);
    let created = t
        .http
        .post(t.url(&format!("{base}/subscriptions?{key}")))
        .json(
            &serde_json::json!({"eventType": "contact.propertyChange", "propertyName": "jobtitle"}),
        )
        .send()
        .await
        .expect("sent");
    assert_eq!(created.status().as_u16(), 201);
    let body: Value = created.json().await.expect("json");
    assert_eq!(
        body["active"], false,
        "new subscriptions default to inactive"
    );
    let unauthorized = t
        .http
        .get(t.url(&format!("{base}/subscriptions")))
        .send()
        .await
        .expect("sent");
    assert_eq!(unauthorized.status().as_u16(), 401);
    let bad = t
        .http
        .post(t.url(&format!("{base}/subscriptions?{key}")))
        .json(&serde_json::json!({"eventType": "contact.propertyChange"}))
        .send()
        .await
        .expect("sent");
    assert_eq!(bad.status().as_u16(), 400);
}

#[tokio::test]
async fn at_most_ten_requests_in_flight_per_portal() {
    let hook = slow_receiver(0, Duration::from_millis(150)).await;
    let t = spawn_with(5, |c| c.webhooks.batch_window = Duration::from_millis(300)).await;
    t.sim
        .subscribe_webhooks(&hook.url, &[("contact.creation", None)]);
    for i in 0..1_500 {
        t.sim
            .create_record(
                t.portal,
                ObjectType::Contacts,
                &[("email", &format!("c{i}@x.io"))],
                None,
            )
            .expect("created");
    }
    let events = wait_for(&hook, 1_500).await;
    assert_eq!(events.len(), 1_500);
    let peak = hook.peak_in_flight.load(Ordering::SeqCst);
    assert!(
        (6..=10).contains(&peak),
        "15 batches must run concurrently but never more than 10 at once, saw {peak}"
    );
    assert!(hook.received.lock().expect("lock").len() >= 15);
}

#[tokio::test]
async fn slow_receivers_time_out_and_count_as_failures() {
    let hook = slow_receiver(0, Duration::from_millis(400)).await;
    let t = spawn_with(5, |c| {
        c.webhooks.timeout = Duration::from_millis(100);
        c.webhooks.max_retries = 1;
        c.webhooks.retry_delay_scale = 0.0001;
    })
    .await;
    t.sim
        .subscribe_webhooks(&hook.url, &[("contact.creation", None)]);
    t.sim
        .create_record(
            t.portal,
            ObjectType::Contacts,
            &[("email", "slow@x.io")],
            None,
        )
        .expect("created");
    for _ in 0..100 {
        if t.sim.stats().webhooks.given_up == 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    let stats = t.sim.stats().webhooks;
    assert_eq!(
        (stats.failures, stats.given_up, stats.deliveries),
        (2, 1, 0)
    );
}

#[tokio::test]
async fn reorder_knob_shuffles_events_within_a_batch() {
    let hook = receiver(0).await;
    let t = spawn_with(5, |c| {
        c.webhooks.reorder = true;
        c.webhooks.batch_window = Duration::from_millis(200);
    })
    .await;
    t.sim
        .subscribe_webhooks(&hook.url, &[("contact.creation", None)]);
    for i in 0..60 {
        t.sim
            .create_record(
                t.portal,
                ObjectType::Contacts,
                &[("email", &format!("r{i}@x.io"))],
                None,
            )
            .expect("created");
    }
    let events = wait_for(&hook, 60).await;
    let ids: Vec<u64> = events
        .iter()
        .filter_map(|e| e["eventId"].as_u64())
        .collect();
    let mut sorted = ids.clone();
    sorted.sort_unstable();
    assert_ne!(
        ids, sorted,
        "60 events arriving in creation order after a shuffle is practically impossible"
    );
}

#[tokio::test]
async fn api_writes_fire_events_marked_as_integration() {
    let hook = receiver(0).await;
    let t = spawn_with(5, |_| {}).await;
    t.sim
        .subscribe_webhooks(&hook.url, &[("contact.propertyChange", Some("jobtitle"))]);
    let update = serde_json::json!({"inputs": [{"id": "1000002", "properties": {"jobtitle": "Head of Data"}}]});
    assert_eq!(
        t.post("/crm/v3/objects/contacts/batch/update", &update)
            .await
            .status()
            .as_u16(),
        200
    );
    // Writing the same value again changes nothing and fires nothing.
    assert_eq!(
        t.post("/crm/v3/objects/contacts/batch/update", &update)
            .await
            .status()
            .as_u16(),
        200
    );
    let events = wait_for(&hook, 1).await;
    tokio::time::sleep(Duration::from_millis(150)).await;
    assert_eq!(t.sim.stats().webhooks.events_fired, 1);
    assert_eq!(events[0]["changeSource"], "INTEGRATION");
    assert_eq!(events[0]["sourceId"], "1000001");
    assert_eq!(events[0]["propertyValue"], "Head of Data");
}
