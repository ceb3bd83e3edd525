//! `conturs bench queue`: a script can rely on its exit codes and its JSON, and it leaves no
//! keys behind in the Redis it measured.

use std::process::{Command, Output};

fn redis_url() -> String {
    std::env::var("CONTURS_TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".to_owned())
}

fn conturs(args: &[&str], redis: Option<&str>) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_conturs"));
    command
        .args(args)
        .env_remove("DATABASE_URL")
        .env_remove("REDIS_URL")
        .env_remove("CONTURS_ENV")
        .env_remove("DYNO");
    if let Some(url) = redis {
        command.env("REDIS_URL", url);
    }
    command.output().expect("run conturs")
}

#[test]
fn help_names_the_options() {
    let output = conturs(&["bench", "queue", "--help"], None);
    assert!(output.status.success());
    let help = String::from_utf8_lossy(&output.stdout);
    for option in ["--jobs", "--json", "--bare", "--concurrency"] {
        assert!(help.contains(option), "{option} missing from {help}");
    }
}

#[test]
fn without_redis_url_it_exits_2_and_says_why() {
    let output = conturs(&["bench", "queue", "--jobs", "10"], None);
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("REDIS_URL is not set"), "{stderr}");
}

#[test]
fn bad_arguments_exit_2() {
    let output = conturs(&["bench", "queue", "--jobs", "0"], Some(&redis_url()));
    assert_eq!(output.status.code(), Some(2));
}

#[test]
fn unreachable_redis_exits_1() {
    // Port 1 is never a Redis.
    let output = conturs(
        &["bench", "queue", "--jobs", "10"],
        Some("redis://127.0.0.1:1"),
    );
    assert_eq!(output.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&output.stderr).starts_with("error: "),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

#[test]
fn drains_every_job_reports_json_and_cleans_up() {
    let url = redis_url();
    let output = conturs(
        &["bench", "queue", "--jobs", "300", "--bare", "--json"],
        Some(&url),
    );
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let report: serde_json::Value = serde_json::from_str(stdout.trim()).expect("one JSON object");
    assert_eq!(report["jobs"], 300);
    for key in ["enqueue_per_s", "process_per_s"] {
        assert!(
            report[key].as_f64().is_some_and(|v| v > 0.0),
            "{key}: {report}"
        );
        assert!(
            report["bare"][key].as_f64().is_some_and(|v| v > 0.0),
            "bare {key}: {report}"
        );
    }
    let namespace = report["namespace"].as_str().expect("namespace");
    let client = redis::Client::open(url.as_str()).expect("Redis URL");
    let mut conn = client.get_connection().expect("Redis is running");
    let left: Vec<String> =
        redis::Commands::scan_match::<_, String>(&mut conn, format!("*{namespace}*"))
            .expect("scan")
            .collect::<Result<_, _>>()
            .expect("keys");
    assert!(left.is_empty(), "keys left behind: {left:?}");
}
