//! Board sign-in: the admin token, once, for a session cookie.
//!
//! The cookie is signed (axum-extra's `SignedCookieJar`, HMAC-SHA256 under a key derived from
//! `CONTURS_SECRET_KEY`), HttpOnly, Secure, SameSite=Strict and scoped to `/board`; it holds a
//! random session id and its expiry. Actions carry a CSRF token derived from the session id
//! (an HMAC, so nothing is stored server-side) and are refused without it.

use std::num::NonZeroU32;
use std::sync::Arc;

use axum::Form;
use axum::extract::{FromRef, FromRequestParts, Query, State};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::SignedCookieJar;
use axum_extra::extract::cookie::{Cookie, Key, SameSite};
use chrono::Utc;
use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use hmac::{Hmac, Mac};
use maud::html;
use rand::RngCore as _;
use serde::Deserialize;
use sha2::Sha256;
use subtle::ConstantTimeEq;

use super::error::BoardError;
use super::layout;
use crate::AppState;

/// The session cookie's name.
pub const COOKIE_NAME: &str = "conturs_board";
/// How long a sign-in lasts.
pub const SESSION_HOURS: i64 = 12;
/// Failed sign-ins allowed per minute (all clients together): guessing the token stays slow.
const FAILED_LOGINS_PER_MINUTE: u32 = 10;

/// The key board cookies are signed with, and the limiter of failed sign-ins.
#[derive(Clone)]
pub struct BoardKey {
    key: Key,
    failed_logins: Arc<DefaultDirectRateLimiter>,
}

impl BoardKey {
    /// Derived from the app's secret key, so every api dyno accepts every other's cookies.
    pub fn derive(secret_key: &[u8; 32]) -> Self {
        let mut master = [0u8; 64];
        let mut mac =
            <Hmac<Sha256> as Mac>::new_from_slice(secret_key).expect("HMAC accepts any key length");
        mac.update(b"conturs board session key, part 1");
        master[..32].copy_from_slice(&mac.finalize().into_bytes());
        let mut mac =
            <Hmac<Sha256> as Mac>::new_from_slice(secret_key).expect("HMAC accepts any key length");
        mac.update(b"conturs board session key, part 2");
        master[32..].copy_from_slice(&mac.finalize().into_bytes());
        let quota =
            Quota::per_minute(NonZeroU32::new(FAILED_LOGINS_PER_MINUTE).expect("non-zero quota"));
        Self {
            key: Key::from(&master),
            failed_logins: Arc::new(RateLimiter::direct(quota)),
        }
    }

    fn csrf_token(&self, session_id: &str) -> String {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(self.key.signing())
            .expect("HMAC accepts any key length");
        mac.update(b"csrf:");
        mac.update(session_id.as_bytes());
        hex(&mac.finalize().into_bytes())
    }
}

impl std::fmt::Debug for BoardKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("BoardKey([redacted])")
    }
}

impl FromRef<AppState> for Key {
    fn from_ref(state: &AppState) -> Self {
        state.config.board_key.key.clone()
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A signed-in operator; extracting it from a request without a valid session sends the
/// browser to the sign-in page (pages) or answers 401 (everything else).
#[derive(Clone, Debug)]
pub struct Session {
    /// The token every action form must send back as `csrf`.
    pub csrf: String,
}

impl Session {
    /// Refuses an action whose form did not carry this session's CSRF token.
    pub fn check_csrf(&self, presented: &str) -> Result<(), BoardError> {
        if bool::from(presented.as_bytes().ct_eq(self.csrf.as_bytes())) {
            Ok(())
        } else {
            Err(BoardError::new(
                StatusCode::FORBIDDEN,
                "this action's form has expired or did not come from the board; reload the page and try again",
            ))
        }
    }
}

/// Why a request has no session.
pub enum NoSession {
    /// A page: go and sign in, then come back.
    SignIn(String),
    /// An action or a stream: no redirect, just 401.
    Unauthorized,
}

impl IntoResponse for NoSession {
    fn into_response(self) -> Response {
        match self {
            NoSession::SignIn(next) => {
                let to = format!("/board/login?next={}", urlencode(&next));
                Redirect::to(&to).into_response()
            }
            NoSession::Unauthorized => BoardError::new(
                StatusCode::UNAUTHORIZED,
                "sign in to the board first (your session may have expired)",
            )
            .into_response(),
        }
    }
}

fn urlencode(value: &str) -> String {
    url::form_urlencoded::byte_serialize(value.as_bytes()).collect()
}

impl FromRequestParts<AppState> for Session {
    type Rejection = NoSession;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, NoSession> {
        let is_page = parts.method == axum::http::Method::GET
            && !parts.uri.path().ends_with("/stream")
            && parts.uri.path() != "/board/live";
        let next = parts
            .uri
            .path_and_query()
            .map_or("/board", |p| p.as_str())
            .to_owned();
        let refuse = move || {
            if is_page {
                NoSession::SignIn(next.clone())
            } else {
                NoSession::Unauthorized
            }
        };
        let jar = SignedCookieJar::<Key>::from_request_parts(parts, state)
            .await
            .map_err(|_| refuse())?;
        let Some(cookie) = jar.get(COOKIE_NAME) else {
            return Err(refuse());
        };
        let Some((session_id, expires)) = parse_value(cookie.value()) else {
            return Err(refuse());
        };
        if expires <= state.config.clock.now().timestamp() {
            return Err(refuse());
        }
        Ok(Session {
            csrf: state.config.board_key.csrf_token(session_id),
        })
    }
}

/// `v1.<session id>.<expiry, Unix seconds>`.
fn parse_value(value: &str) -> Option<(&str, i64)> {
    let mut parts = value.split('.');
    let (Some("v1"), Some(id), Some(expires), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return None;
    };
    if id.len() != 32 || !id.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    Some((id, expires.parse().ok()?))
}

/// Where to go after signing in: only board pages (never another site).
fn safe_next(next: Option<&str>) -> &str {
    match next {
        Some(next)
            if next.starts_with("/board")
                && !next.starts_with("//")
                && !next.contains('\\')
                && !next.starts_with("/board/login") =>
        {
            next
        }
        _ => "/board",
    }
}

#[derive(Deserialize)]
pub struct NextQuery {
    next: Option<String>,
}

/// `GET /board/login`.
pub async fn login_form(Query(query): Query<NextQuery>) -> Response {
    login_page(StatusCode::OK, safe_next(query.next.as_deref()), None)
}

fn login_page(status: StatusCode, next: &str, error: Option<&str>) -> Response {
    let body = html! {
        section.panel.login {
            h2 { "Sign in to the Conturs board" }
            @if let Some(error) = error {
                p.flash.bad role="alert" { (error) }
            }
            form method="post" action="/board/login" {
                input type="hidden" name="next" value=(next);
                label for="token" { "Admin token" }
                input #token type="password" name="token" required autocomplete="current-password"
                    autofocus;
                button type="submit" { "Sign in" }
            }
            p.muted { "The token is the api dyno's CONTURS_ADMIN_TOKEN." }
        }
    };
    (
        status,
        axum::response::Html(layout::bare("Sign in", body).into_string()),
    )
        .into_response()
}

#[derive(Deserialize)]
pub struct LoginForm {
    token: String,
    next: Option<String>,
}

/// `POST /board/login`: the admin token for a session cookie.
pub async fn login(
    State(state): State<AppState>,
    jar: SignedCookieJar<Key>,
    Form(form): Form<LoginForm>,
) -> Response {
    let next = safe_next(form.next.as_deref()).to_owned();
    if !state.config.admin_token.matches(&form.token) {
        if state.config.board_key.failed_logins.check().is_err() {
            tracing::warn!("board sign-in attempts throttled");
            return login_page(
                StatusCode::TOO_MANY_REQUESTS,
                &next,
                Some("Too many failed sign-ins; wait a minute and try again."),
            );
        }
        tracing::warn!("board sign-in with a wrong token");
        return login_page(
            StatusCode::UNAUTHORIZED,
            &next,
            Some("That is not the admin token."),
        );
    }
    let mut id = [0u8; 16];
    rand::rng().fill_bytes(&mut id);
    let expires = Utc::now().timestamp() + SESSION_HOURS * 3600;
    let cookie = Cookie::build((COOKIE_NAME, format!("v1.{}.{expires}", hex(&id))))
        .path("/board")
        .http_only(true)
        .secure(true)
        .same_site(SameSite::Strict)
        .max_age(cookie::time::Duration::hours(SESSION_HOURS))
        .build();
    tracing::info!("operator signed in to the board");
    (jar.add(cookie), Redirect::to(&next)).into_response()
}

#[derive(Deserialize)]
pub struct CsrfForm {
    csrf: String,
}

/// `POST /board/logout`.
pub async fn logout(
    session: Session,
    jar: SignedCookieJar<Key>,
    Form(form): Form<CsrfForm>,
) -> Result<Response, BoardError> {
    session.check_csrf(&form.csrf)?;
    let removal = Cookie::build(COOKIE_NAME).path("/board").build();
    Ok((jar.remove(removal), Redirect::to("/board/login")).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookie_values_parse_only_in_their_exact_shape() {
        let id = "0123456789abcdef0123456789abcdef";
        assert_eq!(
            parse_value(&format!("v1.{id}.1700000000")),
            Some((id, 1_700_000_000))
        );
        assert_eq!(parse_value(&format!("v2.{id}.1700000000")), None);
        assert_eq!(parse_value(&format!("v1.{id}.17x")), None);
        assert_eq!(parse_value(&format!("v1.{id}.1.2")), None);
        assert_eq!(parse_value("v1.short.1700000000"), None);
    }

    #[test]
    fn next_stays_on_the_board() {
        assert_eq!(
            safe_next(Some("/board/jobs?status=failed")),
            "/board/jobs?status=failed"
        );
        assert_eq!(safe_next(Some("https://evil.example/")), "/board");
        assert_eq!(safe_next(Some("//evil.example/board")), "/board");
        assert_eq!(safe_next(Some("/board\\..\\x")), "/board");
        assert_eq!(safe_next(Some("/board/login")), "/board");
        assert_eq!(safe_next(None), "/board");
    }

    #[test]
    fn csrf_tokens_differ_per_session_and_key() {
        let key = BoardKey::derive(&[1; 32]);
        let other = BoardKey::derive(&[2; 32]);
        let a = key.csrf_token("a");
        assert_eq!(a, key.csrf_token("a"));
        assert_ne!(a, key.csrf_token("b"));
        assert_ne!(a, other.csrf_token("a"));
        let session = Session { csrf: a.clone() };
        assert!(session.check_csrf(&a).is_ok());
        assert!(session.check_csrf("").is_err());
        assert!(session.check_csrf(&key.csrf_token("b")).is_err());
    }
}
