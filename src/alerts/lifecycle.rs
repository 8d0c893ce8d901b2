//! Finding lifecycle: one open finding per scope; a repeat updates it, a higher severity
//! escalates it, and a finding quiet for long enough is resolved.

use crate::ledger::{AlertRecord, Ledger};
use crate::rules::Finding;
use anyhow::Result;
use chrono::{Days, NaiveDate};

/// What the lifecycle did with one day's findings.
#[derive(Debug, Default)]
pub struct Outcome {
    /// Notifications to send: new findings and escalations.
    pub alerts: Vec<AlertRecord>,
    /// Findings that were already open and only updated.
    pub updated: usize,
    /// Findings resolved because they stayed quiet.
    pub resolved: usize,
}

/// Applies the findings of a run dated `run_date` that evaluated `day`. Only rules in
/// `rules_ran` may have their quiet findings resolved (a failed rule's findings stay open).
pub fn apply(
    ledger: &Ledger,
    run_date: NaiveDate,
    day: NaiveDate,
    mut findings: Vec<Finding>,
    rules_ran: &[&str],
    resolve_after_quiet_days: u32,
) -> Result<Outcome> {
    // Strongest first, so that when several rules see the same scope the strongest opens it.
    findings.sort_by(|a, b| {
        b.severity
            .cmp(&a.severity)
            .then(b.score.total_cmp(&a.score))
    });
    let mut out = Outcome::default();
    for f in &findings {
        match ledger.open_finding(&f.scope.key())? {
            None => {
                let id = ledger.open_new_finding(f)?;
                out.alerts
                    .push(ledger.insert_alert(run_date, id, "new", f)?);
            }
            Some(open) if open.last_day >= f.day && f.severity <= open.alerted_severity => {
                // Already seen for this day (a rerun, or a second rule on the same scope).
            }
            Some(open) if f.severity > open.alerted_severity => {
                ledger.update_finding(open.id, f, Some(f.severity))?;
                out.alerts
                    .push(ledger.insert_alert(run_date, open.id, "escalated", f)?);
            }
            Some(open) => {
                ledger.update_finding(open.id, f, None)?;
                out.updated += 1;
            }
        }
    }
    if let Some(cutoff) = day.checked_sub_days(Days::new(resolve_after_quiet_days as u64)) {
        out.resolved = ledger.resolve_quiet_findings(cutoff, day, rules_ran)?;
    }
    Ok(out)
}
