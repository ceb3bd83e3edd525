//! sea-orm entities: the Conturs data model, and nothing else.
//!
//! Every table carries `portal_id` (the HubSpot account id), and every query the jobs, the API and
//! the board run is scoped by it, so one customer's data can never leak into another's results.
//! Typed columns hold what scoring and the board query; `properties` keeps HubSpot's raw strings
//! so a new feature can be computed without a re-sync.

pub mod account_sessions;
pub mod accounts;
pub mod associations;
pub mod clock_ticks;
pub mod companies;
pub mod contacts;
pub mod deals;
pub mod deleted_contacts;
pub mod enums;
pub mod hubspot_usage;
pub mod job_events;
pub mod job_runs;
pub mod models;
pub mod oauth_states;
pub mod oauth_tokens;
pub mod portals;
pub mod score_claims;
pub mod score_history;
pub mod scores;
pub mod sync_cursors;
pub mod unknown_portal_events;
pub mod webhook_events;
pub mod worker_presence;

pub use enums::*;

/// The entities under short names, for `use entity::prelude::*`.
pub mod prelude {
    pub use crate::account_sessions::Entity as AccountSessions;
    pub use crate::accounts::Entity as Accounts;
    pub use crate::associations::Entity as Associations;
    pub use crate::clock_ticks::Entity as ClockTicks;
    pub use crate::companies::Entity as Companies;
    pub use crate::contacts::Entity as Contacts;
    pub use crate::deals::Entity as Deals;
    pub use crate::deleted_contacts::Entity as DeletedContacts;
    pub use crate::hubspot_usage::Entity as HubspotUsage;
    pub use crate::job_events::Entity as JobEvents;
    pub use crate::job_runs::Entity as JobRuns;
    pub use crate::models::Entity as Models;
    pub use crate::oauth_states::Entity as OauthStates;
    pub use crate::oauth_tokens::Entity as OauthTokens;
    pub use crate::portals::Entity as Portals;
    pub use crate::score_claims::Entity as ScoreClaims;
    pub use crate::score_history::Entity as ScoreHistory;
    pub use crate::scores::Entity as Scores;
    pub use crate::sync_cursors::Entity as SyncCursors;
    pub use crate::unknown_portal_events::Entity as UnknownPortalEvents;
    pub use crate::webhook_events::Entity as WebhookEvents;
    pub use crate::worker_presence::Entity as WorkerPresence;
}
