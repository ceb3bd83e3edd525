//! `GET /metrics` and the portal page's model and budget use, on the real app over HTTP; the
//! `hubspot_usage` upsert and compaction on both databases; and HubSpot usage counted by a real
//! worker process (and by the in-process pipeline) arriving in the database, the portal page
//! and `/metrics` with exactly the numbers the simulator saw.

use std::time::Duration;

use chrono::{DateTime, TimeZone, Utc};
use conturs_tests::app::{CLIENT_ID, CLIENT_SECRET};
use conturs_tests::fixtures::{insert_portal, save_sim_tokens};
use conturs_tests::pipeline::{Pipeline, QueueKind};
use conturs_tests::processes::DynoProcess;
use conturs_tests::{
    AppOptions, Backend, TestApp, TestDatabase, TestRedis, spawn_app, spawn_app_with,
};
use entity::{JobStatus, ModelStatus, PortalStatus, hubspot_usage, job_runs, models};
use hubspot::budget::LimitKind;
use hubspot::usage::Outcome;
use hubspot::usage::{UsageCounter, UsageCounts, UsageSample, window_start};
use hubspot::{Lane, ObjectType};
use hubspot_sim::{FaultConfig, SimConfig, Simulator};
use jobs::usage::{UsageTotals, compact_before, flush, totals_by_portal, upsert};
use jobs::{EnqueueOptions, Ledger, Queue, QueueBackend, QueueSettings};
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, Set, sea_query::Expr};
use serde_json::{Value, json};

const WORKER: &str = env!("CARGO_BIN_EXE_conturs-test-worker");

/// The value of one series (`name{labels}` exactly as exposed) in a Prometheus text body.
fn sample(body: &str, series: &str) -> Option<f64> {
    body.lines()
        .filter(|line| !line.starts_with('#'))
        .find_map(|line| {
            let (name, value) = line.rsplit_once(' ')?;
            (name == series).then(|| value.parse().ok()).flatten()
        })
}

async fn scrape(app: &TestApp) -> String {
    let response = app.admin_get("/metrics").await;
    assert_eq!(response.status(), 200);
    let content_type = response.headers()["content-type"]
        .to_str()
        .expect("ascii")
        .to_owned();
    assert!(
        content_type.starts_with("text/plain; version=0.0.4"),
        "{content_type}"
    );
    response.text().await.expect("body")
}

fn http_series(metric: &str, method: &str, route: &str, status: u16) -> String {
    format!(r#"{metric}{{method="{method}",route="{route}",status="{status}"}}"#)
}

#[tokio::test]
async fn metrics_need_the_admin_token_and_label_http_by_route_template() {
    let app = spawn_app(Backend::Sqlite).await;
    let anonymous = app.get("/metrics").await;
    assert_eq!(anonymous.status(), 401);
    for id in [123, 123, 456] {
        assert_eq!(
            app.admin_get(&format!("/api/portals/{id}")).await.status(),
            404
        );
    }
    assert_eq!(app.get("/healthz").await.status(), 200);
    assert_eq!(app.get("/no-such-page").await.status(), 404);

    let body = scrape(&app).await;
    let portals_404 = http_series(
        "conturs_http_requests_total",
        "GET",
        "/api/portals/{id}",
        404,
    );
    assert_eq!(sample(&body, &portals_404), Some(3.0), "{body}");
    let latency = http_series(
        "conturs_http_request_duration_seconds_count",
        "GET",
        "/api/portals/{id}",
        404,
    );
    assert_eq!(sample(&body, &latency), Some(3.0));
    let healthz = http_series("conturs_http_requests_total", "GET", "/healthz", 200);
    assert_eq!(sample(&body, &healthz), Some(1.0));
    let refused = http_series("conturs_http_requests_total", "GET", "/metrics", 401);
    assert_eq!(sample(&body, &refused), Some(1.0));
    let unmatched = http_series("conturs_http_requests_total", "GET", "unmatched", 404);
    assert_eq!(sample(&body, &unmatched), Some(1.0));
    assert!(
        !body.contains("/api/portals/123") && !body.contains("no-such-page"),
        "raw paths never become labels"
    );
    assert!(body.contains("# TYPE conturs_http_request_duration_seconds histogram"));

    // The scrape itself is counted once it has been answered.
    let again = scrape(&app).await;
    let scraped = http_series("conturs_http_requests_total", "GET", "/metrics", 200);
    assert_eq!(sample(&again, &scraped), Some(1.0));
}

async fn job_metrics_come_from_the_ledger(backend: Backend) {
    let app = spawn_app(backend).await;
    insert_portal(&app.db.conn, 42, PortalStatus::Ready)
        .await
        .expect("portal");
    let mut runs = Vec::new();
    for _ in 0..3 {
        let run = app
            .queue
            .enqueue(
                |run_id| jobs::payload::InitialSync {
                    run_id,
                    portal_id: 42,
                },
                EnqueueOptions::default(),
            )
            .await
            .expect("enqueue")
            .run_id;
        runs.push(run);
    }
    // One of them has waited two minutes; nothing runs them (no worker in this test).
    job_runs::Entity::update_many()
        .col_expr(
            job_runs::Column::CreatedAt,
            Expr::value(Utc::now() - chrono::Duration::seconds(120)),
        )
        .filter(job_runs::Column::Id.eq(runs[0]))
        .exec(&app.db.conn)
        .await
        .expect("age a run");
    job_runs::Entity::update_many()
        .col_expr(job_runs::Column::Status, Expr::value(JobStatus::Dead))
        .filter(job_runs::Column::Id.eq(runs[2]))
        .exec(&app.db.conn)
        .await
        .expect("kill a run");

    let body = scrape(&app).await;
    let runs_series = |status: &str| {
        format!(r#"conturs_job_runs{{type="initial_sync",lane="bulk",status="{status}"}}"#)
    };
    assert_eq!(
        sample(&body, &runs_series("queued")),
        Some(2.0),
        "{backend:?}: {body}"
    );
    assert_eq!(sample(&body, &runs_series("dead")), Some(1.0));
    assert_eq!(
        sample(&body, &runs_series("succeeded")),
        Some(0.0),
        "empty statuses read 0"
    );
    let bulk_age = sample(
        &body,
        r#"conturs_jobs_oldest_queued_age_seconds{lane="bulk"}"#,
    )
    .expect("bulk age");
    assert!(
        (120.0..180.0).contains(&bulk_age),
        "{backend:?}: {bulk_age}"
    );
    assert_eq!(
        sample(
            &body,
            r#"conturs_jobs_oldest_queued_age_seconds{lane="realtime"}"#
        ),
        Some(0.0)
    );
}

#[tokio::test]
async fn job_metrics_come_from_the_ledger_on_sqlite() {
    job_metrics_come_from_the_ledger(Backend::Sqlite).await;
}

#[tokio::test]
async fn job_metrics_come_from_the_ledger_on_postgres() {
    job_metrics_come_from_the_ledger(Backend::Postgres).await;
}

fn at(text: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(text)
        .expect("time")
        .with_timezone(&Utc)
}

fn usage(
    portal_id: i64,
    window: &str,
    requests: u64,
    search: u64,
    r429: u64,
    r5xx: u64,
) -> UsageSample {
    UsageSample {
        portal_id: portal_id as u64,
        window_start: at(window).timestamp(),
        counts: UsageCounts {
            requests,
            search_requests: search,
            responses_429: r429,
            responses_5xx: r5xx,
        },
    }
}

async fn insert_model(app: &TestApp, portal_id: i64, version: i32, status: ModelStatus, auc: f64) {
    models::ActiveModel {
        portal_id: Set(portal_id),
        version: Set(version),
        status: Set(status),
        algorithm: Set("logistic_regression".to_owned()),
        positives: Set(40 + version),
        negatives: Set(12),
        unlabeled: Set(900),
        metrics: Set(json!({"cv_auc": auc, "top_decile_lift": 3.1})),
        artefact: Set(json!({})),
        schema_version: Set(1),
        trained_at: Set(Utc
            .with_ymd_and_hms(2026, 11, 20 + version as u32, 0, 0, 0)
            .unwrap()),
        ..Default::default()
    }
    .insert(&app.db.conn)
    .await
    .expect("model");
}

async fn portal_detail_shows_the_latest_model_and_budget_use(backend: Backend) {
    let now = at("2026-11-27T12:00:05Z");
    let app = spawn_app_with(
        AppOptions::new(backend).configure(move |c| c.clock = api::Clock::fixed(now)),
    )
    .await;
    let (portal, other) = (501, 502);
    for id in [portal, other] {
        insert_portal(&app.db.conn, id, PortalStatus::Ready)
            .await
            .expect("portal");
    }
    insert_model(&app, portal, 1, ModelStatus::Retired, 0.70).await;
    insert_model(&app, portal, 2, ModelStatus::Active, 0.81).await;
    upsert(
        &app.db.conn,
        &[
            // The last complete window: 9 requests, 2 of them searches.
            usage(portal, "2026-11-27T11:59:50Z", 9, 2, 1, 0),
            // The window still filling up.
            usage(portal, "2026-11-27T12:00:00Z", 3, 0, 0, 0),
            // The busiest window of the hour.
            usage(portal, "2026-11-27T11:30:00Z", 60, 0, 4, 2),
            // Three hours ago: in the day, not in the hour.
            usage(portal, "2026-11-27T09:00:00Z", 500, 0, 10, 0),
            // Two days ago: only in the all-time totals.
            usage(portal, "2026-11-25T12:00:00Z", 1000, 0, 0, 0),
            usage(other, "2026-11-27T11:59:50Z", 77, 0, 0, 0),
        ],
    )
    .await
    .expect("usage");

    let detail: Value = app
        .admin_get(&format!("/api/portals/{portal}"))
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(detail["portal"]["id"], portal);
    let model = &detail["model"];
    assert_eq!(model["version"], 2, "{detail}");
    assert_eq!(model["status"], "active");
    assert_eq!(model["algorithm"], "logistic_regression");
    assert_eq!(model["positives"], 42);
    assert_eq!(model["negatives"], 12);
    assert_eq!(model["unlabeled"], 900);
    assert_eq!(model["metrics"]["cv_auc"], 0.81);
    assert!(
        model["trained_at"]
            .as_str()
            .expect("time")
            .starts_with("2026-11-22")
    );
    assert!(
        model.get("artefact").is_none(),
        "the artefact stays out of the page"
    );

    let budget = &detail["budget"];
    assert_eq!(
        budget,
        &json!({
            "window_seconds": 10,
            "limit_per_window": 100,
            "burst_ceiling_per_window": 108,
            "last_window_start": budget["last_window_start"],
            "last_window_requests": 7,
            "peak_window_requests_last_hour": 60,
            "last_hour": {"requests": 72, "responses_429": 5, "responses_5xx": 2},
            "last_day": {"requests": 572, "responses_429": 15, "responses_5xx": 2},
        }),
        "{backend:?}"
    );
    assert_eq!(
        at(budget["last_window_start"].as_str().expect("time")),
        at("2026-11-27T11:59:50Z")
    );

    let other_detail: Value = app
        .admin_get(&format!("/api/portals/{other}"))
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(other_detail["model"], Value::Null, "never trained");
    assert_eq!(other_detail["budget"]["last_window_requests"], 77);
    assert_eq!(other_detail["budget"]["last_day"]["requests"], 77);

    let body = scrape(&app).await;
    let series = |metric: &str, id: i64| format!(r#"{metric}{{portal="{id}"}}"#);
    assert_eq!(
        sample(&body, &series("conturs_hubspot_requests_total", portal)),
        Some(1572.0),
        "{body}"
    );
    assert_eq!(
        sample(&body, &series("conturs_hubspot_rate_limited_total", portal)),
        Some(15.0)
    );
    assert_eq!(
        sample(
            &body,
            &series("conturs_hubspot_server_errors_total", portal)
        ),
        Some(2.0)
    );
    assert_eq!(
        sample(&body, &series("conturs_hubspot_requests_total", other)),
        Some(77.0)
    );
}

#[tokio::test]
async fn portal_detail_shows_the_latest_model_and_budget_use_on_sqlite() {
    portal_detail_shows_the_latest_model_and_budget_use(Backend::Sqlite).await;
}

#[tokio::test]
async fn portal_detail_shows_the_latest_model_and_budget_use_on_postgres() {
    portal_detail_shows_the_latest_model_and_budget_use(Backend::Postgres).await;
}

async fn window_row(db: &TestDatabase, portal_id: i64, start: i64) -> hubspot_usage::Model {
    let start = DateTime::from_timestamp(start, 0).expect("time");
    hubspot_usage::Entity::find_by_id((portal_id, start))
        .one(&db.conn)
        .await
        .expect("read")
        .expect("row exists")
}

/// A queue over `db` (the embedded one on SQLite, a private Redis namespace on Postgres), for
/// the retention pass.
async fn queue_for(db: &TestDatabase, redis: &TestRedis) -> Queue {
    let backend = match db.backend {
        Backend::Sqlite => QueueBackend::sqlite(&db.conn).await.expect("queue"),
        Backend::Postgres => QueueBackend::redis(&redis.url).await.expect("queue"),
    };
    Queue::new(
        backend,
        QueueSettings {
            namespace: redis.namespace.clone(),
            ..QueueSettings::default()
        },
        Ledger::new(db.conn.clone()),
    )
}

async fn usage_rows_add_up_and_compaction_keeps_the_totals(backend: Backend) {
    let db = TestDatabase::migrated(backend).await.expect("database");
    let now = Utc::now().timestamp();
    let window = window_start(now);
    // Two worker processes count the same portal in the same window.
    let (worker_a, worker_b) = (UsageCounter::default(), UsageCounter::default());
    for _ in 0..3 {
        worker_a.record_at(1, window, LimitKind::Api, Outcome::Answered(200));
    }
    worker_a.record_at(1, window + 9, LimitKind::Api, Outcome::Answered(429));
    worker_b.record_at(1, window + 1, LimitKind::Search, Outcome::Answered(200));
    worker_b.record_at(1, window + 2, LimitKind::Api, Outcome::Answered(502));
    worker_b.record_at(2, window, LimitKind::Api, Outcome::NoAnswer);
    assert_eq!(flush(&db.conn, &worker_a).await.expect("flush a"), 1);
    assert_eq!(flush(&db.conn, &worker_b).await.expect("flush b"), 2);
    assert_eq!(flush(&db.conn, &worker_a).await.expect("nothing new"), 0);
    let row = window_row(&db, 1, window).await;
    assert_eq!(
        (
            row.requests,
            row.search_requests,
            row.responses_429,
            row.responses_5xx
        ),
        (6, 1, 1, 1),
        "{backend:?}"
    );
    assert_eq!(window_row(&db, 2, window).await.requests, 1);

    // Eight flushes of the same window at once lose nothing.
    let counters: Vec<UsageCounter> = (0..8)
        .map(|_| {
            let counter = UsageCounter::default();
            counter.record_at(1, window, LimitKind::Api, Outcome::Answered(200));
            counter
        })
        .collect();
    let flushes = counters.iter().map(|counter| flush(&db.conn, counter));
    for flushed in futures::future::join_all(flushes).await {
        assert_eq!(flushed.expect("concurrent flush"), 1, "{backend:?}");
    }
    assert_eq!(window_row(&db, 1, window).await.requests, 14);

    // Windows older than a week are folded into each portal's epoch row by the retention
    // pass; the all-time totals do not move.
    let day = 86_400;
    let old = |days: i64, offset: i64| window_start(now - days * day) + offset;
    upsert(
        &db.conn,
        &[
            UsageSample {
                portal_id: 1,
                window_start: old(8, 0),
                counts: UsageCounts {
                    requests: 100,
                    responses_429: 3,
                    ..UsageCounts::default()
                },
            },
            UsageSample {
                portal_id: 1,
                window_start: old(9, 0),
                counts: UsageCounts {
                    requests: 50,
                    responses_5xx: 2,
                    ..UsageCounts::default()
                },
            },
            UsageSample {
                portal_id: 2,
                window_start: old(10, 0),
                counts: UsageCounts {
                    requests: 7,
                    ..UsageCounts::default()
                },
            },
            // Six days old: kept as it is.
            UsageSample {
                portal_id: 2,
                window_start: old(6, 0),
                counts: UsageCounts {
                    requests: 5,
                    ..UsageCounts::default()
                },
            },
        ],
    )
    .await
    .expect("old windows");
    let before = totals_by_portal(&db.conn).await.expect("totals");
    assert_eq!(
        before,
        vec![
            (
                1,
                UsageTotals {
                    requests: 164,
                    responses_429: 4,
                    responses_5xx: 3
                }
            ),
            (
                2,
                UsageTotals {
                    requests: 13,
                    ..UsageTotals::default()
                }
            ),
        ]
    );
    let redis = TestRedis::new();
    let queue = queue_for(&db, &redis).await;
    let report = jobs::retention::vacuum(&queue, &jobs::retention::RetentionPolicy::default())
        .await
        .expect("retention pass");
    assert_eq!(report.usage_windows_compacted, 3, "{backend:?}");
    assert_eq!(totals_by_portal(&db.conn).await.expect("totals"), before);
    let epoch = window_row(&db, 1, 0).await;
    assert_eq!(
        (epoch.requests, epoch.responses_429, epoch.responses_5xx),
        (150, 3, 2)
    );
    assert_eq!(window_row(&db, 2, 0).await.requests, 7);
    assert_eq!(
        window_row(&db, 2, old(6, 0)).await.requests,
        5,
        "young rows stay"
    );
    let remaining = hubspot_usage::Entity::find()
        .all(&db.conn)
        .await
        .expect("rows");
    assert_eq!(remaining.len(), 5, "two epoch rows, three recent windows");

    // Two workers compacting at once never fold a window twice.
    let more: Vec<UsageSample> = (0..40)
        .map(|i| UsageSample {
            portal_id: 1 + (i % 2),
            window_start: old(8, i as i64 * 10),
            counts: UsageCounts {
                requests: 1,
                ..UsageCounts::default()
            },
        })
        .collect();
    upsert(&db.conn, &more).await.expect("more old windows");
    let cutoff = Utc::now() - chrono::Duration::days(7);
    let (a, b) = tokio::join!(
        compact_before(&db.conn, cutoff),
        compact_before(&db.conn, cutoff)
    );
    assert_eq!(a.expect("a") + b.expect("b"), 40, "{backend:?}");
    let after = totals_by_portal(&db.conn).await.expect("totals");
    assert_eq!(after[0].1.requests, 164 + 20);
    assert_eq!(after[1].1.requests, 13 + 20);
    assert_eq!(window_row(&db, 1, 0).await.requests, 170);
}

#[tokio::test]
async fn usage_rows_add_up_and_compaction_keeps_the_totals_on_sqlite() {
    usage_rows_add_up_and_compaction_keeps_the_totals(Backend::Sqlite).await;
}

#[tokio::test]
async fn usage_rows_add_up_and_compaction_keeps_the_totals_on_postgres() {
    usage_rows_add_up_and_compaction_keeps_the_totals(Backend::Postgres).await;
}

/// Requests the simulator saw for `portal`: (all, 429s, 5xx).
fn sim_counts(sim: &hubspot_sim::RunningSimulator, portal: i64) -> (i64, i64, i64) {
    let stats = sim.stats();
    let Some(seen) = stats.portals.get(&(portal as u64)) else {
        return (0, 0, 0);
    };
    let server_errors: u64 = seen
        .responses_by_status
        .iter()
        .filter(|(status, _)| (500..600).contains(*status))
        .map(|(_, n)| *n)
        .sum();
    (
        seen.requests as i64,
        seen.rate_limited as i64,
        server_errors as i64,
    )
}

/// Waits until the usage table holds exactly what the simulator saw for `portal`.
async fn usage_matches_sim(
    db: &sea_orm::DatabaseConnection,
    sim: &hubspot_sim::RunningSimulator,
    portal: i64,
    timeout: Duration,
) -> UsageTotals {
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        let totals = totals_by_portal(db)
            .await
            .expect("totals")
            .into_iter()
            .find(|(id, _)| *id == portal)
            .map(|(_, t)| t)
            .unwrap_or_default();
        let (requests, r429, r5xx) = sim_counts(sim, portal);
        if (totals.requests, totals.responses_429, totals.responses_5xx) == (requests, r429, r5xx) {
            return totals;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "usage {totals:?} never matched the simulator's {requests} requests, {r429} 429s, {r5xx} 5xx"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// The in-process pipeline (what the pipeline test and benches run) writes its client's usage
/// down in the background, as a worker dyno does.
#[tokio::test]
async fn the_pipeline_harness_flushes_usage_in_the_background() {
    let p = Pipeline::start(Backend::Sqlite, QueueKind::EmbeddedSqlite, 250, 3)
        .await
        .expect("pipeline");
    let contacts: Vec<_> = futures::TryStreamExt::try_collect(
        p.deps
            .hubspot
            .portal(p.portal_id as u64, Lane::Bulk)
            .list_all(ObjectType::Contacts, hubspot::crm::ListRequest::default()),
    )
    .await
    .expect("list");
    assert_eq!(contacts.len(), 250);
    let totals = usage_matches_sim(&p.db.conn, &p.sim, p.portal_id, Duration::from_secs(30)).await;
    assert_eq!(totals.requests, 3, "three pages of 100");
}

/// The worker dyno as a real process syncs a portal through a 429 storm and 5xx faults; what
/// it counted reaches the database, the portal page and `/metrics`, equal to what the
/// simulator saw, and stopping it (SIGTERM) adds nothing twice.
#[tokio::test]
async fn worker_usage_reaches_the_portal_page_and_metrics() {
    let mut config = SimConfig::new(CLIENT_ID, CLIENT_SECRET);
    config.contacts = 400;
    config.seed = 21;
    let sim = Simulator::start(config).await.expect("simulator");
    let app = spawn_app_with(AppOptions::new(Backend::Postgres).hubspot(sim.base_url())).await;
    let portal = sim.portal_id() as i64;
    insert_portal(&app.db.conn, portal, PortalStatus::Connected)
        .await
        .expect("portal");
    save_sim_tokens(&sim, app.state.hubspot.tokens().store().as_ref(), portal)
        .await
        .expect("tokens");
    let mut worker =
        DynoProcess::spawn(std::path::Path::new(WORKER), &app.worker_env()).expect("worker");

    sim.set_faults(
        portal as u64,
        FaultConfig {
            server_error_rate: 0.05,
            ..FaultConfig::default()
        },
    )
    .expect("faults");
    sim.rate_limit_storm(portal as u64, Duration::from_secs(1))
        .expect("storm");
    let created = app
        .admin_post(
            "/api/jobs",
            &json!({"type": "initial_sync", "portal_id": portal}),
        )
        .await;
    assert_eq!(created.status(), 202);

    let deadline = tokio::time::Instant::now() + Duration::from_secs(300);
    let runs = loop {
        let runs = job_runs::Entity::find()
            .filter(job_runs::Column::PortalId.eq(portal))
            .all(&app.db.conn)
            .await
            .expect("runs");
        if runs.len() >= 2 && runs.iter().all(|r| r.status.is_terminal()) {
            break runs;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the sync did not finish: {:?}\nworker log:\n{}",
            runs.iter()
                .map(|r| (r.job_type, r.status, r.last_error.clone()))
                .collect::<Vec<_>>(),
            worker.log()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    for run in &runs {
        assert_eq!(
            run.status,
            JobStatus::Succeeded,
            "{:?}: {:?}",
            run.job_type,
            run.last_error
        );
    }

    let totals = usage_matches_sim(&app.db.conn, &sim, portal, Duration::from_secs(30)).await;
    let (requests, rate_limited, server_errors) = sim_counts(&sim, portal);
    assert!(rate_limited > 0, "the storm answered 429");
    assert!(
        requests > 10,
        "a sync takes more than a few requests: {requests}"
    );

    let detail: Value = app
        .admin_get(&format!("/api/portals/{portal}"))
        .await
        .json()
        .await
        .expect("json");
    let budget = &detail["budget"];
    for stretch in ["last_hour", "last_day"] {
        assert_eq!(budget[stretch]["requests"], requests, "{detail}");
        assert_eq!(budget[stretch]["responses_429"], rate_limited);
        assert_eq!(budget[stretch]["responses_5xx"], server_errors);
    }
    let peak = budget["peak_window_requests_last_hour"]
        .as_i64()
        .expect("peak");
    assert!(
        peak > 0
            && peak
                <= budget["burst_ceiling_per_window"]
                    .as_i64()
                    .expect("ceiling"),
        "the shared budget keeps every window under its ceiling: {peak}"
    );
    assert!(detail["model"].is_object() || detail["portal"]["status"] == "insufficient_data");

    let body = scrape(&app).await;
    let series = |metric: &str| format!(r#"{metric}{{portal="{portal}"}}"#);
    assert_eq!(
        sample(&body, &series("conturs_hubspot_requests_total")),
        Some(requests as f64)
    );
    assert_eq!(
        sample(&body, &series("conturs_hubspot_rate_limited_total")),
        Some(rate_limited as f64)
    );
    assert_eq!(
        sample(
            &body,
            r#"conturs_job_runs{type="initial_sync",lane="bulk",status="succeeded"}"#
        ),
        Some(1.0)
    );

    worker.terminate().expect("SIGTERM");
    let exit = worker.wait_exit(Duration::from_secs(40)).await;
    assert!(
        exit.is_some_and(|status| status.success()),
        "{exit:?}\n{}",
        worker.log()
    );
    let after = totals_by_portal(&app.db.conn).await.expect("totals");
    assert_eq!(
        after.iter().find(|(id, _)| *id == portal).map(|(_, t)| *t),
        Some(totals),
        "the last flush on shutdown adds nothing twice"
    );
}
