//! The error taxonomy: every failure is classified by what the caller should do about it.
//!
//! HubSpot's error bodies are parsed here (API-FACTS §5) so callers never look at status codes:
//! a job stops at once on [`HubSpotError::NeedsReconnect`] or [`HubSpotError::MissingScopes`],
//! waits on [`HubSpotError::RateLimited`], retries [`HubSpotError::Transient`] and records
//! [`HubSpotError::InvalidRequest`] without retrying.

use std::collections::BTreeMap;
use std::time::Duration;

use reqwest::header::HeaderMap;
use serde::Deserialize;

/// The minimum pause HubSpot asks for after a 423 Locked ("locks last for 2 seconds").
pub const LOCKED_MIN_WAIT: Duration = Duration::from_secs(2);
/// HubSpot's rolling window for the per-portal limit, used when no header says otherwise.
pub const DEFAULT_ROLLING_WINDOW: Duration = Duration::from_secs(10);

/// What went wrong, phrased as what the caller must do next.
#[derive(Debug, Clone, thiserror::Error)]
pub enum HubSpotError {
    /// The portal's grant is gone (revoked, uninstalled, bad refresh token): ask the user to reconnect.
    #[error("HubSpot connection must be re-authorised: {reason}")]
    NeedsReconnect { reason: String },
    /// The app lacks scopes for this call: the user must reinstall with the listed scopes.
    #[error("HubSpot app is missing scopes {required:?}: {message}")]
    MissingScopes {
        required: Vec<String>,
        message: String,
    },
    /// HubSpot (or our own shared budget) says wait; `retry_after` is how long.
    #[error("HubSpot rate limit {policy:?} reached; retry after {retry_after:?}")]
    RateLimited {
        policy: RateLimitPolicy,
        retry_after: Duration,
    },
    /// A temporary failure (5xx, 423, timeout, connection, malformed body): retrying may succeed.
    #[error("transient HubSpot failure ({reason})")]
    Transient {
        reason: String,
        /// A minimum wait HubSpot asked for (423: 2 s, 477: `Retry-After`), if any.
        min_wait: Option<Duration>,
    },
    /// The request itself is wrong (validation, bad property, …): retrying cannot help.
    #[error("HubSpot rejected the request ({status}): {}", .body.message)]
    InvalidRequest {
        status: u16,
        body: Box<ApiErrorBody>,
    },
    /// The object, property or token does not exist.
    #[error("HubSpot object not found: {message}")]
    NotFound { message: String },
    /// The object already exists (409): idempotent callers treat this as success.
    #[error("HubSpot object already exists: {message}")]
    Conflict { message: String },
    /// The access token expired or was rejected; the client refreshes once and retries.
    #[error("HubSpot access token rejected ({category})")]
    Unauthorized { category: String },
    /// The client could not keep its rate budget (Redis unreachable) or store tokens.
    #[error("HubSpot client infrastructure failure: {0}")]
    Infrastructure(String),
}

/// Which HubSpot limit a 429 refers to; each wants a different wait (API-FACTS §5, §6).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RateLimitPolicy {
    /// 110 requests per rolling 10 s per installed portal.
    TenSecondlyRolling,
    /// The legacy per-second limit, also what search answers with.
    Secondly,
    /// The daily limit (private apps only): waiting a few seconds is pointless.
    Daily,
    /// Our own shared budget refused to wait that long.
    LocalBudget,
    Other(String),
}

impl RateLimitPolicy {
    fn parse(policy_name: Option<&str>, message: &str) -> Self {
        match policy_name {
            Some("TEN_SECONDLY_ROLLING") => Self::TenSecondlyRolling,
            Some("SECONDLY") => Self::Secondly,
            Some("DAILY") => Self::Daily,
            Some(other) => Self::Other(other.to_owned()),
            None if message.contains("secondly limit") => Self::Secondly,
            None if message.contains("daily limit") => Self::Daily,
            None => Self::TenSecondlyRolling,
        }
    }
}

/// What the caller should do; a compact view of [`HubSpotError`] for job status and metrics.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    NeedsReconnect,
    MissingScopes,
    RateLimited,
    Transient,
    InvalidRequest,
    NotFound,
    Conflict,
    Unauthorized,
    Infrastructure,
}

impl HubSpotError {
    pub fn kind(&self) -> ErrorKind {
        match self {
            Self::NeedsReconnect { .. } => ErrorKind::NeedsReconnect,
            Self::MissingScopes { .. } => ErrorKind::MissingScopes,
            Self::RateLimited { .. } => ErrorKind::RateLimited,
            Self::Transient { .. } => ErrorKind::Transient,
            Self::InvalidRequest { .. } => ErrorKind::InvalidRequest,
            Self::NotFound { .. } => ErrorKind::NotFound,
            Self::Conflict { .. } => ErrorKind::Conflict,
            Self::Unauthorized { .. } => ErrorKind::Unauthorized,
            Self::Infrastructure(_) => ErrorKind::Infrastructure,
        }
    }

    /// Whether waiting and trying the same request again can succeed.
    pub fn is_retryable(&self) -> bool {
        match self {
            Self::RateLimited { policy, .. } => *policy != RateLimitPolicy::Daily,
            Self::Transient { .. } | Self::Infrastructure(_) => true,
            _ => false,
        }
    }

    /// Whether a job must stop for good and show the user a status (no retry can fix it).
    pub fn is_permanent(&self) -> bool {
        matches!(
            self,
            Self::NeedsReconnect { .. } | Self::MissingScopes { .. }
        )
    }

    /// The properties a write named that HubSpot says do not exist (400
    /// `PROPERTY_DOESNT_EXIST`): deleted by a user, or never created. Empty for any other error.
    pub fn missing_properties(&self) -> Vec<String> {
        let Self::InvalidRequest { status: 400, body } = self else {
            return Vec::new();
        };
        let mut names: Vec<String> = body
            .errors
            .iter()
            .filter(|d| d.code.as_deref() == Some("PROPERTY_DOESNT_EXIST"))
            .flat_map(|d| d.context.get("propertyName").into_iter().flatten().cloned())
            .collect();
        names.sort();
        names.dedup();
        names
    }

    /// The wait HubSpot demands before the next attempt, if it demands one.
    pub fn required_wait(&self) -> Option<Duration> {
        match self {
            Self::RateLimited { retry_after, .. } => Some(*retry_after),
            Self::Transient { min_wait, .. } => *min_wait,
            _ => None,
        }
    }

    /// A short label for logs and metrics (`retry reason`).
    pub fn reason_label(&self) -> &'static str {
        match self {
            Self::RateLimited {
                policy: RateLimitPolicy::LocalBudget,
                ..
            } => "local_budget",
            Self::RateLimited { .. } => "rate_limited",
            Self::Transient { reason, .. } if reason.starts_with("timeout") => "timeout",
            Self::Transient { reason, .. } if reason.starts_with("connection") => "connection",
            Self::Transient { reason, .. } if reason.starts_with("malformed") => "malformed_body",
            Self::Transient { .. } => "server_error",
            Self::Infrastructure(_) => "infrastructure",
            Self::NeedsReconnect { .. } => "needs_reconnect",
            Self::MissingScopes { .. } => "missing_scopes",
            Self::InvalidRequest { .. } => "invalid_request",
            Self::NotFound { .. } => "not_found",
            Self::Conflict { .. } => "conflict",
            Self::Unauthorized { .. } => "unauthorized",
        }
    }

    pub(crate) fn transient(reason: impl Into<String>) -> Self {
        Self::Transient {
            reason: reason.into(),
            min_wait: None,
        }
    }

    /// Classifies a transport failure from reqwest (no HTTP status was received).
    pub(crate) fn from_transport(err: &reqwest::Error) -> Self {
        let kind = if err.is_timeout() {
            "timeout"
        } else if err.is_connect() {
            "connection refused or reset"
        } else if err.is_decode() || err.is_body() {
            "malformed or truncated body"
        } else {
            "connection failed"
        };
        Self::transient(format!("{kind}: {err}"))
    }
}

/// HubSpot's standard error body (and the OAuth variant); every field is optional (D-ERR).
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ApiErrorBody {
    pub status: Option<String>,
    pub message: String,
    pub category: Option<String>,
    pub sub_category: Option<String>,
    pub correlation_id: Option<String>,
    pub errors: Vec<ApiErrorDetail>,
    pub context: BTreeMap<String, Vec<String>>,
    /// 429 bodies name the limit they hit.
    pub policy_name: Option<String>,
    pub error_type: Option<String>,
    /// OAuth token endpoint errors (`invalid_grant`, …).
    pub error: Option<String>,
    pub error_description: Option<String>,
}

/// One entry of `errors[]`: a per-field or per-input problem.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ApiErrorDetail {
    pub message: String,
    pub code: Option<String>,
    pub sub_category: Option<String>,
    pub context: BTreeMap<String, Vec<String>>,
}

impl ApiErrorBody {
    /// Parses a body leniently: a body that is not JSON still yields its text as the message.
    pub fn parse(body: &[u8]) -> Self {
        match serde_json::from_slice::<Self>(body) {
            Ok(mut parsed) => {
                if parsed.message.is_empty() {
                    parsed.message = parsed
                        .error_description
                        .clone()
                        .or_else(|| parsed.error.clone())
                        .unwrap_or_default();
                }
                parsed
            }
            Err(_) => Self {
                message: String::from_utf8_lossy(&body[..body.len().min(512)]).into_owned(),
                ..Self::default()
            },
        }
    }

    fn is_bad_grant(&self) -> bool {
        self.error.as_deref() == Some("invalid_grant")
            || self.status.as_deref() == Some("BAD_REFRESH_TOKEN")
            || self.status.as_deref() == Some("BAD_AUTH_CODE")
    }

    fn required_scopes(&self) -> Vec<String> {
        let mut scopes: Vec<String> = self
            .errors
            .iter()
            .flat_map(|d| {
                ["requiredGranularScopes", "requiredScopes"]
                    .iter()
                    .filter_map(|k| d.context.get(*k))
                    .flatten()
                    .cloned()
                    .collect::<Vec<_>>()
            })
            .collect();
        scopes.extend(
            self.context
                .get("requiredScopes")
                .into_iter()
                .flatten()
                .cloned(),
        );
        scopes.sort();
        scopes.dedup();
        scopes
    }

    fn names_missing_scopes(&self) -> bool {
        self.category.as_deref() == Some("MISSING_SCOPES")
            || !self.required_scopes().is_empty()
            || self.message.contains("required scopes")
    }
}

/// Turns a non-success HTTP answer into the taxonomy. `headers` supply `Retry-After` and
/// the rolling-window length for 429s.
pub fn classify(status: u16, headers: &HeaderMap, body: &[u8]) -> HubSpotError {
    let parsed = ApiErrorBody::parse(body);
    let retry_after = header_retry_after(headers);
    match status {
        400 | 401 if parsed.is_bad_grant() => HubSpotError::NeedsReconnect {
            reason: non_empty(
                &parsed.message,
                "refresh token is invalid, expired or revoked",
            ),
        },
        401 => HubSpotError::Unauthorized {
            category: parsed
                .category
                .clone()
                .unwrap_or_else(|| "INVALID_AUTHENTICATION".to_owned()),
        },
        403 if parsed.names_missing_scopes() => HubSpotError::MissingScopes {
            required: parsed.required_scopes(),
            message: parsed.message,
        },
        404 => HubSpotError::NotFound {
            message: parsed.message,
        },
        409 => HubSpotError::Conflict {
            message: parsed.message,
        },
        423 => HubSpotError::Transient {
            reason: format!("423 locked: {}", parsed.message),
            min_wait: Some(retry_after.unwrap_or(LOCKED_MIN_WAIT).max(LOCKED_MIN_WAIT)),
        },
        429 => {
            let policy = RateLimitPolicy::parse(parsed.policy_name.as_deref(), &parsed.message);
            let wait = retry_after.unwrap_or(match policy {
                RateLimitPolicy::Secondly => Duration::from_secs(1),
                RateLimitPolicy::Daily => Duration::from_secs(3600),
                _ => header_interval(headers).unwrap_or(DEFAULT_ROLLING_WINDOW),
            });
            HubSpotError::RateLimited {
                policy,
                retry_after: wait,
            }
        }
        477 => HubSpotError::Transient {
            reason: format!("477 migration in progress: {}", parsed.message),
            min_wait: retry_after,
        },
        500..=599 => HubSpotError::Transient {
            reason: format!("{status} server error: {}", parsed.message),
            min_wait: retry_after,
        },
        _ => HubSpotError::InvalidRequest {
            status,
            body: Box::new(parsed),
        },
    }
}

fn non_empty(text: &str, fallback: &str) -> String {
    if text.is_empty() {
        fallback.to_owned()
    } else {
        text.to_owned()
    }
}

fn header_retry_after(headers: &HeaderMap) -> Option<Duration> {
    let secs: f64 = headers
        .get("retry-after")?
        .to_str()
        .ok()?
        .trim()
        .parse()
        .ok()?;
    (secs.is_finite() && secs >= 0.0).then(|| Duration::from_secs_f64(secs))
}

fn header_interval(headers: &HeaderMap) -> Option<Duration> {
    let ms: u64 = headers
        .get("x-hubspot-ratelimit-interval-milliseconds")?
        .to_str()
        .ok()?
        .parse()
        .ok()?;
    (ms > 0).then(|| Duration::from_millis(ms))
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    fn no_headers() -> HeaderMap {
        HeaderMap::new()
    }

    #[test]
    fn bad_refresh_token_needs_reconnect() {
        let body = br#"{"error":"invalid_grant","error_description":"refresh token is invalid, expired or revoked","status":"BAD_REFRESH_TOKEN","message":"refresh token is invalid, expired or revoked"}"#;
        let err = classify(400, &no_headers(), body);
        assert_eq!(err.kind(), ErrorKind::NeedsReconnect);
        assert!(err.is_permanent());
        assert!(!err.is_retryable());
    }

    #[test]
    fn expired_token_is_unauthorized_not_reconnect() {
        let body = br#"{"status":"error","message":"The OAuth token used to make this call expired 0 second(s) ago.","correlationId":"x","category":"EXPIRED_AUTHENTICATION","context":{"expire time":["2026-03-10T23:04:41.164Z"]}}"#;
        match classify(401, &no_headers(), body) {
            HubSpotError::Unauthorized { category } => {
                assert_eq!(category, "EXPIRED_AUTHENTICATION")
            }
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn missing_scopes_lists_the_required_ones() {
        let body = br#"{"status":"error","message":"This app hasn't been granted all required scopes to make this call.","correlationId":"x","errors":[{"message":"One or more of the following scopes are required.","context":{"requiredGranularScopes":["crm.objects.contacts.write"]}}],"category":"MISSING_SCOPES"}"#;
        match classify(403, &no_headers(), body) {
            HubSpotError::MissingScopes { required, .. } => {
                assert_eq!(required, vec!["crm.objects.contacts.write".to_owned()])
            }
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn ten_secondly_429_waits_the_window_from_headers() {
        let body = br#"{"status":"error","message":"You have reached your ten_secondly_rolling limit.","errorType":"RATE_LIMIT","correlationId":"c","policyName":"TEN_SECONDLY_ROLLING","groupName":"publicapi:x"}"#;
        let mut headers = HeaderMap::new();
        headers.insert(
            "X-HubSpot-RateLimit-Interval-Milliseconds",
            HeaderValue::from_static("10000"),
        );
        let err = classify(429, &headers, body);
        assert!(err.is_retryable());
        match err {
            HubSpotError::RateLimited {
                policy,
                retry_after,
            } => {
                assert_eq!(policy, RateLimitPolicy::TenSecondlyRolling);
                assert_eq!(retry_after, Duration::from_secs(10));
            }
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn secondly_429_waits_one_second_and_daily_is_not_retried() {
        let secondly = classify(
            429,
            &no_headers(),
            br#"{"status":"error","message":"You have reached your secondly limit.","policyName":"SECONDLY"}"#,
        );
        assert_eq!(secondly.required_wait(), Some(Duration::from_secs(1)));
        let daily = classify(
            429,
            &no_headers(),
            br#"{"status":"error","message":"You have reached your daily limit.","policyName":"DAILY"}"#,
        );
        assert!(!daily.is_retryable());
    }

    #[test]
    fn retry_after_header_wins() {
        let mut headers = HeaderMap::new();
        headers.insert("Retry-After", HeaderValue::from_static("3"));
        let err = classify(429, &headers, b"{}");
        assert_eq!(err.required_wait(), Some(Duration::from_secs(3)));
    }

    #[test]
    fn locked_waits_at_least_two_seconds_and_5xx_is_transient() {
        let locked = classify(423, &no_headers(), b"");
        assert!(locked.is_retryable());
        assert_eq!(locked.required_wait(), Some(LOCKED_MIN_WAIT));
        for status in [500, 502, 503, 504, 524] {
            let err = classify(status, &no_headers(), b"<html>bad gateway</html>");
            assert_eq!(err.kind(), ErrorKind::Transient, "{status}");
        }
    }

    #[test]
    fn validation_error_is_invalid_request_with_details() {
        let body = br#"{"status":"error","message":"Property values were not valid","errors":[{"message":"Property \"x\" does not exist","code":"PROPERTY_DOESNT_EXIST","context":{"propertyName":["x"]}}],"category":"VALIDATION_ERROR"}"#;
        let err = classify(400, &no_headers(), body);
        assert!(!err.is_retryable());
        match err {
            HubSpotError::InvalidRequest { status, body } => {
                assert_eq!(status, 400);
                assert_eq!(
                    body.errors[0].code.as_deref(),
                    Some("PROPERTY_DOESNT_EXIST")
                );
                assert_eq!(body.errors[0].context["propertyName"], vec!["x"]);
            }
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn missing_properties_are_named_only_for_property_doesnt_exist() {
        let body = br#"{"status":"error","message":"Property values were not valid","errors":[{"message":"Property \"conturs_explanation\" does not exist","code":"PROPERTY_DOESNT_EXIST","context":{"propertyName":["conturs_explanation"]}},{"message":"bad","code":"INVALID_INTEGER","context":{"propertyName":["conturs_score"]}}],"category":"VALIDATION_ERROR"}"#;
        let err = classify(400, &no_headers(), body);
        assert_eq!(err.missing_properties(), vec!["conturs_explanation"]);
        let other = br#"{"status":"error","message":"bad","errors":[{"message":"bad","code":"INVALID_INTEGER","context":{"propertyName":["conturs_score"]}}]}"#;
        assert!(
            classify(400, &no_headers(), other)
                .missing_properties()
                .is_empty()
        );
        assert!(
            classify(404, &no_headers(), b"{}")
                .missing_properties()
                .is_empty()
        );
    }

    #[test]
    fn not_found_and_conflict_are_distinct() {
        assert_eq!(
            classify(404, &no_headers(), b"{}").kind(),
            ErrorKind::NotFound
        );
        let body = br#"{"status":"error","message":"A property named 'conturs_score' already exists.","category":"OBJECT_ALREADY_EXISTS"}"#;
        assert_eq!(
            classify(409, &no_headers(), body).kind(),
            ErrorKind::Conflict
        );
    }

    #[test]
    fn non_json_body_keeps_its_text() {
        let parsed = ApiErrorBody::parse(b"upstream exploded");
        assert_eq!(parsed.message, "upstream exploded");
    }
}
