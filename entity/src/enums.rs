//! Closed sets of states stored as short strings, so both SQLite and Postgres read them the same
//! way and a typo in a status is a compile error rather than a stuck row.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

/// Where a HubSpot connection stands; the board and the customer dashboard show it as is.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize,
)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(32))")]
#[serde(rename_all = "snake_case")]
pub enum PortalStatus {
    #[sea_orm(string_value = "connected")]
    Connected,
    #[sea_orm(string_value = "syncing")]
    Syncing,
    #[sea_orm(string_value = "ready")]
    Ready,
    /// Too few closed-won deals for a meaningful model.
    #[sea_orm(string_value = "insufficient_data")]
    InsufficientData,
    /// The refresh token was revoked or scopes are missing: only the customer can fix it.
    #[sea_orm(string_value = "needs_reconnect")]
    NeedsReconnect,
    #[sea_orm(string_value = "disconnected")]
    Disconnected,
}

/// The five typed jobs of DESIGN §3, plus the queue benchmark's no-op.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize,
)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(32))")]
#[serde(rename_all = "snake_case")]
pub enum JobType {
    #[sea_orm(string_value = "initial_sync")]
    InitialSync,
    #[sea_orm(string_value = "train_model")]
    TrainModel,
    #[sea_orm(string_value = "score_contact")]
    ScoreContact,
    #[sea_orm(string_value = "write_back")]
    WriteBack,
    #[sea_orm(string_value = "nightly_resync")]
    NightlyResync,
    /// Not a product job: the queue benchmark's no-op (`conturs bench queue`), recorded in the
    /// ledger like any job so the benchmark measures the real stack. The worker never runs it.
    #[sea_orm(string_value = "noop")]
    Noop,
}

/// Queue lane: realtime webhook work never waits behind bulk work.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize,
)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
#[serde(rename_all = "snake_case")]
pub enum Lane {
    #[sea_orm(string_value = "realtime")]
    Realtime,
    #[sea_orm(string_value = "bulk")]
    Bulk,
}

/// Life of a job run in the ledger. `Pending` rows exist before the queue has the job (outbox).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize,
)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
#[serde(rename_all = "snake_case")]
pub enum JobStatus {
    #[sea_orm(string_value = "pending")]
    Pending,
    #[sea_orm(string_value = "queued")]
    Queued,
    #[sea_orm(string_value = "running")]
    Running,
    /// Failed an attempt and waits for its next one.
    #[sea_orm(string_value = "retrying")]
    Retrying,
    #[sea_orm(string_value = "succeeded")]
    Succeeded,
    /// Failed permanently (bad data, revoked token): retrying would not help.
    #[sea_orm(string_value = "failed")]
    Failed,
    /// Out of attempts; retryable by hand from the API or the board.
    #[sea_orm(string_value = "dead")]
    Dead,
    #[sea_orm(string_value = "cancelled")]
    Cancelled,
}

impl JobStatus {
    /// Whether the run can still change on its own.
    pub fn is_terminal(self) -> bool {
        matches!(
            self,
            Self::Succeeded | Self::Failed | Self::Dead | Self::Cancelled
        )
    }
}

/// Which HubSpot link an association row records.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize,
)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(24))")]
#[serde(rename_all = "snake_case")]
pub enum AssociationKind {
    #[sea_orm(string_value = "contact_company")]
    ContactCompany,
    #[sea_orm(string_value = "deal_company")]
    DealCompany,
    #[sea_orm(string_value = "deal_contact")]
    DealContact,
}

/// How HubSpot removed a contact: `contact.deletion` can be undone within 90 days
/// (`contact.restore`); `contact.privacyDeletion` (a GDPR delete) cannot.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(32))")]
#[serde(rename_all = "snake_case")]
pub enum DeletionKind {
    #[sea_orm(string_value = "deleted")]
    Deleted,
    #[sea_orm(string_value = "privacy_deleted")]
    PrivacyDeleted,
}

/// The CRM object types Conturs syncs.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize,
)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
#[serde(rename_all = "snake_case")]
pub enum ObjectType {
    #[sea_orm(string_value = "contacts")]
    Contacts,
    #[sea_orm(string_value = "companies")]
    Companies,
    #[sea_orm(string_value = "deals")]
    Deals,
}

/// Whether a trained model is the one scores come from.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize,
)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
#[serde(rename_all = "snake_case")]
pub enum ModelStatus {
    #[sea_orm(string_value = "active")]
    Active,
    #[sea_orm(string_value = "retired")]
    Retired,
}

/// What the webhook intake did with an event.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize,
)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
#[serde(rename_all = "snake_case")]
pub enum WebhookOutcome {
    /// Scoring work was enqueued for it.
    #[sea_orm(string_value = "enqueued")]
    Enqueued,
    /// Folded into work already queued for the same contact.
    #[sea_orm(string_value = "coalesced")]
    Coalesced,
    /// Irrelevant (our own properties, unused properties, unknown portal).
    #[sea_orm(string_value = "ignored")]
    Ignored,
}
