//! Findings: what a rule reports about one scope on one day, and what it asks for.

use chrono::NaiveDate;
use costwatch_detect::Severity;
use serde::{Deserialize, Serialize};

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
    /// Root-cause detail: what to look at and why the rule thinks so.
    pub detail: Option<String>,
    /// What the rule asks for besides keeping the finding.
    pub action: Action,
}

/// What a finding asks for besides being kept.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum Action {
    /// Put it in the digest.
    #[default]
    Notify,
    /// Put it in the digest and propose an AWS Budgets alert for its scope.
    BudgetAlert { monthly_limit: f64 },
}
