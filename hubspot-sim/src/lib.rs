//! HubSpot simulator: a faithful stand-in for HubSpot's public API.
//!
//! `generator` is pure (no I/O) and usable on its own to build seeded synthetic portals with a
//! hidden ground-truth ICP; the rest of the crate serves those portals over HTTP with HubSpot's
//! paths, payloads, limits, errors and webhooks. Start one in-process with
//! `Simulator::start(SimConfig::new(client_id, client_secret)).await`.

pub mod admin;
pub mod changes;
pub mod config;
pub mod consent;
pub mod faults;
pub mod generator;
pub mod http;
pub mod ratelimit;
mod sim;
pub mod state;
pub mod stats;
pub mod store;
pub mod tokens;
pub mod webhooks;

pub use changes::{ChangeLog, LoggedChange};
pub use config::{RateLimits, SimConfig, WebhookKnobs};
pub use faults::FaultConfig;
pub use sim::{RunningSimulator, Simulator, StartError};
pub use store::ObjectType;
pub use tokens::TokenPair;
