//! HubSpot webhook request signatures (v1, v2 and v3), so receivers can verify what we send.

use base64::Engine;
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

/// v1: hex SHA-256 of `secret + body` (`X-HubSpot-Signature`, version `v1`).
pub fn v1(secret: &str, body: &[u8]) -> String {
    let mut hasher = Sha256::new();
    hasher.update(secret.as_bytes());
    hasher.update(body);
    hex::encode(hasher.finalize())
}

/// v2: hex SHA-256 of `secret + method + uri + body`.
pub fn v2(secret: &str, method: &str, uri: &str, body: &[u8]) -> String {
    let mut hasher = Sha256::new();
    hasher.update(secret.as_bytes());
    hasher.update(method.as_bytes());
    hasher.update(uri.as_bytes());
    hasher.update(body);
    hex::encode(hasher.finalize())
}

/// v3: base64 HMAC-SHA256 keyed by the app secret over `method + uri + body + timestamp`
/// (`X-HubSpot-Signature-v3`, with `X-HubSpot-Request-Timestamp`).
pub fn v3(secret: &str, method: &str, uri: &str, body: &[u8], timestamp_ms: i64) -> String {
    // HMAC accepts keys of any length, so this cannot fail.
    let mut mac =
        <Hmac<Sha256> as Mac>::new_from_slice(secret.as_bytes()).unwrap_or_else(|_| unreachable!());
    mac.update(method.as_bytes());
    mac.update(uri.as_bytes());
    mac.update(body);
    mac.update(timestamp_ms.to_string().as_bytes());
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "yyyyyyyy-yyyy-yyyy-yyyy-yyyyyyyyyyyy";

    #[test]
    fn v3_matches_the_official_library_vector() {
        let body = "{'example_field':'example_value'}";
        let sig = v3(
            SECRET,
            "POST",
            "https://www.example.com/webhook_uri",
            body.as_bytes(),
            1_693_657_560_000,
        );
        assert_eq!(sig, "K36dawei4A+QBNolUOqo7s91KQDWQ5MXZ/QufNYuk/Y=");
        let json_body = r#"{"example_field":"example_value"}"#;
        let sig = v3(
            SECRET,
            "POST",
            "https://www.example.com/webhook_uri",
            json_body.as_bytes(),
            1_693_657_560_000,
        );
        assert_eq!(sig, "oaA3M5dEtt6kFsseJD/Hv/x+JNl1vsoxFj4oxmwP6Go=");
    }

    #[test]
    fn v1_matches_the_documented_vector() {
        let body = r#"[{"eventId":1,"subscriptionId":12345,"portalId":62515,"occurredAt":1564113600000,"subscriptionType":"contact.creation","attemptNumber":0,"objectId":123,"changeSource":"CRM","changeFlag":"NEW","appId":54321}]"#;
        assert_eq!(
            v1(SECRET, body.as_bytes()),
            "232db2615f3d666fe21a8ec971ac7b5402d33b9a925784df3ca654d05f4817de"
        );
    }

    #[test]
    fn v2_matches_the_documented_vectors() {
        let uri = "https://www.example.com/webhook_uri";
        assert_eq!(
            v2(SECRET, "GET", uri, b""),
            "eee2dddcc73c94d699f5e395f4b9d454a069a6855fbfa152e91e88823087200e"
        );
        assert_eq!(
            v2(SECRET, "POST", uri, br#"{"example_field":"example_value"}"#),
            "9569219f8ba981ffa6f6f16aa0f48637d35d728c7e4d93d0d52efaa512af7900"
        );
    }
}
