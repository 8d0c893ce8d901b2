//! costwatch as an AWS Lambda function (`provided.al2023`): each invocation (an EventBridge
//! Scheduler event; `{"date": "YYYY-MM-DD"}` to run for another date) runs the daily job on
//! the ledger kept in S3 and returns the run summary. `src/bin/costwatch-lambda.rs` (feature
//! `lambda`) is the runtime loop around [`invoke`]; `costwatch deploy lambda --print` tells how
//! to build and deploy it ([`template`]).

mod invoke;
mod store;
pub mod template;

pub use invoke::{Invocation, LedgerReport, invoke};
pub use store::{Store, Upload};

use crate::aws::{AwsConfig, S3Location, Statement, iam};
use crate::error::Error;
use chrono::NaiveDate;
use serde::Deserialize;
use std::path::PathBuf;

/// The environment variable naming the ledger object (`s3://bucket/key`).
pub const LEDGER_ENV: &str = "COSTWATCH_LEDGER_S3";
/// The environment variable naming the config object (`s3://bucket/key`).
pub const CONFIG_S3_ENV: &str = "COSTWATCH_CONFIG_S3";
/// The environment variable holding the config itself (TOML), instead of an object.
pub const CONFIG_ENV: &str = "COSTWATCH_CONFIG";

/// An invocation's input: the schedule's `Input` (`{}`, or the date to run for). Other fields
/// (those of a scheduled EventBridge rule's event) are ignored.
#[derive(Debug, Default, Deserialize)]
pub struct Event {
    /// The run date; today (UTC) when absent.
    #[serde(default)]
    pub date: Option<NaiveDate>,
}

/// Where the configuration comes from.
#[derive(Debug, Clone)]
pub enum ConfigSource {
    /// The TOML text itself.
    Inline(String),
    /// An S3 object holding it.
    S3(S3Location),
}

/// What every invocation of one function shares.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The ledger object.
    pub ledger: S3Location,
    pub config: ConfigSource,
    /// Where each invocation keeps its working copy of the ledger (in a folder of its own).
    pub work_dir: PathBuf,
    /// AWS access for the ledger and config objects (the function's role by default).
    pub aws: AwsConfig,
}

impl Settings {
    /// From the function's environment: [`LEDGER_ENV`], and [`CONFIG_S3_ENV`] or [`CONFIG_ENV`];
    /// working copies in the temporary folder (`/tmp` on Lambda).
    pub fn from_env() -> Result<Self, Error> {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
        let ledger = var(LEDGER_ENV).ok_or_else(|| {
            Error::config(format!(
                "{LEDGER_ENV} is not set: it names the ledger object, s3://BUCKET/KEY"
            ))
        })?;
        let ledger = S3Location::parse(&ledger, LEDGER_ENV).map_err(Error::config)?;
        let config = match (var(CONFIG_S3_ENV), var(CONFIG_ENV)) {
            (Some(url), _) => {
                ConfigSource::S3(S3Location::parse(&url, CONFIG_S3_ENV).map_err(Error::config)?)
            }
            (None, Some(text)) => ConfigSource::Inline(text),
            (None, None) => {
                return Err(Error::config(format!(
                    "no configuration: set {CONFIG_S3_ENV} to the config object (s3://BUCKET/KEY) \
                     or {CONFIG_ENV} to the config itself"
                )));
            }
        };
        Ok(Self {
            ledger,
            config,
            work_dir: std::env::temp_dir().join("costwatch"),
            aws: AwsConfig {
                // As the SDK reads it, but known here too: an endpoint needs path-style URLs.
                endpoint_url: var("AWS_ENDPOINT_URL"),
                ..AwsConfig::default()
            },
        })
    }
}

/// What the function itself needs besides the config's parts: its ledger object read and
/// written (and the bucket listed, so that a missing ledger reads as absent, not forbidden),
/// and its config object read.
pub fn iam(ledger: &S3Location, config: Option<&S3Location>) -> Vec<Statement> {
    let mut out = vec![
        Statement::allow(
            "LedgerObject",
            &["s3:GetObject", "s3:PutObject"],
            [iam::s3_object(&ledger.bucket, &ledger.key)],
        ),
        Statement::allow(
            "LedgerBucket",
            &["s3:ListBucket"],
            [iam::s3_bucket(&ledger.bucket)],
        ),
    ];
    if let Some(config) = config {
        out.push(Statement::allow(
            "ConfigObject",
            &["s3:GetObject"],
            [iam::s3_object(&config.bucket, &config.key)],
        ));
    }
    out
}
