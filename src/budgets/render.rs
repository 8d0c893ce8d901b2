//! Plans and apply reports as people read them: a diff per budget, like an infrastructure
//! tool's plan, and one line per call made.

use super::apply::Report;
use super::calls::Call;
use super::plan::{Action, Plan};

/// The plan as text; `apply` is the command that would apply it.
pub fn plan_text(plan: &Plan, apply: &str) -> String {
    let mut out = match &plan.account {
        Some(id) => format!("Budgets plan for account {id}\n"),
        None => "Budgets plan against an empty account (--offline: no AWS call was made)\n".into(),
    };
    for change in &plan.changes {
        let origin = change
            .origin
            .map_or(String::new(), |o| format!(" (from {})", o.as_str()));
        out += &match change.action {
            Action::Create => format!("\n+ create {}{origin}\n", change.budget),
            Action::Update => format!("\n~ update {}{origin}\n", change.budget),
            Action::Delete => format!(
                "\n- delete {} (made by costwatch, no longer declared)\n",
                change.budget
            ),
        };
        for field in &change.fields {
            out += &format!("    {field}\n");
        }
    }
    if !plan.left_alone.is_empty() {
        out += "\nLeft alone:\n";
        for s in &plan.left_alone {
            out += &format!("  {}: {}\n", s.budget, s.reason);
        }
    }
    if !plan.conflicts.is_empty() {
        out += "\nCannot manage (change or delete these budgets in AWS, or rename the entry):\n";
        for s in &plan.conflicts {
            out += &format!("  {}: {}\n", s.budget, s.reason);
        }
    }
    let count = |action| plan.changes.iter().filter(|c| c.action == action).count();
    if plan.pending() {
        out += &format!(
            "\nPlan: {} to create, {} to update, {} to delete ({} call(s)). `{apply}` makes them.\n",
            count(Action::Create),
            count(Action::Update),
            count(Action::Delete),
            plan.calls().count()
        );
    } else {
        out += "\nNo changes: the account's budgets match.\n";
    }
    out
}

/// One line for a call as apply makes it.
pub fn call_line(call: &Call, result: Result<(), &str>) -> String {
    match result {
        Ok(()) => format!("  applied      {}", call.describe()),
        Err(e) => format!("  FAILED       {}\n               {e}", call.describe()),
    }
}

/// What an apply did, after its call lines: what was not made, and the count.
pub fn report_text(report: &Report, apply: &str) -> String {
    let mut out = String::new();
    for call in &report.not_applied {
        out += &format!("  not applied  {}\n", call.describe());
    }
    let total = report.applied.len() + report.not_applied.len() + usize::from(!report.complete());
    if report.complete() {
        out += &format!("Applied {total} call(s).\n");
    } else {
        out += &format!(
            "Applied {} of {total} call(s): 1 failed, {} not applied; nothing else was changed. \
             `{apply}` again plans from what the account now holds and finishes the job.\n",
            report.applied.len(),
            report.not_applied.len()
        );
    }
    out
}
