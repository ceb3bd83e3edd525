//! Links between records (contact→company, deal→company, deal→contact) as HubSpot reports them.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

use crate::AssociationKind;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "associations")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub portal_id: i64,
    #[sea_orm(primary_key, auto_increment = false)]
    pub kind: AssociationKind,
    #[sea_orm(primary_key, auto_increment = false)]
    pub from_id: i64,
    #[sea_orm(primary_key, auto_increment = false)]
    pub to_id: i64,
    /// HubSpot's "Primary" label (type ids 1 and 5).
    pub is_primary: bool,
    pub synced_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
