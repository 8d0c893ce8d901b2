//! Finding lifecycle: one open finding per scope; a repeat updates it, a higher severity
//! escalates it, and a finding quiet for long enough is resolved.

use super::Silence;
use super::root_cause;
use crate::ledger::{AlertRecord, Ledger};
use crate::model::Finding;
use anyhow::Result;
use chrono::{Days, NaiveDate};

/// The day the lifecycle applies findings to.
pub struct Day<'a> {
    /// The ledger source the rules read (for root causes).
    pub source: &'a str,
    /// The run's date: the day alerts go out.
    pub run_date: NaiveDate,
    /// The billing day evaluated.
    pub day: NaiveDate,
    /// An open finding quiet for this many days is resolved.
    pub resolve_after_quiet_days: u32,
    /// Silences in force (config and snoozes); acknowledged findings are silenced too.
    pub silences: &'a [Silence],
}

/// What the lifecycle did with one day's findings.
#[derive(Debug, Default)]
pub struct Outcome {
    /// Notifications to send: new findings and escalations.
    pub alerts: Vec<AlertRecord>,
    /// Alerts held back by a silence or an acknowledgement (kept, reported, not sent).
    pub silenced: Vec<AlertRecord>,
    /// Findings that were already open and only updated.
    pub updated: usize,
    /// Findings resolved because they stayed quiet.
    pub resolved: usize,
}

/// Applies the findings of a day. Only rules in `rules_ran` may have their quiet findings
/// resolved (a failed rule's findings stay open).
pub fn apply(
    ledger: &Ledger,
    day: &Day,
    mut findings: Vec<Finding>,
    rules_ran: &[&str],
) -> Result<Outcome> {
    // Strongest first, so that when several rules see the same scope the strongest opens it.
    findings.sort_by(|a, b| {
        b.severity
            .cmp(&a.severity)
            .then(b.score.total_cmp(&a.score))
    });
    let mut out = Outcome::default();
    for f in &findings {
        let (id, reason) = match ledger.open_finding(&f.scope.key())? {
            None if already_reported(ledger, f)? => {
                // The level an earlier alert told, seen again by a rule with a longer memory.
                ledger.open_new_finding(f)?;
                out.updated += 1;
                continue;
            }
            None => (ledger.open_new_finding(f)?, "new"),
            Some(open) if open.last_day >= f.day && f.severity <= open.alerted_severity => {
                // Already seen for this day (a rerun, or a second rule on the same scope).
                continue;
            }
            Some(open) if f.severity > open.alerted_severity => {
                ledger.update_finding(open.id, f, Some(f.severity))?;
                (open.id, "escalated")
            }
            Some(open) => {
                ledger.update_finding(open.id, f, None)?;
                out.updated += 1;
                continue;
            }
        };
        let acked = ledger.acked_until(id)?.is_some_and(|until| f.day <= until);
        let silenced = acked || day.silences.iter().any(|s| s.holds(f));
        let reason = if silenced { "silenced" } else { reason };
        let alert =
            ledger.insert_alert(day.run_date, id, reason, &explained(ledger, day.source, f))?;
        if silenced {
            out.silenced.push(alert);
        } else {
            out.alerts.push(alert);
        }
    }
    let quiet = Days::new(day.resolve_after_quiet_days as u64);
    if let Some(cutoff) = day.day.checked_sub_days(quiet) {
        out.resolved = ledger.resolve_quiet_findings(cutoff, day.day, rules_ran)?;
    }
    Ok(out)
}

/// How long an alerted level is remembered once its finding resolved.
const REPORTED_LEVEL_DAYS: u64 = 60;
/// How far above a reported level a rise must go to be told again.
const BEYOND_REPORTED: f64 = 1.5;

/// Whether a level finding (`shift`, `creep`) only sees again a rise an alert of the same scope
/// told in the last [`REPORTED_LEVEL_DAYS`]: its baseline is from before that rise and its
/// level not [`BEYOND_REPORTED`] times past it. A spike or shift told, then resolved once its
/// rule's baseline caught up, is otherwise told again weeks later as a creep by a rule whose
/// baseline reaches further back.
fn already_reported(ledger: &Ledger, f: &Finding) -> Result<bool> {
    if !matches!(f.rule.as_str(), "shift" | "creep") || f.observed <= f.expected {
        return Ok(false);
    }
    let Some(since) = f.day.checked_sub_days(Days::new(REPORTED_LEVEL_DAYS)) else {
        return Ok(false);
    };
    Ok(match ledger.reported_level(&f.scope.key(), since)? {
        Some(level) => f.expected < level && f.observed < BEYOND_REPORTED * level,
        None => false,
    })
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
            let d = Day {
                source: "cur",
                run_date: day(run),
                day: day(data),
                resolve_after_quiet_days: 3,
                silences: &[],
            };
            apply(&ledger, &d, findings, &["spike"]).unwrap()
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
    fn a_reported_rise_seen_again_by_a_level_rule_is_not_told_again() {
        let dir = tempfile::tempdir().unwrap();
        let ledger = Ledger::open(&dir.path().join("l.db")).unwrap();
        let rules = ["spike", "creep"];
        // A spike to 100 is told, then resolves once quiet.
        let spike = finding("2026-03-01", Severity::Critical);
        let told = apply(
            &ledger,
            &on("2026-03-02", "2026-03-01", &[]),
            vec![spike],
            &rules,
        );
        assert_eq!(told.unwrap().alerts.len(), 1);
        let quiet = apply(
            &ledger,
            &on("2026-03-10", "2026-03-09", &[]),
            vec![],
            &rules,
        );
        assert_eq!(quiet.unwrap().resolved, 1);
        // Weeks later a creep, its baseline from before the spike, sees the same level.
        let creep = |data: &str, observed: f64| Finding {
            rule: "creep".into(),
            observed,
            expected: 40.0,
            severity: Severity::Warning,
            day: day(data),
            ..finding(data, Severity::Warning)
        };
        let same = apply(
            &ledger,
            &on("2026-04-02", "2026-04-01", &[]),
            vec![creep("2026-04-01", 130.0)],
            &rules,
        )
        .unwrap();
        assert_eq!((same.alerts.len(), same.updated), (0, 1));
        apply(
            &ledger,
            &on("2026-04-10", "2026-04-09", &[]),
            vec![],
            &rules,
        )
        .unwrap();
        // Half as high again as what was told is news.
        let higher = apply(
            &ledger,
            &on("2026-04-12", "2026-04-11", &[]),
            vec![creep("2026-04-11", 160.0)],
            &rules,
        )
        .unwrap();
        assert_eq!(higher.alerts.len(), 1);
        // So is the same level again once the told one is two months old.
        apply(
            &ledger,
            &on("2026-04-20", "2026-04-19", &[]),
            vec![],
            &rules,
        )
        .unwrap();
        let later = apply(
            &ledger,
            &on("2026-07-02", "2026-07-01", &[]),
            vec![creep("2026-07-01", 130.0)],
            &rules,
        )
        .unwrap();
        assert_eq!(later.alerts.len(), 1);
    }

    fn on(run: &str, data: &str, silences: &[Silence]) -> Day<'static> {
        Day {
            source: "cur",
            run_date: day(run),
            day: day(data),
            resolve_after_quiet_days: 1,
            silences: Vec::leak(silences.to_vec()),
        }
    }

    #[test]
    fn a_failed_rule_keeps_its_findings_open() {
        let dir = tempfile::tempdir().unwrap();
        let ledger = Ledger::open(&dir.path().join("l.db")).unwrap();
        let findings = vec![finding("2026-03-01", Severity::Info)];
        apply(
            &ledger,
            &on("2026-03-02", "2026-03-01", &[]),
            findings,
            &["spike"],
        )
        .unwrap();
        let out = apply(&ledger, &on("2026-03-10", "2026-03-09", &[]), vec![], &[]).unwrap();
        assert_eq!(out.resolved, 0);
    }

    #[test]
    fn silenced_and_acknowledged_findings_are_kept_not_sent() {
        let dir = tempfile::tempdir().unwrap();
        let ledger = Ledger::open(&dir.path().join("l.db")).unwrap();
        let migration = Silence {
            account: "1".into(),
            until: day("2026-03-05"),
            max_impact: Some(5000.0),
            ..Default::default()
        };
        let warning = vec![finding("2026-03-01", Severity::Warning)];
        let out = apply(
            &ledger,
            &on("2026-03-02", "2026-03-01", std::slice::from_ref(&migration)),
            warning,
            &["spike"],
        )
        .unwrap();
        assert_eq!((out.alerts.len(), out.silenced.len()), (0, 1));
        assert_eq!(out.silenced[0].reason, "silenced");
        // Worse than the silence allows: it breaks through.
        let mut worse = finding("2026-03-02", Severity::Critical);
        worse.monthly_impact = 9000.0;
        let out = apply(
            &ledger,
            &on("2026-03-03", "2026-03-02", &[migration]),
            vec![worse],
            &["spike"],
        )
        .unwrap();
        assert_eq!(out.alerts[0].reason, "escalated");
        // Acknowledged: its escalation is held back until the day given.
        let id = ledger.findings(true).unwrap()[0].id;
        assert!(
            ledger
                .ack_finding(id, Some(day("2026-03-20")), "planned")
                .unwrap()
        );
        ledger
            .update_finding(
                id,
                &finding("2026-03-02", Severity::Info),
                Some(Severity::Info),
            )
            .unwrap();
        let again = vec![finding("2026-03-04", Severity::Critical)];
        let out = apply(
            &ledger,
            &on("2026-03-05", "2026-03-04", &[]),
            again,
            &["spike"],
        )
        .unwrap();
        assert_eq!((out.alerts.len(), out.silenced.len()), (0, 1));
    }
}
