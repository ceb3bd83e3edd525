//! The operators' board over real HTTP, as a browser meets it: sign-in and its cookie, every
//! page, every action with and without its CSRF token, bulk actions over a filter, paging,
//! the live progress stream, and hostile text shown as text.

use conturs_tests::app::{ADMIN_TOKEN, between, board_sign_in};
use conturs_tests::fixtures::insert_portal;
use conturs_tests::{AppOptions, Backend, TestApp, spawn_app, spawn_app_with};
use entity::{JobStatus, PortalStatus};
use jobs::EnqueueOptions;
use jobs::ledger::Failure;
use jobs::payload::{InitialSync, TrainModel};
use jobs::presence::WorkerIdentity;
use reqwest::header;
use sea_orm::{EntityTrait, PaginatorTrait};
use uuid::Uuid;

const PORTAL: i64 = 8101;
const OTHER: i64 = 8102;

/// A signed-in browser: its session cookie and the CSRF token the pages carry.
struct Operator {
    cookie: String,
    csrf: String,
}

async fn sign_in(app: &TestApp) -> Operator {
    let cookie = board_sign_in(&app.client, &app.address).await;
    let page = app.cookie_get(&cookie, "/board").await;
    assert_eq!(page.0, 200);
    let csrf = between(&page.1, "name=\"csrf\" value=\"", "\"").expect("csrf field");
    Operator { cookie, csrf }
}

/// A run of `job` for `portal` that failed for good, as a worker records it.
async fn failed_run(app: &TestApp, portal: i64, message: &str) -> Uuid {
    let job = app
        .queue
        .enqueue(
            |run_id| TrainModel {
                run_id,
                portal_id: portal,
            },
            EnqueueOptions::default(),
        )
        .await
        .expect("enqueue");
    let ledger = app.queue.ledger();
    ledger
        .start_attempt(job.run_id, "board-test-worker")
        .await
        .expect("start");
    ledger
        .fail(
            job.run_id,
            &Failure {
                kind: "invalid".into(),
                message: message.into(),
                retryable: false,
            },
        )
        .await
        .expect("fail");
    job.run_id
}

async fn queued_sync(app: &TestApp, portal: i64) -> Uuid {
    app.queue
        .enqueue(
            |run_id| InitialSync {
                run_id,
                portal_id: portal,
            },
            EnqueueOptions::default(),
        )
        .await
        .expect("enqueue")
        .run_id
}

async fn portals(app: &TestApp) {
    insert_portal(&app.db.conn, PORTAL, PortalStatus::Ready)
        .await
        .expect("portal");
    insert_portal(&app.db.conn, OTHER, PortalStatus::Ready)
        .await
        .expect("portal");
}

#[tokio::test]
async fn pages_need_a_session_and_actions_need_one_too() {
    let app = spawn_app(Backend::Sqlite).await;
    for page in ["/board", "/board/jobs?status=failed", "/board/portals"] {
        let response = app.get(page).await;
        assert_eq!(response.status(), 303, "{page}");
        let to = response.headers()[header::LOCATION]
            .to_str()
            .expect("ascii");
        assert!(
            to.starts_with("/board/login?next=%2Fboard"),
            "{page} → {to}"
        );
    }
    let id = Uuid::now_v7();
    let stream = app.get(&format!("/board/jobs/{id}/stream")).await;
    assert_eq!(stream.status(), 401);
    let live = app.get("/board/live").await;
    assert_eq!(live.status(), 401);
    let action = app
        .client
        .post(app.url(&format!("/board/jobs/{id}/retry")))
        .form(&[("csrf", "x")])
        .send()
        .await
        .expect("POST");
    assert_eq!(action.status(), 401);
    // The stylesheet is public: the sign-in page needs it.
    let css = app.get("/board/assets/board.css").await;
    assert_eq!(css.status(), 200);
    assert!(
        css.headers()[header::CONTENT_TYPE]
            .to_str()
            .unwrap()
            .starts_with("text/css")
    );
    assert_eq!(
        app.get("/board/assets/../../etc/passwd").await.status(),
        404
    );
}

#[tokio::test]
async fn sign_in_checks_the_token_and_sets_a_hardened_cookie() {
    let app = spawn_app(Backend::Sqlite).await;
    let login = app.get("/board/login?next=/board/portals").await;
    assert_eq!(login.status(), 200);
    assert!(
        login
            .text()
            .await
            .unwrap()
            .contains("value=\"/board/portals\"")
    );

    let wrong = app
        .client
        .post(app.url("/board/login"))
        .form(&[("token", "not-the-token")])
        .send()
        .await
        .expect("POST");
    assert_eq!(wrong.status(), 401);
    assert!(wrong.headers().get(header::SET_COOKIE).is_none());
    assert!(
        wrong
            .text()
            .await
            .unwrap()
            .contains("That is not the admin token.")
    );

    // Another site as `next` lands on the board instead.
    let response = app
        .client
        .post(app.url("/board/login"))
        .form(&[("token", ADMIN_TOKEN), ("next", "https://evil.example/")])
        .send()
        .await
        .expect("POST");
    assert_eq!(response.status(), 303);
    assert_eq!(response.headers()[header::LOCATION], "/board");
    let cookie = response.headers()[header::SET_COOKIE]
        .to_str()
        .unwrap()
        .to_owned();
    for attribute in [
        "HttpOnly",
        "Secure",
        "SameSite=Strict",
        "Path=/board",
        "Max-Age=43200",
    ] {
        assert!(
            cookie.contains(attribute),
            "{attribute} missing from {cookie}"
        );
    }
    let pair = cookie.split(';').next().unwrap();
    assert_eq!(app.cookie_get(pair, "/board").await.0, 200);

    // A cookie changed by hand is no session.
    let tampered = pair.replacen("v1.", "v1.0", 1);
    let response = app
        .client
        .get(app.url("/board"))
        .header(header::COOKIE, tampered)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 303);

    // Signing out ends it.
    let operator = Operator {
        cookie: pair.to_owned(),
        csrf: between(
            &app.cookie_get(pair, "/board").await.1,
            "name=\"csrf\" value=\"",
            "\"",
        )
        .unwrap(),
    };
    let out = app
        .cookie_post(
            &operator.cookie,
            "/board/logout",
            &[("csrf", &operator.csrf)],
        )
        .await;
    assert_eq!(out.status(), 303);
    assert!(
        out.headers()[header::SET_COOKIE]
            .to_str()
            .unwrap()
            .contains("Max-Age=0")
    );
}

#[tokio::test]
async fn sessions_expire() {
    // The app's clock runs 13 hours ahead: a cookie issued now (12-hour session) is stale.
    let app = spawn_app_with(AppOptions::new(Backend::Sqlite).configure(|config| {
        config.clock = api::Clock::fixed(chrono::Utc::now() + chrono::Duration::hours(13));
    }))
    .await;
    let response = app
        .client
        .post(app.url("/board/login"))
        .form(&[("token", ADMIN_TOKEN)])
        .send()
        .await
        .unwrap();
    let pair = response.headers()[header::SET_COOKIE]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    let page = app
        .client
        .get(app.url("/board"))
        .header(header::COOKIE, pair)
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 303);
}

#[tokio::test]
async fn failed_sign_ins_are_throttled() {
    let app = spawn_app(Backend::Sqlite).await;
    let mut statuses = Vec::new();
    for _ in 0..12 {
        let response = app
            .client
            .post(app.url("/board/login"))
            .form(&[("token", "guess")])
            .send()
            .await
            .unwrap();
        statuses.push(response.status().as_u16());
    }
    assert_eq!(
        statuses.iter().filter(|s| **s == 401).count(),
        10,
        "{statuses:?}"
    );
    assert_eq!(
        statuses.iter().filter(|s| **s == 429).count(),
        2,
        "{statuses:?}"
    );
}

async fn every_page_renders(backend: Backend) {
    let app = spawn_app(backend).await;
    portals(&app).await;
    let failed = failed_run(&app, PORTAL, "HubSpot said <script>alert(1)</script>").await;
    let queued = queued_sync(&app, OTHER).await;
    let operator = sign_in(&app).await;
    // One worker checked in just now, one stopped beating a minute ago.
    let now = chrono::Utc::now();
    jobs::presence::beat(
        &app.db.conn,
        &WorkerIdentity::current("worker-alive-1", 4),
        now,
    )
    .await
    .unwrap();
    jobs::presence::beat(
        &app.db.conn,
        &WorkerIdentity::current("worker-gone-2", 4),
        now - chrono::Duration::seconds(60),
    )
    .await
    .unwrap();

    let (status, overview) = app.cookie_get(&operator.cookie, "/board").await;
    assert!(overview.contains("worker-alive-1") && overview.contains("4 per lane"));
    assert!(
        !overview.contains("worker-gone-2"),
        "a worker that stopped beating is not listed"
    );
    assert_eq!(status, 200);
    for text in [
        "Queues",
        "train_model",
        "initial_sync",
        "Throughput",
        "Last hour, per minute",
        "Workers",
        "HubSpot budgets",
        "Portal 8101",
    ] {
        assert!(overview.contains(text), "overview lacks {text}");
    }
    // One failed train_model run, linked to its filtered list.
    assert!(overview.contains("href=\"/board/jobs?type=train_model&amp;status=failed\">1</a>"));
    // The failed run shows in the last hour's chart.
    assert!(overview.contains("0 succeeded, 1 failed"), "chart totals");
    let (status, live) = app.cookie_get(&operator.cookie, "/board/live").await;
    assert_eq!(status, 200);
    assert!(live.contains("Queues") && !live.contains("<html"));

    let (status, list) = app.cookie_get(&operator.cookie, "/board/jobs").await;
    assert_eq!(status, 200);
    assert!(
        list.contains(&failed.simple().to_string()[24..])
            && list.contains(&queued.simple().to_string()[24..])
    );
    assert!(list.contains("2 matching"));
    let (_, only_failed) = app
        .cookie_get(
            &operator.cookie,
            &format!("/board/jobs?status=failed&portal={PORTAL}"),
        )
        .await;
    assert!(only_failed.contains("1 matching"));
    assert!(!only_failed.contains(&queued.simple().to_string()[24..]));
    let (status, bad) = app
        .cookie_get(&operator.cookie, "/board/jobs?status=exploded")
        .await;
    assert_eq!(status, 400);
    assert!(bad.contains("unknown status &quot;exploded&quot;"), "{bad}");

    let (status, detail) = app
        .cookie_get(&operator.cookie, &format!("/board/jobs/{failed}"))
        .await;
    assert_eq!(status, 200);
    for text in [
        "Retry", "Payload", "Timeline", "enqueued", "failed", "Kind: ", "invalid",
    ] {
        assert!(detail.contains(text), "job page lacks {text}");
    }
    // Hostile text is shown as text.
    assert!(detail.contains("HubSpot said &lt;script&gt;alert(1)&lt;/script&gt;"));
    assert!(!detail.contains("<script>alert(1)"));
    // A finished run has no live stream; an unfinished one does.
    assert!(!detail.contains("data-stream"));
    let (_, queued_page) = app
        .cookie_get(&operator.cookie, &format!("/board/jobs/{queued}"))
        .await;
    assert!(queued_page.contains(&format!("data-stream=\"/board/jobs/{queued}/stream\"")));
    assert!(queued_page.contains("Cancel"));
    assert_eq!(
        app.cookie_get(&operator.cookie, "/board/jobs/not-a-uuid")
            .await
            .0,
        400
    );
    assert_eq!(
        app.cookie_get(&operator.cookie, &format!("/board/jobs/{}", Uuid::now_v7()))
            .await
            .0,
        404
    );

    let (status, portals_page) = app.cookie_get(&operator.cookie, "/board/portals").await;
    assert_eq!(status, 200);
    assert!(
        portals_page.contains("/board/portals/8101")
            && portals_page.contains("/board/portals/8102")
    );
    let (status, portal) = app
        .cookie_get(&operator.cookie, &format!("/board/portals/{PORTAL}"))
        .await;
    assert_eq!(status, 200);
    for text in [
        "Re-sync now",
        "Retrain",
        "Disconnect",
        "Not trained yet.",
        "Grades",
        "Hottest contacts",
        "Recent jobs",
        "HubSpot budget",
    ] {
        assert!(portal.contains(text), "portal page lacks {text}");
    }
    assert_eq!(
        app.cookie_get(&operator.cookie, "/board/portals/999999")
            .await
            .0,
        404
    );
}

#[tokio::test]
async fn every_page_renders_on_sqlite() {
    every_page_renders(Backend::Sqlite).await;
}

#[tokio::test]
async fn every_page_renders_on_postgres() {
    every_page_renders(Backend::Postgres).await;
}

#[tokio::test]
async fn actions_without_the_csrf_token_change_nothing() {
    let app = spawn_app(Backend::Sqlite).await;
    portals(&app).await;
    let failed = failed_run(&app, PORTAL, "boom").await;
    let operator = sign_in(&app).await;
    let other = {
        // Another session's token does not do either.
        let second = sign_in(&app).await;
        assert_ne!(second.csrf, operator.csrf);
        second.csrf
    };
    for csrf in ["", "forged", other.as_str()] {
        let response = app
            .cookie_post(
                &operator.cookie,
                &format!("/board/jobs/{failed}/retry"),
                &[("csrf", csrf)],
            )
            .await;
        assert_eq!(response.status(), 403, "csrf {csrf:?}");
        let response = app
            .cookie_post(
                &operator.cookie,
                "/board/jobs/bulk",
                &[("csrf", csrf), ("action", "retry")],
            )
            .await;
        assert_eq!(response.status(), 403);
        let response = app
            .cookie_post(
                &operator.cookie,
                &format!("/board/portals/{PORTAL}/action"),
                &[("csrf", csrf), ("do", "retrain")],
            )
            .await;
        assert_eq!(response.status(), 403);
    }
    let missing = app
        .cookie_post(
            &operator.cookie,
            &format!("/board/jobs/{failed}/cancel"),
            &[],
        )
        .await;
    assert!(missing.status().is_client_error());
    let run = app.queue.ledger().get(failed).await.unwrap();
    assert_eq!(run.status, JobStatus::Failed);
    let runs = entity::job_runs::Entity::find()
        .count(&app.db.conn)
        .await
        .unwrap();
    assert_eq!(runs, 1, "no job was triggered");
}

#[tokio::test]
async fn retry_cancel_and_trigger_leave_an_audit_trail() {
    let app = spawn_app(Backend::Sqlite).await;
    portals(&app).await;
    let failed = failed_run(&app, PORTAL, "boom").await;
    let queued = queued_sync(&app, PORTAL).await;
    let operator = sign_in(&app).await;
    let csrf = [("csrf", operator.csrf.as_str())];

    let response = app
        .cookie_post(
            &operator.cookie,
            &format!("/board/jobs/{failed}/retry"),
            &csrf,
        )
        .await;
    assert_eq!(response.status(), 303);
    assert_eq!(
        response.headers()[header::LOCATION],
        format!("/board/jobs/{failed}").as_str()
    );
    let run = app.queue.ledger().get(failed).await.unwrap();
    assert_eq!(run.status, JobStatus::Queued);
    let kinds: Vec<String> = app
        .queue
        .ledger()
        .timeline(failed)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.kind)
        .collect();
    assert!(
        kinds.ends_with(&["retried".to_owned(), "audit".to_owned()]),
        "{kinds:?}"
    );
    // Retrying it again is refused: it is not failed any more.
    let again = app
        .cookie_post(
            &operator.cookie,
            &format!("/board/jobs/{failed}/retry"),
            &csrf,
        )
        .await;
    assert_eq!(again.status(), 409);
    assert!(
        again
            .text()
            .await
            .unwrap()
            .contains("only failed or dead jobs can be retried")
    );

    let response = app
        .cookie_post(
            &operator.cookie,
            &format!("/board/jobs/{queued}/cancel"),
            &csrf,
        )
        .await;
    assert_eq!(response.status(), 303);
    assert_eq!(
        app.queue.ledger().get(queued).await.unwrap().status,
        JobStatus::Cancelled
    );
    let audit = app
        .queue
        .ledger()
        .timeline(queued)
        .await
        .unwrap()
        .into_iter()
        .rfind(|e| e.kind == "audit")
        .expect("audit event");
    assert_eq!(audit.message, "cancelled by an operator on the board");
    assert_eq!(audit.data.unwrap()["actor"], "board");

    // Portal actions enqueue through the API's checks.
    let response = app
        .cookie_post(
            &operator.cookie,
            &format!("/board/portals/{PORTAL}/action"),
            &[("csrf", operator.csrf.as_str()), ("do", "retrain")],
        )
        .await;
    assert_eq!(response.status(), 303);
    let to = response.headers()[header::LOCATION]
        .to_str()
        .unwrap()
        .to_owned();
    let id: Uuid = to
        .trim_start_matches("/board/jobs/")
        .parse()
        .expect("job page");
    let run = app.queue.ledger().get(id).await.unwrap();
    assert_eq!(
        (run.job_type, run.portal_id),
        (entity::JobType::TrainModel, PORTAL)
    );
    assert!(
        app.queue
            .ledger()
            .timeline(id)
            .await
            .unwrap()
            .iter()
            .any(|e| e.kind == "audit")
    );
    let unknown = app
        .cookie_post(
            &operator.cookie,
            &format!("/board/portals/{PORTAL}/action"),
            &[("csrf", operator.csrf.as_str()), ("do", "explode")],
        )
        .await;
    assert_eq!(unknown.status(), 400);
    // The generic trigger form: portal jobs only.
    let response = app
        .cookie_post(
            &operator.cookie,
            "/board/jobs",
            &[
                ("csrf", operator.csrf.as_str()),
                ("portal_id", "8102"),
                ("type", "nightly_resync"),
            ],
        )
        .await;
    assert_eq!(response.status(), 303);
    let refused = app
        .cookie_post(
            &operator.cookie,
            "/board/jobs",
            &[
                ("csrf", operator.csrf.as_str()),
                ("portal_id", "8102"),
                ("type", "noop"),
            ],
        )
        .await;
    assert_eq!(refused.status(), 400);
    let unknown_portal = app
        .cookie_post(
            &operator.cookie,
            "/board/jobs",
            &[
                ("csrf", operator.csrf.as_str()),
                ("portal_id", "1"),
                ("type", "train_model"),
            ],
        )
        .await;
    assert_eq!(unknown_portal.status(), 404);

    // Disconnecting revokes the token (this portal has none stored) and stops updates.
    let response = app
        .cookie_post(
            &operator.cookie,
            &format!("/board/portals/{OTHER}/action"),
            &[("csrf", operator.csrf.as_str()), ("do", "disconnect")],
        )
        .await;
    assert_eq!(response.status(), 303);
    let (_, page) = app
        .cookie_get(
            &operator.cookie,
            response.headers()[header::LOCATION].to_str().unwrap(),
        )
        .await;
    assert!(
        page.contains("Disconnected.") && page.contains("disconnected by an operator on the board")
    );
    assert!(
        !page.contains("Re-sync now"),
        "a disconnected portal offers no job actions"
    );
    let refused = app
        .cookie_post(
            &operator.cookie,
            &format!("/board/portals/{OTHER}/action"),
            &[("csrf", operator.csrf.as_str()), ("do", "retrain")],
        )
        .await;
    assert_eq!(refused.status(), 409);
}

#[tokio::test]
async fn bulk_actions_touch_exactly_what_the_filter_matches() {
    let app = spawn_app(Backend::Sqlite).await;
    portals(&app).await;
    let mine = [
        failed_run(&app, PORTAL, "a").await,
        failed_run(&app, PORTAL, "b").await,
        failed_run(&app, PORTAL, "c").await,
    ];
    let theirs = failed_run(&app, OTHER, "d").await;
    let waiting = queued_sync(&app, PORTAL).await;
    let operator = sign_in(&app).await;
    let portal = PORTAL.to_string();
    let response = app
        .cookie_post(
            &operator.cookie,
            "/board/jobs/bulk",
            &[
                ("csrf", &operator.csrf),
                ("action", "retry"),
                ("portal", &portal),
            ],
        )
        .await;
    assert_eq!(response.status(), 303);
    let to = response.headers()[header::LOCATION]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        to.contains("portal=8101") && to.contains("Retried+3+job"),
        "{to}"
    );
    for id in mine {
        assert_eq!(
            app.queue.ledger().get(id).await.unwrap().status,
            JobStatus::Queued
        );
    }
    assert_eq!(
        app.queue.ledger().get(theirs).await.unwrap().status,
        JobStatus::Failed
    );
    assert_eq!(
        app.queue.ledger().get(waiting).await.unwrap().status,
        JobStatus::Queued,
        "retry leaves unfinished runs alone"
    );
    let (_, page) = app.cookie_get(&operator.cookie, &to).await;
    assert!(page.contains("Retried 3 job(s)"));

    let response = app
        .cookie_post(
            &operator.cookie,
            "/board/jobs/bulk",
            &[
                ("csrf", &operator.csrf),
                ("action", "cancel"),
                ("type", "train_model"),
                ("portal", &portal),
            ],
        )
        .await;
    assert_eq!(response.status(), 303);
    for id in mine {
        assert_eq!(
            app.queue.ledger().get(id).await.unwrap().status,
            JobStatus::Cancelled
        );
    }
    assert_eq!(
        app.queue.ledger().get(waiting).await.unwrap().status,
        JobStatus::Queued,
        "initial_sync is outside the filter"
    );
}

#[tokio::test]
async fn the_job_list_pages_newest_first() {
    let app = spawn_app(Backend::Sqlite).await;
    portals(&app).await;
    let mut ids = Vec::new();
    for _ in 0..120 {
        ids.push(queued_sync(&app, PORTAL).await);
    }
    let operator = sign_in(&app).await;
    let mut path = "/board/jobs".to_owned();
    let mut seen = Vec::new();
    for _ in 0..5 {
        let (status, page) = app.cookie_get(&operator.cookie, &path).await;
        assert_eq!(status, 200);
        let mut rest = page.as_str();
        while let Some(at) = rest.find("href=\"/board/jobs/") {
            let tail = &rest[at + 18..];
            let id = &tail[..36];
            if let Ok(id) = id.parse::<Uuid>() {
                seen.push(id);
            }
            rest = &tail[36.min(tail.len())..];
        }
        match between(&page, "<a href=\"/board/jobs?cursor=", "\"") {
            Some(cursor) => path = format!("/board/jobs?cursor={cursor}"),
            None => break,
        }
    }
    ids.reverse();
    assert_eq!(seen, ids, "every run once, newest first, over three pages");
}

#[tokio::test]
async fn the_progress_stream_follows_a_run() {
    let app = spawn_app(Backend::Sqlite).await;
    portals(&app).await;
    let queued = queued_sync(&app, PORTAL).await;
    let operator = sign_in(&app).await;
    let mut response = app
        .client
        .get(app.url(&format!("/board/jobs/{queued}/stream")))
        .header(header::COOKIE, &operator.cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert!(
        response.headers()[header::CONTENT_TYPE]
            .to_str()
            .unwrap()
            .starts_with("text/event-stream")
    );
    let first = response.chunk().await.unwrap().expect("first event");
    let first = String::from_utf8_lossy(&first);
    assert!(
        first.contains("event: progress") && first.contains("\"status\":\"queued\""),
        "{first}"
    );
    app.queue.ledger().cancel(queued, "test").await.unwrap();
    let mut text = String::new();
    while let Some(chunk) =
        tokio::time::timeout(std::time::Duration::from_secs(5), response.chunk())
            .await
            .expect("stream moves")
            .unwrap()
    {
        text.push_str(&String::from_utf8_lossy(&chunk));
        if text.contains("event: finished") {
            break;
        }
    }
    assert!(text.contains("\"status\":\"cancelled\""), "{text}");
}
