//! The five job handlers and what they share (DESIGN §3). Each handler is idempotent: delivery
//! is at-least-once, so running one twice leaves the same database and the same HubSpot values.

pub mod crm_store;
mod initial_sync;
mod nightly;
mod score;
pub mod scores_store;
pub mod token_store;
mod train;
mod write_back;

use std::sync::Arc;

use apalis::prelude::Monitor;
use entity::{Lane, PortalStatus, portals};
use hubspot::budget::BudgetPolicy;
use hubspot::oauth::RefreshCoordination;
use hubspot::{ClientConfig, HubSpotClient, HubSpotError, RateBudget, RedisGcra};
use platform::Settings;
use platform::config::QueueBackend as ConfiguredQueue;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter};
use secrecy::ExposeSecret as _;

use crate::errors::JobError;
use crate::payload::{InitialSync, NightlyResync, ScoreContact, TrainModel, WriteBack};
use crate::queue::Queue;
use crate::runtime::{WorkerOptions, register};

pub use initial_sync::initial_sync;
pub use nightly::nightly_resync;
pub use score::score_contacts;
pub use train::train_model;
pub use write_back::write_back;

/// What the handlers need, built once per process.
#[derive(Clone)]
pub struct Deps {
    pub db: DatabaseConnection,
    pub queue: Queue,
    pub hubspot: HubSpotClient,
}

impl std::fmt::Debug for Deps {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Deps").finish_non_exhaustive()
    }
}

/// Why the handlers' dependencies could not be built.
#[derive(Debug, thiserror::Error)]
pub enum DepsError {
    #[error("HubSpot client: {0}")]
    HubSpot(#[from] HubSpotError),
    #[error("rate budget: {0}")]
    Budget(String),
    #[error("Redis for the shared rate budget: {0}")]
    Redis(#[from] redis::RedisError),
}

impl Deps {
    /// The production wiring: tokens sealed in the database; with Redis, the rate budget and
    /// token refreshes are shared by every process, otherwise kept in this one.
    pub async fn from_settings(settings: &Settings, queue: Queue) -> Result<Self, DepsError> {
        let db = queue.ledger().db().clone();
        let store = Arc::new(token_store::DbTokenStore::new(
            db.clone(),
            platform::TokenCipher::new(&settings.secret_key),
        ));
        let policy = BudgetPolicy::default();
        // The budget and refresh-lock keys share the queue's namespace, so apps (or test runs)
        // sharing a Redis keep separate budgets.
        let prefix = format!("{}:", settings.queue_namespace);
        let (budget, coordination) = match &settings.queue {
            ConfiguredQueue::Redis(url) => {
                let gcra = RedisGcra::connect(url.expose_secret(), &prefix).await?;
                let conn = redis::Client::open(url.expose_secret())?
                    .get_connection_manager()
                    .await?;
                (
                    RateBudget::shared(policy, gcra)
                        .map_err(|e| DepsError::Budget(e.to_string()))?,
                    RefreshCoordination::Redis { conn, prefix },
                )
            }
            ConfiguredQueue::Embedded => (
                RateBudget::local(policy).map_err(|e| DepsError::Budget(e.to_string()))?,
                RefreshCoordination::Local,
            ),
        };
        let hubspot = HubSpotClient::new(
            ClientConfig::from_settings(&settings.hubspot),
            budget,
            store,
            coordination,
        )?;
        Ok(Self { db, queue, hubspot })
    }

    /// Marks the portal's status (and why), for the board and the customer dashboard.
    pub async fn set_portal_status(
        &self,
        portal_id: i64,
        status: PortalStatus,
        reason: Option<String>,
    ) -> Result<(), JobError> {
        portals::Entity::update_many()
            .col_expr(portals::Column::Status, Expr::value(status))
            .col_expr(portals::Column::StatusReason, Expr::value(reason))
            .col_expr(portals::Column::UpdatedAt, Expr::value(chrono::Utc::now()))
            .filter(portals::Column::Id.eq(portal_id))
            .exec(&self.db)
            .await
            .map_err(db_error)?;
        Ok(())
    }

    /// Queues a follow-up job caused by `parent` (InitialSync → TrainModel → WriteBack…).
    pub async fn enqueue_child<J: crate::payload::JobPayload>(
        &self,
        parent: uuid::Uuid,
        make: impl FnOnce(uuid::Uuid) -> J,
    ) -> Result<J, JobError> {
        self.queue
            .enqueue(
                make,
                crate::queue::EnqueueOptions {
                    parent_id: Some(parent),
                    ..crate::queue::EnqueueOptions::default()
                },
            )
            .await
            .map_err(|e| JobError::transient(e.to_string()))
    }

    /// Classifies a HubSpot error for the retry policy, marking the portal when only the
    /// customer can fix it (revoked token, missing scopes) so no retry storm follows.
    pub async fn hubspot_failure(&self, portal_id: i64, error: HubSpotError) -> JobError {
        use hubspot::ErrorKind;
        match error.kind() {
            ErrorKind::NeedsReconnect | ErrorKind::MissingScopes | ErrorKind::Unauthorized => {
                let reason = error.to_string();
                if let Err(status_error) = self
                    .set_portal_status(
                        portal_id,
                        PortalStatus::NeedsReconnect,
                        Some(reason.clone()),
                    )
                    .await
                {
                    tracing::error!(portal_id, %status_error, "could not mark the portal");
                }
                JobError::permanent(error.reason_label(), reason)
            }
            _ if error.is_retryable() => JobError::Retryable {
                kind: error.reason_label(),
                message: error.to_string(),
                after: error.required_wait(),
            },
            _ => JobError::permanent(error.reason_label(), error.to_string()),
        }
    }
}

/// The HubSpot budget lane a queue lane draws from.
pub fn budget_lane(lane: Lane) -> hubspot::Lane {
    match lane {
        Lane::Realtime => hubspot::Lane::Realtime,
        Lane::Bulk => hubspot::Lane::Bulk,
    }
}

/// Queues WriteBack jobs for `contact_ids`, [`train::WRITE_BACK_BATCH`] contacts each.
pub async fn queue_write_backs(
    deps: &Deps,
    portal_id: i64,
    contact_ids: &[i64],
    lane: Lane,
    parent: uuid::Uuid,
    progress: &mut crate::progress::Progress,
) -> Result<(), JobError> {
    progress
        .phase("queueing write-back", Some(contact_ids.len() as i64))
        .await?;
    for batch in contact_ids.chunks(train::WRITE_BACK_BATCH) {
        deps.enqueue_child(parent, |run_id| WriteBack {
            run_id,
            portal_id,
            contact_ids: batch.to_vec(),
            lane,
        })
        .await?;
        progress.advance(batch.len() as i64).await?;
    }
    Ok(())
}

/// A database error inside a handler: worth a retry (the database may be restarting).
pub fn db_error(error: sea_orm::DbErr) -> JobError {
    JobError::Retryable {
        kind: "database",
        message: error.to_string(),
        after: None,
    }
}

/// Registers every job type: bulk lanes for all five, and realtime lanes for the webhook-driven
/// ScoreContact and WriteBack, each with its own concurrency.
pub fn register_all(
    monitor: Monitor,
    queue: &Queue,
    deps: &Deps,
    name: &str,
    concurrency: usize,
) -> Monitor {
    let options = |job: &str, lane: Lane, concurrency: usize| WorkerOptions {
        name: format!("{name}:{job}:{lane:?}").to_lowercase(),
        concurrency,
        lane,
    };
    let d = deps.clone();
    let monitor = register(
        monitor,
        queue,
        options("initial_sync", Lane::Bulk, concurrency.min(4)),
        move |job: InitialSync, progress| initial_sync(d.clone(), job, progress),
    );
    let d = deps.clone();
    let monitor = register(
        monitor,
        queue,
        options("train_model", Lane::Bulk, 2),
        move |job: TrainModel, progress| train_model(d.clone(), job, progress),
    );
    let d = deps.clone();
    let monitor = register(
        monitor,
        queue,
        options("nightly_resync", Lane::Bulk, concurrency.min(4)),
        move |job: NightlyResync, progress| nightly_resync(d.clone(), job, progress),
    );
    let mut monitor = monitor;
    for lane in [Lane::Realtime, Lane::Bulk] {
        let d = deps.clone();
        monitor = register(
            monitor,
            queue,
            options("score_contact", lane, concurrency),
            move |job: ScoreContact, progress| score_contacts(d.clone(), job, progress),
        );
        let d = deps.clone();
        monitor = register(
            monitor,
            queue,
            options("write_back", lane, concurrency),
            move |job: WriteBack, progress| write_back(d.clone(), job, progress),
        );
    }
    monitor
}
