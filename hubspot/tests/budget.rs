//! The shared rate budget against a real Redis: atomic GCRA across instances, the realtime
//! reserve, 429 pauses, and two clients together under HubSpot's 110 per 10 s at the simulator.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use common::*;
use futures::StreamExt;
use hubspot::ObjectType;
use hubspot::budget::{BudgetPolicy, Lane, LimitKind, RateBudget, RedisGcra};
use hubspot::crm::ListRequest;
use hubspot::oauth::InMemoryTokenStore;

fn policy() -> BudgetPolicy {
    BudgetPolicy::default()
}

#[tokio::test]
async fn unreachable_redis_is_a_clear_error() {
    let err = RedisGcra::connect("redis://127.0.0.1:1", "x:")
        .await
        .expect_err("nothing listens on port 1");
    assert!(!err.to_string().is_empty());
}

#[tokio::test]
async fn bulk_cannot_take_the_realtime_reserve() {
    let gcra = RedisGcra::new(redis().await, unique_prefix());
    let p = policy();
    let mut bulk_admitted = 0;
    while gcra
        .try_take(&p, 7, LimitKind::Api, Lane::Bulk)
        .await
        .unwrap()
        .is_none()
    {
        bulk_admitted += 1;
        assert!(bulk_admitted < 100, "bulk never refused");
    }
    assert_eq!(bulk_admitted, p.bulk_burst);
    for _ in 0..(p.realtime_burst - p.bulk_burst) {
        assert_eq!(
            gcra.try_take(&p, 7, LimitKind::Api, Lane::Realtime)
                .await
                .unwrap(),
            None,
            "realtime uses its reserve"
        );
    }
    let wait = gcra
        .try_take(&p, 7, LimitKind::Api, Lane::Realtime)
        .await
        .unwrap();
    assert!(wait.is_some(), "the reserve is finite");
    // Another portal is untouched.
    assert_eq!(
        gcra.try_take(&p, 8, LimitKind::Api, Lane::Bulk)
            .await
            .unwrap(),
        None
    );
}

#[tokio::test]
async fn penalize_pauses_every_lane_in_every_instance() {
    let prefix = unique_prefix();
    let a = RedisGcra::new(redis().await, prefix.clone());
    let b = RedisGcra::new(redis().await, prefix);
    let p = policy();
    a.penalize(&p, 9, LimitKind::Api, Duration::from_secs(3))
        .await
        .unwrap();
    for lane in [Lane::Realtime, Lane::Bulk] {
        let wait = b
            .try_take(&p, 9, LimitKind::Api, lane)
            .await
            .unwrap()
            .expect("paused");
        assert!(
            wait > Duration::from_millis(2_500) && wait <= Duration::from_millis(3_500),
            "{wait:?}"
        );
    }
    // Search has its own budget.
    assert_eq!(
        b.try_take(&p, 9, LimitKind::Search, Lane::Bulk)
            .await
            .unwrap(),
        None
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_budget_instances_share_one_rate() {
    let prefix = unique_prefix();
    // Fast policy so the property shows in ~2 s: 50 per second sustained, burst 5.
    let p = BudgetPolicy {
        requests_per_window: 50,
        window: Duration::from_secs(1),
        realtime_burst: 5,
        bulk_burst: 5,
        search_per_second: 4,
    };
    let budgets = [
        RateBudget::shared(p, RedisGcra::new(redis().await, prefix.clone())).unwrap(),
        RateBudget::shared(p, RedisGcra::new(redis().await, prefix.clone())).unwrap(),
    ];
    let admitted = Arc::new(AtomicU64::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let mut tasks = Vec::new();
    for i in 0..8 {
        let budget = budgets[i % 2].clone();
        let (admitted, stop) = (admitted.clone(), stop.clone());
        tasks.push(tokio::spawn(async move {
            while !stop.load(Ordering::SeqCst) {
                budget.acquire(1, LimitKind::Api, Lane::Bulk).await.unwrap();
                if !stop.load(Ordering::SeqCst) {
                    admitted.fetch_add(1, Ordering::SeqCst);
                }
            }
        }));
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    stop.store(true, Ordering::SeqCst);
    for t in tasks {
        t.await.unwrap();
    }
    let n = admitted.load(Ordering::SeqCst);
    // At most burst + 2 s × 50/s (+1 for the boundary), and the budget is actually used.
    assert!(n <= 5 + 100 + 1, "admitted {n}");
    assert!(n >= 90, "admitted only {n}");
}

/// The acceptance test: two independent clients sharing Redis hammer one portal and
/// the simulator (which enforces 110 per rolling 10 s) never sees more than 110 in a window.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_clients_sharing_redis_stay_under_110_per_10s() {
    let sim = start_sim(5_000, |_| {}).await;
    let prefix = unique_prefix();
    let store = Arc::new(InMemoryTokenStore::new());
    let a = shared_client(&sim, BudgetPolicy::default(), store.clone(), &prefix).await;
    let b = shared_client(&sim, BudgetPolicy::default(), store.clone(), &prefix).await;
    let portal = connect(&a).await.unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let pages = Arc::new(AtomicU64::new(0));
    let mut tasks = Vec::new();
    for i in 0..6 {
        let client = if i % 2 == 0 { a.clone() } else { b.clone() };
        let lane = if i == 5 { Lane::Realtime } else { Lane::Bulk };
        let (stop, pages) = (stop.clone(), pages.clone());
        tasks.push(tokio::spawn(async move {
            let portal_client = client.portal(portal, lane);
            while !stop.load(Ordering::SeqCst) {
                let mut stream = Box::pin(
                    portal_client.list_pages(ObjectType::Contacts, ListRequest::default()),
                );
                while let Some(page) = stream.next().await {
                    page.expect("page");
                    pages.fetch_add(1, Ordering::SeqCst);
                    if stop.load(Ordering::SeqCst) {
                        break;
                    }
                }
            }
        }));
    }
    tokio::time::sleep(Duration::from_secs(12)).await;
    stop.store(true, Ordering::SeqCst);
    for t in tasks {
        t.await.unwrap();
    }
    let stats = sim.stats();
    let portal_stats = &stats.portals[&portal];
    assert_eq!(
        portal_stats.rate_limited, 0,
        "no 429s: {:?}",
        portal_stats.responses_by_status
    );
    assert!(
        portal_stats.peak_window_requests <= 110,
        "peak {}",
        portal_stats.peak_window_requests
    );
    assert!(
        portal_stats.peak_window_requests >= 95,
        "budget used: peak {}",
        portal_stats.peak_window_requests
    );
    assert!(pages.load(Ordering::SeqCst) >= 100);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn realtime_goes_ahead_of_saturating_bulk_work() {
    let prefix = unique_prefix();
    let p = BudgetPolicy {
        requests_per_window: 20,
        window: Duration::from_secs(1),
        realtime_burst: 6,
        bulk_burst: 2,
        search_per_second: 4,
    };
    let bulk_budget = RateBudget::shared(p, RedisGcra::new(redis().await, prefix.clone())).unwrap();
    let realtime_budget = RateBudget::shared(p, RedisGcra::new(redis().await, prefix)).unwrap();
    let bulk_admitted = Arc::new(AtomicU64::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let mut tasks = Vec::new();
    for _ in 0..6 {
        let (budget, admitted, stop) = (bulk_budget.clone(), bulk_admitted.clone(), stop.clone());
        tasks.push(tokio::spawn(async move {
            while !stop.load(Ordering::SeqCst) {
                budget.acquire(3, LimitKind::Api, Lane::Bulk).await.unwrap();
                admitted.fetch_add(1, Ordering::SeqCst);
            }
        }));
    }
    tokio::time::sleep(Duration::from_millis(700)).await;
    for _ in 0..3 {
        let before = bulk_admitted.load(Ordering::SeqCst);
        realtime_budget
            .acquire(3, LimitKind::Api, Lane::Realtime)
            .await
            .unwrap();
        let overtaken_by = bulk_admitted.load(Ordering::SeqCst) - before;
        assert!(
            overtaken_by <= 1,
            "realtime waited behind {overtaken_by} bulk requests"
        );
        tokio::time::sleep(Duration::from_millis(150)).await;
    }
    stop.store(true, Ordering::SeqCst);
    for t in tasks {
        t.await.unwrap();
    }
    assert!(
        bulk_admitted.load(Ordering::SeqCst) >= 10,
        "bulk was saturating the budget"
    );
}
