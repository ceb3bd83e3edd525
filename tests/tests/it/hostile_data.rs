//! Hostile HubSpot data through the simulator: a 10 MB job title, control characters (NUL,
//! which Postgres refuses in text and JSON, bell, carriage returns), and HTML / `<script>` in
//! job titles, company names and industries. Sync, training, scoring and write-back finish; the
//! hostile contacts are stored cleaned and cut to their column widths (and scored, or not
//! scorable with the reason recorded); and nothing is injected into the board's pages or the
//! API's answers. On SQLite and on Postgres (whose limits are the strict ones).

use std::time::Duration;

use conturs_tests::Backend;
use conturs_tests::app::{board_sign_in, operator_get};
use conturs_tests::pipeline::{Pipeline, QueueKind};
use entity::{contacts, job_runs, scores};
use hubspot_sim::ObjectType;
use jobs::handlers::crm_store::MAX_RAW_VALUE_CHARS;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

const SCRIPT: &str = "<script>alert('conturs')</script>";
const IMG: &str = "<img src=x onerror=alert(1)>";

async fn hostile_data(backend: Backend, queue: QueueKind) {
    let p = Pipeline::start(backend, queue, 2_000, 17)
        .await
        .expect("pipeline");
    let portal = p.portal_id;
    let sim_portal = portal as u64;
    let company = p
        .sim
        .create_record(
            sim_portal,
            ObjectType::Companies,
            &[
                ("name", &format!("{SCRIPT} Inc.\u{0}")),
                ("industry", IMG),
                ("domain", "\u{7}evil.example"),
                ("numberofemployees", "1e400"),
                ("country", "\r\nUnited States"),
            ],
            None,
        )
        .expect("company");
    let huge_title = format!("Chief {}", "A".repeat(10 * 1024 * 1024));
    let huge = p
        .sim
        .create_record(
            sim_portal,
            ObjectType::Contacts,
            &[("jobtitle", &huge_title), ("email", "huge@example.com")],
            Some(company),
        )
        .expect("contact");
    let scripted = p
        .sim
        .create_record(
            sim_portal,
            ObjectType::Contacts,
            &[
                ("jobtitle", &format!("VP {SCRIPT}\u{0}\u{7}")),
                ("firstname", IMG),
                ("country", "\u{0}"),
            ],
            Some(company),
        )
        .expect("contact");

    let _workers = p.spawn_workers("hostile-worker");
    p.sync_to_done(Duration::from_secs(180)).await;

    // Stored cleaned and cut to the column widths.
    let stored = |id: u64| {
        let db = p.db.conn.clone();
        async move {
            contacts::Entity::find_by_id((portal, id as i64))
                .one(&db)
                .await
                .expect("read")
                .expect("the hostile contact is stored")
        }
    };
    let big = stored(huge).await;
    assert_eq!(
        big.job_title.as_deref().map(|t| t.chars().count()),
        Some(512)
    );
    let raw_title = big.properties["jobtitle"].as_str().expect("raw title");
    assert_eq!(raw_title.chars().count(), MAX_RAW_VALUE_CHARS);
    let small = stored(scripted).await;
    assert_eq!(
        small.job_title.as_deref(),
        Some(format!("VP {SCRIPT}").as_str())
    );
    assert_eq!(small.country, None, "nothing left of a NUL");
    for id in [huge, scripted] {
        let score = scores::Entity::find_by_id((portal, id as i64))
            .one(&p.db.conn)
            .await
            .expect("read")
            .expect("a score row");
        assert!(
            score.score.is_some() || score.unscorable_reason.is_some(),
            "scored, or the reason recorded: {score:?}"
        );
    }
    p.assert_written_back(p.contact_ids(portal).expect("ids").len())
        .await;

    // Nothing is injected into what operators read.
    let api = p.spawn_api().await.expect("api");
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    let cookie = board_sign_in(&client, &api.address).await;
    let runs = job_runs::Entity::find()
        .filter(job_runs::Column::PortalId.eq(portal))
        .all(&p.db.conn)
        .await
        .expect("runs");
    let mut pages = vec![
        "/board".to_owned(),
        "/board/jobs".to_owned(),
        format!("/board/portals/{portal}"),
        format!("/api/portals/{portal}/scores/top?n=500"),
        format!("/api/portals/{portal}/contacts/{huge}/score"),
        format!("/api/portals/{portal}/contacts/{scripted}/score"),
    ];
    pages.extend(runs.iter().map(|r| format!("/board/jobs/{}", r.id)));
    for page in pages {
        let (status, body) = operator_get(&client, &api.address, &cookie, &page).await;
        assert_eq!(status, 200, "{page}");
        let body = String::from_utf8_lossy(&body);
        for raw in ["<script>alert", "<img src=x"] {
            assert!(!body.contains(raw), "{page} carries raw {raw:?}");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_hubspot_data_sqlite() {
    hostile_data(Backend::Sqlite, QueueKind::EmbeddedSqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_hubspot_data_postgres() {
    hostile_data(Backend::Postgres, QueueKind::Redis).await;
}
