//! How each source fared in a run, as the run summary and the ledger keep it.

use serde::Serialize;
use std::collections::BTreeMap;

/// How a source's sync ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum SourceStatus {
    /// Up to date.
    Ok,
    /// Some of what is due was left for the next run (a request budget or cost guard).
    Partial,
    /// It failed; the other sources still ran.
    Failed,
}

impl SourceStatus {
    /// The stored and printed name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Ok => "ok",
            Self::Partial => "partial",
            Self::Failed => "failed",
        }
    }
}

/// How one source fared in a run.
#[derive(Debug, Clone, Serialize)]
pub struct SourceReport {
    pub source: String,
    pub status: SourceStatus,
    pub detail: String,
    /// AWS requests answered (including failed ones), each paid where the API charges per
    /// request; SDK retries count, throttled attempts are counted apart.
    pub api_calls: u32,
    /// Attempts AWS throttled (not charged): retried by the SDK, or left for the next run.
    pub throttled: u32,
    /// What the requests cost, in dollars (Cost Explorer: $0.01 a request; Athena: by the
    /// bytes its queries scanned).
    pub cost: f64,
    pub days_ingested: usize,
    /// The AWS operations it called (`Service Operation`), with their attempts: what its IAM
    /// policy must allow.
    pub operations: BTreeMap<String, u32>,
}

impl SourceReport {
    /// Whether the source failed.
    pub fn failed(&self) -> bool {
        self.status == SourceStatus::Failed
    }
}
