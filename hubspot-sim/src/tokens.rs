//! OAuth codes, access and refresh tokens, and the private-app token: issuing, expiry,
//! revocation and lookup. Pure bookkeeping; the HTTP shapes live in `http::oauth`.

use std::collections::HashMap;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// Who is calling and what they may do.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Grant {
    pub portal_id: u64,
    pub scopes: Vec<String>,
    pub kind: TokenKind,
}

/// OAuth app tokens and private-app tokens are limited separately.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum TokenKind {
    OAuth { app_id: u64 },
    PrivateApp,
}

/// An issued access token.
#[derive(Clone, Debug)]
pub struct AccessToken {
    pub grant: Grant,
    pub client_id: String,
    pub expires_at: Instant,
    pub expires_at_ms: i64,
    pub revoked: bool,
}

/// An issued refresh token.
#[derive(Clone, Debug)]
pub struct RefreshToken {
    pub grant: Grant,
    pub client_id: String,
    pub revoked: bool,
}

#[derive(Clone, Debug)]
struct AuthCode {
    grant: Grant,
    client_id: String,
    redirect_uri: String,
    expires_at: Instant,
}

/// Result of looking up a bearer token.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Lookup {
    Valid(Grant),
    Expired {
        expired_for: Duration,
        expired_at_ms: i64,
    },
    Unknown,
}

/// Why an authorization code was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CodeError {
    Unknown,
    ClientMismatch,
    RedirectMismatch,
}

/// A freshly issued token pair.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TokenPair {
    pub access_token: String,
    pub refresh_token: String,
    pub expires_in: u64,
    pub portal_id: u64,
    pub scopes: Vec<String>,
}

/// All tokens of one simulator.
#[derive(Debug, Default)]
pub struct TokenStore {
    codes: HashMap<String, AuthCode>,
    access: HashMap<String, AccessToken>,
    refresh: HashMap<String, RefreshToken>,
    private_apps: HashMap<String, Grant>,
}

pub(crate) fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or_default()
}

/// Access tokens look like HubSpot's (long, opaque, up to 512 characters).
fn new_access_token() -> String {
    format!(
        "CO{}{}",
        uuid::Uuid::new_v4().simple(),
        uuid::Uuid::new_v4().simple()
    )
}

fn new_refresh_token() -> String {
    format!("na1-{}", uuid::Uuid::new_v4())
}

impl TokenStore {
    pub fn add_private_app(&mut self, token: String, grant: Grant) {
        self.private_apps.insert(token, grant);
    }

    pub fn issue_code(
        &mut self,
        grant: Grant,
        client_id: &str,
        redirect_uri: &str,
        ttl: Duration,
    ) -> String {
        let code = uuid::Uuid::new_v4().to_string();
        self.codes.insert(
            code.clone(),
            AuthCode {
                grant,
                client_id: client_id.to_owned(),
                redirect_uri: redirect_uri.to_owned(),
                expires_at: Instant::now() + ttl,
            },
        );
        code
    }

    /// Redeems a single-use code for a token pair.
    pub fn redeem_code(
        &mut self,
        code: &str,
        client_id: &str,
        redirect_uri: &str,
        ttl: Duration,
    ) -> Result<TokenPair, CodeError> {
        let stored = self.codes.get(code).ok_or(CodeError::Unknown)?;
        if stored.expires_at <= Instant::now() {
            self.codes.remove(code);
            return Err(CodeError::Unknown);
        }
        if stored.client_id != client_id {
            return Err(CodeError::ClientMismatch);
        }
        if stored.redirect_uri != redirect_uri {
            return Err(CodeError::RedirectMismatch);
        }
        let stored = self.codes.remove(code).ok_or(CodeError::Unknown)?;
        let refresh_token = new_refresh_token();
        self.refresh.insert(
            refresh_token.clone(),
            RefreshToken {
                grant: stored.grant.clone(),
                client_id: stored.client_id.clone(),
                revoked: false,
            },
        );
        Ok(self.issue_access(stored.grant, &stored.client_id, refresh_token, ttl))
    }

    /// Issues a pair directly (admin helper for tests that skip the browser flow).
    pub fn issue_pair(&mut self, grant: Grant, client_id: &str, ttl: Duration) -> TokenPair {
        let refresh_token = new_refresh_token();
        self.refresh.insert(
            refresh_token.clone(),
            RefreshToken {
                grant: grant.clone(),
                client_id: client_id.to_owned(),
                revoked: false,
            },
        );
        self.issue_access(grant, client_id, refresh_token, ttl)
    }

    fn issue_access(
        &mut self,
        grant: Grant,
        client_id: &str,
        refresh_token: String,
        ttl: Duration,
    ) -> TokenPair {
        let access_token = new_access_token();
        let pair = TokenPair {
            access_token: access_token.clone(),
            refresh_token,
            expires_in: ttl.as_secs(),
            portal_id: grant.portal_id,
            scopes: grant.scopes.clone(),
        };
        self.access.insert(
            access_token,
            AccessToken {
                grant,
                client_id: client_id.to_owned(),
                expires_at: Instant::now() + ttl,
                expires_at_ms: now_ms() + ttl.as_millis() as i64,
                revoked: false,
            },
        );
        pair
    }

    /// Refresh grant: a new access token; the refresh token stays the same.
    pub fn refresh(
        &mut self,
        refresh_token: &str,
        client_id: &str,
        ttl: Duration,
    ) -> Option<TokenPair> {
        let stored = self.refresh.get(refresh_token)?;
        if stored.revoked || stored.client_id != client_id {
            return None;
        }
        let grant = stored.grant.clone();
        Some(self.issue_access(grant, client_id, refresh_token.to_owned(), ttl))
    }

    pub fn lookup(&self, bearer: &str) -> Lookup {
        if let Some(grant) = self.private_apps.get(bearer) {
            return Lookup::Valid(grant.clone());
        }
        match self.access.get(bearer) {
            Some(token) if token.revoked => Lookup::Unknown,
            Some(token) => {
                let now = Instant::now();
                if token.expires_at <= now {
                    Lookup::Expired {
                        expired_for: now - token.expires_at,
                        expired_at_ms: token.expires_at_ms,
                    }
                } else {
                    Lookup::Valid(token.grant.clone())
                }
            }
            None => Lookup::Unknown,
        }
    }

    /// A live access token's record (for token info), `None` if unknown, revoked or expired.
    pub fn access_info(&self, token: &str) -> Option<&AccessToken> {
        self.access
            .get(token)
            .filter(|t| !t.revoked && t.expires_at > Instant::now())
    }

    pub fn refresh_info(&self, token: &str) -> Option<&RefreshToken> {
        self.refresh.get(token).filter(|t| !t.revoked)
    }

    /// Refresh tokens of `portal_id` that still work (tests check that a refused install
    /// left none behind).
    pub fn live_refresh_tokens(&self, portal_id: u64) -> usize {
        self.refresh
            .values()
            .filter(|t| !t.revoked && t.grant.portal_id == portal_id)
            .count()
    }

    /// Deletes a refresh token (access tokens made from it keep working, as on HubSpot).
    pub fn revoke_refresh(&mut self, token: &str) -> bool {
        match self.refresh.get_mut(token) {
            Some(t) if !t.revoked => {
                t.revoked = true;
                true
            }
            _ => false,
        }
    }

    pub fn revoke_access(&mut self, token: &str) -> bool {
        match self.access.get_mut(token) {
            Some(t) if !t.revoked => {
                t.revoked = true;
                true
            }
            _ => false,
        }
    }

    /// Fault injection / uninstall: every token of a portal stops working.
    pub fn revoke_portal(&mut self, portal_id: u64) -> usize {
        let mut revoked = 0;
        for token in self
            .access
            .values_mut()
            .filter(|t| t.grant.portal_id == portal_id && !t.revoked)
        {
            token.revoked = true;
            revoked += 1;
        }
        for token in self
            .refresh
            .values_mut()
            .filter(|t| t.grant.portal_id == portal_id && !t.revoked)
        {
            token.revoked = true;
            revoked += 1;
        }
        revoked
    }

    /// Sets a portal's access tokens to expire now (tests of the expiry path).
    pub fn expire_portal_access(&mut self, portal_id: u64) {
        let now = Instant::now();
        let now_ms = now_ms();
        for token in self
            .access
            .values_mut()
            .filter(|t| t.grant.portal_id == portal_id)
        {
            token.expires_at = now;
            token.expires_at_ms = now_ms;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grant() -> Grant {
        Grant {
            portal_id: 7,
            scopes: vec!["oauth".into()],
            kind: TokenKind::OAuth { app_id: 1 },
        }
    }

    #[test]
    fn codes_are_single_use_and_bound_to_client_and_redirect() {
        let mut store = TokenStore::default();
        let ttl = Duration::from_secs(60);
        let code = store.issue_code(grant(), "c", "http://x/cb", ttl);
        assert_eq!(
            store.redeem_code(&code, "other", "http://x/cb", ttl),
            Err(CodeError::ClientMismatch)
        );
        assert_eq!(
            store.redeem_code(&code, "c", "http://y/cb", ttl),
            Err(CodeError::RedirectMismatch)
        );
        let pair = store
            .redeem_code(&code, "c", "http://x/cb", ttl)
            .expect("valid code");
        assert_eq!(
            store.redeem_code(&code, "c", "http://x/cb", ttl),
            Err(CodeError::Unknown)
        );
        assert_eq!(store.lookup(&pair.access_token), Lookup::Valid(grant()));
    }

    #[test]
    fn expired_and_revoked_tokens_are_refused() {
        let mut store = TokenStore::default();
        let pair = store.issue_pair(grant(), "c", Duration::ZERO);
        assert!(matches!(
            store.lookup(&pair.access_token),
            Lookup::Expired { .. }
        ));
        let fresh = store
            .refresh(&pair.refresh_token, "c", Duration::from_secs(60))
            .expect("refreshable");
        assert_eq!(fresh.refresh_token, pair.refresh_token);
        assert!(
            store
                .refresh(&pair.refresh_token, "wrong-client", Duration::from_secs(60))
                .is_none()
        );
        assert!(store.revoke_refresh(&pair.refresh_token));
        assert!(
            store
                .refresh(&pair.refresh_token, "c", Duration::from_secs(60))
                .is_none()
        );
        assert_eq!(store.revoke_portal(7), 2);
        assert_eq!(store.lookup(&fresh.access_token), Lookup::Unknown);
    }
}
