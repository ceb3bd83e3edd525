//! The five typed jobs (DESIGN §3). Each payload carries the id of its ledger row, so any
//! delivery of it, first or repeated, finds its progress, attempts and outcome there.

use entity::{JobType, Lane};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// What the queue plumbing needs to know about a job type.
pub trait JobPayload:
    Serialize + DeserializeOwned + Clone + std::fmt::Debug + Send + Sync + Unpin + 'static
{
    const TYPE: JobType;
    /// Bulk work by default; webhook-driven work runs in the realtime lane.
    fn lane(&self) -> Lane {
        Lane::Bulk
    }
    /// Total deliveries allowed before the run is dead.
    const MAX_ATTEMPTS: i32;
    fn run_id(&self) -> Uuid;
    fn portal_id(&self) -> i64;
}

macro_rules! portal_job {
    ($(#[$doc:meta])* $name:ident, $job_type:expr, $max:expr) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
        pub struct $name {
            pub run_id: Uuid,
            pub portal_id: i64,
        }

        impl JobPayload for $name {
            const TYPE: JobType = $job_type;
            const MAX_ATTEMPTS: i32 = $max;
            fn run_id(&self) -> Uuid {
                self.run_id
            }
            fn portal_id(&self) -> i64 {
                self.portal_id
            }
        }
    };
}

macro_rules! contacts_job {
    ($(#[$doc:meta])* $name:ident, $job_type:expr, $max:expr) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
        pub struct $name {
            pub run_id: Uuid,
            pub portal_id: i64,
            pub contact_ids: Vec<i64>,
            /// Realtime (webhook) work is kept apart from bulk work.
            pub lane: Lane,
        }

        impl JobPayload for $name {
            const TYPE: JobType = $job_type;
            const MAX_ATTEMPTS: i32 = $max;
            fn lane(&self) -> Lane {
                self.lane
            }
            fn run_id(&self) -> Uuid {
                self.run_id
            }
            fn portal_id(&self) -> i64 {
                self.portal_id
            }
        }
    };
}

portal_job!(
    /// Provision properties, stream companies → contacts → deals into the database, then train.
    InitialSync,
    JobType::InitialSync,
    5
);
portal_job!(
    /// Train and evaluate a model on the portal's data, store it, then score everyone.
    TrainModel,
    JobType::TrainModel,
    3
);
portal_job!(
    /// Incremental sync plus reconciliation; retrain when closed-won data changed.
    NightlyResync,
    JobType::NightlyResync,
    5
);
contacts_job!(
    /// Score a batch of contacts with fresh data from HubSpot.
    ScoreContact,
    JobType::ScoreContact,
    5
);
contacts_job!(
    /// Write changed scores back to HubSpot, at most 100 contacts per request.
    WriteBack,
    JobType::WriteBack,
    8
);
portal_job!(
    /// The queue benchmark's job (`conturs bench queue`): it does nothing, so the benchmark
    /// measures the queue, the ledger layer and the worker alone. Only the benchmark registers
    /// a worker for it; the real worker never does. One attempt: there is nothing to retry.
    Noop,
    JobType::Noop,
    1
);
