//! Conturs' jobs: typed payloads, their handlers, the progress ledger and the queue wiring
//! shared by the worker, the clock and the API (DESIGN §3).

pub mod bulk;
pub mod clock;
pub mod coalesce;
pub mod drain;
pub mod errors;
pub mod handlers;
pub mod ledger;
pub mod payload;
pub mod portals;
pub mod presence;
pub mod privacy;
pub mod progress;
pub mod queue;
pub mod reconciler;
pub mod retention;
pub mod runtime;
pub mod usage;

pub use drain::Drain;
pub use errors::JobError;
pub use ledger::{AttemptDecision, Failure, Ledger, LedgerError, NewRun};
pub use progress::Progress;
pub use queue::{EnqueueOptions, Queue, QueueBackend, QueueError, QueueSettings};
