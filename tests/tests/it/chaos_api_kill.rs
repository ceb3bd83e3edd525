//! Chaos (issue 11): the web dyno is killed (-9) in the middle of a burst of HubSpot webhooks
//! and comes back on the same port a few seconds later. Every change HubSpot got a 200 for was
//! already queued; the ones it did not are redelivered by HubSpot and processed; nothing is
//! given up. Each changed contact ends with the score its new data deserves: a nightly
//! re-sync afterwards finds nothing left to write.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use conturs_tests::Backend;
use conturs_tests::app::ADMIN_TOKEN;
use conturs_tests::chaos::{SETTLE, assert_healthy};
use conturs_tests::pipeline::{Pipeline, QueueKind};
use conturs_tests::processes::DynoProcess;
use entity::{JobStatus, JobType, PortalStatus, contacts, portals};
use hubspot_sim::{ObjectType, WebhookKnobs};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

use super::chaos::{SEED, enqueue_sync, spawn_worker};

const API: &str = env!("CARGO_BIN_EXE_conturs-test-api");
const CONTACTS: usize = 2_000;
/// Job-title changes made in HubSpot, one every [`EVERY`].
const CHANGES: usize = 300;
const EVERY: Duration = Duration::from_millis(25);
/// The api is killed after this many changes and restarted after [`RESTART_AT`].
const KILL_AT: usize = 100;
const RESTART_AT: usize = 220;
const TITLES: [&str; 4] = [
    "Chief Executive Officer",
    "Office Intern",
    "VP of Engineering",
    "Marketing Assistant",
];

fn spawn_api(env: &[(&'static str, String)]) -> DynoProcess {
    DynoProcess::spawn(std::path::Path::new(API), env).expect("start the api")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn chaos_api_killed_during_a_webhook_burst() {
    let p = Pipeline::start(Backend::Postgres, QueueKind::Redis, CONTACTS, SEED)
        .await
        .expect("pipeline");
    let portal = p.portal_id as u64;
    let worker = spawn_worker(&p);
    enqueue_sync(&p).await;
    let runs = p.settle(3, SETTLE).await;
    assert!(
        runs.iter().all(|r| r.status == JobStatus::Succeeded),
        "the initial pipeline: {:?}",
        runs.iter()
            .map(|r| (r.job_type, r.status, r.last_error.clone()))
            .collect::<Vec<_>>()
    );

    // The web dyno, as a process HubSpot's webhooks reach over HTTP.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port();
    let url = format!("http://127.0.0.1:{port}");
    let mut env = p.worker_env();
    env.push(("PORT", port.to_string()));
    env.push(("CONTURS_ADMIN_TOKEN", ADMIN_TOKEN.to_owned()));
    env.push(("CONTURS_PUBLIC_URL", url.clone()));
    let mut api = spawn_api(&env);
    api.wait_healthy(&url, Duration::from_secs(30))
        .await
        .expect("api up");
    // HubSpot's retry schedule (1 min, 2 min, …) shortened fifty-fold: about 1 s, 2 s, 5 s, …
    let knobs = p.sim.state().webhooks.knobs();
    p.sim.state().webhooks.set_knobs(WebhookKnobs {
        retry_delay_scale: 0.02,
        ..knobs
    });
    p.sim.subscribe_webhooks(
        &format!("{url}/webhooks/hubspot"),
        &[("contact.propertyChange", Some("jobtitle"))],
    );
    let before = p.sim.stats().webhooks;

    // The burst: steady job-title changes; the api dies a third of the way in.
    let ids = p.contact_ids(p.portal_id).expect("contact ids");
    let step = ids.len() / CHANGES;
    let mut changed: BTreeMap<i64, &str> = BTreeMap::new();
    let mut down = None;
    let started = Instant::now();
    let mut tick = tokio::time::interval(EVERY);
    for i in 0..CHANGES {
        tick.tick().await;
        if i == KILL_AT {
            api.kill9();
            down = Some(Instant::now());
        }
        if i == RESTART_AT {
            api = spawn_api(&env);
        }
        let id = ids[i * step];
        let title = TITLES[i % TITLES.len()];
        if p.sim
            .update_record(portal, ObjectType::Contacts, id, &[("jobtitle", title)])
            .expect("change a job title")
            > 0
        {
            changed.insert(id as i64, title);
        }
    }
    api.wait_healthy(&url, Duration::from_secs(30))
        .await
        .expect("api back");
    let downtime = down.map(|d| d.elapsed()).unwrap_or_default();
    eprintln!(
        "{} changes in {:.1} s; api down for about {:.1} s",
        changed.len(),
        started.elapsed().as_secs_f64(),
        (RESTART_AT - KILL_AT) as f64 * EVERY.as_secs_f64()
    );
    assert!(downtime > Duration::ZERO);

    // HubSpot delivers everything in the end: the failed deliveries were retried, none given up.
    let deadline = Instant::now() + Duration::from_secs(90);
    let hooks = loop {
        let hooks = p.sim.stats().webhooks;
        if hooks.events_delivered - before.events_delivered
            >= hooks.events_fired - before.events_fired
        {
            break hooks;
        }
        assert!(
            Instant::now() < deadline,
            "webhooks not all delivered: {hooks:?}; api log:\n{}",
            api.log()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    let recovered_s = started.elapsed().as_secs_f64();
    eprintln!(
        "webhooks after the burst: {hooks:?}; all delivered {recovered_s:.1} s after it began"
    );
    assert_eq!(hooks.given_up, before.given_up, "webhook batches given up");
    assert!(
        hooks.failures > before.failures,
        "the kill must have failed some deliveries: {hooks:?}"
    );
    assert!(
        hooks.events_fired - before.events_fired >= changed.len() as u64,
        "one event per change: {hooks:?}"
    );

    // Every change reached the database and its score; the ledger shows no failure.
    let runs = p.settle(4, SETTLE).await;
    let failed: Vec<_> = runs
        .iter()
        .filter(|r| r.status != JobStatus::Succeeded)
        .map(|r| (r.job_type, r.status, r.last_error.clone()))
        .collect();
    assert!(failed.is_empty(), "runs that failed: {failed:?}");
    let scored = runs
        .iter()
        .filter(|r| r.job_type == JobType::ScoreContact)
        .count();
    eprintln!(
        "{scored} ScoreContact runs for {} changed contacts",
        changed.len()
    );
    let stored: BTreeMap<i64, Option<String>> = contacts::Entity::find()
        .filter(contacts::Column::PortalId.eq(p.portal_id))
        .filter(contacts::Column::Id.is_in(changed.keys().copied()))
        .all(&p.db.conn)
        .await
        .expect("contacts")
        .into_iter()
        .map(|c| (c.id, c.job_title))
        .collect();
    let stale: Vec<_> = changed
        .iter()
        .filter(|(id, title)| stored.get(*id).and_then(Option::as_deref) != Some(**title))
        .take(5)
        .collect();
    assert!(
        stale.is_empty(),
        "changes that never reached the database (id, new title): {stale:?}"
    );
    p.assert_written_back(CONTACTS).await;
    assert_healthy(&p, || format!("{}\n--- api:\n{}", worker.log(), api.log())).await;
    let row = portals::Entity::find_by_id(p.portal_id)
        .one(&p.db.conn)
        .await
        .expect("portal")
        .expect("exists");
    assert_eq!(row.status, PortalStatus::Ready);
}
