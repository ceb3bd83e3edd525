use hubspot_sim::{RunningSimulator, SimConfig, Simulator};
use serde_json::Value;

pub const CLIENT_ID: &str = "test-client";
pub const CLIENT_SECRET: &str = "test-secret";

/// A started simulator, a client and an all-scopes token for its default portal.
pub struct TestSim {
    pub sim: RunningSimulator,
    pub http: reqwest::Client,
    pub token: String,
    pub portal: u64,
}

pub async fn spawn(contacts: usize) -> TestSim {
    spawn_with(contacts, |_| {}).await
}

pub async fn spawn_with(contacts: usize, tweak: impl FnOnce(&mut SimConfig)) -> TestSim {
    let mut config = SimConfig::new(CLIENT_ID, CLIENT_SECRET);
    config.contacts = contacts;
    config.seed = 7;
    tweak(&mut config);
    let sim = Simulator::start(config).await.expect("simulator starts");
    let portal = sim.portal_id();
    let token = sim
        .issue_tokens(portal)
        .expect("portal exists")
        .access_token;
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    TestSim {
        sim,
        http,
        token,
        portal,
    }
}

impl TestSim {
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.sim.base_url(), path)
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.http
            .get(self.url(path))
            .bearer_auth(&self.token)
            .send()
            .await
            .expect("request sent")
    }

    pub async fn post(&self, path: &str, body: &Value) -> reqwest::Response {
        self.http
            .post(self.url(path))
            .bearer_auth(&self.token)
            .json(body)
            .send()
            .await
            .expect("request sent")
    }

    pub async fn patch(&self, path: &str, body: &Value) -> reqwest::Response {
        self.http
            .patch(self.url(path))
            .bearer_auth(&self.token)
            .json(body)
            .send()
            .await
            .expect("request sent")
    }

    pub async fn delete(&self, path: &str) -> reqwest::Response {
        self.http
            .delete(self.url(path))
            .bearer_auth(&self.token)
            .send()
            .await
            .expect("request sent")
    }
}

/// Status and JSON body.
pub async fn json(response: reqwest::Response) -> (u16, Value) {
    let status = response.status().as_u16();
    let body = response.json::<Value>().await.expect("JSON body");
    (status, body)
}

/// Asserts the HubSpot standard error shape and returns the body.
pub fn assert_error(body: &Value, category: &str) {
    assert_eq!(body["status"], "error", "{body}");
    assert_eq!(body["category"], category, "{body}");
    assert!(
        body["message"].as_str().is_some_and(|m| !m.is_empty()),
        "{body}"
    );
    assert!(
        body["correlationId"]
            .as_str()
            .is_some_and(|c| uuid::Uuid::parse_str(c).is_ok()),
        "{body}"
    );
}
