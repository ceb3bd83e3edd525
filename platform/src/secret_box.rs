//! Encryption at rest for OAuth tokens (AES-256-GCM under `CONTURS_SECRET_KEY`).
//!
//! A database dump alone must not let anyone call HubSpot as our customers. Each sealed value is
//! `version (1 byte) || nonce (12 bytes) || ciphertext+tag`, with a fresh random nonce, and is bound
//! to a context (for example `portal:42:refresh_token`) through GCM's associated data, so a
//! ciphertext copied onto another portal's row, or into another column, fails to open.

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use rand::RngCore;
use secrecy::SecretString;

use crate::config::SecretKey;

const FORMAT_VERSION: u8 = 1;
const NONCE_LEN: usize = 12;
const TAG_LEN: usize = 16;

/// Why a sealed token could not be opened; never carries the plaintext or the key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SecretBoxError {
    #[error("sealed token is too short or not in a known format")]
    Malformed,
    #[error("sealed token has unknown format version {0}")]
    UnknownVersion(u8),
    #[error("sealed token failed authentication: wrong key, wrong context or tampered data")]
    Unauthentic,
    #[error("sealed token is not valid UTF-8 after decryption")]
    NotUtf8,
    #[error("token could not be encrypted")]
    SealFailed,
}

/// Seals and opens token strings with the process's secret key.
#[derive(Clone)]
pub struct TokenCipher {
    cipher: Aes256Gcm,
}

impl std::fmt::Debug for TokenCipher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TokenCipher([redacted])")
    }
}

impl TokenCipher {
    pub fn new(key: &SecretKey) -> Self {
        Self {
            cipher: Aes256Gcm::new(key.expose().into()),
        }
    }

    /// Encrypts `plaintext` bound to `context`; the result is safe to store.
    pub fn seal(&self, plaintext: &str, context: &str) -> Result<Vec<u8>, SecretBoxError> {
        let mut nonce = [0u8; NONCE_LEN];
        rand::rng().fill_bytes(&mut nonce);
        let ciphertext = self
            .cipher
            .encrypt(
                Nonce::from_slice(&nonce),
                Payload {
                    msg: plaintext.as_bytes(),
                    aad: context.as_bytes(),
                },
            )
            .map_err(|_| SecretBoxError::SealFailed)?;
        let mut sealed = Vec::with_capacity(1 + NONCE_LEN + ciphertext.len());
        sealed.push(FORMAT_VERSION);
        sealed.extend_from_slice(&nonce);
        sealed.extend_from_slice(&ciphertext);
        Ok(sealed)
    }

    /// Decrypts a value sealed by [`TokenCipher::seal`] with the same key and context.
    pub fn open(&self, sealed: &[u8], context: &str) -> Result<SecretString, SecretBoxError> {
        let (&version, rest) = sealed.split_first().ok_or(SecretBoxError::Malformed)?;
        if version != FORMAT_VERSION {
            return Err(SecretBoxError::UnknownVersion(version));
        }
        if rest.len() < NONCE_LEN + TAG_LEN {
            return Err(SecretBoxError::Malformed);
        }
        let (nonce, ciphertext) = rest.split_at(NONCE_LEN);
        let plaintext = self
            .cipher
            .decrypt(
                Nonce::from_slice(nonce),
                Payload {
                    msg: ciphertext,
                    aad: context.as_bytes(),
                },
            )
            .map_err(|_| SecretBoxError::Unauthentic)?;
        String::from_utf8(plaintext)
            .map(SecretString::from)
            .map_err(|_| SecretBoxError::NotUtf8)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use secrecy::ExposeSecret;

    fn cipher(byte: u8) -> TokenCipher {
        TokenCipher::new(&SecretKey::from_bytes([byte; 32]))
    }

    const TOKEN: &str = "na1-6a8c-0f2e-4d2b-9a57-6b0c1e2f3a4b";
    const CONTEXT: &str = "portal:42:refresh_token";

    #[test]
    fn round_trips_and_hides_the_plaintext() {
        let c = cipher(7);
        let sealed = c.seal(TOKEN, CONTEXT).expect("seal");
        assert!(!sealed.windows(TOKEN.len()).any(|w| w == TOKEN.as_bytes()));
        let opened = c.open(&sealed, CONTEXT).expect("must open");
        assert_eq!(opened.expose_secret(), TOKEN);
    }

    #[test]
    fn nonces_differ_between_seals() {
        let c = cipher(7);
        assert_ne!(
            c.seal(TOKEN, CONTEXT).expect("seal"),
            c.seal(TOKEN, CONTEXT).expect("seal")
        );
    }

    #[test]
    fn every_flipped_byte_is_rejected() {
        let c = cipher(7);
        let sealed = c.seal(TOKEN, CONTEXT).expect("seal");
        for i in 0..sealed.len() {
            let mut tampered = sealed.clone();
            tampered[i] ^= 0x01;
            let result = c.open(&tampered, CONTEXT);
            assert!(result.is_err(), "flipping byte {i} was not detected");
        }
    }

    #[test]
    fn wrong_key_is_rejected() {
        let sealed = cipher(7).seal(TOKEN, CONTEXT).expect("seal");
        assert_eq!(
            cipher(8).open(&sealed, CONTEXT).err(),
            Some(SecretBoxError::Unauthentic)
        );
    }

    #[test]
    fn ciphertext_moved_to_another_context_is_rejected() {
        let c = cipher(7);
        let sealed = c.seal(TOKEN, CONTEXT).expect("seal");
        assert_eq!(
            c.open(&sealed, "portal:43:refresh_token").err(),
            Some(SecretBoxError::Unauthentic)
        );
    }

    #[test]
    fn truncated_or_foreign_data_is_malformed() {
        let c = cipher(7);
        assert_eq!(c.open(&[], CONTEXT).err(), Some(SecretBoxError::Malformed));
        assert_eq!(
            c.open(&[1, 2, 3], CONTEXT).err(),
            Some(SecretBoxError::Malformed)
        );
        assert_eq!(
            c.open(&[9; 40], CONTEXT).err(),
            Some(SecretBoxError::UnknownVersion(9))
        );
    }
}
