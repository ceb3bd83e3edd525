//! `conturs demo` runs the main job end to end, as a newcomer's first command would.

use std::process::Command;

#[test]
fn demo_connects_syncs_scores_and_writes_back() {
    let dir = tempfile::tempdir().expect("temp dir");
    let output = Command::new(env!("CARGO_BIN_EXE_conturs"))
        .args(["demo", "--contacts", "3000", "--seed", "7"])
        .env(
            "DATABASE_URL",
            format!("sqlite://{}/demo.db?mode=rwc", dir.path().display()),
        )
        .env("RUST_LOG", "warn")
        .env_remove("REDIS_URL")
        .env_remove("CONTURS_ENV")
        .env_remove("DYNO")
        .output()
        .expect("run conturs demo");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "demo failed: {stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(stdout.contains("through OAuth"), "{stdout}");
    assert!(
        stdout.contains("InitialSync contacts"),
        "progress is shown: {stdout}"
    );
    assert!(stdout.contains("429s: 0"), "{stdout}");
    let line = stdout
        .lines()
        .find(|l| l.starts_with("Contacts: 3000"))
        .unwrap_or_else(|| panic!("no contacts line: {stdout}"));
    let written: usize = line
        .rsplit("written back ")
        .next()
        .and_then(|n| n.trim_end_matches('.').parse().ok())
        .unwrap_or_else(|| panic!("no written-back count in {line:?}"));
    assert!(written > 2_000, "most contacts written back: {line}");
    assert!(stdout.contains("The ten hottest leads"), "{stdout}");
    assert!(
        stdout.contains("Strong fit"),
        "explanations read back from HubSpot: {stdout}"
    );
}
