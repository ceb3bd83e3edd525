//! OAuth tokens in the database, sealed with AES-256-GCM: the `hubspot` crate's [`TokenStore`]
//! for every process that shares the database.

use chrono::Utc;
use entity::oauth_tokens;
use futures::future::BoxFuture;
use hubspot::oauth::tokens::TokenSet;
use hubspot::oauth::{TokenStore, TokenStoreError};
use platform::TokenCipher;
use sea_orm::sea_query::OnConflict;
use sea_orm::{ActiveValue::Set, DatabaseConnection, EntityTrait};
use secrecy::ExposeSecret as _;

/// Sealed tokens in `oauth_tokens`; scopes live on the portal row.
#[derive(Debug, Clone)]
pub struct DbTokenStore {
    db: DatabaseConnection,
    cipher: TokenCipher,
}

impl DbTokenStore {
    pub fn new(db: DatabaseConnection, cipher: TokenCipher) -> Self {
        Self { db, cipher }
    }

    /// The AES-GCM associated data: binds a ciphertext to its portal and column.
    fn context(portal: u64, column: &str) -> String {
        format!("portal:{portal}:{column}")
    }
}

fn store_error(error: impl std::fmt::Display) -> TokenStoreError {
    TokenStoreError(error.to_string())
}

impl TokenStore for DbTokenStore {
    fn load(&self, portal: u64) -> BoxFuture<'_, Result<Option<TokenSet>, TokenStoreError>> {
        Box::pin(async move {
            let Some(row) = oauth_tokens::Entity::find_by_id(portal as i64)
                .one(&self.db)
                .await
                .map_err(store_error)?
            else {
                return Ok(None);
            };
            let access = self
                .cipher
                .open(&row.access_token_sealed, &Self::context(portal, "access"))
                .map_err(store_error)?;
            let refresh = self
                .cipher
                .open(&row.refresh_token_sealed, &Self::context(portal, "refresh"))
                .map_err(store_error)?;
            let scopes = entity::portals::Entity::find_by_id(portal as i64)
                .one(&self.db)
                .await
                .map_err(store_error)?
                .and_then(|p| serde_json::from_value(p.scopes).ok())
                .unwrap_or_default();
            Ok(Some(TokenSet {
                access_token: access,
                refresh_token: refresh,
                expires_at: row.access_expires_at,
                portal_id: portal,
                scopes,
            }))
        })
    }

    fn save(&self, portal: u64, tokens: TokenSet) -> BoxFuture<'_, Result<(), TokenStoreError>> {
        Box::pin(async move {
            let access = self
                .cipher
                .seal(
                    tokens.access_token.expose_secret(),
                    &Self::context(portal, "access"),
                )
                .map_err(store_error)?;
            let refresh = self
                .cipher
                .seal(
                    tokens.refresh_token.expose_secret(),
                    &Self::context(portal, "refresh"),
                )
                .map_err(store_error)?;
            let row = oauth_tokens::ActiveModel {
                portal_id: Set(portal as i64),
                access_token_sealed: Set(access),
                refresh_token_sealed: Set(refresh),
                access_expires_at: Set(tokens.expires_at),
                token_version: Set(1),
                updated_at: Set(Utc::now()),
            };
            oauth_tokens::Entity::insert(row)
                .on_conflict(
                    OnConflict::column(oauth_tokens::Column::PortalId)
                        .update_columns([
                            oauth_tokens::Column::AccessTokenSealed,
                            oauth_tokens::Column::RefreshTokenSealed,
                            oauth_tokens::Column::AccessExpiresAt,
                            oauth_tokens::Column::UpdatedAt,
                        ])
                        .value(
                            oauth_tokens::Column::TokenVersion,
                            sea_orm::sea_query::Expr::cust(
                                "\"oauth_tokens\".\"token_version\" + 1",
                            ),
                        )
                        .to_owned(),
                )
                .exec(&self.db)
                .await
                .map_err(store_error)?;
            Ok(())
        })
    }

    fn delete(&self, portal: u64) -> BoxFuture<'_, Result<(), TokenStoreError>> {
        Box::pin(async move {
            oauth_tokens::Entity::delete_by_id(portal as i64)
                .exec(&self.db)
                .await
                .map_err(store_error)?;
            Ok(())
        })
    }
}
