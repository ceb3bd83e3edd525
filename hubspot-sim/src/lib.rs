//! HubSpot simulator: a faithful stand-in for HubSpot's public API.
//!
//! `generator` is pure (no I/O) and usable on its own to build seeded synthetic portals with a
//! hidden ground-truth ICP; the rest of the crate serves those portals over HTTP.

pub mod generator;
