//! Where tokens live between requests. The jobs crate persists them sealed in the database; an
//! in-memory store serves tests and the embedded demo.

use std::collections::HashMap;
use std::sync::Mutex;

use futures::future::BoxFuture;

use super::tokens::TokenSet;

/// The store failed (database down, cipher key mismatch, …).
#[derive(Debug, Clone, thiserror::Error)]
#[error("token store failed: {0}")]
pub struct TokenStoreError(pub String);

/// Persistence for each portal's OAuth tokens. Implementations must make `save` durable before
/// returning: a refreshed token that is lost may leave only a rotated-away refresh token.
pub trait TokenStore: Send + Sync {
    fn load(&self, portal: u64) -> BoxFuture<'_, Result<Option<TokenSet>, TokenStoreError>>;
    fn save(&self, portal: u64, tokens: TokenSet) -> BoxFuture<'_, Result<(), TokenStoreError>>;
    fn delete(&self, portal: u64) -> BoxFuture<'_, Result<(), TokenStoreError>>;
}

/// A process-local store: for tests, benchmarks and the single-process demo.
#[derive(Debug, Default)]
pub struct InMemoryTokenStore {
    tokens: Mutex<HashMap<u64, TokenSet>>,
    saves: std::sync::atomic::AtomicUsize,
}

impl InMemoryTokenStore {
    pub fn new() -> Self {
        Self::default()
    }

    /// How many times tokens were saved; lets tests count refreshes.
    pub fn save_count(&self) -> usize {
        self.saves.load(std::sync::atomic::Ordering::SeqCst)
    }

    fn map(&self) -> std::sync::MutexGuard<'_, HashMap<u64, TokenSet>> {
        self.tokens.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl TokenStore for InMemoryTokenStore {
    fn load(&self, portal: u64) -> BoxFuture<'_, Result<Option<TokenSet>, TokenStoreError>> {
        let found = self.map().get(&portal).cloned();
        Box::pin(async move { Ok(found) })
    }

    fn save(&self, portal: u64, tokens: TokenSet) -> BoxFuture<'_, Result<(), TokenStoreError>> {
        self.map().insert(portal, tokens);
        self.saves.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        Box::pin(async { Ok(()) })
    }

    fn delete(&self, portal: u64) -> BoxFuture<'_, Result<(), TokenStoreError>> {
        self.map().remove(&portal);
        Box::pin(async { Ok(()) })
    }
}
