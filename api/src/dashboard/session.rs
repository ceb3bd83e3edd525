//! Dashboard sign-in state: the `conturs_session` cookie, the server-side session it names,
//! and CSRF tokens for every form.
//!
//! The cookie holds a random 256-bit token; the database keeps only its SHA-256 (the session
//! id), so a leaked table holds no usable session. The cookie is HttpOnly, Secure, Path=/ and
//! SameSite=Lax: HubSpot sends the browser back to the OAuth callback with a top-level GET
//! from its own site, and that request must carry the session so the connection can be bound
//! to the account that started it. Lax still keeps the cookie off cross-site POSTs, and every
//! POST must also carry a CSRF token: an HMAC of the session id for signed-in forms, or of a
//! random nonce in a short-lived `conturs_form` cookie for the sign-in and sign-up forms.

use std::num::NonZeroU32;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::CookieJar;
use axum_extra::extract::cookie::{Cookie, SameSite};
use entity::accounts;
use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use hmac::{Hmac, Mac};
use rand::RngCore as _;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use super::accounts as store;
use super::error::PageError;
use crate::AppState;

/// The session cookie's name.
pub const COOKIE_NAME: &str = "conturs_session";
/// The anonymous forms' nonce cookie.
pub const FORM_COOKIE: &str = "conturs_form";
/// Failed sign-ins allowed per minute over all accounts and clients: on top of each account's
/// lockout, guessing across many accounts stays slow.
const FAILED_SIGN_INS_PER_MINUTE: u32 = 30;
/// How long every sign-in is refused once that budget is spent.
const THROTTLE_PAUSE: Duration = Duration::from_secs(60);

/// The dashboard's HMAC key (CSRF tokens) and the global limiter of failed sign-ins.
#[derive(Clone)]
pub struct DashboardKey {
    key: [u8; 32],
    failed_sign_ins: Arc<DefaultDirectRateLimiter>,
    blocked_until: Arc<Mutex<Option<Instant>>>,
}

impl std::fmt::Debug for DashboardKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DashboardKey([redacted])")
    }
}

impl DashboardKey {
    /// Derived from the app's secret key, so every api dyno accepts every other's forms.
    pub fn derive(secret_key: &[u8; 32]) -> Self {
        let mut key = [0u8; 32];
        key.copy_from_slice(&mac(secret_key, &[b"conturs dashboard key"]));
        let quota =
            Quota::per_minute(NonZeroU32::new(FAILED_SIGN_INS_PER_MINUTE).expect("non-zero quota"));
        Self {
            key,
            failed_sign_ins: Arc::new(RateLimiter::direct(quota)),
            blocked_until: Arc::new(Mutex::new(None)),
        }
    }

    fn csrf(&self, purpose: &[u8], value: &str) -> String {
        hex(&mac(&self.key, &[purpose, b":", value.as_bytes()]))
    }

    /// Counts a failed sign-in; once the global budget is spent, every sign-in is refused
    /// (before any password is checked) for a minute, so guessing cannot go on at full speed.
    pub(crate) fn record_failed_sign_in(&self) {
        if self.failed_sign_ins.check().is_err() {
            tracing::warn!("dashboard sign-ins throttled for a minute");
            let until = Instant::now() + THROTTLE_PAUSE;
            if let Ok(mut blocked) = self.blocked_until.lock() {
                *blocked = Some(until);
            }
        }
    }

    /// Whether sign-ins are paused by the global throttle.
    pub(crate) fn sign_ins_paused(&self) -> bool {
        self.blocked_until
            .lock()
            .map(|blocked| blocked.is_some_and(|until| until > Instant::now()))
            .unwrap_or(true)
    }
}

fn mac(key: &[u8], parts: &[&[u8]]) -> [u8; 32] {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key).expect("HMAC accepts any key length");
    for part in parts {
        mac.update(part);
    }
    mac.finalize().into_bytes().into()
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A fresh random token, hex.
pub(crate) fn random_token(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    rand::rng().fill_bytes(&mut buf);
    hex(&buf)
}

/// The session id stored for a cookie token.
pub(crate) fn session_id(token: &str) -> String {
    hex(&Sha256::digest(token.as_bytes()))
}

fn same(a: &str, b: &str) -> bool {
    bool::from(a.as_bytes().ct_eq(b.as_bytes()))
}

fn csrf_refused() -> PageError {
    PageError::new(
        StatusCode::FORBIDDEN,
        "This form has expired or did not come from Conturs; reload the page and try again.",
    )
}

/// The session cookie for a new sign-in.
pub(crate) fn session_cookie(token: String) -> Cookie<'static> {
    Cookie::build((COOKIE_NAME, token))
        .path("/")
        .http_only(true)
        .secure(true)
        .same_site(SameSite::Lax)
        .max_age(cookie::time::Duration::days(store::SESSION_DAYS))
        .build()
}

/// Removes the session cookie.
pub(crate) fn session_cookie_removal() -> Cookie<'static> {
    Cookie::build(COOKIE_NAME).path("/").build()
}

/// A signed-in customer.
#[derive(Clone, Debug)]
pub struct AccountSession {
    pub account: accounts::Model,
    /// The stored session id (hash of the cookie token).
    pub session_id: String,
    /// What every form of this session must send back as `csrf`.
    pub csrf: String,
}

impl AccountSession {
    /// Refuses a POST whose form did not carry this session's CSRF token.
    pub fn check_csrf(&self, presented: &str) -> Result<(), PageError> {
        if same(presented, &self.csrf) {
            Ok(())
        } else {
            Err(csrf_refused())
        }
    }
}

/// The session the request's cookie names, if it is valid and unexpired (and its account
/// still exists); the OAuth callback asks this too.
pub(crate) async fn current(
    state: &AppState,
    headers: &HeaderMap,
) -> Result<Option<AccountSession>, sea_orm::DbErr> {
    let jar = CookieJar::from_headers(headers);
    let Some(token) = jar.get(COOKIE_NAME).map(|c| c.value().to_owned()) else {
        return Ok(None);
    };
    if token.len() != 64 || !token.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Ok(None);
    }
    let id = session_id(&token);
    let Some((session, account)) = store::find_session(state, &id).await? else {
        return Ok(None);
    };
    let csrf = state.config.dashboard_key.csrf(b"session", &session.id);
    Ok(Some(AccountSession {
        account,
        session_id: session.id,
        csrf,
    }))
}

/// Why a request has no session.
pub enum NoSession {
    /// A page: sign in, then come back.
    SignIn(String),
    /// A form post or a stream: 401.
    Unauthorized,
    /// The database did not answer.
    Failed(PageError),
}

impl IntoResponse for NoSession {
    fn into_response(self) -> Response {
        match self {
            NoSession::SignIn(next) => {
                let next: String = url::form_urlencoded::byte_serialize(next.as_bytes()).collect();
                Redirect::to(&format!("/app/sign-in?next={next}")).into_response()
            }
            NoSession::Unauthorized => PageError::new(
                StatusCode::UNAUTHORIZED,
                "Sign in to Conturs first (your session may have expired).",
            )
            .into_response(),
            NoSession::Failed(error) => error.into_response(),
        }
    }
}

impl FromRequestParts<AppState> for AccountSession {
    type Rejection = NoSession;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, NoSession> {
        match current(state, &parts.headers).await {
            Ok(Some(session)) => Ok(session),
            Ok(None) => {
                let is_page = parts.method == Method::GET && !parts.uri.path().ends_with("/stream");
                if is_page {
                    let next = parts
                        .uri
                        .path_and_query()
                        .map_or("/app", |p| p.as_str())
                        .to_owned();
                    Err(NoSession::SignIn(next))
                } else {
                    Err(NoSession::Unauthorized)
                }
            }
            Err(error) => Err(NoSession::Failed(error.into())),
        }
    }
}

/// The nonce cookie and CSRF token of an anonymous form (sign-in, sign-up): the cookie is
/// set when the form is shown, and the post must bring both back.
pub(crate) fn form_token(state: &AppState, jar: CookieJar) -> (CookieJar, String) {
    let existing = jar
        .get(FORM_COOKIE)
        .map(|c| c.value().to_owned())
        .filter(|v| v.len() == 32 && v.bytes().all(|b| b.is_ascii_hexdigit()));
    let (jar, nonce) = match existing {
        Some(nonce) => (jar, nonce),
        None => {
            let nonce = random_token(16);
            let cookie = Cookie::build((FORM_COOKIE, nonce.clone()))
                .path("/app")
                .http_only(true)
                .secure(true)
                .same_site(SameSite::Strict)
                .max_age(cookie::time::Duration::days(1))
                .build();
            (jar.add(cookie), nonce)
        }
    };
    let token = state.config.dashboard_key.csrf(b"form", &nonce);
    (jar, token)
}

/// Checks an anonymous form's CSRF token against its nonce cookie.
pub(crate) fn check_form_token(
    state: &AppState,
    jar: &CookieJar,
    presented: &str,
) -> Result<(), PageError> {
    let Some(nonce) = jar.get(FORM_COOKIE) else {
        return Err(csrf_refused());
    };
    let expected = state.config.dashboard_key.csrf(b"form", nonce.value());
    if same(presented, &expected) {
        Ok(())
    } else {
        Err(csrf_refused())
    }
}

/// Where to go after signing in: only dashboard pages (never another site, never the sign-in
/// pages again).
pub(crate) fn safe_next(next: Option<&str>) -> &str {
    match next {
        Some(next)
            if next.starts_with("/app")
                && !next.starts_with("//")
                && !next.contains('\\')
                && !next.starts_with("/app/sign-") =>
        {
            next
        }
        _ => super::HOME,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_stays_on_the_dashboard() {
        assert_eq!(safe_next(Some("/app/integrations")), "/app/integrations");
        assert_eq!(safe_next(Some("https://evil.example/")), super::super::HOME);
        assert_eq!(safe_next(Some("//evil.example/app")), super::super::HOME);
        assert_eq!(safe_next(Some("/app\\..\\x")), super::super::HOME);
        assert_eq!(safe_next(Some("/app/sign-in")), super::super::HOME);
        assert_eq!(safe_next(Some("/board")), super::super::HOME);
        assert_eq!(safe_next(None), super::super::HOME);
    }

    #[test]
    fn csrf_tokens_differ_by_purpose_value_and_key() {
        let key = DashboardKey::derive(&[1; 32]);
        let other = DashboardKey::derive(&[2; 32]);
        let a = key.csrf(b"session", "a");
        assert_eq!(a, key.csrf(b"session", "a"));
        assert_ne!(a, key.csrf(b"session", "b"));
        assert_ne!(a, key.csrf(b"form", "a"));
        assert_ne!(a, other.csrf(b"session", "a"));
    }

    #[test]
    fn session_ids_are_hashes_of_the_token() {
        let token = random_token(32);
        assert_eq!(token.len(), 64);
        let id = session_id(&token);
        assert_eq!(id.len(), 64);
        assert_ne!(id, token);
        assert_eq!(id, session_id(&token));
    }
}
