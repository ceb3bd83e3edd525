//! OAuth: the install URL and its signed state, token calls, token storage and refresh.

pub mod install;
pub mod refresh;
pub mod store;
pub mod tokens;

pub use install::{StateClaims, StateError, StateSigner};
pub use refresh::{RefreshCoordination, TokenManager};
pub use store::{InMemoryTokenStore, TokenStore, TokenStoreError};
pub use tokens::{AccessTokenInfo, AppCredentials, OAuthApi, TokenSet};
