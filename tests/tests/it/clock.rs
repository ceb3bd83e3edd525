//! The nightly clock fires once per portal and tick, however many clocks race for it.

use chrono::{TimeZone, Utc};
use conturs_tests::{Backend, TestDatabase, TestRedis};
use entity::{JobType, PortalStatus, clock_ticks, job_runs};
use jobs::clock::{Clock, DEFAULT_NIGHTLY_SCHEDULE};
use jobs::{Ledger, Queue, QueueBackend, QueueSettings};
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};

async fn add_portal(db: &TestDatabase, id: i64, status: PortalStatus) {
    conturs_tests::fixtures::insert_portal(&db.conn, id, status)
        .await
        .expect("portal");
}

async fn fires_once_per_tick(backend: Backend) {
    let db = TestDatabase::migrated(backend).await.expect("database");
    let redis = TestRedis::new();
    add_portal(&db, 1, PortalStatus::Ready).await;
    add_portal(&db, 2, PortalStatus::Syncing).await;
    add_portal(&db, 3, PortalStatus::Disconnected).await;
    let queue_backend = QueueBackend::redis(&redis.url).await.expect("redis");
    let settings = QueueSettings {
        namespace: redis.namespace.clone(),
        ..QueueSettings::default()
    };
    let clocks: Vec<Clock> = (0..4)
        .map(|_| {
            let queue = Queue::new(
                queue_backend.clone(),
                settings.clone(),
                Ledger::new(db.conn.clone()),
            );
            Clock::new(queue, DEFAULT_NIGHTLY_SCHEDULE).expect("schedule")
        })
        .collect();

    let midnight = Utc
        .with_ymd_and_hms(2026, 11, 28, 0, 0, 0)
        .single()
        .expect("time");
    assert_eq!(
        clocks[0].next_tick(midnight - chrono::Duration::hours(3)),
        Some(midnight)
    );
    assert_eq!(
        clocks[0].next_tick(midnight),
        Some(midnight + chrono::Duration::days(1))
    );

    // Four clocks fire the same tick at once: each live portal gets exactly one run.
    let fired = futures::future::join_all(clocks.iter().map(|c| c.fire(midnight))).await;
    let total: usize = fired.into_iter().map(|r| r.expect("fire")).sum();
    assert_eq!(total, 2, "one firing per live portal");
    let runs = job_runs::Entity::find()
        .filter(job_runs::Column::JobType.eq(JobType::NightlyResync))
        .count(&db.conn)
        .await
        .expect("count");
    assert_eq!(runs, 2);
    assert_eq!(
        clock_ticks::Entity::find()
            .count(&db.conn)
            .await
            .expect("count"),
        2
    );

    // Firing the same tick again (a restarted clock) does nothing; the next tick fires.
    assert_eq!(clocks[1].fire(midnight).await.expect("refire"), 0);
    let next = midnight + chrono::Duration::days(1);
    assert_eq!(clocks[2].fire(next).await.expect("next tick"), 2);
}

#[tokio::test]
async fn fires_once_per_tick_on_sqlite() {
    fires_once_per_tick(Backend::Sqlite).await;
}

#[tokio::test]
async fn fires_once_per_tick_on_postgres() {
    fires_once_per_tick(Backend::Postgres).await;
}

#[test]
fn a_bad_schedule_is_a_clear_error() {
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let err = runtime.block_on(async {
        let db = TestDatabase::migrated(Backend::Sqlite)
            .await
            .expect("database");
        let backend = QueueBackend::sqlite(&db.conn).await.expect("queue");
        let queue = Queue::new(
            backend,
            QueueSettings::default(),
            Ledger::new(db.conn.clone()),
        );
        Clock::new(queue, "every night please").expect_err("must reject")
    });
    assert!(err.to_string().contains("every night please"), "{err}");
}
