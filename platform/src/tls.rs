//! One rustls crypto provider for the whole process.
//!
//! sqlx pulls in rustls with `ring`, reqwest with `aws-lc-rs`; with both compiled in, rustls cannot
//! pick a default and `rediss://` connections panic. Every binary calls [`install_crypto_provider`]
//! first thing in `main`.

/// Installs aws-lc-rs as the process-wide rustls provider; calling it again is harmless.
pub fn install_crypto_provider() {
    // `Err` only means a provider is already installed, which is what we want.
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
}
