//! Tombstones of contacts HubSpot deleted: the id only (no personal data), so a sync page or a
//! scoring batch read before the deletion cannot store the contact again.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

use crate::DeletionKind;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "deleted_contacts")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub portal_id: i64,
    #[sea_orm(primary_key, auto_increment = false)]
    pub contact_id: i64,
    /// A restorable deletion, or a permanent (GDPR) one that a restore never lifts.
    pub kind: DeletionKind,
    pub deleted_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
