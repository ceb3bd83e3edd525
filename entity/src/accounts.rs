//! A customer's Conturs account: who signs in to the dashboard, and who owns HubSpot
//! connections (`portals.account_id`).

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "accounts")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    /// Trimmed and lower-cased, unique.
    pub email: String,
    /// argon2id PHC string (`$argon2id$v=19$…`); never shown or serialised.
    #[serde(skip_serializing)]
    pub password_hash: String,
    /// Room for plans later; empty until they exist.
    pub plan: Option<String>,
    /// Wrong passwords since the last sign-in or lockout.
    pub failed_attempts: i32,
    /// Sign-in refused until then (too many wrong passwords).
    pub locked_until: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
