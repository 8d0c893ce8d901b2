//! Rules: what they see (a [`Snapshot`] of daily usage series) and what they report ([`Finding`]s).

pub mod builtin;
mod history;

pub use history::{History, SeriesView, Snapshot};

use anyhow::Result;
use chrono::NaiveDate;
use serde::Serialize;
use std::panic::{AssertUnwindSafe, catch_unwind};

/// How loudly a finding is reported.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Warning,
    Critical,
}

impl Severity {
    /// The stored and printed name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Info => "info",
            Self::Warning => "warning",
            Self::Critical => "critical",
        }
    }

    /// Parses a stored name; anything unknown reads as `info`.
    pub fn parse(s: &str) -> Self {
        match s {
            "critical" => Self::Critical,
            "warning" => Self::Warning,
            _ => Self::Info,
        }
    }
}

/// What a finding is about: one account × service × usage type series.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Scope {
    pub account: String,
    pub service_code: String,
    pub service_name: String,
    pub usage_type: String,
}

impl Scope {
    /// Stable key of the scope in the ledger.
    pub fn key(&self) -> String {
        format!("{}|{}|{}", self.account, self.service_code, self.usage_type)
    }
}

/// One anomaly a rule reports for a scope on the evaluated day.
#[derive(Debug, Clone)]
pub struct Finding {
    pub rule: String,
    pub scope: Scope,
    /// The billing day evaluated.
    pub day: NaiveDate,
    pub severity: Severity,
    pub observed: f64,
    pub expected: f64,
    pub score: f64,
    pub monthly_impact: f64,
    /// Explanation in words a team lead understands.
    pub message: String,
}

/// A detection rule run over each day's snapshot.
pub trait Rule {
    /// Unique id, e.g. `spike`.
    fn id(&self) -> &str;
    /// One line on what the rule catches.
    fn description(&self) -> &str;
    /// Evaluates the snapshot's day for every series.
    fn evaluate(&self, snapshot: &Snapshot) -> Result<Vec<Finding>>;
}

/// A rule that failed on a run; the other rules still ran.
#[derive(Debug, Clone, Serialize)]
pub struct RuleFailure {
    pub rule: String,
    pub error: String,
}

/// Findings of all rules on one snapshot, and the rules that failed (error or panic).
pub struct Evaluation {
    pub findings: Vec<Finding>,
    pub failures: Vec<RuleFailure>,
    /// Ids of the rules that ran to completion.
    pub succeeded: Vec<String>,
}

/// Runs every rule on the snapshot; a rule that errors or panics is reported, not fatal.
pub fn evaluate_all(rules: &[Box<dyn Rule>], snapshot: &Snapshot) -> Evaluation {
    let mut out = Evaluation {
        findings: Vec::new(),
        failures: Vec::new(),
        succeeded: Vec::new(),
    };
    for rule in rules {
        match catch_unwind(AssertUnwindSafe(|| rule.evaluate(snapshot))) {
            Ok(Ok(findings)) => {
                out.findings.extend(findings);
                out.succeeded.push(rule.id().to_string());
            }
            Ok(Err(e)) => out.failures.push(RuleFailure {
                rule: rule.id().into(),
                error: format!("{e:#}"),
            }),
            Err(panic) => {
                let msg = panic
                    .downcast_ref::<&str>()
                    .map(|s| s.to_string())
                    .or_else(|| panic.downcast_ref::<String>().cloned())
                    .unwrap_or_else(|| "panicked".into());
                out.failures.push(RuleFailure {
                    rule: rule.id().into(),
                    error: format!("panicked: {msg}"),
                });
            }
        }
    }
    out
}
