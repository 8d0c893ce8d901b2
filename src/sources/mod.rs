//! Billing data sources. Each is a folder `sources/<name>/`: its settings (the
//! `[sources.<name>]` table, and `template.toml`, its part of the file `costwatch init`
//! writes), its [`Source`] and its tests; it is registered by one line in [`register!`] below.

pub mod athena;
pub mod billing_metrics;
pub mod cost_explorer;
pub mod cur_s3;
pub mod files;

use crate::aws::{ArnScope, AwsConfig, Meter, Statement};
use crate::ledger::Ledger;
use crate::model::SourceStatus;
use anyhow::Result;
use chrono::NaiveDate;
use serde::Deserialize;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// What a source may use while syncing.
pub struct SyncContext<'a> {
    /// Runtime for async clients (AWS SDK).
    pub runtime: &'a tokio::runtime::Runtime,
    /// The run's date: sources fetch up to the day before.
    pub today: NaiveDate,
    /// Counts the AWS requests of the source's clients (attach [`Meter::interceptor`]).
    pub meter: Arc<Meter>,
}

/// What a sync did; the requests it made are counted by [`SyncContext::meter`].
#[derive(Debug, Clone)]
pub struct Synced {
    /// `Ok`, or `Partial` when some of what is due was left for the next run.
    pub status: SourceStatus,
    /// What was fetched or read, in words.
    pub detail: String,
    /// Distinct days written to the ledger.
    pub days_ingested: usize,
}

/// A place billing data comes from: local files, CUR exports on S3 or as an Athena table,
/// Cost Explorer, CloudWatch billing metrics.
pub trait Source {
    /// Short name shown in run summaries, e.g. `files`.
    fn name(&self) -> &str;
    /// Fetches what is new since the last sync into the ledger.
    fn sync(&self, ledger: &Ledger, ctx: &SyncContext) -> Result<Synced>;
}

/// Settings every source is built with besides its own.
pub struct Shared<'a> {
    /// The `[aws]` table.
    pub aws: &'a AwsConfig,
    /// Tag keys whose values are kept in the daily facts.
    pub tag_keys: &'a [String],
}

/// A `[sources.<name>]` table.
pub trait SourceConfig: std::fmt::Debug {
    /// Builds the source.
    fn build(&self, shared: &Shared) -> Box<dyn Source>;
    /// The IAM statements its syncs need, no more (`costwatch iam-policy`).
    fn iam(&self, scope: &ArnScope) -> Vec<Statement>;
    /// Makes relative paths relative to `base`, the config file's folder.
    fn resolve_paths(&mut self, _base: &Path) {}
}

/// `path`, relative to `base` when it is relative.
pub fn resolve(base: &Path, path: &mut PathBuf) {
    if path.is_relative() {
        *path = base.join(&*path);
    }
}

/// Declares the `[sources]` table from the sources' settings, in the order they sync.
macro_rules! register {
    ($($name:ident: $config:ty),* $(,)?) => {
        /// The `[sources]` table: each source's settings under its name, and the tag keys.
        #[derive(Debug, Clone, Default, Deserialize)]
        #[serde(deny_unknown_fields)]
        pub struct SourcesConfig {
            $(
                #[doc = concat!("`[sources.", stringify!($name), "]`")]
                pub $name: Option<$config>,
            )*
            /// Tag keys (e.g. `user:team`) whose values are kept in the daily facts.
            #[serde(default)]
            pub tag_keys: Vec<String>,
        }

        impl SourcesConfig {
            /// The configured sources' settings, in the order they sync.
            pub fn configured(&self) -> Vec<&dyn SourceConfig> {
                let mut out: Vec<&dyn SourceConfig> = Vec::new();
                $(if let Some(c) = &self.$name { out.push(c); })*
                out
            }

            /// [`SourcesConfig::configured`], to resolve their paths.
            pub fn configured_mut(&mut self) -> Vec<&mut dyn SourceConfig> {
                let mut out: Vec<&mut dyn SourceConfig> = Vec::new();
                $(if let Some(c) = &mut self.$name { out.push(c); })*
                out
            }
        }

        /// Each source's part of the file `costwatch init` writes, in order.
        pub const TEMPLATES: &[&str] = &[$($name::TEMPLATE),*];
    };
}

register! {
    files: files::FilesConfig,
    cur_s3: cur_s3::CurS3Config,
    athena: athena::AthenaConfig,
    cost_explorer: cost_explorer::CostExplorerConfig,
    billing_metrics: billing_metrics::BillingMetricsConfig,
}

impl SourcesConfig {
    /// The configured sources, in the order they sync.
    pub fn build(&self, aws: &AwsConfig) -> Vec<Box<dyn Source>> {
        let shared = Shared {
            aws,
            tag_keys: &self.tag_keys,
        };
        self.configured()
            .into_iter()
            .map(|c| c.build(&shared))
            .collect()
    }
}
