//! The HTTP client of the operator commands: where the API is, the admin token, and turning
//! every answer that is not a success into a [`CliError`] carrying the API's error code.

use reqwest::{Method, StatusCode};
use serde::Serialize;
use serde::de::DeserializeOwned;
use url::Url;

use crate::error::CliError;

/// Connection options every API command takes.
#[derive(clap::Args, Clone, Debug)]
pub struct ApiArgs {
    /// Base URL of the Conturs API.
    #[arg(long, env = "CONTURS_API_URL", default_value = "http://127.0.0.1:8080")]
    pub api_url: String,
    /// The admin bearer token (the API's CONTURS_ADMIN_TOKEN).
    #[arg(long, env = "CONTURS_ADMIN_TOKEN", hide_env_values = true)]
    pub token: Option<String>,
    /// Print JSON (the API's own objects) instead of a table.
    #[arg(long)]
    pub json: bool,
}

/// An authenticated client of one API.
#[derive(Clone, Debug)]
pub struct ApiClient {
    http: reqwest::Client,
    base: Url,
    token: String,
}

/// The API's error body (`{"status", "code", "message"}`).
#[derive(serde::Deserialize)]
struct ErrorBody {
    code: String,
    message: String,
}

impl ApiClient {
    /// Checks the options (URL parses, token given) before any request is made.
    pub fn new(args: &ApiArgs) -> Result<Self, CliError> {
        let base: Url = args.api_url.parse().map_err(|e| {
            CliError::Config(format!("--api-url {:?} is not a URL: {e}", args.api_url))
        })?;
        if !matches!(base.scheme(), "http" | "https") {
            return Err(CliError::Config(format!(
                "--api-url must be http:// or https://, got {:?}",
                args.api_url
            )));
        }
        let token = args
            .token
            .clone()
            .filter(|t| !t.trim().is_empty())
            .ok_or_else(|| {
                CliError::Config(
                    "no admin token: pass --token or set CONTURS_ADMIN_TOKEN".to_owned(),
                )
            })?;
        let http = reqwest::Client::builder()
            .connect_timeout(std::time::Duration::from_secs(10))
            .build()
            .map_err(|e| CliError::Unreachable(format!("HTTP client: {e}")))?;
        Ok(Self { http, base, token })
    }

    /// `base` + `path` (path starts with `/`).
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base.as_str().trim_end_matches('/'))
    }

    /// GET `path` and decode the JSON answer.
    pub async fn get<T: DeserializeOwned>(&self, path: &str) -> Result<T, CliError> {
        let response = self.send(Method::GET, path, None::<&()>).await?;
        decode(response, path).await
    }

    /// POST `body` as JSON to `path` and decode the JSON answer.
    pub async fn post<B: Serialize, T: DeserializeOwned>(
        &self,
        path: &str,
        body: &B,
    ) -> Result<T, CliError> {
        let response = self.send(Method::POST, path, Some(body)).await?;
        decode(response, path).await
    }

    /// Sends a request; a success status is returned as is (for streams), anything else is
    /// the API's error.
    pub async fn send<B: Serialize>(
        &self,
        method: Method,
        path: &str,
        body: Option<&B>,
    ) -> Result<reqwest::Response, CliError> {
        let url = self.url(path);
        let mut request = self.http.request(method, &url).bearer_auth(&self.token);
        if let Some(body) = body {
            request = request.json(body);
        }
        let response = request.send().await.map_err(|e| {
            CliError::Unreachable(format!("cannot reach the API at {url}: {}", chain(&e)))
        })?;
        if response.status().is_success() {
            return Ok(response);
        }
        Err(api_error(response).await)
    }
}

/// The API's error from a failed answer (or a made-up code when the body is not ours).
async fn api_error(response: reqwest::Response) -> CliError {
    let status = response.status();
    let text = response.text().await.unwrap_or_default();
    match serde_json::from_str::<ErrorBody>(&text) {
        Ok(body) => CliError::Api {
            status: status.as_u16(),
            code: body.code,
            message: body.message,
        },
        Err(_) => CliError::Api {
            status: status.as_u16(),
            code: fallback_code(status).to_owned(),
            message: text.chars().take(200).collect(),
        },
    }
}

fn fallback_code(status: StatusCode) -> &'static str {
    match status {
        StatusCode::NOT_FOUND => "not_found",
        StatusCode::UNAUTHORIZED => "unauthorized",
        s if s.is_server_error() => "server_error",
        _ => "http_error",
    }
}

async fn decode<T: DeserializeOwned>(
    response: reqwest::Response,
    path: &str,
) -> Result<T, CliError> {
    let text = response
        .text()
        .await
        .map_err(|e| CliError::Unreachable(format!("reading the answer to {path}: {e}")))?;
    serde_json::from_str(&text).map_err(|e| {
        CliError::Unreachable(format!(
            "the answer to {path} is not what the API sends ({e}); is --api-url a Conturs API?"
        ))
    })
}

/// Runs an async command on a small runtime (the commands are a few requests each).
pub fn block_on<F: std::future::Future<Output = anyhow::Result<()>>>(
    future: F,
) -> anyhow::Result<()> {
    platform::tls::install_crypto_provider();
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?
        .block_on(future)
}

/// An error with its causes, `a: b: c` (reqwest hides the useful part in the sources).
pub fn chain(error: &dyn std::error::Error) -> String {
    let mut out = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let text = cause.to_string();
        if !out.contains(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
        source = cause.source();
    }
    out
}
