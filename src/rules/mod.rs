//! Rules: what they see (a [`Snapshot`] of daily usage series) and what they report ([`Finding`]s).

mod budget_watch;
pub mod builtin;
mod config;
mod history;
mod offsets;
pub mod wasm;

pub use budget_watch::{EARLY, watch_budgets};
pub use config::{DetectionConfig, RuleConfig, plugin_dirs};
pub use history::{History, SeriesView, Snapshot};

use crate::model::Finding;

use anyhow::Result;
use serde::Serialize;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

/// A detection rule run over each day's snapshot (rules run in parallel, so they are `Sync`).
pub trait Rule: Send + Sync {
    /// Unique id, e.g. `spike`.
    fn id(&self) -> &str;
    /// One line on what the rule catches.
    fn description(&self) -> &str;
    /// The rule's version.
    fn version(&self) -> String {
        env!("CARGO_PKG_VERSION").to_string()
    }
    /// Where the rule comes from: `built-in`, or `plugin PATH`.
    fn source(&self) -> String {
        "built-in".to_string()
    }
    /// Days of data (up to and including the evaluated day) the rule needs before it can
    /// alert at all; a run with less says the rule is still learning.
    fn history_days(&self) -> usize {
        0
    }
    /// Evaluates the snapshot's day for every series.
    fn evaluate(&self, snapshot: &Snapshot) -> Result<Vec<Finding>>;
}

/// The rules that cannot alert yet with `days_known` days of data, in words:
/// `learning: 12 more days of history before spike and shift can alert`.
pub fn learning_note(rules: &[Box<dyn Rule>], days_known: usize) -> Option<String> {
    let mut waiting: std::collections::BTreeMap<usize, Vec<&str>> = Default::default();
    for rule in rules {
        let more = rule.history_days().saturating_sub(days_known);
        if more > 0 {
            waiting.entry(more).or_default().push(rule.id());
        }
    }
    let parts: Vec<String> = waiting
        .into_iter()
        .map(|(more, ids)| {
            let names = match ids.split_last() {
                Some((last, [])) => last.to_string(),
                Some((last, rest)) => format!("{} and {last}", rest.join(", ")),
                None => String::new(),
            };
            format!("{more} more day(s) of history before {names} can alert")
        })
        .collect();
    (!parts.is_empty()).then(|| {
        format!(
            "learning: {} ({days_known} day(s) so far)",
            parts.join("; ")
        )
    })
}

/// Builds the rules of `[[rules]]` entries: the enabled ones, or every default built-in
/// rule with its defaults when there are none. Plugins are loaded and their `config` tables
/// checked by the plugin's `validate-config`, before any data is read; errors name the rule
/// and line.
pub fn from_entries(entries: &[RuleConfig]) -> Result<Vec<Box<dyn Rule>>, String> {
    if entries.is_empty() {
        return Ok(builtin::DEFAULTS
            .iter()
            .map(|&kind| Box::new(builtin::BuiltinRule::default_for(kind)) as Box<dyn Rule>)
            .collect());
    }
    let mut rules: Vec<Box<dyn Rule>> = Vec::new();
    for entry in entries.iter().filter(|r| r.enabled) {
        let rule = from_entry(entry)?;
        if rules.iter().any(|r| r.id() == rule.id()) {
            return Err(format!(
                "rules (entry at line {}): a second rule with id {:?} ({}); alerts, logs and `rule list` \
                 name rules by id, so each rule may appear once",
                entry.line,
                rule.id(),
                rule.source()
            ));
        }
        rules.push(rule);
    }
    Ok(rules)
}

/// Builds the rule of one `[[rules]]` entry.
pub fn from_entry(entry: &RuleConfig) -> Result<Box<dyn Rule>, String> {
    match entry.builtin {
        Some(kind) => Ok(Box::new(builtin::BuiltinRule::from_config(kind, entry)?)),
        None => Ok(Box::new(wasm::PluginRule::from_entry(entry)?)),
    }
}

/// A rule that failed on a run; the other rules still ran.
#[derive(Debug, Clone, Serialize)]
pub struct RuleFailure {
    pub rule: String,
    pub error: String,
}

/// How long a rule took on a run, and what it found.
#[derive(Debug, Clone, Serialize)]
pub struct RuleTiming {
    pub rule: String,
    pub seconds: f64,
    pub findings: usize,
}

/// Findings of all rules on one snapshot, and the rules that failed (error or panic).
pub struct Evaluation {
    pub findings: Vec<Finding>,
    pub failures: Vec<RuleFailure>,
    /// Ids of the rules that ran to completion.
    pub succeeded: Vec<String>,
    /// Every rule's time, in the order they ran.
    pub timings: Vec<RuleTiming>,
}

/// Runs every rule on the snapshot; a rule that errors or panics is reported, not fatal.
pub fn evaluate_all(rules: &[Box<dyn Rule>], snapshot: &Snapshot) -> Evaluation {
    let mut out = Evaluation {
        findings: Vec::new(),
        failures: Vec::new(),
        succeeded: Vec::new(),
        timings: Vec::new(),
    };
    for (rule, (result, seconds)) in rules.iter().zip(run_in_parallel(rules, snapshot)) {
        out.timings.push(RuleTiming {
            rule: rule.id().into(),
            seconds,
            findings: result
                .as_ref()
                .map_or(0, |r| r.as_ref().map_or(0, Vec::len)),
        });
        match result {
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

/// What one rule's evaluation gave (a panic caught), and its seconds.
type RuleRun = (std::thread::Result<Result<Vec<Finding>>>, f64);

/// Every rule on the snapshot, on as many threads as there are cores (rules are independent
/// and only read the snapshot); the results in the rules' order.
fn run_in_parallel(rules: &[Box<dyn Rule>], snapshot: &Snapshot) -> Vec<RuleRun> {
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .clamp(1, rules.len().max(1));
    let next = AtomicUsize::new(0);
    let mut runs: Vec<Option<RuleRun>> = (0..rules.len()).map(|_| None).collect();
    std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                scope.spawn(|| {
                    let mut done = Vec::new();
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        let Some(rule) = rules.get(i) else { break };
                        let start = Instant::now();
                        let result = catch_unwind(AssertUnwindSafe(|| rule.evaluate(snapshot)));
                        done.push((i, (result, start.elapsed().as_secs_f64())));
                    }
                    done
                })
            })
            .collect();
        for worker in workers {
            for (i, run) in worker
                .join()
                .expect("a rule's panic is caught in its worker")
            {
                runs[i] = Some(run);
            }
        }
    });
    runs.into_iter()
        .map(|r| r.expect("every rule ran"))
        .collect()
}
