//! Cost and Usage Reports delivered to S3: discovery through manifests, download of new
//! assemblies only, and replacement of a billing period's facts in one transaction.
//!
//! Layouts recognised under `s3://bucket/<prefix>/<report>/`:
//! - legacy CUR: `<yyyymmdd-yyyymmdd>/<report>-Manifest.json` naming the current assembly
//!   (`assemblyId`) and its CSV.gz or Parquet parts (`reportKeys`);
//! - Data Exports (CUR 2.0 and FOCUS): `metadata/BILLING_PERIOD=YYYY-MM/*-Manifest.json`
//!   naming the execution (`executionId`) and its files (`dataFiles`); without a manifest the
//!   files under `data/BILLING_PERIOD=YYYY-MM/` are taken, identified by their ETags.
//!
//! An assembly is recorded in the ledger (with the facts, in the same transaction) under the
//! manifest's `s3://` path, with its assembly id and ETag as its version: an unchanged
//! assembly is not downloaded again, and a new one replaces its billing period's facts.

mod config;
mod discover;
mod source;

pub use config::CurS3Config;
pub use source::CurS3Source;

/// `[sources.cur_s3]` in the file `costwatch init` writes.
pub const TEMPLATE: &str = include_str!("template.toml");
