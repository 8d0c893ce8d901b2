//! A plan: the declared budgets against the account's, change by change (created, updated
//! field by field, deleted), with the write calls each takes. Reading the account makes only
//! read calls. `--prune` deletes only what costwatch manages: the `costwatch:managed` tag and
//! the name prefix both; a budget a finding proposes updates only a budget costwatch made.

use super::account::Account;
use super::calls::{Call, Origin};
use super::diff::{FieldChange, diff, subscribers_text};
use super::proposals::PREFIX;
use super::spec::Budget;
use anyhow::Result;
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};

/// A budget costwatch should hold, and where it comes from.
#[derive(Debug, Clone)]
pub struct Desired {
    pub budget: Budget,
    pub origin: Origin,
}

/// What a plan covers besides the desired budgets.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Delete managed budgets that are not desired.
    pub prune: bool,
    /// Budgets never pruned though not desired (proposals not part of this plan).
    pub keep: BTreeSet<String>,
}

/// The changes that make the account hold the desired budgets.
#[derive(Debug, Serialize)]
pub struct Plan {
    /// The account planned against; `None` offline (an empty account, no AWS call).
    pub account: Option<String>,
    pub changes: Vec<Change>,
    /// Budgets costwatch does not touch, and why (a hand-made budget in its way).
    pub left_alone: Vec<Skipped>,
    /// Declared budgets the account holds in a form costwatch cannot manage.
    pub conflicts: Vec<Skipped>,
}

/// A budget costwatch leaves as it is.
#[derive(Debug, Clone, Serialize)]
pub struct Skipped {
    pub budget: String,
    pub reason: String,
}

/// One budget's change.
#[derive(Debug, Serialize)]
pub struct Change {
    pub action: Action,
    pub budget: String,
    /// Where the desired budget comes from (none for a deletion).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub origin: Option<Origin>,
    pub fields: Vec<FieldChange>,
    pub calls: Vec<Call>,
}

/// What a change does to a budget.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    Create,
    Update,
    Delete,
}

impl Plan {
    /// Whether anything would change.
    pub fn pending(&self) -> bool {
        !self.changes.is_empty()
    }

    /// Every call of the plan, in order.
    pub fn calls(&self) -> impl Iterator<Item = &Call> {
        self.changes.iter().flat_map(|c| &c.calls)
    }
}

/// Plans `desired` against the account (`None`: an empty account, offline). The first of
/// two desired budgets with one name wins (the config's, listed first).
pub async fn plan(
    account: Option<&Account>,
    desired: &[Desired],
    options: &Options,
) -> Result<Plan> {
    let existing: BTreeMap<String, aws_sdk_budgets::types::Budget> = match account {
        Some(account) => (account.list().await?.into_iter())
            .map(|b| (b.budget_name().to_string(), b))
            .collect(),
        None => BTreeMap::new(),
    };
    let mut plan = Plan {
        account: account.map(|a| a.id.clone()),
        changes: Vec::new(),
        left_alone: Vec::new(),
        conflicts: Vec::new(),
    };
    let mut seen = BTreeSet::new();
    for d in desired {
        let name = &d.budget.name;
        if !seen.insert(name.clone()) {
            plan.left_alone.push(Skipped {
                budget: name.clone(),
                reason: "proposed by a finding and declared in [[budgets]]: the entry wins".into(),
            });
            continue;
        }
        let (Some(account), Some(remote)) = (account, existing.get(name)) else {
            plan.changes.push(creation(d));
            continue;
        };
        if d.origin == Origin::Finding && !account.managed(name).await? {
            plan.left_alone.push(Skipped {
                budget: name.clone(),
                reason: "a budget costwatch did not make has this name: the finding's \
                         proposal is not applied"
                    .into(),
            });
            continue;
        }
        match account.read(remote).await? {
            Ok(actual) => {
                let (fields, calls) = diff(&d.budget, &actual);
                if !calls.is_empty() {
                    plan.changes.push(Change {
                        action: Action::Update,
                        budget: name.clone(),
                        origin: Some(d.origin),
                        fields,
                        calls,
                    });
                }
            }
            Err(reason) => plan.conflicts.push(Skipped {
                budget: name.clone(),
                reason: format!("the account's budget of this name is {reason}"),
            }),
        }
    }
    if let Some(account) = account.filter(|_| options.prune) {
        let candidates = (existing.keys())
            .filter(|name| name.starts_with(PREFIX))
            .filter(|name| !seen.contains(*name) && !options.keep.contains(*name));
        for name in candidates {
            if account.managed(name).await? {
                plan.changes.push(Change {
                    action: Action::Delete,
                    budget: name.clone(),
                    origin: None,
                    fields: Vec::new(),
                    calls: vec![Call::DeleteBudget { name: name.clone() }],
                });
            } else {
                plan.left_alone.push(Skipped {
                    budget: name.clone(),
                    reason: "not made by costwatch (no costwatch:managed tag): never pruned".into(),
                });
            }
        }
    }
    Ok(plan)
}

/// The change creating a desired budget, every field told.
fn creation(d: &Desired) -> Change {
    let b = &d.budget;
    let mut fields = vec![
        FieldChange::add("amount", b.limit_text()),
        FieldChange::add("period", b.period.as_str()),
        FieldChange::add("cost", b.cost_text()),
        FieldChange::add("filters", b.filters_text()),
    ];
    for n in &b.notifications {
        fields.push(FieldChange::add(
            "notification",
            format!("{n} to {}", subscribers_text(&n.subscribers)),
        ));
    }
    Change {
        action: Action::Create,
        budget: b.name.clone(),
        origin: Some(d.origin),
        fields,
        calls: vec![Call::CreateBudget {
            budget: b.clone(),
            origin: d.origin,
        }],
    }
}
