//! The operator CLI (`conturs enqueue | jobs | portals | score`) run as a real process against
//! a real API: human tables by default, JSON with `--json`, and the exit codes scripts rely on
//! (0 ok, 1 API error or unreachable, 2 usage or configuration, 3 not found).

use std::process::{Command, Output};

use conturs_tests::app::ADMIN_TOKEN;
use conturs_tests::counting::{counting_worker, enqueue_noop};
use conturs_tests::fixtures::insert_portal;
use conturs_tests::{Backend, TestApp, spawn_app};
use entity::{JobStatus, PortalStatus};
use sea_orm::ConnectionTrait;
use serde_json::Value;
use uuid::Uuid;

const PORTAL: i64 = 8101;

/// Runs the CLI against `app` (off the runtime: the API answers on it meanwhile).
async fn conturs(app: &TestApp, args: &[&str]) -> Output {
    conturs_with(&app.address, Some(ADMIN_TOKEN), args).await
}

async fn conturs_with(api_url: &str, token: Option<&str>, args: &[&str]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_conturs-test-cli"));
    command
        .args(args)
        .env("CONTURS_API_URL", api_url)
        .env_remove("CONTURS_ADMIN_TOKEN");
    if let Some(token) = token {
        command.env("CONTURS_ADMIN_TOKEN", token);
    }
    tokio::task::spawn_blocking(move || command.output().expect("run conturs"))
        .await
        .expect("join")
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

fn code(output: &Output) -> i32 {
    output.status.code().expect("exited")
}

fn json(output: &Output) -> Value {
    assert_eq!(code(output), 0, "{}{}", stdout(output), stderr(output));
    serde_json::from_str(&stdout(output))
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}", stdout(output)))
}

async fn app_with_portal() -> TestApp {
    let app = spawn_app(Backend::Sqlite).await;
    insert_portal(&app.db.conn, PORTAL, PortalStatus::Ready)
        .await
        .expect("portal");
    app
}

#[tokio::test]
async fn enqueue_and_list_jobs_with_filters() {
    let app = app_with_portal().await;

    let queued = conturs(&app, &["enqueue", "train-model", "--portal", "8101"]).await;
    assert_eq!(code(&queued), 0, "{}", stderr(&queued));
    let text = stdout(&queued);
    assert!(
        text.contains("Queued train_model for portal 8101"),
        "{text}"
    );
    let json_run = json(
        &conturs(
            &app,
            &["enqueue", "initial_sync", "--portal", "8101", "--json"],
        )
        .await,
    );
    assert_eq!(json_run["job_type"], "initial_sync");
    assert_eq!(json_run["portal_id"], PORTAL);
    let id = json_run["id"].as_str().expect("id").to_owned();

    // The table lists both, newest first; filters narrow it.
    let table = stdout(&conturs(&app, &["jobs"]).await);
    let lines: Vec<&str> = table.lines().collect();
    assert!(
        lines[0].starts_with("ID") && lines[0].contains("STATUS"),
        "{table}"
    );
    assert_eq!(lines.len(), 3, "{table}");
    assert!(lines[1].starts_with(&id), "newest first: {table}");
    let filtered = json(&conturs(&app, &["jobs", "--type", "train-model", "--json"]).await);
    let filtered = filtered.as_array().expect("array");
    assert_eq!(filtered.len(), 1);
    assert_eq!(filtered[0]["job_type"], "train_model");
    let none = json(
        &conturs(
            &app,
            &[
                "jobs",
                "--status",
                "succeeded",
                "--portal",
                "8101",
                "--json",
            ],
        )
        .await,
    );
    assert_eq!(none, serde_json::json!([]));
    let limited = json(&conturs(&app, &["jobs", "--limit", "1", "--json"]).await);
    assert_eq!(limited.as_array().map(Vec::len), Some(1));

    let shown = conturs(&app, &["jobs", "show", &id]).await;
    assert_eq!(code(&shown), 0, "{}", stderr(&shown));
    assert!(
        stdout(&shown).contains("enqueued"),
        "the timeline: {}",
        stdout(&shown)
    );

    // A disconnected portal is the API's 409, named on stderr: exit 1.
    insert_portal(&app.db.conn, 8102, PortalStatus::Disconnected)
        .await
        .expect("portal");
    let refused = conturs(&app, &["enqueue", "initial-sync", "--portal", "8102"]).await;
    assert_eq!(code(&refused), 1);
    assert!(
        stderr(&refused).contains("portal_disconnected"),
        "{}",
        stderr(&refused)
    );
    assert!(stdout(&refused).is_empty());
}

#[tokio::test]
async fn exit_codes_scripts_rely_on() {
    let app = app_with_portal().await;

    // 3: not found (no such portal, job or score), with the API's code on stderr.
    let missing = conturs(&app, &["enqueue", "initial-sync", "--portal", "999"]).await;
    assert_eq!(code(&missing), 3, "{}", stderr(&missing));
    assert!(
        stderr(&missing).contains("not_found"),
        "{}",
        stderr(&missing)
    );
    let unknown = Uuid::now_v7().to_string();
    assert_eq!(code(&conturs(&app, &["jobs", "show", &unknown]).await), 3);
    assert_eq!(code(&conturs(&app, &["jobs", "watch", &unknown]).await), 3);
    assert_eq!(code(&conturs(&app, &["portals", "999"]).await), 3);
    assert_eq!(code(&conturs(&app, &["score", "8101", "5"]).await), 3);

    // 1: a wrong token (the API's 401), or no API at the URL.
    let refused = conturs_with(&app.address, Some("not-the-admin-token"), &["portals"]).await;
    assert_eq!(code(&refused), 1);
    assert!(
        stderr(&refused).contains("unauthorized"),
        "{}",
        stderr(&refused)
    );
    let unreachable = conturs_with("http://127.0.0.1:9", Some(ADMIN_TOKEN), &["portals"]).await;
    assert_eq!(code(&unreachable), 1);
    assert!(
        stderr(&unreachable).contains("cannot reach the API"),
        "{}",
        stderr(&unreachable)
    );

    // 2: usage and configuration errors.
    for args in [
        &["enqueue", "write-back", "--portal", "8101"][..],
        &["enqueue", "initial-sync"],
        &["jobs", "--status", "sleeping"],
        &["jobs", "--limit", "0"],
        &["jobs", "watch", "not-a-uuid"],
        &["score", "8101"],
        &["no-such-command"],
    ] {
        let output = conturs(&app, args).await;
        assert_eq!(code(&output), 2, "{args:?}: {}", stderr(&output));
    }
    let no_token = conturs_with(&app.address, None, &["portals"]).await;
    assert_eq!(code(&no_token), 2);
    assert!(
        stderr(&no_token).contains("CONTURS_ADMIN_TOKEN"),
        "{}",
        stderr(&no_token)
    );
    let bad_url = conturs_with("not a url", Some(ADMIN_TOKEN), &["portals"]).await;
    assert_eq!(code(&bad_url), 2, "{}", stderr(&bad_url));

    // --help on each command, and the exit codes in the top-level help.
    let help = stdout(&conturs(&app, &["--help"]).await);
    assert!(
        help.contains("Exit codes") && help.contains("3  not found"),
        "{help}"
    );
    for command in [
        "demo", "eval", "enqueue", "jobs", "portals", "score", "bench",
    ] {
        let output = conturs(&app, &[command, "--help"]).await;
        assert_eq!(code(&output), 0, "{command} --help");
        assert!(stdout(&output).contains("Usage: "), "{command}");
    }
}

#[tokio::test]
async fn portals_and_scores() {
    let app = app_with_portal().await;
    for (contact, score, grade) in [(1, "91", "'A'"), (2, "12", "'F'")] {
        app.db
            .conn
            .execute_unprepared(&format!(
                "INSERT INTO scores (portal_id, contact_id, score, grade, raw_score, explanation, scored_at) \
                 VALUES ({PORTAL}, {contact}, {score}, {grade}, 0.5, 'Strong fit: VP-level.', '2026-11-27T00:00:00Z')"
            ))
            .await
            .expect("score");
    }
    app.db
        .conn
        .execute_unprepared(&format!(
            "INSERT INTO score_history (portal_id, contact_id, model_version, score, grade, scored_at) \
             VALUES ({PORTAL}, 1, 1, 91, 'A', '2026-11-27T00:00:00Z')"
        ))
        .await
        .expect("history");

    let list = stdout(&conturs(&app, &["portals"]).await);
    assert!(list.starts_with("PORTAL"), "{list}");
    assert!(
        list.lines()
            .nth(1)
            .is_some_and(|l| l.starts_with("8101") && l.contains("ready")),
        "{list}"
    );
    let listed = json(&conturs(&app, &["portals", "--json"]).await);
    assert_eq!(listed[0]["id"], PORTAL);

    let detail = stdout(&conturs(&app, &["portals", "8101"]).await);
    assert!(detail.contains("Portal 8101: ready"), "{detail}");
    assert!(detail.contains("A 1 · F 1"), "grades: {detail}");
    let detail = json(&conturs(&app, &["portals", "8101", "--json"]).await);
    assert_eq!(detail["grades"]["A"], 1);

    let score = stdout(&conturs(&app, &["score", "8101", "1"]).await);
    assert!(score.contains("score:        91 (A)"), "{score}");
    assert!(score.contains("Strong fit: VP-level."), "{score}");
    assert!(score.contains("history:"), "{score}");
    let score = json(&conturs(&app, &["score", "8101", "1", "--json"]).await);
    assert_eq!(score["score"]["score"], 91);
    assert_eq!(score["history"].as_array().map(Vec::len), Some(1));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jobs_watch_follows_a_run_to_its_end() {
    let app = app_with_portal().await;
    let _worker = counting_worker(&app, 25, 1);
    let id = enqueue_noop(&app, PORTAL).await.to_string();

    let watched = conturs(&app, &["jobs", "watch", &id, "--json"]).await;
    assert_eq!(
        code(&watched),
        0,
        "{}{}",
        stdout(&watched),
        stderr(&watched)
    );
    let snapshots: Vec<Value> = stdout(&watched)
        .lines()
        .map(|l| serde_json::from_str(l).expect("one JSON snapshot per line"))
        .collect();
    let last = snapshots.last().expect("snapshots");
    assert_eq!(last["event"], "finished");
    assert_eq!(last["status"], "succeeded");
    assert_eq!(last["done"], 25);
    assert!(
        snapshots
            .iter()
            .any(|s| s["event"] == "progress" && s["phase"] == "counting"),
        "progress seen on the way: {snapshots:?}"
    );

    // Plain lines off a terminal.
    let again = conturs(&app, &["jobs", "watch", &id]).await;
    assert_eq!(code(&again), 0);
    assert!(
        stdout(&again).contains("succeeded counting 25/25"),
        "{}",
        stdout(&again)
    );
}

#[tokio::test]
async fn jobs_watch_fails_when_the_run_does_not_succeed() {
    let app = app_with_portal().await;
    let id = enqueue_noop(&app, PORTAL).await.to_string();
    let cancelled = app
        .admin_post(&format!("/api/jobs/{id}/cancel"), &serde_json::json!({}))
        .await;
    assert_eq!(cancelled.status(), 200);
    let run = app
        .queue
        .ledger()
        .get(id.parse().expect("uuid"))
        .await
        .expect("run");
    assert_eq!(run.status, JobStatus::Cancelled);

    let watched = conturs(&app, &["jobs", "watch", &id]).await;
    assert_eq!(code(&watched), 1, "{}", stdout(&watched));
    assert!(
        stderr(&watched).contains("ended cancelled"),
        "{}",
        stderr(&watched)
    );
}
