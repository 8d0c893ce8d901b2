//! The CUR (legacy, CUR 2.0) or FOCUS export as an Amazon Athena table, aggregated where it
//! lies: one query per billing period whose partition changed returns the daily facts, which
//! replace that period like the file readers' facts (ledger source `cur`).
//!
//! The table's columns tell its format and the query ([`costwatch_cur::Projection`]); its
//! partitions' objects in S3 tell which periods changed (their keys and ETags) and how much a
//! query may scan at most (their sizes, for the cost guard); the result rows are read by the
//! file readers' rules ([`costwatch_cur::RowReader`], or the result CSV when it is large).

mod config;
mod partitions;
mod query;
mod source;
mod sql;
mod table;

pub use config::{AthenaConfig, Format};
pub use source::AthenaSource;

/// `[sources.athena]` in the file `costwatch init` writes.
pub const TEMPLATE: &str = include_str!("template.toml");
