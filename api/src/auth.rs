//! Admin authentication for `/api/*`: `Authorization: Bearer <CONTURS_ADMIN_TOKEN>`.
//!
//! Both tokens are hashed before the constant-time comparison, so neither the content nor the
//! length of the configured token leaks through response timing.

use axum::extract::{Request, State};
use axum::http::header;
use axum::middleware::Next;
use axum::response::Response;
use secrecy::{ExposeSecret, SecretString};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::AppState;
use crate::error::ApiError;

/// The configured admin token, kept as its SHA-256 digest.
#[derive(Clone)]
pub struct AdminToken {
    digest: [u8; 32],
}

impl std::fmt::Debug for AdminToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AdminToken([redacted])")
    }
}

impl AdminToken {
    pub fn new(token: &SecretString) -> Self {
        Self {
            digest: Sha256::digest(token.expose_secret().as_bytes()).into(),
        }
    }

    /// Constant-time check of a presented token.
    pub fn matches(&self, presented: &str) -> bool {
        let presented: [u8; 32] = Sha256::digest(presented.as_bytes()).into();
        presented.ct_eq(&self.digest).into()
    }
}

/// Rejects requests without the admin bearer token with a 401 in the API's error shape.
pub async fn require_admin(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Result<Response, ApiError> {
    let presented = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            let (scheme, token) = v.trim().split_once(' ')?;
            scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
        });
    match presented {
        None => Err(ApiError::unauthorized(
            "send the admin token as `Authorization: Bearer <token>`",
        )),
        Some(token) if state.config.admin_token.matches(token) => Ok(next.run(request).await),
        Some(_) => Err(ApiError::unauthorized("the admin token is not valid")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_exact_token_matches() {
        let token = AdminToken::new(&SecretString::from("a-long-admin-token"));
        assert!(token.matches("a-long-admin-token"));
        assert!(!token.matches("a-long-admin-tokem"));
        assert!(!token.matches("a-long-admin-token "));
        assert!(!token.matches(""));
    }
}
