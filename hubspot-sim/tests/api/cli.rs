use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

/// The binary starts on a free port, prints its base URL and portal id, and serves the portal
/// with the private-app token.
#[tokio::test]
async fn binary_prints_base_url_and_portal_id_and_serves() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_hubspot-sim"))
        .args([
            "--port",
            "0",
            "--seed",
            "9",
            "--contacts",
            "150",
            "--client-id",
            "cid",
            "--client-secret",
            "secret",
            "--private-app-token",
            "pat-test",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("binary starts");
    let stdout = child.stdout.take().expect("piped stdout");
    let mut lines = BufReader::new(stdout).lines();
    let base = lines.next().expect("a line").expect("utf-8");
    let portal = lines.next().expect("a line").expect("utf-8");
    let base = base
        .strip_prefix("HUBSPOT_BASE_URL=")
        .expect("base URL line")
        .to_owned();
    let portal = portal
        .strip_prefix("PORTAL_ID=")
        .expect("portal line")
        .to_owned();
    let response = reqwest::Client::new()
        .get(format!("{base}/crm/v3/objects/contacts?limit=5"))
        .bearer_auth("pat-test")
        .send()
        .await
        .expect("sent");
    assert_eq!(response.status().as_u16(), 200);
    let body: serde_json::Value = response.json().await.expect("json");
    assert_eq!(body["results"].as_array().map(Vec::len), Some(5));
    let portals: serde_json::Value = reqwest::get(format!("{base}/_sim/portals"))
        .await
        .expect("sent")
        .json()
        .await
        .expect("json");
    assert_eq!(portals["results"][0]["portalId"].to_string(), portal);
    assert_eq!(portals["results"][0]["contacts"], 150);
    child.kill().expect("the child we started");
    child.wait().expect("reaped");
}
