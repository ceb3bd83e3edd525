//! A portal's OAuth tokens, sealed with AES-256-GCM (see `platform::secret_box`): the plaintext
//! never reaches the database or a log.

use sea_orm::entity::prelude::*;

#[derive(Clone, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "oauth_tokens")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub portal_id: i64,
    pub access_token_sealed: Vec<u8>,
    pub refresh_token_sealed: Vec<u8>,
    pub access_expires_at: DateTimeUtc,
    /// Bumped on every refresh, so concurrent refreshers can compare-and-swap.
    pub token_version: i32,
    pub updated_at: DateTimeUtc,
}

impl std::fmt::Debug for Model {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("oauth_tokens::Model")
            .field("portal_id", &self.portal_id)
            .field("tokens", &"[sealed]")
            .field("access_expires_at", &self.access_expires_at)
            .field("token_version", &self.token_version)
            .finish()
    }
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
