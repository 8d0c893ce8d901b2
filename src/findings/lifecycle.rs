//! Finding lifecycle: one open finding per scope; a repeat updates it, a higher severity
//! escalates it, and a finding quiet for long enough is resolved.

use super::root_cause;
use crate::ledger::{AlertRecord, Ledger};
use crate::model::Finding;
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

/// Applies the findings of a run dated `run_date` that evaluated `day` on the facts of
/// `source`. Only rules in `rules_ran` may have their quiet findings resolved (a failed
/// rule's findings stay open).
pub fn apply(
    ledger: &Ledger,
    source: &str,
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
                out.alerts.push(ledger.insert_alert(
                    run_date,
                    id,
                    "new",
                    &explained(ledger, source, f),
                )?);
            }
            Some(open) if open.last_day >= f.day && f.severity <= open.alerted_severity => {
                // Already seen for this day (a rerun, or a second rule on the same scope).
            }
            Some(open) if f.severity > open.alerted_severity => {
                ledger.update_finding(open.id, f, Some(f.severity))?;
                out.alerts.push(ledger.insert_alert(
                    run_date,
                    open.id,
                    "escalated",
                    &explained(ledger, source, f),
                )?);
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

/// `f` with its root cause, unless the rule gave one itself. The root cause is an extra: if
/// it cannot be worked out, the alert goes without it.
fn explained(ledger: &Ledger, source: &str, f: &Finding) -> Finding {
    let mut f = f.clone();
    if f.detail.is_none() {
        f.detail = root_cause::explain(ledger, source, &f).unwrap_or_else(|e| {
            tracing::warn!(rule = %f.rule, error = %e, "no root cause for this alert");
            None
        });
    }
    f
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Scope, Severity};

    fn finding(day: &str, severity: Severity) -> Finding {
        Finding {
            rule: "spike".into(),
            scope: Scope {
                account: "1".into(),
                service_code: "AmazonEC2".into(),
                service_name: "Amazon EC2".into(),
                usage_type: "BoxUsage".into(),
            },
            day: day.parse().unwrap(),
            severity,
            observed: 100.0,
            expected: 10.0,
            score: 9.0,
            monthly_impact: 2736.0,
            message: "spike".into(),
            detail: None,
            action: crate::model::Action::Notify,
        }
    }

    fn day(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn repeats_update_escalations_alert_quiet_findings_resolve() {
        let dir = tempfile::tempdir().unwrap();
        let ledger = Ledger::open(&dir.path().join("l.db")).unwrap();
        let apply_on = |run: &str, data: &str, findings: Vec<Finding>| {
            apply(&ledger, "cur", day(run), day(data), findings, &["spike"], 3).unwrap()
        };
        let first = apply_on(
            "2026-03-02",
            "2026-03-01",
            vec![finding("2026-03-01", Severity::Warning)],
        );
        assert_eq!(
            (first.alerts.len(), first.alerts[0].reason.as_str()),
            (1, "new")
        );

        let rerun = apply_on(
            "2026-03-02",
            "2026-03-01",
            vec![finding("2026-03-01", Severity::Warning)],
        );
        assert_eq!(
            (rerun.alerts.len(), rerun.updated),
            (0, 0),
            "a rerun of the same day changes nothing"
        );

        let repeat = apply_on(
            "2026-03-03",
            "2026-03-02",
            vec![finding("2026-03-02", Severity::Warning)],
        );
        assert_eq!((repeat.alerts.len(), repeat.updated), (0, 1));

        let worse = apply_on(
            "2026-03-04",
            "2026-03-03",
            vec![finding("2026-03-03", Severity::Critical)],
        );
        assert_eq!(worse.alerts[0].reason, "escalated");

        let quiet = apply_on("2026-03-07", "2026-03-06", vec![]);
        assert_eq!(quiet.resolved, 0, "three quiet days are not enough");
        let resolved = apply_on("2026-03-08", "2026-03-07", vec![]);
        assert_eq!(resolved.resolved, 1);

        let again = apply_on(
            "2026-03-09",
            "2026-03-08",
            vec![finding("2026-03-08", Severity::Warning)],
        );
        assert_eq!(
            again.alerts[0].reason, "new",
            "a recurrence after resolution is news"
        );
    }

    #[test]
    fn a_failed_rule_keeps_its_findings_open() {
        let dir = tempfile::tempdir().unwrap();
        let ledger = Ledger::open(&dir.path().join("l.db")).unwrap();
        apply(
            &ledger,
            "cur",
            day("2026-03-02"),
            day("2026-03-01"),
            vec![finding("2026-03-01", Severity::Info)],
            &["spike"],
            1,
        )
        .unwrap();
        let out = apply(
            &ledger,
            "cur",
            day("2026-03-10"),
            day("2026-03-09"),
            vec![],
            &[],
            1,
        )
        .unwrap();
        assert_eq!(out.resolved, 0);
    }
}
