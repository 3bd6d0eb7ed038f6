//! The `shield` command's library half, so integration tests can drive the same code the
//! binary runs.

pub mod audit_cmd;
pub mod bench;
pub mod breached;
pub mod cli;
pub mod config;
pub mod demo;
pub mod detect_cmd;
pub mod import;
pub mod invite;
pub mod keys;
pub mod mail;
pub mod scanner;
pub mod seed;
pub mod serve;
pub mod telemetry;
pub mod webhooks;
