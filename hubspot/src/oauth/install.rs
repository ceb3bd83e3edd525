//! The install (authorize) URL and its signed, short-lived `state` parameter, which protects the
//! OAuth callback against CSRF without server-side session storage.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use url::Url;

/// Scopes Conturs cannot work without (API-FACTS §1).
pub const REQUIRED_SCOPES: &[&str] = &[
    "oauth",
    "crm.objects.contacts.read",
    "crm.objects.contacts.write",
    "crm.objects.companies.read",
    "crm.objects.deals.read",
    "crm.schemas.contacts.read",
    "crm.schemas.contacts.write",
];

/// Scopes that improve the product if granted (reading company and deal property definitions).
pub const OPTIONAL_SCOPES: &[&str] = &["crm.schemas.companies.read", "crm.schemas.deals.read"];

/// Where real HubSpot shows its consent screen.
pub const HUBSPOT_AUTHORIZE_URL: &str = "https://app.hubspot.com/oauth/authorize";

/// The authorize URL that belongs to an API base URL: HubSpot's app domain for the real API,
/// `{base}/oauth/authorize` for the simulator or any other stand-in.
pub fn authorize_url_for(api_base: &Url) -> Url {
    match api_base.host_str() {
        Some("api.hubapi.com") | Some("api.hubspot.com") => {
            Url::parse(HUBSPOT_AUTHORIZE_URL).expect("constant URL parses")
        }
        _ => {
            let mut url = api_base.clone();
            url.set_path("/oauth/authorize");
            url.set_query(None);
            url
        }
    }
}

/// Builds the install URL. Scopes are space-separated and encoded as `%20`, as HubSpot's own
/// client libraries do.
pub fn install_url(
    authorize_url: &Url,
    client_id: &str,
    redirect_uri: &Url,
    scopes: &[&str],
    optional_scopes: &[&str],
    state: &str,
) -> Url {
    let mut params = vec![
        ("client_id", client_id.to_owned()),
        ("redirect_uri", redirect_uri.to_string()),
        ("scope", scopes.join(" ")),
    ];
    if !optional_scopes.is_empty() {
        params.push(("optional_scope", optional_scopes.join(" ")));
    }
    params.push(("state", state.to_owned()));
    let query = params
        .iter()
        .map(|(k, v)| format!("{k}={}", encode_component(v)))
        .collect::<Vec<_>>()
        .join("&");
    let mut url = authorize_url.clone();
    url.set_query(Some(&query));
    url
}

fn encode_component(value: &str) -> String {
    // form encoding turns spaces into `+` and a literal `+` into `%2B`, so every `+` left is a space.
    url::form_urlencoded::byte_serialize(value.as_bytes())
        .collect::<String>()
        .replace('+', "%20")
}

/// Why a `state` value came back unacceptable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StateError {
    #[error("OAuth state is malformed")]
    Malformed,
    #[error("OAuth state signature is invalid")]
    BadSignature,
    #[error("OAuth state has expired; start the connection again")]
    Expired,
}

/// What a verified `state` carries back to the callback.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StateClaims {
    /// Random, so the caller can make each state single-use (e.g. a Redis `SET NX`).
    pub nonce: String,
    /// Expiry, ms since the epoch.
    pub exp_ms: i64,
    /// Caller data to restore after consent (e.g. which Conturs account started the install).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub context: Option<String>,
}

/// Signs and verifies `state` values with an HMAC key of the deployment.
#[derive(Clone)]
pub struct StateSigner {
    key: Vec<u8>,
    ttl_ms: i64,
}

impl std::fmt::Debug for StateSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "StateSigner([redacted], ttl_ms={})", self.ttl_ms)
    }
}

/// How long a user may sit on the consent screen.
pub const DEFAULT_STATE_TTL_MS: i64 = 10 * 60 * 1000;

impl StateSigner {
    pub fn new(key: &[u8]) -> Self {
        Self {
            key: key.to_vec(),
            ttl_ms: DEFAULT_STATE_TTL_MS,
        }
    }

    pub fn with_ttl_ms(mut self, ttl_ms: i64) -> Self {
        self.ttl_ms = ttl_ms;
        self
    }

    /// Issues `base64url(claims).base64url(hmac)` valid for the TTL from `now_ms`.
    pub fn issue(&self, context: Option<&str>, now_ms: i64) -> String {
        let claims = StateClaims {
            nonce: uuid::Uuid::new_v4().simple().to_string(),
            exp_ms: now_ms + self.ttl_ms,
            context: context.map(str::to_owned),
        };
        let payload =
            URL_SAFE_NO_PAD.encode(serde_json::to_vec(&claims).expect("claims serialise"));
        let tag = URL_SAFE_NO_PAD.encode(self.mac(payload.as_bytes()).finalize().into_bytes());
        format!("{payload}.{tag}")
    }

    /// Checks signature (constant time) and expiry, then returns the claims.
    pub fn verify(&self, state: &str, now_ms: i64) -> Result<StateClaims, StateError> {
        let (payload, tag) = state.split_once('.').ok_or(StateError::Malformed)?;
        let tag = URL_SAFE_NO_PAD
            .decode(tag)
            .map_err(|_| StateError::Malformed)?;
        self.mac(payload.as_bytes())
            .verify_slice(&tag)
            .map_err(|_| StateError::BadSignature)?;
        let json = URL_SAFE_NO_PAD
            .decode(payload)
            .map_err(|_| StateError::Malformed)?;
        let claims: StateClaims =
            serde_json::from_slice(&json).map_err(|_| StateError::Malformed)?;
        if now_ms > claims.exp_ms {
            return Err(StateError::Expired);
        }
        Ok(claims)
    }

    fn mac(&self, data: &[u8]) -> Hmac<Sha256> {
        let mut mac =
            <Hmac<Sha256> as Mac>::new_from_slice(&self.key).expect("HMAC takes any key length");
        mac.update(b"conturs-oauth-state:");
        mac.update(data);
        mac
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_790_000_000_000;

    #[test]
    fn install_url_carries_every_parameter() {
        let authorize = authorize_url_for(&Url::parse("https://api.hubapi.com").unwrap());
        let redirect = Url::parse("https://conturs.example/oauth/hubspot/callback").unwrap();
        let url = install_url(
            &authorize,
            "client-1",
            &redirect,
            REQUIRED_SCOPES,
            OPTIONAL_SCOPES,
            "st.ate",
        );
        assert!(url.as_str().starts_with(HUBSPOT_AUTHORIZE_URL));
        assert!(
            url.as_str()
                .contains("scope=oauth%20crm.objects.contacts.read%20")
        );
        let pairs: std::collections::HashMap<_, _> = url.query_pairs().into_owned().collect();
        assert_eq!(pairs["client_id"], "client-1");
        assert_eq!(pairs["redirect_uri"], redirect.as_str());
        assert_eq!(pairs["scope"], REQUIRED_SCOPES.join(" "));
        assert_eq!(pairs["optional_scope"], OPTIONAL_SCOPES.join(" "));
        assert_eq!(pairs["state"], "st.ate");
    }

    #[test]
    fn simulator_base_gets_its_own_authorize_path() {
        let url = authorize_url_for(&Url::parse("http://127.0.0.1:8090/").unwrap());
        assert_eq!(url.as_str(), "http://127.0.0.1:8090/oauth/authorize");
    }

    #[test]
    fn state_round_trips_with_context() {
        let signer = StateSigner::new(b"key");
        let state = signer.issue(Some("account-7"), NOW);
        let claims = signer.verify(&state, NOW + 1000).expect("valid");
        assert_eq!(claims.context.as_deref(), Some("account-7"));
        assert_eq!(claims.exp_ms, NOW + DEFAULT_STATE_TTL_MS);
        let other = signer.issue(None, NOW);
        assert_ne!(
            signer.verify(&other, NOW).unwrap().nonce,
            claims.nonce,
            "each state has its own nonce"
        );
    }

    #[test]
    fn state_expires() {
        let signer = StateSigner::new(b"key").with_ttl_ms(1000);
        let state = signer.issue(None, NOW);
        assert_eq!(signer.verify(&state, NOW + 1001), Err(StateError::Expired));
    }

    #[test]
    fn forged_or_mangled_state_is_rejected() {
        let signer = StateSigner::new(b"key");
        let state = signer.issue(Some("a"), NOW);
        assert_eq!(
            StateSigner::new(b"other").verify(&state, NOW),
            Err(StateError::BadSignature)
        );
        let (payload, tag) = state.split_once('.').unwrap();
        let forged_claims = URL_SAFE_NO_PAD
            .encode(br#"{"nonce":"n","exp_ms":9999999999999,"context":"admin"}"#.as_slice());
        assert_eq!(
            signer.verify(&format!("{forged_claims}.{tag}"), NOW),
            Err(StateError::BadSignature)
        );
        assert_eq!(signer.verify(payload, NOW), Err(StateError::Malformed));
        assert_eq!(signer.verify("a.!!!", NOW), Err(StateError::Malformed));
    }
}
