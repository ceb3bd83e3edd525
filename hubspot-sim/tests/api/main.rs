//! Integration tests over real HTTP against an in-process simulator on port 0.

mod helpers;

mod admin;
mod associations;
mod changes;
mod cli;
mod faults;
mod oauth;
mod objects;
mod properties;
mod rate_limits;
mod search;
mod webhooks;
