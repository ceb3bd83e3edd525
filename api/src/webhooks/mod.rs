//! `POST /webhooks/hubspot`: HubSpot's signed event batches (API-FACTS §4).
//!
//! Order of checks: body size (413, by the app-wide body limit), signature over the raw bytes
//! (401: v3 with its 5-minute window; v1/v2 only when configured), content type (415), batch
//! shape and size (400). Then the batch is recorded and its work queued ([`intake`]) and the
//! answer is 200 — also for portals Conturs does not know, which HubSpot would otherwise retry
//! for a day. A database or queue outage answers 503 with `Retry-After` so HubSpot redelivers.

pub mod events;
pub mod intake;

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::extract::rejection::BytesRejection;
use axum::http::{HeaderMap, Method, Uri, header};
use hubspot::webhook::{
    HEADER_SIGNATURE, HEADER_SIGNATURE_V3, HEADER_SIGNATURE_VERSION, HEADER_TIMESTAMP,
    SignatureError, SignedRequest, verify_v1_v2, verify_v3,
};
use secrecy::ExposeSecret as _;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::error::{ApiError, ErrorBody, Unavailable};
use crate::{ApiConfig, AppState};
use events::WebhookEvent;
use intake::IntakeReport;

/// Where HubSpot delivers events.
pub const PATH: &str = "/webhooks/hubspot";

/// The webhook endpoint (authenticated by HubSpot's signature, not the admin token).
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(receive))
}

/// A batch of HubSpot webhook events (at most 100), signed by HubSpot over the raw body.
#[utoipa::path(
    post,
    path = PATH,
    operation_id = "receive_webhooks",
    tag = "webhooks",
    params(
        ("X-HubSpot-Signature-v3" = Option<String>, Header, nullable = false,
            description = "v3 signature: base64 HMAC-SHA256 of method, URL, body and timestamp."),
        ("X-HubSpot-Request-Timestamp" = Option<i64>, Header, nullable = false,
            description = "ms since the epoch; v3 signatures older than 5 minutes are refused."),
        ("X-HubSpot-Signature" = Option<String>, Header, nullable = false,
            description = "v1/v2 signature, only accepted when configured."),
        ("X-HubSpot-Signature-Version" = Option<String>, Header, nullable = false,
            description = "`v1` or `v2`, with `X-HubSpot-Signature`."),
    ),
    request_body(content = Vec<WebhookEvent>, content_type = "application/json",
        description = "At most 100 events."),
    responses(
        (status = 200, description = "Recorded; what the batch became (also for unknown \
            portals).", body = IntakeReport),
        (status = 400, description = "Not a batch of HubSpot events, more than 100 events, or \
            an invalid event (`invalid_batch`).", body = ErrorBody),
        (status = 401, description = "Missing, wrong or stale signature (`missing_signature`, \
            `invalid_signature`, `stale_timestamp`).", body = ErrorBody),
        (status = 413, description = "The body is larger than 1 MiB.", body = ErrorBody),
        (status = 415, description = "The body is not `application/json`.", body = ErrorBody),
        (status = 503, response = Unavailable),
    )
)]
async fn receive(
    State(state): State<AppState>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<IntakeReport>, ApiError> {
    let body = body?;
    verify(&state.config, &method, &uri, &headers, &body)?;
    let json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.trim_start()
                .to_ascii_lowercase()
                .starts_with("application/json")
        });
    if !json {
        return Err(ApiError::new(
            axum::http::StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "webhook batches must be sent as application/json",
        ));
    }
    let events = events::parse_batch(&body)
        .map_err(|e| ApiError::bad_request("invalid_batch", e.to_string()))?;
    let report = intake::intake(&state, events).await?;
    tracing::debug!(?report, "webhook batch accepted");
    Ok(Json(report))
}

/// The URLs HubSpot may have signed: the configured target URL, the URL rebuilt from the
/// request's `Host` (and `X-Forwarded-Proto`, set by Heroku's router), and the public URL with
/// the request's path.
fn signed_uris(config: &ApiConfig, uri: &Uri, headers: &HeaderMap) -> Vec<String> {
    let path = uri
        .path_and_query()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_else(|| PATH.to_owned());
    let mut uris = Vec::with_capacity(3);
    if let Some(url) = &config.webhook_url {
        uris.push(url.to_string());
    }
    if let Some(host) = headers.get(header::HOST).and_then(|v| v.to_str().ok()) {
        let scheme = headers
            .get("x-forwarded-proto")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(',').next())
            .map(str::trim)
            .unwrap_or("http");
        uris.push(format!("{scheme}://{host}{path}"));
    }
    let public = config.public_url.as_str().trim_end_matches('/');
    uris.push(format!("{public}{path}"));
    uris.dedup();
    uris
}

/// Checks the request's signature over the raw body.
fn verify(
    config: &ApiConfig,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<(), ApiError> {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let secret = config.webhook_secret.expose_secret().as_bytes();
    let uris = signed_uris(config, uri, headers);
    fn request<'a>(method: &'a Method, uri: &'a str, body: &'a [u8]) -> SignedRequest<'a> {
        SignedRequest {
            method: method.as_str(),
            uri,
            body,
        }
    }
    let outcome = if header(HEADER_SIGNATURE_V3).is_some() {
        let now = config.clock.now_ms();
        first_match(&uris, |uri| {
            verify_v3(
                secret,
                request(method, uri, body),
                header(HEADER_TIMESTAMP),
                header(HEADER_SIGNATURE_V3),
                now,
            )
        })
    } else if config.accept_v1_signatures {
        first_match(&uris, |uri| {
            verify_v1_v2(
                secret,
                request(method, uri, body),
                header(HEADER_SIGNATURE_VERSION),
                header(HEADER_SIGNATURE),
            )
        })
    } else {
        Err(SignatureError::MissingSignature)
    };
    outcome.map_err(|error| {
        tracing::warn!(%error, "webhook refused");
        let code = match error {
            SignatureError::Expired => "stale_timestamp",
            SignatureError::MissingSignature => "missing_signature",
            _ => "invalid_signature",
        };
        ApiError::new(
            axum::http::StatusCode::UNAUTHORIZED,
            code,
            error.to_string(),
        )
    })
}

fn first_match(
    uris: &[String],
    check: impl Fn(&str) -> Result<(), SignatureError>,
) -> Result<(), SignatureError> {
    let mut last = Err(SignatureError::Mismatch);
    for uri in uris {
        match check(uri) {
            Ok(()) => return Ok(()),
            Err(SignatureError::Mismatch) => {}
            // Not about the URI (stale, missing, malformed): the same for every candidate.
            Err(other) => return Err(other),
        }
        last = Err(SignatureError::Mismatch);
    }
    last
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Clock;
    use crate::auth::AdminToken;
    use hubspot::oauth::StateSigner;
    use secrecy::SecretString;

    const SECRET: &str = "yyyyyyyy-yyyy-yyyy-yyyy-yyyyyyyyyyyy";
    const TS: i64 = 1_693_657_560_000;

    fn config(webhook_url: Option<&str>, v1: bool) -> ApiConfig {
        ApiConfig {
            admin_token: AdminToken::new(&SecretString::from("admin-token-123456")),
            state_signer: StateSigner::new(b"k"),
            webhook_secret: SecretString::from(SECRET),
            accept_v1_signatures: v1,
            webhook_url: webhook_url.map(|u| u.parse().expect("url")),
            public_url: "https://conturs.example".parse().expect("url"),
            clock: Clock::fixed(chrono::DateTime::from_timestamp_millis(TS).expect("ts")),
            board_key: crate::board::BoardKey::derive(&[3; 32]),
            dashboard_key: crate::dashboard::DashboardKey::derive(&[3; 32]),
        }
    }

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (k, v) in pairs {
            map.insert(*k, v.parse().expect("header"));
        }
        map
    }

    #[test]
    fn official_v3_vector_verifies_against_the_configured_target_url() {
        let cfg = config(Some("https://www.example.com/webhook_uri"), false);
        let h = headers(&[
            (
                "x-hubspot-signature-v3",
                "K36dawei4A+QBNolUOqo7s91KQDWQ5MXZ/QufNYuk/Y=",
            ),
            ("x-hubspot-request-timestamp", "1693657560000"),
            ("host", "internal:8080"),
        ]);
        let uri: Uri = "/webhooks/hubspot".parse().expect("uri");
        let body = b"{'example_field':'example_value'}";
        assert_eq!(verify(&cfg, &Method::POST, &uri, &h, body), Ok(()));
        let tampered = verify(
            &cfg,
            &Method::POST,
            &uri,
            &h,
            b"{'example_field':'example_valuf'}",
        )
        .expect_err("tampered");
        assert_eq!(tampered.code, "invalid_signature");
        let elsewhere = config(None, false);
        assert!(verify(&elsewhere, &Method::POST, &uri, &h, body).is_err());
    }

    #[test]
    fn host_and_forwarded_proto_rebuild_the_signed_url() {
        let cfg = config(None, false);
        let uri: Uri = "/webhook_uri".parse().expect("uri");
        let h = headers(&[
            (
                "x-hubspot-signature-v3",
                "oaA3M5dEtt6kFsseJD/Hv/x+JNl1vsoxFj4oxmwP6Go=",
            ),
            ("x-hubspot-request-timestamp", "1693657560000"),
            ("host", "www.example.com"),
            ("x-forwarded-proto", "https"),
        ]);
        assert_eq!(
            verify(
                &cfg,
                &Method::POST,
                &uri,
                &h,
                br#"{"example_field":"example_value"}"#
            ),
            Ok(())
        );
    }

    #[test]
    fn v1_only_when_configured() {
        let body = br#"[{"eventId":1,"subscriptionId":12345,"portalId":62515,"occurredAt":1564113600000,"subscriptionType":"contact.creation","attemptNumber":0,"objectId":123,"changeSource":"CRM","changeFlag":"NEW","appId":54321}]"#;
        let h = headers(&[
            (
                "x-hubspot-signature",
                "232db2615f3d666fe21a8ec971ac7b5402d33b9a925784df3ca654d05f4817de",
            ),
            ("x-hubspot-signature-version", "v1"),
        ]);
        let uri: Uri = PATH.parse().expect("uri");
        assert_eq!(
            verify(&config(None, true), &Method::POST, &uri, &h, body),
            Ok(())
        );
        let refused = verify(&config(None, false), &Method::POST, &uri, &h, body).expect_err("off");
        assert_eq!(refused.code, "missing_signature");
    }
}
