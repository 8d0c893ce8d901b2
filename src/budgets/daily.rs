//! The daily run's share with `[budgets_from_findings] apply = true`: the budgets open
//! findings propose, planned (never pruning) and applied, so AWS watches them between runs.

use super::account::Account;
use super::apply::apply;
use super::calls::Origin;
use super::config::FindingsBudgets;
use super::plan::{Desired, Options, plan};
use super::proposals::propose;
use crate::aws::{AwsConfig, Meter};
use crate::ledger::Ledger;
use anyhow::{Result, bail};
use std::collections::BTreeSet;
use std::sync::Arc;

/// Creates or updates the proposed budgets of the ledger's open findings, leaving alone
/// those `[[budgets]]` declares (`declared`); returns what it did in one line.
pub async fn apply_proposals(
    aws: &AwsConfig,
    ledger: &Ledger,
    settings: &FindingsBudgets,
    declared: &BTreeSet<String>,
    meter: &Arc<Meter>,
) -> Result<String> {
    let desired: Vec<Desired> = propose(&ledger.open_budget_alerts()?, settings)
        .into_iter()
        .filter(|p| !declared.contains(&p.budget.name))
        .map(|p| Desired {
            budget: p.budget,
            origin: Origin::Finding,
        })
        .collect();
    if desired.is_empty() {
        return Ok("no budget proposed by an open finding".into());
    }
    let account = Account::connect(aws, meter).await?;
    let plan = plan(Some(&account), &desired, &Options::default()).await?;
    let report = apply(&account, &plan, |_, _| {}).await;
    let made: Vec<String> = report.applied.iter().map(|c| c.describe()).collect();
    if let Some(failed) = &report.failed {
        bail!(
            "proposed budgets: {} call(s) made{}; {} failed: {}",
            made.len(),
            if made.is_empty() {
                String::new()
            } else {
                format!(" ({})", made.join("; "))
            },
            failed.call.describe(),
            failed.error
        );
    }
    let done = match made.len() {
        0 => format!(
            "{} proposed budget(s) up to date",
            desired.len() - plan.left_alone.len()
        ),
        n => format!("proposed budgets: {n} call(s) made ({})", made.join("; ")),
    };
    let left: Vec<String> = (plan.left_alone.iter())
        .map(|s| format!("{} ({})", s.budget, s.reason))
        .collect();
    Ok(if left.is_empty() {
        done
    } else {
        format!("{done}; left alone: {}", left.join("; "))
    })
}
