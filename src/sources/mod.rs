//! Billing data sources. Each brings the ledger up to date and reports what it did.

pub mod cur;
pub mod files;

use crate::ledger::{Ledger, SourceReport};
use anyhow::Result;

/// A place billing data comes from (local files today; Cost Explorer, CUR on S3 and
/// CloudWatch billing metrics plug in here).
pub trait Source {
    /// Short name shown in run summaries, e.g. `files`.
    fn name(&self) -> &str;
    /// Fetches what is new since the last sync into the ledger.
    fn sync(&self, ledger: &Ledger) -> Result<SourceReport>;
}
