//! Typed HubSpot client for Conturs (DESIGN §2, §4): OAuth, CRM reads and batch writes,
//! property provisioning, webhook signatures, a shared per-portal rate budget and bounded
//! retries, with an error taxonomy that tells callers what to do. No database, no queue.

pub mod budget;
mod client;
pub mod crm;
pub mod error;
pub mod oauth;
pub mod paths;
pub mod properties;
pub mod retry;
mod transport;
pub mod usage;
pub mod webhook;

pub use budget::{BudgetPolicy, Lane, RateBudget, RedisGcra};
pub use client::{ClientConfig, HubSpotClient, PortalClient};
pub use error::{ErrorKind, HubSpotError, RateLimitPolicy};
pub use paths::{ApiPaths, HubSpotApiVersion, ObjectType};
pub use usage::{UsageCounter, UsageCounts, UsageSample};
