//! Configuration, read from the environment once at start-up (12-factor, DESIGN §7).
//!
//! Nothing else in Conturs reads environment variables: binaries call [`Settings::from_env`] and
//! pass the typed result down. Every variable is parsed into a domain type here, so a malformed
//! value stops start-up with one line naming the variable instead of failing later mid-job.
//! Empty values count as unset, because platforms often export `VAR=` for "not configured".

use std::collections::HashMap;
use std::fmt;

use secrecy::{ExposeSecret, SecretBox, SecretString};
use url::Url;

/// The variables Conturs reads, so errors and docs use the same spelling.
pub mod vars {
    pub const DATABASE_URL: &str = "DATABASE_URL";
    pub const REDIS_URL: &str = "REDIS_URL";
    pub const PORT: &str = "PORT";
    pub const ENV: &str = "CONTURS_ENV";
    pub const DYNO: &str = "DYNO";
    pub const SECRET_KEY: &str = "CONTURS_SECRET_KEY";
    pub const ADMIN_TOKEN: &str = "CONTURS_ADMIN_TOKEN";
    pub const PUBLIC_URL: &str = "CONTURS_PUBLIC_URL";
    pub const LOG_FORMAT: &str = "CONTURS_LOG_FORMAT";
    pub const LOG_FILTER: &str = "RUST_LOG";
    pub const HUBSPOT_BASE_URL: &str = "HUBSPOT_BASE_URL";
    pub const HUBSPOT_CLIENT_ID: &str = "HUBSPOT_CLIENT_ID";
    pub const HUBSPOT_CLIENT_SECRET: &str = "HUBSPOT_CLIENT_SECRET";
    pub const HUBSPOT_REDIRECT_URI: &str = "HUBSPOT_REDIRECT_URI";
    pub const HUBSPOT_APP_ID: &str = "HUBSPOT_APP_ID";
    pub const HUBSPOT_API_VERSION: &str = "HUBSPOT_API_VERSION";
    pub const NIGHTLY_SCHEDULE: &str = "CONTURS_NIGHTLY_SCHEDULE";
    pub const WORKER_CONCURRENCY: &str = "CONTURS_WORKER_CONCURRENCY";
    pub const QUEUE_NAMESPACE: &str = "CONTURS_QUEUE_NAMESPACE";
    pub const WEBHOOK_V1_SIGNATURES: &str = "CONTURS_WEBHOOK_V1_SIGNATURES";
    pub const DISCONNECTED_RETENTION_DAYS: &str = "CONTURS_DISCONNECTED_RETENTION_DAYS";
}

/// Where the embedded default keeps its data when `DATABASE_URL` is unset.
pub const DEFAULT_DATABASE_URL: &str = "sqlite://conturs.db?mode=rwc";
/// The port `hubspot-sim` listens on by default, so a newcomer's API finds it with nothing set.
pub const DEFAULT_SIMULATOR_URL: &str = "http://127.0.0.1:8090";
/// Real HubSpot, the default in production.
pub const HUBSPOT_PRODUCTION_URL: &str = "https://api.hubapi.com";
const DEFAULT_PORT: u16 = 8080;
/// 00:00 UTC every day, in the `cron` crate's six-field form (seconds first).
pub const DEFAULT_NIGHTLY_SCHEDULE: &str = "0 0 0 * * *";
const DEFAULT_WORKER_CONCURRENCY: usize = 8;
/// How long a disconnected portal's CRM data is kept before retention deletes it.
pub const DEFAULT_DISCONNECTED_RETENTION_DAYS: u64 = 30;
/// Ten years: anything longer is a typo, not a policy.
const MAX_DISCONNECTED_RETENTION_DAYS: u64 = 3_650;
/// Prefix of every Redis key Conturs writes.
pub const DEFAULT_QUEUE_NAMESPACE: &str = "conturs";
/// Development-only secrets. Publicly known: they protect nothing and production refuses them.
const DEV_SECRET_KEY: [u8; 32] = *b"conturs-development-key-32-bytes";
const DEV_ADMIN_TOKEN: &str = "conturs-dev-admin-token";
const DEV_CLIENT_ID: &str = "conturs-dev-client";
const DEV_CLIENT_SECRET: &str = "conturs-dev-client-secret";
const MIN_ADMIN_TOKEN_LEN: usize = 16;

/// A variable that is missing or malformed; the message names it and never echoes a secret.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    #[error("configuration error: {var} is required {why}")]
    Missing {
        var: &'static str,
        why: &'static str,
    },
    #[error("configuration error: {var} {reason}")]
    Invalid { var: &'static str, reason: String },
}

fn invalid(var: &'static str, reason: impl Into<String>) -> ConfigError {
    ConfigError::Invalid {
        var,
        reason: reason.into(),
    }
}

/// Development relaxes secrets to documented defaults; production demands real ones.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Environment {
    Development,
    Production,
}

/// Which SQL database sea-orm talks to; the migrations run on both.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DatabaseKind {
    Sqlite,
    Postgres,
}

/// A validated database URL. Kept secret because Postgres URLs carry passwords.
#[derive(Clone)]
pub struct DatabaseUrl {
    kind: DatabaseKind,
    url: SecretString,
}

impl DatabaseUrl {
    /// Parses a `sqlite:` or `postgres(ql)://` URL.
    pub fn parse(raw: &str) -> Result<Self, ConfigError> {
        let var = vars::DATABASE_URL;
        let kind = if raw.starts_with("sqlite:") {
            DatabaseKind::Sqlite
        } else if raw.starts_with("postgres://") || raw.starts_with("postgresql://") {
            Url::parse(raw).map_err(|e| invalid(var, format!("is not a valid URL: {e}")))?;
            DatabaseKind::Postgres
        } else {
            return Err(invalid(
                var,
                "must start with sqlite: or postgres:// (other databases are not supported)",
            ));
        };
        Ok(Self {
            kind,
            url: SecretString::from(raw.to_owned()),
        })
    }

    pub fn kind(&self) -> DatabaseKind {
        self.kind
    }

    /// The full URL, credentials included: pass it to the driver, never to a log.
    pub fn expose(&self) -> &str {
        self.url.expose_secret()
    }
}

impl fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DatabaseUrl({:?}, [redacted])", self.kind)
    }
}

/// Where jobs are queued: Redis in production, an embedded SQLite queue when `REDIS_URL` is unset.
#[derive(Clone)]
pub enum QueueBackend {
    Redis(SecretString),
    Embedded,
}

impl fmt::Debug for QueueBackend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Redis(_) => f.write_str("Redis([redacted])"),
            Self::Embedded => f.write_str("Embedded"),
        }
    }
}

/// The 256-bit key that encrypts OAuth tokens at rest (AES-256-GCM).
pub struct SecretKey(SecretBox<[u8; 32]>);

impl SecretKey {
    /// Accepts 64 hex characters or standard base64 of exactly 32 bytes.
    pub fn parse(raw: &str) -> Result<Self, ConfigError> {
        use base64::Engine as _;
        let var = vars::SECRET_KEY;
        let raw = raw.trim();
        let bytes = if raw.len() == 64 && raw.bytes().all(|b| b.is_ascii_hexdigit()) {
            hex::decode(raw).map_err(|_| invalid(var, "is not valid hex"))?
        } else {
            base64::engine::general_purpose::STANDARD
                .decode(raw)
                .map_err(|_| {
                    invalid(
                        var,
                        "must be 32 bytes written as 64 hex characters or base64 \
                         (generate one with `openssl rand -hex 32`)",
                    )
                })?
        };
        let key: [u8; 32] = bytes.as_slice().try_into().map_err(|_| {
            invalid(
                var,
                format!(
                    "must decode to exactly 32 bytes, got {} (generate one with `openssl rand -hex 32`)",
                    bytes.len()
                ),
            )
        })?;
        Ok(Self::from_bytes(key))
    }

    pub fn from_bytes(key: [u8; 32]) -> Self {
        Self(SecretBox::new(Box::new(key)))
    }

    pub fn expose(&self) -> &[u8; 32] {
        self.0.expose_secret()
    }
}

impl Clone for SecretKey {
    fn clone(&self) -> Self {
        Self::from_bytes(*self.expose())
    }
}

impl fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretKey([redacted])")
    }
}

/// HubSpot API generation: the legacy numbered paths or the date-versioned ones (API-FACTS §0).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HubSpotApiVersion {
    /// `/crm/v3/...`, `/crm/v4/...`, `/oauth/v1/...`
    Legacy,
    /// `/crm/objects/2026-03/...` and friends.
    V2026_03,
}

impl HubSpotApiVersion {
    fn parse(raw: &str) -> Result<Self, ConfigError> {
        match raw {
            "v3" | "legacy" => Ok(Self::Legacy),
            "2026-03" => Ok(Self::V2026_03),
            other => Err(invalid(
                vars::HUBSPOT_API_VERSION,
                format!("must be `v3` or `2026-03`, got {other:?}"),
            )),
        }
    }
}

/// How Conturs reaches HubSpot (or the simulator) as an OAuth app.
#[derive(Debug, Clone)]
pub struct HubSpotSettings {
    pub base_url: Url,
    pub client_id: String,
    pub client_secret: SecretString,
    pub redirect_uri: Url,
    pub app_id: Option<u64>,
    pub api_version: HubSpotApiVersion,
}

/// Log lines for people (default) or for a log drain.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Human,
    Json,
}

/// Everything a Conturs process needs to know about its surroundings.
#[derive(Debug, Clone)]
pub struct Settings {
    pub environment: Environment,
    pub database_url: DatabaseUrl,
    pub queue: QueueBackend,
    pub port: u16,
    pub public_url: Url,
    pub secret_key: SecretKey,
    pub admin_token: SecretString,
    pub hubspot: HubSpotSettings,
    pub log_format: LogFormat,
    pub log_filter: String,
    /// When the clock fires NightlyResync (cron, UTC).
    pub nightly_schedule: String,
    /// Jobs one worker process runs at once per lane.
    pub worker_concurrency: usize,
    /// Prefix of every queue key, so several apps (or test runs) can share one Redis.
    pub queue_namespace: String,
    /// Also accept HubSpot's v1 webhook signatures (no timestamp, so no replay protection):
    /// only for apps whose subscriptions HubSpot still signs with v1. Off by default.
    pub accept_v1_webhook_signatures: bool,
    /// How long a disconnected portal's CRM data (contacts, companies, deals, scores, history,
    /// models) is kept before the hourly retention pass deletes it; 0 = at the next pass.
    pub disconnected_retention: std::time::Duration,
}

impl Settings {
    /// Reads the process environment.
    pub fn from_env() -> Result<Self, ConfigError> {
        let mut vars = HashMap::new();
        for &var in ALL_VARS {
            if let Some(value) = std::env::var_os(var) {
                let value = value
                    .into_string()
                    .map_err(|_| invalid(var, "is not valid UTF-8"))?;
                vars.insert(var.to_owned(), value);
            }
        }
        Self::from_vars(&vars)
    }

    /// Parses an explicit set of variables; tests use this instead of mutating the process env.
    pub fn from_vars(vars: &HashMap<String, String>) -> Result<Self, ConfigError> {
        let get = |name: &str| {
            vars.get(name)
                .map(|v| v.trim())
                .filter(|v| !v.is_empty())
                .map(str::to_owned)
        };

        let environment = match get(vars::ENV).as_deref() {
            Some("development" | "dev") => Environment::Development,
            Some("production" | "prod") => Environment::Production,
            Some(other) => {
                return Err(invalid(
                    vars::ENV,
                    format!("must be `development` or `production`, got {other:?}"),
                ));
            }
            // Heroku sets DYNO on every dyno: treat that as production.
            None if get(vars::DYNO).is_some() => Environment::Production,
            None => Environment::Development,
        };
        let production = environment == Environment::Production;

        let database_url = match get(vars::DATABASE_URL) {
            Some(raw) => DatabaseUrl::parse(&raw)?,
            None if production => {
                return Err(ConfigError::Missing {
                    var: vars::DATABASE_URL,
                    why: "in production (a postgres:// URL)",
                });
            }
            None => DatabaseUrl::parse(DEFAULT_DATABASE_URL)?,
        };

        let queue = match get(vars::REDIS_URL) {
            Some(raw) => {
                let url = Url::parse(&raw)
                    .map_err(|e| invalid(vars::REDIS_URL, format!("is not a valid URL: {e}")))?;
                if !matches!(url.scheme(), "redis" | "rediss") {
                    return Err(invalid(
                        vars::REDIS_URL,
                        format!("must use redis:// or rediss://, got {}://", url.scheme()),
                    ));
                }
                QueueBackend::Redis(SecretString::from(raw))
            }
            None => QueueBackend::Embedded,
        };

        let port = match get(vars::PORT) {
            Some(raw) => match raw.parse::<u16>() {
                Ok(port) if port > 0 => port,
                _ => {
                    return Err(invalid(
                        vars::PORT,
                        format!("must be a port number 1-65535, got {raw:?}"),
                    ));
                }
            },
            None => DEFAULT_PORT,
        };

        let public_url = match get(vars::PUBLIC_URL) {
            Some(raw) => parse_http_url(vars::PUBLIC_URL, &raw)?,
            None => parse_http_url(vars::PUBLIC_URL, &format!("http://localhost:{port}"))?,
        };

        let secret_key = match get(vars::SECRET_KEY) {
            Some(raw) => SecretKey::parse(&raw)?,
            None if production => {
                return Err(ConfigError::Missing {
                    var: vars::SECRET_KEY,
                    why: "in production (32 random bytes as hex: `openssl rand -hex 32`)",
                });
            }
            None => SecretKey::from_bytes(DEV_SECRET_KEY),
        };

        let admin_token = match get(vars::ADMIN_TOKEN) {
            Some(raw) if raw.len() < MIN_ADMIN_TOKEN_LEN => {
                return Err(invalid(
                    vars::ADMIN_TOKEN,
                    format!("must be at least {MIN_ADMIN_TOKEN_LEN} characters long"),
                ));
            }
            Some(raw) => SecretString::from(raw),
            None if production => {
                return Err(ConfigError::Missing {
                    var: vars::ADMIN_TOKEN,
                    why: "in production (a long random string)",
                });
            }
            None => SecretString::from(DEV_ADMIN_TOKEN),
        };

        let hubspot = HubSpotSettings {
            base_url: match get(vars::HUBSPOT_BASE_URL) {
                Some(raw) => parse_http_url(vars::HUBSPOT_BASE_URL, &raw)?,
                None if production => {
                    parse_http_url(vars::HUBSPOT_BASE_URL, HUBSPOT_PRODUCTION_URL)?
                }
                None => parse_http_url(vars::HUBSPOT_BASE_URL, DEFAULT_SIMULATOR_URL)?,
            },
            client_id: match get(vars::HUBSPOT_CLIENT_ID) {
                Some(raw) => raw,
                None if production => {
                    return Err(ConfigError::Missing {
                        var: vars::HUBSPOT_CLIENT_ID,
                        why: "in production (from your HubSpot app's Auth tab)",
                    });
                }
                None => DEV_CLIENT_ID.to_owned(),
            },
            client_secret: match get(vars::HUBSPOT_CLIENT_SECRET) {
                Some(raw) => SecretString::from(raw),
                None if production => {
                    return Err(ConfigError::Missing {
                        var: vars::HUBSPOT_CLIENT_SECRET,
                        why: "in production (from your HubSpot app's Auth tab)",
                    });
                }
                None => SecretString::from(DEV_CLIENT_SECRET),
            },
            redirect_uri: match get(vars::HUBSPOT_REDIRECT_URI) {
                Some(raw) => parse_http_url(vars::HUBSPOT_REDIRECT_URI, &raw)?,
                None => public_url
                    .join("oauth/hubspot/callback")
                    .map_err(|e| invalid(vars::PUBLIC_URL, format!("cannot be joined: {e}")))?,
            },
            app_id: match get(vars::HUBSPOT_APP_ID) {
                Some(raw) => Some(raw.parse::<u64>().map_err(|_| {
                    invalid(
                        vars::HUBSPOT_APP_ID,
                        format!("must be a numeric app id, got {raw:?}"),
                    )
                })?),
                None => None,
            },
            api_version: match get(vars::HUBSPOT_API_VERSION) {
                Some(raw) => HubSpotApiVersion::parse(&raw)?,
                None => HubSpotApiVersion::V2026_03,
            },
        };

        let log_format = match get(vars::LOG_FORMAT).as_deref() {
            None | Some("human") => LogFormat::Human,
            Some("json") => LogFormat::Json,
            Some(other) => {
                return Err(invalid(
                    vars::LOG_FORMAT,
                    format!("must be `human` or `json`, got {other:?}"),
                ));
            }
        };
        let log_filter = get(vars::LOG_FILTER).unwrap_or_else(|| "info".to_owned());

        let nightly_schedule =
            get(vars::NIGHTLY_SCHEDULE).unwrap_or_else(|| DEFAULT_NIGHTLY_SCHEDULE.to_owned());
        <cron::Schedule as std::str::FromStr>::from_str(&nightly_schedule).map_err(|e| {
            // The parser's message points at the column over several lines; keep its verdict.
            let e = e.to_string();
            let e = e.lines().last().unwrap_or_default().to_owned();
            invalid(
                vars::NIGHTLY_SCHEDULE,
                format!(
                    "is not a cron schedule (sec min hour day month weekday, UTC): {nightly_schedule:?}: {e}"
                ),
            )
        })?;

        let worker_concurrency = match get(vars::WORKER_CONCURRENCY) {
            Some(raw) => match raw.parse::<usize>() {
                Ok(n) if (1..=256).contains(&n) => n,
                _ => {
                    return Err(invalid(
                        vars::WORKER_CONCURRENCY,
                        format!("must be a number from 1 to 256, got {raw:?}"),
                    ));
                }
            },
            None => DEFAULT_WORKER_CONCURRENCY,
        };

        let queue_namespace = match get(vars::QUEUE_NAMESPACE) {
            Some(raw) => {
                let valid = raw.len() <= 64
                    && raw
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
                if !valid {
                    return Err(invalid(
                        vars::QUEUE_NAMESPACE,
                        format!("must be at most 64 letters, digits, `-`, `_` or `.`, got {raw:?}"),
                    ));
                }
                raw
            }
            None => DEFAULT_QUEUE_NAMESPACE.to_owned(),
        };

        let accept_v1_webhook_signatures = match get(vars::WEBHOOK_V1_SIGNATURES).as_deref() {
            None => false,
            Some(raw) => match raw.to_ascii_lowercase().as_str() {
                "true" | "1" | "yes" | "on" => true,
                "false" | "0" | "no" | "off" => false,
                _ => {
                    return Err(invalid(
                        vars::WEBHOOK_V1_SIGNATURES,
                        format!("must be true or false, got {raw:?}"),
                    ));
                }
            },
        };

        let disconnected_retention = match get(vars::DISCONNECTED_RETENTION_DAYS) {
            None => DEFAULT_DISCONNECTED_RETENTION_DAYS,
            Some(raw) => match raw.trim().parse::<u64>() {
                Ok(days) if days <= MAX_DISCONNECTED_RETENTION_DAYS => days,
                _ => {
                    return Err(invalid(
                        vars::DISCONNECTED_RETENTION_DAYS,
                        format!(
                            "must be a whole number of days from 0 to {MAX_DISCONNECTED_RETENTION_DAYS}, got {raw:?}"
                        ),
                    ));
                }
            },
        };
        let disconnected_retention =
            std::time::Duration::from_secs(disconnected_retention * 86_400);

        Ok(Self {
            environment,
            database_url,
            queue,
            port,
            public_url,
            secret_key,
            admin_token,
            hubspot,
            log_format,
            log_filter,
            nightly_schedule,
            worker_concurrency,
            queue_namespace,
            accept_v1_webhook_signatures,
            disconnected_retention,
        })
    }

    /// Names the development defaults in use, so start-up can warn about each one.
    pub fn insecure_defaults(&self) -> Vec<&'static str> {
        let mut found = Vec::new();
        if self.secret_key.expose() == &DEV_SECRET_KEY {
            found.push(vars::SECRET_KEY);
        }
        if self.admin_token.expose_secret() == DEV_ADMIN_TOKEN {
            found.push(vars::ADMIN_TOKEN);
        }
        if self.hubspot.client_secret.expose_secret() == DEV_CLIENT_SECRET {
            found.push(vars::HUBSPOT_CLIENT_SECRET);
        }
        found
    }
}

const ALL_VARS: &[&str] = &[
    vars::WEBHOOK_V1_SIGNATURES,
    vars::DISCONNECTED_RETENTION_DAYS,
    vars::DATABASE_URL,
    vars::REDIS_URL,
    vars::PORT,
    vars::ENV,
    vars::DYNO,
    vars::SECRET_KEY,
    vars::ADMIN_TOKEN,
    vars::PUBLIC_URL,
    vars::LOG_FORMAT,
    vars::LOG_FILTER,
    vars::HUBSPOT_BASE_URL,
    vars::HUBSPOT_CLIENT_ID,
    vars::HUBSPOT_CLIENT_SECRET,
    vars::HUBSPOT_REDIRECT_URI,
    vars::HUBSPOT_APP_ID,
    vars::HUBSPOT_API_VERSION,
    vars::NIGHTLY_SCHEDULE,
    vars::WORKER_CONCURRENCY,
    vars::QUEUE_NAMESPACE,
];

fn parse_http_url(var: &'static str, raw: &str) -> Result<Url, ConfigError> {
    let url = Url::parse(raw).map_err(|e| invalid(var, format!("is not a valid URL: {e}")))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(invalid(
            var,
            format!(
                "must be an http:// or https:// URL, got {}://",
                url.scheme()
            ),
        ));
    }
    Ok(url)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(pairs: &[(&str, &str)]) -> Result<Settings, ConfigError> {
        let vars = pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        Settings::from_vars(&vars)
    }

    fn error_for(pairs: &[(&str, &str)]) -> ConfigError {
        match settings(pairs) {
            Ok(_) => panic!("expected a configuration error for {pairs:?}"),
            Err(e) => e,
        }
    }

    fn assert_names(err: &ConfigError, var: &str) {
        let text = err.to_string();
        assert!(text.contains(var), "error {text:?} should name {var}");
        assert!(!text.contains('\n'), "error should be one line: {text:?}");
    }

    #[test]
    fn v1_webhook_signatures_are_a_clear_yes_or_no() {
        for (raw, want) in [("true", true), ("ON", true), ("1", true), ("no", false)] {
            let s = settings(&[(vars::WEBHOOK_V1_SIGNATURES, raw)]).expect("parses");
            assert_eq!(s.accept_v1_webhook_signatures, want, "{raw}");
        }
        assert_names(
            &error_for(&[(vars::WEBHOOK_V1_SIGNATURES, "sometimes")]),
            vars::WEBHOOK_V1_SIGNATURES,
        );
    }

    #[test]
    fn nothing_set_gives_embedded_development_defaults() {
        let s = settings(&[]).expect("defaults must parse");
        assert_eq!(s.environment, Environment::Development);
        assert_eq!(s.database_url.kind(), DatabaseKind::Sqlite);
        assert!(matches!(s.queue, QueueBackend::Embedded));
        assert_eq!(s.port, 8080);
        assert_eq!(s.hubspot.base_url.as_str(), "http://127.0.0.1:8090/");
        assert_eq!(
            s.hubspot.redirect_uri.as_str(),
            "http://localhost:8080/oauth/hubspot/callback"
        );
        assert_eq!(s.log_format, LogFormat::Human);
        assert_eq!(s.nightly_schedule, "0 0 0 * * *");
        assert_eq!(s.worker_concurrency, 8);
        assert_eq!(s.queue_namespace, "conturs");
        assert!(!s.accept_v1_webhook_signatures);
        assert_eq!(
            s.disconnected_retention,
            std::time::Duration::from_secs(30 * 86_400)
        );
        assert_eq!(
            s.insecure_defaults(),
            vec![
                vars::SECRET_KEY,
                vars::ADMIN_TOKEN,
                vars::HUBSPOT_CLIENT_SECRET
            ]
        );
    }

    #[test]
    fn full_production_configuration_parses() {
        let key = "11".repeat(32);
        let s = settings(&[
            ("DYNO", "web.1"),
            (
                "DATABASE_URL",
                "postgres://u:p@db.example:5432/conturs?sslmode=require",
            ),
            ("REDIS_URL", "rediss://:pw@redis.example:6380#insecure"),
            ("PORT", "5000"),
            ("CONTURS_SECRET_KEY", &key),
            ("CONTURS_ADMIN_TOKEN", "a-long-admin-token-value"),
            ("CONTURS_PUBLIC_URL", "https://conturs.example"),
            ("HUBSPOT_CLIENT_ID", "abc"),
            ("HUBSPOT_CLIENT_SECRET", "shh"),
            ("HUBSPOT_APP_ID", "12345"),
            ("HUBSPOT_API_VERSION", "v3"),
            ("CONTURS_LOG_FORMAT", "json"),
        ])
        .expect("production settings must parse");
        assert_eq!(s.environment, Environment::Production);
        assert_eq!(s.database_url.kind(), DatabaseKind::Postgres);
        assert!(matches!(s.queue, QueueBackend::Redis(_)));
        assert_eq!(s.port, 5000);
        assert_eq!(s.secret_key.expose(), &[0x11; 32]);
        assert_eq!(s.hubspot.base_url.as_str(), "https://api.hubapi.com/");
        assert_eq!(
            s.hubspot.redirect_uri.as_str(),
            "https://conturs.example/oauth/hubspot/callback"
        );
        assert_eq!(s.hubspot.app_id, Some(12345));
        assert_eq!(s.hubspot.api_version, HubSpotApiVersion::Legacy);
        assert_eq!(s.log_format, LogFormat::Json);
        assert!(s.insecure_defaults().is_empty());
    }

    #[test]
    fn debug_output_redacts_every_secret() {
        let s = settings(&[
            ("DATABASE_URL", "postgres://user:db-password-xyz@h/db"),
            ("REDIS_URL", "redis://:redis-password-xyz@h:6379"),
            ("CONTURS_SECRET_KEY", &"ab".repeat(32)),
            ("CONTURS_ADMIN_TOKEN", "admin-token-value-xyz"),
            ("HUBSPOT_CLIENT_SECRET", "client-secret-xyz"),
        ])
        .expect("settings must parse");
        let shown = format!("{s:?}");
        for secret in [
            "db-password-xyz",
            "redis-password-xyz",
            "admin-token-value-xyz",
            "client-secret-xyz",
            "171, 171", // the key bytes 0xab as Debug would print them
        ] {
            assert!(!shown.contains(secret), "{secret} leaked into {shown}");
        }
    }

    #[test]
    fn empty_values_count_as_unset() {
        let s = settings(&[("REDIS_URL", ""), ("PORT", "  ")]).expect("must parse");
        assert!(matches!(s.queue, QueueBackend::Embedded));
        assert_eq!(s.port, 8080);
    }

    #[test]
    fn each_malformed_variable_is_named() {
        let cases: &[(&str, &str)] = &[
            ("DATABASE_URL", "mysql://localhost/db"),
            ("DATABASE_URL", "postgres://[::1"),
            ("REDIS_URL", "http://localhost:6379"),
            ("REDIS_URL", "not a url"),
            ("PORT", "http"),
            ("PORT", "0"),
            ("PORT", "70000"),
            ("CONTURS_ENV", "staging"),
            ("CONTURS_SECRET_KEY", "too-short"),
            ("CONTURS_SECRET_KEY", &"ab".repeat(31)),
            ("CONTURS_ADMIN_TOKEN", "short"),
            ("CONTURS_PUBLIC_URL", "ftp://example.com"),
            ("CONTURS_LOG_FORMAT", "xml"),
            ("HUBSPOT_BASE_URL", "api.hubapi.com"),
            ("HUBSPOT_REDIRECT_URI", "/callback"),
            ("HUBSPOT_APP_ID", "twelve"),
            ("HUBSPOT_API_VERSION", "v9"),
            ("CONTURS_NIGHTLY_SCHEDULE", "at midnight"),
            ("CONTURS_NIGHTLY_SCHEDULE", "0 0 25 * * *"),
            ("CONTURS_WORKER_CONCURRENCY", "0"),
            ("CONTURS_WORKER_CONCURRENCY", "many"),
            ("CONTURS_QUEUE_NAMESPACE", "has spaces"),
            ("CONTURS_QUEUE_NAMESPACE", "a:b"),
            ("CONTURS_DISCONNECTED_RETENTION_DAYS", "a month"),
            ("CONTURS_DISCONNECTED_RETENTION_DAYS", "-1"),
            ("CONTURS_DISCONNECTED_RETENTION_DAYS", "2.5"),
            ("CONTURS_DISCONNECTED_RETENTION_DAYS", "99999"),
        ];
        for (var, value) in cases {
            let err = error_for(&[(var, value)]);
            assert_names(&err, var);
        }
    }

    #[test]
    fn secret_values_never_appear_in_errors() {
        let err = error_for(&[("CONTURS_SECRET_KEY", "my-secret-but-wrong-length")]);
        assert!(!err.to_string().contains("my-secret-but-wrong-length"));
        let err = error_for(&[("CONTURS_ADMIN_TOKEN", "tiny-secret")]);
        assert!(!err.to_string().contains("tiny-secret"));
    }

    #[test]
    fn production_requires_real_secrets() {
        let base = [
            ("CONTURS_ENV", "production"),
            ("DATABASE_URL", "postgres://h/db"),
        ];
        let key = "11".repeat(32);
        let required = [
            ("CONTURS_SECRET_KEY", key.as_str()),
            ("CONTURS_ADMIN_TOKEN", "a-long-admin-token-value"),
            ("HUBSPOT_CLIENT_ID", "id"),
            ("HUBSPOT_CLIENT_SECRET", "secret"),
        ];
        for missing in 0..required.len() {
            let mut pairs = base.to_vec();
            pairs.extend(
                required
                    .iter()
                    .enumerate()
                    .filter(|(i, _)| *i != missing)
                    .map(|(_, p)| *p),
            );
            let err = error_for(&pairs);
            assert!(
                matches!(err, ConfigError::Missing { var, .. } if var == required[missing].0),
                "expected {} to be reported missing, got {err}",
                required[missing].0
            );
        }
        let err = error_for(&[("CONTURS_ENV", "production")]);
        assert_names(&err, "DATABASE_URL");
    }

    #[test]
    fn secret_key_accepts_hex_and_base64() {
        let hex_key = SecretKey::parse(&"0f".repeat(32)).expect("hex");
        assert_eq!(hex_key.expose(), &[0x0f; 32]);
        let b64 = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";
        let b64_key = SecretKey::parse(b64).expect("base64");
        assert_eq!(b64_key.expose()[31], 31);
    }
}
