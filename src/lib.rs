//! costwatch: an AWS cost and budget watchdog.
//!
//! Billing data from [`sources`] lands in the [`ledger`]; [`rules`] evaluate it every day;
//! [`alerts`] turn findings into deduplicated digests kept in an outbox until delivered.
//! [`pipeline`] ties the stages together and [`cli`] exposes them as commands.

pub mod alerts;
pub mod aws;
pub mod cli;
pub mod config;
pub mod error;
pub mod ledger;
pub mod lock;
pub mod logging;
pub mod pipeline;
pub mod rules;
pub mod sources;
