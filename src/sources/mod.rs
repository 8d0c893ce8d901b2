//! Billing data sources. Each brings the ledger up to date and reports what it did.

pub mod billing_metrics;
pub mod cost_explorer;
pub mod cur;
pub mod cur_s3;
pub mod files;

use crate::ledger::{Ledger, SourceReport};
use anyhow::Result;
use chrono::NaiveDate;

/// What a source may use while syncing.
pub struct SyncContext<'a> {
    /// Runtime for async clients (AWS SDK).
    pub runtime: &'a tokio::runtime::Runtime,
    /// The run's date: sources fetch up to the day before.
    pub today: NaiveDate,
}

/// A place billing data comes from: local files, Cost Explorer, CUR exports on S3,
/// CloudWatch billing metrics.
pub trait Source {
    /// Short name shown in run summaries, e.g. `files`.
    fn name(&self) -> &str;
    /// Fetches what is new since the last sync into the ledger.
    fn sync(&self, ledger: &Ledger, ctx: &SyncContext) -> Result<SourceReport>;
}
