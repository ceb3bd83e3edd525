//! Webhook signature verification (API-FACTS §4): v3 HMAC with a 5-minute window, and the
//! older v1/v2 SHA-256 digests. Always over the raw body bytes, never re-serialised JSON, and
//! always compared in constant time.

use base64::Engine as _;
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// Header carrying the v3 signature (base64 HMAC-SHA256).
pub const HEADER_SIGNATURE_V3: &str = "X-HubSpot-Signature-v3";
/// Header carrying the v3 request timestamp (ms since the epoch).
pub const HEADER_TIMESTAMP: &str = "X-HubSpot-Request-Timestamp";
/// Header carrying a v1/v2 signature (hex SHA-256).
pub const HEADER_SIGNATURE: &str = "X-HubSpot-Signature";
/// Header naming `v1` or `v2`.
pub const HEADER_SIGNATURE_VERSION: &str = "X-HubSpot-Signature-Version";
/// HubSpot's replay window for v3 signatures.
pub const MAX_TIMESTAMP_AGE_MS: i64 = 5 * 60 * 1000;

/// Why a webhook request was rejected; none of these should be retried by HubSpot successfully.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    #[error("webhook signature header is missing")]
    MissingSignature,
    #[error("webhook timestamp header is missing or not a number")]
    BadTimestamp,
    #[error("webhook timestamp is outside the 5-minute window")]
    Expired,
    #[error("webhook signature version {0:?} is not supported")]
    UnsupportedVersion(String),
    #[error("webhook signature does not match")]
    Mismatch,
}

/// The parts of an incoming webhook request a signature covers.
#[derive(Debug, Clone, Copy)]
pub struct SignedRequest<'a> {
    /// `POST` for event batches.
    pub method: &'a str,
    /// The full URL HubSpot called: scheme, host, path and query.
    pub uri: &'a str,
    /// The raw body bytes as received.
    pub body: &'a [u8],
}

/// Verifies `X-HubSpot-Signature-v3` against the app's client secret. `now_ms` is the current
/// time in ms since the epoch (a parameter so tests can use the published vectors).
pub fn verify_v3(
    client_secret: &[u8],
    request: SignedRequest<'_>,
    timestamp_header: Option<&str>,
    signature_header: Option<&str>,
    now_ms: i64,
) -> Result<(), SignatureError> {
    let signature = signature_header.ok_or(SignatureError::MissingSignature)?;
    let timestamp = timestamp_header.ok_or(SignatureError::BadTimestamp)?;
    let timestamp_ms: i64 = timestamp
        .trim()
        .parse()
        .map_err(|_| SignatureError::BadTimestamp)?;
    // `abs_diff`: any i64 a client sends must not overflow (it would panic in debug builds
    // and wrap into the window in release builds).
    if now_ms.abs_diff(timestamp_ms) > MAX_TIMESTAMP_AGE_MS.unsigned_abs() {
        return Err(SignatureError::Expired);
    }
    let expected = base64::engine::general_purpose::STANDARD
        .decode(signature.trim())
        .map_err(|_| SignatureError::Mismatch)?;
    // HubSpot's docs sign a URI with some query escapes decoded; its client libraries sign the
    // URI as given. Accept either form: both are HMACs under the same secret.
    let decoded = decode_signed_uri(request.uri);
    let candidates = if decoded == request.uri {
        vec![request.uri]
    } else {
        vec![request.uri, decoded.as_str()]
    };
    let mut matched = false;
    for uri in candidates {
        let mut mac = new_hmac(client_secret);
        mac.update(request.method.as_bytes());
        mac.update(uri.as_bytes());
        mac.update(request.body);
        mac.update(timestamp.trim().as_bytes());
        // `verify_slice` compares in constant time.
        matched |= mac.verify_slice(&expected).is_ok();
    }
    if matched {
        Ok(())
    } else {
        Err(SignatureError::Mismatch)
    }
}

/// Computes a v3 signature; the simulator side of tests and our own tooling use it.
pub fn sign_v3(client_secret: &[u8], request: SignedRequest<'_>, timestamp_ms: i64) -> String {
    let mut mac = new_hmac(client_secret);
    mac.update(request.method.as_bytes());
    mac.update(request.uri.as_bytes());
    mac.update(request.body);
    mac.update(timestamp_ms.to_string().as_bytes());
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

/// Verifies a v1 (`sha256(secret + body)`) or v2 (`sha256(secret + method + uri + body)`)
/// signature, chosen by the `X-HubSpot-Signature-Version` header (absent means v1).
pub fn verify_v1_v2(
    client_secret: &[u8],
    request: SignedRequest<'_>,
    version_header: Option<&str>,
    signature_header: Option<&str>,
) -> Result<(), SignatureError> {
    let signature = signature_header.ok_or(SignatureError::MissingSignature)?;
    let mut digest = Sha256::new();
    digest.update(client_secret);
    match version_header.map(str::trim).unwrap_or("v1") {
        "v1" => {}
        "v2" => {
            digest.update(request.method.as_bytes());
            digest.update(request.uri.as_bytes());
        }
        other => return Err(SignatureError::UnsupportedVersion(other.to_owned())),
    }
    digest.update(request.body);
    let computed = hex::encode(digest.finalize());
    let given = signature.trim().to_ascii_lowercase();
    if computed.as_bytes().ct_eq(given.as_bytes()).into() {
        Ok(())
    } else {
        Err(SignatureError::Mismatch)
    }
}

/// Verifies whichever signature HubSpot sent: v3 when its header is present (preferred, it
/// carries a timestamp), otherwise v1/v2. Header names are matched case-insensitively.
pub fn verify_request(
    client_secret: &[u8],
    request: SignedRequest<'_>,
    headers: &reqwest::header::HeaderMap,
    now_ms: i64,
) -> Result<(), SignatureError> {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    if header(HEADER_SIGNATURE_V3).is_some() {
        verify_v3(
            client_secret,
            request,
            header(HEADER_TIMESTAMP),
            header(HEADER_SIGNATURE_V3),
            now_ms,
        )
    } else {
        verify_v1_v2(
            client_secret,
            request,
            header(HEADER_SIGNATURE_VERSION),
            header(HEADER_SIGNATURE),
        )
    }
}

fn new_hmac(secret: &[u8]) -> Hmac<Sha256> {
    // HMAC accepts keys of any length, so this cannot fail.
    <Hmac<Sha256> as Mac>::new_from_slice(secret).expect("HMAC takes any key length")
}

/// Decodes the query escapes HubSpot's validation page lists; the `?` that starts the query
/// stays as is.
fn decode_signed_uri(uri: &str) -> String {
    const ESCAPES: [(&str, &str); 12] = [
        ("%3A", ":"),
        ("%2F", "/"),
        ("%3F", "?"),
        ("%40", "@"),
        ("%21", "!"),
        ("%24", "$"),
        ("%27", "'"),
        ("%28", "("),
        ("%29", ")"),
        ("%2A", "*"),
        ("%2C", ","),
        ("%3B", ";"),
    ];
    let Some((head, query)) = uri.split_once('?') else {
        return uri.to_owned();
    };
    let mut decoded = query.to_owned();
    for (escape, plain) in ESCAPES {
        decoded = decoded.replace(escape, plain);
        decoded = decoded.replace(&escape.to_ascii_lowercase(), plain);
    }
    format!("{head}?{decoded}")
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &[u8] = b"yyyyyyyy-yyyy-yyyy-yyyy-yyyyyyyyyyyy";
    const URI: &str = "https://www.example.com/webhook_uri";
    const TS: i64 = 1_693_657_560_000;

    fn post(body: &'static [u8]) -> SignedRequest<'static> {
        SignedRequest {
            method: "POST",
            uri: URI,
            body,
        }
    }

    #[test]
    fn v3_official_library_vector() {
        let request = post(b"{'example_field':'example_value'}");
        let sig = "K36dawei4A+QBNolUOqo7s91KQDWQ5MXZ/QufNYuk/Y=";
        assert_eq!(sign_v3(SECRET, request, TS), sig);
        assert_eq!(
            verify_v3(SECRET, request, Some("1693657560000"), Some(sig), TS + 1000),
            Ok(())
        );
    }

    #[test]
    fn v3_json_body_vector() {
        let request = post(br#"{"example_field":"example_value"}"#);
        let sig = "oaA3M5dEtt6kFsseJD/Hv/x+JNl1vsoxFj4oxmwP6Go=";
        assert_eq!(
            verify_v3(SECRET, request, Some("1693657560000"), Some(sig), TS),
            Ok(())
        );
    }

    #[test]
    fn v3_rejects_stale_and_future_timestamps() {
        let request = post(b"{'example_field':'example_value'}");
        let sig = "K36dawei4A+QBNolUOqo7s91KQDWQ5MXZ/QufNYuk/Y=";
        let late = TS + MAX_TIMESTAMP_AGE_MS + 1;
        assert_eq!(
            verify_v3(SECRET, request, Some("1693657560000"), Some(sig), late),
            Err(SignatureError::Expired)
        );
        let early = TS - MAX_TIMESTAMP_AGE_MS - 1;
        assert_eq!(
            verify_v3(SECRET, request, Some("1693657560000"), Some(sig), early),
            Err(SignatureError::Expired)
        );
    }

    #[test]
    fn v3_refuses_extreme_timestamps_without_overflow() {
        let request = post(b"{'example_field':'example_value'}");
        let sig = "K36dawei4A+QBNolUOqo7s91KQDWQ5MXZ/QufNYuk/Y=";
        for (header, now) in [
            (i64::MIN, TS),
            (i64::MAX, TS),
            (i64::MIN, i64::MAX),
            (i64::MAX, i64::MIN),
        ] {
            assert_eq!(
                verify_v3(SECRET, request, Some(&header.to_string()), Some(sig), now),
                Err(SignatureError::Expired),
                "timestamp {header} at {now}"
            );
        }
    }

    #[test]
    fn v3_rejects_any_tampering() {
        let sig = "K36dawei4A+QBNolUOqo7s91KQDWQ5MXZ/QufNYuk/Y=";
        let ts = Some("1693657560000");
        let tampered_body = post(b"{'example_field':'example_valuf'}");
        assert_eq!(
            verify_v3(SECRET, tampered_body, ts, Some(sig), TS),
            Err(SignatureError::Mismatch)
        );
        let other_method = SignedRequest {
            method: "PUT",
            ..post(b"{'example_field':'example_value'}")
        };
        assert_eq!(
            verify_v3(SECRET, other_method, ts, Some(sig), TS),
            Err(SignatureError::Mismatch)
        );
        let request = post(b"{'example_field':'example_value'}");
        assert_eq!(
            verify_v3(SECRET, request, Some("1693657560001"), Some(sig), TS),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(
            verify_v3(b"wrong-secret", request, ts, Some(sig), TS),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(
            verify_v3(SECRET, request, ts, Some("not base64!"), TS),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(
            verify_v3(SECRET, request, ts, None, TS),
            Err(SignatureError::MissingSignature)
        );
        assert_eq!(
            verify_v3(SECRET, request, Some("soon"), Some(sig), TS),
            Err(SignatureError::BadTimestamp)
        );
    }

    #[test]
    fn v3_accepts_the_documented_decoded_uri_form() {
        let body = b"[]";
        let raw_uri = "https://h.example/hook?next=%2Fa%3Ab";
        let decoded_uri = "https://h.example/hook?next=/a:b";
        let signed_over_decoded = sign_v3(
            SECRET,
            SignedRequest {
                method: "POST",
                uri: decoded_uri,
                body,
            },
            TS,
        );
        let received = SignedRequest {
            method: "POST",
            uri: raw_uri,
            body,
        };
        assert_eq!(
            verify_v3(
                SECRET,
                received,
                Some(&TS.to_string()),
                Some(&signed_over_decoded),
                TS
            ),
            Ok(())
        );
    }

    #[test]
    fn v3_hashes_raw_non_ascii_bytes() {
        let body = "[{\"propertyValue\":\"Zürich – Müller\"}]".as_bytes();
        let request = SignedRequest {
            method: "POST",
            uri: URI,
            body,
        };
        let sig = sign_v3(SECRET, request, TS);
        assert_eq!(
            verify_v3(SECRET, request, Some(&TS.to_string()), Some(&sig), TS),
            Ok(())
        );
    }

    #[test]
    fn verify_request_picks_the_version_from_headers() {
        use reqwest::header::{HeaderMap, HeaderValue};
        let request = post(b"{'example_field':'example_value'}");
        let mut v3 = HeaderMap::new();
        v3.insert(
            "x-hubspot-signature-v3",
            HeaderValue::from_static("K36dawei4A+QBNolUOqo7s91KQDWQ5MXZ/QufNYuk/Y="),
        );
        v3.insert(
            "x-hubspot-request-timestamp",
            HeaderValue::from_static("1693657560000"),
        );
        assert_eq!(verify_request(SECRET, request, &v3, TS), Ok(()));
        assert_eq!(
            verify_request(SECRET, request, &v3, TS + MAX_TIMESTAMP_AGE_MS + 1),
            Err(SignatureError::Expired)
        );
        let mut v2 = HeaderMap::new();
        v2.insert(
            "X-HubSpot-Signature-Version",
            HeaderValue::from_static("v2"),
        );
        v2.insert(
            "X-HubSpot-Signature",
            HeaderValue::from_static(
                "9569219f8ba981ffa6f6f16aa0f48637d35d728c7e4d93d0d52efaa512af7900",
            ),
        );
        let json_post = post(br#"{"example_field":"example_value"}"#);
        assert_eq!(verify_request(SECRET, json_post, &v2, TS), Ok(()));
        assert_eq!(
            verify_request(SECRET, json_post, &HeaderMap::new(), TS),
            Err(SignatureError::MissingSignature)
        );
    }

    #[test]
    fn v1_doc_vector() {
        let body = br#"[{"eventId":1,"subscriptionId":12345,"portalId":62515,"occurredAt":1564113600000,"subscriptionType":"contact.creation","attemptNumber":0,"objectId":123,"changeSource":"CRM","changeFlag":"NEW","appId":54321}]"#;
        let sig = "232db2615f3d666fe21a8ec971ac7b5402d33b9a925784df3ca654d05f4817de";
        assert_eq!(
            verify_v1_v2(SECRET, post(body), Some("v1"), Some(sig)),
            Ok(())
        );
        assert_eq!(verify_v1_v2(SECRET, post(body), None, Some(sig)), Ok(()));
        assert_eq!(
            verify_v1_v2(SECRET, post(b"[]"), Some("v1"), Some(sig)),
            Err(SignatureError::Mismatch)
        );
    }

    #[test]
    fn v2_doc_vectors() {
        let get = SignedRequest {
            method: "GET",
            uri: URI,
            body: b"",
        };
        assert_eq!(
            verify_v1_v2(
                SECRET,
                get,
                Some("v2"),
                Some("eee2dddcc73c94d699f5e395f4b9d454a069a6855fbfa152e91e88823087200e")
            ),
            Ok(())
        );
        let body_post = post(br#"{"example_field":"example_value"}"#);
        let sig = "9569219f8ba981ffa6f6f16aa0f48637d35d728c7e4d93d0d52efaa512af7900";
        assert_eq!(
            verify_v1_v2(SECRET, body_post, Some("v2"), Some(sig)),
            Ok(())
        );
        // The same digest under v1 rules must not pass.
        assert_eq!(
            verify_v1_v2(SECRET, body_post, Some("v1"), Some(sig)),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(
            verify_v1_v2(SECRET, body_post, Some("v9"), Some(sig)),
            Err(SignatureError::UnsupportedVersion("v9".to_owned()))
        );
    }
}
