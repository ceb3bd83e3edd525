//! OAuth `state` nonces already spent on a callback: a signed state is good for one use only.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "oauth_states")]
pub struct Model {
    /// The random nonce inside the signed state.
    #[sea_orm(primary_key, auto_increment = false)]
    pub nonce: String,
    pub used_at: DateTimeUtc,
    /// After this the signature check refuses the state anyway, so the row can be deleted.
    pub expires_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
