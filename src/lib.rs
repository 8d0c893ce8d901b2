//! costwatch: an AWS cost and budget watchdog.
//!
//! Billing data from [`sources`] lands in the [`ledger`]; [`rules`] evaluate it every day;
//! [`findings`] keeps one open finding per scope and explains each alert; [`alerts`] turn
//! them into digests kept in an outbox until delivered; [`budgets`] keeps AWS Budgets as
//! the config declares them and findings propose them. [`model`] holds the types they
//! share, [`pipeline`] ties the stages together and [`cli`] exposes them as commands;
//! [`lambda`] runs the daily job as an AWS Lambda function with the ledger in S3.
//! `docs/architecture.md` has the data flow and who may import whom.

pub mod alerts;
pub mod aws;
pub mod budgets;
pub mod cli;
pub mod config;
pub mod error;
pub mod findings;
pub mod lambda;
pub mod ledger;
pub mod lock;
pub mod logging;
pub mod model;
pub mod pipeline;
pub mod rules;
pub mod sources;
