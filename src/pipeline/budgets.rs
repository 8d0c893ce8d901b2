//! The budgets a run watches (`[[budgets]]` projected by the `budget` rule) and the
//! budgets its findings propose.

use super::Job;
use crate::budgets;
use crate::config::Config;
use crate::ledger::Ledger;
use crate::model::BudgetWatch;
use crate::rules::{self, Evaluation, RuleFailure, RuleTiming};
use anyhow::Result;
use chrono::NaiveDate;
use std::sync::Arc;

impl Job {
    /// Adds the `budget` rule's findings over `[[budgets]]` to an evaluation (a failure is
    /// the rule's, and keeps its findings open).
    pub(super) fn watch_budgets(
        &self,
        ledger: &Ledger,
        evaluation: &mut Evaluation,
        source: &str,
        run_date: NaiveDate,
        day: NaiveDate,
    ) {
        if self.watches.is_empty() {
            return;
        }
        let start = std::time::Instant::now();
        let rule = "budget".to_string();
        match rules::watch_budgets(ledger, source, run_date, day, &self.watches) {
            Ok(findings) => {
                evaluation.timings.push(RuleTiming {
                    rule: rule.clone(),
                    seconds: start.elapsed().as_secs_f64(),
                    findings: findings.len(),
                });
                evaluation.findings.extend(findings);
                // A failed `monthly_limit` budget rule keeps the rule's findings open.
                let failed = evaluation.failures.iter().any(|f| f.rule == rule);
                if !failed && !evaluation.succeeded.contains(&rule) {
                    evaluation.succeeded.push(rule);
                }
            }
            Err(e) => {
                evaluation.succeeded.retain(|r| *r != rule);
                evaluation.failures.push(RuleFailure {
                    rule,
                    error: format!("{e:#}"),
                });
            }
        }
    }

    /// Creates or updates the budgets open findings propose (leaving `[[budgets]]` names to
    /// `costwatch budgets apply`).
    pub(super) fn apply_proposals(&self) -> Result<String> {
        let declared = self.config.budgets.iter().map(|b| b.name.clone()).collect();
        self.runtime.block_on(budgets::apply_proposals(
            &self.config.aws,
            &self.ledger,
            &self.config.budgets_from_findings,
            &declared,
            &Arc::default(),
        ))
    }
}

/// The `[[budgets]]` the `budget` rule projects: all of them unless a `[[rules]]` entry
/// disables the rule; those it cannot project (an auto-adjusting amount, a filter the ledger
/// does not keep) are logged and left to AWS's own notifications.
pub(super) fn watches(config: &Config) -> Vec<BudgetWatch> {
    let disabled = (config.rules.iter())
        .any(|r| r.builtin == Some(costwatch_detect::Kind::Budget) && !r.enabled);
    if disabled {
        return Vec::new();
    }
    (config.budgets.iter())
        .filter_map(|b| match b.watch(&config.sources.tag_keys) {
            Ok(watch) => Some(watch),
            Err(reason) => {
                tracing::warn!(budget = %b.name, %reason, "budget not projected by the budget rule");
                None
            }
        })
        .collect()
}
